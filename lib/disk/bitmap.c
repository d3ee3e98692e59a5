/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The out-of-sync bitmap in memory: one bit per 4 KiB block, safe to mark from any thread. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "disk/bitmap.h"

#define WORDS_PER_PAGE (HHA_BM_PAGE_BYTES / 8u)

uint32_t hha_bitmap_pages_for(uint64_t nbits)
{
	uint64_t p = (nbits + HHA_BM_PAGE_BITS - 1) / HHA_BM_PAGE_BITS;

	return p ? (uint32_t)p : 1;
}

/*
 * The words and the dirty bits live in address space reserved up front
 * (PROT_NONE, no memory committed) and made usable as the device grows:
 * an online resize then never moves the arrays the data path marks
 * without a lock. Only the pages in use cost memory.
 */
#define RESERVE_BYTES (64ull << 40) /* reserve for devices up to 64 TiB (or 4x the size) */

static size_t round_page(size_t n)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);

	return (n + pg - 1) / pg * pg;
}

/* Reserve @cap bytes and make the first @use usable; NULL on failure. */
static void *reserve(size_t cap, size_t use)
{
	void *p = mmap(NULL, cap, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	if (use && mprotect(p, round_page(use), PROT_READ | PROT_WRITE) < 0) {
		munmap(p, cap);
		return NULL;
	}
	return p;
}

static size_t dirty_bytes(uint32_t npages)
{
	return ((size_t)npages + 63) / 64 * sizeof(uint64_t);
}

int hha_bitmap_init(struct hha_bitmap *bm, uint64_t bytes)
{
	uint64_t cap_bits;

	memset(bm, 0, sizeof(*bm));
	bm->nbits = (bytes + HHA_BM_BLOCK - 1) >> HHA_BM_BLOCK_SHIFT;
	bm->npages = hha_bitmap_pages_for(bm->nbits);
	/* Whole pages of words, so page copies never run past the end. */
	bm->nwords = (size_t)bm->npages * WORDS_PER_PAGE;
	cap_bits = RESERVE_BYTES >> HHA_BM_BLOCK_SHIFT;
	if (sizeof(void *) < 8 || cap_bits < bm->nbits * 4)
		cap_bits = sizeof(void *) < 8 ? bm->nbits : bm->nbits * 4;
	bm->cap_pages = hha_bitmap_pages_for(cap_bits);
	bm->words = reserve(round_page((size_t)bm->cap_pages * WORDS_PER_PAGE * 8), bm->nwords * 8);
	bm->dirty = bm->words ? reserve(round_page(dirty_bytes(bm->cap_pages)), dirty_bytes(bm->npages)) : NULL;
	if (!bm->words || !bm->dirty) {
		/* Address space is short (ulimit -v): a bitmap that cannot grow. */
		if (bm->words)
			munmap(bm->words, round_page((size_t)bm->cap_pages * WORDS_PER_PAGE * 8));
		bm->cap_pages = bm->npages;
		bm->words = reserve(round_page(bm->nwords * 8), bm->nwords * 8);
		bm->dirty = bm->words ? reserve(round_page(dirty_bytes(bm->npages)), dirty_bytes(bm->npages)) : NULL;
	}
	if (!bm->words || !bm->dirty) {
		if (bm->words)
			munmap(bm->words, round_page(bm->nwords * 8));
		memset(bm, 0, sizeof(*bm));
		return -ENOMEM;
	}
	pthread_mutex_init(&bm->io_lock, NULL);
	return 0;
}

int hha_bitmap_grow(struct hha_bitmap *bm, uint64_t bytes)
{
	uint64_t nbits = (bytes + HHA_BM_BLOCK - 1) >> HHA_BM_BLOCK_SHIFT;
	uint32_t npages = hha_bitmap_pages_for(nbits);
	size_t nwords = (size_t)npages * WORDS_PER_PAGE;

	if (nbits < bm->nbits)
		return -EINVAL;
	if (npages > bm->cap_pages)
		return -ENOSPC;
	if (mprotect(bm->words, round_page(nwords * 8), PROT_READ | PROT_WRITE) < 0 ||
	    mprotect(bm->dirty, round_page(dirty_bytes(npages)), PROT_READ | PROT_WRITE) < 0)
		return -errno;
	/* The new words are zero: no bit past the old end was ever set. New
	 * pages count as dirty, so they reach the disk. */
	for (uint32_t p = bm->npages; p < npages; p++)
		__atomic_fetch_or(&bm->dirty[p / 64], 1ull << (p % 64), __ATOMIC_RELAXED);
	bm->nwords = nwords;
	__atomic_store_n(&bm->npages, npages, __ATOMIC_RELEASE);
	__atomic_store_n(&bm->nbits, nbits, __ATOMIC_RELEASE);
	return 0;
}

void hha_bitmap_fini(struct hha_bitmap *bm)
{
	if (bm->words) {
		pthread_mutex_destroy(&bm->io_lock);
		munmap(bm->words, round_page((size_t)bm->cap_pages * WORDS_PER_PAGE * 8));
	}
	if (bm->dirty)
		munmap(bm->dirty, round_page(dirty_bytes(bm->cap_pages)));
	memset(bm, 0, sizeof(*bm));
}

static void mark_dirty(struct hha_bitmap *bm, size_t word)
{
	size_t page = word / WORDS_PER_PAGE;

	__atomic_fetch_or(&bm->dirty[page / 64], 1ull << (page % 64), __ATOMIC_RELAXED);
}

/* Apply @mask to word @w (set or clear); returns the bits that changed. */
static uint64_t word_apply(struct hha_bitmap *bm, size_t w, uint64_t mask, bool set)
{
	uint64_t old, changed;

	if (set)
		old = __atomic_fetch_or(&bm->words[w], mask, __ATOMIC_RELAXED);
	else
		old = __atomic_fetch_and(&bm->words[w], ~mask, __ATOMIC_RELAXED);
	changed = set ? (mask & ~old) : (mask & old);
	if (changed) {
		unsigned n = (unsigned)__builtin_popcountll(changed);
		if (set)
			__atomic_fetch_add(&bm->count, n, __ATOMIC_RELAXED);
		else
			__atomic_fetch_sub(&bm->count, n, __ATOMIC_RELAXED);
		mark_dirty(bm, w);
	}
	return changed;
}

/* Set or clear bits [first, last] (inclusive, last < nbits). */
static uint64_t apply_bits(struct hha_bitmap *bm, uint64_t first, uint64_t last, bool set)
{
	uint64_t n = 0;

	while (first <= last) {
		size_t w = (size_t)(first / 64);
		unsigned lo = (unsigned)(first % 64);
		unsigned hi = (last / 64 == w) ? (unsigned)(last % 64) : 63;
		uint64_t mask = (hi == 63 ? ~0ull : ((1ull << (hi + 1)) - 1)) & ~((1ull << lo) - 1);

		n += (uint64_t)__builtin_popcountll(word_apply(bm, w, mask, set));
		first = (uint64_t)w * 64 + hi + 1;
	}
	return n;
}

uint64_t hha_bitmap_set_range(struct hha_bitmap *bm, uint64_t off, uint64_t len)
{
	uint64_t first, last;

	if (len == 0 || bm->nbits == 0)
		return 0;
	first = off >> HHA_BM_BLOCK_SHIFT;
	last = (off + len - 1) >> HHA_BM_BLOCK_SHIFT;
	if (first >= bm->nbits)
		return 0;
	if (last >= bm->nbits)
		last = bm->nbits - 1;
	return apply_bits(bm, first, last, true);
}

uint64_t hha_bitmap_clear_range(struct hha_bitmap *bm, uint64_t off, uint64_t len)
{
	uint64_t first = (off + HHA_BM_BLOCK - 1) >> HHA_BM_BLOCK_SHIFT;
	uint64_t end = (off + len) >> HHA_BM_BLOCK_SHIFT; /* exclusive */

	if (end > bm->nbits)
		end = bm->nbits;
	if (len == 0 || first >= end)
		return 0;
	return apply_bits(bm, first, end - 1, false);
}

void hha_bitmap_set_all(struct hha_bitmap *bm)
{
	if (bm->nbits)
		apply_bits(bm, 0, bm->nbits - 1, true);
}

void hha_bitmap_clear_all(struct hha_bitmap *bm)
{
	if (bm->nbits)
		apply_bits(bm, 0, bm->nbits - 1, false);
}

bool hha_bitmap_test(const struct hha_bitmap *bm, uint64_t bit)
{
	if (bit >= bm->nbits)
		return false;
	return (__atomic_load_n(&bm->words[bit / 64], __ATOMIC_RELAXED) >> (bit % 64)) & 1;
}

uint64_t hha_bitmap_count(const struct hha_bitmap *bm)
{
	return __atomic_load_n(&bm->count, __ATOMIC_RELAXED);
}

static uint64_t next_bit(const struct hha_bitmap *bm, uint64_t from, bool want_set)
{
	while (from < bm->nbits) {
		size_t w = (size_t)(from / 64);
		uint64_t v = __atomic_load_n(&bm->words[w], __ATOMIC_RELAXED);

		if (!want_set)
			v = ~v;
		v &= ~0ull << (from % 64);
		if (v) {
			uint64_t b = (uint64_t)w * 64 + (uint64_t)__builtin_ctzll(v);
			return b < bm->nbits ? b : bm->nbits;
		}
		from = ((uint64_t)w + 1) * 64;
	}
	return bm->nbits;
}

uint64_t hha_bitmap_next_set(const struct hha_bitmap *bm, uint64_t from)
{
	return next_bit(bm, from, true);
}

uint64_t hha_bitmap_next_clear(const struct hha_bitmap *bm, uint64_t from)
{
	return next_bit(bm, from, false);
}

bool hha_bitmap_page_dirty(const struct hha_bitmap *bm, uint32_t page)
{
	return (__atomic_load_n(&bm->dirty[page / 64], __ATOMIC_RELAXED) >> (page % 64)) & 1;
}

void hha_bitmap_page_clean(struct hha_bitmap *bm, uint32_t page)
{
	__atomic_fetch_and(&bm->dirty[page / 64], ~(1ull << (page % 64)), __ATOMIC_RELAXED);
}

void hha_bitmap_mark_all_dirty(struct hha_bitmap *bm)
{
	for (uint32_t p = 0; p < bm->npages; p++)
		__atomic_fetch_or(&bm->dirty[p / 64], 1ull << (p % 64), __ATOMIC_RELAXED);
}

void hha_bitmap_page_get(const struct hha_bitmap *bm, uint32_t page, uint8_t *out)
{
	const uint64_t *w = bm->words + (size_t)page * WORDS_PER_PAGE;

	for (size_t i = 0; i < WORDS_PER_PAGE; i++) {
		uint64_t le = htole64(__atomic_load_n(&w[i], __ATOMIC_RELAXED));
		memcpy(out + i * 8, &le, 8);
	}
}

void hha_bitmap_page_put(struct hha_bitmap *bm, uint32_t page, const uint8_t *in)
{
	size_t base = (size_t)page * WORDS_PER_PAGE;

	for (size_t i = 0; i < WORDS_PER_PAGE; i++) {
		uint64_t le, v, old;
		size_t w = base + i;
		uint64_t first = (uint64_t)w * 64;

		memcpy(&le, in + i * 8, 8);
		v = le64toh(le);
		/* Bits past the end of the device never count, whatever the page says. */
		if (first >= bm->nbits)
			v = 0;
		else if (bm->nbits - first < 64)
			v &= (1ull << (bm->nbits - first)) - 1;
		old = __atomic_exchange_n(&bm->words[w], v, __ATOMIC_RELAXED);
		bm->count += (uint64_t)__builtin_popcountll(v) - (uint64_t)__builtin_popcountll(old);
	}
}
