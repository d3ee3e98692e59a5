/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every hha-* tool shares: global flags, verb tables, calls to hhad, exit codes. */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

int hha_cli_fail(struct hha_cli *cli, int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

int hha_cli_usage(struct hha_cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli->prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry '%s --help'.\n", cli->prog);
	return HHA_EXIT_USAGE;
}

void hha_cli_print_json(json_object *o)
{
	printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
								JSON_C_TO_STRING_SPACED |
								JSON_C_TO_STRING_NOSLASHESCAPE));
}

const struct hha_cli_verb *hha_cli_find(const struct hha_cli_verb *verbs, const char *name)
{
	for (; verbs->name; verbs++)
		if (strcmp(verbs->name, name) == 0)
			return verbs;
	return NULL;
}

void hha_cli_help(struct hha_cli *cli, const struct hha_cli_verb *verbs, const char *summary)
{
	printf("Usage: %s [--json] [--socket PATH] VERB [ARGS...]\n\n%s\n\nVerbs:\n", cli->prog,
	       summary);
	for (; verbs->name; verbs++) {
		char head[96];
		snprintf(head, sizeof(head), "%s %s", verbs->name, verbs->synopsis ? verbs->synopsis : "");
		printf("  %-44s %s\n", head, verbs->help);
	}
	printf("\nOptions (anywhere before the verb, or after it):\n"
	       "  --json           machine-readable output\n"
	       "  --socket PATH    hhad's control socket (default $HHA_SOCKET or %s)\n"
	       "  --help, --version\n"
	       "\nExit codes: 0 ok, 1 failed, 2 usage, 3 status is \"no\", 4 hhad not reachable,\n"
	       "5 permission denied, 6 timed out, 7 version mismatch, 8 refused in this state.\n",
	       HHA_CTL_DEFAULT_SOCKET);
}

/* Remove argv[i] (and n-1 following) from the vector. */
static void drop(int *argc, char **argv, int i, int n)
{
	memmove(&argv[i], &argv[i + n], (size_t)(*argc - i - n + 1) * sizeof(char *));
	*argc -= n;
}

int hha_cli_globals(struct hha_cli *cli, int *argc, char ***argv, const struct hha_cli_verb *verbs,
		    const char *summary, bool keep_rest)
{
	char **av = *argv;
	int ac = *argc, i = 1;

	/* Leading globals. */
	while (i < ac && av[i][0] == '-') {
		const char *a = av[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			hha_cli_help(cli, verbs, summary);
			return HHA_EXIT_OK;
		} else if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
			printf("%s %s (libhybridha %s)\n", cli->prog, PACKAGE_VERSION, hha_version());
			return HHA_EXIT_OK;
		} else if (strcmp(a, "--json") == 0 || strcmp(a, "-j") == 0) {
			cli->json = true;
		} else if (strcmp(a, "--socket") == 0) {
			if (i + 1 >= ac)
				return hha_cli_usage(cli, "--socket needs a path");
			cli->socket = av[++i];
		} else if (strncmp(a, "--socket=", 9) == 0) {
			cli->socket = a + 9;
		} else {
			break; /* a verb's own option, or a negative number */
		}
		i++;
	}
	/* argv[0] stays the program name. */
	av[i - 1] = av[0];
	av += i - 1;
	ac -= i - 1;
	if (!keep_rest) {
		for (int k = 1; k < ac;) {
			if (strcmp(av[k], "--") == 0)
				break;
			if (strcmp(av[k], "--json") == 0) {
				cli->json = true;
				drop(&ac, av, k, 1);
			} else if (strcmp(av[k], "--socket") == 0 && k + 1 < ac) {
				cli->socket = av[k + 1];
				drop(&ac, av, k, 2);
			} else if (strncmp(av[k], "--socket=", 9) == 0) {
				cli->socket = av[k] + 9;
				drop(&ac, av, k, 1);
			} else {
				k++;
			}
		}
	}
	*argc = ac;
	*argv = av;
	return -1;
}

