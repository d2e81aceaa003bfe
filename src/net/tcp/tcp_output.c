/*
 * tcp_output.c - building and sending TCP segments: the window we offer,
 * the header and options, the send loop that obeys the peer's window, the
 * congestion window and Nagle, and the control segments (SYN, SYN-ACK,
 * ACK, FIN, RST, window probes). See tcp.h.
 *
 * Call chain: tcp_sendmsg / tcp_ack / timers -> tcp_write_xmit ->
 *             tcp_transmit_skb -> tcp_build_and_send -> ip_output
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "core/checksum.h"
#include "net/af_inet.h"
#include "net/ip_options.h"
#include "net/ipv4.h"
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"

/*
 * The window the buffer allows now (Linux's __tcp_select_window; RFC 9293
 * §3.8.6.2.2 and RFC 1122 §4.2.3.3, receiver SWS avoidance). The free
 * space, within the clamp; once it falls under half the whole, no more
 * quick ACKs (the reader is behind), and under a sixteenth of the buffer's
 * space or one of the peer's segments it is 0 (so that the zero window is
 * offered before the buffer overflows); else it is capped by rcv_ssthresh
 * (the window grows as the data shows it fits: tcp_grow_window). With a
 * window scale, rounded up to its unit, so that no window is scaled away;
 * without, a multiple of the peer's segment size, unless the window
 * offered is within one segment of it (kept, as it is).
 */
uint32_t __tcp_select_window(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int64_t mss = tp->rcv_mss ? tp->rcv_mss : tcp_advmss(tp);
	int64_t free_space = tcp_space(sk);
	int64_t allowed = tcp_full_space(sk);
	int64_t full = tp->window_clamp && tp->window_clamp < allowed ?
		       tp->window_clamp : allowed;
	int64_t unit = (int64_t)1 << tp->rcv_wscale;
	int64_t window;

	if (mss > full) {
		mss = full;
		if (mss <= 0)
			return 0;
	}
	if (free_space < full / 2) {
		tp->quickacks = 0;
		if (tcp_under_memory_pressure(sk))
			tcp_adjust_rcv_ssthresh(sk);
		/* (rounded down: the scale must not make it larger) */
		free_space &= ~(unit - 1);
		if (free_space < allowed / 16 || free_space < mss)
			return 0;
	}
	if (free_space > tp->rcv_ssthresh)
		free_space = tp->rcv_ssthresh;
	if (tp->rcv_wscale)
		return (uint32_t)((free_space + unit - 1) & ~(unit - 1));
	window = tp->rcv_wnd;
	if (window <= free_space - mss || window > free_space)
		window = free_space / mss * mss;
	else if (mss == full && free_space > window + full / 2)
		window = free_space;
	return (uint32_t)window;
}

/*
 * The window a segment offers (Linux's tcp_select_window): never less than
 * what was offered before (RFC 9293 §3.8.6.2.2: the right edge does not
 * move left), then RCV.WUP is RCV.NXT. The field says it shifted by our
 * scale (RFC 7323 §2.3), at most 65535 units: without a scale Linux's
 * rcv_wnd may pass 65535 once the clamp follows a larger buffer, and only
 * the field stops there.
 */
static uint16_t tcp_select_window(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t cur = tcp_receive_window(tp);
	uint32_t win = __tcp_select_window(sk);
	uint32_t unit = 1u << tp->rcv_wscale;
	uint32_t max = (uint32_t)TCP_MAX_WINDOW << tp->rcv_wscale;

	if (win < cur)
		win = (cur + unit - 1) & ~(unit - 1);
	tp->rcv_wnd = win;
	tp->rcv_wup = tp->rcv_nxt;
	return (uint16_t)((win < max ? win : max) >> tp->rcv_wscale);
}

/*
 * The SACK blocks a segment carries. A segment with data gives them only
 * the room its payload leaves under the MSS (mss_cache already counts any
 * option every segment carries); Linux shrinks the payload instead.
 */
static void tcp_out_sacks(const struct tcp_out *o, uint32_t payload,
			  uint16_t mss, struct tcp_opts *opts)
{
	uint8_t n = o->nsacks;

	if (payload && n) {
		uint32_t room = mss > payload + 4 ? (mss - payload - 4) / 8 : 0;

		if (n > room)
			n = (uint8_t)room;
	}
	opts->nsacks = n;
	memcpy(opts->sacks, o->sacks, sizeof(opts->sacks));
}

