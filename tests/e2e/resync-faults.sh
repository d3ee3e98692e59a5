#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of resync under faults, on a 512 MiB device: the link is
# cut (nftables drop) while a client writes 5% of it, and after the heal
# only about what changed is resynced; kill -9 of the secondary's hhad, then
# of the primary's, in the middle of a resync, and a link cut during a
# resync: each time the resync goes on from where the bitmap says, not from
# the start, and both stores end identical.
set -u
. "$(dirname "$0")/disk-lib.sh"

disk_lab_up
opts=(--timeout 1000 --ping-int 200 --connect-int 200)
uri=$(disk_uri n1 r0)
for h in n1 n2; do
	b=$(disk_backing "$h" r0 520M)
	dk "$h" r0 create-md "$b" --al-extents 8 >/dev/null || { echo "FAIL: create-md"; exit 1; }
done

# attach + connect RES on HOST (again after a restart of its hhad)
up() {
	local h=$1 peer
	[ "$h" = n1 ] && peer=n2 || peer=n1
	dk "$h" r0 attach "$LAB_DIR/$h/r0.img" >/dev/null &&
		dk "$h" r0 connect "$(lab_addr "$h"):7800" "$(lab_addr $peer):7800" "${opts[@]}" >/dev/null
}
resynced() { disk_state "$1" r0 .resynced; }
# random 4 KiB writes through n1's export: COUNT distinct blocks
fio_write() {
	lab_exec n1 fio --name=w --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth=8 \
		--io_size=$(($1 * 4096)) --size="$(disk_size n1 r0)" --randseed="$2" \
		--output="$LAB_DIR/fio-$2.out" >/dev/null
}

up n1 && up n2 || { echo "FAIL: pair"; exit 1; }
dk n1 r0 wait-connect -t 10 >/dev/null
check "two blank disks: skip-sync" dk n1 r0 skip-sync
check "primary" dk n1 r0 primary
check "in sync" dk n1 r0 wait-sync -t 10
size=$(disk_size n1 r0)

# -- the link cut while writing 5% -----------------------------------------
blocks=$((size / 4096 / 20))
before=$(resynced n2)
fio_write "$blocks" 1 &
fpid=$!
sleep 0.5
lab_cut n1 n2
check "the client's writes all succeed across the cut" wait "$fpid"
check "n1 goes on alone (WFConnection)" lab_wait_json 5 '.connection == "WFConnection"' lab_tool n1 hha-disk --json r0 status
lab_heal
check "after the heal, in sync" dk n1 r0 wait-sync -t 60
check "both stores identical" disk_same r0
moved=$(($(resynced n2) - before)) changed=$((blocks * 4096))
check "resynced $((moved >> 10)) KiB <= 1.25 x the $((changed >> 10)) KiB changed" [ $((moved * 4)) -le $((changed * 5)) ]

# A resync of the first 64 MiB, written while n2 is away, at 16 MiB/s: lasts
# 4 s; 2 s into it, the first half is copied and the second half is what
# n1's activity log (8 x 4 MiB) holds.
start_resync() {
	dk n2 r0 disconnect >/dev/null
	lab_wait_json 5 '.connection == "WFConnection"' lab_tool n1 hha-disk --json r0 status >/dev/null
	lab_exec n1 fio --name=s --ioengine=nbd --uri="$uri" --rw=write --bs=1M --iodepth=4 --size=64M \
		--output="$LAB_DIR/fio-seq-$1.out" >/dev/null
	dk n1 r0 syncer --rate 16M >/dev/null
	oos=$(disk_state n1 r0 .out_of_sync)
	dk n2 r0 connect "$(lab_addr n2):7800" "$(lab_addr n1):7800" "${opts[@]}" >/dev/null
	lab_wait_json 5 '.connection == "SyncSource"' lab_tool n1 hha-disk --json r0 status >/dev/null
	sleep 2
}

# -- kill -9 of the target's hhad ----------------------------------------------
start_resync 2
before=$(resynced n1)
lab_hhad_kill n2
lab_hhad_start n2 && up n2
dk n1 r0 syncer --rate unlimited >/dev/null
check "in sync again" dk n1 r0 wait-sync -t 60
moved=$(($(resynced n1) - before))
check "the source sent $((moved >> 20)) MiB after the restart: the rest of the $((oos >> 20)) MiB, not all" \
	[ "$moved" -lt $((oos * 3 / 4)) ]
check "both stores identical" disk_same r0

# -- kill -9 of the source's hhad (a primary: its small activity log is resynced too)
before=$(resynced n1)
start_resync 3
sent=$(($(resynced n1) - before))
lab_hhad_kill n1
lab_hhad_start n1 && up n1
check "the restarted source says it crashed as primary" grep -q 'crashed as primary: 8 activity-log' "$LAB_DIR/n1/hhad.log"
check "it becomes primary again" dk n1 r0 primary
check "in sync again" dk n1 r0 wait-sync -t 60
moved=$(resynced n1)
# What it may send again: what was left at the kill, what it copied in the
# last second (its bitmap on disk is at most 1 s = 16 MiB old), and those of
# its log's extents (the second half) it had copied already; 4 MiB slack.
al_sent=$((sent > oos / 2 ? sent - oos / 2 : 0))
bound=$((oos - sent + (16 << 20) + al_sent + (4 << 20)))
check "it sent $((moved >> 20)) MiB after the restart: what was left at the kill ($(((oos - sent) >> 20)) MiB), its log's extents and at most 1 s more (<= $((bound >> 20)) MiB), not all $((oos >> 20)) MiB" \
	[ "$moved" -le "$bound" ] && [ "$moved" -lt "$oos" ]
check "both stores identical" disk_same r0

# -- the link cut during a resync --------------------------------------------
before=$(resynced n1)
start_resync 4
lab_cut n1 n2
lab_wait_json 5 '.connection == "WFConnection"' lab_tool n1 hha-disk --json r0 status >/dev/null
mid=$(disk_state n1 r0 .out_of_sync)
check "cut mid-resync: $((mid >> 20)) of $((oos >> 20)) MiB left" [ "$mid" -lt "$oos" ] && [ "$mid" -gt 0 ]
lab_heal
dk n1 r0 syncer --rate unlimited >/dev/null
check "after the heal, in sync" dk n1 r0 wait-sync -t 60
moved=$(($(resynced n1) - before))
check "sent $((moved >> 20)) MiB in all: the marked $((oos >> 20)) MiB and a little, not twice" \
	[ "$moved" -lt $((oos * 5 / 4)) ]
check "both stores identical" disk_same r0
dk n1 r0 secondary >/dev/null
disk_finish
