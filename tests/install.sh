#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# `make install DESTDIR=...` installs a library, headers and a .pc file with
# which the examples build through pkg-config and run.
set -eu
# An instrumented library needs instrumented programs; packaging is checked
# in the plain build.
if [ "${HHA_SANITIZERS:-no}" = yes ]; then echo "SKIP: sanitizer build"; exit 77; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest="$tmp/root"
${MAKE:-make} -s -C "$HHA_BUILDDIR" install DESTDIR="$dest" >"$tmp/install.log" 2>&1 || {
	cat "$tmp/install.log"; echo "FAIL: make install"; exit 1; }
pcdir=$(dirname "$(find "$dest" -name hybridha.pc | head -1)")
[ -n "$pcdir" ] || { echo "FAIL: hybridha.pc not installed"; exit 1; }
export PKG_CONFIG_PATH="$pcdir" PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs hybridha)
# pkgconf applies the sysroot to variables too.
libdir=$(pkg-config --variable=libdir hybridha)
for ex in config-check ctl-status; do
	${CC:-cc} -Wall -Wextra -Werror "$HHA_SRCDIR/examples/$ex.c" $flags -o "$tmp/$ex" || {
		echo "FAIL: $ex does not build against the installed library ($flags)"; exit 1; }
done
LD_LIBRARY_PATH="$libdir" "$tmp/config-check" "$HHA_SRCDIR/examples/hybridha.conf" >"$tmp/out"
grep -q '"al_extents"' "$tmp/out" || { echo "FAIL: config-check output"; exit 1; }
# It must have run against the installed copy, not the build tree.
LD_LIBRARY_PATH="$libdir" ldd "$tmp/config-check" | grep -q "$libdir" || {
	echo "FAIL: example not linked to the installed library"; exit 1; }
for f in sbin/hhad bin/hha-ctl include/hybridha/hybridha.h; do
	find "$dest" -path "*/$f" | grep -q . || { echo "FAIL: $f not installed"; exit 1; }
done
echo "PASS: installed library, headers and pkg-config file build and run the examples"
