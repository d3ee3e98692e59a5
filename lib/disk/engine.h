/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The replication engine's internals, shared by its files (disk.c, io.c, link.c, peer.c, ...). */
#ifndef HHA_DISK_ENGINE_H
#define HHA_DISK_ENGINE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <hybridha/disk.h>

#include "core/internal.h"
#include "disk/al.h"
#include "disk/bitmap.h"
#include "disk/genid.h"
#include "disk/inflight.h"
#include "disk/md.h"
#include "disk/nbd-server.h"
#include "disk/state.h"
#include "disk/wire-sec.h"
#include "disk/wire.h"

/*
 * Threads of one resource (HAST's pipeline):
 *   - the caller's loop thread: the public API, events, periodic work;
 *   - NBD server threads: call hha_disk_submit() for each client request;
 *   - IO_THREADS backing-store workers: pread/pwrite/fdatasync/fallocate;
 *   - the link thread: listens, connects, runs the handshake, then reads
 *     frames from the peer (the receiver) until the link breaks;
 *   - the sender thread, one per connection: writes queued frames;
 *   - the resync thread, while SyncSource.
 * Locks, always taken in this order: d->lock (roles, states, the in-flight
 * tree, the gate), then a queue's own lock (ioq, sendq, acks), then the
 * bitmap's io_lock. The loop thread's calls (status, dispatch, verbs) take
 * d->lock, so no thread may hold it across backing-store I/O or a wait for
 * the peer; a few metadata writes still do (docs/disk.md, "Who waits for
 * what", lists them). The metadata move of a resize, the superblock
 * writes that start a sync and the new generation id of a primary that
 * loses its peer run without it (hha_disk_md_persist, md_busy, nc_busy).
 */

#define HHA_DISK_IO_THREADS 4
#define HHA_DISK_RS_CHUNK (1u << 20)    /* largest resync block */
#define HHA_DISK_RS_WINDOW (8u << 20)   /* resync bytes in flight, unloaded */
#define HHA_DISK_RS_BARRIER (16u << 20) /* resync bytes between the source's barriers */
#define HHA_DISK_MAX_PAYLOAD (32u << 20)
#define HHA_DISK_INLINE_MAX (128u << 10) /* page-cache I/O this small runs on the calling thread */
#define HHA_AL_OP_MAX 9u                  /* activity-log extents one op may hold (32 MiB, unaligned) */

struct hha_disk;
struct hha_conn;

/* A unit of work for the backing-store workers. */
struct hha_job {
	struct hha_job *next;
	void (*run)(struct hha_disk *d, struct hha_job *j);
};

struct hha_workq {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct hha_job *head, **tail;
	bool stop;
	int nthreads;
	pthread_t th[HHA_DISK_IO_THREADS];
};

/* A frame waiting for the sender. @sent runs once after it was written (err 0)
 * or dropped with the connection (err < 0). */
struct hha_sitem {
	struct hha_sitem *next;
	struct hha_wire_hdr h;
	const void *payload;
	void (*sent)(struct hha_conn *c, struct hha_sitem *si, int err);
};

/* Kinds of operations. */
enum hha_op_kind {
	HHA_OP_APP,      /* primary: an NBD request */
	HHA_OP_PEER,     /* secondary: a write/trim/zero received from the primary */
	HHA_OP_RS_READ,  /* sync source: read a block to send */
	HHA_OP_RS_WRITE, /* sync target: write a received block */
	HHA_OP_BARRIER,  /* secondary: flush for a received barrier */
	HHA_OP_CSUM,     /* hash a range: to ask the peer (CSUM_REQ) or to answer it */
};

/* Local commands (the NBD values, plus our own). */
enum { HHA_CMD_READ = 0, HHA_CMD_WRITE = 1, HHA_CMD_FLUSH = 3, HHA_CMD_TRIM = 4, HHA_CMD_ZERO = 6 };

/*
 * One operation in flight. Its parts (local I/O, the peer's answer, the
 * sender's reference to an embedded frame) each hold one count of
 * @pending; whoever drops the last finishes it.
 */
