/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Persistent membership state: our incarnation and the newest incarnation seen from each peer. */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/internal.h"
#include "core/util.h"
#include "net/hb-state.h"

/* Replace @path with @text durably: a crash leaves the old or the new file, never half. */
static int write_atomic(const char *dir, const char *name, const char *text)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return hha_write_file_atomic(path, text, strlen(text));
}

int hb_state_next_incarnation(const char *dir, uint64_t *out)
{
	char path[4096], *text = NULL, buf[32];
	uint64_t stored = 0, inc;
	struct timespec ts;
	int r;

	r = hha_mkdir_p(dir, 0700);
	if (r < 0)
		return hha_error(r, NULL, "cannot create state directory %s: %s", dir, hha_strerror(r));
	snprintf(path, sizeof(path), "%s/incarnation", dir);
	r = hha_read_file(path, 64, &text, NULL);
	if (r == 0) {
		char *end;
		errno = 0;
		stored = strtoull(text, &end, 10);
		if (errno || end == text || (*end && *end != '\n')) {
			free(text);
			return hha_error(-EINVAL, NULL, "%s: not a number; remove it to start afresh",
					 path);
		}
		free(text);
	} else if (r != -ENOENT) {
		return hha_error(r, NULL, "cannot read %s: %s", path, hha_strerror(r));
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	inc = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (inc <= stored)
		inc = stored + 1;
	snprintf(buf, sizeof(buf), "%" PRIu64 "\n", inc);
	r = write_atomic(dir, "incarnation", buf);
	if (r < 0)
		return r;
	*out = inc;
	return 0;
}

int hb_state_load_peers(const char *dir, uint64_t floors[256])
{
	char path[4096], *text = NULL, *line, *save = NULL;
	int r;

	snprintf(path, sizeof(path), "%s/peers", dir);
	r = hha_read_file(path, 65536, &text, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return hha_error(r, NULL, "cannot read %s: %s", path, hha_strerror(r));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		unsigned id;
		uint64_t inc;
		/* A damaged line only loses replay protection across our restart. */
		if (sscanf(line, "%u %" SCNu64, &id, &inc) == 2 && id > 0 && id < 256)
			floors[id] = inc;
	}
	free(text);
	return 0;
}

int hb_state_save_peers(const char *dir, const uint64_t floors[256])
{
	char text[256 * 32];
	size_t off = 0;

	text[0] = '\0';
	for (unsigned id = 1; id < 256; id++)
		if (floors[id])
			off += (size_t)snprintf(text + off, sizeof(text) - off, "%u %" PRIu64 "\n", id,
						floors[id]);
	return write_atomic(dir, "peers", text);
}
