/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The peer wire protocol's codec: frame headers, handshake and state messages (docs/wire-protocol.md). */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <string.h>

#include <hybridha/disk.h>

#include "core/bytes.h"
#include "core/internal.h"
#include "disk/md.h"
#include "disk/wire.h"

enum payload_rule {
	PL_NONE,  /* plen == 0 */
	PL_FIXED, /* plen == .size */
	PL_DATA,  /* plen == len, 1..max_data */
	PL_UPTO,  /* plen <= .size */
	PL_HASH,  /* len <= 1 MiB in 4 KiB blocks, plen = 32 per block */
	PL_DIFF,  /* len <= 1 MiB in 4 KiB blocks, plen = one bit per block, rounded up to bytes */
	PL_READ,  /* plen = len <= max_data, or 0 with a non-zero aux */
};
enum range_rule {
	RG_NONE, /* offset == 0 and len == 0 */
	RG_NEED, /* len > 0, 512-aligned, offset + len <= dev_size */
};
enum aux_rule {
	AUX_ZERO,
	AUX_ERRNO,  /* 0 or a positive errno (< 4096) */
	AUX_REASON, /* a refusal or disconnect reason */
};

/*
 * The frame table: which fields each type may carry. Anything not allowed
 * here closes the connection.
 *
 * | type        | phase     | flags        | payload            | range | aux    |
 * |-------------|-----------|--------------|--------------------|-------|--------|
 * | HELLO       | handshake | -            | 120 bytes          | none  | 0      |
 * | AUTH        | handshake | -            | 32 bytes           | none  | 0      |
 * | REFUSE      | both      | -            | <= 256 bytes text  | none  | reason |
 * | STATE       | running   | -            | 96 bytes           | none  | 0      |
 * | DATA        | running   | FUA          | = len, <= max_data | need  | 0      |
 * | TRIM        | running   | FUA          | none               | need  | 0      |
 * | ZERO        | running   | FUA, NO_HOLE | none               | need  | 0      |
 * | BARRIER     | running   | -            | none               | none  | 0      |
 * | ACK_RECV    | running   | -            | none               | none  | 0      |
 * | ACK_WRITE   | running   | -            | none               | none  | errno  |
 * | ACK_BARRIER | running   | -            | none               | none  | errno  |
 * | PING, PONG  | running   | -            | none               | none  | 0      |
 * | RS_DATA     | running   | -            | = len, <= max_data | need  | 0      |
 * | RS_ACK      | running   | -            | none               | need  | errno  |
 * | RS_REQ      | running   | -            | none               | need  | 0      |
 * | RS_DONE     | running   | -            | none               | none  | 0      |
 * | OOS         | running   | -            | none               | need  | 0      |
 * | RS_START    | running   | -            | none               | none  | 0      |
 * | CSUM_REQ    | running   | VERIFY       | 32 per 4 KiB block | need  | 0      |
 * | CSUM_REPLY  | running   | VERIFY       | 1 bit per block    | need  | errno  |
 * | DISCONNECT  | running   | -            | none               | none  | reason |
 * | READ_REQ    | running   | -            | none               | need  | 0      |
 * | READ_REPLY  | running   | -            | = len, or none+aux | need  | errno  |
 * | RESIZE      | running   | -            | 32 bytes           | none  | 0      |
 * | RESIZE_REPLY| running   | -            | 32 bytes           | none  | errno  |
 */
struct rule {
	uint8_t type;
	const char *name;
	uint8_t phases; /* bit per enum hha_wire_phase */
	uint8_t flags;
	enum payload_rule pl;
	uint32_t size;
	enum range_rule range;
	enum aux_rule aux;
};

#define HS (1u << HHA_WIRE_HANDSHAKE)
#define RUN (1u << HHA_WIRE_RUNNING)

