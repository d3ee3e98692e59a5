/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: hha-mon's JSON -> snapshot layer, its JSON and text output. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mon/output.h"
#include "mon/snapshot.h"

/* The formats documented in docs/hha-mon.md. */
static const char load_json[] =
	"{\"nodes\":["
	"{\"id\":3,\"name\":\"n3\",\"state\":\"up\",\"age_ms\":80,\"load\":{\"loadavg\":[0.5,0.4,0.3],"
	"\"ncpus\":4,\"cpu_use\":0.2,\"speed\":1.5,\"mem_total\":8589934592,\"mem_free\":6442450944,"
	"\"mem_avail\":7516192768,\"runon_procs\":0}},"
	"{\"id\":1,\"name\":\"n1\",\"self\":true,\"state\":\"up\",\"age_ms\":0,\"load\":{\"loadavg\":[0.1,"
	"0.2,0.3],\"ncpus\":2,\"cpu_use\":0.05,\"speed\":1.0,\"mem_total\":4294967296,"
	"\"mem_free\":2147483648,\"mem_avail\":3221225472,\"runon_procs\":0}},"
	"{\"id\":2,\"name\":\"n2\",\"state\":\"late\",\"age_ms\":700,\"load\":{\"loadavg\":[1.9,1.2,0.6],"
	"\"ncpus\":2,\"cpu_use\":0.97,\"speed\":1.0,\"mem_total\":4294967296,\"mem_free\":1073741824,"
	"\"mem_avail\":1073741824,\"runon_procs\":3}}]}";

static const char members_json[] =
	"{\"self\":1,\"nodes\":["
	"{\"id\":1,\"name\":\"n1\",\"state\":\"up\"},"
	"{\"id\":2,\"name\":\"n2\",\"state\":\"dead\",\"last_heard_ms\":1500,"
	"\"links\":[{\"state\":\"dead\",\"last_heard_ms\":1500},{\"state\":\"down\"}]},"
	"{\"id\":3,\"name\":\"n3\",\"state\":\"up\",\"last_heard_ms\":80,"
	"\"links\":[{\"state\":\"up\",\"age_ms\":80}]},"
	"{\"id\":4,\"name\":\"w\",\"state\":\"init\"}]}";

static void test_load(void **state)
{
	struct mon_snapshot s = { 0 };
	const struct mon_node *n;

	(void)state;
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_LOAD, load_json), 0);
	assert_int_equal(s.avail[MON_SRC_LOAD], MON_AVAIL_OK);
	assert_int_equal(s.nnodes, 3);
	/* Sorted by id whatever the order of the reply. */
	assert_int_equal(s.nodes[0].id, 1);
	assert_int_equal(s.nodes[1].id, 2);
	assert_int_equal(s.nodes[2].id, 3);
	n = mon_snapshot_node(&s, 1);
	assert_true(n->self);
	assert_true(n->has_load);
	assert_string_equal(n->name, "n1");
	assert_int_equal(n->ncpus, 2);
	assert_int_equal(n->mem_avail, 3221225472ULL);
	/* Without membership, run.load's state is used. */
	assert_int_equal(mon_snapshot_node(&s, 2)->state, MON_NODE_LATE);
	assert_int_equal(mon_snapshot_node(&s, 2)->age_ms, 700);
	/* load = max(loadavg1, cpu_use * ncpus) / ncpus / speed */
	assert_true(fabs(mon_node_load(mon_snapshot_node(&s, 2)) - 0.97) < 1e-9);
	assert_true(fabs(mon_node_load(mon_snapshot_node(&s, 3)) - 0.2 * 4 / 4 / 1.5) < 1e-9);
	assert_true(fabs(mon_node_load(mon_snapshot_node(&s, 1)) - 0.05) < 1e-9);
	mon_snapshot_clear(&s);
	assert_null(s.nodes);
}

