/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-disk's output for people: status lines, events, configuration; and argument parsing. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hha-disk.h"

int disk_parse_size(const char *s, bool unlimited, uint64_t *out)
{
	static const struct {
		const char *sfx;
		unsigned shift;
	} u[] = { { "", 0 },   { "b", 0 },    { "k", 10 }, { "kib", 10 }, { "m", 20 },
		  { "mib", 20 }, { "g", 30 }, { "gib", 30 }, { "t", 40 }, { "tib", 40 } };
	unsigned long long v;
	char *end;

	if (unlimited && strcasecmp(s, "unlimited") == 0) {
		*out = 0;
		return 0;
	}
	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		if (strcasecmp(end, u[i].sfx) == 0) {
			if (u[i].shift && v > (UINT64_MAX >> u[i].shift))
				return -1;
			*out = (uint64_t)v << u[i].shift;
			return 0;
		}
	}
	return -1;
}

int disk_parse_ms(const char *s, int64_t *out)
{
	char *end;
	double v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno || v > 1e9)
		return -1;
	if (strcmp(end, "s") == 0)
		v *= 1000;
	else if (*end && strcmp(end, "ms") != 0)
		return -1;
	*out = (int64_t)v;
	return 0;
}

static const char *str(json_object *o, const char *k)
{
	json_object *v;

	if (!json_object_object_get_ex(o, k, &v) || !v)
		return "-";
	return json_object_get_string(v);
}

static int64_t num(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && v ? json_object_get_int64(v) : 0;
}

/* 1234567 -> "1,234,567" (the old status format's thousands separators). */
static const char *grouped(uint64_t v, char *buf, size_t len)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%" PRIu64, v), o = 0;

	for (int i = 0; i < n && o + 2 < (int)len; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = tmp[i];
	}
	buf[o] = 0;
	return buf;
}

static bool flag(json_object *o, const char *k)
{
	json_object *v;

	return json_object_object_get_ex(o, k, &v) && json_object_get_boolean(v);
}

static void print_one(json_object *s)
{
	json_object *sync, *v;
	char a2[32];

	printf("%s: cs:%s ro:%s/%s ds:%s/%s %s ns:%" PRId64 " nr:%" PRId64 " dw:%" PRId64 " dr:%" PRId64
	       " pe:%" PRId64 " ua:%" PRId64 " oos:%" PRId64 "\n",
	       str(s, "resource"), str(s, "connection"), str(s, "role"), str(s, "peer_role"), str(s, "disk"),
	       str(s, "peer_disk"), str(s, "protocol"), num(s, "sent") / 1024, num(s, "received") / 1024,
	       num(s, "disk_written") / 1024, num(s, "disk_read") / 1024, num(s, "pending"), num(s, "unacked"),
	       num(s, "out_of_sync") / 1024);
	if (json_object_object_get_ex(s, "sync", &sync)) {
		int64_t total = num(sync, "total"), left = num(sync, "remaining"), eta = num(sync, "eta_s");
		double pct = json_object_get_double(json_object_object_get(sync, "percent"));
		char bar[21], a[32], b[32];
		int fill = (int)(pct / 5.0);

		for (int i = 0; i < 20; i++)
			bar[i] = i < fill ? '=' : i == fill ? '>' : '.';
		bar[20] = 0;
		printf("\t[%s] sync'ed: %.1f%% (%" PRId64 "/%" PRId64 ")M finish: %" PRId64 ":%02" PRId64
		       ":%02" PRId64 " speed: %s (%s) K/sec\n",
		       bar, pct, left >> 20, total >> 20, eta / 3600, (eta / 60) % 60, eta % 60,
		       grouped((uint64_t)num(sync, "speed") / 1024, a, sizeof(a)),
		       grouped((uint64_t)num(sync, "speed_avg") / 1024, b, sizeof(b)));
	}
	if (json_object_object_get_ex(s, "sync", &sync) || num(s, "app_write_speed"))
		printf("\tapplication writes: %s K/sec\n", grouped((uint64_t)num(s, "app_write_speed") / 1024, a2,
								     sizeof(a2)));
	if (flag(s, "split_brain"))
		printf("\tsplit-brain: refused; recover with `connect ... --discard-my-data' on the side whose "
		       "changes go\n");
	if (flag(s, "sync_paused"))
		printf("\tsync paused (resume-sync)\n");
	if (flag(s, "crashed_primary"))
		printf("\tcrashed primary: its activity-log extents are resynced at the next connection\n");
	if (flag(s, "diskless_primary"))
		printf("\tdiskless: the local store failed; reads and writes go to the peer\n");
	if (json_object_object_get_ex(s, "verify", &v)) {
		json_object *ranges = json_object_object_get(v, "ranges");
		int64_t end = num(v, "end"), pos = num(v, "position"), eta = num(v, "eta_s");
		printf("\tverify: %s %.1f%% (%" PRId64 "/%" PRId64 ")M, %" PRId64 " K differ, speed %s K/sec",
		       flag(v, "running") ? "running" : "done", end ? 100.0 * (double)pos / (double)end : 100.0,
		       pos >> 20, end >> 20, num(v, "out_of_sync") / 1024,
		       grouped((uint64_t)num(v, "speed") / 1024, a2, sizeof(a2)));
		if (flag(v, "running"))
			printf(", finish %" PRId64 ":%02" PRId64 ":%02" PRId64, eta / 3600, (eta / 60) % 60, eta % 60);
		printf("\n");
		for (size_t i = 0; ranges && i < json_object_array_length(ranges); i++) {
			json_object *rg = json_object_array_get_idx(ranges, i);
			printf("\t\tdiffers: %" PRId64 "+%" PRId64 "\n", num(rg, "offset"), num(rg, "length"));
		}
	}
	if (json_object_object_get_ex(s, "last_refusal", NULL))
		printf("\trefused: %s\n", str(s, "last_refusal"));
}

