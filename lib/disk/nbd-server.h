/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* An NBD server (fixed newstyle) in front of an asynchronous block backend. */
#ifndef HHA_DISK_NBD_SERVER_H
#define HHA_DISK_NBD_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hybridha/ctx.h>

/*
 * The server owns the listening sockets and the client connections, speaks
 * the NBD protocol (handshake, options, requests, simple and structured
 * replies), validates every request (bounds, alignment, size, flags) and
 * hands only valid data requests to the backend. The backend completes each
 * request once, from any thread, with hha_nbd_req_complete(). Many requests
 * are in flight at once per connection and across connections.
 *
 * Threads: the server runs its own threads (accept + one reader per
 * connection); replies are written by whichever thread completes a request.
 * Every function below is thread-safe unless noted.
 */

struct hha_nbd_server;

/* The commands a backend sees (values are the protocol's). DISC, CACHE and
 * BLOCK_STATUS are handled by the server itself. */
enum hha_nbd_cmd {
	HHA_NBD_CMD_READ = 0,
	HHA_NBD_CMD_WRITE = 1,
	HHA_NBD_CMD_FLUSH = 3,
	HHA_NBD_CMD_TRIM = 4,
	HHA_NBD_CMD_WRITE_ZEROES = 6,
};

/* Command flags passed through to the backend (values are the protocol's). */
#define HHA_NBD_REQ_FUA (1u << 0)     /* the write must be durable before the reply */
#define HHA_NBD_REQ_NO_HOLE (1u << 1) /* WRITE_ZEROES: allocate, do not punch */

/* One request. The backend reads the public fields and must not free it. */
struct hha_nbd_req {
	uint16_t cmd;      /* enum hha_nbd_cmd */
	uint16_t flags;    /* HHA_NBD_REQ_* */
	uint64_t offset;   /* validated: offset + len <= export size */
	uint32_t len;      /* READ/WRITE: <= max payload (<= 32 MiB for clients that did not
			      agree to block sizes, see struct hha_nbd_export);
			      TRIM/WRITE_ZEROES: any; FLUSH: 0 */
	void *buf;         /* READ: len bytes for the backend to fill; WRITE: the payload
			      (valid until completion); NULL otherwise */
	void *backend_priv; /* free for the backend's use */
};

struct hha_nbd_backend {
	/*
	 * Start @req. Must not block for long (queue the work). Calls
	 * hha_nbd_req_complete() exactly once, from any thread, possibly before
	 * submit() returns.
	 */
	void (*submit)(void *ud, struct hha_nbd_req *req);
	void *ud;
};

/* What the export offers; copied by hha_nbd_server_new(). */
struct hha_nbd_export {
	const char *name;         /* the export name clients ask for; "" also matches the default */
	const char *description;  /* optional */
	uint64_t size;            /* bytes; a multiple of min_block */
	bool read_only;
	bool can_flush, can_fua, can_trim, can_zero;
	bool can_multi_conn;      /* a FLUSH on one connection covers writes answered on all */
	uint32_t min_block;       /* power of two, 1..65536 (advertised; 512 recommended) */
	uint32_t pref_block;      /* power of two >= max(min_block, 512) */
	uint32_t max_payload;     /* >= pref_block, <= 64 MiB; READ/WRITE larger than this get EINVAL */
	/*
	 * 0 in a block size selects the default (1, 4096, 32 MiB). Clients that
	 * did not ask for NBD_INFO_BLOCK_SIZE in NBD_OPT_GO (the kernel,
	 * NBD_OPT_EXPORT_NAME clients) are held to what the spec tells them is
	 * safe instead: 512-byte alignment (or min_block if smaller) and up to
	 * max(max_payload, 32 MiB) per READ/WRITE.
	 */
};

/*
 * hha_nbd_server_new - create a server for one export (not yet listening).
 * Return: 0, -EINVAL (bad export description), -ENOMEM.
 */
int hha_nbd_server_new(struct hha_ctx *ctx, const struct hha_nbd_export *exp,
		       const struct hha_nbd_backend *backend, struct hha_nbd_server **out);

/* Listen on a Unix socket (created, replacing a stale file) or a TCP address
 * ("127.0.0.1", "::", ...; port). May be called for several addresses.
 * Return: 0 or a negative errno with a message. */
int hha_nbd_server_listen_unix(struct hha_nbd_server *srv, const char *path);
int hha_nbd_server_listen_tcp(struct hha_nbd_server *srv, const char *addr, int port);

/* The port of the last TCP listener (the one the kernel chose for port 0), or 0. */
int hha_nbd_server_tcp_port(struct hha_nbd_server *srv);

/*
 * hha_nbd_server_set_enabled - accept clients (true) or refuse them (false).
 * Refusing closes the listening handshake politely: new clients get an
 * NBD_REP_ERR_SHUTDOWN / are closed, and with @drop_clients existing
 * connections are closed after their in-flight requests completed (used when
 * the node stops being primary). A server starts enabled.
 */
void hha_nbd_server_set_enabled(struct hha_nbd_server *srv, bool enabled, bool drop_clients);

/* Change the advertised read-only flag for connections made from now on. */
void hha_nbd_server_set_read_only(struct hha_nbd_server *srv, bool read_only);
/* Clients that connect from now on see @size (online resize); connected
 * ones keep the size they were told (NBD cannot announce a change). */
void hha_nbd_server_set_size(struct hha_nbd_server *srv, uint64_t size);

/* Counters for status output. */
struct hha_nbd_stats {
	uint32_t clients;        /* connected now */
	uint64_t requests;       /* answered */
	uint64_t bytes_read, bytes_written;
	uint64_t errors;         /* requests answered with an error */
	uint64_t protocol_errors;/* connections dropped for malformed input */
};
void hha_nbd_server_stats(struct hha_nbd_server *srv, struct hha_nbd_stats *out);

/*
 * hha_nbd_server_free - stop listening, disconnect every client after its
 * in-flight requests completed, join the threads, free. NULL is a no-op.
 * The backend must keep completing requests until this returns.
 */
void hha_nbd_server_free(struct hha_nbd_server *srv);

/*
 * hha_nbd_req_complete - finish a request: 0, or a negative errno mapped to
 * the NBD error the spec names (EIO, ENOSPC, EINVAL, EPERM, ...; unknown
 * values become EIO). For READ, @req->buf must hold the data on success.
 */
void hha_nbd_req_complete(struct hha_nbd_req *req, int err);

#endif /* HHA_DISK_NBD_SERVER_H */
