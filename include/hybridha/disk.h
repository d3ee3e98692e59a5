/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A replicated block device: two nodes, protocols A/B/C, an NBD export, full sync. */
#ifndef HYBRIDHA_DISK_H
#define HYBRIDHA_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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

/*
 * Metadata
 * --------
 */

/* Options of hha_disk_create_md(). Zero-initialise, set struct_size, fill in. */
struct hha_disk_md_opts {
	size_t struct_size;      /* sizeof(struct hha_disk_md_opts) */
	const char *name;        /* resource name recorded in the metadata (may be NULL) */
	const char *backing;     /* backing file or block device (required) */
	const char *meta;        /* external metadata file, or NULL / "internal" */
	unsigned al_extents;     /* activity-log size in 4 MiB extents; 0 = 1237 */
	bool force;              /* overwrite metadata that already exists */
};

/* What hha_disk_create_md() made. */
struct hha_disk_md_info {
	uint64_t backing_size;   /* bytes of the backing store */
	uint64_t usable_size;    /* bytes the device offers */
	uint64_t md_size;        /* bytes of metadata */
	bool internal;           /* metadata at the end of the backing store (usable shrank by md_size) */
};

/**
 * hha_disk_create_md - write fresh metadata for a backing store.
 * @ctx: context for logging.
 * @opts: what to create; an external file is created (mode 0600) or resized.
 * @info: receives the sizes (may be NULL).
 *
 * The generation identifiers start empty: the first promotion (with --force)
 * or hha_disk_skip_sync() creates one. Must not be used on a backing store
 * attached anywhere.
 *
 * Return: 0; -EEXIST when valid metadata exists and !@opts->force; -EINVAL
 * (backing store too small, bad options); -errno for I/O errors.
 */
HHA_EXPORT int hha_disk_create_md(struct hha_ctx *ctx, const struct hha_disk_md_opts *opts,
				  struct hha_disk_md_info *info);

/**
 * hha_disk_dump_md - the metadata of a backing store as JSON text.
 * @ctx: context for logging.
 * @backing: backing file or device.
 * @meta: external metadata file, or NULL / "internal".
 * @json: receives a NUL-terminated JSON object (superblock fields, flags,
 *        generation ids, bitmap: set bits and bad pages); the caller frees it.
 *
 * Return: 0; -ENOENT (no metadata); -EBADMSG (both superblock slots corrupt);
 * -HHA_EVERSION; -errno.
 */
HHA_EXPORT int hha_disk_dump_md(struct hha_ctx *ctx, const char *backing, const char *meta,
				char **json);

/*
 * Resources
 * ---------
 * One struct hha_disk is one replicated device ("resource"). Its control
 * functions are called from one thread (the caller's loop); the data path
 * runs on the resource's own threads. Every function below returns 0 or a
 * negative code and leaves a message in hha_last_error().
 */
struct hha_disk;

/**
 * hha_disk_new - create a resource (StandAlone, Diskless, Secondary).
 * @ctx: context; must outlive the resource.
 * @name: resource name, 1..63 bytes of [A-Za-z0-9_.-]; the peer must use the same.
 * @out: receives the resource; free it with hha_disk_free().
 *
 * Return: 0, -EINVAL (bad name), -ENOMEM, -errno (eventfd).
 */
HHA_EXPORT int hha_disk_new(struct hha_ctx *ctx, const char *name, struct hha_disk **out);

/** hha_disk_free - disconnect, detach, close the export and free; NULL is a no-op. */
HHA_EXPORT void hha_disk_free(struct hha_disk *d);

/** hha_disk_name - the resource's name (borrowed, valid until hha_disk_free()). */
HHA_EXPORT const char *hha_disk_name(const struct hha_disk *d);

/* Options of hha_disk_attach(). */
struct hha_disk_attach_opts {
	size_t struct_size;      /* sizeof(struct hha_disk_attach_opts) */
	const char *backing;     /* backing file or block device (required) */
	const char *meta;        /* external metadata file, or NULL / "internal" */
	uint64_t size;           /* explicit device size (multiple of 4096, <= usable), 0 = usable */
	/* A file where the library records where internal metadata lies (the
	 * store's size, the area's offset, the metadata's id; replaced
	 * atomically whenever they change) and looks first when a store grew
	 * while nothing was attached. NULL: none (attach then searches). */
	const char *state_file;
};

