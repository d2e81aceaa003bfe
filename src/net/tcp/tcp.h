/*
 * tcp.h - the Transmission Control Protocol (RFC 9293): struct tcp_sock and
 * the pieces shared by tcp.c (socket calls, state, tables), tcp_input.c
 * (segment arrival, RFC 9293 §3.10.7), tcp_output.c (building and sending
 * segments) and tcp_timer.c (retransmission, delayed ACK, keepalive,
 * TIME_WAIT).
 *
 * Receive: ip_local_deliver -> tcp_v4_rcv -> lookup -> tcp_rcv_state_process
 * Send:    us_send -> inet_sendmsg -> tcp_sendmsg -> tcp_write_xmit ->
 *          tcp_transmit_skb -> ip_output
 */
#ifndef US_NET_TCP_TCP_H
#define US_NET_TCP_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include "core/list.h"
#include "core/siphash.h"
#include "core/skbuff.h"
#include "core/timer.h"
#include "net/sock.h"
#include "net/tcp/tcp_parse.h"
#include "net/tcp/tcp_seq.h"
#include "net/tcp/tcp_timewait.h"

struct ustack;
struct tcp_congestion_ops;

#define TCP_BHASH 256
#define TCP_EHASH 1024          /* first size of the connection table */
#define TCP_EHASH_MAX (1u << 20) /* and its largest */
#define TCP_PORT_PERTURB 256     /* RFC 6056 Algorithm 4's table */

/* Linux's defaults (net.ipv4.tcp_* and include/net/tcp.h). */
/* TCP_MSS_DEFAULT (536, RFC 9293 §3.7.1) comes from <netinet/tcp.h>. */
#define TCP_MIN_MSS 88              /* TCP_MAXSEG's floor */
#define TCP_MIN_SND_MSS 48          /* Linux's net.ipv4.tcp_min_snd_mss */
#define TCP_MAX_MSS (65535 - 40)
#define TCP_MAXSEG_MAX 32767        /* TCP_MAXSEG's ceiling (MAX_TCP_WINDOW) */
#define TCP_INIT_CWND 10             /* RFC 6928 */
#define TCP_RTO_MIN_TIME_US 200000   /* Linux TCP_RTO_MIN */
#define TCP_RTO_MAX_US 120000000ULL  /* Linux TCP_RTO_MAX */
#define TCP_TIMEOUT_INIT_US 1000000  /* RFC 6298 §2.1 */
#define TCP_TIMEOUT_FALLBACK_US 3000000 /* RFC 6298 §5.7 */
#define TCP_RENEG_DELAY_MIN_US 10000  /* Linux's tcp_check_sack_reneging */
#define TCP_DELACK_MIN_US 40000      /* Linux TCP_DELACK_MIN */
#define TCP_DELACK_MAX_TIME_US 200000 /* Linux TCP_DELACK_MAX */
/* What Linux's tcp_orphan_retries gives with net.ipv4.tcp_orphan_retries
 * at its default, 0, while the backed-off RTO is below TCP_RTO_MAX. */
#define TCP_ORPHAN_RETRIES 8
#define TCP_TIMEOUT_MIN_US 2000      /* Linux TCP_TIMEOUT_MIN */
/* Linux keeps the timer bounds a socket sets in jiffies: the tick they
 * are rounded up to, 4 ms (CONFIG_HZ 250, as Debian builds its kernel). */
#define TCP_TICK_US 4000
#ifndef TCP_RTO_MAX_MS             /* (Linux 6.15's, newer than glibc's) */
#define TCP_RTO_MAX_MS 44
#define TCP_RTO_MIN_US 45
#define TCP_DELACK_MAX_US 46
#endif
#define TCP_FIN_TIMEOUT_US 60000000ULL   /* net.ipv4.tcp_fin_timeout */
#define TCP_TIMEWAIT_LEN_US 60000000ULL  /* Linux's TCP_TIMEWAIT_LEN */
#define TCP_FIN_TIMEOUT_MAX_S 120        /* TCP_LINGER2's largest */
#define TCP_KEEPIDLE_S 7200
#define TCP_KEEPINTVL_S 75
#define TCP_KEEPCNT_DEFAULT 9
/* The largest window the 16-bit field holds unscaled: a SYN's window, and
 * every window of a connection without RFC 7323 window scaling. */
#define TCP_MAX_WINDOW 65535
#define TCP_PAWS_24DAYS_US (24ULL * 86400 * US_USEC_PER_SEC) /* RFC 7323 §5.5 */
#define TCP_PAWS_WINDOW 1            /* Linux tolerates a TSval 1 tick old */

enum { TCP_CHILD_NONE, TCP_CHILD_SYNQ, TCP_CHILD_ACCEPTQ };

/* Per-segment control data in skb->cb (Linux's struct tcp_skb_cb). */
struct tcp_skb_cb {
	uint32_t seq;       /* first sequence number */
	uint32_t end_seq;   /* seq + payload + SYN + FIN */
	uint8_t flags;      /* TCPHDR_* to send, or received */
	uint8_t retrans;    /* times sent again */
	uint8_t sacked;     /* TCPCB_* scoreboard marks (tcp_sack.c) */
	uint8_t carved : 1; /* the payload is part of a data area shared
			       with its neighbours (tcp_sendmsg_carve): no
			       header may be written in front of it */
	uint8_t tx_app_limited : 1; /* sent in an application-limited
				       stretch (tcp_rate.c) */
	uint8_t zerocopy : 1; /* holds bytes of a MSG_ZEROCOPY send: as
				 Linux's skb_zcopy, it is never merged with
				 another when sent again (tcp_collapse.c) */
	us_time_t sent;     /* last transmission, for RTT samples (Karn) */
	uint32_t tw_isn;    /* received SYN reopening a TIME_WAIT pair: the
			       ISN to answer with (0 = choose one) */
	/* The delivery-rate sampler's record of the connection when the
	 * segment last went (Linux's tcp_skb_cb.tx; tcp_rate.c). */
	uint32_t tx_delivered;      /* tp->delivered then */
	us_time_t tx_first;         /* the send phase's start then */
	us_time_t tx_delivered_at;  /* the last delivery's time then; 0: no
				       sample from this segment (not
				       stamped, or SACKed already) */
};

#define TCP_SKB_CB(skb) ((struct tcp_skb_cb *)(skb)->cb)
_Static_assert(sizeof(struct tcp_skb_cb) <= sizeof(((struct sk_buff *)0)->cb),
	       "tcp_skb_cb fits skb->cb");

/*
 * The delivery-rate sampler (Linux's tcp_rate.c, after
 * draft-cheng-iccrg-delivery-rate-estimation): what it keeps per
 * connection, made with the first data sent (tcp_rate_get), so that an
 * idle connection holds none of it. TCP_INFO's delivery rate is the last
 * sample kept; a congestion control that models the path (BBR) takes
 * every ACK's sample (struct rate_sample).
 */
struct tcp_rate {
	us_time_t first_tx;         /* the send phase's start: when the
				       segment (S)ACKed last was sent
				       (Linux's first_tx_mstamp) */
	us_time_t delivered_at;     /* when tp->delivered last grew
				       (delivered_mstamp) */
	uint32_t app_limited;       /* the delivered count at which an
				       application-limited stretch ends; 0:
				       none (Linux's app_limited) */
	uint32_t lost;              /* segments marked lost, ever (tp->lost) */
	uint32_t rate_delivered;    /* the sample kept for TCP_INFO: */
	uint32_t rate_interval_us;  /*   segments over microseconds */
	bool rate_app_limited;      /*   and whether it was app-limited */
};

/* One ACK's delivery-rate sample (Linux's struct rate_sample). */
struct rate_sample {
	us_time_t prior_mstamp;     /* delivered_at when the newest segment
				       this ACK (S)ACKs was sent */
	uint32_t prior_delivered;   /* tp->delivered then */
	int32_t delivered;          /* segments delivered over the interval;
				       -1: no sample */
	int64_t interval_us;        /* the longer of the send and ACK phases;
				       -1: no sample */
	uint32_t snd_interval_us;   /* the send phase */
	uint32_t rcv_interval_us;   /* the ACK phase */
	int64_t rtt_us;             /* this ACK's RTT sample of a segment
				       sent once (-1: none) */
	uint32_t losses;            /* segments newly marked lost */
	uint32_t acked_sacked;      /* segments newly (S)ACKed */
	uint32_t prior_in_flight;   /* packets in flight before the ACK */
	uint32_t last_end_seq;      /* the newest segment's end */
	bool is_app_limited;        /* its sending was application-limited */
	bool is_retrans;            /* it was a retransmission */
	bool is_ack_delayed;        /* the ACK may have been delayed
				       (tcp_input.c, Linux's
				       FLAG_ACK_MAYBE_DELAYED) */
};

/* Scoreboard marks of a sent segment (RFC 6675 §4, Linux's names). */
#define TCPCB_SACKED_ACKED 0x01   /* the peer SACKed all of it */
#define TCPCB_SACKED_RETRANS 0x02 /* retransmitted, not yet (S)ACKed */
#define TCPCB_LOST 0x04           /* IsLost(), or everything after an RTO */

/*
 * RACK (RFC 8985 §6, tcp_rack.c): the sender's time-based loss detection.
 * Its per-segment state is the transmission time and scoreboard marks in
 * struct tcp_skb_cb; what it keeps per connection is here, made with the
 * first SACK block (before that RACK has nothing to go on), and kept. The
 * undo of a reduction (tcp_undo.c) keeps its state here too, on any
 * connection, SACK or not, made when a recovery or timeout begins.
 */
