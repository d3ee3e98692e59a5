# SPDX-License-Identifier: LGPL-2.1-or-later
# Helpers for the NBD server tests: temp dir, server start/stop, cleanup on any exit.
# Sourced by tests/nbd/*.sh. Everything a test creates is registered for cleanup
# (processes, mounts, loop devices, FUSE mounts) and undone even on failure.

set -euo pipefail

builddir=${HHA_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)/build}
srcdir=${HHA_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
hha_nbd_file=$builddir/tests/nbd/hha-nbd-file
nbd_raw=$builddir/tests/nbd/nbd-raw

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
say() { echo "== $*"; }

need() { for t; do command -v "$t" >/dev/null || skip "$t is not installed"; done; }

[ -x "$hha_nbd_file" ] || fail "$hha_nbd_file is not built"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/hha-nbd-test.XXXXXX")
cleanup_cmds=()
at_exit() { cleanup_cmds=("$*" "${cleanup_cmds[@]}"); }
run_cleanup() {
	local rc=$? c
	set +e
	for c in "${cleanup_cmds[@]}"; do eval "$c" >/dev/null 2>&1; done
	if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
		for f in "$tmp"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 30 "$f"; }; done
	fi
	rm -rf "$tmp"
	exit $rc
}
trap run_cleanup EXIT
trap 'exit 1' INT TERM

# start_server NAME [hha-nbd-file options...] FILE
# Listens on $tmp/NAME.sock and on 127.0.0.1 (a free port chosen by the
# kernel); sets NAME_sock, NAME_port, NAME_pid. Logs to $tmp/NAME.log.
start_server() {
	local name=$1; shift
	"$hha_nbd_file" --unix "$tmp/$name.sock" --tcp 127.0.0.1:0 --port-file "$tmp/$name.port" \
		"$@" 2>"$tmp/$name.log" &
	local pid=$!
	at_exit "kill $pid; wait $pid"
	for _ in $(seq 200); do
		[ -s "$tmp/$name.port" ] && break
		kill -0 $pid 2>/dev/null || fail "server $name did not start: $(cat "$tmp/$name.log")"
		sleep 0.05
	done
	[ -s "$tmp/$name.port" ] || fail "server $name did not come up"
	printf -v "${name}_sock" %s "$tmp/$name.sock"
	printf -v "${name}_port" %s "$(cat "$tmp/$name.port")"
	printf -v "${name}_pid" %s "$pid"
}

# stop_server NAME: SIGTERM, wait, and fail if it did not exit cleanly.
stop_server() {
	local pid_var=${1}_pid
	kill "${!pid_var}"
	wait "${!pid_var}" || fail "server $1 exited with status $?"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }
