/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Validation and normalisation of JSON trees against struct hha_schema tables. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/internal.h"
#include "core/schema.h"
#include "core/util.h"

void hha_errs_add(struct hha_errs *e, const char *path, const char *fmt, ...)
{
	char msg[768], *line, **nv;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (asprintf(&line, "%s%s%s", path, *path ? ": " : "", msg) < 0)
		return;
	nv = realloc(e->v, (e->n + 1) * sizeof(*nv));
	if (!nv) {
		free(line);
		return;
	}
	e->v = nv;
	e->v[e->n++] = line;
}

void hha_errs_free(struct hha_errs *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i]);
	free(e->v);
	e->v = NULL;
	e->n = 0;
}

static const char *type_word(json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: return "null";
	case json_type_boolean: return "a boolean";
	case json_type_double: return "a fractional number";
	case json_type_int: return "an integer";
	case json_type_object: return "an object";
	case json_type_array: return "an array";
	case json_type_string: return "a string";
	}
	return "something else";
}

static const char *expect_word(enum hha_sch_type t)
{
	switch (t) {
	case HHA_SCH_OBJECT:
	case HHA_SCH_MAP: return "an object";
	case HHA_SCH_ARRAY: return "an array";
	case HHA_SCH_INT: return "an integer";
	case HHA_SCH_NUMBER: return "a number";
	case HHA_SCH_BOOL: return "true or false";
	case HHA_SCH_SIZE: return "a size (bytes, or a string like \"600M\")";
	case HHA_SCH_IPADDR: return "an IP address string";
	case HHA_SCH_IPPREFIX: return "an address/prefix string";
	case HHA_SCH_HOSTPORT: return "an \"address:port\" string";
	case HHA_SCH_PATH: return "an absolute path string";
	case HHA_SCH_NAME: return "a name string";
	default: return "a string";
	}
}

/* A short rendering of a value for messages: strings quoted, long ones cut. */
static void show_value(json_object *v, char *buf, size_t len)
{
	const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
							     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (strlen(s) > 60)
		snprintf(buf, len, "%.57s...", s);
	else
		snprintf(buf, len, "%s", s);
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 63 || s[0] == '-' || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i]))
			return false;
	return true;
}

static bool valid_ip(const char *s)
{
	unsigned char buf[16];

	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int hha_parse_hostport(const char *s, int def_port, char *addr, size_t addrlen, int *port)
{
	const char *colon, *host = s;
	size_t hlen;
	int64_t p;
	char tmp[64];

	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb)
			return -EINVAL;
		host = s + 1;
		hlen = (size_t)(rb - host);
		colon = rb[1] == ':' ? rb + 1 : NULL;
		if (!colon && rb[1] != '\0')
			return -EINVAL;
	} else {
		colon = strrchr(s, ':');
		if (colon && strchr(s, ':') != colon)
			colon = NULL; /* a bare IPv6 address */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
	}
	if (hlen == 0 || hlen >= sizeof(tmp) || hlen >= addrlen)
		return -EINVAL;
	memcpy(tmp, host, hlen);
	tmp[hlen] = '\0';
	if (!valid_ip(tmp))
		return -EINVAL;
	if (colon) {
		if (hha_parse_int64(colon + 1, 1, 65535, &p) < 0)
			return -EINVAL;
	} else {
		if (def_port <= 0)
			return -EINVAL;
		p = def_port;
	}
	memcpy(addr, tmp, hlen + 1);
	*port = (int)p;
	return 0;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), prev[64], cur[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
			cur[j] = HHA_MIN(sub, HHA_MIN(del, ins));
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

static void join_path(char *out, size_t len, const char *path, const char *key)
{
	snprintf(out, len, "%s%s%s", path, *path ? "." : "", key);
}

static void choices_text(const char *const *c, char *buf, size_t len)
{
	size_t n = 0, k = 0;

	while (c[n])
		n++;
	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *sep = i == 0 ? "" : (i + 1 == n ? " or " : ", ");
		k += (size_t)snprintf(buf + k, k < len ? len - k : 0, "%s\"%s\"", sep, c[i]);
		if (k >= len)
			break;
	}
}

