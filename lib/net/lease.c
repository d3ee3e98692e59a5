/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Witness leases: the witness grants one time-bounded token at a time; holders count conservatively. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "net/hb-proto.h"
#include "net/lease.h"

int hb_lease_encode(const struct hb_lease_msg *m, uint8_t *b, size_t cap)
{
	if (m->kind == HB_LEASE_REQUEST) {
		if (cap < HB_LEASE_REQ_LEN)
			return -EMSGSIZE;
		b[0] = HB_LEASE_REQUEST;
		b[1] = m->want ? 1 : 0;
		hha_put_be16(b + 2, 0);
		hha_put_be64(b + 4, m->epoch);
		return HB_LEASE_REQ_LEN;
	}
	if (cap < HB_LEASE_GRANT_LEN)
		return -EMSGSIZE;
	b[0] = HB_LEASE_GRANT;
	b[1] = 0;
	hha_put_be16(b + 2, m->holder);
	hha_put_be64(b + 4, m->epoch);
	hha_put_be32(b + 12, m->duration_ms);
	hha_put_be64(b + 16, m->echo_seq);
	hha_put_be32(b + 24, m->remaining_ms);
	return HB_LEASE_GRANT_LEN;
}

int hb_lease_decode(const uint8_t *p, size_t len, struct hb_lease_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len == HB_LEASE_REQ_LEN && p[0] == HB_LEASE_REQUEST) {
		m->kind = HB_LEASE_REQUEST;
		m->want = p[1] & 1;
		m->epoch = hha_get_be64(p + 4);
		return 0;
	}
	if (len == HB_LEASE_GRANT_LEN && p[0] == HB_LEASE_GRANT) {
		m->kind = HB_LEASE_GRANT;
		m->holder = hha_get_be16(p + 2);
		m->epoch = hha_get_be64(p + 4);
		m->duration_ms = hha_get_be32(p + 12);
		m->echo_seq = hha_get_be64(p + 16);
		m->remaining_ms = hha_get_be32(p + 24);
		return 0;
	}
	return -EINVAL;
}

int64_t hb_lease_margin(int64_t dur_ms)
{
	/* Both clocks may be off by the drift in opposite directions, plus 1 ms of rounding. */
	return dur_ms * 2 * HB_LEASE_DRIFT_PPM / 1000000 + 1;
}

/*
 * The witness's grant machine.
 *
 *   state | event                                   | next  | action
 *   ------+-----------------------------------------+-------+---------------------------
 *   quiet | tick, now >= start + dur + margin       | free  |
 *   quiet | request                                 | quiet | (refused: an old lease may run)
 *   free  | request(want) from N                    | held  | holder = N, epoch++, expires = now + dur
 *   held  | request(want) from holder               | held  | expires = now + dur (renew)
 *   held  | request(want) from another node         | held  | (refused)
 *   held  | request(!want) from holder              | free  | (the holder stopped first)
 *   held  | tick, now >= expires + margin           | free  |
 *
 * "now" is the witness's receive time, which is after the holder sent the
 * request; the holder counts its lease from its send time, so its lease
 * always ends first (docs/witness-lease.md).
 */
void hb_lease_witness_init(struct hb_lease_witness *w, int64_t now, int64_t dur_ms,
			   uint64_t incarnation)
{
	memset(w, 0, sizeof(*w));
	w->state = HB_WITNESS_QUIET;
	w->dur_ms = dur_ms;
	w->quiet_until = now + dur_ms + hb_lease_margin(dur_ms);
	/*
	 * Epochs never repeat across witness restarts: the incarnation (wall-clock
	 * ms at start, about 2^41 today) in the top 44 bits, 2^20 grants per life
	 * below it. Shifting the whole incarnation by more would overflow 64 bits
	 * and lose the very bits that tell two lives apart.
	 */
	w->epoch = (incarnation & HB_LEASE_INC_MASK) << HB_LEASE_GRANT_BITS;
}

void hb_lease_witness_tick(struct hb_lease_witness *w, int64_t now)
{
	if (w->state == HB_WITNESS_QUIET && now >= w->quiet_until)
		w->state = HB_WITNESS_FREE;
	if (w->state == HB_WITNESS_HELD && now >= w->expires + w->margin) {
		w->state = HB_WITNESS_FREE;
		w->holder = 0;
	}
}

