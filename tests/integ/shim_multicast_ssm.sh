#!/bin/bash
# shim_multicast_ssm.sh - source-specific multicast (RFC 3678 §4.1.2,
# RFC 4607): a program under ustack joins 232.7.7.7 for one source with
# IP_ADD_SOURCE_MEMBERSHIP and receives that source's datagrams and not
# another's, both sent by the kernel over the TAP from its two addresses.
# The capture must show ustack's IGMPv3 reports as tshark reads them
# (RFC 3376 §4.2.12, §5.1): the join as ALLOW_NEW_SOURCES (5) with that
# source, the drop of the last source as BLOCK_OLD_SOURCES (6) with it,
# told and repeated once (Robustness Variable 2, the repeat within a
# second), and no record naming the other source.
#
# In a namespace of its own: tap0 with 10.74.0.1/24 and 10.74.0.3/24 on
# the kernel side, ustack at 10.74.0.2/24; the group 232.7.7.7, port 7400.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 74
source "$(dirname "$0")/lib/shim.sh"
shim_need tshark
GROUP=232.7.7.7
WANTED=$KERNEL_IP
OTHER=10.74.0.3
ip addr add "$OTHER/24" dev tap0
DONE=$WORK/done

# The member: joined for WANTED alone; it prints every datagram it gets
# until told to stop (the file $DONE), then drops the source (which
# leaves the group) and waits 1.5 s for the repeat of that report.
shim_start member "$PY" -c '
import os, socket, sys, time
grp, me, src, done = sys.argv[1:5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("", 7400))
mreq = socket.inet_aton(grp) + socket.inet_aton(me) + socket.inet_aton(src)
s.setsockopt(socket.IPPROTO_IP, 39, mreq)   # IP_ADD_SOURCE_MEMBERSHIP
print("joined", flush=True)
s.settimeout(0.2)
while not os.path.exists(done):
    try:
        data, peer = s.recvfrom(100)
        print("got", data.decode(), "from", peer[0], flush=True)
    except socket.timeout:
        pass
s.setsockopt(socket.IPPROTO_IP, 40, mreq)   # IP_DROP_SOURCE_MEMBERSHIP
time.sleep(1.5)
' "$GROUP" "$USTACK_IP" "$WANTED" "$DONE"
MEMBER=$SHIM_PID
shim_wait_line "$WORK/member.out" '^joined'

# send FROM TEXT: a datagram to the group from the kernel's address FROM.
send() {
	"$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[1]))
s.sendto(sys.argv[3].encode(), (sys.argv[2], 7400))
' "$1" "$GROUP" "$2"
}

for i in 1 2 3; do
	send "$OTHER" "other$i"
	send "$WANTED" "wanted$i"
	sleep 0.2
done
shim_wait_line "$WORK/member.out" '^got wanted3 '
touch "$DONE"
shim_wait_exit "$MEMBER" 30 member
cat "$WORK/member.out"
for i in 1 2 3; do
	grep -qx "got wanted$i from $WANTED" "$WORK/member.out" ||
		shim_fail "the member did not get wanted$i from $WANTED"
done
! grep -q '^got other' "$WORK/member.out" ||
	shim_fail "the member got a datagram from $OTHER, which it did not ask for"

F='igmp.type == 0x22 && ip.src == '$USTACK_IP' && ip.dst == 224.0.0.22 && ip.ttl == 1 && ip.opt.ra && igmp.maddr == '$GROUP
integ_expect_pcap "$F && igmp.record_type == 5 && igmp.saddr == $WANTED" -ge 1
integ_expect_pcap "$F && igmp.record_type == 6 && igmp.saddr == $WANTED" -eq 2
integ_expect_pcap "igmp.saddr == $OTHER" -eq 0
integ_pass
