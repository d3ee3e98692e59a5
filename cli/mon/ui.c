/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon's screen state (view, selection, toggles), its keys, and drawing a whole frame. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mon/draw.h"

static const struct {
	int key;
	const char *title;
} views[MON_VIEW_COUNT] = {
	[MON_VIEW_LOAD] = { 'l', "Load" },
	[MON_VIEW_MEM] = { 'm', "Memory" },
	[MON_VIEW_CPU] = { 'u', "CPU utilisation" },
	[MON_VIEW_SPEED] = { 's', "CPUs and speed" },
	[MON_VIEW_REPL] = { 'r', "Replication" },
	[MON_VIEW_VIP] = { 'v', "VIPs and resource groups" },
};

/* The key list, for the help box and (the short words) for the footer. */
static const struct {
	const char *keys, *word, *help;
} keyhelp[] = {
	{ "q", "quit", "quit (Ctrl-C too)" },
	{ "h ?", "help", "this help (any key closes it)" },
	{ "l", "load", "load: work per CPU divided by CPU speed" },
	{ "m", "mem", "memory: used solid, available hatched" },
	{ "u", "cpu", "CPU utilisation in %" },
	{ "s", "speed", "number of CPUs x relative speed" },
	{ "r", "repl", "replication: roles, states, sync progress" },
	{ "v", "vip", "who holds each VIP and resource group" },
	{ "d", "dead", "show or hide dead nodes" },
	{ "t", "totals", "header with nodes up and CPUs" },
	{ "Enter", "detail", "detail panel of the selected node, load history" },
	{ "<- -> + -", NULL, "select a node; scrolls when nodes do not fit" },
	{ "Up Down", NULL, "scroll the replication and VIP tables" },
};

const char *mon_view_title(enum mon_view v)
{
	return (unsigned)v < MON_VIEW_COUNT ? views[v].title : "?";
}

void mon_ui_init(struct mon_ui *ui, double delay_s)
{
	memset(ui, 0, sizeof(*ui));
	ui->view = MON_VIEW_LOAD;
	ui->show_dead = true;
	ui->delay_s = delay_s;
}

void mon_ui_free(struct mon_ui *ui)
{
	mon_hists_free(&ui->hist);
}

bool mon_ui_node_shown(const struct mon_ui *ui, const struct mon_node *n)
{
	return ui->show_dead || n->state != MON_NODE_DEAD;
}

/* Keep a selected node that is shown: the same one if possible, else this node, else the first. */
static void fix_selection(struct mon_ui *ui, const struct mon_snapshot *s)
{
	const struct mon_node *n = mon_snapshot_node(s, ui->sel_id);

	if (n && mon_ui_node_shown(ui, n))
		return;
	ui->sel_id = 0;
	for (size_t i = 0; i < s->nnodes; i++) {
		if (!mon_ui_node_shown(ui, &s->nodes[i]))
			continue;
		if (!ui->sel_id || s->nodes[i].self)
			ui->sel_id = s->nodes[i].id;
		if (s->nodes[i].self)
			break;
	}
}

void mon_ui_update(struct mon_ui *ui, const struct mon_snapshot *s)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].has_load && s->nodes[i].state != MON_NODE_DEAD)
			mon_hist_push(&ui->hist, s->nodes[i].id, mon_node_load(&s->nodes[i]));
	fix_selection(ui, s);
}

/* Move the selection by @delta shown nodes (clamped at both ends). */
static void select_by(struct mon_ui *ui, const struct mon_snapshot *s, long delta)
{
	const struct mon_node *shown[MON_MAX_NODES];
	size_t n = mon_shown_nodes(ui, s, shown, MON_MAX_NODES);
	long at = 0;

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (shown[i]->id == ui->sel_id)
			at = (long)i;
	at += delta;
	if (at < 0)
		at = 0;
	if (at >= (long)n)
		at = (long)n - 1;
	ui->sel_id = shown[at]->id;
}

