/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The recorded place of internal metadata: a small file outside the store, replaced atomically. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "core/util.h"
#include "disk/engine.h"
#include "disk/md.h"

/*
 * Why a file outside the store: internal metadata sits at the store's end
 * and the administrator grows the store (lvextend) before telling us. The
 * file says where it was, so attach reads two superblock slots there
 * instead of searching; what it finds is checked like any metadata (magic,
 * checksum, layout) and must carry the recorded id and resource name, so a
 * stale or wrong file costs a search, never a wrong attach. (DRBD keeps a
 * "last known backing device size" for the same reason.)
 *
 * Format, one "key value" per line, all keys required:
 *   hybridha-md-hint 1
 *   name r0
 *   md_uuid 0123456789abcdef
 *   backing_size 1073741824
 *   md_offset 1069547520
 *   md_size 4194304
 */

#define MAGIC "hybridha-md-hint 1"

void hha_md_hint_from_sb(const struct hha_md_sb *sb, struct hha_md_hint *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", sb->name);
	h->md_uuid = sb->md_uuid;
	h->backing_size = sb->backing_size;
	h->md_offset = sb->md_offset;
	h->md_size = sb->md_size;
}

static int bad(const char *path, const char *why)
{
	return hha_error(-EBADMSG, NULL, "%s: not a metadata record: %s", path, why);
}

static bool parse_u64(const char *s, int base, uint64_t *v)
{
	char *e;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	*v = strtoull(s, &e, base);
	return errno == 0 && *e == 0;
}

int hha_md_hint_load(const char *path, struct hha_md_hint *h)
{
	char text[1024], *line, *save = NULL;
	unsigned have = 0;
	ssize_t n;
	int fd;

	memset(h, 0, sizeof(*h));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ENOENT : hha_error(-errno, NULL, "cannot read %s: %s", path, hha_strerror(errno));
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0)
		return hha_error(-errno, NULL, "cannot read %s: %s", path, hha_strerror(errno));
	if ((size_t)n == sizeof(text) - 1)
		return bad(path, "too long");
	text[n] = 0;
	if (strncmp(text, MAGIC "\n", sizeof(MAGIC)) != 0)
		return bad(path, "no `" MAGIC "' first line");
	for (line = strtok_r(text + sizeof(MAGIC), "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *val = strchr(line, ' ');
		if (!val)
			return bad(path, "a line without a value");
		*val++ = 0;
		if (!strcmp(line, "name")) {
			if (strlen(val) >= sizeof(h->name))
				return bad(path, "name too long");
			snprintf(h->name, sizeof(h->name), "%s", val);
			have |= 1;
		} else if (!strcmp(line, "md_uuid") && strlen(val) == 16 && parse_u64(val, 16, &h->md_uuid)) {
			have |= 2;
		} else if (!strcmp(line, "backing_size") && parse_u64(val, 10, &h->backing_size)) {
			have |= 4;
		} else if (!strcmp(line, "md_offset") && parse_u64(val, 10, &h->md_offset)) {
			have |= 8;
		} else if (!strcmp(line, "md_size") && parse_u64(val, 10, &h->md_size)) {
			have |= 16;
		} else {
			return bad(path, "unknown key or bad value");
		}
	}
	if (have != 31)
		return bad(path, "a key is missing");
	if (h->md_uuid == 0 || h->md_size == 0 || h->md_offset % 4096 || h->md_size % 4096 ||
	    h->md_offset > UINT64_MAX - h->md_size || h->md_offset + h->md_size > h->backing_size)
		return bad(path, "values out of range");
	return 0;
}

int hha_md_hint_save(const char *path, const struct hha_md_hint *h)
{
	char text[512];
	int len;

	len = snprintf(text, sizeof(text),
		       MAGIC "\nname %s\nmd_uuid %016" PRIx64 "\nbacking_size %" PRIu64 "\nmd_offset %" PRIu64
			     "\nmd_size %" PRIu64 "\n",
		       h->name, h->md_uuid, h->backing_size, h->md_offset, h->md_size);
	if (len < 0 || (size_t)len >= sizeof(text))
		return hha_error(-ENAMETOOLONG, NULL, "metadata record %s: too long", path);
	return hha_write_file_atomic(path, text, (size_t)len);
}

void hha_disk_record_md(struct hha_disk *d)
{
	struct hha_md_hint h, old;

	if (!d->state_file[0] || d->md_fd != d->fd)
		return;
	hha_md_hint_from_sb(&d->sb, &h);
	if (hha_md_hint_load(d->state_file, &old) == 0 && !memcmp(&old, &h, sizeof(h)))
		return;
	if (hha_md_hint_save(d->state_file, &h) < 0)
		hha_warn(d->ctx, "disk", "%s: cannot record where the metadata lies: %s", d->name, hha_last_error());
}

/* Internal metadata: at the end of the store, else where the state file
 * says, else searched for; only ever this resource's. */
int hha_disk_md_locate(struct hha_disk *d, const struct hha_disk_attach_opts *o, uint64_t msize,
		  struct hha_md_read_info *info, uint64_t *mend, uint64_t bsize)
{
	const char *sf = o->struct_size > offsetof(struct hha_disk_attach_opts, state_file) ? o->state_file : NULL;
	struct hha_md_want want = { .name = d->name, .hint_path = sf && *sf ? sf : NULL };
	struct hha_md_hint hint;
	enum hha_md_found found;
	int r;

	if (want.hint_path) {
		r = hha_md_hint_load(want.hint_path, &hint);
		if (r == 0)
			want.hint = &hint;
		else if (r != -ENOENT)
			hha_warn(d->ctx, "disk", "%s: %s; ignored", d->name, hha_last_error());
	}
	if ((r = hha_md_locate(d->md_fd, msize, &want, &d->sb, info, mend, &found)) < 0)
		return r;
	if (found == HHA_MD_FOUND_HINT)
		hha_notice(d->ctx, "disk", "%s: metadata found at the place %s recorded (%llu bytes in): the store "
			   "grew by %llu bytes since; `resize' puts them to use", d->name, want.hint_path,
			   (unsigned long long)*mend, (unsigned long long)((bsize & ~4095ull) - *mend));
	else if (found == HHA_MD_FOUND_SCAN)
		hha_notice(d->ctx, "disk", "%s: metadata found at the old end of %s (%llu bytes in), by a search%s: "
			   "the store grew by %llu bytes since; `resize' puts them to use", d->name, o->backing,
			   (unsigned long long)*mend, want.hint ? " (the recorded place did not hold it)" : "",
			   (unsigned long long)((bsize & ~4095ull) - *mend));
	return 0;
}
