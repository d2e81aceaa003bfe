#!/bin/bash
# demo.sh - ustack and the Linux kernel as peers, in a network namespace
# that this script creates (and that vanishes when it ends).
#
#  1. ustack answers the kernel's ping (briefly).
#  2. The seed's client-server pipeline over TCP, both ways: the kernel's
#     curl downloads a file from ustack's HTTP server (tools/httpd.c), and
#     ustack's HTTP client (tools/http_get.c) downloads it from the
#     kernel's `python3 -m http.server`; sha256sum checks both copies.
#
# Each command is printed before it runs ("$ ..."), so that a person can
# repeat it by hand after `unshare -rn`. The captures are kept.
set -euo pipefail

cd "$(dirname "$0")/.."
USTACK_BIN=${USTACK_BIN:-build/ustack}
DEMO_MB=${DEMO_MB:-32}

if [ -z "${DEMO_IN_NETNS:-}" ]; then
	[ -x "$USTACK_BIN" ] || { echo "demo: build first (make)" >&2; exit 1; }
	flags=-rn
	# Without user namespaces, root can still make a network namespace.
	unshare -rn true 2>/dev/null || flags=-n
	echo "# A private network namespace for the demo:"
	echo "\$ unshare $flags"
	DEMO_IN_NETNS=1 USTACK_BIN=$USTACK_BIN exec unshare $flags bash "$0"
fi

BIN=$(dirname "$USTACK_BIN")
for tool in httpd http_get; do
	[ -x "$BIN/$tool" ] || { echo "demo: $BIN/$tool not built (make)" >&2; exit 1; }
done
for cmd in curl sha256sum tshark; do
	command -v "$cmd" >/dev/null ||
		{ echo "demo: $cmd missing (scripts/install-deps.sh)" >&2; exit 1; }
done
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ustack-demo.XXXXXX")
PIDS=()
cleanup() {
	local pid
	for pid in "${PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
}
trap cleanup EXIT

