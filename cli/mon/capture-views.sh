#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Print a text capture of every hha-mon view, against the tests' fake hhad,
# for docs/hha-mon.md and the README. Usage: capture-views.sh BUILDDIR [COLSxROWS]
set -eu
HHA_BUILDDIR=$(cd "$1" && pwd)
HHA_SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
size=${2:-80x24}
tmp=$(mktemp -d)
fake_pid=""
. "$HHA_SRCDIR/tests/e2e/mon-lib.sh"
trap 'mon_tmux_stop; mon_fake_kill; rm -rf "$tmp"' EXIT
[ -x "$fake" ] || { echo "build the fake first: make -C $1 cli/mon/fake-hhad" >&2; exit 1; }

show() { # TITLE
	sleep 0.6
	mon_screen
	printf '### %s\n\n```\n' "$1"
	cat "$tmp/screen"
	printf '```\n\n'
}

mon_fake_data up
mon_fake_start
mon_tmux_start "${size%x*}" "${size#*x}"
tmx send-keys "clear; exec $mon --socket $tmp/sock -d 0.25" Enter
mon_wait 'hha-mon  Load'
sleep 2 # some load history for the detail panel
tmx send-keys t
show "l: load per CPU, normalised by speed (with t: the totals header)"
for k in m u s r v; do
	tmx send-keys "$k"
	case $k in
	m) show "m: memory, used solid, available hatched" ;;
	u) show "u: CPU utilisation" ;;
	s) show "s: CPUs and relative speed" ;;
	r) show "r: replication" ;;
	v) show "v: VIPs and resource groups" ;;
	esac
done
tmx send-keys l Right Enter
show "Enter: detail panel of the selected node, with its load sparkline"
tmx send-keys Escape
mon_fake_data late
show "a node membership reports late"
mon_fake_data dead
show "the same node dead"
tmx send-keys h
show "h or ?: the keys"
tmx send-keys Escape
mon_fake_kill
sleep 1.5
show "hhad lost: a banner, retries, the last figures kept"
tmx resize-window -x 60 -y 15
show "a terminal below 80x24"
