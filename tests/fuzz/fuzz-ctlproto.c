/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Fuzz target: bytes a control-socket client may send (line framing + request parsing),
 * and lines a client may read (reply/event parsing). */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hha_linebuf lb;
	char *line;
	size_t len;
	int r;

	if (hha_linebuf_init(&lb, 4096) < 0)
		return 0;
	/* Feed in two pieces so partial lines are exercised. */
	for (size_t part = 0; part < 2; part++) {
		size_t from = part ? size / 2 : 0, to = part ? size : size / 2;
		for (size_t off = from; off < to;) {
			size_t avail, n;
			char *sp = hha_linebuf_space(&lb, &avail);
			if (!sp) {
				/* Full without a newline: next() reports and drops it. */
				while (hha_linebuf_next(&lb, &line, &len) != 0)
					;
				continue;
			}
			n = to - off < avail ? to - off : avail;
			memcpy(sp, data + off, n);
			hha_linebuf_commit(&lb, n);
			off += n;
			while ((r = hha_linebuf_next(&lb, &line, &len)) != 0) {
				struct hha_ctl_request req;
				struct hha_ctl_msg msg;
				char err[256];
				if (r < 0)
					continue;
				hha_ctl_request_parse(line, len, &req, err, sizeof(err));
				hha_ctl_request_free(&req);
				hha_ctl_msg_parse(line, len, &msg);
				hha_ctl_msg_free(&msg);
			}
		}
	}
	hha_linebuf_free(&lb);
	return 0;
}