struct hha_op {
	struct hha_job job;
	struct hha_ival iv;
	struct hha_sitem si;
	struct hha_disk *d;
	struct hha_op *next;      /* gate / blocked / hash chains */
	struct hha_op *hnext;
	struct hha_nbd_req *req;  /* HHA_OP_APP */
	void *buf;                /* payload (borrowed from req, or pooled) */
	uint64_t off;
	uint32_t len;
	uint32_t buflen;          /* pooled buffer size, 0 if borrowed */
	uint64_t seq;             /* wire sequence (primary) / receive order (secondary) */
	uint64_t peer_seq;        /* secondary: the primary's sequence, for acks */
	struct hha_epoch *epoch;  /* secondary: its barrier epoch */
	uint64_t conn_gen;        /* secondary: the connection it came on */
	uint8_t kind, cmd, flags;
	bool replicate;           /* the peer gets it */
	bool waiting;             /* in the tree, held back by an earlier overlapping op */
	bool inline_ok;           /* the submitting thread may do the local I/O itself */
	bool kicker;              /* the thread starting it kicks the sender afterwards */
	bool run_inline;          /* ...and will, once it released d->lock */
	/* non-application ops: start the op once it may run (d->lock held) */
	void (*start)(struct hha_disk *d, struct hha_op *op);
	atomic_int pending;       /* lifetime: freed at 0 */
	atomic_int reply;         /* APP: the client is answered at 0 */
	atomic_int err;
	atomic_int peer_res;      /* the peer part: 0 pending, 1 done, 2 failed (decided once) */
	atomic_bool reply_released; /* the peer's share of @reply was released */
	void (*finish)(struct hha_op *op); /* non-APP ops: before the op is freed */
	int64_t t0_ns;
	/* activity log (APP writes) */
	uint32_t al_slot[HHA_AL_OP_MAX];
	uint8_t al_n;             /* references held */
	bool al_done;             /* the log covers it (or need not) */
	bool al_big;              /* too large for the log: its range is marked in the bitmap */
	bool peer_part;           /* a frame went to the peer for it */
	bool remote;              /* a read served by the peer (Diskless primary) */
	atomic_bool local_failed; /* the local store failed it; the peer's result decides */
	void *hashes;             /* HHA_OP_CSUM probe: the frame's payload */
};

/* The sender queue and the table of frames waiting for acknowledgement. */
#define HHA_ACK_BUCKETS 1024
struct hha_conn {
	struct hha_disk *d;
	int fd;
	uint64_t gen;             /* link generation */
	struct hha_wire_sec sec;
	bool initiator;
	uint32_t features;        /* HHA_WIRE_F_* both sides announced */
	char peer_desc[80];       /* "addr:port" for logs */
	/* sender */
	pthread_t sender;
	bool sender_started;
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	struct hha_sitem *qhead, **qtail;
	bool qstop;
	bool busy;                /* a thread (sender or a kicker) is writing (qlock) */
	int tx_err;               /* the first send error; later frames fail too */
	atomic_int users;         /* threads holding a pointer outside d->lock */
	int64_t last_tx_ms;
	uint8_t *ctext;           /* encrypt mode scratch */
	size_t ctext_len;
	/* acks */
	pthread_mutex_t alock;
	struct hha_op *acks[HHA_ACK_BUCKETS];
	/* receiver */
	uint8_t *rbuf;
	size_t rlen, rpos;
	int64_t last_rx_ms;
	atomic_bool failed;
	atomic_bool closing;      /* orderly close: drain the sender, then shut down */
	pthread_mutex_t flock;    /* fail_why */
	char fail_why[160];
};

/* Secondary barrier epochs: writes received between two barriers. */
struct hha_epoch {
	struct hha_epoch *next;
	uint64_t conn_gen;        /* the connection its barrier came on (0 once it is gone) */
	uint64_t outstanding;     /* writes of this epoch not yet written */
	bool closed;              /* its barrier arrived */
	uint64_t barrier_seq;
};

/* Events queued for the loop thread. */
struct hha_devent {
	struct hha_devent *next;
	uint64_t old_size, new_size; /* "resized" */
	int result;                  /* "resize-done" */
	char what[32];
	char message[256];
};

/* Buffer pool: power-of-two size classes from 4 KiB to 32 MiB. */
#define HHA_POOL_CLASSES 14
struct hha_bufpool {
	pthread_mutex_t lock;
	void *free[HHA_POOL_CLASSES];
	size_t cached;
	bool used;                /* since the last trim */
};

struct hha_net_conf {
	char local_addr[64];
	int local_port;
	char peer_addr[64];
	int peer_port;
	char protocol;
	enum hha_wire_security security;
	char key_file[256];
	int timeout_ms, ping_int_ms, connect_int_ms;
	int sndbuf;
};

