/*
 * fuzz_rx.c - libFuzzer target for the whole receive path: Ethernet, ARP,
 * IPv4 (options, fragments, reassembly), ICMP (echo, errors quoted back to
 * UDP and TCP, kept on the error queues: every socket asks IP_RECVERR and
 * IP_PKTINFO) and UDP delivery into a bound and a connected socket, and
 * TCP: a listener on port 80 and a connection being opened to
 * 10.0.0.1:80, both with Fast Open and paced (SO_MAX_PACING_RATE), and a
 * listener on port 81 that takes Fast Open data without a cookie (the
 * client, the port 81 listener and the second of port 80 with BBR, the
 * rest CUBIC); port 7
 * (UDP) and port 80 have a second socket each in an SO_REUSEPORT group
 * with an SO_ATTACH_REUSEPORT_CBPF program.
 *
 * The input is a script of records. Each record's first byte chooses what
 * to do with the bytes that follow it:
 *   0  a raw Ethernet frame, as is;
 *   1  an IPv4 packet: Ethernet header to us added, IP header checksum
 *      fixed, so the fuzzer gets past the checksum to what lies behind it;
 *   2  as 1, with the UDP checksum fixed as well;
 *   3  as 1, with the ICMP checksum fixed as well;
 *   4  let virtual time pass (timers: reassembly, ARP aging, ICMP credit,
 *      TCP retransmission, TIME-WAIT);
 *   5  as 1, with the TCP checksum fixed as well;
 *   6  as 2, handed up as a UDP GSO packet (what a TAP with USO hands
 *      up: SKB_GSO_UDP_L4, checksum checked) of datagrams of a size
 *      taken from the record's last byte, when it is an unfragmented
 *      UDP packet of at most 128 of them (what the TAP lets through),
 *      else as 2; socket 1 takes one whole (UDP_GRO), socket 0 cut.
 * A record is [op][len_hi][len_lo][len bytes]. The stack runs in virtual
 * time, so every input replays exactly. The invariants: no crash, no
 * sanitizer report, no leak (LeakSanitizer at exit), and after the stack's
 * sockets are drained no packet buffer is left outside the stack's queues.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <linux/filter.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/net_tstamp.h>

#include "core/checksum.h"
#include "lib/testnet.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define MAX_FRAME 9000

static void fix_ip_csum(uint8_t *ip, size_t len)
{
	size_t ihl;

	if (len < 20)
		return;
	ihl = (size_t)(ip[0] & 0xf) * 4;
	if (ihl < 20 || ihl > len)
		return;
	ip[10] = ip[11] = 0;
	uint16_t c = inet_csum(ip, ihl);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
}

/* Fix the transport checksum after the IP header: UDP (at 6) and TCP (at
 * 16) with the pseudo-header, ICMP (at 2) without. */
static void fix_l4_csum(uint8_t *ip, size_t len, int proto)
{
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	size_t off = proto == 17 ? 6 : proto == 6 ? 16 : 2;
	int pseudo = proto != 1;
	uint32_t saddr, daddr, sum = 0;
	uint8_t *l4;
	size_t l4len;
	uint16_t c;

	if (len < 20 || ihl < 20 || ihl + off + 2 > len)
		return;
	l4 = ip + ihl;
	l4len = len - ihl;
	l4[off] = l4[off + 1] = 0;
	if (pseudo) {
		memcpy(&saddr, ip + 12, 4);
		memcpy(&daddr, ip + 16, 4);
		sum = csum_tcpudp_nofold(saddr, daddr, (uint8_t)proto,
					 (uint16_t)l4len, 0);
	}
	c = csum_fold(csum_partial(l4, l4len, sum));
	l4[off] = (uint8_t)(c >> 8);
	l4[off + 1] = (uint8_t)c;
}

