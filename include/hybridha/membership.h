/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Cluster membership: authenticated UDP heartbeats on several links, peer states, leases. */
#ifndef HYBRIDHA_MEMBERSHIP_H
#define HYBRIDHA_MEMBERSHIP_H

#include <stdbool.h>

#include <hybridha/ctx.h>

HHA_BEGIN_DECLS

/*
 * A membership object sends a heartbeat to every peer on every link every
 * keepalive, and tracks each peer and each of its links as up, late or dead
 * (docs/membership.md). It runs in the caller's event loop: poll the fds
 * from hha_membership_fds() for input, wake up at
 * hha_membership_next_deadline(), and call hha_membership_dispatch() when
 * either happens. It starts no thread and is not thread-safe: use one object
 * from one thread.
 *
 * Life cycle: new -> add keys, links, peers, ping nodes (state "setup") ->
 * start (state "running", no more links or peers) -> free.
 */
struct hha_membership;

/* States of a peer and of each of its links. */
enum hha_member_state {
	HHA_MEMBER_INIT = 0, /* never heard since start; waiting up to initdead */
	HHA_MEMBER_UP,       /* heard within warntime */
	HHA_MEMBER_LATE,     /* silent for warntime ("minor failure") */
	HHA_MEMBER_DEAD,     /* silent for deadtime (a node: on every link) */
	HHA_MEMBER_DOWN,     /* links only: our carrier on that link is gone */
};

/* Heartbeat payload types (TLV types); 17 and up are free for applications. */
enum {
	HHA_PAYLOAD_LOAD = 1,      /* load vector (lib/run) */
	HHA_PAYLOAD_RESOURCES = 2, /* resource states (disk / failover manager) */
	HHA_PAYLOAD_LEASE = 3,     /* witness lease requests and grants (membership) */
	HHA_PAYLOAD_PING = 4,      /* ping nodes reached (membership) */
	HHA_PAYLOAD_ECHO = 5,      /* the receiver's incarnation as the sender knows it (membership) */
	/* 5..15 are reserved for membership. */
	HHA_PAYLOAD_VIPS = 16,     /* VIPs the node holds (hhad's net module) */
	HHA_PAYLOAD_FIRST_FREE = 17,
};

#define HHA_MEMBERSHIP_MAX_LINKS 8
#define HHA_MEMBERSHIP_MAX_PAYLOAD 1024 /* all TLVs of one heartbeat, headers included */

/* Options for hha_membership_new(); zero means the default. */
struct hha_membership_opts {
	size_t size;              /* sizeof(struct hha_membership_opts) */
	const char *cluster_name; /* must match on every node (default "hybridha") */
	unsigned self_id;         /* this node's id, 1..255 (required) */
	unsigned port;            /* UDP port (default 694); per-address ports override it */
	int keepalive_ms;         /* default 200 */
	int warntime_ms;          /* default 600 */
	int deadtime_ms;          /* default 1000 */
	int initdead_ms;          /* default 10000 */
	const char *state_dir;    /* incarnation file lives here; NULL: not persisted (tests) */
	bool witness;             /* this node grants leases */
	unsigned witness_id;      /* node id of the witness, 0 = none */
	int lease_ms;             /* lease duration granted by a witness (default 4 x deadtime) */
	int ping_interval_ms;     /* ICMP echo interval for ping nodes (default 1000) */
	/* Tests: replace CLOCK_MONOTONIC (ms). NULL = hha_now_ms(). */
	int64_t (*clock)(void *userdata);
	void *clock_userdata;
	/*
	 * A plan: the object only describes a configuration for
	 * hha_membership_reconfigure(); add_link binds no socket, start is refused.
	 */
	bool plan;
};

/**
 * hha_membership_new - create a membership object in state "setup".
 * @ctx: context for logging; must outlive the object.
 * @opts: options (copied); opts->size must be set.
 * @out: receives the object; free it with hha_membership_free().
 *
 * Return: 0; -EINVAL for nonsense timers (deadtime <= 2 x keepalive, warntime
 * outside [keepalive, deadtime), initdead < deadtime) or a bad id; -ENOMEM.
 */
HHA_EXPORT int hha_membership_new(struct hha_ctx *ctx, const struct hha_membership_opts *opts,
				  struct hha_membership **out);

/** hha_membership_free - close every socket and free; NULL is a no-op. Sends no goodbye. */
HHA_EXPORT void hha_membership_free(struct hha_membership *m);

