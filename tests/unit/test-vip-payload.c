/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the heartbeat TLV of held VIPs (encode, decode, every refusal). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "net/vip-payload.h"

static struct hha_vip_held held(const char *addr, unsigned prefix, const char *dev)
{
	struct hha_vip_held v = { .prefixlen = prefix };

	v.family = strchr(addr, ':') ? AF_INET6 : AF_INET;
	assert_int_equal(inet_pton(v.family, addr, v.addr), 1);
	snprintf(v.dev, sizeof(v.dev), "%s", dev);
	return v;
}

static void test_roundtrip(void **state)
{
	struct hha_vip_held in[3] = { held("10.9.0.10", 24, "eth0"), held("2001:db8::10", 64, "veth-n1.0"),
				      held("192.0.2.1", 32, "e") };
	struct hha_vip_held out[HHA_VIP_PAYLOAD_ENTRIES];
	uint8_t buf[HHA_VIP_PAYLOAD_MAX];
	size_t n = 99;
	bool trunc = true;
	char text[64];
	int len;

	(void)state;
	in[1].tentative = true;
	in[2].dadfailed = true;
	len = hha_vip_payload_encode(in, 3, buf);
	assert_int_equal(len, 3 + (4 + 4 + 4) + (4 + 16 + 9) + (4 + 4 + 1));
	assert_int_equal(hha_vip_payload_decode(buf, (size_t)len, out, &n, &trunc), 0);
	assert_int_equal(n, 3);
	assert_false(trunc);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(out[i].family, in[i].family);
		assert_int_equal(out[i].prefixlen, in[i].prefixlen);
		assert_memory_equal(out[i].addr, in[i].addr, 16);
		assert_string_equal(out[i].dev, in[i].dev);
		assert_int_equal(out[i].tentative, in[i].tentative);
		assert_int_equal(out[i].dadfailed, in[i].dadfailed);
	}
	hha_vip_held_text(&out[1], text, sizeof(text));
	assert_string_equal(text, "2001:db8::10/64");
	hha_vip_held_text(&out[0], text, sizeof(text));
	assert_string_equal(text, "10.9.0.10/24");

	/* None held: the header alone. */
	assert_int_equal(hha_vip_payload_encode(in, 0, buf), 3);
	assert_int_equal(hha_vip_payload_decode(buf, 3, out, &n, &trunc), 0);
	assert_int_equal(n, 0);
}

static void test_truncation(void **state)
{
	struct hha_vip_held in[40], out[HHA_VIP_PAYLOAD_ENTRIES];
	uint8_t buf[HHA_VIP_PAYLOAD_MAX];
	size_t n;
	bool trunc;
	int len;

	(void)state;
	for (size_t i = 0; i < 40; i++)
		in[i] = held("2001:db8::1", 128, "interface-1234");
	len = hha_vip_payload_encode(in, 40, buf);
	assert_true(len > 0 && len <= HHA_VIP_PAYLOAD_MAX);
	assert_int_equal(hha_vip_payload_decode(buf, (size_t)len, out, &n, &trunc), 0);
	assert_true(trunc);
	assert_true(n > 0 && n < 40);
	assert_int_equal((size_t)len, 3 + n * (4 + 16 + 14));

	/* Many short entries stop at the entry limit. */
	for (size_t i = 0; i < 40; i++)
		in[i] = held("10.0.0.1", 8, "e");
	len = hha_vip_payload_encode(in, 40, buf);
	assert_int_equal(hha_vip_payload_decode(buf, (size_t)len, out, &n, &trunc), 0);
	assert_true(trunc);
	assert_int_equal(n, HHA_VIP_PAYLOAD_ENTRIES);
	/* Exactly the limit: not truncated. */
	len = hha_vip_payload_encode(in, HHA_VIP_PAYLOAD_ENTRIES, buf);
	assert_int_equal(hha_vip_payload_decode(buf, (size_t)len, out, &n, &trunc), 0);
	assert_false(trunc);
}

static void test_bad_encode(void **state)
{
	uint8_t buf[HHA_VIP_PAYLOAD_MAX];
	struct hha_vip_held v;

	(void)state;
	v = held("10.0.0.1", 33, "eth0");
	assert_int_equal(hha_vip_payload_encode(&v, 1, buf), -EINVAL);
	v = held("10.0.0.1", 24, "");
	assert_int_equal(hha_vip_payload_encode(&v, 1, buf), -EINVAL);
	v = held("10.0.0.1", 24, "et h0");
	assert_int_equal(hha_vip_payload_encode(&v, 1, buf), -EINVAL);
	v = held("2001:db8::1", 129, "eth0");
	assert_int_equal(hha_vip_payload_encode(&v, 1, buf), -EINVAL);
	v = held("10.0.0.1", 24, "eth0");
	v.family = AF_UNIX;
	assert_int_equal(hha_vip_payload_encode(&v, 1, buf), -EINVAL);
}

