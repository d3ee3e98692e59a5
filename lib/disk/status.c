/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A resource's status snapshot: states, counters, sync and verify progress, speeds. */
#include "config.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "disk/engine.h"

/* What callers compiled before the resync work know. */
#define V1_SIZE offsetof(struct hha_disk_status, split_brain)

/* Application write throughput over the last sampling period (>= 1 s); d->lock held. */
static double app_speed(struct hha_disk *d)
{
	int64_t now = hha_now_ms();
	uint64_t b = GET(d->st_app_wbytes);

	if (d->app_sample_ms == 0) {
		d->app_sample_ms = now;
		d->app_sample_bytes = b;
	} else if (now - d->app_sample_ms >= 1000) {
		d->app_speed = (double)(b - d->app_sample_bytes) * 1000.0 / (double)(now - d->app_sample_ms);
		d->app_sample_ms = now;
		d->app_sample_bytes = b;
	}
	return d->app_speed;
}

HHA_EXPORT int hha_disk_status(struct hha_disk *d, struct hha_disk_status *st)
{
	struct hha_disk_status x;
	size_t n;
	bool full;

	if (!st || st->struct_size < V1_SIZE)
		return hha_error(-EINVAL, __func__, "struct_size too small");
	n = st->struct_size;
	full = n >= sizeof(*st);
	memset(st, 0, full ? sizeof(*st) : V1_SIZE);
	st->struct_size = n;
	pthread_mutex_lock(&d->lock);
	st->role = d->role;
	st->cstate = d->cstate;
	st->dstate = d->dstate;
	st->peer_known = d->peer_known;
	st->peer_role = d->peer_known ? (enum hha_disk_role)d->peer.role : HHA_ROLE_SECONDARY;
	st->peer_dstate = d->peer_known ? (enum hha_disk_state)d->peer.disk : HHA_DS_DISKLESS;
	st->protocol = d->net_configured ? d->net.protocol : 0;
	st->size = d->dstate == HHA_DS_DISKLESS ? 0 : d->size;
	st->sent = GET(d->st_sent);
	st->received = GET(d->st_recv);
	st->disk_written = GET(d->st_dw);
	st->disk_read = GET(d->st_dr);
	st->pending = GET(d->st_pending);
	st->unacked = GET(d->st_unacked);
	st->out_of_sync = d->bm_loaded ? hha_bitmap_count(&d->bm) << HHA_BM_BLOCK_SHIFT : 0;
	st->sync_rate = d->rs_rate;
	st->uuid_current = d->sb.uuid_current;
	st->uuid_bitmap = d->sb.uuid_bitmap;
	snprintf(st->last_refusal, sizeof(st->last_refusal), "%s", d->last_refusal);
	if (d->cstate == HHA_CS_SYNCSOURCE || d->cstate == HHA_CS_SYNCTARGET) {
		double secs = (double)(hha_now_ms() - d->rs_start_ms) / 1000.0;
		int64_t now = hha_now_ms();
		st->sync_total = d->rs_total;
		st->sync_done = d->cstate == HHA_CS_SYNCSOURCE && d->rs_total > st->out_of_sync
					? d->rs_total - st->out_of_sync
					: d->rs_done_bytes;
		if (st->sync_done > st->sync_total)
			st->sync_done = st->sync_total;
		st->sync_speed_avg = secs > 0 ? (double)st->sync_done / secs : 0;
		/* Current speed over the last sampling period (at least 1 s). */
		if (now - d->rs_sample_ms >= 1000) {
			if (d->rs_sample_ms)
				d->rs_speed_now = (double)(st->sync_done - d->rs_sample_done) * 1000.0 /
						  (double)(now - d->rs_sample_ms);
			d->rs_sample_ms = now;
			d->rs_sample_done = st->sync_done;
		}
		st->sync_speed_now = d->rs_speed_now ? d->rs_speed_now : st->sync_speed_avg;
	} else {
		d->rs_sample_ms = 0;
		d->rs_speed_now = 0;
	}
	memset(&x, 0, sizeof(x));
	x.split_brain = d->split_brain;
	x.sync_paused = d->rs_paused;
	x.crashed_primary = d->crash_resync;
	x.diskless_primary = d->diskless_primary;
	x.csums = d->csums;
	x.resynced = GET(d->st_resynced);
	x.resync_same = GET(d->st_rs_same);
	x.al_transactions = GET(d->st_al_txns);
	x.app_write_speed = app_speed(d);
	hha_verify_status(d, &x);
	pthread_mutex_unlock(&d->lock);
	if (full) {
		x.struct_size = st->struct_size;
		memcpy((char *)&x, st, V1_SIZE);
		memcpy(st, &x, sizeof(x));
	}
	return 0;
}

