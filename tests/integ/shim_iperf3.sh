#!/bin/bash
# shim_iperf3.sh - iperf3, unmodified, on ustack through the shim: the
# server under ustack with the kernel's client sending and receiving
# (-R), then the kernel's server with the client under ustack, both
# directions. Each run must end without error, having moved data, with
# the receiver counting what the sender sent (iperf3's own totals). The
# rates are printed, not checked (make bench measures).
#
# In a namespace of its own: tap0 with 10.64.0.1/24 on the kernel side,
# ustack at 10.64.0.2/24. SHIM_IPERF_SECONDS sets each run (default 3).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 64
source "$(dirname "$0")/lib/shim.sh"
shim_need iperf3
SHIM_BULK=1
SECS=${SHIM_IPERF_SECONDS:-3}

# check_json FILE WHAT: no error, bytes moved, sender and receiver agree.
check_json() {
	"$PY" - "$1" "$2" <<'EOP' || shim_fail "$2: see $1"
import json, sys
d = json.load(open(sys.argv[1]))
what = sys.argv[2]
if "error" in d:
    sys.exit(f"{what}: iperf3 error: {d['error']}")
s, r = d["end"]["sum_sent"], d["end"]["sum_received"]
if r["bytes"] <= 0:
    sys.exit(f"{what}: no data received")
# The receiver's total is what was sent, less at most what was still in
# flight when the sender's clock stopped.
if r["bytes"] > s["bytes"]:
    sys.exit(f"{what}: received {r['bytes']} > sent {s['bytes']}")
print(f"ok: {what}: {r['bytes']} bytes, {r['bits_per_second'] / 1e9:.2f} Gbit/s")
EOP
}

for dir in "" -R; do
	shim_start "server$dir" iperf3 --forceflush -s -1 -B "$USTACK_IP" -p 5201
	shim_wait_line "$WORK/server$dir.out" "Server listening"
	timeout $((SECS + 60)) iperf3 -c "$USTACK_IP" -p 5201 -t "$SECS" $dir -J \
		>"$WORK/client$dir.json" 2>&1 || shim_fail "kernel iperf3 client $dir failed"
	shim_wait_exit "$SHIM_PID" 30 "iperf3 server under ustack"
	check_json "$WORK/client$dir.json" "server under ustack, client ${dir:-sending}"
done

for dir in "" -R; do
	iperf3 -s -1 -B "$KERNEL_IP" -p 5202 >"$WORK/kserver$dir.out" 2>&1 &
	KPID=$!
	SHIM_PIDS+=("$KPID")
	kernel_wait_listen 5202
	shim_run "client$dir" $((SECS + 60)) iperf3 -c "$KERNEL_IP" -p 5202 \
		-t "$SECS" $dir -J
	wait "$KPID" || shim_fail "kernel iperf3 server failed"
	check_json "$WORK/client$dir.out" "client under ustack ${dir:-sending}"
done
integ_pass
