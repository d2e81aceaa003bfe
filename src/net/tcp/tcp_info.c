// SPDX-License-Identifier: BSD-2-Clause
/*
 * tcp_info.c - getsockopt(TCP_INFO): Linux 6.18's whole struct tcp_info
 * (280 bytes; glibc's header stops at 104), and the counters behind it.
 *
 * What a connection does all the time (segments in and out, deliveries,
 * the minimum RTT, the busy chrono, the 2^32s of SND.UNA and RCV.NXT) is
 * counted in struct tcp_sock; what only losses and reordering bring is in
 * sock_ext's tcp_rare_stats, made with the first such event, so an idle
 * connection that never lost a segment pays for none of it (make bench's
 * idle row, test_tcp_mem). The rest is read off the connection's state:
 * bytes acknowledged and received are SND.UNA's and RCV.NXT's distance
 * from the initial sequence numbers, bytes sent is SND.MAX's plus what
 * went again, the pacing rate is Linux's tcp_update_pacing_rate's formula
 * on the current window and SRTT.
 *
 * Call chain: getsockopt -> tcp_getsockopt -> tcp_get_info; counters from
 * tcp_v4_rcv (segments in), tcp_transmit / tcp_send_ctl (out), tcp_ack
 * (deliveries, SND.UNA), the receive path (RCV.NXT), tcp_rtt_sample, the
 * retransmission timer, RACK and the out-of-order queue.
 *
 * The delivery rate and its app-limited bit are the rate sampler's
 * (tcp_rate.c). The send-buffer-limited time runs from a transmission
 * that sent all that was queued, the window not full, after the writer
 * found no room (sk->nospace, Linux's SOCK_NOSPACE; tcp_output.c), to
 * the ACK that makes the socket writable (tcp_check_space). Not
 * modelled: the counts of received ECN codepoints and the
 * AccECN fields (Linux's zeros without AccECN). rcv_mss, rcv_ssthresh and
 * rcv_wnd are Linux's (the peer's segment size as measured, tcp_delack.c;
 * the window's growth clamp, tcp_autotune.c; the window offered last,
 * tcp_output.c), with Linux's default ratio of window to buffer: Linux
 * measures its own from the segments' buffers (scaling_ratio), so its
 * windows after data differ where its buffers cost other than twice
 * their data.
 */
#include <stddef.h>
#include <string.h>

#include "net/af_inet.h"
#include "net/ipv4.h"
#include "net/sock.h"
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"

/* Linux 6.18's include/uapi/linux/tcp.h, field for field. */
struct us_tcp_info {
	uint8_t tcpi_state, tcpi_ca_state, tcpi_retransmits, tcpi_probes;
	uint8_t tcpi_backoff, tcpi_options;
	uint8_t tcpi_snd_wscale : 4, tcpi_rcv_wscale : 4;
	uint8_t tcpi_delivery_rate_app_limited : 1,
		tcpi_fastopen_client_fail : 2;
	uint32_t tcpi_rto, tcpi_ato, tcpi_snd_mss, tcpi_rcv_mss;
	uint32_t tcpi_unacked, tcpi_sacked, tcpi_lost, tcpi_retrans;
	uint32_t tcpi_fackets;
	uint32_t tcpi_last_data_sent, tcpi_last_ack_sent;
	uint32_t tcpi_last_data_recv, tcpi_last_ack_recv;
	uint32_t tcpi_pmtu, tcpi_rcv_ssthresh, tcpi_rtt, tcpi_rttvar;
	uint32_t tcpi_snd_ssthresh, tcpi_snd_cwnd, tcpi_advmss;
	uint32_t tcpi_reordering, tcpi_rcv_rtt, tcpi_rcv_space;
	uint32_t tcpi_total_retrans;
	uint64_t tcpi_pacing_rate, tcpi_max_pacing_rate;
	uint64_t tcpi_bytes_acked, tcpi_bytes_received;
	uint32_t tcpi_segs_out, tcpi_segs_in;
	uint32_t tcpi_notsent_bytes, tcpi_min_rtt;
	uint32_t tcpi_data_segs_in, tcpi_data_segs_out;
	uint64_t tcpi_delivery_rate;
	uint64_t tcpi_busy_time, tcpi_rwnd_limited, tcpi_sndbuf_limited;
	uint32_t tcpi_delivered, tcpi_delivered_ce;
	uint64_t tcpi_bytes_sent, tcpi_bytes_retrans;
	uint32_t tcpi_dsack_dups, tcpi_reord_seen, tcpi_rcv_ooopack;
	uint32_t tcpi_snd_wnd, tcpi_rcv_wnd, tcpi_rehash;
	uint16_t tcpi_total_rto, tcpi_total_rto_recoveries;
	uint32_t tcpi_total_rto_time;
	uint32_t tcpi_received_ce;
	uint32_t tcpi_delivered_e1_bytes, tcpi_delivered_e0_bytes;
	uint32_t tcpi_delivered_ce_bytes;
	uint32_t tcpi_received_e1_bytes, tcpi_received_e0_bytes;
	uint32_t tcpi_received_ce_bytes;
	uint32_t tcpi_ecn_mode : 2, tcpi_accecn_opt_seen : 2,
		 tcpi_accecn_fail_mode : 4, tcpi_options2 : 24;
};

