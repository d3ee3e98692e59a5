/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one place that knows the JSON of hhad's status verbs: JSON text -> struct mon_snapshot. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mon/snapshot.h"

/*
 * hhad is local and trusted to be well-meaning, not to be right: the modules
 * evolve, so every field is optional, read under the names it has had (the
 * first name listed is the current one), range-checked, and strings are cut
 * to size and stripped of control characters (a node name must not be able
 * to move the cursor of the operator's terminal).
 */

static const struct {
	const char *verb, *name;
} sources[MON_SRC_COUNT] = {
	[MON_SRC_LOAD] = { "run.load", "load" },
	[MON_SRC_MEMBERS] = { "net.members", "members" },
	[MON_SRC_DISK] = { "disk.status", "disk" },
	[MON_SRC_VIPS] = { "net.vip.cluster", "vips" },
	/* The failover manager's verb; until it exists hhad answers "unknown command". */
	[MON_SRC_GROUPS] = { "manager.groups", "groups" },
};

const char *mon_source_verb(enum mon_source src)
{
	return (unsigned)src < MON_SRC_COUNT ? sources[src].verb : "?";
}

const char *mon_source_name(enum mon_source src)
{
	return (unsigned)src < MON_SRC_COUNT ? sources[src].name : "?";
}

const char *mon_node_state_name(enum mon_node_state st)
{
	switch (st) {
	case MON_NODE_UP:
		return "up";
	case MON_NODE_LATE:
		return "late";
	case MON_NODE_DEAD:
		return "dead";
	case MON_NODE_DOWN:
		return "down";
	default:
		return "unknown";
	}
}

static enum mon_node_state parse_state(const char *s)
{
	if (!s)
		return MON_NODE_UNKNOWN;
	if (strcasecmp(s, "up") == 0)
		return MON_NODE_UP;
	if (strcasecmp(s, "late") == 0)
		return MON_NODE_LATE;
	if (strcasecmp(s, "dead") == 0)
		return MON_NODE_DEAD;
	if (strcasecmp(s, "down") == 0)
		return MON_NODE_DOWN;
	return MON_NODE_UNKNOWN; /* "init", "unknown", anything newer */
}

void mon_snapshot_clear(struct mon_snapshot *s)
{
	if (!s)
		return;
	free(s->nodes);
	free(s->res);
	free(s->vips);
	free(s->groups);
	memset(s, 0, sizeof(*s));
}

/* The first of the listed keys that @o has, or NULL. */
static json_object *field(json_object *o, ...)
{
	json_object *v = NULL;
	const char *k;
	va_list ap;

	if (!json_object_is_type(o, json_type_object))
		return NULL;
	va_start(ap, o);
	while (!v && (k = va_arg(ap, const char *)))
		if (!json_object_object_get_ex(o, k, &v) || json_object_is_type(v, json_type_null))
			v = NULL;
	va_end(ap);
	return v;
}
#define FIELD(o, ...) field(o, __VA_ARGS__, (const char *)NULL)

/* A finite number in [min, max], or @dflt. */
static double num(json_object *v, double min, double max, double dflt)
{
	double d;

	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
		return dflt;
	d = json_object_get_double(v);
	if (!isfinite(d) || d < min || d > max)
		return dflt;
	return d;
}

static int64_t inum(json_object *v, int64_t min, int64_t max, int64_t dflt)
{
	int64_t i;

	if (json_object_is_type(v, json_type_double))
		return (int64_t)num(v, (double)min, (double)max, (double)dflt);
	if (!json_object_is_type(v, json_type_int))
		return dflt;
	i = json_object_get_int64(v);
	return i < min || i > max ? dflt : i;
}

static uint64_t unum(json_object *v)
{
	if (json_object_is_type(v, json_type_double))
		return (uint64_t)num(v, 0, 1.8e19, 0);
	if (!json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_uint64(v);
}

void mon_text_copy(char *dst, size_t len, const char *s)
{
	size_t i;

	if (len == 0)
		return;
	snprintf(dst, len, "%s", s ? s : "");
	for (i = 0; dst[i]; i++)
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
			dst[i] = '?';
	/* Do not leave half a UTF-8 sequence where the copy was cut. */
	if (s && strlen(s) >= len && i > 0) {
		size_t k = i;
		unsigned char lead;
		while (k > 0 && ((unsigned char)dst[k - 1] & 0xc0) == 0x80)
			k--;
		lead = k > 0 ? (unsigned char)dst[k - 1] : 0;
		if (lead >= 0xc0 && k - 1 + (lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2) > i)
			dst[k - 1] = '\0';
	}
}

/* A JSON string (or integer) for display. */
static void text(char *dst, size_t len, json_object *v)
{
	const char *s = NULL;

	if (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int))
		s = json_object_get_string(v);
	mon_text_copy(dst, len, s);
}

