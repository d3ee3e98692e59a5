#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test with a real file system on the replicated device: ext4
# through nbdfuse + loop on the primary (mkfs discards: TRIM replicates),
# files copied in, roles switched by hand, the other node mounts and finds
# every file and fsck is clean; then blkdiscard and blkdiscard -z through the
# loop device (TRIM, WRITE_ZEROES) leave both backing stores identical.
set -u
. "$(dirname "$0")/disk-lib.sh"
for _t in mkfs.ext4 e2fsck blkdiscard losetup nbdfuse fusermount3; do
	command -v "$_t" >/dev/null || { echo "FAIL: \`$_t' is missing"; exit 1; }
done

disk_lab_up
disk_pair r0 256M 7800 || { echo "FAIL: pair"; exit 1; }
dk n1 r0 wait-connect -t 10 >/dev/null
dk n1 r0 primary --force >/dev/null
check "full sync" dk n1 r0 wait-sync -t 60
# Put data everywhere first, so discards have something to remove.
check "fill the device with random data" \
	lab_exec n1 bash -c "head -c 200M /dev/urandom | nbdcopy - '$(disk_uri n1 r0)'"

mnt1="$LAB_DIR/mnt1" mnt2="$LAB_DIR/mnt2"
loop=$(lab_nbd_mount n1 "$(disk_uri n1 r0)" "$mnt1" mkfs) || { echo "FAIL: mount on n1"; exit 1; }
# The lab formats without discard; format again with it (the default).
umount "$mnt1"
check "mkfs.ext4 (discarding the device) on n1" \
	mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$loop"
check "wait-sync after mkfs" dk n1 r0 wait-sync -t 30
check "after mkfs's discards both stores are identical" disk_same r0
# The discards reached n2 (holes punched): far less than the 200 MiB written stays allocated.
check "n2's store was trimmed by mkfs (allocated $(( $(stat -c %b "$LAB_DIR/n2/r0.img") / 2048 )) MiB < 100)" \
	[ "$(stat -c %b "$LAB_DIR/n2/r0.img")" -lt $((100 * 2048)) ]
mount "$loop" "$mnt1" || { echo "FAIL: remount"; exit 1; }

mkdir -p "$mnt1/d/e"
for i in $(seq 1 20); do head -c $((i * 37 * 1024)) /dev/urandom >"$mnt1/d/f$i"; done
cp -r "$HHA_SRCDIR/lib/disk" "$mnt1/d/e/src"
(cd "$mnt1" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$LAB_DIR/sums"
sync
check "unmount on n1" lab_nbd_umount "$mnt1"
check "wait-sync after the copy" dk n1 r0 wait-sync -t 30
check "both stores identical after the copy" disk_same r0

# Switch roles by hand.
check "n1 secondary" dk n1 r0 secondary
check "n2 primary (UpToDate: no --force needed)" dk n2 r0 primary
check "n1 now refuses NBD clients" not lab_exec n1 nbdinfo "$(disk_uri n1 r0)"
loop=$(lab_nbd_mount n2 "$(disk_uri n2 r0)" "$mnt2") || { echo "FAIL: mount on n2"; exit 1; }
check "every file is on n2 with the same content" \
	bash -c "cd '$mnt2' && find . -type f ! -path './lost+found/*' -print0 | sort -z | xargs -0 sha256sum | cmp - '$LAB_DIR/sums'"
umount "$mnt2"
check "e2fsck -fn on n2 is clean" e2fsck -fn "$loop"

# TRIM and WRITE_ZEROES from the kernel's loop device, on n2.
check "blkdiscard of 64 MiB" blkdiscard -o $((64 << 20)) -l $((64 << 20)) "$loop"
check "blkdiscard -z of 16 MiB" blkdiscard -z -o $((160 << 20)) -l $((16 << 20)) "$loop"
check "unmount on n2" lab_nbd_umount "$mnt2"
check "wait-sync after the discards" dk n2 r0 wait-sync -t 30
check "both stores identical after blkdiscard and blkdiscard -z" disk_same r0
check "the discarded range reads as zeroes on n1's store" \
	cmp -n $((64 << 20)) <(tail -c +$(((64 << 20) + 1)) "$LAB_DIR/n1/r0.img") /dev/zero
dk n2 r0 secondary >/dev/null
disk_finish
