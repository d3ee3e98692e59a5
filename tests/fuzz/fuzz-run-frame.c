/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: sealed frames as a session reads them, and the load vector decoder. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <hybridha/load.h>

#include "run/crypto.h"
#include "run/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hha_run_dirkey k = { { 1, 2, 3 }, { 4, 5, 6 } };
	struct hha_run_aead *tx = NULL, *rx = NULL;
	uint8_t *buf, type, stream, *pl;
	size_t off = 0, plen, used, need;
	struct hha_load l;

	hha_load_decode(data, size, &l);
	if (size < 1 || hha_run_aead_new(&k, false, &rx) < 0 || hha_run_aead_new(&k, true, &tx) < 0)
		goto out;
	buf = malloc(size + HHA_RUN_FRAME_OVERHEAD);
	if (!buf)
		goto out;
	if (data[0] & 1) {
		/* Raw bytes: lengths and tags are checked, nothing opens. */
		memcpy(buf, data + 1, size - 1);
		while (off < size - 1 && hha_run_frame_open(rx, buf + off, size - 1 - off, &need, &type,
							     &stream, &pl, &plen, &used) == 1)
			off += used;
	} else if (size - 1 <= HHA_RUN_FRAME_MAX_PAYLOAD) {
		/* A genuine frame with fuzzed contents: what the session then reads. */
		buf[4] = data[1 % size];
		buf[5] = data[2 % size];
		memcpy(buf + HHA_RUN_FRAME_HDR, data + 1, size - 1);
		if (hha_run_frame_seal(tx, buf, size - 1) == 0 &&
		    hha_run_frame_open(rx, buf, size - 1 + HHA_RUN_FRAME_OVERHEAD, &need, &type, &stream,
				       &pl, &plen, &used) == 1)
			hha_load_decode(pl, plen, &l);
	}
	free(buf);
out:
	hha_run_aead_free(tx);
	hha_run_aead_free(rx);
	return 0;
}
