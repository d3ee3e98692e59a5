#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test: a slow backing store on the primary never stalls hhad's
# loop. n1's store is a file on ext4 on a loop device on nbdfuse on nbdkit
# with the pause filter; a "hiccup" loop pauses nbdkit for 2 s, resumes it
# for 0.3 s, again and again (a SAN that stalls: every fdatasync, every
# write-back, every metadata write of n1 waits up to 2 s). Membership
# heartbeats run with a deadtime of 1 s. While the store hiccups:
#  1. a client writes (and flushes) through n1's export;
#  2. the device is resized by 512 MiB (the metadata moves to the new end
#     of n1's store: bitmap, activity log, superblocks, each synced);
# and meanwhile `hha-ctl status' and `hha-disk r0 status' on n1 must answer
#  3. with writes in flight, the replication port is cut (heartbeats
#     still flow) and the store is paused around the link's timeout: n1
#     must persist a new generation id before it answers those writes;
# and meanwhile `hha-ctl status' and `hha-disk r0 status' on n1 must answer
# in < 500 ms at every poll (>= 20 polls each phase), n2 must never see n1
# late or dead (member polls and net.member events). Afterwards both
# stores are identical, and after 3 every acknowledged write is there.
# (nbdkit 1.32's delay filter has no flush delay and cannot be switched at
# run time, and a store behind nbdfuse cannot grow: hence pause + ext4.)
set -u
. "$(dirname "$0")/disk-lib.sh"

lab_up 2 || { echo "FAIL: lab_up"; exit 1; }
lab_config_merge '{"cluster": {"heartbeat": {"keepalive_ms": 200, "warntime_ms": 600, "deadtime_ms": 1000}}}'
lab_hhad_start n1 || { echo "FAIL: hhad n1"; exit 1; }
lab_hhad_start n2 || { echo "FAIL: hhad n2"; exit 1; }

ctl_sock="$LAB_DIR/n1/pause.ctl"
stop_file="$LAB_DIR/hiccup.stop"
# pausectl p|r: pause or resume n1's slow store (waits for nbdkit's echo).
pausectl() {
	python3 - "$ctl_sock" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode())
s.recv(1)
EOF
}
hiccups() { # until $stop_file exists (at most 60 s); always ends resumed
	local end=$((SECONDS + 60))
	while [ ! -e "$stop_file" ] && [ $SECONDS -lt $end ]; do
		pausectl p; sleep 2; pausectl r; sleep 0.3
	done
	pausectl r
}
hpid=""
hiccups_start() { rm -f "$stop_file"; hiccups & hpid=$!; }
hiccups_stop() { [ -n "$hpid" ] && { touch "$stop_file"; wait "$hpid"; hpid=""; }; }

n1_state() { lab_tool n2 hha-net members --json | jq -r '.peers[] | select(.node == "n1") | .state'; }
ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
# poll_loop LABEL MIN [PID]: poll both status verbs on n1 every 0.1 s, at
# least MIN times and while PID lives; sets worst_ctl, worst_dk, polls, states.
poll_loop() {
	local a d
	worst_ctl=0 worst_dk=0 polls=0 states=""
	while [ "$polls" -lt "$2" ] || { [ -n "${3:-}" ] && kill -0 "$3" 2>/dev/null; }; do
		a=$(ms); lab_ctl n1 status >/dev/null 2>&1 || worst_ctl=99999; d=$(($(ms) - a))
		[ "$d" -gt "$worst_ctl" ] && worst_ctl=$d
		a=$(ms); dk n1 r0 status >/dev/null 2>&1 || worst_dk=99999; d=$(($(ms) - a))
		[ "$d" -gt "$worst_dk" ] && worst_dk=$d
		states="$states $(n1_state)"
		polls=$((polls + 1))
		sleep 0.1
		[ "$polls" -ge 600 ] && break
	done
	echo "# $1: $polls polls, worst hha-ctl status ${worst_ctl} ms, worst hha-disk status ${worst_dk} ms"
}
never_late() { [ -z "$(tr ' ' '\n' <<<"$states" | grep -v '^up$' | grep .)" ]; }

