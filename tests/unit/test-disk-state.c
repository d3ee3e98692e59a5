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

/* Scenarios: my ids, the peer's ids, the expected decision from my side. */
static const struct {
	const char *what;
	struct hha_genids me, peer;
	enum hha_sync_decision want;
} scenarios[] = {
	{ "two new disks", { 0, 0, { 0 }, false }, { 0, 0, { 0 }, false }, HHA_SYNC_BLANK },
	{ "I am new", { 0, 0, { 0 }, false }, { 5, 0, { 0 }, true }, HHA_SYNC_TARGET_FULL },
	{ "peer is new", { 5, 0, { 0 }, true }, { 0, 0, { 0 }, false }, HHA_SYNC_SOURCE_FULL },
	{ "in sync", { 5, 0, { 3 }, true }, { 5, 0, { 3 }, true }, HHA_SYNC_NONE },
	{ "same id, my sync was cut", { 5, 0, { 0 }, false }, { 5, 0, { 0 }, true }, HHA_SYNC_TARGET_FULL },
	{ "same id, peer's sync cut", { 5, 0, { 0 }, true }, { 5, 0, { 0 }, false }, HHA_SYNC_SOURCE_FULL },
	{ "I wrote alone", { 7, 5, { 0 }, true }, { 5, 0, { 0 }, true }, HHA_SYNC_SOURCE_BITMAP },
	{ "peer wrote alone", { 5, 0, { 0 }, true }, { 7, 5, { 0 }, true }, HHA_SYNC_TARGET_BITMAP },
	{ "both wrote alone", { 7, 5, { 0 }, true }, { 8, 5, { 0 }, true }, HHA_SYNC_SPLIT_BRAIN },
	{ "peer moved on twice", { 5, 0, { 0 }, true }, { 9, 7, { 5 }, true }, HHA_SYNC_TARGET_FULL },
	{ "I moved on twice", { 9, 7, { 5 }, true }, { 5, 0, { 0 }, true }, HHA_SYNC_SOURCE_FULL },
	{ "split, older ancestor", { 9, 6, { 4 }, true }, { 8, 7, { 4 }, true }, HHA_SYNC_SPLIT_BRAIN },
	{ "unrelated", { 9, 6, { 4 }, true }, { 8, 7, { 3 }, true }, HHA_SYNC_UNRELATED },
	{ "unrelated, fresh ids", { 1, 0, { 0 }, true }, { 2, 0, { 0 }, true }, HHA_SYNC_UNRELATED },
	{ "corrupt: each other's bitmap", { 7, 5, { 0 }, true }, { 5, 7, { 0 }, true }, HHA_SYNC_SPLIT_BRAIN },
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

/* Random identifiers from a small pool, so that matches are frequent. */
static void random_ids(struct hha_genids *g, unsigned *seed)
{
	g->current = (uint64_t)(rand_r(seed) % 6);
	g->bitmap = (uint64_t)(rand_r(seed) % 6);
	for (int i = 0; i < HHA_GENID_HISTORY; i++)
		g->history[i] = (uint64_t)(rand_r(seed) % 8);
	g->consistent = rand_r(seed) & 1;
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
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cstate),
		cmocka_unit_test(test_dstate),
		cmocka_unit_test(test_genid),
		cmocka_unit_test(test_genid_symmetry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
