/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Heartbeat payloads: TLVs other modules attach, what peers sent, and the lease and ping TLVs. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "net/membership-int.h"

#define ECHO_LEN 8

static bool reserved_type(uint8_t type)
{
	return type >= HHA_PAYLOAD_LEASE && type <= 15; /* membership's own (membership.h) */
}

static size_t payload_size(const struct hha_membership *m, uint8_t skip_type)
{
	/* Room kept for our own lease and ping TLVs, so others cannot crowd them out. */
	size_t total = HB_TLV_HDR + HB_LEASE_GRANT_LEN + HB_TLV_HDR + 2 + HB_TLV_HDR + ECHO_LEN;

	for (size_t i = 0; i < m->ntlv; i++)
		if (m->tlv[i].type != skip_type)
			total += HB_TLV_HDR + m->tlv[i].len;
	return total;
}

int hha_membership_set_payload(struct hha_membership *m, uint8_t type, const void *data,
			       size_t len)
{
	size_t i;
	uint8_t *copy = NULL;

	if (type == 0 || reserved_type(type))
		return hha_error(-EINVAL, __func__, "payload type %u is reserved", type);
	for (i = 0; i < m->ntlv; i++)
		if (m->tlv[i].type == type)
			break;
	if (len == 0) {
		if (i < m->ntlv) {
			free(m->tlv[i].data);
			m->tlv[i] = m->tlv[--m->ntlv];
		}
		return 0;
	}
	if (len > HB_MAX_PAYLOAD || payload_size(m, type) + HB_TLV_HDR + len > HB_MAX_PAYLOAD)
		return hha_error(-EMSGSIZE, __func__,
				 "payload type %u: %zu bytes do not fit (%d bytes for all TLVs)", type,
				 len, HB_MAX_PAYLOAD);
	if (i == m->ntlv && m->ntlv == HB_MAX_TLVS)
		return hha_error(-EMSGSIZE, __func__, "at most %d payload types", HB_MAX_TLVS);
	copy = malloc(len);
	if (!copy)
		return hha_error(-ENOMEM, __func__, "out of memory");
	memcpy(copy, data, len);
	if (i == m->ntlv)
		m->ntlv++;
	else
		free(m->tlv[i].data);
	m->tlv[i] = (struct hb_tlv){ .type = type, .len = (uint16_t)len, .data = copy };
	return 0;
}

void hb_payload_free(struct hha_membership *m)
{
	for (size_t i = 0; i < m->ntlv; i++)
		free(m->tlv[i].data);
	m->ntlv = 0;
}

int hha_membership_peer_payload(const struct hha_membership *m, unsigned node_id, uint8_t type,
				void *buf, size_t *len)
{
	const struct hb_peer *p = node_id < 256 ? m->by_id[node_id] : NULL;
	size_t off = 0;
	uint8_t t;
	const uint8_t *v;
	uint16_t vl;

	if (!p)
		return hha_error(-ENOENT, __func__, "no peer %u", node_id);
	while (hb_tlv_next(p->payload, p->plen, &off, &t, &v, &vl) > 0) {
		if (t != type)
			continue;
		if (*len < vl) {
			*len = vl;
			return hha_error(-ENOBUFS, __func__, "value is %u bytes", vl);
		}
		memcpy(buf, v, vl);
		*len = vl;
		return 0;
	}
	return -ENOENT;
}

