#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of hhad's core: two daemons in a lab answer status over
# their control sockets, survive malformed requests and floods, reload (bad
# configs refused), authorise by credentials, and stop cleanly.
set -u

if [ "${HHA_LAB_TESTS:-}" != yes ] || [ "$(id -u)" != 0 ]; then
	echo "SKIP: lab tests need root and HHA_LAB_TESTS=yes"
	exit 77
fi
HHA_SRCDIR=${HHA_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$HHA_SRCDIR/tests/lab/lab.sh"
. "$HHA_SRCDIR/tests/e2e/tap.sh"
need python3 setpriv
[ -x "${HHA_BUILDDIR:-}/hhad" ] || { echo "FAIL: no hhad in HHA_BUILDDIR=${HHA_BUILDDIR:-}"; exit 1; }


lab_up 2 || { echo "FAIL: lab_up"; exit 1; }
lab_hhad_start n1 || { echo "FAIL: hhad does not start on n1"; exit 1; }
lab_hhad_start n2 || { echo "FAIL: hhad does not start on n2"; exit 1; }
sock1="$LAB_DIR/n1/run/hhad.sock"

# -- status of both daemons ------------------------------------------------
for h in n1 n2; do
	st=$(lab_ctl "$h" status --json)
	check "$h: status over the control socket names the node" \
		[ "$(jq -r .node <<<"$st")" = "$h" ]
	check "$h: status gives the node id" [ "$(jq -r .node_id <<<"$st")" = "${h#n}" ]
	check "$h: status gives hhad's pid" [ "$(jq -r .pid <<<"$st")" = "$(lab_hhad_pid "$h")" ]
done
hello=$(lab_ctl n2 call hello '{}' --json)
check "hello names the node and the caller (root, admin)" \
	quiet jq -e '.node == "n2" and .you.uid == 0 and .you.admin == true' <<<"$hello" >/dev/null
hello=$(lab_exec n2 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	"$HHA_BUILDDIR/hha-ctl" --socket "$LAB_DIR/n2/run/hhad.sock" call hello '{}' --json)
check "hello knows a non-root caller by its credentials" \
	quiet jq -e '.you.uid == 65534 and .you.admin == false' <<<"$hello" >/dev/null

# -- malformed requests, one connection ------------------------------------
# Each bad line is followed by a good one on the same connection: the error
# comes back as JSON and the connection stays usable.
raw() { lab_exec n1 python3 "$HHA_SRCDIR/tests/lab/ctl-raw.py" "$sock1" "$@"; }
good='line:{"v": 1, "id": 100, "cmd": "hello"}'
is_good() { jq -e '.ok == true and .id == 100 and .result.node == "n1"' <<<"$1" >/dev/null 2>&1; }
is_err() { # REPLY ERRNAME ID
	jq -e --arg n "$2" --argjson id "$3" \
		'.ok == false and .error.name == $n and .id == $id and (.error.message | length) > 0' \
		<<<"$1" >/dev/null 2>&1
}
bad_case() { # WHAT ERRNAME ID STEP
	local out first second
	out=$(raw "$4" recv "$good" recv)
	first=$(sed -n 1p <<<"$out") second=$(sed -n 2p <<<"$out")
	check "$1: JSON error $2" is_err "$first" "$2" "$3"
	check "$1: the connection stays usable" is_good "$second"
	[ -n "$first" ] && [ -n "$second" ] || echo "# got: $out"
}
bad_case "not JSON" EINVAL null 'line:this is not json'
bad_case "a JSON array" EINVAL null 'line:[1, 2, 3]'
bad_case "no version" EINVAL 1 'line:{"id": 1, "cmd": "status"}'
bad_case "a version of the wrong type" EINVAL 2 'line:{"v": "1", "id": 2, "cmd": "status"}'
bad_case "a wrong version" HHA_EVERSION 3 'line:{"v": 99, "id": 3, "cmd": "status"}'
bad_case "no command" EINVAL 4 'line:{"v": 1, "id": 4}'
bad_case "an unknown command" EOPNOTSUPP 5 'line:{"v": 1, "id": 5, "cmd": "no.such.verb"}'
bad_case "args not an object" EINVAL 6 'line:{"v": 1, "id": 6, "cmd": "status", "args": [1]}'
bad_case "a 100 KB line" E2BIG null 'big:102400'
bad_case "binary garbage" EINVAL null 'garbage:4000'
out=$(raw 'line:{"v": 99, "id": 7, "cmd": "status"}' recv)
check "a wrong version: the error names both versions" \
	quiet jq -e '.error.message | test("99") and test("speaks 1")' <<<"$out"
out=$(raw 'line:{"v": 1, "id": 8, "cmd": "no.such.verb"}' recv)
check "an unknown command is quoted in the error" \
	quiet jq -e '.error.message | test("no.such.verb")' <<<"$out"
out=$(raw "$good" "$good" "$good" recv recv recv)
check "three requests in a row get three replies" [ "$(grep -c '"ok":true' <<<"$out")" = 3 ]
raw 'raw:{"v": 1, "id": 9, "cmd": "sta' close
check "a half line then close: hhad answers the next request" quiet lab_ctl n1 status
out=$(raw "$good" shut recv recv)
check "a half-closed client still gets its reply" is_good "$(sed -n 1p <<<"$out")"
check "and then EOF" [ "$(sed -n 2p <<<"$out")" = EOF ]
raw close
check "a client that says nothing: hhad answers the next request" quiet lab_ctl n1 status
out=$(raw 'raw:{"v": 1, "id": 9, "cmd": "sta' shut recv)
check "a half line then half-close: a JSON error for it" is_err "$out" EINVAL null
out=$(raw 'raw:{"v": 1, "id": 100, "cmd": "hello"}' shut recv)
check "a last request without a newline, then half-close: answered" is_good "$out"

# -- 300 connections at once ----------------------------------------------
flood=$(lab_exec n1 python3 "$HHA_SRCDIR/tests/lab/ctl-raw.py" "$sock1" flood 300)
echo "# flood of 300 connections: $flood"
check "300 connections: 256 are served" [ "$(jq .ok <<<"$flood")" = 256 ]
check "300 connections: the rest are refused at once, none left hanging" \
	[ "$(jq -c '[.refused, .silent]' <<<"$flood")" = "[44,0]" ]
check "300 connections: hhad logs the refusals" grep -q 'too many control clients' "$LAB_DIR/n1/hhad.log"
check "after the flood hhad answers" quiet lab_ctl n1 status
check "after all that, n1's hhad still runs" _lab_alive "$(lab_hhad_pid n1)"

# -- reload ---------------------------------------------------------------
cfg=$(lab_config n1)
cp "$cfg" "$LAB_DIR/good.conf"
jq '.cluster.heartbeat.keepalive_ms = "fast"' "$LAB_DIR/good.conf" >"$cfg"
kill -HUP "$(lab_hhad_pid n1)"
check "SIGHUP with a bad config: refusal logged" lab_wait_for 3 \
	grep -q 'reload refused, keeping the running configuration.*keepalive_ms' "$LAB_DIR/n1/hhad.log"
check "SIGHUP with a bad config: status still served" quiet lab_ctl n1 status
check "SIGHUP with a bad config: the running config is kept" \
	[ "$(lab_ctl n1 config --json | jq .cluster.heartbeat.keepalive_ms)" = 200 ]
lab_ctl n1 reload >/dev/null 2>&1
check "hha-ctl reload with a bad config fails (exit 1)" [ $? = 1 ]
jq '.cluster.heartbeat.keepalive_ms = 150' "$LAB_DIR/good.conf" >"$cfg"
kill -HUP "$(lab_hhad_pid n1)"
check "SIGHUP with a good config: applied" lab_wait_for 3 \
	grep -q 'configuration reloaded' "$LAB_DIR/n1/hhad.log"
check "SIGHUP with a good config: the new value is served" \
	[ "$(lab_ctl n1 config --json | jq .cluster.heartbeat.keepalive_ms)" = 150 ]
jq '.cluster.heartbeat.keepalive_ms = 120' "$LAB_DIR/good.conf" >"$cfg"
check "hha-ctl reload with a good config succeeds" quiet lab_ctl n1 reload
check "hha-ctl reload: the new value is served" \
	[ "$(lab_ctl n1 config --json | jq .cluster.heartbeat.keepalive_ms)" = 120 ]

# -- authorisation by credentials -----------------------------------------
as_nobody() { lab_exec n1 setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
check "a non-root user may read status" quiet as_nobody "$HHA_BUILDDIR/hha-ctl" --socket "$sock1" status
as_nobody "$HHA_BUILDDIR/hha-ctl" --socket "$sock1" reload >/dev/null 2>&1
check "a non-root user gets exit code 5 for reload" [ $? = 5 ]
check "and hhad still answers root" quiet lab_ctl n1 status

# -- check-config ---------------------------------------------------------
jq '.resources = {"r0": {"protocol": "D", "on": {}}}' "$LAB_DIR/good.conf" >"$LAB_DIR/bad.conf"
out=$("$HHA_BUILDDIR/hhad" --check-config "$LAB_DIR/bad.conf" 2>&1)
rc=$?
check "check-config on a bad file exits 1" [ $rc = 1 ]
check "check-config names the file, the key path and the problem" \
	grep -q "^$LAB_DIR/bad.conf: resources.r0.protocol: .*\"D\"" <<<"$out"
echo "# $(head -n 1 <<<"$out")"
check "check-config on a good file exits 0" quiet "$HHA_BUILDDIR/hhad" --check-config "$cfg"

# -- clean stop ------------------------------------------------------------
lab_hhad_stop n1
rc=$?
check "SIGTERM: hhad exits with 0" [ $rc = 0 ]
check "SIGTERM: the control socket is removed" [ ! -e "$sock1" ]
check "SIGTERM: the pid file is removed" [ ! -e "$LAB_DIR/n1/run/hhad.pid" ]
check "SIGTERM: the log says it stopped" grep -q 'stopped' "$LAB_DIR/n1/hhad.log"
check "n2 is unaffected" quiet lab_ctl n2 status
lab_ctl n1 status >/dev/null 2>&1
check "hha-ctl says hhad is unreachable (exit 4)" [ $? = 4 ]
lab_hhad_kill n2
check "after SIGKILL, hhad starts again over the stale socket" lab_hhad_start n2

echo "$((n - failed)) passed, $failed failed"
[ $failed = 0 ]
