#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of faults and bad input: a frozen peer is declared gone
# within the timeout while the primary goes on, and reconnects and resyncs
# after the thaw; a wrong shared secret, a wrong resource name, a size
# mismatch (then an explicit size that fits both), garbage on the peer port
# and on the NBD socket, out-of-range NBD requests and a second primary each
# give their clear error, and hhad keeps serving throughout; `connect` without
# addresses reconnects with the last used ones.
set -u
. "$(dirname "$0")/disk-lib.sh"

disk_lab_up
alive() { lab_ctl "$1" status >/dev/null 2>&1; }
log_has() { grep -q -- "$2" "$LAB_DIR/$1/hhad.log"; }

# -- a frozen peer ----------------------------------------------------------
disk_pair r0 64M 7800 --timeout 2000 --ping-int 300 --connect-int 300 || { echo "FAIL: pair"; exit 1; }
dk n1 r0 wait-connect -t 10 >/dev/null
dk n1 r0 primary --force >/dev/null
check "r0 in sync" dk n1 r0 wait-sync -t 30
evpid=$(lab_tool_bg n1 "$LAB_DIR/events.log" hha-disk --json events)
evpid_h=$(lab_tool_bg n1 "$LAB_DIR/events-h.log" hha-disk r0 events)
sleep 0.3
lab_freeze n2
t0=$(date +%s%N)
check "n1 declares the frozen peer gone (WFConnection)" \
	lab_wait_json 8 '.connection == "WFConnection"' lab_tool n1 hha-disk --json r0 status
ms=$((($(date +%s%N) - t0) / 1000000))
check "... within the 2000 ms timeout plus a ping interval (${ms} ms)" [ "$ms" -le 3500 ]
check "the primary goes on writing alone" \
	lab_exec n1 bash -c "head -c 8M /dev/urandom | nbdcopy - '$(disk_uri n1 r0)'"
check "what the peer misses is marked out of sync" [ "$(disk_state n1 r0 .out_of_sync)" -gt 0 ]
lab_thaw n2
check "after the thaw the peer reconnects and resyncs" dk n1 r0 wait-sync -t 30
check "both stores identical after the resync" disk_same r0
kill "$evpid" "$evpid_h" 2>/dev/null
check "events --json reported the loss of the peer" \
	jqt -s 'any(.[]; .event == "disk.peer-lost" and .data.resource == "r0")' "$LAB_DIR/events.log"
check "... the reconnection and the resync" \
	jqt -s 'any(.[]; .event == "disk.sync-done") and any(.[]; .data.connection == "SyncSource")' "$LAB_DIR/events.log"

# -- connect without addresses: the last used ones (like drbdadm connect) -------
check "disconnect on n2" dk n2 r0 disconnect
dk n2 r0 connect "$(lab_addr n2):7800" 2>"$LAB_DIR/connect.err"
check "connect with LOCAL but no REMOTE is refused (exit 2)" [ $? = 2 ]
dk n2 r0 connect --protocol A 2>"$LAB_DIR/connect.err"
check "connection settings without addresses are refused" [ $? != 0 ] && grep -q "need LOCAL and REMOTE" "$LAB_DIR/connect.err"
check "connect alone reconnects with the last used addresses" dk n2 r0 connect
check "... and the pair is connected again" dk n1 r0 wait-connect -t 10
check "events for people: one line each, with the states" \
	grep -q '^disk.state r0 WFConnection Primary/' "$LAB_DIR/events-h.log"

# -- a second primary -------------------------------------------------------
check_rc "a second primary is refused (exit 8)" 8 dk n2 r0 primary
check "its message names the reason" grep -q 'peer is primary' <<<"$(dk n2 r0 primary 2>&1)"

# -- wrong shared secret ----------------------------------------------------
head -c 32 /dev/urandom | base64 >"$LAB_DIR/other.key"
chmod 600 "$LAB_DIR/other.key"
for h in n1 n2; do
	b=$(disk_backing "$h" r1 16M)
	dk "$h" r1 create-md "$b" >/dev/null && dk "$h" r1 attach "$b" --no-export
