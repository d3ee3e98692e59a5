/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A grid of styled characters that hha-mon draws into; the terminal layer only copies it out. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "mon/canvas.h"

int mon_canvas_init(struct mon_canvas *c, int w, int h, bool ascii)
{
	struct mon_cell *cells;

	if (w < 0 || h < 0 || (w > 0 && h > 0 && (size_t)w > SIZE_MAX / sizeof(*cells) / (size_t)h))
		return -EINVAL;
	cells = calloc((size_t)w * (size_t)h + 1, sizeof(*cells));
	if (!cells)
		return -ENOMEM;
	free(c->cells);
	c->cells = cells;
	c->w = w;
	c->h = h;
	c->ascii = ascii;
	mon_canvas_clear(c);
	return 0;
}

void mon_canvas_free(struct mon_canvas *c)
{
	free(c->cells);
	c->cells = NULL;
	c->w = c->h = 0;
}

void mon_canvas_clear(struct mon_canvas *c)
{
	for (size_t i = 0; i < (size_t)c->w * (size_t)c->h; i++)
		c->cells[i] = (struct mon_cell){ ' ', MON_ST_NORMAL };
}

void mon_canvas_set(struct mon_canvas *c, int x, int y, uint32_t ch, enum mon_style st)
{
	if (x < 0 || y < 0 || x >= c->w || y >= c->h)
		return;
	if (c->ascii && ch > 0x7e)
		ch = '?';
	c->cells[(size_t)y * (size_t)c->w + (size_t)x] = (struct mon_cell){ ch, (uint8_t)st };
}

uint32_t mon_canvas_at(const struct mon_canvas *c, int x, int y)
{
	if (x < 0 || y < 0 || x >= c->w || y >= c->h)
		return 0;
	return c->cells[(size_t)y * (size_t)c->w + (size_t)x].ch;
}

void mon_canvas_fill(struct mon_canvas *c, int x, int y, int w, int h, uint32_t ch,
		     enum mon_style st)
{
	for (int j = y; j < y + h; j++)
		for (int i = x; i < x + w; i++)
			mon_canvas_set(c, i, j, ch, st);
}

void mon_canvas_style(struct mon_canvas *c, int x, int y, int w, int h, enum mon_style st)
{
	for (int j = y; j < y + h; j++)
		for (int i = x; i < x + w; i++)
			if (i >= 0 && j >= 0 && i < c->w && j < c->h)
				c->cells[(size_t)j * (size_t)c->w + (size_t)i].style = (uint8_t)st;
}

/* Decode one UTF-8 character at *s; advances *s. Returns the code point or U+FFFD. */
static uint32_t utf8_next(const char **s)
{
	const unsigned char *p = (const unsigned char *)*s;
	uint32_t cp;
	int more;

	if (p[0] < 0x80) {
		*s += 1;
		return p[0];
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		cp = p[0] & 0x1f;
		more = 1;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		cp = p[0] & 0x0f;
		more = 2;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		cp = p[0] & 0x07;
		more = 3;
	} else {
		*s += 1;
		return 0xfffd;
	}
	for (int i = 1; i <= more; i++) {
		if ((p[i] & 0xc0) != 0x80) {
			*s += (size_t)i;
			return 0xfffd;
		}
		cp = cp << 6 | (p[i] & 0x3f);
	}
	*s += (size_t)more + 1;
	/* Overlong forms, surrogates and beyond U+10FFFF are not characters. */
	if ((more == 2 && cp < 0x800) || (more == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0xfffd;
	return cp;
}

int mon_canvas_text(struct mon_canvas *c, int x, int y, int max, enum mon_style st,
		    const char *s)
{
	int n = 0;

	if (max < 0)
		max = c->w - x;
	while (*s && n < max) {
		uint32_t ch = utf8_next(&s);
		if (ch < 0x20 || ch == 0x7f || ch == 0xfffd ||
		    (ch > 0x7e && (c->ascii || wcwidth((wchar_t)ch) != 1)))
			ch = '?';
		mon_canvas_set(c, x + n, y, ch, st);
		n++;
	}
	return n;
}

int mon_canvas_printf(struct mon_canvas *c, int x, int y, enum mon_style st, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return mon_canvas_text(c, x, y, -1, st, buf);
}

void mon_canvas_box(struct mon_canvas *c, int x, int y, int w, int h, const char *title)
{
	bool a = c->ascii;

	if (w < 2 || h < 2)
		return;
	mon_canvas_fill(c, x, y, w, h, ' ', MON_ST_NORMAL);
	mon_canvas_fill(c, x + 1, y, w - 2, 1, a ? '-' : 0x2500, MON_ST_DIM);
	mon_canvas_fill(c, x + 1, y + h - 1, w - 2, 1, a ? '-' : 0x2500, MON_ST_DIM);
	mon_canvas_fill(c, x, y + 1, 1, h - 2, a ? '|' : 0x2502, MON_ST_DIM);
	mon_canvas_fill(c, x + w - 1, y + 1, 1, h - 2, a ? '|' : 0x2502, MON_ST_DIM);
	mon_canvas_set(c, x, y, a ? '+' : 0x250c, MON_ST_DIM);
	mon_canvas_set(c, x + w - 1, y, a ? '+' : 0x2510, MON_ST_DIM);
	mon_canvas_set(c, x, y + h - 1, a ? '+' : 0x2514, MON_ST_DIM);
	mon_canvas_set(c, x + w - 1, y + h - 1, a ? '+' : 0x2518, MON_ST_DIM);
	if (title && *title) {
		mon_canvas_set(c, x + 2, y, ' ', MON_ST_DIM);
		int n = mon_canvas_text(c, x + 3, y, w - 6, MON_ST_TITLE, title);
		mon_canvas_set(c, x + 3 + n, y, ' ', MON_ST_DIM);
	}
}

/* Append the UTF-8 form of @cp. */
static char *utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | (cp >> 12 & 0x3f));
		*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

char *mon_canvas_to_text(const struct mon_canvas *c)
{
	char *out = malloc((size_t)c->w * (size_t)c->h * 4 + (size_t)c->h + 1), *o = out;

	if (!out)
		return NULL;
	for (int y = 0; y < c->h; y++) {
		char *end = o;
		for (int x = 0; x < c->w; x++) {
			o = utf8_put(o, mon_canvas_at(c, x, y));
			if (mon_canvas_at(c, x, y) != ' ')
				end = o;
		}
		o = end;
		*o++ = '\n';
	}
	*o = '\0';
	return out;
}
