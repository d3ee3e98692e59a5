/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-net vip and arp: through hhad when it answers, else through the library directly. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hha-net.h"

/* A decimal integer in [min, max] with nothing after it. */
static int parse_num(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

struct vip_args {
	const char *addr, *dev, *label;
	int64_t count, interval;
	bool nodad, have_count, have_interval;
};

/* ADDR [dev IF] [label L] [--arp-count N|--count N] [--arp-interval MS|--interval MS] [--nodad] */
static int parse(struct hha_cli *cli, int argc, char **argv, const char *what, struct vip_args *a)
{
	memset(a, 0, sizeof(*a));
	a->count = 5;
	a->interval = 200;
	if (argc < 2)
		return hha_cli_usage(cli, "%s: missing address", what);
	a->addr = argv[1];
	for (int i = 2; i < argc; i++) {
		const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(k, "--nodad") == 0) {
			a->nodad = true;
			continue;
		}
		if (!v)
			return hha_cli_usage(cli, "%s: `%s' needs a value", what, k);
		if (strcmp(k, "dev") == 0) {
			a->dev = v;
		} else if (strcmp(k, "label") == 0) {
			a->label = v;
		} else if (strcmp(k, "--arp-count") == 0 || strcmp(k, "--count") == 0) {
			if (parse_num(v, 0, 100, &a->count) < 0)
				return hha_cli_usage(cli, "%s: invalid count `%s' (0..100)", what, v);
			a->have_count = true;
		} else if (strcmp(k, "--arp-interval") == 0 || strcmp(k, "--interval") == 0) {
			if (parse_num(v, 10, 10000, &a->interval) < 0)
				return hha_cli_usage(cli, "%s: invalid interval `%s' (10..10000 ms)", what, v);
			a->have_interval = true;
		} else {
			return hha_cli_usage(cli, "%s: unexpected argument `%s'", what, k);
		}
		i++;
	}
	return -1;
}

static int lib_fail(struct hha_cli *cli, int r)
{
	const char *m = hha_last_error(), *p = strstr(m, ": ");

	if (p && strncmp(m, "hha_", 4) == 0)
		m = p + 2;
	return hha_cli_fail(cli, hha_cli_exit_code(r), "%s", m);
}

static json_object *args_json(const struct vip_args *a)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "address", json_object_new_string(a->addr));
	if (a->dev)
		json_object_object_add(o, "dev", json_object_new_string(a->dev));
	if (a->label)
		json_object_object_add(o, "label", json_object_new_string(a->label));
	json_object_object_add(o, "arp_count", json_object_new_int64(a->count));
	json_object_object_add(o, "arp_interval_ms", json_object_new_int64(a->interval));
	json_object_object_add(o, "nodad", json_object_new_boolean(a->nodad));
	return o;
}

static int report(struct hha_cli *cli, json_object *res, const char *text)
{
	if (cli->json)
		hha_cli_print_json(res);
	else if (text)
		printf("%s\n", text);
	json_object_put(res);
	return HHA_EXIT_OK;
}

static int vip_add(struct hha_cli *cli, int argc, char **argv)
{
	struct vip_args a;
	struct hha_vip_opts o = { .size = sizeof(o) };
	json_object *res;
	char text[160];
	int r = parse(cli, argc, argv, "vip add", &a);

	if (r >= 0)
		return r;
	if (!a.dev)
		return hha_cli_usage(cli, "vip add: missing `dev IF'");
	if (net_have_daemon(cli)) {
		r = hha_cli_call(cli, "net.vip.add", args_json(&a), 30000, &res);
		if (r != HHA_EXIT_OK)
			return r;
	} else {
		o.label = a.label;
		o.nodad = a.nodad;
		o.arp_count = (unsigned)a.count;
		o.no_announce = a.count == 0;
		o.arp_interval_ms = (unsigned)a.interval;
		r = hha_vip_add(cli->ctx, a.addr, a.dev, &o);
		if (r < 0)
			return lib_fail(cli, r);
		/* Announce even when it was there: a peer may have held it meanwhile. */
		if (!o.no_announce) {
			int r2 = hha_vip_takeover(cli->ctx, a.addr, a.dev, &o);
			if (r2 < 0)
				return lib_fail(cli, r2);
		}
		res = json_object_new_object();
		json_object_object_add(res, "address", json_object_new_string(a.addr));
		json_object_object_add(res, "dev", json_object_new_string(a.dev));
		json_object_object_add(res, "added", json_object_new_boolean(r == 0));
	}
	snprintf(text, sizeof(text), "%s %s %s",
		 a.addr, json_object_get_boolean(json_object_object_get(res, "added")) ? "added to" : "already on", a.dev);
	return report(cli, res, text);
}

