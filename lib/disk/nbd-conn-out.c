/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NBD connection reply path: request slots, reply headers, the output queue. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "disk/nbd-conn-impl.h"

/*
 * Replies. Whoever finishes a request appends its reply to the output queue
 * under the connection's lock; then, unless another thread is sending
 * already, it becomes the sender: it writes what is queued with the lock
 * dropped, in one non-blocking sendmsg (header and data of each reply
 * together), and goes on while more replies arrive, for a few rounds. So a
 * reply is normally written by the thread that completed it, with one system
 * call; completing threads never wait on each other's system calls, and
 * under load several replies share one sendmsg. What the socket does not
 * take waits, in order, for the driver, which writes it when the socket is
 * writable. A slot (and its buffer) stays busy until its last byte is out;
 * slots are bounded and the driver stops reading when none is free, so a
 * client that does not read its replies only stalls itself.
 */

#define SEND_IOV 64   /* iovecs per sendmsg: up to 32 replies */
#define SEND_ROUNDS 16 /* then a backend thread leaves the rest to the driver */

static void wake_locked(struct hha_nbd_conn *c)
{
	c->io.wake(c->io.ud);
}

struct hha_nbd_slot *hha_nbd_slot_get(struct hha_nbd_conn *c, uint32_t buflen)
{
	struct hha_nbd_slot *s;

	pthread_mutex_lock(&c->lock);
	s = c->free_list;
	if (!s || (buflen && c->inflight_bytes &&
		   c->inflight_bytes + buflen > HHA_NBD_CONN_INFLIGHT_BYTES)) {
		c->waiting = true;
		pthread_mutex_unlock(&c->lock);
		return NULL;
	}
	c->free_list = s->next;
	s->next = NULL;
	s->state = HHA_NBD_SLOT_READING;
	s->charge = buflen;
	c->inflight++;
	c->inflight_bytes += buflen;
	if (buflen > s->cap) {
		/* Rare (the slot's kept buffer is too small): page-aligned so a
		 * backend may use O_DIRECT. */
		size_t cap = ((size_t)buflen + 4095) & ~(size_t)4095;
		void *nb = NULL;

		c->buf_bytes -= s->cap;
		pthread_mutex_unlock(&c->lock);
		free(s->buf);
		if (posix_memalign(&nb, 4096, cap) != 0) {
			nb = NULL;
			cap = 0;
		}
		pthread_mutex_lock(&c->lock);
		s->buf = nb;
		s->cap = cap;
		c->buf_bytes += cap;
	}
	pthread_mutex_unlock(&c->lock);
	return s;
}

void hha_nbd_slot_release_locked(struct hha_nbd_conn *c, struct hha_nbd_slot *s)
{
	s->state = HHA_NBD_SLOT_FREE;
	c->inflight--;
	c->inflight_bytes -= s->charge;
	s->charge = 0;
	if (s->buf && c->buf_bytes > HHA_NBD_CONN_RETAIN_BYTES) {
		free(s->buf);
		c->buf_bytes -= s->cap;
		s->buf = NULL;
		s->cap = 0;
	}
	s->next = c->free_list;
	c->free_list = s;
	if (c->waiting) {
		c->waiting = false;
		wake_locked(c);
	}
	if (c->inflight == 0 && c->finishing) {
		wake_locked(c);
		pthread_cond_broadcast(&c->idle_cond);
	}
}

void hha_nbd_conn_drop_output_locked(struct hha_nbd_conn *c)
{
	struct hha_nbd_slot *s;

	c->dead = true;
	/* A sender is writing from these slots: it drops them when it is back. */
	if (c->sending)
		return;
	while ((s = c->outq_head)) {
		c->outq_head = s->next;
		hha_nbd_slot_release_locked(c, s);
	}
	c->outq_tail = NULL;
}

void hha_nbd_slot_submit(struct hha_nbd_conn *c, struct hha_nbd_slot *s)
{
	s->state = HHA_NBD_SLOT_BACKEND;
	c->sh->backend.submit(c->sh->backend.ud, &s->req);
}

/* Reply header and iovecs. Structured replies are used for READ (required)
 * and for errors (they carry a message); simple ones for the rest. */
static void build_reply(struct hha_nbd_conn *c, struct hha_nbd_slot *s, uint32_t werr,
			const char *why)
{
	bool is_read = s->type == HHA_NBD_CMD_READ;
	size_t n;

	s->iovcnt = 1;
	if (c->structured && (is_read || werr)) {
		if (werr) {
			n = hha_nbd_encode_error_chunk(s->hdr, sizeof(s->hdr), HHA_NBD_REPLY_FLAG_DONE,
						       s->cookie, werr, why);
		} else if (s->req.len == 0) {
			struct hha_nbd_chunk none = {
				.flags = HHA_NBD_REPLY_FLAG_DONE,
				.type = HHA_NBD_REPLY_TYPE_NONE,
				.cookie = s->cookie,
			};

			n = hha_nbd_encode_chunk(s->hdr, &none);
		} else {
			n = hha_nbd_encode_offset_data(s->hdr, HHA_NBD_REPLY_FLAG_DONE, s->cookie,
						       s->req.offset, s->req.len);
			s->iov[1].iov_base = s->req.buf;
			s->iov[1].iov_len = s->req.len;
			s->iovcnt = 2;
		}
	} else {
		n = hha_nbd_encode_simple_reply(s->hdr, werr, s->cookie);
		if (is_read && !werr && s->req.len) {
			s->iov[1].iov_base = s->req.buf;
			s->iov[1].iov_len = s->req.len;
			s->iovcnt = 2;
		}
	}
	s->iov[0].iov_base = s->hdr;
	s->iov[0].iov_len = n;
	s->left = n + (s->iovcnt == 2 ? s->iov[1].iov_len : 0);
}

