/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hhad's run module: load sampling, launch tickets for local users, placement, and the verbs. */
#include "config.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/internal.h"
#include "core/util.h"
#include "run.h"
#include "run/proto.h"
#include "run/session.h"

/* A copy placed by "auto" counts on its node until its client says it ended
 * (run.done), or at most this long: by then its CPU use shows in the load. */
#define RECENT_MS 2000

struct run_waiter {
	struct hhad_run *m;
	struct hhad_req *req;
	json_object *args; /* NULL: run.load */
	struct run_waiter *next;
};

static void sample_cb(struct hha_timer *t, void *ud)
{
	struct hhad_run *m = ud;

	hha_load_sample(m->sampler, &m->self_load);
	run_peers_heartbeat(m);
	hha_timer_arm_in(t, m->keepalive_ms);
}

static void read_timers(struct hhad_run *m, const struct hha_config *cfg)
{
	json_object *hb = hha_json_get(hha_conf_section(cfg, "cluster"), "heartbeat");

	m->keepalive_ms = hha_json_int(hb, "keepalive_ms", 200);
	m->warn_ms = hha_json_int(hb, "warntime_ms", 600);
	m->dead_ms = hha_json_int(hb, "deadtime_ms", 1000);
}

static int configure(struct hhad_run *m, const struct hha_config *cfg)
{
	json_object *run = hha_conf_section(cfg, "run");
	json_object *node = hha_conf_node(cfg, hhad_node_name(m->d));
	int r;

	read_timers(m, cfg);
	m->port = (int)hha_json_int(run, "port", 7790);
	m->allow_root = hha_json_bool(run, "allow_root", false);
	m->max_skew_ms = (uint64_t)hha_json_int(run, "max_skew_ms", 30000);
	m->self_id = node ? (unsigned)hha_json_int(node, "id", 0) : 0;
	snprintf(m->self_addr, sizeof(m->self_addr), "%s",
		 node ? hha_json_str(node, "address") : "127.0.0.1");
	hha_run_keyring_wipe(&m->keys);
	r = hha_run_keyring_load(hha_conf_section(cfg, "cluster"), &m->keys);
	m->have_keys = r == 0;
	if (r < 0)
		hha_warn(m->ctx, "run", "remote launch is off: %s", hha_last_error());
	return run_peers_configure(m, cfg);
}

static int run_init(struct hhad *d, const struct hha_config *cfg, void **state)
{
	json_object *load = hha_conf_section(cfg, "load");
	struct hha_load_sampler_opts so = { .size = sizeof(so) };
	struct hhad_run *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return hha_error(-ENOMEM, NULL, "out of memory");
	m->d = d;
	m->ctx = hhad_ctx(d);
	m->loop = hhad_loop(d);
	so.cgroup = hha_json_str(load, "cgroup");
	if (json_object_object_get(load, "speed"))
		so.speed = json_object_get_double(json_object_object_get(load, "speed"));
	r = configure(m, cfg);
	if (r == 0)
		r = hha_load_sampler_new(m->ctx, &so, &m->sampler);
	if (r == 0)
		r = hha_timer_new(m->loop, sample_cb, m, &m->sample_timer);
	if (r == 0 && m->have_keys)
		r = run_service_start(m);
	if (r < 0) {
		hha_load_sampler_free(m->sampler);
		hha_timer_free(m->sample_timer);
		run_service_stop(m);
		hha_run_keyring_wipe(&m->keys);
		free(m);
		return r;
	}
	hha_load_sample(m->sampler, &m->self_load);
	hha_timer_arm_in(m->sample_timer, m->keepalive_ms);
	hha_info(m->ctx, "run", "load sampling every %lld ms%s%s, speed %.2f",
		 (long long)m->keepalive_ms, so.cgroup ? " from cgroup " : " machine-wide",
		 so.cgroup ? so.cgroup : "", m->self_load.speed);
	*state = m;
	return 0;
}

static int run_reload(void *state, const struct hha_config *cfg)
{
	struct hhad_run *m = state;
	int old_port = m->port;

	configure(m, cfg);
	/* The listening addresses or port may have changed: listen afresh. */
	if (m->port != old_port || !m->have_keys || m->nlis == 0) {
		for (size_t i = 0; i < m->nlis; i++) {
			hha_io_del(m->lis[i].io);
			close(m->lis[i].fd);
		}
		m->nlis = 0;
		if (m->have_keys)
			return run_service_start(m);
	}
	return 0;
}

