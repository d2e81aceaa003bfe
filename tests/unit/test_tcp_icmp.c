/*
 * test_tcp_icmp.c - ICMP errors about TCP segments (tcp_err.c, RFC 1122
 * §4.2.3.9, RFC 5927, RFC 1191) with crafted errors quoting what the
 * stack sent: a "fragmentation needed" lowers the MSS of every
 * connection to that destination and sends again, cut, what the quoted
 * connection had in flight (with SACK, not what was SACKed); another
 * connection cuts its own when its error or its timeout comes; the
 * counters of the scoreboard come back to 0. An error that quotes a
 * sequence number not outstanding is counted and changes nothing (after
 * a go-back, data up to SND.MAX is outstanding); during the handshake
 * time exceeded, parameter problem and the administrative unreachables
 * end connect() with Linux's errno, source quench does nothing; a
 * listener's embryo goes when its peer is unreachable. Unreachables that
 * keep the RTO short (RFC 6069) do not end a connection sooner: the
 * limit is on time. A source-routed connection's MSS follows the path
 * MTU to the route's first hop.
 * (packetdrill's icmp/ scripts check the same against Linux.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <stdio.h>
#include <string.h>

#include "core/checksum.h"
#include "lib/tcptest.h"
#include "net/ether.h"
#include "net/icmp.h"
#include "socket/socket.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

static struct test_stack T;
static uint8_t BUF[8192];

static int setup(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	return 0;
}

static void open_active(struct tt_conn *c, uint16_t peer_port)
{
	tt_conn_init(c, &T, true);
	c->peer_port = peer_port;
	tt_open(c);
}

static uint32_t snd_mss(int fd)
{
	struct tcp_info ti;

	tt_info(fd, &ti);
	return ti.tcpi_snd_mss;
}

/* Everything acknowledged: nothing in flight, lost or sent again, and no
 * send-buffer memory held. */
static void expect_all_acked(struct tt_conn *c)
{
	struct tcp_info ti;
	int err;
	struct socket *sock = sockfd_lookup(c->fd, &err);

	tt_info(c->fd, &ti);
	assert_int_equal(ti.tcpi_unacked, 0);
	assert_int_equal(ti.tcpi_lost, 0);
	assert_int_equal(ti.tcpi_retrans, 0);
	assert_non_null(sock);
	assert_int_equal(sock->sk->wmem_alloc, 0);
	sockfd_put(sock);
}

/* RFC 1191 §3-4: the path MTU to the peer falls to 1200 (MSS 1160). */
static void test_frag_needed(void **state)
{
	struct tt_conn a, b;

	(void)state;
	open_active(&a, 80);
	open_active(&b, 81);
	assert_int_equal(snd_mss(a.fd), 1460);
	assert_int_equal(us_send(a.fd, BUF, 2920, 0), 2920);
	TT_EXPECT_DATA(&a, a.iss + 1, 1460);
	TT_EXPECT_DATA(&a, a.iss + 1461, 1460);
	assert_int_equal(us_send(b.fd, BUF, 1460, 0), 1460);
	TT_EXPECT_DATA(&b, b.iss + 1, 1460);

	tt_icmp_about(&a, a.iss + 1, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1200);
	/* What a had in flight goes again at once, in MSS-sized pieces. */
	TT_EXPECT_DATA(&a, a.iss + 1, 1160);
	TT_EXPECT_DATA(&a, a.iss + 1161, 300);
	TT_EXPECT_DATA(&a, a.iss + 1461, 1160);
	TT_EXPECT_DATA(&a, a.iss + 2621, 300);
	TT_EXPECT_NONE(&T);
	assert_int_equal(snd_mss(a.fd), 1160);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_RETRANS_SEGS), 4);
	/* b, to the same peer, takes the smaller MSS at once; its segment
	 * in flight goes again, cut, when its own error comes (the path's
	 * MTU is known by then: the decision is b's). */
	assert_int_equal(snd_mss(b.fd), 1160);
	tt_icmp_about(&b, b.iss + 1, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1200);
	TT_EXPECT_DATA(&b, b.iss + 1, 1160);
	TT_EXPECT_DATA(&b, b.iss + 1161, 300);
	TT_EXPECT_NONE(&T);
	assert_int_equal(us_send(b.fd, BUF, 2000, 0), 2000);
	TT_EXPECT_DATA(&b, b.iss + 1461, 1160);
	TT_EXPECT_DATA(&b, b.iss + 2621, 840);
	TT_EXPECT_NONE(&T);
	/* A second, larger report is old news; the same one again finds
	 * nothing too long in flight. */
	tt_icmp_about(&a, a.iss + 1, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400);
	tt_icmp_about(&a, a.iss + 1, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1200);
	TT_EXPECT_NONE(&T);
	assert_int_equal(snd_mss(a.fd), 1160);
	/* The acknowledgments of the pieces free them all. */
	tt_send(&a, TCPHDR_ACK, a.snd_nxt, a.iss + 2921, NULL, 0);
	tt_send(&b, TCPHDR_ACK, b.snd_nxt, b.iss + 3461, NULL, 0);
	TT_EXPECT_NONE(&T);
	expect_all_acked(&a);
	expect_all_acked(&b);
}

