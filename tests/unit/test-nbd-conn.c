/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the NBD connection state machine, driven from memory (no sockets). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../nbd/conn-harness.h"
#include "disk/nbd-proto.h"

/* ---- building client input ---- */

struct script {
	uint8_t b[1 << 18];
	size_t n;
};

static void s_raw(struct script *s, const void *p, size_t n)
{
	assert_true(s->n + n <= sizeof(s->b));
	memcpy(s->b + s->n, p, n);
	s->n += n;
}

static void s_flags(struct script *s, uint32_t f)
{
	s->n += hha_nbd_encode_client_flags(s->b + s->n, f);
}

static void s_opt(struct script *s, uint32_t opt, const void *data, uint32_t len)
{
	s->n += hha_nbd_encode_opt_hdr(s->b + s->n, opt, len);
	if (len)
		s_raw(s, data, len);
}

static void s_go(struct script *s, uint32_t opt, const char *name, bool block_size)
{
	static const uint16_t bs = HHA_NBD_INFO_BLOCK_SIZE;
	uint8_t d[128];
	size_t n = hha_nbd_encode_info_req(d, name, (uint32_t)strlen(name), &bs, block_size ? 1 : 0);

	s_opt(s, opt, d, (uint32_t)n);
}

static void s_req(struct script *s, uint16_t type, uint16_t flags, uint64_t cookie, uint64_t off,
		  uint32_t len, const void *payload)
{
	struct hha_nbd_request r = { flags, type, cookie, off, len };

	s->n += hha_nbd_encode_request(s->b + s->n, &r);
	if (payload)
		s_raw(s, payload, len);
}

