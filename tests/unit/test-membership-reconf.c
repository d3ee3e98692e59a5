/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: reconfiguring a running membership object (reload) keeps its state, applies the rest. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/membership-int.h"

static const char KEY1[] = "test-cluster-key-0123456789";
static const char KEY2[] = "the-next-cluster-key-987654";
static int64_t fake_now = 1000;

static int64_t fake_clock(void *ud)
{
	(void)ud;
	return fake_now;
}

struct fixture {
	struct hha_ctx *ctx;
	struct hha_membership *a, *b;
	char addr_a[2][32], addr_b[2][32];
	uint64_t seq_a;
};

/* Timers of a plan or an object: keepalive, warntime, deadtime. */
struct timers {
	int ka, warn, dead;
};

static struct hha_membership *make(struct fixture *f, unsigned id, bool plan, struct timers t,
				   const char *const *links, size_t nlinks)
{
	struct hha_membership_opts o = {
		.size = sizeof(o), .self_id = id, .cluster_name = "unit", .keepalive_ms = t.ka,
		.warntime_ms = t.warn, .deadtime_ms = t.dead, .initdead_ms = 2000,
		.clock = fake_clock, .plan = plan,
	};
	struct hha_membership *m;

	assert_int_equal(hha_membership_new(f->ctx, &o, &m), 0);
	assert_int_equal(hha_membership_add_key(m, 1, KEY1, strlen(KEY1)), 0);
	for (size_t l = 0; l < nlinks; l++)
		assert_int_equal(hha_membership_add_link(m, links[l]), (int)l);
	return m;
}

static const struct timers T0 = { 100, 300, 500 };

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	const char *any[2] = { "127.0.0.1:0", "127.0.0.1:0" };
	const char *pa[2], *pb[2];

	assert_int_equal(hha_ctx_new(&f->ctx), 0);
	hha_ctx_set_log_fn(f->ctx, NULL, NULL);
	fake_now = 1000;
	f->a = make(f, 1, false, T0, any, 2);
	f->b = make(f, 2, false, T0, any, 2);
	for (unsigned l = 0; l < 2; l++) {
		snprintf(f->addr_a[l], 32, "127.0.0.1:%d", hha_membership_link_port(f->a, l));
		snprintf(f->addr_b[l], 32, "127.0.0.1:%d", hha_membership_link_port(f->b, l));
		pa[l] = f->addr_a[l];
		pb[l] = f->addr_b[l];
	}
	assert_int_equal(hha_membership_add_peer(f->a, 2, "b", pb, 2), 0);
	assert_int_equal(hha_membership_add_peer(f->b, 1, "a", pa, 2), 0);
	assert_int_equal(hha_membership_start(f->a), 0);
	assert_int_equal(hha_membership_start(f->b), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	hha_membership_free(f->a);
	hha_membership_free(f->b);
	hha_ctx_free(f->ctx);
	free(f);
	return 0;
}

static enum hb_drop input(struct hha_membership *to, const char *from_addr, unsigned link,
			  const uint8_t *buf, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	sin.sin_port = htons((uint16_t)atoi(strchr(from_addr, ':') + 1));
	return hb_membership_input(to, link, (struct sockaddr *)&sin, sizeof(sin), buf, len, fake_now);
}

/* A sends its next round to B on @link; returns B's verdict. @keep: a copy. */
static enum hb_drop a_to_b(struct fixture *f, unsigned link, uint8_t *keep, int *keeplen)
{
	uint8_t buf[HB_MAX_PACKET];
	int n = hb_membership_build(f->a, 2, link, ++f->seq_a, 0, buf, sizeof(buf));

	assert_true(n > 0);
	if (keep) {
		memcpy(keep, buf, (size_t)n);
		*keeplen = n;
	}
	return input(f->b, f->addr_a[link], link, buf, (size_t)n);
}

/* Both know each other: A learns B's incarnation, then B hears A (up). */
static void meet(struct fixture *f)
{
	uint8_t buf[HB_MAX_PACKET];
	int n = hb_membership_build(f->b, 1, 0, 1, 0, buf, sizeof(buf));

	assert_int_equal(input(f->a, f->addr_b[0], 0, buf, (size_t)n), HB_DROP_STALE_ECHO);
	assert_int_equal(a_to_b(f, 0, NULL, NULL), HB_ACCEPTED);
	assert_int_equal(a_to_b(f, 1, NULL, NULL), HB_ACCEPTED);
}

static enum hha_member_state state_of(struct hha_membership *m, unsigned id)
{
	struct hha_member_info info;

	assert_int_equal(hha_membership_peer_state(m, id, &info), 0);
	return info.state;
}