_Static_assert(sizeof(struct us_tcp_info) == TCP_INFO_LEN, "6.18's size");
_Static_assert(offsetof(struct us_tcp_info, tcpi_rto) == 8, "layout");
_Static_assert(offsetof(struct us_tcp_info, tcpi_pacing_rate) == 104,
	       "glibc's struct ends here");
_Static_assert(offsetof(struct us_tcp_info, tcpi_delivery_rate) == 160,
	       "layout");
_Static_assert(offsetof(struct us_tcp_info, tcpi_snd_wnd) == 228, "layout");
_Static_assert(offsetof(struct us_tcp_info, tcpi_total_rto) == 240,
	       "layout");
_Static_assert(offsetof(struct us_tcp_info, tcpi_received_ce) == 248,
	       "layout");

#define TCP_REORDERING_DEFAULT 3     /* net.ipv4.tcp_reordering */
#define TCP_REORDERING_MAX 300       /* net.ipv4.tcp_max_reordering */
#define TCP_MIN_RTT_WLEN_MS 300000   /* net.ipv4.tcp_min_rtt_wlen, 300 s */

/* The rare counters, made on first use with make (NULL without memory:
 * that event goes uncounted). */
static struct tcp_rare_stats *tcp_rare(struct sock *sk, bool make)
{
	struct sock_ext *e = sock_ext(sk, make);

	return e ? &e->tcp_stats : NULL;
}

void tcp_info_init(struct tcp_sock *tp)
{
	struct sock_ext *e = sock_ext(&tp->sk, false);

	tp->segs_in = tp->segs_out = 0;
	tp->data_segs_in = tp->data_segs_out = 0;
	tp->delivered = 0;
	tcp_rate_free(tp);   /* (connect(AF_UNSPEC): a fresh sampler) */
	tp->min_rtt_us = UINT32_MAX;
	tp->min_rtt_ms = 0;
	tp->chrono_type = TCP_CHRONO_UNSPEC;
	tp->chrono_start_ms = 0;
	memset(tp->chrono_ms, 0, sizeof(tp->chrono_ms));
	tp->una_wraps = tp->rcv_wraps = 0;
	tp->fin_out = false;
	tp->rto_episode = false;
	tp->irs_valid = false;
	tp->passive_open = false;
	if (e)
		memset(&e->tcp_stats, 0, sizeof(e->tcp_stats));
}

/* ---- the chrono (Linux's tcp_chrono_start/stop) ------------------------- */

static void tcp_chrono_set(struct sock *sk, int type)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t now = tcp_now_ms(sk);

	if (tp->chrono_type != TCP_CHRONO_UNSPEC)
		tp->chrono_ms[tp->chrono_type - 1] += now - tp->chrono_start_ms;
	tp->chrono_start_ms = now;
	tp->chrono_type = (uint8_t)type;
}

void tcp_chrono_start(struct sock *sk, int type)
{
	if (type > tcp_sk(sk)->chrono_type)
		tcp_chrono_set(sk, type);
}

void tcp_chrono_stop(struct sock *sk, int type)
{
	struct tcp_sock *tp = tcp_sk(sk);

	/* Nothing queued and nothing in flight: not busy any more. */
	if (skb_queue_empty(&sk->write_queue))
		tcp_chrono_set(sk, TCP_CHRONO_UNSPEC);
	else if (type == tp->chrono_type)
		tcp_chrono_set(sk, TCP_CHRONO_BUSY);
}

