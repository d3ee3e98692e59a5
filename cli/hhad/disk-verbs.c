/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The disk module's control verbs (disk.*), as hha-disk calls them. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/schema.h"
#include "core/util.h"
#include "disk.h"

/* Argument helpers: a wrong type is an error, not a default. */
static int arg_str(json_object *args, const char *key, bool required, const char **out)
{
	json_object *v = hha_json_get(args, key);

	*out = NULL;
	if (!v)
		return required ? hha_error(-EINVAL, NULL, "missing \"%s\"", key) : 0;
	if (!json_object_is_type(v, json_type_string))
		return hha_error(-EINVAL, NULL, "\"%s\" must be a string", key);
	*out = json_object_get_string(v);
	return 0;
}

static int arg_int(json_object *args, const char *key, int64_t min, int64_t max, int64_t *out)
{
	json_object *v = hha_json_get(args, key);

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return hha_error(-EINVAL, NULL, "\"%s\" must be an integer", key);
	*out = json_object_get_int64(v);
	if (*out < min || *out > max)
		return hha_error(-EINVAL, NULL, "\"%s\" %lld is out of range %lld..%lld", key,
				 (long long)*out, (long long)min, (long long)max);
	return 0;
}

static int arg_bool(json_object *args, const char *key, bool *out)
{
	json_object *v = hha_json_get(args, key);

	if (!v)
		return 0;
	if (!json_object_is_type(v, json_type_boolean))
		return hha_error(-EINVAL, NULL, "\"%s\" must be true or false", key);
	*out = json_object_get_boolean(v);
	return 0;
}

static int copy(char *dst, size_t len, const char *src, const char *what)
{
	if (strlen(src) >= len)
		return hha_error(-EINVAL, NULL, "%s too long", what);
	memcpy(dst, src, strlen(src) + 1);
	return 0;
}

/* The resource named in args, which must exist. */
static int existing(struct disk_mod *m, json_object *args, struct dres **out)
{
	const char *name;
	int e = arg_str(args, "resource", true, &name);

	if (e < 0)
		return e;
	*out = disk_find(m, name);
	if (!*out)
		return hha_error(-ENOENT, NULL, "no resource `%s' (attach it first)", name);
	return 0;
}

static int reply_status(struct hhad_req *req, struct dres *r)
{
	disk_poke(r);
	return hhad_req_reply(req, disk_status_json(r));
}

/* A library failure: its code and message, without the function prefix. */
static int lib_fail(struct hhad_req *req, struct dres *r, int e)
{
	const char *m = hha_last_error(), *p = strstr(m, ": ");

	if (p && strncmp(m, "hha_", 4) == 0)
		m = p + 2;
	if (r)
		disk_poke(r);
	return hhad_req_fail(req, e, "%s", m);
}

static int verb_create_md(void *state, struct hhad_req *req, json_object *args)
{
	struct hha_disk_md_opts o = { .struct_size = sizeof(o) };
	struct hha_disk_md_info info;
	struct disk_mod *m = state;
	struct dres *r;
	int64_t al = 0;
	json_object *res;
	int e;

	if ((e = arg_str(args, "resource", true, &o.name)) < 0 ||
	    (e = arg_str(args, "backing", false, &o.backing)) < 0 ||
	    (e = arg_str(args, "meta", false, &o.meta)) < 0 ||
	    (e = arg_int(args, "al_extents", 7, 65534, &al)) < 0 || (e = arg_bool(args, "force", &o.force)) < 0)
		return e;
	r = disk_find(m, o.name);
	if (!o.backing && r && r->c.backing[0]) {
		o.backing = r->c.backing;
		if (!o.meta && r->c.meta[0])
			o.meta = r->c.meta;
	}
	if (!o.backing)
		return hha_error(-EINVAL, NULL, "missing \"backing\"");
	if (r && r->c.attached && strcmp(r->c.backing, o.backing) == 0)
		return hhad_req_fail(req, -HHA_ESTATE, "%s is attached to %s: detach it first", o.name, o.backing);
	/* A configured resource's sync.al_extents, unless given. */
	if (!al && r && r->c.al_extents)
		al = r->c.al_extents;
	o.al_extents = (unsigned)al;
	if ((e = hha_disk_create_md(hhad_ctx(m->d), &o, &info)) < 0)
		return lib_fail(req, NULL, e);
	disk_forget_md(m, o.name); /* new metadata, a new id: the old record is void */
	res = json_object_new_object();
	json_object_object_add(res, "resource", json_object_new_string(o.name));
	json_object_object_add(res, "backing", json_object_new_string(o.backing));
	json_object_object_add(res, "internal", json_object_new_boolean(info.internal));
	json_object_object_add(res, "backing_size", json_object_new_int64((int64_t)info.backing_size));
	json_object_object_add(res, "usable_size", json_object_new_int64((int64_t)info.usable_size));
	json_object_object_add(res, "md_size", json_object_new_int64((int64_t)info.md_size));
	json_object_object_add(res, "shrink", json_object_new_int64(
		(int64_t)(info.internal ? info.backing_size - info.usable_size : 0)));
	return hhad_req_reply(req, res);
}

