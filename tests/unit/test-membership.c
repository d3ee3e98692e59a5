/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unit tests: the membership object's receive checks, states, payloads, keys and incarnations. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "net/membership-int.h"

static const char KEY[] = "test-cluster-key-0123456789";
static int64_t fake_now = 1000;

static int64_t fake_clock(void *ud)
{
	(void)ud;
	return fake_now;
}

struct node {
	struct hha_membership *m;
	char addr[2][32];
};

struct fixture {
	struct hha_ctx *ctx;
	char dir[64];
	struct node a, b;
	int events;
	struct hha_member_event last;
};

static void on_event(void *ud, const struct hha_member_event *ev)
{
	struct fixture *f = ud;

	if (ev->link < 0) {
		f->events++;
		f->last = *ev;
	}
}

static struct hha_membership *make(struct fixture *f, unsigned id, const char *statedir,
				   unsigned witness_id, bool witness)
{
	struct hha_membership_opts o = {
		.size = sizeof(o), .self_id = id, .cluster_name = "unit", .keepalive_ms = 100,
		.warntime_ms = 300, .deadtime_ms = 500, .initdead_ms = 2000, .state_dir = statedir,
		.clock = fake_clock, .witness_id = witness_id, .witness = witness,
	};
	struct hha_membership *m;

	assert_int_equal(hha_membership_new(f->ctx, &o, &m), 0);
	assert_int_equal(hha_membership_add_key(m, 1, KEY, strlen(KEY)), 0);
	assert_int_equal(hha_membership_add_link(m, "127.0.0.1:0"), 0);
	assert_int_equal(hha_membership_add_link(m, "127.0.0.1:0"), 1);
	return m;
}

static void addr_of(struct hha_membership *m, char out[2][32])
{
	for (unsigned l = 0; l < 2; l++)
		snprintf(out[l], 32, "127.0.0.1:%d", hha_membership_link_port(m, l));
}

static void peer(struct hha_membership *m, unsigned id, struct node *n)
{
	const char *addrs[2] = { n->addr[0], n->addr[1] };

	assert_int_equal(hha_membership_add_peer(m, id, id == 1 ? "a" : id == 2 ? "b" : "w", addrs, 2), 0);
}

static struct sockaddr_in sin_of(const char *hostport);

/*
 * @to hears one datagram of @from (node @from_id at @from_addr, link 0): its
 * echo is stale, but @to learns @from's incarnation and echoes it from now on.
 */