static void inject_ip(struct test_stack *t, const uint8_t *p, size_t n, int op)
{
	static uint8_t frame[14 + MAX_FRAME];
	uint8_t *ip = frame + 14;

	if (n > MAX_FRAME)
		n = MAX_FRAME;
	tb_eth(frame, TS_DEV_MAC, TS_PEER_MAC, 0x0800);
	memcpy(ip, p, n);
	if (op == 2 || op == 6)
		fix_l4_csum(ip, n, 17);
	else if (op == 3)
		fix_l4_csum(ip, n, 1);
	else if (op == 5)
		fix_l4_csum(ip, n, 6);
	fix_ip_csum(ip, n);
	if (op == 6 && n >= 28 && ip[9] == 17 && (ip[0] & 0xf) >= 5 &&
	    (size_t)(ip[0] & 0xf) * 4 + 8 <= n && !(ip[6] & 0x3f) && !ip[7]) {
		uint16_t gso = (uint16_t)(1 + p[n - 1] * 6);
		size_t payload = n - (size_t)(ip[0] & 0xf) * 4 - 8;

		if (payload > gso && (payload + gso - 1) / gso <= 128) {
			ts_inject_udp_gso(t, frame, 14 + n, gso);
			return;
		}
	}
	ts_inject(t, frame, 14 + n);
}

#define NFDS 7
#define TS_FUZZ (SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_TX_SCHED | \
		 SOF_TIMESTAMPING_TX_ACK | SOF_TIMESTAMPING_SOFTWARE | \
		 SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_OPT_CMSG)
#define TS_TSONLY SOF_TIMESTAMPING_OPT_TSONLY

