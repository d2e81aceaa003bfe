/*
 * tcp_ts.c - RFC 7323 (TCP Extensions for High Performance): the window
 * scale option (§2), timestamps and the RTT measurements they give (§3,
 * §4), and PAWS (§5), negotiated and applied as Linux does.
 *
 * Called from: tcp_v4_connect (tcp_ts_init_connect), tcp_new_child
 * (tcp_ts_init_child), tcp_rcv_synsent (tcp_ts_synsent_options),
 * tcp_out_from_sock (tcp_ts_fill_options),
 * tcp_rcv_state_process (tcp_ts_note, tcp_paws_check), tcp_ack
 * (tcp_peer_window, tcp_ts_update_recent) and tcp_clean_rtx_queue
 * (tcp_ts_rtt_sample).
 */
#include "net/tcp/tcp.h"

#include "stack/stack.h"

/* ---- window scale (RFC 7323 §2) ------------------------------------------ */

static uint8_t ilog2_u32(uint32_t v)
{
	uint8_t r = 0;

	while (v >>= 1)
		r++;
	return r;
}

/*
 * The shift we offer, as Linux's tcp_select_initial_window chooses it:
 * large enough for the biggest buffer the connection may ever get (the
 * tcp_rmem maximum, or net.core.rmem_max: autotuning and SO_RCVBUF reach
 * that far) so that 65535 << shift covers it; a buffer fixed with
 * SO_RCVBUF clamps the window, and the shift with it. RFC 7323 §2.3: at
 * most 14.
 */
static void tcp_select_rcv_wscale(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t space = sk->rcvbuf > 0 ? (uint32_t)tcp_full_space(sk) : 0;
	uint32_t rmem_max = (uint32_t)sk->st->sysctl.tcp_rmem[2];
	int shift;

	/* TCP_WINDOW_CLAMP's bound, if the user (or a listener) set one
	 * (Linux's tcp_select_initial_window takes window_clamp as it
	 * finds it), else the largest a window can be. */
	if (!tp->clamp_user)
		tp->window_clamp = (uint32_t)TCP_MAX_WINDOW << TCP_MAX_WSCALE;
	if (sk->rcvbuf_locked && space < tp->window_clamp)
		tp->window_clamp = space;
	tp->rcv_wscale = 0;
	if (tp->ws_offered) {
		if (space < rmem_max)
			space = rmem_max;
		if (space < US_SK_BUF_MAX)
			space = US_SK_BUF_MAX;
		if (space > tp->window_clamp)
			space = tp->window_clamp;
		shift = (int)ilog2_u32(space) - 15;
		if (shift < 0)
			shift = 0;
		if (shift > TCP_MAX_WSCALE)
			shift = TCP_MAX_WSCALE;
		tp->rcv_wscale = (uint8_t)shift;
	}
	if (tp->window_clamp > (uint32_t)TCP_MAX_WINDOW << tp->rcv_wscale)
		tp->window_clamp = (uint32_t)TCP_MAX_WINDOW << tp->rcv_wscale;
}

/*
 * The window of our SYN or SYN-ACK (Linux's tcp_select_initial_window):
 * the empty buffer's space, within the clamp, in whole segments of mss
 * (the SYN-ACK's without the timestamps once they are agreed:
 * tcp_openreq_init_rwin); the field carries at most 65535 of it (RFC 7323
 * §2.2), the rest comes with the first scaled window. rcv_ssthresh starts
 * there (tcp_connect_init, tcp_create_openreq_child).
 */
static void tcp_select_initial_window(struct sock *sk, uint32_t mss)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t space = sk->rcvbuf > 0 ? (uint32_t)tcp_full_space(sk) : 0;

	if (space > tp->window_clamp)
		space = tp->window_clamp;
	if (mss && space > mss)
		space -= space % mss;
	tp->rcv_wnd = space;
	tp->rcv_ssthresh = space;
}

/*
 * Timestamps count from a per-connection offset, a keyed hash of the
 * addresses as Linux's secure_tcp_ts_off, so TSval tells nothing about
 * the host's uptime and differs between peers (RFC 7323 §5.4, §7.1).
 */
