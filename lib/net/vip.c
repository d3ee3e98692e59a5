/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Virtual IPs: add and remove through libnl-route-3, query the kernel (the only source of truth). */
#include "config.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/if_addr.h>
#include <netlink/errno.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>

#include <hybridha/vip.h>

#include "core/internal.h"
#include "net/nlmon.h"

struct vaddr {
	int family, prefixlen; /* prefixlen -1 when not given */
	uint8_t bytes[16];
	char text[INET6_ADDRSTRLEN];
};

static int parse_vaddr(const char *s, bool need_prefix, struct vaddr *v)
{
	const char *slash = s ? strchr(s, '/') : NULL;
	size_t len = slash ? (size_t)(slash - s) : (s ? strlen(s) : 0);
	char *end;
	long p;

	if (!s || len == 0 || len >= sizeof(v->text) || (need_prefix && !slash))
		return -EINVAL;
	memcpy(v->text, s, len);
	v->text[len] = '\0';
	if (inet_pton(AF_INET, v->text, v->bytes) == 1)
		v->family = AF_INET;
	else if (inet_pton(AF_INET6, v->text, v->bytes) == 1)
		v->family = AF_INET6;
	else
		return -EINVAL;
	v->prefixlen = -1;
	if (slash) {
		errno = 0;
		p = strtol(slash + 1, &end, 10);
		if (errno || end == slash + 1 || *end || p < 0 || p > (v->family == AF_INET ? 32 : 128))
			return -EINVAL;
		v->prefixlen = (int)p;
	}
	return 0;
}

static bool same(const struct hb_nladdr *a, const struct vaddr *v)
{
	return a->family == v->family && memcmp(a->addr, v->bytes, v->family == AF_INET ? 4 : 16) == 0;
}

static void fill_info(const struct hb_nladdr *a, struct hha_vip_info *out)
{
	memset(out, 0, sizeof(*out));
	inet_ntop(a->family, a->addr, out->address, sizeof(out->address));
	out->prefixlen = a->prefixlen;
	out->family = a->family;
	out->ifindex = a->ifindex;
	if (!if_indextoname((unsigned)a->ifindex, out->dev))
		snprintf(out->dev, sizeof(out->dev), "if%d", a->ifindex);
	snprintf(out->label, sizeof(out->label), "%s", a->label);
	out->ours = a->proto == HB_IFA_PROTO_HHA;
	out->secondary = a->family == AF_INET && (a->flags & IFA_F_SECONDARY);
	out->tentative = (a->flags & IFA_F_TENTATIVE) && !(a->flags & IFA_F_DADFAILED);
	out->dadfailed = a->flags & IFA_F_DADFAILED;
}

/* Find @v in the kernel (on @ifindex if > 0). 0 found, -ENOENT, -errno. */
static int find(const struct vaddr *v, int ifindex, struct hb_nladdr *found)
{
	struct hb_nladdr *all = NULL;
	size_t n = 0;
	int r = hb_nl_dump_addrs(&all, &n);

	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < n; i++) {
		if (!same(&all[i], v) || (ifindex > 0 && all[i].ifindex != ifindex))
			continue;
		*found = all[i];
		r = 0;
		break;
	}
	free(all);
	return r;
}

/* An address that is an interface's own (not tagged by us, and primary for IPv4). */
static bool is_own_address(const struct hb_nladdr *a)
{
	if (a->proto == HB_IFA_PROTO_HHA)
		return false;
	return a->family == AF_INET6 || !(a->flags & IFA_F_SECONDARY);
}

static int nl_to_errno(int nlerr)
{
	switch (-nlerr) {
	case NLE_PERM: return -EPERM;
	case NLE_NODEV: return -ENODEV;
	case NLE_EXIST: return -EEXIST;
	case NLE_NOADDR: return -EADDRNOTAVAIL;
	case NLE_INVAL: return -EINVAL;
	case NLE_NOMEM: return -ENOMEM;
	case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
	default: return -EIO;
	}
}