static const struct rule rules[] = {
	{ HHA_W_HELLO, "HELLO", HS, 0, PL_FIXED, HHA_WIRE_HELLO_LEN, RG_NONE, AUX_ZERO },
	{ HHA_W_AUTH, "AUTH", HS, 0, PL_FIXED, HHA_WIRE_MAC, RG_NONE, AUX_ZERO },
	{ HHA_W_REFUSE, "REFUSE", HS | RUN, 0, PL_UPTO, HHA_WIRE_REFUSE_MAX, RG_NONE, AUX_REASON },
	{ HHA_W_STATE, "STATE", RUN, 0, PL_FIXED, HHA_WIRE_STATE_LEN, RG_NONE, AUX_ZERO },
	{ HHA_W_DATA, "DATA", RUN, HHA_WF_FUA, PL_DATA, 0, RG_NEED, AUX_ZERO },
	{ HHA_W_TRIM, "TRIM", RUN, HHA_WF_FUA, PL_NONE, 0, RG_NEED, AUX_ZERO },
	{ HHA_W_ZERO, "ZERO", RUN, HHA_WF_FUA | HHA_WF_NO_HOLE, PL_NONE, 0, RG_NEED, AUX_ZERO },
	{ HHA_W_BARRIER, "BARRIER", RUN, 0, PL_NONE, 0, RG_NONE, AUX_ZERO },
	{ HHA_W_ACK_RECV, "ACK_RECV", RUN, 0, PL_NONE, 0, RG_NONE, AUX_ZERO },
	{ HHA_W_ACK_WRITE, "ACK_WRITE", RUN, 0, PL_NONE, 0, RG_NONE, AUX_ERRNO },
	{ HHA_W_ACK_BARRIER, "ACK_BARRIER", RUN, 0, PL_NONE, 0, RG_NONE, AUX_ERRNO },
	{ HHA_W_PING, "PING", RUN, 0, PL_NONE, 0, RG_NONE, AUX_ZERO },
	{ HHA_W_PONG, "PONG", RUN, 0, PL_NONE, 0, RG_NONE, AUX_ZERO },
	{ HHA_W_RS_DATA, "RS_DATA", RUN, 0, PL_DATA, 0, RG_NEED, AUX_ZERO },
	{ HHA_W_RS_ACK, "RS_ACK", RUN, 0, PL_NONE, 0, RG_NEED, AUX_ERRNO },
	{ HHA_W_RS_REQ, "RS_REQ", RUN, 0, PL_NONE, 0, RG_NEED, AUX_ZERO },
	{ HHA_W_RS_DONE, "RS_DONE", RUN, 0, PL_NONE, 0, RG_NONE, AUX_ZERO },
	{ HHA_W_OOS, "OOS", RUN, 0, PL_NONE, 0, RG_NEED, AUX_ZERO },
	{ HHA_W_RS_START, "RS_START", RUN, 0, PL_NONE, 0, RG_NONE, AUX_ZERO },
	{ HHA_W_CSUM_REQ, "CSUM_REQ", RUN, HHA_WF_VERIFY, PL_HASH, 0, RG_NEED, AUX_ZERO },
	{ HHA_W_CSUM_REPLY, "CSUM_REPLY", RUN, HHA_WF_VERIFY, PL_DIFF, 0, RG_NEED, AUX_ERRNO },
	{ HHA_W_DISCONNECT, "DISCONNECT", RUN, 0, PL_NONE, 0, RG_NONE, AUX_REASON },
	{ HHA_W_READ_REQ, "READ_REQ", RUN, 0, PL_NONE, 0, RG_NEED, AUX_ZERO },
	{ HHA_W_READ_REPLY, "READ_REPLY", RUN, 0, PL_READ, 0, RG_NEED, AUX_ERRNO },
	{ HHA_W_RESIZE, "RESIZE", RUN, 0, PL_FIXED, HHA_WIRE_RESIZE_LEN, RG_NONE, AUX_ZERO },
	{ HHA_W_RESIZE_REPLY, "RESIZE_REPLY", RUN, 0, PL_FIXED, HHA_WIRE_RESIZE_LEN, RG_NONE, AUX_ERRNO },
};

static const struct rule *find_rule(uint8_t type)
{
	for (size_t i = 0; i < HHA_ARRAY_SIZE(rules); i++)
		if (rules[i].type == type)
			return &rules[i];
	return NULL;
}

