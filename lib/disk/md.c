/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* On-disk metadata of a replicated device: superblock slots, bitmap pages, activity-log area. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/bytes.h"
#include "core/internal.h"
#include "core/util.h"
#include "disk/md.h"

#define BLK 4096u
#define SUM_OFF (HHA_MD_SB_USED - 32u)
#define AL_SLOTS_MAX 4096u

static uint64_t floor_blk(uint64_t v)
{
	return v & ~(uint64_t)(BLK - 1);
}

static uint32_t al_slots_for(uint32_t al_extents)
{
	/* Room for a ring whose transactions each carry ~1000 extent numbers of
	 * context (the resync issue's format), twice over, plus spare slots. */
	return 8u + 2u * ((al_extents + 999u) / 1000u);
}

int hha_md_geometry(uint64_t backing_size, bool internal, uint32_t al_extents, struct hha_md_geom *g)
{
	uint64_t end = floor_blk(backing_size), fixed;

	memset(g, 0, sizeof(*g));
	if (al_extents < 7 || al_extents > 65534)
		return -EINVAL;
	g->backing_size = backing_size;
	g->al_extents = al_extents;
	g->al_slots = al_slots_for(al_extents);
	fixed = ((uint64_t)g->al_slots + 2) * BLK;
	if (internal) {
		/* The smallest bitmap that covers the data left beside it: bigger
		 * bitmaps leave less data, so step up from a lower bound. */
		uint32_t p = hha_bitmap_pages_for(end / BLK);
		uint64_t md = (uint64_t)p * BLK + fixed;
		if (end <= md + BLK)
			return -EINVAL;
		p = hha_bitmap_pages_for((end - md) / BLK);
		for (;;) {
			md = (uint64_t)p * BLK + fixed;
			if (end <= md + BLK)
				return -EINVAL;
			if (p >= hha_bitmap_pages_for((end - md) / BLK))
				break;
			p++;
		}
		g->bm_pages = p;
		g->md_size = md;
		g->md_offset = end - md;
		g->usable_size = g->md_offset;
	} else {
		if (end < BLK)
			return -EINVAL;
		g->bm_pages = hha_bitmap_pages_for(end / BLK);
		g->md_size = (uint64_t)g->bm_pages * BLK + fixed;
		g->md_offset = 0;
		g->usable_size = end;
	}
	g->bm_bits = g->usable_size / BLK;
	return 0;
}


