/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The connection state machine of a replicated device. */
#include "config.h"

#include "core/internal.h"
#include "disk/state.h"

/*
 * Transition table (rows: state; columns: event; "-" = not allowed):
 *
 * | state         | CONNECT | DISCONNECT | STOPPED    | UP_NOSYNC | UP_SOURCE  | UP_TARGET  | SYNC_DONE | LINK_LOST | REFUSED    |
 * |---------------|---------|------------|------------|-----------|------------|------------|-----------|-----------|------------|
 * | StandAlone    | WFConn  | -          | StandAlone | -         | -          | -          | -         | -         | -          |
 * | WFConnection  | -       | Disconn.   | -          | Connected | SyncSource | SyncTarget | -         | WFConn    | StandAlone |
 * | Connected     | -       | Disconn.   | -          | -         | SyncSource | SyncTarget | -         | WFConn    | StandAlone |
 * | SyncSource    | -       | Disconn.   | -          | -         | -          | -          | Connected | WFConn    | StandAlone |
 * | SyncTarget    | -       | Disconn.   | -          | -         | -          | -          | Connected | WFConn    | StandAlone |
 * | Disconnecting | -       | -          | StandAlone | -         | -          | -          | -         | Disconn.  | -          |
 *
 * A lost link always reconnects by itself (WFConnection); only the user
 * (disconnect) or a refusal that needs a person (split brain, unrelated
 * data, size mismatch) stops trying (StandAlone). Authentication failures
 * are not refusals here: a stranger must not be able to stop replication by
 * connecting with a wrong key.
 */
#define SA HHA_CS_STANDALONE
#define WF HHA_CS_WFCONNECTION
#define CO HHA_CS_CONNECTED
#define SS HHA_CS_SYNCSOURCE
#define ST HHA_CS_SYNCTARGET
#define DI HHA_CS_DISCONNECTING
#define NO -1

static const signed char table[HHA_CS_COUNT][HHA_CSE_COUNT] = {
	/*            CONN DISC STOP UPNS UPSR UPTG DONE LOST REFU */
	[SA] = { WF, NO, SA, NO, NO, NO, NO, NO, NO },
	[WF] = { NO, DI, NO, CO, SS, ST, NO, WF, SA },
	[CO] = { NO, DI, NO, NO, SS, ST, NO, WF, SA },
	[SS] = { NO, DI, NO, NO, NO, NO, CO, WF, SA },
	[ST] = { NO, DI, NO, NO, NO, NO, CO, WF, SA },
	[DI] = { NO, NO, SA, NO, NO, NO, NO, DI, NO },
};

int hha_cstate_next(enum hha_conn_state s, enum hha_cs_event ev)
{
	if ((unsigned)s >= HHA_CS_COUNT || (unsigned)ev >= HHA_CSE_COUNT)
		return -1;
	return table[s][ev];
}

const char *hha_cs_event_name(enum hha_cs_event ev)
{
	static const char *const names[] = { "connect", "disconnect", "stopped", "up-nosync", "up-source",
					     "up-target", "sync-done", "link-lost", "refused" };

	return (unsigned)ev < HHA_ARRAY_SIZE(names) ? names[ev] : "?";
}

HHA_EXPORT const char *hha_conn_state_name(enum hha_conn_state s)
{
	static const char *const names[] = { "StandAlone", "WFConnection", "Connected",
					     "SyncSource", "SyncTarget", "Disconnecting" };

	return (unsigned)s < HHA_ARRAY_SIZE(names) ? names[s] : "?";
}
