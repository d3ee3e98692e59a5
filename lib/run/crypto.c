/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Keys and cryptography of the remote launch protocol (all of it from OpenSSL's libcrypto). */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/internal.h"
#include "core/schema.h"
#include "core/util.h"
#include "run/crypto.h"

#define KEY_FILE_MAX 4096

int hha_run_hkdf(const void *ikm, size_t ikm_len, const void *salt, size_t salt_len,
		 const void *info, size_t info_len, void *out, size_t out_len)
{
	EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	size_t n = out_len;
	int ok;

	if (!pc)
		return -EIO;
	ok = EVP_PKEY_derive_init(pc) > 0 && EVP_PKEY_CTX_set_hkdf_md(pc, EVP_sha256()) > 0 &&
	     EVP_PKEY_CTX_set1_hkdf_key(pc, ikm, (int)ikm_len) > 0 &&
	     (salt_len == 0 || EVP_PKEY_CTX_set1_hkdf_salt(pc, salt, (int)salt_len) > 0) &&
	     EVP_PKEY_CTX_add1_hkdf_info(pc, info, (int)info_len) > 0 &&
	     EVP_PKEY_derive(pc, out, &n) > 0 && n == out_len;
	EVP_PKEY_CTX_free(pc);
	return ok ? 0 : -EIO;
}

int hha_run_key_derive(unsigned id, const void *secret, size_t len, struct hha_run_key *out)
{
	static const char mac_info[] = "hybridha run v1 request mac";
	static const char ses_info[] = "hybridha run v1 session root";

	if (len < HHA_RUN_SECRET_MIN)
		return -EINVAL;
	out->id = id;
	if (hha_run_hkdf(secret, len, NULL, 0, mac_info, sizeof(mac_info) - 1, out->mac,
			 sizeof(out->mac)) < 0 ||
	    hha_run_hkdf(secret, len, NULL, 0, ses_info, sizeof(ses_info) - 1, out->session,
			 sizeof(out->session)) < 0)
		return -EIO;
	return 0;
}

static int load_one(unsigned id, const char *path, struct hha_run_key *out)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int r;

	if (stat(path, &st) < 0)
		return hha_error(-errno, NULL, "cluster key %s: %s", path, hha_strerror(errno));
	if (st.st_mode & S_IROTH)
		return hha_error(-EACCES, NULL,
				 "cluster key %s is readable by others; chmod o-rwx it first", path);
	r = hha_read_file(path, KEY_FILE_MAX, &buf, &len);
	if (r < 0)
		return hha_error(r, NULL, "cluster key %s: %s", path, hha_strerror(r));
	/* A trailing newline from an editor or `echo' is not part of the secret. */
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		len--;
	r = hha_run_key_derive(id, buf, len, out);
	OPENSSL_cleanse(buf, len);
	free(buf);
	if (r == -EINVAL)
		return hha_error(r, NULL, "cluster key %s: %zu bytes, at least %d needed", path, len,
				 HHA_RUN_SECRET_MIN);
	if (r < 0)
		return hha_error(r, NULL, "cluster key %s: key derivation failed", path);
	return 0;
}

int hha_run_keyring_load(json_object *cluster, struct hha_run_keyring *out)
{
	json_object *keys = hha_json_get(cluster, "keys");
	int r;

	memset(out, 0, sizeof(*out));
	if (keys) {
		for (size_t i = 0; i < json_object_array_length(keys) && i < HHA_RUN_MAX_KEYS; i++) {
			json_object *k = json_object_array_get_idx(keys, i);
			unsigned id = (unsigned)hha_json_int(k, "id", 1);
			r = load_one(id, hha_json_str(k, "file"), &out->keys[out->n]);
			if (r < 0)
				goto fail;
			out->n++;
			if (id > out->send_id)
				out->send_id = id;
		}
		out->send_id = (unsigned)hha_json_int(cluster, "send_key", out->send_id);
		if (!hha_run_keyring_find(out, out->send_id)) {
			r = hha_error(-EINVAL, NULL, "cluster.send_key %u names no key", out->send_id);
			goto fail;
		}
		return 0;
	}
	r = load_one(1, hha_json_str(cluster, "key_file"), &out->keys[0]);
	if (r < 0)
		goto fail;
	out->n = 1;
	out->send_id = 1;
	return 0;
fail:
	hha_run_keyring_wipe(out);
	return r;
}

