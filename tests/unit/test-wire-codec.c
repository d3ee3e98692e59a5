/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the peer wire codec (round trips, and every malformed field rejected). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <hybridha/disk.h>

#include "core/internal.h"
#include "disk/md.h"
#include "disk/wire.h"

static const struct hha_wire_limits run_lim = { HHA_WIRE_RUNNING, 1ull << 30, 1u << 20 };
static const struct hha_wire_limits hs_lim = { HHA_WIRE_HANDSHAKE, 0, 0 };

static void test_hdr_roundtrip(void **state)
{
	static const struct hha_wire_hdr good[] = {
		{ HHA_W_DATA, HHA_WF_FUA, 4096, 1, 0, 4096, 0 },
		{ HHA_W_DATA, 0, 1u << 20, UINT64_MAX, (1ull << 30) - (1u << 20), 1u << 20, 0 },
		{ HHA_W_TRIM, 0, 0, 9, 512, 0xfffffe00u & ((1u << 30) - 512), 0 },
		{ HHA_W_ZERO, HHA_WF_NO_HOLE | HHA_WF_FUA, 0, 9, 0, 512, 0 },
		{ HHA_W_BARRIER, 0, 0, 77, 0, 0, 0 },
		{ HHA_W_ACK_RECV, 0, 0, 77, 0, 0, 0 },
		{ HHA_W_ACK_WRITE, 0, 0, 77, 0, 0, EIO },
		{ HHA_W_ACK_BARRIER, 0, 0, 77, 0, 0, 0 },
		{ HHA_W_PING, 0, 0, 0, 0, 0, 0 },
		{ HHA_W_PONG, 0, 0, 0, 0, 0, 0 },
		{ HHA_W_STATE, 0, HHA_WIRE_STATE_LEN, 0, 0, 0, 0 },
		{ HHA_W_RS_DATA, 0, 65536, 5, 65536, 65536, 0 },
		{ HHA_W_RS_ACK, 0, 0, 5, 65536, 65536, 0 },
		{ HHA_W_RS_REQ, 0, 0, 5, 0, 4096, 0 },
		{ HHA_W_RS_DONE, 0, 0, 0, 0, 0, 0 },
		{ HHA_W_OOS, 0, 0, 0, 4096, 4096, 0 },
		{ HHA_W_RS_START, 0, 0, 0, 0, 0, 0 },
		{ HHA_W_CSUM_REQ, 0, 256 * HHA_WIRE_CSUM, 3, 1u << 20, 1u << 20, 0 },
		{ HHA_W_CSUM_REQ, HHA_WF_VERIFY, HHA_WIRE_CSUM, 3, 4096, 4096, 0 },
		{ HHA_W_CSUM_REPLY, HHA_WF_VERIFY, 32, 3, 1u << 20, 1u << 20, 0 },
		{ HHA_W_CSUM_REPLY, 0, 2, 3, 0, 9 * 4096, EIO },
		{ HHA_W_READ_REQ, 0, 0, 8, 8192, 65536, 0 },
		{ HHA_W_READ_REPLY, 0, 65536, 8, 8192, 65536, 0 },
		{ HHA_W_READ_REPLY, 0, 0, 8, 8192, 65536, EIO },
		{ HHA_W_DISCONNECT, 0, 0, 0, 0, 0, HHA_WR_YIELD },
		{ HHA_W_REFUSE, 0, 100, 0, 0, 0, HHA_WR_SIZE },
		{ HHA_W_RESIZE, 0, HHA_WIRE_RESIZE_LEN, 3, 0, 0, 0 },
		{ HHA_W_RESIZE_REPLY, 0, HHA_WIRE_RESIZE_LEN, 3, 0, 0, ENOSPC },
	};
	uint8_t buf[HHA_WIRE_HDR];
	struct hha_wire_hdr h;
	const char *why;
	(void)state;

	for (size_t i = 0; i < HHA_ARRAY_SIZE(good); i++) {
		hha_wire_hdr_encode(&good[i], buf);
		assert_int_equal(hha_wire_hdr_decode(buf, &run_lim, &h, &why), 0);
		assert_memory_equal(&h, &good[i], sizeof(h));
		/* Running frames are refused during the handshake (REFUSE aside). */
		if (good[i].type != HHA_W_REFUSE)
			assert_int_equal(hha_wire_hdr_decode(buf, &hs_lim, &h, &why), -EPROTO);
	}
	{
		struct hha_wire_hdr hello = { HHA_W_HELLO, 0, HHA_WIRE_HELLO_LEN, 0, 0, 0, 0 };
		struct hha_wire_hdr auth = { HHA_W_AUTH, 0, HHA_WIRE_MAC, 0, 0, 0, 0 };
		hha_wire_hdr_encode(&hello, buf);
		assert_int_equal(hha_wire_hdr_decode(buf, &hs_lim, &h, &why), 0);
		assert_int_equal(hha_wire_hdr_decode(buf, &run_lim, &h, &why), -EPROTO);
		hha_wire_hdr_encode(&auth, buf);
		assert_int_equal(hha_wire_hdr_decode(buf, &hs_lim, &h, &why), 0);
	}
}

