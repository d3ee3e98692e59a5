#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of online resize on two nodes: a known pattern is written
# through the primary's export; shrinking and a peer whose store did not
# grow are refused with nothing changed; both backing files grow by 64 MiB
# and `resize' runs while a client writes: only the new area is resynced,
# a new NBD client sees the new size and writes at its end, both stores end
# identical and the pattern survived the metadata's move. A restart of both
# hhads reconnects without a sync; a kill -9 between the grow and the
# resize finds the metadata where hhad recorded it. Then the same with external
# metadata (the metadata file grows).
set -u
. "$(dirname "$0")/disk-lib.sh"

disk_lab_up
opts=(--timeout 1000 --ping-int 200 --connect-int 200)
uri=$(disk_uri n1 r0)
grow=$((64 << 20))
for h in n1 n2; do
	b=$(disk_backing "$h" r0 96M)
	dk "$h" r0 create-md "$b" >/dev/null || { echo "FAIL: create-md"; exit 1; }
done
up() { # HOST RES PORT [attach options]
	local h=$1 res=$2 port=$3 peer
	shift 3
	[ "$h" = n1 ] && peer=n2 || peer=n1
	dk "$h" "$res" attach "$LAB_DIR/$h/$res.img" "$@" >/dev/null &&
		dk "$h" "$res" connect "$(lab_addr "$h"):$port" "$(lab_addr $peer):$port" "${opts[@]}" >/dev/null
}
resynced() { disk_state "$1" "$2" .resynced; }
qio() { lab_exec n1 qemu-io -f raw "$@"; }
grow_both() { truncate -s "+$2" "$LAB_DIR/n1/$1.img" && truncate -s "+$2" "$LAB_DIR/n2/$1.img"; }

up n1 r0 7810 && up n2 r0 7810 || { echo "FAIL: pair"; exit 1; }
dk n1 r0 wait-connect -t 10 >/dev/null
check "two blank disks: skip-sync" dk n1 r0 skip-sync
check "primary" dk n1 r0 primary
check "in sync" dk n1 r0 wait-sync -t 10
size=$(disk_size n1 r0)
check "a known pattern through the export" qio -c "write -P 0x5a 0 $size" "$uri"

# -- refusals: nothing changes ------------------------------------------------
err=$(dk n1 r0 resize --size $((size - (1 << 20))) 2>&1)
check "shrinking is refused (exit 2: a size that cannot be)" [ $? = 2 ]
check "  ...saying why ($err)" grep -q "shrinking .* is refused" <<<"$err"
truncate -s +64M "$LAB_DIR/n1/r0.img"
err=$(dk n1 r0 resize 2>&1)
check "a peer whose store did not grow: refused" [ $? = 1 ]
check "  ...naming the peer's size ($err)" grep -q "the peer's backing store did not grow: it holds $size bytes" <<<"$err"
check "  ...nothing changed on n1" [ "$(disk_size n1 r0)" = "$size" ]
check "  ...nor on n2" [ "$(disk_size n2 r0)" = "$size" ]
err=$(dk n1 r0 resize --size $((size + (200 << 20))) 2>&1)
check "a --size beyond this store: refused, naming it ($err)" grep -q "does not fit this node's store: it holds at most" <<<"$err"

# -- the resize, while a client writes ---------------------------------------
evpid=$(lab_tool_bg n1 "$LAB_DIR/n1/events.jsonl" hha-disk --json events)
truncate -s +64M "$LAB_DIR/n2/r0.img"
before=$(resynced n2 r0)
lab_exec n1 fio --name=w --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth=8 --runtime=3 \
	--time_based --size=$((size / 2)) --output="$LAB_DIR/fio-resize.out" >/dev/null &
fpid=$!
sleep 1
check "resize while the client writes" dk n1 r0 resize
check "the writer's requests all succeeded" wait "$fpid"
check "in sync" dk n1 r0 wait-sync -t 30
new=$(disk_size n1 r0)
check "the size grew by the 64 MiB (now $new)" [ "$new" -gt $((size + grow - (1 << 20))) ] && [ "$new" -le $((size + grow)) ]
check "n2 has the same size" [ "$(disk_size n2 r0)" = "$new" ]
moved=$(($(resynced n2 r0) - before))
check "resynced $((moved >> 10)) KiB <= 1.25 x the $(((new - size) >> 10)) KiB grown" \
	[ $((moved * 4)) -le $(((new - size) * 5)) ] && [ "$moved" -ge $((new - size)) ]