/* Push the header onto skb (data at the payload) and hand it to IPv4. */
static int tcp_push_and_send(struct ustack *st, struct sk_buff *skb,
			     const struct tcp_out *o, uint16_t mss)
{
	struct tcp_opts opts = o->opts;
	struct tcp_seg h = { 0 };
	uint8_t optbuf[40];
	size_t olen;
	struct ip_out_args a = { 0 };
	uint8_t *th;

	if (o->mss) {
		opts.mss_ok = true;
		opts.mss = o->mss;
		opts.sack_ok = o->sack_perm;
	} else if (o->nsacks) {
		/* After the timestamps, when agreed: 12 bytes, leaving 28
		 * for SACK, 3 blocks (tcp_emit_options caps them). */
		tcp_out_sacks(o, skb->len, mss, &opts);
	}
	olen = tcp_emit_options(&opts, o->flags & TCPHDR_SYN, optbuf);
	th = skb_push(skb, (unsigned int)(TCP_HLEN_MIN + olen));
	if (!th) {
		us_drop(st, skb, US_DROP_NOMEM);
		return -ENOBUFS;
	}
	h.sport = ntohs(o->sport);
	h.dport = ntohs(o->dport);
	h.seq = o->seq;
	h.ack = (o->flags & TCPHDR_ACK) ? o->ack : 0;
	h.doff = (uint8_t)(TCP_HLEN_MIN + olen);
	h.flags = o->flags;
	h.window = o->window;
	h.urg_ptr = o->urg_ptr;
	tcp_emit_header(&h, th);
	memcpy(th + TCP_HLEN_MIN, optbuf, olen);
	tcp_v4_send_check(st, skb, o->saddr, o->daddr,
			  ip_options_first_hop(o->ipopt, o->daddr));
	skb_reset_transport_header(skb);
	a.opt = o->ipopt;
	a.saddr = o->saddr;
	a.daddr = o->daddr;
	a.oif = o->oif;
	a.mark = o->mark;
	a.protocol = IPPROTO_TCP;
	a.ttl = o->ttl;
	a.tos = o->tos;
	/* DF, as Linux sets it for TCP (path MTU discovery, RFC 1191),
	 * unless the socket's IP_MTU_DISCOVER says otherwise, or (under
	 * WANT) the path's MTU is locked. */
	a.df = o->no_df ? IP_DF_NO : o->df_want ? IP_DF_WANT : IP_DF_YES;
	us_mib_inc(st, US_MIB_TCP_OUT_SEGS);
	return ip_output(st, skb, &a);
}

static void tcp_out_from_sock(struct sock *sk, struct tcp_out *o, uint32_t seq,
			      uint8_t flags)
{
	struct tcp_sock *tp = tcp_sk(sk);

	memset(o, 0, sizeof(*o));
	o->saddr = sk->rcv_saddr;
	o->daddr = sk->daddr;
	o->oif = sk->bound_dev_if;
	o->mark = sk->mark;
	o->ipopt = ip_sock_options(sk);
	o->sport = sk->sport;
	o->dport = sk->dport;
	o->seq = seq;
	o->ack = tp->rcv_nxt;
	o->flags = flags;
	o->ttl = sk->ttl < 0 ? 0 : (uint8_t)sk->ttl;
	o->tos = sk->tos;
	o->no_df = !ip_dont_fragment(sk, false);
	o->df_want = sk->pmtudisc == IP_PMTUDISC_WANT;
	if (flags & TCPHDR_SYN) {
		/* RFC 7323 §2.2: a SYN's window is never scaled: the
		 * window chosen at connect() or for the child (tcp_ts.c's
		 * tcp_select_initial_window), 65535 at most in the field
		 * (Linux's tcp_transmit_skb). */
		o->window = (uint16_t)(tp->rcv_wnd < TCP_MAX_WINDOW ?
				       tp->rcv_wnd : TCP_MAX_WINDOW);
		tp->rcv_wup = tp->rcv_nxt;
		o->mss = tp->advmss;
		o->sack_perm = tcp_sack_syn_perm(sk);
	} else if (flags & TCPHDR_RST) {
		o->window = 0;
	} else {
		o->window = tcp_select_window(sk);
		if (flags & TCPHDR_ACK)
			o->nsacks = tcp_sack_fill(sk, o->sacks);
	}
	tcp_urg_out(sk, seq, &o->flags, &o->urg_ptr);
	tcp_ts_fill_options(sk, flags, &o->opts);
	/* The Fast Open option rides on a SYN's or SYN-ACK's first
	 * transmission only (tcp_queue_syn), as on Linux. */
	if ((flags & TCPHDR_SYN) && sk->st->tcp.fo_out) {
		const struct tcp_fastopen_cookie *foc = sk->st->tcp.fo_out;

		o->opts.fo_ok = true;
		o->opts.fo_exp = foc->exp;
		o->opts.fo_len = (uint8_t)foc->len;
		memcpy(o->opts.fo_cookie, foc->val, (size_t)foc->len);
	}
}

/* After anything carrying an ACK went out, no ACK is owed any more. */
static void tcp_ack_sent(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tcp_delack_acked(tp);
	tp->ack_pending = false;
	us_timer_del(&sk->st->timers, &tp->delack_timer);
}

/*
 * Send a copy of a queued segment (the original stays for retransmission).
 * A clone shares the data; if an earlier clone of this segment may still
 * be in flight inside the stack, a private copy keeps its header intact.
 */
static int tcp_transmit(struct sock *sk, struct sk_buff *skb,
			unsigned int nsegs, bool rexmit);

