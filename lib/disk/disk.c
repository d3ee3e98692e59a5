/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A replicated device's public API: life cycle, attach, connect, roles, status, events. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "core/util.h"
#include "disk/engine.h"

/* Control calls run on the caller's thread and lock d->lock only briefly;
 * waiting for threads (disconnect, detach) happens without it. */

static bool valid_name(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n >= HHA_WIRE_NAME_MAX || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static uint64_t random_id(void)
{
	uint64_t v = 0;

	while (v == 0)
		if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
			v = (uint64_t)hha_now_ns() * 0x9e3779b97f4a7c15ull;
	return v;
}

static void post(struct hha_disk *d, struct hha_devent *e)
{
	uint64_t one = 1;

	pthread_mutex_lock(&d->ev_lock);
	*d->ev_tail = e;
	d->ev_tail = &e->next;
	pthread_mutex_unlock(&d->ev_lock);
	if (write(d->efd, &one, sizeof(one)) < 0) {
		/* counter full: the loop is awake anyway */
	}
}

void hha_disk_post_event(struct hha_disk *d, const char *what, const char *fmt, ...)
{
	struct hha_devent *e = calloc(1, sizeof(*e));
	va_list ap;

	if (!e)
		return;
	snprintf(e->what, sizeof(e->what), "%s", what);
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	post(d, e);
}

void hha_disk_post_resized(struct hha_disk *d, uint64_t old_size, uint64_t new_size)
{
	struct hha_devent *e = calloc(1, sizeof(*e));

	if (!e)
		return;
	snprintf(e->what, sizeof(e->what), "resized");
	snprintf(e->message, sizeof(e->message), "%s: resized from %llu to %llu bytes", d->name,
		 (unsigned long long)old_size, (unsigned long long)new_size);
	e->old_size = old_size;
	e->new_size = new_size;
	post(d, e);
}

void hha_disk_post_resize_done(struct hha_disk *d, int result, const char *msg)
{
	struct hha_devent *e = calloc(1, sizeof(*e));

	if (!e)
		return;
	snprintf(e->what, sizeof(e->what), "resize-done");
	snprintf(e->message, sizeof(e->message), "%s: %s", d->name, msg);
	e->result = result;
	e->new_size = d->size;
	post(d, e);
}

bool hha_disk_cs_event(struct hha_disk *d, enum hha_cs_event ev)
{
	int next = hha_cstate_next(d->cstate, ev);

	if (next < 0) {
		hha_dbg(d->ctx, "disk", "%s: connection event %s ignored in %s", d->name, hha_cs_event_name(ev),
			hha_conn_state_name(d->cstate));
		return false;
	}
	if ((enum hha_conn_state)next != d->cstate) {
		hha_info(d->ctx, "disk", "%s: connection %s -> %s (%s)", d->name, hha_conn_state_name(d->cstate),
			 hha_conn_state_name(next), hha_cs_event_name(ev));
		d->cstate = next;
		hha_disk_post_event(d, "state", "%s: connection %s", d->name, hha_conn_state_name(next));
		pthread_cond_broadcast(&d->cond);
	}
	return true;
}

bool hha_disk_ds_event(struct hha_disk *d, enum hha_ds_event ev)
{
	int next = hha_dstate_next(d->dstate, ev);

	if (next < 0) {
		hha_dbg(d->ctx, "disk", "%s: disk event %s ignored in %s", d->name, hha_ds_event_name(ev),
			hha_disk_state_name(d->dstate));
		return false;
	}
	if ((enum hha_disk_state)next != d->dstate) {
		hha_info(d->ctx, "disk", "%s: disk %s -> %s (%s)", d->name, hha_disk_state_name(d->dstate),
			 hha_disk_state_name(next), hha_ds_event_name(ev));
		d->dstate = next;
		hha_disk_post_event(d, "state", "%s: disk %s", d->name, hha_disk_state_name(next));
		pthread_cond_broadcast(&d->cond);
	}
	return true;
}

int hha_disk_md_write(struct hha_disk *d)
{
	int r;

	while (d->md_busy)
		pthread_cond_wait(&d->cond, &d->lock);
	if ((r = hha_md_write_sb(d->md_fd, &d->sb)) < 0)
		hha_err(d->ctx, "disk", "%s: cannot write metadata: %s", d->name, hha_strerror(r));
	else
		d->nc_pending = false; /* whatever id it holds is durable now */
	return r;
}

int hha_disk_md_persist(struct hha_disk *d, bool bm)
{
	struct hha_md_sb snap;
	int r = 0;

	while (d->md_busy)
		pthread_cond_wait(&d->cond, &d->lock);
	d->md_busy = true;
	snap = d->sb;
	pthread_mutex_unlock(&d->lock);
	/* The bits first: the superblock may say they are to be trusted. */
	if (bm)
		r = hha_md_bm_flush(d->md_fd, &snap, &d->bm);
	if (r == 0)
		r = hha_md_write_sb(d->md_fd, &snap);
	pthread_mutex_lock(&d->lock);
	d->sb.gen = snap.gen; /* nobody else wrote it meanwhile (md_busy) */
	d->md_busy = false;
	pthread_cond_broadcast(&d->cond);
	if (r < 0)
		hha_err(d->ctx, "disk", "%s: cannot write metadata: %s", d->name, hha_strerror(r));
	return r;
}

void hha_disk_rotate_id(struct hha_disk *d, const char *why)
{
	uint64_t old = d->sb.uuid_current;

	if (d->sb.uuid_bitmap == 0)
		d->sb.uuid_bitmap = old;
	else
		hha_md_history_push(&d->sb, old);
	d->sb.uuid_current = random_id();
	d->uuid_fresh = true;
	hha_notice(d->ctx, "disk", "%s: new generation %016llx (was %016llx): %s", d->name,
		   (unsigned long long)d->sb.uuid_current, (unsigned long long)old, why);
}

/* Writes held for the new id go on: answered without the peer only now that
 * it is durable, or failed if it is not (d->lock held). */
static void nc_release(struct hha_disk *d)
{
	struct hha_op *op, *list = d->nc_wait_head;

	d->nc_wait_head = NULL;
	d->nc_wait_tail = &d->nc_wait_head;
	while ((op = list)) {
		list = op->next;
		op->next = NULL;
		hha_op_start(d, op);
	}
}

int hha_disk_new_current(struct hha_disk *d, const char *why)
{
	int r;

	/* Another thread is persisting it: its result is ours. */
	while (d->nc_busy)
		pthread_cond_wait(&d->cond, &d->lock);
	if (d->uuid_fresh && !d->nc_pending)
		return 0;
	/* A rotated id whose write failed is written again, not rotated again. */
	if (!d->uuid_fresh || !d->nc_pending) {
		hha_disk_rotate_id(d, why);
		d->nc_pending = true;
	}
	d->nc_busy = true;
	r = hha_disk_md_persist(d, false);
	d->nc_busy = false;
	if (r == 0)
		d->nc_pending = false;
	nc_release(d);
	pthread_cond_broadcast(&d->cond);
	return r;
}

static void nc_job_run(struct hha_disk *d, struct hha_job *j)
{
	(void)j;
	pthread_mutex_lock(&d->lock);
	d->nc_job_queued = false;
	/* Still alone (the link may be back): make it; either way the held
	 * writes go on, hha_op_start deciding again. */
	if (d->nc_wait_head && d->role == HHA_ROLE_PRIMARY && !(d->conn && d->linked && !d->peer_diskless) &&
	    (!d->uuid_fresh || d->nc_pending))
		hha_disk_new_current(d, "writing without the peer");
	else
		nc_release(d);
	pthread_mutex_unlock(&d->lock);
}

void hha_disk_new_current_async(struct hha_disk *d)
{
	if (d->nc_job_queued || d->nc_busy)
		return;
	d->nc_job_queued = true;
	d->nc_job.run = nc_job_run;
	hha_workq_push(d, &d->nc_job);
}

struct hha_genids hha_disk_my_genids(struct hha_disk *d)
{
	struct hha_genids g = { .current = d->sb.uuid_current, .bitmap = d->sb.uuid_bitmap };

	memcpy(g.history, d->sb.uuid_history, sizeof(g.history));
	g.consistent = d->dstate == HHA_DS_UPTODATE || d->dstate == HHA_DS_OUTDATED;
	g.crashed = d->crash_resync;
	g.discard = d->discard_my_data;
	g.dzc = d->policy_dzc;
	g.oos = hha_bitmap_count(&d->bm);
	return g;
}

void hha_disk_fill_state(struct hha_disk *d, struct hha_wire_state *s)
{
	memset(s, 0, sizeof(*s));
	s->role = (uint8_t)d->role;
	s->disk = (uint8_t)d->dstate;
	s->conn = (uint8_t)d->cstate;
	s->md_flags = d->sb.flags;
	s->usable_size = d->sb.usable_size;
	/* A size below what the store holds (explicit, or agreed at a resize)
	 * is what the peer must match. */
	s->want_size = d->want_size ? d->want_size : d->size < d->sb.usable_size ? d->size : 0;
	s->uuid_current = d->sb.uuid_current;
	s->uuid_bitmap = d->sb.uuid_bitmap;
	memcpy(s->uuid_history, d->sb.uuid_history, sizeof(s->uuid_history));
	s->oos_blocks = hha_bitmap_count(&d->bm);
	if (d->crash_resync)
		s->sflags |= HHA_WS_CRASHED;
	if (d->discard_my_data)
		s->sflags |= HHA_WS_DISCARD_MY_DATA;
	if (d->policy_dzc)
		s->sflags |= HHA_WS_DZC;
}

void hha_disk_set_complete(struct hha_disk *d, void (*fn)(struct hha_nbd_req *req, int err))
{
	d->complete = fn;
}

HHA_EXPORT int hha_disk_new(struct hha_ctx *ctx, const char *name, struct hha_disk **out)
{
	struct hha_disk *d;
	pthread_condattr_t ca;

	*out = NULL;
	if (!valid_name(name))
		return hha_error(-EINVAL, __func__, "invalid resource name `%s'", name ? name : "");
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ctx = ctx;
	snprintf(d->name, sizeof(d->name), "%s", name);
	pthread_mutex_init(&d->lock, NULL);
	pthread_mutex_init(&d->ev_lock, NULL);
	pthread_mutex_init(&d->ioq.lock, NULL);
	pthread_cond_init(&d->ioq.cond, NULL);
	pthread_mutex_init(&d->pool.lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d->cond, &ca);
	pthread_cond_init(&d->al_cond, &ca);
	pthread_condattr_destroy(&ca);
	d->fd = d->md_fd = d->listen_fd = -1;
	d->role = HHA_ROLE_SECONDARY;
	d->cstate = HHA_CS_STANDALONE;
	d->dstate = HHA_DS_DISKLESS;
	d->gate_tail = &d->gate_head;
	d->nc_wait_tail = &d->nc_wait_head;
	d->ev_tail = &d->ev_head;
	d->instance = random_id();
	d->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	d->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->efd < 0 || d->wake_fd < 0) {
		int r = -errno;
		hha_disk_free(d);
		return hha_error(r, __func__, "eventfd: %s", hha_strerror(r));
	}
	*out = d;
	return 0;
}

