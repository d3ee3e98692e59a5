#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# No false alarms: two hhads at default timers (keepalive 200 ms, deadtime
# 1 s) and, in the same lab, keepalived at its default (advert_int 1), while
# stress-ng saturates both cores for DURATION seconds. Counts spurious `dead`
# events (hhad) and spurious MASTER transitions of the backup (keepalived).
# Not part of CI (it takes ten minutes); run it once and report.
#
# Usage (root): HHA_BUILDDIR=build bench/net-stress.sh [DURATION]   (default 600)
set -u
[ "$(id -u)" = 0 ] || { echo "net-stress: needs root" >&2; exit 2; }
HHA_SRCDIR=${HHA_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$HHA_SRCDIR/tests/lab/lab.sh"
# The baseline is installed here, not by scripts/deps.sh (only benchmarks need it).
command -v keepalived >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq keepalived >/dev/null
for t in stress-ng keepalived jq; do
	command -v "$t" >/dev/null || { echo "net-stress: \`$t' is missing" >&2; exit 2; }
done
DUR=${1:-600}

lab_up 2 --links 2 >/dev/null || exit 1
for h in n1 n2; do lab_hhad_start "$h" >/dev/null || exit 1; done
for h in n1 n2; do
	lab_ctl "$h" events net.member --json >"$LAB_DIR/$h.events" 2>/dev/null &
done
lab_wait_for 5 eval "[ \"\$(lab_tool n1 hha-net members --json | jq -r '.peers[0].state')\" = up ]" || exit 1
for h in n1 n2; do
	d="$LAB_DIR/$h/kad"; mkdir -p "$d"
	cat >"$d/keepalived.conf" <<KC
global_defs { router_id $h }
vrrp_instance VI_1 { state BACKUP
  interface eth0
  virtual_router_id 53
  priority $([ $h = n1 ] && echo 150 || echo 100)
  advert_int 1
  virtual_ipaddress { $(lab_prefix 0 4 | sed 's|\.0/24|.91/24|') dev eth0 } }
KC
	lab_bg "$h" "$d/log" keepalived -n -l -P -f "$d/keepalived.conf" -p "$d/k.pid" -r "$d/v.pid" \
		-c "$d/c.pid" -b "$d/b.pid" >/dev/null
done
sleep 5
before=$(grep -c "Entering MASTER STATE" "$LAB_DIR/n2/kad/log")
echo "# stress-ng --cpu 2 for $DUR s, heartbeats at default timers"
timeout $((DUR + 30)) stress-ng --cpu 2 --cpu-method matrixprod --timeout "${DUR}s" --quiet
late=$(cat "$LAB_DIR"/n?.events | jq -s 'map(select(.data.state == "late")) | length')
dead=$(cat "$LAB_DIR"/n?.events | jq -s 'map(select(.data.state == "dead")) | length')
kad=$(( $(grep -c "Entering MASTER STATE" "$LAB_DIR/n2/kad/log") - before ))
c1=$(lab_tool n1 hha-net members --json | jq -c .counters)
echo "hhad: spurious dead events: $dead (late events: $late)"
echo "keepalived (advert_int 1): spurious takeovers by the backup: $kad"
echo "n1 counters: $c1"
