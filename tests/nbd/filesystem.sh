#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A real file system on the export: nbdfuse + losetup --direct-io=on +
# mkfs.ext4 + mount + copy files + umount + fsck -n clean; then blkdiscard
# and blkdiscard -z through the loop device reach the backing file as TRIM
# (the range becomes a hole) and WRITE_ZEROES (the range reads as zeroes).
# Needs root (losetup, mount) and /dev/fuse; skipped otherwise.
. "$(dirname "$0")/lib.sh"
need nbdfuse fusermount3 losetup mkfs.ext4 fsck.ext4 blkdiscard python3
[ "$(id -u)" = 0 ] || skip "losetup and mount need root"
[ -c /dev/fuse ] || skip "no /dev/fuse"

truncate -s 512M "$tmp/disk"
start_server s --trace "$tmp/disk"
mkdir "$tmp/fuse" "$tmp/mnt" "$tmp/files"

say "nbdfuse"
nbdfuse -P "$tmp/nbdfuse.pid" "$tmp/fuse" --unix "$s_sock" &
at_exit "for i in \$(seq 50); do fusermount3 -u '$tmp/fuse' && break; sleep 0.1; done"
for _ in $(seq 100); do [ -s "$tmp/nbdfuse.pid" ] && break; sleep 0.1; done
[ -e "$tmp/fuse/nbd" ] || fail "nbdfuse did not mount"

say "loop device"
loop=$(losetup --direct-io=on -f --show "$tmp/fuse/nbd") || skip "losetup failed (no loop devices here?)"
at_exit "losetup -d $loop"

say "mkfs.ext4, mount, copy files"
mkfs.ext4 -q -F "$loop"
grep -q "TRIM" "$tmp/s.log" || fail "mkfs.ext4 discarded nothing through the export"
mount "$loop" "$tmp/mnt" || skip "mount failed (not allowed here?)"
at_exit "umount '$tmp/mnt'"
for i in $(seq 1 24); do
	head -c $(( (i * 37 % 23 + 1) * 131072 + i )) /dev/urandom > "$tmp/files/f$i"
done
mkdir -p "$tmp/files/dir/sub"
cp "$tmp/files/f1" "$tmp/files/dir/sub/deep"
cp -a "$tmp/files/." "$tmp/mnt/"
sync
(cd "$tmp/files" && find . -type f | sort | xargs sha256sum) > "$tmp/want.sum"
umount "$tmp/mnt"

say "remount, check every file"
mount -o ro "$loop" "$tmp/mnt"
(cd "$tmp/mnt" && sha256sum -c --quiet "$tmp/want.sum") || fail "files differ after remount"
umount "$tmp/mnt"

say "fsck -n"
fsck.ext4 -n -f "$loop" > "$tmp/fsck.out" 2>&1 || fail "fsck: $(cat "$tmp/fsck.out")"

# data_in RANGE_OFFSET LENGTH: does the backing file hold allocated data there?
data_in() {
	python3 - "$tmp/disk" "$1" "$2" <<'PY'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
off, ln = int(sys.argv[2]), int(sys.argv[3])
try:
    d = os.lseek(fd, off, os.SEEK_DATA)
except OSError:
    d = None
print('yes' if d is not None and d < off + ln else 'no')
PY
}
M=$((1024 * 1024))

say "blkdiscard: TRIM punches a hole in the backing file"
dd if=/dev/urandom of="$loop" bs=1M seek=256 count=16 oflag=direct status=none
[ "$(data_in $((256 * M)) $((16 * M)))" = yes ] || fail "data did not reach the backing file"
blkdiscard -f -o $((256 * M)) -l $((16 * M)) "$loop"
grep -q "TRIM offset $((256 * M))" "$tmp/s.log" || fail "no TRIM at 256 MiB: $(grep -E 'TRIM|ZERO' "$tmp/s.log" | tail -5)"
[ "$(data_in $((256 * M)) $((16 * M)))" = no ] || fail "the discarded range is still allocated"

say "blkdiscard -z: WRITE_ZEROES zeroes the backing file"
dd if=/dev/urandom of="$loop" bs=1M seek=300 count=16 oflag=direct status=none
blkdiscard -f -z -o $((300 * M)) -l $((16 * M)) "$loop"
grep -q "WRITE_ZEROES offset $((300 * M))" "$tmp/s.log" ||
	fail "no WRITE_ZEROES at 300 MiB: $(grep -E 'TRIM|ZERO' "$tmp/s.log" | tail -5)"
cmp -s <(dd if="$tmp/disk" bs=1M skip=300 count=16 status=none) <(head -c $((16 * M)) /dev/zero) ||
	fail "the zeroed range does not read as zeroes in the backing file"

grep -E "^hha-nbd-file: (TRIM|WRITE_ZEROES) offset $((256 * M))|^hha-nbd-file: (TRIM|WRITE_ZEROES) offset $((300 * M))" "$tmp/s.log"
say "tear down"
losetup -d "$loop"
for i in $(seq 50); do fusermount3 -u "$tmp/fuse" && break; sleep 0.1; done
for _ in $(seq 50); do kill -0 "$(cat "$tmp/nbdfuse.pid")" 2>/dev/null || break; sleep 0.1; done
stop_server s
grep -E "hha-nbd-file: .* 0 errors, 0 protocol errors" "$tmp/s.log" >/dev/null ||
	fail "errors: $(tail -3 "$tmp/s.log")"
echo "PASS"
