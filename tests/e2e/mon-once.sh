#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# hha-mon for scripts, against a fake hhad: --once prints one text snapshot,
# --json the same data as JSON; a missing module is "not available", not a
# failure; no hhad gives exit code 4; bad options give 2 with the bad input.
set -eu
[ -x "$HHA_BUILDDIR/hha-mon" ] || { echo "SKIP: hha-mon not built (no ncursesw)"; exit 77; }
tmp=$(mktemp -d)
fake_pid=""
. "$HHA_SRCDIR/tests/e2e/mon-lib.sh"
cleanup() {
	mon_fake_kill
	rm -rf "$tmp"
}
trap cleanup EXIT
expect() { grep -Eq -- "$1" "$tmp/out" || fail "expected \`$1' in: $(cat "$tmp/out")"; }

mon_fake_data late
mon_fake_start
"$mon" --socket "$tmp/sock" --once > "$tmp/out" || fail "--once exit $?"
expect '^3 nodes up / 8 CPUs \(1 late, 0 dead, 3 known\), asked n1$'
expect '^ +1 n1 +up +0\.05 +5 +2 +1\.00 +1\.0G +4\.0G +0  \(this node\)$'
expect '^ +2 n2 +up +0\.97 +97 +2 +1\.00 +3\.0G +4\.0G +3$'
expect '^ +3 n3 +late '
expect '^  r0 +Primary/Secondary SyncSource UpToDate/Inconsistent sync 42\.5% 50M/s ETA 1:10 out-of-sync 3\.5G$'
expect '^  192\.0\.2\.10/24 +eth0 +held by n1$'
expect '^  2001:db8::10/64 +eth0 +held by nobody \(owned, missing\)$'
expect '^  no groups configured$'

"$mon" --socket "$tmp/sock" --json > "$tmp/out" || fail "--json exit $?"
if command -v jq >/dev/null; then
	[ "$(jq -r '.nodes[1].load_per_cpu' "$tmp/out")" = 0.97 ] || fail "json load"
	[ "$(jq -r '.nodes[2].state' "$tmp/out")" = late ] || fail "json state"
	[ "$(jq -r '.totals.cpus' "$tmp/out")" = 8 ] || fail "json totals"
	[ "$(jq -r '.resources[0].sync_percent' "$tmp/out")" = 42.5 ] || fail "json sync"
	[ "$(jq -r '.sources.groups.available' "$tmp/out")" = false ] || fail "json sources"
fi
expect '"node": "n1"'
expect '"load_per_cpu": 0\.97'
expect '"state": "late"'
expect '"holder": "n1"'
expect '"holder": "n2"'
expect 'CONFLICT: held twice'

# A module this hhad does not have, one that refuses: shown, not fatal.
rm "$tmp/data/disk.status.json"
echo "13 Permission denied for the test" > "$tmp/data/net.vip.cluster.err"
"$mon" --socket "$tmp/sock" --once > "$tmp/out" || fail "--once with a missing module"
expect "not available \(this hhad has no \`disk.status'\)"
expect 'not available \(net\.vip\.cluster: Permission denied for the test\)'
"$mon" --socket "$tmp/sock" --json > "$tmp/out"
expect '"reason": "unknown command"'

# Garbage from hhad: that part is unreadable, the rest still shows.
echo '{"nodes": "garbage"}' > "$tmp/data/run.load.json"
"$mon" --socket "$tmp/sock" --once > "$tmp/out" || fail "--once with a garbled reply"
expect 'not available \(run\.load: no node list in the run\.load reply\)'
expect '^ +2 n2 +up +- '

# No hhad: exit 4 and a reason; with --json also a JSON error.
mon_fake_kill
rm -f "$tmp/sock"
rc=0
"$mon" --socket "$tmp/sock" --once > "$tmp/out" 2>&1 || rc=$?
[ "$rc" = 4 ] || fail "no hhad: exit $rc"
expect "cannot connect to hhad at $tmp/sock"
rc=0
"$mon" --socket "$tmp/sock" --json > "$tmp/out" 2>/dev/null || rc=$?
[ "$rc" = 4 ] || fail "no hhad, --json: exit $rc"
expect '^\{"error":"ENOENT","message":"cannot connect'

# Usage errors quote the input.
for bad in "-d 0" "-d fast" "--view x" "--frobnicate" "extra"; do
	rc=0
	# shellcheck disable=SC2086
	"$mon" $bad > "$tmp/out" 2>&1 || rc=$?
	[ "$rc" = 2 ] || fail "\`$bad': exit $rc"
done
"$mon" -d fast 2>&1 | grep -q "invalid delay \`fast'" || fail "delay not quoted"
"$mon" --help | grep -q -- '--once' || fail "help"
echo "PASS: hha-mon --once and --json, missing modules, no hhad, usage errors"
