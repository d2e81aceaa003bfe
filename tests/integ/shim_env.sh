#!/bin/bash
# shim_env.sh - the shim's edges: its configuration, fork() and exit.
#
#   - a bad variable (USTACK_ADDR, USTACK_TAP, USTACK_MTU, USTACK_GATEWAY)
#     makes the program's AF_INET socket() fail at once (EINVAL) after one
#     message naming the variable; AF_UNIX and AF_INET6 still work
#   - a TAP device another process holds: one message naming USTACK_TAP
#   - USTACK_NO_OFFLOAD=1: no frame from ustack past the MTU in a bulk
#     send, where the default (TSO) makes such frames, written by the TAP's
#     writer thread ("ustack-tx", tap_tx.c); USTACK_NO_TX_THREAD=1: TSO
#     frames, no such thread
#   - `ustack run` with bad arguments exits 2 naming the argument
#   - without USTACK_TAP, UDP and TCP work over ustack's 127.0.0.0/8
#   - a ustack socket's dup/F_DUPFD/dup2 are the same connection, FIN at
#     the last close
#   - fork(): the child's calls on an inherited ustack socket fail with
#     EOPNOTSUPP after one message; the parent's socket keeps working
#   - close_range() on a ustack socket closes it as close() does: the
#     kernel peer sees the end of the stream at once, not at exit
#   - exit() without close(): the kernel peer gets every byte and a FIN
#     (end of stream, not a reset)
#
# In a namespace of its own: tap0 with 10.67.0.1/24 on the kernel side,
# ustack at 10.67.0.2/24.
set -euo pipefail
[ -n "${SHIM_TRACE:-}" ] && set -x
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 67
source "$(dirname "$0")/lib/shim.sh"
shim_need

cat >"$WORK/sock.py" <<'EOP'
import errno, socket, sys
for fam in (socket.AF_UNIX, socket.AF_INET6):
    socket.socket(fam, socket.SOCK_STREAM).close()
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
except OSError as e:
    print(f"socket: {errno.errorcode[e.errno]}")
    sys.exit(0)
print("socket: created")
EOP

# bad_env VAR 'VALUE' [OTHER=VALUE...]: socket() fails with EINVAL and
# stderr has exactly one line, naming VAR.
bad_env() {
	local var=$1 val=$2
	shift 2
	env -u USTACK_ADDR USTACK_TAP=tap0 USTACK_ADDR="$USTACK_IP/24" "$@" \
		"$var=$val" LD_PRELOAD="$SHIM_SO" timeout 20 "$PY" "$WORK/sock.py" \
		>"$WORK/env.out" 2>"$WORK/env.err" || shim_fail "$var: the program failed"
	grep -qx "socket: EINVAL" "$WORK/env.out" ||
		shim_fail "$var='$val': socket() said $(cat "$WORK/env.out")"
	[ "$(wc -l <"$WORK/env.err")" -eq 1 ] && grep -q "^ustack: $var=" "$WORK/env.err" ||
		shim_fail "$var='$val': expected one message naming it: $(cat "$WORK/env.err")"
	echo "ok: $var='$val': $(cat "$WORK/env.err")"
}
bad_env USTACK_ADDR 10.67.0.2
bad_env USTACK_ADDR 10.67.0.255/24
bad_env USTACK_TAP averyveryverylongname
bad_env USTACK_MTU 10
bad_env USTACK_GATEWAY 10.99.0.1
bad_env USTACK_LOG_LEVEL loud
bad_env USTACK_NO_OFFLOAD yes
bad_env USTACK_NO_TX_THREAD 01

# USTACK_NO_OFFLOAD=1 (ustack run --no-offload): the TAP without TSO, so no
# frame ustack sends is longer than the MTU allows (ustack's own capture,
# which shows a TSO packet whole); by default a bulk send makes such frames.
cat >"$WORK/bulk_srv.py" <<'EOP'
import socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], 9100))
ls.listen()
for _ in range(3):
    s, _ = ls.accept()
    n = 0
    while True:
        b = s.recv(1 << 16)
        if not b:
            break
        n += len(b)
    print(f"got {n}", flush=True)
    s.close()
EOP
cat >"$WORK/bulk.py" <<'EOP'
import os, socket, sys
c = socket.create_connection((sys.argv[1], 9100))
c.sendall(b"o" * (4 << 20))
c.close()
task = "/proc/self/task"
print("threads:", " ".join(sorted(open(f"{task}/{t}/comm").read().strip()
                                  for t in os.listdir(task))))
