/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The launching side of hha-runon as a library object: ticket from hhad, connection, session. */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include <hybridha/run.h>

#include "core/internal.h"
#include "core/util.h"
#include "run/proto.h"
#include "run/pump.h"
#include "run/session.h"

/*
 * One state machine: the run's life.
 *
 *   state       event                            next
 *   CONNECTING  socket connected                 HELLO (request written)
 *   CONNECTING  refused, unreachable, timeout    DONE  (failed: node-down)
 *   HELLO       hello "accepted"                 RUNNING (pump made)
 *   HELLO       hello refusal, EOF, timeout      DONE  (failed: auth, ...)
 *   RUNNING     FAIL or EXIT frame               DRAINING
 *   RUNNING     connection lost                  DRAINING (failed: lost)
 *   DRAINING    sinks written, peer closed       DONE
 *   DONE        (the callback has run)           -
 *
 * Failures before CONNECTING (hhad refused the ticket) start in DONE.
 */
enum state { ST_CONNECTING, ST_HELLO, ST_RUNNING, ST_DRAINING, ST_DONE };

#define DEFAULT_TIMEOUT_MS 10000
#define MAX_REG 4

struct hha_run {
	struct hha_ctx *ctx;
	enum state state;
	bool notified;
	int epfd, sock;
	struct hha_run_pump *pump;
	int local[3];        /* our ends of stdin, stdout, stderr until the pump takes them */
	int caller[3];       /* the caller's ends of pipes, or -1 */
	int restore_fd[3];   /* dup'd descriptions made non-blocking: restore at free */
	int restore_fl[3];
	int reg_fd[MAX_REG];
	size_t nreg;
	bool tty;
	int64_t deadline;
	struct hha_ctl *ctl;  /* to tell hhad an "auto" copy ended */
	bool own_ctl;
	int64_t ticket;
	uint8_t *req;
	size_t req_len, req_off;
	uint8_t hello[HHA_RUN_HELLO_LEN];
	size_t hello_len;
	uint8_t secret[HHA_RUN_KEY_LEN];
	uint8_t cnonce[HHA_RUN_NONCE_LEN];
	/* Outcome. */
	enum hha_run_how how;
	int status, signo, err, pid;
	const char *reason;
	char message[1024];
	char node[64];
	unsigned node_id;
	void (*done)(struct hha_run *run, void *userdata);
	void *userdata;
};

static void finish(struct hha_run *run, enum hha_run_how how, int status, const char *reason,
		   int err, const char *fmt, ...) HHA_PRINTF(6, 7);
static void sync_epoll(struct hha_run *run);

static void finish(struct hha_run *run, enum hha_run_how how, int status, const char *reason,
		   int err, const char *fmt, ...)
{
	va_list ap;

	if (run->how != HHA_RUN_RUNNING)
		return; /* the first outcome stands */
	run->how = how;
	run->status = status;
	run->reason = reason;
	run->err = err;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(run->message, sizeof(run->message), fmt, ap);
		va_end(ap);
	}
}

/* Variables that describe this node or this login session, not the command. */
static bool node_specific(const char *entry)
{
	static const char *const drop[] = {
		"HOSTNAME", "SSH_*", "DISPLAY", "WAYLAND_DISPLAY", "XDG_RUNTIME_DIR", "XDG_SESSION_*",
		"DBUS_SESSION_BUS_ADDRESS", "TMUX", "TMUX_PANE", "STY", "WINDOWID", "GPG_AGENT_INFO",
		"KRB5CCNAME", "HHA_SOCKET", "OLDPWD", "PWD", "SHLVL", "_", "HOME", "USER", "LOGNAME",
		"SHELL", "MAIL", "INVOCATION_ID", "JOURNAL_STREAM", "NOTIFY_SOCKET", "LISTEN_*",
		"TERM", /* the remote side sets TERM for a terminal, and "dumb" is no help without one */
	};
	char name[256];
	size_t n = strcspn(entry, "=");

	if (n >= sizeof(name))
		return false;
	memcpy(name, entry, n);
	name[n] = '\0';
	for (size_t i = 0; i < HHA_ARRAY_SIZE(drop); i++)
		if (fnmatch(drop[i], name, 0) == 0)
			return true;
	return false;
}

static bool basic_var(const char *entry)
{
	return strncmp(entry, "LANG=", 5) == 0 || strncmp(entry, "LC_", 3) == 0 ||
	       strncmp(entry, "TZ=", 3) == 0 || strncmp(entry, "LANGUAGE=", 9) == 0;
}

