/*
 * tcp.c - TCP's protocol-level socket calls (connect, sendmsg, recvmsg,
 * close, shutdown, options), the state change function, and the tables
 * that find a connection or a listener for a segment (see tcp.h).
 */
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_cong.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "core/iov.h"
#include "net/af_inet.h"
#include "net/ip_options.h"
#include "net/ipv4.h"
#include "stack/stack.h"

static const struct net_protocol tcp_protocol = {
	.handler = tcp_v4_rcv,
	.err_handler = tcp_v4_err,
	.pmtu_changed = tcp_pmtu_sync_all,
};

void tcp_init(struct ustack *st)
{
	struct tcp_table *t = &st->tcp;

	for (int i = 0; i < TCP_BHASH; i++) {
		list_init(&t->bind[i]);
		list_init(&t->listen[i]);
	}
	for (int i = 0; i < TCP_EHASH; i++)
		list_init(&t->ehash_first[i]);
	t->ehash = t->ehash_first;
	t->ehash_mask = TCP_EHASH - 1;
	t->secret.k0 = us_rng_next(&st->rng);
	t->secret.k1 = us_rng_next(&st->rng);
	tcp_port_init(st);
	t->msl_us = 30 * US_USEC_PER_SEC;
	tcp_tw_init(st);
	ip_register_protocol(st, IPPROTO_TCP, &tcp_protocol);
}

/*
 * Connections the user already closed live on only in the tables (FIN_WAIT,
 * TIME_WAIT, ...); when the instance goes, so do they. Sockets still open
 * were closed by ustack_destroy() before this.
 */
void tcp_exit(struct ustack *st)
{
	for (uint32_t i = 0; i <= st->tcp.ehash_mask; i++) {
		while (!list_empty(&st->tcp.ehash[i])) {
			struct tcp_sock *tp = list_entry(st->tcp.ehash[i].next,
							 struct tcp_sock,
							 ehash_node);

			tcp_done(&tp->sk);
		}
	}
	tcp_tw_exit(st);
	tcp_fastopen_exit(st);
	if (st->tcp.ehash != st->tcp.ehash_first)
		free(st->tcp.ehash);
}

/* ---- tables ------------------------------------------------------------- */

uint32_t tcp_tuple_hash(const struct tcp_table *t, uint32_t laddr,
			uint16_t lport, uint32_t faddr, uint16_t fport)
{
	struct {
		uint32_t laddr, faddr;
		uint16_t lport, fport;
	} k = { laddr, faddr, lport, fport };

	return (uint32_t)us_siphash(&t->secret, &k, sizeof(k));
}

static uint32_t tcp_ehashfn(const struct tcp_table *t, uint32_t laddr,
			    uint16_t lport, uint32_t faddr, uint16_t fport)
{
	return tcp_tuple_hash(t, laddr, lport, faddr, fport) & t->ehash_mask;
}

/*
 * Twice the chains once there are more than four socks a chain, so that a
 * lookup (every segment, and connect()'s port search, which misses and so
 * walks a whole chain) stays short with many connections in TIME_WAIT.
 * Linux sizes its table once from the memory; we grow from small, so that
 * an instance with few connections stays small (the chains cost 4 to 8
 * bytes a connection). Without memory the table keeps its size: slower,
 * still right.
 */
static void tcp_ehash_grow(struct tcp_table *t)
{
	uint32_t n = (t->ehash_mask + 1) * 2;
	struct list_head *old = t->ehash, *nt = malloc(n * sizeof(*nt));
	uint32_t old_n = t->ehash_mask + 1;

	if (!nt)
		return;
	for (uint32_t i = 0; i < n; i++)
		list_init(&nt[i]);
	t->ehash = nt;
	t->ehash_mask = n - 1;
	for (uint32_t i = 0; i < old_n; i++) {
		while (!list_empty(&old[i])) {
			struct tcp_sock *tp = list_entry(old[i].next,
							 struct tcp_sock,
							 ehash_node);
			struct sock *sk = &tp->sk;

			list_del(&tp->ehash_node);
			list_add(&tp->ehash_node,
				 &nt[tcp_ehashfn(t, sk->rcv_saddr, sk->sport,
						 sk->daddr, sk->dport)]);
		}
	}
	if (old != t->ehash_first)
		free(old);
}

void tcp_ehash_add(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_table *t = &sk->st->tcp;

	if (tp->hashed)
		return;
	if (t->ehash_count / 4 > t->ehash_mask &&
	    t->ehash_mask < TCP_EHASH_MAX - 1)
		tcp_ehash_grow(t);
	list_add(&tp->ehash_node, &t->ehash[tcp_ehashfn(t, sk->rcv_saddr,
		 sk->sport, sk->daddr, sk->dport)]);
	t->ehash_count++;
	tp->hashed = true;
	t->ehash_last = NULL;
	sock_hold(sk);   /* the table's reference, dropped by tcp_done() */
}

static void tcp_ehash_del(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (!tp->hashed)
		return;
	list_del(&tp->ehash_node);
	sk->st->tcp.ehash_count--;
	tp->hashed = false;
	sk->st->tcp.ehash_last = NULL;
}

static bool tcp_ehash_match(const struct sock *sk, uint32_t saddr,
			    uint16_t sport, uint32_t daddr, uint16_t dport,
			    int dif)
{
	return sk->daddr == saddr && sk->dport == sport &&
	       sk->rcv_saddr == daddr && sk->sport == dport &&
	       tcp_dev_match(sk->bound_dev_if, dif);
}

/*
 * A bulk flow sends segment after segment to the same sock, so the last
 * hit is checked first (on the whole 4-tuple) before the keyed hash is
 * computed: the SipHash key still decides where every entry lives, so the
 * table keeps its resistance to flooding. The memo is dropped whenever the
 * table changes, so it only ever holds what a full lookup would return.
 */
struct sock *tcp_lookup_established(struct ustack *st, uint32_t saddr,
				    uint16_t sport, uint32_t daddr,
				    uint16_t dport, int dif)
{
	struct tcp_table *t = &st->tcp;
	struct sock *last = t->ehash_last;
	struct list_head *head, *pos;

	if (last && tcp_ehash_match(last, saddr, sport, daddr, dport, dif))
		return last;
	head = &t->ehash[tcp_ehashfn(t, daddr, dport, saddr, sport)];
	list_for_each(pos, head) {
		struct tcp_sock *tp = list_entry(pos, struct tcp_sock, ehash_node);
		struct sock *sk = &tp->sk;

		if (tcp_ehash_match(sk, saddr, sport, daddr, dport, dif)) {
			t->ehash_last = sk;
			return sk;
		}
	}
	return NULL;
}

/*
 * The listener on dport (Linux's __inet_lookup_listener): one bound to
 * daddr beats a wildcard; among either, one bound to the device the
 * segment came in on (dif) beats one bound to none, and one bound to
 * another device is not a candidate (compute_score).
 */
struct sock *tcp_lookup_listener(struct ustack *st, uint32_t daddr,
				 uint16_t dport, int dif)
{
	uint16_t hnum = ntohs(dport);
	struct sock *best[2] = { NULL, NULL };   /* exact, wildcard */
	struct list_head *pos;

	list_for_each(pos, &st->tcp.listen[hnum % TCP_BHASH]) {
		struct tcp_sock *tp = list_entry(pos, struct tcp_sock, listen_node);
		struct sock *sk = &tp->sk;
		int k = sk->rcv_saddr == daddr ? 0 : 1;

		if (sk->num != hnum || (k && sk->rcv_saddr) ||
		    !tcp_dev_match(sk->bound_dev_if, dif))
			continue;
		if (!best[k] || (sk->bound_dev_if && !best[k]->bound_dev_if))
			best[k] = sk;
	}
	return best[0] ? best[0] : best[1];
}

struct sock *tcp_reuseport_listener(struct sock *sk, const struct sk_buff *skb,
				    uint32_t saddr, uint16_t sport)
{
	struct sock *sk2;

	if (!sk || !sk->reuseport || !sk->has_ext)
		return sk;
	sk2 = reuseport_select(sk, tcp_tuple_hash(&sk->st->tcp, sk->rcv_saddr,
						  htons(sk->num), saddr, sport),
			       skb, skb->data);
	return sk2 ? sk2 : sk;
}

/*
 * Linux's inet_csk_bind_conflict(): two sockets may share a port when
 * they are bound to two different devices, when their addresses differ,
 * when both set SO_REUSEADDR and the other is not listening, or when both
 * set SO_REUSEPORT.
 */
static bool tcp_bind_conflict_with(const struct sock *sk, int dev2,
				   uint32_t addr2, bool reuseaddr2,
				   bool listen2, bool reuseport2)
{
	if (sk->bound_dev_if && dev2 && sk->bound_dev_if != dev2)
		return false;
	if (sk->rcv_saddr && addr2 && sk->rcv_saddr != addr2)
		return false;
	if (sk->reuseaddr && reuseaddr2 && !listen2)
		return false;
	if (sk->reuseport && reuseport2)
		return false;
	return true;
}

static bool tcp_bind_conflict(const struct sock *sk, const struct sock *sk2)
{
	return tcp_bind_conflict_with(sk, sk2->bound_dev_if, sk2->rcv_saddr,
				      sk2->reuseaddr,
				      sk2->state == TCP_LISTEN, sk2->reuseport);
}

/* A port in TIME_WAIT is held as by its socket (Linux keeps the bind
 * bucket for it): bind() without SO_REUSEADDR on both fails. */
static bool tcp_tw_conflict(struct ustack *st, const struct sock *sk,
			    uint16_t port)
{
	for (int bound = 0; bound < 2; bound++) {
		const struct list_head *pos,
			*head = tcp_tw_port_list(st, port, bound);

		list_for_each(pos, head) {
			const struct tcp_tw *tw =
				list_entry(pos, struct tcp_tw, bind_node);

			if (tw->num == port &&
			    tcp_bind_conflict_with(sk, tw->bound_dev_if,
						   tw->laddr, tw->reuseaddr,
						   false, tw->reuseport))
				return true;
		}
	}
	return false;
}

