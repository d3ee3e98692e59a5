/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Resync between two in-process engines: bitmap, resume, split brain and recovery, verify, checksums, outdate. */
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
#include <openssl/evp.h>

#include "disk/engine.h"

#include "test-disk-pairlib.h"

/* Wait until @n is disconnected from its peer (WFConnection or StandAlone). */
static void wait_alone(struct node *n)
{
	struct hha_disk_status st;

	for (int64_t end = hha_now_ms() + 10000;; usleep(2000)) {
		hha_disk_dispatch(n->d);
		status(n, &st);
		if (st.cstate == HHA_CS_WFCONNECTION || st.cstate == HHA_CS_STANDALONE)
			return;
		if (hha_now_ms() > end)
			fail_msg("still %s", hha_conn_state_name(st.cstate));
	}
}

/* @count random 4 KiB writes of random data in [lo, hi); returns the bytes they changed. */
static uint64_t scatter(struct node *n, unsigned seed, int count, uint64_t lo, uint64_t hi)
{
	struct wreq *w = calloc((size_t)count, sizeof(*w));
	uint8_t *seen = calloc((size_t)((hi - lo) / 4096), 1);
	int base = atomic_load(&done_count);
	uint64_t changed = 0;

	for (int i = 0; i < count; i++) {
		uint64_t blk = (uint64_t)rand_r(&seed) % ((hi - lo) / 4096);
		fill(&w[i], 4096, seed + (unsigned)i);
		submit(n, &w[i], HHA_NBD_CMD_WRITE, lo + blk * 4096, 4096, 0);
		if (!seen[blk]++)
			changed += 4096;
	}
	wait_done(base + count);
	for (int i = 0; i < count; i++)
		free(w[i].buf);
	free(w);
	free(seen);
	return changed;
}

static void flush(struct node *n)
{
	struct wreq f = { 0 };
	int base = atomic_load(&done_count);

	submit(n, &f, HHA_NBD_CMD_FLUSH, 0, 0, 0);
	wait_done(base + 1);
}

/* SHA-256 of a node's data area (not its internal metadata, which the engine
 * may write at any time: bitmap write-back, the split-brain flag). */
static void file_sha(struct node *node, uint8_t out[32])
{
	struct hha_disk_status st;
	int fd = open(node->path, O_RDONLY);
	uint8_t *buf;
	ssize_t n;

	status(node, &st);
	buf = malloc(st.size);
	assert_true(fd >= 0 && buf);
	n = pread(fd, buf, st.size, 0);
	assert_int_equal(n, (ssize_t)st.size);
	EVP_Digest(buf, (size_t)n, out, NULL, EVP_sha256(), NULL);
	free(buf);
	close(fd);
}

/* Reopen a node's backing store in a new engine (a restart of hhad). */
static void node_restart(struct node *n)
{
	struct hha_disk_attach_opts ao = { .struct_size = sizeof(ao), .backing = n->path };

	hha_disk_free(n->d);
	assert_int_equal(hha_disk_new(ctx, "r0", &n->d), 0);
	assert_int_equal(hha_disk_attach(n->d, &ao), 0);
	hha_disk_set_complete(n->d, complete);
}

/* Writes while disconnected: only they are copied at the reconnect. */
static void test_bitmap_bytes(void **state)
{
	struct node a, b;
	struct hha_disk_status sa, sb;
	uint64_t changed, before, before_b;

	(void)state;
	pair_up(&a, &b, 'C');
	assert_int_equal(hha_disk_disconnect(b.d), 0);
	wait_alone(&a);
	status(&a, &sa);
	changed = scatter(&a, 3, 800, 0, sa.size);
	status(&a, &sa);
	assert_int_equal(sa.out_of_sync, changed);
	before = sa.resynced;
	status(&b, &sb);
	before_b = sb.resynced;
	node_connect(&b, &a, 'C', HHA_DISK_SEC_AUTH);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
	status(&a, &sa);
	status(&b, &sb);
	assert_int_equal(sa.resynced - before, changed);
	assert_int_equal(sb.resynced - before_b, changed);
	compare(&a, &b);
	node_fini(&a);
	node_fini(&b);
}