static void run_status(void *state, json_object *out)
{
	struct hhad_run *m = state;

	run_service_status(m, out);
	json_object_object_add(out, "peers", json_object_new_int64((int64_t)m->npeers));
}

static void run_fini(void *state)
{
	struct hhad_run *m = state;

	while (m->waiters) {
		struct run_waiter *w = m->waiters;
		m->waiters = w->next;
		json_object_put(w->args);
		free(w);
	}
	run_peers_stop(m);
	run_service_stop(m);
	hha_timer_free(m->sample_timer);
	hha_load_sampler_free(m->sampler);
	hha_run_keyring_wipe(&m->keys);
	free(m);
}

/* ---- placement ---- */

static unsigned recent_count(struct hhad_run *m, unsigned node)
{
	int64_t now = hha_now_ms();
	unsigned n = 0;

	for (size_t i = 0; i < m->nrecent; i++)
		if (m->recent[i].node == node && now - m->recent[i].ms < RECENT_MS)
			n++;
	return n;
}

static void recent_add(struct hhad_run *m, unsigned node, uint64_t ticket, uid_t uid)
{
	int64_t now = hha_now_ms();
	size_t k = 0;

	for (size_t i = 0; i < m->nrecent; i++)
		if (now - m->recent[i].ms < RECENT_MS)
			m->recent[k++] = m->recent[i];
	m->nrecent = k;
	if (m->nrecent == RUN_MAX_RECENT)
		memmove(m->recent, m->recent + 1, --m->nrecent * sizeof(m->recent[0]));
	m->recent[m->nrecent++] = (struct run_recent){ node, now, ticket, uid };
}

static int place_auto(struct hhad_run *m, uint64_t mem, unsigned *id, uint64_t ticket, uid_t uid)
{
	struct hha_place_node *c = calloc(m->npeers + 1, sizeof(*c));
	struct hha_place_opts po = { .size = sizeof(po), .mem_bytes = mem };
	size_t n = 0;
	int r;

	if (!c)
		return -ENOMEM;
	c[n].id = m->self_id;
	c[n].up = !hha_json_bool(hhad_node_conf(m->d), "witness", false);
	c[n].load = m->self_load;
	c[n].load.runon_procs = (unsigned)m->nsessions;
	c[n].pending = recent_count(m, m->self_id);
	n++;
	for (size_t i = 0; i < m->npeers; i++) {
		const struct run_peer *p = &m->peers[i];
		if (p->witness)
			continue;
		c[n].id = p->id;
		c[n].up = strcmp(run_peer_state(m, p), "up") == 0;
		c[n].load = p->load;
		c[n].pending = recent_count(m, p->id);
		n++;
	}
	r = hha_place(c, n, &po, 1, id);
	free(c);
	if (r == 0)
		recent_add(m, *id, ticket, uid);
	return r;
}

/* ---- tickets ---- */

static const char *node_addr(struct hhad_run *m, unsigned id, const char **name)
{
	if (id == m->self_id || id == 0) {
		*name = hhad_node_name(m->d);
		return m->self_addr;
	}
	for (size_t i = 0; i < m->npeers; i++)
		if (m->peers[i].id == id) {
			*name = m->peers[i].name;
			return m->peers[i].addr;
		}
	return NULL;
}

/* NODE as the user wrote it: id, name, "self"/"0". 0 with *id, or -ENODEV. */
static int resolve(struct hhad_run *m, const char *node, unsigned *id)
{
	int64_t v;

	if (strcmp(node, "self") == 0 || strcmp(node, "0") == 0 ||
	    strcmp(node, hhad_node_name(m->d)) == 0) {
		*id = m->self_id;
		return 0;
	}
	for (size_t i = 0; i < m->npeers; i++)
		if (strcmp(m->peers[i].name, node) == 0) {
			*id = m->peers[i].id;
			return 0;
		}
	if (hha_parse_int64(node, 1, 255, &v) == 0) {
		const char *name;
		if (node_addr(m, (unsigned)v, &name)) {
			*id = (unsigned)v;
			return 0;
		}
	}
	return hha_error(-ENODEV, NULL, "unknown node `%s'", node);
}

static int strv_from(json_object *a, size_t min, char ***out, size_t *n)
{
	size_t len;

	if (!a || !json_object_is_type(a, json_type_array))
		return -EINVAL;
	len = json_object_array_length(a);
	if (len < min || len > HHA_RUN_MAX_ARGS)
		return -EINVAL;
	*out = calloc(len + 1, sizeof(char *));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		json_object *v = json_object_array_get_idx(a, i);
		if (!json_object_is_type(v, json_type_string))
			return -EINVAL;
		(*out)[i] = strdup(json_object_get_string(v));
		*n = i + 1;
	}
	return 0;
}

