#!/bin/bash
# shim_python.sh - Python's socket, selectors and asyncio on ustack through
# the shim (tests/integ/lib/shim_echo.py): for each, an echo server under
# ustack with the same script on kernel sockets as the client, the
# reverse, and both ends in one process over 127.0.0.1. Every connection's
# echo must be byte for byte what was sent.
#
# The kernel's own loopback is left down in this namespace, so the
# 127.0.0.1 runs can only have gone through ustack's loopback device.
#
# In a namespace of its own: tap0 with 10.65.0.1/24 on the kernel side,
# ustack at 10.65.0.2/24. 4 connections of SHIM_PY_BYTES (default 2 MB).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 65
source "$(dirname "$0")/lib/shim.sh"
shim_need
ip link set lo down
ECHO=$INTEG_ROOT/tests/integ/lib/shim_echo.py
BYTES=${SHIM_PY_BYTES:-2000000}
ARGS=(--conns 4 --bytes "$BYTES")

for api in socket selectors asyncio; do
	shim_start "$api-server" "$PY" "$ECHO" server --api "$api" \
		--bind "$USTACK_IP:7000" --conns 4
	shim_wait_line "$WORK/$api-server.out" "^listening on"
	timeout 120 "$PY" "$ECHO" client --api "$api" --to "$USTACK_IP:7000" \
		"${ARGS[@]}" || shim_fail "$api: kernel client against ustack server"
	shim_wait_exit "$SHIM_PID" 30 "$api server under ustack"

	"$PY" "$ECHO" server --api "$api" --bind "$KERNEL_IP:7001" --conns 4 \
		>"$WORK/$api-kserver.out" 2>&1 &
	KPID=$!
	SHIM_PIDS+=("$KPID")
	kernel_wait_listen 7001
	shim_run "$api-client" 120 "$PY" "$ECHO" client --api "$api" \
		--to "$KERNEL_IP:7001" "${ARGS[@]}"
	cat "$WORK/$api-client.out"
	wait "$KPID" || shim_fail "$api: kernel server failed"

	shim_run "$api-loopback" 120 "$PY" "$ECHO" loopback --api "$api" "${ARGS[@]}"
	sed 's/^ok: /ok: 127.0.0.1 on ustack: /' "$WORK/$api-loopback.out"
done

# fstat() on a ustack socket says socket (S_IFSOCK), as the kernel's does;
# a pipe's still says FIFO; a negative descriptor is EBADF (the shim asks
# the kernel with AT_EMPTY_PATH, where -100 would be the working
# directory). os.fstat is fstat64, os.stat(fd) the same.
shim_run fstat 30 "$PY" -c '
import errno, os, socket, stat
t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r, w = os.pipe()
for s in (t, u):
    m = os.fstat(s.fileno()).st_mode
    assert stat.S_ISSOCK(m) and stat.S_IMODE(m) == 0o777, oct(m)
assert stat.S_ISFIFO(os.fstat(r).st_mode)
for fd in (-1, -100):
    try:
        os.fstat(fd)
        raise SystemExit("fstat(%d) succeeded" % fd)
    except OSError as e:
        assert e.errno == errno.EBADF, e
print("ok: fstat says socket for ustack sockets, FIFO for a pipe, EBADF below 0")'
cat "$WORK/fstat.out"
integ_pass
