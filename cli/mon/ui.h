/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon's screen state (view, selection, toggles), its keys, and drawing a whole frame. */
#ifndef HHA_MON_UI_H
#define HHA_MON_UI_H

#include <stdbool.h>
#include <stdint.h>

#include "mon/canvas.h"
#include "mon/layout.h"
#include "mon/snapshot.h"

/* The smallest terminal hha-mon draws in; smaller ones get a message. */
#define MON_MIN_COLS 80
#define MON_MIN_ROWS 24

enum mon_view {
	MON_VIEW_LOAD,  /* l */
	MON_VIEW_MEM,   /* m */
	MON_VIEW_CPU,   /* u */
	MON_VIEW_SPEED, /* s */
	MON_VIEW_REPL,  /* r */
	MON_VIEW_VIP,   /* v */
	MON_VIEW_COUNT,
};

/* Keys beyond characters, mapped from the terminal's by the caller. */
enum mon_key {
	MON_KEY_LEFT = 0x110000,
	MON_KEY_RIGHT,
	MON_KEY_UP,
	MON_KEY_DOWN,
	MON_KEY_HOME,
	MON_KEY_END,
	MON_KEY_PGUP,
	MON_KEY_PGDN,
	MON_KEY_ENTER,
	MON_KEY_ESC,
};

struct mon_ui {
	enum mon_view view;
	bool show_dead;     /* d: dead nodes drawn (as dead), or hidden with a note */
	bool totals;        /* t: the "N nodes up / M CPUs" header */
	bool help;          /* h, ?: the key list */
	bool detail;        /* Enter: the selected node's panel */
	unsigned sel_id;    /* selected node (by id, so it survives nodes coming and going) */
	size_t first;       /* first node column shown */
	size_t row_first;   /* first table row shown (r, v) */
	size_t fit;         /* node columns that fitted in the last frame */
	size_t rows_fit;    /* table rows that fitted in the last frame */
	double top[MON_VIEW_COUNT]; /* each bar view's scale, kept between frames */
	double delay_s;     /* refresh interval, for the help and the sparkline legend */
	struct mon_hists hist;      /* load history per node */
	/* Set by the caller before each frame. */
	int64_t now_ms;     /* wall clock, for the title */
	bool lost;          /* hhad not reachable: banner */
	char lost_why[160];
	unsigned attempts;  /* reconnection attempts so far */
};

void mon_ui_init(struct mon_ui *ui, double delay_s);
void mon_ui_free(struct mon_ui *ui);

/* A new snapshot arrived: record each node's load in its history, keep the selection valid. */
void mon_ui_update(struct mon_ui *ui, const struct mon_snapshot *s);

/* Handle a key (a character or enum mon_key). Returns false when it asks to quit. */
bool mon_ui_key(struct mon_ui *ui, const struct mon_snapshot *s, int key);

/* Draw a whole frame for the canvas's size (a message when it is below 80x24). */
void mon_draw(struct mon_canvas *c, struct mon_ui *ui, const struct mon_snapshot *s);

/* The view's title as the screen shows it. */
const char *mon_view_title(enum mon_view v);

/* Whether node @n is drawn in the bar views with these settings. */
bool mon_ui_node_shown(const struct mon_ui *ui, const struct mon_node *n);

#endif /* HHA_MON_UI_H */