struct hha_disk {
	struct hha_ctx *ctx;
	char name[HHA_WIRE_NAME_MAX];
	pthread_mutex_t lock;
	pthread_cond_t cond;      /* state changes, for threads that wait */

	/* states (d->lock) */
	enum hha_disk_role role;
	enum hha_conn_state cstate;
	enum hha_disk_state dstate;
	bool peer_known;
	struct hha_wire_state peer;
	bool linked;              /* writes go to the peer */
	bool gated;               /* handshake done, decision pending: hold new writes */
	struct hha_op *gate_head, **gate_tail;
	bool uuid_fresh;          /* current id rotated since the peer was last linked */
	bool nc_pending;          /* ...but not yet durable (its write is running or failed) */
	bool nc_busy;             /* a thread persists it without d->lock (hha_disk_new_current) */
	struct hha_op *nc_wait_head, **nc_wait_tail; /* writes held until it is durable */
	struct hha_job nc_job;    /* a worker makes it for held writes (hha_disk_new_current_async) */
	bool nc_job_queued;
	bool discard_my_data;     /* connect --discard-my-data: until the next sync as target ends */
	bool policy_dzc;          /* after_split_brain = discard-zero-changes */
	enum hha_disk_on_io_error on_io_error;
	bool csums;               /* checksum-based resync */
	char *hook_split_brain, *hook_before_resync_target, *hook_local_io_error;
	int hooks_running;        /* hook threads alive (d->lock) */
	bool split_brain;         /* the last refusal was a split brain */
	bool disk_failed;         /* the backing store failed: detached (fds still open) */
	bool diskless_primary;    /* ...and as primary we serve from the peer */
	bool peer_diskless;       /* the peer's disk is Diskless: nothing to replicate to */
	char last_refusal[160];
	int64_t last_refusal_ms;

	/* backing store */
	char state_file[256];     /* where the metadata's place is recorded ("" none; mdhint.c) */
	int fd, md_fd;            /* md_fd == fd for internal metadata */
	bool is_blockdev;
	char backing[256], meta[256];
	uint64_t want_size;       /* explicit size, 0 = usable size */
	uint64_t size;            /* the device size in use */
	struct hha_md_sb sb;
	struct hha_bitmap bm;
	bool bm_loaded;
	struct hha_workq ioq;
	struct hha_bufpool pool;
	bool crash_resync;        /* attached after a crash as primary; its log extents are marked */

	/* activity log (actlog.c; d->lock unless said) */
	struct hha_al al;
	bool al_running, al_stop;
	pthread_t al_thread;
	pthread_cond_t al_cond;
	struct hha_op *al_wait_head, **al_wait_tail;
	/* written since the peer's last answered barrier (primary, sync source):
	 * [0] since our last barrier, [1] before barriers not yet answered */
	struct hha_epset {
		struct { uint64_t off; uint64_t len; } *r;
		size_t n;
		uint64_t *ext;       /* beyond the list: by 4 MiB extent */
		bool ext_any;
	} ep[2];
	size_t ep_words;
	uint64_t ep_barrier;
	int64_t ep_last_barrier_ms;

	/* primary */
	uint64_t seq;
	struct hha_ivtree tree;
	uint64_t app_inflight;    /* atomic: application requests in flight */
	void (*complete)(struct hha_nbd_req *req, int err);

	/* secondary */
	uint64_t rx_order;
	struct hha_epoch *ep_head, *ep_tail;

	/* link */
	bool net_configured;
	struct hha_net_conf net;
	uint8_t *key;
	size_t keylen;
	uint64_t instance;
	int listen_fd;
	int wake_fd;              /* eventfd: wakes the link thread */
	pthread_t link_thread, accept_thread;
	int rx_running;           /* receiver threads alive (d->lock) */
	int64_t next_connect_ms;  /* d->lock */
	bool link_started;
	atomic_bool link_stop;
	struct hha_conn *conn;    /* d->lock; NULL while not connected */
	uint64_t conn_gen;
	atomic_bool poke;         /* connect out now */