static bool listed(const char *entry, const char *const *names)
{
	size_t n = strcspn(entry, "=");

	for (; names && *names; names++)
		if (strlen(*names) == n && strncmp(entry, *names, n) == 0)
			return true;
	return false;
}

static json_object *env_json(const struct hha_run_opts *o)
{
	extern char **environ;
	json_object *a = json_object_new_array();

	if (o->envp) {
		for (const char *const *e = o->envp; *e; e++)
			json_object_array_add(a, json_object_new_string(*e));
		return a;
	}
	for (char **e = environ; e && *e; e++) {
		bool keep = o->env_mode == HHA_RUN_ENV_ALL ? !node_specific(*e)
			    : basic_var(*e) || (o->env_mode == HHA_RUN_ENV_LIST && listed(*e, o->env_names));
		if (keep && strchr(*e, '=') && **e != '=')
			json_object_array_add(a, json_object_new_string(*e));
	}
	return a;
}

static const char *str_member(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static json_object *ticket_args(const struct hha_run_opts *o)
{
	json_object *args = json_object_new_object(), *argv = json_object_new_array();
	char cwd[4096];

	json_object_object_add(args, "node", json_object_new_string(o->node));
	for (const char *const *a = o->argv; *a; a++)
		json_object_array_add(argv, json_object_new_string(*a));
	json_object_object_add(args, "argv", argv);
	json_object_object_add(args, "env", env_json(o));
	if (o->cwd)
		json_object_object_add(args, "cwd", json_object_new_string(o->cwd));
	else if (getcwd(cwd, sizeof(cwd)))
		json_object_object_add(args, "cwd", json_object_new_string(cwd));
	if (o->tty) {
		json_object *t = json_object_new_object();
		const char *term = o->term ? o->term : getenv("TERM");
		json_object_object_add(t, "term", json_object_new_string(term && *term ? term : "dumb"));
		json_object_object_add(t, "rows", json_object_new_int((int)o->rows));
		json_object_object_add(t, "cols", json_object_new_int((int)o->cols));
		json_object_object_add(args, "tty", t);
	}
	if (o->mem_bytes)
		json_object_object_add(args, "mem", json_object_new_int64((int64_t)o->mem_bytes));
	return args;
}

static const char *ticket_reason(int err)
{
	switch (-err) {
	case ENODEV: return "unknown-node";
	case EHOSTDOWN: return "node-down";
	case EPERM: return "not-allowed";
	case ENOSPC: return "no-node";
	default: return "hhad";
	}
}

/* Ask hhad for the signed request; on success start the connection. */
static int get_ticket(struct hha_run *run, const struct hha_run_opts *o)
{
	json_object *args = ticket_args(o), *res = NULL;
	struct hha_ctl *ctl = o->ctl;
	char *text = NULL, *secret = NULL;
	const char *addr, *req64, *sec64;
	uint8_t *req = NULL;
	size_t len = 0, slen = 0;
	int r, port;

	if (!ctl && (r = hha_ctl_open(run->ctx, o->socket, &ctl)) < 0) {
		finish(run, HHA_RUN_FAILED, 125, "hhad", r, "%s", hha_last_error());
		goto out;
	}
	r = hha_ctl_call(ctl, "run.ticket",
			 json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN), 30000, &text);
	if (r < 0) {
		const char *m = hha_last_error(), *c = strstr(m, ": ");
		/* hhad's sentence is for people; drop our function-name prefix. */
		finish(run, HHA_RUN_FAILED, 125, ticket_reason(r), r, "%s",
		       c && strncmp(m, "hha_", 4) == 0 ? c + 2 : m);
		goto out;
	}
	res = json_tokener_parse(text);
	addr = str_member(res, "address");
	req64 = str_member(res, "request");
	sec64 = str_member(res, "secret");
	port = (int)json_object_get_int(json_object_object_get(res, "port"));
	snprintf(run->node, sizeof(run->node), "%s", str_member(res, "node") ? str_member(res, "node") : "?");
	run->node_id = (unsigned)json_object_get_int(json_object_object_get(res, "node_id"));
	run->ticket = json_object_get_int64(json_object_object_get(res, "ticket"));
	if (!addr || !req64 || !sec64 || !(req = hha_run_b64_decode(req64, &len)) ||
	    len < HHA_RUN_REQ_HDR_LEN || !(secret = (char *)hha_run_b64_decode(sec64, &slen)) ||
	    slen != HHA_RUN_KEY_LEN) {
		r = -EPROTO;
		finish(run, HHA_RUN_FAILED, 125, "hhad", r, "malformed run.ticket reply from hhad");
		goto out;
	}
	memcpy(run->secret, secret, HHA_RUN_KEY_LEN);
	memcpy(run->cnonce, req + 20, HHA_RUN_NONCE_LEN);
	run->req = req;
	run->req_len = len;
	req = NULL;
	r = hha_run_connect(addr, port, &run->sock);
	if (r < 0)
		finish(run, HHA_RUN_FAILED, 125, "node-down", r, "cannot reach node %s at %s port %d: %s",
		       run->node, addr, port, hha_strerror(r));
out:
	/* Kept for run.done, which only "auto" launches need. */
	if (run->ticket > 0) {
		run->ctl = ctl;
		run->own_ctl = ctl != o->ctl;
	} else if (ctl != o->ctl) {
		hha_ctl_close(ctl);
	}
	json_object_put(args);
	json_object_put(res);
	free(text);
	free(req);
	if (secret) {
		memset(secret, 0, slen);
		free(secret);
	}
	return r;
}

