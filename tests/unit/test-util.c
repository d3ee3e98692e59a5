/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: number, size and address parsing; whole-buffer I/O helpers. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/internal.h"
#include "core/schema.h"
#include "core/util.h"

static void test_sizes(void **state)
{
	static const struct {
		const char *s;
		int r;
		uint64_t v;
	} cases[] = {
		{ "0", 0, 0 },		     { "4096", 0, 4096 },	 { "512K", 0, 512 << 10 },
		{ "600M", 0, 600ull << 20 }, { "1g", 0, 1ull << 30 },	 { "2TiB", 0, 2ull << 40 },
		{ "3b", 0, 3 },		     { "12X", -EINVAL, 0 },	 { "", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },	     { " 1", -EINVAL, 0 },	 { "1 M", -EINVAL, 0 },
		{ "M", -EINVAL, 0 },	     { "99999999999999999999", -ERANGE, 0 },
		{ "17179869184G", -ERANGE, 0 },
	};

	(void)state;
	for (size_t i = 0; i < HHA_ARRAY_SIZE(cases); i++) {
		uint64_t v = 12345;
		int r = hha_parse_size(cases[i].s, &v);
		if (r != cases[i].r)
			fail_msg("`%s': got %d, want %d", cases[i].s, r, cases[i].r);
		if (r == 0)
			assert_int_equal(v, cases[i].v);
	}
}

static void test_ints(void **state)
{
	int64_t v;

	(void)state;
	assert_int_equal(hha_parse_int64("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(hha_parse_int64("-5", -10, 10, &v), 0);
	assert_int_equal(v, -5);
	assert_int_equal(hha_parse_int64("101", 0, 100, &v), -ERANGE);
	assert_int_equal(hha_parse_int64("7788x", 0, 65535, &v), -EINVAL);
	assert_int_equal(hha_parse_int64("", 0, 1, &v), -EINVAL);
	assert_int_equal(hha_parse_int64(NULL, 0, 1, &v), -EINVAL);
}

static void test_hostport(void **state)
{
	char addr[64];
	int port;

	(void)state;
	assert_int_equal(hha_parse_hostport("10.0.0.1:7788", 0, addr, sizeof(addr), &port), 0);
	assert_string_equal(addr, "10.0.0.1");
	assert_int_equal(port, 7788);
	assert_int_equal(hha_parse_hostport("[fd00::1]:80", 0, addr, sizeof(addr), &port), 0);
	assert_string_equal(addr, "fd00::1");
	assert_int_equal(hha_parse_hostport("fd00::1", 7788, addr, sizeof(addr), &port), 0);
	assert_int_equal(port, 7788);
	assert_int_equal(hha_parse_hostport("10.0.0.1", 0, addr, sizeof(addr), &port), -EINVAL);
	assert_int_equal(hha_parse_hostport("10.0.0.1:0", 0, addr, sizeof(addr), &port), -EINVAL);
	assert_int_equal(hha_parse_hostport("10.0.0.1:65536", 0, addr, sizeof(addr), &port), -EINVAL);
	assert_int_equal(hha_parse_hostport("host:80", 0, addr, sizeof(addr), &port), -EINVAL);
	assert_int_equal(hha_parse_hostport("[fd00::1", 0, addr, sizeof(addr), &port), -EINVAL);
	assert_int_equal(hha_parse_hostport("[fd00::1]x", 0, addr, sizeof(addr), &port), -EINVAL);
}

static void test_format_size(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(hha_format_size(512, buf, sizeof(buf)), "512 B");
	assert_string_equal(hha_format_size(1536, buf, sizeof(buf)), "1.5 KiB");
	assert_string_equal(hha_format_size(1ull << 30, buf, sizeof(buf)), "1.0 GiB");
}

static void test_full_io(void **state)
{
	int p[2];
	char out[100000], in[100000];

	(void)state;
	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7);
	assert_int_equal(pipe(p), 0);
	/* Larger than a pipe buffer: writer in a child. */
	if (fork() == 0) {
		close(p[0]);
		_exit(hha_write_full(p[1], out, sizeof(out)) == 0 ? 0 : 1);
	}
	close(p[1]);
	assert_int_equal(hha_read_full(p[0], in, sizeof(in)), 0);
	assert_memory_equal(in, out, sizeof(out));
	assert_int_equal(hha_read_full(p[0], in, 1), -EPIPE);
	close(p[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_ints),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_format_size),
		cmocka_unit_test(test_full_io),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