bool tcp_push_due(const struct sock *sk, const struct sk_buff *skb)
{
	return skb->len && !tcp_write_queue_next(sk, skb) &&
	       !sk->st->tcp.mid_write &&
	       !(((const struct tcp_skb_cb *)skb->cb)->flags & TCPHDR_SYN);
}

int tcp_transmit_skb(struct sock *sk, struct sk_buff *skb)
{
	bool rexmit = seq_lt(TCP_SKB_CB(skb)->seq, tcp_sk(sk)->snd_max);
	int rc = rexmit ? tcp_fit_mss(sk, skb) : 0;

	return rc < 0 ? rc : tcp_transmit(sk, skb, 1, rexmit);
}

/* A GSO packet holds new data only (tcp_gso_can_start), although
 * tcp_write_xmit has moved snd_max past it by the time it is flushed. */
int tcp_transmit_gso(struct sock *sk, struct sk_buff *skb, unsigned int nsegs)
{
	return tcp_transmit(sk, skb, nsegs, false);
}

static int tcp_transmit(struct sock *sk, struct sk_buff *skb,
			unsigned int nsegs, bool rexmit)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *n;
	struct tcp_out o;
	uint8_t flags = cb->flags;

	/* Linux's skb_still_in_host_queue: the segment's last copy waits
	 * for ARP still, and a new one would only queue behind it (both
	 * would go once the next hop answers). The caller tries later. */
	if (rexmit && ip_still_queued(sk->st, sk->daddr, skb)) {
		us_mib_inc(sk->st, US_MIB_TCP_SPURIOUS_RTX_HOSTQUEUES);
		return -EBUSY;
	}
	/* A carved segment's headroom is its neighbour's payload: its
	 * headers go in a buffer of their own (tcp_offload.c). */
	if (nsegs > 1 || cb->carved)
		n = tcp_gso_build(sk, skb, nsegs, &flags);
	else
		n = skb_shared_data(skb) ? skb_copy(skb) : skb_clone(skb);
	if (!n)
		return -ENOBUFS;
	/* A report to come from the device: the packet holds its socket. */
	if (n->tx_flags & SKBTX_DEV_TSTAMP)
		skb_tstamp_own(n, sk);
	if (sk->state != TCP_SYN_SENT)
		flags |= TCPHDR_ACK;
	/* A SYN sent again asks for ECN no more (RFC 3168 §6.1.1.1); a
	 * SYN-ACK (a simultaneous open's is our SYN again) says ECE alone
	 * when ECN is on (Linux's tcp_ecn_send_synack). */
	if (rexmit && (flags & (TCPHDR_SYN | TCPHDR_ACK)) == TCPHDR_SYN)
		flags = (uint8_t)((flags & ~(TCPHDR_ECE | TCPHDR_CWR)) |
				  tcp_ecn_syn_flags(sk, true));
	else if ((flags & (TCPHDR_SYN | TCPHDR_ACK)) ==
		 (TCPHDR_SYN | TCPHDR_ACK))
		flags = (uint8_t)((flags & ~(TCPHDR_ECE | TCPHDR_CWR)) |
				  (tp->ecn_ok ? TCPHDR_ECE : 0));
	if (tcp_push_due(sk, skb))
		cb->flags |= TCPHDR_PSH;
	flags |= cb->flags & TCPHDR_PSH;
	tcp_out_from_sock(sk, &o, cb->seq, flags);
	tcp_ecn_out(sk, &o, skb->len && !rexmit);
	cb->sent = sk->st->now;
	/* (In Linux's order, tcp_transmit_skb's: the ACK's quick-ACK count
	 * first, then pingpong's test.) */
	if (flags & TCPHDR_ACK)
		tcp_ack_sent(sk);
	if (skb->len)
		tcp_data_sent(sk);
	/* TCP_INFO: a passive open's SYN-ACK is the request's in Linux (a
	 * simultaneous open's is the socket's own) */
	if (!(sk->state == TCP_SYN_RECV && (cb->flags & TCPHDR_SYN) &&
	      tp->passive_open))
		tcp_info_seg_out(tp, nsegs, skb->len);
	if (cb->flags & TCPHDR_FIN)
		tp->fin_out = true;
	if (rexmit) {
		tcp_rate_skb_sent(sk, skb, sk->st->now);
		/* Saturates: RACK's walk takes 0 for "sent only once". */
		if (cb->retrans < UINT8_MAX)
			cb->retrans++;
		tp->total_retrans++;
		tcp_info_retrans(sk, skb->len);
		us_mib_inc(sk->st, US_MIB_TCP_RETRANS_SEGS);
	}
	tcp_prr_sent(tp, nsegs);
	if (sk->pacing) {
		uint32_t len = 0;
		struct sk_buff *s = skb;

		/* (A GSO packet's payload: its segments, queued in order) */
		for (unsigned int i = 0; i < nsegs && s;
		     i++, s = tcp_write_queue_next(sk, s))
			len += s->len;
		tcp_pacing_sent(sk, len);
	}
	return tcp_push_and_send(sk->st, n, &o, tp->mss_cache);
}

