#!/bin/bash
# bulk-measure.sh - one bulk TCP transfer each way between ustack and the
# kernel over a TAP device, with MB/s and (with STRACE=1) ustack's system
# calls per MB. A measurement aid for the hot path, not a test: it asserts
# nothing about speed. `make bench` is the benchmark.
#
#   scripts/bulk-measure.sh [BUILD_DIR] [-- EXTRA USTACK OPTIONS]
#
# BUILD_DIR (default build) holds httpd and http_get. MB (default 200)
# sets the size. Everything runs in a network namespace of its own.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${1:-$ROOT/build}
shift || true
[ "${1:-}" = -- ] && shift
EXTRA=("$@")
MB=${MB:-200}
if [ -z "${IN_NETNS:-}" ]; then
	IN_NETNS=1 exec unshare -rn bash "$0" "$BIN" -- "${EXTRA[@]}"
fi
W=$(mktemp -d /tmp/bulk.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
ip link set lo up
ip tuntap add tap0 mode tap
ip addr add 10.77.0.1/24 dev tap0
ip link set tap0 up
head -c $((MB << 20)) /dev/zero | tr '\0' 'x' >"$W/f.bin"

wrap=()
[ -n "${STRACE:-}" ] && wrap=(strace -f -c -o "$W/strace.txt")

wait_up() {
	for _ in $(seq 100); do
		grep -q "up on tap0" "$1" && return 0
		sleep 0.1
	done
	echo "no ready line in $1"; cat "$1"; exit 1
}

# CPU seconds (user + system) a process has used, from /proc.
cpu_of() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' \
		"/proc/$1/stat"
}

report() {
	local dir=$1 secs=$2 cpu=$3
	awk -v d="$dir" -v mb="$MB" -v s="$secs" -v c="$cpu" \
		'BEGIN { printf "%-16s %6d MB in %6.2f s: %8.1f MB/s, ustack CPU %.2f s (%.1f ms/MB)\n", d, mb, s, mb / s, c, c * 1000 / mb }'
	if [ -n "${STRACE:-}" ]; then
		awk -v mb="$MB" '$NF ~ /^(read|write|writev|readv|epoll_wait|epoll_pwait|futex|timerfd_settime|clock_gettime)$/ {
			printf "    %-16s %10d calls  %8.1f per MB\n", $NF, $4, $4 / mb }' "$W/strace.txt"
	fi
}

# ustack -> kernel: ustack's httpd serves the file to curl.
"${wrap[@]}" "$BIN/httpd" --tap tap0 --addr 10.77.0.2/24 --root "$W" \
	--port 80 "${EXTRA[@]}" >"$W/httpd.out" 2>&1 &
pids+=($!)
wait_up "$W/httpd.out"
t0=$(date +%s.%N)
curl -s -o /dev/null http://10.77.0.2/f.bin
t1=$(date +%s.%N)
# Under strace, the signal goes to httpd itself (strace would detach).
victim=${pids[-1]}
[ -n "${STRACE:-}" ] && victim=$(pgrep -P "$victim")
cpu=$(cpu_of "$victim")
kill -INT "$victim"; wait "${pids[-1]}" || true
report "ustack->kernel" "$(echo "$t1 - $t0" | bc)" "$cpu"

# kernel -> ustack: ustack's http_get fetches it from python's server.
ip neigh flush dev tap0
(cd "$W" && exec /usr/bin/python3 -m http.server 8080 --bind 10.77.0.1 \
	>/dev/null 2>&1) &
pids+=($!)
sleep 1
t0=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$W/get.time" "${wrap[@]}" "$BIN/http_get" \
	--tap tap0 --addr 10.77.0.2/24 \
	--output "$W/out.bin" "${EXTRA[@]}" http://10.77.0.1:8080/f.bin \
	>"$W/get.out" 2>&1 || { cat "$W/get.out"; exit 1; }
t1=$(date +%s.%N)
report "kernel->ustack" "$(echo "$t1 - $t0" | bc)" \
	"$(awk '{ print $1 + $2 }' "$W/get.time")"