const char *hha_wire_type_name(uint8_t type)
{
	const struct rule *r = find_rule(type);

	return r ? r->name : "?";
}

const char *hha_wire_refuse_str(uint32_t reason)
{
	static const char *const words[] = {
		[HHA_WR_VERSION] = "no common protocol version",
		[HHA_WR_NAME] = "unknown resource name",
		[HHA_WR_AUTH] = "authentication failed",
		[HHA_WR_SECURITY] = "different security modes",
		[HHA_WR_PROTOCOL] = "different replication protocols",
		[HHA_WR_SIZE] = "sizes do not match",
		[HHA_WR_UNRELATED] = "unrelated data",
		[HHA_WR_SPLITBRAIN] = "split brain",
		[HHA_WR_PRIMARY] = "both nodes are primary",
		[HHA_WR_YIELD] = "duplicate connection",
		[HHA_WR_BUSY] = "already connected",
	};

	if (reason == 0)
		return "no reason given";
	if (reason >= HHA_WR_MAX || !words[reason])
		return "unknown reason";
	return words[reason];
}


void hha_wire_hdr_encode(const struct hha_wire_hdr *h, uint8_t *out)
{
	hha_put_be16(out, HHA_WIRE_MAGIC);
	out[2] = h->type;
	out[3] = h->flags;
	hha_put_be32(out + 4, h->plen);
	hha_put_be64(out + 8, h->seq);
	hha_put_be64(out + 16, h->offset);
	hha_put_be32(out + 24, h->len);
	hha_put_be32(out + 28, h->aux);
}

#define FAIL(msg)               \
	do {                    \
		*why = (msg);   \
		return -EPROTO; \
	} while (0)

int hha_wire_hdr_decode(const uint8_t *in, const struct hha_wire_limits *lim, struct hha_wire_hdr *h,
			const char **why)
{
	static const char *dummy;
	const struct rule *r;
	uint32_t max_data = HHA_MIN(lim->max_data, HHA_WIRE_MAX_DATA);

	if (!why)
		why = &dummy;
	*why = NULL;
	memset(h, 0, sizeof(*h));
	if (hha_get_be16(in) != HHA_WIRE_MAGIC)
		FAIL("bad magic");
	h->type = in[2];
	h->flags = in[3];
	h->plen = hha_get_be32(in + 4);
	h->seq = hha_get_be64(in + 8);
	h->offset = hha_get_be64(in + 16);
	h->len = hha_get_be32(in + 24);
	h->aux = hha_get_be32(in + 28);
	r = find_rule(h->type);
	if (!r)
		FAIL("unknown frame type");
	if (!(r->phases & (1u << lim->phase)))
		FAIL(lim->phase == HHA_WIRE_HANDSHAKE ? "frame type not allowed during the handshake"
						      : "handshake frame after the handshake");
	if (h->flags & ~r->flags)
		FAIL("flags not allowed for this frame type");
	switch (r->pl) {
	case PL_NONE:
		if (h->plen != 0)
			FAIL("payload on a frame type that has none");
		break;
	case PL_FIXED:
		if (h->plen != r->size)
			FAIL("payload length wrong for this frame type");
		break;
	case PL_UPTO:
		if (h->plen > r->size)
			FAIL("payload too long");
		break;
	case PL_DATA:
		if (h->plen == 0 || h->plen > max_data)
			FAIL("data length out of range");
		if (h->plen != h->len)
			FAIL("data length differs from the range length");
		break;
	case PL_READ:
		if (h->plen == 0 ? h->aux == 0 : (h->plen != h->len || h->plen > max_data))
			FAIL("read reply length wrong for its range");
		break;
	case PL_HASH:
	case PL_DIFF:
		if (h->len == 0 || h->len > HHA_WIRE_CSUM_MAX || h->len % 4096)
			FAIL("checksum range not whole 4 KiB blocks up to 1 MiB");
		if (h->plen != (r->pl == PL_HASH ? h->len / 4096 * HHA_WIRE_CSUM : (h->len / 4096 + 7) / 8))
			FAIL("checksum payload length wrong for its range");
		break;
	}
	switch (r->range) {
	case RG_NONE:
		if (h->offset != 0 || h->len != 0)
			FAIL("range on a frame type that has none");
		break;
	case RG_NEED:
		if (h->len == 0)
			FAIL("empty range");
		if ((h->offset | h->len) & 511)
			FAIL("range not 512-byte aligned");
		if (h->offset > lim->dev_size || h->len > lim->dev_size - h->offset)
			FAIL("range past the end of the device");
		break;
	}
	switch (r->aux) {
	case AUX_ZERO:
		if (h->aux != 0)
			FAIL("aux field not zero");
		break;
	case AUX_ERRNO:
		if (h->aux >= 4096)
			FAIL("error code out of range");
		break;
	case AUX_REASON:
		if (h->aux >= HHA_WR_MAX)
			FAIL("unknown reason code");
		break;
	}
	return 0;
}

