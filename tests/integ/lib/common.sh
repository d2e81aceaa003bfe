# shellcheck shell=bash
# common.sh - shared steps of the integration tests (sourced, not run).
#
# Every test re-executes itself inside a network namespace of its own
# (unshare -rn: a user namespace too, so it works without host root; plain
# unshare -n for root where user namespaces are off), sets
# up a TAP device there and runs the `ustack` program on it. Nothing is
# configured in the host's namespace; the namespace, and every device and
# address in it, vanishes when the test's last process exits.
#
# A test calls, in order:
#   integ_enter_netns "$@"     re-exec in a new namespace (or exit 77)
#   integ_setup_tap N          tap0 with 10.N.0.1/24 on the kernel side
#   integ_start_ustack ARGS    start ustack, wait for its ready line
#   ... checks, calling integ_fail "what went wrong" on failure ...
#   integ_stop_ustack          SIGTERM, check exit 0 and the counters
#   integ_pass                 remove the work directory

INTEG_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
USTACK_BIN=${USTACK_BIN:-$INTEG_ROOT/build/asan/bin/ustack}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
INTEG_NAME=$(basename "$0" .sh)
USTACK_PID=
USTACK_MAC=  # set by integ_start_ustack, read by the tests
export USTACK_MAC

# Re-run the calling script inside a new network namespace. Exits 77 with
# the reason when namespaces cannot be made here.
integ_enter_netns() {
	[ -n "${INTEG_IN_NETNS:-}" ] && return 0
	local err flags=-rn
	if ! err=$(unshare -rn true 2>&1); then
		# Without user namespaces, root can still make a network one.
		if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
			flags=-n
		else
			echo "cannot create a network namespace (unshare -rn: $err)"
			exit 77
		fi
	fi
	if [ ! -c /dev/net/tun ]; then
		echo "no /dev/net/tun: TAP devices are unavailable here"
		exit 77
	fi
	INTEG_IN_NETNS=1 exec unshare $flags bash "$0" "$@"
}

# Make the work directory (kept on failure) and the kernel side of the TAP.
integ_setup_tap() {
	local n=$1
	[ -x "$USTACK_BIN" ] || {
		echo "FAIL: $USTACK_BIN not built (run 'make test-build')"
		exit 1
	}
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/ustack-$INTEG_NAME.XXXXXX")
	PCAP=$WORK/$INTEG_NAME.pcap
	KERNEL_IP=10.$n.0.1
	USTACK_IP=10.$n.0.2
	trap integ_cleanup EXIT
	# No IPv6: the kernel's router solicitations would only add noise to
	# the counters that the tests check.
	sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1
	ip link set lo up
	ip tuntap add tap0 mode tap
	ip addr add "$KERNEL_IP/24" dev tap0
	ip link set tap0 up
}

integ_cleanup() {
	if [ -n "$USTACK_PID" ]; then
		kill -KILL "$USTACK_PID" 2>/dev/null || true
		wait "$USTACK_PID" 2>/dev/null || true
	fi
}

# integ_fail MESSAGE: say what failed and where the evidence is; exit 1.
integ_fail() {
	echo "FAIL: $*"
	echo "evidence kept in $WORK:"
	echo "  capture:       $PCAP"
	echo "  ustack stdout: $WORK/ustack.out"
	echo "  ustack log:    $WORK/ustack.log"
	if [ -s "$WORK/ustack.log" ]; then
		echo "--- last lines of the ustack log:"
		tail -n 30 "$WORK/ustack.log"
	fi
	# What the kernel's end saw: its counters, qdisc drops and neighbours
	# (a reply the kernel dropped shows here, never in our capture).
	if ip link show tap0 >/dev/null 2>&1; then
		echo "--- the kernel's side of tap0 (also in $WORK/kernel-tap0.txt):"
		{
			ip -s -s link show tap0
			tc -s qdisc show dev tap0
			ip neigh show dev tap0
		} 2>&1 | tee "$WORK/kernel-tap0.txt" || true
	fi
	exit 1
}

# integ_fail_logs MESSAGE: name every file kept, show the ends of the logs
# and outputs, and fail through integ_fail (which says where WORK is).
integ_fail_logs() {
	local f
	echo "files kept in $WORK:"
	find "$WORK" -maxdepth 1 -type f -printf '  %f (%s bytes)\n'
	for f in "$WORK"/*.log "$WORK"/*.out; do
		[ -s "$f" ] || continue
		echo "--- last lines of $f:"
		tail -n 15 "$f"
	done
	PCAP=${PCAP:-$WORK/none.pcap}
	integ_fail "$@"
}

integ_pass() {
	rm -rf "$WORK"
	exit 0
}

# integ_start_ustack [EXTRA ARGS]: run ustack on tap0 at USTACK_IP/24 with a
# capture, and wait (at most 20 s) for "ustack: up on tap0 ...".
integ_start_ustack() {
	"$USTACK_BIN" up --tap tap0 --addr "$USTACK_IP/24" --pcap "$PCAP" "$@" \
		>"$WORK/ustack.out" 2>"$WORK/ustack.log" &
	USTACK_PID=$!
	for _ in $(seq 200); do
		if grep -q '^ustack: up on tap0 ' "$WORK/ustack.out"; then
			USTACK_MAC=$(sed -n 's/^ustack: up on tap0 .* mac //p' \
				"$WORK/ustack.out")
			return 0
		fi
		kill -0 "$USTACK_PID" 2>/dev/null ||
			integ_fail "ustack exited before it was up"
		sleep 0.1
	done
	integ_fail "ustack printed no ready line within 20 s"
}

# SIGTERM; ustack must exit 0 (LeakSanitizer clean) and print its counters.
integ_stop_ustack() {
	local rc=0
	kill -TERM "$USTACK_PID"
	wait "$USTACK_PID" || rc=$?
	USTACK_PID=
	[ $rc -eq 0 ] || integ_fail "ustack exited with status $rc after SIGTERM"
	grep -q '^drop.total ' "$WORK/ustack.out" ||
		integ_fail "ustack printed no counters"
}

# integ_counter NAME: a counter's value from ustack's output (0 if absent).
integ_counter() {
	awk -v n="$1" '$1 == n { v = $2 } END { print v + 0 }' "$WORK/ustack.out"
}

# integ_expect_counter NAME OP VALUE (OP as for test: -eq, -ge, ...)
integ_expect_counter() {
	local v
	v=$(integ_counter "$1")
	test "$v" "$2" "$3" || integ_fail "counter $1 is $v, expected $2 $3"
	echo "ok: $1 = $v"
}

# tshark on the capture, with its stderr checked: as root tshark always
# warns that it runs as root, and that line alone is harmless.
integ_tshark() {
	local err=$WORK/tshark.err
	tshark -r "$PCAP" "$@" 2>"$err" ||
		integ_fail "tshark -r $PCAP $* failed: $(cat "$err")"
	if grep -v '^Running as user "root" and group "root"\. This could be dangerous\.$' \
		"$err" | grep -q .; then
		integ_fail "tshark complained about $PCAP: $(cat "$err")"
	fi
}

# integ_expect_pcap FILTER OP VALUE: how many captured frames match a
# tshark display filter, compared as test(1) does (-ge, -eq, ...).
integ_expect_pcap() {
	local n
	integ_tshark -Y "$1" >"$WORK/tshark.out"
	n=$(wc -l <"$WORK/tshark.out")
	test "$n" "$2" "$3" ||
		integ_fail "capture has $n frames matching '$1', expected $2 $3"
	echo "ok: capture has $n frames matching '$1'"
}
