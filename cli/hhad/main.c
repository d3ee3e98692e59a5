/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hhad: the libhybridha node daemon (process setup, signals, pid file, main loop). */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <syslog.h>
#include <unistd.h>

#include "core/internal.h"
#include "core/util.h"
#include "daemon.h"
#include "run.h"

struct options {
	const char *config;
	const char *socket;
	const char *pidfile;
	const char *node;
	const char *log_level;
	bool foreground;
	bool check;
	bool schema;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hhad [OPTIONS]\n"
		"       hhad --check-config [FILE]\n"
		"\n"
		"The libhybridha node daemon: hosts replicated devices, membership, VIPs and\n"
		"remote launch for this node, controlled through a Unix socket.\n"
		"\n"
		"  -c, --config FILE     configuration (default " HHA_CONFIG_DEFAULT_PATH ")\n"
		"  -s, --socket PATH     control socket (default RUN_DIR/hhad.sock)\n"
		"  -p, --pidfile PATH    pid file (default RUN_DIR/hhad.pid)\n"
		"  -n, --node NAME       this node's name in the configuration (default: hostname)\n"
		"  -f, --foreground      stay in the foreground and log to stderr\n"
		"  -l, --log-level LVL   err, warning, notice, info (default) or debug\n"
		"      --check-config    validate the configuration and exit (0 = valid)\n"
		"      --config-schema   print every configuration key as a Markdown table\n"
		"  -h, --help            this help\n"
		"  -V, --version         print the version\n"
		"\n"
		"Signals: TERM/INT stop cleanly; HUP reloads the configuration (a bad one is\n"
		"refused and the running one kept).\n");
}

static void log_syslog(void *ud, enum hha_log_level level, const char *subsys, const char *msg)
{
	syslog((int)level, "%s: %s", subsys, msg);
}

/* Pid file held with a lock for the daemon's lifetime; a stale one is reused. */
static int pidfile_take(const char *path, int *out)
{
	char buf[32];
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return hha_error(-errno, NULL, "cannot open pid file %s: %s", path, hha_strerror(errno));
	if (lockf(fd, F_TLOCK, 0) < 0) {
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		close(fd);
		return hha_error(-EEXIST, NULL, "another hhad runs (pid %s, pid file %s)",
				 *buf ? buf : "?", path);
	}
	snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, strlen(buf), 0) < 0) {
		int r = -errno;
		close(fd);
		return hha_error(r, NULL, "cannot write pid file %s: %s", path, hha_strerror(r));
	}
	*out = fd;
	return 0;
}

static void signal_cb(struct hha_io *io, int fd, uint32_t events, void *userdata)
{
	struct hhad *d = userdata;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			hha_notice(d->ctx, "hhad", "signal %d: stopping", (int)si.ssi_signo);
			hha_loop_quit(d->loop);
			break;
		case SIGHUP:
			hha_notice(d->ctx, "hhad", "SIGHUP: reloading %s", d->config_path);
			hhad_reload(d);
			break;
		}
	}
}

static int parse_args(int argc, char **argv, struct options *o)
{
	enum { OPT_CHECK = 256, OPT_SCHEMA };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "node", required_argument, NULL, 'n' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "check-config", no_argument, NULL, OPT_CHECK },
		{ "config-schema", no_argument, NULL, OPT_SCHEMA },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:s:p:n:fl:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c': o->config = optarg; break;
		case 's': o->socket = optarg; break;
		case 'p': o->pidfile = optarg; break;
		case 'n': o->node = optarg; break;
		case 'f': o->foreground = true; break;
		case 'l': o->log_level = optarg; break;
		case OPT_CHECK: o->check = true; break;
		case OPT_SCHEMA: o->schema = true; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("hhad %s\n", PACKAGE_VERSION); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (o->check && optind < argc)
		o->config = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "hhad: unexpected argument `%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

static int check_config(struct hha_ctx *ctx, const char *path)
{
	struct hha_config *cfg;

	if (hha_config_load(ctx, path, &cfg) < 0) {
		/* Without the function-name prefix: people want the file's name first. */
		fprintf(stderr, "%s\n", hhad_error_text());
		return 1;
	}
	printf("%s: valid\n", hha_config_path(cfg));
	hha_config_free(cfg);
	return 0;
}

/* Fork into the background; the parent exits with the child's startup result. */
static int daemonize(int *notify_fd)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		char c = 1;
		close(p[1]);
		if (read(p[0], &c, 1) != 1)
			c = 1;
		_exit(c);
	}
	close(p[0]);
	setsid();
	*notify_fd = p[1];
	return 0;
}

static void notify_parent(int *fd, char result)
{
	if (*fd < 0)
		return;
	if (write(*fd, &result, 1) < 0) {
		/* The parent is gone; nothing to tell. */
	}
	close(*fd);
	*fd = -1;
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > 2)
		close(fd);
}

