/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Model-based test of the sync decision: random histories of two simulated nodes against the ground truth. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/internal.h"
#include "disk/genid.h"

/*
 * Each simulated node keeps what the engine persists (generation ids, the
 * consistent and crashed-primary flags, the bitmap) and what it holds in
 * memory (role, link, "rotated since the link went"), plus the ground truth:
 * the version of every block and the set of acknowledged writes its data
 * contains. The id bookkeeping mirrors lib/disk/disk.c, decide.c and
 * resync.c; the decision is the real hha_genid_decide() + hha_genid_resolve().
 *
 * Events: writes (linked: both sides; alone: the bitmap marks them), a
 * write in flight when the primary crashes (it reached one side, both or
 * none; the activity log covers its block), disconnects, crashes,
 * promotions (forced or not), demotions, reconnects (a sync that may be cut
 * part-way), and the user's split-brain recovery.
 *
 * Checked at every reconnect:
 *   - a sync never has a stale source: every acknowledged write the target
 *     holds, the source holds too (unless the user discarded the target's
 *     data);
 *   - hence a split brain (both hold acknowledged writes the other lacks)
 *     is never synced over, in either direction;
 *   - "no sync" only when both hold the same data;
 *   - after a completed sync both hold the same data (bitmap syncs cover
 *     every difference).
 */

#define BLOCKS 32
#define MAXW 4096
#define ALL_BLOCKS UINT32_MAX

struct node {
	/* persistent */
	uint64_t cur, bm, hist[HHA_GENID_HISTORY];
	bool consistent, crashed_flag;
	uint32_t bitmap;                   /* one bit per block */
	uint32_t data[BLOCKS];             /* ground truth: version per block */
	uint8_t acked[MAXW];               /* acknowledged writes its data contains */
	/* in memory */
	bool primary, fresh, crash_resync, discard;
	uint32_t al;                       /* blocks with a write in flight */
};

struct world {
	struct node n[2];
	bool linked;
	uint64_t next_id;
	uint32_t next_w;
	unsigned seed;
	/* statistics */
	unsigned syncs, bitmap_syncs, splits, unrelated, nones, refusals, resumed;
};

static bool trace;

static void show(const struct world *w, const char *what, int i)
{
	if (!trace)
		return;
	fprintf(stderr, "%-14s %d | ", what, i);
	for (int k = 0; k < 2; k++) {
		const struct node *x = &w->n[k];
		fprintf(stderr, "%c%s cur %llu bm %llu h %llu,%llu %s%s bits %08x | ", x->primary ? 'P' : 'S',
			x->crash_resync ? "!" : "", (unsigned long long)x->cur, (unsigned long long)x->bm,
			(unsigned long long)x->hist[0], (unsigned long long)x->hist[1],
			x->consistent ? "C" : "I", x->fresh ? "f" : "", x->bitmap);
	}
	fprintf(stderr, "%s\n", w->linked ? "linked" : "");
}

static unsigned rnd(struct world *w, unsigned n)
{
	return (unsigned)rand_r(&w->seed) % n;
}

static void push(struct node *x, uint64_t id)
{
	if (!id || x->hist[0] == id)
		return;
	memmove(&x->hist[1], &x->hist[0], sizeof(uint64_t) * (HHA_GENID_HISTORY - 1));
	x->hist[0] = id;
}

/* hha_disk_new_current() */
static void new_current(struct world *w, struct node *x)
{
	if (!x->bm)
		x->bm = x->cur;
	else
		push(x, x->cur);
	x->cur = ++w->next_id;
	x->fresh = true;
}

static struct hha_genids ids(const struct node *x)
{
	struct hha_genids g = { .current = x->cur, .bitmap = x->bm, .consistent = x->consistent,
				.crashed = x->crash_resync, .discard = x->discard, .oos = (uint64_t)__builtin_popcount(x->bitmap) };

	memcpy(g.history, x->hist, sizeof(g.history));
	g.dzc = true;
	return g;
}

static bool subset(const struct node *a, const struct node *b, uint32_t nw)
{
	for (uint32_t i = 0; i < nw; i++)
		if (a->acked[i] && !b->acked[i])
			return false;
	return true;
}

static bool same_data(const struct node *a, const struct node *b)
{
	return memcmp(a->data, b->data, sizeof(a->data)) == 0;
}

static void app_write(struct world *w, int p)
{
	struct node *x = &w->n[p], *y = &w->n[1 - p];
	unsigned b = rnd(w, BLOCKS);
	uint32_t v = ++w->next_w;

	if (v >= MAXW)
		return;
	if (!w->linked) {
		if (!x->fresh)
			new_current(w, x);
		x->bitmap |= 1u << b;
	} else {
		y->data[b] = v;
		y->acked[v] = 1;
	}
	x->data[b] = v;
	x->acked[v] = 1;
}

