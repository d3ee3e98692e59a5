/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the VIP list a peer puts in its heartbeats (decoded, re-encoded, decoded again). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/vip-payload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hha_vip_held v[HHA_VIP_PAYLOAD_ENTRIES], w[HHA_VIP_PAYLOAD_ENTRIES];
	uint8_t buf[HHA_VIP_PAYLOAD_MAX];
	size_t n, m;
	bool t, u;
	char text[64];
	int len;

	if (hha_vip_payload_decode(data, size, v, &n, &t) < 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		hha_vip_held_text(&v[i], text, sizeof(text));
	/* What was accepted encodes again, and decodes to the same entries. */
	len = hha_vip_payload_encode(v, n, buf);
	if (len < 0 || hha_vip_payload_decode(buf, (size_t)len, w, &m, &u) < 0)
		abort();
	if (m > n || (m == n && memcmp(v, w, n * sizeof(v[0])) != 0))
		abort();
	return 0;
}
