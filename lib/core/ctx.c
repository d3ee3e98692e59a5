/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library context and its logging. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"

static const char *const level_names[] = {
	[HHA_LOG_ERR] = "err",
	[HHA_LOG_WARNING] = "warning",
	[HHA_LOG_NOTICE] = "notice",
	[HHA_LOG_INFO] = "info",
	[HHA_LOG_DEBUG] = "debug",
};

/* One write() per line so lines from several threads never interleave. */
static void log_stderr(void *userdata, enum hha_log_level level, const char *subsys,
		       const char *message)
{
	char line[2048];
	int n;

	n = snprintf(line, sizeof(line), "%s %s: %s\n", hha_log_level_name(level), subsys,
		     message);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (write(STDERR_FILENO, line, (size_t)n) < 0) {
		/* Nowhere left to report a failing stderr. */
	}
}

HHA_EXPORT int hha_ctx_new(struct hha_ctx **out)
{
	struct hha_ctx *ctx;
	const char *env;

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return hha_error(-ENOMEM, __func__, "out of memory");
	ctx->log_fn = log_stderr;
	ctx->log_level = HHA_LOG_INFO;
	env = secure_getenv("HHA_LOG_LEVEL");
	if (env) {
		enum hha_log_level l;
		if (hha_log_level_from_string(env, &l) == 0)
			ctx->log_level = l;
	}
	*out = ctx;
	return 0;
}

HHA_EXPORT void hha_ctx_free(struct hha_ctx *ctx)
{
	free(ctx);
}

HHA_EXPORT void hha_ctx_set_log_fn(struct hha_ctx *ctx, hha_log_fn fn, void *userdata)
{
	ctx->log_fn = fn;
	ctx->log_userdata = userdata;
}

HHA_EXPORT void hha_ctx_set_log_level(struct hha_ctx *ctx, enum hha_log_level level)
{
	if (level < HHA_LOG_ERR)
		level = HHA_LOG_ERR;
	if (level > HHA_LOG_DEBUG)
		level = HHA_LOG_DEBUG;
	ctx->log_level = level;
}

HHA_EXPORT enum hha_log_level hha_ctx_get_log_level(const struct hha_ctx *ctx)
{
	return ctx->log_level;
}

HHA_EXPORT int hha_log_level_from_string(const char *s, enum hha_log_level *out)
{
	static const struct {
		const char *word;
		enum hha_log_level level;
	} words[] = {
		{ "err", HHA_LOG_ERR },	      { "error", HHA_LOG_ERR },
		{ "warning", HHA_LOG_WARNING }, { "warn", HHA_LOG_WARNING },
		{ "notice", HHA_LOG_NOTICE },   { "info", HHA_LOG_INFO },
		{ "debug", HHA_LOG_DEBUG },
	};

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < HHA_ARRAY_SIZE(words); i++)
		if (strcasecmp(s, words[i].word) == 0) {
			*out = words[i].level;
			return 0;
		}
	return hha_error(-EINVAL, __func__, "unknown log level `%s'", s);
}

HHA_EXPORT const char *hha_log_level_name(enum hha_log_level level)
{
	if (level < HHA_LOG_ERR || level > HHA_LOG_DEBUG)
		return "?";
	return level_names[level];
}

HHA_EXPORT const char *hha_version(void)
{
	return PACKAGE_VERSION;
}

void hha_logv(const struct hha_ctx *ctx, enum hha_log_level level, const char *subsys,
	      const char *fmt, va_list ap)
{
	char msg[1536];

	if (!ctx || !ctx->log_fn || level > ctx->log_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	ctx->log_fn(ctx->log_userdata, level, subsys ? subsys : "core", msg);
}

void hha_log(const struct hha_ctx *ctx, enum hha_log_level level, const char *subsys,
	     const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hha_logv(ctx, level, subsys, fmt, ap);
	va_end(ap);
}
