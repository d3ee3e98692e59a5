/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The membership object: sockets per link, heartbeat rounds, the receive checks, peer states. */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/util.h"
#include "net/hb-state.h"
#include "net/membership-int.h"

#define MAX_KEY_FILE 4096

int64_t hb_now(const struct hha_membership *m)
{
	return m->o.clock ? m->o.clock(m->o.clock_userdata) : hha_now_ms();
}

const char *hha_member_state_name(enum hha_member_state s)
{
	static const char *const names[] = { "init", "up", "late", "dead", "down" };

	return (unsigned)s < HHA_ARRAY_SIZE(names) ? names[s] : "?";
}

/* "ADDR", "ADDR:PORT", "[V6]:PORT", "fe80::1%eth0" -> sockaddr. Port 0 allowed (ephemeral). */
int hb_parse_sockaddr(const char *s, unsigned def_port, struct sockaddr_storage *ss,
			  socklen_t *len)
{
	char host[80], port[8];
	const char *colon = strrchr(s, ':');
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
				  .ai_socktype = SOCK_DGRAM };
	struct addrinfo *ai = NULL;
	size_t hl;

	snprintf(port, sizeof(port), "%u", def_port);
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || (rb[1] && rb[1] != ':'))
			return -EINVAL;
		hl = (size_t)(rb - s - 1);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s + 1, hl);
		host[hl] = '\0';
		if (rb[1] == ':')
			snprintf(port, sizeof(port), "%.6s", rb + 2);
	} else if (colon && strchr(s, ':') == colon) {
		hl = (size_t)(colon - s);
		if (hl >= sizeof(host))
			return -EINVAL;
		memcpy(host, s, hl);
		host[hl] = '\0';
		snprintf(port, sizeof(port), "%.6s", colon + 1);
	} else {
		if (strlen(s) >= sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%s", s);
	}
	for (const char *p = port; *p; p++)
		if (*p < '0' || *p > '9')
			return -EINVAL;
	if (!*port || atoi(port) > 65535 || getaddrinfo(host, port, &hints, &ai) != 0 || !ai)
		return -EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static int sa_port(const struct sockaddr_storage *ss)
{
	return ntohs(ss->ss_family == AF_INET ? ((const struct sockaddr_in *)ss)->sin_port
					      : ((const struct sockaddr_in6 *)ss)->sin6_port);
}

bool hb_sa_equal(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return false;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_addr.s_addr == y->sin_addr.s_addr && x->sin_port == y->sin_port;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0 && x->sin6_port == y->sin6_port;
}

int hha_membership_new(struct hha_ctx *ctx, const struct hha_membership_opts *opts,
		       struct hha_membership **out)
{
	struct hha_membership *m;
	struct hha_membership_opts o = { 0 };

	if (!opts || opts->size == 0)
		return hha_error(-EINVAL, __func__, "opts->size must be set");
	memcpy(&o, opts, HHA_MIN(opts->size, sizeof(o)));
	o.size = sizeof(o);
	if (!o.port)
		o.port = 694;
	if (!o.keepalive_ms)
		o.keepalive_ms = 200;
	if (!o.warntime_ms)
		o.warntime_ms = 600;
	if (!o.deadtime_ms)
		o.deadtime_ms = 1000;
	if (!o.initdead_ms)
		o.initdead_ms = 10000;
	if (!o.lease_ms)
		o.lease_ms = 4 * o.deadtime_ms;
	if (o.self_id < 1 || o.self_id > 255)
		return hha_error(-EINVAL, __func__, "node id %u is not in 1..255", o.self_id);
	if (o.port > 65535 || o.witness_id > 255)
		return hha_error(-EINVAL, __func__, "port %u or witness id %u out of range", o.port,
				 o.witness_id);
	if (o.keepalive_ms < 1 || o.deadtime_ms <= 2 * o.keepalive_ms)
		return hha_error(-EINVAL, __func__,
				 "deadtime %d ms must be more than twice keepalive %d ms",
				 o.deadtime_ms, o.keepalive_ms);
	if (o.warntime_ms < o.keepalive_ms || o.warntime_ms >= o.deadtime_ms)
		return hha_error(-EINVAL, __func__,
				 "warntime %d ms must be in [keepalive %d ms, deadtime %d ms)",
				 o.warntime_ms, o.keepalive_ms, o.deadtime_ms);
	if (o.initdead_ms < o.deadtime_ms)
		return hha_error(-EINVAL, __func__, "initdead %d ms is less than deadtime %d ms",
				 o.initdead_ms, o.deadtime_ms);
	if (o.lease_ms < o.deadtime_ms)
		return hha_error(-EINVAL, __func__, "lease %d ms is less than deadtime %d ms",
				 o.lease_ms, o.deadtime_ms);
	m = calloc(1, sizeof(*m));
	if (!m)
		return hha_error(-ENOMEM, __func__, "out of memory");
	m->ctx = ctx;
	m->o = o;
	m->cluster_name = strdup(o.cluster_name ? o.cluster_name : "hybridha");
	m->state_dir = o.state_dir ? strdup(o.state_dir) : NULL;
	if (!m->cluster_name || (o.state_dir && !m->state_dir)) {
		hha_membership_free(m);
		return hha_error(-ENOMEM, __func__, "out of memory");
	}
	m->o.cluster_name = m->cluster_name;
	m->o.state_dir = m->state_dir;
	m->cluster = hb_cluster_id(m->cluster_name);
	m->timers = (struct hb_timers){ o.warntime_ms, o.deadtime_ms, o.initdead_ms };
	hb_ping_init(&m->ping, o.ping_interval_ms);
	hb_lease_client_init(&m->lease);
	*out = m;
	return 0;
}

void hha_membership_free(struct hha_membership *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nlinks; i++)
		if (m->link[i].fd >= 0)
			close(m->link[i].fd);
	for (size_t i = 0; i < m->npeers; i++) {
		free(m->peers[i]->name);
		free(m->peers[i]);
	}
	hb_ping_close(&m->ping);
	hb_payload_free(m);
	hb_keyring_clear(&m->keys);
	free(m->cluster_name);
	free(m->state_dir);
	free(m);
}

