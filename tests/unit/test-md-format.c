/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: metadata geometry, superblock codec, slot fallback, bitmap and its persistence. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "core/internal.h"
#include "core/util.h"
#include "disk/bitmap.h"
#include "disk/md.h"

#define MiB (1024ull * 1024)
#define GiB (1024ull * MiB)

static void test_geometry(void **state)
{
	static const uint64_t sizes[] = { 1 * MiB, 1 * MiB + 123, 256 * MiB, 1 * GiB, 64 * GiB,
					  8192 * GiB, 65536 * GiB };
	(void)state;
	for (size_t i = 0; i < HHA_ARRAY_SIZE(sizes); i++) {
		for (int internal = 0; internal < 2; internal++) {
			struct hha_md_geom g;
			uint64_t end = sizes[i] & ~4095ull;
			uint32_t need;
			assert_int_equal(hha_md_geometry(sizes[i], internal, 1237, &g), 0);
			assert_int_equal(g.usable_size % 4096, 0);
			assert_int_equal(g.md_offset % 4096, 0);
			need = hha_bitmap_pages_for(g.usable_size / 4096);
			assert_true(g.bm_pages == need || g.bm_pages == need + 1);
			assert_int_equal(g.md_size, ((uint64_t)g.bm_pages + g.al_slots + 2) * 4096);
			if (internal) {
				assert_int_equal(g.md_offset + g.md_size, end);
				assert_int_equal(g.usable_size, g.md_offset);
			} else {
				assert_int_equal(g.usable_size, end);
			}
		}
	}
	{
		struct hha_md_geom g;
		assert_int_equal(hha_md_geometry(16 * 4096, true, 1237, &g), -EINVAL);
		assert_int_equal(hha_md_geometry(1 * GiB, true, 6, &g), -EINVAL);
		assert_int_equal(hha_md_geometry(1 * GiB, true, 65535, &g), -EINVAL);
		assert_int_equal(hha_md_geometry(100, false, 1237, &g), -EINVAL);
	}
}

static void make_sb(struct hha_md_sb *sb, uint64_t backing, bool internal)
{
	struct hha_md_geom g;

	assert_int_equal(hha_md_geometry(backing, internal, 1237, &g), 0);
	memset(sb, 0, sizeof(*sb));
	sb->gen = 7;
	sb->md_uuid = 0x1122334455667788ull;
	sb->backing_size = backing;
	sb->usable_size = g.usable_size;
	sb->md_offset = g.md_offset;
	sb->md_size = g.md_size;
	sb->flags = HHA_MDF_CONSISTENT | HHA_MDF_WAS_PRIMARY;
	sb->al_extents = g.al_extents;
	sb->al_slots = g.al_slots;
	sb->bm_pages = g.bm_pages;
	sb->la_size = g.usable_size - 4096;
	sb->uuid_current = 0xaaaa;
	sb->uuid_bitmap = 0xbbbb;
	sb->uuid_history[0] = 0xcccc;
	sb->uuid_history[3] = 0xdddd;
	sb->sync_pos = 8192;
	strcpy(sb->name, "r0");
}

static void test_sb_roundtrip(void **state)
{
	uint8_t buf[4096];
	struct hha_md_sb sb, out;
	const char *why;
	(void)state;

	make_sb(&sb, 256 * MiB, true);
	hha_md_sb_encode(&sb, buf);
	assert_int_equal(hha_md_sb_decode(buf, 256 * MiB, &out, &why), 0);
	assert_memory_equal(&sb, &out, sizeof(sb));
	/* Every byte of the slot matters. */
	for (size_t i = 0; i < sizeof(buf); i += (i < 600 ? 1 : 97)) {
		uint8_t save = buf[i];
		buf[i] ^= 0x40;
		assert_int_not_equal(hha_md_sb_decode(buf, 256 * MiB, &out, &why), 0);
		buf[i] = save;
	}
	/* External metadata lives in a file of exactly md_size bytes. */
	make_sb(&sb, 256 * MiB, false);
	hha_md_sb_encode(&sb, buf);
	assert_int_equal(hha_md_sb_decode(buf, sb.md_size, &out, &why), 0);
	assert_int_equal(hha_md_sb_decode(buf, sb.md_size + 4096, &out, &why), -EBADMSG);
	assert_int_equal(hha_md_sb_decode(buf, 100, &out, &why), -EBADMSG);
}

