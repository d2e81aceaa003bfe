/*
 * tcp_delack.c - when an ACK waits and when it goes (RFC 1122 §4.2.3.2,
 * RFC 5681 §4.2), the parts of Linux's delayed-ACK engine (its
 * inet_connection_sock icsk_ack) beyond "every second full segment, or
 * 40 ms": interactive ("pingpong") mode, the ACK a read sends, and
 * TCP_QUICKACK.
 *
 * - Quick-ACK mode: a new connection ACKs its first 16 data segments at
 *   once (tcp_init_established sets quickacks), so that the peer's slow
 *   start is not held back; not while in pingpong mode.
 * - Pingpong mode: data we send within the delayed-ACK time (ato, 40 ms)
 *   of the last data we received means an exchange of requests and
 *   replies: our ACKs wait, to ride on the replies (Linux's
 *   tcp_event_data_sent, inet_csk_inc_pingpong_cnt with
 *   tcp_pingpong_thresh 1). A delayed-ACK timer that had to fire ends it
 *   (tcp_delack_timer_handler): no reply came in time.
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
 * Not modelled: Linux's ato grows with the gaps between arrivals and
 * with delayed ACKs that fire (up to the RTT, 200 ms in pingpong mode);
 * here it is always TCP_DELACK_MIN (Linux's value on a path of less than
 * 40 ms RTT), and a gap of more than an RTO between data does not
 * restart quick-ACK mode. rcv_mss, the peer's segment size as Linux
 * estimates it from what arrives, is the MSS we announced.
 *
 * Call chain: tcp_data_queue -> tcp_delack_data_recv; tcp_transmit_skb
 * -> tcp_data_sent -> tcp_delack_data_sent; tcp_schedule_ack ->
 * tcp_delack_quick; tcp_recvmsg -> tcp_delack_read; tcp_delack_timer ->
 * tcp_delack_timeout; tcp_setsockopt -> tcp_delack_set_quickack.
 */
#include "net/tcp/tcp.h"
#include "stack/stack.h"

#define TCP_ATO_MIN_MS (TCP_DELACK_MIN_US / 1000)

static uint32_t tcp_delack_now_ms(const struct sock *sk)
{
	return (uint32_t)(sk->st->now / 1000);
}

void tcp_delack_data_recv(struct sock *sk, uint32_t len, uint8_t flags)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tp->rcvd_data = true;   /* (Linux: the first data sets ato) */
	tp->lrcvtime = tcp_delack_now_ms(sk);
	/* tcp_measure_rcv_mss: a pushed segment, or a short one, is
	 * likely the end of a write; a second short one while the first
	 * is unacknowledged is PUSHED2. */
	if (len < tcp_rcv_mss(tp) && tp->ack_pushed)
		tp->ack_pushed2 = true;
	if ((flags & TCPHDR_PSH) || len < TCP_MSS_DEFAULT)
		tp->ack_pushed = true;
}

void tcp_delack_data_sent(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->rcvd_data &&
	    tcp_delack_now_ms(sk) - tp->lrcvtime < TCP_ATO_MIN_MS)
		tp->pingpong = true;
}

bool tcp_delack_quick(const struct tcp_sock *tp)
{
	return tp->quickacks && !tp->pingpong;
}

void tcp_delack_acked(struct tcp_sock *tp)
{
	tp->ack_pushed = false;
	tp->ack_pushed2 = false;
}

bool tcp_delack_timeout(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->ack_pending)
		return false;
	tp->pingpong = false;   /* no reply took it: not interactive */
	return true;
}

void tcp_delack_read(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->ack_pending)
		return;
	if (tp->rcv_nxt - tp->rcv_wup > tcp_rcv_mss(tp) ||
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
	 * an ato, which makes data sent within it of now (the SYN-ACK's
	 * arrival, tcp_finish_connect's lrcvtime) pingpong again. */
	tp->pingpong = false;
	tp->rcvd_data = true;
	tp->lrcvtime = tcp_delack_now_ms(sk);
	tp->ack_pending = true;
	us_timer_mod(&sk->st->timers, &tp->delack_timer,
		     sk->st->now + TCP_DELACK_MAX_US);
	return true;
}

void tcp_delack_forget(struct tcp_sock *tp)
{
	tp->pingpong = false;
	tp->rcvd_data = false;
	tp->ack_pushed = false;
	tp->ack_pushed2 = false;
}
