/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the peer wire decoders (frame headers, HELLO, STATE, RESIZE) on arbitrary bytes. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "disk/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hha_wire_limits lim[2] = {
		{ HHA_WIRE_HANDSHAKE, 0, 0 },
		{ HHA_WIRE_RUNNING, 1ull << 30, 1u << 20 },
	};
	struct hha_wire_hdr h;
	struct hha_wire_hello hello;
	struct hha_wire_state st;
	struct hha_wire_resize rz;
	const char *why;

	/* A stream of frames the way the receiver walks it: header, then the
	 * payload it announces, if present in the input. */
	for (size_t off = 0; off + HHA_WIRE_HDR <= size;) {
		const uint8_t *p = data + off;
		int ok = 0;
		for (int i = 0; i < 2; i++) {
			if (hha_wire_hdr_decode(p, &lim[i], &h, &why) < 0)
				continue;
			ok = 1;
			if (h.plen > size - off - HHA_WIRE_HDR)
				return 0;
			if (h.type == HHA_W_HELLO)
				hha_wire_hello_decode(p + HHA_WIRE_HDR, h.plen, &hello, &why);
			else if (h.type == HHA_W_STATE)
				hha_wire_state_decode(p + HHA_WIRE_HDR, h.plen, &st, &why);
			else if (h.type == HHA_W_RESIZE || h.type == HHA_W_RESIZE_REPLY)
				hha_wire_resize_decode(p + HHA_WIRE_HDR, h.plen, &rz, &why);
			break;
		}
		if (!ok)
			return 0;
		off += HHA_WIRE_HDR + h.plen;
	}
	/* And the payload decoders on the raw input. */
	hha_wire_hello_decode(data, size, &hello, &why);
	hha_wire_state_decode(data, size, &st, &why);
	if (size >= HHA_WIRE_HELLO_LEN)
		hha_wire_hello_decode(data, HHA_WIRE_HELLO_LEN, &hello, &why);
	if (size >= HHA_WIRE_STATE_LEN)
		hha_wire_state_decode(data, HHA_WIRE_STATE_LEN, &st, &why);
	hha_wire_resize_decode(data, size, &rz, &why);
	if (size >= HHA_WIRE_RESIZE_LEN)
		hha_wire_resize_decode(data, HHA_WIRE_RESIZE_LEN, &rz, &why);
	return 0;
}
