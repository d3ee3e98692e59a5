/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-disk: replicated block devices, drbdsetup-style (hha-disk RES VERB [ARGS]). */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hha-disk.h"

/*
 * Each verb is one request to hhad (disk.VERB) with the resource name and
 * the options turned into JSON arguments. Options are described by a table
 * per verb, matched exactly; bad values are quoted back (`600X').
 */

enum opt_type { O_STR, O_SIZE, O_RATE, O_MS, O_INT, O_FLAG };

struct opt {
	const char *name;   /* "--protocol" */
	const char *alias;  /* "-t" or NULL */
	const char *key;    /* JSON argument */
	enum opt_type type;
};

struct dverb {
	const char *name, *alias;
	const char *cmd;            /* hhad command */
	const char *const *pos;     /* positional argument keys, NULL-terminated (a "?" prefix: optional) */
	const struct opt *opts;
	int timeout_ms;             /* -1: wait for ever (wait verbs compute their own) */
	const char *synopsis, *help;
};

static const char *const pos_none[] = { NULL };
static const char *const pos_backing[] = { "backing", NULL };
static const char *const pos_backing_opt[] = { "?backing", NULL };
static const char *const pos_connect[] = { "?local", "?peer", NULL };

static const struct opt o_none[] = { { NULL, NULL, NULL, 0 } };
static const struct opt o_create[] = {
	{ "--meta", NULL, "meta", O_STR }, { "--al-extents", NULL, "al_extents", O_INT },
	{ "--force", NULL, "force", O_FLAG }, { NULL, NULL, NULL, 0 } };
static const struct opt o_attach[] = {
	{ "--meta", NULL, "meta", O_STR }, { "--size", NULL, "size", O_SIZE },
	{ "--export-unix", NULL, "export_unix", O_STR }, { "--export-tcp", NULL, "export_tcp", O_STR },
	{ "--export-name", NULL, "export_name", O_STR },
	{ "--export-secondary", NULL, "export_secondary", O_STR },
	{ "--no-export", NULL, "no_export", O_FLAG }, { NULL, NULL, NULL, 0 } };
static const struct opt o_connect[] = {
	{ "--protocol", NULL, "protocol", O_STR }, { "--timeout", NULL, "timeout_ms", O_MS },
	{ "--ping-int", NULL, "ping_int_ms", O_MS }, { "--connect-int", NULL, "connect_int_ms", O_MS },
	{ "--sndbuf", NULL, "sndbuf", O_SIZE }, { "--security", NULL, "security", O_STR },
	{ "--key-file", NULL, "key_file", O_STR }, { "--discard-my-data", NULL, "discard_my_data", O_FLAG },
	{ NULL, NULL, NULL, 0 } };
static const struct opt o_verify[] = { { "--start", NULL, "start", O_SIZE }, { NULL, NULL, NULL, 0 } };
static const struct opt o_primary[] = { { "--force", NULL, "force", O_FLAG }, { NULL, NULL, NULL, 0 } };
static const struct opt o_wait[] = { { "--timeout", "-t", "timeout_ms", O_MS }, { NULL, NULL, NULL, 0 } };
static const struct opt o_syncer[] = { { "--rate", NULL, "rate", O_RATE }, { NULL, NULL, NULL, 0 } };
static const struct opt o_resize[] = {
	{ "--size", NULL, "size", O_SIZE }, { "--assume-peer-has-space", NULL, "assume_peer_has_space", O_FLAG },
	{ NULL, NULL, NULL, 0 } };
static const struct opt o_dump[] = { { "--meta", NULL, "meta", O_STR }, { NULL, NULL, NULL, 0 } };

