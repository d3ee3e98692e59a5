/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Online resize: both sides agree on a new size, grow their metadata and bitmap, and sync only the new area. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "disk/engine.h"

/*
 * The exchange (docs/wire-protocol.md, RESIZE). The side that will be the
 * new area's sync source S is the primary (or, with two secondaries, the
 * node where the verb ran); the other is T. T grows first, so that it
 * accepts S's writes and resync blocks in the new area before S can send
 * any:
 *
 *   S: RESIZE(want, S's largest, size)  ->  T checks, grows, answers
 *   T: RESIZE_REPLY(agreed size)        ->  S grows, marks the new area
 *                                           out of sync and starts a
 *                                           bitmap resync as source
 *
 * The verb on a secondary whose peer is primary sends RESIZE with DELEGATE:
 * the primary then runs the exchange above and answers the delegated
 * RESIZE once it is done. Any refusal answers with an errno and both sides
 * stay as they were. Both sides mark the new area in their bitmaps; S also
 * sets push-marks (rows 6b/6c of the decision table), so a crash or a cut
 * before the copy ended resumes at the next connection.
 */

#define WAIT_EXTRA_MS 10000

/*
 * Test-only hooks (environment variables of the process, read when the
 * step comes; documented in docs/disk.md as such, never for production):
 *   HHA_TEST_RESIZE_DELAY_MS=N   T answers a RESIZE only after N ms (at
 *                                most 60 s): a slow peer;
 *   HHA_TEST_RESIZE_STOP=before-grow   S takes T's agreement and stops
 *                                there (a crash between the two growths).
 */
static const char *test_hook(const char *name)
{
	const char *v = secure_getenv(name);

	return v && *v ? v : NULL;
}

/* What this node's store can hold now (d->lock held). @g: the layout for
 * it; @move: the metadata must move there. *max is the largest device. */
static int local_layout(struct hha_disk *d, struct hha_md_geom *g, bool *move, uint64_t *max, char *why,
			size_t whylen)
{
	bool internal = d->md_fd == d->fd;
	uint64_t bsize, old_end = d->sb.md_offset + d->sb.md_size;
	int r;

	*move = false;
	*max = d->sb.usable_size;
	why[0] = 0;
	if ((r = hha_io_store_size(d->fd, d->is_blockdev, &bsize)) < 0) {
		snprintf(why, whylen, "cannot size %s: %s", d->backing, hha_strerror(r));
		return r;
	}
	if (hha_md_geometry(bsize, internal, d->sb.al_extents, g) < 0)
		return 0; /* smaller than ever: nothing to grow into */
	if (internal) {
		if (g->md_offset == d->sb.md_offset && g->md_size == d->sb.md_size)
			return 0; /* the same store */
		if (g->md_offset < old_end) {
			if (g->usable_size > d->sb.usable_size)
				snprintf(why, whylen, "%s grew by too little to move the metadata (%llu bytes) "
					 "past its old end: grow it by at least that much", d->backing,
					 (unsigned long long)g->md_size);
			return 0;
		}
	} else if (g->md_size == d->sb.md_size && g->usable_size >= d->sb.usable_size) {
		/* External metadata whose bitmap area is large enough already. */
		*max = g->usable_size;
		g->md_offset = d->sb.md_offset;
		g->bm_pages = d->sb.bm_pages;
		return 0;
	} else if (g->usable_size <= d->sb.usable_size) {
		return 0;
	}
	*move = true;
	*max = g->usable_size;
	return 0;
}

/* Write the new metadata file beside the old one and put it in its place
 * (external metadata; the bitmap's io_lock held, d->lock not: move_unlocked). */