static bool boolean(json_object *v)
{
	return json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

/* The list a result carries: result[key] when it is an array, or the result itself. */
static json_object *list(json_object *root, const char *key)
{
	json_object *a = FIELD(root, key);

	if (json_object_is_type(a, json_type_array))
		return a;
	return json_object_is_type(root, json_type_array) ? root : NULL;
}

static int bad(struct mon_snapshot *s, enum mon_source src, const char *fmt, ...) HHA_PRINTF(3, 4);
static int bad(struct mon_snapshot *s, enum mon_source src, const char *fmt, ...)
{
	va_list ap;

	s->avail[src] = MON_AVAIL_ERROR;
	va_start(ap, fmt);
	vsnprintf(s->why[src], sizeof(s->why[src]), fmt, ap);
	va_end(ap);
	return -EBADMSG;
}

void mon_snapshot_unavailable(struct mon_snapshot *s, enum mon_source src, bool missing,
			      const char *why)
{
	s->avail[src] = missing ? MON_AVAIL_MISSING : MON_AVAIL_ERROR;
	snprintf(s->why[src], sizeof(s->why[src]), "%s", why ? why : "");
}

struct mon_node *mon_snapshot_node(const struct mon_snapshot *s, unsigned id)
{
	for (size_t i = 0; i < s->nnodes; i++)
		if (s->nodes[i].id == id)
			return &s->nodes[i];
	return NULL;
}

/* The node with @id, added (kept sorted by id) when new; NULL when full or out of memory. */
static struct mon_node *node_get(struct mon_snapshot *s, unsigned id)
{
	struct mon_node *n = mon_snapshot_node(s, id), *a;
	size_t at;

	if (n)
		return n;
	if (s->nnodes >= MON_MAX_NODES)
		return NULL;
	a = realloc(s->nodes, (s->nnodes + 1) * sizeof(*a));
	if (!a)
		return NULL;
	s->nodes = a;
	for (at = 0; at < s->nnodes && a[at].id < id; at++)
		;
	memmove(&a[at + 1], &a[at], (s->nnodes - at) * sizeof(*a));
	s->nnodes++;
	n = &a[at];
	memset(n, 0, sizeof(*n));
	n->id = id;
	n->age_ms = -1;
	return n;
}

/* Read the fields both node sources share: id, name, self, state, age. */
static struct mon_node *node_common(struct mon_snapshot *s, json_object *e, bool set_state)
{
	unsigned id = (unsigned)inum(FIELD(e, "id", "node_id"), 1, 65535, 0);
	struct mon_node *n;
	json_object *v;

	if (id == 0 || !(n = node_get(s, id)))
		return NULL;
	if ((v = FIELD(e, "name", "node")))
		text(n->name, sizeof(n->name), v);
	if (boolean(FIELD(e, "self", "local")))
		n->self = true;
	if (set_state && (v = FIELD(e, "state"))) {
		n->state = parse_state(json_object_get_string(v));
		n->age_ms = inum(FIELD(e, "last_heard_ms_ago", "age_ms", "last_heard_ms"), 0, INT64_MAX, -1);
	}
	return n;
}

static void parse_load_vector(struct mon_node *n, json_object *l)
{
	json_object *avg = FIELD(l, "loadavg");

	if (!json_object_is_type(l, json_type_object))
		return;
	n->has_load = true;
	for (size_t i = 0; i < 3; i++)
		n->loadavg[i] = json_object_is_type(avg, json_type_array) &&
						i < json_object_array_length(avg)
					? num(json_object_array_get_idx(avg, i), 0, 1e6, 0)
					: 0;
	n->ncpus = (unsigned)inum(FIELD(l, "ncpus", "cpus"), 1, 1 << 20, 1);
	/* Rounding on the sender may give 1.0000001: clamp rather than drop. */
	n->cpu_use = num(FIELD(l, "cpu_use"), -0.01, 1.01, 0);
	n->cpu_use = n->cpu_use < 0 ? 0 : n->cpu_use > 1 ? 1 : n->cpu_use;
	n->speed = num(FIELD(l, "speed"), 1e-6, 1e6, 1.0);
	n->mem_total = unum(FIELD(l, "mem_total"));
	n->mem_free = unum(FIELD(l, "mem_free"));
	n->mem_avail = unum(FIELD(l, "mem_avail", "mem_available"));
	if (n->mem_free > n->mem_total)
		n->mem_free = n->mem_total;
	if (n->mem_avail > n->mem_total)
		n->mem_avail = n->mem_total;
	n->runon_procs = (unsigned)inum(FIELD(l, "runon_procs"), 0, 1 << 30, 0);
}

static int parse_load(struct mon_snapshot *s, json_object *root)
{
	json_object *a = list(root, "nodes");

	if (!a)
		return bad(s, MON_SRC_LOAD, "no node list in the run.load reply");
	for (size_t i = 0; i < s->nnodes; i++)
		s->nodes[i].has_load = false;
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		unsigned id = (unsigned)inum(FIELD(e, "id", "node_id"), 1, 65535, 0);
		struct mon_node *n = id ? mon_snapshot_node(s, id) : NULL;
		/* Membership is the authority on the states of the nodes it lists
		 * (its peers); run.load's copy serves for the others, this node
		 * among them. */
		n = node_common(s, e, !(n && n->member));
		if (n)
			parse_load_vector(n, FIELD(e, "load"));
	}
	return 0;
}

