#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of a failing local disk, with a backing store that fails
# on demand (nbdkit's error filter behind nbdfuse: every request fails while
# a trigger file exists):
#   - the primary's disk fails: it detaches it and serves the export from
#     the peer's disk (a Diskless primary): reads and writes go on, status
#     and events say so;
#   - the secondary's disk fails: it detaches it, the primary marks what it
#     misses; after the disk is back (re-attached) a bitmap resync makes the
#     pair identical;
#   - on_io_error = pass-on: the client gets the error, the disk stays.
set -u
fuses=()
cleanup_fuse() { local m; for m in "${fuses[@]}"; do fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; done; }
trap cleanup_fuse EXIT
. "$(dirname "$0")/disk-lib.sh"

disk_lab_up
# errdisk HOST NAME SIZE: a file that fails while $LAB_DIR/HOST/NAME.fail
# exists; its path in $errpath (not printed: a command substitution would
# wait for nbdfuse, which keeps its output open).
errdisk() {
	local h=$1 n=$2 d="$LAB_DIR/$1"
	truncate -s "$3" "$d/$n.img"
	mkdir -p "$d/$n.fuse"
	lab_bg "$h" "$d/$n.disk.log" nbdkit -f -U "$d/$n.sock" --filter=error file "$d/$n.img" \
		error-rate=100% error-file="$d/$n.fail" >/dev/null
	lab_wait_for 5 test -S "$d/$n.sock" || return 1
	lab_bg "$h" "$d/$n.disk.log" nbdfuse -P "$d/$n.fpid" "$d/$n.fuse/disk" --unix "$d/$n.sock" >/dev/null
	fuses+=("$d/$n.fuse")
	lab_wait_for 5 test -s "$d/$n.fpid" || return 1
	errpath="$d/$n.fuse/disk"
}
pair() { # RES PORT FAILING-HOST
	local r=$1 p=$2 h peer b
	for h in n1 n2; do
		[ $h = n1 ] && peer=n2 || peer=n1
		if [ $h = "$3" ]; then errdisk $h $r 64M || return 1; b=$errpath; else b=$(disk_backing $h $r 64M); fi
		echo "$b" >"$LAB_DIR/$h/$r.path"
		dk $h $r create-md "$b" >/dev/null && dk $h $r attach "$b" >/dev/null &&
			dk $h $r connect "$(lab_addr $h):$p" "$(lab_addr $peer):$p" --timeout 1000 --ping-int 200 \
			--connect-int 200 >/dev/null || return 1
	done
	dk n1 $r wait-connect -t 10 >/dev/null && dk n1 $r skip-sync >/dev/null && dk n1 $r primary >/dev/null
}
qio() { lab_exec n1 qemu-io -f raw -c "$2" "$(disk_uri n1 "$1")" 2>&1; }
evpid=$(lab_tool_bg n1 "$LAB_DIR/events.log" hha-disk --json events)

# -- the primary's disk fails -------------------------------------------------
pair r0 7800 n1 || { echo "FAIL: r0"; exit 1; }
check "r0 in sync" dk n1 r0 wait-sync -t 10
qio r0 "write -P 0x61 0 64k" >/dev/null
touch "$LAB_DIR/n1/r0.fail"
# (A block never touched: not in the page cache of the FUSE file, so the read reaches the failing disk.)
check "a read after the disk failed is answered (from the peer's copy)" \
	grep -q 'read 65536/65536' <<<"$(qio r0 'read -P 0 32M 64k')"
check "n1 is a Diskless primary" \
	lab_wait_json 5 '.disk == "Diskless" and .role == "Primary" and .diskless_primary' lab_tool n1 hha-disk --json r0 status
