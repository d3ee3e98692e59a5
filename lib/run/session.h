/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The node side of a launch: run the command as the user and pump its streams (in a helper process). */
#ifndef HHA_RUN_SESSION_H
#define HHA_RUN_SESSION_H

#include <stdbool.h>

#include <hybridha/ctx.h>

#include "run/crypto.h"
#include "run/proto.h"

/* A TCP connection to ADDR:PORT (IPv4 or IPv6 literal), non-blocking, in progress. 0 or -errno. */
int hha_run_connect(const char *addr, int port, int *out);
/* Keep-alives and no Nagle delay: a dead peer is noticed, keystrokes go at once. */
void hha_run_sock_tune(int fd);

struct hha_run_session_setup {
	int sock;                     /* the connection; the hello has been sent */
	struct hha_run_dirkey c2s, s2c;
	struct hha_run_request rq;    /* the launch */
	bool allow_root;
	const char *node;             /* this node's name, for messages */
	int report_fd;                /* JSON lines for hhad's log, or -1 */
};

/*
 * Serve one session to its end: look the user up, start the command in its
 * own session and process group, pump the streams, forward signals, send the
 * exit status; if the client goes away, hang up and then kill the process
 * group. Meant for a helper process: it changes credentials (to the user,
 * once the command runs), signal dispositions and the environment.
 * Returns the helper's exit code (0 when the session ran its course).
 */
int hha_run_session_serve(struct hha_ctx *ctx, struct hha_run_session_setup *s);

/* Pack a session setup for the helper (JSON text; the caller frees it), and unpack it. */
char *hha_run_setup_pack(const struct hha_run_session_setup *s, const uint8_t *body, size_t len,
			 unsigned session_id);
int hha_run_setup_unpack(const char *text, struct hha_run_session_setup *s, char **node,
			 unsigned *session_id);

#endif /* HHA_RUN_SESSION_H */
