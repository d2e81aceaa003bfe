#!/bin/bash
# shim_multicast.sh - a program under ustack joins a multicast group and
# receives what the kernel sends to it over the TAP; what it sent before
# joining never reaches it. The capture must show ustack's IGMPv3 reports
# as tshark reads them (RFC 3376 §4.2): a join (Change To Exclude Mode)
# and a leave (Change To Include Mode) for the group, to 224.0.0.22 with
# TTL 1 and the Router Alert option; the leave twice (the Robustness
# Variable: its repeat comes within a second), the join at least once (its
# repeat may be cut short by the leave, which supersedes it).
#
# In a namespace of its own: tap0 with 10.70.0.1/24 on the kernel side,
# ustack at 10.70.0.2/24; the group 239.7.7.7, port 7100.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 70
source "$(dirname "$0")/lib/shim.sh"
shim_need
GROUP=239.7.7.7
GO=$WORK/go

# The member: bound first, joined only when told (the file $GO), then it
# prints the first datagram it gets, leaves, and waits 1.5 s for the
# leave's repeat before it exits.
shim_start member "$PY" -c '
import os, socket, sys, time
grp, me, go = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", 7100))
print("bound", flush=True)
while not os.path.exists(go):
    time.sleep(0.05)
mreq = socket.inet_aton(grp) + socket.inet_aton(me)
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
print("joined", flush=True)
s.settimeout(20)
data, peer = s.recvfrom(100)
print("got", data.decode(), "from", peer[0], flush=True)
s.setsockopt(socket.IPPROTO_IP, socket.IP_DROP_MEMBERSHIP, mreq)
time.sleep(1.5)
' "$GROUP" "$USTACK_IP" "$GO"
MEMBER=$SHIM_PID
shim_wait_line "$WORK/member.out" '^bound'

send() {
	"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[2]))
s.sendto(sys.argv[3].encode(), (sys.argv[1], 7100))
' "$GROUP" "$KERNEL_IP" "$1"
}

send early
sleep 0.5
touch "$GO"
shim_wait_line "$WORK/member.out" '^joined'
# A few times, in case the first meets the neighbour resolution of the
# report the join sends (a multicast frame needs none, but be patient).
for _ in 1 2 3; do
	send late
	grep -q '^got' "$WORK/member.out" && break
	sleep 0.3
done
shim_wait_exit "$MEMBER" 30 member
cat "$WORK/member.out"
grep -qx "got late from $KERNEL_IP" "$WORK/member.out" ||
	shim_fail "the member did not get the datagram sent after its join first"

F='igmp.type == 0x22 && ip.src == '$USTACK_IP' && ip.dst == 224.0.0.22 && ip.ttl == 1 && ip.opt.ra'
integ_expect_pcap "$F && igmp.record_type == 4 && igmp.maddr == $GROUP" -ge 1
integ_expect_pcap "$F && igmp.record_type == 3 && igmp.maddr == $GROUP" -eq 2
integ_expect_pcap "igmp && !($F)" -eq 0
integ_pass