/**
 * hha_membership_stop - say goodbye: one last heartbeat flagged "leaving" on
 * every link, so peers mark this node dead at once instead of after deadtime.
 * @m: a running object. Afterwards it sends nothing more (free it next).
 *
 * Return: 0, or -HHA_ESTATE when not running.
 */
HHA_EXPORT int hha_membership_stop(struct hha_membership *m);

/**
 * hha_membership_add_key - add a key (one of at most two, for rotation).
 * @m: object in setup or running (keys may be rotated at run time).
 * @id: key id 1..255, carried in every packet.
 * @key: the secret, at least 16 bytes (copied).
 * @len: its length.
 *
 * The first key added is the one used to send until hha_membership_set_send_key().
 * Return: 0; -EINVAL (id 0, key shorter than 16 bytes); -ENOSPC (two keys already,
 * remove one with hha_membership_remove_key()); -ENOMEM.
 */
HHA_EXPORT int hha_membership_add_key(struct hha_membership *m, unsigned id, const void *key,
				      size_t len);

/**
 * hha_membership_load_key - read a key file and add it with hha_membership_add_key().
 * @m: the object.
 * @id: key id.
 * @path: the file; its whole content is the key (one trailing newline dropped).
 *
 * Return: 0; -EACCES when the file is readable or writable by group or others
 * (the message says which mode it has and what to run); -ENOENT; -EINVAL when
 * shorter than 16 bytes or longer than 4096; errors of hha_membership_add_key().
 */
HHA_EXPORT int hha_membership_load_key(struct hha_membership *m, unsigned id, const char *path);

/** hha_membership_remove_key - forget key @id. 0, or -ENOENT. The send key cannot be removed (-EBUSY). */
HHA_EXPORT int hha_membership_remove_key(struct hha_membership *m, unsigned id);

/** hha_membership_set_send_key - send with key @id from now on. 0, or -ENOENT when not held. */
HHA_EXPORT int hha_membership_set_send_key(struct hha_membership *m, unsigned id);

/**
 * hha_membership_add_link - add this node's address on the next link (link 0, 1, ...).
 * @m: object in setup.
 * @local: "ADDR" or "ADDR:PORT" / "[V6]:PORT"; port 0 picks a free one
 *         (tests; read it back with hha_membership_link_port()).
 *
 * Binds a UDP socket to the address at once (IP_FREEBIND: the address may
 * appear later), except in a plan (opts.plan). Return: the link index (>= 0); -EINVAL for a bad address;
 * -ENOSPC beyond 8 links; -HHA_ESTATE when running; -errno from bind().
 */
HHA_EXPORT int hha_membership_add_link(struct hha_membership *m, const char *local);

/** hha_membership_link_port - the UDP port link @link is bound to, or -ENOENT. */
HHA_EXPORT int hha_membership_link_port(const struct hha_membership *m, unsigned link);

/**
 * hha_membership_add_peer - add a peer node.
 * @m: object in setup.
 * @id: its node id (1..255, not ours).
 * @name: its name, for people (copied).
 * @addrs: its address on each link, in link order ("ADDR" or "ADDR:PORT"); NULL
 *         entries mean "not on this link".
 * @naddrs: number of entries, at most the number of links added.
 *
 * Return: 0; -EINVAL (bad id, address, or family differs from our link's);
 * -EEXIST (id already added); -HHA_ESTATE when running; -ENOMEM.
 */
HHA_EXPORT int hha_membership_add_peer(struct hha_membership *m, unsigned id, const char *name,
				       const char *const *addrs, size_t naddrs);

/**
 * hha_membership_add_ping_node - probe @addr (IPv4 or IPv6 literal) by ICMP echo.
 *
 * Return: 0; -EINVAL; -ENOSPC beyond 16; -HHA_ESTATE when running.
 */
HHA_EXPORT int hha_membership_add_ping_node(struct hha_membership *m, const char *addr);

/**
 * hha_membership_start - bump and persist the incarnation, then start sending.
 * @m: object in setup with at least one key and one link.
 *
 * The incarnation is read from STATE_DIR/incarnation, incremented and written
 * back (fsync, rename) before the first packet, so it only ever grows.
 * Return: 0; -HHA_ESTATE (already running, no key, no link); -errno from the
 * state file (the message names it).
 */
HHA_EXPORT int hha_membership_start(struct hha_membership *m);