static int parse_members(struct mon_snapshot *s, json_object *root)
{
	json_object *a = list(root, "peers");

	if (!a)
		a = list(root, "nodes");
	/* A node without a cluster section has no peers to list. */
	if (!a && json_object_is_type(FIELD(root, "cluster"), json_type_boolean) &&
	    !json_object_get_boolean(FIELD(root, "cluster")))
		return 0;
	if (!a)
		return bad(s, MON_SRC_MEMBERS, "no node list in the net.members reply");
	if (!s->self_name[0] && json_object_is_type(FIELD(root, "node"), json_type_string))
		text(s->self_name, sizeof(s->self_name), FIELD(root, "node"));
	for (size_t i = 0; i < s->nnodes; i++) {
		s->nodes[i].nlinks = 0;
		s->nodes[i].member = false;
	}
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		json_object *e = json_object_array_get_idx(a, i);
		struct mon_node *n = node_common(s, e, true);
		json_object *links = FIELD(e, "links");
		size_t nl = json_object_is_type(links, json_type_array) ? json_object_array_length(links) : 0;

		if (!n)
			continue;
		n->member = true;
		if (!FIELD(e, "state"))
			n->state = MON_NODE_UNKNOWN;
		for (size_t k = 0; k < nl && n->nlinks < MON_MAX_LINKS; k++) {
			json_object *l = json_object_array_get_idx(links, k);
			struct mon_link *ml = &n->links[n->nlinks++];
			ml->state = parse_state(json_object_get_string(FIELD(l, "state")));
			ml->age_ms = inum(FIELD(l, "last_heard_ms_ago", "age_ms", "last_heard_ms"), 0, INT64_MAX, -1);
		}
	}
	/* Older formats listed this node too and said which one it was. */
	if (FIELD(root, "self")) {
		unsigned self = (unsigned)inum(FIELD(root, "self"), 1, 65535, 0);
		struct mon_node *n = self ? mon_snapshot_node(s, self) : NULL;
		if (n) {
			n->self = true;
			if (n->state == MON_NODE_UNKNOWN)
				n->state = MON_NODE_UP;
		}
	}
	return 0;
}

/* Make room for one more row in a table; NULL when full or out of memory. */
static void *row_add(void **rows, size_t *n, size_t size)
{
	char *a;

	if (*n >= MON_MAX_ROWS)
		return NULL;
	a = realloc(*rows, (*n + 1) * size);
	if (!a)
		return NULL;
	*rows = a;
	memset(a + *n * size, 0, size);
	return a + (*n)++ * size;
}

/*
 * The entries of a table reply: result[key] as an array, the result itself
 * as an array, or an object of objects keyed by name ({"r0": {...}}).
 * Calls @fn(s, entry, name-or-NULL) for each.
 */
