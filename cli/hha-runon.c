/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-runon: run a command on another node (or the least loaded ones), like MOSIX's runon. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "hha-runon.h"

#define MAX_COPIES 256
#define TAG_LINE_MAX 65536

struct tagbuf {
	char *buf;
	size_t len;
	bool eof;
};

struct copy {
	struct hha_run *run;
	struct tagbuf tag[2]; /* stdout, stderr of a tagged copy */
};

struct runon {
	struct hha_cli cli;
	bool tty, tag, list;
	unsigned copies;
	uint64_t mem;
	const char *env, *cwd, *node;
	char **argv;
	struct copy c[MAX_COPIES];
	struct termios saved;
	bool raw;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hha-runon [OPTIONS] NODE|auto COMMAND [ARGS...]\n"
		"       hha-runon --list [--mem MB] [--json]\n"
		"\n"
		"Run COMMAND on a cluster node as yourself, with its input, output, signals and\n"
		"exit status, as if it ran here. NODE is a node id, a name, `self' (or 0), or\n"
		"`auto' for the least loaded node.\n"
		"\n"
		"  -t, --tty          give the command a pseudo-terminal (interactive programs)\n"
		"  -n, --copies N     start N copies, each placed by the load policy (with auto)\n"
		"      --spread       the same as auto, for use with -n\n"
		"      --tag          prefix each output line with the node name (default with -n)\n"
		"      --mem MB       only nodes with MB MiB of memory available (auto)\n"
		"      --env MODE     environment to carry: all (default, less node-specific\n"
		"                     variables), none, or a list NAME,NAME...\n"
		"      --cwd DIR      working directory there (default: the current one)\n"
		"      --list         show the candidate nodes and their loads\n"
		"      --json         print the outcome as JSON on stdout at the end\n"
		"      --socket PATH  hhad's control socket\n"
		"  -h, --help, -V, --version\n"
		"\n"
		"Exit status: the command's own; 128+N if a signal N killed it; 125 when the\n"
		"launch failed (unknown node, node down, not allowed, no such user, spawn\n"
		"failure: the reason is on stderr), 126 when the command cannot be executed,\n"
		"127 when it is not found. With -n, the highest status of the copies.\n");
}