struct tcp_rack {
	us_time_t xmit_ts;          /* RACK.xmit_ts: latest send time of a
				       delivered segment */
	us_time_t reo_due;          /* the reorder timer's due time, 0 = none */
	us_time_t min_rtt_stamp;    /* when min_rtt_us was taken */
	uint32_t end_seq;           /* RACK.end_seq: that segment's end */
	uint32_t rtt_us;            /* RACK.rtt */
	uint32_t min_rtt_us;        /* RACK.min_RTT (windowed minimum) */
	uint32_t fack;              /* RACK.fack: highest end (S)ACKed */
	uint32_t fack_before;       /* RACK.fack before the ACK in hand */
	uint32_t dsack_round;       /* RACK.dsack_round, if dsack_round_on */
	uint8_t reo_wnd_mult;       /* RACK.reo_wnd_mult */
	uint8_t reo_wnd_persist;    /* RACK.reo_wnd_persist */
	bool dsack_round_on;
	bool reordering_seen;       /* RACK.reordering_seen */
	bool advanced;              /* an ACK moved RACK.xmit_ts (Linux) */
	bool recovering;            /* in recovery at the last ACK */
	bool reo_timer;             /* retrans_timer is the reorder timer */
	bool on;                    /* this state is in use */
	bool started;               /* RACK's fields above are set */
	/* Undo of a spurious recovery (tcp_undo.c, Linux's undo_*) */
	bool undo_on;               /* undo_marker is set */
	int32_t undo_retrans;       /* retransmissions not yet D-SACKed;
				       -1: none sent yet */
	uint32_t undo_marker;       /* SND.UNA when the recovery or the
				       timeout's episode began */
	uint32_t prior_ssthresh;    /* ssthresh to go back to */
	bool undo_loss;             /* the reduction was a timeout's */
	bool undone_held;           /* no SACK: undone with SND.UNA at the
				       recovery point, where NewReno's
				       recovery holds (tcp_input.c) */
	/* F-RTO (RFC 5682 §3.1), Linux's tp->frto */
	bool frto;                  /* on for this timeout */
	bool frto_new;              /* step 2b: new data goes, not the
				       segments presumed lost */
	bool ack_orig;              /* the ACK in hand (S)ACKed a segment
				       sent before the timeout and never
				       again (Linux's FLAG_ORIG_SACK_ACKED) */
	/* Eifel detection (RFC 3522 §2): the episode's first retransmission,
	 * and the TSval it carried, until the first ACK past its start */
	bool undo_ts_armed;         /* waiting for that ACK */
	bool undo_ts_taken;         /* the first retransmission was seen */
	uint32_t undo_seq;
	uint32_t undo_tsval;
};

/*
 * What a receiver reports in its SACK options (RFC 2018 §4, RFC 2883):
 * only while out-of-order data or a D-SACK is pending, so it lives out of
 * struct tcp_sock and an idle connection does without it. The sender's
 * RACK state shares the allocation (no room for a second pointer in an
 * idle tcp_sock): it is freed when neither is in use.
 */
struct tcp_sack_rcv {
	struct tcp_sack_block selective_acks[TCP_MAX_SACKS]; /* most recent
								 first */
	struct tcp_sack_block dsack_block;
	uint8_t num_sacks;
	bool dsack_pending;         /* dsack_block goes out on the next ACK */
	struct tcp_rack rack;       /* sending: tcp_rack.c, while rack.on */
};

/*
 * What the segment being processed carried, and what its ACK did: set
 * when it comes in and read before the next one, never across two. A
 * stack instance handles one segment at a time under its lock (the
 * loopback and the in-memory wire queue their frames; no receive runs
 * inside another), so the instance keeps one copy, not every connection:
 * an idle tcp_sock is 24 bytes smaller (test_tcp_mem).
 */
struct tcp_rx_scratch {
	/* RFC 7323: its timestamp option (tcp_ts_note) */
	bool saw_ts;                /* it had one, and the connection uses
				       them */
	bool dsack;                 /* its ACK had a D-SACK (TLP's fate) */
	uint32_t tsval, tsecr;
	/* its ACK (tcp_sack_update zeroes these) */
	uint32_t dsack_end;         /* that D-SACK's right edge */
	uint32_t delivered;         /* newly (S)ACKed segments (PRR's
				       DeliveredData) */
	uint32_t lost;              /* newly marked lost segments */
	uint32_t sacked_acked;      /* bytes, of the segments the ACK took
				       off, SACKed before */
	uint32_t sacked_new;        /* bytes it SACKed anew */
	/* TCP_INFO: it showed reordering, from reord_low on (tcp_rack.c) */
	bool reord;
	/* ECN (tcp_ecn.c): its ACK had ECE with data in flight; it had CWR
	 * and data, to be ACKed at once */
	bool ece, ecn_ack_now;
	uint32_t reord_low;
	/* The delivery-rate sample of its ACK (tcp_rate.c; tcp_sack_update
	 * starts it) */
	struct rate_sample rs;
};

/* The instance's scratch for the segment in hand, from a tcp_sock (needs
 * stack/stack.h). */
#define tcp_rx(tp) (&(tp)->sk.st->tcp.rx)

/* A Fast Open cookie (RFC 7413 §4.1): len -1 for no option, 0 for a
 * request. */
struct tcp_fastopen_cookie {
	int8_t len;
	bool exp;                   /* the experimental option's form */
	uint8_t val[TCP_FASTOPEN_COOKIE_MAX];
};

/* A write with MSG_FASTOPEN, or the first after a deferred connect():
 * the SYN takes what it can of it (tcp_fastopen_syn_data). */
struct tcp_fastopen_req {
	const struct sock *sk;      /* the connecting socket's only */
	const struct msghdr *msg;
	size_t len;
	size_t copied;              /* bytes the SYN took */
};

struct tcp_table {
	struct list_head bind[TCP_BHASH];    /* every sock owning a port */
	struct list_head *ehash;             /* connections, by 4-tuple:
						ehash_mask + 1 chains */
	struct list_head listen[TCP_BHASH];  /* listeners, by port */
	struct us_siphash_key secret;        /* RFC 6528 / RFC 6056 key */
	us_time_t msl_us;                    /* TIME_WAIT lasts 2 MSL */

	/* connect()'s port choice (tcp.c, tcp_connect_port) */
	struct list_head cbind[TCP_BHASH];   /* socks whose port connect()
						chose; bind[] holds the rest */
	uint32_t port_perturb[TCP_PORT_PERTURB]; /* RFC 6056 §3.3.4 table */

	/* the connection table grows with its connections (tcp.c) */
	uint32_t ehash_mask;
	uint32_t ehash_count;                /* socks on it */
	uint32_t tw_count;                   /* TIME_WAIT entries (tw) */
	uint32_t orphans;                    /* closed by the user, not yet
						CLOSED (Linux's
						tcp_orphan_count) */
	struct list_head ehash_first[TCP_EHASH]; /* ehash until it grows */

	/* ---- TIME_WAIT entries (tcp_timewait.c) ---- */
	struct tcp_tw_table tw;

	/* ---- established lookup: last hit (tcp.c) ---- */
	struct sock *ehash_last;  /* the sock the last lookup found; reset by
				     every change to ehash */

	/* ACKs held back while a device hands over a batch of frames, sent
	 * at its end (tcp_ackbatch.c; Linux's tcp_backlog_ack_defer) */
	int rx_batch;                        /* batches open (nesting) */
	int ack_ndefer;
	struct sock *ack_defer[16];          /* each holds a reference */

	/* ---- the segment in hand (tcp_rx) ---- */
	struct tcp_rx_scratch rx;
	/* ---- TCP Fast Open (tcp_fastopen.c) ---- */
	/* The option the SYN or SYN-ACK being sent first carries (NULL:
	 * none), and the write whose data a connecting SYN takes */
	const struct tcp_fastopen_cookie *fo_out;
	struct tcp_fastopen_req *fo_req;
	struct tcp_fastopen_cache *fo_cache;  /* cookies learnt, by peer */
	/* tcp_sendmsg sends what it queued before its write is done (for
	 * TCP_NOTSENT_LOWAT): the queue's last segment is not the write's
	 * end, and gets no PSH (Linux's tcp_push_one) */
	bool mid_write;
};

/*
 * The fields are grouped by purpose and, within a group, ordered so that
 * the compiler leaves (almost) no padding: every idle connection pays for
 * each byte here (`make bench`, idle memory). Check a change with gdb's
 * `ptype /o struct tcp_sock`.
 */
struct tcp_sock {
	struct sock sk;             /* first: a struct sock * is a tcp_sock * */

	/* RFC 9293 §3.3.1 send sequence variables */
	uint32_t snd_una, snd_nxt, snd_wnd, snd_wl1, snd_wl2, iss;
	uint32_t max_window;        /* largest window the peer offered */
	uint32_t write_seq;         /* sequence number of the next byte queued */
	uint32_t snd_max;           /* highest sequence number ever sent (=
				       snd_nxt: a timeout marks segments lost,
				       it does not go back, as in Linux) */
	uint32_t snd_sml;           /* end of the last segment sent shorter
				       than the MSS (Minshall's Nagle) */
	uint32_t pushed_seq;        /* write_seq at the last push (PSH) */
	/* receive sequence variables */
	uint32_t rcv_nxt, rcv_wnd, irs;
	uint32_t rcv_wup;           /* rcv_nxt when the window was last sent */

	uint16_t mss_cache;         /* effective send MSS */
	uint16_t advmss;            /* the MSS we announce */
	uint16_t peer_mss;          /* from the peer's SYN, or 536 */
	uint16_t user_mss;          /* TCP_MAXSEG, 0 = none */

	/* RFC 6298 retransmission timer */
	uint32_t srtt_us;           /* 0 = no sample yet */
	uint32_t rttvar_us;
	uint32_t rto_us;
	/* When the timer's episode began, from which the timeouts count:
	 * while retransmits > 0, the first retransmission of the series
	 * (Linux's retrans_stamp), for a SYN its first transmission; while
	 * the window is probed, the first probe, 0 before it (Linux's
	 * icsk_probes_tstamp). The two never overlap: probes go only with
	 * nothing in flight, and the ACK that brings that about (moving
	 * SND.UNA) sets it back to 0. */
	us_time_t retrans_stamp;
	uint32_t user_timeout_ms;   /* TCP_USER_TIMEOUT (RFC 5482); 0 = none,
				       tcp_retries2 decides */
	uint8_t backoff;            /* RTO doublings since the last ACK */
	uint8_t retransmits;        /* consecutive timeouts (stays at 255) */
	uint8_t syn_retries;        /* TCP_SYNCNT; 0 = tcp_syn_retries */
	uint8_t probes_out;         /* zero-window or keepalive probes */
	bool probe_timer;           /* retrans_timer is probing a zero window */

	/* ACK generation (RFC 1122 §4.2.3.2, RFC 5681 §4.2) */
	bool ack_pending;
	uint8_t quickacks;          /* immediate ACKs left (Linux quickack) */
	uint8_t dupacks;            /* (congestion control) */
	/* The peer's segment size as the data it sends shows it (Linux's
	 * icsk_ack.rcv_mss, tcp_measure_rcv_mss; tcp_delack.c), and the
	 * last segment that looked full (icsk_ack.last_seg_size) */
	uint16_t rcv_mss;
	uint16_t last_seg_size;

