/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The node side of a launch: run the command as the user and pump its streams (in a helper process). */
#include "config.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "core/internal.h"
#include "core/util.h"
#include "run/pump.h"
#include "run/session.h"

/* After the client is gone: SIGHUP and SIGTERM first, SIGKILL this much later. */
#define KILL_GRACE_MS 2000
/* A terminal session drains its output this long after the command exited. */
#define PTY_DRAIN_MS 100
#define PIPE_SIZE (1 << 20)

int hha_run_connect(const char *addr, int port, int *out)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd;

	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		len = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		len = sizeof(*s6);
	} else {
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	hha_run_sock_tune(fd);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
		int r = -errno;
		close(fd);
		return r;
	}
	*out = fd;
	return 0;
}

void hha_run_sock_tune(int fd)
{
	int one = 1, idle = 10, intvl = 5, cnt = 3;
	unsigned timeout = 30000;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof(timeout));
}

/* What the command's child reports through its status pipe before exec. */
enum { REC_CWD_FALLBACK = 1, REC_EXEC = 2, REC_SETUP = 3 };

struct session {
	struct hha_ctx *ctx;
	struct hha_run_session_setup *setup;
	struct hha_run_pump *pump;
	pid_t pid;
	int pidfd, ptm;
	bool exited, exit_sent, client_gone, killed;
	int wstatus;
	int64_t kill_at, drain_until, close_by;
};

static void report(struct session *s, const char *fmt, ...) HHA_PRINTF(2, 3);

static void report(struct session *s, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	if (s->setup->report_fd < 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	hha_write_full(s->setup->report_fd, buf, (size_t)n);
}

static void send_fail(struct session *s, int code, int err, enum hha_run_fail why, const char *fmt,
		      ...) HHA_PRINTF(5, 6);

static void send_fail(struct session *s, int code, int err, enum hha_run_fail why, const char *fmt,
		      ...)
{
	uint8_t b[1024];
	json_object *m;
	va_list ap;
	int n;

	hha_put_be32(b, (uint32_t)err);
	b[4] = (uint8_t)why;
	va_start(ap, fmt);
	n = vsnprintf((char *)b + 5, sizeof(b) - 5, fmt, ap);
	va_end(ap);
	n = HHA_MIN(n, (int)sizeof(b) - 6);
	hha_run_pump_ctrl(s->pump, HHA_RUN_F_FAIL, (uint8_t)code, b, 5 + (size_t)n);
	m = json_object_new_string_len((const char *)b + 5, n);
	report(s, "{\"event\":\"failed\",\"code\":%d,\"message\":%s}", code,
	       json_object_to_json_string(m));
	json_object_put(m);
}

static char **build_env(const struct hha_run_request *rq, const struct passwd *pw, const char *cwd)
{
	size_t n = 0, cap = rq->nenv + 10;
	char **env = calloc(cap, sizeof(char *));
	bool have_path = false;

	if (!env)
		return NULL;
	for (size_t i = 0; i < rq->nenv; i++) {
		const char *e = rq->env[i];
		/* Who and where come from this node, not from the request. */
		if (!strncmp(e, "HOME=", 5) || !strncmp(e, "USER=", 5) || !strncmp(e, "LOGNAME=", 8) ||
		    !strncmp(e, "SHELL=", 6) || !strncmp(e, "PWD=", 4) || !strncmp(e, "TERM=", 5))
			continue;
		if (!strncmp(e, "PATH=", 5))
			have_path = true;
		env[n++] = strdup(e);
	}
	if (asprintf(&env[n++], "HOME=%s", pw->pw_dir) < 0 ||
	    asprintf(&env[n++], "USER=%s", pw->pw_name) < 0 ||
	    asprintf(&env[n++], "LOGNAME=%s", pw->pw_name) < 0 ||
	    asprintf(&env[n++], "SHELL=%s", *pw->pw_shell ? pw->pw_shell : "/bin/sh") < 0 ||
	    asprintf(&env[n++], "PWD=%s", cwd) < 0)
		return NULL;
	if (!have_path)
		env[n++] = strdup("PATH=/usr/local/bin:/usr/bin:/bin");
	if (rq->tty && asprintf(&env[n++], "TERM=%s", rq->term) < 0)
		return NULL;
	env[n] = NULL;
	return env;
}

static void child_fail(int fd, int kind, int err)
{
	uint8_t rec[5];

	rec[0] = (uint8_t)kind;
	hha_put_be32(rec + 1, (uint32_t)err);
	if (write(fd, rec, sizeof(rec)) < 0) {
		/* Nobody to tell. */
	}
}

/* In the forked child: become the command. Never returns. */
static void child_exec(const struct hha_run_request *rq, const struct passwd *pw, int stdio[3],
		       const char *pts, int status_fd)
{
	extern char **environ;
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	const char *cwd = rq->cwd ? rq->cwd : pw->pw_dir;
	char **env;
	sigset_t none;

	/* hhad blocks TERM/INT/HUP and ignores PIPE: the command gets a clean slate. */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);
	if (setsid() < 0)
		goto setup_fail;
	if (pts) {
		int t = open(pts, O_RDWR);
		if (t < 0 || ioctl(t, TIOCSCTTY, 0) < 0)
			goto setup_fail;
		stdio[0] = stdio[1] = stdio[2] = t;
	}
	for (int i = 0; i < 3; i++)
		if (dup2(stdio[i], i) < 0)
			goto setup_fail;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		goto setup_fail;
	if (chdir(cwd) < 0) {
		child_fail(status_fd, REC_CWD_FALLBACK, errno);
		if (chdir(pw->pw_dir) < 0 && chdir("/") < 0)
			goto setup_fail;
		cwd = pw->pw_dir;
	}
	env = build_env(rq, pw, cwd);
	if (!env)
		goto setup_fail;
	/* execvp searches the PATH of environ: the command's own. */
	environ = env;
	execvp(rq->argv[0], rq->argv);
	child_fail(status_fd, REC_EXEC, errno);
	_exit(errno == ENOENT ? 127 : 126);
setup_fail:
	child_fail(status_fd, REC_SETUP, errno);
	_exit(125);
}

