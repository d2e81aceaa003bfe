#!/bin/bash
# shim_nc_socat.sh - nc (netcat-openbsd) and socat, unmodified, on ustack
# through the LD_PRELOAD shim, as servers and as clients, with the same
# programs on the kernel's sockets as peers. Every transfer must arrive
# with the file's SHA-256:
#
#   socat and nc under ustack as servers: each receives the file from
#     the kernel's, then sends it to the kernel's
#   socat and nc under ustack as clients: each sends the file to the
#     kernel's, then receives it from the kernel's
#
# In a namespace of its own: tap0 with 10.61.0.1/24 on the kernel side,
# ustack at 10.61.0.2/24. SHIM_NC_MB sets the size (default 50).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 61
source "$(dirname "$0")/lib/shim.sh"
shim_need nc socat
SHIM_BULK=1
MB=${SHIM_NC_MB:-50}
T=120

shim_make_file "$WORK/in.bin" "$MB"
SHA=$(shim_sha "$WORK/in.bin")
echo "file: $MB MiB, sha256 $SHA"

# expect_same FILE WHAT: FILE must be the input, byte for byte.
expect_same() {
	[ "$(shim_sha "$1")" = "$SHA" ] ||
		shim_fail "$2: $(stat -c %s "$1") bytes arrived, not the file"
	echo "ok: $2: sha256 matches"
	rm -f "$1"
}

# ---- socat ----
# (One-way transfers: an echo through a single-threaded relay with finite
# buffers can deadlock by design, both ends blocked in write().)
shim_start socat-server-rx socat -d -d -u TCP-LISTEN:5010,bind="$USTACK_IP" \
	"CREATE:$WORK/out.bin"
shim_wait_line "$WORK/socat-server-rx.log" "listening on"
timeout $T socat -u "OPEN:$WORK/in.bin" "TCP:$USTACK_IP:5010" ||
	shim_fail "kernel socat sending failed"
shim_wait_exit "$SHIM_PID" 30 "socat server receiving"
expect_same "$WORK/out.bin" "socat server under ustack, receiving"

shim_start socat-server-tx socat -d -d -u "OPEN:$WORK/in.bin" \
	TCP-LISTEN:5011,bind="$USTACK_IP"
shim_wait_line "$WORK/socat-server-tx.log" "listening on"
timeout $T socat -u "TCP:$USTACK_IP:5011" "CREATE:$WORK/out.bin" ||
	shim_fail "kernel socat receiving failed"
shim_wait_exit "$SHIM_PID" 30 "socat server sending"
expect_same "$WORK/out.bin" "socat server under ustack, sending"

socat -u TCP-LISTEN:5012,bind="$KERNEL_IP" "CREATE:$WORK/out.bin" &
KPID=$!
SHIM_PIDS+=("$KPID")
kernel_wait_listen 5012
shim_run socat-client-tx $T socat -u "OPEN:$WORK/in.bin" "TCP:$KERNEL_IP:5012"
wait "$KPID" || shim_fail "kernel socat server failed"
expect_same "$WORK/out.bin" "socat client under ustack, sending"

socat -u "OPEN:$WORK/in.bin" TCP-LISTEN:5013,bind="$KERNEL_IP" &
KPID=$!
SHIM_PIDS+=("$KPID")
kernel_wait_listen 5013
shim_run socat-client-rx $T socat -u "TCP:$KERNEL_IP:5013" "CREATE:$WORK/out.bin"
wait "$KPID" || shim_fail "kernel socat server failed"
expect_same "$WORK/out.bin" "socat client under ustack, receiving"

# ---- nc ----
shim_start nc-server-rx sh -c "exec nc -v -n -l $USTACK_IP 5000 >'$WORK/out.bin'"
shim_wait_line "$WORK/nc-server-rx.log" "Listening on"
timeout $T nc -N "$USTACK_IP" 5000 <"$WORK/in.bin" || shim_fail "kernel nc sending failed"
shim_wait_exit "$SHIM_PID" 30 "nc server receiving"
expect_same "$WORK/out.bin" "nc server under ustack, receiving"

shim_start nc-server-tx sh -c "exec nc -v -n -N -l $USTACK_IP 5001 <'$WORK/in.bin'"
shim_wait_line "$WORK/nc-server-tx.log" "Listening on"
timeout $T nc "$USTACK_IP" 5001 >"$WORK/out.bin" || shim_fail "kernel nc receiving failed"
shim_wait_exit "$SHIM_PID" 30 "nc server sending"
expect_same "$WORK/out.bin" "nc server under ustack, sending"

nc -l "$KERNEL_IP" 5002 >"$WORK/out.bin" &
KPID=$!
SHIM_PIDS+=("$KPID")
kernel_wait_listen 5002
shim_run nc-client-tx $T sh -c "exec nc -N $KERNEL_IP 5002 <'$WORK/in.bin'"
wait "$KPID" || shim_fail "kernel nc server failed"
expect_same "$WORK/out.bin" "nc client under ustack, sending"

nc -N -l "$KERNEL_IP" 5003 <"$WORK/in.bin" &
KPID=$!
SHIM_PIDS+=("$KPID")
kernel_wait_listen 5003
shim_run nc-client-rx $T sh -c "exec nc $KERNEL_IP 5003 >'$WORK/out.bin'"
wait "$KPID" || shim_fail "kernel nc server failed"
expect_same "$WORK/out.bin" "nc client under ustack, receiving"
integ_pass
