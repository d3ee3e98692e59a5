#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# libhybridha.so exports only hha_* symbols, all under a version node, and every
# public function declared with HHA_EXPORT in include/hybridha/ is exported.
set -eu
so="$HHA_BUILDDIR/.libs/libhybridha.so"
[ -e "$so" ] || { echo "SKIP: $so not built"; exit 77; }
status=0
bad=$(nm -D --defined-only "$so" | awk '$2 ~ /[TDRBVW]/ {print $3}' | grep -v '^HYBRIDHA_' | grep -v '^hha_.*@@HYBRIDHA_' || true)
if [ -n "$bad" ]; then
	echo "FAIL: symbols exported that are not hha_* with a version:"
	echo "$bad"
	status=1
fi
exported=$(nm -D --defined-only "$so" | awk '{print $3}' | sed -n 's/@@.*//p' | sort -u)
declared=$(grep -hv "^#" "$HHA_SRCDIR"/include/hybridha/*.h | tr '\n' ' ' | grep -o 'HHA_EXPORT[^;]*;' |
	sed -E 's/\(.*//; s/.*[ *]//' | sort -u)
missing=$(printf '%s\n' "$declared" | grep -vxF "$exported" || true)
if [ -n "$missing" ]; then
	echo "FAIL: declared with HHA_EXPORT but not exported:"
	echo "$missing"
	status=1
fi
extra=$(printf '%s\n' "$exported" | grep -vxF "$declared" || true)
if [ -n "$extra" ]; then
	echo "FAIL: exported but not declared in a public header:"
	echo "$extra"
	status=1
fi
[ $status -eq 0 ] && echo "PASS: $(printf '%s\n' "$exported" | wc -l) symbols, all hha_*, all declared"
exit $status
