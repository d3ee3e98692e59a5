/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests of online resize: grown geometry, bitmap growth, metadata moves cut at every step, two engines. */
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

#include "disk/al.h"
#include "disk/engine.h"

#include "test-disk-pairlib.h"

#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)

/* The layout of a grown store keeps the activity log and puts the area at the new end. */
static void test_geometry_grown(void **state)
{
	static const uint64_t rows[][2] = {
		{ 64 * MiB, 128 * MiB }, { 100 * MiB + 4096, 1 * GiB }, { 127 * MiB, 129 * MiB },
		{ 1 * GiB, 64 * GiB }, { 8 * GiB, 8 * GiB + 64 * MiB },
	};
	(void)state;
	for (size_t i = 0; i < HHA_ARRAY_SIZE(rows); i++) {
		struct hha_md_geom a, b;
		assert_int_equal(hha_md_geometry(rows[i][0], true, 1237, &a), 0);
		assert_int_equal(hha_md_geometry(rows[i][1], true, 1237, &b), 0);
		assert_int_equal(b.al_slots, a.al_slots);
		assert_true(b.usable_size > a.usable_size);
		assert_true(b.bm_pages >= a.bm_pages);
		assert_int_equal(b.md_offset + b.md_size, rows[i][1] & ~4095ull);
		/* The move needs the new area past the old one's end. */
		if (rows[i][1] - rows[i][0] >= b.md_size)
			assert_true(b.md_offset >= a.md_offset + a.md_size);
		/* External: the file grows with the bitmap. */
		assert_int_equal(hha_md_geometry(rows[i][0], false, 1237, &a), 0);
		assert_int_equal(hha_md_geometry(rows[i][1], false, 1237, &b), 0);
		assert_true(b.md_size >= a.md_size);
		assert_int_equal(b.usable_size, rows[i][1] & ~4095ull);
	}
}

/* Growing keeps every bit, starts the new ones clear, and never moves the words. */
static void test_bitmap_grow(void **state)
{
	struct hha_bitmap bm;
	uint64_t *words;
	(void)state;

	assert_int_equal(hha_bitmap_init(&bm, 64 * MiB), 0);
	words = bm.words;
	hha_bitmap_set_range(&bm, 0, 4096);
	hha_bitmap_set_range(&bm, 64 * MiB - 4096, 4096);
	assert_int_equal(hha_bitmap_count(&bm), 2);
	/* Past the end: ignored. */
	assert_int_equal(hha_bitmap_set_range(&bm, 64 * MiB, 4096), 0);
	assert_int_equal(hha_bitmap_grow(&bm, 32 * MiB), -EINVAL);
	assert_int_equal(hha_bitmap_grow(&bm, 1 * GiB), 0);
	assert_ptr_equal(bm.words, words);
	assert_int_equal(bm.nbits, GiB / 4096);
	assert_int_equal(bm.npages, hha_bitmap_pages_for(GiB / 4096));
	assert_int_equal(hha_bitmap_count(&bm), 2);
	assert_true(hha_bitmap_test(&bm, 0));
	assert_true(hha_bitmap_test(&bm, 64 * MiB / 4096 - 1));
	assert_int_equal(hha_bitmap_next_set(&bm, 64 * MiB / 4096), bm.nbits);
	for (uint32_t p = 1; p < bm.npages; p++)
		assert_true(hha_bitmap_page_dirty(&bm, p));
	assert_int_equal(hha_bitmap_set_range(&bm, 64 * MiB, 1 * GiB - 64 * MiB), (GiB - 64 * MiB) / 4096);
	assert_int_equal(hha_bitmap_count(&bm), 2 + (GiB - 64 * MiB) / 4096);
	assert_int_equal(hha_bitmap_next_clear(&bm, 64 * MiB / 4096), bm.nbits);
	/* Far beyond the reserved address space: refused, nothing changed. */
	assert_int_equal(hha_bitmap_grow(&bm, 1ull << 62), -ENOSPC);
	assert_int_equal(bm.nbits, GiB / 4096);
	hha_bitmap_fini(&bm);
}

