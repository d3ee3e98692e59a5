/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hhad's disk module: replicated devices, configured from the file or built by hha-disk verbs. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/internal.h"
#include "core/util.h"
#include "disk.h"

/*
 * Each resource is one struct hha_disk driven from hhad's loop: its event fd
 * is watched, its deadline is a timer, and its events become "disk.*" events
 * for subscribers (hha-disk events). Resources come from the configuration
 * file (those whose "on" names this node are attached, exported and
 * connected at start) or from verbs (hha-disk RES attach ..., connect ...),
 * so a script can build a pair without a configuration file.
 */

struct dres *disk_find(struct disk_mod *m, const char *name)
{
	for (struct dres *r = m->list; r; r = r->next)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

static void arm(struct dres *r)
{
	int64_t dl = hha_disk_next_deadline(r->d);

	if (dl < 0)
		hha_timer_disarm(r->timer);
	else
		hha_timer_arm(r->timer, dl);
}

static bool wait_done(struct dres *r, struct dwaiter *w, int *err, const char **why)
{
	struct hha_disk_status st = { .struct_size = sizeof(st) };

	hha_disk_status(r->d, &st);
	*err = 0;
	*why = NULL;
	if (st.cstate == HHA_CS_STANDALONE) {
		*err = -HHA_ESTATE;
		*why = st.last_refusal[0] ? st.last_refusal : "not connecting (StandAlone)";
		return true;
	}
	if (!w->sync)
		return st.cstate == HHA_CS_CONNECTED || st.cstate == HHA_CS_SYNCSOURCE ||
		       st.cstate == HHA_CS_SYNCTARGET;
	return st.cstate == HHA_CS_CONNECTED && st.dstate == HHA_DS_UPTODATE &&
	       st.peer_dstate == HHA_DS_UPTODATE;
}

static void waiter_free(struct dwaiter *w)
{
	struct dwaiter **pp;

	for (pp = &w->res->waiters; *pp; pp = &(*pp)->next) {
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	}
	hha_timer_free(w->timer);
	free(w);
}

void disk_poke(struct dres *r)
{
	struct dwaiter *w = r->waiters, *next;

	for (; w; w = next) {
		const char *why;
		int err;
		next = w->next;
		if (!wait_done(r, w, &err, &why))
			continue;
		if (err)
			hhad_req_fail(w->req, err, "%s: %s", r->name, why);
		else
			hhad_req_reply(w->req, disk_status_json(r));
		waiter_free(w);
	}
	arm(r);
}

static const char *topic_of(const char *what, char *buf, size_t len)
{
	snprintf(buf, len, "disk.%s", what);
	return buf;
}

static void event_cb(struct hha_disk *d, const struct hha_disk_event *ev, void *ud)
{
	struct dres *r = ud;
	json_object *o = json_object_new_object();
	char topic[64];

	json_object_object_add(o, "resource", json_object_new_string(r->name));
	json_object_object_add(o, "what", json_object_new_string(ev->what));
	json_object_object_add(o, "role", json_object_new_string(hha_disk_role_name(ev->role)));
	json_object_object_add(o, "connection", json_object_new_string(hha_conn_state_name(ev->cstate)));
	json_object_object_add(o, "disk", json_object_new_string(hha_disk_state_name(ev->dstate)));
	json_object_object_add(o, "peer_role", json_object_new_string(hha_disk_role_name(ev->peer_role)));
	json_object_object_add(o, "peer_disk", json_object_new_string(hha_disk_state_name(ev->peer_dstate)));
	json_object_object_add(o, "message", json_object_new_string(ev->message));
	if (strcmp(ev->what, "resized") == 0) {
		json_object_object_add(o, "old_size", json_object_new_int64((int64_t)ev->old_size));
		json_object_object_add(o, "new_size", json_object_new_int64((int64_t)ev->new_size));
	}
	if (strcmp(ev->what, "resize-done") == 0)
		json_object_object_add(o, "result", json_object_new_int(ev->result));
	hhad_emit(r->m->d, topic_of(ev->what, topic, sizeof(topic)), o, ev->message);
	if (strcmp(ev->what, "resize-done") == 0 && r->rz_req) {
		struct hhad_req *req = r->rz_req;
		const char *msg = ev->message;
		r->rz_req = NULL;
		if (ev->result < 0)
			hhad_req_fail(req, ev->result, "%s", msg);
		else
			hhad_req_reply(req, disk_status_json(r));
	}
}

static void io_cb(struct hha_io *io, int fd, uint32_t events, void *ud)
{
	struct dres *r = ud;

	hha_disk_dispatch(r->d);
	disk_poke(r);
}

static void timer_cb(struct hha_timer *t, void *ud)
{
	struct dres *r = ud;

	hha_disk_dispatch(r->d);
	disk_poke(r);
}

int disk_get(struct disk_mod *m, const char *name, struct dres **out)
{
	struct dres *r = disk_find(m, name);
	int e;

	if (r) {
		*out = r;
		return 0;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->m = m;
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->c.protocol = 'C';
	r->c.security = HHA_DISK_SEC_AUTH;
	if ((e = hha_disk_new(hhad_ctx(m->d), name, &r->d)) < 0 ||
	    (e = hha_io_add(hhad_loop(m->d), hha_disk_fd(r->d), EPOLLIN, io_cb, r, &r->io)) < 0 ||
	    (e = hha_timer_new(hhad_loop(m->d), timer_cb, r, &r->timer)) < 0) {
		hha_io_del(r->io);
		hha_disk_free(r->d);
		free(r);
		return e;
	}
	hha_disk_set_event_fn(r->d, event_cb, r);
	r->next = m->list;
	m->list = r;
	*out = r;
	return 0;
}

void disk_remove(struct dres *r)
{
	struct dres **pp;

	while (r->waiters) {
		hhad_req_fail(r->waiters->req, -HHA_ESTATE, "%s: resource taken down", r->name);
		waiter_free(r->waiters);
	}
	if (r->rz_req) {
		hhad_req_fail(r->rz_req, -HHA_ESTATE, "%s: resource taken down during the resize", r->name);
		r->rz_req = NULL;
	}
	for (pp = &r->m->list; *pp; pp = &(*pp)->next) {
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	}
	hha_io_del(r->io);
	hha_timer_free(r->timer);
	hha_disk_free(r->d);
	free(r);
}

/* STATE_DIR/disk-RES.md: where RES's internal metadata was last seen (lib/disk/mdhint.c). */
static const char *md_record(struct disk_mod *m, const char *res, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%s/disk-%s.md", m->state_dir, res);

	return n > 0 && (size_t)n < len ? buf : NULL;
}

void disk_forget_md(struct disk_mod *m, const char *res)
{
	char path[400];

	if (md_record(m, res, path, sizeof(path)) && unlink(path) < 0 && errno != ENOENT)
		hha_warn(hhad_ctx(m->d), "disk", "%s: cannot remove %s: %s", res, path, hha_strerror(errno));
}

int disk_do_attach(struct dres *r)
{
	struct hha_disk_attach_opts o = { .struct_size = sizeof(o), .backing = r->c.backing,
					  .meta = r->c.meta[0] ? r->c.meta : NULL, .size = r->c.size };
	char path[400];
	int e;

	o.state_file = md_record(r->m, r->name, path, sizeof(path));
	if (o.state_file && (e = hha_mkdir_p(r->m->state_dir, 0700)) < 0) {
		hha_warn(hhad_ctx(r->m->d), "disk", "%s: cannot create %s (%s): the metadata's place is not recorded",
			 r->name, r->m->state_dir, hha_strerror(e));
		o.state_file = NULL;
	}
	e = hha_disk_attach(r->d, &o);

	if (e == 0)
		r->c.attached = true;
	return e;
}

int disk_do_export(struct dres *r)
{
	struct hha_disk_export_opts o = {
		.struct_size = sizeof(o),
		.unix_path = r->c.export_unix[0] ? r->c.export_unix : NULL,
		.tcp_addr = r->c.export_tcp_addr[0] ? r->c.export_tcp_addr : NULL,
		.tcp_port = r->c.export_tcp_port,
		.name = r->c.export_name[0] ? r->c.export_name : NULL,
		.secondary = r->c.export_secondary,
	};
	int e;

	if (!o.unix_path && !o.tcp_addr)
		return 0;
	e = hha_disk_export(r->d, &o);
	if (e == 0)
		r->c.exported = true;
	return e;
}

int disk_do_connect(struct dres *r)
{
	struct hha_disk_net_opts o = {
		.struct_size = sizeof(o), .local_addr = r->c.local_addr, .local_port = r->c.local_port,
		.peer_addr = r->c.peer_addr, .peer_port = r->c.peer_port,
		.protocol = (enum hha_disk_protocol)r->c.protocol, .security = r->c.security,
		.security_set = true, .key_file = r->c.key_file[0] ? r->c.key_file : r->m->key_file,
		.timeout_ms = r->c.timeout_ms, .ping_int_ms = r->c.ping_int_ms,
		.connect_int_ms = r->c.connect_int_ms, .sndbuf = r->c.sndbuf,
		.discard_my_data = r->c.discard_my_data,
	};
	int e = hha_disk_connect(r->d, &o);

	if (e == 0)
		r->c.net = true;
	return e;
}

/* The replication address of @node for a resource: on.NODE.address, else the node's. */
static int node_addr(json_object *root, json_object *res, const char *node, int port, char *addr,
		     size_t len, int *out_port)
{
	const char *a = hha_json_str(hha_json_get(hha_json_get(res, "on"), node), "address");

	if (!a)
		a = hha_json_str(hha_json_get(hha_json_get(root, "nodes"), node), "address");
	if (!a)
		return -EINVAL;
	return hha_parse_hostport(a, port, addr, len, out_port);
}

/* Policies and hooks of a configured resource (on_io_error, after_split_brain, sync.csums, handlers). */
static void read_policy(struct disk_mod *m, struct dres *r, json_object *res)
{
	struct hha_disk_policy_opts *p = &r->c.policy;
	json_object *h = hha_json_get(res, "handlers");
	const char *s;

	memset(p, 0, sizeof(*p));
	p->struct_size = sizeof(*p);
	s = hha_json_str(res, "on_io_error");
	p->on_io_error = s && !strcmp(s, "pass-on") ? HHA_IO_ERROR_PASS_ON
			 : s && !strcmp(s, "call-handler") ? HHA_IO_ERROR_CALL_HANDLER : HHA_IO_ERROR_DETACH;
	s = hha_json_str(res, "after_split_brain");
	p->after_split_brain = s && !strcmp(s, "discard-zero-changes") ? HHA_AFTER_SB_DISCARD_ZERO_CHANGES
								     : HHA_AFTER_SB_DISCONNECT;
	p->csums = hha_json_bool(hha_json_get(res, "sync"), "csums", false);
	r->c.al_extents = (unsigned)hha_json_int(hha_json_get(res, "sync"), "al_extents", 0);
	snprintf(r->c.hook_sb, sizeof(r->c.hook_sb), "%s", hha_json_str(h, "split_brain") ?: "");
	snprintf(r->c.hook_brt, sizeof(r->c.hook_brt), "%s", hha_json_str(h, "before_resync_target") ?: "");
	snprintf(r->c.hook_ioe, sizeof(r->c.hook_ioe), "%s", hha_json_str(h, "local_io_error") ?: "");
	p->split_brain = r->c.hook_sb[0] ? r->c.hook_sb : NULL;
	p->before_resync_target = r->c.hook_brt[0] ? r->c.hook_brt : NULL;
	p->local_io_error = r->c.hook_ioe[0] ? r->c.hook_ioe : NULL;
	if (hha_disk_set_policy(r->d, p) < 0)
		hha_err(hhad_ctx(m->d), "disk", "%s: %s", r->name, hha_last_error());
}

/* Bring up a configured resource on this node: attach, export, connect. Failures are logged. */
static void bring_up(struct disk_mod *m, const struct hha_config *cfg, const char *name, json_object *res)
{
	const char *me = hhad_node_name(m->d), *peer = NULL, *s;
	json_object *mine = hha_json_get(hha_json_get(res, "on"), me), *exp = hha_json_get(res, "export");
	int port = (int)hha_json_int(res, "port", 7788);
	struct dres *r;
	int e;

	json_object_object_foreach(hha_json_get(res, "on"), n, v) {
		(void)v;
		if (strcmp(n, me) != 0)
			peer = n;
	}
	if (!mine || !peer)
		return;
	if ((e = disk_get(m, name, &r)) < 0) {
		hha_err(hhad_ctx(m->d), "disk", "%s: %s", name, hha_strerror(e));
		return;
	}
	r->from_config = true;
	snprintf(r->c.backing, sizeof(r->c.backing), "%s", hha_json_str(mine, "backing"));
	s = hha_json_str(mine, "meta");
	snprintf(r->c.meta, sizeof(r->c.meta), "%s", s && strcmp(s, "internal") ? s : "");
	r->c.size = (uint64_t)hha_json_int(res, "size", 0);
	s = hha_json_str(res, "protocol");
	r->c.protocol = s ? s[0] : 'C';
	s = hha_json_str(res, "security");
	r->c.security = !s || !strcmp(s, "auth") ? HHA_DISK_SEC_AUTH
			: !strcmp(s, "encrypt") ? HHA_DISK_SEC_ENCRYPT : HHA_DISK_SEC_NONE;
	snprintf(r->c.key_file, sizeof(r->c.key_file), "%s", hha_json_str(res, "key_file") ?: "");
	r->c.timeout_ms = (int)hha_json_int(res, "timeout_ms", 5000);
	r->c.ping_int_ms = (int)hha_json_int(res, "ping_int_ms", 1000);
	r->c.connect_int_ms = (int)hha_json_int(res, "connect_int_ms", 1000);
	r->c.sndbuf = (int)hha_json_int(res, "sndbuf", 0);
	r->c.rate = (uint64_t)hha_json_int(hha_json_get(res, "sync"), "rate", 0);
	hha_disk_set_sync_rate(r->d, r->c.rate);
	read_policy(m, r, res);
	if (node_addr(cfg->root, res, me, port, r->c.local_addr, sizeof(r->c.local_addr), &r->c.local_port) < 0 ||
	    node_addr(cfg->root, res, peer, port, r->c.peer_addr, sizeof(r->c.peer_addr), &r->c.peer_port) < 0) {
		hha_err(hhad_ctx(m->d), "disk", "%s: no replication address for %s or %s", name, me, peer);
		return;
	}
	s = hha_json_str(exp, "unix");
	if (s)
		snprintf(r->c.export_unix, sizeof(r->c.export_unix), "%s", s);
	else
		snprintf(r->c.export_unix, sizeof(r->c.export_unix), "%s/%s.nbd", m->run_dir, name);
	if ((s = hha_json_str(exp, "tcp")))
		hha_parse_hostport(s, 10809, r->c.export_tcp_addr, sizeof(r->c.export_tcp_addr),
				   &r->c.export_tcp_port);
	snprintf(r->c.export_name, sizeof(r->c.export_name), "%s", hha_json_str(exp, "name") ?: "");
	s = hha_json_str(exp, "secondary");
	r->c.export_secondary = s && !strcmp(s, "read-only") ? HHA_EXPORT_SECONDARY_READ_ONLY
							     : HHA_EXPORT_SECONDARY_REFUSE;
	if ((e = disk_do_attach(r)) < 0) {
		hha_err(hhad_ctx(m->d), "disk", "%s: attach failed: %s", name, hha_last_error());
		return;
	}
	if ((e = disk_do_export(r)) < 0)
		hha_err(hhad_ctx(m->d), "disk", "%s: export failed: %s", name, hha_last_error());
	if ((e = disk_do_connect(r)) < 0)
		hha_err(hhad_ctx(m->d), "disk", "%s: connect failed: %s", name, hha_last_error());
	disk_poke(r);
}

static void read_cluster(struct disk_mod *m, const struct hha_config *cfg)
{
	json_object *cl = hha_conf_section(cfg, "cluster");

	snprintf(m->run_dir, sizeof(m->run_dir), "%s", hha_json_str(cl, "run_dir") ?: "/run/hybridha");
	snprintf(m->key_file, sizeof(m->key_file), "%s", hha_json_str(cl, "key_file") ?: "");
	snprintf(m->state_dir, sizeof(m->state_dir), "%s", hha_json_str(cl, "state_dir") ?: "/var/lib/hybridha");
}

static int disk_init(struct hhad *d, const struct hha_config *cfg, void **state)
{
	struct disk_mod *m = calloc(1, sizeof(*m));

	if (!m)
		return -ENOMEM;
	m->d = d;
	read_cluster(m, cfg);
	json_object_object_foreach(hha_conf_section(cfg, "resources"), name, res)
		bring_up(m, cfg, name, res);
	*state = m;
	return 0;
}

/* New configured resources come up; removed ones go down; changed ones keep
 * running (their new settings apply at the next down/up), except the rate,
 * the policies and the hooks. */
static int disk_reload(void *state, const struct hha_config *cfg)
{
	struct disk_mod *m = state;
	json_object *res = hha_conf_section(cfg, "resources");

	read_cluster(m, cfg);
	for (struct dres *r = m->list, *next; r; r = next) {
		next = r->next;
		if (r->from_config && !hha_json_get(res, r->name)) {
			hha_notice(hhad_ctx(m->d), "disk", "%s: removed from the configuration: taking it down",
				   r->name);
			hha_disk_secondary(r->d);
			disk_remove(r);
		}
	}
	json_object_object_foreach(res, name, rc) {
		struct dres *r = disk_find(m, name);
		if (!r) {
			bring_up(m, cfg, name, rc);
		} else if (r->from_config) {
			r->c.rate = (uint64_t)hha_json_int(hha_json_get(rc, "sync"), "rate", 0);
			hha_disk_set_sync_rate(r->d, r->c.rate);
			read_policy(m, r, rc);
		}
	}
	return 0;
}

static void disk_status(void *state, json_object *out)
{
	struct disk_mod *m = state;
	json_object *arr = json_object_new_array();

	for (struct dres *r = m->list; r; r = r->next)
		json_object_array_add(arr, disk_status_json(r));
	json_object_object_add(out, "resources", arr);
}

static void disk_fini(void *state)
{
	struct disk_mod *m = state;

	/* Stopping hhad demotes cleanly: clients' requests finish, metadata
	 * records no crash. */
	while (m->list) {
		hha_disk_secondary(m->list->d);
		disk_remove(m->list);
	}
	free(m);
}

const struct hhad_module hhad_module_disk = {
	.name = "disk",
	.init = disk_init,
	.reload = disk_reload,
	.status = disk_status,
	.fini = disk_fini,
	.verbs = disk_verbs,
};
