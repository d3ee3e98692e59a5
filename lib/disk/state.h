/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The connection and disk state machines (one per file: cstate.c, dstate.c) and their events. */
#ifndef HHA_DISK_STATE_H
#define HHA_DISK_STATE_H

#include <hybridha/disk.h>

/* Connection events. */
enum hha_cs_event {
	HHA_CSE_CONNECT,        /* the user configured the link */
	HHA_CSE_DISCONNECT,     /* the user asked to drop it */
	HHA_CSE_STOPPED,        /* the link threads have stopped */
	HHA_CSE_UP_NOSYNC,      /* handshake done, nothing to copy */
	HHA_CSE_UP_SOURCE,      /* handshake (or a later state exchange): we copy to the peer */
	HHA_CSE_UP_TARGET,      /* ...the peer copies to us */
	HHA_CSE_SYNC_DONE,      /* the copy finished */
	HHA_CSE_LINK_LOST,      /* the connection broke; reconnect by ourselves */
	HHA_CSE_REFUSED,        /* the peer's data cannot be replicated with ours (split brain, ...) */
	HHA_CSE_COUNT
};

/* Disk events. */
enum hha_ds_event {
	HHA_DSE_ATTACH_UPTODATE,    /* attached; metadata says consistent and current */
	HHA_DSE_ATTACH_OUTDATED,    /* attached; consistent but outdated */
	HHA_DSE_ATTACH_INCONSISTENT,/* attached; not consistent */
	HHA_DSE_DETACH,             /* detached by the user, or after an I/O error */
	HHA_DSE_SYNC_TARGET,        /* becoming a sync target: inconsistent until done */
	HHA_DSE_SYNC_DONE,          /* the sync into this disk finished */
	HHA_DSE_OUTDATE,            /* told the peer is newer */
	HHA_DSE_FORCE_CURRENT,      /* promoted with --force, or both blank and sync skipped */
	HHA_DSE_COUNT
};

/*
 * Transition functions: the state after @ev, or -1 when @ev is not allowed
 * in @s (the caller refuses the operation and logs). Pure and thread-safe.
 */
int hha_cstate_next(enum hha_conn_state s, enum hha_cs_event ev);
int hha_dstate_next(enum hha_disk_state s, enum hha_ds_event ev);
const char *hha_cs_event_name(enum hha_cs_event ev);
const char *hha_ds_event_name(enum hha_ds_event ev);

/* True in the states where writes are replicated to a peer. */
static inline bool hha_cstate_linked(enum hha_conn_state s)
{
	return s == HHA_CS_CONNECTED || s == HHA_CS_SYNCSOURCE || s == HHA_CS_SYNCTARGET;
}

#endif /* HHA_DISK_STATE_H */
