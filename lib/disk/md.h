/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* On-disk metadata of a replicated device: superblock slots, bitmap pages, activity-log area. */
#ifndef HHA_DISK_MD_H
#define HHA_DISK_MD_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "disk/bitmap.h"

/*
 * Layout (docs/disk.md has the full description). The metadata area is the
 * last md_size bytes of its file: of the backing store itself ("internal",
 * the usable size shrinks by md_size) or of a separate file ("external",
 * the file is exactly md_size bytes). Offsets below are from the area's start.
 *
 *   [0, bm_pages * 4K)          bitmap pages: 4064 bytes of bits + 32-byte trailer
 *                                (magic, page index, md uuid, checksum)
 *   [.., + al_slots * 4K)       activity-log ring (4 KiB transactions; all zero = empty)
 *   [md_size - 8K, md_size - 4K) superblock slot 0
 *   [md_size - 4K, md_size)     superblock slot 1
 *
 * The slots sit at a fixed place from the end, so a reader finds them with
 * nothing but the file size. Each write of the superblock increments gen and
 * goes to slot gen % 2, so the previous version survives a torn write; the
 * reader takes the valid slot with the higher gen. Every field is
 * little-endian and covered by a SHA-256 checksum.
 */

#define HHA_MD_MAGIC 0x31304d4441484848ull /* "HHHADM01" little-endian */
#define HHA_MD_VERSION 1u
#define HHA_MD_SB_SIZE 4096u
#define HHA_MD_SB_USED 512u      /* bytes covered by the checksum, checksum last */
#define HHA_MD_BM_PAGE 4096u
#define HHA_MD_BM_MAGIC 0x504d4248u /* "HBMP" */
#define HHA_MD_AL_EXTENT (4u << 20)
#define HHA_MD_HISTORY 4
#define HHA_MD_NAME_MAX 64


/* Flags, persistent. */
enum {
	HHA_MDF_CONSISTENT = 1u << 0,      /* the data is a consistent image (not mid-sync) */
	HHA_MDF_OUTDATED = 1u << 1,        /* consistent but known older than the peer's */
	HHA_MDF_WAS_PRIMARY = 1u << 2,     /* this node was primary when last written */
	HHA_MDF_CRASHED_PRIMARY = 1u << 3, /* primary and not cleanly demoted (set while primary) */
	HHA_MDF_AL_CLEAN = 1u << 4,        /* the activity log holds nothing to resync */
	HHA_MDF_FULL_SYNC = 1u << 5,       /* the next sync as source sends everything */
	HHA_MDF_PEER_OUTDATED = 1u << 6,   /* the peer's copy was marked outdated by us */
	HHA_MDF_PUSH_MARKS = 1u << 7,      /* our bitmap's marks (verify) go to the peer at the next connection */
	HHA_MDF_ALL = (1u << 8) - 1,
};

struct hha_md_sb {
	uint64_t gen;            /* write counter; the valid slot with the highest wins */
	uint64_t md_uuid;        /* random identity of this metadata */
	uint64_t backing_size;   /* size of the backing store when created */
	uint64_t usable_size;    /* bytes of data (whole 4 KiB blocks) */
	uint64_t md_offset;      /* where the area starts in its file */
	uint64_t md_size;        /* bytes of the area */
	uint32_t flags;          /* HHA_MDF_* */
	uint32_t al_extents;     /* hot extents the activity log may hold */
	uint32_t al_slots;       /* 4 KiB transactions in the ring */
	uint32_t bm_pages;       /* 4 KiB bitmap pages */
	uint64_t la_size;        /* last size agreed with a peer, 0 if never connected */
	uint64_t uuid_current;   /* 0 = empty (a new disk) */
	uint64_t uuid_bitmap;    /* current id when the bitmap started collecting, or 0 */
	uint64_t uuid_history[HHA_MD_HISTORY];
	uint64_t sync_pos;       /* resync progress hint, bytes */
	char name[HHA_MD_NAME_MAX]; /* resource name at create-md (NUL-terminated) */
};

/* Where each part lives for a given device. */
struct hha_md_geom {
	uint64_t backing_size, usable_size;
	uint64_t md_offset, md_size;
	uint64_t bm_bits;
	uint32_t bm_pages, al_slots, al_extents;
};

