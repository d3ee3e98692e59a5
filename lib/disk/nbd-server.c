/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NBD server: listeners, the accept thread and one driver thread per connection. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"
#include "disk/nbd-conn.h"
#include "disk/nbd-proto.h"
#include "disk/nbd-server.h"

#define MAX_LISTENERS 8
#define MAX_CLIENTS 1024
#define HANDSHAKE_TIMEOUT_MS 30000 /* a client must reach transmission by then */
#define OUTPUT_STALL_MS 60000      /* a client that reads none of its replies that long is dropped */
#define FREE_GRACE_MS 5000         /* free(): then queued replies are dropped */

struct srv_conn {
	struct hha_nbd_server *srv;
	struct hha_nbd_conn *conn;
	int fd;
	int efd; /* wakes the driver thread */
	pthread_t thread;
	struct srv_conn *next;
	char label[96];
};

struct hha_nbd_server {
	struct hha_nbd_shared sh;
	char *name, *description;

	pthread_mutex_t lock;
	pthread_cond_t cond; /* a connection finished */
	int listen_fd[MAX_LISTENERS];
	char *unix_path[MAX_LISTENERS];
	int nlisten;
	int tcp_port;
	int efd; /* wakes the accept thread */
	pthread_t accept_thread;
	bool stopping;
	struct srv_conn *conns;    /* running */
	struct srv_conn *finished; /* to be joined */
	unsigned nconns;
	unsigned next_id;
	struct hha_nbd_conn_counters closed; /* sums of finished connections */
};

static bool is_pow2(uint32_t v)
{
	return v && !(v & (v - 1));
}

static void efd_wake(int efd)
{
	uint64_t one = 1;
	ssize_t r HHA_UNUSED = write(efd, &one, sizeof(one));
}

static void efd_drain(int efd)
{
	uint64_t v;
	ssize_t r HHA_UNUSED = read(efd, &v, sizeof(v));
}

/* ---- transport of one connection ---- */