HHA_EXPORT const char *hha_disk_name(const struct hha_disk *d)
{
	return d->name;
}

HHA_EXPORT void hha_disk_free(struct hha_disk *d)
{
	bool standalone;

	if (!d)
		return;
	hha_export_close(d);
	pthread_mutex_lock(&d->lock);
	standalone = d->cstate == HHA_CS_STANDALONE;
	pthread_mutex_unlock(&d->lock);
	if (!standalone || d->link_started)
		hha_disk_disconnect(d);
	if (d->dstate != HHA_DS_DISKLESS) {
		d->role = HHA_ROLE_SECONDARY;
		hha_disk_detach(d);
	}
	while (d->ev_head) {
		struct hha_devent *e = d->ev_head;
		d->ev_head = e->next;
		free(e);
	}
	if (d->efd >= 0)
		close(d->efd);
	if (d->wake_fd >= 0)
		close(d->wake_fd);
	hha_verify_stop(d);
	hha_disk_hooks_wait(d);
	free(d->hook_split_brain);
	free(d->hook_before_resync_target);
	free(d->hook_local_io_error);
	hha_wire_key_free(d->key, d->keylen);
	hha_pool_fini(d);
	pthread_mutex_destroy(&d->lock);
	pthread_mutex_destroy(&d->ev_lock);
	pthread_mutex_destroy(&d->ioq.lock);
	pthread_cond_destroy(&d->ioq.cond);
	pthread_mutex_destroy(&d->pool.lock);
	pthread_cond_destroy(&d->cond);
	pthread_cond_destroy(&d->al_cond);
	free(d);
}