/* B's plan: its two links, peer A, and optionally peer C (id 3) on link 0. */
static struct hha_membership *plan_b(struct fixture *f, unsigned self, struct timers t, bool with_c)
{
	const char *links[2] = { f->addr_b[0], f->addr_b[1] };
	const char *pa[2] = { f->addr_a[0], f->addr_a[1] }, *pc[1] = { "127.0.0.1:9" };
	struct hha_membership *p = make(f, self, true, t, links, 2);

	assert_int_equal(hha_membership_add_peer(p, 1, "a", pa, 2), 0);
	if (with_c)
		assert_int_equal(hha_membership_add_peer(p, 3, "c", pc, 1), 0);
	return p;
}

static void test_keeps_state_applies_timers_and_peers(void **state)
{
	struct fixture *f = *state;
	uint8_t old[HB_MAX_PACKET];
	int oldlen, fds[4];
	char changes[512];
	uint64_t inc = hha_membership_incarnation(f->b);
	struct hha_member_info before, after;
	struct hha_membership *p;
	unsigned ids[4];

	meet(f);
	assert_int_equal(a_to_b(f, 0, old, &oldlen), HB_ACCEPTED);
	assert_int_equal(hha_membership_peer_state(f->b, 1, &before), 0);
	assert_int_equal(hha_membership_fds(f->b, fds, 4), 2);
	int fd0 = fds[0];

	p = plan_b(f, 2, (struct timers){ 50, 150, 250 }, true);
	assert_int_equal(hha_membership_reconfigure(f->b, p, changes, sizeof(changes)), 0);
	hha_membership_free(p);
	assert_non_null(strstr(changes, "keepalive 100 -> 50 ms"));
	assert_non_null(strstr(changes, "deadtime 500 -> 250 ms"));
	assert_non_null(strstr(changes, "peer c (3) added"));
	assert_null(strstr(changes, "link"));
	/* Same incarnation, same sockets, A still up with its incarnation and windows. */
	assert_true(hha_membership_incarnation(f->b) == inc);
	assert_int_equal(hha_membership_fds(f->b, fds, 4), 2);
	assert_int_equal(fds[0], fd0);
	assert_int_equal(hha_membership_peer_state(f->b, 1, &after), 0);
	assert_int_equal(after.state, HHA_MEMBER_UP);
	assert_true(after.incarnation == before.incarnation);
	assert_int_equal(input(f->b, f->addr_a[0], 0, old, (size_t)oldlen), HB_DROP_REPLAY);
	assert_int_equal(a_to_b(f, 0, NULL, NULL), HB_ACCEPTED);
	assert_int_equal(hha_membership_peers(f->b, ids, 4), 2);
	assert_int_equal(state_of(f->b, 3), HHA_MEMBER_INIT);
	/* The new deadtime is the one used: dead 250 ms after the last datagram. */
	fake_now += 249;
	assert_int_equal(hha_membership_dispatch(f->b), 0);
	assert_int_equal(state_of(f->b, 1), HHA_MEMBER_LATE);
	fake_now += 1;
	assert_int_equal(hha_membership_dispatch(f->b), 0);
	assert_int_equal(state_of(f->b, 1), HHA_MEMBER_DEAD);

	/* C removed again: gone from the members; nothing else changes. */
	p = plan_b(f, 2, (struct timers){ 50, 150, 250 }, false);
	assert_int_equal(hha_membership_reconfigure(f->b, p, changes, sizeof(changes)), 0);
	hha_membership_free(p);
	assert_string_equal(changes, "peer c (3) removed");
	assert_int_equal(hha_membership_peers(f->b, ids, 4), 1);
	assert_int_equal(hha_membership_peer_state(f->b, 3, &after), -ENOENT);
	/* Nothing at all: an empty list. */
	p = plan_b(f, 2, (struct timers){ 50, 150, 250 }, false);
	assert_int_equal(hha_membership_reconfigure(f->b, p, changes, sizeof(changes)), 0);
	hha_membership_free(p);
	assert_string_equal(changes, "");
}

