/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The configuration schema (documented in docs/hybridha.conf.md) and its cross-checks. */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "core/conf.h"
#include "core/internal.h"

#define END { .key = NULL }

static const char *const protocols[] = { "A", "B", "C", NULL };
static const char *const security_modes[] = { "auth", "encrypt", "none", NULL };
static const char *const secondary_export[] = { "refuse", "read-only", NULL };
static const char *const io_error_policies[] = { "detach", "pass-on", "call-handler", NULL };
static const char *const sb_policies[] = { "disconnect", "discard-zero-changes", NULL };

static const struct hha_schema ipaddr = { .key = "", .type = HHA_SCH_IPADDR };
static const struct hha_schema name_item = { .key = "", .type = HHA_SCH_NAME };
static const struct hha_schema path_item = { .key = "", .type = HHA_SCH_PATH };

static const struct hha_schema key_fields[] = {
	{ .key = "id", .type = HHA_SCH_INT, .flags = HHA_SCH_REQUIRED, .min = 1, .max = 255,
	  .doc = "key id carried in every authenticated packet" },
	{ .key = "file", .type = HHA_SCH_PATH, .flags = HHA_SCH_REQUIRED,
	  .doc = "file holding the secret; must not be readable by others" },
	END
};
static const struct hha_schema key_item = { .key = "", .type = HHA_SCH_OBJECT, .sub = key_fields };

static const struct hha_schema heartbeat_fields[] = {
	{ .key = "port", .type = HHA_SCH_INT, .min = 1, .max = 65535, .def = "694",
	  .doc = "UDP port of heartbeats" },
	{ .key = "keepalive_ms", .type = HHA_SCH_INT, .min = 10, .max = 60000, .def = "200",
	  .doc = "interval between heartbeats" },
	{ .key = "warntime_ms", .type = HHA_SCH_INT, .min = 10, .max = 600000, .def = "600",
	  .doc = "silence after which a peer or link is late" },
	{ .key = "deadtime_ms", .type = HHA_SCH_INT, .min = 20, .max = 600000, .def = "1000",
	  .doc = "silence on every link after which a peer is dead" },
	{ .key = "initdead_ms", .type = HHA_SCH_INT, .min = 20, .max = 3600000, .def = "10000",
	  .doc = "how long to wait for first contact after start" },
	{ .key = "multicast", .type = HHA_SCH_IPADDR,
	  .doc = "optional multicast group, sent to in addition to unicast" },
	{ .key = "lease_ms", .type = HHA_SCH_INT, .min = 0, .max = 600000, .def = "0",
	  .doc = "witness lease length (0 = 4 x deadtime_ms)" },
	{ .key = "ping_interval_ms", .type = HHA_SCH_INT, .min = 100, .max = 60000, .def = "1000",
	  .doc = "ICMP echo interval towards ping_nodes" },
	END
};

static const struct hha_schema cluster_fields[] = {
	{ .key = "name", .type = HHA_SCH_NAME, .def = "\"hybridha\"", .doc = "cluster name" },
	{ .key = "key_file", .type = HHA_SCH_PATH, .def = "\"/etc/hybridha/cluster.key\"",
	  .doc = "shared secret (key id 1) unless keys is given" },
	{ .key = "keys", .type = HHA_SCH_ARRAY, .min = 1, .max = 2, .sub = &key_item,
	  .doc = "one or two keys with ids, for rotation without downtime" },
	{ .key = "send_key", .type = HHA_SCH_INT, .min = 1, .max = 255,
	  .doc = "id of the key used to send (default: the highest)" },
	{ .key = "state_dir", .type = HHA_SCH_PATH, .def = "\"/var/lib/hybridha\"",
	  .doc = "persistent state: incarnation numbers, peers' incarnations, where each disk's metadata is" },
	{ .key = "run_dir", .type = HHA_SCH_PATH, .def = "\"/run/hybridha\"",
	  .doc = "runtime files: control socket, NBD sockets" },
	{ .key = "admin_group", .type = HHA_SCH_NAME,
	  .doc = "members of this group may change state besides root" },
	{ .key = "heartbeat", .type = HHA_SCH_OBJECT, .sub = heartbeat_fields,
	  .doc = "heartbeat timers" },
	{ .key = "ping_nodes", .type = HHA_SCH_ARRAY, .max = 16, .def = "[]", .sub = &ipaddr,
	  .doc = "addresses probed by ICMP echo" },
	{ .key = "witness", .type = HHA_SCH_NAME, .doc = "name of the witness node, if any" },
	END
};