static bool tcp_chain_conflict(const struct list_head *chain,
			       const struct sock *sk, uint16_t port)
{
	const struct list_head *pos;

	list_for_each(pos, chain) {
		const struct sock *sk2 = list_entry(pos, struct sock, bind_node);

		if (sk2 != sk && sk2->num == port && tcp_bind_conflict(sk, sk2))
			return true;
	}
	return false;
}

/* Every holder of the port counts, whoever chose it. */
static bool tcp_port_conflict(struct ustack *st, const struct sock *sk,
			      uint16_t port)
{
	return tcp_chain_conflict(&st->tcp.bind[port % TCP_BHASH], sk, port) ||
	       tcp_chain_conflict(&st->tcp.cbind[port % TCP_BHASH], sk, port) ||
	       tcp_tw_conflict(st, sk, port);
}

static void tcp_bind_hash(struct sock *sk, uint16_t port)
{
	sk->num = port;
	sk->sport = htons(port);
	list_add_tail(&sk->bind_node, &sk->st->tcp.bind[port % TCP_BHASH]);
}

static void tcp_put_port(struct sock *sk)
{
	if (!sk->num)
		return;
	list_del(&sk->bind_node);
	/* Only the binding goes: getsockname still shows the port, as
	 * Linux's __inet_put_port leaves inet_sport alone. */
	sk->num = 0;
}

/* bind(): a given port, or any free one from the ephemeral range. */
static int tcp_get_port(struct sock *sk, uint16_t snum)
{
	uint32_t lo, hi, range, off;

	if (snum) {
		if (tcp_port_conflict(sk->st, sk, snum))
			return -EADDRINUSE;
		tcp_bind_hash(sk, snum);
		return 0;
	}
	inet_sk_get_local_port_range(sk, &lo, &hi);
	range = hi - lo + 1;
	off = (uint32_t)us_rng_below(&sk->st->rng, range);
	for (uint32_t i = 0; i < range; i++) {
		uint16_t port = (uint16_t)(lo + (off + i) % range);

		if (!tcp_port_conflict(sk->st, sk, port)) {
			tcp_bind_hash(sk, port);
			return 0;
		}
	}
	return -EADDRINUSE;
}

/* ---- connect()'s port ---------------------------------------------------- */

void tcp_port_init(struct ustack *st)
{
	struct tcp_table *t = &st->tcp;

	for (int i = 0; i < TCP_BHASH; i++)
		list_init(&t->cbind[i]);
	/* The counters start at zero: the keyed hash added to them already
	 * makes every start unguessable (Linux fills them at random once;
	 * drawing here would shift every later draw of the instance's
	 * generator, and seeded runs would not replay as before). */
	memset(t->port_perturb, 0, sizeof(t->port_perturb));
}

/*
 * May connect() use `port` towards daddr:dport? Not if bind() or listen()
 * holds it (Linux skips a port whose bind bucket bind() made), nor if the
 * four-tuple is in use, in TIME_WAIT too (__inet_check_established: the
 * tuple is looked up in the connection table, not in the port's owners,
 * so the cost does not grow with the connections in TIME_WAIT).
 */
static bool tcp_connect_port_ok(struct sock *sk, uint16_t port)
{
	struct ustack *st = sk->st;
	struct list_head *pos;

	list_for_each(pos, &st->tcp.bind[port % TCP_BHASH])
		if (list_entry(pos, struct sock, bind_node)->num == port)
			return false;
	list_for_each(pos, tcp_tw_port_list(st, port, true))
		if (list_entry(pos, struct tcp_tw, bind_node)->num == port)
			return false;
	return !tcp_lookup_established(st, sk->daddr, sk->dport,
				       sk->rcv_saddr, htons(port),
				       sk->bound_dev_if) &&
	       !tcp_tw_lookup(st, sk->bound_dev_if, sk->daddr, sk->dport,
			      sk->rcv_saddr, htons(port));
}

/*
 * connect() from a port bind() gave: Linux's __inet_hash_connect hands it
 * to __inet_check_established as it is, and the four-tuple must be free.
 * An entry in TIME_WAIT gives way only when that connection had
 * timestamps (tcp_twsk_unique, called without twp: PAWS tells its
 * segments from the new ones, and for a port the user chose
 * net.ipv4.tcp_tw_reuse is not asked); the new connection then starts
 * past anything the old one may have sent, at SND.NXT + 65535 + 2
 * (*isn; 0 when the ISN is to be chosen as usual), and takes the old
 * one's TS.Recent and its stamp (*twts), so that PAWS keeps its segments
 * out (tcp_rcv_synsent). The entry goes now, before the SYN, as Linux's
 * __inet_check_established deschedules it when it hashes the socket: a
 * connect() failing after that leaves no TIME_WAIT there in Linux either.
 */
static int tcp_connect_bound_ok(struct sock *sk, uint32_t *isn,
				struct tcp_tw *twts)
{
	struct ustack *st = sk->st;
	struct tcp_tw *tw;

	*isn = 0;
	twts->ts_recent = 0;
	twts->ts_recent_stamp = 0;
	if (tcp_lookup_established(st, sk->daddr, sk->dport, sk->rcv_saddr,
				   sk->sport, sk->bound_dev_if))
		return -EADDRNOTAVAIL;
	tw = tcp_tw_lookup(st, sk->bound_dev_if, sk->daddr, sk->dport,
			   sk->rcv_saddr, sk->sport);
	if (!tw)
		return 0;
	if (!tw->tstamp_ok)
		return -EADDRNOTAVAIL;
	*isn = tw->snd_nxt + 65535 + 2;
	if (!*isn)
		*isn = 1;
	twts->ts_recent = tw->ts_recent;
	twts->ts_recent_stamp = tw->ts_recent_stamp;
	tcp_tw_kill(st, tw);
	return 0;
}

bool tcp_port_from_bind(const struct sock *sk)
{
	const struct list_head *pos;

	list_for_each(pos, &sk->st->tcp.cbind[sk->num % TCP_BHASH])
		if (list_entry(pos, struct sock, bind_node) == sk)
			return false;
	return sk->num != 0;
}

/*
 * RFC 6056 §3.3.4 (Algorithm 4, double-hash), as Linux's
 * __inet_hash_connect does it: a keyed hash of the connection's addresses
 * picks both a start in the range and a slot of a table of counters; the
 * search starts at hash + counter and walks forward, ports of the range's
 * low end's parity first (Linux's bind() takes the other first), and the
 * counter moves past the port taken (plus a little noise), so that
 * successive connections to one destination cycle through the whole
 * range instead of probing ports still in TIME_WAIT.
 */
static int tcp_connect_port(struct sock *sk)
{
	struct tcp_table *t = &sk->st->tcp;
	uint32_t lo, hi, remaining;
	/* Every byte hashed is set: padding would make runs differ. */
	struct {
		uint32_t laddr, faddr;
		uint16_t fport, zero;
	} k = { sk->rcv_saddr, sk->daddr, sk->dport, 0 };
	uint64_t h = us_siphash(&t->secret, &k, sizeof(k));
	uint32_t *perturb = &t->port_perturb[h % TCP_PORT_PERTURB];
	uint32_t offset, i, port, step;
	bool own;

	/* net.ipv4.ip_local_port_range (Linux's inet_hash_connect): with
	 * every port of it taken, EADDRNOTAVAIL. Even ports first, odd
	 * ones (bind()'s) after; a socket's own range (IP_LOCAL_PORT_RANGE)
	 * is walked port by port. */
	own = inet_sk_get_local_port_range(sk, &lo, &hi);
	step = own ? 1 : 2;
	remaining = hi - lo + 1;
	if (!own && remaining > 1)
		remaining &= ~1u;
	offset = (*perturb + (uint32_t)(h >> 32)) % remaining;
	if (!own)
		offset &= ~1u;
	for (;;) {
		port = lo + offset;
		for (i = 0; i < remaining; i += step, port += step) {
			if (port > hi)
				port -= remaining;
			if (tcp_connect_port_ok(sk, (uint16_t)port))
				goto found;
		}
		if (own || ++offset % 2 == 0 || remaining <= 1)
			return -EADDRNOTAVAIL;
	}
found:
	/* Linux's: max(i, a random 0..7 steps) + a step. */
	offset = (uint32_t)us_rng_below(&sk->st->rng, 8) * step;
	*perturb += (i > offset ? i : offset) + step;
	sk->num = (uint16_t)port;
	sk->sport = htons(sk->num);
	list_add_tail(&sk->bind_node, &t->cbind[port % TCP_BHASH]);
	return 0;
}

/*
 * RFC 6528 §3: ISN = M + F(localip, localport, remoteip, remoteport,
 * secretkey), M a 4 µs clock, F a keyed hash.
 */
uint32_t tcp_isn(struct ustack *st, uint32_t saddr, uint16_t sport,
		 uint32_t daddr, uint16_t dport)
{
	struct {
		uint32_t saddr, daddr;
		uint16_t sport, dport;
	} k = { saddr, daddr, sport, dport };

	return (uint32_t)us_siphash(&st->tcp.secret, &k, sizeof(k)) +
	       (uint32_t)(st->now / 4);
}

/* ---- state -------------------------------------------------------------- */

void tcp_set_state(struct sock *sk, int state)
{
	sk->state = (uint8_t)state;
}

