/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-link membership state machine and the rule that folds links into a node state. */
#ifndef HHA_NET_MEMBER_FSM_H
#define HHA_NET_MEMBER_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hybridha/membership.h>

struct hb_timers {
	int64_t warn_ms, dead_ms, initdead_ms;
};

enum hb_link_event {
	HB_EV_PACKET,       /* an accepted heartbeat arrived on the link */
	HB_EV_TICK,         /* time passed; check silence */
	HB_EV_CARRIER_DOWN, /* our interface lost its carrier */
	HB_EV_CARRIER_UP,   /* it came back */
	HB_EV_LEAVE,        /* the peer said goodbye */
};

struct hb_link_fsm {
	enum hha_member_state state;
	int64_t last_rx;  /* monotonic ms of the last accepted packet, -1 never */
	int64_t since;    /* start of the current silence window when never heard */
};

/* A link as it is at membership start (@now). */
void hb_link_init(struct hb_link_fsm *l, int64_t now);
/* Apply @ev at @now; returns the new state (also stored in l->state). */
enum hha_member_state hb_link_step(struct hb_link_fsm *l, enum hb_link_event ev, int64_t now,
				   const struct hb_timers *t);
/* When a TICK may next change the link's state, or -1 (never without an event). */
int64_t hb_link_deadline(const struct hb_link_fsm *l, const struct hb_timers *t);
/*
 * The node's state from its links: up if any link is up, else late if any is
 * late, else init while it was never heard and initdead has not passed, else
 * dead. @leaving: it said goodbye (dead until it is heard again).
 */
enum hha_member_state hb_node_state(const struct hb_link_fsm *links, size_t n, bool ever_heard,
				    bool leaving);

#endif /* HHA_NET_MEMBER_FSM_H */