/* Build and send RTM_NEWADDR / RTM_DELADDR with libnl; our tag added by hand (libnl 3.7 lacks it). */
static int addr_request(bool add, const struct vaddr *v, int ifindex, const char *label, bool nodad)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct rtnl_addr *ra = rtnl_addr_alloc();
	struct nl_addr *local = NULL;
	struct nl_msg *msg = NULL;
	char text[64];
	int r;

	if (!sk || !ra) {
		r = -NLE_NOMEM;
		goto out;
	}
	snprintf(text, sizeof(text), "%s/%d", v->text, v->prefixlen);
	if ((r = nl_connect(sk, NETLINK_ROUTE)) < 0 ||
	    (r = nl_addr_parse(text, v->family, &local)) < 0)
		goto out;
	rtnl_addr_set_ifindex(ra, ifindex);
	if ((r = rtnl_addr_set_local(ra, local)) < 0)
		goto out;
	if (label && (r = rtnl_addr_set_label(ra, label)) < 0)
		goto out;
	if (nodad)
		rtnl_addr_set_flags(ra, IFA_F_NODAD);
	r = add ? rtnl_addr_build_add_request(ra, NLM_F_EXCL, &msg)
		: rtnl_addr_build_delete_request(ra, 0, &msg);
	if (r < 0)
		goto out;
	if (add && (r = nla_put_u8(msg, IFA_PROTO, HB_IFA_PROTO_HHA)) < 0)
		goto out;
	if ((r = nl_send_auto(sk, msg)) >= 0)
		r = nl_wait_for_ack(sk);
out:
	nlmsg_free(msg);
	nl_addr_put(local);
	rtnl_addr_put(ra);
	nl_socket_free(sk);
	return r < 0 ? nl_to_errno(r) : 0;
}

static int dev_index(const char *func, const char *dev)
{
	unsigned idx = dev && strlen(dev) < IFNAMSIZ ? if_nametoindex(dev) : 0;

	if (!idx)
		return hha_error(-ENODEV, func, "no interface `%s'", dev ? dev : "(null)");
	return (int)idx;
}

int hha_vip_add(struct hha_ctx *ctx, const char *addr_prefix, const char *dev,
		const struct hha_vip_opts *opts)
{
	struct hha_vip_opts o = { 0 };
	struct vaddr v;
	struct hb_nladdr cur;
	char other[IFNAMSIZ];
	int idx, r;

	if (opts)
		memcpy(&o, opts, HHA_MIN(opts->size ? opts->size : sizeof(o), sizeof(o)));
	if (parse_vaddr(addr_prefix, true, &v) < 0)
		return hha_error(-EINVAL, __func__, "invalid address `%s' (expected ADDR/PREFIX)",
				 addr_prefix ? addr_prefix : "(null)");
	if (o.label && (strlen(o.label) == 0 || strlen(o.label) >= IFNAMSIZ || v.family != AF_INET))
		return hha_error(-EINVAL, __func__, "invalid label `%s' (IPv4 only, 1..15 bytes)",
				 o.label);
	if ((idx = dev_index(__func__, dev)) < 0)
		return idx;
	r = find(&v, 0, &cur);
	if (r == 0) {
		if (cur.ifindex != idx) {
			if_indextoname((unsigned)cur.ifindex, other);
			return hha_error(-EADDRINUSE, __func__, "%s is already on %s", v.text, other);
		}
		if (is_own_address(&cur))
			return hha_error(-EADDRINUSE, __func__,
					 "%s is %s's own address, not a VIP: refusing to manage it",
					 v.text, dev);
		hha_dbg(ctx, "net", "VIP %s already on %s", v.text, dev);
		return 1;
	}
	if (r != -ENOENT)
		return hha_error_wrap(r, __func__);
	r = addr_request(true, &v, idx, o.label, o.nodad && v.family == AF_INET6);
	if (r == -EEXIST)
		return 1; /* added by someone else meanwhile: it is there, which is what was asked */
	if (r < 0)
		return hha_error(r, __func__, "cannot add %s to %s: %s", addr_prefix, dev,
				 hha_strerror(r));
	hha_info(ctx, "net", "VIP %s added to %s%s%s", addr_prefix, dev, o.label ? " label " : "",
		 o.label ? o.label : "");
	return 0;
}

