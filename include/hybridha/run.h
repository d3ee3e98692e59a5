/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Remote launch: run a command on a cluster node, with its streams, signals and exit status. */
#ifndef HYBRIDHA_RUN_H
#define HYBRIDHA_RUN_H

#include <stdbool.h>

#include <hybridha/ctl.h>
#include <hybridha/load.h>

HHA_BEGIN_DECLS

/*
 * A launch goes: this program asks the local hhad (control socket, which
 * knows the caller by SO_PEERCRED) for a signed launch request; hhad picks
 * the node ("auto") and signs the request for the caller's user name with the
 * cluster key; this library connects to the node's run service itself, and
 * the session's streams travel in frames sealed with per-session keys. The
 * program never sees the cluster key, and hhad never carries the data.
 *
 * The handle is driven from the caller's loop: wait for hha_run_fd() to be
 * readable or hha_run_deadline() to pass, then call hha_run_dispatch(). The
 * completion callback runs from hha_run_dispatch() once, when the command's
 * status is known and its output has been written out.
 */
struct hha_run;

/* What stream fds in hha_run_opts may be, besides a descriptor of the caller's. */
#define HHA_RUN_PIPE (-1)    /* make a pipe; the caller's end via hha_run_stdin_fd() ... */
#define HHA_RUN_DEVNULL (-2) /* /dev/null */

enum hha_run_env {
	HHA_RUN_ENV_ALL = 0, /* the caller's environment less node-specific variables (default) */
	HHA_RUN_ENV_NONE,    /* only TERM, LANG, LC_*, TZ */
	HHA_RUN_ENV_LIST,    /* those, plus the names in env_names */
};

struct hha_run_opts {
	size_t size;                 /* sizeof(struct hha_run_opts) */
	const char *node;            /* node id, name, "self"/"0", or "auto" */
	const char *const *argv;     /* the command; argv[0] is looked up in the remote PATH */
	const char *const *envp;     /* explicit environment ("NAME=value"), or NULL: env_mode */
	enum hha_run_env env_mode;
	const char *const *env_names; /* HHA_RUN_ENV_LIST: NULL-terminated names */
	const char *cwd;             /* remote working directory; NULL = the current one */
	/* Local ends of the streams: a descriptor (borrowed: the library dups
	 * it), HHA_RUN_PIPE or HHA_RUN_DEVNULL. A zeroed struct means fd 0 for
	 * all three, so set them. */
	int stdin_fd, stdout_fd, stderr_fd;
	bool tty;                    /* a pseudo-terminal on the remote side (stdout carries both) */
	unsigned rows, cols;         /* its initial size */
	const char *term;            /* its TERM; NULL = $TERM */
	uint64_t mem_bytes;          /* "auto": only nodes with this much memory available */
	struct hha_ctl *ctl;         /* connection to hhad to use (borrowed; must outlive the handle), or NULL: */
	const char *socket;          /* ... open one to this path (NULL = the default) */
	int timeout_ms;              /* connecting and starting; 0 = 10 s */
	/* Called once from hha_run_dispatch() with the outcome; may be NULL. */
	void (*done)(struct hha_run *run, void *userdata);
	void *userdata;
};

/* How a run ended. */
enum hha_run_how {
	HHA_RUN_RUNNING = 0,
	HHA_RUN_EXITED,   /* the command exited: status = its exit code */
	HHA_RUN_SIGNALED, /* killed by signal: signal = N, status = 128 + N */
	HHA_RUN_FAILED,   /* not started or lost: status = 125, 126 or 127, see reason */
};

/**
 * hha_run_start - ask hhad for a launch and start connecting to the node.
 * @ctx: context for logging.
 * @opts: what to run where; copied, need not outlive the call.
 * @out: receives the handle, even when the launch failed early (then the
 *       handle is already finished: hha_run_how() says HHA_RUN_FAILED and
 *       the callback fires on the first dispatch); free it with hha_run_free().
 *
 * Blocks for the round trip to the local hhad (with "auto", until hhad has
 * fresh loads of the nodes, at most a second); connecting is non-blocking.
 *
 * Return: 0 (check hha_run_how()); -EINVAL for bad options; -ENOMEM.
 */