void hb_lease_witness_request(struct hb_lease_witness *w, uint16_t node, uint64_t incarnation,
			      uint64_t seq, bool want, int64_t now)
{
	uint8_t n = (uint8_t)node;

	/* A request overtaken by a newer one from the same start (another link) is stale. */
	if (incarnation < w->last[n].incarnation ||
	    (incarnation == w->last[n].incarnation && seq <= w->last[n].seq))
		return;
	w->last[n].incarnation = incarnation;
	w->last[n].seq = seq;
	hb_lease_witness_tick(w, now);
	switch (w->state) {
	case HB_WITNESS_QUIET:
		break;
	case HB_WITNESS_FREE:
		if (!want)
			break;
		w->state = HB_WITNESS_HELD;
		w->holder = node;
		w->epoch++;
		w->expires = now + w->dur_ms;
		w->held_dur = w->dur_ms;
		w->margin = hb_lease_margin(w->dur_ms);
		w->echo_seq = seq;
		break;
	case HB_WITNESS_HELD:
		if (node != w->holder)
			break;
		if (want) {
			/*
			 * Each grant names its duration, so one changed by a reload
			 * applies from here; a shorter one never pulls the end of
			 * what an earlier grant promised closer.
			 */
			if (now + w->dur_ms > w->expires)
				w->expires = now + w->dur_ms;
			w->held_dur = w->dur_ms;
			if (hb_lease_margin(w->dur_ms) > w->margin)
				w->margin = hb_lease_margin(w->dur_ms);
			w->echo_seq = seq;
		} else {
			w->state = HB_WITNESS_FREE;
			w->holder = 0;
		}
		break;
	}
}

void hb_lease_witness_msg(const struct hb_lease_witness *w, int64_t now, struct hb_lease_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->kind = HB_LEASE_GRANT;
	m->epoch = w->epoch;
	if (w->state != HB_WITNESS_HELD)
		return;
	m->holder = w->holder;
	m->duration_ms = (uint32_t)w->held_dur;
	m->echo_seq = w->echo_seq;
	m->remaining_ms = w->expires > now ? (uint32_t)(w->expires - now) : 0;
}

int64_t hb_lease_witness_deadline(const struct hb_lease_witness *w)
{
	if (w->state == HB_WITNESS_QUIET)
		return w->quiet_until;
	if (w->state == HB_WITNESS_HELD)
		return w->expires + w->margin;
	return -1;
}

void hb_lease_client_init(struct hb_lease_client *c)
{
	memset(c, 0, sizeof(*c));
}

void hb_lease_client_want(struct hb_lease_client *c, bool want)
{
	c->want = want;
	if (!want)
		c->valid_until = 0; /* stop using it before telling the witness */
}

void hb_lease_client_sent(struct hb_lease_client *c, uint64_t seq, int64_t now)
{
	c->ring[c->ring_pos].seq = seq;
	c->ring[c->ring_pos].sent = now;
	c->ring_pos = (c->ring_pos + 1) % HB_LEASE_RING;
}

void hb_lease_client_grant(struct hb_lease_client *c, uint16_t self, const struct hb_lease_msg *g)
{
	int64_t end;

	c->holder = g->holder;
	if (g->holder != self || !c->want) {
		/* The witness says we do not hold it: believe it at once. */
		c->valid_until = 0;
		return;
	}
	for (unsigned i = 0; i < HB_LEASE_RING; i++) {
		if (c->ring[i].seq == 0 || c->ring[i].seq != g->echo_seq)
			continue;
		/* Count from when we sent the request, minus the drift margin. */
		end = c->ring[i].sent + g->duration_ms - hb_lease_margin(g->duration_ms);
		if (g->epoch != c->epoch || end > c->valid_until)
			c->valid_until = end;
		c->epoch = g->epoch;
		return;
	}
	/* A grant answering a round we no longer remember is too old to extend anything. */
}

bool hb_lease_client_held(const struct hb_lease_client *c, int64_t now)
{
	return c->want && c->valid_until > now;
}

void hb_lease_client_msg(const struct hb_lease_client *c, struct hb_lease_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->kind = HB_LEASE_REQUEST;
	m->want = c->want;
	m->epoch = c->valid_until ? c->epoch : 0;
}
