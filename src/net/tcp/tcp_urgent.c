/*
 * tcp_urgent.c - TCP urgent data ("out-of-band" data, MSG_OOB), as Linux
 * implements it (RFC 9293 §3.8.5 and §3.10.7.4 step six, RFC 6093).
 *
 * Sending: send(MSG_OOB) marks the last byte written urgent. The urgent
 * pointer goes out as BSD and Linux send it, one past the urgent byte
 * (RFC 6093 §2 explains why that is not RFC 9293's reading), on every
 * segment, ACK and window probe sent below it, until the peer has
 * acknowledged it; meanwhile Nagle and cork hold nothing back.
 *
 * Receiving: the newest urgent pointer names one byte. It stays in the
 * stream (SIOCINQ counts it, as Linux does) but, unless SO_OOBINLINE, a
 * read skips it, and recv(MSG_OOB) hands over the copy kept in a one-byte
 * slot (urg_data). A read stops at the mark; reading past it forgets the
 * byte. A newer urgent pointer replaces an older, unread one.
 *
 * Call chain: tcp_sendmsg -> tcp_urg_mark; tcp_out_from_sock ->
 * tcp_urg_out; tcp_send_probe -> tcp_urg_probe_due; tcp_rcv_state_process
 * and tcp_rcv_synsent -> tcp_urg; tcp_recvmsg -> tcp_recv_urg |
 * tcp_urg_read_start / tcp_urg_read_done; tcp_poll, tcp_ioctl.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

#include "core/iov.h"
#include "net/tcp/tcp.h"
#include "stack/stack.h"

/* ---- sending -------------------------------------------------------------- */

/* An urgent pointer goes out while the peer has not acknowledged it
 * (Linux's tcp_urg_mode: snd_una != snd_up). */
bool tcp_urg_mode(struct tcp_sock *tp)
{
	if (tp->snd_urg && !seq_lt(tp->snd_una, tp->snd_up))
		tp->snd_urg = false;
	return tp->snd_urg;
}

/* send(MSG_OOB) took some bytes: the last of them is urgent (Linux's
 * tcp_mark_urg, the pointer one past it). */
void tcp_urg_mark(struct sock *sk, int flags)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!(flags & MSG_OOB))
		return;
	tp->snd_up = tp->write_seq;
	tp->snd_urg = true;
	us_mib_inc(sk->st, US_MIB_TCP_URG_MARKED);
}

/*
 * The URG flag and pointer of a segment starting at seq (Linux's
 * __tcp_transmit_skb). The 16-bit pointer reaches 65535 bytes: further
 * away, a segment still announces urgent data ahead with 0xFFFF, unless
 * it is an old one sent again, more than that behind SND.NXT.
 */
void tcp_urg_out(struct sock *sk, uint32_t seq, uint8_t *flags,
		 uint16_t *urg_ptr)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tcp_urg_mode(tp) || !seq_lt(seq, tp->snd_up))
		return;
	if (seq_lt(tp->snd_up, seq + 0x10000)) {
		*urg_ptr = (uint16_t)(tp->snd_up - seq);
		*flags |= TCPHDR_URG;
	} else if (seq_gt(seq + 0xFFFF, tp->snd_nxt)) {
		*urg_ptr = 0xFFFF;
		*flags |= TCPHDR_URG;
	}
}

/*
 * A window probe below SND.UNA is dropped by the peer before it looks at
 * URG, so while urgent data waits behind a closed window Linux sends a
 * second probe at SND.UNA, which the peer accepts, to tell it the urgent
 * pointer (tcp_write_wakeup).
 */
bool tcp_urg_probe_due(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	return tcp_urg_mode(tp) &&
	       seq_between(tp->snd_up, tp->snd_una + 1, tp->snd_una + 0xFFFF);
}

/* ---- receiving ------------------------------------------------------------ */

/*
 * The sequence number of the next byte the user will read (Linux's
 * copied_seq): what arrived in order, less what is still queued, less the
 * peer's FIN.
 */
