# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# What the run-*.sh end-to-end tests share: the skip rule, the lab, TAP-style
# checks, and hha-runon on n1. Sourced, not run.

if [ "${HHA_LAB_TESTS:-}" != yes ] || [ "$(id -u)" != 0 ]; then
	echo "SKIP: lab tests need root and HHA_LAB_TESTS=yes"
	exit 77
fi
HHA_SRCDIR=${HHA_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
if [ ! -r "$HHA_SRCDIR/tests/lab/lab.sh" ]; then
	echo "SKIP: no namespace lab in this tree (tests/lab/lab.sh)"
	exit 77
fi
. "$HHA_SRCDIR/tests/lab/lab.sh"
. "$HHA_SRCDIR/tests/e2e/tap.sh"
need jq python3 setpriv script

jqt() { jq -e "$@" >/dev/null 2>&1; }
runon() { lab_tool n1 hha-runon "$@"; }

# A two-node lab whose hhads let root launch (the tests run as root), plus
# whatever JSON the test merges into every config.
run_lab_up() {
	lab_up 2 || { echo "FAIL: lab_up"; exit 1; }
	lab_config_merge '{"run": {"allow_root": true}}'
	[ -z "${1:-}" ] || lab_config_merge "$1"
	local h
	for h in n1 n2; do
		lab_hhad_start "$h" || { echo "FAIL: hhad does not start on $h"; exit 1; }
	done
}

run_finish() {
	echo "1..$n"
	[ "$failed" = 0 ] && echo "PASS: $n checks" || echo "FAIL: $failed of $n checks"
	[ "$failed" = 0 ]
}
