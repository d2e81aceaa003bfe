/*
 * stats.h - named counters and drop reasons, one table per stack instance.
 *
 * Every protocol counts what it does (like OpenBSD's tcpstat and Linux's
 * SNMP MIBs) and every dropped packet is counted under a reason (Linux's
 * enum skb_drop_reason). Both lists are X-macros, so the enum and the
 * printable names can never disagree. To add a counter or a reason, add one
 * line to the section of your module.
 */
#ifndef US_CORE_STATS_H
#define US_CORE_STATS_H

#include <stdint.h>
#include <stdio.h>

struct sk_buff;
struct ustack;

#define US_MIB_LIST(X) \
	/* sk_buffs made, and data areas the cache could not give (from \
	 * the skb pool when printed) */ \
	X(SKB_ALLOCS, "skb.allocs") \
	X(SKB_CLONES, "skb.clones") \
	X(SKB_CACHE_MISSES, "skb.cache_misses") \
	/* Ethernet */ \
	X(ETH_IN_FRAMES, "eth.in_frames") \
	X(ETH_OUT_FRAMES, "eth.out_frames") \
	/* fault layer on a TAP device (tests) */ \
	X(DEV_FAULT_DUPLICATED, "dev.fault_duplicated") \
	X(DEV_FAULT_REORDERED, "dev.fault_reordered") \
	/* offloads: GSO packets a device took whole / received whole, and \
	 * what software did for a device that lacks an offload */ \
	X(DEV_TX_GSO, "dev.tx_gso") \
	X(DEV_TX_THREAD, "dev.tx_thread") \
	X(DEV_RX_GSO, "dev.rx_gso") \
	X(DEV_RX_COPYBREAK, "dev.rx_copybreak") /* small GSO frame copied */ \
	X(DEV_GSO_SEGMENTS, "dev.gso_segments") \
	X(DEV_CSUM_HELP, "dev.csum_help") \
	/* engine runs by application threads blocked in a socket call, \
	 * which read the devices themselves (socket/wait.c) */ \
	X(RT_DRIVEN, "rt.driven") \
	/* ... of which stopped reading a device once the thread had what \
	 * it waited for, leaving it possibly non-empty (runtime.c) */ \
	X(RT_DRIVEN_EARLY, "rt.driven_early") \
	/* wake-ups for frames (of the runtime or a driving thread) with \
	 * no engine run: another thread read every device empty after \
	 * the wake-up, before this one had the lock (us_drained_since) */ \
	X(RT_DRAINED_BEFORE, "rt.drained_before") \
	/* blocked socket calls answered without a sleep, as polling the \
	 * devices first (net.core.busy_read) found what they waited for \
	 * (wait.c) */ \
	X(RT_BUSY_POLL_HITS, "rt.busy_poll_hits") \
	/* ARP */ \
	X(ARP_IN_REQUESTS, "arp.in_requests") \
	X(ARP_IN_REPLIES, "arp.in_replies") \
	X(ARP_OUT_REQUESTS, "arp.out_requests") \
	X(ARP_OUT_REPLIES, "arp.out_replies") \
	X(ARP_OUT_GRATUITOUS, "arp.out_gratuitous") \
	X(ARP_RESOLVED, "arp.resolved") \
	X(ARP_STALE_FAILED, "arp.stale_failed") /* polls unanswered */ \
	X(ARP_QUEUED, "arp.queued") \
	/* IPv4 */ \
	X(IP_IN_RECEIVES, "ip.in_receives") \
	X(IP_IN_DELIVERS, "ip.in_delivers") \
	X(IP_OUT_REQUESTS, "ip.out_requests") \
	X(IP_REASM_REQDS, "ip.reasm_reqds") \
	X(IP_REASM_OKS, "ip.reasm_oks") \
	X(IP_REASM_FAILS, "ip.reasm_fails") \
	X(IP_FRAG_OKS, "ip.frag_oks") \
	X(IP_FRAG_FAILS, "ip.frag_fails") \
	X(IP_FRAG_CREATES, "ip.frag_creates") \
	/* ICMP */ \
	X(ICMP_IN_MSGS, "icmp.in_msgs") \
	X(ICMP_IN_ECHOS, "icmp.in_echos") \
	X(ICMP_IN_ECHO_REPS, "icmp.in_echo_reps") \
	X(ICMP_IN_DEST_UNREACHS, "icmp.in_dest_unreachs") \
	X(ICMP_IN_TIME_EXCDS, "icmp.in_time_excds") \
	X(ICMP_OUT_MSGS, "icmp.out_msgs") \
	X(ICMP_OUT_ECHOS, "icmp.out_echos") \
	X(ICMP_OUT_ECHO_REPS, "icmp.out_echo_reps") \
	X(ICMP_OUT_DEST_UNREACHS, "icmp.out_dest_unreachs") \
	X(ICMP_OUT_TIME_EXCDS, "icmp.out_time_excds") \
	X(ICMP_OUT_RATELIMITED, "icmp.out_ratelimited") \
	X(ICMP_OUT_PROT_UNREACHS, "icmp.out_prot_unreachs") \
	/* UDP */ \
	X(UDP_IN_DATAGRAMS, "udp.in_datagrams") \
	X(UDP_OUT_DATAGRAMS, "udp.out_datagrams") \
	X(UDP_NO_PORTS, "udp.no_ports") \
	X(UDP_IN_ERRORS, "udp.in_errors") \
	X(UDP_RCVBUF_ERRORS, "udp.rcvbuf_errors") \
	X(UDP_SNDBUF_ERRORS, "udp.sndbuf_errors") \
	X(UDP_CSUM_ERRORS, "udp.csum_errors") \
	/* a broadcast or multicast datagram no socket took (Linux's \
	 * IgnoredMulti) */ \
	X(UDP_IGNORED_MULTI, "udp.ignored_multi") \
	/* IGMP */ \
	X(IGMP_IN_MSGS, "igmp.in_msgs") \
	X(IGMP_IN_QUERIES, "igmp.in_queries") \
	X(IGMP_OUT_MSGS, "igmp.out_msgs") \
	/* TCP */ \
	X(TCP_ACTIVE_OPENS, "tcp.active_opens") \
	X(TCP_PASSIVE_OPENS, "tcp.passive_opens") \
	X(TCP_ESTAB_RESETS, "tcp.estab_resets") \
	X(TCP_IN_SEGS, "tcp.in_segs") \
	X(TCP_OUT_SEGS, "tcp.out_segs") \
	X(TCP_RETRANS_SEGS, "tcp.retrans_segs") \
	X(TCP_RETRANS_COLLAPSED, "tcp.retrans_collapsed") /* tcp_collapse.c */ \
	X(TCP_IN_ERRS, "tcp.in_errs") \
	X(TCP_OUT_RSTS, "tcp.out_rsts") \
	X(TCP_TIMEOUTS, "tcp.timeouts") \
	/* a retransmission not sent: the copy before it still waits for \
	 * ARP (Linux's TCPSpuriousRtxHostQueues) */ \
	X(TCP_SPURIOUS_RTX_HOSTQUEUES, "tcp.spurious_rtx_hostqueues") \
	X(TCP_FAST_RETRANS, "tcp.fast_retrans") \
	X(TCP_LISTEN_OVERFLOWS, "tcp.listen_overflows") \
	/* a handshake's ACK without data, dropped under TCP_DEFER_ACCEPT \
	 * (Linux's TCPDeferAcceptDrop) */ \
	X(TCP_DEFER_ACCEPT_DROP, "tcp.defer_accept_drop") \
	/* TCP Fast Open (Linux's TCPFastOpen*): SYN data taken at once, a \
	 * client's and a server's; not taken (the SYN-ACK did not \
	 * acknowledge it; the cookie was wrong); a listener's queue full; \
	 * cookies asked for */ \
	X(TCP_FASTOPEN_ACTIVE, "tcp.fastopen_active") \
	X(TCP_FASTOPEN_ACTIVE_FAIL, "tcp.fastopen_active_fail") \
	X(TCP_FASTOPEN_PASSIVE, "tcp.fastopen_passive") \
	X(TCP_FASTOPEN_PASSIVE_FAIL, "tcp.fastopen_passive_fail") \
	X(TCP_FASTOPEN_LISTEN_OVERFLOW, "tcp.fastopen_listen_overflow") \
	X(TCP_FASTOPEN_COOKIE_REQD, "tcp.fastopen_cookie_reqd") \
	X(TCP_CHALLENGE_ACKS, "tcp.challenge_acks") \
	X(TCP_SACK_RECOVERY, "tcp.sack_recovery") \
	X(TCP_LOSS_PROBES, "tcp.loss_probes") \
	X(TCP_LOSS_PROBE_RECOVERY, "tcp.loss_probe_recovery") \
	X(TCP_SACK_DISCARD, "tcp.sack_discard") \
	X(TCP_DSACK_RECV, "tcp.dsack_recv") \
	X(TCP_DSACK_IGNORED_DUBIOUS, "tcp.dsack_ignored_dubious") \
	X(TCP_DSACK_SENT, "tcp.dsack_sent") \
	X(TCP_LOST_RETRANSMIT, "tcp.lost_retransmit") /* RACK: again */ \
	X(TCP_RACK_REO_TIMEOUTS, "tcp.rack_reo_timeouts") \
	X(TCP_DSACK_UNDO, "tcp.dsack_undo") /* undone by D-SACKs */ \
	X(TCP_TS_UNDO, "tcp.ts_undo") /* one undone by timestamps */ \
	X(TCP_LOSS_UNDO, "tcp.loss_undo") /* a timeout undone */ \
	X(TCP_SPURIOUS_RTOS, "tcp.spurious_rtos") /* found by F-RTO */ \
	X(TCP_SACK_RCV_NOMEM, "tcp.sack_rcv_nomem") /* ACKs without blocks */ \
	/* TCP urgent data (tcp_urgent.c) */ \
	X(TCP_URG_MARKED, "tcp.urg_marked") \
	X(TCP_URG_RCVD, "tcp.urg_rcvd") \
	X(TCP_URG_STALE, "tcp.urg_stale") \
	X(TCP_URG_BEYOND_WND, "tcp.urg_beyond_wnd") \
	X(TCP_URG_REPLACED, "tcp.urg_replaced") \
	X(TCP_PAWS_ESTAB_REJECTED, "tcp.paws_estab_rejected") \
	X(TCP_PAWS_OLD_ACK, "tcp.paws_old_ack") \
	X(TCP_TW_OVERFLOW, "tcp.timewait_overflow") \
	/* an orphan reset instead of waiting in FIN_WAIT2, TCP_LINGER2 < 0 \
	 * (Linux's TCPAbortOnLinger, and its TCPAbortOnData for the ACK \
	 * of the FIN) */ \
	X(TCP_ABORT_ON_LINGER, "tcp.abort_on_linger") \
	/* segments and ICMP errors below a socket's IP_MINTTL (Linux's \
	 * TCPMinTTLDrop) */ \
	X(TCP_MINTTL_DROP, "tcp.minttl_drop") \
	/* an orphan reset for net.ipv4.tcp_max_orphans (Linux's \
	 * TCPAbortOnMemory, tcp_check_oom) */ \
	X(TCP_ABORT_ON_MEMORY, "tcp.abort_on_memory") \
	X(TCP_PAWS_TW_REJECTED, "tcp.paws_tw_rejected") \
	/* writes stopped at the skb pool's queue limit (tcp.c) */ \
	X(TCP_SND_POOL_FULL, "tcp.snd_pool_full") \
	X(TCP_OUT_OF_WINDOW_ICMPS, "tcp.out_of_window_icmps") /* RFC 5927 */ \
	X(TCP_LISTEN_DROPS, "tcp.listen_drops") /* embryos ICMP ended */ \
	X(TCP_WQUEUE_TOO_BIG, "tcp.wqueue_too_big") /* no cut: memory */ \
	X(TCP_RCV_COALESCED, "tcp.rcv_coalesced") /* onto a queued buffer */ \
	X(TCP_OFO_PRUNED, "tcp.ofo_pruned") /* freed for room */ \
	X(TCP_RCV_COLLAPSED, "tcp.rcv_collapsed") /* copied to fit */ \
	X(TCP_PRUNE_CALLED, "tcp.prune_called") /* queues walked to */ \
	X(TCP_SACK_RENEGING, "tcp.sack_reneging") /* SACKed head at RTO */ \
	/* duplicate ACKs beyond the flight without SACK (Linux's \
	 * TCPRenoReorder) */ \
	X(TCP_RENO_REORDER, "tcp.reno_reorder")

