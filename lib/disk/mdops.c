/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Metadata verbs that work on a backing store directly: create-md and dump-md. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>
#include <openssl/rand.h>

#include "disk/engine.h"

static bool internal_meta(const char *meta)
{
	return !meta || !*meta || strcmp(meta, "internal") == 0;
}

HHA_EXPORT int hha_disk_create_md(struct hha_ctx *ctx, const struct hha_disk_md_opts *o,
				  struct hha_disk_md_info *info)
{
	struct hha_disk tmp = { .ctx = ctx, .fd = -1, .md_fd = -1 };
	struct hha_md_geom g;
	struct hha_md_sb sb, old;
	struct hha_md_read_info ri;
	bool internal, blk;
	uint64_t bsize, msize;
	int r, mfd = -1;

	if (!o || o->struct_size < sizeof(*o) || !o->backing)
		return hha_error(-EINVAL, __func__, "missing backing store");
	internal = internal_meta(o->meta);
	if ((r = hha_io_open_backing(&tmp, o->backing, &tmp.fd, &bsize, &blk)) < 0)
		return hha_error_wrap(r, __func__);
	if (hha_md_geometry(bsize, internal, o->al_extents ? o->al_extents : 1237, &g) < 0) {
		r = hha_error(-EINVAL, __func__, "%s (%llu bytes) is too small for a replicated device",
			      o->backing, (unsigned long long)bsize);
		goto out;
	}
	if (internal) {
		mfd = tmp.fd;
		msize = bsize;
	} else {
		struct stat st;
		mfd = open(o->meta, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (mfd < 0 || fstat(mfd, &st) < 0) {
			r = hha_error(-errno, __func__, "cannot open %s: %s", o->meta, hha_strerror(errno));
			goto out;
		}
		msize = (uint64_t)st.st_size;
	}
	if (!o->force && msize >= 8192 && hha_md_read(mfd, msize, &old, &ri) == 0) {
		r = hha_error(-EEXIST, __func__, "%s already holds metadata (generation %016llx); "
			      "--force overwrites it", internal ? o->backing : o->meta,
			      (unsigned long long)old.uuid_current);
		goto out;
	}
	if (!internal && ftruncate(mfd, (off_t)g.md_size) < 0) {
		r = hha_error(-errno, __func__, "cannot size %s: %s", o->meta, hha_strerror(errno));
		goto out;
	}
	memset(&sb, 0, sizeof(sb));
	while (sb.md_uuid == 0)
		if (RAND_bytes((unsigned char *)&sb.md_uuid, sizeof(sb.md_uuid)) != 1)
			sb.md_uuid = hha_now_ns();
	sb.backing_size = bsize;
	sb.usable_size = g.usable_size;
	sb.md_offset = g.md_offset;
	sb.md_size = g.md_size;
	sb.flags = HHA_MDF_AL_CLEAN;
	sb.al_extents = g.al_extents;
	sb.al_slots = g.al_slots;
	sb.bm_pages = g.bm_pages;
	if (o->name)
		snprintf(sb.name, sizeof(sb.name), "%s", o->name);
	if ((r = hha_md_create(mfd, &sb)) < 0) {
		r = hha_error(r, __func__, "cannot write metadata: %s", hha_strerror(r));
		goto out;
	}
	if (info) {
		info->backing_size = bsize;
		info->usable_size = g.usable_size;
		info->md_size = g.md_size;
		info->internal = internal;
	}
	hha_info(ctx, "disk", "created metadata on %s: %llu usable bytes, %llu bytes of metadata (%s)",
		 internal ? o->backing : o->meta, (unsigned long long)g.usable_size,
		 (unsigned long long)g.md_size, internal ? "internal" : "external");
	r = 0;
out:
	if (mfd >= 0 && mfd != tmp.fd)
		close(mfd);
	if (tmp.fd >= 0)
		close(tmp.fd);
	return r;
}

static json_object *hex64(uint64_t v)
{
	char buf[20];

	snprintf(buf, sizeof(buf), "%016llx", (unsigned long long)v);
	return json_object_new_string(buf);
}

HHA_EXPORT int hha_disk_dump_md(struct hha_ctx *ctx, const char *backing, const char *meta, char **json)
{
	struct hha_disk tmp = { .ctx = ctx, .fd = -1, .md_fd = -1 };
	struct hha_md_sb sb;
	struct hha_md_read_info ri;
	struct hha_bitmap bm;
	uint64_t bsize, msize, mend = 0;
	uint32_t bad = 0;
	bool blk;
	int r, mfd = -1;
	json_object *o, *hist;
	char flags[160];

	*json = NULL;
	if (!backing)
		return hha_error(-EINVAL, __func__, "missing backing store");
	if ((r = hha_io_open_backing(&tmp, backing, &tmp.fd, &bsize, &blk)) < 0)
		return hha_error_wrap(r, __func__);
	if (internal_meta(meta)) {
		mfd = tmp.fd;
		msize = bsize;
	} else if ((r = hha_io_open_backing(&tmp, meta, &mfd, &msize, &blk)) < 0) {
		close(tmp.fd);
		return hha_error_wrap(r, __func__);
	}
	r = internal_meta(meta) ? hha_md_find(mfd, msize, &sb, &ri, &mend) : hha_md_read(mfd, msize, &sb, &ri);
	if (r < 0) {
		r = hha_error_wrap(r, __func__);
		goto out;
	}
	o = json_object_new_object();
	json_object_object_add(o, "resource", json_object_new_string(sb.name));
	json_object_object_add(o, "format_version", json_object_new_int(HHA_MD_VERSION));
	json_object_object_add(o, "gen", json_object_new_int64((int64_t)sb.gen));
	json_object_object_add(o, "slot", json_object_new_int(ri.slot));
	json_object_object_add(o, "other_slot_bad", json_object_new_boolean(ri.other_bad));
	json_object_object_add(o, "md_uuid", hex64(sb.md_uuid));
	json_object_object_add(o, "backing_size", json_object_new_int64((int64_t)sb.backing_size));
	json_object_object_add(o, "usable_size", json_object_new_int64((int64_t)sb.usable_size));
	json_object_object_add(o, "md_offset", json_object_new_int64((int64_t)sb.md_offset));
	json_object_object_add(o, "md_size", json_object_new_int64((int64_t)sb.md_size));
	json_object_object_add(o, "internal", json_object_new_boolean(internal_meta(meta)));
	json_object_object_add(o, "flags", json_object_new_string(hha_md_flags_str(sb.flags, flags, sizeof(flags))));
	json_object_object_add(o, "al_extents", json_object_new_int((int)sb.al_extents));
	json_object_object_add(o, "al_slots", json_object_new_int((int)sb.al_slots));
	json_object_object_add(o, "bm_pages", json_object_new_int64(sb.bm_pages));
	json_object_object_add(o, "la_size", json_object_new_int64((int64_t)sb.la_size));
	/* The store grew and the metadata has not moved yet (resize). */
	json_object_object_add(o, "store_size", json_object_new_int64((int64_t)bsize));
	json_object_object_add(o, "uuid_current", hex64(sb.uuid_current));
	json_object_object_add(o, "uuid_bitmap", hex64(sb.uuid_bitmap));
	hist = json_object_new_array();
	for (int i = 0; i < HHA_MD_HISTORY; i++)
		json_object_array_add(hist, hex64(sb.uuid_history[i]));
	json_object_object_add(o, "uuid_history", hist);
	json_object_object_add(o, "sync_pos", json_object_new_int64((int64_t)sb.sync_pos));
	if (hha_bitmap_init(&bm, sb.usable_size) == 0) {
		if (hha_md_bm_load(mfd, &sb, &bm, &bad) == 0) {
			json_object_object_add(o, "out_of_sync_bytes",
					       json_object_new_int64((int64_t)(hha_bitmap_count(&bm) * 4096)));
			json_object_object_add(o, "bitmap_bad_pages", json_object_new_int64(bad));
		}
		hha_bitmap_fini(&bm);
	}
	{
		struct hha_al al;
		bool corrupt = false;
		if (hha_al_init(&al, sb.al_extents) == 0) {
			if (hha_al_load(mfd, &sb, &al, &corrupt) == 0) {
				json_object *ext = json_object_new_array();
				for (uint32_t i = 0; i < al.n; i++)
					if (al.ext[i] != HHA_AL_NONE)
						json_object_array_add(ext, json_object_new_int64(al.ext[i]));
				json_object_object_add(o, "activity_log", ext);
				json_object_object_add(o, "activity_log_corrupt", json_object_new_boolean(corrupt));
			}
			hha_al_fini(&al);
		}
	}
	*json = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	r = *json ? 0 : -ENOMEM;
out:
	if (mfd >= 0 && mfd != tmp.fd)
		close(mfd);
	close(tmp.fd);
	return r;
}
