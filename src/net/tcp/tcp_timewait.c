/*
 * tcp_timewait.c - TIME_WAIT entries (see tcp_timewait.h): made by
 * tcp_time_wait, found by tcp_v4_rcv and the port choices in tcp.c, ended
 * by their 2 MSL, a RST or a SYN that reopens the pair.
 *
 * A TIME_WAIT connection used to keep its whole tcp_sock (824 bytes, a
 * timer in the heap, its place in the connection table) for 60 s; a loop
 * of short connections kept tens of thousands of them. An entry is
 * sizeof(struct tcp_tw) bytes (test_tcp_timewait checks the figure).
 */
#include "net/tcp/tcp_timewait.h"

#include <arpa/inet.h>
#include <stdlib.h>

#include "net/ip_options.h"
#include "net/tcp/tcp.h"
#include "stack/stack.h"

/* Linux's TCP_PAWS_MSL: a RST whose TS.Recent is this old passes PAWS. */
#define TCP_PAWS_MSL_US (60ULL * US_USEC_PER_SEC)

static struct tcp_tw_table *tw_table(struct ustack *st)
{
	return &st->tcp.tw;
}

static struct list_head *tw_chain(struct ustack *st, uint32_t laddr,
				  uint16_t lport, uint32_t faddr, uint16_t fport)
{
	struct tcp_tw_table *w = tw_table(st);

	return &w->hash[tcp_tuple_hash(&st->tcp, laddr, lport, faddr, fport) &
			w->mask];
}

struct list_head *tcp_tw_port_list(struct ustack *st, uint16_t port,
				   bool bound)
{
	struct tcp_tw_table *w = tw_table(st);

	return &(bound ? w->bind : w->cbind)[port % TCP_TW_BHASH];
}

/* ---- the 2 MSL timer ------------------------------------------------------ */

static void tw_free(struct ustack *st, struct tcp_tw *tw)
{
	list_del(&tw->hash_node);
	list_del(&tw->bind_node);
	list_del(&tw->expire_node);
	st->tcp.tw_count--;
	free(tw);
}

/* The timer follows the oldest deadline; one that fires early (its entry
 * went, or waits again) finds nothing due and moves on. */
static void tw_arm(struct ustack *st)
{
	struct tcp_tw_table *w = tw_table(st);
	struct tcp_tw *head;

	if (list_empty(&w->expire)) {
		us_timer_del(&st->timers, &w->timer);
		return;
	}
	head = list_entry(w->expire.next, struct tcp_tw, expire_node);
	if (!us_timer_pending(&w->timer) || w->timer.expires > head->expires)
		us_timer_mod(&st->timers, &w->timer, head->expires);
}

static void tw_timer_fire(struct us_timer *t, us_time_t now)
{
	struct ustack *st = container_of(t, struct ustack, tcp.tw.timer);
	struct tcp_tw_table *w = tw_table(st);

	while (!list_empty(&w->expire)) {
		struct tcp_tw *tw = list_entry(w->expire.next, struct tcp_tw,
					       expire_node);

		if (tw->expires > now)
			break;
		tw_free(st, tw);
	}
	tw_arm(st);
}

/* RFC 9293 §3.10.7.4: 2 MSL from now. Every entry waits as long, so this
 * one goes to the tail of the deadline order (the walk back only matters
 * if the MSL were ever shortened). */
static void tw_schedule(struct ustack *st, struct tcp_tw *tw)
{
	struct list_head *head = &tw_table(st)->expire, *pos;

	tw->expires = st->now + 2 * st->tcp.msl_us;
	list_del(&tw->expire_node);
	for (pos = head->prev; pos != head; pos = pos->prev)
		if (list_entry(pos, struct tcp_tw, expire_node)->expires <=
		    tw->expires)
			break;
	list_add(&tw->expire_node, pos);
	tw_arm(st);
}

void tcp_tw_kill(struct ustack *st, struct tcp_tw *tw)
{
	tw_free(st, tw);
	tw_arm(st);
}

/* ---- the table ------------------------------------------------------------ */

void tcp_tw_init(struct ustack *st)
{
	struct tcp_tw_table *w = tw_table(st);

	for (int i = 0; i < TCP_TW_HASH; i++)
		list_init(&w->hash_first[i]);
	for (int i = 0; i < TCP_TW_BHASH; i++) {
		list_init(&w->bind[i]);
		list_init(&w->cbind[i]);
	}
	w->hash = w->hash_first;
	w->mask = TCP_TW_HASH - 1;
	list_init(&w->expire);
	us_timer_init(&w->timer, tw_timer_fire);
}

void tcp_tw_exit(struct ustack *st)
{
	struct tcp_tw_table *w = tw_table(st);

	while (!list_empty(&w->expire))
		tw_free(st, list_entry(w->expire.next, struct tcp_tw,
				       expire_node));
	us_timer_del(&st->timers, &w->timer);
	if (w->hash != w->hash_first)
		free(w->hash);
	w->hash = w->hash_first;
}

