/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Membership internals shared by membership.c, its payload/lease part and the unit tests. */
#ifndef HHA_NET_MEMBERSHIP_INT_H
#define HHA_NET_MEMBERSHIP_INT_H

#include <netinet/in.h>
#include <sys/socket.h>

#include <hybridha/membership.h>

#include "core/internal.h"
#include "net/hb-proto.h"
#include "net/lease.h"
#include "net/member-fsm.h"
#include "net/ping.h"

#define HB_MAX_TLVS 32

struct hb_link {
	int fd;                 /* -1 in a plan */
	char spec[80];          /* as configured ("ADDR" or "ADDR:PORT") */
	struct sockaddr_storage local;
	socklen_t locallen;
	char addr[64]; /* our address, text, for people */
	int port;
	bool carrier;
};

/* Sliding replay window: the newest sequence seen and a bitmap of the 64 below it. */
struct hb_window {
	uint64_t top;
	uint64_t bits;
};

struct hb_peer {
	unsigned id;
	char *name;
	bool has[HB_MAX_LINKS];
	struct sockaddr_storage sa[HB_MAX_LINKS];
	socklen_t salen[HB_MAX_LINKS];
	struct hb_link_fsm fsm[HB_MAX_LINKS];
	struct hb_window win[HB_MAX_LINKS];
	uint64_t rx[HB_MAX_LINKS];
	enum hha_member_state state;
	bool ever_heard, leaving;
	bool known;               /* incarnation was learned from an authentic datagram */
	uint64_t incarnation;     /* newest authentic one (or the stored floor); echoed back */
	uint64_t accepted_inc;    /* the incarnation whose datagrams last counted, 0 none */
	int64_t last_heard;
	int ping_reached;
	uint8_t payload[HB_MAX_PAYLOAD]; /* its last TLV area, from its current incarnation */
	size_t plen;
};

struct hb_tlv {
	uint8_t type;
	uint16_t len;
	uint8_t *data;
};

struct hha_membership {
	struct hha_ctx *ctx;
	struct hha_membership_opts o;
	char *cluster_name, *state_dir;
	uint32_t cluster;
	struct hb_timers timers;
	struct hb_keyring keys;
	struct hb_link link[HB_MAX_LINKS];
	size_t nlinks;
	struct hb_peer *peers[255];
	size_t npeers;
	struct hb_peer *by_id[256];
	bool running, stopped;
	bool prompt;              /* a peer does not know our incarnation yet: answer early */
	uint64_t incarnation, seq;
	int64_t started, next_send, last_prompt;
	struct hb_tlv tlv[HB_MAX_TLVS];
	size_t ntlv;
	struct hha_membership_counters cnt;
	struct hb_ping ping;
	struct hb_lease_witness witness;
	struct hb_lease_client lease;
	uint64_t floor[256];
	hha_member_cb cb;
	void *cb_ud;
};

int64_t hb_now(const struct hha_membership *m);
/* "ADDR", "ADDR:PORT", "[V6]:PORT" -> sockaddr (port 0 allowed). 0 or -EINVAL. */
int hb_parse_sockaddr(const char *s, unsigned def_port, struct sockaddr_storage *ss,
		      socklen_t *len);
bool hb_sa_equal(const struct sockaddr *a, const struct sockaddr_storage *b);
/* Open and bind the socket of @l (l->local parsed from @local). 0 or -errno (message set). */
int hb_link_open(struct hb_link *l, const char *local);
/* Fold a peer's links into its node state and report a change with @reason. */
void hb_refold(struct hha_membership *m, struct hb_peer *p, const char *reason);

/*
 * Handle one datagram as if it arrived on @link from @from at @now: the whole
 * receive path (checks, counters, state changes). Returns the counter it went
 * to as an index: 0 accepted, else a drop reason (enum hb_drop).
 */
enum hb_drop {
	HB_ACCEPTED = 0,
	HB_DROP_MALFORMED,
	HB_DROP_OTHER_CLUSTER,
	HB_DROP_UNKNOWN_KEY,
	HB_DROP_BAD_MAC,
	HB_DROP_UNKNOWN_NODE,
	HB_DROP_WRONG_LINK,
	HB_DROP_OLD_INCARNATION,
	HB_DROP_REPLAY,
	HB_DROP_STALE_ECHO,
};
enum hb_drop hb_membership_input(struct hha_membership *m, unsigned link,
				 const struct sockaddr *from, socklen_t fromlen, const uint8_t *buf,
				 size_t len, int64_t now);
/*
 * Build the datagram @m would send to @peer on @link for round @seq with
 * @flags. Returns its length or a negative code.
 */
int hb_membership_build(struct hha_membership *m, unsigned peer, unsigned link, uint64_t seq,
			uint8_t flags, uint8_t *out, size_t cap);

/* Payload and lease part (membership-payload.c). */
int hb_payload_build(struct hha_membership *m, uint8_t *out, size_t cap);
/* Consume a peer's accepted payload: store it, read its lease and ping TLVs. */
void hb_payload_received(struct hha_membership *m, struct hb_peer *p, const struct hb_hdr *h,
			 const uint8_t *payload, int64_t now);
void hb_payload_free(struct hha_membership *m);
/* Append the echo TLV for peer @p (its incarnation as we know it, 0 if unknown). */
int hb_payload_put_echo(const struct hb_peer *p, uint8_t *buf, size_t cap, size_t *off);
/* The echoed incarnation in a valid TLV area; 0 when absent or malformed. */
uint64_t hb_payload_echo(const uint8_t *payload, size_t len);

/* Accept or reject @seq in a replay window. */
bool hb_window_check(struct hb_window *w, uint64_t seq);

#endif /* HHA_NET_MEMBERSHIP_INT_H */
