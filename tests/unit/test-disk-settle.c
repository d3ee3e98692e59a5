/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of resize's loose ends: the asynchronous start, the handshake that finishes a cut resize, the metadata record. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
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

#define MiB (1024ull * 1024)

/* The size-settling table (decide.c), both directions: a side and its
 * peer must reach mirror-image answers from the same two STATEs. */
static void test_settle_table(void **state)
{
#define S HHA_SYNC_SOURCE_BITMAP
#define T HHA_SYNC_TARGET_BITMAP
#define N HHA_SYNC_NONE
	static const struct {
		struct hha_size_view me, peer;
		enum hha_sync_decision dec;
		enum hha_settle want;
		enum hha_sync_decision dir; /* after a settle, from me */
	} rows[] = {
		/* equal sizes: nothing to settle */
		{ { 64, 64, true, true, true }, { 64, 64, true, false, true }, N, HHA_SETTLE_SAME, N },
		/* the cut resize: the peer grew and agreed, my store holds it; primary me sends */
		{ { 64, 96, true, true, true }, { 96, 96, true, false, true }, N, HHA_SETTLE_GROW_ME, S },
		/* ...both secondary: the larger side (which grew first) sends */
		{ { 64, 96, true, false, true }, { 96, 96, true, false, true }, N, HHA_SETTLE_GROW_ME, T },
		/* ...a crashed primary here (row 6b): the generation decision stands */
		{ { 64, 96, true, false, true }, { 96, 96, true, false, true }, S, HHA_SETTLE_GROW_ME, S },
		/* ...the peer went on as primary (row 8'): so does the decision */
		{ { 64, 96, true, false, true }, { 96, 96, true, true, true }, T, HHA_SETTLE_GROW_ME, T },
		/* ...a full sync is a full sync */
		{ { 64, 96, true, false, true }, { 96, 96, true, true, true }, HHA_SYNC_TARGET_FULL,
		  HHA_SETTLE_GROW_ME, HHA_SYNC_TARGET_FULL },
		/* my store did not grow (enough): refused */
		{ { 64, 64, true, true, true }, { 96, 96, true, false, true }, N, HHA_SETTLE_REFUSE, N },
		{ { 64, 92, true, true, true }, { 96, 96, true, false, true }, N, HHA_SETTLE_REFUSE, N },
		/* the larger size was never agreed (two new stores of different size, attach --size) */
		{ { 64, 96, true, true, true }, { 96, 96, false, false, true }, N, HHA_SETTLE_REFUSE, N },
		/* split brain, unrelated or blank disks: refused whatever the sizes */
		{ { 64, 96, true, true, true }, { 96, 96, true, false, true }, HHA_SYNC_SPLIT_BRAIN,
		  HHA_SETTLE_REFUSE, N },
		{ { 64, 96, true, true, true }, { 96, 96, true, false, true }, HHA_SYNC_UNRELATED,
		  HHA_SETTLE_REFUSE, N },
		{ { 64, 96, true, true, true }, { 96, 96, true, false, true }, HHA_SYNC_BLANK, HHA_SETTLE_REFUSE, N },
		/* an older peer (no SETTLE): refused */
		{ { 64, 96, true, true, false }, { 96, 96, true, false, false }, N, HHA_SETTLE_REFUSE, N },
	};
	(void)state;

	for (size_t i = 0; i < HHA_ARRAY_SIZE(rows); i++) {
		enum hha_settle got = hha_size_settle(&rows[i].me, &rows[i].peer, rows[i].dec);
		enum hha_sync_decision mirror = rows[i].dec == S ? T : rows[i].dec == T ? S
					       : rows[i].dec == HHA_SYNC_TARGET_FULL ? HHA_SYNC_SOURCE_FULL
										  : rows[i].dec;
		enum hha_settle back = hha_size_settle(&rows[i].peer, &rows[i].me, mirror);

		if (got != rows[i].want)
			fail_msg("row %zu: settle %d, expected %d", i, got, rows[i].want);
		/* The peer's view of the same meeting. */
		assert_int_equal(back, got == HHA_SETTLE_GROW_ME ? HHA_SETTLE_GROW_PEER
				 : got == HHA_SETTLE_GROW_PEER ? HHA_SETTLE_GROW_ME : got);
		if (got == HHA_SETTLE_GROW_ME || got == HHA_SETTLE_GROW_PEER) {
			enum hha_sync_decision a = hha_settle_direction(&rows[i].me, &rows[i].peer, rows[i].dec);
			enum hha_sync_decision b = hha_settle_direction(&rows[i].peer, &rows[i].me, mirror);
			if (a != rows[i].dir)
				fail_msg("row %zu: direction %d, expected %d", i, a, rows[i].dir);
			assert_true((a == S && b == T) || (a == T && b == S) ||
				    (a == HHA_SYNC_TARGET_FULL && b == HHA_SYNC_SOURCE_FULL));
		}
	}
#undef S
#undef T
#undef N
}

static void grow_file(struct node *n, uint64_t by)
{
	struct stat st;

	assert_int_equal(stat(n->path, &st), 0);
	assert_int_equal(truncate(n->path, st.st_size + (off_t)by), 0);
}

