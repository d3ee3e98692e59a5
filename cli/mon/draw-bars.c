/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon's bar views (load, memory, CPU use, speed) and the selected node's detail panel. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mon/draw.h"

#define SCALE_W 7     /* "  1.5 ┤" to the left of the bars */
#define DETAIL_H 7    /* rows of the detail panel, frame included */

/* Glyphs: a full cell, eighths from the bottom (1..7), hatching, a dead mark. */
#define G_FULL(a) ((a) ? (uint32_t)'#' : 0x2588u)
#define G_HATCH(a) ((a) ? (uint32_t)':' : 0x2591u)
#define G_DEAD(a) ((a) ? (uint32_t)'x' : 0x2573u)

static uint32_t g_part(bool ascii, int eighths)
{
	if (ascii)
		return eighths >= 4 ? '=' : '_';
	return 0x2580u + (uint32_t)eighths; /* U+2581 LOWER ONE EIGHTH BLOCK ... */
}

static const char *const legends[] = {
	[MON_VIEW_LOAD] = "load per CPU / speed (1.00 = all CPUs busy)",
	[MON_VIEW_MEM] = "memory: used solid, available hatched",
	[MON_VIEW_CPU] = "CPU use, % of the node's CPUs",
	[MON_VIEW_SPEED] = "CPUs x relative speed (1.0 = reference)",
};

size_t mon_shown_nodes(const struct mon_ui *ui, const struct mon_snapshot *s,
		       const struct mon_node **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nnodes && n < max; i++)
		if (mon_ui_node_shown(ui, &s->nodes[i]))
			out[n++] = &s->nodes[i];
	return n;
}

static double used_mem(const struct mon_node *n)
{
	return (double)(n->mem_total - n->mem_avail);
}

/* The figure a bar shows; the memory view's hatched part goes up to mem_total. */
static double value_of(enum mon_view v, const struct mon_node *n)
{
	switch (v) {
	case MON_VIEW_MEM:
		return used_mem(n);
	case MON_VIEW_CPU:
		return n->cpu_use * 100.0;
	case MON_VIEW_SPEED:
		return n->ncpus * n->speed;
	default:
		return mon_node_load(n);
	}
}

/* How alarming a bar is: by the figure itself, not by the scale. */
static enum mon_style level_of(enum mon_view v, const struct mon_node *n)
{
	double f;

	switch (v) {
	case MON_VIEW_MEM:
		f = n->mem_total ? used_mem(n) / (double)n->mem_total : 0;
		return f < 0.6 ? MON_ST_LOW : f < 0.85 ? MON_ST_MID : MON_ST_HIGH;
	case MON_VIEW_CPU:
		f = n->cpu_use;
		break;
	case MON_VIEW_SPEED:
		return MON_ST_LOW;
	default:
		f = mon_node_load(n);
		break;
	}
	return f < 0.5 ? MON_ST_LOW : f < 0.9 ? MON_ST_MID : MON_ST_HIGH;
}

static void value_label(enum mon_view v, const struct mon_node *n, int width, char *buf,
			size_t len)
{
	switch (v) {
	case MON_VIEW_MEM:
		mon_fmt_bytes((uint64_t)used_mem(n), buf, len);
		break;
	case MON_VIEW_CPU:
		snprintf(buf, len, "%.0f%%", n->cpu_use * 100.0);
		break;
	case MON_VIEW_SPEED:
		snprintf(buf, len, "%ux%.1f", n->ncpus, n->speed);
		if ((int)strlen(buf) > width)
			snprintf(buf, len, "%.1f", n->ncpus * n->speed);
		break;
	default:
		snprintf(buf, len, "%.2f", mon_node_load(n));
		break;
	}
}

