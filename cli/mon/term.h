/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon's terminal: ncursesw set-up and restore, copying a canvas out, reading keys. */
#ifndef HHA_MON_TERM_H
#define HHA_MON_TERM_H

#include <stdbool.h>

#include "mon/canvas.h"

/* Enter the full-screen mode. @color: use colours when the terminal has them. 0 or -1. */
int mon_term_open(bool color);
/* Leave it and restore the terminal; safe to call twice and from atexit(). */
void mon_term_close(void);
/* The terminal's current size. */
void mon_term_size(int *w, int *h);
/* Show the canvas (only what changed goes to the terminal). */
void mon_term_show(const struct mon_canvas *c);
/*
 * The next key as a character or enum mon_key, 0 for a resize (the caller
 * redraws at the new size), -2 for a key hha-mon does not use, or -1 when
 * none is waiting.
 */
int mon_term_key(void);

#endif /* HHA_MON_TERM_H */