static void test_members_merge(void **state)
{
	struct mon_snapshot s = { 0 };
	struct mon_totals t;
	const struct mon_node *n;

	(void)state;
	/* hha-mon asks membership first; run.load then adds vectors, not states. */
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_MEMBERS, members_json), 0);
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_LOAD, load_json), 0);
	assert_int_equal(s.nnodes, 4);
	n = mon_snapshot_node(&s, 2);
	assert_int_equal(n->state, MON_NODE_DEAD);
	assert_int_equal(n->age_ms, 1500);
	assert_true(n->has_load);
	assert_int_equal(n->nlinks, 2);
	assert_int_equal(n->links[0].state, MON_NODE_DEAD);
	assert_int_equal(n->links[1].state, MON_NODE_DOWN);
	assert_int_equal(n->links[1].age_ms, -1);
	assert_int_equal(mon_snapshot_node(&s, 3)->links[0].age_ms, 80);
	assert_true(mon_snapshot_node(&s, 1)->self);
	/* A node only membership knows (a witness): no load, state "unknown" for "init". */
	n = mon_snapshot_node(&s, 4);
	assert_false(n->has_load);
	assert_int_equal(n->state, MON_NODE_UNKNOWN);
	mon_snapshot_totals(&s, &t);
	assert_int_equal(t.nodes, 4);
	assert_int_equal(t.up, 2);
	assert_int_equal(t.dead, 1);
	assert_int_equal(t.late, 0);
	assert_int_equal(t.cpus, 6);
	mon_snapshot_clear(&s);
}

/* Inputs that must not break anything: each is an error or is read defensively. */
static void test_bad_input(void **state)
{
	static const struct {
		enum mon_source src;
		const char *json;
		int ret;
		size_t nodes;
	} cases[] = {
		{ MON_SRC_LOAD, "not json", -EBADMSG, 0 },
		{ MON_SRC_LOAD, "", -EBADMSG, 0 },
		{ MON_SRC_LOAD, "{\"nodes\":5}", -EBADMSG, 0 },
		{ MON_SRC_LOAD, "42", -EBADMSG, 0 },
		{ MON_SRC_MEMBERS, "{}", -EBADMSG, 0 },
		{ MON_SRC_DISK, "\"x\"", -EBADMSG, 0 },
		{ MON_SRC_DISK, "{\"resources\":7}", -EBADMSG, 0 },
		/* Ids outside 1..65535, non-objects and missing ids are skipped. */
		{ MON_SRC_LOAD, "{\"nodes\":[{\"id\":0},{\"id\":-3},{\"id\":70000},{\"id\":\"2\"},7,null,[]]}",
		  0, 0 },
		/* Nonsense numbers fall back to safe values. */
		{ MON_SRC_LOAD,
		  "{\"nodes\":[{\"id\":9,\"load\":{\"loadavg\":[-1,\"x\"],\"ncpus\":0,\"cpu_use\":7,"
		  "\"speed\":-2,\"mem_total\":10,\"mem_free\":20,\"mem_avail\":30}}]}",
		  0, 1 },
		{ MON_SRC_LOAD, "[{\"id\":5}]", 0, 1 }, /* a bare list is accepted */
		{ MON_SRC_MEMBERS,
		  "{\"peers\":[{\"id\":6,\"links\":[1,2,3,4,5,6,7,8,9,10,11,12]}]}", 0, 1 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mon_snapshot s = { 0 };
		int r = mon_snapshot_parse(&s, cases[i].src, cases[i].json);
		if (r != cases[i].ret || s.nnodes != cases[i].nodes)
			fail_msg("case %zu (%s): ret %d nodes %zu", i, cases[i].json, r, s.nnodes);
		if (r < 0) {
			assert_int_equal(s.avail[cases[i].src], MON_AVAIL_ERROR);
			assert_true(strlen(s.why[cases[i].src]) > 0);
		}
		for (size_t k = 0; k < s.nnodes; k++) {
			const struct mon_node *n = &s.nodes[k];
			assert_true(n->nlinks <= MON_MAX_LINKS);
			if (!n->has_load)
				continue;
			assert_true(n->ncpus >= 1);
			assert_true(n->speed > 0);
			assert_true(n->cpu_use >= 0 && n->cpu_use <= 1);
			assert_true(n->mem_free <= n->mem_total && n->mem_avail <= n->mem_total);
			assert_true(n->loadavg[0] >= 0);
			assert_true(isfinite(mon_node_load(n)));
		}
		mon_snapshot_clear(&s);
	}
}

static void test_text_sanitised(void **state)
{
	struct mon_snapshot s = { 0 };
	char json[512];
	char buf[8];

	(void)state;
	/* An escape sequence in a name must not reach the terminal. */
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_LOAD,
					    "{\"nodes\":[{\"id\":1,\"name\":\"a\\u001b[2Jb\\n\"}]}"),
			 0);
	assert_string_equal(s.nodes[0].name, "a?[2Jb?");
	mon_snapshot_clear(&s);
	/* Cut to size on a character boundary: 46 x 'x' then a 3-byte character. */
	snprintf(json, sizeof(json), "{\"nodes\":[{\"id\":1,\"name\":\"%s\\u20ac\"}]}",
		 "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_LOAD, json), 0);
	assert_int_equal(strlen(s.nodes[0].name), 46);
	mon_snapshot_clear(&s);
	mon_text_copy(buf, sizeof(buf), "abc\xc3\xa9\xc3\xa9\xc3\xa9");
	assert_string_equal(buf, "abc\xc3\xa9\xc3\xa9"); /* 7 bytes: two whole characters */
	mon_text_copy(buf, sizeof(buf), "abcd\xc3\xa9\xc3\xa9");
	assert_string_equal(buf, "abcd\xc3\xa9"); /* the second one would be cut */
	mon_text_copy(buf, sizeof(buf), "abcdef\xe2\x82\xac");
	assert_string_equal(buf, "abcdef");
	mon_text_copy(buf, sizeof(buf), NULL);
	assert_string_equal(buf, "");
}

