#!/bin/bash
# shim_curl.sh - curl, unmodified, on ustack: it downloads a file from the
# kernel's `python3 -m http.server` through the LD_PRELOAD shim
# (`ustack run`), and the copy must have the file's SHA-256. Then once more
# with `--interface if!tap0` (curl's SO_BINDTODEVICE), and with `if!lo`,
# whose connection must fail: the socket sends only out of lo.
#
# In a namespace of its own: tap0 with 10.60.0.1/24 on the kernel side,
# curl's ustack instance at 10.60.0.2/24. SHIM_CURL_MB sets the size
# (default 100).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 60
source "$(dirname "$0")/lib/shim.sh"
shim_need curl
SHIM_BULK=1
MB=${SHIM_CURL_MB:-100}

mkdir "$WORK/www"
shim_make_file "$WORK/www/f.bin" "$MB"
SHA=$(shim_sha "$WORK/www/f.bin")
echo "file: $MB MiB, sha256 $SHA"
"$PY" -m http.server --bind "$KERNEL_IP" --directory "$WORK/www" 8000 \
	>"$WORK/kernel-httpd.log" 2>&1 &
SHIM_PIDS+=($!)
kernel_wait_listen 8000

start=$SECONDS
shim_run curl 120 curl -sS --fail -o "$WORK/got.bin" \
	"http://$KERNEL_IP:8000/f.bin"
echo "curl: $(stat -c %s "$WORK/got.bin") bytes in $((SECONDS - start)) s"
[ "$(shim_sha "$WORK/got.bin")" = "$SHA" ] ||
	shim_fail "the download differs from the file"
echo "ok: sha256 matches"

shim_run curl-if 60 curl -sS --fail --interface 'if!tap0' \
	-o "$WORK/got-if.bin" "http://$KERNEL_IP:8000/f.bin"
[ "$(shim_sha "$WORK/got-if.bin")" = "$SHA" ] ||
	shim_fail "the download bound to tap0 differs from the file"
echo "ok: bound to tap0 (SO_BINDTODEVICE), sha256 matches"
shim_cmd curl-lo
if "${SHIM_CMD[@]}" curl -sS --fail --connect-timeout 2 \
	--interface 'if!lo' -o /dev/null "http://$KERNEL_IP:8000/f.bin" \
	>"$WORK/curl-lo.out" 2>&1; then
	shim_fail "curl bound to lo reached $KERNEL_IP"
fi
echo "ok: bound to lo, no connection ($(tail -1 "$WORK/curl-lo.out"))"
integ_pass
