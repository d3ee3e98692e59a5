/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers: number and unit parsing, whole-buffer I/O, fd flags. */
#ifndef HHA_CORE_UTIL_H
#define HHA_CORE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Parse a decimal integer in [min, max] with nothing after it. 0 or -EINVAL/-ERANGE. */
int hha_parse_int64(const char *s, int64_t min, int64_t max, int64_t *out);

/*
 * Parse a byte count with an optional binary unit: "4096", "512K", "600M",
 * "1G", "2T" (also "KiB", "MiB"...; case-insensitive). 0 or -EINVAL/-ERANGE.
 */
int hha_parse_size(const char *s, uint64_t *out);

/* Format a byte count for people ("1.5 GiB"); returns buf. */
const char *hha_format_size(uint64_t bytes, char *buf, size_t len);

/* Write/read exactly n bytes, retrying on EINTR and short transfers. 0 or -errno
 * (-EPIPE at end of file for reads). */
int hha_write_full(int fd, const void *buf, size_t n);
int hha_read_full(int fd, void *buf, size_t n);
int hha_pwrite_full(int fd, const void *buf, size_t n, off_t off);
int hha_pread_full(int fd, void *buf, size_t n, off_t off);

int hha_set_nonblock(int fd, bool on);
int hha_set_cloexec(int fd, bool on);

/* Read a whole (small) file into a NUL-terminated malloc'd buffer, at most max bytes. */
int hha_read_file(const char *path, size_t max, char **out, size_t *len);

/* Replace the file @path with @len bytes durably: written to PATH.tmp (mode
 * 0600), fsync'd, renamed over @path, and the directory fsync'd; a crash
 * leaves the old file or the new, whole. 0 or -errno (message set). */
int hha_write_file_atomic(const char *path, const void *buf, size_t len);

/* mkdir -p with mode for the missing parts. 0 or -errno. */
int hha_mkdir_p(const char *path, unsigned mode);

#endif /* HHA_CORE_UTIL_H */
