/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The other nodes' loads: from their heartbeats, or asked over their run service when there are none. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/internal.h"
#include "net.h"
#include "run.h"
#include "run/proto.h"
#include "run/session.h"

/*
 * A query is one connection: send a signed "load" request, read the hello and
 * one sealed LOAD frame. Its states:
 *
 *   state    event                      next
 *   CONNECT  writable, request sent     HELLO
 *   HELLO    24 bytes, accepted         FRAME
 *   FRAME    a frame opened             (done: vector stored)
 *   any      error, refusal, timeout    (done: failure stored)
 */
enum qstate { Q_CONNECT, Q_HELLO, Q_FRAME };

#define QUERY_MAX_MS 1000

struct run_query {
	struct hhad_run *m;
	struct run_peer *p;
	enum qstate st;
	int fd;
	struct hha_io *io;
	struct hha_timer *timer;
	uint8_t *req;
	size_t req_len, off;
	uint8_t secret[HHA_RUN_KEY_LEN];
	uint8_t in[HHA_RUN_HELLO_LEN + HHA_RUN_FRAME_OVERHEAD + 512];
	size_t in_len;
};

static void query_end(struct run_query *q, const char *fail)
{
	struct hhad_run *m = q->m;
	struct run_peer *p = q->p;

	if (fail) {
		p->fail_ms = hha_now_ms();
		snprintf(p->fail, sizeof(p->fail), "%s", fail);
	}
	p->q = NULL;
	hha_io_del(q->io);
	hha_timer_free(q->timer);
	if (q->fd >= 0)
		close(q->fd);
	free(q->req);
	OPENSSL_cleanse(q->secret, sizeof(q->secret));
	free(q);
	if (!run_peers_busy(m))
		run_waiters_wake(m);
}

/* False once the query has ended (answered or failed); true while it waits for bytes. */
static bool query_frame(struct run_query *q)
{
	enum hha_run_hello_status st;
	uint8_t snonce[HHA_RUN_NONCE_LEN], cnonce[HHA_RUN_NONCE_LEN];
	struct hha_run_dirkey c2s, s2c;
	struct hha_run_aead *rx = NULL;
	uint8_t type, stream, *pl;
	size_t plen, used;
	struct hha_load l;
	char why[160];
	int r;

	if (hha_run_hello_decode(q->in, &st, snonce) < 0) {
		query_end(q, "garbled answer");
		return false;
	}
	if (st != HHA_RUN_HELLO_OK) {
		snprintf(why, sizeof(why), "refused: %s", hha_run_hello_word(st));
		query_end(q, why);
		return false;
	}
	if (q->in_len < HHA_RUN_HELLO_LEN + HHA_RUN_FRAME_OVERHEAD + HHA_LOAD_ENCODED_LEN)
		return true; /* wait for the frame */
	memcpy(cnonce, q->req + 20, sizeof(cnonce));
	r = hha_run_stream_keys(q->secret, cnonce, snonce, &c2s, &s2c);
	if (r == 0)
		r = hha_run_aead_new(&s2c, false, &rx);
	if (r == 0)
		r = hha_run_frame_open(rx, q->in + HHA_RUN_HELLO_LEN, q->in_len - HHA_RUN_HELLO_LEN, NULL,
				       &type, &stream, &pl, &plen, &used);
	hha_run_aead_free(rx);
	OPENSSL_cleanse(&s2c, sizeof(s2c));
	if (r == 0)
		return true;
	if (r < 0 || type != HHA_RUN_F_LOAD || hha_load_decode(pl, plen, &l) < 0) {
		query_end(q, "malformed load answer");
		return false;
	}
	q->p->load = l;
	q->p->have = true;
	q->p->rx_ms = hha_now_ms();
	query_end(q, NULL);
	return false;
}

