/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A stand-in hhad for hha-mon's tests: answers control requests with canned JSON from a directory. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <hybridha/ctl.h>

#include "core/ctlproto.h"
#include "core/internal.h"
#include "core/util.h"

/*
 * Usage: fake-hhad SOCKET DIR
 *
 * For a request "CMD", DIR/CMD.json (read at every request, so a test can
 * change the cluster between refreshes) is the result; DIR/CMD.err holds
 * "ERRNO MESSAGE" for an error reply; DIR/CMD.hang makes it never answer
 * (a frozen daemon). Anything else is "unknown command", like hhad. "hello"
 * answers node "fake" unless DIR/hello.json says otherwise. SIGTERM removes
 * the socket and exits; SIGKILL leaves it behind, like a crashed hhad.
 */

#define MAX_CLIENTS 16

static volatile sig_atomic_t done;

static void on_term(int sig)
{
	done = sig;
}

static char *answer(const char *dir, struct hha_ctl_request *rq)
{
	char path[4096], *text = NULL;
	size_t len;
	json_object *res;

	/* Commands are names, never paths. */
	if (strchr(rq->cmd, '/') || rq->cmd[0] == '.')
		return hha_ctl_encode_err(rq->id, EINVAL, "bad command", "fake");
	snprintf(path, sizeof(path), "%s/%s.hang", dir, rq->cmd);
	if (access(path, F_OK) == 0)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s.err", dir, rq->cmd);
	if (hha_read_file(path, 4096, &text, &len) == 0) {
		int err = atoi(text);
		const char *msg = strchr(text, ' ');
		char *line;
		text[strcspn(text, "\n")] = '\0';
		line = hha_ctl_encode_err(rq->id, err > 0 ? err : EIO, msg ? msg + 1 : NULL, "fake");
		free(text);
		return line;
	}
	snprintf(path, sizeof(path), "%s/%s.json", dir, rq->cmd);
	if (hha_read_file(path, 1 << 20, &text, &len) == 0) {
		res = json_tokener_parse(text);
		free(text);
		if (!res)
			return hha_ctl_encode_err(rq->id, EPROTO, "fake: bad JSON in the canned file",
						  "fake");
		return hha_ctl_encode_ok(rq->id, res, "fake");
	}
	if (strcmp(rq->cmd, "hello") == 0) {
		res = json_object_new_object();
		json_object_object_add(res, "version", json_object_new_string("fake"));
		json_object_object_add(res, "protocol", json_object_new_int(1));
		json_object_object_add(res, "node", json_object_new_string("fake"));
		return hha_ctl_encode_ok(rq->id, res, "fake");
	}
	snprintf(path, sizeof(path), "unknown command `%s'", rq->cmd);
	return hha_ctl_encode_err(rq->id, EOPNOTSUPP, path, "fake");
}

/* Serve what one client sent. Returns false when it hung up. */
static bool serve(int fd, struct hha_linebuf *lb, const char *dir)
{
	size_t avail;
	char *sp = hha_linebuf_space(lb, &avail), *line;
	ssize_t n = sp ? read(fd, sp, avail) : -1;
	size_t len;
	int r;

	if (n <= 0)
		return false;
	hha_linebuf_commit(lb, (size_t)n);
	while ((r = hha_linebuf_next(lb, &line, &len)) != 0) {
		struct hha_ctl_request rq;
		char err[256], *out;
		if (r < 0) {
			out = hha_ctl_encode_err(NULL, E2BIG, "line too long", "fake");
		} else if (hha_ctl_request_parse(line, len, &rq, err, sizeof(err)) < 0) {
			out = hha_ctl_encode_err(rq.id, EINVAL, err, "fake");
			hha_ctl_request_free(&rq);
		} else {
			out = answer(dir, &rq);
			hha_ctl_request_free(&rq);
		}
		if (out && hha_write_full(fd, out, strlen(out)) < 0) {
			free(out);
			return false;
		}
		free(out);
	}
	return true;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pollfd pfd[MAX_CLIENTS + 1];
	struct hha_linebuf lbs[MAX_CLIENTS + 1];
	struct sigaction act = { .sa_handler = on_term };
	int lfd, n = 1;

	if (argc != 3 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "usage: fake-hhad SOCKET DIR\n");
		return 2;
	}
	sigemptyset(&act.sa_mask);
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	strcpy(sa.sun_path, argv[1]);
	unlink(argv[1]);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 16) < 0) {
		perror("fake-hhad");
		return 1;
	}
	pfd[0] = (struct pollfd){ .fd = lfd, .events = POLLIN };
	while (!done) {
		if (poll(pfd, (nfds_t)n, -1) < 0)
			continue;
		if (pfd[0].revents & POLLIN) {
			int cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (cfd >= 0 && n <= MAX_CLIENTS && hha_linebuf_init(&lbs[n], HHA_CTL_MAX_LINE) == 0) {
				pfd[n++] = (struct pollfd){ .fd = cfd, .events = POLLIN };
			} else if (cfd >= 0) {
				close(cfd);
			}
		}
		for (int i = 1; i < n; i++) {
			if (!pfd[i].revents)
				continue;
			if (serve(pfd[i].fd, &lbs[i], argv[2]))
				continue;
			close(pfd[i].fd);
			hha_linebuf_free(&lbs[i]);
			pfd[i] = pfd[n - 1];
			lbs[i] = lbs[n - 1];
			n--;
			i--;
		}
	}
	unlink(argv[1]);
	return 0;
}
