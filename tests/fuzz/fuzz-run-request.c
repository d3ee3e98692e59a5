/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: the run service's request decoder, as raw bytes and as correctly signed bodies. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "run/crypto.h"
#include "run/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char secret[] = "fuzzing secret, 32 bytes long!!!";
	struct hha_run_keyring kr = { .n = 1, .send_id = 1 };
	struct hha_run_request rq;
	enum hha_run_hello_status st;
	uint8_t snonce[HHA_RUN_NONCE_LEN];
	char err[256];

	if (size < 1)
		return 0;
	hha_run_key_derive(1, secret, sizeof(secret) - 1, &kr.keys[0]);
	if (size > HHA_RUN_HELLO_LEN)
		hha_run_hello_decode(data + 1, &st, snonce);
	if (data[0] & 1) {
		/* Raw bytes off the wire: the header checks and the MAC must hold. */
		if (hha_run_request_total(data + 1, size - 1) > 0 &&
		    hha_run_request_verify(data + 1, size - 1, &kr, 2, 1800000000000ull, 30000, &rq, err,
					   sizeof(err)) == 0)
			hha_run_request_clear(&rq);
	} else if (size - 1 <= HHA_RUN_REQ_BODY_MAX) {
		/* A key holder's body: signed correctly, so the JSON decoder is reached. */
		size_t blen = size - 1, len = HHA_RUN_REQ_HDR_LEN + blen + HHA_RUN_MAC_LEN;
		uint8_t *buf = calloc(1, len);
		if (!buf)
			return 0;
		memcpy(buf, HHA_RUN_MAGIC_REQ, 4);
		buf[4] = HHA_RUN_PROTO_VERSION;
		buf[5] = HHA_RUN_KIND_LAUNCH;
		buf[6] = 1;
		buf[8] = 2;
		hha_put_be64(buf + 12, 1800000000000ull);
		hha_put_be32(buf + 36, (uint32_t)blen);
		memcpy(buf + HHA_RUN_REQ_HDR_LEN, data + 1, blen);
		hha_run_hmac(kr.keys[0].mac, buf, len - HHA_RUN_MAC_LEN, buf + len - HHA_RUN_MAC_LEN);
		if (hha_run_request_verify(buf, len, &kr, 2, 1800000000000ull, 30000, &rq, err,
					   sizeof(err)) == 0)
			hha_run_request_clear(&rq);
		free(buf);
	}
	return 0;
}
