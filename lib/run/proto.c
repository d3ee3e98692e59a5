/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The remote launch wire protocol: signed requests, the server's hello, and sealed stream frames. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/internal.h"
#include "run/proto.h"

void hha_run_request_clear(struct hha_run_request *rq)
{
	for (size_t i = 0; rq->argv && i < rq->argc; i++)
		free(rq->argv[i]);
	for (size_t i = 0; rq->env && i < rq->nenv; i++)
		free(rq->env[i]);
	free(rq->argv);
	free(rq->env);
	free(rq->user);
	free(rq->src_name);
	free(rq->cwd);
	free(rq->term);
	memset(rq, 0, sizeof(*rq));
}

static json_object *strv_json(char *const *v, size_t n)
{
	json_object *a = json_object_new_array_ext((int)n);

	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static json_object *body_json(const struct hha_run_request *rq)
{
	json_object *o = json_object_new_object();

	if (rq->kind != HHA_RUN_KIND_LAUNCH)
		return o;
	json_object_object_add(o, "user", json_object_new_string(rq->user ? rq->user : ""));
	json_object_object_add(o, "uid", json_object_new_int64(rq->uid));
	if (rq->src_name)
		json_object_object_add(o, "from", json_object_new_string(rq->src_name));
	json_object_object_add(o, "argv", strv_json(rq->argv, rq->argc));
	json_object_object_add(o, "env", strv_json(rq->env, rq->nenv));
	if (rq->cwd)
		json_object_object_add(o, "cwd", json_object_new_string(rq->cwd));
	if (rq->tty) {
		json_object *t = json_object_new_object();
		json_object_object_add(t, "term", json_object_new_string(rq->term ? rq->term : "dumb"));
		json_object_object_add(t, "rows", json_object_new_int(rq->rows));
		json_object_object_add(t, "cols", json_object_new_int(rq->cols));
		json_object_object_add(o, "tty", t);
	}
	return o;
}

int hha_run_request_encode(const struct hha_run_request *rq, const struct hha_run_key *k,
			   uint8_t **out, size_t *len)
{
	json_object *body = body_json(rq);
	const char *b = json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
								     JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t blen = strlen(b), total = HHA_RUN_REQ_HDR_LEN + blen + HHA_RUN_MAC_LEN;
	uint8_t *p;
	int r = 0;

	if (blen > HHA_RUN_REQ_BODY_MAX) {
		json_object_put(body);
		return -E2BIG;
	}
	p = calloc(1, total);
	if (!p) {
		json_object_put(body);
		return -ENOMEM;
	}
	memcpy(p, HHA_RUN_MAGIC_REQ, 4);
	p[4] = HHA_RUN_PROTO_VERSION;
	p[5] = rq->kind;
	p[6] = (uint8_t)k->id;
	p[7] = rq->src;
	p[8] = rq->dst;
	hha_put_be64(p + 12, rq->time_ms);
	memcpy(p + 20, rq->nonce, HHA_RUN_NONCE_LEN);
	hha_put_be32(p + 36, (uint32_t)blen);
	memcpy(p + HHA_RUN_REQ_HDR_LEN, b, blen);
	json_object_put(body);
	r = hha_run_hmac(k->mac, p, HHA_RUN_REQ_HDR_LEN + blen, p + HHA_RUN_REQ_HDR_LEN + blen);
	if (r < 0) {
		free(p);
		return r;
	}
	*out = p;
	*len = total;
	return 0;
}

long hha_run_request_total(const uint8_t *hdr, size_t len)
{
	uint32_t blen;

	if (len < HHA_RUN_REQ_HDR_LEN || memcmp(hdr, HHA_RUN_MAGIC_REQ, 4) != 0)
		return -EBADMSG;
	if (hdr[4] != HHA_RUN_PROTO_VERSION)
		return -HHA_EVERSION;
	blen = hha_get_be32(hdr + 36);
	if (blen > HHA_RUN_REQ_BODY_MAX)
		return -EBADMSG;
	return (long)(HHA_RUN_REQ_HDR_LEN + blen + HHA_RUN_MAC_LEN);
}

#define FAIL(code, ...) (snprintf(err, errlen, __VA_ARGS__), (code))

/* A string member without NUL bytes, at most @max bytes, or NULL. */
static const char *get_str(json_object *o, const char *key, size_t max)
{
	json_object *v;
	const char *s;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) != strlen(s) || strlen(s) > max)
		return NULL;
	return s;
}

/* An array of strings without NUL bytes into a NULL-terminated vector. */
static int get_strv(json_object *o, const char *key, size_t min, size_t max, bool env,
		    char ***out, size_t *n)
{
	json_object *a;
	size_t len;

	if (!json_object_object_get_ex(o, key, &a) || !json_object_is_type(a, json_type_array))
		return -EBADMSG;
	len = json_object_array_length(a);
	if (len < min || len > max)
		return -EBADMSG;
	*out = calloc(len + 1, sizeof(char *));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		json_object *v = json_object_array_get_idx(a, i);
		const char *s;
		if (!json_object_is_type(v, json_type_string))
			return -EBADMSG;
		s = json_object_get_string(v);
		if ((size_t)json_object_get_string_len(v) != strlen(s))
			return -EBADMSG;
		/* An environment entry is NAME=value with a non-empty NAME. */
		if (env && (s[0] == '=' || !strchr(s, '=')))
			return -EBADMSG;
		if (!((*out)[i] = strdup(s)))
			return -ENOMEM;
		*n = i + 1;
	}
	return 0;
}