/* Text centred in [x, x + w); cut to its first letter when it does not fit. */
static void centred(struct mon_canvas *c, int x, int w, int y, enum mon_style st, const char *t)
{
	int len = (int)strlen(t);

	if (len > w) {
		if (w < 1)
			return;
		char one[2] = { t[0], 0 };
		mon_canvas_text(c, x + (w - 1) / 2, y, 1, st, one);
		return;
	}
	mon_canvas_text(c, x + (w - len) / 2, y, w, st, t);
}

/* One bar growing up from the bottom of rows [by, by + bh). */
static void draw_bar(struct mon_canvas *c, int bx, int bw, int by, int bh, double value,
		     double hatch_to, double top, enum mon_style st)
{
	int e = mon_bar_eighths(value, top, bh), full = e / 8, part = e % 8;
	int hatch = hatch_to > value ? (mon_bar_eighths(hatch_to, top, bh) + 4) / 8 : 0;

	mon_canvas_fill(c, bx, by + bh - full, bw, full, G_FULL(c->ascii), st);
	if (part)
		mon_canvas_fill(c, bx, by + bh - full - 1, bw, 1, g_part(c->ascii, part), st);
	full += part ? 1 : 0;
	if (hatch > full)
		mon_canvas_fill(c, bx, by + bh - hatch, bw, hatch - full, G_HATCH(c->ascii),
				MON_ST_FREE);
}

static void draw_scale(struct mon_canvas *c, int by, int bh, enum mon_view v, double top)
{
	/* Each label is the value at the top edge of its cell (the bottom edge for 0),
	 * where a bar of that value ends: the middle one is top/2 for an even height. */
	int rows[3] = { by, by + bh / 2, by + bh - 1 };
	double vals[3] = { top, bh > 0 ? top * (bh - bh / 2) / bh : 0, 0 };
	bool a = c->ascii;

	mon_canvas_fill(c, SCALE_W - 1, by, 1, bh, a ? '|' : 0x2502, MON_ST_DIM);
	for (int i = 0; i < 3; i++) {
		char buf[16];
		if (v == MON_VIEW_MEM)
			mon_fmt_bytes((uint64_t)vals[i], buf, sizeof(buf));
		else
			mon_fmt_scale(vals[i], buf, sizeof(buf));
		mon_canvas_printf(c, 0, rows[i], MON_ST_DIM, "%5.5s", buf);
		mon_canvas_set(c, SCALE_W - 1, rows[i], a ? '+' : 0x2524, MON_ST_DIM);
	}
}

static void draw_column(struct mon_canvas *c, int x, const struct mon_columns *cols, int by,
			int bh, double top, const struct mon_ui *ui, const struct mon_node *n)
{
	int bx = x + (cols->col_w - cols->bar_w) / 2;
	enum mon_style idst = MON_ST_NORMAL;
	char buf[32];

	if (n->state == MON_NODE_DEAD) {
		centred(c, x, cols->col_w, by - 1, MON_ST_DEAD, "dead");
		mon_canvas_fill(c, bx, by + bh - 1, cols->bar_w, 1, G_DEAD(c->ascii), MON_ST_DEAD);
		idst = MON_ST_DEAD;
	} else if (!n->has_load) {
		centred(c, x, cols->col_w, by - 1, MON_ST_DIM,
			n->state == MON_NODE_LATE ? "late" : "n/a");
	} else {
		enum mon_style st = n->state == MON_NODE_LATE ? MON_ST_LATE : level_of(ui->view, n);
		draw_bar(c, bx, cols->bar_w, by, bh, value_of(ui->view, n),
			 ui->view == MON_VIEW_MEM ? (double)n->mem_total : 0, top, st);
		if (n->state == MON_NODE_LATE) {
			centred(c, x, cols->col_w, by - 1, MON_ST_LATE, "late");
			idst = MON_ST_LATE;
		} else {
			value_label(ui->view, n, cols->col_w, buf, sizeof(buf));
			if ((int)strlen(buf) <= cols->col_w)
				centred(c, x, cols->col_w, by - 1, MON_ST_NORMAL, buf);
		}
	}
	if (n->id == ui->sel_id)
		idst = MON_ST_SEL;
	snprintf(buf, sizeof(buf), "%u", n->id);
	centred(c, x, cols->col_w, by + bh, idst, buf);
	if ((int)strlen(n->name) < cols->col_w)
		centred(c, x, cols->col_w, by + bh + 1, n->self ? MON_ST_KEY : MON_ST_DIM, n->name);
}

