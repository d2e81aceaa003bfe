#!/bin/bash
# tcp_loss.sh - TCP transfers between the kernel and ustack complete
# intact over a TAP path that loses, duplicates and reorders frames.
#
# The kernel here has no netem, so the faults come from ustack's own fault
# layer on its TAP device (--tx-fault/--rx-fault, src/dev/tap_fault.c),
# seeded: $SEED (printed) replays the same dice, though not the kernel's
# timing. In a network namespace of its own: tap0 with 10.39.0.1/24 on the
# kernel side, ustack (ASan builds) at 10.39.0.2/24 with captures.
#
#  (a) 5 % loss each way under `httpd`: curl fetches $LOSS_MB (6) MiB.
#  (b) 5 % loss each way under `http_get`: it fetches the same file from
#      the kernel's python3 -m http.server.
#  (c) 2 % loss, 2 % duplication and 5 % reordering each way under
#      `tcp_echo`: socat sends $LOSS_MB MiB through it and back.
#
# In (a) and (c), where the kernel is the client, it gets a permanent
# neighbour entry for ustack (tcp_kernel_knows_ustack: lost ARP exchanges
# would fail its connect, not test TCP); in (b) ustack resolves the
# kernel through the losses itself.
#
# Each: the SHA-256 of what arrived matches, the fault layer did drop
# (and in (c) duplicate and reorder) frames, TCP retransmitted, and the
# program stops with nothing left open. Without SACK ustack recovers from
# loss with NewReno and timeouts, so these transfers are slow (about
# 1 MB/s); the timeouts are generous hang guards only.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
command -v socat >/dev/null || {
	echo "socat is not installed (scripts/install-deps.sh installs it)"
	exit 77
}
integ_setup_tap 39
source "$(dirname "$0")/lib/tcp.sh"
tcp_need httpd http_get tcp_echo
MB=${LOSS_MB:-6}
SEED=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
[ "$SEED" -gt 0 ] || SEED=1
XFER_TIMEOUT=${LOSS_TIMEOUT:-150}
LOSS=(--tx-fault loss=5 --rx-fault loss=5 --fault-seed "$SEED")
MIX=(--tx-fault "loss=2,dup=2,reorder=5" --rx-fault "loss=2,dup=2,reorder=5"
	--fault-seed "$SEED")
echo "fault seed $SEED (SEED=$SEED replays the dice), $MB MiB each"

mkdir -p "$WORK/www"
tcp_make_file "$WORK/www/f.bin" "$MB"
SHA=$(tcp_sha "$WORK/www/f.bin")

# check_faults FILE: the fault layer acted and TCP recovered.
check_faults() {
	tcp_expect "$1" drop.dev_fault_loss -gt 0
	tcp_expect "$1" tcp.retrans_segs -gt 0
}

# ---- (a) curl <- httpd, 5 % loss ---------------------------------------
tcp_start httpd httpd --root "$WORK/www" --port 80 "${LOSS[@]}"
tcp_kernel_knows_ustack httpd
start=$SECONDS
echo "\$ curl -o $WORK/a.bin http://$USTACK_IP/f.bin"
rc=0
timeout "$XFER_TIMEOUT" curl -sS --fail -o "$WORK/a.bin" \
	-w 'curl: %{http_code}, %{size_download} bytes in %{time_total} s\n' \
	"http://$USTACK_IP/f.bin" 2>"$WORK/curl.log" || rc=$?
[ $rc -ne 124 ] || tcp_fail "curl still running after ${XFER_TIMEOUT} s"
[ $rc -eq 0 ] || tcp_fail "curl exited with status $rc: $(cat "$WORK/curl.log")"
[ "$(tcp_sha "$WORK/a.bin")" = "$SHA" ] || tcp_fail "curl received other bytes"
echo "ok: (a) sha256 matches ($((SECONDS - start)) s)"
tcp_wait_kernel_closed
tcp_stop httpd
tcp_kernel_forgets_ustack
check_faults "$WORK/httpd.out"
tcp_expect_clean_state "$WORK/httpd.out"

# ---- (b) http_get <- kernel, 5 % loss ----------------------------------
tcp_kernel_httpd "$WORK/www" 8000
PCAP=$WORK/http_get.pcap
cmd=("$TOOLS_DIR/http_get" --tap tap0 --addr "$USTACK_IP/24" --pcap "$PCAP"
	"${LOSS[@]}" --counters -o "$WORK/b.bin" "http://$KERNEL_IP:8000/f.bin")
echo "\$ ${cmd[*]}"
ip neigh flush dev tap0
start=$SECONDS
rc=0
timeout "$XFER_TIMEOUT" "${cmd[@]}" >"$WORK/http_get.out" \
	2>"$WORK/http_get.log" || rc=$?
grep '^http_get: ' "$WORK/http_get.out" || true
[ $rc -ne 124 ] || tcp_fail "http_get still running after ${XFER_TIMEOUT} s"
[ $rc -eq 0 ] || tcp_fail "http_get exited with status $rc"
[ "$(tcp_sha "$WORK/b.bin")" = "$SHA" ] || tcp_fail "http_get saved other bytes"
echo "ok: (b) sha256 matches ($((SECONDS - start)) s)"
tcp_expect "$WORK/http_get.out" drop.dev_fault_loss -gt 0
tcp_expect_clean_state "$WORK/http_get.out"

# ---- (c) socat <-> tcp_echo, loss + duplication + reordering -----------
tcp_start echo tcp_echo --port 7 "${MIX[@]}"
tcp_kernel_knows_ustack echo
cmd=(socat -b 65536 -t "$XFER_TIMEOUT" -T "$XFER_TIMEOUT"
	"OPEN:$WORK/www/f.bin!!CREATE:$WORK/c.bin" "TCP:$USTACK_IP:7")
echo "\$ ${cmd[*]}"
start=$SECONDS
rc=0
timeout "$XFER_TIMEOUT" "${cmd[@]}" 2>"$WORK/socat.log" || rc=$?
[ $rc -ne 124 ] || tcp_fail "socat still running after ${XFER_TIMEOUT} s"
[ $rc -eq 0 ] || tcp_fail "socat exited with status $rc: $(cat "$WORK/socat.log")"
[ "$(tcp_sha "$WORK/c.bin")" = "$SHA" ] || tcp_fail "the echo differs"
echo "ok: (c) sha256 matches ($((SECONDS - start)) s)"
tcp_wait_kernel_closed
tcp_stop echo
check_faults "$WORK/echo.out"
tcp_expect "$WORK/echo.out" dev.fault_duplicated -gt 0
tcp_expect "$WORK/echo.out" dev.fault_reordered -gt 0
tcp_expect_clean_state "$WORK/echo.out"
integ_pass
