#!/bin/bash
# tcp_urgent.sh - TCP urgent data between ustack and the Linux kernel.
#
# In a network namespace of its own: tap0 with 10.47.0.1/24 on the kernel
# side, ustack at 10.47.0.2/24. The same program, tools/oob_demo.c, runs
# three times: kernel to kernel (--kernel both ends), a kernel client
# sending to a ustack server, and a ustack client sending to a kernel
# server. The client streams 300,000 bytes with one urgent byte after
# 200,000 of them; the server reports the urgent byte and its stream
# offset, the mark, and the end of the stream with a checksum of what came
# in band. Each run's transcript (the lines that do not depend on timing)
# must equal the kernel-to-kernel one. ustack's captures of the two mixed
# runs are read with tshark: the segments with URG, Linux's and ustack's,
# must carry the urgent pointer the same way, one past the urgent byte
# (or 0xFFFF while it is 64 KB or more ahead).
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 47
source "$(dirname "$0")/lib/tcp.sh"
tcp_need oob_demo
N=300000
K=200000
DEMO=$TOOLS_DIR/oob_demo
KPID=

cleanup_kernel_server() {
	[ -n "$KPID" ] && kill -KILL "$KPID" 2>/dev/null
	wait "$KPID" 2>/dev/null || true
	KPID=
}

# The lines of a transcript that every run must share.
stable() {
	grep -E '^oob_demo: (urgent byte|reached the mark|end of stream|sent )' "$1" |
		sort
}

# wait_exit PID WHAT: at most 60 s, then its exit status must be 0.
wait_exit() {
	local pid=$1 what=$2 rc=0
	for _ in $(seq 600); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && tcp_fail "$what still running after 60 s (hang)"
	wait "$pid" || rc=$?
	[ $rc -eq 0 ] || tcp_fail "$what exited with status $rc"
}

# kernel_server LABEL PORT: oob_demo --kernel server, ready when it listens.
kernel_server() {
	"$DEMO" server --kernel --port "$2" >"$WORK/$1.out" 2>"$WORK/$1.log" &
	KPID=$!
	for _ in $(seq 100); do
		grep -q '^oob_demo: listening' "$WORK/$1.out" && return 0
		sleep 0.1
	done
	tcp_fail "$1: the kernel server did not start"
}

client_args=(--bytes "$N" --urgent-at "$K" --byte '!')

# 1. Kernel to kernel, over tap0's address: the reference.
kernel_server kk-server 7001
"$DEMO" client --kernel --to "$KERNEL_IP:7001" "${client_args[@]}" \
	>"$WORK/kk-client.out" 2>"$WORK/kk-client.log" ||
	tcp_fail "kernel client (kernel to kernel) failed"
wait_exit "$KPID" "kernel server (kernel to kernel)"
KPID=
echo "--- kernel to kernel:"
cat "$WORK/kk-server.out"
grep -q "^oob_demo: urgent byte '!' (0x21) at stream offset $K\$" \
	"$WORK/kk-server.out" || tcp_fail "Linux did not report the urgent byte at $K"

# 2. A kernel client sending to a ustack server.
tcp_start ku-server oob_demo server --port 7002
"$DEMO" client --kernel --to "$USTACK_IP:7002" "${client_args[@]}" \
	>"$WORK/ku-client.out" 2>"$WORK/ku-client.log" ||
	tcp_fail "kernel client (kernel to ustack) failed"
wait_exit "$TOOL_PID" "ustack server (kernel to ustack)"
TOOL_PID=
echo "--- kernel to ustack:"
cat "$WORK/ku-server.out"

# 3. A ustack client sending to a kernel server.
kernel_server uk-server 7003
tcp_start uk-client oob_demo client --to "$KERNEL_IP:7003" "${client_args[@]}"
wait_exit "$TOOL_PID" "ustack client (ustack to kernel)"
TOOL_PID=
wait_exit "$KPID" "kernel server (ustack to kernel)"
KPID=
echo "--- ustack to kernel:"
cat "$WORK/uk-server.out"

for run in ku uk; do
	diff <(stable "$WORK/kk-server.out") <(stable "$WORK/$run-server.out") ||
		tcp_fail "$run: the server's transcript differs from kernel to kernel"
	diff <(stable "$WORK/kk-client.out") <(stable "$WORK/$run-client.out") ||
		tcp_fail "$run: the client's transcript differs from kernel to kernel"
done
echo "ok: the transcripts agree with kernel to kernel"

# The wire: every URG segment in the data direction carries, relative to
# the stream (the first data byte is 1), seq + pointer = K + 2 (one past
# the urgent byte, which is byte K + 1), or 0xFFFF while that is 64 KB or
# more ahead.
check_urg() {
	local pcap=$1 who=$2 sport=$3 n bad
	n=$(tshark -r "$pcap" -Y "tcp.flags.urg == 1 && tcp.srcport == $sport" \
		-T fields -e tcp.seq -e tcp.urgent_pointer 2>/dev/null | wc -l)
	[ "$n" -gt 0 ] || tcp_fail "$who: no segment with URG in $pcap"
	bad=$(tshark -r "$pcap" -Y "tcp.flags.urg == 1 && tcp.srcport == $sport" \
		-T fields -e tcp.seq -e tcp.urgent_pointer 2>/dev/null |
		awk -v k="$K" '{ if (!($1 + $2 == k + 2 || ($2 == 65535 &&
			k + 2 - $1 >= 65536))) print }')
	[ -z "$bad" ] || tcp_fail "$who: URG segments with a wrong pointer: $bad"
	echo "ok: $who sent $n segments with URG, each pointer one past byte $((K + 1))"
}
if command -v tshark >/dev/null; then
	check_urg "$WORK/ku-server.pcap" "Linux" "$(tshark -r "$WORK/ku-server.pcap" \
		-Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -T fields \
		-e tcp.srcport 2>/dev/null | head -1)"
	check_urg "$WORK/uk-client.pcap" "ustack" "$(tshark -r "$WORK/uk-client.pcap" \
		-Y 'tcp.flags.syn == 1 && tcp.flags.ack == 0' -T fields \
		-e tcp.srcport 2>/dev/null | head -1)"
else
	echo "tshark is not installed: the capture check is skipped"
fi
integ_pass
