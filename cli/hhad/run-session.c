/* SPDX-License-Identifier: GPL-2.0-or-later */
/* `hhad --run-session`: the helper process that serves one launch, started by the run service. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "core/internal.h"
#include "core/util.h"
#include "run.h"
#include "run/proto.h"
#include "run/session.h"

/* fd 3: the client's connection (hello sent); fd 4: hhad (setup in, report lines out). */
int hhad_run_session_main(int argc, char **argv)
{
	struct hha_run_session_setup s = { .sock = 3, .report_fd = 4 };
	struct hha_ctx *ctx = NULL;
	uint8_t lenb[4];
	char *text = NULL, *node = NULL;
	unsigned id = 0;
	uint32_t len;
	int r = 1;

	if (argc != 2 || isatty(3) || hha_ctx_new(&ctx) < 0)
		return 2;
	/* openssl.cnf holds nothing this session needs; reading it costs milliseconds per launch. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	hha_set_cloexec(3, true);
	hha_set_cloexec(4, true);
	if (hha_read_full(4, lenb, 4) < 0)
		goto out;
	len = hha_get_be32(lenb);
	if (len > 4 * HHA_RUN_REQ_MAX || !(text = malloc(len + 1)) || hha_read_full(4, text, len) < 0)
		goto out;
	text[len] = '\0';
	if (hha_run_setup_unpack(text, &s, &node, &id) < 0) {
		hha_err(ctx, "run", "session helper: malformed setup from hhad");
		goto out;
	}
	OPENSSL_cleanse(text, len);
	r = hha_run_session_serve(ctx, &s);
out:
	hha_run_request_clear(&s.rq);
	free(text);
	free(node);
	hha_ctx_free(ctx);
	return r;
}
