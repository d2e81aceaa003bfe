#!/bin/bash
# tcp_echo.sh - 100 MB through ustack's TCP echo server and back.
#
# In a network namespace of its own: tap0 with 10.36.0.1/24 on the kernel
# side, `tcp_echo` (ustack, ASan build) at 10.36.0.2/24 with a capture.
# The kernel's socat sends a 100 MiB file of random bytes to the echo
# server while it writes what comes back to another file, then shuts its
# side down; the server echoes everything and closes. The file that came
# back must have the same SHA-256, the server must count every byte, and
# it must stop with nothing left open. TCP_ECHO_MB sets the size.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
command -v socat >/dev/null || {
	echo "socat is not installed (scripts/install-deps.sh installs it)"
	exit 77
}
integ_setup_tap 36
source "$(dirname "$0")/lib/tcp.sh"
tcp_need tcp_echo
MB=${TCP_ECHO_MB:-100}
XFER_TIMEOUT=${TCP_ECHO_TIMEOUT:-120}

tcp_make_file "$WORK/in.bin" "$MB"
SHA=$(tcp_sha "$WORK/in.bin")
echo "file: $MB MiB, sha256 $SHA"
tcp_start echo tcp_echo --port 7

# -t: after its input ends, socat waits this long for the echo to finish.
cmd=(socat -b 65536 -t "$XFER_TIMEOUT" -T "$XFER_TIMEOUT"
	"OPEN:$WORK/in.bin!!CREATE:$WORK/out.bin" "TCP:$USTACK_IP:7")
echo "\$ ${cmd[*]}"
start=$SECONDS
rc=0
timeout "$XFER_TIMEOUT" "${cmd[@]}" 2>"$WORK/socat.log" || rc=$?
[ $rc -ne 124 ] || tcp_fail "socat still running after ${XFER_TIMEOUT} s"
[ $rc -eq 0 ] || tcp_fail "socat exited with status $rc: $(cat "$WORK/socat.log")"
size=$(stat -c %s "$WORK/out.bin")
echo "socat: $size bytes came back in $((SECONDS - start)) s"
[ "$(tcp_sha "$WORK/out.bin")" = "$SHA" ] ||
	tcp_fail "the echo differs from what was sent ($size bytes back)"
echo "ok: sha256 matches"
rm -f "$WORK/out.bin"
tcp_stop echo
grep '^tcp_echo: stopping' "$WORK/echo.out"
tcp_expect "$WORK/echo.out" tcp.passive_opens -eq 1
grep -q ", $((MB * 1024 * 1024)) bytes echoed, 0 errors" "$WORK/echo.out" ||
	tcp_fail "the server did not count every byte, without errors"
tcp_expect_clean_state "$WORK/echo.out"
integ_pass