void tcp_done(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool was_hashed = tp->hashed;
	/*
	 * A child that dies in the SYN queue leaves it, and the queue's
	 * reference goes with it. One on the accept queue (established,
	 * then reset) stays there closed, as on Linux (inet_accept allows
	 * TCP_CLOSE): accept() returns it, and the data it got and its
	 * error are read from it.
	 */
	bool was_queued = tp->parent != NULL &&
			  tp->child_queue != TCP_CHILD_ACCEPTQ;

	tcp_fastopen_child_done(tp);
	tp->fastopen_child = false;
	/* What was sent and not acknowledged is dropped with the
	 * connection: MSG_ZEROCOPY's sends complete (Linux's
	 * tcp_write_queue_purge frees their buffers). */
	sock_zc_complete(sk, 0, true);
	tcp_set_state(sk, TCP_CLOSE);
	sk->shutdown = SHUTDOWN_MASK;
	tcp_orphan_uncount(sk);
	tcp_clear_timers(tp);
	tcp_ehash_del(sk);
	if (!sk->userlocks_port || !sk->sk_socket)
		tcp_put_port(sk);
	if (was_queued)
		tcp_unlink_child(tp);
	if (sk->sk_socket)
		sk_state_change(sk);
	if (was_queued)
		sock_put(sk);
	if (was_hashed)
		sock_put(sk);
}

/* Take a child off its listener's SYN or accept queue. */
void tcp_unlink_child(struct tcp_sock *tp)
{
	struct tcp_sock *parent = tp->parent;

	tcp_fastopen_child_done(tp);
	list_del(&tp->child_node);
	if (tp->child_queue == TCP_CHILD_SYNQ)
		parent->syn_qlen--;
	else if (tp->child_queue == TCP_CHILD_ACCEPTQ)
		parent->accept_qlen--;
	tp->child_queue = TCP_CHILD_NONE;
	tp->parent = NULL;
}

uint32_t tcp_receive_window(const struct tcp_sock *tp)
{
	int32_t win = (int32_t)(tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt);

	return win < 0 ? 0 : (uint32_t)win;
}

/* The send MSS: the peer's announced MSS, our route's, TCP_MAXSEG. */
/* The timestamps' room in every segment: those agreed, or before the
 * SYN-ACK those our SYN offers (Linux's tcp_connect_init counts them in
 * tcp_header_len until tcp_rcv_synsent_state_process knows). */
static uint32_t tcp_mss_ts_room(const struct tcp_sock *tp)
{
	if (!tp->tstamp_ok && tp->ts_offered && !tp->irs_valid)
		return 12;
	return tcp_ts_hdr_extra(tp);
}

void tcp_update_mss(struct tcp_sock *tp)
{
	uint32_t mss = tp->peer_mss;
	uint32_t hop = ip_sock_nexthop(&tp->sk, tp->sk.daddr);
	uint32_t cutoff, pmtu, ipopt_len;

	/* An IPv4 datagram holds at most 65535 - 40 bytes of TCP data;
	 * TCP_MAXSEG lowers the MSS we announce too (Linux's
	 * tcp_mss_clamp). */
	if (tp->advmss > TCP_MAX_MSS)
		tp->advmss = TCP_MAX_MSS;
	if (tp->user_mss && tp->advmss > tp->user_mss)
		tp->advmss = (uint16_t)tp->user_mss;

	if (tp->advmss && tp->advmss < mss)
		mss = tp->advmss;
	if (tp->user_mss && (uint32_t)tp->user_mss < mss)
		mss = (uint32_t)tp->user_mss;
	/* RFC 1191 §3: no segment larger than the path MTU learnt from ICMP
	 * allows (Linux's tcp_sync_mss); the MSS we announced stays. Nor
	 * than the route's device takes now (SIOCSIFMTU may have lowered it
	 * since the connection began: Linux's tcp_current_mss sees dst_mtu
	 * change at the next transmission). Both of the route to the
	 * first hop of a source route (ip_sock_nexthop). */
	pmtu = ip_pmtu_get(tp->sk.st, hop, NULL);
	if (pmtu && pmtu - 40 < mss)
		mss = pmtu - 40;
	pmtu = hop ? ip_route_dev_mtu(tp->sk.st, hop) : 0;
	if (pmtu > 40 && pmtu - 40 < mss)
		mss = pmtu - 40;
	/* The MSS counts no options (RFC 9293 §3.7.1, RFC 6691): those on
	 * every segment come off it, IP's (IP_OPTIONS, Linux's
	 * icsk_ext_hdr_len) after the peer's clamp, then TCP's (Linux's
	 * tcp_mtu_to_mss). */
	ipopt_len = ip_options_len(ip_sock_options(&tp->sk));
	if (mss > ipopt_len)
		mss -= ipopt_len;
	if (mss > tcp_mss_ts_room(tp))
		mss -= tcp_mss_ts_room(tp);
	/* Sender SWS avoidance as Linux does it (tcp_bound_to_half_wnd): no
	 * segment larger than half the largest window the peer offered, so
	 * that such a window always holds two (RFC 1122 §4.2.3.4). */
	cutoff = tp->max_window > TCP_MSS_DEFAULT ? tp->max_window / 2
						  : tp->max_window;
	if (cutoff && mss > cutoff)
		mss = cutoff;
	if (mss < TCP_MIN_SND_MSS)
		mss = TCP_MIN_SND_MSS;
	tp->mss_cache = (uint16_t)mss;
}

static void tcp_init_sock_vars(struct tcp_sock *tp)
{
	struct sock *sk = &tp->sk;

	skb_queue_head_init(&tp->ooo_queue);
	list_init(&tp->child_node);
	list_init(&tp->ehash_node);
	tp->rto_us = TCP_TIMEOUT_INIT_US;
	tp->snd_cwnd = TCP_INIT_CWND;
	tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	tp->peer_mss = TCP_MSS_DEFAULT;
	tp->mss_cache = TCP_MSS_DEFAULT;
	tp->keepidle_s = TCP_KEEPIDLE_S;
	tp->keepintvl_s = TCP_KEEPINTVL_S;
	tp->keepcnt = TCP_KEEPCNT_DEFAULT;
	/* Linux's tcp_rmem[1] and tcp_wmem[1]: autotuning grows both
	 * (tcp_autotune.c), the send buffer to twice the congestion
	 * window from the handshake on (tcp_sndbuf_expand). */
	sk->rcvbuf = sk->st->sysctl.tcp_rmem[1];
	sk->sndbuf = sk->st->sysctl.tcp_wmem[1];
	tcp_init_timers(tp);
	tp->min_rtt_us = UINT32_MAX;   /* (TCP_INFO: no sample yet) */
}

static int tcp_init_sock(struct sock *sk)
{
	tcp_init_sock_vars(tcp_sk(sk));
	tcp_timer_bounds_init(sk);
	tcp_assign_congestion_control(sk);
	return 0;
}

struct sock *tcp_create_child(struct sock *parent)
{
	struct sock *sk = sk_alloc(parent->st, AF_INET, SOCK_STREAM,
				   IPPROTO_TCP, &tcp_prot);
	struct tcp_sock *tp;

	if (!sk)
		return NULL;
	tp = tcp_sk(sk);
	tcp_init_sock_vars(tp);
	/* The listener's socket and IP options (Linux's sk_clone_lock),
	 * and its TCP options: tcp_create_openreq_child starts from a copy
	 * of the listener's tcp_sock, and keeps these. */
	sk_clone_options(sk, parent);
	tp->nodelay = tcp_sk(parent)->nodelay;
	tp->cork = tcp_sk(parent)->cork;
	tp->user_mss = tcp_sk(parent)->user_mss;
	tp->keepidle_s = tcp_sk(parent)->keepidle_s;
	tp->keepintvl_s = tcp_sk(parent)->keepintvl_s;
	tp->keepcnt = tcp_sk(parent)->keepcnt;
	tp->recvmsg_inq = tcp_sk(parent)->recvmsg_inq;
	tp->thin_lto = tcp_sk(parent)->thin_lto;
	tcp_timer_bounds_clone(sk, parent);
	tp->syn_retries = tcp_sk(parent)->syn_retries;
	tp->linger2_s = tcp_sk(parent)->linger2_s;
	tp->user_timeout_ms = tcp_sk(parent)->user_timeout_ms;
	tp->notsent_lowat = tcp_sk(parent)->notsent_lowat;
	tp->fastopen_connect = tcp_sk(parent)->fastopen_connect;
	tp->fastopen_no_cookie = tcp_sk(parent)->fastopen_no_cookie;
	if (tcp_sk(parent)->clamp_user) {   /* (Linux's rsk_window_clamp) */
		tp->window_clamp = tcp_sk(parent)->window_clamp;
		tp->clamp_user = true;
	}
	tcp_ca_openreq_child(sk, parent);
	tcp_bind_hash(sk, parent->num);
	return sk;
}

/* ---- connect / listen ---------------------------------------------------- */

