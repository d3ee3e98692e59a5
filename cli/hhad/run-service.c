/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The run service in hhad: TCP listener, request checks, load answers, one helper process per launch. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/ctlproto.h"
#include "core/internal.h"
#include "core/util.h"
#include "run.h"
#include "run/proto.h"
#include "run/session.h"

/* Unauthenticated connections: few, small, and short-lived. */
#define MAX_CONNS 64
#define REQ_TIMEOUT_MS 5000
#define MAX_SESSIONS 1024
#define NONCE_MAX 100000

struct run_conn {
	struct hhad_run *m;
	int fd;
	struct hha_io *io;
	struct hha_timer *timer;
	uint8_t *buf;
	size_t len, need;
	char peer[64];
	struct run_conn *next;
};

struct run_session {
	struct hhad_run *m;
	unsigned id;
	pid_t pid;
	int pidfd, rep;
	struct hha_io *pid_io, *rep_io;
	struct hha_linebuf lb;
	char who[96], what[256], from[64];
	int64_t started_ms;
	struct run_session *next;
};

uint64_t run_realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void run_warn_refused(struct hhad_run *m, const char *fmt, ...)
{
	int64_t now = hha_now_ms();
	char msg[512];
	va_list ap;

	if (now - m->warn_window_ms > 10000) {
		if (m->warn_count > 10)
			hha_warn(m->ctx, "run", "%u more refused connections not logged",
				 m->warn_count - 10);
		m->warn_window_ms = now;
		m->warn_count = 0;
	}
	m->refused++;
	if (m->warn_count++ >= 10)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hha_warn(m->ctx, "run", "%s", msg);
}

static void conn_free(struct run_conn *c)
{
	struct run_conn **p = &c->m->conns;

	while (*p && *p != c)
		p = &(*p)->next;
	if (*p)
		*p = c->next;
	c->m->nconns--;
	hha_io_del(c->io);
	hha_timer_free(c->timer);
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}

static void send_hello(int fd, enum hha_run_hello_status st, const uint8_t *snonce)
{
	uint8_t h[HHA_RUN_HELLO_LEN];

	hha_run_hello_encode(h, st, snonce);
	/* 24 bytes into a fresh socket's empty buffer: never short. */
	if (send(fd, h, sizeof(h), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* The client is gone; nothing to do. */
	}
}

static void session_free(struct run_session *s)
{
	struct run_session **p = &s->m->sessions;

	while (*p && *p != s)
		p = &(*p)->next;
	if (*p)
		*p = s->next;
	s->m->nsessions--;
	hha_io_del(s->pid_io);
	hha_io_del(s->rep_io);
	if (s->pidfd >= 0)
		close(s->pidfd);
	if (s->rep >= 0)
		close(s->rep);
	hha_linebuf_free(&s->lb);
	free(s);
}

/* The helper's JSON lines: the launch log. */
static void report_line(struct run_session *s, const char *line, size_t len)
{
	struct hhad_run *m = s->m;
	json_object *o = json_tokener_parse(line), *data;
	const char *ev = o ? json_object_get_string(json_object_object_get(o, "event")) : NULL;
	char summary[512];

	if (!ev) {
		json_object_put(o);
		return;
	}
	data = json_object_new_object();
	json_object_object_add(data, "session", json_object_new_int64(s->id));
	json_object_object_add(data, "user", json_object_new_string(s->who));
	json_object_object_add(data, "from", json_object_new_string(s->from));
	json_object_object_add(data, "command", json_object_new_string(s->what));
	json_object_object_foreach(o, k, v)
		if (strcmp(k, "event") != 0)
			json_object_object_add(data, k, json_object_get(v));
	if (strcmp(ev, "exit") == 0) {
		const char *how = json_object_get_string(json_object_object_get(o, "how"));
		int val = json_object_get_int(json_object_object_get(o, "value"));
		snprintf(summary, sizeof(summary), "session %u: %s from %s: `%s' %s %d after %.1f s",
			 s->id, s->who, s->from, s->what, how && strcmp(how, "signaled") == 0 ?
			 "killed by signal" : "exited with", val, (hha_now_ms() - s->started_ms) / 1000.0);
	} else if (strcmp(ev, "failed") == 0) {
		snprintf(summary, sizeof(summary), "session %u: %s from %s: `%s' not started: %s",
			 s->id, s->who, s->from, s->what,
			 json_object_get_string(json_object_object_get(o, "message")));
	} else if (strcmp(ev, "started") == 0) {
		snprintf(summary, sizeof(summary), "session %u: %s from %s runs `%s' (pid %d)", s->id,
			 s->who, s->from, s->what, json_object_get_int(json_object_object_get(o, "pid")));
	} else {
		snprintf(summary, sizeof(summary), "session %u: %s from %s: `%s': %s", s->id, s->who,
			 s->from, s->what, strcmp(ev, "client-gone") == 0 ?
			 "client gone, killing the process group" : ev);
	}
	{
		char topic[32];
		snprintf(topic, sizeof(topic), "run.%s", ev);
		hhad_emit(m->d, topic, data, summary);
	}
	json_object_put(o);
}

static void rep_cb(struct hha_io *io, int fd, uint32_t events, void *ud)
{
	struct run_session *s = ud;
	size_t avail, len;
	char *sp, *line;
	ssize_t n;

	sp = hha_linebuf_space(&s->lb, &avail);
	n = sp ? read(fd, sp, avail) : 0;
	if (n > 0)
		hha_linebuf_commit(&s->lb, (size_t)n);
	while (hha_linebuf_next(&s->lb, &line, &len) == 1)
		report_line(s, line, len);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		hha_io_del(s->rep_io);
		s->rep_io = NULL;
	}
}

