# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# `A && B || fail' below is meant: fail when either A or B fails.
# shellcheck disable=SC2015
# The network-namespace test lab: nodes, links, cgroups, hhad per node, faults
# and crash-faithful disks for libhybridha's end-to-end tests.
#
# Source it from a bash test (`. "$HHA_SRCDIR/tests/lab/lab.sh"`), or use the
# CLI `tests/lab/lab` (same functions, `lab VERB ARGS`, the lab found through
# $HHA_LAB). Needs root, iproute2, util-linux, nftables, jq; disks need nbdkit,
# libnbd-bin (nbdfuse) and fuse3; NBD mounts need e2fsprogs.
#
# ---------------------------------------------------------------------------
# Topology
#   lab_up N [--links L] [--client] [--ping] [--witness] [--ipv6]
#       N nodes n1..nN (1..99), optional hosts c (client), p (ping target),
#       w (witness, gets an hhad like the nodes); L links (1..8, default 1).
#       Each link is a bridge `br0` in its own namespace; every host has one
#       veth per link, `eth0`, `eth1`, ... inside its own namespace, MAC
#       02:<id>:<link>:<host number>. Addresses, on link L:
#         IPv4 10.A.(B+L).H/24   (10.A.B.0/21 chosen at random per lab)
#         IPv6 fdXX:XXXX:XXXX:L::H/64 (a random ULA /48 per lab; printed
#              as the kernel prints it, so link 0 is fdXX:XXXX:XXXX::H)
#       with H = i for node ni, 100 for c, 200 for w, 254 for p. The IPv6
#       addresses are added with `nodad` (usable at once); DAD stays on for
#       the interfaces, so addresses a test adds itself (VIPs) do get DAD.
#       While the lab is up the root namespace holds blackhole routes for the
#       /21 and the /48, so nothing leaks out through its default route;
#       prefixes are reserved under /run/hha-lab/ (flock) and checked against
#       the root namespace's routes. --ipv6 makes the generated hhad configs
#       use the IPv6 addresses as heartbeat addresses (default IPv4).
#       Registers a trap (EXIT INT TERM, chained before any existing one)
#       that tears the lab down even when the test fails, showing the tail of
#       every log first when the exit status is not 0. Set your own traps
#       before lab_up (a later `trap ... EXIT` replaces the lab's).
#       Sets LAB_ID, LAB_DIR (a fresh /tmp/hha-lab-ID), LAB_NODES ("n1 n2"),
#       LAB_DAEMONS (nodes + w), LAB_HOSTS (every host), LAB_LINKS (count)
#       and LAB_LINK_LIST ("0 1"). Returns once every link passes traffic.
#       Names: netns hha-ID-HOST and hha-ID-lL (bridges), cgroup
#       CGROOT/hha-lab-ID/HOST (CGROOT = the cgroup v2 mount), nft table
#       `netdev hha_ID` in the hosts' namespaces.
#   lab_down            kill every process of the lab, unmount (filesystem,
#       loop device, FUSE), stop disks, delete namespaces, nft tables,
#       cgroups, routes, the registry entry and $LAB_DIR (kept when
#       HHA_LAB_KEEP=1). Idempotent; also after a partial lab_up.
#   lab_ns HOST / lab_cgroup HOST   netns name / cgroup directory of HOST.
#       The cgroup (v2) measures CPU (cpu.stat usage_usec, disks included),
#       and is what lab_freeze/lab_crash act on.
#   lab_addr HOST [LINK] [4|6]      address of HOST on LINK (default 0, 4).
#   lab_prefix LINK [4|6]           subnet of LINK (10.A.B.0/24, fd..:L::/64).
#   lab_ifname HOST LINK            interface name in HOST (eth$LINK).
#   lab_mac HOST LINK               its MAC address.
#   lab_list / lab_gc   the labs of this machine (registry) / tear down those
#       whose test died without running its trap (SIGKILL).
#
# Running things (lab_reach, lab_wait_json, lab_capture: see lab-probe.sh)
#   lab_exec HOST CMD...            run CMD in HOST: its netns (nsenter --net
#       only: the mount namespace stays shared, so FUSE, loop and ext4 mounts
#       are visible everywhere), its UTS namespace (hostname = HOST) and its
#       cgroup. The exit status passes through. (In a frozen host it
#       blocks until lab_thaw, like everything else there.)
#   lab_bg HOST LOGFILE CMD...      the same in the background, output
#       appended to LOGFILE; prints the pid (CMD's own: signal it directly).
#   lab_bg_wait PID [TIMEOUT_S]     wait for a lab_bg command to end; returns
#       its exit status (255 when it vanished without one, e.g. crashed).
#   lab_wait_for TIMEOUT_S CMD...   run CMD every 0.1 s until it succeeds;
#       1 when TIMEOUT_S (may be fractional) runs out.
#   lab_wait_json TIMEOUT_S FILTER CMD...   the same until CMD's output
#       passes `jq -e FILTER` (e.g. `lab_wait_json 5 '.node == "n1"'
#       lab_ctl n1 status --json`).
#   lab_reach A B [LINK] [4|6]      0 when A gets an answer to one ping of
#       B's address (1 s).
#   lab_capture LINK FILE [FILTER]  tcpdump of everything on LINK's bridge
#       into FILE (pcap); prints the pid once it listens.
#       lab_capture_stop PID ends it (file complete). Needs tcpdump.
#
# hhad (see lab-hhad.sh)
#   lab_config HOST                 path of HOST's config
#       ($LAB_DIR/HOST/hybridha.conf), generated at lab_up: cluster.key_file
#       ($LAB_DIR/cluster.key, random, 0600, shared), cluster.run_dir and
#       cluster.state_dir ($LAB_DIR/HOST/run, .../state), cluster.witness
#       with --witness, load.cgroup (the host's cgroup), nodes: every node
#       and the witness with id (node number; witness 200) and heartbeat
#       (one address per link).
#   lab_config_merge JSON|FILE      deep-merge (jq `*`) into every daemon's
#       config; lab_config_merge_node HOST JSON|FILE into one. In the JSON,
#       @NODE@ becomes the host's name, @NODE_DIR@ $LAB_DIR/HOST, @LAB_DIR@
#       $LAB_DIR, @ID@ the host's number.
#   lab_hhad_start HOST [ARGS]      start $HHA_BUILDDIR/hhad -f -c CONFIG -n
#       HOST ARGS in HOST (log $LAB_DIR/HOST/hhad.log), wait until
#       `hha-ctl status` answers (HHA_LAB_HHAD_TIMEOUT, default 5 s) or fail
#       showing the log tail.
#   lab_hhad_stop HOST              SIGTERM, wait; 0 when it exited with 0.
#   lab_hhad_kill HOST              SIGKILL, wait.
#   lab_hhad_pid HOST               its pid.
#   lab_tool HOST TOOL ARGS...      $HHA_BUILDDIR/TOOL --socket
#       $LAB_DIR/HOST/run/hhad.sock ARGS, inside HOST.
#   lab_tool_bg HOST LOGFILE TOOL ARGS...   the same in the background
#       (e.g. `hha-ctl events`); prints the pid.
#   lab_ctl HOST ARGS...            lab_tool HOST hha-ctl ARGS.
#   tests/lab/ctl-raw.py SOCKET STEP...   a raw control-socket client for
#       malformed requests and floods (python3; see its --help).
#
# Faults (see lab-faults.sh)
#   lab_crash HOST      freeze the cgroup, take every link down, kill all
#       (cgroup.kill), make sure they are gone, thaw: no goodbye packets.
#       Unflushed writes of the host's disks are lost; its FUSE/loop/ext4
#       mounts are detached lazily.
#   lab_restart HOST    links up again with the lab's addresses only (VIPs and
#       other addresses are gone, as after a reboot), $LAB_DIR/HOST/run
#       emptied. Start hhad and disks again yourself.
#   lab_freeze HOST / lab_thaw HOST     cgroup.freeze (like SIGSTOP).
#   lab_link_down HOST LINK / lab_link_up HOST LINK   (up waits until the
#       link passes traffic and puts the lab's addresses back)
#   lab_cut A B [--link L] [--port P] [--proto udp|tcp] [--oneway]
#       silently drop the frames A sends to B (and B to A unless --oneway),
#       on every link or on L, optionally only UDP/TCP with source or
#       destination port P. Rules sit in the receivers' own namespaces
#       (netdev ingress, by source MAC), so senders see no error and ARP/ND
#       are cut too.
#   lab_heal [A B]      remove every cut, or those between A and B.
#
# Disks (see lab-disk.sh)
#   lab_disk HOST NAME SIZE     sparse image $LAB_DIR/HOST/NAME.img served by
#       nbdkit (cache filter, cache=writeback: only flushed data reaches the
#       image) and mounted with nbdfuse, both in HOST's cgroup; prints the
#       file to use as a backing store ($LAB_DIR/HOST/NAME.fuse/disk).
#       fsync/fdatasync on it reaches the image; a crash loses the rest.
#   lab_disk_restart HOST NAME  serve the same image again at the same path.
#   lab_disk_stop HOST NAME     unmount and stop it (unflushed data lost).
#   lab_disk_image HOST NAME    the image path (read it once stopped).
#   lab_nbd_mount HOST URI|SOCKET MNTDIR [mkfs]   nbdfuse (in HOST) +
#       losetup --direct-io=on + optional mkfs.ext4 + mount; prints the loop
#       device. lab_nbd_umount MNTDIR undoes it (filesystem, losetup -d,
#       fusermount3 -u). Teardown and lab_crash undo them too.
#
# Environment: HHA_BUILDDIR (binaries), HHA_LAB (the CLI's lab directory),
# HHA_LAB_KEEP=1 (keep $LAB_DIR), HHA_LAB_VERBOSE=1 (trace steps),
# HHA_LAB_HHAD_TIMEOUT (seconds), HHA_LAB_TMPDIR (default /tmp; keep it short:
# Unix socket paths live below it).
# One lab per shell; every function returns non-zero with a message on
# stderr ("lab: ...") when it fails, and works under `set -eu`.
# ---------------------------------------------------------------------------

