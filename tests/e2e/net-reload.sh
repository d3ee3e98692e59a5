#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Live reload of membership between two hhads that watch each other: the
# cluster key is rotated in the documented three steps (add the new key
# everywhere, switch send_key, remove the old key; a reload after each) with
# no late or dead event and no bad_mac/unknown_key, after which a datagram
# made with the old key is refused; a peer added to the configuration shows
# up in init and disappears when removed; new timers are used at once (a
# frozen peer is dead after the new deadtime); a reload that changes the
# node's own id is refused and the running membership is kept.
set -u

. "$(dirname "$0")/net-common.sh" python3
members() { lab_tool "$1" hha-net members --json; }
peer_of() { members "$1" | jq -r ".peers[] | select(.node == \"$2\") | $3"; }
up_both() { [ "$(peer_of n1 n2 .state)" = up ] && [ "$(peer_of n2 n1 .state)" = up ]; }
counter() { members "$1" | jq -r ".counters.$2"; }
now_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }
reload() { lab_ctl "$1" reload; }
# Late or dead events (nodes or links) seen by either node so far.
bad_events() { cat "$LAB_DIR/ev-n1" "$LAB_DIR/ev-n2" |
	jq -s '[.[] | select((.event == "net.member" or .event == "net.link") and
		(.data.state == "late" or .data.state == "dead"))] | length'; }
reload_said() { grep -h '"net.reload"' "$LAB_DIR/ev-$1" | grep -qF "$2"; }

lab_up 2 || { echo "FAIL: lab_up"; exit 1; }
cp "$HHA_SRCDIR/tests/e2e/net-hbtool.py" "$LAB_DIR/hbtool.py"
( umask 077 && od -An -N32 -tx1 /dev/urandom | tr -d ' \n' >"$LAB_DIR/key2" )
K1="{\"id\": 1, \"file\": \"$LAB_DIR/cluster.key\"}" K2="{\"id\": 2, \"file\": \"$LAB_DIR/key2\"}"
lab_config_merge "{\"cluster\": {\"keys\": [$K1], \"heartbeat\": {\"keepalive_ms\": 200, \"warntime_ms\": 600, \"deadtime_ms\": 1000}}}"
lab_hhad_start n1 && lab_hhad_start n2 || { echo "FAIL: hhad does not start"; exit 1; }
lab_ctl n1 events net --json >"$LAB_DIR/ev-n1" 2>/dev/null &
ev1=$!
lab_ctl n2 events net --json >"$LAB_DIR/ev-n2" 2>/dev/null &
ev2=$!
check "n1 and n2 see each other up" lab_wait_for 5 up_both
inc1=$(peer_of n2 n1 .incarnation) inc2=$(peer_of n1 n2 .incarnation)
a10=$(lab_addr n1 0) a20=$(lab_addr n2 0)

# -- key rotation in three steps, both nodes watching each other --------------------
step() { # step N JSON: merge JSON everywhere, reload n1, then n2 (half a second apart)
	lab_config_merge "$2" && reload n1 && sleep 0.5 && reload n2 && sleep 0.7
}
check "step 1: key 2 added everywhere (send_key 1), both reloads accepted" \
	step 1 "{\"cluster\": {\"keys\": [$K1, $K2], \"send_key\": 1}}"
check "  ...the reload event says so" reload_said n1 "key 2 added"
check "step 2: send_key 2 everywhere, both reloads accepted" \
	step 2 "{\"cluster\": {\"keys\": [$K1, $K2], \"send_key\": 2}}"
check "  ...the reload event says so" reload_said n2 "send key 1 -> 2"
check "step 3: key 1 removed everywhere, both reloads accepted" \
	step 3 "{\"cluster\": {\"keys\": [$K2], \"send_key\": 2}}"
check "  ...the reload event says so" reload_said n1 "key 1 removed"
check "still up both ways" up_both
check "no late or dead event on either node during the rotation" [ "$(bad_events)" = 0 ]
for h in n1 n2; do
	check "$h: bad_mac 0, unknown_key 0" \
		eval '[ "$(counter '$h' bad_mac)" = 0 ] && [ "$(counter '$h' unknown_key)" = 0 ]'