/**
 * hha_membership_reconfigure - apply a new configuration to a running object
 * (a reload), keeping what a restart would lose.
 * @m: a running object.
 * @next: the new configuration: an object made with opts.plan = true, given
 *        keys, links, peers and ping nodes like a new one; not started. It is
 *        not used afterwards: free it (its old keys are wiped with it).
 * @changes: receives what changed, for people, as "; "-separated items
 *           ("" when nothing did); may be NULL.
 * @cap: size of @changes.
 *
 * Keeps the incarnation, the round counter, the lease, and for every peer
 * still configured its states, incarnation, replay windows and payload.
 * Applies timers, lease length, keys (ids, contents, send key), ping nodes,
 * links (a link whose address is unchanged keeps its socket; a changed or
 * new one gets a new socket, bound before anything changes; a removed one is
 * closed) and peers (a removed one disappears, a new one starts in init, a
 * kept one takes its new name and addresses). Nothing changes when it fails.
 * The set of fds (hha_membership_fds) may change: poll the new set.
 *
 * Return: 0; -EINVAL when @next changes what only a restart may (node id,
 * cluster name, state directory, witness role or witness id; the message says
 * which) or has no key or no link; -HHA_ESTATE when @m is not running or @next
 * is not a plan; -errno from socket()/bind() (the message names the address).
 */
HHA_EXPORT int hha_membership_reconfigure(struct hha_membership *m, struct hha_membership *next,
					  char *changes, size_t cap);

/**
 * hha_membership_fds - the fds to poll for input (POLLIN / EPOLLIN).
 * @m: the object.
 * @fds: array receiving the fds (owned by the object; do not close them).
 * @max: its size.
 *
 * The set changes only in setup and in hha_membership_reconfigure().
 * Return: the number of fds (may exceed @max: call again with a larger array).
 */
HHA_EXPORT int hha_membership_fds(const struct hha_membership *m, int *fds, size_t max);

/** hha_membership_next_deadline - when to call dispatch next (monotonic ms), or -1. */
HHA_EXPORT int64_t hha_membership_next_deadline(const struct hha_membership *m);

/**
 * hha_membership_dispatch - read every pending datagram, send heartbeats that
 * are due, run timers and call the change callback for each state change.
 *
 * Never blocks. Return: 0; -HHA_ESTATE when not running.
 */
HHA_EXPORT int hha_membership_dispatch(struct hha_membership *m);

/**
 * hha_membership_set_link_carrier - tell the object that our link @link lost
 * (or regained) its carrier: every peer's copy of that link is marked down
 * at once instead of after deadtime. hhad feeds this from netlink.
 *
 * Return: 0, or -ENOENT for an unknown link.
 */
HHA_EXPORT int hha_membership_set_link_carrier(struct hha_membership *m, unsigned link, bool up);

/** hha_membership_link_address - our address on @link ("ADDR"), borrowed; NULL if none. */
HHA_EXPORT const char *hha_membership_link_address(const struct hha_membership *m, unsigned link);

/**
 * hha_membership_set_payload - attach a TLV to every outgoing heartbeat.
 * @m: the object (any state).
 * @type: TLV type 1..255 (see HHA_PAYLOAD_*; 3..15 are the object's own).
 * @data: the value (copied).
 * @len: its length; 0 removes the TLV of that type.
 *
 * Replaces the previous TLV of the same type. Return: 0; -EINVAL (type 0 or a
 * reserved type); -EMSGSIZE when all TLVs together would exceed
 * HHA_MEMBERSHIP_MAX_PAYLOAD; -ENOMEM.
 */
HHA_EXPORT int hha_membership_set_payload(struct hha_membership *m, uint8_t type, const void *data,
					  size_t len);

/**
 * hha_membership_peer_payload - the TLV of @type last received from a peer.
 * @m: the object.
 * @node_id: the peer.
 * @type: the TLV type.
 * @buf: receives the value.
 * @len: in: size of @buf; out: length of the value (also on -ENOBUFS).
 *
 * Return: 0; -ENOENT (unknown peer, or nothing of that type received from
 * its current incarnation); -ENOBUFS when @buf is too small.
 */
HHA_EXPORT int hha_membership_peer_payload(const struct hha_membership *m, unsigned node_id,
					   uint8_t type, void *buf, size_t *len);

/* What is known about one peer (or one of its links). */
struct hha_member_link_info {
	enum hha_member_state state;
	int64_t last_heard_ms; /* monotonic ms of the last accepted packet, -1 never */
	uint64_t received;     /* accepted packets on this link */
};

struct hha_member_info {
	unsigned id;
	const char *name;          /* borrowed until hha_membership_free() */
	enum hha_member_state state;
	uint64_t incarnation;      /* 0 until first contact */
	int64_t last_heard_ms;     /* on any link, -1 never */
	int ping_reached;          /* ping nodes it says it reaches, -1 unknown */
	bool leaving;              /* it said goodbye */
	unsigned nlinks;
	struct hha_member_link_info link[HHA_MEMBERSHIP_MAX_LINKS];
};

