/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the metadata readers (superblock slots, slot choice, bitmap pages). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "disk/bitmap.h"
#include "disk/md.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Random bytes almost never pass the checksum; give the field checks a
 * chance by sealing the slot as a writer would, when the input asks. */
static void seal(uint8_t *slot)
{
	unsigned int n = 32;

	EVP_Digest(slot, HHA_MD_SB_USED - 32, slot + HHA_MD_SB_USED - 32, &n, EVP_sha256(), NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t file_sizes[] = { 0, 8192, 1u << 20, 256u << 20, 1ull << 40 };
	uint8_t slot[HHA_MD_SB_SIZE];
	struct hha_md_sb sb;
	struct hha_md_read_info info;
	const char *why;
	int fd;

	memset(slot, 0, sizeof(slot));
	memcpy(slot, data, size < sizeof(slot) ? size : sizeof(slot));
	if (size > 1 && (data[size - 1] & 1))
		seal(slot);
	for (size_t i = 0; i < sizeof(file_sizes) / sizeof(file_sizes[0]); i++)
		hha_md_sb_decode(slot, file_sizes[i], &sb, &why);

	/* The input as a whole metadata file: slots at its end, bitmap before. */
	if (size > (4u << 20))
		return 0;
	fd = memfd_create("fuzz-md", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) == (ssize_t)size && size >= 2 * HHA_MD_SB_SIZE && (data[0] & 1)) {
		/* Seal both slots in place. */
		uint64_t end = size & ~4095ull;
		for (int i = 1; i <= 2 && end >= (uint64_t)i * 4096; i++) {
			memcpy(slot, data + end - (uint64_t)i * 4096, sizeof(slot));
			seal(slot);
			if (pwrite(fd, slot, sizeof(slot), (off_t)(end - (uint64_t)i * 4096)) < 0)
				break;
		}
	}
	if (size == (size_t)lseek(fd, 0, SEEK_END) &&
	    hha_md_read(fd, size, &sb, &info) == 0 && sb.usable_size <= (64ull << 30)) {
		struct hha_bitmap bm;
		uint32_t bad;
		if (hha_bitmap_init(&bm, sb.usable_size) == 0) {
			hha_md_bm_load(fd, &sb, &bm, &bad);
			hha_bitmap_fini(&bm);
		}
	}
	close(fd);
	return 0;
}
