#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Self-test of the namespace lab (tests/lab/lab.sh): reachability and
# isolation, namespaces and cgroups of lab_exec, per-node CPU accounting,
# cuts, crashes, the crash-faithful disk, NBD mounts, and a clean teardown.
# jq programs are in single quotes on purpose.
# shellcheck disable=SC2016
set -u

if [ "${HHA_LAB_TESTS:-}" != yes ] || [ "$(id -u)" != 0 ]; then
	echo "SKIP: lab tests need root and HHA_LAB_TESTS=yes"
	exit 77
fi
HHA_SRCDIR=${HHA_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$HHA_SRCDIR/tests/lab/lab.sh"
. "$HHA_SRCDIR/tests/e2e/tap.sh"
need nbdkit nbdfuse fusermount3 socat mkfs.ext4 losetup ping tcpdump
[ -x "${HHA_BUILDDIR:-}/hhad" ] || { echo "FAIL: no hhad in HHA_BUILDDIR=${HHA_BUILDDIR:-}"; exit 1; }

check_not() {
	local what=$1
	shift
	if "$@"; then not_ok "$what"; else ok "$what"; fi
}

reach() { lab_exec "$1" ping -c1 -W1 -q "$2" >/dev/null 2>&1; }
reach_soon() { lab_wait_for 3 reach "$1" "$2"; }
usage_usec() { awk '$1 == "usage_usec" { print $2 }' "$(lab_cgroup "$1")/cpu.stat"; }

# UDP probes: a receiver per host appends what it gets to a file; a probe
# sends a unique token and looks for it.
udp_listen() {
	lab_bg "$1" "$LAB_DIR/$1/udp.log" socat -u UDP4-RECV:7000,reuseaddr \
		"OPEN:$LAB_DIR/$1/udp.got,creat,append" >/dev/null
}
probe_seq=0
udp_gets() {
	local from=$1 to=$2 token
	probe_seq=$((probe_seq + 1))
	token="probe-$probe_seq-$from-$to"
	echo "$token" | lab_exec "$from" socat -u - "UDP4-SENDTO:$(lab_addr "$to"):7000" || return 2
	lab_wait_for 1 grep -qx "$token" "$LAB_DIR/$to/udp.got"
}
udp_lost() {
	local token rc=0
	udp_gets "$@" || rc=$?
	[ $rc = 1 ]   # sent without error, never arrived
}

# -- bring-up --------------------------------------------------------------
t0=$(_lab_now_ms)
lab_up 3 --links 2 --client --ping || { echo "FAIL: lab_up"; exit 1; }
echo "# lab_up 3 --links 2 --client --ping took $(( $(_lab_now_ms) - t0 )) ms"
id=$LAB_ID dir=$LAB_DIR cg=$LAB_CG
v4net="10.$LAB_V4A.$LAB_V4B.0/21" v6net="$LAB_V6::/48"

all_reach=1
for a in $LAB_NODES; do
	for b in $LAB_NODES c p; do
		[ "$a" != "$b" ] || continue
		for l in 0 1; do
			for f in 4 6; do
				reach "$a" "$(lab_addr "$b" "$l" "$f")" ||
					{ all_reach=0; echo "# $a cannot reach $b on link $l (IPv$f)"; }
			done
		done
	done
done
check "nodes, client and ping target reach each other on both links, IPv4 and IPv6" [ $all_reach = 1 ]
check "the client reaches a node" reach c "$(lab_addr n3 1 6)"
# Route look-ups only: nothing is sent.
check_not "a node has no route out (IPv4)" quiet lab_exec n1 ip route get 192.0.2.1
check_not "a node has no route out (IPv6)" quiet lab_exec n1 ip -6 route get 2001:db8::1
check "the root namespace blackholes the lab's IPv4 prefix" \
	sh -c "ip route show '$v4net' | grep -q '^blackhole'"
check "the root namespace blackholes the lab's IPv6 prefix" \
	sh -c "ip -6 route show '$v6net' | grep -q '^blackhole'"
kernel_addr() { ip -n "$(lab_ns "$1")" -br addr show dev "eth$2" | grep -qF " $3/"; }
check "lab addresses print as the kernel prints them" kernel_addr n2 1 "$(lab_addr n2 1 6)"

lab_exec n1 ip addr add "$LAB_V6::99/64" dev eth0
check "DAD still runs for addresses a test adds itself" \
	quiet lab_exec n1 sh -c "ip -6 addr show dev eth0 tentative | grep -q '$LAB_V6::99/64'"
lab_exec n1 ip addr del "$LAB_V6::99/64" dev eth0

# -- generated configs -----------------------------------------------------
all_valid=1
for h in $LAB_DAEMONS; do
	quiet "$HHA_BUILDDIR/hhad" --check-config "$(lab_config "$h")" || all_valid=0
done
check "the generated configs are valid" [ $all_valid = 1 ]
check "a config lists every node with one heartbeat address per link" \
	quiet jq -e --arg a "$(lab_addr n3 0)" --arg b "$(lab_addr n3 1)" \
	'(.nodes | keys) == ["n1", "n2", "n3"] and .nodes.n3.heartbeat == [$a, $b] and .nodes.n3.id == 3' \
	"$(lab_config n1)"
check "the cluster key is private" [ "$(stat -c %a "$dir/cluster.key")" = 600 ]
lab_config_merge '{"resources": {"r0": {"on": {"n1": {"backing": "@LAB_DIR@/n1/r0"},
	"n2": {"backing": "@LAB_DIR@/n2/r0"}}}}, "cluster": {"state_dir": "@NODE_DIR@/st"}}'
