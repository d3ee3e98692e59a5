/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The control protocol codec: line framing and the JSON envelopes (docs/control-protocol.md). */
#ifndef HHA_CORE_CTLPROTO_H
#define HHA_CORE_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

/*
 * A line buffer for a byte stream of newline-terminated messages, bounded:
 * a line longer than max is reported once as too long and its bytes are
 * discarded up to the next newline, so the stream stays usable.
 */
struct hha_linebuf {
	char *buf;
	size_t len;     /* bytes held */
	size_t start;   /* first byte not yet returned as a line */
	size_t cap;
	size_t max;     /* longest line accepted, newline included */
	bool discarding;
};

int hha_linebuf_init(struct hha_linebuf *lb, size_t max);
void hha_linebuf_free(struct hha_linebuf *lb);
/* Room to read into; *avail receives its size (never 0). */
char *hha_linebuf_space(struct hha_linebuf *lb, size_t *avail);
void hha_linebuf_commit(struct hha_linebuf *lb, size_t n);
/*
 * Take the next complete line (NUL-terminated in place, newline removed,
 * valid until the next call). Returns 1 with *line set, 0 when no complete
 * line is held, -E2BIG once per overlong line (its bytes are dropped).
 */
int hha_linebuf_next(struct hha_linebuf *lb, char **line, size_t *len);
/* Convenience for tests and fuzzers: feed bytes. */
int hha_linebuf_feed(struct hha_linebuf *lb, const void *data, size_t n);

struct hha_ctl_request {
	json_object *root;  /* owns everything below */
	json_object *id;    /* borrowed; NULL when absent */
	int64_t version;
	const char *cmd;
	json_object *args;  /* borrowed; an empty object when absent */
};

/*
 * Parse one request line. On success fills @req (free with
 * hha_ctl_request_free). On failure returns -EINVAL (malformed) or
 * -HHA_EVERSION, with a message in @err, and sets @req->id when the line was
 * JSON with an "id" (so the error reply can carry it; free @req anyway).
 */
int hha_ctl_request_parse(const char *line, size_t len, struct hha_ctl_request *req, char *err,
			  size_t errlen);
void hha_ctl_request_free(struct hha_ctl_request *req);

/* Encoders: each returns a malloc'd line ending in '\n', or NULL on ENOMEM.
 * @result and @data are consumed (put) by the call. */
char *hha_ctl_encode_request(int64_t id, const char *cmd, json_object *args);
char *hha_ctl_encode_ok(json_object *id, json_object *result, const char *server_version);
char *hha_ctl_encode_err(json_object *id, int err, const char *message,
			 const char *server_version);
char *hha_ctl_encode_event(const char *event, int64_t time_ms, json_object *data);

/* What a client reads: a reply (to id) or an event. */
enum hha_ctl_msg_kind { HHA_CTL_MSG_REPLY, HHA_CTL_MSG_EVENT };
struct hha_ctl_msg {
	json_object *root;
	enum hha_ctl_msg_kind kind;
	int64_t id;           /* replies */
	int64_t version;
	bool ok;              /* replies */
	json_object *result;  /* ok replies; borrowed */
	int err;              /* error replies: positive code */
	const char *message;  /* error replies; borrowed */
	const char *server;   /* server version string, or NULL */
};

/* Parse a reply or event line. 0, -EINVAL (malformed), -HHA_EVERSION. */
int hha_ctl_msg_parse(const char *line, size_t len, struct hha_ctl_msg *msg);
void hha_ctl_msg_free(struct hha_ctl_msg *msg);

#endif /* HHA_CORE_CTLPROTO_H */
