#!/bin/bash
# shim_signals.sh - a program's signal handlers under the shim
# (tests/integ/lib/sig_shim.c): handlers that leave with siglongjmp or
# call ustack while their thread is busy in ustack calls, SA_RESTART and
# EINTR as Linux gives them, the program's own actions reported, and
# SIGIO (O_ASYNC, F_SETSIG) with its siginfo for a reply; then
# iperf3's client, whose SIGINT handler longjmps, stopped with SIGINT in
# the middle of a transfer.
#
# In a namespace of its own: tap0 with 10.68.0.1/24 on the kernel side,
# ustack at 10.68.0.2/24; the peers are shim_echo.py and iperf3 on kernel
# sockets.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 68
source "$(dirname "$0")/lib/shim.sh"
shim_need
SIG=$INTEG_ROOT/build/integ/sig_shim
[ -x "$SIG" ] || { echo "FAIL: $SIG not built (run 'make test-build')"; exit 1; }

"$PY" "$INTEG_ROOT/tests/integ/lib/shim_echo.py" server --api socket \
	--bind "$KERNEL_IP:7003" --conns 10 >"$WORK/kserver.out" 2>&1 &
KPID=$!
SHIM_PIDS+=("$KPID")
kernel_wait_listen 7003
shim_run sig_shim 60 "$SIG" "$KERNEL_IP" 7003
cat "$WORK/sig_shim.out"
grep -q "^sig_shim: all cases passed" "$WORK/sig_shim.out" ||
	shim_fail "sig_shim did not pass every case"
wait "$KPID" || shim_fail "kernel echo server failed"

if ! command -v iperf3 >/dev/null; then
	echo "skip: iperf3 SIGINT (iperf3 is not installed)"
	integ_pass
fi
iperf3 -s -B "$KERNEL_IP" -p 5203 -1 >"$WORK/iperf3-server.out" 2>&1 &
IPID=$!
SHIM_PIDS+=("$IPID")
kernel_wait_listen 5203
SHIM_BULK=1 shim_start iperf3 iperf3 -c "$KERNEL_IP" -p 5203 -t 60
# Stopped in the middle of its transfer: its handler longjmps, and it
# says why it ends (exit status 1).
sleep 3
kill -INT "$SHIM_PID"
for _ in $(seq 100); do
	kill -0 "$SHIM_PID" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$SHIM_PID" 2>/dev/null; then
	shim_fail "iperf3 still running 10 s after SIGINT (hang)"
fi
wait "$SHIM_PID" || true
grep -q "interrupt - the client has terminated" "$WORK/iperf3.out" \
	"$WORK/iperf3.log" || shim_fail "iperf3 did not report its interrupt"
echo "ok: iperf3 -c stopped by SIGINT in the middle of its transfer"
integ_pass
