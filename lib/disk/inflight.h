/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The in-flight interval tree: orders overlapping writes by sequence number. */
#ifndef HHA_DISK_INFLIGHT_H
#define HHA_DISK_INFLIGHT_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Every write (or resync block) in flight is a node keyed by its range and
 * its sequence number. A node may start only when no node with a smaller
 * sequence number overlaps it; when a node leaves, the nodes it held back
 * are found by an overlap query. An AVL tree ordered by (start, seq) and
 * augmented with the largest end in each subtree answers "who overlaps
 * [a, b)" in O(log n + k). Not thread-safe: the owner locks.
 */
struct hha_ival {
	uint64_t start, end; /* [start, end) */
	uint64_t seq;
	/* private */
	struct hha_ival *left, *right;
	uint64_t max_end;
	int height;
	bool in_tree;
};

struct hha_ivtree {
	struct hha_ival *root;
	uint64_t count;
};

void hha_ivtree_insert(struct hha_ivtree *t, struct hha_ival *n);
void hha_ivtree_remove(struct hha_ivtree *t, struct hha_ival *n);
/* True if a node other than @n with a smaller seq overlaps @n's range. */
bool hha_ivtree_blocked(const struct hha_ivtree *t, const struct hha_ival *n);
/*
 * Call @fn for every node overlapping [start, end) (in no particular order).
 * @fn must not change the tree. Returns the number visited.
 */
uint64_t hha_ivtree_each_overlap(const struct hha_ivtree *t, uint64_t start, uint64_t end,
				 void (*fn)(struct hha_ival *n, void *ud), void *ud);

#endif /* HHA_DISK_INFLIGHT_H */
