#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of split brain and its relatives: both sides forced
# primary and written while cut off are refused on both (status and events
# say split-brain, the hook runs, no block changes), then recovered with
# connect --discard-my-data (identical afterwards, the other side's writes
# kept); the quieter split brain (the primary keeps writing, the cut-off
# secondary is forced primary and writes) is refused too; with
# discard-zero-changes a split where one side wrote nothing resolves by
# itself; two unrelated disks are refused; a secondary left by its primary
# is Outdated and refuses promotion without --force. The before-resync-target
# hook runs on each sync target.
set -u
. "$(dirname "$0")/disk-lib.sh"

disk_lab_up
cat >"$LAB_DIR/sb-hook.sh" <<EOF
#!/bin/sh
echo "\$HHA_RESOURCE \$HHA_EVENT" >>"$LAB_DIR/hook-\$(hostname).log"
EOF
chmod 755 "$LAB_DIR/sb-hook.sh"

for r in r0 r1; do
	for h in n1 n2; do
		dk "$h" $r create-md "$(disk_backing "$h" $r 64M)" >/dev/null || { echo "FAIL: create-md"; exit 1; }
	done
done
json='{"resources": {
 "r0": {"port": 7800, "connect_int_ms": 200, "timeout_ms": 1000, "ping_int_ms": 200,
	"handlers": {"split_brain": "@LAB_DIR@/sb-hook.sh", "before_resync_target": "@LAB_DIR@/sb-hook.sh"},
	"on": {"n1": {"backing": "@LAB_DIR@/n1/r0.img"}, "n2": {"backing": "@LAB_DIR@/n2/r0.img"}}},
 "r1": {"port": 7801, "connect_int_ms": 200, "timeout_ms": 1000, "ping_int_ms": 200,
	"after_split_brain": "discard-zero-changes",
	"on": {"n1": {"backing": "@LAB_DIR@/n1/r1.img"}, "n2": {"backing": "@LAB_DIR@/n2/r1.img"}}}}}'
lab_config_merge "$json" || { echo "FAIL: config"; exit 1; }
lab_ctl n1 reload >/dev/null && lab_ctl n2 reload >/dev/null || { echo "FAIL: reload"; exit 1; }
evpid=$(lab_tool_bg n1 "$LAB_DIR/events.log" hha-disk --json events)
for r in r0 r1; do
	dk n1 $r wait-connect -t 10 >/dev/null && dk n1 $r primary --force >/dev/null
	check "$r in sync" dk n1 $r wait-sync -t 30
done

# The data areas of both stores (the metadata after them changes, of course).
sums() {
	local size h
	size=$(disk_size n1 "$1")
	for h in n1 n2; do head -c "$size" "$LAB_DIR/$h/$1.img" | sha256sum | cut -c1-64; done | tr '\n' ' '
}
put() { lab_exec "$1" qemu-io -f raw -c "write -P $3 $4 1M" "$(disk_uri "$1" "$2")" >/dev/null; }
has() { # HOST RES PATTERN OFFSET: the store holds the pattern there
	[ "$(od -An -tx1 -j "$4" -N1 "$LAB_DIR/$1/$2.img" | tr -d ' ')" = "${3#0x}" ]
}
alone() { lab_wait_json 5 '.connection == "WFConnection"' lab_tool "$1" hha-disk --json "$2" status >/dev/null; }
refused() { # HOST RES
	lab_wait_json 10 '.connection == "StandAlone" and .split_brain and (.last_refusal | test("split brain"))' \
		lab_tool "$1" hha-disk --json "$2" status
}
connect() { # HOST RES PORT [OPTS]
	local h=$1 r=$2 p=$3 peer
	[ "$h" = n1 ] && peer=n2 || peer=n1
	shift 3
	dk "$h" "$r" connect "$(lab_addr "$h"):$p" "$(lab_addr $peer):$p" --connect-int 200 --timeout 1000 "$@" >/dev/null
}

