/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The activity log: the table and its clock, its on-disk copies, and what a crashed primary marks at attach. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "disk/engine.h"

static struct hha_ctx *ctx;

static void test_table(void **state)
{
	struct hha_al al;
	int v;

	(void)state;
	assert_int_equal(hha_al_init(&al, 8), 0);
	assert_int_equal(hha_al_lookup(&al, 3), -1);
	for (uint32_t e = 0; e < 8; e++) {
		v = hha_al_victim(&al);
		assert_true(v >= 0);
		hha_al_assign(&al, (uint32_t)v, e * 100);
	}
	/* Pending slots are never victims. */
	assert_int_equal(hha_al_victim(&al), -1);
	hha_al_committed(&al);
	for (uint32_t e = 0; e < 8; e++)
		assert_true(hha_al_lookup(&al, e * 100) >= 0);
	/* A slot with writes in flight is never a victim either. */
	for (uint32_t s = 0; s < 8; s++)
		al.refs[s] = 1;
	assert_int_equal(hha_al_victim(&al), -1);
	al.refs[5] = 0;
	v = hha_al_victim(&al);
	assert_int_equal(v, 5);
	hha_al_assign(&al, 5, 12345);
	assert_int_equal(hha_al_lookup(&al, 500), -1);
	assert_int_equal(hha_al_lookup(&al, 12345), 5);
	assert_int_equal(hha_al_pages_for(1016), 1);
	assert_int_equal(hha_al_pages_for(1017), 2);
	hha_al_fini(&al);
}

