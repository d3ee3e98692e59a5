# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# What the disk-*.sh end-to-end tests share: the skip rule, the lab with two
# hhads, TAP-style checks, and helpers to build a replicated pair with
# hha-disk verbs (no configuration file) and to compare its backing stores.
# Sourced, not run.

if [ "${HHA_LAB_TESTS:-}" != yes ] || [ "$(id -u)" != 0 ]; then
	echo "SKIP: lab tests need root and HHA_LAB_TESTS=yes"
	exit 77
fi
HHA_SRCDIR=${HHA_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$HHA_SRCDIR/tests/lab/lab.sh"
. "$HHA_SRCDIR/tests/e2e/tap.sh"
need jq nbdcopy nbdinfo fio qemu-img qemu-io bc
[ -x "${HHA_BUILDDIR:-}/hha-disk" ] || { echo "FAIL: no hha-disk in HHA_BUILDDIR=${HHA_BUILDDIR:-}"; exit 1; }

# check that a command fails with exit code $2
check_rc() {
	local what=$1 want=$2 rc
	shift 2
	"$@" >/dev/null 2>&1
	rc=$?
	if [ "$rc" = "$want" ]; then ok "$what"; else not_ok "$what (exit $rc, expected $want)"; fi
}
jqt() { jq -e "$@" >/dev/null 2>&1; }
# Succeeds when the command fails (quietly).
not() { ! "$@" >/dev/null 2>&1; }

disk_finish() {
	echo "1..$n"
	[ "$failed" = 0 ] && echo "PASS: $n checks" || echo "FAIL: $failed of $n checks"
	[ "$failed" = 0 ]
}

# hha-disk on a node.
dk() { local h=$1; shift; lab_tool "$h" hha-disk "$@"; }

disk_lab_up() {
	lab_up 2 "$@" || { echo "FAIL: lab_up"; exit 1; }
	local h
	for h in n1 n2; do
		lab_hhad_start "$h" || { echo "FAIL: hhad does not start on $h"; exit 1; }
	done
}

# A sparse backing file for RES on HOST.
disk_backing() { # HOST RES SIZE
	local f="$LAB_DIR/$1/$2.img"
	truncate -s "$3" "$f" && echo "$f"
}

# The export of RES on HOST as an NBD URI.
disk_uri() { echo "nbd+unix:///$2?socket=$LAB_DIR/$1/run/$2.nbd"; }

# Build RES on both nodes with verbs only: create-md, attach, connect.
# disk_pair RES SIZE PORT [connect options...]
disk_pair() {
	local res=$1 size=$2 port=$3 h peer b
	shift 3
	for h in n1 n2; do
		[ $h = n1 ] && peer=n2 || peer=n1
		b=$(disk_backing "$h" "$res" "$size") || return 1
		dk "$h" "$res" create-md "$b" >/dev/null || return 1
		dk "$h" "$res" attach "$b" || return 1
		dk "$h" "$res" connect "$(lab_addr "$h"):$port" "$(lab_addr "$peer"):$port" "$@" || return 1
	done
}

# Usable size of RES (bytes).
disk_size() { dk "$1" --json "$2" status | jq -r .size; }

# The two backing stores hold the same bytes over the device's size.
disk_same() { # RES
	local res=$1 size a b
	size=$(disk_size n1 "$res") || return 1
	a=$(head -c "$size" "$LAB_DIR/n1/$res.img" | sha256sum) || return 1
	b=$(head -c "$size" "$LAB_DIR/n2/$res.img" | sha256sum) || return 1
	[ "$a" = "$b" ] || { echo "# $res: backing stores differ ($a / $b)"; return 1; }
}

# A state field of RES on HOST (jq path), e.g. `disk_state n1 r0 .connection`.
disk_state() { dk "$1" --json "$2" status | jq -r "$3"; }

# Take RES down on both nodes.
disk_down() { dk n1 "$1" down && dk n2 "$1" down; }
