#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Install what building, the demo and the tests need on Debian 12 (run as root).
# Benchmarks install their extra baselines themselves (see bench/).
set -eu
[ "${HHA_SKIP_DEPS:-0}" = 1 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: run as root (it calls apt-get), or set HHA_SKIP_DEPS=1" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
pkgs="
	build-essential autoconf automake libtool pkg-config clang
	libjson-c-dev libnl-3-dev libnl-route-3-dev libmnl-dev libssl-dev libncurses-dev libcmocka-dev
	iproute2 nftables iputils-ping procps psmisc util-linux e2fsprogs jq socat tmux python3 tcpdump
	nbdkit libnbd-bin fuse3 qemu-utils fio stress-ng
"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "deps.sh: installing:$missing"
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