/*
 * hha_md_geometry - compute the layout.
 * @backing_size: bytes of the backing store.
 * @internal: metadata at its end (else in a separate file of md_size bytes).
 * @al_extents: activity-log size in 4 MiB extents (7..65534).
 * Return: 0, or -EINVAL (no room left for data, bad al_extents).
 */
int hha_md_geometry(uint64_t backing_size, bool internal, uint32_t al_extents, struct hha_md_geom *g);

/* Serialise a superblock into 4096 bytes (computes the checksum). */
void hha_md_sb_encode(const struct hha_md_sb *sb, uint8_t *buf);
/*
 * Parse and check one slot. @file_size is the size of the file the area
 * lives in. Every field is range-checked. Return: 0, -ENOENT (no magic:
 * never written), -EBADMSG (bad checksum or field; *why says which),
 * -HHA_EVERSION (a newer format).
 */
int hha_md_sb_decode(const uint8_t *buf, uint64_t file_size, struct hha_md_sb *sb, const char **why);

/* What hha_md_read() found. */
struct hha_md_read_info {
	int slot;                /* the slot used (0 or 1) */
	bool other_bad;          /* the other slot was corrupt (not merely older) */
	const char *other_why;   /* why, if so */
	int blank_slots;         /* slots without the magic (never written), even on failure */
};

/*
 * hha_md_read - find the newest valid superblock in the file @fd of @file_size.
 * Return: 0; -ENOENT (no metadata: never created); -EBADMSG (both slots
 * corrupt; message in hha_last_error()); -HHA_EVERSION; -errno on I/O errors.
 */
int hha_md_read(int fd, uint64_t file_size, struct hha_md_sb *sb, struct hha_md_read_info *info);

/*
 * hha_md_write_sb - write @sb durably: gen is incremented, the slot gen % 2 is
 * written and synced. The other slot keeps the previous version.
 * Return: 0 or -errno.
 */
int hha_md_write_sb(int fd, struct hha_md_sb *sb);

/*
 * hha_md_create - write fresh metadata: zero bitmap pages with valid trailers,
 * an empty activity log and both superblock slots. @sb describes it (gen is
 * set here). The file must already be large enough. Return: 0 or -errno.
 */
int hha_md_create(int fd, struct hha_md_sb *sb);

/* Encode bitmap page @page of @bm with its trailer into @buf (4096 bytes). */
void hha_md_bm_page_encode(const struct hha_md_sb *sb, const struct hha_bitmap *bm, uint32_t page,
			   uint8_t *buf);
/* Check a page's trailer; 0 or -EBADMSG. */
int hha_md_bm_page_check(const struct hha_md_sb *sb, uint32_t page, const uint8_t *buf);

/*
 * hha_md_bm_load - read the persisted bitmap into @bm (sized for sb->usable_size).
 * A page whose trailer is wrong (torn, foreign, corrupt) is treated as all
 * out of sync, which is safe: it only causes more resync.
 * @bad_pages: receives how many pages were bad. Return: 0 or -errno.
 */
int hha_md_bm_load(int fd, const struct hha_md_sb *sb, struct hha_bitmap *bm, uint32_t *bad_pages);

/* Write every dirty page of @bm without syncing (the caller syncs). 0 or -errno. */
int hha_md_bm_write_dirty(int fd, const struct hha_md_sb *sb, struct hha_bitmap *bm);
/* Write every dirty page of @bm (then fdatasync). Return: 0 or -errno. */
int hha_md_bm_flush(int fd, const struct hha_md_sb *sb, struct hha_bitmap *bm);

/* Byte offsets (in the file) of the parts. */
uint64_t hha_md_bm_offset(const struct hha_md_sb *sb);
uint64_t hha_md_al_offset(const struct hha_md_sb *sb);

/* The first 8 bytes (little-endian) of the SHA-256 of @buf: page checksums. */
uint64_t hha_md_sum64(const void *buf, size_t len);

/* "consistent,was-primary" etc. into @buf. */
const char *hha_md_flags_str(uint32_t flags, char *buf, size_t len);

/* Push @id into the history (newest first), dropping the oldest. 0 ids are ignored. */
void hha_md_history_push(struct hha_md_sb *sb, uint64_t id);