/* ---- counting ------------------------------------------------------------ */

void tcp_info_seg_in(struct tcp_sock *tp, uint32_t payload)
{
	tp->segs_in++;
	if (payload)
		tp->data_segs_in++;
}

void tcp_info_seg_out(struct tcp_sock *tp, unsigned int nsegs,
		      uint32_t payload)
{
	tp->segs_out += nsegs;
	if (payload)
		tp->data_segs_out += nsegs;
}

/* Linux's rtt_min: the least sample of the last 300 s. (One value where
 * Linux keeps three, so an expired minimum is replaced by the sample in
 * hand, not by the best of the window's later ones.) */
void tcp_info_rtt(struct tcp_sock *tp, uint32_t rtt_us)
{
	uint32_t now = tcp_now_ms(&tp->sk);

	if (rtt_us <= tp->min_rtt_us ||
	    now - tp->min_rtt_ms > TCP_MIN_RTT_WLEN_MS) {
		tp->min_rtt_us = rtt_us;
		tp->min_rtt_ms = now;
	}
}

/* SND.UNA moves to ack: a turn of the 32-bit space past ISS is counted
 * (Linux's tcp_snd_una_update, which adds to bytes_acked). */
void tcp_snd_una_update(struct tcp_sock *tp, uint32_t ack)
{
	if (ack - tp->iss < tp->snd_una - tp->iss)
		tp->una_wraps++;
	tp->snd_una = ack;
}

/* RCV.NXT moves to nxt, counted from IRS + 1, where bytes_received
 * starts (Linux's tcp_rcv_nxt_update). */
void tcp_rcv_nxt_update(struct tcp_sock *tp, uint32_t nxt)
{
	uint32_t base = tp->irs + 1;

	if (nxt - base < tp->rcv_nxt - base)
		tp->rcv_wraps++;
	tp->rcv_nxt = nxt;
}

/*
 * A retransmission timeout, before it is counted in tp->retransmits
 * (Linux's tcp_update_rto_stats: the first of a series, retransmits 0,
 * starts a recovery and its clock anew; and the flow label's rehash that
 * SO_TXREHASH allows: tcp_write_timeout). A timeout against a zero window
 * only enters the loss state (Linux's first branch of
 * tcp_retransmit_timer counts nothing).
 */
void tcp_info_timeout(struct sock *sk, bool zero_window)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_rare_stats *r;
	const struct sock_ext *e;
	bool request = tcp_info_request(tp);

	if (!request)
		tp->rto_episode = true;
	if (zero_window || (r = tcp_rare(sk, true)) == NULL)
		return;
	if (r->total_rto < UINT16_MAX)
		r->total_rto++;
	/* A listener's child: its SYN-ACK's timeouts are the request's in
	 * Linux, which leaves the child in Open with no rehash, and the time
	 * from the first SYN-ACK to the child's creation
	 * (tcp_info_synack_done). */
	if (request) {
		if (r->total_rto == 1) {
			r->rto_recoveries = 1;
			r->rto_stamp_ms = tcp_now_ms(sk) -
				(uint32_t)(tcp_backed_off_rto(tp) / 1000);
		}
		return;
	}
	if (!tp->retransmits) {
		if (r->rto_recoveries < UINT16_MAX)
			r->rto_recoveries++;
		r->rto_stamp_ms = tcp_now_ms(sk);
	}
	/* (Not a Fast Open child's SYN-ACK: Linux's timer for it has no
	 * tcp_write_timeout.) */
	e = sock_ext(sk, false);
	if (!tp->fastopen_child && !(e->flags & SK_EXT_NO_TXREHASH))
		r->rehash++;
}

/* The timeout's loss state ended (Linux leaves CA_Loss). */
void tcp_info_loss_over(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_rare_stats *r;

	if (!tp->rto_episode)
		return;
	tp->rto_episode = false;
	r = tcp_rare(sk, false);
	if (r)
		r->rto_time_ms += tcp_now_ms(sk) - r->rto_stamp_ms;
}

void tcp_info_synack_done(struct sock *sk)
{
	struct tcp_rare_stats *r = sk->has_ext ? tcp_rare(sk, false) : NULL;

	if (r && r->total_rto && !r->rto_time_ms)
		r->rto_time_ms = tcp_now_ms(sk) - r->rto_stamp_ms;
}

