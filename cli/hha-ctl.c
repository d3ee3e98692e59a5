/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-ctl: talk to hhad directly (status, reload, events, any command). */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

static int print_result(struct hha_cli *cli, json_object *res)
{
	if (res)
		hha_cli_print_json(res);
	json_object_put(res);
	return HHA_EXIT_OK;
}

static int cmd_status(struct hha_cli *cli, int argc, char **argv)
{
	json_object *res, *mods;
	int r;

	if (argc > 1)
		return hha_cli_usage(cli, "status: unexpected argument `%s'", argv[1]);
	r = hha_cli_call(cli, "status", NULL, 10000, &res);
	if (r != HHA_EXIT_OK)
		return r;
	if (cli->json)
		return print_result(cli, res);
	printf("node %s (id %s), hhad %s, pid %s, up %.1f s\n",
	       json_object_get_string(json_object_object_get(res, "node")),
	       json_object_get_string(json_object_object_get(res, "node_id")),
	       json_object_get_string(json_object_object_get(res, "version")),
	       json_object_get_string(json_object_object_get(res, "pid")),
	       (double)json_object_get_int64(json_object_object_get(res, "uptime_ms")) / 1000.0);
	printf("config %s, %s control client(s)\n",
	       json_object_get_string(json_object_object_get(res, "config")),
	       json_object_get_string(json_object_object_get(res, "clients")));
	mods = json_object_object_get(res, "modules");
	json_object_object_foreach(mods, name, m)
		printf("%s: %s\n", name, json_object_to_json_string_ext(m, JSON_C_TO_STRING_PLAIN));
	json_object_put(res);
	return HHA_EXIT_OK;
}

static int cmd_simple(struct hha_cli *cli, int argc, char **argv, const char *cmd)
{
	json_object *res;
	int r;

	if (argc > 1)
		return hha_cli_usage(cli, "%s: unexpected argument `%s'", argv[0], argv[1]);
	r = hha_cli_call(cli, cmd, NULL, 30000, &res);
	if (r != HHA_EXIT_OK)
		return r;
	if (cli->json || json_object_object_length(res) > 0 ||
	    json_object_is_type(res, json_type_array))
		return print_result(cli, res);
	json_object_put(res);
	return HHA_EXIT_OK;
}

static int cmd_reload(struct hha_cli *cli, int argc, char **argv)
{
	return cmd_simple(cli, argc, argv, "reload");
}

static int cmd_config(struct hha_cli *cli, int argc, char **argv)
{
	return cmd_simple(cli, argc, argv, "config.show");
}

static int cmd_verbs(struct hha_cli *cli, int argc, char **argv)
{
	json_object *res;
	int r;

	if (argc > 1)
		return hha_cli_usage(cli, "verbs: unexpected argument `%s'", argv[1]);
	r = hha_cli_call(cli, "verbs", NULL, 10000, &res);
	if (r != HHA_EXIT_OK || cli->json)
		return r == HHA_EXIT_OK ? print_result(cli, res) : r;
	for (size_t i = 0; i < json_object_array_length(res); i++) {
		json_object *v = json_object_array_get_idx(res, i);
		printf("%-24s %-6s %s\n", json_object_get_string(json_object_object_get(v, "name")),
		       json_object_get_boolean(json_object_object_get(v, "admin")) ? "admin" : "",
		       json_object_get_string(json_object_object_get(v, "help")));
	}
	json_object_put(res);
	return HHA_EXIT_OK;
}

static int cmd_call(struct hha_cli *cli, int argc, char **argv)
{
	json_object *args = NULL, *res;
	int r;

	if (argc < 2 || argc > 3)
		return hha_cli_usage(cli, "call: expected COMMAND [JSON-ARGS]");
	if (argc == 3) {
		args = json_tokener_parse(argv[2]);
		if (!args || !json_object_is_type(args, json_type_object)) {
			json_object_put(args);
			return hha_cli_usage(cli, "call: arguments are not a JSON object: `%s'", argv[2]);
		}
	}
	r = hha_cli_call(cli, argv[1], args, 60000, &res);
	return r == HHA_EXIT_OK ? print_result(cli, res) : r;
}

static int cmd_events(struct hha_cli *cli, int argc, char **argv)
{
	json_object *topics = json_object_new_array();
	int r;

	for (int i = 1; i < argc; i++)
		json_object_array_add(topics, json_object_new_string(argv[i]));
	r = hha_cli_connect(cli);
	if (r == HHA_EXIT_OK && hha_ctl_subscribe(cli->ctl, argc > 1 ? json_object_to_json_string(topics)
								      : NULL) < 0)
		r = hha_cli_fail(cli, hha_cli_exit_code(hha_last_error_code()), "%s", hha_last_error());
	json_object_put(topics);
	if (r != HHA_EXIT_OK)
		return r;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (;;) {
		char *ev;
		json_object *o;
		if (hha_ctl_next_event(cli->ctl, -1, &ev) < 0)
			return hha_cli_fail(cli, HHA_EXIT_NODAEMON, "hhad closed the connection");
		o = json_tokener_parse(ev);
		if (cli->json || !o) {
			printf("%s\n", ev);
		} else {
			printf("%s %s\n", json_object_get_string(json_object_object_get(o, "event")),
			       json_object_to_json_string_ext(json_object_object_get(o, "data"),
							      JSON_C_TO_STRING_PLAIN));
		}
		json_object_put(o);
		free(ev);
	}
}

static const struct hha_cli_verb verbs[] = {
	{ "status", cmd_status, "", "daemon and module status (the default)" },
	{ "reload", cmd_reload, "", "validate and apply the configuration file again" },
	{ "config", cmd_config, "", "the running configuration with defaults filled in" },
	{ "events", cmd_events, "[TOPIC...]", "stream events, one per line, until interrupted" },
	{ "verbs", cmd_verbs, "", "the commands hhad understands" },
	{ "call", cmd_call, "COMMAND [JSON]", "send any command with JSON arguments" },
	{ NULL, NULL, NULL, NULL },
};

int main(int argc, char **argv)
{
	struct hha_cli cli = { .prog = "hha-ctl" };

	signal(SIGPIPE, SIG_IGN);
	return hha_cli_main(&cli, verbs, "Talk to the local hhad over its control socket.", "status",
			    argc, argv);
}
