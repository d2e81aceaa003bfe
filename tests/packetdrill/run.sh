#!/bin/bash
# run.sh - run the packetdrill corpus against ustack and against Linux.
#
#   tests/packetdrill/run.sh [--ustack] [--linux] [--asan] [-j N]
#                            [--timeout S] [--keep] [SCRIPT.pkt ...]
#
# Each script (every tests/packetdrill/**/*.pkt unless some are named) runs
# once per side, each run in a network namespace of its own, so that a
# script's init command (sysctls, see defaults.sh) only ever touches a
# throw-away namespace:
#
#   ustack  packetdrill --so_filename=$BUILD/libustack-packetdrill.so: the
#           plug-in drives one ustack instance in virtual time (no device,
#           no real time). --asan uses $BUILD/asan/libustack-packetdrill.so
#           under ASan+UBSan instead (what `make test` runs). Needs root
#           too (`unshare -n`), or `unshare -rn` with an unlimited
#           RLIMIT_MEMLOCK: packetdrill mlockall()s before its threads.
#   linux   plain packetdrill against this machine's kernel, through its
#           tun device: needs root (`unshare -n`; packetdrill's threads do
#           not work under `unshare -rn`). Without root the side is skipped
#           and says why.
#
# With neither --ustack nor --linux, both sides run. Per side it prints one
# line per script (PASS, FAIL, XFAIL, XPASS; a failure's output follows it,
# indented) and a summary "ustack: N passed, N failed, N xfail".
#
# A script that ustack is known to fail carries, in its leading comments,
#   // xfail-ustack: <the reason>
# Its ustack failures are reported as XFAIL, apart from the count; if it
# passes, that is an XPASS and counts as a failure (remove the mark). The
# Linux side has no such marks: every script must pass on Linux.
#
# A script may add plug-in options for its own run with
#   // so_flags: key=value,...
# (see src/packetdrill/packetdrill_so.c for the keys).
#
# A run that takes longer than --timeout seconds (default: 60 for ustack,
# 240 for Linux, which runs in real time) is killed and counts as failed.
# Linux runs in real time on a machine that may be busy (packetdrill itself
# then injects late and fails its own timing check), so a script that fails
# there is run again, alone, up to LINUX_RETRIES times (default 2) and
# passes if a retry does ("PASS ... (retry N)"); ustack runs are exact and
# never retried.
# Failed ustack runs keep a capture of every packet in and out; its path is
# printed. Exit status: 0 when no script failed on either side (XFAILs
# aside), 1 otherwise, 2 on bad usage, 77 when no side could run at all
# (the last line says why).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*) ;;
*) BUILD=$ROOT/$BUILD ;;
esac
PACKETDRILL=${PACKETDRILL:-$ROOT/../shared/tools/packetdrill/packetdrill}
LOCAL_IP=192.168.0.1
# Timing tolerance. ustack runs on an exact virtual clock: an event may be
# off by a few microseconds of packetdrill's own bookkeeping, nothing more,
# so a timer that differs from the script is caught. Linux runs in real time
# on jiffies (HZ 250 here), on a machine that may be busy, and its timer
# wheel lets a long timer fire late by up to 1/8 of its length (a 4 s RTO
# fired 256 ms late in a measured run; a 300 ms one, 32 ms): slack in
# proportion there, and 40 ms at least.
USTACK_TOLERANCE=(--tolerance_usecs=2000 --tolerance_percent=0)
LINUX_TOLERANCE=(--tolerance_usecs=40000 --tolerance_percent=10)

sides=() asan=0 jobs=$(nproc 2>/dev/null || echo 2) timeout_arg= keep=0
scripts=()
while [ $# -gt 0 ]; do
	case $1 in
	--ustack) sides+=(ustack) ;;
	--linux) sides+=(linux) ;;
	--asan) asan=1 ;;
	--keep) keep=1 ;;
	-j) jobs=$2; shift ;;
	-j*) jobs=${1#-j} ;;
	--timeout) timeout_arg=$2; shift ;;
	-h | --help)
		sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	-*)
		echo "run.sh: unknown option $1" >&2
		exit 2
		;;
	*) scripts+=("$(cd "$(dirname "$1")" && pwd)/$(basename "$1")") ;;
	esac
	shift