	/* The write queue (sk.write_queue) holds sent-but-unacked segments
	 * followed by unsent ones; send_head is the first unsent, or NULL. */
	struct sk_buff *send_head;
	struct sk_buff_head ooo_queue; /* out-of-order received segments */

	/* RFC 5681 congestion control (NewReno, RFC 6582) */
	uint32_t snd_cwnd;          /* in segments */
	uint32_t snd_ssthresh;
	uint32_t cwnd_acked;        /* bytes acked towards the next increase */
	uint32_t high_seq;          /* snd_nxt when recovery began; in_recovery
				       is with the SACK state */
	/* How much of the window was used (Linux's tcp_cwnd_validate): the
	 * most segments out in the current window, and where that window
	 * ends; is_cwnd_limited (below) says it was full. */
	uint32_t max_packets_out;
	uint32_t cwnd_usage_seqnum;

	/* The congestion control algorithm (tcp_cong.h) and its own state
	 * (Linux's icsk_ca_ops and icsk_ca_priv). ca_setsockopt is with the
	 * options. */
	const struct tcp_congestion_ops *ca_ops;
	/*
	 * A listener has no congestion state and a connection no accept
	 * queue, so the two share their space (Linux keeps both; here every
	 * idle connection is 60 bytes smaller). tcp_listen_start fills the
	 * listener's part; tcp_set_ca leaves a listener's area alone, and a
	 * socket leaves LISTEN only through tcp_disconnect, whose
	 * tcp_disconnect_forget gives the algorithm a fresh area.
	 */
	union {
		uint64_t ca_priv[9];    /* the largest algorithm's (CUBIC) */
		struct {                /* state TCP_LISTEN only */
			/* Children in SYN_RECV, then established ones
			 * waiting for accept(). */
			struct list_head syn_queue;
			struct list_head accept_queue;
			struct list_head listen_node; /* on tcp.listen */
			int max_backlog;
			int syn_qlen, accept_qlen;
			int fastopen_qlen; /* fastopen_child children */
		};
	};

	/* Timers. retrans_timer doubles as the zero-window probe timer. */
	struct us_timer retrans_timer;
	struct us_timer delack_timer;
	struct us_timer keepalive_timer; /* also FIN_WAIT2 and TIME_WAIT */

	/* A listener's child sits on its parent's list by child_node. */
	struct tcp_sock *parent;
	struct list_head child_node;

	struct list_head ehash_node;
	us_time_t last_rcv;         /* when an acceptable ACK or in-order
				       data last came (keepalive: Linux's
				       rcv_tstamp and lrcvtime) */
	us_time_t last_oow_ack;     /* when an ACK last answered an invalid
				       segment (challenge or out of window) */
	uint8_t child_queue;        /* TCP_CHILD_* */
	bool hashed;                /* on ehash */
	bool fin_rcvd;              /* the peer's FIN came (Linux's SOCK_DONE) */

	/* Options */
	bool nodelay : 1, cork : 1, defer_fin : 1;
	bool ca_setsockopt : 1;     /* ca_ops chosen with TCP_CONGESTION */
	/* TCP Fast Open (RFC 7413; tcp_fastopen.c) */
	bool fastopen_connect : 1;  /* TCP_FASTOPEN_CONNECT */
	bool fastopen_no_cookie : 1; /* TCP_FASTOPEN_NO_COOKIE */
	bool defer_connect : 1;     /* connect() returned; the SYN waits for
				       the first write, to carry its data
				       (Linux's inet defer_connect) */
	bool fastopen_child : 1;    /* a listener's child its Fast Open SYN
				       made, still in SYN_RECV (Linux's
				       fastopen_rsk): readable, writable,
				       accepted before the handshake ends */
	uint8_t keepcnt;            /* 1..127 */
	bool recvmsg_inq : 1;       /* TCP_INQ: a read says what is left */
	uint8_t save_syn : 2;       /* TCP_SAVE_SYN: 1 IP and TCP headers,
				       2 with the link header */
	bool thin_lto : 1;          /* TCP_THIN_LINEAR_TIMEOUTS */
	bool timer_bounds : 1;      /* RTO and delayed-ACK bounds of its
				       own, in sock_ext (tcp_timer.c) */
	uint8_t chrono_type : 2;    /* TCP_CHRONO_* running (tcp_info.c) */
	bool passive_open : 1;      /* a listener's child (TCP_INFO) */
	uint16_t keepidle_s;        /* 1..32767 */
	uint16_t keepintvl_s;       /* 1..32767 */
	int16_t linger2_s;          /* TCP_LINGER2: 0 = TCP_FIN_TIMEOUT_US,
				       -1 = reset, not FIN_WAIT2 (Linux);
				       at most TCP_FIN_TIMEOUT_MAX_S */
	/* (two flags of the SACK block below, kept in this gap so that an
	 * idle tcp_sock stays within 1 KB with its socket) */
	bool sack_ok;               /* both SYNs carried SACK-permitted */
	bool in_recovery;           /* NewReno's or RFC 6675's, till high_seq */
	bool fin_out : 1;           /* our FIN went (TCP_INFO's bytes_sent) */
	bool rto_episode : 1;       /* a timeout's loss state runs (TCP_INFO) */
	bool irs_valid : 1;         /* the peer's SYN came: IRS means something
				       (TCP_INFO's bytes_received) */
	bool tfo_child : 1;         /* made by a Fast Open SYN (TCP_INFO's
				       TCPI_OPT_TFO_CHILD; till disconnect) */
	/* ECN (RFC 3168, tcp_ecn.c): negotiated; CWR owed on the next new
	 * data; ECE owed till the peer's CWR; an ECT or CE segment came;
	 * the window is in an ECE's reduction (Linux's CA_CWR) */
	bool ecn_ok : 1, ecn_queue_cwr : 1, ecn_demand_cwr : 1;
	bool ecn_seen : 1, in_cwr : 1;
	uint8_t fo_client_fail : 2; /* TCP_INFO's tcpi_fastopen_client_fail:
				       Linux's TFO_* why the SYN's data
				       failed (1 no cookie, 2 not acked, 3
				       and the SYN went again) */
	bool is_cwnd_limited : 1;   /* the current window was full
				       (tcp_cwnd_validate) */

	/* SACK (RFC 2018, RFC 2883, RFC 6675): tcp_sack.c. Receiving: the
	 * blocks we report, allocated while there are any (tcp_sack_rcv).
	 * Sending: the scoreboard's counts, in segments (skbs on the write
	 * queue), as Linux keeps them; pipe = packets_out - sacked_out -
	 * lost_out + retrans_out. */
	struct tcp_sack_rcv *sack_rcv; /* NULL: no blocks to report */
	struct tcp_rate *rate;      /* the delivery-rate sampler
				       (tcp_rate.c): NULL until data goes */
	uint32_t lrcvtime;          /* when data last came, in ms (Linux's
				       icsk_ack.lrcvtime; tcp_delack.c) */
	uint32_t lsndtime;          /* when data last went, in ms of the
				       instance's clock (Linux's, in jiffies):
				       the idle restart's clock (tcp_cong.c) */
	uint32_t packets_out;       /* segments sent and not cumulatively
				       acknowledged */
	uint32_t sacked_out, lost_out, retrans_out;

	/* Proportional Rate Reduction (RFC 6937, tcp_prr.c): the window
	 * during fast recovery, and what one ACK delivered, in segments.
	 * Without SACK, duplicate ACKs stand for segments that arrived
	 * (Linux's sacked_out for NewReno). */
	uint32_t prior_cwnd;        /* cwnd when recovery began */
	uint32_t prr_delivered;     /* delivered since recovery began */
	uint32_t prr_out;           /* sent since recovery began */
	uint32_t reno_sacked;       /* no SACK: duplicate ACKs not yet
				       covered by a cumulative ACK */

	/* Tail Loss Probe (RFC 8985 §7, tcp_tlp.c; Linux's tlp_*);
	 * its flags tlp_timer and tlp_retrans fill a gap elsewhere */
	uint32_t tlp_high_seq;      /* TLP.end_seq; 0 = no probe out */

	/* Statistics for TCP_INFO */
	uint32_t total_retrans;

	/* Urgent data (tcp_urgent.c; Linux's snd_up, urg_seq, urg_data) */
	uint32_t snd_up;            /* one past the last urgent byte sent */
	uint32_t urg_seq;           /* the received urgent byte's number */
	uint16_t urg_data;          /* TCP_URG_* | the urgent byte */
	bool snd_urg;               /* snd_up set and not yet acknowledged */