static ssize_t sc_send(void *ud, const struct iovec *iov, int iovcnt)
{
	struct srv_conn *sc = ud;
	struct msghdr mh = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t n;

	do
		n = sendmsg(sc->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return n;
}

static void sc_wake(void *ud)
{
	efd_wake(((struct srv_conn *)ud)->efd);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Read what the connection wants; false when it must wait (poll). *drained
 * tells whether the socket looked empty: a read that did not fill the room
 * offered usually took everything, and then polling first saves the read
 * that would only say EAGAIN (the common case at queue depth 1).
 */
static bool sc_read(struct srv_conn *sc, bool *drained)
{
	struct iovec iov[2];
	int cnt = hha_nbd_conn_rbufs(sc->conn, iov);
	size_t room = 0;
	ssize_t n;

	if (cnt == 0)
		return false;
	for (int i = 0; i < cnt; i++)
		room += iov[i].iov_len;
	n = readv(sc->fd, iov, cnt);
	if (n > 0) {
		*drained = (size_t)n < room;
		hha_nbd_conn_received(sc->conn, (size_t)n);
		return true;
	}
	if (n == 0) {
		hha_nbd_conn_eof(sc->conn, 0);
		return true;
	}
	if (errno == EINTR)
		return true;
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		*drained = true;
		return false;
	}
	hha_nbd_conn_eof(sc->conn, -errno);
	return true;
}

static void *conn_main(void *arg)
{
	struct srv_conn *sc = arg;
	struct hha_nbd_server *srv = sc->srv;
	struct hha_nbd_conn_counters ctr;
	int64_t hs_deadline = now_ms() + HANDSHAKE_TIMEOUT_MS;
	int64_t out_since = -1;
	bool drained = false;

	for (;;) {
		struct pollfd pfd[2] = { { .fd = sc->fd }, { .fd = sc->efd, .events = POLLIN } };
		unsigned w = hha_nbd_conn_wants(sc->conn);
		int timeout = -1;

		if (w & HHA_NBD_CONN_DONE)
			break;
		if (w & HHA_NBD_CONN_WRITE) {
			hha_nbd_conn_flush(sc->conn);
			w = hha_nbd_conn_wants(sc->conn);
			if (w & HHA_NBD_CONN_DONE)
				break;
		}
		/* Read until the socket is empty, then sleep in poll. */
		if ((w & HHA_NBD_CONN_READ) && !drained && sc_read(sc, &drained))
			continue;
		if (w & HHA_NBD_CONN_READ)
			pfd[0].events |= POLLIN;
		if (w & HHA_NBD_CONN_WRITE) {
			pfd[0].events |= POLLOUT;
			if (out_since < 0)
				out_since = now_ms();
			timeout = OUTPUT_STALL_MS;
		} else {
			out_since = -1;
		}
		if (w & HHA_NBD_CONN_HANDSHAKE) {
			int64_t left = hs_deadline - now_ms();

			timeout = left > 0 ? (int)left : 0;
		}
		if (poll(pfd, 2, timeout) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR))
			drained = false;
		if (pfd[1].revents & POLLIN) {
			efd_drain(sc->efd);
			hha_nbd_conn_received(sc->conn, 0);
		}
		if (pfd[0].revents & POLLOUT)
			out_since = -1;
		if ((w & HHA_NBD_CONN_HANDSHAKE) && now_ms() >= hs_deadline) {
			hha_notice(srv->sh.ctx, "nbd", "%s: handshake not finished within %d s; closing",
				   sc->label, HANDSHAKE_TIMEOUT_MS / 1000);
			hha_nbd_conn_shutdown(sc->conn, true);
		} else if (out_since >= 0 && now_ms() - out_since >= OUTPUT_STALL_MS) {
			hha_notice(srv->sh.ctx, "nbd", "%s: client reads no replies for %d s; closing",
				   sc->label, OUTPUT_STALL_MS / 1000);
			hha_nbd_conn_shutdown(sc->conn, true);
		}
	}
	/* Nothing more goes out (this matters when poll failed: the connection
	 * then drops what it queued); let the backend return every request. */
	shutdown(sc->fd, SHUT_RDWR);
	hha_nbd_conn_shutdown(sc->conn, true);
	(void)hha_nbd_conn_wants(sc->conn);
	hha_nbd_conn_wait_idle(sc->conn);
	hha_nbd_conn_counters(sc->conn, &ctr);

	pthread_mutex_lock(&srv->lock);
	for (struct srv_conn **pp = &srv->conns; *pp; pp = &(*pp)->next) {
		if (*pp == sc) {
			*pp = sc->next;
			break;
		}
	}
	srv->nconns--;
	srv->closed.requests += ctr.requests;
	srv->closed.bytes_read += ctr.bytes_read;
	srv->closed.bytes_written += ctr.bytes_written;
	srv->closed.errors += ctr.errors;
	srv->closed.protocol_errors += ctr.protocol_errors;
	hha_nbd_conn_free(sc->conn);
	sc->conn = NULL;
	close(sc->fd);
	close(sc->efd);
	sc->next = srv->finished;
	srv->finished = sc;
	pthread_cond_broadcast(&srv->cond);
	efd_wake(srv->efd);
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

/* Join finished connection threads (the server lock not held). */
static void reap(struct hha_nbd_server *srv)
{
	struct srv_conn *list;

	pthread_mutex_lock(&srv->lock);
	list = srv->finished;
	srv->finished = NULL;
	pthread_mutex_unlock(&srv->lock);
	while (list) {
		struct srv_conn *sc = list;

		list = sc->next;
		pthread_join(sc->thread, NULL);
		free(sc);
	}
}

static void start_conn(struct hha_nbd_server *srv, int fd, const struct sockaddr_storage *ss)
{
	struct hha_nbd_conn_io io = { .send = sc_send, .wake = sc_wake };
	char label[96], addr[INET6_ADDRSTRLEN] = "unix";
	struct srv_conn *sc;
	unsigned id;
	int port = 0;

	if (ss->ss_family == AF_INET || ss->ss_family == AF_INET6) {
		int one = 1;

		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		if (ss->ss_family == AF_INET) {
			const struct sockaddr_in *sin = (const void *)ss;

			inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
			port = ntohs(sin->sin_port);
		} else {
			const struct sockaddr_in6 *sin6 = (const void *)ss;

			inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
			port = ntohs(sin6->sin6_port);
		}
	}
	pthread_mutex_lock(&srv->lock);
	if (srv->nconns >= MAX_CLIENTS) {
		pthread_mutex_unlock(&srv->lock);
		hha_warn(srv->sh.ctx, "nbd", "%u clients connected already; refusing %s", MAX_CLIENTS,
			 addr);
		close(fd);
		return;
	}
	id = ++srv->next_id;
	pthread_mutex_unlock(&srv->lock);
	if (port)
		snprintf(label, sizeof(label), "client %u (%s port %d)", id, addr, port);
	else
		snprintf(label, sizeof(label), "client %u (%s)", id, addr);

	sc = calloc(1, sizeof(*sc));
	if (!sc)
		goto fail;
	sc->srv = srv;
	sc->fd = fd;
	snprintf(sc->label, sizeof(sc->label), "%s", label);
	sc->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sc->efd < 0)
		goto fail;
	io.ud = sc;
	if (hha_nbd_conn_new(&srv->sh, &io, label, &sc->conn) < 0)
		goto fail;
	pthread_mutex_lock(&srv->lock);
	if (pthread_create(&sc->thread, NULL, conn_main, sc) != 0) {
		pthread_mutex_unlock(&srv->lock);
		goto fail;
	}
	sc->next = srv->conns;
	srv->conns = sc;
	srv->nconns++;
	pthread_mutex_unlock(&srv->lock);
	hha_dbg(srv->sh.ctx, "nbd", "%s: connected", label);
	return;
fail:
	hha_warn(srv->sh.ctx, "nbd", "%s: cannot start a connection: out of resources", label);
	if (sc) {
		hha_nbd_conn_free(sc->conn);
		if (sc->efd >= 0)
			close(sc->efd);
		free(sc);
	}
	close(fd);
}

