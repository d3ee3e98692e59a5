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
. "$HHA_SRCDIR/tests/e2e/tap.sh"
need jq "$@"

absent() { ! "$@"; }
# The closing lines: plan, counts, and the exit status.
finish() {
	echo "1..$n"
	echo "$((n - failed)) passed, $failed failed"
	[ $failed = 0 ]
}