/* Twice the chains past four entries a chain, as the connection table
 * grows (tcp.c); without memory the table keeps its size. */
static void tw_grow(struct ustack *st)
{
	struct tcp_tw_table *w = tw_table(st);
	uint32_t old_n = w->mask + 1, n = old_n * 2;
	struct list_head *old = w->hash, *nt;

	if (st->tcp.tw_count / 4 <= w->mask || n > TCP_EHASH_MAX)
		return;
	nt = malloc(n * sizeof(*nt));
	if (!nt)
		return;
	for (uint32_t i = 0; i < n; i++)
		list_init(&nt[i]);
	w->hash = nt;
	w->mask = n - 1;
	for (uint32_t i = 0; i < old_n; i++) {
		while (!list_empty(&old[i])) {
			struct tcp_tw *tw = list_entry(old[i].next,
						       struct tcp_tw, hash_node);

			list_del(&tw->hash_node);
			list_add(&tw->hash_node,
				 tw_chain(st, tw->laddr, tw->lport, tw->faddr,
					  tw->fport));
		}
	}
	if (old != w->hash_first)
		free(old);
}

struct tcp_tw *tcp_tw_lookup(struct ustack *st, int dif, uint32_t saddr,
			     uint16_t sport, uint32_t daddr, uint16_t dport)
{
	struct list_head *head, *pos;

	if (!st->tcp.tw_count)
		return NULL;
	head = tw_chain(st, daddr, dport, saddr, sport);
	list_for_each(pos, head) {
		struct tcp_tw *tw = list_entry(pos, struct tcp_tw, hash_node);

		/* (A connection bound to a device only meets what comes on
		 * it, as a socket's lookup: tcp_dev_match.) */
		if (tw->faddr == saddr && tw->fport == sport &&
		    tw->laddr == daddr && tw->lport == dport &&
		    tcp_dev_match(tw->bound_dev_if, dif))
			return tw;
	}
	return NULL;
}

bool tcp_tw_enter(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct ustack *st = sk->st;
	struct tcp_tw *tw;

	if (st->tcp.tw_count >= (uint32_t)st->sysctl.tcp_max_tw_buckets) {
		us_mib_inc(st, US_MIB_TCP_TW_OVERFLOW);
		return false;
	}
	tw = calloc(1, sizeof(*tw));
	if (!tw)
		return false;
	tw->laddr = sk->rcv_saddr;
	tw->faddr = sk->daddr;
	tw->lport = sk->sport;
	tw->fport = sk->dport;
	tw->num = ntohs(sk->sport);
	/* An ACK carries snd_max, as tcp_send_ack's do. */
	tw->snd_nxt = tp->snd_max;
	tw->rcv_nxt = tp->rcv_nxt;
	tw->rcv_wnd = tcp_receive_window(tp);
	tw->rcv_wscale = tp->rcv_wscale;
	tw->tstamp_ok = tp->tstamp_ok;
	tw->ts_recent = tp->ts_recent;
	tw->ts_recent_stamp = tp->ts_recent_stamp;
	tw->ts_offset = tp->ts_offset;
	tw->last_oow_ack = tp->last_oow_ack;
	tw->ttl = (int16_t)sk->ttl;
	tw->tos = sk->tos;
	tw->bound_dev_if = sk->bound_dev_if;
	tw->reuseaddr = sk->reuseaddr;
	tw->reuseport = sk->reuseport;
	tw->bound = tcp_port_from_bind(sk);
	st->tcp.tw_count++;
	tw_grow(st);
	list_add(&tw->hash_node, tw_chain(st, tw->laddr, tw->lport, tw->faddr,
					  tw->fport));
	list_add_tail(&tw->bind_node,
		      tcp_tw_port_list(st, tw->num, tw->bound));
	list_init(&tw->expire_node);
	tw_schedule(st, tw);
	return true;
}

/* ---- segments ------------------------------------------------------------- */

void tcp_tw_send_ack(struct ustack *st, const struct tcp_tw *tw,
		     const struct sk_buff *skb)
{
	struct tcp_out a = { 0 };
	struct ip_options ro;
	uint32_t win = tw->rcv_wnd >> tw->rcv_wscale;

	/* The IP options are the echo of the segment's, not the
	 * connection's (an entry keeps none): Linux's tcp_v4_send_ack hands
	 * them to ip_send_unicast_reply, which sends nothing when the echo
	 * cannot be made (ip_options_echo). */
	if (ip_options_echo(st, &ro, skb_network_header(skb)) < 0)
		return;
	a.ipopt = ro.optlen ? &ro : NULL;

	a.saddr = tw->laddr;
	a.daddr = tw->faddr;
	a.sport = tw->lport;
	a.dport = tw->fport;
	a.seq = tw->snd_nxt;
	a.ack = tw->rcv_nxt;
	a.flags = TCPHDR_ACK;
	a.window = (uint16_t)(win > TCP_MAX_WINDOW ? TCP_MAX_WINDOW : win);
	a.ttl = tw->ttl < 0 ? 0 : (uint8_t)tw->ttl;
	a.tos = tw->tos;
	a.oif = tw->bound_dev_if;
	if (tw->tstamp_ok) {
		a.opts.ts_ok = true;
		a.opts.tsval = (uint32_t)(st->now / 1000) + tw->ts_offset;
		a.opts.tsecr = tw->ts_recent;
	}
	tcp_send_out(st, &a);
}