	/* RFC 7323 window scaling and timestamps (tcp_ts.c) */
	/* (bits: an idle tcp_sock stays within its budget, test_tcp_mem) */
	bool ws_offered : 1, ts_offered : 1; /* our SYN (-ACK) carries them */
	bool wscale_ok : 1, tstamp_ok : 1;   /* both sides sent the option */
	/* The handshake's (Linux's undo_marker before the transfer): a SYN
	 * or SYN-ACK timed out, and no echo showed the timeout spurious. */
	bool syn_timed_out : 1;
	/* A queued segment's buffer is at least twice what its data
	 * needs, and tcp_collapse has not moved it yet. */
	bool rcv_loose : 1;
	/* No SACK: a timeout's episode reached its recovery point exactly,
	 * and holds there until an ACK passes it (Linux keeps CA_Loss,
	 * tcp_is_non_sack_preventing_reopen), so that duplicate ACKs of the
	 * point start no fast retransmit (RFC 6582 §3.2 step 2). */
	bool loss_held : 1;
	bool orphan_counted : 1;       /* in st->tcp.orphans */
	bool clamp_user : 1;           /* window_clamp is TCP_WINDOW_CLAMP's */
	/* The delayed-ACK engine's (tcp_delack.c; Linux's icsk_ack) */
	bool pingpong : 1;             /* interactive: ACKs wait for replies */
	bool ack_pushed : 1;           /* an ACK owed for a pushed segment */
	bool ack_pushed2 : 1;          /* ... for two */
	bool ack_sched : 1;            /* data or a FIN came: an ACK is owed
					  (Linux's ICSK_ACK_SCHED) */
	/* A listener's child whose handshake ACK came without data while
	 * TCP_DEFER_ACCEPT held it back (Linux's inet_rsk(req)->acked) */
	bool defer_acked : 1;
	bool syn_fastopen : 1;         /* our SYN carried the Fast Open
					  option (a cookie or a request) */
	bool syn_data_acked : 1;       /* the SYN's data was taken at once
					  (TCP_INFO's TCPI_OPT_SYN_DATA) */
	uint8_t snd_wscale;            /* the peer's shift, for its windows */
	uint8_t rcv_wscale;            /* ours, for the windows we send */
	bool tlp_timer;                /* TLP: retrans_timer is the PTO */
	bool tlp_retrans;              /* TLP: the probe sent old data again */
	/* TCP_DEFER_ACCEPT, as SYN-ACK timeouts (Linux's
	 * rskq_defer_accept): a listener's children wait that long for
	 * data; a client's handshake ACK waits for data (tcp_delack.c) */
	uint8_t defer_accept;
	/* Segments D-SACKed, dubious ones too (Linux's dsack_dups; it
	 * stops at 65535) */
	uint16_t dsack_dups;
	uint32_t window_clamp;         /* largest window we may offer (the
					  user's, TCP_WINDOW_CLAMP, when
					  clamp_user; else the shift's, cut
					  to the buffer at the handshake's
					  end and following autotuning:
					  tcp_autotune.c; 0 before any) */
	uint32_t ts_offset;            /* added to our ms clock for TSval */
	uint32_t ts_recent;            /* TS.Recent (RFC 7323 §4.3) */
	uint32_t notsent_lowat;        /* TCP_NOTSENT_LOWAT; 0: the sysctl's
					  (tcp_stream_memory_free) */
	uint16_t ato_ms;               /* the ACK delay (Linux's
					  icsk_ack.ato; tcp_delack.c), 0
					  until data came */
	uint16_t fastopen_max_qlen;    /* TCP_FASTOPEN: a listener's Fast
					  Open children in SYN_RECV at most
					  (<= SOMAXCONN; set before listen()
					  too, so not in the union) */
	us_time_t ts_recent_stamp;     /* when TS.Recent was set (PAWS) */

	/* Receive- and send-buffer autotuning (tcp_autotune.c, Linux's
	 * dynamic right-sizing) */
	us_time_t rcvq_time;
	us_time_t rcv_rtt_time;
	uint32_t rcvq_space;           /* bytes the reader took in an RTT */
	/* Until the connection is established (tcp_init_buffer_space sets
	 * rcvq_seq), the handshake's: the TSval of our first SYN (-ACK),
	 * which tcp_rcv_synrecv_ack compares with the final ACK's TSecr
	 * (in a field the handshake does not use: an idle tcp_sock stays
	 * within its budget, test_tcp_mem). */
	union {
		uint32_t rcvq_seq;     /* copied_seq when that RTT began */
		uint32_t syn_tsval;
	};
	uint32_t rcvq_nxt;             /* rcv_nxt then */
	uint32_t rcv_rtt_est8;         /* receiver's RTT estimate, us << 3 */
	uint32_t rcv_rtt_seq;          /* (no TS) the window being timed */
	uint32_t rcv_rtt_last_tsecr;

	/* ---- TCP_INFO's counters (tcp_info.c); the rare ones are in
	 * sock_ext (struct tcp_rare_stats) ---- */
	uint32_t segs_in, segs_out;         /* every segment, pure ACKs too */
	uint32_t data_segs_in, data_segs_out; /* those with payload */
	uint32_t delivered;                 /* segments (S)ACKed or D-SACKed,
					       the handshake and FIN too */
	uint32_t min_rtt_us;                /* ~0U: no sample yet */
	uint32_t min_rtt_ms;                /* when it was taken */
	uint32_t chrono_start_ms;           /* the chrono type's start */
	uint32_t chrono_ms[3];              /* busy, rwnd-, sndbuf-limited */
	uint16_t una_wraps, rcv_wraps;      /* 2^32s of SND.UNA, RCV.NXT */
	uint32_t cwr_high;                  /* SND.MAX when an ECE's reduction
					       began (tcp_ecn.c; high_seq is
					       the recoveries' and timeouts') */
	/* The window the receiver lets itself offer for now, grown by the
	 * data that comes (Linux's rcv_ssthresh, tcp_grow_window;
	 * tcp_output.c's __tcp_select_window caps the window by it) */
	uint32_t rcv_ssthresh;
};

/* urg_data: what the receiver knows of the urgent byte (Linux's values). */
#define TCP_URG_VALID 0x0100        /* arrived; the low byte holds it */
#define TCP_URG_NOTYET 0x0200       /* pointer seen, byte not yet */
#define TCP_URG_READ 0x0400         /* taken by recv(MSG_OOB) */

static inline struct tcp_sock *tcp_sk(struct sock *sk)
{
	return (struct tcp_sock *)sk;
}

/* The segment queued after skb on sk's write queue, or NULL. */
static inline struct sk_buff *tcp_write_queue_next(const struct sock *sk,
						   const struct sk_buff *skb)
{
	return skb->list.next == &sk->write_queue.list ? NULL :
	       list_entry(skb->list.next, struct sk_buff, list);
}


extern const struct proto tcp_prot;
extern const struct proto_ops inet_stream_ops;

/* tcp.c */
void tcp_init(struct ustack *st);
/* Instance teardown: every connection and listener is freed. */
void tcp_exit(struct ustack *st);
void tcp_set_state(struct sock *sk, int state);
/* The connection is over: unhash, stop timers, drop the protocol's ref. */
void tcp_done(struct sock *sk);
/* An orphan leaves the count of net.ipv4.tcp_max_orphans (if in it). */
void tcp_orphan_uncount(struct sock *sk);
/* More orphans, doubled per shift, than net.ipv4.tcp_max_orphans. */
bool tcp_too_many_orphans(const struct ustack *st, unsigned int shift);
void tcp_ehash_add(struct sock *sk);
void tcp_port_init(struct ustack *st);
/* A socket (or TIME_WAIT entry) bound to a device (SO_BINDTODEVICE)
 * takes only what came in on it, and a four-tuple checked for a socket
 * bound to none (dif 0) meets only those bound to none (Linux's
 * inet_sk_bound_dev_eq). */
static inline bool tcp_dev_match(int bound_dev_if, int dif)
{
	return !bound_dev_if || bound_dev_if == dif;
}
/* The connection or listener a segment that came in on dif (ip_iif;
 * 0: any) is for. */
struct sock *tcp_lookup_established(struct ustack *st, uint32_t saddr,
				    uint16_t sport, uint32_t daddr,
				    uint16_t dport, int dif);
/* The listener a segment from saddr:sport goes to, among an SO_REUSEPORT
 * group's (sock_reuseport.c: its program sees the payload at skb->data). */
struct sock *tcp_reuseport_listener(struct sock *sk, const struct sk_buff *skb,
				    uint32_t saddr, uint16_t sport);
struct sock *tcp_lookup_listener(struct ustack *st, uint32_t daddr,
				 uint16_t dport, int dif);
uint32_t tcp_isn(struct ustack *st, uint32_t saddr, uint16_t sport,
		 uint32_t daddr, uint16_t dport);
int tcp_disconnect(struct sock *sk, int flags);
int tcp_listen_start(struct sock *sk, int backlog);
void tcp_unlink_child(struct tcp_sock *tp);
int tcp_stream_error(int flags, int err);
/* SO_TIMESTAMPING: the end of a write marked for the reports sockc asks
 * (its last byte's segment, if not sent yet). */
void tcp_tx_timestamp(struct sock *sk, const struct sockcm *sockc);
/* Inherit a new child of a listener (SYN_RECV), bound to its port. */
struct sock *tcp_create_child(struct sock *parent);
/* Room for a new segment as TCP_NOTSENT_LOWAT sees it (Linux's
 * tcp_stream_memory_free): fewer unsent bytes than the mark, doubled for
 * poll's writability (wake 1). */
bool tcp_stream_memory_free(const struct sock *sk, unsigned int wake);
/* Writable as poll says it (Linux's __sk_stream_is_writeable): the room
 * is worth a write, free space at least half of what is queued. */
bool tcp_stream_is_writeable(const struct sock *sk);
/* After an ACK made room (Linux's tcp_check_space): a writer that found
 * none has it once the socket is writable, and the time limited by the
 * send buffer ends. */
void tcp_check_space(struct sock *sk);
/* The instance's clock in ms, as Linux's jiffies stamp lsndtime and
 * lrcvtime (tcp_cong.c). */
uint32_t tcp_now_ms(const struct sock *sk);
/* A window clamp as Linux's tcp_init_buffer_space cuts it. */
uint32_t tcp_clamp_for_space(const struct tcp_sock *tp, uint32_t clamp);
/* Free space in the receive buffer, as a window to advertise. */
uint32_t tcp_receive_window(const struct tcp_sock *tp);
/*
 * Buffer bytes as window bytes (Linux's tcp_win_from_space): half, Linux's
 * default scaling_ratio (TCP_DEFAULT_SCALING_RATIO, 128/256), the other
 * half standing for the buffers' overhead. Linux measures the ratio from
 * the payload and truesize of the segments it receives; ustack's buffers
 * are its own, and it keeps the default.
 */
static inline int tcp_win_from_space(int space)
{
	return space >> 1;
}
/* The free receive space as a window, possibly negative (tcp_space), and
 * the whole buffer's (tcp_full_space). */
static inline int tcp_space(const struct sock *sk)
{
	return tcp_win_from_space(sk->rcvbuf - sk->rmem_alloc);
}
static inline int tcp_full_space(const struct sock *sk)
{
	return tcp_win_from_space(sk->rcvbuf);
}
/* Linux's tcp_under_memory_pressure: the skb pool is past its queue
 * limit (skbuff.h), as tcp_sndbuf_expand reads it. */
bool tcp_under_memory_pressure(const struct sock *sk);
/* rcv_ssthresh back to at most new (Linux's __tcp_adjust_rcv_ssthresh;
 * no SO_RESERVE_MEM here). */
static inline void tcp_adjust_rcv_ssthresh_to(struct tcp_sock *tp,
					      uint32_t new_ssthresh)
{
	if (tp->rcv_ssthresh > new_ssthresh)
		tp->rcv_ssthresh = new_ssthresh;
}
void tcp_update_mss(struct tcp_sock *tp);