/* A client that negotiated and is in transmission. */
static void s_hello(struct script *s, bool structured)
{
	s_flags(s, 3);
	if (structured)
		s_opt(s, HHA_NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	s_go(s, HHA_NBD_OPT_GO, "hha", true);
}

/* ---- reading server output ---- */

struct cursor {
	const uint8_t *p;
	size_t n, off;
};

static struct cursor out_of(struct harness *h)
{
	struct cursor c = { h->out, h->out_len, 0 };
	uint16_t f;

	assert_int_equal(hha_nbd_decode_greeting(c.p, c.n, &f), 0);
	assert_int_equal(f, HHA_NBD_FLAG_FIXED_NEWSTYLE | HHA_NBD_FLAG_NO_ZEROES);
	c.off = HHA_NBD_GREETING_LEN;
	return c;
}

static const uint8_t *take(struct cursor *c, size_t n)
{
	const uint8_t *p = c->p + c->off;

	assert_true(c->off + n <= c->n);
	c->off += n;
	return p;
}

static uint32_t opt_reply(struct cursor *c, const uint8_t **data, uint32_t *len)
{
	struct hha_nbd_opt_reply r;

	assert_int_equal(hha_nbd_decode_opt_reply(c->p + c->off, c->n - c->off, &r), 0);
	take(c, HHA_NBD_OPT_REPLY_HDR_LEN);
	if (data)
		*data = c->p + c->off;
	if (len)
		*len = r.len;
	take(c, r.len);
	return r.type;
}

/* Skip the replies of a successful GO/INFO; returns the transmission flags. */
static uint16_t go_ok(struct cursor *c)
{
	const uint8_t *d;
	uint32_t len, t;
	uint16_t tflags = 0;

	while ((t = opt_reply(c, &d, &len)) == HHA_NBD_REP_INFO)
		if (hha_get_be16(d) == HHA_NBD_INFO_EXPORT)
			tflags = hha_get_be16(d + 10);
	assert_int_equal(t, HHA_NBD_REP_ACK);
	return tflags;
}

static uint32_t simple(struct cursor *c, uint64_t *cookie)
{
	uint32_t err;
	uint64_t ck;

	assert_int_equal(hha_nbd_decode_simple_reply(c->p + c->off, c->n - c->off, &err, &ck), 0);
	take(c, HHA_NBD_SIMPLE_REPLY_LEN);
	if (cookie)
		*cookie = ck;
	return err;
}

static struct hha_nbd_chunk chunk(struct cursor *c)
{
	struct hha_nbd_chunk ch;

	assert_int_equal(hha_nbd_decode_chunk(c->p + c->off, c->n - c->off, &ch), 0);
	take(c, HHA_NBD_CHUNK_HDR_LEN);
	return ch;
}

static void at_end(struct cursor *c)
{
	assert_int_equal(c->off, c->n);
}

/* ---- tests ---- */

static void test_go(void **state)
{
	struct harness h;
	struct script s = { .n = 0 };
	struct cursor c;
	const uint8_t *d;
	uint32_t len;

	(void)state;
	harness_init(&h, NULL, NULL);
	assert_true(harness_wants(&h) & HHA_NBD_CONN_HANDSHAKE);
	s_flags(&s, 3);
	s_go(&s, HHA_NBD_OPT_GO, "", true);
	harness_feed(&h, s.b, s.n, 0);
	c = out_of(&h);
	assert_int_equal(opt_reply(&c, &d, &len), HHA_NBD_REP_INFO);
	assert_int_equal(len, 12);
	assert_int_equal(hha_get_be16(d), HHA_NBD_INFO_EXPORT);
	assert_true(hha_get_be64(d + 2) == HARNESS_DISK_SIZE);
	assert_int_equal(hha_get_be16(d + 10),
			 HHA_NBD_FLAG_HAS_FLAGS | HHA_NBD_FLAG_SEND_FLUSH | HHA_NBD_FLAG_SEND_FUA |
				 HHA_NBD_FLAG_SEND_TRIM | HHA_NBD_FLAG_SEND_WRITE_ZEROES |
				 HHA_NBD_FLAG_SEND_CACHE | HHA_NBD_FLAG_SEND_FAST_ZERO);
	assert_int_equal(opt_reply(&c, &d, &len), HHA_NBD_REP_INFO);
	assert_int_equal(len, 14);
	assert_int_equal(hha_get_be32(d + 2), 512);
	assert_int_equal(hha_get_be32(d + 6), 4096);
	assert_int_equal(hha_get_be32(d + 10), 65536);
	assert_int_equal(opt_reply(&c, NULL, NULL), HHA_NBD_REP_ACK);
	at_end(&c);
	assert_int_equal(harness_wants(&h), HHA_NBD_CONN_READ);
	harness_fini(&h);
}

/* A whole session; the same bytes must come out however the input is cut
 * and however little the transport takes per send. */
static void session_script(struct script *s)
{
	static uint8_t data[8192];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31);
	s_flags(s, 3);
	s_opt(s, 99, "junk", 4);
	s_opt(s, HHA_NBD_OPT_LIST, NULL, 0);
	s_go(s, HHA_NBD_OPT_INFO, "nope", false);
	s_opt(s, HHA_NBD_OPT_STRUCTURED_REPLY, NULL, 0);
	s_go(s, HHA_NBD_OPT_GO, "hha", true);
	s_req(s, HHA_NBD_CMD_WRITE, HHA_NBD_CMD_FLAG_FUA, 1, 4096, sizeof(data), data);
	s_req(s, HHA_NBD_CMD_READ, 0, 2, 4096, sizeof(data), NULL);
	s_req(s, HHA_NBD_CMD_WRITE, 0, 3, HARNESS_DISK_SIZE, 512, data); /* ENOSPC, skipped */
	s_req(s, HHA_NBD_CMD_READ, 0, 4, 1, 512, NULL);                   /* EINVAL */
	s_req(s, 77, 0, 5, 0, 0, NULL);                                   /* EINVAL */
	s_req(s, HHA_NBD_CMD_FLUSH, 0, 6, 0, 0, NULL);
	s_req(s, HHA_NBD_CMD_WRITE_ZEROES, HHA_NBD_CMD_FLAG_NO_HOLE, 7, 4096, 4096, NULL);
	s_req(s, HHA_NBD_CMD_READ, 0, 8, 4096, 8192, NULL);
	s_req(s, HHA_NBD_CMD_DISC, 0, 9, 0, 0, NULL);
}