/*
 * SIOCSIFMTU lowers the device's MTU under an open connection: its next
 * segments fit the new MTU (Linux's tcp_current_mss finds dst_mtu changed
 * at the next transmission), where they were dropped as too big for the
 * device with DF (EMSGSIZE) and retransmitted at the old size until the
 * connection timed out. Raised again, the MSS comes back.
 */
static void test_device_mtu_lowered(void **state)
{
	struct tt_conn a;
	struct ifreq ifr;

	(void)state;
	if (geteuid() != 0)
		skip();   /* SIOCSIFMTU needs CAP_NET_ADMIN, as on Linux */
	open_active(&a, 80);
	assert_int_equal(snd_mss(a.fd), 1460);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", T.dev->name);
	ifr.ifr_mtu = 1200;
	assert_int_equal(us_ioctl(a.fd, SIOCSIFMTU, &ifr), 0);
	assert_int_equal(snd_mss(a.fd), 1160);
	assert_int_equal(us_send(a.fd, BUF, 2000, 0), 2000);
	TT_EXPECT_DATA(&a, a.iss + 1, 1160);
	TT_EXPECT_DATA(&a, a.iss + 1161, 840);
	TT_EXPECT_NONE(&T);
	ifr.ifr_mtu = 1500;
	assert_int_equal(us_ioctl(a.fd, SIOCSIFMTU, &ifr), 0);
	assert_int_equal(snd_mss(a.fd), 1460);
	tt_send(&a, TCPHDR_ACK, a.snd_nxt, a.iss + 2001, NULL, 0);
	expect_all_acked(&a);
}

/* The next segment sent: its sequence number, length and DF bit. */
static void expect_piece(uint32_t seq, uint32_t len, bool df)
{
	struct tt_seg s;

	assert_true(tt_pop(&T, &s));
	assert_int_equal(s.th.seq, seq);
	assert_int_equal(s.len, len);
	assert_int_equal(!!(s.ip.frag_off & IP_DF), df);
}

/*
 * RFC 1191 §6.3: what was learnt is forgotten after 10 minutes and the
 * connections to that peer, idle ones too, take the device's MSS again
 * (as Linux's tcp_current_mss finds at the next send).
 */
