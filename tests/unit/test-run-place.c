/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: load-aware placement (table-driven). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <hybridha/load.h>

#define GIB (1ull << 30)
#define MAXN 4
#define MAXC 6

struct node_row {
	unsigned id;
	bool up;
	double load1, cpu_use;
	unsigned ncpus;
	double speed;
	uint64_t avail;
};

struct place_case {
	const char *what;
	struct node_row nodes[MAXN];
	size_t n;
	uint64_t mem;
	size_t count;
	uint32_t rnd; /* what the random source returns */
	int expect;
	unsigned chosen[MAXC];
};

static uint32_t fixed(void *ud)
{
	return *(uint32_t *)ud;
}

static const struct place_case cases[] = {
	{ "idle beats busy", { { 1, true, 2.0, 1.0, 2, 1, GIB }, { 2, true, 0, 0, 2, 1, GIB } }, 2, 0, 1, 0,
	  0, { 2 } },
	{ "busy beats down", { { 1, true, 2.0, 1.0, 2, 1, GIB }, { 2, false, 0, 0, 2, 1, GIB } }, 2, 0, 1,
	  0, 0, { 1 } },
	{ "per CPU: 2 on 4 CPUs beats 1 on 1", { { 1, true, 1, 1, 1, 1, GIB }, { 2, true, 2, 0.5, 4, 1, GIB } },
	  2, 0, 1, 0, 0, { 2 } },
	{ "speed: a twice-as-fast node takes twice the load",
	  { { 1, true, 1.0, 0.5, 2, 1, GIB }, { 2, true, 1.5, 0.75, 2, 2, GIB } }, 2, 0, 1, 0, 0, { 2 } },
	{ "cpu use counts before the load average rises", { { 1, true, 0, 0.9, 2, 1, GIB }, { 2, true, 0, 0.1, 2, 1, GIB } },
	  2, 0, 1, 0, 0, { 2 } },
	{ "not enough memory", { { 1, true, 0, 0, 2, 1, GIB / 2 }, { 2, true, 3, 1, 2, 1, 2 * GIB } }, 2, GIB,
	  1, 0, 0, { 2 } },
	{ "nobody has the memory", { { 1, true, 0, 0, 2, 1, GIB / 2 } }, 1, GIB, 1, 0, -ENOENT, { 0 } },
	{ "nobody is up", { { 1, false, 0, 0, 2, 1, GIB } }, 1, 0, 1, 0, -ENOENT, { 0 } },
	{ "equals: the random source picks (0)", { { 1, true, 0, 0, 2, 1, GIB }, { 2, true, 0.05, 0.02, 2, 1, GIB } },
	  2, 0, 1, 0, 0, { 1 } },
	{ "equals: the random source picks (1)", { { 1, true, 0, 0, 2, 1, GIB }, { 2, true, 0.05, 0.02, 2, 1, GIB } },
	  2, 0, 1, 1, 0, { 2 } },
	{ "outside the margin is never picked", { { 1, true, 0, 0, 2, 1, GIB }, { 2, true, 0.5, 0.25, 2, 1, GIB } },
	  2, 0, 1, 1, 0, { 1 } },
	/* Each copy counts on its node: four copies on two idle 2-CPU nodes go two and two. */
	{ "four copies spread", { { 1, true, 0, 0, 2, 1, GIB }, { 2, true, 0, 0, 2, 1, GIB } }, 2, 0, 4, 0, 0,
	  { 1, 2, 1, 2 } },
	{ "copies fill the idle node first", { { 1, true, 2, 1, 2, 1, GIB }, { 2, true, 0, 0, 2, 1, GIB } }, 2, 0, 3,
	  0, 0, { 2, 2, 1 } },
	{ "a node with more CPUs takes more copies", { { 1, true, 0, 0, 1, 1, GIB }, { 2, true, 0, 0, 4, 1, GIB } },
	  2, 0, 5, 0, 0, { 1, 2, 2, 2, 2 } },
};

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct place_case *c = &cases[i];
		struct hha_place_node nodes[MAXN] = { 0 };
		uint32_t rnd = c->rnd;
		struct hha_place_opts o = { .size = sizeof(o), .mem_bytes = c->mem, .rand = fixed,
					    .userdata = &rnd };
		unsigned got[MAXC] = { 0 };
		int r;

		for (size_t k = 0; k < c->n; k++) {
			nodes[k].id = c->nodes[k].id;
			nodes[k].up = c->nodes[k].up;
			nodes[k].load.loadavg[0] = c->nodes[k].load1;
			nodes[k].load.cpu_use = c->nodes[k].cpu_use;
			nodes[k].load.ncpus = c->nodes[k].ncpus;
			nodes[k].load.speed = c->nodes[k].speed;
			nodes[k].load.mem_avail = c->nodes[k].avail;
		}
		r = hha_place(nodes, c->n, &o, c->count, got);
		if (r != c->expect)
			fail_msg("%s: returned %d, expected %d", c->what, r, c->expect);
		for (size_t k = 0; r == 0 && k < c->count; k++)
			if (got[k] != c->chosen[k])
				fail_msg("%s: copy %zu went to node %u, expected %u", c->what, k, got[k],
					 c->chosen[k]);
	}
}

static void test_score(void **state)
{
	struct hha_load l = { .loadavg = { 3, 0, 0 }, .ncpus = 2, .cpu_use = 0.5, .speed = 1.5 };

	(void)state;
	/* max(3, 0.5 * 2) + 1 extra, over 2 CPUs at speed 1.5. */
	assert_float_equal(hha_load_score(&l, 1), 4.0 / 3.0, 1e-9);
	l.loadavg[0] = 0;
	assert_float_equal(hha_load_score(&l, 0), 1.0 / 3.0, 1e-9);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_score),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
