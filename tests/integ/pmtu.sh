#!/bin/bash
# pmtu.sh - Path MTU Discovery (RFC 1191) with the kernel as the router
# that reports the smaller MTU, for TCP and for UDP.
#
# In a network namespace of its own: tap0 (10.44.0.1/24, MTU 1500) to
# ustack's httpd at 10.44.0.2/24 with 10.44.0.1 as its gateway; the
# namespace forwards to a second one through a veth pair whose near end
# has MTU 1200 (10.45.0.1/24; the far end, 10.45.0.2/24, keeps 1500, so
# that the client's SYN announces MSS 1460). curl there fetches a file from
# ustack. ustack's full-sized segments carry DF and do not fit the near
# link: the kernel drops them and answers with ICMP "fragmentation needed"
# (MTU 1200); ustack must lower its MSS to 1160 and send again, or the
# transfer never completes. Checked, with the TAP's offloads on and off:
# the copy's SHA-256, that ustack got such errors, and that segments of
# the new size from ustack reached the far end. TCP_PMTU_MB sets the size.
#
# UDP (tests/integ/lib/udp_pmtu.py under ustack through the shim, a sink
# in the far namespace): with IP_MTU_DISCOVER = DO and IP_RECVERR, a
# 1400-byte datagram brings the router's error to the error queue and
# IP_MTU to 1200; the next one fails with EMSGSIZE at once; under WANT
# ustack fragments it to the path's size. Checked here: what the sink got,
# and in ustack's capture that its fragments fit 1200 bytes.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
command -v tshark >/dev/null || {
	echo "tshark is not installed (scripts/install-deps.sh installs it)"
	exit 77
}
integ_setup_tap 44
source "$(dirname "$0")/lib/shim.sh"
shim_need
source "$(dirname "$0")/lib/tcp.sh"
tcp_need httpd
MB=${TCP_PMTU_MB:-5}
FAR_IP=10.45.0.2
FAR_PID=
DUMP_PID=
SINK_PID=

