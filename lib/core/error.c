/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Error codes, their names and words, and the thread-local last-error message. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"

#define HHA_ERRMSG_MAX 1024

static _Thread_local char last_msg[HHA_ERRMSG_MAX];
static _Thread_local int last_code;

static const struct {
	int code;
	const char *name;
	const char *text;
} hha_codes[] = {
	{ HHA_ECONFIG, "HHA_ECONFIG", "Invalid configuration" },
	{ HHA_EVERSION, "HHA_EVERSION", "Protocol version mismatch" },
	{ HHA_EAUTH, "HHA_EAUTH", "Authentication failed" },
	{ HHA_ESTATE, "HHA_ESTATE", "Not allowed in the current state" },
	{ HHA_ESPLITBRAIN, "HHA_ESPLITBRAIN", "Split brain: both replicas changed independently" },
	{ HHA_EUNRELATED, "HHA_EUNRELATED", "Replicas share no history (unrelated data)" },
	{ HHA_EPEERPRIMARY, "HHA_EPEERPRIMARY", "The peer is primary" },
	{ HHA_ENOTUPTODATE, "HHA_ENOTUPTODATE", "Local data is not UpToDate" },
	{ HHA_EPROTO_PEER, "HHA_EPROTO_PEER", "Malformed data from peer" },
};

static int absval(int err)
{
	return err < 0 ? -err : err;
}

HHA_EXPORT const char *hha_strerror(int err)
{
	static _Thread_local char buf[64];

	err = absval(err);
	if (err == 0)
		return "Success";
	for (size_t i = 0; i < HHA_ARRAY_SIZE(hha_codes); i++)
		if (hha_codes[i].code == err)
			return hha_codes[i].text;
	if (err < HHA_E_FIRST) {
		const char *d = strerrordesc_np(err);
		if (d)
			return d;
	}
	snprintf(buf, sizeof(buf), "Unknown error %d", err);
	return buf;
}

HHA_EXPORT const char *hha_error_name(int err)
{
	err = absval(err);
	for (size_t i = 0; i < HHA_ARRAY_SIZE(hha_codes); i++)
		if (hha_codes[i].code == err)
			return hha_codes[i].name;
	if (err > 0 && err < HHA_E_FIRST) {
		const char *n = strerrorname_np(err);
		if (n)
			return n;
	}
	return "E?";
}

HHA_EXPORT int hha_error_from_name(const char *name)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < HHA_ARRAY_SIZE(hha_codes); i++)
		if (strcmp(hha_codes[i].name, name) == 0)
			return hha_codes[i].code;
	/* errno values on Linux stay well below 256. */
	for (int e = 1; e < 256; e++) {
		const char *n = strerrorname_np(e);
		if (n && strcmp(n, name) == 0)
			return e;
	}
	return 0;
}

HHA_EXPORT const char *hha_last_error(void)
{
	return last_msg;
}

HHA_EXPORT int hha_last_error_code(void)
{
	return last_code;
}

int hha_error(int err, const char *func, const char *fmt, ...)
{
	char tmp[HHA_ERRMSG_MAX];
	va_list ap;

	err = -absval(err);
	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (func)
		snprintf(last_msg, sizeof(last_msg), "%s: %s", func, tmp);
	else
		snprintf(last_msg, sizeof(last_msg), "%s", tmp);
	last_code = err;
	return err;
}

int hha_error_wrap(int err, const char *func)
{
	char tmp[HHA_ERRMSG_MAX];

	err = -absval(err);
	if (last_msg[0] == '\0')
		snprintf(tmp, sizeof(tmp), "%s", hha_strerror(err));
	else
		snprintf(tmp, sizeof(tmp), "%s", last_msg);
	snprintf(last_msg, sizeof(last_msg), "%s: %s", func, tmp);
	last_code = err;
	return err;
}

void hha_error_clear(void)
{
	last_msg[0] = '\0';
	last_code = 0;
}
