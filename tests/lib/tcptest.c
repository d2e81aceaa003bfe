/*
 * tcptest.c - the TCP unit-test kit: segment builder, checker and state
 * fixtures (see tcptest.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcptest.h"

#include "core/checksum.h"
#include "net/ether.h"
#include "socket/socket.h"
#include "ustack/ustack.h"

static const char *const state_names[] = {
	"?", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2",
	"TIME_WAIT", "CLOSED", "CLOSE_WAIT", "LAST_ACK", "LISTEN", "CLOSING",
};

const char *tt_state_name(int state)
{
	if (state < 0)
		return "(none)";
	if (state >= (int)(sizeof(state_names) / sizeof(state_names[0])))
		return "?";
	return state_names[state];
}

void tt_stack_init(struct test_stack *t)
{
	ts_init_l3(t, TT_US, 24);
}

void tt_conn_init(struct tt_conn *c, struct test_stack *t, bool active)
{
	memset(c, 0, sizeof(*c));
	c->t = t;
	c->active = active;
	c->us_addr = ts_ip(TT_US);
	c->peer_addr = ts_ip(TT_PEER);
	c->us_port = active ? 0 : 8080;
	c->peer_port = active ? 80 : 40000;
	c->fd = -1;
	c->lfd = -1;
	c->backlog = 8;
	c->irs = 0x10000000;
	c->win = 65535;
	c->mss = 1460;
}

/* ---- building and injecting -------------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

size_t tt_build(uint8_t *buf, const struct tt_out *o)
{
	size_t hlen = 20 + o->optlen;
	size_t tlen = hlen + o->len;
	uint8_t *th = malloc(tlen);
	int doff = o->doff_words ? o->doff_words : (int)(hlen / 4);
	uint16_t sum;
	size_t n;

	assert_non_null(th);
	put16(th, o->sport);
	put16(th + 2, o->dport);
	put32(th + 4, o->seq);
	put32(th + 8, o->ack);
	th[12] = (uint8_t)(doff << 4);
	th[13] = o->flags;
	put16(th + 14, o->win);
	put16(th + 16, 0);
	put16(th + 18, o->urg_ptr);
	if (o->optlen)
		memcpy(th + 20, o->opt, o->optlen);
	if (o->len)
		memcpy(th + hlen, o->data, o->len);
	sum = csum_fold(csum_partial(th, tlen, csum_tcpudp_nofold(
			o->saddr, o->daddr, IPPROTO_TCP, (uint16_t)tlen, 0)));
	if (o->bad_csum)
		sum ^= 0x0100;
	put16(th + 16, sum);
	n = tb_ipv4(buf, o->saddr, o->daddr, IPPROTO_TCP, 1, IP_DF, 64, th,
		    tlen);
	free(th);
	return n;
}

/* On an Ethernet test device the packet comes in a frame from the peer. */
void tt_inject(struct test_stack *t, const struct tt_out *o)
{
	uint8_t *buf = malloc(ETH_HLEN + 20 + 60 + o->optlen + o->len);
	size_t n = 0;

	assert_non_null(buf);
	if (t->dev->hard_header_len)
		n = tb_eth(buf, TS_DEV_MAC, TS_PEER_MAC, ETH_P_IP);
	n += tt_build(buf + n, o);
	ts_inject(t, buf, n);
	free(buf);
}

void tt_send_opt(struct tt_conn *c, uint8_t flags, uint32_t seq, uint32_t ack,
		 const uint8_t *opt, size_t optlen, const void *data,
		 size_t len)
{
	struct tt_out o = {
		.saddr = c->peer_addr, .daddr = c->us_addr,
		.sport = c->peer_port, .dport = c->us_port,
		.seq = seq, .ack = ack, .flags = flags, .win = c->win,
		.opt = opt, .optlen = optlen, .data = data, .len = len,
	};

	tt_inject(c->t, &o);
}

void tt_send(struct tt_conn *c, uint8_t flags, uint32_t seq, uint32_t ack,
	     const void *data, size_t len)
{
	tt_send_opt(c, flags, seq, ack, NULL, 0, data, len);
}