_LAB_SRC=$(dirname "${BASH_SOURCE[0]}")
_LAB_REG=/run/hha-lab

_lab_err() { printf 'lab: %s\n' "$*" >&2; return 1; }
_lab_quiet() { "$@" >/dev/null 2>&1; }
_lab_log() { [ "${HHA_LAB_VERBOSE:-0}" != 1 ] || printf 'lab: %s\n' "$*" >&2; }

# Milliseconds since the epoch, without forking.
_lab_now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $(( t / 1000 )); }

# "1.5" -> 1500.
_lab_to_ms() {
	local s=$1 int frac
	int=${s%%.*}; frac=
	[ "$int" != "$s" ] && frac=${s#*.}
	frac=${frac}000; frac=${frac:0:3}
	[[ $int$frac =~ ^[0-9]+$ ]] || { _lab_err "invalid time \`$s'"; return 1; }
	echo $(( 10#${int:-0} * 1000 + 10#$frac ))
}

_lab_rand_hex() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# Load the lab's state when this shell has none (CLI, or after `export HHA_LAB`).
_lab_load() {
	if [ -z "${LAB_ID:-}" ] && [ -n "${HHA_LAB:-}" ]; then
		[ -r "$HHA_LAB/lab.env" ] || { _lab_err "no lab at HHA_LAB=$HHA_LAB"; return 1; }
		# shellcheck source=/dev/null
		. "$HHA_LAB/lab.env"
	fi
	[ -n "${LAB_ID:-}" ] || { _lab_err "no lab is up (run lab_up, or set HHA_LAB)"; return 1; }
}

_lab_is_host() {
	local h
	for h in $LAB_HOSTS; do [ "$h" = "$1" ] && return 0; done
	return 1
}

_lab_host() {
	_lab_load || return 1
	_lab_is_host "$1" || { _lab_err "no host \`$1' in this lab (hosts: $LAB_HOSTS)"; return 1; }
}

_lab_link() {
	[[ $1 =~ ^[0-9]+$ ]] && [ "$1" -lt "$LAB_LINKS" ] ||
		{ _lab_err "no link \`$1' (links 0..$((LAB_LINKS - 1)))"; return 1; }
}

# The host part of a host's addresses, into variable $1 (no subshell: these
# run in loops during bring-up).
_lab_num_to() {
	case $2 in
	n*) printf -v "$1" %s "${2#n}" ;;
	c) printf -v "$1" 100 ;;
	w) printf -v "$1" 200 ;;
	p) printf -v "$1" 254 ;;
	esac
}

