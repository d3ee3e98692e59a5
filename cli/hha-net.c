/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-net: cluster membership, heartbeat links and virtual IPs. */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hha-net.h"

bool net_have_daemon(struct hha_cli *cli)
{
	if (cli->ctl)
		return true;
	return hha_ctl_open(cli->ctx, cli->socket, &cli->ctl) == 0;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v = json_object_object_get(o, k);

	return v ? json_object_get_string(v) : "-";
}

static void print_ago(json_object *o, const char *k)
{
	json_object *v = json_object_object_get(o, k);
	char b[32];

	if (v)
		snprintf(b, sizeof(b), "%.1f s ago", (double)json_object_get_int64(v) / 1000.0);
	else
		snprintf(b, sizeof(b), "never");
	printf("%-12s ", b);
}

/* The witness lease as this node sees it (nothing without a witness). */
static void print_lease(json_object *l)
{
	if (!l)
		return;
	printf("lease: holder %s, epoch %s", str(l, "holder"), str(l, "epoch"));
	if (json_object_get_boolean(json_object_object_get(l, "held")))
		printf(", held here for %s ms more", str(l, "valid_for_ms"));
	else if (json_object_get_boolean(json_object_object_get(l, "wanted")))
		printf(", wanted here");
	printf("\n");
}

static int cmd_members(struct hha_cli *cli, int argc, char **argv)
{
	json_object *res, *peers, *c;
	int r;

	if (argc > 1)
		return hha_cli_usage(cli, "members: unexpected argument `%s'", argv[1]);
	r = hha_cli_call(cli, "net.members", NULL, 10000, &res);
	if (r != HHA_EXIT_OK)
		return r;
	if (cli->json) {
		hha_cli_print_json(res);
		json_object_put(res);
		return HHA_EXIT_OK;
	}
	peers = json_object_object_get(res, "peers");
	if (!peers) {
		printf("node %s: no cluster configured\n", str(res, "node"));
		json_object_put(res);
		return HHA_EXIT_OK;
	}
	printf("node %s (%s), incarnation %s, ping nodes %s/%s\n", str(res, "node"), str(res, "role"),
	       str(res, "incarnation"), str(res, "ping_reached"), str(res, "ping_count"));
	print_lease(json_object_object_get(res, "lease"));
	printf("\n%-16s %3s  %-7s  %-5s  %-16s %-12s %-5s %s\n", "NODE", "ID", "ROLE", "STATE", "LINKS",
	       "LAST HEARD", "PING", "INCARNATION");
	for (size_t i = 0; i < json_object_array_length(peers); i++) {
		json_object *p = json_object_array_get_idx(peers, i), *links = json_object_object_get(p, "links");
		char lk[64] = "";
		for (size_t l = 0; l < json_object_array_length(links); l++) {
			size_t off = strlen(lk);
			snprintf(lk + off, sizeof(lk) - off, "%s%s", l ? "," : "",
				 str(json_object_array_get_idx(links, l), "state"));
		}
		printf("%-16s %3s  %-7s  %-5s  %-16s ", str(p, "node"), str(p, "id"), str(p, "role"),
		       str(p, "state"), lk);
		print_ago(p, "last_heard_ms_ago");
		printf("%-5s %s\n", str(p, "ping_reached"), str(p, "incarnation"));
	}
	c = json_object_object_get(res, "counters");
	printf("\nsent %s, accepted %s; dropped: malformed %s, bad mac %s, unknown key %s, "
	       "other cluster %s, unknown node %s, wrong link %s, old incarnation %s, replay %s, "
	       "stale echo %s\n",
	       str(c, "sent"), str(c, "accepted"), str(c, "malformed"), str(c, "bad_mac"),
	       str(c, "unknown_key"), str(c, "other_cluster"), str(c, "unknown_node"),
	       str(c, "wrong_link"), str(c, "old_incarnation"), str(c, "replay"), str(c, "stale_echo"));
	json_object_put(res);
	return HHA_EXIT_OK;
}

