/*
 * test_tcp_fastopen.c - TCP Fast Open (RFC 7413, src/net/tcp/tcp_fastopen.c)
 * from the inside: the option's parsing and emission, the key's sysctl,
 * and the bookkeeping a SYN that carries data must keep when it is
 * acknowledged in part or sent again (the queue's bytes, the segments in
 * flight, the send buffer's charge), and a listener's Fast Open queue.
 * The packetdrill scripts in tests/packetdrill/fastopen/ check the wire
 * against Linux; these check what the wire does not show.
 *
 * The stack is 10.0.0.2; the peer 10.0.0.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "lib/tcptest.h"
#include "net/tcp/tcp.h"
#include "net/tcp/tcp_parse.h"
#include "ustack/ustack.h"

static struct test_stack T;

static int setup(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	return 0;
}

/* ---- the option (RFC 7413 §2) -------------------------------------------- */

static void test_option_parse(void **state)
{
	/* kind 34 with an 8-byte cookie, then the experimental form empty */
	static const uint8_t fo8[] = { 34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1 };
	static const uint8_t exp0[] = { 254, 4, 0xf9, 0x89 };
	static const uint8_t odd[] = { 34, 7, 1, 2, 3, 4, 5, 1 };
	static const uint8_t big[] = { 34, 20, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
				       11, 12, 13, 14, 15, 16, 17, 18 };
	static const uint8_t short2[] = { 34, 4, 1, 2 };
	struct tcp_opts o;

	(void)state;
	assert_int_equal(tcp_parse_options(fo8, sizeof(fo8), true, &o), 0);
	assert_true(o.fo_ok);
	assert_false(o.fo_exp);
	assert_int_equal(o.fo_len, 8);
	assert_memory_equal(o.fo_cookie, fo8 + 2, 8);
	/* Only on a SYN or SYN-ACK. */
	assert_int_equal(tcp_parse_options(fo8, sizeof(fo8), false, &o), 0);
	assert_false(o.fo_ok);
	assert_int_equal(tcp_parse_options(exp0, sizeof(exp0), true, &o), 0);
	assert_true(o.fo_ok);
	assert_true(o.fo_exp);
	assert_int_equal(o.fo_len, 0);
	/* An odd length, a cookie of 18 bytes or of 2: no option. */
	assert_int_equal(tcp_parse_options(odd, sizeof(odd), true, &o), 0);
	assert_false(o.fo_ok);
	assert_int_equal(tcp_parse_options(big, sizeof(big), true, &o), 0);
	assert_false(o.fo_ok);
	assert_int_equal(tcp_parse_options(short2, sizeof(short2), true, &o),
			 0);
	assert_false(o.fo_ok);
}

/* Emitted after the others, a 10-byte option padded with two NOPs, and
 * read back the same; the experimental form carries the magic. */
