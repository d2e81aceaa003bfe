#!/bin/bash
# shim_ping.sh - iputils ping, unmodified, on ustack through the LD_PRELOAD
# shim: its ICMP echo socket (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP),
# the "ping socket"; ustack has no raw sockets, so nothing else would do).
#
# In a namespace of its own: tap0 with 10.69.0.1/24 on the kernel side,
# ustack at 10.69.0.2/24, and the kernel forwarding, with an unreachable
# route to 10.170.0.0/24.
#
#   ping -4 -c 3 the kernel: 3 replies, 0% loss, at 56 and at 3000 bytes
#     (fragmented both ways); the capture holds the 3 requests from
#     ustack with one identifier, and the kernel's replies
#   ping to the unreachable network: the kernel's "host unreachable"
#     reaches ping as an error of its socket (IP_RECVERR, read with
#     MSG_ERRQUEUE: ping prints the sender and the type), no reply.
#   ping -t 1 through the kernel (routing 10.171.0.0/24 on): its "time to
#     live exceeded" the same way (ping sets IP_TTL and IP_MULTICAST_TTL,
#     and gives up if either fails).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 69
source "$(dirname "$0")/lib/shim.sh"
shim_need ping tshark

UNREACH=10.170.0.7
ip route add unreachable 10.170.0.0/24
BEYOND=10.171.0.7
ip route add 10.171.0.0/24 dev tap0
sysctl -qw net.ipv4.ip_forward=1

for size in 56 3000; do
	label=ping-$size
	shim_run "$label" 30 ping -4 -n -c 3 -i 0.2 -W 2 -s "$size" "$KERNEL_IP"
	out=$(cat "$WORK/$label.out")
	echo "ping -s $size: $(grep 'packets transmitted' <<<"$out")"
	grep -q '3 packets transmitted, 3 received, 0% packet loss' <<<"$out" ||
		shim_fail "ping -s $size: not 3 of 3 replies: $out"
	replies=$(grep -c "bytes from $KERNEL_IP: icmp_seq=[123] ttl=64" <<<"$out" || true)
	[ "$replies" -eq 3 ] || shim_fail "ping -s $size: $replies reply lines: $out"
	ids=$(tshark -r "$PCAP" -Y "icmp.type == 8 && ip.src == $USTACK_IP" \
		-T fields -e icmp.ident 2>/dev/null | sort -u)
	n=$(tshark -r "$PCAP" -Y "icmp.type == 8 && ip.src == $USTACK_IP" \
		2>/dev/null | wc -l)
	echo "ping -s $size: $n requests in the capture, identifier(s) $ids"
	[ "$n" -eq 3 ] || shim_fail "ping -s $size: $n requests captured"
	[ "$(wc -l <<<"$ids")" -eq 1 ] ||
		shim_fail "ping -s $size: requests with several identifiers: $ids"
	n=$(tshark -r "$PCAP" -Y "icmp.type == 0 && ip.src == $KERNEL_IP" \
		2>/dev/null | wc -l)
	[ "$n" -eq 3 ] || shim_fail "ping -s $size: $n replies captured"
done

# ping_error LABEL WHAT ICMP_TYPE PING_ARGS...: ping (under ustack, the
# kernel its gateway) gets no reply but the kernel's ICMP error of type
# ICMP_TYPE, which it prints as WHAT from the kernel's address.
ping_error() {
	local label=$1 what=$2 type=$3 rc=0 out n
	shift 3
	PCAP=$WORK/$label.pcap
	ip neigh flush dev tap0
	echo "\$ ustack run ... --gateway $KERNEL_IP -- ping $*"
	timeout 30 "$USTACK_RUN" run --tap tap0 --addr "$USTACK_IP/24" \
		--gateway "$KERNEL_IP" --pcap "$PCAP" -- \
		ping "$@" >"$WORK/$label.out" 2>"$WORK/$label.log" || rc=$?
	out=$(cat "$WORK/$label.out")
	[ $rc -ne 124 ] || shim_fail "$label: hang"
	grep -q "From $KERNEL_IP icmp_seq=1 $what" <<<"$out" ||
		shim_fail "$label: no '$what' from $KERNEL_IP: $out"
	echo "$label: $(grep "From $KERNEL_IP" <<<"$out")"
	grep -q '1 packets transmitted, 0 received, +1 errors' <<<"$out" ||
		shim_fail "$label: not counted as an error: $out"
	n=$(tshark -r "$PCAP" -Y "icmp.type == $type && ip.src == $KERNEL_IP" \
		2>/dev/null | wc -l)
	[ "$n" -eq 1 ] || shim_fail "$label: $n ICMP errors captured"
}

ping_error ping-unreach "Destination Host Unreachable" 3 -4 -n -c 1 -W 2 \
	"$UNREACH"
ping_error ping-ttl "Time to live exceeded" 11 -4 -n -c 1 -W 2 -t 1 \
	"$BEYOND"

integ_pass
