/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Comparing both copies by hashes: checksum-based resync and online verify. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "disk/engine.h"

/*
 * A probe hashes a range (up to 1 MiB) here with SHA-256 per 4 KiB block
 * and sends the hashes (CSUM_REQ, 32 bytes per block: 0.8% of the data);
 * the peer hashes its own copy of the range and answers which blocks differ
 * (CSUM_REPLY, one bit per block). Both sides hash as a node of their
 * in-flight tree, in the stream's order like any write, so both compare the
 * same point of the application's history even while it writes:
 *
 *   - checksum resync (sync.csums): the source probes each marked run
 *     instead of sending it; equal blocks are cleared, only differing
 *     ones are read and sent as RS_DATA;
 *   - online verify: the node that runs it (a primary, or either of two
 *     secondaries) probes the whole device; differing blocks are counted,
 *     recorded as ranges and marked in its bitmap, to be resynced from it by
 *     resync-marked or at the next connection.
 */

static void hash_blocks(const uint8_t *data, uint32_t len, uint8_t *out)
{
	for (uint32_t i = 0; i < len / HHA_BM_BLOCK; i++) {
		unsigned int n = HHA_WIRE_CSUM;
		EVP_Digest(data + (size_t)i * HHA_BM_BLOCK, HHA_BM_BLOCK, out + (size_t)i * HHA_WIRE_CSUM, &n,
			   EVP_sha256(), NULL);
	}
}

static struct hha_op *csum_of(struct hha_sitem *si)
{
	return (struct hha_op *)((char *)si - offsetof(struct hha_op, si));
}

static void probe_sent(struct hha_conn *c, struct hha_sitem *si, int err)
{
	struct hha_op *op = csum_of(si);

	(void)c;
	if (err == 0)
		ADD(op->d->st_sent, si->h.plen);
	hha_op_put(op);
}

/* Frees the hash buffer with the op (it is not pooled). */
static void csum_finish(struct hha_op *op)
{
	free(op->hashes);
	op->hashes = NULL;
}

static void probe_run(struct hha_disk *d, struct hha_job *j)
{
	struct hha_op *op = (struct hha_op *)j;
	uint32_t hlen = op->len / HHA_BM_BLOCK * HHA_WIRE_CSUM;
	uint8_t *hashes = malloc(hlen);
	int r = hashes ? hha_io_read(d, op->buf, op->len, op->off) : -ENOMEM;
	struct hha_conn *c;
	bool verify = op->flags & HHA_WF_VERIFY;

	if (r == 0)
		hash_blocks(op->buf, op->len, hashes);
	hha_pool_put(d, op->buf, op->buflen);
	op->buf = NULL;
	op->buflen = 0;
	SUB(d->st_pending, 1);
	pthread_mutex_lock(&d->lock);
	c = d->conn;
	if (r == 0 && c && d->linked) {
		memset(&op->si, 0, sizeof(op->si));
		op->si.h.type = HHA_W_CSUM_REQ;
		op->si.h.flags = verify ? HHA_WF_VERIFY : 0;
		op->si.h.seq = op->seq;
		op->si.h.offset = op->off;
		op->si.h.len = op->len;
		op->si.h.plen = hlen;
		op->si.payload = hashes;
		op->si.sent = probe_sent;
		op->hashes = hashes;
		op->finish = csum_finish;
		hashes = NULL;
		atomic_fetch_add(&op->pending, 1);
		hha_conn_send(c, &op->si);
	} else {
		if (r < 0 && c)
			hha_conn_fail(c, "reading %llu+%u to compare failed: %s", (unsigned long long)op->off,
				      op->len, hha_strerror(r));
		if (verify)
			d->ov_inflight -= HHA_MIN(d->ov_inflight, (uint64_t)op->len);
		else
			d->rs_inflight -= HHA_MIN(d->rs_inflight, (uint64_t)op->len);
		pthread_cond_broadcast(&d->cond);
	}
	hha_ivtree_remove(&d->tree, &op->iv);
	hha_op_start_unblocked(d, op);
	pthread_mutex_unlock(&d->lock);
	free(hashes);
	hha_op_put(op);
}

static void probe_start(struct hha_disk *d, struct hha_op *op)
{
	hha_op_push(d, op, probe_run);
}

