/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: NBD wire codec (exact bytes, round trips, rejection of malformed fields). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "disk/nbd-proto.h"

static void test_greeting(void **state)
{
	static const uint8_t want[18] = { 'N', 'B', 'D', 'M', 'A', 'G', 'I', 'C',
					  'I', 'H', 'A', 'V', 'E', 'O', 'P', 'T', 0, 3 };
	uint8_t b[18];
	uint16_t f = 0;

	(void)state;
	assert_int_equal(hha_nbd_encode_greeting(b, 3), 18);
	assert_memory_equal(b, want, 18);
	assert_int_equal(hha_nbd_decode_greeting(b, 18, &f), 0);
	assert_int_equal(f, 3);
	assert_int_equal(hha_nbd_decode_greeting(b, 17, &f), -EAGAIN);
	b[3] ^= 1;
	assert_int_equal(hha_nbd_decode_greeting(b, 18, &f), -EBADMSG);
	b[3] ^= 1;
	b[15] ^= 1;
	assert_int_equal(hha_nbd_decode_greeting(b, 18, &f), -EBADMSG);
}

static void test_client_flags(void **state)
{
	static const struct {
		uint16_t offered;
		uint32_t flags;
		int want;
	} rows[] = {
		{ 3, 0, 0 },	     { 3, 1, 0 },	   { 3, 2, 0 },	      { 3, 3, 0 },
		{ 3, 4, -EPROTO },   { 3, 0x80000000u, -EPROTO }, { 1, 2, -EPROTO },
		{ 1, 1, 0 },	     { 0, 1, -EPROTO },	   { 2, 2, 0 },
	};
	uint8_t b[4];
	uint32_t f;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		hha_nbd_encode_client_flags(b, rows[i].flags);
		assert_int_equal(hha_nbd_decode_client_flags(b, 4, rows[i].offered, &f), rows[i].want);
		if (rows[i].want == 0)
			assert_int_equal(f, rows[i].flags);
	}
	assert_int_equal(hha_nbd_decode_client_flags(b, 3, 3, &f), -EAGAIN);
	hha_nbd_encode_client_flags(b, 0x01020304);
	assert_int_equal(b[0], 1);
	assert_int_equal(b[3], 4);
}

static void test_opt_hdr(void **state)
{
	uint8_t b[16];
	struct hha_nbd_opt_hdr h;

	(void)state;
	assert_int_equal(hha_nbd_encode_opt_hdr(b, 7, 0x11223344), 16);
	assert_memory_equal(b, "IHAVEOPT\0\0\0\x07\x11\x22\x33\x44", 16);
	assert_int_equal(hha_nbd_decode_opt_hdr(b, 16, &h), 0);
	assert_int_equal(h.opt, 7);
	assert_int_equal(h.len, 0x11223344);
	assert_int_equal(hha_nbd_decode_opt_hdr(b, 15, &h), -EAGAIN);
	for (int i = 0; i < 8; i++) {
		b[i] ^= 0x20;
		assert_int_equal(hha_nbd_decode_opt_hdr(b, 16, &h), -EBADMSG);
		b[i] ^= 0x20;
	}
}

static void test_opt_reply(void **state)
{
	static const uint8_t want[20] = { 0, 0x03, 0xe8, 0x89, 0x04, 0x55, 0x65, 0xa9, 0, 0,
					  0, 6,	   0x80, 0,    0,    6,	   0,	 0,    0, 5 };
	uint8_t b[20];
	struct hha_nbd_opt_reply r;

	(void)state;
	assert_int_equal(hha_nbd_encode_opt_reply(b, 6, HHA_NBD_REP_ERR_UNKNOWN, 5), 20);
	assert_memory_equal(b, want, 20);
	assert_int_equal(hha_nbd_decode_opt_reply(b, 20, &r), 0);
	assert_int_equal(r.opt, 6);
	assert_int_equal(r.type, HHA_NBD_REP_ERR_UNKNOWN);
	assert_int_equal(r.len, 5);
	assert_int_equal(hha_nbd_decode_opt_reply(b, 19, &r), -EAGAIN);
	b[0] = 1;
	assert_int_equal(hha_nbd_decode_opt_reply(b, 20, &r), -EBADMSG);
}

