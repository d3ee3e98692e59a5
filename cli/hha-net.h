/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hha-net's verbs shared between its files. */
#ifndef HHA_NET_CLI_H
#define HHA_NET_CLI_H

#include "common.h"

int cmd_vip(struct hha_cli *cli, int argc, char **argv);
int cmd_arp(struct hha_cli *cli, int argc, char **argv);
/* hhad answers on the control socket (connects quietly; false = use the library directly). */
bool net_have_daemon(struct hha_cli *cli);

#endif /* HHA_NET_CLI_H */
