/*
 * tcp_cong.c - the congestion control framework: the registry of
 * algorithms, the choice per socket (TCP_CONGESTION, the instance default
 * net.ipv4.tcp_congestion_control, inheritance by accepted children), the
 * hook points tcp_input.c and tcp_timer.c call, and the slow start and
 * additive increase that the algorithms share. Linux's tcp_cong.c is the
 * model; the algorithms are tcp_reno.c, tcp_cubic.c and tcp_bbr.c.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"
#include "stack/stack.h"

static const struct tcp_congestion_ops *const tcp_ca_list[] = {
	&tcp_cubic,
	&tcp_reno,
	&tcp_bbr,
};

const struct tcp_congestion_ops *tcp_ca_find(const char *name)
{
	for (size_t i = 0; i < sizeof(tcp_ca_list) / sizeof(tcp_ca_list[0]); i++)
		if (strcmp(tcp_ca_list[i]->name, name) == 0)
			return tcp_ca_list[i];
	return NULL;
}

/* The validator of net.ipv4.tcp_congestion_control (stack/sysctl.h):
 * Linux refuses a name it has no algorithm for with ENOENT. */
int us_sysctl_check_congestion(const char *name)
{
	return tcp_ca_find(name) ? 0 : -ENOENT;
}

/* Whether ca starts now on sk: an init_at_transfer algorithm not on a
 * closed socket (Linux's tcp_reinit_congestion_control: not in CLOSE or
 * LISTEN; tcp_init_transfer starts it later). */
static bool tcp_ca_init_now(const struct sock *sk,
			    const struct tcp_congestion_ops *ca)
{
	return ca->init && (!ca->init_at_transfer || sk->state != TCP_CLOSE);
}

/* Hand the socket to ca, with a fresh private area (Linux's
 * tcp_reinit_congestion_control). */
static void tcp_set_ca(struct sock *sk, const struct tcp_congestion_ops *ca)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tcp_cleanup_congestion_control(sk);
	tp->ca_ops = ca;
	/* A listener's area holds its queues (tcp_ca_listen_start). */
	if (sk->state == TCP_LISTEN)
		return;
	memset(tp->ca_priv, 0, sizeof(tp->ca_priv));
	if (tcp_ca_init_now(sk, ca))
		ca->init(sk);
}

/* (Again if it started before: chosen with TCP_CONGESTION during the
 * handshake, its init had no RTT and the default MSS; Linux's
 * tcp_init_transfer calls tcp_init_congestion_control whatever ran
 * before. The algorithm's init reuses its state.) */
void tcp_ca_init_transfer(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->ca_ops->init_at_transfer)
		tp->ca_ops->init(sk);
}

void *tcp_ca_state_ptr(const struct tcp_sock *tp)
{
	void *p;

	if (tp->sk.state == TCP_LISTEN)
		return NULL;
	memcpy(&p, tp->ca_priv, sizeof(p));
	return p;
}

bool tcp_ca_controls(const struct tcp_sock *tp)
{
	return tp->ca_ops && tp->ca_ops->cong_control && tcp_ca_state_ptr(tp);
}

uint8_t tcp_ca_state(const struct tcp_sock *tp)
{
	if (tp->rto_episode)
		return TCP_CA_Loss;
	if (tp->in_recovery)
		return TCP_CA_Recovery;
	if (tp->in_cwr)
		return TCP_CA_CWR;
	if (tp->sacked_out || tp->lost_out || tp->retrans_out ||
	    tp->reno_sacked)
		return TCP_CA_Disorder;
	return TCP_CA_Open;
}

void tcp_assign_congestion_control(struct sock *sk)
{
	const struct tcp_congestion_ops *ca =
		tcp_ca_find(sk->st->sysctl.tcp_congestion_control);

	/* The sysctl only ever holds a name the registry has. */
	tcp_set_ca(sk, ca ? ca : &tcp_cubic);
}

void tcp_reinit_congestion_control(struct sock *sk)
{
	const struct tcp_congestion_ops *ca = tcp_sk(sk)->ca_ops;

	tcp_set_ca(sk, ca ? ca : &tcp_cubic);
}