static void query_cb(struct hha_io *io, int fd, uint32_t events, void *ud)
{
	struct run_query *q = ud;
	bool eof = false;
	char why[160];

	if (q->st == Q_CONNECT) {
		int err = 0;
		socklen_t l = sizeof(err);
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &l);
		if (err) {
			snprintf(why, sizeof(why), "%s", strerror(err));
			query_end(q, why);
			return;
		}
		while (q->off < q->req_len) {
			ssize_t w = send(fd, q->req + q->off, q->req_len - q->off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && errno == EAGAIN)
				return;
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				snprintf(why, sizeof(why), "%s", strerror(errno));
				query_end(q, why);
				return;
			}
			q->off += (size_t)w;
		}
		q->st = Q_HELLO;
		hha_io_set_events(q->io, EPOLLIN);
		return;
	}
	for (;;) {
		ssize_t n = recv(fd, q->in + q->in_len, sizeof(q->in) - q->in_len, MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			eof = true;
			break;
		}
		q->in_len += (size_t)n;
		if (q->in_len == sizeof(q->in))
			break;
	}
	/* The service answers and closes at once: use what came before the end. */
	if (q->in_len >= HHA_RUN_HELLO_LEN && !query_frame(q))
		return;
	if (eof || q->in_len == sizeof(q->in))
		query_end(q, q->in_len >= HHA_RUN_HELLO_LEN ? "closed before answering"
							    : "closed without a hello");
}

static void query_timeout(struct hha_timer *t, void *ud)
{
	query_end(ud, "no answer in time");
}

static int query_start(struct hhad_run *m, struct run_peer *p)
{
	const struct hha_run_key *k = hha_run_keyring_find(&m->keys, m->keys.send_id);
	struct hha_run_request rq = { .kind = HHA_RUN_KIND_LOAD, .src = (uint8_t)m->self_id,
				      .dst = (uint8_t)p->id, .time_ms = run_realtime_ms() };
	struct run_query *q = calloc(1, sizeof(*q));
	int r;

	if (!q)
		return -ENOMEM;
	q->m = m;
	q->p = p;
	q->fd = -1;
	r = hha_run_random(rq.nonce, sizeof(rq.nonce));
	if (r == 0)
		r = hha_run_request_encode(&rq, k, &q->req, &q->req_len);
	if (r == 0)
		r = hha_run_session_secret(k, rq.nonce, q->req, q->req_len, q->secret);
	if (r == 0)
		r = hha_run_connect(p->addr, m->port, &q->fd);
	if (r == 0)
		r = hha_io_add(m->loop, q->fd, EPOLLOUT, query_cb, q, &q->io);
	if (r == 0)
		r = hha_timer_new(m->loop, query_timeout, q, &q->timer);
	p->q = q;
	if (r < 0) {
		query_end(q, strerror(-r));
		return r;
	}
	hha_timer_arm_in(q->timer, HHA_MIN(m->warn_ms, QUERY_MAX_MS));
	return 0;
}

bool run_peers_busy(const struct hhad_run *m)
{
	for (size_t i = 0; i < m->npeers; i++)
		if (m->peers[i].q)
			return true;
	return false;
}

void run_peers_heartbeat(struct hhad_run *m)
{
	struct hha_membership *mb = hhad_net_membership(m->d);
	uint8_t buf[HHA_LOAD_ENCODED_LEN];
	struct hha_load self = m->self_load;

	if (!mb)
		return;
	self.runon_procs = (unsigned)m->nsessions;
	if (hha_load_encode(&self, buf, sizeof(buf)) > 0)
		hha_membership_set_payload(mb, HHA_PAYLOAD_LOAD, buf, sizeof(buf));
	for (size_t i = 0; i < m->npeers; i++) {
		struct run_peer *p = &m->peers[i];
		struct hha_member_info info;
		size_t len = sizeof(buf);
		struct hha_load l;

		if (hha_membership_peer_state(mb, p->id, &info) < 0 ||
		    hha_membership_peer_payload(mb, p->id, HHA_PAYLOAD_LOAD, buf, &len) < 0 ||
		    hha_load_decode(buf, len, &l) < 0)
			continue; /* no vector in its heartbeats (yet): ask its service */
		p->load = l;
		p->have = true;
		p->via_hb = true;
		p->hb_state = info.state;
		p->rx_ms = info.last_heard_ms;
	}
}

void run_peers_refresh(struct hhad_run *m)
{
	int64_t now = hha_now_ms();

	if (!m->have_keys)
		return;
	for (size_t i = 0; i < m->npeers; i++) {
		struct run_peer *p = &m->peers[i];
		if (p->q || p->witness || p->via_hb)
			continue;
		if (p->have && now - p->rx_ms < m->keepalive_ms && p->rx_ms >= p->fail_ms)
			continue; /* fresh enough */
		/* A node that just failed is not asked again before the dead time. */
		if (p->fail_ms > p->rx_ms && now - p->fail_ms < m->dead_ms)
			continue;
		query_start(m, p);
	}
}

