/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One run session's byte pump: local streams <-> sealed frames on a TCP connection, with windows. */
#include "config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/internal.h"
#include "core/util.h"
#include "run/proto.h"
#include "run/pump.h"

#define NSTREAMS 3
/* Data frames are read from sources only while less than this waits for the socket. */
#define TX_HIGH (512u * 1024)
#define TX_CAP (TX_HIGH + 2 * (HHA_RUN_FRAME_MAX_PAYLOAD + HHA_RUN_FRAME_OVERHEAD))
#define RX_CAP (HHA_RUN_FRAME_MAX_PAYLOAD + HHA_RUN_FRAME_OVERHEAD + 64 * 1024)
/* A sink grants credit back once this much has been written out. */
#define GRANT_STEP (HHA_RUN_WINDOW / 4)

struct stream {
	int fd;
	bool attached, source, pty, nopoll, done;
	bool eof_in;          /* sink: the peer sent EOF; close once drained */
	uint32_t credit;      /* source: bytes the peer has room for */
	uint8_t *buf;         /* sink: bytes received, not yet written */
	size_t off, len;
	size_t ungranted;     /* sink: written since the last grant */
};

struct hha_run_pump {
	int sock;
	struct hha_run_aead *tx_aead, *rx_aead;
	hha_run_pump_ctrl_fn ctrl;
	void *ud;
	uint8_t *tx, *rx;
	size_t tx_off, tx_len, rx_off, rx_len;
	bool peer_closed, shut, failed;
	int error;
	struct stream s[NSTREAMS];
};

int hha_run_pump_new(int sock, struct hha_run_aead *tx, struct hha_run_aead *rx,
		     hha_run_pump_ctrl_fn ctrl, void *ud, struct hha_run_pump **out)
{
	struct hha_run_pump *p = calloc(1, sizeof(*p));

	if (p) {
		p->tx = malloc(TX_CAP);
		p->rx = malloc(RX_CAP);
	}
	if (!p || !p->tx || !p->rx) {
		if (p) {
			free(p->tx);
			free(p->rx);
		}
		free(p);
		return -ENOMEM;
	}
	p->sock = sock;
	p->tx_aead = tx;
	p->rx_aead = rx;
	p->ctrl = ctrl;
	p->ud = ud;
	for (int i = 0; i < NSTREAMS; i++)
		p->s[i].fd = -1;
	hha_set_nonblock(sock, true);
	*out = p;
	return 0;
}

static void stream_close(struct stream *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->buf);
	s->buf = NULL;
	s->off = s->len = 0;
	s->done = true;
}

void hha_run_pump_free(struct hha_run_pump *p)
{
	if (!p)
		return;
	for (int i = 0; i < NSTREAMS; i++)
		stream_close(&p->s[i]);
	if (p->sock >= 0)
		close(p->sock);
	hha_run_aead_free(p->tx_aead);
	hha_run_aead_free(p->rx_aead);
	free(p->tx);
	free(p->rx);
	free(p);
}

int hha_run_pump_add(struct hha_run_pump *p, unsigned id, int fd, unsigned flags)
{
	struct stream *s;
	struct stat st;

	if (id >= NSTREAMS || p->s[id].attached)
		return -EINVAL;
	s = &p->s[id];
	s->fd = fd;
	s->attached = true;
	s->source = flags & HHA_RUN_PUMP_SOURCE;
	s->pty = flags & HHA_RUN_PUMP_PTY;
	s->credit = HHA_RUN_WINDOW;
	/* Regular files and devices poll() cannot wait on are always ready. */
	if (fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISBLK(st.st_mode) || S_ISDIR(st.st_mode)))
		s->nopoll = true;
	else
		hha_set_nonblock(fd, true);
	if (!s->source) {
		s->buf = malloc(HHA_RUN_WINDOW);
		if (!s->buf)
			return -ENOMEM;
	}
	return 0;
}

static size_t tx_pending(const struct hha_run_pump *p)
{
	return p->tx_len - p->tx_off;
}