static void close_backing(struct hha_disk *d)
{
	hha_al_stop(d);
	if (d->al.n)
		hha_al_fini(&d->al);
	hha_ep_fini(d);
	d->disk_failed = d->diskless_primary = false;
	if (d->md_fd >= 0 && d->md_fd != d->fd)
		close(d->md_fd);
	if (d->fd >= 0)
		close(d->fd);
	d->fd = d->md_fd = -1;
	if (d->bm_loaded)
		hha_bitmap_fini(&d->bm);
	d->bm_loaded = false;
}

static bool is_internal(const char *meta)
{
	return !meta || !*meta || strcmp(meta, "internal") == 0;
}

HHA_EXPORT int hha_disk_attach(struct hha_disk *d, const struct hha_disk_attach_opts *o)
{
	struct hha_md_read_info info;
	uint64_t bsize, msize, mend = 0;
	uint32_t bad = 0;
	bool blk, mblk;
	int r;

	if (!o || o->struct_size < sizeof(*o) || !o->backing)
		return hha_error(-EINVAL, __func__, "missing backing store");
	if (d->dstate != HHA_DS_DISKLESS)
		return hha_error(-HHA_ESTATE, __func__, "%s is already attached to %s", d->name, d->backing);
	if (o->size % 4096)
		return hha_error(-EINVAL, __func__, "size %llu is not a multiple of 4096",
				 (unsigned long long)o->size);
	if ((r = hha_io_open_backing(d, o->backing, &d->fd, &bsize, &blk)) < 0)
		return hha_error_wrap(r, __func__);
	d->is_blockdev = blk;
	if (is_internal(o->meta)) {
		d->md_fd = d->fd;
		msize = bsize;
	} else if ((r = hha_io_open_backing(d, o->meta, &d->md_fd, &msize, &mblk)) < 0) {
		close_backing(d);
		return hha_error_wrap(r, __func__);
	}
	if (is_internal(o->meta))
		r = hha_disk_md_locate(d, o, msize, &info, &mend, bsize);
	else
		r = hha_md_read(d->md_fd, msize, &d->sb, &info);
	if (r < 0) {
		close_backing(d);
		return hha_error(r, __func__, "%s: %s", is_internal(o->meta) ? o->backing : o->meta,
				 hha_last_error());
	}
	if (info.other_bad)
		hha_warn(d->ctx, "disk", "%s: one metadata slot is corrupt (%s); using the other (gen %llu)",
			 d->name, info.other_why ? info.other_why : "?", (unsigned long long)d->sb.gen);
	if (d->sb.usable_size > bsize || (is_internal(o->meta) && d->sb.md_offset + d->sb.md_size > bsize)) {
		close_backing(d);
		return hha_error(-EINVAL, __func__, "the backing store is smaller than its metadata says");
	}
	if (o->size > d->sb.usable_size) {
		uint64_t u = d->sb.usable_size;
		close_backing(d);
		return hha_error(-EINVAL, __func__, "size %llu exceeds the usable size %llu",
				 (unsigned long long)o->size, (unsigned long long)u);
	}
	if ((r = hha_bitmap_init(&d->bm, d->sb.usable_size)) < 0) {
		close_backing(d);
		return hha_error(r, __func__, "no memory for the bitmap");
	}
	d->bm_loaded = true;
	if ((r = hha_md_bm_load(d->md_fd, &d->sb, &d->bm, &bad)) < 0) {
		close_backing(d);
		return hha_error(r, __func__, "cannot read the bitmap: %s", hha_strerror(r));
	}
	if (bad)
		hha_warn(d->ctx, "disk", "%s: %u bitmap page(s) corrupt: their blocks count as out of sync",
			 d->name, bad);
	d->crash_resync = false;
	if ((r = hha_al_attach(d)) < 0 || (r = hha_ep_init(d)) < 0) {
		close_backing(d);
		return hha_error(r, __func__, "cannot read the activity log: %s", hha_strerror(r));
	}
	if ((r = hha_workq_start(d)) < 0) {
		close_backing(d);
		return hha_error(r, __func__, "cannot start I/O threads");
	}
	if ((r = hha_al_start(d)) < 0) {
		hha_workq_stop(d);
		close_backing(d);
		return hha_error(r, __func__, "cannot start the activity-log thread");
	}
	pthread_mutex_lock(&d->lock);
	snprintf(d->backing, sizeof(d->backing), "%s", o->backing);
	snprintf(d->meta, sizeof(d->meta), "%s", is_internal(o->meta) ? "internal" : o->meta);
	snprintf(d->state_file, sizeof(d->state_file), "%s",
		 o->struct_size > offsetof(struct hha_disk_attach_opts, state_file) && o->state_file
		 ? o->state_file : "");
	hha_disk_record_md(d);
	d->want_size = o->size;
	/* Without an explicit size, the last size agreed with the peer (below
	 * the usable size after a resize to less than the store holds). */
	d->size = o->size ? o->size
		  : d->sb.la_size && d->sb.la_size < d->sb.usable_size ? d->sb.la_size : d->sb.usable_size;
	if (d->sb.flags & HHA_MDF_CRASHED_PRIMARY)
		hha_warn(d->ctx, "disk", "%s: this node was primary and not demoted cleanly", d->name);
	hha_disk_ds_event(d, !(d->sb.flags & HHA_MDF_CONSISTENT) ? HHA_DSE_ATTACH_INCONSISTENT
			     : (d->sb.flags & HHA_MDF_OUTDATED) ? HHA_DSE_ATTACH_OUTDATED
								 : HHA_DSE_ATTACH_UPTODATE);
	pthread_mutex_unlock(&d->lock);
	hha_info(d->ctx, "disk", "%s: attached %s (metadata %s), %llu bytes, %llu KiB out of sync", d->name,
		 d->backing, d->meta, (unsigned long long)d->size,
		 (unsigned long long)(hha_bitmap_count(&d->bm) * 4));
	return 0;
}