static int each_entry(struct mon_snapshot *s, enum mon_source src, json_object *root,
		      const char *key, void (*fn)(struct mon_snapshot *, json_object *, const char *))
{
	json_object *a = list(root, key);

	if (a) {
		for (size_t i = 0; i < json_object_array_length(a); i++)
			fn(s, json_object_array_get_idx(a, i), NULL);
		return 0;
	}
	if (!json_object_is_type(root, json_type_object))
		return bad(s, src, "the %s reply is not an object", mon_source_verb(src));
	if (FIELD(root, key))
		return bad(s, src, "`%s' in the %s reply is not a list", key, mon_source_verb(src));
	json_object_object_foreach(root, name, v)
		if (json_object_is_type(v, json_type_object))
			fn(s, v, name);
	return 0;
}

/* Replace a table's rows with the reply's entries. */
static int table(struct mon_snapshot *s, enum mon_source src, json_object *root, const char *key,
		 void **rows, size_t *n, void (*fn)(struct mon_snapshot *, json_object *, const char *))
{
	free(*rows);
	*rows = NULL;
	*n = 0;
	return each_entry(s, src, root, key, fn);
}

static void set_name(char *dst, size_t len, json_object *e, const char *name)
{
	json_object *v = FIELD(e, "name", "resource");

	if (v) {
		text(dst, len, v);
	} else if (name) {
		mon_text_copy(dst, len, name);
	}
}

/*
 * What the disk engine's status struct gives as raw counters (bytes done of
 * total, average speed) becomes a percentage and an ETA, only while a sync
 * runs (the connection state says so).
 */
static void derive_sync(struct mon_resource *r, json_object *sync)
{
	double total = num(FIELD(sync, "sync_total", "total"), 1, 1e18, -1);
	double done = num(FIELD(sync, "sync_done", "done"), 0, 1e18, -1);
	double avg = num(FIELD(sync, "sync_speed_avg", "speed_avg"), 1e-3, 1e15, -1);

	if (strncmp(r->cstate, "Sync", 4) != 0 && r->cstate[0])
		return;
	if (r->sync_pct < 0 && total > 0 && done >= 0 && done <= total)
		r->sync_pct = done / total * 100;
	if (r->speed_bps < 0 && avg > 0)
		r->speed_bps = avg;
	if (r->eta_s < 0 && total > 0 && done >= 0 && done <= total && r->speed_bps > 0)
		r->eta_s = (int64_t)((total - done) / r->speed_bps + 0.5);
}

static void add_resource(struct mon_snapshot *s, json_object *e, const char *name)
{
	struct mon_resource *r;
	json_object *sync = FIELD(e, "sync"), *peer = FIELD(e, "peer");

	if (!json_object_is_type(e, json_type_object) ||
	    !(r = row_add((void **)&s->res, &s->nres, sizeof(*r))))
		return;
	set_name(r->name, sizeof(r->name), e, name);
	text(r->role, sizeof(r->role), FIELD(e, "role"));
	text(r->peer_role, sizeof(r->peer_role), FIELD(e, "peer_role") ?: FIELD(peer, "role"));
	text(r->cstate, sizeof(r->cstate), FIELD(e, "cstate", "connection", "conn_state"));
	text(r->disk, sizeof(r->disk), FIELD(e, "disk", "dstate", "disk_state"));
	text(r->peer_disk, sizeof(r->peer_disk),
	     FIELD(e, "peer_disk", "peer_dstate") ?: FIELD(peer, "disk"));
	if (!json_object_is_type(sync, json_type_object))
		sync = e; /* flat form: sync_percent, ... next to the states */
	r->sync_pct = num(FIELD(sync, "percent", "done_pct", "sync_percent"), 0, 100, -1);
	r->speed_bps = num(FIELD(sync, "speed", "speed_bps", "sync_speed_now", "sync_speed_bps"), 0, 1e15, -1);
	r->eta_s = inum(FIELD(sync, "eta_s", "sync_eta_s"), 0, INT64_MAX, -1);
	r->oos_bytes = inum(FIELD(e, "out_of_sync", "oos_bytes", "out_of_sync_bytes") ?:
				    FIELD(sync, "out_of_sync", "oos_bytes", "out_of_sync_bytes"),
			    0, INT64_MAX, -1);
	derive_sync(r, sync);
}

