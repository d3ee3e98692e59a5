/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A client for hhad's control socket: newline-delimited JSON requests, replies and events. */
#ifndef HYBRIDHA_CTL_H
#define HYBRIDHA_CTL_H

#include <hybridha/ctx.h>

HHA_BEGIN_DECLS

/* Where hhad listens unless told otherwise; $HHA_SOCKET overrides it for clients. */
#define HHA_CTL_DEFAULT_SOCKET "/run/hybridha/hhad.sock"

/* The control protocol version this library speaks (see docs/control-protocol.md). */
#define HHA_CTL_PROTO_VERSION_CURRENT 1

/* The longest request line hhad accepts, newline included. */
#define HHA_CTL_MAX_LINE 65536

/*
 * One connection to hhad. Calls on one handle are not thread-safe; use one
 * handle per thread. A handle that has subscribed to events receives them
 * interleaved with replies; hha_ctl_call() keeps events that arrive while it
 * waits for its reply and hha_ctl_next_event() returns them in order.
 */
struct hha_ctl;

/**
 * hha_ctl_open - connect to hhad's control socket.
 * @ctx: context for logging.
 * @path: socket path; NULL means $HHA_SOCKET if set, else HHA_CTL_DEFAULT_SOCKET.
 * @out: receives the handle; the caller frees it with hha_ctl_close().
 *
 * Return: 0; -ENOENT or -ECONNREFUSED when no hhad listens there; -EACCES;
 * -ENOMEM. The message names the socket path.
 */
HHA_EXPORT int hha_ctl_open(struct hha_ctx *ctx, const char *path, struct hha_ctl **out);

/** hha_ctl_close - close the connection and free the handle; NULL is a no-op. */
HHA_EXPORT void hha_ctl_close(struct hha_ctl *ctl);

/**
 * hha_ctl_fd - the socket, for callers that poll it in their own loop.
 *
 * Return: the fd (owned by the handle; do not close it).
 */
HHA_EXPORT int hha_ctl_fd(const struct hha_ctl *ctl);

/**
 * hha_ctl_call - send one request and wait for its reply.
 * @ctl: the handle.
 * @cmd: the command, e.g. "status", "disk.primary".
 * @args_json: a JSON object with the arguments, or NULL for none.
 * @timeout_ms: how long to wait for the reply; -1 waits for ever.
 * @result_json: receives the reply's "result" as a JSON text on success,
 *               which the caller frees with free(); may be NULL if unwanted.
 *
 * Return: 0 when hhad answered ok; the negated error code hhad sent (its
 * message in hha_last_error()) otherwise, e.g. -EPERM, -HHA_ESTATE;
 * -HHA_EVERSION when hhad speaks another protocol version; -ETIMEDOUT;
 * -ECONNRESET when hhad went away; -EINVAL for @args_json that is not a
 * JSON object.
 */
HHA_EXPORT int hha_ctl_call(struct hha_ctl *ctl, const char *cmd, const char *args_json,
			    int timeout_ms, char **result_json);

/**
 * hha_ctl_call_fds - as hha_ctl_call(), passing file descriptors along (SCM_RIGHTS).
 * @ctl: the handle.
 * @cmd: the command.
 * @args_json: JSON object or NULL.
 * @fds: descriptors to pass; hhad receives duplicates, the caller keeps its own.
 * @nfds: how many (at most 8).
 * @timeout_ms: as hha_ctl_call().
 * @result_json: as hha_ctl_call().
 *
 * Return: as hha_ctl_call(); -EINVAL for more than 8 descriptors.
 */
HHA_EXPORT int hha_ctl_call_fds(struct hha_ctl *ctl, const char *cmd, const char *args_json,
				const int *fds, size_t nfds, int timeout_ms, char **result_json);

/**
 * hha_ctl_subscribe - ask hhad to stream events on this connection.
 * @ctl: the handle.
 * @topics_json: a JSON array of topic prefixes (["disk", "net.member"]), or
 *               NULL for every event.
 *
 * Return: as hha_ctl_call().
 */
HHA_EXPORT int hha_ctl_subscribe(struct hha_ctl *ctl, const char *topics_json);

/**
 * hha_ctl_next_event - wait for the next event after hha_ctl_subscribe().
 * @ctl: the handle.
 * @timeout_ms: -1 waits for ever, 0 only returns one already received.
 * @event_json: receives the event object ({"event": "...", "time": ...,
 *              "data": {...}}) as text, which the caller frees with free().
 *
 * Return: 0; -ETIMEDOUT when none came in time; -ECONNRESET when hhad went away.
 */
HHA_EXPORT int hha_ctl_next_event(struct hha_ctl *ctl, int timeout_ms, char **event_json);

/**
 * hha_ctl_server_version - the version string of the hhad at the other end.
 *
 * Return: borrowed string valid until hha_ctl_close(); known after the first
 * successful call; "" before.
 */
HHA_EXPORT const char *hha_ctl_server_version(const struct hha_ctl *ctl);

HHA_END_DECLS

#endif /* HYBRIDHA_CTL_H */
