#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of online resize under trouble, on two nodes with
# membership heartbeats (deadtime 1 s):
#  - a peer that answers RESIZE 2.5 s late (test hook HHA_TEST_RESIZE_DELAY_MS
#    in n2's hhad): the resize succeeds, and meanwhile n1's hhad keeps its
#    loop running: `hha-ctl status' on n1 answers in < 500 ms every time
#    and n2 never sees n1 late or dead (members polled, net events logged);
#  - a resize cut between the two growths (test hook HHA_TEST_RESIZE_STOP=
#    before-grow in n1's hhad, then kill -9 of n1's hhad right after n2
#    grew): at the restart the handshake settles both on the new size, only
#    the grown area (plus the crashed primary's activity-log extent) is
#    resynced, and both stores end identical.
set -u
. "$(dirname "$0")/disk-lib.sh"

lab_up 2 || { echo "FAIL: lab_up"; exit 1; }
lab_config_merge '{"cluster": {"heartbeat": {"keepalive_ms": 200, "warntime_ms": 600, "deadtime_ms": 1000}}}'
lab_hhad_start n1 || { echo "FAIL: hhad n1"; exit 1; }
export HHA_TEST_RESIZE_DELAY_MS=2500
lab_hhad_start n2 || { echo "FAIL: hhad n2"; exit 1; }
unset HHA_TEST_RESIZE_DELAY_MS

n1_state() { lab_tool n2 hha-net members --json | jq -r '.peers[] | select(.node == "n1") | .state'; }
resynced() { disk_state "$1" "$2" .resynced; }
ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
up() { # HOST: attach and connect r0
	local h=$1 peer
	[ "$h" = n1 ] && peer=n2 || peer=n1
	dk "$h" r0 attach "$LAB_DIR/$h/r0.img" >/dev/null &&
		dk "$h" r0 connect "$(lab_addr "$h"):7812" "$(lab_addr $peer):7812" --connect-int 200 >/dev/null
}
check "membership: n2 sees n1 up" lab_wait_for 10 eval '[ "$(n1_state)" = up ]'

for h in n1 n2; do
	b=$(disk_backing "$h" r0 64M)
	dk "$h" r0 create-md "$b" >/dev/null || { echo "FAIL: create-md"; exit 1; }
done
up n1 && up n2 || { echo "FAIL: pair"; exit 1; }
dk n1 r0 wait-connect -t 10 >/dev/null
dk n1 r0 skip-sync >/dev/null && dk n1 r0 primary >/dev/null
check "in sync" dk n1 r0 wait-sync -t 10
size=$(disk_size n1 r0)

# -- 1. a slow peer: the loop goes on ----------------------------------------
evpid=$(lab_tool_bg n2 "$LAB_DIR/n2/net-events.jsonl" hha-ctl events net --json)
sleep 0.3
truncate -s +32M "$LAB_DIR/n1/r0.img" "$LAB_DIR/n2/r0.img"
t0=$(ms)
dk n1 r0 resize >"$LAB_DIR/resize.out" 2>&1 &
rpid=$!
worst=0 states="" polls=0
while kill -0 "$rpid" 2>/dev/null; do
	a=$(ms)
	lab_ctl n1 status >/dev/null 2>&1 || worst=99999
	d=$(($(ms) - a))
	[ "$d" -gt "$worst" ] && worst=$d
	states="$states $(n1_state)"
	polls=$((polls + 1))
	sleep 0.1
done
wait "$rpid"
rc=$? took=$(($(ms) - t0))
sleep 0.5
kill "$evpid" 2>/dev/null
check "resize with a peer that answers 2.5 s late succeeds (exit $rc)" [ "$rc" = 0 ]
check "  ...and took that long (${took} ms): the exchange really was slow" [ "$took" -ge 2500 ]
check "  ...the answer is the new status" jqt '.size > '"$size" <(dk n1 --json r0 status)
check "hha-ctl status on n1 answered within 500 ms throughout ($polls polls, worst ${worst} ms)" \
	[ "$polls" -ge 10 ] && [ "$worst" -lt 500 ]
check "n2 saw n1 up at every poll" [ -z "$(tr ' ' '\n' <<<"$states" | grep -v '^up$' | grep .)" ]
check "  ...and no net.member event put n1 late or dead" \
	not jqt -s 'any(.[]; .event == "net.member" and .data.node == "n1" and (.data.state == "late" or .data.state == "dead"))' \
	"$LAB_DIR/n2/net-events.jsonl"
check "n2's hook really delayed it" grep -q "HHA_TEST_RESIZE_DELAY_MS: answering RESIZE in 2500 ms" "$LAB_DIR/n2/hhad.log"
check "in sync" dk n1 r0 wait-sync -t 30
size=$(disk_size n1 r0)
check "both at the new size" [ "$(disk_size n2 r0)" = "$size" ]
check "both stores identical" disk_same r0

# -- 2. kill -9 of the primary between the two growths ------------------------
dk n1 r0 secondary >/dev/null
lab_hhad_stop n1
export HHA_TEST_RESIZE_STOP=before-grow
lab_hhad_start n1 || not_ok "hhad n1 with the stop hook"
unset HHA_TEST_RESIZE_STOP
up n1 || not_ok "n1 up again"
check "reconnected" dk n1 r0 wait-sync -t 10
dk n1 r0 primary >/dev/null
lab_exec n1 qemu-io -f raw -c "write -P 0x6b 0 65536" "$(disk_uri n1 r0)" >/dev/null
truncate -s +32M "$LAB_DIR/n1/r0.img" "$LAB_DIR/n2/r0.img"
before=$(resynced n2 r0)
dk n1 r0 resize >"$LAB_DIR/resize2.out" 2>&1 &
rpid=$!
check "n2 grew" lab_wait_for 10 eval '[ "$(disk_size n2 r0)" -gt '"$size"' ]'
new=$(disk_size n2 r0)
check "n1 stopped before growing (test hook)" lab_wait_for 5 grep -q "HHA_TEST_RESIZE_STOP=before-grow" "$LAB_DIR/n1/hhad.log"
lab_hhad_kill n1
wait "$rpid" 2>/dev/null
lab_hhad_start n1 || not_ok "hhad n1 restart"
dk n1 r0 attach "$LAB_DIR/n1/r0.img" >/dev/null || not_ok "n1 attaches again"
check "n1's metadata still has the old size ($size)" [ "$(disk_size n1 r0)" = "$size" ]
dk n1 r0 connect "$(lab_addr n1):7812" "$(lab_addr n2):7812" --connect-int 200 >/dev/null
check "the reconnect is not refused: in sync" dk n1 r0 wait-sync -t 30
check "  ...n1 settled on n2's size" [ "$(disk_size n1 r0)" = "$new" ] && [ "$(disk_size n2 r0)" = "$new" ]
check "  ...and said so" grep -q "finishing an interrupted resize" "$LAB_DIR/n1/hhad.log"
moved=$(($(resynced n2 r0) - before))
grown=$((new - size))
check "resynced $((moved >> 10)) KiB: the $((grown >> 10)) KiB grown, plus at most the crashed primary's one 4 MiB log extent" \
	[ "$moved" -ge "$grown" ] && [ "$moved" -le $((grown + (4 << 20))) ]
check "both stores identical" disk_same r0
check "the data written before the crash is there" \
	lab_exec n2 qemu-io -f raw -c "read -P 0x6b 0 65536" "$LAB_DIR/n2/r0.img"
disk_finish