static void link_summary(const struct mon_node *n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n->nlinks && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%u %s", i ? ", " : "", i,
				      mon_node_state_name(n->links[i].state));
	if (!n->nlinks)
		snprintf(buf, len, "-");
}

static void draw_detail(struct mon_canvas *c, int y, struct mon_ui *ui,
			const struct mon_snapshot *s)
{
	const struct mon_node *n = mon_snapshot_node(s, ui->sel_id);
	static const uint32_t spark[8] = { 0x2581, 0x2582, 0x2583, 0x2584,
					   0x2585, 0x2586, 0x2587, 0x2588 };
	static const char spark_ascii[] = "_.-:=+*#";
	char title[96], a[16], b[16], d[16], links[96];
	double hv[MON_HIST_LEN], hmax = 0;
	int w = c->w - 2, cells[MON_HIST_LEN];
	size_t nh;

	if (!n) {
		mon_canvas_box(c, 0, y, c->w, DETAIL_H, "node");
		mon_canvas_text(c, 2, y + 1, w - 2, MON_ST_DIM, "no node selected");
		return;
	}
	snprintf(title, sizeof(title), "node %u%s%s%s", n->id, n->name[0] ? " (" : "", n->name,
		 n->name[0] ? ")" : "");
	mon_canvas_box(c, 0, y, c->w, DETAIL_H, title);
	link_summary(n, links, sizeof(links));
	if (n->age_ms >= 0)
		mon_canvas_printf(c, 2, y + 1, MON_ST_NORMAL, "%s%s, heard %lld ms ago; links: %s",
				  mon_node_state_name(n->state), n->self ? " (this node)" : "",
				  (long long)n->age_ms, links);
	else
		mon_canvas_printf(c, 2, y + 1, MON_ST_NORMAL, "%s%s; links: %s",
				  mon_node_state_name(n->state), n->self ? " (this node)" : "", links);
	if (n->has_load) {
		mon_canvas_printf(c, 2, y + 2, MON_ST_NORMAL,
				  "load %.2f per CPU/speed; load average %.2f %.2f %.2f; CPU use %.0f%%",
				  mon_node_load(n), n->loadavg[0], n->loadavg[1], n->loadavg[2],
				  n->cpu_use * 100);
		mon_canvas_printf(c, 2, y + 3, MON_ST_NORMAL,
				  "%u CPU%s x speed %.2f; memory %s used of %s (%s available); runon %u",
				  n->ncpus, n->ncpus == 1 ? "" : "s", n->speed,
				  mon_fmt_bytes((uint64_t)used_mem(n), a, sizeof(a)),
				  mon_fmt_bytes(n->mem_total, b, sizeof(b)),
				  mon_fmt_bytes(n->mem_avail, d, sizeof(d)), n->runon_procs);
	} else {
		mon_canvas_text(c, 2, y + 2, w - 2, MON_ST_DIM, "no load vector from this node");
	}
	nh = mon_hist_get(&ui->hist, n->id, hv);
	for (size_t i = 0; i < nh; i++)
		hmax = hv[i] > hmax ? hv[i] : hmax;
	hmax = mon_scale_top(hmax, 1.0);
	mon_canvas_printf(c, 2, y + 4, MON_ST_DIM,
			  "load history: %zu sample%s, one per %.1f s, newest right, top %.1f", nh,
			  nh == 1 ? "" : "s", ui->delay_s, hmax);
	if (w - 2 > MON_HIST_LEN)
		w = MON_HIST_LEN + 2;
	mon_sparkline(hv, nh, hmax, 8, cells, w - 2);
	for (int i = 0; i < w - 2; i++)
		if (cells[i] >= 0)
			mon_canvas_set(c, 2 + i, y + 5, c->ascii ? (uint32_t)spark_ascii[cells[i]]
								 : spark[cells[i]],
				       cells[i] >= 6 ? MON_ST_HIGH : cells[i] >= 4 ? MON_ST_MID
										 : MON_ST_LOW);
}

