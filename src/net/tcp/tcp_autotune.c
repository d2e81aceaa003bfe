/*
 * tcp_autotune.c - buffer sizes that follow the connection, as Linux's:
 * the receive buffer grows with what the reader takes per round trip
 * (dynamic right-sizing: Fisk and Feng, "Dynamic Right-Sizing in TCP";
 * Linux's tcp_rcv_space_adjust), so one connection can fill a fast,
 * long path without SO_RCVBUF; the send buffer grows to hold twice the
 * congestion window (Linux's tcp_sndbuf_expand). SO_RCVBUF / SO_SNDBUF
 * lock them (Linux's SOCK_RCVBUF_LOCK / SOCK_SNDBUF_LOCK); the tcp_rmem
 * and tcp_wmem maxima bound them; tcp_moderate_rcvbuf turns receive
 * tuning off.
 *
 * The window follows the buffer as Linux's (its "tuning advertised
 * window"): window_clamp is the most the buffer's space allows, less one
 * segment (tcp_init_buffer_space), and moves with autotuning; within it
 * rcv_ssthresh starts at the SYN's window and grows with each segment
 * that arrives (tcp_grow_window), so the offered window opens as the
 * peer's data shows it fits the buffer; tcp_clamp_window and
 * tcp_adjust_rcv_ssthresh pull it back when memory runs short.
 * tcp_output.c's __tcp_select_window offers min(free space,
 * rcv_ssthresh).
 *
 * Called from: tcp_init_established (tcp_init_buffer_space),
 * tcp_data_queue (tcp_rcv_rtt_measure, tcp_grow_window), tcp_ofo_insert
 * (tcp_grow_window), tcp_prune_queue (tcp_clamp_window), tcp_recvmsg
 * (tcp_rcv_space_adjust), tcp_ack (tcp_sndbuf_expand).
 */
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"

#include "stack/stack.h"

/* The sequence number up to which the reader took data (Linux's
 * copied_seq): what arrived in order minus what waits in the queue. */
static uint32_t tcp_copied_seq(const struct sock *sk)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);

	return tp->rcv_nxt - (uint32_t)sk->receive_queue.bytes;
}

bool tcp_under_memory_pressure(const struct sock *sk)
{
	return !skb_pool_may_queue(&sk->st->skb_pool, 0);
}

void tcp_init_buffer_space(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t init = TCP_INIT_CWND * (uint32_t)(tp->advmss ? tp->advmss
							     : TCP_MSS_DEFAULT);

	/* Linux's tcp_init_buffer_space: the window's clamp within the
	 * buffer's space, one segment kept back (tcp_clamp_for_space; a
	 * TCP_WINDOW_CLAMP of the user's is cut the same way), and
	 * rcv_ssthresh within it. */
	if (tp->window_clamp)
		tp->window_clamp = tcp_clamp_for_space(tp, tp->window_clamp);
	if (tp->rcv_ssthresh > tp->window_clamp)
		tp->rcv_ssthresh = tp->window_clamp;
	/* The first round trip is expected to bring at most an initial
	 * window. */
	tp->rcvq_space = tp->rcv_wnd < init ? tp->rcv_wnd : init;
	if (tp->rcvq_space > tp->rcv_ssthresh && tp->rcv_ssthresh)
		tp->rcvq_space = tp->rcv_ssthresh;
	if (!tp->rcvq_space)
		tp->rcvq_space = init;
	tp->rcvq_seq = tcp_copied_seq(sk);
	tp->rcvq_nxt = tp->rcv_nxt;
	tp->rcvq_time = sk->st->now;
	tcp_sndbuf_expand(sk);
}

/*
 * The receiver's RTT estimate keeps the smallest sample. Linux's
 * tcp_rcv_rtt_update does so without timestamps (a sample is the time a
 * whole window took to arrive, an upper bound) but smooths timestamp
 * samples by 1/8. We keep the minimum for both: a timestamp sample
 * includes the time our ACK and the sender's data waited in queues, and
 * a smoothed estimate then grows with the queue that a larger window
 * fills, so the buffer and the window grow together without end. Over
 * the TAP the kernel's sender filled the device queue that way until it
 * dropped: kernel -> ustack went from 45 to 17 MB/s with autotuning,
 * against 115-135 MB/s with the buffer following the path's own RTT.
 */