HHA_EXPORT int hha_disk_detach(struct hha_disk *d)
{
	if (d->dstate == HHA_DS_DISKLESS && !d->disk_failed)
		return hha_error(-HHA_ESTATE, __func__, "%s is not attached", d->name);
	if (d->role == HHA_ROLE_PRIMARY)
		return hha_error(-HHA_ESTATE, __func__, "%s is primary: run secondary first", d->name);
	if (d->cstate != HHA_CS_STANDALONE)
		return hha_error(-HHA_ESTATE, __func__, "%s is %s: disconnect first", d->name,
				 hha_conn_state_name(d->cstate));
	hha_export_close(d);
	hha_al_stop(d);
	hha_workq_stop(d);
	pthread_mutex_lock(&d->lock);
	/* What clients wrote reaches the store before the metadata says we are done. */
	if (hha_io_flush(d) < 0)
		hha_warn(d->ctx, "disk", "%s: flushing %s failed: %s", d->name, d->backing, hha_strerror(errno));
	hha_md_bm_flush(d->md_fd, &d->sb, &d->bm);
	hha_disk_md_write(d);
	hha_disk_ds_event(d, HHA_DSE_DETACH);
	close_backing(d);
	d->size = 0;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

HHA_EXPORT int hha_disk_connect(struct hha_disk *d, const struct hha_disk_net_opts *o)
{
	struct hha_net_conf n = { 0 };
	int r;

	if (!o || o->struct_size < offsetof(struct hha_disk_net_opts, discard_my_data) || !o->local_addr ||
	    !o->peer_addr || !o->key_file)
		return hha_error(-EINVAL, __func__, "local address, peer address and key file are required");
	if (d->cstate != HHA_CS_STANDALONE)
		return hha_error(-HHA_ESTATE, __func__, "%s is %s: disconnect first", d->name,
				 hha_conn_state_name(d->cstate));
	if (d->dstate == HHA_DS_DISKLESS)
		return hha_error(-HHA_ESTATE, __func__, "%s has no disk: attach first", d->name);
	snprintf(n.local_addr, sizeof(n.local_addr), "%s", o->local_addr);
	snprintf(n.peer_addr, sizeof(n.peer_addr), "%s", o->peer_addr);
	snprintf(n.key_file, sizeof(n.key_file), "%s", o->key_file);
	n.local_port = o->local_port ? o->local_port : HHA_WIRE_PORT;
	n.peer_port = o->peer_port ? o->peer_port : HHA_WIRE_PORT;
	n.protocol = o->protocol ? (char)o->protocol : 'C';
	n.security = o->security_set ? (enum hha_wire_security)o->security : HHA_SEC_AUTH;
	n.timeout_ms = o->timeout_ms ? o->timeout_ms : 5000;
	n.ping_int_ms = o->ping_int_ms ? o->ping_int_ms : 1000;
	n.connect_int_ms = o->connect_int_ms ? o->connect_int_ms : 1000;
	n.sndbuf = o->sndbuf;
	if (n.protocol != 'A' && n.protocol != 'B' && n.protocol != 'C')
		return hha_error(-EINVAL, __func__, "protocol must be A, B or C");
	if (n.security > HHA_SEC_ENCRYPT)
		return hha_error(-EINVAL, __func__, "unknown security mode");
	if (n.local_port < 1 || n.local_port > 65535 || n.peer_port < 1 || n.peer_port > 65535)
		return hha_error(-EINVAL, __func__, "port out of range");
	if (n.timeout_ms < 100 || n.ping_int_ms < 10 || n.connect_int_ms < 10 || n.sndbuf < 0)
		return hha_error(-EINVAL, __func__, "timeout >= 100 ms, intervals >= 10 ms");
	if (d->link_started)
		hha_link_stop(d); /* the thread of a refused connection */
	hha_wire_key_free(d->key, d->keylen);
	d->key = NULL;
	if ((r = hha_wire_key_load(n.key_file, &d->key, &d->keylen)) < 0)
		return hha_error_wrap(r, __func__);
	d->net = n;
	if ((r = hha_link_listen(d)) < 0)
		return hha_error_wrap(r, __func__);
	if (n.security == HHA_SEC_NONE)
		hha_warn(d->ctx, "disk", "%s: security none: frames to %s are neither authenticated nor "
			 "encrypted; use it only on a dedicated cable", d->name, n.peer_addr);
	pthread_mutex_lock(&d->lock);
	d->net_configured = true;
	d->last_refusal[0] = 0;
	d->split_brain = false;
	d->discard_my_data = o->struct_size >= offsetof(struct hha_disk_net_opts, discard_my_data) +
							sizeof(o->discard_my_data) && o->discard_my_data;
	if (d->discard_my_data)
		hha_warn(d->ctx, "disk", "%s: connecting with --discard-my-data: after a split brain this "
			 "side's changes are overwritten by the peer's", d->name);
	hha_disk_cs_event(d, HHA_CSE_CONNECT);
	pthread_mutex_unlock(&d->lock);
	if ((r = hha_link_start(d)) < 0) {
		pthread_mutex_lock(&d->lock);
		close(d->listen_fd);
		d->listen_fd = -1;
		hha_disk_cs_event(d, HHA_CSE_DISCONNECT);
		hha_disk_cs_event(d, HHA_CSE_STOPPED);
		pthread_mutex_unlock(&d->lock);
		return r;
	}
	return 0;
}

HHA_EXPORT int hha_disk_disconnect(struct hha_disk *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->cstate == HHA_CS_STANDALONE && !d->link_started) {
		pthread_mutex_unlock(&d->lock);
		return hha_error(-HHA_ESTATE, __func__, "%s is not connected", d->name);
	}
	hha_disk_cs_event(d, HHA_CSE_DISCONNECT);
	pthread_mutex_unlock(&d->lock);
	hha_link_stop(d);
	hha_verify_stop(d);
	pthread_mutex_lock(&d->lock);
	hha_disk_cs_event(d, HHA_CSE_STOPPED);
	d->net_configured = false;
	pthread_mutex_unlock(&d->lock);
	if (d->dstate != HHA_DS_DISKLESS)
		hha_md_bm_flush(d->md_fd, &d->sb, &d->bm);
	return 0;
}

