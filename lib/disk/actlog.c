/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The engine's use of the activity log and of the peer's unflushed extents: what a crash can leave different. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk/engine.h"

/*
 * Three things can be lost by a crash, and each is covered here:
 *
 *  1. A crash of the primary: writes in flight (or in its page cache) may
 *     be on one side only. Before a write starts, every extent it touches is
 *     in the activity log on disk (hha_al_begin); an extent leaves the log
 *     only when no write is in flight in it and after an fdatasync of the
 *     data (the transaction's own), so at attach the extents of a crashed
 *     primary's log are exactly what to mark out of sync (hha_al_attach).
 *  2. The bitmap of a primary writing without its peer lives in memory and
 *     is written back lazily: the dirty bitmap pages are written in every
 *     log transaction, before an extent whose bits they hold can leave the
 *     log, so the log plus the bitmap on disk always cover every write.
 *  3. A crash of the peer's node loses what it acknowledged but had not
 *     flushed. The primary (and a sync source) remembers what it wrote
 *     since the peer's last completed barrier (two sets: the open epoch,
 *     and the epochs whose barrier is not yet answered) and marks them
 *     out of sync when the link breaks (hha_ep_to_bitmap).
 *
 * Transactions are written by the activity-log thread, for every write
 * waiting at that moment (group commit). A write whose range covers more
 * extents than an op can hold (large TRIM / WRITE_ZEROES) does not use the
 * log: its range is marked in the bitmap and written before it starts, and
 * cleared again once both sides completed it.
 */

static uint32_t op_max_extents(const struct hha_disk *d)
{
	uint32_t half = d->al.n / 2;

	return half < HHA_AL_OP_MAX ? half : HHA_AL_OP_MAX;
}

int hha_al_attach(struct hha_disk *d)
{
	bool corrupt = false;
	uint32_t marked = 0;
	int r;

	if ((r = hha_al_init(&d->al, d->sb.al_extents)) < 0)
		return r;
	if ((r = hha_al_load(d->md_fd, &d->sb, &d->al, &corrupt)) < 0) {
		hha_al_fini(&d->al);
		return r;
	}
	if (d->sb.flags & HHA_MDF_PUSH_MARKS)
		d->crash_resync = true;
	if (!(d->sb.flags & HHA_MDF_CRASHED_PRIMARY))
		return 0;
	if (corrupt) {
		hha_warn(d->ctx, "disk", "%s: the activity log of a crashed primary is corrupt: "
			 "every block counts as out of sync", d->name);
		hha_bitmap_set_all(&d->bm);
	} else {
		for (uint32_t s = 0; s < d->al.n; s++) {
			if (d->al.ext[s] == HHA_AL_NONE)
				continue;
			hha_bitmap_set_range(&d->bm, (uint64_t)d->al.ext[s] << HHA_AL_EXTENT_SHIFT, HHA_AL_EXTENT);
			marked++;
		}
	}
	d->crash_resync = true;
	hha_notice(d->ctx, "disk", "%s: this node crashed as primary: %u activity-log extent(s) marked "
		   "out of sync", d->name, marked);
	return hha_md_bm_flush(d->md_fd, &d->sb, &d->bm);
}

/* Take a reference on every extent of @op, if all are in the log on disk (d->lock held). */
static bool acquire(struct hha_disk *d, struct hha_op *op, uint32_t e0, uint32_t e1)
{
	int slots[HHA_AL_OP_MAX];

	for (uint32_t e = e0; e <= e1; e++) {
		int s = hha_al_lookup(&d->al, e);
		if (s < 0 || d->al.pending[s])
			return false;
		slots[e - e0] = s;
	}
	for (uint32_t e = e0; e <= e1; e++) {
		uint32_t s = (uint32_t)slots[e - e0];
		__atomic_fetch_add(&d->al.refs[s], 1, __ATOMIC_ACQ_REL);
		d->al.refbit[s] = 1;
		op->al_slot[op->al_n++] = s;
	}
	return true;
}

static void op_extents(const struct hha_op *op, uint32_t *e0, uint32_t *e1)
{
	uint64_t len = op->len ? op->len : 1;

	*e0 = (uint32_t)(op->off >> HHA_AL_EXTENT_SHIFT);
	*e1 = (uint32_t)((op->off + len - 1) >> HHA_AL_EXTENT_SHIFT);
}