static void *accept_main(void *arg)
{
	struct hha_nbd_server *srv = arg;

	for (;;) {
		struct pollfd pfd[MAX_LISTENERS + 1];
		int n = 1;

		pfd[0].fd = srv->efd;
		pfd[0].events = POLLIN;
		pthread_mutex_lock(&srv->lock);
		if (srv->stopping) {
			pthread_mutex_unlock(&srv->lock);
			break;
		}
		for (int i = 0; i < srv->nlisten; i++) {
			pfd[n].fd = srv->listen_fd[i];
			pfd[n].events = POLLIN;
			n++;
		}
		pthread_mutex_unlock(&srv->lock);
		if (poll(pfd, (nfds_t)n, -1) < 0)
			continue;
		if (pfd[0].revents & POLLIN)
			efd_drain(srv->efd);
		reap(srv);
		for (int i = 1; i < n; i++) {
			struct sockaddr_storage ss;
			socklen_t sl = sizeof(ss);
			int fd;

			if (!(pfd[i].revents & POLLIN))
				continue;
			fd = accept4(pfd[i].fd, (struct sockaddr *)&ss, &sl,
				     SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0) {
				if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
				    errno == ENOMEM) {
					hha_warn(srv->sh.ctx, "nbd", "accept: %s", strerror(errno));
					usleep(100000); /* instead of spinning on a full table */
				}
				continue;
			}
			start_conn(srv, fd, &ss);
		}
	}
	return NULL;
}

/* ---- public API ---- */

int hha_nbd_server_new(struct hha_ctx *ctx, const struct hha_nbd_export *exp,
		       const struct hha_nbd_backend *backend, struct hha_nbd_server **out)
{
	struct hha_nbd_server *srv;
	struct hha_nbd_export e;
	int err;

	if (!exp || !backend || !backend->submit || !out)
		return hha_error(-EINVAL, __func__, "export, backend and output are required");
	e = *exp;
	if (!e.name)
		e.name = "";
	if (!e.min_block)
		e.min_block = 1;
	if (!e.pref_block)
		e.pref_block = HHA_MAX(4096u, e.min_block);
	if (!e.max_payload)
		e.max_payload = HHA_NBD_COMPAT_MAX_PAYLOAD;
	if (!hha_nbd_string_valid(e.name, strlen(e.name)) ||
	    (e.description && !hha_nbd_string_valid(e.description, strlen(e.description))))
		return hha_error(-EINVAL, __func__, "export name or description longer than %d bytes",
				 HHA_NBD_MAX_STRING);
	if (!is_pow2(e.min_block) || e.min_block > 65536)
		return hha_error(-EINVAL, __func__, "min_block %u: not a power of two in 1..65536",
				 e.min_block);
	if (!is_pow2(e.pref_block) || e.pref_block < HHA_MAX(e.min_block, 512u))
		return hha_error(-EINVAL, __func__,
				 "pref_block %u: not a power of two >= max(min_block, 512)",
				 e.pref_block);
	if (e.max_payload < e.pref_block || e.max_payload % e.min_block ||
	    e.max_payload > HHA_NBD_DISCARD_MAX)
		return hha_error(-EINVAL, __func__,
				 "max_payload %u: must be a multiple of min_block in [pref_block, 64 MiB]",
				 e.max_payload);
	if (e.size % e.min_block)
		return hha_error(-EINVAL, __func__, "size %llu is not a multiple of min_block %u",
				 (unsigned long long)e.size, e.min_block);

	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return hha_error(-ENOMEM, __func__, "out of memory");
	srv->efd = -1;
	srv->name = strdup(e.name);
	srv->description = e.description ? strdup(e.description) : NULL;
	if (!srv->name || (e.description && !srv->description)) {
		err = hha_error(-ENOMEM, __func__, "out of memory");
		goto fail;
	}
	e.name = srv->name;
	e.description = srv->description;
	srv->sh.ctx = ctx;
	srv->sh.exp = e;
	srv->sh.backend = *backend;
	atomic_init(&srv->sh.enabled, true);
	atomic_init(&srv->sh.read_only, e.read_only);
	pthread_mutex_init(&srv->lock, NULL);
	pthread_cond_init(&srv->cond, NULL);
	srv->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (srv->efd < 0) {
		err = hha_error(-errno, __func__, "eventfd: %s", strerror(errno));
		goto fail_sync;
	}
	err = pthread_create(&srv->accept_thread, NULL, accept_main, srv);
	if (err) {
		err = hha_error(-err, __func__, "cannot start the accept thread");
		goto fail_sync;
	}
	*out = srv;
	return 0;
fail_sync:
	if (srv->efd >= 0)
		close(srv->efd);
	pthread_cond_destroy(&srv->cond);
	pthread_mutex_destroy(&srv->lock);
fail:
	free(srv->name);
	free(srv->description);
	free(srv);
	return err;
}

