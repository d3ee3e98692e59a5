#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of the cluster-wide VIP view: every node tells its peers
# in its heartbeats which VIPs it holds, so `hha-net vip list --cluster` and
# hha-mon on any node show who holds what; an address held by two nodes is
# a conflict (exit 1); a dead node's addresses leave the view, and come back
# when its hhad restarts (the kernel still holds them).
set -u

. "$(dirname "$0")/net-common.sh"
net() { local h=$1; shift; lab_tool "$h" hha-net "$@"; }
cluster() { net "$1" vip list --cluster --json 2>/dev/null; }
# holder_is NODE ADDR HOLDER...: NODE's view lists exactly these holders of ADDR
holder_is() {
	local node=$1 addr=$2
	shift 2
	[ "$(cluster "$node" | jq -r --arg a "$addr" '[.[] | select(.address == $a) | .holder] | sort | join(" ")')" = "$*" ]
}
peer_is() { [ "$(net n1 members --json | jq -r '.peers[] | select(.node == "n2") | .state')" = "$1" ]; }

lab_up 2 || { echo "FAIL: lab_up"; exit 1; }
lab_config_merge '{"cluster": {"heartbeat": {"keepalive_ms": 100, "warntime_ms": 300, "deadtime_ms": 600}}}'
lab_hhad_start n1 && lab_hhad_start n2 || { echo "FAIL: hhad does not start"; exit 1; }
p4=$(lab_prefix 0 4)
a="${p4%.*}.71/24" b="${p4%.*}.72/24"
check "n1 sees n2 up" lab_wait_for 5 peer_is up

check "n1 adds $a" quiet net n1 vip add "$a" dev eth0
check "n2 adds $b" quiet net n2 vip add "$b" dev eth0
check "n1's view: $a held by n1" lab_wait_for 3 holder_is n1 "$a" n1
check "n1's view: $b held by n2 (from n2's heartbeats)" lab_wait_for 3 holder_is n1 "$b" n2
check "n2's view: $a held by n1" lab_wait_for 3 holder_is n2 "$a" n1
check "n2's view: $b held by n2" holder_is n2 "$b" n2
check "no conflict: exit 0" quiet net n1 vip list --cluster
out=$(net n1 vip list --cluster)
check "for people: the holder beside each address" grep -Eq "^${b%/*}/24 +eth0 +n2" <<<"$out"
out=$(lab_tool n1 hha-mon --once 2>&1)
check "hha-mon on n1 shows $b held by n2" grep -Eq "${b%/*}/24 +eth0 +held by n2" <<<"$out"

check "n2 adds $a too" quiet net n2 vip add "$a" dev eth0
check "n1's view: $a held by n1 and n2" lab_wait_for 3 holder_is n1 "$a" n1 n2
net n1 vip list --cluster >"$LAB_DIR/conflict.out"
check "a conflict: exit 1" [ $? = 1 ]
check "... saying CONFLICT on both rows" [ "$(grep -c CONFLICT "$LAB_DIR/conflict.out")" = 2 ]
check "... and in JSON" quiet jq -e --arg a "$a" '[.[] | select(.address == $a and .conflict)] | length == 2' \
	<<<"$(cluster n1)"
check "hha-mon marks it" grep -q "CONFLICT" <<<"$(lab_tool n1 hha-mon --once 2>&1)"
check "n2 gives $a up" quiet net n2 vip del "$a" dev eth0
check "the conflict is gone" lab_wait_for 3 holder_is n1 "$a" n1
check "exit 0 again" quiet net n1 vip list --cluster

lab_hhad_kill n2
check "n2's hhad killed: n1 declares n2 dead" lab_wait_for 3 peer_is dead
check "n1's view no longer lists $b (a dead node's claim is not current)" holder_is n1 "$b" ""
check "n2's kernel still holds $b" [ -n "$(lab_exec n2 ip -o addr show dev eth0 to "${b%/*}/32")" ]
lab_hhad_start n2
check "n2's hhad back: $b held by n2 again" lab_wait_for 5 holder_is n1 "$b" n2

net n1 vip del "$a" dev eth0 >/dev/null
net n2 vip del "$b" dev eth0 >/dev/null
finish
