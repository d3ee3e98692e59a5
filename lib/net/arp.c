/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Announcing an address: gratuitous ARP (IPv4) and unsolicited neighbour advertisements (IPv6). */
#include "config.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/if_ether.h>
#include <netpacket/packet.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <hybridha/vip.h>

#include "core/internal.h"

static int hwaddr(int fd, const char *dev, uint8_t mac[6])
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return -errno;
	if (ifr.ifr_hwaddr.sa_family != ARPHRD_ETHER)
		return -EOPNOTSUPP;
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return 0;
}

/*
 * Two ARP packets (RFC 5227 section 3 "ARP Announcement"): the request form
 * every client honours, sender IP = target IP = the VIP; and the reply form,
 * whose target MAC must equal the sender MAC, or a Linux client inside its
 * 1 s lock time ignores it.
 */
static int garp(const char *dev, int ifindex, const struct in_addr *ip)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
				  .sll_ifindex = ifindex, .sll_halen = 6 };
	struct ether_arp a;
	uint8_t mac[6];
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP)), r;

	if (fd < 0)
		return -errno;
	if ((r = hwaddr(fd, dev, mac)) < 0)
		goto out;
	memset(to.sll_addr, 0xff, 6);
	memset(&a, 0, sizeof(a));
	a.arp_hrd = htons(ARPHRD_ETHER);
	a.arp_pro = htons(ETH_P_IP);
	a.arp_hln = 6;
	a.arp_pln = 4;
	memcpy(a.arp_sha, mac, 6);
	memcpy(a.arp_spa, ip, 4);
	memcpy(a.arp_tpa, ip, 4);
	a.arp_op = htons(ARPOP_REQUEST);
	memset(a.arp_tha, 0xff, 6);
	if (sendto(fd, &a, sizeof(a), 0, (struct sockaddr *)&to, sizeof(to)) != sizeof(a)) {
		r = -errno;
		goto out;
	}
	a.arp_op = htons(ARPOP_REPLY);
	memcpy(a.arp_tha, mac, 6);
	if (sendto(fd, &a, sizeof(a), 0, (struct sockaddr *)&to, sizeof(to)) != sizeof(a))
		r = -errno;
out:
	close(fd);
	return r;
}

/* RFC 4861 section 7.2.6: unsolicited NA, override set, solicited clear, to all-nodes. */
static int unsolicited_na(const char *dev, int ifindex, const struct in6_addr *ip)
{
	struct sockaddr_in6 src = { .sin6_family = AF_INET6, .sin6_addr = *ip },
			    to = { .sin6_family = AF_INET6, .sin6_scope_id = (uint32_t)ifindex };
	struct {
		struct nd_neighbor_advert na;
		uint8_t opt[8];
	} pkt;
	uint8_t mac[6];
	int hops = 255, r = 0;
	int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);

	if (fd < 0)
		return -errno;
	if ((r = hwaddr(fd, dev, mac)) < 0)
		goto out;
	if (IN6_IS_ADDR_LINKLOCAL(ip))
		src.sin6_scope_id = (uint32_t)ifindex;
	inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
	/* Receivers drop neighbour discovery with a hop limit below 255. */
	if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &ifindex, sizeof(ifindex)) < 0 ||
	    bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
		r = -errno; /* EADDRNOTAVAIL while the address is tentative */
		goto out;
	}
	memset(&pkt, 0, sizeof(pkt));
	pkt.na.nd_na_type = ND_NEIGHBOR_ADVERT;
	pkt.na.nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE;
	pkt.na.nd_na_target = *ip;
	pkt.opt[0] = ND_OPT_TARGET_LINKADDR;
	pkt.opt[1] = 1; /* in units of 8 bytes */
	memcpy(pkt.opt + 2, mac, 6);
	/* The kernel fills in the ICMPv6 checksum on raw ICMPv6 sockets. */
	if (sendto(fd, &pkt, sizeof(pkt), 0, (struct sockaddr *)&to, sizeof(to)) != sizeof(pkt))
		r = -errno;
out:
	close(fd);
	return r;
}

int hha_vip_announce_once(struct hha_ctx *ctx, const char *addr, const char *dev)
{
	char text[INET6_ADDRSTRLEN];
	const char *slash = addr ? strchr(addr, '/') : NULL;
	size_t len = slash ? (size_t)(slash - addr) : (addr ? strlen(addr) : 0);
	struct in6_addr a6;
	struct in_addr a4;
	unsigned idx;
	int r;

	if (!addr || len == 0 || len >= sizeof(text))
		return hha_error(-EINVAL, __func__, "invalid address `%s'", addr ? addr : "(null)");
	memcpy(text, addr, len);
	text[len] = '\0';
	idx = dev && strlen(dev) < IFNAMSIZ ? if_nametoindex(dev) : 0;
	if (!idx)
		return hha_error(-ENODEV, __func__, "no interface `%s'", dev ? dev : "(null)");
	if (inet_pton(AF_INET, text, &a4) == 1)
		r = garp(dev, (int)idx, &a4);
	else if (inet_pton(AF_INET6, text, &a6) == 1)
		r = unsolicited_na(dev, (int)idx, &a6);
	else
		return hha_error(-EINVAL, __func__, "invalid address `%s'", addr);
	if (r == -EOPNOTSUPP)
		return hha_error(r, __func__, "%s is not an Ethernet interface", dev);
	if (r == -EADDRNOTAVAIL)
		return hha_error(r, __func__, "%s is not usable on %s (not held, or still tentative)",
				 text, dev);
	if (r < 0)
		return hha_error(r, __func__, "cannot announce %s on %s: %s", text, dev,
				 hha_strerror(r));
	hha_dbg(ctx, "net", "announced %s on %s", text, dev);
	return 0;
}

int hha_vip_announce(struct hha_ctx *ctx, const char *addr, const char *dev, unsigned count,
		     unsigned interval_ms)
{
	for (unsigned i = 0; i < count; i++) {
		int r;
		if (i > 0) {
			struct timespec ts = { .tv_sec = interval_ms / 1000,
					       .tv_nsec = (long)(interval_ms % 1000) * 1000000 };
			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
		r = hha_vip_announce_once(ctx, addr, dev);
		if (r < 0)
			return r;
	}
	return 0;
}
