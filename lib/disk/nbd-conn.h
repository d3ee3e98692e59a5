/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One NBD client connection as a socket-free state machine (private to the server). */
#ifndef HHA_DISK_NBD_CONN_H
#define HHA_DISK_NBD_CONN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "disk/nbd-server.h"

/*
 * A connection knows nothing of sockets or threads: its driver (the server's
 * connection thread, or a test or fuzzer) asks where to put the next input
 * bytes (hha_nbd_conn_rbufs), reports how many arrived
 * (hha_nbd_conn_received), and writes queued output when the transport is
 * writable (hha_nbd_conn_flush). Replies go out through io->send, which
 * must not block; what does not fit is queued. Backend completions arrive
 * on any thread through hha_nbd_req_complete().
 *
 * Threads: rbufs/received/eof/flush/wants/free belong to the driver's
 * thread; hha_nbd_req_complete, hha_nbd_conn_shutdown and
 * hha_nbd_conn_counters may be called from any thread.
 */

/* Per-connection bounds. */
#define HHA_NBD_CONN_SLOTS 256              /* requests in flight */
#define HHA_NBD_CONN_INFLIGHT_BYTES (128u << 20) /* payload bytes in flight */
#define HHA_NBD_CONN_RETAIN_BYTES (64u << 20)    /* request buffers kept for reuse */
#define HHA_NBD_OPT_MAX_LEN 65536           /* longer options close the connection */
#define HHA_NBD_DISCARD_MAX (64u << 20)     /* oversized WRITE payloads read and dropped */
#define HHA_NBD_COMPAT_MAX_PAYLOAD (32u << 20) /* what clients that ignore block sizes send */

/* What every connection of a server shares; owned by the server. */
struct hha_nbd_shared {
	struct hha_ctx *ctx;
	struct hha_nbd_export exp; /* strings owned by the server */
	struct hha_nbd_backend backend;
	atomic_bool enabled;
	atomic_bool read_only;
};

/* The transport, as the connection sees it. */
struct hha_nbd_conn_io {
	/*
	 * Send without blocking. Returns the bytes taken (possibly fewer than
	 * offered), -EAGAIN when none fit, or another negative errno when the
	 * transport is broken. Called by one thread at a time (not necessarily
	 * the driver's, and without the connection's lock).
	 */
	ssize_t (*send)(void *ud, const struct iovec *iov, int iovcnt);
	/* Make the driver look at the connection again (called with the lock held;
	 * must not call back into the connection). */
	void (*wake)(void *ud);
	void *ud;
};

/* Counters of one connection (the server adds them up). */
struct hha_nbd_conn_counters {
	uint64_t requests, bytes_read, bytes_written, errors, protocol_errors;
};

struct hha_nbd_conn;

/* Create a connection and queue the server greeting. @label names the
 * client in log lines ("client 3 unix"). 0 or -ENOMEM. */
int hha_nbd_conn_new(struct hha_nbd_shared *sh, const struct hha_nbd_conn_io *io,
		     const char *label, struct hha_nbd_conn **out);

/* Free; only once hha_nbd_conn_wants() said HHA_NBD_CONN_DONE and the
 * backend holds none of its requests (see hha_nbd_conn_wait_idle). */
void hha_nbd_conn_free(struct hha_nbd_conn *c);

/* What the driver should do next (bit set). */
#define HHA_NBD_CONN_READ 1u   /* wants input (hha_nbd_conn_rbufs gives room) */
#define HHA_NBD_CONN_WRITE 2u  /* has output queued: flush when writable */
#define HHA_NBD_CONN_DONE 4u   /* finished: close the transport */
#define HHA_NBD_CONN_HANDSHAKE 8u /* still negotiating (drivers apply a timeout) */
unsigned hha_nbd_conn_wants(struct hha_nbd_conn *c);

/* Where the next input bytes go: fills up to 2 iovecs (read them in
 * order, e.g. with readv), returns how many (0 when no input is wanted). */
int hha_nbd_conn_rbufs(struct hha_nbd_conn *c, struct iovec iov[2]);
/* @n bytes arrived in the iovecs of the last rbufs call (0: nothing
 * arrived, but look again, e.g. after a wake). Parses and dispatches. */
void hha_nbd_conn_received(struct hha_nbd_conn *c, size_t n);
/* The client closed its side (@err 0) or the transport failed (-errno). */
void hha_nbd_conn_eof(struct hha_nbd_conn *c, int err);
/* Write queued output. */
void hha_nbd_conn_flush(struct hha_nbd_conn *c);

/*
 * Stop reading new requests and finish: in-flight requests are answered,
 * then DONE (the server's shutdown and set_enabled(false, true)). With
 * @hard, queued and future replies are dropped too (the transport is gone
 * or the client stopped reading).
 */
void hha_nbd_conn_shutdown(struct hha_nbd_conn *c, bool hard);

/* Block until the backend holds none of this connection's requests. */
void hha_nbd_conn_wait_idle(struct hha_nbd_conn *c);

/* Read the counters (any thread). */
void hha_nbd_conn_counters(struct hha_nbd_conn *c, struct hha_nbd_conn_counters *out);

#endif /* HHA_DISK_NBD_CONN_H */