static void add_vip(struct mon_snapshot *s, json_object *e, const char *name)
{
	struct mon_vip *v;
	json_object *h;

	if (!json_object_is_type(e, json_type_object) ||
	    !(v = row_add((void **)&s->vips, &s->nvips, sizeof(*v))))
		return;
	text(v->addr, sizeof(v->addr), FIELD(e, "addr", "address", "vip"));
	if (!v->addr[0] && name)
		mon_text_copy(v->addr, sizeof(v->addr), name);
	text(v->dev, sizeof(v->dev), FIELD(e, "dev", "ifname", "interface"));
	v->holder_id = (unsigned)inum(FIELD(e, "holder_id", "owner_id", "node_id"), 1, 65535, 0);
	h = FIELD(e, "holder", "owner", "node");
	if (h) {
		text(v->holder, sizeof(v->holder), h);
	} else if (v->holder_id && mon_snapshot_node(s, v->holder_id)) {
		snprintf(v->holder, sizeof(v->holder), "%s", mon_snapshot_node(s, v->holder_id)->name);
	} else if (boolean(FIELD(e, "held", "here"))) {
		snprintf(v->holder, sizeof(v->holder), "%s", s->self_name);
	}
	if (boolean(FIELD(e, "conflict")))
		snprintf(v->note, sizeof(v->note), "CONFLICT: held twice");
	else if (boolean(FIELD(e, "dadfailed")))
		snprintf(v->note, sizeof(v->note), "DAD failed");
	else if (boolean(FIELD(e, "tentative")))
		snprintf(v->note, sizeof(v->note), "tentative");
	else if (!v->holder[0] && boolean(FIELD(e, "owned")))
		snprintf(v->note, sizeof(v->note), "owned, missing");
}

static void add_group(struct mon_snapshot *s, json_object *e, const char *name)
{
	struct mon_group *g;

	if (!json_object_is_type(e, json_type_object) ||
	    !(g = row_add((void **)&s->groups, &s->ngroups, sizeof(*g))))
		return;
	set_name(g->name, sizeof(g->name), e, name);
	text(g->state, sizeof(g->state), FIELD(e, "state"));
	text(g->node, sizeof(g->node), FIELD(e, "node", "on", "holder"));
}

int mon_snapshot_parse(struct mon_snapshot *s, enum mon_source src, const char *json)
{
	json_object *root;
	int r = 0;

	if ((unsigned)src >= MON_SRC_COUNT)
		return -EINVAL;
	root = json ? json_tokener_parse(json) : NULL;
	if (!root)
		return bad(s, src, "the %s reply is not JSON", mon_source_verb(src));
	s->why[src][0] = '\0';
	switch (src) {
	case MON_SRC_LOAD:
		r = parse_load(s, root);
		break;
	case MON_SRC_MEMBERS:
		r = parse_members(s, root);
		break;
	case MON_SRC_DISK:
		r = table(s, src, root, "resources", (void **)&s->res, &s->nres, add_resource);
		break;
	case MON_SRC_VIPS:
		r = table(s, src, root, "vips", (void **)&s->vips, &s->nvips, add_vip);
		break;
	case MON_SRC_GROUPS:
		r = table(s, src, root, "groups", (void **)&s->groups, &s->ngroups, add_group);
		break;
	default:
		break;
	}
	json_object_put(root);
	if (r == 0)
		s->avail[src] = MON_AVAIL_OK;
	return r;
}

double mon_node_load(const struct mon_node *n)
{
	double busy;

	if (!n->has_load || n->ncpus == 0 || n->speed <= 0)
		return 0;
	busy = n->cpu_use * n->ncpus;
	return (n->loadavg[0] > busy ? n->loadavg[0] : busy) / n->ncpus / n->speed;
}

void mon_snapshot_totals(const struct mon_snapshot *s, struct mon_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < s->nnodes; i++) {
		const struct mon_node *n = &s->nodes[i];
		t->nodes++;
		if (n->state == MON_NODE_DEAD) {
			t->dead++;
			continue;
		}
		if (n->state == MON_NODE_LATE)
			t->late++;
		if (n->state == MON_NODE_UP || n->state == MON_NODE_LATE ||
		    (n->self && n->state == MON_NODE_UNKNOWN)) {
			t->up++;
			t->cpus += n->has_load ? n->ncpus : 0;
		}
	}
}
