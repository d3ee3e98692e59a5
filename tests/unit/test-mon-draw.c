/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: hha-mon's views and keys, drawn into a canvas and read back as text. */
#include "config.h"

#include <locale.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mon/ui.h"

static const char members_json[] =
	"{\"self\":1,\"nodes\":[{\"id\":1,\"name\":\"n1\",\"state\":\"up\"},"
	"{\"id\":2,\"name\":\"n2\",\"state\":\"up\",\"last_heard_ms\":100,\"links\":[{\"state\":\"up\"}]},"
	"{\"id\":3,\"name\":\"n3\",\"state\":\"up\"}]}";

/* Node 2 busy, 1 and 3 idle; node 3 has 4 faster CPUs and more memory. */
static const char load_json[] =
	"{\"nodes\":["
	"{\"id\":1,\"name\":\"n1\",\"self\":true,\"load\":{\"loadavg\":[0.1,0.2,0.3],\"ncpus\":2,"
	"\"cpu_use\":0.05,\"speed\":1.0,\"mem_total\":4294967296,\"mem_free\":2147483648,"
	"\"mem_avail\":3221225472}},"
	"{\"id\":2,\"name\":\"n2\",\"load\":{\"loadavg\":[1.9,1.2,0.6],\"ncpus\":2,\"cpu_use\":0.97,"
	"\"speed\":1.0,\"mem_total\":4294967296,\"mem_free\":1073741824,\"mem_avail\":1073741824,"
	"\"runon_procs\":3}},"
	"{\"id\":3,\"name\":\"n3\",\"load\":{\"loadavg\":[0.5,0.4,0.3],\"ncpus\":4,\"cpu_use\":0.2,"
	"\"speed\":1.5,\"mem_total\":8589934592,\"mem_free\":6442450944,\"mem_avail\":7516192768}}]}";

static const char disk_json[] =
	"{\"resources\":[{\"name\":\"r0\",\"role\":\"Primary\",\"peer_role\":\"Secondary\","
	"\"cstate\":\"SyncSource\",\"disk\":\"UpToDate\",\"peer_disk\":\"Inconsistent\","
	"\"sync\":{\"percent\":42.5,\"speed_bps\":52428800,\"eta_s\":70},\"oos_bytes\":3774873600}]}";

static const char vips_json[] =
	"{\"vips\":[{\"addr\":\"192.0.2.10/24\",\"dev\":\"eth0\",\"holder\":\"n1\"}]}";

struct fixture {
	struct mon_snapshot s;
	struct mon_ui ui;
	struct mon_canvas c;
	char *text;
};