/* Our end of a stream: a pipe, /dev/null, or a private description of the caller's fd. */
static int local_end(struct hha_run *run, int idx, int fd, bool we_read)
{
	char path[64];
	struct stat st;
	int p[2], nfd;

	if (fd == HHA_RUN_PIPE) {
		if (pipe2(p, O_CLOEXEC) < 0)
			return -errno;
		run->local[idx] = we_read ? p[0] : p[1];
		run->caller[idx] = we_read ? p[1] : p[0];
		return 0;
	}
	if (fd == HHA_RUN_DEVNULL)
		nfd = open("/dev/null", (we_read ? O_RDONLY : O_WRONLY) | O_CLOEXEC);
	else if (fstat(fd, &st) < 0)
		return -errno;
	else if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		/* Reopening gives a description of our own, so making it non-blocking
		 * cannot surprise the shell that shares the caller's. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		nfd = open(path, (we_read ? O_RDONLY : O_WRONLY) | O_CLOEXEC | O_NOCTTY);
		if (nfd < 0)
			nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		else
			goto done;
		if (nfd >= 0) {
			run->restore_fd[idx] = nfd;
			run->restore_fl[idx] = fcntl(nfd, F_GETFL);
		}
	} else {
		nfd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
		if (nfd >= 0 && S_ISSOCK(st.st_mode)) {
			run->restore_fd[idx] = dup(nfd);
			run->restore_fl[idx] = fcntl(nfd, F_GETFL);
		}
	}
done:
	if (nfd < 0)
		return -errno;
	run->local[idx] = nfd;
	return 0;
}

HHA_EXPORT int hha_run_start(struct hha_ctx *ctx, const struct hha_run_opts *opts,
			     struct hha_run **out)
{
	struct hha_run *run;
	int r;

	if (!opts || opts->size < sizeof(*opts) || !opts->node || !opts->argv || !opts->argv[0])
		return hha_error(-EINVAL, __func__, "a node and a command are needed");
	run = calloc(1, sizeof(*run));
	if (!run)
		return hha_error(-ENOMEM, __func__, "out of memory");
	run->ctx = ctx;
	run->sock = -1;
	run->tty = opts->tty;
	run->done = opts->done;
	run->userdata = opts->userdata;
	for (int i = 0; i < 3; i++)
		run->local[i] = run->caller[i] = run->restore_fd[i] = -1;
	run->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (run->epfd < 0) {
		free(run);
		return hha_error(-errno, __func__, "epoll: %s", hha_strerror(errno));
	}
	r = local_end(run, 0, opts->stdin_fd, true);
	if (r == 0)
		r = local_end(run, 1, opts->stdout_fd, false);
	if (r == 0 && !opts->tty)
		r = local_end(run, 2, opts->stderr_fd, false);
	if (r < 0) {
		hha_run_free(run);
		return hha_error(r, __func__, "cannot set up the streams: %s", hha_strerror(r));
	}
	run->deadline = hha_now_ms() + (opts->timeout_ms > 0 ? opts->timeout_ms : DEFAULT_TIMEOUT_MS);
	if (get_ticket(run, opts) < 0)
		run->state = ST_DONE;
	else
		sync_epoll(run);
	*out = run;
	return 0;
}

static void ctrl_cb(struct hha_run_pump *p, uint8_t type, uint8_t stream, const uint8_t *d,
		    size_t n, void *ud)
{
	struct hha_run *run = ud;

	switch (type) {
	case HHA_RUN_F_STARTED:
		if (n == 4)
			run->pid = (int)hha_get_be32(d);
		break;
	case HHA_RUN_F_FAIL: {
		static const char *const words[] = { "spawn", "not-executable", "not-found",
						     "not-allowed", "no-user" };
		int code = stream >= 125 && stream <= 127 ? stream : 125;
		int err = n >= 5 ? (int)hha_get_be32(d) : EIO;
		unsigned why = n >= 5 && d[4] < HHA_ARRAY_SIZE(words) ? d[4] : 0;
		finish(run, HHA_RUN_FAILED, code, words[why], -err, "%.*s", (int)(n > 5 ? n - 5 : 0),
		       n > 5 ? (const char *)d + 5 : "");
		run->state = ST_DRAINING;
		break;
	}
	case HHA_RUN_F_EXIT:
		if (n != 4)
			break;
		if (stream == 1) {
			run->signo = (int)hha_get_be32(d);
			finish(run, HHA_RUN_SIGNALED, 128 + run->signo, NULL, 0, NULL);
		} else {
			finish(run, HHA_RUN_EXITED, (int)(hha_get_be32(d) & 0xff), NULL, 0, NULL);
		}
		run->state = ST_DRAINING;
		break;
	case HHA_RUN_F_NOTICE:
		snprintf(run->message, sizeof(run->message), "%.*s", (int)n, (const char *)d);
		hha_warn(run->ctx, "run", "%s: %s", run->node, run->message);
		break;
	default:
		break; /* unknown control frames from a newer node are ignored */
	}
}

