/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon's screen arithmetic: scales, bar heights, columns, scrolling, sparklines, history. */
#ifndef HHA_MON_LAYOUT_H
#define HHA_MON_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Pure functions only (no terminal, no clock), so every number on the screen
 * can be unit-tested.
 */

/* A round top for a scale showing values up to @v: 1, 1.5, 2, 3, 4, 5, 6, 8 x 10^k, >= @min. */
double mon_scale_top(double v, double min);

/*
 * The scale top for this frame given last frame's (@old, 0 for none) and the
 * largest value now: it grows at once but only shrinks when the values
 * have fallen well below it, so the bars do not jump at every refresh.
 */
double mon_scale_sticky(double old, double vmax, double min);

/* Height of a bar in eighths of a cell: value/top of @height cells, 0..8*height. */
int mon_bar_eighths(double value, double top, int height);

/* How the nodes share the width: columns of col_w cells, each a bar of bar_w and a gap. */
struct mon_columns {
	int col_w;   /* cells per node */
	int bar_w;   /* cells of bar within it */
	size_t fit;  /* nodes that fit side by side */
};

/*
 * Columns for @n nodes in @width cells whose largest id has @id_digits
 * digits: as wide as possible up to 12 cells, at least the id plus a gap.
 */
void mon_columns_fit(int width, size_t n, int id_digits, struct mon_columns *c);

/*
 * The first visible node of a window of @fit over @n nodes that shows
 * @selected, moving as little as possible from @first.
 */
size_t mon_window_first(size_t first, size_t fit, size_t n, size_t selected);

/*
 * Sparkline levels: out[i] in 0..levels-1 for the last @width samples of
 * @v[0..n) (oldest first) scaled to @top; when there are fewer samples than
 * cells they are right-aligned and the cells before them are -1 (blank).
 */
void mon_sparkline(const double *v, size_t n, double top, int levels, int *out, int width);

/* Recent values of one figure per node (the load, for the detail panel's sparkline). */
#define MON_HIST_LEN 256
struct mon_hist {
	unsigned id;
	size_t n;                /* samples held, <= MON_HIST_LEN */
	size_t head;             /* where the next one goes */
	double v[MON_HIST_LEN];
};

struct mon_hists {
	struct mon_hist *h;
	size_t n;
};

/* Append a sample for node @id. 0 or -ENOMEM. */
int mon_hist_push(struct mon_hists *hs, unsigned id, double value);
/* Copy node @id's samples oldest first into @out (room for MON_HIST_LEN); returns the count. */
size_t mon_hist_get(const struct mon_hists *hs, unsigned id, double *out);
void mon_hists_free(struct mon_hists *hs);

/* "0", "512K", "1.5G", "12G", "3.2T": at most 5 characters for a column. */
const char *mon_fmt_bytes(uint64_t bytes, char *buf, size_t len);
/* "42s", "3:07", "1:02:03", "2d03h": a duration for an ETA; "-" when unknown (< 0). */
const char *mon_fmt_duration(int64_t s, char *buf, size_t len);
/* A scale label for @v in at most 5 characters ("0", "0.5", "1.5", "12", "1.2k"). */
const char *mon_fmt_scale(double v, char *buf, size_t len);

#endif /* HHA_MON_LAYOUT_H */
