#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of replication with protocols A, B and C (and the three
# link security modes): a pair built with hha-disk verbs does a full sync of
# 256 MiB, takes 100+ MiB of random data through the primary's NBD export
# (nbdcopy, qemu-img) and concurrent overlapping writes (fio), and both
# backing stores end identical.
set -u
. "$(dirname "$0")/disk-lib.sh"

disk_lab_up

i=0
for spec in C:auth B:encrypt A:none; do
	p=${spec%%:*} sec=${spec#*:} res=r$p port=$((7800 + i)) i=$((i + 1))
	if ! disk_pair "$res" 256M "$port" --protocol "$p" --security "$sec" --timeout 3000; then
		not_ok "$res: pair built with hha-disk verbs"
		continue
	fi
	check "$p/$sec: both connect" dk n1 "$res" wait-connect -t 10
	check "$p/$sec: both disks start Inconsistent" \
		[ "$(disk_state n1 "$res" .disk)/$(disk_state n2 "$res" .disk)" = Inconsistent/Inconsistent ]
	check_rc "$p/$sec: promoting a new disk without --force is refused (exit 8)" 8 dk n1 "$res" primary
	check "$p/$sec: primary --force" dk n1 "$res" primary --force
	check "$p/$sec: full sync of 256 MiB finishes" dk n1 "$res" wait-sync -t 60
	check_rc "$p/$sec: a second primary is refused (exit 8)" 8 dk n2 "$res" primary
	check "$p/$sec: show gives the link's configuration" \
		grep -q "net $(lab_addr n1):$port $(lab_addr n2):$port protocol $p security $sec" <<<"$(dk n1 "$res" show)"
	check "$p/$sec: dump-md shows the generation both share" \
		[ "$(dk n1 "$res" dump-md | jq -r .uuid_current)" = "$(dk n2 "$res" dump-md | jq -r .uuid_current)" ]
	check "$p/$sec: the secondary refuses NBD clients" \
		not lab_exec n2 nbdinfo "$(disk_uri n2 "$res")"

	rand="$LAB_DIR/rand-$p"
	head -c 120M /dev/urandom >"$rand"
	if [ "$p" = B ]; then
		check "$p/$sec: qemu-img writes 120 MiB through the export" \
			lab_exec n1 qemu-img convert -n -f raw -O raw "$rand" "$(disk_uri n1 "$res")"
	else
		check "$p/$sec: nbdcopy writes 120 MiB through the export" \
			lab_exec n1 nbdcopy --flush "$rand" "$(disk_uri n1 "$res")"
	fi
	# Overlapping writes in flight at once: four jobs over the same 8 MiB.
	check "$p/$sec: concurrent overlapping writes (fio, 4 jobs x QD16, same area)" \
		lab_exec n1 fio --name=overlap --ioengine=nbd --uri="$(disk_uri n1 "$res")" --rw=randwrite \
		--bsrange=512-64k --blockalign=512 --iodepth=16 --numjobs=4 --offset=128M --size=8M \
		--runtime=3 --time_based --randrepeat=0 --output=/dev/null
	check "$p/$sec: wait-sync after the writes" dk n1 "$res" wait-sync -t 30
	check "$p/$sec: the primary read back what was written" \
		cmp -n 125829120 "$rand" "$LAB_DIR/n1/$res.img"
	check "$p/$sec: both backing stores are identical" disk_same "$res"
	check "$p/$sec: counters show the data sent and received" \
		[ "$(disk_state n1 "$res" .sent)" -gt 125829120 -a "$(disk_state n2 "$res" .received)" -gt 125829120 ]
	check "$p/$sec: nothing out of sync, nothing unacknowledged" \
		jqt '.out_of_sync == 0 and .unacked == 0' <<<"$(dk n1 --json "$res" status)"
	dk n1 "$res" secondary >/dev/null
	check "$p/$sec: down on both" disk_down "$res"
	rm -f "$rand"
done

check "status on n1 is empty after down" [ "$(dk n1 --json status | jq length)" = 0 ]
disk_finish
