#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of load-aware placement: each node measures itself from
# its own cgroup, `auto' picks the idle node when the other is busy, `-n 4
# auto' spreads the copies, --list and run.load show the loads.
set -u

if [ "${HHA_LAB_TESTS:-}" != yes ] || [ "$(id -u)" != 0 ]; then
	echo "SKIP: lab tests need root and HHA_LAB_TESTS=yes"
	exit 77
fi
HHA_SRCDIR=${HHA_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$HHA_SRCDIR/tests/lab/lab.sh"

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}
runon() { lab_tool n1 hha-runon "$@"; }
jqt() { jq -e "$@" >/dev/null 2>&1; }

lab_up 2 || { echo "FAIL: lab_up"; exit 1; }
# Same speed everywhere: the lab's nodes share one CPU, measuring adds only noise.
lab_config_merge '{"run": {"allow_root": true}, "load": {"speed": 1.0}}'
for h in n1 n2; do
	lab_hhad_start "$h" || { echo "FAIL: hhad does not start on $h"; exit 1; }
done

load=$(lab_ctl n1 call run.load '{}')
check "run.load lists both nodes, this one first and up" \
	jqt '(.nodes | length) == 2 and .nodes[0].name == "n1" and .nodes[0].self and .nodes[0].state == "up"' <<<"$load"
check "run.load has n2's vector, asked over the run service" \
	jqt '.nodes[1].name == "n2" and .nodes[1].state == "up" and .nodes[1].load.ncpus >= 1 and .nodes[1].load.mem_total > 0' <<<"$load"
out=$(runon --list)
check "--list shows both candidates" grep -q "^2 *n2 *up" <<<"$out"

# Idle: 4 copies go two and two.
out=$(runon -n 4 auto hostname)
echo "$out" | sed 's/^/# /'
both() { grep -q '^n1: n1$' <<<"$out" && grep -q '^n2: n2$' <<<"$out"; }
check "-n 4 auto on idle nodes puts copies on both" both
check "... four of them, each tagged with its node" [ "$(grep -cE '^(n1: n1|n2: n2)$' <<<"$out")" = 4 ]
runon -n 3 auto sh -c 'case $(hostname) in n1) exit 5 ;; *) exit 6 ;; esac' >/dev/null 2>&1
rc=$?
check "-n returns the highest exit status of the copies (6 if any ran on n2)" [ "$rc" = 6 ]

# Busy loops in n2's cgroup: n2 must look busy, and auto must avoid it.
for i in 1 2; do
	lab_bg n2 "$LAB_DIR/busy.log" sh -c 'while :; do :; done' >/dev/null
done
# (The machine is shared with other tests: the loops may get well under two CPUs.)
busy() { lab_ctl n1 call run.load '{}' | jqt '.nodes[1].load.cpu_use > 0.25 and .nodes[1].load.cpu_use > .nodes[0].load.cpu_use + 0.2'; }
check "n2's own cgroup shows its busy loops, n1's does not" lab_wait_for 10 busy
lab_ctl n1 call run.load '{}' | jq -c '.nodes[] | {name, load: {cpu_use: .load.cpu_use, loadavg: .load.loadavg}}' | sed 's/^/# /'
hits=0
for i in $(seq 10); do
	[ "$(runon auto hostname)" = n1 ] && hits=$((hits + 1))
done
check "auto picks the idle n1 while n2 is busy ($hits of 10)" [ "$hits" = 10 ]
runon --mem 100000000 auto true 2>/dev/null
check "--mem beyond every node's memory: no node (125)" [ $? = 125 ]

echo "1..$n"
[ "$failed" = 0 ] && echo "PASS: $n checks" || echo "FAIL: $failed of $n checks"
[ "$failed" = 0 ]