/* A store with internal metadata, a bitmap and an activity log, and data markers. */
struct store {
	int fd;
	char path[64];
	struct hha_md_sb sb;
	uint64_t size;
};

static void marker(int fd, uint64_t off, bool check)
{
	uint8_t buf[4096], want[4096];

	memset(want, (int)(off >> 12) | 1, sizeof(want));
	if (!check) {
		assert_int_equal(pwrite(fd, want, sizeof(want), (off_t)off), (ssize_t)sizeof(want));
		return;
	}
	assert_int_equal(pread(fd, buf, sizeof(buf), (off_t)off), (ssize_t)sizeof(buf));
	assert_memory_equal(buf, want, sizeof(buf));
}

static void store_make(struct store *s, uint64_t size)
{
	struct hha_md_geom g;
	struct hha_bitmap bm;
	struct hha_al al;

	strcpy(s->path, "/tmp/hha-test-resize-XXXXXX");
	s->fd = mkstemp(s->path);
	assert_true(s->fd >= 0);
	assert_int_equal(ftruncate(s->fd, (off_t)size), 0);
	s->size = size;
	assert_int_equal(hha_md_geometry(size, true, 61, &g), 0);
	memset(&s->sb, 0, sizeof(s->sb));
	s->sb.md_uuid = 0x5eed;
	s->sb.backing_size = size;
	s->sb.usable_size = g.usable_size;
	s->sb.md_offset = g.md_offset;
	s->sb.md_size = g.md_size;
	s->sb.al_extents = g.al_extents;
	s->sb.al_slots = g.al_slots;
	s->sb.bm_pages = g.bm_pages;
	s->sb.la_size = g.usable_size;
	s->sb.flags = HHA_MDF_CONSISTENT;
	s->sb.uuid_current = 0xc0ffee;
	strcpy(s->sb.name, "r0");
	assert_int_equal(hha_md_create(s->fd, &s->sb), 0);
	/* Some marks, some hot extents. */
	assert_int_equal(hha_bitmap_init(&bm, s->sb.usable_size), 0);
	hha_bitmap_set_range(&bm, 8192, 3 * 4096);
	hha_bitmap_set_range(&bm, s->sb.usable_size - 4096, 4096);
	assert_int_equal(hha_md_bm_flush(s->fd, &s->sb, &bm), 0);
	hha_bitmap_fini(&bm);
	assert_int_equal(hha_al_init(&al, s->sb.al_extents), 0);
	hha_al_assign(&al, 0, 3);
	hha_al_assign(&al, 5, 7);
	assert_int_equal(hha_al_write_dirty(s->fd, &s->sb, &al), 0);
	hha_al_fini(&al);
	marker(s->fd, 0, false);
	marker(s->fd, s->sb.usable_size - 4096, false);
}

static void store_fini(struct store *s)
{
	close(s->fd);
	unlink(s->path);
}

