/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hhad's disk module: replicated devices, configured from the file or built by hha-disk verbs. */
#ifndef HHAD_DISK_H
#define HHAD_DISK_H

#include <stdbool.h>
#include <stdint.h>

#include <hybridha/disk.h>

#include "hhad.h"

/* A deferred wait-connect / wait-sync request. */
struct dwaiter {
	struct dwaiter *next;
	struct dres *res;
	struct hhad_req *req;
	struct hha_timer *timer;
	bool sync;               /* wait-sync (else wait-connect) */
};

/* What a resource was told, kept for show and reconnects. */
struct dres_conf {
	char backing[256], meta[256];
	uint64_t size;
	bool attached;
	bool net;
	char local_addr[64], peer_addr[64];
	int local_port, peer_port;
	char protocol;
	enum hha_disk_security security;
	char key_file[256];
	int timeout_ms, ping_int_ms, connect_int_ms, sndbuf;
	uint64_t rate;
	char export_unix[256], export_tcp_addr[64], export_name[256];
	int export_tcp_port;
	enum hha_disk_export_secondary export_secondary;
	bool exported;
	bool discard_my_data;    /* for the next connect only */
	unsigned al_extents;     /* sync.al_extents: create-md's default */
	struct hha_disk_policy_opts policy; /* hook strings point into the next three */
	char hook_sb[256], hook_brt[256], hook_ioe[256];
};

struct dres {
	struct dres *next;
	struct disk_mod *m;
	char name[64];
	struct hha_disk *d;
	struct hha_io *io;
	struct hha_timer *timer;
	bool from_config;
	struct dres_conf c;
	struct dwaiter *waiters;
	struct hhad_req *rz_req; /* a disk.resize answered at its resize-done event */
};

struct disk_mod {
	struct hhad *d;
	struct dres *list;
	char run_dir[256];
	char key_file[256];      /* cluster.key_file */
	char state_dir[256];     /* cluster.state_dir: where each resource's metadata place is recorded */
};

struct dres *disk_find(struct disk_mod *m, const char *name);
/* Find or make (Diskless, StandAlone) a resource. 0 or a negative code. */
int disk_get(struct disk_mod *m, const char *name, struct dres **out);
void disk_remove(struct dres *r);
/* Re-check deferred waits after a state change, and arm the deadline timer. */
void disk_poke(struct dres *r);
json_object *disk_status_json(struct dres *r);
json_object *disk_show_json(struct dres *r);
/* Attach / export / connect with r->c (as the verbs and the config file set it). */
int disk_do_attach(struct dres *r);
/* Remove the record of where RES's metadata lies (after create-md). */
void disk_forget_md(struct disk_mod *m, const char *res);
int disk_do_export(struct dres *r);
int disk_do_connect(struct dres *r);

extern const struct hhad_verb disk_verbs[];
extern const struct hhad_module hhad_module_disk;

#endif /* HHAD_DISK_H */
