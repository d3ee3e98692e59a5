/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hhad module "net": tell peers which VIPs this node holds (a heartbeat TLV), and show the cluster's. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "net-int.h"
#include "net/vip-payload.h"

/*
 * Every node publishes the VIPs the kernel says it holds (addresses tagged
 * as ours), so `net.vip.cluster` on any node answers "who holds what"
 * without asking the others. A peer's list is as fresh as its last
 * heartbeat; a dead peer's is not shown (it holds nothing any more, or is
 * cut off: either way its claim is not current). Two nodes holding one
 * address is shown as a conflict: that is what ARP flapping looks like.
 */

void net_vip_publish(struct net *n)
{
	struct hha_vip_info *all = NULL;
	struct hha_vip_held *held;
	uint8_t buf[HHA_VIP_PAYLOAD_MAX];
	size_t cnt = 0, k = 0;
	int len;

	if (!n->m || hha_vip_list(n->ctx, &all, &cnt) < 0)
		return;
	held = calloc(cnt ? cnt : 1, sizeof(*held));
	for (size_t i = 0; held && i < cnt; i++) {
		struct hha_vip_held *h = &held[k];
		h->family = all[i].family;
		h->prefixlen = (unsigned)all[i].prefixlen;
		h->tentative = all[i].tentative;
		h->dadfailed = all[i].dadfailed;
		snprintf(h->dev, sizeof(h->dev), "%s", all[i].dev);
		if (inet_pton(h->family, all[i].address, h->addr) == 1)
			k++;
	}
	len = held ? hha_vip_payload_encode(held, k, buf) : -1;
	if (len > 0 && (len != (int)n->vip_pub_len || memcmp(buf, n->vip_pub, (size_t)len)) &&
	    hha_membership_set_payload(n->m, HHA_PAYLOAD_VIPS, buf, (size_t)len) == 0) {
		memcpy(n->vip_pub, buf, (size_t)len);
		n->vip_pub_len = (size_t)len;
		if (buf[1] & 1)
			hha_warn(n->ctx, "net", "%zu VIPs held: only the first %u are told to peers", k, buf[2]);
	}
	free(held);
	free(all);
}

static json_object *row(const char *addr, const char *dev, const char *holder, unsigned holder_id,
			bool tentative, bool dadfailed)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "address", json_object_new_string(addr));
	json_object_object_add(o, "dev", json_object_new_string(dev));
	json_object_object_add(o, "holder", json_object_new_string(holder));
	json_object_object_add(o, "holder_id", json_object_new_int((int)holder_id));
	json_object_object_add(o, "tentative", json_object_new_boolean(tentative));
	json_object_object_add(o, "dadfailed", json_object_new_boolean(dadfailed));
	return o;
}

/* The address without its prefix, to compare rows. */
static void bare(const char *prefixed, char *out, size_t size)
{
	snprintf(out, size, "%s", prefixed);
	out[strcspn(out, "/")] = '\0';
}

static void mark_conflicts(json_object *arr)
{
	size_t n = json_object_array_length(arr);

	/* Only rows with a holder count: an owned-but-missing row is no claim. */
	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(arr, i);
		char x[64], y[64];
		bool dup = false;

		if (!json_object_object_get(a, "holder"))
			continue;
		bare(json_object_get_string(json_object_object_get(a, "address")), x, sizeof(x));
		for (size_t j = 0; j < n && !dup; j++) {
			json_object *b = json_object_array_get_idx(arr, j);
			if (j == i || !json_object_object_get(b, "holder"))
				continue;
			bare(json_object_get_string(json_object_object_get(b, "address")), y, sizeof(y));
			dup = !strcmp(x, y);
		}
		json_object_object_add(a, "conflict", json_object_new_boolean(dup));
	}
}

static void peer_rows(struct net *n, json_object *arr)
{
	unsigned ids[256];
	int np = hha_membership_peers(n->m, ids, 256);

	for (int p = 0; p < np && p < 256; p++) {
		struct hha_vip_held held[HHA_VIP_PAYLOAD_ENTRIES];
		struct hha_member_info info;
		uint8_t buf[HHA_MEMBERSHIP_MAX_PAYLOAD];
		size_t len = sizeof(buf), cnt;
		bool trunc;

		if (hha_membership_peer_state(n->m, ids[p], &info) < 0 ||
		    (info.state != HHA_MEMBER_UP && info.state != HHA_MEMBER_LATE) ||
		    hha_membership_peer_payload(n->m, ids[p], HHA_PAYLOAD_VIPS, buf, &len) < 0)
			continue;
		if (hha_vip_payload_decode(buf, len, held, &cnt, &trunc) < 0) {
			hha_dbg(n->ctx, "net", "node %s: malformed VIP list in its heartbeat, ignored", info.name);
			continue;
		}
		for (size_t i = 0; i < cnt; i++) {
			char a[64];
			hha_vip_held_text(&held[i], a, sizeof(a));
			json_object_array_add(arr, row(a, held[i].dev, info.name, info.id, held[i].tentative,
						       held[i].dadfailed));
		}
		if (trunc)
			json_object_array_add(arr, row("...", "", info.name, info.id, false, false));
	}
}

int net_verb_vip_cluster(void *state, struct hhad_req *req, json_object *args)
{
	struct net *n = state;
	struct hha_vip_info *all = NULL;
	size_t cnt = 0;
	json_object *arr;
	unsigned self = (unsigned)hha_json_int(hhad_node_conf(n->d), "id", 0);
	int r = hha_vip_list(n->ctx, &all, &cnt);

	(void)args;
	if (r < 0)
		return r;
	arr = json_object_new_array();
	for (size_t i = 0; i < cnt; i++) {
		char a[72];
		snprintf(a, sizeof(a), "%s/%d", all[i].address, all[i].prefixlen);
		json_object_array_add(arr, row(a, all[i].dev, hhad_node_name(n->d), self, all[i].tentative,
					       all[i].dadfailed));
	}
	free(all);
	net_vip_missing_json(n, arr);
	if (n->m)
		peer_rows(n, arr);
	mark_conflicts(arr);
	return hhad_req_reply(req, arr);
}
