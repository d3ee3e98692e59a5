#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# CPU cost of heartbeats: 8 hhads (membership only) at keepalive 100 ms on one
# link, each measured by its node's cgroup (cpu.stat usage_usec) over a
# window; then keepalived VRRP (advert_int 0.1, VRRPv3) on the same 8 nodes
# for reference (only its master sends adverts, so it sends 1/8 of the packets
# per second an all-to-all heartbeat mesh sends... per node, 1/56 in total).
#
# Usage (root): HHA_BUILDDIR=build bench/net-hbcost.sh [SECONDS]   (default 60)
set -u
[ "$(id -u)" = 0 ] || { echo "net-hbcost: needs root" >&2; exit 2; }
HHA_SRCDIR=${HHA_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$HHA_SRCDIR/tests/lab/lab.sh"
# The baseline is installed here, not by scripts/deps.sh (only benchmarks need it).
command -v keepalived >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq keepalived >/dev/null
command -v keepalived >/dev/null || { echo "net-hbcost: keepalived is missing" >&2; exit 2; }
SECS=${1:-60}
N=8

lab_up $N >/dev/null || exit 1
usage() { awk '$1 == "usage_usec" {print $2}' "$(lab_cgroup "$1")/cpu.stat"; }
# Sum of the nodes' CPU microseconds over SECS seconds, after a settling time.
measure() {
	local h total=0 declare_b
	declare -A b
	sleep 3
	for h in $LAB_NODES; do b[$h]=$(usage "$h"); done
	sleep "$SECS"
	for h in $LAB_NODES; do total=$((total + $(usage "$h") - b[$h])); done
	echo "$total"
}
lab_config_merge '{"cluster": {"heartbeat": {"keepalive_ms": 100, "warntime_ms": 300, "deadtime_ms": 500}}}'
for h in $LAB_NODES; do lab_hhad_start "$h" >/dev/null || exit 1; done
lab_wait_for 10 eval "[ \"\$(lab_tool n1 hha-net members --json | jq '[.peers[] | select(.state == \"up\")] | length')\" = $((N - 1)) ]" ||
	{ echo "net-hbcost: the mesh did not come up" >&2; exit 1; }
hha=$(measure)
sent=$(lab_tool n1 hha-net members --json | jq .counters.sent)
for h in $LAB_NODES; do lab_hhad_stop "$h" >/dev/null; done

for h in $LAB_NODES; do
	d="$LAB_DIR/$h/kad"; mkdir -p "$d"
	cat >"$d/keepalived.conf" <<KC
global_defs { router_id $h
  vrrp_version 3 }
vrrp_instance VI_1 { state BACKUP
  interface eth0
  virtual_router_id 52
  priority $((100 + ${h#n}))
  advert_int 0.1
  virtual_ipaddress { $(lab_prefix 0 4 | sed 's|\.0/24|.90/24|') dev eth0 } }
KC
	lab_bg "$h" "$d/log" keepalived -n -l -P -f "$d/keepalived.conf" -p "$d/k.pid" -r "$d/v.pid" \
		-c "$d/c.pid" -b "$d/b.pid" >/dev/null
done
kad=$(measure)

awk -v h="$hha" -v k="$kad" -v s="$SECS" -v n=$N -v sent="$sent" 'BEGIN {
	printf "# %d nodes, keepalive 100 ms, %d s\n", n, s
	printf "hhad (membership, all-to-all unicast, HMAC-SHA256): %.3f%% of one core per node (%.0f us/s), %d datagrams sent by n1 in total\n", h / s / n / 1e4, h / s / n, sent
	printf "keepalived VRRPv3 advert_int 0.1 (one master):     %.3f%% of one core per node (%.0f us/s)\n", k / s / n / 1e4, k / s / n
	printf "ratio hhad / keepalived: %.2f\n", (k > 0 ? h / k : 0) }'
