/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hhad module "net": membership from the configuration, kernel link events, members verbs. */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "daemon.h"
#include "net-int.h"

struct hha_membership *hhad_net_membership(struct hhad *d)
{
	struct net *n = hhad_module_state(d, "net");

	return n ? n->m : NULL;
}

static void rearm(struct net *n)
{
	int64_t dl = n->m ? hha_membership_next_deadline(n->m) : -1;

	if (dl >= 0)
		hha_timer_arm(n->tick, dl);
	else
		hha_timer_disarm(n->tick);
}

static void on_io(struct hha_io *io, int fd, uint32_t events, void *ud)
{
	struct net *n = ud;

	hha_membership_dispatch(n->m);
	rearm(n);
}

static void on_tick(struct hha_timer *t, void *ud)
{
	struct net *n = ud;

	hha_membership_dispatch(n->m);
	rearm(n);
}

static void on_member(void *ud, const struct hha_member_event *ev)
{
	struct net *n = ud;
	json_object *o = json_object_new_object();
	char summary[160];

	json_object_object_add(o, "node", json_object_new_string(ev->name));
	json_object_object_add(o, "id", json_object_new_int((int)ev->node_id));
	if (ev->link >= 0)
		json_object_object_add(o, "link", json_object_new_int(ev->link));
	json_object_object_add(o, "state", json_object_new_string(hha_member_state_name(ev->new_state)));
	json_object_object_add(o, "old", json_object_new_string(hha_member_state_name(ev->old_state)));
	json_object_object_add(o, "reason", json_object_new_string(ev->reason));
	json_object_object_add(o, "incarnation", json_object_new_uint64(ev->incarnation));
	json_object_object_add(o, "restarted", json_object_new_boolean(ev->new_incarnation));
	if (ev->link >= 0) {
		snprintf(summary, sizeof(summary), "node %s link %d: %s -> %s (%s)", ev->name, ev->link,
			 hha_member_state_name(ev->old_state), hha_member_state_name(ev->new_state),
			 ev->reason);
		/* Link flaps are frequent; only node changes go to the log at info. */
		hhad_emit(n->d, "net.link", o, NULL);
		hha_dbg(n->ctx, "net", "%s", summary);
	} else {
		snprintf(summary, sizeof(summary), "node %s: %s -> %s (%s)", ev->name,
			 hha_member_state_name(ev->old_state), hha_member_state_name(ev->new_state),
			 ev->reason);
		hhad_emit(n->d, "net.member", o, summary);
	}
}

/* Which interface carries each heartbeat link (by its local address), for carrier events. */
static void resolve_links(struct net *n)
{
	struct hb_nladdr *all = NULL;
	size_t cnt = 0;

	if (!n->m || hb_nl_dump_addrs(&all, &cnt) < 0)
		return;
	for (unsigned l = 0; hha_membership_link_address(n->m, l); l++) {
		const char *text = hha_membership_link_address(n->m, l);
		uint8_t b[16];
		int fam = strchr(text, ':') ? AF_INET6 : AF_INET;
		if (inet_pton(fam, text, b) != 1)
			continue;
		for (size_t i = 0; i < cnt; i++) {
			if (all[i].family != fam || memcmp(all[i].addr, b, fam == AF_INET ? 4 : 16) != 0)
				continue;
			if (n->link_ifindex[l] != all[i].ifindex) {
				int c = hb_nl_link_carrier(all[i].ifindex);
				n->link_ifindex[l] = all[i].ifindex;
				if (c >= 0)
					hha_membership_set_link_carrier(n->m, l, c == 1);
			}
		}
	}
	free(all);
}

static void on_kernel(void *ud, const struct hb_nl_event *ev)
{
	struct net *n = ud;

	switch (ev->kind) {
	case HB_NL_LINK:
		for (unsigned l = 0; n->m && hha_membership_link_address(n->m, l); l++) {
			if (n->link_ifindex[l] != ev->ifindex)
				continue;
			json_object *o = json_object_new_object();
			json_object_object_add(o, "link", json_object_new_int((int)l));
			json_object_object_add(o, "dev", json_object_new_string(ev->ifname));
			json_object_object_add(o, "carrier", json_object_new_boolean(ev->carrier));
			hha_membership_set_link_carrier(n->m, l, ev->carrier);
			hhad_emit(n->d, "net.link", o, NULL);
		}
		break;
	case HB_NL_ADDR_NEW:
		resolve_links(n);
		net_vip_publish(n);
		break;
	case HB_NL_ADDR_DEL:
		net_vip_addr_event(n, ev);
		net_vip_publish(n);
		break;
	case HB_NL_OVERRUN:
		resolve_links(n);
		net_vip_addr_event(n, ev);
		net_vip_publish(n);
		break;
	}
	if (n->m)
		rearm(n);
}

