/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The primary's data path: NBD requests in, local I/O and peer frames out, replies per protocol. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disk/engine.h"

/*
 * An application write is one struct hha_op. It gets the next sequence
 * number and enters the in-flight tree; if an earlier write overlaps it, it
 * waits there (so both nodes apply overlapping writes in sequence order).
 * Then, at once and from the client's own buffer (no copy), the local write
 * goes to a worker and the frame to the sender. The client is answered when:
 *   A: written locally and written into the socket (the sender is done with the buffer);
 *   B: written locally and the peer acknowledged receipt;
 *   C: written locally and the peer acknowledged its write.
 * Two counters: op->reply (the parts the answer waits for) and op->pending
 * (the op's lifetime: local I/O, the sender's reference to the embedded
 * frame, the peer's acknowledgement). Under A the op outlives the answer
 * until the peer acknowledged receipt, so a frame lost with the link is
 * still marked out of sync. A peer part that fails marks the range out of
 * sync; the write succeeds locally, after the new generation id was persisted.
 */

void hha_op_free(struct hha_op *op)
{
	if (op->al_n || op->al_big)
		hha_al_end(op->d, op);
	if (op->buflen)
		hha_pool_put(op->d, op->buf, op->buflen);
	free(op);
}

static void op_reply(struct hha_op *op)
{
	struct hha_disk *d = op->d;
	int err = atomic_load(&op->err);

	SUB(d->app_inflight, 1);
	if (op->cmd == HHA_CMD_WRITE && err == 0) {
		ADD(d->st_app_writes, 1);
		ADD(d->st_app_wbytes, op->len);
	}
	d->complete(op->req, err);
	op->req = NULL;
}

static void reply_put(struct hha_op *op)
{
	if (op->kind == HHA_OP_APP && atomic_fetch_sub(&op->reply, 1) == 1)
		op_reply(op);
}

static void release_peer_reply(struct hha_op *op)
{
	if (!atomic_exchange(&op->reply_released, true))
		reply_put(op);
}

void hha_op_put(struct hha_op *op)
{
	if (atomic_fetch_sub(&op->pending, 1) == 1) {
		if (op->finish)
			op->finish(op);
		hha_op_free(op);
	}
}

static void set_err(struct hha_op *op, int err)
{
	int zero = 0;

	if (err)
		atomic_compare_exchange_strong(&op->err, &zero, err);
}

void hha_op_set_err(struct hha_op *op, int err)
{
	set_err(op, err);
}

/* The peer part of an operation is decided exactly once. */
void hha_op_peer_settle(struct hha_op *op, bool ok)
{
	int none = 0;

	if (!atomic_compare_exchange_strong(&op->peer_res, &none, ok ? 1 : 2))
		return;
	SUB(op->d->st_unacked, 1);
	if (!ok && op->cmd == HHA_CMD_READ)
		set_err(op, -EIO); /* a read the peer served for a Diskless primary */
	else if (!ok && op->len && op->cmd != HHA_CMD_FLUSH)
		hha_bitmap_set_range(&op->d->bm, op->off, op->len);
	/* Nor here nor there: the write is lost. */
	if (!ok && atomic_load(&op->local_failed))
		set_err(op, -EIO);
	release_peer_reply(op);
	hha_op_put(op);
}

static void data_sent(struct hha_conn *c, struct hha_sitem *si, int err)
{
	struct hha_op *op = (struct hha_op *)((char *)si - offsetof(struct hha_op, si));
	struct hha_disk *d = op->d;

	/* In the socket is all protocol A answers after (and B for a flush).
	 * A failure is settled by the link teardown, after the new generation
	 * id is persisted. Either way the sender is done with the client's
	 * buffer, which the answer also waits for. */
	if (err == 0) {
		if (op->cmd == HHA_CMD_WRITE)
			ADD(d->st_sent, op->len);
		if (d->net.protocol == 'A' || (d->net.protocol == 'B' && op->cmd == HHA_CMD_FLUSH))
			release_peer_reply(op);
	}
	reply_put(op);
	hha_op_put(op);
}

static void local_done(struct hha_disk *d, struct hha_op *op, int r)
{
	/* A write the peer also got: its copy may carry it (on_io_error detach). */
	if (r < 0 && op->kind == HHA_OP_APP && op->cmd != HHA_CMD_READ && hha_ioerr_local(d, r, op->peer_part)) {
		atomic_store(&op->local_failed, true);
		r = atomic_load(&op->peer_res) == 2 ? -EIO : 0;
	}
	set_err(op, r);
	SUB(d->st_pending, 1);
	if (op->cmd != HHA_CMD_READ && op->cmd != HHA_CMD_FLUSH) {
		pthread_mutex_lock(&d->lock);
		hha_ivtree_remove(&d->tree, &op->iv);
		hha_op_start_unblocked(d, op);
		pthread_mutex_unlock(&d->lock);
	}
	reply_put(op);
	hha_op_put(op);
}

