#!/bin/sh
# defaults.sh - the init command of every script (`../defaults.sh`): sets
# the Linux kernel of the script's own network namespace (the runner makes
# a fresh one per run; never run this in the host's namespace) to the
# behaviour ustack implements, so that one script holds for both.
#
# Linux features ustack does not have yet, off:
#   tcp_sack, tcp_timestamps, tcp_window_scaling  the SYN carries only MSS
#   tcp_ecn                                       no ECN negotiation (ustack
#                                                 has it: the ecn/ scripts
#                                                 turn it on)
#   tcp_fastopen                                  no TFO (ustack has it:
#                                                 the fastopen/ scripts
#                                                 turn it on)
#   tcp_syncookies                                a full SYN queue drops
#   tcp_early_retrans                             no TLP (ustack has it: the
#                                                 sack/*tlp* scripts turn it
#                                                 on)
#   tcp_frto                                      no F-RTO (RFC 5682;
#                                                 ustack has it: the
#                                                 sack/frto-* scripts turn
#                                                 it on)
#   tcp_autocorking                               small writes are not held
#                                                 back while data is queued
# Linux choices where ustack follows the RFC:
#   tcp_syn_linear_timeouts=0   SYN retransmissions back off exponentially
#                               from the first (RFC 6298 §5.5); Linux >= 6.7
#                               waits 1 s linearly for the first four
#   tcp_invalid_ratelimit=0     every out-of-window segment is answered
#                               (RFC 9293 §3.10.7.4), on both sides; both
#                               rate-limit these ACKs and challenge ACKs
#                               to one per 500 ms by default (a script
#                               about the limit passes
#                               net.ipv4.tcp_invalid_ratelimit=500)
# Settings ustack has too, stated so a host's tuning cannot leak in:
#   tcp_recovery=1              RACK (RFC 8985 §6) finds losses on SACK
#                               connections; Linux 6.18 does so whatever
#                               this says, ustack follows it (0 there:
#                               RFC 6675's DupThresh alone)
#   tcp_congestion_control=reno (ustack: NewReno), tcp_no_metrics_save=1,
#   initial cwnd 10, RTO min 200 ms, delayed ACK 40 ms are the defaults.
#
# And packetdrill's tun device (Linux side only) gets gso_max_segs 1: the
# kernel then hands it one MSS-sized segment per packet, as a wire carries
# them, instead of TSO/GSO super-packets that the scripts would have to
# describe differently for each side.
#
# A script that wants a feature on gives the sysctls as arguments, applied
# after these: `../defaults.sh net.ipv4.tcp_sack=1`. run.sh hands this
# file's net.ipv4 settings and the script's arguments to the ustack side
# too (as --so_flags; knobs ustack lacks are ignored there), so both sides
# run with the same settings.
#
# The ustack side runs this too (it is harmless there: the plug-in ignores
# the kernel's TCP); errors are printed but do not fail the script.
for kv in \
	net.ipv4.tcp_sack=0 \
	net.ipv4.tcp_timestamps=0 \
	net.ipv4.tcp_window_scaling=0 \
	net.ipv4.tcp_ecn=0 \
	net.ipv4.tcp_fastopen=0 \
	net.ipv4.tcp_syncookies=0 \
	net.ipv4.tcp_early_retrans=0 \
	net.ipv4.tcp_recovery=1 \
	net.ipv4.tcp_frto=0 \
	net.ipv4.tcp_autocorking=0 \
	net.ipv4.tcp_syn_linear_timeouts=0 \
	net.ipv4.tcp_invalid_ratelimit=0 \
	net.ipv4.tcp_congestion_control=reno \
	net.ipv4.tcp_no_metrics_save=1 \
	"$@"; do
	sysctl -q -w "$kv" >/dev/null 2>&1 || echo "defaults.sh: cannot set $kv" >&2
done
if ip link show dev tun0 >/dev/null 2>&1; then
	ip link set dev tun0 gso_max_segs 1 || echo "defaults.sh: tun0 gso_max_segs" >&2
fi
exit 0
