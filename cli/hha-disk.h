/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-disk's shared parts: argument parsing and output for people. */
#ifndef HHA_DISK_CLI_H
#define HHA_DISK_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"

/* "600M", "4K", "1G", "123" (bytes); "unlimited" = 0 when @unlimited. 0 or -1. */
int disk_parse_size(const char *s, bool unlimited, uint64_t *out);
/* "5000", "500ms", "5s", "1.5s" into milliseconds. 0 or -1. */
int disk_parse_ms(const char *s, int64_t *out);

/* The one-line-per-device status (with a progress line while syncing). */
void disk_print_status(json_object *st);
/* One event as a line for people. */
void disk_print_event(json_object *ev);
void disk_print_show(json_object *cfg);
/* dump-md for people: one "field: value" line each. */
void disk_print_md(json_object *md);

#endif /* HHA_DISK_CLI_H */
