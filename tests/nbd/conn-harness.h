/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Drive one NBD connection state machine from memory: no sockets, no threads. */
#ifndef HHA_TESTS_NBD_CONN_HARNESS_H
#define HHA_TESTS_NBD_CONN_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/nbd-conn.h"

#define HARNESS_DISK_SIZE (1u << 20)
#define HARNESS_MAX_PENDING 1024

struct harness {
	struct hha_nbd_shared sh;
	struct hha_nbd_conn *c;
	uint8_t *out;        /* everything the server sent */
	size_t out_len, out_cap;
	size_t send_limit;   /* bytes taken per send call; 0: all */
	bool send_full;      /* send says EAGAIN */
	bool send_broken;    /* send fails with EPIPE */
	bool defer;          /* the backend keeps requests until harness_complete */
	struct hha_nbd_req *pending[HARNESS_MAX_PENDING];
	size_t npending;
	uint64_t submitted;
	unsigned wakes;
	uint8_t *disk;       /* the backend's data, HARNESS_DISK_SIZE bytes */
};

/* @exp may be NULL for a default export "hha" of HARNESS_DISK_SIZE bytes
 * that offers everything, min block 512, max payload 64 KiB. */
void harness_init(struct harness *h, struct hha_ctx *ctx, const struct hha_nbd_export *exp);
/* Feed @n bytes in pieces of at most @chunk (0: as much as the connection
 * takes); returns how many it took (less when it stopped wanting input). */
size_t harness_feed(struct harness *h, const void *data, size_t n, size_t chunk);
/* Write queued output (as the driver does when the socket is writable). */
void harness_flush(struct harness *h);
/* Complete deferred requests: all, newest first when @reverse. */
void harness_complete(struct harness *h, bool reverse, int err);
unsigned harness_wants(struct harness *h);
/* End of input, complete everything, free. */
void harness_fini(struct harness *h);

#endif /* HHA_TESTS_NBD_CONN_HARNESS_H */
