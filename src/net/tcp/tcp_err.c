/*
 * tcp_err.c - ICMP errors about our TCP segments (RFC 1122 §4.2.3.9,
 * RFC 5927) and Path MTU Discovery (RFC 1191), as Linux's tcp_v4_err.
 *
 * An error quotes the IP header and the first 8 bytes of the segment that
 * caused it: the ports name the connection, the sequence number must be
 * one it has outstanding (SND.UNA..SND.NXT, RFC 5927 §4.1), else anyone
 * who knows the 4-tuple could disturb it; such errors are counted
 * (tcp.out_of_window_icmps) and dropped.
 *
 *  - "Fragmentation needed" (RFC 1191 §4): the path MTU to the peer is
 *    remembered (ip_pmtu_update), every connection to it takes the
 *    smaller MSS, and the one whose segment was dropped sends again at
 *    once what it has in flight that is too big (tcp_simple_retransmit);
 *    a segment is cut to the MSS when it goes (tcp_fit_mss), within
 *    Linux's bound on the memory a queue may take.
 *  - During the handshake any other destination unreachable, time
 *    exceeded or parameter problem ends a connect() with its errno
 *    (EHOSTUNREACH, ECONNREFUSED, ...), as Linux does, and with
 *    IP_RECVERR is kept on the socket's error queue; an embryonic
 *    connection of a listener is dropped quietly when the error says the
 *    peer cannot be reached (Linux's tcp_req_err: accept() never reports
 *    network errors).
 *  - On a synchronized connection these are soft errors (RFC 1122
 *    §4.2.3.9: a TCP MUST NOT abort for them): the errno is kept and
 *    reported only if the connection times out, instead of ETIMEDOUT;
 *    with IP_RECVERR it is the socket's pending error at once (the next
 *    call fails with it, the connection goes on), as Linux.
 *    A network or host unreachable that answers a retransmission also
 *    takes one step of the timer's backoff back (RFC 6069 §3), since the
 *    segment was not lost to congestion.
 *  - Source quench is ignored (RFC 6633); redirects are not acted on.
 *
 * IP_MTU_DISCOVER (af_inet.h) decides whether segments carry DF and
 * whether ICMP's path MTU is taken (tcp_mtu_reduced).
 *
 * A path MTU reported below 552 bytes is 552 and locked, as in Linux:
 * segments then go without DF (unless the socket asks IP_PMTUDISC_DO,
 * and then the connection has a soft EMSGSIZE), for the router to
 * fragment.
 *
 * Call chain: icmp_error_rcv -> tcp_v4_err -> tcp_mtu_reduced ->
 *             ip_pmtu_update, tcp_update_mss, tcp_simple_retransmit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "net/icmp.h"
#include "net/icmp_errno.h"
#include "net/af_inet.h"
#include "net/ipv4.h"
#include "net/tcp/tcp.h"
#include "stack/stack.h"

/* A socket's error queue (IP_RECVERR's errors, timestamp reports,
 * MSG_ZEROCOPY's notices), made at its first entry and kept beside the
 * socket (sock_ext), which few TCP sockets need. */
struct sk_buff_head *tcp_error_queue(struct sock *sk, bool make)
{
	struct sock_ext *e;

	if (!sk->errq_ext && !make)
		return NULL;
	e = sock_ext(sk, make);
	if (!e)
		return NULL;
	if (!e->errq && make) {
		e->errq = malloc(sizeof(*e->errq));
		if (!e->errq)
			return NULL;
		skb_queue_head_init(e->errq);
		sk->errq_ext = 1;
	}
	return e->errq;
}

void tcp_error_queue_free(struct sock *sk)
{
	struct sock_ext *e = sk->errq_ext ? sock_ext(sk, false) : NULL;

	sk->errq_ext = 0;
	if (!e || !e->errq)
		return;
	ip_errqueue_free(sk, e->errq);
	free(e->errq);
	e->errq = NULL;
}

/* Every connection to daddr takes the path MTU just learnt (by any
 * protocol's error), or the one it goes back to when that expires (the
 * net_protocol's pmtu_changed): Linux has each find it at its next
 * transmission (tcp_current_mss); here it is one walk when the MTU
 * changes, which is rare. daddr INADDR_ANY: every connection (a device's
 * MTU changed). */
void tcp_pmtu_sync_all(struct ustack *st, uint32_t daddr)
{
	struct tcp_table *t = &st->tcp;

	for (uint32_t i = 0; i <= t->ehash_mask; i++) {
		struct list_head *pos;

		list_for_each(pos, &t->ehash[i]) {
			struct tcp_sock *tp = list_entry(pos, struct tcp_sock,
							 ehash_node);

			if (daddr == INADDR_ANY ||
			    ip_sock_nexthop(&tp->sk, tp->sk.daddr) == daddr)
				tcp_update_mss(tp);
		}
	}
}

/*
 * RFC 1191 §3-4, Linux's tcp_v4_mtu_reduced: the decision to send again
 * is this connection's (what it has in flight that no longer fits), also
 * when the path MTU was known already (another connection's error). A
 * socket whose IP_MTU_DISCOVER is INTERFACE or OMIT takes no path MTU
 * from ICMP; with DONT it takes the smaller MSS but sends nothing again.
 * Below 552 the path keeps 552, locked, and a connection that still sets
 * DF (IP_PMTUDISC_DO) a soft EMSGSIZE, in case it cannot get through.
 */