int hha_membership_add_key(struct hha_membership *m, unsigned id, const void *key, size_t len)
{
	int r;

	if (id < 1 || id > 255)
		return hha_error(-EINVAL, __func__, "key id %u is not in 1..255", id);
	r = hb_keyring_add(&m->keys, (uint8_t)id, key, len);
	if (r == -EINVAL)
		return hha_error(r, __func__, "key %u: %zu bytes; at least 16 are needed", id, len);
	if (r == -ENOSPC)
		return hha_error(r, __func__, "two keys are held already; remove one first");
	return r < 0 ? hha_error(r, __func__, "cannot set up HMAC-SHA256") : 0;
}

int hha_membership_load_key(struct hha_membership *m, unsigned id, const char *path)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return hha_error(-errno, __func__, "cannot open key file %s: %s", path,
				 hha_strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return hha_error(-EINVAL, __func__, "key file %s is not a regular file", path);
	}
	/* A key others can read is no secret; a key others can write is no key. */
	if (st.st_mode & 0077) {
		close(fd);
		return hha_error(-EACCES, __func__,
				 "key file %s has mode %04o: group or others may access it "
				 "(run `chmod 600 %s')",
				 path, (unsigned)(st.st_mode & 07777), path);
	}
	close(fd);
	r = hha_read_file(path, MAX_KEY_FILE, &text, &len);
	if (r == -EFBIG || r == -E2BIG)
		return hha_error(-EINVAL, __func__, "key file %s is longer than %d bytes", path,
				 MAX_KEY_FILE);
	if (r < 0)
		return hha_error(r, __func__, "cannot read key file %s: %s", path, hha_strerror(r));
	if (len > 0 && text[len - 1] == '\n')
		len--;
	if (len < 16) {
		free(text);
		return hha_error(-EINVAL, __func__, "key file %s: %zu bytes; at least 16 are needed",
				 path, len);
	}
	r = hha_membership_add_key(m, id, text, len);
	OPENSSL_cleanse(text, len);
	free(text);
	return r;
}

int hha_membership_remove_key(struct hha_membership *m, unsigned id)
{
	size_t i;

	for (i = 0; i < m->keys.n; i++)
		if (m->keys.key[i].id == id)
			break;
	if (i == m->keys.n)
		return hha_error(-ENOENT, __func__, "no key %u", id);
	if (m->keys.send_id == id)
		return hha_error(-EBUSY, __func__, "key %u is the send key", id);
	hb_keyring_remove(&m->keys, (uint8_t)id);
	return 0;
}