static void test_info_req(void **state)
{
	static const uint16_t info[] = { HHA_NBD_INFO_BLOCK_SIZE, HHA_NBD_INFO_NAME };
	uint8_t b[64], big[4 + 4097 + 2];
	struct hha_nbd_info_req ir;
	size_t n;

	(void)state;
	n = hha_nbd_encode_info_req(b, "disk", 4, info, 2);
	assert_int_equal(n, 4 + 4 + 2 + 4);
	assert_memory_equal(b, "\0\0\0\4disk\0\2\0\3\0\1", n);
	assert_int_equal(hha_nbd_decode_info_req(b, (uint32_t)n, &ir), 0);
	assert_int_equal(ir.name_len, 4);
	assert_memory_equal(ir.name, "disk", 4);
	assert_int_equal(ir.n_info, 2);
	assert_true(hha_nbd_info_req_has(&ir, HHA_NBD_INFO_NAME));
	assert_true(hha_nbd_info_req_has(&ir, HHA_NBD_INFO_BLOCK_SIZE));
	assert_false(hha_nbd_info_req_has(&ir, HHA_NBD_INFO_EXPORT));

	/* Every length but the exact one is rejected. */
	for (uint32_t len = 0; len < sizeof(b); len++)
		if (len != n)
			assert_int_equal(hha_nbd_decode_info_req(b, len, &ir), -EINVAL);
	/* Empty name, no requests: the smallest valid message. */
	n = hha_nbd_encode_info_req(b, "", 0, NULL, 0);
	assert_int_equal(n, 6);
	assert_int_equal(hha_nbd_decode_info_req(b, 6, &ir), 0);
	assert_int_equal(ir.name_len, 0);
	/* A name length so large that name + 6 wraps 32 bits. */
	hha_put_be32(b, 0xfffffffe);
	assert_int_equal(hha_nbd_decode_info_req(b, 6, &ir), -EINVAL);
	/* A count so large that 2 * count overflows what is there. */
	n = hha_nbd_encode_info_req(b, "a", 1, NULL, 0);
	hha_put_be16(b + 5, 0xffff);
	assert_int_equal(hha_nbd_decode_info_req(b, (uint32_t)n, &ir), -EINVAL);
	/* A NUL inside the name. */
	n = hha_nbd_encode_info_req(b, "a\0b", 3, NULL, 0);
	assert_int_equal(hha_nbd_decode_info_req(b, (uint32_t)n, &ir), -EINVAL);
	/* A name above 4096 bytes. */
	memset(big, 'x', sizeof(big));
	n = hha_nbd_encode_info_req(big, (const char *)big + 4, 4097, NULL, 0);
	assert_int_equal(hha_nbd_decode_info_req(big, (uint32_t)n, &ir), -EINVAL);
}

static void test_info_replies(void **state)
{
	uint8_t b[16];

	(void)state;
	assert_int_equal(hha_nbd_encode_info_export(b, 0x0102030405060708ULL, 0x0c6d), 12);
	assert_memory_equal(b, "\0\0\1\2\3\4\5\6\7\x08\x0c\x6d", 12);
	assert_int_equal(hha_nbd_encode_info_block_size(b, 512, 4096, 1u << 25), 14);
	assert_memory_equal(b, "\0\3\0\0\2\0\0\0\x10\0\2\0\0\0", 14);
}

static void test_export_name_reply(void **state)
{
	uint8_t b[134];

	(void)state;
	memset(b, 0xee, sizeof(b));
	assert_int_equal(hha_nbd_encode_export_name_reply(b, 1u << 20, 0x43, true), 10);
	assert_memory_equal(b, "\0\0\0\0\0\x10\0\0\0\x43", 10);
	assert_int_equal(b[10], 0xee);
	assert_int_equal(hha_nbd_encode_export_name_reply(b, 1u << 20, 0x43, false), 134);
	for (int i = 10; i < 134; i++)
		assert_int_equal(b[i], 0);
}