static const struct hha_schema node_fields[] = {
	{ .key = "id", .type = HHA_SCH_INT, .flags = HHA_SCH_REQUIRED, .min = 1, .max = 255,
	  .doc = "node number, unique, 1..255" },
	{ .key = "heartbeat", .type = HHA_SCH_ARRAY, .flags = HHA_SCH_REQUIRED, .min = 1, .max = 8,
	  .sub = &ipaddr, .doc = "one address per link; link i of every node is the same network" },
	{ .key = "address", .type = HHA_SCH_IPADDR,
	  .doc = "address for replication and remote launch (default: first heartbeat address)" },
	{ .key = "witness", .type = HHA_SCH_BOOL, .def = "false",
	  .doc = "membership only: no disks, no services" },
	END
};
static const struct hha_schema node_item = { .key = "", .type = HHA_SCH_OBJECT, .sub = node_fields };

static const struct hha_schema res_on_fields[] = {
	{ .key = "backing", .type = HHA_SCH_PATH, .flags = HHA_SCH_REQUIRED,
	  .doc = "backing file or block device" },
	{ .key = "meta", .type = HHA_SCH_STRING, .def = "\"internal\"",
	  .doc = "\"internal\" or the path of an external metadata file" },
	{ .key = "address", .type = HHA_SCH_HOSTPORT,
	  .doc = "replication address:port (default: the node's address and the resource port)" },
	END
};
static const struct hha_schema res_on_item = { .key = "", .type = HHA_SCH_OBJECT, .sub = res_on_fields };

static const struct hha_schema export_fields[] = {
	{ .key = "unix", .type = HHA_SCH_PATH, .doc = "NBD Unix socket (default RUN_DIR/RES.nbd)" },
	{ .key = "tcp", .type = HHA_SCH_HOSTPORT, .doc = "NBD TCP listen address:port" },
	{ .key = "name", .type = HHA_SCH_STRING, .max = 255, .doc = "export name (default: resource name)" },
	{ .key = "secondary", .type = HHA_SCH_ENUM, .def = "\"refuse\"", .choices = secondary_export,
	  .doc = "what a secondary does with NBD clients" },
	END
};

static const struct hha_schema sync_fields[] = {
	{ .key = "rate", .type = HHA_SCH_SIZE, .flags = HHA_SCH_UNLIMITED, .def = "\"unlimited\"",
	  .min = 4096, .max = INT64_MAX, .doc = "resync rate limit in bytes/s (0 = unlimited, yielding)" },
	{ .key = "csums", .type = HHA_SCH_BOOL, .def = "false", .doc = "checksum-based resync" },
	{ .key = "al_extents", .type = HHA_SCH_INT, .min = 7, .max = 65534, .def = "1237",
	  .doc = "activity log size in 4 MiB extents" },
	END
};

static const struct hha_schema handler_fields[] = {
	{ .key = "split_brain", .type = HHA_SCH_PATH, .doc = "run when split brain is detected" },
	{ .key = "before_resync_target", .type = HHA_SCH_PATH, .doc = "run before becoming SyncTarget" },
	{ .key = "local_io_error", .type = HHA_SCH_PATH, .doc = "run on a backing-store I/O error" },
	END
};

