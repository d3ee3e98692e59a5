/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A failing local store: detach it, and on a primary serve the export from the peer's copy (Diskless primary). */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "disk/engine.h"

/*
 * The first I/O error of the backing store decides, per on_io_error:
 *   pass-on       the request fails with the error; nothing else changes;
 *   detach        the store is given up (disk Diskless, its metadata marked
 *                 inconsistent if it can still be written). A primary with
 *                 a connected peer goes on as a Diskless primary: writes go
 *                 to the peer only (answered once it wrote them), reads are
 *                 fetched from it (READ_REQ / READ_REPLY), and the request
 *                 that failed is served that way too. A secondary answers
 *                 every write with the error, which makes the primary mark
 *                 it out of sync; its STATE says Diskless, and the primary
 *                 stops sending data and starts a new generation.
 *   call-handler  the local-io-error hook runs, then as detach.
 * Without a peer to serve from, a primary's requests fail with EIO.
 */

bool hha_ioerr_local(struct hha_disk *d, int err, bool can_absorb)
{
	bool absorb;

	pthread_mutex_lock(&d->lock);
	if (d->on_io_error == HHA_IO_ERROR_PASS_ON || d->dstate == HHA_DS_DISKLESS) {
		absorb = d->disk_failed && d->diskless_primary && can_absorb;
		pthread_mutex_unlock(&d->lock);
		return absorb;
	}
	if (!d->disk_failed) {
		d->disk_failed = true;
		hha_err(d->ctx, "disk", "%s: the backing store %s failed (%s): detaching it", d->name, d->backing,
			hha_strerror(err));
		if (d->on_io_error == HHA_IO_ERROR_CALL_HANDLER && d->hook_local_io_error)
			hha_disk_hook_async(d, d->hook_local_io_error, "local-io-error", 0, false);
		d->sb.flags &= ~(uint32_t)HHA_MDF_CONSISTENT;
		d->diskless_primary = d->role == HHA_ROLE_PRIMARY && d->linked && !d->peer_diskless;
		hha_disk_ds_event(d, HHA_DSE_DETACH);
		if (d->diskless_primary)
			hha_disk_post_event(d, "io-error", "%s: local I/O error (%s): detached, serving from the "
					    "peer's disk (Diskless primary)", d->name, hha_strerror(err));
		else
			hha_disk_post_event(d, "io-error", "%s: local I/O error (%s): detached%s", d->name,
					    hha_strerror(err), d->role == HHA_ROLE_PRIMARY ? ", no peer to serve from"
											   : ", Inconsistent");
		if (d->conn && d->linked)
			hha_conn_send_state(d->conn);
		/* Never again taken for a usable image, if the metadata can
		 * still say so: written without d->lock (a failing store can
		 * take long to fail again). */
		hha_disk_md_persist(d, false);
	}
	absorb = d->role == HHA_ROLE_PRIMARY ? d->diskless_primary && can_absorb : false;
	pthread_mutex_unlock(&d->lock);
	return absorb;
}

/* The peer lost its disk (its STATE says Diskless), d->lock held (released meanwhile). */
void hha_ioerr_peer_diskless(struct hha_disk *d)
{
	if (d->peer_diskless)
		return;
	d->peer_diskless = true;
	hha_warn(d->ctx, "disk", "%s: the peer's disk is Diskless: its copy is no longer written", d->name);
	/* Whatever it acknowledged since its last good flush may be gone. */
	hha_ep_to_bitmap(d);
	if (d->role == HHA_ROLE_PRIMARY && (!d->uuid_fresh || d->nc_pending))
		hha_disk_new_current(d, "the peer lost its disk");
	/* The marks to disk too, before the peer's failed writes (the frames
	 * after this STATE) are answered; without d->lock, like the id. */
	if (d->bm_loaded)
		hha_disk_md_persist(d, true);
}

/* Primary: a read served from the peer's copy. */

static void rr_sent(struct hha_conn *c, struct hha_sitem *si, int err)
{
	(void)c;
	(void)err;
	hha_op_put((struct hha_op *)((char *)si - offsetof(struct hha_op, si)));
}