static int move_external(struct hha_disk *d, const struct hha_md_sb *old, struct hha_md_sb *nsb)
{
	char tmp[300], dirbuf[300];
	struct hha_md_move mv = { .src_fd = d->md_fd, .old = old, .nsb = nsb, .bm = &d->bm, .stop_after = -1 };
	struct stat st;
	int fd, dfd, r = 0;

	if (fstat(d->md_fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return hha_error(-EOPNOTSUPP, NULL, "external metadata %s is not a regular file: it cannot grow",
				 d->meta);
	snprintf(tmp, sizeof(tmp), "%s.resize", d->meta);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return hha_error(-errno, NULL, "cannot create %s: %s", tmp, hha_strerror(errno));
	mv.dst_fd = fd;
	if (ftruncate(fd, (off_t)nsb->md_size) < 0)
		r = -errno;
	if (r == 0)
		r = hha_md_move(&mv);
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	/* The rename is the switch: before it the old file is whole, after it the new. */
	if (r == 0 && rename(tmp, d->meta) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		close(fd);
		return hha_error(r, NULL, "cannot write %s: %s", tmp, hha_strerror(r));
	}
	snprintf(dirbuf, sizeof(dirbuf), "%s", d->meta);
	dfd = open(dirname(dirbuf), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) < 0)
			hha_warn(d->ctx, "disk", "%s: cannot sync the directory of %s", d->name, d->meta);
		close(dfd);
	}
	/* Same descriptor number: threads holding it now write the new file. */
	r = dup2(fd, d->md_fd) < 0 ? -errno : 0;
	close(fd);
	return r;
}

/* Hold the activity log's thread out of the metadata (d->lock held). */
static void al_hold(struct hha_disk *d, bool hold)
{
	d->al_paused = hold;
	if (hold) {
		while (d->al_busy)
			pthread_cond_wait(&d->cond, &d->lock);
	} else {
		pthread_cond_signal(&d->al_cond);
	}
}

/*
 * Move the metadata to @nsb's place (d->lock held on entry and on return,
 * released meanwhile): the loop's status calls and the application's
 * writes to hot extents go on while the store writes and syncs. Held out
 * meanwhile: the activity log (paused by the caller), other superblock
 * writers (md_busy) and bitmap write-back (the bitmap's io_lock). Bits set
 * during the move reach the new place at the next write-back (every page is
 * dirty again): none can be needed before, as no extent leaves the paused
 * log. On success d->sb takes @nsb's place and size, keeping whatever else
 * changed in memory meanwhile.
 */
static int move_unlocked(struct hha_disk *d, struct hha_md_sb *nsb)
{
	struct hha_md_move mv = { .src_fd = d->md_fd, .dst_fd = d->md_fd, .old = &d->sb, .nsb = nsb,
				  .bm = &d->bm, .stop_after = -1 };
	struct hha_md_sb old;
	int r;

	while (d->md_busy)
		pthread_cond_wait(&d->cond, &d->lock);
	d->md_busy = true;
	old = d->sb;
	mv.old = &old;
	nsb->gen = old.gen;
	pthread_mutex_unlock(&d->lock);
	/* No bitmap page goes to the old place once the new one is written. */
	pthread_mutex_lock(&d->bm.io_lock);
	hha_error_clear();
	r = d->md_fd == d->fd ? hha_md_move(&mv) : move_external(d, &old, nsb);
	pthread_mutex_unlock(&d->bm.io_lock);
	pthread_mutex_lock(&d->lock);
	pthread_mutex_lock(&d->bm.io_lock);
	if (r == 0) {
		d->sb.gen = nsb->gen;
		d->sb.backing_size = nsb->backing_size;
		d->sb.usable_size = nsb->usable_size;
		d->sb.md_offset = nsb->md_offset;
		d->sb.md_size = nsb->md_size;
		d->sb.bm_pages = nsb->bm_pages;
		d->sb.la_size = nsb->la_size;
		d->sb.flags |= nsb->flags & HHA_MDF_PUSH_MARKS;
		hha_bitmap_mark_all_dirty(&d->bm);
	}
	pthread_mutex_unlock(&d->bm.io_lock);
	d->md_busy = false;
	pthread_cond_broadcast(&d->cond);
	if (r == 0)
		hha_disk_record_md(d);
	return r;
}

