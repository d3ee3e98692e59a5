/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Generation identifiers: who syncs from whom when two disks meet. */
#include "config.h"

#include "core/internal.h"
#include "disk/genid.h"

/*
 * Decision table, first matching row wins ("me" = this node, "peer" = the
 * other; cur = current id, bm = bitmap id, hist = history ids):
 *
 * | # | condition                                              | result        |
 * |---|--------------------------------------------------------|---------------|
 * | 1 | me.cur = 0 and peer.cur = 0                            | BLANK         |
 * | 2 | me.cur = 0                                             | TARGET_FULL   |
 * | 3 | peer.cur = 0                                           | SOURCE_FULL   |
 * | 4 | me.cur = peer.cur, I am inconsistent, peer consistent  | TARGET_FULL   |
 * | 5 | me.cur = peer.cur, peer inconsistent, I am consistent  | SOURCE_FULL   |
 * | 6a| me.cur = peer.cur, both crashed primaries              | SPLIT_BRAIN   |
 * | 6b| me.cur = peer.cur, I crashed as primary                | SOURCE_BITMAP |
 * | 6c| me.cur = peer.cur, the peer crashed as primary         | TARGET_BITMAP |
 * | 6 | me.cur = peer.cur                                      | NONE          |
 * | 7 | me.bm = peer.cur and peer.bm = me.cur (corrupt)        | SPLIT_BRAIN   |
 * | 8 | me.bm = peer.cur                                       | SOURCE_BITMAP |
 * | 8'| peer.bm = me.cur                                       | TARGET_BITMAP |
 * | 9 | me.bm = peer.bm != 0 (both moved on from one point)    | SPLIT_BRAIN   |
 * |10 | me.cur in peer.hist (and not the other way round)      | TARGET_FULL   |
 * |11 | peer.cur in me.hist (and not the other way round)      | SOURCE_FULL   |
 * |12 | any of my ids in any of the peer's ids                 | SPLIT_BRAIN   |
 * |13 | otherwise                                              | UNRELATED     |
 *
 * Rows 6a-6c: a primary that crashed marked its activity-log extents at
 * attach; they are the only blocks that may differ, and its copy of them
 * is the one an application on it could have read. Two crashed primaries of
 * one generation cannot both have been right: a person decides.
 * Row 8: one side kept writing without the peer (its bitmap id is the
 * generation both last shared, the peer still being at it); only the blocks
 * its bitmap marks differ. Rows 10 and 11: one side moved on more than once,
 * so no single bitmap covers the difference; copy everything. Rows 9 and 12:
 * both sides have changes the other lacks; nothing is overwritten.
 * Symmetry: decide(a, b) is always the mirror of decide(b, a) (unit-tested).
 */

static bool in_history(uint64_t id, const struct hha_genids *g)
{
	if (id == 0)
		return false;
	for (int i = 0; i < HHA_GENID_HISTORY; i++)
		if (g->history[i] == id)
			return true;
	return false;
}

static bool share_any(const struct hha_genids *a, const struct hha_genids *b)
{
	uint64_t ids[2 + HHA_GENID_HISTORY];

	ids[0] = a->current;
	ids[1] = a->bitmap;
	for (int i = 0; i < HHA_GENID_HISTORY; i++)
		ids[2 + i] = a->history[i];
	for (size_t i = 0; i < HHA_ARRAY_SIZE(ids); i++)
		if (ids[i] && (ids[i] == b->current || ids[i] == b->bitmap || in_history(ids[i], b)))
			return true;
	return false;
}

enum hha_sync_decision hha_genid_decide(const struct hha_genids *me, const struct hha_genids *peer)
{
	bool my_bm_is_peer = me->bitmap && me->bitmap == peer->current;
	bool peer_bm_is_me = peer->bitmap && peer->bitmap == me->current;

