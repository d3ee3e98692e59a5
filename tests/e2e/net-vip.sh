#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of VIP takeover: an IPv4 and an IPv6 VIP added on n1 are
# reachable from a client; moved to n2, the client's neighbour entry switches
# to n2's MAC by itself and a TCP connect reaches n2. Also: idempotence, the
# refusal of an interface's own address, status exit codes, the library path
# without hhad, and an owned VIP removed behind hhad's back coming back.
set -u

. "$(dirname "$0")/net-common.sh" socat
net() { local h=$1; shift; lab_tool "$h" hha-net "$@"; }
# Without hhad: the library directly (no socket answers at this path).
net_direct() { local h=$1; shift; lab_exec "$h" "$HHA_BUILDDIR/hha-net" --socket "$LAB_DIR/$h/none.sock" "$@"; }
neigh_mac() { lab_exec c ip -j neigh show "$1" dev eth0 | jq -r '.[0].lladdr // empty'; }
neigh_is() { [ "$(neigh_mac "$1")" = "$2" ]; }
# A one-shot TCP server on HOST:PORT answering its own name.
serve() { lab_bg "$1" "$LAB_DIR/$1/serve.log" socat -T5 "TCP6-LISTEN:$2,ipv6only=0,reuseaddr,fork" "SYSTEM:echo $1" >/dev/null; }
# HOST holds ADDR (/32 or /128) on eth0, optionally with label L.
has_addr() { [ -n "$(lab_exec "$1" ip -o addr show dev eth0 to "$2" ${3:+label "$3"})" ]; }
reach() { lab_exec c socat -T2 - "TCP:$1" </dev/null 2>/dev/null; }

lab_up 2 --client || { echo "FAIL: lab_up"; exit 1; }
lab_hhad_start n1 && lab_hhad_start n2 || { echo "FAIL: hhad does not start"; exit 1; }
mac1=$(lab_mac n1 0) mac2=$(lab_mac n2 0)
p4=$(lab_prefix 0 4) p6=$(lab_prefix 0 6)
vip4="${p4%.*}.77" vip6="${p6%::*}::77"
serve n1 7001; serve n2 7001

for fam in 4 6; do
	if [ $fam = 4 ]; then vip=$vip4 plen=24 hp="$vip4:7001"; else vip=$vip6 plen=64 hp="[$vip6]:7001"; fi
	check "v$fam: vip add on n1" quiet net n1 vip add "$vip/$plen" dev eth0
	check "v$fam: vip status on n1 says held (exit 0)" quiet net n1 vip status "$vip"
	net n2 vip status "$vip" >/dev/null; check "v$fam: vip status on n2 says not held (exit 3)" [ $? = 3 ]
	check "v$fam: client reaches n1 through the VIP" [ "$(reach "$hp")" = n1 ]
	check "v$fam: client's neighbour entry is n1's MAC" [ "$(neigh_mac "$vip")" = "$mac1" ]
	# Move: n1 gives it up, n2 takes it; the client does nothing but connect.
	check "v$fam: vip del on n1" quiet net n1 vip del "$vip/$plen" dev eth0
	check "v$fam: vip add on n2" quiet net n2 vip add "$vip/$plen" dev eth0
	check "v$fam: client's neighbour entry switches to n2's MAC by itself" \
		lab_wait_for 3 neigh_is "$vip" "$mac2"
	check "v$fam: client's neighbour entry is n2's MAC" [ "$(neigh_mac "$vip")" = "$mac2" ]
	check "v$fam: a TCP connect to the VIP reaches n2" [ "$(reach "$hp")" = n2 ]
	check "v$fam: adding it again is success" quiet net n2 vip add "$vip/$plen" dev eth0
	check "v$fam: deleting an absent VIP is success" quiet net n1 vip del "$vip/$plen" dev eth0
	check "v$fam: vip list on n2 shows it owned" \
		quiet jq -e --arg a "$vip/$plen" 'map(select(.address == $a and .owned)) | length == 1' \
		<<<"$(net n2 vip list --json)"
	check "v$fam: vip del on n2" quiet net n2 vip del "$vip/$plen" dev eth0
done

# An interface's own address is not a VIP: refused, and left alone.
own=$(lab_addr n1 0 4)
net n1 vip add "$own/24" dev eth0 2>"$LAB_DIR/err"; rc=$?
check "vip add of n1's own address is refused (exit 1)" [ $rc = 1 ]
check "  ...with a message naming it" grep -q "own address" "$LAB_DIR/err"
net n1 vip del "$own/24" dev eth0 2>/dev/null; rc=$?
check "vip del of n1's own address is refused" [ $rc = 1 ]
check "  ...and the address is still there" has_addr n1 "$own/32"
net n1 vip add "$vip4/24" dev eth0 label nope 2>/dev/null; rc=$?
check "a label without the device prefix is fine for the kernel, but must be short" [ $rc = 0 ]
net n1 vip del "$vip4/24" dev eth0 >/dev/null
net n1 vip add "$vip4/24" dev eth0 label "this-label-is-too-long" 2>/dev/null; rc=$?
check "a label over 15 bytes is refused (exit 2)" [ $rc = 2 ]
net n1 vip add "$vip4/99" dev eth0 2>/dev/null; rc=$?
check "a bad prefix is refused (exit 2)" [ $rc = 2 ]
net n1 vip add "$vip4/24" dev nosuch0 2>/dev/null; rc=$?
check "an unknown device is refused (exit 1)" [ $rc = 1 ]

# Owned VIP removed behind hhad's back: noticed, reported, re-added and announced.
lab_ctl n1 events net.vip >"$LAB_DIR/n1-events" 2>/dev/null &
evpid=$!
sleep 0.3
check "vip add on n1 with a label" quiet net n1 vip add "$vip4/24" dev eth0 label eth0:ha
check "  ...it is there" has_addr n1 "$vip4/32" eth0:ha
lab_exec n1 ip addr del "$vip4/24" dev eth0
check "a VIP removed behind hhad's back comes back" \
	lab_wait_for 3 has_addr n1 "$vip4/32" eth0:ha
check "  ...reported as a net.vip event" lab_wait_for 2 grep -q readded "$LAB_DIR/n1-events"
kill "$evpid" 2>/dev/null; wait "$evpid" 2>/dev/null
check "vip del through hhad: gone for good" quiet net n1 vip del "$vip4/24" dev eth0
sleep 0.5
check "  ...and not re-added" absent has_addr n1 "$vip4/32"

# Without hhad: the same verbs through the library.
lab_hhad_stop n2
lab_exec c ip neigh flush dev eth0
check "no hhad: vip add on n2 works through the library" quiet net_direct n2 vip add "$vip4/24" dev eth0
check "no hhad: status exit 0" quiet net_direct n2 vip status "$vip4"
check "no hhad: vip list shows it" quiet jq -e 'length == 1' <<<"$(net_direct n2 vip list --json)"
check "no hhad: client reaches n2" [ "$(reach "$vip4:7001")" = n2 ]
check "no hhad: arp announces" quiet net_direct n2 arp "$vip4" dev eth0 --count 1
check "no hhad: vip del" quiet net_direct n2 vip del "$vip4/24" dev eth0
net_direct n2 vip status "$vip4" >/dev/null; check "no hhad: status exit 3 once removed" [ $? = 3 ]

finish