static void test_disk(void **state)
{
	struct mon_snapshot s = { 0 };

	(void)state;
	assert_int_equal(
		mon_snapshot_parse(
			&s, MON_SRC_DISK,
			"{\"resources\":[{\"name\":\"r0\",\"role\":\"Primary\",\"peer_role\":\"Secondary\","
			"\"cstate\":\"SyncSource\",\"disk\":\"UpToDate\",\"peer_disk\":\"Inconsistent\","
			"\"sync\":{\"percent\":42.5,\"speed_bps\":52428800,\"eta_s\":70},\"oos_bytes\":1000},"
			"{\"name\":\"r1\",\"role\":\"Secondary\",\"connection\":\"StandAlone\","
			"\"dstate\":\"Outdated\",\"peer\":{\"role\":\"Primary\",\"disk\":\"UpToDate\"},"
			"\"sync_percent\":7,\"out_of_sync_bytes\":5}]}"),
		0);
	assert_int_equal(s.nres, 2);
	assert_string_equal(s.res[0].name, "r0");
	assert_string_equal(s.res[0].cstate, "SyncSource");
	assert_string_equal(s.res[0].peer_disk, "Inconsistent");
	assert_true(fabs(s.res[0].sync_pct - 42.5) < 1e-9);
	assert_true(fabs(s.res[0].speed_bps - 52428800) < 1e-3);
	assert_int_equal(s.res[0].eta_s, 70);
	assert_int_equal(s.res[0].oos_bytes, 1000);
	/* Older and flatter spellings. */
	assert_string_equal(s.res[1].cstate, "StandAlone");
	assert_string_equal(s.res[1].disk, "Outdated");
	assert_string_equal(s.res[1].peer_role, "Primary");
	assert_string_equal(s.res[1].peer_disk, "UpToDate");
	assert_true(fabs(s.res[1].sync_pct - 7) < 1e-9);
	assert_int_equal(s.res[1].eta_s, -1);
	assert_int_equal(s.res[1].oos_bytes, 5);
	/* What hhad's disk.status answers: an array of objects named by "resource". */
	assert_int_equal(
		mon_snapshot_parse(
			&s, MON_SRC_DISK,
			"[{\"resource\":\"r0\",\"role\":\"Primary\",\"connection\":\"SyncSource\","
			"\"disk\":\"UpToDate\",\"peer_role\":\"Secondary\",\"peer_disk\":\"Inconsistent\","
			"\"out_of_sync\":4096,\"sync\":{\"total\":100,\"done\":25,\"remaining\":75,"
			"\"percent\":25.0,\"speed\":1048576,\"speed_avg\":1000000,\"eta_s\":3}}]"),
		0);
	assert_int_equal(s.nres, 1);
	assert_string_equal(s.res[0].name, "r0");
	assert_string_equal(s.res[0].cstate, "SyncSource");
	assert_true(fabs(s.res[0].sync_pct - 25) < 1e-9);
	assert_true(fabs(s.res[0].speed_bps - 1048576) < 1e-3);
	assert_int_equal(s.res[0].eta_s, 3);
	assert_int_equal(s.res[0].oos_bytes, 4096);
	/* A reply keyed by resource name; parsing again replaces the rows. */
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_DISK,
					    "{\"r7\":{\"role\":\"Primary\",\"sync\":{\"percent\":150}}}"),
			 0);
	assert_int_equal(s.nres, 1);
	assert_string_equal(s.res[0].name, "r7");
	assert_true(s.res[0].sync_pct < 0); /* 150% is nonsense: not syncing as far as we know */
	assert_int_equal(s.res[0].oos_bytes, -1);
	mon_snapshot_clear(&s);
}

