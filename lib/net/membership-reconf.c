/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reload of a running membership object: new timers, keys, links, peers and ping nodes in place. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "net/membership-int.h"

/* Append one item to the "; "-separated list of changes. */
HHA_PRINTF(3, 4) static void say(char *buf, size_t cap, const char *fmt, ...)
{
	size_t off = strlen(buf);
	va_list ap;

	if (off && off + 2 < cap) {
		memcpy(buf + off, "; ", 3);
		off += 2;
	}
	va_start(ap, fmt);
	if (off < cap)
		vsnprintf(buf + off, cap - off, fmt, ap);
	va_end(ap);
}

static bool same_text(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* What only a restart may change. */
static int refuse(const struct hha_membership *m, const struct hha_membership *n)
{
	const char *what = NULL;
	char was[64] = "", now[64] = "";

	if (n->o.self_id != m->o.self_id) {
		what = "this node's id";
		snprintf(was, sizeof(was), "%u", m->o.self_id);
		snprintf(now, sizeof(now), "%u", n->o.self_id);
	} else if (!same_text(n->cluster_name, m->cluster_name)) {
		what = "the cluster name";
		snprintf(was, sizeof(was), "%s", m->cluster_name);
		snprintf(now, sizeof(now), "%s", n->cluster_name);
	} else if (!same_text(n->state_dir, m->state_dir)) {
		what = "the state directory";
		snprintf(was, sizeof(was), "%s", m->state_dir ? m->state_dir : "none");
		snprintf(now, sizeof(now), "%s", n->state_dir ? n->state_dir : "none");
	} else if (n->o.witness != m->o.witness) {
		what = "whether this node is the witness";
		snprintf(was, sizeof(was), "%s", m->o.witness ? "yes" : "no");
		snprintf(now, sizeof(now), "%s", n->o.witness ? "yes" : "no");
	} else if (n->o.witness_id != m->o.witness_id) {
		what = "the witness";
		snprintf(was, sizeof(was), "node %u", m->o.witness_id);
		snprintf(now, sizeof(now), "node %u", n->o.witness_id);
	}
	if (what)
		return hha_error(-EINVAL, NULL,
				 "%s cannot change while running (%s -> %s); restart hhad for that",
				 what, was, now);
	if (n->keys.n == 0 || n->nlinks == 0)
		return hha_error(-EINVAL, "hha_membership_reconfigure", "a key and a link are needed");
	return 0;
}

/* Is link @i of the plan the same socket address as ours (port 0 in the plan: any)? */
static bool same_link(const struct hb_link *cur, const struct hb_link *want)
{
	struct sockaddr_storage w = want->local;

	if (cur->local.ss_family != w.ss_family)
		return false;
	if (w.ss_family == AF_INET && ((struct sockaddr_in *)&w)->sin_port == 0)
		((struct sockaddr_in *)&w)->sin_port = ((const struct sockaddr_in *)&cur->local)->sin_port;
	if (w.ss_family == AF_INET6 && ((struct sockaddr_in6 *)&w)->sin6_port == 0)
		((struct sockaddr_in6 *)&w)->sin6_port =
			((const struct sockaddr_in6 *)&cur->local)->sin6_port;
	return hb_sa_equal((const struct sockaddr *)&cur->local, &w);
}

static bool same_keys(const struct hb_keyring *a, const struct hb_keyring *b, uint8_t id)
{
	uint8_t fa[HB_MAC_LEN], fb[HB_MAC_LEN];

	return hb_keyring_fingerprint(a, id, fa) == 0 && hb_keyring_fingerprint(b, id, fb) == 0 &&
	       CRYPTO_memcmp(fa, fb, sizeof(fa)) == 0;
}

static void describe_keys(const struct hb_keyring *cur, const struct hb_keyring *next, char *buf,
			  size_t cap)
{
	for (size_t i = 0; i < next->n; i++) {
		uint8_t id = next->key[i].id, fp[HB_MAC_LEN];
		if (hb_keyring_fingerprint(cur, id, fp) < 0)
			say(buf, cap, "key %u added", id);
		else if (!same_keys(cur, next, id))
			say(buf, cap, "key %u replaced (new content)", id);
	}
	for (size_t i = 0; i < cur->n; i++) {
		uint8_t fp[HB_MAC_LEN];
		if (hb_keyring_fingerprint(next, cur->key[i].id, fp) < 0)
			say(buf, cap, "key %u removed", cur->key[i].id);
	}
	if (cur->send_id != next->send_id)
		say(buf, cap, "send key %u -> %u", cur->send_id, next->send_id);
}

static void describe_timers(const struct hha_membership_opts *a, const struct hha_membership_opts *b,
			    char *buf, size_t cap)
{
#define T(f, name) \
	if (a->f != b->f) \
		say(buf, cap, name " %d -> %d ms", a->f, b->f)
	T(keepalive_ms, "keepalive");
	T(warntime_ms, "warntime");
	T(deadtime_ms, "deadtime");
	T(initdead_ms, "initdead");
	T(lease_ms, "lease");
	T(ping_interval_ms, "ping interval");
#undef T
}

static bool same_pings(const struct hb_ping *a, const struct hb_ping *b)
{
	if (a->n != b->n || a->interval_ms != b->interval_ms)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->t[i].text, b->t[i].text) != 0)
			return false;
	return true;
}