static uint32_t tcp_ts_offset(struct sock *sk)
{
	struct {
		uint32_t saddr, daddr;
		uint32_t tag;   /* not the ISN's hash of the same addresses */
	} k = { sk->rcv_saddr, sk->daddr, 0x54537473 };

	return (uint32_t)us_siphash(&sk->st->tcp.secret, &k, sizeof(k));
}

void tcp_ts_init_connect(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tp->ws_offered = sk->st->sysctl.tcp_window_scaling != 0;
	tp->ts_offered = sk->st->sysctl.tcp_timestamps != 0;
	tp->wscale_ok = tp->tstamp_ok = false;
	tp->snd_wscale = 0;
	tcp_select_rcv_wscale(sk);
	/* Linux's tcp_connect_init guesses the peer's MSS before it
	 * chooses the window: the window's half is 0 then, and rcv_mss the
	 * least, 88, till the SYN-ACK comes (tcp_initialize_rcv_mss). */
	tp->rcv_wnd = 0;
	tcp_initialize_rcv_mss(tp);
	tcp_select_initial_window(sk, tp->advmss);
	tp->ts_offset = tcp_ts_offset(sk);
}

static void tcp_ts_take_recent(struct tcp_sock *tp, uint32_t tsval)
{
	tp->ts_recent = tsval;
	tp->ts_recent_stamp = tp->sk.st->now;
}

/*
 * RFC 7323 §2.2 and §3.2: an option is used only if both SYNs carried it;
 * the peer's shift applies to every window it sends after its SYN, and a
 * shift above 14 is taken as 14 (tcp_parse_options clamps it, §2.3).
 */
static void tcp_ts_agree(struct sock *sk, const struct tcp_seg *th)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tp->wscale_ok = tp->ws_offered && th->opts.ws_ok;
	tp->snd_wscale = tp->wscale_ok ? th->opts.ws : 0;
	if (!tp->wscale_ok) {
		tp->rcv_wscale = 0;
		if (tp->window_clamp > TCP_MAX_WINDOW)
			tp->window_clamp = TCP_MAX_WINDOW;
	}
	tp->tstamp_ok = tp->ts_offered && th->opts.ts_ok;
	if (tp->tstamp_ok)
		tcp_ts_take_recent(tp, th->opts.tsval);
	tcp_update_mss(tp);   /* timestamps take room from every segment */
}

uint32_t tcp_ts_hdr_extra(const struct tcp_sock *tp)
{
	return tp->tstamp_ok ? 12 : 0;   /* NOP NOP + TCPOLEN_TIMESTAMP */
}

uint32_t tcp_advmss(const struct tcp_sock *tp)
{
	uint32_t mss = tp->advmss ? tp->advmss : TCP_MSS_DEFAULT;

	return mss - tcp_ts_hdr_extra(tp);
}

void tcp_ts_init_child(struct sock *sk, const struct tcp_seg *th)
{
	struct tcp_sock *tp = tcp_sk(sk);

	/* The SYN-ACK answers with what the SYN offered and we allow. */
	tp->ws_offered = sk->st->sysctl.tcp_window_scaling && th->opts.ws_ok;
	tp->ts_offered = sk->st->sysctl.tcp_timestamps && th->opts.ts_ok;
	tcp_select_rcv_wscale(sk);
	tp->ts_offset = tcp_ts_offset(sk);
	tcp_ts_agree(sk, th);
	/* (tcp_openreq_init_rwin, then tcp_v4_syn_recv_sock's guess of
	 * the peer's MSS, which the window's half bounds) */
	tcp_select_initial_window(sk, tcp_advmss(tp));
	tcp_initialize_rcv_mss(tp);
}

void tcp_ts_synsent_options(struct sock *sk, const struct tcp_seg *th)
{
	tcp_ts_agree(sk, th);
	/* (tcp_rcv_synsent_state_process: tcp_sync_mss, then the guess
	 * again, with our SYN's window now chosen) */
	tcp_initialize_rcv_mss(tcp_sk(sk));
}

uint32_t tcp_ts_now(const struct sock *sk)
{
	return (uint32_t)(sk->st->now / 1000) + tcp_sk((struct sock *)sk)->ts_offset;
}

