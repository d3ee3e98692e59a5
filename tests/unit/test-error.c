/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: error codes, names, words and the thread-local message. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/internal.h"

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(hha_strerror(0), "Success");
	assert_string_equal(hha_strerror(-EINVAL), "Invalid argument");
	assert_string_equal(hha_strerror(EINVAL), "Invalid argument");
	assert_string_equal(hha_strerror(-HHA_ESPLITBRAIN),
			    "Split brain: both replicas changed independently");
	assert_string_equal(hha_strerror(-99999), "Unknown error 99999");
	/* Every library code has words and a name. */
	for (int e = HHA_E_FIRST; e < HHA_E_LAST; e++) {
		assert_null(strstr(hha_strerror(e), "Unknown"));
		assert_int_equal(strncmp(hha_error_name(e), "HHA_E", 5), 0);
	}
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(hha_error_name(-EPERM), "EPERM");
	assert_string_equal(hha_error_name(HHA_ECONFIG), "HHA_ECONFIG");
	assert_string_equal(hha_error_name(77777), "E?");
	assert_int_equal(hha_error_from_name("ETIMEDOUT"), ETIMEDOUT);
	assert_int_equal(hha_error_from_name("HHA_EVERSION"), HHA_EVERSION);
	assert_int_equal(hha_error_from_name("ENOSUCH"), 0);
	assert_int_equal(hha_error_from_name(NULL), 0);
	for (int e = HHA_E_FIRST; e < HHA_E_LAST; e++)
		assert_int_equal(hha_error_from_name(hha_error_name(e)), e);
}

static void test_last_error(void **state)
{
	(void)state;
	hha_error_clear();
	assert_string_equal(hha_last_error(), "");
	assert_int_equal(hha_last_error_code(), 0);
	assert_int_equal(hha_error(EINVAL, "f", "bad `%s'", "x"), -EINVAL);
	assert_string_equal(hha_last_error(), "f: bad `x'");
	assert_int_equal(hha_last_error_code(), -EINVAL);
	assert_int_equal(hha_error_wrap(-EINVAL, "outer"), -EINVAL);
	assert_string_equal(hha_last_error(), "outer: f: bad `x'");
	hha_error_clear();
	assert_int_equal(hha_error_wrap(-ENOENT, "g"), -ENOENT);
	assert_string_equal(hha_last_error(), "g: No such file or directory");
}

static void test_log_levels(void **state)
{
	enum hha_log_level l;

	(void)state;
	assert_int_equal(hha_log_level_from_string("DEBUG", &l), 0);
	assert_int_equal(l, HHA_LOG_DEBUG);
	assert_int_equal(hha_log_level_from_string("warn", &l), 0);
	assert_int_equal(l, HHA_LOG_WARNING);
	assert_int_equal(hha_log_level_from_string("loud", &l), -EINVAL);
	assert_string_equal(hha_log_level_name(HHA_LOG_NOTICE), "notice");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strerror),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_last_error),
		cmocka_unit_test(test_log_levels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
