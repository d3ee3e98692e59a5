#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The main job: install dependencies, build, and run the demo cluster (a lab of
# network namespaces on this machine). Run as root on Debian 12.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
sh scripts/deps.sh
[ -x configure ] || autoreconf -fi >/dev/null 2>&1
mkdir -p build && cd build
[ -f Makefile ] || ../configure >/dev/null
make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
cd "$top"
exec bash tests/lab/demo.sh "$top/build"