static void on_mon(struct hha_io *io, int fd, uint32_t events, void *ud)
{
	struct net *n = ud;

	hb_nlmon_dispatch(n->mon);
}

/* Keys: cluster.keys (one or two, with ids) or cluster.key_file as key 1. */
static int load_keys(struct hha_membership *m, json_object *cluster)
{
	json_object *keys = hha_json_get(cluster, "keys");
	int64_t send = hha_json_int(cluster, "send_key", 0), highest = 0;
	int r;

	if (!keys) {
		r = hha_membership_load_key(m, 1, hha_json_str(cluster, "key_file"));
		return r < 0 ? hha_error_wrap(r, "net") : 0;
	}
	for (size_t i = 0; i < json_object_array_length(keys); i++) {
		json_object *k = json_object_array_get_idx(keys, i);
		int64_t id = hha_json_int(k, "id", 0);
		r = hha_membership_load_key(m, (unsigned)id, hha_json_str(k, "file"));
		if (r < 0)
			return hha_error_wrap(r, "net");
		highest = HHA_MAX(highest, id);
	}
	/* Receive with both, send with the chosen one (default: the newest id). */
	return hha_membership_set_send_key(m, (unsigned)(send ? send : highest));
}

/* A configuration with a cluster: this node and at least one other. */
static bool has_cluster(struct net *n, const struct hha_config *cfg)
{
	return hha_conf_node(cfg, hhad_node_name(n->d)) &&
	       json_object_object_length(hha_conf_section(cfg, "nodes")) >= 2;
}

/*
 * Build the membership object of @cfg into *out: started (hhad's start), or
 * a plan for hha_membership_reconfigure() (a reload). Frees it on failure.
 */
static int membership_from_config(struct net *n, const struct hha_config *cfg, bool plan,
				  struct hha_membership **out)
{
	json_object *cluster = hha_conf_section(cfg, "cluster"), *hb = hha_json_get(cluster, "heartbeat");
	json_object *nodes = hha_conf_section(cfg, "nodes"), *self = hha_conf_node(cfg, hhad_node_name(n->d));
	json_object *mine = hha_json_get(self, "heartbeat"), *pings = hha_json_get(cluster, "ping_nodes");
	const char *witness = hha_json_str(cluster, "witness");
	struct hha_membership_opts o = {
		.size = sizeof(o),
		.cluster_name = hha_json_str(cluster, "name"),
		.self_id = (unsigned)hha_json_int(self, "id", 0),
		.port = (unsigned)hha_json_int(hb, "port", 694),
		.keepalive_ms = (int)hha_json_int(hb, "keepalive_ms", 200),
		.warntime_ms = (int)hha_json_int(hb, "warntime_ms", 600),
		.deadtime_ms = (int)hha_json_int(hb, "deadtime_ms", 1000),
		.initdead_ms = (int)hha_json_int(hb, "initdead_ms", 10000),
		.lease_ms = (int)hha_json_int(hb, "lease_ms", 0),
		.ping_interval_ms = (int)hha_json_int(hb, "ping_interval_ms", 1000),
		.state_dir = hha_json_str(cluster, "state_dir"),
		.witness = hha_json_bool(self, "witness", false),
		.witness_id = witness ? (unsigned)hha_json_int(hha_json_get(nodes, witness), "id", 0) : 0,
		.plan = plan,
	};
	struct hha_membership *m = NULL;
	int r;

