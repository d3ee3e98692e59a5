#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark: the replicated device against its baselines, measured in the same
# run, same clients, same kind of backing files, in a two-node lab.
#
# Usage: bench/disk-replication.sh [-r REPS] [-t SECONDS] [-m MODES] [-q]
#   -r REPS     repetitions of each measurement (median reported; default 3)
#   -t SECONDS  length of each fio run (default 5)
#   -m MODES    security modes to measure (default "none auth encrypt")
#   -q          quick: skip the 64 GiB memory measurement
# Needs root, the lab's tools (tests/lab/lab.sh), nbdkit, nbdcopy, fio (nbd
# engine). Binaries from $HHA_BUILDDIR (default ./build). Backing files are
# sparse files on /dev/shm (tmpfs), so the disk is not what is measured.
#
# Baselines:
#   one      `nbdkit file` on the client's node over a Unix socket;
#   ceiling  the same data written at the same time to that export and to an
#            `nbdkit file` export on the peer node across the lab link (TCP):
#            the replication ceiling on this machine (two copies, same CPUs).
#   link     nbdcopy from an nbdkit export on one node to one on the other.
# Measures, per security mode (protocol C, the default):
#   seq      1 GiB sequential write with nbdcopy through the primary's export
#            (goal: >= 0.9 x ceiling; ratio to one export reported too);
#   qd1      4 KiB random writes, queue depth 1 (fio nbd engine): median,
#            p99, max latency (goal: median <= 2 x one export's);
#   qd32     the same at queue depth 32: IOPS (goal: >= 0.9 x ceiling);
#   sync     full sync of 1 GiB of random data, rate unlimited
#            (goal: >= 0.8 x link);
# and hhad's resident memory with a 1 GiB and a 64 GiB (sparse) device.
set -u

reps=3 secs=5 modes="none auth encrypt" quick=0
while getopts "r:t:m:qh" o; do
	case $o in
	r) reps=$OPTARG ;;
	t) secs=$OPTARG ;;
	m) modes=$OPTARG ;;
	q) quick=1 ;;
	*) sed -n '3,32p' "$0"; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "disk-replication.sh: needs root (network namespaces)" >&2; exit 1; }
here=$(cd "$(dirname "$0")/.." && pwd)
export HHA_BUILDDIR=${HHA_BUILDDIR:-$here/build}
export HHA_SRCDIR=${HHA_SRCDIR:-$here}
for t in nbdkit nbdcopy fio jq bc; do
	command -v $t >/dev/null || { echo "disk-replication.sh: $t is missing" >&2; exit 1; }
done
shm=$(mktemp -d -p /dev/shm hha-disk-bench.XXXXXX)
trap 'rm -rf "$shm"' EXIT
. "$HHA_SRCDIR/tests/lab/lab.sh"