static uint32_t tcp_in_flight_segs(const struct tcp_sock *tp)
{
	return tcp_packets_in_flight(tp);   /* RFC 6675 pipe (tcp_prr.c) */
}

/*
 * Nagle's test as Minshall refined it (draft-minshall-nagle-01), which
 * Linux uses: a short segment waits only while an earlier short one is
 * unacknowledged, so the tail of a large write is not held for an ACK.
 */
static bool tcp_small_in_flight(const struct tcp_sock *tp)
{
	return seq_gt(tp->snd_sml, tp->snd_una) &&
	       seq_leq(tp->snd_sml, tp->snd_nxt);
}

/* What a short last segment may do (Linux's nonagle argument of
 * tcp_write_xmit): wait for more (MSG_MORE, TCP_CORK), obey Nagle, or go. */
enum tcp_nagle {
	TCP_NAGLE_MORE,   /* more is promised: it waits */
	TCP_NAGLE_PUSH,   /* TCP_CORK and Nagle decide */
	TCP_NAGLE_GO,     /* it goes (Linux's TCP_NAGLE_OFF) */
};

/* New data goes when all of it fits the peer's window (data sent before
 * goes again by tcp_retransmit_skb, with Linux's exceptions). */
static bool tcp_wnd_ok(const struct tcp_sock *tp,
		       const struct tcp_skb_cb *cb)
{
	return !seq_gt(cb->end_seq, tp->snd_una + tp->snd_wnd) ||
	       (cb->flags & TCPHDR_SYN);
}

/*
 * May this unsent segment go now? The peer's window (RFC 9293 §3.8.6.2.1),
 * the congestion window (RFC 5681 §3.1), Nagle (RFC 1122 §4.2.3.4) and
 * TCP_CORK.
 */
static bool tcp_may_send(struct sock *sk, struct sk_buff *skb,
			 enum tcp_nagle nagle)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	if (tcp_in_flight_segs(tp) >= tp->snd_cwnd)
		return false;
	if (!tcp_wnd_ok(tp, cb))
		return false;
	/* Nagle and cork never hold urgent data back (Linux's
	 * tcp_nagle_test), nor a SYN (Linux's tcp_connect and a listener's
	 * SYN-ACK bypass them: a corked socket, or a child of a corked
	 * listener, must connect). */
	if (skb->len < tp->mss_cache &&
	    !(cb->flags & (TCPHDR_SYN | TCPHDR_FIN)) &&
	    tcp_write_queue_next(sk, skb) == NULL && !tcp_urg_mode(tp) &&
	    nagle != TCP_NAGLE_GO) {
		if (tp->cork || nagle == TCP_NAGLE_MORE)
			return false;
		if (!tp->nodelay && tcp_small_in_flight(tp))
			return false;
	}
	return true;
}

static void __tcp_write_xmit(struct sock *sk, enum tcp_nagle nagle);

void tcp_write_xmit(struct sock *sk, bool push)
{
	__tcp_write_xmit(sk, push ? TCP_NAGLE_PUSH : TCP_NAGLE_MORE);
}

void tcp_write_xmit_nagle_off(struct sock *sk)
{
	__tcp_write_xmit(sk, TCP_NAGLE_GO);
}

