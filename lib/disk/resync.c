/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resync: the source copies what its bitmap marks, in disk order, while the application keeps writing. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "disk/engine.h"

/*
 * The source's resync thread walks the bitmap from the start and reads runs
 * of marked blocks (up to 1 MiB) into RS_DATA frames; a bit is cleared when
 * the target acknowledges the write. Each block read is a node of the same
 * in-flight tree as application writes, with its own sequence number, and
 * it leaves the tree only once its frame is queued: an application write
 * overlapping it waits for it (and goes out after it), and a block overlapping
 * an application write in flight waits for that write's local completion (and
 * so reads the new data). The target applies both kinds in stream order, so
 * both sides end identical whether a write lands ahead of or behind the
 * sync position.
 *
 * Rate: a token bucket, at the limit set (syncer --rate), or else at the
 * controller's rate (below).
 */

static void rs_read_sent(struct hha_conn *c, struct hha_sitem *si, int err)
{
	struct hha_op *op = (struct hha_op *)((char *)si - offsetof(struct hha_op, si));

	if (err == 0)
		ADD(op->d->st_sent, op->len);
	hha_op_put(op);
}

static void rs_read_done(struct hha_disk *d, struct hha_job *j)
{
	struct hha_op *op = (struct hha_op *)j;
	int r = hha_io_read(d, op->buf, op->len, op->off);
	struct hha_conn *c;

	SUB(d->st_pending, 1);
	pthread_mutex_lock(&d->lock);
	c = d->conn;
	if (r == 0 && c && d->linked && d->cstate == HHA_CS_SYNCSOURCE) {
		memset(&op->si, 0, sizeof(op->si));
		op->si.h.type = HHA_W_RS_DATA;
		op->si.h.seq = op->seq;
		op->si.h.offset = op->off;
		op->si.h.len = op->len;
		op->si.h.plen = op->len;
		op->si.payload = op->buf;
		op->si.sent = rs_read_sent;
		atomic_fetch_add(&op->pending, 1);
		hha_conn_send(c, &op->si);
	} else {
		if (r < 0 && c)
			hha_conn_fail(c, "resync read at %llu failed: %s", (unsigned long long)op->off,
				      hha_strerror(r));
		d->rs_inflight -= op->len;
		pthread_cond_broadcast(&d->cond);
	}
	/* Queued (or dropped): overlapping application writes may go now. */
	hha_ivtree_remove(&d->tree, &op->iv);
	hha_op_start_unblocked(d, op);
	pthread_mutex_unlock(&d->lock);
	hha_op_put(op);
}

static void rs_read_start(struct hha_disk *d, struct hha_op *op)
{
	hha_op_push(d, op, rs_read_done);
}

struct hha_op *hha_op_new_local(struct hha_disk *d, enum hha_op_kind kind, uint64_t off, uint32_t len,
				void (*start)(struct hha_disk *d, struct hha_op *op))
{
	struct hha_op *op = calloc(1, sizeof(*op));

	if (op)
		op->buf = hha_pool_get(d, len, &op->buflen);
	if (!op || !op->buf) {
		free(op);
		return NULL;
	}
	op->d = d;
	op->kind = (uint8_t)kind;
	op->off = off;
	op->len = len;
	op->seq = ++d->seq;
	op->start = start;
	atomic_init(&op->pending, 1);
	return op;
}

int hha_rs_issue(struct hha_disk *d, uint64_t off, uint32_t len)
{
	struct hha_op *op = hha_op_new_local(d, HHA_OP_RS_READ, off, len, rs_read_start);

	if (!op)
		return -ENOMEM;
	d->rs_inflight += len;
	hha_op_enter(d, op);
	return 0;
}

/* The source is done: every block sent and acknowledged (d->lock held). */
static void rs_finish(struct hha_disk *d)
{
	struct hha_sitem *si;

	/* Everything sent is acknowledged: one barrier covers it all. */
	hha_disk_send_barrier(d);
	si = hha_sitem_new(HHA_W_RS_DONE, 0, 0, 0);

	if (si && d->conn)
		hha_conn_send(d->conn, si);
	else
		free(si);
	if (d->sb.uuid_bitmap) {
		hha_md_history_push(&d->sb, d->sb.uuid_bitmap);
		d->sb.uuid_bitmap = 0;
	}
	d->sb.sync_pos = 0;
	d->sb.flags &= ~(uint32_t)HHA_MDF_FULL_SYNC;
	hha_rs_crash_settled(d);
	/* Written without d->lock: a slow store must not stall the loop. */
	hha_disk_md_persist(d, true);
	if (d->cstate != HHA_CS_SYNCSOURCE)
		return; /* the link went meanwhile */
	hha_disk_cs_event(d, HHA_CSE_SYNC_DONE);
	hha_disk_post_event(d, "sync-done", "%s: sync finished as source, %llu MiB in %.1f s", d->name,
			    (unsigned long long)(d->rs_done_bytes >> 20),
			    (double)(hha_now_ms() - d->rs_start_ms) / 1000.0);
}