static int parse(struct runon *o, int argc, char **argv)
{
	enum { O_SPREAD = 256, O_TAG, O_MEM, O_ENV, O_CWD, O_LIST, O_JSON, O_SOCKET };
	static const struct option opts[] = {
		{ "tty", no_argument, NULL, 't' },     { "copies", required_argument, NULL, 'n' },
		{ "spread", no_argument, NULL, O_SPREAD }, { "tag", no_argument, NULL, O_TAG },
		{ "mem", required_argument, NULL, O_MEM }, { "env", required_argument, NULL, O_ENV },
		{ "cwd", required_argument, NULL, O_CWD }, { "list", no_argument, NULL, O_LIST },
		{ "json", no_argument, NULL, O_JSON },  { "socket", required_argument, NULL, O_SOCKET },
		{ "help", no_argument, NULL, 'h' },    { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	bool spread = false;
	char *end;
	int c;

	o->copies = 1;
	/* '+': options end at NODE, so the command's own options stay its own. */
	while ((c = getopt_long(argc, argv, "+tn:hV", opts, NULL)) != -1) {
		switch (c) {
		case 't': o->tty = true; break;
		case 'n': {
			unsigned long v = strtoul(optarg, &end, 10);
			if (*end || !*optarg || v < 1 || v > MAX_COPIES)
				return hha_cli_fail(&o->cli, RUNON_EXIT_LAUNCH,
						    "invalid number of copies `%s' (1..%d)", optarg, MAX_COPIES);
			o->copies = (unsigned)v;
			break;
		}
		case O_SPREAD: spread = true; break;
		case O_TAG: o->tag = true; break;
		case O_MEM: {
			unsigned long long v = strtoull(optarg, &end, 10);
			if (*end || !*optarg || v > (1ull << 40))
				return hha_cli_fail(&o->cli, RUNON_EXIT_LAUNCH, "invalid memory size `%s' (MiB)",
						    optarg);
			o->mem = v << 20;
			break;
		}
		case O_ENV: o->env = optarg; break;
		case O_CWD: o->cwd = optarg; break;
		case O_LIST: o->list = true; break;
		case O_JSON: o->cli.json = true; break;
		case O_SOCKET: o->cli.socket = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("hha-runon %s (libhybridha %s)\n", PACKAGE_VERSION, hha_version()); return 0;
		default:
			fprintf(stderr, "Try 'hha-runon --help'.\n");
			return RUNON_EXIT_LAUNCH;
		}
	}
	if (o->list)
		return optind < argc ? hha_cli_fail(&o->cli, RUNON_EXIT_LAUNCH,
						   "--list takes no command (got `%s')", argv[optind]) : -1;
	if (spread) {
		o->node = "auto";
	} else {
		if (optind >= argc)
			return hha_cli_fail(&o->cli, RUNON_EXIT_LAUNCH, "missing NODE (try --help)");
		o->node = argv[optind++];
	}
	if (optind >= argc)
		return hha_cli_fail(&o->cli, RUNON_EXIT_LAUNCH, "missing COMMAND (try --help)");
	o->argv = argv + optind;
	if (o->copies > 1 && o->tty)
		return hha_cli_fail(&o->cli, RUNON_EXIT_LAUNCH, "-t and -n cannot go together");
	if (o->copies > 1)
		o->tag = true;
	return -1;
}

static void raw_mode(struct runon *o)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &o->saved) < 0)
		return;
	t = o->saved;
	cfmakeraw(&t);
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0)
		o->raw = true;
}

static void restore_mode(struct runon *o)
{
	if (o->raw)
		tcsetattr(STDIN_FILENO, TCSADRAIN, &o->saved);
	o->raw = false;
}

/* Copy what a tagged copy wrote, one "node: line" at a time. */
static void tag_pump(struct copy *c, int which, bool final)
{
	struct tagbuf *t = &c->tag[which];
	int fd = which == 0 ? hha_run_stdout_fd(c->run) : hha_run_stderr_fd(c->run);
	FILE *out = which == 0 ? stdout : stderr;
	char *nl;

	if (fd < 0 || t->eof)
		return;
	for (;;) {
		ssize_t n;
		if (!t->buf && !(t->buf = malloc(TAG_LINE_MAX)))
			return;
		n = read(fd, t->buf + t->len, TAG_LINE_MAX - t->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0 || errno != EAGAIN)
				t->eof = true;
			break;
		}
		t->len += (size_t)n;
		while ((nl = memchr(t->buf, '\n', t->len))) {
			size_t l = (size_t)(nl - t->buf) + 1;
			fprintf(out, "%s: %.*s", hha_run_node(c->run), (int)l, t->buf);
			memmove(t->buf, t->buf + l, t->len - l);
			t->len -= l;
		}
		if (t->len == TAG_LINE_MAX) { /* an endless line: pass it on in pieces */
			fprintf(out, "%s: %.*s\n", hha_run_node(c->run), (int)t->len, t->buf);
			t->len = 0;
		}
	}
	if ((t->eof || final) && t->len) {
		fprintf(out, "%s: %.*s\n", hha_run_node(c->run), (int)t->len, t->buf);
		t->len = 0;
	}
	fflush(out);
}

