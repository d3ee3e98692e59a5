#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of heartbeats between two hhads on two links: a crashed
# peer goes late then dead in time; replaying its captured packets does not
# revive it; one cut link does not kill a peer, two do, healing revives it; a
# restart is a new incarnation; a capture replayed after the receiver's own
# restart counts for nothing (stale echo); forged, replayed, truncated and oversized
# datagrams sent from a raw socket with the peer's own address are dropped,
# counted, and change nothing; carrier loss marks a link down at once.
set -u

. "$(dirname "$0")/net-common.sh" python3
members() { lab_tool n1 hha-net members --json; }
peer() { members | jq -r ".peers[] | select(.node == \"n2\") | $1"; }
state_is() { [ "$(peer .state)" = "$1" ]; }
link_is() { [ "$(peer ".links[$1].state")" = "$2" ]; }
counter() { members | jq -r ".counters.$1"; }
now_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }
# Time (n1's monotonic ms) of the first net.member event for n2 to STATE after T.
event_at() { jq -r --arg s "$1" --argjson t "$2" \
	'select(.event == "net.member" and .data.node == "n2" and .data.state == $s and .time >= $t) | .time' \
	"$LAB_DIR/events" | head -1; }

lab_up 2 --links 2 --ping || { echo "FAIL: lab_up"; exit 1; }
KA=200 WARN=600 DEAD=1000 TOL=250
lab_config_merge "{\"cluster\": {\"heartbeat\": {\"keepalive_ms\": $KA, \"warntime_ms\": $WARN, \"deadtime_ms\": $DEAD, \"ping_interval_ms\": 200}, \"ping_nodes\": [\"$(lab_addr p 0)\"]}}"

# A small raw-socket tool: capture n2's heartbeats at n1, send datagrams as n2.
cp "$HHA_SRCDIR/tests/e2e/net-hbtool.py" "$LAB_DIR/hbtool.py"
hbtool() { python3 "$LAB_DIR/hbtool.py" "$@"; }

lab_hhad_start n1 && lab_hhad_start n2 || { echo "FAIL: hhad does not start"; exit 1; }
lab_ctl n1 events net --json >"$LAB_DIR/events" 2>/dev/null &
evpid=$!
check "n1 sees n2 up" lab_wait_for 5 state_is up
check "  ...on both links" lab_wait_for 2 eval 'link_is 0 up && link_is 1 up'
inc1=$(peer .incarnation)
a20=$(lab_addr n2 0) a21=$(lab_addr n2 1) a10=$(lab_addr n1 0) a11=$(lab_addr n1 1)

# -- ping nodes: each node publishes how many it reaches --------------------------
reached() { [ "$(lab_tool "$1" hha-net ping-nodes --json | jq -r .reached)" = "$2" ]; }
check "n1 reaches its ping node" lab_wait_for 3 reached n1 1
check "n2's heartbeats say it reaches its ping node" lab_wait_for 3 eval '[ "$(peer .ping_reached)" = 1 ]'
lab_cut n1 p
check "cut from the ping node, n1 reaches none" lab_wait_for 3 reached n1 0
check "  ...and n2 still reaches it" lab_wait_for 3 eval '[ "$(peer .ping_reached)" = 1 ]'
lab_heal n1 p
check "healed, n1 reaches it again" lab_wait_for 3 reached n1 1

# -- hostile datagrams while n2 is alive ------------------------------------
lab_exec n1 python3 "$LAB_DIR/hbtool.py" capture "$LAB_DIR/cap" 1 "eth0=$a20" "eth1=$a21"
check "captured n2's heartbeats on both links" [ "$(grep -c . "$LAB_DIR/cap")" -ge 6 ]
genuine=$(grep '^eth0 ' "$LAB_DIR/cap" | tail -1 | cut -d' ' -f2)
before=$(members)
forged=$(hbtool forge "$genuine")
lab_exec n2 python3 "$LAB_DIR/hbtool.py" send "$a20" "$a10" "$forged" "${genuine:0:100}" \
	"${genuine%??}" "$(printf 'ab%.0s' $(seq 2000))" $(grep '^eth0 ' "$LAB_DIR/cap" | cut -d' ' -f2)
sleep 0.3
after=$(members)
d() { echo $(( $(jq -r ".counters.$1" <<<"$after") - $(jq -r ".counters.$1" <<<"$before") )); }
check "forged datagram (wrong key) dropped and counted as bad_mac" [ "$(d bad_mac)" -ge 1 ]
check "truncated and oversized datagrams counted as malformed" [ "$(d malformed)" -ge 3 ]
check "replayed genuine datagrams counted as replay" [ "$(d replay)" -ge 3 ]
check "n2's incarnation unchanged by the forged one" [ "$(peer .incarnation)" = "$inc1" ]
check "n2 still up" state_is up