static void test_request(void **state)
{
	struct hha_nbd_request r = { 0x0102, 0x0304, 0x0506070809101112ULL, 0x1314151617181920ULL,
				     0x21222324 };
	struct hha_nbd_request d;
	uint8_t b[28];

	(void)state;
	assert_int_equal(hha_nbd_encode_request(b, &r), 28);
	assert_memory_equal(b,
			    "\x25\x60\x95\x13\x01\x02\x03\x04\x05\x06\x07\x08\x09\x10\x11\x12"
			    "\x13\x14\x15\x16\x17\x18\x19\x20\x21\x22\x23\x24",
			    28);
	assert_int_equal(hha_nbd_decode_request(b, 28, &d), 0);
	assert_int_equal(d.flags, r.flags);
	assert_int_equal(d.type, r.type);
	assert_true(d.cookie == r.cookie && d.offset == r.offset);
	assert_int_equal(d.len, r.len);
	for (size_t n = 0; n < 28; n++)
		assert_int_equal(hha_nbd_decode_request(b, n, &d), -EAGAIN);
	for (int i = 0; i < 4; i++) {
		b[i] ^= 0x80;
		assert_int_equal(hha_nbd_decode_request(b, 28, &d), -EBADMSG);
		b[i] ^= 0x80;
	}
}

static void test_replies(void **state)
{
	uint8_t b[64];
	uint32_t err;
	uint64_t cookie;
	struct hha_nbd_chunk c;

	(void)state;
	assert_int_equal(hha_nbd_encode_simple_reply(b, 22, 0xabcdef), 16);
	assert_memory_equal(b, "\x67\x44\x66\x98\0\0\0\x16\0\0\0\0\0\xab\xcd\xef", 16);
	assert_int_equal(hha_nbd_decode_simple_reply(b, 16, &err, &cookie), 0);
	assert_int_equal(err, 22);
	assert_true(cookie == 0xabcdef);
	assert_int_equal(hha_nbd_decode_simple_reply(b, 15, &err, &cookie), -EAGAIN);
	b[0] = 0;
	assert_int_equal(hha_nbd_decode_simple_reply(b, 16, &err, &cookie), -EBADMSG);

	assert_int_equal(hha_nbd_encode_offset_data(b, 1, 7, 0x1000, 4096), 28);
	assert_memory_equal(b, "\x66\x8e\x33\xef\0\1\0\1\0\0\0\0\0\0\0\7\0\0\x10\x08"
			       "\0\0\0\0\0\0\x10\0",
			    28);
	assert_int_equal(hha_nbd_decode_chunk(b, 20, &c), 0);
	assert_int_equal(c.len, 4104);
	assert_int_equal(c.type, HHA_NBD_REPLY_TYPE_OFFSET_DATA);
	assert_int_equal(hha_nbd_decode_chunk(b, 19, &c), -EAGAIN);
}

static void test_chunk_rejects(void **state)
{
	static const struct {
		uint16_t flags, type;
		uint32_t len;
		int want;
	} rows[] = {
		{ 1, HHA_NBD_REPLY_TYPE_NONE, 0, 0 },
		{ 0, HHA_NBD_REPLY_TYPE_NONE, 0, -EINVAL },   /* NONE must be DONE */
		{ 1, HHA_NBD_REPLY_TYPE_NONE, 1, -EINVAL },   /* NONE carries nothing */
		{ 1, HHA_NBD_REPLY_TYPE_OFFSET_DATA, 8, -EINVAL },
		{ 1, HHA_NBD_REPLY_TYPE_OFFSET_DATA, 9, 0 },
		{ 1, HHA_NBD_REPLY_TYPE_OFFSET_HOLE, 11, -EINVAL },
		{ 1, HHA_NBD_REPLY_TYPE_OFFSET_HOLE, 12, 0 },
		{ 1, HHA_NBD_REPLY_TYPE_ERROR, 5, -EINVAL },
		{ 1, HHA_NBD_REPLY_TYPE_ERROR, 6, 0 },
		{ 1, 0x8042, 5, -EINVAL },                    /* any error type */
	};
	uint8_t b[20];
	struct hha_nbd_chunk c;

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct hha_nbd_chunk in = { rows[i].flags, rows[i].type, 1, rows[i].len };

		hha_nbd_encode_chunk(b, &in);
		assert_int_equal(hha_nbd_decode_chunk(b, 20, &c), rows[i].want);
	}
	b[1] = 0;
	assert_int_equal(hha_nbd_decode_chunk(b, 20, &c), -EBADMSG);
}