lab_config_merge_node n3 '{"cluster": {"heartbeat": {"keepalive_ms": 100}}}'
check "lab_config_merge fills in placeholders per node" \
	quiet jq -e --arg d "$dir" '.cluster.state_dir == "\($d)/n2/st" and
		.resources.r0.on.n2.backing == "\($d)/n2/r0"' "$(lab_config n2)"
check "lab_config_merge_node changes one node only" \
	quiet jq -e '.cluster.heartbeat.keepalive_ms == 100' "$(lab_config n3)"
check "lab_config_merge_node leaves the others" \
	quiet jq -e '.cluster.heartbeat == null' "$(lab_config n1)"
check "merged configs are still valid" quiet "$HHA_BUILDDIR/hhad" --check-config "$(lab_config n3)"

cap=$(lab_capture 1 "$dir/link1.pcap" arp or icmp)
check "lab_reach: n1 reaches n2 on link 1" lab_reach n1 n2 1
check_not "lab_reach: but not on a link that does not exist" quiet lab_reach n1 n2 5
lab_capture_stop "$cap"
check "lab_capture sees the ping between two other hosts on its link" \
	quiet sh -c "tcpdump -n -r '$dir/link1.pcap' 2>/dev/null | grep -q '$(lab_addr n1 1) > $(lab_addr n2 1): ICMP echo request'"

# -- lab_exec --------------------------------------------------------------
check "lab_exec sets the hostname" [ "$(lab_exec n2 hostname)" = n2 ]
check "lab_exec enters the node's network namespace" \
	[ "$(lab_exec n2 readlink /proc/self/ns/net)" = "net:[$(stat -L -c %i "/run/netns/$(lab_ns n2)")]" ]
check "lab_exec keeps the mount namespace" \
	[ "$(lab_exec n2 readlink /proc/self/ns/mnt)" = "$(readlink /proc/self/ns/mnt)" ]
in_cgroup() { lab_exec "$1" cat /proc/self/cgroup | grep -qx "0::${cg#"$(_lab_cg_root)"}/$1"; }
check "lab_exec runs in the node's cgroup" in_cgroup n2
lab_exec n1 sh -c 'exit 42'
check "lab_exec passes the exit status through" [ $? = 42 ]
pid=$(lab_bg n1 "$dir/n1/bg.log" sh -c 'echo started; exit 7')
lab_bg_wait "$pid" 5
check "lab_bg_wait returns the exit status" [ $? = 7 ]
check "lab_bg logs to its file" grep -qx started "$dir/n1/bg.log"