static void start_session(struct hha_run *run)
{
	struct hha_run_dirkey c2s, s2c;
	struct hha_run_aead *tx = NULL, *rx = NULL;
	enum hha_run_hello_status st;
	uint8_t snonce[HHA_RUN_NONCE_LEN];
	int r = hha_run_hello_decode(run->hello, &st, snonce);

	if (r < 0 || st != HHA_RUN_HELLO_OK) {
		finish(run, HHA_RUN_FAILED, 125, r < 0 ? "lost" : st == HHA_RUN_HELLO_AUTH ? "auth" : "refused",
		       r < 0 ? r : -HHA_EAUTH, "node %s refused the launch: %s", run->node,
		       r < 0 ? "garbled answer" : hha_run_hello_word(st));
		run->state = ST_DONE;
		return;
	}
	if (hha_run_stream_keys(run->secret, run->cnonce, snonce, &c2s, &s2c) < 0 ||
	    hha_run_aead_new(&c2s, true, &tx) < 0 || hha_run_aead_new(&s2c, false, &rx) < 0 ||
	    hha_run_pump_new(run->sock, tx, rx, ctrl_cb, run, &run->pump) < 0) {
		hha_run_aead_free(tx);
		hha_run_aead_free(rx);
		finish(run, HHA_RUN_FAILED, 125, "spawn", -EIO, "cannot set up the session keys");
		run->state = ST_DONE;
		return;
	}
	memset(&c2s, 0, sizeof(c2s));
	memset(&s2c, 0, sizeof(s2c));
	run->sock = -1; /* the pump owns it */
	for (unsigned i = 0; i < 3; i++) {
		if (run->local[i] < 0)
			continue;
		hha_run_pump_add(run->pump, i, run->local[i], i == 0 ? HHA_RUN_PUMP_SOURCE : 0);
		run->local[i] = -1;
	}
	run->state = ST_RUNNING;
}

static void connect_step(struct hha_run *run)
{
	int err = 0;
	socklen_t l = sizeof(err);

	if (run->state == ST_CONNECTING) {
		if (getsockopt(run->sock, SOL_SOCKET, SO_ERROR, &err, &l) < 0)
			err = errno;
		if (err == EINPROGRESS || err == EALREADY)
			return;
		if (err) {
			finish(run, HHA_RUN_FAILED, 125, "node-down", -err, "cannot reach node %s: %s",
			       run->node, strerror(err));
			run->state = ST_DONE;
			return;
		}
		while (run->req_off < run->req_len) {
			ssize_t w = send(run->sock, run->req + run->req_off, run->req_len - run->req_off,
					 MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN)
				return;
			if (w <= 0) {
				finish(run, HHA_RUN_FAILED, 125, "node-down", -errno,
				       "cannot reach node %s: %s", run->node, strerror(errno));
				run->state = ST_DONE;
				return;
			}
			run->req_off += (size_t)w;
		}
		run->state = ST_HELLO;
	}
	while (run->hello_len < HHA_RUN_HELLO_LEN) {
		ssize_t n = recv(run->sock, run->hello + run->hello_len, HHA_RUN_HELLO_LEN - run->hello_len,
				 MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			finish(run, HHA_RUN_FAILED, 125, "auth", -ECONNRESET,
			       "node %s closed the connection without answering", run->node);
			run->state = ST_DONE;
			return;
		}
		run->hello_len += (size_t)n;
	}
	start_session(run);
}

