#!/bin/bash
# tcp_sack.sh - SACK against the kernel: ustack's `httpd` serves a file to
# curl over a TAP path that loses frames (ustack's fault layer: 3 % of the
# frames it sends, 1 % of those it receives, seeded), once with SACK on in
# the kernel (the namespace's default, net.ipv4.tcp_sack=1) and once with it
# off there, so that the connection falls back to NewReno.
#
# Checked each time: the SHA-256 of what curl saved; `ss -tin` on the
# kernel side, sampled during the transfer, shows `sack` exactly when
# both sides enabled it (where ss can show it at all: a kernel-to-kernel
# probe decides), and the kernel's ACKs carry SACK blocks exactly then; the fault layer dropped frames and ustack
# retransmitted; with SACK, ustack's SACK recovery ran (tcp.sack_recovery)
# and the kernel's SACKs were taken, without SACK it did not run; ustack
# stops with nothing left open. The retransmission counts of both runs are
# printed side by side (not compared: the kernel's timing varies).
# In a namespace of its own: tap0 10.46.0.1/24 (kernel), ustack
# 10.46.0.2/24. $SEED replays the fault dice.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

integ_enter_netns "$@"
command -v ss >/dev/null || {
	echo "ss (iproute2) is not installed (scripts/install-deps.sh installs it)"
	exit 77
}
integ_setup_tap 46
source "$(dirname "$0")/lib/tcp.sh"
tcp_need httpd
MB=${SACK_MB:-6}
SEED=${SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
[ "$SEED" -gt 0 ] || SEED=1
XFER_TIMEOUT=${SACK_TIMEOUT:-150}
FAULTS=(--tx-fault loss=3 --rx-fault loss=1 --fault-seed "$SEED")
echo "fault seed $SEED (SEED=$SEED replays the dice), $MB MiB each"

mkdir -p "$WORK/www"
tcp_make_file "$WORK/www/f.bin" "$MB"
SHA=$(tcp_sha "$WORK/www/f.bin")

# Does this system's ss show `sack` at all? (iproute2 6.1 on some newer
# kernels prints wscale but neither ts nor sack.) A kernel-to-kernel
# connection on loopback, where SACK is certainly on, tells.
ss_probe() {
	"$PY" - <<'PYEOF'
import socket, subprocess
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
c = socket.create_connection(l.getsockname()); a, _ = l.accept()
out = subprocess.run(["ss", "-Htin", "dst", "127.0.0.1"],
                     capture_output=True, text=True).stdout
print(1 if " sack" in out else 0)
PYEOF
}
ip link set lo up
SS_SHOWS_SACK=$(ss_probe)
[ "$SS_SHOWS_SACK" = 1 ] ||
	echo "note: ss here does not show sack even kernel to kernel; checking the wire (kernel's SACK blocks) instead"

# run SACK LABEL: one transfer with the kernel's net.ipv4.tcp_sack=SACK.
run() {
	local sack=$1 label=$2 rc=0 start pid
	sysctl -q -w net.ipv4.tcp_sack="$sack"
	tcp_start "$label" httpd --root "$WORK/www" --port 80 "${FAULTS[@]}"
	tcp_kernel_knows_ustack "$label"
	start=$SECONDS
	echo "\$ curl -o $WORK/$label.bin http://$USTACK_IP/f.bin (tcp_sack=$sack)"
	timeout "$XFER_TIMEOUT" curl -sS --fail -o "$WORK/$label.bin" \
		"http://$USTACK_IP/f.bin" 2>"$WORK/$label-curl.log" &
	pid=$!
	: >"$WORK/$label.ss"
	while kill -0 "$pid" 2>/dev/null; do
		ss -Htin state established "( dst $USTACK_IP )" >>"$WORK/$label.ss"
		# Back to back until the connection shows (a transfer can
		# be over within 0.2 s), then every 0.2 s.
		! grep -q 'rto:' "$WORK/$label.ss" || sleep 0.2
	done
	wait "$pid" || rc=$?
	[ $rc -ne 124 ] || tcp_fail "curl still running after ${XFER_TIMEOUT} s"
	[ $rc -eq 0 ] || tcp_fail "curl exited with status $rc: $(cat "$WORK/$label-curl.log")"
	[ "$(tcp_sha "$WORK/$label.bin")" = "$SHA" ] ||
		tcp_fail "curl received other bytes ($label)"
	echo "ok: ($label) sha256 matches ($((SECONDS - start)) s)"
	grep -q 'rto:' "$WORK/$label.ss" ||
		tcp_fail "ss never saw the connection established ($label)"
	if [ "$SS_SHOWS_SACK" = 1 ]; then
		if [ "$sack" = 1 ]; then
			grep -qw sack "$WORK/$label.ss" ||
				tcp_fail "ss -ti does not show sack: $(head -2 "$WORK/$label.ss")"
		else
			! grep -qw sack "$WORK/$label.ss" ||
				tcp_fail "ss -ti shows sack with tcp_sack=0"
		fi
	fi
	echo "ok: ($label) kernel: $(grep -m1 -o '^.*rto:' "$WORK/$label.ss" |
		tr -s ' \t' ' ' | sed 's/ rto:$//')"
	tcp_wait_kernel_closed
	tcp_stop "$label"
	tcp_kernel_forgets_ustack
	# On the wire (the capture is complete once httpd stopped): the
	# kernel's ACKs carry SACK blocks exactly when it was negotiated
	# (and, with 3 % loss, there are holes to report).
	PCAP=$WORK/$label.pcap
	integ_tshark -Y "ip.src == $KERNEL_IP && tcp.options.sack_le" \
		>"$WORK/$label.sacks"
	n=$(wc -l <"$WORK/$label.sacks")
	echo "ok: ($label) $n ACKs from the kernel carry SACK blocks"
	if [ "$sack" = 1 ]; then
		[ "$n" -gt 0 ] || tcp_fail "the kernel sent no SACK blocks"
	else
		[ "$n" -eq 0 ] || tcp_fail "SACK blocks with tcp_sack=0"
	fi
	tcp_expect "$WORK/$label.out" drop.dev_fault_loss -gt 0
	tcp_expect "$WORK/$label.out" tcp.retrans_segs -gt 0
	if [ "$sack" = 1 ]; then
		tcp_expect "$WORK/$label.out" tcp.sack_recovery -gt 0
	else
		tcp_expect "$WORK/$label.out" tcp.sack_recovery -eq 0
	fi
	tcp_expect_clean_state "$WORK/$label.out"
}

run 1 sack
run 0 nosack
for l in sack nosack; do
	printf '%-7s retransmitted %5s segments, %4s timeouts, %4s fast retransmits, %5s frames lost\n' \
		"$l:" "$(tcp_counter "$WORK/$l.out" tcp.retrans_segs)" \
		"$(tcp_counter "$WORK/$l.out" tcp.timeouts)" \
		"$(tcp_counter "$WORK/$l.out" tcp.fast_retrans)" \
		"$(tcp_counter "$WORK/$l.out" drop.dev_fault_loss)"
done
integ_pass
