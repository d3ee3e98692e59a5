/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the run protocol's signed requests, hello, sealed frames and replay cache. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/internal.h"
#include "run/crypto.h"
#include "run/nonce.h"
#include "run/proto.h"

#define NOW 1800000000000ull
#define SKEW 30000

static const char secret1[] = "0123456789abcdef0123456789abcdef";
static const char secret2[] = "another secret of the same size!";

static void ring(struct hha_run_keyring *kr, unsigned id, const char *secret)
{
	memset(kr, 0, sizeof(*kr));
	assert_int_equal(hha_run_key_derive(id, secret, strlen(secret), &kr->keys[0]), 0);
	kr->n = 1;
	kr->send_id = id;
}

static void launch_rq(struct hha_run_request *rq, char **argv, char **env)
{
	memset(rq, 0, sizeof(*rq));
	rq->kind = HHA_RUN_KIND_LAUNCH;
	rq->src = 1;
	rq->dst = 2;
	rq->time_ms = NOW;
	memset(rq->nonce, 7, sizeof(rq->nonce));
	rq->user = "alice";
	rq->uid = 1000;
	rq->src_name = "n1";
	rq->argv = argv;
	rq->argc = 2;
	rq->env = env;
	rq->nenv = 1;
	rq->cwd = "/home/alice";
}

static void encode(uint8_t **buf, size_t *len)
{
	static char *argv[] = { "echo", "hi there", NULL }, *env[] = { "LANG=C", NULL };
	struct hha_run_keyring kr;
	struct hha_run_request rq;

	ring(&kr, 1, secret1);
	launch_rq(&rq, argv, env);
	assert_int_equal(hha_run_request_encode(&rq, &kr.keys[0], buf, len), 0);
}

static void test_request_roundtrip(void **state)
{
	struct hha_run_keyring kr;
	struct hha_run_request out;
	char err[256];
	uint8_t *buf;
	size_t len;

	(void)state;
	encode(&buf, &len);
	ring(&kr, 1, secret1);
	assert_int_equal(hha_run_request_total(buf, len), (long)len);
	assert_int_equal(hha_run_request_verify(buf, len, &kr, 2, NOW + 5, SKEW, &out, err, sizeof(err)), 0);
	assert_int_equal(out.kind, HHA_RUN_KIND_LAUNCH);
	assert_string_equal(out.user, "alice");
	assert_int_equal(out.uid, 1000);
	assert_string_equal(out.src_name, "n1");
	assert_int_equal(out.argc, 2);
	assert_string_equal(out.argv[1], "hi there");
	assert_null(out.argv[2]);
	assert_string_equal(out.env[0], "LANG=C");
	assert_string_equal(out.cwd, "/home/alice");
	assert_false(out.tty);
	hha_run_request_clear(&out);
	free(buf);
}

