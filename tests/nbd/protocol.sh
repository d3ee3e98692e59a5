#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# NBD server robustness: a raw client sends broken and edge-case messages
# (bad flags, unknown and huge options, bad magic, out-of-range, misaligned,
# oversized, unknown commands and flags, writes on a read-only export, DISC
# with requests in flight, a client that never reads its replies) over a
# Unix socket and TCP; after each non-fatal error the next request works, and
# the server stays up, leak-free, and exits cleanly.
. "$(dirname "$0")/lib.sh"

truncate -s 64M "$tmp/disk"
# Completions delayed and reordered so replies go out of order.
start_server rw --max-payload 256K --description "protocol test disk" --reorder --delay-us 300 \
	"$tmp/disk"
start_server ro --read-only "$tmp/disk"
fds_before=$(ls /proc/"$rw_pid"/fd | wc -l)

for group in handshake transmission slow; do
	say "raw client, $group, Unix socket"
	"$nbd_raw" --unix "$rw_sock" "$group"
done
say "raw client, transmission, TCP"
"$nbd_raw" --tcp "127.0.0.1:$rw_port" transmission
say "raw client, read-only export"
"$nbd_raw" --unix "$ro_sock" readonly

# Malformed framing is one log line per connection, not a crash.
grep -q "bad request magic" "$tmp/rw.log" || fail "no log line for a bad request magic"
grep -q "unknown client flags" "$tmp/rw.log" || fail "no log line for bad client flags"
[ "$(grep -c "bad option magic" "$tmp/rw.log")" = 1 ] || fail "expected one log line per bad connection"

say "garbage on the socket"
head -c 100000 /dev/urandom > "$tmp/garbage"
for i in 1 2 3; do
	python3 - "$rw_sock" "$tmp/garbage" "$i" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(10)
s.recv(18)                          # greeting
data = open(sys.argv[2], 'rb').read()
n = int(sys.argv[3])
if n == 2:                          # valid flags, then garbage options
    data = b'\0\0\0\3' + data
if n == 3:                          # a valid GO, then garbage requests
    name = b'hha'
    go = (0x49484156454F5054).to_bytes(8, 'big') + (7).to_bytes(4, 'big') + \
         (4 + len(name) + 2).to_bytes(4, 'big') + len(name).to_bytes(4, 'big') + name + b'\0\0'
    data = b'\0\0\0\3' + go + data
try:
    s.sendall(data)
    while s.recv(65536):
        pass
except (ConnectionResetError, BrokenPipeError):
    pass
PY
done
"$nbd_raw" --unix "$rw_sock" handshake >/dev/null || fail "server unusable after garbage"

# Every connection is gone and took its descriptors with it.
for _ in $(seq 100); do
	fds_after=$(ls /proc/"$rw_pid"/fd | wc -l)
	[ "$fds_after" = "$fds_before" ] && break
	sleep 0.05
done
[ "$fds_after" = "$fds_before" ] || fail "descriptors leaked: $fds_before before, $fds_after after"

stop_server rw
stop_server ro
grep -q "protocol errors" "$tmp/rw.log"
echo "PASS"
