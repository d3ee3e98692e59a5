/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel's addresses and links over rtnetlink (libmnl): one-shot dumps and a live monitor. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <net/if.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "net/nlmon.h"

#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000 /* linux/if.h; glibc's net/if.h lacks it */
#endif
/* Large enough for a dump batch (libmnl's MNL_SOCKET_BUFFER_SIZE is a run-time value). */
#define NLBUF 32768

struct hb_nlmon {
	struct mnl_socket *nl;
	hb_nl_cb cb;
	void *ud;
};

struct attrs {
	const struct nlattr *tb[IFA_MAX + 1 > IFLA_MAX + 1 ? IFA_MAX + 1 : IFLA_MAX + 1];
	int max;
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attrs *at = data;
	int type = mnl_attr_get_type(a);

	if (mnl_attr_type_valid(a, at->max) > 0)
		at->tb[type] = a;
	return MNL_CB_OK;
}

/* Parse one RTM_NEWADDR / RTM_DELADDR; false when it is not one we understand. */
static bool parse_addr(const struct nlmsghdr *nlh, struct hb_nladdr *a)
{
	const struct ifaddrmsg *ifa;
	struct attrs at = { .max = IFA_MAX };
	const struct nlattr *addr;
	size_t alen;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifa)))
		return false;
	ifa = mnl_nlmsg_get_payload(nlh);
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return false;
	memset(a, 0, sizeof(*a));
	mnl_attr_parse(nlh, sizeof(*ifa), attr_cb, &at);
	/* IFA_LOCAL is the address itself on point-to-point links; IFA_ADDRESS elsewhere. */
	addr = at.tb[IFA_LOCAL] ? at.tb[IFA_LOCAL] : at.tb[IFA_ADDRESS];
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	if (!addr || mnl_attr_get_payload_len(addr) != alen)
		return false;
	a->family = ifa->ifa_family;
	a->ifindex = (int)ifa->ifa_index;
	a->prefixlen = ifa->ifa_prefixlen;
	memcpy(a->addr, mnl_attr_get_payload(addr), alen);
	a->flags = ifa->ifa_flags;
	if (at.tb[IFA_FLAGS] && mnl_attr_get_payload_len(at.tb[IFA_FLAGS]) >= 4)
		a->flags = mnl_attr_get_u32(at.tb[IFA_FLAGS]);
	if (at.tb[IFA_PROTO] && mnl_attr_get_payload_len(at.tb[IFA_PROTO]) >= 1)
		a->proto = mnl_attr_get_u8(at.tb[IFA_PROTO]);
	if (at.tb[IFA_LABEL])
		snprintf(a->label, sizeof(a->label), "%.*s",
			 (int)strnlen(mnl_attr_get_payload(at.tb[IFA_LABEL]),
				      mnl_attr_get_payload_len(at.tb[IFA_LABEL])),
			 (const char *)mnl_attr_get_payload(at.tb[IFA_LABEL]));
	return true;
}

static bool parse_link(const struct nlmsghdr *nlh, struct hb_nl_event *ev)
{
	const struct ifinfomsg *ifi;
	struct attrs at = { .max = IFLA_MAX };

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return false;
	ifi = mnl_nlmsg_get_payload(nlh);
	mnl_attr_parse(nlh, sizeof(*ifi), attr_cb, &at);
	ev->ifindex = ifi->ifi_index;
	ev->carrier = (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_LOWER_UP);
	if (at.tb[IFLA_IFNAME])
		snprintf(ev->ifname, sizeof(ev->ifname), "%.*s",
			 (int)strnlen(mnl_attr_get_payload(at.tb[IFLA_IFNAME]),
				      mnl_attr_get_payload_len(at.tb[IFLA_IFNAME])),
			 (const char *)mnl_attr_get_payload(at.tb[IFLA_IFNAME]));
	return true;
}

struct dump {
	struct hb_nladdr *v;
	size_t n, cap;
	int err;
	int carrier; /* link query */
};

static int dump_addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct hb_nladdr a;

	if (nlh->nlmsg_type != RTM_NEWADDR || !parse_addr(nlh, &a))
		return MNL_CB_OK;
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 32;
		struct hb_nladdr *v = realloc(d->v, cap * sizeof(*v));
		if (!v) {
			d->err = -ENOMEM;
			return MNL_CB_ERROR;
		}
		d->v = v;
		d->cap = cap;
	}
	d->v[d->n++] = a;
	return MNL_CB_OK;
}

