#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of node crashes, on crash-faithful disks (only what was
# flushed survives) of 512 MiB with an 8-extent activity log (32 MiB):
#   - the primary crashes mid-write and restarts: only its activity log's
#     extents (and what its bitmap marks) are resynced, from it;
#   - the primary crashes while disconnected and writing (its in-memory
#     bitmap is lost), restarts, the link heals: identical;
#   - the primary crashes mid-write, the secondary is promoted and writes,
#     the old primary restarts: it becomes the target, and the resync covers
#     the new primary's bitmap and the old primary's log extents;
#   - the secondary's node reboots while the primary writes: only changed
#     blocks move.
# Every time, both stores end identical.
set -u
. "$(dirname "$0")/disk-lib.sh"

disk_lab_up
opts=(--timeout 1000 --ping-int 200 --connect-int 200)
for h in n1 n2; do
	lab_disk "$h" r0 520M >"$LAB_DIR/$h/backing" || { echo "FAIL: lab_disk"; exit 1; }
	dk "$h" r0 create-md "$(cat "$LAB_DIR/$h/backing")" --al-extents 8 >/dev/null || { echo "FAIL: create-md"; exit 1; }
done

up() {
	local h=$1 peer
	[ "$h" = n1 ] && peer=n2 || peer=n1
	dk "$h" r0 attach "$(cat "$LAB_DIR/$h/backing")" >/dev/null &&
		dk "$h" r0 connect "$(lab_addr "$h"):7800" "$(lab_addr $peer):7800" "${opts[@]}" >/dev/null
}
# A node comes back after a crash: links, disk, hhad, the resource.
reboot() {
	lab_restart "$1" && lab_disk_restart "$1" r0 >/dev/null && lab_hhad_start "$1" && up "$1"
}
resynced() { disk_state "$1" r0 .resynced; }
oos() { disk_state "$1" r0 .out_of_sync; }
# The images hold the same bytes once both disks flushed their caches.
same() {
	local h size
	size=$(disk_size n1 r0)
	for h in n1 n2; do
		lab_exec "$h" python3 -c "import os,sys; fd=os.open(sys.argv[1], os.O_RDWR); os.fsync(fd)" \
			"$(cat "$LAB_DIR/$h/backing")" || return 1
	done
	[ "$(head -c "$size" "$LAB_DIR/n1/r0.img" | sha256sum)" = "$(head -c "$size" "$LAB_DIR/n2/r0.img" | sha256sum)" ] ||
		{ echo "# the stores differ"; return 1; }
}
# Random 4 KiB writes through HOST's export for SECONDS (in the background:
# prints the pid), at most IOPS a second if given.
writer() {
	lab_bg "$1" "$LAB_DIR/fio-$1-$3.log" fio --name=w --ioengine=nbd --uri="$(disk_uri "$1" r0)" \
		--rw=randwrite --bs=4k --iodepth=16 --size="$(disk_size "$1" r0)" --time_based --runtime="$2" \
		--randseed="$3" ${4:+--rate_iops=$4}
}

up n1 && up n2 || { echo "FAIL: pair"; exit 1; }
dk n1 r0 wait-connect -t 10 >/dev/null
dk n1 r0 skip-sync >/dev/null
dk n1 r0 primary >/dev/null
check "primary on n1, in sync" dk n1 r0 wait-sync -t 10

# -- the primary crashes mid-write ------------------------------------------
writer n1 30 1 >/dev/null
sleep 2
lab_crash n1
reboot n1 || { echo "FAIL: n1 does not come back"; exit 1; }
marked=$(oos n1)
check "the restarted n1 marked its log's extents ($((marked >> 20)) MiB <= 32 MiB)" \
	[ "$marked" -gt 0 ] && [ "$marked" -le $((32 << 20)) ]
check "in sync again" dk n1 r0 wait-sync -t 60
moved=$(resynced n1)
check "n1 resynced $((moved >> 20)) MiB, what it marked (<= its log's 32 MiB + the bitmap)" \
	[ "$moved" -gt 0 ] && [ "$moved" -le "$marked" ]
check "both stores identical" same

# -- the primary crashes while disconnected and writing --------------------
dk n1 r0 primary >/dev/null
lab_cut n1 n2
lab_wait_json 5 '.connection == "WFConnection"' lab_tool n1 hha-disk --json r0 status >/dev/null
writer n1 30 2 >/dev/null
sleep 2
check "n1 marked its writes" [ "$(oos n1)" -gt 0 ]
lab_crash n1
lab_heal
reboot n1 || { echo "FAIL: n1 does not come back"; exit 1; }
check "after the restart, in sync again" dk n1 r0 wait-sync -t 60
check "both stores identical" same

# -- the primary crashes mid-write; the secondary takes over -----------------
dk n1 r0 primary >/dev/null
writer n1 30 3 >/dev/null
sleep 2
lab_crash n1
check "n2 notices" lab_wait_json 5 '.connection == "WFConnection"' lab_tool n2 hha-disk --json r0 status
check "n2 is promoted" dk n2 r0 primary
lab_exec n2 fio --name=w --ioengine=nbd --uri="$(disk_uri n2 r0)" --rw=randwrite --bs=4k --iodepth=16 \
	--size="$(disk_size n2 r0)" --io_size=8M --randseed=4 --output="$LAB_DIR/fio-n2.out" >/dev/null
n2marked=$(oos n2)
lab_restart n1 && lab_disk_restart n1 r0 >/dev/null && lab_hhad_start n1
dk n1 r0 attach "$(cat "$LAB_DIR/n1/backing")" >/dev/null
n1marked=$(oos n1)
before=$(resynced n1)
dk n1 r0 connect "$(lab_addr n1):7800" "$(lab_addr n2):7800" "${opts[@]}" >/dev/null
check "the old primary becomes the sync target" \
	lab_wait_json 10 '.connection == "SyncTarget" or (.connection == "Connected" and .disk == "UpToDate")' \
	lab_tool n1 hha-disk --json r0 status
check "in sync" dk n2 r0 wait-sync -t 60
moved=$(($(resynced n1) - before))
check "resynced $((moved >> 20)) MiB: n2's $((n2marked >> 20)) MiB and n1's log extents ($((n1marked >> 20)) MiB), no more" \
	[ "$moved" -ge "$n2marked" ] && [ "$moved" -ge "$n1marked" ] && [ "$moved" -le $((n1marked + n2marked)) ]
check "both stores identical" same

# -- the secondary's node reboots while the primary writes ------------------
# (now n2 is primary, n1 secondary)
# 500 writes a second for 6 s: at most 3000 blocks (12 MiB) change in all.
before=$(resynced n2)
w=$(writer n2 6 5 500)
sleep 1
lab_crash n1
sleep 2
reboot n1 || { echo "FAIL: n1 does not come back"; exit 1; }
lab_bg_wait "$w" 30 >/dev/null
check "in sync after the reboot" dk n2 r0 wait-sync -t 60
moved=$(($(resynced n2) - before))
check "resynced $((moved >> 10)) KiB <= the 12 MiB written at most: only what changed" \
	[ "$moved" -gt 0 ] && [ "$moved" -le $((3000 * 4096)) ]
check "both stores identical" same
dk n2 r0 secondary >/dev/null
disk_finish
