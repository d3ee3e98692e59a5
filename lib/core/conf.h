/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The validated configuration as the daemon's modules read it. */
#ifndef HHA_CORE_CONF_H
#define HHA_CORE_CONF_H

#include <json-c/json.h>

#include <hybridha/config.h>

#include "core/schema.h"

/*
 * A loaded configuration is its validated, normalised JSON tree: every key
 * the schema (conf-schema.c) gives a default is present, sizes are integers,
 * and the cross-checks (node ids unique, references resolve, timer ordering)
 * have passed. Modules read it with hha_json_* helpers and need not handle
 * missing or mistyped values. The tree is owned by the configuration.
 */
struct hha_config {
	char *path;
	json_object *root;
};

/* The schema of the whole file, and the semantic checks run after it. */
extern const struct hha_schema hha_conf_schema;
void hha_conf_check(json_object *root, struct hha_errs *errs);

/* Sections of a validated configuration (never NULL; empty objects when unused). */
json_object *hha_conf_section(const struct hha_config *cfg, const char *name);
/* One node's object by name, or NULL. */
json_object *hha_conf_node(const struct hha_config *cfg, const char *name);

#endif /* HHA_CORE_CONF_H */