/* What attach finds: the metadata, its bitmap and its log, and the data intact. */
static void check_found(struct store *s, uint64_t grown, bool want_new, uint64_t new_usable)
{
	struct hha_md_read_info info;
	struct hha_md_sb sb;
	struct hha_bitmap bm;
	struct hha_al al;
	uint64_t end;
	uint32_t bad;
	bool corrupt;

	assert_int_equal(hha_md_find(s->fd, grown, &sb, &info, &end), 0);
	assert_int_equal(sb.md_uuid, s->sb.md_uuid);
	assert_int_equal(sb.uuid_current, s->sb.uuid_current);
	if (want_new) {
		assert_int_equal(end, grown);
		assert_int_equal(sb.usable_size, new_usable);
		assert_int_equal(sb.la_size, new_usable);
	} else {
		assert_int_equal(end, s->size);
		assert_int_equal(sb.usable_size, s->sb.usable_size);
		assert_int_equal(sb.gen, s->sb.gen);
	}
	assert_int_equal(hha_bitmap_init(&bm, sb.usable_size), 0);
	assert_int_equal(hha_md_bm_load(s->fd, &sb, &bm, &bad), 0);
	assert_int_equal(bad, 0);
	assert_true(hha_bitmap_test(&bm, 2) && hha_bitmap_test(&bm, 4) && !hha_bitmap_test(&bm, 5));
	assert_true(hha_bitmap_test(&bm, s->sb.usable_size / 4096 - 1));
	if (want_new)
		assert_int_equal(hha_bitmap_count(&bm), 4 + (new_usable - s->sb.usable_size) / 4096);
	else
		assert_int_equal(hha_bitmap_count(&bm), 4);
	hha_bitmap_fini(&bm);
	assert_int_equal(hha_al_init(&al, sb.al_extents), 0);
	assert_int_equal(hha_al_load(s->fd, &sb, &al, &corrupt), 0);
	assert_false(corrupt);
	assert_int_equal(hha_al_lookup(&al, 3), 0);
	assert_int_equal(hha_al_lookup(&al, 7), 5);
	hha_al_fini(&al);
	marker(s->fd, 0, true);
	marker(s->fd, s->sb.usable_size - 4096, true);
}

/*
 * The move cut after every step (a kill -9 or a crash at that point), and
 * with a torn superblock write: attach must find one complete copy, the old
 * or the new, never nothing and never a mix.
 */
static void test_move_crash_steps(void **state)
{
	const uint64_t size = 64 * MiB, grown = 96 * MiB;
	(void)state;

	for (int k = 0; k <= 6; k++) {
		for (int torn = 0; torn < 2; torn++) {
			struct store s;
			struct hha_md_geom g;
			struct hha_bitmap bm;
			struct hha_md_sb nsb;
			uint32_t bad;
			int r;
			struct hha_md_move mv = { .stop_after = k == 6 ? -1 : k, .torn = torn };

			if (torn && (k < 4 || k > 5))
				continue;
			store_make(&s, size);
			/* The administrator grows the store: nothing moved yet. */
			assert_int_equal(ftruncate(s.fd, (off_t)grown), 0);
			check_found(&s, grown, false, 0);
			/* The engine's part: the bitmap grows, the new area is marked. */
			assert_int_equal(hha_md_geometry(grown, true, s.sb.al_extents, &g), 0);
			assert_int_equal(hha_bitmap_init(&bm, s.sb.usable_size), 0);
			assert_int_equal(hha_md_bm_load(s.fd, &s.sb, &bm, &bad), 0);
			assert_int_equal(hha_bitmap_grow(&bm, g.usable_size), 0);
			hha_bitmap_set_range(&bm, s.sb.usable_size, g.usable_size - s.sb.usable_size);
			nsb = s.sb;
			nsb.backing_size = grown;
			nsb.usable_size = nsb.la_size = g.usable_size;
			nsb.md_offset = g.md_offset;
			nsb.md_size = g.md_size;
			nsb.bm_pages = g.bm_pages;
			mv.src_fd = mv.dst_fd = s.fd;
			mv.old = &s.sb;
			mv.nsb = &nsb;
			mv.bm = &bm;
			r = hha_md_move(&mv);
			assert_int_equal(r, k == 6 ? 0 : -EINTR);
			hha_bitmap_fini(&bm);
			/* Steps 1-3 (pages, log, sync) leave the old; a valid new slot (4, 5) wins;
			 * 6 is the whole move, the old slots zeroed too. */
			check_found(&s, grown, k >= 4 && !(torn && k == 4), g.usable_size);
			if (k >= 6) {
				struct hha_md_read_info info;
				struct hha_md_sb old;
				/* The old slots are gone: no stale copy is ever found again. */
				assert_int_equal(hha_md_read(s.fd, size, &old, &info), -ENOENT);
			}
			store_fini(&s);
		}
	}
}

