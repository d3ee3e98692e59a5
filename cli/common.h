/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every hha-* tool shares: global flags, verb tables, calls to hhad, exit codes. */
#ifndef HHA_CLI_COMMON_H
#define HHA_CLI_COMMON_H

#include <stdbool.h>

#include <json-c/json.h>

#include <hybridha/hybridha.h>

/* Exit codes, stable for scripts; documented in docs/exit-codes.md. */
enum hha_exit {
	HHA_EXIT_OK = 0,        /* done */
	HHA_EXIT_FAIL = 1,      /* the operation failed (message on stderr) */
	HHA_EXIT_USAGE = 2,     /* bad command line or invalid argument */
	HHA_EXIT_FALSE = 3,     /* a status query's answer is "no" (not held, not running) */
	HHA_EXIT_NODAEMON = 4,  /* hhad cannot be reached on its control socket */
	HHA_EXIT_PERM = 5,      /* permission denied (root or the admin group needed) */
	HHA_EXIT_TIMEOUT = 6,   /* a wait ran out of time */
	HHA_EXIT_VERSION = 7,   /* tool and hhad speak different protocol versions */
	HHA_EXIT_STATE = 8,     /* refused in the current state (peer primary, not UpToDate, split brain) */
};

struct hha_cli {
	const char *prog;    /* "hha-disk" */
	bool json;           /* --json: machine-readable output */
	const char *socket;  /* --socket PATH, or NULL */
	struct hha_ctx *ctx;
	struct hha_ctl *ctl; /* opened by hha_cli_connect() */
};

struct hha_cli_verb {
	const char *name;
	int (*fn)(struct hha_cli *cli, int argc, char **argv); /* argv[0] is the verb */
	const char *synopsis; /* arguments, for help */
	const char *help;     /* one line */
};

/*
 * Parse the global options at the front of argv (--help, --version, --json,
 * --socket PATH) and, unless @keep_rest, --json/--socket anywhere after the
 * verb too. Advances argc and argv past the globals. Returns -1 to go on, or an
 * exit code (help/version printed, or a usage error).
 */
int hha_cli_globals(struct hha_cli *cli, int *argc, char ***argv, const struct hha_cli_verb *verbs,
		    const char *summary, bool keep_rest);
/* Find a verb by exact name, or NULL. */
const struct hha_cli_verb *hha_cli_find(const struct hha_cli_verb *verbs, const char *name);
/* Print the help: summary, global flags, the verb table, exit codes. */
void hha_cli_help(struct hha_cli *cli, const struct hha_cli_verb *verbs, const char *summary);
/*
 * The common main: globals, then the verb (@default_verb when none is given),
 * then the verb's function. Frees everything and returns the exit code.
 */
int hha_cli_main(struct hha_cli *cli, const struct hha_cli_verb *verbs, const char *summary,
		 const char *default_verb, int argc, char **argv);

/* Connect to hhad if not yet connected. HHA_EXIT_OK or an exit code (error printed). */
int hha_cli_connect(struct hha_cli *cli);
/*
 * Send one request and wait (timeout_ms, -1 = for ever). @args is consumed.
 * On success *result (if given) receives the result, which the caller puts.
 * Returns an exit code; failures are printed as "prog: message".
 */
int hha_cli_call(struct hha_cli *cli, const char *cmd, json_object *args, int timeout_ms,
		 json_object **result);
/* The exit code for a libhybridha error code. */
int hha_cli_exit_code(int err);

/* "prog: message" on stderr. Returns @code. */
int hha_cli_fail(struct hha_cli *cli, int code, const char *fmt, ...) HHA_PRINTF(3, 4);
/* "prog: message\nTry 'prog --help'." on stderr. Returns HHA_EXIT_USAGE. */
int hha_cli_usage(struct hha_cli *cli, const char *fmt, ...) HHA_PRINTF(2, 3);
/* Print @o as pretty JSON on stdout with a newline. */
void hha_cli_print_json(json_object *o);

#endif /* HHA_CLI_COMMON_H */