lab_up 2 >/dev/null || { echo "lab_up failed" >&2; exit 1; }
lab_hhad_start n1 && lab_hhad_start n2 || exit 1
a1=$(lab_addr n1) a2=$(lab_addr n2)
dk() { local h=$1; shift; lab_tool "$h" hha-disk "$@"; }
now() { date +%s.%N; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
ratio() { echo "scale=2; $1 / $2" | bc; }

src="$shm/src"
head -c 1G /dev/urandom >"$src"

# nbdkit baselines: one on n1 (Unix), one on n2 (TCP across the link).
base_start() {
	truncate -s 0 "$shm/base1.img" "$shm/base2.img"
	truncate -s 1G "$shm/base1.img" "$shm/base2.img"
	rm -f "$shm/base1.sock"
	k1=$(lab_bg n1 "$shm/nbdkit1.log" nbdkit -f -U "$shm/base1.sock" file "$shm/base1.img")
	k2=$(lab_bg n2 "$shm/nbdkit2.log" nbdkit -f -i "$a2" -p 10809 file "$shm/base2.img")
	lab_wait_for 5 test -S "$shm/base1.sock"
	lab_wait_for 5 lab_exec n1 nbdinfo --size "nbd://$a2:10809/" >/dev/null
}
base_stop() { kill "$k1" "$k2" 2>/dev/null; lab_bg_wait "$k1" 5 >/dev/null; lab_bg_wait "$k2" 5 >/dev/null; }
u1="nbd+unix:///?socket=$shm/base1.sock" u2="nbd://$a2:10809/"

# fio 4 KiB random writes at QD on URI for $secs: prints "iops p50 p99 max" (us).
fio_run() {
	lab_exec n1 fio --name=b --ioengine=nbd --uri="$2" --rw=randwrite --bs=4k --iodepth="$1" \
		--size=1G --runtime="$secs" --time_based --lat_percentiles=1 --output-format=json \
		--output="$shm/fio-$3.json" >/dev/null 2>&1
	# Total latency (submission to completion), not fio's clat.
	jq -r '.jobs[0].write | "\(.iops) \(.lat_ns.percentile["50.000000"] / 1000) \(.lat_ns.percentile["99.000000"] / 1000) \(.lat_ns.max / 1000)"' "$shm/fio-$3.json"
}

declare -A R
measure_base() {
	local i t0 s=() c=() q1=() q32=() q32c=() l=()
	for i in $(seq "$reps"); do
		base_start
		t0=$(now); lab_exec n1 nbdcopy "$src" "$u1"; s+=("$(echo "$(now) - $t0" | bc)")
		base_stop; base_start
		t0=$(now)
		lab_exec n1 nbdcopy "$src" "$u1" & p1=$!
		lab_exec n1 nbdcopy "$src" "$u2" & p2=$!
		wait $p1 $p2
		c+=("$(echo "$(now) - $t0" | bc)")
		q1+=("$(fio_run 1 "$u1" one1)")
		q32+=("$(fio_run 32 "$u1" one32 | cut -d' ' -f1)")
		fio_run 32 "$u1" c1 >"$shm/c1" & p1=$!
		fio_run 32 "$u2" c2 >"$shm/c2" & p2=$!
		wait $p1 $p2
		q32c+=("$(printf '%s\n%s\n' "$(cut -d' ' -f1 "$shm/c1")" "$(cut -d' ' -f1 "$shm/c2")" | sort -g | head -1)")
		# link: copy 1 GiB from n1's nbdkit (holding the data now) to n2's.
		t0=$(now); lab_exec n1 nbdcopy "$u1" "$u2"; l+=("$(echo "$(now) - $t0" | bc)")
		base_stop
	done
	R[one_seq]=$(printf '%s\n' "${s[@]}" | median)
	R[ceil_seq]=$(printf '%s\n' "${c[@]}" | median)
	R[one_qd1]=$(printf '%s\n' "${q1[@]}" | awk '{print $2}' | median)
	R[one_qd1_line]=$(printf '%s\n' "${q1[@]}" | sort -k2 -g | sed -n "$(( (reps + 1) / 2 ))p")
	R[one_qd32]=$(printf '%s\n' "${q32[@]}" | median)
	R[ceil_qd32]=$(printf '%s\n' "${q32c[@]}" | median)
	R[link]=$(printf '%s\n' "${l[@]}" | median)
}

# A connected, in-sync pair r-MODE of 1 GiB (skip-sync: both blank), n1 primary.
pair_up() { # MODE PORT
	local h peer b
	for h in n1 n2; do
		[ $h = n1 ] && peer=n2 || peer=n1
		b="$shm/$h-$1.img"
		# 1 GiB usable after the internal metadata.
		truncate -s 0 "$b"; truncate -s "${3:-1025M}" "$b"
		dk $h "r$1" create-md "$b" --force >/dev/null
		dk $h "r$1" attach "$b" --export-unix "$shm/$h-$1.nbd" >/dev/null
		dk $h "r$1" connect "$(lab_addr $h):$2" "$(lab_addr $peer):$2" --security "$1" >/dev/null
	done
	dk n1 "r$1" wait-connect -t 10 >/dev/null
}
pair_down() {
	dk n1 "r$1" secondary >/dev/null 2>&1
	dk n1 "r$1" down >/dev/null; dk n2 "r$1" down >/dev/null
	rm -f "$shm"/n?-"$1".img
}

measure_mode() { # MODE PORT
	local m=$1 i t0 s=() q1=() q32=() y=() uri="nbd+unix:///r$1?socket=$shm/n1-$1.nbd"
	for i in $(seq "$reps"); do
		pair_up "$m" "$2"
		dk n1 "r$m" skip-sync >/dev/null && dk n1 "r$m" primary >/dev/null
		t0=$(now); lab_exec n1 nbdcopy "$src" "$uri"; s+=("$(echo "$(now) - $t0" | bc)")
		q1+=("$(fio_run 1 "$uri" "$m-1")")
		q32+=("$(fio_run 32 "$uri" "$m-32" | cut -d' ' -f1)")
		pair_down "$m"
		# Full sync: n1's store holds 1 GiB of random data, n2's is blank.
		pair_up "$m" "$2"
		dd if="$src" of="$shm/n1-$m.img" bs=1M conv=notrunc status=none
		t0=$(now)
		dk n1 "r$m" primary --force >/dev/null
		dk n1 "r$m" wait-sync -t 300 >/dev/null
		y+=("$(echo "$(now) - $t0" | bc)")
		cmp -s -n "$(dk n1 --json "r$m" status | jq .size)" "$shm/n1-$m.img" "$shm/n2-$m.img" ||
			echo "WARNING: $m: stores differ after the sync" >&2
		pair_down "$m"
	done
	R[${m}_seq]=$(printf '%s\n' "${s[@]}" | median)
	R[${m}_qd1]=$(printf '%s\n' "${q1[@]}" | awk '{print $2}' | median)
	R[${m}_qd1_line]=$(printf '%s\n' "${q1[@]}" | sort -k2 -g | sed -n "$(( (reps + 1) / 2 ))p")
	R[${m}_qd32]=$(printf '%s\n' "${q32[@]}" | median)
	R[${m}_sync]=$(printf '%s\n' "${y[@]}" | median)
}

rss_of() { awk '/VmRSS/ {print $2}' "/proc/$(lab_hhad_pid n1)/status"; }
measure_rss() { # SIZE LABEL
	local before after
	before=$(rss_of)
	pair_up auth 7899 "$1"
	dk n1 rauth skip-sync >/dev/null && dk n1 rauth primary >/dev/null
	lab_exec n1 fio --name=w --ioengine=nbd --uri="nbd+unix:///rauth?socket=$shm/n1-auth.nbd" \
		--rw=randwrite --bs=4k --iodepth=32 --size="$1" --io_size=64M --output=/dev/null >/dev/null 2>&1
	after=$(rss_of)
	R[rss_$2]="$before $after"
	pair_down auth
}

# Memory first, on a fresh hhad: what a device costs, not what earlier runs left.
measure_rss 1G 1g
[ "$quick" = 1 ] || measure_rss 64G 64g
measure_base
port=7800
for m in $modes; do measure_mode "$m" $port; port=$((port + 1)); done

mbs() { echo "scale=0; 1024 / $1" | bc; }
echo
echo "disk-replication.sh: median of $reps runs, 1 GiB, fio ${secs}s, protocol C, backing files on tmpfs"
printf '%-28s %10s %10s %10s\n' "baseline" "MB/s|IOPS" "" ""
printf '%-28s %10s\n' "one export: seq write" "$(mbs "${R[one_seq]}") MiB/s"
printf '%-28s %10s\n' "ceiling: seq write" "$(mbs "${R[ceil_seq]}") MiB/s"
printf '%-28s %10s\n' "link copy (node to node)" "$(mbs "${R[link]}") MiB/s"
read -r i p50 p99 mx <<<"${R[one_qd1_line]}"
printf '%-28s %10s  (p50 %.0f us, p99 %.0f us, max %.0f us)\n' "one export: 4K QD1" "${i%.*} IOPS" "$p50" "$p99" "$mx"
printf '%-28s %10s\n' "one export: 4K QD32" "${R[one_qd32]%.*} IOPS"
printf '%-28s %10s\n' "ceiling: 4K QD32" "${R[ceil_qd32]%.*} IOPS"
echo
printf '%-9s %10s %8s %8s | %22s %8s | %11s %8s | %9s %8s\n' mode "seq MiB/s" "/ceil" "/one" \
	"QD1 p50/p99/max us" "p50/one" "QD32 IOPS" "/ceil" "sync s" "/link"
for m in $modes; do
	read -r i p50 p99 mx <<<"${R[${m}_qd1_line]}"
	printf '%-9s %10s %8s %8s | %22s %8s | %11s %8s | %9s %8s\n' "$m" "$(mbs "${R[${m}_seq]}")" \
		"$(ratio "${R[ceil_seq]}" "${R[${m}_seq]}")" "$(ratio "${R[one_seq]}" "${R[${m}_seq]}")" \
		"$(printf '%.0f/%.0f/%.0f' "$p50" "$p99" "$mx")" "$(ratio "${R[${m}_qd1]}" "${R[one_qd1]}")" \
		"${R[${m}_qd32]%.*}" "$(ratio "${R[${m}_qd32]}" "${R[ceil_qd32]}")" \
		"${R[${m}_sync]}" "$(ratio "${R[link]}" "${R[${m}_sync]}")"
done
echo
echo "goals: seq/ceil >= 0.9; QD1 p50/one <= 2; QD32/ceil >= 0.9; sync/link >= 0.8"
read -r b a <<<"${R[rss_1g]}"
echo "hhad RSS (fresh daemon): $((b / 1024)) MiB idle, $((a / 1024)) MiB with a 1 GiB device after 64 MiB of random writes"
if [ "$quick" = 0 ]; then
	read -r b a <<<"${R[rss_64g]}"
	echo "hhad RSS: $((b / 1024)) MiB before, $((a / 1024)) MiB with a 64 GiB device (bitmap 2 MiB) after 64 MiB of random writes"
fi
