#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmark hha-runon against OpenSSH in the same two-node lab, same run:
#   launch latency of `hha-runon 2 true' vs `ssh n2 true' (fresh connection)
#   and vs ssh through a ControlMaster; stdout throughput of
#   `hha-runon 2 cat FILE > /dev/null' vs `ssh n2 cat FILE > /dev/null'.
# Goals (issue 6): latency <= 1/5 of fresh ssh and <= ControlMaster ssh;
# throughput >= ssh's. Needs root, the lab (tests/lab/lab.sh), openssh-server.
# Both run as a throw-away user whose shell is /bin/sh with an empty home, so
# neither pays for someone's shell start-up files (sshd runs `$SHELL -c CMD',
# hha-runon execs CMD directly: that difference is part of the comparison).
# Usage: bench/run-vs-ssh.sh [LAUNCHES (default 50)] [MIB (default 1024)] [ROUNDS (default 3)]
set -eu

launches=${1:-50} mib=${2:-1024} rounds=${3:-3}
HHA_SRCDIR=${HHA_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
HHA_BUILDDIR=${HHA_BUILDDIR:-$HHA_SRCDIR/build}
export HHA_BUILDDIR
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
for t in sshd ssh ssh-keygen jq; do
	command -v "$t" >/dev/null || [ -x "/usr/sbin/$t" ] || { echo "bench: \`$t' is missing" >&2; exit 1; }
done
. "$HHA_SRCDIR/tests/lab/lab.sh"

# The real programs, not libtool's wrapper scripts (which cost ~20 ms a run).
runon=$HHA_BUILDDIR/hha-runon libs=
if [ -x "$HHA_BUILDDIR/.libs/hha-runon" ]; then
	runon=$HHA_BUILDDIR/.libs/hha-runon libs=$HHA_BUILDDIR/.libs
fi

user=hhab$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
trap 'userdel "$user" 2>/dev/null || true' EXIT
lab_up 2 >/dev/null
chmod a+x "$LAB_DIR" "$LAB_DIR/n1" "$LAB_DIR/n1/run"
lab_hhad_start n1
lab_hhad_start n2
a2=$(lab_addr n2)
sock=$LAB_DIR/n1/run/hhad.sock

# A throw-away sshd in n2: its own host key, root's key for this run only.
ssh_dir=$LAB_DIR/ssh
mkdir -p "$ssh_dir/home" /run/sshd
useradd -M -N -p '*' -g nogroup -d "$ssh_dir/home" -s /bin/sh "$user"
ssh-keygen -q -t ed25519 -N '' -f "$ssh_dir/host" </dev/null
ssh-keygen -q -t ed25519 -N '' -f "$ssh_dir/id" </dev/null
cp "$ssh_dir/id.pub" "$ssh_dir/authorized_keys"
chown -R "$user" "$ssh_dir/id" "$ssh_dir/home"
chmod a+rx "$ssh_dir"
echo "[$a2]:2222 $(cut -d' ' -f1-2 "$ssh_dir/host.pub")" >"$ssh_dir/known_hosts"
cat >"$ssh_dir/sshd_config" <<EOC
ListenAddress $a2
Port 2222
HostKey $ssh_dir/host
AuthorizedKeysFile $ssh_dir/authorized_keys
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $ssh_dir/sshd.pid
EOC
lab_bg n2 "$ssh_dir/sshd.log" /usr/sbin/sshd -D -e -f "$ssh_dir/sshd_config" >/dev/null
ssh_opts="-F /dev/null -p 2222 -l $user -i $ssh_dir/id -o BatchMode=yes -o UserKnownHostsFile=$ssh_dir/known_hosts -o StrictHostKeyChecking=yes"
as_user() { lab_exec n1 setpriv --reuid="$user" --regid=nogroup --clear-groups env HOME="$ssh_dir/home" "$@"; }
lab_wait_for 5 as_user ssh $ssh_opts "$a2" true
as_user ssh $ssh_opts -o ControlMaster=yes -o ControlPath="$ssh_dir/home/cm" -o ControlPersist=600 -fN "$a2"

# Mean milliseconds per launch of CMD, run LAUNCHES times inside n1.
per_launch() {
	as_user env LD_LIBRARY_PATH="$libs" bash -c '
		n=$1; shift
		t0=${EPOCHREALTIME/[.,]/}
		for ((i = 0; i < n; i++)); do "$@" >/dev/null || exit 1; done
		t1=${EPOCHREALTIME/[.,]/}
		echo $(( (t1 - t0) / n ))' bench "$launches" "$@"
}
ms() { printf '%d.%02d' $(($1 / 1000)) $((($1 % 1000) / 10)); }

echo "== launch latency: $launches launches each, mean per launch (best of $rounds rounds, interleaved)"
best_r=0 best_s=0 best_m=0
for ((r = 0; r < rounds; r++)); do
	x=$(per_launch "$runon" --socket "$sock" 2 true)
	[ "$best_r" = 0 ] || [ "$x" -lt "$best_r" ] && best_r=$x
	x=$(per_launch ssh $ssh_opts "$a2" true)
	[ "$best_s" = 0 ] || [ "$x" -lt "$best_s" ] && best_s=$x
	x=$(per_launch ssh $ssh_opts -o ControlPath="$ssh_dir/home/cm" "$a2" true)
	[ "$best_m" = 0 ] || [ "$x" -lt "$best_m" ] && best_m=$x
done
printf '%-44s %8s ms\n' "hha-runon 2 true" "$(ms "$best_r")" \
	"ssh n2 true (fresh connection)" "$(ms "$best_s")" \
	"ssh n2 true (ControlMaster)" "$(ms "$best_m")"
printf 'ratio hha-runon / ssh fresh:         %s (goal <= 0.20)\n' "$(echo "scale=3; $best_r / $best_s" | bc)"
printf 'ratio hha-runon / ssh ControlMaster: %s (goal <= 1.00)\n' "$(echo "scale=3; $best_r / $best_m" | bc)"

echo "== stdout throughput: cat of a ${mib} MiB file to /dev/null (best of $rounds, interleaved)"
file=$LAB_DIR/data
head -c $((mib << 20)) /dev/urandom >"$file"
chmod a+r "$file"
cat "$file" >/dev/null
secs() { # CMD... -> microseconds
	as_user env LD_LIBRARY_PATH="$libs" bash -c '
		t0=${EPOCHREALTIME/[.,]/}; "$@" >/dev/null || exit 1; t1=${EPOCHREALTIME/[.,]/}
		echo $((t1 - t0))' bench "$@"
}
best_r=0 best_s=0
for ((r = 0; r < rounds; r++)); do
	x=$(secs "$runon" --socket "$sock" 2 cat "$file")
	[ "$best_r" = 0 ] || [ "$x" -lt "$best_r" ] && best_r=$x
	x=$(secs ssh $ssh_opts "$a2" cat "$file")
	[ "$best_s" = 0 ] || [ "$x" -lt "$best_s" ] && best_s=$x
done
mbs() { echo "scale=0; $mib * 1048576 / $1" | bc; } # bytes/us = MB/s
cipher=$(grep -o 'cipher: [^ ]*' "$ssh_dir/sshd.log" | tail -1 || true)
printf '%-44s %8s MB/s\n' "hha-runon 2 cat (AES-256-GCM)" "$(mbs "$best_r")" \
	"ssh n2 cat (default cipher${cipher:+, $cipher})" "$(mbs "$best_s")"
printf 'ratio hha-runon / ssh: %s (goal >= 1.00)\n' "$(echo "scale=3; $best_s / $best_r" | bc)"
echo "(machine load during the run: $(cut -d' ' -f1-3 /proc/loadavg))"
