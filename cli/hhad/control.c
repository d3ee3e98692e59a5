/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The control socket: clients, credentials, request dispatch, replies and event streams. */
#include "config.h"

#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/ctlproto.h"
#include "core/internal.h"
#include "core/util.h"
#include "daemon.h"

#define MAX_CLIENTS 256
#define MAX_QUEUED_FDS 16
#define MAX_REQ_FDS 8
#define MAX_GROUPS 64
/* A subscriber that stops reading is dropped rather than buffered for ever. */
#define MAX_OUTPUT (8u << 20)

struct client;

struct hhad_req {
	struct client *c;
	json_object *id;
	int fds[MAX_REQ_FDS];
	size_t nfds;
	bool answered;   /* replied while its handler still ran */
	bool defer;      /* the handler asked to answer later */
	bool listed;     /* on the client's list of open requests */
	void (*cancel)(struct hhad_req *req, void *ud);
	void *cancel_ud;
	struct hhad_req *next; /* deferred requests of the client */
};

struct client {
	struct hhad_ctlsrv *srv;
	int fd;
	struct hha_io *io;
	struct ucred cred;
	bool admin;
	struct hha_linebuf in;
	char *out;
	size_t out_len, out_off, out_cap;
	bool subscribed;
	json_object *topics; /* array of prefixes, or NULL = everything */
	int fds[MAX_QUEUED_FDS];
	size_t nfds;
	struct hhad_req *deferred;
	bool eof;           /* the client shut down its side: answer, then close */
	bool closing;       /* close once the output is flushed */
	struct client *next;
};

struct hhad_ctlsrv {
	struct hhad *d;
	int fd;
	char *path;
	struct hha_io *io;
	struct client *clients;
	size_t nclients;
};

static void client_free(struct client *c);

static bool cred_is_admin(struct hhad *d, int fd, const struct ucred *cred)
{
	gid_t groups[MAX_GROUPS];
	socklen_t len = sizeof(groups);

	if (cred->uid == 0)
		return true;
	if (!d->have_admin_gid)
		return false;
	if (cred->gid == d->admin_gid)
		return true;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
		return false;
	for (size_t i = 0; i < len / sizeof(gid_t); i++)
		if (groups[i] == d->admin_gid)
			return true;
	return false;
}

static void client_update_events(struct client *c)
{
	uint32_t ev = c->eof ? 0 : EPOLLIN | EPOLLRDHUP;

	/* A closing client is freed from its own callback, which EPOLLOUT triggers
	 * soon; freeing it here could pull it from under a running dispatch. */
	if (c->out_len > c->out_off || c->closing || (c->eof && !c->deferred))
		ev |= EPOLLOUT;
	hha_io_set_events(c->io, ev);
}

static void client_flush(struct client *c)
{
	while (c->out_off < c->out_len) {
		ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
				 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			c->closing = true;
			c->out_off = c->out_len;
			break;
		}
		c->out_off += (size_t)w;
	}
	if (c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	client_update_events(c);
}

/* Queue a line for the client. Returns false if the client is being dropped. */
static bool client_send(struct client *c, const char *line)
{
	size_t n = strlen(line);

	if (c->out_off > 0 && c->out_off == c->out_len)
		c->out_off = c->out_len = 0;
	if (c->out_len - c->out_off + n > MAX_OUTPUT) {
		hha_warn(c->srv->d->ctx, "control",
			 "client pid %d is not reading its replies; disconnecting it", (int)c->cred.pid);
		c->closing = true;
		c->out_off = c->out_len = 0;
		return false;
	}
	if (c->out_len + n > c->out_cap) {
		size_t ncap;
		char *nb;
		if (c->out_off > 0) {
			memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
			c->out_len -= c->out_off;
			c->out_off = 0;
		}
		ncap = HHA_MAX(c->out_cap * 2, c->out_len + n);
		if (c->out_len + n > c->out_cap) {
			nb = realloc(c->out, ncap);
			if (!nb) {
				c->closing = true;
				return false;
			}
			c->out = nb;
			c->out_cap = ncap;
		}
	}
	memcpy(c->out + c->out_len, line, n);
	c->out_len += n;
	client_flush(c);
	return true;
}

static void req_free(struct hhad_req *req)
{
	for (size_t i = 0; i < req->nfds; i++)
		if (req->fds[i] >= 0)
			close(req->fds[i]);
	json_object_put(req->id);
	free(req);
}