static void test_option_emit(void **state)
{
	struct tcp_opts o = { 0 }, back;
	uint8_t buf[40];
	size_t n;

	(void)state;
	o.mss_ok = true;
	o.mss = 1460;
	o.fo_ok = true;
	o.fo_len = 8;
	memcpy(o.fo_cookie, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	n = tcp_emit_options(&o, true, buf);
	assert_int_equal(n, 16);
	assert_int_equal(buf[4], TCPOPT_FASTOPEN);
	assert_int_equal(buf[5], 10);
	assert_int_equal(buf[14], TCPOPT_NOP);
	assert_int_equal(buf[15], TCPOPT_NOP);
	assert_int_equal(tcp_parse_options(buf, n, true, &back), 0);
	assert_true(back.fo_ok && back.fo_len == 8);
	assert_memory_equal(back.fo_cookie, o.fo_cookie, 8);
	o.fo_exp = true;
	o.fo_len = 0;
	n = tcp_emit_options(&o, true, buf);
	assert_int_equal(n, 8);
	assert_memory_equal(buf + 4, "\xfe\x04\xf9\x89", 4);
	/* Not on a segment without SYN. */
	assert_int_equal(tcp_emit_options(&o, false, buf), 0);
}

/* ---- the sysctls ---------------------------------------------------------- */

static void test_sysctl_key(void **state)
{
	char buf[96];

	(void)state;
	/* No key until one is set or needed: zeros, as Linux reads it. */
	assert_int_equal(ustack_sysctl_get(T.st, "net.ipv4.tcp_fastopen_key",
					   buf, sizeof(buf)), 0);
	assert_string_equal(buf, "00000000-00000000-00000000-00000000");
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_fastopen_key",
					   "1-2-a-ffffffff"), 0);
	assert_int_equal(ustack_sysctl_get(T.st, "net.ipv4.tcp_fastopen_key",
					   buf, sizeof(buf)), 0);
	assert_string_equal(buf, "00000001-00000002-0000000a-ffffffff");
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_fastopen_key",
					   "1-2-3-4,5-6-7-8"), 0);
	assert_int_equal(ustack_sysctl_get(T.st, "net.ipv4.tcp_fastopen_key",
					   buf, sizeof(buf)), 0);
	assert_string_equal(buf, "00000001-00000002-00000003-00000004,"
				 "00000005-00000006-00000007-00000008");
	/* Three words, or five: EINVAL, the key as it was. */
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_fastopen_key",
					   "1-2-3"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_fastopen_key",
					   "1-2-3-4,5"), -1);
	assert_int_equal(ustack_sysctl_get(T.st, "net.ipv4.tcp_fastopen_key",
					   buf, sizeof(buf)), 0);
	assert_int_equal(strlen(buf), 71);
	/* The bits in hex, as Linux's proc_dointvec reads them. */
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_fastopen",
					   "0x603"), 0);
	assert_int_equal(ustack_sysctl_get(T.st, "net.ipv4.tcp_fastopen",
					   buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1539");
}

/* ---- the client ------------------------------------------------------------ */

static const uint8_t cookie_opt[] = { 2, 4, 0x05, 0xb4,   /* MSS 1460 */
				      34, 10, 0xc0, 0x0c, 0x1e, 0xc0, 0x0c,
				      0x1e, 0xc0, 0x0c, 1, 1 };

/* A first connection asks for a cookie and learns it from the SYN-ACK. */
static void learn_cookie(void)
{
	struct tt_conn c;
	struct tt_seg s;
	struct sockaddr_in sin;

	tt_conn_init(&c, &T, true);
	sin = (struct sockaddr_in){ .sin_family = AF_INET,
				    .sin_port = htons(c.peer_port),
				    .sin_addr.s_addr = c.peer_addr };
	c.fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c.fd >= 0);
	assert_int_equal(us_sendto(c.fd, "x", 1, MSG_FASTOPEN,
				   (struct sockaddr *)&sin, sizeof(sin)), -1);
	assert_int_equal(errno, EINPROGRESS);
	assert_true(tt_pop(&T, &s));
	assert_int_equal(s.th.flags, TCPHDR_SYN);
	assert_true(s.th.opts.fo_ok);
	assert_int_equal(s.th.opts.fo_len, 0);   /* a request */
	assert_int_equal(s.len, 0);
	c.us_port = s.th.sport;
	c.iss = s.th.seq;
	c.rcv_nxt = c.iss + 1;
	c.snd_nxt = c.irs + 1;
	tt_send_opt(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs, c.rcv_nxt, cookie_opt,
		    sizeof(cookie_opt), NULL, 0);
	TT_EXPECT_ACK(&c);
	tt_send(&c, TCPHDR_RST, c.snd_nxt, 0, NULL, 0);   /* (over) */
	us_close(c.fd);
	TT_EXPECT_NONE(&T);
}

/* The second connection's SYN carries the cookie and n bytes. */
static struct tt_conn fastopen_connect(size_t n)
{
	static char data[1000];
	struct tt_conn c;
	struct tt_seg s;
	struct sockaddr_in sin;