pmtu_cleanup() {
	tcp_cleanup
	local pid
	for pid in $DUMP_PID $SINK_PID $FAR_PID; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
trap pmtu_cleanup EXIT

# The far namespace: a process that holds it, and a veth pair into it.
unshare -n sleep 3600 &
FAR_PID=$!
sleep 0.2
far() { nsenter -t "$FAR_PID" -n "$@"; }
ip link add veth0 mtu 1200 type veth peer name veth1
ip link set veth1 netns "$FAR_PID"
ip addr add 10.45.0.1/24 dev veth0
ip link set veth0 up
far ip link set lo up
far ip link set veth1 mtu 1500
far ip addr add "$FAR_IP/24" dev veth1
far ip link set veth1 up
far ip route add 10.44.0.0/24 via 10.45.0.1
sysctl -qw net.ipv4.ip_forward=1

mkdir -p "$WORK/www"
tcp_make_file "$WORK/www/big.bin" "$MB"
SHA=$(tcp_sha "$WORK/www/big.bin")
echo "file: $MB MiB, sha256 $SHA"

# transfer LABEL [USTACK OPTIONS]: curl in the far namespace fetches the
# file from ustack's httpd, with a capture on the far end of the link.
transfer() {
	local label=$1 rc=0 n
	shift
	# (nsenter runs dumpcap in place: $! is dumpcap.)
	nsenter -t "$FAR_PID" -n dumpcap -i veth1 -s 128 -f tcp \
		-w "$WORK/far$label.pcap" \
		>"$WORK/dumpcap$label.log" 2>&1 &
	DUMP_PID=$!
	for _ in $(seq 100); do
		grep -q '^Capturing on' "$WORK/dumpcap$label.log" && break
		sleep 0.1
	done
	grep -q '^Capturing on' "$WORK/dumpcap$label.log" ||
		tcp_fail "dumpcap did not start: $(cat "$WORK/dumpcap$label.log")"
	tcp_start "httpd$label" httpd --root "$WORK/www" --port 80 \
		--gateway "$KERNEL_IP" "$@"
	far timeout 120 curl -sS --fail -o "$WORK/curl.bin" \
		"http://$USTACK_IP/big.bin" 2>"$WORK/curl.log" || rc=$?
	sleep 0.5
	kill -INT "$DUMP_PID"
	wait "$DUMP_PID" || true
	DUMP_PID=
	[ $rc -eq 0 ] || tcp_fail "$label: curl across the 1200-byte link exited with status $rc: $(cat "$WORK/curl.log")"
	[ "$(tcp_sha "$WORK/curl.bin")" = "$SHA" ] ||
		tcp_fail "$label: what curl received differs from the file"
	echo "ok: $label: sha256 matches (curl, behind a 1200-byte link, <- ustack's httpd)"
	rm -f "$WORK/curl.bin"
	tcp_stop "httpd$label"
	tcp_expect "$WORK/httpd$label.out" icmp.in_dest_unreachs -ge 1
	# The kernel cannot cut a segment that carries DF: those of the new
	# MSS (1160, less 12 bytes of timestamps on every segment) that
	# reached the far end are ustack's own. (The far end's GRO merges
	# some into larger packets: the capture shows those too.)
	n=$(tshark -r "$WORK/far$label.pcap" \
		-Y "ip.src == $USTACK_IP && tcp.len == 1148" 2>/dev/null | wc -l)
	[ "$n" -ge 1 ] || tcp_fail "$label: no 1148-byte segment from ustack reached the far end"
	echo "ok: $label: $n segments of 1148 bytes reached the far end"
}

command -v dumpcap >/dev/null || {
	echo "dumpcap is not installed (it comes with tshark)"
	exit 77
}
transfer offload
transfer no-offload --no-offload

# UDP: the sink in the far namespace, the client under ustack.
UDP_PY=$INTEG_ROOT/tests/integ/lib/udp_pmtu.py
nsenter -t "$FAR_PID" -n "$PY" "$UDP_PY" sink 9000 "$WORK/sink.txt" \
	>"$WORK/sink.out" 2>&1 &
SINK_PID=$!
shim_wait_line "$WORK/sink.out" "^listening"
# (A new instance: the kernel forgets the httpd's MAC.)
ip neigh flush dev tap0
SHIM_CMD=("$USTACK_RUN" run --tap tap0 --addr "$USTACK_IP/24" \
	--gateway "$KERNEL_IP" --pcap "$WORK/udp.pcap" --)
rc=0
timeout 60 "${SHIM_CMD[@]}" "$PY" "$UDP_PY" client "$FAR_IP" 9000 \
	"$KERNEL_IP" >"$WORK/udp.out" 2>"$WORK/udp.log" || rc=$?
cat "$WORK/udp.out"
[ $rc -eq 0 ] || tcp_fail "udp: the client exited with status $rc: $(cat "$WORK/udp.log")"
wait "$SINK_PID" || tcp_fail "udp: the sink failed: $(cat "$WORK/sink.out")"
SINK_PID=
# The first 1400 bytes (DF) were dropped by the router; the rest came.
got=$(tr '\n' ' ' <"$WORK/sink.txt")
[ "$got" = "1172 1400 3 " ] ||
	tcp_fail "udp: the sink got datagrams of $got bytes, not 1172 1400 3"
echo "ok: udp: the sink got 1172, 1400 (in fragments) and 3 bytes"
# ustack's own fragments fit the path: none longer than 1200 bytes.
n=$(tshark -r "$WORK/udp.pcap" \
	-Y "ip.src == $USTACK_IP && (ip.flags.mf == 1 || ip.frag_offset > 0)" \
	2>/dev/null | wc -l)
big=$(tshark -r "$WORK/udp.pcap" \
	-Y "ip.src == $USTACK_IP && (ip.flags.mf == 1 || ip.frag_offset > 0) && ip.len > 1200" \
	2>/dev/null | wc -l)
[ "$n" -ge 2 ] && [ "$big" -eq 0 ] ||
	tcp_fail "udp: ustack sent $n fragments, $big of them over 1200 bytes"
echo "ok: udp: ustack cut the datagram in $n fragments of at most 1200 bytes"
integ_pass
