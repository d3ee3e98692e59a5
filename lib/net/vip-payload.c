/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The heartbeat TLV that tells peers which VIPs a node holds (layout in vip-payload.h). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "net/vip-payload.h"

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

static bool dev_ok(const char *dev, size_t len)
{
	if (len == 0 || len > 15)
		return false;
	for (size_t i = 0; i < len; i++)
		if (dev[i] <= ' ' || dev[i] > '~' || dev[i] == '/')
			return false;
	return true;
}

int hha_vip_payload_encode(const struct hha_vip_held *v, size_t n, uint8_t *buf)
{
	size_t pos = 3, cnt = 0;

	buf[0] = HHA_VIP_PAYLOAD_VERSION;
	buf[1] = 0;
	for (size_t i = 0; i < n; i++) {
		size_t al = addr_len(v[i].family), dl = strnlen(v[i].dev, sizeof(v[i].dev));
		if (!al || v[i].prefixlen > al * 8 || !dev_ok(v[i].dev, dl))
			return -EINVAL;
		if (cnt == HHA_VIP_PAYLOAD_ENTRIES || pos + 4 + al + dl > HHA_VIP_PAYLOAD_MAX) {
			buf[1] |= 1;
			break;
		}
		buf[pos++] = v[i].family == AF_INET ? 4 : 6;
		buf[pos++] = (uint8_t)v[i].prefixlen;
		memcpy(buf + pos, v[i].addr, al);
		pos += al;
		buf[pos++] = (uint8_t)((v[i].tentative ? 1 : 0) | (v[i].dadfailed ? 2 : 0));
		buf[pos++] = (uint8_t)dl;
		memcpy(buf + pos, v[i].dev, dl);
		pos += dl;
		cnt++;
	}
	buf[2] = (uint8_t)cnt;
	return (int)pos;
}

int hha_vip_payload_decode(const uint8_t *buf, size_t len, struct hha_vip_held *out, size_t *n,
			   bool *truncated)
{
	size_t pos = 3, cnt;

	if (len < 3 || buf[0] != HHA_VIP_PAYLOAD_VERSION || (buf[1] & ~1u) ||
	    buf[2] > HHA_VIP_PAYLOAD_ENTRIES)
		return -EBADMSG;
	cnt = buf[2];
	for (size_t i = 0; i < cnt; i++) {
		struct hha_vip_held *v = &out[i];
		size_t al, dl;

		if (len - pos < 2)
			return -EBADMSG;
		memset(v, 0, sizeof(*v));
		v->family = buf[pos] == 4 ? AF_INET : buf[pos] == 6 ? AF_INET6 : 0;
		al = addr_len(v->family);
		v->prefixlen = buf[pos + 1];
		if (!al || v->prefixlen > al * 8)
			return -EBADMSG;
		pos += 2;
		if (len - pos < al + 2)
			return -EBADMSG;
		memcpy(v->addr, buf + pos, al);
		pos += al;
		if (buf[pos] & ~3u)
			return -EBADMSG;
		v->tentative = buf[pos] & 1;
		v->dadfailed = buf[pos] & 2;
		dl = buf[pos + 1];
		pos += 2;
		if (len - pos < dl || !dev_ok((const char *)buf + pos, dl))
			return -EBADMSG;
		memcpy(v->dev, buf + pos, dl);
		pos += dl;
	}
	if (pos != len)
		return -EBADMSG;
	*n = cnt;
	*truncated = buf[1] & 1;
	return 0;
}

void hha_vip_held_text(const struct hha_vip_held *v, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN] = "?";

	inet_ntop(v->family, v->addr, a, sizeof(a));
	snprintf(buf, size, "%s/%u", a, v->prefixlen);
}