static void run_local(struct hha_disk *d, struct hha_job *j)
{
	struct hha_op *op = (struct hha_op *)j;
	int r = hha_io_apply(d, op->cmd, op->buf, op->off, op->len, op->flags & HHA_NBD_REQ_FUA,
			     !(op->flags & HHA_NBD_REQ_NO_HOLE));

	if (r < 0)
		hha_warn(d->ctx, "disk", "%s: local %s at %llu+%u failed: %s", d->name,
			 op->cmd == HHA_CMD_READ ? "read" : "write", (unsigned long long)op->off, op->len,
			 hha_strerror(r));
	/* A read the local store failed: the peer's copy answers, if on_io_error allows. */
	if (r < 0 && op->cmd == HHA_CMD_READ && hha_ioerr_local(d, r, true)) {
		SUB(d->st_pending, 1);
		pthread_mutex_lock(&d->lock);
		hha_remote_read(d, op);
		pthread_mutex_unlock(&d->lock);
		return;
	}
	local_done(d, op, r);
}

static uint8_t wire_type(uint8_t cmd)
{
	switch (cmd) {
	case HHA_CMD_WRITE: return HHA_W_DATA;
	case HHA_CMD_TRIM: return HHA_W_TRIM;
	case HHA_CMD_ZERO: return HHA_W_ZERO;
	default: return HHA_W_BARRIER;
	}
}

/* A write that would be answered without the peer (d->lock held). */
static bool alone_write(struct hha_disk *d, const struct hha_op *op)
{
	return op->kind == HHA_OP_APP && op->replicate && op->cmd != HHA_CMD_READ && op->cmd != HHA_CMD_FLUSH &&
	       !(d->conn && d->linked && !d->peer_diskless);
}

/* Start an operation: local part to a worker, peer part to the sender (d->lock held). */
void hha_op_start(struct hha_disk *d, struct hha_op *op)
{
	struct hha_conn *c = d->conn;

	/* A write answered without the peer waits until the new generation id
	 * is durable (hha_disk_new_current starts it then; a worker makes it
	 * if nobody does yet: a write that waited in the tree while the link
	 * went), and fails if it could not be written: a crash must never hide
	 * what the peer misses. */
	if (alone_write(d, op) && d->role == HHA_ROLE_PRIMARY &&
	    (d->nc_busy || d->nc_pending || !d->uuid_fresh)) {
		if (d->nc_busy || !d->nc_pending) {
			op->kicker = false;
			op->next = NULL;
			*d->nc_wait_tail = op;
			d->nc_wait_tail = &op->next;
			hha_disk_new_current_async(d);
		} else {
			hha_op_fail_local(op, -EIO);
		}
		return;
	}
	/* A write starts only once the activity log covers it. */
	if (op->kind == HHA_OP_APP && op->cmd != HHA_CMD_READ && op->cmd != HHA_CMD_FLUSH && !hha_al_begin(d, op))
		return;
	/* Diskless primary: the peer reads for us. */
	if (op->kind == HHA_OP_APP && op->cmd == HHA_CMD_READ && d->diskless_primary) {
		hha_remote_read(d, op);
		return;
	}
	if (op->replicate && c && d->linked && !d->peer_diskless) {
		struct hha_sitem *si = &op->si;
		memset(si, 0, sizeof(*si));
		si->h.type = wire_type(op->cmd);
		si->h.seq = op->seq;
		if (op->cmd != HHA_CMD_FLUSH) {
			si->h.offset = op->off;
			si->h.len = op->len;
			si->h.flags = (op->flags & HHA_NBD_REQ_FUA) ? HHA_WF_FUA : 0;
			if (op->cmd == HHA_CMD_ZERO && (op->flags & HHA_NBD_REQ_NO_HOLE))
				si->h.flags |= HHA_WF_NO_HOLE;
		}
		if (op->cmd == HHA_CMD_WRITE) {
			si->h.plen = op->len;
			si->payload = op->buf;
		}
		/* What the peer may hold unflushed, in the frames' order. */
		if (op->cmd == HHA_CMD_FLUSH)
			hha_ep_barrier(d, op->seq);
		else
			hha_ep_mark(d, op->off, op->len);
		si->sent = data_sent;
		atomic_fetch_add(&op->pending, 2); /* the sender's reference and the peer part */
		atomic_fetch_add(&op->reply, 2);   /* the sender's and the peer's share of the answer */
		ADD(d->st_unacked, 1);
		op->peer_part = true;
		hha_conn_ack_add(c, op);
		if (op->kicker)
			hha_conn_queue(c, si);
		else
			hha_conn_send(c, si);
	} else if (op->replicate) {
		/* The peer misses this one: remember it. */
		if (op->len && op->cmd != HHA_CMD_FLUSH)
			hha_bitmap_set_range(&d->bm, op->off, op->len);
	}
	/* Diskless primary: the peer's copy is the only one written. */
	if (op->kind == HHA_OP_APP && d->diskless_primary) {
		hha_op_fail_local(op, op->peer_part ? 0 : -EIO);
		return;
	}
	if (op->inline_ok) {
		/* The submitting thread does it once it released d->lock. */
		ADD(d->st_pending, 1);
		op->run_inline = true;
		return;
	}
	hha_op_push(d, op, run_local);
}

