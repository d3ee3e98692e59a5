# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# `A && B || fail' below is meant: fail when either A or B fails.
# shellcheck disable=SC2015
# The lab's hhad part: generated per-node configurations, starting and
# stopping hhad in a node, and running the hha-* tools against it.
# Sourced by lab.sh; the API is documented there.

_lab_daemon() {
	local h
	_lab_host "$1" || return 1
	for h in $LAB_DAEMONS; do [ "$h" = "$1" ] && return 0; done
	_lab_err "\`$1' runs no hhad (daemons: $LAB_DAEMONS)"
}

_lab_bin() {
	if [ -n "${HHA_BUILDDIR:-}" ]; then
		echo "$HHA_BUILDDIR/$1"
	else
		command -v "$1" || { _lab_err "$1 not found (set HHA_BUILDDIR)"; return 1; }
	fi
}

# The base configuration of every daemon: the shared key, its own run and
# state directories and cgroup, and every daemon's heartbeat addresses.
_lab_gen_configs() {
	local h l a nodes="" num cl sep w=""
	( umask 077 && _lab_rand_hex 32 >"$LAB_DIR/cluster.key" ) || return 1
	for h in $LAB_DAEMONS; do
		_lab_num_to num "$h"
		nodes="$nodes${nodes:+,}
    \"$h\": { \"id\": $num, \"heartbeat\": ["
		sep=""
		for l in $LAB_LINK_LIST; do
			_lab_addr_to a "$h" "$l" "$LAB_HB_FAMILY"
			nodes="$nodes$sep\"$a\""
			sep=", "
		done
		nodes="$nodes]"
		[ "$h" != w ] || { nodes="$nodes, \"witness\": true"; w=',
    "witness": "w"'; }
		nodes="$nodes }"
	done
	# Plain JSON written directly: every value is a name or a path we made.
	for h in $LAB_DAEMONS; do
		cl="\"name\": \"lab-$LAB_ID\",
    \"key_file\": \"$LAB_DIR/cluster.key\",
    \"run_dir\": \"$LAB_DIR/$h/run\",
    \"state_dir\": \"$LAB_DIR/$h/state\"$w"
		printf '{\n  "cluster": {\n    %s\n  },\n  "nodes": {%s\n  },\n  "load": { "cgroup": "%s" }\n}\n' \
			"$cl" "$nodes" "$LAB_CG/$h" >"$LAB_DIR/$h/hybridha.conf" ||
			{ _lab_err "cannot write $h's configuration"; return 1; }
	done
}

lab_config() { _lab_daemon "${1:-}" && echo "$LAB_DIR/$1/hybridha.conf"; }

_lab_merge_one() {
	local h=$1 json=$2 cfg="$LAB_DIR/$1/hybridha.conf" num
	json=${json//@NODE_DIR@/$LAB_DIR/$h}
	json=${json//@LAB_DIR@/$LAB_DIR}
	json=${json//@NODE@/$h}
	_lab_num_to num "$h"
	json=${json//@ID@/$num}
	jq --argjson m "$json" '. * $m' "$cfg" >"$cfg.new" && mv "$cfg.new" "$cfg" ||
		{ rm -f "$cfg.new"; _lab_err "cannot merge into $h's configuration: $2"; return 1; }
}

_lab_json_arg() {
	if [ -f "$1" ]; then cat "$1"; else printf '%s' "$1"; fi
}

lab_config_merge() {
	local json h
	[ $# = 1 ] || { _lab_err "usage: lab_config_merge JSON|FILE"; return 2; }
	_lab_load || return 1
	json=$(_lab_json_arg "$1") || return 1
	for h in $LAB_DAEMONS; do _lab_merge_one "$h" "$json" || return 1; done
}

lab_config_merge_node() {
	local json
	[ $# = 2 ] || { _lab_err "usage: lab_config_merge_node HOST JSON|FILE"; return 2; }
	_lab_daemon "$1" || return 1
	json=$(_lab_json_arg "$2") || return 1
	_lab_merge_one "$1" "$json"
}

_lab_sock() {
	if [ -s "$LAB_DIR/$1/hhad.socket" ]; then cat "$LAB_DIR/$1/hhad.socket"
	else echo "$LAB_DIR/$1/run/hhad.sock"; fi
}

lab_hhad_pid() {
	_lab_daemon "${1:-}" || return 1
	[ -s "$LAB_DIR/$1/hhad.lpid" ] || { _lab_err "$1: hhad was not started"; return 1; }
	cat "$LAB_DIR/$1/hhad.lpid"
}

lab_hhad_start() {
	local h=${1:-} hhad pid log ms a sock="" prev=""
	_lab_daemon "$h" || return 1
	shift
	hhad=$(_lab_bin hhad) || return 1
	if [ -s "$LAB_DIR/$h/hhad.lpid" ] && _lab_alive "$(cat "$LAB_DIR/$h/hhad.lpid")"; then
		_lab_err "$h: hhad already runs (pid $(cat "$LAB_DIR/$h/hhad.lpid"))"; return 1
	fi
	for a in "$@"; do
		case $prev in -s|--socket) sock=$a ;; esac
		case $a in --socket=*) sock=${a#--socket=} ;; esac
		prev=$a
	done
	if [ -n "$sock" ]; then echo "$sock" >"$LAB_DIR/$h/hhad.socket"
	else rm -f "$LAB_DIR/$h/hhad.socket"; fi
	log="$LAB_DIR/$h/hhad.log"
	ms=$(_lab_to_ms "${HHA_LAB_HHAD_TIMEOUT:-5}") || return 1
	pid=$(_lab_spawn "$h" "$LAB_CG/$h" "$log" "$hhad" -f -c "$LAB_DIR/$h/hybridha.conf" -n "$h" "$@") ||
		return 1
	echo "$pid" >"$LAB_DIR/$h/hhad.lpid"
	_lab_wait_ready "$pid" "$h: hhad (socket $(_lab_sock "$h"))" "$log" "$ms" \
		_lab_quiet lab_ctl "$h" status
}

# Signal hhad and wait for it; the return value is hhad's exit status.
_lab_hhad_signal() {
	local h=$1 sig=$2 pid rc=0
	pid=$(lab_hhad_pid "$h") || return 1
	_lab_alive "$pid" || { _lab_err "$h: hhad (pid $pid) is not running"; return 1; }
	kill "-$sig" "$pid" || return 1
	lab_bg_wait "$pid" "${HHA_LAB_HHAD_TIMEOUT:-5}" || rc=$?
	if [ $rc = 254 ]; then
		_lab_err "$h: hhad ignored SIG$sig; killing it"
		kill -KILL "$pid" 2>/dev/null
		lab_bg_wait "$pid" 5
	fi
	rm -f "$LAB_DIR/$h/hhad.lpid"
	return $rc
}

lab_hhad_stop() { _lab_daemon "${1:-}" && _lab_hhad_signal "$1" TERM; }

lab_hhad_kill() {
	local rc=0
	_lab_daemon "${1:-}" || return 1
	_lab_hhad_signal "$1" KILL || rc=$?
	[ $rc = 137 ] || [ $rc = 255 ] || { _lab_err "$1: hhad ended with status $rc after SIGKILL"; return 1; }
}

lab_tool() {
	local h=${1:-} tool=${2:-} bin
	[ $# -ge 2 ] || { _lab_err "usage: lab_tool HOST TOOL ARGS..."; return 2; }
	_lab_daemon "$h" || return 1
	shift 2
	bin=$(_lab_bin "$tool") || return 1
	lab_exec "$h" "$bin" --socket "$(_lab_sock "$h")" "$@"
}

lab_tool_bg() {
	local h=${1:-} log=${2:-} tool=${3:-} bin
	[ $# -ge 3 ] || { _lab_err "usage: lab_tool_bg HOST LOGFILE TOOL ARGS..."; return 2; }
	_lab_daemon "$h" || return 1
	shift 3
	bin=$(_lab_bin "$tool") || return 1
	lab_bg "$h" "$log" "$bin" --socket "$(_lab_sock "$h")" "$@"
}

lab_ctl() {
	[ $# -ge 1 ] || { _lab_err "usage: lab_ctl HOST ARGS..."; return 2; }
	local h=$1
	shift
	lab_tool "$h" hha-ctl "$@"
}
