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

#include "test-disk-pairlib.h"

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