/* Room for @n more bytes at the end of the send buffer, or NULL. */
static uint8_t *tx_room(struct hha_run_pump *p, size_t n)
{
	if (p->tx_len + n > TX_CAP && p->tx_off > 0) {
		memmove(p->tx, p->tx + p->tx_off, tx_pending(p));
		p->tx_len -= p->tx_off;
		p->tx_off = 0;
	}
	return p->tx_len + n <= TX_CAP ? p->tx + p->tx_len : NULL;
}

static int seal_frame(struct hha_run_pump *p, uint8_t *f, uint8_t type, uint8_t stream, size_t len)
{
	int r;

	f[4] = type;
	f[5] = stream;
	r = hha_run_frame_seal(p->tx_aead, f, len);
	if (r < 0)
		return r;
	p->tx_len += HHA_RUN_FRAME_OVERHEAD + len;
	return 0;
}

int hha_run_pump_ctrl(struct hha_run_pump *p, uint8_t type, uint8_t stream, const void *payload,
		      size_t len)
{
	uint8_t *f;

	if (p->shut || p->failed)
		return -EPIPE;
	if (len > HHA_RUN_FRAME_MAX_PAYLOAD)
		return -E2BIG;
	f = tx_room(p, HHA_RUN_FRAME_OVERHEAD + len);
	if (!f)
		return -ENOBUFS;
	if (len)
		memcpy(f + HHA_RUN_FRAME_HDR, payload, len);
	return seal_frame(p, f, type, stream, len);
}

static void grant(struct hha_run_pump *p, unsigned id, size_t n, bool force)
{
	struct stream *s = &p->s[id];
	uint8_t b[4];

	s->ungranted += n;
	if (s->ungranted == 0 || (!force && s->ungranted < GRANT_STEP))
		return;
	hha_put_be32(b, (uint32_t)s->ungranted);
	if (hha_run_pump_ctrl(p, HHA_RUN_F_WINDOW, (uint8_t)id, b, 4) == 0)
		s->ungranted = 0;
}

void hha_run_pump_close(struct hha_run_pump *p, unsigned id)
{
	struct stream *s;

	if (id >= NSTREAMS || !p->s[id].attached || p->s[id].done)
		return;
	s = &p->s[id];
	stream_close(s);
	hha_run_pump_ctrl(p, s->source ? HHA_RUN_F_EOF : HHA_RUN_F_CLOSE, (uint8_t)id, NULL, 0);
}

/* Write what a sink holds. */
static void sink_flush(struct hha_run_pump *p, unsigned id)
{
	struct stream *s = &p->s[id];

	while (s->len > s->off) {
		ssize_t w = write(s->fd, s->buf + s->off, s->len - s->off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			/* The reader went away: tell the peer to stop, like a pipe's EPIPE would. */
			hha_run_pump_close(p, id);
			return;
		}
		s->off += (size_t)w;
		grant(p, id, (size_t)w, false);
	}
	s->off = s->len = 0;
	if (s->eof_in) {
		if (s->pty) {
			/* A terminal has no end of file but ^D at the start of a line. */
			const char eot = 4;
			if (write(s->fd, &eot, 1) < 0) {
				/* The program may be gone already. */
			}
		}
		stream_close(s);
	}
}

static int on_data(struct hha_run_pump *p, unsigned id, const uint8_t *d, size_t n)
{
	struct stream *s = &p->s[id];

	if (!s->attached || s->source)
		return -EBADMSG;
	if (s->done)
		return 0; /* closed here: frames in flight are dropped */
	if (s->eof_in || s->len - s->off + n > HHA_RUN_WINDOW - s->ungranted)
		return -EBADMSG; /* the peer overran its window */
	if (s->off == s->len) {
		/* Nothing queued: write straight from the frame and keep only the rest. */
		s->off = s->len = 0;
		while (n > 0) {
			ssize_t w = write(s->fd, d, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN)
				break;
			if (w <= 0) {
				hha_run_pump_close(p, id);
				return 0;
			}
			d += w;
			n -= (size_t)w;
			grant(p, id, (size_t)w, false);
		}
	}
	if (n > 0) {
		if (s->off > 0) {
			memmove(s->buf, s->buf + s->off, s->len - s->off);
			s->len -= s->off;
			s->off = 0;
		}
		memcpy(s->buf + s->len, d, n);
		s->len += n;
	}
	return 0;
}