static int vip_del(struct hha_cli *cli, int argc, char **argv)
{
	struct vip_args a;
	json_object *res;
	char text[160];
	int r = parse(cli, argc, argv, "vip del", &a);

	if (r >= 0)
		return r;
	if (!a.dev)
		return hha_cli_usage(cli, "vip del: missing `dev IF'");
	if (net_have_daemon(cli)) {
		json_object *args = json_object_new_object();
		json_object_object_add(args, "address", json_object_new_string(a.addr));
		json_object_object_add(args, "dev", json_object_new_string(a.dev));
		r = hha_cli_call(cli, "net.vip.del", args, 30000, &res);
		if (r != HHA_EXIT_OK)
			return r;
	} else {
		r = hha_vip_del(cli->ctx, a.addr, a.dev);
		if (r < 0)
			return lib_fail(cli, r);
		res = json_object_new_object();
		json_object_object_add(res, "removed", json_object_new_boolean(r == 0));
	}
	snprintf(text, sizeof(text), "%s %s %s", a.addr,
		 json_object_get_boolean(json_object_object_get(res, "removed")) ? "removed from" : "was not on",
		 a.dev);
	return report(cli, res, text);
}

static json_object *info_json(const struct hha_vip_info *i)
{
	json_object *o = json_object_new_object();
	char p[64];

	snprintf(p, sizeof(p), "%s/%d", i->address, i->prefixlen);
	json_object_object_add(o, "address", json_object_new_string(p));
	json_object_object_add(o, "dev", json_object_new_string(i->dev));
	json_object_object_add(o, "label", i->label[0] ? json_object_new_string(i->label) : NULL);
	json_object_object_add(o, "held", json_object_new_boolean(true));
	json_object_object_add(o, "vip", json_object_new_boolean(i->ours));
	json_object_object_add(o, "tentative", json_object_new_boolean(i->tentative));
	json_object_object_add(o, "dadfailed", json_object_new_boolean(i->dadfailed));
	return o;
}

static int vip_status(struct hha_cli *cli, int argc, char **argv)
{
	struct vip_args a;
	struct hha_vip_info info;
	json_object *res;
	char text[160];
	bool held;
	int r = parse(cli, argc, argv, "vip status", &a);

	if (r >= 0)
		return r;
	if (net_have_daemon(cli)) {
		json_object *args = json_object_new_object();
		json_object_object_add(args, "address", json_object_new_string(a.addr));
		if (a.dev)
			json_object_object_add(args, "dev", json_object_new_string(a.dev));
		r = hha_cli_call(cli, "net.vip.status", args, 10000, &res);
		if (r != HHA_EXIT_OK)
			return r;
	} else {
		r = hha_vip_query(cli->ctx, a.addr, a.dev, &info);
		if (r < 0 && r != -ENOENT)
			return lib_fail(cli, r);
		if (r == 0) {
			res = info_json(&info);
		} else {
			res = json_object_new_object();
			json_object_object_add(res, "address", json_object_new_string(a.addr));
			json_object_object_add(res, "held", json_object_new_boolean(false));
		}
	}
	held = json_object_get_boolean(json_object_object_get(res, "held"));
	if (held)
		snprintf(text, sizeof(text), "%s held on %s%s", json_object_get_string(json_object_object_get(res, "address")),
			 json_object_get_string(json_object_object_get(res, "dev")),
			 json_object_get_boolean(json_object_object_get(res, "tentative")) ? " (tentative)" : "");
	else
		snprintf(text, sizeof(text), "%s not held here", a.addr);
	report(cli, res, text);
	return held ? HHA_EXIT_OK : HHA_EXIT_FALSE;
}

