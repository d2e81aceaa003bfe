/*
 * tcp_fastopen.c - TCP Fast Open (RFC 7413): data in the SYN, taken by the
 * server before the handshake ends, for a client that holds a cookie the
 * server gave it on an earlier connection. Linux's tcp_fastopen.c is the
 * model, knob for knob (net.ipv4.tcp_fastopen's bits, the cookie's
 * algorithm, the socket options), so that either stack serves the other.
 *
 * Server (RFC 7413 §4.2), from tcp_listen_input: a SYN asking for a cookie
 * (an empty option) gets one in the SYN-ACK; a SYN with a valid cookie
 * makes a child that holds the SYN's data, is offered to accept() at once
 * and may read and write while its SYN-ACK is unanswered
 * (tp->fastopen_child); an invalid cookie gets the valid one back and
 * the data is not taken (the client sends it again after the handshake).
 * The cookie is Linux's: SipHash-2-4 of the SYN's source and destination
 * addresses, keyed by net.ipv4.tcp_fastopen_key, 8 bytes, so a key set
 * alike on both stacks gives the same cookie.
 *
 * Client (RFC 7413 §4.1), from connect (tcp_send_syn): a write with
 * MSG_FASTOPEN connects and puts the data in the SYN, with the cookie the
 * instance learnt from that server (tcp_fastopen_cache); without one, the
 * SYN asks for a cookie and the data waits for the handshake.
 * TCP_FASTOPEN_CONNECT makes connect() return at once and the first write
 * carry its data in the SYN. The SYN-ACK's cookie is kept; data it does
 * not acknowledge is sent again at once (tcp_fastopen_synack).
 *
 * A socket's own key (TCP_FASTOPEN_KEY) is kept beside it (sock_ext), as
 * few have one.
 *
 * Not modelled: Linux's blackhole detection
 * (tcp_fastopen_blackhole_timeout_sec, 0 by default since 5.14); the 60 s
 * a reset Fast Open request keeps its place in the queue (rskq_rst);
 * routes' fastopen_no_cookie; TCP_INFO's tcpi_fastopen_client_fail. An
 * accepted child leaves its listener's Fast Open count at accept(), not
 * at its handshake's end (a child keeps no link to its listener after
 * accept()).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/iov.h"
#include "net/tcp/tcp.h"
#include "stack/stack.h"

/* Cookies learnt, one per (source, destination) pair as Linux keeps them
 * with its TCP metrics; the least recently used goes when full. */
#define TCP_FASTOPEN_CACHE 256

struct tcp_fastopen_entry {
	uint32_t saddr, daddr;     /* 0/0: free */
	us_time_t used;
	uint16_t mss;              /* the server's, for the SYN's data */
	/* A request went unanswered: ask in the other form next (1: the
	 * experimental one; 2: back to RFC 7413's; Linux's try_exp). */
	uint8_t try_exp;
	struct tcp_fastopen_cookie cookie;
};

struct tcp_fastopen_cache {
	struct tcp_fastopen_entry e[TCP_FASTOPEN_CACHE];
};

#define TCP_FASTOPEN_COOKIE_SIZE 8   /* the cookies this server makes */

void tcp_fastopen_exit(struct ustack *st)
{
	free(st->tcp.fo_cache);
	st->tcp.fo_cache = NULL;
}

/* The key a listener's cookies are made with: its own, else the
 * instance's (Linux's tcp_fastopen_get_ctx). */
static const struct us_fastopen_keys *tcp_fastopen_keys(const struct sock *sk)
{
	const struct sock_ext *e = sock_ext(sk, false);

	return e && e->fastopen_key.n ? &e->fastopen_key
				      : &sk->st->sysctl.tcp_fastopen_key;
}

/* Linux's do_tcp_setsockopt: 16 bytes, or 32 with the second key, taken
 * as they are (the sysctl's words are these bytes little-endian), on a
 * socket in any state (tcp_fastopen_reset_cipher). */
int tcp_fastopen_set_key(struct sock *sk, const void *key, unsigned int len)
{
	struct us_fastopen_keys *k;
	struct sock_ext *e;
	const uint8_t *b = key;

	if (len != 16 && len != 32)
		return -EINVAL;
	if (!key)
		return -EFAULT;
	e = sock_ext(sk, true);
	if (!e)
		return -ENOMEM;
	k = &e->fastopen_key;
	memset(k, 0, sizeof(*k));
	for (unsigned int i = 0; i < len / 4; i++)
		k->w[i] = b[4 * i] | (unsigned int)b[4 * i + 1] << 8 |
			  (unsigned int)b[4 * i + 2] << 16 |
			  (unsigned int)b[4 * i + 3] << 24;
	k->n = (int)(len / 16);
	return 0;
}