/* A full sync cut by a restart of either side goes on where it was. */
static void resume_after_restart(bool restart_source)
{
	struct node a, b;
	struct hha_disk_status st;

	node_init(&a, "r0");
	node_init(&b, "r0");
	hha_disk_set_sync_rate(a.d, 24u << 20);
	node_connect(&a, &b, 'C', HHA_DISK_SEC_AUTH);
	node_connect(&b, &a, 'C', HHA_DISK_SEC_AUTH);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_INCONSISTENT, 10000);
	assert_int_equal(hha_disk_primary(a.d, true), 0);
	for (int64_t end = hha_now_ms() + 10000;; usleep(10000)) {
		hha_disk_dispatch(a.d);
		status(&a, &st);
		if (st.sync_done >= st.size / 2)
			break;
		assert_true(hha_now_ms() < end);
	}
	if (restart_source) {
		/* Freed without a demotion: as after kill -9 of a primary. */
		node_restart(&a);
		assert_int_equal(hha_disk_primary(a.d, false), 0);
		node_connect(&a, &b, 'C', HHA_DISK_SEC_AUTH);
	} else {
		node_restart(&b);
		node_connect(&b, &a, 'C', HHA_DISK_SEC_AUTH);
	}
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
	status(restart_source ? &a : &b, &st);
	/* The rest, not everything again (the bitmap is written back every
	 * 5 s, and at the start: some blocks may go twice). */
	print_message("after the restart: %llu MiB resynced\n", (unsigned long long)(st.resynced >> 20));
	assert_true(st.resynced <= st.size * 3 / 4);
	assert_true(st.resynced > 0);
	compare(&a, &b);
	node_fini(&a);
	node_fini(&b);
}

static void test_resume_target(void **state)
{
	(void)state;
	resume_after_restart(false);
}

static void test_resume_source(void **state)
{
	(void)state;
	resume_after_restart(true);
}

/* Both primary without the link, each writes: refused on both sides, nothing
 * touched; then the side whose data goes connects with discard-my-data. */
static void split_brain(bool b_writes, bool dzc)
{
	struct hha_disk_policy_opts po = { .struct_size = sizeof(po),
					   .after_split_brain = HHA_AFTER_SB_DISCARD_ZERO_CHANGES };
	struct node a, b;
	struct hha_disk_status sa, sb;
	uint8_t ha[32], hb[32], ha2[32], hb2[32];
	uint64_t ca, cb = 0, before;

	pair_up(&a, &b, 'C');
	status(&b, &sb);
	before = sb.resynced;
	if (dzc) {
		assert_int_equal(hha_disk_set_policy(a.d, &po), 0);
		assert_int_equal(hha_disk_set_policy(b.d, &po), 0);
	}
	assert_int_equal(hha_disk_disconnect(a.d), 0);
	assert_int_equal(hha_disk_disconnect(b.d), 0);
	assert_int_equal(hha_disk_primary(b.d, true), 0);
	status(&a, &sa);
	ca = scatter(&a, 11, 300, 0, sa.size / 2 & ~4095ull);
	if (b_writes)
		cb = scatter(&b, 12, 200, sa.size / 2 & ~4095ull, sa.size);
	flush(&a);
	flush(&b);
	assert_int_equal(hha_disk_secondary(b.d), 0);
	status(&a, &sa);
	status(&b, &sb);
	print_message("marked: A %llu KiB, B %llu KiB\n", (unsigned long long)(sa.out_of_sync >> 10),
		      (unsigned long long)(sb.out_of_sync >> 10));
	node_connect(&a, &b, 'C', HHA_DISK_SEC_AUTH);
	node_connect(&b, &a, 'C', HHA_DISK_SEC_AUTH);
	if (!dzc || b_writes) {
		file_sha(&a, ha);
		file_sha(&b, hb);
		wait_refusal(&a, &b, "split brain");
		wait_refusal(&b, &a, "split brain");
		status(&a, &sa);
		status(&b, &sb);
		assert_true(sa.split_brain && sb.split_brain);
		assert_int_equal(sa.cstate, HHA_CS_STANDALONE);
		assert_int_equal(sb.cstate, HHA_CS_STANDALONE);
		file_sha(&a, ha2);
		file_sha(&b, hb2);
		assert_memory_equal(ha, ha2, 32);
		assert_memory_equal(hb, hb2, 32);
		/* Recovery: B's changes go. */
		{
			struct hha_disk_net_opts o = {
				.struct_size = sizeof(o), .local_addr = "127.0.0.1", .local_port = b.port,
				.peer_addr = "127.0.0.1", .peer_port = a.port, .protocol = HHA_PROTO_C,
				.security = HHA_DISK_SEC_AUTH, .security_set = true, .key_file = keypath,
				.timeout_ms = 2000, .ping_int_ms = 200, .connect_int_ms = 100,
				.discard_my_data = true,
			};
			assert_int_equal(hha_disk_connect(b.d, &o), 0);
		}
		node_connect(&a, &b, 'C', HHA_DISK_SEC_AUTH);
	}
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
	status(&a, &sa);
	status(&b, &sb);
	/* Only what changed on either side moved. */
	sb.resynced -= before;
	print_message("changed %llu + %llu KiB, resynced %llu KiB\n", (unsigned long long)(ca >> 10),
		      (unsigned long long)(cb >> 10), (unsigned long long)(sb.resynced >> 10));
	assert_true(sb.resynced <= ca + cb);
	assert_true(sb.resynced >= ca);
	compare(&a, &b);
	node_fini(&a);
	node_fini(&b);
}

