/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A replicated block device: two nodes, protocols A/B/C, an NBD export, full sync. */
#ifndef HYBRIDHA_DISK_H
#define HYBRIDHA_DISK_H

#include <stdbool.h>

#include <hybridha/ctx.h>

HHA_BEGIN_DECLS

/* Roles. */
enum hha_disk_role {
	HHA_ROLE_SECONDARY = 0,
	HHA_ROLE_PRIMARY = 1,
};

/* Connection states (the names are what users see). */
enum hha_conn_state {
	HHA_CS_STANDALONE = 0,   /* not trying to connect */
	HHA_CS_WFCONNECTION = 1, /* listening and connecting, no peer yet */
	HHA_CS_CONNECTED = 2,    /* replicating, both in sync */
	HHA_CS_SYNCSOURCE = 3,   /* replicating and copying our data to the peer */
	HHA_CS_SYNCTARGET = 4,   /* replicating and receiving the peer's data */
	HHA_CS_DISCONNECTING = 5,/* tearing the link down */
	HHA_CS_COUNT
};

/* Disk states. */
enum hha_disk_state {
	HHA_DS_DISKLESS = 0,     /* no backing store attached */
	HHA_DS_INCONSISTENT = 1, /* not a usable image (new, or mid-sync as target) */
	HHA_DS_OUTDATED = 2,     /* consistent but older than the peer's */
	HHA_DS_UPTODATE = 3,     /* consistent and current */
	HHA_DS_COUNT
};

/* Replication protocols (DRBD's meaning; see docs/disk.md). */
enum hha_disk_protocol {
	HHA_PROTO_A = 'A', /* ack when written locally and in the send buffer */
	HHA_PROTO_B = 'B', /* ack when written locally and received by the peer */
	HHA_PROTO_C = 'C', /* ack when written on both backing stores */
};

/* Security of the peer link after the handshake (which always authenticates). */
enum hha_disk_security {
	HHA_DISK_SEC_NONE = 0,    /* frames unprotected: a dedicated cable only */
	HHA_DISK_SEC_AUTH = 1,    /* every frame authenticated (AES-256-GCM tag) */
	HHA_DISK_SEC_ENCRYPT = 2, /* every frame authenticated and encrypted */
};

/** hha_disk_role_name - "Primary" or "Secondary". Never NULL. */
HHA_EXPORT const char *hha_disk_role_name(enum hha_disk_role r);
/** hha_conn_state_name - "StandAlone", "WFConnection", ... Never NULL ("?" if out of range). */
HHA_EXPORT const char *hha_conn_state_name(enum hha_conn_state s);
/** hha_disk_state_name - "Diskless", "Inconsistent", "Outdated", "UpToDate". Never NULL. */
HHA_EXPORT const char *hha_disk_state_name(enum hha_disk_state s);

HHA_END_DECLS

#endif /* HYBRIDHA_DISK_H */