/*
 * Grow this side to @size (d->lock held): the metadata moves if the store
 * grew past it, the bitmap grows, [old size, @size) is marked out of sync;
 * @source: this side's marks go to the peer (push-marks, persisted with the
 * move). On failure nothing changed on disk that attach would take.
 */
static int grow_local(struct hha_disk *d, uint64_t size, bool source, char *why, size_t whylen)
{
	uint64_t old = d->size, max;
	struct hha_md_geom g;
	struct hha_md_sb nsb;
	bool move;
	int r;

	if ((r = local_layout(d, &g, &move, &max, why, whylen)) < 0)
		return r;
	if (size > max) {
		snprintf(why, whylen, "%s holds at most %llu bytes now", d->backing, (unsigned long long)max);
		return -ENOSPC;
	}
	nsb = d->sb;
	if (move) {
		hha_io_store_size(d->fd, d->is_blockdev, &nsb.backing_size);
		if (d->md_fd != d->fd)
			nsb.backing_size = d->sb.backing_size > g.usable_size ? d->sb.backing_size : g.usable_size;
		nsb.usable_size = g.usable_size;
		nsb.md_offset = g.md_offset;
		nsb.md_size = g.md_size;
		nsb.bm_pages = g.bm_pages;
	}
	nsb.la_size = size;
	if (source)
		nsb.flags |= HHA_MDF_PUSH_MARKS;
	al_hold(d, true);
	if ((r = hha_bitmap_grow(&d->bm, nsb.usable_size)) < 0) {
		snprintf(why, whylen, "cannot grow the bitmap to %llu bytes: %s",
			 (unsigned long long)nsb.usable_size, hha_strerror(r));
		goto out;
	}
	hha_bitmap_set_range(&d->bm, old, size - old);
	if (move) {
		r = move_unlocked(d, &nsb);
		if (r < 0)
			snprintf(why, whylen, "cannot move the metadata: %s",
				 *hha_last_error() ? hha_last_error() : hha_strerror(r));
	} else {
		/* The bits first, then the superblock that says the size;
		 * written without d->lock. */
		d->sb.la_size = size;
		d->sb.flags = nsb.flags;
		if ((r = hha_disk_md_persist(d, true)) < 0)
			snprintf(why, whylen, "cannot write the metadata: %s", hha_strerror(r));
	}
	if (r < 0) {
		hha_bitmap_clear_range(&d->bm, old, size - old);
		goto out;
	}
	if (hha_ep_grow(d) < 0)
		hha_warn(d->ctx, "disk", "%s: no memory to track the peer's unflushed writes in the new area",
			 d->name);
	d->size = size;
	d->want_size = 0;
	if (source)
		d->crash_resync = true;
	hha_notice(d->ctx, "disk", "%s: resized from %llu to %llu bytes%s; %llu KiB marked out of sync", d->name,
		   (unsigned long long)old, (unsigned long long)size,
		   move ? (d->md_fd == d->fd ? ", metadata moved to the new end" : ", metadata file grown") : "",
		   (unsigned long long)((size - old) >> 10));
	hha_disk_post_resized(d, old, size);
out:
	al_hold(d, false);
	return r;
}

uint64_t hha_resize_max(struct hha_disk *d)
{
	struct hha_md_geom g;
	uint64_t max;
	char why[200];
	bool move;

	if (d->dstate == HHA_DS_DISKLESS || d->want_size)
		return d->size;
	if (local_layout(d, &g, &move, &max, why, sizeof(why)) < 0 || max < d->size)
		return d->size;
	return max;
}

int hha_resize_settle(struct hha_disk *d, uint64_t size, bool source, char *why, size_t whylen)
{
	return grow_local(d, size, source, why, whylen);
}

static bool peer_ready(struct hha_disk *d, char *why, size_t whylen)
{
	if (d->cstate != HHA_CS_CONNECTED) {
		snprintf(why, whylen, "%s is %s: resize needs Connected with no sync running", d->name,
			 hha_conn_state_name(d->cstate));
		return false;
	}
	if (d->dstate != HHA_DS_UPTODATE || !d->peer_known || d->peer.disk != HHA_DS_UPTODATE) {
		snprintf(why, whylen, "%s: resize needs both disks UpToDate (here %s, the peer %s)", d->name,
			 hha_disk_state_name(d->dstate),
			 d->peer_known ? hha_disk_state_name(d->peer.disk) : "DUnknown");
		return false;
	}
	if (d->ov_running) {
		snprintf(why, whylen, "%s: a verify is running", d->name);
		return false;
	}
	return true;
}

