/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One established peer connection: the sender thread, the receive loop, and matching acknowledgements. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "disk/engine.h"

#define BATCH_FRAMES 64
#define RBUF_SIZE (256u << 10)
#define SMALL_PAYLOAD (64u << 10)
#define ENC_SCRATCH (8u << 20)

static void set_why(struct hha_conn *c, const char *fmt, va_list ap) HHA_PRINTF(2, 0);
static void set_why(struct hha_conn *c, const char *fmt, va_list ap)
{
	if (!c->fail_why[0])
		vsnprintf(c->fail_why, sizeof(c->fail_why), fmt, ap);
}

void hha_conn_close(struct hha_conn *c, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&c->flock);
	va_start(ap, fmt);
	set_why(c, fmt, ap);
	va_end(ap);
	atomic_store(&c->closing, true);
	pthread_mutex_unlock(&c->flock);
	/* Wake the receiver; sending goes on until the queue is drained. */
	shutdown(c->fd, SHUT_RD);
}

void hha_conn_fail(struct hha_conn *c, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&c->flock);
	if (atomic_load(&c->failed)) {
		pthread_mutex_unlock(&c->flock);
		return;
	}
	va_start(ap, fmt);
	set_why(c, fmt, ap);
	va_end(ap);
	atomic_store(&c->failed, true);
	pthread_mutex_unlock(&c->flock);
	/* Wake both directions: a blocked writev or poll returns at once. */
	shutdown(c->fd, SHUT_RDWR);
}

struct hha_sitem *hha_sitem_new(uint8_t type, uint64_t seq, uint32_t aux, size_t payload_len)
{
	struct hha_sitem *si = calloc(1, sizeof(*si) + payload_len);

	if (!si)
		return NULL;
	si->h.type = type;
	si->h.seq = seq;
	si->h.aux = aux;
	si->h.plen = (uint32_t)payload_len;
	si->payload = payload_len ? (const void *)(si + 1) : NULL;
	return si;
}

static void free_sent(struct hha_conn *c, struct hha_sitem *si, int err)
{
	free(si);
}

static bool enqueue(struct hha_conn *c, struct hha_sitem *si, bool wake)
{
	bool ok;

	if (!si->sent)
		si->sent = free_sent;
	si->next = NULL;
	pthread_mutex_lock(&c->qlock);
	/* After the sender stopped nobody would run si->sent: tell the caller. */
	ok = !(c->qstop && !c->sender_started);
	if (ok) {
		*c->qtail = si;
		c->qtail = &si->next;
		if (wake && !c->busy)
			pthread_cond_signal(&c->qcond);
	}
	pthread_mutex_unlock(&c->qlock);
	if (!ok)
		si->sent(c, si, -ECONNRESET);
	return ok;
}

bool hha_conn_send(struct hha_conn *c, struct hha_sitem *si)
{
	return enqueue(c, si, true);
}

bool hha_conn_queue(struct hha_conn *c, struct hha_sitem *si)
{
	return enqueue(c, si, false);
}

void hha_conn_ack_add(struct hha_conn *c, struct hha_op *op)
{
	unsigned b = (unsigned)(op->seq % HHA_ACK_BUCKETS);

	pthread_mutex_lock(&c->alock);
	op->hnext = c->acks[b];
	c->acks[b] = op;
	pthread_mutex_unlock(&c->alock);
}

struct hha_op *hha_conn_ack_take(struct hha_conn *c, uint64_t seq)
{
	unsigned b = (unsigned)(seq % HHA_ACK_BUCKETS);
	struct hha_op **pp, *op = NULL;

	pthread_mutex_lock(&c->alock);
	for (pp = &c->acks[b]; *pp; pp = &(*pp)->hnext) {
		if ((*pp)->seq == seq) {
			op = *pp;
			*pp = op->hnext;
			op->hnext = NULL;
			break;
		}
	}
	pthread_mutex_unlock(&c->alock);
	return op;
}

void hha_conn_sweep_acks(struct hha_conn *c)
{
	for (unsigned b = 0; b < HHA_ACK_BUCKETS; b++) {
		for (;;) {
			struct hha_op *op;
			pthread_mutex_lock(&c->alock);
			op = c->acks[b];
			if (op)
				c->acks[b] = op->hnext;
			pthread_mutex_unlock(&c->alock);
			if (!op)
				break;
			op->hnext = NULL;
			hha_op_peer_settle(op, false);
		}
	}
}

