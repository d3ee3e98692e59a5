/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the epoll loop — fd callbacks, timers, removal inside callbacks. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/internal.h"
#include "core/loop.h"

struct ctx {
	struct hha_loop *loop;
	struct hha_io *io;
	int reads, fires;
	int64_t fired_at;
	struct hha_timer *other;
};

static void on_read(struct hha_io *io, int fd, uint32_t events, void *ud)
{
	struct ctx *c = ud;
	char b;

	assert_true(read(fd, &b, 1) == 1);
	c->reads++;
	/* Deleting the watcher from its own callback is allowed. */
	hha_io_del(io);
	c->io = NULL;
}

static void on_timer(struct hha_timer *t, void *ud)
{
	struct ctx *c = ud;

	c->fires++;
	c->fired_at = hha_now_ms();
	/* Freeing another timer from a callback is allowed. */
	hha_timer_free(c->other);
	c->other = NULL;
	hha_loop_quit(c->loop);
}

static void never(struct hha_timer *t, void *ud)
{
	fail_msg("a freed timer fired");
}

static void test_io_and_timers(void **state)
{
	struct ctx c = { 0 };
	struct hha_timer *t;
	int p[2];
	int64_t start;

	(void)state;
	assert_int_equal(hha_loop_new(&c.loop), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(hha_io_add(c.loop, p[0], EPOLLIN, on_read, &c, &c.io), 0);
	assert_int_equal(write(p[1], "xy", 2), 2);
	assert_int_equal(hha_loop_run_once(c.loop, 100), 0);
	assert_int_equal(c.reads, 1);
	/* The watcher is gone: the second byte wakes nobody. */
	assert_int_equal(hha_loop_run_once(c.loop, 20), 0);
	assert_int_equal(c.reads, 1);

	assert_int_equal(hha_timer_new(c.loop, on_timer, &c, &t), 0);
	assert_int_equal(hha_timer_new(c.loop, never, &c, &c.other), 0);
	assert_false(hha_timer_armed(t));
	start = hha_now_ms();
	hha_timer_arm_in(t, 30);
	hha_timer_arm_in(c.other, 31);
	assert_true(hha_timer_armed(t));
	assert_int_equal(hha_loop_run(c.loop), 0);
	assert_int_equal(c.fires, 1);
	assert_true(c.fired_at - start >= 30);
	assert_false(hha_timer_armed(t));
	hha_timer_disarm(t);
	assert_int_equal(hha_loop_run_once(c.loop, 50), 0);
	assert_int_equal(c.fires, 1);
	hha_timer_free(t);
	hha_loop_free(c.loop);
	close(p[0]);
	close(p[1]);
}

static void test_timeout_helper(void **state)
{
	(void)state;
	assert_int_equal(hha_timeout_ms(-1), -1);
	assert_int_equal(hha_timeout_ms(0), 0);
	assert_true(hha_timeout_ms(hha_now_ms() + 1000) > 900);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_io_and_timers),
		cmocka_unit_test(test_timeout_helper),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