static void test_vips_groups(void **state)
{
	struct mon_snapshot s = { 0 };

	(void)state;
	snprintf(s.self_name, sizeof(s.self_name), "n1");
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_LOAD, load_json), 0);
	assert_int_equal(
		mon_snapshot_parse(&s, MON_SRC_VIPS,
				   "{\"vips\":[{\"addr\":\"192.0.2.10/24\",\"dev\":\"eth0\",\"holder\":\"n2\"},"
				   "{\"address\":\"192.0.2.11/24\",\"owner_id\":3},"
				   "{\"addr\":\"192.0.2.12/24\",\"here\":true},{\"addr\":\"192.0.2.13/24\"}]}"),
		0);
	assert_int_equal(s.nvips, 4);
	assert_string_equal(s.vips[0].holder, "n2");
	assert_string_equal(s.vips[1].addr, "192.0.2.11/24");
	assert_string_equal(s.vips[1].holder, "n3"); /* by id, through the node list */
	assert_string_equal(s.vips[2].holder, "n1"); /* "here": this node */
	assert_string_equal(s.vips[3].holder, "");
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_GROUPS,
					    "{\"groups\":[{\"name\":\"web\",\"state\":\"started\",\"node\":\"n1\"}]}"),
			 0);
	assert_int_equal(s.ngroups, 1);
	assert_string_equal(s.groups[0].node, "n1");
	mon_snapshot_unavailable(&s, MON_SRC_DISK, true, "unknown command `disk.status'");
	assert_int_equal(s.avail[MON_SRC_DISK], MON_AVAIL_MISSING);
	assert_string_equal(mon_source_verb(MON_SRC_DISK), "disk.status");
	mon_snapshot_clear(&s);
}