# -- one link cut: still up; both: dead; heal: up ------------------------------
lab_cut n1 n2 --link 1
sleep $(( (DEAD + 500) / 1000 )).5
check "one of two links cut: n2 is still up" state_is up
check "  ...link 1 is dead" link_is 1 dead
lab_cut n1 n2 --link 0
check "both links cut: n2 is dead" lab_wait_for 2 state_is dead
lab_heal
check "healed: n2 is up again" lab_wait_for 2 state_is up
check "  ...on both links" lab_wait_for 2 eval 'link_is 0 up && link_is 1 up'

# -- carrier loss: link marked down at once -------------------------------------
t=$(now_ms)
lab_link_down n1 1
check "carrier lost on n1's eth1: link 1 down at once" lab_wait_for 0.5 link_is 1 down
check "  ...n2 still up on link 0" state_is up
lab_link_up n1 1
check "carrier back: link 1 up again" lab_wait_for 3 link_is 1 up

# -- crash: late then dead in time; replay does not revive -------------------------
lab_exec n1 python3 "$LAB_DIR/hbtool.py" capture "$LAB_DIR/cap2" 0.6 "eth0=$a20" "eth1=$a21"
t0=$(now_ms)
lab_crash n2
check "crashed n2 is dead" lab_wait_for 3 state_is dead
late=$(event_at late "$t0") dead=$(event_at dead "$t0")
echo "# crash at $t0: late after $((late - t0)) ms, dead after $((dead - t0)) ms (deadtime $DEAD, keepalive $KA)"
check "late within warntime + keepalive (+${TOL} ms)" [ -n "$late" ] && [ $((late - t0)) -le $((WARN + KA + TOL)) ]
check "dead within deadtime + keepalive (+${TOL} ms)" [ -n "$dead" ] && [ $((dead - t0)) -le $((DEAD + KA + TOL)) ]
check "dead not before deadtime - keepalive (-100 ms of jitter)" [ -n "$dead" ] && [ $((dead - t0)) -ge $((DEAD - KA - 100)) ]
# Its links come back (no hhad): replay everything captured, as n2, on both links.
lab_link_up n2 0 && lab_link_up n2 1
rp0=$(counter replay)
lab_exec n2 python3 "$LAB_DIR/hbtool.py" send "$a20" "$a10" $(grep '^eth0 ' "$LAB_DIR/cap2" | cut -d' ' -f2)
lab_exec n2 python3 "$LAB_DIR/hbtool.py" send "$a21" "$a11" $(grep '^eth1 ' "$LAB_DIR/cap2" | cut -d' ' -f2)
sleep 0.3
check "replayed captures counted" [ $(( $(counter replay) - rp0 )) -ge 4 ]
check "replayed captures do not revive n2" state_is dead

# -- restart: a new incarnation ------------------------------------------------------
lab_restart n2
lab_hhad_start n2 || not_ok "hhad restarts on n2"
check "restarted n2 is up again" lab_wait_for 5 state_is up
inc2=$(peer .incarnation)
check "with a larger incarnation ($inc1 -> $inc2)" [ "$inc2" -gt "$inc1" ]
check "the event says it restarted" \
	quiet jq -se 'map(select(.event == "net.member" and .data.restarted)) | length >= 1' "$LAB_DIR/events"
check "a clean stop is seen at once (goodbye)" eval 'lab_hhad_stop n2 && lab_wait_for 0.5 state_is dead'
kill "$evpid" 2>/dev/null
wait "$evpid" 2>/dev/null

# -- replay after OUR restart: the capture echoes n1's previous incarnation ----------
lab_hhad_start n2 || not_ok "hhad starts again on n2"
check "n2 is up again" lab_wait_for 5 state_is up
lab_exec n1 python3 "$LAB_DIR/hbtool.py" capture "$LAB_DIR/cap3" 0.6 "eth0=$a20" "eth1=$a21"
# n1 restarts: its replay windows start empty, and the capture's rounds are newer
# than anything n1 will refuse by age (n2 is stopped within 64 rounds of it).
lab_hhad_stop n1
lab_hhad_start n1 || not_ok "hhad restarts on n1"
check "restarted n1 sees n2 up" lab_wait_for 3 state_is up
lab_hhad_kill n2
check "n2 stopped for good (SIGKILL, no goodbye): dead at n1" lab_wait_for 3 state_is dead
se0=$(counter stale_echo) acc0=$(counter accepted)
lab_exec n2 python3 "$LAB_DIR/hbtool.py" send "$a20" "$a10" $(grep '^eth0 ' "$LAB_DIR/cap3" | cut -d' ' -f2)
lab_exec n2 python3 "$LAB_DIR/hbtool.py" send "$a21" "$a11" $(grep '^eth1 ' "$LAB_DIR/cap3" | cut -d' ' -f2)
sleep 0.3
echo "# replayed $(grep -c . "$LAB_DIR/cap3") datagrams; stale_echo +$(( $(counter stale_echo) - se0 )), accepted +$(( $(counter accepted) - acc0 ))"
check "a capture from before n1's restart is refused as stale_echo" [ $(( $(counter stale_echo) - se0 )) -ge 4 ]
check "  ...none of it is accepted" [ "$(counter accepted)" = "$acc0" ]
check "  ...and n2 stays dead" state_is dead

finish