/* After an answer: free now if the handler has returned, else let dispatch() free it. */
static void req_done(struct hhad_req *req)
{
	if (req->listed) {
		struct client *c = req->c;
		struct hhad_req **p = &c->deferred;
		while (*p && *p != req)
			p = &(*p)->next;
		if (*p)
			*p = req->next;
		req_free(req);
		client_update_events(c); /* a half-closed client may now be closed */
	} else {
		req->answered = true;
	}
}

static void send_error(struct client *c, json_object *id, int err, const char *msg)
{
	char *line = hha_ctl_encode_err(id, err, msg, PACKAGE_VERSION);

	if (line)
		client_send(c, line);
	free(line);
}

int hhad_req_reply(struct hhad_req *req, json_object *result)
{
	char *line = hha_ctl_encode_ok(req->id, result, PACKAGE_VERSION);

	if (line)
		client_send(req->c, line);
	free(line);
	req_done(req);
	return 0;
}

int hhad_req_fail(struct hhad_req *req, int err, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	send_error(req->c, req->id, err, msg);
	req_done(req);
	return 0;
}

void hhad_req_defer(struct hhad_req *req, void (*cancel)(struct hhad_req *req, void *ud), void *ud)
{
	req->cancel = cancel;
	req->cancel_ud = ud;
	req->defer = true;
}

const struct ucred *hhad_req_cred(const struct hhad_req *req)
{
	return &req->c->cred;
}

bool hhad_req_is_admin(const struct hhad_req *req)
{
	return req->c->admin;
}

struct hhad *hhad_req_daemon(const struct hhad_req *req)
{
	return req->c->srv->d;
}

size_t hhad_req_nfds(const struct hhad_req *req)
{
	return req->nfds;
}

int hhad_req_take_fd(struct hhad_req *req, size_t idx)
{
	int fd;

	if (idx >= req->nfds)
		return -EBADF;
	fd = req->fds[idx];
	req->fds[idx] = -1;
	return fd;
}

static const char *priv_word(enum hhad_priv p)
{
	return p == HHAD_PRIV_ADMIN ? "root or the admin group" : "a local user";
}

static void dispatch(struct client *c, const char *line, size_t len)
{
	struct hhad *d = c->srv->d;
	struct hha_ctl_request rq;
	const struct hhad_verb *verb;
	struct hhad_req *req;
	char err[512];
	void *state = NULL;
	int r;

	r = hha_ctl_request_parse(line, len, &rq, err, sizeof(err));
	if (r < 0) {
		send_error(c, rq.id, r, err);
		hha_ctl_request_free(&rq);
		return;
	}
	verb = hhad_find_verb(d, rq.cmd, &state);
	if (!verb) {
		char cmd[80];
		snprintf(cmd, sizeof(cmd), "%s", rq.cmd);
		snprintf(err, sizeof(err), "unknown command `%s'%s", cmd,
			 strlen(rq.cmd) >= sizeof(cmd) ? "..." : "");
		send_error(c, rq.id, EOPNOTSUPP, err);
		hha_ctl_request_free(&rq);
		return;
	}
	if (verb->priv == HHAD_PRIV_ADMIN && !c->admin) {
		snprintf(err, sizeof(err), "%s: permission denied: only %s may do this (you are uid %u)",
			 verb->name, priv_word(verb->priv), (unsigned)c->cred.uid);
		send_error(c, rq.id, EPERM, err);
		hha_ctl_request_free(&rq);
		return;
	}
	req = calloc(1, sizeof(*req));
	if (!req) {
		send_error(c, rq.id, ENOMEM, "out of memory");
		hha_ctl_request_free(&rq);
		return;
	}
	req->c = c;
	req->id = rq.id ? json_object_get(rq.id) : NULL;
	/* Descriptors that arrived with (or before) this line belong to it. */
	req->nfds = HHA_MIN(c->nfds, (size_t)MAX_REQ_FDS);
	memcpy(req->fds, c->fds, req->nfds * sizeof(int));
	for (size_t i = req->nfds; i < c->nfds; i++)
		close(c->fds[i]);
	c->nfds = 0;

	hha_error_clear();
	r = verb->fn(state, req, rq.args);
	if (req->answered) {
		req_free(req);
	} else if (r < 0) {
		const char *m = hhad_error_text();
		send_error(c, req->id, r, *m ? m : hha_strerror(r));
		req_free(req);
	} else if (req->defer) {
		req->listed = true;
		req->next = c->deferred;
		c->deferred = req;
	} else {
		/* The handler neither answered nor deferred: a bug, but answer anyway. */
		send_error(c, req->id, EIO, "internal error: no reply");
		req_free(req);
	}
	hha_ctl_request_free(&rq);
}