/**
 * hha_membership_peer_state - fill @out for peer @node_id.
 *
 * Return: 0, or -ENOENT for an unknown peer.
 */
HHA_EXPORT int hha_membership_peer_state(const struct hha_membership *m, unsigned node_id,
					 struct hha_member_info *out);

/** hha_membership_peers - the peers' ids in the order added; returns the count (may exceed @max). */
HHA_EXPORT int hha_membership_peers(const struct hha_membership *m, unsigned *ids, size_t max);

/** hha_member_state_name - "init", "up", "late", "dead" or "down". */
HHA_EXPORT const char *hha_member_state_name(enum hha_member_state s);

/* Datagrams counted by what became of them. Dropped ones are never acted upon. */
struct hha_membership_counters {
	uint64_t sent;            /* datagrams sent */
	uint64_t send_errors;     /* sendto() failures (link down, no route) */
	uint64_t accepted;        /* authentic and fresh */
	uint64_t malformed;       /* wrong size, magic, version or TLV area */
	uint64_t other_cluster;   /* another cluster's name */
	uint64_t unknown_key;     /* key id we do not hold */
	uint64_t bad_mac;         /* forged or corrupted */
	uint64_t unknown_node;    /* sender not a peer, or not addressed to us */
	uint64_t wrong_link;      /* arrived on another link or from another address */
	uint64_t old_incarnation; /* from an earlier start of the sender */
	uint64_t replay;          /* sequence already seen or too old on that link */
	uint64_t stale_echo;      /* made before the sender heard our current incarnation */
};

/** hha_membership_counters - copy the counters into @out. */
HHA_EXPORT void hha_membership_counters(const struct hha_membership *m,
					struct hha_membership_counters *out);

/** hha_membership_incarnation - this node's incarnation (0 before start). */
HHA_EXPORT uint64_t hha_membership_incarnation(const struct hha_membership *m);

/** hha_membership_ping_reached - ping nodes this node reaches now (answered recently). */
HHA_EXPORT int hha_membership_ping_reached(const struct hha_membership *m);

/** hha_membership_ping_count - ping nodes configured. */
HHA_EXPORT int hha_membership_ping_count(const struct hha_membership *m);

/* A state change, passed to the callback. */
struct hha_member_event {
	unsigned node_id;
	const char *name;
	int link;                  /* the link, or -1 for the node as a whole */
	enum hha_member_state old_state, new_state;
	uint64_t incarnation;
	bool new_incarnation;      /* the peer restarted (state may be unchanged) */
	const char *reason;        /* "heartbeat", "silence", "carrier", "goodbye", "restart" */
};

typedef void (*hha_member_cb)(void *userdata, const struct hha_member_event *ev);

/** hha_membership_set_callback - call @fn for every change (from dispatch and carrier calls). */
HHA_EXPORT void hha_membership_set_callback(struct hha_membership *m, hha_member_cb fn,
					    void *userdata);

/*
 * Leases (docs/witness-lease.md). A node asks the witness for the lease by
 * wanting it; the witness grants it to one node at a time for lease_ms and
 * renews it only for the holder. The holder's own view of its lease ends
 * early by a margin for clock rate differences, so it always stops before
 * the witness would grant the lease to someone else.
 */
struct hha_lease_info {
	bool held;             /* this node holds a lease valid now (its own view) */
	unsigned holder;       /* holder according to the last grant heard, 0 = none */
	uint64_t epoch;        /* grant epoch; changes when the lease changes hands */
	int64_t valid_until_ms;/* our monotonic time when our lease ends (held only) */
	bool wanted;           /* hha_membership_lease_want(true) was called */
};

/**
 * hha_membership_lease_want - ask for (true) or give up (false) the lease.
 * Giving up is immediate on our side (held becomes false before the call
 * returns) and the witness frees the lease when it hears about it.
 *
 * Return: 0; -HHA_ESTATE on the witness itself or when no witness is configured.
 */
HHA_EXPORT int hha_membership_lease_want(struct hha_membership *m, bool want);

/** hha_membership_lease - the lease as this node sees it. 0, or -HHA_ESTATE without a witness. */
HHA_EXPORT int hha_membership_lease(const struct hha_membership *m, struct hha_lease_info *out);

HHA_END_DECLS

#endif /* HYBRIDHA_MEMBERSHIP_H */
