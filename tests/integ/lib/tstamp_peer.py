#!/usr/bin/env python3
"""tstamp_peer.py - SO_TIMESTAMPING's reports as a program sees them, for
shim_tstamp.sh: the same program runs on the kernel's sockets and on
ustack's, and the two summaries it prints must be the same.

  tstamp_peer.py sink --bind A:P [--udp]      read and discard
  tstamp_peer.py tcp --to A:P --writes N      N writes of 1000 bytes, each
                                              after the last one's ACK
  tstamp_peer.py udp --to A:P --sends N       N datagrams, OPT_ID keys
  tstamp_peer.py udprx --bind A:P --count N   receive timestamps

Printed: one line per report (kind, key, whether its time is plausible:
within a second of the wall clock and not before the one before it), or
per datagram received; times themselves differ from run to run and are not
printed.
"""
import argparse
import select
import socket
import struct
import sys
import time

SO_TIMESTAMPING = 37
SOF_TX_SOFTWARE, SOF_SOFTWARE, SOF_RX_SOFTWARE = 1 << 1, 1 << 4, 1 << 3
SOF_OPT_ID, SOF_TX_SCHED, SOF_TX_ACK = 1 << 7, 1 << 8, 1 << 9
SOF_OPT_TSONLY = 1 << 11
MSG_ERRQUEUE = 0x2000
IP_RECVERR = 11
KINDS = {0: "SND", 1: "SCHED", 2: "ACK"}
TX = (SOF_TX_SOFTWARE | SOF_TX_SCHED | SOF_SOFTWARE | SOF_OPT_ID |
      SOF_OPT_TSONLY)


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


class Clock:
    """Each time must be recent and not before the one before it."""

    def __init__(self):
        self.last = 0.0

    def check(self, t):
        ok = abs(t - time.time()) < 1.0 and t >= self.last
        self.last = t
        return int(ok)


def stamps(ancdata):
    """The SCM_TIMESTAMPING time and the extended error, if any."""
    t, ee = None, None
    for level, kind, data in ancdata:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPING:
            sec, nsec = struct.unpack_from("qq", data)
            t = sec + nsec / 1e9
        elif level == socket.SOL_IP and kind == IP_RECVERR:
            ee = struct.unpack_from("IBBBBII", data)
    return t, ee


def read_reports(s, want, clock, timeout=5.0):
    """Print the next `want` reports from s's error queue."""
    end = time.time() + timeout
    got = 0
    while got < want and time.time() < end:
        p = select.poll()
        p.register(s, 0)
        if not p.poll(100):
            continue
        try:
            data, anc, flags, _ = s.recvmsg(64, 256, MSG_ERRQUEUE)
        except BlockingIOError:
            continue
        t, ee = stamps(anc)
        if ee is None or t is None:
            print("report without its messages")
            continue
        errno_, origin, _, _, _, info, key = ee
        print("report %s key %d errno %d origin %d bytes %d time ok %d" % (
            KINDS.get(info, info), key, errno_, origin, len(data),
            clock.check(t)))
        got += 1
    if got < want:
        print("only %d of %d reports" % (got, want))


def sink(a):
    kind = socket.SOCK_DGRAM if a.udp else socket.SOCK_STREAM
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(addr(a.bind))
    if a.udp:
        print("listening on", a.bind, flush=True)
        s.settimeout(10)
        try:
            while s.recv(65536):
                pass
        except socket.timeout:
            pass
        return
    s.listen(1)
    print("listening on", a.bind, flush=True)
    c, _ = s.accept()
    while c.recv(65536):
        pass
    c.close()


def tcp(a):
    s = socket.create_connection(addr(a.to), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING, TX | SOF_TX_ACK)
    clock = Clock()
    for i in range(a.writes):
        s.send(b"x" * 1000)
        read_reports(s, 3, clock)
    s.close()


def udp(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING, TX)
    clock = Clock()
    for i in range(a.sends):
        s.sendto(b"y" * 100, addr(a.to))
        read_reports(s, 2, clock)
    s.close()


def udprx(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(addr(a.bind))
    s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPING,
                 SOF_SOFTWARE | SOF_RX_SOFTWARE)
    print("listening on", a.bind, flush=True)
    s.settimeout(10)
    clock = Clock()
    for i in range(a.count):
        data, anc, _, _ = s.recvmsg(2048, 256)
        t, _ = stamps(anc)
        print("datagram %d bytes, timestamp %s" % (
            len(data), "none" if t is None else "ok %d" % clock.check(t)))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["sink", "tcp", "udp", "udprx"])
    p.add_argument("--bind")
    p.add_argument("--to")
    p.add_argument("--udp", action="store_true")
    p.add_argument("--writes", type=int, default=3)
    p.add_argument("--sends", type=int, default=3)
    p.add_argument("--count", type=int, default=3)
    a = p.parse_args()
    {"sink": sink, "tcp": tcp, "udp": udp, "udprx": udprx}[a.mode](a)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
