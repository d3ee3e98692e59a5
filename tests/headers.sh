#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every public header compiles on its own, as C99 with -pedantic and as C++.
set -eu
inc="$HHA_SRCDIR/include"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc=${CC:-cc}
cxx=${CXX:-c++}
command -v "$cxx" >/dev/null 2>&1 || cxx=""
status=0
n=0
for h in "$inc"/hybridha/*.h; do
	name=$(basename "$h")
	printf '#include <hybridha/%s>\n#include <hybridha/%s>\nint main(void) { return 0; }\n' "$name" "$name" > "$tmp/t.c"
	if ! $cc -std=c99 -pedantic -Wall -Wextra -Werror -I"$inc" -c "$tmp/t.c" -o "$tmp/t.o" 2>"$tmp/err"; then
		echo "FAIL: $name as C99:"; cat "$tmp/err"; status=1
	fi
	if [ -n "$cxx" ]; then
		cp "$tmp/t.c" "$tmp/t.cc"
		if ! $cxx -std=c++11 -pedantic -Wall -Wextra -Werror -I"$inc" -c "$tmp/t.cc" -o "$tmp/t.o" 2>"$tmp/err"; then
			echo "FAIL: $name as C++:"; cat "$tmp/err"; status=1
		fi
	fi
	n=$((n + 1))
done
[ $status -eq 0 ] && echo "PASS: $n public headers compile alone (C99 -pedantic${cxx:+ and C++11})"
exit $status