void tt_icmp_about(const struct tt_conn *c, uint32_t seq, uint8_t type,
		   uint8_t code, uint16_t mtu)
{
	uint8_t icmp[8 + 28], ip[64], frame[ETH_HLEN + 64];
	uint16_t sum;
	size_t n = 0;

	memset(icmp, 0, sizeof(icmp));
	icmp[0] = type;
	icmp[1] = code;
	icmp[6] = (uint8_t)(mtu >> 8);
	icmp[7] = (uint8_t)mtu;
	/* The quoted datagram: ours, to the peer, 1500 bytes long. */
	tb_ipv4(icmp + 8, c->us_addr, c->peer_addr, IPPROTO_TCP, 1, 0x4000,
		64, "\0\0\0\0\0\0\0\0", 8);
	icmp[8 + 2] = 1500 >> 8;
	icmp[8 + 3] = 1500 & 0xff;
	icmp[28] = (uint8_t)(c->us_port >> 8);
	icmp[29] = (uint8_t)c->us_port;
	icmp[30] = (uint8_t)(c->peer_port >> 8);
	icmp[31] = (uint8_t)c->peer_port;
	icmp[32] = (uint8_t)(seq >> 24);
	icmp[33] = (uint8_t)(seq >> 16);
	icmp[34] = (uint8_t)(seq >> 8);
	icmp[35] = (uint8_t)seq;
	sum = inet_csum(icmp, sizeof(icmp));
	icmp[2] = (uint8_t)(sum >> 8);
	icmp[3] = (uint8_t)sum;
	if (c->t->dev->hard_header_len)
		n = tb_eth(frame, TS_DEV_MAC, TS_PEER_MAC, ETH_P_IP);
	memcpy(frame + n, ip,
	       tb_ipv4(ip, c->peer_addr, c->us_addr, IPPROTO_ICMP, 2, 0, 64,
		       icmp, sizeof(icmp)));
	n += 20 + sizeof(icmp);
	ts_inject(c->t, frame, n);
}

void tt_send_sack(struct tt_conn *c, uint32_t ack, const uint32_t (*b)[2],
		  int n)
{
	uint32_t base = c->iss + 1;
	uint8_t o[4 + 8 * 4] = { TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK };

	assert_true(n >= 1 && n <= 4);
	o[3] = (uint8_t)(2 + 8 * n);
	for (int i = 0; i < n; i++) {
		uint32_t s = htonl(base + b[i][0]), e = htonl(base + b[i][1]);

		memcpy(o + 4 + 8 * i, &s, 4);
		memcpy(o + 8 + 8 * i, &e, 4);
	}
	tt_send_opt(c, TCPHDR_ACK, c->snd_nxt, base + ack, o,
		    4 + 8 * (size_t)n, NULL, 0);
}

void tt_peer(struct tt_conn *c, uint8_t flags, const void *data, size_t len)
{
	uint32_t seq = c->snd_nxt;

	c->snd_nxt += (uint32_t)len + ((flags & TCPHDR_SYN) ? 1 : 0) +
		      ((flags & TCPHDR_FIN) ? 1 : 0);
	tt_send(c, flags, seq, (flags & TCPHDR_ACK) ? c->rcv_nxt : 0, data,
		len);
}

void tt_peer_at(struct tt_conn *c, uint32_t off, uint8_t flags,
		const void *data, size_t len)
{
	tt_send(c, flags, c->snd_nxt + off,
		(flags & TCPHDR_ACK) ? c->rcv_nxt : 0, data, len);
}

/* ---- what the stack sent ------------------------------------------------ */

bool tt_pop(struct test_stack *t, struct tt_seg *s)
{
	struct sk_buff *skb = ts_pop_tx(t);
	uint32_t sum;
	size_t tlen;

	if (!skb)
		return false;
	memset(s, 0, sizeof(*s));
	/* On an Ethernet test device: a frame to the peer. */
	if (t->dev->hard_header_len) {
		assert_true(skb->len >= ETH_HLEN);
		assert_memory_equal(skb->data, TS_PEER_MAC, 6);
		assert_int_equal(skb->data[12] << 8 | skb->data[13], ETH_P_IP);
		skb_pull(skb, ETH_HLEN);
	}
	assert_int_equal(ipv4_parse(skb->data, skb->len, &s->ip),
			 US_DROP_NOT_DROPPED);
	assert_int_equal(s->ip.tot_len, skb->len);
	assert_int_equal(s->ip.protocol, IPPROTO_TCP);
	tlen = s->ip.tot_len - s->ip.ihl_bytes;
	assert_int_equal(tcp_parse_header(skb->data + s->ip.ihl_bytes, tlen,
					  &s->th), US_DROP_NOT_DROPPED);
	sum = csum_tcpudp_nofold(s->ip.saddr, s->ip.daddr, IPPROTO_TCP,
				 (uint16_t)tlen, 0);
	assert_int_equal(csum_fold(csum_partial(skb->data + s->ip.ihl_bytes,
						tlen, sum)), 0);
	s->len = (uint32_t)(tlen - s->th.doff);
	memcpy(s->data, skb->data + s->ip.ihl_bytes + s->th.doff,
	       s->len < TT_MAX_DATA ? s->len : TT_MAX_DATA);
	skb_free(skb);
	return true;
}

