#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of the full sync under application writes: the sync is
# rate-limited so it lasts over 10 s, the state is SyncSource while writes
# land just behind, just ahead of and far ahead of the sync position, and
# afterwards both stores are identical and hold every write. Then fio checks
# what clients read back (crc32c, several jobs at queue depth 32).
set -u
. "$(dirname "$0")/disk-lib.sh"

disk_lab_up
disk_pair r0 256M 7800 || { echo "FAIL: pair"; exit 1; }
dk n1 r0 wait-connect -t 10 >/dev/null
check "syncer --rate 20M" dk n1 r0 syncer --rate 20M
start=$(date +%s.%N)
check "primary --force starts the full sync" dk n1 r0 primary --force
uri=$(disk_uri n1 r0)
size=$(disk_size n1 r0)
model="$LAB_DIR/model.img"
truncate -s "$size" "$model"
chunk="$LAB_DIR/chunk"

# Write 256 KiB at OFF through the export (qemu-io: FUA on every write) and into the model.
put() {
	head -c 262144 /dev/urandom >"$chunk"
	lab_exec n1 qemu-io -f raw -c "write -s $chunk $1 262144" "$uri" >/dev/null &&
		dd if="$chunk" of="$model" bs=4096 seek=$(($1 / 4096)) conv=notrunc status=none
}

states="" wrote=0 bad=0 offs=""
for round in $(seq 1 12); do
	st=$(dk n1 --json r0 status)
	states="$states $(jq -r .connection <<<"$st")"
	pos=$(jq -r '.sync.done // 0' <<<"$st")
	pos=$((pos / 4096 * 4096))
	for off in $((pos - (1 << 20))) $((pos + 4096)) $((pos + (2 << 20))) $((pos + (64 << 20))); do
		[ "$off" -ge 0 ] && [ $((off + 262144)) -le "$size" ] || continue
		if put "$off"; then wrote=$((wrote + 1)); offs="$offs $off"; else bad=$((bad + 1)); fi
	done
	sleep 0.4
done
check "the state was SyncSource during every round of writes ($states )" \
	bash -c "! grep -qv SyncSource <<<'$(tr ' ' '\n' <<<"$states" | grep -v '^$')'"
check "$wrote writes behind, at and ahead of the sync position succeeded" [ "$bad" = 0 -a "$wrote" -gt 30 ]
check "the sync finishes" dk n1 r0 wait-sync -t 120
took=$(echo "$(date +%s.%N) - $start" | bc)
check "the rate-limited sync lasted at least 10 s (${took%.*} s)" [ "${took%.*}" -ge 10 ]
check "both stores identical after the sync" disk_same r0
ok_all=1
for off in $offs; do
	cmp -s <(dd if="$model" bs=4096 skip=$((off / 4096)) count=64 status=none) \
		<(dd if="$LAB_DIR/n2/r0.img" bs=4096 skip=$((off / 4096)) count=64 status=none) || ok_all=0
done
check "every write during the sync is on the secondary's store" [ "$ok_all" = 1 ]

check "syncer --rate unlimited" dk n1 r0 syncer --rate unlimited
check "fio --verify=crc32c, 4 jobs at QD32, through the export" \
	lab_exec n1 fio --name=verify --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth=32 \
	--numjobs=4 --size=32M --offset_increment=32M --verify=crc32c --do_verify=1 \
	--verify_fatal=1 --verify_state_save=0 --output="$LAB_DIR/fio.out"
check "fio reports no verify errors" bash -c "grep -q 'err= 0' '$LAB_DIR/fio.out' && ! grep -qi 'verify.*fail' '$LAB_DIR/fio.out'"
check "wait-sync after fio" dk n1 r0 wait-sync -t 30
check "both stores identical after fio" disk_same r0
dk n1 r0 secondary >/dev/null
disk_finish