/* Each row breaks one field; the checksum is recomputed, so the field check must catch it. */
static void brk_gen(struct hha_md_sb *s) { s->gen = 0; }
static void brk_uuid(struct hha_md_sb *s) { s->md_uuid = 0; }
static void brk_flags(struct hha_md_sb *s) { s->flags |= 1u << 20; }
static void brk_alext(struct hha_md_sb *s) { s->al_extents = 3; }
static void brk_alext2(struct hha_md_sb *s) { s->al_extents = 70000; }
static void brk_alslots(struct hha_md_sb *s) { s->al_slots = 2; }
static void brk_alslots2(struct hha_md_sb *s) { s->al_slots = 1u << 30; }
static void brk_usable(struct hha_md_sb *s) { s->usable_size += 512; }
static void brk_usable0(struct hha_md_sb *s) { s->usable_size = 0; }
static void brk_usable_big(struct hha_md_sb *s) { s->usable_size = s->md_offset + 4096; }
static void brk_bmpages(struct hha_md_sb *s) { s->bm_pages += 5; }
static void brk_bmpages0(struct hha_md_sb *s) { s->bm_pages = 0; }
static void brk_mdsize(struct hha_md_sb *s) { s->md_size += 4096; }
static void brk_mdoff(struct hha_md_sb *s) { s->md_offset -= 4096; }
static void brk_mdoff2(struct hha_md_sb *s) { s->md_offset += 1; }
static void brk_backing(struct hha_md_sb *s) { s->backing_size = 4096; }
static void brk_lasize(struct hha_md_sb *s) { s->la_size = s->usable_size + 4096; }
static void brk_syncpos(struct hha_md_sb *s) { s->sync_pos = UINT64_MAX; }
static void brk_name(struct hha_md_sb *s) { memset(s->name, 'x', sizeof(s->name)); }

static void test_sb_fields(void **state)
{
	static void (*const breakers[])(struct hha_md_sb *) = {
		brk_gen, brk_uuid, brk_flags, brk_alext, brk_alext2, brk_alslots, brk_alslots2,
		brk_usable, brk_usable0, brk_usable_big, brk_bmpages, brk_bmpages0, brk_mdsize,
		brk_mdoff, brk_mdoff2, brk_backing, brk_lasize, brk_syncpos, brk_name,
	};
	uint8_t buf[4096];
	struct hha_md_sb sb, out;
	const char *why;
	(void)state;

	for (size_t i = 0; i < HHA_ARRAY_SIZE(breakers); i++) {
		make_sb(&sb, 256 * MiB, true);
		breakers[i](&sb);
		hha_md_sb_encode(&sb, buf);
		if (breakers[i] == brk_name) {
			/* The encoder always terminates; forge an unterminated name. */
			unsigned int n = 32;
			memset(buf + 144, 'x', 64);
			EVP_Digest(buf, 480, buf + 480, &n, EVP_sha256(), NULL);
		}
		why = NULL;
		int r = hha_md_sb_decode(buf, 256 * MiB, &out, &why);
		assert_int_equal(r, -EBADMSG);
		assert_non_null(why);
	}
	/* Version: newer is refused as such, zero is corrupt. */
	make_sb(&sb, 256 * MiB, true);
	hha_md_sb_encode(&sb, buf);
	buf[8] = 2;
	assert_int_equal(hha_md_sb_decode(buf, 256 * MiB, &out, &why), -HHA_EVERSION);
	buf[0] = 0;
	assert_int_equal(hha_md_sb_decode(buf, 256 * MiB, &out, &why), -ENOENT);
}

static int tmpfile_of(uint64_t size)
{
	char path[] = "/tmp/hha-test-md-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	return fd;
}

