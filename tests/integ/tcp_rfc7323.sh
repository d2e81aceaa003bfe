#!/bin/bash
# tcp_rfc7323.sh - RFC 7323 (window scaling, timestamps) against the
# kernel, both ways, with large transfers checked by SHA-256.
#
# In a network namespace of its own (tap0, 10.36.0.1/24 kernel side,
# ustack at 10.36.0.2/24; net.ipv4.tcp_timestamps and tcp_window_scaling
# on, their default on both):
#
#  (a) ustack's httpd serves a 200 MiB file. A kernel client
#      (lib/rfc7323_peer.py) reads 4 MiB of it and holds the connection:
#      its TCP_INFO must show timestamps and window scaling, and `ss -tin`
#      on the kernel side "wscale:S,R" with S = 10, the shift ustack offers
#      (tcp_rmem[2] of 32 MB, as Linux). Then the kernel's curl fetches the
#      whole file: the SHA-256 must match.
#  (b) ustack's http_get fetches the file from a kernel server that holds
#      the connection a moment before answering: its TCP_INFO and
#      `ss -tin` again (ustack opened this one). The SHA-256 must match.
#
# iproute2 6.1's ss prints "wscale:S,R" but not "ts" (nor "sack") with
# this kernel, even between two kernel sockets; the timestamps bit is
# therefore read from the kernel socket's own TCP_INFO.
# No durations are asserted (TESTING.md); timeouts only stop hangs.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 36
source "$(dirname "$0")/lib/tcp.sh"
tcp_need httpd http_get
MB=${TCP_RFC7323_MB:-200}
XFER_TIMEOUT=${TCP_RFC7323_TIMEOUT:-120}
PEER=$INTEG_ROOT/tests/integ/lib/rfc7323_peer.py

for k in tcp_timestamps tcp_window_scaling; do
	sysctl -q -w net.ipv4.$k=1
done
mkdir -p "$WORK/www"
tcp_make_file "$WORK/www/big.bin" "$MB"
SHA=$(tcp_sha "$WORK/www/big.bin")
echo "file: $MB MiB, sha256 $SHA"