	learn_cookie();
	tt_conn_init(&c, &T, true);
	c.peer_port = 81;   /* (another connection to the same server) */
	sin = (struct sockaddr_in){ .sin_family = AF_INET,
				    .sin_port = htons(c.peer_port),
				    .sin_addr.s_addr = c.peer_addr };
	memset(data, 'd', sizeof(data));
	c.fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(us_sendto(c.fd, data, n, MSG_FASTOPEN,
				   (struct sockaddr *)&sin, sizeof(sin)),
			 (ssize_t)n);
	assert_true(tt_pop(&T, &s));
	assert_int_equal(s.th.flags, TCPHDR_SYN);   /* no PSH, as Linux */
	assert_true(s.th.opts.fo_ok);
	assert_int_equal(s.th.opts.fo_len, 8);
	assert_memory_equal(s.th.opts.fo_cookie, cookie_opt + 6, 8);
	assert_int_equal(s.len, n);
	c.us_port = s.th.sport;
	c.iss = s.th.seq;
	c.rcv_nxt = c.iss + 1;
	c.snd_nxt = c.irs + 1;
	return c;
}

/* The send side's books: bytes queued, segments in flight, the charge. */
static void expect_books(int fd, uint32_t bytes, uint32_t packets)
{
	struct sock *sk = tt_sk(fd);
	struct tcp_sock *tp = tcp_sk(sk);
	uint32_t sum = 0;
	int truesize = 0;
	struct sk_buff *skb;

	skb_queue_walk(&sk->write_queue, skb) {
		sum += skb->len;
		truesize += (int)skb->truesize;
	}
	assert_int_equal(sk->write_queue.bytes, bytes);
	assert_int_equal(sum, bytes);
	assert_int_equal(tp->packets_out, packets);
	assert_int_equal(sk->wmem_alloc, truesize);
}

/* The SYN-ACK takes the SYN only: the data goes again at once, with the
 * handshake's ACK, on its own in the queue; its ACK empties the books. */
static void test_synack_takes_syn_only(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;
	struct tcp_info ti;

	(void)state;
	c = fastopen_connect(100);
	expect_books(c.fd, 100, 1);
	tt_send_opt(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs, c.iss + 1, cookie_opt,
		    4, NULL, 0);
	s = TT_EXPECT_DATA(&c, c.iss + 1, 100);
	assert_true(s->th.flags & TCPHDR_PSH);
	expect_books(c.fd, 100, 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_FASTOPEN_ACTIVE_FAIL), 1);
	tt_info(c.fd, &ti);
	assert_false(ti.tcpi_options & TCPI_OPT_SYN_DATA);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt, c.iss + 101, NULL, 0);
	expect_books(c.fd, 0, 0);
	TT_EXPECT_NONE(&T);
}

/* All taken: nothing more goes but the ACK, and TCP_INFO says so. */
static void test_synack_takes_all(void **state)
{
	struct tt_conn c;
	struct tcp_info ti;

	(void)state;
	c = fastopen_connect(300);
	tt_send_opt(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs, c.iss + 301,
		    cookie_opt, 4, NULL, 0);
	c.rcv_nxt = c.iss + 301;
	TT_EXPECT_ACK(&c);
	expect_books(c.fd, 0, 0);
	tt_info(c.fd, &ti);
	assert_true(ti.tcpi_options & TCPI_OPT_SYN_DATA);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_FASTOPEN_ACTIVE), 1);
}

/* The SYN times out: it goes again without the data (RFC 7413 §4.1.3),
 * the data a segment of its own, both in flight; the SYN-ACK then takes
 * the SYN only and the data follows. */
static void test_syn_timeout(void **state)
{
	struct tt_conn c;
	struct tt_seg s;

	(void)state;
	c = fastopen_connect(50);
	ts_advance(&T, 1000000);
	assert_true(tt_pop(&T, &s));
	assert_int_equal(s.th.flags, TCPHDR_SYN);
	assert_int_equal(s.th.seq, c.iss);
	assert_int_equal(s.len, 0);
	assert_false(s.th.opts.fo_ok);
	TT_EXPECT_NONE(&T);
	expect_books(c.fd, 50, 2);
	tt_send_opt(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs, c.iss + 1, cookie_opt,
		    4, NULL, 0);
	TT_EXPECT_DATA(&c, c.iss + 1, 50);
	expect_books(c.fd, 50, 1);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt, c.iss + 51, NULL, 0);
	expect_books(c.fd, 0, 0);
}

