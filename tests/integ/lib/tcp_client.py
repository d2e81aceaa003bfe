#!/usr/bin/python3
"""tcp_client.py - the kernel's side of the TCP integration tests.

  tcp_client.py cycles --url http://A.B.C.D:PORT/PATH --count N
                       --sha256 HEX [--pid PID]
      N sequential HTTP/1.1 exchanges, each on a new connection: connect,
      GET, read the response by its Content-Length, check status 200 and
      the body's SHA-256, close. Odd cycles ask "Connection: close" (the
      server closes first), even ones let the client close first, so both
      ends of a close are exercised. With --pid, the resident memory of
      that process (VmRSS) is sampled after a tenth of the cycles, after
      half of them, and at the end. Prints one summary line:
        cycles: N ok, server-closed C, rss_kb R1 R2 R3
      Exits 1 on the first failure, saying which cycle and why.

  tcp_client.py refused --to A.B.C.D:PORT
      connect() must fail with ECONNREFUSED (the peer answered with a
      RST). Prints "refused: ECONNREFUSED" and exits 0, else exits 1.

Every socket operation has a timeout, so nothing here hangs.
"""
import argparse
import errno
import hashlib
import socket
import sys
import urllib.parse

TIMEOUT_S = 10


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def read_response(sock):
    """Status, headers (lower-case names) and body of one response."""
    f = sock.makefile("rb")
    status_line = f.readline(65536)
    if not status_line:
        raise RuntimeError("connection closed before a response")
    parts = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
        raise RuntimeError(f"bad status line {status_line!r}")
    status = int(parts[1])
    headers = {}
    while True:
        line = f.readline(65536)
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" not in headers:
        raise RuntimeError("response without Content-Length")
    length = int(headers["content-length"])
    body = f.read(length)
    if len(body) != length:
        raise RuntimeError(f"body {len(body)} of {length} bytes")
    return status, headers, body


def one_cycle(host, port, path, server_closes):
    """One connection, one request. True if the server closed first."""
    s = socket.create_connection((host, port), timeout=TIMEOUT_S)
    try:
        conn = "close" if server_closes else "keep-alive"
        req = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Connection: {conn}\r\n\r\n")
        s.sendall(req.encode())
        status, headers, body = read_response(s)
        if status != 200:
            raise RuntimeError(f"status {status}")
        if server_closes:
            if headers.get("connection", "").lower() != "close":
                raise RuntimeError("server did not confirm Connection: close")
            # The server's FIN comes next: read it before closing.
            if s.recv(1) != b"":
                raise RuntimeError("data after the response")
        return body
    finally:
        s.close()


def cmd_cycles(a):
    u = urllib.parse.urlsplit(a.url)
    host, port, path = u.hostname, u.port or 80, u.path or "/"
    rss_at = {max(1, a.count // 10), max(1, a.count // 2)}
    rss = []
    server_closed = 0
    for i in range(1, a.count + 1):
        server_closes = i % 2 == 1
        try:
            body = one_cycle(host, port, path, server_closes)
        except (OSError, RuntimeError, ValueError) as e:
            print(f"cycles: cycle {i} failed: {e}", file=sys.stderr)
            return 1
        if hashlib.sha256(body).hexdigest() != a.sha256:
            print(f"cycles: cycle {i}: body does not match", file=sys.stderr)
            return 1
        server_closed += server_closes
        if a.pid and (i in rss_at or i == a.count):
            rss.append(rss_kb(a.pid))
    print(f"cycles: {a.count} ok, server-closed {server_closed}, "
          f"rss_kb {' '.join(str(r) for r in rss) or '-'}")
    return 0


def cmd_refused(a):
    host, _, port = a.to.rpartition(":")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT_S)
    try:
        s.connect((host, int(port)))
    except ConnectionRefusedError:
        print("refused: ECONNREFUSED")
        return 0
    except OSError as e:
        print(f"refused: connect failed with {errno.errorcode.get(e.errno)}"
              f" ({e}), not ECONNREFUSED", file=sys.stderr)
        return 1
    finally:
        s.close()
    print("refused: connect succeeded", file=sys.stderr)
    return 1


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cycles")
    c.add_argument("--url", required=True)
    c.add_argument("--count", type=int, required=True)
    c.add_argument("--sha256", required=True)
    c.add_argument("--pid", type=int, default=0)
    r = sub.add_parser("refused")
    r.add_argument("--to", required=True)
    a = p.parse_args()
    return cmd_cycles(a) if a.cmd == "cycles" else cmd_refused(a)


if __name__ == "__main__":
    sys.exit(main())
