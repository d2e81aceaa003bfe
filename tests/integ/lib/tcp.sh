# shellcheck shell=bash
# tcp.sh - shared steps of the TCP integration tests (sourced after
# common.sh, once integ_setup_tap made the namespace's tap0 and $WORK).
#
# The tests run the example programs (tools/tcp_echo.c, httpd.c,
# http_get.c) against the kernel's curl, socat and Python in the
# namespace. Each ustack program is started with a capture and its output
# in $WORK/LABEL.{out,log,pcap}; a failure lists every file kept there and
# the last lines of each log (tcp_fail).
#
#   tcp_need TOOL...               the ustack programs must be built
#   tcp_start LABEL TOOL ARGS...   run TOOL on tap0 at $USTACK_IP/24, wait
#                                  for its ready line (sets TOOL_PID)
#   tcp_stop LABEL                 SIGTERM; exit 0 and counters required
#   tcp_kernel_httpd DIR PORT      python3 -m http.server at $KERNEL_IP
#   tcp_expect FILE NAME OP VALUE  a counter ("name value" lines) compared
#   tcp_sha FILE                   its SHA-256

# (Variables for the tests that source this; USTACK_IP, USTACK_PID and
# WORK come from common.sh.)
# shellcheck disable=SC2034,SC2153
TOOLS_DIR=${TOOLS_DIR:-$(dirname "$USTACK_BIN")}
PY=/usr/bin/python3
# shellcheck disable=SC2034
TCP_CLIENT=$INTEG_ROOT/tests/integ/lib/tcp_client.py
TOOL_PID=
KHTTPD_PID=