check "membership: n2 sees n1 up" lab_wait_for 10 eval '[ "$(n1_state)" = up ]'

# n1's slow store.
truncate -s 2G "$LAB_DIR/n1/slow.img"
lab_bg n1 "$LAB_DIR/n1/nbdkit.log" nbdkit -f -U "$LAB_DIR/n1/slow.sock" --filter=pause \
	file "$LAB_DIR/n1/slow.img" pause-control="$ctl_sock" >/dev/null
lab_wait_for 5 test -S "$LAB_DIR/n1/slow.sock" || { echo "FAIL: nbdkit"; exit 1; }
lab_nbd_mount n1 "$LAB_DIR/n1/slow.sock" "$LAB_DIR/n1/slowfs" mkfs >/dev/null || { echo "FAIL: mount"; exit 1; }
b1="$LAB_DIR/n1/slowfs/r0.img"
truncate -s 64M "$b1"
ln -s "$b1" "$LAB_DIR/n1/r0.img" # for disk_same
b2=$(disk_backing n2 r0 64M)
for h in n1 n2; do
	[ $h = n1 ] && b=$b1 peer=n2 || b=$b2 peer=n1
	dk $h r0 create-md "$b" >/dev/null && dk $h r0 attach "$b" >/dev/null &&
		dk $h r0 connect "$(lab_addr $h):7815" "$(lab_addr $peer):7815" --connect-int 200 >/dev/null ||
		{ echo "FAIL: pair"; exit 1; }
done
dk n1 r0 wait-connect -t 10 >/dev/null && dk n1 r0 skip-sync >/dev/null && dk n1 r0 primary >/dev/null
check "in sync" dk n1 r0 wait-sync -t 10
size=$(disk_size n1 r0)
evpid=$(lab_tool_bg n2 "$LAB_DIR/n2/net-events.jsonl" hha-ctl events net --json)
sleep 0.3

# -- 1. a client writes while the store hiccups -------------------------------
writer() { # 1 MiB writes with a flush each, over the first 32 MiB, for ~8 s
	local i=0 end=$((SECONDS + 8))
	while [ $SECONDS -lt $end ]; do
		lab_exec n1 qemu-io -f raw -c "write -P $((i % 200 + 1)) $(((i % 32) << 20)) 1M" -c flush \
			"$(disk_uri n1 r0)" >/dev/null 2>&1
		i=$((i + 1))
	done
}
hiccups_start
writer & wpid=$!
poll_loop "writes on a hiccuping store" 20 "$wpid"
wait "$wpid"
hiccups_stop
check "writes: hha-ctl status on n1 answered within 500 ms ($polls polls, worst ${worst_ctl} ms)" \
	eval '[ "$polls" -ge 20 ] && [ "$worst_ctl" -lt 500 ]'
check "writes: hha-disk status on n1 answered within 500 ms (worst ${worst_dk} ms)" [ "$worst_dk" -lt 500 ]
check "writes: n2 saw n1 up at every poll" never_late

# -- 2. a resize while the store hiccups -------------------------------------
truncate -s +512M "$b1" "$b2"
hiccups_start
sleep 0.5
t0=$(ms)
dk n1 r0 resize >"$LAB_DIR/resize.out" 2>&1 &
rpid=$!
poll_loop "resize on a hiccuping store" 20 "$rpid"
wait "$rpid"
rc=$? took=$(($(ms) - t0))
echo "# resize took $took ms"
hiccups_stop
check "resize succeeds (exit $rc)" [ "$rc" = 0 ]
check "  ...and it was slow (${took} ms): the store really hiccuped" [ "$took" -ge 1500 ]
check "resize: hha-ctl status on n1 answered within 500 ms ($polls polls, worst ${worst_ctl} ms)" \
	eval '[ "$polls" -ge 20 ] && [ "$worst_ctl" -lt 500 ]'