static void crash(struct world *w, int i)
{
	struct node *x = &w->n[i];

	if (x->primary) {
		x->crashed_flag = true;
		x->primary = false;
	}
	w->linked = false;
	x->fresh = false;
	x->discard = false;
	/* hha_al_attach(): the log's extents go into the bitmap. */
	if (x->crashed_flag) {
		x->bitmap |= x->al;
		x->crash_resync = true;
	}
	x->al = 0;
}

/* A write in flight when the primary's node goes down: it reached the
 * primary's store, the peer's, both or neither, and was never answered. */
static void crash_mid_write(struct world *w, int p)
{
	struct node *x = &w->n[p], *y = &w->n[1 - p];
	unsigned b = rnd(w, BLOCKS), where = rnd(w, 4);
	uint32_t v = ++w->next_w;

	if (v >= MAXW || !w->linked)
		return;
	x->al |= 1u << b;
	if (where & 1)
		x->data[b] = v;
	if (where & 2)
		y->data[b] = v;
	crash(w, p);
}

static void promote(struct world *w, int i, bool force)
{
	struct node *x = &w->n[i];

	if (x->primary || (w->linked && w->n[1 - i].primary))
		return;
	if (!x->consistent) {
		if (!force)
			return;
		if (!x->cur)
			x->cur = ++w->next_id;
		else if (!w->linked)
			new_current(w, x);
		x->consistent = true;
	}
	if (!w->linked && x->cur && !x->fresh)
		new_current(w, x);
	x->primary = true;
}

static void demote(struct world *w, int i)
{
	struct node *x = &w->n[i];

	(void)w;
	if (!x->primary)
		return;
	x->primary = false;
	if (!x->crash_resync)
		x->crashed_flag = false;
}

/* The ids at the start of a sync (decide.c: source_full, target_ids). */
static void sync_begin(struct world *w, struct node *s, struct node *t, enum hha_sync_decision sd,
		       const struct node *s0)
{
	bool full = sd == HHA_SYNC_SOURCE_FULL;

	if (full) {
		if (s->bm)
			push(s, s->bm);
		s->bm = 0;
		new_current(w, s);
		s->fresh = false;
		t->bitmap = ALL_BLOCKS;
	}
	{
		uint64_t want = 0;
		if (full)
			want = s0->cur;
		else if (s0->bm && t->cur != s0->bm && t->cur != s0->cur)
			want = s0->bm;
		if (want && want != t->cur) {
			if (t->bm)
				push(t, t->bm);
			push(t, t->cur);
			t->cur = want;
			t->bm = 0;
		}
	}
	t->consistent = false;
	/* The target's marks join the source's (OOS). */
	s->bitmap |= t->bitmap;
	if (full)
		s->bitmap = ALL_BLOCKS;
}

static void sync_block(struct node *s, struct node *t, unsigned b)
{
	t->data[b] = s->data[b];
	s->bitmap &= ~(1u << b);
	t->bitmap &= ~(1u << b);
}

static void sync_end(struct node *s, struct node *t, uint32_t nw)
{
	if (s->bm)
		push(s, s->bm);
	s->bm = 0;
	if (s->crash_resync) {
		s->crash_resync = false;
		if (!s->primary)
			s->crashed_flag = false;
	}
	if (t->cur != s->cur)
		push(t, t->cur);
	t->cur = s->cur;
	t->bm = 0;
	t->consistent = true;
	t->discard = false;
	if (t->crash_resync) {
		t->crash_resync = false;
		t->crashed_flag = false;
	}
	t->bitmap = 0;
	memcpy(t->acked, s->acked, nw);
}