static void __tcp_write_xmit(struct sock *sk, enum tcp_nagle nagle)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_gso_batch gso = { 0 };
	uint32_t packets_before = tp->packets_out;
	uint32_t lsnd_before = tp->lsndtime;
	bool full;
	bool frto_new = tcp_undo_frto_new_data(sk);
	struct sk_buff *skb;

	/* RFC 6675 NextSeg rule 1 first, unless F-RTO (RFC 5682 §3.1 step
	 * 2b) sends new data instead. */
	if (!frto_new)
		tcp_sack_xmit_lost(sk);
	if (sk->pacing)
		gso.max_segs = tcp_pacing_tso_segs(sk);
	while ((skb = tp->send_head) != NULL) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		/* Paced (Linux's tcp_pacing_check): each packet waits for
		 * its time, so a gathered one goes before the next asks:
		 * when full, or when skb cannot join it (a FIN, a segment
		 * after a short one), which then waits as a packet of its
		 * own. */
		if (sk->pacing && gso.nsegs && !tcp_tso_joins(sk, skb, &gso) &&
		    tcp_tso_flush(sk, &gso) < 0)
			break;
		if (sk->pacing && tcp_pacing_wait(sk))
			break;
		if (tcp_fit_mss(sk, skb) < 0 || !tcp_may_send(sk, skb, nagle))
			break;
		/* (before packets_out counts it) */
		tcp_rate_skb_sent(sk, skb, sk->st->now);
		if (tcp_tso_xmit(sk, skb, &gso) < 0)
			break;
		if (seq_gt(cb->end_seq, tp->snd_nxt))
			tp->snd_nxt = cb->end_seq;
		if (seq_gt(tp->snd_nxt, tp->snd_max))
			tp->snd_max = tp->snd_nxt;
		/* Minshall's mark; not a SYN's (Linux sends its SYN and
		 * SYN-ACK outside tcp_write_xmit): a Fast Open child's
		 * first data is no second small segment. */
		if (skb->len < tp->mss_cache && !(cb->flags & TCPHDR_SYN))
			tp->snd_sml = cb->end_seq;
		tp->send_head = tcp_write_queue_next(sk, skb);
		tp->packets_out++;
		if (!us_timer_pending(&tp->retrans_timer) || tp->probe_timer) {
			/* The backoff of window probes does not carry over
			 * to the RTO (Linux's tcp_ack_probe). */
			if (tp->probe_timer)
				tp->backoff = 0;
			tcp_reset_rto_timer(sk);
		}
	}
	/* What was gathered counts as sent: a failure is a loss to repair. */
	tcp_tso_flush(sk, &gso);
	if (frto_new && !seq_gt(tp->snd_nxt, tp->high_seq)) {
		/* No new data went: the conventional recovery (Linux's
		 * tcp_xmit_recovery). */
		tcp_undo_frto_stop(sk);
		tcp_sack_xmit_lost(sk);
	}
	if (tp->packets_out != packets_before) {
		tcp_tlp_schedule(sk, false);   /* RFC 8985 §7.2 */
		/* Data went with nothing in flight before: the algorithm
		 * hears how long the connection was idle. */
		if (!packets_before && tp->lsndtime != lsnd_before)
			tcp_ca_tx_start(sk, lsnd_before);
	}
	/* How much of the window is used (cwnd growth, RFC 7661), and the
	 * send-buffer-limited time (Linux's tcp_write_xmit). */
	full = tcp_in_flight_segs(tp) >= tp->snd_cwnd;
	if (tp->packets_out != packets_before || full)
		tcp_cwnd_validate(sk, full);
	/* TCP_INFO's chrono: held back by the peer's window, not by the
	 * congestion window (Linux's is_rwnd_limited) */
	skb = tp->send_head;
	if (skb && !tcp_wnd_ok(tp, TCP_SKB_CB(skb)) &&
	    tcp_in_flight_segs(tp) < tp->snd_cwnd)
		tcp_chrono_start(sk, TCP_CHRONO_RWND_LIMITED);
	else if (tp->chrono_type == TCP_CHRONO_RWND_LIMITED)
		tcp_chrono_stop(sk, TCP_CHRONO_RWND_LIMITED);
	/* Data waits on a closed window with nothing in flight: probe it
	 * (RFC 9293 §3.8.6.1). */
	if (tp->send_head && tp->snd_nxt == tp->snd_una &&
	    !us_timer_pending(&tp->retrans_timer)) {
		tp->probe_timer = true;
		us_timer_mod(&sk->st->timers, &tp->retrans_timer,
			     sk->st->now + tcp_probe0_when(tp));
	}
}

/*
 * Split a segment after its first len bytes (Linux's tcp_fragment): the
 * rest, with the FIN and PSH, becomes a new segment behind it, with the
 * same send time and scoreboard marks (the caller counts a sent one).
 */
static int tcp_fragment(struct sock *sk, struct sk_buff *skb, uint32_t len)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint32_t rest = skb->len - len;
	struct sk_buff *n = us_skb_alloc(sk->st, rest);

	if (!n)
		return -ENOBUFS;
	memcpy(skb_put(n, rest), skb->data + len, rest);
	sk->write_queue.bytes -= rest;
	skb_trim(skb, len);
	memcpy(TCP_SKB_CB(n), cb, sizeof(struct tcp_skb_cb));
	TCP_SKB_CB(n)->seq = cb->seq + len;
	TCP_SKB_CB(n)->carved = 0;   /* its own copy */
	TCP_SKB_CB(n)->tw_isn = 0;
	cb->end_seq = cb->seq + len;
	cb->flags &= (uint8_t)~(TCPHDR_FIN | TCPHDR_PSH);
	/* A report goes with the byte it is keyed by (Linux's
	 * tcp_fragment_tstamp). */
	if (skb->tx_flags && seq_geq(skb->tskey, cb->end_seq)) {
		n->tx_flags = skb->tx_flags;
		n->tskey = skb->tskey;
		skb->tx_flags = 0;
	}
	sk->wmem_alloc += (int)n->truesize;
	skb_queue_after(&sk->write_queue, skb, n);
	return 0;
}

/* A piece cut from a segment in flight is in flight too, with its marks. */
void tcp_count_piece(struct tcp_sock *tp, const struct tcp_skb_cb *cb)
{
	tp->packets_out++;
	if (cb->sacked & TCPCB_LOST)
		tp->lost_out++;
	if (cb->sacked & TCPCB_SACKED_RETRANS)
		tp->retrans_out++;
}

/*
 * Cut a segment in flight after len bytes: the piece is in flight too.
 * Bounded as Linux's tcp_fragment bounds a cut in its retransmission
 * queue (TCPWQUEUETOOBIG, CVE-2019-11478): a peer that makes segments be
 * cut again and again (an MSS that falls, a window end that moves a byte
 * at a time) must not make the queue grow without end; the first segment
 * may always be cut.
 */