/* Each row: a header that must be refused, and (part of) the reason. */
static void test_hdr_reject(void **state)
{
	static const struct {
		struct hha_wire_hdr h;
		const char *why;
	} bad[] = {
		{ { 99, 0, 0, 0, 0, 0, 0 }, "unknown frame type" },
		{ { 0, 0, 0, 0, 0, 0, 0 }, "unknown frame type" },
		{ { HHA_W_DATA, 0x80, 4096, 1, 0, 4096, 0 }, "flags" },
		{ { HHA_W_DATA, HHA_WF_NO_HOLE, 4096, 1, 0, 4096, 0 }, "flags" },
		{ { HHA_W_BARRIER, HHA_WF_FUA, 0, 1, 0, 0, 0 }, "flags" },
		{ { HHA_W_DATA, 0, 0, 1, 0, 0, 0 }, "data length" },
		{ { HHA_W_DATA, 0, (1u << 20) + 512, 1, 0, (1u << 20) + 512, 0 }, "data length" },
		{ { HHA_W_DATA, 0, 0xffffffffu, 1, 0, 0xffffffffu, 0 }, "data length" },
		{ { HHA_W_DATA, 0, 4096, 1, 0, 8192, 0 }, "differs" },
		{ { HHA_W_DATA, 0, 4096, 1, 100, 4096, 0 }, "aligned" },
		{ { HHA_W_DATA, 0, 1000, 1, 0, 1000, 0 }, "aligned" },
		{ { HHA_W_DATA, 0, 4096, 1, 1ull << 30, 4096, 0 }, "past the end" },
		{ { HHA_W_DATA, 0, 4096, 1, UINT64_MAX - 4095, 4096, 0 }, "past the end" },
		{ { HHA_W_DATA, 0, 4096, 1, (UINT64_MAX & ~511ull) - 4096 + 512, 4096, 0 }, "past the end" },
		{ { HHA_W_DATA, 0, 4096, 1, 0, 4096, 1 }, "aux" },
		{ { HHA_W_TRIM, 0, 0, 1, 0, 0, 0 }, "empty range" },
		{ { HHA_W_TRIM, 0, 512, 1, 0, 512, 0 }, "payload" },
		{ { HHA_W_TRIM, 0, 0, 1, (1ull << 30) - 512, 1024, 0 }, "past the end" },
		{ { HHA_W_BARRIER, 0, 0, 1, 512, 0, 0 }, "range" },
		{ { HHA_W_BARRIER, 0, 0, 1, 0, 512, 0 }, "range" },
		{ { HHA_W_PING, 0, 8, 0, 0, 0, 0 }, "payload" },
		{ { HHA_W_ACK_WRITE, 0, 0, 1, 0, 0, 5000 }, "error code" },
		{ { HHA_W_DISCONNECT, 0, 0, 0, 0, 0, HHA_WR_MAX }, "reason" },
		{ { HHA_W_REFUSE, 0, HHA_WIRE_REFUSE_MAX + 1, 0, 0, 0, 1 }, "too long" },
		{ { HHA_W_STATE, 0, HHA_WIRE_STATE_LEN - 1, 0, 0, 0, 0 }, "payload length" },
		{ { HHA_W_STATE, 0, 0xffffffffu, 0, 0, 0, 0 }, "payload length" },
		{ { HHA_W_HELLO, 0, HHA_WIRE_HELLO_LEN, 0, 0, 0, 0 }, "handshake frame" },
		{ { HHA_W_RS_DATA, 0, 4096, 1, 0, 4096, 3 }, "aux" },
		{ { HHA_W_RS_ACK, 0, 0, 1, 0, 0, 0 }, "empty range" },
		{ { HHA_W_RS_START, 0, 0, 0, 0, 4096, 0 }, "range" },
		{ { HHA_W_CSUM_REQ, 0, 32, 1, 0, 512, 0 }, "whole 4 KiB blocks" },
		{ { HHA_W_CSUM_REQ, 0, 257 * 32, 1, 0, (1u << 20) + 4096, 0 }, "whole 4 KiB blocks" },
		{ { HHA_W_CSUM_REQ, 0, 31, 1, 0, 4096, 0 }, "checksum payload" },
		{ { HHA_W_CSUM_REQ, HHA_WF_FUA, 32, 1, 0, 4096, 0 }, "flags" },
		{ { HHA_W_CSUM_REPLY, 0, 33, 1, 0, 1u << 20, 0 }, "checksum payload" },
		{ { HHA_W_READ_REPLY, 0, 0, 1, 0, 4096, 0 }, "read reply" },
		{ { HHA_W_READ_REPLY, 0, 512, 1, 0, 4096, 0 }, "read reply" },
		{ { HHA_W_READ_REQ, 0, 4096, 1, 0, 4096, 0 }, "payload" },
		{ { HHA_W_RESIZE, 0, HHA_WIRE_RESIZE_LEN + 1, 1, 0, 0, 0 }, "payload length" },
		{ { HHA_W_RESIZE, 0, HHA_WIRE_RESIZE_LEN, 1, 0, 4096, 0 }, "range" },
		{ { HHA_W_RESIZE, 0, HHA_WIRE_RESIZE_LEN, 1, 0, 0, EIO }, "aux" },
		{ { HHA_W_RESIZE_REPLY, 0, 0, 1, 0, 0, 0 }, "payload length" },
		{ { HHA_W_RESIZE_REPLY, 0, HHA_WIRE_RESIZE_LEN, 1, 0, 0, 5000 }, "error code" },
		{ { HHA_W_RESIZE_REPLY, HHA_WF_FUA, HHA_WIRE_RESIZE_LEN, 1, 0, 0, 0 }, "flags" },
	};
	uint8_t buf[HHA_WIRE_HDR];
	struct hha_wire_hdr h;
	const char *why;
	(void)state;

	for (size_t i = 0; i < HHA_ARRAY_SIZE(bad); i++) {
		hha_wire_hdr_encode(&bad[i].h, buf);
		why = NULL;
		assert_int_equal(hha_wire_hdr_decode(buf, &run_lim, &h, &why), -EPROTO);
		assert_non_null(why);
		if (!strstr(why, bad[i].why))
			fail_msg("row %zu: expected \"%s\", got \"%s\"", i, bad[i].why, why);
	}
	/* The magic. */
	hha_wire_hdr_encode(&bad[0].h, buf);
	buf[0] ^= 1;
	assert_int_equal(hha_wire_hdr_decode(buf, &run_lim, &h, &why), -EPROTO);
	assert_string_equal(why, "bad magic");
	/* No range frame before a size is agreed. */
	{
		struct hha_wire_limits l = { HHA_WIRE_RUNNING, 0, 1u << 20 };
		struct hha_wire_hdr d = { HHA_W_DATA, 0, 4096, 1, 0, 4096, 0 };
		hha_wire_hdr_encode(&d, buf);
		assert_int_equal(hha_wire_hdr_decode(buf, &l, &h, &why), -EPROTO);
	}
}

