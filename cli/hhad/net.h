/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The net module's interface for other hhad modules: the membership object and VIP ownership. */
#ifndef HHAD_NET_H
#define HHAD_NET_H

#include <hybridha/membership.h>

#include "hhad.h"

/*
 * This node's membership object, for modules that publish or read heartbeat
 * payloads (hha_membership_set_payload / _peer_payload) or peer states.
 * NULL when the net module is absent or the configuration has no cluster
 * (no nodes). Borrowed: valid until hhad stops or reloads modules.
 */
struct hha_membership *hhad_net_membership(struct hhad *d);

#endif /* HHAD_NET_H */