bool mon_ui_key(struct mon_ui *ui, const struct mon_snapshot *s, int key)
{
	long page = ui->fit > 1 ? (long)ui->fit : 1;
	bool table = ui->view == MON_VIEW_REPL || ui->view == MON_VIEW_VIP;

	if (key == 'q' || key == 'Q')
		return false;
	if (ui->help) {
		ui->help = false;
		return true;
	}
	for (int v = 0; v < MON_VIEW_COUNT; v++) {
		if (key == views[v].key) {
			if (ui->view != (enum mon_view)v)
				ui->row_first = 0;
			ui->view = (enum mon_view)v;
			return true;
		}
	}
	switch (key) {
	case 'd':
		ui->show_dead = !ui->show_dead;
		fix_selection(ui, s);
		break;
	case 't':
		ui->totals = !ui->totals;
		break;
	case 'h':
	case '?':
		ui->help = true;
		break;
	case MON_KEY_ENTER:
		ui->detail = !ui->detail;
		break;
	case MON_KEY_ESC:
		ui->detail = false;
		break;
	case MON_KEY_LEFT:
	case '-':
		select_by(ui, s, -1);
		break;
	case MON_KEY_RIGHT:
	case '+':
	case '=': /* + without shift on most keyboards */
		select_by(ui, s, 1);
		break;
	case MON_KEY_HOME:
		select_by(ui, s, -MON_MAX_NODES);
		ui->row_first = 0;
		break;
	case MON_KEY_END:
		select_by(ui, s, MON_MAX_NODES);
		ui->row_first = (size_t)-1 / 2; /* clamped when drawn */
		break;
	case MON_KEY_PGUP:
		if (table)
			ui->row_first = ui->row_first > ui->rows_fit ? ui->row_first - ui->rows_fit : 0;
		else
			select_by(ui, s, -page);
		break;
	case MON_KEY_PGDN:
		if (table)
			ui->row_first += ui->rows_fit;
		else
			select_by(ui, s, page);
		break;
	case MON_KEY_UP:
		if (ui->row_first > 0)
			ui->row_first--;
		break;
	case MON_KEY_DOWN:
		ui->row_first++;
		break;
	default:
		break;
	}
	return true;
}

static void draw_title(struct mon_canvas *c, const struct mon_ui *ui, const struct mon_snapshot *s)
{
	char right[96], clock[16] = "";
	time_t t = (time_t)(ui->now_ms / 1000);
	struct tm tm;

	if (ui->now_ms > 0 && localtime_r(&t, &tm))
		strftime(clock, sizeof(clock), "%H:%M:%S", &tm);
	mon_canvas_fill(c, 0, 0, c->w, 1, ' ', MON_ST_TITLE);
	mon_canvas_printf(c, 1, 0, MON_ST_TITLE, "hha-mon  %s", mon_view_title(ui->view));
	snprintf(right, sizeof(right), "%s%s  %s ", s->self_name[0] ? "on " : "", s->self_name, clock);
	mon_canvas_text(c, c->w - (int)strlen(right), 0, -1, MON_ST_TITLE, right);
}

/* Two lines: what happens (always fits), then why (may be cut on the right). */
static void draw_banner(struct mon_canvas *c, int y, const struct mon_ui *ui,
			const struct mon_snapshot *s)
{
	char age[48];

	snprintf(age, sizeof(age), "%s", s->nnodes || s->nres ? "figures below are old"
							: "nothing to show yet");
	if (s->time_ms > 0 && ui->now_ms >= s->time_ms)
		snprintf(age, sizeof(age), "figures below are %lld s old",
			 (long long)((ui->now_ms - s->time_ms) / 1000));
	mon_canvas_fill(c, 0, y, c->w, 2, ' ', MON_ST_BANNER);
	mon_canvas_printf(c, 1, y, MON_ST_BANNER, "LOST CONNECTION TO hhad, retrying (attempt %u); %s",
			  ui->attempts, age);
	mon_canvas_text(c, 1, y + 1, c->w - 2, MON_ST_BANNER, ui->lost_why);
}

