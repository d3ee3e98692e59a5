/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: arbitrary bytes as an NBD client's stream into the server's state machine. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>

#include "../nbd/conn-harness.h"

/*
 * The first two bytes steer the harness, the rest is what the client sends
 * (greeting answer, options, requests, payloads):
 *   byte 0: bits 0-3 bytes per send call (x 7, 0: unlimited), bit 4 defer
 *           backend completions, bit 5 complete them newest first, bit 6
 *           the transport is full now and then, bit 7 the export is
 *           read-only.
 *   byte 1: input piece size (0: as much as the connection takes).
 * Between pieces, deferred requests are completed whenever the connection
 * stops taking input, as a backend would, so every state is reachable.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness h;
	uint8_t ctl, piece;
	size_t off = 0;
	unsigned turn = 0;

	if (size < 2)
		return 0;
	ctl = data[0];
	piece = data[1];
	data += 2;
	size -= 2;
	harness_init(&h, NULL, NULL);
	h.send_limit = (size_t)(ctl & 0x0f) * 7;
	h.defer = ctl & 0x10;
	atomic_store(&h.sh.read_only, (ctl & 0x80) != 0);
	while (off < size && !(harness_wants(&h) & HHA_NBD_CONN_DONE)) {
		size_t step = piece ? piece : size - off;
		size_t fed;

		if (step > size - off)
			step = size - off;
		h.send_full = (ctl & 0x40) && (turn++ & 3) == 1;
		fed = harness_feed(&h, data + off, step, piece);
		if (fed == 0) {
			/* Stalled: let the backend and the transport catch up. */
			h.send_full = false;
			harness_complete(&h, ctl & 0x20, 0);
			harness_flush(&h);
			fed = harness_feed(&h, data + off, step, piece);
			if (fed == 0)
				break;
		}
		off += fed;
	}
	harness_fini(&h);
	return 0;
}
