/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The in-flight interval tree: orders overlapping writes by sequence number. */
#include "config.h"

#include <stddef.h>

#include "disk/inflight.h"

static int height(const struct hha_ival *n)
{
	return n ? n->height : 0;
}

static uint64_t max_end(const struct hha_ival *n)
{
	return n ? n->max_end : 0;
}

static void update(struct hha_ival *n)
{
	int hl = height(n->left), hr = height(n->right);
	uint64_t m = n->end;

	n->height = 1 + (hl > hr ? hl : hr);
	if (max_end(n->left) > m)
		m = max_end(n->left);
	if (max_end(n->right) > m)
		m = max_end(n->right);
	n->max_end = m;
}

static struct hha_ival *rot_right(struct hha_ival *y)
{
	struct hha_ival *x = y->left;

	y->left = x->right;
	x->right = y;
	update(y);
	update(x);
	return x;
}

static struct hha_ival *rot_left(struct hha_ival *x)
{
	struct hha_ival *y = x->right;

	x->right = y->left;
	y->left = x;
	update(x);
	update(y);
	return y;
}

static struct hha_ival *balance(struct hha_ival *n)
{
	int bf;

	update(n);
	bf = height(n->left) - height(n->right);
	if (bf > 1) {
		if (height(n->left->left) < height(n->left->right))
			n->left = rot_left(n->left);
		return rot_right(n);
	}
	if (bf < -1) {
		if (height(n->right->right) < height(n->right->left))
			n->right = rot_right(n->right);
		return rot_left(n);
	}
	return n;
}

static bool less(const struct hha_ival *a, const struct hha_ival *b)
{
	return a->start < b->start || (a->start == b->start && a->seq < b->seq);
}

static struct hha_ival *insert(struct hha_ival *root, struct hha_ival *n)
{
	if (!root)
		return n;
	if (less(n, root))
		root->left = insert(root->left, n);
	else
		root->right = insert(root->right, n);
	return balance(root);
}

void hha_ivtree_insert(struct hha_ivtree *t, struct hha_ival *n)
{
	n->left = n->right = NULL;
	n->height = 1;
	n->max_end = n->end;
	n->in_tree = true;
	t->root = insert(t->root, n);
	t->count++;
}

/* Detach the smallest node of @root into *min; returns the new subtree. */
static struct hha_ival *take_min(struct hha_ival *root, struct hha_ival **min)
{
	if (!root->left) {
		*min = root;
		return root->right;
	}
	root->left = take_min(root->left, min);
	return balance(root);
}

static struct hha_ival *remove_node(struct hha_ival *root, struct hha_ival *n)
{
	if (!root)
		return NULL;
	if (root == n) {
		struct hha_ival *l = n->left, *r = n->right, *m;
		if (!r)
			return l;
		r = take_min(r, &m);
		m->left = l;
		m->right = r;
		return balance(m);
	}
	if (less(n, root))
		root->left = remove_node(root->left, n);
	else
		root->right = remove_node(root->right, n);
	return balance(root);
}

void hha_ivtree_remove(struct hha_ivtree *t, struct hha_ival *n)
{
	if (!n->in_tree)
		return;
	t->root = remove_node(t->root, n);
	n->in_tree = false;
	n->left = n->right = NULL;
	t->count--;
}

static bool blocked(const struct hha_ival *root, const struct hha_ival *n)
{
	while (root) {
		/* Nothing in this subtree reaches n's start. */
		if (root->max_end <= n->start)
			return false;
		if (root != n && root->seq < n->seq && root->start < n->end && n->start < root->end)
			return true;
		if (blocked(root->left, n))
			return true;
		/* Right subtree starts at or after root->start. */
		if (root->start >= n->end)
			return false;
		root = root->right;
	}
	return false;
}

bool hha_ivtree_blocked(const struct hha_ivtree *t, const struct hha_ival *n)
{
	return blocked(t->root, n);
}

static uint64_t each(struct hha_ival *root, uint64_t start, uint64_t end,
		     void (*fn)(struct hha_ival *n, void *ud), void *ud)
{
	uint64_t k = 0;

	while (root) {
		if (root->max_end <= start)
			break;
		k += each(root->left, start, end, fn, ud);
		if (root->start >= end)
			break;
		if (start < root->end) {
			fn(root, ud);
			k++;
		}
		root = root->right;
	}
	return k;
}

uint64_t hha_ivtree_each_overlap(const struct hha_ivtree *t, uint64_t start, uint64_t end,
				 void (*fn)(struct hha_ival *n, void *ud), void *ud)
{
	return each(t->root, start, end, fn, ud);
}