# -- split brain: both forced primary and written -------------------------------
lab_cut n1 n2
alone n1 r0 && alone n2 r0
check "n2 forced primary while cut off" dk n2 r0 primary --force
put n1 r0 0x11 0
put n2 r0 0x22 8388608
dk n2 r0 secondary >/dev/null
before=$(sums r0)
lab_heal
check "n1 refuses: split brain, StandAlone" refused n1 r0
check "n2 refuses too" refused n2 r0
check "no block on either side changed by the reconnect" [ "$(sums r0)" = "$before" ]
check "the split-brain hook ran on n1" lab_wait_for 5 grep -qx 'r0 split-brain' "$LAB_DIR/hook-n1.log"
check "... and on n2" lab_wait_for 5 grep -qx 'r0 split-brain' "$LAB_DIR/hook-n2.log"
check "hha-disk status says split-brain" grep -q 'split-brain' <<<"$(dk n1 r0 status)"
check "connect --discard-my-data on n2" connect n2 r0 7800 --discard-my-data
check "connect on n1" connect n1 r0 7800
check "resynced and in sync" dk n1 r0 wait-sync -t 30
check "both stores identical" disk_same r0
check "n1's writes survived" has n2 r0 0x11 0
check "n2's writes are gone" has n2 r0 0x00 8388608
check "the before-resync-target hook ran on the target (n2)" \
	[ "$(grep -c 'r0 before-resync-target' "$LAB_DIR/hook-n2.log")" -ge 2 ]
check "... and never on the source (n1)" not grep -q 'r0 before-resync-target' "$LAB_DIR/hook-n1.log"
moved=$(disk_state n2 r0 .resynced)
check "only the blocks changed on either side moved ($((moved >> 10)) KiB, full sync 64 MiB before)" \
	[ "$moved" -le $(((64 << 20) + (2 << 20))) ] && [ "$moved" -ge $(((64 << 20) + (2 << 20) - (120 << 10))) ]

# -- the quieter split brain: the primary keeps writing -----------------------
lab_cut n1 n2
alone n1 r0 && alone n2 r0
put n1 r0 0x33 0
check "the cut-off secondary is forced primary" dk n2 r0 primary --force
put n2 r0 0x44 16777216
dk n2 r0 secondary >/dev/null
before=$(sums r0)
lab_heal
check "refused as split brain on n1 (n1 still primary)" refused n1 r0
check "... and on n2" refused n2 r0
check "nothing overwritten" [ "$(sums r0)" = "$before" ]
connect n2 r0 7800 --discard-my-data && connect n1 r0 7800
check "recovered" dk n1 r0 wait-sync -t 30
check "identical" disk_same r0

# -- discard-zero-changes ---------------------------------------------------
lab_cut n1 n2
alone n1 r1 && alone n2 r1
check "r1: n2 forced primary, writes nothing" dk n2 r1 primary --force
dk n2 r1 secondary >/dev/null
put n1 r1 0x55 0
lab_heal
check "r1: resolved by itself (discard-zero-changes), in sync" dk n1 r1 wait-sync -t 30
check "r1: in the right direction: n1's write is on n2" has n2 r1 0x55 0
check "r1: identical" disk_same r1
check "r1: no refusal" [ "$(disk_state n1 r1 .split_brain)" = false ]

# -- unrelated disks -------------------------------------------------------------
for h in n1 n2; do
	b=$(disk_backing "$h" r2 16M)
	dk "$h" r2 create-md "$b" >/dev/null && dk "$h" r2 attach "$b" --no-export >/dev/null
	dk "$h" r2 primary --force >/dev/null && dk "$h" r2 secondary >/dev/null
done
connect n1 r2 7802 && connect n2 r2 7802
check "two independent create-md: refused as unrelated" \
	lab_wait_json 10 '.connection == "StandAlone" and (.last_refusal | test("unrelated"))' lab_tool n1 hha-disk --json r2 status
dk n1 r2 down >/dev/null
dk n2 r2 down >/dev/null

# -- an Outdated secondary ------------------------------------------------------
check "r0: disconnect the primary (n1): n2 goes on without it" dk n1 r0 disconnect
check "n2 is Outdated" lab_wait_json 5 '.disk == "Outdated"' lab_tool n2 hha-disk --json r0 status
check_rc "n2 refuses promotion without --force (exit 8)" 8 dk n2 r0 primary
dk n2 r1 disconnect >/dev/null
check "hha-disk r1 outdate" dk n2 r1 outdate
check_rc "r1: promotion refused" 8 dk n2 r1 primary
kill "$evpid" 2>/dev/null
check "events --json carried disk.split-brain" \
	jqt -s 'any(.[]; .event == "disk.split-brain" and .data.resource == "r0")' "$LAB_DIR/events.log"
for r in r0 r1; do dk n1 $r secondary >/dev/null 2>&1; done
disk_finish