/* HELLO layout: magic u32, ver_min u16, ver_max u16, features u32, security u8,
 * protocol u8, reserved u16, instance u64, nonce[32], name[64]. */
void hha_wire_hello_encode(const struct hha_wire_hello *h, uint8_t *out)
{
	memset(out, 0, HHA_WIRE_HELLO_LEN);
	hha_put_be32(out, HHA_WIRE_HELLO_MAGIC);
	hha_put_be16(out + 4, h->ver_min);
	hha_put_be16(out + 6, h->ver_max);
	hha_put_be32(out + 8, h->features);
	out[12] = h->security;
	out[13] = h->protocol;
	hha_put_be64(out + 16, h->instance);
	memcpy(out + 24, h->nonce, HHA_WIRE_NONCE);
	memcpy(out + 56, h->name, strnlen(h->name, HHA_WIRE_NAME_MAX - 1));
}

int hha_wire_hello_decode(const uint8_t *in, size_t len, struct hha_wire_hello *h, const char **why)
{
	static const char *dummy;

	if (!why)
		why = &dummy;
	memset(h, 0, sizeof(*h));
	if (len != HHA_WIRE_HELLO_LEN)
		FAIL("hello length wrong");
	if (hha_get_be32(in) != HHA_WIRE_HELLO_MAGIC)
		FAIL("hello magic wrong");
	h->ver_min = hha_get_be16(in + 4);
	h->ver_max = hha_get_be16(in + 6);
	h->features = hha_get_be32(in + 8);
	h->security = in[12];
	h->protocol = in[13];
	h->instance = hha_get_be64(in + 16);
	memcpy(h->nonce, in + 24, HHA_WIRE_NONCE);
	memcpy(h->name, in + 56, HHA_WIRE_NAME_MAX);
	if (h->ver_min == 0 || h->ver_min > h->ver_max)
		FAIL("hello version range invalid");
	if (h->security > HHA_SEC_ENCRYPT)
		FAIL("hello security mode unknown");
	if (h->protocol != 'A' && h->protocol != 'B' && h->protocol != 'C')
		FAIL("hello replication protocol unknown");
	if (hha_get_be16(in + 14) != 0)
		FAIL("hello reserved field not zero");
	if (h->instance == 0)
		FAIL("hello instance id zero");
	if (!memchr(h->name, 0, HHA_WIRE_NAME_MAX) || h->name[0] == 0)
		FAIL("hello resource name empty or not terminated");
	for (size_t i = strlen(h->name); i < HHA_WIRE_NAME_MAX; i++)
		if (h->name[i])
			FAIL("hello resource name padding not zero");
	return 0;
}

/* STATE layout: role u8, disk u8, conn u8, reserved u8, md_flags u32, sflags u32,
 * reserved u32, usable u64, want u64, current u64, bitmap u64, history 4 x u64,
 * oos u64, max u64 (0 unless SETTLE was negotiated) = 96 bytes. */
