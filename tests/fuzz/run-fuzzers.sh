#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Run every fuzz target briefly (CI) or longer: run-fuzzers.sh BUILDDIR [SECONDS].
# Each target starts from its seed corpus in tests/fuzz/corpus/NAME/ (if any)
# and a scratch copy, so CI never writes into the source tree.
set -eu
builddir=$1
secs=${2:-20}
srcdir=$(cd "$(dirname "$0")" && pwd)
status=0
for t in "$builddir"/tests/fuzz/fuzz-*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	work=$(mktemp -d)
	if [ -d "$srcdir/corpus/$name" ]; then cp -r "$srcdir/corpus/$name/." "$work/"; fi
	echo "== $name: ${secs}s"
	if "$t" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=2048 "$work" >"$work.log" 2>&1; then
		grep -E 'stat::number_of_executed_units|Done ' "$work.log" | tail -2
		echo "PASS: $name"
	else
		tail -40 "$work.log"
		echo "FAIL: $name"
		status=1
	fi
	rm -rf "$work" "$work.log"
done
exit $status
