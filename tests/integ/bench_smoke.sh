#!/bin/bash
# bench_smoke.sh - the benchmark programs of `make bench` run briefly and
# move correct data (no timing is checked: the figures are `make bench`'s).
#
# In a namespace of its own: tap0 with 10.46.0.1/24 on the kernel side,
# bench_tcp (ASan build) as ustack at 10.46.0.2/24, and for lwIP a second
# TAP, tap1, with 10.47.0.1/24 and bench_lwip at 10.47.0.2. Each pair runs
# for BENCH_SMOKE_SECONDS (1): bulk ustack->kernel and kernel->ustack (the
# sink checks every byte against the pattern and must count exactly what
# the source sent), 1-byte request/response and connect/request/response/
# close (server and client must count the same transactions), a stream
# with one byte sent wrong (the sink must stop there), bulk over the
# in-memory wire, 500 idle connections between two instances, and, when
# bench_lwip is built, lwIP's bulk and request/response.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 46
BT=${BENCH_TCP_BIN:-$INTEG_ROOT/build/asan/bench/bench_tcp}
BL=${BENCH_LWIP_BIN:-$INTEG_ROOT/build/bench/bench_lwip}
SECS=${BENCH_SMOKE_SECONDS:-1}
[ -x "$BT" ] || integ_fail "$BT not built (run 'make test-build')"
U=(--stack ustack --tap tap0 --addr "$USTACK_IP/24")

field() { sed -n "s/^result .*\b$2=\([^ ]*\).*/\1/p" "$1" | tail -1; }

# pair NAME SERVER... -- CLIENT...: both must end with ok=1.
pair() {
	local name=$1 srv=() pid i
	shift
	while [ "$1" != -- ]; do srv+=("$1"); shift; done
	shift
	"${srv[@]}" >"$WORK/$name.srv" 2>&1 &
	pid=$!
	for i in $(seq 200); do
		grep -q '^ready' "$WORK/$name.srv" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	grep -q '^ready' "$WORK/$name.srv" ||
		integ_fail "$name: server not ready: $(cat "$WORK/$name.srv")"
	timeout 120 "$@" >"$WORK/$name.cli" 2>&1 ||
		integ_fail "$name: client failed: $(cat "$WORK/$name.cli")"
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		[ "$i" -eq 20 ] && kill -TERM "$pid"
		sleep 0.1
	done
	wait "$pid" ||
		integ_fail "$name: server failed: $(cat "$WORK/$name.srv")"
	for f in srv cli; do
		[ "$(field "$WORK/$name.$f" ok)" = 1 ] ||
			integ_fail "$name: $f result not ok: $(cat "$WORK/$name.$f")"
	done
}

# same NAME KEY: server and client agree on KEY, which is > 0.
same() {
	local s c
	s=$(field "$WORK/$1.srv" "$2")
	c=$(field "$WORK/$1.cli" "$2")
	[ "${s:-0}" -gt 0 ] && [ "$s" = "$c" ] ||
		integ_fail "$1: $2 differs: server $s, client $c"
	echo "ok: $1: $2 = $s on both ends"
}

pair tx "$BT" sink --port 5001 -- \
	"$BT" source "${U[@]}" --to "$KERNEL_IP" --port 5001 --seconds "$SECS"
same tx bytes
ip neigh flush dev tap0
pair rx "$BT" sink "${U[@]}" --port 5001 -- \
	"$BT" source --to "$USTACK_IP" --port 5001 --seconds "$SECS"
same rx bytes
ip neigh flush dev tap0
# make bench sets the kernel's congestion control per socket (BENCH_CC):
# reno moves checked data, and a name the kernel lacks stops the source.
pair rxcc env BENCH_CC=reno "$BT" sink "${U[@]}" --port 5007 -- \
	env BENCH_CC=reno "$BT" source --to "$USTACK_IP" --port 5007 --seconds "$SECS"