int main(int argc, char **argv)
{
	struct options o = { 0 };
	struct hhad d = { 0 };
	struct utsname un;
	char *sock = NULL, *pidpath = NULL;
	int sfd = -1, pidfd = -1, notify = -1, ret = 1, r;
	const char *run_dir;
	struct hha_io *sig_io = NULL;
	sigset_t mask;

	/* The run service's per-launch helper is this binary started afresh. */
	if (argc >= 2 && strcmp(argv[1], "--run-session") == 0)
		return hhad_run_session_main(argc, argv);
	if (parse_args(argc, argv, &o) < 0)
		return 2;
	if (hha_ctx_new(&d.ctx) < 0)
		return 1;
	if (o.schema) {
		hha_schema_print_markdown(&hha_conf_schema, stdout);
		hha_ctx_free(d.ctx);
		return 0;
	}
	if (o.check) {
		ret = check_config(d.ctx, o.config);
		hha_ctx_free(d.ctx);
		return ret;
	}
	if (o.log_level) {
		enum hha_log_level l;
		if (hha_log_level_from_string(o.log_level, &l) < 0) {
			fprintf(stderr, "hhad: unknown log level `%s'\n", o.log_level);
			return 2;
		}
		hha_ctx_set_log_level(d.ctx, l);
	}
	d.foreground = o.foreground;
	d.started_ms = hha_now_ms();
	d.config_path = strdup(o.config ? o.config : HHA_CONFIG_DEFAULT_PATH);
	if (hha_config_load(d.ctx, d.config_path, &d.cfg) < 0) {
		fprintf(stderr, "hhad: %s\n", hhad_error_text());
		goto out;
	}
	if (hhad_update_admin_group(&d, d.cfg) < 0) {
		fprintf(stderr, "hhad: %s\n", hha_last_error());
		goto out;
	}
	uname(&un);
	d.node_name = strdup(o.node ? o.node : un.nodename);
	if (json_object_object_length(hha_conf_section(d.cfg, "nodes")) > 0 &&
	    !hha_conf_node(d.cfg, d.node_name)) {
		fprintf(stderr, "hhad: this node, `%s', is not in %s's nodes (use --node NAME)\n",
			d.node_name, d.config_path);
		goto out;
	}
	run_dir = hha_json_str(hha_conf_section(d.cfg, "cluster"), "run_dir");
	if (asprintf(&sock, "%s/hhad.sock", run_dir) < 0 ||
	    asprintf(&pidpath, "%s/hhad.pid", run_dir) < 0)
		goto out;
	d.socket_path = strdup(o.socket ? o.socket : sock);
	if ((r = hha_mkdir_p(run_dir, 0755)) < 0) {
		fprintf(stderr, "hhad: cannot create %s: %s\n", run_dir, hha_strerror(r));
		goto out;
	}

	if (!o.foreground) {
		if (daemonize(&notify) < 0) {
			fprintf(stderr, "hhad: cannot fork: %s\n", strerror(errno));
			goto out;
		}
	}
	if (pidfile_take(o.pidfile ? o.pidfile : pidpath, &pidfd) < 0) {
		fprintf(stderr, "hhad: %s\n", hha_last_error());
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0 || hha_loop_new(&d.loop) < 0 ||
	    hha_io_add(d.loop, sfd, EPOLLIN, signal_cb, &d, &sig_io) < 0) {
		fprintf(stderr, "hhad: cannot set up the event loop: %s\n", strerror(errno));
		goto out;
	}
	if (hhad_ctlsrv_open(&d, d.socket_path, &d.ctl) < 0) {
		fprintf(stderr, "hhad: %s\n", hha_last_error());
		goto out;
	}
	if (hhad_start_modules(&d) < 0) {
		fprintf(stderr, "hhad: %s\n", hha_last_error());
		goto out;
	}
	if (!o.foreground) {
		openlog("hhad", LOG_PID, LOG_DAEMON);
		hha_ctx_set_log_fn(d.ctx, log_syslog, NULL);
		detach_stdio();
		notify_parent(&notify, 0);
	}
	hha_notice(d.ctx, "hhad", "hhad %s started on node %s (pid %d), control socket %s",
		   PACKAGE_VERSION, d.node_name, (int)getpid(), d.socket_path);
	r = hha_loop_run(d.loop);
	if (r < 0)
		hha_err(d.ctx, "hhad", "event loop failed: %s", hha_strerror(r));
	/* Close the socket first: it cancels requests that modules still hold. */
	hhad_ctlsrv_close(d.ctl);
	d.ctl = NULL;
	hhad_stop_modules(&d);
	hha_notice(d.ctx, "hhad", "stopped");
	ret = r < 0 ? 1 : 0;
out:
	notify_parent(&notify, 1);
	hhad_ctlsrv_close(d.ctl);
	hha_io_del(sig_io);
	hha_loop_free(d.loop);
	if (sfd >= 0)
		close(sfd);
	if (pidfd >= 0) {
		unlink(o.pidfile ? o.pidfile : pidpath);
		close(pidfd);
	}
	hha_config_free(d.cfg);
	free(d.config_path);
	free(d.node_name);
	free(d.socket_path);
	free(sock);
	free(pidpath);
	hha_ctx_free(d.ctx);
	return ret;
}
