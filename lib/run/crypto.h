/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Keys and cryptography of the remote launch protocol (all of it from OpenSSL's libcrypto). */
#ifndef HHA_RUN_CRYPTO_H
#define HHA_RUN_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define HHA_RUN_KEY_LEN 32
#define HHA_RUN_MAC_LEN 32
#define HHA_RUN_NONCE_LEN 16
#define HHA_RUN_TAG_LEN 16
#define HHA_RUN_IV_LEN 12
/* Cluster secrets shorter than this are refused: they could be guessed. */
#define HHA_RUN_SECRET_MIN 16
#define HHA_RUN_MAX_KEYS 2

/*
 * The run protocol's keys for one cluster key id. The secret file's bytes are
 * never used directly: HKDF separates a MAC key for requests and a root for
 * session keys, so the same file can serve heartbeats without the two
 * protocols' keys ever meeting.
 */
struct hha_run_key {
	unsigned id;
	uint8_t mac[HHA_RUN_KEY_LEN];     /* HMAC-SHA256 of requests */
	uint8_t session[HHA_RUN_KEY_LEN]; /* root of per-session secrets */
};

struct hha_run_keyring {
	struct hha_run_key keys[HHA_RUN_MAX_KEYS];
	size_t n;
	unsigned send_id; /* the key requests are made with */
};

/* Per-direction stream keys of one session. */
struct hha_run_dirkey {
	uint8_t key[HHA_RUN_KEY_LEN];
	uint8_t iv[HHA_RUN_IV_LEN];
};

/*
 * Derive the run keys from a secret (the key file's bytes). 0, -EINVAL (too
 * short), -EIO (libcrypto failure).
 */
int hha_run_key_derive(unsigned id, const void *secret, size_t len, struct hha_run_key *out);
/*
 * Load the keys named by a validated configuration: cluster.keys (with
 * send_key) or cluster.key_file as key id 1. A file readable by others is
 * refused. 0, or a negative code with the reason recorded (hha_error).
 */
int hha_run_keyring_load(json_object *cluster, struct hha_run_keyring *out);
const struct hha_run_key *hha_run_keyring_find(const struct hha_run_keyring *kr, unsigned id);
/* Wipe key material. */
void hha_run_keyring_wipe(struct hha_run_keyring *kr);

int hha_run_hmac(const uint8_t key[HHA_RUN_KEY_LEN], const void *data, size_t len,
		 uint8_t out[HHA_RUN_MAC_LEN]);
/* HKDF-SHA256 (extract and expand). 0 or -EIO. */
int hha_run_hkdf(const void *ikm, size_t ikm_len, const void *salt, size_t salt_len,
		 const void *info, size_t info_len, void *out, size_t out_len);
/* Fill with random bytes from OpenSSL's CSPRNG. 0 or -EIO. */
int hha_run_random(void *buf, size_t len);
/*
 * The session secret of a request: HKDF(session root, salt = client nonce,
 * info = SHA-256 of the whole signed request). The local hhad hands it to the
 * client; the remote hhad computes it from the request.
 */
int hha_run_session_secret(const struct hha_run_key *k, const uint8_t cnonce[HHA_RUN_NONCE_LEN],
			   const void *request, size_t len, uint8_t out[HHA_RUN_KEY_LEN]);
/* The two stream keys from the session secret and both nonces. 0 or -EIO. */
int hha_run_stream_keys(const uint8_t secret[HHA_RUN_KEY_LEN],
			const uint8_t cnonce[HHA_RUN_NONCE_LEN],
			const uint8_t snonce[HHA_RUN_NONCE_LEN], struct hha_run_dirkey *c2s,
			struct hha_run_dirkey *s2c);

/* One direction of AES-256-GCM with a 64-bit frame counter folded into the IV. */
struct hha_run_aead;
int hha_run_aead_new(const struct hha_run_dirkey *k, bool encrypt, struct hha_run_aead **out);
void hha_run_aead_free(struct hha_run_aead *a);
/* Encrypt @len bytes in place and write the tag; the counter advances. 0 or -EIO. */
int hha_run_aead_seal(struct hha_run_aead *a, const void *aad, size_t aad_len, void *buf,
		      size_t len, uint8_t tag[HHA_RUN_TAG_LEN]);
/* Decrypt in place and check the tag; the counter advances only on success. 0 or -HHA_EAUTH. */
int hha_run_aead_open(struct hha_run_aead *a, const void *aad, size_t aad_len, void *buf,
		      size_t len, const uint8_t tag[HHA_RUN_TAG_LEN]);


/* Base64 (for keys and requests in control-socket JSON). Return malloc'd text / bytes, or NULL. */
char *hha_run_b64_encode(const void *data, size_t len);
uint8_t *hha_run_b64_decode(const char *text, size_t *len);

#endif /* HHA_RUN_CRYPTO_H */