/* Where there is no metadata at all, the search reports that (and skips a large hole fast). */
static void test_find_none(void **state)
{
	struct hha_md_read_info info;
	struct hha_md_sb sb;
	struct store s;
	uint64_t end;
	int64_t t0;
	(void)state;

	store_make(&s, 16 * MiB);
	/* A sparse grow by 64 GiB: the old end is found past the hole. */
	assert_int_equal(ftruncate(s.fd, (off_t)(64 * GiB)), 0);
	t0 = hha_now_ms();
	assert_int_equal(hha_md_find(s.fd, 64 * GiB, &sb, &info, &end), 0);
	assert_int_equal(end, 16 * MiB);
	assert_true(hha_now_ms() - t0 < 5000);
	/* No metadata anywhere. */
	assert_int_equal(ftruncate(s.fd, 0), 0);
	assert_int_equal(ftruncate(s.fd, (off_t)(32 * MiB)), 0);
	marker(s.fd, 4096, false);
	assert_int_equal(hha_md_find(s.fd, 32 * MiB, &sb, &info, &end), -ENOENT);
	store_fini(&s);
}

/* Internal metadata for @name ending at @end of @s's file (another resource's, say). */
static void md_at(struct store *s, uint64_t end, const char *name, uint64_t uuid)
{
	struct hha_md_geom g;
	struct hha_md_sb sb = { 0 };

	assert_int_equal(hha_md_geometry(end, true, 61, &g), 0);
	sb.md_uuid = uuid;
	sb.backing_size = end;
	sb.usable_size = sb.la_size = g.usable_size;
	sb.md_offset = g.md_offset;
	sb.md_size = g.md_size;
	sb.al_extents = g.al_extents;
	sb.al_slots = g.al_slots;
	sb.bm_pages = g.bm_pages;
	sb.flags = HHA_MDF_CONSISTENT;
	snprintf(sb.name, sizeof(sb.name), "%s", name);
	assert_int_equal(hha_md_create(s->fd, &sb), 0);
}

static int locate(struct store *s, uint64_t size, const char *name, const struct hha_md_hint *hint,
		  enum hha_md_found *found, uint64_t *end)
{
	struct hha_md_want want = { .name = name, .hint = hint, .hint_path = "/state/disk-r0.md" };
	struct hha_md_read_info info;
	struct hha_md_sb sb;

	return hha_md_locate(s->fd, size, &want, &sb, &info, end, found);
}

/*
 * A store that grew while nothing was attached, each way attach can find
 * (or refuse) its metadata: at the recorded place; by the search when the
 * record is wrong; past another resource's stale metadata; refused when
 * only a stranger's is there; and the message when nothing is.
 */
