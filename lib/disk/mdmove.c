/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Metadata that moves when a store grows: finding it at the old end, and moving it crash-safely. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
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

/* Does @sb belong to the resource @want describes (NULL: any)? */
static bool ours(const struct hha_md_want *want, const struct hha_md_sb *sb)
{
	if (!want)
		return true;
	if (want->name && want->name[0] && sb->name[0] && strcmp(want->name, sb->name) != 0)
		return false;
	return !want->hint || want->hint->md_uuid == sb->md_uuid;
}

/* What a search saw, for the message when it found nothing of ours. */
struct seen {
	uint64_t read_bytes;
	bool foreign;            /* complete metadata of another identity */
	uint64_t foreign_at;
	struct hha_md_sb foreign_sb;
};

static int scan(int fd, uint64_t top, const struct hha_md_want *want, struct hha_md_sb *sb,
		struct hha_md_read_info *info, uint64_t *end, struct seen *seen)
{
	uint8_t *buf = malloc(CHUNK);
	uint64_t hi = top;

	if (!buf)
		return -ENOMEM;
	while (hi >= 2 * BLK && seen->read_bytes < HHA_MD_SCAN_MAX) {
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
		seen->read_bytes += hi - lo;
		for (uint64_t o = hi - BLK;; o -= BLK) {
			const uint8_t *p = buf + (o - lo);
			/* Slot 1 lies just below its end, slot 0 one block lower. */
			if (memcmp(p, "HHHADM01", 8) == 0 &&
			    (try_end(fd, o + BLK, sb, info) || (o + 2 * BLK <= top && try_end(fd, o + 2 * BLK, sb, info)))) {
				if (ours(want, sb)) {
					*end = sb->md_offset + sb->md_size;
					free(buf);
					return 0;
				}
				/* Someone else's: remember the first, search on below it. */
				if (!seen->foreign) {
					seen->foreign = true;
					seen->foreign_at = sb->md_offset;
					seen->foreign_sb = *sb;
				}
			}
			if (o == lo)
				break;
		}
		hi = lo;
	}
	free(buf);
	return -ENOENT;
}

/* The metadata the hint records, if it is still there and ours. */
static bool try_hint(int fd, uint64_t top, const struct hha_md_want *want, struct hha_md_sb *sb,
		     struct hha_md_read_info *info)
{
	const struct hha_md_hint *h = want ? want->hint : NULL;
	uint64_t end;

	if (!h || h->md_size == 0 || h->md_offset > top || h->md_size > top - h->md_offset)
		return false;
	end = h->md_offset + h->md_size;
	if (!try_end(fd, end, sb, info))
		return false;
	return sb->md_offset == h->md_offset && ours(want, sb) && !strcmp(sb->name, h->name);
}

int hha_md_locate(int fd, uint64_t file_size, const struct hha_md_want *want, struct hha_md_sb *sb,
		  struct hha_md_read_info *info, uint64_t *end, enum hha_md_found *found)
{
	uint64_t top = file_size & ~(BLK - 1);
	struct seen seen = { 0 };
	char hint_desc[400];
	int r = hha_md_read(fd, file_size, sb, info);

	*end = top;
	*found = HHA_MD_FOUND_END;
	if (r == 0 || !(r == -ENOENT || (r == -EBADMSG && info->blank_slots > 0)))
		return r;
	/* Nothing complete at the end (and not merely corrupt there). */
	if (try_hint(fd, top, want, sb, info)) {
		*end = sb->md_offset + sb->md_size;
		*found = HHA_MD_FOUND_HINT;
		return 0;
	}
	if (top >= 3 * BLK && scan(fd, top - BLK, want, sb, info, end, &seen) == 0) {
		*found = HHA_MD_FOUND_SCAN;
		return 0;
	}
	if (want && want->hint)
		snprintf(hint_desc, sizeof(hint_desc), "not at the place %s recorded (offset %llu, id %016llx)",
			 want->hint_path ? want->hint_path : "the state file", (unsigned long long)want->hint->md_offset,
			 (unsigned long long)want->hint->md_uuid);
	else if (want && want->hint_path)
		snprintf(hint_desc, sizeof(hint_desc), "no place recorded in %s", want->hint_path);
	else
		snprintf(hint_desc, sizeof(hint_desc), "no recorded place");
	if (seen.foreign)
		return hha_error(-ENOENT, __func__, "the only metadata found (at offset %llu, written for `%s', "
				 "id %016llx) is not this resource's%s: stale metadata of another resource (recycled "
				 "space?) is never trusted; %s. If that metadata is this resource's after all (a stale "
				 "record), remove %s and attach again; if this store is the right one, run create-md "
				 "(then a full sync)", (unsigned long long)seen.foreign_at,
				 seen.foreign_sb.name, (unsigned long long)seen.foreign_sb.md_uuid,
				 want && want->hint ? " (not the id recorded)" : "", hint_desc,
				 want && want->hint_path ? want->hint_path : "the state file");
	if (r == -EBADMSG)
		return hha_error(r, __func__, "both superblock slots are corrupt");
	if (!want)
		return hha_error(r, __func__, "no metadata found (run create-md)");
	return hha_error(r, __func__, "no metadata found: none at the end of the store (%llu bytes), %s, and "
			 "none in the %llu bytes of data searched back from the end (at most %llu; holes skipped). "
			 "If the store grew by more than that while hhad was down, shrink it back to its old size "
			 "(the grown part holds no data yet), attach, then resize; if it never had metadata, run "
			 "create-md", (unsigned long long)top, hint_desc, (unsigned long long)seen.read_bytes,
			 (unsigned long long)HHA_MD_SCAN_MAX);
}

int hha_md_find(int fd, uint64_t file_size, struct hha_md_sb *sb, struct hha_md_read_info *info, uint64_t *end)
{
	enum hha_md_found found;

	return hha_md_locate(fd, file_size, NULL, sb, info, end, &found);
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
