#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark: our NBD server (hha-nbd-file) against nbdkit's file plugin, same clients, same run.
#
# Usage: bench/nbd-server.sh [-r REPS] [-d DIR] [-t SECONDS]
#   -r REPS     runs of each measurement (median reported; default 3)
#   -d DIR      where the backing files live (default /dev/shm: tmpfs)
#   -t SECONDS  length of each fio run (default 5)
# Needs: nbdkit, nbdcopy (libnbd-bin), fio (with the nbd engine), python3.
# Finds hha-nbd-file in $HHA_BUILDDIR/tests/nbd or build/tests/nbd.
#
# Measures, for each server:
#   seq   1 GiB sequential write with nbdcopy over a Unix socket (MB/s)
#   qd1   fio nbd engine, 4 KiB random writes, queue depth 1: median, p99, max latency (us)
#   qd32  the same at queue depth 32: IOPS
# over a Unix socket and over TCP on 127.0.0.1, and prints each figure with
# the ratio hha/nbdkit (for latency, < 1 is better; otherwise > 1 is better).
set -euo pipefail

reps=3 dir=/dev/shm secs=5
while getopts "r:d:t:h" o; do
	case $o in
	r) reps=$OPTARG ;;
	d) dir=$OPTARG ;;
	t) secs=$OPTARG ;;
	*) sed -n '3,16p' "$0"; exit 2 ;;
	esac
done

here=$(cd "$(dirname "$0")/.." && pwd)
hha=${HHA_BUILDDIR:-$here/build}/tests/nbd/hha-nbd-file
[ -x "$hha" ] || { echo "nbd-server.sh: $hha not built (make check first)" >&2; exit 1; }
for t in nbdkit nbdcopy fio python3; do
	command -v $t >/dev/null || { echo "nbd-server.sh: $t is missing" >&2; exit 1; }
done

tmp=$(mktemp -d -p "$dir" hha-nbd-bench.XXXXXX)
srv_pid=
cleanup() {
	[ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_for() { # $1: unix socket path or tcp port
	for _ in $(seq 100); do
		if [[ $1 == /* ]]; then [ -S "$1" ] && return 0
		else (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; fi
		sleep 0.05
	done
	echo "nbd-server.sh: server did not come up" >&2; exit 1
}

# start SERVER TRANSPORT: sets srv_pid and uri; backing file $tmp/disk (1 GiB, fresh).
start() {
	rm -f "$tmp/disk" "$tmp/sock"
	truncate -s 1G "$tmp/disk"
	local port
	if [ "$2" = unix ]; then
		uri="nbd+unix:///?socket=$tmp/sock"
	else
		port=$(free_port)
		uri="nbd://127.0.0.1:$port/"
	fi
	if [ "$1" = hha ]; then
		if [ "$2" = unix ]; then
			"$hha" --unix "$tmp/sock" --log-level warning "$tmp/disk" &
		else
			"$hha" --tcp "127.0.0.1:$port" --log-level warning "$tmp/disk" &
		fi
		srv_pid=$!
	else
		if [ "$2" = unix ]; then
			nbdkit -f -U "$tmp/sock" file "$tmp/disk" &
		else
			nbdkit -f -i 127.0.0.1 -p "$port" file "$tmp/disk" &
		fi
		srv_pid=$!
	fi
	if [ "$2" = unix ]; then wait_for "$tmp/sock"; else wait_for "$port"; fi
}

stop() {
	kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null || true
	srv_pid=
}

# fio_run QD -> prints "iops p50 p99 max" (latency in us, total latency)
fio_run() {
	fio --name=bench --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth="$1" \
		--size=1G --time_based --runtime="$secs" --ramp_time=1 --output-format=json \
		--output="$tmp/fio.json" >/dev/null 2>&1
	python3 - "$tmp/fio.json" <<'PY'
import json, sys
txt = open(sys.argv[1]).read()
j = json.loads(txt[txt.index('{'):])['jobs'][0]['write']
p = j['lat_ns']['percentile'] if 'percentile' in j['lat_ns'] else j['clat_ns']['percentile']
print('%.0f %.1f %.1f %.1f' % (j['iops'], p['50.000000'] / 1e3, p['99.000000'] / 1e3,
                               j['lat_ns']['max'] / 1e3))
PY
}

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

head -c 1G /dev/urandom > "$tmp/src"
declare -A res

for rep in $(seq "$reps"); do
	for s in hha nbdkit; do
		start $s unix
		t0=$(date +%s.%N)
		nbdcopy "$tmp/src" "$uri"
		t1=$(date +%s.%N)
		res[$s.seq]+="$(python3 -c "print('%.0f' % (1073741824 / ($t1 - $t0) / 1e6))") "
		stop
		for tr in unix tcp; do
			start $s $tr
			read -r _ p50 p99 max < <(fio_run 1)
			res[$s.$tr.p50]+="$p50 "; res[$s.$tr.p99]+="$p99 "; res[$s.$tr.max]+="$max "
			read -r iops _ < <(fio_run 32)
			res[$s.$tr.qd32]+="$iops "
			stop
		done
	done
done

med() { echo "${res[$1]}" | tr ' ' '\n' | grep . | median; }
line() { # label key unit
	local h k
	h=$(med "hha.$2"); k=$(med "nbdkit.$2")
	printf "%-44s %10s %10s %8s\n" "$1 ($3)" "$h" "$k" \
		"$(python3 -c "print('%.2f' % ($h / $k))")"
}
echo
echo "median of $reps runs; backing files in $dir; $(nproc) CPUs"
printf "%-44s %10s %10s %8s\n" "measurement" "hha" "nbdkit" "ratio"
line "nbdcopy 1 GiB sequential write, Unix" seq "MB/s"
for tr in unix tcp; do
	line "4K randwrite QD1 median latency, $tr" "$tr.p50" "us"
	line "4K randwrite QD1 p99 latency, $tr" "$tr.p99" "us"
	line "4K randwrite QD1 max latency, $tr" "$tr.max" "us"
	line "4K randwrite QD32, $tr" "$tr.qd32" "IOPS"
done
