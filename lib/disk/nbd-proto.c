/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* NBD wire format: big-endian encoders and length-checked decoders (no I/O). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "disk/nbd-proto.h"

size_t hha_nbd_encode_greeting(uint8_t *p, uint16_t hs_flags)
{
	hha_put_be64(p, HHA_NBD_MAGIC);
	hha_put_be64(p + 8, HHA_NBD_IHAVEOPT);
	hha_put_be16(p + 16, hs_flags);
	return HHA_NBD_GREETING_LEN;
}

int hha_nbd_decode_greeting(const uint8_t *p, size_t n, uint16_t *hs_flags)
{
	if (n < HHA_NBD_GREETING_LEN)
		return -EAGAIN;
	if (hha_get_be64(p) != HHA_NBD_MAGIC || hha_get_be64(p + 8) != HHA_NBD_IHAVEOPT)
		return -EBADMSG;
	*hs_flags = hha_get_be16(p + 16);
	return 0;
}

int hha_nbd_decode_client_flags(const uint8_t *p, size_t n, uint16_t offered, uint32_t *flags)
{
	uint32_t f, known = 0;

	if (n < HHA_NBD_CLIENT_FLAGS_LEN)
		return -EAGAIN;
	f = hha_get_be32(p);
	/* A client bit is only legal when the server offered the matching one. */
	if (offered & HHA_NBD_FLAG_FIXED_NEWSTYLE)
		known |= HHA_NBD_FLAG_C_FIXED_NEWSTYLE;
	if (offered & HHA_NBD_FLAG_NO_ZEROES)
		known |= HHA_NBD_FLAG_C_NO_ZEROES;
	if (f & ~known)
		return -EPROTO;
	*flags = f;
	return 0;
}

size_t hha_nbd_encode_client_flags(uint8_t *p, uint32_t flags)
{
	hha_put_be32(p, flags);
	return HHA_NBD_CLIENT_FLAGS_LEN;
}

int hha_nbd_decode_opt_hdr(const uint8_t *p, size_t n, struct hha_nbd_opt_hdr *out)
{
	if (n < HHA_NBD_OPT_HDR_LEN)
		return -EAGAIN;
	if (hha_get_be64(p) != HHA_NBD_IHAVEOPT)
		return -EBADMSG;
	out->opt = hha_get_be32(p + 8);
	out->len = hha_get_be32(p + 12);
	return 0;
}

size_t hha_nbd_encode_opt_hdr(uint8_t *p, uint32_t opt, uint32_t len)
{
	hha_put_be64(p, HHA_NBD_IHAVEOPT);
	hha_put_be32(p + 8, opt);
	hha_put_be32(p + 12, len);
	return HHA_NBD_OPT_HDR_LEN;
}

size_t hha_nbd_encode_opt_reply(uint8_t *p, uint32_t opt, uint32_t type, uint32_t len)
{
	hha_put_be64(p, HHA_NBD_OPT_REPLY_MAGIC);
	hha_put_be32(p + 8, opt);
	hha_put_be32(p + 12, type);
	hha_put_be32(p + 16, len);
	return HHA_NBD_OPT_REPLY_HDR_LEN;
}

int hha_nbd_decode_opt_reply(const uint8_t *p, size_t n, struct hha_nbd_opt_reply *out)
{
	if (n < HHA_NBD_OPT_REPLY_HDR_LEN)
		return -EAGAIN;
	if (hha_get_be64(p) != HHA_NBD_OPT_REPLY_MAGIC)
		return -EBADMSG;
	out->opt = hha_get_be32(p + 8);
	out->type = hha_get_be32(p + 12);
	out->len = hha_get_be32(p + 16);
	return 0;
}

bool hha_nbd_string_valid(const char *s, size_t len)
{
	return len <= HHA_NBD_MAX_STRING && (len == 0 || !memchr(s, '\0', len));
}

int hha_nbd_decode_info_req(const uint8_t *data, uint32_t len, struct hha_nbd_info_req *out)
{
	uint32_t name_len;
	uint16_t n_info;

	/* u32 name length + u16 count are the minimum; check in 64 bits so no sum wraps. */
	if (len < 6)
		return -EINVAL;
	name_len = hha_get_be32(data);
	if ((uint64_t)name_len + 6 > len)
		return -EINVAL;
	n_info = hha_get_be16(data + 4 + name_len);
	if ((uint64_t)name_len + 6 + 2 * (uint64_t)n_info != len)
		return -EINVAL;
	if (!hha_nbd_string_valid((const char *)data + 4, name_len))
		return -EINVAL;
	out->name = (const char *)data + 4;
	out->name_len = name_len;
	out->n_info = n_info;
	out->info = data + 4 + name_len + 2;
	return 0;
}

