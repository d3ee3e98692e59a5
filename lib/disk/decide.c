/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* When the peer's state arrives: agree on the size, check roles, decide the sync direction. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "disk/engine.h"

/* Refuse the pairing for a reason a person must resolve (d->lock held). */
static int refuse(struct hha_conn *c, uint32_t reason, const char *fmt, ...) HHA_PRINTF(3, 4);
static int refuse(struct hha_conn *c, uint32_t reason, const char *fmt, ...)
{
	struct hha_disk *d = c->d;
	struct hha_sitem *si;
	char msg[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	si = hha_sitem_new(HHA_W_REFUSE, 0, reason, HHA_MIN(strlen(msg), HHA_WIRE_REFUSE_MAX));
	if (si) {
		memcpy(si + 1, msg, si->h.plen);
		hha_conn_send(c, si);
	}
	snprintf(d->last_refusal, sizeof(d->last_refusal), "%s", msg);
	d->split_brain = reason == HHA_WR_SPLITBRAIN;
	if (d->split_brain && d->hook_split_brain)
		hha_disk_hook_async(d, d->hook_split_brain, "split-brain", 0, false);
	hha_err(d->ctx, "disk", "%s: refusing the peer: %s", d->name, msg);
	hha_disk_post_event(d, reason == HHA_WR_SPLITBRAIN ? "split-brain" : "refused", "%s: %s", d->name, msg);
	hha_disk_cs_event(d, HHA_CSE_REFUSED);
	/* Stop reconnecting: this needs a person. */
	atomic_store(&d->link_stop, true);
	pthread_cond_broadcast(&d->cond);
	hha_conn_close(c, "%s", msg);
	return -ECONNREFUSED;
}

static struct hha_genids peer_genids(const struct hha_wire_state *s)
{
	struct hha_genids g = { .current = s->uuid_current, .bitmap = s->uuid_bitmap };

	memcpy(g.history, s->uuid_history, sizeof(g.history));
	g.consistent = s->disk == HHA_DS_UPTODATE || s->disk == HHA_DS_OUTDATED;
	g.crashed = s->sflags & HHA_WS_CRASHED;
	g.discard = s->sflags & HHA_WS_DISCARD_MY_DATA;
	g.dzc = s->sflags & HHA_WS_DZC;
	g.oos = s->oos_blocks;
	return g;
}

/* A full sync as source: everything is marked, and the generation moves on
 * so that the target, which takes our old current id, resumes by bitmap
 * (row 8) if the copy is interrupted (d->lock held). */
static void source_full(struct hha_disk *d)
{
	hha_bitmap_set_all(&d->bm);
	d->sb.flags |= HHA_MDF_FULL_SYNC;
	if (d->sb.uuid_bitmap)
		hha_md_history_push(&d->sb, d->sb.uuid_bitmap);
	d->sb.uuid_bitmap = 0;
	/* Persisted by the caller before the sync starts (hha_disk_md_persist). */
	hha_disk_rotate_id(d, "full sync to the peer");
	d->uuid_fresh = false;
}

/* After a write without d->lock: the link went or a sync started meanwhile (d->lock held). */
static bool link_changed(struct hha_disk *d, struct hha_conn *c)
{
	return d->conn != c || d->cstate == HHA_CS_STANDALONE || d->cstate == HHA_CS_DISCONNECTING ||
	       d->cstate == HHA_CS_SYNCSOURCE || d->cstate == HHA_CS_SYNCTARGET;
}

int hha_link_begin_source(struct hha_conn *c, enum hha_sync_decision dec)
{
	struct hha_disk *d = c->d;

	if (dec == HHA_SYNC_SOURCE_FULL)
		source_full(d);
	/* What the sync will clear must be on disk first; written without
	 * d->lock (a slow store must not stall the loop's status calls). */
	hha_disk_md_persist(d, true);
	/* While the lock was free, the other path may have started this sync
	 * (a verb's promotion and the receiver's re-decision on the peer's new
	 * STATE): it runs, with every bit set above already marked. */
	if (d->conn == c && d->cstate == HHA_CS_SYNCSOURCE)
		return 0;
	if (link_changed(d, c))
		return -ECONNRESET; /* the link went (or changed) meanwhile: the next handshake decides */
	d->rs_peer_ready = false;
	hha_disk_cs_event(d, HHA_CSE_UP_SOURCE);
	hha_disk_post_event(d, "sync-start", "%s: %s sync to the peer, %llu MiB", d->name,
			    dec == HHA_SYNC_SOURCE_FULL ? "full" : "bitmap",
			    (unsigned long long)(hha_bitmap_count(&d->bm) >> 8));
	hha_conn_send_state(c);
	return hha_rs_start(d);
}

/* The target's generation while it receives (d->lock held): a full copy
 * takes the source's current id (which the source keeps as its bitmap id,
 * see source_full); a bitmap copy after a split-brain resolution goes back
 * to the common ancestor (both bitmap ids), its own changes being marked in
 * its bitmap. Either way an interrupted sync resumes by row 8. */
static void target_ids(struct hha_disk *d, enum hha_sync_decision dec)
{
	const struct hha_wire_state *p = &d->peer;
	uint64_t want;

	if (dec == HHA_SYNC_TARGET_FULL) {
		hha_bitmap_set_all(&d->bm);
		want = p->uuid_current;
	} else if (p->uuid_bitmap && d->sb.uuid_current != p->uuid_bitmap && d->sb.uuid_current != p->uuid_current) {
		want = p->uuid_bitmap; /* a resolved split brain */
	} else {
		return; /* rows 6c and 8': already where the source's bitmap starts */
	}
	if (want == d->sb.uuid_current)
		return;
	if (d->sb.uuid_bitmap)
		hha_md_history_push(&d->sb, d->sb.uuid_bitmap);
	hha_md_history_push(&d->sb, d->sb.uuid_current);
	d->sb.uuid_current = want;
	d->sb.uuid_bitmap = 0;
}

/* Tell the source what we have marked ourselves, then that it may start (d->lock held). */
static void target_send_marks(struct hha_conn *c, bool full)
{
	struct hha_disk *d = c->d;
	uint64_t nbits = d->size >> HHA_BM_BLOCK_SHIFT, b = 0;
	struct hha_sitem *si;

	while (!full && (b = hha_bitmap_next_set(&d->bm, b)) < nbits) {
		uint64_t e = hha_bitmap_next_clear(&d->bm, b);
		if (e > nbits)
			e = nbits;
		if (e - b > (1u << 19))
			e = b + (1u << 19); /* 2 GiB per frame */
		si = hha_sitem_new(HHA_W_OOS, 0, 0, 0);
		if (!si)
			break;
		si->h.offset = b << HHA_BM_BLOCK_SHIFT;
		si->h.len = (uint32_t)((e - b) << HHA_BM_BLOCK_SHIFT);
		hha_conn_send(c, si);
		b = e;
	}
	si = hha_sitem_new(HHA_W_RS_START, 0, 0, 0);
	if (si)
		hha_conn_send(c, si);
}

void hha_link_target_ready(struct hha_disk *d, uint64_t gen, bool full)
{
	struct hha_conn *c;

	pthread_mutex_lock(&d->lock);
	c = hha_disk_conn_if(d, gen);
	if (c && d->cstate == HHA_CS_SYNCTARGET)
		target_send_marks(c, full);
	pthread_mutex_unlock(&d->lock);
}

/* Enter SyncSource / SyncTarget / Connected per @dec (d->lock held). */
static int apply_decision(struct hha_conn *c, enum hha_sync_decision dec, bool first)
{
	struct hha_disk *d = c->d;
	const struct hha_wire_state *p = &d->peer;

	switch (dec) {
	case HHA_SYNC_SPLIT_BRAIN:
		return refuse(c, HHA_WR_SPLITBRAIN,
			      "split brain: both sides changed the data since they last shared it; "
			      "nothing was overwritten (recover with connect --discard-my-data on the side "
			      "whose changes are to go, see docs/split-brain.md)");
	case HHA_SYNC_UNRELATED:
		return refuse(c, HHA_WR_UNRELATED,
			      "unrelated data: the disks share no history (different create-md?)");
	case HHA_SYNC_NONE:
	case HHA_SYNC_BLANK:
		if (first)
			hha_disk_cs_event(d, HHA_CSE_UP_NOSYNC);
		if (dec == HHA_SYNC_BLANK && first)
			hha_disk_post_event(d, "blank", "%s: both disks are new: promote one with --force "
					    "(full sync follows) or run skip-sync", d->name);
		return 0;
	case HHA_SYNC_SOURCE_FULL:
	case HHA_SYNC_SOURCE_BITMAP:
		if (d->dstate != HHA_DS_UPTODATE && d->dstate != HHA_DS_OUTDATED)
			return refuse(c, HHA_WR_UNRELATED, "neither side has consistent data to sync from");
		return hha_link_begin_source(c, dec);
	case HHA_SYNC_TARGET_FULL:
	case HHA_SYNC_TARGET_BITMAP:
		if (d->role == HHA_ROLE_PRIMARY)
			return refuse(c, HHA_WR_PRIMARY,
				      "this primary's data is older than the peer's: demote it first");
		if (p->disk != HHA_DS_UPTODATE && p->disk != HHA_DS_OUTDATED)
			return refuse(c, HHA_WR_UNRELATED, "neither side has consistent data to sync from");
		/* Inconsistent on disk before the first block arrives (the
		 * source sends none before our RS_START, below); written
		 * without d->lock, like the source's. */
		target_ids(d, dec);
		d->sb.flags &= ~(uint32_t)HHA_MDF_CONSISTENT;
		hha_disk_md_persist(d, true);
		if (link_changed(d, c))
			return -ECONNRESET;
		hha_disk_ds_event(d, HHA_DSE_SYNC_TARGET);
		hha_disk_cs_event(d, HHA_CSE_UP_TARGET);
		d->rs_done_bytes = 0;
		d->rs_start_ms = hha_now_ms();
		/* The two sides' marks may overlap: their sum bounds the copy, the size too. */
		d->rs_total = dec == HHA_SYNC_TARGET_FULL ? d->size
			      : (p->oos_blocks + hha_bitmap_count(&d->bm)) << HHA_BM_BLOCK_SHIFT;
		if (d->rs_total > d->size)
			d->rs_total = d->size;
		hha_disk_post_event(d, "sync-start", "%s: %s sync from the peer, %llu MiB", d->name,
				    dec == HHA_SYNC_TARGET_FULL ? "full" : "bitmap",
				    (unsigned long long)(d->rs_total >> 20));
		hha_conn_send_state(c);
		/* A snapshot of the target, say, before it becomes inconsistent:
		 * the source waits for RS_START until the hook is done. */
		if (!d->hook_before_resync_target ||
		    hha_disk_hook_async(d, d->hook_before_resync_target, "before-resync-target", c->gen,
					dec == HHA_SYNC_TARGET_FULL) < 0)
			target_send_marks(c, dec == HHA_SYNC_TARGET_FULL);
		return 0;
	}
	return 0;
}

/*
 * Sizes that differ at the handshake. Normally a refusal (SIZE). One case
 * is finished instead: a resize cut between its two growths (T grew and
 * recorded the new size as agreed, S did not; docs/disk.md, Resize).
 * Both sides decide from the two STATEs alone, identically:
 *
 * | # | condition                                                  | result        |
 * |---|------------------------------------------------------------|---------------|
 * | 1 | SETTLE not announced by both                               | refuse        |
 * | 2 | generation decision BLANK, SPLIT_BRAIN or UNRELATED        | refuse        |
 * | 3 | the larger side's size is not one it agreed with a peer    | refuse        |
 * | 4 | the smaller side's store cannot hold the larger size       | refuse        |
 * |   | (its largest size, or an explicit attach --size)           |               |
 * | 5 | otherwise                                                  | the smaller   |
 * |   |                                                            | side grows    |
 *
 * After row 5 the grown area [smaller, larger) is marked on both sides and
 * the sync goes as the generation decision says; when it says NONE, the
 * primary (else the larger side, which grew first) becomes the source of a
 * bitmap sync, so the new area is always copied in one direction.
 */
enum hha_settle hha_size_settle(const struct hha_size_view *me, const struct hha_size_view *peer,
				enum hha_sync_decision dec)
{
	const struct hha_size_view *big = me->size > peer->size ? me : peer;
	const struct hha_size_view *small = big == me ? peer : me;

	if (me->size == peer->size)
		return HHA_SETTLE_SAME;
	if (!me->settle || !peer->settle)
		return HHA_SETTLE_REFUSE;
	if (dec == HHA_SYNC_BLANK || dec == HHA_SYNC_SPLIT_BRAIN || dec == HHA_SYNC_UNRELATED)
		return HHA_SETTLE_REFUSE;
	if (!big->agreed || small->max < big->size)
		return HHA_SETTLE_REFUSE;
	return small == me ? HHA_SETTLE_GROW_ME : HHA_SETTLE_GROW_PEER;
}

enum hha_sync_decision hha_settle_direction(const struct hha_size_view *me, const struct hha_size_view *peer,
					    enum hha_sync_decision dec)
{
	bool me_source;

	if (dec != HHA_SYNC_NONE)
		return dec;
	if (me->primary != peer->primary)
		me_source = me->primary;
	else
		me_source = me->size > peer->size;
	return me_source ? HHA_SYNC_SOURCE_BITMAP : HHA_SYNC_TARGET_BITMAP;
}

static struct hha_size_view size_view(uint64_t size, uint64_t max, bool agreed, bool primary, bool settle)
{
	return (struct hha_size_view){ .size = size, .max = max, .agreed = agreed, .primary = primary,
				       .settle = settle };
}

/* The first STATE: sizes (row 5 above grows this side), then the direction
 * (d->lock held). 0, or -ECONNREFUSED after a refusal. *grew: the device grew. */
static int first_state(struct hha_conn *c, const struct hha_wire_state *s, uint64_t peer_size, bool *grew)
{
	struct hha_disk *d = c->d;
	bool settle = c->features & HHA_WIRE_F_SETTLE;
	struct hha_size_view me, peer;
	struct hha_genids gme, gpeer;
	enum hha_sync_decision dec;
	enum hha_settle how;
	uint64_t old = d->size;
	char why[200];
	int r;

	gme = hha_disk_my_genids(d);
	gpeer = peer_genids(s);
	dec = hha_genid_resolve(&gme, &gpeer, hha_genid_decide(&gme, &gpeer));
	me = size_view(d->size, hha_resize_max(d), d->sb.la_size && d->sb.la_size == d->size,
		       d->role == HHA_ROLE_PRIMARY, settle);
	peer = size_view(peer_size, s->max_size, s->sflags & HHA_WS_AGREED, s->role == HHA_ROLE_PRIMARY, settle);
	how = hha_size_settle(&me, &peer, dec);
	if (how == HHA_SETTLE_REFUSE)
		return refuse(c, HHA_WR_SIZE,
			      "size mismatch: ours is %llu bytes, the peer's %llu; attach both with a --size "
			      "that fits both, or grow the smaller (resize --assume-peer-has-space)",
			      (unsigned long long)d->size, (unsigned long long)peer_size);
	if (how != HHA_SETTLE_SAME) {
		dec = hha_settle_direction(&me, &peer, dec);
		hha_notice(d->ctx, "disk", "%s: finishing an interrupted resize: both sides settle on %llu bytes "
			   "(ours %llu, the peer's %llu); the new area goes %s", d->name,
			   (unsigned long long)HHA_MAX(d->size, peer_size), (unsigned long long)d->size,
			   (unsigned long long)peer_size,
			   dec == HHA_SYNC_SOURCE_BITMAP || dec == HHA_SYNC_SOURCE_FULL ? "to the peer" : "from the peer");
	}
	if (how == HHA_SETTLE_GROW_ME) {
		bool source = dec == HHA_SYNC_SOURCE_BITMAP || dec == HHA_SYNC_SOURCE_FULL;
		if ((r = hha_resize_settle(d, peer_size, source, why, sizeof(why))) < 0)
			return refuse(c, HHA_WR_SIZE, "size mismatch: ours is %llu bytes, the peer's %llu, and "
				      "growing to it failed: %s", (unsigned long long)old,
				      (unsigned long long)peer_size, why);
		*grew = true;
	} else if (how == HHA_SETTLE_GROW_PEER) {
		/* Our copy of the grown area was marked when we grew; mark it
		 * again (a resync may have cleared it since), and if we send
		 * it, keep sending it at later connections until it is done. */
		hha_bitmap_set_range(&d->bm, peer_size, d->size - peer_size);
		if (dec == HHA_SYNC_SOURCE_BITMAP)
			hha_disk_push_marks(d, false);
	}
	hha_info(d->ctx, "disk", "%s: peer is %s/%s; ids %016llx/%016llx vs %016llx/%016llx: %s", d->name,
		 hha_disk_role_name(s->role), hha_disk_state_name(s->disk), (unsigned long long)gme.current,
		 (unsigned long long)gme.bitmap, (unsigned long long)gpeer.current, (unsigned long long)gpeer.bitmap,
		 hha_sync_decision_name(dec));
	return apply_decision(c, dec, true);
}

int hha_link_on_state(struct hha_conn *c, const struct hha_wire_state *s)
{
	struct hha_disk *d = c->d;
	struct hha_genids me, peer;
	enum hha_sync_decision dec;
	uint64_t peer_size;
	bool first, grew = false;
	int r = 0;

	pthread_mutex_lock(&d->lock);
	if (d->conn != c) {
		pthread_mutex_unlock(&d->lock);
		return -ECONNABORTED;
	}
	first = !d->peer_known;
	/* The target says it is done: it flushed everything of the sync
	 * before RS_DONE, so the epochs before our last barrier are safe. */
	if (!first && d->peer.disk == HHA_DS_INCONSISTENT && s->disk == HHA_DS_UPTODATE)
		hha_ep_barrier_acked(d, d->ep_barrier);
	d->peer = *s;
	d->peer_known = true;
	peer_size = s->want_size ? s->want_size : s->usable_size;

	if (s->role == HHA_ROLE_PRIMARY && d->role == HHA_ROLE_PRIMARY) {
		r = refuse(c, HHA_WR_PRIMARY, "both nodes are primary: demote one");
		goto out;
	}
	/* A side without its disk has nothing to sync: replicate to nobody, mark instead. */
	if (s->disk == HHA_DS_DISKLESS || d->dstate == HHA_DS_DISKLESS) {
		if (s->disk == HHA_DS_DISKLESS) {
			hha_ioerr_peer_diskless(d);
			/* It wrote without d->lock: the link may have gone meanwhile. */
			if (d->conn != c) {
				r = -ECONNRESET;
				goto out;
			}
		}
		if (first) {
			hha_disk_cs_event(d, HHA_CSE_UP_NOSYNC);
			d->linked = true;
			/* The id made for a Diskless peer stays fresh: writes
			 * still go on without the peer's copy. */
			if (!d->peer_diskless)
				d->uuid_fresh = false;
			hha_disk_release_gate(d);
		}
		pthread_cond_broadcast(&d->cond);
		hha_disk_post_event(d, "peer-state", "%s: peer is %s/%s", d->name, hha_disk_role_name(s->role),
				    hha_disk_state_name(s->disk));
		goto out;
	}
	if (first) {
		r = first_state(c, s, peer_size, &grew);
		if (r < 0)
			goto out;
		d->linked = true;
		d->uuid_fresh = false;
		d->last_refusal[0] = 0;
		/* The agreed size, written without d->lock (the gate holds
		 * the application's writes meanwhile). */
		if (d->sb.la_size != d->size) {
			d->sb.la_size = d->size;
			hha_disk_md_persist(d, false);
			if (d->conn != c) {
				r = -ECONNRESET;
				goto out;
			}
		}
		hha_disk_release_gate(d);
		goto out;
	}
	/* A state change while linked. */
	if ((s->sflags & HHA_WS_SKIP_SYNC) && d->sb.uuid_current == 0 && s->uuid_current) {
		d->sb.uuid_current = s->uuid_current;
		d->sb.flags |= HHA_MDF_CONSISTENT;
		hha_bitmap_clear_all(&d->bm);
		hha_disk_md_write(d);
		hha_disk_ds_event(d, HHA_DSE_FORCE_CURRENT);
		hha_disk_post_event(d, "skip-sync", "%s: the peer declared both disks identical (skip-sync)",
				    d->name);
		hha_conn_send_state(c);
	} else if (d->cstate == HHA_CS_CONNECTED) {
		me = hha_disk_my_genids(d);
		peer = peer_genids(s);
		dec = hha_genid_decide(&me, &peer);
		if (dec != HHA_SYNC_NONE && dec != HHA_SYNC_BLANK) {
			hha_info(d->ctx, "disk", "%s: the peer's ids changed: %s", d->name,
				 hha_sync_decision_name(dec));
			r = apply_decision(c, dec, false);
		}
	}
	pthread_cond_broadcast(&d->cond);
	hha_disk_post_event(d, "peer-state", "%s: peer is %s/%s", d->name, hha_disk_role_name(s->role),
			    hha_disk_state_name(s->disk));
out:
	pthread_mutex_unlock(&d->lock);
	if (grew)
		hha_export_resized(d);
	return r;
}