static void take_fds(struct client *c, struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		size_t n;
		int *fds;
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		fds = (int *)CMSG_DATA(cm);
		for (size_t i = 0; i < n; i++) {
			if (c->nfds < MAX_QUEUED_FDS)
				c->fds[c->nfds++] = fds[i];
			else
				close(fds[i]);
		}
	}
}

/* Answer every complete line held; an overlong one gets E2BIG and is dropped. */
static void drain_lines(struct client *c)
{
	char *line;
	size_t len;
	int r;

	while (!c->closing && (r = hha_linebuf_next(&c->in, &line, &len)) != 0) {
		if (r == -E2BIG) {
			char msg[128];
			snprintf(msg, sizeof(msg), "request too long (limit %d bytes)", HHA_CTL_MAX_LINE);
			send_error(c, NULL, E2BIG, msg);
			continue;
		}
		dispatch(c, line, len);
	}
}

static void client_read(struct client *c)
{
	for (int rounds = 0; rounds < 16 && !c->closing; rounds++) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * MAX_QUEUED_FDS)];
			struct cmsghdr align;
		} cbuf;
		struct iovec iov;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf.buf,
				     .msg_controllen = sizeof(cbuf.buf) };
		size_t avail;
		char *sp;
		ssize_t n;

		/* Drain complete lines first so the buffer has room. */
		drain_lines(c);
		sp = hha_linebuf_space(&c->in, &avail);
		if (!sp)
			continue; /* next() will report the overlong line */
		iov.iov_base = sp;
		iov.iov_len = avail;
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				c->closing = true, c->out_off = c->out_len = 0;
			break;
		}
		take_fds(c, &mh);
		if (n == 0) {
			/* Half-closed (`echo REQ | socat`): answer what is complete,
			 * including later answers of waiting commands, then close.
			 * A last line without its newline still counts. */
			if (c->in.len > c->in.start && !c->in.discarding)
				hha_linebuf_feed(&c->in, "\n", 1);
			drain_lines(c);
			c->eof = true;
			client_update_events(c);
			break;
		}
		hha_linebuf_commit(&c->in, (size_t)n);
		drain_lines(c);
	}
}

static void client_cb(struct hha_io *io, int fd, uint32_t events, void *userdata)
{
	struct client *c = userdata;

	if (events & EPOLLIN)
		client_read(c);
	if ((events & (EPOLLERR | EPOLLHUP)) && !(events & EPOLLIN))
		c->closing = true, c->out_off = c->out_len = 0;
	if (events & EPOLLOUT)
		client_flush(c);
	if ((c->closing || (c->eof && !c->deferred)) && c->out_off == c->out_len)
		client_free(c);
}

static void client_free(struct client *c)
{
	struct hhad_ctlsrv *srv = c->srv;
	struct client **p = &srv->clients;

	while (*p && *p != c)
		p = &(*p)->next;
	if (*p)
		*p = c->next;
	srv->nclients--;
	while (c->deferred) {
		struct hhad_req *req = c->deferred;
		c->deferred = req->next;
		if (req->cancel)
			req->cancel(req, req->cancel_ud);
		req_free(req);
	}
	for (size_t i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	hha_io_del(c->io);
	close(c->fd);
	hha_linebuf_free(&c->in);
	json_object_put(c->topics);
	free(c->out);
	free(c);
}

static void accept_cb(struct hha_io *io, int fd, uint32_t events, void *userdata)
{
	struct hhad_ctlsrv *srv = userdata;
	struct hhad *d = srv->d;

	for (;;) {
		socklen_t len = sizeof(struct ucred);
		struct client *c;
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno != EAGAIN && errno != EINTR)
				hha_warn(d->ctx, "control", "accept: %s", hha_strerror(errno));
			return;
		}
		if (srv->nclients >= MAX_CLIENTS) {
			hha_warn(d->ctx, "control", "too many control clients (%d); refusing one",
				 MAX_CLIENTS);
			close(cfd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c || hha_linebuf_init(&c->in, HHA_CTL_MAX_LINE) < 0) {
			free(c);
			close(cfd);
			continue;
		}
		c->srv = srv;
		c->fd = cfd;
		if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len) < 0) {
			hha_linebuf_free(&c->in);
			free(c);
			close(cfd);
			continue;
		}
		c->admin = cred_is_admin(d, cfd, &c->cred);
		if (hha_io_add(d->loop, cfd, EPOLLIN | EPOLLRDHUP, client_cb, c, &c->io) < 0) {
			hha_linebuf_free(&c->in);
			free(c);
			close(cfd);
			continue;
		}
		c->next = srv->clients;
		srv->clients = c;
		srv->nclients++;
	}
}

