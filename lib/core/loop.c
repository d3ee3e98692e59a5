/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small epoll event loop with timers, for hhad and the library's own threads. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "core/internal.h"
#include "core/loop.h"

struct hha_io {
	struct hha_loop *loop;
	int fd;
	hha_io_cb cb;
	void *userdata;
	bool dead;
	struct hha_io *next_dead;
};

struct hha_timer {
	struct hha_loop *loop;
	hha_timer_cb cb;
	void *userdata;
	int64_t deadline; /* -1 when disarmed */
	uint64_t fired_round;
	bool dead;
	struct hha_timer *next; /* all timers of the loop */
};

struct hha_loop {
	int epfd;
	bool quit;
	struct hha_io *dead_ios;
	struct hha_timer *timers;
	uint64_t round;
	int dispatching;
};

int hha_loop_new(struct hha_loop **out)
{
	struct hha_loop *loop = calloc(1, sizeof(*loop));

	if (!loop)
		return -ENOMEM;
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		int r = -errno;
		free(loop);
		return r;
	}
	*out = loop;
	return 0;
}

static void reap(struct hha_loop *loop)
{
	struct hha_timer **pt = &loop->timers;

	while (loop->dead_ios) {
		struct hha_io *io = loop->dead_ios;
		loop->dead_ios = io->next_dead;
		free(io);
	}
	while (*pt) {
		struct hha_timer *t = *pt;
		if (t->dead) {
			*pt = t->next;
			free(t);
		} else {
			pt = &t->next;
		}
	}
}

void hha_loop_free(struct hha_loop *loop)
{
	if (!loop)
		return;
	reap(loop);
	while (loop->timers) {
		struct hha_timer *t = loop->timers;
		loop->timers = t->next;
		free(t);
	}
	close(loop->epfd);
	free(loop);
}

int hha_io_add(struct hha_loop *loop, int fd, uint32_t events, hha_io_cb cb, void *userdata,
	       struct hha_io **out)
{
	struct epoll_event ev = { .events = events };
	struct hha_io *io = calloc(1, sizeof(*io));

	if (!io)
		return -ENOMEM;
	io->loop = loop;
	io->fd = fd;
	io->cb = cb;
	io->userdata = userdata;
	ev.data.ptr = io;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int r = -errno;
		free(io);
		return r;
	}
	if (out)
		*out = io;
	return 0;
}

int hha_io_set_events(struct hha_io *io, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = io };

	if (epoll_ctl(io->loop->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -errno;
	return 0;
}

void hha_io_del(struct hha_io *io)
{
	if (!io || io->dead)
		return;
	epoll_ctl(io->loop->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->dead = true;
	/* Freed after the current dispatch round: events for it may be pending. */
	io->next_dead = io->loop->dead_ios;
	io->loop->dead_ios = io;
	if (!io->loop->dispatching)
		reap(io->loop);
}

int hha_timer_new(struct hha_loop *loop, hha_timer_cb cb, void *userdata, struct hha_timer **out)
{
	struct hha_timer *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->loop = loop;
	t->cb = cb;
	t->userdata = userdata;
	t->deadline = -1;
	t->next = loop->timers;
	loop->timers = t;
	*out = t;
	return 0;
}

void hha_timer_arm(struct hha_timer *t, int64_t deadline_ms)
{
	t->deadline = deadline_ms;
}

void hha_timer_arm_in(struct hha_timer *t, int64_t delay_ms)
{
	t->deadline = hha_now_ms() + delay_ms;
}

void hha_timer_disarm(struct hha_timer *t)
{
	t->deadline = -1;
}

bool hha_timer_armed(const struct hha_timer *t)
{
	return t->deadline >= 0;
}

void hha_timer_free(struct hha_timer *t)
{
	if (!t)
		return;
	t->dead = true;
	t->deadline = -1;
	if (!t->loop->dispatching)
		reap(t->loop);
}

static int64_t next_deadline(struct hha_loop *loop)
{
	int64_t best = -1;

	for (struct hha_timer *t = loop->timers; t; t = t->next)
		if (!t->dead && t->deadline >= 0 && (best < 0 || t->deadline < best))
			best = t->deadline;
	return best;
}

int hha_loop_run_once(struct hha_loop *loop, int max_wait_ms)
{
	struct epoll_event evs[64];
	int64_t dl = next_deadline(loop), now;
	int timeout = hha_timeout_ms(dl), n;

	if (max_wait_ms >= 0 && (timeout < 0 || timeout > max_wait_ms))
		timeout = max_wait_ms;
	n = epoll_wait(loop->epfd, evs, HHA_ARRAY_SIZE(evs), timeout);
	if (n < 0 && errno != EINTR)
		return -errno;
	loop->dispatching++;
	for (int i = 0; i < n; i++) {
		struct hha_io *io = evs[i].data.ptr;
		if (!io->dead)
			io->cb(io, io->fd, evs[i].events, io->userdata);
	}
	/* Due timers fire earliest first, each at most once per round (one
	 * re-armed for the past waits for the next round). */
	now = hha_now_ms();
	loop->round++;
	for (;;) {
		struct hha_timer *best = NULL;
		for (struct hha_timer *t = loop->timers; t; t = t->next) {
			if (t->dead || t->deadline < 0 || t->deadline > now ||
			    t->fired_round == loop->round)
				continue;
			if (!best || t->deadline < best->deadline)
				best = t;
		}
		if (!best)
			break;
		best->deadline = -1;
		best->fired_round = loop->round;
		best->cb(best, best->userdata);
	}
	loop->dispatching--;
	if (!loop->dispatching)
		reap(loop);
	return 0;
}

int hha_loop_run(struct hha_loop *loop)
{
	loop->quit = false;
	while (!loop->quit) {
		int r = hha_loop_run_once(loop, -1);
		if (r < 0)
			return r;
	}
	return 0;
}

void hha_loop_quit(struct hha_loop *loop)
{
	loop->quit = true;
}

int hha_loop_fd(const struct hha_loop *loop)
{
	return loop->epfd;
}