static int tcp_v4_connect(struct sock *sk, const struct sockaddr *uaddr,
			  int len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)uaddr;
	const struct ip_options *opt = ip_sock_options(sk);
	struct tcp_sock *tp = tcp_sk(sk);
	struct tcp_tw twts = { 0 };
	struct ip_route rt;
	enum ip_addr_type t;
	uint32_t isn = 0, nexthop;
	int rc = inet_check_sockaddr(uaddr, len);

	if (rc < 0)
		return rc;
	/* A source route (IP_OPTIONS) goes to its first hop, and its last
	 * slot takes the destination (RFC 791 §3.1), which 0.0.0.0 cannot
	 * be (Linux's tcp_v4_connect: EINVAL). */
	if (opt && opt->srr && !sin->sin_addr.s_addr)
		return -EINVAL;
	nexthop = ip_options_first_hop(opt, sin->sin_addr.s_addr);
	t = ip_addr_type(sk->st, nexthop);
	if (t == IP_ADDR_BROADCAST || t == IP_ADDR_MULTICAST)
		return -ENETUNREACH;
	/* Bound with IP_FREEBIND to an address this host does not have:
	 * no route from it (Linux's ip_route_connect). */
	if (sk->saddr && ip_addr_type(sk->st, sk->saddr) != IP_ADDR_LOCAL)
		return -ENETUNREACH;
	/* (Out of the device SO_BINDTODEVICE names, if any: Linux's
	 * ip_route_connect with sk_bound_dev_if.) */
	rc = ip_route_output_oif(sk->st, nexthop, sk->bound_dev_if, &rt);
	if (rc == 0)
		rc = ip_route_check_saddr(sk->saddr, &rt);
	if (rc < 0)
		return rc;
	if (!sk->rcv_saddr)
		sk->rcv_saddr = rt.saddr;
	sk->saddr = sk->rcv_saddr;
	sk->daddr = sin->sin_addr.s_addr;
	sk->dport = sin->sin_port;
	/* Linux's inet_hash_connect: a port of our choosing, or the bound
	 * one if its four-tuple is free. Failing, the socket is as before
	 * (tcp_v4_connect's failure path, inet_bhash2_reset_saddr). */
	rc = sk->num ? tcp_connect_bound_ok(sk, &isn, &twts)
		     : tcp_connect_port(sk);
	if (rc < 0) {
		sk->daddr = 0;
		sk->dport = 0;
		if (!sk->userlocks_addr)
			sk->rcv_saddr = sk->saddr = 0;
		return rc;
	}
	tp->advmss = (uint16_t)(rt.mtu - 40);   /* the path MTU's, as Linux */
	tp->iss = isn ? isn : tcp_isn(sk->st, sk->rcv_saddr, sk->sport,
				      sk->daddr, sk->dport);
	tp->snd_una = tp->iss;
	tp->snd_nxt = tp->iss;
	tp->high_seq = tp->iss;   /* RFC 6582 §3.2 step 1: recover = ISS */
	tp->loss_held = false;
	tp->write_seq = tp->iss + 1;
	tcp_sack_init(tp);
	tcp_ts_init_connect(sk);
	tcp_update_mss(tp);   /* (with the room of the timestamps offered) */
	tp->ts_recent = twts.ts_recent;
	tp->ts_recent_stamp = twts.ts_recent_stamp;
	sk->err = 0;   /* Linux's tcp_connect_init: a fresh start */
	/* TCP_USER_TIMEOUT counts from the first SYN (Linux's tcp_connect
	 * sets retrans_stamp), not from its first retransmission. */
	tp->retrans_stamp = sk->st->now;
	tcp_set_state(sk, TCP_SYN_SENT);
	tcp_ehash_add(sk);
	us_mib_inc(sk->st, US_MIB_TCP_ACTIVE_OPENS);
	/* TCP_FASTOPEN_CONNECT with a cookie: the SYN waits for the first
	 * write, to carry its data. */
	tp->snd_max = tp->iss;
	if (tcp_fastopen_defer_connect(sk))
		return 0;
	rc = tcp_send_syn(sk);
	if (rc < 0) {
		tcp_done(sk);
		return rc;
	}
	return 0;
}

/*
 * What Linux's tcp_disconnect forgets with the connection, in every state:
 * the data both ways, the shutdown bits and the peer's FIN (poll shows
 * POLLOUT|POLLHUP, not POLLIN|POLLRDHUP), the peer's address and an
 * address the user did not bind, and what was learnt of the path (RTT,
 * RTO, the congestion window, the peer's MSS and options), and
 * SO_PEEK_OFF's offset, and the RTO's floor and delayed ACK's ceiling the
 * user set. The pending
 * error stays until it is reported or the next connect starts.
 */
static void tcp_disconnect_forget(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb;

	sock_purge_queue(sk, &sk->receive_queue);
	while ((skb = skb_dequeue(&sk->write_queue)) != NULL) {
		sk->wmem_alloc -= (int)skb->truesize;
		skb_free(skb);
	}
	tp->send_head = NULL;
	sock_zc_complete(sk, 0, true);
	sock_purge_queue(sk, &tp->ooo_queue);
	sk->shutdown = 0;
	tp->fin_rcvd = false;
	sk_set_peek_off(sk, -1);
	tcp_timer_bounds_disconnect(sk);
	sk->daddr = 0;
	sk->dport = 0;
	if (!sk->userlocks_addr) {
		sk->rcv_saddr = 0;
		sk->saddr = 0;
	}
	tp->srtt_us = 0;
	tp->rttvar_us = 0;
	tp->rto_us = TCP_TIMEOUT_INIT_US;
	tp->backoff = 0;
	tp->retransmits = 0;
	tp->retrans_stamp = 0;
	tp->probes_out = 0;
	tp->probe_timer = false;
	tp->snd_cwnd = TCP_INIT_CWND;
	tp->snd_ssthresh = TCP_INFINITE_SSTHRESH;
	tp->cwnd_acked = 0;
	tp->dupacks = 0;
	tp->in_recovery = false;
	tp->ack_pending = false;
	tp->quickacks = 0;
	tp->peer_mss = TCP_MSS_DEFAULT;
	tp->snd_wnd = 0;
	tp->total_retrans = 0;
	tp->dsack_dups = 0;
	tp->syn_timed_out = false;
	tp->window_clamp = 0;   /* TCP_WINDOW_CLAMP's too (Linux's) */
	tp->clamp_user = false;
	/* Fast Open's connection state (TCP_FASTOPEN_CONNECT stays) */
	tp->defer_connect = false;
	tp->syn_fastopen = false;
	tp->syn_data_acked = false;
	tp->tfo_child = false;
	tp->fo_client_fail = 0;
	tp->ecn_ok = tp->ecn_queue_cwr = tp->ecn_demand_cwr = false;
	tp->ecn_seen = tp->in_cwr = false;
	tcp_delack_forget(tp);   /* TCP_QUICKACK's too */
	tp->last_oow_ack = 0;
	tp->is_cwnd_limited = false;
	tp->max_packets_out = tp->cwnd_usage_seqnum = 0;
	tcp_sack_init(tp);
	tcp_info_init(tp);
	tcp_reinit_congestion_control(sk);
}

/*
 * Does aborting the connection reset the peer? Linux's tcp_need_reset
 * (ESTABLISHED, CLOSE_WAIT, FIN_WAIT1, FIN_WAIT2, SYN_RECV), and
 * tcp_disconnect's own rule for CLOSING and LAST_ACK, where our FIN went
 * out already: only if something queued, the FIN too, was never sent
 * (Linux's snd_nxt != write_seq; its snd_nxt is our snd_max, which a
 * timeout does not take back).
 */
static bool tcp_need_reset(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	switch (sk->state) {
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_SYN_RECV:
		return true;
	case TCP_CLOSING:
	case TCP_LAST_ACK:
		return tp->snd_max != tp->write_seq;
	default:
		return false;
	}
}

/* connect(AF_UNSPEC) and the abortive close: RST if `rst`, forget
 * everything. */
static void tcp_listen_stop(struct sock *sk);

static void tcp_abort(struct sock *sk, bool rst)
{
	int old = sk->state;

	tcp_urg_clear(sk);   /* Linux's tcp_disconnect, in every state */
	if (old == TCP_LISTEN) {
		/* The port stays bound; the listener and its queues go. */
		tcp_listen_stop(sk);
		tcp_set_state(sk, TCP_CLOSE);
		tcp_ca_listen_stop(sk);
	} else if (old != TCP_CLOSE) {
		if (rst)
			tcp_send_active_reset(sk);
		tcp_done(sk);
	}
	/* Linux's tcp_disconnect leaves ECONNRESET behind for an aborted
	 * attempt or a connection it reset (SO_ERROR, POLLERR). */
	if (old == TCP_SYN_SENT || rst)
		sk->err = ECONNRESET;
	tcp_disconnect_forget(sk);
	if (sk->sk_socket)
		sk_error_report(sk);
}

int tcp_disconnect(struct sock *sk, int flags)
{
	(void)flags;
	tcp_abort(sk, tcp_need_reset(sk));
	return 0;
}

/* The SO_REUSEPORT group a new listener joins (Linux's
 * inet_reuseport_add_sock): a listener's on the same address, port and
 * device with SO_REUSEPORT (made when it has none yet); NULL: a group of
 * its own. */
static struct sock *tcp_reuseport_peer(const struct sock *sk)
{
	struct list_head *pos;

	list_for_each(pos, &sk->st->tcp.listen[sk->num % TCP_BHASH]) {
		struct sock *sk2 = &list_entry(pos, struct tcp_sock,
					       listen_node)->sk;

		if (reuseport_peer(sk, sk2))
			return sk2;
	}
	return NULL;
}

int tcp_listen_start(struct sock *sk, int backlog)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int rc;

	tcp_delack_forget(tp);   /* (Linux's inet_csk_delack_init, before
				    the port: a failed listen() too) */
	if (!sk->num) {
		rc = tcp_get_port(sk, 0);
		if (rc < 0)
			return rc;
	}
	/*
	 * The port is asked for again, now by a listener (Linux's
	 * inet_csk_listen_start -> inet_csk_get_port ->
	 * inet_csk_bind_conflict): SO_REUSEADDR shares a port only among
	 * sockets that do not listen, so of two bound side by side to
	 * overlapping addresses (the same, or one of them the wildcard)
	 * only the first may listen, unless both set SO_REUSEPORT.
	 */
	if (tcp_port_conflict(sk->st, sk, sk->num))
		return -EADDRINUSE;
	/* Its SO_REUSEPORT group (failing, before anything changed). */
	if (sk->reuseport) {
		rc = reuseport_join(sk, tcp_reuseport_peer(sk));
		if (rc < 0)
			return rc;
	}
	/* The listener's queues take the congestion state's place (tcp.h). */
	static_assert(offsetof(struct tcp_sock, fastopen_qlen) +
		      sizeof(tp->fastopen_qlen) <=
		      offsetof(struct tcp_sock, ca_priv) + sizeof(tp->ca_priv),
		      "listener state outgrows ca_priv");
	tcp_ca_listen_start(sk);
	list_init(&tp->syn_queue);
	list_init(&tp->accept_queue);
	tp->syn_qlen = tp->accept_qlen = 0;
	tp->fastopen_qlen = 0;
	tp->max_backlog = backlog;
	tcp_fastopen_listen(sk, backlog);
	tcp_set_state(sk, TCP_LISTEN);
	list_add(&tp->listen_node, &sk->st->tcp.listen[sk->num % TCP_BHASH]);
	return 0;
}

