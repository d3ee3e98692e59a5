/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Example: ask the local hhad for its status over the control socket, then
 * print events as they arrive (with --follow).
 *
 * Build against an installed libhybridha:
 *   cc ctl-status.c $(pkg-config --cflags --libs hybridha) -o ctl-status
 * Run: ./ctl-status [SOCKET] [--follow]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hybridha/hybridha.h>

int main(int argc, char **argv)
{
	const char *sock = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
	int follow = argc > 1 && strcmp(argv[argc - 1], "--follow") == 0;
	struct hha_ctx *ctx = NULL;
	struct hha_ctl *ctl = NULL;
	char *result = NULL;
	int r, ret = 1;

	if (hha_ctx_new(&ctx) < 0)
		return 1;
	r = hha_ctl_open(ctx, sock, &ctl);
	if (r < 0) {
		fprintf(stderr, "%s\n", hha_last_error());
		goto out;
	}
	r = hha_ctl_call(ctl, "status", NULL, 5000, &result);
	if (r < 0) {
		/* The daemon's own words, and a code scripts can test. */
		fprintf(stderr, "status failed (%s): %s\n", hha_error_name(r), hha_last_error());
		goto out;
	}
	printf("hhad %s: %s\n", hha_ctl_server_version(ctl), result);
	if (follow) {
		if (hha_ctl_subscribe(ctl, NULL) < 0) {
			fprintf(stderr, "%s\n", hha_last_error());
			goto out;
		}
		for (;;) {
			char *ev = NULL;
			if (hha_ctl_next_event(ctl, -1, &ev) < 0)
				break;
			printf("%s\n", ev);
			free(ev);
		}
	}
	ret = 0;
out:
	free(result);
	hha_ctl_close(ctl);
	hha_ctx_free(ctx);
	return ret;
}