static void run_session(struct harness *h, size_t chunk, size_t send_limit)
{
	struct script *s = calloc(1, sizeof(*s));

	harness_init(h, NULL, NULL);
	h->send_limit = send_limit;
	session_script(s);
	for (size_t off = 0; off < s->n;) {
		size_t step = chunk ? chunk : s->n - off;

		if (step > s->n - off)
			step = s->n - off;
		harness_feed(h, s->b + off, step, chunk);
		off += step;
		while (harness_wants(h) & HHA_NBD_CONN_WRITE)
			harness_flush(h);
	}
	assert_true(harness_wants(h) & HHA_NBD_CONN_DONE);
	free(s);
}

static void test_session_fragments(void **state)
{
	static const size_t cuts[][2] = { { 1, 0 }, { 7, 0 }, { 29, 0 }, { 4096, 0 },
					  { 0, 1 }, { 0, 5 }, { 13, 3 } };
	struct harness ref, h;
	struct cursor c;
	const uint8_t *d;
	uint64_t ck;
	struct hha_nbd_chunk ch;

	(void)state;
	run_session(&ref, 0, 0);
	c = out_of(&ref);
	assert_int_equal(opt_reply(&c, NULL, NULL), HHA_NBD_REP_ERR_UNSUP);
	assert_int_equal(opt_reply(&c, &d, NULL), HHA_NBD_REP_SERVER);
	assert_int_equal(opt_reply(&c, NULL, NULL), HHA_NBD_REP_ACK);
	assert_int_equal(opt_reply(&c, NULL, NULL), HHA_NBD_REP_ERR_UNKNOWN);
	assert_int_equal(opt_reply(&c, NULL, NULL), HHA_NBD_REP_ACK);
	assert_true(go_ok(&c) & HHA_NBD_FLAG_SEND_DF);
	assert_int_equal(simple(&c, &ck), 0);
	assert_true(ck == 1);
	ch = chunk(&c);
	assert_true(ch.cookie == 2 && ch.type == HHA_NBD_REPLY_TYPE_OFFSET_DATA &&
		    ch.flags == HHA_NBD_REPLY_FLAG_DONE && ch.len == 8 + 8192);
	d = take(&c, ch.len);
	assert_true(hha_get_be64(d) == 4096);
	assert_int_equal(d[8 + 100], (uint8_t)(100 * 31));
	ch = chunk(&c); /* errors come as error chunks with a message */
	assert_true(ch.cookie == 3 && ch.type == HHA_NBD_REPLY_TYPE_ERROR);
	d = take(&c, ch.len);
	assert_int_equal(hha_get_be32(d), HHA_NBD_ENOSPC);
	assert_true(hha_get_be16(d + 4) > 0 && hha_get_be16(d + 4) == ch.len - 6);
	ch = chunk(&c);
	assert_true(ch.cookie == 4 && hha_get_be32(take(&c, ch.len)) == HHA_NBD_EINVAL);
	ch = chunk(&c);
	assert_true(ch.cookie == 5 && hha_get_be32(take(&c, ch.len)) == HHA_NBD_EINVAL);
	assert_int_equal(simple(&c, &ck), 0);
	assert_int_equal(simple(&c, &ck), 0);
	ch = chunk(&c);
	d = take(&c, ch.len);
	assert_true(ch.cookie == 8 && d[8] == 0 && d[8 + 4095] == 0 && d[8 + 4097] != 0);
	at_end(&c);

	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		run_session(&h, cuts[i][0], cuts[i][1]);
		assert_int_equal(h.out_len, ref.out_len);
		assert_memory_equal(h.out, ref.out, ref.out_len);
		harness_fini(&h);
	}
	harness_fini(&ref);
}

