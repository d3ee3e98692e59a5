/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Ping nodes: ICMP echo to a few addresses, counting how many answer. */
#ifndef HHA_NET_PING_H
#define HHA_NET_PING_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/internal.h"

#define HB_MAX_PING 16

struct hb_ping {
	int fd4, fd6;
	bool raw4, raw6;     /* SOCK_RAW: we fill id (and the v4 checksum) and filter replies */
	uint16_t ident;
	uint16_t seq;
	int interval_ms;
	int64_t next_send;
	size_t n;
	struct {
		struct sockaddr_storage sa;
		socklen_t salen;
		char text[64];
		int64_t last_reply; /* -1 never */
		uint64_t sent, received;
	} t[HB_MAX_PING];
};

void hb_ping_init(struct hb_ping *p, int interval_ms);
/* Add a target (literal address). 0, -EINVAL, -ENOSPC. */
int hb_ping_add(struct hb_ping *p, const char *addr);
/* Open the sockets needed (unprivileged ICMP sockets, else raw). 0 or -errno (message set). */
int hb_ping_open(struct hb_ping *p, const struct hha_ctx *ctx);
void hb_ping_close(struct hb_ping *p);
/*
 * Replace @old (running) by @next (targets added, nothing opened): targets
 * kept keep their counters and last reply, sockets still needed are kept,
 * missing ones opened. On error (message set) @old is unchanged.
 */
int hb_ping_adopt(struct hb_ping *old, struct hb_ping *next, const struct hha_ctx *ctx);
/* Send echoes when due and read replies (non-blocking). */
void hb_ping_dispatch(struct hb_ping *p, int64_t now);
int64_t hb_ping_deadline(const struct hb_ping *p);
/* Targets that answered within the last three intervals. */
int hb_ping_reached(const struct hb_ping *p, int64_t now);

#endif /* HHA_NET_PING_H */