/* Every node's VIPs, as the heartbeats tell them; needs hhad. */
static int vip_list_cluster(struct hha_cli *cli)
{
	json_object *res;
	int r = hha_cli_call(cli, "net.vip.cluster", NULL, 10000, &res);
	bool conflict = false;

	if (r != HHA_EXIT_OK)
		return r;
	for (size_t i = 0; i < json_object_array_length(res); i++) {
		json_object *v = json_object_array_get_idx(res, i);
		bool c = json_object_get_boolean(json_object_object_get(v, "conflict"));
		conflict |= c;
		if (cli->json)
			continue;
		json_object *h = json_object_object_get(v, "holder");
		printf("%-40s %-10s %-12s%s%s\n", json_object_get_string(json_object_object_get(v, "address")),
		       json_object_get_string(json_object_object_get(v, "dev")),
		       h ? json_object_get_string(h) : "nobody (owned here, missing)",
		       json_object_get_boolean(json_object_object_get(v, "tentative")) ? " tentative" : "",
		       c ? " CONFLICT: held by more than one node" : "");
	}
	if (cli->json)
		report(cli, res, NULL);
	else
		json_object_put(res);
	return conflict ? HHA_EXIT_FAIL : HHA_EXIT_OK;
}

static int vip_list(struct hha_cli *cli, int argc, char **argv)
{
	struct hha_vip_info *all = NULL;
	size_t n = 0;
	json_object *res;
	int r;

	if (argc > 1 && !strcmp(argv[1], "--cluster") && argc == 2)
		return vip_list_cluster(cli);
	if (argc > 1)
		return hha_cli_usage(cli, "vip list: unexpected argument `%s'", argv[1]);
	if (net_have_daemon(cli)) {
		r = hha_cli_call(cli, "net.vip.list", NULL, 10000, &res);
		if (r != HHA_EXIT_OK)
			return r;
	} else {
		r = hha_vip_list(cli->ctx, &all, &n);
		if (r < 0)
			return lib_fail(cli, r);
		res = json_object_new_array();
		for (size_t i = 0; i < n; i++)
			json_object_array_add(res, info_json(&all[i]));
		free(all);
	}
	if (cli->json)
		return report(cli, res, NULL);
	for (size_t i = 0; i < json_object_array_length(res); i++) {
		json_object *v = json_object_array_get_idx(res, i), *own = json_object_object_get(v, "owned");
		printf("%-40s %-10s %s%s%s\n", json_object_get_string(json_object_object_get(v, "address")),
		       json_object_get_string(json_object_object_get(v, "dev")),
		       json_object_get_boolean(json_object_object_get(v, "held")) ? "held" : "missing",
		       own && json_object_get_boolean(own) ? ", owned" : "",
		       json_object_get_boolean(json_object_object_get(v, "tentative")) ? ", tentative" : "");
	}
	json_object_put(res);
	return HHA_EXIT_OK;
}

static const struct hha_cli_verb vip_verbs[] = {
	{ "add", vip_add, "ADDR/PREFIX dev IF [label L] [--arp-count N] [--arp-interval MS] [--nodad]", "" },
	{ "del", vip_del, "ADDR/PREFIX dev IF", "" },
	{ "status", vip_status, "ADDR [dev IF]", "" },
	{ "list", vip_list, "[--cluster]", "" },
	{ NULL, NULL, NULL, NULL },
};

int cmd_vip(struct hha_cli *cli, int argc, char **argv)
{
	const struct hha_cli_verb *v;

	if (argc < 2)
		return hha_cli_usage(cli, "vip: expected add, del, status or list");
	v = hha_cli_find(vip_verbs, argv[1]);
	if (!v)
		return hha_cli_usage(cli, "vip: unknown verb `%s'", argv[1]);
	return v->fn(cli, argc - 1, argv + 1);
}

int cmd_arp(struct hha_cli *cli, int argc, char **argv)
{
	struct vip_args a;
	int r = parse(cli, argc, argv, "arp", &a);

	if (r >= 0)
		return r;
	if (!a.dev)
		return hha_cli_usage(cli, "arp: missing `dev IF'");
	if (net_have_daemon(cli)) {
		json_object *args = json_object_new_object();
		json_object_object_add(args, "address", json_object_new_string(a.addr));
		json_object_object_add(args, "dev", json_object_new_string(a.dev));
		json_object_object_add(args, "count", json_object_new_int64(a.count));
		json_object_object_add(args, "interval_ms", json_object_new_int64(a.interval));
		return hha_cli_call(cli, "net.arp", args, 30000, NULL);
	}
	r = hha_vip_announce(cli->ctx, a.addr, a.dev, (unsigned)a.count, (unsigned)a.interval);
	return r < 0 ? lib_fail(cli, r) : HHA_EXIT_OK;
}