static int tcp_fragment_in_flight(struct sock *sk, struct sk_buff *skb,
				  uint32_t len)
{
	if (skb != skb_peek(&sk->write_queue) &&
	    sk->wmem_alloc / 2 > sk->sndbuf + 2 * 65536) {
		us_mib_inc(sk->st, US_MIB_TCP_WQUEUE_TOO_BIG);
		return -ENOMEM;
	}
	if (tcp_fragment(sk, skb, len) < 0)
		return -ENOBUFS;
	tcp_count_piece(tcp_sk(sk), TCP_SKB_CB(tcp_write_queue_next(sk, skb)));
	return 0;
}

int tcp_fit_mss(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

	if (skb->len <= tp->mss_cache || (cb->flags & TCPHDR_SYN))
		return 0;
	if (!tp->send_head || seq_lt(cb->seq, TCP_SKB_CB(tp->send_head)->seq))
		return tcp_fragment_in_flight(sk, skb, tp->mss_cache);
	return tcp_fragment(sk, skb, tp->mss_cache) < 0 ? -ENOBUFS : 0;
}

/*
 * The MSS fell with the path MTU (tcp_err.c, RFC 1191 §3): the segments
 * in flight that are longer than it were dropped for their size and go
 * again now (Linux's tcp_simple_retransmit), cut to it as they go
 * (tcp_fit_mss): they are presumed lost, and go as the window allows.
 * Entering this loss episode
 * (not again inside one) raises ssthresh to 3/4 of the window outside a
 * recovery and leaves nothing to undo; the window itself is not cut: the
 * network holds as much data as before, in smaller units.
 */
void tcp_simple_retransmit(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool oversize = false;

	for (struct sk_buff *skb = tcp_wq_head(sk); skb;
	     skb = tcp_wq_next(sk, skb)) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);

		if (skb->len <= tp->mss_cache || (cb->flags & TCPHDR_SYN) ||
		    (cb->sacked & TCPCB_SACKED_ACKED))
			continue;
		oversize = true;
		tcp_sack_mark_skb_lost(sk, skb);
	}
	if (!oversize)
		return;
	if (!tp->sack_ok)
		tcp_reno_limit(tp);
	if (tp->in_recovery || !seq_lt(tp->snd_una, tp->high_seq)) {
		if (!tp->in_recovery)
			tp->snd_ssthresh = tcp_current_ssthresh(tp);
		tcp_undo_forget(sk);
		tp->in_recovery = false;
		tp->high_seq = tp->snd_max;
		tp->loss_held = false;
		tp->dupacks = 0;
	}
	tcp_write_xmit(sk, true);
	tcp_reset_rto_timer(sk);
}

/*
 * The probe timer found data waiting with nothing in flight and the
 * window open (Linux's tcp_write_wakeup): the window is too small for the
 * next segment (sender SWS avoidance held it), or TCP_CORK or MSG_MORE
 * held a short one. What the window has room for goes now, whatever Nagle
 * and the cork say: this timer is the 200 ms ceiling tcp(7) gives
 * TCP_CORK (an RTO here, as in Linux).
 */
bool tcp_write_wakeup(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb = tp->send_head;
	uint32_t wnd_end = tp->snd_una + tp->snd_wnd;
	uint32_t room;

	if (!skb || !seq_lt(TCP_SKB_CB(skb)->seq, wnd_end))
		return false;
	room = wnd_end - TCP_SKB_CB(skb)->seq;
	if (room < skb->len && tcp_fragment(sk, skb, room) < 0)
		return false;
	tcp_write_xmit_nagle_off(sk);
	return tp->send_head != skb;
}

/*
 * A segment in flight goes again inside the peer's window, as Linux's
 * __tcp_retransmit_skb sends it: one that starts at or past the window's
 * end does not (-EAGAIN), unless it is the first unacknowledged one,
 * which then probes the shrunk or closed window (RFC 1122 §4.2.2.17)
 * with up to an MSS. One longer than the room, the MSS or the window
 * from its start if that is less (Linux's avail_wnd and len, one segment
 * at a time), goes cut to it, and the piece cut off stays in flight
 * with its marks (SACK's lost, retransmitted): a segment queued before
 * the MSS fell, one that runs past the window. One shorter takes the
 * short segments behind it along (tcp_collapse.c).
 */
int tcp_retransmit_skb(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	int32_t avail = (int32_t)(tp->snd_una + tp->snd_wnd - cb->seq);
	uint32_t room = tp->mss_cache;

	/* First (Linux's skb_still_in_host_queue): a segment whose last
	 * copy still waits in this host is neither cut nor merged. */
	if (ip_still_queued(sk->st, sk->daddr, skb)) {
		us_mib_inc(sk->st, US_MIB_TCP_SPURIOUS_RTX_HOSTQUEUES);
		return -EBUSY;
	}
	if (cb->flags & TCPHDR_SYN) {
		/* A SYN goes again without its Fast Open data. */
		if (tcp_fastopen_split_syn(sk, skb) < 0)
			return -ENOBUFS;
		return tcp_transmit_skb(sk, skb);
	}
	if (avail <= 0 && cb->seq != tp->snd_una)
		return -EAGAIN;
	if (avail > 0 && (uint32_t)avail < room)
		room = (uint32_t)avail;
	if (skb->len > room) {
		int err = tcp_fragment_in_flight(sk, skb, room);

		if (err)
			return err;
	} else if (skb->len < room) {
		tcp_retrans_try_collapse(sk, skb, room);
	}
	return tcp_transmit_skb(sk, skb);
}

