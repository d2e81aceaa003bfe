#!/bin/bash
# ping_rr.sh - the kernel's `ping -R` and `ping -T` to ustack over a TAP
# device: ustack records its address and time in the request's options on
# receipt and echoes them in its reply with its own next entry (RFC 791
# §3.1, RFC 1122 §3.2.2.6; Linux's ip_options_compile, ip_options_echo).
#
# In a network namespace of its own: tap0 with 10.48.0.1/24, `ustack up`
# at 10.48.0.2/24. `ping -R` prints the recorded route of the reply: the
# kernel's address as the request left, ustack's as it came in and as
# the reply left, the kernel's as the reply came in (what Linux's lo gives
# for `ping -R 127.0.0.1`: the same address four times). `ping -T
# tsandaddr` prints the same four addresses, each with its time, `ping -T
# tsonly` four times. The capture must show ustack's replies with them.
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

# block NAME: the first field of each line of ping's NAME: block (an
# address, or a time), space-separated.
block() {
	awk -v name="$1:" '$1 == name { on = 1; $1 = ""; $0 = $0 }
		on && NF { printf "%s ", $1; next } { on = 0 }'
}

integ_enter_netns "$@"
integ_setup_tap 48
integ_start_ustack
echo "ustack up at $USTACK_IP, mac $USTACK_MAC"

# A first ping resolves ustack's MAC.
ping -n -c 1 -W 2 "$USTACK_IP" >/dev/null ||
	integ_fail "ustack did not answer the first ping"

out=$(ping -n -c 1 -W 2 -R "$USTACK_IP" 2>&1) ||
	integ_fail "ping -R got no reply: $out"
echo "$out"
rr=$(block RR <<<"$out")
want="$KERNEL_IP $USTACK_IP $USTACK_IP $KERNEL_IP "
[ "$rr" = "$want" ] ||
	integ_fail "ping -R recorded '$rr', want '$want'"

out=$(ping -n -c 1 -W 2 -T tsandaddr "$USTACK_IP" 2>&1) ||
	integ_fail "ping -T tsandaddr got no reply: $out"
echo "$out"
ts=$(block TS <<<"$out")
[ "$ts" = "$want" ] ||
	integ_fail "ping -T tsandaddr recorded '$ts', want '$want'"

out=$(ping -n -c 1 -W 2 -T tsonly "$USTACK_IP" 2>&1) ||
	integ_fail "ping -T tsonly got no reply: $out"
echo "$out"
n=$(block TS <<<"$out" | wc -w)
[ "$n" -eq 4 ] || integ_fail "ping -T tsonly: $n times recorded, want 4"

integ_stop_ustack
integ_expect_counter icmp.in_echos -eq 4
integ_expect_counter icmp.out_echo_reps -eq 4
integ_tshark >/dev/null
integ_expect_pcap "icmp.type == 0 && ip.src == $USTACK_IP && ip.opt.type == 7" -eq 1
integ_expect_pcap "icmp.type == 0 && ip.src == $USTACK_IP && ip.opt.type == 68" -eq 2
integ_pass