int hha_csum_probe(struct hha_disk *d, uint64_t off, uint32_t len, bool verify)
{
	struct hha_op *op = hha_op_new_local(d, HHA_OP_CSUM, off, len, probe_start);

	if (!op)
		return -ENOMEM;
	op->flags = verify ? HHA_WF_VERIFY : 0;
	if (verify)
		d->ov_inflight += len;
	else
		d->rs_inflight += len;
	hha_op_enter(d, op);
	return 0;
}

/* The peer's side: compare and answer. */

static void compare_run(struct hha_disk *d, struct hha_job *j)
{
	struct hha_op *op = (struct hha_op *)j;
	uint32_t nblk = op->len / HHA_BM_BLOCK;
	uint8_t *data = malloc(op->len), *mine = malloc((size_t)nblk * HHA_WIRE_CSUM);
	uint8_t *diff = (uint8_t *)(op + 1);
	int r = data && mine ? hha_io_read(d, data, op->len, op->off) : -ENOMEM;
	struct hha_conn *c;

	memset(diff, 0, (nblk + 7) / 8);
	if (r == 0) {
		hash_blocks(data, op->len, mine);
		for (uint32_t i = 0; i < nblk; i++)
			if (memcmp(mine + (size_t)i * HHA_WIRE_CSUM, (uint8_t *)op->buf + (size_t)i * HHA_WIRE_CSUM,
				   HHA_WIRE_CSUM) != 0)
				diff[i / 8] |= (uint8_t)(1u << (i % 8));
	}
	free(data);
	free(mine);
	hha_pool_put(d, op->buf, op->buflen);
	op->buf = NULL;
	op->buflen = 0;
	SUB(d->st_pending, 1);
	pthread_mutex_lock(&d->lock);
	/* A resync probe: the blocks found equal need nothing from the source. */
	if (r == 0 && !(op->flags & HHA_WF_VERIFY)) {
		for (uint32_t i = 0; i < nblk; i++)
			if (!(diff[i / 8] & (1u << (i % 8))))
				hha_bitmap_clear_range(&d->bm, op->off + (uint64_t)i * HHA_BM_BLOCK, HHA_BM_BLOCK);
	}
	c = hha_disk_conn_if(d, op->conn_gen);
	hha_op_answer(d, c, op, HHA_W_CSUM_REPLY, op->flags, r, (nblk + 7) / 8, diff);
}

static void compare_start(struct hha_disk *d, struct hha_op *op)
{
	hha_op_push(d, op, compare_run);
}

int hha_csum_rx_req(struct hha_conn *c, const struct hha_wire_hdr *h, void *buf, uint32_t cap)
{
	struct hha_disk *d = c->d;
	uint32_t nblk = h->len / HHA_BM_BLOCK;
	/* The answer's bitmap lives right after the op. */
	struct hha_op *op = calloc(1, sizeof(*op) + (nblk + 7) / 8);

	if (!op) {
		if (cap)
			hha_pool_put(d, buf, cap);
		return -ENOMEM;
	}
	op->d = d;
	op->kind = HHA_OP_CSUM;
	op->conn_gen = c->gen;
	op->flags = h->flags;
	op->off = h->offset;
	op->len = h->len;
	op->peer_seq = h->seq;
	op->start = compare_start;
	atomic_init(&op->pending, 1);
	if (cap) {
		op->buf = buf;
		op->buflen = cap;
	} else {
		op->buf = hha_pool_get(d, h->plen, &op->buflen);
		if (!op->buf) {
			free(op);
			return -ENOMEM;
		}
		memcpy(op->buf, buf, h->plen);
	}
	pthread_mutex_lock(&d->lock);
	if (d->conn != c || d->dstate == HHA_DS_DISKLESS) {
		pthread_mutex_unlock(&d->lock);
		hha_op_free(op);
		return -EPROTO;
	}
	op->seq = ++d->rx_order;
	hha_op_enter(d, op);
	pthread_mutex_unlock(&d->lock);
	return 0;
}

/* Verify: remember a differing range (merged with the last one when adjacent). */
static void ov_record(struct hha_disk *d, uint64_t off)
{
	unsigned n = d->ov_nranges;

	d->ov_oos += HHA_BM_BLOCK;
	if (n && d->ov_ranges[n - 1].off + d->ov_ranges[n - 1].len == off) {
		d->ov_ranges[n - 1].len += HHA_BM_BLOCK;
		return;
	}
	if (n < HHA_ARRAY_SIZE(d->ov_ranges)) {
		d->ov_ranges[n].off = off;
		d->ov_ranges[n].len = HHA_BM_BLOCK;
		d->ov_nranges++;
	}
}

