/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon's terminal: ncursesw set-up and restore, copying a canvas out, reading keys. */
#include "config.h"

#define NCURSES_WIDECHAR 1
#include <curses.h>
#include <stdio.h>
#include <wchar.h>

#include "mon/term.h"
#include "mon/ui.h"

/* What each style looks like: a colour pair with attributes, or attributes alone. */
static const struct {
	short fg, bg;
	attr_t color_attr, mono_attr;
} looks[MON_ST_COUNT] = {
	[MON_ST_NORMAL] = { -1, -1, A_NORMAL, A_NORMAL },
	[MON_ST_TITLE] = { COLOR_BLACK, COLOR_CYAN, A_NORMAL, A_REVERSE },
	[MON_ST_DIM] = { -1, -1, A_DIM, A_DIM },
	[MON_ST_LOW] = { COLOR_GREEN, -1, A_NORMAL, A_NORMAL },
	[MON_ST_MID] = { COLOR_YELLOW, -1, A_NORMAL, A_NORMAL },
	[MON_ST_HIGH] = { COLOR_RED, -1, A_BOLD, A_BOLD },
	[MON_ST_FREE] = { COLOR_CYAN, -1, A_NORMAL, A_DIM },
	[MON_ST_LATE] = { COLOR_YELLOW, -1, A_BOLD, A_BOLD | A_UNDERLINE },
	[MON_ST_DEAD] = { COLOR_MAGENTA, -1, A_BOLD, A_BOLD },
	[MON_ST_SEL] = { -1, -1, A_REVERSE, A_REVERSE },
	[MON_ST_BANNER] = { COLOR_WHITE, COLOR_RED, A_BOLD, A_REVERSE | A_BOLD },
	[MON_ST_KEY] = { COLOR_CYAN, -1, A_BOLD, A_BOLD },
	[MON_ST_GOOD] = { COLOR_GREEN, -1, A_NORMAL, A_NORMAL },
	[MON_ST_WARN] = { COLOR_YELLOW, -1, A_NORMAL, A_BOLD },
	[MON_ST_BAD] = { COLOR_RED, -1, A_BOLD, A_BOLD | A_UNDERLINE },
};

/* curses is one global screen anyway; keeping its handle here lets atexit() restore it. */
static SCREEN *screen;
static bool colors;

int mon_term_open(bool color)
{
	if (screen)
		return 0;
	/* newterm, not initscr: initscr exits the program when the terminal is unusable. */
	screen = newterm(NULL, stdout, stdin);
	if (!screen)
		return -1;
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	set_escdelay(25);
	curs_set(0);
	colors = color && has_colors() && start_color() == OK;
	if (colors) {
		use_default_colors();
		for (int i = 1; i < MON_ST_COUNT && i < COLOR_PAIRS; i++)
			init_pair((short)i, looks[i].fg, looks[i].bg);
	}
	return 0;
}

void mon_term_close(void)
{
	if (!screen)
		return;
	if (!isendwin())
		endwin();
	delscreen(screen);
	screen = NULL;
}

void mon_term_size(int *w, int *h)
{
	getmaxyx(stdscr, *h, *w);
}

void mon_term_show(const struct mon_canvas *c)
{
	int tw, th;

	getmaxyx(stdscr, th, tw);
	for (int y = 0; y < c->h && y < th; y++) {
		for (int x = 0; x < c->w && x < tw; x++) {
			const struct mon_cell *cell = &c->cells[(size_t)y * (size_t)c->w + (size_t)x];
			int st = cell->style < MON_ST_COUNT ? cell->style : MON_ST_NORMAL;
			wchar_t wc[2] = { (wchar_t)cell->ch, 0 };
			cchar_t cc;
			setcchar(&cc, wc, colors ? looks[st].color_attr : looks[st].mono_attr,
				 colors ? (short)st : 0, NULL);
			/* The last cell of the screen "fails" (the cursor cannot advance): harmless. */
			mvadd_wch(y, x, &cc);
		}
	}
	wnoutrefresh(stdscr);
	doupdate();
}

int mon_term_key(void)
{
	wint_t wc;
	int r = wget_wch(stdscr, &wc);

	if (r == ERR)
		return -1;
	if (r == KEY_CODE_YES) {
		switch (wc) {
		case KEY_RESIZE:
			return 0;
		case KEY_LEFT:
			return MON_KEY_LEFT;
		case KEY_RIGHT:
			return MON_KEY_RIGHT;
		case KEY_UP:
			return MON_KEY_UP;
		case KEY_DOWN:
			return MON_KEY_DOWN;
		case KEY_HOME:
			return MON_KEY_HOME;
		case KEY_END:
			return MON_KEY_END;
		case KEY_PPAGE:
			return MON_KEY_PGUP;
		case KEY_NPAGE:
			return MON_KEY_PGDN;
		case KEY_ENTER:
			return MON_KEY_ENTER;
		default:
			return -2; /* a key we do not use: ignored */
		}
	}
	if (wc == '\n' || wc == '\r')
		return MON_KEY_ENTER;
	if (wc == 27)
		return MON_KEY_ESC;
	return (int)wc;
}