static void tcp_rcv_rtt_update(struct tcp_sock *tp, uint32_t sample_us)
{
	uint32_t est = tp->rcv_rtt_est8;

	if (sample_us > UINT32_MAX / 16)
		sample_us = UINT32_MAX / 16;
	if (est == 0 || (sample_us << 3) < est)
		est = sample_us << 3;
	tp->rcv_rtt_est8 = est ? est : 1;
}

/*
 * A full segment's echo of our TSval from a round trip ago (Linux's
 * tcp_rcv_rtt_measure_ts), once per echo. The timestamp clock ticks in
 * milliseconds, so on a path faster than that most echoes come back in
 * the tick that sent them and give no sample (Linux's too).
 */
static void tcp_rcv_rtt_measure_ts(struct sock *sk, const struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	uint32_t delta = tcp_ts_now(sk) - tcp_rx(tp)->tsecr;

	if (!tcp_rx(tp)->tsecr || tcp_rx(tp)->tsecr == tp->rcv_rtt_last_tsecr)
		return;
	tp->rcv_rtt_last_tsecr = tcp_rx(tp)->tsecr;
	if (cb->end_seq - cb->seq >= tcp_advmss(tp) && delta &&
	    delta < (uint32_t)INT32_MAX / 1000)
		tcp_rcv_rtt_update(tp, delta * 1000);
}

/*
 * With timestamps or without, as Linux's tcp_event_data_recv: how long
 * the window offered at the last measurement took to fill (Linux's
 * tcp_rcv_rtt_measure), in the stack's microseconds. Without it, a
 * connection with timestamps over a sub-millisecond path had no estimate
 * at all, so its buffer never grew from tcp_rmem[1] (the shim's iperf3
 * server over the TAP: a 64 KB window and 10-14 Gbit/s, against
 * 31-33 Gbit/s when an echo happened to cross a tick).
 */
void tcp_rcv_rtt_measure(struct sock *sk, const struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);
	us_time_t now = sk->st->now;

	if (tcp_rx(tp)->saw_ts)
		tcp_rcv_rtt_measure_ts(sk, skb);
	if (tp->rcv_rtt_time) {
		if (seq_lt(tp->rcv_nxt, tp->rcv_rtt_seq))
			return;
		tcp_rcv_rtt_update(tp, now - tp->rcv_rtt_time > 0 ?
				   (uint32_t)(now - tp->rcv_rtt_time) : 1);
	}
	tp->rcv_rtt_seq = tp->rcv_nxt + tp->rcv_wnd;
	tp->rcv_rtt_time = now ? now : 1;
}

/*
 * The buffer grew (autotuning, SO_RCVLOWAT): the window's clamp follows,
 * to the new buffer's whole space (Linux's tcp_rcvbuf_grow and
 * tcp_set_rcvlowat), and rcv_ssthresh grows into it with the data. Not a
 * TCP_WINDOW_CLAMP of the user's (Linux replaces that too).
 */
static void tcp_clamp_follows(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t max = (uint32_t)TCP_MAX_WINDOW << tp->rcv_wscale;

	if (tp->clamp_user || !tp->window_clamp)
		return;
	tp->window_clamp = (uint32_t)tcp_full_space(sk);
	/* (With a scale the field says it; without one, Linux's clamp
	 * goes past 65535 and only the field stops there.) */
	if (tp->rcv_wscale && tp->window_clamp > max)
		tp->window_clamp = max;
}

/*
 * Linux's tcp_grow_window, for a segment of 128 bytes or more in order
 * (tcp_event_data_recv) or one queued out of order with SACK: while
 * rcv_ssthresh is below both the clamp and the free space, a segment
 * whose buffer costs no more than twice its data (it would fit the
 * window's share of the buffer) grows it by two of our segments or twice
 * its own length, whichever is more; a costlier one by two of the peer's
 * segments, and only while rcv_ssthresh is still small beside tcp_rmem[2]
 * in proportion (__tcp_grow_window's loop), else not at all. Growth
 * earns one quick ACK, so the peer hears of it. Under memory pressure it
 * shrinks instead (tcp_adjust_rcv_ssthresh).
 */