static bool topic_matches(json_object *topics, const char *topic)
{
	if (!topics)
		return true;
	for (size_t i = 0; i < json_object_array_length(topics); i++) {
		const char *p = json_object_get_string(json_object_array_get_idx(topics, i));
		size_t n = strlen(p);
		if (strncmp(topic, p, n) == 0 && (topic[n] == '\0' || topic[n] == '.' || n == 0))
			return true;
	}
	return false;
}

void hhad_ctlsrv_broadcast(struct hhad_ctlsrv *srv, const char *topic, const char *line)
{
	for (struct client *c = srv->clients; c; c = c->next) {
		if (!c->subscribed || c->closing || !topic_matches(c->topics, topic))
			continue;
		client_send(c, line);
		if (c->closing)
			client_update_events(c);
	}
}

int hhad_ctlsrv_subscribe(struct hhad_req *req, json_object *topics)
{
	struct client *c = req->c;

	if (topics) {
		if (!json_object_is_type(topics, json_type_array))
			return hha_error(-EINVAL, NULL, "\"topics\" must be an array of strings");
		for (size_t i = 0; i < json_object_array_length(topics); i++)
			if (!json_object_is_type(json_object_array_get_idx(topics, i), json_type_string))
				return hha_error(-EINVAL, NULL, "\"topics\" must be an array of strings");
	}
	json_object_put(c->topics);
	c->topics = topics ? json_object_get(topics) : NULL;
	c->subscribed = true;
	return 0;
}

size_t hhad_ctlsrv_clients(const struct hhad_ctlsrv *srv)
{
	return srv->nclients;
}

int hhad_ctlsrv_open(struct hhad *d, const char *path, struct hhad_ctlsrv **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct hhad_ctlsrv *srv;
	char *dir;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return hha_error(-ENAMETOOLONG, NULL, "control socket path too long: %s", path);
	srv = calloc(1, sizeof(*srv));
	if (!srv || !(srv->path = strdup(path)) || !(dir = strdup(path))) {
		if (srv)
			free(srv->path);
		free(srv);
		return hha_error(-ENOMEM, NULL, "out of memory");
	}
	srv->d = d;
	srv->fd = -1;
	r = hha_mkdir_p(dirname(dir), 0755);
	free(dir);
	if (r < 0) {
		hha_error(r, NULL, "cannot create the directory of %s: %s", path, hha_strerror(r));
		goto fail;
	}
	srv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->fd < 0) {
		r = hha_error(-errno, NULL, "socket: %s", hha_strerror(errno));
		goto fail;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* A socket file left by a crashed hhad is stale unless someone answers on it. */
	if (connect(srv->fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		r = hha_error(-EADDRINUSE, NULL, "another hhad already listens on %s", path);
		goto fail;
	}
	close(srv->fd);
	srv->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	unlink(path);
	if (srv->fd < 0 || bind(srv->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = hha_error(-errno, NULL, "cannot bind %s: %s", path, hha_strerror(errno));
		goto fail;
	}
	/* Authorisation is by SO_PEERCRED per verb, so everyone may connect. */
	chmod(path, 0666);
	if (listen(srv->fd, 64) < 0) {
		r = hha_error(-errno, NULL, "listen on %s: %s", path, hha_strerror(errno));
		goto fail;
	}
	r = hha_io_add(d->loop, srv->fd, EPOLLIN, accept_cb, srv, &srv->io);
	if (r < 0) {
		hha_error(r, NULL, "epoll: %s", hha_strerror(r));
		goto fail;
	}
	*out = srv;
	return 0;
fail:
	if (srv->fd >= 0)
		close(srv->fd);
	free(srv->path);
	free(srv);
	return r;
}

void hhad_ctlsrv_close(struct hhad_ctlsrv *srv)
{
	if (!srv)
		return;
	while (srv->clients) {
		struct client *c = srv->clients;
		client_flush(c);
		client_free(c);
	}
	hha_io_del(srv->io);
	close(srv->fd);
	unlink(srv->path);
	free(srv->path);
	free(srv);
}