/* ---- the server ------------------------------------------------------------ */

/* The cookie this server gives 10.0.0.1 under the key 1-2-3-4. */
static void server_cookie(struct tt_conn *c, uint8_t cookie[8])
{
	static const uint8_t req[] = { 2, 4, 0x05, 0xb4, 34, 2, 1, 1 };
	struct tt_seg s;

	c->snd_nxt = c->irs + 1;
	tt_send_opt(c, TCPHDR_SYN, c->irs, 0, req, sizeof(req), NULL, 0);
	assert_true(tt_pop(&T, &s));
	assert_int_equal(s.th.flags, TCPHDR_SYN | TCPHDR_ACK);
	assert_true(s.th.opts.fo_ok);
	assert_int_equal(s.th.opts.fo_len, 8);
	memcpy(cookie, s.th.opts.fo_cookie, 8);
	tt_send(c, TCPHDR_RST, c->irs + 1, 0, NULL, 0);
}

/*
 * TCP_FASTOPEN 1: one child may wait in SYN_RECV. A second Fast Open SYN
 * meanwhile is an ordinary one (its data not taken; counted); once the
 * first child's handshake ends, the queue has room again.
 */
static void test_queue_limit(void **state)
{
	uint8_t opt[16] = { 2, 4, 0x05, 0xb4, 34, 10 };
	struct tt_conn a, b, d;
	struct tt_seg s;
	int one = 1;

	(void)state;
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_fastopen",
					   "3"), 0);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_fastopen_key",
					   "1-2-3-4"), 0);
	tt_conn_init(&a, &T, false);
	a.lfd = tt_listen(&T, a.us_port, 8);
	assert_int_equal(us_setsockopt(a.lfd, IPPROTO_TCP, TCP_FASTOPEN, &one,
				       sizeof(one)), 0);
	server_cookie(&a, opt + 6);
	opt[14] = opt[15] = 1;
	b = a;
	d = a;
	b.peer_port++;
	d.peer_port += 2;
	a.snd_nxt = a.irs + 1 + 5;
	tt_send_opt(&a, TCPHDR_SYN, a.irs, 0, opt, sizeof(opt), "hello", 5);
	assert_true(tt_pop(&T, &s));
	assert_int_equal(s.th.ack, a.irs + 6);   /* taken */
	a.iss = s.th.seq;
	a.rcv_nxt = a.iss + 1;
	assert_int_equal(tcp_sk(tt_sk(a.lfd))->fastopen_qlen, 1);
	tt_send_opt(&b, TCPHDR_SYN, b.irs, 0, opt, sizeof(opt), "hello", 5);
	assert_true(tt_pop(&T, &s));
	assert_int_equal(s.th.ack, b.irs + 1);   /* not taken */
	assert_int_equal(tt_mib(&T, US_MIB_TCP_FASTOPEN_LISTEN_OVERFLOW), 1);
	tt_send(&a, TCPHDR_ACK, a.snd_nxt, a.rcv_nxt, NULL, 0);
	assert_int_equal(tcp_sk(tt_sk(a.lfd))->fastopen_qlen, 0);
	tt_send_opt(&d, TCPHDR_SYN, d.irs, 0, opt, sizeof(opt), "hello", 5);
	assert_true(tt_pop(&T, &s));
	assert_int_equal(s.th.ack, d.irs + 6);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_FASTOPEN_PASSIVE), 2);
	/* A reset child leaves the count. */
	tt_send(&d, TCPHDR_RST, d.irs + 6, 0, NULL, 0);
	assert_int_equal(tcp_sk(tt_sk(a.lfd))->fastopen_qlen, 0);
}

/*
 * TCP_FASTOPEN_CONNECT's connection before its first write has sent no
 * SYN: a SYN or SYN-ACK for its four-tuple (spoofed, or late from an
 * earlier connection) finds nothing to acknowledge. Every ACK is
 * answered with a RST, a SYN dropped, and the first write still opens
 * the connection.
 */
