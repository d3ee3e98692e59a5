/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Two replication engines in one process over loopback: sync, writes per protocol, overlaps, flush. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "disk/engine.h"

#define SIZE (64ull << 20)

struct node {
	struct hha_disk *d;
	char path[64];
	int port;
};

static struct hha_ctx *ctx;
static char keypath[64];
static atomic_int done_count, err_count;

static void complete(struct hha_nbd_req *req, int err)
{
	if (err)
		atomic_fetch_add(&err_count, 1);
	atomic_fetch_add(&done_count, 1);
	(void)req;
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static void node_init_size(struct node *n, const char *name, uint64_t size);
static void node_init(struct node *n, const char *name)
{
	node_init_size(n, name, SIZE);
}

static void node_init_size(struct node *n, const char *name, uint64_t size)
{
	struct hha_disk_md_opts mo = { .struct_size = sizeof(mo), .name = name };
	struct hha_disk_attach_opts ao = { .struct_size = sizeof(ao) };
	int fd;

	strcpy(n->path, "/tmp/hha-test-pair-XXXXXX");
	fd = mkstemp(n->path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	close(fd);
	mo.backing = n->path;
	assert_int_equal(hha_disk_create_md(ctx, &mo, NULL), 0);
	assert_int_equal(hha_disk_new(ctx, name, &n->d), 0);
	ao.backing = n->path;
	assert_int_equal(hha_disk_attach(n->d, &ao), 0);
	hha_disk_set_complete(n->d, complete);
	n->port = free_port();
}

static void node_fini(struct node *n)
{
	hha_disk_free(n->d);
	unlink(n->path);
}

static const char *key_override;

static void node_connect(struct node *n, struct node *peer, char proto, enum hha_disk_security sec)
{
	struct hha_disk_net_opts o = {
		.struct_size = sizeof(o), .local_addr = "127.0.0.1", .local_port = n->port,
		.peer_addr = "127.0.0.1", .peer_port = peer->port, .protocol = (enum hha_disk_protocol)proto,
		.security = sec, .security_set = true, .key_file = key_override ? key_override : keypath,
		.timeout_ms = 2000,
		.ping_int_ms = 200, .connect_int_ms = 100,
	};
	assert_int_equal(hha_disk_connect(n->d, &o), 0);
}

static void status(struct node *n, struct hha_disk_status *st)
{
	st->struct_size = sizeof(*st);
	assert_int_equal(hha_disk_status(n->d, st), 0);
}

/* Wait until both nodes are in @cs with disk @ds (or timeout). */
static void wait_both(struct node *a, struct node *b, enum hha_conn_state cs, enum hha_disk_state ds, int ms)
{
	int64_t end = hha_now_ms() + ms;
	struct hha_disk_status sa, sb;

	for (;;) {
		hha_disk_dispatch(a->d);
		hha_disk_dispatch(b->d);
		status(a, &sa);
		status(b, &sb);
		if (sa.cstate == cs && sb.cstate == cs && sa.dstate == ds && sb.dstate == ds)
			return;
		if (hha_now_ms() > end)
			fail_msg("timeout: %s/%s and %s/%s, wanted %s/%s", hha_conn_state_name(sa.cstate),
				 hha_disk_state_name(sa.dstate), hha_conn_state_name(sb.cstate),
				 hha_disk_state_name(sb.dstate), hha_conn_state_name(cs), hha_disk_state_name(ds));
		usleep(10000);
	}
}

struct wreq {
	struct hha_nbd_req req;
	uint8_t *buf;
};

static void submit(struct node *n, struct wreq *w, uint16_t cmd, uint64_t off, uint32_t len, uint16_t flags)
{
	memset(&w->req, 0, sizeof(w->req));
	w->req.cmd = cmd;
	w->req.flags = flags;
	w->req.offset = off;
	w->req.len = len;
	w->req.buf = w->buf;
	hha_disk_submit(n->d, &w->req);
}

static void wait_done(int n)
{
	int64_t end = hha_now_ms() + 20000;

	while (atomic_load(&done_count) < n) {
		if (hha_now_ms() > end)
			fail_msg("only %d of %d requests completed", atomic_load(&done_count), n);
		usleep(1000);
	}
}

static void compare(struct node *a, struct node *b)
{
	int fa = open(a->path, O_RDONLY), fb = open(b->path, O_RDONLY);
	uint8_t *ba = malloc(1 << 20), *bb = malloc(1 << 20);
	struct hha_disk_status st;

	status(a, &st);
	for (uint64_t off = 0; off < st.size; off += 1 << 20) {
		size_t n = (size_t)HHA_MIN(1u << 20, st.size - off);
		assert_int_equal(pread(fa, ba, n, (off_t)off), (ssize_t)n);
		assert_int_equal(pread(fb, bb, n, (off_t)off), (ssize_t)n);
		if (memcmp(ba, bb, n) != 0)
			fail_msg("backing stores differ in the MiB at %llu", (unsigned long long)off);
	}
	free(ba);
	free(bb);
	close(fa);
	close(fb);
}

/* Random writes (some overlapping, some FUA), trims, zeroes and flushes, all in flight at once. */
static void write_burst(struct node *a, unsigned seed, int count)
{
	struct wreq *w = calloc((size_t)count, sizeof(*w));
	int base = atomic_load(&done_count);

	for (int i = 0; i < count; i++) {
		uint32_t len = (uint32_t)(1 + rand_r(&seed) % 64) * 4096;
		uint64_t off = (uint64_t)(rand_r(&seed) % (SIZE / 2 / 4096)) * 4096;
		int kind = rand_r(&seed) % 20;
		if (i % 7 == 3) /* overlap the previous one */
			off = w[i - 1].req.offset + 512;
		w[i].buf = malloc(len);
		for (uint32_t k = 0; k < len; k++)
			w[i].buf[k] = (uint8_t)(rand_r(&seed));
		if (kind == 0)
			submit(a, &w[i], HHA_NBD_CMD_TRIM, off, len, 0);
		else if (kind == 1)
			submit(a, &w[i], HHA_NBD_CMD_WRITE_ZEROES, off, len, HHA_NBD_REQ_NO_HOLE);
		else if (kind == 2)
			submit(a, &w[i], HHA_NBD_CMD_FLUSH, 0, 0, 0);
		else
			submit(a, &w[i], HHA_NBD_CMD_WRITE, off, len, kind == 3 ? HHA_NBD_REQ_FUA : 0);
	}
	wait_done(base + count);
	for (int i = 0; i < count; i++)
		free(w[i].buf);
	free(w);
}

static void run_pair(char proto, enum hha_disk_security sec)
{
	struct node a, b;
	struct hha_disk_status st;

	atomic_store(&err_count, 0);
	node_init(&a, "r0");
	node_init(&b, "r0");
	node_connect(&a, &b, proto, sec);
	node_connect(&b, &a, proto, sec);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_INCONSISTENT, 10000);
	/* A plain promotion of a new disk is refused; --force starts the full sync. */
	assert_int_equal(hha_disk_primary(a.d, false), -HHA_ENOTUPTODATE);
	assert_int_equal(hha_disk_primary(a.d, true), 0);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
	assert_int_equal(hha_disk_primary(b.d, false), -HHA_EPEERPRIMARY);
	write_burst(&a, 42, 400);
	assert_int_equal(atomic_load(&err_count), 0);
	/* A and B answer before the peer's last word: it must still come. */
	for (int64_t end = hha_now_ms() + 5000;; usleep(1000)) {
		status(&a, &st);
		if (st.unacked == 0 || hha_now_ms() > end)
			break;
	}
	assert_int_equal(st.unacked, 0);
	assert_int_equal(st.out_of_sync, 0);
	/* Protocol A answers before the peer wrote: let it catch up. */
	{
		struct wreq f = { 0 };
		int base = atomic_load(&done_count);
		submit(&a, &f, HHA_NBD_CMD_FLUSH, 0, 0, 0);
		wait_done(base + 1);
		usleep(proto == 'C' ? 0 : 200000);
	}
	compare(&a, &b);
	node_fini(&a);
	node_fini(&b);
}

/* Bring a pair up: connected, A primary, full sync done. */
static void pair_up(struct node *a, struct node *b, char proto)
{
	node_init(a, "r0");
	node_init(b, "r0");
	node_connect(a, b, proto, HHA_DISK_SEC_AUTH);
	node_connect(b, a, proto, HHA_DISK_SEC_AUTH);
	wait_both(a, b, HHA_CS_CONNECTED, HHA_DS_INCONSISTENT, 10000);
	assert_int_equal(hha_disk_primary(a->d, true), 0);
	wait_both(a, b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
}

static void fill(struct wreq *w, uint32_t len, unsigned seed)
{
	w->buf = malloc(len);
	for (uint32_t k = 0; k < len; k++)
		w->buf[k] = (uint8_t)rand_r(&seed);
}

/* Writes just ahead of and just behind the position of a slow full sync. */
static void test_write_during_sync(void **state)
{
	struct node a, b;
	struct hha_disk_status st;
	struct wreq w[64];
	int n = 0, base;
	(void)state;

	node_init(&a, "r0");
	node_init(&b, "r0");
	/* Put data on A before it becomes the source, so the sync carries something. */
	hha_disk_set_sync_rate(a.d, 16u << 20);
	node_connect(&a, &b, 'C', HHA_DISK_SEC_AUTH);
	node_connect(&b, &a, 'C', HHA_DISK_SEC_AUTH);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_INCONSISTENT, 10000);
	assert_int_equal(hha_disk_primary(a.d, true), 0);
	base = atomic_load(&done_count);
	for (int round = 0; round < 16; round++) {
		uint64_t pos;
		usleep(100000);
		status(&a, &st);
		assert_int_equal(st.cstate, HHA_CS_SYNCSOURCE);
		pos = st.sync_done & ~4095ull;
		/* Behind, at, and ahead of the sync position, and one overlapping pair. */
		uint64_t offs[4] = { pos > (2 << 20) ? pos - (2 << 20) : 0, pos, pos + (1 << 20) + 4096,
				     pos + (3 << 20) };
		for (int k = 0; k < 4 && n < 64; k++) {
			if (offs[k] + 65536 > st.size)
				continue;
			fill(&w[n], 65536, (unsigned)(round * 10 + k));
			submit(&a, &w[n], HHA_NBD_CMD_WRITE, offs[k], 65536, 0);
			n++;
		}
	}
	wait_done(base + n);
	assert_int_equal(atomic_load(&err_count), 0);
	hha_disk_set_sync_rate(a.d, 0);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
	compare(&a, &b);
	for (int i = 0; i < n; i++)
		free(w[i].buf);
	node_fini(&a);
	node_fini(&b);
}

/* The secondary goes away; the primary writes on; the secondary returns and
 * gets only what changed (bitmap resync). */
static void test_reconnect_bitmap(void **state)
{
	struct node a, b;
	struct hha_disk_status st;
	(void)state;

	atomic_store(&err_count, 0);
	pair_up(&a, &b, 'C');
	assert_int_equal(hha_disk_disconnect(b.d), 0);
	for (int64_t end = hha_now_ms() + 5000;; usleep(1000)) {
		status(&a, &st);
		if (st.cstate == HHA_CS_WFCONNECTION || hha_now_ms() > end)
			break;
	}
	assert_int_equal(st.cstate, HHA_CS_WFCONNECTION);
	write_burst(&a, 7, 100);
	assert_int_equal(atomic_load(&err_count), 0);
	status(&a, &st);
	assert_true(st.out_of_sync > 0);
	assert_true(st.uuid_bitmap != 0);
	node_connect(&b, &a, 'C', HHA_DISK_SEC_AUTH);
	wait_both(&a, &b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
	status(&a, &st);
	assert_int_equal(st.out_of_sync, 0);
	assert_int_equal(st.uuid_bitmap, 0);
	compare(&a, &b);
	node_fini(&a);
	node_fini(&b);
}

/* Wait until @n reports a refusal containing @what. */
static void wait_refusal(struct node *n, struct node *other, const char *what)
{
	struct hha_disk_status st;

	for (int64_t end = hha_now_ms() + 10000;; usleep(10000)) {
		hha_disk_dispatch(n->d);
		hha_disk_dispatch(other->d);
		status(n, &st);
		if (strstr(st.last_refusal, what))
			return;
		if (hha_now_ms() > end)
			fail_msg("no refusal with \"%s\" (last: \"%s\")", what, st.last_refusal);
	}
}

static void test_refusals(void **state)
{
	struct node a, b;
	struct hha_disk_status st;
	char otherkey[64];
	int fd;
	(void)state;

	/* Wrong secret: both keep trying, each says why. */
	strcpy(otherkey, "/tmp/hha-test-pairkey2-XXXXXX");
	fd = mkstemp(otherkey);
	assert_int_equal(write(fd, "another secret entirely\n", 24), 24);
	close(fd);
	node_init(&a, "r0");
	node_init(&b, "r0");
	node_connect(&a, &b, 'C', HHA_DISK_SEC_AUTH);
	key_override = otherkey;
	node_connect(&b, &a, 'C', HHA_DISK_SEC_AUTH);
	key_override = NULL;
	wait_refusal(&a, &b, "authentication failed");
	wait_refusal(&b, &a, "authentication failed");
	status(&a, &st);
	assert_int_equal(st.cstate, HHA_CS_WFCONNECTION);
	node_fini(&a);
	node_fini(&b);
	unlink(otherkey);

	/* Wrong resource name. */
	node_init(&a, "r0");
	node_init(&b, "r1");
	node_connect(&a, &b, 'C', HHA_DISK_SEC_AUTH);
	node_connect(&b, &a, 'C', HHA_DISK_SEC_AUTH);
	wait_refusal(&a, &b, "resource is `r1'");
	wait_refusal(&b, &a, "resource is `r0'");
	node_fini(&a);
	node_fini(&b);

	/* Different security modes. */
	node_init(&a, "r0");
	node_init(&b, "r0");
	node_connect(&a, &b, 'C', HHA_DISK_SEC_AUTH);
	node_connect(&b, &a, 'C', HHA_DISK_SEC_ENCRYPT);
	wait_refusal(&a, &b, "security");
	node_fini(&a);
	node_fini(&b);

	/* Size mismatch: refused for good (StandAlone) on both. */
	node_init(&a, "r0");
	node_init_size(&b, "r0", SIZE / 2);
	node_connect(&a, &b, 'C', HHA_DISK_SEC_AUTH);
	node_connect(&b, &a, 'C', HHA_DISK_SEC_AUTH);
	wait_refusal(&a, &b, "size mismatch");
	wait_refusal(&b, &a, "size mismatch");
	for (int64_t end = hha_now_ms() + 5000;; usleep(10000)) {
		status(&a, &st);
		if (st.cstate == HHA_CS_STANDALONE || hha_now_ms() > end)
			break;
	}
	assert_int_equal(st.cstate, HHA_CS_STANDALONE);
	node_fini(&a);
	node_fini(&b);

	/* Unrelated data: two disks that were each made primary alone. */
	node_init(&a, "r0");
	node_init(&b, "r0");
	assert_int_equal(hha_disk_primary(a.d, true), 0);
	assert_int_equal(hha_disk_secondary(a.d), 0);
	assert_int_equal(hha_disk_primary(b.d, true), 0);
	assert_int_equal(hha_disk_secondary(b.d), 0);
	node_connect(&a, &b, 'C', HHA_DISK_SEC_AUTH);
	node_connect(&b, &a, 'C', HHA_DISK_SEC_AUTH);
	wait_refusal(&a, &b, "unrelated");
	wait_refusal(&b, &a, "unrelated");
	node_fini(&a);
	node_fini(&b);
}

/* A raw client on a node's port: garbage, then a HELLO of an unknown version. */
static void test_raw_peer(void **state)
{
	struct node a;
	struct hha_disk_status st;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct hha_wire_hello h = { .ver_min = 7, .ver_max = 9, .security = HHA_SEC_AUTH, .protocol = 'C',
				    .instance = 42 };
	uint8_t frame[HHA_WIRE_HDR + HHA_WIRE_HELLO_LEN], reply[HHA_WIRE_HDR];
	struct hha_wire_hdr hdr = { .type = HHA_W_HELLO, .plen = HHA_WIRE_HELLO_LEN }, got;
	struct hha_wire_limits lim = { HHA_WIRE_HANDSHAKE, 0, 0 };
	struct node dummy;
	int fd;
	(void)state;

	node_init(&a, "r0");
	dummy.port = free_port(); /* nobody listens there: a dials in vain */
	node_connect(&a, &dummy, 'C', HHA_DISK_SEC_AUTH);
	sa.sin_port = htons((uint16_t)a.port);
	/* Garbage: the connection is closed, the node goes on. */
	for (int64_t end = hha_now_ms() + 5000;; usleep(10000)) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		close(fd);
		if (hha_now_ms() > end)
			fail_msg("cannot connect to the node");
	}
	assert_int_equal(write(fd, "GET / HTTP/1.0\r\n\r\n0123456789012", 32), 32);
	assert_true(read(fd, frame, sizeof(frame)) >= 0); /* its HELLO, then the close */
	close(fd);
	/* A HELLO with versions we do not speak: REFUSE(VERSION) comes back. */
	strcpy(h.name, "r0");
	hha_wire_hdr_encode(&hdr, frame);
	hha_wire_hello_encode(&h, frame + HHA_WIRE_HDR);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(write(fd, frame, sizeof(frame)), (ssize_t)sizeof(frame));
	{
		/* Skip the node's HELLO, then expect the refusal. */
		uint8_t skip[HHA_WIRE_HDR + HHA_WIRE_HELLO_LEN];
		size_t n = 0;
		while (n < sizeof(skip)) {
			ssize_t r = read(fd, skip + n, sizeof(skip) - n);
			assert_true(r > 0);
			n += (size_t)r;
		}
		n = 0;
		while (n < sizeof(reply)) {
			ssize_t r = read(fd, reply + n, sizeof(reply) - n);
			assert_true(r > 0);
			n += (size_t)r;
		}
	}
	assert_int_equal(hha_wire_hdr_decode(reply, &lim, &got, NULL), 0);
	assert_int_equal(got.type, HHA_W_REFUSE);
	assert_int_equal(got.aux, HHA_WR_VERSION);
	close(fd);
	status(&a, &st);
	assert_non_null(strstr(st.last_refusal, "wire versions 7..9"));
	assert_int_equal(st.cstate, HHA_CS_WFCONNECTION);
	node_fini(&a);
}

static void test_proto_c(void **state) { (void)state; run_pair('C', HHA_DISK_SEC_AUTH); }
static void test_proto_b(void **state) { (void)state; run_pair('B', HHA_DISK_SEC_ENCRYPT); }
static void test_proto_a(void **state) { (void)state; run_pair('A', HHA_DISK_SEC_NONE); }

static int setup(void **state)
{
	int fd;

	(void)state;
	assert_int_equal(hha_ctx_new(&ctx), 0);
	if (!getenv("HHA_LOG_LEVEL"))
		hha_ctx_set_log_level(ctx, HHA_LOG_WARNING);
	strcpy(keypath, "/tmp/hha-test-pairkey-XXXXXX");
	fd = mkstemp(keypath);
	assert_int_equal(write(fd, "a shared secret for the test\n", 29), 29);
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(keypath);
	hha_ctx_free(ctx);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proto_c),
		cmocka_unit_test(test_proto_b),
		cmocka_unit_test(test_proto_a),
		cmocka_unit_test(test_write_during_sync),
		cmocka_unit_test(test_reconnect_bitmap),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_raw_peer),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
