/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon: the live cluster view (one bar per node, replication, VIPs), or one snapshot for scripts. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <langinfo.h>
#include <locale.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "mon/feed.h"
#include "mon/output.h"
#include "mon/source.h"
#include "mon/term.h"
#include "mon/ui.h"

#define CALL_TIMEOUT_MS 2000
#define RETRY_MS 1000 /* reconnection attempts while hhad is away, whatever -d says */

struct opts {
	double delay_s;
	bool once, ascii, mono;
	enum mon_view view;
};

/* Set by the signal handler; the main loop leaves cleanly and restores the terminal. */
static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* In the full-screen view the banner reports errors; log lines would scribble over the screen. */
static void quiet_log(void *userdata, enum hha_log_level level, const char *subsys,
		      const char *message)
{
}

static int64_t real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void usage(const char *prog)
{
	printf("Usage: %s [OPTIONS]\n\n"
	       "The live cluster view: one bar per node (load, memory, CPU use, speed),\n"
	       "replication, and who holds each VIP and resource group, from the local hhad.\n\n"
	       "Options:\n"
	       "  -d, --delay SECONDS   refresh interval (default 1; 0.1 to 3600)\n"
	       "      --once            print one text snapshot and exit\n"
	       "  -j, --json            print one snapshot as JSON and exit\n"
	       "  -a, --ascii           draw with ASCII only (automatic when the locale is not UTF-8)\n"
	       "  -M, --mono            no colours (also when NO_COLOR is set)\n"
	       "  -v, --view KEY        start in view l, m, u, s, r or v\n"
	       "      --socket PATH     hhad's control socket (default $HHA_SOCKET or %s)\n"
	       "  -h, --help, -V, --version\n\n"
	       "Keys: l load, m memory, u CPU use, s CPUs and speed, r replication, v VIPs and\n"
	       "groups, d dead nodes, t totals, arrows or + - select/scroll, Enter detail,\n"
	       "h or ? help, q quit.\n\n"
	       "Exit codes: 0 ok, 1 failed, 2 usage, 4 hhad not reachable (--once, --json),\n"
	       "7 version mismatch.\n",
	       prog, HHA_CTL_DEFAULT_SOCKET);
}