/* The unsent tail of a slot's reply as iovecs; returns how many. */
static int slot_rest(const struct hha_nbd_slot *s, struct iovec *out)
{
	size_t skip = s->iov[0].iov_len + (s->iovcnt == 2 ? s->iov[1].iov_len : 0) - s->left;
	int n = 0;

	for (int i = 0; i < s->iovcnt; i++) {
		if (skip >= s->iov[i].iov_len) {
			skip -= s->iov[i].iov_len;
			continue;
		}
		out[n].iov_base = (uint8_t *)s->iov[i].iov_base + skip;
		out[n].iov_len = s->iov[i].iov_len - skip;
		skip = 0;
		n++;
	}
	return n;
}

/* Write the output queue. Called with the lock held and nobody sending;
 * returns with the lock held. */
static void send_queue_locked(struct hha_nbd_conn *c, bool from_driver)
{
	struct iovec iov[SEND_IOV];

	c->sending = true;
	for (int round = 0; c->outq_head && !c->dead; round++) {
		struct hha_nbd_slot *s;
		size_t total = 0, done;
		int cnt = 0;
		ssize_t n;

		if (round == SEND_ROUNDS) {
			if (!from_driver)
				wake_locked(c);
			break;
		}
		for (s = c->outq_head; s && cnt + 2 <= SEND_IOV; s = s->next) {
			cnt += slot_rest(s, iov + cnt);
			total += s->left;
		}
		/* The queued slots stay put while unlocked: only the sender
		 * removes them, others only append behind them. */
		pthread_mutex_unlock(&c->lock);
		n = c->io.send(c->io.ud, iov, cnt);
		pthread_mutex_lock(&c->lock);
		if (c->dead)
			break;
		if (n < 0 && n != -EAGAIN) {
			c->dead = true;
			if (!from_driver)
				wake_locked(c);
			break;
		}
		done = n > 0 ? (size_t)n : 0;
		while ((s = c->outq_head) && done >= s->left) {
			done -= s->left;
			c->outq_head = s->next;
			if (!c->outq_head)
				c->outq_tail = NULL;
			hha_nbd_slot_release_locked(c, s);
		}
		if (s && done)
			s->left -= done;
		if (n < 0 || (size_t)n < total) {
			/* The socket is full: the driver waits until it is writable. */
			c->out_blocked = true;
			if (!from_driver)
				wake_locked(c);
			break;
		}
	}
	c->sending = false;
	if (c->dead)
		hha_nbd_conn_drop_output_locked(c);
}

void hha_nbd_slot_finish(struct hha_nbd_conn *c, struct hha_nbd_slot *s, uint32_t werr,
			 const char *why, bool from_driver)
{
	build_reply(c, s, werr, why);
	pthread_mutex_lock(&c->lock);
	c->ctr.requests++;
	if (werr)
		c->ctr.errors++;
	else if (s->type == HHA_NBD_CMD_READ)
		c->ctr.bytes_read += s->req.len;
	else if (s->type == HHA_NBD_CMD_WRITE)
		c->ctr.bytes_written += s->req.len;
	s->state = HHA_NBD_SLOT_OUT;
	if (c->dead) {
		hha_nbd_slot_release_locked(c, s);
		goto out;
	}
	s->next = NULL;
	if (c->outq_tail)
		c->outq_tail->next = s;
	else
		c->outq_head = s;
	c->outq_tail = s;
	/* Otherwise the sender at work, or the driver once the socket is
	 * writable, takes it. */
	if (!c->sending && !c->out_blocked)
		send_queue_locked(c, from_driver);
out:
	pthread_mutex_unlock(&c->lock);
}

void hha_nbd_req_complete(struct hha_nbd_req *req, int err)
{
	struct hha_nbd_slot *s = (struct hha_nbd_slot *)req;

	if (s->state != HHA_NBD_SLOT_BACKEND) {
		/* A backend bug; answering twice would corrupt the stream. */
		hha_err(s->c->sh->ctx, "nbd", "%s: request completed twice or never submitted",
			s->c->label);
		return;
	}
	hha_nbd_slot_finish(s->c, s, hha_nbd_errno_to_wire(err), err ? hha_strerror(err) : NULL,
			    false);
}

/* Write the handshake output; false when the transport is full or broken. */
static bool flush_hs_locked(struct hha_nbd_conn *c)
{
	while (c->hs_off < c->hs_len) {
		struct iovec iov = { c->hs + c->hs_off, c->hs_len - c->hs_off };
		ssize_t n = c->io.send(c->io.ud, &iov, 1);

		if (n == -EAGAIN)
			return false;
		if (n < 0) {
			hha_nbd_conn_drop_output_locked(c);
			return false;
		}
		c->hs_off += (size_t)n;
	}
	c->hs_off = c->hs_len = 0;
	return true;
}

void hha_nbd_conn_flush(struct hha_nbd_conn *c)
{
	pthread_mutex_lock(&c->lock);
	if (c->dead) {
		c->hs_off = c->hs_len = 0;
		hha_nbd_conn_drop_output_locked(c);
		goto out;
	}
	if (!flush_hs_locked(c))
		goto out;
	c->out_blocked = false;
	if (!c->sending && c->outq_head)
		send_queue_locked(c, true);
out:
	pthread_mutex_unlock(&c->lock);
}