static const struct hha_schema resource_fields[] = {
	{ .key = "protocol", .type = HHA_SCH_ENUM, .def = "\"C\"", .choices = protocols,
	  .doc = "A: local + sent; B: local + peer received; C: both written" },
	{ .key = "port", .type = HHA_SCH_INT, .min = 1, .max = 65535, .def = "7788",
	  .doc = "TCP port of the replication link" },
	{ .key = "size", .type = HHA_SCH_SIZE, .min = 4096, .max = INT64_MAX,
	  .doc = "usable size if smaller than the backing stores" },
	{ .key = "security", .type = HHA_SCH_ENUM, .def = "\"auth\"", .choices = security_modes,
	  .doc = "peer link frames: authenticated, encrypted, or neither (dedicated cable)" },
	{ .key = "key_file", .type = HHA_SCH_PATH, .doc = "shared secret (default: cluster.key_file)" },
	{ .key = "timeout_ms", .type = HHA_SCH_INT, .min = 100, .max = 600000, .def = "5000",
	  .doc = "a silent peer is dropped after this" },
	{ .key = "ping_int_ms", .type = HHA_SCH_INT, .min = 50, .max = 600000, .def = "1000",
	  .doc = "keep-alive ping interval on an idle link" },
	{ .key = "connect_int_ms", .type = HHA_SCH_INT, .min = 50, .max = 600000, .def = "1000",
	  .doc = "retry interval while connecting" },
	{ .key = "sndbuf", .type = HHA_SCH_SIZE, .min = 0, .max = 1LL << 30, .def = "0",
	  .doc = "socket send buffer (0 = kernel autotuning)" },
	{ .key = "on_io_error", .type = HHA_SCH_ENUM, .def = "\"detach\"", .choices = io_error_policies,
	  .doc = "what a backing-store I/O error does" },
	{ .key = "after_split_brain", .type = HHA_SCH_ENUM, .def = "\"disconnect\"",
	  .choices = sb_policies, .doc = "automatic split-brain policy" },
	{ .key = "sync", .type = HHA_SCH_OBJECT, .sub = sync_fields, .doc = "resync settings" },
	{ .key = "export", .type = HHA_SCH_OBJECT, .sub = export_fields, .doc = "the NBD export" },
	{ .key = "handlers", .type = HHA_SCH_OBJECT, .sub = handler_fields, .doc = "hook commands" },
	{ .key = "on", .type = HHA_SCH_MAP, .flags = HHA_SCH_REQUIRED, .sub = &res_on_item,
	  .doc = "per node: backing store, metadata, address (exactly two nodes)" },
	END
};
static const struct hha_schema resource_item = { .key = "", .type = HHA_SCH_OBJECT, .sub = resource_fields };

static const struct hha_schema vip_fields[] = {
	{ .key = "address", .type = HHA_SCH_IPPREFIX, .flags = HHA_SCH_REQUIRED,
	  .doc = "ADDRESS/PREFIX" },
	{ .key = "dev", .type = HHA_SCH_STRING, .flags = HHA_SCH_REQUIRED, .min = 1, .max = 15,
	  .doc = "interface" },
	{ .key = "label", .type = HHA_SCH_STRING, .min = 1, .max = 15, .doc = "IPv4 label, e.g. eth0:ha" },
	{ .key = "arp_count", .type = HHA_SCH_INT, .min = 0, .max = 100, .def = "5",
	  .doc = "gratuitous ARPs / unsolicited NAs sent at takeover" },
	{ .key = "arp_interval_ms", .type = HHA_SCH_INT, .min = 10, .max = 10000, .def = "200",
	  .doc = "interval between announcements" },
	{ .key = "nodad", .type = HHA_SCH_BOOL, .def = "false", .doc = "IPv6: skip duplicate address detection" },
	END
};
static const struct hha_schema vip_item = { .key = "", .type = HHA_SCH_OBJECT, .sub = vip_fields };

static const struct hha_schema mount_fields[] = {
	{ .key = "resource", .type = HHA_SCH_NAME, .flags = HHA_SCH_REQUIRED, .doc = "resource to mount" },
	{ .key = "dir", .type = HHA_SCH_PATH, .flags = HHA_SCH_REQUIRED, .doc = "mount point" },
	{ .key = "fstype", .type = HHA_SCH_NAME, .def = "\"ext4\"", .doc = "file system type" },
	{ .key = "options", .type = HHA_SCH_STRING, .def = "\"\"", .doc = "mount options" },
	END
};
static const struct hha_schema mount_item = { .key = "", .type = HHA_SCH_OBJECT, .sub = mount_fields };

