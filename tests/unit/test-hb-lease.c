/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: witness leases (grant, renew, expire, skew margins, restart quiet period). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "net/lease.h"

#define DUR 4000

/* One exchange: client sends round @seq at its time @tc; witness hears it at @tw and answers. */
static void exchange(struct hb_lease_witness *w, struct hb_lease_client *c, uint16_t self,
		     uint64_t inc, uint64_t seq, int64_t tc, int64_t tw)
{
	struct hb_lease_msg req, grant;
	uint8_t buf[64];
	int n;

	hb_lease_client_sent(c, seq, tc);
	hb_lease_client_msg(c, &req);
	n = hb_lease_encode(&req, buf, sizeof(buf));
	assert_int_equal(n, HB_LEASE_REQ_LEN);
	assert_int_equal(hb_lease_decode(buf, (size_t)n, &req), 0);
	hb_lease_witness_request(w, self, inc, seq, req.want, tw);
	hb_lease_witness_msg(w, tw, &grant);
	n = hb_lease_encode(&grant, buf, sizeof(buf));
	assert_int_equal(n, HB_LEASE_GRANT_LEN);
	assert_int_equal(hb_lease_decode(buf, (size_t)n, &grant), 0);
	hb_lease_client_grant(c, self, &grant);
}

static void test_codec(void **state)
{
	struct hb_lease_msg m;

	(void)state;
	assert_int_equal(hb_lease_decode((const uint8_t *)"\x01", 1, &m), -EINVAL);
	assert_int_equal(hb_lease_decode((const uint8_t *)"\x09\0\0\0\0\0\0\0\0\0\0\0", 12, &m), -EINVAL);
	assert_int_equal(hb_lease_decode((const uint8_t *)"\x02\0\0\0\0\0\0\0\0\0\0\0", 12, &m), -EINVAL);
}

static void test_grant_renew_expire(void **state)
{
	struct hb_lease_witness w;
	struct hb_lease_client a, b;
	int64_t margin = hb_lease_margin(DUR);

	(void)state;
	hb_lease_witness_init(&w, 0, DUR, 7);
	hb_lease_client_init(&a);
	hb_lease_client_init(&b);
	hb_lease_client_want(&a, true);
	hb_lease_client_want(&b, true);
	/* Quiet after the witness starts: a lease from before a crash may still run. */
	exchange(&w, &a, 1, 1, 1, 100, 110);
	assert_false(hb_lease_client_held(&a, 110));
	assert_int_equal(w.state, HB_WITNESS_QUIET);
	/* Granted to the first asker after the quiet period. */
	exchange(&w, &a, 1, 1, 2, DUR + margin, DUR + margin + 10);
	assert_int_equal(w.state, HB_WITNESS_HELD);
	assert_int_equal(w.holder, 1);
	assert_true(hb_lease_client_held(&a, DUR + margin + 10));
	/* The holder counts from its send time, minus the margin. */
	assert_int_equal(a.valid_until, DUR + margin + DUR - margin);
	/* Another node is refused while it is held; renewals extend it for the holder only. */
	/* The witness's incarnation is in the epoch's top bits, whole. */
	assert_int_equal(w.epoch >> HB_LEASE_GRANT_BITS, 7);
	exchange(&w, &b, 2, 1, 1, DUR + margin + 50, DUR + margin + 60);
	assert_false(hb_lease_client_held(&b, DUR + margin + 60));
	assert_int_equal(b.holder, 1);
	exchange(&w, &a, 1, 1, 3, 6000, 6005);
	assert_int_equal(a.valid_until, 6000 + DUR - margin);
	/* The holder falls silent: it stops at 6000 + DUR - margin (its clock); the witness
	 * frees the lease only at 6005 + DUR + margin (its clock). */
	assert_true(hb_lease_client_held(&a, 6000 + DUR - margin - 1));
	assert_false(hb_lease_client_held(&a, 6000 + DUR - margin));
	hb_lease_witness_tick(&w, 6005 + DUR + margin - 1);
	assert_int_equal(w.state, HB_WITNESS_HELD);
	exchange(&w, &b, 2, 1, 2, 6005 + DUR + margin - 1, 6005 + DUR + margin - 1);
	assert_false(hb_lease_client_held(&b, 6005 + DUR + margin));
	exchange(&w, &b, 2, 1, 3, 6005 + DUR + margin, 6005 + DUR + margin);
	assert_true(hb_lease_client_held(&b, 6005 + DUR + margin));
	assert_int_equal(w.holder, 2);
	assert_true(b.epoch > 7ULL << HB_LEASE_GRANT_BITS);
	/* The old holder hears the new grant and drops any hope at once. */
	struct hb_lease_msg g;
	hb_lease_witness_msg(&w, 6005 + DUR + margin, &g);
	hb_lease_client_grant(&a, 1, &g);
	assert_false(hb_lease_client_held(&a, 0));
}