static const struct dverb dverbs[] = {
	{ "create-md", NULL, "disk.create-md", pos_backing_opt, o_create, 600000,
	  "[BACKING] [--meta FILE|internal] [--al-extents N] [--force]", "write fresh metadata" },
	{ "attach", "disk", "disk.attach", pos_backing, o_attach, 60000,
	  "LOWER [--meta FILE] [--size SIZE] [--export-unix PATH] [--export-tcp ADDR:PORT] [--no-export]",
	  "attach a backing store and export it" },
	{ "connect", "net", "disk.connect", pos_connect, o_connect, 60000,
	  "[LOCAL[:PORT] REMOTE[:PORT]] [--protocol A|B|C] [--timeout T] [--ping-int T] [--sndbuf SIZE] "
	  "[--security auth|encrypt|none] [--key-file F] [--discard-my-data]", "replicate with the peer" },
	{ "primary", NULL, "disk.primary", pos_none, o_primary, 60000, "[--force]", "become primary" },
	{ "secondary", NULL, "disk.secondary", pos_none, o_none, 60000, "", "become secondary" },
	{ "wait-connect", NULL, "disk.wait-connect", pos_none, o_wait, -1, "[-t SECONDS]",
	  "wait until connected" },
	{ "wait-sync", NULL, "disk.wait-sync", pos_none, o_wait, -1, "[-t SECONDS]", "wait until in sync" },
	{ "syncer", NULL, "disk.syncer", pos_none, o_syncer, 10000, "--rate RATE", "resync rate (600M, unlimited)" },
	{ "skip-sync", NULL, "disk.skip-sync", pos_none, o_none, 60000, "",
	  "declare two blank disks identical (DANGEROUS on disks with data)" },
	{ "disconnect", NULL, "disk.disconnect", pos_none, o_none, 60000, "", "stop replicating" },
	{ "outdate", NULL, "disk.outdate", pos_none, o_none, 60000, "",
	  "mark this disk Outdated (promotion then needs --force)" },
	{ "invalidate", NULL, "disk.invalidate", pos_none, o_none, 60000, "",
	  "this side's data is bad: full sync from the peer" },
	{ "invalidate-remote", NULL, "disk.invalidate-remote", pos_none, o_none, 60000, "",
	  "the peer's data is bad: full sync to it" },
	{ "pause-sync", NULL, "disk.pause-sync", pos_none, o_none, 10000, "", "hold the resync" },
	{ "resume-sync", NULL, "disk.resume-sync", pos_none, o_none, 10000, "", "let the resync go on" },
	{ "verify", NULL, "disk.verify", pos_none, o_verify, 60000, "[--start OFFSET]",
	  "compare both disks online (progress in status)" },
	{ "resync-marked", NULL, "disk.resync-marked", pos_none, o_none, 60000, "",
	  "resync what verify marked, now" },
	{ "resize", NULL, "disk.resize", pos_none, o_resize, -1, "[--size SIZE] [--assume-peer-has-space]",
	  "grow online after both backing stores grew (syncs the new area)" },
	{ "detach", NULL, "disk.detach", pos_none, o_none, 60000, "", "close the backing store" },
	{ "down", NULL, "disk.down", pos_none, o_none, 60000, "", "disconnect, detach, forget" },
	{ "show", NULL, "disk.show", pos_none, o_none, 10000, "", "configuration" },
	{ "status", NULL, "disk.status", pos_none, o_none, 10000, "", "states and counters" },
	{ "dump-md", NULL, "disk.dump-md", pos_backing_opt, o_dump, 60000, "[BACKING] [--meta FILE]",
	  "the metadata" },
	{ "events", NULL, NULL, pos_none, o_none, -1, "", "stream state changes" },
	{ NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: hha-disk [--json] [--socket PATH] RESOURCE VERB [ARGS...]\n"
		   "       hha-disk [--json] [--socket PATH] status|show|events\n\n"
		   "Replicated block devices (like drbdsetup). Verbs:\n");
	for (const struct dverb *v = dverbs; v->name; v++) {
		char head[64];
		snprintf(head, sizeof(head), "%s%s%s", v->name, v->alias ? ", " : "", v->alias ? v->alias : "");
		fprintf(f, "  %-22s %s\n  %-22s   %s\n", head, v->help, "", v->synopsis);
	}
	fprintf(f, "\nSizes take K, M, G, T (binary); times are milliseconds, or SECONDS with `s'\n"
		   "(wait-* -t takes seconds). Exit codes: 0 ok, 1 failed, 2 usage, 4 hhad not\n"
		   "reachable, 5 permission denied, 6 timed out, 7 version mismatch, 8 refused in\n"
		   "this state (peer primary, not UpToDate, split brain). See hha-disk(1).\n");
}

static const struct dverb *find_verb(const char *name)
{
	for (const struct dverb *v = dverbs; v->name; v++)
		if (strcmp(v->name, name) == 0 || (v->alias && strcmp(v->alias, name) == 0))
			return v;
	return NULL;
}