static const struct hha_schema group_fields[] = {
	{ .key = "resources", .type = HHA_SCH_ARRAY, .def = "[]", .sub = &name_item,
	  .doc = "replicated devices, promoted first" },
	{ .key = "mounts", .type = HHA_SCH_ARRAY, .def = "[]", .sub = &mount_item,
	  .doc = "file systems, mounted after promotion" },
	{ .key = "vips", .type = HHA_SCH_ARRAY, .def = "[]", .sub = &name_item,
	  .doc = "addresses, taken after mounting" },
	{ .key = "services", .type = HHA_SCH_ARRAY, .def = "[]", .sub = &path_item,
	  .doc = "scripts called with start/stop/status, in order" },
	{ .key = "preferred", .type = HHA_SCH_NAME, .doc = "node that runs the group when up" },
	{ .key = "auto_failback", .type = HHA_SCH_BOOL, .def = "false",
	  .doc = "move back to the preferred node when it returns" },
	END
};
static const struct hha_schema group_item = { .key = "", .type = HHA_SCH_OBJECT, .sub = group_fields };

static const struct hha_schema run_fields[] = {
	{ .key = "port", .type = HHA_SCH_INT, .min = 1, .max = 65535, .def = "7790",
	  .doc = "TCP port of the remote launch service" },
	{ .key = "allow_root", .type = HHA_SCH_BOOL, .def = "false",
	  .doc = "allow launching commands as uid 0" },
	{ .key = "max_skew_ms", .type = HHA_SCH_INT, .min = 1000, .max = 600000, .def = "30000",
	  .doc = "launch requests stamped further from this node's clock are refused" },
	END
};

static const struct hha_schema load_fields[] = {
	{ .key = "cgroup", .type = HHA_SCH_PATH,
	  .doc = "cgroup directory (v2 cpu.stat, or v1 cpuacct) measuring this node (default: the whole machine)" },
	{ .key = "speed", .type = HHA_SCH_NUMBER, .min = 0, .max = 1000000,
	  .doc = "relative CPU speed (default: measured at start)" },
	END
};

static const struct hha_schema top_fields[] = {
	{ .key = "cluster", .type = HHA_SCH_OBJECT, .sub = cluster_fields, .doc = "cluster-wide settings" },
	{ .key = "nodes", .type = HHA_SCH_MAP, .def = "{}", .sub = &node_item, .doc = "the nodes, by name" },
	{ .key = "resources", .type = HHA_SCH_MAP, .def = "{}", .sub = &resource_item,
	  .doc = "replicated block devices, by name" },
	{ .key = "vips", .type = HHA_SCH_MAP, .def = "{}", .sub = &vip_item, .doc = "virtual addresses, by name" },
	{ .key = "groups", .type = HHA_SCH_MAP, .def = "{}", .sub = &group_item,
	  .doc = "resource groups for failover, by name" },
	{ .key = "run", .type = HHA_SCH_OBJECT, .sub = run_fields, .doc = "remote launch" },
	{ .key = "load", .type = HHA_SCH_OBJECT, .sub = load_fields, .doc = "load sampling" },
	END
};

const struct hha_schema hha_conf_schema = { .key = "", .type = HHA_SCH_OBJECT, .sub = top_fields };

/* cluster.send_key must name a key we hold. */
static void check_send_key(json_object *root, struct hha_errs *errs)
{
	json_object *cluster = hha_json_get(root, "cluster"), *keys = hha_json_get(cluster, "keys");
	int64_t send = hha_json_int(cluster, "send_key", 0);
	bool found = false;

	if (!send)
		return;
	for (size_t i = 0; keys && i < json_object_array_length(keys); i++)
		found |= hha_json_int(json_object_array_get_idx(keys, i), "id", 0) == send;
	if (!keys)
		found = send == 1; /* key_file alone is key id 1 */
	if (!found)
		hha_errs_add(errs, "cluster.send_key", "no key with id %lld in cluster.keys",
			     (long long)send);
}

