/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hhad's run module: shared state of the launch service, the load table and the verbs. */
#ifndef HHAD_RUN_H
#define HHAD_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include <hybridha/load.h>
#include <hybridha/membership.h>

#include "hhad.h"
#include "run/crypto.h"
#include "run/nonce.h"

#define RUN_MAX_LISTEN 9
#define RUN_MAX_PEERS 255
#define RUN_MAX_RECENT 256

struct run_conn;
struct run_session;
struct run_query;
struct run_waiter;

/* What this node knows of another node's load. */
struct run_peer {
	unsigned id;
	char name[64];
	char addr[64];
	bool witness;
	struct hha_load load;
	bool have;           /* a vector has arrived */
	bool via_hb;         /* ... in a heartbeat: membership says how fresh */
	enum hha_member_state hb_state;
	int64_t rx_ms;       /* monotonic time it arrived */
	int64_t fail_ms;     /* monotonic time of the last failed query, or 0 */
	char fail[160];
	struct run_query *q; /* a query in flight */
};

/* A copy placed on a node by "auto", counted until its load shows. */
struct run_recent {
	unsigned node;
	int64_t ms;
	uint64_t ticket;
	uid_t uid;
};

struct hhad_run {
	struct hhad *d;
	struct hha_ctx *ctx;
	struct hha_loop *loop;
	/* Configuration. */
	bool have_keys;
	struct hha_run_keyring keys;
	unsigned self_id;
	char self_addr[64];
	int port;
	bool allow_root;
	uint64_t max_skew_ms;
	int64_t keepalive_ms, warn_ms, dead_ms;
	/* Service. */
	struct {
		int fd;
		struct hha_io *io;
		char addr[64];
	} lis[RUN_MAX_LISTEN];
	size_t nlis;
	struct run_conn *conns;
	size_t nconns;
	struct hha_run_nonces *nonces;
	struct run_session *sessions;
	size_t nsessions;
	unsigned next_session;
	uint64_t launches, refused;
	int64_t warn_window_ms;
	unsigned warn_count;
	/* Load. */
	struct hha_load_sampler *sampler;
	struct hha_timer *sample_timer;
	struct hha_load self_load;
	struct run_peer peers[RUN_MAX_PEERS];
	size_t npeers;
	struct run_recent recent[RUN_MAX_RECENT];
	size_t nrecent;
	uint64_t next_ticket;
	struct run_waiter *waiters;
};

/* run-service.c: the TCP service. */
int run_service_start(struct hhad_run *m);
void run_service_stop(struct hhad_run *m);
void run_service_status(struct hhad_run *m, json_object *out);
json_object *run_sessions_json(struct hhad_run *m);
/* The realtime clock in ms, as requests are stamped. */
uint64_t run_realtime_ms(void);
/* Rate-limited warning about a refused connection (an attacker must not flood the log). */
void run_warn_refused(struct hhad_run *m, const char *fmt, ...) HHA_PRINTF(2, 3);

/* run-peers.c: loads of the other nodes, asked over their run service. */
int run_peers_configure(struct hhad_run *m, const struct hha_config *cfg);
/* Make every peer's load fresh (or known dead), then call @done. */
void run_peers_refresh(struct hhad_run *m);
/* Put this node's vector in the heartbeats and take the peers' from theirs. */
void run_peers_heartbeat(struct hhad_run *m);
bool run_peers_busy(const struct hhad_run *m);
void run_peers_stop(struct hhad_run *m);
/* The run.load reply. */
json_object *run_load_json(struct hhad_run *m);
const char *run_peer_state(const struct hhad_run *m, const struct run_peer *p);
/* Called by run-peers.c when the last query of a refresh ended. */
void run_waiters_wake(struct hhad_run *m);

/* run-session.c: the helper process (`hhad --run-session`). */
int hhad_run_session_main(int argc, char **argv);

extern const struct hhad_module hhad_module_run;

#endif /* HHAD_RUN_H */