static void send_rz(struct hha_conn *c, uint8_t type, uint64_t seq, uint32_t aux, uint64_t size, uint64_t max,
		    uint32_t flags)
{
	struct hha_wire_resize z = { .size = size, .max = max, .cur = c->d->size, .flags = flags };
	struct hha_sitem *si = hha_sitem_new(type, seq, aux, HHA_WIRE_RESIZE_LEN);

	if (z.max < z.cur)
		z.max = z.cur; /* a store that shrank offers nothing new */
	if (!si)
		return;
	hha_wire_resize_encode(&z, (uint8_t *)(si + 1));
	hha_conn_send(c, si);
}

/* The exchange this side started ended with @r (d->lock held). */
static void finish(struct hha_disk *d, int r, const char *fmt, ...) HHA_PRINTF(3, 4);
static void finish(struct hha_disk *d, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->rz_msg, sizeof(d->rz_msg), fmt, ap);
	va_end(ap);
	if (r < 0)
		hha_warn(d->ctx, "disk", "%s: resize refused: %s", d->name, d->rz_msg);
	if (d->rz_owed && d->conn) {
		uint64_t max = d->size;
		send_rz(d->conn, HHA_W_RESIZE_REPLY, d->rz_owed, r < 0 ? (uint32_t)-r : 0, r < 0 ? 0 : d->size, max, 0);
	}
	d->rz_owed = 0;
	d->rz_seq = 0;
	d->rz_busy = false;
	d->rz_delegated = false;
	d->rz_result = r;
	if (d->rz_caller)
		hha_disk_post_resize_done(d, r, d->rz_msg);
	d->rz_caller = false;
	__atomic_store_n(&d->rz_deadline_ms, 0, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&d->cond);
}

/* Start the exchange as S (d->lock held). */
static void propose(struct hha_disk *d, uint64_t want, uint64_t max, bool delegate)
{
	d->rz_want = want;
	d->rz_busy = true;
	d->rz_delegated = delegate;
	d->rz_seq = ++d->rz_next_seq;
	d->rz_result = 1;
	d->rz_msg[0] = 0;
	send_rz(d->conn, HHA_W_RESIZE, d->rz_seq, 0, want, max, delegate ? HHA_WRZ_DELEGATE : 0);
}

/* Checks of the side that asks (d->lock held): 0, or -errno with @why. */
static int check_own(struct hha_disk *d, uint64_t want, uint64_t *max, char *why, size_t whylen)
{
	struct hha_md_geom g;
	char lw[200];
	bool move;
	int r;

	if ((r = local_layout(d, &g, &move, max, lw, sizeof(lw))) < 0) {
		snprintf(why, whylen, "%s", lw);
		return r;
	}
	if (want && want < d->size) {
		snprintf(why, whylen, "shrinking from %llu to %llu bytes is refused: it would destroy the data at "
			 "the end (a smaller device needs a new create-md and a full sync)",
			 (unsigned long long)d->size, (unsigned long long)want);
		return -EINVAL;
	}
	if (want > *max) {
		snprintf(why, whylen, "--size %llu does not fit this node's store: it holds at most %llu bytes%s%s",
			 (unsigned long long)want, (unsigned long long)*max, lw[0] ? "; " : "", lw);
		return -ENOSPC;
	}
	if (!want && *max <= d->size) {
		snprintf(why, whylen, "this node's backing store did not grow: it holds %llu bytes, the device is "
			 "%llu%s%s", (unsigned long long)*max, (unsigned long long)d->size, lw[0] ? "; " : "", lw);
		return -ENOSPC;
	}
	return 0;
}