static void test_mss_back_after_expiry(void **state)
{
	struct tt_conn a, b;

	(void)state;
	open_active(&a, 80);
	open_active(&b, 81);
	assert_int_equal(us_send(a.fd, BUF, 1460, 0), 1460);
	TT_EXPECT_DATA(&a, a.iss + 1, 1460);
	tt_icmp_about(&a, a.iss + 1, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1200);
	TT_EXPECT_DATA(&a, a.iss + 1, 1160);
	TT_EXPECT_DATA(&a, a.iss + 1161, 300);
	tt_send(&a, TCPHDR_ACK, a.snd_nxt, a.iss + 1461, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(snd_mss(a.fd), 1160);
	assert_int_equal(snd_mss(b.fd), 1160);
	ts_advance(&T, 599 * 1000000LL);
	assert_int_equal(snd_mss(a.fd), 1160);
	ts_advance(&T, 1000000);
	assert_int_equal(snd_mss(a.fd), 1460);
	assert_int_equal(snd_mss(b.fd), 1460);
	assert_int_equal(us_send(a.fd, BUF, 1460, 0), 1460);
	TT_EXPECT_DATA(&a, a.iss + 1461, 1460);
	tt_send(&a, TCPHDR_ACK, a.snd_nxt, a.iss + 2921, NULL, 0);
	TT_EXPECT_NONE(&T);
	expect_all_acked(&a);
}

/*
 * A path MTU learnt from an error about another protocol's packet (UDP's
 * udp_err calls ip_pmtu_update) lowers the MSS of the TCP connections to
 * that peer too; when the entry makes room for other destinations', the
 * MSS goes back up.
 */
static void test_mss_follows_table(void **state)
{
	struct tt_conn a;
	char name[32];
	int i;

	(void)state;
	open_active(&a, 80);
	assert_int_equal(ip_pmtu_update(T.st, a.peer_addr, 1200), 1200);
	assert_int_equal(snd_mss(a.fd), 1160);
	assert_int_equal(ip_route_add(T.st, 0, 0, a.peer_addr, T.dev), 0);
	for (i = 0; i < 10000 && ip_pmtu_get(T.st, a.peer_addr, NULL); i++) {
		snprintf(name, sizeof(name), "172.16.%d.%d", i / 250,
			 i % 250 + 1);
		ts_advance(&T, 1000);
		ip_pmtu_update(T.st, ts_ip(name), 1400);
	}
	assert_int_equal(ip_pmtu_get(T.st, a.peer_addr, NULL), 0);
	assert_int_equal(snd_mss(a.fd), 1460);
}

/*
 * A connection whose IP_OPTIONS hold a source route goes to the route's
 * first hop (RFC 791 §3.1), and it is that route's MTU the MSS follows,
 * as Linux's socket caches the route to the first hop (tcp_v4_connect,
 * inet_csk_rebuild_route): a path MTU learnt for the final destination
 * changes nothing, one for the first hop lowers the MSS. The segments
 * carry the 8 bytes of options, which come off the MSS too.
 */
static void test_srr_mss_first_hop(void **state)
{
	static const uint8_t lsrr[8] = { 0x83, 7, 4, 10, 0, 0, 1, 1 };
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(80) };
	struct tt_conn c;
	struct sk_buff *skb;
	uint8_t opt[4] = { 2, 4, 1460 >> 8, 1460 & 0xff };

	(void)state;
	tt_conn_init(&c, &T, true);
	c.peer_addr = ts_ip("10.0.0.99");
	sin.sin_addr.s_addr = c.peer_addr;
	c.fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(c.fd >= 0);
	assert_int_equal(us_setsockopt(c.fd, IPPROTO_IP, IP_OPTIONS, lsrr,
				       sizeof(lsrr)), 0);
	assert_int_equal(us_connect(c.fd, (struct sockaddr *)&sin,
				    sizeof(sin)), -1);
	assert_int_equal(errno, EINPROGRESS);
	/* The SYN: to the first hop, the destination in the route. */
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_int_equal(skb->data[0], 0x47);
	assert_memory_equal(skb->data + 16, "\x0a\x00\x00\x01", 4);
	assert_memory_equal(skb->data + 20, "\x83\x07\x04", 3);
	assert_memory_equal(skb->data + 23, &c.peer_addr, 4);
	c.us_port = (uint16_t)(skb->data[28] << 8 | skb->data[29]);
	c.iss = (uint32_t)skb->data[32] << 24 | skb->data[33] << 16 |
		skb->data[34] << 8 | skb->data[35];
	skb_free(skb);
	c.rcv_nxt = c.iss + 1;
	c.snd_nxt = c.irs + 1;
	tt_send_opt(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs, c.rcv_nxt, opt,
		    sizeof(opt), NULL, 0);
	ts_flush_tx(&T);
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
	assert_int_equal(snd_mss(c.fd), 1460 - 8);
	assert_int_equal(ip_pmtu_update(T.st, c.peer_addr, 1200), 1200);
	assert_int_equal(snd_mss(c.fd), 1460 - 8);
	/* (Setting the options again makes the MSS again at once.) */
	assert_int_equal(us_setsockopt(c.fd, IPPROTO_IP, IP_OPTIONS, lsrr,
				       sizeof(lsrr)), 0);
	assert_int_equal(snd_mss(c.fd), 1460 - 8);
	assert_int_equal(ip_pmtu_update(T.st, ts_ip("10.0.0.1"), 1200), 1200);
	assert_int_equal(snd_mss(c.fd), 1200 - 40 - 8);
	us_close(c.fd);
	ts_flush_tx(&T);
}