void hha_op_fail_local(struct hha_op *op, int err)
{
	struct hha_disk *d = op->d;

	set_err(op, err);
	if (op->cmd != HHA_CMD_READ && op->cmd != HHA_CMD_FLUSH) {
		hha_ivtree_remove(&d->tree, &op->iv);
		hha_op_start_unblocked(d, op);
	}
	reply_put(op);
	hha_op_put(op);
}

void hha_op_push(struct hha_disk *d, struct hha_op *op, void (*run)(struct hha_disk *d, struct hha_job *j))
{
	ADD(d->st_pending, 1);
	op->job.run = run;
	hha_workq_push(d, &op->job);
}

struct unblock_ctx {
	struct hha_disk *d;
	struct hha_op *list;
};

static void collect_unblocked(struct hha_ival *iv, void *ud)
{
	struct unblock_ctx *u = ud;
	struct hha_op *op = (struct hha_op *)((char *)iv - offsetof(struct hha_op, iv));

	if (op->waiting && !hha_ivtree_blocked(&u->d->tree, &op->iv)) {
		op->waiting = false;
		op->next = u->list;
		u->list = op;
	}
}

/* A node left the tree: start those that waited on it, in sequence order (d->lock held). */
void hha_op_start_unblocked(struct hha_disk *d, struct hha_op *done)
{
	struct unblock_ctx u = { d, NULL };
	struct hha_op *sorted = NULL;

	hha_ivtree_each_overlap(&d->tree, done->iv.start, done->iv.end, collect_unblocked, &u);
	/* Insertion sort by seq: usually one or two entries. */
	while (u.list) {
		struct hha_op *op = u.list, **pp = &sorted;
		u.list = op->next;
		while (*pp && (*pp)->seq < op->seq)
			pp = &(*pp)->next;
		op->next = *pp;
		*pp = op;
	}
	while (sorted) {
		struct hha_op *op = sorted;
		sorted = op->next;
		op->next = NULL;
		if (op->start)
			op->start(d, op);
		else
			hha_op_start(d, op);
	}
}

void hha_op_enter(struct hha_disk *d, struct hha_op *op)
{
	hha_op_enter_kick(d, op, false);
}

void hha_op_enter_kick(struct hha_disk *d, struct hha_op *op, bool caller_kicks)
{
	/* Only an op that starts now is the caller's to send; one that waits
	 * is started later by a thread that does not kick. */
	op->kicker = caller_kicks;
	/* Application reads and flushes order nothing (NBD gives in-flight requests no order). */
	if (op->kind == HHA_OP_APP && (op->cmd == HHA_CMD_READ || op->cmd == HHA_CMD_FLUSH)) {
		hha_op_start(d, op);
		return;
	}
	op->iv.start = op->off;
	op->iv.end = op->off + op->len;
	op->iv.seq = op->seq;
	hha_ivtree_insert(&d->tree, &op->iv);
	op->waiting = hha_ivtree_blocked(&d->tree, &op->iv);
	if (op->waiting) {
		op->kicker = false;
		return;
	}
	if (op->start)
		op->start(d, op);
	else
		hha_op_start(d, op);
}

void hha_disk_release_gate(struct hha_disk *d)
{
	struct hha_op *op;
	bool writes = false;

	/* Writes that go on without the peer wait for the new generation id
	 * (written without d->lock; the gate stays closed meanwhile). */
	for (op = d->gate_head; op; op = op->next)
		writes |= op->cmd != HHA_CMD_READ && op->cmd != HHA_CMD_FLUSH;
	if (writes && !d->linked && d->role == HHA_ROLE_PRIMARY && (!d->uuid_fresh || d->nc_pending))
		hha_disk_new_current(d, "writing without the peer");
	op = d->gate_head;
	d->gated = false;
	d->gate_head = NULL;
	d->gate_tail = &d->gate_head;
	while (op) {
		struct hha_op *next = op->next;
		op->next = NULL;
		op->replicate = true;
		hha_op_enter(d, op);
		op = next;
	}
}

