/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The disk state machine of a replicated device. */
#include "config.h"

#include "core/internal.h"
#include "disk/state.h"

/*
 * Transition table (rows: state; columns: event; "-" = not allowed):
 *
 * | state        | ATT_UPTODATE | ATT_OUTDATED | ATT_INCONS   | DETACH   | SYNC_TARGET  | SYNC_DONE | OUTDATE  | FORCE_CURRENT |
 * |--------------|--------------|--------------|--------------|----------|--------------|-----------|----------|---------------|
 * | Diskless     | UpToDate     | Outdated     | Inconsistent | Diskless | -            | -         | -        | -             |
 * | Inconsistent | -            | -            | -            | Diskless | Inconsistent | UpToDate  | -        | UpToDate      |
 * | Outdated     | -            | -            | -            | Diskless | Inconsistent | -         | Outdated | UpToDate      |
 * | UpToDate     | -            | -            | -            | Diskless | Inconsistent | -         | Outdated | UpToDate      |
 *
 * Only a finished sync or an explicit, logged force (promotion --force,
 * skip-sync of two blank disks) makes an inconsistent disk UpToDate.
 */
#define DL HHA_DS_DISKLESS
#define IC HHA_DS_INCONSISTENT
#define OD HHA_DS_OUTDATED
#define UT HHA_DS_UPTODATE
#define NO -1

static const signed char table[HHA_DS_COUNT][HHA_DSE_COUNT] = {
	/*           AUTD ATOD ATIC DETA SYNT DONE OUTD FORC */
	[DL] = { UT, OD, IC, DL, NO, NO, NO, NO },
	[IC] = { NO, NO, NO, DL, IC, UT, NO, UT },
	[OD] = { NO, NO, NO, DL, IC, NO, OD, UT },
	[UT] = { NO, NO, NO, DL, IC, NO, OD, UT },
};

int hha_dstate_next(enum hha_disk_state s, enum hha_ds_event ev)
{
	if ((unsigned)s >= HHA_DS_COUNT || (unsigned)ev >= HHA_DSE_COUNT)
		return -1;
	return table[s][ev];
}

const char *hha_ds_event_name(enum hha_ds_event ev)
{
	static const char *const names[] = { "attach-uptodate", "attach-outdated", "attach-inconsistent",
					     "detach", "sync-target", "sync-done", "outdate",
					     "force-current" };

	return (unsigned)ev < HHA_ARRAY_SIZE(names) ? names[ev] : "?";
}

HHA_EXPORT const char *hha_disk_state_name(enum hha_disk_state s)
{
	static const char *const names[] = { "Diskless", "Inconsistent", "Outdated", "UpToDate" };

	return (unsigned)s < HHA_ARRAY_SIZE(names) ? names[s] : "?";
}

HHA_EXPORT const char *hha_disk_role_name(enum hha_disk_role r)
{
	return r == HHA_ROLE_PRIMARY ? "Primary" : r == HHA_ROLE_SECONDARY ? "Secondary" : "?";
}
