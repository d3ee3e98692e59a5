/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Encoding and checking heartbeat datagrams; pure functions over buffers (fuzzed). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "net/hb-proto.h"

/* Shorter keys are refused: HMAC strength is bounded by the key's entropy. */
#define HB_MIN_KEY 16

static int hmac(EVP_MAC_CTX *c, const uint8_t *buf, size_t len, uint8_t out[HB_MAC_LEN]);

static EVP_MAC_CTX *hmac_new(const void *key, size_t len)
{
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = mac ? EVP_MAC_CTX_new(mac) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};

	EVP_MAC_free(mac); /* the context holds its own reference */
	if (ctx && !EVP_MAC_init(ctx, key, len, params)) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

int hb_keyring_add(struct hb_keyring *kr, uint8_t id, const void *key, size_t len)
{
	EVP_MAC_CTX *ctx, *work;
	size_t i;

	if (id == 0 || len < HB_MIN_KEY)
		return -EINVAL;
	for (i = 0; i < kr->n; i++)
		if (kr->key[i].id == id)
			break;
	if (i == sizeof(kr->key) / sizeof(kr->key[0]))
		return -ENOSPC;
	ctx = hmac_new(key, len);
	work = ctx ? EVP_MAC_CTX_dup(ctx) : NULL;
	if (!work) {
		EVP_MAC_CTX_free(ctx);
		return -ENOMEM;
	}
	if (i < kr->n) {
		EVP_MAC_CTX_free(kr->key[i].ctx);
		EVP_MAC_CTX_free(kr->key[i].work);
	} else {
		kr->n++;
	}
	kr->key[i].id = id;
	kr->key[i].ctx = ctx;
	kr->key[i].work = work;
	if (!kr->send_id || kr->n == 1)
		kr->send_id = id;
	return 0;
}

void hb_keyring_clear(struct hb_keyring *kr)
{
	for (size_t i = 0; i < kr->n; i++) {
		EVP_MAC_CTX_free(kr->key[i].ctx);
		EVP_MAC_CTX_free(kr->key[i].work);
	}
	memset(kr, 0, sizeof(*kr));
}

void hb_keyring_remove(struct hb_keyring *kr, uint8_t id)
{
	for (size_t i = 0; i < kr->n; i++) {
		if (kr->key[i].id != id)
			continue;
		EVP_MAC_CTX_free(kr->key[i].ctx);
		EVP_MAC_CTX_free(kr->key[i].work);
		kr->key[i] = kr->key[kr->n - 1];
		kr->n--;
		if (kr->send_id == id)
			kr->send_id = kr->n ? kr->key[0].id : 0;
		return;
	}
}

/* The working context of key @id (the keyring is not shared between threads). */
static EVP_MAC_CTX *keyring_find(const struct hb_keyring *kr, uint8_t id)
{
	for (size_t i = 0; i < kr->n; i++)
		if (kr->key[i].id == id)
			return kr->key[i].work;
	return NULL;
}

int hb_keyring_set_send(struct hb_keyring *kr, uint8_t id)
{
	if (!keyring_find(kr, id))
		return -ENOENT;
	kr->send_id = id;
	return 0;
}

int hb_keyring_fingerprint(const struct hb_keyring *kr, uint8_t id, uint8_t out[HB_MAC_LEN])
{
	static const uint8_t text[] = "hybridha key fingerprint";
	EVP_MAC_CTX *key = keyring_find(kr, id);

	if (!key)
		return -ENOENT;
	return hmac(key, text, sizeof(text) - 1, out);
}

uint32_t hb_cluster_id(const char *name)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(name, strlen(name), md, &mdlen, EVP_sha256(), NULL) || mdlen < 4)
		return 0;
	return hha_get_be32(md);
}

/* HMAC-SHA256 of @len bytes; re-initialising with no key keeps the context's key. */
static int hmac(EVP_MAC_CTX *c, const uint8_t *buf, size_t len, uint8_t out[HB_MAC_LEN])
{
	size_t outl = 0;

	if (!EVP_MAC_init(c, NULL, 0, NULL) || !EVP_MAC_update(c, buf, len) ||
	    !EVP_MAC_final(c, out, &outl, HB_MAC_LEN) || outl != HB_MAC_LEN)
		return -EIO;
	return 0;
}