static int parse_args(struct hha_cli *cli, struct opts *o, int argc, char **argv)
{
	static const struct option longs[] = {
		{ "delay", required_argument, NULL, 'd' }, { "once", no_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },        { "ascii", no_argument, NULL, 'a' },
		{ "mono", no_argument, NULL, 'M' },        { "view", required_argument, NULL, 'v' },
		{ "socket", required_argument, NULL, 'S' }, { "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },     { NULL, 0, NULL, 0 },
	};
	static const char view_keys[] = "lmusrv";
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":d:jaMv:hV", longs, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'd':
			errno = 0;
			o->delay_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(o->delay_s) || o->delay_s < 0.1 ||
			    o->delay_s > 3600)
				return hha_cli_usage(cli, "invalid delay `%s' (seconds, 0.1 to 3600)", optarg);
			break;
		case 'o':
			o->once = true;
			break;
		case 'j':
			cli->json = true;
			break;
		case 'a':
			o->ascii = true;
			break;
		case 'M':
			o->mono = true;
			break;
		case 'v':
			if (strlen(optarg) != 1 || !strchr(view_keys, optarg[0]))
				return hha_cli_usage(cli, "invalid view `%s' (one of l m u s r v)", optarg);
			o->view = (enum mon_view)(strchr(view_keys, optarg[0]) - view_keys);
			break;
		case 'S':
			cli->socket = optarg;
			break;
		case 'h':
			usage(cli->prog);
			return HHA_EXIT_OK;
		case 'V':
			printf("%s %s (libhybridha %s)\n", cli->prog, PACKAGE_VERSION, hha_version());
			return HHA_EXIT_OK;
		case ':':
			return hha_cli_usage(cli, "option `%s' needs a value", argv[optind - 1]);
		default:
			return hha_cli_usage(cli, "unknown option `%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return hha_cli_usage(cli, "unexpected argument `%s'", argv[optind]);
	return -1;
}

/* --once and --json: one snapshot, printed. */
static int snapshot_once(struct hha_cli *cli, struct mon_conn *conn)
{
	struct mon_snapshot s = { 0 };
	int r = mon_conn_poll(conn, &s);

	if (r < 0) {
		if (cli->json) {
			json_object *e = json_object_new_object();
			json_object_object_add(e, "error", json_object_new_string(hha_error_name(r)));
			json_object_object_add(e, "message", json_object_new_string(conn->why));
			printf("%s\n", json_object_to_json_string_ext(e, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
			json_object_put(e);
		}
		r = hha_cli_exit_code(r);
		return hha_cli_fail(cli, r == HHA_EXIT_VERSION ? r : HHA_EXIT_NODAEMON,
				    "%s (is hhad running?)", conn->why);
	}
	if (cli->json) {
		json_object *o = mon_snapshot_to_json(&s);
		hha_cli_print_json(o);
		json_object_put(o);
	} else {
		mon_print_text(stdout, &s);
	}
	mon_snapshot_clear(&s);
	return fflush(stdout) == 0 ? HHA_EXIT_OK : HHA_EXIT_FAIL;
}

static void set_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: poll() returns at once and the loop sees the flag. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
}

/* A result from the data thread: new figures replace the shown ones; a failure keeps them. */
static void take_result(struct mon_feed *feed, struct mon_ui *ui, struct mon_snapshot *shown)
{
	char node[MON_NAME_MAX];

	if (mon_feed_take(feed, shown, &ui->lost, &ui->attempts, ui->lost_why, sizeof(ui->lost_why),
			  node, sizeof(node)))
		mon_ui_update(ui, shown);
	if (!shown->self_name[0])
		snprintf(shown->self_name, sizeof(shown->self_name), "%s", node);
}

static int live(struct hha_cli *cli, const struct opts *o)
{
	struct mon_snapshot shown = { 0 };
	struct mon_canvas canvas = { 0 };
	struct mon_feed feed;
	struct mon_ui ui;
	int rc = HHA_EXIT_OK, err = 0;
	bool quit = false;

	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))
		return hha_cli_usage(cli, "the live view needs a terminal; use --once or --json in scripts");
	mon_ui_init(&ui, o->delay_s);
	ui.view = o->view;
	hha_ctx_set_log_fn(cli->ctx, quiet_log, NULL);
	set_signals();
	atexit(mon_term_close);
	if (mon_term_open(!o->mono && !getenv("NO_COLOR")) < 0) {
		mon_ui_free(&ui);
		return hha_cli_fail(cli, HHA_EXIT_FAIL, "cannot use this terminal (TERM=%s)",
				    getenv("TERM") ? getenv("TERM") : "unset");
	}
	err = mon_feed_start(&feed, cli->ctx, cli->socket, CALL_TIMEOUT_MS,
			     (int)(o->delay_s * 1000), o->delay_s * 1000 < RETRY_MS ? (int)(o->delay_s * 1000) : RETRY_MS);
	if (err < 0) {
		mon_term_close();
		mon_ui_free(&ui);
		return hha_cli_fail(cli, HHA_EXIT_FAIL, "cannot start: %s", strerror(-err));
	}
	while (!quit && !stop_signal) {
		struct pollfd pfd[2] = { { .fd = STDIN_FILENO, .events = POLLIN },
					 { .fd = mon_feed_fd(&feed), .events = POLLIN } };
		int w, h, key;

		mon_term_size(&w, &h);
		if ((w != canvas.w || h != canvas.h) && mon_canvas_init(&canvas, w, h, o->ascii) < 0) {
			err = -ENOMEM;
			break;
		}
		ui.now_ms = real_ms();
		mon_draw(&canvas, &ui, &shown);
		mon_term_show(&canvas);
		/* Wake at the next second at the latest: the clock and the banner's age move. */
		if (poll(pfd, 2, (int)(1000 - real_ms() % 1000)) < 0 && errno != EINTR) {
			err = -errno;
			break;
		}
		if (pfd[1].revents)
			take_result(&feed, &ui, &shown);
		while (!quit && (key = mon_term_key()) != -1)
			if (key > 0 && !mon_ui_key(&ui, &shown, key))
				quit = true;
	}
	mon_term_close();
	/* A thread stuck on a frozen hhad is left to the exit; it owns what it uses. */
	if (mon_feed_stop(&feed, 500))
		mon_snapshot_clear(&shown);
	mon_canvas_free(&canvas);
	mon_ui_free(&ui);
	if (err < 0)
		rc = hha_cli_fail(cli, HHA_EXIT_FAIL, "%s", strerror(-err));
	return rc;
}

int main(int argc, char **argv)
{
	struct hha_cli cli = { .prog = "hha-mon" };
	struct opts o = { .delay_s = 1.0, .view = MON_VIEW_LOAD };
	struct mon_conn conn;
	const char *cs;
	int r;

	setlocale(LC_ALL, "");
	r = parse_args(&cli, &o, argc, argv);
	if (r >= 0)
		return r;
	cs = nl_langinfo(CODESET);
	if (!cs || strcmp(cs, "UTF-8") != 0)
		o.ascii = true;
	if (hha_ctx_new(&cli.ctx) < 0)
		return hha_cli_fail(&cli, HHA_EXIT_FAIL, "out of memory");
	/* The tool reports errors itself; library chatter only when asked. */
	if (!getenv("HHA_LOG_LEVEL"))
		hha_ctx_set_log_level(cli.ctx, HHA_LOG_WARNING);
	if (o.once || cli.json) {
		mon_conn_init(&conn, cli.ctx, cli.socket, CALL_TIMEOUT_MS);
		r = snapshot_once(&cli, &conn);
		mon_conn_close(&conn);
	} else {
		r = live(&cli, &o);
	}
	hha_ctx_free(cli.ctx);
	return r;
}