void tcp_ca_openreq_child(struct sock *sk, const struct sock *parent)
{
	const struct tcp_sock *ptp = tcp_sk((struct sock *)parent);

	if (ptp->ca_setsockopt) {
		tcp_set_ca(sk, ptp->ca_ops);
		tcp_sk(sk)->ca_setsockopt = true;
	} else {
		tcp_assign_congestion_control(sk);
	}
}

void tcp_cleanup_congestion_control(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	/* A listener's algorithm was released by listen() already. */
	if (tp->ca_ops && tp->ca_ops->release && sk->state != TCP_LISTEN)
		tp->ca_ops->release(sk);
	tp->ca_ops = NULL;
}

void tcp_ca_listen_start(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->ca_ops->release)
		tp->ca_ops->release(sk);
}

void tcp_ca_listen_stop(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	memset(tp->ca_priv, 0, sizeof(tp->ca_priv));
	if (tp->ca_ops->init && !tp->ca_ops->init_at_transfer)
		tp->ca_ops->init(sk);
}

/*
 * Linux's do_tcp_setsockopt(TCP_CONGESTION): at least one byte; the name is
 * what comes before a NUL within the first TCP_CA_NAME_MAX - 1 bytes; an
 * unknown one is ENOENT. Choosing the algorithm the socket has already
 * changes nothing but marks it chosen (accepted children inherit it).
 */
int tcp_setsockopt_congestion(struct sock *sk, const void *optval,
			      unsigned int optlen)
{
	const struct tcp_congestion_ops *ca;
	char name[TCP_CA_NAME_MAX];
	size_t n = optlen < TCP_CA_NAME_MAX - 1 ? optlen : TCP_CA_NAME_MAX - 1;

	if (optlen < 1)
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	memcpy(name, optval, n);
	name[n] = '\0';
	ca = tcp_ca_find(name);
	if (!ca)
		return -ENOENT;
	if (ca != tcp_sk(sk)->ca_ops)
		tcp_set_ca(sk, ca);
	tcp_sk(sk)->ca_setsockopt = true;
	return 0;
}

/* Linux's do_tcp_getsockopt(TCP_CONGESTION): up to TCP_CA_NAME_MAX bytes
 * of the NUL-padded name, and that length back in optlen. */
int tcp_getsockopt_congestion(struct sock *sk, void *optval,
			      unsigned int *optlen)
{
	unsigned int len = *optlen < TCP_CA_NAME_MAX ? *optlen : TCP_CA_NAME_MAX;

	*optlen = len;
	if (!len)
		return 0;
	if (!optval)
		return -EFAULT;
	memcpy(optval, tcp_sk(sk)->ca_ops->name, len);
	return 0;
}

/* ---- the hook points ----------------------------------------------------- */

void tcp_cong_avoid(struct sock *sk, uint32_t acked)
{
	tcp_sk(sk)->ca_ops->cong_avoid(sk, acked, sk->st->now);
}

void tcp_cong_control(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tcp_ca_controls(tp))
		tp->ca_ops->cong_control(sk, &tcp_rx(tp)->rs);
}

uint32_t tcp_ca_ssthresh(struct sock *sk)
{
	return tcp_sk(sk)->ca_ops->ssthresh(sk);
}

uint32_t tcp_current_ssthresh(const struct tcp_sock *tp)
{
	uint32_t three_quarters = (tp->snd_cwnd >> 1) + (tp->snd_cwnd >> 2);

	return tp->snd_ssthresh > three_quarters ? tp->snd_ssthresh
						 : three_quarters;
}

/*
 * RFC 5681 §3.1: on a timeout the threshold is set, "when the given segment
 * has not yet been resent by way of the retransmission timer" (so only at
 * the first timeout of a series, as Linux's tcp_enter_loss), and the window
 * becomes the loss window, one segment. RFC 9438 §4.8: CUBIC sets the
 * threshold with its own beta. Not again inside a fast recovery, which
 * set it for this window already (Linux's tcp_enter_loss): PRR's window
 * there is below the flight by design, and another cut would count the
 * same losses twice. A NewReno recovery held at its point (tcp_reno_held)
 * has repaired its window: a timeout there sets the threshold anew
 * (Linux's !after(high_seq, snd_una)).
 */