	*out = NULL;
	if ((r = hha_membership_new(n->ctx, &o, &m)) < 0)
		return r;
	if ((r = load_keys(m, cluster)) < 0)
		goto fail;
	for (size_t i = 0; i < json_object_array_length(mine); i++)
		if ((r = hha_membership_add_link(m, json_object_get_string(json_object_array_get_idx(mine, i)))) < 0)
			goto fail;
	json_object_object_foreach(nodes, name, node) {
		json_object *addrs = hha_json_get(node, "heartbeat");
		const char *a[HHA_MEMBERSHIP_MAX_LINKS] = { 0 };
		size_t na = HHA_MIN(json_object_array_length(addrs), json_object_array_length(mine));

		if (node == self)
			continue;
		for (size_t i = 0; i < na; i++)
			a[i] = json_object_get_string(json_object_array_get_idx(addrs, i));
		if ((r = hha_membership_add_peer(m, (unsigned)hha_json_int(node, "id", 0), name, a, na)) < 0)
			goto fail;
	}
	for (size_t i = 0; i < json_object_array_length(pings); i++)
		if ((r = hha_membership_add_ping_node(m, json_object_get_string(json_object_array_get_idx(pings, i)))) < 0)
			goto fail;
	hha_membership_set_callback(m, on_member, n);
	if (!plan && (r = hha_membership_start(m)) < 0)
		goto fail;
	*out = m;
	return 0;
fail:
	hha_membership_free(m);
	return r;
}

/* (Re)register the membership's fds with the loop (the set changes on reload). */
static int watch_fds(struct net *n)
{
	int fds[HHA_MEMBERSHIP_MAX_LINKS + 2], nfds, r;

	for (size_t i = 0; i < n->nio; i++)
		hha_io_del(n->io[i]);
	n->nio = 0;
	if (!n->m)
		return 0;
	nfds = hha_membership_fds(n->m, fds, HHA_ARRAY_SIZE(fds));
	for (int i = 0; i < nfds && i < (int)HHA_ARRAY_SIZE(fds); i++) {
		if ((r = hha_io_add(hhad_loop(n->d), fds[i], EPOLLIN, on_io, n, &n->io[n->nio])) < 0)
			return r;
		n->nio++;
	}
	return 0;
}

/* One event and one log line saying what a reload changed in the membership. */
static void emit_reload(struct net *n, const char *changes)
{
	json_object *o = json_object_new_object(), *list = json_object_new_array();
	char *copy = strdup(changes), *save = NULL;

	for (char *c = copy ? strtok_r(copy, ";", &save) : NULL; c; c = strtok_r(NULL, ";", &save))
		json_object_array_add(list, json_object_new_string(c + (*c == ' ')));
	free(copy);
	json_object_object_add(o, "changes", list);
	hhad_emit(n->d, "net.reload", o, *changes ? changes : "membership unchanged");
}

/*
 * Reload: keys, timers, ping nodes, links and peers change in place (no
 * restart, so replicated disks keep running and peers see no gap); what
 * only a restart may change is refused and the running membership kept.
 */
static int net_reload(void *state, const struct hha_config *cfg)
{
	struct net *n = state;
	struct hha_membership *plan = NULL;
	char changes[1024];
	int r, w;

	if (!n->m && !has_cluster(n, cfg))
		return 0;
	if (!n->m) {
		/* A cluster configured where there was none: start membership as at start. */
		if ((r = membership_from_config(n, cfg, false, &n->m)) < 0)
			return r;
		r = watch_fds(n);
		resolve_links(n);
		rearm(n);
		emit_reload(n, "membership started");
		return r;
	}
	if (!has_cluster(n, cfg))
		return hha_error(-EINVAL, NULL,
				 "net: node %s has no peer in the new configuration; membership cannot "
				 "stop on a reload (restart hhad for that)", hhad_node_name(n->d));
	if ((r = membership_from_config(n, cfg, true, &plan)) < 0)
		return r;
	for (size_t i = 0; i < n->nio; i++)
		hha_io_del(n->io[i]);
	n->nio = 0;
	r = hha_membership_reconfigure(n->m, plan, changes, sizeof(changes));
	hha_membership_free(plan);
	w = watch_fds(n); /* the new set, or the old one again when refused */
	if (r < 0)
		return hha_error_wrap(r, "net");
	/* Links may sit on other interfaces now: look their carriers up again. */
	memset(n->link_ifindex, 0, sizeof(n->link_ifindex));
	resolve_links(n);
	rearm(n);
	emit_reload(n, changes);
	return w;
}

static void net_fini(void *state)
{
	struct net *n = state;

	if (!n)
		return;
	net_vip_free_all(n);
	for (size_t i = 0; i < n->nio; i++)
		hha_io_del(n->io[i]);
	hha_io_del(n->mon_io);
	hb_nlmon_free(n->mon);
	hha_timer_free(n->tick);
	/* A clean stop says goodbye, so peers need not wait for deadtime. */
	if (n->m && hha_membership_incarnation(n->m))
		hha_membership_stop(n->m);
	hha_membership_free(n->m);
	free(n);
}