static void test_slots(void **state)
{
	const uint64_t size = 64 * MiB;
	struct hha_md_sb sb, rd;
	struct hha_md_read_info info;
	uint8_t junk[4096];
	int fd = tmpfile_of(size);
	(void)state;

	assert_int_equal(hha_md_read(fd, size, &rd, &info), -ENOENT);
	make_sb(&sb, size, true);
	assert_int_equal(hha_md_create(fd, &sb), 0);
	assert_int_equal(sb.gen, 2);
	assert_int_equal(hha_md_read(fd, size, &rd, &info), 0);
	assert_int_equal(rd.gen, 2);
	assert_false(info.other_bad);
	sb.uuid_current = 0x1234;
	assert_int_equal(hha_md_write_sb(fd, &sb), 0); /* gen 3 in slot 1 */
	assert_int_equal(hha_md_read(fd, size, &rd, &info), 0);
	assert_int_equal(rd.gen, 3);
	assert_int_equal(info.slot, 1);
	assert_int_equal(rd.uuid_current, 0x1234);
	/* A torn newest slot: fall back to gen 2 and say the other is bad. */
	memset(junk, 0x5a, sizeof(junk));
	assert_int_equal(hha_pwrite_full(fd, junk, 2000, (off_t)(size - 4096)), 0);
	assert_int_equal(hha_md_read(fd, size, &rd, &info), 0);
	assert_int_equal(rd.gen, 2);
	assert_int_equal(rd.uuid_current, 0xaaaa);
	assert_true(info.other_bad);
	/* Both gone. */
	assert_int_equal(hha_pwrite_full(fd, junk, 100, (off_t)(size - 8192 + 200)), 0);
	assert_int_equal(hha_md_read(fd, size, &rd, &info), -EBADMSG);
	assert_non_null(strstr(hha_last_error(), "both superblock slots"));
	close(fd);
}

static void test_bitmap_ops(void **state)
{
	struct hha_bitmap bm;
	uint8_t page[HHA_BM_PAGE_BYTES];
	(void)state;

	assert_int_equal(hha_bitmap_init(&bm, 1 * GiB), 0);
	assert_int_equal(bm.nbits, 262144);
	assert_int_equal(hha_bitmap_count(&bm), 0);
	assert_int_equal(hha_bitmap_next_set(&bm, 0), bm.nbits);
	/* Partial blocks are marked... */
	assert_int_equal(hha_bitmap_set_range(&bm, 4095, 2), 2);
	assert_true(hha_bitmap_test(&bm, 0) && hha_bitmap_test(&bm, 1));
	assert_int_equal(hha_bitmap_set_range(&bm, 0, 8192), 0);
	/* ...but cleared only when covered. */
	assert_int_equal(hha_bitmap_clear_range(&bm, 100, 8000), 0);
	assert_int_equal(hha_bitmap_clear_range(&bm, 0, 4096), 1);
	assert_int_equal(hha_bitmap_count(&bm), 1);
	/* Ranges across words and pages. */
	assert_int_equal(hha_bitmap_set_range(&bm, 60 * 4096, 200 * 4096), 200);
	assert_int_equal(hha_bitmap_next_set(&bm, 2), 60);
	assert_int_equal(hha_bitmap_next_clear(&bm, 60), 260);
	assert_int_equal(hha_bitmap_set_range(&bm, (uint64_t)HHA_BM_PAGE_BITS * 4096 - 4096, 8192), 2);
	assert_true(hha_bitmap_page_dirty(&bm, 0) && hha_bitmap_page_dirty(&bm, 1));
	assert_false(hha_bitmap_page_dirty(&bm, 2));
	/* Past the end is ignored. */
	assert_int_equal(hha_bitmap_set_range(&bm, 2 * GiB, 4096), 0);
	assert_int_equal(hha_bitmap_set_range(&bm, 1 * GiB - 4096, 1 * MiB), 1);
	assert_int_equal(hha_bitmap_next_set(&bm, bm.nbits - 1), bm.nbits - 1);
	/* Page copy round trip. */
	uint64_t before = hha_bitmap_count(&bm);
	hha_bitmap_page_get(&bm, 0, page);
	hha_bitmap_clear_all(&bm);
	assert_int_equal(hha_bitmap_count(&bm), 0);
	hha_bitmap_page_put(&bm, 0, page);
	assert_int_equal(hha_bitmap_count(&bm), before - 2); /* page 1's bit and the last bit */
	hha_bitmap_set_all(&bm);
	assert_int_equal(hha_bitmap_count(&bm), bm.nbits);
	assert_int_equal(hha_bitmap_next_clear(&bm, 0), bm.nbits);
	hha_bitmap_fini(&bm);

	/* A size that is not a whole number of words: bits past the end stay clear. */
	assert_int_equal(hha_bitmap_init(&bm, 4096 * 70), 0);
	hha_bitmap_set_all(&bm);
	assert_int_equal(hha_bitmap_count(&bm), 70);
	memset(page, 0xff, sizeof(page));
	hha_bitmap_page_put(&bm, 0, page);
	assert_int_equal(hha_bitmap_count(&bm), 70);
	hha_bitmap_fini(&bm);
}