static int parse_opt(struct hha_cli *cli, const struct opt *o, const char *val, json_object *args)
{
	uint64_t u;
	int64_t i;

	switch (o->type) {
	case O_FLAG:
		json_object_object_add(args, o->key, json_object_new_boolean(1));
		return 0;
	case O_STR:
		json_object_object_add(args, o->key, json_object_new_string(val));
		return 0;
	case O_SIZE:
	case O_RATE:
		if (disk_parse_size(val, o->type == O_RATE, &u) < 0 || u > INT64_MAX)
			return hha_cli_usage(cli, "invalid %s `%s'", o->type == O_RATE ? "rate" : "size", val);
		json_object_object_add(args, o->key, json_object_new_int64((int64_t)u));
		return 0;
	case O_MS:
		/* wait-* -t counts seconds, as drbdsetup's did. */
		if (strcmp(o->key, "timeout_ms") == 0 && o->alias && !strchr(val, 's')) {
			char buf[64];
			snprintf(buf, sizeof(buf), "%ss", val);
			if (disk_parse_ms(buf, &i) < 0)
				return hha_cli_usage(cli, "invalid time `%s'", val);
		} else if (disk_parse_ms(val, &i) < 0) {
			return hha_cli_usage(cli, "invalid time `%s'", val);
		}
		json_object_object_add(args, o->key, json_object_new_int64(i));
		return 0;
	case O_INT: {
		char *end;
		long long v = strtoll(val, &end, 10);
		if (!*val || *end)
			return hha_cli_usage(cli, "invalid number `%s'", val);
		json_object_object_add(args, o->key, json_object_new_int64(v));
		return 0;
	}
	}
	return 0;
}

/* Turn VERB's argv (after the verb) into JSON arguments. HHA_EXIT_OK or a usage error. */
static int build_args(struct hha_cli *cli, const struct dverb *v, int argc, char **argv, json_object *args)
{
	int npos = 0, r;

	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] == '-' && a[1]) {
			const struct opt *o = v->opts;
			const char *eq = strchr(a, '='), *val = NULL;
			size_t n = eq ? (size_t)(eq - a) : strlen(a);
			for (; o->name; o++)
				if ((strlen(o->name) == n && strncmp(o->name, a, n) == 0) ||
				    (o->alias && strcmp(o->alias, a) == 0))
					break;
			if (!o->name)
				return hha_cli_usage(cli, "%s: unknown option `%s'", v->name, a);
			if (o->type != O_FLAG) {
				if (eq)
					val = eq + 1;
				else if (i + 1 < argc)
					val = argv[++i];
				else
					return hha_cli_usage(cli, "%s: %s needs a value", v->name, o->name);
			} else if (eq) {
				return hha_cli_usage(cli, "%s: %s takes no value", v->name, o->name);
			}
			if ((r = parse_opt(cli, o, val, args)) != HHA_EXIT_OK)
				return r;
			continue;
		}
		if (!v->pos[npos])
			return hha_cli_usage(cli, "%s: unexpected argument `%s'", v->name, a);
		json_object_object_add(args, v->pos[npos][0] == '?' ? v->pos[npos] + 1 : v->pos[npos],
				       json_object_new_string(a));
		npos++;
	}
	if (v->pos[npos] && v->pos[npos][0] != '?')
		return hha_cli_usage(cli, "%s: missing %s", v->name, v->pos[npos]);
	return HHA_EXIT_OK;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int events(struct hha_cli *cli, const char *resource)
{
	int r = hha_cli_connect(cli);

	if (r != HHA_EXIT_OK)
		return r;
	if (hha_ctl_subscribe(cli->ctl, "[\"disk\"]") < 0)
		return hha_cli_fail(cli, hha_cli_exit_code(-1), "cannot subscribe: %s", hha_last_error());
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop) {
		char *text = NULL;
		json_object *ev, *data, *res;
		int e = hha_ctl_next_event(cli->ctl, 500, &text);
		if (e == -ETIMEDOUT)
			continue;
		if (e < 0)
			return hha_cli_fail(cli, HHA_EXIT_NODAEMON, "hhad went away");
		ev = json_tokener_parse(text);
		free(text);
		if (!ev)
			continue;
		data = json_object_object_get(ev, "data");
		res = json_object_object_get(data, "resource");
		if (!resource || (res && strcmp(json_object_get_string(res), resource) == 0)) {
			if (cli->json) {
				printf("%s\n", json_object_to_json_string_ext(ev, JSON_C_TO_STRING_PLAIN));
				fflush(stdout);
			} else {
				disk_print_event(ev);
			}
		}
		json_object_put(ev);
	}
	return HHA_EXIT_OK;
}