static void pid_cb(struct hha_io *io, int fd, uint32_t events, void *ud)
{
	struct run_session *s = ud;
	int st;

	if (waitpid(s->pid, &st, WNOHANG) != s->pid)
		return;
	/* Whatever the helper still said comes first. */
	if (s->rep_io)
		rep_cb(s->rep_io, s->rep, EPOLLIN, s);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		hha_warn(s->m->ctx, "run", "session %u: helper pid %d ended abnormally (status 0x%x)",
			 s->id, (int)s->pid, st);
	session_free(s);
}

static void describe(struct run_session *s, const struct hha_run_request *rq)
{
	size_t off = 0;

	snprintf(s->who, sizeof(s->who), "%s", rq->user);
	snprintf(s->from, sizeof(s->from), "%s", rq->src_name ? rq->src_name : "?");
	for (size_t i = 0; i < rq->argc && off + 1 < sizeof(s->what); i++) {
		int n = snprintf(s->what + off, sizeof(s->what) - off, "%s%s", i ? " " : "", rq->argv[i]);
		if (n < 0)
			break;
		off += (size_t)n;
	}
	if (off >= sizeof(s->what) - 1)
		memcpy(s->what + sizeof(s->what) - 4, "...", 4);
}

/* Hand an authenticated launch to a helper process of its own. */
static void launch(struct run_conn *c, const struct hha_run_request *rq, const uint8_t *snonce)
{
	struct hhad_run *m = c->m;
	const struct hha_run_key *k = hha_run_keyring_find(&m->keys, rq->key_id);
	struct hha_run_session_setup su = { .allow_root = m->allow_root, .node = hhad_node_name(m->d) };
	uint8_t secret[HHA_RUN_KEY_LEN];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	struct run_session *s = NULL;
	char *argv[] = { "hhad", "--run-session", NULL }, *setup = NULL;
	extern char **environ;
	int sp[2] = { -1, -1 }, r;
	sigset_t none, dfl;
	uint8_t lenb[4];

	if (hha_run_session_secret(k, rq->nonce, c->buf, c->len, secret) < 0 ||
	    hha_run_stream_keys(secret, rq->nonce, snonce, &su.c2s, &su.s2c) < 0)
		goto fail;
	setup = hha_run_setup_pack(&su, c->buf + HHA_RUN_REQ_HDR_LEN,
				   c->len - HHA_RUN_REQ_HDR_LEN - HHA_RUN_MAC_LEN, m->next_session + 1);
	OPENSSL_cleanse(&su, sizeof(su));
	OPENSSL_cleanse(secret, sizeof(secret));
	s = calloc(1, sizeof(*s));
	if (!setup || !s || hha_linebuf_init(&s->lb, 4096) < 0 ||
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		goto fail;
	s->m = m;
	s->pidfd = s->rep = -1;
	s->id = ++m->next_session;
	s->started_ms = hha_now_ms();
	describe(s, rq);
	/* A fresh process, not a fork of hhad: no locks of other threads, no
	 * inherited state, and hhad's blocked signals are not passed on. */
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, c->fd, 3);
	posix_spawn_file_actions_adddup2(&fa, sp[1], 4);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&dfl);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	r = posix_spawn(&s->pid, "/proc/self/exe", &fa, &attr, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(sp[1]);
	sp[1] = -1;
	if (r != 0) {
		errno = r;
		goto fail;
	}
	s->rep = sp[0];
	hha_put_be32(lenb, (uint32_t)strlen(setup));
	if (hha_write_full(s->rep, lenb, 4) < 0 || hha_write_full(s->rep, setup, strlen(setup)) < 0)
		hha_warn(m->ctx, "run", "session %u: cannot brief the helper", s->id);
	OPENSSL_cleanse(setup, strlen(setup));
	free(setup);
	hha_set_nonblock(s->rep, true);
	s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
	hha_io_add(m->loop, s->pidfd, EPOLLIN, pid_cb, s, &s->pid_io);
	hha_io_add(m->loop, s->rep, EPOLLIN, rep_cb, s, &s->rep_io);
	s->next = m->sessions;
	m->sessions = s;
	m->nsessions++;
	m->launches++;
	return;
fail:
	hha_err(m->ctx, "run", "cannot start a session helper: %s", strerror(errno));
	if (sp[0] >= 0)
		close(sp[0]);
	if (sp[1] >= 0)
		close(sp[1]);
	if (s)
		hha_linebuf_free(&s->lb);
	free(s);
	if (setup) {
		OPENSSL_cleanse(setup, strlen(setup));
		free(setup);
	}
}

