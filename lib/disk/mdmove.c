/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Metadata that moves when a store grows: finding it at the old end, and moving it crash-safely. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "core/util.h"
#include "disk/md.h"

#define BLK 4096ull
#define CHUNK (1ull << 20)
#define BATCH 64u

/*
 * Why a search at all: internal metadata sits at the end of the store, and
 * an administrator grows the store (lvextend, truncate) before telling us.
 * If hhad dies in between, or while the metadata moves, the end holds
 * nothing yet and the only copy is where the old end was, which no record
 * outside the store can be trusted to remember. A superblock found there is
 * only taken if the whole metadata it describes checks out (both slots are
 * read as for a store of exactly that size) and its recorded backing size
 * ends right there; the old slots are zeroed once a move completed, so the
 * newest end is the only one that matches.
 */

/* A complete internal metadata ending at @end? */
static bool try_end(int fd, uint64_t end, struct hha_md_sb *sb, struct hha_md_read_info *info)
{
	struct hha_md_read_info ri;
	struct hha_md_sb s;

	if (end < 2 * BLK || hha_md_read(fd, end, &s, &ri) < 0)
		return false;
	if (s.md_offset == 0 || (s.backing_size & ~(BLK - 1)) != end)
		return false;
	*sb = s;
	*info = ri;
	return true;
}

/* Is [lo, hi) a hole (regular files; a device or a filesystem without
 * SEEK_DATA reads as data)? */
static bool is_hole(int fd, uint64_t lo, uint64_t hi)
{
	off_t d = lseek(fd, (off_t)lo, SEEK_DATA);

	if (d < 0)
		return errno == ENXIO;
	return (uint64_t)d >= hi;
}

static int scan(int fd, uint64_t top, struct hha_md_sb *sb, struct hha_md_read_info *info, uint64_t *end)
{
	uint8_t *buf = malloc(CHUNK);
	uint64_t hi = top, read_bytes = 0;

	if (!buf)
		return -ENOMEM;
	while (hi >= 2 * BLK && read_bytes < HHA_MD_SCAN_MAX) {
		uint64_t lo = hi > CHUNK ? hi - CHUNK : 0;
		if (is_hole(fd, lo, hi)) {
			/* A grown sparse file: skip its hole in growing steps. */
			for (uint64_t s = CHUNK; lo >= s && is_hole(fd, lo - s, lo); s *= 2)
				lo -= s;
			hi = lo;
			continue;
		}
		if (hha_pread_full(fd, buf, (size_t)(hi - lo), (off_t)lo) < 0)
			break;
		read_bytes += hi - lo;
		for (uint64_t o = hi - BLK;; o -= BLK) {
			const uint8_t *p = buf + (o - lo);
			/* Slot 1 lies just below its end, slot 0 one block lower. */
			if (memcmp(p, "HHHADM01", 8) == 0 &&
			    (try_end(fd, o + BLK, sb, info) || (o + 2 * BLK <= top && try_end(fd, o + 2 * BLK, sb, info)))) {
				*end = sb->md_offset + sb->md_size;
				free(buf);
				return 0;
			}
			if (o == lo)
				break;
		}
		hi = lo;
	}
	free(buf);
	return -ENOENT;
}

int hha_md_find(int fd, uint64_t file_size, struct hha_md_sb *sb, struct hha_md_read_info *info, uint64_t *end)
{
	uint64_t top = file_size & ~(BLK - 1);
	int r = hha_md_read(fd, file_size, sb, info);

	*end = top;
	if (r == 0 || !(r == -ENOENT || (r == -EBADMSG && info->blank_slots > 0)))
		return r;
	/* Nothing complete at the end (and not merely corrupt there). */
	if (top < 3 * BLK || scan(fd, top - BLK, sb, info, end) < 0)
		return hha_error(r, __func__, "%s", r == -ENOENT ? "no metadata found (run create-md)"
								: "both superblock slots are corrupt");
	return 0;
}

/* One step done: go on, or stop here (tests). */
static bool stop(struct hha_md_move *mv, int *steps)
{
	return ++*steps == mv->stop_after;
}