/* ---- data --------------------------------------------------------------- */

bool tcp_stream_is_writeable(const struct sock *sk)
{
	return sk->wmem_alloc < sk->sndbuf &&
	       sk->sndbuf - sk->wmem_alloc >= sk->wmem_alloc / 2 &&
	       tcp_stream_memory_free(sk, 1);
}

void tcp_check_space(struct sock *sk)
{
	if (sk->nospace && tcp_stream_is_writeable(sk)) {
		sk->nospace = false;
		tcp_chrono_stop(sk, TCP_CHRONO_SNDBUF_LIMITED);
	}
}

bool tcp_stream_memory_free(const struct sock *sk, unsigned int wake)
{
	const struct tcp_sock *tp = tcp_sk((struct sock *)sk);
	uint32_t lowat = tp->notsent_lowat ? tp->notsent_lowat :
			 sk->st->sysctl.tcp_notsent_lowat;
	uint64_t notsent = seq_gt(tp->write_seq, tp->snd_nxt) ?
			   tp->write_seq - tp->snd_nxt : 0;

	return (notsent << wake) < lowat;
}

/*
 * Room for more in the write queue (Linux's sk_stream_memory_free): the
 * send buffer's, and TCP_NOTSENT_LOWAT's for data not yet sent. As in
 * Linux, only a new segment asks: a write may fill the last one past
 * either. Linux sends each full segment as the write fills it
 * (tcp_push_one), so its unsent data reaches the mark only once the
 * windows are full; ustack sends at the end of a write, so before it
 * refuses a segment for the mark it sends what the windows let go,
 * without PSH (more of the write follows).
 */
static bool tcp_wspace_ok(struct sock *sk)
{
	if (sk->wmem_alloc >= sk->sndbuf)
		return false;
	if (tcp_stream_memory_free(sk, 0))
		return true;
	sk->st->tcp.mid_write = true;
	tcp_write_xmit(sk, false);
	sk->st->tcp.mid_write = false;
	return tcp_stream_memory_free(sk, 0);
}

/*
 * Room in the instance's skb pool for one more segment of send data: the
 * pool's last eighth is kept for arriving frames (skb_pool_may_queue), as
 * Linux's tcp_mem limit stops senders (sk_wmem_schedule) but not the
 * driver. Many connections with full send buffers could otherwise take
 * the whole pool, leave no buffer to read the ACKs that free it, and
 * stall every connection for good. A socket with nothing queued may still
 * queue one segment (Linux: a socket below tcp_wmem[0] gets its memory
 * whatever the pressure), so that it has an ACK to wait for, and with it
 * a write-space wake-up: refused with nothing in flight, a non-blocking
 * writer waiting for EPOLLOUT would never be told to try again. A socket
 * refused has its send buffer cut to half of what it has queued (Linux's
 * sk_stream_moderate_sndbuf), so that poll stops calling it writable
 * until ACKs free that much, instead of EPOLLOUT, EAGAIN, EPOLLOUT...
 */
static bool tcp_pool_ok(struct sock *sk)
{
	int half = sk->wmem_alloc / 2;

	if (sk->wmem_alloc == 0 ||
	    skb_pool_may_queue(&sk->st->skb_pool,
			       tcp_sk(sk)->mss_cache + US_SKB_MAX_HEADER))
		return true;
	us_mib_inc(sk->st, US_MIB_TCP_SND_POOL_FULL);
	if (!sk->sndbuf_locked && half < sk->sndbuf)
		sk->sndbuf = half > US_SK_SNDBUF_MIN ? half : US_SK_SNDBUF_MIN;
	return false;
}

static struct sk_buff *tcp_new_data_skb(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *skb = us_skb_alloc(sk->st, tp->mss_cache);

	if (!skb)
		return NULL;
	TCP_SKB_CB(skb)->seq = tp->write_seq;
	TCP_SKB_CB(skb)->end_seq = tp->write_seq;
	TCP_SKB_CB(skb)->flags = TCPHDR_ACK;
	TCP_SKB_CB(skb)->retrans = 0;
	sk->wmem_alloc += (int)skb->truesize;
	tcp_add_write_queue_tail(sk, skb);
	return skb;
}

/* The last queued segment, if it is unsent and can take more data. */
static struct sk_buff *tcp_append_target(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct sk_buff *tail = skb_peek_tail(&sk->write_queue);

	if (!tail || !tp->send_head)
		return NULL;
	if (TCP_SKB_CB(tail)->flags & (TCPHDR_SYN | TCPHDR_FIN))
		return NULL;
	if (tail->len >= tp->mss_cache || skb_tailroom(tail) == 0)
		return NULL;
	return tail;
}


/*
 * Linux's forced_push: a full segment is pushed once more than half the
 * peer's largest window was written since the last push, so a long write
 * keeps the reader informed.
 */
void tcp_mark_push(struct sock *sk, struct sk_buff *skb)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (skb->len >= tp->mss_cache &&
	    seq_gt(tp->write_seq, tp->pushed_seq + tp->max_window / 2)) {
		TCP_SKB_CB(skb)->flags |= TCPHDR_PSH;
		tp->pushed_seq = tp->write_seq;
	}
}

/* Linux's sk_stream_error(): EPIPE comes with SIGPIPE unless told not. */
int tcp_stream_error(int flags, int err)
{
	if (err == -EPIPE && !(flags & MSG_NOSIGNAL))
		raise(SIGPIPE);
	return err;
}

/*
 * SO_TIMESTAMPING on a write (Linux's tcp_tx_timestamp): its last segment,
 * the one with its last byte, is marked for the reports asked for, keyed
 * by that byte (a mark already there from an earlier write into the same
 * segment gives way: one report for both). Only a segment not yet sent
 * takes one: Linux marks the tail of its queue of unsent data, so the
 * last byte of a write cut short (no room) that has already gone gets no
 * report.
 */
void tcp_tx_timestamp(struct sock *sk, const struct sockcm *sockc)
{
	struct sk_buff *skb = skb_peek_tail(&sk->write_queue);

	if (!skb || !tcp_sk(sk)->send_head)
		return;
	skb->tx_flags |= sock_tx_flags(sockc->tsflags);
	if (sockc->tsflags & SOF_TIMESTAMPING_TX_ACK)
		skb->tx_flags |= SKBTX_ACK_TSTAMP;
	if (sockc->tsflags & US_TS_TX_RECORD)
		skb->tskey = tcp_sk(sk)->write_seq - 1;
}

/*
 * Queue user data as MSS-sized segments and send what the windows allow.
 * Returns the bytes taken, or -errno (-EAGAIN when the send buffer had no
 * room, or the connection is still being set up).
 */
static int tcp_sendmsg(struct sock *sk, const struct msghdr *msg, size_t len,
		       int flags)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool entailed = false;
	struct sockcm sockc;
	size_t copied = 0;
	int err;

	/* In Linux's order (tcp_sendmsg_locked): a connection not open
	 * (sk_stream_wait_connect), then the control messages, then a
	 * pending error or a shut-down sending side. A pending EPIPE (a
	 * RST in CLOSE_WAIT) comes with SIGPIPE like any other (Linux's
	 * sk_stream_error). */
	if (sk->state != TCP_ESTABLISHED && sk->state != TCP_CLOSE_WAIT &&
	    !tp->fastopen_child) {
		err = sock_error(sk);
		if (err)
			return tcp_stream_error(flags, -err);
		if (sk->state == TCP_SYN_SENT || sk->state == TCP_SYN_RECV)
			return -EAGAIN;
		return tcp_stream_error(flags, -EPIPE);
	}
	/* Only SOL_SOCKET control messages mean anything to TCP; a bad one
	 * is an EINVAL. */
	sockcm_init(&sockc, sk);
	if (msg->msg_controllen && sock_cmsg_send(sk, msg, &sockc) < 0)
		return -EINVAL;
	err = sock_error(sk);
	if (err)
		return tcp_stream_error(flags, -err);
	if (sk->shutdown & SEND_SHUTDOWN)
		return tcp_stream_error(flags, -EPIPE);
	while (copied < len) {
		struct sk_buff *skb = tcp_append_target(sk);
		size_t n;

		if (!skb) {
			int k;

			if (!tcp_wspace_ok(sk) || !tcp_pool_ok(sk)) {
				sk->nospace = true;   /* (wait_for_space) */
				break;
			}
			/* New segments: an idle connection restarts its
			 * window first (Linux's tcp_skb_entail), once. */
			if (!entailed)
				tcp_idle_restart_check(sk);
			entailed = true;
			k = tcp_sendmsg_carves(sk, len - copied) ?
			    tcp_sendmsg_carve(sk, msg, copied, len - copied) : 0;
			if (k == -EFAULT) {
				if (!copied)
					return -EFAULT;
				break;
			}
			if (k > 0) {
				copied += (size_t)k;
				continue;
			}
			/* Not carved, or no memory for a whole area: one
			 * segment may still fit. */
			skb = tcp_new_data_skb(sk);
			if (!skb)
				break;
		}
		n = tp->mss_cache - skb->len;
		if (n > skb_tailroom(skb))
			n = skb_tailroom(skb);
		if (n > len - copied)
			n = len - copied;
		/* Copy into the tailroom first: a bad user buffer must not
		 * leave a half-filled segment behind. */
		if (iov_copy_from(skb->tail, msg, copied, n) < 0) {
			if (!copied)
				return -EFAULT;
			break;
		}
		skb_put(skb, (unsigned int)n);
		TCP_SKB_CB(skb)->end_seq += (uint32_t)n;
		tp->write_seq += (uint32_t)n;
		copied += n;
		tcp_mark_push(sk, skb);
	}
	/* The end of a write is a push (its last segment gets PSH when it is
	 * sent), unless more is promised. */
	if (copied && !(flags & MSG_MORE))
		tp->pushed_seq = tp->write_seq;
	if (copied) {
		/* The write's end (a blocking write larger than the room
		 * comes here in pieces: the last one marks;
		 * inet_stream_sendmsg marks one that stops short). */
		if (sockc.tsflags && copied == len)
			tcp_tx_timestamp(sk, &sockc);
		tcp_urg_mark(sk, flags);
		/* (Linux's skb_zcopy: such segments are never merged) */
		if ((flags & MSG_ZEROCOPY) && sk->zerocopy)
			tcp_mark_zerocopy(sk, tp->write_seq - (uint32_t)copied);
		tcp_write_xmit(sk, !(flags & MSG_MORE));
	}
	/* Nothing asked for is nothing sent: 0, as Linux's tcp_sendmsg. */
	if (!len)
		return 0;
	if (copied)
		return (int)copied;
	/* Linux's "make sure we wake any epoll edge trigger waiter": with
	 * nothing queued, no ACK will tell of room; the time limited by the
	 * send buffer ends. */
	if (skb_queue_empty(&sk->write_queue))
		tcp_chrono_stop(sk, TCP_CHRONO_SNDBUF_LIMITED);
	return -EAGAIN;
}