static void test_out_of_order(void **state)
{
	struct harness h;
	struct script s = { .n = 0 };
	struct cursor c;
	uint64_t ck;
	uint8_t *d;

	(void)state;
	harness_init(&h, NULL, NULL);
	for (int i = 0; i < 10; i++)
		memset(h.disk + i * 512, 'a' + i, 512);
	h.defer = true;
	s_hello(&s, false);
	for (int i = 0; i < 10; i++)
		s_req(&s, HHA_NBD_CMD_READ, 0, 100 + i, (uint64_t)i * 512, 512, NULL);
	harness_feed(&h, s.b, s.n, 0);
	assert_int_equal(h.npending, 10);
	c = out_of(&h);
	go_ok(&c);
	at_end(&c);
	harness_complete(&h, true, 0);
	c.p = h.out;
	c.n = h.out_len;
	for (int i = 9; i >= 0; i--) {
		assert_int_equal(simple(&c, &ck), 0);
		assert_true(ck == (uint64_t)(100 + i));
		d = (uint8_t *)take(&c, 512);
		assert_int_equal(d[0], 'a' + i);
		assert_int_equal(d[511], 'a' + i);
	}
	at_end(&c);
	harness_fini(&h);
}

static void test_slot_limit(void **state)
{
	struct harness h;
	struct script s = { .n = 0 };
	struct cursor c;
	unsigned wakes;

	(void)state;
	harness_init(&h, NULL, NULL);
	h.defer = true;
	s_hello(&s, false);
	for (int i = 0; i < 300; i++)
		s_req(&s, HHA_NBD_CMD_FLUSH, 0, (uint64_t)i, 0, 0, NULL);
	harness_feed(&h, s.b, s.n, 0);
	assert_int_equal(h.submitted, HHA_NBD_CONN_SLOTS);
	assert_false(harness_wants(&h) & HHA_NBD_CONN_READ); /* back-pressure */
	wakes = h.wakes;
	hha_nbd_req_complete(h.pending[0], 0);
	assert_true(h.wakes > wakes); /* the driver is told a slot came back */
	memmove(h.pending, h.pending + 1, --h.npending * sizeof(h.pending[0]));
	harness_complete(&h, false, 0);
	harness_complete(&h, false, 0);
	assert_int_equal(h.submitted, 300);
	c = out_of(&h);
	go_ok(&c);
	for (int i = 0; i < 300; i++)
		assert_int_equal(simple(&c, NULL), 0);
	at_end(&c);
	assert_true(harness_wants(&h) & HHA_NBD_CONN_READ);
	harness_fini(&h);
}

static void test_disc_in_flight(void **state)
{
	struct harness h;
	struct script s = { .n = 0 };
	struct cursor c;
	static uint8_t data[4096];

	(void)state;
	harness_init(&h, NULL, NULL);
	h.defer = true;
	s_hello(&s, true);
	s_req(&s, HHA_NBD_CMD_WRITE, 0, 1, 0, sizeof(data), data);
	s_req(&s, HHA_NBD_CMD_READ, 0, 2, 0, sizeof(data), NULL);
	s_req(&s, HHA_NBD_CMD_DISC, 0, 3, 0, 0, NULL);
	s_req(&s, HHA_NBD_CMD_READ, 0, 4, 0, sizeof(data), NULL); /* after DISC: ignored */
	harness_feed(&h, s.b, s.n, 0);
	assert_int_equal(h.npending, 2);
	assert_int_equal(harness_wants(&h) & (HHA_NBD_CONN_DONE | HHA_NBD_CONN_READ), 0);
	harness_complete(&h, false, 0);
	c = out_of(&h);
	go_ok(&c);
	go_ok(&c);
	assert_int_equal(simple(&c, NULL), 0);
	take(&c, chunk(&c).len);
	at_end(&c);
	assert_true(harness_wants(&h) & HHA_NBD_CONN_DONE);
	harness_fini(&h);
}