static int start(struct runon *o)
{
	struct hha_run_opts ro = { .size = sizeof(ro) };
	const char *names[256];
	char *envcopy = NULL;
	struct winsize ws = { 0 };
	int r;

	ro.node = o->node;
	ro.argv = (const char *const *)o->argv;
	ro.cwd = o->cwd;
	ro.tty = o->tty;
	ro.mem_bytes = o->mem;
	ro.ctl = o->cli.ctl;
	ro.stdin_fd = o->copies > 1 ? HHA_RUN_DEVNULL : STDIN_FILENO;
	ro.stdout_fd = o->tag ? HHA_RUN_PIPE : STDOUT_FILENO;
	ro.stderr_fd = o->tag ? HHA_RUN_PIPE : STDERR_FILENO;
	if (o->env && strcmp(o->env, "none") == 0) {
		ro.env_mode = HHA_RUN_ENV_NONE;
	} else if (o->env && strcmp(o->env, "all") != 0) {
		size_t n = 0;
		envcopy = strdup(o->env);
		for (char *save = NULL, *t = strtok_r(envcopy, ",", &save); t && n < 255;
		     t = strtok_r(NULL, ",", &save))
			names[n++] = t;
		names[n] = NULL;
		ro.env_mode = HHA_RUN_ENV_LIST;
		ro.env_names = names;
	}
	if (o->tty && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0) {
		ro.rows = ws.ws_row;
		ro.cols = ws.ws_col;
	}
	for (unsigned i = 0; i < o->copies; i++) {
		r = hha_run_start(o->cli.ctx, &ro, &o->c[i].run);
		if (r < 0) {
			free(envcopy);
			return hha_cli_fail(&o->cli, RUNON_EXIT_LAUNCH, "%s", hha_last_error());
		}
		if (o->tag) {
			fcntl(hha_run_stdout_fd(o->c[i].run), F_SETFL, O_NONBLOCK);
			fcntl(hha_run_stderr_fd(o->c[i].run), F_SETFL, O_NONBLOCK);
		}
	}
	free(envcopy);
	return -1;
}