/* The formats the modules' branches actually answer with (net: peers only, this node apart). */
static void test_real_formats(void **state)
{
	static const char members[] =
		"{\"node\":\"n1\",\"incarnation\":7,\"links\":[\"10.0.0.1\"],\"ping_reached\":0,"
		"\"peers\":[{\"node\":\"n2\",\"id\":2,\"state\":\"late\",\"incarnation\":3,"
		"\"last_heard_ms_ago\":650,\"ping_reached\":null,\"links\":[{\"state\":\"late\","
		"\"last_heard_ms_ago\":650,\"received\":12},{\"state\":\"down\",\"last_heard_ms_ago\":null,"
		"\"received\":0}]},{\"node\":\"n3\",\"id\":3,\"state\":\"init\",\"last_heard_ms_ago\":null,"
		"\"links\":[]}],\"counters\":{}}";
	static const char load[] =
		"{\"nodes\":[{\"id\":1,\"name\":\"n1\",\"self\":true,\"state\":\"up\",\"age_ms\":12,"
		"\"load\":{\"loadavg\":[0.10000000000000001,0,0],\"ncpus\":2,\"cpu_use\":0.5,\"speed\":1,"
		"\"mem_total\":100,\"mem_free\":50,\"mem_avail\":60,\"runon_procs\":0}},"
		"{\"id\":2,\"name\":\"n2\",\"self\":false,\"state\":\"up\",\"age_ms\":300,\"load\":null},"
		"{\"id\":3,\"name\":\"n3\",\"self\":false,\"state\":\"dead\",\"age_ms\":null,\"load\":null,"
		"\"error\":\"connection refused\"}]}";
	static const char vips[] =
		"[{\"address\":\"192.0.2.10/24\",\"dev\":\"eth0\",\"label\":null,\"held\":true,"
		"\"owned\":true,\"vip\":true,\"tentative\":false,\"dadfailed\":false},"
		"{\"address\":\"2001:db8::10/64\",\"dev\":\"eth0\",\"held\":true,\"owned\":false,"
		"\"tentative\":true},{\"address\":\"192.0.2.11/24\",\"dev\":\"eth1\",\"held\":false,"
		"\"owned\":true}]";
	static const char disk[] =
		"{\"resources\":[{\"name\":\"r0\",\"role\":\"Secondary\",\"peer_role\":\"Primary\","
		"\"cstate\":\"SyncTarget\",\"dstate\":\"Inconsistent\",\"peer_dstate\":\"UpToDate\","
		"\"out_of_sync\":1048576,\"sync_total\":4194304,\"sync_done\":3145728,"
		"\"sync_speed_now\":2097152,\"sync_speed_avg\":1048576}]}";
	struct mon_snapshot s = { 0 };
	const struct mon_node *n;

	(void)state;
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_MEMBERS, members), 0);
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_LOAD, load), 0);
	assert_string_equal(s.self_name, "n1");
	assert_int_equal(s.nnodes, 3);
	/* This node: not a peer of itself, so run.load's state. */
	n = mon_snapshot_node(&s, 1);
	assert_true(n->self);
	assert_int_equal(n->state, MON_NODE_UP);
	assert_int_equal(n->age_ms, 12);
	/* Peers: membership's state wins over run.load's. */
	n = mon_snapshot_node(&s, 2);
	assert_int_equal(n->state, MON_NODE_LATE);
	assert_int_equal(n->age_ms, 650);
	assert_false(n->has_load);
	assert_int_equal(n->nlinks, 2);
	assert_int_equal(n->links[1].state, MON_NODE_DOWN);
	assert_int_equal(n->links[1].age_ms, -1);
	assert_int_equal(mon_snapshot_node(&s, 3)->state, MON_NODE_UNKNOWN);
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_VIPS, vips), 0);
	assert_int_equal(s.nvips, 3);
	assert_string_equal(s.vips[0].addr, "192.0.2.10/24");
	assert_string_equal(s.vips[0].holder, "n1");
	assert_string_equal(s.vips[0].note, "");
	assert_string_equal(s.vips[1].note, "tentative");
	assert_string_equal(s.vips[2].holder, "");
	assert_string_equal(s.vips[2].note, "owned, missing");
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_DISK, disk), 0);
	assert_string_equal(s.res[0].disk, "Inconsistent");
	assert_string_equal(s.res[0].peer_disk, "UpToDate");
	assert_int_equal(s.res[0].oos_bytes, 1048576);
	assert_true(s.res[0].sync_pct > 74.99 && s.res[0].sync_pct < 75.01);
	assert_true(s.res[0].speed_bps > 2097151 && s.res[0].speed_bps < 2097153);
	assert_int_equal(s.res[0].eta_s, 1); /* 1 MiB left at 2 MiB/s, rounded */
	mon_snapshot_clear(&s);
	/* A node without a cluster section. */
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_MEMBERS, "{\"node\":\"solo\",\"cluster\":false}"), 0);
	assert_int_equal(s.avail[MON_SRC_MEMBERS], MON_AVAIL_OK);
	assert_int_equal(s.nnodes, 0);
	mon_snapshot_clear(&s);
}