#define US_DROP_REASON_LIST(X) \
	X(NOT_DROPPED, "not_dropped") /* 0: parse functions' "valid" */ \
	X(NOT_SPECIFIED, "not_specified") \
	X(NOMEM, "nomem") \
	/* device level */ \
	X(DEV_DOWN, "dev_down") \
	X(DEV_TX_ERROR, "dev_tx_error") \
	X(DEV_RX_ERROR, "dev_rx_error") \
	X(DEV_BAD_VNET_HDR, "dev_bad_vnet_hdr") \
	X(DEV_GSO_FAILED, "dev_gso_failed") \
	X(DEV_RX_TOO_LONG, "dev_rx_too_long") \
	X(WIRE_LOSS, "wire_loss") \
	X(WIRE_QUEUE_FULL, "wire_queue_full") \
	X(DEV_FAULT_LOSS, "dev_fault_loss") \
	/* Ethernet */ \
	X(ETH_TOO_SHORT, "eth_too_short") \
	X(ETH_UNKNOWN_TYPE, "eth_unknown_type") \
	X(ETH_OTHERHOST, "eth_otherhost") \
	X(ETH_BAD_SRC, "eth_bad_src") \
	/* ARP */ \
	X(ARP_TRUNCATED, "arp_truncated") \
	X(ARP_BAD_FORMAT, "arp_bad_format") \
	X(ARP_BAD_SENDER, "arp_bad_sender") \
	X(ARP_NOT_FOR_US, "arp_not_for_us") \
	X(ARP_QUEUE_FULL, "arp_queue_full") \
	X(ARP_RESOLVE_FAILED, "arp_resolve_failed") \
	X(ARP_TABLE_FULL, "arp_table_full") \
	/* IPv4 */ \
	X(IP_TRUNCATED, "ip_truncated") \
	X(IP_BAD_VERSION, "ip_bad_version") \
	X(IP_BAD_IHL, "ip_bad_ihl") \
	X(IP_BAD_CSUM, "ip_bad_csum") \
	X(IP_BAD_LENGTH, "ip_bad_length") \
	X(IP_BAD_SADDR, "ip_bad_saddr") \
	X(IP_BAD_OPTIONS, "ip_bad_options") \
	X(IP_SOURCE_ROUTE, "ip_source_route") \
	X(IP_NOT_FOR_US, "ip_not_for_us") \
	X(IP_NO_ROUTE, "ip_no_route") \
	/* a copy for this host (a broadcast, a group) past the backlog */ \
	X(IP_LOOP_FULL, "ip_loop_full") \
	X(IP_UNKNOWN_PROTO, "ip_unknown_proto") \
	X(IP_FRAG_NEEDED_DF, "ip_frag_needed_df") \
	X(IP_FRAG_BAD, "ip_frag_bad") \
	X(IP_FRAG_OVERLAP, "ip_frag_overlap") \
	X(IP_FRAG_DUP, "ip_frag_dup") \
	X(IP_FRAG_TOO_BIG, "ip_frag_too_big") \
	X(IP_FRAG_ECN, "ip_frag_ecn") \
	X(IP_REASM_TIMEOUT, "ip_reasm_timeout") \
	X(IP_REASM_MEMLIMIT, "ip_reasm_memlimit") \
	/* ICMP */ \
	X(ICMP_TRUNCATED, "icmp_truncated") \
	X(ICMP_BAD_CSUM, "icmp_bad_csum") \
	X(ICMP_UNKNOWN_TYPE, "icmp_unknown_type") \
	X(ICMP_BAD_ERROR, "icmp_bad_error") \
	X(ICMP_BROADCAST_ECHO, "icmp_broadcast_echo") \
	X(ICMP_BROADCAST, "icmp_broadcast") \
	X(ICMP_RATELIMIT, "icmp_ratelimit") \
	/* IGMP */ \
	X(IGMP_TRUNCATED, "igmp_truncated") \
	X(IGMP_BAD_CSUM, "igmp_bad_csum") \
	X(IGMP_UNKNOWN_TYPE, "igmp_unknown_type") \
	/* UDP and sockets */ \
	X(UDP_TRUNCATED, "udp_truncated") \
	X(UDP_BAD_LENGTH, "udp_bad_length") \
	X(UDP_BAD_CSUM, "udp_bad_csum") \
	X(UDP_NO_SOCKET, "udp_no_socket") \
	X(SOCKET_RCVBUFF, "socket_rcvbuff") \
	X(SOCKET_FILTER, "socket_filter")   /* SO_ATTACH_FILTER's 0 */ \
	/* TCP */ \
	X(TCP_TRUNCATED, "tcp_truncated") \
	X(TCP_BAD_DOFF, "tcp_bad_doff") \
	X(TCP_BAD_OPTIONS, "tcp_bad_options") \
	X(TCP_BAD_CSUM, "tcp_bad_csum") \
	X(TCP_MD5_UNEXPECTED, "tcp_md5_unexpected") \
	X(TCP_MINTTL, "tcp_minttl")   /* below IP_MINTTL */ \
	X(TCP_NOT_UNICAST, "tcp_not_unicast") \
	X(TCP_NO_SOCKET, "tcp_no_socket") \
	X(TCP_RESET_IGNORED, "tcp_reset_ignored") \
	X(TCP_RESET, "tcp_reset") \
	X(TCP_FLAGS, "tcp_flags") \
	X(TCP_LISTEN_OVERFLOW, "tcp_listen_overflow") \
	X(TCP_DEFER_ACCEPT, "tcp_defer_accept") \
	X(TCP_BAD_ACK, "tcp_bad_ack") \
	X(TCP_INVALID_SEQ, "tcp_invalid_seq") \
	X(TCP_SYN_IN_WINDOW, "tcp_syn_in_window") \
	X(TCP_ACK_UNSENT, "tcp_ack_unsent") \
	X(TCP_TOO_OLD_ACK, "tcp_too_old_ack") \
	X(TCP_ZERO_WINDOW, "tcp_zero_window") \
	X(TCP_OVERWINDOW, "tcp_overwindow") \
	X(TCP_CLOSED, "tcp_closed") \
	X(TCP_OLD_DATA, "tcp_old_data") \
	X(TCP_OFO_DROP, "tcp_ofo_drop") \
	X(TCP_POOL_FULL, "tcp_pool_full") /* data, skb pool past its limit */ \
	X(TCP_OFO_DUP, "tcp_ofo_dup") \
	X(TCP_OFO_MERGE, "tcp_ofo_merge") /* covered by a later one */ \
	X(TCP_RCVQ_FULL, "tcp_rcvq_full") /* past the receive buffer */ \
	X(TCP_RFC7323_PAWS, "tcp_rfc7323_paws") \
	X(TCP_RFC7323_PAWS_ACK, "tcp_rfc7323_paws_ack")

#define US_X_ENUM(name, str) US_MIB_##name,
enum us_mib { US_MIB_LIST(US_X_ENUM) US_MIB_MAX };
#undef US_X_ENUM

#define US_X_ENUM(name, str) US_DROP_##name,
enum us_drop_reason { US_DROP_REASON_LIST(US_X_ENUM) US_DROP_MAX };
#undef US_X_ENUM

struct us_stats {
	uint64_t mib[US_MIB_MAX];
	uint64_t drops[US_DROP_MAX];
	uint64_t drops_total;
};

const char *us_mib_name(enum us_mib m);
const char *us_drop_reason_name(enum us_drop_reason r);

/* Print every non-zero counter and drop reason, one "name value" a line. */
void us_stats_print(const struct us_stats *s, FILE *f);

#endif