static void reconnect(struct world *w, bool cut)
{
	struct node *a = &w->n[0], *b = &w->n[1];
	struct hha_genids ga = ids(a), gb = ids(b);
	enum hha_sync_decision da = hha_genid_resolve(&ga, &gb, hha_genid_decide(&ga, &gb));
	enum hha_sync_decision db = hha_genid_resolve(&gb, &ga, hha_genid_decide(&gb, &ga));
	struct node *s, *t, s0;
	bool discarded;

	if (w->linked)
		return;
	if (a->primary && b->primary) {
		w->refusals++;
		return;
	}
	/* Both sides must reach the mirror decision on their own. */
	switch (da) {
	case HHA_SYNC_SOURCE_FULL: assert_int_equal(db, HHA_SYNC_TARGET_FULL); break;
	case HHA_SYNC_TARGET_FULL: assert_int_equal(db, HHA_SYNC_SOURCE_FULL); break;
	case HHA_SYNC_SOURCE_BITMAP: assert_int_equal(db, HHA_SYNC_TARGET_BITMAP); break;
	case HHA_SYNC_TARGET_BITMAP: assert_int_equal(db, HHA_SYNC_SOURCE_BITMAP); break;
	default: assert_int_equal(db, da); break;
	}
	switch (da) {
	case HHA_SYNC_SPLIT_BRAIN:
		w->splits++;
		/* The user recovers half of the time, on a secondary. */
		if (rnd(w, 2) == 0) {
			int i = (int)rnd(w, 2);
			if (!w->n[i].primary)
				w->n[i].discard = true;
		}
		return;
	case HHA_SYNC_UNRELATED:
		w->unrelated++;
		fail_msg("unrelated data in a pair that shares its history");
		return;
	case HHA_SYNC_BLANK:
	case HHA_SYNC_NONE:
		w->nones++;
		if (da == HHA_SYNC_NONE && a->consistent && b->consistent && !same_data(a, b))
			fail_msg("no sync decided, but the data differ");
		w->linked = true;
		a->fresh = b->fresh = false;
		return;
	default:
		break;
	}
	if (da == HHA_SYNC_SOURCE_FULL || da == HHA_SYNC_SOURCE_BITMAP) {
		s = a;
		t = b;
	} else {
		s = b;
		t = a;
	}
	if (t->primary || !s->consistent) {
		w->refusals++;
		return;
	}
	discarded = t->discard;
	if (!discarded && !subset(t, s, w->next_w + 1))
		fail_msg("stale source: the target holds acknowledged writes the source lacks (%s)",
			 hha_sync_decision_name(da));
	/* The user gave the target's own writes up. */
	for (uint32_t k = 0; discarded && k <= w->next_w; k++)
		t->acked[k] &= s->acked[k];
	w->syncs++;
	if (da == HHA_SYNC_SOURCE_BITMAP || da == HHA_SYNC_TARGET_BITMAP)
		w->bitmap_syncs++;
	s0 = *s;
	sync_begin(w, s, t, da == HHA_SYNC_SOURCE_FULL || da == HHA_SYNC_TARGET_FULL ? HHA_SYNC_SOURCE_FULL
										       : HHA_SYNC_SOURCE_BITMAP, &s0);
	for (unsigned blk = 0; blk < BLOCKS; blk++) {
		if (!(s->bitmap & (1u << blk)))
			continue;
		if (cut && rnd(w, 2) == 0)
			continue;
		sync_block(s, t, blk);
	}
	if (cut && s->bitmap) {
		/* The link breaks mid-sync; a later reconnect must finish the job. */
		w->resumed++;
		s->fresh = t->fresh = false;
		return;
	}
	sync_end(s, t, w->next_w + 1);
	if (!same_data(s, t))
		fail_msg("the sync (%s) left differences", hha_sync_decision_name(da));
	w->linked = true;
	s->fresh = t->fresh = false;
}

static void step(struct world *w)
{
	int i = (int)rnd(w, 2);
	struct node *x = &w->n[i];

	switch (rnd(w, 16)) {
	case 0: case 1: case 2: case 3: case 4:
		if (x->primary)
			app_write(w, i);
		show(w, "write", i);
		break;
	case 5:
		if (x->primary && w->linked && rnd(w, 3) == 0) {
			crash_mid_write(w, i);
			show(w, "crash-mid", i);
		}
		break;
	case 6:
		w->linked = false;
		show(w, "disconnect", i);
		break;
	case 7:
		if (rnd(w, 3) == 0) {
			crash(w, i);
			show(w, "crash", i);
		}
		break;
	case 8: case 9:
		promote(w, i, rnd(w, 4) == 0);
		show(w, "promote", i);
		break;
	case 10:
		demote(w, i);
		show(w, "demote", i);
		break;
	case 11: case 12: case 13:
		show(w, "reconnect", i);
		reconnect(w, false);
		show(w, " ->", i);
		break;
	case 14:
		show(w, "reconnect-cut", i);
		reconnect(w, true);
		show(w, " ->", i);
		break;
	case 15:
		if (!w->linked && x->primary && rnd(w, 2))
			app_write(w, i);
		break;
	}
}

static void test_model(void **state)
{
	struct world total = { 0 };

	(void)state;
	trace = getenv("HHA_MODEL_TRACE") != NULL;
	for (unsigned run = getenv("HHA_MODEL_RUN") ? (unsigned)atoi(getenv("HHA_MODEL_RUN")) : 0; run < 3000; run++) {
		struct world *w = calloc(1, sizeof(*w));
		w->seed = 1000 + run;
		/* A new pair: A forced primary, full sync to B. */
		w->linked = false;
		promote(w, 0, true);
		reconnect(w, false);
		for (int k = 0; k < 300 && w->next_w + 2 < MAXW; k++)
			step(w);
		total.syncs += w->syncs;
		total.bitmap_syncs += w->bitmap_syncs;
		total.splits += w->splits;
		total.nones += w->nones;
		total.refusals += w->refusals;
		total.resumed += w->resumed;
		free(w);
	}
	print_message("syncs %u (bitmap %u, cut and resumed %u), split brains %u, no-sync %u, refused %u\n",
		      total.syncs, total.bitmap_syncs, total.resumed, total.splits, total.nones, total.refusals);
	/* The histories must reach the interesting cases, or the test proves little. */
	assert_true(total.bitmap_syncs > 1000);
	assert_true(total.splits > 100);
	assert_true(total.resumed > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
