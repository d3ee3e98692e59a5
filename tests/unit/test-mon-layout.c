/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests: hha-mon's screen arithmetic (scales, bars, columns, scrolling, sparklines) and canvas. */
#include "config.h"

#include <locale.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mon/canvas.h"
#include "mon/layout.h"

static void test_scale(void **state)
{
	static const struct {
		double v, min, top;
	} cases[] = {
		{ 0, 1, 1 },       { 0.3, 1, 1 },   { 1, 1, 1 },     { 1.01, 1, 1.5 },
		{ 1.6, 1, 2 },     { 2.2, 1, 3 },   { 7, 1, 8 },     { 8.5, 1, 10 },
		{ 0.3, 0.1, 0.3 }, { 0.07, 0, 0.08 }, { 120, 1, 150 }, { NAN, 1, 1 },
		{ -5, 1, 1 },      { 4e9, 1, 4e9 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double top = mon_scale_top(cases[i].v, cases[i].min);
		if (fabs(top - cases[i].top) > cases[i].top * 1e-9)
			fail_msg("case %zu: top(%g) = %g, want %g", i, cases[i].v, top, cases[i].top);
	}
	/* Grows at once, shrinks only when the values fell well below. */
	assert_true(fabs(mon_scale_sticky(0, 0.5, 1) - 1) < 1e-9);
	assert_true(fabs(mon_scale_sticky(1, 2.5, 1) - 3) < 1e-9);
	assert_true(fabs(mon_scale_sticky(3, 1.9, 1) - 3) < 1e-9);
	assert_true(fabs(mon_scale_sticky(3, 1.1, 1) - 1.5) < 1e-9);
}

static void test_bar(void **state)
{
	static const struct {
		double v, top;
		int h, eighths;
	} cases[] = {
		{ 0, 1, 10, 0 },    { -1, 1, 10, 0 },  { 1, 1, 10, 80 },  { 5, 1, 10, 80 },
		{ 0.5, 1, 10, 40 }, { 0.001, 1, 10, 1 }, /* any load shows */
		{ 0.26, 1, 4, 8 },  { 0.5, 0, 10, 0 },  { NAN, 1, 10, 0 }, { 0.5, 1, 0, 0 },
		{ 0.97, 1, 22, 171 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int e = mon_bar_eighths(cases[i].v, cases[i].top, cases[i].h);
		if (e != cases[i].eighths)
			fail_msg("case %zu: %d eighths, want %d", i, e, cases[i].eighths);
	}
}

static void test_columns(void **state)
{
	static const struct {
		int width;
		size_t n;
		int digits, col_w, bar_w;
		size_t fit;
	} cases[] = {
		{ 72, 3, 1, 12, 10, 6 },   /* few nodes: wide bars, capped */
		{ 72, 8, 1, 9, 7, 8 },
		{ 72, 18, 2, 4, 3, 18 },
		{ 72, 40, 2, 3, 2, 24 },   /* more than fit: scrolling */
		{ 72, 40, 3, 4, 3, 18 },   /* three-digit ids need 4 cells */
		{ 72, 0, 1, 12, 10, 6 },
		{ 0, 5, 1, 2, 1, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mon_columns c;
		mon_columns_fit(cases[i].width, cases[i].n, cases[i].digits, &c);
		if (c.col_w != cases[i].col_w || c.bar_w != cases[i].bar_w || c.fit != cases[i].fit)
			fail_msg("case %zu: col %d bar %d fit %zu", i, c.col_w, c.bar_w, c.fit);
	}
}

static void test_window(void **state)
{
	static const struct {
		size_t first, fit, n, sel, want;
	} cases[] = {
		{ 0, 10, 5, 4, 0 },    /* all fit */
		{ 0, 10, 40, 9, 0 },   /* selection visible: no move */
		{ 0, 10, 40, 10, 1 },  /* one past the right edge: scroll by one */
		{ 5, 10, 40, 3, 3 },   /* left of the window */
		{ 35, 10, 40, 39, 30 }, /* clamped at the end */
		{ 0, 10, 40, 99, 30 },  /* selection beyond the list */
		{ 7, 0, 40, 3, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t f = mon_window_first(cases[i].first, cases[i].fit, cases[i].n, cases[i].sel);
		if (f != cases[i].want)
			fail_msg("case %zu: first %zu, want %zu", i, f, cases[i].want);
	}
}

static void test_sparkline(void **state)
{
	double v[] = { 0, 0.5, 1, 2, 0.25 };
	int out[8];

	(void)state;
	mon_sparkline(v, 5, 1.0, 8, out, 8);
	/* Right-aligned, blanks before, clamped at the top. */
	assert_int_equal(out[0], -1);
	assert_int_equal(out[2], -1);
	assert_int_equal(out[3], 0);
	assert_int_equal(out[4], 4);
	assert_int_equal(out[5], 7);
	assert_int_equal(out[6], 7);
	assert_int_equal(out[7], 2);
	/* Narrower than the history: the newest samples. */
	mon_sparkline(v, 5, 1.0, 8, out, 2);
	assert_int_equal(out[0], 7);
	assert_int_equal(out[1], 2);
	mon_sparkline(v, 0, 1.0, 8, out, 3);
	assert_int_equal(out[2], -1);
}

static void test_history(void **state)
{
	struct mon_hists hs = { 0 };
	double out[MON_HIST_LEN];

	(void)state;
	assert_int_equal(mon_hist_get(&hs, 1, out), 0);
	for (int i = 0; i < MON_HIST_LEN + 10; i++)
		assert_int_equal(mon_hist_push(&hs, 1, i), 0);
	assert_int_equal(mon_hist_push(&hs, 2, 42), 0);
	/* The ring keeps the newest MON_HIST_LEN, oldest first. */
	assert_int_equal(mon_hist_get(&hs, 1, out), MON_HIST_LEN);
	assert_true(out[0] == 10);
	assert_true(out[MON_HIST_LEN - 1] == MON_HIST_LEN + 9);
	assert_int_equal(mon_hist_get(&hs, 2, out), 1);
	assert_true(out[0] == 42);
	mon_hists_free(&hs);
}

static void test_formats(void **state)
{
	static const struct {
		uint64_t b;
		const char *s;
	} bytes[] = {
		{ 0, "0" },           { 1023, "1023" },       { 1024, "1.0K" },
		{ 1536, "1.5K" },     { 10 * 1024, "10K" },   { 4294967296ULL, "4.0G" },
		{ 3006477107ULL, "2.8G" }, { UINT64_MAX, "16E" },
	};
	static const struct {
		int64_t s;
		const char *t;
	} durs[] = {
		{ -1, "-" }, { 0, "0s" }, { 59, "59s" }, { 70, "1:10" }, { 3725, "1:02:05" }, { 183600, "2d03h" },
	};
	char buf[32];

	(void)state;
	for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++)
		assert_string_equal(mon_fmt_bytes(bytes[i].b, buf, sizeof(buf)), bytes[i].s);
	for (size_t i = 0; i < sizeof(durs) / sizeof(durs[0]); i++)
		assert_string_equal(mon_fmt_duration(durs[i].s, buf, sizeof(buf)), durs[i].t);
	assert_string_equal(mon_fmt_scale(0, buf, sizeof(buf)), "0");
	assert_string_equal(mon_fmt_scale(1.5, buf, sizeof(buf)), "1.5");
	assert_string_equal(mon_fmt_scale(100, buf, sizeof(buf)), "100");
	assert_string_equal(mon_fmt_scale(1500, buf, sizeof(buf)), "1.5k");
}

static void test_canvas(void **state)
{
	struct mon_canvas c = { 0 };
	char *t;

	(void)state;
	assert_int_equal(mon_canvas_init(&c, 10, 3, false), 0);
	/* Control characters, invalid UTF-8 and double-width characters become '?'. */
	assert_int_equal(mon_canvas_text(&c, 0, 0, -1, MON_ST_NORMAL, "a\x1b\xff\xc3\xa9\xe4\xb8\xad"), 5);
	mon_canvas_text(&c, 8, 1, -1, MON_ST_NORMAL, "cut here"); /* clipped at the edge */
	mon_canvas_box(&c, 0, 1, 3, 2, NULL);
	t = mon_canvas_to_text(&c);
	assert_string_equal(t, "a??\xc3\xa9?\n\xe2\x94\x8c\xe2\x94\x80\xe2\x94\x90     cu\n"
			       "\xe2\x94\x94\xe2\x94\x80\xe2\x94\x98\n");
	free(t);
	assert_int_equal(mon_canvas_at(&c, 99, 0), 0);
	/* ASCII: nothing beyond 0x7e gets through, even set directly. */
	assert_int_equal(mon_canvas_init(&c, 4, 1, true), 0);
	mon_canvas_text(&c, 0, 0, -1, MON_ST_NORMAL, "\xc3\xa9");
	mon_canvas_set(&c, 1, 0, 0x2588, MON_ST_NORMAL);
	assert_int_equal(mon_canvas_at(&c, 0, 0), '?');
	assert_int_equal(mon_canvas_at(&c, 1, 0), '?');
	mon_canvas_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scale),     cmocka_unit_test(test_bar),
		cmocka_unit_test(test_columns),   cmocka_unit_test(test_window),
		cmocka_unit_test(test_sparkline), cmocka_unit_test(test_history),
		cmocka_unit_test(test_formats),   cmocka_unit_test(test_canvas),
	};

	/* wcwidth() answers for UTF-8 only in a UTF-8 locale. */
	if (!setlocale(LC_ALL, "C.UTF-8"))
		setlocale(LC_ALL, "en_US.UTF-8");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
