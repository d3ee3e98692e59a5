/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the per-link membership state machine and the node fold, table-driven. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "net/member-fsm.h"

#define I HHA_MEMBER_INIT
#define U HHA_MEMBER_UP
#define L HHA_MEMBER_LATE
#define D HHA_MEMBER_DEAD
#define W HHA_MEMBER_DOWN

static const struct hb_timers T = { .warn_ms = 600, .dead_ms = 1000, .initdead_ms = 5000 };

/* One scripted run of a link: events at times, with the state expected after each. */
struct step {
	int64_t t;
	enum hb_link_event ev;
	enum hha_member_state want;
};

static const struct {
	const char *name;
	struct step s[10];
} scripts[] = {
	{ "initdead", { { 4999, HB_EV_TICK, I }, { 5000, HB_EV_TICK, D }, { -1, HB_EV_TICK, I } } },
	{ "up-late-dead", { { 100, HB_EV_PACKET, U }, { 699, HB_EV_TICK, U }, { 700, HB_EV_TICK, L },
			    { 1099, HB_EV_TICK, L }, { 1100, HB_EV_TICK, D }, { 1200, HB_EV_PACKET, U },
			    { -1, HB_EV_TICK, I } } },
	{ "late-recovers", { { 0, HB_EV_PACKET, U }, { 650, HB_EV_TICK, L }, { 660, HB_EV_PACKET, U },
			     { 1200, HB_EV_TICK, U }, { 1260, HB_EV_TICK, L }, { -1, HB_EV_TICK, I } } },
	/* A stalled loop wakes after deadtime: straight to dead, no stop at late. */
	{ "stall", { { 0, HB_EV_PACKET, U }, { 5000, HB_EV_TICK, D }, { -1, HB_EV_TICK, I } } },
	{ "carrier", { { 0, HB_EV_PACKET, U }, { 10, HB_EV_CARRIER_DOWN, W }, { 5000, HB_EV_TICK, W },
		       { 6000, HB_EV_CARRIER_UP, D }, { 6001, HB_EV_TICK, D }, { 6100, HB_EV_PACKET, U },
		       { -1, HB_EV_TICK, I } } },
	{ "carrier-up-while-up", { { 0, HB_EV_PACKET, U }, { 1, HB_EV_CARRIER_UP, U }, { -1, HB_EV_TICK, I } } },
	{ "down-then-packet", { { 0, HB_EV_CARRIER_DOWN, W }, { 5, HB_EV_PACKET, U }, { -1, HB_EV_TICK, I } } },
	{ "goodbye", { { 0, HB_EV_PACKET, U }, { 100, HB_EV_LEAVE, D }, { -1, HB_EV_TICK, I } } },
};

static void test_link_scripts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scripts) / sizeof(scripts[0]); i++) {
		struct hb_link_fsm l;
		hb_link_init(&l, 0);
		for (const struct step *s = scripts[i].s; s->t >= 0; s++) {
			enum hha_member_state got = hb_link_step(&l, s->ev, s->t, &T);
			if (got != s->want)
				fail_msg("%s: at %lld expected %s, got %s", scripts[i].name,
					 (long long)s->t, hha_member_state_name(s->want),
					 hha_member_state_name(got));
		}
	}
}

static void test_deadlines(void **state)
{
	struct hb_link_fsm l;

	(void)state;
	hb_link_init(&l, 100);
	assert_int_equal(hb_link_deadline(&l, &T), 5100);
	hb_link_step(&l, HB_EV_PACKET, 200, &T);
	assert_int_equal(hb_link_deadline(&l, &T), 800);
	hb_link_step(&l, HB_EV_TICK, 800, &T);
	assert_int_equal(hb_link_deadline(&l, &T), 1200);
	hb_link_step(&l, HB_EV_TICK, 1200, &T);
	assert_int_equal(hb_link_deadline(&l, &T), -1);
}

static void test_node_fold(void **state)
{
	static const struct {
		enum hha_member_state links[3];
		bool heard, leaving;
		enum hha_member_state want;
	} cases[] = {
		{ { U, D, D }, true, false, U },  /* one link is enough */
		{ { D, L, W }, true, false, L },
		{ { D, D, W }, true, false, D },  /* dead only when every link is silent */
		{ { I, I, I }, false, false, I },
		{ { I, D, I }, false, false, I },
		{ { D, D, D }, false, false, D }, /* never heard, initdead passed */
		{ { I, D, D }, true, false, D },  /* heard before: a silent init link is silent */
		{ { U, U, U }, true, true, D },   /* said goodbye */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hb_link_fsm l[3];
		for (int k = 0; k < 3; k++)
			l[k].state = cases[i].links[k];
		assert_int_equal(hb_node_state(l, 3, cases[i].heard, cases[i].leaving), cases[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_link_scripts),
		cmocka_unit_test(test_deadlines),
		cmocka_unit_test(test_node_fold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
