#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark: our NBD server (hha-nbd-file) against nbdkit's file plugin, same clients, same run.
#
# Usage: bench/nbd-server.sh [-r REPS] [-d DIR] [-t SECONDS] [-q]
#   -r REPS     runs of each measurement, interleaved across servers (median reported; default 5)
#   -d DIR      where the backing files live (default /dev/shm: tmpfs)
#   -t SECONDS  length of each fio run (default 5)
#   -q          quick: skip the TCP runs
# Needs: nbdkit, nbdcopy (libnbd-bin), fio (with the nbd engine), python3.
# Finds hha-nbd-file in $HHA_BUILDDIR/tests/nbd or build/tests/nbd.
#
# Servers: "hha" is hha-nbd-file as built (a worker pool does the file I/O,
# so each request crosses threads as it will with the replication engine);
# "hha-inline" does the I/O on the connection's reader thread (the server's
# own cost); "nbdkit" is `nbdkit file` (its threads read requests and do the
# I/O themselves). Same backing file kind, a fresh sparse 1 GiB file each run.
#
# Measures, for each server:
#   seq   1 GiB sequential write with nbdcopy over a Unix socket (MB/s)
#   qd1   fio nbd engine, 4 KiB random writes, queue depth 1: IOPS, median,
#         p99 and max total latency (us)
#   qd32  the same at queue depth 32: IOPS
# over a Unix socket and over TCP on 127.0.0.1, and prints each figure and
# its ratio to nbdkit (for latency, below 1 is better; otherwise above 1).
set -euo pipefail

reps=5 dir=/dev/shm secs=5 transports="unix tcp"
while getopts "r:d:t:qh" o; do
	case $o in
	r) reps=$OPTARG ;;
	d) dir=$OPTARG ;;
	t) secs=$OPTARG ;;
	q) transports=unix ;;
	*) sed -n '3,27p' "$0"; exit 2 ;;
	esac
done

here=$(cd "$(dirname "$0")/.." && pwd)
hha=${HHA_BUILDDIR:-$here/build}/tests/nbd/hha-nbd-file
[ -x "$hha" ] || { echo "nbd-server.sh: $hha not built (make check first)" >&2; exit 1; }
for t in nbdkit nbdcopy fio python3; do
	command -v $t >/dev/null || { echo "nbd-server.sh: $t is missing" >&2; exit 1; }
done

servers="hha hha-inline nbdkit"
tmp=$(mktemp -d -p "$dir" hha-nbd-bench.XXXXXX)
srv_pid=
cleanup() {
	if [ -n "$srv_pid" ]; then kill "$srv_pid" 2>/dev/null; wait "$srv_pid" 2>/dev/null; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start SERVER TRANSPORT: sets srv_pid and uri; backing file $tmp/disk (1 GiB, fresh).
start() {
	local port= listen
	rm -f "$tmp/disk" "$tmp/sock"
	truncate -s 1G "$tmp/disk"
	if [ "$2" = unix ]; then
		uri="nbd+unix:///?socket=$tmp/sock"
	else
		port=$(free_port)
		uri="nbd://127.0.0.1:$port/"
	fi
	case $1 in
	hha | hha-inline)
		if [ "$2" = unix ]; then listen="--unix $tmp/sock"; else listen="--tcp 127.0.0.1:$port"; fi
		# shellcheck disable=SC2086
		"$hha" $listen --log-level warning $([ "$1" = hha-inline ] && echo --inline) \
			"$tmp/disk" 2>>"$tmp/server.log" &
		;;
	nbdkit)
		if [ "$2" = unix ]; then listen="-U $tmp/sock"; else listen="-i 127.0.0.1 -p $port"; fi
		# shellcheck disable=SC2086
		nbdkit -f $listen file "$tmp/disk" 2>>"$tmp/server.log" &
		;;
	esac
	srv_pid=$!
	for _ in $(seq 200); do
		if [ "$2" = unix ]; then [ -S "$tmp/sock" ] && return 0
		else (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0; fi
		sleep 0.05
	done
	echo "nbd-server.sh: $1 did not come up" >&2
	exit 1
}

stop() {
	kill "$srv_pid" 2>/dev/null
	wait "$srv_pid" 2>/dev/null || true
	srv_pid=
}

# fio_run QD -> prints "iops p50 p99 max" (total latency in us)
fio_run() {
	fio --name=bench --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth="$1" \
		--size=1G --time_based --runtime="$secs" --ramp_time=1 --lat_percentiles=1 \
		--output-format=json --output="$tmp/fio.json" >/dev/null 2>&1
	python3 - "$tmp/fio.json" <<'PY'
import json, sys
txt = open(sys.argv[1]).read()
w = json.loads(txt[txt.index('{'):])['jobs'][0]['write']
lat = w['lat_ns']
p = lat['percentile']
print('%.0f %.1f %.1f %.1f' % (w['iops'], p['50.000000'] / 1e3, p['99.000000'] / 1e3,
                               lat['max'] / 1e3))
PY
}

declare -A res
add() { res[$1]+="$2 "; }

head -c 1G /dev/urandom > "$tmp/src"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq "$reps"); do
	for s in $servers; do
		start "$s" unix
		t0=$(date +%s.%N)
		nbdcopy "$tmp/src" "$uri"
		t1=$(date +%s.%N)
		add "$s.seq" "$(python3 -c "print('%.0f' % (1073741824 / ($t1 - $t0) / 1e6))")"
		stop
		for tr in $transports; do
			start "$s" "$tr"
			read -r iops p50 p99 max < <(fio_run 1)
			add "$s.$tr.qd1" "$iops"
			add "$s.$tr.p50" "$p50"
			add "$s.$tr.p99" "$p99"
			add "$s.$tr.max" "$max"
			read -r iops _ < <(fio_run 32)
			add "$s.$tr.qd32" "$iops"
			stop
		done
	done
	echo "run $rep of $reps done (load $(cut -d' ' -f1 /proc/loadavg))"
done

med() { echo "${res[$1]}" | tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
ratio() { python3 -c "print('%.2f' % ($1 / $2))"; }
line() { # label key unit
	local k h i
	k=$(med "nbdkit.$2"); h=$(med "hha.$2"); i=$(med "hha-inline.$2")
	printf "%-40s %9s %9s %9s %7s %7s\n" "$1 ($3)" "$k" "$h" "$i" "$(ratio "$h" "$k")" \
		"$(ratio "$i" "$k")"
}
echo
echo "median of $reps interleaved runs; backing files in $dir; $(nproc) CPUs; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf "%-40s %9s %9s %9s %7s %7s\n" "measurement" "nbdkit" "hha" "hha-inl" "hha/k" "inl/k"
line "nbdcopy 1 GiB seq. write, unix" seq "MB/s"
for tr in $transports; do
	line "4K randwrite QD1, $tr" "$tr.qd1" "IOPS"
	line "4K randwrite QD1 median lat., $tr" "$tr.p50" "us"
	line "4K randwrite QD1 p99 lat., $tr" "$tr.p99" "us"
	line "4K randwrite QD1 max lat., $tr" "$tr.max" "us"
	line "4K randwrite QD32, $tr" "$tr.qd32" "IOPS"
done
echo
echo "raw runs:"
for k in $(printf '%s\n' "${!res[@]}" | sort); do echo "  $k: ${res[$k]}"; done