static json_object *validate_object(const struct hha_schema *s, json_object *in,
				    const char *path, struct hha_errs *errs)
{
	json_object *out = json_object_new_object();
	char sub[512];
	bool bad = false;

	/* Unknown keys first, so a typo is reported beside the missing key it hides. */
	json_object_object_foreach(in, k, v) {
		const struct hha_schema *f;
		const char *best = NULL;
		size_t bestd = 3;

		(void)v;
		for (f = s->sub; f->key; f++) {
			if (strcmp(f->key, k) == 0)
				break;
			size_t d = edit_distance(k, f->key);
			if (d < bestd) {
				bestd = d;
				best = f->key;
			}
		}
		if (f->key)
			continue;
		join_path(sub, sizeof(sub), path, k);
		if (best)
			hha_errs_add(errs, sub, "unknown key (did you mean \"%s\"?)", best);
		else
			hha_errs_add(errs, sub, "unknown key");
		bad = true;
	}
	for (const struct hha_schema *f = s->sub; f->key; f++) {
		json_object *val = NULL, *nv;
		bool have = json_object_object_get_ex(in, f->key, &val);

		join_path(sub, sizeof(sub), path, f->key);
		if (!have) {
			if (f->flags & HHA_SCH_REQUIRED) {
				hha_errs_add(errs, path, "missing required key \"%s\"", f->key);
				bad = true;
				continue;
			}
			if (f->def) {
				json_object *d = json_tokener_parse(f->def);
				nv = d ? hha_schema_validate(f, d, sub, errs) : NULL;
				json_object_put(d);
			} else if (f->type == HHA_SCH_OBJECT && !(f->flags & HHA_SCH_ABSENT_OK)) {
				json_object *d = json_object_new_object();
				nv = hha_schema_validate(f, d, sub, errs);
				json_object_put(d);
			} else {
				continue;
			}
		} else {
			nv = hha_schema_validate(f, val, sub, errs);
		}
		if (!nv) {
			bad = true;
			continue;
		}
		json_object_object_add(out, f->key, nv);
	}
	if (bad) {
		json_object_put(out);
		return NULL;
	}
	return out;
}

