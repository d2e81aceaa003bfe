#!/bin/bash
# bench.sh [RESULTS.json] - ICMP echo, kernel -> ustack over a TAP device,
# next to kernel -> kernel over a veth pair, measured in the same run.
#
# This is the one figure this stage of ustack can measure honestly: the
# kernel's `ping -i 0` (one echo in flight, the next sent as soon as the
# reply is back) gives the round-trip time and the echo rate. The ustack
# path is kernel -> TAP -> ustack (user space) -> TAP -> kernel; the Linux
# path is kernel -> veth -> kernel (another namespace) and back, never
# leaving the kernel, so it is the floor that a user-space stack on a TAP
# device is compared with.
#
# Everything runs in namespaces this script creates (unshare -rn, and a
# second netns for the veth peer); they vanish when it exits. Bounded:
# each ping has a deadline (8 s), so a run takes well under a minute even
# when nothing answers. Results: a table on stdout and JSON in
# bench/results.json or $1.
set -euo pipefail

CALLER_PWD=$PWD
cd "$(dirname "$0")/.."
ROOT=$PWD
COUNT=${BENCH_COUNT:-10000}
USTACK_BIN=${USTACK_BIN:-build/ustack}
case $USTACK_BIN in /*) ;; *) USTACK_BIN=$ROOT/$USTACK_BIN ;; esac

if [ -z "${BENCH_IN_NETNS:-}" ]; then
	OUT=$ROOT/bench/results.json
	if [ -n "${1:-}" ]; then
		case $1 in /*) OUT=$1 ;; *) OUT=$CALLER_PWD/$1 ;; esac
	fi
	mkdir -p "$(dirname "$OUT")"
	[ -x "$USTACK_BIN" ] || { echo "bench: build first (make)" >&2; exit 1; }
	flags=-rn
	# Without user namespaces, root can still make network namespaces.
	unshare -rn true 2>/dev/null || flags=-n
	BENCH_IN_NETNS=1 BENCH_OUT=$OUT USTACK_BIN=$USTACK_BIN \
		exec unshare $flags bash "$0"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ustack-bench.XXXXXX")
USTACK_PID='' PEER_PID=''
cleanup() {
	local pid
	for pid in $USTACK_PID $PEER_PID; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link set lo up

# ustack on a TAP device: kernel 10.88.0.1, ustack 10.88.0.2.
ip tuntap add tap0 mode tap
ip addr add 10.88.0.1/24 dev tap0
ip link set tap0 up
"$USTACK_BIN" up --tap tap0 --addr 10.88.0.2/24 >"$WORK/ustack.out" \
	2>"$WORK/ustack.log" &
USTACK_PID=$!

# The Linux peer: a second network namespace held by a sleeping process,
# reached over a veth pair: kernel 10.89.0.1, peer 10.89.0.2.
unshare -n sleep 120 &
PEER_PID=$!
in_peer() { nsenter -t "$PEER_PID" -n "$@"; }
ip link add veth0 type veth peer name veth1
for _ in $(seq 50); do
	ip link set veth1 netns "$PEER_PID" 2>/dev/null && break
	sleep 0.1
done
in_peer ip link set lo up
in_peer ip addr add 10.89.0.2/24 dev veth1
in_peer ip link set veth1 up
ip addr add 10.89.0.1/24 dev veth0
ip link set veth0 up

for _ in $(seq 100); do
	grep -q '^ustack: up' "$WORK/ustack.out" && break
	sleep 0.1
done
grep -q '^ustack: up' "$WORK/ustack.out" || {
	echo "bench: ustack did not start:" >&2
	cat "$WORK/ustack.log" >&2
	exit 1
}

# measure DEST SIZE: prints "rtt_avg_us rate_per_s lost"
measure() {
	local out
	# Warm up (ARP, caches), then the measured run.
	ping -n -c 50 -i 0 -q -W 1 -w 2 -s "$2" "$1" >/dev/null 2>&1 || true
	out=$(ping -n -c "$COUNT" -i 0 -q -W 1 -w 8 -s "$2" "$1" 2>&1) || true
	awk -v count="$COUNT" '
		/packets transmitted/ {
			for (i = 1; i <= NF; i++) {
				if ($(i + 1) ~ /^received/) rcvd = $i
				if ($i == "time") { t = $(i + 1); sub("ms", "", t) }
			}
		}
		/^rtt/ { split($4, r, "/"); avg = r[2] }
		END {
			if (t == "" || t == 0 || avg == "") { print "0 0 " count; exit }
			printf "%.1f %.0f %d\n", avg * 1000, rcvd / (t / 1000), count - rcvd
		}' <<<"$out"
}

echo "ICMP echo, kernel ping -i 0 (one in flight), $COUNT echoes each"
results=()
for size in 56 1472 8000; do
	read -r u_rtt u_rate u_lost < <(measure 10.88.0.2 "$size")
	read -r l_rtt l_rate l_lost < <(measure 10.89.0.2 "$size")
	results+=("$size $u_rtt $u_rate $u_lost $l_rtt $l_rate $l_lost")
done

kill -TERM "$USTACK_PID"
wait "$USTACK_PID" || echo "bench: ustack exited with status $?" >&2
USTACK_PID=

printf '%s\n' "${results[@]}" | awk -v out="$BENCH_OUT" -v count="$COUNT" \
	-v kernel="$(uname -r)" -v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" '
function ratio(a, b) { return b > 0 ? sprintf("%.2f", a / b) : "null" }
function row(name, unit, u, l, better) {
	printf "%-34s %12s %12s %8s\n", name " (" unit ")", u, l, ratio(u, l)
	json = json sprintf("%s    {\"name\": \"%s\", \"unit\": \"%s\", " \
		"\"better\": \"%s\", \"ustack\": %s, \"linux\": %s, " \
		"\"ratio\": %s}", n++ ? ",\n" : "", name, unit, better, u, l,
		ratio(u, l))
}
BEGIN {
	printf "%-34s %12s %12s %8s\n", "", "ustack", "Linux", "ratio"
}
{
	size = $1
	frag = size + 28 > 1500 ? ", fragmented" : ""
	row("echo " size " B rtt avg" frag, "us", $2, $5, "lower")
	row("echo " size " B rate" frag, "1/s", $3, $6, "higher")
	if ($4 + $7 > 0)
		printf "  (lost: ustack %d, Linux %d)\n", $4, $7
	lost = lost sprintf("%s\"%s\": {\"ustack\": %d, \"linux\": %d}",
		lost == "" ? "" : ", ", size, $4, $7)
}
END {
	print "ratio = ustack / Linux. ustack: kernel -> TAP -> ustack;" \
		" Linux: kernel -> veth -> kernel."
	printf "{\n  \"benchmark\": \"icmp_echo\",\n  \"date\": \"%s\",\n" \
		"  \"kernel\": \"%s\",\n  \"count\": %d,\n" \
		"  \"method\": \"ping -i 0 -q -c %d (one echo in flight) from the" \
		" kernel; ustack over a TAP device vs Linux over a veth pair to" \
		" another namespace, same run\",\n  \"lost\": {%s},\n" \
		"  \"results\": [\n%s\n  ]\n}\n", date, kernel, count, count,
		lost, json > out
	print "results written to " out
}'