/* Every way a request can be wrong, each with the code the service maps to a refusal. */
static void test_request_refusals(void **state)
{
	static const struct {
		const char *what;
		size_t flip;       /* byte to flip, or SIZE_MAX */
		const char *secret;
		unsigned self;
		uint64_t now;
		int expect;
	} cases[] = {
		{ "good", SIZE_MAX, secret1, 2, NOW, 0 },
		{ "wrong key", SIZE_MAX, secret2, 2, NOW, -HHA_EAUTH },
		{ "flipped kind", 5, secret1, 2, NOW, -HHA_EAUTH },
		{ "flipped time", 15, secret1, 2, NOW, -HHA_EAUTH },
		{ "flipped nonce", 25, secret1, 2, NOW, -HHA_EAUTH },
		{ "flipped body", 50, secret1, 2, NOW, -HHA_EAUTH },
		{ "flipped mac", (size_t)-2, secret1, 2, NOW, -HHA_EAUTH },
		{ "unknown key id", 6, secret1, 2, NOW, -HHA_EAUTH },
		{ "bad magic", 0, secret1, 2, NOW, -EBADMSG },
		{ "other version", 4, secret1, 2, NOW, -HHA_EVERSION },
		{ "other node", SIZE_MAX, secret1, 3, NOW, -EXDEV },
		{ "from the past", SIZE_MAX, secret1, 2, NOW + SKEW + 1, -ETIME },
		{ "from the future", SIZE_MAX, secret1, 2, NOW - SKEW - 1, -ETIME },
		{ "just within", SIZE_MAX, secret1, 2, NOW + SKEW, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct hha_run_keyring kr;
		struct hha_run_request out;
		char err[256] = "";
		uint8_t *buf;
		size_t len;
		int r;

		encode(&buf, &len);
		ring(&kr, 1, cases[i].secret);
		if (cases[i].flip == (size_t)-2)
			buf[len - 1] ^= 1;
		else if (cases[i].flip != SIZE_MAX)
			buf[cases[i].flip] ^= 0x40;
		r = hha_run_request_verify(buf, len, &kr, cases[i].self, cases[i].now, SKEW, &out, err,
					   sizeof(err));
		if (r != cases[i].expect)
			fail_msg("%s: got %d (%s), expected %d", cases[i].what, r, err, cases[i].expect);
		if (r == 0)
			hha_run_request_clear(&out);
		free(buf);
	}
}

/* A key holder sending nonsense in the body: refused, nothing crashes. */
static void test_request_bad_bodies(void **state)
{
	static const char *const bodies[] = {
		"", "[]", "{", "{\"user\":\"alice\"}", "{\"user\":\"\",\"uid\":1,\"argv\":[\"x\"],\"env\":[]}",
		"{\"user\":\"a b\",\"uid\":1,\"argv\":[\"x\"],\"env\":[]}",
		"{\"user\":\"a\",\"uid\":-1,\"argv\":[\"x\"],\"env\":[]}",
		"{\"user\":\"a\",\"uid\":1,\"argv\":[],\"env\":[]}",
		"{\"user\":\"a\",\"uid\":1,\"argv\":[\"\"],\"env\":[]}",
		"{\"user\":\"a\",\"uid\":1,\"argv\":[1],\"env\":[]}",
		"{\"user\":\"a\",\"uid\":1,\"argv\":[\"x\\u0000y\"],\"env\":[]}",
		"{\"user\":\"a\",\"uid\":1,\"argv\":[\"x\"],\"env\":[\"NOEQUALS\"]}",
		"{\"user\":\"a\",\"uid\":1,\"argv\":[\"x\"],\"env\":[\"=x\"]}",
		"{\"user\":\"a\",\"uid\":1,\"argv\":[\"x\"],\"env\":[],\"cwd\":\"relative\"}",
		"{\"user\":\"a\",\"uid\":1,\"argv\":[\"x\"],\"env\":[],\"tty\":{\"rows\":1}}",
		"{\"user\":\"a\",\"uid\":1,\"argv\":[\"x\"],\"env\":[],\"tty\":{\"term\":\"x\",\"rows\":70000}}",
		"{\"user\":\"a\",\"uid\":1,\"argv\":[\"x\"],\"env\":[]} trailing",
	};
	struct hha_run_keyring kr;

	(void)state;
	ring(&kr, 1, secret1);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		size_t blen = strlen(bodies[i]), len = HHA_RUN_REQ_HDR_LEN + blen + HHA_RUN_MAC_LEN;
		uint8_t *buf = calloc(1, len);
		struct hha_run_request out;
		char err[256];
		int r;

		memcpy(buf, HHA_RUN_MAGIC_REQ, 4);
		buf[4] = HHA_RUN_PROTO_VERSION;
		buf[5] = HHA_RUN_KIND_LAUNCH;
		buf[6] = 1;
		buf[8] = 2;
		hha_put_be64(buf + 12, NOW);
		hha_put_be32(buf + 36, (uint32_t)blen);
		memcpy(buf + HHA_RUN_REQ_HDR_LEN, bodies[i], blen);
		hha_run_hmac(kr.keys[0].mac, buf, len - HHA_RUN_MAC_LEN, buf + len - HHA_RUN_MAC_LEN);
		r = hha_run_request_verify(buf, len, &kr, 2, NOW, SKEW, &out, err, sizeof(err));
		if (r != -EBADMSG)
			fail_msg("body %zu `%s': got %d, expected -EBADMSG", i, bodies[i], r);
		free(buf);
	}
}

