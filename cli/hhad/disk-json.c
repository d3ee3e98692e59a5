/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The disk module's status and configuration as JSON (hha-disk status / show). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "disk.h"

static json_object *hex(uint64_t v)
{
	char b[20];

	snprintf(b, sizeof(b), "%016llx", (unsigned long long)v);
	return json_object_new_string(b);
}

static void add_i64(json_object *o, const char *k, uint64_t v)
{
	json_object_object_add(o, k, json_object_new_int64((int64_t)v));
}

json_object *disk_status_json(struct dres *r)
{
	struct hha_disk_status st = { .struct_size = sizeof(st) };
	json_object *o = json_object_new_object();
	char proto[2] = { 0, 0 };

	hha_disk_status(r->d, &st);
	proto[0] = st.protocol;
	json_object_object_add(o, "resource", json_object_new_string(r->name));
	json_object_object_add(o, "role", json_object_new_string(hha_disk_role_name(st.role)));
	json_object_object_add(o, "connection", json_object_new_string(hha_conn_state_name(st.cstate)));
	json_object_object_add(o, "disk", json_object_new_string(hha_disk_state_name(st.dstate)));
	json_object_object_add(o, "peer_role", st.peer_known ? json_object_new_string(hha_disk_role_name(st.peer_role))
							     : json_object_new_string("Unknown"));
	json_object_object_add(o, "peer_disk", st.peer_known ? json_object_new_string(hha_disk_state_name(st.peer_dstate))
							     : json_object_new_string("DUnknown"));
	json_object_object_add(o, "protocol", st.protocol ? json_object_new_string(proto) : NULL);
	add_i64(o, "size", st.size);
	add_i64(o, "sent", st.sent);
	add_i64(o, "received", st.received);
	add_i64(o, "disk_written", st.disk_written);
	add_i64(o, "disk_read", st.disk_read);
	add_i64(o, "pending", st.pending);
	add_i64(o, "unacked", st.unacked);
	add_i64(o, "out_of_sync", st.out_of_sync);
	add_i64(o, "sync_rate", st.sync_rate);
	json_object_object_add(o, "uuid_current", hex(st.uuid_current));
	json_object_object_add(o, "uuid_bitmap", hex(st.uuid_bitmap));
	if (st.cstate == HHA_CS_SYNCSOURCE || st.cstate == HHA_CS_SYNCTARGET) {
		json_object *s = json_object_new_object();
		uint64_t left = st.sync_total - st.sync_done;
		double pct = st.sync_total ? 100.0 * (double)st.sync_done / (double)st.sync_total : 100.0;
		add_i64(s, "total", st.sync_total);
		add_i64(s, "done", st.sync_done);
		add_i64(s, "remaining", left);
		json_object_object_add(s, "percent", json_object_new_double((double)(int)(pct * 10) / 10));
		add_i64(s, "speed", (uint64_t)st.sync_speed_now);
		add_i64(s, "speed_avg", (uint64_t)st.sync_speed_avg);
		json_object_object_add(s, "eta_s", st.sync_speed_now > 0
			? json_object_new_int64((int64_t)((double)left / st.sync_speed_now)) : NULL);
		json_object_object_add(o, "sync", s);
	}
	if (st.last_refusal[0])
		json_object_object_add(o, "last_refusal", json_object_new_string(st.last_refusal));
	json_object_object_add(o, "split_brain", json_object_new_boolean(st.split_brain));
	json_object_object_add(o, "sync_paused", json_object_new_boolean(st.sync_paused));
	json_object_object_add(o, "crashed_primary", json_object_new_boolean(st.crashed_primary));
	json_object_object_add(o, "diskless_primary", json_object_new_boolean(st.diskless_primary));
	json_object_object_add(o, "csums", json_object_new_boolean(st.csums));
	add_i64(o, "resynced", st.resynced);
	add_i64(o, "resync_same", st.resync_same);
	add_i64(o, "al_transactions", st.al_transactions);
	add_i64(o, "app_write_speed", (uint64_t)st.app_write_speed);
	if (st.verify_running || st.verify_total) {
		json_object *v = json_object_new_object(), *ranges = json_object_new_array();
		uint64_t left = st.verify_total - st.verify_pos;
		json_object_object_add(v, "running", json_object_new_boolean(st.verify_running));
		add_i64(v, "position", st.verify_pos);
		add_i64(v, "end", st.verify_total);
		add_i64(v, "out_of_sync", st.verify_oos);
		add_i64(v, "speed", (uint64_t)st.verify_speed);
		json_object_object_add(v, "eta_s", st.verify_running && st.verify_speed > 0
			? json_object_new_int64((int64_t)((double)left / st.verify_speed)) : NULL);
		for (unsigned i = 0; i < st.verify_nranges; i++) {
			json_object *rg = json_object_new_object();
			add_i64(rg, "offset", st.verify_ranges[i].off);
			add_i64(rg, "length", st.verify_ranges[i].len);
			json_object_array_add(ranges, rg);
		}
		json_object_object_add(v, "ranges", ranges);
		json_object_object_add(o, "verify", v);
	}
	return o;
}