check "what was written before is read back" grep -q 'read 65536/65536' <<<"$(qio r0 'read -P 0x61 0 64k')"
check "writes go on" grep -q 'wrote 65536/65536' <<<"$(qio r0 'write -P 0x62 1M 64k')"
check "... and read back from the peer" grep -q 'read 65536/65536' <<<"$(qio r0 'read -P 0x62 1M 64k')"
check "they are on n2's store" [ "$(od -An -tx1 -j 1048576 -N1 "$LAB_DIR/n2/r0.img" | tr -d ' ')" = 62 ]
check "a flush works" grep -q 'flush' <<<"$(lab_exec n1 qemu-io -f raw -c flush "$(disk_uri n1 r0)" 2>&1; echo flush)"
check "status for people says diskless" grep -q 'diskless' <<<"$(dk n1 r0 status)"
check "the event disk.io-error was sent" lab_wait_for 5 \
	jqt -s 'any(.[]; .event == "disk.io-error" and (.data.message | test("Diskless primary")))' "$LAB_DIR/events.log"
dk n1 r0 secondary >/dev/null

# -- the secondary's disk fails -----------------------------------------------
pair r1 7801 n2 || { echo "FAIL: r1"; exit 1; }
check "r1 in sync" dk n1 r1 wait-sync -t 10
touch "$LAB_DIR/n2/r1.fail"
check "writes through n1 succeed while n2's disk fails" grep -q 'wrote' <<<"$(qio r1 'write -P 0x71 0 256k')"
check "n2 detached its disk" lab_wait_json 5 '.disk == "Diskless"' lab_tool n2 hha-disk --json r1 status
check "n1 marks what n2 misses" lab_wait_json 5 '.out_of_sync > 0 and .peer_disk == "Diskless"' lab_tool n1 hha-disk --json r1 status
qio r1 "write -P 0x72 1M 256k" >/dev/null
rm -f "$LAB_DIR/n2/r1.fail"
# The disk is back: the operator re-attaches it.
dk n2 r1 disconnect >/dev/null
check "the failed disk can be detached" dk n2 r1 detach
dk n2 r1 attach "$(cat "$LAB_DIR/n2/r1.path")" >/dev/null
dk n2 r1 connect "$(lab_addr n2):7801" "$(lab_addr n1):7801" --timeout 1000 --ping-int 200 --connect-int 200 >/dev/null
check "after re-attaching, in sync again" dk n1 r1 wait-sync -t 30
moved=$(disk_state n1 r1 .resynced)
check "by a bitmap resync ($((moved >> 10)) KiB, not the whole 64 MiB)" [ "$moved" -lt $((8 << 20)) ]
lab_exec n2 python3 -c "import os,sys; os.fsync(os.open(sys.argv[1], os.O_RDWR))" "$(cat "$LAB_DIR/n2/r1.path")"
check "identical" disk_same r1
dk n1 r1 secondary >/dev/null

# -- pass-on --------------------------------------------------------------------
errdisk n1 r2 64M || { echo "FAIL: r2"; exit 1; }
b=$errpath
for h in n1 n2; do [ $h = n2 ] && b=$(disk_backing n2 r2 64M); dk $h r2 create-md "$b" >/dev/null; done
lab_config_merge "{\"resources\": {\"r2\": {\"port\": 7802, \"connect_int_ms\": 200, \"on_io_error\": \"pass-on\",
	\"on\": {\"n1\": {\"backing\": \"$LAB_DIR/n1/r2.fuse/disk\"}, \"n2\": {\"backing\": \"$LAB_DIR/n2/r2.img\"}}}}}"
lab_ctl n1 reload >/dev/null && lab_ctl n2 reload >/dev/null
dk n1 r2 wait-connect -t 10 >/dev/null && dk n1 r2 skip-sync >/dev/null && dk n1 r2 primary >/dev/null
touch "$LAB_DIR/n1/r2.fail"
check "pass-on: the client's write fails" not grep -q 'wrote' <<<"$(qio r2 'write -P 0x81 0 64k')"
check "pass-on: the disk stays attached" [ "$(disk_state n1 r2 .disk)" = UpToDate ]
rm -f "$LAB_DIR/n1/r2.fail"
check "pass-on: once the disk works again, so do writes" grep -q 'wrote 65536/65536' <<<"$(qio r2 'write -P 0x82 0 64k')"
dk n1 r2 secondary >/dev/null
kill "$evpid" 2>/dev/null
disk_finish