bool hha_al_begin(struct hha_disk *d, struct hha_op *op)
{
	uint32_t e0, e1;

	if (op->al_done)
		return true;
	if (d->diskless_primary) {
		op->al_done = true; /* nothing local to protect */
		return true;
	}
	op_extents(op, &e0, &e1);
	if (e1 - e0 < op_max_extents(d) && d->al_running && acquire(d, op, e0, e1)) {
		op->al_done = true;
		return true;
	}
	if (!d->al_running) {
		/* No log (detaching): nothing to protect against. */
		op->al_done = true;
		return true;
	}
	/* Whoever started it must not send or run it. */
	op->kicker = false;
	op->run_inline = false;
	op->next = NULL;
	*d->al_wait_tail = op;
	d->al_wait_tail = &op->next;
	pthread_cond_signal(&d->al_cond);
	return false;
}

void hha_al_end(struct hha_disk *d, struct hha_op *op)
{
	for (uint8_t i = 0; i < op->al_n; i++)
		__atomic_fetch_sub(&d->al.refs[op->al_slot[i]], 1, __ATOMIC_ACQ_REL);
	op->al_n = 0;
	if (op->al_big && atomic_load(&op->peer_res) == 1 && atomic_load(&op->err) == 0)
		hha_bitmap_clear_range(&d->bm, op->off, op->len);
}

/* Place the extents @op lacks into the log (d->lock held); false when no slot is free. */
static bool plan(struct hha_disk *d, struct hha_op *op)
{
	uint32_t e0, e1;

	op_extents(op, &e0, &e1);
	if (e1 - e0 >= op_max_extents(d)) {
		/* Persist the range as out of sync instead (written with the transaction). */
		hha_bitmap_set_range(&d->bm, op->off, op->len);
		op->al_big = true;
		return true;
	}
	for (uint32_t e = e0; e <= e1; e++) {
		int s = hha_al_lookup(&d->al, e);
		if (s >= 0)
			continue;
		s = hha_al_victim(&d->al);
		if (s < 0)
			return false;
		hha_al_assign(&d->al, (uint32_t)s, e);
	}
	/* A sequential writer goes on into the next extent: take it in the same
	 * transaction if a slot is free, so it does not wait at the boundary. */
	if (((uint64_t)e1 + 1) << HHA_AL_EXTENT_SHIFT < d->size && hha_al_lookup(&d->al, e1 + 1) < 0 &&
	    hha_al_lookup(&d->al, e1) >= 0 && e1 > 0 && hha_al_lookup(&d->al, e1 - 1) >= 0) {
		int s = hha_al_victim(&d->al);
		if (s >= 0)
			hha_al_assign(&d->al, (uint32_t)s, e1 + 1);
	}
	return true;
}

/* Write the planned transaction: bitmap pages first, then the log, one sync
 * (which also makes the data of the evicted extents durable). d->lock not held. */
static int commit(struct hha_disk *d)
{
	int r = hha_md_bm_write_dirty(d->md_fd, &d->sb, &d->bm);

	if (r == 0)
		r = hha_al_write_dirty(d->md_fd, &d->sb, &d->al);
	if (r == 0 && d->md_fd != d->fd && fdatasync(d->fd) < 0)
		r = -errno;
	if (r == 0 && fdatasync(d->md_fd) < 0)
		r = -errno;
	return r;
}

