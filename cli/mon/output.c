/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon for scripts: one snapshot as text (--once) or as JSON (--json). */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mon/layout.h"
#include "mon/output.h"

/* A double printed with 6 significant digits, not json-c's 17 ("0.41999999999999998"). */
static json_object *dbl(double d)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.6g", d);
	return json_object_new_double_s(d, buf);
}

static json_object *str(const char *s)
{
	return s && s[0] ? json_object_new_string(s) : NULL;
}

static void add(json_object *o, const char *k, json_object *v)
{
	json_object_object_add(o, k, v);
}

static json_object *node_json(const struct mon_node *n)
{
	json_object *o = json_object_new_object(), *links = json_object_new_array();

	add(o, "id", json_object_new_int64(n->id));
	add(o, "name", str(n->name));
	add(o, "self", json_object_new_boolean(n->self));
	add(o, "state", json_object_new_string(mon_node_state_name(n->state)));
	add(o, "age_ms", n->age_ms >= 0 ? json_object_new_int64(n->age_ms) : NULL);
	if (n->has_load) {
		json_object *l = json_object_new_object(), *avg = json_object_new_array();
		for (int i = 0; i < 3; i++)
			json_object_array_add(avg, dbl(n->loadavg[i]));
		add(l, "loadavg", avg);
		add(l, "ncpus", json_object_new_int64(n->ncpus));
		add(l, "cpu_use", dbl(n->cpu_use));
		add(l, "speed", dbl(n->speed));
		add(l, "mem_total", json_object_new_uint64(n->mem_total));
		add(l, "mem_free", json_object_new_uint64(n->mem_free));
		add(l, "mem_avail", json_object_new_uint64(n->mem_avail));
		add(l, "runon_procs", json_object_new_int64(n->runon_procs));
		add(o, "load", l);
		add(o, "load_per_cpu", dbl(mon_node_load(n)));
	} else {
		add(o, "load", NULL);
		add(o, "load_per_cpu", NULL);
	}
	for (unsigned i = 0; i < n->nlinks; i++) {
		json_object *l = json_object_new_object();
		add(l, "link", json_object_new_int64(i));
		add(l, "state", json_object_new_string(mon_node_state_name(n->links[i].state)));
		add(l, "age_ms", n->links[i].age_ms >= 0 ? json_object_new_int64(n->links[i].age_ms)
							 : NULL);
		json_object_array_add(links, l);
	}
	add(o, "links", links);
	return o;
}

static json_object *res_json(const struct mon_resource *r)
{
	json_object *o = json_object_new_object();

	add(o, "name", str(r->name));
	add(o, "role", str(r->role));
	add(o, "peer_role", str(r->peer_role));
	add(o, "connection", str(r->cstate));
	add(o, "disk", str(r->disk));
	add(o, "peer_disk", str(r->peer_disk));
	add(o, "sync_percent", r->sync_pct >= 0 ? dbl(r->sync_pct) : NULL);
	add(o, "sync_speed_bps", r->speed_bps >= 0 ? dbl(r->speed_bps) : NULL);
	add(o, "sync_eta_s", r->eta_s >= 0 ? json_object_new_int64(r->eta_s) : NULL);
	add(o, "out_of_sync_bytes", r->oos_bytes >= 0 ? json_object_new_int64(r->oos_bytes) : NULL);
	return o;
}

json_object *mon_snapshot_to_json(const struct mon_snapshot *s)
{
	json_object *o = json_object_new_object(), *a, *src = json_object_new_object(), *t;
	struct mon_totals tot;

	add(o, "node", str(s->self_name));
	add(o, "time_ms", json_object_new_int64(s->time_ms));
	mon_snapshot_totals(s, &tot);
	t = json_object_new_object();
	add(t, "nodes", json_object_new_int64(tot.nodes));
	add(t, "up", json_object_new_int64(tot.up));
	add(t, "late", json_object_new_int64(tot.late));
	add(t, "dead", json_object_new_int64(tot.dead));
	add(t, "cpus", json_object_new_int64(tot.cpus));
	add(o, "totals", t);
	a = json_object_new_array();
	for (size_t i = 0; i < s->nnodes; i++)
		json_object_array_add(a, node_json(&s->nodes[i]));
	add(o, "nodes", a);
	a = json_object_new_array();
	for (size_t i = 0; i < s->nres; i++)
		json_object_array_add(a, res_json(&s->res[i]));
	add(o, "resources", a);
	a = json_object_new_array();
	for (size_t i = 0; i < s->nvips; i++) {
		json_object *v = json_object_new_object();
		add(v, "addr", str(s->vips[i].addr));
		add(v, "dev", str(s->vips[i].dev));
		add(v, "holder", str(s->vips[i].holder));
		add(v, "holder_id", s->vips[i].holder_id ? json_object_new_int64(s->vips[i].holder_id)
							 : NULL);
		add(v, "note", str(s->vips[i].note));
		json_object_array_add(a, v);
	}
	add(o, "vips", a);
	a = json_object_new_array();
	for (size_t i = 0; i < s->ngroups; i++) {
		json_object *g = json_object_new_object();
		add(g, "name", str(s->groups[i].name));
		add(g, "state", str(s->groups[i].state));
		add(g, "node", str(s->groups[i].node));
		json_object_array_add(a, g);
	}
	add(o, "groups", a);
	/* Which sources answered, so a script can tell "none" from "not available". */
	for (int i = 0; i < MON_SRC_COUNT; i++) {
		json_object *e = json_object_new_object();
		add(e, "verb", json_object_new_string(mon_source_verb(i)));
		add(e, "available", json_object_new_boolean(s->avail[i] == MON_AVAIL_OK));
		if (s->avail[i] != MON_AVAIL_OK)
			add(e, "reason", json_object_new_string(s->avail[i] == MON_AVAIL_MISSING
									? "unknown command"
									: s->why[i][0] ? s->why[i]
										       : "no answer"));
		add(src, mon_source_name(i), e);
	}
	add(o, "sources", src);
	return o;
}

