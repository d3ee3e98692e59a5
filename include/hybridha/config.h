/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Reading and validating the cluster configuration file (JSON with comments). */
#ifndef HYBRIDHA_CONFIG_H
#define HYBRIDHA_CONFIG_H

#include <hybridha/ctx.h>

HHA_BEGIN_DECLS

/* Where hhad and the tools look when no path is given. */
#define HHA_CONFIG_DEFAULT_PATH "/etc/hybridha/hybridha.conf"

/*
 * The configuration is JSON with // and block comments, validated against
 * the schema in docs/hybridha.conf.md. It is data, never executed. Every
 * problem found is reported, each naming the file and either the line and
 * column (syntax) or the key path (`resources.r0.protocol: expected "A", "B"
 * or "C", got "D"`).
 */
struct hha_config;

/**
 * hha_config_load - read and validate a configuration file.
 * @ctx: context for logging.
 * @path: the file; NULL means HHA_CONFIG_DEFAULT_PATH.
 * @out: receives the configuration; the caller frees it with hha_config_free().
 *
 * Return: 0; -HHA_ECONFIG when the file is not valid (every problem, one per
 * line, in hha_last_error()); -ENOENT, -EACCES, ... when it cannot be read;
 * -ENOMEM.
 */
HHA_EXPORT int hha_config_load(struct hha_ctx *ctx, const char *path, struct hha_config **out);

/**
 * hha_config_load_string - as hha_config_load(), from a string in memory.
 * @ctx: context for logging.
 * @text: the JSON text (NUL-terminated).
 * @name: the name used in messages in place of a file name (e.g. "<stdin>").
 * @out: receives the configuration.
 *
 * Return: as hha_config_load().
 */
HHA_EXPORT int hha_config_load_string(struct hha_ctx *ctx, const char *text, const char *name,
				      struct hha_config **out);

/** hha_config_free - free a configuration; NULL is a no-op. */
HHA_EXPORT void hha_config_free(struct hha_config *cfg);

/**
 * hha_config_path - the file a configuration was read from.
 *
 * Return: borrowed string valid until hha_config_free(); the name given to
 * hha_config_load_string() for configurations read from memory.
 */
HHA_EXPORT const char *hha_config_path(const struct hha_config *cfg);

/**
 * hha_config_to_json - the configuration with every default filled in, as JSON.
 * @cfg: the configuration.
 * @out: receives a NUL-terminated string the caller frees with free().
 *
 * Return: 0 or -ENOMEM.
 */
HHA_EXPORT int hha_config_to_json(const struct hha_config *cfg, char **out);

HHA_END_DECLS

#endif /* HYBRIDHA_CONFIG_H */
