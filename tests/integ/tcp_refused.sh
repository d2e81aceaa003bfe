#!/bin/bash
# tcp_refused.sh - a connection to a closed port is refused with a RST,
# both ways.
#
# In a network namespace of its own: tap0 with 10.38.0.1/24 on the kernel
# side, ustack (ASan builds) at 10.38.0.2/24 with a capture.
#
#  (a) `ustack up` listens nowhere; the kernel connects to its port 81 and
#      must get ECONNREFUSED (lib/tcp_client.py). ustack answered the SYN
#      with RST+ACK (RFC 9293 §3.10.7.1): counted as tcp.out_rsts, seen in
#      the capture, acknowledging the SYN.
#  (b) The kernel listens nowhere either; ustack's `http_get` connects to
#      the kernel's port 81 and must fail with "Connection refused"
#      (ECONNREFUSED), exit status 1, no file written, no connection left.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
[ -x "/usr/bin/python3" ] || { echo "no /usr/bin/python3 for the client"; exit 77; }
integ_setup_tap 38
source "$(dirname "$0")/lib/tcp.sh"
tcp_need ustack http_get

# ---- (a) kernel -> closed ustack port ----------------------------------
tcp_start ustack ustack
cmd=("$PY" "$TCP_CLIENT" refused --to "$USTACK_IP:81")
echo "\$ ${cmd[*]}"
timeout 30 "${cmd[@]}" >"$WORK/kernel-client.out" 2>&1 ||
	tcp_fail "kernel connect: $(cat "$WORK/kernel-client.out")"
cat "$WORK/kernel-client.out"
tcp_stop ustack
tcp_expect "$WORK/ustack.out" tcp.out_rsts -eq 1
tcp_expect "$WORK/ustack.out" drop.tcp_no_socket -eq 1
integ_tshark >/dev/null
# Relative numbers: the RST acknowledges the SYN (ack 1).
integ_expect_pcap "ip.src == $USTACK_IP && tcp.srcport == 81 && tcp.flags.reset == 1 && tcp.flags.ack == 1 && tcp.ack == 1" -eq 1

# ---- (b) ustack -> closed kernel port ----------------------------------
PCAP=$WORK/http_get.pcap
cmd=("$TOOLS_DIR/http_get" --tap tap0 --addr "$USTACK_IP/24" --pcap "$PCAP"
	--counters --timeout 10 -o "$WORK/none.bin" "http://$KERNEL_IP:81/")
echo "\$ ${cmd[*]}"
ip neigh flush dev tap0
rc=0
timeout 60 "${cmd[@]}" >"$WORK/http_get.out" 2>"$WORK/http_get.log" || rc=$?
cat "$WORK/http_get.log"
[ $rc -eq 1 ] || tcp_fail "http_get exited with status $rc, not 1"
grep -qx "http_get: connect to $KERNEL_IP:81: Connection refused" \
	"$WORK/http_get.log" || tcp_fail "http_get did not report ECONNREFUSED"
[ ! -e "$WORK/none.bin" ] || tcp_fail "http_get left an output file"
tcp_expect "$WORK/http_get.out" tcp.active_opens -eq 1
tcp_expect "$WORK/http_get.out" drop.tcp_reset -eq 1
tcp_expect_clean_state "$WORK/http_get.out"
integ_expect_pcap "ip.src == $KERNEL_IP && tcp.flags.reset == 1" -eq 1
integ_pass
