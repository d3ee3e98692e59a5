#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# docs/hybridha.conf.md must list exactly the keys the code knows
# (regenerate with `make update-config-doc`).
set -eu
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.md"' EXIT
"$HHA_BUILDDIR/hhad" --config-schema > "$tmp"
sed -e "/@SCHEMA_TABLE@/{r $tmp" -e 'd}' "$HHA_SRCDIR/docs/hybridha.conf.md.in" > "$tmp.md"
if ! diff -u "$HHA_SRCDIR/docs/hybridha.conf.md" "$tmp.md"; then
	echo "FAIL: docs/hybridha.conf.md is out of date; run 'make update-config-doc'"
	exit 1
fi
echo "PASS: configuration reference matches the schema"
