/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Inside of an NBD connection, shared by its state machine and its reply path. */
#ifndef HHA_DISK_NBD_CONN_IMPL_H
#define HHA_DISK_NBD_CONN_IMPL_H

#include <pthread.h>

#include "disk/nbd-conn.h"
#include "disk/nbd-proto.h"

#define HHA_NBD_CONN_IN_CAP 65536 /* staging buffer for headers and small payloads */
#define HHA_NBD_CONN_HS_CAP 16384 /* replies of one option (names <= 4096 bytes) */
#define HHA_NBD_CONN_HS_FLAGS (HHA_NBD_FLAG_FIXED_NEWSTYLE | HHA_NBD_FLAG_NO_ZEROES)
#define HHA_NBD_SLOT_HDR_CAP 128  /* reply header, or an error chunk with its message */

enum hha_nbd_conn_state {
	HHA_NBD_CS_CLIENT_FLAGS,
	HHA_NBD_CS_OPT_HDR,
	HHA_NBD_CS_OPT_DATA,
	HHA_NBD_CS_REQ_HDR, /* first transmission state: "< REQ_HDR" means handshake */
	HHA_NBD_CS_REQ_PAYLOAD,
	HHA_NBD_CS_REQ_DISCARD,
	HHA_NBD_CS_DRAIN,
	HHA_NBD_CS_CLOSED,
};

enum hha_nbd_slot_state {
	HHA_NBD_SLOT_FREE,
	HHA_NBD_SLOT_READING, /* its WRITE payload is being received */
	HHA_NBD_SLOT_BACKEND, /* owned by the backend until hha_nbd_req_complete */
	HHA_NBD_SLOT_OUT,     /* its reply is queued */
};

/* One request in flight, reused; its buffer is kept for the next request. */
struct hha_nbd_slot {
	struct hha_nbd_req req; /* first: hha_nbd_req_complete() casts back */
	struct hha_nbd_conn *c;
	struct hha_nbd_slot *next; /* free list or output queue */
	uint64_t cookie;
	uint16_t type;
	uint8_t state;
	void *buf;
	size_t cap;
	uint32_t charge; /* bytes counted in the connection's in-flight bytes */
	struct iovec iov[2];
	int iovcnt;
	size_t left; /* reply bytes not yet sent */
	uint8_t hdr[HHA_NBD_SLOT_HDR_CAP];
};

struct hha_nbd_conn {
	struct hha_nbd_shared *sh;
	struct hha_nbd_conn_io io;
	char label[64];

	/* The driver's thread only. */
	enum hha_nbd_conn_state state;
	uint8_t *in; /* staging buffer, [rpos, wpos) unparsed */
	size_t rpos, wpos;
	uint8_t *dst; /* option data or WRITE payload being received */
	size_t dst_len, dst_off;
	size_t rb_direct; /* room of dst offered by the last rbufs */
	uint64_t discard; /* payload bytes still to drop */
	struct hha_nbd_opt_hdr opt;
	uint8_t *optbuf;
	struct hha_nbd_slot *cur; /* the slot of the payload in dst */
	uint8_t hs[HHA_NBD_CONN_HS_CAP]; /* handshake output, [hs_off, hs_len) unsent */
	size_t hs_off, hs_len;
	uint32_t client_flags;
	/* Fixed before transmission; read by completing threads afterwards. */
	bool structured;
	struct hha_nbd_limits lim;

	/* Under lock. */
	pthread_mutex_t lock;
	pthread_cond_t idle_cond;
	struct hha_nbd_slot *free_list;
	struct hha_nbd_slot *outq_head, *outq_tail;
	unsigned inflight; /* slots not free */
	uint64_t inflight_bytes;
	uint64_t buf_bytes; /* bytes of request buffers held by slots */
	bool waiting;   /* the driver waits for a slot: wake on release */
	bool finishing; /* DRAIN/CLOSED: wake when the last slot comes back */
	bool dead;      /* the transport is gone: output is dropped */
	bool sending;   /* a thread writes the output queue (with the lock dropped) */
	bool out_blocked; /* the socket was full: the driver writes when it can */
	bool stop;      /* the server asked the connection to finish */
	struct hha_nbd_conn_counters ctr;
	struct hha_nbd_slot slots[HHA_NBD_CONN_SLOTS];
};

/* Take a free slot with a buffer of @buflen bytes (NULL buf if that
 * allocation failed), or NULL when none may be taken now (the driver is
 * woken when one comes back). */
struct hha_nbd_slot *hha_nbd_slot_get(struct hha_nbd_conn *c, uint32_t buflen);
/* Return a slot (the lock held). */
void hha_nbd_slot_release_locked(struct hha_nbd_conn *c, struct hha_nbd_slot *s);
/* The transport is gone: drop queued replies, send nothing more (lock held). */
void hha_nbd_conn_drop_output_locked(struct hha_nbd_conn *c);
/* Hand a valid request to the backend. */
void hha_nbd_slot_submit(struct hha_nbd_conn *c, struct hha_nbd_slot *s);
/* Answer a request: @werr is a wire error (0 for success), @why its message.
 * @from_driver: called on the driver's thread (no wake needed). */
void hha_nbd_slot_finish(struct hha_nbd_conn *c, struct hha_nbd_slot *s, uint32_t werr,
			 const char *why, bool from_driver);

#endif /* HHA_DISK_NBD_CONN_IMPL_H */
