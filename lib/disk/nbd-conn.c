/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One NBD client connection: the handshake and transmission state machine. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "disk/nbd-conn-impl.h"

/*
 * States and the one transition function, conn_step(). Input is parsed
 * from the staging buffer; OPT_DATA and REQ_PAYLOAD bytes may also arrive
 * straight in their destination (see hha_nbd_conn_rbufs).
 *
 *   state         waits for              goes to                       closes (hard) on
 *   CLIENT_FLAGS  4 bytes                OPT_HDR                       unknown client flag
 *   OPT_HDR       16 bytes               OPT_DATA, or the option's     bad magic, length > 64 KiB
 *                                        outcome when it has no data
 *   OPT_DATA      the option's data      GO/EXPORT_NAME ok -> REQ_HDR  EXPORT_NAME of an unknown
 *                                        ABORT -> DRAIN                export (no error reply
 *                                        any other -> OPT_HDR          exists for it)
 *   REQ_HDR       28 bytes and a slot    valid WRITE -> REQ_PAYLOAD    bad magic, rejected WRITE
 *                                        rejected WRITE -> REQ_DISCARD whose payload > 64 MiB
 *                                        DISC -> DRAIN
 *                                        others -> REQ_HDR
 *   REQ_PAYLOAD   the WRITE payload      REQ_HDR (request submitted)
 *   REQ_DISCARD   the payload to drop    REQ_HDR
 *   DRAIN         no input; in-flight    DONE (driver closes)
 *                 requests answered
 *   CLOSED        nothing is sent; the   DONE
 *                 backend returns slots
 *
 * End of input at a message boundary is a hang-up (DRAIN in transmission,
 * CLOSED in the handshake); anywhere else it is a truncated message
 * (CLOSED, counted as a protocol error). A server shutdown makes every
 * state DRAIN (transmission) or CLOSED (handshake).
 */

static void conn_log(struct hha_nbd_conn *c, enum hha_log_level lvl, const char *fmt, ...)
	HHA_PRINTF(3, 4);
static void conn_log(struct hha_nbd_conn *c, enum hha_log_level lvl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!c->sh->ctx || lvl > hha_ctx_get_log_level(c->sh->ctx))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	hha_log(c->sh->ctx, lvl, "nbd", "%s: %s", c->label, msg);
}

int hha_nbd_conn_new(struct hha_nbd_shared *sh, const struct hha_nbd_conn_io *io,
		     const char *label, struct hha_nbd_conn **out)
{
	struct hha_nbd_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return -ENOMEM;
	c->in = malloc(HHA_NBD_CONN_IN_CAP);
	if (!c->in) {
		free(c);
		return -ENOMEM;
	}
	c->sh = sh;
	c->io = *io;
	snprintf(c->label, sizeof(c->label), "%s", label);
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->idle_cond, NULL);
	for (int i = HHA_NBD_CONN_SLOTS - 1; i >= 0; i--) {
		c->slots[i].c = c;
		c->slots[i].next = c->free_list;
		c->free_list = &c->slots[i];
	}
	c->state = HHA_NBD_CS_CLIENT_FLAGS;
	c->hs_len = hha_nbd_encode_greeting(c->hs, HHA_NBD_CONN_HS_FLAGS);
	*out = c;
	return 0;
}

