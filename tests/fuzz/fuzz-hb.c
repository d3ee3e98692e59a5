/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: heartbeat datagrams, through the decoder and the whole membership receive path. */
#include "config.h"

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "net/membership-int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char KEY[] = "fuzz-cluster-key-0123456789";

/* A membership object (node 1) with one peer (node 2) whose link-0 address is @from. */
static struct hha_membership *setup(struct sockaddr_in *from)
{
	static struct hha_ctx *ctx;
	struct hha_membership_opts o = { .size = sizeof(o), .self_id = 1, .cluster_name = "fuzz",
					 .witness = true };
	struct hha_membership *m = NULL;
	const char *addrs[1] = { "127.0.0.1:9" };

	if (!ctx && hha_ctx_new(&ctx) < 0)
		return NULL;
	hha_ctx_set_log_fn(ctx, NULL, NULL);
	if (hha_membership_new(ctx, &o, &m) < 0)
		return NULL;
	if (hha_membership_add_key(m, 1, KEY, strlen(KEY)) < 0 ||
	    hha_membership_add_link(m, "127.0.0.1:0") < 0 ||
	    hha_membership_add_peer(m, 2, "peer", addrs, 1) < 0 || hha_membership_start(m) < 0) {
		hha_membership_free(m);
		return NULL;
	}
	memset(from, 0, sizeof(*from));
	from->sin_family = AF_INET;
	from->sin_port = htons(9);
	inet_pton(AF_INET, "127.0.0.1", &from->sin_addr);
	return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct hha_membership *m;
	static struct sockaddr_in from;
	struct hb_keyring kr = { 0 };
	uint8_t pkt[HB_MAX_PACKET];
	struct hb_lease_msg lm;
	struct hb_hdr h;
	uint8_t out[64];
	size_t len = sizeof(out);

	if (!m && !(m = setup(&from)))
		return 0;
	/* 1. The raw bytes as a datagram (almost always refused before the MAC). */
	hb_membership_input(m, 0, (struct sockaddr *)&from, sizeof(from), data, size, 1);
	hb_lease_decode(data, size, &lm);
	if (size < 17)
		return 0;
	/* 2. An authentic datagram around fuzzed header fields and payload: reaches the
	 *    incarnation, replay and echo checks, the TLV walk, lease and ping parsing. */
	h = (struct hb_hdr){ .link = data[0] % 2, .flags = data[1], .cluster = hb_cluster_id("fuzz"),
			     .sender = data[2] % 4, .dest = data[3] % 3,
			     .incarnation = hha_get_be64(data + 4) % 4, .seq = data[12] % 80 };
	if (hb_keyring_add(&kr, 1, KEY, strlen(KEY)) < 0)
		return 0;
	/* The fuzzed TLVs, then (on odd sizes) a valid echo of our incarnation, so that
	 * datagrams get past the echo check into the payload parsers. */
	uint8_t payload[HB_MAX_PAYLOAD];
	size_t plen = HHA_MIN(size - 13, (size_t)HB_MAX_PAYLOAD - 11);
	memcpy(payload, data + 13, plen);
	if (size & 1) {
		uint8_t echo[8];
		hha_put_be64(echo, hha_membership_incarnation(m));
		hb_tlv_put(payload, sizeof(payload), &plen, HHA_PAYLOAD_ECHO, echo, sizeof(echo));
	}
	int n = hb_encode(&kr, &h, payload, plen, pkt, sizeof(pkt));
	hb_keyring_clear(&kr);
	if (n > 0) {
		hb_membership_input(m, h.link, (struct sockaddr *)&from, sizeof(from), pkt, (size_t)n,
				    2);
		hha_membership_peer_payload(m, 2, data[13], out, &len);
	}
	return 0;
}