static void test_nonces(void **state)
{
	struct hha_run_nonces *c;
	uint8_t n1[HHA_RUN_NONCE_LEN] = { 1 }, n2[HHA_RUN_NONCE_LEN] = { 2 };

	(void)state;
	assert_int_equal(hha_run_nonces_new(NOW, 2 * SKEW, 3, &c), 0);
	assert_int_equal(hha_run_nonces_check(c, n1, NOW + 10, NOW + 10), 0);
	assert_int_equal(hha_run_nonces_check(c, n1, NOW + 10, NOW + 20), -EALREADY);
	assert_int_equal(hha_run_nonces_check(c, n2, NOW + 10, NOW + 20), 0);
	/* Stamped before the cache existed: a previous instance may have seen it. */
	n2[1] = 9;
	assert_int_equal(hha_run_nonces_check(c, n2, NOW - 1, NOW + 20), -EALREADY);
	n2[1] = 10;
	assert_int_equal(hha_run_nonces_check(c, n2, NOW + 30, NOW + 30), 0);
	n2[1] = 11;
	assert_int_equal(hha_run_nonces_check(c, n2, NOW + 40, NOW + 40), -EBUSY);
	/* Once the first ones expire, there is room again; the expired nonce is
	 * still refused by the request's time check, not by the cache. */
	assert_int_equal(hha_run_nonces_check(c, n2, NOW + 3 * SKEW, NOW + 3 * SKEW), 0);
	assert_int_equal(hha_run_nonces_count(c), 1);
	hha_run_nonces_free(c);
}

static void pair(struct hha_run_aead **tx, struct hha_run_aead **rx)
{
	uint8_t secret[HHA_RUN_KEY_LEN] = { 3 }, cn[HHA_RUN_NONCE_LEN] = { 4 }, sn[HHA_RUN_NONCE_LEN] = { 5 };
	struct hha_run_dirkey c2s, s2c;

	assert_int_equal(hha_run_stream_keys(secret, cn, sn, &c2s, &s2c), 0);
	assert_memory_not_equal(&c2s, &s2c, sizeof(c2s));
	assert_int_equal(hha_run_aead_new(&c2s, true, tx), 0);
	assert_int_equal(hha_run_aead_new(&c2s, false, rx), 0);
}

static size_t frame(struct hha_run_aead *tx, uint8_t *f, uint8_t type, const char *payload)
{
	size_t n = strlen(payload);

	f[4] = type;
	f[5] = 1;
	memcpy(f + HHA_RUN_FRAME_HDR, payload, n);
	assert_int_equal(hha_run_frame_seal(tx, f, n), 0);
	return HHA_RUN_FRAME_OVERHEAD + n;
}