static void *al_main(void *arg)
{
	struct hha_disk *d = arg;

	pthread_mutex_lock(&d->lock);
	while (!d->al_stop) {
		struct hha_op *op, *ready = NULL, **rtail = &ready;
		bool starved = false, any = false;
		int r;

		if (!d->al_wait_head || d->al_paused) {
			/* Held while the metadata moves (resize.c). */
			pthread_cond_wait(&d->al_cond, &d->lock);
			continue;
		}
		/* Plan for the waiting writes in order; stop at the first that finds no room. */
		for (op = d->al_wait_head; op; op = op->next) {
			if (!op->al_big && !plan(d, op)) {
				starved = true;
				break;
			}
			any = true;
		}
		if (!any) {
			struct timespec ts;
			hha_ts_in(&ts, 2);
			pthread_cond_timedwait(&d->al_cond, &d->lock, &ts);
			continue;
		}
		d->al_busy = true;
		pthread_mutex_unlock(&d->lock);
		r = commit(d);
		pthread_mutex_lock(&d->lock);
		d->al_busy = false;
		pthread_cond_broadcast(&d->cond);
		if (r < 0)
			hha_err(d->ctx, "disk", "%s: cannot write the activity log: %s", d->name, hha_strerror(r));
		hha_al_committed(&d->al);
		ADD(d->st_al_txns, 1);
		/* Start every waiting write whose extents are all in place now, in order. */
		for (struct hha_op **pp = &d->al_wait_head; (op = *pp);) {
			uint32_t e0, e1;
			op_extents(op, &e0, &e1);
			if (op->al_big || acquire(d, op, e0, e1)) {
				*pp = op->next;
				op->al_done = true;
				op->next = NULL;
				*rtail = op;
				rtail = &op->next;
			} else {
				pp = &op->next;
			}
		}
		d->al_wait_tail = &d->al_wait_head;
		while (*d->al_wait_tail)
			d->al_wait_tail = &(*d->al_wait_tail)->next;
		while ((op = ready)) {
			ready = op->next;
			op->next = NULL;
			hha_op_start(d, op);
		}
		(void)starved;
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

int hha_al_start(struct hha_disk *d)
{
	int r;

	d->al_stop = false;
	d->al_wait_head = NULL;
	d->al_wait_tail = &d->al_wait_head;
	r = pthread_create(&d->al_thread, NULL, al_main, d);
	if (r)
		return -r;
	d->al_running = true;
	return 0;
}

void hha_al_stop(struct hha_disk *d)
{
	struct hha_op *op;

	if (!d->al_running)
		return;
	pthread_mutex_lock(&d->lock);
	d->al_stop = true;
	d->al_running = false;
	pthread_cond_signal(&d->al_cond);
	pthread_mutex_unlock(&d->lock);
	pthread_join(d->al_thread, NULL);
	/* Writes still waiting go ahead unprotected: the log is closing with the disk. */
	pthread_mutex_lock(&d->lock);
	while ((op = d->al_wait_head)) {
		d->al_wait_head = op->next;
		op->next = NULL;
		op->al_done = true;
		hha_op_start(d, op);
	}
	d->al_wait_tail = &d->al_wait_head;
	pthread_mutex_unlock(&d->lock);
	hha_al_fini(&d->al);
}

/*
 * The peer's unflushed writes: two sets, the open epoch (since our last
 * barrier) and the epochs whose barrier is not answered yet. Each is a list
 * of ranges (one per write, adjacent ones merged) up to EP_MAX entries, and
 * by 4 MiB extent beyond that. A barrier goes out once the open list holds
 * EP_BARRIER entries, and once a second while writes come (hhad's loop), so
 * the lists stay short and a crash of the peer's node costs the resync of
 * about a second of writes.
 */
#define EP_MAX 65536u
#define EP_BARRIER 16384u

static void set_add(struct hha_disk *d, struct hha_epset *s, uint64_t off, uint64_t len)
{
	if (s->n && s->r[s->n - 1].off + s->r[s->n - 1].len == off && s->r[s->n - 1].len + len < (1ull << 32)) {
		s->r[s->n - 1].len += len;
		return;
	}
	if (s->n < EP_MAX) {
		s->r[s->n].off = off;
		s->r[s->n].len = len;
		s->n++;
		return;
	}
	for (uint64_t e = off >> HHA_AL_EXTENT_SHIFT; e <= (off + len - 1) >> HHA_AL_EXTENT_SHIFT; e++)
		if (e / 64 < d->ep_words)
			s->ext[e / 64] |= 1ull << (e % 64);
	s->ext_any = true;
}

static void set_clear(struct hha_disk *d, struct hha_epset *s)
{
	s->n = 0;
	if (s->ext_any)
		memset(s->ext, 0, d->ep_words * sizeof(uint64_t));
	s->ext_any = false;
}

int hha_ep_init(struct hha_disk *d)
{
	uint64_t next = (d->sb.usable_size + HHA_AL_EXTENT - 1) >> HHA_AL_EXTENT_SHIFT;

	d->ep_words = (size_t)((next + 63) / 64);
	d->ep_barrier = 0;
	for (int i = 0; i < 2; i++) {
		struct hha_epset *s = &d->ep[i];
		memset(s, 0, sizeof(*s));
		s->r = malloc(sizeof(*s->r) * EP_MAX);
		s->ext = calloc(d->ep_words ? d->ep_words : 1, sizeof(uint64_t));
		if (!s->r || !s->ext)
			return -ENOMEM;
	}
	return 0;
}

int hha_ep_grow(struct hha_disk *d)
{
	uint64_t next = (d->sb.usable_size + HHA_AL_EXTENT - 1) >> HHA_AL_EXTENT_SHIFT;
	size_t words = (size_t)((next + 63) / 64);

	if (words <= d->ep_words)
		return 0;
	for (int i = 0; i < 2; i++) {
		uint64_t *ext = realloc(d->ep[i].ext, words * sizeof(uint64_t));
		if (!ext)
			return -ENOMEM;
		memset(ext + d->ep_words, 0, (words - d->ep_words) * sizeof(uint64_t));
		d->ep[i].ext = ext;
	}
	d->ep_words = words;
	return 0;
}

void hha_ep_fini(struct hha_disk *d)
{
	for (int i = 0; i < 2; i++) {
		free(d->ep[i].r);
		free(d->ep[i].ext);
		memset(&d->ep[i], 0, sizeof(d->ep[i]));
	}
	d->ep_words = 0;
}

void hha_ep_mark(struct hha_disk *d, uint64_t off, uint64_t len)
{
	if (!d->ep[0].r || len == 0)
		return;
	set_add(d, &d->ep[0], off, len);
	if (d->ep[0].n >= EP_BARRIER)
		hha_disk_send_barrier(d);
}

void hha_disk_send_barrier(struct hha_disk *d)
{
	struct hha_sitem *si;

	d->rs_unflushed = 0;
	d->ep_last_barrier_ms = hha_now_ms();
	if (!d->conn || !d->linked || !(si = hha_sitem_new(HHA_W_BARRIER, ++d->seq, 0, 0)))
		return;
	hha_ep_barrier(d, si->h.seq);
	hha_conn_send(d->conn, si);
}

bool hha_ep_dirty(const struct hha_disk *d)
{
	return d->ep[0].n || d->ep[0].ext_any;
}

void hha_ep_barrier(struct hha_disk *d, uint64_t seq)
{
	struct hha_epset *cur = &d->ep[0], *old = &d->ep[1];

	if (!cur->r)
		return;
	for (size_t i = 0; i < cur->n; i++)
		set_add(d, old, cur->r[i].off, cur->r[i].len);
	if (cur->ext_any) {
		for (size_t i = 0; i < d->ep_words; i++)
			old->ext[i] |= cur->ext[i];
		old->ext_any = true;
	}
	set_clear(d, cur);
	d->ep_barrier = seq;
}

void hha_ep_barrier_acked(struct hha_disk *d, uint64_t seq)
{
	/* Only the newest barrier covers every epoch before it. */
	if (seq == d->ep_barrier && d->ep[1].r)
		set_clear(d, &d->ep[1]);
}

uint64_t hha_ep_to_bitmap(struct hha_disk *d)
{
	uint64_t n = 0;

	for (int k = 0; k < 2 && d->ep[k].r; k++) {
		struct hha_epset *s = &d->ep[k];
		for (size_t i = 0; i < s->n; i++)
			n += hha_bitmap_set_range(&d->bm, s->r[i].off, s->r[i].len);
		for (size_t i = 0; s->ext_any && i < d->ep_words; i++) {
			uint64_t w = s->ext[i];
			while (w) {
				uint64_t e = (uint64_t)i * 64 + (uint64_t)__builtin_ctzll(w);
				w &= w - 1;
				n += hha_bitmap_set_range(&d->bm, e << HHA_AL_EXTENT_SHIFT, HHA_AL_EXTENT);
			}
		}
		set_clear(d, s);
	}
	return n;
}