int tcp_retransmit_head(struct sock *sk)
{
	struct sk_buff *skb = skb_peek(&sk->write_queue);
	struct tcp_sock *tp = tcp_sk(sk);

	if (!skb || skb == tp->send_head)
		return 0;
	return tcp_retransmit_skb(sk, skb);
}

/* A simultaneous open's SYN-ACK (RFC 9293 §3.5): our SYN again, now with
 * an ACK (and without its Fast Open data), sent as Linux's
 * tcp_send_synack sends it: a new transmission, no retransmission
 * counted, timed from now for the RTT sample its ACK gives. */
int tcp_send_simul_synack(struct sock *sk)
{
	struct sk_buff *skb = skb_peek(&sk->write_queue);

	if (!skb || !(TCP_SKB_CB(skb)->flags & TCPHDR_SYN))
		return 0;
	TCP_SKB_CB(skb)->flags |= TCPHDR_ACK;
	if (tcp_fastopen_split_syn(sk, skb) < 0)
		return -ENOBUFS;
	return tcp_transmit(sk, skb, 1, false);
}

/* A control segment without data, from sk's addresses. */
static int tcp_send_ctl(struct sock *sk, uint32_t seq, uint8_t flags)
{
	struct sk_buff *skb = us_skb_alloc(sk->st, 0);
	struct tcp_out o;

	if (!skb)
		return -ENOBUFS;
	tcp_out_from_sock(sk, &o, seq, flags);
	tcp_ecn_out(sk, &o, false);
	if (flags & TCPHDR_ACK)
		tcp_ack_sent(sk);
	/* (Fast Open's SYN-ACK, a request's ACKs: not the child's) */
	if (!(flags & TCPHDR_SYN) && !tcp_info_request(tcp_sk(sk)))
		tcp_info_seg_out(tcp_sk(sk), 1, 0);
	if (sk->pacing)
		tcp_pacing_sent(sk, 0);
	return tcp_push_and_send(sk->st, skb, &o, tcp_sk(sk)->mss_cache);
}

/*
 * A segment without data carries the sequence number of the next new
 * octet, snd_max (as snd_nxt, which no longer goes back after a timeout:
 * an ACK below the peer's window would be refused).
 */
void tcp_send_ack(struct sock *sk)
{
	if (sk->state == TCP_CLOSE || sk->state == TCP_LISTEN)
		return;
	tcp_send_ctl(sk, tcp_sk(sk)->snd_max, TCPHDR_ACK);
}

/* A zero-window or keepalive probe: an old sequence number the peer must
 * answer with an ACK (RFC 9293 §3.8.4, §3.8.6.1). */
void tcp_send_probe(struct sock *sk)
{
	if (tcp_urg_probe_due(sk))
		tcp_send_ctl(sk, tcp_sk(sk)->snd_una, TCPHDR_ACK);
	tcp_send_ctl(sk, tcp_sk(sk)->snd_una - 1, TCPHDR_ACK);
}

/*
 * Queue a SYN (or SYN-ACK) as the first segment and send it, with the
 * Fast Open option foc (NULL, or len -1: none) and up to `room` bytes of
 * a Fast Open write (tcp_fastopen.c).
 */
static int tcp_queue_syn(struct sock *sk, uint8_t flags,
			 struct tcp_fastopen_cookie *foc, size_t room)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb = us_skb_alloc(sk->st, (unsigned int)room);
	struct tcp_skb_cb *cb;

	if (!skb)
		return -ENOBUFS;
	cb = TCP_SKB_CB(skb);
	memset(cb, 0, sizeof(*cb));
	cb->seq = tp->iss;
	cb->end_seq = tp->iss + 1;
	cb->flags = flags;
	sk->wmem_alloc += (int)skb->truesize;
	skb_queue_tail(&sk->write_queue, skb);
	tp->send_head = skb;
	tp->snd_max = tp->iss;
	tp->snd_sml = tp->iss;
	/* The user's buffer faulted: a cookie request instead (Linux's
	 * tcp_send_syn_data fallback). */
	if (room && !tcp_fastopen_syn_data(sk, skb, room) && foc->len > 0)
		foc->len = 0;
	tp->pushed_seq = tp->write_seq;
	tp->syn_tsval = tcp_ts_now(sk);   /* (tcp_rcv_synrecv_ack) */
	if (foc && foc->len >= 0) {
		sk->st->tcp.fo_out = foc;
		tp->syn_fastopen = !(flags & TCPHDR_ACK);
	}
	tcp_write_xmit(sk, true);
	sk->st->tcp.fo_out = NULL;
	return 0;
}

