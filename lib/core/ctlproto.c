/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control protocol codec: line framing and the JSON envelopes. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctlproto.h"
#include "core/internal.h"
#include "core/schema.h"

#include <hybridha/ctl.h>

int hha_linebuf_init(struct hha_linebuf *lb, size_t max)
{
	memset(lb, 0, sizeof(*lb));
	lb->cap = HHA_MIN(max, 4096);
	lb->max = max;
	lb->buf = malloc(lb->cap + 1);
	return lb->buf ? 0 : -ENOMEM;
}

void hha_linebuf_free(struct hha_linebuf *lb)
{
	free(lb->buf);
	lb->buf = NULL;
}

char *hha_linebuf_space(struct hha_linebuf *lb, size_t *avail)
{
	if (lb->start > 0 && (lb->len == lb->cap || lb->start == lb->len)) {
		memmove(lb->buf, lb->buf + lb->start, lb->len - lb->start);
		lb->len -= lb->start;
		lb->start = 0;
	}
	if (lb->len == lb->cap) {
		/* Grow up to max; a full buffer at max holds a partial overlong line,
		 * which hha_linebuf_next() turns into an error and drops. */
		size_t ncap = HHA_MIN(lb->cap * 2, lb->max);
		char *nb;
		if (ncap > lb->cap && (nb = realloc(lb->buf, ncap + 1))) {
			lb->buf = nb;
			lb->cap = ncap;
		}
	}
	if (lb->len == lb->cap) {
		/* Still full: the caller must call next() to drop the overlong line. */
		*avail = 0;
		return NULL;
	}
	*avail = lb->cap - lb->len;
	return lb->buf + lb->len;
}

void hha_linebuf_commit(struct hha_linebuf *lb, size_t n)
{
	lb->len += n;
}

int hha_linebuf_next(struct hha_linebuf *lb, char **line, size_t *len)
{
	for (;;) {
		char *p = lb->buf + lb->start;
		size_t held = lb->len - lb->start;
		char *nl = memchr(p, '\n', held);

		if (lb->discarding) {
			if (!nl) {
				lb->start = lb->len = 0;
				return 0;
			}
			lb->start += (size_t)(nl - p) + 1;
			lb->discarding = false;
			continue;
		}
		if (!nl) {
			if (held >= lb->max) {
				/* No newline within max bytes: too long. */
				lb->start = lb->len = 0;
				lb->discarding = true;
				return -E2BIG;
			}
			return 0;
		}
		if ((size_t)(nl - p) + 1 > lb->max) {
			lb->start += (size_t)(nl - p) + 1;
			return -E2BIG;
		}
		*nl = '\0';
		*line = p;
		*len = (size_t)(nl - p);
		lb->start += *len + 1;
		return 1;
	}
}

int hha_linebuf_feed(struct hha_linebuf *lb, const void *data, size_t n)
{
	const char *d = data;

	while (n > 0) {
		size_t avail;
		char *sp = hha_linebuf_space(lb, &avail);
		if (!sp)
			return -ENOBUFS;
		avail = HHA_MIN(avail, n);
		memcpy(sp, d, avail);
		hha_linebuf_commit(lb, avail);
		d += avail;
		n -= avail;
	}
	return 0;
}

static json_object *parse_line(const char *line, size_t len)
{
	struct json_tokener *tok;
	json_object *o;

	if (len > INT32_MAX)
		return NULL;
	tok = json_tokener_new_ex(32);
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	o = json_tokener_parse_ex(tok, line, (int)len);
	if (o && json_tokener_get_parse_end(tok) != len) {
		/* Trailing bytes after the object: reject rather than guess. */
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

int hha_ctl_request_parse(const char *line, size_t len, struct hha_ctl_request *req, char *err,
			  size_t errlen)
{
	json_object *v;

	memset(req, 0, sizeof(*req));
	req->root = parse_line(line, len);
	if (!req->root || !json_object_is_type(req->root, json_type_object)) {
		snprintf(err, errlen, "request is not a JSON object");
		return -EINVAL;
	}
	req->id = hha_json_get(req->root, "id");
	v = hha_json_get(req->root, "v");
	if (!v) {
		snprintf(err, errlen, "request has no protocol version \"v\" (this hhad speaks %d)",
			 HHA_CTL_PROTO_VERSION_CURRENT);
		return -EINVAL;
	}
	if (!json_object_is_type(v, json_type_int)) {
		snprintf(err, errlen, "\"v\" must be an integer (this hhad speaks %d)",
			 HHA_CTL_PROTO_VERSION_CURRENT);
		return -EINVAL;
	}
	req->version = json_object_get_int64(v);
	if (req->version != HHA_CTL_PROTO_VERSION_CURRENT) {
		snprintf(err, errlen,
			 "control protocol version mismatch: the client speaks %lld, this hhad (%s) speaks %d; use tools of the same version",
			 (long long)req->version, PACKAGE_VERSION, HHA_CTL_PROTO_VERSION_CURRENT);
		return -HHA_EVERSION;
	}
	req->cmd = hha_json_str(req->root, "cmd");
	if (!req->cmd || !*req->cmd) {
		snprintf(err, errlen, "request has no \"cmd\" string");
		return -EINVAL;
	}
	req->args = hha_json_get(req->root, "args");
	if (req->args && !json_object_is_type(req->args, json_type_object)) {
		snprintf(err, errlen, "\"args\" must be an object");
		return -EINVAL;
	}
	if (!req->args) {
		req->args = json_object_new_object();
		json_object_object_add(req->root, "args", req->args);
	}
	return 0;
}

void hha_ctl_request_free(struct hha_ctl_request *req)
{
	json_object_put(req->root);
	memset(req, 0, sizeof(*req));
}

static char *finish(json_object *o)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE);
	char *line = NULL;

	if (s && asprintf(&line, "%s\n", s) < 0)
		line = NULL;
	json_object_put(o);
	return line;
}

