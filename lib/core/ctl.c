/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Client side of the control socket. */
#include "config.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <hybridha/ctl.h>

#include "core/ctlproto.h"
#include "core/internal.h"
#include "core/util.h"

#define CTL_MAX_FDS 8
/* Replies (status of many resources) may be far longer than requests. */
#define CTL_MAX_REPLY (16u << 20)

struct pending_event {
	char *json;
	struct pending_event *next;
};

struct hha_ctl {
	struct hha_ctx *ctx;
	int fd;
	int64_t next_id;
	struct hha_linebuf in;
	struct pending_event *ev_head, *ev_tail;
	char server_version[64];
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

HHA_EXPORT int hha_ctl_open(struct hha_ctx *ctx, const char *path, struct hha_ctl **out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct hha_ctl *ctl;
	int r;

	if (!path)
		path = secure_getenv("HHA_SOCKET");
	if (!path || !*path)
		path = HHA_CTL_DEFAULT_SOCKET;
	if (strlen(path) >= sizeof(sa.sun_path))
		return hha_error(-ENAMETOOLONG, __func__, "socket path too long: %s", path);
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return hha_error(-ENOMEM, __func__, "out of memory");
	ctl->ctx = ctx;
	ctl->next_id = 1;
	snprintf(ctl->path, sizeof(ctl->path), "%s", path);
	if (hha_linebuf_init(&ctl->in, CTL_MAX_REPLY) < 0) {
		free(ctl);
		return hha_error(-ENOMEM, __func__, "out of memory");
	}
	ctl->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ctl->fd < 0) {
		r = -errno;
		goto fail;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(ctl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		r = -errno;
		goto fail;
	}
	*out = ctl;
	return 0;
fail:
	hha_ctl_close(ctl);
	return hha_error(r, __func__, "cannot connect to hhad at %s: %s", path, hha_strerror(r));
}

HHA_EXPORT void hha_ctl_close(struct hha_ctl *ctl)
{
	if (!ctl)
		return;
	while (ctl->ev_head) {
		struct pending_event *e = ctl->ev_head;
		ctl->ev_head = e->next;
		free(e->json);
		free(e);
	}
	if (ctl->fd >= 0)
		close(ctl->fd);
	hha_linebuf_free(&ctl->in);
	free(ctl);
}

HHA_EXPORT int hha_ctl_fd(const struct hha_ctl *ctl)
{
	return ctl->fd;
}

HHA_EXPORT const char *hha_ctl_server_version(const struct hha_ctl *ctl)
{
	return ctl->server_version;
}

static int send_line(struct hha_ctl *ctl, const char *line, const int *fds, size_t nfds)
{
	size_t len = strlen(line), off = 0;

	while (off < len) {
		struct iovec iov = { .iov_base = (char *)line + off, .iov_len = len - off };
		union {
			char buf[CMSG_SPACE(sizeof(int) * CTL_MAX_FDS)];
			struct cmsghdr align;
		} cbuf;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t w;

		if (off == 0 && nfds > 0) {
			struct cmsghdr *cm;
			memset(&cbuf, 0, sizeof(cbuf));
			mh.msg_control = cbuf.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
		}
		w = sendmsg(ctl->fd, &mh, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EPIPE ? -ECONNRESET : -errno;
		}
		off += (size_t)w;
	}
	return 0;
}

/* Read what is available (waiting up to timeout_ms for the first byte). */
static int fill(struct hha_ctl *ctl, int timeout_ms)
{
	struct pollfd pfd = { .fd = ctl->fd, .events = POLLIN };
	size_t avail;
	char *sp;
	ssize_t n;
	int r;

	do {
		r = poll(&pfd, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	sp = hha_linebuf_space(&ctl->in, &avail);
	if (!sp)
		return -EPROTO;
	do {
		n = read(ctl->fd, sp, avail);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return errno == ECONNRESET ? -ECONNRESET : -errno;
	if (n == 0)
		return -ECONNRESET;
	hha_linebuf_commit(&ctl->in, (size_t)n);
	return 0;
}

static int queue_event(struct hha_ctl *ctl, const char *line)
{
	struct pending_event *e = calloc(1, sizeof(*e));

	if (!e || !(e->json = strdup(line))) {
		free(e);
		return -ENOMEM;
	}
	if (ctl->ev_tail)
		ctl->ev_tail->next = e;
	else
		ctl->ev_head = e;
	ctl->ev_tail = e;
	return 0;
}

/*
 * Read messages until the reply to @id (events are queued) or, with id < 0,
 * until one event is queued. Returns 0 with *msg filled for replies.
 */
static int read_until(struct hha_ctl *ctl, int64_t id, int timeout_ms, struct hha_ctl_msg *msg)
{
	int64_t deadline = timeout_ms < 0 ? -1 : hha_now_ms() + timeout_ms;

	for (;;) {
		char *line;
		size_t len;
		int r = hha_linebuf_next(&ctl->in, &line, &len);

		if (r == -E2BIG)
			return hha_error(-EPROTO, NULL, "reply from hhad too long");
		if (r == 1) {
			struct hha_ctl_msg m;
			r = hha_ctl_msg_parse(line, len, &m);
			if (m.server)
				snprintf(ctl->server_version, sizeof(ctl->server_version), "%s", m.server);
			if (r == -HHA_EVERSION) {
				r = hha_error(r, NULL,
					      "control protocol version mismatch: this tool (%s) speaks %d, hhad%s%s speaks %lld; use tools of the same version",
					      PACKAGE_VERSION, HHA_CTL_PROTO_VERSION_CURRENT,
					      m.server ? " " : "", m.server ? m.server : "",
					      (long long)m.version);
				hha_ctl_msg_free(&m);
				return r;
			}
			if (r < 0) {
				hha_ctl_msg_free(&m);
				return hha_error(-EPROTO, NULL, "malformed message from hhad");
			}
			if (m.kind == HHA_CTL_MSG_EVENT) {
				r = queue_event(ctl, line);
				hha_ctl_msg_free(&m);
				if (r < 0)
					return r;
				if (id < 0)
					return 0;
				continue;
			}
			if (m.id == id || m.id < 0) {
				/* id < 0: an error the server could not tie to a request. */
				*msg = m;
				return 0;
			}
			hha_ctl_msg_free(&m); /* a stale reply to an abandoned call */
			continue;
		}
		r = fill(ctl, hha_timeout_ms(deadline));
		if (r < 0)
			return hha_error(r, NULL, "%s", r == -ETIMEDOUT ? "no answer from hhad in time"
							   : r == -ECONNRESET ? "hhad closed the connection"
							   : hha_strerror(r));
	}
}

HHA_EXPORT int hha_ctl_call_fds(struct hha_ctl *ctl, const char *cmd, const char *args_json,
				const int *fds, size_t nfds, int timeout_ms, char **result_json)
{
	json_object *args = NULL;
	struct hha_ctl_msg msg;
	int64_t id = ctl->next_id++;
	char *line;
	int r;

	if (result_json)
		*result_json = NULL;
	if (nfds > CTL_MAX_FDS)
		return hha_error(-EINVAL, __func__, "at most %d descriptors", CTL_MAX_FDS);
	if (args_json) {
		args = json_tokener_parse(args_json);
		if (!args || !json_object_is_type(args, json_type_object)) {
			json_object_put(args);
			return hha_error(-EINVAL, __func__, "arguments are not a JSON object");
		}
	}
	line = hha_ctl_encode_request(id, cmd, args);
	if (!line)
		return hha_error(-ENOMEM, __func__, "out of memory");
	r = send_line(ctl, line, fds, nfds);
	free(line);
	if (r < 0)
		return hha_error(r, __func__, "cannot send to hhad at %s: %s", ctl->path,
				 hha_strerror(r));
	r = read_until(ctl, id, timeout_ms, &msg);
	if (r < 0)
		return hha_error_wrap(r, __func__);
	if (!msg.ok) {
		r = hha_error(-msg.err, NULL, "%s", msg.message ? msg.message : hha_strerror(msg.err));
	} else if (result_json) {
		const char *s = json_object_to_json_string_ext(
			msg.result, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
		*result_json = strdup(msg.result ? s : "{}");
		if (!*result_json)
			r = hha_error(-ENOMEM, __func__, "out of memory");
	}
	hha_ctl_msg_free(&msg);
	return r;
}

HHA_EXPORT int hha_ctl_call(struct hha_ctl *ctl, const char *cmd, const char *args_json,
			    int timeout_ms, char **result_json)
{
	return hha_ctl_call_fds(ctl, cmd, args_json, NULL, 0, timeout_ms, result_json);
}

HHA_EXPORT int hha_ctl_subscribe(struct hha_ctl *ctl, const char *topics_json)
{
	char *args = NULL;
	int r;

	if (topics_json && asprintf(&args, "{\"topics\":%s}", topics_json) < 0)
		return hha_error(-ENOMEM, __func__, "out of memory");
	r = hha_ctl_call(ctl, "subscribe", args, 10000, NULL);
	free(args);
	return r;
}

HHA_EXPORT int hha_ctl_next_event(struct hha_ctl *ctl, int timeout_ms, char **event_json)
{
	struct pending_event *e;
	struct hha_ctl_msg unused = { 0 };
	int r;

	if (!ctl->ev_head) {
		r = read_until(ctl, -1, timeout_ms, &unused);
		hha_ctl_msg_free(&unused); /* an unsolicited error reply, if any */
		if (r < 0)
			return hha_error_wrap(r, __func__);
	}
	if (!ctl->ev_head)
		return hha_error(-ETIMEDOUT, __func__, "no event");
	e = ctl->ev_head;
	ctl->ev_head = e->next;
	if (!ctl->ev_head)
		ctl->ev_tail = NULL;
	*event_json = e->json;
	free(e);
	return 0;
}
