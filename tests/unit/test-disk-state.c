/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: connection and disk state machines (every cell of both tables) and the sync decision. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/internal.h"
#include "disk/genid.h"
#include "disk/state.h"

struct trans {
	int from, ev, to;
};

#define SA HHA_CS_STANDALONE
#define WF HHA_CS_WFCONNECTION
#define CO HHA_CS_CONNECTED
#define SS HHA_CS_SYNCSOURCE
#define ST HHA_CS_SYNCTARGET
#define DI HHA_CS_DISCONNECTING

/* Every allowed connection transition; all other cells must be refused. */
static const struct trans cs_allowed[] = {
	{ SA, HHA_CSE_CONNECT, WF },	    { SA, HHA_CSE_STOPPED, SA },
	{ WF, HHA_CSE_DISCONNECT, DI },    { WF, HHA_CSE_UP_NOSYNC, CO },
	{ WF, HHA_CSE_UP_SOURCE, SS },     { WF, HHA_CSE_UP_TARGET, ST },
	{ WF, HHA_CSE_LINK_LOST, WF },     { WF, HHA_CSE_REFUSED, SA },
	{ CO, HHA_CSE_DISCONNECT, DI },    { CO, HHA_CSE_UP_SOURCE, SS },
	{ CO, HHA_CSE_UP_TARGET, ST },     { CO, HHA_CSE_LINK_LOST, WF },
	{ CO, HHA_CSE_REFUSED, SA },	    { SS, HHA_CSE_DISCONNECT, DI },
	{ SS, HHA_CSE_SYNC_DONE, CO },     { SS, HHA_CSE_LINK_LOST, WF },
	{ SS, HHA_CSE_REFUSED, SA },       { ST, HHA_CSE_REFUSED, SA },
	{ ST, HHA_CSE_DISCONNECT, DI },    { ST, HHA_CSE_SYNC_DONE, CO },
	{ ST, HHA_CSE_LINK_LOST, WF },     { DI, HHA_CSE_STOPPED, SA },
	{ DI, HHA_CSE_LINK_LOST, DI },
};

static void test_cstate(void **state)
{
	(void)state;
	for (int s = 0; s < HHA_CS_COUNT; s++) {
		for (int e = 0; e < HHA_CSE_COUNT; e++) {
			int want = -1;
			for (size_t i = 0; i < HHA_ARRAY_SIZE(cs_allowed); i++)
				if (cs_allowed[i].from == s && cs_allowed[i].ev == e)
					want = cs_allowed[i].to;
			if (hha_cstate_next(s, e) != want)
				fail_msg("%s --%s--> %d, expected %d", hha_conn_state_name(s),
					 hha_cs_event_name(e), hha_cstate_next(s, e), want);
		}
	}
	assert_int_equal(hha_cstate_next(HHA_CS_COUNT, 0), -1);
	assert_int_equal(hha_cstate_next(0, HHA_CSE_COUNT), -1);
	assert_string_equal(hha_conn_state_name(HHA_CS_WFCONNECTION), "WFConnection");
	assert_string_equal(hha_conn_state_name(HHA_CS_COUNT), "?");
	assert_true(hha_cstate_linked(SS) && !hha_cstate_linked(WF));
}

#define DL HHA_DS_DISKLESS
#define IC HHA_DS_INCONSISTENT
#define OD HHA_DS_OUTDATED
#define UT HHA_DS_UPTODATE

static const struct trans ds_allowed[] = {
	{ DL, HHA_DSE_ATTACH_UPTODATE, UT }, { DL, HHA_DSE_ATTACH_OUTDATED, OD },
	{ DL, HHA_DSE_ATTACH_INCONSISTENT, IC }, { DL, HHA_DSE_DETACH, DL },
	{ IC, HHA_DSE_DETACH, DL }, { IC, HHA_DSE_SYNC_TARGET, IC }, { IC, HHA_DSE_SYNC_DONE, UT },
	{ IC, HHA_DSE_FORCE_CURRENT, UT }, { OD, HHA_DSE_DETACH, DL }, { OD, HHA_DSE_SYNC_TARGET, IC },
	{ OD, HHA_DSE_OUTDATE, OD }, { OD, HHA_DSE_FORCE_CURRENT, UT }, { UT, HHA_DSE_DETACH, DL },
	{ UT, HHA_DSE_SYNC_TARGET, IC }, { UT, HHA_DSE_OUTDATE, OD }, { UT, HHA_DSE_FORCE_CURRENT, UT },
};