/*
 * Window update after the reader made room (Linux's tcp_cleanup_rbuf):
 * tell the peer when the window offered had fallen to half the clamp or
 * less and the read at least doubles it (a zero window reopening among
 * them), so a sender stalled on it resumes; smaller gains wait for the
 * next ACK.
 */
static void tcp_cleanup_rbuf(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t cur = tcp_receive_window(tp);
	uint32_t could;

	if (sk->state != TCP_ESTABLISHED && sk->state != TCP_FIN_WAIT1 &&
	    sk->state != TCP_FIN_WAIT2)
		return;
	/* (__tcp_select_window is not cheap, and may end quick ACKs) */
	if (2ull * cur > tp->window_clamp)
		return;
	could = __tcp_select_window(sk);
	if (could && could >= 2ull * cur)
		tcp_send_ack(sk);
}

/*
 * Copy received data to the user. Returns the bytes copied, 0 at the end
 * of the stream, or -errno (-EAGAIN when nothing is there yet).
 */
/*
 * TCP_INQ's message after a read that did not fail (Linux's tcp_inq_hint):
 * the bytes still to read, or 1 once the peer's FIN came and nothing is
 * left, so that a reader goes on to see the end.
 */
static int tcp_put_inq(struct sock *sk, struct msghdr *msg, int ret)
{
	int inq = (int)sk->receive_queue.bytes;

	if (!tcp_sk(sk)->recvmsg_inq)
		return ret;
	if (!inq && tcp_sk(sk)->fin_rcvd)
		inq = 1;
	put_cmsg(msg, SOL_TCP, TCP_CM_INQ, sizeof(inq), &inq);
	return ret;
}

static int tcp_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
		       int flags, int *addr_len)
{
	struct sk_buff *skb, *tmp;
	size_t copied = 0, skip;
	us_time_t last_tstamp = 0;
	int peek_off, err;

	/* The error queue (a handshake's ICMP error, IP_RECVERR), before
	 * anything else (Linux's inet_recv_error). */
	if (flags & MSG_ERRQUEUE)
		return ip_recv_error(sk, msg, len, addr_len);
	if (sk->state == TCP_LISTEN)
		return -ENOTCONN;
	if (flags & MSG_OOB)
		return tcp_recv_urg(sk, msg, len, flags);
	/* A read of no bytes has what it asked for once data is there
	 * (Linux's tcp_recvmsg copies none and returns 0; its loop runs
	 * once, so the first segment's arrival time comes with it). */
	if (len == 0 && !skb_queue_empty(&sk->receive_queue)) {
		skb = skb_peek(&sk->receive_queue);
		if (skb->tstamp)
			sock_put_timestamp(msg, sk, skb->tstamp, SOCK_TS_SRC_RX);
		return tcp_put_inq(sk, msg, 0);
	}
	/* A peek starts SO_PEEK_OFF's bytes in (Linux's peek_seq). */
	peek_off = sk_peek_offset(sk, flags);
	skip = peek_off > 0 ? (size_t)peek_off : 0;
	/* Urgent data: the read stops at the mark, and passes over the
	 * urgent byte there (tcp_urgent.c). */
	skip += tcp_urg_read_start(sk, &len, flags, skip);
	skb_queue_walk_safe(&sk->receive_queue, skb, tmp) {
		size_t avail = skb->len, n;

		if (skip >= avail) {
			skip -= avail;
			continue;
		}
		avail -= skip;
		n = avail < len - copied ? avail : len - copied;
		/* MSG_TRUNC on a stream: the bytes are consumed (or peeked)
		 * but not copied, as Linux's tcp_recvmsg. */
		if (!(flags & MSG_TRUNC) &&
		    iov_copy_to(msg, copied, skb->data + skip, n) < 0) {
			if (!copied)
				return -EFAULT;
			break;
		}
		skip = 0;
		copied += n;
		last_tstamp = skb->tstamp;
		if (!(flags & MSG_PEEK)) {
			sk->receive_queue.bytes -= n;
			skb_pull(skb, (unsigned int)n);
			TCP_SKB_CB(skb)->seq += (uint32_t)n;
			if (skb->len == 0) {
				skb_unlink(&sk->receive_queue, skb);
				sock_rfree(sk, skb);
				skb_free(skb);
			}
		}
		if (copied == len)
			break;
	}
	if (copied) {
		if (!(flags & MSG_PEEK)) {
			tcp_urg_read_done(sk);
			tcp_rcv_space_adjust(sk);
			tcp_delack_read(sk);
			tcp_cleanup_rbuf(sk);
		}
		/* SO_TIMESTAMP(NS): the arrival of the last segment read
		 * from (Linux's tcp_recv_timestamp; one message per call,
		 * the stream layer keeps the last, tcp_sockops.c). */
		if (last_tstamp)
			sock_put_timestamp(msg, sk, last_tstamp, SOCK_TS_SRC_RX);
		return tcp_put_inq(sk, msg, (int)copied);
	}
	/* Once the peer's FIN came, the end of the stream is reported before
	 * any later error, such as a RST's (Linux's SOCK_DONE test). */
	if (tcp_sk(sk)->fin_rcvd)
		return tcp_put_inq(sk, msg, 0);
	err = sock_error(sk);
	if (err)
		return -err;
	if (sk->shutdown & RCV_SHUTDOWN)
		return tcp_put_inq(sk, msg, 0);
	if (sk->state == TCP_CLOSE)
		return -ENOTCONN;
	(void)addr_len;
	return -EAGAIN;
}

/* ---- close and shutdown ------------------------------------------------- */

/* RFC 9293 §3.10.4: the state a close or SHUT_WR moves to, and whether a
 * FIN is due (Linux's new_state table). */
static bool tcp_close_state(struct sock *sk)
{
	switch (sk->state) {
	case TCP_ESTABLISHED:
	case TCP_SYN_RECV:
		tcp_set_state(sk, TCP_FIN_WAIT1);
		return true;
	case TCP_CLOSE_WAIT:
		tcp_set_state(sk, TCP_LAST_ACK);
		return true;
	default:
		return false;
	}
}

static void tcp_shutdown(struct sock *sk, int how)
{
	if (!(how & SEND_SHUTDOWN))
		return;
	if (tcp_close_state(sk))
		tcp_send_fin(sk);
}

static void tcp_listen_stop(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);
	struct list_head *lists[2] = { &tp->syn_queue, &tp->accept_queue };

	list_del(&tp->listen_node);
	reuseport_leave(sk);
	for (int i = 0; i < 2; i++) {
		while (!list_empty(lists[i])) {
			struct tcp_sock *c = list_entry(lists[i]->next,
							struct tcp_sock,
							child_node);

			/* Unaccepted connections are reset, as Linux does. */
			tcp_unlink_child(c);
			tcp_disconnect(&c->sk, 0);
			sock_put(&c->sk);
		}
	}
	tp->syn_qlen = tp->accept_qlen = 0;
}

/*
 * Linux's __tcp_close up to sk_stream_wait_close: send the FIN, or a RST
 * for unread data or a zero linger. A lingering close() calls it while
 * the socket still waits (socket/api.c), then tcp_close again, which
 * finds the state moved on and nothing more to do.
 */
static void tcp_close_start(struct sock *sk)
{
	bool unread = !skb_queue_empty(&sk->receive_queue);

	sk->shutdown = SHUTDOWN_MASK;
	if (sk->state == TCP_LISTEN) {
		tcp_disconnect(sk, 0);
		tcp_put_port(sk);
	} else if (sk->state == TCP_CLOSE) {
		tcp_put_port(sk);
	} else if (unread) {
		/*
		 * RFC 2525 §2.17: closing with unread data resets the
		 * connection, so the peer knows it was not all consumed, in
		 * every state (Linux's __tcp_close, TCPAbortOnClose).
		 */
		tcp_abort(sk, true);
	} else if (sk->linger_on && sk->linger_sec == 0) {
		/* An SO_LINGER of zero aborts as connect(AF_UNSPEC) does
		 * (Linux's __tcp_close calls tcp_disconnect): in CLOSING and
		 * LAST_ACK, with everything sent, without a RST. */
		tcp_disconnect(sk, 0);
	} else if (tcp_close_state(sk)) {
		tcp_send_fin(sk);
	} else if (sk->state == TCP_SYN_SENT) {
		tcp_done(sk);
	}
}

