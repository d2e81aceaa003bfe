#!/bin/bash
# shim_tstamp.sh - SO_TIMESTAMPING through the shim, with the kernel as the
# peer over the TAP and as the oracle: Python's sockets
# (tests/integ/lib/tstamp_peer.py) ask for reports and print what they get,
# once on the kernel's sockets (kernel to kernel over loopback) and once
# under ustack (to the kernel over tap0); the two summaries must be equal.
#  - TCP: each write's SCHED, SND and ACK reports, keyed by its last byte,
#    the ACK's when the kernel's ACK came back;
#  - UDP: each datagram's SCHED and SND, keyed 0, 1, 2, ...;
#  - receive timestamps on datagrams the kernel sends.
#
# In a namespace of its own: tap0 with 10.77.0.1/24 on the kernel side,
# ustack at 10.77.0.2/24.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 77
source "$(dirname "$0")/lib/shim.sh"
shim_need
PEER=$INTEG_ROOT/tests/integ/lib/tstamp_peer.py

# A kernel sink on ADDR:PORT (tcp or udp) in the background.
kernel_sink() {
	local to=$1 label=$2 udp=${3:-}
	"$PY" "$PEER" sink --bind "$to" $udp >"$WORK/$label.out" 2>&1 &
	SHIM_PIDS+=("$!")
	shim_wait_line "$WORK/$label.out" "^listening on"
}

same() {
	local what=$1
	if ! diff -u "$WORK/k-$what.out" "$WORK/u-$what.out"; then
		shim_fail "$what: ustack's reports differ from the kernel's"
	fi
	grep -q "time ok 0\|without\|only \|none\|ok 0" "$WORK/u-$what.out" &&
		shim_fail "$what: a report is missing or its time is wrong"
	echo "ok: $what: $(wc -l <"$WORK/u-$what.out") lines as the kernel's"
}

# TCP.
kernel_sink "127.0.0.1:7200" ksink1
timeout 30 "$PY" "$PEER" tcp --to 127.0.0.1:7200 --writes 3 \
	>"$WORK/k-tcp.out" 2>&1 || shim_fail "the kernel's TCP client failed"
kernel_sink "$KERNEL_IP:7201" ksink2
shim_run u-tcp 30 "$PY" "$PEER" tcp --to "$KERNEL_IP:7201" --writes 3
cat "$WORK/u-tcp.out"
same tcp

# UDP.
kernel_sink "127.0.0.1:7202" ksink3 --udp
timeout 30 "$PY" "$PEER" udp --to 127.0.0.1:7202 --sends 3 \
	>"$WORK/k-udp.out" 2>&1 || shim_fail "the kernel's UDP client failed"
kernel_sink "$KERNEL_IP:7203" ksink4 --udp
shim_run u-udp 30 "$PY" "$PEER" udp --to "$KERNEL_IP:7203" --sends 3
cat "$WORK/u-udp.out"
same udp

# Receive timestamps on datagrams from the kernel.
send3() {
	"$PY" -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(3):
    s.sendto(b"z" * 50, (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.05)' "$1" "$2"
}
"$PY" "$PEER" udprx --bind 127.0.0.1:7204 --count 3 >"$WORK/k-udprx.out" 2>&1 &
KPID=$!
SHIM_PIDS+=("$KPID")
shim_wait_line "$WORK/k-udprx.out" "^listening on"
send3 127.0.0.1 7204
wait "$KPID" || shim_fail "the kernel's receiver failed"
shim_start u-udprx "$PY" "$PEER" udprx --bind "$USTACK_IP:7205" --count 3
shim_wait_line "$WORK/u-udprx.out" "^listening on"
send3 "$USTACK_IP" 7205
shim_wait_exit "$SHIM_PID" 30 "receiver under ustack"
sed -i 's/listening on .*/listening/' "$WORK/k-udprx.out" "$WORK/u-udprx.out"
cat "$WORK/u-udprx.out"
same udprx
integ_pass