/* Tell the peer about a change of ours (d->lock held). */
static void announce(struct hha_disk *d)
{
	if (d->conn && d->linked)
		hha_conn_send_state(d->conn);
}

HHA_EXPORT int hha_disk_primary(struct hha_disk *d, bool force)
{
	bool forced = false;
	int r = 0;

	pthread_mutex_lock(&d->lock);
	if (d->role == HHA_ROLE_PRIMARY)
		goto out;
	if (d->dstate == HHA_DS_DISKLESS) {
		r = hha_error(-HHA_ESTATE, __func__, "%s has no disk", d->name);
		goto out;
	}
	if (d->peer_known && d->linked && d->peer.role == HHA_ROLE_PRIMARY) {
		r = hha_error(-HHA_EPEERPRIMARY, __func__, "%s: the peer is primary; only one may be", d->name);
		goto out;
	}
	if (d->cstate == HHA_CS_SYNCTARGET) {
		r = hha_error(-HHA_ESTATE, __func__, "%s is receiving a sync: wait until it is UpToDate",
			      d->name);
		goto out;
	}
	if (d->dstate != HHA_DS_UPTODATE) {
		forced = true;
		if (!force) {
			r = hha_error(-HHA_ENOTUPTODATE, __func__,
				      "%s is %s: its data may be stale or garbage; primary --force makes it "
				      "the source of the next sync regardless", d->name,
				      hha_disk_state_name(d->dstate));
			goto out;
		}
		hha_warn(d->ctx, "disk", "%s: forced promotion of an %s disk: its data becomes the truth "
			 "and overwrites the peer's at the next sync", d->name, hha_disk_state_name(d->dstate));
		if (d->sb.uuid_current == 0 || !d->linked) {
			/* The first generation of a new pair, or a new one for data taken as is. */
			if (d->sb.uuid_current == 0) {
				d->sb.uuid_current = random_id();
				d->uuid_fresh = !d->linked;
			} else {
				hha_disk_rotate_id(d, "forced promotion");
			}
		}
		d->sb.flags |= HHA_MDF_CONSISTENT;
		d->sb.flags &= ~(uint32_t)HHA_MDF_OUTDATED;
		hha_disk_ds_event(d, HHA_DSE_FORCE_CURRENT);
	}
	/* Promoted without the peer: a new generation at once, so that the
	 * peer (or a crashed former primary) can never take this side for
	 * where it left it, writes or not. The superblock write below
	 * persists it before the role lets any write in. */
	if (!d->linked && d->sb.uuid_current && !d->uuid_fresh)
		hha_disk_rotate_id(d, "promoted without the peer");
	d->role = HHA_ROLE_PRIMARY;
	d->sb.flags |= HHA_MDF_WAS_PRIMARY | HHA_MDF_CRASHED_PRIMARY;
	d->sb.flags &= ~(uint32_t)HHA_MDF_AL_CLEAN;
	if ((r = hha_disk_md_write(d)) < 0) {
		d->role = HHA_ROLE_SECONDARY;
		r = hha_error(r, __func__, "cannot write metadata");
		goto out;
	}
	hha_info(d->ctx, "disk", "%s: role Secondary -> Primary", d->name);
	hha_disk_post_event(d, "state", "%s: role Primary", d->name);
	announce(d);
	/* A forced promotion declares our data the truth: a connected peer
	 * gets all of it (a new pair's first sync). A plain one changes no
	 * data, whatever the peer's last state said. */
	if (forced && d->linked && d->peer_known && d->cstate == HHA_CS_CONNECTED)
		hha_link_begin_source(d->conn, HHA_SYNC_SOURCE_FULL);
out:
	pthread_mutex_unlock(&d->lock);
	if (r == 0)
		hha_export_update(d);
	return r;
}

