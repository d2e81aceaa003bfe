#!/bin/bash
# run.sh BINARY - run one libFuzzer target as a regression test: replay its
# seed corpus (tests/fuzz/corpus/NAME/), then fuzz for a fixed number of
# runs from a fixed seed, so a run is repeatable and bounded in work, not
# in time. FUZZ_RUNS (default 50000) sets the count. A crash, a sanitizer
# report or a leak fails the test, and libFuzzer leaves the input that did
# it (crash-*, leak-*) in the current directory: the path is printed.
set -uo pipefail
bin=$(realpath "$1")
name=$(basename "$bin")
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/ustack-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
if [ -d "$here/corpus/$name" ]; then
	cp "$here/corpus/$name"/* "$work/corpus/" 2>/dev/null
fi
cd "$work" || exit 1
"$bin" -seed=1 -runs="${FUZZ_RUNS:-50000}" -max_len=4096 \
	-print_final_stats=1 corpus
rc=$?
if [ $rc -ne 0 ]; then
	keep=$(mktemp -d "${TMPDIR:-/tmp}/ustack-fuzz-fail.XXXXXX")
	cp crash-* leak-* oom-* timeout-* "$keep/" 2>/dev/null
	echo "fuzz target $name failed; reproducer kept in $keep (run: $bin $keep/<file>)"
fi
exit $rc