bool hha_nbd_info_req_has(const struct hha_nbd_info_req *req, uint16_t type)
{
	for (uint16_t i = 0; i < req->n_info; i++)
		if (hha_get_be16(req->info + 2 * i) == type)
			return true;
	return false;
}

size_t hha_nbd_encode_info_req(uint8_t *p, const char *name, uint32_t name_len,
			       const uint16_t *info, uint16_t n_info)
{
	hha_put_be32(p, name_len);
	if (name_len)
		memcpy(p + 4, name, name_len);
	hha_put_be16(p + 4 + name_len, n_info);
	for (uint16_t i = 0; i < n_info; i++)
		hha_put_be16(p + 6 + name_len + 2 * i, info[i]);
	return 6 + (size_t)name_len + 2 * (size_t)n_info;
}

size_t hha_nbd_encode_info_export(uint8_t *p, uint64_t size, uint16_t tflags)
{
	hha_put_be16(p, HHA_NBD_INFO_EXPORT);
	hha_put_be64(p + 2, size);
	hha_put_be16(p + 10, tflags);
	return HHA_NBD_INFO_EXPORT_LEN;
}

size_t hha_nbd_encode_info_block_size(uint8_t *p, uint32_t min, uint32_t pref, uint32_t max)
{
	hha_put_be16(p, HHA_NBD_INFO_BLOCK_SIZE);
	hha_put_be32(p + 2, min);
	hha_put_be32(p + 6, pref);
	hha_put_be32(p + 10, max);
	return HHA_NBD_INFO_BLOCK_SIZE_LEN;
}

size_t hha_nbd_encode_export_name_reply(uint8_t *p, uint64_t size, uint16_t tflags,
					bool no_zeroes)
{
	hha_put_be64(p, size);
	hha_put_be16(p + 8, tflags);
	if (no_zeroes)
		return HHA_NBD_EXPORT_NAME_REPLY_LEN;
	memset(p + HHA_NBD_EXPORT_NAME_REPLY_LEN, 0, HHA_NBD_EXPORT_NAME_ZEROES);
	return HHA_NBD_EXPORT_NAME_REPLY_LEN + HHA_NBD_EXPORT_NAME_ZEROES;
}

int hha_nbd_decode_request(const uint8_t *p, size_t n, struct hha_nbd_request *out)
{
	if (n < HHA_NBD_REQUEST_LEN)
		return -EAGAIN;
	if (hha_get_be32(p) != HHA_NBD_REQUEST_MAGIC)
		return -EBADMSG;
	out->flags = hha_get_be16(p + 4);
	out->type = hha_get_be16(p + 6);
	out->cookie = hha_get_be64(p + 8);
	out->offset = hha_get_be64(p + 16);
	out->len = hha_get_be32(p + 24);
	return 0;
}

size_t hha_nbd_encode_request(uint8_t *p, const struct hha_nbd_request *req)
{
	hha_put_be32(p, HHA_NBD_REQUEST_MAGIC);
	hha_put_be16(p + 4, req->flags);
	hha_put_be16(p + 6, req->type);
	hha_put_be64(p + 8, req->cookie);
	hha_put_be64(p + 16, req->offset);
	hha_put_be32(p + 24, req->len);
	return HHA_NBD_REQUEST_LEN;
}

size_t hha_nbd_encode_simple_reply(uint8_t *p, uint32_t error, uint64_t cookie)
{
	hha_put_be32(p, HHA_NBD_SIMPLE_REPLY_MAGIC);
	hha_put_be32(p + 4, error);
	hha_put_be64(p + 8, cookie);
	return HHA_NBD_SIMPLE_REPLY_LEN;
}

int hha_nbd_decode_simple_reply(const uint8_t *p, size_t n, uint32_t *error, uint64_t *cookie)
{
	if (n < HHA_NBD_SIMPLE_REPLY_LEN)
		return -EAGAIN;
	if (hha_get_be32(p) != HHA_NBD_SIMPLE_REPLY_MAGIC)
		return -EBADMSG;
	*error = hha_get_be32(p + 4);
	*cookie = hha_get_be64(p + 8);
	return 0;
}

size_t hha_nbd_encode_chunk(uint8_t *p, const struct hha_nbd_chunk *c)
{
	hha_put_be32(p, HHA_NBD_STRUCTURED_REPLY_MAGIC);
	hha_put_be16(p + 4, c->flags);
	hha_put_be16(p + 6, c->type);
	hha_put_be64(p + 8, c->cookie);
	hha_put_be32(p + 16, c->len);
	return HHA_NBD_CHUNK_HDR_LEN;
}

