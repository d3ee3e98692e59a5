/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the activity-log reader (table pages, their two copies) of a metadata file. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/bytes.h"
#include "disk/al.h"
#include "disk/md.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Random bytes almost never pass a checksum: seal what the input asks to,
 * as a writer would, so the field checks behind it get exercised. */
static void seal_sb(uint8_t *slot)
{
	unsigned int n = 32;

	EVP_Digest(slot, HHA_MD_SB_USED - 32, slot + HHA_MD_SB_USED - 32, &n, EVP_sha256(), NULL);
}

static void seal_al(uint8_t *page, uint32_t index, uint64_t md_uuid)
{
	const uint32_t tr = HHA_AL_PAGE_ENTRIES * 4;

	hha_put_le32(page + tr, HHA_AL_MAGIC);
	hha_put_le32(page + tr + 4, index);
	hha_put_le64(page + tr + 8, md_uuid);
	hha_put_le64(page + tr + 24, hha_md_sum64(page, tr + 24));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t page[4096];
	struct hha_md_sb sb;
	struct hha_md_read_info info;
	struct hha_al al;
	uint64_t seq;
	bool corrupt;
	int fd;

	/* One page on its own. */
	memset(page, 0, sizeof(page));
	memcpy(page, data, size < sizeof(page) ? size : sizeof(page));
	memset(&sb, 0, sizeof(sb));
	sb.md_uuid = 1;
	if (size > 1 && (data[size - 1] & 2))
		seal_al(page, 0, sb.md_uuid);
	hha_al_page_check(&sb, 0, page, &seq);

	/* The input as a whole metadata file (external layout: it ends with the slots). */
	if (size < 2 * 4096 || size > (4u << 20))
		return 0;
	fd = memfd_create("fuzz-al", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size)
		goto out;
	if (data[0] & 1) {
		uint64_t end = size & ~4095ull;
		for (int i = 1; i <= 2; i++) {
			memcpy(page, data + end - (uint64_t)i * 4096, 4096);
			seal_sb(page);
			if (pwrite(fd, page, 4096, (off_t)(end - (uint64_t)i * 4096)) < 0)
				goto out;
		}
	}
	if (hha_md_read(fd, size, &sb, &info) < 0 || sb.al_extents > 65534)
		goto out;
	/* Seal the table pages found in the activity-log area, if asked. */
	if (data[0] & 2) {
		for (uint32_t s = 0; s < sb.al_slots; s++) {
			uint64_t off = hha_md_al_offset(&sb) + (uint64_t)s * 4096;
			if (pread(fd, page, 4096, (off_t)off) != 4096)
				break;
			seal_al(page, s / 2, sb.md_uuid);
			if (pwrite(fd, page, 4096, (off_t)off) < 0)
				break;
		}
	}
	if (hha_al_init(&al, sb.al_extents) == 0) {
		hha_al_load(fd, &sb, &al, &corrupt);
		/* What was loaded must be usable: look every entry up. */
		for (uint32_t i = 0; i < al.n; i++)
			if (al.ext[i] != HHA_AL_NONE && hha_al_lookup(&al, al.ext[i]) != (int)i)
				__builtin_trap();
		hha_al_fini(&al);
	}
out:
	close(fd);
	return 0;
}
