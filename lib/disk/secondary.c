/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The secondary's data path: apply the primary's writes in its order, answer per protocol, honour barriers. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disk/engine.h"

/*
 * Received writes enter the in-flight tree in arrival order (which is the
 * primary's sequence order, TCP keeping it): overlapping ones are applied
 * one after the other, the others in parallel on the workers. Writes
 * between two barriers form an epoch; a barrier is flushed (fdatasync) and
 * answered once every write of its epoch and of all earlier epochs is on
 * the store, so a FLUSH on the primary covers the peer too.
 */

static void ack_sent(struct hha_conn *c, struct hha_sitem *si, int err)
{
	struct hha_op *op = (struct hha_op *)((char *)si - offsetof(struct hha_op, si));

	hha_op_put(op);
}

void hha_op_send_ack(struct hha_disk *d, struct hha_op *op, uint8_t type, uint32_t aux, bool wake)
{
	struct hha_conn *c = hha_disk_conn_if(d, op->conn_gen);

	if (!c)
		return;
	memset(&op->si, 0, sizeof(op->si));
	op->si.h.type = type;
	op->si.h.seq = op->peer_seq;
	op->si.h.aux = aux;
	if (type == HHA_W_RS_ACK) {
		op->si.h.offset = op->off;
		op->si.h.len = op->len;
	}
	op->si.sent = ack_sent;
	atomic_fetch_add(&op->pending, 1);
	if (wake)
		hha_conn_send(c, &op->si);
	else
		hha_conn_queue(c, &op->si);
}

struct hha_op *hha_op_rx_new(struct hha_conn *c, const struct hha_wire_hdr *h, void *buf, uint32_t cap,
			     enum hha_op_kind kind, void (*start)(struct hha_disk *d, struct hha_op *op))
{
	struct hha_op *op = calloc(1, sizeof(*op));

	if (!op) {
		hha_pool_put(c->d, buf, cap);
		return NULL;
	}
	op->d = c->d;
	op->kind = (uint8_t)kind;
	op->conn_gen = c->gen;
	op->cmd = h->type == HHA_W_TRIM ? HHA_CMD_TRIM : h->type == HHA_W_ZERO ? HHA_CMD_ZERO : HHA_CMD_WRITE;
	op->flags = h->flags;
	op->off = h->offset;
	op->len = h->len;
	op->buf = cap ? buf : NULL;
	op->buflen = cap;
	op->peer_seq = h->seq;
	op->start = start;
	atomic_init(&op->pending, 1);
	return op;
}

static void epochs_advance(struct hha_disk *d);

static void barrier_done(struct hha_disk *d, struct hha_job *j)
{
	struct hha_op *op = (struct hha_op *)j;
	int r = d->disk_failed ? -EIO : hha_io_flush(d);

	pthread_mutex_lock(&d->lock);
	hha_op_send_ack(d, op, HHA_W_ACK_BARRIER, r < 0 ? (uint32_t)-r : 0, true);
	pthread_mutex_unlock(&d->lock);
	hha_op_put(op);
}

/* Flush and answer every finished epoch at the head, in order (d->lock held). */
static void epochs_advance(struct hha_disk *d)
{
	while (d->ep_head && d->ep_head->closed && d->ep_head->outstanding == 0) {
		struct hha_epoch *e = d->ep_head;
		d->ep_head = e->next;
		if (!d->ep_head)
			d->ep_tail = NULL;
		if (e->conn_gen && hha_disk_conn_if(d, e->conn_gen)) {
			struct hha_op *op = calloc(1, sizeof(*op));
			if (op) {
				op->d = d;
				op->kind = HHA_OP_BARRIER;
				op->conn_gen = e->conn_gen;
				op->peer_seq = e->barrier_seq;
				atomic_init(&op->pending, 1);
				op->job.run = barrier_done;
				hha_workq_push(d, &op->job);
			}
		}
		free(e);
	}
}

static struct hha_epoch *epoch_open(struct hha_disk *d, struct hha_conn *c)
{
	struct hha_epoch *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->conn_gen = c->gen;
	if (d->ep_tail)
		d->ep_tail->next = e;
	else
		d->ep_head = e;
	d->ep_tail = e;
	return e;
}

int hha_sec_conn_start(struct hha_disk *d, struct hha_conn *c)
{
	return epoch_open(d, c) ? 0 : -ENOMEM;
}

void hha_sec_conn_end(struct hha_disk *d, struct hha_conn *c)
{
	/* Writes still in flight keep their epochs; nobody waits for the barriers. */
	for (struct hha_epoch *e = d->ep_head; e; e = e->next) {
		if (e->conn_gen == c->gen) {
			e->conn_gen = 0;
			e->closed = true;
		}
	}
	epochs_advance(d);
}