static int spawn(struct session *s, const struct passwd *pw)
{
	const struct hha_run_request *rq = &s->setup->rq;
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, st[2] = { -1, -1 };
	int stdio[3];
	char pts[128] = "";
	uint8_t rec[5];
	bool failed = false;
	ssize_t n;

	if (pipe2(st, O_CLOEXEC) < 0)
		return -errno;
	if (rq->tty) {
		struct winsize ws = { .ws_row = (unsigned short)rq->rows, .ws_col = (unsigned short)rq->cols };
		s->ptm = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (s->ptm < 0 || grantpt(s->ptm) < 0 || unlockpt(s->ptm) < 0 ||
		    ptsname_r(s->ptm, pts, sizeof(pts)) != 0)
			goto fail;
		if (ws.ws_row && ws.ws_col)
			ioctl(s->ptm, TIOCSWINSZ, &ws);
	} else {
		if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
			goto fail;
		/* Bigger pipes mean bigger frames: fewer system calls per byte. */
		fcntl(out[1], F_SETPIPE_SZ, PIPE_SIZE);
		fcntl(in[1], F_SETPIPE_SZ, PIPE_SIZE);
		stdio[0] = in[0], stdio[1] = out[1], stdio[2] = err[1];
	}
	s->pid = fork();
	if (s->pid < 0)
		goto fail;
	if (s->pid == 0) {
		close(st[0]);
		child_exec(rq, pw, stdio, rq->tty ? pts : NULL, st[1]);
	}
	close(st[1]);
	st[1] = -1;
	/* The child reports only failures; end of file means exec succeeded. */
	while ((n = read(st[0], rec, sizeof(rec))) == (ssize_t)sizeof(rec) || (n < 0 && errno == EINTR)) {
		int e;
		if (n < 0)
			continue;
		e = (int)hha_get_be32(rec + 1);
		if (rec[0] == REC_CWD_FALLBACK) {
			char msg[512];
			int len = snprintf(msg, sizeof(msg), "cannot enter %s on %s (%s); running in %s",
					   rq->cwd, s->setup->node, strerror(e), pw->pw_dir);
			hha_run_pump_ctrl(s->pump, HHA_RUN_F_NOTICE, 0, msg,
					  (size_t)HHA_MIN(len, (int)sizeof(msg) - 1));
		} else if (rec[0] == REC_EXEC) {
			bool nf = e == ENOENT;
			send_fail(s, nf ? 127 : 126, e, nf ? HHA_RUN_FAIL_NOT_FOUND : HHA_RUN_FAIL_NOT_EXEC,
				  "%s: %s on node %s", rq->argv[0], nf ? "command not found" : strerror(e),
				  s->setup->node);
			failed = true;
		} else {
			send_fail(s, 125, e, HHA_RUN_FAIL_SPAWN, "cannot start %s as %s on node %s: %s",
				  rq->argv[0], pw->pw_name, s->setup->node, strerror(e));
			failed = true;
		}
	}
	close(st[0]);
	if (!rq->tty) {
		close(in[0]), close(out[1]), close(err[1]);
		if (failed) {
			close(in[1]), close(out[0]), close(err[0]);
		} else {
			hha_run_pump_add(s->pump, HHA_RUN_STDIN, in[1], 0);
			hha_run_pump_add(s->pump, HHA_RUN_STDOUT, out[0], HHA_RUN_PUMP_SOURCE);
			hha_run_pump_add(s->pump, HHA_RUN_STDERR, err[0], HHA_RUN_PUMP_SOURCE);
		}
	} else if (!failed) {
		/* Two descriptions of the master: the pump closes each stream on its own. */
		hha_run_pump_add(s->pump, HHA_RUN_STDIN, fcntl(s->ptm, F_DUPFD_CLOEXEC, 3), HHA_RUN_PUMP_PTY);
		hha_run_pump_add(s->pump, HHA_RUN_STDOUT, fcntl(s->ptm, F_DUPFD_CLOEXEC, 3),
				 HHA_RUN_PUMP_SOURCE | HHA_RUN_PUMP_PTY);
	}
	return failed ? -ENOEXEC : 0;
fail: {
	int e = errno;
	int fds[] = { in[0], in[1], out[0], out[1], err[0], err[1], st[0], st[1] };
	for (size_t i = 0; i < HHA_ARRAY_SIZE(fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	send_fail(s, 125, e, HHA_RUN_FAIL_SPAWN, "cannot start %s on node %s: %s", rq->argv[0],
		  s->setup->node, strerror(e));
	return -e;
}
}

static bool signal_ok(int sig)
{
	return sig == SIGINT || sig == SIGTERM || sig == SIGHUP || sig == SIGQUIT || sig == SIGWINCH ||
	       sig == SIGUSR1 || sig == SIGUSR2 || sig == SIGCONT || sig == SIGTSTP || sig == SIGKILL;
}

static void ctrl_cb(struct hha_run_pump *p, uint8_t type, uint8_t stream, const uint8_t *d,
		    size_t n, void *ud)
{
	struct session *s = ud;

	if (type == HHA_RUN_F_SIGNAL && signal_ok(stream) && s->pid > 0 && !s->killed) {
		kill(-s->pid, stream);
	} else if (type == HHA_RUN_F_WINSIZE && n == 4 && s->ptm >= 0) {
		struct winsize ws = { .ws_row = hha_get_be16(d), .ws_col = hha_get_be16(d + 2) };
		/* The kernel sends SIGWINCH to the terminal's foreground group. */
		ioctl(s->ptm, TIOCSWINSZ, &ws);
	}
}

static void reap(struct session *s)
{
	siginfo_t si = { 0 };

	if (s->exited || s->pid <= 0)
		return;
	if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
		return;
	s->exited = true;
	s->wstatus = si.si_code == CLD_EXITED ? si.si_status : -si.si_status;
	if (s->ptm >= 0)
		s->drain_until = hha_now_ms() + PTY_DRAIN_MS;
}

static void send_exit(struct session *s)
{
	uint8_t b[4];
	bool sig = s->wstatus < 0;

	hha_put_be32(b, (uint32_t)(sig ? -s->wstatus : s->wstatus));
	hha_run_pump_ctrl(s->pump, HHA_RUN_F_EXIT, sig ? 1 : 0, b, 4);
	s->exit_sent = true;
	report(s, "{\"event\":\"exit\",\"how\":\"%s\",\"value\":%d}", sig ? "signaled" : "exited",
	       sig ? -s->wstatus : s->wstatus);
	/* Leftovers of the command's group are hung up, as a closing terminal would. */
	kill(-s->pid, SIGHUP);
	hha_run_pump_shutdown(s->pump);
	s->close_by = hha_now_ms() + 5000;
}

static void client_gone(struct session *s)
{
	if (s->client_gone)
		return;
	s->client_gone = true;
	if (s->pid > 0 && !s->exit_sent) {
		report(s, "{\"event\":\"client-gone\"}");
		kill(-s->pid, SIGHUP);
		kill(-s->pid, SIGTERM);
		kill(-s->pid, SIGCONT);
		s->kill_at = hha_now_ms() + KILL_GRACE_MS;
	}
}

static int pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Whether the session is over and the helper may exit. */
static bool finished(struct session *s)
{
	if (s->client_gone)
		return s->pid <= 0 || s->killed || (s->exited && kill(-s->pid, 0) < 0);
	return s->exit_sent && (hha_run_pump_flushed(s->pump) || hha_now_ms() >= s->close_by);
}

static void loop(struct session *s)
{
	while (!finished(s)) {
		struct pollfd pfd[6];
		size_t n = hha_run_pump_pollfds(s->pump, pfd, 5);
		int64_t now, dl = -1;
		int r;

		pfd[n].fd = s->exited ? -1 : s->pidfd;
		pfd[n].events = POLLIN;
		pfd[n++].revents = 0;
		if (s->kill_at)
			dl = s->kill_at;
		if (s->drain_until && (dl < 0 || s->drain_until < dl))
			dl = s->drain_until;
		if (s->exit_sent)
			dl = dl < 0 || s->close_by < dl ? s->close_by : dl;
		if (s->client_gone && s->exited)
			dl = hha_now_ms() + 50; /* wait for the group's last members */
		r = poll(pfd, n, hha_run_pump_busy(s->pump) ? 0 : hha_timeout_ms(dl));
		if (r < 0 && errno != EINTR)
			break;
		if (hha_run_pump_dispatch(s->pump, pfd, n - 1) < 0 || hha_run_pump_peer_closed(s->pump))
			if (!s->exit_sent)
				client_gone(s);
		reap(s);
		now = hha_now_ms();
		if (s->kill_at && now >= s->kill_at && !s->killed) {
			kill(-s->pid, SIGKILL);
			s->killed = true;
			reap(s);
		}
		if (s->exited && !s->exit_sent && !s->client_gone) {
			/* The exit status goes after all the output. */
			if (s->ptm >= 0 && now >= s->drain_until)
				hha_run_pump_close(s->pump, HHA_RUN_STDOUT);
			if (!hha_run_pump_open(s->pump, HHA_RUN_STDOUT) &&
			    !hha_run_pump_open(s->pump, HHA_RUN_STDERR))
				send_exit(s);
		}
	}
	if (s->client_gone && s->pid > 0 && !s->killed)
		kill(-s->pid, SIGKILL);
	if (!s->exited && s->pid > 0) {
		waitpid(s->pid, NULL, 0);
	}
}

int hha_run_session_serve(struct hha_ctx *ctx, struct hha_run_session_setup *setup)
{
	struct session s = { .ctx = ctx, .setup = setup, .pidfd = -1, .ptm = -1 };
	struct hha_run_request *rq = &setup->rq;
	struct hha_run_aead *tx = NULL, *rx = NULL;
	struct passwd *pw;
	bool served = false;
	uint8_t b[4];
	int r;

	signal(SIGPIPE, SIG_IGN);
	if (hha_run_aead_new(&setup->s2c, true, &tx) < 0 || hha_run_aead_new(&setup->c2s, false, &rx) < 0 ||
	    hha_run_pump_new(setup->sock, tx, rx, ctrl_cb, &s, &s.pump) < 0) {
		hha_run_aead_free(tx);
		hha_run_aead_free(rx);
		return 1;
	}
	OPENSSL_cleanse(&setup->c2s, sizeof(setup->c2s));
	OPENSSL_cleanse(&setup->s2c, sizeof(setup->s2c));
	errno = 0;
	pw = getpwnam(rq->user);
	if (!pw) {
		send_fail(&s, 125, errno ? errno : ENOENT, HHA_RUN_FAIL_NO_USER,
			  "no user `%s' on node %s", rq->user, setup->node);
	} else if (pw->pw_uid == 0 && !setup->allow_root) {
		send_fail(&s, 125, EPERM, HHA_RUN_FAIL_NOT_ALLOWED,
			  "not allowed: commands may not run as root on node %s (run.allow_root)",
			  setup->node);
	} else if ((r = spawn(&s, pw)) == 0) {
		hha_put_be32(b, (uint32_t)s.pid);
		hha_run_pump_ctrl(s.pump, HHA_RUN_F_STARTED, 0, b, 4);
		report(&s, "{\"event\":\"started\",\"pid\":%d}", (int)s.pid);
		s.pidfd = pidfd_open_(s.pid);
		/* The relay needs no privilege: it runs as the user from here on,
		 * and a relay that cannot drop root does not run at all. */
		if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
			hha_err(ctx, "run", "cannot drop privileges: %s; killing the session",
				strerror(errno));
			kill(-s.pid, SIGKILL);
			waitpid(s.pid, NULL, 0);
			served = true;
		} else {
			loop(&s);
			served = true;
		}
	} else if (s.pid > 0) {
		waitpid(s.pid, NULL, 0);
	}
	if (!served) {
		/* A refusal: let the frame reach the client before closing. */
		hha_run_pump_shutdown(s.pump);
		for (int i = 0; i < 50 && !hha_run_pump_flushed(s.pump); i++) {
			struct pollfd p = { .fd = setup->sock, .events = POLLOUT };
			poll(&p, 1, 100);
			hha_run_pump_dispatch(s.pump, &p, 1);
		}
	}
	if (s.pidfd >= 0)
		close(s.pidfd);
	if (s.ptm >= 0)
		close(s.ptm);
	hha_run_pump_free(s.pump);
	return 0;
}

static json_object *key_json(const struct hha_run_dirkey *k)
{
	char *t = hha_run_b64_encode(k, sizeof(*k));
	json_object *o = json_object_new_string(t ? t : "");

	if (t) {
		OPENSSL_cleanse(t, strlen(t));
		free(t);
	}
	return o;
}

char *hha_run_setup_pack(const struct hha_run_session_setup *s, const uint8_t *body, size_t len,
			 unsigned session_id)
{
	json_object *o = json_object_new_object();
	char *text;

	json_object_object_add(o, "c2s", key_json(&s->c2s));
	json_object_object_add(o, "s2c", key_json(&s->s2c));
	json_object_object_add(o, "allow_root", json_object_new_boolean(s->allow_root));
	json_object_object_add(o, "node", json_object_new_string(s->node));
	json_object_object_add(o, "session", json_object_new_int64(session_id));
	json_object_object_add(o, "request", json_object_new_string_len((const char *)body, (int)len));
	text = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return text;
}

static int key_from(json_object *o, const char *name, struct hha_run_dirkey *k)
{
	json_object *v;
	uint8_t *raw;
	size_t len = 0;

	if (!json_object_object_get_ex(o, name, &v) || !json_object_is_type(v, json_type_string) ||
	    !(raw = hha_run_b64_decode(json_object_get_string(v), &len)))
		return -EINVAL;
	if (len == sizeof(*k))
		memcpy(k, raw, sizeof(*k));
	OPENSSL_cleanse(raw, len);
	free(raw);
	return len == sizeof(*k) ? 0 : -EINVAL;
}

int hha_run_setup_unpack(const char *text, struct hha_run_session_setup *s, char **node,
			 unsigned *session_id)
{
	json_object *o = json_tokener_parse(text), *v;
	char err[256];
	int r = -EINVAL;

	if (!o || key_from(o, "c2s", &s->c2s) < 0 || key_from(o, "s2c", &s->s2c) < 0 ||
	    !json_object_object_get_ex(o, "request", &v) || !json_object_is_type(v, json_type_string))
		goto out;
	r = hha_run_request_decode_body((const uint8_t *)json_object_get_string(v),
					(size_t)json_object_get_string_len(v), &s->rq, err, sizeof(err));
	if (r < 0)
		goto out;
	s->allow_root = json_object_get_boolean(json_object_object_get(o, "allow_root"));
	*node = strdup(json_object_get_string(json_object_object_get(o, "node")));
	*session_id = (unsigned)json_object_get_int64(json_object_object_get(o, "session"));
	s->node = *node;
	r = *node ? 0 : -ENOMEM;
out:
	json_object_put(o);
	return r;
}