# -- per-node CPU ----------------------------------------------------------
# Spin until n2 has used 0.3 s of CPU (wall time varies with the machine's
# load), then compare with what n1 used meanwhile.
c1=$(usage_usec n1) c2=$(usage_usec n2)
pid=$(lab_bg n2 /dev/null timeout 20 sh -c 'while :; do :; done')
lab_wait_for 20 sh -c "[ \$(( \$(awk '\$1 == \"usage_usec\" { print \$2 }' '$(lab_cgroup n2)/cpu.stat') - $c2 )) -ge 300000 ]"
kill "$pid" 2>/dev/null
lab_bg_wait "$pid" 10
d1=$(( $(usage_usec n1) - c1 )) d2=$(( $(usage_usec n2) - c2 ))
echo "# busy loop in n2: n2 used $d2 us, n1 $d1 us"
check "a busy loop in n2 shows in n2's cgroup" [ "$d2" -ge 150000 ]
check "and not in n1's" [ "$d1" -lt 50000 ]

# -- cuts ------------------------------------------------------------------
for h in n1 n2 n3; do udp_listen "$h"; done
check "UDP probes pass before any cut" lab_wait_for 3 udp_gets n1 n2
lab_cut n1 n2
check_not "cut: n1 no longer reaches n2 (IPv4)" reach n1 "$(lab_addr n2 0)"
check_not "cut: n2 no longer reaches n1 on link 1 (IPv6)" reach n2 "$(lab_addr n1 1 6)"
check "cut: the sender sees no error and the datagram is lost" udp_lost n1 n2
check "cut: n1 still reaches n3" reach n1 "$(lab_addr n3 1)"
lab_heal
check "heal: n1 reaches n2 again" reach_soon n1 "$(lab_addr n2 0)"
lab_cut n1 n2 --oneway
check "one-way cut: n1 -> n2 is lost" udp_lost n1 n2
check "one-way cut: n2 -> n1 passes" udp_gets n2 n1
lab_heal n1 n2
check "heal A B: n1 -> n2 passes again" lab_wait_for 3 udp_gets n1 n2
lab_cut n2 n3 --link 1
check_not "link cut: n2 does not reach n3 on link 1" reach n2 "$(lab_addr n3 1)"
check "link cut: n2 reaches n3 on link 0" reach n2 "$(lab_addr n3 0)"
lab_cut n1 n3 --port 7000 --proto udp
check "port cut: UDP to port 7000 lost" udp_lost n1 n3
check "port cut: ping still passes" reach n1 "$(lab_addr n3 0)"
lab_heal
check "heal all: n2 reaches n3 on link 1" reach_soon n2 "$(lab_addr n3 1)"
check "heal all: UDP n1 -> n3 passes" lab_wait_for 3 udp_gets n1 n3

# -- links, freeze ---------------------------------------------------------
lab_link_down n3 1
check_not "link down: n1 does not reach n3 on link 1" reach n1 "$(lab_addr n3 1)"
check "link down: n1 reaches n3 on link 0" reach n1 "$(lab_addr n3 0)"
lab_link_up n3 1
check "link up: n1 reaches n3 on link 1 (IPv6)" reach_soon n1 "$(lab_addr n3 1 6)"
lab_bg n3 /dev/null sh -c "while :; do date +%s%N >'$dir/n3/tick'; sleep 0.02; done" >/dev/null
lab_wait_for 2 test -s "$dir/n3/tick"
lab_freeze n3
check "freeze: the cgroup reports frozen" grep -qx 'frozen 1' "$cg/n3/cgroup.events"
a=$(cat "$dir/n3/tick"); sleep 0.3; b=$(cat "$dir/n3/tick")
check "freeze: the node's processes stop" [ "$a" = "$b" ]
lab_thaw n3
check "thaw: they run again" lab_wait_for 2 sh -c "[ \"\$(cat '$dir/n3/tick')\" != '$b' ]"

