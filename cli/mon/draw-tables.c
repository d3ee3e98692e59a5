/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon's table views: replication per resource, and who holds each VIP and resource group. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "mon/draw.h"

/*
 * A scrolled list of rows: each table row asks for its screen row, which is
 * -1 when the row is scrolled out of the band (or when only counting).
 */
struct rows {
	struct mon_canvas *c; /* NULL: count only */
	int y, h;
	size_t first, n;
};

static int next_row(struct rows *r)
{
	size_t i = r->n++;

	if (!r->c || i < r->first || i >= r->first + (size_t)r->h)
		return -1;
	return r->y + (int)(i - r->first);
}

/* Draw rows twice: once to count them (to clamp the scrolling), once for real. */
static void scrolled(struct mon_canvas *c, int y, int h, struct mon_ui *ui,
		     const struct mon_snapshot *s, void (*fn)(struct rows *, const struct mon_snapshot *))
{
	struct rows count = { NULL, 0, h, 0, 0 }, r;

	fn(&count, s);
	ui->rows_fit = h > 0 ? (size_t)h : 0;
	if (count.n <= ui->rows_fit)
		ui->row_first = 0;
	else if (ui->row_first > count.n - ui->rows_fit)
		ui->row_first = count.n - ui->rows_fit;
	r = (struct rows){ c, y, h, ui->row_first, 0 };
	fn(&r, s);
	if (ui->row_first > 0)
		mon_canvas_text(c, c->w - 12, y, -1, MON_ST_KEY, "^ more (up)");
	if (ui->row_first + ui->rows_fit < count.n)
		mon_canvas_text(c, c->w - 14, y + h - 1, -1, MON_ST_KEY, "v more (down)");
}

static enum mon_style conn_style(const char *cs)
{
	if (strcmp(cs, "Connected") == 0)
		return MON_ST_GOOD;
	if (strncmp(cs, "Sync", 4) == 0 || strncmp(cs, "WF", 2) == 0)
		return MON_ST_WARN;
	return cs[0] ? MON_ST_BAD : MON_ST_DIM;
}

static enum mon_style disk_style(const char *ds)
{
	if (strcmp(ds, "UpToDate") == 0)
		return MON_ST_GOOD;
	if (strcmp(ds, "Inconsistent") == 0 || strcmp(ds, "Outdated") == 0)
		return MON_ST_WARN;
	return ds[0] ? MON_ST_BAD : MON_ST_DIM;
}

static const char *or_unknown(const char *s)
{
	return s[0] ? s : "?";
}

/* "[#######.......]" of @w cells for @pct. */
static void progress(struct mon_canvas *c, int x, int y, int w, double pct)
{
	int inner = w - 2, done = (int)(pct / 100.0 * inner + 0.5);

	mon_canvas_set(c, x, y, '[', MON_ST_DIM);
	mon_canvas_fill(c, x + 1, y, done, 1, c->ascii ? '#' : 0x2588, MON_ST_GOOD);
	mon_canvas_fill(c, x + 1 + done, y, inner - done, 1, c->ascii ? '.' : 0x2591, MON_ST_DIM);
	mon_canvas_set(c, x + w - 1, y, ']', MON_ST_DIM);
}

static void repl_rows(struct rows *r, const struct mon_snapshot *s)
{
	for (size_t i = 0; i < s->nres; i++) {
		const struct mon_resource *res = &s->res[i];
		char a[16], b[16], d[16], line[128];
		int y = next_row(r), x;

		if (y >= 0) {
			mon_canvas_text(r->c, 0, y, 16, MON_ST_KEY, res->name);
			mon_canvas_printf(r->c, 17, y, MON_ST_NORMAL, "%s/%s", or_unknown(res->role),
					  or_unknown(res->peer_role));
			mon_canvas_text(r->c, 38, y, 14, conn_style(res->cstate), or_unknown(res->cstate));
			x = 53 + mon_canvas_text(r->c, 53, y, 13, disk_style(res->disk),
						 or_unknown(res->disk));
			x += mon_canvas_text(r->c, x, y, 1, MON_ST_NORMAL, "/");
			mon_canvas_text(r->c, x, y, -1, disk_style(res->peer_disk),
					or_unknown(res->peer_disk));
		}
		y = next_row(r);
		if (y < 0)
			continue;
		mon_fmt_bytes(res->oos_bytes > 0 ? (uint64_t)res->oos_bytes : 0, a, sizeof(a));
		if (res->sync_pct >= 0) {
			progress(r->c, 2, y, 24, res->sync_pct);
			snprintf(line, sizeof(line), "%5.1f%%  %s/s  ETA %s  out of sync %s",
				 res->sync_pct,
				 res->speed_bps >= 0 ? mon_fmt_bytes((uint64_t)res->speed_bps, b, sizeof(b))
						     : "?",
				 mon_fmt_duration(res->eta_s, d, sizeof(d)), res->oos_bytes >= 0 ? a : "?");
			mon_canvas_text(r->c, 27, y, -1, MON_ST_WARN, line);
		} else if (res->oos_bytes > 0) {
			mon_canvas_printf(r->c, 2, y, MON_ST_WARN, "out of sync %s (not syncing)", a);
		} else {
			mon_canvas_text(r->c, 2, y, -1, MON_ST_DIM,
					res->oos_bytes == 0 ? "in sync, nothing out of sync" : "no sync");
		}
	}
}