done
[ ${#sides[@]} -eq 0 ] && sides=(ustack linux)
if [ ${#scripts[@]} -eq 0 ]; then
	mapfile -t scripts < <(find "$HERE" -name '*.pkt' | sort)
fi
if [ ${#scripts[@]} -eq 0 ]; then
	echo "run.sh: no scripts" >&2
	exit 2
fi
if [ ! -x "$PACKETDRILL" ]; then
	# The prebuilt tool lives in shared/ beside the checkout (as CI lays
	# it out); without it there is nothing to run: a skip, with the reason.
	echo "packetdrill not found at $PACKETDRILL (set PACKETDRILL=...)"
	exit 77
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/ustack-packetdrill.XXXXXX")
failures=0
cleanup() {
	if [ "$keep" -eq 0 ] && [ "$failures" -eq 0 ]; then
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

# The namespace flags this user may use for the ustack side: plain -n as
# root, else a user namespace too. Empty when neither works. packetdrill
# locks its memory (mlockall) and then starts a thread: outside the initial
# user namespace CAP_IPC_LOCK does not count, so under -rn that needs an
# unlimited RLIMIT_MEMLOCK (with the usual 8 MB, pthread_create fails).
ns_flags_ustack() {
	if unshare -n true 2>/dev/null; then
		printf '%s' -n
	elif unshare -rn true 2>/dev/null &&
	     [ "$(ulimit -H -l)" = unlimited ]; then
		printf '%s' -rn
	fi
}

# Why the Linux side cannot run here, or nothing when it can.
linux_skip_reason() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "needs root: packetdrill's threads fail under unshare -rn"
	elif ! unshare -n true 2>/dev/null; then
		echo "unshare -n is not permitted here"
	elif [ ! -c /dev/net/tun ]; then
		echo "no /dev/net/tun for packetdrill's tun device"
	fi
}

# The name a script is reported under: its path below tests/packetdrill.
script_name() {
	local s=$1
	s=${s#"$HERE"/}
	echo "${s%.pkt}"
}

# TCP_INFO's fields ustack does not model: the counts of the ECN field of
# what came (Linux 6.18 keeps them even without ECN).
TCPINFO_NOT_MODELLED="received_ce received_e0_bytes received_e1_bytes received_ce_bytes"

# The reason after "// xfail-ustack:" in the script's leading comments.
xfail_reason() {
	sed -n '/^[[:space:]]*\/\/[[:space:]]*xfail-ustack:/{s/^[^:]*:[[:space:]]*//p;q}' "$1"
}

# The net.ipv4 sysctls defaults.sh sets, as so_flags for the ustack side.
defaults_sysctls() {
	grep -v '^[[:space:]]*#' "$HERE/defaults.sh" |
		grep -o 'net\.ipv4\.[a-z0-9_]*=[A-Za-z0-9]*' | paste -sd, -
}
# (Set here, after the function it needs is defined.)
DEFAULT_SYSCTLS=$(defaults_sysctls)

# The sysctls a script adds in its init command (`../defaults.sh K=V ...`);
# a comma inside a value goes as ':' (the plug-in turns it back).
script_sysctls() {
	grep -o '`[^`]*defaults\.sh[^`]*`' "$1" | head -1 | tr -d '`' |
		tr -s ' \t' '\n\n' | grep '^net\.' | tr ',' ':' | paste -sd, -
}

script_so_flags() {
	sed -n '/^[[:space:]]*\/\/[[:space:]]*so_flags:/{s/^[^:]*:[[:space:]]*//p;q}' "$1"
}

# run_one SIDE SCRIPT OUTDIR: run one script, leave "rc" and "out" in OUTDIR.
run_one() {
	local side=$1 script=$2 out=$3 dir name rc flags
	local -a cmd env_pre=()
	dir=$(dirname "$script")
	name=$(basename "$script")
	mkdir -p "$out"
	if [ "$side" = ustack ]; then
		flags="addr=$LOCAL_IP/24,pcap=$out/ustack.pcap,$DEFAULT_SYSCTLS"
		local extra
		extra=$(script_sysctls "$script")
		[ -n "$extra" ] && flags="$flags,$extra"
		extra=$(script_so_flags "$script")
		[ -n "$extra" ] && flags="$flags,$extra"
		cmd=("$PACKETDRILL" --local_ip="$LOCAL_IP"
			"${USTACK_TOLERANCE[@]}"
			--so_filename="$SO" --so_flags="$flags" "$name")
		# TCP_INFO fields tcpinfo/*.pkt leave alone on ustack, which
		# does not model them (see tests/packetdrill/README.md)
		env_pre=(env "LD_PRELOAD=$PD_PRELOAD"
			"USTACK_PD_TCPINFO_SKIP=$TCPINFO_NOT_MODELLED")
		if [ "$asan" -eq 1 ]; then
			env_pre=(env "LD_PRELOAD=$PD_PRELOAD $LIBASAN"
				"USTACK_PD_TCPINFO_SKIP=$TCPINFO_NOT_MODELLED"
				"ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0:verify_asan_link_order=0"
				"UBSAN_OPTIONS=${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1")
		fi
		(cd "$dir" && timeout -k 5 "$TIMEOUT" unshare $NS_FLAGS \
			"${env_pre[@]}" "${cmd[@]}") >"$out/out" 2>&1 </dev/null
		rc=$?
	else
		(cd "$dir" && timeout -k 5 "$TIMEOUT" unshare -n bash -c \
			'ip link set lo up && exec "$@"' linux-ns \
			"$PACKETDRILL" --local_ip="$LOCAL_IP" \
			"${LINUX_TOLERANCE[@]}" "$name") \
			>"$out/out" 2>&1 </dev/null
		rc=$?
	fi
	echo "$rc" >"$out/rc"
}

# run_side SIDE: every script, $jobs at a time; then report.
run_side() {
	local side=$1 i=0 s name rc reason out
	local passed=0 failed=0 xfailed=0
	for s in "${scripts[@]}"; do
		while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do
			wait -n
		done
		run_one "$side" "$s" "$WORK/$side/$i" &
		i=$((i + 1))
	done
	wait
	i=0
	for s in "${scripts[@]}"; do
		name=$(script_name "$s")
		out=$WORK/$side/$i
		i=$((i + 1))
		rc=$(cat "$out/rc" 2>/dev/null || echo 255)
		reason= retry=0
		[ "$side" = ustack ] && reason=$(xfail_reason "$s")
		while [ "$side" = linux ] && [ "$rc" -ne 0 ] &&
		      [ "$retry" -lt "${LINUX_RETRIES:-2}" ]; do
			retry=$((retry + 1))
			mv "$out/out" "$out/out.try$retry"
			run_one "$side" "$s" "$out"
			rc=$(cat "$out/rc" 2>/dev/null || echo 255)
		done
		if [ "$rc" -eq 0 ] && [ -z "$reason" ]; then
			if [ "$retry" -gt 0 ]; then
				echo "PASS  $side $name (retry $retry)"
			else
				echo "PASS  $side $name"
			fi
			passed=$((passed + 1))
			continue
		fi
		if [ "$rc" -eq 0 ]; then
			echo "XPASS $side $name (marked xfail-ustack: $reason;" \
			     "remove the mark)"
			failed=$((failed + 1))
			continue
		fi
		if [ -n "$reason" ]; then
			echo "XFAIL $side $name ($reason)"
			xfailed=$((xfailed + 1))
			continue
		fi
		case $rc in
		124 | 137) echo "FAIL  $side $name (killed after ${TIMEOUT} s)" ;;
		*) echo "FAIL  $side $name (exit status $rc)" ;;
		esac
		sed 's/^/      | /' "$out/out"
		[ -f "$out/ustack.pcap" ] && echo "      capture: $out/ustack.pcap"
		failed=$((failed + 1))
	done
	failures=$((failures + failed))
	if [ "$side" = ustack ]; then
		summary_ustack="ustack: $passed passed, $failed failed, $xfailed xfail"
	else
		summary_linux="linux: $passed passed, $failed failed"
	fi
}

summary_ustack= summary_linux= ran=0
for side in "${sides[@]}"; do
	if [ "$side" = ustack ]; then
		TIMEOUT=${timeout_arg:-60}
		NS_FLAGS=$(ns_flags_ustack)
		[ "$NS_FLAGS" = -rn ] && ulimit -l unlimited
		if [ -z "$NS_FLAGS" ]; then
			summary_ustack="ustack: skipped (needs root for unshare -n, or unshare -rn with an unlimited RLIMIT_MEMLOCK for packetdrill's mlockall)"
			continue
		fi
		if [ "$asan" -eq 1 ]; then
			SO=$BUILD/asan/libustack-packetdrill.so
			LIBASAN=$(${CC:-cc} -print-file-name=libasan.so)
		else
			SO=$BUILD/libustack-packetdrill.so
		fi
		PD_PRELOAD=$BUILD/pd-preload.so
		if [ ! -f "$SO" ] || [ ! -f "$PD_PRELOAD" ]; then
			echo "run.sh: $SO not built (make)" >&2
			exit 2
		fi
		run_side ustack
		ran=1
	else
		TIMEOUT=${timeout_arg:-240}
		reason=$(linux_skip_reason)
		if [ -n "$reason" ]; then
			summary_linux="linux: skipped ($reason)"
			continue
		fi
		run_side linux
		ran=1
	fi
done
[ -n "$summary_ustack" ] && echo "$summary_ustack"
[ -n "$summary_linux" ] && echo "$summary_linux"
if [ "$failures" -ne 0 ]; then
	echo "(runs kept in $WORK)"
	exit 1
fi
[ "$ran" -eq 1 ] || exit 77
exit 0
