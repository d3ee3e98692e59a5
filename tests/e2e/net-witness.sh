#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Two nodes and a witness (hhad with membership only, `witness: true`), as
# docs/witness-lease.md promises: the witness is listed with its role; it
# grants nothing during its quiet period after start; then the lease goes to
# one node at a time and is renewed for the holder only; a witness cut off
# from both nodes costs no node the membership of the other (and the holder
# loses its lease after the lease time, by design); when the holder dies,
# the other node gets the lease only after the old lease has expired, within
# lease + margin + two keepalives.
set -u

. "$(dirname "$0")/net-common.sh" python3
members() { lab_tool "$1" hha-net members --json; }
peer_of() { members "$1" | jq -r ".peers[] | select(.node == \"$2\") | $3"; }
lease() { lab_tool "$1" hha-net lease --json | jq -r ".$2"; }
held() { [ "$(lease "$1" held)" = true ]; }
now_ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }
id_of() { echo "${1#n}"; }
# Epochs are 64-bit (the witness's incarnation in the top bits): beyond jq's doubles.
epoch_of() { lab_tool "$1" hha-net lease | sed -n 's/.*epoch \([0-9]*\).*/\1/p'; }
bad_events() { cat "$LAB_DIR/ev-n1" "$LAB_DIR/ev-n2" | jq -s '[.[] | select(.event == "net.member" and
	(.data.node == "n1" or .data.node == "n2") and (.data.state == "late" or .data.state == "dead"))] | length'; }

KA=100 DEAD=500 LEASE=2000 TOL=300
MARGIN=$(( LEASE * 2 * 1000 / 1000000 + 1 ))
lab_up 2 --witness || { echo "FAIL: lab_up"; exit 1; }
lab_config_merge "{\"cluster\": {\"heartbeat\": {\"keepalive_ms\": $KA, \"warntime_ms\": 300, \"deadtime_ms\": $DEAD, \"lease_ms\": $LEASE}}}"
# Before the start: the witness's quiet period begins after this instant,
# however long lab_hhad_start takes to see it ready.
tw=$(now_ms)
lab_hhad_start w || { echo "FAIL: the witness's hhad does not start"; exit 1; }
lab_hhad_start n1 && lab_hhad_start n2 || { echo "FAIL: hhad does not start"; exit 1; }
lab_ctl n1 events net --json >"$LAB_DIR/ev-n1" 2>/dev/null &
ev1=$!
lab_ctl n2 events net --json >"$LAB_DIR/ev-n2" 2>/dev/null &
ev2=$!
all_up() { [ "$(peer_of n1 n2 .state)" = up ] && [ "$(peer_of n1 w .state)" = up ] &&
	[ "$(peer_of n2 w .state)" = up ] && [ "$(peer_of w n1 .state)" = up ] && [ "$(peer_of w n2 .state)" = up ]; }
check "the three see each other up" lab_wait_for 5 all_up
check "n1 lists w as the witness and n2 as a node" \
	eval '[ "$(peer_of n1 w .role)" = witness ] && [ "$(peer_of n1 n2 .role)" = node ]'
check "w knows it is the witness" eval '[ "$(members w | jq -r .role)" = witness ]'
check "the witness's hhad holds no disks or services (membership only)" \
	eval '[ "$(lab_ctl w status --json | jq -r ".modules.disk.resources // [] | length")" = 0 ]'

# -- one holder at a time ---------------------------------------------------------------
lab_tool n1 hha-net lease want && lab_tool n2 hha-net lease want
both=0 first="" samples=0
end=$(( tw + LEASE + 2500 ))
while [ "$(now_ms)" -lt $end ]; do
	h1=$(lease n1 held) h2=$(lease n2 held)
	samples=$((samples + 1))
	[ "$h1" = true ] && [ "$h2" = true ] && both=$((both + 1))
	if [ -z "$first" ] && { [ "$h1" = true ] || [ "$h2" = true ]; }; then
		first=$(now_ms)
		[ "$h1" = true ] && holder=n1 other=n2 || { holder=n2 other=n1; }
	fi
	[ -n "$first" ] && [ "$(now_ms)" -gt $((first + 1000)) ] && break
	sleep 0.05