/* Register what the pump waits on in our epoll set (from scratch: the pump
 * may have closed descriptors, and a stale registration would fire for ever). */
static void sync_epoll(struct hha_run *run)
{
	struct pollfd pfd[4];
	size_t n;

	for (size_t i = 0; i < run->nreg; i++)
		epoll_ctl(run->epfd, EPOLL_CTL_DEL, run->reg_fd[i], NULL);
	run->nreg = 0;
	if (run->state == ST_CONNECTING || run->state == ST_HELLO) {
		struct epoll_event ev = { .events = run->state == ST_CONNECTING ? EPOLLOUT : EPOLLIN,
					  .data.fd = run->sock };
		if (epoll_ctl(run->epfd, EPOLL_CTL_ADD, run->sock, &ev) == 0)
			run->reg_fd[run->nreg++] = run->sock;
		return;
	}
	if (!run->pump || run->state == ST_DONE)
		return;
	n = hha_run_pump_pollfds(run->pump, pfd, 4);
	for (size_t i = 0; i < n; i++) {
		struct epoll_event ev = { .events = 0, .data.fd = pfd[i].fd };
		if (pfd[i].fd < 0)
			continue;
		ev.events = (pfd[i].events & POLLIN ? EPOLLIN : 0) | (pfd[i].events & POLLOUT ? EPOLLOUT : 0);
		if (epoll_ctl(run->epfd, EPOLL_CTL_ADD, pfd[i].fd, &ev) == 0)
			run->reg_fd[run->nreg++] = pfd[i].fd;
		else
			run->deadline = 0; /* cannot be waited on (/dev/null): poll it each round */
	}
}

HHA_EXPORT int hha_run_dispatch(struct hha_run *run)
{
	struct epoll_event evs[4];

	/* Drain the epoll set's readiness; the real work polls the fds directly. */
	while (epoll_wait(run->epfd, evs, 4, 0) == 4)
		;
	if (run->state == ST_CONNECTING || run->state == ST_HELLO) {
		connect_step(run);
		if ((run->state == ST_CONNECTING || run->state == ST_HELLO) && run->deadline >= 0 &&
		    hha_now_ms() >= run->deadline) {
			finish(run, HHA_RUN_FAILED, 125, "node-down", -ETIMEDOUT,
			       "node %s did not answer in time", run->node);
			run->state = ST_DONE;
		}
	}
	if (run->state == ST_RUNNING || run->state == ST_DRAINING) {
		struct pollfd pfd[4];
		size_t n = hha_run_pump_pollfds(run->pump, pfd, 4);
		int r;

		run->deadline = -1;
		poll(pfd, n, 0);
		r = hha_run_pump_dispatch(run->pump, pfd, n);
		if (r < 0) {
			finish(run, HHA_RUN_FAILED, 125, "lost", r, "session with node %s broken: %s",
			       run->node, hha_strerror(r));
			run->state = ST_DONE;
		} else if (hha_run_pump_peer_closed(run->pump)) {
			finish(run, HHA_RUN_FAILED, 125, "lost", -ECONNRESET,
			       "connection to node %s lost", run->node);
			if (hha_run_pump_sinks_idle(run->pump))
				run->state = ST_DONE;
			else
				run->state = ST_DRAINING;
		}
		if (run->state == ST_DRAINING && hha_run_pump_sinks_idle(run->pump) &&
		    (hha_run_pump_peer_closed(run->pump) ||
		     (!hha_run_pump_open(run->pump, 1) && !hha_run_pump_open(run->pump, 2))))
			run->state = ST_DONE;
		if (run->state != ST_DONE && hha_run_pump_busy(run->pump))
			run->deadline = 0;
	}
	if (run->state == ST_DONE) {
		for (size_t i = 0; i < run->nreg; i++)
			epoll_ctl(run->epfd, EPOLL_CTL_DEL, run->reg_fd[i], NULL);
		run->nreg = 0;
		/* Close our side now: the node sees the end of the session at once. */
		hha_run_pump_free(run->pump);
		run->pump = NULL;
		if (!run->notified) {
			run->notified = true;
			if (run->ctl) {
				char a[64];
				snprintf(a, sizeof(a), "{\"ticket\":%lld}", (long long)run->ticket);
				hha_ctl_call(run->ctl, "run.done", a, 1000, NULL);
			}
			if (run->done)
				run->done(run, run->userdata);
		}
		return 0;
	}
	sync_epoll(run);
	return 1;
}

