/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Example: validate a hybridha.conf with the library and print it with defaults filled in.
 *
 * Build against an installed libhybridha:
 *   cc config-check.c $(pkg-config --cflags --libs hybridha) -o config-check
 */
#include <stdio.h>
#include <stdlib.h>

#include <hybridha/hybridha.h>

int main(int argc, char **argv)
{
	struct hha_config *cfg = NULL;
	struct hha_ctx *ctx = NULL;
	char *json = NULL;
	int ret = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: %s FILE\n", argv[0]);
		return 2;
	}
	if (hha_ctx_new(&ctx) < 0) {
		fprintf(stderr, "%s\n", hha_last_error());
		return 1;
	}
	if (hha_config_load(ctx, argv[1], &cfg) < 0) {
		/* Every problem, one per line, each naming the file and key. */
		fprintf(stderr, "%s\n", hha_last_error());
		goto out;
	}
	if (hha_config_to_json(cfg, &json) < 0) {
		fprintf(stderr, "%s\n", hha_last_error());
		goto out;
	}
	printf("%s\n", json);
	ret = 0;
out:
	free(json);
	hha_config_free(cfg);
	hha_ctx_free(ctx);
	return ret;
}