int hb_encode(const struct hb_keyring *kr, const struct hb_hdr *hdr, const void *payload,
	      size_t plen, uint8_t *out, size_t cap)
{
	EVP_MAC_CTX *key = keyring_find(kr, kr->send_id);
	size_t total = HB_HDR_LEN + plen + HB_MAC_LEN;
	int r;

	if (!key || plen > HB_MAX_PAYLOAD || cap < total || hdr->link >= HB_MAX_LINKS)
		return -EINVAL;
	hha_put_be32(out, HB_MAGIC);
	out[4] = HB_VERSION;
	out[5] = kr->send_id;
	out[6] = hdr->link;
	out[7] = hdr->flags;
	hha_put_be32(out + 8, hdr->cluster);
	hha_put_be16(out + 12, hdr->sender);
	hha_put_be16(out + 14, hdr->dest);
	hha_put_be64(out + 16, hdr->incarnation);
	hha_put_be64(out + 24, hdr->seq);
	hha_put_be64(out + 32, hdr->timestamp_ms);
	hha_put_be16(out + 40, (uint16_t)plen);
	hha_put_be16(out + 42, 0);
	if (plen)
		memcpy(out + HB_HDR_LEN, payload, plen);
	r = hmac(key, out, HB_HDR_LEN + plen, out + HB_HDR_LEN + plen);
	return r < 0 ? r : (int)total;
}

enum hb_verdict hb_decode(const struct hb_keyring *kr, uint32_t cluster, const uint8_t *buf,
			  size_t len, struct hb_hdr *hdr, const uint8_t **payload)
{
	uint8_t mac[HB_MAC_LEN];
	EVP_MAC_CTX *key;
	size_t plen;

	/* Every length is checked before anything is read at an offset. */
	if (len < HB_HDR_LEN + HB_MAC_LEN || len > HB_MAX_PACKET)
		return HB_MALFORMED;
	if (hha_get_be32(buf) != HB_MAGIC || buf[4] != HB_VERSION)
		return HB_MALFORMED;
	plen = hha_get_be16(buf + 40);
	if (plen != len - HB_HDR_LEN - HB_MAC_LEN || buf[6] >= HB_MAX_LINKS)
		return HB_MALFORMED;
	if (hha_get_be32(buf + 8) != cluster)
		return HB_OTHER_CLUSTER;
	key = keyring_find(kr, buf[5]);
	if (!key)
		return HB_UNKNOWN_KEY;
	if (hmac(key, buf, HB_HDR_LEN + plen, mac) < 0 ||
	    CRYPTO_memcmp(mac, buf + HB_HDR_LEN + plen, HB_MAC_LEN) != 0)
		return HB_BAD_MAC;
	/* Authentic, but a buggy peer can still send a broken TLV area. */
	if (!hb_tlv_valid(buf + HB_HDR_LEN, plen))
		return HB_MALFORMED;
	hdr->key_id = buf[5];
	hdr->link = buf[6];
	hdr->flags = buf[7];
	hdr->cluster = hha_get_be32(buf + 8);
	hdr->sender = hha_get_be16(buf + 12);
	hdr->dest = hha_get_be16(buf + 14);
	hdr->incarnation = hha_get_be64(buf + 16);
	hdr->seq = hha_get_be64(buf + 24);
	hdr->timestamp_ms = hha_get_be64(buf + 32);
	hdr->payload_len = (uint16_t)plen;
	*payload = buf + HB_HDR_LEN;
	return HB_OK;
}

int hb_tlv_next(const uint8_t *p, size_t len, size_t *off, uint8_t *type, const uint8_t **val,
		uint16_t *vlen)
{
	size_t o = *off;
	uint16_t l;

	if (o == len)
		return 0;
	if (o > len || len - o < HB_TLV_HDR)
		return -1;
	l = hha_get_be16(p + o + 1);
	if (len - o - HB_TLV_HDR < l)
		return -1;
	*type = p[o];
	*vlen = l;
	*val = p + o + HB_TLV_HDR;
	*off = o + HB_TLV_HDR + l;
	return 1;
}

bool hb_tlv_valid(const uint8_t *p, size_t len)
{
	size_t off = 0;
	uint8_t t;
	const uint8_t *v;
	uint16_t l;
	int r;

	while ((r = hb_tlv_next(p, len, &off, &t, &v, &l)) > 0)
		;
	return r == 0;
}

int hb_tlv_put(uint8_t *buf, size_t cap, size_t *off, uint8_t type, const void *val, size_t vlen)
{
	if (*off > cap || vlen > UINT16_MAX || cap - *off < HB_TLV_HDR + vlen)
		return -EMSGSIZE;
	buf[*off] = type;
	hha_put_be16(buf + *off + 1, (uint16_t)vlen);
	if (vlen)
		memcpy(buf + *off + HB_TLV_HDR, val, vlen);
	*off += HB_TLV_HDR + vlen;
	return 0;
}