static int add_listener(struct hha_nbd_server *srv, int fd, const char *path)
{
	pthread_mutex_lock(&srv->lock);
	if (srv->nlisten >= MAX_LISTENERS) {
		pthread_mutex_unlock(&srv->lock);
		close(fd);
		return -EMFILE;
	}
	srv->listen_fd[srv->nlisten] = fd;
	srv->unix_path[srv->nlisten] = path ? strdup(path) : NULL;
	srv->nlisten++;
	pthread_mutex_unlock(&srv->lock);
	efd_wake(srv->efd);
	return 0;
}

/* A socket file nobody listens on any more may be replaced; a live one may not. */
static int remove_stale_socket(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, r;

	if (lstat(path, &st) < 0)
		return -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	close(fd);
	if (r == 0)
		return -EADDRINUSE;
	if (errno != ECONNREFUSED)
		return -errno;
	return unlink(path) < 0 ? -errno : 0;
}

int hha_nbd_server_listen_unix(struct hha_nbd_server *srv, const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, err;

	if (!path || strlen(path) >= sizeof(sun.sun_path))
		return hha_error(-ENAMETOOLONG, __func__, "socket path too long or missing");
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return hha_error(-errno, __func__, "socket: %s", strerror(errno));
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		err = -errno;
		if (err == -EADDRINUSE)
			err = remove_stale_socket(path, &sun);
		if (err == 0 && bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
			err = -errno;
		if (err) {
			close(fd);
			return hha_error(err, __func__, "%s: %s", path,
					 err == -EADDRINUSE ? "another server listens there" :
					 err == -EEXIST	    ? "exists and is not a socket" :
								      strerror(-err));
		}
	}
	if (listen(fd, 128) < 0) {
		err = -errno;
		close(fd);
		unlink(path);
		return hha_error(err, __func__, "listen on %s: %s", path, strerror(-err));
	}
	err = add_listener(srv, fd, path);
	if (err) {
		unlink(path);
		return hha_error(err, __func__, "too many listeners");
	}
	hha_info(srv->sh.ctx, "nbd", "export `%s' listening on %s", srv->name, path);
	return 0;
}

