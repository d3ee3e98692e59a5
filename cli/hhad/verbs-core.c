/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The core module: hello, status, configuration, reload, subscriptions, log level. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/internal.h"
#include "daemon.h"

static int core_init(struct hhad *d, const struct hha_config *cfg, void **state)
{
	*state = d;
	return 0;
}

static json_object *cred_json(const struct hhad_req *req)
{
	const struct ucred *cr = hhad_req_cred(req);
	json_object *o = json_object_new_object();

	json_object_object_add(o, "uid", json_object_new_int64(cr->uid));
	json_object_object_add(o, "gid", json_object_new_int64(cr->gid));
	json_object_object_add(o, "pid", json_object_new_int64(cr->pid));
	json_object_object_add(o, "admin", json_object_new_boolean(hhad_req_is_admin(req)));
	return o;
}

static int verb_hello(void *state, struct hhad_req *req, json_object *args)
{
	struct hhad *d = state;
	json_object *o = json_object_new_object();

	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "protocol", json_object_new_int(HHA_CTL_PROTO_VERSION_CURRENT));
	json_object_object_add(o, "node", json_object_new_string(d->node_name));
	json_object_object_add(o, "you", cred_json(req));
	return hhad_req_reply(req, o);
}

static int verb_status(void *state, struct hhad_req *req, json_object *args)
{
	struct hhad *d = state;
	json_object *o = json_object_new_object(), *mods = json_object_new_object();
	json_object *node = hhad_node_conf(d);

	json_object_object_add(o, "node", json_object_new_string(d->node_name));
	json_object_object_add(o, "node_id", node ? json_object_get(hha_json_get(node, "id")) : NULL);
	json_object_object_add(o, "version", json_object_new_string(PACKAGE_VERSION));
	json_object_object_add(o, "pid", json_object_new_int64(getpid()));
	json_object_object_add(o, "uptime_ms", json_object_new_int64(hha_now_ms() - d->started_ms));
	json_object_object_add(o, "config", json_object_new_string(hha_config_path(d->cfg)));
	json_object_object_add(o, "clients", json_object_new_int64((int64_t)hhad_ctlsrv_clients(d->ctl)));
	for (size_t i = 0; hhad_modules[i]; i++) {
		json_object *m;
		if (!d->mod_up[i] || !hhad_modules[i]->status || hhad_modules[i] == &hhad_module_core)
			continue;
		m = json_object_new_object();
		hhad_modules[i]->status(d->mod_state[i], m);
		json_object_object_add(mods, hhad_modules[i]->name, m);
	}
	json_object_object_add(o, "modules", mods);
	return hhad_req_reply(req, o);
}

static int verb_config_show(void *state, struct hhad_req *req, json_object *args)
{
	struct hhad *d = state;

	return hhad_req_reply(req, json_object_get(d->cfg->root));
}

static int verb_reload(void *state, struct hhad_req *req, json_object *args)
{
	struct hhad *d = state;
	int r = hhad_reload(d);

	if (r < 0)
		return hhad_req_fail(req, r, "reload refused, running configuration kept: %s",
				     hhad_error_text());
	return hhad_req_reply(req, NULL);
}

static int verb_subscribe(void *state, struct hhad_req *req, json_object *args)
{
	int r = hhad_ctlsrv_subscribe(req, hha_json_get(args, "topics"));

	return r < 0 ? r : hhad_req_reply(req, NULL);
}

static int verb_log_level(void *state, struct hhad_req *req, json_object *args)
{
	struct hhad *d = state;
	const char *lvl = hha_json_str(args, "level");
	enum hha_log_level l;

	if (!lvl)
		return hha_error(-EINVAL, NULL, "missing \"level\"");
	if (hha_log_level_from_string(lvl, &l) < 0)
		return hha_error(-EINVAL, NULL, "unknown log level `%s'", lvl);
	hha_ctx_set_log_level(d->ctx, l);
	return hhad_req_reply(req, NULL);
}

static int verb_verbs(void *state, struct hhad_req *req, json_object *args)
{
	struct hhad *d = state;
	json_object *arr = json_object_new_array();

	for (size_t i = 0; hhad_modules[i]; i++) {
		if (!d->mod_up[i] || !hhad_modules[i]->verbs)
			continue;
		for (const struct hhad_verb *v = hhad_modules[i]->verbs; v->name; v++) {
			json_object *o = json_object_new_object();
			json_object_object_add(o, "name", json_object_new_string(v->name));
			json_object_object_add(o, "admin", json_object_new_boolean(v->priv == HHAD_PRIV_ADMIN));
			json_object_object_add(o, "help", json_object_new_string(v->help));
			json_object_array_add(arr, o);
		}
	}
	return hhad_req_reply(req, arr);
}

static const struct hhad_verb core_verbs[] = {
	{ "hello", HHAD_PRIV_READ, verb_hello, "versions, node name, and who you are" },
	{ "status", HHAD_PRIV_READ, verb_status, "daemon and module status" },
	{ "verbs", HHAD_PRIV_READ, verb_verbs, "list the commands this hhad knows" },
	{ "config.show", HHAD_PRIV_READ, verb_config_show, "the running configuration with defaults" },
	{ "reload", HHAD_PRIV_ADMIN, verb_reload, "validate and apply the configuration file again" },
	{ "subscribe", HHAD_PRIV_READ, verb_subscribe, "stream events: {\"topics\": [prefixes]}" },
	{ "log.level", HHAD_PRIV_ADMIN, verb_log_level, "set the log level: {\"level\": \"debug\"}" },
	{ NULL, 0, NULL, NULL },
};

const struct hhad_module hhad_module_core = {
	.name = "core",
	.init = core_init,
	.verbs = core_verbs,
};
