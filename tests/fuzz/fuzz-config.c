/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: configuration text (syntax, schema validation, cross-checks). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <hybridha/hybridha.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hha_ctx *ctx;
	struct hha_config *cfg = NULL;
	char *text;

	if (!ctx) {
		if (hha_ctx_new(&ctx) < 0)
			return 0;
		hha_ctx_set_log_fn(ctx, NULL, NULL);
	}
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (hha_config_load_string(ctx, text, "fuzz.conf", &cfg) == 0) {
		char *json = NULL;
		hha_config_to_json(cfg, &json);
		free(json);
		hha_config_free(cfg);
	}
	free(text);
	return 0;
}
