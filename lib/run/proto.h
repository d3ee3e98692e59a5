/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The remote launch wire protocol: signed requests, the server's hello, and sealed stream frames. */
#ifndef HHA_RUN_PROTO_H
#define HHA_RUN_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"

#include "run/crypto.h"

/*
 * A connection to a node's run service (TCP, run.port):
 *
 *   client -> server  request: header (40 bytes) | body (JSON) | HMAC-SHA256
 *   server -> client  hello (24 bytes, clear): status and the server's nonce
 *   both ways         frames sealed with AES-256-GCM, one key per direction
 *
 * Request header, big-endian:
 *   0 "HHAR"  4 version (1)  5 kind  6 key id  7 source node  8 target node
 *   9 flags (0)  10 reserved (2)  12 realtime ms (8)  20 nonce (16)  36 body length (4)
 * The MAC covers header and body. The stream keys come from the session
 * secret (crypto.h) and both nonces, so every connection has fresh keys even
 * if a request were replayed to a node that forgot its nonce cache.
 *
 * Frame: length (4, = 2 + payload, the AAD) | sealed { type (1), stream (1),
 * payload } | tag (16). Frames are counted per direction; a frame dropped,
 * replayed, reordered or altered fails to open and ends the session.
 */

#define HHA_RUN_MAGIC_REQ "HHAR"
#define HHA_RUN_MAGIC_HELLO "HHAS"
#define HHA_RUN_PROTO_VERSION 1
#define HHA_RUN_REQ_HDR_LEN 40
#define HHA_RUN_REQ_BODY_MAX (60u * 1024)
#define HHA_RUN_REQ_MAX (HHA_RUN_REQ_HDR_LEN + HHA_RUN_REQ_BODY_MAX + HHA_RUN_MAC_LEN)
#define HHA_RUN_HELLO_LEN 24
#define HHA_RUN_FRAME_HDR 6 /* length, type, stream */
#define HHA_RUN_FRAME_MAX_PAYLOAD (256u * 1024)
#define HHA_RUN_FRAME_OVERHEAD (HHA_RUN_FRAME_HDR + HHA_RUN_TAG_LEN)
/* Bytes a sender may have unacknowledged per stream (flow control). */
#define HHA_RUN_WINDOW (1024u * 1024)

/* Limits on what a request may carry. */
#define HHA_RUN_MAX_ARGS 4096
#define HHA_RUN_MAX_ENV 4096

enum hha_run_kind {
	HHA_RUN_KIND_LAUNCH = 1,
	HHA_RUN_KIND_LOAD = 2,
};

/* The hello's status: why a request was refused before any session began. */
enum hha_run_hello_status {
	HHA_RUN_HELLO_OK = 0,
	HHA_RUN_HELLO_VERSION = 1,
	HHA_RUN_HELLO_AUTH = 2,
	HHA_RUN_HELLO_SKEW = 3,
	HHA_RUN_HELLO_REPLAY = 4,
	HHA_RUN_HELLO_WRONG_NODE = 5,
	HHA_RUN_HELLO_BUSY = 6,
	HHA_RUN_HELLO_MALFORMED = 7,
};

enum hha_run_frame_type {
	HHA_RUN_F_DATA = 1,    /* stream; bytes */
	HHA_RUN_F_EOF = 2,     /* stream: no more data */
	HHA_RUN_F_CLOSE = 3,   /* stream: the reader went away, stop sending */
	HHA_RUN_F_WINDOW = 4,  /* stream; u32 bytes the sender may send more */
	HHA_RUN_F_SIGNAL = 5,  /* stream = signal number, for the remote process group */
	HHA_RUN_F_WINSIZE = 6, /* u16 rows, u16 cols */
	HHA_RUN_F_STARTED = 7, /* u32 pid of the remote command */
	HHA_RUN_F_FAIL = 8,    /* stream = exit code (125/126/127); u32 errno, u8 reason, message */
	HHA_RUN_F_EXIT = 9,    /* stream = 0 exited / 1 killed by a signal; u32 value */
	HHA_RUN_F_LOAD = 10,   /* an encoded load vector */
	HHA_RUN_F_NOTICE = 11, /* a message for the user's stderr */
};

