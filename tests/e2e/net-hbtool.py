#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Raw heartbeat tool for the net lab tests: capture a node's heartbeats off
# the wire, send datagrams from a raw socket with another node's address,
# forge or re-sign captured ones. Commands:
#   capture OUT SECONDS IF=SRCIP...   heartbeats from SRCIP on IF, one hex per line
#   send SRCIP DSTIP HEX...            UDP 694 -> 694 from a raw socket
#   forge HEX                          newer incarnation, MAC with a wrong key
#   sign HEX KEYID KEYFILE             key id and MAC replaced (the key file's content)
import hashlib, hmac, select, socket, struct, sys, time
cmd = sys.argv[1]
if cmd == "capture":  # capture OUT SECONDS IF=SRCIP...
    out, secs, socks = sys.argv[2], float(sys.argv[3]), {}
    for spec in sys.argv[4:]:
        ifn, src = spec.split("=")
        s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
        s.bind((ifn, 0x0800))
        socks[s] = (ifn, socket.inet_aton(src))
    end = time.monotonic() + secs
    with open(out, "w") as f:
        while time.monotonic() < end:
            for s in select.select(list(socks), [], [], 0.05)[0]:
                pkt = s.recv(65535)
                ifn, src = socks[s]
                ihl = (pkt[0] & 15) * 4
                if pkt[9] != 17 or pkt[12:16] != src or struct.unpack("!H", pkt[ihl + 2:ihl + 4])[0] != 694:
                    continue
                f.write("%s %s\n" % (ifn, pkt[ihl + 8:].hex()))
elif cmd == "send":  # send SRCIP DSTIP HEX...: UDP 694 -> 694 from a raw socket
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
    s.bind((sys.argv[2], 0))
    for h in sys.argv[4:]:
        p = bytes.fromhex(h)
        s.sendto(struct.pack("!HHHH", 694, 694, 8 + len(p), 0) + p, (sys.argv[3], 0))
        time.sleep(0.01)
elif cmd == "sign":  # sign HEX KEYID KEYFILE: made with that key (one trailing newline dropped)
    p = bytearray(bytes.fromhex(sys.argv[2])[:-32])
    p[5] = int(sys.argv[3])
    key = open(sys.argv[4], "rb").read()
    key = key[:-1] if key.endswith(b"\n") else key
    print((bytes(p) + hmac.new(key, bytes(p), hashlib.sha256).digest()).hex())
elif cmd == "forge":  # forge HEX: same header, newer incarnation, MAC with a wrong key
    p = bytearray(bytes.fromhex(sys.argv[2])[:-32])
    p[16:24] = struct.pack("!Q", 2**62)
    print((bytes(p) + hmac.new(b"not-the-cluster-key-0123", bytes(p), hashlib.sha256).digest()).hex())