# ss_line FILTER...: the kernel's view of the established connection
# matching FILTER (waits at most 10 s for it).
ss_line() {
	local out
	for _ in $(seq 100); do
		out=$(ss -tinH state established "$@" 2>/dev/null || true)
		if grep -q 'rto:' <<<"$out"; then
			echo "$out"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# expect_ss "SS OUTPUT" WHO: window scale negotiated, as ss -ti says.
expect_ss() {
	echo "ss -ti ($2): $(tr -s ' \t\n' ' ' <<<"$1")"
	grep -q 'wscale:[0-9]*,[0-9]*' <<<"$1" ||
		tcp_fail "$2: no 'wscale:' in ss -ti: $1"
	echo "ok: $2: ss -ti shows window scaling"
}

# expect_kinfo LOG WHO: the peer's TCP_INFO line has timestamps (1) and
# window scale (4) in tcpi_options.
expect_kinfo() {
	local line opts
	line=$(grep -m1 '^options=' "$1" || true)
	echo "TCP_INFO ($2): $line"
	opts=$(sed -n 's/^options=\([0-9]*\).*/\1/p' <<<"$line")
	[ -n "$opts" ] || tcp_fail "$2: no TCP_INFO line in $1"
	[ $((opts & 5)) -eq 5 ] ||
		tcp_fail "$2: tcpi_options $opts lacks timestamps or wscale"
	echo "ok: $2: TCP_INFO shows timestamps and window scaling"
}

# ---- (a) kernel client <- ustack httpd ----------------------------------
tcp_start httpd httpd --root "$WORK/www" --port 80
"$PY" "$PEER" client "$USTACK_IP" 80 $((4 << 20)) 2 >"$WORK/kclient.log" 2>&1 &
KCLIENT_PID=$!
for _ in $(seq 300); do
	grep -q holding "$WORK/kclient.log" && break
	kill -0 "$KCLIENT_PID" 2>/dev/null || break
	sleep 0.1
done
grep -q holding "$WORK/kclient.log" ||
	tcp_fail "the kernel client got no 4 MiB: $(cat "$WORK/kclient.log")"
out=$(ss_line dst "$USTACK_IP") || tcp_fail "ss -ti: no connection to $USTACK_IP"
wait "$KCLIENT_PID" || tcp_fail "the kernel client failed"
expect_kinfo "$WORK/kclient.log" "kernel client <- httpd"
expect_ss "$out" "kernel client <- httpd"
grep -q 'wscale:10,' <<<"$out" ||
	tcp_fail "the kernel does not scale by ustack's shift 10: $out"
echo "ok: the kernel's send shift is ustack's 10"

start=$SECONDS
rc=0
timeout "$XFER_TIMEOUT" curl -sS --fail -o "$WORK/curl.bin" \
	-w 'curl: %{http_code}, %{size_download} bytes in %{time_total} s\n' \
	"http://$USTACK_IP/big.bin" >"$WORK/curl.out" 2>"$WORK/curl.log" || rc=$?
cat "$WORK/curl.out"
[ $rc -ne 124 ] || tcp_fail "curl still running after ${XFER_TIMEOUT} s"
[ $rc -eq 0 ] || tcp_fail "curl exited with status $rc: $(cat "$WORK/curl.log")"
[ "$(tcp_sha "$WORK/curl.bin")" = "$SHA" ] ||
	tcp_fail "what curl received differs from the file"
echo "ok: sha256 matches (curl <- httpd, $((SECONDS - start)) s)"
rm -f "$WORK/curl.bin"
tcp_stop httpd
tcp_expect_clean_state "$WORK/httpd.out"

# ---- (b) ustack http_get <- kernel server --------------------------------
"$PY" "$PEER" server "$KERNEL_IP" 8001 "$WORK/www/big.bin" 2 \
	>"$WORK/kserver.log" 2>&1 &
KHTTPD_PID=$!
for _ in $(seq 100); do
	grep -q listening "$WORK/kserver.log" && break
	sleep 0.1
done
ip neigh flush dev tap0
"$TOOLS_DIR/http_get" --tap tap0 --addr "$USTACK_IP/24" \
	--pcap "$WORK/http_get.pcap" --counters -o "$WORK/http_get.bin" \
	"http://$KERNEL_IP:8001/big.bin" >"$WORK/http_get.out" \
	2>"$WORK/http_get.log" &
GET_PID=$!
out=$(ss_line src "$KERNEL_IP:8001") || {
	kill "$GET_PID" 2>/dev/null || true
	tcp_fail "ss -ti: no connection on $KERNEL_IP:8001"
}
expect_ss "$out" "http_get -> kernel"
rc=0
# (A hang guard for the transfer: http_get has its own --timeout too.)
for _ in $(seq $((XFER_TIMEOUT * 10))); do
	kill -0 "$GET_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$GET_PID" 2>/dev/null && {
	kill "$GET_PID"
	tcp_fail "http_get still running after ${XFER_TIMEOUT} s"
}
wait "$GET_PID" || rc=$?
grep '^http_get: ' "$WORK/http_get.out" || true
[ $rc -eq 0 ] || tcp_fail "http_get exited with status $rc"
expect_kinfo "$WORK/kserver.log" "http_get -> kernel"
[ "$(tcp_sha "$WORK/http_get.bin")" = "$SHA" ] ||
	tcp_fail "what http_get saved differs from the file"
echo "ok: sha256 matches (http_get <- kernel)"
rm -f "$WORK/http_get.bin"
tcp_expect_clean_state "$WORK/http_get.out"
wait "$KHTTPD_PID" || true
KHTTPD_PID=
integ_pass
