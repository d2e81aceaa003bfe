#!/bin/bash
# shim_epoll_mix.sh - one epoll set holding a ustack TCP socket, a pipe and
# a timerfd (tests/integ/lib/epoll_mix.c, plain libc, run through the
# shim): timer ticks feed the pipe, the pipe feeds the socket, and the
# kernel's echo comes back on the socket; all of it must come back intact
# and all three descriptors must have reported events.
#
# In a namespace of its own: tap0 with 10.66.0.1/24 on the kernel side,
# ustack at 10.66.0.2/24; the echo server is shim_echo.py on kernel
# sockets.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 66
source "$(dirname "$0")/lib/shim.sh"
shim_need
MIX=$INTEG_ROOT/build/integ/epoll_mix
[ -x "$MIX" ] || { echo "FAIL: $MIX not built (run 'make test-build')"; exit 1; }
BYTES=8000000

"$PY" "$INTEG_ROOT/tests/integ/lib/shim_echo.py" server --api socket \
	--bind "$KERNEL_IP:7002" --conns 1 >"$WORK/kserver.out" 2>&1 &
KPID=$!
SHIM_PIDS+=("$KPID")
kernel_wait_listen 7002
shim_run epoll_mix 120 "$MIX" "$KERNEL_IP" 7002 "$BYTES"
cat "$WORK/epoll_mix.out"
read -r ticks reads < <(sed -n \
	's/^epoll_mix: \([0-9]*\) bytes echoed intact, \([0-9]*\) ticks, \([0-9]*\) pipe reads$/\2 \3/p' \
	"$WORK/epoll_mix.out")
[ "${ticks:-0}" -gt 0 ] && [ "${reads:-0}" -gt 0 ] ||
	shim_fail "the timerfd or the pipe reported no event"
grep -q "^epoll_mix: $BYTES bytes echoed intact" "$WORK/epoll_mix.out" ||
	shim_fail "not every byte came back"
wait "$KPID" || shim_fail "kernel echo server failed"
echo "ok: socket, pipe and timerfd in one epoll set"
integ_pass