EOP
"$PY" "$WORK/bulk_srv.py" "$KERNEL_IP" >"$WORK/bulk_srv.out" 2>&1 &
BULK_SRV=$!
SHIM_PIDS+=("$BULK_SRV")
kernel_wait_listen 9100
# offload_send NO_OFFLOAD NO_TX_THREAD: one 4 MB send under the shim with
# USTACK_NO_OFFLOAD and USTACK_NO_TX_THREAD set so; then data and long are
# ustack's data frames in its own capture and those of them past 1514
# bytes, and tx is 1 when the program had the TAP's writer thread.
offload_send() {
	local label=offload-$1-$2
	USTACK_NO_OFFLOAD=$1 USTACK_NO_TX_THREAD=$2 shim_run "$label" 60 \
		"$PY" "$WORK/bulk.py" "$KERNEL_IP"
	integ_tshark -Y "ip.src == $USTACK_IP && tcp.len > 0" -T fields \
		-e frame.len >"$WORK/$label.len"
	read -r data long < <(awk '{ n++; if ($1 > 1514) big++ }
		END { print n + 0, big + 0 }' "$WORK/$label.len")
	grep -q "^threads: " "$WORK/$label.out" ||
		shim_fail "$label: no thread list: $(cat "$WORK/$label.out")"
	tx=$(grep -c "^threads: .*ustack-tx" "$WORK/$label.out" || true)
}
offload_send 0 0
[ "$data" -gt 0 ] && [ "$long" -gt 0 ] && [ "$tx" -eq 1 ] ||
	shim_fail "offloads on: $data data frames, $long of them past 1514 bytes; writer thread: $tx"
echo "ok: offloads on: $long of $data data frames longer than 1514 bytes (TSO), a writer thread"
offload_send 1 0
[ "$data" -ge 2897 ] && [ "$long" -eq 0 ] && [ "$tx" -eq 0 ] ||
	shim_fail "USTACK_NO_OFFLOAD=1: $data data frames, $long of them past 1514 bytes; writer thread: $tx"
echo "ok: USTACK_NO_OFFLOAD=1: $data data frames, none longer than 1514 bytes, no writer thread"
offload_send 0 1
[ "$long" -gt 0 ] && [ "$tx" -eq 0 ] ||
	shim_fail "USTACK_NO_TX_THREAD=1: $long data frames past 1514 bytes; writer thread: $tx"
echo "ok: USTACK_NO_TX_THREAD=1: $long data frames longer than 1514 bytes (TSO), no writer thread"
shim_wait_exit "$BULK_SRV" 30 "the bulk receiver"
[ "$(grep -c "^got $((4 << 20))$" "$WORK/bulk_srv.out")" -eq 3 ] ||
	shim_fail "the kernel did not get all three 4 MB sends: $(cat "$WORK/bulk_srv.out")"

# A TAP device held by another process.
cat >"$WORK/hold.py" <<'EOP'
import os, socket, sys, time
s = socket.socket()
s.bind(("0.0.0.0", 9))
s.listen()
print("holding", flush=True)
while not os.path.exists(sys.argv[1]):
    time.sleep(0.05)
EOP
shim_start hold "$PY" "$WORK/hold.py" "$WORK/release"
shim_wait_line "$WORK/hold.out" "^holding"
USTACK_TAP=tap0 USTACK_ADDR="$USTACK_IP/24" LD_PRELOAD="$SHIM_SO" \
	timeout 20 "$PY" "$WORK/sock.py" >"$WORK/busy.out" 2>"$WORK/busy.err" ||
	shim_fail "busy TAP: the program failed"
grep -q "^socket: E" "$WORK/busy.out" || shim_fail "busy TAP: socket() worked"
grep -q "^ustack: USTACK_TAP='tap0': cannot attach" "$WORK/busy.err" ||
	shim_fail "busy TAP: no message naming USTACK_TAP: $(cat "$WORK/busy.err")"
echo "ok: busy TAP: $(cat "$WORK/busy.err")"
touch "$WORK/release"
shim_wait_exit "$SHIM_PID" 30 "the holder"

# No USTACK_TAP: an instance with its loopback only. The kernel's lo is
# down here, so 127.0.0.1 answering at all means ustack's loopback.
ip link set lo down
cat >"$WORK/lo.py" <<'EOP'
import socket
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(("127.0.0.1", 0))
u.sendto(b"ping", u.getsockname())
assert u.recvfrom(16) == (b"ping", u.getsockname())
ls = socket.socket()
ls.bind(("127.0.0.2", 0))
ls.listen()
c = socket.create_connection(ls.getsockname())
s, _ = ls.accept()
c.sendall(b"x" * 100000)
c.shutdown(socket.SHUT_WR)
got = b""
while len(got) < 100000:
    b = s.recv(65536)
    assert b
    got += b
print("ok: no USTACK_TAP: UDP and TCP over ustack's 127.0.0.0/8")
EOP
env -u USTACK_TAP -u USTACK_ADDR LD_PRELOAD="$SHIM_SO" timeout 30 "$PY" "$WORK/lo.py" ||
	shim_fail "loopback-only instance"

# dup of a ustack socket (os.dup is F_DUPFD_CLOEXEC, os.dup2 is dup2): the
# connection lives on through the duplicates, readable through each and
# through an epoll registration made via one; FIN at the last close only.
cat >"$WORK/dup.py" <<'EOP'
import fcntl, os, select, socket
ls = socket.socket()
ls.bind(("127.0.0.3", 0))
ls.listen()
c = socket.create_connection(ls.getsockname())
s, _ = ls.accept()
d = os.dup(s.fileno())
assert fcntl.fcntl(d, fcntl.F_GETFD) == fcntl.FD_CLOEXEC
d2 = fcntl.fcntl(s.fileno(), fcntl.F_DUPFD, 100)
assert d2 >= 100 and fcntl.fcntl(d2, fcntl.F_GETFD) == 0
s.close()
os.close(d2)
c.setblocking(False)
try:
    c.recv(1)
    raise SystemExit("the peer saw an end of stream after closing a dup")
except BlockingIOError:
    pass
os.write(d, b"hi")
c.settimeout(10)
assert c.recv(2) == b"hi"
ep = select.epoll()
ep.register(d, select.EPOLLIN)
d3 = os.dup2(d, 50)
assert d3 == 50
os.close(d)
c.send(b"z")
assert ep.poll(10) == [(d, select.EPOLLIN)]
assert os.read(50, 1) == b"z"
os.close(50)
assert c.recv(1) == b""
print("ok: dup, F_DUPFD, dup2 of a ustack socket; FIN at the last close")
EOP
env -u USTACK_TAP -u USTACK_ADDR LD_PRELOAD="$SHIM_SO" timeout 30 "$PY" "$WORK/dup.py" ||
	shim_fail "dup of a ustack socket"
ip link set lo up

rc=0
"$USTACK_RUN" run --tap tap0 --addr 10.67.0.2 -- true 2>"$WORK/run.err" || rc=$?
[ $rc -eq 2 ] && grep -q -- "--addr" "$WORK/run.err" ||
	shim_fail "ustack run with a bad --addr: status $rc, $(cat "$WORK/run.err")"
echo "ok: ustack run: $(cat "$WORK/run.err")"

# fork(), and exit() without close().
cat >"$WORK/kserver.py" <<'EOP'
import socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], 7003))
ls.listen()
for want in (b"parent\n", b"range\n", b"x" * 1000000):
    c, _ = ls.accept()
    c.settimeout(30)
    got = bytearray()
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            got += b
    except ConnectionResetError:
        sys.exit(f"reset after {len(got)} bytes")
    except socket.timeout:
        sys.exit(f"no end of stream within 30 s after {len(got)} bytes")
    if got != want:
        sys.exit(f"got {len(got)} bytes, not the {len(want)} expected")
    print(f"ok: {len(got)} bytes, then end of stream", flush=True)
