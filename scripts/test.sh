#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The whole test suite, as CI runs it (.ci/run calls exactly this), on a fresh
# Debian 12 machine as root: install dependencies, build with -Werror, run
# every test (lab tests need root), run the unit tests again under
# AddressSanitizer + UndefinedBehaviorSanitizer, run every fuzzer briefly,
# and check `make distcheck`.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
fuzz_secs=${HHA_FUZZ_SECONDS:-20}
start=$(date +%s)
step() { printf '\n=== %s (%ss)\n' "$1" "$(( $(date +%s) - start ))"; }
fail() { echo "FAILED: $1"; exit 1; }
show_failures() {
	# The logs of failing tests, so a CI log alone explains the failure.
	for f in $(grep -l -E '^:test-result: (FAIL|ERROR)' "$1"/tests/*.trs "$1"/tests/*/*.trs 2>/dev/null); do
		echo "--- ${f%.trs}.log"; tail -60 "${f%.trs}.log"
	done
}

step "dependencies"
sh scripts/deps.sh

step "autoreconf"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi

step "build and test (gcc, -Werror)"
mkdir -p build && cd build
[ -f Makefile ] || ../configure --enable-werror >/dev/null
make -j"$jobs" >/dev/null || make
make -j"$jobs" check || { show_failures .; fail "make check"; }
cd "$top"

step "unit tests under ASan + UBSan"
mkdir -p build-san && cd build-san
[ -f Makefile ] || ../configure --enable-werror --enable-sanitizers --disable-lab-tests >/dev/null
make -j"$jobs" >/dev/null || make
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	make -j"$jobs" check || { show_failures .; fail "sanitizer tests"; }
cd "$top"

step "fuzzers, ${fuzz_secs}s each (clang, libFuzzer + ASan + UBSan)"
mkdir -p build-fuzz && cd build-fuzz
[ -f Makefile ] || CC=clang ../configure --enable-fuzzers --enable-sanitizers --disable-lab-tests >/dev/null
make -j"$jobs" fuzz >/dev/null || make fuzz
cd "$top"
sh tests/fuzz/run-fuzzers.sh build-fuzz "$fuzz_secs" || fail "fuzzers"

step "make distcheck"
cd build
make -j"$jobs" distcheck >distcheck.log 2>&1 || { tail -60 distcheck.log; fail "make distcheck"; }
grep -E '^# (TOTAL|PASS|SKIP|FAIL|ERROR)' distcheck.log | tail -6 || true
grep -E 'archives ready for distribution' -A2 distcheck.log || true
cd "$top"

step "all tests passed in $(( $(date +%s) - start ))s"
