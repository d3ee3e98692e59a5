/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The replay cache of the run service: every request nonce seen within the clock-skew window. */
#ifndef HHA_RUN_NONCE_H
#define HHA_RUN_NONCE_H

#include <stdint.h>

#include "run/crypto.h"

struct hha_run_nonces;

/*
 * @now_ms: realtime now; requests stamped earlier are refused, because a
 * previous instance of the service may have seen them and its memory is gone.
 * @window_ms: how long a nonce is remembered after the time in its request
 * (twice the skew bound covers every request the time check lets through).
 * @max: entries at most; a full cache refuses new requests instead of growing.
 */
int hha_run_nonces_new(uint64_t now_ms, uint64_t window_ms, size_t max, struct hha_run_nonces **out);
void hha_run_nonces_free(struct hha_run_nonces *c);
/*
 * Remember @nonce of a request stamped @time_ms. 0 when new; -EALREADY when
 * seen before or older than the cache; -EBUSY when the cache is full.
 */
int hha_run_nonces_check(struct hha_run_nonces *c, const uint8_t nonce[HHA_RUN_NONCE_LEN],
			 uint64_t time_ms, uint64_t now_ms);
size_t hha_run_nonces_count(const struct hha_run_nonces *c);

#endif /* HHA_RUN_NONCE_H */