struct evrec {
	int done;     /* resize-done events */
	int result;
};

static void on_event(struct hha_disk *d, const struct hha_disk_event *ev, void *ud)
{
	struct evrec *e = ud;

	(void)d;
	if (strcmp(ev->what, "resize-done") == 0) {
		e->done++;
		e->result = ev->result;
	}
}

/* Dispatch both until @e saw a resize-done (or @ms pass). */
static void wait_event(struct node *a, struct node *b, struct evrec *e, int ms)
{
	for (int64_t end = hha_now_ms() + ms; !e->done; usleep(5000)) {
		hha_disk_dispatch(a->d);
		hha_disk_dispatch(b->d);
		if (hha_now_ms() > end)
			fail_msg("no resize-done event");
	}
}

/*
 * The start returns at once while the peer takes its time (a test hook
 * delays its answer); the caller's thread stays free (status answers at
 * once), and the outcome arrives as one event.
 */
static void test_async_start(void **state)
{
	struct hha_disk_resize_opts o = { .struct_size = sizeof(o) };
	struct hha_disk_status sa, sb;
	struct evrec e = { 0 };
	struct node a, b;
	uint64_t size0;
	int64_t t0;
	(void)state;

	pair_up(&a, &b, 'C');
	hha_disk_set_event_fn(a.d, on_event, &e);
	status(&a, &sa);
	size0 = sa.size;
	grow_file(&a, 16 * MiB);
	grow_file(&b, 16 * MiB);
	setenv("HHA_TEST_RESIZE_DELAY_MS", "1500", 1);
	t0 = hha_now_ms();
	assert_int_equal(hha_disk_resize_start(a.d, &o), 1);
	assert_true(hha_now_ms() - t0 < 200);
	/* Busy: a second one is refused at once. */
	assert_int_equal(hha_disk_resize_start(a.d, &o), -EBUSY);
	status(&a, &sa);
	assert_int_equal(sa.size, size0);
	assert_true(hha_now_ms() - t0 < 300);
	wait_event(&a, &b, &e, 10000);
	unsetenv("HHA_TEST_RESIZE_DELAY_MS");
	assert_true(hha_now_ms() - t0 >= 1500);
	assert_int_equal(e.done, 1);
	assert_int_equal(e.result, 0);
	status(&a, &sa);
	assert_true(sa.size > size0 + 15 * MiB);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
	status(&b, &sb);
	assert_int_equal(sb.size, sa.size);
	compare(&a, &b);
	/* A refusal comes the same way: the peer did not grow this time. */
	grow_file(&a, 16 * MiB);
	e.done = 0;
	assert_int_equal(hha_disk_resize_start(a.d, &o), 1);
	wait_event(&a, &b, &e, 10000);
	assert_int_equal(e.result, -ENOSPC);
	node_fini(&a);
	node_fini(&b);
}

/*
 * A resize cut between the two growths (the hook stops the primary right
 * after the secondary grew), then the link goes: the next handshake
 * finishes it, and only the grown area is copied. A peer whose store did
 * not grow is still refused.
 */
static void test_settle_pair(void **state)
{
	struct hha_disk_resize_opts o = { .struct_size = sizeof(o) };
	struct hha_disk_status sa, sb;
	struct evrec e = { 0 };
	struct node a, b;
	uint64_t size0, rs0;
	(void)state;

	pair_up(&a, &b, 'C');
	hha_disk_set_event_fn(a.d, on_event, &e);
	status(&a, &sa);
	size0 = sa.size;
	rs0 = sa.resynced;
	grow_file(&a, 16 * MiB);
	grow_file(&b, 16 * MiB);
	setenv("HHA_TEST_RESIZE_STOP", "before-grow", 1);
	assert_int_equal(hha_disk_resize_start(a.d, &o), 1);
	for (int64_t end = hha_now_ms() + 10000;; usleep(5000)) {
		status(&b, &sb);
		if (sb.size > size0)
			break;
		if (hha_now_ms() > end)
			fail_msg("the secondary did not grow");
	}
	unsetenv("HHA_TEST_RESIZE_STOP");
	status(&a, &sa);
	assert_int_equal(sa.size, size0);
	/* The link breaks: the caller hears of it... */
	assert_int_equal(hha_disk_disconnect(a.d), 0);
	assert_int_equal(hha_disk_disconnect(b.d), 0);
	wait_event(&a, &b, &e, 5000);
	assert_int_equal(e.result, -ECONNRESET);
	/* ...and the next handshake settles on the larger size. */
	node_connect(&a, &b, 'C', HHA_DISK_SEC_AUTH);
	node_connect(&b, &a, 'C', HHA_DISK_SEC_AUTH);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
	status(&a, &sa);
	status(&b, &sb);
	assert_int_equal(sa.size, sb.size);
	assert_int_equal(sa.size, size0 + 16 * MiB);
	/* The primary sent the grown area, nothing else. */
	assert_int_equal(sa.resynced - rs0, 16 * MiB);
	assert_int_equal(sa.out_of_sync, 0);
	compare(&a, &b);

	/* The secondary grows alone (its store grew), the primary's store did not: refused. */
	assert_int_equal(hha_disk_disconnect(a.d), 0);
	assert_int_equal(hha_disk_disconnect(b.d), 0);
	grow_file(&b, 16 * MiB);
	o.assume_peer_has_space = true;
	assert_int_equal(hha_disk_resize(b.d, &o), 0);
	node_connect(&a, &b, 'C', HHA_DISK_SEC_AUTH);
	node_connect(&b, &a, 'C', HHA_DISK_SEC_AUTH);
	wait_refusal(&a, &b, "size mismatch");
	status(&a, &sa);
	assert_int_equal(sa.size, size0 + 16 * MiB);
	node_fini(&a);
	node_fini(&b);
}