int hha_nbd_decode_chunk(const uint8_t *p, size_t n, struct hha_nbd_chunk *out)
{
	struct hha_nbd_chunk c;

	if (n < HHA_NBD_CHUNK_HDR_LEN)
		return -EAGAIN;
	if (hha_get_be32(p) != HHA_NBD_STRUCTURED_REPLY_MAGIC)
		return -EBADMSG;
	c.flags = hha_get_be16(p + 4);
	c.type = hha_get_be16(p + 6);
	c.cookie = hha_get_be64(p + 8);
	c.len = hha_get_be32(p + 16);
	switch (c.type) {
	case HHA_NBD_REPLY_TYPE_NONE:
		if (c.len != 0 || !(c.flags & HHA_NBD_REPLY_FLAG_DONE))
			return -EINVAL;
		break;
	case HHA_NBD_REPLY_TYPE_OFFSET_DATA:
		if (c.len < 9)
			return -EINVAL;
		break;
	case HHA_NBD_REPLY_TYPE_OFFSET_HOLE:
		if (c.len != 12)
			return -EINVAL;
		break;
	default:
		if ((c.type & 0x8000) && c.len < 6)
			return -EINVAL;
		break;
	}
	*out = c;
	return 0;
}

size_t hha_nbd_encode_offset_data(uint8_t *p, uint16_t flags, uint64_t cookie, uint64_t offset,
				  uint32_t data_len)
{
	struct hha_nbd_chunk c = {
		.flags = flags,
		.type = HHA_NBD_REPLY_TYPE_OFFSET_DATA,
		.cookie = cookie,
		.len = data_len + 8,
	};

	hha_nbd_encode_chunk(p, &c);
	hha_put_be64(p + HHA_NBD_CHUNK_HDR_LEN, offset);
	return HHA_NBD_OFFSET_DATA_HDR_LEN;
}

size_t hha_nbd_encode_error_chunk(uint8_t *p, size_t cap, uint16_t flags, uint64_t cookie,
				  uint32_t error, const char *msg)
{
	size_t mlen = msg ? strlen(msg) : 0;
	struct hha_nbd_chunk c = {
		.flags = flags,
		.type = HHA_NBD_REPLY_TYPE_ERROR,
		.cookie = cookie,
	};

	if (mlen > cap - HHA_NBD_ERROR_CHUNK_MIN)
		mlen = cap - HHA_NBD_ERROR_CHUNK_MIN;
	if (mlen > HHA_NBD_MAX_STRING)
		mlen = HHA_NBD_MAX_STRING;
	c.len = (uint32_t)(6 + mlen);
	hha_nbd_encode_chunk(p, &c);
	hha_put_be32(p + HHA_NBD_CHUNK_HDR_LEN, error);
	hha_put_be16(p + HHA_NBD_CHUNK_HDR_LEN + 4, (uint16_t)mlen);
	if (mlen)
		memcpy(p + HHA_NBD_ERROR_CHUNK_MIN, msg, mlen);
	return HHA_NBD_ERROR_CHUNK_MIN + mlen;
}

uint32_t hha_nbd_errno_to_wire(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return 0;
	case EPERM:
	case EROFS:
	case EACCES:
		return HHA_NBD_EPERM;
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return HHA_NBD_ENOSPC;
	case EINVAL:
		return HHA_NBD_EINVAL;
	case ENOMEM:
		return HHA_NBD_ENOMEM;
	case EOVERFLOW:
		return HHA_NBD_EOVERFLOW;
	case ENOTSUP:
		return HHA_NBD_ENOTSUP;
	case ESHUTDOWN:
		return HHA_NBD_ESHUTDOWN;
	default:
		return HHA_NBD_EIO;
	}
}

const char *hha_nbd_opt_name(uint32_t opt)
{
	static const char *const names[] = {
		[HHA_NBD_OPT_EXPORT_NAME] = "NBD_OPT_EXPORT_NAME",
		[HHA_NBD_OPT_ABORT] = "NBD_OPT_ABORT",
		[HHA_NBD_OPT_LIST] = "NBD_OPT_LIST",
		[4] = "NBD_OPT_PEEK_EXPORT",
		[HHA_NBD_OPT_STARTTLS] = "NBD_OPT_STARTTLS",
		[HHA_NBD_OPT_INFO] = "NBD_OPT_INFO",
		[HHA_NBD_OPT_GO] = "NBD_OPT_GO",
		[HHA_NBD_OPT_STRUCTURED_REPLY] = "NBD_OPT_STRUCTURED_REPLY",
		[HHA_NBD_OPT_LIST_META_CONTEXT] = "NBD_OPT_LIST_META_CONTEXT",
		[HHA_NBD_OPT_SET_META_CONTEXT] = "NBD_OPT_SET_META_CONTEXT",
		[HHA_NBD_OPT_EXTENDED_HEADERS] = "NBD_OPT_EXTENDED_HEADERS",
	};

	if (opt < sizeof(names) / sizeof(names[0]) && names[opt])
		return names[opt];
	return "unknown";
}