HHA_EXPORT int hha_disk_resize_start(struct hha_disk *d, const struct hha_disk_resize_opts *o)
{
	char why[200];
	uint64_t want, max;
	int r = 0;

	if (!o || o->struct_size < sizeof(*o))
		return hha_error(-EINVAL, __func__, "missing options");
	want = o->size;
	if (want % 4096)
		return hha_error(-EINVAL, __func__, "size %llu is not a multiple of 4096", (unsigned long long)want);
	pthread_mutex_lock(&d->lock);
	if (d->dstate == HHA_DS_DISKLESS) {
		r = hha_error(-HHA_ESTATE, __func__, "%s has no disk", d->name);
		goto out;
	}
	if (d->rz_busy) {
		r = hha_error(-EBUSY, __func__, "%s: a resize is already running", d->name);
		goto out;
	}
	if ((r = check_own(d, want, &max, why, sizeof(why))) < 0) {
		r = hha_error(r, __func__, "%s: %s", d->name, why);
		goto out;
	}
	if (want == d->size)
		goto out; /* already that size */
	if (!hha_cstate_linked(d->cstate)) {
		if (!o->assume_peer_has_space) {
			r = hha_error(-HHA_ESTATE, __func__, "%s is %s: the peer's size is unknown; connect first "
				      "(or --assume-peer-has-space if the peer's store grew as much)", d->name,
				      hha_conn_state_name(d->cstate));
			goto out;
		}
		/* The primary's copy of the new area goes to the peer at the
		 * next connection. Local work only (the metadata's move), like
		 * attach: done on the caller's thread. */
		if ((r = grow_local(d, want ? want : max, d->role == HHA_ROLE_PRIMARY, why, sizeof(why))) < 0)
			r = hha_error(r, __func__, "%s: %s", d->name, why);
		goto out;
	}
	if (!peer_ready(d, why, sizeof(why))) {
		r = hha_error(-HHA_ESTATE, __func__, "%s", why);
		goto out;
	}
	if (!(d->conn->features & HHA_WIRE_F_RESIZE)) {
		r = hha_error(-EOPNOTSUPP, __func__, "%s: the peer's hhad does not know online resize", d->name);
		goto out;
	}
	propose(d, want, max, d->role != HHA_ROLE_PRIMARY && d->peer.role == HHA_ROLE_PRIMARY);
	d->rz_caller = true;
	__atomic_store_n(&d->rz_deadline_ms, hha_now_ms() + 2 * (int64_t)d->net.timeout_ms + WAIT_EXTRA_MS,
			 __ATOMIC_RELAXED);
	r = 1;
out:
	pthread_mutex_unlock(&d->lock);
	if (r == 0)
		hha_export_resized(d);
	return r;
}

/* No answer in time (d->lock held). */
static void timed_out(struct hha_disk *d)
{
	finish(d, -ETIMEDOUT, "no answer from the peer within %d ms; the resize may still complete "
	       "(see status; the next connection settles the size)", 2 * d->net.timeout_ms + WAIT_EXTRA_MS);
}

void hha_resize_tick(struct hha_disk *d)
{
	int64_t dl = __atomic_load_n(&d->rz_deadline_ms, __ATOMIC_RELAXED);

	if (!dl || hha_now_ms() < dl)
		return;
	pthread_mutex_lock(&d->lock);
	if (d->rz_busy && d->rz_caller && d->rz_deadline_ms && hha_now_ms() >= d->rz_deadline_ms)
		timed_out(d);
	pthread_mutex_unlock(&d->lock);
}

HHA_EXPORT int hha_disk_resize(struct hha_disk *d, const struct hha_disk_resize_opts *o)
{
	struct timespec ts;
	int r = hha_disk_resize_start(d, o);

	if (r != 1)
		return r;
	pthread_mutex_lock(&d->lock);
	hha_ts_in(&ts, d->rz_deadline_ms - hha_now_ms());
	while (d->rz_result == 1)
		if (pthread_cond_timedwait(&d->cond, &d->lock, &ts) == ETIMEDOUT)
			break;
	if (d->rz_result == 1)
		timed_out(d);
	r = d->rz_result;
	if (r < 0)
		r = hha_error(r, __func__, "%s: %s", d->name, d->rz_msg);
	pthread_mutex_unlock(&d->lock);
	return r;
}