void tcp_ca_on_rto(struct sock *sk, bool first)
{
	struct tcp_sock *tp = tcp_sk(sk);

	/* (Not within an ECE's reduction: Linux's tcp_enter_loss keeps the
	 * ssthresh that CWR set.) */
	if (first && (!tp->in_recovery || tcp_reno_held(tp)) &&
	    !(tp->in_cwr && seq_gt(tp->cwr_high, tp->snd_una)))
		tp->snd_ssthresh = tcp_ca_ssthresh(sk);
	tp->snd_cwnd = 1;
	tp->cwnd_acked = 0;
	if (tp->ca_ops->on_rto)
		tp->ca_ops->on_rto(sk);
}

uint32_t tcp_now_ms(const struct sock *sk)
{
	return (uint32_t)(sk->st->now / 1000);
}

void tcp_data_sent(struct sock *sk)
{
	tcp_sk(sk)->lsndtime = tcp_now_ms(sk);
	tcp_delack_data_sent(sk);
}

int64_t tcp_since_data_sent(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);

	return (int64_t)(int32_t)(tcp_now_ms(sk) - tp->lsndtime) * 1000;
}

void tcp_ca_tx_start(struct sock *sk, uint32_t lsnd_before)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int32_t idle_ms = (int32_t)(tcp_now_ms(sk) - lsnd_before);

	if (tp->ca_ops->tx_start && idle_ms > 0)
		tp->ca_ops->tx_start(sk, (us_time_t)idle_ms * 1000,
				     sk->st->now);
}

/*
 * RFC 5681 §4.1 (restarting idle connections), as Linux's
 * tcp_slow_start_after_idle_check and tcp_cwnd_restart: a sender about to
 * queue new data with nothing in flight, whose data last went more than
 * an RTO ago, no longer trusts its window to fit the path. ssthresh keeps
 * the window's 3/4 (at least), and the window halves for each RTO of the
 * idle time, down to the restart window, min(IW, cwnd), at the least.
 * Once per write (tcp_sendmsg, at its first new segment): Linux checks
 * at every segment it queues (tcp_skb_entail), but sends a write's first
 * before it queues the next (tcp_push_one), which then finds it in
 * flight; here a write queues all first. Linux's clock is in jiffies;
 * this one in milliseconds.
 */
void tcp_idle_restart_check(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t restart = TCP_INIT_CWND, cwnd = tp->snd_cwnd;
	us_time_t rto;
	int64_t delta;

	/* (Not for an algorithm that sets the window itself: Linux's
	 * tcp_slow_start_after_idle_check skips a cong_control one.) */
	if (!sk->st->sysctl.tcp_slow_start_after_idle || tp->packets_out ||
	    tcp_ca_controls(tp))
		return;
	rto = tcp_backed_off_rto(tp);   /* Linux's icsk_rto */
	delta = tcp_since_data_sent(sk);
	if (delta <= (int64_t)rto)
		return;
	tp->snd_ssthresh = tcp_current_ssthresh(tp);
	if (restart > cwnd)
		restart = cwnd;
	while ((delta -= (int64_t)rto) > 0 && cwnd > restart)
		cwnd >>= 1;
	tp->snd_cwnd = cwnd > restart ? cwnd : restart;
	tp->cwnd_acked = 0;
}

void tcp_ca_rtt_sample(struct sock *sk, uint32_t rtt_us)
{
	if (tcp_sk(sk)->ca_ops->rtt_sample)
		tcp_sk(sk)->ca_ops->rtt_sample(sk, rtt_us);
}

/* ---- shared by the algorithms -------------------------------------------- */

/*
 * A window the sender does not fill (held back by the peer's window or by
 * the application) must not grow: it would grow untested (and CUBIC's
 * curve, a function of time, without bound). RFC 7661's principle, with
 * Linux's rule (tcp_is_cwnd_limited, from what tcp_cwnd_validate keeps
 * per window): the window grows if it was full at some point of the
 * current window; in slow start also while it is below twice the most
 * segments that were out in it. Counted in segments, as Linux counts
 * packets, whatever their size.
 */
bool tcp_is_cwnd_limited(const struct tcp_sock *tp)
{
	if (tp->is_cwnd_limited)
		return true;
	if (tp->snd_cwnd < tp->snd_ssthresh)
		return tp->snd_cwnd < 2 * tp->max_packets_out;
	return false;
}

