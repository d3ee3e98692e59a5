/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Drive one NBD connection state machine from memory: no sockets, no threads. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "conn-harness.h"

static ssize_t h_send(void *ud, const struct iovec *iov, int iovcnt)
{
	struct harness *h = ud;
	size_t total = 0;

	if (h->send_broken)
		return -EPIPE;
	if (h->send_full)
		return -EAGAIN;
	for (int i = 0; i < iovcnt; i++) {
		size_t n = iov[i].iov_len;

		if (h->send_limit && total + n > h->send_limit)
			n = h->send_limit - total;
		if (h->out_len + n > h->out_cap) {
			size_t cap = (h->out_len + n) * 2;
			uint8_t *p = realloc(h->out, cap);

			if (!p)
				abort();
			h->out = p;
			h->out_cap = cap;
		}
		memcpy(h->out + h->out_len, iov[i].iov_base, n);
		h->out_len += n;
		total += n;
		if (h->send_limit && total == h->send_limit)
			break;
	}
	return total ? (ssize_t)total : -EAGAIN;
}

static void h_wake(void *ud)
{
	((struct harness *)ud)->wakes++;
}

static int h_do(struct harness *h, struct hha_nbd_req *r)
{
	if (r->offset > HARNESS_DISK_SIZE || r->len > HARNESS_DISK_SIZE - r->offset)
		return -EIO; /* the server validated; a bigger export is a test bug */
	switch (r->cmd) {
	case HHA_NBD_CMD_READ:
		memcpy(r->buf, h->disk + r->offset, r->len);
		return 0;
	case HHA_NBD_CMD_WRITE:
		memcpy(h->disk + r->offset, r->buf, r->len);
		return 0;
	case HHA_NBD_CMD_TRIM:
	case HHA_NBD_CMD_WRITE_ZEROES:
		memset(h->disk + r->offset, 0, r->len);
		return 0;
	case HHA_NBD_CMD_FLUSH:
		return 0;
	default:
		return -EINVAL;
	}
}

static void h_submit(void *ud, struct hha_nbd_req *r)
{
	struct harness *h = ud;

	h->submitted++;
	if (h->defer && h->npending < HARNESS_MAX_PENDING) {
		h->pending[h->npending++] = r;
		return;
	}
	hha_nbd_req_complete(r, h_do(h, r));
}

void harness_init(struct harness *h, struct hha_ctx *ctx, const struct hha_nbd_export *exp)
{
	static const struct hha_nbd_export def = {
		.name = "hha", .description = "harness disk", .size = HARNESS_DISK_SIZE,
		.can_flush = true, .can_fua = true, .can_trim = true, .can_zero = true,
		.min_block = 512, .pref_block = 4096, .max_payload = 65536,
	};
	struct hha_nbd_conn_io io = { .send = h_send, .wake = h_wake, .ud = h };

	memset(h, 0, sizeof(*h));
	h->disk = calloc(1, HARNESS_DISK_SIZE);
	if (!h->disk)
		abort();
	h->sh.ctx = ctx;
	h->sh.exp = exp ? *exp : def;
	h->sh.backend.submit = h_submit;
	h->sh.backend.ud = h;
	atomic_init(&h->sh.enabled, true);
	atomic_init(&h->sh.read_only, h->sh.exp.read_only);
	if (hha_nbd_conn_new(&h->sh, &io, "harness", &h->c) < 0)
		abort();
	hha_nbd_conn_flush(h->c);
}

size_t harness_feed(struct harness *h, const void *data, size_t n, size_t chunk)
{
	const uint8_t *p = data;
	size_t fed = 0;

	while (n) {
		struct iovec iov[2];
		int cnt;
		size_t take = 0;

		if (!(hha_nbd_conn_wants(h->c) & HHA_NBD_CONN_READ))
			break;
		cnt = hha_nbd_conn_rbufs(h->c, iov);
		if (cnt == 0)
			break;
		for (int i = 0; i < cnt && n; i++) {
			size_t k = iov[i].iov_len < n ? iov[i].iov_len : n;

			if (chunk && take + k > chunk)
				k = chunk - take;
			memcpy(iov[i].iov_base, p, k);
			p += k;
			n -= k;
			take += k;
			if (k < iov[i].iov_len)
				break;
		}
		hha_nbd_conn_received(h->c, take);
		fed += take;
		if (hha_nbd_conn_wants(h->c) & HHA_NBD_CONN_WRITE)
			hha_nbd_conn_flush(h->c);
	}
	return fed;
}

void harness_flush(struct harness *h)
{
	hha_nbd_conn_flush(h->c);
	hha_nbd_conn_received(h->c, 0);
}

void harness_complete(struct harness *h, bool reverse, int err)
{
	while (h->npending) {
		struct hha_nbd_req *r;

		if (reverse) {
			r = h->pending[--h->npending];
		} else {
			r = h->pending[0];
			memmove(h->pending, h->pending + 1, --h->npending * sizeof(r));
		}
		hha_nbd_req_complete(r, err ? err : h_do(h, r));
	}
	/* What the driver does when woken. */
	hha_nbd_conn_received(h->c, 0);
}

unsigned harness_wants(struct harness *h)
{
	return hha_nbd_conn_wants(h->c);
}

void harness_fini(struct harness *h)
{
	hha_nbd_conn_eof(h->c, 0);
	h->defer = false;
	harness_complete(h, false, 0);
	h->send_full = false;
	hha_nbd_conn_flush(h->c);
	hha_nbd_conn_shutdown(h->c, true);
	(void)hha_nbd_conn_wants(h->c);
	hha_nbd_conn_wait_idle(h->c);
	hha_nbd_conn_free(h->c);
	free(h->out);
	free(h->disk);
}