static void test_deferred_stray_segments(void **state)
{
	struct tt_conn c;
	struct tt_seg s;
	struct sockaddr_in sin, me;
	socklen_t len = sizeof(me);
	uint32_t iss;
	int one = 1;

	(void)state;
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_fastopen",
					   "0x5"), 0);
	tt_conn_init(&c, &T, true);
	sin = (struct sockaddr_in){ .sin_family = AF_INET,
				    .sin_port = htons(c.peer_port),
				    .sin_addr.s_addr = c.peer_addr };
	c.fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(us_setsockopt(c.fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT,
				       &one, sizeof(one)), 0);
	assert_int_equal(us_connect(c.fd, (struct sockaddr *)&sin,
				    sizeof(sin)), 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(us_getsockname(c.fd, (struct sockaddr *)&me, &len), 0);
	c.us_port = ntohs(me.sin_port);
	iss = tcp_sk(tt_sk(c.fd))->iss;
	tt_send(&c, TCPHDR_SYN, c.irs, 0, NULL, 0);
	TT_EXPECT_NONE(&T);
	/* Acknowledgments on both sides of the ISS. */
	tt_send(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs, iss + 1, NULL, 0);
	assert_true(tt_pop(&T, &s));
	assert_int_equal(s.th.flags, TCPHDR_RST);
	tt_send(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs, iss + 0x7fffffffu, NULL,
		0);
	assert_true(tt_pop(&T, &s));
	assert_int_equal(s.th.flags, TCPHDR_RST);
	assert_int_equal(tt_state(c.fd), TCP_SYN_SENT);
	assert_int_equal(us_write(c.fd, "hi", 2), 2);
	assert_true(tt_pop(&T, &s));
	assert_int_equal(s.th.flags, TCPHDR_SYN);
	assert_int_equal(s.th.seq, iss);
	assert_int_equal(s.len, 2);
}

/* A blocking sendto(MSG_FASTOPEN) waits for its handshake in one thread
 * while another connect()s a second socket: the second SYN must not take
 * the first write's data (the request is the first socket's alone). */
static int fd_a;

static void *fastopen_writer(void *arg)
{
	static char data[100];
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(80) };
	struct timeval tv = { 0, 300000 };

	(void)arg;
	inet_pton(AF_INET, TT_PEER, &sin.sin_addr);
	memset(data, 'A', sizeof(data));
	us_setsockopt(fd_a, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	us_sendto(fd_a, data, sizeof(data), MSG_FASTOPEN,
		  (struct sockaddr *)&sin, sizeof(sin));
	return NULL;
}

static void test_request_is_the_sockets(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(81) };
	struct tt_seg s;
	pthread_t th;
	int fd_b, to81 = 0;

	(void)state;
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_fastopen",
					   "0x5"), 0);
	inet_pton(AF_INET, TT_PEER, &sin.sin_addr);
	fd_a = us_socket_on(T.st, AF_INET, SOCK_STREAM, 0);
	fd_b = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(pthread_create(&th, NULL, fastopen_writer, NULL), 0);
	usleep(100000);   /* (the writer waits for its SYN-ACK by now) */
	assert_int_equal(us_connect(fd_b, (struct sockaddr *)&sin,
				    sizeof(sin)), -1);
	assert_int_equal(errno, EINPROGRESS);
	pthread_join(th, NULL);
	while (tt_pop(&T, &s)) {
		if (s.th.dport != 81)
			continue;
		to81++;
		assert_int_equal(s.len, 0);
		assert_false(s.th.opts.fo_ok);
	}
	assert_int_equal(to81, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_option_parse),
		cmocka_unit_test(test_option_emit),
		cmocka_unit_test_setup_teardown(test_sysctl_key, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_synack_takes_syn_only,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_synack_takes_all, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_syn_timeout, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_queue_limit, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_deferred_stray_segments,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_request_is_the_sockets,
						setup, ts_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