/* net.ipv4.ip_no_pmtu_disc: 2 ignores "fragmentation needed", 3 takes
 * it for TCP (whose sequence check vouches for it), 1 takes it as 0:
 * the minimum, 552 (MSS 512). */
static void test_no_pmtu_disc_modes(void **state)
{
	struct tt_conn a, b, c;

	(void)state;
	open_active(&a, 80);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.ip_no_pmtu_disc",
					   "2"), 0);
	assert_int_equal(us_send(a.fd, BUF, 1460, 0), 1460);
	TT_EXPECT_DATA(&a, a.iss + 1, 1460);
	tt_icmp_about(&a, a.iss + 1, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1200);
	TT_EXPECT_NONE(&T);
	assert_int_equal(snd_mss(a.fd), 1460);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.ip_no_pmtu_disc",
					   "3"), 0);
	/* (Sockets made now start with IP_PMTUDISC_DONT: a's keeps WANT.) */
	tt_icmp_about(&a, a.iss + 1, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1200);
	TT_EXPECT_DATA(&a, a.iss + 1, 1160);
	TT_EXPECT_DATA(&a, a.iss + 1161, 300);
	assert_int_equal(snd_mss(a.fd), 1160);
	tt_send(&a, TCPHDR_ACK, a.snd_nxt, a.iss + 1461, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.ip_no_pmtu_disc",
					   "1"), 0);
	open_active(&b, 81);
	open_active(&c, 82);
	assert_int_equal(tt_so_error(b.fd), 0);
	assert_int_equal(us_send(b.fd, BUF, 100, 0), 100);
	expect_piece(b.iss + 1, 100, false);   /* DONT: no DF */
	tt_icmp_about(&b, b.iss + 1, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1200);
	TT_EXPECT_NONE(&T);
	assert_int_equal(snd_mss(a.fd), 512);
	assert_int_equal(snd_mss(c.fd), 512);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.ip_no_pmtu_disc",
					   "0"), 0);
}

/*
 * A path MTU reported below 552 is 552 (MSS 512) and locked, as Linux's
 * __ip_rt_update_pmtu: segments then go without DF, for the router to
 * fragment. A socket that asks IP_PMTUDISC_DO keeps DF and has a soft
 * EMSGSIZE (reported once by SO_ERROR). IP_PMTUDISC_DONT: never DF.
 */
static void test_pmtu_below_min(void **state)
{
	int dont = IP_PMTUDISC_DONT, do_ = IP_PMTUDISC_DO;
	struct tt_conn a, b, c;

	(void)state;
	open_active(&a, 80);
	open_active(&b, 81);
	open_active(&c, 82);
	assert_int_equal(us_setsockopt(b.fd, IPPROTO_IP, IP_MTU_DISCOVER,
				       &do_, sizeof(int)), 0);
	assert_int_equal(us_setsockopt(c.fd, IPPROTO_IP, IP_MTU_DISCOVER,
				       &dont, sizeof(int)), 0);
	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	expect_piece(c.iss + 1, 100, false);
	assert_int_equal(us_send(a.fd, BUF, 1460, 0), 1460);
	expect_piece(a.iss + 1, 1460, true);
	assert_int_equal(us_send(b.fd, BUF, 1000, 0), 1000);
	expect_piece(b.iss + 1, 1000, true);

	tt_icmp_about(&a, a.iss + 1, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 300);
	expect_piece(a.iss + 1, 512, false);
	expect_piece(a.iss + 513, 512, false);
	expect_piece(a.iss + 1025, 436, false);
	TT_EXPECT_NONE(&T);
	assert_int_equal(snd_mss(a.fd), 512);
	assert_int_equal(tt_so_error(a.fd), 0);

	tt_icmp_about(&b, b.iss + 1, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 300);
	expect_piece(b.iss + 1, 512, true);
	expect_piece(b.iss + 513, 488, true);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_so_error(b.fd), EMSGSIZE);
	assert_int_equal(tt_so_error(b.fd), 0);
	tt_send(&a, TCPHDR_ACK, a.snd_nxt, a.iss + 1461, NULL, 0);
	tt_send(&b, TCPHDR_ACK, b.snd_nxt, b.iss + 1001, NULL, 0);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt, c.iss + 101, NULL, 0);
	TT_EXPECT_NONE(&T);
	expect_all_acked(&a);
	expect_all_acked(&b);
}

