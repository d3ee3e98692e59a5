/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Peer link security: the shared key, the handshake MAC, session keys and per-frame AEAD. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>

#include "core/internal.h"
#include "core/util.h"
#include "disk/wire-sec.h"

static const char auth_label[] = "hybridha disk auth v1";
static const char key_label_i2a[] = "hybridha disk key v1 initiator to acceptor";
static const char key_label_a2i[] = "hybridha disk key v1 acceptor to initiator";

int hha_wire_key_load(const char *path, uint8_t **key, size_t *len)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int fd, r;

	*key = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return hha_error(-errno, __func__, "cannot open key file %s: %s", path,
				 hha_strerror(errno));
	if (fstat(fd, &st) < 0) {
		r = hha_error(-errno, __func__, "cannot stat key file %s", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = hha_error(-EINVAL, __func__, "key file %s is not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IROTH | S_IWOTH)) {
		r = hha_error(-EACCES, __func__,
			      "key file %s is accessible by other users (mode %04o); refusing it "
			      "(chmod 600 it)", path, (unsigned)(st.st_mode & 07777));
		goto out;
	}
	if (st.st_size > HHA_WIRE_KEY_MAX + 2 || st.st_size < HHA_WIRE_KEY_MIN) {
		r = hha_error(-EINVAL, __func__, "key file %s must hold %d to %d bytes, not %lld",
			      path, HHA_WIRE_KEY_MIN, HHA_WIRE_KEY_MAX, (long long)st.st_size);
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t got = read(fd, buf + n, (size_t)st.st_size + 1 - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = hha_error(-errno, __func__, "cannot read key file %s", path);
			goto out;
		}
		if (got == 0 || (n += (size_t)got) > (size_t)st.st_size)
			break;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		n--;
	if (n < HHA_WIRE_KEY_MIN || n > HHA_WIRE_KEY_MAX) {
		r = hha_error(-EINVAL, __func__, "key file %s must hold %d to %d bytes", path,
			      HHA_WIRE_KEY_MIN, HHA_WIRE_KEY_MAX);
		goto out;
	}
	*key = (uint8_t *)buf;
	*len = n;
	buf = NULL;
	r = 0;
out:
	if (buf) {
		OPENSSL_cleanse(buf, (size_t)st.st_size + 1);
		free(buf);
	}
	close(fd);
	return r;
}

void hha_wire_key_free(uint8_t *key, size_t len)
{
	if (!key)
		return;
	OPENSSL_cleanse(key, len);
	free(key);
}

void hha_wire_auth_mac(const uint8_t *key, size_t keylen, bool from_initiator,
		       const uint8_t *hello_i, const uint8_t *hello_a, uint8_t *out)
{
	uint8_t msg[sizeof(auth_label) + 1 + 2 * HHA_WIRE_HELLO_LEN];
	unsigned int n = HHA_WIRE_MAC;

	memcpy(msg, auth_label, sizeof(auth_label));
	msg[sizeof(auth_label)] = from_initiator ? 'I' : 'A';
	memcpy(msg + sizeof(auth_label) + 1, hello_i, HHA_WIRE_HELLO_LEN);
	memcpy(msg + sizeof(auth_label) + 1 + HHA_WIRE_HELLO_LEN, hello_a, HHA_WIRE_HELLO_LEN);
	HMAC(EVP_sha256(), key, (int)keylen, msg, sizeof(msg), out, &n);
}

bool hha_wire_mac_equal(const uint8_t *a, const uint8_t *b)
{
	return CRYPTO_memcmp(a, b, HHA_WIRE_MAC) == 0;
}

static int hkdf(const uint8_t *key, size_t keylen, const uint8_t *salt, size_t saltlen,
		const char *info, uint8_t *out, size_t outlen)
{
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kctx = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[5];
	int r = -EIO;

	if (!kctx)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key, keylen);
	params[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, saltlen);
	params[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, strlen(info));
	params[4] = OSSL_PARAM_construct_end();
	if (EVP_KDF_derive(kctx, out, outlen, params) == 1)
		r = 0;
out:
	EVP_KDF_CTX_free(kctx);
	EVP_KDF_free(kdf);
	return r;
}

static int make_ctx(struct evp_cipher_ctx_st **ctx, const uint8_t *k, bool encrypt)
{
	*ctx = EVP_CIPHER_CTX_new();
	if (!*ctx)
		return -ENOMEM;
	if (EVP_CipherInit_ex(*ctx, EVP_aes_256_gcm(), NULL, k, NULL, encrypt ? 1 : 0) != 1)
		return -EIO;
	return 0;
}

int hha_wire_sec_init(struct hha_wire_sec *sec, enum hha_wire_security mode, const uint8_t *key,
		      size_t keylen, const uint8_t *nonce_i, const uint8_t *nonce_a, bool initiator)
{
	uint8_t salt[2 * HHA_WIRE_NONCE], k_i2a[32], k_a2i[32];
	int r;

	memset(sec, 0, sizeof(*sec));
	sec->mode = mode;
	if (mode == HHA_SEC_NONE)
		return 0;
	memcpy(salt, nonce_i, HHA_WIRE_NONCE);
	memcpy(salt + HHA_WIRE_NONCE, nonce_a, HHA_WIRE_NONCE);
	r = hkdf(key, keylen, salt, sizeof(salt), key_label_i2a, k_i2a, sizeof(k_i2a));
	if (r == 0)
		r = hkdf(key, keylen, salt, sizeof(salt), key_label_a2i, k_a2i, sizeof(k_a2i));
	if (r == 0)
		r = make_ctx(&sec->tx, initiator ? k_i2a : k_a2i, true);
	if (r == 0)
		r = make_ctx(&sec->rx, initiator ? k_a2i : k_i2a, false);
	OPENSSL_cleanse(k_i2a, sizeof(k_i2a));
	OPENSSL_cleanse(k_a2i, sizeof(k_a2i));
	if (r < 0)
		hha_wire_sec_fini(sec);
	return r;
}

void hha_wire_sec_fini(struct hha_wire_sec *sec)
{
	EVP_CIPHER_CTX_free(sec->tx);
	EVP_CIPHER_CTX_free(sec->rx);
	sec->tx = sec->rx = NULL;
}

size_t hha_wire_sec_tag_len(const struct hha_wire_sec *sec)
{
	return sec->mode == HHA_SEC_NONE ? 0 : HHA_WIRE_TAG;
}

static void make_iv(uint64_t ctr, uint8_t iv[12])
{
	uint64_t be = htobe64(ctr);

	memset(iv, 0, 4);
	memcpy(iv + 4, &be, 8);
}

/* Feed @len bytes (as AAD when @out is NULL), in chunks an int can count. */
static int update(EVP_CIPHER_CTX *ctx, uint8_t *out, const uint8_t *in, size_t len)
{
	while (len > 0) {
		int chunk = (int)HHA_MIN(len, (size_t)INT_MAX / 2), outl;
		if (EVP_CipherUpdate(ctx, out, &outl, in, chunk) != 1)
			return -1;
		in += chunk;
		if (out)
			out += chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

int hha_wire_seal(struct hha_wire_sec *sec, const uint8_t *hdr, const uint8_t *payload, size_t plen,
		  uint8_t *out, uint8_t *tag)
{
	uint8_t iv[12];
	int outl;

	if (sec->mode == HHA_SEC_NONE)
		return 0;
	make_iv(sec->tx_ctr++, iv);
	if (EVP_CipherInit_ex(sec->tx, NULL, NULL, NULL, iv, 1) != 1 ||
	    update(sec->tx, NULL, hdr, HHA_WIRE_HDR) < 0)
		return -EIO;
	if (plen && update(sec->tx, sec->mode == HHA_SEC_ENCRYPT ? out : NULL, payload, plen) < 0)
		return -EIO;
	if (EVP_CipherFinal_ex(sec->tx, iv, &outl) != 1 ||
	    EVP_CIPHER_CTX_ctrl(sec->tx, EVP_CTRL_GCM_GET_TAG, HHA_WIRE_TAG, tag) != 1)
		return -EIO;
	return 0;
}

int hha_wire_open(struct hha_wire_sec *sec, const uint8_t *hdr, uint8_t *payload, size_t plen,
		  const uint8_t *tag)
{
	uint8_t iv[12];
	int outl;

	if (sec->mode == HHA_SEC_NONE)
		return 0;
	make_iv(sec->rx_ctr++, iv);
	if (EVP_CipherInit_ex(sec->rx, NULL, NULL, NULL, iv, 0) != 1 ||
	    update(sec->rx, NULL, hdr, HHA_WIRE_HDR) < 0)
		return -EBADMSG;
	if (plen && update(sec->rx, sec->mode == HHA_SEC_ENCRYPT ? payload : NULL, payload, plen) < 0)
		return -EBADMSG;
	if (EVP_CIPHER_CTX_ctrl(sec->rx, EVP_CTRL_GCM_SET_TAG, HHA_WIRE_TAG, (void *)tag) != 1 ||
	    EVP_CipherFinal_ex(sec->rx, iv, &outl) != 1)
		return -EBADMSG;
	return 0;
}
