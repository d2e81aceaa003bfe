#!/bin/bash
# demo.sh - ustack answering the Linux kernel, in a network namespace that
# this script creates (and that vanishes when it ends).
#
# Each command is printed before it runs ("$ ..."), so that a person can
# repeat it by hand after `unshare -rn`.
set -euo pipefail

cd "$(dirname "$0")/.."
USTACK_BIN=${USTACK_BIN:-build/ustack}

if [ -z "${DEMO_IN_NETNS:-}" ]; then
	[ -x "$USTACK_BIN" ] || { echo "demo: build first (make)" >&2; exit 1; }
	flags=-rn
	# Without user namespaces, root can still make a network namespace.
	unshare -rn true 2>/dev/null || flags=-n
	echo "# A private network namespace for the demo:"
	echo "\$ unshare $flags"
	DEMO_IN_NETNS=1 USTACK_BIN=$USTACK_BIN exec unshare $flags bash "$0"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ustack-demo.XXXXXX")
PCAP=$WORK/demo.pcap
USTACK_PID=
trap '[ -z "$USTACK_PID" ] || kill -TERM "$USTACK_PID" 2>/dev/null || true' EXIT

# say LINE...: a comment, one line per argument.
say() { echo; printf '# %s\n' "$@"; }
run() { printf '$ %s\n' "$*"; "$@"; }

say "The kernel's side of a TAP device: 10.77.0.1/24 on tap0."
run ip link set lo up
run ip tuntap add tap0 mode tap
run ip addr add 10.77.0.1/24 dev tap0
run ip link set tap0 up

say "ustack takes the other side of tap0, at 10.77.0.2, capturing to a file."
printf '$ %s up --tap tap0 --addr 10.77.0.2/24 --pcap %s &\n' "$USTACK_BIN" "$PCAP"
"$USTACK_BIN" up --tap tap0 --addr 10.77.0.2/24 --pcap "$PCAP" \
	>"$WORK/ustack.out" 2>"$WORK/ustack.log" &
USTACK_PID=$!
for _ in $(seq 100); do
	grep -q '^ustack: up' "$WORK/ustack.out" && break
	kill -0 "$USTACK_PID" 2>/dev/null || break
	sleep 0.1
done
if ! grep '^ustack: up' "$WORK/ustack.out"; then
	echo "demo: ustack did not start:" >&2
	cat "$WORK/ustack.log" >&2
	exit 1
fi

say "The kernel pings ustack."
run ping -n -c 3 -i 0.2 10.77.0.2
say "8000-byte pings: the kernel fragments each request, ustack reassembles" \
	"it and fragments its reply."
run ping -n -c 3 -i 0.2 -s 8000 10.77.0.2
say "ARP: ustack answers who-has 10.77.0.2."
run arping -c 2 -W 0.2 -I tap0 10.77.0.2
say "The kernel's neighbour table now holds ustack's MAC."
run ip neigh show dev tap0

say "Stop ustack; it prints its counters. (drop.eth_unknown_type: the" \
	"kernel's IPv6 frames; ustack does not speak IPv6 yet.)"
printf '$ kill -TERM %%1\n'
kill -TERM "$USTACK_PID"
wait "$USTACK_PID"
USTACK_PID=
tail -n +2 "$WORK/ustack.out"

say "What the capture saw, as tshark reads it (protocol hierarchy)."
printf '$ tshark -r %s -q -z io,phs\n' "$PCAP"
tshark -r "$PCAP" -q -z io,phs 2>&1 | grep -v '^Running as user'
say "The first frames:"
printf '$ tshark -r %s -c 12\n' "$PCAP"
tshark -r "$PCAP" -c 12 2>&1 | grep -v '^Running as user'

say "The capture is kept: $PCAP"
