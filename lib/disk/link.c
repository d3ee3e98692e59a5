/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The peer link: listen and connect, the authenticated handshake, the state exchange, and teardown. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "core/util.h"
#include "disk/engine.h"

/*
 * Both nodes listen and both connect, so either can come up first. Two
 * connections may cross: only one initiated by the node with the higher
 * instance id (a random number per engine, exchanged in HELLO) is kept.
 * The other side answers a crossing HELLO with REFUSE(YIELD) and connects
 * out at once instead. Either way exactly one connection survives, whatever
 * the timing, and no connection is dropped after it carried data.
 *
 * Handshake (docs/wire-protocol.md): HELLO both ways (versions, security
 * mode, protocol, resource name, nonce), then AUTH both ways (HMAC over both
 * HELLOs with the shared secret), then session keys; from then on every
 * frame is authenticated. Then STATE both ways; new writes are held back
 * (the gate) until both sides know whether they sync and in which direction.
 */

static int resolve(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res;
	char ps[16];
	int r;

	snprintf(ps, sizeof(ps), "%d", port);
	r = getaddrinfo(addr, ps, &hints, &res);
	if (r != 0)
		return hha_error(-EINVAL, NULL, "cannot resolve `%s': %s", addr, gai_strerror(r));
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void tune_socket(struct hha_disk *d, int fd)
{
	int one = 1;

	struct timeval tv = { d->net.timeout_ms / 1000, (d->net.timeout_ms % 1000) * 1000 };

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* A peer that stops reading cannot hold the sender (or an orderly close) for ever. */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (d->net.sndbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &d->net.sndbuf, sizeof(d->net.sndbuf));
}

int hha_link_listen(struct hha_disk *d)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, r;

	if ((r = resolve(d->net.local_addr, d->net.local_port, &ss, &len)) < 0)
		return r;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return hha_error(-errno, NULL, "socket: %s", hha_strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 8) < 0) {
		r = -errno;
		close(fd);
		return hha_error(r, NULL, "cannot listen on %s:%d: %s", d->net.local_addr,
				 d->net.local_port, hha_strerror(r));
	}
	d->listen_fd = fd;
	return 0;
}

static void describe(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[64], serv[16];

	if (getnameinfo((const struct sockaddr *)ss, sizeof(*ss), host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV) != 0)
		snprintf(buf, len, "?");
	else
		snprintf(buf, len, ss->ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, serv);
}

