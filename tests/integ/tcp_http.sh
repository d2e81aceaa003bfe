#!/bin/bash
# tcp_http.sh - 200 MB each way over HTTP between the kernel and ustack.
#
# In a network namespace of its own: tap0 with 10.35.0.1/24 on the kernel
# side, ustack at 10.35.0.2/24, each ustack program with a capture.
#
#  (a) `httpd` (ustack) serves a directory; the kernel's curl fetches a
#      200 MiB file of random bytes: the SHA-256 must match. Then a few
#      HTTP checks: two URLs on one kept-alive connection, HEAD, 404, 405,
#      400 for a ".." path.
#  (b) `python3 -m http.server` (kernel) serves the same file; ustack's
#      `http_get` fetches it: the SHA-256 must match.
#
# Both ustack programs stop with no connection left but TIME_WAIT, no
# socket, no packet buffer (their state report), and exit 0. The ASan
# builds run by default (build/asan/bin, about 3 s per 200 MiB here);
# TOOLS_DIR=build selects the release builds. TCP_HTTP_MB sets the size.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 35
source "$(dirname "$0")/lib/tcp.sh"
tcp_need httpd http_get
MB=${TCP_HTTP_MB:-200}
# Hang guard only (TESTING.md: no test asserts a duration).
XFER_TIMEOUT=${TCP_HTTP_TIMEOUT:-120}

mkdir -p "$WORK/www"
tcp_make_file "$WORK/www/big.bin" "$MB"
echo hello >"$WORK/www/index.html"
SHA=$(tcp_sha "$WORK/www/big.bin")
echo "file: $MB MiB, sha256 $SHA"

# ---- (a) curl <- ustack httpd ------------------------------------------
tcp_start httpd httpd --root "$WORK/www" --port 80
start=$SECONDS
echo "\$ curl -o $WORK/curl.bin http://$USTACK_IP/big.bin"
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

# Keep-alive: two requests, one connection.
out=$(curl -sS -o /dev/null -o /dev/null -w '%{num_connects} ' \
	"http://$USTACK_IP/index.html" "http://$USTACK_IP/index.html")
[ "$out" = "1 0 " ] || tcp_fail "two URLs took connections '$out', not '1 0 '"
echo "ok: two requests on one kept-alive connection"
# HEAD: the length, no body.
out=$(curl -sS -I "http://$USTACK_IP/big.bin" | tr -d '\r')
grep -qx "Content-Length: $((MB * 1024 * 1024))" <<<"$out" ||
	tcp_fail "HEAD gave no right Content-Length: $out"
echo "ok: HEAD"
# expect_code CODE CURL-ARGS...: the status curl gets.
expect_code() {
	local code=$1 got
	shift
	got=$(curl -sS -o /dev/null -w '%{http_code}' "$@")
	[ "$got" = "$code" ] || tcp_fail "curl $*: status $got, not $code"
	echo "ok: $code for curl $*"
}
expect_code 404 "http://$USTACK_IP/nothere"
expect_code 405 -X POST -d x "http://$USTACK_IP/index.html"
expect_code 400 --path-as-is "http://$USTACK_IP/../etc/passwd"
tcp_stop httpd
tcp_expect "$WORK/httpd.out" tcp.passive_opens -ge 5
tcp_expect_clean_state "$WORK/httpd.out"

# ---- (b) ustack http_get <- kernel http.server -------------------------
tcp_kernel_httpd "$WORK/www" 8000
PCAP=$WORK/http_get.pcap
start=$SECONDS
cmd=("$TOOLS_DIR/http_get" --tap tap0 --addr "$USTACK_IP/24" --pcap "$PCAP"
	--counters -o "$WORK/http_get.bin" "http://$KERNEL_IP:8000/big.bin")
echo "\$ ${cmd[*]}"
ip neigh flush dev tap0
rc=0
timeout "$XFER_TIMEOUT" "${cmd[@]}" >"$WORK/http_get.out" \
	2>"$WORK/http_get.log" || rc=$?
grep '^http_get: ' "$WORK/http_get.out" || true
[ $rc -ne 124 ] || tcp_fail "http_get still running after ${XFER_TIMEOUT} s"
[ $rc -eq 0 ] || tcp_fail "http_get exited with status $rc"
[ "$(tcp_sha "$WORK/http_get.bin")" = "$SHA" ] ||
	tcp_fail "what http_get saved differs from the file"
echo "ok: sha256 matches (http_get <- kernel, $((SECONDS - start)) s)"
rm -f "$WORK/http_get.bin"
tcp_expect "$WORK/http_get.out" tcp.active_opens -eq 1
tcp_expect_clean_state "$WORK/http_get.out"
integ_pass
