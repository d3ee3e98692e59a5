/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small epoll event loop with timers, for hhad and the library's own threads. */
#ifndef HHA_CORE_LOOP_H
#define HHA_CORE_LOOP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/epoll.h>

struct hha_loop;
struct hha_io;
struct hha_timer;

typedef void (*hha_io_cb)(struct hha_io *io, int fd, uint32_t events, void *userdata);
typedef void (*hha_timer_cb)(struct hha_timer *t, void *userdata);

int hha_loop_new(struct hha_loop **out);
/* Frees the loop and every watcher and timer still registered (fds are not closed). */
void hha_loop_free(struct hha_loop *loop);

/* Watch @fd for EPOLLIN/EPOLLOUT... The fd stays owned by the caller. */
int hha_io_add(struct hha_loop *loop, int fd, uint32_t events, hha_io_cb cb, void *userdata,
	       struct hha_io **out);
int hha_io_set_events(struct hha_io *io, uint32_t events);
/* Stop watching and free; safe inside any callback, including io's own. NULL is a no-op. */
void hha_io_del(struct hha_io *io);

int hha_timer_new(struct hha_loop *loop, hha_timer_cb cb, void *userdata, struct hha_timer **out);
/* Fire once at @deadline_ms (monotonic); re-arming replaces the deadline. */
void hha_timer_arm(struct hha_timer *t, int64_t deadline_ms);
void hha_timer_arm_in(struct hha_timer *t, int64_t delay_ms);
void hha_timer_disarm(struct hha_timer *t);
bool hha_timer_armed(const struct hha_timer *t);
/* Free; safe inside callbacks. NULL is a no-op. */
void hha_timer_free(struct hha_timer *t);

/* Wait at most @max_wait_ms (-1 = until something happens) and dispatch. 0 or -errno. */
int hha_loop_run_once(struct hha_loop *loop, int max_wait_ms);
/* Run until hha_loop_quit(). 0 or -errno. */
int hha_loop_run(struct hha_loop *loop);
void hha_loop_quit(struct hha_loop *loop);
/* The epoll fd, so a whole loop can be nested in another. */
int hha_loop_fd(const struct hha_loop *loop);

#endif /* HHA_CORE_LOOP_H */