static void open_sockets(struct test_stack *t, int fds[NFDS])
{
	struct sockaddr_in a = { .sin_family = AF_INET };

	fds[0] = us_socket_on(t->st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	fds[1] = us_socket_on(t->st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	a.sin_port = htons(7);
	us_setsockopt(fds[0], SOL_SOCKET, SO_REUSEPORT, &(int){ 1 },
		      sizeof(int));
	us_bind(fds[0], (struct sockaddr *)&a, sizeof(a));
	a.sin_port = htons(9);
	a.sin_addr.s_addr = ts_ip("10.0.0.1");
	us_connect(fds[1], (struct sockaddr *)&a, sizeof(a));
	fds[2] = us_socket_on(t->st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	a.sin_port = htons(80);
	a.sin_addr.s_addr = 0;
	us_setsockopt(fds[2], SOL_SOCKET, SO_REUSEPORT, &(int){ 1 },
		      sizeof(int));
	us_bind(fds[2], (struct sockaddr *)&a, sizeof(a));
	us_listen(fds[2], 4);
	fds[3] = us_socket_on(t->st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	fds[4] = us_socket_on(t->st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	a.sin_port = htons(81);
	us_bind(fds[4], (struct sockaddr *)&a, sizeof(a));
	us_listen(fds[4], 4);
	/* SO_REUSEPORT groups: port 7 (UDP) and port 80 (TCP) have a
	 * second socket each, whose group program picks by the payload's
	 * first byte (0: the first socket, 1: the second, more: the hash;
	 * none, as in a bare SYN: the first). */
	fds[5] = us_socket_on(t->st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	fds[6] = us_socket_on(t->st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	for (int i = 5; i < 7; i++) {
		static const struct sock_filter first[] = {
			{ BPF_LD | BPF_B | BPF_ABS, 0, 0, 0 },
			{ BPF_RET | BPF_A, 0, 0, 0 },
		};
		struct sock_fprog fp = { 2, (struct sock_filter *)first };

		a.sin_port = htons(i == 5 ? 7 : 80);
		us_setsockopt(fds[i], SOL_SOCKET, SO_REUSEPORT, &(int){ 1 },
			      sizeof(int));
		us_bind(fds[i], (struct sockaddr *)&a, sizeof(a));
		if (i == 6)
			us_listen(fds[i], 4);
		us_setsockopt(fds[i], SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &fp,
			      sizeof(fp));
	}
	/* TCP's own pacing on the client and the first listener's
	 * children (SO_MAX_PACING_RATE; its timer meets every input). */
	us_setsockopt(fds[2], SOL_SOCKET, SO_MAX_PACING_RATE, &(int){ 20000 },
		      sizeof(int));
	us_setsockopt(fds[3], SOL_SOCKET, SO_MAX_PACING_RATE, &(int){ 20000 },
		      sizeof(int));
	for (int i = 0; i < NFDS; i++) {
		int on = 1;

		us_setsockopt(fds[i], IPPROTO_IP, IP_RECVERR, &on, sizeof(on));
		us_setsockopt(fds[i], IPPROTO_IP, IP_PKTINFO, &on, sizeof(on));
		/* Every control message a read can carry. */
		us_setsockopt(fds[i], IPPROTO_IP, IP_RECVORIGDSTADDR, &on,
			      sizeof(on));
		us_setsockopt(fds[i], IPPROTO_IP, IP_RECVTTL, &on, sizeof(on));
		us_setsockopt(fds[i], IPPROTO_IP, IP_RECVTOS, &on, sizeof(on));
		us_setsockopt(fds[i], IPPROTO_IP, IP_RECVOPTS, &on, sizeof(on));
		us_setsockopt(fds[i], IPPROTO_IP, IP_RETOPTS, &on, sizeof(on));
		/* IP options on what they send: record route, a timestamp
		 * with addresses (replies and resets echo the received). */
		us_setsockopt(fds[i], IPPROTO_IP, IP_OPTIONS,
			      i % 2 ? (const uint8_t[8]){ 7, 7, 4 }
				    : (const uint8_t[12]){ 0x44, 12, 5, 1 },
			      i % 2 ? 8 : 12);
		us_setsockopt(fds[i], SOL_SOCKET, i % 2 ? SO_TIMESTAMPNS :
			      SO_TIMESTAMP, &on, sizeof(on));
		/* Every report SO_TIMESTAMPING gives, with the packet
		 * (even) or without (odd); keys where a socket takes them
		 * now (the client's after its connect below). */
		us_setsockopt(fds[i], SOL_SOCKET, SO_TIMESTAMPING,
			      &(int){ TS_FUZZ | (i % 2 ? TS_TSONLY : 0) |
				      (i < 2 ? SOF_TIMESTAMPING_OPT_ID : 0) },
			      sizeof(int));
		/* MSG_ZEROCOPY's notices for what the client and the
		 * connected UDP socket send (with their MSG_ZEROCOPY). */
		us_setsockopt(fds[i], SOL_SOCKET, SO_ZEROCOPY, &on, sizeof(on));
	}
	/* The listener drops what comes with a TTL under 32 (IP_MINTTL),
	 * holds a connection whose handshake ACK brings no data for a
	 * SYN-ACK timeout (TCP_DEFER_ACCEPT), and gives its children
	 * interactive ACKs (TCP_QUICKACK 0 after listen()); the client
	 * bounds its window (TCP_WINDOW_CLAMP) and its unsent data
	 * (TCP_NOTSENT_LOWAT). */
	us_setsockopt(fds[2], IPPROTO_IP, IP_MINTTL, &(int){ 32 }, sizeof(int));
	us_setsockopt(fds[2], IPPROTO_TCP, TCP_DEFER_ACCEPT, &(int){ 1 },
		      sizeof(int));
	us_setsockopt(fds[2], IPPROTO_TCP, TCP_QUICKACK, &(int){ 0 },
		      sizeof(int));
	/* Every SYN's headers kept (with the link header) for the
	 * children, read when they are accepted; TCP_INQ on the client. */
	us_setsockopt(fds[2], IPPROTO_TCP, TCP_SAVE_SYN, &(int){ 2 },
		      sizeof(int));
	us_setsockopt(fds[3], IPPROTO_TCP, TCP_INQ, &(int){ 1 }, sizeof(int));
	us_setsockopt(fds[3], IPPROTO_TCP, TCP_WINDOW_CLAMP, &(int){ 4000 },
		      sizeof(int));
	us_setsockopt(fds[3], IPPROTO_TCP, TCP_NOTSENT_LOWAT, &(int){ 1000 },
		      sizeof(int));
	/* One UDP socket takes GSO packets whole, the other (port 7) cut. */
	us_setsockopt(fds[1], SOL_UDP, UDP_GRO, &(int){ 1 }, sizeof(int));
	/* TCP Fast Open both ways: the listener gives cookies and takes
	 * data with one (key 1-2-3-4), two children at a time; the client
	 * asks for a cookie with data waiting (MSG_FASTOPEN). */
	ustack_sysctl_set(t->st, "net.ipv4.tcp_fastopen", "3");
	ustack_sysctl_set(t->st, "net.ipv4.tcp_fastopen_key", "1-2-3-4");
	/* ECN asked (the client) and taken (children whose SYN asks): CE
	 * marks, ECE and CWR in the inputs meet every state. */
	ustack_sysctl_set(t->st, "net.ipv4.tcp_ecn", "1");
	us_setsockopt(fds[2], IPPROTO_TCP, TCP_FASTOPEN, &(int){ 2 },
		      sizeof(int));
	/* The second listener (port 81) needs no cookie: any SYN with data
	 * makes a Fast Open child, so its paths before the handshake's end
	 * (SYN-ACK timer, a FIN, a close, ICMP) meet every input. */
	us_setsockopt(fds[4], IPPROTO_TCP, TCP_FASTOPEN, &(int){ 2 },
		      sizeof(int));
	us_setsockopt(fds[4], IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE, &(int){ 1 },
		      sizeof(int));
	/* BBR (tcp_bbr.c, its state behind a pointer in the space a
	 * listener's queues take) on the client, chosen before it connects,
	 * and on the listeners of port 81 and the second of port 80, chosen
	 * once they listen, so that their children (Fast Open's too) run
	 * it; the first listener's children and the rest keep CUBIC. */
	for (int i = 3; i < NFDS; i += (i == 4 ? 2 : 1))
		us_setsockopt(fds[i], IPPROTO_TCP, TCP_CONGESTION, "bbr", 3);
	a.sin_addr.s_addr = ts_ip("10.0.0.1");
	us_sendto(fds[3], "hello", 5, MSG_FASTOPEN | MSG_ZEROCOPY,
		  (struct sockaddr *)&a, sizeof(a));
	us_setsockopt(fds[3], SOL_SOCKET, SO_TIMESTAMPING,
		      &(int){ TS_FUZZ | TS_TSONLY | SOF_TIMESTAMPING_OPT_ID },
		      sizeof(int));
	/* A datagram waits for ARP with its reports to come. */
	us_send(fds[1], "ping", 4, MSG_ZEROCOPY);
	/* A socket filter on every socket (a listener's passes to what it
	 * accepts): loads through each header and past the end, indirect,
	 * and a verdict from the packet, which cuts or drops some. */
	{
		static const struct sock_filter prog[] = {
			{ BPF_LDX | BPF_B | BPF_MSH, 0, 0, (uint32_t)SKF_NET_OFF },
			{ BPF_LD | BPF_B | BPF_IND, 0, 0, (uint32_t)SKF_NET_OFF + 1 },
			{ BPF_JMP | BPF_JSET | BPF_K, 0, 3, 0x40 },
			{ BPF_LD | BPF_W | BPF_ABS, 0, 0,
			  (uint32_t)SKF_AD_OFF + SKF_AD_PKTTYPE },
			{ BPF_LD | BPF_H | BPF_IND, 0, 0, 40 },
			{ BPF_RET | BPF_A, 0, 0, 0 },
			{ BPF_LD | BPF_W | BPF_LEN, 0, 0, 0 },
			{ BPF_RET | BPF_A, 0, 0, 0 },
		};
		struct sock_fprog fp = { sizeof(prog) / sizeof(prog[0]),
					 (struct sock_filter *)prog };

		for (int i = 0; i < NFDS; i++)
			us_setsockopt(fds[i], SOL_SOCKET, SO_ATTACH_FILTER, &fp,
				      sizeof(fp));
	}
	/* Peeks start a few bytes in (SO_PEEK_OFF; a listener's passes to
	 * what it accepts). */
	for (int i = 0; i < NFDS; i++)
		us_setsockopt(fds[i], SOL_SOCKET, SO_PEEK_OFF,
			      &(int){ 3 * i }, sizeof(int));
}

/* Read the error queue empty, control messages and all. */
static void drain_errors(int fd)
{
	char buf[256], ctl[256] __attribute__((aligned(8)));
	struct sockaddr_in from;
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m;

	for (int k = 0; k < 10000; k++) {
		memset(&m, 0, sizeof(m));
		m.msg_name = &from;
		m.msg_namelen = sizeof(from);
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
		if (us_recvmsg(fd, &m, MSG_ERRQUEUE) < 0)
			break;
	}
}

static void drain_and_close(int fds[NFDS])
{
	char buf[256];
	int c;

	/* Whatever the listeners accepted is read, answered (a Fast Open
	 * child may still be in SYN_RECV) and closed too. */
	for (int l = 2; l < NFDS; l += 2) {
		while ((c = us_accept(fds[l], NULL, NULL)) >= 0) {
			socklen_t n = sizeof(buf);

			us_getsockopt(c, IPPROTO_TCP, TCP_SAVED_SYN, buf, &n);
			us_recv(c, buf, sizeof(buf), MSG_DONTWAIT);
			us_setsockopt(c, SOL_SOCKET, SO_ZEROCOPY, &(int){ 1 },
				      sizeof(int));
			us_send(c, "ok", 2, MSG_DONTWAIT | MSG_NOSIGNAL |
				MSG_ZEROCOPY);
			us_close(c);
		}
	}
	for (int i = 0; i < NFDS; i++) {
		int errors = 0;

		if (i % 2)
			drain_errors(fds[i]);   /* the others keep theirs */
		/* Read until empty; a pending error (UDP's ECONNREFUSED) is
		 * returned once before the data, other errors end it. Each
		 * read after a peek (at an offset: open_sockets). */
		for (int k = 0; k < 10000; k++) {
			char ctl[256] __attribute__((aligned(8)));
			struct iovec iov = { buf, sizeof(buf) };
			struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
					    .msg_control = ctl,
					    .msg_controllen = sizeof(ctl) };
			ssize_t r;

			us_recv(fds[i], buf, 7, MSG_PEEK | MSG_DONTWAIT);
			r = us_recvmsg(fds[i], &m, MSG_DONTWAIT);

			if (r > 0)
				continue;
			if (r == 0 || errno == EAGAIN || ++errors > 1)
				break;
		}
		us_close(fds[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t filler[4096];
	struct test_stack t;
	int fds[NFDS];

	ts_init(&t, "10.0.0.2", 24);
	open_sockets(&t, fds);
	while (size >= 3) {
		int op = data[0] % 7;
		size_t n = (size_t)data[1] << 8 | data[2];

		data += 3;
		size -= 3;
		if (n > size)
			n = size;
		if (op == 0)
			ts_inject(&t, data, n);
		else if (op == 4)
			ts_advance(&t, (us_time_t)(n + 1) * 10000);
		else
			inject_ip(&t, data, n, op);
		/* The client is a bulk sender once connected: its send queue
		 * topped up after every record (TCP_NOTSENT_LOWAT bounds what
		 * waits), so that the ACKs the inputs bring meet a flight
		 * (BBR's model, recovery, the pacing timer). */
		us_send(fds[3], filler, sizeof(filler),
			MSG_DONTWAIT | MSG_NOSIGNAL);
		ts_flush_tx(&t);
		data += n;
		size -= n;
	}
	drain_and_close(fds);
	/* Long enough for every retransmission to give up and TIME-WAIT to
	 * end, in steps so that timers fire on their own schedule. */
	for (int i = 0; i < 40; i++) {
		ts_advance(&t, 60 * US_USEC_PER_SEC);
		ts_flush_tx(&t);
	}
	/* Everything left would be a leak: the sockets are closed, the wire
	 * is quiet, reassembly and ARP queues have timed out. */
	if (t.st->skb_pool.live != 0)
		abort();
	ts_destroy(&t);
	return 0;
}
