/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: heartbeat datagram encoding, checking and TLV walking. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/hb-proto.h"

static const char key1[] = "0123456789abcdef-key-one";
static const char key2[] = "fedcba9876543210-key-two";

static struct hb_hdr sample(void)
{
	return (struct hb_hdr){ .link = 1, .flags = 0, .cluster = hb_cluster_id("c"), .sender = 2,
				.dest = 1, .incarnation = 0x0102030405060708ULL, .seq = 42,
				.timestamp_ms = 123456 };
}

static void test_roundtrip(void **state)
{
	struct hb_keyring kr = { 0 };
	struct hb_hdr h = sample(), out;
	uint8_t buf[HB_MAX_PACKET], payload[64];
	const uint8_t *p;
	size_t off = 0;
	int n;

	(void)state;
	assert_int_equal(hb_keyring_add(&kr, 1, key1, strlen(key1)), 0);
	assert_int_equal(hb_tlv_put(payload, sizeof(payload), &off, 16, "abc", 3), 0);
	assert_int_equal(hb_tlv_put(payload, sizeof(payload), &off, 1, NULL, 0), 0);
	n = hb_encode(&kr, &h, payload, off, buf, sizeof(buf));
	assert_int_equal(n, HB_HDR_LEN + off + HB_MAC_LEN);
	/* The header is big-endian at fixed offsets (docs/membership.md). */
	assert_memory_equal(buf, "HHB1", 4);
	assert_int_equal(buf[5], 1);
	assert_int_equal(buf[16], 0x01);
	assert_int_equal(buf[23], 0x08);
	assert_int_equal(hb_decode(&kr, h.cluster, buf, (size_t)n, &out, &p), HB_OK);
	assert_int_equal(out.sender, 2);
	assert_int_equal(out.dest, 1);
	assert_int_equal(out.link, 1);
	assert_true(out.incarnation == h.incarnation);
	assert_true(out.seq == 42);
	assert_true(out.timestamp_ms == 123456);
	assert_int_equal(out.payload_len, off);
	assert_memory_equal(p, payload, off);
	hb_keyring_clear(&kr);
}

/* Each corruption is caught by the check that owns it. */
static void test_rejections(void **state)
{
	struct hb_keyring kr = { 0 }, other = { 0 };
	struct hb_hdr h = sample(), out;
	uint8_t buf[HB_MAX_PACKET + 16], bad[HB_MAX_PACKET + 16];
	const uint8_t *p;
	int n;

	(void)state;
	assert_int_equal(hb_keyring_add(&kr, 1, key1, strlen(key1)), 0);
	assert_int_equal(hb_keyring_add(&other, 1, key2, strlen(key2)), 0);
	n = hb_encode(&kr, &h, "\x10\x00\x01x", 4, buf, sizeof(buf));
	assert_true(n > 0);
	/* truncated at every length */
	for (int len = 0; len < n; len++)
		assert_int_not_equal(hb_decode(&kr, h.cluster, buf, (size_t)len, &out, &p), HB_OK);
	/* oversized */
	memset(bad, 0, sizeof(bad));
	assert_int_equal(hb_decode(&kr, h.cluster, bad, HB_MAX_PACKET + 1, &out, &p), HB_MALFORMED);
	/* magic, version, link */
	memcpy(bad, buf, (size_t)n);
	bad[0] ^= 1;
	assert_int_equal(hb_decode(&kr, h.cluster, bad, (size_t)n, &out, &p), HB_MALFORMED);
	memcpy(bad, buf, (size_t)n);
	bad[4] = 2;
	assert_int_equal(hb_decode(&kr, h.cluster, bad, (size_t)n, &out, &p), HB_MALFORMED);
	memcpy(bad, buf, (size_t)n);
	bad[6] = HB_MAX_LINKS;
	assert_int_equal(hb_decode(&kr, h.cluster, bad, (size_t)n, &out, &p), HB_MALFORMED);
	/* another cluster, unknown key id, wrong key, flipped payload or MAC bit */
	assert_int_equal(hb_decode(&kr, h.cluster + 1, buf, (size_t)n, &out, &p), HB_OTHER_CLUSTER);
	memcpy(bad, buf, (size_t)n);
	bad[5] = 9;
	assert_int_equal(hb_decode(&kr, h.cluster, bad, (size_t)n, &out, &p), HB_UNKNOWN_KEY);
	assert_int_equal(hb_decode(&other, h.cluster, buf, (size_t)n, &out, &p), HB_BAD_MAC);
	for (int i = 8; i < n; i++) {
		if (i == 5)
			continue;
		memcpy(bad, buf, (size_t)n);
		bad[i] ^= 0x40;
		if (i >= 40 && i < 42) /* payload length: size check first */
			assert_int_equal(hb_decode(&kr, h.cluster, bad, (size_t)n, &out, &p), HB_MALFORMED);
		else if (i >= 8 && i < 12)
			assert_int_equal(hb_decode(&kr, h.cluster, bad, (size_t)n, &out, &p),
					 HB_OTHER_CLUSTER);
		else
			assert_int_equal(hb_decode(&kr, h.cluster, bad, (size_t)n, &out, &p), HB_BAD_MAC);
	}
	/* authentic but with a broken TLV area */
	n = hb_encode(&kr, &h, "\x10\x00\x09x", 4, buf, sizeof(buf));
	assert_int_equal(hb_decode(&kr, h.cluster, buf, (size_t)n, &out, &p), HB_MALFORMED);
	hb_keyring_clear(&kr);
	hb_keyring_clear(&other);
}