void mon_draw_bars(struct mon_canvas *c, int y, int h, struct mon_ui *ui,
		   const struct mon_snapshot *s)
{
	const struct mon_node *shown[MON_MAX_NODES];
	int detail_h = ui->detail ? DETAIL_H : 0, bh = h - 4 - detail_h, by = y + 2;
	/* One cell on either side for the scroll marks (< and >). */
	int width = c->w - SCALE_W - 2, digits = 1, x0;
	size_t n = mon_shown_nodes(ui, s, shown, MON_MAX_NODES), sel = 0, vis, hidden;
	struct mon_columns cols;
	double vmax = 0, top;

	mon_canvas_text(c, 0, y, -1, MON_ST_DIM, legends[ui->view]);
	if (s->avail[MON_SRC_LOAD] != MON_AVAIL_OK)
		mon_draw_unavailable(c, 0, y, s, MON_SRC_LOAD, "load");
	if (ui->detail)
		draw_detail(c, y + h - DETAIL_H, ui, s);
	hidden = s->nnodes - n;
	if (n == 0) {
		mon_canvas_text(c, SCALE_W, by + bh / 2, -1, MON_ST_DIM,
				hidden ? "every node is dead and hidden: d shows them"
				       : "no nodes known (yet)");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		char tmp[16];
		int len = snprintf(tmp, sizeof(tmp), "%u", shown[i]->id);
		digits = len > digits ? len : digits;
		if (shown[i]->id == ui->sel_id)
			sel = i;
		if (shown[i]->state == MON_NODE_DEAD || !shown[i]->has_load)
			continue;
		double v = ui->view == MON_VIEW_MEM ? (double)shown[i]->mem_total
						    : value_of(ui->view, shown[i]);
		vmax = v > vmax ? v : vmax;
	}
	ui->sel_id = shown[sel]->id;
	mon_columns_fit(width, n, digits, &cols);
	ui->fit = cols.fit;
	ui->first = mon_window_first(ui->first, cols.fit, n, sel);
	if (ui->view == MON_VIEW_CPU)
		top = 100;
	else if (ui->view == MON_VIEW_MEM)
		top = vmax > 0 ? vmax : 1;
	else
		top = mon_scale_sticky(ui->top[ui->view], vmax, 1.0);
	ui->top[ui->view] = top;
	vis = n - ui->first < cols.fit ? n - ui->first : cols.fit;
	x0 = SCALE_W + 1 + (width - (int)vis * cols.col_w) / 2;
	draw_scale(c, by, bh, ui->view, top);
	for (size_t i = 0; i < vis; i++)
		draw_column(c, x0 + (int)i * cols.col_w, &cols, by, bh, top, ui, shown[ui->first + i]);
	if (ui->first > 0)
		mon_canvas_text(c, SCALE_W, by + bh, 1, MON_ST_KEY, "<");
	if (ui->first + vis < n)
		mon_canvas_text(c, c->w - 1, by + bh, 1, MON_ST_KEY, ">");
	if (vis < n || hidden) {
		char note[96] = "";
		int len = 0;
		if (vis < n)
			len = snprintf(note, sizeof(note), "  nodes %zu-%zu of %zu <- ->",
				       ui->first + 1, ui->first + vis, n);
		if (hidden)
			snprintf(note + len, sizeof(note) - (size_t)len, "  %zu dead hidden (d)", hidden);
		/* Over the end of the legend if need be: this is the more urgent line. */
		mon_canvas_text(c, c->w - (int)strlen(note), y, -1, MON_ST_WARN, note);
	}
}
