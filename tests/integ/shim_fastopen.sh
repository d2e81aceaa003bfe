#!/bin/bash
# shim_fastopen.sh - TCP Fast Open (RFC 7413) between ustack and the kernel,
# each way, with Python's sockets (tests/integ/lib/fastopen_peer.py): the
# client's first connection asks for a cookie, the next ones carry their
# request in the SYN with it, and the server takes that data at once.
# Checked on both ends: the echo, TCP_INFO's TCPI_OPT_SYN_DATA on each
# connection (0 for the first, 1 after), and the kernel's own counters
# (TCPFastOpenPassive as a server, TCPFastOpenActive as a client): the
# kernel accepted ustack's cookie request and SYN data, and ustack's
# cookie is one the kernel's client sends back.
#
# In a namespace of its own: tap0 with 10.76.0.1/24 on the kernel side,
# ustack at 10.76.0.2/24; both sides' net.ipv4.tcp_fastopen is 3.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
integ_setup_tap 76
source "$(dirname "$0")/lib/shim.sh"
shim_need
PEER=$INTEG_ROOT/tests/integ/lib/fastopen_peer.py
sysctl -qw net.ipv4.tcp_fastopen=3
export USTACK_SYSCTL="net.ipv4.tcp_fastopen=3"

# TcpExt counter NAME from /proc/net/netstat (this namespace's).
tcpext() {
	awk -v k="$1" '$1 == "TcpExt:" { if (!n) { for (i = 2; i <= NF; i++)
		if ($i == k) col = i; n = 1 } else print $col }' /proc/net/netstat
}
# Lines "conn I: syn data D" must say 0 for the first, 1 after.
expect_syn_data() {
	local file=$1 who=$2
	grep -q '^conn 0: syn data 0' "$file" ||
		shim_fail "$who: the first connection's SYN carried data"
	[ "$(grep -c '^conn [1-9]: syn data 1' "$file")" -eq 2 ] ||
		shim_fail "$who: later connections' SYN data was not taken"
}

# ustack's client, the kernel's server.
passive0=$(tcpext TCPFastOpenPassive)
"$PY" "$PEER" server --bind "$KERNEL_IP:7100" --conns 3 \
	>"$WORK/kserver.out" 2>&1 &
KPID=$!
SHIM_PIDS+=("$KPID")
kernel_wait_listen 7100
shim_run client 60 "$PY" "$PEER" client --to "$KERNEL_IP:7100" --conns 3
wait "$KPID" || shim_fail "the kernel's server failed"
cat "$WORK/client.out" "$WORK/kserver.out"
expect_syn_data "$WORK/client.out" "ustack client"
expect_syn_data "$WORK/kserver.out" "kernel server"
[ $(($(tcpext TCPFastOpenPassive) - passive0)) -eq 2 ] ||
	shim_fail "the kernel took no Fast Open data from ustack"
echo "ok: the kernel took ustack's SYN data twice (TCPFastOpenPassive)"

# The kernel's client, ustack's server.
active0=$(tcpext TCPFastOpenActive)
shim_start server "$PY" "$PEER" server --bind "$USTACK_IP:7101" --conns 3
shim_wait_line "$WORK/server.out" "^listening on"
timeout 60 "$PY" "$PEER" client --to "$USTACK_IP:7101" --conns 3 \
	>"$WORK/kclient.out" 2>&1 || shim_fail "the kernel's client failed"
shim_wait_exit "$SHIM_PID" 30 "server under ustack"
cat "$WORK/kclient.out" "$WORK/server.out"
expect_syn_data "$WORK/kclient.out" "kernel client"
expect_syn_data "$WORK/server.out" "ustack server"
[ $(($(tcpext TCPFastOpenActive) - active0)) -eq 2 ] ||
	shim_fail "ustack's server took no Fast Open data from the kernel"
echo "ok: ustack took the kernel's SYN data twice (TCPFastOpenActive)"
integ_pass
