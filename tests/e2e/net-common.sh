# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Shared start of the net lab tests (sourced, not run): skip unless the lab
# can run here, load it, check the tools, and TAP-style ok/check helpers.
# Usage: . "$(dirname "$0")/net-common.sh" TOOL...

if [ "${HHA_LAB_TESTS:-}" != yes ] || [ "$(id -u)" != 0 ]; then
	echo "SKIP: lab tests need root and HHA_LAB_TESTS=yes"
	exit 77
fi
HHA_SRCDIR=${HHA_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
[ -f "$HHA_SRCDIR/tests/lab/lab.sh" ] || { echo "SKIP: tests/lab is not in this tree yet"; exit 77; }
. "$HHA_SRCDIR/tests/lab/lab.sh"
for t in jq "$@"; do
	command -v "$t" >/dev/null || { echo "FAIL: \`$t' is missing (see README for packages)"; exit 1; }
done

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
quiet() { "$@" >/dev/null 2>&1; }
absent() { ! "$@"; }
# The closing lines: plan, counts, and the exit status.
finish() {
	echo "1..$n"
	echo "$((n - failed)) passed, $failed failed"
	[ $failed = 0 ]
}