/* A valid one-entry value (10.0.0.1/24 on "eth0"), then one change per row. */
static const uint8_t good[] = { 1, 0, 1, 4, 24, 10, 0, 0, 1, 0, 4, 'e', 't', 'h', '0' };

static const struct {
	const char *what;
	size_t at; /* byte to change, or SIZE_MAX to only cut */
	uint8_t value;
	size_t len; /* bytes of the result to decode */
} bad_rows[] = {
	{ "empty", SIZE_MAX, 0, 0 },
	{ "header cut", SIZE_MAX, 0, 2 },
	{ "version 2", 0, 2, sizeof(good) },
	{ "unknown header flag", 1, 2, sizeof(good) },
	{ "count beyond the limit", 2, HHA_VIP_PAYLOAD_ENTRIES + 1, sizeof(good) },
	{ "count 2, one entry", 2, 2, sizeof(good) },
	{ "count 0, trailing entry", 2, 0, sizeof(good) },
	{ "family 5", 3, 5, sizeof(good) },
	{ "prefix 33", 4, 33, sizeof(good) },
	{ "address cut", SIZE_MAX, 0, 7 },
	{ "entry flags unknown", 9, 4, sizeof(good) },
	{ "name length 0", 10, 0, sizeof(good) },
	{ "name length 16", 10, 16, sizeof(good) },
	{ "name longer than the value", 10, 5, sizeof(good) },
	{ "name with a space", 12, ' ', sizeof(good) },
	{ "name with a NUL", 12, 0, sizeof(good) },
	{ "name with a slash", 12, '/', sizeof(good) },
	{ "name cut", SIZE_MAX, 0, sizeof(good) - 1 },
};

static void test_bad_decode(void **state)
{
	struct hha_vip_held out[HHA_VIP_PAYLOAD_ENTRIES];
	uint8_t buf[sizeof(good) + 1];
	size_t n;
	bool trunc;

	(void)state;
	assert_int_equal(hha_vip_payload_decode(good, sizeof(good), out, &n, &trunc), 0);
	assert_int_equal(n, 1);
	assert_string_equal(out[0].dev, "eth0");
	memcpy(buf, good, sizeof(good));
	buf[sizeof(good)] = 0;
	assert_int_equal(hha_vip_payload_decode(buf, sizeof(good) + 1, out, &n, &trunc), -EBADMSG);
	for (size_t i = 0; i < sizeof(bad_rows) / sizeof(bad_rows[0]); i++) {
		memcpy(buf, good, sizeof(good));
		if (bad_rows[i].at != SIZE_MAX)
			buf[bad_rows[i].at] = bad_rows[i].value;
		if (hha_vip_payload_decode(buf, bad_rows[i].len, out, &n, &trunc) != -EBADMSG)
			fail_msg("accepted: %s", bad_rows[i].what);
	}
}

/* Random bytes and random mutations of a valid value: refused or parsed, never more. */
static void test_random(void **state)
{
	struct hha_vip_held in[4] = { held("10.9.0.10", 24, "eth0"), held("2001:db8::10", 64, "br0"),
				      held("10.9.0.11", 24, "eth0"), held("fe80::1", 10, "lo") };
	struct hha_vip_held out[HHA_VIP_PAYLOAD_ENTRIES];
	uint8_t valid[HHA_VIP_PAYLOAD_MAX], buf[HHA_VIP_PAYLOAD_MAX];
	int vlen = hha_vip_payload_encode(in, 4, valid);
	size_t n;
	bool trunc;

	(void)state;
	srandom(7);
	for (int it = 0; it < 200000; it++) {
		size_t len = (size_t)random() % (size_t)(vlen + 2);
		memcpy(buf, valid, sizeof(buf));
		for (int k = random() % 3; k >= 0; k--)
			buf[random() % vlen] = (uint8_t)random();
		if (hha_vip_payload_decode(buf, len, out, &n, &trunc) == 0) {
			assert_true(n <= HHA_VIP_PAYLOAD_ENTRIES);
			for (size_t i = 0; i < n; i++)
				assert_true(out[i].dev[0] && strlen(out[i].dev) < 16);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_bad_encode),
		cmocka_unit_test(test_bad_decode),
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
