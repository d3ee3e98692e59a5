/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Raw NBD client for robustness tests: sends broken and edge-case messages, checks answers. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "disk/nbd-proto.h"

/*
 * Usage: nbd-raw (--unix PATH | --tcp HOST:PORT) --export NAME GROUP
 * GROUP: handshake | transmission | readonly | slow.
 * Each check opens its own connection, prints "ok" / "not ok" lines, and
 * the exit status is the number of failed checks (capped at 100). Every
 * read has a timeout, so a server that hangs fails instead of blocking.
 */

static const char *g_unix, *g_host, *g_port, *g_export = "hha";
static int g_failed, g_count;

static void check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void check(bool ok, const char *fmt, ...)
{
	va_list ap;

	g_count++;
	if (!ok)
		g_failed++;
	printf("%s %d - ", ok ? "ok" : "not ok", g_count);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
}

static int conn_open(void)
{
	struct timeval tv = { .tv_sec = 10 };
	int fd = -1;

	if (g_unix) {
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", g_unix);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			close(fd);
			fd = -1;
		}
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res;
		int one = 1;

		if (getaddrinfo(g_host, g_port, &hints, &res) != 0)
			return -1;
		fd = socket(res->ai_family, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) < 0) {
			close(fd);
			fd = -1;
		}
		freeaddrinfo(res);
		if (fd >= 0)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (fd < 0) {
		fprintf(stderr, "nbd-raw: cannot connect: %s\n", strerror(errno));
		exit(100);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static int wr(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t r = send(fd, b, n, MSG_NOSIGNAL);

		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static int rd(int fd, void *p, size_t n)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = recv(fd, b, n, 0);

		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

/* The server closed: recv sees end of file (or a reset) before the timeout. */
static bool closed_by_server(int fd)
{
	uint8_t b[4096];

	for (;;) {
		ssize_t r = recv(fd, b, sizeof(b), 0);

		if (r == 0 || (r < 0 && errno == ECONNRESET))
			return true;
		if (r < 0)
			return false; /* timeout */
	}
}

/* Greeting and client flags. */
static int hs_start(int fd, uint32_t cflags)
{
	uint8_t b[HHA_NBD_GREETING_LEN];
	uint16_t hs;

	if (rd(fd, b, sizeof(b)) < 0 || hha_nbd_decode_greeting(b, sizeof(b), &hs) < 0)
		return -1;
	if ((hs & 3) != 3)
		return -1;
	hha_nbd_encode_client_flags(b, cflags);
	return wr(fd, b, 4);
}

static int send_opt(int fd, uint32_t opt, const void *data, uint32_t len)
{
	uint8_t h[HHA_NBD_OPT_HDR_LEN];

	hha_nbd_encode_opt_hdr(h, opt, len);
	if (wr(fd, h, sizeof(h)) < 0)
		return -1;
	return len ? wr(fd, data, len) : 0;
}

/* One option reply; its data (up to @cap bytes kept) in @data. */
static int read_opt_reply(int fd, struct hha_nbd_opt_reply *r, uint8_t *data, size_t cap)
{
	uint8_t h[HHA_NBD_OPT_REPLY_HDR_LEN], junk[256];
	uint32_t left;

	if (rd(fd, h, sizeof(h)) < 0 || hha_nbd_decode_opt_reply(h, sizeof(h), r) < 0)
		return -1;
	left = r->len;
	if (data && cap) {
		size_t n = left < cap ? left : cap;

		if (rd(fd, data, n) < 0)
			return -1;
		left -= (uint32_t)n;
	}
	while (left) {
		size_t n = left < sizeof(junk) ? left : sizeof(junk);

		if (rd(fd, junk, n) < 0)
			return -1;
		left -= (uint32_t)n;
	}
	return 0;
}

/* Send an option and return the type of its (single) reply, or 0 on failure. */
static uint32_t opt_once(int fd, uint32_t opt, const void *data, uint32_t len)
{
	struct hha_nbd_opt_reply r;

	if (send_opt(fd, opt, data, len) < 0 || read_opt_reply(fd, &r, NULL, 0) < 0 ||
	    r.opt != opt)
		return 0;
	return r.type;
}

struct session {
	int fd;
	bool structured;
	uint64_t size;
	uint16_t tflags;
	uint32_t min, pref, max;
	bool got_name, got_desc;
};

/* INFO or GO with @name; returns the final reply type (ACK on success). */
static uint32_t info_go(struct session *s, uint32_t opt, const char *name, const uint16_t *info,
			uint16_t n_info)
{
	uint8_t req[512], data[512];
	size_t len = hha_nbd_encode_info_req(req, name, (uint32_t)strlen(name), info, n_info);
	struct hha_nbd_opt_reply r;

	if (send_opt(s->fd, opt, req, (uint32_t)len) < 0)
		return 0;
	for (;;) {
		if (read_opt_reply(s->fd, &r, data, sizeof(data)) < 0 || r.opt != opt)
			return 0;
		if (r.type != HHA_NBD_REP_INFO)
			return r.type;
		switch (hha_get_be16(data)) {
		case HHA_NBD_INFO_EXPORT:
			if (r.len != 12)
				return 0;
			s->size = hha_get_be64(data + 2);
			s->tflags = hha_get_be16(data + 10);
			break;
		case HHA_NBD_INFO_BLOCK_SIZE:
			if (r.len != 14)
				return 0;
			s->min = hha_get_be32(data + 2);
			s->pref = hha_get_be32(data + 6);
			s->max = hha_get_be32(data + 10);
			break;
		case HHA_NBD_INFO_NAME:
			s->got_name = r.len - 2 == strlen(g_export) &&
				      memcmp(data + 2, g_export, r.len - 2) == 0;
			break;
		case HHA_NBD_INFO_DESCRIPTION:
			s->got_desc = true;
			break;
		}
	}
}

/* A connection in transmission (GO with BLOCK_SIZE so constraints bind). */
static bool session_open(struct session *s, bool structured)
{
	static const uint16_t bs = HHA_NBD_INFO_BLOCK_SIZE;

	memset(s, 0, sizeof(*s));
	s->fd = conn_open();
	if (hs_start(s->fd, 3) < 0)
		return false;
	if (structured && opt_once(s->fd, HHA_NBD_OPT_STRUCTURED_REPLY, NULL, 0) != HHA_NBD_REP_ACK)
		return false;
	s->structured = structured;
	return info_go(s, HHA_NBD_OPT_GO, g_export, &bs, 1) == HHA_NBD_REP_ACK;
}

static int send_req(struct session *s, uint16_t type, uint16_t flags, uint64_t cookie,
		    uint64_t off, uint32_t len, const void *payload)
{
	struct hha_nbd_request r = { flags, type, cookie, off, len };
	uint8_t h[HHA_NBD_REQUEST_LEN];

	hha_nbd_encode_request(h, &r);
	if (wr(s->fd, h, sizeof(h)) < 0)
		return -1;
	return payload && len ? wr(s->fd, payload, len) : 0;
}

/*
 * Read one reply. @is_read_len: for a simple reply, the data length that
 * follows a successful READ (the client must know it). Returns the error
 * (0 = success) or -1 on a broken stream; *cookie gets the cookie.
 */
static int read_reply(struct session *s, uint32_t is_read_len, uint64_t *cookie, void *buf)
{
	uint8_t h[HHA_NBD_CHUNK_HDR_LEN];

	if (!s->structured) {
		uint32_t err;

		if (rd(s->fd, h, HHA_NBD_SIMPLE_REPLY_LEN) < 0 ||
		    hha_nbd_decode_simple_reply(h, HHA_NBD_SIMPLE_REPLY_LEN, &err, cookie) < 0)
			return -1;
		if (!err && is_read_len && rd(s->fd, buf, is_read_len) < 0)
			return -1;
		return (int)err;
	}
	/* Structured: simple replies are allowed for non-READ commands. */
	if (rd(s->fd, h, 4) < 0)
		return -1;
	if (hha_get_be32(h) == HHA_NBD_SIMPLE_REPLY_MAGIC) {
		uint32_t err;

		if (rd(s->fd, h + 4, 12) < 0 || hha_nbd_decode_simple_reply(h, 16, &err, cookie) < 0)
			return -1;
		return (int)err;
	}
	for (int err = 0;;) {
		struct hha_nbd_chunk c;
		uint8_t p[8192];

		if (rd(s->fd, h + 4, HHA_NBD_CHUNK_HDR_LEN - 4) < 0 ||
		    hha_nbd_decode_chunk(h, HHA_NBD_CHUNK_HDR_LEN, &c) < 0)
			return -1;
		*cookie = c.cookie;
		if (c.type == HHA_NBD_REPLY_TYPE_OFFSET_DATA) {
			if (rd(s->fd, p, 8) < 0 || c.len - 8 != is_read_len ||
			    rd(s->fd, buf, c.len - 8) < 0)
				return -1;
		} else if (c.type & 0x8000) {
			if (c.len > sizeof(p) || rd(s->fd, p, c.len) < 0)
				return -1;
			err = (int)hha_get_be32(p);
			if (hha_get_be16(p + 4) > c.len - 6)
				return -1;
		} else if (c.type != HHA_NBD_REPLY_TYPE_NONE) {
			return -1;
		}
		if (c.flags & HHA_NBD_REPLY_FLAG_DONE)
			return err;
		if (rd(s->fd, h, 4) < 0)
			return -1;
	}
}

/* One request, one reply: the error, or -1. */
static int xfer(struct session *s, uint16_t type, uint16_t flags, uint64_t off, uint32_t len,
		void *buf)
{
	static uint64_t next_cookie = 1;
	uint64_t cookie = next_cookie++, got = 0;
	int err;

	if (send_req(s, type, flags, cookie, off, len, type == HHA_NBD_CMD_WRITE ? buf : NULL) < 0)
		return -1;
	err = read_reply(s, type == HHA_NBD_CMD_READ ? len : 0, &got, buf);
	return got == cookie ? err : -1;
}

/* The session still works: write a pattern, read it back. */
static bool still_works(struct session *s)
{
	uint8_t w[4096], r[4096];

	for (size_t i = 0; i < sizeof(w); i++)
		w[i] = (uint8_t)(i * 7 + 3);
	if (s->tflags & HHA_NBD_FLAG_READ_ONLY)
		return xfer(s, HHA_NBD_CMD_READ, 0, 0, sizeof(r), r) == 0;
	return xfer(s, HHA_NBD_CMD_WRITE, 0, 4096, sizeof(w), w) == 0 &&
	       xfer(s, HHA_NBD_CMD_READ, 0, 4096, sizeof(r), r) == 0 && !memcmp(w, r, sizeof(w));
}

static void group_handshake(void)
{
	static const uint16_t all[] = { HHA_NBD_INFO_NAME, HHA_NBD_INFO_DESCRIPTION,
					HHA_NBD_INFO_BLOCK_SIZE };
	struct hha_nbd_opt_reply r;
	struct session s;
	uint8_t data[512], b[256];
	int fd;

	fd = conn_open();
	check(hs_start(fd, 0x80000003) == 0 && closed_by_server(fd), "unknown client flag: closed");
	close(fd);

	fd = conn_open();
	{
		uint8_t g[HHA_NBD_GREETING_LEN];

		check(rd(fd, g, sizeof(g)) == 0 && wr(fd, "\0\0", 2) == 0 && shutdown(fd, SHUT_WR) == 0 &&
			      closed_by_server(fd),
		      "truncated client flags: closed");
	}
	close(fd);

	memset(&s, 0, sizeof(s));
	s.fd = conn_open();
	check(hs_start(s.fd, 3) == 0 && opt_once(s.fd, 99, "hello", 5) == HHA_NBD_REP_ERR_UNSUP,
	      "unknown option: ERR_UNSUP");
	check(opt_once(s.fd, HHA_NBD_OPT_STARTTLS, NULL, 0) == HHA_NBD_REP_ERR_UNSUP,
	      "STARTTLS: ERR_UNSUP");
	check(opt_once(s.fd, HHA_NBD_OPT_SET_META_CONTEXT, "\0\0\0\0\0\0\0\0", 8) ==
		      HHA_NBD_REP_ERR_UNSUP,
	      "SET_META_CONTEXT: ERR_UNSUP");
	check(opt_once(s.fd, HHA_NBD_OPT_EXTENDED_HEADERS, NULL, 0) == HHA_NBD_REP_ERR_UNSUP,
	      "EXTENDED_HEADERS: ERR_UNSUP");
	check(opt_once(s.fd, HHA_NBD_OPT_LIST, "x", 1) == HHA_NBD_REP_ERR_INVALID,
	      "LIST with data: ERR_INVALID");
	check(send_opt(s.fd, HHA_NBD_OPT_LIST, NULL, 0) == 0 &&
		      read_opt_reply(s.fd, &r, data, sizeof(data)) == 0 &&
		      r.type == HHA_NBD_REP_SERVER && hha_get_be32(data) == strlen(g_export) &&
		      memcmp(data + 4, g_export, strlen(g_export)) == 0 &&
		      read_opt_reply(s.fd, &r, NULL, 0) == 0 && r.type == HHA_NBD_REP_ACK,
	      "LIST: one REP_SERVER with the export name, then ACK");
	check(opt_once(s.fd, HHA_NBD_OPT_STRUCTURED_REPLY, "x", 1) == HHA_NBD_REP_ERR_INVALID,
	      "STRUCTURED_REPLY with data: ERR_INVALID");
	check(info_go(&s, HHA_NBD_OPT_INFO, "no-such-export", NULL, 0) == HHA_NBD_REP_ERR_UNKNOWN,
	      "INFO unknown export: ERR_UNKNOWN");
	check(info_go(&s, HHA_NBD_OPT_GO, "no-such-export", NULL, 0) == HHA_NBD_REP_ERR_UNKNOWN,
	      "GO unknown export: ERR_UNKNOWN");
	/* name length pointing past the data */
	hha_put_be32(b, 200);
	hha_put_be16(b + 4, 0);
	check(opt_once(s.fd, HHA_NBD_OPT_INFO, b, 6) == HHA_NBD_REP_ERR_INVALID,
	      "INFO with a bad name length: ERR_INVALID");
	check(opt_once(s.fd, HHA_NBD_OPT_GO, b, 3) == HHA_NBD_REP_ERR_INVALID,
	      "GO shorter than 6 bytes: ERR_INVALID");
	{
		bool ok = info_go(&s, HHA_NBD_OPT_INFO, g_export, all, 3) == HHA_NBD_REP_ACK;

		check(ok && s.size > 0 && (s.tflags & HHA_NBD_FLAG_HAS_FLAGS) && s.got_name &&
			      s.got_desc && s.min && s.pref >= 512 && s.max >= s.pref,
		      "INFO with NAME, DESCRIPTION, BLOCK_SIZE: export info, name, description, "
		      "sizes (size %llu, flags 0x%x, block %u/%u/%u)",
		      (unsigned long long)s.size, s.tflags, s.min, s.pref, s.max);
	}
	check(info_go(&s, HHA_NBD_OPT_GO, "", NULL, 0) == HHA_NBD_REP_ACK && still_works(&s),
	      "after all that, GO on the default name works");
	close(s.fd);

	fd = conn_open();
	hha_nbd_encode_opt_hdr(b, HHA_NBD_OPT_GO, 0x7fffffff);
	check(hs_start(fd, 3) == 0 && wr(fd, b, HHA_NBD_OPT_HDR_LEN) == 0 && closed_by_server(fd),
	      "option with a 2 GiB length: closed");
	close(fd);

	fd = conn_open();
	hha_nbd_encode_opt_hdr(b, HHA_NBD_OPT_GO, 0);
	b[0] ^= 0xff;
	check(hs_start(fd, 3) == 0 && wr(fd, b, HHA_NBD_OPT_HDR_LEN) == 0 && closed_by_server(fd),
	      "bad option magic: closed");
	close(fd);

	fd = conn_open();
	check(hs_start(fd, 3) == 0 && send_opt(fd, HHA_NBD_OPT_EXPORT_NAME, "nope", 4) == 0 &&
		      closed_by_server(fd),
	      "EXPORT_NAME of an unknown export: closed");
	close(fd);

	fd = conn_open();
	check(hs_start(fd, 3) == 0 && send_opt(fd, HHA_NBD_OPT_ABORT, NULL, 0) == 0 &&
		      read_opt_reply(fd, &r, NULL, 0) == 0 && r.type == HHA_NBD_REP_ACK &&
		      closed_by_server(fd),
	      "ABORT: ACK, then closed");
	close(fd);

	fd = conn_open();
	check(hs_start(fd, 3) == 0 && send_opt(fd, HHA_NBD_OPT_ABORT, NULL, 0) == 0 && close(fd) == 0,
	      "ABORT and leave at once");

	for (int zeroes = 0; zeroes < 2; zeroes++) {
		uint8_t reply[134];

		memset(&s, 0, sizeof(s));
		s.fd = conn_open();
		check(hs_start(s.fd, zeroes ? 1 : 3) == 0 &&
			      send_opt(s.fd, HHA_NBD_OPT_EXPORT_NAME, g_export,
				       (uint32_t)strlen(g_export)) == 0 &&
			      rd(s.fd, reply, zeroes ? 134 : 10) == 0 &&
			      (hha_get_be16(reply + 8) & HHA_NBD_FLAG_HAS_FLAGS) &&
			      (s.tflags = hha_get_be16(reply + 8), still_works(&s)),
		      "EXPORT_NAME %s zeroes: size, flags, transmission works",
		      zeroes ? "with" : "without");
		close(s.fd);
	}
}

static void group_transmission(bool structured)
{
	const char *mode = structured ? "structured" : "simple";
	struct session s;
	static uint8_t buf[1 << 20];
	uint64_t cookie;
	int err;

	check(session_open(&s, structured), "%s: GO", mode);
	if (s.tflags == 0)
		return;
	check(xfer(&s, HHA_NBD_CMD_READ, 0, s.size, 512, buf) == HHA_NBD_EINVAL && still_works(&s),
	      "%s: read beyond the end: EINVAL, continues", mode);
	check(xfer(&s, HHA_NBD_CMD_READ, 0, UINT64_MAX - 511, 512, buf) == HHA_NBD_EINVAL &&
		      still_works(&s),
	      "%s: read at offset 2^64-512 (wraps): EINVAL, continues", mode);
	check(xfer(&s, HHA_NBD_CMD_WRITE, 0, s.size - 512, 1024, buf) == HHA_NBD_ENOSPC &&
		      still_works(&s),
	      "%s: write across the end: ENOSPC, payload skipped, continues", mode);
	check(xfer(&s, HHA_NBD_CMD_TRIM, 0, s.size, 4096, NULL) == HHA_NBD_EINVAL && still_works(&s),
	      "%s: trim beyond the end: EINVAL, continues", mode);
	check(xfer(&s, HHA_NBD_CMD_WRITE_ZEROES, 0, s.size, 4096, NULL) == HHA_NBD_ENOSPC &&
		      still_works(&s),
	      "%s: write-zeroes beyond the end: ENOSPC, continues", mode);
	if (s.min > 1) {
		check(xfer(&s, HHA_NBD_CMD_READ, 0, 1, 512, buf) == HHA_NBD_EINVAL && still_works(&s),
		      "%s: misaligned read: EINVAL, continues", mode);
		check(xfer(&s, HHA_NBD_CMD_WRITE, 0, 0, s.min + 1, buf) == HHA_NBD_EINVAL &&
			      still_works(&s),
		      "%s: misaligned write length: EINVAL, payload skipped, continues", mode);
	}
	if (s.max < sizeof(buf) && s.max + 4096 <= s.size) {
		check(xfer(&s, HHA_NBD_CMD_READ, 0, 0, s.max + 4096, buf) == HHA_NBD_EINVAL &&
			      still_works(&s),
		      "%s: read above the maximum block size: EINVAL, continues", mode);
		check(xfer(&s, HHA_NBD_CMD_WRITE, 0, 0, s.max + 4096, buf) == HHA_NBD_EINVAL &&
			      still_works(&s),
		      "%s: write above the maximum block size: EINVAL, payload skipped, continues",
		      mode);
	}
	check(xfer(&s, 42, 0, 0, 0, NULL) == HHA_NBD_EINVAL && still_works(&s),
	      "%s: unknown command: EINVAL, continues", mode);
	check(xfer(&s, HHA_NBD_CMD_BLOCK_STATUS, 0, 0, 4096, NULL) == HHA_NBD_EINVAL &&
		      still_works(&s),
	      "%s: BLOCK_STATUS (not negotiated): EINVAL, continues", mode);
	check(xfer(&s, HHA_NBD_CMD_READ, 1u << 15, 0, 4096, buf) == HHA_NBD_EINVAL && still_works(&s),
	      "%s: unknown command flag: EINVAL, continues", mode);
	check(xfer(&s, HHA_NBD_CMD_WRITE, HHA_NBD_CMD_FLAG_NO_HOLE, 0, 4096, buf) == HHA_NBD_EINVAL &&
		      still_works(&s),
	      "%s: NO_HOLE on a write: EINVAL, payload skipped, continues", mode);
	check(xfer(&s, HHA_NBD_CMD_FLUSH, 0, 4096, 0, NULL) == HHA_NBD_EINVAL && still_works(&s),
	      "%s: flush with an offset: EINVAL, continues", mode);
	check(xfer(&s, HHA_NBD_CMD_FLUSH, HHA_NBD_CMD_FLAG_FUA, 0, 0, NULL) == 0,
	      "%s: flush (with FUA): ok", mode);
	check(xfer(&s, HHA_NBD_CMD_WRITE, HHA_NBD_CMD_FLAG_FUA, 8192, 4096, buf) == 0,
	      "%s: FUA write: ok", mode);
	check(xfer(&s, HHA_NBD_CMD_WRITE_ZEROES, HHA_NBD_CMD_FLAG_FAST_ZERO, 0, 4096, NULL) ==
		      HHA_NBD_ENOTSUP &&
		      still_works(&s),
	      "%s: FAST_ZERO: ENOTSUP, continues", mode);
	memset(buf, 0xaa, 8192);
	check(xfer(&s, HHA_NBD_CMD_WRITE, 0, 65536, 8192, buf) == 0 &&
		      xfer(&s, HHA_NBD_CMD_WRITE_ZEROES, HHA_NBD_CMD_FLAG_NO_HOLE, 65536, 4096, NULL) ==
			      0 &&
		      xfer(&s, HHA_NBD_CMD_TRIM, 0, 65536 + 4096, 4096, NULL) == 0 &&
		      xfer(&s, HHA_NBD_CMD_WRITE_ZEROES, 0, 65536 + 4096, 4096, NULL) == 0 &&
		      xfer(&s, HHA_NBD_CMD_READ, 0, 65536, 8192, buf) == 0 &&
		      buf[0] == 0 && buf[4095] == 0 && buf[4096] == 0 && buf[8191] == 0,
	      "%s: write, zero (NO_HOLE), trim, zero, read back zeroes", mode);
	check(xfer(&s, HHA_NBD_CMD_CACHE, 0, 0, 65536, NULL) == 0, "%s: CACHE: ok", mode);
	check(xfer(&s, HHA_NBD_CMD_READ, 0, 0, 0, buf) == 0 &&
		      xfer(&s, HHA_NBD_CMD_WRITE, 0, 0, 0, buf) == 0 && still_works(&s),
	      "%s: zero-length read and write: ok", mode);
	if (structured)
		check(xfer(&s, HHA_NBD_CMD_READ, HHA_NBD_CMD_FLAG_DF, 0, 4096, buf) == 0,
		      "structured: read with DF: ok");

	/* Pipelining: 200 requests (writes, then reads), replies in any order. */
	{
		enum { N = 200, SZ = 4096 };
		static uint8_t data[N][SZ], back[N][SZ];
		bool seen[2 * N] = { false }, ok = true;

		for (int i = 0; i < N; i++) {
			memset(data[i], i + 1, SZ);
			ok = ok && send_req(&s, HHA_NBD_CMD_WRITE, 0, 1000 + i, (uint64_t)i * SZ, SZ,
					    data[i]) == 0;
		}
		for (int i = 0; i < N && ok; i++) {
			err = read_reply(&s, 0, &cookie, NULL);
			ok = err == 0 && cookie >= 1000 && cookie < 1000 + N && !seen[cookie - 1000];
			if (ok)
				seen[cookie - 1000] = true;
		}
		/* Reads: simple replies need the length by cookie; all are SZ. */
		for (int i = 0; i < N && ok; i++)
			ok = send_req(&s, HHA_NBD_CMD_READ, 0, 2000 + i, (uint64_t)i * SZ, SZ, NULL) == 0;
		for (int i = 0; i < N && ok; i++) {
			uint8_t tmp[SZ];

			err = read_reply(&s, SZ, &cookie, tmp);
			ok = err == 0 && cookie >= 2000 && cookie < 2000 + N && !seen[N + cookie - 2000];
			if (ok) {
				seen[N + cookie - 2000] = true;
				memcpy(back[cookie - 2000], tmp, SZ);
			}
		}
		for (int i = 0; i < N && ok; i++)
			ok = memcmp(data[i], back[i], SZ) == 0;
		check(ok, "%s: 200 pipelined writes and reads, replies matched by cookie, data intact",
		      mode);
	}

	/* DISC with requests in flight: every reply arrives, then the close. */
	{
		bool ok = true;

		for (int i = 0; i < 32 && ok; i++)
			ok = send_req(&s, HHA_NBD_CMD_WRITE, 0, 3000 + i, (uint64_t)i * 4096, 4096,
				      buf) == 0;
		ok = ok && send_req(&s, HHA_NBD_CMD_DISC, 0, 4000, 0, 0, NULL) == 0;
		for (int i = 0; i < 32 && ok; i++)
			ok = read_reply(&s, 0, &cookie, NULL) == 0 && cookie >= 3000 && cookie < 3032;
		check(ok && closed_by_server(s.fd), "%s: DISC with 32 writes in flight: 32 replies, then closed",
		      mode);
	}
	close(s.fd);

	check(session_open(&s, structured) &&
		      send_req(&s, HHA_NBD_CMD_WRITE, 0, 1, 0, 100u << 20, NULL) == 0 &&
		      closed_by_server(s.fd),
	      "%s: write header announcing 100 MiB: closed", mode);
	close(s.fd);

	check(session_open(&s, structured) && still_works(&s), "%s: a new connection works", mode);
	{
		uint8_t h[HHA_NBD_REQUEST_LEN];
		struct hha_nbd_request r = { 0, HHA_NBD_CMD_READ, 9, 0, 512 };

		hha_nbd_encode_request(h, &r);
		h[0] ^= 0x55;
		check(wr(s.fd, h, sizeof(h)) == 0 && closed_by_server(s.fd), "%s: bad request magic: closed",
		      mode);
	}
	close(s.fd);

	check(session_open(&s, structured) && send_req(&s, HHA_NBD_CMD_READ, 0, 1, 0, 4096, NULL) == 0 &&
		      wr(s.fd, "\x25\x60", 2) == 0 && shutdown(s.fd, SHUT_WR) == 0 &&
		      read_reply(&s, 4096, &cookie, buf) == 0 && closed_by_server(s.fd),
	      "%s: half a request then end of input: pending reply sent, closed", mode);
	close(s.fd);
}

static void group_readonly(void)
{
	struct session s;
	uint8_t buf[4096] = { 0 };

	check(session_open(&s, true) && (s.tflags & HHA_NBD_FLAG_READ_ONLY) &&
		      !(s.tflags & (HHA_NBD_FLAG_SEND_TRIM | HHA_NBD_FLAG_SEND_WRITE_ZEROES)),
	      "read-only: READ_ONLY advertised, TRIM and WRITE_ZEROES not");
	check(xfer(&s, HHA_NBD_CMD_WRITE, 0, 0, 4096, buf) == HHA_NBD_EPERM && still_works(&s),
	      "read-only: write: EPERM, payload skipped, continues");
	check(xfer(&s, HHA_NBD_CMD_TRIM, 0, 0, 4096, NULL) == HHA_NBD_EPERM && still_works(&s),
	      "read-only: trim: EPERM, continues");
	check(xfer(&s, HHA_NBD_CMD_WRITE_ZEROES, 0, 0, 4096, NULL) == HHA_NBD_EPERM &&
		      still_works(&s),
	      "read-only: write-zeroes: EPERM, continues");
	check(xfer(&s, HHA_NBD_CMD_FLUSH, 0, 0, 0, NULL) == 0, "read-only: flush: ok");
	close(s.fd);
}

/* A client that sends reads and never reads the replies stalls only itself. */
static void group_slow(void)
{
	struct session hog, s;
	static uint8_t buf[1 << 20];
	bool ok;
	int sent = 0;

	check(session_open(&hog, false), "slow: the hog connects");
	/* 300 reads of 64 KiB: more than the server takes in flight (256), and
	 * far more reply bytes than the socket buffers hold. */
	while (sent < 300 && send_req(&hog, HHA_NBD_CMD_READ, 0, (uint64_t)sent, 0, 1 << 16, NULL) == 0)
		sent++;
	ok = session_open(&s, true);
	for (int i = 0; ok && i < 50; i++)
		ok = still_works(&s) &&
		     xfer(&s, HHA_NBD_CMD_READ, 0, 0, s.max < sizeof(buf) ? s.max : sizeof(buf), buf) == 0;
	check(ok, "slow: another client works while the hog ignores %d replies", sent);
	close(s.fd);
	close(hog.fd);
}

int main(int argc, char **argv)
{
	const char *group = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--unix") && i + 1 < argc) {
			g_unix = argv[++i];
		} else if (!strcmp(argv[i], "--tcp") && i + 1 < argc) {
			char *hp = argv[++i], *colon = strrchr(hp, ':');

			if (!colon)
				return 100;
			*colon = '\0';
			g_host = hp;
			g_port = colon + 1;
		} else if (!strcmp(argv[i], "--export") && i + 1 < argc) {
			g_export = argv[++i];
		} else {
			group = argv[i];
		}
	}
	if (!group || (!g_unix && !g_host)) {
		fprintf(stderr, "usage: nbd-raw (--unix PATH | --tcp HOST:PORT) [--export NAME] "
				"handshake|transmission|readonly|slow\n");
		return 100;
	}
	if (!strcmp(group, "handshake")) {
		group_handshake();
	} else if (!strcmp(group, "transmission")) {
		group_transmission(false);
		group_transmission(true);
	} else if (!strcmp(group, "readonly")) {
		group_readonly();
	} else if (!strcmp(group, "slow")) {
		group_slow();
	} else {
		fprintf(stderr, "nbd-raw: unknown group `%s'\n", group);
		return 100;
	}
	printf("# %d checks, %d failed\n", g_count, g_failed);
	return g_failed > 99 ? 99 : g_failed;
}