/*
 * hha_md_find - hha_md_read(), and where the end of @file_size holds no
 * metadata at all (a slot never written, the other not valid), internal
 * metadata left at the old end of a store that grew: the search goes back
 * from the end (holes skipped; at most HHA_MD_SCAN_MAX bytes of data read)
 * for the newest complete metadata whose recorded backing size ends where
 * it lies. @end receives where the metadata's file ends (= the store's
 * size rounded down to 4 KiB, or the old end). Return: as hha_md_read().
 */
#define HHA_MD_SCAN_MAX (4ull << 30)
int hha_md_find(int fd, uint64_t file_size, struct hha_md_sb *sb, struct hha_md_read_info *info, uint64_t *end);

/*
 * Where internal metadata was last seen, kept in a small file outside the
 * store (hhad: STATE_DIR/disk-RES.md, lib/disk/mdhint.c) so that a store
 * that grew while nothing was attached is found without a search.
 */
struct hha_md_hint {
	char name[HHA_MD_NAME_MAX]; /* resource name recorded in the metadata */
	uint64_t md_uuid;
	uint64_t backing_size;      /* the store's size then */
	uint64_t md_offset, md_size;
};
/* Read @path: 0; -ENOENT (no file); -EBADMSG (not a hint: the message says why); -errno. */
int hha_md_hint_load(const char *path, struct hha_md_hint *h);
/* Replace @path durably (write, fsync, rename, fsync of the directory). 0 or -errno. */
int hha_md_hint_save(const char *path, const struct hha_md_hint *h);
/* The hint describing @sb. */
void hha_md_hint_from_sb(const struct hha_md_sb *sb, struct hha_md_hint *h);

/* What hha_md_locate() looks for, and how it found it. */
struct hha_md_want {
	const char *name;              /* the resource's name ("" or NULL: any) */
	const struct hha_md_hint *hint; /* the recorded place (NULL: none); its md_uuid must match */
	const char *hint_path;         /* for messages */
};
enum hha_md_found { HHA_MD_FOUND_END, HHA_MD_FOUND_HINT, HHA_MD_FOUND_SCAN };

/*
 * hha_md_locate - hha_md_find() for one resource: the end of the store
 * first; where it holds nothing, the place @want->hint recorded (taken only
 * if the metadata there checks out and has the hint's id and the
 * resource's name); then the search back from the end, which skips
 * metadata of another identity (stale metadata in recycled space) and
 * refuses when that is all it finds. @found says where it came from.
 * Return: 0; -ENOENT (nothing of ours: the message says what was searched
 * and how to recover); -EBADMSG; -HHA_EVERSION; -errno.
 */
int hha_md_locate(int fd, uint64_t file_size, const struct hha_md_want *want, struct hha_md_sb *sb,
		  struct hha_md_read_info *info, uint64_t *end, enum hha_md_found *found);

/*
 * Moving the metadata to a new place (online resize). The new area is
 * written completely and synced before any superblock slot there, and the
 * old area is left intact until the new superblocks are on disk, so a crash
 * at any point leaves one complete copy that hha_md_find() trusts: the old
 * (until the first new slot is written) or the new. Steps, in order:
 *   1 the bitmap pages (from @bm, with the new layout's trailers)
 *   2 the activity-log area (copied as it is: its pages do not depend on
 *     where they lie)
 *   3 fdatasync
 *   4 superblock slot (gen + 1), synced
 *   5 the other slot (gen + 2), synced
 *   6 internal metadata: the old superblock slots zeroed and synced, so no
 *     stale copy is ever found again (the old area becomes data)
 */
struct hha_md_move {
	int src_fd;                  /* the current metadata's file */
	int dst_fd;                  /* the new one's (== src_fd for internal metadata) */
	const struct hha_md_sb *old; /* the current superblock */
	struct hha_md_sb *nsb;       /* the new one (layout filled in; gen is set here) */
	struct hha_bitmap *bm;       /* covers nsb->usable_size; the caller holds bm->io_lock */
	int stop_after;              /* tests: stop after this many steps (-EINTR); < 0: all */
	bool torn;                   /* tests: the stopping step writes a torn slot */
};
int hha_md_move(struct hha_md_move *mv);

#endif /* HHA_DISK_MD_H */