int tcp_fastopen_get_key(struct sock *sk, uint8_t key[32])
{
	const struct sock_ext *e = sock_ext(sk, false);

	if (!e)
		return 0;
	for (int i = 0; i < 4 * e->fastopen_key.n; i++)
		for (int j = 0; j < 4; j++)
			key[4 * i + j] =
				(uint8_t)(e->fastopen_key.w[i] >> (8 * j));
	return e->fastopen_key.n;
}

/* ---- the server's cookie ------------------------------------------------- */

/* A key is made at first use when none was set (Linux's
 * tcp_fastopen_init_key_once). */
static void tcp_fastopen_key_init(struct ustack *st)
{
	struct us_fastopen_keys *k = &st->sysctl.tcp_fastopen_key;

	if (k->n)
		return;
	for (int i = 0; i < 4; i += 2) {
		uint64_t r = us_rng_next(&st->rng);

		k->w[i] = (unsigned int)r;
		k->w[i + 1] = (unsigned int)(r >> 32);
	}
	k->n = 1;
}

/*
 * Linux's __tcp_fastopen_cookie_gen_cipher: SipHash-2-4 of the SYN's
 * source and destination addresses (network order), keyed by the key's
 * four words as little-endian bytes; the 8 bytes of the hash, little
 * endian.
 */
static void tcp_fastopen_cookie_gen(const struct us_fastopen_keys *keys,
				    int key, uint32_t saddr, uint32_t daddr,
				    struct tcp_fastopen_cookie *foc)
{
	const unsigned int *w = &keys->w[4 * key];
	struct us_siphash_key k = {
		.k0 = w[0] | (uint64_t)w[1] << 32,
		.k1 = w[2] | (uint64_t)w[3] << 32,
	};
	uint32_t addrs[2] = { saddr, daddr };
	uint64_t h = us_siphash(&k, addrs, sizeof(addrs));

	for (int i = 0; i < TCP_FASTOPEN_COOKIE_SIZE; i++)
		foc->val[i] = (uint8_t)(h >> (8 * i));
	foc->len = TCP_FASTOPEN_COOKIE_SIZE;
}

/* Which key made the SYN's cookie: 1 the first, 2 the second, 0 none;
 * valid gets the first's (Linux's tcp_fastopen_cookie_gen_check). */
static int tcp_fastopen_cookie_check(const struct us_fastopen_keys *keys,
				     uint32_t saddr, uint32_t daddr,
				     const struct tcp_opts *o,
				     struct tcp_fastopen_cookie *valid)
{
	struct tcp_fastopen_cookie other;

	tcp_fastopen_cookie_gen(keys, 0, saddr, daddr, valid);
	if (o->fo_len != TCP_FASTOPEN_COOKIE_SIZE)
		return 0;
	if (!memcmp(o->fo_cookie, valid->val, TCP_FASTOPEN_COOKIE_SIZE))
		return 1;
	if (keys->n < 2)
		return 0;
	tcp_fastopen_cookie_gen(keys, 1, saddr, daddr, &other);
	return memcmp(o->fo_cookie, other.val, TCP_FASTOPEN_COOKIE_SIZE) ? 0
									  : 2;
}

/* Room for one more child in SYN_RECV (Linux's tcp_fastopen_queue_check). */
static bool tcp_fastopen_queue_check(struct sock *lsk)
{
	struct tcp_sock *ltp = tcp_sk(lsk);

	if (!ltp->fastopen_max_qlen)
		return false;
	if (ltp->fastopen_qlen >= ltp->fastopen_max_qlen) {
		us_mib_inc(lsk->st, US_MIB_TCP_FASTOPEN_LISTEN_OVERFLOW);
		return false;
	}
	return true;
}

/* A sysctl bit, or the socket's TCP_FASTOPEN_NO_COOKIE (Linux's
 * tcp_fastopen_no_cookie). */
static bool tcp_fastopen_no_cookie(const struct sock *sk, int bit)
{
	return (sk->st->sysctl.tcp_fastopen & bit) ||
	       tcp_sk((struct sock *)sk)->fastopen_no_cookie;
}

/*
 * A SYN came to a listener (Linux's tcp_try_fastopen): true when it opens
 * a Fast Open connection, its data to be taken at once. *reply is the
 * option for the SYN-ACK (len -1: none): a cookie asked for, or the
 * valid one for a client whose cookie is wrong or made by the second
 * key.
 */
