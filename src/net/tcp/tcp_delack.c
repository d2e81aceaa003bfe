/*
 * tcp_delack.c - when an ACK waits and when it goes (RFC 1122 §4.2.3.2,
 * RFC 5681 §4.2), as Linux's delayed-ACK engine (its inet_connection_sock
 * icsk_ack) decides it, beyond "every second full segment":
 *
 * - The delay (ato): 40 ms (TCP_ATO_MIN) from the first data on; it
 *   follows the gaps between arrivals (half of it plus the gap, when the
 *   gap is shorter), doubles when the timer had to send the ACK (up to
 *   the RTO), and goes back to 40 ms when quick-ACK mode ends or
 *   restarts. The timer waits for it, at most the RTT (never less than
 *   40 ms), 500 ms, or 200 ms in pingpong mode or for a pushed segment
 *   (tcp_send_delayed_ack); a timer about to fire (within a quarter of
 *   the delay) sends the ACK at once instead.
 * - Quick-ACK mode: a new connection ACKs its first data segments at
 *   once, 16 of them (fewer for a small window: tcp_incr_quickack at the
 *   first data), so that the peer's slow start is not held back; again after old or out-of-window data
 *   (tcp_enter_quickack_mode) and after a gap between data longer than
 *   the RTO (the sender restarts); not while in pingpong mode. Every ACK
 *   that goes while one is owed, on data too, uses one
 *   (tcp_dec_quickack_mode).
 * - Pingpong mode: data we send within the delay of the last data we
 *   received means an exchange of requests and replies: our ACKs wait,
 *   to ride on the replies (Linux's tcp_event_data_sent,
 *   inet_csk_inc_pingpong_cnt with tcp_pingpong_thresh 1). A delayed-ACK
 *   timer that had to fire ends it (tcp_delack_timer_handler): no reply
 *   came in time.
 * - A read: an ACK owed goes when more than a segment is unacknowledged,
 *   or when the read emptied the queue of a segment that was pushed (PSH,
 *   or short) outside pingpong mode, or of two such segments in it
 *   (Linux's tcp_cleanup_rbuf with ICSK_ACK_PUSHED, ICSK_ACK_PUSHED2).
 * - TCP_QUICKACK: 0 enters pingpong mode, 1 leaves it (and sends an ACK
 *   owed as a read would); it reads back whether the socket is out of it.
 *   0 before connect() also delays the handshake's last ACK, for data to
 *   take along (tcp_rcv_synsent_state_process), as TCP_DEFER_ACCEPT on a
 *   client does.
 *
 * - rcv_mss: the peer's segment size, guessed at the handshake and then
 *   measured on the data (tcp_initialize_rcv_mss, tcp_measure_rcv_mss):
 *   "more than a full segment" unacknowledged is more than rcv_mss
 *   (tcp_input.c's __tcp_ack_snd_check, a read), the quick ACKs are
 *   counted in it, and a segment shorter than it ends a write (pushed).
 *
 * Not modelled: the handshake's ACK does not wait for a send() blocked
 * on the connection (Linux's sk_write_pending).
 *
 * Call chain: tcp_data_queue -> tcp_delack_data_recv; tcp_schedule_ack
 * -> tcp_delack_quick, tcp_send_delayed_ack; tcp_transmit_skb ->
 * tcp_data_sent -> tcp_delack_data_sent, tcp_ack_sent ->
 * tcp_delack_acked; tcp_recvmsg -> tcp_delack_read; tcp_delack_timer ->
 * tcp_delack_timeout; tcp_setsockopt -> tcp_delack_set_quickack.
 */
#include "net/tcp/tcp.h"
#include "stack/stack.h"

#define TCP_ATO_MIN_MS (TCP_DELACK_MIN_US / 1000)

/* The RTO as Linux's icsk_rto has it (backed off), in ms. */
static uint32_t tcp_delack_rto_ms(const struct tcp_sock *tp)
{
	return (uint32_t)(tcp_backed_off_rto(tp) / 1000);
}

static void tcp_delack_set_ato(struct tcp_sock *tp, uint32_t ms)
{
	tp->ato_ms = (uint16_t)(ms > UINT16_MAX ? UINT16_MAX : ms);
}

/* Linux's tcp_incr_quickack: as many quick ACKs as half the window has
 * segments of rcv_mss bytes, at least 2, at most max; never fewer than
 * are left. */
static void tcp_delack_incr_quickack_max(struct tcp_sock *tp, unsigned int max)
{
	unsigned int n = tp->rcv_wnd / (2u * (tp->rcv_mss ? tp->rcv_mss : 1u));

	if (n == 0)
		n = 2;
	if (n > max)
		n = max;
	if (n > tp->quickacks)
		tp->quickacks = (uint8_t)n;
}