static uint32_t tcp_copied_seq(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);

	return tp->rcv_nxt - (uint32_t)sk->receive_queue.bytes -
	       (tp->fin_rcvd ? 1u : 0u);
}

/* Consume the first queued byte (the urgent byte, at the mark). */
static void tcp_eat_byte(struct sock *sk)
{
	struct sk_buff *skb = skb_peek(&sk->receive_queue);

	if (!skb)
		return;
	skb_pull(skb, 1);
	TCP_SKB_CB(skb)->seq++;
	sk->receive_queue.bytes--;
	if (skb->len == 0) {
		skb_unlink(&sk->receive_queue, skb);
		sock_rfree(sk, skb);
		skb_free(skb);
	}
}

/* SIGURG for the socket's owner (F_SETOWN), through the socket level
 * (Linux's sk_send_sigurg: with O_ASYNC, POLL_PRI as well). */
static void tcp_urg_signal(struct sock *sk)
{
	if (sk->sk_socket && sk->wake)
		sk_wake_async(sk, SOCK_WAKE_URG, POLL_PRI);
}

/*
 * A segment with URG (Linux's tcp_check_urg). The pointer is taken as BSD
 * and Linux send it, one past the urgent byte; a pointer of 0 names the
 * segment's first byte. One that names data already received, or that is
 * not newer than the current one (a pointer sent again, or pointing
 * backwards), changes nothing. The 16-bit field bounds how far ahead it
 * can reach: 65534 bytes past the segment, possibly beyond the window,
 * where it waits for the data as Linux's does.
 */
static void tcp_check_urg(struct sock *sk, const struct tcp_seg *th)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t copied = tcp_copied_seq(sk);
	uint32_t ptr = th->urg_ptr;

	if (ptr)
		ptr--;
	ptr += th->seq;
	if (seq_lt(ptr, tp->rcv_nxt) || seq_gt(copied, ptr) ||
	    (tp->urg_data && !seq_gt(ptr, tp->urg_seq))) {
		us_mib_inc(sk->st, US_MIB_TCP_URG_STALE);
		return;
	}
	if (seq_geq(ptr, tp->rcv_nxt + tcp_receive_window(tp)))
		us_mib_inc(sk->st, US_MIB_TCP_URG_BEYOND_WND);
	us_mib_inc(sk->st, US_MIB_TCP_URG_RCVD);
	tcp_urg_signal(sk);
	/*
	 * A reader sitting at the old mark would read the old urgent byte
	 * as data once the mark moves: Linux skips it (and so loses it)
	 * unless it is inline. An older urgent byte further ahead simply
	 * becomes ordinary data.
	 */
	if (tp->urg_data && tp->urg_seq == copied && !sk->oobinline &&
	    copied != tp->rcv_nxt)
		tcp_eat_byte(sk);
	if (tp->urg_data & TCP_URG_VALID)
		us_mib_inc(sk->st, US_MIB_TCP_URG_REPLACED);
	tp->urg_data = TCP_URG_NOTYET;
	tp->urg_seq = ptr;
}

/*
 * RFC 9293 §3.10.7.4, sixth check (Linux's tcp_urg): a new urgent
 * pointer, and the urgent byte copied into the slot when this segment
 * holds it (even out of order: the copy is taken now, the stream byte
 * stays where it is). skb->data is at the payload.
 */
void tcp_urg(struct sock *sk, const struct sk_buff *skb,
	     const struct tcp_seg *th)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t off;

	if (th->flags & TCPHDR_URG)
		tcp_check_urg(sk, th);
	if (tp->urg_data != TCP_URG_NOTYET)
		return;
	off = tp->urg_seq - th->seq - ((th->flags & TCPHDR_SYN) ? 1u : 0u);
	if (off < skb->len) {
		tp->urg_data = (uint16_t)(TCP_URG_VALID | skb->data[off]);
		if (sk->sk_socket)
			sk_data_ready(sk);
	}
}