static void test_rotation(void **state)
{
	struct hb_keyring a = { 0 }, b = { 0 };
	struct hb_hdr h = sample(), out;
	uint8_t buf[HB_MAX_PACKET];
	const uint8_t *p;
	int n;

	(void)state;
	assert_int_equal(hb_keyring_add(&a, 1, key1, strlen(key1)), 0);
	assert_int_equal(hb_keyring_add(&a, 2, key2, strlen(key2)), 0);
	assert_int_equal(hb_keyring_add(&a, 3, key2, strlen(key2)), -ENOSPC);
	assert_int_equal(hb_keyring_add(&a, 0, key2, strlen(key2)), -EINVAL);
	assert_int_equal(hb_keyring_add(&a, 4, "short", 5), -EINVAL);
	assert_int_equal(hb_keyring_set_send(&a, 7), -ENOENT);
	assert_int_equal(a.send_id, 1);
	assert_int_equal(hb_keyring_add(&b, 2, key2, strlen(key2)), 0);
	/* b holds only key 2: a's packets are accepted once a sends with key 2. */
	n = hb_encode(&a, &h, NULL, 0, buf, sizeof(buf));
	assert_int_equal(hb_decode(&b, h.cluster, buf, (size_t)n, &out, &p), HB_UNKNOWN_KEY);
	assert_int_equal(hb_keyring_set_send(&a, 2), 0);
	n = hb_encode(&a, &h, NULL, 0, buf, sizeof(buf));
	assert_int_equal(hb_decode(&b, h.cluster, buf, (size_t)n, &out, &p), HB_OK);
	assert_int_equal(out.key_id, 2);
	hb_keyring_remove(&a, 2);
	assert_int_equal(a.n, 1);
	assert_int_equal(a.send_id, 1);
	hb_keyring_clear(&a);
	hb_keyring_clear(&b);
}

static void test_tlv(void **state)
{
	static const struct {
		const char *bytes;
		size_t len;
		bool valid;
	} cases[] = {
		{ "", 0, true },
		{ "\x01\x00\x00", 3, true },
		{ "\x01\x00\x01z\x02\x00\x00", 7, true },
		{ "\x01\x00", 2, false },
		{ "\x01\x00\x02z", 4, false },
		{ "\x01\xff\xffz", 4, false },
		{ "\x01\x00\x00\x05", 4, false },
	};
	uint8_t buf[8];
	size_t off = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(hb_tlv_valid((const uint8_t *)cases[i].bytes, cases[i].len),
				 cases[i].valid);
	assert_int_equal(hb_tlv_put(buf, sizeof(buf), &off, 1, "abcde", 5), 0);
	assert_int_equal(hb_tlv_put(buf, sizeof(buf), &off, 1, "", 0), -EMSGSIZE);
	assert_int_equal(off, 8);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_rejections),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_tlv),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