/* Interval between frames on an idle link: often enough that the peer
 * hears from us well within its timeout. */
static int ping_interval(const struct hha_disk *d)
{
	int t = d->net.timeout_ms / 3;

	return d->net.ping_int_ms < t ? d->net.ping_int_ms : t;
}

static int write_iov(struct hha_conn *c, struct iovec *iov, int n)
{
	while (n > 0) {
		/* sendmsg, not writev: no SIGPIPE when the peer is gone (the
		 * library installs no signal handlers; the caller may have none). */
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)(n > IOV_MAX ? IOV_MAX : n) };
		ssize_t w = sendmsg(c->fd, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		while (n > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	return 0;
}

/* Write one batch of frames: header, payload (or its ciphertext), tag. */
static int send_batch(struct hha_conn *c, struct hha_sitem **items, int n)
{
	uint8_t hdr[BATCH_FRAMES][HHA_WIRE_HDR], tag[BATCH_FRAMES][HHA_WIRE_TAG];
	struct iovec iov[BATCH_FRAMES * 3];
	size_t taglen = hha_wire_sec_tag_len(&c->sec), scratch = 0;
	int k = 0;

	for (int i = 0; i < n; i++) {
		struct hha_sitem *si = items[i];
		const uint8_t *pl = si->payload;
		hha_wire_hdr_encode(&si->h, hdr[i]);
		iov[k++] = (struct iovec){ hdr[i], HHA_WIRE_HDR };
		/* Refusals carry no tag (see docs/wire-protocol.md). */
		if (si->h.type == HHA_W_REFUSE) {
			if (si->h.plen)
				iov[k++] = (struct iovec){ (void *)pl, si->h.plen };
			continue;
		}
		if (c->sec.mode == HHA_SEC_ENCRYPT && si->h.plen) {
			uint8_t *out = c->ctext + scratch;
			if (hha_wire_seal(&c->sec, hdr[i], pl, si->h.plen, out, tag[i]) < 0)
				return -EIO;
			pl = out;
			scratch += si->h.plen;
		} else if (hha_wire_seal(&c->sec, hdr[i], pl, si->h.plen, NULL, tag[i]) < 0) {
			return -EIO;
		}
		if (si->h.plen)
			iov[k++] = (struct iovec){ (void *)pl, si->h.plen };
		if (taglen)
			iov[k++] = (struct iovec){ tag[i], taglen };
	}
	return write_iov(c, iov, k);
}

/* Move a batch from the queue to @items (qlock held, busy set by the caller). */
static int take_batch(struct hha_conn *c, struct hha_sitem **items, size_t *payload)
{
	int n = 0;

	*payload = 0;
	/* In encrypt mode only as much payload as the scratch holds (or one frame). */
	while (c->qhead && n < BATCH_FRAMES) {
		struct hha_sitem *si = c->qhead;
		if (c->sec.mode == HHA_SEC_ENCRYPT && n > 0 && *payload + si->h.plen > c->ctext_len)
			break;
		*payload += si->h.plen;
		c->qhead = si->next;
		items[n++] = si;
	}
	if (!c->qhead)
		c->qtail = &c->qhead;
	return n;
}

/* Write a batch and run the frames' callbacks (busy held: one writer at a time). */
static void write_batch(struct hha_conn *c, struct hha_sitem **items, int n, size_t payload)
{
	if (c->tx_err == 0 && c->sec.mode == HHA_SEC_ENCRYPT && payload > c->ctext_len) {
		uint8_t *nb = realloc(c->ctext, payload);
		if (nb) {
			c->ctext = nb;
			c->ctext_len = payload;
		} else {
			c->tx_err = -ENOMEM;
		}
	}
	if (c->tx_err == 0) {
		c->tx_err = send_batch(c, items, n);
		if (c->tx_err < 0)
			hha_conn_fail(c, "sending failed: %s", hha_strerror(c->tx_err));
	}
	for (int i = 0; i < n; i++)
		items[i]->sent(c, items[i], c->tx_err);
}

void hha_conn_kick(struct hha_conn *c)
{
	struct hha_sitem *items[BATCH_FRAMES];
	size_t payload;
	int n;

	pthread_mutex_lock(&c->qlock);
	if (c->busy || !c->qhead || c->qstop) {
		pthread_mutex_unlock(&c->qlock);
		return;
	}
	c->busy = true;
	n = take_batch(c, items, &payload);
	pthread_mutex_unlock(&c->qlock);
	write_batch(c, items, n, payload);
	pthread_mutex_lock(&c->qlock);
	c->busy = false;
	c->last_tx_ms = hha_now_ms();
	/* Whatever came meanwhile is the sender's; a stopper may wait for !busy. */
	if (c->qhead || c->qstop)
		pthread_cond_broadcast(&c->qcond);
	pthread_mutex_unlock(&c->qlock);
}

struct hha_conn *hha_conn_ref(struct hha_disk *d)
{
	struct hha_conn *c = d->linked ? d->conn : NULL;

	if (c)
		atomic_fetch_add(&c->users, 1);
	return c;
}

void hha_conn_unref(struct hha_conn *c)
{
	if (c)
		atomic_fetch_sub(&c->users, 1);
}

static void *sender_main(void *arg)
{
	struct hha_conn *c = arg;
	struct hha_disk *d = c->d;
	struct hha_sitem *items[BATCH_FRAMES];

	for (;;) {
		size_t payload = 0;
		int n;

		pthread_mutex_lock(&c->qlock);
		for (;;) {
			struct timespec ts;
			int64_t due = c->last_tx_ms + ping_interval(d);
			if (!c->busy && (c->qhead || c->qstop || hha_now_ms() >= due))
				break;
			hha_ts_in(&ts, c->busy ? 100 : due - hha_now_ms());
			pthread_cond_timedwait(&c->qcond, &c->qlock, &ts);
		}
		/* Stopping: leave once everything queued went out. */
		if (c->qstop && !c->qhead) {
			pthread_mutex_unlock(&c->qlock);
			break;
		}
		c->busy = true;
		n = take_batch(c, items, &payload);
		pthread_mutex_unlock(&c->qlock);

		if (n == 0) {
			/* Idle: keep the link alive. */
			struct hha_sitem *ping = hha_sitem_new(HHA_W_PING, 0, 0, 0);
			if (ping) {
				ping->sent = free_sent;
				items[n++] = ping;
			}
		}
		if (n)
			write_batch(c, items, n, payload);
		pthread_mutex_lock(&c->qlock);
		c->busy = false;
		c->last_tx_ms = hha_now_ms();
		pthread_cond_broadcast(&c->qcond);
		pthread_mutex_unlock(&c->qlock);
	}
	return NULL;
}

int hha_conn_start_sender(struct hha_conn *c)
{
	int r;

	c->last_tx_ms = hha_now_ms();
	if (c->sec.mode == HHA_SEC_ENCRYPT) {
		c->ctext = malloc(ENC_SCRATCH);
		if (!c->ctext)
			return -ENOMEM;
		c->ctext_len = ENC_SCRATCH;
	}
	r = pthread_create(&c->sender, NULL, sender_main, c);
	if (r)
		return -r;
	c->sender_started = true;
	return 0;
}

/* Stop the sender after it drained the queue (failing what it cannot send). */
void hha_conn_stop_sender(struct hha_conn *c)
{
	struct hha_sitem *rest;

	pthread_mutex_lock(&c->qlock);
	c->qstop = true;
	pthread_cond_broadcast(&c->qcond);
	pthread_mutex_unlock(&c->qlock);
	if (c->sender_started)
		pthread_join(c->sender, NULL);
	pthread_mutex_lock(&c->qlock);
	/* A kicker may still be writing its batch. */
	while (c->busy)
		pthread_cond_wait(&c->qcond, &c->qlock);
	c->sender_started = false;
	rest = c->qhead;
	c->qhead = NULL;
	c->qtail = &c->qhead;
	pthread_mutex_unlock(&c->qlock);
	while (rest) {
		struct hha_sitem *next = rest->next;
		rest->sent(c, rest, -ECONNRESET);
		rest = next;
	}
}

void hha_conn_send_state(struct hha_conn *c)
{
	struct hha_sitem *si = hha_sitem_new(HHA_W_STATE, 0, 0, HHA_WIRE_STATE_LEN);
	struct hha_wire_state s;

	if (!si)
		return;
	hha_disk_fill_state(c->d, &s);
	/* What lets the handshake finish an interrupted resize (decide.c). */
	if (c->features & HHA_WIRE_F_SETTLE) {
		s.max_size = hha_resize_max(c->d);
		if (c->d->sb.la_size && c->d->sb.la_size == c->d->size)
			s.sflags |= HHA_WS_AGREED;
	}
	hha_wire_state_encode(&s, (uint8_t *)(si + 1));
	hha_conn_send(c, si);
}

/* Wait until @fd is readable, at most @timeout_ms. 1 ready, 0 timeout, <0 error. */
static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r;
}