static void test_disabled(void **state)
{
	struct harness h;
	struct script s = { .n = 0 };
	struct cursor c;

	(void)state;
	harness_init(&h, NULL, NULL);
	atomic_store(&h.sh.enabled, false);
	s_flags(&s, 3);
	s_go(&s, HHA_NBD_OPT_GO, "hha", false);
	s_opt(&s, HHA_NBD_OPT_LIST, NULL, 0);
	s_opt(&s, HHA_NBD_OPT_ABORT, NULL, 0);
	harness_feed(&h, s.b, s.n, 0);
	c = out_of(&h);
	assert_int_equal(opt_reply(&c, NULL, NULL), HHA_NBD_REP_ERR_SHUTDOWN);
	assert_int_equal(opt_reply(&c, NULL, NULL), HHA_NBD_REP_ERR_SHUTDOWN);
	assert_int_equal(opt_reply(&c, NULL, NULL), HHA_NBD_REP_ACK);
	at_end(&c);
	assert_true(harness_wants(&h) & HHA_NBD_CONN_DONE);
	harness_fini(&h);

	harness_init(&h, NULL, NULL);
	atomic_store(&h.sh.enabled, false);
	s.n = 0;
	s_flags(&s, 3);
	s_opt(&s, HHA_NBD_OPT_EXPORT_NAME, "hha", 3);
	harness_feed(&h, s.b, s.n, 0);
	assert_int_equal(h.out_len, HHA_NBD_GREETING_LEN);
	assert_true(harness_wants(&h) & HHA_NBD_CONN_DONE);
	harness_fini(&h);
}

static void test_shutdown(void **state)
{
	for (int hard = 0; hard < 2; hard++) {
		struct harness h;
		struct script s = { .n = 0 };
		size_t before;

		harness_init(&h, NULL, NULL);
		h.defer = true;
		s_hello(&s, false);
		s_req(&s, HHA_NBD_CMD_FLUSH, 0, 1, 0, 0, NULL);
		harness_feed(&h, s.b, s.n, 0);
		before = h.out_len;
		hha_nbd_conn_shutdown(h.c, hard);
		assert_false(harness_wants(&h) & HHA_NBD_CONN_READ);
		harness_complete(&h, false, 0);
		assert_true(harness_wants(&h) & HHA_NBD_CONN_DONE);
		assert_int_equal(h.out_len, before + (hard ? 0 : HHA_NBD_SIMPLE_REPLY_LEN));
		harness_fini(&h);
	}
}

static void test_transport_errors(void **state)
{
	struct harness h;
	struct script s = { .n = 0 };
	struct hha_nbd_conn_counters ctr;

	(void)state;
	/* A reply that cannot be sent ends the connection. */
	harness_init(&h, NULL, NULL);
	s_hello(&s, false);
	harness_feed(&h, s.b, s.n, 0);
	h.send_broken = true;
	s.n = 0;
	s_req(&s, HHA_NBD_CMD_READ, 0, 1, 0, 512, NULL);
	harness_feed(&h, s.b, s.n, 0);
	assert_true(harness_wants(&h) & HHA_NBD_CONN_DONE);
	harness_fini(&h);

	/* A full transport queues; the queue drains when it has room again. */
	harness_init(&h, NULL, NULL);
	s.n = 0;
	s_hello(&s, false);
	harness_feed(&h, s.b, s.n, 0);
	h.send_full = true;
	s.n = 0;
	for (int i = 0; i < 5; i++)
		s_req(&s, HHA_NBD_CMD_READ, 0, (uint64_t)i, 0, 4096, NULL);
	harness_feed(&h, s.b, s.n, 0);
	assert_true(harness_wants(&h) & HHA_NBD_CONN_WRITE);
	h.send_full = false;
	harness_flush(&h);
	assert_false(harness_wants(&h) & HHA_NBD_CONN_WRITE);
	hha_nbd_conn_counters(h.c, &ctr);
	assert_true(ctr.requests == 5 && ctr.bytes_read == 5 * 4096);
	harness_fini(&h);

	/* Input that ends inside a request header counts as a protocol error. */
	harness_init(&h, NULL, NULL);
	s.n = 0;
	s_hello(&s, false);
	s_raw(&s, "\x25\x60\x95", 3);
	harness_feed(&h, s.b, s.n, 0);
	hha_nbd_conn_eof(h.c, 0);
	hha_nbd_conn_counters(h.c, &ctr);
	assert_true(ctr.protocol_errors == 1);
	assert_true(harness_wants(&h) & HHA_NBD_CONN_DONE);
	harness_fini(&h);
}