static void test_bitmap_persist(void **state)
{
	const uint64_t size = 1 * GiB + 64 * MiB;
	struct hha_md_sb sb;
	struct hha_bitmap bm, bm2;
	uint32_t bad;
	uint8_t junk[64];
	int fd = tmpfile_of(size);
	(void)state;

	make_sb(&sb, size, true);
	assert_int_equal(hha_md_create(fd, &sb), 0);
	assert_int_equal(hha_bitmap_init(&bm, sb.usable_size), 0);
	assert_int_equal(hha_md_bm_load(fd, &sb, &bm, &bad), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(hha_bitmap_count(&bm), 0);
	hha_bitmap_set_range(&bm, 12345 * 4096, 10 * 4096);
	hha_bitmap_set_range(&bm, sb.usable_size - 4096, 4096);
	assert_int_equal(hha_md_bm_flush(fd, &sb, &bm), 0);
	assert_false(hha_bitmap_page_dirty(&bm, 0));

	assert_int_equal(hha_bitmap_init(&bm2, sb.usable_size), 0);
	assert_int_equal(hha_md_bm_load(fd, &sb, &bm2, &bad), 0);
	assert_int_equal(bad, 0);
	assert_int_equal(hha_bitmap_count(&bm2), 11);
	assert_memory_equal(bm.words, bm2.words, bm.nwords * 8);
	hha_bitmap_fini(&bm2);

	/* A corrupt page reads as all out of sync (safe), and only that page. */
	memset(junk, 0x77, sizeof(junk));
	assert_int_equal(hha_pwrite_full(fd, junk, sizeof(junk), (off_t)(sb.md_offset + 4096 + 10)), 0);
	assert_int_equal(hha_bitmap_init(&bm2, sb.usable_size), 0);
	assert_int_equal(hha_md_bm_load(fd, &sb, &bm2, &bad), 0);
	assert_int_equal(bad, 1);
	/* 10 bits in page 0, all of page 1, the last bit. */
	assert_int_equal(hha_bitmap_count(&bm2), 10 + HHA_BM_PAGE_BITS + 1);
	assert_true(hha_bitmap_page_dirty(&bm2, 1));
	/* Another metadata's page (other md uuid) is not trusted either. */
	sb.md_uuid ^= 1;
	hha_bitmap_fini(&bm2);
	assert_int_equal(hha_bitmap_init(&bm2, sb.usable_size), 0);
	assert_int_equal(hha_md_bm_load(fd, &sb, &bm2, &bad), 0);
	assert_int_equal(bad, bm2.npages);
	hha_bitmap_fini(&bm2);
	hha_bitmap_fini(&bm);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry),
		cmocka_unit_test(test_sb_roundtrip),
		cmocka_unit_test(test_sb_fields),
		cmocka_unit_test(test_slots),
		cmocka_unit_test(test_bitmap_ops),
		cmocka_unit_test(test_bitmap_persist),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