const char *hha_nbd_cmd_name(uint16_t type)
{
	static const char *const names[] = {
		[HHA_NBD_CMD_READ] = "NBD_CMD_READ",
		[HHA_NBD_CMD_WRITE] = "NBD_CMD_WRITE",
		[HHA_NBD_CMD_DISC] = "NBD_CMD_DISC",
		[HHA_NBD_CMD_FLUSH] = "NBD_CMD_FLUSH",
		[HHA_NBD_CMD_TRIM] = "NBD_CMD_TRIM",
		[HHA_NBD_CMD_CACHE] = "NBD_CMD_CACHE",
		[HHA_NBD_CMD_WRITE_ZEROES] = "NBD_CMD_WRITE_ZEROES",
		[HHA_NBD_CMD_BLOCK_STATUS] = "NBD_CMD_BLOCK_STATUS",
	};

	if (type < sizeof(names) / sizeof(names[0]) && names[type])
		return names[type];
	return "unknown";
}

uint32_t hha_nbd_check_request(const struct hha_nbd_limits *lim, const struct hha_nbd_request *r,
			       const char **why)
{
	bool ro = lim->tflags & HHA_NBD_FLAG_READ_ONLY;
	uint16_t allowed = 0;
	uint16_t need = 0;

	switch (r->type) {
	case HHA_NBD_CMD_READ:
		if (lim->tflags & HHA_NBD_FLAG_SEND_DF)
			allowed |= HHA_NBD_CMD_FLAG_DF;
		break;
	case HHA_NBD_CMD_WRITE:
		break;
	case HHA_NBD_CMD_FLUSH:
		need = HHA_NBD_FLAG_SEND_FLUSH;
		break;
	case HHA_NBD_CMD_TRIM:
		need = HHA_NBD_FLAG_SEND_TRIM;
		break;
	case HHA_NBD_CMD_CACHE:
		need = HHA_NBD_FLAG_SEND_CACHE;
		break;
	case HHA_NBD_CMD_WRITE_ZEROES:
		need = HHA_NBD_FLAG_SEND_WRITE_ZEROES;
		allowed |= HHA_NBD_CMD_FLAG_NO_HOLE;
		if (lim->tflags & HHA_NBD_FLAG_SEND_FAST_ZERO)
			allowed |= HHA_NBD_CMD_FLAG_FAST_ZERO;
		break;
	default:
		*why = "unknown command";
		return HHA_NBD_EINVAL;
	}
	/* Write-class commands on a read-only export are EPERM even though the
	 * read-only flags hide TRIM and WRITE_ZEROES (the spec asks for EPERM). */
	if (ro && (r->type == HHA_NBD_CMD_WRITE || r->type == HHA_NBD_CMD_TRIM ||
		   r->type == HHA_NBD_CMD_WRITE_ZEROES)) {
		*why = "the export is read-only";
		return HHA_NBD_EPERM;
	}
	if (need && !(lim->tflags & need)) {
		*why = "command not offered by this export";
		return HHA_NBD_EINVAL;
	}
	if (lim->tflags & HHA_NBD_FLAG_SEND_FUA)
		allowed |= HHA_NBD_CMD_FLAG_FUA;
	if (r->flags & ~allowed) {
		*why = "command flag not valid for this command or not offered";
		return HHA_NBD_EINVAL;
	}
	if (r->type == HHA_NBD_CMD_FLUSH) {
		if (r->offset || r->len) {
			*why = "flush with nonzero offset or length";
			return HHA_NBD_EINVAL;
		}
		return 0;
	}
	if ((r->type == HHA_NBD_CMD_READ || r->type == HHA_NBD_CMD_WRITE) &&
	    r->len > lim->max_payload) {
		*why = "length above the maximum block size";
		return HHA_NBD_EINVAL;
	}
	if ((r->offset | r->len) & (uint64_t)(lim->align - 1)) {
		*why = "offset or length not aligned to the minimum block size";
		return HHA_NBD_EINVAL;
	}
	if (r->offset > lim->size || r->len > lim->size - r->offset) {
		*why = "request beyond the end of the export";
		if (r->type == HHA_NBD_CMD_WRITE || r->type == HHA_NBD_CMD_WRITE_ZEROES)
			return HHA_NBD_ENOSPC;
		return HHA_NBD_EINVAL;
	}
	if (r->flags & HHA_NBD_CMD_FLAG_FAST_ZERO) {
		*why = "fast zeroing is not supported";
		return HHA_NBD_ENOTSUP;
	}
	return 0;
}