# say LINE...: a comment, one line per argument.
say() { echo; printf '# %s\n' "$@"; }
# show ARGS...: print a command as a person would type it, quoting the
# arguments that need it.
show() {
	local a out='$'
	for a in "$@"; do
		if [[ $a =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
			out+=" $a"
		else
			out+=" '${a//\'/\'\\\'\'}'"
		fi
	done
	printf '%s\n' "$out"
}
run() { show "$@"; "$@"; }
# tshark warns that it runs as root; that line is noise here.
tshark_q() { tshark "$@" 2>&1 | grep -v '^Running as user'; }

# start_ustack NAME OUT ARGS...: a ustack program in the background,
# printed; waits (at most 10 s) for its "NAME: up on" line.
start_ustack() {
	local name=$1 out=$2
	shift 2
	show "$@" | sed 's/$/ \&/'
	"$@" >"$out" 2>"$WORK/$name.log" &
	PIDS+=($!)
	for _ in $(seq 100); do
		grep -q "^$name: up" "$out" && break
		kill -0 "${PIDS[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep "^$name: up" "$out"; then
		echo "demo: $name did not start:" >&2
		cat "$WORK/$name.log" >&2
		exit 1
	fi
}

# stop_last [any]: SIGTERM to the last program started (the shell's
# current job, %%), and wait for it; it must exit 0 unless "any".
stop_last() {
	local rc=0
	printf '$ kill -TERM %%%%\n'
	kill -TERM "${PIDS[-1]}"
	wait "${PIDS[-1]}" || rc=$?
	unset 'PIDS[-1]'
	if [ $rc -ne 0 ] && [ -z "${1:-}" ]; then
		echo "demo: it exited with status $rc" >&2
		exit 1
	fi
}

# same_sha A B: print both sums; fail unless they agree.
same_sha() {
	run sha256sum "$1" "$2"
	if [ "$(sha256sum <"$1")" != "$(sha256sum <"$2")" ]; then
		echo "demo: $2 differs from $1" >&2
		exit 1
	fi
	echo "# identical"
}

say "The kernel's side of a TAP device: 10.77.0.1/24 on tap0."
run ip link set lo up
run ip tuntap add tap0 mode tap
run ip addr add 10.77.0.1/24 dev tap0
run ip link set tap0 up

# ---- 1. ping -----------------------------------------------------------
say "ustack takes the other side of tap0, at 10.77.0.2, and answers ping" \
	"(8000 bytes: fragmented by the kernel, reassembled by ustack)."
start_ustack ustack "$WORK/ustack.out" \
	"$USTACK_BIN" up --tap tap0 --addr 10.77.0.2/24 --pcap "$WORK/ping.pcap"
run ping -n -c 2 -i 0.2 10.77.0.2
run ping -n -c 2 -i 0.2 -s 8000 10.77.0.2
stop_last
grep -E '^icmp\.|^ip\.(reasm|frag)_oks' "$WORK/ustack.out"

# ---- 2. the pipeline over TCP ------------------------------------------
say "A $DEMO_MB MiB file of random bytes to move both ways."
run mkdir "$WORK/www"
printf '$ head -c %d /dev/urandom > %s\n' $((DEMO_MB * 1024 * 1024)) \
	"$WORK/www/demo.bin"
head -c $((DEMO_MB * 1024 * 1024)) /dev/urandom >"$WORK/www/demo.bin"

say "ustack's HTTP server: it binds port 80, listens and accepts, a thread" \
	"per connection, and sends files with us_send(). Each ustack program" \
	"is a new instance with a new MAC, so the kernel forgets the old one."
run ip neigh flush dev tap0
start_ustack httpd "$WORK/httpd.out" "$BIN/httpd" --tap tap0 \
	--addr 10.77.0.2/24 --root "$WORK/www" --pcap "$WORK/httpd.pcap"

say "The kernel's curl connects to it and downloads the file."
run curl -sS -o "$WORK/from-ustack.bin" \
	-w '%{http_code}, %{size_download} bytes in %{time_total} s\n' \
	http://10.77.0.2/demo.bin
same_sha "$WORK/www/demo.bin" "$WORK/from-ustack.bin"
say "Stop the server; it prints what it served and its TCP counters."
stop_last
grep -E '^httpd: stopping|^tcp\.' "$WORK/httpd.out"

say "The other way round: the kernel's HTTP server, ustack's client."
start_py() {
	show "$@" | sed 's/$/ \&/'
	"$@" >"$WORK/http.server.log" 2>&1 &
	PIDS+=($!)
	for _ in $(seq 50); do
		curl -s -o /dev/null http://10.77.0.1:8000/ && return 0
		sleep 0.1
	done
	echo "demo: python3 -m http.server did not start" >&2
	exit 1
}
start_py "$PY" -m http.server --bind 10.77.0.1 --directory "$WORK/www" 8000
run ip neigh flush dev tap0
run "$BIN/http_get" --tap tap0 --addr 10.77.0.2/24 \
	--pcap "$WORK/http_get.pcap" -o "$WORK/from-kernel.bin" \
	http://10.77.0.1:8000/demo.bin
same_sha "$WORK/www/demo.bin" "$WORK/from-kernel.bin"
stop_last any

say "How each connection began and ended, as tshark reads the captures:" \
	"the handshake, the request, and the closing FINs."
for cap in httpd http_get; do
	show tshark -r "$WORK/$cap.pcap" \
		-Y 'tcp.flags.syn == 1 || tcp.flags.fin == 1 || http.request'
	tshark_q -r "$WORK/$cap.pcap" \
		-Y 'tcp.flags.syn == 1 || tcp.flags.fin == 1 || http.request'
done
show tshark -r "$WORK/httpd.pcap" -q -z conv,tcp
tshark_q -r "$WORK/httpd.pcap" -q -z conv,tcp | sed -n '/<->/p'

rm -f "$WORK/from-ustack.bin" "$WORK/from-kernel.bin" "$WORK/www/demo.bin"
say "The captures are kept: $WORK/ping.pcap, $WORK/httpd.pcap," \
	"$WORK/http_get.pcap"