static json_object *validate_scalar(const struct hha_schema *s, json_object *in,
				    const char *path, struct hha_errs *errs)
{
	char shown[96], alts[256];
	const char *str = json_object_is_type(in, json_type_string) ? json_object_get_string(in) : NULL;
	int64_t max = s->max;

	show_value(in, shown, sizeof(shown));
	switch (s->type) {
	case HHA_SCH_BOOL:
		if (!json_object_is_type(in, json_type_boolean))
			goto wrong_type;
		return json_object_get(in);
	case HHA_SCH_INT: {
		int64_t v;
		if (!json_object_is_type(in, json_type_int))
			goto wrong_type;
		v = json_object_get_int64(in);
		if ((s->min || s->max) && (v < s->min || v > s->max)) {
			hha_errs_add(errs, path, "%lld is out of range (%lld..%lld)", (long long)v,
				     (long long)s->min, (long long)s->max);
			return NULL;
		}
		return json_object_get(in);
	}
	case HHA_SCH_NUMBER: {
		double v;
		if (!json_object_is_type(in, json_type_int) &&
		    !json_object_is_type(in, json_type_double))
			goto wrong_type;
		v = json_object_get_double(in);
		if ((s->min || s->max) && (v < (double)s->min || v > (double)s->max)) {
			hha_errs_add(errs, path, "%s is out of range (%lld..%lld)", shown,
				     (long long)s->min, (long long)s->max);
			return NULL;
		}
		return json_object_new_double(v);
	}
	case HHA_SCH_SIZE: {
		uint64_t v;
		if (json_object_is_type(in, json_type_int)) {
			int64_t i = json_object_get_int64(in);
			if (i < 0) {
				hha_errs_add(errs, path, "a size cannot be negative, got %s", shown);
				return NULL;
			}
			v = (uint64_t)i;
		} else if (str) {
			if ((s->flags & HHA_SCH_UNLIMITED) && strcmp(str, "unlimited") == 0) {
				v = 0;
			} else if (hha_parse_size(str, &v) < 0 || v > INT64_MAX) {
				hha_errs_add(errs, path,
					     "expected a size like \"4096\", \"512K\", \"600M\" or \"1G\"%s, got %s",
					     (s->flags & HHA_SCH_UNLIMITED) ? " or \"unlimited\"" : "",
					     shown);
				return NULL;
			}
		} else {
			goto wrong_type;
		}
		if ((s->min || s->max) && v != 0 && ((int64_t)v < s->min || (int64_t)v > s->max)) {
			hha_errs_add(errs, path, "%s is out of range (%lld..%lld bytes)", shown,
				     (long long)s->min, (long long)s->max);
			return NULL;
		}
		return json_object_new_int64((int64_t)v);
	}
	case HHA_SCH_ENUM:
		choices_text(s->choices, alts, sizeof(alts));
		if (str)
			for (const char *const *c = s->choices; *c; c++)
				if (strcmp(*c, str) == 0)
					return json_object_get(in);
		hha_errs_add(errs, path, "expected %s, got %s", alts, shown);
		return NULL;
	default:
		break;
	}
	/* The remaining types are strings. */
	if (!str)
		goto wrong_type;
	if (max == 0)
		max = 4096;
	if ((int64_t)strlen(str) < s->min || (int64_t)strlen(str) > max) {
		hha_errs_add(errs, path, "length %zu is out of range (%lld..%lld), got %s",
			     strlen(str), (long long)s->min, (long long)max, shown);
		return NULL;
	}
	switch (s->type) {
	case HHA_SCH_NAME:
		if (!valid_name(str)) {
			hha_errs_add(errs, path,
				     "expected a name of letters, digits, '_', '.' and '-' (at most 63), got %s",
				     shown);
			return NULL;
		}
		break;
	case HHA_SCH_PATH:
		if (str[0] != '/') {
			hha_errs_add(errs, path, "expected an absolute path, got %s", shown);
			return NULL;
		}
		break;
	case HHA_SCH_IPADDR:
		if (!valid_ip(str)) {
			hha_errs_add(errs, path, "expected an IPv4 or IPv6 address, got %s", shown);
			return NULL;
		}
		break;
	case HHA_SCH_IPPREFIX: {
		char addr[64];
		const char *slash = strchr(str, '/');
		int64_t plen;
		bool v6;
		if (!slash || (size_t)(slash - str) >= sizeof(addr))
			goto bad_prefix;
		memcpy(addr, str, (size_t)(slash - str));
		addr[slash - str] = '\0';
		if (!valid_ip(addr))
			goto bad_prefix;
		v6 = strchr(addr, ':') != NULL;
		if (hha_parse_int64(slash + 1, 1, v6 ? 128 : 32, &plen) < 0)
			goto bad_prefix;
		break;
bad_prefix:
		hha_errs_add(errs, path,
			     "expected ADDRESS/PREFIX such as \"192.0.2.10/24\" or \"fd00::10/64\", got %s",
			     shown);
		return NULL;
	}
	case HHA_SCH_HOSTPORT: {
		char addr[64];
		int port;
		if (hha_parse_hostport(str, (int)s->min, addr, sizeof(addr), &port) < 0) {
			hha_errs_add(errs, path,
				     "expected \"ADDRESS:PORT\" (\"[V6]:PORT\" for IPv6), got %s", shown);
			return NULL;
		}
		break;
	}
	default:
		break;
	}
	return json_object_get(in);

wrong_type:
	if (s->type == HHA_SCH_ENUM) {
		choices_text(s->choices, alts, sizeof(alts));
		hha_errs_add(errs, path, "expected %s, got %s", alts, shown);
	} else {
		hha_errs_add(errs, path, "expected %s, got %s (%s)", expect_word(s->type),
			     type_word(in), shown);
	}
	return NULL;
}

json_object *hha_schema_validate(const struct hha_schema *s, json_object *in, const char *path,
				 struct hha_errs *errs)
{
	char sub[512], shown[96];