HHA_EXPORT int hha_run_start(struct hha_ctx *ctx, const struct hha_run_opts *opts,
			     struct hha_run **out);

/** hha_run_free - free the handle; a command still running is killed (its connection closes). NULL is a no-op. */
HHA_EXPORT void hha_run_free(struct hha_run *run);

/** hha_run_fd - one fd (an epoll set) to wait on for readability. Borrowed. */
HHA_EXPORT int hha_run_fd(const struct hha_run *run);

/** hha_run_deadline - when to dispatch even if the fd is quiet (monotonic ms), or -1. */
HHA_EXPORT int64_t hha_run_deadline(const struct hha_run *run);

/**
 * hha_run_dispatch - do the pending I/O without blocking.
 *
 * Return: 1 while the run goes on, 0 once it is finished (the callback has
 * been called), never an error: failures end the run as HHA_RUN_FAILED.
 */
HHA_EXPORT int hha_run_dispatch(struct hha_run *run);

/**
 * hha_run_signal - deliver a signal to the remote command's process group.
 * @run: a running handle.
 * @signo: SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2,
 *         SIGCONT, SIGTSTP or SIGKILL.
 *
 * Return: 0; -EINVAL for another signal; -ESRCH when the run is over or not started.
 */
HHA_EXPORT int hha_run_signal(struct hha_run *run, int signo);

/** hha_run_winsize - resize the remote pseudo-terminal (tty runs). 0, -ESRCH. */
HHA_EXPORT int hha_run_winsize(struct hha_run *run, unsigned rows, unsigned cols);

/** hha_run_stdin_fd - the caller's end of the stdin pipe (HHA_RUN_PIPE), or -1. Borrowed until free. */
HHA_EXPORT int hha_run_stdin_fd(const struct hha_run *run);
/** hha_run_stdout_fd - the caller's end of the stdout pipe, or -1. Borrowed until free. */
HHA_EXPORT int hha_run_stdout_fd(const struct hha_run *run);
/** hha_run_stderr_fd - the caller's end of the stderr pipe, or -1. Borrowed until free. */
HHA_EXPORT int hha_run_stderr_fd(const struct hha_run *run);

/** hha_run_how - how the run ended, or HHA_RUN_RUNNING. */
HHA_EXPORT enum hha_run_how hha_run_how(const struct hha_run *run);
/** hha_run_status - the exit code a shell would report (0..255), valid once finished. */
HHA_EXPORT int hha_run_status(const struct hha_run *run);
/** hha_run_signo - the signal that killed the command (HHA_RUN_SIGNALED), else 0. */
HHA_EXPORT int hha_run_signo(const struct hha_run *run);
/**
 * hha_run_reason - why a run failed: "unknown-node", "node-down", "not-allowed",
 * "no-user", "auth", "spawn", "not-executable", "not-found", "lost", "no-node",
 * "hhad"; NULL unless HHA_RUN_FAILED.
 */
HHA_EXPORT const char *hha_run_reason(const struct hha_run *run);
/** hha_run_message - a sentence for people about a failure, or notices from the node; "" when none. */
HHA_EXPORT const char *hha_run_message(const struct hha_run *run);
/** hha_run_error - the errno-style code of a failure (negative), or 0. */
HHA_EXPORT int hha_run_error(const struct hha_run *run);
/** hha_run_node - the node's name ("n2"), known once hhad answered; "" before. */
HHA_EXPORT const char *hha_run_node(const struct hha_run *run);
/** hha_run_node_id - the node's id, or 0 before hhad answered. */
HHA_EXPORT unsigned hha_run_node_id(const struct hha_run *run);
/** hha_run_pid - the remote command's pid (in its node's namespace), or 0. */
HHA_EXPORT int hha_run_pid(const struct hha_run *run);

HHA_END_DECLS

#endif /* HYBRIDHA_RUN_H */
