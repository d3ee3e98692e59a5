/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The library context: logging and settings shared by the objects made from it. */
#ifndef HYBRIDHA_CTX_H
#define HYBRIDHA_CTX_H

#include <hybridha/common.h>

HHA_BEGIN_DECLS

/*
 * libhybridha keeps no global state. Every object is created from a context,
 * which carries the log callback and log level. A context must outlive every
 * object created from it. A context may be used from several threads; the
 * log callback is then called from those threads too (the library's own data
 * path threads included), so it must be thread-safe.
 */
struct hha_ctx;

/* Log levels, with syslog's numbering so they map one to one. */
enum hha_log_level {
	HHA_LOG_ERR = 3,
	HHA_LOG_WARNING = 4,
	HHA_LOG_NOTICE = 5,
	HHA_LOG_INFO = 6,
	HHA_LOG_DEBUG = 7,
};

/**
 * hha_log_fn - where log lines go.
 * @userdata: as given to hha_ctx_set_log_fn().
 * @level: severity.
 * @subsys: the module that speaks ("core", "disk", "net", "run", ...), never NULL.
 * @message: one line without a trailing newline, borrowed for the call only.
 */
typedef void (*hha_log_fn)(void *userdata, enum hha_log_level level, const char *subsys,
			   const char *message);

/**
 * hha_ctx_new - create a context.
 * @out: receives the context; the caller frees it with hha_ctx_free().
 *
 * The default log callback writes "LEVEL subsys: message" lines to stderr;
 * the default level is HHA_LOG_INFO, or $HHA_LOG_LEVEL ("debug", "info", ...)
 * when set.
 *
 * Return: 0, or -ENOMEM.
 */
HHA_EXPORT int hha_ctx_new(struct hha_ctx **out);

/** hha_ctx_free - free a context; NULL is a no-op. Objects made from it must be freed first. */
HHA_EXPORT void hha_ctx_free(struct hha_ctx *ctx);

/**
 * hha_ctx_set_log_fn - replace the log callback.
 * @ctx: the context.
 * @fn: the callback, or NULL to discard every line.
 * @userdata: passed to @fn unchanged; borrowed, must outlive @ctx's use of it.
 */
HHA_EXPORT void hha_ctx_set_log_fn(struct hha_ctx *ctx, hha_log_fn fn, void *userdata);

/** hha_ctx_set_log_level - lines above @level (less severe) are not produced. */
HHA_EXPORT void hha_ctx_set_log_level(struct hha_ctx *ctx, enum hha_log_level level);

/** hha_ctx_get_log_level - the current log level. */
HHA_EXPORT enum hha_log_level hha_ctx_get_log_level(const struct hha_ctx *ctx);

/**
 * hha_log_level_from_string - parse "err", "warning", "notice", "info" or "debug".
 * @s: the word (case-insensitive; "error" and "warn" are accepted too).
 * @out: receives the level.
 *
 * Return: 0, or -EINVAL for an unknown word.
 */
HHA_EXPORT int hha_log_level_from_string(const char *s, enum hha_log_level *out);

/** hha_log_level_name - "err", "warning", "notice", "info" or "debug". */
HHA_EXPORT const char *hha_log_level_name(enum hha_log_level level);

/** hha_version - the library's version string, e.g. "0.1.0". */
HHA_EXPORT const char *hha_version(void);

HHA_END_DECLS

#endif /* HYBRIDHA_CTX_H */
