#!/usr/bin/python3
"""rfc7323_peer.py - kernel-socket peers for tests/integ/tcp_rfc7323.sh that
report their own TCP_INFO (tcpi_options and the window scale shifts) while
the connection is up, and hold it a moment for `ss -ti` to look at.

  client ADDR PORT BYTES HOLD   GET /big.bin, read BYTES of the answer,
                                print the info line and "holding", wait
                                HOLD seconds, close
  server ADDR PORT FILE HOLD    accept one connection, read its request,
                                print the info line, wait HOLD seconds,
                                answer with FILE (HTTP/1.1, Content-Length,
                                Connection: close), close

The info line: "options=N snd_wscale=S rcv_wscale=R" (struct tcp_info's
tcpi_options byte and the two 4-bit fields after it).
"""
import os
import socket
import sys
import time


def kinfo(s):
    b = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    return "options=%d snd_wscale=%d rcv_wscale=%d" % (b[5], b[6] & 15,
                                                       b[6] >> 4)


def client(addr, port, nbytes, hold):
    c = socket.create_connection((addr, port), timeout=30)
    c.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    n = 0
    while n < nbytes:
        d = c.recv(65536)
        if not d:
            sys.exit("connection closed after %d bytes" % n)
        n += len(d)
    print(kinfo(c), flush=True)
    print("holding", flush=True)
    time.sleep(hold)
    c.close()


def server(addr, port, path, hold):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(1)
    print("listening", flush=True)
    c, _ = ls.accept()
    req = b""
    while b"\r\n\r\n" not in req:
        d = c.recv(4096)
        if not d:
            sys.exit("no request")
        req += d
    print(kinfo(c), flush=True)
    time.sleep(hold)
    size = os.path.getsize(path)
    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
              b"Connection: close\r\n\r\n" % size)
    with open(path, "rb") as f:
        c.sendfile(f)
    c.shutdown(socket.SHUT_WR)
    while c.recv(65536):
        pass
    c.close()


if __name__ == "__main__":
    mode, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if mode == "client":
        client(addr, port, int(sys.argv[4]), float(sys.argv[5]))
    else:
        server(addr, port, sys.argv[4], float(sys.argv[5]))