int tcp_send_syn(struct sock *sk)
{
	struct tcp_fastopen_cookie foc;
	size_t room = tcp_fastopen_syn(sk, &foc);

	return tcp_queue_syn(sk, TCPHDR_SYN | tcp_ecn_syn_flags(sk, false),
			     &foc, room);
}

/*
 * A Fast Open child's SYN-ACK (foc: its option, or NULL when it goes
 * again), sent as Linux's request sock sends it: not queued, so that it
 * takes no room in the child's flight, window or scoreboard; its timer
 * is tcp_timer.c's tcp_fastopen_synack_timer.
 */
void tcp_fastopen_send_synack(struct sock *sk,
			      const struct tcp_fastopen_cookie *foc)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (foc && foc->len >= 0)
		sk->st->tcp.fo_out = foc;
	if (foc) {
		tp->syn_tsval = tcp_ts_now(sk);   /* (tcp_synrecv_ack) */
		tp->retrans_stamp = sk->st->now;  /* its RTT sample's start */
	} else {
		tp->total_retrans++;
		us_mib_inc(sk->st, US_MIB_TCP_RETRANS_SEGS);
	}
	tcp_send_ctl(sk, tp->iss, TCPHDR_SYN | TCPHDR_ACK |
		     (tp->ecn_ok ? TCPHDR_ECE : 0));
	sk->st->tcp.fo_out = NULL;
}

int tcp_send_synack(struct sock *sk, const struct tcp_fastopen_cookie *foc)
{
	struct tcp_fastopen_cookie c = *foc;

	/* RFC 3168 §6.1.1: ECE alone agrees to the SYN's ECN */
	return tcp_queue_syn(sk, TCPHDR_SYN | TCPHDR_ACK |
			     (tcp_sk(sk)->ecn_ok ? TCPHDR_ECE : 0), &c, 0);
}

void tcp_send_fin(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *tail = skb_peek_tail(&sk->write_queue);

	if (tail && tp->send_head &&
	    !(TCP_SKB_CB(tail)->flags & (TCPHDR_SYN | TCPHDR_FIN))) {
		/* Ride on the last unsent segment. */
		TCP_SKB_CB(tail)->flags |= TCPHDR_FIN;
		TCP_SKB_CB(tail)->end_seq++;
	} else {
		struct sk_buff *skb = us_skb_alloc(sk->st, 0);
		struct tcp_skb_cb *cb;

		if (!skb)
			return;   /* the retransmit timer will not help here */
		cb = TCP_SKB_CB(skb);
		memset(cb, 0, sizeof(*cb));
		cb->seq = tp->write_seq;
		cb->end_seq = tp->write_seq + 1;
		cb->flags = TCPHDR_FIN | TCPHDR_ACK;
		sk->wmem_alloc += (int)skb->truesize;
		tcp_add_write_queue_tail(sk, skb);
	}
	tp->write_seq++;
	tcp_write_xmit(sk, true);
}

void tcp_send_active_reset(struct sock *sk)
{
	tcp_send_ctl(sk, tcp_sk(sk)->snd_max, TCPHDR_RST | TCPHDR_ACK);
	us_mib_inc(sk->st, US_MIB_TCP_OUT_RSTS);
}

int tcp_send_out(struct ustack *st, const struct tcp_out *o)
{
	struct sk_buff *skb = us_skb_alloc(st, 0);

	if (!skb)
		return -ENOBUFS;
	return tcp_push_and_send(st, skb, o, 0);
}

/*
 * RFC 9293 §3.10.7.1: the reset for a segment no connection wants. If it
 * carried an ACK, the RST takes its sequence number from it; otherwise
 * the RST has sequence 0 and acknowledges the whole segment.
 */
void tcp_v4_send_reset(struct ustack *st, const struct sk_buff *skb,
		       const struct tcp_seg *th, uint32_t seglen)
{
	const uint8_t *iph = skb_network_header(skb);
	struct ip_options ro;
	struct sk_buff *r;
	struct tcp_out o;

	if (th->flags & TCPHDR_RST)
		return;
	/* The segment's IP options echoed (Linux's tcp_v4_send_reset,
	 * ip_send_unicast_reply); none when no echo can be made. */
	if (ip_options_echo(st, &ro, iph) < 0)
		return;
	r = us_skb_alloc(st, 0);
	if (!r)
		return;
	memset(&o, 0, sizeof(o));
	memcpy(&o.saddr, iph + 16, 4);
	memcpy(&o.daddr, iph + 12, 4);
	o.sport = htons(th->dport);
	o.dport = htons(th->sport);
	o.ipopt = ro.optlen ? &ro : NULL;
	if (th->flags & TCPHDR_ACK) {
		o.seq = th->ack;
		o.flags = TCPHDR_RST;
	} else {
		o.seq = 0;
		o.ack = th->seq + seglen;
		o.flags = TCPHDR_RST | TCPHDR_ACK;
	}
	us_mib_inc(st, US_MIB_TCP_OUT_RSTS);
	tcp_push_and_send(st, r, &o, 0);
}
