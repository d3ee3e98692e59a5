/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the NBD server object (listeners, enable/disable, read-only, stats, free). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/internal.h"
#include "disk/nbd-proto.h"
#include "disk/nbd-server.h"

#define DISK (1u << 20)

/* A backend that completes at once from an in-memory disk, or holds
 * requests until released (to test draining). */
struct mem {
	uint8_t disk[DISK];
	pthread_mutex_t lock;
	bool hold;
	struct hha_nbd_req *held[64];
	int nheld;
};

static void mem_submit(void *ud, struct hha_nbd_req *r)
{
	struct mem *m = ud;

	pthread_mutex_lock(&m->lock);
	if (m->hold && m->nheld < 64) {
		m->held[m->nheld++] = r;
		pthread_mutex_unlock(&m->lock);
		return;
	}
	pthread_mutex_unlock(&m->lock);
	if (r->cmd == HHA_NBD_CMD_READ)
		memcpy(r->buf, m->disk + r->offset, r->len);
	else if (r->cmd == HHA_NBD_CMD_WRITE)
		memcpy(m->disk + r->offset, r->buf, r->len);
	hha_nbd_req_complete(r, 0);
}

static void mem_release(struct mem *m)
{
	pthread_mutex_lock(&m->lock);
	m->hold = false;
	while (m->nheld)
		hha_nbd_req_complete(m->held[--m->nheld], 0);
	pthread_mutex_unlock(&m->lock);
}

static int mem_held(struct mem *m)
{
	int n;

	pthread_mutex_lock(&m->lock);
	n = m->nheld;
	pthread_mutex_unlock(&m->lock);
	return n;
}

struct fixture {
	char dir[64], sock[128];
	struct mem *mem;
	struct hha_nbd_server *srv;
};