	/* resync */
	pthread_t rs_thread;
	bool rs_started;
	bool rs_exited;           /* its thread has left its loop (may still need a join) */
	atomic_bool rs_stop;
	uint64_t rs_rate;         /* bytes/s, 0 = unlimited (yielding) */
	uint64_t rs_inflight;     /* d->lock */
	uint64_t rs_total, rs_done_bytes;
	int64_t rs_start_ms;
	uint64_t rs_cursor;
	bool rs_all_sent;
	bool rs_peer_ready;       /* source: the target's marks arrived (RS_START) */
	bool rs_paused;           /* pause-sync */
	double rs_ctl_rate;       /* the controller's current rate, bytes/s (0 unlimited) */
	double app_base;          /* application writes/s before the sync (status sampling) */
	int64_t app_base_ms;      /* ...its last sample */
	uint64_t app_base_ops;
	uint64_t rs_unflushed;    /* source: bytes acknowledged since the last resync barrier */
	int64_t rs_sample_ms;     /* status: speed sampling */
	uint64_t rs_sample_done;
	double rs_speed_now;

	/* online resize (resize.c; d->lock) */
	bool rz_busy;             /* a resize is being negotiated or applied */
	bool rz_delegated;        /* ours went to the primary, which runs it */
	uint64_t rz_seq;          /* our RESIZE waiting for its reply, 0 none */
	uint64_t rz_owed;         /* a peer's delegated RESIZE we answer when ours is done, 0 none */
	uint64_t rz_next_seq;
	uint64_t rz_want;         /* the size asked for, 0 = the largest */
	int rz_result;            /* the outcome for the waiting caller (1 = pending) */
	bool rz_caller;           /* started by hha_disk_resize_start(): a resize-done event is owed */
	int64_t rz_deadline_ms;   /* ...and it fails with -ETIMEDOUT after this (CLOCK_MONOTONIC) */
	char rz_msg[200];
	bool al_paused, al_busy;  /* the activity log's thread is held / in a transaction */
	bool md_busy;             /* a thread writes the superblock (or moves the metadata)
				   * without d->lock: other superblock writers wait (d->lock) */

	/* online verify (d->lock) */
	pthread_t ov_thread;
	bool ov_started, ov_running, ov_stop;
	uint64_t ov_start, ov_pos, ov_done, ov_end, ov_inflight, ov_oos;
	int64_t ov_start_ms;
	unsigned ov_nranges;
	struct { uint64_t off, len; } ov_ranges[16];

	/* export */
	struct hha_nbd_server *nbd;
	char export_unix[256];
	char export_tcp[80];
	bool export_ro_secondary;

	/* events */
	int efd;
	pthread_mutex_t ev_lock;
	bool bm_flushing;
	struct hha_devent *ev_head, **ev_tail;
	void (*event_fn)(struct hha_disk *d, const struct hha_disk_event *ev, void *ud);
	void *event_ud;
	int64_t next_bm_flush_ms;
	int64_t next_ep_ms;       /* the next idle barrier check */
	int64_t last_bm_flush_ms;

	/* counters (atomic) */
	uint64_t st_sent, st_recv, st_dw, st_dr, st_pending, st_unacked;
	uint64_t st_app_writes, st_app_reads;
	uint64_t st_al_txns;
	uint64_t st_app_wbytes;   /* bytes the application wrote */
	uint64_t st_resynced;     /* resync bytes sent (source) or written (target) */
	uint64_t st_rs_same;      /* checksum resync: bytes found equal */
	int64_t app_sample_ms;    /* status: application speed sampling (d->lock) */
	uint64_t app_sample_bytes;
	double app_speed;
};