/* A peer of the plan that is new to us: a fresh copy, in init since now. */
static struct hb_peer *peer_copy(const struct hha_membership *m, const struct hb_peer *q,
				 int64_t now)
{
	struct hb_peer *p = calloc(1, sizeof(*p));

	if (!p || !(p->name = strdup(q->name))) {
		free(p);
		return NULL;
	}
	p->id = q->id;
	p->ping_reached = -1;
	p->last_heard = -1;
	p->incarnation = m->floor[q->id];
	memcpy(p->has, q->has, sizeof(p->has));
	memcpy(p->sa, q->sa, sizeof(p->sa));
	memcpy(p->salen, q->salen, sizeof(p->salen));
	for (size_t l = 0; l < HB_MAX_LINKS; l++)
		hb_link_init(&p->fsm[l], now);
	p->state = HHA_MEMBER_INIT;
	return p;
}

/* A kept peer takes its new name and addresses; links it gains start in init. */
static int peer_update(struct hb_peer *p, const struct hb_peer *q, size_t old_nlinks, int64_t now,
		       char *buf, size_t cap)
{
	bool moved = false;

	if (strcmp(p->name, q->name) != 0) {
		char *name = strdup(q->name);
		if (!name)
			return -ENOMEM;
		say(buf, cap, "peer %u renamed %s -> %s", p->id, p->name, q->name);
		free(p->name);
		p->name = name;
	}
	for (size_t l = 0; l < HB_MAX_LINKS; l++) {
		bool gained = q->has[l] && (!p->has[l] || l >= old_nlinks);
		if (gained || (!q->has[l] && p->has[l])) {
			hb_link_init(&p->fsm[l], now);
			memset(&p->win[l], 0, sizeof(p->win[l]));
			p->rx[l] = 0;
		}
		if (q->has[l] && p->has[l] && !gained &&
		    !hb_sa_equal((const struct sockaddr *)&q->sa[l], &p->sa[l]))
			moved = true;
		p->has[l] = q->has[l];
		p->sa[l] = q->sa[l];
		p->salen[l] = q->salen[l];
	}
	if (moved)
		say(buf, cap, "peer %s: address changed", p->name);
	return 0;
}

