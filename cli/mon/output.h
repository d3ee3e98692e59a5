/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon for scripts: one snapshot as text (--once) or as JSON (--json). */
#ifndef HHA_MON_OUTPUT_H
#define HHA_MON_OUTPUT_H

#include <stdio.h>

#include "mon/snapshot.h"

/* The snapshot as a table of nodes followed by replication, VIPs and groups. */
void mon_print_text(FILE *f, const struct mon_snapshot *s);

#endif /* HHA_MON_OUTPUT_H */