/* Sleep @ms with d->lock released, waking early on stop. */
static void rs_sleep(struct hha_disk *d, int ms)
{
	struct timespec ts;

	hha_ts_in(&ts, ms);
	pthread_cond_timedwait(&d->cond, &d->lock, &ts);
}

/*
 * The default rate controller (no --rate): the resync fills the link while
 * the application is idle, and yields to it when it writes. Every
 * CTL_PERIOD_MS it compares the application's write rate (requests/s)
 * with what it did before the resync (the status code's baseline, measured
 * while not syncing): below CTL_YIELD of it, the resync's rate drops
 * (x 0.8); at or above, it grows (x 1.1); with no application writes it is
 * unlimited. The floor keeps the resync moving.
 */
#define CTL_PERIOD_MS 100
#define CTL_YIELD 0.55
#define CTL_FLOOR (8.0 * 1048576)

struct rs_ctl {
	int64_t t0;
	uint64_t ops0, done0;
	double rate;      /* bytes/s, 0 = unlimited */
};

static void ctl_step(struct hha_disk *d, struct rs_ctl *ctl)
{
	int64_t now = hha_now_ms(), dt = now - ctl->t0;
	uint64_t ops = GET(d->st_app_writes), done = d->rs_done_bytes;
	double app = (double)(ops - ctl->ops0) * 1000.0 / (double)dt;
	double rs = (double)(done - ctl->done0) * 1000.0 / (double)dt;

	if (ctl->t0 && ops == ctl->ops0) {
		ctl->rate = 0;
	} else if (ctl->t0) {
		if (d->app_base <= 0)
			d->app_base = app;
		if (ctl->rate <= 0)
			ctl->rate = HHA_MAX(rs, CTL_FLOOR);
		ctl->rate = app < CTL_YIELD * d->app_base ? HHA_MAX(ctl->rate * 0.8, CTL_FLOOR) : ctl->rate * 1.1;
	}
	d->rs_ctl_rate = ctl->rate;
	ctl->t0 = now;
	ctl->ops0 = ops;
	ctl->done0 = done;
}