static void test_locate(void **state)
{
	struct hha_md_hint hint, h2;
	enum hha_md_found found;
	struct store s;
	uint64_t end;
	(void)state;

	store_make(&s, 16 * MiB);
	hha_md_hint_from_sb(&s.sb, &hint);
	/* Grown by 8 GiB of data (not a hole): beyond what the search reads. */
	assert_int_equal(ftruncate(s.fd, (off_t)(16 * MiB + 8 * GiB)), 0);
	assert_int_equal(fallocate(s.fd, 0, (off_t)(16 * MiB), (off_t)(8 * GiB)) == 0 ||
			 errno == EOPNOTSUPP || errno == ENOSPC, 1);
	/* The record finds it at once, wherever it is. */
	assert_int_equal(locate(&s, 16 * MiB + 8 * GiB, "r0", &hint, &found, &end), 0);
	assert_int_equal(found, HHA_MD_FOUND_HINT);
	assert_int_equal(end, 16 * MiB);
	assert_int_equal(ftruncate(s.fd, (off_t)(64 * MiB)), 0);
	/* A record pointing elsewhere: the search finds it (same id). */
	h2 = hint;
	h2.md_offset -= 4096 * 8;
	assert_int_equal(locate(&s, 64 * MiB, "r0", &h2, &found, &end), 0);
	assert_int_equal(found, HHA_MD_FOUND_SCAN);
	assert_int_equal(end, 16 * MiB);
	/* No record: the search, the name must match. */
	assert_int_equal(locate(&s, 64 * MiB, "r0", NULL, &found, &end), 0);
	assert_int_equal(found, HHA_MD_FOUND_SCAN);
	assert_int_equal(locate(&s, 64 * MiB, "r1", NULL, &found, &end), -ENOENT);
	assert_non_null(strstr(hha_last_error(), "written for `r0'"));
	assert_non_null(strstr(hha_last_error(), "is not this resource's"));
	/* A record with another id: what the search finds is a stranger's. */
	h2 = hint;
	h2.md_uuid ^= 1;
	assert_int_equal(locate(&s, 64 * MiB, "r0", &h2, &found, &end), -ENOENT);
	assert_non_null(strstr(hha_last_error(), "not the id recorded"));
	assert_non_null(strstr(hha_last_error(), "remove /state/disk-r0.md"));
	/* Stale metadata of another resource above ours (recycled extents):
	 * skipped, ours is found below it. */
	md_at(&s, 40 * MiB, "other", 0xbad);
	assert_int_equal(locate(&s, 64 * MiB, "r0", &hint, &found, &end), 0);
	assert_int_equal(found, HHA_MD_FOUND_HINT);
	h2 = hint;
	h2.md_offset -= 4096 * 8;
	assert_int_equal(locate(&s, 64 * MiB, "r0", &h2, &found, &end), 0);
	assert_int_equal(found, HHA_MD_FOUND_SCAN);
	assert_int_equal(end, 16 * MiB);
	/* Only a stranger's: refused, saying whose. */
	assert_int_equal(ftruncate(s.fd, 0), 0);
	assert_int_equal(ftruncate(s.fd, (off_t)(64 * MiB)), 0);
	md_at(&s, 40 * MiB, "other", 0xbad);
	assert_int_equal(locate(&s, 64 * MiB, "r0", &hint, &found, &end), -ENOENT);
	assert_non_null(strstr(hha_last_error(), "written for `other'"));
	assert_non_null(strstr(hha_last_error(), "never trusted"));
	/* Nothing at all: what was searched, and how to recover. */
	assert_int_equal(ftruncate(s.fd, 0), 0);
	assert_int_equal(ftruncate(s.fd, (off_t)(32 * MiB)), 0);
	marker(s.fd, 4096, false);
	assert_int_equal(locate(&s, 32 * MiB, "r0", &hint, &found, &end), -ENOENT);
	assert_non_null(strstr(hha_last_error(), "none at the end of the store (33554432 bytes)"));
	assert_non_null(strstr(hha_last_error(), "not at the place /state/disk-r0.md recorded"));
	assert_non_null(strstr(hha_last_error(), "searched back from the end"));
	assert_non_null(strstr(hha_last_error(), "shrink it back to its old size"));
	assert_int_equal(locate(&s, 32 * MiB, "r0", NULL, &found, &end), -ENOENT);
	assert_non_null(strstr(hha_last_error(), "no place recorded in /state/disk-r0.md"));
	store_fini(&s);
}