static uint32_t __tcp_grow_window(const struct sock *sk, uint32_t len,
				  uint32_t truesize)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);
	uint32_t ts = (uint32_t)tcp_win_from_space((int)truesize) >> 1;
	uint32_t window = (uint32_t)tcp_win_from_space(
					sk->st->sysctl.tcp_rmem[2]) >> 1;

	while (tp->rcv_ssthresh <= window) {
		if (ts <= len)
			return 2u * tp->rcv_mss;
		ts >>= 1;
		window >>= 1;
	}
	return 0;
}

void tcp_grow_window(struct sock *sk, uint32_t len, uint32_t truesize)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int64_t room = tp->window_clamp < (uint32_t)INT32_MAX ?
		       (int64_t)tp->window_clamp : INT32_MAX;
	uint32_t incr;

	if (tcp_space(sk) < room)
		room = tcp_space(sk);
	room -= tp->rcv_ssthresh;
	if (room <= 0)
		return;
	if (tcp_under_memory_pressure(sk)) {
		tcp_adjust_rcv_ssthresh(sk);
		return;
	}
	if ((uint32_t)tcp_win_from_space((int)truesize) <= len)
		incr = 2u * tcp_advmss(tp);
	else
		incr = __tcp_grow_window(sk, len, truesize);
	if (!incr)
		return;
	if (incr < 2u * len)
		incr = 2u * len;
	tp->rcv_ssthresh += (uint32_t)(room < incr ? room : incr);
	tp->quickacks |= 1;
}

void tcp_adjust_rcv_ssthresh(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tcp_adjust_rcv_ssthresh_to(tp, 4u * tcp_advmss(tp));
}

/*
 * Linux's tcp_clamp_window: the queues reached the buffer. No more quick
 * ACKs, and rcv_ssthresh down to two segments while they are past it.
 * Linux first grows a buffer neither locked nor at tcp_rmem[2] to what is
 * allocated; ustack keeps it, and collapses and prunes instead
 * (tcp_prune_queue), so that a peer's tiny segments cannot take a socket
 * to tcp_rmem[2] (test_tcp_mem's bound).
 */
void tcp_clamp_window(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tp->quickacks = 0;
	if (sk->rmem_alloc > sk->rcvbuf)
		tp->rcv_ssthresh = tp->window_clamp < 2u * tcp_advmss(tp) ?
				   tp->window_clamp : 2u * tcp_advmss(tp);
}

/*
 * Linux's tcp_rcv_space_adjust, once per receiver RTT: if the reader took
 * more than in the previous RTT, the sender is still speeding up; the
 * buffer then holds twice what was taken plus 16 segments for losses,
 * plus the growth again for slow start, within tcp_rmem[2].
 */
void tcp_rcv_space_adjust(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	us_time_t rtt = tp->rcv_rtt_est8 >> 3;
	us_time_t elapsed = sk->st->now - tp->rcvq_time;
	uint32_t copied;

	if (!tp->rcv_rtt_est8 || !tp->rcvq_space || elapsed < rtt)
		return;
	copied = tcp_copied_seq(sk) - tp->rcvq_seq;
	/* What the reader took, but no more than what arrived meanwhile: a
	 * reader that empties a backlog takes in one RTT what came over
	 * many, and that says nothing of the sender (Linux counts it whole;
	 * over the TAP 5 MB read in 1 ms took the buffer to 32 MB, and the
	 * transfer stalled on the queues the window then filled). Likewise
	 * per round trip when the reader came back after a long pause. */
	if (copied > tp->rcv_nxt - tp->rcvq_nxt)
		copied = tp->rcv_nxt - tp->rcvq_nxt;
	if (rtt && elapsed > 2 * rtt)
		copied = (uint32_t)((uint64_t)copied * (uint64_t)rtt /
				    (uint64_t)elapsed);
	if (copied > tp->rcvq_space) {
		if (sk->st->sysctl.tcp_moderate_rcvbuf && !sk->rcvbuf_locked) {
			uint64_t rcvwin = 2ull * copied + 16ull * tp->advmss;
			uint64_t grow = rcvwin * (copied - tp->rcvq_space) /
					tp->rcvq_space;
			uint64_t rcvbuf;

			rcvwin += grow * 2;
			/* tcp_space_from_win: twice the window (the other
			 * half is skb overhead, tcp_adv_win_scale 1). */
			rcvbuf = rcvwin * 2;
			/* At most twice the buffer per round trip: a sender
			 * in slow start doubles no faster (RFC 5681), and a
			 * burst read after a stall (over the TAP: 1.1 MB in
			 * 1 ms) then cannot take it to tcp_rmem[2] at once.
			 * Linux has no such step. */
			if (rcvbuf > 2ull * (uint64_t)sk->rcvbuf)
				rcvbuf = 2ull * (uint64_t)sk->rcvbuf;
			if (rcvbuf > (uint64_t)sk->st->sysctl.tcp_rmem[2])
				rcvbuf = (uint64_t)sk->st->sysctl.tcp_rmem[2];
			if (rcvbuf > (uint64_t)sk->rcvbuf) {
				sk->rcvbuf = (int)rcvbuf;
				tcp_clamp_follows(sk);
			}
		}
		tp->rcvq_space = copied;
	}
	tp->rcvq_seq = tcp_copied_seq(sk);
	tp->rcvq_nxt = tp->rcv_nxt;
	tp->rcvq_time = sk->st->now;
}