void hha_nbd_conn_free(struct hha_nbd_conn *c)
{
	if (!c)
		return;
	for (int i = 0; i < HHA_NBD_CONN_SLOTS; i++)
		free(c->slots[i].buf);
	free(c->optbuf);
	free(c->in);
	pthread_cond_destroy(&c->idle_cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* ---- leaving: DRAIN and CLOSED ---- */

static void release_cur(struct hha_nbd_conn *c)
{
	if (!c->cur)
		return;
	pthread_mutex_lock(&c->lock);
	hha_nbd_slot_release_locked(c, c->cur);
	pthread_mutex_unlock(&c->lock);
	c->cur = NULL;
}

static void enter_drain(struct hha_nbd_conn *c)
{
	c->state = HHA_NBD_CS_DRAIN;
	c->dst = NULL;
	release_cur(c);
	pthread_mutex_lock(&c->lock);
	c->finishing = true;
	pthread_mutex_unlock(&c->lock);
}

/* Hard close; @protocol_error counts it and logs at warning level. */
static void conn_close(struct hha_nbd_conn *c, bool protocol_error, const char *fmt, ...)
	HHA_PRINTF(3, 4);
static void conn_close(struct hha_nbd_conn *c, bool protocol_error, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	conn_log(c, protocol_error ? HHA_LOG_WARNING : HHA_LOG_INFO, "%s; closing", msg);
	c->state = HHA_NBD_CS_CLOSED;
	c->dst = NULL;
	c->hs_off = c->hs_len = 0;
	release_cur(c);
	free(c->optbuf);
	c->optbuf = NULL;
	pthread_mutex_lock(&c->lock);
	if (protocol_error)
		c->ctr.protocol_errors++;
	c->finishing = true;
	hha_nbd_conn_drop_output_locked(c);
	pthread_mutex_unlock(&c->lock);
}

/* A shutdown asked for by the server, seen on the driver's thread. */
static void check_stop(struct hha_nbd_conn *c)
{
	bool stop;

	if (c->state == HHA_NBD_CS_DRAIN || c->state == HHA_NBD_CS_CLOSED)
		return;
	pthread_mutex_lock(&c->lock);
	stop = c->stop;
	pthread_mutex_unlock(&c->lock);
	if (!stop)
		return;
	if (c->state < HHA_NBD_CS_REQ_HDR)
		conn_close(c, false, "server shutting down during the handshake");
	else
		enter_drain(c);
}

void hha_nbd_conn_shutdown(struct hha_nbd_conn *c, bool hard)
{
	pthread_mutex_lock(&c->lock);
	c->stop = true;
	if (hard)
		hha_nbd_conn_drop_output_locked(c);
	c->io.wake(c->io.ud);
	pthread_mutex_unlock(&c->lock);
}

void hha_nbd_conn_wait_idle(struct hha_nbd_conn *c)
{
	pthread_mutex_lock(&c->lock);
	c->finishing = true;
	while (c->inflight > 0)
		pthread_cond_wait(&c->idle_cond, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

void hha_nbd_conn_counters(struct hha_nbd_conn *c, struct hha_nbd_conn_counters *out)
{
	pthread_mutex_lock(&c->lock);
	*out = c->ctr;
	pthread_mutex_unlock(&c->lock);
}

unsigned hha_nbd_conn_wants(struct hha_nbd_conn *c)
{
	unsigned w = 0;
	bool out_pending;

	check_stop(c);
	pthread_mutex_lock(&c->lock);
	/* Queued replies with a sender at work are that sender's business. */
	out_pending = c->hs_off < c->hs_len || (c->outq_head && !c->sending);
	if (c->state == HHA_NBD_CS_CLOSED || c->dead ||
	    (c->state == HHA_NBD_CS_DRAIN && c->inflight == 0 && !out_pending)) {
		pthread_mutex_unlock(&c->lock);
		return HHA_NBD_CONN_DONE;
	}
	if (out_pending)
		w |= HHA_NBD_CONN_WRITE;
	if (c->state != HHA_NBD_CS_DRAIN && !c->waiting && c->hs_off == c->hs_len)
		w |= HHA_NBD_CONN_READ;
	pthread_mutex_unlock(&c->lock);
	if (c->state < HHA_NBD_CS_REQ_HDR)
		w |= HHA_NBD_CONN_HANDSHAKE;
	return w;
}

/* ---- handshake ---- */

static uint8_t *hs_put(struct hha_nbd_conn *c, size_t n)
{
	uint8_t *p = c->hs + c->hs_len;

	/* Every option's replies are sized to fit the empty buffer (names and
	 * descriptions are at most 4096 bytes); output is flushed before the
	 * next option is parsed. */
	c->hs_len += n;
	return p;
}

static void opt_reply(struct hha_nbd_conn *c, uint32_t type, const void *data, uint32_t len)
{
	uint8_t *p = hs_put(c, HHA_NBD_OPT_REPLY_HDR_LEN + len);

	hha_nbd_encode_opt_reply(p, c->opt.opt, type, len);
	if (len)
		memcpy(p + HHA_NBD_OPT_REPLY_HDR_LEN, data, len);
}

static void opt_error(struct hha_nbd_conn *c, uint32_t type, const char *fmt, ...)
	HHA_PRINTF(3, 4);
static void opt_error(struct hha_nbd_conn *c, uint32_t type, const char *fmt, ...)
{
	char msg[160];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	conn_log(c, HHA_LOG_DEBUG, "%s: %s", hha_nbd_opt_name(c->opt.opt), msg);
	opt_reply(c, type, msg, (uint32_t)n);
}

static bool export_matches(struct hha_nbd_conn *c, const char *name, uint32_t len)
{
	const char *ours = c->sh->exp.name;

	return len == 0 || (strlen(ours) == len && memcmp(ours, name, len) == 0);
}

static uint16_t transmission_flags(struct hha_nbd_conn *c)
{
	const struct hha_nbd_export *e = &c->sh->exp;
	bool ro = atomic_load(&c->sh->read_only);
	uint16_t f = HHA_NBD_FLAG_HAS_FLAGS | HHA_NBD_FLAG_SEND_CACHE;

	if (ro)
		f |= HHA_NBD_FLAG_READ_ONLY;
	if (e->can_flush)
		f |= HHA_NBD_FLAG_SEND_FLUSH;
	if (e->can_fua)
		f |= HHA_NBD_FLAG_SEND_FUA;
	if (e->can_trim && !ro)
		f |= HHA_NBD_FLAG_SEND_TRIM;
	/* FAST_ZERO is offered so that clients may probe; it always fails fast
	 * with ENOTSUP, which the spec allows. */
	if (e->can_zero && !ro)
		f |= HHA_NBD_FLAG_SEND_WRITE_ZEROES | HHA_NBD_FLAG_SEND_FAST_ZERO;
	/* Reads are answered with one chunk, so "don't fragment" is free. */
	if (c->structured)
		f |= HHA_NBD_FLAG_SEND_DF;
	if (e->can_multi_conn)
		f |= HHA_NBD_FLAG_CAN_MULTI_CONN;
	return f;
}

static void enter_transmission(struct hha_nbd_conn *c, uint16_t tflags, bool bs_agreed)
{
	const struct hha_nbd_export *e = &c->sh->exp;

	/* Read once: an online resize may change it for later clients. */
	c->lim.size = __atomic_load_n(&c->sh->exp.size, __ATOMIC_ACQUIRE);
	c->lim.tflags = tflags;
	c->lim.align = e->min_block;
	c->lim.max_payload = e->max_payload;
	/* Clients that did not agree to our block sizes (the kernel, EXPORT_NAME
	 * clients) may send what the spec tells them is safe: 512-byte aligned
	 * requests of up to 32 MiB. */
	if (!bs_agreed) {
		if (c->lim.align > 512)
			c->lim.align = 512;
		if (c->lim.max_payload < HHA_NBD_COMPAT_MAX_PAYLOAD)
			c->lim.max_payload = HHA_NBD_COMPAT_MAX_PAYLOAD;
	}
	c->state = HHA_NBD_CS_REQ_HDR;
	conn_log(c, HHA_LOG_INFO, "transmission: size %" PRIu64 ", flags 0x%04x, %s replies%s",
		 c->lim.size, tflags, c->structured ? "structured" : "simple",
		 bs_agreed ? ", block sizes agreed" : "");
}

/* A REP_INFO carrying a string (NAME, DESCRIPTION). */
static void info_string(struct hha_nbd_conn *c, uint16_t type, const char *str)
{
	size_t n = strlen(str);
	uint8_t *p = hs_put(c, HHA_NBD_OPT_REPLY_HDR_LEN + 2 + n);

	hha_nbd_encode_opt_reply(p, c->opt.opt, HHA_NBD_REP_INFO, (uint32_t)(2 + n));
	hha_put_be16(p + HHA_NBD_OPT_REPLY_HDR_LEN, type);
	memcpy(p + HHA_NBD_OPT_REPLY_HDR_LEN + 2, str, n);
}

static void opt_info_go(struct hha_nbd_conn *c, const uint8_t *data, uint32_t len)
{
	const struct hha_nbd_export *e = &c->sh->exp;
	struct hha_nbd_info_req ir;
	uint8_t info[HHA_NBD_INFO_BLOCK_SIZE_LEN];
	uint16_t tflags;

	if (hha_nbd_decode_info_req(data, len, &ir) < 0) {
		opt_error(c, HHA_NBD_REP_ERR_INVALID, "malformed %s request",
			  hha_nbd_opt_name(c->opt.opt));
		return;
	}
	if (!export_matches(c, ir.name, ir.name_len)) {
		opt_error(c, HHA_NBD_REP_ERR_UNKNOWN, "unknown export `%.*s'",
			  (int)HHA_MIN(ir.name_len, 64u), ir.name);
		return;
	}
	tflags = transmission_flags(c);
	opt_reply(c, HHA_NBD_REP_INFO, info,
		  (uint32_t)hha_nbd_encode_info_export(info, __atomic_load_n(&c->sh->exp.size, __ATOMIC_ACQUIRE),
						       tflags));
	/* Sent even unasked: it tells people what we prefer, and binds only
	 * clients that asked for it in NBD_OPT_GO. */
	opt_reply(c, HHA_NBD_REP_INFO, info,
		  (uint32_t)hha_nbd_encode_info_block_size(info, e->min_block, e->pref_block,
							   e->max_payload));
	if (hha_nbd_info_req_has(&ir, HHA_NBD_INFO_NAME))
		info_string(c, HHA_NBD_INFO_NAME, e->name);
	if (hha_nbd_info_req_has(&ir, HHA_NBD_INFO_DESCRIPTION) && e->description &&
	    *e->description)
		info_string(c, HHA_NBD_INFO_DESCRIPTION, e->description);
	opt_reply(c, HHA_NBD_REP_ACK, NULL, 0);
	if (c->opt.opt == HHA_NBD_OPT_GO)
		enter_transmission(c, tflags, hha_nbd_info_req_has(&ir, HHA_NBD_INFO_BLOCK_SIZE));
}

static void opt_list(struct hha_nbd_conn *c, uint32_t len)
{
	const struct hha_nbd_export *e = &c->sh->exp;
	size_t nlen = strlen(e->name), dlen = e->description ? strlen(e->description) : 0;
	uint8_t *p;

	if (len) {
		opt_error(c, HHA_NBD_REP_ERR_INVALID, "NBD_OPT_LIST takes no data");
		return;
	}
	/* u32 name length, name, then the description for people. */
	p = hs_put(c, HHA_NBD_OPT_REPLY_HDR_LEN + 4 + nlen + dlen);
	hha_nbd_encode_opt_reply(p, c->opt.opt, HHA_NBD_REP_SERVER, (uint32_t)(4 + nlen + dlen));
	hha_put_be32(p + HHA_NBD_OPT_REPLY_HDR_LEN, (uint32_t)nlen);
	memcpy(p + HHA_NBD_OPT_REPLY_HDR_LEN + 4, e->name, nlen);
	if (dlen)
		memcpy(p + HHA_NBD_OPT_REPLY_HDR_LEN + 4 + nlen, e->description, dlen);
	opt_reply(c, HHA_NBD_REP_ACK, NULL, 0);
}

static void opt_export_name(struct hha_nbd_conn *c, const uint8_t *data, uint32_t len)
{
	uint16_t tflags;

	if (!hha_nbd_string_valid((const char *)data, len) ||
	    !export_matches(c, (const char *)data, len)) {
		conn_close(c, false, "NBD_OPT_EXPORT_NAME: unknown export `%.*s'",
			   (int)HHA_MIN(len, 64u), (const char *)data);
		return;
	}
	tflags = transmission_flags(c);
	c->hs_len += hha_nbd_encode_export_name_reply(c->hs + c->hs_len,
						      __atomic_load_n(&c->sh->exp.size, __ATOMIC_ACQUIRE), tflags,
						      c->client_flags & HHA_NBD_FLAG_C_NO_ZEROES);
	enter_transmission(c, tflags, false);
}

/* One complete option with its data. */
static void handle_option(struct hha_nbd_conn *c, const uint8_t *data, uint32_t len)
{
	uint32_t opt = c->opt.opt;

	conn_log(c, HHA_LOG_DEBUG, "option %s (%" PRIu32 "), %" PRIu32 " bytes",
		 hha_nbd_opt_name(opt), opt, len);
	if (!atomic_load(&c->sh->enabled) && opt != HHA_NBD_OPT_ABORT) {
		if (opt == HHA_NBD_OPT_EXPORT_NAME)
			conn_close(c, false, "export disabled (NBD_OPT_EXPORT_NAME)");
		else
			opt_error(c, HHA_NBD_REP_ERR_SHUTDOWN, "the export is not available now");
		return;
	}
	switch (opt) {
	case HHA_NBD_OPT_EXPORT_NAME:
		opt_export_name(c, data, len);
		break;
	case HHA_NBD_OPT_ABORT:
		opt_reply(c, HHA_NBD_REP_ACK, NULL, 0);
		enter_drain(c);
		break;
	case HHA_NBD_OPT_LIST:
		opt_list(c, len);
		break;
	case HHA_NBD_OPT_INFO:
	case HHA_NBD_OPT_GO:
		opt_info_go(c, data, len);
		break;
	case HHA_NBD_OPT_STRUCTURED_REPLY:
		if (len) {
			opt_error(c, HHA_NBD_REP_ERR_INVALID, "NBD_OPT_STRUCTURED_REPLY takes no data");
			break;
		}
		c->structured = true;
		opt_reply(c, HHA_NBD_REP_ACK, NULL, 0);
		break;
	default:
		/* STARTTLS, META_CONTEXT, EXTENDED_HEADERS and anything unknown. */
		opt_error(c, HHA_NBD_REP_ERR_UNSUP, "option %s (%" PRIu32 ") not supported",
			  hha_nbd_opt_name(opt), opt);
		break;
	}
}

/* ---- transmission ---- */

/* A request header is complete in the staging buffer. Returns false when it
 * must wait for a free slot (the header stays unconsumed). */
static bool handle_request(struct hha_nbd_conn *c)
{
	struct hha_nbd_request r;
	struct hha_nbd_slot *s;
	const char *why = NULL;
	uint32_t werr;
	uint32_t buflen;

	if (hha_nbd_decode_request(c->in + c->rpos, HHA_NBD_REQUEST_LEN, &r) < 0) {
		conn_close(c, true, "bad request magic 0x%08" PRIx32, hha_get_be32(c->in + c->rpos));
		return true;
	}
	if (r.type == HHA_NBD_CMD_DISC) {
		c->rpos += HHA_NBD_REQUEST_LEN;
		conn_log(c, HHA_LOG_DEBUG, "NBD_CMD_DISC");
		enter_drain(c);
		return true;
	}
	werr = hha_nbd_check_request(&c->lim, &r, &why);
	if (werr && r.type == HHA_NBD_CMD_WRITE && r.len > HHA_NBD_DISCARD_MAX) {
		conn_close(c, true, "NBD_CMD_WRITE of %" PRIu32 " bytes is too large to skip", r.len);
		return true;
	}
	buflen = (!werr && (r.type == HHA_NBD_CMD_READ || r.type == HHA_NBD_CMD_WRITE)) ? r.len : 0;
	s = hha_nbd_slot_get(c, buflen);
	if (!s)
		return false;
	c->rpos += HHA_NBD_REQUEST_LEN;
	s->cookie = r.cookie;
	s->type = r.type;
	s->req.cmd = r.type;
	s->req.flags = 0;
	if (r.type == HHA_NBD_CMD_WRITE || r.type == HHA_NBD_CMD_TRIM ||
	    r.type == HHA_NBD_CMD_WRITE_ZEROES)
		s->req.flags |= r.flags & HHA_NBD_REQ_FUA;
	if (r.type == HHA_NBD_CMD_WRITE_ZEROES)
		s->req.flags |= r.flags & HHA_NBD_REQ_NO_HOLE;
	s->req.offset = r.offset;
	s->req.len = r.len;
	s->req.buf = buflen ? s->buf : NULL;
	s->req.backend_priv = NULL;
	if (!werr && buflen && !s->buf) {
		werr = HHA_NBD_ENOMEM;
		why = "out of memory for the request buffer";
	}
	if (werr) {
		conn_log(c, HHA_LOG_DEBUG, "%s offset %" PRIu64 " length %" PRIu32 " flags 0x%x: %s",
			 hha_nbd_cmd_name(r.type), r.offset, r.len, r.flags, why);
		hha_nbd_slot_finish(c, s, werr, why, true);
		if (r.type == HHA_NBD_CMD_WRITE && r.len) {
			c->discard = r.len;
			c->state = HHA_NBD_CS_REQ_DISCARD;
		}
		return true;
	}
	/* Nothing for the backend to do: CACHE, and empty requests. */
	if (r.type == HHA_NBD_CMD_CACHE || (r.len == 0 && r.type != HHA_NBD_CMD_FLUSH)) {
		hha_nbd_slot_finish(c, s, 0, NULL, true);
		return true;
	}
	if (r.type == HHA_NBD_CMD_WRITE) {
		c->cur = s;
		c->dst = s->buf;
		c->dst_len = r.len;
		c->dst_off = 0;
		c->state = HHA_NBD_CS_REQ_PAYLOAD;
		return true;
	}
	hha_nbd_slot_submit(c, s);
	return true;
}

/* Move up to what the destination still needs from the staging buffer. */
static void fill_dst(struct hha_nbd_conn *c)
{
	size_t take = HHA_MIN(c->wpos - c->rpos, c->dst_len - c->dst_off);

	if (take) {
		memcpy(c->dst + c->dst_off, c->in + c->rpos, take);
		c->rpos += take;
		c->dst_off += take;
	}
}

/* The transition function: one step on the input. False when it needs more
 * input (or a free slot). */
static bool conn_step(struct hha_nbd_conn *c)
{
	size_t avail = c->wpos - c->rpos;
	struct hha_nbd_opt_hdr oh;
	uint32_t flags;

	switch (c->state) {
	case HHA_NBD_CS_CLIENT_FLAGS:
		if (avail < HHA_NBD_CLIENT_FLAGS_LEN)
			return false;
		if (hha_nbd_decode_client_flags(c->in + c->rpos, avail, HHA_NBD_CONN_HS_FLAGS,
						&flags) < 0) {
			conn_close(c, true, "unknown client flags 0x%08" PRIx32,
				   hha_get_be32(c->in + c->rpos));
			return true;
		}
		c->rpos += HHA_NBD_CLIENT_FLAGS_LEN;
		c->client_flags = flags;
		c->state = HHA_NBD_CS_OPT_HDR;
		return true;
	case HHA_NBD_CS_OPT_HDR:
		if (avail < HHA_NBD_OPT_HDR_LEN)
			return false;
		if (hha_nbd_decode_opt_hdr(c->in + c->rpos, avail, &oh) < 0) {
			conn_close(c, true, "bad option magic");
			return true;
		}
		if (oh.len > HHA_NBD_OPT_MAX_LEN) {
			conn_close(c, true, "option %s (%" PRIu32 ") of %" PRIu32 " bytes is too long",
				   hha_nbd_opt_name(oh.opt), oh.opt, oh.len);
			return true;
		}
		c->rpos += HHA_NBD_OPT_HDR_LEN;
		c->opt = oh;
		if (oh.len == 0) {
			handle_option(c, NULL, 0);
			return true;
		}
		c->optbuf = malloc(oh.len);
		if (!c->optbuf) {
			conn_close(c, false, "out of memory for an option");
			return true;
		}
		c->dst = c->optbuf;
		c->dst_len = oh.len;
		c->dst_off = 0;
		c->state = HHA_NBD_CS_OPT_DATA;
		return true;
	case HHA_NBD_CS_OPT_DATA:
		fill_dst(c);
		if (c->dst_off < c->dst_len)
			return false;
		c->dst = NULL;
		c->state = HHA_NBD_CS_OPT_HDR;
		handle_option(c, c->optbuf, c->opt.len);
		free(c->optbuf);
		c->optbuf = NULL;
		return true;
	case HHA_NBD_CS_REQ_HDR:
		if (avail < HHA_NBD_REQUEST_LEN)
			return false;
		return handle_request(c);
	case HHA_NBD_CS_REQ_PAYLOAD:
		fill_dst(c);
		if (c->dst_off < c->dst_len)
			return false;
		c->dst = NULL;
		c->state = HHA_NBD_CS_REQ_HDR;
		{
			struct hha_nbd_slot *s = c->cur;

			c->cur = NULL;
			hha_nbd_slot_submit(c, s);
		}
		return true;
	case HHA_NBD_CS_REQ_DISCARD: {
		size_t take = HHA_MIN((uint64_t)avail, c->discard);

		c->rpos += take;
		c->discard -= take;
		if (c->discard)
			return false;
		c->state = HHA_NBD_CS_REQ_HDR;
		return true;
	}
	case HHA_NBD_CS_DRAIN:
	case HHA_NBD_CS_CLOSED:
		return false;
	}
	return false;
}

int hha_nbd_conn_rbufs(struct hha_nbd_conn *c, struct iovec iov[2])
{
	int n = 0;

	c->rb_direct = 0;
	if (c->state == HHA_NBD_CS_DRAIN || c->state == HHA_NBD_CS_CLOSED)
		return 0;
	if (c->rpos == c->wpos) {
		c->rpos = c->wpos = 0;
	} else if (c->rpos > 0 && HHA_NBD_CONN_IN_CAP - c->wpos < HHA_NBD_CONN_IN_CAP / 4) {
		memmove(c->in, c->in + c->rpos, c->wpos - c->rpos);
		c->wpos -= c->rpos;
		c->rpos = 0;
	}
	/* A payload goes straight to its buffer; what follows it lands in the
	 * staging buffer, so one read can carry the next headers too. */
	if (c->dst && c->rpos == c->wpos) {
		iov[n].iov_base = c->dst + c->dst_off;
		iov[n].iov_len = c->dst_len - c->dst_off;
		c->rb_direct = iov[n].iov_len;
		n++;
	}
	if (c->wpos < HHA_NBD_CONN_IN_CAP) {
		iov[n].iov_base = c->in + c->wpos;
		iov[n].iov_len = HHA_NBD_CONN_IN_CAP - c->wpos;
		n++;
	}
	return n;
}

void hha_nbd_conn_received(struct hha_nbd_conn *c, size_t n)
{
	if (c->rb_direct) {
		size_t take = HHA_MIN(n, c->rb_direct);

		c->dst_off += take;
		n -= take;
		c->rb_direct = 0;
	}
	c->wpos += n;
	check_stop(c);
	for (;;) {
		/* Options wait for their replies to be written (bounded output). */
		if (c->hs_off < c->hs_len) {
			hha_nbd_conn_flush(c);
			if (c->hs_off < c->hs_len)
				break;
		}
		if (!conn_step(c))
			break;
	}
}

void hha_nbd_conn_eof(struct hha_nbd_conn *c, int err)
{
	bool boundary = c->rpos == c->wpos && !c->dst;

	if (c->state == HHA_NBD_CS_DRAIN || c->state == HHA_NBD_CS_CLOSED)
		return;
	if (err < 0) {
		conn_close(c, false, "receive failed: %s", hha_strerror(err));
	} else if (c->state >= HHA_NBD_CS_REQ_HDR) {
		/* The client may only have closed its sending side: answer what
		 * it asked for before the end. */
		if (boundary) {
			conn_log(c, HHA_LOG_INFO, "client closed the connection without NBD_CMD_DISC");
		} else {
			conn_log(c, HHA_LOG_WARNING, "connection closed in the middle of a request");
			pthread_mutex_lock(&c->lock);
			c->ctr.protocol_errors++;
			pthread_mutex_unlock(&c->lock);
		}
		enter_drain(c);
	} else if (boundary && (c->state == HHA_NBD_CS_OPT_HDR || c->wpos == 0)) {
		conn_close(c, false, "client left during the handshake");
	} else {
		conn_close(c, true, "connection closed in the middle of the handshake");
	}
}