/* @ts = now + @ms on CLOCK_MONOTONIC (for condition variables made with that clock). */
static inline void hha_ts_in(struct timespec *ts, int64_t ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

#define ADD(c, v) __atomic_fetch_add(&(c), (v), __ATOMIC_RELAXED)
#define SUB(c, v) __atomic_fetch_sub(&(c), (v), __ATOMIC_RELAXED)
#define GET(c) __atomic_load_n(&(c), __ATOMIC_RELAXED)

/* disk.c */
/* A "resized" event with the sizes before and after. */
void hha_disk_post_resized(struct hha_disk *d, uint64_t old_size, uint64_t new_size);
/* The outcome of a resize the caller started: 0 or -errno, and why (d->lock held). */
void hha_disk_post_resize_done(struct hha_disk *d, int result, const char *msg);
void hha_disk_post_event(struct hha_disk *d, const char *what, const char *fmt, ...) HHA_PRINTF(3, 4);
/* Apply a state event under d->lock; logs and posts an event. false if not allowed. */
bool hha_disk_cs_event(struct hha_disk *d, enum hha_cs_event ev);
bool hha_disk_ds_event(struct hha_disk *d, enum hha_ds_event ev);
/* Our STATE (d->lock held). */
void hha_disk_fill_state(struct hha_disk *d, struct hha_wire_state *s);
/* mdhint.c: record where internal metadata lies in d->state_file, if it changed (d->lock held). */
void hha_disk_record_md(struct hha_disk *d);
/* Attach's search for internal metadata: the end, the record, the search (mdhint.c). */
int hha_disk_md_locate(struct hha_disk *d, const struct hha_disk_attach_opts *o, uint64_t msize,
		       struct hha_md_read_info *info, uint64_t *mend, uint64_t bsize);
/* Write the superblock (d->lock held; kept across the write). Waits while
 * another thread writes it without the lock (md_busy), releasing d->lock. */
int hha_disk_md_write(struct hha_disk *d);
/* Write the dirty bitmap pages (@bm) and then the superblock as it is now,
 * with d->lock released during the I/O (held on entry and on return: the
 * caller re-checks what may have changed). 0 or -errno. */
int hha_disk_md_persist(struct hha_disk *d, bool bm);
/* A new current id, in memory only (d->lock held): the caller writes it. */
void hha_disk_rotate_id(struct hha_disk *d, const char *why);
/* Primary without peer: a new current id, persisted before any write is
 * answered without the peer. d->lock held on entry and on return, released
 * during the write (hha_disk_md_persist): the caller re-checks what may have
 * changed. Writes that would be answered without the peer meanwhile are held
 * (hha_op_start) and started once it is durable. A second caller waits for
 * the first one's write. 0 or -errno (the id stays pending; writes fail). */
int hha_disk_new_current(struct hha_disk *d, const char *why);
/* The same on a worker, for writes hha_op_start held because nobody made
 * the id yet (d->lock held; returns at once). */
void hha_disk_new_current_async(struct hha_disk *d);
struct hha_genids hha_disk_my_genids(struct hha_disk *d);

/* ioerr.c */
/* The local store failed with @err (d->lock not held): applies on_io_error.
 * True when the request can be served by the peer instead (@can_absorb: a
 * write that also went to the peer, or a read). */
bool hha_ioerr_local(struct hha_disk *d, int err, bool can_absorb);
/* The peer's disk is Diskless: new id and marks persisted; d->lock held,
 * released during the writes (the caller re-checks). */
void hha_ioerr_peer_diskless(struct hha_disk *d);
/* Serve @op (a read) from the peer; takes over its local share (d->lock held). */
void hha_remote_read(struct hha_disk *d, struct hha_op *op);
int hha_remote_read_reply(struct hha_conn *c, const struct hha_wire_hdr *h, void *buf, uint32_t cap);
int hha_sec_rx_read(struct hha_conn *c, const struct hha_wire_hdr *h);

/* admin.c */
/* Run a hook command and wait for it (at most a minute); its exit status or -errno. */
int hha_disk_run_hook(struct hha_disk *d, const char *path, const char *event);
/* The same on a thread of its own (d->lock held); with @conn_gen, the
 * target's marks and RS_START go out on that connection afterwards. */
int hha_disk_hook_async(struct hha_disk *d, const char *path, const char *event, uint64_t conn_gen, bool full);
void hha_disk_hooks_wait(struct hha_disk *d);
/* Our bitmap's marks are to be resynced from us at the next connection (or
 * now): rows 6b/6c, persisted; @announce tells a connected peer (d->lock held). */
void hha_disk_push_marks(struct hha_disk *d, bool announce);
/* The primary went on without us: Outdated, persisted (d->lock held,
 * released during the write). */
void hha_disk_outdate_self(struct hha_disk *d, const char *why);

/* io.c */
int hha_workq_start(struct hha_disk *d);
void hha_workq_stop(struct hha_disk *d);
void hha_workq_push(struct hha_disk *d, struct hha_job *j);
void *hha_pool_get(struct hha_disk *d, uint32_t len, uint32_t *cap);
void hha_pool_put(struct hha_disk *d, void *buf, uint32_t cap);
void hha_pool_fini(struct hha_disk *d);
/* Free cached buffers if the pool was not used since the last call. */
void hha_pool_trim(struct hha_disk *d);
/* Backing-store operations; 0 or -errno. */
int hha_io_write(struct hha_disk *d, const void *buf, uint32_t len, uint64_t off, bool fua);
int hha_io_read(struct hha_disk *d, void *buf, uint32_t len, uint64_t off);
int hha_io_flush(struct hha_disk *d);
int hha_io_trim(struct hha_disk *d, uint64_t off, uint64_t len, bool fua);
int hha_io_zero(struct hha_disk *d, uint64_t off, uint64_t len, bool may_trim, bool fua);
/* One local operation by command (HHA_CMD_*). */
int hha_io_apply(struct hha_disk *d, uint8_t cmd, void *buf, uint64_t off, uint32_t len, bool fua,
		 bool may_trim);
int hha_io_open_backing(struct hha_disk *d, const char *path, int *fd, uint64_t *size, bool *blk);

/* actlog.c */
/* Load the log at attach; a crashed primary's extents go into the bitmap. */
int hha_al_attach(struct hha_disk *d);
int hha_al_start(struct hha_disk *d);
void hha_al_stop(struct hha_disk *d);       /* d->lock not held; frees the log */
/* An application write may start (d->lock held): true, or false when it
 * waits for a log transaction (the log's thread starts it later). */
bool hha_al_begin(struct hha_disk *d, struct hha_op *op);
/* Its references go (any thread, no lock needed). */
void hha_al_end(struct hha_disk *d, struct hha_op *op);
int hha_ep_init(struct hha_disk *d);
void hha_ep_fini(struct hha_disk *d);
/* The peer's unflushed writes, d->lock held: a write or a resync block
 * reached the peer; a barrier was queued; the barrier @seq was answered;
 * the link broke (marks them in the bitmap, returns the bits newly set). */
void hha_ep_mark(struct hha_disk *d, uint64_t off, uint64_t len);
void hha_ep_barrier(struct hha_disk *d, uint64_t seq);
void hha_ep_barrier_acked(struct hha_disk *d, uint64_t seq);
uint64_t hha_ep_to_bitmap(struct hha_disk *d);
bool hha_ep_dirty(const struct hha_disk *d);
/* A barrier of our own (resync, idle writes): the peer flushes, and
 * answers; d->lock held. */
void hha_disk_send_barrier(struct hha_disk *d);

/* primary.c */
void hha_disk_submit(void *ud, struct hha_nbd_req *req);
/* Start an op that may run now (d->lock held). */
void hha_op_start(struct hha_disk *d, struct hha_op *op);
void hha_disk_release_gate(struct hha_disk *d);       /* d->lock held */
void hha_op_start_unblocked(struct hha_disk *d, struct hha_op *done); /* d->lock held */
/* secondary.c: answer the peer's request @op (a read, a checksum compare)
 * with a frame of @type carrying error @r (in aux) and @plen bytes of
 * @payload, if connection @c still stands, then finish @op: out of the tree, the ops
 * it held started, d->lock (held on entry) released, our reference dropped;
 * the frame keeps the op until it is sent. */
void hha_op_answer(struct hha_disk *d, struct hha_conn *c, struct hha_op *op, uint8_t type, uint8_t flags,
		   int r, uint32_t plen, void *payload);
void hha_op_put(struct hha_op *op);
void hha_op_set_err(struct hha_op *op, int err);
/* An APP op's local part ends without I/O, with @err (d->lock held). */
void hha_op_fail_local(struct hha_op *op, int err);
void hha_op_peer_settle(struct hha_op *op, bool ok);
void hha_op_free(struct hha_op *op);
/* Enter the in-flight tree; start now (op->start, or the primary's start) or
 * wait for earlier overlapping ops (d->lock held). */
void hha_op_enter(struct hha_disk *d, struct hha_op *op);
/* The same, for a caller that kicks the sender once it released d->lock. */
void hha_op_enter_kick(struct hha_disk *d, struct hha_op *op, bool caller_kicks);
/* Count it pending and hand it to a worker. */
void hha_op_push(struct hha_disk *d, struct hha_op *op, void (*run)(struct hha_disk *d, struct hha_job *j));
/* A write received from the peer (DATA/TRIM/ZERO or RS_DATA), owning @buf. */
struct hha_op *hha_op_rx_new(struct hha_conn *c, const struct hha_wire_hdr *h, void *buf, uint32_t cap,
			     enum hha_op_kind kind, void (*start)(struct hha_disk *d, struct hha_op *op));
/* Send an answer in @op's embedded frame if its connection is still up (d->lock held). */
void hha_op_send_ack(struct hha_disk *d, struct hha_op *op, uint8_t type, uint32_t aux, bool wake);
/* Settle every frame still waiting for the peer (link teardown). */
void hha_conn_sweep_acks(struct hha_conn *c);

/* secondary.c */
int hha_sec_rx_write(struct hha_conn *c, const struct hha_wire_hdr *h, void *buf, uint32_t cap);
int hha_sec_rx_barrier(struct hha_conn *c, const struct hha_wire_hdr *h);
/* A connection starts (fresh epoch) or ends (its barriers need no answer); d->lock held. */
int hha_sec_conn_start(struct hha_disk *d, struct hha_conn *c);
void hha_sec_conn_end(struct hha_disk *d, struct hha_conn *c);

/* peer.c */
struct hha_sitem *hha_sitem_new(uint8_t type, uint64_t seq, uint32_t aux, size_t payload_len);
/* Queue a frame (sendq lock); false if the connection is stopping (si->sent ran).
 * hha_conn_queue() does not wake the sender: for a caller that calls
 * hha_conn_kick() (or is the receiver, which kicks before it waits). */
bool hha_conn_send(struct hha_conn *c, struct hha_sitem *si);
bool hha_conn_queue(struct hha_conn *c, struct hha_sitem *si);
void hha_conn_ack_add(struct hha_conn *c, struct hha_op *op);
struct hha_op *hha_conn_ack_take(struct hha_conn *c, uint64_t seq);
struct hha_conn *hha_conn_new(struct hha_disk *d, int fd, bool initiator);
void hha_conn_free(struct hha_conn *c);
int hha_conn_start_sender(struct hha_conn *c);
/* Write what is queued from the calling thread if nobody is writing (saves
 * the sender thread's wake-up on the latency path). Never with d->lock held. */
void hha_conn_kick(struct hha_conn *c);
/* The current connection with a reference (d->lock held), or NULL; drop it
 * with hha_conn_unref() (without d->lock). */
struct hha_conn *hha_conn_ref(struct hha_disk *d);
void hha_conn_unref(struct hha_conn *c);
void hha_conn_stop_sender(struct hha_conn *c);
/* The receive loop; returns when the link broke (reason in c->fail_why). */
void hha_conn_receive(struct hha_conn *c);
void hha_conn_fail(struct hha_conn *c, const char *fmt, ...) HHA_PRINTF(2, 3);
/* End the connection in order: what is queued (a REFUSE, a DISCONNECT) still goes out. */
void hha_conn_close(struct hha_conn *c, const char *fmt, ...) HHA_PRINTF(2, 3);
/* Send our STATE frame (d->lock held). */
void hha_conn_send_state(struct hha_conn *c);
/* The current connection if it is generation @gen, else NULL (d->lock held). */
static inline struct hha_conn *hha_disk_conn_if(struct hha_disk *d, uint64_t gen)
{
	return d->conn && d->conn->gen == gen ? d->conn : NULL;
}
/* Read/write exactly n bytes with the link's timeouts (handshake). */
int hha_conn_read_raw(struct hha_conn *c, void *buf, size_t n, int timeout_ms);
int hha_conn_write_raw(struct hha_conn *c, const void *buf, size_t n);

/* link.c */
int hha_link_listen(struct hha_disk *d);
int hha_link_start(struct hha_disk *d);
void hha_link_stop(struct hha_disk *d);
/* The peer's STATE arrived (receiver thread, d->lock not held). */
int hha_link_on_state(struct hha_conn *c, const struct hha_wire_state *s);
/* The target's marks and RS_START on connection @gen, if it is still current (d->lock not held). */
void hha_link_target_ready(struct hha_disk *d, uint64_t gen, bool full);
/* Become the sync source per @dec (SOURCE_FULL / SOURCE_BITMAP); d->lock held. */
int hha_link_begin_source(struct hha_conn *c, enum hha_sync_decision dec);

/* resync.c */
int hha_rs_start(struct hha_disk *d);   /* d->lock held */
void hha_rs_stop(struct hha_disk *d);   /* d->lock not held */
void hha_rs_on_ack(struct hha_conn *c, const struct hha_wire_hdr *h);
void hha_rs_on_done(struct hha_conn *c);
void hha_rs_on_start(struct hha_conn *c);
/* A crashed primary's extents are resynced: forget the crash (d->lock held). */
void hha_rs_crash_settled(struct hha_disk *d);
int hha_rs_rx_data(struct hha_conn *c, const struct hha_wire_hdr *h, void *buf, uint32_t cap);
void hha_rs_kick(struct hha_disk *d);
/* A local op with a pooled buffer of @len and the next sequence (d->lock held), or NULL. */
struct hha_op *hha_op_new_local(struct hha_disk *d, enum hha_op_kind kind, uint64_t off, uint32_t len,
				void (*start)(struct hha_disk *d, struct hha_op *op));
/* Read [off, off+len) and send it as RS_DATA (d->lock held). 0 or -ENOMEM. */
int hha_rs_issue(struct hha_disk *d, uint64_t off, uint32_t len);

/* verify.c: checksum probes (resync with csums, online verify). */
/* Hash [off, off+len) (whole blocks, <= 1 MiB) and send CSUM_REQ (d->lock held). */
int hha_csum_probe(struct hha_disk *d, uint64_t off, uint32_t len, bool verify);
int hha_csum_rx_req(struct hha_conn *c, const struct hha_wire_hdr *h, void *buf, uint32_t cap);
int hha_csum_rx_reply(struct hha_conn *c, const struct hha_wire_hdr *h, const uint8_t *diff);
/* The link went: a verify in progress stops (d->lock held). */
void hha_verify_abort(struct hha_disk *d);
/* Stop and join the verify thread (d->lock not held). */
void hha_verify_stop(struct hha_disk *d);

/* Tests and the export glue: where answers to NBD requests go. */
void hha_disk_set_complete(struct hha_disk *d, void (*fn)(struct hha_nbd_req *req, int err));

/* verify.c: the verify fields of the status (d->lock held). */
void hha_verify_status(struct hha_disk *d, struct hha_disk_status *st);

/* decide.c: sizes that differ at the handshake (the table is there). */
struct hha_size_view {
	uint64_t size;           /* the size this side runs at */
	uint64_t max;            /* the largest it can grow to now */
	bool agreed;             /* @size is the size it last agreed with a peer */
	bool primary;
	bool settle;             /* both sides announced HHA_WIRE_F_SETTLE */
};
enum hha_settle {
	HHA_SETTLE_SAME,         /* equal sizes */
	HHA_SETTLE_REFUSE,       /* size mismatch: a person decides */
	HHA_SETTLE_GROW_ME,      /* this side grows to the peer's size */
	HHA_SETTLE_GROW_PEER,    /* the peer grows to ours */
};
enum hha_settle hha_size_settle(const struct hha_size_view *me, const struct hha_size_view *peer,
				enum hha_sync_decision dec);
/* After a settle: NONE becomes a bitmap sync from the primary, else from the larger side. */
enum hha_sync_decision hha_settle_direction(const struct hha_size_view *me, const struct hha_size_view *peer,
					    enum hha_sync_decision dec);

/* resize.c */
int hha_resize_rx(struct hha_conn *c, const struct hha_wire_hdr *h, const uint8_t *payload);
void hha_resize_link_lost(struct hha_disk *d); /* d->lock held */
/* A resize started by the caller that got no answer in time fails (dispatch; d->lock not held). */
void hha_resize_tick(struct hha_disk *d);
/* The largest size this side could grow to now (d->lock held): its size
 * when it cannot grow or has an explicit size. */
uint64_t hha_resize_max(struct hha_disk *d);
/* At the first STATE: both stores hold the larger size one side recorded
 * as agreed; the smaller side grows to it, marking the new area (@source:
 * it will send it). d->lock held. 0 or -errno with @why. */
int hha_resize_settle(struct hha_disk *d, uint64_t size, bool source, char *why, size_t whylen);
/* The size of the open backing store @fd now. 0 or -errno. */
int hha_io_store_size(int fd, bool blk, uint64_t *size);

/* actlog.c: the peer's unflushed extents cover a device of d->sb.usable_size again (d->lock held). */
int hha_ep_grow(struct hha_disk *d);

/* export.c */
/* New NBD clients see the new size (d->lock not held). */
void hha_export_resized(struct hha_disk *d);
int hha_export_update(struct hha_disk *d);  /* after role changes; d->lock not held */
void hha_export_close(struct hha_disk *d);

#endif /* HHA_DISK_ENGINE_H */