/* tcp_input.c */
void tcp_v4_rcv(struct sk_buff *skb);

/* tcp_fastopen.c: TCP Fast Open (RFC 7413) */
void tcp_fastopen_exit(struct ustack *st);
/* TCP_FASTOPEN_KEY: a socket's own key (16 bytes) and a second one (32). */
int tcp_fastopen_set_key(struct sock *sk, const void *key, unsigned int len);
/* The socket's own keys, 16 bytes each, into key (32 bytes): how many. */
int tcp_fastopen_get_key(struct sock *sk, uint8_t key[32]);
/* A listener's SYN: true if it opens a Fast Open child; *reply is the
 * SYN-ACK's option (len -1: none). */
bool tcp_try_fastopen(struct sock *lsk, const struct sk_buff *skb,
		      const struct tcp_seg *th,
		      struct tcp_fastopen_cookie *reply);
/* A Fast Open child leaves its listener's count (the final ACK, accept,
 * its end). */
void tcp_fastopen_child_done(struct tcp_sock *tp);
/* A Fast Open child's handshake ended. */
void tcp_fastopen_synack_done(struct sock *sk);
int tcp_fastopen_set_qlen(struct sock *sk, int val);
void tcp_fastopen_listen(struct sock *sk, int backlog);
bool tcp_fastopen_defer_connect(struct sock *sk);
/* A connecting SYN's option (*foc) and room for data. */
size_t tcp_fastopen_syn(struct sock *sk, struct tcp_fastopen_cookie *foc);
size_t tcp_fastopen_syn_data(struct sock *sk, struct sk_buff *skb,
			     size_t room);
int tcp_fastopen_split_syn(struct sock *sk, struct sk_buff *skb);
/* A piece cut from a segment in flight counts as in flight, with its loss
 * and retransmission marks (tcp_output.c). */
void tcp_count_piece(struct tcp_sock *tp, const struct tcp_skb_cb *cb);
bool tcp_fastopen_synack(struct sock *sk, const struct tcp_seg *th,
			 bool syn_data);

/* tcp_err.c: an ICMP error about a segment we sent (the net_protocol's
 * err_handler; RFC 1122 §4.2.3.9, RFC 5927, RFC 1191). */
struct ipv4_info;
/* A path MTU to daddr changed (INADDR_ANY: any): the MSS of every
 * connection routed there (to a source route's first hop) follows. */
void tcp_pmtu_sync_all(struct ustack *st, uint32_t daddr);
/* The socket's error queue (struct proto's error_queue), and its end. */
struct sk_buff_head *tcp_error_queue(struct sock *sk, bool make);
void tcp_error_queue_free(struct sock *sk);
void tcp_v4_err(struct ustack *st, struct sk_buff *skb,
		const struct ipv4_info *inner,
		const uint8_t *l4, size_t l4_len, int type, int code,
		uint32_t info);

/* tcp_output.c */
/* Send every segment the windows and Nagle allow; without push (MSG_MORE)
 * a short last segment waits as under TCP_CORK. */
void tcp_write_xmit(struct sock *sk, bool push);
/* The same, but a short last segment goes whatever Nagle and TCP_CORK say
 * (Linux's TCP_NAGLE_OFF): a loss probe, a probe timer's data. */
void tcp_write_xmit_nagle_off(struct sock *sk);
/*
 * Does this segment, sent now, carry PSH (as Linux marks it)? Data that
 * empties the queue, unless the write is still going on (tcp_sendmsg's
 * mid-write pushes under TCP_NOTSENT_LOWAT) or it rides on a SYN (Linux
 * sends a SYN's data without). The mark then stays with the segment, so
 * a retransmission carries it even when more was queued behind since.
 */
bool tcp_push_due(const struct sock *sk, const struct sk_buff *skb);
int tcp_transmit_skb(struct sock *sk, struct sk_buff *skb);
/* A segment in flight, sent again within the peer's window (Linux's
 * __tcp_retransmit_skb): -EAGAIN if it starts past it and is not the
 * first unacknowledged one; cut to the MSS and the window's end if it
 * runs past either, else merged with the short ones behind it
 * (tcp_retrans_try_collapse). skb stays where it is in the queue. */
int tcp_retransmit_skb(struct sock *sk, struct sk_buff *skb);
/* tcp_collapse.c: segments in flight behind `to` that fit in space bytes
 * with it (the MSS, or less when the peer's window is smaller) join it
 * before it goes again (Linux's tcp_retrans_try_collapse). */
void tcp_retrans_try_collapse(struct sock *sk, struct sk_buff *to,
			      uint32_t space);
/* tcp_sendmsg: the segments holding the bytes from seq on came from a
 * MSG_ZEROCOPY send (tcp_skb_cb's zerocopy). */
void tcp_mark_zerocopy(struct sock *sk, uint32_t seq);
void tcp_send_ack(struct sock *sk);
/* The window the buffer allows now, before tcp_select_window's "never
 * shrink" (Linux's __tcp_select_window; it may end quick-ACK mode). */
uint32_t __tcp_select_window(struct sock *sk);
void tcp_send_delayed_ack(struct sock *sk);
int tcp_send_syn(struct sock *sk);
/* A child's SYN-ACK, with the Fast Open option foc (NULL: none). */
int tcp_send_synack(struct sock *sk, const struct tcp_fastopen_cookie *foc);
/* A Fast Open child's SYN-ACK, not queued; foc NULL: sent again. */
void tcp_fastopen_send_synack(struct sock *sk,
			      const struct tcp_fastopen_cookie *foc);
void tcp_send_fin(struct sock *sk);
/* A bare RST (and ACK) with the given numbers, from sk's addresses. */
void tcp_send_active_reset(struct sock *sk);
/* A RST answering an unacceptable segment (RFC 9293 §3.10.7.1). */
void tcp_v4_send_reset(struct ustack *st, const struct sk_buff *skb,
		       const struct tcp_seg *th, uint32_t seglen);
/* Retransmit the first unacknowledged segment. */
int tcp_retransmit_head(struct sock *sk);
int tcp_send_simul_synack(struct sock *sk);   /* a simultaneous open's */
/* Send what the peer's window has room for of the next segment, even less
 * than a whole one, and whatever Nagle and TCP_CORK say (Linux's
 * tcp_write_wakeup). True if data went out. */
bool tcp_write_wakeup(struct sock *sk);
void tcp_send_probe(struct sock *sk);
/* The MSS fell with the path MTU: send again what was in flight and is
 * longer than it (Linux's tcp_simple_retransmit). */
void tcp_simple_retransmit(struct sock *sk);
/* A segment longer than the MSS (queued or sent before the MSS fell) is
 * cut to it before it goes, as Linux's tcp_fragment in tcp_write_xmit and
 * __tcp_retransmit_skb. 0, or -ENOMEM / -ENOBUFS: it cannot go now. */
int tcp_fit_mss(struct sock *sk, struct sk_buff *skb);

/* tcp_input.c: a listener's child in SYN_RECV waits for data under
 * TCP_DEFER_ACCEPT (its handshake ACK came); true while it neither
 * sends its SYN-ACK again at the timeout nor expires. */
bool tcp_defer_accept_waits(const struct tcp_sock *tp, bool resend);

/* tcp_delack.c: Linux's delayed-ACK engine beyond the 40 ms timer */
/* In-order data came in skb, with the segment's flags. */
void tcp_delack_data_recv(struct sock *sk, const struct sk_buff *skb,
			  uint8_t flags);
/* Guess the peer's segment size before its data shows it. */
void tcp_initialize_rcv_mss(struct tcp_sock *tp);
/* Data went: within the ACK delay of data that came, pingpong mode. */
void tcp_delack_data_sent(struct sock *sk);
/* Quick-ACK mode: every data segment ACKed at once. */
bool tcp_delack_quick(const struct tcp_sock *tp);
/* An ACK went: one quick ACK used if one was owed, and nothing pushed
 * is owed one any more. */
void tcp_delack_acked(struct tcp_sock *tp);
/* Out-of-window or old data, or a CE mark (at most 2): ACK at once, and
 * on, for up to max segments (Linux's tcp_enter_quickack_mode). */
#define TCP_MAX_QUICKACKS 16
void tcp_delack_enter_quickack(struct sock *sk, unsigned int max);
/* The delayed-ACK timer fired: true if an ACK is owed (then sent). */
bool tcp_delack_timeout(struct sock *sk);
/* The user read data: the ACK owed goes now if Linux's would. */
void tcp_delack_read(struct sock *sk);
void tcp_delack_set_quickack(struct sock *sk, int val);
/* Our SYN was answered: true if the ACK waits (pingpong mode). */
bool tcp_delack_synsent(struct sock *sk);
void tcp_delack_forget(struct tcp_sock *tp);

/* tcp_sack.c */
/* Fresh SACK state for a new connection attempt. */
void tcp_sack_init(struct tcp_sock *tp);
/* The socket is freed: the receiver's blocks go too. */
void tcp_sack_destroy(struct tcp_sock *tp);
/* Does the SYN or SYN-ACK we send carry SACK-permitted? */
bool tcp_sack_syn_perm(const struct sock *sk);
/* The peer's SYN or SYN-ACK: is SACK on for this connection? */
void tcp_sack_syn_options(struct tcp_sock *tp, const struct tcp_seg *th);
/* Receiving: a segment went into (or duplicated data of) the out-of-order
 * queue; the block holding seq is reported first (RFC 2018 §4). */
void tcp_sack_ofo_event(struct sock *sk, uint32_t seq);
void tcp_sack_ofo_append(struct sock *sk, uint32_t seq, uint32_t end_seq);
/* Receiving: RCV.NXT moved or the out-of-order queue changed. */
void tcp_sack_rcv_update(struct sock *sk);
/* Receiving: [seq, end_seq) duplicates data we hold (RFC 2883). */
void tcp_dsack_set(struct sock *sk, uint32_t seq, uint32_t end_seq);
/* The blocks the next ACK carries, D-SACK first; returns how many. */
uint8_t tcp_sack_fill(struct sock *sk, struct tcp_sack_block *out);
/* Sending: the SACK blocks of an ACK update the scoreboard. Returns the
 * number of segments newly SACKed. */