static void tcp_delack_incr_quickack(struct tcp_sock *tp)
{
	tcp_delack_incr_quickack_max(tp, TCP_MAX_QUICKACKS);
}

/*
 * Linux's tcp_initialize_rcv_mss: a guess at the peer's segment size
 * before any data shows it, better too small (an ACK too many) than too
 * large (ACKs too few): our MSS and the send MSS, at most half the window
 * and 536, at least 88.
 */
void tcp_initialize_rcv_mss(struct tcp_sock *tp)
{
	uint32_t hint = tcp_advmss(tp);

	if (tp->mss_cache && tp->mss_cache < hint)
		hint = tp->mss_cache;
	if (hint > tp->rcv_wnd / 2)
		hint = tp->rcv_wnd / 2;
	if (hint > TCP_MSS_DEFAULT)
		hint = TCP_MSS_DEFAULT;
	if (hint < TCP_MIN_MSS)
		hint = TCP_MIN_MSS;
	tp->rcv_mss = (uint16_t)hint;
}

/*
 * Linux's tcp_measure_rcv_mss, for each segment of data in order: one at
 * least rcv_mss long (a GSO packet by its segments' size) is the peer's
 * size, up to our MSS, and with PSH likely the end of a write. A shorter
 * one counts as full when it is at least 536 bytes with its header, or 88
 * with no PSH, URG, FIN or SYN (a sender with a small MTU); two such of
 * one size in a row make it rcv_mss (the header beyond the fixed one and
 * the timestamps, SACK blocks, is counted in: they jitter). Anything else
 * is the end of a write: pushed (twice: PUSHED2), for tcp_delack_read.
 */
static void tcp_measure_rcv_mss(struct tcp_sock *tp, const struct sk_buff *skb,
				uint8_t flags)
{
	uint32_t lss = tp->last_seg_size;
	uint32_t len = skb_shinfo(skb)->gso_size ? skb_shinfo(skb)->gso_size
						  : skb->len;
	uint32_t hlen = (uint32_t)(skb->data - skb_transport_header(skb));

	tp->last_seg_size = 0;
	if (len >= tp->rcv_mss) {
		tp->rcv_mss = (uint16_t)(len < tcp_advmss(tp) ? len
							 : tcp_advmss(tp));
		if (flags & TCPHDR_PSH)
			tp->ack_pushed = true;
		return;
	}
	if (hlen > TCP_HLEN_MAX)
		hlen = TCP_HLEN_MAX;   /* (data an old part of was pulled) */
	len += hlen;
	if (len >= TCP_MSS_DEFAULT + TCP_HLEN_MIN ||
	    (len >= TCP_MIN_MSS + TCP_HLEN_MIN &&
	     !(flags & (TCPHDR_FIN | TCPHDR_URG | TCPHDR_SYN | TCPHDR_PSH)))) {
		/* (Linux's tcp_header_len: the fixed header and the
		 * timestamps once agreed) */
		len -= TCP_HLEN_MIN + tcp_ts_hdr_extra(tp);
		tp->last_seg_size = (uint16_t)len;
		if (len == lss) {
			tp->rcv_mss = (uint16_t)len;
			return;
		}
	}
	if (tp->ack_pushed)
		tp->ack_pushed2 = true;
	tp->ack_pushed = true;
}

void tcp_delack_enter_quickack(struct sock *sk, unsigned int max)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tcp_delack_incr_quickack_max(tp, max);
	tp->pingpong = false;
	tp->ato_ms = TCP_ATO_MIN_MS;
}

void tcp_delack_data_recv(struct sock *sk, const struct sk_buff *skb,
			  uint8_t flags)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t now = tcp_now_ms(sk), m = now - tp->lrcvtime;

	/* tcp_event_data_recv: the segment's size first; the first data
	 * sets the delay, with quick ACKs for half the window in segments
	 * of that size; later ones move it towards the gaps between
	 * them. */
	tcp_measure_rcv_mss(tp, skb, flags);
	if (!tp->ato_ms) {
		tp->ato_ms = TCP_ATO_MIN_MS;
		tcp_delack_incr_quickack(tp);
	} else if (m <= TCP_ATO_MIN_MS / 2) {
		tcp_delack_set_ato(tp, tp->ato_ms / 2u + TCP_ATO_MIN_MS / 2);
	} else if (m < tp->ato_ms) {
		uint32_t rto = tcp_delack_rto_ms(tp);

		tcp_delack_set_ato(tp, tp->ato_ms / 2u + m);
		if (tp->ato_ms > rto)
			tcp_delack_set_ato(tp, rto);
	} else if (m > tcp_delack_rto_ms(tp)) {
		/* A gap longer than the RTO: the sender restarts its
		 * window, ACK it quickly. */
		tcp_delack_incr_quickack(tp);
	}
	tp->lrcvtime = now;
}