char *hha_ctl_encode_request(int64_t id, const char *cmd, json_object *args)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "v", json_object_new_int(HHA_CTL_PROTO_VERSION_CURRENT));
	json_object_object_add(o, "id", json_object_new_int64(id));
	json_object_object_add(o, "cmd", json_object_new_string(cmd));
	json_object_object_add(o, "args", args ? args : json_object_new_object());
	return finish(o);
}

static json_object *reply_head(json_object *id, bool ok, const char *server_version)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "v", json_object_new_int(HHA_CTL_PROTO_VERSION_CURRENT));
	json_object_object_add(o, "id", id ? json_object_get(id) : NULL);
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	if (server_version)
		json_object_object_add(o, "server", json_object_new_string(server_version));
	return o;
}

char *hha_ctl_encode_ok(json_object *id, json_object *result, const char *server_version)
{
	json_object *o = reply_head(id, true, server_version);

	json_object_object_add(o, "result", result ? result : json_object_new_object());
	return finish(o);
}

char *hha_ctl_encode_err(json_object *id, int err, const char *message,
			 const char *server_version)
{
	json_object *o = reply_head(id, false, server_version), *e = json_object_new_object();

	if (err < 0)
		err = -err;
	json_object_object_add(e, "errno", json_object_new_int(err));
	json_object_object_add(e, "name", json_object_new_string(hha_error_name(err)));
	json_object_object_add(e, "message", json_object_new_string(message ? message : hha_strerror(err)));
	json_object_object_add(o, "error", e);
	return finish(o);
}

char *hha_ctl_encode_event(const char *event, int64_t time_ms, json_object *data)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "v", json_object_new_int(HHA_CTL_PROTO_VERSION_CURRENT));
	json_object_object_add(o, "event", json_object_new_string(event));
	json_object_object_add(o, "time", json_object_new_int64(time_ms));
	json_object_object_add(o, "data", data ? data : json_object_new_object());
	return finish(o);
}

int hha_ctl_msg_parse(const char *line, size_t len, struct hha_ctl_msg *msg)
{
	json_object *v, *e;

	memset(msg, 0, sizeof(*msg));
	msg->root = parse_line(line, len);
	if (!msg->root || !json_object_is_type(msg->root, json_type_object))
		return -EINVAL;
	v = hha_json_get(msg->root, "v");
	if (!v || !json_object_is_type(v, json_type_int))
		return -EINVAL;
	msg->version = json_object_get_int64(v);
	msg->server = hha_json_str(msg->root, "server");
	if (msg->version != HHA_CTL_PROTO_VERSION_CURRENT)
		return -HHA_EVERSION;
	if (hha_json_str(msg->root, "event")) {
		msg->kind = HHA_CTL_MSG_EVENT;
		return 0;
	}
	msg->kind = HHA_CTL_MSG_REPLY;
	v = hha_json_get(msg->root, "id");
	msg->id = v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : -1;
	v = hha_json_get(msg->root, "ok");
	if (!v || !json_object_is_type(v, json_type_boolean))
		return -EINVAL;
	msg->ok = json_object_get_boolean(v);
	if (msg->ok) {
		msg->result = hha_json_get(msg->root, "result");
		return 0;
	}
	e = hha_json_get(msg->root, "error");
	msg->err = (int)hha_json_int(e, "errno", EIO);
	if (msg->err <= 0)
		msg->err = EIO;
	msg->message = hha_json_str(e, "message");
	return 0;
}

void hha_ctl_msg_free(struct hha_ctl_msg *msg)
{
	json_object_put(msg->root);
	memset(msg, 0, sizeof(*msg));
}