static int verb_attach(void *state, struct hhad_req *req, json_object *args)
{
	struct disk_mod *m = state;
	const char *name, *backing, *meta, *eu, *et, *en, *es;
	int64_t size = 0;
	bool no_export = false;
	struct dres *r;
	struct dres_conf save;
	int e;

	if ((e = arg_str(args, "resource", true, &name)) < 0 || (e = arg_str(args, "backing", true, &backing)) < 0 ||
	    (e = arg_str(args, "meta", false, &meta)) < 0 || (e = arg_int(args, "size", 4096, INT64_MAX, &size)) < 0 ||
	    (e = arg_str(args, "export_unix", false, &eu)) < 0 || (e = arg_str(args, "export_tcp", false, &et)) < 0 ||
	    (e = arg_str(args, "export_name", false, &en)) < 0 ||
	    (e = arg_str(args, "export_secondary", false, &es)) < 0 || (e = arg_bool(args, "no_export", &no_export)) < 0)
		return e;
	if (es && strcmp(es, "refuse") && strcmp(es, "read-only"))
		return hha_error(-EINVAL, NULL, "\"export_secondary\" must be \"refuse\" or \"read-only\"");
	if ((e = disk_get(m, name, &r)) < 0)
		return hha_error(e, NULL, "%s: %s", name, hha_strerror(e));
	save = r->c;
	if ((e = copy(r->c.backing, sizeof(r->c.backing), backing, "backing")) < 0 ||
	    (e = copy(r->c.meta, sizeof(r->c.meta), meta && strcmp(meta, "internal") ? meta : "", "meta")) < 0)
		goto bad;
	r->c.size = (uint64_t)size;
	r->c.export_unix[0] = r->c.export_tcp_addr[0] = 0;
	if (!no_export) {
		if (eu)
			e = copy(r->c.export_unix, sizeof(r->c.export_unix), eu, "export_unix");
		else if (!et)
			snprintf(r->c.export_unix, sizeof(r->c.export_unix), "%s/%s.nbd", m->run_dir, name);
		if (e == 0 && et && hha_parse_hostport(et, 10809, r->c.export_tcp_addr,
						       sizeof(r->c.export_tcp_addr), &r->c.export_tcp_port) < 0)
			e = hha_error(-EINVAL, NULL, "invalid export_tcp `%s'", et);
		if (e == 0 && en)
			e = copy(r->c.export_name, sizeof(r->c.export_name), en, "export_name");
		if (e < 0)
			goto bad;
	}
	r->c.export_secondary = es && !strcmp(es, "read-only") ? HHA_EXPORT_SECONDARY_READ_ONLY
							       : HHA_EXPORT_SECONDARY_REFUSE;
	if ((e = disk_do_attach(r)) < 0) {
		r->c = save;
		return lib_fail(req, r, e);
	}
	if ((e = disk_do_export(r)) < 0) {
		int e2 = lib_fail(req, r, e);
		hha_disk_detach(r->d);
		r->c.attached = false;
		return e2;
	}
	return reply_status(req, r);
bad:
	r->c = save;
	return e;
}