void tcp_orphan_uncount(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	if (tp->orphan_counted) {
		tp->orphan_counted = false;
		sk->st->tcp.orphans--;
	}
}

/*
 * Linux's tcp_too_many_orphans: the orphans, doubled per `shift`, are
 * more than net.ipv4.tcp_max_orphans. Linux counts them machine-wide
 * (and asks its memory too, tcp_out_of_memory); ustack per instance.
 */
bool tcp_too_many_orphans(const struct ustack *st, unsigned int shift)
{
	return ((uint64_t)st->tcp.orphans << shift) >
	       (uint64_t)st->sysctl.tcp_max_orphans;
}

static void tcp_close(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tcp_close_start(sk);
	if (sk->state != TCP_CLOSE) {   /* an orphan from now on */
		tp->orphan_counted = true;
		sk->st->tcp.orphans++;
	}
	/* An orphan in FIN_WAIT2 (half closed before, or its FIN acked
	 * while close() lingered) waits for the peer's FIN no longer than
	 * TCP_LINGER2, or not at all when it is negative: a RST ends it
	 * (Linux's __tcp_close after adjudge_to_death, TCPAbortOnLinger). */
	if (sk->state == TCP_FIN_WAIT2 && tcp_sk(sk)->linger2_s < 0) {
		us_mib_inc(sk->st, US_MIB_TCP_ABORT_ON_LINGER);
		tcp_send_active_reset(sk);
		tcp_done(sk);
	} else if (sk->state == TCP_FIN_WAIT2) {
		tcp_fin_wait2_timeout(sk);
	}
	/* Past net.ipv4.tcp_max_orphans, this one is reset at once rather
	 * than left to finish (Linux's __tcp_close, tcp_check_oom; not in
	 * FIN_WAIT2 with a wait Linux spends in a timewait socket). */
	if (tp->orphan_counted && tcp_too_many_orphans(sk->st, 0)) {
		us_mib_inc(sk->st, US_MIB_TCP_ABORT_ON_MEMORY);
		tcp_send_active_reset(sk);
		tcp_done(sk);
	}
	sock_put(sk);   /* the user's reference */
}

static void tcp_destroy(struct sock *sk)
{
	struct tcp_sock *tp = tcp_sk(sk);

	tcp_orphan_uncount(sk);   /* (freed unclosed: the instance's end) */
	tcp_clear_timers(tp);
	tcp_cleanup_congestion_control(sk);
	sock_purge_queue(sk, &sk->receive_queue);
	skb_queue_purge(&sk->write_queue);
	sock_purge_queue(sk, &tp->ooo_queue);
	tcp_sack_destroy(tp);
	tcp_rate_free(tp);
	tcp_error_queue_free(sk);
	tcp_put_port(sk);
}

/* ---- options and ioctls ------------------------------------------------- */

/*
 * A window clamp as Linux's tcp_init_buffer_space leaves it: at most the
 * window the receive buffer allows (its half, tcp_full_space), and one
 * segment under that when it comes within a segment of it (with
 * tcp_app_win at its default, 31: "force reservation of one segment").
 */
uint32_t tcp_clamp_for_space(const struct tcp_sock *tp, uint32_t clamp)
{
	uint32_t maxwin = tp->sk.rcvbuf > 0 ? (uint32_t)tp->sk.rcvbuf / 2 : 0;
	uint32_t advmss = tcp_advmss(tp);   /* (Linux's advmss loses the
						timestamps' 12 bytes) */

	if (clamp >= maxwin)
		clamp = maxwin;
	if (clamp > 2 * advmss && clamp + advmss > maxwin)
		clamp = maxwin - advmss > 2 * advmss ? maxwin - advmss
						     : 2 * advmss;
	return clamp;
}

/*
 * A new clamp for the window (Linux's tcp_set_window_clamp): a smaller
 * one takes rcv_ssthresh down with it; a larger one lets rcv_ssthresh
 * rise to the window offered, if that is more, within it.
 */
static void tcp_set_window_clamp(struct tcp_sock *tp, uint32_t clamp)
{
	uint32_t old = tp->window_clamp;

	if (clamp == old)
		return;
	tp->window_clamp = clamp;
	if (clamp < old) {
		tcp_adjust_rcv_ssthresh_to(tp, clamp);
	} else {
		uint32_t r = tp->rcv_wnd < clamp ? tp->rcv_wnd : clamp;

		if (r > tp->rcv_ssthresh)
			tp->rcv_ssthresh = r;
	}
}

/*
 * TCP_DEFER_ACCEPT's seconds as SYN-ACK timeouts and back (Linux's
 * secs_to_retrans and retrans_to_secs): the timeouts of a SYN-ACK sent
 * at 1 s, doubling up to 120 s, until their sum reaches the seconds, at
 * most 255; read back as that sum.
 */
static uint8_t tcp_secs_to_retrans(int secs)
{
	int timeout = 1, period = 1;
	uint8_t n = 1;

	if (secs <= 0)
		return 0;
	while (secs > period && n < 255) {
		n++;
		timeout = timeout * 2 > 120 ? 120 : timeout * 2;
		period += timeout;
	}
	return n;
}

static int tcp_retrans_to_secs(uint8_t n)
{
	int timeout = 1, period = n ? 1 : 0;

	while (n > 1) {
		n--;
		timeout = timeout * 2 > 120 ? 120 : timeout * 2;
		period += timeout;
	}
	return period;
}