/* The wire frames: round trip and every field check. */
static void test_wire_resize(void **state)
{
	struct hha_wire_resize z = { .size = 128 * MiB, .max = 256 * MiB, .cur = 64 * MiB,
				     .flags = HHA_WRZ_DELEGATE }, out;
	uint8_t buf[HHA_WIRE_RESIZE_LEN];
	const char *why;
	static const struct { size_t at; uint8_t v; } bad[] = {
		{ 7, 1 },     /* size not 4 KiB */
		{ 15, 1 },    /* max not 4 KiB */
		{ 23, 1 },    /* cur not 4 KiB */
		{ 27, 2 },    /* unknown flag */
		{ 31, 1 },    /* reserved */
		{ 16, 0xff }, /* cur > max */
	};
	(void)state;

	hha_wire_resize_encode(&z, buf);
	assert_int_equal(hha_wire_resize_decode(buf, sizeof(buf), &out, &why), 0);
	assert_memory_equal(&z, &out, sizeof(z));
	assert_int_equal(hha_wire_resize_decode(buf, sizeof(buf) - 1, &out, &why), -EPROTO);
	for (size_t i = 0; i < HHA_ARRAY_SIZE(bad); i++) {
		uint8_t b[HHA_WIRE_RESIZE_LEN];
		memcpy(b, buf, sizeof(b));
		b[bad[i].at] = bad[i].v;
		assert_int_equal(hha_wire_resize_decode(b, sizeof(b), &out, &why), -EPROTO);
	}
	z.cur = 0;
	hha_wire_resize_encode(&z, buf);
	assert_int_equal(hha_wire_resize_decode(buf, sizeof(buf), &out, &why), -EPROTO);
}

static void grow_file(struct node *n, uint64_t by)
{
	struct stat st;

	assert_int_equal(stat(n->path, &st), 0);
	assert_int_equal(truncate(n->path, st.st_size + (off_t)by), 0);
}

static int resize(struct node *n, uint64_t size)
{
	struct hha_disk_resize_opts o = { .struct_size = sizeof(o), .size = size };

	return hha_disk_resize(n->d, &o);
}

/* Write @count 64 KiB blocks of pattern @seed at @off through the primary. */
static void write_at(struct node *a, uint64_t off, int count, unsigned seed)
{
	struct wreq *w = calloc((size_t)count, sizeof(*w));
	int base = atomic_load(&done_count);

	for (int i = 0; i < count; i++) {
		fill(&w[i], 65536, seed + (unsigned)i);
		submit(a, &w[i], HHA_NBD_CMD_WRITE, off + (uint64_t)i * 65536, 65536, 0);
	}
	wait_done(base + count);
	for (int i = 0; i < count; i++)
		free(w[i].buf);
	free(w);
}

static void reattach(struct node *n)
{
	struct hha_disk_attach_opts ao = { .struct_size = sizeof(ao), .backing = n->path };

	assert_int_equal(hha_disk_disconnect(n->d), 0);
	assert_int_equal(hha_disk_detach(n->d), 0);
	assert_int_equal(hha_disk_attach(n->d, &ao), 0);
}

/*
 * Two engines: refusals change nothing; a resize from the primary, and one
 * asked by the secondary, sync only the new area; a restart reconnects
 * without a full sync.
 */