static void good_hello(struct hha_wire_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->ver_min = 1;
	h->ver_max = 3;
	h->features = 0x10;
	h->security = HHA_SEC_ENCRYPT;
	h->protocol = 'C';
	h->instance = 0x0123456789abcdefull;
	for (unsigned i = 0; i < HHA_WIRE_NONCE; i++)
		h->nonce[i] = (uint8_t)i;
	strcpy(h->name, "r0");
}

static void test_hello(void **state)
{
	/* byte offset, value that breaks it */
	static const struct {
		size_t off;
		uint8_t val;
		const char *why;
	} bad[] = {
		{ 0, 0, "magic" },      { 5, 0, "version" },	  { 4, 9, "version" },
		{ 12, 3, "security" },  { 13, 'D', "protocol" }, { 14, 1, "reserved" },
		{ 56, 0, "name" },      { 70, 'x', "padding" },  { 119, 'x', "name" },
	};
	uint8_t buf[HHA_WIRE_HELLO_LEN];
	struct hha_wire_hello h, out;
	const char *why;
	(void)state;

	good_hello(&h);
	hha_wire_hello_encode(&h, buf);
	assert_int_equal(hha_wire_hello_decode(buf, sizeof(buf), &out, &why), 0);
	assert_memory_equal(&h, &out, sizeof(h));
	assert_int_equal(hha_wire_hello_decode(buf, sizeof(buf) - 1, &out, &why), -EPROTO);
	for (size_t i = 0; i < HHA_ARRAY_SIZE(bad); i++) {
		hha_wire_hello_encode(&h, buf);
		buf[bad[i].off] = bad[i].val;
		assert_int_equal(hha_wire_hello_decode(buf, sizeof(buf), &out, &why), -EPROTO);
		if (!strstr(why, bad[i].why))
			fail_msg("row %zu: expected \"%s\", got \"%s\"", i, bad[i].why, why);
	}
	h.instance = 0;
	hha_wire_hello_encode(&h, buf);
	assert_int_equal(hha_wire_hello_decode(buf, sizeof(buf), &out, &why), -EPROTO);
}