static int wait_all(struct runon *o, int sfd)
{
	unsigned interrupts = 0;
	int64_t first_int = 0;

	for (;;) {
		struct pollfd pfd[1 + 3 * MAX_COPIES];
		size_t n = 0, live = 0;
		int64_t dl = -1;

		pfd[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
		for (unsigned i = 0; i < o->copies; i++) {
			struct copy *c = &o->c[i];
			int64_t d;
			if (hha_run_dispatch(c->run) == 0 && hha_run_deadline(c->run) < 0) {
				if (o->tag)
					tag_pump(c, 0, false), tag_pump(c, 1, false);
				if (!o->tag || (c->tag[0].eof && c->tag[1].eof))
					continue;
			}
			live++;
			pfd[n++] = (struct pollfd){ .fd = hha_run_fd(c->run), .events = POLLIN };
			if (o->tag) {
				tag_pump(c, 0, false);
				tag_pump(c, 1, false);
				pfd[n++] = (struct pollfd){ .fd = c->tag[0].eof ? -1 : hha_run_stdout_fd(c->run),
							    .events = POLLIN };
				pfd[n++] = (struct pollfd){ .fd = c->tag[1].eof ? -1 : hha_run_stderr_fd(c->run),
							    .events = POLLIN };
			}
			d = hha_run_deadline(c->run);
			if (d >= 0 && (dl < 0 || d < dl))
				dl = d;
		}
		if (live == 0)
			return 0;
		if (poll(pfd, n, hha_timeout_ms(dl)) < 0 && errno != EINTR)
			return -1;
		if (pfd[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				int sig = (int)si.ssi_signo;
				if (sig == SIGWINCH) {
					struct winsize ws;
					if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
						hha_run_winsize(o->c[0].run, ws.ws_row, ws.ws_col);
					if (o->tty)
						continue;
				}
				if (sig == SIGINT) {
					/* Three Ctrl-C within 3 s: the remote side ignores them; give up,
					 * which closes the sessions and kills the commands. */
					if (hha_now_ms() - first_int > 3000)
						first_int = hha_now_ms(), interrupts = 0;
					if (++interrupts >= 3)
						return 128 + SIGINT;
				}
				for (unsigned i = 0; i < o->copies; i++)
					hha_run_signal(o->c[i].run, sig);
			}
		}
	}
}

static void report(struct runon *o, int *code)
{
	json_object *arr = json_object_new_array();

	*code = 0;
	for (unsigned i = 0; i < o->copies; i++) {
		struct hha_run *run = o->c[i].run;
		enum hha_run_how how = hha_run_how(run);
		int st = how == HHA_RUN_RUNNING ? 128 + SIGINT : hha_run_status(run);
		json_object *j = json_object_new_object();
		static const char *const hows[] = { "running", "exited", "signaled", "failed" };

		if (how == HHA_RUN_FAILED)
			fprintf(stderr, "hha-runon: %s\n", hha_run_message(run));
		if (st > *code)
			*code = st;
		json_object_object_add(j, "node", json_object_new_string(hha_run_node(run)));
		json_object_object_add(j, "node_id", json_object_new_int((int)hha_run_node_id(run)));
		json_object_object_add(j, "how", json_object_new_string(hows[how]));
		json_object_object_add(j, "status", json_object_new_int(st));
		if (how == HHA_RUN_SIGNALED)
			json_object_object_add(j, "signal", json_object_new_int(hha_run_signo(run)));
		if (how == HHA_RUN_FAILED) {
			json_object_object_add(j, "error",
					       json_object_new_string(hha_error_name(hha_run_error(run))));
			json_object_object_add(j, "reason", json_object_new_string(hha_run_reason(run)));
			json_object_object_add(j, "message", json_object_new_string(hha_run_message(run)));
		}
		json_object_array_add(arr, j);
	}
	if (o->cli.json) {
		json_object *out = o->copies == 1 ? json_object_get(json_object_array_get_idx(arr, 0))
						  : json_object_new_object();
		if (o->copies > 1) {
			json_object_object_add(out, "status", json_object_new_int(*code));
			json_object_object_add(out, "runs", json_object_get(arr));
		}
		fflush(stdout);
		printf("%s\n", json_object_to_json_string_ext(out, JSON_C_TO_STRING_PLAIN));
		json_object_put(out);
	}
	json_object_put(arr);
}

int main(int argc, char **argv)
{
	static struct runon o = { .cli = { .prog = "hha-runon" } };
	sigset_t mask;
	int r, code = RUNON_EXIT_LAUNCH, sfd = -1;

	signal(SIGPIPE, SIG_IGN);
	/* The session needs nothing from openssl.cnf, and reading it costs milliseconds per launch. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	r = parse(&o, argc, argv);
	if (r >= 0)
		return r;
	if (hha_ctx_new(&o.cli.ctx) < 0)
		return RUNON_EXIT_LAUNCH;
	if (!getenv("HHA_LOG_LEVEL"))
		hha_ctx_set_log_level(o.cli.ctx, HHA_LOG_WARNING);
	if (o.list) {
		code = runon_list(&o.cli, o.mem);
		goto out;
	}
	if (hha_ctl_open(o.cli.ctx, o.cli.socket, &o.cli.ctl) < 0) {
		hha_cli_fail(&o.cli, RUNON_EXIT_LAUNCH, "%s (is hhad running?)", hha_last_error());
		goto out;
	}
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigaddset(&mask, SIGWINCH);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	r = start(&o);
	if (r >= 0) {
		code = r;
		goto out;
	}
	if (o.tty)
		raw_mode(&o);
	r = wait_all(&o, sfd);
	restore_mode(&o);
	for (unsigned i = 0; o.tag && i < o.copies; i++)
		tag_pump(&o.c[i], 0, true), tag_pump(&o.c[i], 1, true);
	report(&o, &code);
	if (r > 0)
		code = r;
out:
	restore_mode(&o);
	for (unsigned i = 0; i < o.copies; i++) {
		hha_run_free(o.c[i].run);
		for (int k = 0; k < 2; k++)
			free(o.c[i].tag[k].buf);
	}
	if (sfd >= 0)
		close(sfd);
	hha_ctl_close(o.cli.ctl);
	hha_ctx_free(o.cli.ctx);
	return code;
}