/* Answer a load request: the hello and one sealed frame with our vector. */
static void answer_load(struct run_conn *c, const struct hha_run_request *rq, const uint8_t *snonce)
{
	struct hhad_run *m = c->m;
	const struct hha_run_key *k = hha_run_keyring_find(&m->keys, rq->key_id);
	uint8_t secret[HHA_RUN_KEY_LEN], frame[HHA_RUN_FRAME_OVERHEAD + HHA_LOAD_ENCODED_LEN];
	struct hha_run_dirkey c2s, s2c;
	struct hha_run_aead *tx = NULL;
	struct hha_load l = m->self_load;

	l.runon_procs = (unsigned)m->nsessions;
	if (hha_run_session_secret(k, rq->nonce, c->buf, c->len, secret) < 0 ||
	    hha_run_stream_keys(secret, rq->nonce, snonce, &c2s, &s2c) < 0 ||
	    hha_run_aead_new(&s2c, true, &tx) < 0)
		goto out;
	frame[4] = HHA_RUN_F_LOAD;
	frame[5] = 0;
	hha_load_encode(&l, frame + HHA_RUN_FRAME_HDR, HHA_LOAD_ENCODED_LEN);
	if (hha_run_frame_seal(tx, frame, HHA_LOAD_ENCODED_LEN) == 0 &&
	    send(c->fd, frame, sizeof(frame), MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
		/* The asker left. */
	}
out:
	hha_run_aead_free(tx);
	OPENSSL_cleanse(secret, sizeof(secret));
	OPENSSL_cleanse(&c2s, sizeof(c2s));
	OPENSSL_cleanse(&s2c, sizeof(s2c));
}

static enum hha_run_hello_status refusal(int r)
{
	switch (r) {
	case -HHA_EVERSION: return HHA_RUN_HELLO_VERSION;
	case -HHA_EAUTH: return HHA_RUN_HELLO_AUTH;
	case -ETIME: return HHA_RUN_HELLO_SKEW;
	case -EXDEV: return HHA_RUN_HELLO_WRONG_NODE;
	default: return HHA_RUN_HELLO_MALFORMED;
	}
}

static void conn_request(struct run_conn *c)
{
	struct hhad_run *m = c->m;
	struct hha_run_request rq;
	uint8_t snonce[HHA_RUN_NONCE_LEN];
	uint64_t now = run_realtime_ms();
	char err[256];
	int r;

	r = hha_run_request_verify(c->buf, c->len, &m->keys, m->self_id, now, m->max_skew_ms, &rq,
				   err, sizeof(err));
	if (r < 0) {
		run_warn_refused(m, "refused a request from %s: %s", c->peer, err);
		send_hello(c->fd, refusal(r), NULL);
		return;
	}
	r = hha_run_nonces_check(m->nonces, rq.nonce, rq.time_ms, now);
	if (r < 0) {
		run_warn_refused(m, "refused a request from %s: %s", c->peer,
				 r == -EALREADY ? "replayed (nonce already seen, or older than this hhad)"
						: "replay cache full");
		send_hello(c->fd, r == -EALREADY ? HHA_RUN_HELLO_REPLAY : HHA_RUN_HELLO_BUSY, NULL);
		hha_run_request_clear(&rq);
		return;
	}
	if (rq.kind == HHA_RUN_KIND_LAUNCH && m->nsessions >= MAX_SESSIONS) {
		run_warn_refused(m, "refused a launch from %s: %zu sessions already", c->peer,
				 m->nsessions);
		send_hello(c->fd, HHA_RUN_HELLO_BUSY, NULL);
		hha_run_request_clear(&rq);
		return;
	}
	if (hha_run_random(snonce, sizeof(snonce)) < 0) {
		send_hello(c->fd, HHA_RUN_HELLO_BUSY, NULL);
		hha_run_request_clear(&rq);
		return;
	}
	send_hello(c->fd, HHA_RUN_HELLO_OK, snonce);
	if (rq.kind == HHA_RUN_KIND_LOAD)
		answer_load(c, &rq, snonce);
	else
		launch(c, &rq, snonce);
	hha_run_request_clear(&rq);
}

static void conn_cb(struct hha_io *io, int fd, uint32_t events, void *ud)
{
	struct run_conn *c = ud;
	ssize_t n;

	for (;;) {
		size_t want = c->need ? c->need : HHA_RUN_REQ_HDR_LEN;
		n = read(fd, c->buf + c->len, want - c->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_free(c);
			return;
		}
		c->len += (size_t)n;
		if (c->len < want)
			continue;
		if (!c->need) {
			long total = hha_run_request_total(c->buf, c->len);
			if (total < 0) {
				run_warn_refused(c->m, "refused a connection from %s: %s", c->peer,
						 total == -HHA_EVERSION ? "another protocol version"
									: "not a run request");
				send_hello(fd, total == -HHA_EVERSION ? HHA_RUN_HELLO_VERSION
								      : HHA_RUN_HELLO_MALFORMED, NULL);
				conn_free(c);
				return;
			}
			c->need = (size_t)total;
			continue;
		}
		conn_request(c);
		conn_free(c);
		return;
	}
}

static void conn_timeout(struct hha_timer *t, void *ud)
{
	struct run_conn *c = ud;

	run_warn_refused(c->m, "dropped a connection from %s: no complete request in %d ms", c->peer,
			 REQ_TIMEOUT_MS);
	conn_free(c);
}

static void accept_cb(struct hha_io *io, int fd, uint32_t events, void *ud)
{
	struct hhad_run *m = ud;

	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct run_conn *c;
		int cfd = accept4(fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0)
			return;
		if (m->nconns >= MAX_CONNS) {
			run_warn_refused(m, "too many connections being authenticated; dropping one");
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c || !(c->buf = malloc(HHA_RUN_REQ_MAX))) {
			free(c);
			close(cfd);
			continue;
		}
		c->m = m;
		c->fd = cfd;
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, c->peer, sizeof(c->peer));
		else
			inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, c->peer, sizeof(c->peer));
		hha_run_sock_tune(cfd);
		if (hha_io_add(m->loop, cfd, EPOLLIN, conn_cb, c, &c->io) < 0 ||
		    hha_timer_new(m->loop, conn_timeout, c, &c->timer) < 0) {
			hha_io_del(c->io);
			free(c->buf);
			free(c);
			close(cfd);
			continue;
		}
		hha_timer_arm_in(c->timer, REQ_TIMEOUT_MS);
		c->next = m->conns;
		m->conns = c;
		m->nconns++;
	}
}