static void test_json_out(void **state)
{
	struct mon_snapshot s = { 0 };
	json_object *o, *nodes, *n2, *src;

	(void)state;
	snprintf(s.self_name, sizeof(s.self_name), "n1");
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_MEMBERS, members_json), 0);
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_LOAD, load_json), 0);
	mon_snapshot_unavailable(&s, MON_SRC_DISK, true, "unknown command");
	o = mon_snapshot_to_json(&s);
	nodes = json_object_object_get(o, "nodes");
	assert_int_equal(json_object_array_length(nodes), 4);
	n2 = json_object_array_get_idx(nodes, 1);
	assert_string_equal(json_object_get_string(json_object_object_get(n2, "state")), "dead");
	assert_int_equal(json_object_get_int(json_object_object_get(
				 json_object_object_get(n2, "load"), "ncpus")),
			 2);
	/* Short decimals, not 17 digits. */
	assert_non_null(strstr(json_object_to_json_string(n2), "\"load_per_cpu\": 0.97"));
	assert_int_equal(json_object_get_int(json_object_object_get(
				 json_object_object_get(o, "totals"), "dead")),
			 1);
	src = json_object_object_get(json_object_object_get(o, "sources"), "disk");
	assert_false(json_object_get_boolean(json_object_object_get(src, "available")));
	assert_string_equal(json_object_get_string(json_object_object_get(src, "reason")),
			    "unknown command");
	json_object_put(o);
	mon_snapshot_clear(&s);
}

static void test_text_out(void **state)
{
	struct mon_snapshot s = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	(void)state;
	snprintf(s.self_name, sizeof(s.self_name), "n1");
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_MEMBERS, members_json), 0);
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_LOAD, load_json), 0);
	mon_snapshot_unavailable(&s, MON_SRC_DISK, true, NULL);
	mon_snapshot_unavailable(&s, MON_SRC_GROUPS, true, NULL);
	assert_int_equal(mon_snapshot_parse(&s, MON_SRC_VIPS, "{\"vips\":[]}"), 0);
	mon_print_text(f, &s);
	fclose(f);
	assert_non_null(strstr(buf, "2 nodes up / 6 CPUs (0 late, 1 dead, 4 known), asked n1\n"));
	assert_non_null(strstr(buf, "    2 n2           dead      0.97    97    2  1.00   3.0G   4.0G     3\n"));
	assert_non_null(strstr(buf, "    4 w            unknown      -"));
	assert_non_null(strstr(buf, "not available (this hhad has no `disk.status')"));
	assert_non_null(strstr(buf, "virtual addresses:\n  none\n"));
	assert_non_null(strstr(buf, "no groups configured"));
	free(buf);
	mon_snapshot_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),          cmocka_unit_test(test_members_merge),
		cmocka_unit_test(test_bad_input),     cmocka_unit_test(test_text_sanitised),
		cmocka_unit_test(test_disk),          cmocka_unit_test(test_vips_groups),
		cmocka_unit_test(test_real_formats),  cmocka_unit_test(test_json_out),
		cmocka_unit_test(test_text_out),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
