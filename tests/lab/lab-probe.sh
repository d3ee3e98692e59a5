# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# `A && B || fail' below is meant: fail when either A or B fails.
# shellcheck disable=SC2015
# The lab's probes: reachability, waiting on hhad's JSON, packet captures.
# Sourced by lab.sh; the API is documented there.

# Everything a link carries, from its bridge's namespace.
lab_capture() {
	local l=${1:-} file=${2:-} pid
	[ $# -ge 2 ] || { _lab_err "usage: lab_capture LINK FILE [FILTER...]"; return 2; }
	_lab_load && _lab_link "$l" || return 1
	command -v tcpdump >/dev/null || { _lab_err "lab_capture needs tcpdump"; return 1; }
	shift 2
	case $file in /*) ;; *) file="$PWD/$file" ;; esac
	# br0 in promiscuous mode sees every frame the bridge forwards.
	pid=$(_lab_spawn "l$l" "$LAB_CG/links" "$file.log" \
		tcpdump -i br0 --immediate-mode -U -n -Z root -w "$file" "$@") || return 1
	_lab_wait_ready "$pid" "capture on link $l" "$file.log" 5000 \
		grep -q 'listening on' "$file.log" || return 1
	echo "$pid"
}

lab_capture_stop() {
	_lab_load || return 1
	kill -INT "${1:-}" 2>/dev/null || { _lab_err "no capture with pid \`${1:-}'"; return 1; }
	lab_bg_wait "$1" 5 || true
}

lab_reach() {
	local a=${1:-} b=${2:-} l=${3:-0} v=${4:-4} addr
	[ $# -ge 2 ] || { _lab_err "usage: lab_reach A B [LINK] [4|6]"; return 2; }
	addr=$(lab_addr "$b" "$l" "$v") || return 2
	lab_exec "$a" ping -c1 -W1 -q "$addr" >/dev/null 2>&1
}

_lab_json_ok() {
	local f=$1
	shift
	"$@" 2>/dev/null | jq -e "$f" >/dev/null 2>&1
}

lab_wait_json() {
	[ $# -ge 3 ] || { _lab_err "usage: lab_wait_json TIMEOUT_S JQ_FILTER CMD..."; return 2; }
	local t=$1
	shift
	lab_wait_for "$t" _lab_json_ok "$@"
}