static void sha256(const void *data, size_t len, uint8_t out[32])
{
	unsigned int n = 32;

	EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

/* Field offsets in a superblock slot. */
enum {
	SB_MAGIC = 0, SB_VERSION = 8, SB_USED = 12, SB_GEN = 16, SB_MDUUID = 24, SB_BACKING = 32,
	SB_USABLE = 40, SB_MDOFF = 48, SB_MDSIZE = 56, SB_FLAGS = 64, SB_ALEXT = 68, SB_ALSLOTS = 72,
	SB_BMPAGES = 76, SB_LASIZE = 80, SB_CUR = 88, SB_BM = 96, SB_HIST = 104,
	SB_SYNCPOS = 104 + 8 * HHA_MD_HISTORY, SB_NAME = SB_SYNCPOS + 8,
	SB_END = SB_NAME + HHA_MD_NAME_MAX,
};
_Static_assert(SB_END <= SUM_OFF, "superblock fields overlap the checksum");

void hha_md_sb_encode(const struct hha_md_sb *sb, uint8_t *buf)
{
	memset(buf, 0, HHA_MD_SB_SIZE);
	hha_put_le64(buf + SB_MAGIC, HHA_MD_MAGIC);
	hha_put_le32(buf + SB_VERSION, HHA_MD_VERSION);
	hha_put_le32(buf + SB_USED, HHA_MD_SB_USED);
	hha_put_le64(buf + SB_GEN, sb->gen);
	hha_put_le64(buf + SB_MDUUID, sb->md_uuid);
	hha_put_le64(buf + SB_BACKING, sb->backing_size);
	hha_put_le64(buf + SB_USABLE, sb->usable_size);
	hha_put_le64(buf + SB_MDOFF, sb->md_offset);
	hha_put_le64(buf + SB_MDSIZE, sb->md_size);
	hha_put_le32(buf + SB_FLAGS, sb->flags);
	hha_put_le32(buf + SB_ALEXT, sb->al_extents);
	hha_put_le32(buf + SB_ALSLOTS, sb->al_slots);
	hha_put_le32(buf + SB_BMPAGES, sb->bm_pages);
	hha_put_le64(buf + SB_LASIZE, sb->la_size);
	hha_put_le64(buf + SB_CUR, sb->uuid_current);
	hha_put_le64(buf + SB_BM, sb->uuid_bitmap);
	for (int i = 0; i < HHA_MD_HISTORY; i++)
		hha_put_le64(buf + SB_HIST + 8 * i, sb->uuid_history[i]);
	hha_put_le64(buf + SB_SYNCPOS, sb->sync_pos);
	memcpy(buf + SB_NAME, sb->name, strnlen(sb->name, HHA_MD_NAME_MAX - 1));
	sha256(buf, SUM_OFF, buf + SUM_OFF);
}

#define BAD(msg)                  \
	do {                      \
		*why = (msg);     \
		return -EBADMSG;  \
	} while (0)

int hha_md_sb_decode(const uint8_t *buf, uint64_t file_size, struct hha_md_sb *sb, const char **why)
{
	static const char *dummy;
	uint8_t sum[32];
	uint64_t end = floor_blk(file_size);
	uint32_t version;

	if (!why)
		why = &dummy;
	*why = NULL;
	memset(sb, 0, sizeof(*sb));
	if (hha_get_le64(buf + SB_MAGIC) != HHA_MD_MAGIC) {
		*why = "no metadata magic";
		return -ENOENT;
	}
	version = hha_get_le32(buf + SB_VERSION);
	if (version > HHA_MD_VERSION) {
		*why = "written by a newer format version";
		return -HHA_EVERSION;
	}
	if (version == 0)
		BAD("format version 0");
	if (hha_get_le32(buf + SB_USED) != HHA_MD_SB_USED)
		BAD("wrong superblock length");
	sha256(buf, SUM_OFF, sum);
	if (CRYPTO_memcmp(sum, buf + SUM_OFF, 32) != 0)
		BAD("checksum mismatch");
	for (size_t i = SB_END; i < SUM_OFF; i++)
		if (buf[i])
			BAD("reserved bytes not zero");
	for (size_t i = HHA_MD_SB_USED; i < HHA_MD_SB_SIZE; i++)
		if (buf[i])
			BAD("bytes after the checksum not zero");
	sb->gen = hha_get_le64(buf + SB_GEN);
	sb->md_uuid = hha_get_le64(buf + SB_MDUUID);
	sb->backing_size = hha_get_le64(buf + SB_BACKING);
	sb->usable_size = hha_get_le64(buf + SB_USABLE);
	sb->md_offset = hha_get_le64(buf + SB_MDOFF);
	sb->md_size = hha_get_le64(buf + SB_MDSIZE);
	sb->flags = hha_get_le32(buf + SB_FLAGS);
	sb->al_extents = hha_get_le32(buf + SB_ALEXT);
	sb->al_slots = hha_get_le32(buf + SB_ALSLOTS);
	sb->bm_pages = hha_get_le32(buf + SB_BMPAGES);
	sb->la_size = hha_get_le64(buf + SB_LASIZE);
	sb->uuid_current = hha_get_le64(buf + SB_CUR);
	sb->uuid_bitmap = hha_get_le64(buf + SB_BM);
	for (int i = 0; i < HHA_MD_HISTORY; i++)
		sb->uuid_history[i] = hha_get_le64(buf + SB_HIST + 8 * i);
	sb->sync_pos = hha_get_le64(buf + SB_SYNCPOS);
	memcpy(sb->name, buf + SB_NAME, HHA_MD_NAME_MAX);

	if (sb->gen == 0)
		BAD("generation counter 0");
	if (sb->md_uuid == 0)
		BAD("metadata id 0");
	if (memchr(sb->name, 0, HHA_MD_NAME_MAX) == NULL)
		BAD("resource name not terminated");
	if (sb->flags & ~(uint32_t)HHA_MDF_ALL)
		BAD("unknown flags");
	if (sb->al_extents < 7 || sb->al_extents > 65534)
		BAD("activity-log extents out of range");
	if (sb->al_slots < 8 || sb->al_slots > AL_SLOTS_MAX)
		BAD("activity-log slots out of range");
	if (sb->usable_size == 0 || sb->usable_size % BLK)
		BAD("usable size not a positive multiple of 4 KiB");
	if (sb->bm_pages == 0 || sb->bm_pages < hha_bitmap_pages_for(sb->usable_size / BLK) ||
	    sb->bm_pages > hha_bitmap_pages_for(sb->usable_size / BLK) + 1)
		BAD("bitmap size does not match the usable size");
	if (sb->md_size != ((uint64_t)sb->bm_pages + sb->al_slots + 2) * BLK)
		BAD("metadata size does not match its parts");
	if (sb->md_offset % BLK || sb->md_size > end || sb->md_offset != end - sb->md_size)
		BAD("metadata area does not end at the end of the file");
	/* Internal metadata follows the data; external starts its own file. */
	if (sb->md_offset != 0 && sb->usable_size > sb->md_offset)
		BAD("usable size overlaps the metadata");
	if (sb->backing_size < sb->usable_size)
		BAD("backing size smaller than the usable size");
	if (sb->la_size > sb->usable_size)
		BAD("agreed size larger than the usable size");
	if (sb->sync_pos > sb->usable_size)
		BAD("sync position past the end");
	return 0;
}

static uint64_t slot_offset(uint64_t file_end, int slot)
{
	return file_end - (uint64_t)(2 - slot) * BLK;
}

int hha_md_read(int fd, uint64_t file_size, struct hha_md_sb *sb, struct hha_md_read_info *info)
{
	uint64_t end = floor_blk(file_size);
	struct hha_md_sb s[2];
	const char *why[2] = { NULL, NULL };
	int r[2], best = -1;
	uint8_t *buf;

	memset(info, 0, sizeof(*info));
	if (end < 2 * BLK)
		return hha_error(-ENOENT, __func__, "too small to hold metadata (%llu bytes)",
				 (unsigned long long)file_size);
	buf = malloc(HHA_MD_SB_SIZE);
	if (!buf)
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		int e = hha_pread_full(fd, buf, HHA_MD_SB_SIZE, (off_t)slot_offset(end, i));
		if (e < 0) {
			free(buf);
			return hha_error(e, __func__, "cannot read superblock slot %d: %s", i,
					 hha_strerror(e));
		}
		r[i] = hha_md_sb_decode(buf, file_size, &s[i], &why[i]);
	}
	free(buf);
	for (int i = 0; i < 2; i++) {
		if (r[i] == 0 && (best < 0 || s[i].gen > s[best].gen))
			best = i;
		if (r[i] == -ENOENT)
			info->blank_slots++;
	}
	if (best < 0) {
		if (r[0] == -HHA_EVERSION || r[1] == -HHA_EVERSION)
			return hha_error(-HHA_EVERSION, __func__,
					 "metadata written by a newer version of libhybridha");
		if (r[0] == -ENOENT && r[1] == -ENOENT)
			return hha_error(-ENOENT, __func__, "no metadata found (run create-md)");
		return hha_error(-EBADMSG, __func__, "both superblock slots are corrupt (%s; %s)",
				 why[0] ? why[0] : "ok", why[1] ? why[1] : "ok");
	}
	*sb = s[best];
	info->slot = best;
	/* An older valid slot is normal; a corrupt or never-written one is worth saying. */
	info->other_bad = r[1 - best] != 0 && !(r[1 - best] == -ENOENT && s[best].gen == 1);
	info->other_why = why[1 - best];
	return 0;
}

