/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Peer link security: the shared key, the handshake MAC, session keys and per-frame AEAD. */
#ifndef HHA_DISK_WIRE_SEC_H
#define HHA_DISK_WIRE_SEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/wire.h"

/*
 * The handshake proves both sides know the shared secret: each sends
 * HMAC-SHA256(secret, label || side || HELLO_initiator || HELLO_acceptor),
 * where each HELLO carries a fresh random nonce, so a recorded answer is
 * useless later and a reflected one carries the wrong side letter. Session
 * keys come from HKDF-SHA256(secret, salt = both nonces), one per direction,
 * so a key and nonce pair is never reused across connections. Frames are
 * then sealed with AES-256-GCM, the nonce being a per-direction frame
 * counter: a replayed, reordered, dropped or altered frame fails the tag.
 * In auth mode the payload is additional data (integrity, no copy); in
 * encrypt mode it is encrypted; in none mode frames carry no tag.
 */

#define HHA_WIRE_KEY_MIN 16
#define HHA_WIRE_KEY_MAX 4096

struct evp_cipher_ctx_st;

struct hha_wire_sec {
	enum hha_wire_security mode;
	struct evp_cipher_ctx_st *tx, *rx;
	uint64_t tx_ctr, rx_ctr;
};

/*
 * hha_wire_key_load - read a shared secret. The file must be a regular file
 * not readable or writable by others, holding 16..4096 bytes (trailing
 * newlines are not part of the key). *key is malloc'd; the caller clears and
 * frees it with hha_wire_key_free(). Return: 0, -EACCES (world-accessible:
 * refused), -EINVAL (size), -errno.
 */
int hha_wire_key_load(const char *path, uint8_t **key, size_t *len);
void hha_wire_key_free(uint8_t *key, size_t len);

/* The handshake MAC sent by the initiator (@from_initiator) or the acceptor. */
void hha_wire_auth_mac(const uint8_t *key, size_t keylen, bool from_initiator,
		       const uint8_t *hello_i, const uint8_t *hello_a, uint8_t *out);
/* Constant-time comparison of two MACs; true if equal. */
bool hha_wire_mac_equal(const uint8_t *a, const uint8_t *b);

/* Derive the session keys. 0, -ENOMEM, -EIO (OpenSSL failure). */
int hha_wire_sec_init(struct hha_wire_sec *sec, enum hha_wire_security mode, const uint8_t *key,
		      size_t keylen, const uint8_t *nonce_i, const uint8_t *nonce_a, bool initiator);
void hha_wire_sec_fini(struct hha_wire_sec *sec);

/* Tag bytes each frame carries in this mode (0 or 16). */
size_t hha_wire_sec_tag_len(const struct hha_wire_sec *sec);

/*
 * hha_wire_seal - protect one outgoing frame. @hdr is the encoded header;
 * @payload/@plen its payload. In encrypt mode the ciphertext goes to @out
 * (which may be @payload itself); otherwise @out is unused. Writes the tag.
 * Return: 0 or -EIO.
 */
int hha_wire_seal(struct hha_wire_sec *sec, const uint8_t *hdr, const uint8_t *payload, size_t plen,
		  uint8_t *out, uint8_t *tag);
/*
 * hha_wire_open - check (and in encrypt mode decrypt in place) one incoming
 * frame. Return: 0, or -EBADMSG for a frame that is not authentic.
 */
int hha_wire_open(struct hha_wire_sec *sec, const uint8_t *hdr, uint8_t *payload, size_t plen,
		  const uint8_t *tag);

#endif /* HHA_DISK_WIRE_SEC_H */