static int verb_connect(void *state, struct hhad_req *req, json_object *args)
{
	struct disk_mod *m = state;
	const char *local, *peer, *proto, *sec, *key;
	int64_t timeout = 5000, ping = 1000, cint = 1000, sndbuf = 0;
	bool discard = false;
	struct dres *r;
	struct dres_conf save;
	int e;

	if ((e = existing(m, args, &r)) < 0 || (e = arg_str(args, "local", false, &local)) < 0 ||
	    (e = arg_str(args, "peer", false, &peer)) < 0 || (e = arg_str(args, "protocol", false, &proto)) < 0 ||
	    (e = arg_str(args, "security", false, &sec)) < 0 || (e = arg_str(args, "key_file", false, &key)) < 0 ||
	    (e = arg_int(args, "timeout_ms", 100, 600000, &timeout)) < 0 ||
	    (e = arg_int(args, "ping_int_ms", 10, 600000, &ping)) < 0 ||
	    (e = arg_int(args, "connect_int_ms", 10, 600000, &cint)) < 0 ||
	    (e = arg_int(args, "sndbuf", 0, 1 << 30, &sndbuf)) < 0 ||
	    (e = arg_bool(args, "discard_my_data", &discard)) < 0)
		return e;
	if (proto && (strlen(proto) != 1 || !strchr("ABC", proto[0])))
		return hha_error(-EINVAL, NULL, "invalid protocol `%s' (A, B or C)", proto);
	if (sec && strcmp(sec, "auth") && strcmp(sec, "encrypt") && strcmp(sec, "none"))
		return hha_error(-EINVAL, NULL, "invalid security `%s' (auth, encrypt or none)", sec);
	save = r->c;
	if (!local != !peer)
		return hha_error(-EINVAL, NULL, "give both LOCAL and REMOTE, or neither (to reconnect as configured)");
	if (!local) {
		/* Like `drbdadm connect`: the configured (or last used) addresses and settings. */
		if (!r->c.peer_addr[0])
			return hha_error(-EINVAL, NULL,
					 "%s has no configured or earlier connection: give LOCAL and REMOTE", r->name);
		if (proto || sec || key || hha_json_get(args, "timeout_ms") || hha_json_get(args, "ping_int_ms") ||
		    hha_json_get(args, "connect_int_ms") || hha_json_get(args, "sndbuf"))
			return hha_error(-EINVAL, NULL, "connection settings need LOCAL and REMOTE too "
					 "(without them, the configured ones are used)");
		r->c.discard_my_data = discard;
		e = disk_do_connect(r);
		r->c.discard_my_data = false;
		return e < 0 ? lib_fail(req, r, e) : reply_status(req, r);
	}
	if (hha_parse_hostport(local, 7788, r->c.local_addr, sizeof(r->c.local_addr), &r->c.local_port) < 0) {
		r->c = save;
		return hha_error(-EINVAL, NULL, "invalid local address `%s'", local);
	}
	if (hha_parse_hostport(peer, 7788, r->c.peer_addr, sizeof(r->c.peer_addr), &r->c.peer_port) < 0) {
		r->c = save;
		return hha_error(-EINVAL, NULL, "invalid peer address `%s'", peer);
	}
	r->c.protocol = proto ? proto[0] : 'C';
	r->c.security = !sec || !strcmp(sec, "auth") ? HHA_DISK_SEC_AUTH
			: !strcmp(sec, "encrypt") ? HHA_DISK_SEC_ENCRYPT : HHA_DISK_SEC_NONE;
	if (key && (e = copy(r->c.key_file, sizeof(r->c.key_file), key, "key_file")) < 0) {
		r->c = save;
		return e;
	}
	if (!r->c.key_file[0] && !m->key_file[0]) {
		r->c = save;
		return hha_error(-EINVAL, NULL, "no key file (give key_file, or set cluster.key_file)");
	}
	r->c.timeout_ms = (int)timeout;
	r->c.ping_int_ms = (int)ping;
	r->c.connect_int_ms = (int)cint;
	r->c.sndbuf = (int)sndbuf;
	r->c.discard_my_data = discard;
	e = disk_do_connect(r);
	r->c.discard_my_data = false; /* once: a reconnect by hhad must not discard again */
	if (e < 0) {
		r->c = save;
		return lib_fail(req, r, e);
	}
	return reply_status(req, r);
}

