#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# End-to-end test of the run service's defences: it listens only on the
# cluster's addresses; forged, replayed, garbled and misdirected requests are
# refused and logged; the service keeps working afterwards.
set -u
. "$(dirname "$0")/run-lib.sh"

run_lab_up
a1=$(lab_addr n1) a2=$(lab_addr n2)

# A raw client: send bytes (base64 or "random:N"), print the hello's status byte
# ("closed" if the service hung up without one).
cat >"$LAB_DIR/raw.py" <<'PY'
import base64, os, socket, sys
addr, port, what = sys.argv[1], int(sys.argv[2]), sys.argv[3]
if what.startswith("random:"):
    data = os.urandom(int(what[7:]))
elif what.startswith("flip:"):
    pos, b64 = what[5:].split(":", 1)
    data = bytearray(base64.b64decode(b64)); data[int(pos)] ^= 0x20; data = bytes(data)
else:
    data = base64.b64decode(what)
s = socket.create_connection((addr, port), timeout=5)
s.sendall(data)
got = b""
try:
    while len(got) < 24:
        chunk = s.recv(24 - len(got))
        if not chunk:
            break
        got += chunk
except socket.timeout:
    pass
print(got[5] if len(got) == 24 and got[:4] == b"HHAS" else "closed")
PY
raw() { lab_exec n1 python3 "$LAB_DIR/raw.py" "$@"; }
ticket() { lab_ctl n1 call run.ticket "{\"node\": \"$1\", \"argv\": [\"sleep\", \"0.2\"], \"env\": []}" | jq -r .request; }

# -- where it listens ----------------------------------------------------------
ls2=$(lab_exec n2 ss -ltnH "sport = :7790" | awk '{print $4}')
echo "# n2 listens on: $ls2"
check "the run service listens on n2's cluster address" grep -qx "$a2:7790" <<<"$ls2"
check "... and nowhere else (no wildcard)" [ "$(wc -l <<<"$ls2")" = 1 ]

# -- requests ----------------------------------------------------------------
req=$(ticket 2)
check "a genuine request is accepted (status 0)" [ "$(raw "$a2" 7790 "$req")" = 0 ]
check "the same request again is refused as a replay (4)" [ "$(raw "$a2" 7790 "$req")" = 4 ]
req=$(ticket 2)
check "a request with one byte of its body changed fails authentication (2)" \
	[ "$(raw "$a2" 7790 "flip:60:$req")" = 2 ]
check "a request with its time changed fails authentication (2)" \
	[ "$(raw "$a2" 7790 "flip:14:$req")" = 2 ]
check "... and the unaltered one still works: forgeries burn no nonce" [ "$(raw "$a2" 7790 "$req")" = 0 ]
req=$(ticket 2)
check "a request for n2 sent to n1 is refused (5)" [ "$(raw "$a1" 7790 "$req")" = 5 ]
check "garbage is refused as malformed (7)" [ "$(raw "$a2" 7790 "random:64")" = 7 ]
check "a lone byte is dropped once the service stops waiting" \
	[ "$(raw "$a2" 7790 "$(printf H | base64)")" = closed ]
check "another protocol version is refused (1)" \
	[ "$(raw "$a2" 7790 "$(printf 'HHAR\011%035d' 0 | base64 -w0)")" = 1 ]

st=$(lab_ctl n2 status --json)
refused() { jq -e '.modules.run.refused >= 6' <<<"$st" >/dev/null; }
check "n2 counts the refusals" refused
check "n2 logs them" grep -q "refused a request from $a1: replayed" "$LAB_DIR/n2/hhad.log"
check "the service still runs commands afterwards" \
	[ "$(lab_tool n1 hha-runon 2 hostname)" = n2 ]

run_finish
