/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Generation identifiers: who syncs from whom when two disks meet. */
#ifndef HHA_DISK_GENID_H
#define HHA_DISK_GENID_H

#include <stdbool.h>
#include <stdint.h>

#define HHA_GENID_HISTORY 4

/* One side's identifiers and what else the decision needs. */
struct hha_genids {
	uint64_t current;  /* 0 = empty: a new disk */
	uint64_t bitmap;   /* current id when the bitmap started collecting; 0 = none */
	uint64_t history[HHA_GENID_HISTORY];
	bool consistent;   /* the disk holds a usable image (not mid-sync as a target) */
	bool crashed;      /* attached after a crash as primary, its log not yet resynced */
	/* For hha_genid_resolve() only: */
	bool discard;      /* connect --discard-my-data: this side gives up its changes */
	bool dzc;          /* policy after-split-brain = discard-zero-changes */
	uint64_t oos;      /* blocks its bitmap marks */
};

enum hha_sync_decision {
	HHA_SYNC_NONE,           /* identical generations: nothing to copy */
	HHA_SYNC_BLANK,          /* both new: nothing to copy until one side creates an id */
	HHA_SYNC_SOURCE_FULL,    /* copy everything to the peer */
	HHA_SYNC_SOURCE_BITMAP,  /* copy what our bitmap marks to the peer */
	HHA_SYNC_TARGET_FULL,    /* receive everything from the peer */
	HHA_SYNC_TARGET_BITMAP,  /* receive what the peer's bitmap marks */
	HHA_SYNC_SPLIT_BRAIN,    /* both changed since a common ancestor: refuse */
	HHA_SYNC_UNRELATED,      /* no common history: refuse */
};

/*
 * hha_genid_decide - compare our identifiers with the peer's. The result is
 * from our point of view; the peer, calling with the arguments swapped, gets
 * the mirror image (SOURCE <-> TARGET), so both sides agree without another
 * round trip. The table is in genid.c and docs/disk.md.
 */
enum hha_sync_decision hha_genid_decide(const struct hha_genids *me, const struct hha_genids *peer);
/*
 * hha_genid_resolve - apply the split-brain recovery rules to @dec (the
 * result of hha_genid_decide): a side that asked to discard its data becomes
 * the target (both asking: refused); with discard-zero-changes on both sides
 * a side whose bitmap is empty becomes the target. Only a split of the
 * bitmap kind (both bitmap ids equal) resolves to a bitmap sync; others copy
 * everything. Any other decision passes unchanged. Mirror-symmetric too.
 */
enum hha_sync_decision hha_genid_resolve(const struct hha_genids *me, const struct hha_genids *peer,
					 enum hha_sync_decision dec);
const char *hha_sync_decision_name(enum hha_sync_decision d);

#endif /* HHA_DISK_GENID_H */
