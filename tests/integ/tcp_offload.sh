#!/bin/bash
# tcp_offload.sh - bulk TCP both ways with the TAP's offloads on (TSO out,
# large packets and unfinished checksums in) and off (--no-offload).
#
# In a network namespace of its own: tap0 with 10.41.0.1/24 on the kernel
# side, ustack (ASan builds of httpd and http_get) at 10.41.0.2/24, and
# dumpcap (tshark's capture engine; tcpdump cannot drop its privileges in
# a user namespace) on the kernel's side of tap0. For each mode: curl fetches a
# 20 MiB file of random bytes from ustack's httpd, and http_get fetches it
# from the kernel's python http.server; both copies must have the file's
# SHA-256. With offloads on, the kernel must have taken frames longer than
# the 1500-byte MTU from ustack (TSO packets it accepted and cut itself)
# and sent such frames to it, and ustack's counters must show them
# (dev.tx_gso, dev.rx_gso); with them off, no frame on the link may be
# longer than the MTU allows, and the counters must stay at 0.
# TCP_OFFLOAD_MB sets the size.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
command -v dumpcap >/dev/null || {
	echo "dumpcap is not installed (it comes with tshark, which scripts/install-deps.sh installs)"
	exit 77
}
integ_setup_tap 41
source "$(dirname "$0")/lib/tcp.sh"
tcp_need httpd http_get
MB=${TCP_OFFLOAD_MB:-20}
XFER_TIMEOUT=${TCP_OFFLOAD_TIMEOUT:-120}
MAX_FRAME=1514   # Ethernet header + the 1500-byte MTU
DUMP_PID=

offload_cleanup() {
	tcp_cleanup
	if [ -n "$DUMP_PID" ]; then
		kill "$DUMP_PID" 2>/dev/null || true
		wait "$DUMP_PID" 2>/dev/null || true
	fi
}
trap offload_cleanup EXIT

mkdir -p "$WORK/www"
tcp_make_file "$WORK/www/big.bin" "$MB"
SHA=$(tcp_sha "$WORK/www/big.bin")
echo "file: $MB MiB, sha256 $SHA"
tcp_kernel_httpd "$WORK/www" 8000

# dump_start FILE / dump_stop: a capture on the kernel's side of tap0
# (headers only), started and flushed around one mode's transfers.
dump_start() {
	dumpcap -i tap0 -s 128 -f tcp -w "$1" >"$WORK/dumpcap.log" 2>&1 &
	DUMP_PID=$!
	for _ in $(seq 100); do
		grep -q '^Capturing on' "$WORK/dumpcap.log" && return 0
		sleep 0.1
	done
	tcp_fail "dumpcap did not start: $(cat "$WORK/dumpcap.log")"
}

dump_stop() {
	sleep 0.5
	kill -INT "$DUMP_PID"
	wait "$DUMP_PID" || true
	DUMP_PID=
}

# dump_count FILE FILTER: frames of the kernel-side capture matching a
# display filter.
dump_count() {
	tshark -r "$1" -Y "$2" 2>/dev/null | wc -l
}

# transfer LABEL [USTACK OPTIONS]: both transfers, checked by SHA-256.
transfer() {
	local label=$1 rc=0
	shift
	tcp_start "httpd$label" httpd --root "$WORK/www" --port 80 "$@"
	timeout "$XFER_TIMEOUT" curl -sS --fail -o "$WORK/curl.bin" \
		"http://$USTACK_IP/big.bin" 2>"$WORK/curl.log" || rc=$?
	[ $rc -eq 0 ] || tcp_fail "curl exited with status $rc: $(cat "$WORK/curl.log")"
	[ "$(tcp_sha "$WORK/curl.bin")" = "$SHA" ] ||
		tcp_fail "offloads ${label#-}: what curl received differs from the file"
	echo "ok: offloads ${label#-}: sha256 matches (curl <- ustack's httpd)"
	rm -f "$WORK/curl.bin"
	tcp_stop "httpd$label"

	ip neigh flush dev tap0
	PCAP=$WORK/get$label.pcap
	timeout "$XFER_TIMEOUT" "$TOOLS_DIR/http_get" --tap tap0 \
		--addr "$USTACK_IP/24" --pcap "$PCAP" --counters "$@" \
		-o "$WORK/get.bin" "http://$KERNEL_IP:8000/big.bin" \
		>"$WORK/get$label.out" 2>"$WORK/get$label.log" || rc=$?
	[ $rc -eq 0 ] || tcp_fail "http_get exited with status $rc"
	[ "$(tcp_sha "$WORK/get.bin")" = "$SHA" ] ||
		tcp_fail "offloads ${label#-}: what http_get saved differs from the file"
	echo "ok: offloads ${label#-}: sha256 matches (http_get <- the kernel)"
	rm -f "$WORK/get.bin"
	tcp_expect_clean_state "$WORK/get$label.out"
}

dump_start "$WORK/kernel-on.pcap"
transfer -on
dump_stop
tcp_expect "$WORK/httpd-on.out" dev.tx_gso -ge 1
tcp_expect "$WORK/get-on.out" dev.rx_gso -ge 1
n=$(dump_count "$WORK/kernel-on.pcap" "ip.src == $USTACK_IP && frame.len > $MAX_FRAME")
[ "$n" -ge 1 ] || tcp_fail "offloads on: the kernel took no frame longer than $MAX_FRAME bytes from ustack"
echo "ok: offloads on: the kernel took $n TSO frames from ustack"
n=$(dump_count "$WORK/kernel-on.pcap" "ip.src == $KERNEL_IP && frame.len > $MAX_FRAME")
[ "$n" -ge 1 ] || tcp_fail "offloads on: the kernel sent ustack no frame longer than $MAX_FRAME bytes"
echo "ok: offloads on: the kernel sent ustack $n large frames"

dump_start "$WORK/kernel-off.pcap"
transfer -off --no-offload
dump_stop
tcp_expect "$WORK/httpd-off.out" dev.tx_gso -eq 0
tcp_expect "$WORK/get-off.out" dev.rx_gso -eq 0
n=$(dump_count "$WORK/kernel-off.pcap" "frame.len > $MAX_FRAME")
[ "$n" -eq 0 ] || tcp_fail "offloads off: $n frames on the link were longer than $MAX_FRAME bytes"
n=$(dump_count "$WORK/kernel-off.pcap" "ip.src == $USTACK_IP && tcp.len > 0")
[ "$n" -ge 1 ] || tcp_fail "offloads off: the capture holds no data from ustack"
echo "ok: offloads off: only wire-sized frames ($n data frames from ustack)"
integ_pass
