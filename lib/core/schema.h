/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A small schema language for validating and normalising JSON configuration trees. */
#ifndef HHA_CORE_SCHEMA_H
#define HHA_CORE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <json-c/json.h>

enum hha_sch_type {
	HHA_SCH_OBJECT,   /* fixed keys, described by .fields */
	HHA_SCH_MAP,      /* keys are names (HHA_SCH_NAME rules), each value per .item */
	HHA_SCH_ARRAY,    /* each element per .item; min..max bound the length */
	HHA_SCH_STRING,   /* min..max bound the length in bytes (max 0 = 4096) */
	HHA_SCH_NAME,     /* [A-Za-z0-9_.-], 1..63 bytes, not starting with '-' or '.' */
	HHA_SCH_PATH,     /* an absolute path */
	HHA_SCH_INT,      /* min..max */
	HHA_SCH_NUMBER,   /* a JSON number (integer or fraction), min..max */
	HHA_SCH_BOOL,
	HHA_SCH_ENUM,     /* one of .choices */
	HHA_SCH_SIZE,     /* bytes: integer or "600M"; normalised to an integer */
	HHA_SCH_IPADDR,   /* IPv4 or IPv6 literal */
	HHA_SCH_IPPREFIX, /* ADDR/PREFIXLEN */
	HHA_SCH_HOSTPORT, /* "ADDR:PORT", "[V6]:PORT"; ADDR alone if .min (the default port) > 0 */
};

enum {
	HHA_SCH_REQUIRED = 1 << 0,  /* absent is an error */
	HHA_SCH_ABSENT_OK = 1 << 1, /* OBJECT: stays absent instead of being made with defaults */
	HHA_SCH_UNLIMITED = 1 << 2, /* SIZE: "unlimited" is accepted and stored as 0 */
};

struct hha_schema {
	const char *key;                 /* NULL ends a field list */
	enum hha_sch_type type;
	unsigned flags;
	int64_t min, max;                /* meaning depends on the type; 0,0 = no bound */
	const char *def;                 /* default as JSON text, or NULL */
	const char *const *choices;      /* ENUM: NULL-terminated */
	const struct hha_schema *sub;    /* OBJECT: field list; MAP/ARRAY: one item schema */
	const char *doc;                 /* one line for people */
};

/* Collected error messages, each "PATH: what is wrong". */
struct hha_errs {
	char **v;
	size_t n;
};

void hha_errs_add(struct hha_errs *e, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void hha_errs_free(struct hha_errs *e);

/*
 * Validate @in against @s. Returns a new, normalised tree (defaults filled
 * in, sizes as integers) that the caller puts with json_object_put(), or
 * NULL when errors were added to @errs. @path names @in in messages ("" for
 * the root).
 */
json_object *hha_schema_validate(const struct hha_schema *s, json_object *in, const char *path,
				 struct hha_errs *errs);

/* Helpers for semantic checks on validated trees (values are known present and typed). */
json_object *hha_json_get(json_object *o, const char *key);
const char *hha_json_str(json_object *o, const char *key);     /* NULL if absent */
int64_t hha_json_int(json_object *o, const char *key, int64_t dflt);
bool hha_json_bool(json_object *o, const char *key, bool dflt);

/* Parse "ADDR:PORT" / "[V6]:PORT" / "ADDR" (port = def_port). 0 or -EINVAL. */
int hha_parse_hostport(const char *s, int def_port, char *addr, size_t addrlen, int *port);

#endif /* HHA_CORE_SCHEMA_H */

/* Write a Markdown table of every key of @s (path, type, default, meaning) to @f. */
void hha_schema_print_markdown(const struct hha_schema *s, FILE *f);