/*
 * The options of an outgoing segment besides MSS and SACK. Space they
 * take, for whoever adds options after them (SACK blocks): timestamps 12
 * bytes on every segment once agreed (NOP NOP TS, or SACK-permitted + TS
 * on a SYN, 10 + 2), window scale 4 bytes (NOP + 3) on SYNs only. With
 * timestamps a non-SYN segment has 40 - 12 = 28 bytes left: 3 SACK
 * blocks (4 + 3 * 8); a SYN with MSS 4, TS 12, WS 4 has 20 left.
 */
void tcp_ts_fill_options(struct sock *sk, uint8_t flags, struct tcp_opts *o)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool syn = flags & TCPHDR_SYN;

	if (syn ? tp->ts_offered : tp->tstamp_ok) {
		o->ts_ok = true;
		o->tsval = tcp_ts_now(sk);
		/* RFC 7323 §3.2: TSecr is 0 unless ACK is set; afterwards
		 * it echoes TS.Recent (§4.3). */
		o->tsecr = (flags & TCPHDR_ACK) ? tp->ts_recent : 0;
	}
	if (syn && tp->ws_offered) {
		o->ws_ok = true;
		o->ws = tp->rcv_wscale;
	}
}

uint32_t tcp_peer_window(const struct tcp_sock *tp, const struct tcp_seg *th)
{
	/* RFC 7323 §2.2: the window field of a SYN is never scaled. */
	if (th->flags & TCPHDR_SYN)
		return th->window;
	return (uint32_t)th->window << tp->snd_wscale;
}

uint32_t tcp_window_max(const struct tcp_sock *tp)
{
	uint32_t max = (uint32_t)TCP_MAX_WINDOW << tp->rcv_wscale;

	return tp->window_clamp && tp->window_clamp < max ? tp->window_clamp
							  : max;
}

/* ---- timestamps and PAWS (RFC 7323 §3-§5) -------------------------------- */

void tcp_ts_note(struct tcp_sock *tp, const struct tcp_seg *th)
{
	tcp_rx(tp)->saw_ts = tp->tstamp_ok && th->opts.ts_ok;
	tcp_rx(tp)->tsval = th->opts.tsval;
	tcp_rx(tp)->tsecr = th->opts.tsecr;
}

/*
 * RFC 7323 §5.3 R1: is TSval at least TS.Recent? Linux's tcp_paws_check:
 * one tick of slack (TCP_PAWS_WINDOW); a TS.Recent older than 24 days is
 * invalid and checks nothing (§5.5); nor does a TS.Recent of 0 (Linux).
 */
bool tcp_paws_fresh(uint32_t ts_recent, us_time_t ts_recent_stamp,
		    uint32_t tsval, int32_t window, us_time_t now)
{
	if ((int32_t)(ts_recent - tsval) <= window)
		return true;
	if (now - ts_recent_stamp >= TCP_PAWS_24DAYS_US)
		return true;
	return ts_recent == 0;
}

static bool tcp_paws_ok(const struct tcp_sock *tp, int32_t window)
{
	return tcp_paws_fresh(tp->ts_recent, tp->ts_recent_stamp,
			      tcp_rx(tp)->tsval, window, tp->sk.st->now);
}

/*
 * Linux's tcp_disordered_ack_check: a pure ACK that acknowledges nothing
 * new, changes no window and is only a little older than TS.Recent (less
 * than an RTO in timestamp ticks) is a reordered ACK, not a duplicate
 * from an old incarnation: it passes (RFC 7323 §5.3's note on the
 * window update). A pure ACK before RCV.NXT is an old one, dropped
 * without an answer; anything else is rejected with an ACK.
 */
static enum tcp_paws_verdict tcp_disordered_ack(struct sock *sk,
						const struct sk_buff *skb,
						const struct tcp_seg *th)
{
	struct tcp_sock *tp = tcp_sk(sk);
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint32_t nwin = tcp_peer_window(tp, th);

	if (!(th->flags & TCPHDR_ACK) || cb->seq != cb->end_seq)
		return TCP_PAWS_REJECT;
	if (cb->seq != tp->rcv_nxt)
		return seq_lt(cb->seq, tp->rcv_nxt) ? TCP_PAWS_DROP
						    : TCP_PAWS_REJECT;
	if (th->ack != tp->snd_una)
		return TCP_PAWS_REJECT;
	/* Would it update the window (tcp_may_update_window)? */
	if (seq_gt(cb->seq, tp->snd_wl1) ||
	    (cb->seq == tp->snd_wl1 && (nwin > tp->snd_wnd || nwin == 0)))
		return TCP_PAWS_REJECT;
	/* The replay window: 1.2 RTO in ms ticks (Linux's tcp_tsval_replay). */
	if ((int32_t)(tp->ts_recent - tcp_rx(tp)->tsval) >
	    (int32_t)(tp->rto_us / 1000 * 12 / 10))
		return TCP_PAWS_REJECT;
	return TCP_PAWS_OK;
}

