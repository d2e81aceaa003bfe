#!/bin/bash
# tcp_cycles.sh - 1,000 sequential connect/request/close cycles from the
# kernel to ustack's HTTP server, and nothing left behind.
#
# In a network namespace of its own: tap0 with 10.37.0.1/24 on the kernel
# side, `httpd` (ustack, ASan build) at 10.37.0.2/24 with a capture. A
# kernel client (lib/tcp_client.py) opens a connection, GETs a 10 KB file,
# checks status and SHA-256, and closes, 1,000 times one after another;
# every other time it asks "Connection: close", so that ustack closes
# first (and keeps TIME_WAIT), otherwise the kernel does.
#
# No leaked state:
#  - the server's resident memory, sampled after 100, 500 and 1,000
#    cycles, grows by less than $CYCLES_RSS_SLACK_KB (8 MiB) over the
#    second half (ASan's quarantine of freed memory is cut to 1 MiB for
#    this, or it alone would grow by up to 256 MiB);
#  - after SIGTERM: 1,000 passive opens, 1,000 requests answered 200; no
#    socket open, every connection left is in TIME_WAIT (at most 500, the
#    ones ustack closed first), no packet buffer but the TAP's spare one;
#  - the process exits 0 under LeakSanitizer.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
[ -x "/usr/bin/python3" ] || { echo "no /usr/bin/python3 for the client"; exit 77; }
integ_setup_tap 37
source "$(dirname "$0")/lib/tcp.sh"
tcp_need httpd
COUNT=${CYCLES_COUNT:-1000}
RSS_SLACK_KB=${CYCLES_RSS_SLACK_KB:-8192}
export ASAN_OPTIONS="$ASAN_OPTIONS:quarantine_size_mb=1"

mkdir -p "$WORK/www"
head -c 10000 /dev/urandom >"$WORK/www/small.bin"
SHA=$(tcp_sha "$WORK/www/small.bin")
tcp_start httpd httpd --root "$WORK/www" --port 80

cmd=("$PY" "$TCP_CLIENT" cycles --url "http://$USTACK_IP/small.bin"
	--count "$COUNT" --sha256 "$SHA" --pid "$TOOL_PID")
echo "\$ ${cmd[*]}"
start=$SECONDS
rc=0
timeout 240 "${cmd[@]}" >"$WORK/client.out" 2>"$WORK/client.log" || rc=$?
cat "$WORK/client.out"
[ $rc -ne 124 ] || tcp_fail "the client still running after 240 s"
[ $rc -eq 0 ] || tcp_fail "the client failed: $(cat "$WORK/client.log")"
echo "$COUNT cycles in $((SECONDS - start)) s"
read -r rss_tenth rss_half rss_end < <(sed -n 's/.*rss_kb \([0-9 ]*\)$/\1/p' \
	"$WORK/client.out")
[ -n "${rss_end:-}" ] || tcp_fail "the client reported no memory samples"
echo "server RSS: $rss_tenth kB after $((COUNT / 10)) cycles, $rss_half kB" \
	"after $((COUNT / 2)), $rss_end kB after $COUNT"
[ $((rss_end - rss_half)) -lt "$RSS_SLACK_KB" ] ||
	tcp_fail "server memory grew by $((rss_end - rss_half)) kB in the" \
		"second half of the cycles"

tcp_stop httpd
grep '^httpd: stopping' "$WORK/httpd.out"
tcp_expect "$WORK/httpd.out" tcp.passive_opens -eq "$COUNT"
grep -q " $COUNT requests (2xx $COUNT, 4xx 0, 5xx 0)" "$WORK/httpd.out" ||
	tcp_fail "not every request was answered 200"
tcp_expect_clean_state "$WORK/httpd.out"
tcp_expect "$WORK/httpd.out" state.tcp_time_wait -le $((COUNT / 2))
tcp_expect "$WORK/httpd.out" tcp.out_rsts -eq 0
integ_pass