uint32_t tcp_sack_update(struct sock *sk, const struct tcp_seg *th);
/* Sending: a segment leaves the write queue, cumulatively acknowledged. */
void tcp_sack_unlinked(struct tcp_sock *tp, struct sk_buff *skb);
/* What an ACK of `acked` new bytes delivered: those not SACKed before,
 * plus what it SACKed anew. The window grows by that (Linux's
 * acked_sacked), only on ACKs that move SND.UNA. */
uint32_t tcp_sack_newly_delivered(struct tcp_sock *tp, uint32_t acked);
/* RFC 6675 §5: a duplicate ACK (per its §2) while SACK is on. */
void tcp_sack_dupack(struct sock *sk);
/* RFC 6675 §5: a cumulative ACK during recovery. */
bool tcp_sack_recovery_ack(struct sock *sk);
/* RFC 6675 §5.1: the retransmission timer fired. */
void tcp_sack_enter_loss(struct sock *sk);
/* The first unacknowledged segment is marked SACKed: the peer reneged
 * (RFC 2018 §8). */
bool tcp_sack_reneged(struct sock *sk);
/* RFC 6675 NextSeg rule 1: retransmit lost segments while pipe allows. */
void tcp_sack_xmit_lost(struct sock *sk);
/* RFC 6675 SetPipe, in segments. */
uint32_t tcp_sack_pipe(const struct tcp_sock *tp);

/* The first sent segment, or NULL when nothing is in flight; the next
 * sent one after skb, or NULL. */
static inline struct sk_buff *tcp_wq_head(struct sock *sk)
{
	struct sk_buff *skb = skb_peek(&sk->write_queue);

	return skb == tcp_sk(sk)->send_head ? NULL : skb;
}

static inline struct sk_buff *tcp_wq_next(struct sock *sk, struct sk_buff *skb)
{
	struct sk_buff *n = skb_queue_next(&sk->write_queue, skb);

	return n == tcp_sk(sk)->send_head ? NULL : n;
}
/* The RACK state, made if make and memory allows; NULL otherwise. */
struct tcp_rack *tcp_sack_rack(struct sock *sk, bool make);
/* That state is no longer in use (without SACK: tcp_undo.c's alone). */
void tcp_sack_rack_drop(struct tcp_sock *tp);
/* An undone reduction (tcp_undo.c): no segment is presumed lost any more. */
void tcp_sack_unmark_lost(struct sock *sk);
/* Mark a sent segment lost (again, if its retransmission is lost too),
 * as Linux's tcp_mark_skb_lost. */
void tcp_sack_mark_skb_lost(struct sock *sk, struct sk_buff *skb);
/* RFC 6675 §5 step 4 (RFC 8985 §6.2: RACK found a loss): fast recovery
 * begins, unless it is on or a timeout's recovery is. */
void tcp_sack_start_recovery(struct sock *sk);

/* tcp_rack.c: RFC 8985 §6, net.ipv4.tcp_recovery bit 1 */
/* Does RACK find the losses of this connection (else RFC 6675's
 * DupThresh does)? */
bool tcp_rack_active(const struct sock *sk);
/* RACK's state for this connection, made now if it was not (a timeout
 * before any SACK block); NULL when RACK is off or memory short. */
struct tcp_rack *tcp_rack_make(struct sock *sk);
/* A timeout's question: was skb sent less than RACK.rtt ago? */
bool tcp_rack_sent_recently(struct sock *sk, const struct sk_buff *skb);
/* A sent segment was newly delivered: SACKed, or cumulatively ACKed
 * without having been SACKed. */
void tcp_rack_delivered(struct sock *sk, const struct sk_buff *skb);
/* The ACK in hand carries a D-SACK (RFC 2883) of [start, end). */
void tcp_rack_dsack(struct sock *sk, uint32_t start, uint32_t end);
/* What the ACK in hand did (Linux's FLAG_*), for tcp_undo_check. */
#define TCP_ACK_UNA_ADVANCED 0x1   /* moved SND.UNA */
#define TCP_ACK_SACKED_NEW 0x2     /* SACKed data not SACKed before */
#define TCP_ACK_DUP 0x4            /* a duplicate ACK (RFC 5681 §2) */
/* After an ACK's marks (flags: TCP_ACK_*) and tcp_undo_check: detect
 * losses, start recovery, set the reorder timer (RFC 8985 §6.2 steps
 * 4-5). */
void tcp_rack_ack(struct sock *sk);
/* The retransmission timer was (re)armed: the reorder timer, if due
 * sooner, takes its place. */
void tcp_rack_rearm(struct sock *sk);
/* The retransmission timer fired: true if it was the reorder timer
 * (RFC 8985 §6.3), handled. */
bool tcp_rack_timer_fire(struct sock *sk);
/* The retransmission timer was set to something else. */
void tcp_rack_timer_clear(struct tcp_sock *tp);
/* RFC 6298 sample: RACK.min_RTT follows it. */
void tcp_rack_rtt_sample(struct tcp_sock *tp, uint32_t rtt_us);

/* tcp_undo.c: undo of a spurious fast recovery or timeout (D-SACKs, RFC
 * 2883 §4.2; timestamps, RFC 3522; F-RTO, RFC 5682; Linux's
 * tcp_try_undo_*), on every connection */
/* Fast recovery begins: before ssthresh is reduced. */
void tcp_undo_mark(struct sock *sk);
/* The retransmission timer fired: before ssthresh and cwnd change. */
void tcp_undo_mark_loss(struct sock *sk);
/* skb was retransmitted (in fast recovery or after a timeout). */
void tcp_undo_retransmitted(struct sock *sk, const struct sk_buff *skb);
/* The ACK in hand D-SACKs [start, end). */
void tcp_undo_dsack(struct sock *sk, uint32_t start, uint32_t end);
/* After an ACK (flags: TCP_ACK_*): was the reduction spurious? Then undo
 * it. F-RTO's steps too. */
void tcp_undo_check(struct sock *sk, unsigned int flags);
/* F-RTO step 2b: should the transmission now send new data instead of
 * the segments presumed lost? Once: true clears it. */
bool tcp_undo_frto_new_data(struct sock *sk);
/* F-RTO's new data could not go: the conventional recovery. */
void tcp_undo_frto_stop(struct sock *sk);
/* No SACK: NewReno's recovery ends (an ACK past the recovery point). Was
 * its reduction undone while it held at that point? Then the window
 * stays, and this answers true once. */
bool tcp_undo_reno_end(struct sock *sk);
/* Nothing of the episode may be undone (the MSS fell, tcp_output.c). */
void tcp_undo_forget(struct sock *sk);
/* A recovery or timeout's episode is over (SND.UNA passed its point).
 * Without SACK nothing can undo it any more (no D-SACK comes): the state
 * goes, so that the connection keeps no more memory than before it. */
void tcp_undo_episode_over(struct sock *sk);

/* tcp_rate.c: the delivery-rate sampler (Linux's tcp_rate.c) */
/* The sampler's state, made with the first data (NULL without memory:
 * no samples, and TCP_INFO shows none). */
struct tcp_rate *tcp_rate_make(struct tcp_sock *tp);
static inline struct tcp_rate *tcp_rate_get(struct tcp_sock *tp)
{
	return tp->rate ? tp->rate : tcp_rate_make(tp);
}
void tcp_rate_free(struct tcp_sock *tp);
/* A data segment goes (new or again): note the connection's delivery
 * state in it (Linux's tcp_rate_skb_sent). Before packets_out counts it.
 * (Inline: once per segment sent.) Nothing in flight: a sample that ends
 * with a later ACK covers exactly the time from now to it. Otherwise the
 * send phase goes back to the newest segment (S)ACKed, so that the time
 * the path needs for what is in flight counts. packets_out, not the
 * flight estimate: a spurious loss mark must not shorten the interval.
 * A SYN is not stamped (Linux counts it in flight before it stamps it).
 * now: the instance's clock. */
static inline void tcp_rate_skb_sent(struct sock *sk, struct sk_buff *skb,
				     us_time_t now)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	struct tcp_rate *r;

	if ((cb->flags & TCPHDR_SYN) || !(r = tcp_rate_get(tp)))
		return;
	if (!tp->packets_out)
		r->first_tx = r->delivered_at = now;
	cb->tx_first = r->first_tx;
	cb->tx_delivered_at = r->delivered_at;
	cb->tx_delivered = tp->delivered;
	cb->tx_app_limited = r->app_limited != 0;
}
/* A segment is SACKed, or taken off by the cumulative ACK: the ACK's
 * sample starts from the newest such (tcp_rate_skb_delivered). */
void tcp_rate_skb_delivered(struct sock *sk, struct sk_buff *skb);
/* A new ACK: its sample starts empty; `in_flight` is the flight before
 * it. */
void tcp_rate_ack_start(struct tcp_sock *tp, uint32_t in_flight);
/* After the ACK's deliveries are counted in tp->delivered: the sample
 * (tcp_rx(tp)->rs), and TCP_INFO's if it is kept (tcp_rate_gen). */
void tcp_rate_gen(struct sock *sk, uint32_t delivered, uint32_t lost,
		  bool sack_reneg);
/* A write comes: if nothing waits to go and nothing holds the sender
 * back, the flight now is application-limited (Linux's
 * tcp_rate_check_app_limited). */
void tcp_rate_check_app_limited(struct sock *sk);
/* A segment was newly marked lost (Linux's tcp_sum_lost: tp->lost). */
static inline void tcp_rate_lost(struct tcp_sock *tp)
{
	if (tp->rate)
		tp->rate->lost++;
}
/* TCP_INFO: the last sample kept, in bytes per second, and whether it
 * was application-limited. */
uint64_t tcp_rate_info(const struct tcp_sock *tp, bool *app_limited);

/* tcp_prr.c: RFC 6937 */
/* Fast recovery begins (ssthresh is set): PRR starts counting. */
void tcp_prr_init(struct sock *sk);
/* RFC 6937 §3.1: how many segments an ACK releases, from PRR's state and
 * pipe (Linux's tcp_cwnd_reduction, PRR-SSRB). */
uint32_t tcp_prr_sndcnt(const struct tcp_sock *tp, uint32_t pipe,
			uint32_t delivered, bool una_advanced, bool newly_lost);
