/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The heartbeat datagram: fixed big-endian header, TLV payload, HMAC-SHA256 trailer. */
#ifndef HHA_NET_HB_PROTO_H
#define HHA_NET_HB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"

/*
 * Wire format (all integers big-endian), docs/membership.md has the rationale:
 *
 *   off len field
 *     0   4 magic        "HHB1"
 *     4   1 version      1
 *     5   1 key_id       which cluster key made the MAC (1..255)
 *     6   1 link         link index the sender sent this copy on (0..7)
 *     7   1 flags        HB_F_* (unknown bits are ignored)
 *     8   4 cluster      first 4 bytes of SHA-256(cluster name)
 *    12   2 sender       node id of the sender
 *    14   2 dest         node id the copy is addressed to (0 = any, multicast)
 *    16   8 incarnation  the sender's daemon start counter, only ever grows
 *    24   8 seq          the sender's round number; the same on every link
 *    32   8 timestamp    the sender's CLOCK_MONOTONIC in ms (for people, lease RTT)
 *    40   2 payload_len  bytes of TLV payload that follow the header
 *    42   2 reserved     0
 *    44   n payload      TLVs: type (1), length (2), value (length)
 *  44+n  32 mac          HMAC-SHA256 over bytes 0 .. 44+n-1
 */
#define HB_MAGIC 0x48484231u
#define HB_VERSION 1
#define HB_HDR_LEN 44
#define HB_MAC_LEN 32
#define HB_MAX_PAYLOAD 1024
#define HB_MAX_PACKET (HB_HDR_LEN + HB_MAX_PAYLOAD + HB_MAC_LEN)
#define HB_TLV_HDR 3
#define HB_MAX_LINKS 8

enum {
	HB_F_LEAVING = 1 << 0, /* the sender is stopping cleanly (goodbye) */
};

struct hb_hdr {
	uint8_t key_id;
	uint8_t link;
	uint8_t flags;
	uint32_t cluster;
	uint16_t sender;
	uint16_t dest;
	uint64_t incarnation;
	uint64_t seq;
	uint64_t timestamp_ms;
	uint16_t payload_len;
};

/* Why a datagram was refused; the order is the order of the checks. */
enum hb_verdict {
	HB_OK = 0,
	HB_MALFORMED,     /* wrong size, magic, version, or TLV area */
	HB_OTHER_CLUSTER, /* another cluster's heartbeat on our port */
	HB_UNKNOWN_KEY,   /* key id we do not hold */
	HB_BAD_MAC,       /* forged or corrupted */
};

struct evp_mac_ctx_st;

/* At most two keys at once (rotation). */
struct hb_keyring {
	struct {
		uint8_t id;
		struct evp_mac_ctx_st *ctx;  /* keyed HMAC-SHA256, the template */
		struct evp_mac_ctx_st *work; /* a copy re-initialised per datagram (no allocation) */
	} key[2];
	size_t n;
	uint8_t send_id;
};

/* Add (or replace, same id) a key. 0, -EINVAL (id 0, key shorter than 16 bytes), -ENOSPC, -ENOMEM. */
int hb_keyring_add(struct hb_keyring *kr, uint8_t id, const void *key, size_t len);
void hb_keyring_clear(struct hb_keyring *kr);
/* Forget key @id (no-op if absent). */
void hb_keyring_remove(struct hb_keyring *kr, uint8_t id);
/* Choose the key used to send (must be held). 0 or -ENOENT. */
int hb_keyring_set_send(struct hb_keyring *kr, uint8_t id);

/*
 * A fingerprint of key @id (HMAC of a fixed text under it), to tell whether a
 * reloaded key file holds another secret without keeping the secret twice.
 * 0 or -ENOENT.
 */
int hb_keyring_fingerprint(const struct hb_keyring *kr, uint8_t id, uint8_t out[32]);

/* The cluster id of a name: the first 4 bytes of SHA-256 as a big-endian integer. */
uint32_t hb_cluster_id(const char *name);

/*
 * Build a datagram into @out (at least HB_HDR_LEN + plen + HB_MAC_LEN bytes).
 * hdr->key_id and payload_len are taken from the keyring and @plen.
 * Returns the datagram length, or -EINVAL (plen too big, no send key), -ENOMEM.
 */
int hb_encode(const struct hb_keyring *kr, const struct hb_hdr *hdr, const void *payload,
	      size_t plen, uint8_t *out, size_t cap);

/*
 * Check and parse a datagram. On HB_OK, *hdr is filled and *payload points
 * into @buf (hdr->payload_len bytes, a valid TLV area). @cluster is ours.
 */
enum hb_verdict hb_decode(const struct hb_keyring *kr, uint32_t cluster, const uint8_t *buf,
			  size_t len, struct hb_hdr *hdr, const uint8_t **payload);

/* Whether @p..@p+len is a well-formed TLV area (every length within bounds). */
bool hb_tlv_valid(const uint8_t *p, size_t len);
/*
 * Iterate a valid TLV area: *off starts at 0. Returns 1 with *type, *val and
 * *vlen set, 0 at the end, -1 on a malformed area.
 */
int hb_tlv_next(const uint8_t *p, size_t len, size_t *off, uint8_t *type, const uint8_t **val,
		uint16_t *vlen);
/* Append one TLV. 0, or -EMSGSIZE when it does not fit in @cap. */
int hb_tlv_put(uint8_t *buf, size_t cap, size_t *off, uint8_t type, const void *val, size_t vlen);

#endif /* HHA_NET_HB_PROTO_H */
