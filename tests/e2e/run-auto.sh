#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of load-aware placement: each node measures itself from
# its own cgroup, `auto' picks the idle node when the other is busy, `-n 4
# auto' spreads the copies, --list and run.load show the loads.
set -u
. "$(dirname "$0")/run-lib.sh"

run_lab_up '{"load": {"speed": 1.0}}'

load=$(lab_ctl n1 call run.load '{}')
check "run.load lists both nodes, this one first and up" \
	jqt '(.nodes | length) == 2 and .nodes[0].name == "n1" and .nodes[0].self and .nodes[0].state == "up"' <<<"$load"
check "run.load has n2's vector, asked over the run service" \
	jqt '.nodes[1].name == "n2" and .nodes[1].state == "up" and .nodes[1].load.ncpus >= 1 and .nodes[1].load.mem_total > 0' <<<"$load"
out=$(runon --list)
check "--list shows both candidates" grep -q "^2 *n2 *up" <<<"$out"

# The vectors travel in the heartbeats: with the run service's port cut
# between the nodes, n1 still sees n2 up with a vector a few heartbeats old.
lab_cut n1 n2 --proto tcp --port 7790
sleep 1.5
check "with the run port cut, n2's vector still arrives (in heartbeats)" \
	jqt '.nodes[1].state == "up" and .nodes[1].age_ms < 1000 and .nodes[1].load.ncpus >= 1' \
	<<<"$(lab_ctl n1 call run.load '{}')"
lab_heal n1 n2

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
for i in 1 2 3; do
	lab_bg n2 "$LAB_DIR/busy.log" sh -c 'while :; do :; done' >/dev/null
done
# The machine is shared with other tests, so the loops may get well under
# their CPUs: wait until n2's placement score (load per CPU, the figure auto
# ranks by) is clearly beyond auto's random margin of 0.1 above n1's.
busy() {
	lab_ctl n1 call run.load '{}' | jqt '
		def score: ([.load.loadavg[0], .load.cpu_use * .load.ncpus] | max) / (.load.ncpus * .load.speed);
		(.nodes[1] | score) > (.nodes[0] | score) + 0.3'
}
check "n2's own cgroup shows its busy loops, n1's does not" lab_wait_for 30 busy
lab_ctl n1 call run.load '{}' | jq -c '.nodes[] | {name, load: {cpu_use: .load.cpu_use, loadavg: .load.loadavg}}' | sed 's/^/# /'
hits=0
for i in $(seq 10); do
	[ "$(runon auto hostname)" = n1 ] && hits=$((hits + 1))
done
check "auto picks the idle n1 while n2 is busy ($hits of 10)" [ "$hits" = 10 ]
runon --mem 100000000 auto true 2>/dev/null
check "--mem beyond every node's memory: no node (125)" [ $? = 125 ]

run_finish
