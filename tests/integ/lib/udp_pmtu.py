#!/usr/bin/python3
"""udp_pmtu.py - the UDP half of pmtu.sh.

  udp_pmtu.py sink PORT FILE       (far namespace, kernel sockets) writes
                                   the length of every datagram to FILE,
                                   one per line, until one reads b"end"
  udp_pmtu.py client HOST PORT GW  (under ustack, through the shim)

The client asks for IP_MTU_DISCOVER = IP_PMTUDISC_DO and IP_RECVERR, and
sends 1400 bytes to the sink behind a 1200-byte link: the router (GW, the
kernel) drops the datagram and answers "fragmentation needed". The client
checks what recvmsg(MSG_ERRQUEUE) reports (EMSGSIZE from ICMP type 3 code
4, the MTU 1200, the router as the offender, the start of its own
datagram as the data), that IP_MTU says 1200, that the next 1400 bytes
fail with EMSGSIZE at once with a local error queued, that 1172 bytes
(1200 in all) go, and, under IP_PMTUDISC_WANT, that 1400 bytes go as
fragments of the path's size. pmtu.sh then checks what the sink got and
what the capture shows.
"""
import errno
import select
import socket
import struct
import sys

IP_MTU_DISCOVER, IP_RECVERR, IP_MTU = 10, 11, 14
IP_PMTUDISC_WANT, IP_PMTUDISC_DO = 1, 2
MSG_ERRQUEUE = 0x2000
SO_EE_ORIGIN_LOCAL, SO_EE_ORIGIN_ICMP = 1, 2
EE = struct.Struct("=IBBBBII")   # struct sock_extended_err


def check(cond, what):
    if not cond:
        print("FAIL: " + what, flush=True)
        sys.exit(1)
    print("ok: " + what, flush=True)


def sink(port, path):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("0.0.0.0", port))
    print("listening", flush=True)
    with open(path, "w") as f:
        while True:
            data = s.recv(65535)
            f.write("%d\n" % len(data))
            f.flush()
            if data == b"end":
                return


def read_error(s):
    """The next error on the queue: (data, ee fields, offender, flags)."""
    data, anc, flags, _ = s.recvmsg(2048, 512, MSG_ERRQUEUE)
    for level, kind, cdata in anc:
        if level == socket.IPPROTO_IP and kind == IP_RECVERR:
            ee = EE.unpack_from(cdata)
            fam, _, addr = struct.unpack_from("=HH4s", cdata, EE.size)
            off = socket.inet_ntoa(addr) if fam == socket.AF_INET else None
            return data, ee, off, flags
    check(False, "an IP_RECVERR control message with the error")
    return None


def client(host, port, gateway):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
    s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
    s.connect((host, port))
    check(s.getsockopt(socket.IPPROTO_IP, IP_MTU) == 1500,
          "IP_MTU is the link's 1500 before any error")
    s.send(b"a" * 1400)
    p = select.poll()
    p.register(s, select.POLLIN)
    ev = p.poll(5000)
    check(ev and ev[0][1] & select.POLLERR,
          "POLLERR once the router's error came back")
    data, ee, off, flags = read_error(s)
    e_errno, origin, typ, code, _, info, _ = ee
    check(flags & MSG_ERRQUEUE, "MSG_ERRQUEUE in msg_flags")
    check((e_errno, origin, typ, code, info) ==
          (errno.EMSGSIZE, SO_EE_ORIGIN_ICMP, 3, 4, 1200),
          "EMSGSIZE from ICMP type 3 code 4 with MTU 1200 (got %r)" %
          (ee,))
    check(off == gateway, "the router %s sent it (got %s)" % (gateway, off))
    check(0 < len(data) <= 1400 and data == b"a" * len(data),
          "the data is the start of the datagram (%d bytes)" % len(data))
    check(s.getsockopt(socket.IPPROTO_IP, IP_MTU) == 1200,
          "IP_MTU is the path's 1200 now")
    try:
        s.send(b"a" * 1400)
        check(False, "1400 bytes under IP_PMTUDISC_DO fail with EMSGSIZE")
    except OSError as e:
        check(e.errno == errno.EMSGSIZE,
              "1400 bytes under IP_PMTUDISC_DO fail with EMSGSIZE")
    _, ee, off, _ = read_error(s)
    check((ee[0], ee[1], ee[5], off) ==
          (errno.EMSGSIZE, SO_EE_ORIGIN_LOCAL, 1200, None),
          "a local EMSGSIZE with MTU 1200 is queued (got %r)" % (ee,))
    check(s.send(b"b" * 1172) == 1172, "1172 bytes (1200 in all) go")
    s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_WANT)
    check(s.send(b"c" * 1400) == 1400,
          "1400 bytes go under IP_PMTUDISC_WANT")
    s.send(b"end")


def main():
    if sys.argv[1] == "sink":
        sink(int(sys.argv[2]), sys.argv[3])
    else:
        client(sys.argv[2], int(sys.argv[3]), sys.argv[4])


if __name__ == "__main__":
    main()