static int issue(struct hhad_run *m, struct hhad_req *req, json_object *args)
{
	const struct ucred *cr = hhad_req_cred(req);
	const char *node = hha_json_str(args, "node"), *addr, *name = NULL, *s;
	const struct hha_run_key *k = hha_run_keyring_find(&m->keys, m->keys.send_id);
	struct hha_run_request rq = { .kind = HHA_RUN_KIND_LAUNCH, .src = (uint8_t)m->self_id };
	uint8_t secret[HHA_RUN_KEY_LEN], *wire = NULL;
	json_object *tty = hha_json_get(args, "tty"), *res;
	char *req64 = NULL, *sec64 = NULL;
	struct passwd *pw;
	size_t wlen = 0;
	uint64_t ticket = 0;
	unsigned id;
	int r;

	if (!m->have_keys)
		return hhad_req_fail(req, EHOSTDOWN, "remote launch is off on this node: no cluster key");
	if (!node)
		return hha_error(-EINVAL, NULL, "missing \"node\"");
	if (strcmp(node, "auto") == 0) {
		ticket = ++m->next_ticket;
		r = place_auto(m, (uint64_t)hha_json_int(args, "mem", 0), &id, ticket, cr->uid);
		if (r < 0)
			return hhad_req_fail(req, ENOSPC, "no node is up%s", hha_json_int(args, "mem", 0)
					     ? " with that much memory available" : "");
	} else if ((r = resolve(m, node, &id)) < 0) {
		return r;
	}
	addr = node_addr(m, id, &name);
	for (size_t i = 0; i < m->npeers; i++)
		if (m->peers[i].id == id && strcmp(run_peer_state(m, &m->peers[i]), "dead") == 0 &&
		    m->peers[i].fail_ms && hha_now_ms() - m->peers[i].fail_ms < m->dead_ms)
			return hhad_req_fail(req, EHOSTDOWN, "node %s is down (%s)", name,
					     m->peers[i].fail);
	pw = getpwuid(cr->uid);
	if (!pw)
		return hhad_req_fail(req, EPERM, "uid %u has no user name on this node", (unsigned)cr->uid);
	rq.dst = (uint8_t)id;
	rq.time_ms = run_realtime_ms();
	rq.user = pw->pw_name;
	rq.uid = (uint32_t)cr->uid;
	rq.src_name = (char *)hhad_node_name(m->d);
	if (strv_from(hha_json_get(args, "argv"), 1, &rq.argv, &rq.argc) < 0 ||
	    strv_from(hha_json_get(args, "env"), 0, &rq.env, &rq.nenv) < 0) {
		r = hha_error(-EINVAL, NULL, "\"argv\" (non-empty) and \"env\" must be arrays of strings");
		goto out;
	}
	rq.cwd = (char *)hha_json_str(args, "cwd");
	if (tty) {
		rq.tty = true;
		s = hha_json_str(tty, "term");
		rq.term = (char *)(s ? s : "dumb");
		rq.rows = (unsigned)hha_json_int(tty, "rows", 0);
		rq.cols = (unsigned)hha_json_int(tty, "cols", 0);
	}
	r = hha_run_random(rq.nonce, sizeof(rq.nonce));
	if (r == 0)
		r = hha_run_request_encode(&rq, k, &wire, &wlen);
	if (r == -E2BIG) {
		r = hhad_req_fail(req, E2BIG, "command and environment too long (limit %u bytes)",
				  HHA_RUN_REQ_BODY_MAX);
		goto out;
	}
	if (r == 0)
		r = hha_run_session_secret(k, rq.nonce, wire, wlen, secret);
	if (r < 0) {
		r = hha_error(r, NULL, "cannot sign the launch: %s", hha_strerror(r));
		goto out;
	}
	req64 = hha_run_b64_encode(wire, wlen);
	sec64 = hha_run_b64_encode(secret, sizeof(secret));
	OPENSSL_cleanse(secret, sizeof(secret));
	res = json_object_new_object();
	json_object_object_add(res, "node", json_object_new_string(name));
	json_object_object_add(res, "node_id", json_object_new_int((int)id));
	json_object_object_add(res, "address", json_object_new_string(addr));
	json_object_object_add(res, "port", json_object_new_int(m->port));
	json_object_object_add(res, "request", json_object_new_string(req64 ? req64 : ""));
	json_object_object_add(res, "secret", json_object_new_string(sec64 ? sec64 : ""));
	if (ticket)
		json_object_object_add(res, "ticket", json_object_new_int64((int64_t)ticket));
	hha_info(m->ctx, "run", "launch for %s (uid %u, pid %d) on %s: %s%s", pw->pw_name,
		 (unsigned)cr->uid, (int)cr->pid, name, rq.argv[0], rq.argc > 1 ? " ..." : "");
	r = hhad_req_reply(req, res);
out:
	for (size_t i = 0; rq.argv && i < rq.argc; i++)
		free(rq.argv[i]);
	for (size_t i = 0; rq.env && i < rq.nenv; i++)
		free(rq.env[i]);
	free(rq.argv);
	free(rq.env);
	free(wire);
	if (sec64) {
		OPENSSL_cleanse(sec64, strlen(sec64));
		free(sec64);
	}
	free(req64);
	return r;
}