/* A connection whose segment in flight got no error of its own (another
 * connection's lowered the MSS) cuts it when its timeout sends it again. */
static void test_cut_at_timeout(void **state)
{
	struct tt_conn a, b;

	(void)state;
	open_active(&a, 80);
	open_active(&b, 81);
	assert_int_equal(us_send(b.fd, BUF, 1460, 0), 1460);
	TT_EXPECT_DATA(&b, b.iss + 1, 1460);
	assert_int_equal(us_send(a.fd, BUF, 1460, 0), 1460);
	TT_EXPECT_DATA(&a, a.iss + 1, 1460);
	tt_icmp_about(&a, a.iss + 1, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1200);
	TT_EXPECT_DATA(&a, a.iss + 1, 1160);
	TT_EXPECT_DATA(&a, a.iss + 1161, 300);
	TT_EXPECT_NONE(&T);
	tt_send(&a, TCPHDR_ACK, a.snd_nxt, a.iss + 1461, NULL, 0);
	/* b's RTO (at least 200 ms) sends its first piece; cwnd is 1. */
	ts_advance(&T, 1000000);
	TT_EXPECT_DATA(&b, b.iss + 1, 1160);
	TT_EXPECT_NONE(&T);
	tt_send(&b, TCPHDR_ACK, b.snd_nxt, b.iss + 1161, NULL, 0);
	TT_EXPECT_DATA(&b, b.iss + 1161, 300);
	tt_send(&b, TCPHDR_ACK, b.snd_nxt, b.iss + 1461, NULL, 0);
	TT_EXPECT_NONE(&T);
	expect_all_acked(&b);
}

/* With SACK (RFC 6675): what the peer SACKed is not sent again. */
static void test_frag_needed_sack(void **state)
{
	struct tt_conn c;
	uint8_t sack[12] = { 1, 1, 5, 10 };
	uint32_t l, r;
	struct tcp_info ti;

	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	(void)state;
	tt_conn_init(&c, &T, false);
	c.sack_perm = true;
	/* A round trip of 100 ms, so that RACK (RFC 8985 §6.2) waits a
	 * quarter of it before it takes a segment for lost. */
	tt_open_synrecv(&c);
	ts_advance(&T, 100000);
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	c.fd = us_accept4(c.lfd, (struct sockaddr *)&sin, &len, SOCK_NONBLOCK);
	assert_true(c.fd >= 0);
	assert_int_equal(us_send(c.fd, BUF, 4 * 1460, 0), 4 * 1460);
	for (int i = 0; i < 4; i++)
		TT_EXPECT_DATA(&c, c.iss + 1 + (uint32_t)i * 1460, 1460);
	/* The third arrived, a round trip later. */
	ts_advance(&T, 100000);
	l = htonl(c.iss + 1 + 2 * 1460);
	r = htonl(c.iss + 1 + 3 * 1460);
	memcpy(sack + 4, &l, 4);
	memcpy(sack + 8, &r, 4);
	tt_send_opt(&c, TCPHDR_ACK, c.snd_nxt, c.iss + 1, sack, sizeof(sack),
		    NULL, 0);
	TT_EXPECT_NONE(&T);
	tt_icmp_about(&c, c.iss + 1, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1200);
	TT_EXPECT_DATA(&c, c.iss + 1, 1160);
	TT_EXPECT_DATA(&c, c.iss + 1161, 300);
	TT_EXPECT_DATA(&c, c.iss + 1461, 1160);
	TT_EXPECT_DATA(&c, c.iss + 2621, 300);
	TT_EXPECT_DATA(&c, c.iss + 4381, 1160);
	TT_EXPECT_DATA(&c, c.iss + 5541, 300);
	TT_EXPECT_NONE(&T);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_lost, 6);
	assert_int_equal(ti.tcpi_retrans, 6);
	assert_int_equal(ti.tcpi_sacked, 1);
	assert_int_equal(ti.tcpi_unacked, 7);
	tt_send(&c, TCPHDR_ACK, c.snd_nxt, c.iss + 1 + 4 * 1460, NULL, 0);
	TT_EXPECT_NONE(&T);
	expect_all_acked(&c);
}

