/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-runon's parts shared between its files. */
#ifndef HHA_RUNON_H
#define HHA_RUNON_H

#include "common.h"

/* hha-runon's own failures follow env(1) and timeout(1). */
#define RUNON_EXIT_LAUNCH 125

/* --list: the candidate nodes and their loads. Returns the exit code. */
int runon_list(struct hha_cli *cli, uint64_t mem_bytes);

#endif /* HHA_RUNON_H */
