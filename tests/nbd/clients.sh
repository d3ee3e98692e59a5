#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Real NBD clients against the server (hha-nbd-file): nbdinfo, nbdcopy both
# ways with checksums, qemu-img convert/compare, qemu-io (writethrough: FUA on
# every write), fio's nbd engine with crc32c verification (several jobs at
# queue depth 32), over a Unix socket and TCP, with completions reordered.
. "$(dirname "$0")/lib.sh"
need nbdinfo nbdcopy qemu-img qemu-io fio python3

size=256M
truncate -s $size "$tmp/disk"
start_server s --description "clients test disk" --reorder --delay-us 50 "$tmp/disk"
unix="nbd+unix:///hha?socket=$s_sock"
tcp="nbd://127.0.0.1:$s_port/hha"

say "nbdinfo"
nbdinfo "$unix" > "$tmp/info"
grep -q 'export-size: 268435456' "$tmp/info" || fail "nbdinfo: wrong size: $(cat "$tmp/info")"
grep -q 'description: clients test disk' "$tmp/info" || fail "nbdinfo: no description"
grep -q 'can_fua: true' "$tmp/info" || fail "nbdinfo: FUA not offered"
grep -q 'block_size_minimum: 512' "$tmp/info" || fail "nbdinfo: block sizes not advertised"
nbdinfo --json "$tcp" | python3 -c 'import json,sys; e=json.load(sys.stdin)["exports"][0]; assert e["export-size"] == 268435456, e'
nbdinfo --list "nbd+unix:///?socket=$s_sock" > "$tmp/list"
grep -q 'export="hha"' "$tmp/list" || fail "nbdinfo --list: export not listed: $(cat "$tmp/list")"
# The default export name works too.
nbdinfo --size "nbd+unix:///?socket=$s_sock" | grep -qx 268435456

say "nbdcopy 128 MiB in over Unix, out over TCP"
head -c 128M /dev/urandom > "$tmp/src"
nbdcopy --flush "$tmp/src" "$unix"
nbdcopy "$tcp" "$tmp/back"
[ "$(head -c 128M "$tmp/back" | sha256sum)" = "$(sha256sum < "$tmp/src")" ] ||
	fail "nbdcopy: data read back differs"
[ "$(head -c 128M "$tmp/disk" | sha256sum)" = "$(sha256sum < "$tmp/src")" ] ||
	fail "nbdcopy: backing file differs"

say "nbdcopy in over TCP, out over Unix"
head -c 100M /dev/urandom > "$tmp/src2"
nbdcopy "$tmp/src2" "$tcp"
nbdcopy "$unix" "$tmp/back2"
[ "$(head -c 100M "$tmp/back2" | sha256sum)" = "$(sha256sum < "$tmp/src2")" ] ||
	fail "nbdcopy (TCP in): data read back differs"

say "qemu-img convert and compare"
qemu-img create -q -f qcow2 "$tmp/img.qcow2" 64M
qemu-io -f qcow2 -c "write -P 0x5a 1M 3M" -c "write -P 0xa5 40M 1M" "$tmp/img.qcow2" >/dev/null
qemu-img convert -n -f qcow2 -O raw "$tmp/img.qcow2" "$unix"
# The export is larger than the image: compare its first 64 MiB, over TCP.
qemu-img compare -q -f qcow2 "$tmp/img.qcow2" \
	"json:{\"driver\":\"raw\",\"size\":67108864,\"file\":{\"driver\":\"nbd\",\"export\":\"hha\",\"server\":{\"type\":\"inet\",\"host\":\"127.0.0.1\",\"port\":\"$s_port\"}}}" ||
	fail "qemu-img compare: the export differs from the image"
qemu-img convert -f raw -O raw "$tcp" "$tmp/img-back.raw"
qemu-img compare -q -f raw -F raw "$tmp/img-back.raw" "$tmp/disk" ||
	fail "qemu-img convert from the export: differs from the backing file"

say "qemu-io writethrough (FUA writes), reads, zeroes, discard"
qemu-io -f raw -t writethrough \
	-c "write -P 0x11 0 1M" -c "aio_write -P 0x22 1M 512k" -c "aio_write -P 0x33 2M 64k" \
	-c "aio_flush" -c "read -P 0x11 0 1M" -c "read -P 0x22 1M 512k" -c "read -P 0x33 2M 64k" \
	-c "write -z 4M 1M" -c "read -P 0 4M 1M" -c "discard 8M 1M" -c "flush" \
	"$unix" > "$tmp/qemu-io.out"
grep -qi "pattern verification failed\|error\|failed" "$tmp/qemu-io.out" &&
	fail "qemu-io: $(cat "$tmp/qemu-io.out")"
cmp -s <(head -c 1M "$tmp/disk") <(head -c 1M /dev/zero | tr '\0' '\021') ||
	fail "qemu-io: backing file does not hold the written pattern"

for uri in "$unix" "$tcp"; do
	say "fio nbd engine, 4 jobs x queue depth 32, random writes verified with crc32c ($uri)"
	fio --name=verify --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --bsrange=4k-64k \
		--iodepth=32 --numjobs=4 --size=32M --offset_increment=32M --verify=crc32c \
		--verify_fatal=1 --do_verify=1 --verify_state_save=0 --group_reporting --output="$tmp/fio.out" ||
		fail "fio: $(tail -20 "$tmp/fio.out")"
	grep -q "verify" "$tmp/fio.out" || true
	grep -qi "err= *[1-9]" "$tmp/fio.out" && fail "fio errors: $(cat "$tmp/fio.out")"
done

say "fio mixed reads and writes at depth 32, verified as it goes"
fio --name=mixed --ioengine=nbd --uri="$unix" --rw=randrw --bs=16k --iodepth=32 --numjobs=2 \
	--size=16M --offset_increment=64M --offset=128M --verify=crc32c --verify_backlog=64 --verify_state_save=0 \
	--verify_fatal=1 --group_reporting --output="$tmp/fio2.out" || fail "fio randrw: $(tail -20 "$tmp/fio2.out")"

stop_server s
grep -E "hha-nbd-file: .* 0 errors, 0 protocol errors" "$tmp/s.log" >/dev/null ||
	fail "clients caused errors: $(tail -3 "$tmp/s.log")"
echo "PASS"
