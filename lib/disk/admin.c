/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Administrative verbs of a resource: policies and hooks, outdate, invalidate, pause and resume of the sync. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "disk/engine.h"

#define HOOK_TIMEOUT_MS 60000

static int set_hook(char **slot, const char *path)
{
	char *copy = NULL;

	if (path && *path) {
		if (path[0] != '/')
			return -EINVAL;
		if (!(copy = strdup(path)))
			return -ENOMEM;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

HHA_EXPORT int hha_disk_set_policy(struct hha_disk *d, const struct hha_disk_policy_opts *o)
{
	char *sb = NULL, *brt = NULL, *ioe = NULL;
	int r;

	if (!o || o->struct_size < sizeof(*o))
		return hha_error(-EINVAL, __func__, "struct_size too small");
	if ((unsigned)o->after_split_brain > HHA_AFTER_SB_DISCARD_ZERO_CHANGES ||
	    (unsigned)o->on_io_error > HHA_IO_ERROR_CALL_HANDLER)
		return hha_error(-EINVAL, __func__, "unknown policy value");
	if ((r = set_hook(&sb, o->split_brain)) < 0 || (r = set_hook(&brt, o->before_resync_target)) < 0 ||
	    (r = set_hook(&ioe, o->local_io_error)) < 0) {
		free(sb);
		free(brt);
		return hha_error(r, __func__, "hook commands must be absolute paths");
	}
	pthread_mutex_lock(&d->lock);
	d->policy_dzc = o->after_split_brain == HHA_AFTER_SB_DISCARD_ZERO_CHANGES;
	d->on_io_error = o->on_io_error;
	d->csums = o->csums;
	free(d->hook_split_brain);
	free(d->hook_before_resync_target);
	free(d->hook_local_io_error);
	d->hook_split_brain = sb;
	d->hook_before_resync_target = brt;
	d->hook_local_io_error = ioe;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

int hha_disk_run_hook(struct hha_disk *d, const char *path, const char *event)
{
	char res[96], ev[64];
	char *argv[] = { (char *)path, NULL };
	char *envp[] = { res, ev, (char *)"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			 NULL };
	int64_t end = hha_now_ms() + HOOK_TIMEOUT_MS;
	int st, r;
	pid_t pid;

	snprintf(res, sizeof(res), "HHA_RESOURCE=%s", d->name);
	snprintf(ev, sizeof(ev), "HHA_EVENT=%s", event);
	r = posix_spawn(&pid, path, NULL, NULL, argv, envp);
	if (r) {
		hha_warn(d->ctx, "disk", "%s: cannot run the %s hook %s: %s", d->name, event, path, hha_strerror(-r));
		return -r;
	}
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return -errno;
		if (hha_now_ms() > end) {
			hha_warn(d->ctx, "disk", "%s: the %s hook %s did not end in %d s: killed", d->name, event, path,
				 HOOK_TIMEOUT_MS / 1000);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -ETIMEDOUT;
		}
		usleep(10000);
	}
	r = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	hha_info(d->ctx, "disk", "%s: the %s hook %s exited with %d", d->name, event, path, r);
	return r;
}

struct hook_job {
	struct hha_disk *d;
	char *path;
	char event[32];
	uint64_t conn_gen;      /* before-resync-target: the connection to go on with */
	bool full;
};

static void *hook_main(void *arg)
{
	struct hook_job *j = arg;
	struct hha_disk *d = j->d;

	hha_disk_run_hook(d, j->path, j->event);
	if (j->conn_gen)
		hha_link_target_ready(d, j->conn_gen, j->full);
	pthread_mutex_lock(&d->lock);
	d->hooks_running--;
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	free(j->path);
	free(j);
	return NULL;
}

int hha_disk_hook_async(struct hha_disk *d, const char *path, const char *event, uint64_t conn_gen, bool full)
{
	struct hook_job *j = calloc(1, sizeof(*j));
	pthread_attr_t at;
	pthread_t th;
	int r;

	if (!j || !(j->path = strdup(path))) {
		free(j);
		return -ENOMEM;
	}
	j->d = d;
	snprintf(j->event, sizeof(j->event), "%s", event);
	j->conn_gen = conn_gen;
	j->full = full;
	d->hooks_running++;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&th, &at, hook_main, j);
	pthread_attr_destroy(&at);
	if (r) {
		d->hooks_running--;
		free(j->path);
		free(j);
		return -r;
	}
	return 0;
}

void hha_disk_hooks_wait(struct hha_disk *d)
{
	pthread_mutex_lock(&d->lock);
	while (d->hooks_running > 0)
		pthread_cond_wait(&d->cond, &d->lock);
	pthread_mutex_unlock(&d->lock);
}

HHA_EXPORT int hha_disk_outdate(struct hha_disk *d)
{
	int r = 0;

	pthread_mutex_lock(&d->lock);
	if (d->dstate == HHA_DS_DISKLESS || d->role == HHA_ROLE_PRIMARY ||
	    (d->linked && d->peer_known && d->peer.role == HHA_ROLE_PRIMARY)) {
		r = hha_error(-HHA_ESTATE, __func__, "%s: outdate needs an attached secondary that is not "
			      "replicating from a primary", d->name);
		goto out;
	}
	if (d->dstate == HHA_DS_INCONSISTENT)
		goto out; /* already worse than outdated */
	d->sb.flags |= HHA_MDF_OUTDATED;
	if ((r = hha_disk_md_write(d)) < 0) {
		r = hha_error(r, __func__, "cannot write metadata");
		goto out;
	}
	hha_disk_ds_event(d, HHA_DSE_OUTDATE);
	hha_disk_post_event(d, "outdated", "%s: marked Outdated: promotion needs --force", d->name);
	if (d->conn && d->linked)
		hha_conn_send_state(d->conn);
out:
	pthread_mutex_unlock(&d->lock);
	return r;
}

void hha_disk_push_marks(struct hha_disk *d, bool announce)
{
	d->crash_resync = true;
	if (!(d->sb.flags & HHA_MDF_PUSH_MARKS)) {
		d->sb.flags |= HHA_MDF_PUSH_MARKS;
		hha_md_bm_flush(d->md_fd, &d->sb, &d->bm);
		hha_disk_md_write(d);
	}
	if (announce && d->conn && d->linked)
		hha_conn_send_state(d->conn);
}

/* The peer went on as primary without us (d->lock held, released during the
 * write). Outdated in memory first, so that a promotion meanwhile needs
 * --force, as it will once the flag is on disk. */
void hha_disk_outdate_self(struct hha_disk *d, const char *why)
{
	if (d->role == HHA_ROLE_PRIMARY || d->dstate != HHA_DS_UPTODATE)
		return;
	d->sb.flags |= HHA_MDF_OUTDATED;
	hha_disk_ds_event(d, HHA_DSE_OUTDATE);
	hha_disk_post_event(d, "outdated", "%s: marked Outdated: %s", d->name, why);
	hha_disk_md_persist(d, false);
}

HHA_EXPORT int hha_disk_invalidate(struct hha_disk *d)
{
	int r = 0;

	pthread_mutex_lock(&d->lock);
	if (d->dstate == HHA_DS_DISKLESS || d->role == HHA_ROLE_PRIMARY || d->cstate == HHA_CS_SYNCTARGET ||
	    d->cstate == HHA_CS_SYNCSOURCE) {
		r = hha_error(-HHA_ESTATE, __func__, "%s: invalidate needs an attached secondary that is not "
			      "syncing", d->name);
		goto out;
	}
	/* Inconsistent with our current id: the peer (same id, consistent)
	 * becomes the full source (row 4) now or at the next connection. */
	d->sb.flags &= ~(uint32_t)(HHA_MDF_CONSISTENT | HHA_MDF_OUTDATED);
	hha_bitmap_set_all(&d->bm);
	if ((r = hha_disk_md_write(d)) < 0) {
		r = hha_error(r, __func__, "cannot write metadata");
		goto out;
	}
	hha_disk_ds_event(d, HHA_DSE_SYNC_TARGET);
	hha_disk_post_event(d, "invalidated", "%s: local data invalidated: full sync from the peer", d->name);
	if (d->conn && d->linked && d->cstate == HHA_CS_CONNECTED)
		hha_conn_send_state(d->conn);
out:
	pthread_mutex_unlock(&d->lock);
	return r;
}

HHA_EXPORT int hha_disk_invalidate_remote(struct hha_disk *d)
{
	int r = 0;

	pthread_mutex_lock(&d->lock);
	if (d->cstate != HHA_CS_CONNECTED || !d->conn || d->dstate != HHA_DS_UPTODATE ||
	    (d->peer_known && d->peer.role == HHA_ROLE_PRIMARY)) {
		r = hha_error(-HHA_ESTATE, __func__, "%s: invalidate-remote needs a Connected, UpToDate "
			      "resource whose peer is secondary", d->name);
		goto out;
	}
	r = hha_link_begin_source(d->conn, HHA_SYNC_SOURCE_FULL);
out:
	pthread_mutex_unlock(&d->lock);
	return r;
}

HHA_EXPORT int hha_disk_pause_sync(struct hha_disk *d)
{
	pthread_mutex_lock(&d->lock);
	if (!d->rs_paused)
		hha_disk_post_event(d, "sync-paused", "%s: resync paused", d->name);
	d->rs_paused = true;
	pthread_mutex_unlock(&d->lock);
	return 0;
}

HHA_EXPORT int hha_disk_resume_sync(struct hha_disk *d)
{
	pthread_mutex_lock(&d->lock);
	if (d->rs_paused)
		hha_disk_post_event(d, "sync-resumed", "%s: resync resumed", d->name);
	d->rs_paused = false;
	hha_rs_kick(d);
	pthread_mutex_unlock(&d->lock);
	return 0;
}