/* After an ACK is processed: in recovery cwnd = pipe + sndcnt. */
void tcp_prr_ack(struct sock *sk, bool una_advanced);
/* nsegs segments (new or retransmitted) were sent. */
void tcp_prr_sent(struct tcp_sock *tp, unsigned int nsegs);
/* Without SACK: a duplicate ACK stands for a segment delivered. */
void tcp_reno_dupack(struct sock *sk);
/* Without SACK: a cumulative ACK of `acked` bytes came (tcp_rx's
 * delivered holds its segments). It delivered anew the segments the
 * duplicate ACKs before it did not stand for: delivered becomes those,
 * and the bytes returned, by which the window may grow. */
uint32_t tcp_reno_cum_ack(struct sock *sk, uint32_t acked);
/* Linux's tcp_limit_reno_sacked: the duplicate ACKs stand for no more
 * segments than are out beside the holes (one at least). True when they
 * stood for more. */
bool tcp_reno_limit(struct tcp_sock *tp);
/* The segments in flight as the window test counts them (RFC 6675
 * pipe; without SACK, the duplicate ACKs stand for the SACKed). */
uint32_t tcp_packets_in_flight(const struct tcp_sock *tp);
/* Without SACK: the first segment is lost (fast retransmit, partial
 * ACK), marked so unless it is; tcp_write_xmit sends it when the window
 * allows (tcp_sack_xmit_lost). */
void tcp_reno_mark_head_lost(struct sock *sk);
/* A timeout, or the end of a recovery: the duplicate ACKs' estimate
 * starts again. */
void tcp_reno_reset(struct tcp_sock *tp);
/* NewReno's recovery held at its point: SND.UNA = high_seq (Linux's
 * tcp_try_undo_recovery keeps CA_Recovery there). */
bool tcp_reno_held(const struct tcp_sock *tp);

/* tcp_tlp.c: RFC 8985 §7 */
/* Data was sent or acknowledged: the PTO replaces the RTO if it comes
 * first. advancing_rto: the RTO was just restarted from now. */
void tcp_tlp_schedule(struct sock *sk, bool advancing_rto);
/* The PTO fired: send the probe. */
void tcp_tlp_fire(struct sock *sk);
/* An ACK of `ack` was processed: did the probe repair a loss? */
void tcp_tlp_ack(struct sock *sk, uint32_t ack, bool pure_dupack);
/* A timeout or a recovery: no probe is outstanding any more. */
void tcp_tlp_reset(struct tcp_sock *tp);

/* tcp_urgent.c */
bool tcp_urg_mode(struct tcp_sock *tp);
/* The connection is gone (tcp_disconnect): no urgent data either way. */
void tcp_urg_clear(struct sock *sk);
void tcp_urg_mark(struct sock *sk, int flags);
void tcp_urg_out(struct sock *sk, uint32_t seq, uint8_t *flags,
		 uint16_t *urg_ptr);
bool tcp_urg_probe_due(struct sock *sk);
void tcp_urg(struct sock *sk, const struct sk_buff *skb,
	     const struct tcp_seg *th);
int tcp_recv_urg(struct sock *sk, struct msghdr *msg, size_t len, int flags);
bool tcp_urg_at_mark(const struct sock *sk);
/* The mark lies in the queued data: a read or a peek stops at it. */
bool tcp_urg_ahead(const struct sock *sk);
size_t tcp_urg_read_start(struct sock *sk, size_t *len, int flags,
			  size_t start);
void tcp_urg_read_done(struct sock *sk);
uint32_t tcp_urg_poll(const struct sock *sk, size_t *readable);
size_t tcp_urg_inq(const struct sock *sk, size_t queued);

/* tcp_offload.c: TSO and checksum offload on the way out */
/* A GSO packet being gathered by tcp_write_xmit (on its stack). */
struct tcp_gso_batch {
	struct sk_buff *first;      /* its first queued segment, or NULL */
	unsigned int nsegs;
	uint32_t end_seq;           /* where the next segment must start */
	bool closed;                /* a short segment ended it */
	bool features_known;        /* features holds the route device's */
	uint32_t features;
	unsigned int max_segs;      /* 0: TCP_GSO_MAX_SEGS; paced: fewer */
};
/* Send skb, or gather it into b when the device has TSO. 0 or -errno. */
int tcp_tso_xmit(struct sock *sk, struct sk_buff *skb, struct tcp_gso_batch *b);
/* Send what b gathered. 0 or -errno. */
int tcp_tso_flush(struct sock *sk, struct tcp_gso_batch *b);
/* Would skb join the packet b is gathering (false when none is)? */
bool tcp_tso_joins(struct sock *sk, struct sk_buff *skb,
		   const struct tcp_gso_batch *b);
/* The GSO packet for nsegs queued segments from first: a head for the
 * headers and their payloads on its frag_list; *flags gets their PSH.
 * With nsegs 1 (a carved segment), the same without GSO fields. */
struct sk_buff *tcp_gso_build(struct sock *sk, struct sk_buff *first,
			      unsigned int nsegs, uint8_t *flags);
/* Fill the checksum of the TCP packet at skb->data (saddr to daddr):
 * partial for a GSO or nonlinear packet or when the device of the route
 * to nexthop (a source route's first hop, else daddr) sums, else in
 * full. */
void tcp_v4_send_check(struct ustack *st, struct sk_buff *skb, uint32_t saddr,
		       uint32_t daddr, uint32_t nexthop);
/* Should tcp_sendmsg queue the next left bytes with tcp_sendmsg_carve? */
bool tcp_sendmsg_carves(struct sock *sk, size_t left);
/* Copy up to 64 KB of msg from off into one data area and queue it as
 * MSS-sized segments carved out of it. Bytes queued, or -errno. */
int tcp_sendmsg_carve(struct sock *sk, const struct msghdr *msg, size_t off,
		      size_t left);
/* tcp.c: a full segment pushed when a long write has gone on (forced
 * push), after its bytes were queued. */
void tcp_mark_push(struct sock *sk, struct sk_buff *skb);
/* tcp_transmit_skb for nsegs segments from skb, as one GSO packet. */
int tcp_transmit_gso(struct sock *sk, struct sk_buff *skb, unsigned int nsegs);

/* tcp_timer.c */
void tcp_init_timers(struct tcp_sock *tp);
void tcp_clear_timers(struct tcp_sock *tp);
void tcp_reset_rto_timer(struct sock *sk);
/* The same, due `delay` from now (the RTO timer's other uses). */
void tcp_reset_rto_timer_in(struct sock *sk, us_time_t delay);
/* The connection fails with err: reported, then closed. */
void tcp_write_err(struct sock *sk, int err);
/* The RTO with its backoff, at most tcp_rto_max. */
us_time_t tcp_backed_off_rto(const struct tcp_sock *tp);
/* A zero-window probe's delay, from its backoff (Linux's
 * tcp_probe0_when). */
us_time_t tcp_probe0_when(const struct tcp_sock *tp);
/*
 * The socket's timer bounds (TCP_RTO_MAX_MS, TCP_RTO_MIN_US,
 * TCP_DELACK_MAX_US, and at creation net.ipv4.tcp_rto_max_ms and
 * tcp_rto_min_us): the RTO's ceiling and floor, and the delayed ACK's
 * ceiling (its own, and one tick below the RTO's floor). Set with the
 * option's value (-EINVAL out of range), read in the option's unit.
 */
us_time_t tcp_rto_max(const struct tcp_sock *tp);
us_time_t tcp_rto_min(const struct tcp_sock *tp);
us_time_t tcp_delack_max(const struct tcp_sock *tp);
int tcp_set_timer_bound(struct sock *sk, int optname, int val);
int tcp_get_timer_bound(const struct sock *sk, int optname);
/* A new socket's from the sysctls; a child's from its listener; what a
 * disconnect puts back (the floors, not the ceiling). */
void tcp_timer_bounds_init(struct sock *sk);
void tcp_timer_bounds_clone(struct sock *sk, const struct sock *parent);
void tcp_timer_bounds_disconnect(struct sock *sk);
/* An ACK while the window is probed: the next probe counts from now. */
void tcp_ack_probe(struct sock *sk);
void tcp_rearm_rto(struct sock *sk);
void tcp_reset_keepalive(struct sock *sk);
/* SO_KEEPALIVE turned on or off (Linux's tcp_set_keepalive). */
void tcp_set_keepalive(struct sock *sk, bool on);
void tcp_time_wait(struct sock *sk);

/* ---- TIME_WAIT entries' helpers (tcp_timewait.c uses them) ---- */
/* The connection tables' keyed hash of a four-tuple, before masking. */
uint32_t tcp_tuple_hash(const struct tcp_table *t, uint32_t laddr,
			uint16_t lport, uint32_t faddr, uint16_t fport);
/* sk's port was chosen by bind(), not by connect() (tcp.c). */
bool tcp_port_from_bind(const struct sock *sk);
/* tcp_invalid_ratelimit on *last (Linux's __tcp_oow_rate_limited): true
 * when an answer went less than the sysctl's time (500 ms) ago; else
 * *last = now. */
bool tcp_oow_limited(struct ustack *st, us_time_t *last);
/* RFC 7323 §5.3 R1 without the sock: TSval at least TS.Recent (within
 * `window` ticks), or a TS.Recent too old or 0 to check against. */
bool tcp_paws_fresh(uint32_t ts_recent, us_time_t ts_recent_stamp,
		    uint32_t tsval, int32_t window, us_time_t now);
/* A segment's header fields, for tcp_output.c; tcp_send_out sends them
 * as an empty segment not from a sock (a TIME_WAIT entry's ACK). */
struct tcp_out {
	uint32_t saddr, daddr;
	int oif;                  /* out of this device (SO_BINDTODEVICE) */
	uint32_t mark;            /* SO_MARK */
	uint16_t sport, dport;    /* network order */
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;          /* the field, scaled already */
	uint16_t mss;             /* MSS option on SYNs, 0 = none */
	uint8_t ttl, tos;
	bool no_df;               /* the socket's IP_MTU_DISCOVER says no DF */
	bool df_want;             /* DF unless the path's MTU is locked */
	/* SACK (tcp_sack.c): SACK-permitted on a SYN, blocks on an ACK */
	bool sack_perm;
	uint8_t nsacks;
	struct tcp_sack_block sacks[TCP_MAX_SACKS];
	uint16_t urg_ptr;         /* with TCPHDR_URG in flags */
	struct tcp_opts opts;     /* other options (tcp_ts_fill_options) */
	const struct ip_options *ipopt;  /* IPv4 options (IP_OPTIONS) */
};
int tcp_send_out(struct ustack *st, const struct tcp_out *o);
void tcp_fin_wait2_timeout(struct sock *sk);
/* RFC 6298 §2: a new RTT measurement. */
void tcp_rtt_sample(struct tcp_sock *tp, us_time_t rtt_us);