/**
 * hha_disk_attach - open the backing store and its metadata.
 * @d: a Diskless resource.
 * @opts: what to attach.
 *
 * The disk becomes UpToDate, Outdated or Inconsistent as the metadata says.
 * Return: 0; -HHA_ESTATE (already attached); -ENOENT (no metadata: run
 * create-md); -EBADMSG (corrupt metadata); -EINVAL (size); -errno.
 */
HHA_EXPORT int hha_disk_attach(struct hha_disk *d, const struct hha_disk_attach_opts *opts);

/**
 * hha_disk_detach - write the bitmap and metadata, close the backing store.
 * Allowed when Secondary and StandAlone (disconnect first).
 * Return: 0; -HHA_ESTATE (primary, connected, or Diskless).
 */
HHA_EXPORT int hha_disk_detach(struct hha_disk *d);

/* Options of hha_disk_connect(). Unset (zero) fields take the defaults shown. */
struct hha_disk_net_opts {
	size_t struct_size;      /* sizeof(struct hha_disk_net_opts) */
	const char *local_addr;  /* address to listen on (required; "0.0.0.0" / "::" for any) */
	int local_port;          /* 7788 */
	const char *peer_addr;   /* the peer's address (required) */
	int peer_port;           /* 7788 */
	enum hha_disk_protocol protocol; /* C */
	enum hha_disk_security security; /* HHA_DISK_SEC_AUTH (0 is NONE: set it explicitly) */
	bool security_set;       /* true: use .security as given (needed to choose NONE) */
	const char *key_file;    /* shared secret (required), not accessible by others */
	int timeout_ms;          /* 5000: a silent peer is dropped after this */
	int ping_int_ms;         /* 1000: keep-alive on an idle link */
	int connect_int_ms;      /* 1000: retry interval */
	int sndbuf;              /* 0 = kernel autotuning */
	/* Since the resync work (read only when struct_size covers them): */
	bool discard_my_data;    /* split-brain recovery: this side's changes since the split are
				  * given up; it becomes the sync target (docs/split-brain.md) */
};

/**
 * hha_disk_connect - start replicating: listen and connect until the peer
 * answers, then keep the link up (reconnecting after failures).
 * @d: an attached, StandAlone resource.
 * @opts: the link.
 *
 * Return: 0 (WFConnection); -HHA_ESTATE; -EINVAL (options); -EACCES (key file
 * readable by others); -EADDRINUSE and other -errno from bind().
 */
HHA_EXPORT int hha_disk_connect(struct hha_disk *d, const struct hha_disk_net_opts *opts);

/**
 * hha_disk_disconnect - drop the link and stop reconnecting (StandAlone).
 * A primary goes on alone and marks what the peer misses.
 * Return: 0; -HHA_ESTATE when already StandAlone.
 */
HHA_EXPORT int hha_disk_disconnect(struct hha_disk *d);

/**
 * hha_disk_primary - become primary (the export accepts writes).
 * @d: the resource.
 * @force: also promote an Inconsistent or Outdated disk (its data may be
 *         stale or garbage; it becomes the source of the next sync).
 *
 * Return: 0; -HHA_EPEERPRIMARY (the peer is primary); -HHA_ENOTUPTODATE
 * (Inconsistent/Outdated without @force); -HHA_ESTATE (Diskless, or a sync
 * target while syncing).
 */
HHA_EXPORT int hha_disk_primary(struct hha_disk *d, bool force);

/**
 * hha_disk_secondary - become secondary: the export refuses new clients and
 * drops current ones after their requests completed.
 * Return: 0.
 */
HHA_EXPORT int hha_disk_secondary(struct hha_disk *d);

/**
 * hha_disk_skip_sync - declare two blank disks identical without copying
 * (both get the same new generation id and become UpToDate). DANGEROUS on
 * disks that are not blank: whatever differs stays different.
 * Allowed when Connected and both sides have empty generation ids.
 * Return: 0; -HHA_ESTATE.
 */
HHA_EXPORT int hha_disk_skip_sync(struct hha_disk *d);

/**
 * hha_disk_set_sync_rate - limit the resync rate.
 * @bytes_per_s: limit; 0 = unlimited, yielding to application writes.
 * Return: 0. Takes effect at once, also during a sync.
 */