int hha_membership_reconfigure(struct hha_membership *m, struct hha_membership *next,
			       char *changes, size_t cap)
{
	char scratch[1], *buf = changes && cap ? changes : scratch;
	struct hb_link link[HB_MAX_LINKS];
	struct hb_peer *peers[255] = { 0 };
	struct hb_keyring oldkeys;
	size_t old_nlinks = m->nlinks;
	int64_t now;
	int r;

	if (!changes || !cap)
		cap = sizeof(scratch);
	buf[0] = '\0';
	if (!m->running || !next->o.plan)
		return hha_error(-HHA_ESTATE, __func__,
				 !m->running ? "not running" : "the new configuration must be a plan");
	if ((r = refuse(m, next)) < 0)
		return r;
	now = hb_now(m);

	/* 1. Everything that can fail, with nothing changed yet: sockets, ping, memory. */
	memcpy(link, next->link, sizeof(link)); /* a plan's links have no socket (fd -1) */
	for (size_t i = 0; i < next->nlinks; i++) {
		if (i < m->nlinks && same_link(&m->link[i], &next->link[i])) {
			link[i] = m->link[i];
			continue;
		}
		r = hb_link_open(&link[i], next->link[i].spec);
		if (r < 0)
			goto undo;
	}
	for (size_t i = 0; i < next->npeers; i++) {
		const struct hb_peer *q = next->peers[i];
		if (!m->by_id[q->id] && !(peers[i] = peer_copy(m, q, now))) {
			r = hha_error(-ENOMEM, __func__, "out of memory");
			goto undo;
		}
	}
	if (!same_pings(&m->ping, &next->ping)) {
		say(buf, cap, "ping nodes: %zu -> %zu, every %d ms", m->ping.n, next->ping.n,
		    next->ping.interval_ms);
		if ((r = hb_ping_adopt(&m->ping, &next->ping, m->ctx)) < 0) {
			hha_error_wrap(r, __func__);
			goto undo;
		}
	}

	/* 2. Commit: nothing fails from here on. */
	describe_timers(&m->o, &next->o, buf, cap);
	describe_keys(&m->keys, &next->keys, buf, cap);
	oldkeys = m->keys;
	m->keys = next->keys;
	next->keys = oldkeys; /* wiped when the caller frees the plan */
	m->o.port = next->o.port;
	m->o.keepalive_ms = next->o.keepalive_ms;
	m->o.warntime_ms = next->o.warntime_ms;
	m->o.deadtime_ms = next->o.deadtime_ms;
	m->o.initdead_ms = next->o.initdead_ms;
	m->o.lease_ms = next->o.lease_ms;
	m->o.ping_interval_ms = next->o.ping_interval_ms;
	m->timers = next->timers;
	m->witness.dur_ms = m->o.lease_ms;
	if (m->next_send > now + m->o.keepalive_ms)
		m->next_send = now + m->o.keepalive_ms;
	for (size_t i = 0; i < HHA_MAX(old_nlinks, next->nlinks); i++) {
		if (i >= next->nlinks) {
			say(buf, cap, "link %zu (%s) removed", i, m->link[i].addr);
			close(m->link[i].fd);
		} else if (i >= old_nlinks) {
			say(buf, cap, "link %zu (%s) added", i, link[i].addr);
		} else if (link[i].fd != m->link[i].fd) {
			say(buf, cap, "link %zu: %s -> %s", i, m->link[i].addr, link[i].addr);
			close(m->link[i].fd);
		}
	}
	memcpy(m->link, link, next->nlinks * sizeof(link[0]));
	m->nlinks = next->nlinks;
	for (size_t i = 0; i < m->npeers; i++) {
		struct hb_peer *p = m->peers[i];
		if (next->by_id[p->id])
			continue;
		say(buf, cap, "peer %s (%u) removed", p->name, p->id);
		m->by_id[p->id] = NULL;
		free(p->name);
		free(p);
	}
	/* The plan's order (the configuration's) from now on. */
	for (size_t i = 0; i < next->npeers; i++) {
		const struct hb_peer *q = next->peers[i];
		if (peers[i]) {
			say(buf, cap, "peer %s (%u) added", q->name, q->id);
			m->by_id[q->id] = peers[i];
		} else {
			peers[i] = m->by_id[q->id];
			if (peer_update(peers[i], q, old_nlinks, now, buf, cap) < 0)
				say(buf, cap, "peer %u: out of memory for its new name", q->id);
		}
	}
	memcpy(m->peers, peers, next->npeers * sizeof(peers[0]));
	m->npeers = next->npeers;
	for (size_t i = 0; i < m->npeers; i++)
		hb_refold(m, m->peers[i], "reload");
	if (buf[0])
		hha_info(m->ctx, "net", "membership reconfigured: %s", buf);
	return 0;
undo:
	for (size_t i = 0; i < next->nlinks; i++)
		if (link[i].fd >= 0 && (i >= m->nlinks || link[i].fd != m->link[i].fd))
			close(link[i].fd);
	for (size_t i = 0; i < next->npeers; i++)
		if (peers[i]) {
			free(peers[i]->name);
			free(peers[i]);
		}
	buf[0] = '\0';
	return r;
}