static void check_cluster(json_object *root, struct hha_errs *errs)
{
	json_object *hb = hha_json_get(hha_json_get(root, "cluster"), "heartbeat");
	int64_t ka = hha_json_int(hb, "keepalive_ms", 0), warn = hha_json_int(hb, "warntime_ms", 0);
	int64_t dead = hha_json_int(hb, "deadtime_ms", 0), init = hha_json_int(hb, "initdead_ms", 0);
	json_object *keys = hha_json_get(hha_json_get(root, "cluster"), "keys");

	/* One lost packet must never make a peer dead. */
	if (dead <= 2 * ka)
		hha_errs_add(errs, "cluster.heartbeat.deadtime_ms",
			     "%lld must be more than twice keepalive_ms (%lld)", (long long)dead,
			     (long long)ka);
	if (warn < ka || warn >= dead)
		hha_errs_add(errs, "cluster.heartbeat.warntime_ms",
			     "%lld must be at least keepalive_ms (%lld) and less than deadtime_ms (%lld)",
			     (long long)warn, (long long)ka, (long long)dead);
	if (init < dead)
		hha_errs_add(errs, "cluster.heartbeat.initdead_ms",
			     "%lld must be at least deadtime_ms (%lld)", (long long)init, (long long)dead);
	if (hha_json_int(hb, "lease_ms", 0) != 0 && hha_json_int(hb, "lease_ms", 0) < dead)
		hha_errs_add(errs, "cluster.heartbeat.lease_ms",
			     "%lld must be 0 (automatic) or at least deadtime_ms (%lld)",
			     (long long)hha_json_int(hb, "lease_ms", 0), (long long)dead);
	check_send_key(root, errs);
	if (keys && json_object_array_length(keys) == 2 &&
	    hha_json_int(json_object_array_get_idx(keys, 0), "id", 0) ==
		    hha_json_int(json_object_array_get_idx(keys, 1), "id", 0))
		hha_errs_add(errs, "cluster.keys", "the two keys must have different ids");
}

/*
 * Link i of every node is one network: one address family per link (a node
 * may be on fewer links than others), and no address used twice.
 */
static void check_heartbeat_links(json_object *nodes, const char *witness, struct hha_errs *errs)
{
	const char *first = NULL;
	size_t nlinks = 0;

	char path[256];

	json_object_object_foreach(nodes, name, node) {
		json_object *hb = hha_json_get(node, "heartbeat");
		size_t n = hb ? json_object_array_length(hb) : 0;

		if (hha_json_bool(node, "witness", false) && !witness) {
			snprintf(path, sizeof(path), "nodes.%s.witness", name);
			hha_errs_add(errs, path, "set cluster.witness to \"%s\" too", name);
		} else if (hha_json_bool(node, "witness", false) && strcmp(witness, name) != 0) {
			snprintf(path, sizeof(path), "nodes.%s.witness", name);
			hha_errs_add(errs, path, "cluster.witness is \"%s\"; only one witness", witness);
		}
		if (!first) {
			first = name;
			nlinks = n;
			continue;
		}
		snprintf(path, sizeof(path), "nodes.%s.heartbeat", name);
		/* A node may sit on fewer links (a witness on one): links 0..n-1. */
		if (n > nlinks)
			n = nlinks;
		for (size_t i = 0; i < n; i++) {
			const char *a = json_object_get_string(json_object_array_get_idx(hb, i));
			const char *b = json_object_get_string(
				json_object_array_get_idx(hha_json_get(hha_json_get(nodes, first), "heartbeat"), i));
			if ((strchr(a, ':') != NULL) != (strchr(b, ':') != NULL))
				hha_errs_add(errs, path, "link %zu: %s and node \"%s\"'s %s are not "
					     "the same address family", i, a, first, b);
		}
	}
	json_object_object_foreach(nodes, n1, node1) {
		json_object *hb1 = hha_json_get(node1, "heartbeat");
		json_object_object_foreach(nodes, n2, node2) {
			json_object *hb2 = hha_json_get(node2, "heartbeat");
			if (strcmp(n1, n2) >= 0 || !hb1 || !hb2)
				continue;
			for (size_t i = 0; i < json_object_array_length(hb1); i++)
				for (size_t j = 0; j < json_object_array_length(hb2); j++)
					if (strcmp(json_object_get_string(json_object_array_get_idx(hb1, i)),
						   json_object_get_string(json_object_array_get_idx(hb2, j))) == 0) {
						snprintf(path, sizeof(path), "nodes.%s.heartbeat[%zu]", n2, j);
						hha_errs_add(errs, path, "%s is also node \"%s\"'s address",
							     json_object_get_string(json_object_array_get_idx(hb2, j)), n1);
					}
		}
	}
}