/* A Fast Open child's handshake ends: its SYN-ACK was delivered (Linux
 * counts it by hand) and its timeouts' loss state is over. */
void tcp_info_fastopen_done(struct sock *sk)
{
	tcp_sk(sk)->delivered++;
	tcp_info_loss_over(sk);
}

void tcp_info_retrans(struct sock *sk, uint32_t bytes)
{
	struct tcp_rare_stats *r;

	if (bytes && (r = tcp_rare(sk, true)) != NULL)
		r->bytes_retrans += bytes;
}

/* Reordering seen, segs deep (0: only counted): Linux's
 * tcp_check_sack_reordering raises tp->reordering to it, up to 300. */
void tcp_info_reordering(struct sock *sk, uint32_t segs)
{
	struct tcp_rare_stats *r = tcp_rare(sk, true);
	uint32_t cur;

	if (!r)
		return;
	r->reord_seen++;
	cur = r->reordering ? r->reordering : TCP_REORDERING_DEFAULT;
	if (segs > TCP_REORDERING_MAX)
		segs = TCP_REORDERING_MAX;
	if (segs > cur)
		r->reordering = (uint16_t)segs;
}

/* Without SACK (Linux's tcp_check_reno_reordering): duplicate ACKs beyond
 * the flight were reordered or duplicated; the threshold becomes the
 * flight, up to 300, lower than 3 too. */
void tcp_reno_reordering(struct sock *sk, uint32_t segs)
{
	struct tcp_rare_stats *r = tcp_rare(sk, true);

	us_mib_inc(sk->st, US_MIB_TCP_RENO_REORDER);
	if (!r)
		return;
	r->reord_seen++;
	r->reordering = (uint16_t)(segs < TCP_REORDERING_MAX
				   ? segs : TCP_REORDERING_MAX);
}

/* A timeout after as many SACKed segments as the default threshold finds
 * reordering overestimated (Linux's tcp_enter_loss). */
void tcp_reordering_timeout(struct sock *sk)
{
	struct tcp_rare_stats *r = sk->has_ext ? tcp_rare(sk, false) : NULL;

	if (r && r->reordering > TCP_REORDERING_DEFAULT &&
	    tcp_sk(sk)->sacked_out >= TCP_REORDERING_DEFAULT)
		r->reordering = TCP_REORDERING_DEFAULT;
}

uint32_t tcp_reordering(struct sock *sk)
{
	const struct tcp_rare_stats *r = sk->has_ext ? tcp_rare(sk, false)
						     : NULL;

	return r && r->reordering ? r->reordering : TCP_REORDERING_DEFAULT;
}

void tcp_info_delivered_ce(struct sock *sk, uint32_t segs)
{
	struct tcp_rare_stats *r;

	if (segs && (r = tcp_rare(sk, true)) != NULL)
		r->delivered_ce += segs;
}

void tcp_info_ooo(struct sock *sk)
{
	struct tcp_rare_stats *r = tcp_rare(sk, true);

	if (r)
		r->rcv_ooopack++;
}

/* ---- the report ---------------------------------------------------------- */

/* The path MTU the MSS follows (Linux's icsk_pmtu_cookie): to a source
 * route's first hop. */
static uint32_t tcp_info_pmtu(struct sock *sk)
{
	uint32_t dev, pmtu, hop = ip_sock_nexthop(sk, sk->daddr);

	if (!sk->daddr)
		return 0;
	dev = ip_route_dev_mtu(sk->st, hop);
	pmtu = ip_pmtu_get(sk->st, hop, NULL);
	return pmtu && (pmtu < dev || !dev) ? pmtu : dev;
}

/* The chrono's times in us: busy (all three), rwnd- and sndbuf-limited. */
static void tcp_info_chrono(struct sock *sk, struct us_tcp_info *ti)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint64_t t[3];

	for (int i = 0; i < 3; i++) {
		t[i] = tp->chrono_ms[i];
		if (tp->chrono_type == i + 1)
			t[i] += tcp_now_ms(sk) - tp->chrono_start_ms;
		t[i] *= 1000;
	}
	ti->tcpi_busy_time = t[0] + t[1] + t[2];
	ti->tcpi_rwnd_limited = t[1];
	ti->tcpi_sndbuf_limited = t[2];
}

