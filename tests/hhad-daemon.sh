#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# hhad as a daemon, without namespaces: it detaches and reports startup
# failures through its exit status, keeps a pid file, refuses a second
# instance, reloads on SIGHUP only a valid file, and removes its socket and
# pid file on SIGTERM.
set -eu
tmp=$(mktemp -d)
pid=""
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
hhad="$HHA_BUILDDIR/hhad"
ctl="$HHA_BUILDDIR/hha-ctl"
conf="$tmp/hybridha.conf"
cat > "$conf" <<CONF
{ "cluster": { "run_dir": "$tmp/run", "state_dir": "$tmp/state" },
  "nodes": { "solo": { "id": 1, "heartbeat": ["127.0.0.1"] } } }
CONF

# A start that cannot work fails with status 1 in the parent, not silently.
if "$hhad" -c "$conf" -n nosuchnode 2>"$tmp/err"; then fail "started for an unknown node"; fi
grep -q "not in" "$tmp/err" || fail "no reason given: $(cat "$tmp/err")"

"$hhad" -c "$conf" -n solo || fail "daemon start"
[ -S "$tmp/run/hhad.sock" ] || fail "no socket after the parent returned"
pid=$(cat "$tmp/run/hhad.pid")
kill -0 "$pid" || fail "pid file names no live process"
"$ctl" --socket "$tmp/run/hhad.sock" status | grep -q "node solo" || fail "status"

# A second instance is refused with a clear reason.
if "$hhad" -c "$conf" -n solo -s "$tmp/other.sock" 2>"$tmp/err"; then fail "second instance started"; fi
grep -q "another hhad runs" "$tmp/err" || fail "second instance: $(cat "$tmp/err")"

# A bad configuration on reload is refused; the daemon keeps serving.
cp "$conf" "$conf.good"
echo '{ "cluster": { "heartbeat": { "keepalive_ms": "fast" } } }' > "$conf"
kill -HUP "$pid"
sleep 0.3
"$ctl" --socket "$tmp/run/hhad.sock" status >/dev/null || fail "not serving after a bad reload"
if "$ctl" --socket "$tmp/run/hhad.sock" reload 2>"$tmp/err"; then fail "bad reload accepted"; fi
grep -q "keepalive_ms" "$tmp/err" || fail "bad reload reason: $(cat "$tmp/err")"
"$ctl" --socket "$tmp/run/hhad.sock" config | grep -q '"keepalive_ms": 200' || fail "running config changed"
cp "$conf.good" "$conf"
"$ctl" --socket "$tmp/run/hhad.sock" reload || fail "good reload refused"

kill -TERM "$pid"
for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$pid" 2>/dev/null && fail "still running after SIGTERM"
pid=""
[ -e "$tmp/run/hhad.sock" ] && fail "socket left behind"
[ -e "$tmp/run/hhad.pid" ] && fail "pid file left behind"
echo "PASS: daemon mode, pid file, single instance, reload, clean stop"
