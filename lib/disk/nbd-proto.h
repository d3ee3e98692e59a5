/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NBD wire format: constants and big-endian encoders/decoders, with no I/O. */
#ifndef HHA_DISK_NBD_PROTO_H
#define HHA_DISK_NBD_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"

#include "disk/nbd-server.h"

/*
 * Every function here is pure: it reads or writes a caller-supplied buffer
 * and never allocates. Decoders check the length they are given and every
 * field they can check on their own; they return 0, -EAGAIN when the buffer
 * is too short to hold the message, or -EBADMSG / -EINVAL for bytes that can
 * never be valid. Encoders return the number of bytes written; the caller
 * provides at least the documented size.
 */

/* Magic numbers. */
#define HHA_NBD_MAGIC 0x4e42444d41474943ULL      /* "NBDMAGIC" */
#define HHA_NBD_IHAVEOPT 0x49484156454f5054ULL   /* "IHAVEOPT" */
#define HHA_NBD_OPT_REPLY_MAGIC 0x0003e889045565a9ULL
#define HHA_NBD_REQUEST_MAGIC 0x25609513u
#define HHA_NBD_SIMPLE_REPLY_MAGIC 0x67446698u
#define HHA_NBD_STRUCTURED_REPLY_MAGIC 0x668e33efu

/* Handshake flags (server, u16) and client flags (u32). */
#define HHA_NBD_FLAG_FIXED_NEWSTYLE (1u << 0)
#define HHA_NBD_FLAG_NO_ZEROES (1u << 1)
#define HHA_NBD_FLAG_C_FIXED_NEWSTYLE (1u << 0)
#define HHA_NBD_FLAG_C_NO_ZEROES (1u << 1)

/* Options. */
enum hha_nbd_opt {
	HHA_NBD_OPT_EXPORT_NAME = 1,
	HHA_NBD_OPT_ABORT = 2,
	HHA_NBD_OPT_LIST = 3,
	HHA_NBD_OPT_STARTTLS = 5,
	HHA_NBD_OPT_INFO = 6,
	HHA_NBD_OPT_GO = 7,
	HHA_NBD_OPT_STRUCTURED_REPLY = 8,
	HHA_NBD_OPT_LIST_META_CONTEXT = 9,
	HHA_NBD_OPT_SET_META_CONTEXT = 10,
	HHA_NBD_OPT_EXTENDED_HEADERS = 11,
};

/* Option reply types; errors have bit 31 set. */
#define HHA_NBD_REP_ACK 1u
#define HHA_NBD_REP_SERVER 2u
#define HHA_NBD_REP_INFO 3u
#define HHA_NBD_REP_META_CONTEXT 4u
#define HHA_NBD_REP_ERR_BIT (1u << 31)
#define HHA_NBD_REP_ERR_UNSUP (HHA_NBD_REP_ERR_BIT + 1)
#define HHA_NBD_REP_ERR_POLICY (HHA_NBD_REP_ERR_BIT + 2)
#define HHA_NBD_REP_ERR_INVALID (HHA_NBD_REP_ERR_BIT + 3)
#define HHA_NBD_REP_ERR_PLATFORM (HHA_NBD_REP_ERR_BIT + 4)
#define HHA_NBD_REP_ERR_TLS_REQD (HHA_NBD_REP_ERR_BIT + 5)
#define HHA_NBD_REP_ERR_UNKNOWN (HHA_NBD_REP_ERR_BIT + 6)
#define HHA_NBD_REP_ERR_SHUTDOWN (HHA_NBD_REP_ERR_BIT + 7)
#define HHA_NBD_REP_ERR_BLOCK_SIZE_REQD (HHA_NBD_REP_ERR_BIT + 8)
#define HHA_NBD_REP_ERR_TOO_BIG (HHA_NBD_REP_ERR_BIT + 9)

