/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hhad internals shared by main.c, daemon.c, control.c and the core verbs. */
#ifndef HHAD_DAEMON_H
#define HHAD_DAEMON_H

#include "hhad.h"

#define HHAD_MAX_MODULES 16

struct hhad_ctlsrv;

struct hhad {
	struct hha_ctx *ctx;
	struct hha_loop *loop;
	struct hha_config *cfg;
	char *config_path;
	char *node_name;
	char *socket_path;
	struct hhad_ctlsrv *ctl;
	void *mod_state[HHAD_MAX_MODULES];
	bool mod_up[HHAD_MAX_MODULES];
	bool have_admin_gid;
	gid_t admin_gid;
	int64_t started_ms;
	bool foreground;
};

/* NULL-terminated list of the modules compiled in, in start order. */
extern const struct hhad_module *const hhad_modules[];
extern const struct hhad_module hhad_module_core;

int hhad_start_modules(struct hhad *d);
void hhad_stop_modules(struct hhad *d);
/* Look up a verb across modules; *state receives its module's state. */
const struct hhad_verb *hhad_find_verb(struct hhad *d, const char *name, void **state);
/* Validate and apply the configuration file again. 0, or an error with the reason logged. */
int hhad_reload(struct hhad *d);
/* hha_last_error() without the library's function-name prefix, for people. */
const char *hhad_error_text(void);
/* Resolve cluster.admin_group into d->admin_gid. */
int hhad_update_admin_group(struct hhad *d, const struct hha_config *cfg);

int hhad_ctlsrv_open(struct hhad *d, const char *path, struct hhad_ctlsrv **out);
void hhad_ctlsrv_close(struct hhad_ctlsrv *srv);
void hhad_ctlsrv_broadcast(struct hhad_ctlsrv *srv, const char *topic, const char *line);
size_t hhad_ctlsrv_clients(const struct hhad_ctlsrv *srv);
/* Subscribe the client that made @req to @topics (JSON array of strings, or NULL = all). */
int hhad_ctlsrv_subscribe(struct hhad_req *req, json_object *topics);

#endif /* HHAD_DAEMON_H */