int hha_csum_rx_reply(struct hha_conn *c, const struct hha_wire_hdr *h, const uint8_t *diff)
{
	struct hha_disk *d = c->d;
	uint32_t nblk = h->len / HHA_BM_BLOCK;
	bool verify = h->flags & HHA_WF_VERIFY;
	int r = 0;

	pthread_mutex_lock(&d->lock);
	if (d->conn != c || (verify ? !d->ov_running : d->cstate != HHA_CS_SYNCSOURCE)) {
		pthread_mutex_unlock(&d->lock);
		return 0; /* an answer to something that stopped meanwhile */
	}
	if (h->aux) {
		pthread_mutex_unlock(&d->lock);
		hha_conn_fail(c, "the peer could not compare %llu+%u: %s", (unsigned long long)h->offset, h->len,
			      hha_strerror(-(int)h->aux));
		return -EIO;
	}
	if (verify) {
		for (uint32_t i = 0; i < nblk; i++) {
			uint64_t off = h->offset + (uint64_t)i * HHA_BM_BLOCK;
			if (!(diff[i / 8] & (1u << (i % 8))))
				continue;
			hha_bitmap_set_range(&d->bm, off, HHA_BM_BLOCK);
			ov_record(d, off);
		}
		d->ov_done += h->len;
		d->ov_inflight -= HHA_MIN(d->ov_inflight, (uint64_t)h->len);
	} else {
		uint32_t i = 0;
		d->rs_inflight -= HHA_MIN(d->rs_inflight, (uint64_t)h->len);
		while (i < nblk && r == 0) {
			uint32_t k = i;
			bool differs = diff[i / 8] & (1u << (i % 8));
			while (k < nblk && ((diff[k / 8] & (1u << (k % 8))) != 0) == differs)
				k++;
			if (differs) {
				r = hha_rs_issue(d, h->offset + (uint64_t)i * HHA_BM_BLOCK, (k - i) * HHA_BM_BLOCK);
			} else {
				uint64_t n = hha_bitmap_clear_range(&d->bm, h->offset + (uint64_t)i * HHA_BM_BLOCK,
								    (uint64_t)(k - i) * HHA_BM_BLOCK);
				ADD(d->st_rs_same, n << HHA_BM_BLOCK_SHIFT);
				d->rs_done_bytes += (uint64_t)(k - i) * HHA_BM_BLOCK;
			}
			i = k;
		}
	}
	pthread_cond_broadcast(&d->cond);
	pthread_mutex_unlock(&d->lock);
	/* Without memory for the reads the bits stay set: the resync goes round again. */
	return 0;
}

/* The verify thread: probe the device range by range, a few in flight. */
#define OV_WINDOW (4u << 20)

static void *ov_main(void *arg)
{
	struct hha_disk *d = arg;
	struct timespec ts;

	pthread_mutex_lock(&d->lock);
	while (!d->ov_stop && d->linked && (d->ov_pos < d->ov_end || d->ov_inflight)) {
		uint32_t len;
		if (d->ov_pos >= d->ov_end || d->ov_inflight >= OV_WINDOW) {
			hha_ts_in(&ts, 50);
			pthread_cond_timedwait(&d->cond, &d->lock, &ts);
			continue;
		}
		len = (uint32_t)HHA_MIN((uint64_t)HHA_WIRE_CSUM_MAX, d->ov_end - d->ov_pos);
		if (hha_csum_probe(d, d->ov_pos, len, true) < 0) {
			hha_ts_in(&ts, 100);
			pthread_cond_timedwait(&d->cond, &d->lock, &ts);
			continue;
		}
		d->ov_pos += len;
	}
	if (d->ov_running) {
		bool complete = d->ov_pos >= d->ov_end && !d->ov_inflight;
		d->ov_running = false;
		/* The marks survive a restart and go to the peer at the next
		 * connection (rows 6b/6c), or now with resync-marked. */
		if (d->ov_oos)
			hha_disk_push_marks(d, false);
		hha_disk_post_event(d, "verify-done", "%s: verify %s: %llu KiB of %llu MiB differ%s", d->name,
				    complete ? "finished" : "stopped", (unsigned long long)(d->ov_oos >> 10),
				    (unsigned long long)(d->ov_done >> 20),
				    d->ov_oos ? " (marked out of sync: run resync-marked)" : "");
		if (d->ov_oos)
			hha_info(d->ctx, "disk", "%s: verify found %llu differing blocks", d->name,
				 (unsigned long long)(d->ov_oos / HHA_BM_BLOCK));
	}
	pthread_mutex_unlock(&d->lock);
	return NULL;
}