static void test_frames(void **state)
{
	struct hha_run_aead *tx, *rx;
	uint8_t f1[128], f2[128], f3[128], copy[128], type, stream, *pl;
	size_t n1, n2, n3, plen, used, need;

	(void)state;
	pair(&tx, &rx);
	n1 = frame(tx, f1, HHA_RUN_F_DATA, "first");
	n2 = frame(tx, f2, HHA_RUN_F_DATA, "second");
	n3 = frame(tx, f3, HHA_RUN_F_EOF, "");
	/* Partial frames ask for more. */
	assert_int_equal(hha_run_frame_open(rx, f1, 3, &need, &type, &stream, &pl, &plen, &used), 0);
	assert_int_equal(need, 4);
	assert_int_equal(hha_run_frame_open(rx, f1, n1 - 1, &need, &type, &stream, &pl, &plen, &used), 0);
	assert_int_equal(need, n1);
	/* Tampered: any byte (a longer length only waits for bytes that will not
	 * authenticate either). Reordered: the second frame first. Neither opens. */
	for (size_t i = 0; i < n1; i++) {
		memcpy(copy, f1, n1);
		copy[i] ^= 1;
		assert_int_not_equal(hha_run_frame_open(rx, copy, n1, NULL, &type, &stream, &pl, &plen, &used), 1);
	}
	memcpy(copy, f2, n2);
	assert_int_equal(hha_run_frame_open(rx, copy, n2, NULL, &type, &stream, &pl, &plen, &used),
			 -HHA_EAUTH);
	/* In order they open, and a replay of the first one does not. */
	memcpy(copy, f1, n1);
	assert_int_equal(hha_run_frame_open(rx, f1, n1, NULL, &type, &stream, &pl, &plen, &used), 1);
	assert_int_equal(type, HHA_RUN_F_DATA);
	assert_int_equal(stream, 1);
	assert_int_equal(used, n1);
	assert_memory_equal(pl, "first", 5);
	assert_int_equal(hha_run_frame_open(rx, copy, n1, NULL, &type, &stream, &pl, &plen, &used),
			 -HHA_EAUTH);
	assert_int_equal(hha_run_frame_open(rx, f2, n2, NULL, &type, &stream, &pl, &plen, &used), 1);
	assert_memory_equal(pl, "second", 6);
	assert_int_equal(hha_run_frame_open(rx, f3, n3, NULL, &type, &stream, &pl, &plen, &used), 1);
	assert_int_equal(type, HHA_RUN_F_EOF);
	assert_int_equal(plen, 0);
	/* Impossible lengths are refused before anything is read. */
	hha_put_be32(copy, 1);
	assert_int_equal(hha_run_frame_open(rx, copy, 64, NULL, &type, &stream, &pl, &plen, &used), -EBADMSG);
	hha_put_be32(copy, HHA_RUN_FRAME_MAX_PAYLOAD + 3);
	assert_int_equal(hha_run_frame_open(rx, copy, 64, NULL, &type, &stream, &pl, &plen, &used), -EBADMSG);
	hha_run_aead_free(tx);
	hha_run_aead_free(rx);
}

static void test_hello(void **state)
{
	uint8_t h[HHA_RUN_HELLO_LEN], sn[HHA_RUN_NONCE_LEN] = { 9, 8, 7 }, got[HHA_RUN_NONCE_LEN];
	enum hha_run_hello_status st;

	(void)state;
	hha_run_hello_encode(h, HHA_RUN_HELLO_OK, sn);
	assert_int_equal(hha_run_hello_decode(h, &st, got), 0);
	assert_int_equal(st, HHA_RUN_HELLO_OK);
	assert_memory_equal(got, sn, sizeof(sn));
	hha_run_hello_encode(h, HHA_RUN_HELLO_REPLAY, NULL);
	assert_int_equal(hha_run_hello_decode(h, &st, got), 0);
	assert_int_equal(st, HHA_RUN_HELLO_REPLAY);
	h[5] = 200;
	assert_int_equal(hha_run_hello_decode(h, &st, got), -EBADMSG);
	h[4] = 9;
	assert_int_equal(hha_run_hello_decode(h, &st, got), -HHA_EVERSION);
	h[0] = 'X';
	assert_int_equal(hha_run_hello_decode(h, &st, got), -EBADMSG);
}

static void test_base64(void **state)
{
	static const char *const in[] = { "", "a", "ab", "abc", "abcd", "\x00\xff\x10" };
	(void)state;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		size_t n = i == 5 ? 3 : strlen(in[i]), m = 99;
		char *t = hha_run_b64_encode(in[i], n);
		uint8_t *back = hha_run_b64_decode(t, &m);
		assert_non_null(back);
		assert_int_equal(m, n);
		assert_memory_equal(back, in[i], n);
		free(t);
		free(back);
	}
	assert_null(hha_run_b64_decode("abc", &(size_t){ 0 }));
	assert_null(hha_run_b64_decode("a*b=", &(size_t){ 0 }));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_roundtrip),
		cmocka_unit_test(test_request_refusals),
		cmocka_unit_test(test_request_bad_bodies),
		cmocka_unit_test(test_nonces),
		cmocka_unit_test(test_frames),
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_base64),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