static void flags_str(uint8_t f, char *buf)
{
	static const char names[] = "FSRPAUEC";

	for (int i = 0; i < 8; i++)
		*buf++ = (f & (1u << i)) ? names[i] : '.';
	*buf = 0;
}

static struct tt_seg last_seg;

const struct tt_seg *tt_expect_(struct tt_conn *c, uint8_t flags, uint32_t seq,
				uint32_t ack, const char *file, int line)
{
	struct tt_seg *s = &last_seg;
	char want[9], got[9];

	flags_str(flags, want);
	if (!tt_pop(c->t, s)) {
		print_error("expected [%s] seq %u ack %u, nothing was sent\n",
			    want, seq, ack);
		_fail(file, line);
	}
	flags_str(s->th.flags, got);
	if (s->ip.saddr != c->us_addr || s->ip.daddr != c->peer_addr ||
	    s->th.dport != c->peer_port ||
	    (c->us_port && s->th.sport != c->us_port) ||
	    s->th.flags != flags || s->th.seq != seq ||
	    ((flags & TCPHDR_ACK) && s->th.ack != ack)) {
		print_error("expected [%s] seq %u ack %u to port %u, got [%s] "
			    "seq %u ack %u len %u win %u ports %u->%u\n",
			    want, seq, ack, c->peer_port, got, s->th.seq,
			    s->th.ack, s->len, s->th.window, s->th.sport,
			    s->th.dport);
		_fail(file, line);
	}
	return s;
}

const struct tt_seg *tt_expect_ack_(struct tt_conn *c, const char *file,
				    int line)
{
	const struct tt_seg *s = tt_expect_(c, TCPHDR_ACK, c->rcv_nxt,
					    c->snd_nxt, file, line);

	_assert_int_equal(s->len, 0, file, line);
	return s;
}

const struct tt_seg *tt_expect_data_(struct tt_conn *c, uint32_t seq,
				     uint32_t len, const char *file, int line)
{
	struct tt_seg *s = &last_seg;

	if (!tt_pop(c->t, s)) {
		print_error("expected %u bytes at seq %u, nothing was sent\n",
			    len, seq);
		_fail(file, line);
	}
	if ((s->th.flags & ~TCPHDR_PSH) != TCPHDR_ACK || s->th.seq != seq ||
	    s->th.ack != c->snd_nxt || s->len != len ||
	    s->th.dport != c->peer_port) {
		char got[9];

		flags_str(s->th.flags, got);
		print_error("expected %u bytes at seq %u ack %u, got [%s] seq %u "
			    "ack %u len %u\n", len, seq, c->snd_nxt, got,
			    s->th.seq, s->th.ack, s->len);
		_fail(file, line);
	}
	return s;
}

void tt_expect_none_(struct test_stack *t, const char *file, int line)
{
	struct tt_seg s;

	if (tt_pop(t, &s)) {
		char got[9];

		flags_str(s.th.flags, got);
		print_error("expected nothing, got [%s] seq %u ack %u len %u\n",
			    got, s.th.seq, s.th.ack, s.len);
		_fail(file, line);
	}
}

/* ---- the socket side ---------------------------------------------------- */

void tt_info(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	assert_int_equal(us_getsockopt(fd, IPPROTO_TCP, TCP_INFO, ti, &len), 0);
}

int tt_state(int fd)
{
	struct tcp_info ti;

	tt_info(fd, &ti);
	return ti.tcpi_state;
}

int tt_conn_state(struct tt_conn *c)
{
	struct sock *sk = tcp_lookup_established(c->t->st, c->peer_addr,
						 htons(c->peer_port),
						 c->us_addr,
						 htons(c->us_port), 0);

	if (sk)
		return sk->state;
	/* TIME_WAIT is an entry of its own (tcp_timewait.c). */
	return tcp_tw_lookup(c->t->st, 0, c->peer_addr, htons(c->peer_port),
			     c->us_addr, htons(c->us_port)) ? TCP_TIME_WAIT : -1;
}

