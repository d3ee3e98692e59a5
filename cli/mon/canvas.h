/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A grid of styled characters that hha-mon draws into; the terminal layer only copies it out. */
#ifndef HHA_MON_CANVAS_H
#define HHA_MON_CANVAS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/*
 * Drawing into a plain grid instead of straight into curses keeps every view
 * testable (render, then compare text) and lets the terminal layer decide
 * how a style looks: a colour pair, or bold/dim/reverse on a monochrome
 * terminal.
 */
enum mon_style {
	MON_ST_NORMAL = 0,
	MON_ST_TITLE,   /* the title bar */
	MON_ST_DIM,     /* scale, rules, secondary text */
	MON_ST_LOW,     /* a bar below half its scale */
	MON_ST_MID,     /* a bar in the upper half */
	MON_ST_HIGH,    /* a bar near or over the top */
	MON_ST_FREE,    /* hatched: free memory */
	MON_ST_LATE,    /* a node membership reports late */
	MON_ST_DEAD,    /* a dead node */
	MON_ST_SEL,     /* the selected node's label */
	MON_ST_BANNER,  /* lost connection */
	MON_ST_KEY,     /* key names in help and footer */
	MON_ST_GOOD,    /* UpToDate, Connected */
	MON_ST_WARN,    /* syncing, Outdated */
	MON_ST_BAD,     /* StandAlone, Inconsistent, failed */
	MON_ST_COUNT,
};

struct mon_cell {
	uint32_t ch;   /* a Unicode code point of display width 1 */
	uint8_t style;
};

struct mon_canvas {
	int w, h;
	bool ascii;    /* only ASCII may be drawn; other characters become '?' */
	struct mon_cell *cells;
};

/* Size (or resize) and clear the canvas. 0 or -ENOMEM. */
int mon_canvas_init(struct mon_canvas *c, int w, int h, bool ascii);
void mon_canvas_free(struct mon_canvas *c);
void mon_canvas_clear(struct mon_canvas *c);

/* Set one cell; outside the canvas is ignored. */
void mon_canvas_set(struct mon_canvas *c, int x, int y, uint32_t ch, enum mon_style st);
/* Fill a rectangle with one character. */
void mon_canvas_fill(struct mon_canvas *c, int x, int y, int w, int h, uint32_t ch,
		     enum mon_style st);
/* Restyle a rectangle, keeping its characters. */
void mon_canvas_style(struct mon_canvas *c, int x, int y, int w, int h, enum mon_style st);

/*
 * Write UTF-8 text at (x, y), at most @max cells (-1: to the edge). Invalid
 * UTF-8, control characters and characters that are not one cell wide (in
 * the current locale) are drawn as '?'. Returns the cells written.
 */
int mon_canvas_text(struct mon_canvas *c, int x, int y, int max, enum mon_style st,
		    const char *s);
/* printf-style mon_canvas_text() with no limit but the edge. */
int mon_canvas_printf(struct mon_canvas *c, int x, int y, enum mon_style st, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* A box drawn with line characters (or +-| in ASCII), its inside cleared. */
void mon_canvas_box(struct mon_canvas *c, int x, int y, int w, int h, const char *title);

/* The canvas as text: one line per row, UTF-8, trailing blanks dropped. Caller frees. */
char *mon_canvas_to_text(const struct mon_canvas *c);

/* The character at (x, y), or 0 outside. */
uint32_t mon_canvas_at(const struct mon_canvas *c, int x, int y);

#endif /* HHA_MON_CANVAS_H */
