#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of 16 replicated devices in one hhad per node, configured
# in the configuration file (added by a reload): all connect, sync, take
# writes through their own exports at once, and end identical; one status
# line each.
set -u
. "$(dirname "$0")/disk-lib.sh"

N=16
disk_lab_up

# Metadata first (through hhad: create-md needs no resource), then the config.
json='{"resources": {'
for i in $(seq 0 $((N - 1))); do
	for h in n1 n2; do
		b=$(disk_backing "$h" "r$i" 16M)
		dk "$h" "r$i" create-md "$b" >/dev/null || { echo "FAIL: create-md r$i on $h"; exit 1; }
	done
	[ "$i" = 0 ] || json="$json,"
	json="$json\"r$i\": {\"port\": $((7800 + i)), \"connect_int_ms\": 300,
		\"on\": {\"n1\": {\"backing\": \"$LAB_DIR/n1/r$i.img\"}, \"n2\": {\"backing\": \"$LAB_DIR/n2/r$i.img\"}}}"
done
json="$json}}"
lab_config_merge "$json" || { echo "FAIL: config"; exit 1; }
check "reload on n1 brings the resources up" lab_ctl n1 reload
check "reload on n2 too" lab_ctl n2 reload

all_connected=1
for i in $(seq 0 $((N - 1))); do dk n1 "r$i" wait-connect -t 20 >/dev/null || all_connected=0; done
check "all $N resources connect" [ "$all_connected" = 1 ]
for i in $(seq 0 $((N - 1))); do dk n1 "r$i" primary --force >/dev/null; done
all_synced=1
for i in $(seq 0 $((N - 1))); do dk n1 "r$i" wait-sync -t 60 >/dev/null || all_synced=0; done
check "all $N full syncs finish" [ "$all_synced" = 1 ]

pids=""
for i in $(seq 0 $((N - 1))); do
	lab_exec n1 bash -c "head -c 12M /dev/urandom | nbdcopy - '$(disk_uri n1 "r$i")'" &
	pids="$pids $!"
done
bad=0
for p in $pids; do wait "$p" || bad=$((bad + 1)); done
check "12 MiB written through each of the $N exports at once" [ "$bad" = 0 ]
same=0
for i in $(seq 0 $((N - 1))); do
	dk n1 "r$i" wait-sync -t 60 >/dev/null && disk_same "r$i" && same=$((same + 1))
done
check "all $N pairs of backing stores are identical ($same)" [ "$same" = "$N" ]
check "hha-disk status prints one line per resource" \
	[ "$(dk n1 status | grep -c '^r[0-9]*: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate')" = "$N" ]
check "hhad on n1 still answers" lab_ctl n1 status
rss=$(awk '/VmRSS/ {print $2}' "/proc/$(lab_hhad_pid n1)/status")
echo "# hhad RSS on n1 with $N resources: $((rss / 1024)) MiB"
for i in $(seq 0 $((N - 1))); do dk n1 "r$i" secondary >/dev/null; done
disk_finish