static int verb_primary(void *state, struct hhad_req *req, json_object *args)
{
	struct dres *r;
	bool force = false;
	int e;

	if ((e = existing(state, args, &r)) < 0 || (e = arg_bool(args, "force", &force)) < 0)
		return e;
	if ((e = hha_disk_primary(r->d, force)) < 0)
		return lib_fail(req, r, e);
	return reply_status(req, r);
}

/* Verbs that take only the resource and map onto one library call. */
#define SIMPLE_VERB(fn, call)                                                       \
	static int fn(void *state, struct hhad_req *req, json_object *args)         \
	{                                                                           \
		struct dres *r;                                                     \
		int e;                                                              \
		if ((e = existing(state, args, &r)) < 0)                            \
			return e;                                                   \
		if ((e = call) < 0)                                                 \
			return lib_fail(req, r, e);                                 \
		return reply_status(req, r);                                        \
	}

SIMPLE_VERB(verb_secondary, hha_disk_secondary(r->d))
SIMPLE_VERB(verb_skip_sync, hha_disk_skip_sync(r->d))
SIMPLE_VERB(verb_outdate, hha_disk_outdate(r->d))
SIMPLE_VERB(verb_invalidate, hha_disk_invalidate(r->d))
SIMPLE_VERB(verb_invalidate_remote, hha_disk_invalidate_remote(r->d))
SIMPLE_VERB(verb_pause_sync, hha_disk_pause_sync(r->d))
SIMPLE_VERB(verb_resume_sync, hha_disk_resume_sync(r->d))
SIMPLE_VERB(verb_resync_marked, hha_disk_resync_marked(r->d))

static int verb_verify(void *state, struct hhad_req *req, json_object *args)
{
	int64_t start = 0;
	struct dres *r;
	int e;

	if ((e = existing(state, args, &r)) < 0 || (e = arg_int(args, "start", 0, INT64_MAX, &start)) < 0)
		return e;
	if ((e = hha_disk_verify(r->d, (uint64_t)start)) < 0)
		return lib_fail(req, r, e);
	return reply_status(req, r);
}

/* The client of a deferred disk.resize went away: the resize goes on. */
static void resize_cancel(struct hhad_req *req, void *ud)
{
	struct dres *r = ud;

	(void)req;
	r->rz_req = NULL;
}

static int verb_resize(void *state, struct hhad_req *req, json_object *args)
{
	struct hha_disk_resize_opts o = { .struct_size = sizeof(o) };
	int64_t size = 0;
	struct dres *r;
	int e;

	if ((e = existing(state, args, &r)) < 0 || (e = arg_int(args, "size", 0, INT64_MAX, &size)) < 0 ||
	    (e = arg_bool(args, "assume_peer_has_space", &o.assume_peer_has_space)) < 0)
		return e;
	o.size = (uint64_t)size;
	if ((e = hha_disk_resize_start(r->d, &o)) < 0)
		return lib_fail(req, r, e);
	if (e == 0)
		return reply_status(req, r);
	/* The peer's part runs on the resource's threads while the loop goes
	 * on (heartbeats, other verbs): the answer waits for resize-done. */
	r->rz_req = req;
	hhad_req_defer(req, resize_cancel, r);
	return 0;
}

static int verb_disconnect(void *state, struct hhad_req *req, json_object *args)
{
	struct dres *r;
	int e;

	if ((e = existing(state, args, &r)) < 0)
		return e;
	if ((e = hha_disk_disconnect(r->d)) < 0)
		return lib_fail(req, r, e);
	r->c.net = false;
	return reply_status(req, r);
}

static int verb_detach(void *state, struct hhad_req *req, json_object *args)
{
	struct dres *r;
	int e;

	if ((e = existing(state, args, &r)) < 0)
		return e;
	if ((e = hha_disk_detach(r->d)) < 0)
		return lib_fail(req, r, e);
	r->c.attached = r->c.exported = false;
	return reply_status(req, r);
}

