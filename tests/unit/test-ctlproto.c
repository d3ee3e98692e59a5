/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: control protocol line framing and JSON envelopes. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/ctlproto.h"
#include "core/internal.h"
#include "core/schema.h"

static void test_lines_split_and_joined(void **state)
{
	struct hha_linebuf lb;
	char *line;
	size_t len;

	(void)state;
	assert_int_equal(hha_linebuf_init(&lb, 64), 0);
	assert_int_equal(hha_linebuf_next(&lb, &line, &len), 0);
	assert_int_equal(hha_linebuf_feed(&lb, "ab", 2), 0);
	assert_int_equal(hha_linebuf_next(&lb, &line, &len), 0);
	assert_int_equal(hha_linebuf_feed(&lb, "c\nde\n\nf", 7), 0);
	assert_int_equal(hha_linebuf_next(&lb, &line, &len), 1);
	assert_string_equal(line, "abc");
	assert_int_equal(len, 3);
	assert_int_equal(hha_linebuf_next(&lb, &line, &len), 1);
	assert_string_equal(line, "de");
	assert_int_equal(hha_linebuf_next(&lb, &line, &len), 1);
	assert_int_equal(len, 0);
	assert_int_equal(hha_linebuf_next(&lb, &line, &len), 0);
	assert_int_equal(hha_linebuf_feed(&lb, "\n", 1), 0);
	assert_int_equal(hha_linebuf_next(&lb, &line, &len), 1);
	assert_string_equal(line, "f");
	hha_linebuf_free(&lb);
}

static void test_overlong_line_dropped_once(void **state)
{
	struct hha_linebuf lb;
	char big[200], *line;
	size_t len;
	int errors = 0, lines = 0, r;

	(void)state;
	memset(big, 'x', sizeof(big));
	assert_int_equal(hha_linebuf_init(&lb, 16), 0);
	/* 200 bytes without a newline, fed in pieces of at most 10, then a good line. */
	for (size_t off = 0; off < sizeof(big);) {
		size_t avail, n;
		char *sp = hha_linebuf_space(&lb, &avail);
		if (!sp) {
			/* Full without a newline: next() reports the line and drops it. */
			while ((r = hha_linebuf_next(&lb, &line, &len)) != 0)
				errors += r == -E2BIG;
			continue;
		}
		n = HHA_MIN(HHA_MIN(avail, (size_t)10), sizeof(big) - off);
		memcpy(sp, big + off, n);
		hha_linebuf_commit(&lb, n);
		off += n;
		while ((r = hha_linebuf_next(&lb, &line, &len)) != 0)
			errors += r == -E2BIG;
	}
	assert_int_equal(hha_linebuf_feed(&lb, "tail\nok\n", 8), 0);
	while ((r = hha_linebuf_next(&lb, &line, &len)) != 0) {
		if (r == -E2BIG) {
			errors++;
			continue;
		}
		lines++;
		assert_string_equal(line, "ok");
	}
	assert_int_equal(errors, 1);
	assert_int_equal(lines, 1);
	/* A complete but too long line in one piece is refused too. */
	assert_int_equal(hha_linebuf_feed(&lb, "0123456789abcdefgh\nok\n", 22), -ENOBUFS);
	hha_linebuf_free(&lb);
}