/*
 * SO_RCVLOWAT (Linux's tcp_set_rcvlowat): at most half of the largest
 * buffer the socket may have (its SO_RCVBUF, or tcp_rmem[2]), so that a
 * reader never waits for more than the window lets come; a buffer not set
 * by the user grows to hold it (twice the bytes, tcp_space_from_win). A
 * reader waiting is woken to look again (Linux's tcp_data_ready).
 */
void tcp_set_rcvlowat(struct sock *sk, int val)
{
	int cap = (sk->rcvbuf_locked ? sk->rcvbuf
				     : sk->st->sysctl.tcp_rmem[2]) >> 1;

	if (val > cap)
		val = cap;
	sk->rcvlowat = val ? val : 1;
	if (!sk->rcvbuf_locked && (int64_t)val * 2 > sk->rcvbuf) {
		sk->rcvbuf = val * 2;
		tcp_clamp_follows(sk);
	}
	if (!skb_queue_empty(&sk->receive_queue))
		sk_data_ready(sk);
}

/*
 * What one segment of the write queue is reckoned to cost, as Linux's
 * tcp_sndbuf_expand reckons it on x86-64: the larger of mss_clamp (the
 * peer's MSS, or TCP_MAXSEG if smaller) and ours, MAX_TCP_HEADER (320)
 * and the aligned skb_shared_info (320), rounded up to a power of two,
 * and the aligned struct sk_buff (256). SO_SNDBUF then reads as it would there (87040 after a handshake with
 * an MSS of 1460, sockets start at tcp_wmem[1]); ustack's own buffers
 * cost less than that, so the buffer holds at least the data Linux's
 * would.
 */
#define TCP_LINUX_MAX_HEADER 320u
#define TCP_LINUX_SHINFO 320u
#define TCP_LINUX_SKB 256u

static uint32_t tcp_per_mss(const struct tcp_sock *tp)
{
	uint32_t mss = tp->peer_mss;

	if (tp->user_mss && tp->user_mss < mss)
		mss = tp->user_mss;
	if (tp->mss_cache > mss)
		mss = tp->mss_cache;
	return skb_size_class(mss + TCP_LINUX_MAX_HEADER + TCP_LINUX_SHINFO,
			      1) + TCP_LINUX_SKB;
}

void tcp_sndbuf_expand(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t segs = tp->snd_cwnd > TCP_INIT_CWND ? tp->snd_cwnd
						      : TCP_INIT_CWND;
	/* (Windows of buffer: 2, or the algorithm's: BBR's 3, as it may
	 * slow-start in a recovery; Linux's ca_ops->sndbuf_expand.) */
	uint64_t per = tp->ca_ops && tp->ca_ops->sndbuf_expand ?
		       tp->ca_ops->sndbuf_expand(sk) : 2;
	uint64_t sndmem = per * segs * tcp_per_mss(tp);
	uint64_t max = (uint64_t)sk->st->sysctl.tcp_wmem[2];

	/* Not while the skb pool is short (Linux: not under memory
	 * pressure, tcp_should_expand_sndbuf): tcp.c, tcp_pool_ok. */
	if (sk->sndbuf_locked || !skb_pool_may_queue(&sk->st->skb_pool, 0))
		return;
	if (sndmem > max)
		sndmem = max;
	if ((uint64_t)sk->sndbuf < sndmem)
		sk->sndbuf = (int)sndmem;
}