int hha_membership_set_send_key(struct hha_membership *m, unsigned id)
{
	if (id > 255 || hb_keyring_set_send(&m->keys, (uint8_t)id) < 0)
		return hha_error(-ENOENT, __func__, "no key %u", id);
	return 0;
}

int hb_link_open(struct hb_link *l, const char *local)
{
	int one = 1, fd;
	char host[INET6_ADDRSTRLEN];

	fd = socket(l->local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hha_error(-errno, __func__, "socket: %s", hha_strerror(errno));
	/* The address may not be configured yet at boot; bind anyway. */
	setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one));
	if (l->local.ss_family == AF_INET6) {
		setsockopt(fd, SOL_IPV6, IPV6_FREEBIND, &one, sizeof(one));
		setsockopt(fd, SOL_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	/* Heartbeats go first when the link is busy (replication shares it). */
	setsockopt(fd, SOL_SOCKET, SO_PRIORITY, &(int){ 6 }, sizeof(int));
	if (bind(fd, (struct sockaddr *)&l->local, l->locallen) < 0) {
		int r = -errno;
		close(fd);
		return hha_error(r, __func__, "cannot bind to %s: %s", local, hha_strerror(r));
	}
	getsockname(fd, (struct sockaddr *)&l->local, &l->locallen);
	l->fd = fd;
	l->port = sa_port(&l->local);
	l->carrier = true;
	getnameinfo((struct sockaddr *)&l->local, l->locallen, host, sizeof(host), NULL, 0,
		    NI_NUMERICHOST);
	snprintf(l->addr, sizeof(l->addr), "%s", host);
	return 0;
}

int hha_membership_add_link(struct hha_membership *m, const char *local)
{
	struct hb_link *l;
	int r;

	if (m->running)
		return hha_error(-HHA_ESTATE, __func__, "links cannot be added while running");
	if (m->nlinks >= HB_MAX_LINKS)
		return hha_error(-ENOSPC, __func__, "at most %d links", HB_MAX_LINKS);
	l = &m->link[m->nlinks];
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	if (!local || hb_parse_sockaddr(local, m->o.port, &l->local, &l->locallen) < 0 ||
	    strlen(local) >= sizeof(l->spec))
		return hha_error(-EINVAL, __func__, "invalid address `%s'", local ? local : "(null)");
	snprintf(l->spec, sizeof(l->spec), "%s", local);
	if (!m->o.plan && (r = hb_link_open(l, local)) < 0)
		return r;
	return (int)m->nlinks++;
}

int hha_membership_link_port(const struct hha_membership *m, unsigned link)
{
	return link < m->nlinks ? m->link[link].port : -ENOENT;
}

const char *hha_membership_link_address(const struct hha_membership *m, unsigned link)
{
	return link < m->nlinks ? m->link[link].addr : NULL;
}

int hha_membership_add_peer(struct hha_membership *m, unsigned id, const char *name,
			    const char *const *addrs, size_t naddrs)
{
	struct hb_peer *p;

	if (m->running)
		return hha_error(-HHA_ESTATE, __func__, "peers cannot be added while running");
	if (id < 1 || id > 255 || id == m->o.self_id)
		return hha_error(-EINVAL, __func__, "invalid peer id %u", id);
	if (m->by_id[id])
		return hha_error(-EEXIST, __func__, "peer %u already added", id);
	if (naddrs > m->nlinks)
		return hha_error(-EINVAL, __func__, "peer %u: %zu addresses for %zu links", id, naddrs,
				 m->nlinks);
	p = calloc(1, sizeof(*p));
	if (!p || !(p->name = strdup(name ? name : ""))) {
		free(p);
		return hha_error(-ENOMEM, __func__, "out of memory");
	}
	p->id = id;
	p->ping_reached = -1;
	p->last_heard = -1;
	for (size_t i = 0; i < naddrs; i++) {
		if (!addrs[i])
			continue;
		if (hb_parse_sockaddr(addrs[i], m->o.port, &p->sa[i], &p->salen[i]) < 0 ||
		    p->sa[i].ss_family != m->link[i].local.ss_family) {
			free(p->name);
			free(p);
			return hha_error(-EINVAL, __func__,
					 "peer %u: invalid address `%s' for link %zu (%s)", id,
					 addrs[i], i, m->link[i].addr);
		}
		p->has[i] = true;
	}
	m->peers[m->npeers++] = p;
	m->by_id[id] = p;
	return 0;
}

int hha_membership_add_ping_node(struct hha_membership *m, const char *addr)
{
	int r;

	if (m->running)
		return hha_error(-HHA_ESTATE, __func__, "ping nodes cannot be added while running");
	r = hb_ping_add(&m->ping, addr);
	if (r == -ENOSPC)
		return hha_error(r, __func__, "at most %d ping nodes", HB_MAX_PING);
	return r < 0 ? hha_error(r, __func__, "invalid ping node `%s'", addr) : 0;
}

int hha_membership_start(struct hha_membership *m)
{
	int64_t now;
	int r;

	if (m->running || m->stopped || m->o.plan)
		return hha_error(-HHA_ESTATE, __func__, m->o.plan ? "a plan cannot start" : "already started");
	if (m->keys.n == 0 || m->nlinks == 0)
		return hha_error(-HHA_ESTATE, __func__, "a key and a link are needed first");
	if (m->state_dir) {
		r = hb_state_next_incarnation(m->state_dir, &m->incarnation);
		if (r == 0)
			r = hb_state_load_peers(m->state_dir, m->floor);
		if (r < 0)
			return hha_error_wrap(r, __func__);
	} else {
		m->incarnation = (uint64_t)hha_now_ms() + 1;
	}
	r = hb_ping_open(&m->ping, m->ctx);
	if (r < 0)
		return hha_error_wrap(r, __func__);
	now = hb_now(m);
	m->started = now;
	m->next_send = now;
	for (size_t i = 0; i < m->npeers; i++) {
		struct hb_peer *p = m->peers[i];
		p->incarnation = m->floor[p->id];
		for (size_t l = 0; l < m->nlinks; l++)
			hb_link_init(&p->fsm[l], now);
		p->state = HHA_MEMBER_INIT;
	}
	if (m->o.witness)
		hb_lease_witness_init(&m->witness, now, m->o.lease_ms, m->incarnation);
	m->running = true;
	hha_info(m->ctx, "net", "membership started: node %u, incarnation %llu, %zu link(s), %zu peer(s)",
		 m->o.self_id, (unsigned long long)m->incarnation, m->nlinks, m->npeers);
	return 0;
}

int hha_membership_fds(const struct hha_membership *m, int *fds, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < m->nlinks; i++, n++)
		if (n < max)
			fds[n] = m->link[i].fd;
	if (m->ping.fd4 >= 0 && n++ < max)
		fds[n - 1] = m->ping.fd4;
	if (m->ping.fd6 >= 0 && n++ < max)
		fds[n - 1] = m->ping.fd6;
	return (int)n;
}