int hha_nbd_server_listen_tcp(struct hha_nbd_server *srv, const char *addr, int port)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL, *ai;
	char portstr[16];
	int fd = -1, err, one = 1;

	if (port < 0 || port > 65535)
		return hha_error(-EINVAL, __func__, "invalid port %d", port);
	snprintf(portstr, sizeof(portstr), "%d", port);
	err = getaddrinfo(addr && *addr ? addr : NULL, portstr, &hints, &res);
	if (err)
		return hha_error(-EINVAL, __func__, "address `%s': %s", addr ? addr : "",
				 gai_strerror(err));
	err = -EADDRNOTAVAIL;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
			    ai->ai_protocol);
		if (fd < 0) {
			err = -errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 128) == 0)
			break;
		err = -errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return hha_error(err, __func__, "listen on %s port %d: %s", addr ? addr : "*", port,
				 strerror(-err));
	{
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);

		if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
			port = ntohs(ss.ss_family == AF_INET6 ?
					     ((struct sockaddr_in6 *)&ss)->sin6_port :
					     ((struct sockaddr_in *)&ss)->sin_port);
	}
	err = add_listener(srv, fd, NULL);
	if (err)
		return hha_error(err, __func__, "too many listeners");
	pthread_mutex_lock(&srv->lock);
	srv->tcp_port = port;
	pthread_mutex_unlock(&srv->lock);
	hha_info(srv->sh.ctx, "nbd", "export `%s' listening on %s port %d", srv->name,
		 addr && *addr ? addr : "*", port);
	return 0;
}

int hha_nbd_server_tcp_port(struct hha_nbd_server *srv)
{
	int port;

	pthread_mutex_lock(&srv->lock);
	port = srv->tcp_port;
	pthread_mutex_unlock(&srv->lock);
	return port;
}

static void shutdown_all(struct hha_nbd_server *srv, bool hard)
{
	pthread_mutex_lock(&srv->lock);
	for (struct srv_conn *sc = srv->conns; sc; sc = sc->next)
		hha_nbd_conn_shutdown(sc->conn, hard);
	pthread_mutex_unlock(&srv->lock);
}

void hha_nbd_server_set_enabled(struct hha_nbd_server *srv, bool enabled, bool drop_clients)
{
	atomic_store(&srv->sh.enabled, enabled);
	hha_info(srv->sh.ctx, "nbd", "export `%s' %s%s", srv->name,
		 enabled ? "enabled" : "disabled", !enabled && drop_clients ? ", dropping clients" : "");
	if (!enabled && drop_clients)
		shutdown_all(srv, false);
}

void hha_nbd_server_set_read_only(struct hha_nbd_server *srv, bool read_only)
{
	atomic_store(&srv->sh.read_only, read_only);
}

void hha_nbd_server_set_size(struct hha_nbd_server *srv, uint64_t size)
{
	__atomic_store_n(&srv->sh.exp.size, size, __ATOMIC_RELEASE);
}

void hha_nbd_server_stats(struct hha_nbd_server *srv, struct hha_nbd_stats *out)
{
	struct hha_nbd_conn_counters sum, one;

	pthread_mutex_lock(&srv->lock);
	sum = srv->closed;
	for (struct srv_conn *sc = srv->conns; sc; sc = sc->next) {
		hha_nbd_conn_counters(sc->conn, &one);
		sum.requests += one.requests;
		sum.bytes_read += one.bytes_read;
		sum.bytes_written += one.bytes_written;
		sum.errors += one.errors;
		sum.protocol_errors += one.protocol_errors;
	}
	out->clients = srv->nconns;
	pthread_mutex_unlock(&srv->lock);
	out->requests = sum.requests;
	out->bytes_read = sum.bytes_read;
	out->bytes_written = sum.bytes_written;
	out->errors = sum.errors;
	out->protocol_errors = sum.protocol_errors;
}

void hha_nbd_server_free(struct hha_nbd_server *srv)
{
	struct timespec until;

	if (!srv)
		return;
	pthread_mutex_lock(&srv->lock);
	srv->stopping = true;
	pthread_mutex_unlock(&srv->lock);
	efd_wake(srv->efd);
	pthread_join(srv->accept_thread, NULL);
	for (int i = 0; i < srv->nlisten; i++) {
		close(srv->listen_fd[i]);
		if (srv->unix_path[i])
			unlink(srv->unix_path[i]);
		free(srv->unix_path[i]);
	}

	/* Finish politely, then drop what clients do not read. */
	shutdown_all(srv, false);
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += FREE_GRACE_MS / 1000;
	pthread_mutex_lock(&srv->lock);
	while (srv->conns && pthread_cond_timedwait(&srv->cond, &srv->lock, &until) == 0)
		;
	pthread_mutex_unlock(&srv->lock);
	shutdown_all(srv, true);
	pthread_mutex_lock(&srv->lock);
	while (srv->conns)
		pthread_cond_wait(&srv->cond, &srv->lock);
	pthread_mutex_unlock(&srv->lock);
	reap(srv);

	close(srv->efd);
	pthread_cond_destroy(&srv->cond);
	pthread_mutex_destroy(&srv->lock);
	free(srv->name);
	free(srv->description);
	free(srv);
}