const struct hha_run_key *hha_run_keyring_find(const struct hha_run_keyring *kr, unsigned id)
{
	for (size_t i = 0; i < kr->n; i++)
		if (kr->keys[i].id == id)
			return &kr->keys[i];
	return NULL;
}

void hha_run_keyring_wipe(struct hha_run_keyring *kr)
{
	OPENSSL_cleanse(kr, sizeof(*kr));
}

int hha_run_hmac(const uint8_t key[HHA_RUN_KEY_LEN], const void *data, size_t len,
		 uint8_t out[HHA_RUN_MAC_LEN])
{
	unsigned n = HHA_RUN_MAC_LEN;

	if (!HMAC(EVP_sha256(), key, HHA_RUN_KEY_LEN, data, len, out, &n) || n != HHA_RUN_MAC_LEN)
		return -EIO;
	return 0;
}

int hha_run_random(void *buf, size_t len)
{
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -EIO;
}

int hha_run_session_secret(const struct hha_run_key *k, const uint8_t cnonce[HHA_RUN_NONCE_LEN],
			   const void *request, size_t len, uint8_t out[HHA_RUN_KEY_LEN])
{
	uint8_t digest[SHA256_DIGEST_LENGTH];

	SHA256(request, len, digest);
	return hha_run_hkdf(k->session, sizeof(k->session), cnonce, HHA_RUN_NONCE_LEN, digest,
			    sizeof(digest), out, HHA_RUN_KEY_LEN);
}

int hha_run_stream_keys(const uint8_t secret[HHA_RUN_KEY_LEN],
			const uint8_t cnonce[HHA_RUN_NONCE_LEN],
			const uint8_t snonce[HHA_RUN_NONCE_LEN], struct hha_run_dirkey *c2s,
			struct hha_run_dirkey *s2c)
{
	uint8_t salt[2 * HHA_RUN_NONCE_LEN];
	uint8_t okm[2 * (HHA_RUN_KEY_LEN + HHA_RUN_IV_LEN)];
	static const char info[] = "hybridha run v1 stream keys";
	int r;

	memcpy(salt, cnonce, HHA_RUN_NONCE_LEN);
	memcpy(salt + HHA_RUN_NONCE_LEN, snonce, HHA_RUN_NONCE_LEN);
	r = hha_run_hkdf(secret, HHA_RUN_KEY_LEN, salt, sizeof(salt), info, sizeof(info) - 1, okm,
			 sizeof(okm));
	if (r == 0) {
		uint8_t *p = okm;
		memcpy(c2s->key, p, HHA_RUN_KEY_LEN), p += HHA_RUN_KEY_LEN;
		memcpy(c2s->iv, p, HHA_RUN_IV_LEN), p += HHA_RUN_IV_LEN;
		memcpy(s2c->key, p, HHA_RUN_KEY_LEN), p += HHA_RUN_KEY_LEN;
		memcpy(s2c->iv, p, HHA_RUN_IV_LEN);
	}
	OPENSSL_cleanse(okm, sizeof(okm));
	return r;
}

struct hha_run_aead {
	EVP_CIPHER_CTX *ctx;
	uint8_t iv[HHA_RUN_IV_LEN];
	uint64_t counter;
	bool encrypt;
};

