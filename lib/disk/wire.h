/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The peer wire protocol's codec: frame headers, handshake and state messages (docs/wire-protocol.md). */
#ifndef HHA_DISK_WIRE_H
#define HHA_DISK_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Every frame is a 32-byte big-endian header, then plen payload bytes, then
 * (in the auth and encrypt security modes, after the handshake) a 16-byte
 * AES-GCM tag. The decoder checks every field against the frame type and
 * the connection's limits before anything is read past the header, so a
 * hostile length can never make us allocate or read more than a legal frame.
 */

#define HHA_WIRE_PORT 7788
#define HHA_WIRE_VERSION_MIN 1
#define HHA_WIRE_VERSION_MAX 1
#define HHA_WIRE_MAGIC 0x4868u          /* "Hh" */
#define HHA_WIRE_HDR 32u
#define HHA_WIRE_TAG 16u
#define HHA_WIRE_MAX_DATA (32u << 20)    /* largest DATA / RS_DATA payload */
#define HHA_WIRE_HELLO_MAGIC 0x48484144u /* "HHAD" */
#define HHA_WIRE_NAME_MAX 64u
#define HHA_WIRE_NONCE 32u
#define HHA_WIRE_MAC 32u
#define HHA_WIRE_REFUSE_MAX 256u

enum hha_wire_type {
	/* Handshake (before keys exist). */
	HHA_W_HELLO = 1,       /* payload: struct hha_wire_hello */
	HHA_W_AUTH = 2,        /* payload: 32-byte HMAC over the transcript */
	HHA_W_REFUSE = 3,      /* aux: reason (enum hha_wire_refuse); payload: text for the log */
	/* After the handshake. */
	HHA_W_STATE = 4,       /* payload: struct hha_wire_state */
	HHA_W_DATA = 16,       /* application write: seq, offset, len = plen; flags FUA */
	HHA_W_TRIM = 17,       /* seq, offset, len; no payload */
	HHA_W_ZERO = 18,       /* seq, offset, len; flags NO_HOLE */
	HHA_W_BARRIER = 19,    /* seq = barrier number: flush after every write before it */
	HHA_W_ACK_RECV = 20,   /* seq of a DATA/TRIM/ZERO received (protocol B) */
	HHA_W_ACK_WRITE = 21,  /* seq written; aux = 0 or a positive errno */
	HHA_W_ACK_BARRIER = 22,/* seq = barrier number; aux = 0 or errno */
	HHA_W_PING = 23,
	HHA_W_PONG = 24,
	HHA_W_RS_DATA = 32,    /* resync block: seq, offset, len = plen */
	HHA_W_RS_ACK = 33,     /* seq, offset, len written by the target; aux = errno */
	HHA_W_RS_REQ = 34,     /* target asks for a range (checksum resync, verify) */
	HHA_W_RS_DONE = 35,    /* source: every block sent; aux = 0 */
	HHA_W_OOS = 36,        /* mark a range out of sync */
	HHA_W_RS_START = 37,   /* sync target: my marks are sent (OOS), start sending */
	HHA_W_CSUM_REQ = 38,   /* range; payload: a SHA-256 per 4 KiB block; flags VERIFY */
	HHA_W_CSUM_REPLY = 39, /* range; payload: one bit per block, set = differs; flags VERIFY; aux errno */
	HHA_W_DISCONNECT = 40, /* orderly close; aux = reason */
	HHA_W_READ_REQ = 41,   /* a Diskless primary reads the peer's copy: seq, range */
	HHA_W_READ_REPLY = 42, /* seq, range; payload = the data (len), or none with aux = errno */
	HHA_W_RESIZE = 43,     /* online resize proposal: seq = request id; payload struct hha_wire_resize */
	HHA_W_RESIZE_REPLY = 44, /* seq of the RESIZE; aux = 0 or errno; payload struct hha_wire_resize */
};

/* HELLO feature bits: a feature is used only when both sides announce it. */
#define HHA_WIRE_F_RESIZE 0x1u   /* understands RESIZE / RESIZE_REPLY */
#define HHA_WIRE_F_SETTLE 0x2u   /* STATE carries max_size and AGREED: the handshake finishes a resize */
#define HHA_WIRE_FEATURES (HHA_WIRE_F_RESIZE | HHA_WIRE_F_SETTLE)

/* RESIZE and RESIZE_REPLY payload (32 bytes): sizes in bytes, multiples of 4096. */
#define HHA_WIRE_RESIZE_LEN 32u
enum {
	HHA_WRZ_DELEGATE = 1u << 0, /* RESIZE from a secondary: the primary runs it */
	HHA_WRZ_ALL = (1u << 1) - 1,
};
struct hha_wire_resize {
	uint64_t size;     /* RESIZE: the size asked for (0 = the largest both can hold); REPLY: agreed, 0 if refused */
	uint64_t max;      /* the sender's largest possible size (its store now) */
	uint64_t cur;      /* the sender's device size */
	uint32_t flags;    /* HHA_WRZ_* */
};
void hha_wire_resize_encode(const struct hha_wire_resize *z, uint8_t *out);
int hha_wire_resize_decode(const uint8_t *in, size_t len, struct hha_wire_resize *z, const char **why);

