/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The activity log: which 4 MiB extents of a primary may have writes in flight, in memory and on disk. */
#ifndef HHA_DISK_AL_H
#define HHA_DISK_AL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/md.h"

/*
 * A write may start only once every extent it touches is in the log *on
 * disk*; after a crash of the primary, the extents the log names are the
 * only places where the two copies can differ beyond what the bitmap says.
 * The set changes only when a write needs an extent that is not in it: one
 * transaction then replaces cold extents (no write in flight, least
 * recently used by a clock) with the new ones, for every write waiting at
 * that moment (group commit), so a hot set that fits costs no metadata I/O.
 *
 * On disk the log is a table of al_extents slots (u32 extent number, or
 * HHA_AL_NONE), stored in pages of HHA_AL_PAGE_ENTRIES entries with a
 * checksummed trailer. Each page has two copies in the metadata's
 * activity-log area; a transaction writes the changed pages to their older
 * copy, so a torn write leaves the previous version readable, and the
 * reader takes the valid copy with the higher sequence number. The writes
 * a torn transaction was for had not started, so the previous version is
 * still a superset of what may differ.
 */

#define HHA_AL_EXTENT_SHIFT 22
#define HHA_AL_EXTENT (1ull << HHA_AL_EXTENT_SHIFT)
#define HHA_AL_NONE UINT32_MAX
#define HHA_AL_PAGE_ENTRIES 1016u   /* (4096 - 32-byte trailer) / 4 */
#define HHA_AL_MAGIC 0x504c4148u    /* "HALP" */

struct hha_al {
	uint32_t n;            /* slots */
	uint32_t npages;       /* table pages */
	uint32_t *ext;         /* extent per slot, HHA_AL_NONE = empty */
	uint32_t *refs;        /* writes in flight per slot (atomic) */
	uint8_t *pending;      /* assigned in memory, not yet on disk */
	uint8_t *refbit;       /* the clock's second chance */
	uint32_t *hnext;       /* hash chains: slot + 1, 0 = end */
	uint32_t *hhead;
	uint32_t hmask;
	uint32_t hand;         /* the clock */
	uint64_t seq;          /* newest page sequence written */
	uint64_t *page_seq;    /* per page: sequence of its newest copy */
	uint8_t *page_copy;    /* per page: which copy (0/1) is newest */
	uint8_t *page_dirty;   /* per page: changed since the last commit */
	uint64_t txns;         /* transactions written (statistics) */
};

/* Allocate an empty log of @n slots. 0 or -ENOMEM. */
int hha_al_init(struct hha_al *al, uint32_t n);
void hha_al_fini(struct hha_al *al);

/* The slot holding @ext, or -1. */
int hha_al_lookup(const struct hha_al *al, uint32_t ext);
/* Put @ext into @slot (replacing what it held); marks the slot pending and its page dirty. */
void hha_al_assign(struct hha_al *al, uint32_t slot, uint32_t ext);
/* A slot that can take a new extent (no writes in flight, not pending, not
 * recently used), or -1 when every slot is busy. */
int hha_al_victim(struct hha_al *al);
/* Number of table pages for @n slots. */
uint32_t hha_al_pages_for(uint32_t n);

/* Serialise table page @page (4096 bytes) with sequence @seq; parse one. */
void hha_al_page_encode(const struct hha_md_sb *sb, const struct hha_al *al, uint32_t page, uint64_t seq,
			uint8_t *buf);
/* Check page @page's trailer; fills *seq. 0, -ENOENT (all zero: never
 * written) or -EBADMSG. */
int hha_al_page_check(const struct hha_md_sb *sb, uint32_t page, const uint8_t *buf, uint64_t *seq);

/*
 * hha_al_load - read the log from the metadata file @fd. A page whose
 * copies are both invalid but not blank makes *corrupt true (the caller
 * must then assume everything may differ). Extent numbers beyond the
 * device are dropped. Return: 0 or -errno.
 */
int hha_al_load(int fd, const struct hha_md_sb *sb, struct hha_al *al, bool *corrupt);
/* Write every dirty page to its older copy (no sync: the caller syncs).
 * Return: 0 or -errno. */
int hha_al_write_dirty(int fd, const struct hha_md_sb *sb, struct hha_al *al);
/* The pending slots are on disk now. */
void hha_al_committed(struct hha_al *al);

#endif /* HHA_DISK_AL_H */