/*
 * After a transmission (Linux's tcp_cwnd_validate, from tcp_write_xmit):
 * the strongest sign of how much of the window is used, per window of
 * data: full (the flight reached cwnd) at any point of it, or else the
 * most segments out. A new window starts once SND.UNA passes the end of
 * the last one.
 */
void tcp_cwnd_validate(struct sock *sk, bool is_cwnd_limited)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!seq_lt(tp->snd_una, tp->cwnd_usage_seqnum) || is_cwnd_limited ||
	    (!tp->is_cwnd_limited && tp->packets_out > tp->max_packets_out)) {
		tp->is_cwnd_limited = is_cwnd_limited;
		tp->max_packets_out = tp->packets_out;
		tp->cwnd_usage_seqnum = tp->snd_nxt;
	}
	/* TCP_INFO's chrono: data went, all that was queued, without
	 * filling the window, and the writer found no room: the send
	 * buffer is what holds the sender back. */
	if (!tcp_is_cwnd_limited(tp) && !tp->send_head && sk->nospace &&
	    (sk->state == TCP_ESTABLISHED || sk->state == TCP_CLOSE_WAIT))
		tcp_chrono_start(sk, TCP_CHRONO_SNDBUF_LIMITED);
}

/*
 * Slow start (RFC 5681 §3.1) counting bytes acknowledged (RFC 3465 §2.2;
 * part of a segment counts as one: tcp_cong_on_ack has taken out the
 * part of a segment the ACK does not finish, so this counts segments
 * finished, as Linux counts packets), but without the limit per ACK that
 * both set (SMSS in RFC 5681, L = 2 SMSS in RFC 3465 §2.3): the window
 * grows by every segment the ACK covers, as in Linux's tcp_slow_start.
 * Either limit would let a receiver that acknowledges a whole TSO or GRO
 * packet at once (one ACK for up to 44 segments: the kernel behind a TAP,
 * any Linux receiver with GRO) hold slow start to one or two segments
 * more per packet, a few segments per round trip instead of a doubling
 * (sim_slow_start: 12 14 16 ... against 20 40 80 ...). RFC 9406 §4.3
 * takes L = infinity for a paced sender and asks L = 8 of one that does
 * not pace; ustack does not pace (nor does Linux with CUBIC and no fq)
 * and, as Linux, sends what such an ACK frees at once, also the first
 * ACK after a timeout that covers data sent before it (RFC 3465 §2.3
 * asks L = 1 SMSS there). Slow start ends at ssthresh, which the growth
 * does not pass: what the ACK covers beyond is congestion avoidance's,
 * as in Linux.
 */
uint32_t tcp_slow_start(struct tcp_sock *tp, uint32_t acked)
{
	uint32_t segs = (acked + tp->mss_cache - 1) / tp->mss_cache;
	uint32_t room = tp->snd_ssthresh > tp->snd_cwnd ?
			tp->snd_ssthresh - tp->snd_cwnd : 0;

	if (segs < room) {
		tp->snd_cwnd += segs;
		return 0;
	}
	tp->snd_cwnd += room;
	return acked > room * tp->mss_cache ? acked - room * tp->mss_cache : 0;
}

/* Congestion avoidance (RFC 5681 §3.1) counting bytes (RFC 3465 §2.1):
 * one segment more per window of `w` segments acknowledged; a stretch ACK
 * that covers several windows adds one for each, as Linux's
 * tcp_cong_avoid_ai, which also turns credit left from a larger window
 * into one segment only. In 64 bits: the window is a divisor here. */
void tcp_cong_avoid_ai(struct tcp_sock *tp, uint32_t w, uint32_t acked)
{
	uint64_t window = (uint64_t)(w ? w : 1) * tp->mss_cache;
	uint64_t credit = tp->cwnd_acked;

	if (credit >= window) {
		credit = 0;
		tp->snd_cwnd++;
	}
	credit += acked;
	if (credit >= window) {
		tp->snd_cwnd += (uint32_t)(credit / window);
		credit %= window;
	}
	tp->cwnd_acked = (uint32_t)credit;   /* below the window */
}
