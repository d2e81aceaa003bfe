/*
 * test_tcp_scoreboard.c - the sender's books against its write queue,
 * after every step of seeded random sequences of writes (short, long,
 * carved with TSO, MSG_ZEROCOPY), cumulative ACKs, SACK blocks, zero
 * windows and the passing of virtual time (RTO, TLP, RACK), with the
 * retransmission collapse (tcp_collapse.c) and the rate sampler
 * (tcp_rate.c) in the path.
 *
 * Also ICMP "fragmentation needed" (the MSS falls: segments cut in
 * flight), a FIN, and BBR on a quarter of the seeds (the rate sampler's
 * consumer). After each step: packets_out is the segments in flight,
 * sacked_out, lost_out and retrans_out the marks they carry, wmem_alloc
 * the sum of the queue's truesizes, the sequence runs on from segment to
 * segment with each one's length, send_head is in the queue, and every
 * packet sent carries the stream's bytes at its sequence number; at the
 * end, everything acknowledged, nothing is left charged.
 *
 * SB_SEEDS=N (and SB_FIRST=M) run seeds M..N instead of 1..200;
 * SB_VERBOSE=1 prints each seed's MSS and merge and retransmission
 * counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/checksum.h"
#include "lib/tcptest.h"
#include "net/icmp.h"
#include "net/tcp/tcp.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define MSS 1460

static struct test_stack T;
static struct tt_conn C;
#define PATLEN 65521u   /* the stream's bytes repeat with this period */
static uint8_t PAT[PATLEN + 65536 + 8 * MSS];
static uint32_t WR;      /* bytes the application has written */
static uint64_t RNG;

static uint32_t rnd(uint32_t n)
{
	RNG ^= RNG << 13;
	RNG ^= RNG >> 7;
	RNG ^= RNG << 17;
	return n ? (uint32_t)(RNG % n) : 0;
}

static struct tcp_sock *tp_of(void)
{
	return tcp_sk(tt_sk(C.fd));
}