/* recv(MSG_OOB) (Linux's tcp_recv_urg): never blocks. */
int tcp_recv_urg(struct sock *sk, struct msghdr *msg, size_t len, int flags)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (sk->oobinline || !tp->urg_data || tp->urg_data == TCP_URG_READ)
		return -EINVAL;
	if (sk->state == TCP_CLOSE && !tp->fin_rcvd)
		return -ENOTCONN;
	if (tp->urg_data & TCP_URG_VALID) {
		uint8_t c = (uint8_t)tp->urg_data;

		if (!(flags & MSG_PEEK))
			tp->urg_data = TCP_URG_READ;
		msg->msg_flags |= MSG_OOB;
		if (len == 0) {
			/* The byte is gone all the same, as in Linux. */
			msg->msg_flags |= MSG_TRUNC;
			return 0;
		}
		if (!(flags & MSG_TRUNC) && iov_copy_to(msg, 0, &c, 1) < 0)
			return -EFAULT;
		return 1;
	}
	if (sk->state == TCP_CLOSE || (sk->shutdown & RCV_SHUTDOWN))
		return 0;
	return -EAGAIN;
}

/* The next read is at the mark (SIOCATMARK, sockatmark()). */
bool tcp_urg_at_mark(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);

	return tp->urg_data && tp->urg_seq == tcp_copied_seq(sk);
}

/* The mark lies in what is queued: no read, nor peek, goes past it. */
bool tcp_urg_ahead(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);

	return tp->urg_data &&
	       tp->urg_seq - tcp_copied_seq(sk) < sk->receive_queue.bytes;
}

/*
 * Where a normal read of *len bytes may go (Linux's tcp_recvmsg): it stops
 * short of the mark; at the mark, the urgent byte is passed over unless
 * SO_OOBINLINE. A read that is not a peek consumes it here; a peek starts
 * after it. A peek starts `start` bytes into the queue (SO_PEEK_OFF; 0
 * for a read). Returns the bytes a peek must skip there (0 or 1).
 */
size_t tcp_urg_read_start(struct sock *sk, size_t *len, int flags,
			  size_t start)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t off;

	if (!tp->urg_data || *len == 0)
		return 0;
	off = tp->urg_seq - (tcp_copied_seq(sk) + (uint32_t)start);
	if (off) {
		if (off < *len)
			*len = off;
		return 0;
	}
	if (sk->oobinline || sk->receive_queue.bytes <= start)
		return 0;
	if (flags & MSG_PEEK)
		return 1;
	tcp_eat_byte(sk);
	tcp_urg_read_done(sk);
	return 0;
}

/* After a read: once the reader is past the mark, the urgent byte is
 * forgotten, read or not. */
void tcp_urg_read_done(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->urg_data && seq_gt(tcp_copied_seq(sk), tp->urg_seq))
		tp->urg_data = 0;
}

/*
 * Readiness (Linux's tcp_poll): POLLPRI while an urgent byte waits in the
 * slot; at the mark the urgent byte does not count as readable unless
 * inline. Returns the bytes a read could return, for POLLIN.
 */
uint32_t tcp_urg_poll(const struct sock *sk, size_t *readable)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);

	if (*readable && tcp_urg_at_mark(sk) && !sk->oobinline)
		(*readable)--;
	return (tp->urg_data & TCP_URG_VALID) ? POLLPRI : 0;
}

/* SIOCINQ (Linux's tcp_inq): with an urgent byte ahead, out of band, the
 * bytes up to the mark. */
size_t tcp_urg_inq(const struct sock *sk, size_t queued)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);
	uint32_t copied = tcp_copied_seq(sk);

	if (sk->oobinline || !tp->urg_data || seq_lt(tp->urg_seq, copied) ||
	    !seq_lt(tp->urg_seq, tp->rcv_nxt))
		return queued;
	return tp->urg_seq - copied;
}

void tcp_urg_clear(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tp->snd_urg = false;
	tp->urg_data = 0;
}