/* The sequence space between from and to after wraps turns of it. */
static uint64_t tcp_info_span(uint32_t from, uint32_t to, uint16_t wraps)
{
	return ((uint64_t)wraps << 32) + (uint32_t)(to - from);
}

static void tcp_info_bytes(struct sock *sk, struct us_tcp_info *ti,
			   uint64_t retrans)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint64_t una, sent;

	if (sk->state == TCP_SYN_SENT || (!tp->segs_in && !tp->segs_out))
		return;   /* (ISS and IRS mean nothing yet) */
	/* Our SYN counts when acknowledged, a listener child's SYN-ACK not:
	 * the request sent it (Linux's tcp_snd_una_update). */
	una = tcp_info_span(tp->iss, tp->snd_una, tp->una_wraps);
	ti->tcpi_bytes_acked = una - tp->passive_open;
	/* The FIN counts, as it moved RCV.NXT (Linux's tcp_rcv_nxt_update);
	 * the SYN not. */
	if (tp->irs_valid)
		ti->tcpi_bytes_received =
			tcp_info_span(tp->irs + 1, tp->rcv_nxt, tp->rcv_wraps);
	/* Data sent anew (SND.MAX past the SYN, without the FIN), and again */
	sent = una + (uint32_t)(tp->snd_max - tp->snd_una);
	sent -= sent ? 1 : 0;
	sent -= tp->fin_out && sent ? 1 : 0;
	ti->tcpi_bytes_sent = sent + retrans;
}