/* The books, counted again from the write queue. */
static void check_books(unsigned step)
{
	struct sock *sk = tt_sk(C.fd);
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t out = 0, sacked = 0, lost = 0, retrans = 0;
	int64_t truesize = 0;
	bool in_flight = true, head_seen = tp->send_head == NULL;
	uint32_t seq = 0;
	struct sk_buff *skb;
	bool first = true;

	skb_queue_walk(&sk->write_queue, skb) {
		struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
		uint32_t span = skb->len + !!(cb->flags & TCPHDR_FIN) +
				!!(cb->flags & TCPHDR_SYN);

		if (skb == tp->send_head) {
			in_flight = false;
			head_seen = true;
		}
		if (!first && cb->seq != seq)
			fail_msg("step %u: hole %u..%u", step, seq, cb->seq);
		first = false;
		if (cb->end_seq - cb->seq != span)
			fail_msg("step %u: seg %u len %u span %u", step, cb->seq,
				 skb->len, cb->end_seq - cb->seq);
		seq = cb->end_seq;
		truesize += skb->truesize;
		if (!in_flight)
			continue;
		out++;
		sacked += !!(cb->sacked & TCPCB_SACKED_ACKED);
		lost += !!(cb->sacked & TCPCB_LOST);
		retrans += !!(cb->sacked & TCPCB_SACKED_RETRANS);
	}
	if (!head_seen)
		fail_msg("step %u: send_head not in the queue", step);
	if (tp->packets_out != out || tp->lost_out != lost ||
	    tp->retrans_out != retrans ||
	    (tp->sack_ok && tp->sacked_out != sacked))
		fail_msg("step %u: books out %u/%u lost %u/%u retrans %u/%u "
			 "sacked %u/%u", step, tp->packets_out, out,
			 tp->lost_out, lost, tp->retrans_out, retrans,
			 tp->sacked_out, sacked);
	if (sk->wmem_alloc != truesize)
		fail_msg("step %u: wmem_alloc %d, truesize %lld", step,
			 sk->wmem_alloc, (long long)truesize);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* Every packet the stack sent carries the stream's bytes at its
 * sequence number, a GSO packet's frags included. */
static void drain_and_verify(unsigned step)
{
	static uint8_t got[65536 + 2048];
	struct sk_buff *skb;

	while ((skb = ts_pop_tx(&T)) != NULL) {
		const struct sk_buff *f;
		size_t ihl = (size_t)(skb->data[0] & 15) * 4, hl, n;
		uint32_t off;

		if (skb->data[9] != IPPROTO_TCP) {
			skb_free(skb);
			continue;
		}
		hl = ihl + (size_t)(skb->data[ihl + 12] >> 4) * 4;
		off = get32(skb->data + ihl + 4) - (C.iss + 1);
		n = skb_headlen(skb) - hl;
		memcpy(got, skb->data + hl, n);
		skb_walk_frags(skb, f) {
			memcpy(got + n, f->data, skb_headlen(f));
			n += skb_headlen(f);
		}
		if (n && (off + n > WR ||
			  memcmp(got, PAT + off % PATLEN, n) != 0))
			fail_msg("step %u: bytes at %u+%zu are not the stream's",
				 step, off, n);
		skb_free(skb);
	}
}

/* The peer's router: our packets are too big for the next hop. */
static void icmp_frag_needed(uint16_t mtu)
{
	tt_icmp_about(&C, tp_of()->snd_una, ICMP_DEST_UNREACH,
		      ICMP_FRAG_NEEDED, mtu);
}

static void peer_ack(void)
{
	struct tcp_sock *tp = tp_of();
	uint32_t una = tp->snd_una - (C.iss + 1);
	uint32_t max = tp->snd_max - (C.iss + 1);
	uint32_t span = max - una, ack = una, b[4][2];
	int n = 0;

	if (span && rnd(3))
		ack = una + (rnd(4) ? 0 : rnd(span + 1));
	for (int i = 0, k = (int)rnd(4); i < k && max > ack + 1; i++) {
		uint32_t s = ack + 1 + rnd(max - ack - 1);
		uint32_t e = s + 1 + rnd(max - s);

		/* Mostly on 100-byte or MSS boundaries, as segments end */
		if (rnd(2)) {
			uint32_t g = rnd(2) ? 100 : MSS;

			s = s / g * g;
			e = (e + g - 1) / g * g;
			if (s <= ack)
				s = ack + 1;
			if (e > max)
				e = max;
			if (e <= s)
				continue;
		}
		b[n][0] = s;
		b[n][1] = e;
		n++;
	}
	if (n)
		tt_send_sack(&C, ack, (const uint32_t (*)[2])b, n);
	else
		tt_send(&C, TCPHDR_ACK, C.snd_nxt, C.iss + 1 + ack, NULL, 0);
}

/* One sequence: SACK or not, TSO (carved segments) or not, MSG_ZEROCOPY
 * writes or not, and small: short writes, fewer ACKs (more to merge). */
static void run_seed(uint64_t seed, bool sack, bool tso, bool zc, bool small)
{
	struct tcp_sock *tp;

	RNG = seed * 2654435761u + 1;
	tt_stack_init(&T);
	if (seed % 4 == 1)
		assert_int_equal(ustack_sysctl_set(T.st,
				 "net.ipv4.tcp_congestion_control", "bbr"), 0);
	tt_conn_init(&C, &T, true);
	C.sack_perm = sack;
	tt_open(&C);
	assert_int_equal(us_setsockopt(C.fd, IPPROTO_TCP, TCP_NODELAY,
				       &(int){ 1 }, sizeof(int)), 0);
	if (zc)
		assert_int_equal(us_setsockopt(C.fd, SOL_SOCKET, SO_ZEROCOPY,
					       &(int){ 1 }, sizeof(int)), 0);
	if (tso)
		T.dev->features = US_NETIF_F_TSO | US_NETIF_F_HW_CSUM;
	for (size_t i = 0; i < PATLEN; i++)
		PAT[i] = (uint8_t)(rnd(256));
	for (size_t i = PATLEN; i < sizeof(PAT); i++)
		PAT[i] = PAT[i - PATLEN];
	WR = 0;
	for (unsigned step = 0; step < 400; step++) {
		switch (rnd(10)) {
		case 0: case 1: case 2: {
			uint32_t n = rnd(4) || small ? 1 + rnd(300) :
							1 + rnd(5 * MSS);
			int fl = zc && !rnd(3) ? MSG_ZEROCOPY : 0;
			ssize_t k = us_send(C.fd, PAT + WR % PATLEN, n,
					    fl | MSG_DONTWAIT | MSG_NOSIGNAL);

			if (k > 0)
				WR += (uint32_t)k;
			break;
		}
		case 3: case 4: case 5:
			if (small && rnd(2))
				break;
			peer_ack();
			break;
		case 9:
			if (!rnd(40) &&
			    !(tt_sk(C.fd)->shutdown & SEND_SHUTDOWN)) {
				us_shutdown(C.fd, SHUT_WR);
				break;
			}
			if (!rnd(4)) {
				static const uint16_t mtu[] = { 1200, 900, 700,
								1500 };

				icmp_frag_needed(mtu[rnd(4)]);
				break;
			}
			ts_advance(&T, 1000 * (1 + rnd(50)));
			break;
		case 6:
			C.win = rnd(6) ? 65535 : (uint16_t)rnd(3000);
			peer_ack();
			break;
		default:
			ts_advance(&T, 1000 * (1 + rnd(rnd(4) ? 50 : 1500)));
			break;
		}
		drain_and_verify(step);
		check_books(step);
	}
	/* Everything acknowledged: nothing is left charged. */
	C.win = 65535;
	tp = tp_of();
	/* (BBR's rate after this treatment is its own business: the drain
	 * goes at Reno's pace.) */
	assert_int_equal(us_setsockopt(C.fd, IPPROTO_TCP, TCP_CONGESTION,
				       "reno", 4), 0);
	if (!(tt_sk(C.fd)->shutdown & SEND_SHUTDOWN) && rnd(2))
		us_shutdown(C.fd, SHUT_WR);
	for (int i = 0; i < 1000 && (tp->snd_una != tp->snd_max ||
				     tp->send_head); i++) {
		ts_advance(&T, 200000);
		drain_and_verify(2000);
		tt_send(&C, TCPHDR_ACK, C.snd_nxt, tp->snd_max, NULL, 0);
		drain_and_verify(2000);
		check_books(1000 + (unsigned)i);
	}
	if (tp->snd_una != tp->snd_max || tp->send_head)
		fail_msg("seed %lu: state %d una %u write_seq %u snd_max %u "
			 "nxt %u packets_out %u mss %u wnd %u",
			 (unsigned long)seed,
			 tt_sk(C.fd)->state, tp->snd_una - C.iss,
			 tp->write_seq - C.iss, tp->snd_max - C.iss,
			 tp->snd_nxt - C.iss, tp->packets_out, tp->mss_cache,
			 tp->snd_wnd);
	assert_int_equal(tt_sk(C.fd)->wmem_alloc, 0);
	assert_int_equal(tp->packets_out, 0);
	if (getenv("SB_VERBOSE"))
		print_message("seed %lu mss %u collapsed %lu retrans %lu\n",
			      (unsigned long)seed, tp->mss_cache,
			      (unsigned long)tt_mib(&T,
						US_MIB_TCP_RETRANS_COLLAPSED),
			      (unsigned long)tt_mib(&T,
						US_MIB_TCP_RETRANS_SEGS));
	us_close(C.fd);
	ts_flush_tx(&T);
	ts_destroy(&T);
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
	const char *v = getenv(name);

	return v ? strtoull(v, NULL, 10) : dflt;
}

static void test_random(void **state)
{
	uint64_t last = env_u64("SB_SEEDS", 200);

	(void)state;
	for (uint64_t seed = env_u64("SB_FIRST", 1); seed <= last; seed++)
		run_seed(seed, seed % 2, seed % 3 == 0, seed % 5 == 0,
			 seed % 7 < 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random),
	};

	return cmocka_run_group_tests_name("tcp_scoreboard", tests, NULL, NULL);
}
