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

const char *hha_sync_decision_name(enum hha_sync_decision d)
{
	static const char *const names[] = { "none", "blank", "source-full", "source-bitmap",
					     "target-full", "target-bitmap", "split-brain", "unrelated" };

	return (unsigned)d < HHA_ARRAY_SIZE(names) ? names[d] : "?";
}
