/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The out-of-sync bitmap in memory: one bit per 4 KiB block, safe to mark from any thread. */
#ifndef HHA_DISK_BITMAP_H
#define HHA_DISK_BITMAP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A set bit means "this 4 KiB block may differ from the peer's copy".
 * Setting and clearing are atomic per word, so the data path (marking
 * writes the peer did not confirm) and the resync (clearing what it copied)
 * need no lock. The number of set bits is kept up to date as they change.
 *
 * Persistence is by pages of HHA_BM_PAGE_BYTES bytes of bits (see md.h):
 * every change marks its page dirty, and the metadata code writes only dirty
 * pages. Memory: 32 KiB per GiB of device, nothing per block.
 */

#define HHA_BM_BLOCK_SHIFT 12
#define HHA_BM_BLOCK (1u << HHA_BM_BLOCK_SHIFT)
/* Bytes of bits per on-disk bitmap page (a 4 KiB page minus its trailer). */
#define HHA_BM_PAGE_BYTES 4064u
#define HHA_BM_PAGE_BITS (HHA_BM_PAGE_BYTES * 8u)

struct hha_bitmap {
	uint64_t nbits;
	size_t nwords;      /* 64-bit words, whole; bits past nbits stay clear */
	uint64_t *words;
	uint64_t count;     /* set bits (atomic) */
	uint32_t npages;    /* on-disk pages */
	uint32_t cap_pages; /* pages the reserved address space can grow to */
	uint64_t *dirty;    /* one bit per page: changed since last written */
	pthread_mutex_t io_lock; /* one writer of pages at a time: an older copy never lands last */
};

/* Allocate a bitmap for a device of @bytes (rounded up to whole blocks). 0 or -ENOMEM. */
int hha_bitmap_init(struct hha_bitmap *bm, uint64_t bytes);
void hha_bitmap_fini(struct hha_bitmap *bm);
/*
 * hha_bitmap_grow - make room for a device of @bytes (online resize). The
 * arrays stay where they are, so threads marking bits concurrently are
 * safe; the new blocks start clear and their pages dirty.
 * Return: 0, -EINVAL (smaller), -ENOSPC (beyond the reservation), -errno.
 */
int hha_bitmap_grow(struct hha_bitmap *bm, uint64_t bytes);

/* Mark / clear every block touched by [off, off+len). Returns how many bits changed. */
uint64_t hha_bitmap_set_range(struct hha_bitmap *bm, uint64_t off, uint64_t len);
/* Clears only the blocks [off, off+len) covers entirely (device sizes are
 * whole blocks, so the last block is never partial). */
uint64_t hha_bitmap_clear_range(struct hha_bitmap *bm, uint64_t off, uint64_t len);
void hha_bitmap_set_all(struct hha_bitmap *bm);
void hha_bitmap_clear_all(struct hha_bitmap *bm);

bool hha_bitmap_test(const struct hha_bitmap *bm, uint64_t bit);
uint64_t hha_bitmap_count(const struct hha_bitmap *bm);
/* The first set bit >= @from, or bm->nbits when none. */
uint64_t hha_bitmap_next_set(const struct hha_bitmap *bm, uint64_t from);
/* The first clear bit >= @from, or bm->nbits when none. */
uint64_t hha_bitmap_next_clear(const struct hha_bitmap *bm, uint64_t from);

/* Dirty-page tracking for persistence. */
bool hha_bitmap_page_dirty(const struct hha_bitmap *bm, uint32_t page);
/* Forget that @page is dirty (called before writing it: a change racing the
 * write marks it dirty again). */
void hha_bitmap_page_clean(struct hha_bitmap *bm, uint32_t page);
void hha_bitmap_mark_all_dirty(struct hha_bitmap *bm);
/* Copy page @page's bits into @out (HHA_BM_PAGE_BYTES, little-endian bit order:
 * bit i of the device is bit (i % 8) of byte i / 8), or load them from @in. */
void hha_bitmap_page_get(const struct hha_bitmap *bm, uint32_t page, uint8_t *out);
void hha_bitmap_page_put(struct hha_bitmap *bm, uint32_t page, const uint8_t *in);
/* Number of on-disk pages a bitmap of @nbits needs. */
uint32_t hha_bitmap_pages_for(uint64_t nbits);

#endif /* HHA_DISK_BITMAP_H */