enum tcp_paws_verdict tcp_paws_check(struct sock *sk, const struct sk_buff *skb,
				     const struct tcp_seg *th)
{
	struct tcp_sock *tp = tcp_sk(sk);
	enum tcp_paws_verdict v;

	if (!tcp_rx(tp)->saw_ts || tcp_paws_ok(tp, TCP_PAWS_WINDOW))
		return TCP_PAWS_OK;
	v = tcp_disordered_ack(sk, skb, th);
	/* A RST is let through to the sequence check (Linux; RFC 7323
	 * §5.3 R1 leaves RSTs to the RFC 5961 rules). */
	if (v == TCP_PAWS_OK || (th->flags & TCPHDR_RST))
		return TCP_PAWS_OK;
	if (v == TCP_PAWS_DROP)
		us_mib_inc(sk->st, US_MIB_TCP_PAWS_OLD_ACK);
	else
		us_mib_inc(sk->st, US_MIB_TCP_PAWS_ESTAB_REJECTED);
	return v;
}

/*
 * RFC 7323 §4.3 (2): TS.Recent follows a segment that is at or left of
 * Last.ACK.sent (our rcv_wup: RCV.NXT when we last sent a window) and
 * passes PAWS. So the echo of a delayed ACK is the TSval of the earliest
 * segment it acknowledges, and a segment beyond a hole does not set it
 * (§4.3 (3)): RTTM then measures from the oldest unanswered data.
 */
void tcp_ts_update_recent(struct tcp_sock *tp, uint32_t seq)
{
	if (!tcp_rx(tp)->saw_ts || seq_gt(seq, tp->rcv_wup))
		return;
	if (tcp_paws_ok(tp, 0))
		tcp_ts_take_recent(tp, tcp_rx(tp)->tsval);
}

/*
 * The echo is used only if it dates the latest transmission of anything
 * the ACK acknowledges (last_tx: the newest send time among those
 * segments) or later: then the sample is that transmission's round trip,
 * which Karn's rule could not tell from an earlier one's (RFC 7323 §4.2,
 * Appendix G). An older echo comes from an ACK the peer sent long after
 * that data arrived, with a TS.Recent that nothing newer had replaced:
 * its answer to a retransmission below its window (RFC 7323 §4.3 leaves
 * TS.Recent alone then) after its first ACK was lost. sim_tcp under 20 %
 * loss saw 120-330 s "round trips" that way, and RTOs of 90 s that
 * stalled transfers for an hour. Linux takes any echo here.
 */
int64_t tcp_ts_rtt_sample(struct sock *sk, us_time_t last_tx)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t tx_tsval = (uint32_t)(last_tx / 1000) + tp->ts_offset;
	us_time_t rtt;
	uint32_t delta;

	/* RFC 7323 §4.2: only an ACK of new data gives a sample, and TSecr
	 * 0 is no echo (Linux ignores it too). */
	if (!tcp_rx(tp)->saw_ts || !tcp_rx(tp)->tsecr ||
	    (int32_t)(tcp_rx(tp)->tsecr - tx_tsval) < 0)
		return -1;
	delta = tcp_ts_now(sk) - tcp_rx(tp)->tsecr;
	if (delta >= (uint32_t)INT32_MAX / 1000)
		return -1;   /* an echo from the future or garbage */
	/* One tick is the clock's resolution: a 0 ms delta counts as 1 ms
	 * (Linux's tcp_rtt_tsopt_us with min_delta 1). */
	rtt = (us_time_t)(delta ? delta : 1) * 1000;
	tcp_rtt_sample(tp, rtt);
	return (int64_t)rtt;
}