static int tcp_setsockopt(struct sock *sk, int level, int optname,
			  const void *optval, socklen_t optlen)
{
	struct tcp_sock *tp = tcp_sk(sk);
	int val;

	if (level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	if (optname == TCP_CONGESTION)   /* a string: its own length rules */
		return tcp_setsockopt_congestion(sk, optval, optlen);
	if (optname == TCP_FASTOPEN_KEY)   /* bytes: 16 or 32 */
		return tcp_fastopen_set_key(sk, optval, optlen);
	if (optlen < sizeof(int))
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	memcpy(&val, optval, sizeof(int));
	switch (optname) {
	case TCP_NODELAY:
		tp->nodelay = val != 0;
		if (tp->nodelay)
			tcp_write_xmit(sk, true);
		return 0;
	case TCP_CORK:
		tp->cork = val != 0;
		if (!tp->cork)
			tcp_write_xmit(sk, true);
		return 0;
	case TCP_MAXSEG:
		/* Linux's do_tcp_setsockopt: 0, or TCP_MIN_MSS up to
		 * MAX_TCP_WINDOW. */
		if (val && (val < TCP_MIN_MSS || val > TCP_MAXSEG_MAX))
			return -EINVAL;
		tp->user_mss = (uint16_t)val;
		return 0;
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
		if (val < 1 || val > 32767)
			return -EINVAL;
		if (optname == TCP_KEEPIDLE)
			tp->keepidle_s = (uint16_t)val;
		else
			tp->keepintvl_s = (uint16_t)val;
		tcp_reset_keepalive(sk);
		return 0;
	case TCP_KEEPCNT:
		if (val < 1 || val > 127)
			return -EINVAL;
		tp->keepcnt = (uint8_t)val;
		return 0;
	case TCP_SYNCNT:
		/* SYN retransmissions before connect() gives up (Linux's
		 * MAX_TCP_SYNCNT bounds it). */
		if (val < 1 || val > 127)
			return -EINVAL;
		tp->syn_retries = (uint8_t)val;
		return 0;
	case TCP_LINGER2:
		/* Linux's do_tcp_setsockopt: a negative time is -1 (close()
		 * resets instead of waiting in FIN_WAIT2), 0 the default
		 * (tcp_fin_time), at most TCP_FIN_TIMEOUT_MAX. */
		if (val < 0)
			val = -1;
		else if (val > TCP_FIN_TIMEOUT_MAX_S)
			val = TCP_FIN_TIMEOUT_MAX_S;
		tp->linger2_s = val;
		return 0;
	case TCP_USER_TIMEOUT:
		/* RFC 5482 §3: how long sent data may go unacknowledged
		 * before the connection is aborted; 0 restores the default.
		 * Linux takes milliseconds and refuses negative values. */
		if (val < 0)
			return -EINVAL;
		tp->user_timeout_ms = (uint32_t)val;
		return 0;
	case TCP_QUICKACK:
		tcp_delack_set_quickack(sk, val);   /* (any value) */
		return 0;
	case TCP_DEFER_ACCEPT:
		tp->defer_accept = tcp_secs_to_retrans(val);
		return 0;
	case TCP_WINDOW_CLAMP:
		/* Linux's tcp_set_window_clamp: 0 (no clamp) only on a
		 * socket with no connection, any other value at least half
		 * SOCK_MIN_RCVBUF. A window already offered is not taken
		 * back (RFC 9293 §3.8.6.2.2): the clamp bounds the next. */
		if (!val) {
			if (sk->state != TCP_CLOSE)
				return -EINVAL;
			tp->window_clamp = 0;
			tp->clamp_user = false;
			return 0;
		}
		tcp_set_window_clamp(tp, val < US_SK_RCVBUF_MIN / 2 ?
					 US_SK_RCVBUF_MIN / 2 : (uint32_t)val);
		tp->clamp_user = true;
		return 0;
	case TCP_NOTSENT_LOWAT:
		/* Any value, taken as unsigned (Linux's do_tcp_setsockopt);
		 * a writer a higher mark lets on is woken. */
		tp->notsent_lowat = (uint32_t)val;
		if (sk->sk_socket)
			sk_write_space(sk);
		return 0;
	case TCP_FASTOPEN:
		return tcp_fastopen_set_qlen(sk, val);
	case TCP_FASTOPEN_CONNECT:
		/* Linux's do_tcp_setsockopt: 0 or 1, before connect(),
		 * with the client side of net.ipv4.tcp_fastopen on. */
		if (val < 0 || val > 1)
			return -EINVAL;
		if (!(sk->st->sysctl.tcp_fastopen & US_TFO_CLIENT_ENABLE))
			return -EOPNOTSUPP;
		if (sk->state != TCP_CLOSE)
			return -EINVAL;
		tp->fastopen_connect = val;
		return 0;
	case TCP_FASTOPEN_NO_COOKIE:
		if (val < 0 || val > 1 ||
		    (sk->state != TCP_CLOSE && sk->state != TCP_LISTEN))
			return -EINVAL;
		tp->fastopen_no_cookie = val;
		return 0;
	case TCP_INQ:
		if (val < 0 || val > 1)
			return -EINVAL;
		tp->recvmsg_inq = val;
		return 0;
	case TCP_SAVE_SYN:
		if (val < 0 || val > 2)
			return -EINVAL;
		tp->save_syn = (uint8_t)val;
		return 0;
	case TCP_THIN_LINEAR_TIMEOUTS:
		if (val < 0 || val > 1)
			return -EINVAL;
		tp->thin_lto = val;
		return 0;
	case TCP_THIN_DUPACK:
		/* Taken and forgotten: Linux dropped its effect (4.13). */
		return val < 0 || val > 1 ? -EINVAL : 0;
	case TCP_RTO_MAX_MS:
	case TCP_RTO_MIN_US:
	case TCP_DELACK_MAX_US:
		return tcp_set_timer_bound(sk, optname, val);
	default:
		return -ENOPROTOOPT;
	}
}

/*
 * TCP_SAVED_SYN (Linux's do_tcp_getsockopt): the SYN's headers, once: no
 * room for all of them is EINVAL with the length they need; nothing saved
 * (or already read) is 0 bytes.
 */
static int tcp_get_saved_syn(struct sock *sk, void *optval, socklen_t *optlen)
{
	struct sock_ext *e = sock_ext(sk, false);

	if (!e || !e->saved_syn) {
		*optlen = 0;
		return 0;
	}
	if (*optlen < e->saved_syn_len) {
		*optlen = e->saved_syn_len;
		return -EINVAL;
	}
	if (!optval)
		return -EFAULT;
	memcpy(optval, e->saved_syn, e->saved_syn_len);
	*optlen = e->saved_syn_len;
	free(e->saved_syn);
	e->saved_syn = NULL;
	e->saved_syn_len = 0;
	return 0;
}

static int tcp_getsockopt(struct sock *sk, int level, int optname,
			  void *optval, socklen_t *optlen)
{
	struct tcp_sock *tp = tcp_sk(sk);
	uint8_t info[TCP_INFO_LEN];
	socklen_t n = sizeof(int);
	uint8_t key[32];
	int val;
	const void *src = &val;

	if (level != IPPROTO_TCP)
		return -ENOPROTOOPT;
	if ((int)*optlen < 0)
		return -EINVAL;
	if (optname == TCP_CONGESTION)
		return tcp_getsockopt_congestion(sk, optval, optlen);
	switch (optname) {
	case TCP_NODELAY: val = tp->nodelay; break;
	case TCP_CORK: val = tp->cork; break;
	case TCP_MAXSEG:
		/* The MSS in use (the last connection's after it, 536 before
		 * any), or TCP_MAXSEG's on a socket that has no connection
		 * (Linux's do_tcp_getsockopt: in CLOSE and LISTEN). */
		val = tp->mss_cache;
		if (tp->user_mss &&
		    (sk->state == TCP_CLOSE || sk->state == TCP_LISTEN))
			val = tp->user_mss;
		break;
	case TCP_KEEPIDLE: val = tp->keepidle_s; break;
	case TCP_KEEPINTVL: val = tp->keepintvl_s; break;
	case TCP_KEEPCNT: val = tp->keepcnt; break;
	case TCP_SYNCNT:
		val = tp->syn_retries ? tp->syn_retries
				      : sk->st->sysctl.tcp_syn_retries;
		break;
	case TCP_LINGER2:
		/* 0 reads as the default it stands for (do_tcp_getsockopt). */
		val = tp->linger2_s ? tp->linger2_s
				    : (int)(TCP_FIN_TIMEOUT_US / US_USEC_PER_SEC);
		break;
	case TCP_USER_TIMEOUT: val = (int)tp->user_timeout_ms; break;
	case TCP_NOTSENT_LOWAT: val = (int)tp->notsent_lowat; break;
	case TCP_QUICKACK: val = !tp->pingpong; break;
	case TCP_DEFER_ACCEPT: val = tcp_retrans_to_secs(tp->defer_accept); break;
	case TCP_WINDOW_CLAMP:
		/* The user's clamp (cut once at the handshake's end,
		 * tcp_init_established); 0 before any connection; during
		 * the handshake the shift's bound; after it what Linux's
		 * tcp_init_buffer_space makes of that, with the buffer as
		 * it is now (Linux's window_clamp follows autotuning). */
		val = (int)tp->window_clamp;
		break;
	case TCP_FASTOPEN: val = tp->fastopen_max_qlen; break;
	case TCP_FASTOPEN_CONNECT: val = tp->fastopen_connect; break;
	case TCP_FASTOPEN_NO_COOKIE: val = tp->fastopen_no_cookie; break;
	case TCP_INQ: val = tp->recvmsg_inq; break;
	case TCP_SAVE_SYN: val = tp->save_syn; break;
	case TCP_THIN_LINEAR_TIMEOUTS: val = tp->thin_lto; break;
	case TCP_THIN_DUPACK: val = 0; break;
	case TCP_RTO_MAX_MS:
	case TCP_RTO_MIN_US:
	case TCP_DELACK_MAX_US:
		val = tcp_get_timer_bound(sk, optname);
		break;
	case TCP_SAVED_SYN:
		return tcp_get_saved_syn(sk, optval, optlen);
	case TCP_FASTOPEN_KEY:
		/* The socket's own keys only (Linux's
		 * tcp_fastopen_get_cipher with the socket): none, 0 bytes. */
		n = (socklen_t)tcp_fastopen_get_key(sk, key) * 16;
		src = key;
		break;
	case TCP_INFO:
		n = (socklen_t)tcp_get_info(sk, info);
		src = info;
		break;
	case TCP_CC_INFO:
		/* The algorithm's report (BBR's struct tcp_bbr_info), up to
		 * the length asked; Reno and CUBIC have none (Linux's get_info
		 * is only vegas', dctcp's and bbr's): 0 bytes. */
		n = 0;
		if (tp->ca_ops && tp->ca_ops->get_info)
			n = (socklen_t)tp->ca_ops->get_info(sk, info,
							    sizeof(info));
		src = info;
		break;
	default:
		return -ENOPROTOOPT;
	}
	if (*optlen < n)
		n = *optlen;
	if (n && !optval)
		return -EFAULT;
	if (n)
		memcpy(optval, src, n);
	*optlen = n;
	return 0;
}

static int tcp_ioctl(struct sock *sk, unsigned long cmd, int *karg)
{
	struct tcp_sock *tp = tcp_sk(sk);
	bool handshake;

	/* As Linux's tcp_ioctl: SIOCATMARK in every state (a listener's
	 * 0), the queue sizes refused on a listener, anything else not a
	 * TCP request at all (the device level's, or ENOTTY). */
	if (cmd == SIOCATMARK) {
		*karg = tcp_urg_at_mark(sk);
		return 0;
	}
	if (cmd != SIOCINQ && cmd != SIOCOUTQ && cmd != SIOCOUTQNSD)
		return -ENOIOCTLCMD;
	if (sk->state == TCP_LISTEN)
		return -EINVAL;
	/* During the handshake the SYN is in flight, but no data: Linux's
	 * tcp_ioctl answers 0 in SYN_SENT and SYN_RECV. */
	handshake = sk->state == TCP_SYN_SENT || sk->state == TCP_SYN_RECV;
	switch (cmd) {
	case SIOCINQ:
		/* (A Fast Open child's SYN data too: 0, as Linux's tcp_inq.) */
		*karg = handshake ? 0
				  : (int)tcp_urg_inq(sk, sk->receive_queue.bytes);
		return 0;
	case SIOCOUTQ:
		*karg = handshake ? 0 : (int)(tp->write_seq - tp->snd_una);
		return 0;
	case SIOCOUTQNSD:
		*karg = handshake ? 0 : (int)(tp->write_seq - tp->snd_nxt);
		return 0;
	default:
		return -ENOTTY;
	}
}

static void tcp_unhash(struct sock *sk)
{
	tcp_ehash_del(sk);
}

const struct proto tcp_prot = {
	.name = "TCP",
	.obj_size = sizeof(struct tcp_sock),
	.init = tcp_init_sock,
	.close = tcp_close,
	.close_start = tcp_close_start,
	.connect = tcp_v4_connect,
	.disconnect = tcp_disconnect,
	.sendmsg = tcp_sendmsg,
	.recvmsg = tcp_recvmsg,
	.setsockopt = tcp_setsockopt,
	.getsockopt = tcp_getsockopt,
	.ioctl = tcp_ioctl,
	.get_port = tcp_get_port,
	.unhash = tcp_unhash,
	.destroy = tcp_destroy,
	.error_queue = tcp_error_queue,
	.shutdown = tcp_shutdown,
	.keepalive = tcp_set_keepalive,
	.set_rcvlowat = tcp_set_rcvlowat,
};