static void test_error_chunk(void **state)
{
	uint8_t b[HHA_NBD_ERROR_CHUNK_MIN + 10];
	struct hha_nbd_chunk c;

	(void)state;
	assert_int_equal(hha_nbd_encode_error_chunk(b, sizeof(b), 1, 9, 22, NULL), 26);
	assert_int_equal(hha_nbd_decode_chunk(b, 20, &c), 0);
	assert_int_equal(c.type, HHA_NBD_REPLY_TYPE_ERROR);
	assert_int_equal(c.len, 6);
	assert_int_equal(hha_get_be32(b + 20), 22);
	assert_int_equal(hha_get_be16(b + 24), 0);
	/* The message is cut to the room given. */
	assert_int_equal(hha_nbd_encode_error_chunk(b, sizeof(b), 1, 9, 5, "0123456789abcdef"), 36);
	assert_int_equal(hha_nbd_decode_chunk(b, 20, &c), 0);
	assert_int_equal(c.len, 16);
	assert_int_equal(hha_get_be16(b + 24), 10);
	assert_memory_equal(b + 26, "0123456789", 10);
}

static void test_errno_to_wire(void **state)
{
	static const struct {
		int err;
		uint32_t want;
	} rows[] = {
		{ 0, 0 },		  { -EPERM, 1 },      { EPERM, 1 },	{ -EROFS, 1 },
		{ -EACCES, 1 },		  { -EIO, 5 },	      { -ENOMEM, 12 },	{ -EINVAL, 22 },
		{ -ENOSPC, 28 },	  { -EDQUOT, 28 },    { -EFBIG, 28 },	{ -EOVERFLOW, 75 },
		{ -ENOTSUP, 95 },	  { -EOPNOTSUPP, 95 }, { -ESHUTDOWN, 108 }, { -ENOENT, 5 },
		{ -ETIMEDOUT, 5 },	  { -4097, 5 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(hha_nbd_errno_to_wire(rows[i].err), rows[i].want);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(hha_nbd_opt_name(HHA_NBD_OPT_GO), "NBD_OPT_GO");
	assert_string_equal(hha_nbd_opt_name(4), "NBD_OPT_PEEK_EXPORT");
	assert_string_equal(hha_nbd_opt_name(12), "unknown");
	assert_string_equal(hha_nbd_opt_name(0xffffffff), "unknown");
	assert_string_equal(hha_nbd_cmd_name(HHA_NBD_CMD_WRITE_ZEROES), "NBD_CMD_WRITE_ZEROES");
	assert_string_equal(hha_nbd_cmd_name(8), "unknown");
	assert_true(hha_nbd_string_valid("", 0));
	assert_false(hha_nbd_string_valid("a\0", 2));
}

static void test_check_request(void **state)
{
	enum { F_ALL = HHA_NBD_FLAG_HAS_FLAGS | HHA_NBD_FLAG_SEND_FLUSH | HHA_NBD_FLAG_SEND_FUA |
		       HHA_NBD_FLAG_SEND_TRIM | HHA_NBD_FLAG_SEND_WRITE_ZEROES |
		       HHA_NBD_FLAG_SEND_CACHE | HHA_NBD_FLAG_SEND_FAST_ZERO | HHA_NBD_FLAG_SEND_DF,
	       F_RO = HHA_NBD_FLAG_HAS_FLAGS | HHA_NBD_FLAG_READ_ONLY | HHA_NBD_FLAG_SEND_FLUSH,
	       F_MIN = HHA_NBD_FLAG_HAS_FLAGS };
	const uint64_t size = 1 << 20;
	static const struct {
		uint16_t tflags, type, flags;
		uint64_t off;
		uint32_t len;
		uint32_t want;
	} rows[] = {
		/* valid */
		{ F_ALL, HHA_NBD_CMD_READ, 0, 0, 4096, 0 },
		{ F_ALL, HHA_NBD_CMD_READ, HHA_NBD_CMD_FLAG_DF | HHA_NBD_CMD_FLAG_FUA, 0, 512, 0 },
		{ F_ALL, HHA_NBD_CMD_WRITE, HHA_NBD_CMD_FLAG_FUA, (1 << 20) - 65536, 65536, 0 },
		{ F_ALL, HHA_NBD_CMD_FLUSH, 0, 0, 0, 0 },
		{ F_ALL, HHA_NBD_CMD_TRIM, HHA_NBD_CMD_FLAG_FUA, 0, 1 << 20, 0 },
		{ F_ALL, HHA_NBD_CMD_WRITE_ZEROES, HHA_NBD_CMD_FLAG_NO_HOLE, 512, 1 << 19, 0 },
		{ F_ALL, HHA_NBD_CMD_CACHE, 0, 0, 1 << 20, 0 },
		{ F_ALL, HHA_NBD_CMD_READ, 0, 1 << 20, 0, 0 }, /* empty, at the end */
		{ F_RO, HHA_NBD_CMD_READ, 0, 0, 4096, 0 },
		{ F_RO, HHA_NBD_CMD_FLUSH, 0, 0, 0, 0 },
		/* unknown or not offered */
		{ F_ALL, 8, 0, 0, 0, HHA_NBD_EINVAL },
		{ F_ALL, 0xffff, 0, 0, 0, HHA_NBD_EINVAL },
		{ F_ALL, HHA_NBD_CMD_BLOCK_STATUS, 0, 0, 512, HHA_NBD_EINVAL },
		{ F_MIN, HHA_NBD_CMD_FLUSH, 0, 0, 0, HHA_NBD_EINVAL },
		{ F_MIN, HHA_NBD_CMD_TRIM, 0, 0, 512, HHA_NBD_EINVAL },
		{ F_MIN, HHA_NBD_CMD_WRITE_ZEROES, 0, 0, 512, HHA_NBD_EINVAL },
		{ F_MIN, HHA_NBD_CMD_CACHE, 0, 0, 512, HHA_NBD_EINVAL },
		/* read-only: EPERM before anything else about write-class commands */
		{ F_RO, HHA_NBD_CMD_WRITE, 0, 0, 512, HHA_NBD_EPERM },
		{ F_RO, HHA_NBD_CMD_TRIM, 0, 0, 512, HHA_NBD_EPERM },
		{ F_RO, HHA_NBD_CMD_WRITE_ZEROES, 0, 1 << 30, 512, HHA_NBD_EPERM },
		/* flags */
		{ F_ALL, HHA_NBD_CMD_READ, 1u << 15, 0, 512, HHA_NBD_EINVAL },
		{ F_ALL, HHA_NBD_CMD_WRITE, HHA_NBD_CMD_FLAG_NO_HOLE, 0, 512, HHA_NBD_EINVAL },
		{ F_ALL, HHA_NBD_CMD_WRITE, HHA_NBD_CMD_FLAG_DF, 0, 512, HHA_NBD_EINVAL },
		{ F_ALL, HHA_NBD_CMD_READ, HHA_NBD_CMD_FLAG_REQ_ONE, 0, 512, HHA_NBD_EINVAL },
		{ F_ALL, HHA_NBD_CMD_TRIM, HHA_NBD_CMD_FLAG_FAST_ZERO, 0, 512, HHA_NBD_EINVAL },
		{ F_MIN, HHA_NBD_CMD_READ, HHA_NBD_CMD_FLAG_FUA, 0, 512, HHA_NBD_EINVAL },
		{ F_MIN, HHA_NBD_CMD_READ, HHA_NBD_CMD_FLAG_DF, 0, 512, HHA_NBD_EINVAL },
		{ F_ALL & ~HHA_NBD_FLAG_SEND_FAST_ZERO, HHA_NBD_CMD_WRITE_ZEROES,
		  HHA_NBD_CMD_FLAG_FAST_ZERO, 0, 512, HHA_NBD_EINVAL },
		/* flush fields */
		{ F_ALL, HHA_NBD_CMD_FLUSH, 0, 512, 0, HHA_NBD_EINVAL },
		{ F_ALL, HHA_NBD_CMD_FLUSH, 0, 0, 512, HHA_NBD_EINVAL },
		/* size limit: READ/WRITE only */
		{ F_ALL, HHA_NBD_CMD_READ, 0, 0, 65536 + 512, HHA_NBD_EINVAL },
		{ F_ALL, HHA_NBD_CMD_WRITE, 0, 0, 65536 + 512, HHA_NBD_EINVAL },
		/* alignment */
		{ F_ALL, HHA_NBD_CMD_READ, 0, 1, 512, HHA_NBD_EINVAL },
		{ F_ALL, HHA_NBD_CMD_WRITE, 0, 0, 511, HHA_NBD_EINVAL },
		{ F_ALL, HHA_NBD_CMD_TRIM, 0, 256, 512, HHA_NBD_EINVAL },
		{ F_ALL, HHA_NBD_CMD_CACHE, 0, 0, 100, HHA_NBD_EINVAL },
		/* range */
		{ F_ALL, HHA_NBD_CMD_READ, 0, 1 << 20, 512, HHA_NBD_EINVAL },
		{ F_ALL, HHA_NBD_CMD_READ, 0, UINT64_MAX - 511, 512, HHA_NBD_EINVAL },
		{ F_ALL, HHA_NBD_CMD_WRITE, 0, (1 << 20) - 512, 1024, HHA_NBD_ENOSPC },
		{ F_ALL, HHA_NBD_CMD_WRITE, 0, UINT64_MAX - 511, 512, HHA_NBD_ENOSPC },
		{ F_ALL, HHA_NBD_CMD_WRITE_ZEROES, 0, 1 << 20, 512, HHA_NBD_ENOSPC },
		{ F_ALL, HHA_NBD_CMD_TRIM, 0, 0, (1 << 20) + 512, HHA_NBD_EINVAL },
		{ F_ALL, HHA_NBD_CMD_CACHE, 0, 1 << 21, 512, HHA_NBD_EINVAL },
		/* fast zero: offered, never honoured; invalid requests still EINVAL */
		{ F_ALL, HHA_NBD_CMD_WRITE_ZEROES, HHA_NBD_CMD_FLAG_FAST_ZERO, 0, 512, HHA_NBD_ENOTSUP },
		{ F_ALL, HHA_NBD_CMD_WRITE_ZEROES, HHA_NBD_CMD_FLAG_FAST_ZERO, 1, 512, HHA_NBD_EINVAL },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct hha_nbd_limits lim = { size, rows[i].tflags, 512, 65536 };
		struct hha_nbd_request r = { rows[i].flags, rows[i].type, 1, rows[i].off,
					     rows[i].len };
		const char *why = NULL;
		uint32_t got = hha_nbd_check_request(&lim, &r, &why);

		if (got != rows[i].want)
			fail_msg("row %zu: got %u, want %u (%s)", i, got, rows[i].want,
				 why ? why : "-");
		if (got)
			assert_non_null(why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_greeting),      cmocka_unit_test(test_client_flags),
		cmocka_unit_test(test_opt_hdr),	      cmocka_unit_test(test_opt_reply),
		cmocka_unit_test(test_info_req),      cmocka_unit_test(test_info_replies),
		cmocka_unit_test(test_export_name_reply), cmocka_unit_test(test_request),
		cmocka_unit_test(test_replies),	      cmocka_unit_test(test_chunk_rejects),
		cmocka_unit_test(test_error_chunk),   cmocka_unit_test(test_errno_to_wire),
		cmocka_unit_test(test_names),	      cmocka_unit_test(test_check_request),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