static int dump_link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct dump *d = data;
	struct hb_nl_event ev = { 0 };

	if (nlh->nlmsg_type == RTM_NEWLINK && parse_link(nlh, &ev))
		d->carrier = ev.carrier;
	return MNL_CB_OK;
}

/* Send one request on a fresh socket and run @cb over every answer. */
static int request(struct nlmsghdr *nlh, mnl_cb_t cb, struct dump *d)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	char buf[NLBUF];
	unsigned portid;
	int r = 0;
	ssize_t n;

	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0 || mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		r = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	while ((n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		r = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, d);
		if (r <= MNL_CB_STOP)
			break;
	}
	r = n < 0 ? -errno : r == MNL_CB_ERROR ? (d->err ? d->err : -errno) : 0;
out:
	mnl_socket_close(nl);
	return r;
}

int hb_nl_dump_addrs(struct hb_nladdr **out, size_t *n)
{
	char buf[NLBUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifaddrmsg *ifa;
	struct dump d = { 0 };
	int r;

	nlh->nlmsg_type = RTM_GETADDR;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	ifa->ifa_family = AF_UNSPEC;
	r = request(nlh, dump_addr_cb, &d);
	if (r < 0) {
		free(d.v);
		return hha_error(r, NULL, "cannot list addresses: %s", hha_strerror(r));
	}
	*out = d.v;
	*n = d.n;
	return 0;
}

int hb_nl_link_carrier(int ifindex)
{
	char buf[NLBUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct ifinfomsg *ifi;
	struct dump d = { .carrier = -1 };
	int r;

	nlh->nlmsg_type = RTM_GETLINK;
	/* The ACK ends the answer (a single reply has no NLMSG_DONE). */
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	r = request(nlh, dump_link_cb, &d);
	return r < 0 ? r : d.carrier < 0 ? -ENODEV : d.carrier;
}

int hb_nlmon_new(hb_nl_cb cb, void *userdata, struct hb_nlmon **out)
{
	struct hb_nlmon *mon = calloc(1, sizeof(*mon));
	unsigned groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;

	if (!mon)
		return hha_error(-ENOMEM, NULL, "out of memory");
	mon->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (!mon->nl || mnl_socket_bind(mon->nl, groups, MNL_SOCKET_AUTOPID) < 0) {
		int r = -errno;
		hb_nlmon_free(mon);
		return hha_error(r, NULL, "cannot listen to kernel link and address events: %s",
				 hha_strerror(r));
	}
	mon->cb = cb;
	mon->ud = userdata;
	*out = mon;
	return 0;
}

void hb_nlmon_free(struct hb_nlmon *mon)
{
	if (!mon)
		return;
	if (mon->nl)
		mnl_socket_close(mon->nl);
	free(mon);
}

int hb_nlmon_fd(const struct hb_nlmon *mon)
{
	return mnl_socket_get_fd(mon->nl);
}

static int event_cb(const struct nlmsghdr *nlh, void *data)
{
	struct hb_nlmon *mon = data;
	struct hb_nl_event ev = { 0 };

	switch (nlh->nlmsg_type) {
	case RTM_NEWLINK:
		ev.kind = HB_NL_LINK;
		if (!parse_link(nlh, &ev))
			return MNL_CB_OK;
		break;
	case RTM_NEWADDR:
	case RTM_DELADDR:
		ev.kind = nlh->nlmsg_type == RTM_NEWADDR ? HB_NL_ADDR_NEW : HB_NL_ADDR_DEL;
		if (!parse_addr(nlh, &ev.addr))
			return MNL_CB_OK;
		ev.ifindex = ev.addr.ifindex;
		break;
	default:
		return MNL_CB_OK;
	}
	mon->cb(mon->ud, &ev);
	return MNL_CB_OK;
}

void hb_nlmon_dispatch(struct hb_nlmon *mon)
{
	char buf[NLBUF];

	for (;;) {
		ssize_t n = mnl_socket_recvfrom(mon->nl, buf, sizeof(buf));
		if (n < 0) {
			if (errno == ENOBUFS) {
				/* The kernel dropped notifications: tell the user to re-read state. */
				struct hb_nl_event ev = { .kind = HB_NL_OVERRUN };
				mon->cb(mon->ud, &ev);
				continue;
			}
			return;
		}
		mnl_cb_run(buf, (size_t)n, 0, 0, event_cb, mon);
	}
}