static void test_dstate(void **state)
{
	(void)state;
	for (int s = 0; s < HHA_DS_COUNT; s++) {
		for (int e = 0; e < HHA_DSE_COUNT; e++) {
			int want = -1;
			for (size_t i = 0; i < HHA_ARRAY_SIZE(ds_allowed); i++)
				if (ds_allowed[i].from == s && ds_allowed[i].ev == e)
					want = ds_allowed[i].to;
			if (hha_dstate_next(s, e) != want)
				fail_msg("%s --%s--> %d, expected %d", hha_disk_state_name(s),
					 hha_ds_event_name(e), hha_dstate_next(s, e), want);
		}
	}
	assert_string_equal(hha_disk_state_name(UT), "UpToDate");
	assert_string_equal(hha_disk_role_name(HHA_ROLE_PRIMARY), "Primary");
}

#define G(c, b, h, cons) { .current = (c), .bitmap = (b), .history = { (h) }, .consistent = (cons) }
#define GC(c, b, h) { .current = (c), .bitmap = (b), .history = { (h) }, .consistent = true, .crashed = true }

/* Scenarios: my ids, the peer's ids, the expected decision from my side. */
static const struct {
	const char *what;
	struct hha_genids me, peer;
	enum hha_sync_decision want;
} scenarios[] = {
	{ "two new disks", G(0, 0, 0, false), G(0, 0, 0, false), HHA_SYNC_BLANK },
	{ "I am new", G(0, 0, 0, false), G(5, 0, 0, true), HHA_SYNC_TARGET_FULL },
	{ "peer is new", G(5, 0, 0, true), G(0, 0, 0, false), HHA_SYNC_SOURCE_FULL },
	{ "in sync", G(5, 0, 3, true), G(5, 0, 3, true), HHA_SYNC_NONE },
	{ "same id, my sync was cut", G(5, 0, 0, false), G(5, 0, 0, true), HHA_SYNC_TARGET_FULL },
	{ "same id, peer's sync cut", G(5, 0, 0, true), G(5, 0, 0, false), HHA_SYNC_SOURCE_FULL },
	{ "I wrote alone", G(7, 5, 0, true), G(5, 0, 0, true), HHA_SYNC_SOURCE_BITMAP },
	{ "peer wrote alone", G(5, 0, 0, true), G(7, 5, 0, true), HHA_SYNC_TARGET_BITMAP },
	{ "both wrote alone", G(7, 5, 0, true), G(8, 5, 0, true), HHA_SYNC_SPLIT_BRAIN },
	{ "peer moved on twice", G(5, 0, 0, true), G(9, 7, 5, true), HHA_SYNC_TARGET_FULL },
	{ "I moved on twice", G(9, 7, 5, true), G(5, 0, 0, true), HHA_SYNC_SOURCE_FULL },
	{ "split, older ancestor", G(9, 6, 4, true), G(8, 7, 4, true), HHA_SYNC_SPLIT_BRAIN },
	{ "unrelated", G(9, 6, 4, true), G(8, 7, 3, true), HHA_SYNC_UNRELATED },
	{ "unrelated, fresh ids", G(1, 0, 0, true), G(2, 0, 0, true), HHA_SYNC_UNRELATED },
	{ "corrupt: each other's bitmap", G(7, 5, 0, true), G(5, 7, 0, true), HHA_SYNC_SPLIT_BRAIN },
	{ "I crashed as primary", GC(5, 0, 0), G(5, 0, 0, true), HHA_SYNC_SOURCE_BITMAP },
	{ "the peer crashed as primary", G(5, 0, 0, true), GC(5, 0, 0), HHA_SYNC_TARGET_BITMAP },
	{ "both crashed as primary", GC(5, 0, 0), GC(5, 0, 0), HHA_SYNC_SPLIT_BRAIN },
	{ "crashed, then the peer wrote", GC(5, 0, 0), G(7, 5, 0, true), HHA_SYNC_TARGET_BITMAP },
	{ "crashed but inconsistent", { .current = 5, .crashed = true }, G(5, 0, 0, true), HHA_SYNC_TARGET_FULL },
};

/* Split-brain recovery: my ids and policy, the peer's, the result from my side. */
#define S(c, b, h, disc, z, o)                                                                        \
	{ .current = (c), .bitmap = (b), .history = { (h) }, .consistent = true, .discard = (disc),  \
	  .dzc = (z), .oos = (o) }