/* ---- requests that wait for fresh loads ---- */

static void waiter_cancel(struct hhad_req *req, void *ud)
{
	struct run_waiter *w = ud, **p = &w->m->waiters;

	while (*p && *p != w)
		p = &(*p)->next;
	if (*p)
		*p = w->next;
	json_object_put(w->args);
	free(w);
}

void run_waiters_wake(struct hhad_run *m)
{
	struct run_waiter *list = m->waiters;

	m->waiters = NULL;
	while (list) {
		struct run_waiter *w = list;
		int r;
		list = w->next;
		if (w->args) {
			hha_error_clear();
			r = issue(m, w->req, w->args);
			if (r < 0)
				hhad_req_fail(w->req, -r, "%s", *hha_last_error() ? hha_last_error()
										 : hha_strerror(r));
		} else {
			hhad_req_reply(w->req, run_load_json(m));
		}
		json_object_put(w->args);
		free(w);
	}
}

static int wait_for_loads(struct hhad_run *m, struct hhad_req *req, json_object *args)
{
	struct run_waiter *w;

	run_peers_refresh(m);
	if (!run_peers_busy(m)) {
		if (args)
			return issue(m, req, args);
		return hhad_req_reply(req, run_load_json(m));
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return hha_error(-ENOMEM, NULL, "out of memory");
	w->m = m;
	w->req = req;
	w->args = args ? json_object_get(args) : NULL;
	w->next = m->waiters;
	m->waiters = w;
	hhad_req_defer(req, waiter_cancel, w);
	return 0;
}

static int verb_load(void *state, struct hhad_req *req, json_object *args)
{
	return wait_for_loads(state, req, NULL);
}

static int verb_ticket(void *state, struct hhad_req *req, json_object *args)
{
	const char *node = hha_json_str(args, "node");

	if (node && strcmp(node, "auto") == 0)
		return wait_for_loads(state, req, args);
	return issue(state, req, args);
}

/* The client of an "auto" launch says it ended: the copy no longer counts. */
static int verb_done(void *state, struct hhad_req *req, json_object *args)
{
	struct hhad_run *m = state;
	uint64_t t = (uint64_t)hha_json_int(args, "ticket", 0);

	for (size_t i = 0; i < m->nrecent; i++)
		if (m->recent[i].ticket == t && m->recent[i].uid == hhad_req_cred(req)->uid) {
			m->recent[i] = m->recent[--m->nrecent];
			break;
		}
	return hhad_req_reply(req, NULL);
}

static int verb_sessions(void *state, struct hhad_req *req, json_object *args)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "sessions", run_sessions_json(state));
	return hhad_req_reply(req, o);
}

static const struct hhad_verb run_verbs[] = {
	{ "run.load", HHAD_PRIV_READ, verb_load, "every node's load vector and state" },
	{ "run.ticket", HHAD_PRIV_USER, verb_ticket,
	  "sign a launch as the caller: {\"node\", \"argv\", \"env\", \"cwd\", \"tty\", \"mem\"}" },
	{ "run.done", HHAD_PRIV_USER, verb_done, "an \"auto\" launch ended: {\"ticket\"}" },
	{ "run.sessions", HHAD_PRIV_READ, verb_sessions, "commands this node runs for hha-runon" },
	{ NULL, 0, NULL, NULL },
};

const struct hhad_module hhad_module_run = {
	.name = "run",
	.init = run_init,
	.reload = run_reload,
	.status = run_status,
	.fini = run_fini,
	.verbs = run_verbs,
};
