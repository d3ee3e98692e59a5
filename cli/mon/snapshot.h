/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-mon's model of the cluster: what hhad's status verbs said, parsed into plain structs. */
#ifndef HHA_MON_SNAPSHOT_H
#define HHA_MON_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include <hybridha/common.h>

/*
 * All knowledge of the JSON that hhad's modules return lives in snapshot.c:
 * when a module changes its format, that file (and its unit test) change,
 * nothing else. The expected formats are listed in docs/hha-mon.md.
 */

#define MON_NAME_MAX 48   /* node, resource and group names are cut to this */
#define MON_MAX_NODES 1024
#define MON_MAX_ROWS 1024 /* resources, VIPs, groups */
#define MON_MAX_LINKS 8

/* The sources hha-mon reads, one control verb each. */
enum mon_source {
	MON_SRC_LOAD,    /* run.load: load vectors */
	MON_SRC_MEMBERS, /* net.members: node and link states */
	MON_SRC_DISK,    /* disk.status: replicated resources */
	MON_SRC_VIPS,    /* net.vip.cluster: virtual addresses and who holds them */
	MON_SRC_GROUPS,  /* resource groups of the failover manager */
	MON_SRC_COUNT,
};

/* Whether a source answered. */
enum mon_avail {
	MON_AVAIL_NONE = 0, /* not asked yet (no connection) */
	MON_AVAIL_OK,
	MON_AVAIL_MISSING,  /* hhad does not know the verb (older hhad, module not configured) */
	MON_AVAIL_ERROR,    /* it answered with an error, or JSON we cannot read */
};

enum mon_node_state {
	MON_NODE_UNKNOWN = 0, /* not heard since start, or no membership information */
	MON_NODE_UP,
	MON_NODE_LATE,        /* silent for warntime: shown before it is declared dead */
	MON_NODE_DEAD,
	MON_NODE_DOWN,        /* links only: our carrier is gone */
};

struct mon_link {
	enum mon_node_state state;
	int64_t age_ms; /* since last heard on this link; -1 unknown */
};

struct mon_node {
	unsigned id;
	char name[MON_NAME_MAX];
	bool self;
	enum mon_node_state state;
	int64_t age_ms;  /* since last heard; -1 unknown */
	bool member;     /* net.members lists it: its state comes from there */
	bool has_load;   /* the fields below are valid */
	double loadavg[3];
	unsigned ncpus;  /* >= 1 when has_load */
	double cpu_use;  /* 0..1 */
	double speed;    /* > 0 */
	uint64_t mem_total, mem_free, mem_avail;
	unsigned runon_procs;
	unsigned nlinks;
	struct mon_link links[MON_MAX_LINKS];
};

struct mon_resource {
	char name[MON_NAME_MAX];
	char role[16], peer_role[16];   /* "Primary", "Secondary", "" unknown */
	char cstate[24];                /* "Connected", "SyncSource", ... */
	char disk[16], peer_disk[16];   /* "UpToDate", "Inconsistent", ... */
	double sync_pct;                /* 0..100 while syncing, else -1 */
	double speed_bps;               /* resync speed, bytes/s; -1 unknown */
	int64_t eta_s;                  /* -1 unknown */
	int64_t oos_bytes;              /* out of sync; -1 unknown */
};

struct mon_vip {
	char addr[64];  /* "192.0.2.10/24" */
	char dev[32];
	char holder[MON_NAME_MAX]; /* node name, "" when nobody holds it */
	unsigned holder_id;        /* 0 unknown */
	char note[32];             /* "owned, missing", "tentative", "DAD failed", or "" */
};

struct mon_group {
	char name[MON_NAME_MAX];
	char state[24];            /* "started", "stopped", "failed", "moving", ... */
	char node[MON_NAME_MAX];   /* where it runs, "" none */
};

struct mon_snapshot {
	char self_name[MON_NAME_MAX]; /* the node whose hhad we ask */
	int64_t time_ms;              /* when taken (CLOCK_REALTIME) */
	enum mon_avail avail[MON_SRC_COUNT];
	char why[MON_SRC_COUNT][96];  /* the error, for ERROR and MISSING */
	struct mon_node *nodes;       /* sorted by id */
	size_t nnodes;
	struct mon_resource *res;
	size_t nres;
	struct mon_vip *vips;
	size_t nvips;
	struct mon_group *groups;
	size_t ngroups;
};

/* The control verb of each source. */
const char *mon_source_verb(enum mon_source src);
/* Short name of each source for people and JSON ("load", "members", ...). */
const char *mon_source_name(enum mon_source src);

/* Free every array and zero the snapshot; NULL is a no-op. */
void mon_snapshot_clear(struct mon_snapshot *s);

/*
 * Fill part of @s from one verb's result (a JSON text). Replaces the earlier
 * content of that part: nodes from LOAD and MEMBERS are merged by id (an id
 * seen only by one source still gets a node). On success sets avail[src] to
 * OK. Returns 0, or -EBADMSG with avail[src] = ERROR and the reason in
 * why[src] (the earlier content of that part is dropped). Any text is safe.
 */
int mon_snapshot_parse(struct mon_snapshot *s, enum mon_source src, const char *json);

/* Mark @src as not available (@missing: unknown verb) and say why. */
void mon_snapshot_unavailable(struct mon_snapshot *s, enum mon_source src, bool missing,
			      const char *why);

/* Copy @s into @dst for the screen: cut to @len on a character boundary, control characters made '?'. */
void mon_text_copy(char *dst, size_t len, const char *s);

/* Look a node up by id, or NULL. */
struct mon_node *mon_snapshot_node(const struct mon_snapshot *s, unsigned id);

/* "up", "late", "dead", "down", "unknown". */
const char *mon_node_state_name(enum mon_node_state st);

/*
 * The figure the load view shows: runnable work per CPU divided by the CPU's
 * relative speed, max(loadavg[0], cpu_use * ncpus) / ncpus / speed. This is
 * the placement policy's score (hha_load_score), so the bar that looks lowest
 * is where `hha-runon auto` sends work. 0 without a load vector.
 */
double mon_node_load(const struct mon_node *n);

/* Totals for the header: nodes up (or late), their CPUs, and nodes late and dead. */
struct mon_totals {
	unsigned nodes, up, late, dead, cpus;
};
void mon_snapshot_totals(const struct mon_snapshot *s, struct mon_totals *t);

/* The snapshot in hha-mon's own stable JSON form (--json). Caller puts it. */
json_object *mon_snapshot_to_json(const struct mon_snapshot *s);

#endif /* HHA_MON_SNAPSHOT_H */