void disk_print_status(json_object *st)
{
	if (json_object_is_type(st, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(st); i++)
			print_one(json_object_array_get_idx(st, i));
	} else {
		print_one(st);
	}
}

void disk_print_event(json_object *ev)
{
	json_object *data = json_object_object_get(ev, "data");

	printf("%s %s %s %s/%s %s/%s: %s\n", str(ev, "event"), str(data, "resource"), str(data, "connection"),
	       str(data, "role"), str(data, "peer_role"), str(data, "disk"), str(data, "peer_disk"),
	       str(data, "message"));
	fflush(stdout);
}

static void show_one(json_object *c)
{
	json_object *net, *exp;

	printf("resource %s {\n", str(c, "resource"));
	printf("\tdisk %s;\n\tmeta %s;\n", str(c, "backing"), str(c, "meta"));
	if (num(c, "size"))
		printf("\tsize %" PRId64 ";\n", num(c, "size"));
	if (json_object_object_get_ex(c, "net", &net) && net)
		printf("\tnet %s %s protocol %s security %s key-file %s timeout %" PRId64 "ms ping-int %" PRId64
		       "ms connect-int %" PRId64 "ms sndbuf %" PRId64 ";\n",
		       str(net, "local"), str(net, "peer"), str(net, "protocol"), str(net, "security"),
		       str(net, "key_file"), num(net, "timeout_ms"), num(net, "ping_int_ms"),
		       num(net, "connect_int_ms"), num(net, "sndbuf"));
	printf("\tsyncer rate %s;\n", num(c, "sync_rate") ? str(c, "sync_rate") : "unlimited");
	if (json_object_object_get_ex(c, "export", &exp) && exp)
		printf("\texport name %s unix %s tcp %s secondary %s;\n", str(exp, "name"), str(exp, "unix"),
		       str(exp, "tcp"), str(exp, "secondary"));
	printf("}\n");
}

void disk_print_show(json_object *cfg)
{
	if (json_object_is_type(cfg, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(cfg); i++)
			show_one(json_object_array_get_idx(cfg, i));
	} else {
		show_one(cfg);
	}
}

void disk_print_md(json_object *md)
{
	json_object_object_foreach(md, k, v) {
		if (json_object_is_type(v, json_type_array)) {
			size_t n = json_object_array_length(v);
			printf("%-22s", k);
			if (n == 0)
				printf(" (none)");
			for (size_t i = 0; i < n; i++)
				printf(" %s", json_object_get_string(json_object_array_get_idx(v, i)));
			if (strcmp(k, "activity_log") == 0 && n)
				printf("  (4 MiB extents)");
			printf("\n");
		} else {
			printf("%-22s %s\n", k, json_object_get_string(v));
		}
	}
}
