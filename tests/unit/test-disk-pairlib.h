/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers of the in-process pair tests: two engines over loopback, requests, waits, comparisons. */
#ifndef HHA_TEST_DISK_PAIRLIB_H
#define HHA_TEST_DISK_PAIRLIB_H

#define PAIRLIB __attribute__((unused))

#define SIZE (64ull << 20)

struct node {
	struct hha_disk *d;
	char path[64];
	int port;
};

static PAIRLIB struct hha_ctx *ctx;
static PAIRLIB char keypath[64];
static PAIRLIB atomic_int done_count, err_count;

static PAIRLIB void complete(struct hha_nbd_req *req, int err)
{
	if (err)
		atomic_fetch_add(&err_count, 1);
	atomic_fetch_add(&done_count, 1);
	(void)req;
}

/*
 * A port to listen on, below the kernel's ephemeral range (32768 and up by
 * default): a port bind(0) hands out is one an outgoing connect() of the
 * peer may take next, and the listener's bind then fails with EADDRINUSE.
 */
static PAIRLIB int free_port(void)
{
	static unsigned next;

	if (!next)
		next = (unsigned)getpid() * 7919u + (unsigned)hha_now_ms();
	for (int tries = 0; tries < 1000; tries++) {
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		int fd = socket(AF_INET, SOCK_STREAM, 0), port = 20000 + (int)(next++ * 2654435761u % 12000u);

		assert_true(fd >= 0);
		a.sin_port = htons((uint16_t)port);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			close(fd);
			return port;
		}
		close(fd);
	}
	fail_msg("no free port in 20000..31999");
	return -1;
}

static PAIRLIB void node_init_size(struct node *n, const char *name, uint64_t size);
static PAIRLIB void node_init(struct node *n, const char *name)
{
	node_init_size(n, name, SIZE);
}

static PAIRLIB void node_init_size(struct node *n, const char *name, uint64_t size)
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

static PAIRLIB void node_fini(struct node *n)
{
	hha_disk_free(n->d);
	unlink(n->path);
}

static PAIRLIB const char *key_override;

static PAIRLIB void node_connect(struct node *n, struct node *peer, char proto, enum hha_disk_security sec)
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

static PAIRLIB void status(struct node *n, struct hha_disk_status *st)
{
	st->struct_size = sizeof(*st);
	assert_int_equal(hha_disk_status(n->d, st), 0);
}

/* Wait until both nodes are in @cs with disk @ds (or timeout). */
static PAIRLIB void wait_both(struct node *a, struct node *b, enum hha_conn_state cs, enum hha_disk_state ds, int ms)
{
	int64_t end = hha_now_ms() + ms;
	struct hha_disk_status sa, sb;

	for (;;) {
		hha_disk_dispatch(a->d);
		hha_disk_dispatch(b->d);
		status(a, &sa);
		status(b, &sb);
		/* Each side has heard the other's last state too. */
		if (sa.cstate == cs && sb.cstate == cs && sa.dstate == ds && sb.dstate == ds &&
		    (cs != HHA_CS_CONNECTED || (sa.peer_dstate == ds && sb.peer_dstate == ds)))
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

static PAIRLIB void submit(struct node *n, struct wreq *w, uint16_t cmd, uint64_t off, uint32_t len, uint16_t flags)
{
	memset(&w->req, 0, sizeof(w->req));
	w->req.cmd = cmd;
	w->req.flags = flags;
	w->req.offset = off;
	w->req.len = len;
	w->req.buf = w->buf;
	hha_disk_submit(n->d, &w->req);
}

static PAIRLIB void wait_done(int n)
{
	int64_t end = hha_now_ms() + 20000;

	while (atomic_load(&done_count) < n) {
		if (hha_now_ms() > end)
			fail_msg("only %d of %d requests completed", atomic_load(&done_count), n);
		usleep(1000);
	}
}

static PAIRLIB void compare(struct node *a, struct node *b)
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
static PAIRLIB void write_burst(struct node *a, unsigned seed, int count)
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

/* Bring a pair up: connected, A primary, full sync done. */
static PAIRLIB void pair_up(struct node *a, struct node *b, char proto)
{
	node_init(a, "r0");
	node_init(b, "r0");
	node_connect(a, b, proto, HHA_DISK_SEC_AUTH);
	node_connect(b, a, proto, HHA_DISK_SEC_AUTH);
	wait_both(a, b, HHA_CS_CONNECTED, HHA_DS_INCONSISTENT, 10000);
	assert_int_equal(hha_disk_primary(a->d, true), 0);
	wait_both(a, b, HHA_CS_CONNECTED, HHA_DS_UPTODATE, 20000);
}

static PAIRLIB void fill(struct wreq *w, uint32_t len, unsigned seed)
{
	w->buf = malloc(len);
	for (uint32_t k = 0; k < len; k++)
		w->buf[k] = (uint8_t)rand_r(&seed);
}

/* Wait until @n reports a refusal containing @what. */
static PAIRLIB void wait_refusal(struct node *n, struct node *other, const char *what)
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

static PAIRLIB int setup(void **state)
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

static PAIRLIB int teardown(void **state)
{
	(void)state;
	unlink(keypath);
	hha_ctx_free(ctx);
	return 0;
}


#endif /* HHA_TEST_DISK_PAIRLIB_H */