json_object *disk_show_json(struct dres *r)
{
	const struct dres_conf *c = &r->c;
	json_object *o = json_object_new_object(), *n, *e;
	static const char *const sec[] = { "none", "auth", "encrypt" };
	char proto[2] = { c->protocol, 0 };

	json_object_object_add(o, "resource", json_object_new_string(r->name));
	json_object_object_add(o, "from_config", json_object_new_boolean(r->from_config));
	json_object_object_add(o, "backing", c->backing[0] ? json_object_new_string(c->backing) : NULL);
	json_object_object_add(o, "meta", json_object_new_string(c->meta[0] ? c->meta : "internal"));
	add_i64(o, "size", c->size);
	json_object_object_add(o, "attached", json_object_new_boolean(c->attached));
	if (c->net) {
		char buf[96];
		n = json_object_new_object();
		snprintf(buf, sizeof(buf), strchr(c->local_addr, ':') ? "[%s]:%d" : "%s:%d", c->local_addr, c->local_port);
		json_object_object_add(n, "local", json_object_new_string(buf));
		snprintf(buf, sizeof(buf), strchr(c->peer_addr, ':') ? "[%s]:%d" : "%s:%d", c->peer_addr, c->peer_port);
		json_object_object_add(n, "peer", json_object_new_string(buf));
		json_object_object_add(n, "protocol", json_object_new_string(proto));
		json_object_object_add(n, "security", json_object_new_string(sec[c->security]));
		json_object_object_add(n, "key_file", json_object_new_string(c->key_file[0] ? c->key_file
											   : r->m->key_file));
		add_i64(n, "timeout_ms", (uint64_t)c->timeout_ms);
		add_i64(n, "ping_int_ms", (uint64_t)c->ping_int_ms);
		add_i64(n, "connect_int_ms", (uint64_t)c->connect_int_ms);
		add_i64(n, "sndbuf", (uint64_t)c->sndbuf);
		json_object_object_add(o, "net", n);
	}
	add_i64(o, "sync_rate", c->rate);
	if (c->exported) {
		e = json_object_new_object();
		if (c->export_unix[0])
			json_object_object_add(e, "unix", json_object_new_string(c->export_unix));
		if (c->export_tcp_addr[0]) {
			char buf[96];
			snprintf(buf, sizeof(buf), "%s:%d", c->export_tcp_addr, c->export_tcp_port);
			json_object_object_add(e, "tcp", json_object_new_string(buf));
		}
		json_object_object_add(e, "name", json_object_new_string(c->export_name[0] ? c->export_name : r->name));
		json_object_object_add(e, "secondary", json_object_new_string(
			c->export_secondary == HHA_EXPORT_SECONDARY_READ_ONLY ? "read-only" : "refuse"));
		json_object_object_add(o, "export", e);
	}
	return o;
}