	switch (s->type) {
	case HHA_SCH_OBJECT:
		if (!json_object_is_type(in, json_type_object))
			break;
		return validate_object(s, in, path, errs);
	case HHA_SCH_MAP: {
		json_object *out;
		bool bad = false;
		if (!json_object_is_type(in, json_type_object))
			break;
		out = json_object_new_object();
		json_object_object_foreach(in, k, v) {
			json_object *nv;
			join_path(sub, sizeof(sub), path, k);
			if (!valid_name(k)) {
				hha_errs_add(errs, sub,
					     "invalid name: use letters, digits, '_', '.' and '-' (at most 63)");
				bad = true;
				continue;
			}
			nv = hha_schema_validate(s->sub, v, sub, errs);
			if (!nv) {
				bad = true;
				continue;
			}
			json_object_object_add(out, k, nv);
		}
		if (bad) {
			json_object_put(out);
			return NULL;
		}
		return out;
	}
	case HHA_SCH_ARRAY: {
		json_object *out;
		size_t n;
		bool bad = false;
		if (!json_object_is_type(in, json_type_array))
			break;
		n = json_object_array_length(in);
		if ((s->min || s->max) && ((int64_t)n < s->min || (int64_t)n > s->max)) {
			hha_errs_add(errs, path, "expected %lld to %lld elements, got %zu",
				     (long long)s->min, (long long)s->max, n);
			return NULL;
		}
		out = json_object_new_array();
		for (size_t i = 0; i < n; i++) {
			json_object *nv;
			snprintf(sub, sizeof(sub), "%s[%zu]", path, i);
			nv = hha_schema_validate(s->sub, json_object_array_get_idx(in, i), sub, errs);
			if (!nv) {
				bad = true;
				continue;
			}
			json_object_array_add(out, nv);
		}
		if (bad) {
			json_object_put(out);
			return NULL;
		}
		return out;
	}
	default:
		return validate_scalar(s, in, path, errs);
	}
	show_value(in, shown, sizeof(shown));
	hha_errs_add(errs, path, "expected %s, got %s", expect_word(s->type), type_word(in));
	return NULL;
}

json_object *hha_json_get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *hha_json_str(json_object *o, const char *key)
{
	json_object *v = hha_json_get(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int64_t hha_json_int(json_object *o, const char *key, int64_t dflt)
{
	json_object *v = hha_json_get(o, key);

	return v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : dflt;
}

bool hha_json_bool(json_object *o, const char *key, bool dflt)
{
	json_object *v = hha_json_get(o, key);

	return v && json_object_is_type(v, json_type_boolean) ? json_object_get_boolean(v) : dflt;
}

static const char *type_name(const struct hha_schema *s)
{
	switch (s->type) {
	case HHA_SCH_OBJECT: return "object";
	case HHA_SCH_MAP: return "map of names";
	case HHA_SCH_ARRAY: return "array";
	case HHA_SCH_STRING: return "string";
	case HHA_SCH_NAME: return "name";
	case HHA_SCH_PATH: return "path";
	case HHA_SCH_INT: return "integer";
	case HHA_SCH_NUMBER: return "number";
	case HHA_SCH_BOOL: return "boolean";
	case HHA_SCH_ENUM: return "enum";
	case HHA_SCH_SIZE: return "size";
	case HHA_SCH_IPADDR: return "IP address";
	case HHA_SCH_IPPREFIX: return "address/prefix";
	case HHA_SCH_HOSTPORT: return "address:port";
	}
	return "?";
}

static void print_rows(const struct hha_schema *s, const char *path, FILE *f)
{
	char sub[512], extra[256];

	for (const struct hha_schema *k = s->sub; k && k->key; k++) {
		join_path(sub, sizeof(sub), path, k->key);
		extra[0] = '\0';
		if (k->type == HHA_SCH_ENUM)
			choices_text(k->choices, extra, sizeof(extra));
		else if ((k->type == HHA_SCH_INT || k->type == HHA_SCH_NUMBER) && (k->min || k->max))
			snprintf(extra, sizeof(extra), "%lld..%lld", (long long)k->min, (long long)k->max);
		else if (k->type == HHA_SCH_ARRAY && k->sub)
			snprintf(extra, sizeof(extra), "of %s", type_name(k->sub));
		fprintf(f, "| `%s` | %s%s%s | %s | %s |\n", sub, type_name(k), *extra ? " " : "",
			extra, (k->flags & HHA_SCH_REQUIRED) ? "**required**" : k->def ? k->def : "—",
			k->doc ? k->doc : "");
		if (k->type == HHA_SCH_OBJECT) {
			print_rows(k, sub, f);
		} else if (k->type == HHA_SCH_MAP && k->sub) {
			char m[512];
			snprintf(m, sizeof(m), "%s.NAME", sub);
			print_rows(k->sub, m, f);
		} else if (k->type == HHA_SCH_ARRAY && k->sub && k->sub->type == HHA_SCH_OBJECT) {
			char m[512];
			snprintf(m, sizeof(m), "%s[]", sub);
			print_rows(k->sub, m, f);
		}
	}
}

void hha_schema_print_markdown(const struct hha_schema *s, FILE *f)
{
	fprintf(f, "| key | type | default | meaning |\n|---|---|---|---|\n");
	print_rows(s, "", f);
}