HHA_EXPORT int hha_disk_secondary(struct hha_disk *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->role == HHA_ROLE_SECONDARY) {
		pthread_mutex_unlock(&d->lock);
		return 0;
	}
	d->role = HHA_ROLE_SECONDARY;
	/* A crash's extents not yet resynced keep the flag (rows 6a-6c). */
	if (!d->crash_resync)
		d->sb.flags = (d->sb.flags & ~(uint32_t)HHA_MDF_CRASHED_PRIMARY) | HHA_MDF_AL_CLEAN;
	if (d->dstate != HHA_DS_DISKLESS)
		hha_disk_md_write(d);
	hha_info(d->ctx, "disk", "%s: role Primary -> Secondary", d->name);
	hha_disk_post_event(d, "state", "%s: role Secondary", d->name);
	announce(d);
	pthread_mutex_unlock(&d->lock);
	hha_export_update(d);
	return 0;
}

HHA_EXPORT int hha_disk_skip_sync(struct hha_disk *d)
{
	struct hha_sitem *si;
	struct hha_wire_state s;
	int r = 0;

	pthread_mutex_lock(&d->lock);
	if (d->cstate != HHA_CS_CONNECTED || !d->peer_known || d->sb.uuid_current || d->peer.uuid_current) {
		r = hha_error(-HHA_ESTATE, __func__,
			      "%s: skip-sync needs two connected disks that are both new (empty generation ids)",
			      d->name);
		goto out;
	}
	hha_warn(d->ctx, "disk", "%s: skip-sync: declaring both disks identical without copying; "
		 "whatever differs between them stays different", d->name);
	d->sb.uuid_current = random_id();
	d->sb.flags |= HHA_MDF_CONSISTENT;
	hha_bitmap_clear_all(&d->bm);
	hha_md_bm_flush(d->md_fd, &d->sb, &d->bm);
	if ((r = hha_disk_md_write(d)) < 0)
		goto out;
	hha_disk_ds_event(d, HHA_DSE_FORCE_CURRENT);
	si = hha_sitem_new(HHA_W_STATE, 0, 0, HHA_WIRE_STATE_LEN);
	if (si) {
		hha_disk_fill_state(d, &s);
		s.sflags |= HHA_WS_SKIP_SYNC;
		hha_wire_state_encode(&s, (uint8_t *)(si + 1));
		hha_conn_send(d->conn, si);
	}
	hha_disk_post_event(d, "skip-sync", "%s: both disks declared identical (skip-sync)", d->name);
out:
	pthread_mutex_unlock(&d->lock);
	return r;
}

