#!/usr/bin/python3
"""shim_echo.py - TCP echo server and checking client, in three styles of
Python networking (blocking sockets with threads, selectors, asyncio), for
tests/integ/shim_python.sh: run under `ustack run` (the shim) against the
same script on kernel sockets, and both ends in one process over ustack's
loopback.

  shim_echo.py server   --api API --bind IP:PORT --conns N
  shim_echo.py client   --api API --to IP:PORT --conns N --bytes B [--seed S]
  shim_echo.py loopback --api API --conns N --bytes B [--seed S]

The client opens N connections at once, sends B seeded random bytes on
each while reading the echo, shuts its side down, and checks that the
echo is byte for byte what it sent. The server echoes until the client's
end of stream, closes, and exits after N connections. Exit status 0 when
everything matched; 1 with the reason otherwise.
"""
import argparse
import asyncio
import hashlib
import random
import selectors
import socket
import sys
import threading

CHUNK = 65536


def addr(s):
    host, port = s.rsplit(":", 1)
    return host, int(port)


def payload(seed, i, n):
    return random.Random(seed * 1000003 + i).randbytes(n)


# ---- blocking sockets, a thread per connection -----------------------------

def sock_serve_one(c):
    with c:
        while True:
            b = c.recv(CHUNK)
            if not b:
                break
            c.sendall(b)


def sock_server(ls, conns):
    threads = []
    for _ in range(conns):
        c, _peer = ls.accept()
        t = threading.Thread(target=sock_serve_one, args=(c,))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()


def sock_client_one(to, data, out, i):
    with socket.create_connection(to, timeout=60) as s:
        def send():
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
        t = threading.Thread(target=send)
        t.start()
        got = bytearray()
        while True:
            b = s.recv(CHUNK)
            if not b:
                break
            got += b
        t.join()
    out[i] = bytes(got)


def sock_client(to, datas):
    out = [None] * len(datas)
    ts = [threading.Thread(target=sock_client_one, args=(to, d, out, i))
          for i, d in enumerate(datas)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return out


# ---- selectors: one thread, nonblocking sockets ---------------------------

def sel_server(ls, conns):
    sel = selectors.DefaultSelector()
    ls.setblocking(False)
    sel.register(ls, selectors.EVENT_READ, None)
    pending = {}
    accepted = done = 0
    while done < conns:
        for key, ev in sel.select(timeout=60):
            if key.data is None:
                c, _ = ls.accept()
                c.setblocking(False)
                pending[c] = bytearray()
                sel.register(c, selectors.EVENT_READ, "c")
                accepted += 1
                continue
            c = key.fileobj
            buf = pending[c]
            if ev & selectors.EVENT_READ:
                b = c.recv(CHUNK)
                if not b:
                    c.setblocking(True)
                    c.sendall(buf)
                    sel.unregister(c)
                    c.close()
                    done += 1
                    continue
                buf += b
            if buf:
                try:
                    n = c.send(buf)
                    del buf[:n]
                except BlockingIOError:
                    pass
            sel.modify(c, selectors.EVENT_READ |
                       (selectors.EVENT_WRITE if buf else 0), "c")
    sel.close()


def sel_client(to, datas):
    sel = selectors.DefaultSelector()
    state = {}
    for i, d in enumerate(datas):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex(to)
        state[s] = {"i": i, "data": memoryview(d), "got": bytearray(),
                    "shut": False}
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    out = [None] * len(datas)
    while state:
        events = sel.select(timeout=60)
        if not events:
            raise RuntimeError("selectors client: no progress in 60 s")
        for key, ev in events:
            s = key.fileobj
            st = state[s]
            if ev & selectors.EVENT_WRITE and not st["shut"]:
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    raise OSError(err, "connect failed")
                try:
                    n = s.send(st["data"][:CHUNK])
                    st["data"] = st["data"][n:]
                except BlockingIOError:
                    pass
                if not len(st["data"]):
                    s.shutdown(socket.SHUT_WR)
                    st["shut"] = True
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                try:
                    b = s.recv(CHUNK)
                except BlockingIOError:
                    continue
                if b:
                    st["got"] += b
                elif st["shut"]:
                    out[st["i"]] = bytes(st["got"])
                    sel.unregister(s)
                    s.close()
                    del state[s]
    sel.close()
    return out


# ---- asyncio ---------------------------------------------------------------

async def aio_server_main(ls, conns):
    done = asyncio.Event()
    count = 0

    async def handle(r, w):
        nonlocal count
        while True:
            b = await r.read(CHUNK)
            if not b:
                break
            w.write(b)
            await w.drain()
        w.close()
        await w.wait_closed()
        count += 1
        if count == conns:
            done.set()

    server = await asyncio.start_server(handle, sock=ls)
    await done.wait()
    server.close()
    await server.wait_closed()


async def aio_client_one(to, data):
    r, w = await asyncio.open_connection(*to)

    async def send():
        for off in range(0, len(data), CHUNK):
            w.write(data[off:off + CHUNK])
            await w.drain()
        w.write_eof()

    t = asyncio.create_task(send())
    got = bytearray()
    while True:
        b = await r.read(CHUNK)
        if not b:
            break
        got += b
    await t
    w.close()
    await w.wait_closed()
    return bytes(got)


async def aio_client_main(to, datas):
    return await asyncio.gather(*(aio_client_one(to, d) for d in datas))


def aio_server(ls, conns):
    asyncio.run(aio_server_main(ls, conns))


def aio_client(to, datas):
    return asyncio.run(asyncio.wait_for(aio_client_main(to, datas), 120))


APIS = {
    "socket": (sock_server, sock_client),
    "selectors": (sel_server, sel_client),
    "asyncio": (aio_server, aio_client),
}


def listener(bind):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(bind)
    ls.listen(64)
    return ls


def check(datas, outs, api):
    for i, (d, o) in enumerate(zip(datas, outs)):
        if o != d:
            print(f"FAIL: {api} connection {i}: sent {len(d)} bytes "
                  f"(sha256 {hashlib.sha256(d).hexdigest()[:16]}), echo "
                  f"{len(o or b'')} bytes (sha256 "
                  f"{hashlib.sha256(o or b'').hexdigest()[:16]})")
            return 1
    print(f"ok: {api}: {len(datas)} connections, {len(datas[0])} bytes "
          f"each way, echoed intact")
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["server", "client", "loopback"])
    p.add_argument("--api", choices=list(APIS), required=True)
    p.add_argument("--bind", type=addr)
    p.add_argument("--to", type=addr)
    p.add_argument("--conns", type=int, default=4)
    p.add_argument("--bytes", type=int, default=1 << 20)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    serve, client = APIS[a.api]
    datas = [payload(a.seed, i, a.bytes) for i in range(a.conns)]
    if a.mode == "server":
        ls = listener(a.bind)
        print(f"listening on {a.bind[0]}:{a.bind[1]}", flush=True)
        serve(ls, a.conns)
        ls.close()
        return 0
    if a.mode == "client":
        return check(datas, client(a.to, datas), a.api)
    # Both ends in this process, over 127.0.0.1.
    ls = listener(("127.0.0.1", 0))
    to = ls.getsockname()
    t = threading.Thread(target=serve, args=(ls, a.conns))
    t.start()
    outs = client(to, datas)
    t.join()
    ls.close()
    return check(datas, outs, a.api)


if __name__ == "__main__":
    sys.exit(main())
