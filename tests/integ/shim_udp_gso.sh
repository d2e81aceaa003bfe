#!/bin/bash
# shim_udp_gso.sh - UDP segmentation offload (USO) between a program under
# ustack and the kernel, through the TAP (Linux's UDP_SEGMENT and UDP_GRO):
#
#  - the kernel sends 3000 bytes with UDP_SEGMENT 1200 to each of two
#    sockets of the program: the one with UDP_GRO reads them whole (one
#    read of 3000 bytes with a SOL_UDP/UDP_GRO control message of 1200),
#    the other as three datagrams of 1200, 1200 and 600;
#  - the program sends 2500 bytes with UDP_SEGMENT 1000 to a kernel
#    socket, which gets three datagrams of 1000, 1000 and 500.
# Every byte is checked. ustack's capture must show each of the three GSO
# packets as one frame where the kernel's tun has USO (Linux 6.2 and
# later), and as the datagrams before that.
#
# In a namespace of its own: tap0 with 10.71.0.1/24 on the kernel side,
# ustack at 10.71.0.2/24; ports 7200 (UDP_GRO), 7201, 7300 (kernel).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 71
source "$(dirname "$0")/lib/shim.sh"
shim_need

# The bytes of a payload of n, as both sides make them.
PAYLOAD='def payload(n): return bytes((i * 7 + i // 251) & 0xff for i in range(n))'

# The kernel's sink for what the program sends.
"$PY" -c "$PAYLOAD"'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 7300))
print("bound", flush=True)
s.settimeout(20)
p = payload(2500)
for k, n in enumerate((1000, 1000, 500)):
    d = s.recv(70000)
    assert d == p[k * 1000:k * 1000 + n], ("datagram", k, len(d))
    print("sink", len(d), flush=True)
' "$KERNEL_IP" >"$WORK/sink.out" 2>"$WORK/sink.log" &
SINK=$!
SHIM_PIDS+=("$SINK")
shim_wait_line "$WORK/sink.out" '^bound'

shim_start prog "$PY" -c "$PAYLOAD"'
import os, socket, sys
kernel = sys.argv[1]
SOL_UDP, UDP_SEGMENT, UDP_GRO = 17, 103, 104
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
a.setsockopt(SOL_UDP, UDP_GRO, 1)
a.bind(("", 7200))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
b.bind(("", 7201))
print("ready", flush=True)
p = payload(3000)
a.settimeout(20)
b.settimeout(20)
d, anc, flags, _ = a.recvmsg(70000, 64)
assert d == p and flags == 0, ("gro", len(d), flags)
assert anc == [(SOL_UDP, UDP_GRO, (1200).to_bytes(4, sys.byteorder))], anc
print("gro", len(d), "segment", 1200, flush=True)
for k, n in enumerate((1200, 1200, 600)):
    d, anc, flags, _ = b.recvmsg(70000, 64)
    assert d == p[k * 1200:k * 1200 + n] and not anc, ("plain", k, len(d), anc)
    print("plain", len(d), flush=True)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(SOL_UDP, UDP_SEGMENT, 1000)
assert s.sendto(payload(2500), (kernel, 7300)) == 2500
print("sent", flush=True)
' "$KERNEL_IP"
PROG=$SHIM_PID
shim_wait_line "$WORK/prog.out" '^ready'

"$PY" -c "$PAYLOAD"'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(17, 103, 1200)
for port in (7200, 7201):
    assert s.sendto(payload(3000), (sys.argv[1], port)) == 3000
' "$USTACK_IP"

shim_wait_exit "$PROG" 30 prog
cat "$WORK/prog.out"
wait "$SINK" || shim_fail "the kernel sink did not get the three datagrams"
cat "$WORK/sink.out"
grep -qx 'gro 3000 segment 1200' "$WORK/prog.out" ||
	shim_fail "the UDP_GRO socket did not read the 3000 bytes whole"
[ "$(grep -c '^plain' "$WORK/prog.out")" -eq 3 ] ||
	shim_fail "the plain socket did not get three datagrams"
[ "$(grep -c '^sink' "$WORK/sink.out")" -eq 3 ] ||
	shim_fail "the kernel did not get three datagrams"

# USO in the kernel's tun: Linux 6.2.
read -r MAJOR MINOR < <(uname -r | awk -F. '{ print $1, $2 + 0 }')
if [ "$MAJOR" -gt 6 ] || { [ "$MAJOR" -eq 6 ] && [ "$MINOR" -ge 2 ]; }; then
	WHOLE=1 CUT=0
else
	echo "this kernel ($(uname -r)) has no USO in tun: datagrams each way"
	WHOLE=0 CUT=3
fi
for port in 7200 7201; do
	integ_expect_pcap "udp.dstport == $port && ip.len == 3028" -eq "$WHOLE"
	integ_expect_pcap "udp.dstport == $port && ip.len < 3028" -eq "$CUT"
done
integ_expect_pcap "udp.dstport == 7300 && ip.len == 2528" -eq "$WHOLE"
integ_expect_pcap "udp.dstport == 7300 && ip.len < 2528" -eq "$CUT"
integ_pass