static void test_split_brain(void **state)
{
	(void)state;
	split_brain(true, false);
}

static void test_split_brain_dzc_both_wrote(void **state)
{
	(void)state;
	split_brain(true, true);
}

static void test_discard_zero_changes(void **state)
{
	(void)state;
	split_brain(false, true);
}

/* Verify finds the blocks corrupted behind the engine's back; resync-marked repairs them. */
static void test_verify(void **state)
{
	struct node a, b;
	struct hha_disk_status st;
	static const uint64_t bad[] = { 4096 * 10, 4096 * 11, 4096 * 5000 };
	uint8_t junk[4096];
	int fd;

	(void)state;
	pair_up(&a, &b, 'C');
	scatter(&a, 5, 200, 0, SIZE / 2);
	flush(&a);
	memset(junk, 0x5a, sizeof(junk));
	fd = open(b.path, O_WRONLY);
	for (size_t i = 0; i < HHA_ARRAY_SIZE(bad); i++)
		assert_int_equal(pwrite(fd, junk, sizeof(junk), (off_t)bad[i]), (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(hha_disk_verify(b.d, 0), -HHA_ESTATE); /* on the primary only */
	assert_int_equal(hha_disk_verify(a.d, 0), 0);
	for (int64_t end = hha_now_ms() + 20000;; usleep(5000)) {
		hha_disk_dispatch(a.d);
		status(&a, &st);
		if (!st.verify_running)
			break;
		assert_true(hha_now_ms() < end);
	}
	assert_int_equal(st.verify_pos, st.size);
	assert_int_equal(st.verify_oos, sizeof(bad) / sizeof(bad[0]) * 4096);
	assert_int_equal(st.verify_nranges, 2);
	assert_int_equal(st.verify_ranges[0].off, bad[0]);
	assert_int_equal(st.verify_ranges[0].len, 8192);
	assert_int_equal(st.verify_ranges[1].off, bad[2]);
	assert_int_equal(st.out_of_sync, 3 * 4096);
	assert_int_equal(hha_disk_resync_marked(a.d), 0);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
	for (int64_t end = hha_now_ms() + 5000;; usleep(5000)) {
		status(&a, &st);
		if (st.out_of_sync == 0 && st.cstate == HHA_CS_CONNECTED)
			break;
		assert_true(hha_now_ms() < end);
	}
	compare(&a, &b);
	/* A second verify finds nothing, also with writes going on. */
	assert_int_equal(hha_disk_verify(a.d, 0), 0);
	scatter(&a, 6, 300, 0, SIZE / 2);
	for (int64_t end = hha_now_ms() + 20000;; usleep(5000)) {
		status(&a, &st);
		if (!st.verify_running)
			break;
		assert_true(hha_now_ms() < end);
	}
	assert_int_equal(st.verify_oos, 0);
	node_fini(&a);
	node_fini(&b);
}

/* Checksum resync: 5% marked, 1% really different: about 1% crosses the link. */
static void test_csums(void **state)
{
	struct hha_disk_policy_opts po = { .struct_size = sizeof(po), .csums = true };
	struct node a, b;
	struct hha_disk_status st;
	uint64_t sent0, marked, nblk, differ = 0;
	uint8_t *buf = malloc(4096);
	int fa, fb;

	(void)state;
	pair_up(&a, &b, 'C');
	status(&a, &st);
	nblk = st.size / 4096;
	assert_int_equal(hha_disk_set_policy(a.d, &po), 0);
	assert_int_equal(hha_disk_disconnect(b.d), 0);
	wait_alone(&a);
	/* Every 20th block rewritten on A; B gets the same bytes for 4 of 5 of them. */
	scatter(&a, 1, 1, 0, 4096); /* the first write alone makes the new generation */
	fa = open(a.path, O_RDWR);
	fb = open(b.path, O_RDWR);
	for (uint64_t blk = 0; blk < nblk; blk += 20) {
		struct wreq w = { 0 };
		int base = atomic_load(&done_count);
		fill(&w, 4096, (unsigned)blk);
		submit(&a, &w, HHA_NBD_CMD_WRITE, blk * 4096, 4096, 0);
		wait_done(base + 1);
		if ((blk / 20) % 5 != 0)
			assert_int_equal(pwrite(fb, w.buf, 4096, (off_t)(blk * 4096)), 4096);
		else
			differ += 4096;
		free(w.buf);
	}
	close(fa);
	close(fb);
	status(&a, &st);
	marked = st.out_of_sync;
	sent0 = st.sent;
	node_connect(&b, &a, 'C', HHA_DISK_SEC_AUTH);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
	status(&a, &st);
	print_message("marked %llu KiB, differing %llu KiB, sent %llu KiB, found equal %llu KiB\n",
		      (unsigned long long)(marked >> 10), (unsigned long long)(differ >> 10),
		      (unsigned long long)((st.sent - sent0) >> 10), (unsigned long long)(st.resync_same >> 10));
	assert_true(st.sent - sent0 <= differ + 4096 + marked / 4096 * 32 * 2);
	assert_true(st.resync_same >= marked - differ - 4096);
	compare(&a, &b);
	free(buf);
	node_fini(&a);
	node_fini(&b);
}

/* A secondary left by its primary is Outdated and needs --force. */
static void test_outdate(void **state)
{
	struct node a, b;
	struct hha_disk_status st;

	(void)state;
	pair_up(&a, &b, 'C');
	assert_int_equal(hha_disk_outdate(b.d), -HHA_ESTATE); /* replicating from a primary */
	assert_int_equal(hha_disk_disconnect(a.d), 0);
	wait_alone(&b);
	status(&b, &st);
	assert_int_equal(st.dstate, HHA_DS_OUTDATED);
	assert_int_equal(hha_disk_primary(b.d, false), -HHA_ENOTUPTODATE);
	/* Persisted: still Outdated after a restart. */
	assert_int_equal(hha_disk_disconnect(b.d), 0);
	node_restart(&b);
	status(&b, &st);
	assert_int_equal(st.dstate, HHA_DS_OUTDATED);
	assert_int_equal(hha_disk_primary(b.d, false), -HHA_ENOTUPTODATE);
	/* The verb, on a lone secondary. */
	node_fini(&a);
	node_init(&a, "r1");
	assert_int_equal(hha_disk_primary(a.d, true), 0);
	assert_int_equal(hha_disk_outdate(a.d), -HHA_ESTATE); /* primary */
	assert_int_equal(hha_disk_secondary(a.d), 0);
	assert_int_equal(hha_disk_outdate(a.d), 0);
	status(&a, &st);
	assert_int_equal(st.dstate, HHA_DS_OUTDATED);
	assert_int_equal(hha_disk_primary(a.d, true), 0);
	node_fini(&a);
	node_fini(&b);
}

/* invalidate on the secondary: everything again from the peer; pause holds it. */
static void test_invalidate_pause(void **state)
{
	struct node a, b;
	struct hha_disk_status st;

	(void)state;
	pair_up(&a, &b, 'C');
	assert_int_equal(hha_disk_pause_sync(a.d), 0);
	assert_int_equal(hha_disk_invalidate(b.d), 0);
	for (int64_t end = hha_now_ms() + 5000;; usleep(5000)) {
		hha_disk_dispatch(a.d);
		hha_disk_dispatch(b.d);
		status(&a, &st);
		if (st.cstate == HHA_CS_SYNCSOURCE)
			break;
		assert_true(hha_now_ms() < end);
	}
	usleep(300000);
	status(&a, &st);
	assert_true(st.sync_paused);
	assert_int_equal(st.resynced, st.size); /* the first full sync only */
	assert_int_equal(hha_disk_resume_sync(a.d), 0);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
	status(&a, &st);
	assert_int_equal(st.resynced, 2 * st.size);
	compare(&a, &b);
	node_fini(&a);
	node_fini(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bitmap_bytes),
		cmocka_unit_test(test_resume_target),
		cmocka_unit_test(test_resume_source),
		cmocka_unit_test(test_split_brain),
		cmocka_unit_test(test_split_brain_dzc_both_wrote),
		cmocka_unit_test(test_discard_zero_changes),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_csums),
		cmocka_unit_test(test_outdate),
		cmocka_unit_test(test_invalidate_pause),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