EOP
cat >"$WORK/fork.py" <<'EOP'
import errno, os, socket, sys
s = socket.create_connection((sys.argv[1], 7003))
pid = os.fork()
if pid == 0:
    try:
        s.send(b"child\n")
        os._exit(3)
    except OSError as e:
        os._exit(0 if e.errno == errno.EOPNOTSUPP else 4)
_, status = os.waitpid(pid, 0)
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit(f"child: status {os.waitstatus_to_exitcode(status)}")
s.sendall(b"parent\n")
s.close()
# One closed by close_range(), as os.closerange() and daemons close what
# they inherited: the shim closes the socket (a FIN, so the server sees
# the end of the stream now, not at exit).
import ctypes, time
r = socket.create_connection((sys.argv[1], 7003))
r.sendall(b"range\n")
fd = r.detach()
if ctypes.CDLL(None, use_errno=True).close_range(fd, fd, 0) != 0:
    sys.exit(f"close_range: errno {ctypes.get_errno()}")
for _ in range(100):
    with open(sys.argv[2]) as f:
        if "ok: 6 bytes" in f.read():
            break
    time.sleep(0.1)
else:
    sys.exit("close_range: no end of stream at the server within 10 s")
# The second connection is left for exit() to close: detached, so that
# Python does not close it itself; most of the data is still queued.
t = socket.create_connection((sys.argv[1], 7003))
t.sendall(b"x" * 1000000)
t.detach()
sys.exit(0)
EOP
"$PY" "$WORK/kserver.py" "$KERNEL_IP" >"$WORK/kserver.out" 2>&1 &
KPID=$!
SHIM_PIDS+=("$KPID")
kernel_wait_listen 7003
shim_run fork 60 "$PY" "$WORK/fork.py" "$KERNEL_IP" "$WORK/kserver.out"
wait "$KPID" || shim_fail "kernel server: $(cat "$WORK/kserver.out")"
cat "$WORK/kserver.out"
grep -q "inherited across fork()" "$WORK/fork.log" ||
	shim_fail "the child's error said nothing about fork()"
echo "ok: fork: $(grep 'inherited across fork' "$WORK/fork.log")"
integ_pass
