#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A raw NBD client for disk-faults.sh: fixed-newstyle handshake with
# NBD_OPT_GO, then requests a well-behaved client library would refuse to
# send (out of range, misaligned, too large), each followed by a valid read
# on the same connection. Prints one line per request: "NAME error=N".
import socket
import struct
import sys

def recvall(s, n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("server closed the connection")
        b += c
    return b

def main():
    path, export = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX)
    s.connect(path)
    magic, ihaveopt, flags = struct.unpack(">QQH", recvall(s, 18))
    assert magic == 0x4E42444D41474943 and ihaveopt == 0x49484156454F5054
    s.sendall(struct.pack(">I", 3))  # C_FIXED_NEWSTYLE | C_NO_ZEROES
    name = export.encode()
    data = struct.pack(">I", len(name)) + name + struct.pack(">H", 0)
    s.sendall(struct.pack(">QII", 0x49484156454F5054, 7, len(data)) + data)  # NBD_OPT_GO
    size = None
    while True:
        _, opt, rtype, rlen = struct.unpack(">QIII", recvall(s, 20))
        payload = recvall(s, rlen)
        if rtype == 3 and struct.unpack(">H", payload[:2])[0] == 0:  # REP_INFO, INFO_EXPORT
            size = struct.unpack(">Q", payload[2:10])[0]
        elif rtype == 1:  # ACK
            break
        elif rtype & 0x80000000:
            print("go refused", rtype)
            return 1
    cookie = 0

    def request(name, cmd, off, length, payload=b""):
        nonlocal cookie
        cookie += 1
        s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, cmd, cookie, off, length) + payload)
        magic, err, ck = struct.unpack(">IIQ", recvall(s, 16))
        assert magic == 0x67446698 and ck == cookie, "bad reply"
        if err == 0 and cmd == 0:
            recvall(s, length)
        print(name, "error=%d" % err, flush=True)

    request("read-past-end", 0, size, 4096)
    request("valid-read", 0, 0, 4096)
    request("read-straddling-end", 0, size - 512, 4096)
    request("valid-read", 0, 0, 4096)
    request("write-past-end", 1, size, 512, b"\0" * 512)
    request("valid-read", 0, 0, 4096)
    request("read-misaligned", 0, 1, 100)
    request("valid-read", 0, 0, 4096)
    request("trim-past-end", 4, size - 4096, 1 << 20)
    request("valid-read", 0, 0, 4096)
    s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 2, 0, 0, 0))  # DISC
    return 0

sys.exit(main())