/* Information types of NBD_OPT_INFO / NBD_OPT_GO. */
#define HHA_NBD_INFO_EXPORT 0
#define HHA_NBD_INFO_NAME 1
#define HHA_NBD_INFO_DESCRIPTION 2
#define HHA_NBD_INFO_BLOCK_SIZE 3

/* Transmission flags (u16). */
#define HHA_NBD_FLAG_HAS_FLAGS (1u << 0)
#define HHA_NBD_FLAG_READ_ONLY (1u << 1)
#define HHA_NBD_FLAG_SEND_FLUSH (1u << 2)
#define HHA_NBD_FLAG_SEND_FUA (1u << 3)
#define HHA_NBD_FLAG_ROTATIONAL (1u << 4)
#define HHA_NBD_FLAG_SEND_TRIM (1u << 5)
#define HHA_NBD_FLAG_SEND_WRITE_ZEROES (1u << 6)
#define HHA_NBD_FLAG_SEND_DF (1u << 7)
#define HHA_NBD_FLAG_CAN_MULTI_CONN (1u << 8)
#define HHA_NBD_FLAG_SEND_CACHE (1u << 10)
#define HHA_NBD_FLAG_SEND_FAST_ZERO (1u << 11)

/* Commands: READ 0, WRITE 1, FLUSH 3, TRIM 4 and WRITE_ZEROES 6 are
 * enum hha_nbd_cmd in nbd-server.h (the ones a backend sees); the rest: */
#define HHA_NBD_CMD_DISC 2
#define HHA_NBD_CMD_CACHE 5
#define HHA_NBD_CMD_BLOCK_STATUS 7

/* Command flags. */
#define HHA_NBD_CMD_FLAG_FUA (1u << 0)
#define HHA_NBD_CMD_FLAG_NO_HOLE (1u << 1)
#define HHA_NBD_CMD_FLAG_DF (1u << 2)
#define HHA_NBD_CMD_FLAG_REQ_ONE (1u << 3)
#define HHA_NBD_CMD_FLAG_FAST_ZERO (1u << 4)

/* Structured reply chunk flags and types. */
#define HHA_NBD_REPLY_FLAG_DONE (1u << 0)
#define HHA_NBD_REPLY_TYPE_NONE 0
#define HHA_NBD_REPLY_TYPE_OFFSET_DATA 1
#define HHA_NBD_REPLY_TYPE_OFFSET_HOLE 2
#define HHA_NBD_REPLY_TYPE_BLOCK_STATUS 5
#define HHA_NBD_REPLY_TYPE_ERROR 32769
#define HHA_NBD_REPLY_TYPE_ERROR_OFFSET 32770

/* Error values on the wire (the spec fixes them; they match Linux errno). */
#define HHA_NBD_EPERM 1
#define HHA_NBD_EIO 5
#define HHA_NBD_ENOMEM 12
#define HHA_NBD_EINVAL 22
#define HHA_NBD_ENOSPC 28
#define HHA_NBD_EOVERFLOW 75
#define HHA_NBD_ENOTSUP 95
#define HHA_NBD_ESHUTDOWN 108

/* Message sizes. */
#define HHA_NBD_GREETING_LEN 18       /* NBDMAGIC, IHAVEOPT, u16 flags */
#define HHA_NBD_CLIENT_FLAGS_LEN 4
#define HHA_NBD_OPT_HDR_LEN 16        /* IHAVEOPT, u32 opt, u32 len */
#define HHA_NBD_OPT_REPLY_HDR_LEN 20  /* magic, u32 opt, u32 type, u32 len */
#define HHA_NBD_EXPORT_NAME_REPLY_LEN 10 /* u64 size, u16 flags (+124 zeroes) */
#define HHA_NBD_EXPORT_NAME_ZEROES 124
#define HHA_NBD_INFO_EXPORT_LEN 12
#define HHA_NBD_INFO_BLOCK_SIZE_LEN 14
#define HHA_NBD_REQUEST_LEN 28
#define HHA_NBD_SIMPLE_REPLY_LEN 16
#define HHA_NBD_CHUNK_HDR_LEN 20
#define HHA_NBD_OFFSET_DATA_HDR_LEN 28 /* chunk header + u64 offset */
#define HHA_NBD_ERROR_CHUNK_MIN 26     /* chunk header + u32 error + u16 msg len */
#define HHA_NBD_MAX_STRING 4096        /* names, descriptions, messages */

