/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon's data thread: asks hhad every refresh so that the screen never waits for it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mon/feed.h"

/* @ms from now on @clock, for the timed waits. */
static void deadline(struct timespec *t, clockid_t clock, int ms)
{
	clock_gettime(clock, t);
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static void *feed_main(void *arg)
{
	struct mon_feed *f = arg;

	pthread_mutex_lock(&f->lock);
	while (!f->stop) {
		struct mon_snapshot next = { 0 };
		struct timespec until;
		int r, wait_ms;

		pthread_mutex_unlock(&f->lock);
		r = mon_conn_poll(&f->conn, &next);
		pthread_mutex_lock(&f->lock);
		if (r == 0) {
			mon_snapshot_clear(&f->latest);
			f->latest = next;
			f->fresh = true;
		}
		f->lost = r < 0;
		f->attempts = f->conn.attempts;
		snprintf(f->why, sizeof(f->why), "%s", f->conn.why);
		snprintf(f->node, sizeof(f->node), "%s", f->conn.node);
		/* A full pipe means the screen has not read yet: one byte is enough. */
		if (write(f->pipe[1], "x", 1) < 0 && errno != EAGAIN)
			break;
		wait_ms = r == 0 ? f->delay_ms : f->retry_ms;
		deadline(&until, CLOCK_MONOTONIC, wait_ms);
		while (!f->stop && pthread_cond_timedwait(&f->wake, &f->lock, &until) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

int mon_feed_start(struct mon_feed *f, struct hha_ctx *ctx, const char *socket, int timeout_ms,
		   int delay_ms, int retry_ms)
{
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	memset(f, 0, sizeof(*f));
	mon_conn_init(&f->conn, ctx, socket, timeout_ms);
	f->delay_ms = delay_ms;
	f->retry_ms = retry_ms;
	if (pipe2(f->pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	pthread_mutex_init(&f->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&f->wake, &ca);
	pthread_condattr_destroy(&ca);
	/* Ctrl-C and resizes must reach the screen's thread, which polls the terminal. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	r = -pthread_create(&f->thread, NULL, feed_main, f);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	f->started = r == 0;
	return r;
}

int mon_feed_fd(const struct mon_feed *f)
{
	return f->pipe[0];
}

bool mon_feed_take(struct mon_feed *f, struct mon_snapshot *out, bool *lost, unsigned *attempts,
		   char *why, size_t why_len, char *node, size_t node_len)
{
	char drain[64];
	bool fresh;

	while (read(f->pipe[0], drain, sizeof(drain)) > 0)
		;
	pthread_mutex_lock(&f->lock);
	fresh = f->fresh;
	if (fresh) {
		mon_snapshot_clear(out);
		*out = f->latest;
		memset(&f->latest, 0, sizeof(f->latest));
		f->fresh = false;
	}
	*lost = f->lost;
	*attempts = f->attempts;
	snprintf(why, why_len, "%s", f->why);
	snprintf(node, node_len, "%s", f->node);
	pthread_mutex_unlock(&f->lock);
	return fresh;
}

bool mon_feed_stop(struct mon_feed *f, int wait_ms)
{
	struct timespec until;

	if (f->started) {
		pthread_mutex_lock(&f->lock);
		f->stop = true;
		pthread_cond_signal(&f->wake);
		pthread_mutex_unlock(&f->lock);
		deadline(&until, CLOCK_REALTIME, wait_ms);
		/* Stuck in a call to a frozen hhad: the process is about to exit anyway. */
		if (pthread_timedjoin_np(f->thread, NULL, &until) != 0)
			return false;
	}
	mon_conn_close(&f->conn);
	mon_snapshot_clear(&f->latest);
	pthread_cond_destroy(&f->wake);
	pthread_mutex_destroy(&f->lock);
	close(f->pipe[0]);
	close(f->pipe[1]);
	return true;
}
