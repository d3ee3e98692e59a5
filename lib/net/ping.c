/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Ping nodes: ICMP echo to a few addresses, counting how many answer. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "net/ping.h"

void hb_ping_init(struct hb_ping *p, int interval_ms)
{
	memset(p, 0, sizeof(*p));
	p->fd4 = p->fd6 = -1;
	p->interval_ms = interval_ms > 0 ? interval_ms : 1000;
	p->ident = (uint16_t)getpid();
}

int hb_ping_add(struct hb_ping *p, const char *addr)
{
	struct sockaddr_in *s4;
	struct sockaddr_in6 *s6;

	if (p->n >= HB_MAX_PING)
		return -ENOSPC;
	memset(&p->t[p->n], 0, sizeof(p->t[p->n]));
	s4 = (struct sockaddr_in *)&p->t[p->n].sa;
	s6 = (struct sockaddr_in6 *)&p->t[p->n].sa;
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		p->t[p->n].salen = sizeof(*s4);
	} else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		p->t[p->n].salen = sizeof(*s6);
	} else {
		return -EINVAL;
	}
	snprintf(p->t[p->n].text, sizeof(p->t[p->n].text), "%s", addr);
	p->t[p->n].last_reply = -1;
	p->n++;
	return 0;
}

/* Unprivileged "ping" sockets when net.ipv4.ping_group_range allows us, else raw (root). */
static int open_icmp(int family, bool *raw)
{
	int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);

	*raw = false;
	if (fd >= 0)
		return fd;
	fd = socket(family, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, proto);
	*raw = fd >= 0;
	return fd >= 0 ? fd : -errno;
}

static void families(const struct hb_ping *p, bool *need4, bool *need6)
{
	*need4 = *need6 = false;
	for (size_t i = 0; i < p->n; i++) {
		*need4 |= p->t[i].sa.ss_family == AF_INET;
		*need6 |= p->t[i].sa.ss_family == AF_INET6;
	}
}

/* Open the socket of @family into *fd unless it is open already. */
static int open_family(int family, int *fd, bool *raw)
{
	if (*fd >= 0)
		return 0;
	*fd = open_icmp(family, raw);
	if (*fd >= 0)
		return 0;
	int r = *fd;
	*fd = -1;
	if (family == AF_INET)
		return hha_error(r, NULL, "cannot open an ICMP socket for ping nodes: %s "
				 "(allow it with sysctl net.ipv4.ping_group_range, or run as root)",
				 hha_strerror(r));
	return hha_error(r, NULL, "cannot open an ICMPv6 socket for ping nodes: %s", hha_strerror(r));
}

int hb_ping_open(struct hb_ping *p, const struct hha_ctx *ctx)
{
	bool need4, need6;
	int r = 0;

	families(p, &need4, &need6);
	if (need4)
		r = open_family(AF_INET, &p->fd4, &p->raw4);
	if (r == 0 && need6)
		r = open_family(AF_INET6, &p->fd6, &p->raw6);
	if (r < 0) {
		hb_ping_close(p);
		return r;
	}
	hha_dbg(ctx, "net", "ping nodes: %zu, %s ICMP socket", p->n, p->raw4 ? "raw" : "unprivileged");
	return 0;
}

int hb_ping_adopt(struct hb_ping *old, struct hb_ping *next, const struct hha_ctx *ctx)
{
	struct hb_ping fresh = *next;
	bool need4, need6;
	int r = 0;

	/* Keep the sockets still needed, open the missing ones: failing changes nothing. */
	families(next, &need4, &need6);
	fresh.fd4 = need4 ? old->fd4 : -1;
	fresh.raw4 = old->raw4;
	fresh.fd6 = need6 ? old->fd6 : -1;
	fresh.raw6 = old->raw6;
	if (need4)
		r = open_family(AF_INET, &fresh.fd4, &fresh.raw4);
	if (r == 0 && need6)
		r = open_family(AF_INET6, &fresh.fd6, &fresh.raw6);
	if (r < 0) {
		if (fresh.fd4 >= 0 && fresh.fd4 != old->fd4)
			close(fresh.fd4);
		return r;
	}
	for (size_t i = 0; i < fresh.n; i++)
		for (size_t j = 0; j < old->n; j++)
			if (strcmp(fresh.t[i].text, old->t[j].text) == 0) {
				fresh.t[i].last_reply = old->t[j].last_reply;
				fresh.t[i].sent = old->t[j].sent;
				fresh.t[i].received = old->t[j].received;
			}
	fresh.ident = old->ident;
	fresh.seq = old->seq;
	fresh.next_send = old->next_send;
	if (old->fd4 >= 0 && old->fd4 != fresh.fd4)
		close(old->fd4);
	if (old->fd6 >= 0 && old->fd6 != fresh.fd6)
		close(old->fd6);
	*old = fresh;
	hha_dbg(ctx, "net", "ping nodes: %zu", old->n);
	return 0;
}