# Address of host $2 on link $3, family $4, into variable $1. IPv6 is written
# as the kernel prints it (RFC 5952: the zero groups of link 0 fold into
# "::"; the prefix's groups have no leading zeros and are never 0).
_lab_addr_to() {
	local _n
	_lab_num_to _n "$2"
	if [ "$4" = 4 ]; then printf -v "$1" '10.%s.%s.%s' "$LAB_V4A" "$((LAB_V4B + $3))" "$_n"
	elif [ "$3" = 0 ]; then printf -v "$1" '%s::%s' "$LAB_V6" "$_n"
	else printf -v "$1" '%s:%x::%s' "$LAB_V6" "$3" "$_n"
	fi
}

_lab_mac_to() {
	local _n
	_lab_num_to _n "$2"
	printf -v "$1" '02:%s:%s:%s:%02x:%02x' "${LAB_ID:0:2}" "${LAB_ID:2:2}" "${LAB_ID:4:2}" "$3" "$_n"
}

lab_ns() { _lab_host "${1:-}" && echo "hha-$LAB_ID-$1"; }
lab_cgroup() { _lab_host "${1:-}" && echo "$LAB_CG/$1"; }
lab_ifname() { _lab_host "${1:-}" && _lab_link "${2:-}" && echo "eth$2"; }

lab_addr() {
	local h=${1:-} l=${2:-0} v=${3:-4} a
	_lab_host "$h" && _lab_link "$l" || return 1
	case $v in 4|6) ;; *) _lab_err "address family \`$v': expected 4 or 6"; return 1 ;; esac
	_lab_addr_to a "$h" "$l" "$v"
	echo "$a"
}

lab_prefix() {
	local l=${1:-0} v=${2:-4}
	_lab_load && _lab_link "$l" || return 1
	case $v in
	4) echo "10.$LAB_V4A.$((LAB_V4B + l)).0/24" ;;
	6) if [ "$l" = 0 ]; then echo "$LAB_V6::/64"; else printf '%s:%x::/64\n' "$LAB_V6" "$l"; fi ;;
	*) _lab_err "address family \`$v': expected 4 or 6" ;;
	esac
}

lab_mac() {
	local m
	_lab_host "${1:-}" && _lab_link "${2:-}" || return 1
	_lab_mac_to m "$1" "$2"
	echo "$m"
}

# ---------------------------------------------------------------------------
# Running commands in a host

