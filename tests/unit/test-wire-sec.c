/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: key files, the handshake MAC, session keys and per-frame sealing in every mode. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/internal.h"
#include "disk/wire-sec.h"

static const uint8_t secret[] = "correct horse battery staple";

static char *write_key(const char *content, size_t len, mode_t mode)
{
	static char path[64];
	int fd;

	strcpy(path, "/tmp/hha-test-key-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static void test_key_file(void **state)
{
	uint8_t *key;
	size_t len;
	char *p;
	(void)state;

	p = write_key("0123456789abcdef0123\n", 21, 0600);
	assert_int_equal(hha_wire_key_load(p, &key, &len), 0);
	assert_int_equal(len, 20);
	assert_memory_equal(key, "0123456789abcdef0123", 20);
	hha_wire_key_free(key, len);
	assert_int_equal(chmod(p, 0644), 0);
	assert_int_equal(hha_wire_key_load(p, &key, &len), -EACCES);
	assert_non_null(strstr(hha_last_error(), "other users"));
	assert_null(key);
	assert_int_equal(chmod(p, 0640), 0); /* group-readable is the admin's choice */
	assert_int_equal(hha_wire_key_load(p, &key, &len), 0);
	hha_wire_key_free(key, len);
	unlink(p);
	p = write_key("short\n", 6, 0600);
	assert_int_equal(hha_wire_key_load(p, &key, &len), -EINVAL);
	unlink(p);
	assert_int_equal(hha_wire_key_load("/nonexistent/key", &key, &len), -ENOENT);
	assert_int_equal(hha_wire_key_load("/tmp", &key, &len), -EINVAL);
}

static void test_auth_mac(void **state)
{
	uint8_t hi[HHA_WIRE_HELLO_LEN], ha[HHA_WIRE_HELLO_LEN], m1[32], m2[32], m3[32];
	(void)state;

	memset(hi, 1, sizeof(hi));
	memset(ha, 2, sizeof(ha));
	hha_wire_auth_mac(secret, sizeof(secret), true, hi, ha, m1);
	hha_wire_auth_mac(secret, sizeof(secret), true, hi, ha, m2);
	assert_true(hha_wire_mac_equal(m1, m2));
	/* The acceptor's answer differs (no reflection). */
	hha_wire_auth_mac(secret, sizeof(secret), false, hi, ha, m3);
	assert_false(hha_wire_mac_equal(m1, m3));
	/* Another nonce, another answer (no replay). */
	ha[30] ^= 1;
	hha_wire_auth_mac(secret, sizeof(secret), true, hi, ha, m3);
	assert_false(hha_wire_mac_equal(m1, m3));
	ha[30] ^= 1;
	/* Another key. */
	hha_wire_auth_mac((const uint8_t *)"another secret!!", 16, true, hi, ha, m3);
	assert_false(hha_wire_mac_equal(m1, m3));
}

static void pair(enum hha_wire_security mode, struct hha_wire_sec *i, struct hha_wire_sec *a,
		 const uint8_t *key_a, size_t key_a_len)
{
	uint8_t ni[HHA_WIRE_NONCE], na[HHA_WIRE_NONCE];

	memset(ni, 0x11, sizeof(ni));
	memset(na, 0x22, sizeof(na));
	assert_int_equal(hha_wire_sec_init(i, mode, secret, sizeof(secret), ni, na, true), 0);
	assert_int_equal(hha_wire_sec_init(a, mode, key_a, key_a_len, ni, na, false), 0);
}

static void test_seal(void **state)
{
	static const enum hha_wire_security modes[] = { HHA_SEC_AUTH, HHA_SEC_ENCRYPT };
	uint8_t hdr[HHA_WIRE_HDR], data[8192], wire[8192], tag[16];
	(void)state;

	for (size_t m = 0; m < 2; m++) {
		struct hha_wire_sec i, a;
		pair(modes[m], &i, &a, secret, sizeof(secret));
		assert_int_equal(hha_wire_sec_tag_len(&i), 16);
		for (int round = 0; round < 3; round++) {
			memset(hdr, round, sizeof(hdr));
			for (size_t k = 0; k < sizeof(data); k++)
				data[k] = (uint8_t)(k * 7 + round);
			assert_int_equal(hha_wire_seal(&i, hdr, data, sizeof(data), wire, tag), 0);
			if (modes[m] == HHA_SEC_ENCRYPT) {
				assert_memory_not_equal(wire, data, sizeof(data));
			} else {
				memcpy(wire, data, sizeof(data));
			}
			assert_int_equal(hha_wire_open(&a, hdr, wire, sizeof(wire), tag), 0);
			assert_memory_equal(wire, data, sizeof(data));
			/* The other direction uses another key. */
			assert_int_equal(hha_wire_seal(&a, hdr, NULL, 0, NULL, tag), 0);
			assert_int_equal(hha_wire_open(&i, hdr, NULL, 0, tag), 0);
		}
		/* Tampering anywhere fails: header, payload, tag. */
		static const int where[] = { 0, 1, 2 };
		for (size_t w = 0; w < 3; w++) {
			struct hha_wire_sec i2, a2;
			pair(modes[m], &i2, &a2, secret, sizeof(secret));
			assert_int_equal(hha_wire_seal(&i2, hdr, data, sizeof(data), wire, tag), 0);
			if (modes[m] != HHA_SEC_ENCRYPT)
				memcpy(wire, data, sizeof(data));
			if (where[w] == 0)
				hdr[5] ^= 1;
			else if (where[w] == 1)
				wire[4000] ^= 1;
			else
				tag[15] ^= 1;
			assert_int_equal(hha_wire_open(&a2, hdr, wire, sizeof(wire), tag), -EBADMSG);
			if (where[w] == 0)
				hdr[5] ^= 1;
			hha_wire_sec_fini(&i2);
			hha_wire_sec_fini(&a2);
		}
		/* Replay: the same frame twice fails the second time (the counter moved on). */
		{
			struct hha_wire_sec i2, a2;
			uint8_t copy[64];
			pair(modes[m], &i2, &a2, secret, sizeof(secret));
			assert_int_equal(hha_wire_seal(&i2, hdr, data, 64, wire, tag), 0);
			if (modes[m] != HHA_SEC_ENCRYPT)
				memcpy(wire, data, 64);
			memcpy(copy, wire, 64);
			assert_int_equal(hha_wire_open(&a2, hdr, wire, 64, tag), 0);
			assert_int_equal(hha_wire_open(&a2, hdr, copy, 64, tag), -EBADMSG);
			hha_wire_sec_fini(&i2);
			hha_wire_sec_fini(&a2);
		}
		/* A peer with another secret cannot read or forge. */
		{
			struct hha_wire_sec i2, a2;
			pair(modes[m], &i2, &a2, (const uint8_t *)"not the same secret", 19);
			assert_int_equal(hha_wire_seal(&i2, hdr, data, 64, wire, tag), 0);
			assert_int_equal(hha_wire_open(&a2, hdr, wire, 64, tag), -EBADMSG);
			hha_wire_sec_fini(&i2);
			hha_wire_sec_fini(&a2);
		}
		hha_wire_sec_fini(&i);
		hha_wire_sec_fini(&a);
	}
	/* None: no tag, nothing checked. */
	{
		struct hha_wire_sec i, a;
		pair(HHA_SEC_NONE, &i, &a, secret, sizeof(secret));
		assert_int_equal(hha_wire_sec_tag_len(&i), 0);
		assert_int_equal(hha_wire_seal(&i, hdr, data, 64, wire, tag), 0);
		assert_int_equal(hha_wire_open(&a, hdr, data, 64, tag), 0);
		hha_wire_sec_fini(&i);
		hha_wire_sec_fini(&a);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_file),
		cmocka_unit_test(test_auth_mac),
		cmocka_unit_test(test_seal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