/* Receive into @buf with the peer's timeout applied to silence. */
static int recv_some(struct hha_conn *c, void *buf, size_t n)
{
	for (;;) {
		ssize_t r = recv(c->fd, buf, n, MSG_DONTWAIT);
		int w;
		if (r > 0) {
			c->last_rx_ms = hha_now_ms();
			return (int)r;
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		if (c->failed)
			return -ECONNABORTED;
		w = wait_readable(c->fd, c->d->net.timeout_ms - (int)(hha_now_ms() - c->last_rx_ms));
		if (w < 0)
			return w;
		if (w == 0 && hha_now_ms() - c->last_rx_ms >= c->d->net.timeout_ms)
			return -ETIMEDOUT;
	}
}

int hha_conn_write_raw(struct hha_conn *c, const void *buf, size_t n)
{
	struct iovec iov = { (void *)buf, n };

	return write_iov(c, &iov, 1);
}

int hha_conn_read_raw(struct hha_conn *c, void *buf, size_t n, int timeout_ms)
{
	uint8_t *p = buf;
	int64_t deadline = hha_now_ms() + timeout_ms;

	/* Bytes already buffered first. */
	size_t have = c->rlen - c->rpos;
	if (have) {
		size_t k = have < n ? have : n;
		memcpy(p, c->rbuf + c->rpos, k);
		c->rpos += k;
		p += k;
		n -= k;
	}
	while (n > 0) {
		ssize_t r = recv(c->fd, p, n, MSG_DONTWAIT);
		if (r > 0) {
			p += r;
			n -= (size_t)r;
			continue;
		}
		if (r == 0)
			return -ECONNRESET;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		int left = (int)(deadline - hha_now_ms());
		if (left <= 0)
			return -ETIMEDOUT;
		int w = wait_readable(c->fd, left);
		if (w < 0)
			return w;
	}
	return 0;
}

/* Make at least @need bytes available in the receive buffer. */
static int rx_need(struct hha_conn *c, size_t need)
{
	if (c->rlen - c->rpos >= need)
		return 0;
	if (c->rpos) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	/* About to wait for the peer: send our answers first, from this thread. */
	hha_conn_kick(c);
	while (c->rlen < need) {
		int r = recv_some(c, c->rbuf + c->rlen, RBUF_SIZE - c->rlen);
		if (r < 0)
			return r;
		c->rlen += (size_t)r;
	}
	return 0;
}

/* Read @n payload bytes into @dst: what is buffered, then straight from the socket. */
static int rx_payload(struct hha_conn *c, uint8_t *dst, size_t n)
{
	size_t have = c->rlen - c->rpos, k = have < n ? have : n;

	memcpy(dst, c->rbuf + c->rpos, k);
	c->rpos += k;
	dst += k;
	n -= k;
	while (n > 0) {
		int r = recv_some(c, dst, n);
		if (r < 0)
			return r;
		dst += r;
		n -= (size_t)r;
	}
	return 0;
}

static void rx_ack(struct hha_conn *c, const struct hha_wire_hdr *h)
{
	struct hha_op *op;

	if (h->type == HHA_W_ACK_BARRIER && h->aux == 0) {
		pthread_mutex_lock(&c->d->lock);
		hha_ep_barrier_acked(c->d, h->seq);
		pthread_mutex_unlock(&c->d->lock);
	}
	op = hha_conn_ack_take(c, h->seq);

	if (!op)
		return; /* an answer we did not wait for (a barrier under A/B) */
	if (h->aux)
		hha_warn(c->d->ctx, "disk", "%s: the peer failed to write seq %llu: %s", c->d->name,
			 (unsigned long long)h->seq, hha_strerror((int)h->aux));
	hha_op_peer_settle(op, h->aux == 0);
}

static int dispatch(struct hha_conn *c, const struct hha_wire_hdr *h, uint8_t *payload, uint32_t cap)
{
	struct hha_disk *d = c->d;
	struct hha_wire_state st;
	const char *why;

	switch (h->type) {
	case HHA_W_STATE:
		if (hha_wire_state_decode(payload, h->plen, &st, &why) < 0) {
			hha_conn_fail(c, "malformed STATE: %s", why);
			return -EPROTO;
		}
		return hha_link_on_state(c, &st);
	case HHA_W_DATA:
	case HHA_W_TRIM:
	case HHA_W_ZERO:
		return hha_sec_rx_write(c, h, payload, cap);
	case HHA_W_BARRIER:
		return hha_sec_rx_barrier(c, h);
	case HHA_W_ACK_RECV:
	case HHA_W_ACK_WRITE:
	case HHA_W_ACK_BARRIER:
		rx_ack(c, h);
		return 0;
	case HHA_W_PING: {
		struct hha_sitem *pong = hha_sitem_new(HHA_W_PONG, 0, 0, 0);
		if (pong)
			hha_conn_queue(c, pong); /* the receiver kicks before it waits */
		return 0;
	}
	case HHA_W_PONG:
		return 0;
	case HHA_W_RS_DATA:
		return hha_rs_rx_data(c, h, payload, cap);
	case HHA_W_RS_ACK:
		hha_rs_on_ack(c, h);
		return 0;
	case HHA_W_RS_DONE:
		hha_rs_on_done(c);
		return 0;
	case HHA_W_OOS:
		hha_bitmap_set_range(&d->bm, h->offset, h->len);
		return 0;
	case HHA_W_RS_START:
		hha_rs_on_start(c);
		return 0;
	case HHA_W_CSUM_REQ:
		return hha_csum_rx_req(c, h, payload, cap);
	case HHA_W_READ_REQ:
		return hha_sec_rx_read(c, h);
	case HHA_W_READ_REPLY:
		return hha_remote_read_reply(c, h, payload, cap);
	case HHA_W_CSUM_REPLY:
		return hha_csum_rx_reply(c, h, payload);
	case HHA_W_RESIZE:
	case HHA_W_RESIZE_REPLY:
		return hha_resize_rx(c, h, payload);
	case HHA_W_DISCONNECT:
		/* A primary that leaves on purpose goes on without us. */
		pthread_mutex_lock(&d->lock);
		if (d->peer_known && d->peer.role == HHA_ROLE_PRIMARY && d->cstate == HHA_CS_CONNECTED)
			hha_disk_outdate_self(d, "the primary disconnected and goes on alone");
		pthread_mutex_unlock(&d->lock);
		hha_conn_fail(c, "the peer disconnected (%s)", hha_wire_refuse_str(h->aux));
		return -ECONNRESET;
	default:
		hha_conn_fail(c, "unexpected %s frame", hha_wire_type_name(h->type));
		return -EPROTO;
	}
}

void hha_conn_receive(struct hha_conn *c)
{
	struct hha_disk *d = c->d;
	size_t taglen = hha_wire_sec_tag_len(&c->sec);
	uint8_t small[HHA_WIRE_STATE_LEN + HHA_WIRE_REFUSE_MAX];

	c->last_rx_ms = hha_now_ms();
	while (!c->failed && !c->closing) {
		struct hha_wire_limits lim = { HHA_WIRE_RUNNING, d->size, HHA_DISK_MAX_PAYLOAD };
		struct hha_wire_hdr h;
		uint8_t hdr[HHA_WIRE_HDR], tag[HHA_WIRE_TAG];
		uint8_t *payload = small;
		uint32_t cap = 0;
		const char *why;
		int r;

		if ((r = rx_need(c, HHA_WIRE_HDR)) < 0) {
			if (c->closing)
				break;
			if (r == -ETIMEDOUT)
				hha_conn_fail(c, "the peer was silent for %d ms", d->net.timeout_ms);
			else
				hha_conn_fail(c, "connection lost (%s)", hha_strerror(r));
			break;
		}
		memcpy(hdr, c->rbuf + c->rpos, HHA_WIRE_HDR);
		c->rpos += HHA_WIRE_HDR;
		if (hha_wire_hdr_decode(hdr, &lim, &h, &why) < 0) {
			hha_conn_fail(c, "malformed frame from the peer: %s", why);
			break;
		}
		if (h.type == HHA_W_REFUSE) {
			/* Unauthenticated by design: it can only end the connection. */
			char text[HHA_WIRE_REFUSE_MAX + 1];
			if (rx_need(c, h.plen) == 0) {
				memcpy(text, c->rbuf + c->rpos, h.plen);
				text[h.plen] = 0;
				for (uint32_t i = 0; i < h.plen; i++)
					if (text[i] < 32 || text[i] > 126)
						text[i] = '?';
				hha_conn_fail(c, "the peer refused: %s (%s)", hha_wire_refuse_str(h.aux), text);
			} else {
				hha_conn_fail(c, "the peer refused: %s", hha_wire_refuse_str(h.aux));
			}
			break;
		}
		if (h.plen > sizeof(small)) {
			payload = hha_pool_get(d, h.plen, &cap);
			if (!payload) {
				hha_conn_fail(c, "out of memory for a %u-byte frame", h.plen);
				break;
			}
		}
		r = h.plen ? rx_payload(c, payload, h.plen) : 0;
		if (r == 0 && taglen)
			r = rx_payload(c, tag, taglen);
		if (r < 0) {
			hha_conn_fail(c, "connection lost (%s)", hha_strerror(r));
			if (cap)
				hha_pool_put(d, payload, cap);
			break;
		}
		if (hha_wire_open(&c->sec, hdr, payload, h.plen, tag) < 0) {
			hha_conn_fail(c, "a %s frame failed authentication (forged or corrupted)",
				      hha_wire_type_name(h.type));
			if (cap)
				hha_pool_put(d, payload, cap);
			break;
		}
		if (h.type == HHA_W_DATA || h.type == HHA_W_RS_DATA)
			ADD(d->st_recv, h.plen);
		/* DATA, RS_DATA, CSUM_REQ and READ_REPLY handlers own their (pooled) payload buffer. */
		if (cap && h.type != HHA_W_DATA && h.type != HHA_W_RS_DATA && h.type != HHA_W_CSUM_REQ &&
		    h.type != HHA_W_READ_REPLY) {
			hha_pool_put(d, payload, cap);
			payload = small;
			cap = 0;
		}
		r = dispatch(c, &h, payload, cap);
		if (r < 0 && !c->failed && !c->closing)
			hha_conn_fail(c, "%s frame rejected: %s", hha_wire_type_name(h.type), hha_strerror(r));
	}
}

struct hha_conn *hha_conn_new(struct hha_disk *d, int fd, bool initiator)
{
	struct hha_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->rbuf = malloc(RBUF_SIZE);
	if (!c->rbuf) {
		free(c);
		return NULL;
	}
	c->d = d;
	c->fd = fd;
	c->initiator = initiator;
	c->qtail = &c->qhead;
	pthread_mutex_init(&c->qlock, NULL);
	{
		/* The sender's idle wait uses the monotonic clock. */
		pthread_condattr_t ca;
		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&c->qcond, &ca);
		pthread_condattr_destroy(&ca);
	}
	pthread_mutex_init(&c->alock, NULL);
	pthread_mutex_init(&c->flock, NULL);
	return c;
}

void hha_conn_free(struct hha_conn *c)
{
	if (!c)
		return;
	hha_wire_sec_fini(&c->sec);
	if (c->fd >= 0)
		close(c->fd);
	pthread_mutex_destroy(&c->qlock);
	pthread_cond_destroy(&c->qcond);
	pthread_mutex_destroy(&c->alock);
	pthread_mutex_destroy(&c->flock);
	free(c->ctext);
	free(c->rbuf);
	free(c);
}
