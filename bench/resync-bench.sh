#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Benchmark: resync after an outage against a full sync and rsync, resync
# under application load, and activity-log churn; in a two-node lab, with
# the baselines measured in the same run.
#
# Usage: bench/resync-bench.sh [-r REPS] [-t SECONDS] [-q]
#   -r REPS     repetitions of each measurement (median reported; default 3)
#   -t SECONDS  length of each fio run (default 4)
#   -q          quick: skip the 64 GiB activity-log churn
# Needs root, the lab's tools (tests/lab/lab.sh), fio (nbd engine), rsync,
# jq, bc. Binaries from $HHA_BUILDDIR (default ./build). Backing files are
# sparse files on /dev/shm (tmpfs), so the disk is not what is measured.
#
# Measures (protocol C, security auth, rate unlimited):
#   full     full sync of a 1 GiB device holding random data: its rate;
#   outage   0.1%, 1%, 10% of the 1 GiB device changed in random 4 KiB
#            writes while n2 is disconnected; then n2 reconnects: bytes the
#            source sent (goal <= 1.1 x changed) and the time from connect
#            to in sync (goal <= 2 x changed / full-sync rate + 0.2 s);
#            beside it rsync --inplace --no-whole-file of the backing file
#            (the same change) and a full sync;
#   load     512 MiB marked out of sync; the resync alone, fio 4 KiB random
#            writes at QD16 alone, then the resync while fio writes: the
#            application keeps >= 50% of its throughput (fio's IOPS log over
#            the resync) and the resync >= 25% of its speed;
#   churn    4 KiB random writes at QD32 over a 64 GiB sparse device
#            (activity-log misses all the time) against the same confined to
#            4 GiB (fits the default log of 1237 x 4 MiB): goal >= 0.5.
set -u

reps=3 secs=4 quick=0
while getopts "r:t:qh" o; do
	case $o in
	r) reps=$OPTARG ;;
	t) secs=$OPTARG ;;
	q) quick=1 ;;
	*) sed -n '3,27p' "$0"; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "resync-bench.sh: needs root (network namespaces)" >&2; exit 1; }
here=$(cd "$(dirname "$0")/.." && pwd)
export HHA_BUILDDIR=${HHA_BUILDDIR:-$here/build}
export HHA_SRCDIR=${HHA_SRCDIR:-$here}
for t in fio rsync jq bc; do
	command -v $t >/dev/null || { echo "resync-bench.sh: $t is missing" >&2; exit 1; }
done
shm=$(mktemp -d -p /dev/shm hha-resync-bench.XXXXXX)
trap 'rm -rf "$shm"' EXIT
. "$HHA_SRCDIR/tests/lab/lab.sh"