static void test_double_complete(void **state)
{
	struct harness h;
	struct script s = { .n = 0 };
	struct hha_nbd_req *r;
	size_t len;

	(void)state;
	harness_init(&h, NULL, NULL);
	h.defer = true;
	s_hello(&s, false);
	s_req(&s, HHA_NBD_CMD_FLUSH, 0, 1, 0, 0, NULL);
	harness_feed(&h, s.b, s.n, 0);
	r = h.pending[0];
	harness_complete(&h, false, 0);
	len = h.out_len;
	hha_nbd_req_complete(r, 0); /* a backend bug: ignored, nothing sent */
	assert_int_equal(h.out_len, len);
	harness_fini(&h);
}

static void test_handshake_closes(void **state)
{
	static const struct {
		uint32_t opt, len;
		const char *what;
	} rows[] = {
		{ HHA_NBD_OPT_GO, HHA_NBD_OPT_MAX_LEN + 1, "option too long" },
		{ 99, 0xffffffff, "unknown option, absurd length" },
		{ HHA_NBD_OPT_EXPORT_NAME, 4, "unknown export" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct harness h;
		struct script s = { .n = 0 };

		harness_init(&h, NULL, NULL);
		s_flags(&s, 3);
		s.n += hha_nbd_encode_opt_hdr(s.b + s.n, rows[i].opt, rows[i].len);
		s_raw(&s, "nope", 4);
		harness_feed(&h, s.b, s.n, 0);
		if (!(harness_wants(&h) & HHA_NBD_CONN_DONE))
			fail_msg("%s: not closed", rows[i].what);
		assert_int_equal(h.out_len, HHA_NBD_GREETING_LEN);
		harness_fini(&h);
	}
}

static void test_export_name(void **state)
{
	for (int zeroes = 0; zeroes < 2; zeroes++) {
		struct harness h;
		struct script s = { .n = 0 };

		harness_init(&h, NULL, NULL);
		s_flags(&s, zeroes ? 1 : 3);
		s_opt(&s, HHA_NBD_OPT_EXPORT_NAME, "hha", 3);
		s_req(&s, HHA_NBD_CMD_FLUSH, 0, 5, 0, 0, NULL);
		harness_feed(&h, s.b, s.n, 0);
		assert_int_equal(h.out_len, HHA_NBD_GREETING_LEN + (zeroes ? 134 : 10) + 16);
		assert_true(hha_get_be64(h.out + HHA_NBD_GREETING_LEN) == HARNESS_DISK_SIZE);
		harness_fini(&h);
	}
}

/* Clients that did not agree to block sizes may send 512-aligned requests
 * up to 32 MiB; those that did are held to what was advertised. */
static void test_relaxed_limits(void **state)
{
	struct hha_nbd_export exp = {
		.name = "hha", .size = HARNESS_DISK_SIZE, .min_block = 4096, .pref_block = 4096,
		.max_payload = 65536, .can_flush = true,
	};

	(void)state;
	for (int agreed = 0; agreed < 2; agreed++) {
		struct harness h;
		struct script s = { .n = 0 };
		struct cursor c;

		harness_init(&h, NULL, &exp);
		s_flags(&s, 3);
		s_go(&s, HHA_NBD_OPT_GO, "hha", agreed);
		s_req(&s, HHA_NBD_CMD_READ, 0, 1, 512, 512, NULL);
		s_req(&s, HHA_NBD_CMD_READ, 0, 2, 0, 1 << 20, NULL);
		harness_feed(&h, s.b, s.n, 0);
		c = out_of(&h);
		go_ok(&c);
		assert_int_equal(simple(&c, NULL), agreed ? HHA_NBD_EINVAL : 0);
		if (!agreed)
			take(&c, 512);
		assert_int_equal(simple(&c, NULL), agreed ? HHA_NBD_EINVAL : 0);
		if (!agreed)
			take(&c, 1 << 20);
		at_end(&c);
		harness_fini(&h);
	}
}

static void test_read_only(void **state)
{
	struct harness h;
	struct script s = { .n = 0 };
	struct cursor c;
	static uint8_t data[512];

	(void)state;
	harness_init(&h, NULL, NULL);
	atomic_store(&h.sh.read_only, true);
	s_hello(&s, false);
	s_req(&s, HHA_NBD_CMD_WRITE, 0, 1, 0, sizeof(data), data);
	s_req(&s, HHA_NBD_CMD_TRIM, 0, 2, 0, 512, NULL);
	s_req(&s, HHA_NBD_CMD_READ, 0, 3, 0, 512, NULL);
	harness_feed(&h, s.b, s.n, 0);
	c = out_of(&h);
	assert_true(go_ok(&c) & HHA_NBD_FLAG_READ_ONLY);
	assert_int_equal(simple(&c, NULL), HHA_NBD_EPERM);
	assert_int_equal(simple(&c, NULL), HHA_NBD_EPERM);
	assert_int_equal(simple(&c, NULL), 0);
	take(&c, 512);
	at_end(&c);
	assert_int_equal(h.submitted, 1);
	harness_fini(&h);
}

static void test_backend_errors(void **state)
{
	struct harness h;
	struct script s = { .n = 0 };
	struct cursor c;
	struct hha_nbd_chunk ch;

	(void)state;
	harness_init(&h, NULL, NULL);
	h.defer = true;
	s_hello(&s, true);
	s_req(&s, HHA_NBD_CMD_READ, 0, 1, 0, 512, NULL);
	harness_feed(&h, s.b, s.n, 0);
	harness_complete(&h, false, -EFBIG);
	s.n = 0;
	s_req(&s, HHA_NBD_CMD_FLUSH, 0, 2, 0, 0, NULL);
	harness_feed(&h, s.b, s.n, 0);
	harness_complete(&h, false, -ENOENT);
	c = out_of(&h);
	go_ok(&c);
	go_ok(&c);
	ch = chunk(&c);
	assert_true(ch.type == HHA_NBD_REPLY_TYPE_ERROR && ch.flags == HHA_NBD_REPLY_FLAG_DONE);
	assert_int_equal(hha_get_be32(take(&c, ch.len)), HHA_NBD_ENOSPC);
	ch = chunk(&c);
	assert_int_equal(hha_get_be32(take(&c, ch.len)), HHA_NBD_EIO);
	at_end(&c);
	harness_fini(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go),
		cmocka_unit_test(test_session_fragments),
		cmocka_unit_test(test_out_of_order),
		cmocka_unit_test(test_slot_limit),
		cmocka_unit_test(test_disc_in_flight),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_shutdown),
		cmocka_unit_test(test_transport_errors),
		cmocka_unit_test(test_double_complete),
		cmocka_unit_test(test_handshake_closes),
		cmocka_unit_test(test_export_name),
		cmocka_unit_test(test_relaxed_limits),
		cmocka_unit_test(test_read_only),
		cmocka_unit_test(test_backend_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
