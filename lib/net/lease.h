/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Witness leases carried in heartbeats: the witness's grant machine and the holder's view. */
#ifndef HHA_NET_LEASE_H
#define HHA_NET_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Clock rate margin (parts per million) assumed between any two nodes'
 * CLOCK_MONOTONIC; NTP slews at most 500 ppm, so 1000 ppm per side covers
 * an adjusted clock on each end. docs/witness-lease.md derives the rules.
 */
#define HB_LEASE_DRIFT_PPM 1000

enum hb_lease_kind {
	HB_LEASE_REQUEST = 1, /* node -> witness: I want (or release) the lease */
	HB_LEASE_GRANT = 2,   /* witness -> everyone: who holds it, answering which request */
};

/* A witness's epochs: its incarnation's low 44 bits, then a 20-bit grant counter. */
#define HB_LEASE_GRANT_BITS 20
#define HB_LEASE_INC_MASK ((UINT64_C(1) << (64 - HB_LEASE_GRANT_BITS)) - 1)

#define HB_LEASE_REQ_LEN 12
#define HB_LEASE_GRANT_LEN 28

struct hb_lease_msg {
	uint8_t kind;
	bool want;            /* REQUEST */
	uint16_t holder;      /* GRANT: 0 = nobody */
	uint64_t epoch;       /* REQUEST: the epoch the node holds (0 none); GRANT: current */
	uint32_t duration_ms; /* GRANT: lease length from the answered request */
	uint64_t echo_seq;    /* GRANT: the holder's heartbeat round this renewal answers */
	uint32_t remaining_ms;/* GRANT: the witness's view of the time left (informative) */
};

/* Encode into @buf; returns the length or -EMSGSIZE. */
int hb_lease_encode(const struct hb_lease_msg *msg, uint8_t *buf, size_t cap);
/* Decode one TLV value; 0 or -EINVAL (wrong length or kind). */
int hb_lease_decode(const uint8_t *p, size_t len, struct hb_lease_msg *msg);

/* States of the witness's grant machine. */
enum hb_witness_state {
	HB_WITNESS_QUIET, /* just started: a lease granted before a crash may still run */
	HB_WITNESS_FREE,  /* nobody holds the lease */
	HB_WITNESS_HELD,  /* one node holds it until expires (+ margin) */
};

struct hb_lease_witness {
	enum hb_witness_state state;
	int64_t dur_ms;       /* for grants from now on (a reload may change it) */
	uint16_t holder;
	uint64_t epoch;
	int64_t expires;      /* witness time the holder's lease ends at the latest */
	int64_t held_dur;     /* the duration the last grant or renewal was made for */
	int64_t margin;       /* drift margin kept since the grant (the largest one) */
	int64_t quiet_until;
	uint64_t echo_seq;
	struct {
		uint64_t incarnation, seq; /* newest request seen, to ignore reordered old ones */
	} last[256];
};

void hb_lease_witness_init(struct hb_lease_witness *w, int64_t now, int64_t dur_ms,
			   uint64_t incarnation);
/* A request heard from @node (its heartbeat's incarnation and round). */
void hb_lease_witness_request(struct hb_lease_witness *w, uint16_t node, uint64_t incarnation,
			      uint64_t seq, bool want, int64_t now);
/* Time passed: end a quiet period or an expired lease. */
void hb_lease_witness_tick(struct hb_lease_witness *w, int64_t now);
/* The grant to publish now. */
void hb_lease_witness_msg(const struct hb_lease_witness *w, int64_t now, struct hb_lease_msg *msg);
/* When a tick may change something, or -1. */
int64_t hb_lease_witness_deadline(const struct hb_lease_witness *w);
/* Regrant delay after an expiry: the holder's clock may run slow by the drift margin. */
int64_t hb_lease_margin(int64_t dur_ms);

/* A node's view of its own lease. */
#define HB_LEASE_RING 64
struct hb_lease_client {
	bool want;
	uint16_t holder;      /* from the last grant heard */
	uint64_t epoch;
	int64_t valid_until;  /* our time; 0 = not held */
	struct {
		uint64_t seq;
		int64_t sent;
	} ring[HB_LEASE_RING]; /* when we sent our recent rounds */
	unsigned ring_pos;
};

void hb_lease_client_init(struct hb_lease_client *c);
void hb_lease_client_want(struct hb_lease_client *c, bool want);
/* We sent heartbeat round @seq at @now (the request it carried starts a lease at the earliest then). */
void hb_lease_client_sent(struct hb_lease_client *c, uint64_t seq, int64_t now);
/* A grant from the witness arrived. */
void hb_lease_client_grant(struct hb_lease_client *c, uint16_t self, const struct hb_lease_msg *g);
bool hb_lease_client_held(const struct hb_lease_client *c, int64_t now);
void hb_lease_client_msg(const struct hb_lease_client *c, struct hb_lease_msg *msg);

#endif /* HHA_NET_LEASE_H */
