#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A raw client for hhad's control socket, for tests that must send what no
# well-behaved client sends (broken JSON, huge lines, garbage, floods).
"""Usage:
  ctl-raw.py SOCKET STEP...    run steps on one connection, in order
  ctl-raw.py SOCKET flood N    open N connections at once, send hello on each

Steps (each prints nothing unless it reads):
  line:TEXT      send TEXT and a newline
  raw:TEXT       send TEXT without a newline
  big:N          send a line of N bytes ('x' * (N-1) and a newline)
  garbage:N      send N random bytes other than newline, then a newline
  recv           read one reply line and print it; prints EOF when the
                 daemon closed the connection, TIMEOUT after 5 s
  shut           shut down the sending side (half close)
  close          close the connection
flood prints one JSON object: {"ok": replies with ok true, "refused":
connections closed without a reply, "silent": neither within 5 s}.
Exit status: 0, or 2 for a usage error or a connection that fails.
"""
import json
import os
import select
import socket
import sys
import time

TIMEOUT = 5.0


class Conn:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = b""

    def recv_line(self):
        end = time.monotonic() + TIMEOUT
        while b"\n" not in self.buf:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.sock], [], [], left)[0]:
                return "TIMEOUT"
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return "EOF"
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("utf-8", "replace")


def run_steps(path, steps):
    c = Conn(path)
    for step in steps:
        kind, _, arg = step.partition(":")
        if kind == "line":
            c.sock.sendall(arg.encode() + b"\n")
        elif kind == "raw":
            c.sock.sendall(arg.encode())
        elif kind == "big":
            c.sock.sendall(b"x" * (int(arg) - 1) + b"\n")
        elif kind == "garbage":
            data = bytes(b for b in os.urandom(int(arg) * 2) if b != 10)[: int(arg)]
            c.sock.sendall(data + b"\n")
        elif kind == "recv":
            print(c.recv_line(), flush=True)
        elif kind == "shut":
            c.sock.shutdown(socket.SHUT_WR)
        elif kind == "close":
            c.sock.close()
            return 0
        else:
            print(f"ctl-raw: unknown step `{step}'", file=sys.stderr)
            return 2
    c.sock.close()
    return 0


def flood(path, n):
    conns = []
    for _ in range(n):
        conns.append(Conn(path))
    for i, c in enumerate(conns):
        try:
            c.sock.sendall(json.dumps({"v": 1, "id": i, "cmd": "hello"}).encode() + b"\n")
        except OSError:
            pass
    res = {"ok": 0, "refused": 0, "silent": 0}
    for c in conns:
        line = c.recv_line()
        if line == "EOF":
            res["refused"] += 1
        elif line == "TIMEOUT":
            res["silent"] += 1
        elif json.loads(line).get("ok") is True:
            res["ok"] += 1
    for c in conns:
        c.sock.close()
    print(json.dumps(res))
    return 0


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        if argv[2] == "flood" and len(argv) == 4:
            return flood(argv[1], int(argv[3]))
        return run_steps(argv[1], argv[2:])
    except (OSError, ValueError) as e:
        print(f"ctl-raw: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
