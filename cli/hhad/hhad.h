/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hhad's internal interface: modules, control verbs, requests and events. */
#ifndef HHAD_HHAD_H
#define HHAD_HHAD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <json-c/json.h>

#include <hybridha/hybridha.h>

#include "core/conf.h"
#include "core/loop.h"

struct hhad;
struct hhad_req;

/* Who may call a verb, checked against the caller's SO_PEERCRED credentials. */
enum hhad_priv {
	HHAD_PRIV_READ,  /* any local user: status, show, events */
	HHAD_PRIV_USER,  /* any local user acting as themselves (remote launch) */
	HHAD_PRIV_ADMIN, /* root or a member of cluster.admin_group: changes state */
};

/*
 * A control verb. The handler either answers (hhad_req_reply / hhad_req_fail),
 * defers (hhad_req_defer, answer later), or returns a negative code, in which
 * case hhad answers with that code and hha_last_error()'s message.
 * @state is the module's state pointer.
 */
struct hhad_verb {
	const char *name;
	enum hhad_priv priv;
	int (*fn)(void *state, struct hhad_req *req, json_object *args);
	const char *help;
};

/*
 * A module hosted by hhad (core, disk, net, run, ...). Modules see the
 * configuration, register fds and timers on the daemon's loop, emit events
 * and contribute verbs. Callbacks may be NULL.
 */
struct hhad_module {
	const char *name;
	/* Create the module's state from the configuration. Failing aborts startup. */
	int (*init)(struct hhad *d, const struct hha_config *cfg, void **state);
	/* Apply a new, already validated configuration; failing keeps the old one. */
	int (*reload)(void *state, const struct hha_config *cfg);
	/* Add this module's part of the "status" reply to @out (an object). */
	void (*status)(void *state, json_object *out);
	/* Stop and free everything. */
	void (*fini)(void *state);
	const struct hhad_verb *verbs; /* ends with { NULL } */
};

/* The daemon's shared services, for modules. */
struct hha_ctx *hhad_ctx(struct hhad *d);
struct hha_loop *hhad_loop(struct hhad *d);
const struct hha_config *hhad_config(struct hhad *d);
/* This node's name and its object in the configuration's "nodes" (NULL if absent). */
const char *hhad_node_name(struct hhad *d);
json_object *hhad_node_conf(struct hhad *d);
/* Another module's state by name, or NULL (for modules that cooperate). */
void *hhad_module_state(struct hhad *d, const char *name);

/*
 * Publish an event to subscribers whose topic prefixes match @topic (e.g.
 * "disk.state", "net.member") and log it at info level with @summary when
 * given. @data is consumed.
 */
void hhad_emit(struct hhad *d, const char *topic, json_object *data, const char *summary);

/* Requests. */
int hhad_req_reply(struct hhad_req *req, json_object *result); /* consumes @result */
int hhad_req_fail(struct hhad_req *req, int err, const char *fmt, ...) HHA_PRINTF(3, 4);
/*
 * Keep the request open after the handler returns; answer it later with
 * hhad_req_reply/fail. If the client goes away first, @cancel is called (the
 * request is then freed by hhad and must not be used).
 */
void hhad_req_defer(struct hhad_req *req, void (*cancel)(struct hhad_req *req, void *ud), void *ud);
const struct ucred *hhad_req_cred(const struct hhad_req *req);
bool hhad_req_is_admin(const struct hhad_req *req);
struct hhad *hhad_req_daemon(const struct hhad_req *req);
/* Descriptors passed with the request (SCM_RIGHTS); taking one transfers ownership. */
size_t hhad_req_nfds(const struct hhad_req *req);
int hhad_req_take_fd(struct hhad_req *req, size_t idx);

#endif /* HHAD_HHAD_H */