static void peer_write_done(struct hha_disk *d, struct hha_op *op, int r)
{
	pthread_mutex_lock(&d->lock);
	hha_ivtree_remove(&d->tree, &op->iv);
	hha_op_start_unblocked(d, op);
	if (d->net.protocol == 'C')
		hha_op_send_ack(d, op, HHA_W_ACK_WRITE, r < 0 ? (uint32_t)-r : 0, !op->run_inline);
	if (op->epoch) {
		op->epoch->outstanding--;
		epochs_advance(d);
	}
	pthread_mutex_unlock(&d->lock);
	SUB(d->st_pending, 1);
	hha_op_put(op);
}

static void run_peer_write(struct hha_disk *d, struct hha_job *j)
{
	struct hha_op *op = (struct hha_op *)j;
	bool failed = d->disk_failed;
	int r = failed ? -EIO
		       : hha_io_apply(d, op->cmd, op->buf, op->off, op->len, op->flags & HHA_WF_FUA,
				      !(op->flags & HHA_WF_NO_HOLE));

	if (r < 0 && !failed) {
		hha_warn(d->ctx, "disk", "%s: writing the peer's data at %llu+%u failed: %s", d->name,
			 (unsigned long long)op->off, op->len, hha_strerror(r));
		/* The answer carries the error: the primary marks it out of sync. */
		hha_ioerr_local(d, r, false);
	}
	/* The buffer is not needed for the answer: give it back early. */
	if (op->buflen) {
		hha_pool_put(d, op->buf, op->buflen);
		op->buf = NULL;
		op->buflen = 0;
	}
	peer_write_done(d, op, r);
}

static void start_peer_write(struct hha_disk *d, struct hha_op *op)
{
	if (op->inline_ok) {
		/* The receiver writes it itself once it released d->lock. */
		ADD(d->st_pending, 1);
		op->run_inline = true;
		return;
	}
	hha_op_push(d, op, run_peer_write);
}

int hha_sec_rx_write(struct hha_conn *c, const struct hha_wire_hdr *h, void *buf, uint32_t cap)
{
	struct hha_disk *d = c->d;
	struct hha_op *op = hha_op_rx_new(c, h, buf, cap, HHA_OP_PEER, start_peer_write);
	bool inl;

	if (!op)
		return -ENOMEM;
	pthread_mutex_lock(&d->lock);
	if (d->role == HHA_ROLE_PRIMARY || (d->dstate == HHA_DS_DISKLESS && !d->disk_failed) || d->conn != c ||
	    !d->linked) {
		pthread_mutex_unlock(&d->lock);
		hha_op_free(op);
		hha_conn_fail(c, "the peer sent a write while this node is %s, %s",
			      hha_disk_role_name(d->role), hha_disk_state_name(d->dstate));
		return -EPROTO;
	}
	op->seq = ++d->rx_order;
	op->epoch = d->ep_tail;
	if (op->epoch)
		op->epoch->outstanding++;
	if (d->net.protocol != 'C')
		hha_op_send_ack(d, op, HHA_W_ACK_RECV, 0, false); /* the receiver kicks */
	/* A small plain write costs less on this thread than a worker's wake-up. */
	op->inline_ok = inl = op->cmd == HHA_CMD_WRITE && !(op->flags & HHA_WF_FUA) &&
			      op->len <= HHA_DISK_INLINE_MAX && !d->is_blockdev;
	hha_op_enter(d, op);
	if (inl) {
		inl = op->run_inline;
		op->inline_ok = false;
	}
	pthread_mutex_unlock(&d->lock);
	if (inl)
		run_peer_write(d, &op->job);
	return 0;
}

int hha_sec_rx_barrier(struct hha_conn *c, const struct hha_wire_hdr *h)
{
	struct hha_disk *d = c->d;
	int r = 0;

	pthread_mutex_lock(&d->lock);
	if (d->ep_tail) {
		d->ep_tail->closed = true;
		d->ep_tail->barrier_seq = h->seq;
	}
	if (!epoch_open(d, c))
		r = -ENOMEM;
	epochs_advance(d);
	pthread_mutex_unlock(&d->lock);
	return r;
}

static void answer_sent(struct hha_conn *c, struct hha_sitem *si, int err)
{
	(void)c;
	(void)err;
	hha_op_put((struct hha_op *)((char *)si - offsetof(struct hha_op, si)));
}

void hha_op_answer(struct hha_disk *d, struct hha_conn *c, struct hha_op *op, uint8_t type, uint8_t flags,
		   int r, uint32_t plen, void *payload)
{
	if (c) {
		memset(&op->si, 0, sizeof(op->si));
		op->si.h.type = type;
		op->si.h.flags = flags;
		op->si.h.seq = op->peer_seq;
		op->si.h.offset = op->off;
		op->si.h.len = op->len;
		op->si.h.aux = r < 0 ? (uint32_t)-r : 0;
		op->si.h.plen = plen;
		op->si.payload = payload;
		op->si.sent = answer_sent;
		atomic_fetch_add(&op->pending, 1);
		hha_conn_send(c, &op->si);
	}
	hha_ivtree_remove(&d->tree, &op->iv);
	hha_op_start_unblocked(d, op);
	pthread_mutex_unlock(&d->lock);
	hha_op_put(op);
}
