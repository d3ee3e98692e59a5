/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The per-link membership state machine (pure: time comes in as an argument). */
#include "config.h"

#include "net/member-fsm.h"

/*
 * Transition table of one link of one peer. "silence" is now - last_rx, or
 * now - since while the link was never heard.
 *
 *   state  | event                         | next
 *   -------+-------------------------------+------
 *   init   | packet                        | up
 *   init   | tick, silence >= initdead     | dead
 *   up     | packet                        | up
 *   up     | tick, silence >= warntime     | late (dead if >= deadtime: a stall)
 *   late   | packet                        | up
 *   late   | tick, silence >= deadtime     | dead
 *   dead   | packet                        | up
 *   any    | carrier down                  | down
 *   down   | carrier up                    | dead (silent until heard again)
 *   down   | packet                        | up (the carrier report was stale)
 *   any    | leave (goodbye)               | dead
 */

void hb_link_init(struct hb_link_fsm *l, int64_t now)
{
	l->state = HHA_MEMBER_INIT;
	l->last_rx = -1;
	l->since = now;
}

static enum hha_member_state by_silence(const struct hb_link_fsm *l, int64_t now,
					const struct hb_timers *t)
{
	int64_t silence = now - l->last_rx;

	if (silence >= t->dead_ms)
		return HHA_MEMBER_DEAD;
	if (silence >= t->warn_ms)
		return HHA_MEMBER_LATE;
	return HHA_MEMBER_UP;
}

enum hha_member_state hb_link_step(struct hb_link_fsm *l, enum hb_link_event ev, int64_t now,
				   const struct hb_timers *t)
{
	switch (ev) {
	case HB_EV_PACKET:
		l->last_rx = now;
		l->state = HHA_MEMBER_UP;
		break;
	case HB_EV_CARRIER_DOWN:
		l->state = HHA_MEMBER_DOWN;
		break;
	case HB_EV_CARRIER_UP:
		if (l->state == HHA_MEMBER_DOWN)
			l->state = HHA_MEMBER_DEAD;
		break;
	case HB_EV_LEAVE:
		l->state = HHA_MEMBER_DEAD;
		break;
	case HB_EV_TICK:
		if (l->state == HHA_MEMBER_INIT) {
			if (now - l->since >= t->initdead_ms)
				l->state = HHA_MEMBER_DEAD;
		} else if (l->state == HHA_MEMBER_UP || l->state == HHA_MEMBER_LATE) {
			/* Silence only ever makes a link worse; only a packet makes it better. */
			enum hha_member_state s = by_silence(l, now, t);
			if (s > l->state)
				l->state = s;
		}
		break;
	}
	return l->state;
}

int64_t hb_link_deadline(const struct hb_link_fsm *l, const struct hb_timers *t)
{
	switch (l->state) {
	case HHA_MEMBER_INIT:
		return l->since + t->initdead_ms;
	case HHA_MEMBER_UP:
		return l->last_rx + t->warn_ms;
	case HHA_MEMBER_LATE:
		return l->last_rx + t->dead_ms;
	default:
		return -1;
	}
}

enum hha_member_state hb_node_state(const struct hb_link_fsm *links, size_t n, bool ever_heard,
				    bool leaving)
{
	bool any_late = false, any_init = false;

	for (size_t i = 0; i < n; i++) {
		if (links[i].state == HHA_MEMBER_UP && !leaving)
			return HHA_MEMBER_UP;
		any_late |= links[i].state == HHA_MEMBER_LATE;
		any_init |= links[i].state == HHA_MEMBER_INIT;
	}
	if (leaving)
		return HHA_MEMBER_DEAD;
	if (any_late)
		return HHA_MEMBER_LATE;
	/* A node heard before is dead once no link is up or late: a link still in
	 * init was silent since start, longer than deadtime. */
	if (any_init && !ever_heard)
		return HHA_MEMBER_INIT;
	return HHA_MEMBER_DEAD;
}