static int run_verb(struct hha_cli *cli, const char *resource, const struct dverb *v, int argc, char **argv)
{
	json_object *args = json_object_new_object(), *res = NULL, *t;
	int r, timeout = v->timeout_ms;

	if (!v->cmd) {
		json_object_put(args);
		if (argc > 0)
			return hha_cli_usage(cli, "events: unexpected argument `%s'", argv[0]);
		return events(cli, resource);
	}
	if (resource)
		json_object_object_add(args, "resource", json_object_new_string(resource));
	if ((r = build_args(cli, v, argc, argv, args)) != HHA_EXIT_OK) {
		json_object_put(args);
		return r;
	}
	/* A wait's own timeout bounds the call (plus slack); none waits for ever. */
	if (timeout < 0 && json_object_object_get_ex(args, "timeout_ms", &t))
		timeout = (int)json_object_get_int64(t) + 5000;
	r = hha_cli_call(cli, v->cmd, args, timeout, &res);
	if (r != HHA_EXIT_OK)
		return r;
	if (cli->json) {
		if (res)
			hha_cli_print_json(res);
	} else if (strcmp(v->name, "status") == 0 || strncmp(v->name, "wait-", 5) == 0) {
		if (strcmp(v->name, "status") == 0)
			disk_print_status(res);
	} else if (strcmp(v->name, "show") == 0) {
		disk_print_show(res);
	} else if (strcmp(v->name, "create-md") == 0) {
		int64_t shrink = json_object_get_int64(json_object_object_get(res, "shrink"));
		printf("%s: metadata written on %s: usable size %lld bytes (%.1f MiB); %s\n", resource,
		       json_object_get_string(json_object_object_get(res, "backing")),
		       (long long)json_object_get_int64(json_object_object_get(res, "usable_size")),
		       (double)json_object_get_int64(json_object_object_get(res, "usable_size")) / 1048576.0,
		       shrink ? "internal metadata: the device is smaller than its backing store" : "external metadata");
		if (shrink)
			printf("%s: the usable size shrank by %lld bytes (%.1f KiB)\n", resource, (long long)shrink,
			       (double)shrink / 1024.0);
	} else if (strcmp(v->name, "dump-md") == 0) {
		disk_print_md(res);
	}
	json_object_put(res);
	return HHA_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct hha_cli cli = { .prog = "hha-disk" };
	static const struct hha_cli_verb none[] = { { NULL, NULL, NULL, NULL } };
	const struct dverb *v;
	const char *resource = NULL;
	int r;

	if (hha_ctx_new(&cli.ctx) < 0)
		return HHA_EXIT_FAIL;
	if (!getenv("HHA_LOG_LEVEL"))
		hha_ctx_set_log_level(cli.ctx, HHA_LOG_WARNING);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			hha_ctx_free(cli.ctx);
			return HHA_EXIT_OK;
		}
		if (strcmp(argv[i], "--") == 0)
			break;
	}
	r = hha_cli_globals(&cli, &argc, &argv, none, "Replicated block devices.", false);
	if (r >= 0)
		goto out;
	if (argc < 2) {
		v = find_verb("status");
		r = run_verb(&cli, NULL, v, 0, argv + 1);
		goto out;
	}
	v = find_verb(argv[1]);
	if (v && (strcmp(v->name, "status") == 0 || strcmp(v->name, "show") == 0 ||
		  strcmp(v->name, "events") == 0)) {
		r = run_verb(&cli, NULL, v, argc - 2, argv + 2);
		goto out;
	}
	resource = argv[1];
	if (argc < 3) {
		r = hha_cli_usage(&cli, "missing verb after resource `%s'", resource);
		goto out;
	}
	v = find_verb(argv[2]);
	if (!v) {
		r = hha_cli_usage(&cli, "unknown verb `%s'", argv[2]);
		goto out;
	}
	r = run_verb(&cli, resource, v, argc - 3, argv + 3);
out:
	hha_ctl_close(cli.ctl);
	hha_ctx_free(cli.ctx);
	return r;
}
