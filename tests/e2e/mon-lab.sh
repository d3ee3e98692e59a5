#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hha-mon against three real hhads in the namespace lab, on a tmux terminal:
# three bars labelled 1 2 3; busy loops in node 2's cgroup raise bar 2 while
# 1 and 3 stay low; every key shows its view with the cluster's real data; a
# crashed node 3 is shown late, then dead; --once and --json agree; losing
# the local hhad gives the banner and it recovers; q restores the terminal.
set -u
if [ "${HHA_LAB_TESTS:-}" != yes ] || [ "$(id -u)" != 0 ]; then
	echo "SKIP: lab tests need root and HHA_LAB_TESTS=yes"
	exit 77
fi
[ -x "$HHA_BUILDDIR/hha-mon" ] || { echo "SKIP: hha-mon not built (no ncursesw)"; exit 77; }
command -v tmux >/dev/null || { echo "SKIP: tmux not installed"; exit 77; }
[ -r "$HHA_SRCDIR/tests/lab/lab.sh" ] || { echo "SKIP: no namespace lab in this tree"; exit 77; }
tmp=$(mktemp -d)
fake_pid=""
. "$HHA_SRCDIR/tests/e2e/mon-lib.sh"
. "$HHA_SRCDIR/tests/lab/lab.sh"
# HHA_MON_CAPTURES=DIR keeps the screens for the documentation.
keep() { [ -z "${HHA_MON_CAPTURES:-}" ] || cp "$tmp/screen" "$HHA_MON_CAPTURES/$1.txt"; }
# Our trap first: lab_up chains its own teardown in front of it.
trap 'mon_tmux_stop; rm -rf "$tmp"' EXIT

lab_up 3 || fail "lab_up"
# A fixed speed (no measurement noise); timers slow enough that "late" lasts
# long enough to be seen between two refreshes of a busy machine.
lab_config_merge '{"load": {"speed": 1.0},
	"cluster": {"heartbeat": {"keepalive_ms": 200, "warntime_ms": 1000, "deadtime_ms": 3000}}}'
for h in n1 n2 n3; do lab_hhad_start "$h" || fail "hhad on $h"; done
verbs=$(lab_ctl n1 verbs)
for v in run.load net.members; do
	grep -q "^$v " <<<"$verbs" || { echo "SKIP: this hhad has no $v (its module has not landed)"; exit 77; }
done
sock="$LAB_DIR/n1/run/hhad.sock"
# Every node heard by n1, each with a load vector.
lab_wait_json 15 '[.nodes[] | select(.state == "up" and .load != null)] | length == 3' \
	"$mon" --socket "$sock" --json >/dev/null || fail "three nodes up with loads: $("$mon" --socket "$sock" --once)"

# hha-mon reaches hhad through its Unix socket, so it runs on our side of the lab.
mon_tmux_start 100 30
tmx send-keys "$mon --socket $sock -d 0.3 --ascii; echo rc=\$?" Enter
mon_wait '^ hha-mon  Load .* on n1 '
mon_wait '^ +1 +2 +3 *$' 10
grep -q 'n1 *n2 *n3' "$tmp/screen" || fail "node names under the bars"
sleep 1
mon_screen
for id in 1 2 3; do
	h=$(mon_bar_height $id)
	[ "$h" -ge 0 ] && [ "$h" -le 2 ] || fail "idle bar $id is $h rows high"
done

# Two busy loops in node 2's cgroup: its bar rises, 1 and 3 stay low.
for i in 1 2; do lab_bg n2 "$LAB_DIR/busy.log" sh -c 'while :; do :; done' >/dev/null; done
n=100
while :; do
	mon_screen
	h1=$(mon_bar_height 1) h2=$(mon_bar_height 2) h3=$(mon_bar_height 3)
	# 5 of 24 rows is a load of 0.2: other tests share these two CPUs, so
	# the loops may get well under both; idle nodes stay at their first row.
	[ "$h2" -ge 5 ] && [ "$h1" -le 2 ] && [ "$h3" -le 2 ] && break
	n=$((n - 1))
	[ "$n" -gt 0 ] || fail "bar 2 did not rise alone: 1=$h1 2=$h2 3=$h3"
	sleep 0.1
done
echo "# bars with node 2 busy: 1=$h1 2=$h2 3=$h3"
keep load-busy

# Each key: its title and the cluster's figures.
check_view() { # KEY TITLE CONTENT
	tmx send-keys "$1"
	mon_wait "^ hha-mon  $2 "
	mon_wait "$3"
	keep "view-$1"
}
check_view u 'CPU utilisation' '  100 \+'
mon_wait '^ +[0-9]+% +([3-9][0-9]|100)% +[0-9]+% *$' # node 2's CPUs busy, the others not
check_view m Memory '[0-9.]+[MG] \+'
check_view s 'CPUs and speed' '([0-9]+x1\.0 +){2}[0-9]+x1\.0 *$'
check_view r Replication "replication: not available|RESOURCE|no replicated resources"
# A VIP on n1 through its hhad.
vip="$(lab_addr n1 0 | sed 's/\.[0-9]*$/.77/')/24"
lab_tool n1 hha-net vip add "$vip" dev eth0 --arp-count 1 >/dev/null || fail "vip add"
check_view v 'VIPs and resource groups' "${vip//./\\.} +eth0 +n1"
mon_wait 'no groups configured'
check_view l Load '^ +1 +2 +3 *$'
tmx send-keys t
mon_wait '^ 3 nodes up / [0-9]+ CPUs +0 late +0 dead'

# Crash node 3: membership says late, then dead.
lab_crash n3
mon_wait '1 late' 5
mon_wait ' late *$'
keep late
mon_wait '1 dead ' 10
mon_wait 'x{8}'
mon_wait '^ 2 nodes up / '
keep dead

# --once and --json say the same.
"$mon" --socket "$sock" --once > "$tmp/out" || fail "--once"
grep -Eq '^ +3 n3 +dead ' "$tmp/out" || fail "--once: n3 dead: $(cat "$tmp/out")"
grep -Eq '^ +1 n1 +up .*\(this node\)$' "$tmp/out" || fail "--once: n1: $(cat "$tmp/out")"
grep -Eq "^  ${vip//./\\.} +eth0 +held by n1$" "$tmp/out" || fail "--once: vip: $(cat "$tmp/out")"
"$mon" --socket "$sock" --json > "$tmp/json" || fail "--json"
jq -e '.totals.up == 2 and .totals.dead == 1 and ([.nodes[].id] == [1,2,3])
	and (.nodes[1].load_per_cpu > .nodes[0].load_per_cpu)' "$tmp/json" >/dev/null ||
	fail "--json: $(cat "$tmp/json")"

# The local hhad dies: the banner and retries; it comes back.
lab_hhad_kill n1
mon_wait 'LOST CONNECTION TO hhad, retrying' 5
mon_wait 'retrying \(attempt [2-9]'
keep lost
lab_hhad_start n1
mon_wait_gone 'LOST CONNECTION' 10
mon_wait '^ +1 +2 +3 *$' 10

# q: the shell is back, the alternate screen left.
tmx send-keys q
mon_wait '^rc=0$'
[ "$(tmx display -p '#{alternate_on}')" = 0 ] || fail "alternate screen still on after q"
echo "PASS: hha-mon in a 3-node lab: bars follow load, views, late then dead, --once/--json, lost hhad, clean exit"