/*
 * Clock skew: the holder's clock runs slow by the full drift budget (1000 ppm)
 * and the witness's fast by the same. In real time, the holder must stop
 * before the witness regrants.
 */
/* Wall-clock incarnations (ms since 1970, ~2^41): epochs of successive lives stay apart and ordered. */
static void test_epochs_across_lives(void **state)
{
	static const uint64_t inc[] = { 1795000000000ULL, 1795000000001ULL, 1795000004321ULL,
					(UINT64_C(1) << 44) - 1 };
	uint64_t prev = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(inc) / sizeof(inc[0]); i++) {
		struct hb_lease_witness w;
		struct hb_lease_client a;
		int64_t t = DUR + hb_lease_margin(DUR);

		hb_lease_witness_init(&w, 0, DUR, inc[i]);
		hb_lease_client_init(&a);
		hb_lease_client_want(&a, true);
		exchange(&w, &a, 1, 1, 1, t, t + 10);
		assert_int_equal(w.state, HB_WITNESS_HELD);
		assert_int_equal(w.epoch >> HB_LEASE_GRANT_BITS, inc[i]);
		assert_true(w.epoch > prev);
		prev = w.epoch;
	}
}

static void test_skew(void **state)
{
	struct hb_lease_witness w;
	struct hb_lease_client a;
	const double slow = 1.0 - 1e-3, fast = 1.0 + 1e-3;
	double t_send = 10000.0, owd = 5.0; /* real ms */

	(void)state;
	hb_lease_witness_init(&w, 0, DUR, 1);
	hb_lease_witness_tick(&w, 100000);
	hb_lease_client_init(&a);
	hb_lease_client_want(&a, true);
	exchange(&w, &a, 1, 1, 1, (int64_t)(t_send * slow), (int64_t)((t_send + owd) * fast));
	assert_int_equal(w.holder, 1);
	/* Real time at which the holder stops, and at which the witness frees the lease. */
	double holder_stop = (double)a.valid_until / slow;
	double witness_free = (double)hb_lease_witness_deadline(&w) / fast;
	assert_true(holder_stop < witness_free);
}

static void test_release_and_reorder(void **state)
{
	struct hb_lease_witness w;
	struct hb_lease_client a;

	(void)state;
	hb_lease_witness_init(&w, 0, DUR, 1);
	hb_lease_witness_tick(&w, 10000);
	hb_lease_client_init(&a);
	hb_lease_client_want(&a, true);
	exchange(&w, &a, 1, 5, 10, 10000, 10001);
	assert_int_equal(w.state, HB_WITNESS_HELD);
	hb_lease_client_want(&a, false);
	assert_false(hb_lease_client_held(&a, 10002));
	exchange(&w, &a, 1, 5, 12, 10100, 10101);
	assert_int_equal(w.state, HB_WITNESS_FREE);
	/* Round 11 (want) arrives late on another link: ignored, the lease stays free. */
	hb_lease_witness_request(&w, 1, 5, 11, true, 10102);
	assert_int_equal(w.state, HB_WITNESS_FREE);
	/* So does a request from an older incarnation of the node. */
	hb_lease_witness_request(&w, 1, 4, 99, true, 10103);
	assert_int_equal(w.state, HB_WITNESS_FREE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_grant_renew_expire),
		cmocka_unit_test(test_epochs_across_lives),
		cmocka_unit_test(test_skew),
		cmocka_unit_test(test_release_and_reorder),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