HHA_EXPORT int hha_disk_set_sync_rate(struct hha_disk *d, uint64_t bytes_per_s);

/* What a secondary does with NBD clients. */
enum hha_disk_export_secondary {
	HHA_EXPORT_SECONDARY_REFUSE = 0,    /* refuse them (default) */
	HHA_EXPORT_SECONDARY_READ_ONLY = 1, /* serve reads of the local (possibly stale) copy */
};

/* Options of hha_disk_export(). */
struct hha_disk_export_opts {
	size_t struct_size;      /* sizeof(struct hha_disk_export_opts) */
	const char *unix_path;   /* Unix socket path (created; a stale file is replaced), or NULL */
	const char *tcp_addr;    /* TCP address to listen on, or NULL */
	int tcp_port;            /* TCP port; 10809 when 0 */
	const char *name;        /* export name; NULL = the resource name ("" is always accepted too) */
	enum hha_disk_export_secondary secondary; /* what the export does while secondary */
};

/**
 * hha_disk_export - serve the device over NBD.
 * @d: an attached resource.
 * @opts: where and how; at least one of unix_path and tcp_addr.
 *
 * The export offers FLUSH, FUA, TRIM, WRITE_ZEROES and multiple connections
 * (a FLUSH on any connection covers writes answered on all of them, on both
 * nodes under protocol C), with 512-byte blocks and up to 32 MiB per request.
 * Return: 0; -HHA_ESTATE (already exported, or Diskless); -EINVAL; -errno
 * from bind().
 */
HHA_EXPORT int hha_disk_export(struct hha_disk *d, const struct hha_disk_export_opts *opts);

/** hha_disk_unexport - stop serving NBD (clients are dropped). Return: 0. */
HHA_EXPORT int hha_disk_unexport(struct hha_disk *d);

/* A snapshot of a resource for status output. */
struct hha_disk_status {
	size_t struct_size;      /* set by the caller: sizeof(struct hha_disk_status) */
	enum hha_disk_role role, peer_role;
	enum hha_conn_state cstate;
	enum hha_disk_state dstate, peer_dstate; /* peer: Diskless when unknown */
	bool peer_known;
	char protocol;           /* 'A', 'B', 'C', or 0 when not configured */
	uint64_t size;           /* device size in bytes, 0 when Diskless */
	uint64_t sent, received; /* bytes of data to / from the peer */
	uint64_t disk_written, disk_read; /* bytes on the local backing store */
	uint64_t pending;        /* local I/O in flight */
	uint64_t unacked;        /* frames waiting for the peer's answer */
	uint64_t out_of_sync;    /* bytes marked in the bitmap */
	/* while SyncSource / SyncTarget: */
	uint64_t sync_total, sync_done; /* bytes */
	uint64_t sync_rate;      /* configured limit, bytes/s (0 unlimited) */
	double sync_speed_now, sync_speed_avg; /* bytes/s */
	uint64_t uuid_current, uuid_bitmap;
	char last_refusal[160];  /* why the last connection was refused, or "" */
	/* Since the resync work: */
	bool split_brain;        /* the last connection was refused as split brain */
	bool sync_paused;        /* pause-sync is in force */
	bool crashed_primary;    /* attached after a crash as primary; its log not yet resynced */
	bool diskless_primary;   /* the local store failed: reads and writes go to the peer */
	bool csums;              /* checksum-based resync */
	uint64_t resynced;       /* bytes of resync data received/sent since attach */
	uint64_t resync_same;    /* bytes a checksum resync found equal (not sent) */
	uint64_t al_transactions;/* activity-log transactions written since attach */
	double app_write_speed;  /* bytes/s the application wrote over the last second or so */
	/* online verify */
	bool verify_running;
	uint64_t verify_pos, verify_total; /* bytes compared / to compare */
	uint64_t verify_oos;     /* bytes found different (marked out of sync) */
	double verify_speed;     /* bytes/s */
	unsigned verify_nranges; /* ranges in verify_ranges */
	struct { uint64_t off, len; } verify_ranges[16]; /* the first differing ranges */
};

/**
 * hha_disk_status - fill @st (set st->struct_size first; a size from before
 * the resync work gets the fields it knows). Return: 0 or -EINVAL.
 */
HHA_EXPORT int hha_disk_status(struct hha_disk *d, struct hha_disk_status *st);