done
check "same incarnations (no restart)" \
	eval '[ "$(peer_of n2 n1 .incarnation)" = "$inc1" ] && [ "$(peer_of n1 n2 .incarnation)" = "$inc2" ]'
# A datagram made with the old key (a fresh capture re-signed with key 1) is refused.
lab_exec n1 python3 "$LAB_DIR/hbtool.py" capture "$LAB_DIR/cap" 0.5 "eth0=$a20"
genuine=$(head -1 "$LAB_DIR/cap" | cut -d' ' -f2)
old=$(python3 "$LAB_DIR/hbtool.py" sign "$genuine" 1 "$LAB_DIR/cluster.key")
uk=$(counter n1 unknown_key)
lab_exec n2 python3 "$LAB_DIR/hbtool.py" send "$a20" "$a10" "$old"
sleep 0.2
check "after step 3 a datagram made with the old key is refused (unknown_key)" \
	[ "$(counter n1 unknown_key)" = $((uk + 1)) ]

# -- peers added and removed ---------------------------------------------------------
ghost=$(lab_prefix 0 | sed 's|\.0/24$|.77|')
lab_config_merge_node n1 "{\"nodes\": {\"n9\": {\"id\": 9, \"heartbeat\": [\"$ghost\"]}}}"
check "a peer added by reload is accepted" reload n1
check "  ...and listed in init" eval '[ "$(peer_of n1 n9 .state)" = init ]'
check "  ...n2 still up" eval '[ "$(peer_of n1 n2 .state)" = up ]'
jq 'del(.nodes.n9)' "$(lab_config n1)" >"$LAB_DIR/c" && mv "$LAB_DIR/c" "$(lab_config n1)"
check "a peer removed by reload is accepted" reload n1
check "  ...and gone from the members" eval '[ -z "$(peer_of n1 n9 .state)" ]'

# -- timers: the new deadtime is the one used ---------------------------------------------
KA=100 DEAD=500 TOL=250
check "keepalive 100 / warntime 300 / deadtime 500 by reload on both" \
	step 4 "{\"cluster\": {\"heartbeat\": {\"keepalive_ms\": $KA, \"warntime_ms\": 300, \"deadtime_ms\": $DEAD}}}"
check "  ...the reload event says so" reload_said n1 "deadtime 1000 -> 500 ms"
check "no late or dead event so far" [ "$(bad_events)" = 0 ]
t0=$(now_ms)
lab_freeze n2
check "n2 frozen: dead at n1" lab_wait_for 3 eval '[ "$(peer_of n1 n2 .state)" = dead ]'
dead=$(jq -r --argjson t "$t0" 'select(.event == "net.member" and .data.node == "n2" and
	.data.state == "dead" and .time >= $t) | .time' "$LAB_DIR/ev-n1" | head -1)
echo "# frozen at $t0: dead after $((dead - t0)) ms (new deadtime $DEAD, keepalive $KA; was 1000)"
check "dead within the new deadtime + keepalive (+${TOL} ms)" [ $((dead - t0)) -le $((DEAD + KA + TOL)) ]
check "dead not before the new deadtime - keepalive (-100 ms)" [ $((dead - t0)) -ge $((DEAD - KA - 100)) ]
lab_thaw n2
check "thawed: up again" lab_wait_for 3 up_both

# -- what only a restart may change is refused ---------------------------------------
lab_config_merge_node n1 '{"nodes": {"n1": {"id": 7}}}'
if reload n1 2>"$LAB_DIR/err"; then not_ok "a reload changing the node id is refused (accepted)"
else check "a reload changing the node id is refused with a clear message" \
	grep -q "this node's id cannot change while running (1 -> 7)" "$LAB_DIR/err"; fi
echo "# $(cat "$LAB_DIR/err")"
check "  ...the running configuration is kept (id 1)" \
	eval '[ "$(lab_ctl n1 config --json | jq -r .nodes.n1.id)" = 1 ]'
sleep 0.6
check "  ...and n2 still sees n1 up with the same incarnation" \
	eval '[ "$(peer_of n2 n1 .state)" = up ] && [ "$(peer_of n2 n1 .incarnation)" = "$inc1" ]'
kill "$ev1" "$ev2" 2>/dev/null
wait "$ev1" "$ev2" 2>/dev/null

finish