void hb_ping_close(struct hb_ping *p)
{
	if (p->fd4 >= 0)
		close(p->fd4);
	if (p->fd6 >= 0)
		close(p->fd6);
	p->fd4 = p->fd6 = -1;
}

/* RFC 1071 Internet checksum (raw IPv4 ICMP only; the kernel does it for the others). */
static uint16_t inet_csum(const void *buf, size_t len)
{
	const uint8_t *b = buf;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static void send_echo(struct hb_ping *p, size_t i)
{
	uint8_t pkt[16] = { 0 };
	bool v4 = p->t[i].sa.ss_family == AF_INET;
	int fd = v4 ? p->fd4 : p->fd6;
	uint16_t v;

	if (fd < 0)
		return;
	pkt[0] = v4 ? ICMP_ECHO : ICMP6_ECHO_REQUEST;
	v = htons(p->ident);
	memcpy(pkt + 4, &v, 2);
	v = htons(p->seq);
	memcpy(pkt + 6, &v, 2);
	/* Which target this is, echoed back: ping sockets rewrite the id. */
	pkt[8] = (uint8_t)i;
	if (v4 && p->raw4) {
		uint16_t c = inet_csum(pkt, sizeof(pkt));
		memcpy(pkt + 2, &c, 2);
	}
	if (sendto(fd, pkt, sizeof(pkt), MSG_DONTWAIT, (struct sockaddr *)&p->t[i].sa,
		   p->t[i].salen) == (ssize_t)sizeof(pkt))
		p->t[i].sent++;
}

static bool same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		      &((const struct sockaddr_in6 *)b)->sin6_addr, 16) == 0;
}

static void read_replies(struct hb_ping *p, int fd, bool v4, bool raw, int64_t now)
{
	uint8_t buf[1500];
	struct sockaddr_storage from;

	for (int budget = 64; budget > 0; budget--) {
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		const uint8_t *icmp = buf;
		size_t len;
		uint16_t id;

		if (n < 0)
			return;
		len = (size_t)n;
		if (v4 && raw) {
			/* Raw IPv4 sockets deliver the IP header too. */
			size_t ihl;
			if (len < 20)
				continue;
			ihl = (size_t)(buf[0] & 0x0f) * 4;
			if (ihl < 20 || len < ihl)
				continue;
			icmp += ihl;
			len -= ihl;
		}
		if (len < 9 || icmp[0] != (v4 ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY))
			continue;
		memcpy(&id, icmp + 4, 2);
		if (raw && ntohs(id) != p->ident)
			continue;
		if (icmp[8] >= p->n || !same_addr(&from, &p->t[icmp[8]].sa))
			continue;
		p->t[icmp[8]].last_reply = now;
		p->t[icmp[8]].received++;
	}
}

void hb_ping_dispatch(struct hb_ping *p, int64_t now)
{
	if (p->n == 0)
		return;
	if (p->fd4 >= 0)
		read_replies(p, p->fd4, true, p->raw4, now);
	if (p->fd6 >= 0)
		read_replies(p, p->fd6, false, p->raw6, now);
	if (now < p->next_send)
		return;
	p->seq++;
	for (size_t i = 0; i < p->n; i++)
		send_echo(p, i);
	p->next_send = now + p->interval_ms;
}

int64_t hb_ping_deadline(const struct hb_ping *p)
{
	return p->n ? p->next_send : -1;
}

int hb_ping_reached(const struct hb_ping *p, int64_t now)
{
	int n = 0;

	for (size_t i = 0; i < p->n; i++)
		if (p->t[i].last_reply >= 0 && now - p->t[i].last_reply <= 3 * p->interval_ms)
			n++;
	return n;
}
