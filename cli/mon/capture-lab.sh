#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Text captures of every hha-mon view against a real 3-node lab (for the
# README): n1-n2 replicate r0 with a slow resync running, n1 holds a VIP, n2
# is busy, then n3 crashes. Usage (root): capture-lab.sh BUILDDIR [COLSxROWS]
set -eu
export HHA_BUILDDIR=$(cd "$1" && pwd)
HHA_SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
size=${2:-80x24}
. "$HHA_SRCDIR/tests/lab/lab.sh"
tmp=$(mktemp -d)
. "$HHA_SRCDIR/tests/e2e/mon-lib.sh"
trap 'mon_tmux_stop; rm -rf "$tmp"' EXIT

show() { # TITLE [DELAY]
	sleep "${2:-1.5}"
	mon_screen
	printf '### %s\n\n```\n' "$1"
	sed -e 's/[[:space:]]*$//' "$tmp/screen"
	printf '```\n\n'
}

lab_up 3 --links 1 >/dev/null
for h in $LAB_NODES; do lab_hhad_start "$h" >/dev/null; done
dk() { local h=$1; shift; lab_tool "$h" hha-disk "$@"; }
for h in n1 n2; do
	[ $h = n1 ] && peer=n2 || peer=n1
	truncate -s 1G "$LAB_DIR/$h/r0.img"
	dk "$h" r0 create-md "$LAB_DIR/$h/r0.img" >/dev/null
	dk "$h" r0 attach "$LAB_DIR/$h/r0.img" >/dev/null
	dk "$h" r0 connect "$(lab_addr $h):7800" "$(lab_addr $peer):7800" >/dev/null
done
dk n1 r0 wait-connect -t 10 >/dev/null
dk n1 r0 syncer --rate 40M >/dev/null
dk n1 r0 primary --force >/dev/null
vip=$(lab_prefix 0 | sed 's|\.0/24$|.50/24|')
lab_tool n1 hha-net vip add "$vip" dev eth0 label eth0:web >/dev/null
for i in 1 2; do lab_bg n2 /dev/null sh -c 'while :; do :; done' >/dev/null; done
sleep 4 # a few samples of load history

mon_tmux_start "${size%x*}" "${size#*x}"
tmx send-keys "clear; exec env HHA_SOCKET=$LAB_DIR/n1/run/hhad.sock $(lab_ns n1 >/dev/null; echo nsenter) --net=/run/netns/$(lab_ns n1) $HHA_BUILDDIR/hha-mon -d 0.5" Enter
mon_wait 'hha-mon' 10
tmx send-keys t
show "l: load per CPU, normalised by speed, with t: the totals header (node 2 busy)"
for k in m u s r v; do
	tmx send-keys "$k"
	case $k in
	m) show "m: memory, used solid, available hatched" ;;
	u) show "u: CPU utilisation" ;;
	s) show "s: CPUs and relative speed" ;;
	r) show "r: replication (a resync at 40 MiB/s running)" ;;
	v) show "v: who holds each VIP" ;;
	esac
done
tmx send-keys l Enter
show "Enter: detail panel of the selected node, with its load sparkline"
tmx send-keys Escape
tmx send-keys h
show "h: the keys"
tmx send-keys Escape
lab_crash n3
tmx send-keys l
mon_wait ' 1 late ' 5
show "node 3 crashed: late first (silent past warntime)" 0
mon_wait ' 1 dead ' 5
show "then dead (silent on every link past deadtime)" 0
tmx send-keys q
sleep 0.5
lab_down