size_t tcp_get_info(struct sock *sk, void *buf)
{
	struct tcp_sock *tp = tcp_sk(sk);
	const struct tcp_rare_stats *r = sk->has_ext ? tcp_rare(sk, false)
						     : NULL;
	struct us_tcp_info ti;
	uint32_t delack_max;
	bool app_limited;

	memset(&ti, 0, sizeof(ti));
	ti.tcpi_state = sk->state;
	ti.tcpi_snd_cwnd = tp->snd_cwnd;
	ti.tcpi_reordering = tcp_reordering(sk);
	ti.tcpi_max_pacing_rate = sk_max_pacing_rate(sk);
	/* No rate before the first ACK of the connection (Linux's
	 * sk_pacing_rate starts at ~0), but SO_MAX_PACING_RATE's. */
	ti.tcpi_pacing_rate = ti.tcpi_max_pacing_rate;
	if (sk->state == TCP_LISTEN) {
		/* Linux's tcp_get_info: a listener's tcpi_unacked is its
		 * accept queue's length, tcpi_sacked its backlog; nothing
		 * about a connection follows. */
		ti.tcpi_unacked = (uint32_t)tp->accept_qlen;
		ti.tcpi_sacked = (uint32_t)tp->max_backlog;
		memcpy(buf, &ti, sizeof(ti));
		return sizeof(ti);
	}
	ti.tcpi_pacing_rate = tcp_pacing_rate(sk);
	ti.tcpi_ca_state = tcp_ca_state(tp);   /* (tcp_cong.c) */
	ti.tcpi_retransmits = tp->retransmits;
	ti.tcpi_probes = tp->probes_out;
	ti.tcpi_backoff = tp->backoff;
	/* The RTO as backed off (Linux's icsk_rto), but by a zero-window
	 * probe series, whose doublings are the probe timer's own. */
	ti.tcpi_rto = tp->probe_timer ? tp->rto_us
				      : (uint32_t)tcp_backed_off_rto(tp);
	/* The delayed-ACK engine's delay, bounded by its ceiling, as Linux
	 * reports it. */
	delack_max = (uint32_t)tcp_delack_max(tp);
	ti.tcpi_ato = (uint32_t)tp->ato_ms * 1000;
	if (ti.tcpi_ato > delack_max)
		ti.tcpi_ato = delack_max;
	/* How long ago data went, data came and an ACK came, in ms (Linux's
	 * lsndtime, lrcvtime and rcv_tstamp, from the connection's start). */
	if (sk->state != TCP_SYN_SENT && sk->state != TCP_SYN_RECV) {
		uint32_t now_ms = tcp_now_ms(sk);

		ti.tcpi_last_data_sent = now_ms - tp->lsndtime;
		ti.tcpi_last_data_recv = now_ms - tp->lrcvtime;
		ti.tcpi_last_ack_recv =
			(uint32_t)((sk->st->now - tp->last_rcv) / 1000);
	}
	ti.tcpi_snd_mss = tp->mss_cache;
	ti.tcpi_rcv_mss = tp->rcv_mss;
	ti.tcpi_pmtu = tcp_info_pmtu(sk);
	ti.tcpi_rcv_ssthresh = tp->rcv_ssthresh;
	ti.tcpi_rtt = tp->srtt_us;
	/* (Linux's mdev starts at 1 s, reported as a quarter) */
	ti.tcpi_rttvar = tp->srtt_us ? tp->rttvar_us : 250000;
	ti.tcpi_snd_ssthresh = tp->snd_ssthresh;
	/* (Linux takes the timestamp option's room off once they are on) */
	ti.tcpi_advmss = tp->advmss - (tp->tstamp_ok ? 12 : 0);
	ti.tcpi_total_retrans = tp->total_retrans;
	ti.tcpi_sacked = tp->sacked_out;
	ti.tcpi_lost = tp->lost_out;
	ti.tcpi_retrans = tp->retrans_out;
	ti.tcpi_unacked = tp->packets_out;
	/* RFC 7323 as negotiated, SACK, Fast Open's data taken. */
	if (tp->sack_ok)
		ti.tcpi_options |= TCPI_OPT_SACK;
	if (tp->tstamp_ok)
		ti.tcpi_options |= TCPI_OPT_TIMESTAMPS;
	if (tp->syn_data_acked)
		ti.tcpi_options |= TCPI_OPT_SYN_DATA;
	if (tp->ecn_ok)
		ti.tcpi_options |= 8;     /* TCPI_OPT_ECN */
	if (tp->ecn_seen)
		ti.tcpi_options |= 16;    /* TCPI_OPT_ECN_SEEN */
	if (tp->tfo_child)
		ti.tcpi_options |= 128;   /* TCPI_OPT_TFO_CHILD (Linux 6.4) */
	ti.tcpi_fastopen_client_fail = tp->fo_client_fail;
	if (tp->wscale_ok) {
		ti.tcpi_options |= TCPI_OPT_WSCALE;
		ti.tcpi_snd_wscale = tp->snd_wscale & 0xf;
		ti.tcpi_rcv_wscale = tp->rcv_wscale & 0xf;
	}
	ti.tcpi_rcv_rtt = tp->rcv_rtt_est8 >> 3;
	ti.tcpi_rcv_space = tp->rcvq_space;
	/* After 104 bytes */
	tcp_info_bytes(sk, &ti, r ? r->bytes_retrans : 0);
	ti.tcpi_segs_out = tp->segs_out;
	ti.tcpi_segs_in = tp->segs_in;
	ti.tcpi_notsent_bytes = seq_lt(tp->snd_nxt, tp->write_seq)
				? tp->write_seq - tp->snd_nxt : 0;
	ti.tcpi_min_rtt = tp->min_rtt_us;
	ti.tcpi_data_segs_in = tp->data_segs_in;
	ti.tcpi_data_segs_out = tp->data_segs_out;
	tcp_info_chrono(sk, &ti);
	ti.tcpi_delivered = tp->delivered;
	ti.tcpi_delivery_rate = tcp_rate_info(tp, &app_limited);
	ti.tcpi_delivery_rate_app_limited = app_limited;
	ti.tcpi_bytes_retrans = r ? r->bytes_retrans : 0;
	ti.tcpi_dsack_dups = tp->dsack_dups;
	ti.tcpi_snd_wnd = tp->snd_wnd;
	ti.tcpi_rcv_wnd = tp->rcv_wnd;
	if (r) {
		ti.tcpi_reord_seen = r->reord_seen;
		ti.tcpi_delivered_ce = r->delivered_ce;
		ti.tcpi_rcv_ooopack = r->rcv_ooopack;
		ti.tcpi_rehash = r->rehash;
		ti.tcpi_total_rto = r->total_rto;
		ti.tcpi_total_rto_recoveries = r->rto_recoveries;
		ti.tcpi_total_rto_time = r->rto_time_ms;
		if (tp->rto_episode)
			ti.tcpi_total_rto_time += tcp_now_ms(sk) -
						  r->rto_stamp_ms;
	}
	memcpy(buf, &ti, sizeof(ti));
	return sizeof(ti);
}
