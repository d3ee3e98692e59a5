/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the configuration reader — good files, and one test per kind of error. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/conf.h"
#include "core/internal.h"

static struct hha_ctx *ctx;

static int setup(void **state)
{
	(void)state;
	if (hha_ctx_new(&ctx) < 0)
		return -1;
	hha_ctx_set_log_fn(ctx, NULL, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	hha_ctx_free(ctx);
	return 0;
}

#define NODES "\"nodes\": {\"a\": {\"id\": 1, \"heartbeat\": [\"10.0.0.1\"]}, " \
	      "\"b\": {\"id\": 2, \"heartbeat\": [\"10.0.0.2\", \"fd00::2\"]}}"

/* Load text that must fail; the whole message must contain @want. */
static void expect_error(const char *text, const char *want)
{
	struct hha_config *cfg = NULL;
	int r = hha_config_load_string(ctx, text, "t.conf", &cfg);

	if (r == 0)
		fail_msg("accepted: %s", text);
	assert_int_equal(r, -HHA_ECONFIG);
	assert_null(cfg);
	if (!strstr(hha_last_error(), want))
		fail_msg("message `%s' lacks `%s'", hha_last_error(), want);
}

static struct hha_config *expect_ok(const char *text)
{
	struct hha_config *cfg = NULL;
	int r = hha_config_load_string(ctx, text, "t.conf", &cfg);

	if (r < 0)
		fail_msg("refused: %s", hha_last_error());
	return cfg;
}

static void test_empty_gets_defaults(void **state)
{
	struct hha_config *cfg = expect_ok("{}");
	json_object *hb = hha_json_get(hha_conf_section(cfg, "cluster"), "heartbeat");

	(void)state;
	assert_int_equal(hha_json_int(hb, "keepalive_ms", -1), 200);
	assert_int_equal(hha_json_int(hb, "deadtime_ms", -1), 1000);
	assert_string_equal(hha_json_str(hha_conf_section(cfg, "cluster"), "run_dir"), "/run/hybridha");
	assert_int_equal(json_object_object_length(hha_conf_section(cfg, "resources")), 0);
	assert_string_equal(hha_config_path(cfg), "t.conf");
	hha_config_free(cfg);
}

static void test_full_example(void **state)
{
	char *text = NULL, *path = NULL, *json = NULL;
	struct hha_config *cfg = NULL;
	json_object *r0;

	(void)state;
	assert_true(asprintf(&path, "%s/examples/hybridha.conf", getenv("HHA_SRCDIR") ? getenv("HHA_SRCDIR") : SRCDIR) > 0);
	assert_int_equal(hha_config_load(ctx, path, &cfg), 0);
	r0 = hha_json_get(hha_conf_section(cfg, "resources"), "r0");
	assert_string_equal(hha_json_str(r0, "protocol"), "C");
	/* "unlimited" is normalised to 0 bytes/s. */
	assert_int_equal(hha_json_int(hha_json_get(r0, "sync"), "rate", -1), 0);
	assert_string_equal(hha_json_str(hha_conf_node(cfg, "alpha"), "address"), "192.0.2.1");
	assert_int_equal(hha_config_to_json(cfg, &json), 0);
	assert_non_null(strstr(json, "\"al_extents\""));
	free(json);
	free(text);
	free(path);
	hha_config_free(cfg);
}

static void test_comments_and_units(void **state)
{
	struct hha_config *cfg = expect_ok(
		"// leading comment\n{ /* block */ " NODES ",\n"
		"\"resources\": {\"r0\": {\"size\": \"1G\", \"sync\": {\"rate\": \"600M\"},\n"
		"  \"on\": {\"a\": {\"backing\": \"/dev/x\"}, \"b\": {\"backing\": \"/dev/y\", \"address\": \"[fd00::2]:7789\"}}}}\n"
		"} // trailing\n");
	json_object *r0 = hha_json_get(hha_conf_section(cfg, "resources"), "r0");

	(void)state;
	assert_int_equal(hha_json_int(r0, "size", 0), 1LL << 30);
	assert_int_equal(hha_json_int(hha_json_get(r0, "sync"), "rate", 0), 600LL << 20);
	assert_string_equal(hha_json_str(hha_json_get(hha_json_get(r0, "on"), "a"), "meta"), "internal");
	hha_config_free(cfg);
}

static void test_syntax_error_position(void **state)
{
	(void)state;
	expect_error("{\n  \"cluster\": {\n    \"name\": \"x\",,\n  }\n}", "t.conf:3:");
	expect_error("{\"cluster\": ", "syntax error: unexpected end of file");
	expect_error("{} x", "t.conf:1:4: syntax error: unexpected text after the top-level object");
	expect_error("[1, 2]", "the top level must be an object");
	expect_error("", "syntax error");
}

static void test_unknown_key(void **state)
{
	(void)state;
	expect_error("{\"cluster\": {\"nmae\": \"x\"}}", "t.conf: cluster.nmae: unknown key (did you mean \"name\"?)");
	expect_error("{\"bogus\": 1}", "t.conf: bogus: unknown key");
}

static void test_wrong_type(void **state)
{
	(void)state;
	expect_error("{\"cluster\": {\"heartbeat\": {\"keepalive_ms\": \"200\"}}}",
		     "cluster.heartbeat.keepalive_ms: expected an integer, got a string (\"200\")");
	expect_error("{\"nodes\": []}", "nodes: expected an object, got an array");
	expect_error("{\"cluster\": {\"ping_nodes\": \"10.0.0.1\"}}", "cluster.ping_nodes: expected an array");
	expect_error("{\"nodes\": {\"a\": {\"id\": 1.5, \"heartbeat\": [\"10.0.0.1\"]}}}",
		     "nodes.a.id: expected an integer, got a fractional number");
	expect_error("{\"nodes\": {\"a\": {\"id\": 1, \"heartbeat\": [\"10.0.0.1\"], \"witness\": \"yes\"}}}",
		     "nodes.a.witness: expected true or false");
}

static void test_out_of_range(void **state)
{
	(void)state;
	expect_error("{\"nodes\": {\"a\": {\"id\": 300, \"heartbeat\": [\"10.0.0.1\"]}}}",
		     "nodes.a.id: 300 is out of range (1..255)");
	expect_error("{\"cluster\": {\"heartbeat\": {\"port\": 0}}}", "cluster.heartbeat.port: 0 is out of range");
	expect_error("{\"nodes\": {\"a\": {\"id\": 1, \"heartbeat\": []}}}",
		     "nodes.a.heartbeat: expected 1 to 8 elements, got 0");
}

static void test_enum(void **state)
{
	(void)state;
	expect_error("{" NODES ", \"resources\": {\"r0\": {\"protocol\": \"D\", \"on\": "
		     "{\"a\": {\"backing\": \"/x\"}, \"b\": {\"backing\": \"/y\"}}}}}",
		     "t.conf: resources.r0.protocol: expected \"A\", \"B\" or \"C\", got \"D\"");
}

static void test_formats(void **state)
{
	(void)state;
	expect_error("{\"nodes\": {\"a\": {\"id\": 1, \"heartbeat\": [\"10.0.0.300\"]}}}",
		     "nodes.a.heartbeat[0]: expected an IPv4 or IPv6 address, got \"10.0.0.300\"");
	expect_error("{\"cluster\": {\"run_dir\": \"run\"}}", "cluster.run_dir: expected an absolute path");
	expect_error("{\"vips\": {\"v\": {\"address\": \"10.0.0.9\", \"dev\": \"eth0\"}}}",
		     "vips.v.address: expected ADDRESS/PREFIX");
	expect_error("{\"vips\": {\"v\": {\"address\": \"10.0.0.9/33\", \"dev\": \"eth0\"}}}",
		     "vips.v.address: expected ADDRESS/PREFIX");
	expect_error("{\"nodes\": {\"bad name\": {\"id\": 1, \"heartbeat\": [\"10.0.0.1\"]}}}",
		     "nodes.bad name: invalid name");
	expect_error("{" NODES ", \"resources\": {\"r0\": {\"size\": \"12X\", \"on\": "
		     "{\"a\": {\"backing\": \"/x\"}, \"b\": {\"backing\": \"/y\"}}}}}",
		     "resources.r0.size: expected a size like");
	expect_error("{" NODES ", \"resources\": {\"r0\": {\"on\": "
		     "{\"a\": {\"backing\": \"/x\", \"address\": \"10.0.0.1\"}, \"b\": {\"backing\": \"/y\"}}}}}",
		     "resources.r0.on.a.address: expected \"ADDRESS:PORT\"");
	expect_error("{\"vips\": {\"v\": {\"address\": \"10.0.0.9/24\", \"dev\": \"eth0\", \"label\": \"a-label-far-too-long\"}}}",
		     "vips.v.label: length 20 is out of range (1..15)");
}

static void test_missing_required(void **state)
{
	(void)state;
	expect_error("{\"nodes\": {\"a\": {\"heartbeat\": [\"10.0.0.1\"]}}}",
		     "t.conf: nodes.a: missing required key \"id\"");
}

static void test_cross_checks(void **state)
{
	(void)state;
	expect_error("{\"nodes\": {\"a\": {\"id\": 1, \"heartbeat\": [\"10.0.0.1\"]}, "
		     "\"b\": {\"id\": 1, \"heartbeat\": [\"10.0.0.2\"]}}}",
		     "nodes.b.id: 1 is already the id of node \"a\"");
	expect_error("{\"cluster\": {\"heartbeat\": {\"keepalive_ms\": 200, \"deadtime_ms\": 300, \"warntime_ms\": 250}}}",
		     "cluster.heartbeat.deadtime_ms: 300 must be more than twice keepalive_ms (200)");
	expect_error("{\"cluster\": {\"heartbeat\": {\"warntime_ms\": 5000}}}",
		     "cluster.heartbeat.warntime_ms: 5000 must be at least keepalive_ms (200) and less than deadtime_ms (1000)");
	expect_error("{" NODES ", \"resources\": {\"r0\": {\"on\": {\"a\": {\"backing\": \"/x\"}, \"zz\": {\"backing\": \"/y\"}}}}}",
		     "resources.r0.on.zz: no node named \"zz\" in nodes");
	expect_error("{" NODES ", \"resources\": {\"r0\": {\"on\": {\"a\": {\"backing\": \"/x\"}}}}}",
		     "resources.r0.on: expected exactly two nodes, got 1");
	expect_error("{" NODES ", \"groups\": {\"g\": {\"vips\": [\"nope\"], \"preferred\": \"c\"}}}",
		     "groups.g.vips[0]: no vips named \"nope\"");
	expect_error("{" NODES ", \"groups\": {\"g\": {\"preferred\": \"c\"}}}",
		     "groups.g.preferred: no node named \"c\"");
	expect_error("{" NODES ", \"cluster\": {\"witness\": \"w\"}}", "cluster.witness: no node named \"w\"");
}

static void test_all_errors_reported(void **state)
{
	const char *m;

	(void)state;
	expect_error("{\"cluster\": {\"nmae\": 1, \"heartbeat\": {\"port\": -1}}, \"x\": 2}", "cluster.nmae");
	m = hha_last_error();
	assert_non_null(strstr(m, "cluster.heartbeat.port"));
	assert_non_null(strstr(m, "t.conf: x: unknown key"));
}

static void test_file_errors(void **state)
{
	struct hha_config *cfg = NULL;
	char path[] = "/tmp/hha-test-config-XXXXXX";
	int fd;

	(void)state;
	assert_int_equal(hha_config_load(ctx, "/nonexistent/hybridha.conf", &cfg), -ENOENT);
	assert_non_null(strstr(hha_last_error(), "/nonexistent/hybridha.conf: No such file"));
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{}\0{}", 5), 5);
	close(fd);
	assert_int_equal(hha_config_load(ctx, path, &cfg), -HHA_ECONFIG);
	assert_non_null(strstr(hha_last_error(), "contains a NUL byte"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_gets_defaults),
		cmocka_unit_test(test_full_example),
		cmocka_unit_test(test_comments_and_units),
		cmocka_unit_test(test_syntax_error_position),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_wrong_type),
		cmocka_unit_test(test_out_of_range),
		cmocka_unit_test(test_enum),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_missing_required),
		cmocka_unit_test(test_cross_checks),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_file_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