static const struct hha_nbd_export good = {
	.name = "r0", .size = DISK, .can_flush = true, .can_fua = true, .min_block = 512,
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct hha_nbd_backend be = { .submit = mem_submit };

	strcpy(f->dir, "/tmp/hha-nbd-unit.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof(f->sock), "%s/s", f->dir);
	f->mem = calloc(1, sizeof(*f->mem));
	pthread_mutex_init(&f->mem->lock, NULL);
	be.ud = f->mem;
	assert_int_equal(hha_nbd_server_new(NULL, &good, &be, &f->srv), 0);
	assert_int_equal(hha_nbd_server_listen_unix(f->srv, f->sock), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mem_release(f->mem);
	hha_nbd_server_free(f->srv);
	pthread_mutex_destroy(&f->mem->lock);
	free(f->mem);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* ---- a minimal client ---- */

static int cl_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = 5 };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int cl_read(int fd, void *p, size_t n)
{
	return recv(fd, p, n, MSG_WAITALL) == (ssize_t)n ? 0 : -1;
}

static bool cl_closed(int fd)
{
	uint8_t b[256];
	ssize_t r;

	while ((r = recv(fd, b, sizeof(b), 0)) > 0)
		;
	return r == 0 || errno == ECONNRESET;
}

/* Greeting, flags, GO "r0": returns the final reply type; *tflags on success. */
static uint32_t cl_go(int fd, uint16_t *tflags)
{
	uint8_t b[64], d[32];
	struct hha_nbd_opt_reply r;
	size_t n;

	if (cl_read(fd, b, HHA_NBD_GREETING_LEN) < 0)
		return 0;
	hha_nbd_encode_client_flags(b, 3);
	n = hha_nbd_encode_opt_hdr(b + 4, HHA_NBD_OPT_GO, 4 + 2 + 2);
	n += 4 + hha_nbd_encode_info_req(b + 4 + n, "r0", 2, NULL, 0);
	assert_int_equal(send(fd, b, n, 0), (ssize_t)n);
	for (;;) {
		if (cl_read(fd, b, HHA_NBD_OPT_REPLY_HDR_LEN) < 0 ||
		    hha_nbd_decode_opt_reply(b, HHA_NBD_OPT_REPLY_HDR_LEN, &r) < 0 || r.len > sizeof(d) + 200)
			return 0;
		{
			uint8_t tmp[256];

			if (r.len && cl_read(fd, tmp, r.len) < 0)
				return 0;
			memcpy(d, tmp, r.len < sizeof(d) ? r.len : sizeof(d));
		}
		if (r.type != HHA_NBD_REP_INFO)
			return r.type;
		if (hha_get_be16(d) == HHA_NBD_INFO_EXPORT && tflags)
			*tflags = hha_get_be16(d + 10);
	}
}

static void cl_req(int fd, uint16_t type, uint64_t cookie, uint64_t off, uint32_t len)
{
	struct hha_nbd_request r = { 0, type, cookie, off, len };
	uint8_t b[HHA_NBD_REQUEST_LEN];

	hha_nbd_encode_request(b, &r);
	assert_int_equal(send(fd, b, sizeof(b), 0), (ssize_t)sizeof(b));
}

static uint32_t cl_reply(int fd, uint64_t *cookie)
{
	uint8_t b[HHA_NBD_SIMPLE_REPLY_LEN];
	uint32_t err;

	assert_int_equal(cl_read(fd, b, sizeof(b)), 0);
	assert_int_equal(hha_nbd_decode_simple_reply(b, sizeof(b), &err, cookie), 0);
	return err;
}

/* ---- tests ---- */

static void test_new_validation(void **state)
{
	static const struct {
		uint64_t size;
		uint32_t min, pref, max;
		const char *name;
	} bad[] = {
		{ DISK, 3, 0, 0, "r0" },		/* min not a power of two */
		{ DISK, 131072, 0, 0, "r0" },		/* min > 64 KiB */
		{ DISK, 512, 256, 0, "r0" },		/* pref < 512 */
		{ DISK, 4096, 2048, 0, "r0" },		/* pref < min */
		{ DISK, 512, 4096, 2048, "r0" },	/* max < pref */
		{ DISK, 512, 4096, 4096 + 512 + 1, "r0" }, /* max not a multiple of min */
		{ DISK, 512, 4096, 128u << 20, "r0" },	/* max > 64 MiB */
		{ DISK + 1, 512, 0, 0, "r0" },		/* size not a multiple of min */
	};
	struct hha_nbd_backend be = { .submit = mem_submit };
	struct hha_nbd_server *srv = NULL;
	char longname[5000];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct hha_nbd_export e = good;

		e.size = bad[i].size;
		e.min_block = bad[i].min;
		e.pref_block = bad[i].pref;
		e.max_payload = bad[i].max;
		e.name = bad[i].name;
		if (hha_nbd_server_new(NULL, &e, &be, &srv) != -EINVAL)
			fail_msg("row %zu accepted", i);
		assert_non_null(strstr(hha_last_error(), "hha_nbd_server_new"));
	}
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	{
		struct hha_nbd_export e = good;

		e.name = longname;
		assert_int_equal(hha_nbd_server_new(NULL, &e, &be, &srv), -EINVAL);
	}
	assert_int_equal(hha_nbd_server_new(NULL, &good, NULL, &srv), -EINVAL);
	hha_nbd_server_free(NULL);
}

static void test_listen(void **state)
{
	struct fixture *f = *state;
	char path[160];
	int fd;

	/* A live socket is not taken over. */
	assert_int_equal(hha_nbd_server_listen_unix(f->srv, f->sock), -EADDRINUSE);
	/* A regular file is not replaced. */
	snprintf(path, sizeof(path), "%s/file", f->dir);
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	assert_int_equal(hha_nbd_server_listen_unix(f->srv, path), -EEXIST);
	unlink(path);
	/* A stale socket (nobody listening) is replaced. */
	snprintf(path, sizeof(path), "%s/stale", f->dir);
	{
		struct sockaddr_un sun = { .sun_family = AF_UNIX };

		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
		assert_int_equal(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
		close(fd);
	}
	assert_int_equal(hha_nbd_server_listen_unix(f->srv, path), 0);
	fd = cl_connect(path);
	assert_int_equal(cl_go(fd, NULL), HHA_NBD_REP_ACK);
	close(fd);
	/* TCP on a port the kernel picks. */
	assert_int_equal(hha_nbd_server_listen_tcp(f->srv, "127.0.0.1", 0), 0);
	assert_true(hha_nbd_server_tcp_port(f->srv) > 0);
	assert_int_equal(hha_nbd_server_listen_tcp(f->srv, "not-an-address!", 1), -EINVAL);
	assert_int_equal(hha_nbd_server_listen_tcp(f->srv, "127.0.0.1", 70000), -EINVAL);
}

static void test_disable_and_drop(void **state)
{
	struct fixture *f = *state;
	struct hha_nbd_stats st;
	int a, b, c;
	uint64_t ck;

	a = cl_connect(f->sock);
	assert_int_equal(cl_go(a, NULL), HHA_NBD_REP_ACK);
	cl_req(a, HHA_NBD_CMD_FLUSH, 1, 0, 0);
	assert_int_equal(cl_reply(a, &ck), 0);

	/* Disabled, keeping clients: new ones are refused, old ones go on. */
	hha_nbd_server_set_enabled(f->srv, false, false);
	b = cl_connect(f->sock);
	assert_int_equal(cl_go(b, NULL), HHA_NBD_REP_ERR_SHUTDOWN);
	close(b);
	cl_req(a, HHA_NBD_CMD_FLUSH, 2, 0, 0);
	assert_int_equal(cl_reply(a, &ck), 0);

	/* Enabled again; then disabled with drop while a request is held: its
	 * reply still arrives, then the connection closes. */
	hha_nbd_server_set_enabled(f->srv, true, false);
	c = cl_connect(f->sock);
	assert_int_equal(cl_go(c, NULL), HHA_NBD_REP_ACK);
	pthread_mutex_lock(&f->mem->lock);
	f->mem->hold = true;
	pthread_mutex_unlock(&f->mem->lock);
	cl_req(a, HHA_NBD_CMD_FLUSH, 3, 0, 0);
	for (int i = 0; i < 200 && mem_held(f->mem) == 0; i++)
		usleep(5000);
	assert_int_equal(mem_held(f->mem), 1);
	hha_nbd_server_set_enabled(f->srv, false, true);
	assert_true(cl_closed(c)); /* idle: closed at once */
	usleep(50000);
	mem_release(f->mem);
	assert_int_equal(cl_reply(a, &ck), 0);
	assert_true(ck == 3);
	assert_true(cl_closed(a));
	close(a);
	close(c);

	for (int i = 0; i < 200; i++) {
		hha_nbd_server_stats(f->srv, &st);
		if (st.clients == 0)
			break;
		usleep(5000);
	}
	assert_int_equal(st.clients, 0);
	assert_true(st.requests == 3);
	assert_true(st.errors == 0 && st.protocol_errors == 0);
}

static void test_read_only_switch(void **state)
{
	struct fixture *f = *state;
	uint16_t tflags = 0;
	uint64_t ck;
	int a, b;

	a = cl_connect(f->sock);
	assert_int_equal(cl_go(a, &tflags), HHA_NBD_REP_ACK);
	assert_false(tflags & HHA_NBD_FLAG_READ_ONLY);
	hha_nbd_server_set_read_only(f->srv, true);
	b = cl_connect(f->sock);
	assert_int_equal(cl_go(b, &tflags), HHA_NBD_REP_ACK);
	assert_true(tflags & HHA_NBD_FLAG_READ_ONLY);
	/* Flags are fixed per connection: the old one may still write. */
	{
		uint8_t req[HHA_NBD_REQUEST_LEN + 512] = { 0 };
		struct hha_nbd_request r = { 0, HHA_NBD_CMD_WRITE, 7, 0, 512 };

		hha_nbd_encode_request(req, &r);
		assert_int_equal(send(a, req, sizeof(req), 0), (ssize_t)sizeof(req));
		assert_int_equal(cl_reply(a, &ck), 0);
		r.cookie = 8;
		hha_nbd_encode_request(req, &r);
		assert_int_equal(send(b, req, sizeof(req), 0), (ssize_t)sizeof(req));
		assert_int_equal(cl_reply(b, &ck), HHA_NBD_EPERM);
	}
	close(a);
	close(b);
}

static void test_free_with_clients(void **state)
{
	struct fixture *f = *state;
	int a = cl_connect(f->sock), b = cl_connect(f->sock);

	/* One in transmission, one in the handshake: free() must not wait for them. */
	assert_int_equal(cl_go(a, NULL), HHA_NBD_REP_ACK);
	hha_nbd_server_free(f->srv);
	f->srv = NULL;
	assert_true(cl_closed(a));
	assert_true(cl_closed(b));
	close(a);
	close(b);
	{
		struct stat st;

		assert_int_equal(stat(f->sock, &st), -1); /* the socket file is gone */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_validation),
		cmocka_unit_test_setup_teardown(test_listen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disable_and_drop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_only_switch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_with_clients, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