/* ACK an invalid segment, within tcp_invalid_ratelimit; skb freed. */
static void tw_ack_oow(struct ustack *st, struct tcp_tw *tw,
		       struct sk_buff *skb, const struct tcp_seg *th,
		       uint32_t seglen)
{
	/* Linux's tcp_oow_rate_limited: a segment with data (or a FIN) is
	 * not part of an ACK loop and is always answered. */
	if ((seglen && !(th->flags & TCPHDR_SYN)) ||
	    !tcp_oow_limited(st, &tw->last_oow_ack))
		tcp_tw_send_ack(st, tw, skb);
	us_drop(st, skb, US_DROP_TCP_INVALID_SEQ);
}

/*
 * RFC 7323 §5.3 R1 as Linux's tcp_paws_reject applies it here: a TSval
 * older than TS.Recent is an old duplicate, unless TS.Recent is invalid
 * (older than 24 days, or 0), or the segment is a RST and TS.Recent is
 * older than an MSL.
 */
static bool tw_paws_reject(struct ustack *st, const struct tcp_tw *tw,
			   const struct tcp_seg *th)
{
	if (tcp_paws_fresh(tw->ts_recent, tw->ts_recent_stamp, th->opts.tsval,
			   0, st->now))
		return false;
	return !((th->flags & TCPHDR_RST) &&
		 st->now - tw->ts_recent_stamp >= TCP_PAWS_MSL_US);
}

uint32_t tcp_tw_state_process(struct ustack *st, struct tcp_tw *tw,
			      struct sk_buff *skb, const struct tcp_seg *th,
			      uint32_t seglen)
{
	uint32_t seq = TCP_SKB_CB(skb)->seq;
	bool saw_ts = tw->tstamp_ok && th->opts.ts_ok;
	bool paws_reject = saw_ts && tw_paws_reject(st, tw, th);
	bool rst = th->flags & TCPHDR_RST;

	/* In sequence, only a bare ACK or a RST at RCV.NXT. The RST ends
	 * TIME_WAIT early (Linux with tcp_rfc1337 = 0: RFC 1337's hazard
	 * accepted); the ACK restarts the wait and gets no answer, which
	 * could only start an ACK loop with a peer in TIME_WAIT too. */
	if (!paws_reject && seq == tw->rcv_nxt && (seglen == 0 || rst)) {
		if (rst) {
			tcp_tw_kill(st, tw);
			us_drop(st, skb, US_DROP_TCP_RESET);
			return 0;
		}
		tw_schedule(st, tw);
		if (saw_ts) {
			tw->ts_recent = th->opts.tsval;
			tw->ts_recent_stamp = st->now;
		}
		skb_free(skb);
		return 0;
	}
	/* RFC 9293 §3.10.7.4 note / RFC 6191: a new SYN above the old
	 * sequence space, or with a newer timestamp, may reopen the pair.
	 * Its ISN starts above everything the old one sent (Linux's
	 * choice), so that old duplicates cannot be taken for new. */
	if ((th->flags & (TCPHDR_SYN | TCPHDR_RST | TCPHDR_ACK)) == TCPHDR_SYN &&
	    !paws_reject && (seq_gt(seq, tw->rcv_nxt) ||
			     (saw_ts &&
			      (int32_t)(tw->ts_recent - th->opts.tsval) < 0))) {
		uint32_t isn = tw->snd_nxt + 65535 + 2;

		return isn ? isn : 1;
	}
	if (paws_reject)
		us_mib_inc(st, US_MIB_TCP_PAWS_TW_REJECTED);
	if (rst) {
		us_drop(st, skb, US_DROP_TCP_RESET);
		return 0;
	}
	/* Anything else, a retransmitted FIN above all, is ACKed; an ACK
	 * (or a segment PAWS refused) restarts the 2 MSL wait. A SYN
	 * without ACK below RCV.NXT may be a new connection's with a
	 * random ISN: it does not. */
	if (paws_reject || (th->flags & TCPHDR_ACK))
		tw_schedule(st, tw);
	tw_ack_oow(st, tw, skb, th, seglen);
	return 0;
}
