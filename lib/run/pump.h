/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One run session's byte pump: local streams <-> sealed frames on a TCP connection, with windows. */
#ifndef HHA_RUN_PUMP_H
#define HHA_RUN_PUMP_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "run/crypto.h"

/*
 * Both ends of a session run a pump: the client with stdin as a source and
 * stdout/stderr as sinks, the remote helper the other way round. Every
 * stream has a window of HHA_RUN_WINDOW bytes: a source sends only what the
 * other end has room for, a sink grants more as it writes. So each end always
 * reads its socket (control frames, such as signals, never wait behind data)
 * and neither buffers more than a window per stream: a slow reader stalls its
 * writer, never grows a buffer.
 */
struct hha_run_pump;

/* Called for every frame that is not stream data (signals, exit, ...). */
typedef void (*hha_run_pump_ctrl_fn)(struct hha_run_pump *p, uint8_t type, uint8_t stream,
				     const uint8_t *payload, size_t len, void *ud);

enum {
	HHA_RUN_PUMP_SOURCE = 1 << 0, /* read the fd, send to the peer (else: sink) */
	HHA_RUN_PUMP_PTY = 1 << 1,    /* EIO means end of file; a sink's EOF sends ^D */
};

/* Takes @sock, @tx and @rx. */
int hha_run_pump_new(int sock, struct hha_run_aead *tx, struct hha_run_aead *rx,
		     hha_run_pump_ctrl_fn ctrl, void *ud, struct hha_run_pump **out);
void hha_run_pump_free(struct hha_run_pump *p);
/* Attach local stream @id (0..2) to @fd, which the pump owns and makes non-blocking
 * (a regular file is used as it is: it never blocks). */
int hha_run_pump_add(struct hha_run_pump *p, unsigned id, int fd, unsigned flags);
/* Queue a control frame. 0, -ENOBUFS when the peer stopped reading. */
int hha_run_pump_ctrl(struct hha_run_pump *p, uint8_t type, uint8_t stream, const void *payload,
		      size_t len);
/* Stop a source or sink now (its fd is closed). A sink tells the peer to stop sending. */
void hha_run_pump_close(struct hha_run_pump *p, unsigned id);

/*
 * The fds to wait on and for what: fills at most @max entries (4 suffice),
 * returns how many. Entries may have events 0. When hha_run_pump_busy() is
 * true, a stream on a file that cannot be polled wants I/O: dispatch without
 * waiting.
 */
size_t hha_run_pump_pollfds(struct hha_run_pump *p, struct pollfd *pfd, size_t max);
bool hha_run_pump_busy(const struct hha_run_pump *p);
/*
 * Do the I/O the revents of @pfd (as filled by pollfds and then poll) allow.
 * 0; -ECONNRESET when the peer closed or the connection failed; -HHA_EAUTH or
 * -EBADMSG when a frame failed authentication or broke the protocol (the
 * session is over either way).
 */
int hha_run_pump_dispatch(struct hha_run_pump *p, const struct pollfd *pfd, size_t n);

/* Stream @id: attached and not yet finished (source at EOF and told; sink drained and closed). */
bool hha_run_pump_open(const struct hha_run_pump *p, unsigned id);
/* No sink holds bytes it has yet to write. */
bool hha_run_pump_sinks_idle(const struct hha_run_pump *p);
/* Everything queued for the peer has been written to the socket. */
bool hha_run_pump_flushed(const struct hha_run_pump *p);
/* Bytes buffered by the pump (for tests and status). */
size_t hha_run_pump_buffered(const struct hha_run_pump *p);
/* The peer closed its end (no more frames will come). */
bool hha_run_pump_peer_closed(const struct hha_run_pump *p);
/* Shut down our sending side once flushed (the peer sees end of file). */
void hha_run_pump_shutdown(struct hha_run_pump *p);
int hha_run_pump_sock(const struct hha_run_pump *p);

#endif /* HHA_RUN_PUMP_H */