static int listen_on(struct hhad_run *m, const char *addr)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd, one = 1, r;

	for (size_t i = 0; i < m->nlis; i++)
		if (strcmp(m->lis[i].addr, addr) == 0)
			return 0;
	if (m->nlis >= RUN_MAX_LISTEN)
		return 0;
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)m->port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)m->port);
		len = sizeof(*s6);
	} else {
		return hha_error(-EINVAL, NULL, "run: not an address: %s", addr);
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return hha_error(-errno, NULL, "run: socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The address may come up after hhad (a late interface): bind anyway. */
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 128) < 0) {
		r = hha_error(-errno, NULL, "run: cannot listen on %s port %d: %s", addr, m->port,
			      strerror(errno));
		close(fd);
		return r;
	}
	r = hha_io_add(m->loop, fd, EPOLLIN, accept_cb, m, &m->lis[m->nlis].io);
	if (r < 0) {
		close(fd);
		return hha_error(r, NULL, "run: epoll: %s", hha_strerror(r));
	}
	m->lis[m->nlis].fd = fd;
	snprintf(m->lis[m->nlis].addr, sizeof(m->lis[0].addr), "%s", addr);
	m->nlis++;
	return 0;
}

int run_service_start(struct hhad_run *m)
{
	json_object *node = hhad_node_conf(m->d);
	json_object *hb = hha_json_get(node, "heartbeat");
	int r;

	if (!m->nonces &&
	    hha_run_nonces_new(run_realtime_ms(), 2 * m->max_skew_ms, NONCE_MAX, &m->nonces) < 0)
		return hha_error(-ENOMEM, NULL, "out of memory");
	if (!node)
		return listen_on(m, "127.0.0.1"); /* a lone node runs commands on itself */
	/* Only the cluster's own addresses: never a wildcard. */
	r = listen_on(m, hha_json_str(node, "address"));
	for (size_t i = 0; r == 0 && hb && i < json_object_array_length(hb); i++)
		r = listen_on(m, json_object_get_string(json_object_array_get_idx(hb, i)));
	return r;
}