int tt_so_error(int fd)
{
	int err = -1;
	socklen_t len = sizeof(err);

	assert_int_equal(us_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	return err;
}

struct sock *tt_sk(int fd)
{
	struct socket *sock = sockfd_lookup(fd, NULL);
	struct sock *sk;

	assert_non_null(sock);
	sk = sock->sk;
	sockfd_put(sock);
	return sk;
}

uint32_t tt_poll(int fd)
{
	struct socket *sock = sockfd_lookup(fd, NULL);
	uint32_t mask;

	assert_non_null(sock);
	pthread_mutex_lock(&sock->st->lock);
	mask = sock->ops->poll(sock);
	pthread_mutex_unlock(&sock->st->lock);
	sockfd_put(sock);
	return mask;
}

uint64_t tt_drops(struct test_stack *t, enum us_drop_reason r)
{
	return t->st->stats.drops[r];
}

uint64_t tt_mib(struct test_stack *t, enum us_mib m)
{
	return t->st->stats.mib[m];
}

/* ---- fixtures ----------------------------------------------------------- */

/* A socket the user holds whose connection is in TIME_WAIT is CLOSED, as
 * on Linux: the TIME_WAIT entry has the connection (tcp_timewait.c). */
static void expect_state(struct tt_conn *c, int want)
{
	int fd_want = want == TCP_TIME_WAIT ? TCP_CLOSE : want;
	int got = c->fd >= 0 ? tt_state(c->fd) : tt_conn_state(c);

	if (c->fd < 0)
		fd_want = want;
	if (got != fd_want)
		print_error("state %s, expected %s\n", tt_state_name(got),
			    tt_state_name(fd_want));
	assert_int_equal(got, fd_want);
	if (c->fd >= 0)
		assert_int_equal(tt_conn_state(c), want);
}

int tt_listen(struct test_stack *t, uint16_t port, int backlog)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port) };
	int one = 1;
	int fd = us_socket_on(t->st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	assert_int_equal(us_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				       sizeof(one)), 0);
	assert_int_equal(us_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(us_listen(fd, backlog), 0);
	return fd;
}

/* The options of the peer's SYN: MSS, and SACK-permitted when asked
 * (opt: 8 bytes). */
static size_t mss_opt(const struct tt_conn *c, uint8_t *opt)
{
	size_t n = 0;

	if (c->mss) {
		opt[0] = TCPOPT_MSS;
		opt[1] = TCPOLEN_MSS;
		put16(opt + 2, c->mss);
		n = 4;
	}
	if (c->sack_perm) {
		opt[n] = TCPOPT_NOP;
		opt[n + 1] = TCPOPT_NOP;
		opt[n + 2] = TCPOPT_SACK_PERM;
		opt[n + 3] = TCPOLEN_SACK_PERM;
		n += 4;
	}
	return n;
}

const struct tt_seg *tt_open_synrecv(struct tt_conn *c)
{
	const struct tt_seg *s;
	uint8_t opt[8];

	if (c->lfd < 0)
		c->lfd = tt_listen(c->t, c->us_port, c->backlog);
	c->snd_nxt = c->irs + 1;
	tt_send_opt(c, TCPHDR_SYN, c->irs, 0, opt, mss_opt(c, opt), NULL, 0);
	if (!tt_pop(c->t, &last_seg))
		fail_msg("no SYN-ACK");
	s = &last_seg;
	assert_int_equal(s->th.flags, TCPHDR_SYN | TCPHDR_ACK);
	assert_int_equal(s->th.ack, c->irs + 1);
	assert_int_equal(s->th.sport, c->us_port);
	assert_int_equal(s->th.dport, c->peer_port);
	assert_int_equal(s->len, 0);
	assert_true(s->th.opts.mss_ok);
	c->iss = s->th.seq;
	c->rcv_nxt = c->iss + 1;
	expect_state(c, TCP_SYN_RECV);
	return s;
}