static void hear(struct hha_membership *to, unsigned to_id, struct hha_membership *from,
		 const char from_addr[2][32])
{
	uint8_t buf[HB_MAX_PACKET];
	struct sockaddr_in sin = sin_of(from_addr[0]);
	int n = hb_membership_build(from, to_id, 0, 1000000, 0, buf, sizeof(buf));

	assert_true(n > 0);
	assert_int_equal(hb_membership_input(to, 0, (struct sockaddr *)&sin, sizeof(sin), buf,
					     (size_t)n, fake_now),
			 HB_DROP_STALE_ECHO);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char sa[80], sb[80];

	assert_int_equal(hha_ctx_new(&f->ctx), 0);
	hha_ctx_set_log_fn(f->ctx, NULL, NULL);
	snprintf(f->dir, sizeof(f->dir), "/tmp/hha-test-membership-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(sa, sizeof(sa), "%s/a", f->dir);
	snprintf(sb, sizeof(sb), "%s/b", f->dir);
	fake_now = 1000;
	f->a.m = make(f, 1, sa, 0, false);
	f->b.m = make(f, 2, sb, 0, false);
	addr_of(f->a.m, f->a.addr);
	addr_of(f->b.m, f->b.addr);
	peer(f->a.m, 2, &f->b);
	peer(f->b.m, 1, &f->a);
	hha_membership_set_callback(f->b.m, on_event, f);
	assert_int_equal(hha_membership_start(f->a.m), 0);
	assert_int_equal(hha_membership_start(f->b.m), 0);
	hear(f->a.m, 1, f->b.m, f->b.addr);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	hha_membership_free(f->a.m);
	hha_membership_free(f->b.m);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	hha_ctx_free(f->ctx);
	free(f);
	return 0;
}

static struct sockaddr_in sin_of(const char *hostport)
{
	struct sockaddr_in s = { .sin_family = AF_INET };

	inet_pton(AF_INET, "127.0.0.1", &s.sin_addr);
	s.sin_port = htons((uint16_t)atoi(strchr(hostport, ':') + 1));
	return s;
}

/* Feed B a packet A made for B on @link, as if it came from A's address on @from_link. */
static enum hb_drop deliver(struct fixture *f, const uint8_t *buf, size_t len, unsigned link,
			    unsigned from_link)
{
	struct sockaddr_in from = sin_of(f->a.addr[from_link]);

	return hb_membership_input(f->b.m, link, (struct sockaddr *)&from, sizeof(from), buf, len,
				   fake_now);
}

static int build(struct fixture *f, struct hha_membership *m, unsigned link, uint64_t seq,
		 uint8_t *buf)
{
	return hb_membership_build(m, 2, link, seq, 0, buf, HB_MAX_PACKET);
}

static enum hha_member_state state_of(struct hha_membership *m, unsigned id, int link)
{
	struct hha_member_info info;

	assert_int_equal(hha_membership_peer_state(m, id, &info), 0);
	return link < 0 ? info.state : info.link[link].state;
}

static void tick(struct fixture *f, int64_t to)
{
	fake_now = to;
	assert_int_equal(hha_membership_dispatch(f->b.m), 0);
}

static void test_states_and_replay(void **state)
{
	struct fixture *f = *state;
	uint8_t cap[4][HB_MAX_PACKET];
	int len[4];
	struct hha_membership_counters c;

	assert_int_equal(state_of(f->b.m, 1, -1), HHA_MEMBER_INIT);
	for (int i = 0; i < 4; i++) {
		len[i] = build(f, f->a.m, (unsigned)i % 2, (uint64_t)(i / 2 + 1), cap[i]);
		assert_true(len[i] > 0);
	}
	/* Round 1 arrives on both links: the same sequence is fine once per link. */
	assert_int_equal(deliver(f, cap[0], (size_t)len[0], 0, 0), HB_ACCEPTED);
	assert_int_equal(deliver(f, cap[1], (size_t)len[1], 1, 1), HB_ACCEPTED);
	assert_int_equal(state_of(f->b.m, 1, -1), HHA_MEMBER_UP);
	assert_int_equal(f->last.new_state, HHA_MEMBER_UP);
	/* ...but not twice on one link, nor on the other link's socket. */
	assert_int_equal(deliver(f, cap[0], (size_t)len[0], 0, 0), HB_DROP_REPLAY);
	assert_int_equal(deliver(f, cap[0], (size_t)len[0], 1, 1), HB_DROP_WRONG_LINK);
	assert_int_equal(deliver(f, cap[0], (size_t)len[0], 0, 1), HB_DROP_WRONG_LINK);
	/* Silence: late after warntime, dead after deadtime (fake clock, exact). */
	tick(f, 1299);
	assert_int_equal(state_of(f->b.m, 1, -1), HHA_MEMBER_UP);
	tick(f, 1300);
	assert_int_equal(state_of(f->b.m, 1, -1), HHA_MEMBER_LATE);
	tick(f, 1499);
	assert_int_equal(state_of(f->b.m, 1, -1), HHA_MEMBER_LATE);
	tick(f, 1500);
	assert_int_equal(state_of(f->b.m, 1, -1), HHA_MEMBER_DEAD);
	assert_int_equal(f->last.new_state, HHA_MEMBER_DEAD);
	/* Replaying captured packets does not revive it. */
	for (int i = 0; i < 2; i++)
		assert_int_equal(deliver(f, cap[i], (size_t)len[i], (unsigned)i, (unsigned)i),
				 HB_DROP_REPLAY);
	tick(f, 1600);
	assert_int_equal(state_of(f->b.m, 1, -1), HHA_MEMBER_DEAD);
	/* A fresh round does. */
	assert_int_equal(deliver(f, cap[2], (size_t)len[2], 0, 0), HB_ACCEPTED);
	assert_int_equal(state_of(f->b.m, 1, -1), HHA_MEMBER_UP);
	hha_membership_counters(f->b.m, &c);
	assert_int_equal(c.accepted, 3);
	assert_int_equal(c.replay, 3);
	assert_int_equal(c.wrong_link, 2);
}

static void test_one_link_keeps_node_up(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[HB_MAX_PACKET];

	for (uint64_t seq = 1; seq <= 20; seq++) {
		int n = build(f, f->a.m, 0, seq, buf);
		/* link 1 is cut after round 2 */
		assert_int_equal(deliver(f, buf, (size_t)n, 0, 0), HB_ACCEPTED);
		if (seq <= 2) {
			n = build(f, f->a.m, 1, seq, buf);
			assert_int_equal(deliver(f, buf, (size_t)n, 1, 1), HB_ACCEPTED);
		}
		tick(f, fake_now + 100);
	}
	assert_int_equal(state_of(f->b.m, 1, 1), HHA_MEMBER_DEAD);
	assert_int_equal(state_of(f->b.m, 1, 0), HHA_MEMBER_UP);
	assert_int_equal(state_of(f->b.m, 1, -1), HHA_MEMBER_UP);
	/* Carrier loss on link 0 marks it down at once, and with link 1 dead the node is dead. */
	assert_int_equal(hha_membership_set_link_carrier(f->b.m, 0, false), 0);
	assert_int_equal(state_of(f->b.m, 1, 0), HHA_MEMBER_DOWN);
	assert_int_equal(state_of(f->b.m, 1, -1), HHA_MEMBER_DEAD);
	assert_int_equal(hha_membership_set_link_carrier(f->b.m, 0, true), 0);
	assert_int_equal(state_of(f->b.m, 1, 0), HHA_MEMBER_DEAD);
	assert_int_equal(hha_membership_set_link_carrier(f->b.m, 5, true), -ENOENT);
}

static void test_hostile(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[HB_MAX_PACKET + 64], big[HB_MAX_PACKET + 64] = { 0 };
	struct hha_membership_counters c;
	struct hb_keyring other = { 0 };
	struct hb_hdr h = { .link = 0, .cluster = hb_cluster_id("unit"), .sender = 1, .dest = 2,
			    .incarnation = UINT64_MAX, .seq = 1 };
	int n;

	/* wrong key */
	assert_int_equal(hb_keyring_add(&other, 1, "another-key-0123456789", 22), 0);
	n = hb_encode(&other, &h, NULL, 0, buf, sizeof(buf));
	assert_int_equal(deliver(f, buf, (size_t)n, 0, 0), HB_DROP_BAD_MAC);
	/* another cluster */
	h.cluster++;
	n = hb_encode(&other, &h, NULL, 0, buf, sizeof(buf));
	assert_int_equal(deliver(f, buf, (size_t)n, 0, 0), HB_DROP_OTHER_CLUSTER);
	hb_keyring_clear(&other);
	/* truncated and oversized genuine packets */
	n = build(f, f->a.m, 0, 1, buf);
	assert_int_equal(deliver(f, buf, (size_t)n - 1, 0, 0), HB_DROP_MALFORMED);
	assert_int_equal(deliver(f, buf, 10, 0, 0), HB_DROP_MALFORMED);
	memcpy(big, buf, (size_t)n);
	assert_int_equal(deliver(f, big, HB_MAX_PACKET + 1, 0, 0), HB_DROP_MALFORMED);
	/* addressed to another node */
	n = hb_membership_build(f->a.m, 7, 0, 1, 0, buf, sizeof(buf));
	assert_int_equal(deliver(f, buf, (size_t)n, 0, 0), HB_DROP_UNKNOWN_NODE);
	/* unknown key id */
	n = build(f, f->a.m, 0, 1, buf);
	buf[5] = 9;
	assert_int_equal(deliver(f, buf, (size_t)n, 0, 0), HB_DROP_UNKNOWN_KEY);
	hha_membership_counters(f->b.m, &c);
	assert_int_equal(c.bad_mac, 1);
	assert_int_equal(c.other_cluster, 1);
	assert_int_equal(c.malformed, 3);
	assert_int_equal(c.unknown_node, 1);
	assert_int_equal(c.unknown_key, 1);
	assert_int_equal(c.accepted, 0);
	assert_int_equal(state_of(f->b.m, 1, -1), HHA_MEMBER_INIT);
}

static void test_restart_is_new_incarnation(void **state)
{
	struct fixture *f = *state;
	uint8_t old[HB_MAX_PACKET], buf[HB_MAX_PACKET];
	struct hha_membership *a2;
	char sa[80];
	int nold, n;
	struct hha_member_info info;

	nold = build(f, f->a.m, 0, 1, old);
	n = build(f, f->a.m, 0, 2, buf);
	assert_int_equal(deliver(f, buf, (size_t)n, 0, 0), HB_ACCEPTED);
	/* A restarts with the same state directory: a larger incarnation, sequence from 1. */
	snprintf(sa, sizeof(sa), "%s/a", f->dir);
	a2 = make(f, 1, sa, 0, false);
	peer(a2, 2, &f->b);
	assert_int_equal(hha_membership_start(a2), 0);
	assert_true(hha_membership_incarnation(a2) > hha_membership_incarnation(f->a.m));
	n = hb_membership_build(a2, 2, 0, 1, 0, buf, sizeof(buf));
	f->events = 0;
	assert_int_equal(deliver(f, buf, (size_t)n, 0, 0), HB_ACCEPTED);
	assert_true(f->events >= 1);
	assert_true(f->last.new_incarnation);
	assert_int_equal(hha_membership_peer_state(f->b.m, 1, &info), 0);
	assert_true(info.incarnation == hha_membership_incarnation(a2));
	/* The old incarnation's packets are refused from now on. */
	assert_int_equal(deliver(f, old, (size_t)nold, 0, 0), HB_DROP_OLD_INCARNATION);
	hha_membership_free(a2);
}

static void test_payload(void **state)
{
	struct fixture *f = *state;
	uint8_t buf[HB_MAX_PACKET], big[2000] = { 0 };
	char out[16];
	size_t len = sizeof(out);
	int n;

	assert_int_equal(hha_membership_set_payload(f->a.m, 1, "load", 4), 0);
	assert_int_equal(hha_membership_set_payload(f->a.m, 16, "x", 1), 0);
	assert_int_equal(hha_membership_set_payload(f->a.m, 16, "xyz", 3), 0); /* replaces */
	assert_int_equal(hha_membership_set_payload(f->a.m, 3, "x", 1), -EINVAL);
	assert_int_equal(hha_membership_set_payload(f->a.m, 0, "x", 1), -EINVAL);
	assert_int_equal(hha_membership_set_payload(f->a.m, 17, big, 1000), -EMSGSIZE);
	assert_int_equal(hha_membership_peer_payload(f->b.m, 1, 1, out, &len), -ENOENT);
	n = build(f, f->a.m, 0, 1, buf);
	assert_int_equal(deliver(f, buf, (size_t)n, 0, 0), HB_ACCEPTED);
	assert_int_equal(hha_membership_peer_payload(f->b.m, 1, 1, out, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(out, "load", 4);
	len = 2;
	assert_int_equal(hha_membership_peer_payload(f->b.m, 1, 16, out, &len), -ENOBUFS);
	assert_int_equal(len, 3);
	len = sizeof(out);
	assert_int_equal(hha_membership_peer_payload(f->b.m, 1, 2, out, &len), -ENOENT);
	assert_int_equal(hha_membership_peer_payload(f->b.m, 9, 1, out, &len), -ENOENT);
	/* len 0 removes it */
	assert_int_equal(hha_membership_set_payload(f->a.m, 1, NULL, 0), 0);
	n = build(f, f->a.m, 0, 2, buf);
	assert_int_equal(deliver(f, buf, (size_t)n, 0, 0), HB_ACCEPTED);
	len = sizeof(out);
	assert_int_equal(hha_membership_peer_payload(f->b.m, 1, 1, out, &len), -ENOENT);
}

/* Real sockets on loopback: a few rounds in each direction, then a goodbye. */
static void test_loopback_exchange(void **state)
{
	struct fixture *f = *state;
	struct pollfd pfd[4];
	int fds[4];
	struct hha_membership_counters c;

	for (int round = 0; round < 5; round++) {
		fake_now += 100;
		assert_int_equal(hha_membership_dispatch(f->a.m), 0);
		assert_int_equal(hha_membership_dispatch(f->b.m), 0);
		int n = hha_membership_fds(f->b.m, fds, 4);
		assert_int_equal(n, 2);
		for (int i = 0; i < n; i++)
			pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
		poll(pfd, (nfds_t)n, 100);
		assert_int_equal(hha_membership_dispatch(f->b.m), 0);
		assert_int_equal(hha_membership_dispatch(f->a.m), 0);
	}
	assert_int_equal(state_of(f->b.m, 1, -1), HHA_MEMBER_UP);
	assert_int_equal(state_of(f->a.m, 2, -1), HHA_MEMBER_UP);
	hha_membership_counters(f->b.m, &c);
	assert_true(c.accepted >= 8);
	assert_int_equal(c.bad_mac + c.replay + c.malformed + c.wrong_link, 0);
	assert_int_equal(hha_membership_stop(f->a.m), 0);
	usleep(20000);
	assert_int_equal(hha_membership_dispatch(f->b.m), 0);
	assert_int_equal(state_of(f->b.m, 1, -1), HHA_MEMBER_DEAD);
	assert_string_equal(f->last.reason, "goodbye");
}

static void pump(struct hha_membership *a, struct hha_membership *b)
{
	struct pollfd pfd[4];
	int fds[4], n;

	fake_now += 100;
	assert_int_equal(hha_membership_dispatch(a), 0);
	assert_int_equal(hha_membership_dispatch(b), 0);
	n = hha_membership_fds(b, fds, 4);
	for (int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	poll(pfd, (nfds_t)n, 50);
	n = hha_membership_fds(a, fds, 4);
	for (int i = 0; i < n; i++)
		pfd[i] = (struct pollfd){ .fd = fds[i], .events = POLLIN };
	poll(pfd, (nfds_t)n, 50);
	assert_int_equal(hha_membership_dispatch(b), 0);
	assert_int_equal(hha_membership_dispatch(a), 0);
}

/* A node and a witness over loopback: quiet period, grant, renewal, release. */
static void test_lease_through_heartbeats(void **state)
{
	struct fixture *f = *state;
	struct hha_membership *node, *wit;
	struct node nn, nw;
	struct hha_lease_info li;
	int rounds = 0;

	node = make(f, 1, NULL, 3, false);
	wit = make(f, 3, NULL, 0, true);
	addr_of(node, nn.addr);
	addr_of(wit, nw.addr);
	peer(node, 3, &nw);
	peer(wit, 1, &nn);
	assert_int_equal(hha_membership_start(node), 0);
	assert_int_equal(hha_membership_start(wit), 0);
	assert_int_equal(hha_membership_lease_want(wit, true), -HHA_ESTATE);
	assert_int_equal(hha_membership_lease_want(f->a.m, true), -HHA_ESTATE); /* no witness */
	assert_int_equal(hha_membership_lease_want(node, true), 0);
	pump(node, wit);
	assert_int_equal(hha_membership_lease(node, &li), 0);
	assert_false(li.held); /* the witness is quiet right after its start */
	/* Quiet for lease (4 x deadtime = 2000 ms) plus the margin, then granted. */
	while (!li.held && rounds++ < 40) {
		pump(node, wit);
		hha_membership_lease(node, &li);
	}
	assert_true(li.held);
	assert_true(rounds >= 19);
	assert_int_equal(li.holder, 1);
	assert_true(li.valid_until_ms > fake_now);
	hha_membership_lease(wit, &li);
	assert_int_equal(li.holder, 1);
	/* Renewals keep it while heartbeats flow. */
	for (int i = 0; i < 30; i++)
		pump(node, wit);
	hha_membership_lease(node, &li);
	assert_true(li.held);
	/* The witness falls silent: the lease ends on the node's own clock. */
	fake_now += 2000;
	assert_int_equal(hha_membership_dispatch(node), 0);
	hha_membership_lease(node, &li);
	assert_false(li.held);
	/* Release: the witness frees it when it hears. */
	assert_int_equal(hha_membership_lease_want(node, false), 0);
	for (int i = 0; i < 3; i++)
		pump(node, wit);
	hha_membership_lease(wit, &li);
	assert_int_equal(li.holder, 0);
	hha_membership_free(node);
	hha_membership_free(wit);
}

static void test_options_and_keys(void **state)
{
	struct fixture *f = *state;
	struct hha_membership_opts o = { .size = sizeof(o), .self_id = 1, .keepalive_ms = 200,
					 .deadtime_ms = 400, .warntime_ms = 300 };
	struct hha_membership *m;
	char path[96];
	int fd;

	assert_int_equal(hha_membership_new(f->ctx, &o, &m), -EINVAL);
	o.deadtime_ms = 1000;
	o.warntime_ms = 1000;
	assert_int_equal(hha_membership_new(f->ctx, &o, &m), -EINVAL);
	o.warntime_ms = 600;
	o.self_id = 0;
	assert_int_equal(hha_membership_new(f->ctx, &o, &m), -EINVAL);
	o.self_id = 1;
	assert_int_equal(hha_membership_new(f->ctx, &o, &m), 0);
	assert_int_equal(hha_membership_start(m), -HHA_ESTATE); /* no key, no link */
	snprintf(path, sizeof(path), "%s/key", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789abcdef0123\n", 21), 21);
	close(fd);
	chmod(path, 0644);
	assert_int_equal(hha_membership_load_key(m, 1, path), -EACCES);
	assert_non_null(strstr(hha_last_error(), "chmod 600"));
	chmod(path, 0640);
	assert_int_equal(hha_membership_load_key(m, 1, path), -EACCES);
	chmod(path, 0600);
	assert_int_equal(hha_membership_load_key(m, 1, path), 0);
	assert_int_equal(hha_membership_load_key(m, 2, "/nonexistent/key"), -ENOENT);
	assert_int_equal(hha_membership_add_key(m, 2, "0123456789abcdefXX", 18), 0);
	assert_int_equal(hha_membership_add_key(m, 3, "0123456789abcdefXX", 18), -ENOSPC);
	assert_int_equal(hha_membership_remove_key(m, 1), -EBUSY);
	assert_int_equal(hha_membership_set_send_key(m, 2), 0);
	assert_int_equal(hha_membership_remove_key(m, 1), 0);
	assert_int_equal(hha_membership_remove_key(m, 1), -ENOENT);
	assert_int_equal(hha_membership_add_link(m, "not-an-address"), -EINVAL);
	assert_int_equal(hha_membership_add_link(m, "127.0.0.1:99999"), -EINVAL);
	hha_membership_free(m);
	hha_membership_free(NULL);
}

/* ---- the echo: sequences of datagrams, restarts and replays (table) ---- */

enum step_kind { A2B, B2A, CAPTURE, REPLAY, RESTART_A, RESTART_B, WIPE_A, WAIT };

struct step {
	enum step_kind kind;
	int arg;                    /* WAIT: ms */
	int verdict;                /* expected enum hb_drop of a delivery */
	int state;                  /* B's view of A afterwards, -1 = not checked */
};

struct sequence {
	const char *name;
	struct step steps[12];
};

#define END_STEPS { WAIT, 0, 0, -2 }
#define NOCHECK -1

static const struct sequence sequences[] = {
	{ "first contact after both start: one stale datagram, then both count",
	  { { A2B, 0, HB_DROP_STALE_ECHO, HHA_MEMBER_INIT }, { B2A, 0, HB_ACCEPTED, NOCHECK },
	    { A2B, 0, HB_ACCEPTED, HHA_MEMBER_UP }, END_STEPS } },
	{ "a capture replayed after our restart revives nothing",
	  { { A2B, 0, HB_DROP_STALE_ECHO, NOCHECK }, { B2A, 0, HB_ACCEPTED, NOCHECK },
	    { CAPTURE, 0, 0, NOCHECK }, { A2B, 0, HB_ACCEPTED, HHA_MEMBER_UP },
	    { RESTART_B, 0, 0, HHA_MEMBER_INIT }, { WAIT, 2000, 0, HHA_MEMBER_DEAD },
	    { REPLAY, 0, HB_DROP_STALE_ECHO, HHA_MEMBER_DEAD }, { WAIT, 100, 0, HHA_MEMBER_DEAD },
	    END_STEPS } },
	{ "a genuine peer after our restart counts after one exchange",
	  { { A2B, 0, HB_DROP_STALE_ECHO, NOCHECK }, { B2A, 0, HB_ACCEPTED, NOCHECK },
	    { A2B, 0, HB_ACCEPTED, HHA_MEMBER_UP }, { RESTART_B, 0, 0, HHA_MEMBER_INIT },
	    { A2B, 0, HB_DROP_STALE_ECHO, HHA_MEMBER_INIT }, { B2A, 0, HB_ACCEPTED, NOCHECK },
	    { A2B, 0, HB_ACCEPTED, HHA_MEMBER_UP }, END_STEPS } },
	{ "a restarted peer with its state directory counts at once (it echoes the stored one)",
	  { { A2B, 0, HB_DROP_STALE_ECHO, NOCHECK }, { B2A, 0, HB_ACCEPTED, NOCHECK },
	    { A2B, 0, HB_ACCEPTED, HHA_MEMBER_UP }, { CAPTURE, 0, 0, NOCHECK },
	    { RESTART_A, 0, 0, NOCHECK }, { A2B, 0, HB_ACCEPTED, HHA_MEMBER_UP },
	    { REPLAY, 0, HB_DROP_OLD_INCARNATION, HHA_MEMBER_UP }, END_STEPS } },
	{ "a restarted peer that lost its state is stale once, then counts",
	  { { A2B, 0, HB_DROP_STALE_ECHO, NOCHECK }, { B2A, 0, HB_ACCEPTED, NOCHECK },
	    { A2B, 0, HB_ACCEPTED, HHA_MEMBER_UP }, { WIPE_A, 0, 0, NOCHECK },
	    { RESTART_A, 0, 0, NOCHECK }, { A2B, 0, HB_DROP_STALE_ECHO, HHA_MEMBER_UP },
	    { B2A, 0, HB_ACCEPTED, NOCHECK }, { A2B, 0, HB_ACCEPTED, HHA_MEMBER_UP }, END_STEPS } },
	{ "both restart: one stale datagram (the stored echo is of our old life), then both count",
	  { { A2B, 0, HB_DROP_STALE_ECHO, NOCHECK }, { B2A, 0, HB_ACCEPTED, NOCHECK },
	    { A2B, 0, HB_ACCEPTED, HHA_MEMBER_UP }, { RESTART_A, 0, 0, NOCHECK },
	    { RESTART_B, 0, 0, HHA_MEMBER_INIT }, { A2B, 0, HB_DROP_STALE_ECHO, HHA_MEMBER_INIT },
	    { B2A, 0, HB_ACCEPTED, NOCHECK }, { A2B, 0, HB_ACCEPTED, HHA_MEMBER_UP }, END_STEPS } },
};

struct seqnode {
	struct hha_membership *m;
	char dir[96];
	char addr[2][32];
	uint64_t seq;
};

static void seq_start(struct fixture *f, struct seqnode *self, unsigned id, struct seqnode *other)
{
	struct hha_membership_opts o = {
		.size = sizeof(o), .self_id = id, .cluster_name = "unit", .keepalive_ms = 100,
		.warntime_ms = 300, .deadtime_ms = 500, .initdead_ms = 2000, .state_dir = self->dir,
		.clock = fake_clock,
	};
	const char *addrs[2] = { other->addr[0], other->addr[1] };

	hha_membership_free(self->m);
	assert_int_equal(hha_membership_new(f->ctx, &o, &self->m), 0);
	assert_int_equal(hha_membership_add_key(self->m, 1, KEY, strlen(KEY)), 0);
	for (unsigned l = 0; l < 2; l++)
		assert_int_equal(hha_membership_add_link(self->m, self->addr[l]), (int)l);
	assert_int_equal(hha_membership_add_peer(self->m, 3 - id, "peer", addrs, 2), 0);
	assert_int_equal(hha_membership_start(self->m), 0);
	self->seq = 0;
}

static enum hb_drop seq_send(struct seqnode *from, unsigned to_id, struct seqnode *to,
			     uint8_t *keep, int *keeplen)
{
	uint8_t buf[HB_MAX_PACKET];
	struct sockaddr_in sin = sin_of(from->addr[0]);
	int n = hb_membership_build(from->m, to_id, 0, ++from->seq, 0, buf, sizeof(buf));

	assert_true(n > 0);
	if (keep) {
		memcpy(keep, buf, (size_t)n);
		*keeplen = n;
		return HB_ACCEPTED;
	}
	return hb_membership_input(to->m, 0, (struct sockaddr *)&sin, sizeof(sin), buf, (size_t)n,
				   fake_now);
}

static void test_echo_sequences(void **state)
{
	struct fixture *f = *state;

	for (size_t s = 0; s < HHA_ARRAY_SIZE(sequences); s++) {
		const struct sequence *sq = &sequences[s];
		struct seqnode a = { 0 }, b = { 0 };
		uint8_t cap[HB_MAX_PACKET];
		int caplen = 0;
		char cmd[256];

		print_message("sequence: %s\n", sq->name);
		snprintf(a.dir, sizeof(a.dir), "%s/seq-a", f->dir);
		snprintf(b.dir, sizeof(b.dir), "%s/seq-b", f->dir);
		/* Fixed ports (taken from the fixture's sockets), so a restart binds them again. */
		memcpy(a.addr, f->a.addr, sizeof(a.addr));
		memcpy(b.addr, f->b.addr, sizeof(b.addr));
		hha_membership_free(f->a.m);
		hha_membership_free(f->b.m);
		f->a.m = f->b.m = NULL;
		seq_start(f, &a, 1, &b);
		seq_start(f, &b, 2, &a);
		for (const struct step *st = sq->steps; st->state != -2; st++) {
			int v = -1;
			switch (st->kind) {
			case A2B: v = (int)seq_send(&a, 2, &b, NULL, NULL); break;
			case B2A: v = (int)seq_send(&b, 1, &a, NULL, NULL); break;
			case CAPTURE: seq_send(&a, 2, &b, cap, &caplen); break;
			case REPLAY: {
				struct sockaddr_in sin = sin_of(a.addr[0]);
				v = (int)hb_membership_input(b.m, 0, (struct sockaddr *)&sin, sizeof(sin),
							     cap, (size_t)caplen, fake_now);
				break;
			}
			case RESTART_A: seq_start(f, &a, 1, &b); break;
			case RESTART_B: seq_start(f, &b, 2, &a); break;
			case WIPE_A:
				snprintf(cmd, sizeof(cmd), "rm -f '%s/peers'", a.dir);
				assert_int_equal(system(cmd), 0);
				break;
			case WAIT:
				fake_now += st->arg;
				assert_int_equal(hha_membership_dispatch(b.m), 0);
				break;
			}
			if (st->kind == A2B || st->kind == B2A || st->kind == REPLAY)
				assert_int_equal(v, st->verdict);
			if (st->state >= 0)
				assert_int_equal(state_of(b.m, 1, -1), st->state);
		}
		hha_membership_free(a.m);
		hha_membership_free(b.m);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", a.dir, b.dir);
		assert_int_equal(system(cmd), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_states_and_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_link_keeps_node_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_is_new_incarnation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loopback_exchange, setup, teardown),
		cmocka_unit_test_setup_teardown(test_options_and_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lease_through_heartbeats, setup, teardown),
		cmocka_unit_test_setup_teardown(test_echo_sequences, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