/*
 * TCP_INFO (tcp_info.c): Linux 6.18's whole struct tcp_info, 280 bytes;
 * tcp_get_info fills it and returns its size. The counters behind it:
 * segments in (tcp_v4_rcv, for a connection) and out (by how many a GSO
 * packet holds), the ACK's deliveries, RTT samples (min_rtt), timeouts
 * and their loss state's end, retransmitted bytes, reordering seen and
 * segments out of order, and Linux's "chrono": the time the connection
 * was busy, and within it limited by the peer's window or by the send
 * buffer (TCP_CHRONO_*, each start only raises the type; a stop falls
 * back to busy, or to none once nothing is queued or in flight).
 */
#define TCP_INFO_LEN 280
enum { TCP_CHRONO_UNSPEC, TCP_CHRONO_BUSY, TCP_CHRONO_RWND_LIMITED,
       TCP_CHRONO_SNDBUF_LIMITED };
size_t tcp_get_info(struct sock *sk, void *buf);
void tcp_info_init(struct tcp_sock *tp);   /* a new or disconnected one */
void tcp_chrono_start(struct sock *sk, int type);
void tcp_chrono_stop(struct sock *sk, int type);

/* A listener's child before its handshake's end, not a Fast Open one: what
 * Linux keeps as a request sock, whose segments no TCP_INFO counts. */
static inline bool tcp_info_request(const struct tcp_sock *tp)
{
	return tp->sk.state == TCP_SYN_RECV && tp->parent &&
	       !tp->fastopen_child;
}

/* New data (or a FIN) at the write queue's tail: the first unsent one
 * makes the connection busy (Linux's tcp_add_write_queue_tail). */
static inline void tcp_add_write_queue_tail(struct sock *sk,
					    struct sk_buff *skb)
{
	skb_queue_tail(&sk->write_queue, skb);
	if (!tcp_sk(sk)->send_head) {
		tcp_sk(sk)->send_head = skb;
		tcp_chrono_start(sk, TCP_CHRONO_BUSY);
	}
}
void tcp_info_seg_in(struct tcp_sock *tp, uint32_t payload);
void tcp_info_seg_out(struct tcp_sock *tp, unsigned int nsegs,
		      uint32_t payload);
void tcp_info_rtt(struct tcp_sock *tp, uint32_t rtt_us);
/* SND.UNA and RCV.NXT move on (by an ACK, by data or a FIN taken), their
 * turns of the sequence space counted for TCP_INFO */
void tcp_snd_una_update(struct tcp_sock *tp, uint32_t ack);
void tcp_rcv_nxt_update(struct tcp_sock *tp, uint32_t nxt);
void tcp_info_timeout(struct sock *sk, bool zero_window);
void tcp_info_loss_over(struct sock *sk);
void tcp_info_synack_done(struct sock *sk);   /* a child's handshake ends */
void tcp_info_fastopen_done(struct sock *sk);
void tcp_info_retrans(struct sock *sk, uint32_t bytes);
void tcp_info_reordering(struct sock *sk, uint32_t segs);
/* The reordering the connection allows, in segments (Linux's
 * tp->reordering: 3 until reordering is seen); without SACK it is the
 * duplicate ACKs that start a fast retransmit. */
uint32_t tcp_reordering(struct sock *sk);
void tcp_reno_reordering(struct sock *sk, uint32_t segs);
void tcp_reordering_timeout(struct sock *sk);
void tcp_info_ooo(struct sock *sk);
void tcp_info_delivered_ce(struct sock *sk, uint32_t segs);

/* Pacing (tcp_pacing.c; SO_MAX_PACING_RATE): the rate, bytes per second
 * (UINT64_MAX: none; Linux's sk_pacing_rate). On a socket with
 * sk->pacing: must the next segment wait (its timer then armed)? A
 * segment of len payload bytes went. The most segments a TSO packet may
 * hold. The timer goes with the socket's others. */
uint64_t tcp_pacing_rate(struct sock *sk);
bool tcp_pacing_wait(struct sock *sk);
void tcp_pacing_sent(struct sock *sk, uint32_t len);
unsigned int tcp_pacing_tso_segs(struct sock *sk);
void tcp_pacing_stop(struct sock *sk);

/* ECN (tcp_ecn.c, RFC 3168 §6.1; net.ipv4.tcp_ecn, tcp_ecn_fallback) */
uint8_t tcp_ecn_syn_flags(struct sock *sk, bool again);
void tcp_ecn_syn_in(struct sock *sk, uint8_t syn_flags, uint8_t ae_rsv,
		    uint8_t ip_ecn);
void tcp_ecn_synack_in(struct sock *sk, uint8_t flags);
void tcp_ecn_simul_syn_in(struct sock *sk, uint8_t syn_flags);
void tcp_ecn_out(struct sock *sk, struct tcp_out *o, bool new_data);
void tcp_ecn_queue_cwr(struct tcp_sock *tp);
void tcp_ecn_withdraw_cwr(struct tcp_sock *tp);
void tcp_ecn_in(struct sock *sk, uint8_t ip_ecn);
void tcp_ecn_accept_cwr(struct sock *sk, uint32_t payload);
void tcp_ecn_data_in(struct sock *sk, uint8_t ip_ecn);
bool tcp_ecn_ack(struct sock *sk);
/* The IP header's ECN field of a received segment. */
static inline uint8_t tcp_skb_ip_ecn(const struct sk_buff *skb)
{
	return skb_network_header(skb)[1] & 3;
}
/* No undo of the reduction in hand (an ECE: Linux's prior_ssthresh 0). */
void tcp_undo_forbid(struct sock *sk);

/* tcp_ts.c: RFC 7323 */
enum tcp_paws_verdict {
	TCP_PAWS_OK,       /* accept (no TSopt, or TSval not older) */
	TCP_PAWS_DROP,     /* an old pure ACK: drop without an answer */
	TCP_PAWS_REJECT,   /* drop, and answer with an ACK */
};
/* Active open: which options our SYN offers, the window scale we ask
 * for and the timestamp offset. Before the first SYN. */
void tcp_ts_init_connect(struct sock *sk);
/* Passive open: the child answers what the peer's SYN offered. */
void tcp_ts_init_child(struct sock *sk, const struct tcp_seg *th);
/* A SYN (or SYN-ACK) reached a SYN_SENT socket: what was agreed. */
void tcp_ts_synsent_options(struct sock *sk, const struct tcp_seg *th);
/* The options a segment with these flags carries (timestamps, window
 * scale), added to o. */
void tcp_ts_fill_options(struct sock *sk, uint8_t flags, struct tcp_opts *o);
/* Option bytes on every segment after the handshake (timestamps: 12). */
uint32_t tcp_ts_hdr_extra(const struct tcp_sock *tp);
/* The MSS we announced less the timestamps' 12 bytes once they are
 * agreed (Linux's tp->advmss after the handshake): the most the peer
 * puts in a segment. */
uint32_t tcp_advmss(const struct tcp_sock *tp);
/* Our TSval clock now (ms + the connection's offset). */
uint32_t tcp_ts_now(const struct sock *sk);
/* The peer's window in bytes: scaled unless the segment is a SYN. */
uint32_t tcp_peer_window(const struct tcp_sock *tp, const struct tcp_seg *th);
/* The largest window we may offer: 65535 << rcv_wscale, window_clamp. */
uint32_t tcp_window_max(const struct tcp_sock *tp);
/* Take note of the segment's timestamp option (before any check). */
void tcp_ts_note(struct tcp_sock *tp, const struct tcp_seg *th);
/* RFC 7323 §5.3 R1: PAWS on a synchronized connection; counts. */
enum tcp_paws_verdict tcp_paws_check(struct sock *sk, const struct sk_buff *skb,
				     const struct tcp_seg *th);
/* RFC 7323 §4.3: the segment was accepted; TS.Recent may follow it. */
void tcp_ts_update_recent(struct tcp_sock *tp, uint32_t seq);
/* RFC 7323 §4.2 RTTM: an RTT sample from the echoed TSval of an ACK
 * that acknowledged new data, all of it last sent by last_tx: taken, and
 * returned in us; -1 when there is none. */
int64_t tcp_ts_rtt_sample(struct sock *sk, us_time_t last_tx);

/* tcp_autotune.c: Linux's receive-buffer autotuning and send-buffer
 * growth */
/* SO_RCVLOWAT (val >= 0), bounded as Linux's tcp_set_rcvlowat. */
void tcp_set_rcvlowat(struct sock *sk, int val);
/* The connection is established: the window's clamp and rcv_ssthresh
 * as the buffer allows them; start measuring. */
void tcp_init_buffer_space(struct sock *sk);
/* A segment of len bytes in a buffer of truesize arrived (in order, or
 * out of order with SACK): rcv_ssthresh grows (Linux's tcp_grow_window). */
void tcp_grow_window(struct sock *sk, uint32_t len, uint32_t truesize);
/* The receive queues took the socket to its buffer (Linux's
 * tcp_clamp_window, from tcp_prune_queue). */
void tcp_clamp_window(struct sock *sk);
/* Under memory pressure: rcv_ssthresh to 4 segments at most. */
void tcp_adjust_rcv_ssthresh(struct sock *sk);
/* In-order data arrived: the receiver's RTT estimate. */
void tcp_rcv_rtt_measure(struct sock *sk, const struct sk_buff *skb);
/* The reader took data: grow the buffer if it took more than last RTT. */
void tcp_rcv_space_adjust(struct sock *sk);
/* New data was acknowledged: room for twice the congestion window. */
void tcp_sndbuf_expand(struct sock *sk);

/* tcp_ackbatch.c: a device's batch of received frames begins / ends (the
 * ACKs held back meanwhile go out at the end, one per connection); during
 * one, tcp_ack_defer takes an immediate ACK of in-order data (true) or
 * refuses it (false: send it now). Core lock held. */
void tcp_rx_batch_begin(struct ustack *st);
void tcp_rx_batch_end(struct ustack *st);
bool tcp_ack_defer(struct sock *sk);

#endif