static void *rs_main(void *arg)
{
	struct hha_disk *d = arg;
	uint64_t nbits = d->size >> HHA_BM_BLOCK_SHIFT;
	double tokens = 0, rate;
	int64_t last = hha_now_ms();
	struct rs_ctl ctl0 = { 0 }, *ctl = &ctl0;

	pthread_mutex_lock(&d->lock);
	while (!atomic_load(&d->rs_stop) && d->cstate == HHA_CS_SYNCSOURCE && d->linked) {
		uint64_t window = HHA_DISK_RS_WINDOW, b, e, len;

		/* The target first sends what it marked itself (OOS), then RS_START. */
		if (!d->rs_peer_ready || d->rs_paused) {
			rs_sleep(d, 50);
			continue;
		}
		if (hha_now_ms() - ctl->t0 >= CTL_PERIOD_MS)
			ctl_step(d, ctl);
		if (d->rs_inflight >= window) {
			rs_sleep(d, 50);
			continue;
		}
		b = hha_bitmap_next_set(&d->bm, d->rs_cursor);
		if (b >= nbits) {
			d->rs_all_sent = true;
			if (d->rs_inflight == 0) {
				/* Bits set behind the cursor meanwhile (none while linked): go round. */
				if (hha_bitmap_next_set(&d->bm, 0) < nbits) {
					d->rs_cursor = 0;
					d->rs_all_sent = false;
					continue;
				}
				rs_finish(d);
				break;
			}
			rs_sleep(d, 50);
			continue;
		}
		e = hha_bitmap_next_clear(&d->bm, b);
		if (e > nbits)
			e = nbits;
		if (e - b > HHA_DISK_RS_CHUNK / HHA_BM_BLOCK)
			e = b + HHA_DISK_RS_CHUNK / HHA_BM_BLOCK;
		len = (e - b) << HHA_BM_BLOCK_SHIFT;
		rate = d->rs_rate ? (double)d->rs_rate : ctl->rate;
		if (rate > 0) {
			int64_t now = hha_now_ms();
			double cap = HHA_MAX(rate / 10, (double)HHA_DISK_RS_CHUNK);
			tokens += rate * (double)(now - last) / 1000.0;
			last = now;
			if (tokens > cap)
				tokens = cap;
			if (tokens < (double)len) {
				int ms = (int)(((double)len - tokens) * 1000.0 / rate) + 1;
				rs_sleep(d, ms > 100 ? 100 : ms);
				continue;
			}
			tokens -= (double)len;
		}
		/* With checksums, ask whether the target's copy differs first. */
		if ((d->csums ? hha_csum_probe(d, b << HHA_BM_BLOCK_SHIFT, (uint32_t)len, false)
			      : hha_rs_issue(d, b << HHA_BM_BLOCK_SHIFT, (uint32_t)len)) < 0) {
			rs_sleep(d, 100);
			continue;
		}
		d->rs_cursor = e;
		d->sb.sync_pos = b << HHA_BM_BLOCK_SHIFT;
	}
	d->rs_exited = true;
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int hha_rs_start(struct hha_disk *d)
{
	int r;

	if (d->rs_started && !d->rs_exited)
		return 0;
	/* The thread of an earlier sync on this connection has ended: reap it
	 * (it only returns after setting rs_exited). */
	if (d->rs_started)
		pthread_join(d->rs_thread, NULL);
	d->rs_started = false;
	d->rs_exited = false;
	d->rs_total = hha_bitmap_count(&d->bm) << HHA_BM_BLOCK_SHIFT;
	d->rs_done_bytes = 0;
	d->rs_start_ms = hha_now_ms();
	d->rs_cursor = 0;
	d->rs_inflight = 0;
	d->rs_unflushed = 0;
	d->rs_all_sent = false;
	atomic_store(&d->rs_stop, false);
	r = pthread_create(&d->rs_thread, NULL, rs_main, d);
	if (r)
		return -r;
	d->rs_started = true;
	return 0;
}

void hha_rs_stop(struct hha_disk *d)
{
	pthread_t th;

	pthread_mutex_lock(&d->lock);
	if (!d->rs_started) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	atomic_store(&d->rs_stop, true);
	pthread_cond_broadcast(&d->cond);
	th = d->rs_thread;
	d->rs_started = false;
	pthread_mutex_unlock(&d->lock);
	pthread_join(th, NULL);
}

void hha_rs_crash_settled(struct hha_disk *d)
{
	if (!d->crash_resync)
		return;
	d->crash_resync = false;
	d->sb.flags &= ~(uint32_t)HHA_MDF_PUSH_MARKS;
	if (d->role != HHA_ROLE_PRIMARY)
		d->sb.flags = (d->sb.flags & ~(uint32_t)HHA_MDF_CRASHED_PRIMARY) | HHA_MDF_AL_CLEAN;
}

void hha_rs_on_start(struct hha_conn *c)
{
	struct hha_disk *d = c->d;

	pthread_mutex_lock(&d->lock);
	if (d->conn == c && d->cstate == HHA_CS_SYNCSOURCE && !d->rs_peer_ready) {
		d->rs_peer_ready = true;
		d->rs_cursor = 0;
		d->rs_total = hha_bitmap_count(&d->bm) << HHA_BM_BLOCK_SHIFT;
		d->rs_done_bytes = 0;
		d->rs_start_ms = hha_now_ms();
		/* The target's marks are ours now: on disk before they can be cleared. */
		pthread_mutex_unlock(&d->lock);
		hha_md_bm_flush(d->md_fd, &d->sb, &d->bm);
		pthread_mutex_lock(&d->lock);
		pthread_cond_broadcast(&d->cond);
	}
	pthread_mutex_unlock(&d->lock);
}

void hha_rs_kick(struct hha_disk *d)
{
	pthread_cond_broadcast(&d->cond);
}

void hha_rs_on_ack(struct hha_conn *c, const struct hha_wire_hdr *h)
{
	struct hha_disk *d = c->d;

	pthread_mutex_lock(&d->lock);
	if (h->aux == 0) {
		hha_bitmap_clear_range(&d->bm, h->offset, h->len);
		d->rs_done_bytes += h->len;
		ADD(d->st_resynced, h->len);
		/* Written on the target, not yet flushed: a crash of its node would
		 * lose it. A barrier now and then bounds what must be redone. */
		hha_ep_mark(d, h->offset, h->len);
		d->rs_unflushed += h->len;
		if (d->rs_unflushed >= HHA_DISK_RS_BARRIER)
			hha_disk_send_barrier(d);
	} else {
		hha_warn(d->ctx, "disk", "%s: the sync target failed to write %llu+%u: %s", d->name,
			 (unsigned long long)h->offset, h->len, hha_strerror((int)h->aux));
	}
	d->rs_inflight -= HHA_MIN(d->rs_inflight, (uint64_t)h->len);
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	if (h->aux)
		hha_conn_fail(c, "the sync target could not write");
}

/* Target side. */

static void rs_write_done(struct hha_disk *d, struct hha_job *j)
{
	struct hha_op *op = (struct hha_op *)j;
	int r = d->disk_failed ? -EIO : hha_io_write(d, op->buf, op->len, op->off, false);

	if (r < 0)
		hha_ioerr_local(d, r, false);

	hha_pool_put(d, op->buf, op->buflen);
	op->buf = NULL;
	op->buflen = 0;
	SUB(d->st_pending, 1);
	pthread_mutex_lock(&d->lock);
	hha_ivtree_remove(&d->tree, &op->iv);
	hha_op_start_unblocked(d, op);
	if (r == 0) {
		d->rs_done_bytes += op->len;
		ADD(d->st_resynced, op->len);
		hha_bitmap_clear_range(&d->bm, op->off, op->len);
	}
	hha_op_send_ack(d, op, HHA_W_RS_ACK, r < 0 ? (uint32_t)-r : 0, true);
	pthread_mutex_unlock(&d->lock);
	hha_op_put(op);
}

static void rs_write_start(struct hha_disk *d, struct hha_op *op)
{
	hha_op_push(d, op, rs_write_done);
}

int hha_rs_rx_data(struct hha_conn *c, const struct hha_wire_hdr *h, void *buf, uint32_t cap)
{
	struct hha_disk *d = c->d;
	struct hha_op *op = hha_op_rx_new(c, h, buf, cap, HHA_OP_RS_WRITE, rs_write_start);

	if (!op)
		return -ENOMEM;
	pthread_mutex_lock(&d->lock);
	if (d->cstate != HHA_CS_SYNCTARGET || d->conn != c) {
		pthread_mutex_unlock(&d->lock);
		hha_op_free(op);
		hha_conn_fail(c, "resync data while %s", hha_conn_state_name(d->cstate));
		return -EPROTO;
	}
	op->seq = ++d->rx_order;
	hha_op_enter(d, op);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

void hha_rs_on_done(struct hha_conn *c)
{
	struct hha_disk *d = c->d;
	int r = hha_io_flush(d);

	pthread_mutex_lock(&d->lock);
	if (d->cstate != HHA_CS_SYNCTARGET || d->conn != c) {
		pthread_mutex_unlock(&d->lock);
		hha_conn_fail(c, "RS_DONE while %s", hha_conn_state_name(d->cstate));
		return;
	}
	if (r < 0) {
		pthread_mutex_unlock(&d->lock);
		hha_conn_fail(c, "cannot flush the synced data: %s", hha_strerror(r));
		return;
	}
	if (d->sb.uuid_current != d->peer.uuid_current)
		hha_md_history_push(&d->sb, d->sb.uuid_current);
	d->sb.uuid_current = d->peer.uuid_current;
	d->sb.uuid_bitmap = 0;
	d->sb.flags |= HHA_MDF_CONSISTENT;
	d->sb.flags &= ~(uint32_t)HHA_MDF_OUTDATED;
	d->discard_my_data = false;
	hha_rs_crash_settled(d);
	hha_bitmap_clear_all(&d->bm);
	hha_disk_md_persist(d, true);
	if (d->cstate != HHA_CS_SYNCTARGET || d->conn != c) {
		pthread_mutex_unlock(&d->lock); /* the link went meanwhile: the next handshake decides */
		return;
	}
	hha_disk_ds_event(d, HHA_DSE_SYNC_DONE);
	hha_disk_cs_event(d, HHA_CSE_SYNC_DONE);
	hha_conn_send_state(c);
	hha_disk_post_event(d, "sync-done", "%s: sync finished as target, %llu MiB in %.1f s", d->name,
			    (unsigned long long)(d->rs_done_bytes >> 20),
			    (double)(hha_now_ms() - d->rs_start_ms) / 1000.0);
	pthread_mutex_unlock(&d->lock);
}