void run_service_stop(struct hhad_run *m)
{
	for (size_t i = 0; i < m->nlis; i++) {
		hha_io_del(m->lis[i].io);
		close(m->lis[i].fd);
	}
	m->nlis = 0;
	while (m->conns)
		conn_free(m->conns);
	/* Sessions live on in their helpers; hhad only stops listening to them. */
	while (m->sessions)
		session_free(m->sessions);
	hha_run_nonces_free(m->nonces);
	m->nonces = NULL;
}

json_object *run_sessions_json(struct hhad_run *m)
{
	json_object *a = json_object_new_array();

	for (struct run_session *s = m->sessions; s; s = s->next) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "session", json_object_new_int64(s->id));
		json_object_object_add(o, "user", json_object_new_string(s->who));
		json_object_object_add(o, "from", json_object_new_string(s->from));
		json_object_object_add(o, "command", json_object_new_string(s->what));
		json_object_object_add(o, "helper_pid", json_object_new_int64(s->pid));
		json_object_object_add(o, "age_ms", json_object_new_int64(hha_now_ms() - s->started_ms));
		json_object_array_add(a, o);
	}
	return a;
}

void run_service_status(struct hhad_run *m, json_object *out)
{
	json_object *lis = json_object_new_array();

	for (size_t i = 0; i < m->nlis; i++)
		json_object_array_add(lis, json_object_new_string(m->lis[i].addr));
	json_object_object_add(out, "listen", lis);
	json_object_object_add(out, "port", json_object_new_int(m->port));
	json_object_object_add(out, "keys", json_object_new_boolean(m->have_keys));
	json_object_object_add(out, "sessions", json_object_new_int64((int64_t)m->nsessions));
	json_object_object_add(out, "launches", json_object_new_int64((int64_t)m->launches));
	json_object_object_add(out, "refused", json_object_new_int64((int64_t)m->refused));
}