/* Frame flags (per type, see the table in wire.c). */
#define HHA_WF_FUA 0x01u
#define HHA_WF_NO_HOLE 0x02u
#define HHA_WF_VERIFY 0x04u   /* CSUM_*: online verify (else a checksum-resync probe) */
#define HHA_WIRE_CSUM 32u     /* bytes of hash per 4 KiB block */
#define HHA_WIRE_CSUM_MAX (1u << 20) /* largest CSUM range */

/* Why a handshake was refused (REFUSE aux). */
enum hha_wire_refuse {
	HHA_WR_VERSION = 1,     /* no common protocol version */
	HHA_WR_NAME = 2,        /* unknown resource name */
	HHA_WR_AUTH = 3,        /* authentication failed */
	HHA_WR_SECURITY = 4,    /* different security modes */
	HHA_WR_PROTOCOL = 5,    /* different replication protocols (A/B/C) */
	HHA_WR_SIZE = 6,        /* sizes do not match */
	HHA_WR_UNRELATED = 7,   /* data share no history */
	HHA_WR_SPLITBRAIN = 8,  /* both changed independently */
	HHA_WR_PRIMARY = 9,     /* both are primary */
	HHA_WR_YIELD = 10,      /* duplicate connection: the other one is kept */
	HHA_WR_BUSY = 11,       /* already connected to a peer */
	HHA_WR_MAX
};
const char *hha_wire_refuse_str(uint32_t reason);

struct hha_wire_hdr {
	uint8_t type;
	uint8_t flags;
	uint32_t plen;
	uint64_t seq;
	uint64_t offset;
	uint32_t len;
	uint32_t aux;
};

/* What a connection accepts. */
enum hha_wire_phase { HHA_WIRE_HANDSHAKE, HHA_WIRE_RUNNING };
struct hha_wire_limits {
	enum hha_wire_phase phase;
	uint64_t dev_size;  /* ranges must end within it (0 until sizes are agreed: no range frames) */
	uint32_t max_data;  /* largest data payload (<= HHA_WIRE_MAX_DATA) */
};

void hha_wire_hdr_encode(const struct hha_wire_hdr *h, uint8_t *out);
/*
 * Decode and check a header. Return: 0, or -EPROTO with *why naming the
 * field (static string).
 */
int hha_wire_hdr_decode(const uint8_t *in, const struct hha_wire_limits *lim, struct hha_wire_hdr *h,
			const char **why);

/* HELLO: the first frame each side sends. */
enum hha_wire_security { HHA_SEC_NONE = 0, HHA_SEC_AUTH = 1, HHA_SEC_ENCRYPT = 2 };
#define HHA_WIRE_HELLO_LEN 120u
struct hha_wire_hello {
	uint16_t ver_min, ver_max;
	uint32_t features;     /* HHA_WIRE_F_*; unknown bits are ignored */
	uint8_t security;      /* enum hha_wire_security */
	uint8_t protocol;      /* 'A', 'B' or 'C' */
	uint64_t instance;     /* random per engine start: breaks the connect race */
	uint8_t nonce[HHA_WIRE_NONCE];
	char name[HHA_WIRE_NAME_MAX]; /* resource, NUL-terminated */
};
void hha_wire_hello_encode(const struct hha_wire_hello *h, uint8_t *out);
int hha_wire_hello_decode(const uint8_t *in, size_t len, struct hha_wire_hello *h, const char **why);

/* STATE: sent after the handshake and whenever role, disk state or ids change. */
#define HHA_WIRE_STATE_LEN 96u
#define HHA_WIRE_HISTORY 4
enum {
	HHA_WS_DISCARD_MY_DATA = 1u << 0, /* split brain: this side becomes the target */
	HHA_WS_SKIP_SYNC = 1u << 1,       /* both blank disks declared identical */
	HHA_WS_CRASHED = 1u << 2,         /* attached after a crash as primary (rows 6a-6c) */
	HHA_WS_DZC = 1u << 3,             /* after-split-brain = discard-zero-changes */
	HHA_WS_AGREED = 1u << 4,          /* SETTLE: the size this side runs at is one it agreed with a peer */
	HHA_WS_ALL = (1u << 5) - 1,
};
struct hha_wire_state {
	uint8_t role;           /* enum hha_disk_role */
	uint8_t disk;           /* enum hha_disk_state */
	uint8_t conn;           /* enum hha_conn_state, for the peer's logs */
	uint32_t md_flags;      /* HHA_MDF_* */
	uint32_t sflags;        /* HHA_WS_* */
	uint64_t usable_size;   /* what the local store can hold */
	uint64_t want_size;     /* explicit size asked for, 0 = none */
	uint64_t uuid_current, uuid_bitmap, uuid_history[HHA_WIRE_HISTORY];
	uint64_t oos_blocks;    /* set bits in the local bitmap */
	uint64_t max_size;      /* SETTLE: the largest size this side can grow to now, 0 = unknown */
};
void hha_wire_state_encode(const struct hha_wire_state *s, uint8_t *out);
int hha_wire_state_decode(const uint8_t *in, size_t len, struct hha_wire_state *s, const char **why);

const char *hha_wire_type_name(uint8_t type);

#endif /* HHA_DISK_WIRE_H */
