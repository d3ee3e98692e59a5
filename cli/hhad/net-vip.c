/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hhad module "net": VIPs owned by this node, announced without blocking the loop. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "net-int.h"

static json_object *add_result(const struct net_vip *v, bool added)
{
	json_object *res = json_object_new_object();

	json_object_object_add(res, "address", json_object_new_string(v->prefixed));
	json_object_object_add(res, "dev", json_object_new_string(v->dev));
	json_object_object_add(res, "added", json_object_new_boolean(added));
	return res;
}

/* Answer a deferred net.vip.add: @err 0 = usable now. */
static void answer(struct net_vip *v, int err, const char *msg)
{
	struct hhad_req *req = v->pending;

	if (!req)
		return;
	v->pending = NULL;
	if (err)
		hhad_req_fail(req, err, "%s", msg);
	else
		hhad_req_reply(req, add_result(v, true));
}

static void cancel_pending(struct hhad_req *req, void *ud)
{
	struct net_vip *v = ud;

	v->pending = NULL;
}

static void vip_free(struct net_vip *v)
{
	if (!v)
		return;
	answer(v, -ECANCELED, "the VIP was given up before it became usable");
	hha_timer_free(v->timer);
	free(v);
}

static void vip_forget(struct net *n, struct net_vip *v)
{
	for (size_t i = 0; i < n->nvips; i++)
		if (n->vips[i] == v) {
			n->vips[i] = n->vips[--n->nvips];
			break;
		}
	vip_free(v);
}

void net_vip_free_all(struct net *n)
{
	while (n->nvips)
		vip_forget(n, n->vips[0]);
}

static void emit_vip(struct net *n, const struct net_vip *v, const char *what, const char *summary)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "event", json_object_new_string(what));
	json_object_object_add(o, "address", json_object_new_string(v->prefixed));
	json_object_object_add(o, "dev", json_object_new_string(v->dev));
	json_object_object_add(o, "owned", json_object_new_boolean(v->owned));
	hhad_emit(n->d, "net.vip", o, summary);
}

/* One step of an announcement job: wait out IPv6 DAD, then count/interval announcements. */
static void on_announce(struct hha_timer *t, void *ud)
{
	struct net_vip *v = ud;
	struct net *n = v->net;
	struct hha_vip_info info;
	char msg[160];

	if (v->family == AF_INET6 && !v->nodad && hha_vip_query(n->ctx, v->addr, v->dev, &info) == 0) {
		if (info.dadfailed) {
			snprintf(msg, sizeof(msg), "%s on %s: duplicate address detection failed: "
				 "another node answers for it", v->prefixed, v->dev);
			emit_vip(n, v, "dadfailed", msg);
			answer(v, -EADDRNOTAVAIL, msg);
			v->left = 0;
		} else if (info.tentative && hha_now_ms() < v->dad_deadline) {
			hha_timer_arm_in(t, 20);
			return;
		} else if (info.tentative) {
			snprintf(msg, sizeof(msg), "%s on %s still tentative after 3 s", v->prefixed, v->dev);
			answer(v, -ETIMEDOUT, msg);
		}
	}
	answer(v, 0, NULL);
	if (v->left > 0) {
		if (hha_vip_announce_once(n->ctx, v->addr, v->dev) < 0)
			hha_warn(n->ctx, "net", "%s", hha_last_error());
		v->left--;
	}
	if (v->left > 0)
		hha_timer_arm_in(t, v->interval_ms);
	else if (!v->owned)
		vip_forget(n, v); /* a one-off job (net.arp) ends here */
}

static void start_announce(struct net_vip *v)
{
	v->left = v->count;
	v->dad_deadline = hha_now_ms() + 3000;
	hha_timer_arm_in(v->timer, 0);
}

static struct net_vip *vip_find(struct net *n, const char *addr, const char *dev)
{
	for (size_t i = 0; i < n->nvips; i++)
		if (n->vips[i]->owned && strcmp(n->vips[i]->addr, addr) == 0 &&
		    (!dev || strcmp(n->vips[i]->dev, dev) == 0))
			return n->vips[i];
	return NULL;
}