static int verb_down(void *state, struct hhad_req *req, json_object *args)
{
	struct dres *r;
	struct hha_disk_status st = { .struct_size = sizeof(st) };
	int e;

	if ((e = existing(state, args, &r)) < 0)
		return e;
	hha_disk_status(r->d, &st);
	if (st.role == HHA_ROLE_PRIMARY)
		return hhad_req_fail(req, -HHA_ESTATE, "%s is primary: run secondary first", r->name);
	if (st.cstate != HHA_CS_STANDALONE)
		hha_disk_disconnect(r->d);
	hha_disk_unexport(r->d);
	if (st.dstate != HHA_DS_DISKLESS && (e = hha_disk_detach(r->d)) < 0)
		return lib_fail(req, r, e);
	disk_remove(r);
	return hhad_req_reply(req, NULL);
}

static int verb_syncer(void *state, struct hhad_req *req, json_object *args)
{
	struct dres *r;
	int64_t rate = -1;
	int e;

	if ((e = existing(state, args, &r)) < 0 || (e = arg_int(args, "rate", 0, INT64_MAX, &rate)) < 0)
		return e;
	if (rate < 0)
		return hha_error(-EINVAL, NULL, "missing \"rate\" (bytes per second, 0 = unlimited)");
	if (rate > 0 && rate < 4096)
		return hha_error(-EINVAL, NULL, "rate %lld is below 4096 bytes/s", (long long)rate);
	r->c.rate = (uint64_t)rate;
	hha_disk_set_sync_rate(r->d, r->c.rate);
	return reply_status(req, r);
}