HHA_EXPORT void hha_run_free(struct hha_run *run)
{
	if (!run)
		return;
	hha_run_pump_free(run->pump);
	for (int i = 0; i < 3; i++) {
		if (run->restore_fd[i] >= 0) {
			fcntl(run->restore_fd[i], F_SETFL, run->restore_fl[i]);
			if (run->restore_fd[i] != run->local[i])
				close(run->restore_fd[i]);
		}
		if (run->local[i] >= 0)
			close(run->local[i]);
		if (run->caller[i] >= 0)
			close(run->caller[i]);
	}
	if (run->sock >= 0)
		close(run->sock);
	if (run->own_ctl)
		hha_ctl_close(run->ctl);
	close(run->epfd);
	free(run->req);
	memset(run->secret, 0, sizeof(run->secret));
	free(run);
}

HHA_EXPORT int hha_run_fd(const struct hha_run *run)
{
	return run->epfd;
}

HHA_EXPORT int64_t hha_run_deadline(const struct hha_run *run)
{
	if (run->state == ST_DONE)
		return run->notified ? -1 : 0;
	return run->deadline;
}

static bool signal_allowed(int s)
{
	return s == SIGINT || s == SIGTERM || s == SIGHUP || s == SIGQUIT || s == SIGWINCH ||
	       s == SIGUSR1 || s == SIGUSR2 || s == SIGCONT || s == SIGTSTP || s == SIGKILL;
}

HHA_EXPORT int hha_run_signal(struct hha_run *run, int signo)
{
	if (!signal_allowed(signo))
		return hha_error(-EINVAL, __func__, "signal %d is not forwarded", signo);
	if (!run->pump || run->state != ST_RUNNING)
		return hha_error(-ESRCH, __func__, "the command is not running");
	hha_run_pump_ctrl(run->pump, HHA_RUN_F_SIGNAL, (uint8_t)signo, NULL, 0);
	run->deadline = 0; /* flush it at the next dispatch */
	return 0;
}

HHA_EXPORT int hha_run_winsize(struct hha_run *run, unsigned rows, unsigned cols)
{
	uint8_t b[4];

	if (!run->pump || run->state != ST_RUNNING)
		return hha_error(-ESRCH, __func__, "the command is not running");
	hha_put_be16(b, (uint16_t)HHA_MIN(rows, 65535u));
	hha_put_be16(b + 2, (uint16_t)HHA_MIN(cols, 65535u));
	hha_run_pump_ctrl(run->pump, HHA_RUN_F_WINSIZE, 0, b, 4);
	run->deadline = 0;
	return 0;
}

HHA_EXPORT int hha_run_stdin_fd(const struct hha_run *run) { return run->caller[0]; }
HHA_EXPORT int hha_run_stdout_fd(const struct hha_run *run) { return run->caller[1]; }
HHA_EXPORT int hha_run_stderr_fd(const struct hha_run *run) { return run->caller[2]; }
HHA_EXPORT enum hha_run_how hha_run_how(const struct hha_run *run) { return run->how; }
HHA_EXPORT int hha_run_status(const struct hha_run *run) { return run->status; }
HHA_EXPORT int hha_run_signo(const struct hha_run *run) { return run->signo; }
HHA_EXPORT const char *hha_run_reason(const struct hha_run *run) { return run->reason; }
HHA_EXPORT const char *hha_run_message(const struct hha_run *run) { return run->message; }
HHA_EXPORT int hha_run_error(const struct hha_run *run) { return run->err; }
HHA_EXPORT const char *hha_run_node(const struct hha_run *run) { return run->node; }
HHA_EXPORT unsigned hha_run_node_id(const struct hha_run *run) { return run->node_id; }
HHA_EXPORT int hha_run_pid(const struct hha_run *run) { return run->pid; }
