/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The activity log: which 4 MiB extents of a primary may have writes in flight, in memory and on disk. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/internal.h"
#include "core/util.h"
#include "disk/al.h"

#define BLK 4096u
#define TR_OFF (HHA_AL_PAGE_ENTRIES * 4u)   /* trailer: magic, page, md uuid, seq, checksum */

uint32_t hha_al_pages_for(uint32_t n)
{
	return (n + HHA_AL_PAGE_ENTRIES - 1) / HHA_AL_PAGE_ENTRIES;
}

int hha_al_init(struct hha_al *al, uint32_t n)
{
	uint32_t hs = 16;

	memset(al, 0, sizeof(*al));
	if (n == 0)
		return -EINVAL;
	while (hs < 2 * n)
		hs <<= 1;
	al->n = n;
	al->npages = hha_al_pages_for(n);
	al->hmask = hs - 1;
	al->ext = malloc(sizeof(uint32_t) * n);
	al->refs = calloc(n, sizeof(uint32_t));
	al->pending = calloc(n, 1);
	al->refbit = calloc(n, 1);
	al->hnext = calloc(n, sizeof(uint32_t));
	al->hhead = calloc(hs, sizeof(uint32_t));
	al->page_seq = calloc(al->npages, sizeof(uint64_t));
	al->page_copy = calloc(al->npages, 1);
	al->page_dirty = calloc(al->npages, 1);
	if (!al->ext || !al->refs || !al->pending || !al->refbit || !al->hnext || !al->hhead || !al->page_seq ||
	    !al->page_copy || !al->page_dirty) {
		hha_al_fini(al);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		al->ext[i] = HHA_AL_NONE;
	return 0;
}

void hha_al_fini(struct hha_al *al)
{
	free(al->ext);
	free(al->refs);
	free(al->pending);
	free(al->refbit);
	free(al->hnext);
	free(al->hhead);
	free(al->page_seq);
	free(al->page_copy);
	free(al->page_dirty);
	memset(al, 0, sizeof(*al));
}

static uint32_t hash(const struct hha_al *al, uint32_t ext)
{
	return (ext * 0x9e3779b1u) & al->hmask;
}

int hha_al_lookup(const struct hha_al *al, uint32_t ext)
{
	for (uint32_t s = al->hhead[hash(al, ext)]; s; s = al->hnext[s - 1])
		if (al->ext[s - 1] == ext)
			return (int)(s - 1);
	return -1;
}

static void unhash(struct hha_al *al, uint32_t slot)
{
	uint32_t *pp = &al->hhead[hash(al, al->ext[slot])];

	while (*pp && *pp != slot + 1)
		pp = &al->hnext[*pp - 1];
	if (*pp)
		*pp = al->hnext[slot];
	al->hnext[slot] = 0;
}

void hha_al_assign(struct hha_al *al, uint32_t slot, uint32_t ext)
{
	uint32_t h;

	if (al->ext[slot] != HHA_AL_NONE)
		unhash(al, slot);
	al->ext[slot] = ext;
	if (ext != HHA_AL_NONE) {
		h = hash(al, ext);
		al->hnext[slot] = al->hhead[h];
		al->hhead[h] = slot + 1;
	}
	al->pending[slot] = 1;
	al->refbit[slot] = 1;
	al->page_dirty[slot / HHA_AL_PAGE_ENTRIES] = 1;
}

int hha_al_victim(struct hha_al *al)
{
	/* Two turns of the clock: the first may only clear second chances. */
	for (uint64_t i = 0; i < 2ull * al->n; i++) {
		uint32_t s = al->hand;
		al->hand = (al->hand + 1) % al->n;
		if (al->pending[s] || __atomic_load_n(&al->refs[s], __ATOMIC_ACQUIRE))
			continue;
		if (al->refbit[s]) {
			al->refbit[s] = 0;
			continue;
		}
		return (int)s;
	}
	return -1;
}

void hha_al_committed(struct hha_al *al)
{
	memset(al->pending, 0, al->n);
}

void hha_al_page_encode(const struct hha_md_sb *sb, const struct hha_al *al, uint32_t page, uint64_t seq,
			uint8_t *buf)
{
	uint32_t first = page * HHA_AL_PAGE_ENTRIES;

	memset(buf, 0, BLK);
	for (uint32_t i = 0; i < HHA_AL_PAGE_ENTRIES; i++)
		hha_put_le32(buf + 4 * i, first + i < al->n ? al->ext[first + i] : HHA_AL_NONE);
	hha_put_le32(buf + TR_OFF, HHA_AL_MAGIC);
	hha_put_le32(buf + TR_OFF + 4, page);
	hha_put_le64(buf + TR_OFF + 8, sb->md_uuid);
	hha_put_le64(buf + TR_OFF + 16, seq);
	hha_put_le64(buf + TR_OFF + 24, hha_md_sum64(buf, TR_OFF + 24));
}

int hha_al_page_check(const struct hha_md_sb *sb, uint32_t page, const uint8_t *buf, uint64_t *seq)
{
	bool zero = true;

	*seq = 0;
	for (size_t i = 0; i < BLK && zero; i++)
		zero = buf[i] == 0;
	if (zero)
		return -ENOENT;
	if (hha_get_le32(buf + TR_OFF) != HHA_AL_MAGIC || hha_get_le32(buf + TR_OFF + 4) != page ||
	    hha_get_le64(buf + TR_OFF + 8) != sb->md_uuid || hha_get_le64(buf + TR_OFF + 16) == 0 ||
	    hha_get_le64(buf + TR_OFF + 24) != hha_md_sum64(buf, TR_OFF + 24))
		return -EBADMSG;
	*seq = hha_get_le64(buf + TR_OFF + 16);
	return 0;
}

static uint64_t page_offset(const struct hha_md_sb *sb, uint32_t page, int copy)
{
	return hha_md_al_offset(sb) + ((uint64_t)page * 2 + (uint64_t)copy) * BLK;
}

int hha_al_load(int fd, const struct hha_md_sb *sb, struct hha_al *al, bool *corrupt)
{
	uint64_t next = (sb->usable_size + HHA_AL_EXTENT - 1) >> HHA_AL_EXTENT_SHIFT;
	uint8_t *buf = malloc(2 * BLK);
	int r = 0;

	*corrupt = false;
	if (!buf)
		return -ENOMEM;
	if ((uint64_t)al->npages * 2 > sb->al_slots) {
		/* The area cannot hold this log: nothing was ever written there. */
		free(buf);
		return -EINVAL;
	}
	for (uint32_t p = 0; p < al->npages && r == 0; p++) {
		uint64_t seq[2];
		int c[2], best = -1;

		for (int k = 0; k < 2 && r == 0; k++) {
			r = hha_pread_full(fd, buf + k * BLK, BLK, (off_t)page_offset(sb, p, k));
			c[k] = r == 0 ? hha_al_page_check(sb, p, buf + k * BLK, &seq[k]) : -EIO;
		}
		if (r < 0)
			break;
		for (int k = 0; k < 2; k++)
			if (c[k] == 0 && (best < 0 || seq[k] > seq[best]))
				best = k;
		if (best < 0) {
			if (c[0] == -EBADMSG || c[1] == -EBADMSG)
				*corrupt = true;
			continue;
		}
		al->page_seq[p] = seq[best];
		al->page_copy[p] = (uint8_t)best;
		if (seq[best] > al->seq)
			al->seq = seq[best];
		for (uint32_t i = 0; i < HHA_AL_PAGE_ENTRIES; i++) {
			uint32_t slot = p * HHA_AL_PAGE_ENTRIES + i;
			uint32_t e = hha_get_le32(buf + best * BLK + 4 * i);
			if (slot >= al->n || e == HHA_AL_NONE || e >= next || hha_al_lookup(al, e) >= 0)
				continue;
			hha_al_assign(al, slot, e);
		}
	}
	free(buf);
	hha_al_committed(al);
	memset(al->page_dirty, 0, al->npages);
	memset(al->refbit, 0, al->n);
	return r;
}

int hha_al_write_dirty(int fd, const struct hha_md_sb *sb, struct hha_al *al)
{
	uint8_t *buf = NULL;
	int r = 0;

	for (uint32_t p = 0; p < al->npages && r == 0; p++) {
		int copy;
		if (!al->page_dirty[p])
			continue;
		if (!buf && !(buf = malloc(BLK)))
			return -ENOMEM;
		/* Never overwrite the newest valid copy. */
		copy = al->page_seq[p] ? 1 - al->page_copy[p] : 0;
		hha_al_page_encode(sb, al, p, ++al->seq, buf);
		r = hha_pwrite_full(fd, buf, BLK, (off_t)page_offset(sb, p, copy));
		if (r == 0) {
			al->page_dirty[p] = 0;
			al->page_seq[p] = al->seq;
			al->page_copy[p] = (uint8_t)copy;
		}
	}
	if (r == 0)
		al->txns++;
	free(buf);
	return r;
}