bool tcp_try_fastopen(struct sock *lsk, const struct sk_buff *skb,
		      const struct tcp_seg *th,
		      struct tcp_fastopen_cookie *reply)
{
	const struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	const uint8_t *iph = skb_network_header(skb);
	struct ustack *st = lsk->st;
	bool syn_data = cb->end_seq != cb->seq + 1;
	int asked = th->opts.fo_ok ? th->opts.fo_len : -1;
	const struct us_fastopen_keys *keys;
	uint32_t saddr, daddr;
	int key = 0;

	reply->len = -1;
	if (asked == 0)
		us_mib_inc(st, US_MIB_TCP_FASTOPEN_COOKIE_REQD);
	if (!(st->sysctl.tcp_fastopen & US_TFO_SERVER_ENABLE) ||
	    !(syn_data || asked >= 0) || !tcp_fastopen_queue_check(lsk))
		return false;
	tcp_fastopen_key_init(st);
	keys = tcp_fastopen_keys(lsk);
	memcpy(&saddr, iph + 12, 4);
	memcpy(&daddr, iph + 16, 4);
	if (!tcp_fastopen_no_cookie(lsk, US_TFO_SERVER_COOKIE_NOT_REQD)) {
		struct tcp_fastopen_cookie valid;

		if (asked < 0)
			return false;
		if (asked == 0) {
			tcp_fastopen_cookie_gen(keys, 0, saddr, daddr, reply);
			reply->exp = th->opts.fo_exp;
			return false;
		}
		key = tcp_fastopen_cookie_check(keys, saddr, daddr, &th->opts,
						&valid);
		if (!key) {
			us_mib_inc(st, US_MIB_TCP_FASTOPEN_PASSIVE_FAIL);
			*reply = valid;
			reply->exp = th->opts.fo_exp;
			return false;
		}
		/* A client of the second key learns the first's. */
		if (key == 2) {
			*reply = valid;
			reply->exp = th->opts.fo_exp;
		}
	}
	us_mib_inc(st, US_MIB_TCP_FASTOPEN_PASSIVE);
	return true;
}

/* The handshake's ACK came (in SYN_RECV, or FIN_WAIT1 when closed
 * before it): the SYN-ACK's timer is over, data in flight has the RTO,
 * and the listener's queue has room again (Linux's
 * tcp_rcv_synrecv_state_fastopen). */
void tcp_fastopen_synack_done(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tcp_fastopen_child_done(tp);
	tcp_info_fastopen_done(sk);
	tp->fastopen_child = false;
	tp->retransmits = 0;
	tp->backoff = 0;
	tcp_rearm_rto(sk);
}

/* A listener's child stops counting in its Fast Open queue. */
void tcp_fastopen_child_done(struct tcp_sock *tp)
{
	if (tp->fastopen_child && tp->parent &&
	    tp->parent->fastopen_qlen > 0)
		tp->parent->fastopen_qlen--;
}

/* TCP_FASTOPEN on a socket about to listen or listening (Linux's
 * fastopen_queue_tune: at most net.core.somaxconn). */
int tcp_fastopen_set_qlen(struct sock *sk, int val)
{
	if (val < 0 || (sk->state != TCP_CLOSE && sk->state != TCP_LISTEN))
		return -EINVAL;
	tcp_fastopen_key_init(sk->st);
	tcp_sk(sk)->fastopen_max_qlen =
		(uint16_t)((unsigned int)val < US_SOMAXCONN ? (unsigned int)val
							    : US_SOMAXCONN);
	return 0;
}

/* listen(): with net.ipv4.tcp_fastopen's 0x400 and 0x2, every listener
 * serves Fast Open, its queue the backlog's (Linux's inet_listen). */
void tcp_fastopen_listen(struct sock *sk, int backlog)
{
	int tfo = sk->st->sysctl.tcp_fastopen;

	if ((tfo & US_TFO_SERVER_WO_SOCKOPT1) && (tfo & US_TFO_SERVER_ENABLE) &&
	    !tcp_sk(sk)->fastopen_max_qlen)
		tcp_fastopen_set_qlen(sk, backlog);
}

/* ---- the client's cookies ------------------------------------------------ */

/* The write whose data sk's SYN takes, if any (tcp_sockops.c sets it
 * while it connects sk, under the core lock). */
static struct tcp_fastopen_req *tcp_fastopen_req_of(const struct sock *sk)
{
	struct tcp_fastopen_req *req = sk->st->tcp.fo_req;

	return req && req->sk == sk ? req : NULL;
}