	if (!me->current && !peer->current)
		return HHA_SYNC_BLANK;
	if (!me->current)
		return HHA_SYNC_TARGET_FULL;
	if (!peer->current)
		return HHA_SYNC_SOURCE_FULL;
	if (me->current == peer->current) {
		if (!me->consistent && peer->consistent)
			return HHA_SYNC_TARGET_FULL;
		if (me->consistent && !peer->consistent)
			return HHA_SYNC_SOURCE_FULL;
		if (me->crashed && peer->crashed)
			return HHA_SYNC_SPLIT_BRAIN;
		if (me->crashed)
			return HHA_SYNC_SOURCE_BITMAP;
		if (peer->crashed)
			return HHA_SYNC_TARGET_BITMAP;
		return HHA_SYNC_NONE;
	}
	if (my_bm_is_peer && peer_bm_is_me)
		return HHA_SYNC_SPLIT_BRAIN;
	if (my_bm_is_peer)
		return HHA_SYNC_SOURCE_BITMAP;
	if (peer_bm_is_me)
		return HHA_SYNC_TARGET_BITMAP;
	if (me->bitmap && me->bitmap == peer->bitmap)
		return HHA_SYNC_SPLIT_BRAIN;
	if (in_history(me->current, peer) && !in_history(peer->current, me))
		return HHA_SYNC_TARGET_FULL;
	if (in_history(peer->current, me) && !in_history(me->current, peer))
		return HHA_SYNC_SOURCE_FULL;
	if (share_any(me, peer))
		return HHA_SYNC_SPLIT_BRAIN;
	return HHA_SYNC_UNRELATED;
}

/*
 * Split-brain recovery, after the table:
 *
 * | condition                                         | result            |
 * |---------------------------------------------------|-------------------|
 * | not SPLIT_BRAIN                                   | unchanged         |
 * | both discard-my-data                              | SPLIT_BRAIN       |
 * | I discard (the peer not)                          | TARGET_*          |
 * | the peer discards (I do not)                      | SOURCE_*          |
 * | both dzc, bitmap split, my bitmap empty, its not  | TARGET_BITMAP     |
 * | both dzc, bitmap split, its bitmap empty, mine not| SOURCE_BITMAP     |
 * | both dzc, bitmap split, both empty                | the higher current id is the source |
 * | otherwise                                         | SPLIT_BRAIN       |
 *
 * TARGET_/SOURCE_* is _BITMAP when both bitmap ids are equal (row 9: each
 * bitmap holds that side's changes since the split, and the sync covers
 * both), _FULL otherwise.
 */
enum hha_sync_decision hha_genid_resolve(const struct hha_genids *me, const struct hha_genids *peer,
					 enum hha_sync_decision dec)
{
	bool bm = me->bitmap && me->bitmap == peer->bitmap;

	if (dec != HHA_SYNC_SPLIT_BRAIN)
		return dec;
	if (me->discard && peer->discard)
		return HHA_SYNC_SPLIT_BRAIN;
	if (me->discard)
		return bm ? HHA_SYNC_TARGET_BITMAP : HHA_SYNC_TARGET_FULL;
	if (peer->discard)
		return bm ? HHA_SYNC_SOURCE_BITMAP : HHA_SYNC_SOURCE_FULL;
	if (me->dzc && peer->dzc && bm) {
		if (me->oos == 0 && peer->oos > 0)
			return HHA_SYNC_TARGET_BITMAP;
		if (peer->oos == 0 && me->oos > 0)
			return HHA_SYNC_SOURCE_BITMAP;
		if (me->oos == 0 && peer->oos == 0 && me->current != peer->current)
			return me->current > peer->current ? HHA_SYNC_SOURCE_BITMAP : HHA_SYNC_TARGET_BITMAP;
	}
	return HHA_SYNC_SPLIT_BRAIN;
}

const char *hha_sync_decision_name(enum hha_sync_decision d)
{
	static const char *const names[] = { "none", "blank", "source-full", "source-bitmap",
					     "target-full", "target-bitmap", "split-brain", "unrelated" };

	return (unsigned)d < HHA_ARRAY_SIZE(names) ? names[d] : "?";
}