/* Parse a request's address ("A" or "A/P") and device into a new job. */
static int vip_new(struct net *n, json_object *args, bool need_prefix, struct net_vip **out)
{
	const char *a = hha_json_str(args, "address"), *dev = hha_json_str(args, "dev");
	const char *label = hha_json_str(args, "label");
	struct net_vip *v;
	size_t al;

	if (!a || !dev)
		return hha_error(-EINVAL, NULL, "\"address\" and \"dev\" are required");
	al = strcspn(a, "/");
	if (al >= sizeof(v->addr) || strlen(dev) >= sizeof(v->dev) ||
	    (label && strlen(label) >= sizeof(v->label)) || (need_prefix && !a[al]))
		return hha_error(-EINVAL, NULL, "invalid address `%s' or device `%s'", a, dev);
	if (n->nvips >= NET_MAX_VIPS)
		return hha_error(-ENOSPC, NULL, "at most %d VIPs and announcements at once", NET_MAX_VIPS);
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->net = n;
	memcpy(v->addr, a, al);
	snprintf(v->prefixed, sizeof(v->prefixed), "%s", a);
	snprintf(v->dev, sizeof(v->dev), "%s", dev);
	snprintf(v->label, sizeof(v->label), "%s", label ? label : "");
	v->family = strchr(v->addr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(v->family, v->addr, v->bytes) != 1 ||
	    hha_timer_new(hhad_loop(n->d), on_announce, v, &v->timer) < 0) {
		vip_free(v);
		return hha_error(-EINVAL, NULL, "invalid address `%s'", a);
	}
	v->nodad = hha_json_bool(args, "nodad", false);
	v->count = (unsigned)hha_json_int(args, "arp_count", hha_json_int(args, "count", 5));
	v->interval_ms = (unsigned)hha_json_int(args, "arp_interval_ms", hha_json_int(args, "interval_ms", 200));
	if (v->count > 100 || v->interval_ms < 10 || v->interval_ms > 10000) {
		vip_free(v);
		return hha_error(-EINVAL, NULL, "count 0..100 and interval 10..10000 ms");
	}
	n->vips[n->nvips++] = v;
	*out = v;
	return 0;
}

int net_verb_vip_add(void *state, struct hhad_req *req, json_object *args)
{
	struct net *n = state;
	struct net_vip *v, *old;
	struct hha_vip_opts o = { .size = sizeof(o) };
	int r = vip_new(n, args, true, &v);

	if (r < 0)
		return r;
	o.label = v->label[0] ? v->label : NULL;
	o.nodad = v->nodad;
	r = hha_vip_add(n->ctx, v->prefixed, v->dev, &o);
	if (r < 0) {
		vip_forget(n, v);
		return r;
	}
	/* This node owns it now (until the failover manager decides ownership). */
	old = vip_find(n, v->addr, NULL);
	if (old)
		vip_forget(n, old);
	v->owned = true;
	start_announce(v);
	emit_vip(n, v, r == 0 ? "added" : "reannounced", NULL);
	if (r == 0 && v->family == AF_INET6 && !v->nodad) {
		/* Answer when the address is usable, as the library path does. */
		v->pending = req;
		hhad_req_defer(req, cancel_pending, v);
		return 0;
	}
	return hhad_req_reply(req, add_result(v, r == 0));
}

int net_verb_vip_del(void *state, struct hhad_req *req, json_object *args)
{
	struct net *n = state;
	const char *a = hha_json_str(args, "address"), *dev = hha_json_str(args, "dev");
	char addr[64];
	struct net_vip *v;
	json_object *res;
	int r;

	if (!a || !dev)
		return hha_error(-EINVAL, NULL, "\"address\" and \"dev\" are required");
	snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(a, "/"), a);
	/* Give up ownership first, so the kernel's removal event does not re-add it. */
	v = vip_find(n, addr, dev);
	if (v)
		vip_forget(n, v);
	r = hha_vip_del(n->ctx, a, dev);
	if (r < 0)
		return r;
	res = json_object_new_object();
	json_object_object_add(res, "removed", json_object_new_boolean(r == 0));
	return hhad_req_reply(req, res);
}

static json_object *info_json(const struct hha_vip_info *i, bool owned)
{
	json_object *o = json_object_new_object();
	char p[64];

	snprintf(p, sizeof(p), "%s/%d", i->address, i->prefixlen);
	json_object_object_add(o, "address", json_object_new_string(p));
	json_object_object_add(o, "dev", json_object_new_string(i->dev));
	json_object_object_add(o, "label", i->label[0] ? json_object_new_string(i->label) : NULL);
	json_object_object_add(o, "held", json_object_new_boolean(true));
	json_object_object_add(o, "owned", json_object_new_boolean(owned));
	json_object_object_add(o, "vip", json_object_new_boolean(i->ours));
	json_object_object_add(o, "tentative", json_object_new_boolean(i->tentative));
	json_object_object_add(o, "dadfailed", json_object_new_boolean(i->dadfailed));
	return o;
}

