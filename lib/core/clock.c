/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Monotonic time helpers. */
#include "config.h"

#include <limits.h>
#include <time.h>

#include "core/internal.h"

HHA_EXPORT uint64_t hha_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

HHA_EXPORT int64_t hha_now_ms(void)
{
	return (int64_t)(hha_now_ns() / 1000000ull);
}

HHA_EXPORT int hha_timeout_ms(int64_t deadline_ms)
{
	int64_t left;

	if (deadline_ms < 0)
		return -1;
	left = deadline_ms - hha_now_ms();
	if (left <= 0)
		return 0;
	if (left > INT_MAX)
		return INT_MAX;
	return (int)left;
}