done
echo "# witness started at $tw; first lease held after $(( ${first:-0} - tw )) ms (quiet period $LEASE + $MARGIN ms)"
check "a lease was granted" [ -n "$first" ]
[ -n "$first" ] || { finish; exit 1; }
check "not during the witness's quiet period" [ $((first - tw)) -ge $LEASE ]
check "never held by both at once ($samples samples)" [ $both = 0 ]
check "the witness names $holder as the holder" [ "$(lease w holder)" = "$(id_of $holder)" ]
check "$other sees $holder as the holder, wants it and does not hold it" \
	eval '[ "$(lease $other holder)" = "$(id_of $holder)" ] && [ "$(lease $other wanted)" = true ] && ! held $other'
epoch=$(epoch_of w)
renewed=0
for i in 1 2 3 4 5; do sleep 0.2; held "$holder" && renewed=$((renewed + 1)); done
check "renewed for the holder ($renewed/5 samples over 1 s, one epoch)" \
	eval '[ $renewed = 5 ] && [ "$(epoch_of w)" = "$epoch" ]'

# -- the witness cut off from both nodes -------------------------------------------------
bad0=$(bad_events)
tc=$(now_ms)
lab_cut w n1 && lab_cut w n2
check "witness cut off: both nodes see it dead" \
	lab_wait_for 3 eval '[ "$(peer_of n1 w .state)" = dead ] && [ "$(peer_of n2 w .state)" = dead ]'
check "  ...the holder loses its lease within the lease time (by design)" \
	lab_wait_for $(( (LEASE + TOL) / 1000 + 1 )) eval '! held $holder'
tl=$(now_ms)
echo "# cut at $tc: lease lost after $((tl - tc)) ms (lease $LEASE ms)"
check "  ...not before the lease time - keepalive" [ $((tl - tc)) -ge $((LEASE - KA - 100)) ]
check "  ...and the nodes still see each other up" \
	eval '[ "$(peer_of n1 n2 .state)" = up ] && [ "$(peer_of n2 n1 .state)" = up ]'
check "  ...with no late or dead event about n1 or n2 on either" [ "$(bad_events)" = "$bad0" ]
lab_heal
check "healed: a node holds the lease again" lab_wait_for $(( (LEASE + TOL) / 1000 + 2 )) eval 'held n1 || held n2'
if held n1; then holder=n1 other=n2; else holder=n2 other=n1; fi

# -- the holder dies: the other gets the lease only after the old one expired --------------
tb=$(now_ms)
vf=$(lease "$holder" valid_for_ms)
old_end=$(( tb + vf ))
t0=$(now_ms)
lab_crash "$holder"
t1=""
while [ "$(now_ms)" -lt $((t0 + LEASE + MARGIN + 2 * KA + 2000)) ]; do
	if held "$other"; then t1=$(now_ms); break; fi
	sleep 0.03
done
echo "# $holder crashed at $t0 (its lease ran until ~$old_end, $((old_end - t0)) ms later);" \
	"$other held the lease after $(( ${t1:-0} - t0 )) ms (lease $LEASE + margin $MARGIN ms, keepalive $KA)"
check "$other gets the lease after the crash" [ -n "$t1" ]
check "  ...only after the old lease expired" [ -n "$t1" ] && [ "$t1" -ge "$old_end" ]
check "  ...not before lease - keepalive ($((LEASE - KA)) ms)" [ -n "$t1" ] && [ $((t1 - t0)) -ge $((LEASE - KA)) ]
# (+1000 ms: the crash itself, polling through hha-net, a 2-core machine
# running two tests at once; the lower bounds above are the safety property,
# this one only says the lease does not stay lost)
check "  ...within lease + margin + 2 keepalives (+1000 ms)" \
	[ -n "$t1" ] && [ $((t1 - t0)) -le $((LEASE + MARGIN + 2 * KA + 1000)) ]
echo "# witness: holder $(lease w holder), epoch $(epoch_of w) (first grant: epoch $epoch)"
check "  ...the witness names it, with a new epoch" \
	eval '[ "$(lease w holder)" = "$(id_of $other)" ] && [ "$(epoch_of w)" != "$epoch" ]'
kill "$ev1" "$ev2" 2>/dev/null
wait "$ev1" "$ev2" 2>/dev/null

finish