HHA_EXPORT int hha_disk_set_sync_rate(struct hha_disk *d, uint64_t bytes_per_s)
{
	pthread_mutex_lock(&d->lock);
	d->rs_rate = bytes_per_s;
	hha_rs_kick(d);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

HHA_EXPORT void hha_disk_set_event_fn(struct hha_disk *d,
				      void (*fn)(struct hha_disk *d, const struct hha_disk_event *ev, void *ud),
				      void *ud)
{
	d->event_fn = fn;
	d->event_ud = ud;
}

HHA_EXPORT int hha_disk_fd(const struct hha_disk *d)
{
	return d->efd;
}

#define BM_FLUSH_MS 5000
#define BM_FLUSH_SYNC_MS 1000

/* How long the peer may hold acknowledged writes unflushed (a crash of its
 * node loses them, and they are resynced by 4 MiB extents). */
#define EP_BARRIER_MS 1000

static bool syncing(const struct hha_disk *d)
{
	return d->cstate == HHA_CS_SYNCSOURCE || d->cstate == HHA_CS_SYNCTARGET;
}

/* When the bitmap is written back next: every 5 s, every second while syncing. */
static int64_t bm_due(const struct hha_disk *d)
{
	int64_t sync_due = d->last_bm_flush_ms + BM_FLUSH_SYNC_MS;

	return syncing(d) && sync_due < d->next_bm_flush_ms ? sync_due : d->next_bm_flush_ms;
}

HHA_EXPORT int64_t hha_disk_next_deadline(const struct hha_disk *d)
{
	int64_t bm = bm_due(d), rz = __atomic_load_n(&d->rz_deadline_ms, __ATOMIC_RELAXED);

	/* Harmless when Diskless: dispatch then only re-arms. */
	if (d->linked && d->next_ep_ms < bm)
		bm = d->next_ep_ms;
	return rz && rz < bm ? rz : bm;
}

static void bm_flush_job(struct hha_disk *d, struct hha_job *j)
{
	/* Without d->lock: bits change atomically and re-mark their page dirty;
	 * the descriptors stay open until the workers are stopped. */
	int r = hha_md_bm_flush(d->md_fd, &d->sb, &d->bm);

	if (r < 0)
		hha_warn(d->ctx, "disk", "%s: cannot write the bitmap: %s", d->name, hha_strerror(r));
	pthread_mutex_lock(&d->lock);
	d->bm_flushing = false;
	pthread_mutex_unlock(&d->lock);
	free(j);
}

static void app_baseline(struct hha_disk *d)
{
	int64_t now = hha_now_ms();
	uint64_t ops = GET(d->st_app_writes);

	if (now - d->app_base_ms < 500)
		return;
	pthread_mutex_lock(&d->lock);
	if (!syncing(d) && d->app_base_ms && ops > d->app_base_ops) {
		double r = (double)(ops - d->app_base_ops) * 1000.0 / (double)(now - d->app_base_ms);
		d->app_base = d->app_base > 0 ? 0.5 * d->app_base + 0.5 * r : r;
	}
	d->app_base_ms = now;
	d->app_base_ops = ops;
	pthread_mutex_unlock(&d->lock);
}

HHA_EXPORT int hha_disk_dispatch(struct hha_disk *d)
{
	uint64_t v;
	struct hha_devent *list;

	if (read(d->efd, &v, sizeof(v)) < 0) {
		/* nothing pending */
	}
	pthread_mutex_lock(&d->ev_lock);
	list = d->ev_head;
	d->ev_head = NULL;
	d->ev_tail = &d->ev_head;
	pthread_mutex_unlock(&d->ev_lock);
	while (list) {
		struct hha_devent *e = list;
		struct hha_disk_event ev = { .what = e->what, .message = e->message, .old_size = e->old_size,
					     .new_size = e->new_size, .result = e->result };
		list = e->next;
		pthread_mutex_lock(&d->lock);
		ev.role = d->role;
		ev.cstate = d->cstate;
		ev.dstate = d->dstate;
		ev.peer_role = d->peer_known ? (enum hha_disk_role)d->peer.role : HHA_ROLE_SECONDARY;
		ev.peer_dstate = d->peer_known ? (enum hha_disk_state)d->peer.disk : HHA_DS_DISKLESS;
		pthread_mutex_unlock(&d->lock);
		if (d->event_fn)
			d->event_fn(d, &ev, d->event_ud);
		free(e);
	}
	/* The application's write rate while not syncing: the resync
	 * controller's baseline. */
	app_baseline(d);
	hha_resize_tick(d);
	/* Writes the peer acknowledged but may not have flushed: a barrier
	 * once a second bounds what a crash of its node leaves to resync. */
	if (hha_now_ms() >= d->next_ep_ms) {
		d->next_ep_ms = hha_now_ms() + EP_BARRIER_MS;
		pthread_mutex_lock(&d->lock);
		if (d->linked && hha_ep_dirty(d) &&
		    hha_now_ms() - d->ep_last_barrier_ms >= EP_BARRIER_MS)
			hha_disk_send_barrier(d);
		pthread_mutex_unlock(&d->lock);
	}
	/* Write the bitmap back now and then, off the caller's thread. */
	/* While syncing, what was copied reaches the disk within a second: a
	 * restart resumes from there. */
	if (hha_now_ms() >= bm_due(d)) {
		d->last_bm_flush_ms = hha_now_ms();
		d->next_bm_flush_ms = hha_now_ms() + BM_FLUSH_MS;
		hha_pool_trim(d);
		pthread_mutex_lock(&d->lock);
		if (!d->bm_flushing && d->dstate != HHA_DS_DISKLESS) {
			struct hha_job *j = calloc(1, sizeof(*j));
			if (j) {
				d->bm_flushing = true;
				j->run = bm_flush_job;
				hha_workq_push(d, j);
			}
		}
		pthread_mutex_unlock(&d->lock);
	}
	return 0;
}