static bool valid_user(const char *u)
{
	if (!u || !*u || *u == '-')
		return false;
	for (; *u; u++)
		if (!((*u >= 'a' && *u <= 'z') || (*u >= 'A' && *u <= 'Z') || (*u >= '0' && *u <= '9') ||
		      *u == '_' || *u == '-' || *u == '.' || *u == '$'))
			return false;
	return true;
}

static int decode_launch(const uint8_t *body, size_t blen, struct hha_run_request *rq, char *err,
			 size_t errlen)
{
	struct json_tokener *tok = json_tokener_new_ex(16);
	json_object *o, *v, *tty;
	const char *s;
	int64_t uid;
	int r = -EBADMSG;

	if (!tok)
		return FAIL(-ENOMEM, "out of memory");
	o = json_tokener_parse_ex(tok, (const char *)body, (int)blen);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != blen || !json_object_is_type(o, json_type_object)) {
		r = FAIL(-EBADMSG, "request body is not a JSON object");
		goto out;
	}
	s = get_str(o, "user", 64);
	if (!valid_user(s)) {
		r = FAIL(-EBADMSG, "request without a valid user name");
		goto out;
	}
	rq->user = strdup(s);
	if (!json_object_object_get_ex(o, "uid", &v) || !json_object_is_type(v, json_type_int) ||
	    (uid = json_object_get_int64(v)) < 0 || uid > UINT32_MAX) {
		r = FAIL(-EBADMSG, "request without a valid uid");
		goto out;
	}
	rq->uid = (uint32_t)uid;
	if ((s = get_str(o, "from", 63)))
		rq->src_name = strdup(s);
	if (get_strv(o, "argv", 1, HHA_RUN_MAX_ARGS, false, &rq->argv, &rq->argc) < 0 ||
	    rq->argv[0][0] == '\0') {
		r = FAIL(-EBADMSG, "request without a valid argv");
		goto out;
	}
	if (get_strv(o, "env", 0, HHA_RUN_MAX_ENV, true, &rq->env, &rq->nenv) < 0) {
		r = FAIL(-EBADMSG, "request with a malformed environment");
		goto out;
	}
	if ((s = get_str(o, "cwd", 4095))) {
		if (s[0] != '/') {
			r = FAIL(-EBADMSG, "request with a relative working directory");
			goto out;
		}
		rq->cwd = strdup(s);
	}
	if (json_object_object_get_ex(o, "tty", &tty)) {
		int64_t rows = 0, cols = 0;
		if (!json_object_is_type(tty, json_type_object) || !(s = get_str(tty, "term", 63))) {
			r = FAIL(-EBADMSG, "request with a malformed tty");
			goto out;
		}
		if (json_object_object_get_ex(tty, "rows", &v))
			rows = json_object_get_int64(v);
		if (json_object_object_get_ex(tty, "cols", &v))
			cols = json_object_get_int64(v);
		if (rows < 0 || rows > 65535 || cols < 0 || cols > 65535) {
			r = FAIL(-EBADMSG, "request with an impossible window size");
			goto out;
		}
		rq->tty = true;
		rq->term = strdup(s);
		rq->rows = (unsigned)rows;
		rq->cols = (unsigned)cols;
	}
	r = 0;
out:
	json_object_put(o);
	json_tokener_free(tok);
	return r;
}

int hha_run_request_verify(const uint8_t *buf, size_t len, const struct hha_run_keyring *kr,
			   unsigned self_id, uint64_t now_ms, uint64_t max_skew_ms,
			   struct hha_run_request *out, char *err, size_t errlen)
{
	uint8_t mac[HHA_RUN_MAC_LEN];
	const struct hha_run_key *k;
	long total = hha_run_request_total(buf, len);
	size_t blen;
	uint64_t t;
	int r;