static void test_pair_resize(void **state)
{
	struct node a, b;
	struct hha_disk_status sa, sb;
	uint64_t size0, rs0;
	(void)state;

	pair_up(&a, &b, 'C');
	status(&a, &sa);
	size0 = sa.size;
	/* Neither grew. */
	assert_int_equal(resize(&a, 0), -ENOSPC);
	assert_non_null(strstr(hha_last_error(), "did not grow"));
	/* Only the primary's store grew: the peer refuses, nothing changes. */
	grow_file(&a, 32 * MiB);
	assert_int_equal(resize(&a, 0), -ENOSPC);
	assert_non_null(strstr(hha_last_error(), "the peer's backing store did not grow"));
	status(&a, &sa);
	status(&b, &sb);
	assert_int_equal(sa.size, size0);
	assert_int_equal(sb.size, size0);
	/* Shrinking is refused. */
	assert_int_equal(resize(&a, size0 - 4096 * 16), -EINVAL);
	assert_non_null(strstr(hha_last_error(), "shrinking"));
	/* Both grew: a --size that does not fit either is refused, naming the sizes. */
	grow_file(&b, 32 * MiB);
	assert_int_equal(resize(&a, size0 + 64 * MiB), -ENOSPC);
	assert_non_null(strstr(hha_last_error(), "does not fit"));
	write_at(&a, size0 - 65536 * 4, 4, 1);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 10000);
	status(&a, &sa);
	rs0 = sa.resynced;
	assert_int_equal(resize(&a, 0), 0);
	status(&a, &sa);
	assert_true(sa.size > size0 + 31 * MiB);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
	status(&a, &sa);
	status(&b, &sb);
	assert_int_equal(sa.size, sb.size);
	/* Only the new area moved (plus nothing else was marked). */
	assert_int_equal(sa.resynced - rs0, sa.size - size0);
	assert_int_equal(sa.out_of_sync, 0);
	/* The application writes at the new end. */
	write_at(&a, sa.size - 65536 * 2, 2, 7);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 10000);
	compare(&a, &b);

	/* The secondary asks; the primary runs it. */
	size0 = sa.size;
	grow_file(&a, 16 * MiB);
	grow_file(&b, 16 * MiB);
	rs0 = sa.resynced;
	assert_int_equal(resize(&b, size0 + 8 * MiB), 0);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
	status(&a, &sa);
	status(&b, &sb);
	assert_int_equal(sa.size, size0 + 8 * MiB);
	assert_int_equal(sb.size, size0 + 8 * MiB);
	assert_int_equal(sa.resynced - rs0, 8 * MiB);
	compare(&a, &b);

	/* A restart of both: the agreed size (below what the stores hold) is kept, no sync. */
	assert_int_equal(hha_disk_secondary(a.d), 0);
	reattach(&a);
	reattach(&b);
	status(&a, &sa);
	assert_int_equal(sa.size, size0 + 8 * MiB);
	rs0 = sa.resynced;
	node_connect(&a, &b, 'C', HHA_DISK_SEC_AUTH);
	node_connect(&b, &a, 'C', HHA_DISK_SEC_AUTH);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 10000);
	status(&a, &sa);
	assert_int_equal(sa.resynced, rs0);
	assert_int_equal(sa.out_of_sync, 0);
	node_fini(&a);
	node_fini(&b);
}

/* Disconnected: refused without --assume-peer-has-space. */
static void test_disconnected(void **state)
{
	struct hha_disk_resize_opts o = { .struct_size = sizeof(o) };
	struct node a;
	struct hha_disk_status st;
	uint64_t size0;
	(void)state;

	node_init(&a, "r0");
	status(&a, &st);
	size0 = st.size;
	grow_file(&a, 32 * MiB);
	assert_int_equal(hha_disk_resize(a.d, &o), -HHA_ESTATE);
	assert_non_null(strstr(hha_last_error(), "--assume-peer-has-space"));
	o.assume_peer_has_space = true;
	assert_int_equal(hha_disk_resize(a.d, &o), 0);
	status(&a, &st);
	assert_true(st.size > size0);
	assert_int_equal(st.out_of_sync, st.size - size0);
	/* The moved metadata is what a restart finds. */
	assert_int_equal(hha_disk_detach(a.d), 0);
	{
		struct hha_disk_attach_opts ao = { .struct_size = sizeof(ao), .backing = a.path };
		uint64_t grown = st.size;
		assert_int_equal(hha_disk_attach(a.d, &ao), 0);
		status(&a, &st);
		assert_int_equal(st.size, grown);
		assert_int_equal(st.out_of_sync, grown - size0);
	}
	node_fini(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry_grown),
		cmocka_unit_test(test_bitmap_grow),
		cmocka_unit_test(test_move_crash_steps),
		cmocka_unit_test(test_find_none),
		cmocka_unit_test(test_locate),
		cmocka_unit_test(test_wire_resize),
		cmocka_unit_test(test_pair_resize),
		cmocka_unit_test(test_disconnected),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
