#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's main job (scripts/demo.sh runs tests/lab/demo.sh) keeps working:
# replicated ext4, VIP, remote launch, hha-mon, hard crash and takeover with
# the client getting the same data back, and nothing left behind.
set -u
if [ "${HHA_LAB_TESTS:-}" != yes ] || [ "$(id -u)" != 0 ]; then
	echo "SKIP: lab tests need root and HHA_LAB_TESTS=yes"
	exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
bash "$HHA_SRCDIR/tests/lab/demo.sh" "$HHA_BUILDDIR" >"$out" 2>&1
rc=$?
cat "$out"
fail=0
expect() {
	if grep -qE "$1" "$out"; then echo "ok - $2"; else echo "not ok - $2"; fail=1; fi
}
[ $rc = 0 ] && echo "ok - the demo exits 0" || { echo "not ok - the demo exits $rc"; fail=1; }
expect '^r0: cs:Connected ro:Primary/Secondary ds:UpToDate/UpToDate' "hha-disk status after the full sync"
expect '^running on n2 as nobody$' "hha-runon ran on n2 as the calling user"
expect '^ +r0 +Primary/Secondary Connected UpToDate/UpToDate' "hha-mon --once shows r0"
expect 'e2fsck -fn: clean' "the file system is clean on the survivor"
expect 'c fetches the same page again' "the client gets the same page after failover"
expect 'every acknowledged write is there' "no acknowledged write lost"
expect "^n1's return: [0-9]+ KiB resynced instead of the whole" "the old primary rejoins with a partial resync"
expect '^done: nothing is left on this machine' "the lab is removed"
[ $fail = 0 ] && echo "PASS: the demo" || echo "FAIL: the demo"
exit $fail