static int on_frame(struct hha_run_pump *p, uint8_t type, uint8_t id, const uint8_t *d, size_t n)
{
	struct stream *s = id < NSTREAMS ? &p->s[id] : NULL;

	switch (type) {
	case HHA_RUN_F_DATA:
		return s ? on_data(p, id, d, n) : -EBADMSG;
	case HHA_RUN_F_EOF:
		if (!s || !s->attached || s->source)
			return -EBADMSG;
		if (!s->done) {
			s->eof_in = true;
			if (s->off == s->len)
				sink_flush(p, id);
		}
		return 0;
	case HHA_RUN_F_CLOSE:
		if (!s || !s->attached || !s->source)
			return -EBADMSG;
		stream_close(s);
		return 0;
	case HHA_RUN_F_WINDOW: {
		uint32_t add;
		if (!s || !s->attached || !s->source || n != 4)
			return -EBADMSG;
		add = hha_get_be32(d);
		if (add > HHA_RUN_WINDOW - s->credit)
			return -EBADMSG;
		s->credit += add;
		return 0;
	}
	default:
		if (p->ctrl)
			p->ctrl(p, type, id, d, n, p->ud);
		return 0;
	}
}

static int sock_read(struct hha_run_pump *p)
{
	for (int rounds = 0; rounds < 8 && !p->peer_closed; rounds++) {
		ssize_t n;
		if (p->rx_off > 0) {
			memmove(p->rx, p->rx + p->rx_off, p->rx_len - p->rx_off);
			p->rx_len -= p->rx_off;
			p->rx_off = 0;
		}
		n = read(p->sock, p->rx + p->rx_len, RX_CAP - p->rx_len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0) {
			p->peer_closed = true;
			return 0;
		}
		p->rx_len += (size_t)n;
		for (;;) {
			uint8_t type, id, *pl;
			size_t plen, used;
			int r = hha_run_frame_open(p->rx_aead, p->rx + p->rx_off, p->rx_len - p->rx_off,
						   NULL, &type, &id, &pl, &plen, &used);
			if (r < 0)
				return r;
			if (r == 0)
				break;
			p->rx_off += used;
			r = on_frame(p, type, id, pl, plen);
			if (r < 0)
				return r;
		}
		if ((size_t)n < 4096)
			return 0; /* the socket is probably empty: spare a read() */
	}
	return 0;
}

static void sock_flush(struct hha_run_pump *p)
{
	while (tx_pending(p) > 0 && !p->failed) {
		ssize_t w = send(p->sock, p->tx + p->tx_off, tx_pending(p), MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			p->failed = p->peer_closed = true;
			p->tx_off = p->tx_len = 0;
			return;
		}
		p->tx_off += (size_t)w;
	}
	if (tx_pending(p) == 0) {
		p->tx_off = p->tx_len = 0;
		if (p->shut)
			shutdown(p->sock, SHUT_WR);
	}
}

static bool source_wants(const struct hha_run_pump *p, const struct stream *s)
{
	return s->attached && s->source && !s->done && s->credit > 0 && tx_pending(p) < TX_HIGH &&
	       !p->shut && !p->failed;
}

static bool sink_wants(const struct stream *s)
{
	return s->attached && !s->source && !s->done && s->len > s->off;
}

/* Read one frame's worth from a source. */
static void source_read(struct hha_run_pump *p, unsigned id)
{
	struct stream *s = &p->s[id];
	size_t want = HHA_MIN((size_t)s->credit, (size_t)HHA_RUN_FRAME_MAX_PAYLOAD);
	uint8_t *f = tx_room(p, HHA_RUN_FRAME_OVERHEAD + want);
	ssize_t n;

	if (!f)
		return;
	do {
		n = read(s->fd, f + HHA_RUN_FRAME_HDR, want);
	} while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		/* End of file; EIO is how a terminal says it, other errors end the stream too. */
		hha_run_pump_close(p, id);
		return;
	}
	if (seal_frame(p, f, HHA_RUN_F_DATA, (uint8_t)id, (size_t)n) == 0)
		s->credit -= (uint32_t)n;
}