/* A file holding metadata only (external layout) for @size bytes of data. */
static int md_file(char *path, struct hha_md_sb *sb, uint64_t size, uint32_t al_extents)
{
	struct hha_md_geom g;
	int fd;

	strcpy(path, "/tmp/hha-test-al-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(hha_md_geometry(size, false, al_extents, &g), 0);
	assert_int_equal(ftruncate(fd, (off_t)g.md_size), 0);
	memset(sb, 0, sizeof(*sb));
	sb->md_uuid = 77;
	sb->backing_size = size;
	sb->usable_size = g.usable_size;
	sb->md_offset = g.md_offset;
	sb->md_size = g.md_size;
	sb->al_extents = g.al_extents;
	sb->al_slots = g.al_slots;
	sb->bm_pages = g.bm_pages;
	assert_int_equal(hha_md_create(fd, sb), 0);
	return fd;
}

static void test_disk_copies(void **state)
{
	struct hha_md_sb sb;
	struct hha_al al, back;
	char path[64];
	uint8_t page[4096];
	bool corrupt;
	int fd = md_file(path, &sb, 64ull << 30, 1500); /* two table pages */

	(void)state;
	assert_int_equal(hha_al_init(&al, sb.al_extents), 0);
	assert_int_equal(al.npages, 2);
	/* Blank: nothing in it, nothing corrupt. */
	assert_int_equal(hha_al_init(&back, sb.al_extents), 0);
	assert_int_equal(hha_al_load(fd, &sb, &back, &corrupt), 0);
	assert_false(corrupt);
	assert_int_equal(hha_al_lookup(&back, 0), -1);
	hha_al_fini(&back);

	hha_al_assign(&al, 0, 10);
	hha_al_assign(&al, 1200, 20);
	assert_int_equal(hha_al_write_dirty(fd, &sb, &al), 0);
	hha_al_committed(&al);
	hha_al_assign(&al, 0, 30); /* second transaction: page 0's other copy */
	assert_int_equal(hha_al_write_dirty(fd, &sb, &al), 0);

	assert_int_equal(hha_al_init(&back, sb.al_extents), 0);
	assert_int_equal(hha_al_load(fd, &sb, &back, &corrupt), 0);
	assert_false(corrupt);
	assert_int_equal(hha_al_lookup(&back, 30), 0);
	assert_int_equal(hha_al_lookup(&back, 20), 1200);
	assert_int_equal(hha_al_lookup(&back, 10), -1);
	hha_al_fini(&back);

	/* Tear the newest copy of page 0: the older one (extent 10) is used. */
	memset(page, 0xab, sizeof(page));
	assert_int_equal(pwrite(fd, page, 2048, (off_t)(hha_md_al_offset(&sb) + 4096)), 2048);
	assert_int_equal(hha_al_init(&back, sb.al_extents), 0);
	assert_int_equal(hha_al_load(fd, &sb, &back, &corrupt), 0);
	assert_false(corrupt);
	assert_int_equal(hha_al_lookup(&back, 10), 0);
	hha_al_fini(&back);

	/* Both copies bad: reported, never trusted. */
	assert_int_equal(pwrite(fd, page, 4096, (off_t)hha_md_al_offset(&sb)), 4096);
	assert_int_equal(hha_al_init(&back, sb.al_extents), 0);
	assert_int_equal(hha_al_load(fd, &sb, &back, &corrupt), 0);
	assert_true(corrupt);
	hha_al_fini(&back);

	/* Extents past the device are dropped; so are copies of another metadata. */
	hha_al_assign(&al, 2, 99999);
	assert_int_equal(hha_al_write_dirty(fd, &sb, &al), 0);
	sb.md_uuid = 78;
	assert_int_equal(hha_al_init(&back, sb.al_extents), 0);
	assert_int_equal(hha_al_load(fd, &sb, &back, &corrupt), 0);
	assert_true(corrupt);
	assert_int_equal(hha_al_lookup(&back, 20), -1);
	hha_al_fini(&back);
	sb.md_uuid = 77;
	assert_int_equal(hha_al_init(&back, sb.al_extents), 0);
	assert_int_equal(hha_al_load(fd, &sb, &back, &corrupt), 0);
	assert_int_equal(hha_al_lookup(&back, 99999), -1);
	hha_al_fini(&back);

	hha_al_fini(&al);
	close(fd);
	unlink(path);
}

static atomic_int done;

static void complete(struct hha_nbd_req *req, int err)
{
	assert_int_equal(err, 0);
	(void)req;
	atomic_fetch_add(&done, 1);
}

static struct hha_disk *open_disk(const char *path)
{
	struct hha_disk_attach_opts ao = { .struct_size = sizeof(ao), .backing = path };
	struct hha_disk *d;

	assert_int_equal(hha_disk_new(ctx, "al", &d), 0);
	assert_int_equal(hha_disk_attach(d, &ao), 0);
	hha_disk_set_complete(d, complete);
	return d;
}

/* A primary that "crashes" (freed without a demotion) leaves its hot extents
 * for the next attach to mark; a clean demotion leaves nothing. A small log
 * (7 extents) makes the writes evict each other. */
static void test_crash_marks(void **state)
{
	struct hha_disk_md_opts mo = { .struct_size = sizeof(mo), .name = "al", .al_extents = 7 };
	struct hha_disk_status st = { .struct_size = sizeof(st) };
	static uint8_t buf[8192];
	struct hha_nbd_req req[40];
	char path[64];
	struct hha_disk *d;
	int fd, n = 0;

	(void)state;
	strcpy(path, "/tmp/hha-test-al-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 256 << 20), 0);
	close(fd);
	mo.backing = path;
	assert_int_equal(hha_disk_create_md(ctx, &mo, NULL), 0);

	d = open_disk(path);
	assert_int_equal(hha_disk_primary(d, true), 0);
	atomic_store(&done, 0);
	/* 20 extents touched one after the other, the last 7 stay hot (every
	 * other extent: not a sequential writer, whose next extent the log
	 * would take along). */
	for (int i = 0; i < 20; i++, n++) {
		memset(&req[n], 0, sizeof(req[n]));
		req[n].cmd = HHA_NBD_CMD_WRITE;
		req[n].offset = ((uint64_t)(2 * i) << 22) + 4096;
		req[n].len = 8192;
		req[n].buf = buf;
		hha_disk_submit(d, &req[n]);
		while (atomic_load(&done) < n + 1)
			usleep(100);
	}
	assert_true(GET(d->st_al_txns) >= 20);
	hha_disk_free(d); /* no demotion: crashed-primary stays set */

	d = open_disk(path);
	assert_true(d->crash_resync);
	hha_disk_status(d, &st);
	/* The 7 last extents (4 MiB each), and of the 13 evicted ones only the
	 * blocks written (alone, so marked in the bitmap, which was written
	 * before their extents left the log). */
	assert_int_equal(st.out_of_sync, (7ull << 22) + 13 * 8192);
	for (int i = 13; i < 20; i++)
		assert_true(hha_bitmap_test(&d->bm, ((uint64_t)(2 * i) << 22) >> 12));
	assert_false(hha_bitmap_test(&d->bm, ((uint64_t)24 << 22) >> 12));
	assert_true(hha_bitmap_test(&d->bm, (((uint64_t)24 << 22) + 4096) >> 12));
	/* A clean demotion forgets nothing that was marked... */
	assert_int_equal(hha_disk_primary(d, false), 0);
	assert_int_equal(hha_disk_secondary(d), 0);
	hha_disk_free(d);
	d = open_disk(path);
	hha_disk_status(d, &st);
	assert_int_equal(st.out_of_sync, (7ull << 22) + 13 * 8192);
	assert_true(d->crash_resync);
	hha_disk_free(d);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_disk_copies),
		cmocka_unit_test(test_crash_marks),
	};
	int r;

	if (hha_ctx_new(&ctx) < 0)
		return 1;
	if (!getenv("HHA_LOG_LEVEL"))
		hha_ctx_set_log_level(ctx, HHA_LOG_WARNING);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	hha_ctx_free(ctx);
	return r;
}