static void tcp_mtu_reduced(struct sock *sk, uint32_t mtu)
{
	struct ip_route rt;

	if (!ip_sk_accept_pmtu(sk))
		return;
	ip_pmtu_update(sk->st, sk->daddr, mtu);   /* (every connection) */
	if (ip_route_output_oif(sk->st, sk->daddr, sk->bound_dev_if, &rt) == 0 &&
	    mtu < rt.mtu &&
	    ip_dont_fragment(sk, rt.mtu_locked))
		sk->err_soft = EMSGSIZE;
	if (sk->pmtudisc == IP_PMTUDISC_DONT)
		return;
	tcp_update_mss(tcp_sk(sk));
	tcp_simple_retransmit(sk);
}

/*
 * RFC 6069 §3 (Linux's tcp_ld_RTO_revert): an unreachable that answers
 * the retransmission of SND.UNA during a backoff says the path is broken,
 * not congested; the backoff is one step shorter, and the retransmission
 * goes at once if that much time has passed already.
 */
static void tcp_rto_revert(struct sock *sk, uint32_t seq)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *head = skb_peek(&sk->write_queue);
	us_time_t due;

	if (seq != tp->snd_una || !tp->retransmits || !tp->backoff ||
	    tp->probe_timer || !head)
		return;
	tp->backoff--;
	/* The shared timer becomes the RTO again (Linux's
	 * inet_csk_reset_xmit_timer(ICSK_TIME_RETRANS)). */
	tcp_rack_timer_clear(tp);
	tp->tlp_timer = false;
	due = TCP_SKB_CB(head)->sent + tcp_backed_off_rto(tp);
	us_timer_mod(&sk->st->timers, &tp->retrans_timer,
		     due > sk->st->now ? due : sk->st->now);
}

/* An embryonic connection of a listener (Linux's tcp_req_err). */
static void tcp_req_err(struct sock *sk, uint32_t seq, bool abort)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (seq != tp->iss) {
		us_mib_inc(sk->st, US_MIB_TCP_OUT_OF_WINDOW_ICMPS);
		return;
	}
	if (abort) {
		us_mib_inc(sk->st, US_MIB_TCP_LISTEN_DROPS);
		tcp_done(sk);
	}
}

void tcp_v4_err(struct ustack *st, struct sk_buff *skb,
		const struct ipv4_info *inner,
		const uint8_t *l4, size_t l4_len, int type, int code,
		uint32_t info)
{
	uint16_t sport, dport;
	uint32_t seq;
	struct tcp_sock *tp;
	struct sock *sk;
	bool fatal;
	int err;

	if (l4_len < 8)
		return;
	memcpy(&sport, l4, 2);
	memcpy(&dport, l4 + 2, 2);
	memcpy(&seq, l4 + 4, 4);
	seq = ntohl(seq);
	/* The quoted segment went from us to the peer: look it up as if it
	 * were coming back. TIME_WAIT and listeners are not found. */
	sk = tcp_lookup_established(st, inner->daddr, dport, inner->saddr,
				    sport, ip_iif(st, skb));
	if (!sk || sk->state == TCP_CLOSE)
		return;
	tp = tcp_sk(sk);
	/* (A Fast Open child is a connection of its own: below.) */
	if (sk->state == TCP_SYN_RECV && tp->parent && !tp->fastopen_child) {
		tcp_req_err(sk, seq, type == ICMP_PARAMETERPROB ||
				     type == ICMP_TIME_EXCEEDED ||
				     (type == ICMP_DEST_UNREACH &&
				      (code == ICMP_NET_UNREACH ||
				       code == ICMP_HOST_UNREACH)));
		return;
	}
	/* IP_MINTTL, as Linux's tcp_v4_err asks it after a request's
	 * errors: of the quoted header's TTL (the header it reads there,
	 * skb->data, is the quoted one). */
	if (inner->ttl < sk->min_ttl) {
		us_mib_inc(st, US_MIB_TCP_MINTTL_DROP);
		return;
	}
	/* (A Fast Open child's SYN-ACK lies before its SND.UNA.) */
	if (seq_lt(seq, tp->fastopen_child ? tp->iss : tp->snd_una) ||
	    seq_gt(seq, tp->snd_max)) {
		us_mib_inc(st, US_MIB_TCP_OUT_OF_WINDOW_ICMPS);
		return;
	}
	switch (type) {
	case ICMP_PARAMETERPROB:
	case ICMP_TIME_EXCEEDED:
		break;
	case ICMP_DEST_UNREACH:
		if (code > ICMP_PREC_CUTOFF)
			return;
		if (code == ICMP_FRAG_NEEDED) {
			tcp_mtu_reduced(sk, info & 0xffff);
			return;
		}
		if ((code == ICMP_NET_UNREACH || code == ICMP_HOST_UNREACH) &&
		    !tp->fastopen_child)
			tcp_rto_revert(sk, seq);
		break;
	default:
		return;   /* source quench (RFC 6633), redirect, ... */
	}
	err = icmp_err_convert(type, code, &fatal);
	/* A Fast Open child already accepted counts as connected; one not
	 * yet ends with the error, on the accept queue (Linux's
	 * tcp_v4_err: "fastopen && !fastopen->sk"). */
	if ((sk->state == TCP_SYN_SENT || sk->state == TCP_SYN_RECV) &&
	    !(tp->fastopen_child && !tp->parent)) {
		/* With IP_RECVERR the error stays on the error queue too,
		 * its data the quoted TCP header (Linux since 5.17, for
		 * "traceroute -T"). */
		ip_icmp_error(sk, skb, err, inner->daddr, dport, info, l4);
		tcp_write_err(sk, err);
		return;
	}
	/* With IP_RECVERR the user hears of it at once (Linux): the next
	 * call fails with it, and the connection goes on. */
	if (sk->recverr)
		sock_set_error(sk, err);
	else
		sk->err_soft = err;
}