tcp_cleanup() {
	integ_cleanup
	local pid
	for pid in $TOOL_PID $KHTTPD_PID; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
trap tcp_cleanup EXIT

# tcp_fail MESSAGE: name every file kept, show the ends of the logs, and
# fail through integ_fail (which says where the work directory is).
tcp_fail() {
	integ_fail_logs "$@"
}

tcp_need() {
	local t
	for t in "$@"; do
		[ -x "$TOOLS_DIR/$t" ] || {
			echo "FAIL: $TOOLS_DIR/$t not built (run 'make test-build')"
			exit 1
		}
	done
}

# tcp_start LABEL TOOL ARGS...: TOOL on tap0 with a capture in
# $WORK/LABEL.pcap; waits (at most 20 s) for "TOOL: up on tap0 ...".
# (TOOL ustack gets its command, "up", first.)
tcp_start() {
	local label=$1 tool=$2 sub=()
	shift 2
	[ "$tool" = ustack ] && sub=(up)
	PCAP=$WORK/$label.pcap
	# Another ustack instance had tap0 before: the kernel must not keep
	# sending to the old MAC.
	ip neigh flush dev tap0
	: >"$WORK/$label.out"
	"$TOOLS_DIR/$tool" "${sub[@]}" --tap tap0 --addr "$USTACK_IP/24" \
		--pcap "$PCAP" "$@" >"$WORK/$label.out" 2>"$WORK/$label.log" &
	TOOL_PID=$!
	USTACK_PID=$TOOL_PID
	echo "\$ $tool ${sub[*]} --tap tap0 --addr $USTACK_IP/24 --pcap $PCAP $*"
	for _ in $(seq 200); do
		grep -q "^$tool: up on tap0 " "$WORK/$label.out" && return 0
		kill -0 "$TOOL_PID" 2>/dev/null ||
			tcp_fail "$tool exited before it was up"
		sleep 0.1
	done
	tcp_fail "$tool printed no ready line within 20 s"
}

# tcp_kernel_knows_ustack LABEL: a permanent neighbour entry in the kernel
# for ustack, with the MAC on LABEL's ready line. For tests whose fault
# layer drops frames: it drops ARP too, and the kernel gives up after
# three probes (a second apart), failing a client's connect(); with 5 %
# loss each way about one seed in a thousand loses all three exchanges
# (tcp_loss's SEED=1272148064 did), which says nothing about TCP.
# tcp_kernel_forgets_ustack removes it (a flush leaves permanent
# entries), before another instance, with another MAC, takes the TAP.
tcp_kernel_knows_ustack() {
	local mac
	mac=$(sed -n 's/.* mac \([0-9a-f:]*\) .*/\1/p' "$WORK/$1.out" | head -n 1)
	[ -n "$mac" ] || tcp_fail "$1: no MAC on its ready line"
	ip neigh replace "$USTACK_IP" lladdr "$mac" dev tap0 nud permanent
}

tcp_kernel_forgets_ustack() {
	ip neigh del "$USTACK_IP" dev tap0
}

# tcp_stop LABEL: SIGTERM; the program must exit 0 (LeakSanitizer clean
# under ASan) within 30 s and print its counters and state.
tcp_stop() {
	local label=$1 rc=0
	kill -TERM "$TOOL_PID"
	for _ in $(seq 300); do
		kill -0 "$TOOL_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$TOOL_PID" 2>/dev/null &&
		tcp_fail "$label still running 30 s after SIGTERM (hang)"
	wait "$TOOL_PID" || rc=$?
	TOOL_PID=
	# shellcheck disable=SC2034
	USTACK_PID=
	[ $rc -eq 0 ] || tcp_fail "$label exited with status $rc after SIGTERM"
	grep -q '^drop.total ' "$WORK/$label.out" ||
		tcp_fail "$label printed no counters"
}

# tcp_kernel_httpd DIR PORT: the kernel's HTTP server, serving DIR.
tcp_kernel_httpd() {
	echo "\$ python3 -m http.server --bind $KERNEL_IP --directory $1 $2"
	"$PY" -m http.server --bind "$KERNEL_IP" --directory "$1" "$2" \
		>"$WORK/kernel-httpd.log" 2>&1 &
	KHTTPD_PID=$!
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://$KERNEL_IP:$2/" && return 0
		sleep 0.1
	done
	tcp_fail "python3 -m http.server did not start"
}

# tcp_wait_kernel_closed: wait (at most 20 s) until the kernel has no TCP
# connection with ustack's address but in TIME-WAIT. On a lossy path a
# FIN may need a retransmission (after the kernel's RTO) before both
# sides are done, and a program stopped earlier would report the
# connection as left over.
tcp_wait_kernel_closed() {
	for _ in $(seq 200); do
		ss -Htan state connected "( dst $USTACK_IP )" |
			grep -vq '^TIME-WAIT' || return 0
		sleep 0.1
	done
	echo "(the kernel still has connections to $USTACK_IP after 20 s:)"
	ss -tan "( dst $USTACK_IP )"
}

tcp_counter() {
	awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$1"
}

tcp_expect() {
	local v
	v=$(tcp_counter "$1" "$2")
	test "$v" "$3" "$4" ||
		tcp_fail "$(basename "$1"): $2 is $v, expected $3 $4"
	echo "ok: $(basename "$1" .out): $2 = $v"
}

# The state a ustack program left when it stopped: no socket open, no
# connection other than in TIME_WAIT, no packet buffer but the TAP's
# spare receive buffer.
tcp_expect_clean_state() {
	local conns tw
	tcp_expect "$1" state.sockets -eq 0
	conns=$(tcp_counter "$1" state.tcp_conns)
	tw=$(tcp_counter "$1" state.tcp_time_wait)
	[ "$conns" -eq "$tw" ] ||
		tcp_fail "$(basename "$1"): $conns connections left, only $tw in TIME_WAIT"
	echo "ok: $(basename "$1" .out): $conns connections left, all in TIME_WAIT"
	tcp_expect "$1" state.skb_live -le 1
}

tcp_sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# tcp_make_file PATH MB: MB MiB of random bytes.
tcp_make_file() {
	head -c "$(($2 * 1024 * 1024))" /dev/urandom >"$1"
}