static const struct {
	const char *what;
	struct hha_genids me, peer;
	enum hha_sync_decision want;
} recoveries[] = {
	{ "no split: unchanged", S(7, 5, 0, true, false, 1), S(5, 0, 0, false, false, 0), HHA_SYNC_SOURCE_BITMAP },
	{ "split, no policy", S(7, 5, 0, false, false, 3), S(8, 5, 0, false, false, 0), HHA_SYNC_SPLIT_BRAIN },
	{ "I discard", S(7, 5, 0, true, false, 3), S(8, 5, 0, false, false, 4), HHA_SYNC_TARGET_BITMAP },
	{ "the peer discards", S(7, 5, 0, false, false, 3), S(8, 5, 0, true, false, 4), HHA_SYNC_SOURCE_BITMAP },
	{ "both discard", S(7, 5, 0, true, false, 3), S(8, 5, 0, true, false, 4), HHA_SYNC_SPLIT_BRAIN },
	{ "discard, history split", S(9, 6, 4, true, false, 1), S(8, 7, 4, false, false, 1), HHA_SYNC_TARGET_FULL },
	{ "dzc: I changed nothing", S(7, 5, 0, false, true, 0), S(8, 5, 0, false, true, 9), HHA_SYNC_TARGET_BITMAP },
	{ "dzc: the peer changed nothing", S(7, 5, 0, false, true, 2), S(8, 5, 0, false, true, 0), HHA_SYNC_SOURCE_BITMAP },
	{ "dzc: both changed", S(7, 5, 0, false, true, 2), S(8, 5, 0, false, true, 1), HHA_SYNC_SPLIT_BRAIN },
	{ "dzc on one side only", S(7, 5, 0, false, true, 0), S(8, 5, 0, false, false, 9), HHA_SYNC_SPLIT_BRAIN },
	{ "dzc, history split", S(9, 6, 4, false, true, 0), S(8, 7, 4, false, true, 5), HHA_SYNC_SPLIT_BRAIN },
	{ "dzc: neither changed", S(7, 5, 0, false, true, 0), S(8, 5, 0, false, true, 0), HHA_SYNC_TARGET_BITMAP },
};

static enum hha_sync_decision mirror(enum hha_sync_decision d)
{
	switch (d) {
	case HHA_SYNC_SOURCE_FULL: return HHA_SYNC_TARGET_FULL;
	case HHA_SYNC_TARGET_FULL: return HHA_SYNC_SOURCE_FULL;
	case HHA_SYNC_SOURCE_BITMAP: return HHA_SYNC_TARGET_BITMAP;
	case HHA_SYNC_TARGET_BITMAP: return HHA_SYNC_SOURCE_BITMAP;
	default: return d;
	}
}

static void test_genid(void **state)
{
	(void)state;
	for (size_t i = 0; i < HHA_ARRAY_SIZE(scenarios); i++) {
		enum hha_sync_decision d = hha_genid_decide(&scenarios[i].me, &scenarios[i].peer);
		enum hha_sync_decision back = hha_genid_decide(&scenarios[i].peer, &scenarios[i].me);
		if (d != scenarios[i].want)
			fail_msg("%s: got %s, expected %s", scenarios[i].what, hha_sync_decision_name(d),
				 hha_sync_decision_name(scenarios[i].want));
		if (back != mirror(d))
			fail_msg("%s: not symmetric (%s / %s)", scenarios[i].what,
				 hha_sync_decision_name(d), hha_sync_decision_name(back));
	}
}

static void test_genid_resolve(void **state)
{
	(void)state;
	for (size_t i = 0; i < HHA_ARRAY_SIZE(recoveries); i++) {
		const struct hha_genids *a = &recoveries[i].me, *b = &recoveries[i].peer;
		enum hha_sync_decision d = hha_genid_resolve(a, b, hha_genid_decide(a, b));
		enum hha_sync_decision back = hha_genid_resolve(b, a, hha_genid_decide(b, a));
		if (d != recoveries[i].want)
			fail_msg("%s: got %s, expected %s", recoveries[i].what, hha_sync_decision_name(d),
				 hha_sync_decision_name(recoveries[i].want));
		if (back != mirror(d))
			fail_msg("%s: not symmetric", recoveries[i].what);
	}
}

/* Random identifiers from a small pool, so that matches are frequent. */
static void random_ids(struct hha_genids *g, unsigned *seed)
{
	g->current = (uint64_t)(rand_r(seed) % 6);
	g->bitmap = (uint64_t)(rand_r(seed) % 6);
	for (int i = 0; i < HHA_GENID_HISTORY; i++)
		g->history[i] = (uint64_t)(rand_r(seed) % 8);
	g->consistent = rand_r(seed) & 1;
	g->crashed = rand_r(seed) % 4 == 0;
	g->discard = rand_r(seed) % 4 == 0;
	g->dzc = rand_r(seed) & 1;
	g->oos = (uint64_t)(rand_r(seed) % 3);
}

static void test_genid_symmetry(void **state)
{
	unsigned seed = 12345;
	(void)state;
	for (int n = 0; n < 200000; n++) {
		struct hha_genids a, b;
		random_ids(&a, &seed);
		random_ids(&b, &seed);
		assert_int_equal(hha_genid_decide(&b, &a), mirror(hha_genid_decide(&a, &b)));
		assert_int_equal(hha_genid_resolve(&b, &a, hha_genid_decide(&b, &a)),
				 mirror(hha_genid_resolve(&a, &b, hha_genid_decide(&a, &b))));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cstate),
		cmocka_unit_test(test_dstate),
		cmocka_unit_test(test_genid),
		cmocka_unit_test(test_genid_symmetry),
		cmocka_unit_test(test_genid_resolve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