void hha_verify_abort(struct hha_disk *d)
{
	d->ov_stop = true;
	pthread_cond_broadcast(&d->cond);
}

static void ov_join(struct hha_disk *d)
{
	pthread_t th;

	pthread_mutex_lock(&d->lock);
	if (!d->ov_started) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	d->ov_stop = true;
	pthread_cond_broadcast(&d->cond);
	th = d->ov_thread;
	d->ov_started = false;
	pthread_mutex_unlock(&d->lock);
	pthread_join(th, NULL);
}

void hha_verify_stop(struct hha_disk *d)
{
	ov_join(d);
}

HHA_EXPORT int hha_disk_verify(struct hha_disk *d, uint64_t start)
{
	int r = 0;

	if (start % HHA_BM_BLOCK)
		return hha_error(-EINVAL, __func__, "the start %llu is not a multiple of 4096",
				 (unsigned long long)start);
	ov_join(d); /* a finished verify's thread */
	pthread_mutex_lock(&d->lock);
	if (d->cstate != HHA_CS_CONNECTED || !d->peer_known || d->dstate != HHA_DS_UPTODATE ||
	    d->peer.disk != HHA_DS_UPTODATE || d->ov_running) {
		r = hha_error(-HHA_ESTATE, __func__, "%s: verify needs a Connected pair, both UpToDate, "
			      "no verify running", d->name);
		goto out;
	}
	/* Writes flow from the primary: only there (or between two
	 * secondaries) do both sides compare the same moment. */
	if (d->role != HHA_ROLE_PRIMARY && d->peer.role == HHA_ROLE_PRIMARY) {
		r = hha_error(-HHA_ESTATE, __func__, "%s: run verify on the primary", d->name);
		goto out;
	}
	if (start >= d->size) {
		r = hha_error(-EINVAL, __func__, "the start %llu is past the end (%llu)",
			      (unsigned long long)start, (unsigned long long)d->size);
		goto out;
	}
	d->ov_start = d->ov_pos = start;
	d->ov_end = d->size;
	d->ov_done = d->ov_oos = d->ov_inflight = 0;
	d->ov_nranges = 0;
	d->ov_start_ms = hha_now_ms();
	d->ov_stop = false;
	d->ov_running = true;
	if ((r = pthread_create(&d->ov_thread, NULL, ov_main, d)) != 0) {
		d->ov_running = false;
		r = hha_error(-r, __func__, "cannot start the verify thread");
		goto out;
	}
	d->ov_started = true;
	hha_disk_post_event(d, "verify-start", "%s: verify from %llu, %llu MiB", d->name,
			    (unsigned long long)start, (unsigned long long)((d->size - start) >> 20));
out:
	pthread_mutex_unlock(&d->lock);
	return r;
}

HHA_EXPORT int hha_disk_resync_marked(struct hha_disk *d)
{
	int r = 0;

	pthread_mutex_lock(&d->lock);
	if (d->cstate != HHA_CS_CONNECTED || !d->conn || d->dstate != HHA_DS_UPTODATE || d->ov_running ||
	    (d->peer_known && d->peer.role == HHA_ROLE_PRIMARY)) {
		r = hha_error(-HHA_ESTATE, __func__, "%s: resync-marked needs a Connected, UpToDate resource, "
			      "no verify running, the peer secondary", d->name);
		goto out;
	}
	if (hha_bitmap_count(&d->bm) == 0)
		goto out;
	/* Rows 6b/6c: our marks go to the peer, now or at the next connection. */
	hha_disk_push_marks(d, false);
	r = hha_link_begin_source(d->conn, HHA_SYNC_SOURCE_BITMAP);
out:
	pthread_mutex_unlock(&d->lock);
	return r;
}

void hha_verify_status(struct hha_disk *d, struct hha_disk_status *st)
{
	double secs = (double)(hha_now_ms() - d->ov_start_ms) / 1000.0;

	st->verify_running = d->ov_running;
	st->verify_pos = d->ov_start + d->ov_done;
	st->verify_total = d->ov_end;
	st->verify_oos = d->ov_oos;
	st->verify_speed = d->ov_start_ms && secs > 0 ? (double)d->ov_done / secs : 0;
	st->verify_nranges = d->ov_nranges;
	memcpy(st->verify_ranges, d->ov_ranges, sizeof(st->verify_ranges));
}
