#!/bin/bash
# run-tests.sh [all|unit|sim|tsan|fuzz|packetdrill|integ] - run the built
# test suite.
#
#   unit   every $BUILD/asan/tests/test_*  (cmocka, one binary per module)
#   sim    every $BUILD/asan/tests/sim_*   (whole stacks over the wire; SEED
#          is passed through from the environment)
#   tsan   every $BUILD/tsan/tests/tsan_*  (threads under ThreadSanitizer;
#          any report fails the test; USTACK_TSAN_SECONDS sets the length
#          of the threads stress test, 30 s by default)
#   fuzz   every $BUILD/fuzz/tests/fuzz_*  (libFuzzer targets as regression
#          tests: seed corpus, then FUZZ_RUNS runs from a fixed seed)
#   packetdrill  the tests/packetdrill corpus (tests/packetdrill/run.sh):
#          against ustack through $BUILD/asan/libustack-packetdrill.so, and
#          against this machine's Linux (root only; skipped otherwise), each
#          side one entry with its "N passed, N failed" line
#   integ  every tests/integ/*.sh          (against Linux, in namespaces the
#          tests create)
#
# Each test runs under a hang timeout ($TEST_TIMEOUT, default 300 s),
# with LeakSanitizer on and UBSan halting on the first error. One line per
# test (PASS/FAIL/SKIP), a failing test's output after its line, and one
# closing summary line: "N passed, N failed, N skipped". Exit status 1 when
# anything failed. A test that exits 77 is skipped; its last output line is
# the reason, and a skip that gives no reason counts as a failure.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
tier=${1:-all}

case $tier in
all | unit | sim | tsan | integ | fuzz | packetdrill) ;;
*)
	echo "usage: $0 [all|unit|sim|tsan|fuzz|packetdrill|integ]" >&2
	exit 2
	;;
esac

export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"
# The first data race ends the test with TSan's exit code (66).
export TSAN_OPTIONS="${TSAN_OPTIONS:+$TSAN_OPTIONS:}halt_on_error=1:second_deadlock_stack=1"
case $BUILD in
/*) ;;
*) BUILD=$PWD/$BUILD ;;
esac
export USTACK_BIN=${USTACK_BIN:-$BUILD/asan/bin/ustack}
# cmocka prints its own per-test lines and summary to stdout.
export CMOCKA_MESSAGE_OUTPUT=stdout

passed=0 failed=0 skipped=0
log=$(mktemp "${TMPDIR:-/tmp}/ustack-test.XXXXXX")
trap 'rm -f "$log"' EXIT

# run_one NAME COMMAND...
run_one() {
	local name=$1 rc reason start=$SECONDS
	shift
	# (The braces keep bash's "Killed" job notice out of the report.)
	{ timeout -k 10 "$TEST_TIMEOUT" "$@" >"$log" 2>&1 </dev/null; } 2>/dev/null
	rc=$?
	# timeout(1) exits 124, or 137 when the test also ignored SIGTERM.
	if [ $rc -eq 137 ] && [ $((SECONDS - start)) -lt "$TEST_TIMEOUT" ]; then
		rc=-1
	fi
	case $rc in
	0)
		echo "PASS $name"
		passed=$((passed + 1))
		return
		;;
	77)
		reason=$(grep -v '^[[:space:]]*$' "$log" | tail -n 1)
		if [ -n "$reason" ]; then
			echo "SKIP $name: $reason"
			skipped=$((skipped + 1))
			return
		fi
		echo "FAIL $name (exit 77, a skip that does not say why)"
		failed=$((failed + 1))
		;;
	124 | 137)
		echo "FAIL $name (HANG: still running after ${TEST_TIMEOUT} s, killed)"
		failed=$((failed + 1))
		;;
	*)
		[ $rc -eq -1 ] && rc="137, killed by SIGKILL"
		echo "FAIL $name (exit status $rc)"
		failed=$((failed + 1))
		;;
	esac
	sed 's/^/    | /' "$log"
}

# run_binaries DIR PATTERN
run_binaries() {
	local dir=$1 pattern=$2 bin
	for bin in "$BUILD/$dir/tests/"$pattern; do
		[ -x "$bin" ] || continue
		run_one "$(basename "$bin")" "$bin"
	done
}

if [ "$tier" = all ] || [ "$tier" = unit ]; then
	run_binaries asan 'test_*'
fi
if [ "$tier" = all ] || [ "$tier" = sim ]; then
	[ -n "${SEED:-}" ] && export SEED && echo "(sim tests with SEED=$SEED)"
	# The sweeps take minutes of CPU under ASan (sim_tcp: ~2 on an idle
	# core); the guard only has to catch a hang, on a busy machine too.
	TEST_TIMEOUT=$((TEST_TIMEOUT > 900 ? TEST_TIMEOUT : 900)) \
		run_binaries asan 'sim_*'
fi
if [ "$tier" = all ] || [ "$tier" = tsan ]; then
	run_binaries tsan 'tsan_*'
fi
if [ "$tier" = all ] || [ "$tier" = fuzz ]; then
	for bin in "$BUILD/fuzz/tests/"fuzz_*; do
		[ -x "$bin" ] || continue
		run_one "$(basename "$bin")" tests/fuzz/run.sh "$bin"
	done
fi
if [ "$tier" = all ] || [ "$tier" = packetdrill ]; then
	# Each side is one entry; its summary line is shown even when it
	# passes. Linux runs in real time (TIME-WAIT alone takes a minute).
	for side in ustack linux; do
		args=(--"$side")
		[ "$side" = ustack ] && args+=(--asan)
		TEST_TIMEOUT=$((TEST_TIMEOUT > 900 ? TEST_TIMEOUT : 900)) \
			run_one "packetdrill-$side" tests/packetdrill/run.sh "${args[@]}"
		grep -E "^(ustack|linux): " "$log" | sed 's/^/    /'
	done
fi
if [ "$tier" = all ] || [ "$tier" = integ ]; then
	for t in tests/integ/*.sh; do
		[ -f "$t" ] || continue
		run_one "integ/$(basename "$t" .sh)" bash "$t"
	done
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