int hha_run_aead_new(const struct hha_run_dirkey *k, bool encrypt, struct hha_run_aead **out)
{
	struct hha_run_aead *a = calloc(1, sizeof(*a));

	if (!a)
		return -ENOMEM;
	a->ctx = EVP_CIPHER_CTX_new();
	a->encrypt = encrypt;
	memcpy(a->iv, k->iv, sizeof(a->iv));
	if (!a->ctx ||
	    EVP_CipherInit_ex(a->ctx, EVP_aes_256_gcm(), NULL, k->key, NULL, encrypt ? 1 : 0) != 1) {
		hha_run_aead_free(a);
		return -EIO;
	}
	*out = a;
	return 0;
}

void hha_run_aead_free(struct hha_run_aead *a)
{
	if (!a)
		return;
	EVP_CIPHER_CTX_free(a->ctx);
	OPENSSL_cleanse(a, sizeof(*a));
	free(a);
}

/* The frame counter XORed into the IV's last 8 bytes: never the same IV twice per key. */
static void frame_iv(const struct hha_run_aead *a, uint8_t iv[HHA_RUN_IV_LEN])
{
	memcpy(iv, a->iv, HHA_RUN_IV_LEN);
	for (int i = 0; i < 8; i++)
		iv[HHA_RUN_IV_LEN - 1 - i] ^= (uint8_t)(a->counter >> (8 * i));
}

static int aead_run(struct hha_run_aead *a, const void *aad, size_t aad_len, void *buf,
		    size_t len)
{
	uint8_t iv[HHA_RUN_IV_LEN];
	int n;

	frame_iv(a, iv);
	if (EVP_CipherInit_ex(a->ctx, NULL, NULL, NULL, iv, -1) != 1)
		return -EIO;
	if (aad_len && EVP_CipherUpdate(a->ctx, NULL, &n, aad, (int)aad_len) != 1)
		return -EIO;
	if (len && EVP_CipherUpdate(a->ctx, buf, &n, buf, (int)len) != 1)
		return -EIO;
	return 0;
}

int hha_run_aead_seal(struct hha_run_aead *a, const void *aad, size_t aad_len, void *buf,
		      size_t len, uint8_t tag[HHA_RUN_TAG_LEN])
{
	int n;

	if (!a->encrypt || a->counter == UINT64_MAX)
		return -EIO;
	if (aead_run(a, aad, aad_len, buf, len) < 0 ||
	    EVP_CipherFinal_ex(a->ctx, (uint8_t *)buf + len, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_GCM_GET_TAG, HHA_RUN_TAG_LEN, tag) != 1)
		return -EIO;
	a->counter++;
	return 0;
}

int hha_run_aead_open(struct hha_run_aead *a, const void *aad, size_t aad_len, void *buf,
		      size_t len, const uint8_t tag[HHA_RUN_TAG_LEN])
{
	int n;

	if (a->encrypt || a->counter == UINT64_MAX)
		return -HHA_EAUTH;
	if (aead_run(a, aad, aad_len, buf, len) < 0 ||
	    EVP_CIPHER_CTX_ctrl(a->ctx, EVP_CTRL_GCM_SET_TAG, HHA_RUN_TAG_LEN, (void *)tag) != 1 ||
	    EVP_CipherFinal_ex(a->ctx, (uint8_t *)buf + len, &n) != 1)
		return -HHA_EAUTH;
	a->counter++;
	return 0;
}

char *hha_run_b64_encode(const void *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out)
		EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

uint8_t *hha_run_b64_decode(const char *text, size_t *len)
{
	size_t n = strlen(text), pad = 0;
	uint8_t *out;
	int r;

	if (n % 4 != 0 || n > (1u << 20))
		return NULL;
	out = malloc(n / 4 * 3 + 1);
	if (!out)
		return NULL;
	r = EVP_DecodeBlock(out, (const unsigned char *)text, (int)n);
	if (r < 0) {
		free(out);
		return NULL;
	}
	/* DecodeBlock counts the padding as zero bytes. */
	if (n >= 1 && text[n - 1] == '=')
		pad++;
	if (n >= 2 && text[n - 2] == '=')
		pad++;
	*len = (size_t)r - pad;
	return out;
}