static void unavailable(FILE *f, const struct mon_snapshot *s, enum mon_source src)
{
	if (s->avail[src] == MON_AVAIL_MISSING)
		fprintf(f, "  not available (this hhad has no `%s')\n", mon_source_verb(src));
	else
		fprintf(f, "  not available (%s: %s)\n", mon_source_verb(src),
			s->why[src][0] ? s->why[src] : "no answer");
}

void mon_print_text(FILE *f, const struct mon_snapshot *s)
{
	struct mon_totals t;
	char a[16], b[16], c[16];

	mon_snapshot_totals(s, &t);
	fprintf(f, "%u node%s up / %u CPU%s (%u late, %u dead, %u known), asked %s\n", t.up,
		t.up == 1 ? "" : "s", t.cpus, t.cpus == 1 ? "" : "s", t.late, t.dead, t.nodes,
		s->self_name[0] ? s->self_name : "hhad");
	fprintf(f, "%5s %-12s %-7s %6s %5s %4s %5s %6s %6s %5s\n", "NODE", "NAME", "STATE", "LOAD",
		"CPU%", "CPUS", "SPEED", "MEMUSE", "MEMTOT", "RUNON");
	for (size_t i = 0; i < s->nnodes; i++) {
		const struct mon_node *n = &s->nodes[i];
		fprintf(f, "%5u %-12s %-7s", n->id, n->name[0] ? n->name : "-",
			mon_node_state_name(n->state));
		if (n->has_load)
			fprintf(f, " %6.2f %5.0f %4u %5.2f %6s %6s %5u", mon_node_load(n),
				n->cpu_use * 100, n->ncpus, n->speed,
				mon_fmt_bytes(n->mem_total - n->mem_avail, a, sizeof(a)),
				mon_fmt_bytes(n->mem_total, b, sizeof(b)), n->runon_procs);
		else
			fprintf(f, " %6s %5s %4s %5s %6s %6s %5s", "-", "-", "-", "-", "-", "-", "-");
		fprintf(f, "%s\n", n->self ? "  (this node)" : "");
	}
	if (s->avail[MON_SRC_LOAD] != MON_AVAIL_OK) {
		fprintf(f, "load:\n");
		unavailable(f, s, MON_SRC_LOAD);
	}
	fprintf(f, "\nreplication:\n");
	if (s->avail[MON_SRC_DISK] != MON_AVAIL_OK)
		unavailable(f, s, MON_SRC_DISK);
	else if (s->nres == 0)
		fprintf(f, "  no replicated resources configured\n");
	for (size_t i = 0; i < s->nres; i++) {
		const struct mon_resource *r = &s->res[i];
		fprintf(f, "  %-16s %s/%s %s %s/%s", r->name, r->role[0] ? r->role : "?",
			r->peer_role[0] ? r->peer_role : "?", r->cstate[0] ? r->cstate : "?",
			r->disk[0] ? r->disk : "?", r->peer_disk[0] ? r->peer_disk : "?");
		if (r->sync_pct >= 0)
			fprintf(f, " sync %.1f%% %s/s ETA %s", r->sync_pct,
				r->speed_bps >= 0 ? mon_fmt_bytes((uint64_t)r->speed_bps, a, sizeof(a)) : "?",
				mon_fmt_duration(r->eta_s, c, sizeof(c)));
		if (r->oos_bytes >= 0)
			fprintf(f, " out-of-sync %s", mon_fmt_bytes((uint64_t)r->oos_bytes, b, sizeof(b)));
		fputc('\n', f);
	}
	fprintf(f, "\nvirtual addresses:\n");
	if (s->avail[MON_SRC_VIPS] != MON_AVAIL_OK)
		unavailable(f, s, MON_SRC_VIPS);
	else if (s->nvips == 0)
		fprintf(f, "  none\n");
	for (size_t i = 0; i < s->nvips; i++)
		fprintf(f, "  %-40s %-10s held by %s%s%s%s\n", s->vips[i].addr,
			s->vips[i].dev[0] ? s->vips[i].dev : "-",
			s->vips[i].holder[0] ? s->vips[i].holder : "nobody",
			s->vips[i].note[0] ? " (" : "", s->vips[i].note, s->vips[i].note[0] ? ")" : "");
	fprintf(f, "\nresource groups:\n");
	if (s->avail[MON_SRC_GROUPS] != MON_AVAIL_OK && s->avail[MON_SRC_GROUPS] != MON_AVAIL_MISSING)
		unavailable(f, s, MON_SRC_GROUPS);
	else if (s->ngroups == 0)
		fprintf(f, "  no groups configured\n");
	for (size_t i = 0; i < s->ngroups; i++)
		fprintf(f, "  %-30s %-12s on %s\n", s->groups[i].name,
			s->groups[i].state[0] ? s->groups[i].state : "?",
			s->groups[i].node[0] ? s->groups[i].node : "nowhere");
}