static void waiter_cancel(struct hhad_req *req, void *ud)
{
	struct dwaiter *w = ud, **pp;

	for (pp = &w->res->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	hha_timer_free(w->timer);
	free(w);
}

static void waiter_timeout(struct hha_timer *t, void *ud)
{
	struct dwaiter *w = ud;
	struct hha_disk_status st = { .struct_size = sizeof(st) };
	struct hhad_req *req = w->req;
	struct dres *r = w->res;

	hha_disk_status(r->d, &st);
	waiter_cancel(req, w);
	hhad_req_fail(req, -ETIMEDOUT, "%s: still %s, %s/%s after the timeout", r->name,
		      hha_conn_state_name(st.cstate), hha_disk_state_name(st.dstate),
		      st.peer_known ? hha_disk_state_name(st.peer_dstate) : "unknown");
}

static int wait_verb(struct disk_mod *m, struct hhad_req *req, json_object *args, bool sync)
{
	struct dwaiter *w;
	struct dres *r;
	int64_t timeout = 0;
	int e;

	if ((e = existing(m, args, &r)) < 0 || (e = arg_int(args, "timeout_ms", 0, INT32_MAX, &timeout)) < 0)
		return e;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->res = r;
	w->req = req;
	w->sync = sync;
	if (timeout > 0) {
		if ((e = hha_timer_new(hhad_loop(m->d), waiter_timeout, w, &w->timer)) < 0) {
			free(w);
			return e;
		}
		hha_timer_arm_in(w->timer, timeout);
	}
	w->next = r->waiters;
	r->waiters = w;
	hhad_req_defer(req, waiter_cancel, w);
	disk_poke(r); /* answers at once if already there */
	return 0;
}

static int verb_wait_connect(void *state, struct hhad_req *req, json_object *args)
{
	return wait_verb(state, req, args, false);
}

static int verb_wait_sync(void *state, struct hhad_req *req, json_object *args)
{
	return wait_verb(state, req, args, true);
}

/* One resource (args.resource) or all. */
static int each_resource(struct disk_mod *m, struct hhad_req *req, json_object *args,
			 json_object *(*fn)(struct dres *r))
{
	const char *name;
	json_object *arr;
	int e;

	if ((e = arg_str(args, "resource", false, &name)) < 0)
		return e;
	if (name) {
		struct dres *r = disk_find(m, name);
		if (!r)
			return hha_error(-ENOENT, NULL, "no resource `%s'", name);
		return hhad_req_reply(req, fn(r));
	}
	arr = json_object_new_array();
	for (struct dres *r = m->list; r; r = r->next)
		json_object_array_add(arr, fn(r));
	return hhad_req_reply(req, arr);
}

static int verb_status(void *state, struct hhad_req *req, json_object *args)
{
	return each_resource(state, req, args, disk_status_json);
}

static int verb_show(void *state, struct hhad_req *req, json_object *args)
{
	return each_resource(state, req, args, disk_show_json);
}

static int verb_dump_md(void *state, struct hhad_req *req, json_object *args)
{
	struct disk_mod *m = state;
	const char *name, *backing, *meta;
	char *text = NULL;
	json_object *o;
	int e;

	if ((e = arg_str(args, "resource", false, &name)) < 0 || (e = arg_str(args, "backing", false, &backing)) < 0 ||
	    (e = arg_str(args, "meta", false, &meta)) < 0)
		return e;
	if (!backing && name) {
		struct dres *r = disk_find(m, name);
		if (!r || !r->c.backing[0])
			return hha_error(-ENOENT, NULL, "no backing store known for `%s' (give backing)", name);
		backing = r->c.backing;
		meta = r->c.meta[0] ? r->c.meta : NULL;
	}
	if (!backing)
		return hha_error(-EINVAL, NULL, "missing \"backing\" or \"resource\"");
	if ((e = hha_disk_dump_md(hhad_ctx(m->d), backing, meta, &text)) < 0)
		return lib_fail(req, NULL, e);
	o = json_tokener_parse(text);
	free(text);
	return o ? hhad_req_reply(req, o) : -ENOMEM;
}

const struct hhad_verb disk_verbs[] = {
	{ "disk.create-md", HHAD_PRIV_ADMIN, verb_create_md, "write fresh metadata: {resource, backing, meta, force}" },
	{ "disk.attach", HHAD_PRIV_ADMIN, verb_attach, "attach a backing store (creates the resource) and export it" },
	{ "disk.connect", HHAD_PRIV_ADMIN, verb_connect, "replicate: {resource, local, peer, protocol, ..., discard_my_data}" },
	{ "disk.primary", HHAD_PRIV_ADMIN, verb_primary, "become primary: {resource, force}" },
	{ "disk.secondary", HHAD_PRIV_ADMIN, verb_secondary, "become secondary: {resource}" },
	{ "disk.skip-sync", HHAD_PRIV_ADMIN, verb_skip_sync, "declare two blank disks identical (dangerous)" },
	{ "disk.syncer", HHAD_PRIV_ADMIN, verb_syncer, "set the resync rate: {resource, rate} (bytes/s, 0 unlimited)" },
	{ "disk.disconnect", HHAD_PRIV_ADMIN, verb_disconnect, "stop replicating (StandAlone)" },
	{ "disk.outdate", HHAD_PRIV_ADMIN, verb_outdate, "mark this disk Outdated (promotion then needs force)" },
	{ "disk.invalidate", HHAD_PRIV_ADMIN, verb_invalidate, "this side's data is bad: full sync from the peer" },
	{ "disk.invalidate-remote", HHAD_PRIV_ADMIN, verb_invalidate_remote, "the peer's data is bad: full sync to it" },
	{ "disk.pause-sync", HHAD_PRIV_ADMIN, verb_pause_sync, "hold the resync" },
	{ "disk.resume-sync", HHAD_PRIV_ADMIN, verb_resume_sync, "let the resync go on" },
	{ "disk.verify", HHAD_PRIV_ADMIN, verb_verify, "compare both disks online: {resource, start}" },
	{ "disk.resync-marked", HHAD_PRIV_ADMIN, verb_resync_marked, "resync what verify marked, now" },
	{ "disk.resize", HHAD_PRIV_ADMIN, verb_resize, "grow online: {resource, size, assume_peer_has_space}" },
	{ "disk.detach", HHAD_PRIV_ADMIN, verb_detach, "close the backing store (Diskless)" },
	{ "disk.down", HHAD_PRIV_ADMIN, verb_down, "disconnect, detach and forget the resource" },
	{ "disk.wait-connect", HHAD_PRIV_READ, verb_wait_connect, "answer once connected: {resource, timeout_ms}" },
	{ "disk.wait-sync", HHAD_PRIV_READ, verb_wait_sync, "answer once in sync: {resource, timeout_ms}" },
	{ "disk.status", HHAD_PRIV_READ, verb_status, "states and counters: {resource} or all" },
	{ "disk.show", HHAD_PRIV_READ, verb_show, "configuration: {resource} or all" },
	{ "disk.dump-md", HHAD_PRIV_ADMIN, verb_dump_md, "the metadata: {resource} or {backing, meta}" },
	{ NULL, 0, NULL, NULL },
};
