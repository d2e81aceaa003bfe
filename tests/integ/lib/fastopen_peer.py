#!/usr/bin/env python3
"""fastopen_peer.py - one side of a TCP Fast Open exchange (RFC 7413), run
on the kernel's sockets or on ustack's through the shim (shim_fastopen.sh).

  server --bind A:P --conns N   listen with TCP_FASTOPEN, echo N
                                connections; print per connection whether
                                the SYN's data was taken at once
                                (TCP_INFO's TCPI_OPT_SYN_DATA)
  client --to A:P --conns N     N connections, each opened by
                                sendto(MSG_FASTOPEN) with its request;
                                check the echo; print the same for each
"""
import argparse
import socket
import struct
import sys

TCPI_OPT_SYN_DATA = 32


def syn_data(s):
    # struct tcp_info: state, ca_state, retransmits, probes, backoff,
    # options: the sixth byte
    info = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)
    return bool(info[5] & TCPI_OPT_SYN_DATA)


def addr(text):
    host, port = text.rsplit(":", 1)
    return host, int(port)


def recv_all(s, n):
    got = b""
    while len(got) < n:
        chunk = s.recv(n - len(got))
        if not chunk:
            break
        got += chunk
    return got


def server(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 8)
    ls.bind(addr(a.bind))
    ls.listen(8)
    print("listening on", a.bind, flush=True)
    for i in range(a.conns):
        c, _ = ls.accept()
        req = recv_all(c, 64)
        c.sendall(req)
        print("conn %d: syn data %d, %d bytes" % (i, syn_data(c), len(req)),
              flush=True)
        c.close()
    ls.close()


def client(a):
    for i in range(a.conns):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        req = (b"request %02d " % i).ljust(64, b".")
        n = s.sendto(req, socket.MSG_FASTOPEN, addr(a.to))
        if n < len(req):
            s.sendall(req[n:])
        got = recv_all(s, len(req))
        if got != req:
            sys.exit("conn %d: echo differs: %r" % (i, got))
        print("conn %d: syn data %d, echo ok" % (i, syn_data(s)), flush=True)
        s.close()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client"])
    p.add_argument("--bind")
    p.add_argument("--to")
    p.add_argument("--conns", type=int, default=3)
    a = p.parse_args()
    server(a) if a.mode == "server" else client(a)


if __name__ == "__main__":
    main()