/* Why the peer refused, for people (d->lock held). */
static void refused(struct hha_disk *d, int err, const struct hha_wire_resize *z)
{
	if (err == ENOSPC && d->rz_want)
		finish(d, -err, "--size %llu does not fit the peer's store: the peer holds at most %llu bytes",
		       (unsigned long long)d->rz_want, (unsigned long long)z->max);
	else if (err == ENOSPC)
		finish(d, -err, "the peer's backing store did not grow: it holds %llu bytes, the device is %llu "
		       "(grow it on the peer first)", (unsigned long long)z->max, (unsigned long long)z->cur);
	else if (err == EBUSY)
		finish(d, -err, "the peer is busy (a sync, a verify or another resize): try again later");
	else if (err == EINVAL)
		finish(d, -err, "the peer refused the size (its device is %llu bytes, ours %llu)",
		       (unsigned long long)z->cur, (unsigned long long)d->size);
	else
		finish(d, -err, "the peer could not grow: %s (see its log)", hha_strerror(-err));
}

/* S: the peer's answer to our RESIZE (d->lock held). */
static void on_reply(struct hha_conn *c, uint64_t seq, uint32_t aux, const struct hha_wire_resize *z)
{
	struct hha_disk *d = c->d;
	char why[200];
	int r;

	if (!seq || seq != d->rz_seq) {
		hha_dbg(d->ctx, "disk", "%s: stray RESIZE_REPLY %llu ignored", d->name, (unsigned long long)seq);
		return;
	}
	d->rz_seq = 0;
	if (aux) {
		refused(d, (int)aux, z);
		return;
	}
	if (z->size == d->size) {
		finish(d, 0, "resized"); /* a delegated resize: we grew as its target */
		return;
	}
	if (z->size < d->size) {
		finish(d, -EPROTO, "the peer answered with a smaller size (%llu)", (unsigned long long)z->size);
		return;
	}
	if (test_hook("HHA_TEST_RESIZE_STOP") && !strcmp(test_hook("HHA_TEST_RESIZE_STOP"), "before-grow")) {
		hha_warn(d->ctx, "disk", "%s: HHA_TEST_RESIZE_STOP=before-grow: the peer grew to %llu bytes, "
			 "this side stops before growing (test hook)", d->name, (unsigned long long)z->size);
		return;
	}
	if ((r = grow_local(d, z->size, true, why, sizeof(why))) < 0) {
		/* The peer grew, we did not: the pair goes on at the old size;
		 * a later resize (or --assume-peer-has-space) completes it. */
		finish(d, r, "the peer grew to %llu bytes, this node could not: %s", (unsigned long long)z->size, why);
		return;
	}
	hha_link_begin_source(c, HHA_SYNC_SOURCE_BITMAP);
	finish(d, 0, "resized");
}

