/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon's link to the local hhad: connect, ask every status verb, notice loss, reconnect. */
#ifndef HHA_MON_SOURCE_H
#define HHA_MON_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include <hybridha/hybridha.h>

#include "mon/snapshot.h"

/*
 * Connection states; one transition per mon_conn_poll():
 *
 *   state  event                              next   action
 *   DOWN   connect + hello succeed            UP     ask every verb
 *   DOWN   connect or hello fails             DOWN   attempts++, why = the error
 *   UP     every verb answered (ok or error)  UP     snapshot filled
 *   UP     transport error (reset, timeout,   DOWN   close, attempts = 1, why = the error
 *          malformed reply, version)
 *
 * A verb's own error (unknown command, permission) is not a lost
 * connection: it makes that part of the snapshot "not available".
 */
enum mon_conn_state { MON_CONN_DOWN, MON_CONN_UP };

struct mon_conn {
	struct hha_ctx *ctx;    /* borrowed */
	const char *socket;     /* borrowed; NULL = the default */
	int timeout_ms;         /* per call */
	struct hha_ctl *ctl;
	enum mon_conn_state state;
	unsigned attempts;      /* failed attempts since the connection was lost */
	int err;                /* the last transport error, negative */
	char why[160];          /* ... for people */
	char node[MON_NAME_MAX]; /* the node name hello reported */
};

void mon_conn_init(struct mon_conn *c, struct hha_ctx *ctx, const char *socket, int timeout_ms);
void mon_conn_close(struct mon_conn *c);

/*
 * Take a snapshot: connect if needed, then ask each source's verb. On 0 @out
 * (cleared first) holds the new snapshot. On a transport failure returns
 * the negative error, leaves the connection DOWN with c->why set, and
 * clears @out.
 */
int mon_conn_poll(struct mon_conn *c, struct mon_snapshot *out);

#endif /* HHA_MON_SOURCE_H */
