# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# `A && B || fail' below is meant: fail when either A or B fails.
# shellcheck disable=SC2015
# The lab's faults: node crashes and restarts, freezing, links down, and
# cut links (nftables drops in the receivers' namespaces).
# Sourced by lab.sh; the API is documented there.

# True when every given link of HOST is operationally up (the kernel may
# take a moment after `link set up` before it passes traffic).
_lab_oper_up() {
	local h=$1 l
	shift
	for l in "$@"; do
		[ "$(ip -n "hha-$LAB_ID-$h" -br link show dev "eth$l" | awk '{ print $2 }')" = UP ] || return 1
	done
}

_lab_wait_oper_up() {
	lab_wait_for 3 _lab_oper_up "$@" || _lab_err "$1: links ${*:2} not up after 3 s"
}

lab_crash() {
	local h=${1:-} cg
	_lab_host "$h" || return 1
	cg="$LAB_CG/$h"
	# Frozen first, so nothing it runs can say goodbye while its links go.
	echo 1 >"$cg/cgroup.freeze" || return 1
	_lab_links_cmd down | ip -n "hha-$LAB_ID-$h" -b - || _lab_err "$h: cannot take links down"
	echo 1 >"$cg/cgroup.kill" || return 1
	if ! _lab_cg_wait_empty "$cg" cgroup.events 5000; then
		_lab_err "$h: processes survive the crash: $(cat "$cg"/cgroup.procs "$cg"/disk/cgroup.procs | tr '\n' ' ')"
		echo 0 >"$cg/cgroup.freeze"
		return 1
	fi
	echo 0 >"$cg/cgroup.freeze"
	rm -f "$LAB_DIR/$h/hhad.lpid"
	_lab_crash_storage "$h"
	_lab_log "$h crashed"
}

lab_restart() {
	local h=${1:-} l
	_lab_host "$h" || return 1
	# As after a reboot: only the lab's addresses, an empty run directory.
	{
		for l in $LAB_LINK_LIST; do echo "addr flush dev eth$l"; done
		_lab_addr_cmds "$h"
		_lab_links_cmd up
	} | ip -n "hha-$LAB_ID-$h" -b - || { _lab_err "$h: cannot bring links up"; return 1; }
	# shellcheck disable=SC2086 # a list of numbers
	_lab_wait_oper_up "$h" $LAB_LINK_LIST || return 1
	find "$LAB_DIR/$h/run" -mindepth 1 -delete 2>/dev/null
	_lab_log "$h restarted"
}

lab_freeze() {
	local h=${1:-}
	_lab_host "$h" || return 1
	echo 1 >"$LAB_CG/$h/cgroup.freeze" || return 1
	# Tasks in the middle of a system call freeze when they leave it.
	lab_wait_for 2 grep -qx 'frozen 1' "$LAB_CG/$h/cgroup.events" ||
		_lab_err "$h: warning: not every process is frozen yet"
	return 0
}

lab_thaw() {
	_lab_host "${1:-}" || return 1
	echo 0 >"$LAB_CG/$1/cgroup.freeze"
}

lab_link_down() {
	_lab_host "${1:-}" && _lab_link "${2:-}" || return 1
	ip -n "hha-$LAB_ID-$1" link set "eth$2" down
}

lab_link_up() {
	local h=${1:-} l=${2:-} a4 a6
	_lab_host "$h" && _lab_link "$l" || return 1
	_lab_addr_to a4 "$h" "$l" 4
	_lab_addr_to a6 "$h" "$l" 6
	# The kernel may drop IPv6 addresses of a link that goes down; put them back.
	{
		echo "link set eth$l up"
		echo "addr replace $a4/24 dev eth$l"
		echo "addr replace $a6/64 dev eth$l nodad"
	} | ip -n "hha-$LAB_ID-$h" -b - || return 1
	_lab_wait_oper_up "$h" "$l"
}

_lab_nft() {
	local h=$1
	shift
	nsenter --net="/run/netns/hha-$LAB_ID-$h" nft "$@"
}