static void good_state(struct hha_wire_state *s)
{
	memset(s, 0, sizeof(*s));
	s->role = HHA_ROLE_PRIMARY;
	s->disk = HHA_DS_UPTODATE;
	s->conn = HHA_CS_CONNECTED;
	s->md_flags = HHA_MDF_CONSISTENT | HHA_MDF_WAS_PRIMARY;
	s->sflags = HHA_WS_SKIP_SYNC;
	s->usable_size = 1ull << 30;
	s->want_size = 1ull << 29;
	s->uuid_current = 1;
	s->uuid_bitmap = 2;
	s->uuid_history[0] = 3;
	s->uuid_history[3] = 4;
	s->oos_blocks = 262144;
}

static void test_state(void **state)
{
	static const struct {
		size_t off;
		uint8_t val;
		const char *why;
	} bad[] = {
		{ 0, 2, "role" },        { 1, HHA_DS_COUNT, "disk" }, { 2, HHA_CS_COUNT, "connection" },
		{ 3, 1, "reserved" },    { 4, 0x80, "metadata flags" }, { 8, 0x80, "state flags" },
		{ 12, 1, "reserved" },   { 23, 1, "multiples" },        { 30, 1, "multiples" },
		{ 26, 0xff, "explicit size" }, { 84, 1, "out-of-sync" }, { 95, 1, "multiples" },
	};
	uint8_t buf[HHA_WIRE_STATE_LEN];
	struct hha_wire_state s, out;
	const char *why;
	(void)state;

	good_state(&s);
	hha_wire_state_encode(&s, buf);
	assert_int_equal(hha_wire_state_decode(buf, sizeof(buf), &out, &why), 0);
	assert_memory_equal(&s, &out, sizeof(s));
	assert_int_equal(hha_wire_state_decode(buf, sizeof(buf) + 1, &out, &why), -EPROTO);
	for (size_t i = 0; i < HHA_ARRAY_SIZE(bad); i++) {
		hha_wire_state_encode(&s, buf);
		buf[bad[i].off] = bad[i].val;
		assert_int_equal(hha_wire_state_decode(buf, sizeof(buf), &out, &why), -EPROTO);
		if (!strstr(why, bad[i].why))
			fail_msg("row %zu: expected \"%s\", got \"%s\"", i, bad[i].why, why);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(hha_wire_type_name(HHA_W_DATA), "DATA");
	assert_string_equal(hha_wire_type_name(200), "?");
	assert_string_equal(hha_wire_refuse_str(HHA_WR_AUTH), "authentication failed");
	assert_string_equal(hha_wire_refuse_str(0), "no reason given");
	assert_string_equal(hha_wire_refuse_str(999), "unknown reason");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hdr_roundtrip), cmocka_unit_test(test_hdr_reject),
		cmocka_unit_test(test_hello),	       cmocka_unit_test(test_state),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