/* ---- handshake ---- */

/* Server greeting (18 bytes). */
size_t hha_nbd_encode_greeting(uint8_t *p, uint16_t hs_flags);
/* Client side of the greeting, for clients and tests: 0, -EAGAIN, -EBADMSG (magic). */
int hha_nbd_decode_greeting(const uint8_t *p, size_t n, uint16_t *hs_flags);

/*
 * Client flags (4 bytes) as answered to a server that offered @offered
 * handshake flags. 0, -EAGAIN, or -EPROTO for a bit the server did not offer
 * or does not know (the spec says: drop the connection).
 */
int hha_nbd_decode_client_flags(const uint8_t *p, size_t n, uint16_t offered, uint32_t *flags);
size_t hha_nbd_encode_client_flags(uint8_t *p, uint32_t flags);

/* Option request header (16 bytes); the data follows. */
struct hha_nbd_opt_hdr {
	uint32_t opt;
	uint32_t len;
};
/* 0, -EAGAIN, -EBADMSG (not IHAVEOPT). The length is not judged here. */
int hha_nbd_decode_opt_hdr(const uint8_t *p, size_t n, struct hha_nbd_opt_hdr *out);
size_t hha_nbd_encode_opt_hdr(uint8_t *p, uint32_t opt, uint32_t len);

/* Option reply header (20 bytes); @len bytes of data follow. */
struct hha_nbd_opt_reply {
	uint32_t opt;
	uint32_t type;
	uint32_t len;
};
size_t hha_nbd_encode_opt_reply(uint8_t *p, uint32_t opt, uint32_t type, uint32_t len);
int hha_nbd_decode_opt_reply(const uint8_t *p, size_t n, struct hha_nbd_opt_reply *out);

/*
 * The data of NBD_OPT_INFO / NBD_OPT_GO: u32 name length, name, u16 count,
 * count x u16 information requests. Points into @data (borrowed).
 * 0, or -EINVAL when the lengths do not add up to exactly @len, the name is
 * longer than HHA_NBD_MAX_STRING or holds a NUL.
 */
struct hha_nbd_info_req {
	const char *name; /* not NUL-terminated */
	uint32_t name_len;
	uint16_t n_info;
	const uint8_t *info; /* n_info big-endian u16 */
};
int hha_nbd_decode_info_req(const uint8_t *data, uint32_t len, struct hha_nbd_info_req *out);
/* Whether @req asks for information type @type. */
bool hha_nbd_info_req_has(const struct hha_nbd_info_req *req, uint16_t type);
/* Client side: encode into @p (room for 4 + name_len + 2 + 2 * n_info). */
size_t hha_nbd_encode_info_req(uint8_t *p, const char *name, uint32_t name_len,
			       const uint16_t *info, uint16_t n_info);

/* REP_INFO payloads (the reply header is separate). */
size_t hha_nbd_encode_info_export(uint8_t *p, uint64_t size, uint16_t tflags); /* 12 */
size_t hha_nbd_encode_info_block_size(uint8_t *p, uint32_t min, uint32_t pref,
				      uint32_t max); /* 14 */
/* Reply to NBD_OPT_EXPORT_NAME: size, flags and 124 zeroes unless @no_zeroes. */
size_t hha_nbd_encode_export_name_reply(uint8_t *p, uint64_t size, uint16_t tflags,
					bool no_zeroes);

/* A string is valid on the wire when it is at most HHA_NBD_MAX_STRING bytes without NUL. */
bool hha_nbd_string_valid(const char *s, size_t len);

/* ---- transmission ---- */

