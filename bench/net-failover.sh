#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Client-observed VIP failover, hybridha (hhad membership + a minimal takeover
# script using hha-net) against keepalived VRRP, in the same namespace lab and
# run. A trial: the client talks to the VIP on n1; n1 crashes (lab_crash:
# frozen, links down, killed); we time from the crash to the client's first
# TCP connect answered by n2. Prints median and max per setup, and ratios.
#
# Usage (root): HHA_BUILDDIR=build bench/net-failover.sh [TRIALS]   (default 20)
#   NET_BENCH_SETUPS="hha-default hha-fast kad-1 kad-0.1 hha6-fast kad6-0.1" to choose.
set -u
[ "$(id -u)" = 0 ] || { echo "net-failover: needs root" >&2; exit 2; }
HHA_SRCDIR=${HHA_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
. "$HHA_SRCDIR/tests/lab/lab.sh"
# The baseline is installed here, not by scripts/deps.sh (only benchmarks need it).
command -v keepalived >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq keepalived >/dev/null
for t in jq socat python3 keepalived; do
	command -v "$t" >/dev/null || { echo "net-failover: \`$t' is missing" >&2; exit 2; }
done
TRIALS=${1:-20}
SETUPS=${NET_BENCH_SETUPS:-hha-default hha-fast kad-1 kad-0.1 hha6-fast kad6-0.1}

lab_up 2 --client >/dev/null || exit 1
p4=$(lab_prefix 0 4) p6=$(lab_prefix 0 6)
VIP4="${p4%.*}.80" VIP6="${p6%::*}::80"

cat >"$LAB_DIR/client.py" <<'PY'
# client.py ADDR PORT EXPECT: first time (monotonic ms) a connect is answered by EXPECT.
import socket, sys, time
addr, port, want = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
end = time.monotonic() + 30
while time.monotonic() < end:
    try:
        with socket.create_connection((addr, port), timeout=0.05) as s:
            s.settimeout(0.2)
            if s.recv(16).strip() == want:
                print(int(time.monotonic() * 1000), flush=True)
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.005)
sys.exit(1)
PY
now_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }
serve() { lab_bg "$1" "$LAB_DIR/$1/serve.log" socat -T2 TCP6-LISTEN:7001,ipv6only=0,reuseaddr,fork "SYSTEM:echo $1" >/dev/null; }
answered_by() { [ "$(lab_exec c socat -T1 - "TCP:$1" </dev/null 2>/dev/null)" = "$2" ]; }
hp() { case $1 in *:*) echo "[$1]:7001" ;; *) echo "$1:7001" ;; esac; }

# --- hybridha: hhad on both, n2 runs the takeover script ----------------------
hha_setup() { # KA WARN DEAD
	lab_config_merge "{\"cluster\": {\"heartbeat\": {\"keepalive_ms\": $1, \"warntime_ms\": $2, \"deadtime_ms\": $3, \"initdead_ms\": 5000}}}"
}
hha_start_n1() { # VIP PLEN
	lab_hhad_start n1 >/dev/null && serve n1 &&
		lab_tool n1 hha-net vip add "$1/$2" dev eth0 --nodad >/dev/null
}
hha_takeover_script() { # VIP PLEN EXTRA: wait for n1 dead, then take the VIP
	local net="\"$HHA_BUILDDIR/hha-net\" --socket \"$LAB_DIR/n2/run/hhad.sock\""
	cat >"$LAB_DIR/takeover.sh" <<SH
coproc W { exec $net watch --json; }
jq -n 'first(inputs | select(.event == "net.member" and .data.node == "n1" and .data.state == "dead")) | .time' <&"\${W[0]}" >/dev/null
$net vip add $1/$2 dev eth0 $3
kill "\$W_PID"
SH
	lab_bg n2 "$LAB_DIR/takeover.log" bash "$LAB_DIR/takeover.sh"
}
# Trials append their result to $RES; they start background processes, so they
# must not run inside $(...) (it would wait for those to close its pipe).
hha_trial() { # VIP PLEN EXTRA
	local vip=$1 t0 t1 cpid tpid
	lab_wait_for 5 eval "[ \"\$(lab_tool n2 hha-net members --json | jq -r '.peers[0].state')\" = up ]" || return 1
	lab_wait_for 3 answered_by "$(hp "$vip")" n1 || return 1
	hha_takeover_script "$1" "$2" "$3" >"$LAB_DIR/tpid"
	tpid=$(cat "$LAB_DIR/tpid")
	sleep 0.3
	: >"$LAB_DIR/client.out"
	cpid=$(lab_bg c "$LAB_DIR/client.out" python3 "$LAB_DIR/client.py" "$vip" 7001 n2)
	sleep 0.2
	t0=$(now_ms)
	lab_crash n1
	lab_bg_wait "$cpid" 35 >/dev/null || { kill "$tpid" 2>/dev/null; return 1; }
	t1=$(tail -1 "$LAB_DIR/client.out")
	[ -n "$t1" ] || return 1
	lab_bg_wait "$tpid" 5 >/dev/null || kill "$tpid" 2>/dev/null
	echo $((t1 - t0)) >>"$RES"
	# Back to n1 for the next trial.
	lab_tool n2 hha-net vip del "$vip/$2" dev eth0 >/dev/null
	lab_restart n1 && hha_start_n1 "$vip" "$2"
}