void hha_remote_read(struct hha_disk *d, struct hha_op *op)
{
	struct hha_conn *c = d->conn;

	if (!c || !d->linked || d->peer_diskless || op->len > HHA_DISK_MAX_PAYLOAD) {
		/* No copy left to read: the local share ends with the error. */
		hha_op_fail_local(op, -EIO);
		return;
	}
	op->seq = ++d->seq;
	memset(&op->si, 0, sizeof(op->si));
	op->si.h.type = HHA_W_READ_REQ;
	op->si.h.seq = op->seq;
	op->si.h.offset = op->off;
	op->si.h.len = op->len;
	op->si.sent = rr_sent;
	/* The local share of the answer is now the peer's: it ends with READ_REPLY
	 * (or the link's teardown); the sender holds one more reference. */
	atomic_fetch_add(&op->pending, 1);
	op->remote = true;
	ADD(d->st_unacked, 1);
	hha_conn_ack_add(c, op);
	hha_conn_send(c, &op->si);
}

int hha_remote_read_reply(struct hha_conn *c, const struct hha_wire_hdr *h, void *buf, uint32_t cap)
{
	struct hha_op *op = hha_conn_ack_take(c, h->seq);
	int r = 0;

	if (!op || !op->remote || op->off != h->offset || op->len != h->len) {
		if (op) /* not ours to answer: put it back for the teardown */
			hha_conn_ack_add(c, op);
		r = -EPROTO;
	} else if (h->aux) {
		hha_warn(c->d->ctx, "disk", "%s: the peer could not read %llu+%u either: %s", c->d->name,
			 (unsigned long long)h->offset, h->len, hha_strerror(-(int)h->aux));
		hha_op_set_err(op, -(int)h->aux);
		hha_op_peer_settle(op, true);
	} else {
		memcpy(op->buf, buf, h->len);
		ADD(c->d->st_recv, h->len);
		hha_op_peer_settle(op, true);
	}
	if (cap)
		hha_pool_put(c->d, buf, cap);
	return r;
}

/* Secondary: read for a Diskless primary, in order with its writes. */

static void rd_run(struct hha_disk *d, struct hha_job *j)
{
	struct hha_op *op = (struct hha_op *)j;
	int r = d->disk_failed ? -EIO : hha_io_read(d, op->buf, op->len, op->off);
	struct hha_conn *c;

	SUB(d->st_pending, 1);
	pthread_mutex_lock(&d->lock);
	c = hha_disk_conn_if(d, op->conn_gen);
	hha_op_answer(d, c, op, HHA_W_READ_REPLY, 0, r, r < 0 ? 0 : op->len, r < 0 ? NULL : op->buf);
}

static void rd_start(struct hha_disk *d, struct hha_op *op)
{
	hha_op_push(d, op, rd_run);
}

int hha_sec_rx_read(struct hha_conn *c, const struct hha_wire_hdr *h)
{
	struct hha_disk *d = c->d;
	struct hha_op *op;

	if (h->len > HHA_DISK_MAX_PAYLOAD)
		return -EPROTO;
	op = calloc(1, sizeof(*op));
	if (!op || !(op->buf = hha_pool_get(d, h->len, &op->buflen))) {
		free(op);
		return -ENOMEM;
	}
	op->d = d;
	op->kind = HHA_OP_PEER;
	op->cmd = HHA_CMD_READ;
	op->conn_gen = c->gen;
	op->off = h->offset;
	op->len = h->len;
	op->peer_seq = h->seq;
	op->start = rd_start;
	atomic_init(&op->pending, 1);
	pthread_mutex_lock(&d->lock);
	if (d->role == HHA_ROLE_PRIMARY || d->conn != c) {
		pthread_mutex_unlock(&d->lock);
		hha_op_free(op);
		return -EPROTO;
	}
	op->seq = ++d->rx_order;
	hha_op_enter(d, op);
	pthread_mutex_unlock(&d->lock);
	return 0;
}