/* Connect with a timeout; the socket is left blocking. fd or -errno. */
static int connect_peer(struct hha_disk *d, char *desc, size_t desclen)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct pollfd p[2];
	int fd, err = 0, r;
	socklen_t elen = sizeof(err);

	if (resolve(d->net.peer_addr, d->net.peer_port, &ss, &len) < 0)
		return -EINVAL;
	describe(&ss, desc, desclen);
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (d->net.local_addr[0] && strcmp(d->net.local_addr, "0.0.0.0") && strcmp(d->net.local_addr, "::")) {
		/* Leave from the replication address, so the peer sees who we are. */
		struct sockaddr_storage la;
		socklen_t ll;
		if (resolve(d->net.local_addr, 0, &la, &ll) == 0 && la.ss_family == ss.ss_family)
			bind(fd, (struct sockaddr *)&la, ll);
	}
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		r = -errno;
		close(fd);
		return r;
	}
	p[0] = (struct pollfd){ .fd = fd, .events = POLLOUT };
	p[1] = (struct pollfd){ .fd = d->wake_fd, .events = POLLIN };
	r = poll(p, 2, d->net.connect_int_ms);
	if (r <= 0 || !(p[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
		close(fd);
		return r < 0 ? -errno : -ETIMEDOUT;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err) {
		close(fd);
		return -(err ? err : errno);
	}
	hha_set_nonblock(fd, false);
	tune_socket(d, fd);
	return fd;
}

/* Log a handshake problem, at most once a minute per distinct reason. */
static void hs_log(struct hha_disk *d, const char *peer, const char *fmt, ...) HHA_PRINTF(3, 4);
static void hs_log(struct hha_disk *d, const char *peer, const char *fmt, ...)
{
	static const int64_t quiet_ms = 60000;
	char msg[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&d->lock);
	/* A refusal that stopped the link (split brain, ...) stays what status says. */
	if (atomic_load(&d->link_stop) && d->last_refusal[0]) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	if (strcmp(msg, d->last_refusal) != 0 || hha_now_ms() - d->last_refusal_ms > quiet_ms) {
		snprintf(d->last_refusal, sizeof(d->last_refusal), "%s", msg);
		d->last_refusal_ms = hha_now_ms();
		hha_warn(d->ctx, "disk", "%s: peer %s: %s", d->name, peer, msg);
		hha_disk_post_event(d, "refused", "%s: peer %s: %s", d->name, peer, msg);
	}
	pthread_mutex_unlock(&d->lock);
}

static void send_plain(struct hha_conn *c, uint8_t type, uint32_t aux, const void *payload, uint32_t plen)
{
	uint8_t hdr[HHA_WIRE_HDR];
	struct hha_wire_hdr h = { .type = type, .plen = plen, .aux = aux };

	hha_wire_hdr_encode(&h, hdr);
	if (hha_conn_write_raw(c, hdr, sizeof(hdr)) == 0 && plen)
		hha_conn_write_raw(c, payload, plen);
}

static void refuse(struct hha_conn *c, uint32_t reason, const char *text)
{
	send_plain(c, HHA_W_REFUSE, reason, text, (uint32_t)HHA_MIN(strlen(text), HHA_WIRE_REFUSE_MAX));
}

/* Read one handshake frame of @type into @payload (exactly @len bytes). */
static int hs_read(struct hha_conn *c, uint8_t type, uint8_t *payload, uint32_t len, char *why, size_t wl)
{
	const struct hha_wire_limits lim = { HHA_WIRE_HANDSHAKE, 0, 0 };
	uint8_t hdr[HHA_WIRE_HDR];
	struct hha_wire_hdr h;
	const char *w;
	int r;

	r = hha_conn_read_raw(c, hdr, sizeof(hdr), c->d->net.timeout_ms);
	if (r < 0) {
		snprintf(why, wl, "no %s (%s)", hha_wire_type_name(type),
			 r == -ETIMEDOUT ? "timed out" : hha_strerror(r));
		return r;
	}
	if (hha_wire_hdr_decode(hdr, &lim, &h, &w) < 0) {
		snprintf(why, wl, "not our protocol (%s)", w);
		return -EPROTO;
	}
	if (h.type == HHA_W_REFUSE) {
		char text[HHA_WIRE_REFUSE_MAX + 1] = "";
		if (hha_conn_read_raw(c, text, h.plen, c->d->net.timeout_ms) == 0) {
			text[h.plen] = 0;
			for (uint32_t i = 0; i < h.plen; i++)
				if (text[i] < 32 || text[i] > 126)
					text[i] = '?';
		}
		snprintf(why, wl, "refused by the peer: %s%s%s", hha_wire_refuse_str(h.aux), *text ? ": " : "",
			 text);
		return h.aux == HHA_WR_YIELD ? -EAGAIN : -ECONNREFUSED;
	}
	if (h.type != type || h.plen != len) {
		snprintf(why, wl, "expected %s, got %s", hha_wire_type_name(type), hha_wire_type_name(h.type));
		return -EPROTO;
	}
	r = hha_conn_read_raw(c, payload, len, c->d->net.timeout_ms);
	if (r < 0)
		snprintf(why, wl, "%s cut short (%s)", hha_wire_type_name(type), hha_strerror(r));
	return r;
}

enum hs_result { HS_OK, HS_FAIL, HS_YIELD };

static enum hs_result handshake(struct hha_disk *d, struct hha_conn *c)
{
	struct hha_wire_hello me = { 0 }, peer;
	uint8_t mine[HHA_WIRE_HELLO_LEN], theirs[HHA_WIRE_HELLO_LEN], mac[HHA_WIRE_MAC], pmac[HHA_WIRE_MAC];
	const uint8_t *hi, *ha;
	char why[200];
	const char *w;
	int r;

	me.ver_min = HHA_WIRE_VERSION_MIN;
	me.ver_max = HHA_WIRE_VERSION_MAX;
	me.security = (uint8_t)d->net.security;
	me.protocol = (uint8_t)d->net.protocol;
	me.instance = d->instance;
	me.features = HHA_WIRE_FEATURES;
	if (RAND_bytes(me.nonce, sizeof(me.nonce)) != 1)
		return HS_FAIL;
	snprintf(me.name, sizeof(me.name), "%s", d->name);
	hha_wire_hello_encode(&me, mine);
	send_plain(c, HHA_W_HELLO, 0, mine, sizeof(mine));

	r = hs_read(c, HHA_W_HELLO, theirs, sizeof(theirs), why, sizeof(why));
	if (r == -EAGAIN)
		return HS_YIELD;
	if (r < 0) {
		hs_log(d, c->peer_desc, "handshake failed: %s", why);
		return HS_FAIL;
	}
	if (hha_wire_hello_decode(theirs, sizeof(theirs), &peer, &w) < 0) {
		hs_log(d, c->peer_desc, "handshake failed: malformed HELLO (%s)", w);
		return HS_FAIL;
	}
	if (peer.ver_max < HHA_WIRE_VERSION_MIN || peer.ver_min > HHA_WIRE_VERSION_MAX) {
		hs_log(d, c->peer_desc, "refused: the peer speaks wire versions %u..%u, we speak %u..%u",
		       peer.ver_min, peer.ver_max, HHA_WIRE_VERSION_MIN, HHA_WIRE_VERSION_MAX);
		refuse(c, HHA_WR_VERSION, "");
		return HS_FAIL;
	}
	if (strcmp(peer.name, d->name) != 0) {
		hs_log(d, c->peer_desc, "refused: the peer's resource is `%s', ours is `%s'", peer.name, d->name);
		refuse(c, HHA_WR_NAME, d->name);
		return HS_FAIL;
	}
	if (peer.security != me.security) {
		static const char *const modes[] = { "none", "auth", "encrypt" };
		hs_log(d, c->peer_desc, "refused: the peer uses security `%s', we use `%s'",
		       modes[peer.security], modes[me.security]);
		refuse(c, HHA_WR_SECURITY, modes[me.security]);
		return HS_FAIL;
	}
	if (peer.protocol != me.protocol) {
		char p[2] = { (char)me.protocol, 0 };
		hs_log(d, c->peer_desc, "refused: the peer uses protocol %c, we use %c", peer.protocol,
		       me.protocol);
		refuse(c, HHA_WR_PROTOCOL, p);
		return HS_FAIL;
	}
	/* Optional frames are sent only to a peer that announced them. */
	c->features = peer.features & me.features;
	if (peer.instance == me.instance) {
		hs_log(d, c->peer_desc, "refused: connected to ourselves (check the peer address)");
		return HS_FAIL;
	}
	/* The crossing rule: only the higher instance's connections survive. */
	if ((c->initiator ? me.instance : peer.instance) < (c->initiator ? peer.instance : me.instance)) {
		if (c->initiator)
			refuse(c, HHA_WR_YIELD, "");
		return HS_YIELD;
	}
	hi = c->initiator ? mine : theirs;
	ha = c->initiator ? theirs : mine;
	hha_wire_auth_mac(d->key, d->keylen, c->initiator, hi, ha, mac);
	send_plain(c, HHA_W_AUTH, 0, mac, sizeof(mac));
	r = hs_read(c, HHA_W_AUTH, pmac, sizeof(pmac), why, sizeof(why));
	if (r < 0) {
		hs_log(d, c->peer_desc, "handshake failed: %s", why);
		return HS_FAIL;
	}
	hha_wire_auth_mac(d->key, d->keylen, !c->initiator, hi, ha, mac);
	if (!hha_wire_mac_equal(mac, pmac)) {
		hs_log(d, c->peer_desc, "refused: authentication failed (wrong shared secret?)");
		refuse(c, HHA_WR_AUTH, "");
		return HS_FAIL;
	}
	if (hha_wire_sec_init(&c->sec, d->net.security, d->key, d->keylen, c->initiator ? me.nonce : peer.nonce,
			      c->initiator ? peer.nonce : me.nonce, c->initiator) < 0) {
		hs_log(d, c->peer_desc, "cannot derive session keys");
		return HS_FAIL;
	}
	return HS_OK;
}

/* After a connection ended: settle everything that waited for it. */
static void teardown(struct hha_disk *d, struct hha_conn *c)
{
	bool stopping = atomic_load(&d->link_stop);

	uint64_t lost;

	pthread_mutex_lock(&d->lock);
	d->linked = false;
	d->conn = NULL;
	/* What the peer acknowledged but may not have flushed: a crash of its
	 * node loses it. */
	lost = hha_ep_to_bitmap(d);
	hha_verify_abort(d);
	hha_resize_link_lost(d);
	if (lost)
		hha_info(d->ctx, "disk", "%s: %llu block(s) written since the peer's last flush marked out of sync",
			 d->name, (unsigned long long)lost);
	if (hha_cstate_linked(d->cstate) && !stopping)
		hha_disk_cs_event(d, HHA_CSE_LINK_LOST);
	hha_sec_conn_end(d, c);
	d->peer_known = false;
	d->peer_diskless = false;
	/* A Diskless primary has nothing left to serve from. */
	if (d->diskless_primary)
		hha_warn(d->ctx, "disk", "%s: Diskless primary without its peer: requests fail", d->name);
	if (!stopping)
		hha_disk_post_event(d, "peer-lost", "%s: peer %s: %s", d->name, c->peer_desc, c->fail_why);
	pthread_cond_broadcast(&d->cond);
	/* Frames the peer may not have got will be marked out of sync; the new
	 * generation id goes to disk before any of them is answered (the sweep
	 * below, on this thread) and before any new write is answered without
	 * the peer (hha_op_start holds them). Written without d->lock: a stalled
	 * store must not stall the loop now, when the peer is gone. No new
	 * connection starts meanwhile (rx_running). */
	if (d->role == HHA_ROLE_PRIMARY && (!d->uuid_fresh || d->nc_pending) && (GET(d->st_unacked) > 0 || lost))
		hha_disk_new_current(d, "lost the peer with writes in flight");
	pthread_mutex_unlock(&d->lock);
	hha_notice(d->ctx, "disk", "%s: connection to %s ended: %s", d->name, c->peer_desc, c->fail_why);

	/* An orderly close sends what is queued first; a failed link drops it. */
	if (atomic_load(&c->closing) && !atomic_load(&c->failed)) {
		hha_conn_stop_sender(c);
		hha_conn_fail(c, "link teardown");
	} else {
		hha_conn_fail(c, "link teardown");
		hha_conn_stop_sender(c);
	}
	hha_rs_stop(d);
	hha_conn_sweep_acks(c);
	pthread_mutex_lock(&d->lock);
	if (d->gated)
		hha_disk_release_gate(d);
	pthread_mutex_unlock(&d->lock);
	/* The marks are worth nothing if a crash can take them: to disk now. */
	if (d->bm_loaded && hha_md_bm_flush(d->md_fd, &d->sb, &d->bm) < 0)
		hha_warn(d->ctx, "disk", "%s: cannot write the bitmap after losing the peer", d->name);
	/* Threads that took a reference before d->conn was cleared finish first. */
	while (atomic_load(&c->users) > 0)
		usleep(1000);
	hha_conn_free(c);
}

static void *receiver_main(void *arg)
{
	struct hha_conn *c = arg;
	struct hha_disk *d = c->d;

	hha_info(d->ctx, "disk", "%s: connected to %s (%s), security %s", d->name, c->peer_desc,
		 c->initiator ? "outgoing" : "incoming",
		 d->net.security == HHA_SEC_NONE ? "none" : d->net.security == HHA_SEC_AUTH ? "auth" : "encrypt");
	hha_conn_receive(c);
	teardown(d, c);
	pthread_mutex_lock(&d->lock);
	d->rx_running--;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* Make @c the connection and start its receiver; false if one exists already. */
static bool claim(struct hha_disk *d, struct hha_conn *c)
{
	pthread_attr_t at;
	pthread_t th;
	int r;

	pthread_mutex_lock(&d->lock);
	/* Our STATE carries only a generation id that is on disk. */
	while (d->nc_busy)
		pthread_cond_wait(&d->cond, &d->lock);
	if (d->conn || d->rx_running || atomic_load(&d->link_stop)) {
		pthread_mutex_unlock(&d->lock);
		return false;
	}
	c->gen = ++d->conn_gen;
	d->conn = c;
	d->gated = true;
	r = hha_sec_conn_start(d, c);
	if (r == 0)
		r = hha_conn_start_sender(c);
	if (r == 0)
		hha_conn_send_state(c);
	if (r < 0)
		hha_conn_fail(c, "cannot start the connection: %s", hha_strerror(r));
	d->rx_running++;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&th, &at, receiver_main, c);
	pthread_attr_destroy(&at);
	pthread_mutex_unlock(&d->lock);
	if (r) {
		/* No thread: tear down here. */
		hha_conn_fail(c, "cannot start the receiver: %s", hha_strerror(r));
		teardown(d, c);
		pthread_mutex_lock(&d->lock);
		d->rx_running--;
		pthread_cond_broadcast(&d->cond);
		pthread_mutex_unlock(&d->lock);
	}
	return true;
}

/* Handshake on a new socket; on success the connection runs on its own thread. */
static void try_fd(struct hha_disk *d, int fd, bool initiator, const char *desc)
{
	struct hha_conn *c = hha_conn_new(d, fd, initiator);
	enum hs_result hr;

	if (!c) {
		close(fd);
		return;
	}
	snprintf(c->peer_desc, sizeof(c->peer_desc), "%s", desc);
	hr = handshake(d, c);
	if (hr == HS_OK) {
		if (claim(d, c))
			return;
		refuse(c, HHA_WR_BUSY, "");
	} else if (hr == HS_YIELD) {
		/* Crossing connections: the higher instance connects. Let the
		 * initiator read our HELLO and say goodbye first, so the close is
		 * orderly rather than a reset it would log. */
		if (!initiator) {
			char sink[256];
			shutdown(fd, SHUT_WR);
			while (hha_conn_read_raw(c, sink, sizeof(sink), 200) == 0)
				;
		}
		pthread_mutex_lock(&d->lock);
		d->next_connect_ms = initiator ? hha_now_ms() + 4 * d->net.connect_int_ms : 0;
		pthread_cond_broadcast(&d->cond);
		pthread_mutex_unlock(&d->lock);
	}
	hha_conn_free(c);
}

/* The connector: dial the peer whenever there is no connection. */
static void *connect_main(void *arg)
{
	struct hha_disk *d = arg;
	char desc[80];

	pthread_mutex_lock(&d->lock);
	d->next_connect_ms = 0;
	while (!atomic_load(&d->link_stop)) {
		int64_t now = hha_now_ms();
		int fd;

		if (d->conn || d->rx_running || now < d->next_connect_ms) {
			struct timespec ts;
			hha_ts_in(&ts, d->conn || d->rx_running ? 1000 : d->next_connect_ms - now);
			pthread_cond_timedwait(&d->cond, &d->lock, &ts);
			continue;
		}
		d->next_connect_ms = now + d->net.connect_int_ms;
		pthread_mutex_unlock(&d->lock);
		fd = connect_peer(d, desc, sizeof(desc));
		if (fd >= 0)
			try_fd(d, fd, true, desc);
		pthread_mutex_lock(&d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

/* The acceptor: answer whoever connects (only the authenticated peer gets further). */
static void *accept_main(void *arg)
{
	struct hha_disk *d = arg;

	while (!atomic_load(&d->link_stop)) {
		struct pollfd p[2] = { { .fd = d->listen_fd, .events = POLLIN }, { .fd = d->wake_fd, .events = POLLIN } };
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		char desc[80];
		int fd;

		if (poll(p, 2, 1000) <= 0)
			continue;
		if (p[1].revents) {
			uint64_t v;
			if (read(d->wake_fd, &v, sizeof(v)) < 0) {
				/* nothing to drain */
			}
			continue;
		}
		fd = accept4(d->listen_fd, (struct sockaddr *)&ss, &len, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		describe(&ss, desc, sizeof(desc));
		tune_socket(d, fd);
		try_fd(d, fd, false, desc);
	}
	/* Stop answering connection attempts at once (refusal or disconnect). */
	pthread_mutex_lock(&d->lock);
	if (d->listen_fd >= 0)
		close(d->listen_fd);
	d->listen_fd = -1;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int hha_link_start(struct hha_disk *d)
{
	int r;

	atomic_store(&d->link_stop, false);
	r = pthread_create(&d->link_thread, NULL, connect_main, d);
	if (r == 0) {
		r = pthread_create(&d->accept_thread, NULL, accept_main, d);
		if (r) {
			atomic_store(&d->link_stop, true);
			pthread_cond_broadcast(&d->cond);
			pthread_join(d->link_thread, NULL);
		}
	}
	if (r)
		return hha_error(-r, NULL, "cannot start the link threads: %s", hha_strerror(r));
	d->link_started = true;
	return 0;
}

void hha_link_stop(struct hha_disk *d)
{
	uint64_t one = 1;

	if (!d->link_started)
		return;
	atomic_store(&d->link_stop, true);
	pthread_mutex_lock(&d->lock);
	if (d->conn) {
		/* Tell the peer, so it logs a disconnect rather than a failure. */
		struct hha_sitem *si = hha_sitem_new(HHA_W_DISCONNECT, 0, 0, 0);
		if (si)
			hha_conn_send(d->conn, si);
		hha_conn_close(d->conn, "disconnected here");
	}
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (write(d->wake_fd, &one, sizeof(one)) < 0) {
		/* the counter is full: the thread is awake anyway */
	}
	pthread_join(d->link_thread, NULL);
	pthread_join(d->accept_thread, NULL);
	/* A connection claimed meanwhile ends too; wait for its teardown. */
	pthread_mutex_lock(&d->lock);
	while (d->rx_running) {
		if (d->conn && !atomic_load(&d->conn->closing))
			hha_conn_close(d->conn, "disconnected here");
		pthread_cond_wait(&d->cond, &d->lock);
	}
	pthread_mutex_unlock(&d->lock);
	d->link_started = false;
}