static struct tcp_fastopen_entry *tcp_fastopen_find(struct sock *sk,
						    bool make)
{
	struct tcp_fastopen_cache *c = sk->st->tcp.fo_cache;
	struct tcp_fastopen_entry *e, *lru = NULL;

	if (!c) {
		if (!make)
			return NULL;
		c = calloc(1, sizeof(*c));
		if (!c)
			return NULL;
		sk->st->tcp.fo_cache = c;
	}
	for (e = c->e; e < c->e + TCP_FASTOPEN_CACHE; e++) {
		if (e->saddr == sk->saddr && e->daddr == sk->daddr &&
		    (e->saddr || e->daddr))
			return e;
		if (!lru || e->used < lru->used)
			lru = e;
	}
	if (!make)
		return NULL;
	memset(lru, 0, sizeof(*lru));
	lru->saddr = sk->saddr;
	lru->daddr = sk->daddr;
	lru->cookie.len = -1;
	return lru;
}

/* What the SYN-ACK taught (Linux's tcp_fastopen_cache_set): its MSS,
 * its cookie if it had one. */
static void tcp_fastopen_cache_set(struct sock *sk, uint16_t mss,
				   const struct tcp_fastopen_cookie *cookie,
				   uint8_t try_exp)
{
	struct tcp_fastopen_entry *e = tcp_fastopen_find(sk, true);

	if (!e)
		return;
	e->used = sk->st->now;
	if (mss)
		e->mss = mss;
	if (cookie->len > 0)
		e->cookie = *cookie;
	else if (try_exp > e->try_exp && e->cookie.len <= 0 &&
		 !e->cookie.exp)
		e->try_exp = try_exp;
}

/* A cookie request in the experimental form (Linux's tcp_fastopen_cache_get:
 * try_exp 1, no cookie yet). */
static bool tcp_fastopen_try_exp(const struct tcp_fastopen_entry *e)
{
	return e && e->cookie.len <= 0 && e->try_exp == 1;
}

/*
 * May the SYN carry data (Linux's tcp_fastopen_cookie_check)? With a
 * cookie for the server, or where none is needed (net.ipv4.tcp_fastopen
 * 0x4, TCP_FASTOPEN_NO_COOKIE: then no option). *foc is the option the
 * SYN carries: the cookie, none, or (false) a request; *mss the server's
 * MSS learnt with it, 0 if none.
 */
static bool tcp_fastopen_cookie_ok(struct sock *sk, uint16_t *mss,
				   struct tcp_fastopen_cookie *foc)
{
	struct tcp_fastopen_entry *e = tcp_fastopen_find(sk, false);

	*mss = e ? e->mss : 0;
	foc->len = 0;
	foc->exp = tcp_fastopen_try_exp(e);
	if (tcp_fastopen_no_cookie(sk, US_TFO_CLIENT_NO_COOKIE)) {
		foc->len = -1;
		return true;
	}
	if (e && e->cookie.len > 0) {
		e->used = sk->st->now;
		*foc = e->cookie;
		return true;
	}
	tcp_sk(sk)->fo_client_fail = 1;   /* (Linux's TFO_COOKIE_UNAVAILABLE) */
	return false;
}

/* connect() with TCP_FASTOPEN_CONNECT and a cookie: no SYN yet, the first
 * write sends it with its data (Linux's tcp_fastopen_defer_connect). */
bool tcp_fastopen_defer_connect(struct sock *sk)
{
	struct tcp_fastopen_cookie foc;
	uint16_t mss;

	if (!tcp_sk(sk)->fastopen_connect || tcp_fastopen_req_of(sk) ||
	    !tcp_fastopen_cookie_ok(sk, &mss, &foc))
		return false;
	tcp_sk(sk)->defer_connect = true;
	return true;
}

/*
 * The option and data room of the SYN a connect() sends (Linux's
 * tcp_send_syn_data): with a write waiting (MSG_FASTOPEN, or
 * TCP_FASTOPEN_CONNECT) the SYN carries the cookie and as much data as a
 * segment to the server holds with 40 bytes of options spared, or the
 * request for a cookie and none. Returns the room.
 */