size_t hha_run_pump_pollfds(struct hha_run_pump *p, struct pollfd *pfd, size_t max)
{
	size_t k = 0;

	if (max == 0)
		return 0;
	/* Entries without events get fd -1: poll() ignores them, where it would
	 * report a hang-up on them again and again. */
	pfd[k].events = (p->peer_closed ? 0 : POLLIN) | (tx_pending(p) ? POLLOUT : 0);
	pfd[k].fd = pfd[k].events ? p->sock : -1;
	pfd[k++].revents = 0;
	for (int i = 0; i < NSTREAMS && k < max; i++) {
		struct stream *s = &p->s[i];
		if (!s->attached || s->done || s->nopoll)
			continue;
		pfd[k].events = (source_wants(p, s) ? POLLIN : 0) | (sink_wants(s) ? POLLOUT : 0);
		pfd[k].fd = pfd[k].events ? s->fd : -1;
		pfd[k++].revents = 0;
	}
	return k;
}

bool hha_run_pump_busy(const struct hha_run_pump *p)
{
	for (int i = 0; i < NSTREAMS; i++) {
		const struct stream *s = &p->s[i];
		if (s->nopoll && (source_wants(p, s) || sink_wants(s)))
			return true;
	}
	return false;
}

int hha_run_pump_dispatch(struct hha_run_pump *p, const struct pollfd *pfd, size_t n)
{
	int r = 0;

	for (size_t k = 0; k < n; k++) {
		if (pfd[k].fd < 0 || pfd[k].fd != p->sock || !pfd[k].revents)
			continue;
		if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
			r = sock_read(p);
		if (r < 0) {
			p->failed = true;
			return r;
		}
	}
	for (size_t k = 0; k < n; k++) {
		for (int i = 0; i < NSTREAMS; i++) {
			struct stream *s = &p->s[i];
			if (pfd[k].fd < 0 || s->fd != pfd[k].fd || s->done || !pfd[k].revents)
				continue;
			if (s->source && source_wants(p, s))
				source_read(p, (unsigned)i);
			else if (!s->source && s->len > s->off)
				sink_flush(p, (unsigned)i);
			else if (!s->source && (pfd[k].revents & (POLLERR | POLLHUP)))
				hha_run_pump_close(p, (unsigned)i); /* the reader is gone */
		}
	}
	for (int i = 0; i < NSTREAMS; i++) {
		struct stream *s = &p->s[i];
		if (!s->nopoll || s->done)
			continue;
		if (source_wants(p, s))
			source_read(p, (unsigned)i);
		else if (sink_wants(s))
			sink_flush(p, (unsigned)i);
	}
	sock_flush(p);
	return 0;
}

bool hha_run_pump_open(const struct hha_run_pump *p, unsigned id)
{
	return id < NSTREAMS && p->s[id].attached && !p->s[id].done;
}

bool hha_run_pump_sinks_idle(const struct hha_run_pump *p)
{
	for (int i = 0; i < NSTREAMS; i++)
		if (sink_wants(&p->s[i]))
			return false;
	return true;
}

bool hha_run_pump_flushed(const struct hha_run_pump *p)
{
	return tx_pending(p) == 0;
}

size_t hha_run_pump_buffered(const struct hha_run_pump *p)
{
	size_t n = tx_pending(p) + (p->rx_len - p->rx_off);

	for (int i = 0; i < NSTREAMS; i++)
		n += p->s[i].len - p->s[i].off;
	return n;
}

bool hha_run_pump_peer_closed(const struct hha_run_pump *p)
{
	return p->peer_closed;
}

void hha_run_pump_shutdown(struct hha_run_pump *p)
{
	p->shut = true;
	sock_flush(p);
}

int hha_run_pump_sock(const struct hha_run_pump *p)
{
	return p->sock;
}