/* Parse the members reply with node 3 in @state3, then the rest. */
static void load(struct fixture *f, const char *state3)
{
	char members[512];
	const char *p = strstr(members_json, "\"id\":3");

	mon_snapshot_clear(&f->s);
	snprintf(members, sizeof(members), "%.*s\"id\":3,\"name\":\"n3\",\"state\":\"%s\"}]}",
		 (int)(p - members_json), members_json, state3);
	snprintf(f->s.self_name, sizeof(f->s.self_name), "n1");
	assert_int_equal(mon_snapshot_parse(&f->s, MON_SRC_MEMBERS, members), 0);
	assert_int_equal(mon_snapshot_parse(&f->s, MON_SRC_LOAD, load_json), 0);
	assert_int_equal(mon_snapshot_parse(&f->s, MON_SRC_DISK, disk_json), 0);
	assert_int_equal(mon_snapshot_parse(&f->s, MON_SRC_VIPS, vips_json), 0);
	mon_snapshot_unavailable(&f->s, MON_SRC_GROUPS, true, "unknown command");
	mon_ui_update(&f->ui, &f->s);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	mon_ui_init(&f->ui, 1.0);
	load(f, "up");
	assert_int_equal(mon_canvas_init(&f->c, 80, 24, true), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mon_snapshot_clear(&f->s);
	mon_ui_free(&f->ui);
	mon_canvas_free(&f->c);
	free(f->text);
	free(f);
	return 0;
}

/* Draw and keep the text; prints the frame when a check fails (cmocka shows stdout). */
static const char *draw(struct fixture *f)
{
	mon_draw(&f->c, &f->ui, &f->s);
	free(f->text);
	f->text = mon_canvas_to_text(&f->c);
	return f->text;
}

#define assert_shows(f, needle)                                                    \
	do {                                                                       \
		if (!strstr((f)->text, (needle)))                                  \
			fail_msg("`%s' not on the screen:\n%s", (needle), (f)->text); \
	} while (0)
#define assert_hides(f, needle)                                                 \
	do {                                                                    \
		if (strstr((f)->text, (needle)))                                \
			fail_msg("`%s' on the screen:\n%s", (needle), (f)->text); \
	} while (0)

/* The row holding the node ids: the one above the names "n1 ... n2". */
static int id_row(const struct mon_canvas *c)
{
	for (int y = c->h - 2; y > 0; y--)
		for (int x = 0; x + 1 < c->w; x++)
			if (mon_canvas_at(c, x, y) == 'n' && mon_canvas_at(c, x + 1, y) == '1')
				return y - 1;
	return -1;
}

/* Cells of bar above node @id's label (its column, from the id row up, until a blank). */
static int bar_height(const struct mon_canvas *c, unsigned id)
{
	int y = id_row(c), h = 0, x = -1;

	for (int i = 0; i < c->w && y >= 0; i++)
		if (mon_canvas_at(c, i, y) == '0' + id && mon_canvas_at(c, i - 1, y) == ' ' &&
		    mon_canvas_at(c, i + 1, y) == ' ')
			x = i;
	if (x < 0)
		return -1;
	for (int r = y - 1; r > 0 && mon_canvas_at(c, x, r) != ' '; r--)
		h++;
	return h;
}

static void test_load_view(void **state)
{
	struct fixture *f = *state;

	draw(f);
	assert_shows(f, " hha-mon  Load");
	assert_shows(f, "on n1");
	assert_shows(f, "load per CPU / speed");
	assert_shows(f, "0.97");
	assert_shows(f, "q:quit h:help l:load");
	/* The busy node's bar is the tall one. */
	assert_true(bar_height(&f->c, 2) > 10);
	assert_true(bar_height(&f->c, 1) <= 1);
	assert_true(bar_height(&f->c, 3) <= 3);
	/* No membership header until t. */
	assert_hides(f, "nodes up");
	assert_true(mon_ui_key(&f->ui, &f->s, 't'));
	draw(f);
	assert_shows(f, " 3 nodes up / 8 CPUs   0 late  0 dead  (3 known)");
}

static void test_late_dead(void **state)
{
	struct fixture *f = *state;

	load(f, "late");
	draw(f);
	assert_shows(f, "late");
	assert_true(bar_height(&f->c, 3) >= 1); /* last known load, drawn as late */
	load(f, "dead");
	draw(f);
	assert_shows(f, "dead");
	assert_shows(f, "xxxxxxxxxx"); /* the dead mark where the bar would be */
	assert_int_equal(bar_height(&f->c, 3), 1);
	/* d hides dead nodes, and says so. */
	assert_true(mon_ui_key(&f->ui, &f->s, 'd'));
	draw(f);
	assert_shows(f, "1 dead hidden (d)");
	assert_int_equal(bar_height(&f->c, 3), -1);
	assert_true(mon_ui_key(&f->ui, &f->s, 'd'));
	draw(f);
	assert_hides(f, "hidden");
}

static void test_bar_views(void **state)
{
	struct fixture *f = *state;

	assert_true(mon_ui_key(&f->ui, &f->s, 'm'));
	draw(f);
	assert_shows(f, " hha-mon  Memory");
	assert_shows(f, "used solid, available hatched");
	assert_shows(f, " 8.0G +");
	assert_shows(f, "3.0G"); /* n2: 4 GiB total, 1 GiB available */
	assert_shows(f, "::::");
	assert_true(mon_ui_key(&f->ui, &f->s, 'u'));
	draw(f);
	assert_shows(f, " hha-mon  CPU utilisation");
	assert_shows(f, "97%");
	assert_shows(f, "  100 +");
	assert_true(mon_ui_key(&f->ui, &f->s, 's'));
	draw(f);
	assert_shows(f, " hha-mon  CPUs and speed");
	assert_shows(f, "4x1.5");
	assert_true(bar_height(&f->c, 3) > bar_height(&f->c, 1));
}

static void test_tables(void **state)
{
	struct fixture *f = *state;

	assert_true(mon_ui_key(&f->ui, &f->s, 'r'));
	draw(f);
	assert_shows(f, " hha-mon  Replication");
	assert_shows(f, "r0               Primary/Secondary    SyncSource     UpToDate/Inconsistent");
	assert_shows(f, "[#########.............]  42.5%  50M/s  ETA 1:10  out of sync 3.5G");
	assert_true(mon_ui_key(&f->ui, &f->s, 'v'));
	draw(f);
	assert_shows(f, " hha-mon  VIPs and resource groups");
	assert_shows(f, "  192.0.2.10/24                            eth0       n1");
	assert_shows(f, "Resource groups\n  no groups configured");
	/* A module hhad does not have: "not available", not a failure. */
	mon_snapshot_unavailable(&f->s, MON_SRC_DISK, true, "unknown command");
	mon_snapshot_unavailable(&f->s, MON_SRC_VIPS, false, "Permission denied");
	draw(f);
	assert_shows(f, "virtual addresses: not available (net.vip.cluster: Permission denied)");
	assert_true(mon_ui_key(&f->ui, &f->s, 'r'));
	draw(f);
	assert_shows(f, "replication: not available (this hhad has no `disk.status'");
}

static void test_help_detail_quit(void **state)
{
	struct fixture *f = *state;

	assert_true(mon_ui_key(&f->ui, &f->s, '?'));
	draw(f);
	assert_shows(f, "hha-mon keys");
	assert_shows(f, "show or hide dead nodes");
	/* Any key closes the help and does nothing else. */
	assert_true(mon_ui_key(&f->ui, &f->s, 'm'));
	draw(f);
	assert_hides(f, "hha-mon keys");
	assert_shows(f, " hha-mon  Load");
	/* Enter opens the panel of the selected node (this node at first). */
	for (int i = 0; i < 5; i++)
		mon_ui_update(&f->ui, &f->s);
	assert_true(mon_ui_key(&f->ui, &f->s, MON_KEY_ENTER));
	draw(f);
	assert_shows(f, "node 1 (n1)");
	assert_shows(f, "up (this node)");
	assert_shows(f, "load history: 6 samples");
	assert_true(mon_ui_key(&f->ui, &f->s, MON_KEY_RIGHT));
	draw(f);
	assert_shows(f, "node 2 (n2)");
	assert_shows(f, "up, heard 100 ms ago; links: 0 up");
	assert_shows(f, "2 CPUs x speed 1.00; memory 3.0G used of 4.0G (1.0G available); runon 3");
	/* The sparkline of a steady 0.97 sits near the top of a scale of 1. */
	assert_shows(f, "######");
	assert_true(mon_ui_key(&f->ui, &f->s, MON_KEY_ESC));
	draw(f);
	assert_hides(f, "load history");
	assert_false(mon_ui_key(&f->ui, &f->s, 'q'));
}

static void test_small_and_banner(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mon_canvas_init(&f->c, 60, 15, true), 0);
	draw(f);
	assert_shows(f, "hha-mon needs at least 80x24");
	assert_shows(f, "this terminal is 60x15");
	assert_int_equal(mon_canvas_init(&f->c, 80, 23, true), 0);
	draw(f);
	assert_shows(f, "this terminal is 80x23");
	assert_int_equal(mon_canvas_init(&f->c, 80, 24, true), 0);
	f->ui.lost = true;
	f->ui.attempts = 3;
	f->ui.now_ms = 1700000005000;
	f->s.time_ms = 1700000000000;
	snprintf(f->ui.lost_why, sizeof(f->ui.lost_why), "hhad closed the connection");
	draw(f);
	assert_shows(f, "LOST CONNECTION TO hhad, retrying (attempt 3); figures below are 5 s old");
	assert_shows(f, "\n hhad closed the connection");
	/* The last figures stay under the banner. */
	assert_shows(f, "0.97");
}

