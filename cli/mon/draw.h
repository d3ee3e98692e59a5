/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon's views, each drawn into a band of rows of the canvas (internal to hha-mon). */
#ifndef HHA_MON_DRAW_H
#define HHA_MON_DRAW_H

#include "mon/ui.h"

/* The bar views (load, memory, CPU use, speed) in rows [y, y + h), with the detail panel. */
void mon_draw_bars(struct mon_canvas *c, int y, int h, struct mon_ui *ui,
		   const struct mon_snapshot *s);
/* The replication table. */
void mon_draw_repl(struct mon_canvas *c, int y, int h, struct mon_ui *ui,
		   const struct mon_snapshot *s);
/* Virtual addresses and resource groups. */
void mon_draw_vips(struct mon_canvas *c, int y, int h, struct mon_ui *ui,
		   const struct mon_snapshot *s);

/* The nodes the bar views show, in id order; returns how many (pointers into @s). */
size_t mon_shown_nodes(const struct mon_ui *ui, const struct mon_snapshot *s,
		       const struct mon_node **out, size_t max);

/* "not available (why)" for a source that did not answer, in one line. */
void mon_draw_unavailable(struct mon_canvas *c, int x, int y, const struct mon_snapshot *s,
			  enum mon_source src, const char *what);

#endif /* HHA_MON_DRAW_H */