done
dk n1 r1 connect "$(lab_addr n1):7801" "$(lab_addr n2):7801" --connect-int 300 >/dev/null
dk n2 r1 connect "$(lab_addr n2):7801" "$(lab_addr n1):7801" --connect-int 300 --key-file "$LAB_DIR/other.key" >/dev/null
check "wrong secret: n1 logs the authentication failure" \
	lab_wait_for 5 log_has n1 'r1: peer .*authentication failed'
check "wrong secret: n2 logs it too" lab_wait_for 5 log_has n2 'r1: peer .*authentication failed'
check "wrong secret: both keep trying (WFConnection)" \
	[ "$(disk_state n1 r1 .connection)/$(disk_state n2 r1 .connection)" = WFConnection/WFConnection ]
check "wrong secret: status says why" jqt '.last_refusal | test("authentication")' <<<"$(dk n1 --json r1 status)"
chmod 644 "$LAB_DIR/other.key"
dk n2 r1 disconnect >/dev/null
check "a world-readable key file is refused, saying why" grep -q 'other users' \
	<<<"$(dk n2 r1 connect "$(lab_addr n2):7801" "$(lab_addr n1):7801" --key-file "$LAB_DIR/other.key" 2>&1)"
chmod 600 "$LAB_DIR/other.key"
dk n1 r1 down >/dev/null
dk n2 r1 down >/dev/null

# -- wrong resource name ----------------------------------------------------
for h in n1 n2; do
	[ $h = n1 ] && r=r2 || r=r3
	b=$(disk_backing "$h" $r 16M)
	dk "$h" $r create-md "$b" >/dev/null && dk "$h" $r attach "$b" --no-export
done
dk n1 r2 connect "$(lab_addr n1):7802" "$(lab_addr n2):7802" --connect-int 300 >/dev/null
dk n2 r3 connect "$(lab_addr n2):7802" "$(lab_addr n1):7802" --connect-int 300 >/dev/null
check "wrong name: n1 logs the peer's resource name" lab_wait_for 5 log_has n1 "resource is \`r3', ours is \`r2'"
check "wrong name: n2 logs it too" lab_wait_for 5 log_has n2 "resource is \`r2', ours is \`r3'"
dk n1 r2 down >/dev/null
dk n2 r3 down >/dev/null

# -- size mismatch, then an explicit size that fits both ---------------------
b1=$(disk_backing n1 r4 64M) b2=$(disk_backing n2 r4 32M)
dk n1 r4 create-md "$b1" >/dev/null && dk n1 r4 attach "$b1" --no-export
dk n2 r4 create-md "$b2" >/dev/null && dk n2 r4 attach "$b2" --no-export
dk n1 r4 connect "$(lab_addr n1):7804" "$(lab_addr n2):7804" --connect-int 300 >/dev/null
dk n2 r4 connect "$(lab_addr n2):7804" "$(lab_addr n1):7804" --connect-int 300 >/dev/null
check "size mismatch: refused for good on n1 (StandAlone)" \
	lab_wait_json 5 '.connection == "StandAlone" and (.last_refusal | test("size mismatch"))' \
	lab_tool n1 hha-disk --json r4 status
check "size mismatch: refused on n2 too" \
	lab_wait_json 5 '.connection == "StandAlone" and (.last_refusal | test("size mismatch"))' \
	lab_tool n2 hha-disk --json r4 status
small=$(disk_size n2 r4)
dk n1 r4 detach >/dev/null
check "attach --size with the smaller size" dk n1 r4 attach "$b1" --no-export --size "$small"
dk n1 r4 connect "$(lab_addr n1):7804" "$(lab_addr n2):7804" --connect-int 300 >/dev/null
dk n2 r4 connect "$(lab_addr n2):7804" "$(lab_addr n1):7804" --connect-int 300 >/dev/null
check "with an explicit size that fits both, they connect" dk n1 r4 wait-connect -t 10
dk n1 r4 down >/dev/null
dk n2 r4 down >/dev/null

