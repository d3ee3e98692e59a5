/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Shared state of the net module's two files (membership in net.c, VIPs in net-vip.c). */
#ifndef HHAD_NET_INT_H
#define HHAD_NET_INT_H

#include <hybridha/vip.h>

#include "net.h"
#include "net/nlmon.h"
#include "net/vip-payload.h"

#define NET_MAX_VIPS 64

/* A VIP this node owns (added through hhad), or a one-off announcement job. */
struct net_vip {
	struct net *net;
	char addr[64];   /* without prefix */
	char prefixed[72];
	char dev[16];
	char label[16];
	int family;
	uint8_t bytes[16];
	bool owned, nodad;
	unsigned count, interval_ms, left;
	int64_t dad_deadline;
	struct hha_timer *timer;
	struct hhad_req *pending; /* net.vip.add answered once IPv6 DAD is over */
};

struct net {
	struct hhad *d;
	struct hha_ctx *ctx;
	struct hha_membership *m;
	struct hha_io *io[HHA_MEMBERSHIP_MAX_LINKS + 2];
	size_t nio;
	struct hha_timer *tick;
	struct hb_nlmon *mon;
	struct hha_io *mon_io;
	int link_ifindex[HHA_MEMBERSHIP_MAX_LINKS];
	struct net_vip *vips[NET_MAX_VIPS];
	size_t nvips;
	uint8_t vip_pub[HHA_VIP_PAYLOAD_MAX]; /* the VIP list last put in our heartbeats */
	size_t vip_pub_len;
};

/* Verbs implemented in net-vip.c. */
int net_verb_vip_add(void *state, struct hhad_req *req, json_object *args);
int net_verb_vip_del(void *state, struct hhad_req *req, json_object *args);
int net_verb_vip_status(void *state, struct hhad_req *req, json_object *args);
int net_verb_vip_list(void *state, struct hhad_req *req, json_object *args);
int net_verb_arp(void *state, struct hhad_req *req, json_object *args);
/* Kernel address events for VIPs (removed behind our back -> re-add if owned). */
void net_vip_addr_event(struct net *n, const struct hb_nl_event *ev);
void net_vip_free_all(struct net *n);
void net_vip_status(struct net *n, json_object *out);
/* net-vip-peers.c: our held VIPs into the heartbeats; everyone's, from them. */
void net_vip_publish(struct net *n);
/* Rows for the VIPs this node owns but the kernel does not hold (net-vip.c). */
void net_vip_missing_json(struct net *n, json_object *arr);
int net_verb_vip_cluster(void *state, struct hhad_req *req, json_object *args);

#endif /* HHAD_NET_INT_H */