static void test_request_parse(void **state)
{
	struct hha_ctl_request rq;
	char err[256];
	const char *good = "{\"v\":1,\"id\":\"abc\",\"cmd\":\"status\"}";

	(void)state;
	assert_int_equal(hha_ctl_request_parse(good, strlen(good), &rq, err, sizeof(err)), 0);
	assert_string_equal(rq.cmd, "status");
	assert_string_equal(json_object_get_string(rq.id), "abc");
	assert_true(json_object_is_type(rq.args, json_type_object));
	hha_ctl_request_free(&rq);

	static const struct {
		const char *line;
		int err;
		const char *msg;
	} bad[] = {
		{ "not json", -EINVAL, "not a JSON object" },
		{ "[1]", -EINVAL, "not a JSON object" },
		{ "{\"id\":1,\"cmd\":\"x\"}", -EINVAL, "no protocol version" },
		{ "{\"v\":\"1\",\"cmd\":\"x\"}", -EINVAL, "\"v\" must be an integer" },
		{ "{\"v\":9,\"id\":4,\"cmd\":\"x\"}", -HHA_EVERSION, "client speaks 9" },
		{ "{\"v\":1,\"id\":5}", -EINVAL, "no \"cmd\"" },
		{ "{\"v\":1,\"cmd\":\"\"}", -EINVAL, "no \"cmd\"" },
		{ "{\"v\":1,\"cmd\":\"x\",\"args\":[]}", -EINVAL, "\"args\" must be an object" },
		{ "{\"v\":1,\"cmd\":\"x\"} trailing", -EINVAL, "not a JSON object" },
	};
	for (size_t i = 0; i < HHA_ARRAY_SIZE(bad); i++) {
		int r = hha_ctl_request_parse(bad[i].line, strlen(bad[i].line), &rq, err, sizeof(err));
		assert_int_equal(r, bad[i].err);
		if (!strstr(err, bad[i].msg))
			fail_msg("%s: message `%s' lacks `%s'", bad[i].line, err, bad[i].msg);
		hha_ctl_request_free(&rq);
	}
	/* The id survives a version error so the reply can carry it. */
	hha_ctl_request_parse(bad[4].line, strlen(bad[4].line), &rq, err, sizeof(err));
	assert_int_equal(json_object_get_int(rq.id), 4);
	hha_ctl_request_free(&rq);
}

static void test_round_trips(void **state)
{
	struct hha_ctl_request rq;
	struct hha_ctl_msg msg;
	json_object *args = json_object_new_object(), *id = json_object_new_int(42);
	char err[128], *line;

	(void)state;
	json_object_object_add(args, "res", json_object_new_string("r0"));
	line = hha_ctl_encode_request(42, "disk.primary", args);
	assert_non_null(line);
	assert_int_equal(line[strlen(line) - 1], '\n');
	assert_int_equal(hha_ctl_request_parse(line, strlen(line) - 1, &rq, err, sizeof(err)), 0);
	assert_string_equal(rq.cmd, "disk.primary");
	assert_string_equal(hha_json_str(rq.args, "res"), "r0");
	hha_ctl_request_free(&rq);
	free(line);

	line = hha_ctl_encode_ok(id, json_object_new_string("done"), "9.9");
	assert_int_equal(hha_ctl_msg_parse(line, strlen(line) - 1, &msg), 0);
	assert_int_equal(msg.kind, HHA_CTL_MSG_REPLY);
	assert_true(msg.ok);
	assert_int_equal(msg.id, 42);
	assert_string_equal(msg.server, "9.9");
	assert_string_equal(json_object_get_string(msg.result), "done");
	hha_ctl_msg_free(&msg);
	free(line);

	line = hha_ctl_encode_err(id, -HHA_ESPLITBRAIN, "split brain on r0", NULL);
	assert_int_equal(hha_ctl_msg_parse(line, strlen(line) - 1, &msg), 0);
	assert_false(msg.ok);
	assert_int_equal(msg.err, HHA_ESPLITBRAIN);
	assert_string_equal(msg.message, "split brain on r0");
	assert_non_null(strstr(line, "\"name\":\"HHA_ESPLITBRAIN\""));
	hha_ctl_msg_free(&msg);
	free(line);

	line = hha_ctl_encode_event("disk.state", 7, NULL);
	assert_int_equal(hha_ctl_msg_parse(line, strlen(line) - 1, &msg), 0);
	assert_int_equal(msg.kind, HHA_CTL_MSG_EVENT);
	hha_ctl_msg_free(&msg);
	free(line);
	json_object_put(id);

	assert_int_equal(hha_ctl_msg_parse("{\"v\":2,\"ok\":true}", 17, &msg), -HHA_EVERSION);
	hha_ctl_msg_free(&msg);
	assert_int_equal(hha_ctl_msg_parse("{\"v\":1,\"id\":1}", 14, &msg), -EINVAL);
	hha_ctl_msg_free(&msg);
	assert_int_equal(hha_ctl_msg_parse("garbage", 7, &msg), -EINVAL);
	hha_ctl_msg_free(&msg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_split_and_joined),
		cmocka_unit_test(test_overlong_line_dropped_once),
		cmocka_unit_test(test_request_parse),
		cmocka_unit_test(test_round_trips),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