# -- hhad, crash, crash-faithful disk --------------------------------------
lab_hhad_start n1
check "hhad answers in n1" quiet lab_ctl n1 status
check "lab_wait_json sees n1's status" lab_wait_json 2 '.node == "n1"' lab_ctl n1 status --json
ev=$(lab_tool_bg n1 "$dir/n1/events.log" hha-ctl events)
# Reload until the event shows: the subscription may take a moment.
reload_seen() { quiet lab_ctl n1 reload; grep -q core.reload "$dir/n1/events.log"; }
check "lab_tool_bg streams hhad's events" lab_wait_for 3 reload_seen
kill "$ev"
hhad_pid=$(lab_hhad_pid n1)
sleeper=$(lab_bg n1 /dev/null sleep 600)
disk=$(lab_disk n1 d0 64M)
check "lab_disk gives a FUSE file of the right size" [ "$(stat -c %s "$disk")" = $((64 << 20)) ]
img=$(lab_disk_image n1 d0)
lab_exec n1 sh -c "printf AAAAAAAA | dd of='$disk' bs=4096 seek=0 conv=notrunc,fdatasync status=none &&
	printf CCCCCCCC | dd of='$disk' bs=4096 seek=8 conv=notrunc,fsync status=none &&
	printf BBBBBBBB | dd of='$disk' bs=4096 seek=256 conv=notrunc status=none"
rd() { dd if="$1" bs=4096 skip="$2" count=1 status=none | head -c 8; }
check "the unflushed write reads back through the disk" [ "$(rd "$disk" 256)" = BBBBBBBB ]
check "the unflushed write is not in the image yet" [ "$(rd "$img" 256 | tr -d '\0')" = "" ]
check "the fdatasync'ed write is in the image" [ "$(rd "$img" 0)" = AAAAAAAA ]
nbdkit_pid=$(cat "$dir/n1/d0.nbdkit.pid")
t0=$(_lab_now_ms)
lab_crash n1
echo "# lab_crash took $(( $(_lab_now_ms) - t0 )) ms"
check "crash: the node's cgroup is empty" grep -qx 'populated 0' "$cg/n1/cgroup.events"
check_not "crash: hhad is gone" _lab_alive "$hhad_pid"
check_not "crash: other processes are gone" _lab_alive "$sleeper"
check_not "crash: the disk server is gone" _lab_alive "$nbdkit_pid"
check_not "crash: the node's FUSE mount is detached" _lab_is_mnt "$dir/n1/d0.fuse"
check_not "crash: the node is unreachable" reach n2 "$(lab_addr n1 0)"
check "crash: the unflushed write is lost" [ "$(rd "$img" 256 | tr -d '\0')" = "" ]
check "crash: the fdatasync'ed write survives" [ "$(rd "$img" 0)" = AAAAAAAA ]
check "crash: the fsync'ed write survives" [ "$(rd "$img" 8)" = CCCCCCCC ]
lab_restart n1
check "restart: the node is reachable again" reach_soon n2 "$(lab_addr n1 1 6)"
disk2=$(lab_disk_restart n1 d0)
check "restart: the disk is served at the same path" [ "$disk2" = "$disk" ]
check "restart: the disk holds the flushed write" [ "$(rd "$disk" 0)" = AAAAAAAA ]
check "restart: the disk lacks the unflushed write" [ "$(rd "$disk" 256 | tr -d '\0')" = "" ]
check "restart: hhad starts again" lab_hhad_start n1