/* Why a launch failed on the node (the FAIL frame's reason byte). */
enum hha_run_fail {
	HHA_RUN_FAIL_SPAWN = 0,       /* 125: fork, pipes, credentials */
	HHA_RUN_FAIL_NOT_EXEC = 1,    /* 126 */
	HHA_RUN_FAIL_NOT_FOUND = 2,   /* 127 */
	HHA_RUN_FAIL_NOT_ALLOWED = 3, /* 125: root refused */
	HHA_RUN_FAIL_NO_USER = 4,     /* 125: no such user on the node */
};

enum hha_run_stream { HHA_RUN_STDIN = 0, HHA_RUN_STDOUT = 1, HHA_RUN_STDERR = 2 };

/* A decoded request. Strings and vectors are owned (hha_run_request_clear). */
struct hha_run_request {
	uint8_t kind, key_id, src, dst;
	uint64_t time_ms;
	uint8_t nonce[HHA_RUN_NONCE_LEN];
	/* HHA_RUN_KIND_LAUNCH: */
	char *user;
	uint32_t uid;
	char *src_name;
	char **argv; /* NULL-terminated */
	size_t argc;
	char **env;  /* NULL-terminated, "NAME=value" */
	size_t nenv;
	char *cwd;
	bool tty;
	char *term;
	unsigned rows, cols;
};

void hha_run_request_clear(struct hha_run_request *rq);

/*
 * Sign a request with @k (rq->time_ms, nonce, ids set by the caller).
 * *out is malloc'd. 0, -E2BIG (body over the limit), -ENOMEM, -EIO.
 */
int hha_run_request_encode(const struct hha_run_request *rq, const struct hha_run_key *k,
			   uint8_t **out, size_t *len);

/*
 * Check the fixed header of a request: magic, version, body length.
 * Returns the total request length, or -EBADMSG / -HHA_EVERSION.
 */
long hha_run_request_total(const uint8_t *hdr, size_t len);

/*
 * Authenticate a whole request and decode it. The MAC is checked before a
 * byte of the body is parsed. Errors (message in @err): -EBADMSG (malformed),
 * -HHA_EVERSION, -HHA_EAUTH (unknown key or bad MAC), -ETIME (time outside
 * now_ms +- max_skew_ms), -EXDEV (meant for another node). The replay check
 * is the caller's (hha_run_nonces). On success @out is filled (clear it).
 */
int hha_run_request_verify(const uint8_t *buf, size_t len, const struct hha_run_keyring *kr,
			   unsigned self_id, uint64_t now_ms, uint64_t max_skew_ms,
			   struct hha_run_request *out, char *err, size_t errlen);

/* Decode a launch request's JSON body (the part after the header) into @rq. */
int hha_run_request_decode_body(const uint8_t *body, size_t len, struct hha_run_request *rq,
				char *err, size_t errlen);

/* The hello. */
void hha_run_hello_encode(uint8_t out[HHA_RUN_HELLO_LEN], enum hha_run_hello_status st,
			  const uint8_t snonce[HHA_RUN_NONCE_LEN]);
/* 0 with *st and @snonce filled, -EBADMSG, -HHA_EVERSION. */
int hha_run_hello_decode(const uint8_t in[HHA_RUN_HELLO_LEN], enum hha_run_hello_status *st,
			 uint8_t snonce[HHA_RUN_NONCE_LEN]);
const char *hha_run_hello_word(enum hha_run_hello_status st);

/*
 * Seal the frame laid out in @frame: type at [4], stream at [5], payload of
 * @payload_len bytes from [6]; the length is written at [0] and the tag after
 * the payload. The whole frame is HHA_RUN_FRAME_OVERHEAD + payload_len bytes.
 */
int hha_run_frame_seal(struct hha_run_aead *a, uint8_t *frame, size_t payload_len);

/*
 * Open the first frame of @buf (@avail bytes). Returns 0 when more bytes are
 * needed (*need receives how many in total, if known), 1 with *type,
 * *stream, *payload (inside @buf, decrypted in place), *plen and *consumed
 * set, -EBADMSG for an impossible length, -HHA_EAUTH for a frame that fails
 * authentication.
 */
int hha_run_frame_open(struct hha_run_aead *a, uint8_t *buf, size_t avail, size_t *need,
		       uint8_t *type, uint8_t *stream, uint8_t **payload, size_t *plen,
		       size_t *consumed);


#endif /* HHA_RUN_PROTO_H */