void run_peers_stop(struct hhad_run *m)
{
	for (size_t i = 0; i < m->npeers; i++)
		if (m->peers[i].q)
			query_end(m->peers[i].q, "stopping");
}

int run_peers_configure(struct hhad_run *m, const struct hha_config *cfg)
{
	const char *self = hhad_node_name(m->d);

	run_peers_stop(m);
	m->npeers = 0;
	json_object_object_foreach(hha_conf_section(cfg, "nodes"), name, node) {
		struct run_peer *p;
		if (strcmp(name, self) == 0 || m->npeers >= RUN_MAX_PEERS)
			continue;
		p = &m->peers[m->npeers++];
		memset(p, 0, sizeof(*p));
		p->id = (unsigned)hha_json_int(node, "id", 0);
		snprintf(p->name, sizeof(p->name), "%s", name);
		snprintf(p->addr, sizeof(p->addr), "%s", hha_json_str(node, "address"));
		p->witness = hha_json_bool(node, "witness", false);
	}
	return 0;
}

const char *run_peer_state(const struct hhad_run *m, const struct run_peer *p)
{
	int64_t age = hha_now_ms() - p->rx_ms;

	if (p->via_hb) {
		/* Membership decides: every link, warntime and deadtime. */
		switch (p->hb_state) {
		case HHA_MEMBER_UP: return "up";
		case HHA_MEMBER_LATE: return "late";
		case HHA_MEMBER_DEAD: return "dead";
		default: return "unknown";
		}
	}
	if (p->fail_ms > p->rx_ms)
		return "dead";
	if (!p->have)
		return "unknown";
	return age < m->warn_ms ? "up" : age < m->dead_ms ? "late" : "dead";
}

static json_object *load_json(const struct hha_load *l)
{
	json_object *o = json_object_new_object(), *la = json_object_new_array();

	for (int i = 0; i < 3; i++)
		json_object_array_add(la, json_object_new_double(l->loadavg[i]));
	json_object_object_add(o, "loadavg", la);
	json_object_object_add(o, "ncpus", json_object_new_int((int)l->ncpus));
	json_object_object_add(o, "cpu_use", json_object_new_double(l->cpu_use));
	json_object_object_add(o, "speed", json_object_new_double(l->speed));
	json_object_object_add(o, "mem_total", json_object_new_int64((int64_t)l->mem_total));
	json_object_object_add(o, "mem_free", json_object_new_int64((int64_t)l->mem_free));
	json_object_object_add(o, "mem_avail", json_object_new_int64((int64_t)l->mem_avail));
	json_object_object_add(o, "runon_procs", json_object_new_int((int)l->runon_procs));
	return o;
}

static json_object *node_json(unsigned id, const char *name, bool self, const char *state,
			      int64_t age, const struct hha_load *l, const char *fail)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int((int)id));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "self", json_object_new_boolean(self));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "age_ms", age >= 0 ? json_object_new_int64(age) : NULL);
	json_object_object_add(o, "load", l ? load_json(l) : NULL);
	if (fail)
		json_object_object_add(o, "error", json_object_new_string(fail));
	return o;
}

json_object *run_load_json(struct hhad_run *m)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	struct hha_load self = m->self_load;
	int64_t now = hha_now_ms();

	self.runon_procs = (unsigned)m->nsessions;
	json_object_array_add(a, node_json(m->self_id, hhad_node_name(m->d), true, "up",
					   (int64_t)(run_realtime_ms() - self.time_ms), &self, NULL));
	for (size_t i = 0; i < m->npeers; i++) {
		const struct run_peer *p = &m->peers[i];
		const char *st = run_peer_state(m, p);
		json_object_array_add(a, node_json(p->id, p->name, false, st,
						   p->have ? now - p->rx_ms : -1,
						   p->have ? &p->load : NULL,
						   strcmp(st, "dead") == 0 && p->fail[0] ? p->fail : NULL));
	}
	json_object_object_add(o, "nodes", a);
	return o;
}