static int net_init(struct hhad *d, const struct hha_config *cfg, void **state)
{
	struct net *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	n->d = d;
	n->ctx = hhad_ctx(d);
	*state = n;
	if ((r = hha_timer_new(hhad_loop(d), on_tick, n, &n->tick)) < 0)
		goto fail;
	/* Kernel events serve VIPs even without a cluster; failing to listen is not fatal. */
	if (hb_nlmon_new(on_kernel, n, &n->mon) == 0)
		hha_io_add(hhad_loop(d), hb_nlmon_fd(n->mon), EPOLLIN, on_mon, n, &n->mon_io);
	else
		hha_warn(n->ctx, "net", "%s", hha_last_error());
	if (!has_cluster(n, cfg)) {
		/* No cluster (or no peer): nothing to heartbeat with; VIP verbs only. */
		hha_info(n->ctx, "net", "no peers configured: membership off");
		return 0;
	}
	if ((r = membership_from_config(n, cfg, false, &n->m)) < 0 || (r = watch_fds(n)) < 0)
		goto fail;
	resolve_links(n);
	net_vip_publish(n); /* VIPs held since before this start are still ours */
	rearm(n);
	return 0;
fail:
	net_fini(n);
	*state = NULL;
	return r;
}

static json_object *ms_ago(int64_t t)
{
	return t < 0 ? NULL : json_object_new_int64(hha_now_ms() - t);
}

static json_object *counters_json(const struct hha_membership_counters *c)
{
	json_object *o = json_object_new_object();
#define C(f) json_object_object_add(o, #f, json_object_new_uint64(c->f))
	C(sent); C(send_errors); C(accepted); C(malformed); C(other_cluster); C(unknown_key);
	C(bad_mac); C(unknown_node); C(wrong_link); C(old_incarnation); C(replay); C(stale_echo);
#undef C
	return o;
}

/* "witness" for the node cluster.witness names (membership only), else "node". */
static const char *role_of(struct net *n, const char *name)
{
	const char *w = hha_json_str(hha_conf_section(hhad_config(n->d), "cluster"), "witness");

	return w && name && strcmp(w, name) == 0 ? "witness" : "node";
}

static json_object *members_json(struct net *n)
{
	json_object *o = json_object_new_object(), *peers = json_object_new_array(), *links;
	struct hha_membership_counters c;
	struct hha_lease_info li;
	unsigned ids[255];
	int np;

	json_object_object_add(o, "node", json_object_new_string(hhad_node_name(n->d)));
	json_object_object_add(o, "role", json_object_new_string(role_of(n, hhad_node_name(n->d))));
	if (!n->m) {
		json_object_object_add(o, "cluster", json_object_new_boolean(false));
		json_object_put(peers);
		return o;
	}
	json_object_object_add(o, "incarnation", json_object_new_uint64(hha_membership_incarnation(n->m)));
	links = json_object_new_array();
	for (unsigned l = 0; hha_membership_link_address(n->m, l); l++)
		json_object_array_add(links, json_object_new_string(hha_membership_link_address(n->m, l)));
	json_object_object_add(o, "links", links);
	json_object_object_add(o, "ping_reached", json_object_new_int(hha_membership_ping_reached(n->m)));
	json_object_object_add(o, "ping_count", json_object_new_int(hha_membership_ping_count(n->m)));
	np = hha_membership_peers(n->m, ids, HHA_ARRAY_SIZE(ids));
	for (int i = 0; i < np; i++) {
		struct hha_member_info info;
		json_object *p = json_object_new_object(), *pl = json_object_new_array();
		hha_membership_peer_state(n->m, ids[i], &info);
		json_object_object_add(p, "node", json_object_new_string(info.name));
		json_object_object_add(p, "id", json_object_new_int((int)info.id));
		json_object_object_add(p, "role", json_object_new_string(role_of(n, info.name)));
		json_object_object_add(p, "state", json_object_new_string(hha_member_state_name(info.state)));
		json_object_object_add(p, "incarnation", json_object_new_uint64(info.incarnation));
		json_object_object_add(p, "last_heard_ms_ago", ms_ago(info.last_heard_ms));
		json_object_object_add(p, "ping_reached", info.ping_reached < 0 ? NULL : json_object_new_int(info.ping_reached));
		for (unsigned l = 0; l < info.nlinks; l++) {
			json_object *lo = json_object_new_object();
			json_object_object_add(lo, "state", json_object_new_string(hha_member_state_name(info.link[l].state)));
			json_object_object_add(lo, "last_heard_ms_ago", ms_ago(info.link[l].last_heard_ms));
			json_object_object_add(lo, "received", json_object_new_uint64(info.link[l].received));
			json_object_array_add(pl, lo);
		}
		json_object_object_add(p, "links", pl);
		json_object_array_add(peers, p);
	}
	json_object_object_add(o, "peers", peers);
	hha_membership_counters(n->m, &c);
	json_object_object_add(o, "counters", counters_json(&c));
	if (hha_membership_lease(n->m, &li) == 0) {
		json_object *lo = json_object_new_object();
		json_object_object_add(lo, "held", json_object_new_boolean(li.held));
		json_object_object_add(lo, "holder", json_object_new_int((int)li.holder));
		json_object_object_add(lo, "epoch", json_object_new_uint64(li.epoch));
		json_object_object_add(lo, "wanted", json_object_new_boolean(li.wanted));
		if (li.held)
			json_object_object_add(lo, "valid_for_ms", json_object_new_int64(li.valid_until_ms - hha_now_ms()));
		json_object_object_add(o, "lease", lo);
	}
	return o;
}