static int64_t earliest(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

int64_t hha_membership_next_deadline(const struct hha_membership *m)
{
	int64_t d;

	if (!m->running)
		return -1;
	d = m->next_send;
	for (size_t i = 0; i < m->npeers; i++)
		for (size_t l = 0; l < m->nlinks; l++)
			d = earliest(d, hb_link_deadline(&m->peers[i]->fsm[l], &m->timers));
	d = earliest(d, hb_ping_deadline(&m->ping));
	if (m->o.witness)
		d = earliest(d, hb_lease_witness_deadline(&m->witness));
	return d;
}

static void notify(struct hha_membership *m, struct hb_peer *p, int link,
		   enum hha_member_state old, enum hha_member_state new, bool newinc,
		   const char *reason)
{
	struct hha_member_event ev = {
		.node_id = p->id, .name = p->name, .link = link, .old_state = old,
		.new_state = new, .incarnation = p->incarnation, .new_incarnation = newinc,
		.reason = reason,
	};

	if (link < 0 && (old != new || newinc))
		hha_info(m->ctx, "net", "node %s (%u): %s -> %s (%s)", p->name, p->id,
			 hha_member_state_name(old), hha_member_state_name(new), reason);
	if (m->cb)
		m->cb(m->cb_ud, &ev);
}

/* Feed one event to a link, then refold the node's state; report both changes. */
static void link_event(struct hha_membership *m, struct hb_peer *p, unsigned l,
		       enum hb_link_event ev, int64_t now, const char *reason)
{
	enum hha_member_state old = p->fsm[l].state;

	hb_link_step(&p->fsm[l], ev, now, &m->timers);
	if (p->fsm[l].state != old)
		notify(m, p, (int)l, old, p->fsm[l].state, false, reason);
	hb_refold(m, p, reason);
}

void hb_refold(struct hha_membership *m, struct hb_peer *p, const char *reason)
{
	enum hha_member_state old = p->state,
			      nstate = hb_node_state(p->fsm, m->nlinks, p->ever_heard, p->leaving);

	if (nstate != old) {
		p->state = nstate;
		notify(m, p, -1, old, nstate, false, reason);
	}
}

bool hb_window_check(struct hb_window *w, uint64_t seq)
{
	uint64_t diff;

	if (seq == 0)
		return false;
	if (seq > w->top) {
		diff = seq - w->top;
		w->bits = diff >= 64 ? 0 : w->bits << diff;
		w->bits |= 1; /* bit 0 = top itself */
		w->top = seq;
		return true;
	}
	diff = w->top - seq;
	if (diff >= 64 || (w->bits >> diff) & 1)
		return false;
	w->bits |= 1ULL << diff;
	return true;
}

/*
 * An authentic datagram from a newer life of @p (or the first since our
 * start): its replay windows and payload belong to the old life. This alone
 * revives nothing: only a datagram that echoes our incarnation counts.
 */
static void new_incarnation(struct hha_membership *m, struct hb_peer *p, uint64_t inc)
{
	p->incarnation = inc;
	p->known = true;
	memset(p->win, 0, sizeof(p->win));
	p->plen = 0;
	p->ping_reached = -1;
	if (inc > m->floor[p->id]) {
		m->floor[p->id] = inc;
		if (m->state_dir && hb_state_save_peers(m->state_dir, m->floor) < 0)
			hha_warn(m->ctx, "net", "%s", hha_last_error());
	}
}

enum hb_drop hb_membership_input(struct hha_membership *m, unsigned link,
				 const struct sockaddr *from, socklen_t fromlen, const uint8_t *buf,
				 size_t len, int64_t now)
{
	struct hb_hdr h;
	const uint8_t *payload;
	struct hb_peer *p;

	switch (hb_decode(&m->keys, m->cluster, buf, len, &h, &payload)) {
	case HB_OK:
		break;
	case HB_MALFORMED:
		m->cnt.malformed++;
		return HB_DROP_MALFORMED;
	case HB_OTHER_CLUSTER:
		m->cnt.other_cluster++;
		return HB_DROP_OTHER_CLUSTER;
	case HB_UNKNOWN_KEY:
		m->cnt.unknown_key++;
		return HB_DROP_UNKNOWN_KEY;
	case HB_BAD_MAC:
		m->cnt.bad_mac++;
		return HB_DROP_BAD_MAC;
	}
	p = h.sender < 256 ? m->by_id[h.sender] : NULL;
	if (!p || (h.dest != m->o.self_id && h.dest != 0)) {
		m->cnt.unknown_node++;
		return HB_DROP_UNKNOWN_NODE;
	}
	/* A copy is only valid on the link it was made for, from the peer's address there. */
	if (h.link != link || link >= m->nlinks || !p->has[link] || !from ||
	    fromlen < sizeof(struct sockaddr_in) || !hb_sa_equal(from, &p->sa[link])) {
		m->cnt.wrong_link++;
		return HB_DROP_WRONG_LINK;
	}
	if (h.incarnation < p->incarnation || h.incarnation < m->floor[p->id]) {
		m->cnt.old_incarnation++;
		return HB_DROP_OLD_INCARNATION;
	}
	if (h.incarnation > p->incarnation || !p->known)
		new_incarnation(m, p, h.incarnation);
	if (!hb_window_check(&p->win[link], h.seq)) {
		m->cnt.replay++;
		return HB_DROP_REPLAY;
	}
	/*
	 * Made before the sender heard our current life: possibly a capture
	 * replayed to us after our restart (our windows were empty). It may
	 * teach us the sender's incarnation (above), so we echo it from now on
	 * and answer early, but it revives, resets and renews nothing.
	 */
	if (hb_payload_echo(payload, h.payload_len) != m->incarnation) {
		m->cnt.stale_echo++;
		m->prompt = true;
		return HB_DROP_STALE_ECHO;
	}
	m->cnt.accepted++;
	p->rx[link]++;
	p->last_heard = now;
	p->ever_heard = true;
	if (p->accepted_inc != h.incarnation) {
		if (p->accepted_inc) {
			p->leaving = false;
			notify(m, p, -1, p->state, p->state, true, "restart");
		}
		p->accepted_inc = h.incarnation;
	}
	hb_payload_received(m, p, &h, payload, now);
	if (h.flags & HB_F_LEAVING) {
		p->leaving = true;
		for (unsigned l = 0; l < m->nlinks; l++)
			link_event(m, p, l, HB_EV_LEAVE, now, "goodbye");
	} else if (!p->leaving) {
		link_event(m, p, link, HB_EV_PACKET, now, "heartbeat");
	}
	return HB_ACCEPTED;
}

static void receive_all(struct hha_membership *m, unsigned l)
{
	uint8_t buf[HB_MAX_PACKET + 1];
	struct sockaddr_storage from;

	/* Bounded so one flooded link cannot starve the others or the timers. */
	for (int budget = 256; budget > 0; budget--) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(m->link[l].fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC,
				     (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		/* Stamped when read, not when sent: after a stall we are generous, never harsh. */
		hb_membership_input(m, l, (struct sockaddr *)&from, fl, buf,
				    (size_t)n > sizeof(buf) ? sizeof(buf) : (size_t)n, hb_now(m));
	}
}

/* Encode one copy of round @seq for @peer on @link around an already built payload. */
static int encode_copy(struct hha_membership *m, unsigned peer, unsigned link, uint64_t seq,
		       uint8_t flags, const uint8_t *payload, size_t plen, uint8_t *out, size_t cap)
{
	struct hb_hdr h = {
		.link = (uint8_t)link, .flags = flags, .cluster = m->cluster,
		.sender = (uint16_t)m->o.self_id, .dest = (uint16_t)peer,
		.incarnation = m->incarnation, .seq = seq, .timestamp_ms = (uint64_t)hb_now(m),
	};

	return hb_encode(&m->keys, &h, payload, plen, out, cap);
}

int hb_membership_build(struct hha_membership *m, unsigned peer, unsigned link, uint64_t seq,
			uint8_t flags, uint8_t *out, size_t cap)
{
	uint8_t payload[HB_MAX_PAYLOAD];
	int plen = hb_payload_build(m, payload, sizeof(payload));
	size_t off = plen < 0 ? 0 : (size_t)plen;
	struct hb_peer none = { 0 };

	if (plen < 0)
		return plen;
	if (hb_payload_put_echo(peer < 256 && m->by_id[peer] ? m->by_id[peer] : &none, payload,
				sizeof(payload), &off) < 0)
		return -EMSGSIZE;
	return encode_copy(m, peer, link, seq, flags, payload, off, out, cap);
}

static void send_round(struct hha_membership *m, uint8_t flags, int64_t now)
{
	uint8_t buf[HB_MAX_PACKET], payload[HB_MAX_PAYLOAD], mine[HB_MAX_PAYLOAD];
	int plen;

	m->seq++;
	hb_lease_client_sent(&m->lease, m->seq, now);
	/* One payload per round: every copy of a round carries the same TLVs. */
	plen = hb_payload_build(m, payload, sizeof(payload));
	if (plen < 0) {
		m->cnt.send_errors++;
		return;
	}
	for (size_t i = 0; i < m->npeers; i++) {
		struct hb_peer *p = m->peers[i];
		size_t off = (size_t)plen;
		/* ...plus, per peer, its incarnation as we know it (the echo). */
		memcpy(mine, payload, (size_t)plen);
		if (hb_payload_put_echo(p, mine, sizeof(mine), &off) < 0) {
			m->cnt.send_errors++;
			continue;
		}
		for (unsigned l = 0; l < m->nlinks; l++) {
			int n;
			if (!p->has[l])
				continue;
			n = encode_copy(m, p->id, l, m->seq, flags, mine, off, buf, sizeof(buf));
			if (n < 0) {
				m->cnt.send_errors++;
				continue;
			}
			if (sendto(m->link[l].fd, buf, (size_t)n, MSG_DONTWAIT,
				   (struct sockaddr *)&p->sa[l], p->salen[l]) == n)
				m->cnt.sent++;
			else
				m->cnt.send_errors++;
		}
	}
}

int hha_membership_dispatch(struct hha_membership *m)
{
	int64_t now;

	if (!m->running)
		return hha_error(-HHA_ESTATE, __func__, "not running");
	/* Read first: packets queued during a stall count before silence is judged. */
	for (unsigned l = 0; l < m->nlinks; l++)
		receive_all(m, l);
	now = hb_now(m);
	hb_ping_dispatch(&m->ping, now);
	if (m->o.witness)
		hb_lease_witness_tick(&m->witness, now);
	/*
	 * A peer that does not know our incarnation yet (it or we restarted)
	 * gets the next round now rather than a keepalive later, so the echo
	 * costs a round trip, not a keepalive. At most once per half keepalive:
	 * replayed datagrams cannot make us flood.
	 */
	if (m->prompt && now - m->last_prompt >= m->o.keepalive_ms / 2) {
		m->last_prompt = now;
		m->next_send = now;
	}
	m->prompt = false;
	if (now >= m->next_send) {
		send_round(m, 0, now);
		m->next_send += m->o.keepalive_ms;
		if (m->next_send <= now) /* we were stalled: do not burst to catch up */
			m->next_send = now + m->o.keepalive_ms;
	}
	for (size_t i = 0; i < m->npeers; i++)
		for (unsigned l = 0; l < m->nlinks; l++)
			link_event(m, m->peers[i], l, HB_EV_TICK, now, "silence");
	return 0;
}

int hha_membership_stop(struct hha_membership *m)
{
	if (!m->running)
		return hha_error(-HHA_ESTATE, __func__, "not running");
	send_round(m, HB_F_LEAVING, hb_now(m));
	m->running = false;
	m->stopped = true;
	return 0;
}

int hha_membership_set_link_carrier(struct hha_membership *m, unsigned link, bool up)
{
	int64_t now = hb_now(m);

	if (link >= m->nlinks)
		return hha_error(-ENOENT, __func__, "no link %u", link);
	if (m->link[link].carrier == up)
		return 0;
	m->link[link].carrier = up;
	hha_notice(m->ctx, "net", "link %u (%s): carrier %s", link, m->link[link].addr,
		   up ? "back" : "lost");
	for (size_t i = 0; i < m->npeers; i++)
		if (m->peers[i]->has[link] && m->running)
			link_event(m, m->peers[i], link, up ? HB_EV_CARRIER_UP : HB_EV_CARRIER_DOWN,
				   now, "carrier");
	return 0;
}

int hha_membership_peer_state(const struct hha_membership *m, unsigned node_id,
			      struct hha_member_info *out)
{
	const struct hb_peer *p = node_id < 256 ? m->by_id[node_id] : NULL;

	if (!p)
		return hha_error(-ENOENT, __func__, "no peer %u", node_id);
	memset(out, 0, sizeof(*out));
	out->id = p->id;
	out->name = p->name;
	out->state = p->state;
	out->incarnation = p->accepted_inc;
	out->last_heard_ms = p->last_heard;
	out->ping_reached = p->ping_reached;
	out->leaving = p->leaving;
	out->nlinks = (unsigned)m->nlinks;
	for (size_t l = 0; l < m->nlinks; l++) {
		out->link[l].state = p->fsm[l].state;
		out->link[l].last_heard_ms = p->fsm[l].last_rx;
		out->link[l].received = p->rx[l];
	}
	return 0;
}

int hha_membership_peers(const struct hha_membership *m, unsigned *ids, size_t max)
{
	for (size_t i = 0; i < m->npeers && i < max; i++)
		ids[i] = m->peers[i]->id;
	return (int)m->npeers;
}

void hha_membership_counters(const struct hha_membership *m, struct hha_membership_counters *out)
{
	*out = m->cnt;
}

uint64_t hha_membership_incarnation(const struct hha_membership *m)
{
	return m->running || m->stopped ? m->incarnation : 0;
}

int hha_membership_ping_reached(const struct hha_membership *m)
{
	return hb_ping_reached(&m->ping, hb_now(m));
}

int hha_membership_ping_count(const struct hha_membership *m)
{
	return (int)m->ping.n;
}

void hha_membership_set_callback(struct hha_membership *m, hha_member_cb fn, void *userdata)
{
	m->cb = fn;
	m->cb_ud = userdata;
}
