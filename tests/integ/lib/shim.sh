# shellcheck shell=bash
# shim.sh - shared steps of the tests that run unmodified programs on
# ustack through the LD_PRELOAD shim (sourced after common.sh, once
# integ_setup_tap made the namespace's tap0 and $WORK).
#
# A program runs under `build/ustack run` (the release build of the shim,
# build/libustack-preload.so) at $USTACK_IP/24 on tap0; its peer is the
# same kind of program on the kernel's sockets at $KERNEL_IP. Bulk tests
# keep no capture unless SHIM_PCAP=1 (hundreds of MB); the others keep one
# in $WORK/LABEL.pcap.
#
#   shim_need PROG...              skip (77) unless every program exists
#   shim_start LABEL PROG ARGS...  PROG under ustack in the background
#                                  (SHIM_PID); output in $WORK/LABEL.{out,log}
#   shim_run LABEL SECS PROG ARGS  PROG under ustack in the foreground,
#                                  at most SECS seconds; fails on a non-zero
#                                  exit or a hang
#   shim_wait_line FILE REGEX      wait (20 s) until FILE has a matching line
#   shim_wait_exit PID SECS LABEL  wait for a background program to exit 0
#   kernel_wait_listen PORT        wait until the kernel listens on PORT
#   shim_sha FILE                  its SHA-256

# shellcheck disable=SC2034,SC2153
SHIM_SO=${SHIM_SO:-$INTEG_ROOT/build/libustack-preload.so}
USTACK_RUN=${USTACK_RUN:-$INTEG_ROOT/build/ustack}
export USTACK_PRELOAD=$SHIM_SO
PY=/usr/bin/python3
SHIM_PIDS=()
SHIM_PID=

shim_cleanup() {
	integ_cleanup
	local pid
	for pid in "${SHIM_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
trap shim_cleanup EXIT

shim_fail() {
	integ_fail_logs "$@"
}

shim_need() {
	local p
	[ -r "$SHIM_SO" ] && [ -x "$USTACK_RUN" ] || {
		echo "FAIL: $SHIM_SO or $USTACK_RUN not built (run 'make')"
		exit 1
	}
	for p in "$@"; do
		command -v "$p" >/dev/null || {
			echo "$p is not installed (scripts/install-deps.sh installs it)"
			exit 77
		}
	done
}

# The `ustack run` command line for LABEL (with a capture unless bulk).
shim_cmd() {
	local label=$1 pcap=()
	if [ -z "${SHIM_BULK:-}" ] || [ -n "${SHIM_PCAP:-}" ]; then
		PCAP=$WORK/$label.pcap
		pcap=(--pcap "$PCAP")
	fi
	SHIM_CMD=("$USTACK_RUN" run --tap tap0 --addr "$USTACK_IP/24" "${pcap[@]}" --)
}

shim_start() {
	local label=$1
	shift
	shim_cmd "$label"
	# Each program is a new instance with a new MAC.
	ip neigh flush dev tap0
	echo "\$ ustack run ... -- $*"
	"${SHIM_CMD[@]}" "$@" >"$WORK/$label.out" 2>"$WORK/$label.log" &
	SHIM_PID=$!
	SHIM_PIDS+=("$SHIM_PID")
}

shim_run() {
	local label=$1 secs=$2 rc=0
	shift 2
	shim_cmd "$label"
	ip neigh flush dev tap0
	echo "\$ ustack run ... -- $*"
	timeout "$secs" "${SHIM_CMD[@]}" "$@" >"$WORK/$label.out" \
		2>"$WORK/$label.log" || rc=$?
	[ $rc -ne 124 ] || shim_fail "$label: still running after $secs s (hang)"
	[ $rc -eq 0 ] || shim_fail "$label: exit status $rc"
}

shim_wait_line() {
	for _ in $(seq 200); do
		grep -Eq "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	shim_fail "no line matching '$2' in $1 within 20 s"
}

# shim_hang_report PID LABEL: what a hung program is doing, so that a hang
# in CI leaves more than "still running": its threads' CPU time over one
# second (spinning or asleep), their stacks (gdb), the kernel side's TCP
# sockets, and two seconds of the traffic on tap0.
shim_hang_report() {
	local pid=$1 label=$2 t
	echo "--- $label (pid $pid) while hung: threads' state and CPU ticks (utime stime), 1 s apart"
	for _ in 1 2; do
		for t in /proc/"$pid"/task/*; do
			awk '{ sub(/^[^)]*\) /, ""); print "  tid '"${t##*/}"'", $1, $12, $13 }' \
				"$t/stat" 2>/dev/null
		done
		sleep 1
	done
	if command -v gdb >/dev/null; then
		for t in 1 2 3; do
			echo "--- $label's stacks ($t of 3):"
			timeout 60 gdb -q -batch -p "$pid" \
				-ex 'thread apply all bt 12' </dev/null 2>&1 |
				grep -E '^(Thread|#)' || true
		done
	fi
	if command -v perf >/dev/null; then
		echo "--- where $label's CPU time goes (perf, 2 s):"
		timeout 20 perf record -q -e cpu-clock -g -p "$pid" \
			-o "$WORK/hang.perf" -- sleep 2 >/dev/null 2>&1 &&
			perf report -q -i "$WORK/hang.perf" --stdio --no-children \
				-g none --percent-limit 2 2>/dev/null |
			sed -n '1,30p' || true
	fi
	echo "--- kernel-side TCP sockets by state, then the first few:"
	ss -Htan 2>/dev/null | awk '{ n[$1]++ } END { for (s in n) print "  " s, n[s] }' || true
	ss -tanio 2>/dev/null | sed -n '1,13p' || true
	if command -v tcpdump >/dev/null; then
		echo "--- 2 s of tap0:"
		timeout 2 tcpdump -nni tap0 -c 40 2>&1 | sed -n '1,45p' || true
	fi
}

shim_wait_exit() {
	local pid=$1 secs=$2 label=$3 rc=0
	for _ in $(seq $((secs * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		shim_hang_report "$pid" "$label"
		shim_fail "$label: still running after $secs s (hang)"
	fi
	wait "$pid" || rc=$?
	[ $rc -eq 0 ] || shim_fail "$label: exit status $rc"
}

kernel_wait_listen() {
	for _ in $(seq 200); do
		ss -Htln "( sport = :$1 )" | grep -q . && return 0
		sleep 0.1
	done
	shim_fail "the kernel does not listen on port $1 after 20 s"
}

shim_sha() {
	sha256sum "$1" | cut -d' ' -f1
}

shim_make_file() {
	head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"
}