static void check_nodes(json_object *root, struct hha_errs *errs)
{
	json_object *nodes = hha_json_get(root, "nodes");
	const char *witness = hha_json_str(hha_json_get(root, "cluster"), "witness");
	const char *seen[256] = { 0 };
	char path[256];

	json_object_object_foreach(nodes, name, node) {
		int64_t id = hha_json_int(node, "id", 0);
		json_object *hb = hha_json_get(node, "heartbeat");

		if (id >= 1 && id <= 255) {
			if (seen[id]) {
				snprintf(path, sizeof(path), "nodes.%s.id", name);
				hha_errs_add(errs, path, "%lld is already the id of node \"%s\"",
					     (long long)id, seen[id]);
			} else {
				seen[id] = name;
			}
		}
		/* Fill in the default replication address. */
		if (!hha_json_get(node, "address") && hb && json_object_array_length(hb) > 0)
			json_object_object_add(node, "address",
					       json_object_get(json_object_array_get_idx(hb, 0)));
	}
	if (witness && !hha_json_get(nodes, witness))
		hha_errs_add(errs, "cluster.witness", "no node named \"%s\"", witness);
	else if (witness && !hha_json_bool(hha_json_get(nodes, witness), "witness", false))
		hha_errs_add(errs, "cluster.witness", "node \"%s\" needs \"witness\": true", witness);
	check_heartbeat_links(nodes, witness, errs);
}

static void check_resources(json_object *root, struct hha_errs *errs)
{
	json_object *nodes = hha_json_get(root, "nodes");
	char path[256];

	json_object_object_foreach(hha_json_get(root, "resources"), rname, res) {
		json_object *on = hha_json_get(res, "on");
		int count = 0;

		json_object_object_foreach(on, nname, per) {
			(void)per;
			count++;
			if (!hha_json_get(nodes, nname)) {
				snprintf(path, sizeof(path), "resources.%s.on.%s", rname, nname);
				hha_errs_add(errs, path, "no node named \"%s\" in nodes", nname);
			} else if (hha_json_bool(hha_json_get(nodes, nname), "witness", false)) {
				snprintf(path, sizeof(path), "resources.%s.on.%s", rname, nname);
				hha_errs_add(errs, path, "\"%s\" is a witness and holds no disks", nname);
			}
		}
		if (count != 2) {
			snprintf(path, sizeof(path), "resources.%s.on", rname);
			hha_errs_add(errs, path, "expected exactly two nodes, got %d", count);
		}
	}
}

static void check_names(json_object *root, const char *section, const char *key,
			const char *target, struct hha_errs *errs)
{
	json_object *targets = hha_json_get(root, target);
	char path[256];

	json_object_object_foreach(hha_json_get(root, "groups"), gname, group) {
		json_object *list = hha_json_get(group, key);
		for (size_t i = 0; list && i < json_object_array_length(list); i++) {
			const char *n = json_object_get_string(json_object_array_get_idx(list, i));
			if (!hha_json_get(targets, n)) {
				snprintf(path, sizeof(path), "%s.%s.%s[%zu]", section, gname, key, i);
				hha_errs_add(errs, path, "no %s named \"%s\"", key, n);
			}
		}
	}
}

static void check_groups(json_object *root, struct hha_errs *errs)
{
	json_object *nodes = hha_json_get(root, "nodes"), *resources = hha_json_get(root, "resources");
	char path[256];

	check_names(root, "groups", "resources", "resources", errs);
	check_names(root, "groups", "vips", "vips", errs);
	json_object_object_foreach(hha_json_get(root, "groups"), gname, group) {
		const char *pref = hha_json_str(group, "preferred");
		json_object *mounts = hha_json_get(group, "mounts");

		if (pref && !hha_json_get(nodes, pref)) {
			snprintf(path, sizeof(path), "groups.%s.preferred", gname);
			hha_errs_add(errs, path, "no node named \"%s\"", pref);
		}
		for (size_t i = 0; i < json_object_array_length(mounts); i++) {
			const char *r = hha_json_str(json_object_array_get_idx(mounts, i), "resource");
			if (!hha_json_get(resources, r)) {
				snprintf(path, sizeof(path), "groups.%s.mounts[%zu].resource", gname, i);
				hha_errs_add(errs, path, "no resource named \"%s\"", r);
			}
		}
	}
}

void hha_conf_check(json_object *root, struct hha_errs *errs)
{
	check_cluster(root, errs);
	check_nodes(root, errs);
	check_resources(root, errs);
	check_groups(root, errs);
}
