#!/bin/bash
# udp_echo.sh - the kernel and ustack exchange UDP datagrams through the
# echo tools, every byte checked.
#
# In a network namespace of its own: tap0 with 10.34.0.1/24 on the kernel
# side, ustack at 10.34.0.2/24, each ustack run with a capture.
#
#  (a) `udp_echo server` (ustack) echoes; a kernel client
#      (lib/udp_peer.py) sends $UDP_ECHO_COUNT (10,000) datagrams of random
#      sizes 1..8000 bytes one at a time and compares each echo byte for
#      byte. Sizes above 1472 bytes are fragmented both ways.
#  (b) `udp_echo client` (ustack) does the same against a kernel UDP echo
#      server (lib/udp_peer.py).
#
# Both must end with every datagram echoed intact: no mismatch ever, and at
# most $UDP_ECHO_MAX_LOST (2) datagrams unanswered after retries (the TAP
# path does not lose in practice). Resends are reported, not failures: the
# kernel now and then leaves the ARP request that ustack's client sends a
# millisecond after attaching unanswered, so the first datagram waits for
# the second request, a second later, and is resent once. The counters of
# the ustack side must show the fragmentation and reassembly, and no
# checksum error. SEED=n replays the sizes and bytes of a run (the seed is
# printed). Each side's capture and output stay in the work directory when
# the test fails.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
PY=/usr/bin/python3
PEER=$(dirname "$0")/lib/udp_peer.py
UDP_ECHO_BIN=${UDP_ECHO_BIN:-$(dirname "$USTACK_BIN")/udp_echo}
COUNT=${UDP_ECHO_COUNT:-10000}
MAX_LOST=${UDP_ECHO_MAX_LOST:-2}
SEED=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
PORT=7007
# Hang guards only (TESTING.md: no test asserts a duration).
PHASE_TIMEOUT=${UDP_ECHO_PHASE_TIMEOUT:-120}

[ -x "$UDP_ECHO_BIN" ] || {
	echo "FAIL: $UDP_ECHO_BIN not built (run 'make test-build')"
	exit 1
}
[ -x "$PY" ] || { echo "no $PY for the kernel-side peer"; exit 77; }
integ_setup_tap 34
PEER_PID=
# shellcheck disable=SC2317  # (run by the EXIT trap)
udp_cleanup() {
	integ_cleanup
	[ -z "$PEER_PID" ] || kill -KILL "$PEER_PID" 2>/dev/null || true
}
trap udp_cleanup EXIT
echo "seed $SEED, $COUNT datagrams of 1..8000 bytes each way"