size_t tcp_fastopen_syn(struct sock *sk, struct tcp_fastopen_cookie *foc)
{
	struct tcp_fastopen_req *req = tcp_fastopen_req_of(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	uint16_t mss;
	size_t room;

	foc->len = -1;
	if (!req && !tp->fastopen_connect)
		return 0;
	if (!tcp_fastopen_cookie_ok(sk, &mss, foc) || !req)
		return 0;
	/* Linux's __tcp_mtu_to_mss bounded by the MSS learnt (none: our
	 * own, tcp_send_syn_data's "if MSS is not cached"), less the
	 * options' most. */
	room = tp->advmss;
	if (!mss)
		mss = tp->advmss;
	if (room > mss)
		room = mss;
	if (tp->user_mss && room > tp->user_mss)
		room = tp->user_mss;
	room = room > 40 + 8 ? room - 40 : 8;
	return room < req->len ? room : req->len;
}

/* The write's first `room` bytes into the SYN (skb), which then ends
 * after them. 0 if the user's buffer faulted: the SYN goes without. */
size_t tcp_fastopen_syn_data(struct sock *sk, struct sk_buff *skb,
			     size_t room)
{
	struct tcp_fastopen_req *req = tcp_fastopen_req_of(sk);

	if (!req || !room || iov_copy_from(skb->tail, req->msg, 0, room) < 0)
		return 0;
	skb_put(skb, (unsigned int)room);
	sk->write_queue.bytes += room;
	TCP_SKB_CB(skb)->end_seq += (uint32_t)room;
	tcp_sk(sk)->write_seq += (uint32_t)room;
	req->copied = room;
	return room;
}

/*
 * A SYN that carries data is to go again, or is acknowledged without all
 * of it: the data becomes a segment of its own behind it (Linux keeps the
 * two apart from the start). RFC 7413 §4.1.3: the SYN goes again without
 * the data.
 */
int tcp_fastopen_split_syn(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_skb_cb *cb = TCP_SKB_CB(skb);
	struct sk_buff *n;

	if (!(cb->flags & TCPHDR_SYN) || !skb->len)
		return 0;
	n = us_skb_alloc(sk->st, skb->len);
	if (!n)
		return -ENOBUFS;
	memcpy(skb_put(n, skb->len), skb->data, skb->len);
	memcpy(TCP_SKB_CB(n), cb, sizeof(*cb));
	TCP_SKB_CB(n)->seq = cb->seq + 1;
	TCP_SKB_CB(n)->flags = TCPHDR_PSH;
	TCP_SKB_CB(n)->carved = 0;
	TCP_SKB_CB(n)->tw_isn = 0;
	sk->write_queue.bytes -= skb->len;
	skb_trim(skb, 0);
	cb->end_seq = cb->seq + 1;
	sk->wmem_alloc += (int)n->truesize;
	skb_queue_after(&sk->write_queue, skb, n);
	tcp_count_piece(tcp_sk(sk), TCP_SKB_CB(n)); /* in flight, its marks */
	return 0;
}

/*
 * The SYN-ACK of a connection whose SYN carried the option or data
 * (Linux's tcp_rcv_fastopen_synack), after its ACK was taken: the cookie
 * and MSS are kept for the next connection; data it did not acknowledge
 * goes again at once, carrying the handshake's ACK (true: no other ACK is
 * needed).
 */
bool tcp_fastopen_synack(struct sock *sk, const struct tcp_seg *th,
			 bool syn_data)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_fastopen_cookie foc = { .len = -1 };
	bool unacked = seq_lt(tp->snd_una, tp->snd_max);
	uint8_t try_exp = 0;

	if (tp->syn_fastopen && th->opts.fo_ok && th->opts.fo_len) {
		foc.len = (int8_t)th->opts.fo_len;
		foc.exp = th->opts.fo_exp;
		memcpy(foc.val, th->opts.fo_cookie, th->opts.fo_len);
	} else if (tp->syn_fastopen && !syn_data && !tp->total_retrans) {
		/* A request answered without a cookie: the other form next
		 * time (the form ours had is the entry's, unchanged since). */
		try_exp = tcp_fastopen_try_exp(tcp_fastopen_find(sk, false))
			  ? 2 : 1;
	}
	tcp_fastopen_cache_set(sk, th->opts.mss_ok ? th->opts.mss : 0, &foc,
			       try_exp);
	if (unacked) {
		/* Sent again at once, then timed by the RTO, not a loss
		 * probe (Linux's tcp_non_congestion_loss_retransmit: the
		 * loss state, whose retransmission re-arms the RTO). */
		us_mib_inc(sk->st, US_MIB_TCP_FASTOPEN_ACTIVE_FAIL);
		/* (Linux's TFO_SYN_RETRANSMITTED, TFO_DATA_NOT_ACKED) */
		tp->fo_client_fail = tp->total_retrans ? 3 : 2;
		tcp_retransmit_head(sk);
		tcp_tlp_reset(tp);
		tcp_reset_rto_timer(sk);
		return true;
	}
	tp->syn_data_acked = syn_data;
	if (syn_data)
		us_mib_inc(sk->st, US_MIB_TCP_FASTOPEN_ACTIVE);
	return false;
}