/* RFC 5927 §4.1: an error must quote a sequence number in flight. */
static void test_out_of_window(void **state)
{
	struct tt_conn a;

	(void)state;
	open_active(&a, 80);
	assert_int_equal(us_send(a.fd, BUF, 1000, 0), 1000);
	TT_EXPECT_DATA(&a, a.iss + 1, 1000);
	tt_icmp_about(&a, a.iss + 5000, ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 576);
	tt_icmp_about(&a, a.iss, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_OUT_OF_WINDOW_ICMPS), 2);
	assert_int_equal(snd_mss(a.fd), 1460);
	assert_int_equal(tt_so_error(a.fd), 0);
	/* In flight: a soft error, read once through SO_ERROR. */
	tt_icmp_about(&a, a.iss + 1, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_OUT_OF_WINDOW_ICMPS), 2);
	assert_int_equal(tt_so_error(a.fd), EHOSTUNREACH);
	assert_int_equal(tt_so_error(a.fd), 0);
	assert_int_equal(tt_state(a.fd), TCP_ESTABLISHED);
}

/* Without SACK a timeout goes back (SND.NXT = SND.UNA): data sent before
 * it, up to SND.MAX, is still outstanding for an error to quote. */
static void test_window_after_go_back(void **state)
{
	struct tt_conn a;

	(void)state;
	open_active(&a, 80);
	assert_int_equal(us_send(a.fd, BUF, 3 * 1460, 0), 3 * 1460);
	for (int i = 0; i < 3; i++)
		TT_EXPECT_DATA(&a, a.iss + 1 + (uint32_t)i * 1460, 1460);
	ts_advance(&T, 1000000);
	TT_EXPECT_DATA(&a, a.iss + 1, 1460);
	TT_EXPECT_NONE(&T);
	tt_icmp_about(&a, a.iss + 1 + 2 * 1460, ICMP_DEST_UNREACH,
		   ICMP_HOST_UNREACH, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_OUT_OF_WINDOW_ICMPS), 0);
	assert_int_equal(tt_so_error(a.fd), EHOSTUNREACH);
}

/* Linux's tcp_req_err: an embryo goes only for an error about its ISN
 * that says the peer is out of reach. */
static void test_listener_embryo(void **state)
{
	struct tt_conn c;

	(void)state;
	tt_conn_init(&c, &T, false);
	tt_open_synrecv(&c);
	tt_icmp_about(&c, c.iss + 1, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_OUT_OF_WINDOW_ICMPS), 1);
	tt_icmp_about(&c, c.iss, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LISTEN_DROPS), 0);
	tt_icmp_about(&c, c.iss, ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LISTEN_DROPS), 1);
	/* Gone: the peer's ACK finds nothing and is answered by a RST. */
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	TT_EXPECT(&c, TCPHDR_RST, c.iss + 1, 0);
	TT_EXPECT_NONE(&T);
}

/* During the handshake: hard errors with Linux's errno, or nothing. */
static void test_synsent(void **state)
{
	static const struct {
		uint8_t type, code;
		int err;   /* 0: ignored */
	} cases[] = {
		{ ICMP_TIME_EXCEEDED, ICMP_EXC_TTL, EHOSTUNREACH },
		{ ICMP_PARAMETERPROB, 0, EPROTO },
		{ ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, ENOPROTOOPT },
		{ ICMP_DEST_UNREACH, 13, EHOSTUNREACH },  /* prohibited */
		{ ICMP_DEST_UNREACH, 16, 0 },    /* no such code */
		{ ICMP_SOURCE_QUENCH, 0, 0 },    /* RFC 6633 */
		{ ICMP_REDIRECT, 1, 0 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tt_conn c;

		tt_conn_init(&c, &T, true);
		c.peer_port = (uint16_t)(100 + i);
		tt_open_synsent(&c);
		tt_icmp_about(&c, c.iss, cases[i].type, cases[i].code, 0);
		if (cases[i].err) {
			assert_int_equal(tt_so_error(c.fd), cases[i].err);
			assert_int_equal(tt_state(c.fd), TCP_CLOSE);
		} else {
			assert_int_equal(tt_so_error(c.fd), 0);
			assert_int_equal(tt_state(c.fd), TCP_SYN_SENT);
		}
		TT_EXPECT_NONE(&T);
		us_close(c.fd);
	}
}

/*
 * RFC 6069 §3 with Linux's time-based limit (tcp_write_timeout): a host
 * unreachable answers every retransmission, each takes the backoff back,
 * and they go one RTO apart. tcp_retries2 bounds their time, as long as
 * 15 retransmissions backed off from 200 ms take (924.6 s), not their
 * number (thousands go): the first timeout 924.6 s or more after the
 * first retransmission ends the connection, with the unreachable's error.
 */
static void test_rto_revert_time_limit(void **state)
{
	const us_time_t limit = 924600000;
	struct tt_conn c;
	struct tcp_info ti;
	us_time_t n;

	(void)state;
	open_active(&c, 4000);
	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	tt_info(c.fd, &ti);
	n = (limit + ti.tcpi_rto - 1) / ti.tcpi_rto;
	assert_true(n > 15);
	for (us_time_t i = 0; i < n; i++) {
		ts_advance(&T, ti.tcpi_rto);
		TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
		TT_EXPECT_NONE(&T);
		tt_icmp_about(&c, c.rcv_nxt, ICMP_DEST_UNREACH, ICMP_HOST_UNREACH, 0);
	}
	assert_int_equal(tt_state(c.fd), TCP_ESTABLISHED);
	ts_advance(&T, ti.tcpi_rto);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_state(c.fd), TCP_CLOSE);
	assert_int_equal(tt_so_error(c.fd), EHOSTUNREACH);
}