# In a subshell: join the cgroup, then become CMD inside the namespaces.
# Signals that bash ignores for background jobs are given back to CMD.
_lab_enter() {
	local host=$1 cg=$2; shift 2
	echo "$BASHPID" >"$cg/cgroup.procs" || { _lab_err "cannot join cgroup $cg"; exit 125; }
	exec nsenter --net="/run/netns/hha-$LAB_ID-$host" --uts="$LAB_DIR/$host/uts" -- \
		env --default-signal=INT,QUIT "$@"
}

lab_exec() {
	local host=${1:-}
	[ $# -ge 2 ] || { _lab_err "usage: lab_exec HOST CMD..."; return 2; }
	_lab_host "$host" || return 125
	shift
	( _lab_enter "$host" "$LAB_CG/$host" "$@" )
}

# Start CMD in a cgroup of HOST in the background; print CMD's pid. A wrapper
# subshell stays behind to record the exit status for lab_bg_wait.
_lab_spawn() {
	local host=$1 cg=$2 log=$3 d="$LAB_DIR/.bg" wrapper pid="" i uts
	shift 3
	mkdir -p "$d" || return 1
	(
		rc=0
		if ! echo "$BASHPID" >"$cg/cgroup.procs"; then
			echo "lab: cannot join cgroup $cg" >>"$log"
			rc=125
		else
			# Links (bridge namespaces) have no UTS namespace of their own.
			uts=()
			[ ! -e "$LAB_DIR/$host/uts" ] || uts=(--uts="$LAB_DIR/$host/uts")
			# shellcheck disable=SC2016 # expanded by that sh
			nsenter --net="/run/netns/hha-$LAB_ID-$host" "${uts[@]}" -- \
				env --default-signal=INT,QUIT sh -c 'echo $$ >"$0" && exec "$@"' \
				"$d/$BASHPID.pid" "$@" </dev/null >>"$log" 2>&1 || rc=$?
		fi
		# Written whole, so a reader never sees it half done.
		echo "$rc" >"$d/$BASHPID.st" && mv -f "$d/$BASHPID.st" "$d/$BASHPID.status"
	) </dev/null >/dev/null 2>&1 &
	wrapper=$!
	# Not a job of this shell: no "Killed" notices when a crash ends it.
	disown "$wrapper"
	for ((i = 0; i < 500; i++)); do
		[ -s "$d/$wrapper.pid" ] && { read -r pid <"$d/$wrapper.pid"; break; }
		if [ -e "$d/$wrapper.status" ]; then
			_lab_err "$host: cannot start $1 (exit status $(cat "$d/$wrapper.status"), log $log)"
			return 1
		fi
		sleep 0.01
	done
	[ -n "$pid" ] || { _lab_err "$host: $1 did not start"; return 1; }
	echo "$wrapper" >"$d/child.$pid"
	echo "$pid"
}

# Wait until CMD succeeds while PID (WHAT, logging to LOG) starts; on its
# death or after MS milliseconds, show the log's tail and fail.
_lab_wait_ready() {
	local pid=$1 what=$2 log=$3 ms=$4 end
	shift 4
	end=$(( $(_lab_now_ms) + ms ))
	until "$@"; do
		if ! _lab_alive "$pid"; then
			_lab_err "$what exited during start-up; last lines of $log:"
		elif [ "$(_lab_now_ms)" -ge "$end" ]; then
			_lab_err "$what is not ready after $ms ms; last lines of $log:"
			kill -KILL "$pid" 2>/dev/null
		else
			sleep 0.02
			continue
		fi
		tail -n 20 "$log" >&2
		return 1
	done
}

lab_bg() {
	local host=${1:-} log=${2:-}
	[ $# -ge 3 ] || { _lab_err "usage: lab_bg HOST LOGFILE CMD..."; return 2; }
	_lab_host "$host" || return 1
	shift 2
	_lab_spawn "$host" "$LAB_CG/$host" "$log" "$@"
}

# True while PID runs (a zombie counts as gone).
_lab_alive() {
	local st
	[[ ${1:-} =~ ^[0-9]+$ ]] || return 1
	read -r st 2>/dev/null <"/proc/$1/stat" || return 1
	# The state follows the command name, which may hold spaces and ')'.
	st=${st##*) }
	st=${st%% *}
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

lab_bg_wait() {
	local pid=${1:-} ms w end st
	_lab_load || return 1
	ms=$(_lab_to_ms "${2:-30}") || return 1
	[ -r "$LAB_DIR/.bg/child.$pid" ] || { _lab_err "pid $pid was not started by lab_bg"; return 1; }
	read -r w <"$LAB_DIR/.bg/child.$pid"
	end=$(( $(_lab_now_ms) + ms ))
	while :; do
		if [ -r "$LAB_DIR/.bg/$w.status" ]; then
			read -r st <"$LAB_DIR/.bg/$w.status"
			return "$st"
		fi
		if ! _lab_alive "$w"; then
			[ -r "$LAB_DIR/.bg/$w.status" ] && continue
			return 255
		fi
		[ "$(_lab_now_ms)" -lt "$end" ] || { _lab_err "pid $pid still runs after ${2:-30} s"; return 254; }
		sleep 0.05
	done
}

lab_wait_for() {
	local ms end
	[ $# -ge 2 ] || { _lab_err "usage: lab_wait_for TIMEOUT_S CMD..."; return 2; }
	ms=$(_lab_to_ms "$1") || return 2
	shift
	end=$(( $(_lab_now_ms) + ms ))
	while :; do
		"$@" && return 0
		[ "$(_lab_now_ms)" -lt "$end" ] || return 1
		sleep 0.1
	done
}

# ---------------------------------------------------------------------------
# Bring-up

_lab_cg_root() {
	local m
	if [ -n "${HHA_LAB_CGROUP_ROOT:-}" ]; then
		echo "$HHA_LAB_CGROUP_ROOT"
	elif [ -e /sys/fs/cgroup/cgroup.controllers ]; then
		echo /sys/fs/cgroup
	elif [ -e /sys/fs/cgroup/unified/cgroup.controllers ]; then
		echo /sys/fs/cgroup/unified
	else
		m=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
		[ -n "$m" ] || { _lab_err "no cgroup v2 hierarchy is mounted"; return 1; }
		echo "$m"
	fi
}

# Routes of the root namespace that overlap PREFIX, the default route aside.
_lab_overlaps() {
	local fam=$1 p=$2
	{ ip "-$fam" -j route show table all to root "$p"
	  ip "-$fam" -j route show table all match "$p"; } 2>/dev/null |
		jq -r '.[] | select(.dst != "default") | .dst' | grep -q .
}

# Pick free prefixes, record them in the registry and blackhole them, all
# under the registry lock so two labs never pick the same.
_lab_reserve() {
	local id=$1 a b v6 e used fd i
	mkdir -p "$_LAB_REG" || return 1
	exec {fd}>"$_LAB_REG/lock" || return 1
	flock "$fd" || { exec {fd}>&-; return 1; }
	if [ -e "$_LAB_REG/$id.env" ]; then
		exec {fd}>&-
		_lab_err "lab id $id is taken"; return 1
	fi
	used=$(cat "$_LAB_REG"/*.env 2>/dev/null | grep -E '^LAB_V4|^LAB_V6' || true)
	for ((i = 0; i < 64; i++)); do
		a=$(( RANDOM % 240 + 16 )); b=$(( RANDOM % 32 * 8 ))
		grep -qx "LAB_V4A=$a" <<<"$used" && grep -qx "LAB_V4B=$b" <<<"$used" && continue
		_lab_overlaps 4 "10.$a.$b.0/21" && continue
		e=$(_lab_rand_hex 5)
		# Canonical groups (no leading zeros, none zero) so that addresses
		# print exactly as the kernel prints them.
		v6=$(printf 'fd%s:%x:%x' "${e:0:2}" "0x${e:2:4}" "0x${e:6:4}")
		[[ $v6 =~ :0(:|$) ]] && continue
		grep -qx "LAB_V6=$v6" <<<"$used" && continue
		_lab_overlaps 6 "$v6::/48" && continue
		LAB_V4A=$a LAB_V4B=$b LAB_V6=$v6
		break
	done
	if [ -z "${LAB_V6:-}" ]; then
		exec {fd}>&-
		_lab_err "no free private prefix found"; return 1
	fi
	_lab_save >"$_LAB_REG/$id.env" &&
		printf 'route add blackhole %s\nroute add blackhole %s\n' \
			"10.$LAB_V4A.$LAB_V4B.0/21" "$LAB_V6::/48" | ip -b -
	local rc=$?
	if [ $rc != 0 ]; then
		ip route del blackhole "10.$LAB_V4A.$LAB_V4B.0/21" 2>/dev/null
		ip -6 route del blackhole "$LAB_V6::/48" 2>/dev/null
		rm -f "$_LAB_REG/$id.env"
	fi
	exec {fd}>&-
	[ $rc = 0 ] || _lab_err "cannot reserve 10.$LAB_V4A.$LAB_V4B.0/21 and $LAB_V6::/48"
}

_lab_save() {
	local v
	for v in LAB_ID LAB_DIR LAB_NODES LAB_DAEMONS LAB_HOSTS LAB_LINKS LAB_LINK_LIST LAB_V4A LAB_V4B LAB_V6 \
		 LAB_CG LAB_HB_FAMILY LAB_OWNER; do
		printf '%s=%q\n' "$v" "${!v:-}"
	done
}

_lab_trap_cmd() {
	local t
	t=$(trap -p "$1")
	[ -n "$t" ] || return 0
	eval "set -- $t"
	case $3 in *_lab_on_*) ;; *) printf '%s' "$3" ;; esac
}

_lab_install_trap() {
	_LAB_OLD_EXIT=$(_lab_trap_cmd EXIT)
	_LAB_OLD_INT=$(_lab_trap_cmd INT)
	_LAB_OLD_TERM=$(_lab_trap_cmd TERM)
	trap '_lab_on_exit' EXIT
	trap '_lab_on_signal INT 130' INT
	trap '_lab_on_signal TERM 143' TERM
}

_lab_on_exit() {
	local rc=$?
	if [ -n "${LAB_ID:-}" ]; then
		[ "$rc" = 0 ] || _lab_report
		lab_down
	fi
	[ -z "${_LAB_OLD_EXIT:-}" ] || eval "$_LAB_OLD_EXIT"
	exit "$rc"
}

_lab_on_signal() {
	local old
	[ "$1" = INT ] && old=${_LAB_OLD_INT:-} || old=${_LAB_OLD_TERM:-}
	_lab_err "caught SIG$1, tearing the lab down"
	[ -z "${LAB_ID:-}" ] || { _lab_report; lab_down; }
	[ -z "$old" ] || eval "$old"
	exit "$2"
}

# After a failure: the tail of every log, since $LAB_DIR is about to go.
_lab_report() {
	local f
	[ -d "${LAB_DIR:-}" ] || return 0
	for f in "$LAB_DIR"/*/*.log "$LAB_DIR"/*.log; do
		[ -s "$f" ] || continue
		printf -- '---- lab: last lines of %s\n' "$f" >&2
		tail -n 25 "$f" >&2
	done
	if [ "${HHA_LAB_KEEP:-0}" = 1 ]; then
		printf 'lab: logs kept in %s\n' "$LAB_DIR" >&2
	else
		printf 'lab: set HHA_LAB_KEEP=1 to keep %s\n' "$LAB_DIR" >&2
	fi
}

# Namespaces, veths, bridges and addresses: one `ip -b` for the root
# namespace's part, one per namespace for the rest.
_lab_build_net() {
	local h l ns br mac
	{
		for l in $LAB_LINK_LIST; do echo "netns add hha-$LAB_ID-l$l"; done
		for h in $LAB_HOSTS; do
			echo "netns add hha-$LAB_ID-$h"
			for l in $LAB_LINK_LIST; do
				_lab_mac_to mac "$h" "$l"
				echo "link add eth$l netns hha-$LAB_ID-$h address $mac" \
				     "type veth peer name $h netns hha-$LAB_ID-l$l"
			done
		done
	} | ip -b - || { _lab_err "cannot create namespaces and links"; return 1; }
	for l in $LAB_LINK_LIST; do
		br="hha-$LAB_ID-l$l"
		{
			echo "link set lo up"
			# No STP, no multicast snooping: ports forward at once and
			# ND/ARP floods reach everyone, like a dumb switch.
			echo "link add br0 type bridge stp_state 0 forward_delay 0 mcast_snooping 0"
			echo "link set br0 addrgenmode none"
			for h in $LAB_HOSTS; do echo "link set dev $h master br0 up"; done
			echo "link set br0 up"
		} | ip -n "$br" -b - || { _lab_err "cannot build link $l"; return 1; }
	done
	for h in $LAB_HOSTS; do
		ns="hha-$LAB_ID-$h"
		{
			echo "link set lo up"
			_lab_addr_cmds "$h"
			_lab_links_cmd up
		} | ip -n "$ns" -b - || { _lab_err "cannot configure $h"; return 1; }
	done
}

# `ip -b` lines that (re)set a host's lab addresses.
_lab_addr_cmds() {
	local l a4 a6
	for l in $LAB_LINK_LIST; do
		_lab_addr_to a4 "$1" "$l" 4
		_lab_addr_to a6 "$1" "$l" 6
		echo "addr replace $a4/24 dev eth$l"
		echo "addr replace $a6/64 dev eth$l nodad"
	done
}

# `ip -b` lines that set every lab link of a host up or down.
_lab_links_cmd() {
	local l
	for l in $LAB_LINK_LIST; do echo "link set eth$l $1"; done
}

lab_up() {
	local n="" links=1 client=0 ping=0 witness=0 ipv6=0 h t t0 id cgroot
	t0=$(_lab_now_ms)
	while [ $# -gt 0 ]; do
		case $1 in
		--links) links=${2:-}; shift ;;
		--links=*) links=${1#--links=} ;;
		--client) client=1 ;;
		--ping) ping=1 ;;
		--witness) witness=1 ;;
		--ipv6) ipv6=1 ;;
		-*) _lab_err "lab_up: unknown option \`$1'"; return 2 ;;
		*) [ -z "$n" ] || { _lab_err "lab_up: unexpected argument \`$1'"; return 2; }; n=$1 ;;
		esac
		shift
	done
	[[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 99 ] ||
		{ _lab_err "lab_up: invalid node count \`$n' (1..99)"; return 2; }
	[[ $links =~ ^[0-9]+$ ]] && [ "$links" -ge 1 ] && [ "$links" -le 8 ] ||
		{ _lab_err "lab_up: invalid link count \`$links' (1..8)"; return 2; }
	[ "$(id -u)" = 0 ] || { _lab_err "lab_up: needs root"; return 1; }
	for t in ip nsenter unshare nft jq flock; do
		command -v "$t" >/dev/null || { _lab_err "lab_up: \`$t' is missing"; return 1; }
	done
	[ -z "${LAB_ID:-}" ] || { _lab_err "lab_up: a lab is already up in this shell ($LAB_DIR)"; return 1; }


	cgroot=$(_lab_cg_root) || return 1
	for ((t = 0; t < 20; t++)); do
		id=$(_lab_rand_hex 3)
		[ -e "$_LAB_REG/$id.env" ] || [ -e "${HHA_LAB_TMPDIR:-/tmp}/hha-lab-$id" ] || break
	done
	LAB_ID=$id
	LAB_DIR="${HHA_LAB_TMPDIR:-/tmp}/hha-lab-$id"
	LAB_NODES=n1
	for ((t = 2; t <= n; t++)); do LAB_NODES="$LAB_NODES n$t"; done
	LAB_DAEMONS=$LAB_NODES
	[ $witness = 0 ] || LAB_DAEMONS="$LAB_DAEMONS w"
	LAB_HOSTS=$LAB_DAEMONS
	[ $client = 0 ] || LAB_HOSTS="$LAB_HOSTS c"
	[ $ping = 0 ] || LAB_HOSTS="$LAB_HOSTS p"
	LAB_LINKS=$links
	LAB_LINK_LIST=0
	for ((t = 1; t < links; t++)); do LAB_LINK_LIST="$LAB_LINK_LIST $t"; done
	LAB_CG="$cgroot/hha-lab-$id"
	LAB_HB_FAMILY=4
	[ $ipv6 = 0 ] || LAB_HB_FAMILY=6
	LAB_OWNER=${_LAB_CLI_OWNER:-$$}
	LAB_V6=""
	if ! _lab_reserve "$id"; then
		unset LAB_ID
		return 1
	fi
	[ -n "${_LAB_CLI_OWNER:-}" ] || _lab_install_trap
	_lab_log "lab $LAB_ID: 10.$LAB_V4A.$LAB_V4B.0/21 $LAB_V6::/48, hosts $LAB_HOSTS"
	if ! _lab_build; then
		_lab_err "lab_up failed; tearing down"
		lab_down
		return 1
	fi
	_lab_log "lab $LAB_ID up in $(( $(_lab_now_ms) - t0 )) ms"
}

_lab_build() {
	local h
	mkdir -m 0755 "$LAB_DIR" || return 1
	_lab_save >"$LAB_DIR/lab.env" || return 1
	mkdir "$LAB_CG" "$LAB_CG/links" || { _lab_err "cannot create cgroup $LAB_CG"; return 1; }
	for h in $LAB_HOSTS; do
		mkdir -p "$LAB_DIR/$h/run" "$LAB_DIR/$h/state" "$LAB_CG/$h/disk" &&
			: >"$LAB_DIR/$h/uts" &&
			unshare --uts="$LAB_DIR/$h/uts" hostname "$h" ||
			{ _lab_err "cannot set up host $h"; return 1; }
	done
	_lab_build_net || return 1
	_lab_gen_configs || return 1
	for h in $LAB_HOSTS; do
		# shellcheck disable=SC2086 # a list of numbers
		_lab_wait_oper_up "$h" $LAB_LINK_LIST || return 1
	done
}

# ---------------------------------------------------------------------------
# Teardown

_lab_cg_wait_empty() {
	local cg=$1 file=$2 ms=${3:-5000} end
	end=$(( $(_lab_now_ms) + ms ))
	while [ -d "$cg" ]; do
		if [ "$file" = cgroup.events ]; then
			grep -qx 'populated 0' "$cg/cgroup.events" 2>/dev/null && return 0
		else
			[ -s "$cg/cgroup.procs" ] || return 0
		fi
		[ "$(_lab_now_ms)" -lt "$end" ] || return 1
		sleep 0.02
	done
}

# Kill the processes of HOSTS except their disk servers (which must outlive
# the mounts above them so those unmount cleanly).
_lab_kill_hosts_procs() {
	local h cg p
	for h in "$@"; do
		cg="$LAB_CG/$h"
		[ -d "$cg" ] || continue
		echo 1 >"$cg/cgroup.freeze" 2>/dev/null
		while read -r p; do kill -KILL "$p" 2>/dev/null; done <"$cg/cgroup.procs"
		echo 0 >"$cg/cgroup.freeze" 2>/dev/null
	done
	for h in "$@"; do
		cg="$LAB_CG/$h"
		_lab_cg_wait_empty "$cg" cgroup.procs ||
			_lab_err "$h: processes survive SIGKILL: $(tr '\n' ' ' <"$cg/cgroup.procs")"
	done
}

# Mount points below $LAB_DIR, deepest first.
_lab_mounts_below() {
	awk -v d="$1/" 'index($5, d) == 1 { print length($5), $5 }' /proc/self/mountinfo |
		sort -rn | cut -d' ' -f2-
}

lab_down() {
	local - h l rc=0 m dev back
	set +e
	if [ -z "${LAB_ID:-}" ] && [ -n "${HHA_LAB:-}" ] && [ -r "$HHA_LAB/lab.env" ]; then
		_lab_load || return 1
	fi
	[ -n "${LAB_ID:-}" ] || return 0
	case ${LAB_DIR:-} in
	*/hha-lab-"$LAB_ID") ;;
	*) _lab_err "lab_down: refusing odd LAB_DIR \`${LAB_DIR:-}'"; return 1 ;;
	esac
	_lab_log "lab $LAB_ID: tearing down"
	# shellcheck disable=SC2086 # a list of names
	_lab_kill_hosts_procs $LAB_HOSTS
	[ -z "$(declare -F _lab_nbd_undo_all)" ] || _lab_nbd_undo_all
	[ -z "$(declare -F _lab_disk_stop_all)" ] || _lab_disk_stop_all
	if [ -d "$LAB_CG" ]; then
		echo 1 >"$LAB_CG/cgroup.kill" 2>/dev/null
		_lab_cg_wait_empty "$LAB_CG" cgroup.events || { _lab_err "lab cgroup not empty"; rc=1; }
	fi
	# Whatever is still mounted below the lab (UTS bind mounts, dead FUSE).
	while read -r m; do
		[ -n "$m" ] || continue
		umount "$m" 2>/dev/null || umount -l "$m" || rc=1
	done < <(_lab_mounts_below "$LAB_DIR")
	while read -r dev back; do
		case $back in "$LAB_DIR"/*) losetup -d "$dev" || rc=1 ;; esac
	done < <(losetup -n -l -O NAME,BACK-FILE 2>/dev/null)
	{
		for l in $LAB_LINK_LIST; do echo "netns del hha-$LAB_ID-l$l"; done
		for h in $LAB_HOSTS; do echo "netns del hha-$LAB_ID-$h"; done
	} | ip -force -b - 2>/dev/null
	for h in $LAB_HOSTS; do
		[ ! -e "/run/netns/hha-$LAB_ID-$h" ] || { _lab_err "netns hha-$LAB_ID-$h remains"; rc=1; }
	done
	if [ -n "${LAB_V6:-}" ]; then
		ip route del blackhole "10.$LAB_V4A.$LAB_V4B.0/21" 2>/dev/null
		ip -6 route del blackhole "$LAB_V6::/48" 2>/dev/null
	fi
	if [ -d "$LAB_CG" ]; then
		for h in $LAB_HOSTS; do rmdir "$LAB_CG/$h/disk" "$LAB_CG/$h" 2>/dev/null; done
		rmdir "$LAB_CG/links" 2>/dev/null
		rmdir "$LAB_CG" || { _lab_err "cannot remove cgroup $LAB_CG"; rc=1; }
	fi
	rm -f "$_LAB_REG/$LAB_ID.env"
	if [ "${HHA_LAB_KEEP:-0}" = 1 ]; then
		printf 'lab: kept %s\n' "$LAB_DIR" >&2
		rm -f "$LAB_DIR/lab.env"
	elif [ -d "$LAB_DIR" ]; then
		rm -rf --one-file-system "$LAB_DIR" || rc=1
	fi
	_lab_log "lab $LAB_ID: down"
	unset LAB_ID LAB_DIR LAB_NODES LAB_DAEMONS LAB_HOSTS LAB_LINKS LAB_LINK_LIST LAB_V4A LAB_V4B LAB_V6 \
	      LAB_CG LAB_HB_FAMILY LAB_OWNER
	return $rc
}

# Labs of this machine, from the registry.
lab_list() {
	local f
	for f in "$_LAB_REG"/*.env; do
		[ -e "$f" ] || continue
		(
			# shellcheck source=/dev/null
			. "$f"
			state=live
			[ "$LAB_OWNER" = cli ] || _lab_alive "$LAB_OWNER" || state="owner $LAB_OWNER gone"
			printf '%s %s 10.%s.%s.0/21 %s::/48 %s (%s)\n' "$LAB_ID" "$LAB_DIR" "$LAB_V4A" \
				"$LAB_V4B" "$LAB_V6" "$LAB_HOSTS" "$state"
		)
	done
}

# Tear down labs whose owning test died without its trap (SIGKILL).
lab_gc() {
	local f
	for f in "$_LAB_REG"/*.env; do
		[ -e "$f" ] || continue
		(
			# shellcheck source=/dev/null
			. "$f"
			if [ "$LAB_OWNER" != cli ] && ! _lab_alive "$LAB_OWNER"; then
				printf 'lab: removing lab %s (owner %s is gone)\n' "$LAB_ID" "$LAB_OWNER" >&2
				lab_down
			fi
		)
	done
}

# shellcheck source=tests/lab/lab-hhad.sh
. "$_LAB_SRC/lab-hhad.sh"
# shellcheck source=tests/lab/lab-faults.sh
. "$_LAB_SRC/lab-faults.sh"
# shellcheck source=tests/lab/lab-disk.sh
. "$_LAB_SRC/lab-disk.sh"
# shellcheck source=tests/lab/lab-probe.sh
. "$_LAB_SRC/lab-probe.sh"