/* What to do after a split brain is detected. */
enum hha_disk_after_split_brain {
	HHA_AFTER_SB_DISCONNECT = 0,           /* refuse; a person decides (default) */
	HHA_AFTER_SB_DISCARD_ZERO_CHANGES = 1, /* a side that changed nothing becomes the target */
};

/* What an I/O error of the local backing store does. */
enum hha_disk_on_io_error {
	HHA_IO_ERROR_DETACH = 0,       /* detach it; a primary serves from the peer (default) */
	HHA_IO_ERROR_PASS_ON = 1,      /* fail the request to the client, keep the store */
	HHA_IO_ERROR_CALL_HANDLER = 2, /* run the local-io-error handler, then detach */
};

/* Options of hha_disk_set_policy(). */
struct hha_disk_policy_opts {
	size_t struct_size;      /* sizeof(struct hha_disk_policy_opts) */
	enum hha_disk_after_split_brain after_split_brain;
	enum hha_disk_on_io_error on_io_error;
	bool csums;              /* checksum-based resync: only differing blocks cross the link */
	/* Hook commands (absolute paths, run without a shell, environment
	 * HHA_RESOURCE and HHA_EVENT), or NULL: */
	const char *split_brain;          /* after a split brain was refused */
	const char *before_resync_target; /* before this disk becomes a sync target (it is
					   * inconsistent until the sync ends); the sync waits */
	const char *local_io_error;       /* on a local I/O error (call-handler) */
};

/**
 * hha_disk_set_policy - set the resource's policies and hooks.
 * @opts: copied; the strings too. Takes effect at the next handshake / error.
 * Return: 0; -EINVAL (unknown value, hook path not absolute).
 */
HHA_EXPORT int hha_disk_set_policy(struct hha_disk *d, const struct hha_disk_policy_opts *opts);

/**
 * hha_disk_outdate - mark this disk Outdated (persisted): its data is known
 * older than the peer's, and hha_disk_primary() needs force. For a failover
 * manager that knows the primary goes on without this node.
 * Allowed when attached, Secondary and not replicating with a primary.
 * Return: 0; -HHA_ESTATE.
 */
HHA_EXPORT int hha_disk_outdate(struct hha_disk *d);

/**
 * hha_disk_invalidate - this side's data is bad: it becomes Inconsistent and
 * receives everything from the peer (now if connected, else at the next
 * connection). Allowed when attached and Secondary, not a sync target.
 * Return: 0; -HHA_ESTATE.
 */
HHA_EXPORT int hha_disk_invalidate(struct hha_disk *d);

/**
 * hha_disk_invalidate_remote - the peer's data is bad: send it everything.
 * Allowed when Connected (no sync running) and UpToDate.
 * Return: 0; -HHA_ESTATE.
 */
HHA_EXPORT int hha_disk_invalidate_remote(struct hha_disk *d);

/**
 * hha_disk_pause_sync / hha_disk_resume_sync - hold the resync (application
 * writes still replicate) / let it go on. Allowed at any time; a pause lasts
 * until resumed or detached. Return: 0.
 */
HHA_EXPORT int hha_disk_pause_sync(struct hha_disk *d);
HHA_EXPORT int hha_disk_resume_sync(struct hha_disk *d);

/**
 * hha_disk_verify - compare both disks by hashes while in use, from byte
 * @start (a multiple of 4096) to the end; differing blocks are counted,
 * reported in the status and marked out of sync (resynced by
 * hha_disk_resync_marked() or at the next connection).
 * Allowed when Connected, both UpToDate, no sync or verify running.
 * Return: 0; -HHA_ESTATE; -EINVAL (@start).
 */
HHA_EXPORT int hha_disk_verify(struct hha_disk *d, uint64_t start);

/* Options of hha_disk_resize(). */
struct hha_disk_resize_opts {
	size_t struct_size;          /* sizeof(struct hha_disk_resize_opts) */
	uint64_t size;               /* the new size (a multiple of 4096), 0 = the largest both stores hold */
	bool assume_peer_has_space;  /* not connected: grow alone (the peer must grow the same way) */
};