static int write_pages(struct hha_md_move *mv)
{
	const struct hha_md_sb *n = mv->nsb;
	uint8_t *buf = malloc(BATCH * BLK);
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (uint32_t p = 0; p < n->bm_pages && r == 0; p += BATCH) {
		uint32_t cnt = HHA_MIN(BATCH, n->bm_pages - p);
		for (uint32_t i = 0; i < cnt; i++) {
			/* Clean first: a bit changing meanwhile makes the page dirty again. */
			if (p + i < mv->bm->npages)
				hha_bitmap_page_clean(mv->bm, p + i);
			hha_md_bm_page_encode(n, mv->bm, p + i, buf + (size_t)i * BLK);
		}
		r = hha_pwrite_full(mv->dst_fd, buf, (size_t)cnt * BLK, (off_t)(hha_md_bm_offset(n) + p * BLK));
	}
	free(buf);
	if (r < 0)
		hha_bitmap_mark_all_dirty(mv->bm);
	return r;
}

static int copy_al(struct hha_md_move *mv)
{
	uint8_t *buf = malloc(BATCH * BLK);
	uint32_t slots = mv->old->al_slots;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	for (uint32_t s = 0; s < slots && r == 0; s += BATCH) {
		size_t cnt = HHA_MIN(BATCH, slots - s) * BLK;
		r = hha_pread_full(mv->src_fd, buf, cnt, (off_t)(hha_md_al_offset(mv->old) + s * BLK));
		if (r == 0)
			r = hha_pwrite_full(mv->dst_fd, buf, cnt, (off_t)(hha_md_al_offset(mv->nsb) + s * BLK));
	}
	free(buf);
	return r;
}

/* A torn superblock write (tests): the slot gen % 2 cut before its checksum. */
static int torn_slot(struct hha_md_move *mv)
{
	uint8_t *buf = malloc(HHA_MD_SB_SIZE);
	uint64_t end = mv->nsb->md_offset + mv->nsb->md_size;
	struct hha_md_sb s = *mv->nsb;
	int r;

	if (!buf)
		return -ENOMEM;
	s.gen++;
	hha_md_sb_encode(&s, buf);
	r = hha_pwrite_full(mv->dst_fd, buf, 256, (off_t)(end - (2 - s.gen % 2) * BLK));
	free(buf);
	return r;
}

int hha_md_move(struct hha_md_move *mv)
{
	uint64_t old_end = mv->old->md_offset + mv->old->md_size;
	int steps = 0, r;

	if (mv->nsb->al_slots != mv->old->al_slots || mv->nsb->md_uuid != mv->old->md_uuid)
		return -EINVAL;
	mv->nsb->gen = mv->old->gen;
	if (mv->stop_after == 0)
		return -EINTR;
	if ((r = write_pages(mv)) < 0 || stop(mv, &steps))
		return r < 0 ? r : -EINTR;
	if ((r = copy_al(mv)) < 0 || stop(mv, &steps))
		return r < 0 ? r : -EINTR;
	if (fdatasync(mv->dst_fd) < 0)
		return -errno;
	if (stop(mv, &steps))
		return -EINTR;
	for (int i = 0; i < 2; i++) {
		if (mv->torn && mv->stop_after == steps + 1)
			return (r = torn_slot(mv)) < 0 ? r : -EINTR;
		if ((r = hha_md_write_sb(mv->dst_fd, mv->nsb)) < 0)
			return r;
		if (stop(mv, &steps))
			return -EINTR;
	}
	if (mv->src_fd == mv->dst_fd && old_end <= mv->nsb->md_offset) {
		uint8_t *zero = calloc(2, BLK);
		if (!zero)
			return -ENOMEM;
		r = hha_pwrite_full(mv->src_fd, zero, 2 * BLK, (off_t)(old_end - 2 * BLK));
		free(zero);
		if (r == 0 && fdatasync(mv->src_fd) < 0)
			r = -errno;
		if (r < 0)
			return r;
	}
	return 0;
}