struct hha_nbd_request {
	uint16_t flags;
	uint16_t type;
	uint64_t cookie;
	uint64_t offset;
	uint32_t len;
};
/* 0, -EAGAIN, -EBADMSG (bad magic). Commands and flags are judged by the caller. */
int hha_nbd_decode_request(const uint8_t *p, size_t n, struct hha_nbd_request *out);
size_t hha_nbd_encode_request(uint8_t *p, const struct hha_nbd_request *req);

/* Simple reply header (16 bytes). */
size_t hha_nbd_encode_simple_reply(uint8_t *p, uint32_t error, uint64_t cookie);
int hha_nbd_decode_simple_reply(const uint8_t *p, size_t n, uint32_t *error, uint64_t *cookie);

/* Structured reply chunk header (20 bytes). */
struct hha_nbd_chunk {
	uint16_t flags;
	uint16_t type;
	uint64_t cookie;
	uint32_t len;
};
size_t hha_nbd_encode_chunk(uint8_t *p, const struct hha_nbd_chunk *c);
/* 0, -EAGAIN, -EBADMSG (magic), -EINVAL (a NONE chunk with data or without DONE,
 * OFFSET_DATA shorter than 9, an error chunk shorter than 6). */
int hha_nbd_decode_chunk(const uint8_t *p, size_t n, struct hha_nbd_chunk *out);
/* OFFSET_DATA chunk header plus offset (28 bytes); @data_len bytes follow (>= 1). */
size_t hha_nbd_encode_offset_data(uint8_t *p, uint16_t flags, uint64_t cookie,
				  uint64_t offset, uint32_t data_len);
/*
 * ERROR chunk with an optional message (cut to fit @cap and HHA_NBD_MAX_STRING).
 * @cap >= HHA_NBD_ERROR_CHUNK_MIN. Returns the bytes written.
 */
size_t hha_nbd_encode_error_chunk(uint8_t *p, size_t cap, uint16_t flags, uint64_t cookie,
				  uint32_t error, const char *msg);

/*
 * What one connection may send in transmission, fixed when it entered it.
 * hha_nbd_check_request() judges a request header against it.
 */
struct hha_nbd_limits {
	uint64_t size;        /* export size */
	uint16_t tflags;      /* transmission flags advertised to this client */
	uint32_t align;       /* offset and length must be multiples (power of two) */
	uint32_t max_payload; /* READ/WRITE length limit */
};

/*
 * Judge a request that is not NBD_CMD_DISC. Returns 0, or the wire error to
 * answer with (HHA_NBD_EINVAL, EPERM, ENOSPC, ENOTSUP) and sets *@why to a
 * short sentence for people. Checks, in order: known and advertised command
 * (a write-class command on a read-only export is EPERM), flags valid for
 * the command and advertised, FLUSH with zero offset and length, READ/WRITE
 * length within max_payload, alignment, range (ENOSPC for WRITE and
 * WRITE_ZEROES, EINVAL otherwise), and FAST_ZERO (never honoured: ENOTSUP).
 * TRIM, WRITE_ZEROES and CACHE may be longer than max_payload.
 */
uint32_t hha_nbd_check_request(const struct hha_nbd_limits *lim, const struct hha_nbd_request *r,
			       const char **why);

/*
 * Map an errno (positive or negative) to the error value the spec allows:
 * EPERM/EROFS/EACCES -> EPERM, ENOSPC/EDQUOT/EFBIG -> ENOSPC, EINVAL, ENOMEM,
 * EOVERFLOW, ENOTSUP/EOPNOTSUPP, ESHUTDOWN, 0 -> 0, everything else -> EIO.
 */
uint32_t hha_nbd_errno_to_wire(int err);

/* Names for log lines ("NBD_OPT_GO", "NBD_CMD_WRITE"); "unknown" otherwise. */
const char *hha_nbd_opt_name(uint32_t opt);
const char *hha_nbd_cmd_name(uint16_t type);

#endif /* HHA_DISK_NBD_PROTO_H */
