/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Load-aware placement: the least loaded node per CPU and speed, random among near-equals. */
#include "config.h"

#include <math.h>
#include <stdlib.h>

#include <hybridha/load.h>

#include "core/internal.h"

#define DEFAULT_MARGIN 0.1

static uint32_t default_rand(void *ud)
{
	return (uint32_t)random();
}

/* Place one copy: returns the index of the chosen node, or -1. */
static long place_one(struct hha_place_node *nodes, size_t n, uint64_t mem, double margin,
		      uint32_t (*rnd)(void *), void *ud)
{
	double best = INFINITY;
	size_t equals = 0, pick;

	for (size_t i = 0; i < n; i++) {
		double s;
		if (!nodes[i].up || nodes[i].load.mem_avail < mem)
			continue;
		s = hha_load_score(&nodes[i].load, nodes[i].pending);
		if (s < best)
			best = s;
	}
	if (best == INFINITY)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (nodes[i].up && nodes[i].load.mem_avail >= mem &&
		    hha_load_score(&nodes[i].load, nodes[i].pending) <= best + margin)
			equals++;
	pick = equals > 1 ? rnd(ud) % equals : 0;
	for (size_t i = 0; i < n; i++) {
		if (!nodes[i].up || nodes[i].load.mem_avail < mem ||
		    hha_load_score(&nodes[i].load, nodes[i].pending) > best + margin)
			continue;
		if (pick-- == 0)
			return (long)i;
	}
	return -1;
}

HHA_EXPORT int hha_place(struct hha_place_node *nodes, size_t n, const struct hha_place_opts *opts,
			 size_t count, unsigned *chosen)
{
	uint32_t (*rnd)(void *) = opts && opts->rand ? opts->rand : default_rand;
	void *ud = opts ? opts->userdata : NULL;
	double margin = opts && opts->margin > 0 ? opts->margin : DEFAULT_MARGIN;
	uint64_t mem = opts ? opts->mem_bytes : 0;

	if ((n > 0 && !nodes) || (count > 0 && !chosen))
		return hha_error(-EINVAL, __func__, "no nodes or nowhere to put the choice");
	if (place_one(nodes, n, mem, margin, rnd, ud) < 0)
		return hha_error(-ENOENT, __func__, "no node is up with %llu MiB available",
				 (unsigned long long)(mem >> 20));
	for (size_t c = 0; c < count; c++) {
		long i = place_one(nodes, n, mem, margin, rnd, ud);
		nodes[i].pending++;
		chosen[c] = nodes[i].id;
	}
	return 0;
}