/* The metadata record: round trip, refusal of anything else, atomic replacement. */
static void test_hint_file(void **state)
{
	struct hha_md_hint h = { .name = "r0", .md_uuid = 0x0123456789abcdefull, .backing_size = 96 * MiB,
				 .md_offset = 90 * MiB, .md_size = 64 * 4096 }, out;
	static const char *const bad[] = {
		"",
		"hybridha-md-hint 2\nname r0\n",
		"hybridha-md-hint 1\nname r0\nmd_uuid 0123456789abcdef\nbacking_size 1\nmd_offset 0\n",
		"hybridha-md-hint 1\nname r0\nmd_uuid 0123456789abcdef\nbacking_size 100663296\nmd_offset 94371840\nmd_size -4096\n",
		"hybridha-md-hint 1\nname r0\nmd_uuid 0123456789abcdef\nbacking_size 4096\nmd_offset 94371840\nmd_size 262144\n",
		"hybridha-md-hint 1\nname r0\nmd_uuid xyz\nbacking_size 100663296\nmd_offset 94371840\nmd_size 262144\n",
		"hybridha-md-hint 1\nname r0\nmd_uuid 0123456789abcdef\nbacking_size 100663296\nmd_offset 94371841\nmd_size 262144\n",
		"hybridha-md-hint 1\nnoise\n",
	};
	char dir[64], path[128], tmp[140];
	(void)state;

	strcpy(dir, "/tmp/hha-test-hint-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/disk-r0.md", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(hha_md_hint_load(path, &out), -ENOENT);
	assert_int_equal(hha_md_hint_save(path, &h), 0);
	assert_int_equal(hha_md_hint_load(path, &out), 0);
	assert_memory_equal(&h, &out, sizeof(h));
	assert_int_equal(access(tmp, F_OK), -1);
	h.md_offset += 4096 * 16;
	h.backing_size += 4096 * 16;
	assert_int_equal(hha_md_hint_save(path, &h), 0);
	assert_int_equal(hha_md_hint_load(path, &out), 0);
	assert_int_equal(out.md_offset, h.md_offset);
	for (size_t i = 0; i < HHA_ARRAY_SIZE(bad); i++) {
		FILE *f = fopen(path, "w");
		assert_non_null(f);
		fputs(bad[i], f);
		fclose(f);
		if (hha_md_hint_load(path, &out) != -EBADMSG)
			fail_msg("bad record %zu accepted", i);
		assert_non_null(strstr(hha_last_error(), "not a metadata record"));
	}
	unlink(path);
	rmdir(dir);
}

/* attach records where the metadata is; a grow moves it and the record follows. */
static void test_attach_records(void **state)
{
	struct hha_disk_resize_opts ro = { .struct_size = sizeof(ro), .assume_peer_has_space = true };
	struct hha_disk_attach_opts ao = { .struct_size = sizeof(ao) };
	struct hha_md_hint h1, h2;
	struct hha_disk_status st;
	char dir[64], path[128];
	struct node a;
	uint64_t size1;
	(void)state;

	strcpy(dir, "/tmp/hha-test-hint-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/disk-r0.md", dir);
	node_init(&a, "r0");
	ao.backing = a.path;
	ao.state_file = path;
	assert_int_equal(hha_disk_detach(a.d), 0);
	assert_int_equal(hha_disk_attach(a.d, &ao), 0);
	assert_int_equal(hha_md_hint_load(path, &h1), 0);
	assert_string_equal(h1.name, "r0");
	grow_file(&a, 32 * MiB);
	assert_int_equal(hha_disk_resize(a.d, &ro), 0);
	status(&a, &st);
	size1 = st.size;
	assert_int_equal(hha_md_hint_load(path, &h2), 0);
	assert_int_equal(h2.md_uuid, h1.md_uuid);
	assert_true(h2.md_offset > h1.md_offset);
	/* Grown again while detached (by far more than is searched, sparse
	 * or not): the record finds it without a search. */
	assert_int_equal(hha_disk_detach(a.d), 0);
	grow_file(&a, 6ull << 30);
	assert_int_equal(hha_disk_attach(a.d, &ao), 0);
	status(&a, &st);
	assert_int_equal(st.size, size1);
	node_fini(&a);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settle_table),
		cmocka_unit_test(test_hint_file),
		cmocka_unit_test(test_attach_records),
		cmocka_unit_test(test_async_start),
		cmocka_unit_test(test_settle_pair),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