void mon_draw_repl(struct mon_canvas *c, int y, int h, struct mon_ui *ui,
		   const struct mon_snapshot *s)
{
	if (s->avail[MON_SRC_DISK] != MON_AVAIL_OK) {
		mon_draw_unavailable(c, 0, y + 1, s, MON_SRC_DISK, "replication");
		return;
	}
	if (s->nres == 0) {
		mon_canvas_text(c, 0, y + 1, -1, MON_ST_DIM, "no replicated resources configured");
		return;
	}
	mon_canvas_printf(c, 0, y, MON_ST_DIM, "%-16s %-20s %-14s %s", "RESOURCE", "ROLE/PEER",
			  "CONNECTION", "DISK/PEER");
	scrolled(c, y + 1, h - 1, ui, s, repl_rows);
}

static void vip_rows(struct rows *r, const struct mon_snapshot *s)
{
	int y = next_row(r), x;

	if (y >= 0)
		mon_canvas_text(r->c, 0, y, -1, MON_ST_KEY, "Virtual addresses");
	if (s->avail[MON_SRC_VIPS] != MON_AVAIL_OK) {
		if ((y = next_row(r)) >= 0)
			mon_draw_unavailable(r->c, 2, y, s, MON_SRC_VIPS, "virtual addresses");
	} else if (s->nvips == 0) {
		if ((y = next_row(r)) >= 0)
			mon_canvas_text(r->c, 2, y, -1, MON_ST_DIM, "no virtual addresses");
	} else {
		if ((y = next_row(r)) >= 0)
			mon_canvas_printf(r->c, 2, y, MON_ST_DIM, "%-40s %-10s %s", "ADDRESS", "DEVICE",
					  "HELD BY");
		for (size_t i = 0; i < s->nvips; i++) {
			const struct mon_vip *v = &s->vips[i];
			if ((y = next_row(r)) < 0)
				continue;
			mon_canvas_text(r->c, 2, y, 40, MON_ST_NORMAL, v->addr);
			mon_canvas_text(r->c, 43, y, 10, MON_ST_NORMAL, v->dev[0] ? v->dev : "-");
			if (v->holder[0])
				x = mon_canvas_text(r->c, 54, y, 12, MON_ST_GOOD, v->holder);
			else if (v->holder_id)
				x = mon_canvas_printf(r->c, 54, y, MON_ST_GOOD, "node %u", v->holder_id);
			else
				x = mon_canvas_text(r->c, 54, y, -1, MON_ST_BAD, "nobody");
			if (v->note[0])
				mon_canvas_printf(r->c, 55 + x, y, MON_ST_WARN, "(%s)", v->note);
		}
	}
	next_row(r);
	if ((y = next_row(r)) >= 0)
		mon_canvas_text(r->c, 0, y, -1, MON_ST_KEY, "Resource groups");
	if (s->avail[MON_SRC_GROUPS] == MON_AVAIL_ERROR || s->avail[MON_SRC_GROUPS] == MON_AVAIL_NONE) {
		if ((y = next_row(r)) >= 0)
			mon_draw_unavailable(r->c, 2, y, s, MON_SRC_GROUPS, "resource groups");
	} else if (s->ngroups == 0) {
		/* No failover manager in this hhad is the same as none configured. */
		if ((y = next_row(r)) >= 0)
			mon_canvas_text(r->c, 2, y, -1, MON_ST_DIM, "no groups configured");
	} else {
		if ((y = next_row(r)) >= 0)
			mon_canvas_printf(r->c, 2, y, MON_ST_DIM, "%-30s %-14s %s", "GROUP", "STATE",
					  "ON NODE");
		for (size_t i = 0; i < s->ngroups; i++) {
			const struct mon_group *g = &s->groups[i];
			if ((y = next_row(r)) < 0)
				continue;
			mon_canvas_text(r->c, 2, y, 30, MON_ST_NORMAL, g->name);
			mon_canvas_text(r->c, 33, y, 14, MON_ST_NORMAL, or_unknown(g->state));
			mon_canvas_text(r->c, 48, y, -1, g->node[0] ? MON_ST_GOOD : MON_ST_BAD,
					g->node[0] ? g->node : "nowhere");
		}
	}
}

void mon_draw_vips(struct mon_canvas *c, int y, int h, struct mon_ui *ui,
		   const struct mon_snapshot *s)
{
	scrolled(c, y, h, ui, s, vip_rows);
}

void mon_draw_unavailable(struct mon_canvas *c, int x, int y, const struct mon_snapshot *s,
			  enum mon_source src, const char *what)
{
	const char *verb = mon_source_verb(src);

	mon_canvas_fill(c, x, y, c->w - x, 1, ' ', MON_ST_NORMAL);
	if (s->avail[src] == MON_AVAIL_NONE)
		mon_canvas_printf(c, x, y, MON_ST_WARN, "%s: not available yet (no answer from hhad)",
				  what);
	else if (s->avail[src] == MON_AVAIL_MISSING)
		mon_canvas_printf(c, x, y, MON_ST_WARN,
				  "%s: not available (this hhad has no `%s': module not configured or older hhad)",
				  what, verb);
	else
		mon_canvas_printf(c, x, y, MON_ST_BAD, "%s: not available (%s: %s)", what, verb,
				  s->why[src]);
}
