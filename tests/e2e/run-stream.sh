#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of hha-runon's streams: 200 MiB arrive intact both ways,
# a slow reader stalls the command instead of growing the daemons' memory,
# and a reader that goes away stops the command as a local pipe would.
set -u
. "$(dirname "$0")/run-lib.sh"
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

run_lab_up

data=$LAB_DIR/data
head -c $((200 << 20)) /dev/urandom >"$data"
sum=$(md5sum <"$data")
check "200 MiB from the remote command arrive intact" \
	[ "$(runon 2 cat "$data" | md5sum)" = "$sum" ]
check "200 MiB to the remote command arrive intact" \
	[ "$(runon 2 md5sum <"$data")" = "$sum" ]
check "... and through a pipe both ways at once" \
	[ "$(runon 2 cat <"$data" | md5sum)" = "$sum" ]
check "stderr is carried apart from stdout" \
	[ "$(runon 2 sh -c 'echo out; echo err >&2' 2>/dev/null)" = out ]

# A reader that sleeps: the command must stall, the daemons must not buffer.
rss0=$(rss_kb "$(lab_hhad_pid n2)")
pid=$(lab_bg n1 "$LAB_DIR/slow.log" sh -c \
	"'$HHA_BUILDDIR/hha-runon' --socket '$LAB_DIR/n1/run/hhad.sock' 2 cat '$data' | (sleep 4; md5sum >'$LAB_DIR/slow.sum')")
sleep 2.5
helper=$(pgrep -f -- '--run-session' | while read -r p; do
	grep -qx "$p" "$(lab_cgroup n2)/cgroup.procs" && echo "$p"; done | head -1)
hrss=$(rss_kb "${helper:-0}")
drss=$(rss_kb "$(lab_hhad_pid n2)")
echo "# while the reader sleeps: helper RSS ${hrss} kB, hhad RSS ${drss} kB (was ${rss0} kB)"
check "the session helper stays small while its reader sleeps (< 16 MiB)" \
	[ -n "$helper" ] && [ "$hrss" -gt 0 ] && [ "$hrss" -lt 16384 ]
check "hhad does not grow while a reader sleeps (< 4 MiB more)" [ $((drss - rss0)) -lt 4096 ]
lab_bg_wait "$pid" 60
check "... and the slow reader still gets every byte" [ "$(cat "$LAB_DIR/slow.sum")" = "$sum" ]

# A reader that leaves: the command gets SIGPIPE, like `yes | head`.
(runon 2 yes; echo "rc=$?" >"$LAB_DIR/yes.rc") | head -2 >/dev/null
out=$(cat "$LAB_DIR/yes.rc")
check "a reader that goes away stops the command with SIGPIPE (141)" grep -Eq '^(rc=)?141$' <<<"$out"

run_finish