static void test_scrolling(void **state)
{
	struct fixture *f = *state;
	char json[16384];
	size_t o = 0;

	o += (size_t)snprintf(json + o, sizeof(json) - o, "{\"nodes\":[");
	for (int i = 1; i <= 40; i++)
		o += (size_t)snprintf(json + o, sizeof(json) - o,
				      "%s{\"id\":%d,\"name\":\"node%d\",\"state\":\"up\",\"load\":{\"ncpus\":1,"
				      "\"cpu_use\":%.2f}}",
				      i > 1 ? "," : "", i, i, i / 40.0);
	snprintf(json + o, sizeof(json) - o, "]}");
	mon_snapshot_clear(&f->s);
	assert_int_equal(mon_snapshot_parse(&f->s, MON_SRC_LOAD, json), 0);
	mon_ui_update(&f->ui, &f->s);
	draw(f);
	/* 71 columns, 3 cells each: 23 of 40 nodes, a mark saying more are right. */
	assert_shows(f, "nodes 1-23 of 40");
	assert_int_equal(mon_canvas_at(&f->c, 79, 21), '>');
	assert_true(mon_ui_key(&f->ui, &f->s, MON_KEY_END));
	draw(f);
	assert_shows(f, "nodes 18-40 of 40");
	assert_shows(f, " 18 19 20");
	assert_shows(f, " 39 40\n");
	assert_int_equal(mon_canvas_at(&f->c, 7, 21), '<');
	assert_int_equal(mon_canvas_at(&f->c, 79, 21), ' ');
	for (int i = 0; i < 30; i++)
		assert_true(mon_ui_key(&f->ui, &f->s, '-'));
	draw(f);
	assert_shows(f, "nodes 10-32 of 40");
	assert_true(mon_ui_key(&f->ui, &f->s, MON_KEY_HOME));
	draw(f);
	assert_shows(f, "nodes 1-23 of 40");
	assert_shows(f, "\n          1  2  3  4"); /* ids clear of the marks */
	assert_true(mon_ui_key(&f->ui, &f->s, MON_KEY_PGDN));
	draw(f);
	assert_shows(f, "nodes 2-24 of 40");
}

static void test_utf8(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mon_canvas_init(&f->c, 80, 24, false), 0);
	draw(f);
	assert_shows(f, "\xe2\x96\x88\xe2\x96\x88\xe2\x96\x88"); /* full blocks */
	assert_shows(f, "\xe2\x94\xa4");                         /* the scale's tick */
	assert_true(mon_ui_key(&f->ui, &f->s, 'm'));
	draw(f);
	assert_shows(f, "\xe2\x96\x91\xe2\x96\x91"); /* light shade: hatching */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_load_view, setup, teardown),
		cmocka_unit_test_setup_teardown(test_late_dead, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_views, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tables, setup, teardown),
		cmocka_unit_test_setup_teardown(test_help_detail_quit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_small_and_banner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scrolling, setup, teardown),
		cmocka_unit_test_setup_teardown(test_utf8, setup, teardown),
	};

	if (!setlocale(LC_ALL, "C.UTF-8"))
		setlocale(LC_ALL, "en_US.UTF-8");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
