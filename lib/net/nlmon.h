/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The kernel's addresses and links over rtnetlink (libmnl): one-shot dumps and a live monitor. */
#ifndef HHA_NET_NLMON_H
#define HHA_NET_NLMON_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/internal.h"

/* IFA_PROTO value that marks addresses added by libhybridha (kernel >= 5.18 keeps it). */
#define HB_IFA_PROTO_HHA 0x68

struct hb_nladdr {
	int family;
	int ifindex;
	int prefixlen;
	uint8_t addr[16];
	uint32_t flags;   /* IFA_F_*, from IFA_FLAGS when present */
	uint8_t proto;    /* IFA_PROTO, 0 when absent */
	char label[16];
};

/* Every address of the kernel (both families). The caller frees *out. 0 or -errno. */
int hb_nl_dump_addrs(struct hb_nladdr **out, size_t *n);

enum hb_nl_event_kind {
	HB_NL_LINK,     /* link changed: ifindex, name, carrier */
	HB_NL_ADDR_NEW,
	HB_NL_ADDR_DEL,
	HB_NL_OVERRUN,  /* events were lost: resynchronise from a dump */
};

struct hb_nl_event {
	enum hb_nl_event_kind kind;
	int ifindex;
	char ifname[16];
	bool carrier;             /* LINK: IFF_LOWER_UP (and IFF_UP) */
	struct hb_nladdr addr;    /* ADDR_* */
};

typedef void (*hb_nl_cb)(void *userdata, const struct hb_nl_event *ev);

struct hb_nlmon;
/* Subscribe to link and address notifications. 0 or -errno (message set). */
int hb_nlmon_new(hb_nl_cb cb, void *userdata, struct hb_nlmon **out);
void hb_nlmon_free(struct hb_nlmon *mon);
int hb_nlmon_fd(const struct hb_nlmon *mon);
/* Read and deliver every pending notification. Never blocks. */
void hb_nlmon_dispatch(struct hb_nlmon *mon);

/* Carrier of @ifindex now (IFF_UP and IFF_LOWER_UP). 1, 0, or -errno. */
int hb_nl_link_carrier(int ifindex);

#endif /* HHA_NET_NLMON_H */
