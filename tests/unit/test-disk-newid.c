/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Tests of a primary's new generation id written without the resource lock: writes wait for it, status does not. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "disk/engine.h"

#include "test-disk-pairlib.h"

/* The current id the store holds now. */
static uint64_t disk_current(struct node *n)
{
	struct hha_md_read_info info;
	struct hha_md_sb sb;
	struct stat st;
	int fd = open(n->path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(hha_md_read(fd, (uint64_t)st.st_size, &sb, &info), 0);
	close(fd);
	return sb.uuid_current;
}

/* A primary alone that has not yet made its new id (as after a link loss). */
static void alone_primary(struct node *n)
{
	node_init(n, "r0");
	assert_int_equal(hha_disk_primary(n->d, true), 0);
	pthread_mutex_lock(&n->d->lock);
	n->d->uuid_fresh = false;
	pthread_mutex_unlock(&n->d->lock);
	atomic_store(&done_count, 0);
	atomic_store(&err_count, 0);
}

struct bg {
	struct node *n;
	struct wreq *w;
};

static void *bg_submit(void *arg)
{
	struct bg *b = arg;

	submit(b->n, b->w, HHA_NBD_CMD_WRITE, 0, 4096, 0);
	return NULL;
}

static bool nc_busy(struct node *n)
{
	bool busy;

	pthread_mutex_lock(&n->d->lock);
	busy = n->d->nc_busy;
	pthread_mutex_unlock(&n->d->lock);
	return busy;
}

/* While the id's write waits (here: for another superblock writer, as a
 * stalled store would make it), the lock is free, status answers, and no
 * write is answered; once written, all are, and the store holds the new id. */
static void test_writes_wait_status_does_not(void **state)
{
	static uint8_t buf[2][4096];
	struct wreq w[2] = { { .buf = buf[0] }, { .buf = buf[1] } };
	struct hha_disk_status st;
	struct node a;
	struct bg b;
	pthread_t th;
	uint64_t before;
	int64_t end;

	(void)state;
	alone_primary(&a);
	before = disk_current(&a);
	pthread_mutex_lock(&a.d->lock);
	a.d->md_busy = true;
	pthread_mutex_unlock(&a.d->lock);
	b = (struct bg){ &a, &w[0] };
	assert_int_equal(pthread_create(&th, NULL, bg_submit, &b), 0);
	end = hha_now_ms() + 5000;
	while (!nc_busy(&a)) {
		assert_true(hha_now_ms() < end);
		usleep(1000);
	}
	/* The lock is free while the id is on its way to disk. */
	assert_int_equal(pthread_mutex_trylock(&a.d->lock), 0);
	pthread_mutex_unlock(&a.d->lock);
	status(&a, &st);
	/* A second write is held, not answered, and its submit returns. */
	submit(&a, &w[1], HHA_NBD_CMD_WRITE, 8192, 4096, 0);
	usleep(50000);
	assert_int_equal(atomic_load(&done_count), 0);
	assert_int_equal(disk_current(&a), before);
	pthread_mutex_lock(&a.d->lock);
	a.d->md_busy = false;
	pthread_cond_broadcast(&a.d->cond);
	pthread_mutex_unlock(&a.d->lock);
	wait_done(2);
	assert_int_equal(pthread_join(th, NULL), 0);
	assert_int_equal(atomic_load(&err_count), 0);
	assert_int_not_equal(disk_current(&a), before);
	assert_int_equal(disk_current(&a), a.d->sb.uuid_current);
	assert_false(a.d->nc_pending);
	node_fini(&a);
}

/* An id that cannot be written fails the write; the next write writes the
 * same id again (not a third one) and succeeds. */
static void test_write_fails_then_retries(void **state)
{
	static uint8_t buf[4096];
	struct wreq w = { .buf = buf };
	struct node a;
	uint64_t before, rotated;
	int md_fd, ro;

	(void)state;
	alone_primary(&a);
	before = disk_current(&a);
	ro = open(a.path, O_RDONLY);
	assert_true(ro >= 0);
	pthread_mutex_lock(&a.d->lock);
	md_fd = a.d->md_fd;
	a.d->md_fd = ro; /* every metadata write fails */
	pthread_mutex_unlock(&a.d->lock);
	submit(&a, &w, HHA_NBD_CMD_WRITE, 0, 4096, 0);
	wait_done(1);
	assert_int_equal(atomic_load(&err_count), 1);
	pthread_mutex_lock(&a.d->lock);
	assert_true(a.d->nc_pending);
	rotated = a.d->sb.uuid_current;
	a.d->md_fd = md_fd;
	pthread_mutex_unlock(&a.d->lock);
	close(ro);
	assert_int_equal(disk_current(&a), before);
	assert_int_not_equal(rotated, before);
	submit(&a, &w, HHA_NBD_CMD_WRITE, 0, 4096, 0);
	wait_done(2);
	assert_int_equal(atomic_load(&err_count), 1);
	assert_int_equal(disk_current(&a), rotated);
	node_fini(&a);
}

/* A write that waited in the in-flight tree while the link went starts
 * later, on another thread, with nobody making the id: it is held, a
 * worker makes the id, and only then is it answered. */
static void test_held_write_makes_the_id(void **state)
{
	static uint8_t buf[4096];
	struct hha_nbd_req req = { .cmd = HHA_NBD_CMD_WRITE, .offset = 0, .len = 4096, .buf = buf };
	struct hha_op *op = calloc(1, sizeof(*op));
	struct node a;
	uint64_t before;
	int64_t end;

	(void)state;
	alone_primary(&a);
	before = disk_current(&a);
	assert_non_null(op);
	op->d = a.d;
	op->kind = HHA_OP_APP;
	op->req = &req;
	op->cmd = HHA_CMD_WRITE;
	op->off = 0;
	op->len = 4096;
	op->buf = buf;
	op->replicate = true;
	atomic_init(&op->pending, 1);
	atomic_init(&op->reply, 1);
	pthread_mutex_lock(&a.d->lock);
	a.d->md_busy = true; /* the store is slow: the id's write waits */
	ADD(a.d->app_inflight, 1);
	op->seq = ++a.d->seq;
	hha_op_enter(a.d, op);
	pthread_mutex_unlock(&a.d->lock);
	end = hha_now_ms() + 5000;
	while (!nc_busy(&a)) {
		assert_true(hha_now_ms() < end);
		usleep(1000);
	}
	usleep(50000);
	assert_int_equal(atomic_load(&done_count), 0);
	pthread_mutex_lock(&a.d->lock);
	a.d->md_busy = false;
	pthread_cond_broadcast(&a.d->cond);
	pthread_mutex_unlock(&a.d->lock);
	wait_done(1);
	assert_int_equal(atomic_load(&err_count), 0);
	assert_int_not_equal(disk_current(&a), before);
	node_fini(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writes_wait_status_does_not),
		cmocka_unit_test(test_write_fails_then_retries),
		cmocka_unit_test(test_held_write_makes_the_id),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