static void test_key_rotation(void **state)
{
	struct fixture *f = *state;
	struct hha_membership_counters c;
	char changes[512];
	struct hha_membership *p;

	meet(f);
	/* Step 1 on B: add key 2 (still sending with 1). */
	p = plan_b(f, 2, T0, false);
	assert_int_equal(hha_membership_add_key(p, 2, KEY2, strlen(KEY2)), 0);
	assert_int_equal(hha_membership_set_send_key(p, 1), 0);
	assert_int_equal(hha_membership_reconfigure(f->b, p, changes, sizeof(changes)), 0);
	hha_membership_free(p);
	assert_string_equal(changes, "key 2 added");
	/* A (not reloaded the same way here) sends with key 2 from now on: B accepts. */
	assert_int_equal(hha_membership_add_key(f->a, 2, KEY2, strlen(KEY2)), 0);
	assert_int_equal(hha_membership_set_send_key(f->a, 2), 0);
	assert_int_equal(a_to_b(f, 0, NULL, NULL), HB_ACCEPTED);
	/* Steps 2 and 3 on B: send with 2, then drop 1. */
	p = plan_b(f, 2, T0, false);
	assert_int_equal(hha_membership_add_key(p, 2, KEY2, strlen(KEY2)), 0);
	assert_int_equal(hha_membership_set_send_key(p, 2), 0);
	assert_int_equal(hha_membership_remove_key(p, 1), 0);
	assert_int_equal(hha_membership_reconfigure(f->b, p, changes, sizeof(changes)), 0);
	hha_membership_free(p);
	assert_string_equal(changes, "key 1 removed; send key 1 -> 2");
	/* A datagram made with the old key is now refused. */
	assert_int_equal(hha_membership_set_send_key(f->a, 1), 0);
	assert_int_equal(a_to_b(f, 0, NULL, NULL), HB_DROP_UNKNOWN_KEY);
	/* The same id with another secret is a change too. */
	p = plan_b(f, 2, T0, false);
	assert_int_equal(hha_membership_add_key(p, 2, "yet-another-key-0123456", 23), 0);
	assert_int_equal(hha_membership_set_send_key(p, 2), 0);
	assert_int_equal(hha_membership_remove_key(p, 1), 0);
	assert_int_equal(hha_membership_reconfigure(f->b, p, changes, sizeof(changes)), 0);
	hha_membership_free(p);
	assert_string_equal(changes, "key 2 replaced (new content)");
	hha_membership_counters(f->b, &c);
	assert_int_equal(c.unknown_key, 1);
	assert_int_equal(c.bad_mac, 0);
}

static void test_links_and_refusals(void **state)
{
	struct fixture *f = *state;
	const char *one[1] = { "127.0.0.1:0" };
	const char *pa[2] = { f->addr_a[0], f->addr_a[1] };
	char changes[512];
	struct hha_membership *p;
	int fds[4];

	meet(f);
	/* Refused, nothing changed: another node id; a started object; not running. */
	p = plan_b(f, 5, T0, true);
	assert_int_equal(hha_membership_reconfigure(f->b, p, changes, sizeof(changes)), -EINVAL);
	assert_non_null(strstr(hha_last_error(), "this node's id cannot change while running (2 -> 5)"));
	hha_membership_free(p);
	assert_int_equal(hha_membership_peers(f->b, NULL, 0), 1);
	p = plan_b(f, 2, T0, false);
	assert_int_equal(hha_membership_start(p), -HHA_ESTATE);
	hha_membership_free(p);
	assert_int_equal(hha_membership_reconfigure(f->b, f->a, changes, sizeof(changes)), -HHA_ESTATE);
	/* Link 1 removed; link 0 ("port 0": any) keeps its socket. */
	int port0 = hha_membership_link_port(f->b, 0);
	p = make(f, 2, true, T0, one, 1);
	assert_int_equal(hha_membership_add_peer(p, 1, "a", pa, 1), 0);
	assert_int_equal(hha_membership_reconfigure(f->b, p, changes, sizeof(changes)), 0);
	hha_membership_free(p);
	assert_string_equal(changes, "link 1 (127.0.0.1) removed");
	assert_int_equal(hha_membership_fds(f->b, fds, 4), 1);
	assert_int_equal(hha_membership_link_port(f->b, 0), port0);
	/* Link 0 moved to another address: a new socket; link 1 back as a new link. */
	p = make(f, 2, true, T0, (const char *const[]){ "127.0.0.2:0", "127.0.0.1:0" }, 2);
	assert_int_equal(hha_membership_add_peer(p, 1, "a", pa, 2), 0);
	assert_int_equal(hha_membership_reconfigure(f->b, p, changes, sizeof(changes)), 0);
	hha_membership_free(p);
	assert_string_equal(changes, "link 0: 127.0.0.1 -> 127.0.0.2; link 1 (127.0.0.1) added");
	assert_int_equal(hha_membership_fds(f->b, fds, 4), 2);
	assert_string_equal(hha_membership_link_address(f->b, 0), "127.0.0.2");
	assert_int_equal(state_of(f->b, 1), HHA_MEMBER_UP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keeps_state_applies_timers_and_peers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_links_and_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