const struct tt_seg *tt_open_synsent(struct tt_conn *c)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(c->peer_port),
				   .sin_addr.s_addr = c->peer_addr };
	const struct tt_seg *s;

	if (c->fd < 0) {
		c->fd = us_socket_on(c->t->st, AF_INET,
				     SOCK_STREAM | SOCK_NONBLOCK, 0);
		assert_true(c->fd >= 0);
	}
	assert_int_equal(us_connect(c->fd, (struct sockaddr *)&sin,
				    sizeof(sin)), -1);
	assert_int_equal(errno, EINPROGRESS);
	if (!tt_pop(c->t, &last_seg))
		fail_msg("no SYN");
	s = &last_seg;
	assert_int_equal(s->th.flags, TCPHDR_SYN);
	assert_int_equal(s->th.dport, c->peer_port);
	assert_int_equal(s->ip.saddr, c->us_addr);
	assert_int_equal(s->ip.daddr, c->peer_addr);
	assert_int_equal(s->len, 0);
	assert_true(s->th.opts.mss_ok);
	c->us_port = s->th.sport;
	c->iss = s->th.seq;
	c->rcv_nxt = c->iss + 1;
	expect_state(c, TCP_SYN_SENT);
	return s;
}

void tt_open(struct tt_conn *c)
{
	uint8_t opt[8];

	if (c->active) {
		tt_open_synsent(c);
		c->snd_nxt = c->irs + 1;
		tt_send_opt(c, TCPHDR_SYN | TCPHDR_ACK, c->irs, c->rcv_nxt, opt,
			    mss_opt(c, opt), NULL, 0);
		TT_EXPECT_ACK(c);
	} else {
		struct sockaddr_in sin;
		socklen_t len = sizeof(sin);

		tt_open_synrecv(c);
		tt_peer(c, TCPHDR_ACK, NULL, 0);
		TT_EXPECT_NONE(c->t);
		c->fd = us_accept4(c->lfd, (struct sockaddr *)&sin, &len,
				   SOCK_NONBLOCK);
		assert_true(c->fd >= 0);
		assert_int_equal(sin.sin_addr.s_addr, c->peer_addr);
		assert_int_equal(ntohs(sin.sin_port), c->peer_port);
	}
	expect_state(c, TCP_ESTABLISHED);
}

static void close_or_shutdown(struct tt_conn *c, bool orphan)
{
	if (orphan) {
		assert_int_equal(us_close(c->fd), 0);
		c->fd = -1;
	} else {
		assert_int_equal(us_shutdown(c->fd, SHUT_WR), 0);
	}
}

void tt_to_fin_wait1(struct tt_conn *c, bool orphan)
{
	close_or_shutdown(c, orphan);
	TT_EXPECT(c, TCPHDR_FIN | TCPHDR_ACK, c->rcv_nxt, c->snd_nxt);
	c->rcv_nxt++;
	expect_state(c, TCP_FIN_WAIT1);
}

void tt_to_fin_wait2(struct tt_conn *c, bool orphan)
{
	tt_to_fin_wait1(c, orphan);
	tt_peer(c, TCPHDR_ACK, NULL, 0);
	TT_EXPECT_NONE(c->t);
	expect_state(c, TCP_FIN_WAIT2);
}

void tt_to_close_wait(struct tt_conn *c)
{
	tt_peer(c, TCPHDR_FIN | TCPHDR_ACK, NULL, 0);
	/* After data the FIN's ACK waits the delay (Linux's tcp_fin makes
	 * the connection interactive); before any, it goes at once. */
	if (!c->t->txq->qlen)
		ts_advance(c->t, TCP_DELACK_MIN_US);
	TT_EXPECT_ACK(c);
	expect_state(c, TCP_CLOSE_WAIT);
}

void tt_to_last_ack(struct tt_conn *c, bool orphan)
{
	tt_to_close_wait(c);
	close_or_shutdown(c, orphan);
	TT_EXPECT(c, TCPHDR_FIN | TCPHDR_ACK, c->rcv_nxt, c->snd_nxt);
	c->rcv_nxt++;
	expect_state(c, TCP_LAST_ACK);
}

void tt_to_closing(struct tt_conn *c, bool orphan)
{
	tt_to_fin_wait1(c, orphan);
	/* The peer's FIN crossed ours: it acknowledges only up to it. */
	tt_send(c, TCPHDR_FIN | TCPHDR_ACK, c->snd_nxt, c->rcv_nxt - 1, NULL,
		0);
	c->snd_nxt++;
	TT_EXPECT_ACK(c);
	expect_state(c, TCP_CLOSING);
}

void tt_to_time_wait(struct tt_conn *c, bool orphan)
{
	tt_to_fin_wait2(c, orphan);
	tt_peer(c, TCPHDR_FIN | TCPHDR_ACK, NULL, 0);
	TT_EXPECT_ACK(c);
	expect_state(c, TCP_TIME_WAIT);
}