int hha_vip_del(struct hha_ctx *ctx, const char *addr_prefix, const char *dev)
{
	struct vaddr v;
	struct hb_nladdr cur;
	int idx, r;

	if (parse_vaddr(addr_prefix, false, &v) < 0)
		return hha_error(-EINVAL, __func__, "invalid address `%s'",
				 addr_prefix ? addr_prefix : "(null)");
	if ((idx = dev_index(__func__, dev)) < 0)
		return idx;
	r = find(&v, idx, &cur);
	if (r == -ENOENT)
		return 1;
	if (r < 0)
		return hha_error_wrap(r, __func__);
	if (is_own_address(&cur))
		return hha_error(-EADDRINUSE, __func__,
				 "%s is %s's own address, not a VIP: refusing to remove it", v.text, dev);
	v.prefixlen = cur.prefixlen; /* the kernel matches on it */
	r = addr_request(false, &v, idx, NULL, false);
	if (r == -EADDRNOTAVAIL)
		return 1;
	if (r < 0)
		return hha_error(r, __func__, "cannot remove %s from %s: %s", v.text, dev,
				 hha_strerror(r));
	hha_info(ctx, "net", "VIP %s removed from %s", v.text, dev);
	return 0;
}

int hha_vip_query(struct hha_ctx *ctx, const char *addr, const char *dev, struct hha_vip_info *out)
{
	struct vaddr v;
	struct hb_nladdr cur;
	int idx = 0, r;

	if (parse_vaddr(addr, false, &v) < 0)
		return hha_error(-EINVAL, __func__, "invalid address `%s'", addr ? addr : "(null)");
	if (dev && (idx = dev_index(__func__, dev)) < 0)
		return idx;
	r = find(&v, idx, &cur);
	if (r == -ENOENT)
		return r;
	if (r < 0)
		return hha_error_wrap(r, __func__);
	if (out)
		fill_info(&cur, out);
	return 0;
}

int hha_vip_list(struct hha_ctx *ctx, struct hha_vip_info **out, size_t *n)
{
	struct hb_nladdr *all = NULL;
	struct hha_vip_info *v;
	size_t cnt = 0, k = 0;
	int r = hb_nl_dump_addrs(&all, &cnt);

	if (r < 0)
		return hha_error_wrap(r, __func__);
	v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (!v) {
		free(all);
		return hha_error(-ENOMEM, __func__, "out of memory");
	}
	for (size_t i = 0; i < cnt; i++)
		if (all[i].proto == HB_IFA_PROTO_HHA)
			fill_info(&all[i], &v[k++]);
	free(all);
	*out = v;
	*n = k;
	return 0;
}

int hha_vip_wait_dad(struct hha_ctx *ctx, const char *addr, const char *dev, unsigned timeout_ms)
{
	int64_t end = hha_now_ms() + timeout_ms;
	struct hha_vip_info info;

	for (;;) {
		int r = hha_vip_query(ctx, addr, dev, &info);
		if (r < 0)
			return r;
		if (info.dadfailed)
			return hha_error(-EADDRNOTAVAIL, __func__,
					 "%s: duplicate address detection failed: another node "
					 "answers for it", addr);
		if (!info.tentative)
			return 0;
		if (hha_now_ms() >= end)
			return hha_error(-ETIMEDOUT, __func__, "%s still tentative after %u ms", addr,
					 timeout_ms);
		nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000 }, NULL);
	}
}

int hha_vip_takeover(struct hha_ctx *ctx, const char *addr_prefix, const char *dev,
		     const struct hha_vip_opts *opts)
{
	struct hha_vip_opts o = { 0 };
	struct vaddr v;
	int r;

	if (opts)
		memcpy(&o, opts, HHA_MIN(opts->size ? opts->size : sizeof(o), sizeof(o)));
	r = hha_vip_add(ctx, addr_prefix, dev, &o);
	if (r < 0)
		return r;
	parse_vaddr(addr_prefix, true, &v);
	if (v.family == AF_INET6 && !o.nodad) {
		r = hha_vip_wait_dad(ctx, v.text, dev, o.dad_timeout_ms ? o.dad_timeout_ms : 3000);
		if (r < 0)
			return r;
	}
	if (o.no_announce)
		return 0;
	return hha_vip_announce(ctx, v.text, dev, o.arp_count ? o.arp_count : 5,
				o.arp_interval_ms ? o.arp_interval_ms : 200);
}
