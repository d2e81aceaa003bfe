#!/bin/bash
# ping.sh - the Linux kernel pings ustack over a TAP device.
#
# In a network namespace of its own: tap0 with 10.31.0.1/24 on the kernel
# side, `ustack up` at 10.31.0.2/24 with a capture. The kernel's ping gets
# 100/100 replies at 56 and 1472 bytes (one full 1500-byte packet) and at
# 8000 bytes (fragmented both ways); arping gets replies; after SIGTERM
# ustack exits 0 with its counters, and tshark reads the capture cleanly
# and finds the echo replies, ARP replies and fragments in it.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 31
integ_start_ustack
echo "ustack up at $USTACK_IP, mac $USTACK_MAC"

# -w: ping waits for every reply until the deadline (without it, a reply
# later than two round trips after the last request counts as lost: a
# busy machine, not a lost packet).
for size in 56 1472 8000; do
	out=$(ping -n -c 100 -i 0.01 -W 2 -w 30 -s "$size" "$USTACK_IP" 2>&1) || true
	echo "ping -s $size: $(grep 'packets transmitted' <<<"$out")"
	grep -q '100 packets transmitted, 100 received' <<<"$out" ||
		integ_fail "ping -s $size did not get 100/100 replies: $out"
done

out=$(arping -c 3 -W 0.2 -I tap0 "$USTACK_IP" 2>&1) || true
replies=$(grep -c "bytes from $USTACK_MAC" <<<"$out" || true)
echo "arping: $replies replies"
[ "$replies" -eq 3 ] || integ_fail "arping got $replies of 3 replies: $out"

neigh=$(ip neigh show dev tap0 "$USTACK_IP")
echo "kernel neighbour entry: $neigh"
grep -q "lladdr $USTACK_MAC" <<<"$neigh" ||
	integ_fail "the kernel did not learn ustack's MAC: $neigh"

integ_stop_ustack
integ_expect_counter icmp.in_echos -eq 300
integ_expect_counter icmp.out_echo_reps -eq 300
integ_expect_counter ip.reasm_oks -ge 100
integ_expect_counter ip.frag_oks -ge 100
integ_expect_counter arp.out_replies -ge 3

integ_tshark >/dev/null
integ_expect_pcap "icmp.type == 0 && ip.src == $USTACK_IP" -ge 300
integ_expect_pcap "arp.opcode == 2 && arp.src.proto_ipv4 == $USTACK_IP" -ge 3
integ_expect_pcap "ip.src == $USTACK_IP && (ip.flags.mf == 1 || ip.frag_offset > 0)" -ge 600
integ_expect_pcap "ip.src == $KERNEL_IP && (ip.flags.mf == 1 || ip.frag_offset > 0)" -ge 600
integ_pass