lab_up 2 >/dev/null || { echo "lab_up failed" >&2; exit 1; }
lab_hhad_start n1 && lab_hhad_start n2 || exit 1
dk() { local h=$1; shift; lab_tool "$h" hha-disk "$@"; }
st() { dk "$1" --json r0 status | jq -r "$2"; }
now() { date +%s.%N; }
median() { sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
calc() { echo "scale=3; $*" | bc; }
opts=(--timeout 2000 --ping-int 500 --connect-int 100)

# A pair r0 of SIZE (backing size; default 1025M = 1 GiB usable), n1 primary, in sync.
pair_up() {
	local h peer b
	for h in n1 n2; do
		[ $h = n1 ] && peer=n2 || peer=n1
		b="$shm/$h.img"
		rm -f "$b"; truncate -s "${1:-1025M}" "$b"
		dk $h r0 create-md "$b" --force >/dev/null
		dk $h r0 attach "$b" --export-unix "$shm/$h.nbd" >/dev/null
		dk $h r0 connect "$(lab_addr $h):7800" "$(lab_addr $peer):7800" "${opts[@]}" >/dev/null
	done
	dk n1 r0 wait-connect -t 10 >/dev/null
}
pair_down() { dk n1 r0 secondary >/dev/null 2>&1; dk n1 r0 down >/dev/null; dk n2 r0 down >/dev/null; rm -f "$shm"/n?.img; }
uri="nbd+unix:///r0?socket=$shm/n1.nbd"
away() { dk n2 r0 disconnect >/dev/null; lab_wait_json 10 '.connection == "WFConnection"' lab_tool n1 hha-disk --json r0 status >/dev/null; }
back() { dk n2 r0 connect "$(lab_addr n2):7800" "$(lab_addr n1):7800" "${opts[@]}" >/dev/null; }
# fio 4 KiB random writes: COUNT distinct blocks (or --time_based with "t"), QD, extra args
fio_w() { # NAME QD ARGS...
	local n=$1 q=$2
	shift 2
	lab_exec n1 fio --name=b --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth="$q" \
		--output-format=json --output="$shm/fio-$n.json" "$@" >/dev/null 2>&1
	jq -r '.jobs[0].write.iops' "$shm/fio-$n.json"
}

declare -A R
size=0

# -- full sync ------------------------------------------------------------------
full=()
for i in $(seq "$reps"); do
	pair_up
	size=$(st n1 .size)
	dd if=/dev/urandom of="$shm/n1.img" bs=1M count=$((size >> 20)) conv=notrunc status=none
	t0=$(now)
	dk n1 r0 primary --force >/dev/null
	dk n1 r0 wait-sync -t 300 >/dev/null
	full+=("$(calc "$(now) - $t0")")
	pair_down
done
R[full]=$(printf '%s\n' "${full[@]}" | median)
rate=$(calc "$size / ${R[full]}")

# -- outages --------------------------------------------------------------------
for pct in 0.1 1 10; do
	t=() b=() rt=() rb=()
	blocks=$(calc "$size / 4096 * $pct / 100" | cut -d. -f1)
	for i in $(seq "$reps"); do
		pair_up
		dk n1 r0 skip-sync >/dev/null && dk n1 r0 primary >/dev/null
		away
		cp --sparse=always "$shm/n2.img" "$shm/rsync-dst.img"
		fio_w "o$pct" 16 --size="$size" --io_size=$((blocks * 4096)) --randseed="$i" >/dev/null
		s0=$(st n1 .sent)
		t0=$(now)
		back
		dk n1 r0 wait-sync -t 300 >/dev/null
		t+=("$(calc "$(now) - $t0")")
		b+=("$(($(st n1 .sent) - s0))")
		# rsync of n1's backing file onto the copy n2 had before the outage.
		t0=$(now)
		rsync --inplace --no-whole-file --stats "$shm/n1.img" "$shm/rsync-dst.img" -I >"$shm/rsync.out"
		rt+=("$(calc "$(now) - $t0")")
		rb+=("$(awk '/Literal data/ {gsub(",", "", $3); print $3}' "$shm/rsync.out")")
		pair_down
	done
	R[t_$pct]=$(printf '%s\n' "${t[@]}" | median)
	R[b_$pct]=$(printf '%s\n' "${b[@]}" | median)
	R[rt_$pct]=$(printf '%s\n' "${rt[@]}" | median)
	R[rb_$pct]=$(printf '%s\n' "${rb[@]}" | median)
	R[c_$pct]=$((blocks * 4096))
done

# -- resync under application load ------------------------------------------------
marked=$((512 << 20))
mark() { # 512 MiB out of sync (sequential 1 MiB writes), n2 away
	away
	lab_exec n1 fio --name=m --ioengine=nbd --uri="$uri" --rw=write --bs=1M --iodepth=4 --size=$marked \
		--output=/dev/null >/dev/null 2>&1
}
# The mean of fio's IOPS log entries between $1 and $2 s after the run started.
iops_between() {
	awk -F, -v a="$1" -v b="$2" '$1 / 1000 >= a && $1 / 1000 <= b { s += $2; n++ } END { print n ? s / n : 0 }' \
		"$shm"/load_iops*.log
}
la=() ra=() lb=() rb2=()
for i in $(seq "$reps"); do
	pair_up
	dk n1 r0 skip-sync >/dev/null && dk n1 r0 primary >/dev/null
	# the application alone (connected, in sync)
	la+=("$(fio_w alone 16 --size="$size" --time_based --runtime="$secs")")
	# the resync alone
	mark
	t0=$(now); back; dk n1 r0 wait-sync -t 300 >/dev/null
	ra+=("$(calc "$marked / ($(now) - $t0)")")
	# both: the application writes steadily; the resync starts 1 s into it
	mark
	rm -f "$shm"/load_iops*.log
	f0=$(now)
	lab_exec n1 fio --name=load --ioengine=nbd --uri="$uri" --rw=randwrite --bs=4k --iodepth=16 \
		--size="$size" --time_based --runtime=$((secs + 8)) --write_iops_log="$shm/load" \
		--log_avg_msec=100 --output=/dev/null >/dev/null 2>&1 &
	fpid=$!
	sleep 1
	t0=$(now); back; dk n1 r0 wait-sync -t 300 >/dev/null; t1=$(now)
	wait "$fpid"
	rb2+=("$(calc "$marked / ($t1 - $t0)")")
	lb+=("$(iops_between "$(calc "$t0 - $f0 + 0.2")" "$(calc "$t1 - $f0")")")
	pair_down
done
R[app_alone]=$(printf '%s\n' "${la[@]}" | median)
R[rs_alone]=$(printf '%s\n' "${ra[@]}" | median)
R[app_loaded]=$(printf '%s\n' "${lb[@]}" | median)
R[rs_loaded]=$(printf '%s\n' "${rb2[@]}" | median)

# -- activity-log churn -------------------------------------------------------------
if [ "$quick" = 0 ]; then
	hot=() wide=()
	for i in $(seq "$reps"); do
		pair_up 64G
		dk n1 r0 skip-sync >/dev/null && dk n1 r0 primary >/dev/null
		hot+=("$(fio_w hot 32 --size=4G --time_based --runtime="$secs")")
		tx0=$(st n1 .al_transactions)
		wide+=("$(fio_w wide 32 --size=64G --time_based --runtime="$secs")")
		R[txn]=$(($(st n1 .al_transactions) - tx0))
		pair_down
	done
	R[hot]=$(printf '%s\n' "${hot[@]}" | median)
	R[wide]=$(printf '%s\n' "${wide[@]}" | median)
fi

mib() { calc "$1 / 1048576"; }
echo
echo "resync-bench.sh: median of $reps runs; 1 GiB device, backing files on tmpfs, protocol C, auth"
printf 'full sync: %.2f s = %.0f MiB/s\n' "${R[full]}" "$(mib "$rate")"
echo
printf '%-7s %12s %12s %7s | %9s %9s %6s | %9s %12s | %9s\n' changed "bytes" "sent" "/chg" "time s" \
	"goal s" "ok" "rsync s" "rsync bytes" "full s"
for pct in 0.1 1 10; do
	c=${R[c_$pct]} s=${R[b_$pct]} tt=${R[t_$pct]}
	goal=$(calc "2 * $c / $rate + 0.2")
	okb=$([ "$(calc "$s <= 1.1 * $c")" = 1 ] && echo yes || echo NO)
	okt=$([ "$(calc "$tt <= $goal")" = 1 ] && echo yes || echo NO)
	printf '%-7s %12s %12s %7s | %9.3f %9.3f %6s | %9.3f %12s | %9.2f\n' "$pct%" "$c" "$s" \
		"$(calc "$s / $c")" "$tt" "$goal" "$okb/$okt" "${R[rt_$pct]}" "${R[rb_$pct]}" "${R[full]}"
done
echo
printf 'under load: application %.0f IOPS alone, %.0f during the resync (%.2f; goal >= 0.5)\n' \
	"${R[app_alone]}" "${R[app_loaded]}" "$(calc "${R[app_loaded]} / ${R[app_alone]}")"
printf '            resync %.0f MiB/s alone, %.0f MiB/s under the load (%.2f; goal >= 0.25)\n' \
	"$(mib "${R[rs_alone]}")" "$(mib "${R[rs_loaded]}")" "$(calc "${R[rs_loaded]} / ${R[rs_alone]}")"
if [ "$quick" = 0 ]; then
	printf 'activity-log churn: 64 GiB %.0f IOPS, 4 GiB hot set %.0f IOPS (%.2f; goal >= 0.5; %s log transactions in the last run)\n' \
		"${R[wide]}" "${R[hot]}" "$(calc "${R[wide]} / ${R[hot]}")" "${R[txn]}"
fi
