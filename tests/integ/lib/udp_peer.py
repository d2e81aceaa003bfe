#!/usr/bin/python3
"""udp_peer.py - the kernel's side of the UDP echo test (udp_echo.sh).

  udp_peer.py server --bind A.B.C.D:PORT
      echo every datagram to its sender on a kernel UDP socket until
      SIGTERM or SIGINT; print "udp_peer: server up on A.B.C.D:PORT" once
      bound, and the counts at the end.

  udp_peer.py client --to A.B.C.D:PORT --count N --min-size A --max-size B
                     --seed S [--timeout-ms T] [--retries R] [--max-lost K]
      send N datagrams of random sizes A..B (random bytes from the seed) one
      at a time, wait for each echo (resending up to R times), compare every
      byte, and print "udp_peer: sent N, echoed N, mismatched M, lost K".
      Exit 1 when M > 0 or K exceeds --max-lost.

Standard library only, so any /usr/bin/python3 runs it.
"""
import argparse
import random
import signal
import socket
import sys
import time

RECV_LEN = 65536
SOCK_BUF = 4 << 20


def host_port(s):
    host, sep, port = s.rpartition(":")
    if not sep:
        raise argparse.ArgumentTypeError(f"'{s}': expected A.B.C.D:PORT")
    try:
        socket.inet_aton(host)
        p = int(port)
    except (OSError, ValueError):
        raise argparse.ArgumentTypeError(f"'{s}': expected A.B.C.D:PORT")
    if not 0 < p < 65536:
        raise argparse.ArgumentTypeError(f"'{s}': port must be 1..65535")
    return host, p


def udp_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for opt in (socket.SO_RCVBUF, socket.SO_SNDBUF):
        s.setsockopt(socket.SOL_SOCKET, opt, SOCK_BUF)
    return s


def serve(args):
    s = udp_socket()
    s.bind(args.bind)
    stats = {"datagrams": 0, "bytes": 0, "echoed": 0}
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))
    # A short timeout, so that a signal is noticed between datagrams.
    s.settimeout(0.2)
    print(f"udp_peer: server up on {args.bind[0]}:{args.bind[1]}", flush=True)
    while not stop:
        try:
            data, peer = s.recvfrom(RECV_LEN)
        except (socket.timeout, InterruptedError):
            continue
        stats["datagrams"] += 1
        stats["bytes"] += len(data)
        if s.sendto(data, peer) == len(data):
            stats["echoed"] += 1
    print("udp_peer: server: received {datagrams} datagrams ({bytes} bytes),"
          " echoed {echoed}".format(**stats), flush=True)
    return 0


class Client:
    def __init__(self, args):
        self.args = args
        self.sock = udp_socket()
        self.late = {}          # datagrams that timed out: index -> bytes
        self.n = {"sent": 0, "echoed": 0, "mismatched": 0, "lost": 0,
                  "resent": 0, "late": 0, "stray": 0}

    def await_echo(self, i, payload):
        """'ok', 'timeout' or 'mismatch' for datagram i."""
        deadline = time.monotonic() + self.args.timeout_ms / 1000
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout"
            self.sock.settimeout(left)
            try:
                data, peer = self.sock.recvfrom(RECV_LEN)
            except socket.timeout:
                return "timeout"
            if peer != self.args.to:
                self.n["stray"] += 1
                continue
            if data == payload:
                return "ok"
            if data in self.late.values():
                self.n["late"] += 1
                continue
            k = next((k for k, (a, b) in enumerate(zip(data, payload))
                      if a != b), min(len(data), len(payload)))
            print(f"udp_peer: datagram {i}: sent {len(payload)} bytes, echo "
                  f"has {len(data)}, first difference at byte {k}",
                  file=sys.stderr)
            return "mismatch"

    def exchange(self, i, payload):
        for attempt in range(self.args.retries + 1):
            if attempt:
                self.n["resent"] += 1
                self.late[i] = payload
            self.sock.sendto(payload, self.args.to)
            r = self.await_echo(i, payload)
            if r == "ok":
                self.n["echoed"] += 1
                return
            if r == "mismatch":
                self.n["mismatched"] += 1
                self.late[i] = payload
                return
        self.n["lost"] += 1
        self.late[i] = payload
        print(f"udp_peer: datagram {i} ({len(payload)} bytes): no echo after "
              f"{self.args.retries + 1} tries", file=sys.stderr)

    def run(self):
        a = self.args
        rnd = random.Random(a.seed)
        for i in range(a.count):
            size = rnd.randint(a.min_size, a.max_size)
            self.n["sent"] += 1
            self.exchange(i, rnd.randbytes(size))
        print("udp_peer: sent {sent}, echoed {echoed}, mismatched "
              "{mismatched}, lost {lost}".format(**self.n))
        print("udp_peer: resent {resent}, late echoes {late}, stray "
              "datagrams {stray}".format(**self.n), flush=True)
        return 1 if self.n["mismatched"] or self.n["lost"] > a.max_lost else 0


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("server")
    s.add_argument("--bind", type=host_port, required=True)
    c = sub.add_parser("client")
    c.add_argument("--to", type=host_port, required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--min-size", type=int, required=True)
    c.add_argument("--max-size", type=int, required=True)
    c.add_argument("--seed", type=int, required=True)
    c.add_argument("--timeout-ms", type=int, default=1000)
    c.add_argument("--retries", type=int, default=3)
    c.add_argument("--max-lost", type=int, default=0)
    args = p.parse_args()
    if args.cmd == "server":
        return serve(args)
    if not 0 <= args.min_size <= args.max_size <= 65507:
        p.error("need 0 <= --min-size <= --max-size <= 65507")
    return Client(args).run()


if __name__ == "__main__":
    sys.exit(main())