void hha_disk_submit(void *ud, struct hha_nbd_req *req)
{
	struct hha_disk *d = ud;
	struct hha_op *op = calloc(1, sizeof(*op));
	struct hha_conn *c;
	bool run_inline;
	int err = 0;

	if (!op) {
		d->complete(req, -ENOMEM);
		return;
	}
	op->d = d;
	op->kind = HHA_OP_APP;
	op->req = req;
	op->cmd = (uint8_t)req->cmd;
	op->flags = (uint8_t)req->flags;
	op->off = req->offset;
	op->len = req->len;
	op->buf = req->buf;
	atomic_init(&op->pending, 1);
	atomic_init(&op->reply, 1);

	pthread_mutex_lock(&d->lock);
again:
	if (d->dstate == HHA_DS_DISKLESS && !d->diskless_primary)
		err = -EIO;
	else if (d->role != HHA_ROLE_PRIMARY && req->cmd != HHA_NBD_CMD_READ)
		err = -EPERM;
	else if (req->offset > d->size || req->len > d->size - req->offset)
		err = req->cmd == HHA_NBD_CMD_WRITE ? -ENOSPC : -EINVAL;
	else if (req->cmd != HHA_NBD_CMD_FLUSH && ((req->offset | req->len) & 511))
		err = -EINVAL;
	else if ((req->cmd == HHA_NBD_CMD_READ || req->cmd == HHA_NBD_CMD_WRITE) &&
		 (req->len == 0 || req->len > HHA_DISK_MAX_PAYLOAD))
		err = req->len == 0 ? -EINVAL : -EOVERFLOW;
	if (err) {
		pthread_mutex_unlock(&d->lock);
		free(op);
		d->complete(req, err);
		return;
	}
	/* A primary writing alone first makes a new generation, persisted
	 * (without d->lock) before any write is answered without the peer: a
	 * crash can never hide that the peer misses something. Writes that
	 * come meanwhile are held by hha_op_start. Then everything is checked
	 * again: the lock was released. (Past this point hha_op_start never
	 * fails a write for want of the id: it may run inline below.) */
	if (!d->gated && !(d->conn && d->linked && !d->peer_diskless) && req->cmd != HHA_NBD_CMD_READ &&
	    req->cmd != HHA_NBD_CMD_FLUSH &&
	    (!d->uuid_fresh || d->nc_pending) && !d->nc_busy) {
		if ((err = hha_disk_new_current(d, "writing without the peer")) < 0) {
			pthread_mutex_unlock(&d->lock);
			free(op);
			d->complete(req, err);
			return;
		}
		goto again;
	}
	ADD(d->app_inflight, 1);
	/* Small page-cache I/O is cheaper here than a worker's wake-up. */
	op->inline_ok = !d->is_blockdev && !d->diskless_primary && !(req->flags & HHA_NBD_REQ_FUA) &&
			req->len <= HHA_DISK_INLINE_MAX &&
			(req->cmd == HHA_NBD_CMD_READ || req->cmd == HHA_NBD_CMD_WRITE);
	if (req->cmd == HHA_NBD_CMD_READ) {
		ADD(d->st_app_reads, 1);
		/* Not inline, the op belongs to a worker (and may be gone) once started. */
		run_inline = op->inline_ok;
		hha_op_start(d, op);
		pthread_mutex_unlock(&d->lock);
		if (run_inline)
			run_local(d, &op->job);
		return;
	}
	op->seq = ++d->seq;
	if (d->gated) {
		/* The handshake is deciding whether this write goes to the peer. */
		op->inline_ok = false;
		op->next = NULL;
		*d->gate_tail = op;
		d->gate_tail = &op->next;
		pthread_mutex_unlock(&d->lock);
		return;
	}
	op->replicate = true;
	run_inline = op->inline_ok;
	hha_op_enter_kick(d, op, true);
	/* Only an op meant to run here is still ours to look at. If it waits,
	 * whoever unblocks it starts it on a worker. */
	if (run_inline) {
		run_inline = op->run_inline;
		op->inline_ok = false;
	}
	/* An op that waits is started later by a thread that does not kick. */
	c = hha_conn_ref(d);
	pthread_mutex_unlock(&d->lock);
	/* The frame first (the peer's part takes longest), then the local write. */
	if (c) {
		hha_conn_kick(c);
		hha_conn_unref(c);
	}
	if (run_inline)
		run_local(d, &op->job);
}