int hha_md_write_sb(int fd, struct hha_md_sb *sb)
{
	uint8_t *buf = malloc(HHA_MD_SB_SIZE);
	uint64_t end = sb->md_offset + sb->md_size;
	int r;

	if (!buf)
		return -ENOMEM;
	sb->gen++;
	hha_md_sb_encode(sb, buf);
	r = hha_pwrite_full(fd, buf, HHA_MD_SB_SIZE, (off_t)slot_offset(end, (int)(sb->gen % 2)));
	free(buf);
	if (r == 0 && fdatasync(fd) < 0)
		r = -errno;
	return r;
}

uint64_t hha_md_bm_offset(const struct hha_md_sb *sb)
{
	return sb->md_offset;
}

uint64_t hha_md_al_offset(const struct hha_md_sb *sb)
{
	return sb->md_offset + (uint64_t)sb->bm_pages * BLK;
}

/* Trailer: u32 magic, u32 page, u64 md_uuid, u64 reserved 0, u64 checksum. */
#define TR_OFF HHA_BM_PAGE_BYTES

uint64_t hha_md_sum64(const void *buf, size_t len)
{
	uint8_t d[32];

	sha256(buf, len, d);
	return hha_get_le64(d);
}

static uint64_t page_sum(const uint8_t *buf)
{
	return hha_md_sum64(buf, TR_OFF + 24);
}