static int cmd_watch(struct hha_cli *cli, int argc, char **argv)
{
	int r;

	if (argc > 1)
		return hha_cli_usage(cli, "watch: unexpected argument `%s'", argv[1]);
	r = hha_cli_connect(cli);
	if (r == HHA_EXIT_OK && hha_ctl_subscribe(cli->ctl, "[\"net\"]") < 0)
		r = hha_cli_fail(cli, hha_cli_exit_code(hha_last_error_code()), "%s", hha_last_error());
	if (r != HHA_EXIT_OK)
		return r;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		char *ev;
		json_object *o, *d;
		if (hha_ctl_next_event(cli->ctl, -1, &ev) < 0)
			return hha_cli_fail(cli, HHA_EXIT_NODAEMON, "hhad closed the connection");
		o = json_tokener_parse(ev);
		d = o ? json_object_object_get(o, "data") : NULL;
		if (cli->json || !o) {
			printf("%s\n", ev);
		} else if (strcmp(str(o, "event"), "net.member") == 0) {
			printf("%s node %s %s -> %s (%s)%s\n", str(o, "time"), str(d, "node"), str(d, "old"),
			       str(d, "state"), str(d, "reason"),
			       json_object_get_boolean(json_object_object_get(d, "restarted")) ? " restarted" : "");
		} else {
			printf("%s %s %s\n", str(o, "time"), str(o, "event"),
			       json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
		}
		json_object_put(o);
		free(ev);
	}
}

static int cmd_ping_nodes(struct hha_cli *cli, int argc, char **argv)
{
	json_object *res;
	int r;

	if (argc > 1)
		return hha_cli_usage(cli, "ping-nodes: unexpected argument `%s'", argv[1]);
	r = hha_cli_call(cli, "net.ping-nodes", NULL, 10000, &res);
	if (r != HHA_EXIT_OK)
		return r;
	if (cli->json)
		hha_cli_print_json(res);
	else
		printf("%s of %s ping nodes reached\n", str(res, "reached"), str(res, "count"));
	json_object_put(res);
	return HHA_EXIT_OK;
}

static int cmd_lease(struct hha_cli *cli, int argc, char **argv)
{
	json_object *res, *args;
	int r;

	if (argc > 2)
		return hha_cli_usage(cli, "lease: unexpected argument `%s'", argv[2]);
	if (argc == 2) {
		if (strcmp(argv[1], "want") != 0 && strcmp(argv[1], "release") != 0)
			return hha_cli_usage(cli, "lease: expected want or release, got `%s'", argv[1]);
		args = json_object_new_object();
		json_object_object_add(args, "want", json_object_new_boolean(strcmp(argv[1], "want") == 0));
		return hha_cli_call(cli, "net.lease.want", args, 10000, NULL);
	}
	r = hha_cli_call(cli, "net.members", NULL, 10000, &res);
	if (r != HHA_EXIT_OK)
		return r;
	if (!json_object_object_get(res, "lease")) {
		json_object_put(res);
		return hha_cli_fail(cli, HHA_EXIT_STATE, "no witness configured");
	}
	if (cli->json)
		hha_cli_print_json(json_object_object_get(res, "lease"));
	else
		print_lease(json_object_object_get(res, "lease"));
	json_object_put(res);
	return HHA_EXIT_OK;
}

static const struct hha_cli_verb verbs[] = {
	{ "members", cmd_members, "", "nodes, links, states, last heard, counters (the default)" },
	{ "watch", cmd_watch, "", "stream membership, link and VIP events" },
	{ "vip", cmd_vip, "add|del|status|list ...", "virtual IPs (with or without hhad)" },
	{ "arp", cmd_arp, "ADDR dev IF [--count N] [--interval MS]", "announce an address only" },
	{ "ping-nodes", cmd_ping_nodes, "", "how many ping nodes this node reaches" },
	{ "lease", cmd_lease, "[want|release]", "the witness lease as this node sees it; ask for it or give it up" },
	{ NULL, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	struct hha_cli cli = { .prog = "hha-net" };

	signal(SIGPIPE, SIG_IGN);
	return hha_cli_main(&cli, verbs,
			    "Cluster membership and virtual IPs.\n\n"
			    "  vip add ADDR/PREFIX dev IF [label L] [--arp-count N] [--arp-interval MS] [--nodad]\n"
			    "  vip del ADDR/PREFIX dev IF\n"
			    "  vip status ADDR [dev IF]     exit 0 if held here, 3 if not\n"
			    "  vip list [--cluster]         held here; --cluster: on every live node (exit 1 on a conflict)\n\n"
			    "The vip and arp verbs go through hhad when it runs (it then owns the\n"
			    "address and re-adds it if it vanishes), else use the library directly.",
			    "members", argc, argv);
}
