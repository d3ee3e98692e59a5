/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the in-flight interval tree against a brute-force model. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "disk/inflight.h"

#define N 600

static struct hha_ival nodes[N];
static bool live[N];

static bool model_blocked(int i)
{
	for (int j = 0; j < N; j++)
		if (live[j] && j != i && nodes[j].seq < nodes[i].seq &&
		    nodes[j].start < nodes[i].end && nodes[i].start < nodes[j].end)
			return true;
	return false;
}

static void count_cb(struct hha_ival *n, void *ud)
{
	(*(uint64_t *)ud)++;
	assert_true(n->in_tree);
}

static int check_heights(const struct hha_ival *n, uint64_t *maxe)
{
	uint64_t ml = 0, mr = 0;
	int hl, hr;

	if (!n) {
		*maxe = 0;
		return 0;
	}
	hl = check_heights(n->left, &ml);
	hr = check_heights(n->right, &mr);
	assert_true(abs(hl - hr) <= 1);
	*maxe = n->end;
	if (ml > *maxe)
		*maxe = ml;
	if (mr > *maxe)
		*maxe = mr;
	assert_int_equal(n->max_end, *maxe);
	return 1 + (hl > hr ? hl : hr);
}

static void test_random(void **state)
{
	struct hha_ivtree t = { 0 };
	unsigned seed = 4242;
	uint64_t seq = 0, live_n = 0;
	(void)state;

	memset(live, 0, sizeof(live));
	for (int step = 0; step < 200000; step++) {
		int i = rand_r(&seed) % N;
		if (live[i]) {
			hha_ivtree_remove(&t, &nodes[i]);
			live[i] = false;
			live_n--;
		} else {
			uint64_t s = (uint64_t)(rand_r(&seed) % 10000);
			nodes[i].start = s;
			nodes[i].end = s + 1 + (uint64_t)(rand_r(&seed) % 64);
			nodes[i].seq = ++seq;
			hha_ivtree_insert(&t, &nodes[i]);
			live[i] = true;
			live_n++;
		}
		assert_int_equal(t.count, live_n);
		if (step % 97 == 0) {
			uint64_t m;
			check_heights(t.root, &m);
			for (int k = 0; k < N; k++)
				if (live[k])
					assert_int_equal(hha_ivtree_blocked(&t, &nodes[k]), model_blocked(k));
			uint64_t a = (uint64_t)(rand_r(&seed) % 10000), b = a + 1 + (uint64_t)(rand_r(&seed) % 300);
			uint64_t got = 0, want = 0;
			hha_ivtree_each_overlap(&t, a, b, count_cb, &got);
			for (int k = 0; k < N; k++)
				if (live[k] && nodes[k].start < b && a < nodes[k].end)
					want++;
			assert_int_equal(got, want);
		}
	}
	/* Removing twice is harmless. */
	for (int k = 0; k < N; k++) {
		hha_ivtree_remove(&t, &nodes[k]);
		hha_ivtree_remove(&t, &nodes[k]);
	}
	assert_int_equal(t.count, 0);
	assert_null(t.root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
