# SPDX-License-Identifier: LGPL-2.1-or-later
# Sources of lib/net/: heartbeats and membership, leases, ping nodes, VIPs, ARP/NA, kernel events.
libhha_internal_la_SOURCES += \
	lib/net/arp.c \
	lib/net/hb-proto.c \
	lib/net/hb-proto.h \
	lib/net/hb-state.c \
	lib/net/hb-state.h \
	lib/net/lease.c \
	lib/net/lease.h \
	lib/net/member-fsm.c \
	lib/net/member-fsm.h \
	lib/net/membership.c \
	lib/net/membership-int.h \
	lib/net/membership-payload.c \
	lib/net/membership-reconf.c \
	lib/net/nlmon.c \
	lib/net/nlmon.h \
	lib/net/ping.c \
	lib/net/ping.h \
	lib/net/vip.c \
	lib/net/vip-payload.c \
	lib/net/vip-payload.h \
	$(NULL)
