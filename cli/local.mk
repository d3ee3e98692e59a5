# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon and the command-line tools.

sbin_PROGRAMS += hhad
hhad_SOURCES = \
	cli/hhad/control.c \
	cli/hhad/daemon.c \
	cli/hhad/daemon.h \
	cli/hhad/disk.c \
	cli/hhad/disk.h \
	cli/hhad/disk-json.c \
	cli/hhad/disk-verbs.c \
	cli/hhad/hhad.h \
	cli/hhad/main.c \
	cli/hhad/modules.c \
	cli/hhad/run.c \
	cli/hhad/run.h \
	cli/hhad/run-peers.c \
	cli/hhad/run-service.c \
	cli/hhad/run-session.c \
	cli/hhad/net.c \
	cli/hhad/net.h \
	cli/hhad/net-int.h \
	cli/hhad/net-vip.c \
	cli/hhad/net-vip-peers.c \
	cli/hhad/verbs-core.c \
	$(NULL)
hhad_CFLAGS = $(HHA_INTERNAL_CFLAGS)
hhad_LDADD = $(HHA_INTERNAL_LIBS)

# Shared by every tool: flags, verb tables, exit codes.
noinst_LTLIBRARIES += libhha-cli.la
libhha_cli_la_SOURCES = cli/common.c cli/common.h
libhha_cli_la_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
HHA_CLI_LIBS = libhha-cli.la libhybridha.la $(JSONC_LIBS)

bin_PROGRAMS += hha-ctl
hha_ctl_SOURCES = cli/hha-ctl.c
hha_ctl_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
hha_ctl_LDADD = $(HHA_CLI_LIBS)

bin_PROGRAMS += hha-runon
hha_runon_SOURCES = cli/hha-runon.c cli/hha-runon-list.c cli/hha-runon.h
hha_runon_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS) $(CRYPTO_CFLAGS)
hha_runon_LDADD = $(HHA_CLI_LIBS) $(CRYPTO_LIBS)

bin_PROGRAMS += hha-disk
hha_disk_SOURCES = cli/hha-disk.c cli/hha-disk.h cli/hha-disk-print.c
hha_disk_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
hha_disk_LDADD = $(HHA_CLI_LIBS)
# hha-mon (built when ncursesw is found).
include cli/mon/local.mk

bin_PROGRAMS += hha-net
hha_net_SOURCES = cli/hha-net.c cli/hha-net.h cli/hha-net-vip.c
hha_net_CFLAGS = $(AM_CFLAGS) $(JSONC_CFLAGS)
hha_net_LDADD = $(HHA_CLI_LIBS)
