/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The heartbeat TLV that tells peers which VIPs a node holds, so any node can show who holds what. */
#ifndef HHA_NET_VIP_PAYLOAD_H
#define HHA_NET_VIP_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Value of the HHA_PAYLOAD_VIPS TLV (all integers one byte):
 *   0  version (1)
 *   1  flags: bit 0 = truncated (the node holds more than fitted)
 *   2  count n
 *   then n entries: family (4 or 6), prefix length, address (4 or 16
 *   bytes), flags (bit 0 tentative, bit 1 DAD failed), interface name
 *   length (1..15), interface name (printable ASCII, no NUL).
 * The encoder stops at HHA_VIP_PAYLOAD_MAX bytes (the heartbeat carries
 * other TLVs too); the decoder accepts any bytes and refuses what does not
 * follow this layout exactly.
 */
#define HHA_VIP_PAYLOAD_VERSION 1
#define HHA_VIP_PAYLOAD_MAX 400
#define HHA_VIP_PAYLOAD_ENTRIES 32

struct hha_vip_held {
	int family;        /* AF_INET or AF_INET6 */
	unsigned prefixlen;
	uint8_t addr[16];  /* network order; 4 bytes used for AF_INET */
	char dev[16];
	bool tentative, dadfailed;
};

/**
 * hha_vip_payload_encode - write @n held VIPs into @buf (at least HHA_VIP_PAYLOAD_MAX bytes).
 * Entries that do not fit are left out and the truncated flag set.
 * Return: the length written (3 for none); -EINVAL for an entry with a bad
 * family, prefix length or interface name.
 */
int hha_vip_payload_encode(const struct hha_vip_held *v, size_t n, uint8_t *buf);

/**
 * hha_vip_payload_decode - parse a TLV value into @out (room for HHA_VIP_PAYLOAD_ENTRIES).
 * @n: receives the number of entries; @truncated: the sender's flag.
 * Return: 0; -EBADMSG for anything malformed (nothing in @out is then to be used).
 */
int hha_vip_payload_decode(const uint8_t *buf, size_t len, struct hha_vip_held *out, size_t *n,
			   bool *truncated);

/** hha_vip_held_text - "ADDR/PREFIX" of @v into @buf (at least 50 bytes). */
void hha_vip_held_text(const struct hha_vip_held *v, char *buf, size_t size);

#endif /* HHA_NET_VIP_PAYLOAD_H */