void hha_md_bm_page_encode(const struct hha_md_sb *sb, const struct hha_bitmap *bm, uint32_t page,
			   uint8_t *buf)
{
	memset(buf, 0, HHA_MD_BM_PAGE);
	if (bm && page < bm->npages)
		hha_bitmap_page_get(bm, page, buf);
	hha_put_le32(buf + TR_OFF, HHA_MD_BM_MAGIC);
	hha_put_le32(buf + TR_OFF + 4, page);
	hha_put_le64(buf + TR_OFF + 8, sb->md_uuid);
	hha_put_le64(buf + TR_OFF + 24, page_sum(buf));
}

int hha_md_bm_page_check(const struct hha_md_sb *sb, uint32_t page, const uint8_t *buf)
{
	if (hha_get_le32(buf + TR_OFF) != HHA_MD_BM_MAGIC || hha_get_le32(buf + TR_OFF + 4) != page ||
	    hha_get_le64(buf + TR_OFF + 8) != sb->md_uuid || hha_get_le64(buf + TR_OFF + 16) != 0 ||
	    hha_get_le64(buf + TR_OFF + 24) != page_sum(buf))
		return -EBADMSG;
	return 0;
}

/* Pages are written in batches of this many, to keep system calls few. */
#define BATCH 64u

int hha_md_create(int fd, struct hha_md_sb *sb)
{
	uint8_t *buf = calloc(BATCH, BLK);
	uint64_t off;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (uint32_t p = 0; p < sb->bm_pages && r == 0; p += BATCH) {
		uint32_t n = HHA_MIN(BATCH, sb->bm_pages - p);
		for (uint32_t i = 0; i < n; i++)
			hha_md_bm_page_encode(sb, NULL, p + i, buf + (size_t)i * BLK);
		r = hha_pwrite_full(fd, buf, (size_t)n * BLK, (off_t)(hha_md_bm_offset(sb) + (uint64_t)p * BLK));
	}
	memset(buf, 0, (size_t)BATCH * BLK);
	off = hha_md_al_offset(sb);
	for (uint32_t s = 0; s < sb->al_slots && r == 0; s += BATCH) {
		uint32_t n = HHA_MIN(BATCH, sb->al_slots - s);
		r = hha_pwrite_full(fd, buf, (size_t)n * BLK, (off_t)(off + (uint64_t)s * BLK));
	}
	free(buf);
	if (r < 0)
		return r;
	/* Both slots valid: gen 1 in slot 1, gen 2 in slot 0. */
	sb->gen = 0;
	if ((r = hha_md_write_sb(fd, sb)) < 0)
		return r;
	return hha_md_write_sb(fd, sb);
}

