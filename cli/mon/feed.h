/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon's data thread: asks hhad every refresh so that the screen never waits for it. */
#ifndef HHA_MON_FEED_H
#define HHA_MON_FEED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "mon/source.h"

/*
 * The keys must answer at once even when hhad is slow (run.load waits up to
 * a second for a dead peer) or frozen (each call waits for its timeout). A
 * thread takes the snapshots and hands them over; the screen loop polls
 * mon_feed_fd() next to the terminal.
 */
struct mon_feed {
	struct mon_conn conn;      /* the thread's alone while it runs */
	int delay_ms, retry_ms;
	pthread_t thread;
	bool started;
	pthread_mutex_t lock;      /* guards everything below */
	pthread_cond_t wake;
	bool stop;
	bool fresh;                /* @latest holds a snapshot not taken yet */
	struct mon_snapshot latest;
	bool lost;
	unsigned attempts;
	char why[160];
	char node[MON_NAME_MAX];
	int pipe[2];               /* a byte per new result; the read end is polled */
};

/* Start the thread (signals stay with the caller's thread). 0 or -errno. */
int mon_feed_start(struct mon_feed *f, struct hha_ctx *ctx, const char *socket, int timeout_ms,
		   int delay_ms, int retry_ms);

/* The fd that becomes readable when a result arrived. */
int mon_feed_fd(const struct mon_feed *f);

/*
 * Take the latest result: returns true and moves a new snapshot into @out
 * (whose old content is freed) when one arrived; always fills the lost/why/
 * attempts fields of @ui's caller through the arguments.
 */
bool mon_feed_take(struct mon_feed *f, struct mon_snapshot *out, bool *lost, unsigned *attempts,
		   char *why, size_t why_len, char *node, size_t node_len);

/*
 * Stop the thread and free everything. Waits at most @wait_ms for a call in
 * progress; returns false (and frees nothing the thread may touch) when the
 * thread is still stuck in a call, which only matters at exit.
 */
bool mon_feed_stop(struct mon_feed *f, int wait_ms);

#endif /* HHA_MON_FEED_H */