# stop_pid PID: SIGTERM (a ustack program then closes its capture and
# prints its counters), SIGKILL after 10 s.
stop_pid() {
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	for _ in $(seq 100); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# udp_fail MESSAGE: say what failed, stop what still runs, and name every
# file kept (the captures of each ustack run and every program's output).
udp_fail() {
	echo "FAIL: $*"
	stop_pid "$USTACK_PID"
	stop_pid "$PEER_PID"
	USTACK_PID='' PEER_PID=''
	echo "evidence kept in $WORK:"
	find "$WORK" -maxdepth 1 -type f -printf '  %p (%s bytes)\n' | sort
	for f in "$WORK"/*.log "$WORK"/*.out; do
		[ -s "$f" ] || continue
		echo "--- last lines of $f:"
		tail -n 15 "$f"
	done
	exit 1
}

# wait_line FILE PATTERN PID WHAT: wait (at most 20 s) for a ready line.
wait_line() {
	for _ in $(seq 200); do
		grep -q "$2" "$1" && return 0
		kill -0 "$3" 2>/dev/null || udp_fail "$4 exited before it was up"
		sleep 0.1
	done
	udp_fail "$4 printed no ready line within 20 s"
}

# counter FILE NAME: a counter's value from a ustack counter listing.
counter() {
	awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$1"
}

# expect_counter FILE NAME OP VALUE (state.skb_live, the packet buffers
# left at exit, may be 1: the TAP device's spare receive buffer)
expect_counter() {
	local v
	v=$(counter "$1" "$2")
	test "$v" "$3" "$4" ||
		udp_fail "$(basename "$1"): counter $2 is $v, expected $3 $4"
	echo "ok: $2 = $v"
}

# check_summary FILE WHO: the summary line shows no mismatch and at most
# MAX_LOST losses (the program's exit status already said so; this reads
# the numbers for the log).
check_summary() {
	local line sent echoed bad lost
	line=$(grep -E '^[a-z_]+: sent [0-9]+, echoed' "$1" || true)
	[ -n "$line" ] || udp_fail "$2 printed no summary line"
	echo "$2: ${line#*: }"
	grep -E '^[a-z_]+: resent ' "$1" | sed "s/^[a-z_]*: /$2: /" || true
	read -r sent echoed bad lost < <(tr -c '0-9\n' ' ' <<<"${line#*: }")
	[ "$sent" -eq "$COUNT" ] || udp_fail "$2 sent $sent of $COUNT datagrams"
	[ "$bad" -eq 0 ] || udp_fail "$2: $bad echoes did not match what was sent"
	[ "$lost" -le "$MAX_LOST" ] || udp_fail "$2: $lost datagrams lost"
	[ $((echoed + lost)) -eq "$COUNT" ] || udp_fail "$2: counts do not add up"
}

# ---- (a) the kernel's client, ustack's echo server --------------------
start=$SECONDS
PCAP=$WORK/server.pcap
"$UDP_ECHO_BIN" server --tap tap0 --addr "$USTACK_IP/24" --port $PORT \
	--pcap "$PCAP" --seed "$SEED" >"$WORK/server.out" 2>"$WORK/server.log" &
USTACK_PID=$!
wait_line "$WORK/server.out" '^udp_echo: up on tap0 ' "$USTACK_PID" \
	"udp_echo server"
rc=0
timeout -k 10 "$PHASE_TIMEOUT" "$PY" "$PEER" client --to "$USTACK_IP:$PORT" \
	--count "$COUNT" --min-size 1 --max-size 8000 --seed "$SEED" \
	--max-lost "$MAX_LOST" >"$WORK/kernel-client.out" \
	2>"$WORK/kernel-client.log" || rc=$?
[ $rc -ne 124 ] ||
	udp_fail "kernel client still running after ${PHASE_TIMEOUT} s"
check_summary "$WORK/kernel-client.out" "kernel client -> ustack server"
[ $rc -eq 0 ] || udp_fail "kernel client exited with status $rc"
rc=0
kill -TERM "$USTACK_PID"
wait "$USTACK_PID" || rc=$?
USTACK_PID=
[ $rc -eq 0 ] || udp_fail "udp_echo server exited with status $rc after SIGTERM"
grep '^udp_echo: stopping on' "$WORK/server.out" ||
	udp_fail "udp_echo server printed no counts"
expect_counter "$WORK/server.out" udp.in_datagrams -ge "$COUNT"
expect_counter "$WORK/server.out" udp.out_datagrams -ge "$COUNT"
expect_counter "$WORK/server.out" ip.reasm_oks -ge $((COUNT / 2))
expect_counter "$WORK/server.out" ip.frag_oks -ge $((COUNT / 2))
expect_counter "$WORK/server.out" udp.csum_errors -eq 0
expect_counter "$WORK/server.out" udp.rcvbuf_errors -eq 0
expect_counter "$WORK/server.out" state.sockets -eq 0
expect_counter "$WORK/server.out" state.skb_live -le 1
echo "(a) took $((SECONDS - start)) s"

# ---- (b) ustack's client, the kernel's echo server --------------------
# The next ustack instance on tap0 has another MAC: forget the old one.
ip neigh flush dev tap0
start=$SECONDS
PCAP=$WORK/client.pcap
"$PY" "$PEER" server --bind "$KERNEL_IP:$PORT" >"$WORK/kernel-server.out" \
	2>"$WORK/kernel-server.log" &
PEER_PID=$!
wait_line "$WORK/kernel-server.out" '^udp_peer: server up' "$PEER_PID" \
	"kernel echo server"
rc=0
timeout -k 10 "$PHASE_TIMEOUT" "$UDP_ECHO_BIN" client --tap tap0 \
	--addr "$USTACK_IP/24" --to "$KERNEL_IP:$PORT" --count "$COUNT" \
	--min-size 1 --max-size 8000 --seed "$SEED" --max-lost "$MAX_LOST" \
	--pcap "$PCAP" >"$WORK/client.out" 2>"$WORK/client.log" || rc=$?
[ $rc -ne 124 ] ||
	udp_fail "udp_echo client still running after ${PHASE_TIMEOUT} s"
check_summary "$WORK/client.out" "ustack client -> kernel server"
[ $rc -eq 0 ] || udp_fail "udp_echo client exited with status $rc"
kill -TERM "$PEER_PID"
wait "$PEER_PID" || udp_fail "kernel echo server failed"
PEER_PID=
grep '^udp_peer: server:' "$WORK/kernel-server.out"
expect_counter "$WORK/client.out" udp.in_datagrams -ge $((COUNT - MAX_LOST))
expect_counter "$WORK/client.out" ip.reasm_oks -ge $((COUNT / 2))
expect_counter "$WORK/client.out" ip.frag_oks -ge $((COUNT / 2))
expect_counter "$WORK/client.out" udp.csum_errors -eq 0
expect_counter "$WORK/client.out" state.sockets -eq 0
expect_counter "$WORK/client.out" state.skb_live -le 1
echo "(b) took $((SECONDS - start)) s"
integ_pass