static int verb_members(void *state, struct hhad_req *req, json_object *args)
{
	return hhad_req_reply(req, members_json(state));
}

static int verb_ping_nodes(void *state, struct hhad_req *req, json_object *args)
{
	struct net *n = state;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "reached", json_object_new_int(n->m ? hha_membership_ping_reached(n->m) : 0));
	json_object_object_add(o, "count", json_object_new_int(n->m ? hha_membership_ping_count(n->m) : 0));
	return hhad_req_reply(req, o);
}

static int verb_lease_want(void *state, struct hhad_req *req, json_object *args)
{
	struct net *n = state;
	int r;

	if (!n->m)
		return hha_error(-HHA_ESTATE, NULL, "no cluster configured");
	r = hha_membership_lease_want(n->m, hha_json_bool(args, "want", true));
	return r < 0 ? r : hhad_req_reply(req, NULL);
}

static void net_status(void *state, json_object *out)
{
	struct net *n = state;
	json_object *m = members_json(n);

	json_object_object_foreach(m, k, v)
		json_object_object_add(out, k, json_object_get(v));
	json_object_put(m);
	net_vip_status(n, out);
}

static const struct hhad_verb net_verbs[] = {
	{ "net.members", HHAD_PRIV_READ, verb_members, "nodes, links, states, counters" },
	{ "net.ping-nodes", HHAD_PRIV_READ, verb_ping_nodes, "ping nodes reached by this node" },
	{ "net.lease.want", HHAD_PRIV_ADMIN, verb_lease_want, "ask for / give up the witness lease: {\"want\": true}" },
	{ "net.vip.add", HHAD_PRIV_ADMIN, net_verb_vip_add,
	  "add, own and announce a VIP: {\"address\": \"A/P\", \"dev\", \"label\", \"arp_count\", \"arp_interval_ms\", \"nodad\"}" },
	{ "net.vip.del", HHAD_PRIV_ADMIN, net_verb_vip_del, "remove a VIP and give up owning it: {\"address\", \"dev\"}" },
	{ "net.vip.status", HHAD_PRIV_READ, net_verb_vip_status, "is {\"address\"} held here, and owned" },
	{ "net.vip.list", HHAD_PRIV_READ, net_verb_vip_list, "VIPs held or owned here" },
	{ "net.vip.cluster", HHAD_PRIV_READ, net_verb_vip_cluster,
	  "VIPs held in the cluster: here, and what live peers say in their heartbeats" },
	{ "net.arp", HHAD_PRIV_ADMIN, net_verb_arp, "announce {\"address\", \"dev\", \"count\", \"interval_ms\"}" },
	{ NULL, 0, NULL, NULL },
};

const struct hhad_module hhad_module_net = {
	.name = "net",
	.init = net_init,
	.reload = net_reload,
	.status = net_status,
	.fini = net_fini,
	.verbs = net_verbs,
};