int hb_payload_build(struct hha_membership *m, uint8_t *out, size_t cap)
{
	uint8_t lease[HB_LEASE_GRANT_LEN], ping[2];
	struct hb_lease_msg msg;
	size_t off = 0;
	int r = 0, n;

	for (size_t i = 0; i < m->ntlv && r == 0; i++)
		r = hb_tlv_put(out, cap, &off, m->tlv[i].type, m->tlv[i].data, m->tlv[i].len);
	if (m->o.witness) {
		hb_lease_witness_msg(&m->witness, hb_now(m), &msg);
	} else if (m->o.witness_id) {
		hb_lease_client_msg(&m->lease, &msg);
	} else {
		msg.kind = 0;
	}
	if (r == 0 && msg.kind) {
		n = hb_lease_encode(&msg, lease, sizeof(lease));
		r = n < 0 ? n : hb_tlv_put(out, cap, &off, HHA_PAYLOAD_LEASE, lease, (size_t)n);
	}
	if (r == 0 && m->ping.n) {
		int reached = hb_ping_reached(&m->ping, hb_now(m));
		ping[0] = (uint8_t)reached;
		ping[1] = (uint8_t)m->ping.n;
		r = hb_tlv_put(out, cap, &off, HHA_PAYLOAD_PING, ping, sizeof(ping));
	}
	return r < 0 ? r : (int)off;
}

int hb_payload_put_echo(const struct hb_peer *p, uint8_t *buf, size_t cap, size_t *off)
{
	uint8_t v[ECHO_LEN];

	/* The stored floor counts as known: it is an incarnation the peer really had. */
	hha_put_be64(v, p->incarnation);
	return hb_tlv_put(buf, cap, off, HHA_PAYLOAD_ECHO, v, sizeof(v));
}

uint64_t hb_payload_echo(const uint8_t *payload, size_t len)
{
	size_t off = 0;
	uint8_t t;
	const uint8_t *v;
	uint16_t vl;

	while (hb_tlv_next(payload, len, &off, &t, &v, &vl) > 0)
		if (t == HHA_PAYLOAD_ECHO)
			return vl == ECHO_LEN ? hha_get_be64(v) : 0;
	return 0;
}

void hb_payload_received(struct hha_membership *m, struct hb_peer *p, const struct hb_hdr *h,
			 const uint8_t *payload, int64_t now)
{
	size_t off = 0;
	uint8_t t;
	const uint8_t *v;
	uint16_t vl;
	struct hb_lease_msg msg;

	memcpy(p->payload, payload, h->payload_len);
	p->plen = h->payload_len;
	while (hb_tlv_next(payload, h->payload_len, &off, &t, &v, &vl) > 0) {
		if (t == HHA_PAYLOAD_PING && vl >= 1) {
			p->ping_reached = v[0];
		} else if (t == HHA_PAYLOAD_LEASE && hb_lease_decode(v, vl, &msg) == 0) {
			if (m->o.witness && msg.kind == HB_LEASE_REQUEST)
				hb_lease_witness_request(&m->witness, (uint16_t)p->id, h->incarnation,
							 h->seq, msg.want, now);
			else if (!m->o.witness && p->id == m->o.witness_id &&
				 msg.kind == HB_LEASE_GRANT)
				hb_lease_client_grant(&m->lease, (uint16_t)m->o.self_id, &msg);
		}
	}
}

int hha_membership_lease_want(struct hha_membership *m, bool want)
{
	if (m->o.witness || !m->o.witness_id)
		return hha_error(-HHA_ESTATE, __func__,
				 m->o.witness ? "the witness does not hold leases" : "no witness configured");
	hb_lease_client_want(&m->lease, want);
	return 0;
}

int hha_membership_lease(const struct hha_membership *m, struct hha_lease_info *out)
{
	int64_t now = hb_now(m);

	memset(out, 0, sizeof(*out));
	if (m->o.witness) {
		out->holder = m->witness.state == HB_WITNESS_HELD ? m->witness.holder : 0;
		out->epoch = m->witness.epoch;
		return 0;
	}
	if (!m->o.witness_id)
		return hha_error(-HHA_ESTATE, __func__, "no witness configured");
	out->held = hb_lease_client_held(&m->lease, now);
	out->holder = m->lease.holder;
	out->epoch = m->lease.epoch;
	out->valid_until_ms = out->held ? m->lease.valid_until : 0;
	out->wanted = m->lease.want;
	return 0;
}