check "resize: hha-disk status on n1 answered within 500 ms (worst ${worst_dk} ms)" [ "$worst_dk" -lt 500 ]
check "resize: n2 saw n1 up at every poll" never_late
check "in sync" dk n1 r0 wait-sync -t 60
check "both at the new size" eval '[ "$(disk_size n1 r0)" -gt "$size" ] && [ "$(disk_size n2 r0)" = "$(disk_size n1 r0)" ]'
check "both stores identical" disk_same r0

# -- 3. the peer is lost with writes in flight while the store stalls --------
# Only the replication port is cut (heartbeats still flow, so n2's view of
# n1 stays meaningful). n1's writes wait for n2's acknowledgement until the
# link times out (5 s); then n1 must persist a new generation id before it
# answers them, while its store is paused (from 3.5 s to 8.5 s after the
# cut, around the timeout). Every write the client saw succeed must be
# there after the heal.
acked="$LAB_DIR/acked.txt"
: >"$acked"
writer_log() { # like writer, for ~13 s, recording "MiB pattern" of each acknowledged write
	local i=0 p b end=$((SECONDS + 13))
	while [ $SECONDS -lt $end ]; do
		p=$((i % 200 + 1)) b=$((i % 32))
		lab_exec n1 qemu-io -f raw -c "write -P $p $((b << 20)) 1M" -c flush "$(disk_uri n1 r0)" 2>&1 |
			grep -q '^wrote ' && echo "$b $p" >>"$acked"
		i=$((i + 1))
	done
}
stall() { sleep 3.5; pausectl p; sleep 5; pausectl r; }
gen0=$(grep -c 'new generation' "$LAB_DIR/n1/hhad.log")
writer_log & wpid=$!
sleep 1
lab_cut n1 n2 --port 7815 --proto tcp || { echo "FAIL: lab_cut"; exit 1; }
stall & spid=$!
poll_loop "peer lost with writes in flight on a stalled store" 20 "$spid"
wait "$spid"
wait "$wpid"
check "peer lost: n1 made a new generation id" \
	eval '[ "$(grep -c "new generation.*lost the peer" "$LAB_DIR/n1/hhad.log")" -gt 0 ] &&
	[ "$(grep -c "new generation" "$LAB_DIR/n1/hhad.log")" -gt "$gen0" ]'
check "peer lost: hha-ctl status on n1 answered within 500 ms ($polls polls, worst ${worst_ctl} ms)" \
	eval '[ "$polls" -ge 20 ] && [ "$worst_ctl" -lt 500 ]'
check "peer lost: hha-disk status on n1 answered within 500 ms (worst ${worst_dk} ms)" [ "$worst_dk" -lt 500 ]
check "peer lost: n2 saw n1 up at every poll" never_late
check "peer lost: the client's writes succeeded ($(wc -l <"$acked") acknowledged)" [ "$(wc -l <"$acked")" -ge 5 ]
lab_heal
check "after the heal, in sync" dk n1 r0 wait-sync -t 60
check "both stores identical" disk_same r0
lost=0
declare -A last
while read -r b p; do last[$b]=$p; done <"$acked"
for b in "${!last[@]}"; do
	lab_exec n1 qemu-io -f raw -r -c "read -P ${last[$b]} $((b << 20)) 1M" "$(disk_uri n1 r0)" 2>&1 |
		grep -q '^read ' || { lost=$((lost + 1)); echo "# MiB $b: pattern ${last[$b]} not found"; }
done
check "no acknowledged write lost (${#last[@]} MiB checked)" eval '[ "$lost" = 0 ] && [ "${#last[@]}" -gt 0 ]'

sleep 0.5
kill "$evpid" 2>/dev/null
check "no net.member event put n1 late or dead" \
	not jqt -s 'any(.[]; .event == "net.member" and .data.node == "n1" and (.data.state == "late" or .data.state == "dead"))' \
	"$LAB_DIR/n2/net-events.jsonl"
dk n1 r0 secondary >/dev/null
disk_down r0 >/dev/null # closes the store: its filesystem unmounts cleanly
disk_finish
