/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Loading the configuration file: syntax (with line and column), schema, cross-checks. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/conf.h"
#include "core/internal.h"
#include "core/util.h"

#define CONF_MAX_BYTES (4u << 20)

/* Line and column (both from 1) of byte @off in @text. */
static void position(const char *text, size_t off, unsigned *line, unsigned *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* After a complete value only whitespace and comments may follow. */
static size_t skip_blank(const char *t, size_t i, size_t n)
{
	while (i < n) {
		if (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n') {
			i++;
		} else if (t[i] == '/' && i + 1 < n && t[i + 1] == '/') {
			while (i < n && t[i] != '\n')
				i++;
		} else if (t[i] == '/' && i + 1 < n && t[i + 1] == '*') {
			const char *end = strstr(t + i + 2, "*/");
			if (!end)
				return i;
			i = (size_t)(end - t) + 2;
		} else {
			break;
		}
	}
	return i;
}

static int parse_text(const char *text, const char *name, json_object **out)
{
	struct json_tokener *tok;
	json_object *root;
	size_t n = strlen(text), end;
	unsigned line, col;
	int r = 0;

	tok = json_tokener_new_ex(64);
	if (!tok)
		return hha_error(-ENOMEM, NULL, "out of memory");
	root = json_tokener_parse_ex(tok, text, (int)n);
	end = json_tokener_get_parse_end(tok);
	if (!root) {
		enum json_tokener_error jerr = json_tokener_get_error(tok);
		const char *why = jerr == json_tokener_continue
					  ? "unexpected end of file"
					  : json_tokener_error_desc(jerr);
		position(text, jerr == json_tokener_continue ? n : end, &line, &col);
		r = hha_error(-HHA_ECONFIG, NULL, "%s:%u:%u: syntax error: %s", name, line, col, why);
		goto out;
	}
	end = skip_blank(text, end, n);
	if (end != n) {
		position(text, end, &line, &col);
		r = hha_error(-HHA_ECONFIG, NULL,
			      "%s:%u:%u: syntax error: unexpected text after the top-level object",
			      name, line, col);
		json_object_put(root);
		goto out;
	}
	if (!json_object_is_type(root, json_type_object)) {
		r = hha_error(-HHA_ECONFIG, NULL, "%s: the top level must be an object", name);
		json_object_put(root);
		goto out;
	}
	*out = root;
out:
	json_tokener_free(tok);
	return r;
}

static int report(struct hha_errs *errs, const char *name)
{
	size_t cap = 0, k = 0;
	char *msg;

	for (size_t i = 0; i < errs->n; i++)
		cap += strlen(name) + strlen(errs->v[i]) + 4;
	msg = malloc(cap + 1);
	if (!msg)
		return hha_error(-ENOMEM, NULL, "out of memory");
	msg[0] = '\0';
	for (size_t i = 0; i < errs->n; i++)
		k += (size_t)snprintf(msg + k, cap + 1 - k, "%s%s: %s", i ? "\n" : "", name,
				      errs->v[i]);
	hha_error(-HHA_ECONFIG, NULL, "%s", msg);
	free(msg);
	return -HHA_ECONFIG;
}

static int load(struct hha_ctx *ctx, const char *text, const char *name, struct hha_config **out)
{
	struct hha_errs errs = { 0 };
	struct hha_config *cfg;
	json_object *raw = NULL, *root;
	int r;

	r = parse_text(text, name, &raw);
	if (r < 0)
		return r;
	root = hha_schema_validate(&hha_conf_schema, raw, "", &errs);
	json_object_put(raw);
	if (root)
		hha_conf_check(root, &errs);
	if (errs.n) {
		r = report(&errs, name);
		hha_errs_free(&errs);
		json_object_put(root);
		return r;
	}
	cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->path = strdup(name))) {
		free(cfg);
		json_object_put(root);
		return hha_error(-ENOMEM, NULL, "out of memory");
	}
	cfg->root = root;
	*out = cfg;
	hha_dbg(ctx, "core", "configuration %s loaded", name);
	return 0;
}

HHA_EXPORT int hha_config_load_string(struct hha_ctx *ctx, const char *text, const char *name,
				      struct hha_config **out)
{
	int r = load(ctx, text, name ? name : "<string>", out);

	return r < 0 ? hha_error_wrap(r, __func__) : 0;
}

HHA_EXPORT int hha_config_load(struct hha_ctx *ctx, const char *path, struct hha_config **out)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	if (!path)
		path = HHA_CONFIG_DEFAULT_PATH;
	r = hha_read_file(path, CONF_MAX_BYTES, &text, &len);
	if (r < 0)
		return hha_error(r, __func__, "%s: %s", path, hha_strerror(r));
	if (strlen(text) != len) {
		free(text);
		return hha_error(-HHA_ECONFIG, __func__, "%s: contains a NUL byte", path);
	}
	r = load(ctx, text, path, out);
	free(text);
	return r < 0 ? hha_error_wrap(r, __func__) : 0;
}

HHA_EXPORT void hha_config_free(struct hha_config *cfg)
{
	if (!cfg)
		return;
	json_object_put(cfg->root);
	free(cfg->path);
	free(cfg);
}

HHA_EXPORT const char *hha_config_path(const struct hha_config *cfg)
{
	return cfg->path;
}

HHA_EXPORT int hha_config_to_json(const struct hha_config *cfg, char **out)
{
	const char *s = json_object_to_json_string_ext(cfg->root, JSON_C_TO_STRING_PRETTY |
								     JSON_C_TO_STRING_NOSLASHESCAPE);
	*out = strdup(s);
	return *out ? 0 : hha_error(-ENOMEM, __func__, "out of memory");
}

json_object *hha_conf_section(const struct hha_config *cfg, const char *name)
{
	return hha_json_get(cfg->root, name);
}

json_object *hha_conf_node(const struct hha_config *cfg, const char *name)
{
	return hha_json_get(hha_conf_section(cfg, "nodes"), name);
}
