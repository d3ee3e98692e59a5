/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Private declarations shared by the library's modules: context, logging, errors. */
#ifndef HHA_CORE_INTERNAL_H
#define HHA_CORE_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hybridha/clock.h>
#include <hybridha/ctx.h>
#include <hybridha/error.h>

struct hha_ctx {
	hha_log_fn log_fn;
	void *log_userdata;
	enum hha_log_level log_level;
};

#define HHA_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define HHA_MIN(a, b) ((a) < (b) ? (a) : (b))
#define HHA_MAX(a, b) ((a) > (b) ? (a) : (b))
#define HHA_UNUSED __attribute__((unused))

/* Log one line through the context's callback; cheap when filtered out. */
void hha_log(const struct hha_ctx *ctx, enum hha_log_level level, const char *subsys,
	     const char *fmt, ...) HHA_PRINTF(4, 5);
void hha_logv(const struct hha_ctx *ctx, enum hha_log_level level, const char *subsys,
	      const char *fmt, va_list ap) HHA_PRINTF(4, 0);

#define hha_err(ctx, sub, ...) hha_log((ctx), HHA_LOG_ERR, (sub), __VA_ARGS__)
#define hha_warn(ctx, sub, ...) hha_log((ctx), HHA_LOG_WARNING, (sub), __VA_ARGS__)
#define hha_notice(ctx, sub, ...) hha_log((ctx), HHA_LOG_NOTICE, (sub), __VA_ARGS__)
#define hha_info(ctx, sub, ...) hha_log((ctx), HHA_LOG_INFO, (sub), __VA_ARGS__)
#define hha_dbg(ctx, sub, ...) hha_log((ctx), HHA_LOG_DEBUG, (sub), __VA_ARGS__)

/*
 * Record a failure for hha_last_error() and return @err as a negative code,
 * so a function can end with `return hha_error(-EINVAL, __func__, "...")`.
 * @err may be given positive or negative.
 */
int hha_error(int err, const char *func, const char *fmt, ...) HHA_PRINTF(3, 4);
/* Same, keeping the message already recorded by a callee, prefixed with func. */
int hha_error_wrap(int err, const char *func);
/* Forget the last error (successful public calls need not call this). */
void hha_error_clear(void);

#endif /* HHA_CORE_INTERNAL_H */