# --- keepalived VRRP: n1 priority 150, n2 100, preempt ---------------------------
kad_start() { # HOST PRIO ADVERT VIP PLEN
	local h=$1 d="$LAB_DIR/$1/kad"
	mkdir -p "$d"
	rm -f "$d"/*.pid # left by a crashed instance; keepalived would refuse to start
	# Sub-second advert_int needs VRRP version 3 (version 2 counts whole seconds).
	cat >"$d/keepalived.conf" <<KC
global_defs { router_id $h
  vrrp_version 3
  script_user root
  enable_script_security }
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  virtual_router_id 51
  priority $2
  advert_int $3
  virtual_ipaddress { $4/$5 dev eth0 }
}
KC
	lab_bg "$h" "$d/log" keepalived -n -l -P -f "$d/keepalived.conf" -p "$d/k.pid" -r "$d/v.pid" \
		-c "$d/c.pid" -b "$d/b.pid" >/dev/null
}
no_tentative() { [ -z "$(lab_exec "$1" ip -6 addr show dev eth0 tentative)" ]; }
kad_trial() { # ADVERT VIP PLEN
	local vip=$2 t0 t1 cpid
	lab_wait_for 30 answered_by "$(hp "$vip")" n1 || return 1
	: >"$LAB_DIR/client.out"
	cpid=$(lab_bg c "$LAB_DIR/client.out" python3 "$LAB_DIR/client.py" "$vip" 7001 n2)
	sleep 0.2
	t0=$(now_ms)
	lab_crash n1
	lab_bg_wait "$cpid" 35 >/dev/null || return 1
	t1=$(tail -1 "$LAB_DIR/client.out")
	[ -n "$t1" ] || return 1
	echo $((t1 - t0)) >>"$RES"
	lab_restart n1 && serve n1 || return 1
	# keepalived sends VRRPv3 for IPv6 from the link-local address: wait for its DAD.
	lab_wait_for 5 no_tentative n1
	kad_start n1 150 "$1" "$vip" "$3"
}

stats() { sort -n | awk '{v[NR]=$1} END {if (NR == 0) {print "- -"; exit}
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%d %d\n", m, v[NR]}'; }

declare -A MED MAX
run_setup() {
	local s=$1 fam=4 vip plen i out="$LAB_DIR/$1.ms"
	case $s in *6*) fam=6 ;; esac
	if [ $fam = 4 ]; then vip=$VIP4 plen=24; else vip=$VIP6 plen=64; fi
	: >"$out"
	RES=$out
	serve n1; serve n2
	case $s in
	hha*)
		case $s in *default) hha_setup 200 600 1000 ;; *fast) hha_setup 100 200 300 ;; esac
		lab_hhad_start n2 >/dev/null && hha_start_n1 "$vip" "$plen" || return 1
		for i in $(seq "$TRIALS"); do
			hha_trial "$vip" "$plen" "$([ $fam = 6 ] && echo --nodad)" ||
				echo "net-failover: $s trial $i failed" >&2
		done
		lab_hhad_stop n1 >/dev/null 2>&1; lab_hhad_stop n2 >/dev/null 2>&1
		sleep 0.2 ;; # let the takeover watcher see hhad go
	kad*)
		local adv=${s#kad}; adv=${adv#6}; adv=${adv#-}
		kad_start n2 100 "$adv" "$vip" "$plen"; kad_start n1 150 "$adv" "$vip" "$plen"
		for i in $(seq "$TRIALS"); do
			kad_trial "$adv" "$vip" "$plen" ||
				echo "net-failover: $s trial $i failed" >&2
		done ;;
	esac
	lab_crash n1; lab_crash n2; lab_restart n1; lab_restart n2
	read -r MED[$s] MAX[$s] < <(stats <"$out")
	printf '%-12s trials %2d  median %5s ms  max %5s ms   (%s)\n' "$s" "$(grep -c . "$out")" \
		"${MED[$s]}" "${MAX[$s]}" "$(tr '\n' ' ' <"$out")"
}

echo "# client-observed failover after a hard crash of the holder, $TRIALS trials each"
for s in $SETUPS; do run_setup "$s"; done
ratio() { [ -n "${MED[$1]:-}" ] && [ -n "${MED[$2]:-}" ] && [ "${MED[$2]}" != - ] &&
	awk -v a="${MED[$1]}" -v b="${MED[$2]}" -v x="$1" -v y="$2" 'BEGIN {printf "ratio %s / %s (median): %.2f\n", x, y, a / b}'; }
ratio hha-default kad-1
ratio hha-fast kad-0.1
ratio hha6-fast kad6-0.1
exit 0