int hha_md_bm_load(int fd, const struct hha_md_sb *sb, struct hha_bitmap *bm, uint32_t *bad_pages)
{
	uint8_t *buf = malloc((size_t)BATCH * BLK);
	int r = 0;

	*bad_pages = 0;
	if (!buf)
		return -ENOMEM;
	for (uint32_t p = 0; p < bm->npages && r == 0; p += BATCH) {
		uint32_t n = HHA_MIN(BATCH, bm->npages - p);
		r = hha_pread_full(fd, buf, (size_t)n * BLK, (off_t)(hha_md_bm_offset(sb) + (uint64_t)p * BLK));
		for (uint32_t i = 0; r == 0 && i < n; i++) {
			uint8_t *pg = buf + (size_t)i * BLK;
			if (hha_md_bm_page_check(sb, p + i, pg) < 0) {
				(*bad_pages)++;
				memset(pg, 0xff, HHA_BM_PAGE_BYTES);
				hha_bitmap_page_put(bm, p + i, pg);
				/* Rewrite it valid at the next flush. */
				__atomic_fetch_or(&bm->dirty[(p + i) / 64], 1ull << ((p + i) % 64),
						  __ATOMIC_RELAXED);
			} else {
				hha_bitmap_page_put(bm, p + i, pg);
			}
		}
	}
	free(buf);
	return r;
}

/* Write the dirty pages; returns how many were written, or -errno. */
static int bm_write(int fd, const struct hha_md_sb *sb, struct hha_bitmap *bm)
{
	uint8_t *buf = NULL;
	int r = 0, wrote = 0;

	pthread_mutex_lock(&bm->io_lock);
	/* A bitmap grown for a resize has more pages than this area until the
	 * metadata moved: those wait (dirty) for the new one. */
	for (uint32_t p = 0; p < bm->npages && p < sb->bm_pages && r == 0; p++) {
		if (!hha_bitmap_page_dirty(bm, p))
			continue;
		if (!buf && !(buf = malloc(BLK))) {
			r = -ENOMEM;
			break;
		}
		hha_bitmap_page_clean(bm, p);
		hha_md_bm_page_encode(sb, bm, p, buf);
		r = hha_pwrite_full(fd, buf, BLK, (off_t)(hha_md_bm_offset(sb) + (uint64_t)p * BLK));
		if (r < 0)
			hha_bitmap_mark_all_dirty(bm);
		wrote++;
	}
	pthread_mutex_unlock(&bm->io_lock);
	free(buf);
	return r < 0 ? r : wrote;
}

int hha_md_bm_write_dirty(int fd, const struct hha_md_sb *sb, struct hha_bitmap *bm)
{
	int r = bm_write(fd, sb, bm);

	return r < 0 ? r : 0;
}

int hha_md_bm_flush(int fd, const struct hha_md_sb *sb, struct hha_bitmap *bm)
{
	int r = bm_write(fd, sb, bm);

	if (r > 0 && fdatasync(fd) < 0)
		return -errno;
	return r < 0 ? r : 0;
}

const char *hha_md_flags_str(uint32_t flags, char *buf, size_t len)
{
	static const char *const names[] = { "consistent", "outdated", "was-primary", "crashed-primary",
					     "al-clean", "full-sync", "peer-outdated", "push-marks" };
	size_t n = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < HHA_ARRAY_SIZE(names); i++) {
		if (!(flags & (1u << i)))
			continue;
		n += (size_t)snprintf(buf + n, n < len ? len - n : 0, "%s%s", n ? "," : "", names[i]);
	}
	return buf;
}

void hha_md_history_push(struct hha_md_sb *sb, uint64_t id)
{
	if (id == 0 || sb->uuid_history[0] == id)
		return;
	memmove(&sb->uuid_history[1], &sb->uuid_history[0], sizeof(uint64_t) * (HHA_MD_HISTORY - 1));
	sb->uuid_history[0] = id;
}
