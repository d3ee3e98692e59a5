/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The replay cache of the run service: every request nonce seen within the clock-skew window. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "run/nonce.h"

struct entry {
	uint8_t nonce[HHA_RUN_NONCE_LEN];
	uint64_t expires; /* 0 = empty slot */
};

/* Open addressing with linear probing; the table is rebuilt, not tombstoned,
 * when it fills, dropping what expired. Only authenticated requests get in,
 * so an outsider cannot fill it. */
struct hha_run_nonces {
	struct entry *slots;
	size_t cap, count, max;
	uint64_t floor_ms, window_ms;
};

int hha_run_nonces_new(uint64_t now_ms, uint64_t window_ms, size_t max, struct hha_run_nonces **out)
{
	struct hha_run_nonces *c = calloc(1, sizeof(*c));
	size_t cap = 64;

	if (!c)
		return -ENOMEM;
	while (cap < 2 * max)
		cap *= 2;
	c->slots = calloc(cap, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return -ENOMEM;
	}
	c->cap = cap;
	c->max = max;
	c->floor_ms = now_ms;
	c->window_ms = window_ms;
	*out = c;
	return 0;
}

void hha_run_nonces_free(struct hha_run_nonces *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c);
}

static size_t slot_of(const struct hha_run_nonces *c, const uint8_t *nonce)
{
	uint64_t h;

	/* Nonces are random: their first bytes are already a good hash. */
	memcpy(&h, nonce, sizeof(h));
	return (size_t)(h & (c->cap - 1));
}

static void insert(struct hha_run_nonces *c, const uint8_t *nonce, uint64_t expires)
{
	size_t i = slot_of(c, nonce);

	while (c->slots[i].expires)
		i = (i + 1) & (c->cap - 1);
	memcpy(c->slots[i].nonce, nonce, HHA_RUN_NONCE_LEN);
	c->slots[i].expires = expires;
	c->count++;
}

static void purge(struct hha_run_nonces *c, uint64_t now_ms)
{
	struct entry *old = c->slots, *fresh = calloc(c->cap, sizeof(*fresh));

	if (!fresh)
		return;
	c->slots = fresh;
	c->count = 0;
	for (size_t i = 0; i < c->cap; i++)
		if (old[i].expires > now_ms)
			insert(c, old[i].nonce, old[i].expires);
	free(old);
}

int hha_run_nonces_check(struct hha_run_nonces *c, const uint8_t nonce[HHA_RUN_NONCE_LEN],
			 uint64_t time_ms, uint64_t now_ms)
{
	size_t i = slot_of(c, nonce);

	if (time_ms < c->floor_ms)
		return -EALREADY;
	for (; c->slots[i].expires; i = (i + 1) & (c->cap - 1))
		if (memcmp(c->slots[i].nonce, nonce, HHA_RUN_NONCE_LEN) == 0)
			return -EALREADY;
	if (c->count >= c->max) {
		purge(c, now_ms);
		if (c->count >= c->max)
			return -EBUSY;
	}
	insert(c, nonce, HHA_MAX(time_ms, now_ms) + c->window_ms);
	return 0;
}

size_t hha_run_nonces_count(const struct hha_run_nonces *c)
{
	return c->count;
}