# -- garbage on the peer port and on the NBD socket -------------------------
lab_exec n2 bash -c "head -c 65536 /dev/urandom >/dev/tcp/$(lab_addr n1)/7800" 2>/dev/null
lab_exec n2 bash -c "printf 'GET / HTTP/1.0\r\n\r\n' >/dev/tcp/$(lab_addr n1)/7800" 2>/dev/null
check "garbage on the peer port is logged" lab_wait_for 5 log_has n1 'r0: peer .*not our protocol'
check "the established link is untouched" [ "$(disk_state n1 r0 .connection)" = Connected ]
python3 -c "
import socket, os
s = socket.socket(socket.AF_UNIX); s.connect('$LAB_DIR/n1/run/r0.nbd')
s.recv(18); s.sendall(os.urandom(4096)); s.close()" 2>/dev/null
check "after garbage on the NBD socket the export still serves" lab_exec n1 nbdinfo "$(disk_uri n1 r0)"

# -- out-of-range NBD requests -----------------------------------------------
out=$(python3 "$(dirname "$0")/disk-nbd-raw.py" "$LAB_DIR/n1/run/r0.nbd" r0 2>&1)
echo "$out" | sed 's/^/# /'
check "a read past the end gets EINVAL (22)" grep -q '^read-past-end error=22' <<<"$out"
check "a read straddling the end gets EINVAL" grep -q '^read-straddling-end error=22' <<<"$out"
check "a write past the end gets ENOSPC (28)" grep -q '^write-past-end error=28' <<<"$out"
check "a misaligned read gets EINVAL" grep -q '^read-misaligned error=22' <<<"$out"
check "a trim past the end gets EINVAL" grep -q '^trim-past-end error=22' <<<"$out"
check "the connection goes on after each (5 valid reads answered)" \
	[ "$(grep -c '^valid-read error=0' <<<"$out")" = 5 ]

# -- a secondary's export in read-only mode ----------------------------------
for h in n1 n2; do
	[ $h = n1 ] && peer=n2 || peer=n1
	b=$(disk_backing "$h" r6 16M)
	dk "$h" r6 create-md "$b" >/dev/null
	if [ $h = n2 ]; then dk n2 r6 attach "$b" --export-secondary read-only >/dev/null
	else dk n1 r6 attach "$b" >/dev/null; fi
	dk "$h" r6 connect "$(lab_addr $h):7806" "$(lab_addr $peer):7806" --connect-int 300 >/dev/null
done
dk n1 r6 wait-connect -t 10 >/dev/null && dk n1 r6 primary --force >/dev/null
lab_exec n1 qemu-io -f raw -c "write -P 0x5a 0 64k" "$(disk_uri n1 r6)" >/dev/null
check "r6 in sync" dk n1 r6 wait-sync -t 30
check "a read-only secondary export serves clients, read-only" \
	grep -q 'is_read_only: true' <<<"$(lab_exec n2 nbdinfo "$(disk_uri n2 r6)")"
check "... reads the secondary's copy" \
	grep -q 'read 65536/65536' <<<"$(lab_exec n2 qemu-io -r -f raw -c 'read -P 0x5a 0 64k' "$(disk_uri n2 r6)" 2>&1)"
check "... and refuses writes" not lab_exec n2 qemu-io -f raw -c "write -P 0 0 4k" "$(disk_uri n2 r6)"
dk n1 r6 secondary >/dev/null

check "hhad on n1 still serves" alive n1
check "hhad on n2 still serves" alive n2
check "r0 still in sync" dk n1 r0 wait-sync -t 10
dk n1 r0 secondary >/dev/null
disk_finish
