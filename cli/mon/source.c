/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon's link to the local hhad: connect, ask every status verb, notice loss, reconnect. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "mon/source.h"

void mon_conn_init(struct mon_conn *c, struct hha_ctx *ctx, const char *socket, int timeout_ms)
{
	memset(c, 0, sizeof(*c));
	c->ctx = ctx;
	c->socket = socket;
	c->timeout_ms = timeout_ms;
	c->state = MON_CONN_DOWN;
}

void mon_conn_close(struct mon_conn *c)
{
	hha_ctl_close(c->ctl);
	c->ctl = NULL;
	c->state = MON_CONN_DOWN;
}

/* Library messages start with the function's name; the banner wants only the reason. */
static const char *reason(void)
{
	const char *m = hha_last_error(), *p = strstr(m, ": ");

	if (p && strncmp(m, "hha_", 4) == 0 && !memchr(m, ' ', (size_t)(p - m)))
		return p + 2;
	return m;
}

/* Errors that mean the connection itself is gone or unusable. */
static bool transport_error(int err)
{
	switch (-err) {
	case ECONNRESET:
	case ECONNREFUSED:
	case EPIPE:
	case ENOTCONN:
	case ETIMEDOUT:
	case EPROTO:
	case EBADF:
	case HHA_EVERSION:
		return true;
	default:
		return false;
	}
}

/* The one transition function (table in source.h). Returns @err for chaining. */
static int transition(struct mon_conn *c, enum mon_conn_state next, int err)
{
	if (next == MON_CONN_DOWN) {
		hha_ctl_close(c->ctl);
		c->ctl = NULL;
		c->attempts = c->state == MON_CONN_UP ? 1 : c->attempts + 1;
		c->err = err;
		snprintf(c->why, sizeof(c->why), "%s", reason());
	} else {
		c->attempts = 0;
		c->err = 0;
		c->why[0] = '\0';
	}
	c->state = next;
	return err;
}

static int hello(struct mon_conn *c)
{
	char *res = NULL;
	json_object *o, *node;
	int r;

	r = hha_ctl_open(c->ctx, c->socket, &c->ctl);
	if (r < 0)
		return r;
	r = hha_ctl_call(c->ctl, "hello", NULL, c->timeout_ms, &res);
	if (r < 0)
		return r;
	o = json_tokener_parse(res);
	free(res);
	c->node[0] = '\0';
	if (json_object_object_get_ex(o, "node", &node) && json_object_is_type(node, json_type_string))
		mon_text_copy(c->node, sizeof(c->node), json_object_get_string(node));
	json_object_put(o);
	return 0;
}

int mon_conn_poll(struct mon_conn *c, struct mon_snapshot *out)
{
	/* Membership first: it is the authority on node states (see snapshot.c). */
	static const enum mon_source order[] = { MON_SRC_MEMBERS, MON_SRC_LOAD, MON_SRC_DISK,
						 MON_SRC_VIPS, MON_SRC_GROUPS };
	struct timespec ts;
	int r;

	mon_snapshot_clear(out);
	if (c->state == MON_CONN_DOWN) {
		r = hello(c);
		if (r < 0)
			return transition(c, MON_CONN_DOWN, r);
		transition(c, MON_CONN_UP, 0);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	out->time_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	snprintf(out->self_name, sizeof(out->self_name), "%s", c->node);
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		enum mon_source src = order[i];
		char *res = NULL;

		r = hha_ctl_call(c->ctl, mon_source_verb(src), NULL, c->timeout_ms, &res);
		if (r < 0 && transport_error(r)) {
			mon_snapshot_clear(out);
			return transition(c, MON_CONN_DOWN, r);
		}
		if (r == -EOPNOTSUPP)
			mon_snapshot_unavailable(out, src, true, reason());
		else if (r < 0)
			mon_snapshot_unavailable(out, src, false, reason());
		else
			mon_snapshot_parse(out, src, res);
		free(res);
	}
	return 0;
}