int hha_cli_main(struct hha_cli *cli, const struct hha_cli_verb *verbs, const char *summary,
		 const char *default_verb, int argc, char **argv)
{
	const struct hha_cli_verb *v;
	char *dflt[2];
	int r;

	if (hha_ctx_new(&cli->ctx) < 0) {
		fprintf(stderr, "%s: out of memory\n", cli->prog);
		return HHA_EXIT_FAIL;
	}
	/* Tools report errors themselves; library chatter only when asked. */
	if (!getenv("HHA_LOG_LEVEL"))
		hha_ctx_set_log_level(cli->ctx, HHA_LOG_WARNING);
	r = hha_cli_globals(cli, &argc, &argv, verbs, summary, false);
	if (r >= 0)
		goto out;
	if (argc < 2) {
		if (!default_verb) {
			r = hha_cli_usage(cli, "missing verb");
			goto out;
		}
		dflt[0] = (char *)default_verb;
		dflt[1] = NULL;
		argv = dflt;
		argc = 1;
	} else {
		argv++;
		argc--;
	}
	v = hha_cli_find(verbs, argv[0]);
	if (!v) {
		r = hha_cli_usage(cli, "unknown verb `%s'", argv[0]);
		goto out;
	}
	r = v->fn(cli, argc, argv);
out:
	hha_ctl_close(cli->ctl);
	hha_ctx_free(cli->ctx);
	cli->ctl = NULL;
	cli->ctx = NULL;
	return r;
}

int hha_cli_exit_code(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return HHA_EXIT_OK;
	case ENOENT:
	case ECONNREFUSED:
	case ECONNRESET:
		return HHA_EXIT_NODAEMON;
	case EPERM:
	case EACCES:
		return HHA_EXIT_PERM;
	case ETIMEDOUT:
		return HHA_EXIT_TIMEOUT;
	case EINVAL:
	case EOPNOTSUPP:
		return HHA_EXIT_USAGE;
	case HHA_EVERSION:
		return HHA_EXIT_VERSION;
	case HHA_ESTATE:
	case HHA_ESPLITBRAIN:
	case HHA_EUNRELATED:
	case HHA_EPEERPRIMARY:
	case HHA_ENOTUPTODATE:
		return HHA_EXIT_STATE;
	default:
		return HHA_EXIT_FAIL;
	}
}

/* Messages from the library carry the function name; people need only the rest. */
static const char *strip_func(const char *m)
{
	const char *p = strstr(m, ": ");

	if (p && strncmp(m, "hha_", 4) == 0 && memchr(m, ' ', (size_t)(p - m)) == NULL)
		return p + 2;
	return m;
}

int hha_cli_connect(struct hha_cli *cli)
{
	int r;

	if (cli->ctl)
		return HHA_EXIT_OK;
	r = hha_ctl_open(cli->ctx, cli->socket, &cli->ctl);
	if (r < 0) {
		hha_cli_fail(cli, HHA_EXIT_NODAEMON, "%s (is hhad running?)",
			     strip_func(hha_last_error()));
		return HHA_EXIT_NODAEMON;
	}
	return HHA_EXIT_OK;
}

int hha_cli_call(struct hha_cli *cli, const char *cmd, json_object *args, int timeout_ms,
		 json_object **result)
{
	char *res = NULL;
	const char *a = args ? json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN) : NULL;
	int r = hha_cli_connect(cli);

	if (result)
		*result = NULL;
	if (r != HHA_EXIT_OK) {
		json_object_put(args);
		return r;
	}
	r = hha_ctl_call(cli->ctl, cmd, a, timeout_ms, result ? &res : NULL);
	json_object_put(args);
	if (r < 0) {
		const char *m = strip_func(hha_last_error());
		if (cli->json) {
			json_object *e = json_object_new_object();
			json_object_object_add(e, "error", json_object_new_string(hha_error_name(r)));
			json_object_object_add(e, "message", json_object_new_string(m));
			printf("%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN));
			json_object_put(e);
		}
		fprintf(stderr, "%s: %s\n", cli->prog, m);
		return hha_cli_exit_code(r);
	}
	if (result) {
		*result = json_tokener_parse(res ? res : "{}");
		free(res);
		if (!*result)
			return hha_cli_fail(cli, HHA_EXIT_FAIL, "malformed reply from hhad");
	}
	return HHA_EXIT_OK;
}
