# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# The TAP lines every end-to-end test prints (sourced, not run): ok, not_ok,
# check WHAT CMD..., quiet CMD..., and need TOOL... (a missing tool is a
# failure naming it, not a skip: the README's install line provides them).

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
quiet() { "$@" >/dev/null 2>&1; }
need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null || { echo "FAIL: \`$t' is missing (see README for packages)"; exit 1; }
	done
}