same rxcc bytes
if BENCH_CC=no-such-cc "$BT" source --to "$USTACK_IP" --port 5007 \
	--seconds "$SECS" >"$WORK/cc.cli" 2>&1 ||
	! grep -q 'TCP_CONGESTION no-such-cc: No such file or directory' "$WORK/cc.cli"; then
	integ_fail "BENCH_CC=no-such-cc was not refused: $(cat "$WORK/cc.cli")"
fi
echo "ok: BENCH_CC=no-such-cc is refused"
ip neigh flush dev tap0
# The sink's check is real: one wrong byte at 1 MB makes it fail.
"$BT" sink "${U[@]}" --port 5006 >"$WORK/bad.srv" 2>&1 &
bad_pid=$!
for _ in $(seq 200); do
	grep -q '^ready' "$WORK/bad.srv" && break
	sleep 0.05
done
timeout 60 "$BT" source --to "$USTACK_IP" --port 5006 --seconds "$SECS" \
	--corrupt-at 1048576 >"$WORK/bad.cli" 2>&1 || true
rc=0
wait "$bad_pid" || rc=$?
[ $rc -ne 0 ] && grep -q 'pattern mismatch at stream offset 1048576$' "$WORK/bad.srv" ||
	integ_fail "a corrupted byte went unnoticed: $(cat "$WORK/bad.srv")"
echo "ok: a byte sent wrong at offset 1048576 fails the sink's check there"
ip neigh flush dev tap0
pair rr "$BT" rr-server --port 5002 -- \
	"$BT" rr-client "${U[@]}" --to "$KERNEL_IP" --port 5002 --seconds "$SECS"
same rr count
ip neigh flush dev tap0
pair crr "$BT" crr-server --port 7000 -- \
	"$BT" crr-client "${U[@]}" --to "$KERNEL_IP" --port 7000 --seconds "$SECS"
same crr count

"$BT" wire-bulk --seconds "$SECS" >"$WORK/wire.out" 2>&1 ||
	integ_fail "wire-bulk failed: $(cat "$WORK/wire.out")"
[ "$(field "$WORK/wire.out" ok)" = 1 ] && [ "$(field "$WORK/wire.out" bytes)" -gt 0 ] ||
	integ_fail "wire-bulk moved nothing: $(cat "$WORK/wire.out")"
echo "ok: wire-bulk moved $(field "$WORK/wire.out" bytes) bytes, all checked"

"$BT" idle --stack ustack --conns 500 >"$WORK/idle.out" 2>&1 ||
	integ_fail "idle failed: $(cat "$WORK/idle.out")"
[ "$(field "$WORK/idle.out" count)" = 500 ] ||
	integ_fail "idle: not 500 connections: $(cat "$WORK/idle.out")"
grep -q '^memory stack=ustack conns=500 ' "$WORK/idle.out" ||
	integ_fail "idle: no memory line: $(cat "$WORK/idle.out")"
echo "ok: 500 idle connections (ASan's allocator hides the heap figure; make bench measures it)"

if [ -x "$BL" ]; then
	ip tuntap add tap1 mode tap
	ip addr add 10.47.0.1/24 dev tap1
	ip link set tap1 up
	L=(--tap tap1 --addr 10.47.0.2/24)
	pair ltx "$BT" sink --port 5003 -- \
		"$BL" source "${L[@]}" --to 10.47.0.1 --port 5003 --seconds "$SECS"
	same ltx bytes
	# Full-size frames reached lwIP through the bench's own netif.
	pair lrx "$BL" sink "${L[@]}" --port 5004 -- \
		"$BT" source --to 10.47.0.2 --port 5004 --seconds "$SECS"
	same lrx bytes
	grep -q '^lwip-netif .* rx_max=1514 rx_nomem=0 ' "$WORK/lrx.srv" ||
		integ_fail "lwIP did not receive full-size frames: $(cat "$WORK/lrx.srv")"
	pair lrr "$BT" rr-server --port 5005 -- \
		"$BL" rr-client "${L[@]}" --to 10.47.0.1 --port 5005 --seconds "$SECS"
	same lrr count
else
	echo "lwIP part skipped: $BL not built (make bench-build; liblwip-dev)"
fi
integ_pass