/* T (or a primary asked by its secondary): the peer's RESIZE (d->lock held). */
static void on_request(struct hha_conn *c, uint64_t seq, const struct hha_wire_resize *z)
{
	struct hha_disk *d = c->d;
	uint64_t max = d->size, size;
	char why[200];
	int r;

	if (!peer_ready(d, why, sizeof(why)) || (d->rz_busy && !d->rz_delegated)) {
		hha_info(d->ctx, "disk", "%s: the peer's resize refused: %s", d->name,
			 d->rz_busy ? "a resize of ours is running" : why);
		send_rz(c, HHA_W_RESIZE_REPLY, seq, EBUSY, 0, max, 0);
		return;
	}
	if (z->cur != d->size) {
		hha_warn(d->ctx, "disk", "%s: the peer's resize refused: its device is %llu bytes, ours %llu",
			 d->name, (unsigned long long)z->cur, (unsigned long long)d->size);
		send_rz(c, HHA_W_RESIZE_REPLY, seq, EINVAL, 0, max, 0);
		return;
	}
	if (z->flags & HHA_WRZ_DELEGATE) {
		if (d->role != HHA_ROLE_PRIMARY) {
			send_rz(c, HHA_W_RESIZE_REPLY, seq, EINVAL, 0, max, 0);
			return;
		}
		if ((r = check_own(d, z->size, &max, why, sizeof(why))) < 0 || z->size > z->max ||
		    (!z->size && z->max <= d->size)) {
			hha_info(d->ctx, "disk", "%s: the secondary's resize refused: %s", d->name,
				 r < 0 ? why : "its store is too small");
			send_rz(c, HHA_W_RESIZE_REPLY, seq, r < 0 ? (uint32_t)-r : ENOSPC, 0, max, 0);
			return;
		}
		propose(d, z->size, max, false);
		d->rz_owed = seq;
		return;
	}
	if (d->role == HHA_ROLE_PRIMARY) {
		send_rz(c, HHA_W_RESIZE_REPLY, seq, EINVAL, 0, max, 0);
		return;
	}
	if ((r = local_layout(d, &(struct hha_md_geom){ 0 }, &(bool){ false }, &max, why, sizeof(why))) < 0) {
		send_rz(c, HHA_W_RESIZE_REPLY, seq, (uint32_t)-r, 0, d->size, 0);
		return;
	}
	size = z->size ? z->size : HHA_MIN(z->max, max);
	if (size < d->size || size > max || size > z->max || size == d->size) {
		hha_info(d->ctx, "disk", "%s: the peer's resize to %llu refused: this store holds at most %llu bytes%s%s",
			 d->name, (unsigned long long)size, (unsigned long long)max, why[0] ? "; " : "", why);
		send_rz(c, HHA_W_RESIZE_REPLY, seq, size < d->size ? EINVAL : ENOSPC, 0, max, 0);
		return;
	}
	if ((r = grow_local(d, size, false, why, sizeof(why))) < 0) {
		hha_err(d->ctx, "disk", "%s: the peer's resize failed here: %s", d->name, why);
		send_rz(c, HHA_W_RESIZE_REPLY, seq, (uint32_t)-r, 0, max, 0);
		return;
	}
	send_rz(c, HHA_W_RESIZE_REPLY, seq, 0, size, max, 0);
}

int hha_resize_rx(struct hha_conn *c, const struct hha_wire_hdr *h, const uint8_t *payload)
{
	struct hha_disk *d = c->d;
	struct hha_wire_resize z;
	const char *why;
	bool grew;

	if (hha_wire_resize_decode(payload, h->plen, &z, &why) < 0) {
		hha_conn_fail(c, "malformed %s: %s", hha_wire_type_name(h->type), why);
		return -EPROTO;
	}
	if (h->type == HHA_W_RESIZE && test_hook("HHA_TEST_RESIZE_DELAY_MS")) {
		long ms = strtol(test_hook("HHA_TEST_RESIZE_DELAY_MS"), NULL, 10);
		hha_warn(d->ctx, "disk", "%s: HHA_TEST_RESIZE_DELAY_MS: answering RESIZE in %ld ms (test hook)",
			 d->name, ms);
		if (ms > 0)
			usleep((useconds_t)HHA_MIN(ms, 60000) * 1000);
	}
	pthread_mutex_lock(&d->lock);
	if (d->conn != c) {
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	uint64_t before = d->size;
	if (h->type == HHA_W_RESIZE)
		on_request(c, h->seq, &z);
	else
		on_reply(c, h->seq, h->aux, &z);
	grew = d->size != before;
	pthread_mutex_unlock(&d->lock);
	if (grew)
		hha_export_resized(d);
	return 0;
}

void hha_resize_link_lost(struct hha_disk *d)
{
	if (!d->rz_busy)
		return;
	d->rz_owed = 0;
	finish(d, -ECONNRESET, "the link to the peer broke during the resize (status shows each side's size; "
	       "if one side grew, the next connection grows the other: see docs/disk.md, Resize)");
}