# Cuts: a netdev ingress chain in each receiving host, one rule per dropped
# (sender, link[, port]) with the comment "cut SENDER>RECEIVER".
lab_cut() {
	local a=${1:-} b=${2:-} link="" port="" proto="" oneway=0 links l4 dir src dst l devs script m c
	[ $# -ge 2 ] || { _lab_err "usage: lab_cut A B [--link L] [--port P] [--proto udp|tcp] [--oneway]"; return 2; }
	shift 2
	while [ $# -gt 0 ]; do
		case $1 in
		--link) link=${2:-}; shift ;;
		--port) port=${2:-}; shift ;;
		--proto) proto=${2:-}; shift ;;
		--oneway) oneway=1 ;;
		*) _lab_err "lab_cut: unknown option \`$1'"; return 2 ;;
		esac
		shift
	done
	_lab_host "$a" && _lab_host "$b" || return 1
	[ "$a" != "$b" ] || { _lab_err "lab_cut: \`$a' twice"; return 2; }
	if [ -n "$link" ]; then _lab_link "$link" || return 1; links=$link
	else links=$LAB_LINK_LIST; fi
	case $proto in
	"") l4="meta l4proto { tcp, udp }" ;;
	udp|tcp) l4="meta l4proto $proto" ;;
	*) _lab_err "lab_cut: protocol \`$proto': expected udp or tcp"; return 2 ;;
	esac
	if [ -n "$port" ]; then
		[[ $port =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] ||
			{ _lab_err "lab_cut: invalid port \`$port'"; return 2; }
	fi
	devs=""
	for l in $LAB_LINK_LIST; do devs="${devs}eth$l, "; done
	for dir in "$a $b" "$b $a"; do
		read -r src dst <<<"$dir"
		script="add table netdev hha_$LAB_ID
add chain netdev hha_$LAB_ID cut { type filter hook ingress devices = { ${devs%, } } priority -500; policy accept; }"
		for l in $links; do
			_lab_mac_to m "$src" "$l"
			m="meta iifname \"eth$l\" ether saddr $m"
			c="comment \"cut $src>$dst\""
			if [ -n "$port" ]; then
				script="$script
add rule netdev hha_$LAB_ID cut $m $l4 th sport $port drop $c
add rule netdev hha_$LAB_ID cut $m $l4 th dport $port drop $c"
			elif [ -n "$proto" ]; then
				script="$script
add rule netdev hha_$LAB_ID cut $m $l4 drop $c"
			else
				script="$script
add rule netdev hha_$LAB_ID cut $m drop $c"
			fi
		done
		_lab_nft "$dst" -f - <<<"$script" || { _lab_err "lab_cut: nft failed in $dst"; return 1; }
		grep -qx "$dst" "$LAB_DIR/cut.hosts" 2>/dev/null || echo "$dst" >>"$LAB_DIR/cut.hosts"
		[ $oneway = 0 ] || break
	done
	_lab_log "cut $a $b${link:+ link $link}${port:+ port $port}${proto:+/$proto}$([ $oneway = 0 ] || echo ' one way')"
}

lab_heal() {
	local a=${1:-} b=${2:-} h handle
	_lab_load || return 1
	if [ $# = 0 ]; then
		[ -r "$LAB_DIR/cut.hosts" ] || return 0
		while read -r h; do
			_lab_nft "$h" delete table netdev "hha_$LAB_ID" 2>/dev/null
		done <"$LAB_DIR/cut.hosts"
		rm -f "$LAB_DIR/cut.hosts"
		return 0
	fi
	[ $# = 2 ] || { _lab_err "usage: lab_heal [A B]"; return 2; }
	_lab_host "$a" && _lab_host "$b" || return 1
	for h in "$a" "$b"; do
		grep -qx "$h" "$LAB_DIR/cut.hosts" 2>/dev/null || continue
		_lab_nft "$h" -a list chain netdev "hha_$LAB_ID" cut |
			sed -n "s/.*comment \"cut \\($a>$b\\|$b>$a\\)\" # handle \\([0-9]*\\)\$/\\2/p" |
			while read -r handle; do
				_lab_nft "$h" delete rule netdev "hha_$LAB_ID" cut handle "$handle" || exit 1
			done || { _lab_err "lab_heal: nft failed in $h"; return 1; }
	done
}