	memset(out, 0, sizeof(*out));
	if (total == -HHA_EVERSION)
		return FAIL(-HHA_EVERSION, "request of protocol version %u; this node speaks %d",
			    buf[4], HHA_RUN_PROTO_VERSION);
	if (total < 0 || (size_t)total != len)
		return FAIL(-EBADMSG, "malformed request");
	blen = len - HHA_RUN_REQ_HDR_LEN - HHA_RUN_MAC_LEN;
	k = hha_run_keyring_find(kr, buf[6]);
	if (!k)
		return FAIL(-HHA_EAUTH, "request signed with unknown key id %u", buf[6]);
	if (hha_run_hmac(k->mac, buf, len - HHA_RUN_MAC_LEN, mac) < 0)
		return FAIL(-EIO, "HMAC failed");
	if (CRYPTO_memcmp(mac, buf + len - HHA_RUN_MAC_LEN, HHA_RUN_MAC_LEN) != 0)
		return FAIL(-HHA_EAUTH, "request fails authentication (wrong cluster key or forged)");
	out->kind = buf[5];
	out->key_id = buf[6];
	out->src = buf[7];
	out->dst = buf[8];
	out->time_ms = t = hha_get_be64(buf + 12);
	memcpy(out->nonce, buf + 20, HHA_RUN_NONCE_LEN);
	if (out->dst != self_id)
		return FAIL(-EXDEV, "request meant for node %u, this is node %u", out->dst, self_id);
	if (t + max_skew_ms < now_ms || t > now_ms + max_skew_ms)
		return FAIL(-ETIME, "request time is %+lld ms from this node's clock (bound %llu ms)",
			    (long long)(t - now_ms), (unsigned long long)max_skew_ms);
	if (out->kind == HHA_RUN_KIND_LOAD)
		return 0;
	if (out->kind != HHA_RUN_KIND_LAUNCH)
		return FAIL(-EBADMSG, "unknown request kind %u", out->kind);
	r = decode_launch(buf + HHA_RUN_REQ_HDR_LEN, blen, out, err, errlen);
	if (r < 0)
		hha_run_request_clear(out);
	return r;
}

int hha_run_request_decode_body(const uint8_t *body, size_t len, struct hha_run_request *rq,
				char *err, size_t errlen)
{
	int r = decode_launch(body, len, rq, err, errlen);

	if (r < 0)
		hha_run_request_clear(rq);
	else
		rq->kind = HHA_RUN_KIND_LAUNCH;
	return r;
}

void hha_run_hello_encode(uint8_t out[HHA_RUN_HELLO_LEN], enum hha_run_hello_status st,
			  const uint8_t snonce[HHA_RUN_NONCE_LEN])
{
	memset(out, 0, HHA_RUN_HELLO_LEN);
	memcpy(out, HHA_RUN_MAGIC_HELLO, 4);
	out[4] = HHA_RUN_PROTO_VERSION;
	out[5] = (uint8_t)st;
	if (snonce)
		memcpy(out + 8, snonce, HHA_RUN_NONCE_LEN);
}

int hha_run_hello_decode(const uint8_t in[HHA_RUN_HELLO_LEN], enum hha_run_hello_status *st,
			 uint8_t snonce[HHA_RUN_NONCE_LEN])
{
	if (memcmp(in, HHA_RUN_MAGIC_HELLO, 4) != 0)
		return -EBADMSG;
	if (in[4] != HHA_RUN_PROTO_VERSION)
		return -HHA_EVERSION;
	if (in[5] > HHA_RUN_HELLO_MALFORMED)
		return -EBADMSG;
	*st = (enum hha_run_hello_status)in[5];
	memcpy(snonce, in + 8, HHA_RUN_NONCE_LEN);
	return 0;
}

const char *hha_run_hello_word(enum hha_run_hello_status st)
{
	switch (st) {
	case HHA_RUN_HELLO_OK: return "accepted";
	case HHA_RUN_HELLO_VERSION: return "protocol version not supported";
	case HHA_RUN_HELLO_AUTH: return "authentication failed (do the nodes share the cluster key?)";
	case HHA_RUN_HELLO_SKEW: return "clocks differ too much between the nodes";
	case HHA_RUN_HELLO_REPLAY: return "request replayed";
	case HHA_RUN_HELLO_WRONG_NODE: return "request meant for another node";
	case HHA_RUN_HELLO_BUSY: return "too many sessions";
	case HHA_RUN_HELLO_MALFORMED: return "malformed request";
	}
	return "refused";
}

int hha_run_frame_seal(struct hha_run_aead *a, uint8_t *frame, size_t payload_len)
{
	if (payload_len > HHA_RUN_FRAME_MAX_PAYLOAD)
		return -E2BIG;
	hha_put_be32(frame, (uint32_t)(payload_len + 2));
	return hha_run_aead_seal(a, frame, 4, frame + 4, payload_len + 2,
				 frame + HHA_RUN_FRAME_HDR + payload_len);
}

int hha_run_frame_open(struct hha_run_aead *a, uint8_t *buf, size_t avail, size_t *need,
		       uint8_t *type, uint8_t *stream, uint8_t **payload, size_t *plen,
		       size_t *consumed)
{
	uint32_t len;
	size_t total;
	int r;

	if (avail < 4) {
		if (need)
			*need = 4;
		return 0;
	}
	len = hha_get_be32(buf);
	if (len < 2 || len > HHA_RUN_FRAME_MAX_PAYLOAD + 2)
		return -EBADMSG;
	total = 4 + len + HHA_RUN_TAG_LEN;
	if (need)
		*need = total;
	if (avail < total)
		return 0;
	r = hha_run_aead_open(a, buf, 4, buf + 4, len, buf + 4 + len);
	if (r < 0)
		return r;
	*type = buf[4];
	*stream = buf[5];
	*payload = buf + HHA_RUN_FRAME_HDR;
	*plen = len - 2;
	*consumed = total;
	return 1;
}
