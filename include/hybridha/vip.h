/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Virtual IP addresses: add, remove and announce an IPv4 or IPv6 address (docs/vip.md). */
#ifndef HYBRIDHA_VIP_H
#define HYBRIDHA_VIP_H

#include <stdbool.h>

#include <hybridha/ctx.h>

HHA_BEGIN_DECLS

/*
 * The kernel is the only record of which VIPs a node holds: no lock or state
 * files. Addresses added here are tagged in the kernel (IFA_PROTO 0x68,
 * Linux >= 5.18) so they can be told apart from an interface's own
 * addresses. Every call is idempotent and may be made from any thread; each
 * opens its own netlink socket. They need CAP_NET_ADMIN (announcements
 * CAP_NET_RAW).
 */

/* Options for hha_vip_add() and hha_vip_takeover(); zero means the default. */
struct hha_vip_opts {
	size_t size;              /* sizeof(struct hha_vip_opts) */
	const char *label;        /* IPv4 label (at most 15 bytes, e.g. "eth0:ha"), or NULL */
	bool nodad;               /* IPv6: skip duplicate address detection (IFA_F_NODAD) */
	unsigned arp_count;       /* announcements at takeover (default 5; 0 = default) */
	bool no_announce;         /* takeover: do not announce at all */
	unsigned arp_interval_ms; /* between announcements (default 200) */
	unsigned dad_timeout_ms;  /* IPv6: longest wait for DAD before announcing (default 3000) */
};

/* An address held on this machine. */
struct hha_vip_info {
	char address[46];   /* text, without prefix */
	int prefixlen;
	int family;         /* AF_INET or AF_INET6 */
	char dev[16];
	int ifindex;
	char label[16];     /* IPv4 label, "" if none */
	bool ours;          /* added by libhybridha (tagged), i.e. a VIP */
	bool secondary;     /* IPv4: not the first address of its subnet on the interface */
	bool tentative;     /* IPv6: DAD still running; not usable yet */
	bool dadfailed;     /* IPv6: another node answered DAD: the address is in use */
};

/**
 * hha_vip_add - add a VIP to an interface (no announcement; see hha_vip_takeover()).
 * @ctx: context for logging.
 * @addr_prefix: "ADDR/PREFIX", IPv4 or IPv6.
 * @dev: interface name.
 * @opts: options, or NULL for defaults.
 *
 * Return: 0 added; 1 it was already there (success: nothing changed);
 * -EINVAL bad address, prefix or label; -ENODEV no such interface;
 * -EADDRINUSE the address is an interface's own address (not a VIP) or is
 * held on another interface; -EPERM without CAP_NET_ADMIN.
 */
HHA_EXPORT int hha_vip_add(struct hha_ctx *ctx, const char *addr_prefix, const char *dev,
			   const struct hha_vip_opts *opts);

/**
 * hha_vip_del - remove a VIP from an interface.
 * @ctx: context for logging.
 * @addr_prefix: "ADDR/PREFIX" or "ADDR".
 * @dev: interface name.
 *
 * Return: 0 removed; 1 it was not there (success); -EINVAL; -ENODEV;
 * -EADDRINUSE when the address is the interface's own, not a VIP
 * (refused: removing it would take down secondaries, see docs/vip.md);
 * -EPERM.
 */
HHA_EXPORT int hha_vip_del(struct hha_ctx *ctx, const char *addr_prefix, const char *dev);

/**
 * hha_vip_query - is @addr held here?
 * @ctx: context for logging.
 * @addr: "ADDR" or "ADDR/PREFIX" (the prefix is ignored).
 * @dev: interface, or NULL for any.
 * @out: receives what is known about it; may be NULL.
 *
 * Return: 0 held; -ENOENT not held; -EINVAL bad address; -errno from netlink.
 */
HHA_EXPORT int hha_vip_query(struct hha_ctx *ctx, const char *addr, const char *dev,
			     struct hha_vip_info *out);

/**
 * hha_vip_list - every VIP held on this machine (addresses tagged as ours).
 * @ctx: context for logging.
 * @out: receives an array the caller frees with free().
 * @n: receives its length.
 *
 * Return: 0 or -errno.
 */
HHA_EXPORT int hha_vip_list(struct hha_ctx *ctx, struct hha_vip_info **out, size_t *n);

/**
 * hha_vip_announce_once - one announcement of @addr on @dev: a gratuitous ARP
 * request (sender IP = target IP = @addr, broadcast) and its reply form
 * (target MAC = sender MAC) for IPv4; an unsolicited neighbour advertisement
 * with the override flag to ff02::1, hop limit 255, for IPv6.
 *
 * Return: 0; -EINVAL; -ENODEV; -EADDRNOTAVAIL (IPv6: still tentative or not
 * held); -EPERM without CAP_NET_RAW; -errno.
 */
HHA_EXPORT int hha_vip_announce_once(struct hha_ctx *ctx, const char *addr, const char *dev);

/**
 * hha_vip_announce - @count announcements @interval_ms apart, the first at once.
 * Blocks for (count - 1) x interval. Return: as hha_vip_announce_once().
 */
HHA_EXPORT int hha_vip_announce(struct hha_ctx *ctx, const char *addr, const char *dev,
				unsigned count, unsigned interval_ms);

/**
 * hha_vip_wait_dad - wait until IPv6 duplicate address detection of @addr finished.
 * @timeout_ms: longest wait.
 *
 * Return: 0 usable (always at once for IPv4); -ETIMEDOUT; -EADDRNOTAVAIL when
 * DAD failed (another node holds the address); -ENOENT when not held.
 */
HHA_EXPORT int hha_vip_wait_dad(struct hha_ctx *ctx, const char *addr, const char *dev,
				unsigned timeout_ms);

/**
 * hha_vip_takeover - add, wait for DAD (IPv6 unless nodad), then announce
 * arp_count times: what a script runs to take an address over. Blocks.
 *
 * Return: 0 (also when the address was already held: it is re-announced);
 * errors of the three steps.
 */
HHA_EXPORT int hha_vip_takeover(struct hha_ctx *ctx, const char *addr_prefix, const char *dev,
				const struct hha_vip_opts *opts);

HHA_END_DECLS

#endif /* HYBRIDHA_VIP_H */