# -- NBD mounts ------------------------------------------------------------
lab_bg c "$dir/c/mem.log" nbdkit -f -U "$dir/c/mem.sock" memory 64M >/dev/null
lab_wait_for 5 test -S "$dir/c/mem.sock"
loop=$(lab_nbd_mount c "$dir/c/mem.sock" "$dir/mnt1" mkfs)
check "nbd mount: ext4 on a loop device over nbdfuse" _lab_is_mnt "$dir/mnt1"
echo hello >"$dir/mnt1/f" && sync
lab_nbd_umount "$dir/mnt1"
check_not "nbd umount: the filesystem is unmounted" _lab_is_mnt "$dir/mnt1"
check_not "nbd umount: nbdfuse is unmounted" _lab_is_mnt "$dir/c/nbd1.fuse"
loop_ours() { losetup -n -O BACK-FILE "$1" 2>/dev/null | grep -qF "$dir/"; }
check_not "nbd umount: the loop device is detached" loop_ours "$loop"
lab_nbd_mount c "nbd+unix:///?socket=$dir/c/mem.sock" "$dir/mnt2" >/dev/null
check "nbd mount by URI keeps the filesystem" [ "$(cat "$dir/mnt2/f" 2>/dev/null)" = hello ]
disk3=$(lab_disk n2 d1 32M)
loop=$(lab_nbd_mount n2 "$dir/n2/d1.nbdkit.sock" "$dir/mnt3" mkfs)
check "nbd mount over a lab disk" _lab_is_mnt "$dir/mnt3"
lab_exec n2 sh -c "echo data >'$dir/mnt3/f'"
lab_crash n2
check_not "crash with a mounted filesystem: it is detached" _lab_is_mnt "$dir/mnt3"
check_not "crash with a mounted filesystem: its loop device is detached" loop_ours "$loop"
check_not "crash with a mounted filesystem: its FUSE mount is detached" _lab_is_mnt "$dir/n2/nbd1.fuse"
check "the crashed node's disk restarts" quiet lab_disk_restart n2 d1
: "$disk3"

# -- teardown --------------------------------------------------------------
pids="$hhad_pid $sleeper $nbdkit_pid $(cat "$dir"/*/*.nbdkit.pid 2>/dev/null) $(lab_hhad_pid n1)"
t0=$(_lab_now_ms)
lab_down
check "lab_down succeeds" [ $? = 0 ]
echo "# lab_down took $(( $(_lab_now_ms) - t0 )) ms"
check "lab_down again is a no-op" lab_down
check "no namespace of the lab is left" sh -c "! ls /run/netns | grep -q 'hha-$id-'"
check "no cgroup is left" [ ! -e "$cg" ]
check "no mount is left" sh -c "! grep -q '$dir' /proc/self/mountinfo"
check "no loop device is left" sh -c "! losetup -n -l -O BACK-FILE | grep -q '$dir'"
alive=""
for p in $pids; do _lab_alive "$p" && alive="$alive $p"; done
check "no process is left${alive:+ (alive:$alive)}" [ -z "$alive" ]
check "no route is left" sh -c "! ip route show table all | grep -q '$v4net'; ! ip -6 route show table all | grep -q '${v6net%::/48}'"
check "the registry entry is gone" [ ! -e "/run/hha-lab/$id.env" ]
check "the lab directory is gone" [ ! -e "$dir" ]

# -- the trap --------------------------------------------------------------
out=$(bash -c '
	. "$1/tests/lab/lab.sh"
	trap "echo earlier-trap-ran" EXIT
	lab_up 1 --witness || exit 9
	echo "dir $LAB_DIR $LAB_ID"
	lab_bg n1 /dev/null sleep 600 >/dev/null
	false
	exit 3' sh "$HHA_SRCDIR" 2>/dev/null)
rc=$?
cdir=$(sed -n 's/^dir \([^ ]*\) .*/\1/p' <<<"$out") cid=$(sed -n 's/^dir [^ ]* //p' <<<"$out")
check "a failing test keeps its exit status through the trap" [ $rc = 3 ]
check "the trap chains the earlier EXIT trap" grep -qx earlier-trap-ran <<<"$out"
check "the trap tears the lab down" sh -c "[ -n '$cid' ] && [ ! -e '$cdir' ] && ! ls /run/netns | grep -q 'hha-$cid-'"
tmp=$(mktemp)
bash -c '. "$1/tests/lab/lab.sh"; lab_up 1 || exit 9; echo "$LAB_ID"; kill -TERM $$; sleep 5' sh "$HHA_SRCDIR" \
	>"$tmp" 2>/dev/null
rc=$?
cid=$(head -n 1 "$tmp")
rm -f "$tmp"
check "SIGTERM tears the lab down" sh -c "[ $rc = 143 ] && [ -n '$cid' ] && ! ls /run/netns | grep -q 'hha-$cid-' && [ ! -e /run/hha-lab/$cid.env ]"

echo "$((n - failed)) passed, $failed failed"
[ $failed = 0 ]