void tcp_delack_data_sent(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->ato_ms && tcp_now_ms(sk) - tp->lrcvtime < tp->ato_ms)
		tp->pingpong = true;
}

bool tcp_delack_quick(const struct tcp_sock *tp)
{
	return tp->quickacks && !tp->pingpong;
}

void tcp_delack_acked(struct tcp_sock *tp)
{
	/* tcp_dec_quickack_mode: the last quick ACK ends the mode, and
	 * the delay starts again from 40 ms. */
	if (tp->quickacks && (tp->ack_sched || tp->ack_pending) &&
	    --tp->quickacks == 0)
		tp->ato_ms = TCP_ATO_MIN_MS;
	tp->ack_sched = false;
	tp->ack_pushed = false;
	tp->ack_pushed2 = false;
}

/*
 * tcp_send_delayed_ack: the ACK waits for the delay, bounded (once
 * above 40 ms) by the RTT, and by 500 ms, or tcp_delack_max (200 ms) in
 * pingpong mode or for a pushed segment, and by tcp_delack_max always; a
 * timer already set keeps its earlier time, and one about to fire sends
 * the ACK now.
 */
void tcp_send_delayed_ack(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	us_time_t ato = (us_time_t)(tp->ato_ms ? tp->ato_ms : TCP_ATO_MIN_MS)
			* 1000, timeout;
	us_time_t ceiling = tcp_delack_max(tp);

	if (ato > TCP_DELACK_MIN_US) {
		us_time_t max = (tp->pingpong || tp->ack_pushed) ?
				ceiling : 500000;

		if (tp->srtt_us) {
			/* (in whole ms, as Linux's usecs_to_jiffies) */
			us_time_t rtt = (tp->srtt_us + 999) / 1000 * 1000;

			if (rtt < TCP_DELACK_MIN_US)
				rtt = TCP_DELACK_MIN_US;
			if (rtt < max)
				max = rtt;
		}
		if (ato > max)
			ato = max;
	}
	if (ato > ceiling)
		ato = ceiling;
	timeout = sk->st->now + ato;
	if (us_timer_pending(&tp->delack_timer)) {
		us_time_t due = tp->delack_timer.expires;

		if (due <= sk->st->now + ato / 4) {
			tcp_send_ack(sk);
			return;
		}
		if (timeout >= due)
			timeout = due;
	}
	tp->ack_pending = true;
	us_timer_mod(&sk->st->timers, &tp->delack_timer, timeout);
}

bool tcp_delack_timeout(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->ack_pending)
		return false;
	if (!tp->pingpong) {
		/* Missed: the next one waits longer. */
		uint32_t rto = tcp_delack_rto_ms(tp), ato = tp->ato_ms * 2u;

		tcp_delack_set_ato(tp, ato < rto ? ato : rto);
	} else {
		/* No reply took it: not interactive. */
		tp->pingpong = false;
		tp->ato_ms = TCP_ATO_MIN_MS;
	}
	return true;
}

void tcp_delack_read(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->ack_pending)
		return;
	if (tp->rcv_nxt - tp->rcv_wup > tp->rcv_mss ||
	    ((tp->ack_pushed2 || (tp->ack_pushed && !tp->pingpong)) &&
	     sk->rmem_alloc == 0))
		tcp_send_ack(sk);
}

void tcp_delack_set_quickack(struct sock *sk, int val)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!val) {
		tp->pingpong = true;
		return;
	}
	tp->pingpong = false;
	if ((sk->state == TCP_ESTABLISHED || sk->state == TCP_CLOSE_WAIT) &&
	    tp->ack_pending) {
		tp->ack_pushed = true;
		tcp_delack_read(sk);
		if (!(val & 1))
			tp->pingpong = true;
	}
}

bool tcp_delack_synsent(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->pingpong && !tp->defer_accept)
		return false;
	/* tcp_enter_quickack_mode: out of pingpong mode, quick ACKs, and
	 * an ato, which makes data sent within it of the SYN-ACK's arrival
	 * (the lrcvtime tcp_init_established just set, as Linux's
	 * tcp_finish_connect) pingpong again. */
	tcp_delack_enter_quickack(sk, TCP_MAX_QUICKACKS);
	tp->ack_pending = true;
	us_timer_mod(&sk->st->timers, &tp->delack_timer,
		     sk->st->now + TCP_DELACK_MAX_TIME_US);
	return true;
}

void tcp_delack_forget(struct tcp_sock *tp)
{
	tp->pingpong = false;
	tp->ato_ms = 0;
	tp->rcv_mss = 0;
	tp->last_seg_size = 0;
	tp->ack_sched = false;
	tp->ack_pushed = false;
	tp->ack_pushed2 = false;
}
