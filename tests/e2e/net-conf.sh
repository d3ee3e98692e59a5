#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Membership configuration: nonsense timers and inconsistent clusters are
# refused with a clear message, and hhad refuses a key file that group or
# others can read. No lab needed.
set -u
HHA_BUILDDIR=${HHA_BUILDDIR:?HHA_BUILDDIR must be set}
hhad="$HHA_BUILDDIR/hhad"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

. "$(dirname "$0")/tap.sh"

# refused JSON EXPECTED-TEXT: --check-config fails and says EXPECTED-TEXT.
refused() {
	printf '%s\n' "$1" >"$tmp/c.conf"
	if "$hhad" --check-config "$tmp/c.conf" >/dev/null 2>"$tmp/err"; then
		not_ok "refused: $2 (it was accepted)"
	elif grep -qF "$2" "$tmp/err"; then
		ok "refused: $2"
	else
		not_ok "refused: $2 (message: $(cat "$tmp/err"))"
	fi
}
accepted() {
	printf '%s\n' "$1" >"$tmp/c.conf"
	if "$hhad" --check-config "$tmp/c.conf" >/dev/null 2>"$tmp/err"; then ok "accepted: $2"
	else not_ok "accepted: $2 ($(cat "$tmp/err"))"; fi
}

NODES='"nodes": { "a": { "id": 1, "heartbeat": ["127.0.0.1", "::1"] }, "b": { "id": 2, "heartbeat": ["127.0.0.2", "::2"] } }'
hb() { printf '{ "cluster": { "heartbeat": %s }, %s }' "$1" "$NODES"; }

accepted "$(hb '{}')" "defaults"
refused "$(hb '{"keepalive_ms": 500, "deadtime_ms": 1000}')" "deadtime_ms: 1000 must be more than twice keepalive_ms (500)"
refused "$(hb '{"warntime_ms": 1000}')" "warntime_ms: 1000 must be at least keepalive_ms"
refused "$(hb '{"warntime_ms": 100}')" "warntime_ms: 100 must be at least keepalive_ms (200)"
refused "$(hb '{"initdead_ms": 500}')" "initdead_ms: 500 must be at least deadtime_ms"
refused "$(hb '{"lease_ms": 500}')" "lease_ms: 500 must be 0 (automatic) or at least deadtime_ms"
refused "$(hb '{"keepalive_ms": 5}')" "keepalive_ms"
refused "$(hb '{"port": 70000}')" "heartbeat.port"
refused '{ "cluster": { "send_key": 3, "keys": [{"id": 1, "file": "/k1"}, {"id": 2, "file": "/k2"}] } }' \
	"cluster.send_key: no key with id 3"
refused '{ "cluster": { "keys": [{"id": 1, "file": "/k1"}, {"id": 1, "file": "/k2"}] } }' \
	"the two keys must have different ids"
refused '{ "cluster": { "keys": [{"id": 1, "file": "/k1"}, {"id": 2, "file": "/k2"}, {"id": 3, "file": "/k3"}] } }' "cluster.keys"
refused '{ "cluster": { "witness": "w" }, "nodes": { "a": { "id": 1, "heartbeat": ["127.0.0.1"] } } }' \
	'cluster.witness: no node named "w"'
refused '{ "cluster": { "witness": "a" }, "nodes": { "a": { "id": 1, "heartbeat": ["127.0.0.1"] } } }' \
	'cluster.witness: node "a" needs "witness": true'
refused '{ "nodes": { "w": { "id": 9, "heartbeat": ["127.0.0.9"], "witness": true } } }' \
	'nodes.w.witness: set cluster.witness to "w" too'
refused '{ "nodes": { "a": { "id": 1, "heartbeat": ["127.0.0.1"] }, "b": { "id": 2, "heartbeat": ["::2"] } } }' \
	"are not the same address family"
refused '{ "nodes": { "a": { "id": 1, "heartbeat": ["127.0.0.1"] }, "b": { "id": 2, "heartbeat": ["127.0.0.1"] } } }' \
	"127.0.0.1 is also node"
refused '{ "nodes": { "a": { "id": 1, "heartbeat": ["127.0.0.1"] }, "b": { "id": 1, "heartbeat": ["127.0.0.2"] } } }' \
	'1 is already the id of node'
refused '{ "nodes": { "a": { "id": 1, "heartbeat": [] } } }' "nodes.a.heartbeat"
refused '{ "nodes": { "a": { "id": 1, "heartbeat": ["127.0.0.300"] } } }' "nodes.a.heartbeat"
accepted '{ "cluster": { "witness": "w" }, "nodes": { "a": { "id": 1, "heartbeat": ["127.0.0.1", "127.0.1.1"] },
	"b": { "id": 2, "heartbeat": ["127.0.0.2", "127.0.1.2"] }, "w": { "id": 3, "heartbeat": ["127.0.0.3"], "witness": true } } }' \
	"a witness on fewer links"

# The key file: hhad refuses to start with one that group or others can read.
printf '0123456789abcdef0123456789abcdef\n' >"$tmp/key"
cat >"$tmp/h.conf" <<CONF
{ "cluster": { "key_file": "$tmp/key", "run_dir": "$tmp/run", "state_dir": "$tmp/state",
  "heartbeat": { "port": 1 } },
  "nodes": { "a": { "id": 1, "heartbeat": ["127.0.0.1"] }, "b": { "id": 2, "heartbeat": ["127.0.0.2"] } } }
CONF
for mode in 644 640 604 660; do
	chmod "$mode" "$tmp/key"
	if "$hhad" -f -c "$tmp/h.conf" -n a -s "$tmp/s.sock" 2>"$tmp/err" </dev/null; then
		not_ok "key file mode $mode refused (hhad started)"
	elif grep -q "has mode 0$mode.*chmod 600" "$tmp/err"; then
		ok "key file mode $mode refused with a clear message"
	else
		not_ok "key file mode $mode refused with a clear message ($(cat "$tmp/err"))"
	fi
done
chmod 600 "$tmp/key"
printf 'short\n' >"$tmp/key"
if "$hhad" -f -c "$tmp/h.conf" -n a -s "$tmp/s.sock" 2>"$tmp/err" </dev/null; then
	not_ok "a key shorter than 16 bytes is refused"
else
	grep -q "at least 16 are needed" "$tmp/err" && ok "a key shorter than 16 bytes is refused" ||
		not_ok "a key shorter than 16 bytes is refused ($(cat "$tmp/err"))"
fi
rm -f "$tmp/key"
if "$hhad" -f -c "$tmp/h.conf" -n a -s "$tmp/s.sock" 2>"$tmp/err" </dev/null; then
	not_ok "a missing key file is refused"
else
	grep -q "cannot open key file" "$tmp/err" && ok "a missing key file is refused" ||
		not_ok "a missing key file is refused ($(cat "$tmp/err"))"
fi

echo "1..$n"
echo "$((n - failed)) passed, $failed failed"
[ $failed = 0 ]