int net_verb_vip_status(void *state, struct hhad_req *req, json_object *args)
{
	struct net *n = state;
	const char *a = hha_json_str(args, "address"), *dev = hha_json_str(args, "dev");
	struct hha_vip_info info;
	char addr[64];
	json_object *o;
	int r;

	if (!a)
		return hha_error(-EINVAL, NULL, "\"address\" is required");
	snprintf(addr, sizeof(addr), "%.*s", (int)strcspn(a, "/"), a);
	r = hha_vip_query(n->ctx, a, dev, &info);
	if (r == -ENOENT) {
		o = json_object_new_object();
		json_object_object_add(o, "address", json_object_new_string(a));
		json_object_object_add(o, "held", json_object_new_boolean(false));
		json_object_object_add(o, "owned", json_object_new_boolean(vip_find(n, addr, dev) != NULL));
		return hhad_req_reply(req, o);
	}
	if (r < 0)
		return r;
	return hhad_req_reply(req, info_json(&info, vip_find(n, addr, dev) != NULL));
}

int net_verb_vip_list(void *state, struct hhad_req *req, json_object *args)
{
	struct net *n = state;
	struct hha_vip_info *all = NULL;
	size_t cnt = 0;
	json_object *arr;
	int r = hha_vip_list(n->ctx, &all, &cnt);

	if (r < 0)
		return r;
	arr = json_object_new_array();
	for (size_t i = 0; i < cnt; i++)
		json_object_array_add(arr, info_json(&all[i], vip_find(n, all[i].address, all[i].dev) != NULL));
	net_vip_missing_json(n, arr);
	free(all);
	return hhad_req_reply(req, arr);
}

/* Owned but missing (being re-added, or failed to): shown too. */
void net_vip_missing_json(struct net *n, json_object *arr)
{
	for (size_t i = 0; i < n->nvips; i++) {
		struct hha_vip_info q;
		if (!n->vips[i]->owned || hha_vip_query(n->ctx, n->vips[i]->addr, n->vips[i]->dev, &q) == 0)
			continue;
		json_object *o = json_object_new_object();
		json_object_object_add(o, "address", json_object_new_string(n->vips[i]->prefixed));
		json_object_object_add(o, "dev", json_object_new_string(n->vips[i]->dev));
		json_object_object_add(o, "held", json_object_new_boolean(false));
		json_object_object_add(o, "owned", json_object_new_boolean(true));
		json_object_array_add(arr, o);
	}
}

int net_verb_arp(void *state, struct hhad_req *req, json_object *args)
{
	struct net *n = state;
	struct net_vip *v;
	int r = vip_new(n, args, false, &v);

	if (r < 0)
		return r;
	/* Fail early on what the first announcement would fail on; the rest run in the loop. */
	r = hha_vip_announce_once(n->ctx, v->addr, v->dev);
	if (r < 0) {
		vip_forget(n, v);
		return r;
	}
	if (v->count > 1) {
		v->left = v->count - 1;
		v->nodad = true;
		hha_timer_arm_in(v->timer, v->interval_ms);
	} else {
		vip_forget(n, v);
	}
	return hhad_req_reply(req, NULL);
}

/* A VIP this node owns vanished (admin, DHCP, network restart): say so, put it back. */
static void readd(struct net *n, struct net_vip *v)
{
	struct hha_vip_opts o = { .size = sizeof(o), .label = v->label[0] ? v->label : NULL,
				  .nodad = v->nodad };
	char msg[160];
	int r = hha_vip_add(n->ctx, v->prefixed, v->dev, &o);

	snprintf(msg, sizeof(msg), "%s on %s was removed behind our back; %s", v->prefixed, v->dev,
		 r >= 0 ? "re-added" : hha_last_error());
	emit_vip(n, v, r >= 0 ? "readded" : "lost", msg);
	if (r >= 0)
		start_announce(v);
}

void net_vip_addr_event(struct net *n, const struct hb_nl_event *ev)
{
	struct hha_vip_info q;

	for (size_t i = 0; i < n->nvips; i++) {
		struct net_vip *v = n->vips[i];
		if (!v->owned)
			continue;
		if (ev->kind == HB_NL_ADDR_DEL) {
			if (ev->addr.family != v->family ||
			    memcmp(ev->addr.addr, v->bytes, v->family == AF_INET ? 4 : 16) != 0)
				continue;
		} else if (hha_vip_query(n->ctx, v->addr, v->dev, &q) == 0) {
			continue; /* overrun: re-check each owned VIP */
		}
		readd(n, v);
	}
}

void net_vip_status(struct net *n, json_object *out)
{
	json_object *arr = json_object_new_array();

	for (size_t i = 0; i < n->nvips; i++)
		if (n->vips[i]->owned)
			json_object_array_add(arr, json_object_new_string(n->vips[i]->prefixed));
	json_object_object_add(out, "owned_vips", arr);
}
