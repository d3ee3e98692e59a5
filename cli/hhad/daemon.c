/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The daemon object: module lifecycle, verb lookup, events and reload. */
#include "config.h"

#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/ctlproto.h"
#include "core/internal.h"
#include "daemon.h"

struct hha_ctx *hhad_ctx(struct hhad *d)
{
	return d->ctx;
}

struct hha_loop *hhad_loop(struct hhad *d)
{
	return d->loop;
}

const struct hha_config *hhad_config(struct hhad *d)
{
	return d->cfg;
}

const char *hhad_node_name(struct hhad *d)
{
	return d->node_name;
}

json_object *hhad_node_conf(struct hhad *d)
{
	return hha_conf_node(d->cfg, d->node_name);
}

void *hhad_module_state(struct hhad *d, const char *name)
{
	for (size_t i = 0; hhad_modules[i]; i++)
		if (strcmp(hhad_modules[i]->name, name) == 0)
			return d->mod_up[i] ? d->mod_state[i] : NULL;
	return NULL;
}

int hhad_start_modules(struct hhad *d)
{
	for (size_t i = 0; hhad_modules[i]; i++) {
		const struct hhad_module *m = hhad_modules[i];
		int r = m->init ? m->init(d, d->cfg, &d->mod_state[i]) : 0;
		if (r < 0) {
			hha_err(d->ctx, "hhad", "module %s failed to start: %s", m->name,
				*hha_last_error() ? hhad_error_text() : hha_strerror(r));
			hhad_stop_modules(d);
			return r;
		}
		d->mod_up[i] = true;
	}
	return 0;
}

void hhad_stop_modules(struct hhad *d)
{
	size_t n = 0;

	while (hhad_modules[n])
		n++;
	/* Reverse order: later modules may use earlier ones. */
	while (n-- > 0) {
		if (!d->mod_up[n])
			continue;
		if (hhad_modules[n]->fini)
			hhad_modules[n]->fini(d->mod_state[n]);
		d->mod_up[n] = false;
		d->mod_state[n] = NULL;
	}
}

const struct hhad_verb *hhad_find_verb(struct hhad *d, const char *name, void **state)
{
	for (size_t i = 0; hhad_modules[i]; i++) {
		const struct hhad_verb *v = hhad_modules[i]->verbs;
		if (!d->mod_up[i] || !v)
			continue;
		for (; v->name; v++)
			if (strcmp(v->name, name) == 0) {
				*state = d->mod_state[i];
				return v;
			}
	}
	return NULL;
}

void hhad_emit(struct hhad *d, const char *topic, json_object *data, const char *summary)
{
	char *line;

	if (summary)
		hha_info(d->ctx, "event", "%s: %s", topic, summary);
	line = hha_ctl_encode_event(topic, hha_now_ms(), data);
	if (line && d->ctl)
		hhad_ctlsrv_broadcast(d->ctl, topic, line);
	free(line);
}

const char *hhad_error_text(void)
{
	const char *m = hha_last_error(), *p = strstr(m, ": ");

	/* "hha_config_load: FILE: key: message" -> "FILE: key: message" */
	if (p && strncmp(m, "hha_", 4) == 0 && !memchr(m, ' ', (size_t)(p - m)))
		return p + 2;
	return m;
}

int hhad_update_admin_group(struct hhad *d, const struct hha_config *cfg)
{
	const char *g = hha_json_str(hha_conf_section(cfg, "cluster"), "admin_group");
	struct group *gr;

	if (!g) {
		d->have_admin_gid = false;
		return 0;
	}
	gr = getgrnam(g);
	if (!gr)
		return hha_error(-HHA_ECONFIG, NULL, "%s: cluster.admin_group: no group named \"%s\"",
				 hha_config_path(cfg), g);
	d->have_admin_gid = true;
	d->admin_gid = gr->gr_gid;
	return 0;
}

int hhad_reload(struct hhad *d)
{
	struct hha_config *ncfg = NULL, *old;
	int r;

	r = hha_config_load(d->ctx, d->config_path, &ncfg);
	if (r < 0) {
		hha_err(d->ctx, "hhad", "reload refused, keeping the running configuration: %s",
			hhad_error_text());
		return r;
	}
	r = hhad_update_admin_group(d, ncfg);
	if (r < 0) {
		hha_err(d->ctx, "hhad", "reload refused, keeping the running configuration: %s",
			hha_last_error());
		hha_config_free(ncfg);
		return r;
	}
	for (size_t i = 0; hhad_modules[i]; i++) {
		const struct hhad_module *m = hhad_modules[i];
		if (!d->mod_up[i] || !m->reload)
			continue;
		r = m->reload(d->mod_state[i], ncfg);
		if (r < 0) {
			hha_err(d->ctx, "hhad", "module %s refused the new configuration: %s", m->name,
				hhad_error_text());
			/* Modules before this one already switched; hand them the old one back. */
			for (size_t j = 0; j < i; j++)
				if (d->mod_up[j] && hhad_modules[j]->reload)
					hhad_modules[j]->reload(d->mod_state[j], d->cfg);
			hha_config_free(ncfg);
			hhad_update_admin_group(d, d->cfg);
			return r;
		}
	}
	old = d->cfg;
	d->cfg = ncfg;
	hha_config_free(old);
	hhad_emit(d, "core.reload", json_object_new_object(), "configuration reloaded");
	return 0;
}