check "a disk.resized event with both sizes" \
	jqt -s "any(.[]; .event == \"disk.resized\" and .data.old_size == $size and .data.new_size == $new)" \
	"$LAB_DIR/n1/events.jsonl"
kill "$evpid" 2>/dev/null
check "a new NBD client sees the new size" [ "$(lab_exec n1 nbdinfo --size "$uri")" = "$new" ]
check "and writes at the end" qio -c "write -P 0xee $((new - 65536)) 65536" "$uri"
check "and reads it back" qio -c "read -P 0xee $((new - 65536)) 65536" "$uri"
check "the pattern beside the old metadata survived" qio -c "read -P 0x5a $((size / 2)) $((size / 2))" "$uri"
check "in sync" dk n1 r0 wait-sync -t 30
check "both stores' data areas identical" disk_same r0
check "dump-md shows the new size" jqt ".usable_size == $new and .la_size == $new" \
	<(dk n2 --json r0 dump-md)

# -- a restart of both hhads: no sync --------------------------------------------
dk n1 r0 secondary >/dev/null
lab_hhad_stop n1 && lab_hhad_stop n2
lab_hhad_start n1 && lab_hhad_start n2
check "both attach again" up n1 r0 7810
up n2 r0 7810
check "they reconnect" dk n1 r0 wait-sync -t 10
check "  ...at the new size" [ "$(disk_size n1 r0)" = "$new" ] && [ "$(disk_size n2 r0)" = "$new" ]
check "  ...without a sync" [ "$(resynced n1 r0)" = 0 ] && [ "$(resynced n2 r0)" = 0 ]

# -- kill -9 between the grow and the resize ---------------------------------
dk n1 r0 primary >/dev/null
grow_both r0 32M
lab_hhad_kill n2
lab_hhad_start n2
check "after kill -9, attach finds the metadata at the old end" up n2 r0 7810
check "  ...at the place its state file recorded" grep -q "metadata found at the place .*/disk-r0.md recorded" "$LAB_DIR/n2/hhad.log"
check "in sync" dk n1 r0 wait-sync -t 30
check "then resize" dk n1 r0 resize
check "in sync" dk n1 r0 wait-sync -t 30
check "grown by 32 MiB" [ "$(disk_size n2 r0)" -gt $((new + (31 << 20))) ]
check "both stores identical" disk_same r0
dk n1 r0 secondary >/dev/null

# -- external metadata: the metadata file grows ------------------------------
for h in n1 n2; do
	b=$(disk_backing "$h" r1 64M)
	dk "$h" r1 create-md "$b" --meta "$LAB_DIR/$h/r1.md" >/dev/null || not_ok "create-md r1"
done
up n1 r1 7811 --meta "$LAB_DIR/n1/r1.md" &&
	up n2 r1 7811 --meta "$LAB_DIR/n2/r1.md" || not_ok "pair r1"
dk n1 r1 wait-connect -t 10 >/dev/null
dk n1 r1 skip-sync >/dev/null && dk n1 r1 primary >/dev/null
size=$(disk_size n1 r1) mdsize=$(stat -c %s "$LAB_DIR/n1/r1.md")
lab_exec n1 qemu-io -f raw -c "write -P 0x33 0 $size" "$(disk_uri n1 r1)" >/dev/null
grow_both r1 192M
check "external: resize" dk n1 r1 resize
check "external: in sync" dk n1 r1 wait-sync -t 30
check "external: the device is the whole grown store" [ "$(disk_size n2 r1)" = $((size + (192 << 20))) ]
check "external: the metadata file grew" [ "$(stat -c %s "$LAB_DIR/n2/r1.md")" -gt "$mdsize" ]
check "external: both stores identical" disk_same r1
dk n1 r1 secondary >/dev/null
disk_finish