/**
 * hha_disk_resize_start - start growing the device online after its backing
 * store grew (on both nodes), without waiting for the peer. Each side
 * re-reads its store's size; the new size is @opts->size, or the largest
 * both can hold. Internal metadata moves to the store's new end
 * (crash-safe: docs/disk.md), the bitmap grows, and only the new area is
 * copied: the primary (else this node) becomes its sync source. New NBD
 * clients see the new size; connected ones keep the old.
 * Allowed when Connected (no sync or verify running) with both disks
 * UpToDate; with @opts->assume_peer_has_space also when not connected
 * (the new area is copied at the next connection).
 *
 * What needs the peer happens on the resource's threads: the call returns
 * at once and the outcome arrives as one "resize-done" event from
 * hha_disk_dispatch() (ev->result 0 or a negative code below, ev->message
 * says why; after success the status shows the new size). Without an
 * answer from the peer within twice the link's timeout plus 10 s, the
 * event carries -ETIMEDOUT (the peer may still grow; the next connection
 * settles the size, docs/disk.md).
 *
 * Return: 0 (done already: the size asked for is the current one, or a
 * node that is not connected grew alone); 1 (started: a "resize-done"
 * event follows); or at once -HHA_ESTATE (state; not connected); -EINVAL
 * (shrinking, a bad size); -ENOSPC (this store did not grow enough: the
 * message names its size); -EOPNOTSUPP (the peer's hhad is too old, or
 * external metadata that is not a regular file); -EBUSY (a resize is
 * running); -errno (writing the metadata). The event's result may also be
 * -ENOSPC (the peer's store did not grow: its size is named), -EBUSY (the
 * peer is busy), -ECONNRESET (the link broke meanwhile) or -ETIMEDOUT.
 */
HHA_EXPORT int hha_disk_resize_start(struct hha_disk *d, const struct hha_disk_resize_opts *opts);

/**
 * hha_disk_resize - hha_disk_resize_start() and wait for its outcome.
 * Blocks the calling thread until both sides grew or one refused (at most
 * about twice the link's timeout plus 10 s), so it suits a program with
 * no event loop of its own; a loop that must keep running (hhad, which
 * also sends the membership heartbeats) calls hha_disk_resize_start() and
 * waits for the "resize-done" event instead. The event is posted either way.
 * Return: 0 once resized, or the codes of hha_disk_resize_start() and of
 * its event (the message in hha_last_error()).
 */
HHA_EXPORT int hha_disk_resize(struct hha_disk *d, const struct hha_disk_resize_opts *opts);

/**
 * hha_disk_resync_marked - copy what the bitmap marks (after a verify) to
 * the peer. Allowed when Connected and UpToDate. Return: 0; -HHA_ESTATE.
 */
HHA_EXPORT int hha_disk_resync_marked(struct hha_disk *d);

/* An event: a state change or something a person should know. */
struct hha_disk_event {
	const char *what;        /* "state", "refused", "sync-done", "peer-lost", ... */
	const char *message;     /* one line for people */
	enum hha_disk_role role, peer_role;
	enum hha_conn_state cstate;
	enum hha_disk_state dstate, peer_dstate;
	uint64_t old_size, new_size; /* "resized": the device size before and after, else 0 */
	int result;              /* "resize-done": 0 or the negative error of hha_disk_resize_start() */
};

/**
 * hha_disk_set_event_fn - be told about events.
 * @fn: called from hha_disk_dispatch() (the caller's thread) for each event;
 *      the event is borrowed for the call. NULL stops the calls.
 * @ud: passed to @fn.
 */
HHA_EXPORT void hha_disk_set_event_fn(struct hha_disk *d,
				      void (*fn)(struct hha_disk *d, const struct hha_disk_event *ev,
						 void *ud),
				      void *ud);

/**
 * hha_disk_fd - an fd that becomes readable when hha_disk_dispatch() has
 * work (events from the resource's threads). Owned by the resource.
 */
HHA_EXPORT int hha_disk_fd(const struct hha_disk *d);

/** hha_disk_next_deadline - when to call hha_disk_dispatch() at the latest (ms, CLOCK_MONOTONIC; -1 none). */
HHA_EXPORT int64_t hha_disk_next_deadline(const struct hha_disk *d);

/**
 * hha_disk_dispatch - deliver queued events and do periodic work (bitmap
 * write-back). Call when hha_disk_fd() is readable or the deadline passed.
 * Return: 0.
 */
HHA_EXPORT int hha_disk_dispatch(struct hha_disk *d);

HHA_END_DECLS

#endif /* HYBRIDHA_DISK_H */
