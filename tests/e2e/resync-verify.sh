#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of online verify and checksum-based resync on a 256 MiB
# device: verify finds exactly the blocks corrupted directly on the
# secondary's backing file (count and ranges in the status), resync-marked
# repairs them; verify of an in-sync pair under application writes finds
# nothing; with sync.csums, 5% of the blocks marked out of sync of which
# only 1% really differ send about 1% of the data over the link.
set -u
. "$(dirname "$0")/disk-lib.sh"

disk_lab_up
for h in n1 n2; do
	dk "$h" r0 create-md "$(disk_backing "$h" r0 256M)" >/dev/null || { echo "FAIL: create-md"; exit 1; }
done
lab_config_merge '{"resources": {"r0": {"port": 7800, "connect_int_ms": 200, "timeout_ms": 1000,
	"ping_int_ms": 200, "sync": {"csums": true},
	"on": {"n1": {"backing": "@LAB_DIR@/n1/r0.img"}, "n2": {"backing": "@LAB_DIR@/n2/r0.img"}}}}}' ||
	{ echo "FAIL: config"; exit 1; }
lab_ctl n1 reload >/dev/null && lab_ctl n2 reload >/dev/null || { echo "FAIL: reload"; exit 1; }
dk n1 r0 wait-connect -t 10 >/dev/null
dk n1 r0 skip-sync >/dev/null
dk n1 r0 primary >/dev/null
check "in sync" dk n1 r0 wait-sync -t 10
uri=$(disk_uri n1 r0)
size=$(disk_size n1 r0)
lab_exec n1 fio --name=fill --ioengine=nbd --uri="$uri" --rw=randwrite --bs=64k --iodepth=8 --size="$size" \
	--io_size=32M --output="$LAB_DIR/fill.out" >/dev/null
check "written and in sync" dk n1 r0 wait-sync -t 30
verified() { lab_wait_json 60 '.verify.running == false' lab_tool n1 hha-disk --json r0 status; }

# -- verify finds what was corrupted behind the pair's back --------------------
for off in 40960 45056 100663296; do
	head -c 4096 /dev/urandom | dd of="$LAB_DIR/n2/r0.img" bs=4096 seek=$((off / 4096)) conv=notrunc status=none
done
check_rc "verify on the secondary is refused (exit 8)" 8 dk n2 r0 verify
check "verify on the primary starts" dk n1 r0 verify
check "verify finishes" verified
st=$(dk n1 --json r0 status)
echo "$st" | jq -c .verify | sed 's/^/# /'
check "it found exactly the 3 corrupted blocks (12 KiB)" jqt '.verify.out_of_sync == 12288' <<<"$st"
check "as two ranges: 40960+8192 and 100663296+4096" \
	jqt '.verify.ranges == [{"offset": 40960, "length": 8192}, {"offset": 100663296, "length": 4096}]' <<<"$st"
check "they are marked out of sync" jqt '.out_of_sync == 12288' <<<"$st"
check "the people's status shows them" grep -q 'differs: 40960+8192' <<<"$(dk n1 r0 status)"
check "resync-marked" dk n1 r0 resync-marked
check "in sync again" lab_wait_json 30 '.connection == "Connected" and .out_of_sync == 0' lab_tool n1 hha-disk --json r0 status
check "the corruption is repaired: both stores identical" disk_same r0

# -- verify under application writes finds nothing ----------------------------
lab_exec n1 fio --name=load --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth=4 --size="$size" \
	--time_based --runtime=4 --rate_iops=2000 --output="$LAB_DIR/load.out" >/dev/null &
fpid=$!
check "verify with writes going on" dk n1 r0 verify
check "verify finishes" verified
wait "$fpid"
check "0 blocks differ" jqt '.verify.out_of_sync == 0' <<<"$(dk n1 --json r0 status)"
check "in sync" dk n1 r0 wait-sync -t 30
check "identical" disk_same r0

# -- checksum resync: 5% marked, 1% different ----------------------------------
dk n2 r0 disconnect >/dev/null
lab_wait_json 5 '.connection == "WFConnection"' lab_tool n1 hha-disk --json r0 status >/dev/null
# Every 20th block rewritten through n1's export (5%)...
lab_exec n1 fio --name=every20 --ioengine=nbd --uri="$uri" --rw=write:77824 --bs=4k --iodepth=8 \
	--size="$size" --output="$LAB_DIR/every20.out" >/dev/null
marked=$(disk_state n1 r0 .out_of_sync)
# ... and on n2 the same bytes written behind its back for 4 of every 5 of them.
python3 - "$LAB_DIR/n1/r0.img" "$LAB_DIR/n2/r0.img" "$size" <<'EOF'
import os, sys
a = os.open(sys.argv[1], os.O_RDONLY); b = os.open(sys.argv[2], os.O_WRONLY)
for blk in range(0, int(sys.argv[3]) // 4096, 20):
    if (blk // 20) % 5:
        os.pwrite(b, os.pread(a, 4096, blk * 4096), blk * 4096)
EOF
sent0=$(disk_state n1 r0 .sent)
dk n2 r0 connect "$(lab_addr n2):7800" "$(lab_addr n1):7800" --connect-int 200 --timeout 1000 >/dev/null
check "in sync after the checksum resync" dk n1 r0 wait-sync -t 60
st=$(dk n1 --json r0 status)
sent=$(($(jq .sent <<<"$st") - sent0)) same=$(jq .resync_same <<<"$st")
check "identical" disk_same r0
check "$((marked >> 10)) KiB marked; $((sent >> 10)) KiB crossed the link: about 1% of the device (<= 1.25%)" \
	[ "$sent" -le $((size / 80)) ] && [ "$sent" -ge $((size / 100 * 9 / 10)) ]
check "4 of 5 marked blocks found equal by their checksums ($((same >> 10)) KiB)" \
	[ "$same" -ge $((marked * 3 / 4)) ]
dk n1 r0 secondary >/dev/null
disk_finish