void hha_wire_state_encode(const struct hha_wire_state *s, uint8_t *out)
{
	memset(out, 0, HHA_WIRE_STATE_LEN);
	out[0] = s->role;
	out[1] = s->disk;
	out[2] = s->conn;
	hha_put_be32(out + 4, s->md_flags);
	hha_put_be32(out + 8, s->sflags);
	hha_put_be64(out + 16, s->usable_size);
	hha_put_be64(out + 24, s->want_size);
	hha_put_be64(out + 32, s->uuid_current);
	hha_put_be64(out + 40, s->uuid_bitmap);
	for (int i = 0; i < HHA_WIRE_HISTORY; i++)
		hha_put_be64(out + 48 + 8 * i, s->uuid_history[i]);
	hha_put_be64(out + 80, s->oos_blocks);
	hha_put_be64(out + 88, s->max_size);
}

int hha_wire_state_decode(const uint8_t *in, size_t len, struct hha_wire_state *s, const char **why)
{
	static const char *dummy;

	if (!why)
		why = &dummy;
	memset(s, 0, sizeof(*s));
	if (len != HHA_WIRE_STATE_LEN)
		FAIL("state length wrong");
	s->role = in[0];
	s->disk = in[1];
	s->conn = in[2];
	s->md_flags = hha_get_be32(in + 4);
	s->sflags = hha_get_be32(in + 8);
	s->usable_size = hha_get_be64(in + 16);
	s->want_size = hha_get_be64(in + 24);
	s->uuid_current = hha_get_be64(in + 32);
	s->uuid_bitmap = hha_get_be64(in + 40);
	for (int i = 0; i < HHA_WIRE_HISTORY; i++)
		s->uuid_history[i] = hha_get_be64(in + 48 + 8 * i);
	s->oos_blocks = hha_get_be64(in + 80);
	s->max_size = hha_get_be64(in + 88);
	if (s->role > HHA_ROLE_PRIMARY)
		FAIL("state role unknown");
	if (s->disk >= HHA_DS_COUNT)
		FAIL("state disk state unknown");
	if (s->conn >= HHA_CS_COUNT)
		FAIL("state connection state unknown");
	if (in[3] != 0 || hha_get_be32(in + 12) != 0)
		FAIL("state reserved field not zero");
	if (s->md_flags & ~(uint32_t)HHA_MDF_ALL)
		FAIL("state metadata flags unknown");
	if (s->sflags & ~(uint32_t)HHA_WS_ALL)
		FAIL("state flags unknown");
	if (s->usable_size % 4096 || s->want_size % 4096 || s->max_size % 4096)
		FAIL("state sizes not multiples of 4 KiB");
	if (s->want_size > s->usable_size)
		FAIL("state explicit size larger than the store");
	if (s->oos_blocks > s->usable_size / 4096)
		FAIL("state out-of-sync count larger than the device");
	return 0;
}

/* RESIZE layout: size u64, max u64, cur u64, flags u32, reserved u32 = 32 bytes. */
void hha_wire_resize_encode(const struct hha_wire_resize *z, uint8_t *out)
{
	memset(out, 0, HHA_WIRE_RESIZE_LEN);
	hha_put_be64(out, z->size);
	hha_put_be64(out + 8, z->max);
	hha_put_be64(out + 16, z->cur);
	hha_put_be32(out + 24, z->flags);
}

int hha_wire_resize_decode(const uint8_t *in, size_t len, struct hha_wire_resize *z, const char **why)
{
	static const char *dummy;

	if (!why)
		why = &dummy;
	memset(z, 0, sizeof(*z));
	if (len != HHA_WIRE_RESIZE_LEN)
		FAIL("resize length wrong");
	z->size = hha_get_be64(in);
	z->max = hha_get_be64(in + 8);
	z->cur = hha_get_be64(in + 16);
	z->flags = hha_get_be32(in + 24);
	if (hha_get_be32(in + 28) != 0)
		FAIL("resize reserved field not zero");
	if (z->flags & ~(uint32_t)HHA_WRZ_ALL)
		FAIL("resize flags unknown");
	if ((z->size | z->max | z->cur) % 4096)
		FAIL("resize sizes not multiples of 4 KiB");
	if (z->cur == 0 || z->cur > z->max)
		FAIL("resize current size not within the sender's store");
	return 0;
}
