/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Time on the monotonic clock, the only clock libhybridha uses for deadlines. */
#ifndef HYBRIDHA_CLOCK_H
#define HYBRIDHA_CLOCK_H

#include <hybridha/common.h>

HHA_BEGIN_DECLS

/*
 * Deadlines returned by libhybridha objects ("next deadline" in the event
 * loop integration) are absolute times in milliseconds of CLOCK_MONOTONIC,
 * the value hha_now_ms() returns. -1 means "no deadline".
 */

/** hha_now_ms - CLOCK_MONOTONIC in milliseconds. Thread-safe, never fails. */
HHA_EXPORT int64_t hha_now_ms(void);

/** hha_now_ns - CLOCK_MONOTONIC in nanoseconds. Thread-safe, never fails. */
HHA_EXPORT uint64_t hha_now_ns(void);

/**
 * hha_timeout_ms - milliseconds from now until @deadline_ms, for poll()/epoll_wait().
 * @deadline_ms: absolute monotonic time in ms, or -1 for none.
 *
 * Return: -1 when @deadline_ms is -1, 0 when it has passed, else the
 * remaining time (capped at INT32_MAX).
 */
HHA_EXPORT int hha_timeout_ms(int64_t deadline_ms);

HHA_END_DECLS

#endif /* HYBRIDHA_CLOCK_H */