/*
 * Linux's tcp_orphan_retries, net.ipv4.tcp_orphan_retries at 15 (as long
 * as an open socket). An orphan whose RTO backed off to TCP_RTO_MAX is
 * no longer "alive"; if an ICMP error has told of trouble meanwhile
 * (sk_err_soft: a port unreachable, which takes no step of the backoff
 * back), it has no retries left whatever the sysctl says, and the next
 * timeout ends it without a segment. Without the error it retransmits on.
 */
/* The data and the FIN behind it go again as one segment (Linux's
 * tcp_retrans_try_collapse). */
static void expect_data_fin(struct tt_conn *c, uint32_t len)
{
	const struct tt_seg *s = TT_EXPECT(c, TCPHDR_FIN | TCPHDR_PSH |
					   TCPHDR_ACK, c->rcv_nxt, c->snd_nxt);

	assert_int_equal(s->len, len);
}

static void orphan_at_rto_max(bool soft_error)
{
	struct tt_conn c;
	struct tcp_info ti;
	us_time_t gap;

	open_active(&c, 4000);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_orphan_retries",
					   "15"), 0);
	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	tt_info(c.fd, &ti);
	assert_int_equal(us_close(c.fd), 0);
	c.fd = -1;
	ts_flush_tx(&T);   /* the FIN */
	for (gap = ti.tcpi_rto; gap < 120 * US_USEC_PER_SEC;
	     gap = gap * 2 > 120 * US_USEC_PER_SEC ? 120 * US_USEC_PER_SEC
						   : gap * 2) {
		ts_advance(&T, gap);
		expect_data_fin(&c, 100);
		TT_EXPECT_NONE(&T);
	}
	if (soft_error)
		tt_icmp_about(&c, c.rcv_nxt, ICMP_DEST_UNREACH, ICMP_PORT_UNREACH,
			   0);
	ts_advance(&T, gap - 1);
	assert_int_equal(tt_conn_state(&c), TCP_FIN_WAIT1);
	ts_advance(&T, 1);
	if (soft_error) {
		TT_EXPECT_NONE(&T);
		assert_int_equal(tt_conn_state(&c), -1);
	} else {
		expect_data_fin(&c, 100);
		assert_int_equal(tt_conn_state(&c), TCP_FIN_WAIT1);
	}
}

static void test_orphan_soft_error_not_alive(void **state)
{
	orphan_at_rto_max(false);
	ts_teardown(state);
	setup(state);
	orphan_at_rto_max(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_frag_needed, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_device_mtu_lowered, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_cut_at_timeout, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_mss_back_after_expiry,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_pmtu_below_min, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_mss_follows_table, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_no_pmtu_disc_modes, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_frag_needed_sack, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_out_of_window, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_window_after_go_back,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_listener_embryo, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_synsent, setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_srr_mss_first_hop, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_rto_revert_time_limit,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_orphan_soft_error_not_alive,
						setup, ts_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