static void draw_totals(struct mon_canvas *c, int y, const struct mon_ui *ui,
			const struct mon_snapshot *s)
{
	struct mon_totals t;
	int x;

	mon_snapshot_totals(s, &t);
	x = 1 + mon_canvas_printf(c, 1, y, MON_ST_KEY, "%u node%s up / %u CPU%s", t.up,
				  t.up == 1 ? "" : "s", t.cpus, t.cpus == 1 ? "" : "s");
	x += 3 + mon_canvas_printf(c, x + 3, y, t.late ? MON_ST_LATE : MON_ST_DIM, "%u late", t.late);
	x += 2 + mon_canvas_printf(c, x + 2, y, t.dead ? MON_ST_DEAD : MON_ST_DIM, "%u dead", t.dead);
	mon_canvas_printf(c, x + 2, y, MON_ST_DIM, "(%u known)   refresh every %g s", t.nodes,
			  ui->delay_s);
}

/* The keys that fit on the bottom line, most needed first ("q:quit h:help l:load ..."). */
static void draw_footer(struct mon_canvas *c)
{
	int x = 0;

	mon_canvas_fill(c, 0, c->h - 1, c->w, 1, ' ', MON_ST_DIM);
	for (size_t i = 0; i < sizeof(keyhelp) / sizeof(keyhelp[0]) && keyhelp[i].word; i++) {
		const char *k = keyhelp[i].keys;
		int klen = (int)strcspn(k, " ");
		if (x + klen + 1 + (int)strlen(keyhelp[i].word) > c->w)
			break;
		x += mon_canvas_text(c, x, c->h - 1, klen, MON_ST_KEY, k);
		x += mon_canvas_text(c, x, c->h - 1, -1, MON_ST_DIM, ":");
		x += mon_canvas_text(c, x, c->h - 1, -1, MON_ST_DIM, keyhelp[i].word) + 1;
	}
}

static void draw_help(struct mon_canvas *c)
{
	int n = (int)(sizeof(keyhelp) / sizeof(keyhelp[0])), w = 64, h = n + 4;
	int x = (c->w - w) / 2, y = (c->h - h) / 2;

	mon_canvas_box(c, x, y, w, h, "hha-mon keys");
	for (int i = 0; i < n; i++) {
		mon_canvas_text(c, x + 2, y + 2 + i, 11, MON_ST_KEY, keyhelp[i].keys);
		mon_canvas_text(c, x + 14, y + 2 + i, w - 16, MON_ST_NORMAL, keyhelp[i].help);
	}
}

static void draw_too_small(struct mon_canvas *c)
{
	static const char l3[] = "enlarge it, or press q to quit";
	char l1[64], l2[64];

	snprintf(l1, sizeof(l1), "hha-mon needs at least %dx%d", MON_MIN_COLS, MON_MIN_ROWS);
	snprintf(l2, sizeof(l2), "this terminal is %dx%d", c->w, c->h);
	mon_canvas_text(c, (c->w - (int)strlen(l1)) / 2, c->h / 2 - 1, -1, MON_ST_WARN, l1);
	mon_canvas_text(c, (c->w - (int)strlen(l2)) / 2, c->h / 2, -1, MON_ST_WARN, l2);
	mon_canvas_text(c, (c->w - (int)strlen(l3)) / 2, c->h / 2 + 1, -1, MON_ST_DIM, l3);
}

void mon_draw(struct mon_canvas *c, struct mon_ui *ui, const struct mon_snapshot *s)
{
	int y = 1;

	mon_canvas_clear(c);
	if (c->w < MON_MIN_COLS || c->h < MON_MIN_ROWS) {
		draw_too_small(c);
		return;
	}
	draw_title(c, ui, s);
	if (ui->lost) {
		draw_banner(c, y, ui, s);
		y += 2;
	}
	if (ui->totals)
		draw_totals(c, y++, ui, s);
	switch (ui->view) {
	case MON_VIEW_REPL:
		mon_draw_repl(c, y + 1, c->h - 2 - y, ui, s);
		break;
	case MON_VIEW_VIP:
		mon_draw_vips(c, y + 1, c->h - 2 - y, ui, s);
		break;
	default:
		mon_draw_bars(c, y, c->h - 1 - y, ui, s);
		break;
	}
	draw_footer(c);
	if (ui->help)
		draw_help(c);
}
