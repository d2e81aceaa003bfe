/*
 * test_diff_ipopt.c - differential tests of the IPPROTO_IP options that
 * shape what a socket sends and what it is told: IP_MTU_DISCOVER (DF,
 * local EMSGSIZE, fragments), IP_MTU, IP_RECVERR with
 * recvmsg(MSG_ERRQUEUE) (ICMP errors and local ones, the pending error
 * beside the queue, POLLERR), the control messages IP_PKTINFO,
 * IP_RECVTTL, IP_RECVTOS and IP_RECVORIGDSTADDR, IP_FREEBIND and
 * IP_MINTTL; the ECN field of a datagram put back together from
 * fragments (injected: dt_inject_ip).
 *
 * Every case is written once against the socket call table
 * (tests/lib/difftest.h) and run twice, on the kernel's sockets in a
 * private network namespace and on ustack; a case fails when the two
 * transcripts differ. Linux is the oracle. Control messages are compared
 * whole (the sock_extended_err field by field, the offender's address,
 * the pktinfo's index and addresses), but for a timestamp, which is only
 * checked to be recent. A case that lowers the loopback's MTU (to see
 * EMSGSIZE and fragments) puts 65536 back. DT_SHOW=1 prints agreeing
 * transcripts too, DT_CASE=pattern runs only the matching cases.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/difftest.h"

#define P1 5101
#define P2 5102   /* nobody listens here */
#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51   /* <linux/in.h>, Linux 6.3 */
#endif

static const char hello[] = "hello";

static void poll_err(struct dt *t, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	/* Long enough for an ICMP error over the loopback to come back;
	 * POLLERR ends the wait at once. */
	dt_poll(t, &p, 1, 200);
}

/* ---- IP_MTU_DISCOVER and IP_MTU ------------------------------------------ */

static void case_mtu_discover_values(struct dt *t)
{
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int s = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	unsigned char byte = IP_PMTUDISC_DO;
	socklen_t len;
	char small[2];
	int fd;

	dt_getsockopt_int(t, u, IPPROTO_IP, IP_MTU_DISCOVER);
	dt_getsockopt_int(t, s, IPPROTO_IP, IP_MTU_DISCOVER);
	for (int v = -1; v <= 7; v++) {
		dt_setsockopt_int(t, u, IPPROTO_IP, IP_MTU_DISCOVER, v);
		dt_getsockopt_int(t, u, IPPROTO_IP, IP_MTU_DISCOVER);
		dt_setsockopt_int(t, s, IPPROTO_IP, IP_MTU_DISCOVER, v);
		dt_getsockopt_int(t, s, IPPROTO_IP, IP_MTU_DISCOVER);
	}
	dt_setsockopt(t, u, IPPROTO_IP, IP_MTU_DISCOVER, &byte, 1);
	dt_getsockopt_int(t, u, IPPROTO_IP, IP_MTU_DISCOVER);
	dt_setsockopt(t, u, IPPROTO_IP, IP_MTU_DISCOVER, &byte, 0);
	dt_getsockopt_int(t, u, IPPROTO_IP, IP_MTU_DISCOVER);
	dt_setsockopt(t, u, IPPROTO_IP, IP_MTU_DISCOVER, NULL, 4);
	len = 1;
	dt_getsockopt(t, u, IPPROTO_IP, IP_MTU_DISCOVER, small, &len);
	/* net.ipv4.ip_no_pmtu_disc: what a new socket starts with. */
	dt_sysctl(t, "net.ipv4.ip_no_pmtu_disc", "1");
	fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	dt_getsockopt_int(t, fd, IPPROTO_IP, IP_MTU_DISCOVER);
	dt_sysctl(t, "net.ipv4.ip_no_pmtu_disc", "0");
	fd = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_getsockopt_int(t, fd, IPPROTO_IP, IP_MTU_DISCOVER);
}

static void case_ip_mtu(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in un = { .sin_family = AF_UNSPEC };
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int l = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	socklen_t len;
	char small[4];
	int acc;

	dt_getsockopt_int(t, u, IPPROTO_IP, IP_MTU);
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_MTU, 1000);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_getsockopt_int(t, u, IPPROTO_IP, IP_MTU);
	dt_connect(t, u, &a, sizeof(a));
	dt_getsockopt_int(t, u, IPPROTO_IP, IP_MTU);
	/* 65536 does not fit in a short buffer: as many bytes as fit. */
	len = 2;
	dt_getsockopt(t, u, IPPROTO_IP, IP_MTU, small, &len);
	len = 1;
	dt_getsockopt(t, u, IPPROTO_IP, IP_MTU, small, &len);
	dt_set_lo_mtu(t, 1500);
	dt_getsockopt_int(t, u, IPPROTO_IP, IP_MTU);
	len = 2;
	dt_getsockopt(t, u, IPPROTO_IP, IP_MTU, small, &len);
	dt_set_lo_mtu(t, 65536);
	dt_connect(t, u, &un, sizeof(un));
	dt_getsockopt_int(t, u, IPPROTO_IP, IP_MTU);
	/* TCP: a listener has no path; both ends of a connection have. */
	dt_bind(t, l, &a, sizeof(a));
	dt_listen(t, l, 4);
	dt_getsockopt_int(t, l, IPPROTO_IP, IP_MTU);
	dt_getsockopt_int(t, c, IPPROTO_IP, IP_MTU);
	dt_connect(t, c, &a, sizeof(a));
	acc = dt_accept(t, l, NULL, NULL);
	dt_getsockopt_int(t, c, IPPROTO_IP, IP_MTU);
	dt_getsockopt_int(t, acc, IPPROTO_IP, IP_MTU);
}

/*
 * With the loopback at 1500: a 1473-byte payload does not fit one
 * packet. DO, PROBE and INTERFACE refuse it (EMSGSIZE, and on the error
 * queue a local error with the MTU); WANT, DONT and OMIT fragment it and
 * it arrives whole.
 */
static void case_mtu_discover_emsgsize(struct dt *t)
{
	static const int modes[] = {
		IP_PMTUDISC_DONT, IP_PMTUDISC_WANT, IP_PMTUDISC_DO,
		IP_PMTUDISC_PROBE, IP_PMTUDISC_INTERFACE, IP_PMTUDISC_OMIT,
	};
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	static char big[1473];
	char buf[2048];
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int c = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	memset(big, 'b', sizeof(big));
	dt_set_lo_mtu(t, 1500);
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_RECVERR, 1);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		dt_setsockopt_int(t, u, IPPROTO_IP, IP_MTU_DISCOVER, modes[i]);
		dt_sendto(t, u, big, sizeof(big) - 1, 0, &a, sizeof(a));
		dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
		dt_sendto(t, u, big, sizeof(big), 0, &a, sizeof(a));
		dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
		dt_getsockopt_int(t, u, SOL_SOCKET, SO_ERROR);
		dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 256);
	}
	/* Connected: the error names the peer's port; without IP_RECVERR
	 * there is only the EMSGSIZE. */
	dt_connect(t, c, &a, sizeof(a));
	dt_setsockopt_int(t, c, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
	dt_send(t, c, big, sizeof(big), 0);
	dt_recvmsg_noted(t, c, MSG_ERRQUEUE, 64, 256);
	dt_setsockopt_int(t, c, IPPROTO_IP, IP_RECVERR, 1);
	dt_send(t, c, big, sizeof(big), 0);
	poll_err(t, c);
	dt_recvmsg_noted(t, c, MSG_ERRQUEUE, 64, 256);
	dt_set_lo_mtu(t, 65536);
}

/* The size is checked before a pending error is reported (Linux's
 * __ip_append_data comes first), and past 65535 bytes in all even a
 * socket that may fragment gets a local error on the queue. */
static void case_emsgsize_before_pending_error(struct dt *t)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", P2);
	static char big[65508];
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_set_lo_mtu(t, 1500);
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_RECVERR, 1);
	dt_sendto(t, u, hello, 5, 0, &to, sizeof(to));
	poll_err(t, u);
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
	dt_sendto(t, u, big, 1473, 0, &to, sizeof(to));
	dt_getsockopt_int(t, u, SOL_SOCKET, SO_ERROR);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 256);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 256);
	dt_set_lo_mtu(t, 65536);
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_MTU_DISCOVER,
			  IP_PMTUDISC_WANT);
	dt_sendto(t, u, big, sizeof(big), 0, &to, sizeof(to));
	dt_sendto(t, u, big, sizeof(big) - 1, 0, &to, sizeof(to));
	poll_err(t, u);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 256);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 256);
}

/* More errors than the receive buffer holds: the rest are dropped (the
 * memory of each error is charged whole). */
static void case_recverr_queue_bounded(struct dt *t)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", P2);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int got = 0;

	dt_setsockopt_int(t, u, IPPROTO_IP, IP_RECVERR, 1);
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_RCVBUF, 1);
	for (int i = 0; i < 40; i++) {
		dt_ct(t)->sendto(u, hello, 5, 0, (struct sockaddr *)&to,
				 sizeof(to));
		poll_err(t, u);
	}
	for (int i = 0; i < 40; i++) {
		char buf[16];
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (dt_ct(t)->recvmsg(u, &m, MSG_ERRQUEUE) < 0)
			break;
		got++;
	}
	dt_note(t, "some errors kept, not all: %d", got > 0 && got < 10);
}

/* ---- IP_RECVERR ---------------------------------------------------------- */

static void case_recverr_bools(struct dt *t)
{
	static const int opts[] = {
		IP_RECVERR, IP_PKTINFO, IP_RECVTTL, IP_RECVTOS,
	};
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int s = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	unsigned char byte = 1;

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		for (int fd = u; fd; fd = fd == u ? s : 0) {
			dt_getsockopt_int(t, fd, IPPROTO_IP, opts[i]);
			dt_setsockopt_int(t, fd, IPPROTO_IP, opts[i], 42);
			dt_getsockopt_int(t, fd, IPPROTO_IP, opts[i]);
			dt_setsockopt_int(t, fd, IPPROTO_IP, opts[i], 0);
			dt_getsockopt_int(t, fd, IPPROTO_IP, opts[i]);
			dt_setsockopt(t, fd, IPPROTO_IP, opts[i], &byte, 1);
			dt_getsockopt_int(t, fd, IPPROTO_IP, opts[i]);
			dt_setsockopt(t, fd, IPPROTO_IP, opts[i], &byte, 0);
			dt_getsockopt_int(t, fd, IPPROTO_IP, opts[i]);
		}
	}
}

/* A port unreachable about a datagram of an unconnected socket: only with
 * IP_RECVERR is it heard of, as the pending error and on the queue. */
static void case_recverr_port_unreachable(struct dt *t)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", P2);
	char buf[16];
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_sendto(t, u, hello, 5, 0, &to, sizeof(to));
	poll_err(t, u);
	dt_recv(t, u, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 256);

	dt_setsockopt_int(t, u, IPPROTO_IP, IP_RECVERR, 1);
	dt_sendto(t, u, hello, 5, 0, &to, sizeof(to));
	poll_err(t, u);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 256);
	dt_getsockopt_int(t, u, SOL_SOCKET, SO_ERROR);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 256);
	poll_err(t, u);

	/* Two errors: the pending error is read by recv, and again after
	 * the first is taken from the queue (it is the second's). */
	dt_sendto(t, u, hello, 5, 0, &to, sizeof(to));
	poll_err(t, u);
	dt_sendto(t, u, "world!", 6, 0, &to, sizeof(to));
	poll_err(t, u);
	dt_recv(t, u, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, u, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 256);
	dt_recv(t, u, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 256);
	dt_recv(t, u, buf, sizeof(buf), MSG_DONTWAIT);

	/* Cut: the data to 2 bytes (MSG_TRUNC), the control message to
	 * nothing (MSG_CTRUNC), no name. */
	dt_sendto(t, u, hello, 5, 0, &to, sizeof(to));
	poll_err(t, u);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 2, 20);
	dt_sendto(t, u, hello, 5, 0, &to, sizeof(to));
	poll_err(t, u);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 0);

	/* Clearing IP_RECVERR empties the queue, not the pending error. */
	dt_sendto(t, u, hello, 5, 0, &to, sizeof(to));
	poll_err(t, u);
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_RECVERR, 0);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 256);
	dt_recv(t, u, buf, sizeof(buf), MSG_DONTWAIT);
}

/* A blocking read after the pending error was taken, with the error
 * still queued: it waits for a datagram (here until SO_RCVTIMEO), where
 * it used to retry for ever under the core lock, as the queued error
 * keeps POLLERR up. */
static void case_recverr_blocking_recv(struct dt *t)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", P2);
	struct timeval tv = { 0, 200000 };
	char buf[16];
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_setsockopt_int(t, u, IPPROTO_IP, IP_RECVERR, 1);
	dt_setsockopt(t, u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	dt_sendto(t, u, hello, 5, 0, &to, sizeof(to));
	poll_err(t, u);
	dt_recv(t, u, buf, sizeof(buf), 0);
	dt_recv(t, u, buf, sizeof(buf), 0);
	poll_err(t, u);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 256);
	dt_recv(t, u, buf, sizeof(buf), MSG_DONTWAIT);
}

/* The error of a connected socket, with the ICMP packet's own control
 * messages and a timestamp before IP_RECVERR's. */
static void case_recverr_connected_cmsgs(struct dt *t)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", P2);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_connect(t, u, &to, sizeof(to));
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_RECVERR, 1);
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_PKTINFO, 1);
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_RECVTTL, 1);
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_RECVTOS, 1);
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_TIMESTAMP, 1);
	dt_send(t, u, hello, 5, 0);
	poll_err(t, u);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 256);
	dt_send(t, u, hello, 5, 0);
	dt_send(t, u, hello, 5, 0);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 256);
	dt_getsockopt_int(t, u, SOL_SOCKET, SO_ERROR);
}

/* TCP's error queue holds only an error that ended its handshake: none
 * here. */
static void case_recverr_tcp(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int l = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int c = dt_socket(t, AF_INET, SOCK_STREAM, 0);

	dt_recvmsg_noted(t, c, MSG_ERRQUEUE, 64, 256);
	dt_bind(t, l, &a, sizeof(a));
	dt_listen(t, l, 4);
	dt_setsockopt_int(t, l, IPPROTO_IP, IP_RECVERR, 1);
	dt_recvmsg_noted(t, l, MSG_ERRQUEUE, 64, 256);
	dt_connect(t, c, &a, sizeof(a));
	dt_recvmsg_noted(t, c, MSG_ERRQUEUE, 64, 256);
}

/* ---- IP_PKTINFO, IP_RECVTTL, IP_RECVTOS ---------------------------------- */

/* Receivers of the control-message cases: s on 127.0.0.1:P1, s2 on
 * 0.0.0.0:P2, and a sender u. */
static void cmsg_fix(struct dt *t, int *s, int *s2, int *u)
{
	struct sockaddr_in any = dt_sin("0.0.0.0", P2);

	*s = dt_udp_bound(t, P1);
	*s2 = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	*u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	dt_bind(t, *s2, &any, sizeof(any));
}

static void case_cmsg_pktinfo_ttl_tos(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in other = dt_sin("127.0.0.5", P2);
	size_t tight = CMSG_SPACE(sizeof(struct in_pktinfo)) + 8;
	int s, s2, u;

	cmsg_fix(t, &s, &s2, &u);
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_TOS, 0x10);
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_TTL, 9);
	for (int fd = s; fd; fd = fd == s ? s2 : 0) {
		dt_setsockopt_int(t, fd, IPPROTO_IP, IP_PKTINFO, 1);
		dt_setsockopt_int(t, fd, IPPROTO_IP, IP_RECVTTL, 1);
		dt_setsockopt_int(t, fd, IPPROTO_IP, IP_RECVTOS, 1);
	}
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, s, 0, 64, 256);
	/* To another loopback address, on a socket bound to any. */
	dt_sendto(t, u, hello, 5, 0, &other, sizeof(other));
	dt_recvmsg_noted(t, s2, 0, 64, 256);
	/* Room for the pktinfo and part of the TTL: MSG_CTRUNC. */
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, s, 0, 64, tight);
	/* A datagram queued before IP_PKTINFO was asked for: no interface
	 * and no spec_dst (Linux fills them in as it queues). */
	dt_setsockopt_int(t, s, IPPROTO_IP, IP_PKTINFO, 0);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_setsockopt_int(t, s, IPPROTO_IP, IP_PKTINFO, 1);
	dt_recvmsg_noted(t, s, 0, 64, 256);
	/* One at a time, and none. */
	dt_setsockopt_int(t, s, IPPROTO_IP, IP_PKTINFO, 0);
	dt_setsockopt_int(t, s, IPPROTO_IP, IP_RECVTTL, 0);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, s, 0, 64, 256);
	dt_setsockopt_int(t, s, IPPROTO_IP, IP_RECVTOS, 0);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, s, 0, 64, 256);
}

/*
 * IP_RECVORIGDSTADDR: the datagram's destination address and port, after
 * IP_PKTINFO, IP_TTL and IP_TOS (Linux's order); to a socket bound to
 * any, the address the datagram was sent to.
 */
static void case_cmsg_origdstaddr(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in other = dt_sin("127.0.0.5", P2);
	int s, s2, u;

	cmsg_fix(t, &s, &s2, &u);
	dt_getsockopt_int(t, s, IPPROTO_IP, IP_RECVORIGDSTADDR);
	dt_setsockopt_int(t, s, IPPROTO_IP, IP_RECVORIGDSTADDR, 7);
	dt_getsockopt_int(t, s, IPPROTO_IP, IP_RECVORIGDSTADDR);
	dt_setsockopt_int(t, s2, IPPROTO_IP, IP_RECVORIGDSTADDR, 1);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, s, 0, 64, 256);
	dt_sendto(t, u, hello, 5, 0, &other, sizeof(other));
	dt_recvmsg_noted(t, s2, 0, 64, 256);
	dt_setsockopt_int(t, s, IPPROTO_IP, IP_PKTINFO, 1);
	dt_setsockopt_int(t, s, IPPROTO_IP, IP_RECVTTL, 1);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, s, 0, 64, 256);
	dt_setsockopt_int(t, s, IPPROTO_IP, IP_RECVORIGDSTADDR, 0);
	dt_getsockopt_int(t, s, IPPROTO_IP, IP_RECVORIGDSTADDR);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, s, 0, 64, 256);
}

/*
 * IP_FREEBIND: bind() to an address this host does not have is
 * EADDRNOTAVAIL without it, allowed with it (UDP, TCP), and the address
 * is the socket's (getsockname); nothing goes from it while the host
 * does not have it (a datagram, a connect). Its values.
 */
static void case_freebind(struct dt *t)
{
	struct sockaddr_in far = dt_sin("10.99.0.7", P1);
	struct sockaddr_in to = dt_sin("127.0.0.1", P2);
	struct sockaddr_in name;
	socklen_t len;
	/* (Ping sockets take it too: Linux allows them only to
	 * net.ipv4.ping_group_range, dt_ping_socket's.) */
	int types[2][2] = { { SOCK_DGRAM, 0 }, { SOCK_STREAM, 0 } };

	for (int i = 0; i < 2; i++) {
		int fd = dt_socket(t, AF_INET, types[i][0], types[i][1]);

		dt_getsockopt_int(t, fd, IPPROTO_IP, IP_FREEBIND);
		dt_bind(t, fd, &far, sizeof(far));
		dt_setsockopt_int(t, fd, IPPROTO_IP, IP_FREEBIND, 2);
		dt_getsockopt_int(t, fd, IPPROTO_IP, IP_FREEBIND);
		dt_bind(t, fd, &far, sizeof(far));
		len = sizeof(name);
		dt_getsockname(t, fd, (struct sockaddr *)&name, &len);
		/* No route from an address the host does not have. */
		if (types[i][0] == SOCK_DGRAM)
			dt_sendto(t, fd, hello, 5, 0, &to, sizeof(to));
		else
			dt_connect(t, fd, &to, sizeof(to));
		dt_setsockopt_int(t, fd, IPPROTO_IP, IP_FREEBIND, 0);
		dt_getsockopt_int(t, fd, IPPROTO_IP, IP_FREEBIND);
	}
}

/*
 * IP_BIND_ADDRESS_NO_PORT: bind() to an address and port 0 takes the
 * address alone (getsockname: port 0), may be called again, and the port
 * comes with connect() (TCP) or the first send (UDP), from the address
 * bound; a port asked for is bound at once. Its values.
 */
static void case_bind_address_no_port(struct dt *t)
{
	struct sockaddr_in lo = dt_sin("127.0.0.1", 0);
	struct sockaddr_in lo5 = dt_sin("127.0.0.5", 0);
	struct sockaddr_in fixed = dt_sin("127.0.0.1", P2);
	struct sockaddr_in to = dt_sin("127.0.0.1", P1);
	int l = dt_tcp_listener(t, P1);
	int r = dt_udp_bound(t, P1);
	int types[2] = { SOCK_STREAM, SOCK_DGRAM };

	(void)l;
	(void)r;
	for (int i = 0; i < 2; i++) {
		int fd = dt_socket(t, AF_INET, types[i], 0);
		int fd2 = dt_socket(t, AF_INET, types[i], 0);

		dt_getsockopt_int(t, fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT);
		dt_setsockopt_int(t, fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 3);
		dt_getsockopt_int(t, fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT);
		dt_bind(t, fd, &lo, sizeof(lo));
		dt_getnames(t, fd);
		dt_bind(t, fd, &lo5, sizeof(lo5));
		dt_getnames(t, fd);
		if (types[i] == SOCK_STREAM)
			dt_connect(t, fd, &to, sizeof(to));
		else
			dt_sendto(t, fd, hello, 5, 0, &to, sizeof(to));
		dt_getnames(t, fd);
		/* A port asked for: bound at once. */
		dt_setsockopt_int(t, fd2, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
		dt_bind(t, fd2, &fixed, sizeof(fixed));
		dt_getnames(t, fd2);
	}
	/* A listener bound so gets its port at listen(). */
	{
		int fd = dt_socket(t, AF_INET, SOCK_STREAM, 0);

		dt_setsockopt_int(t, fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1);
		dt_bind(t, fd, &lo5, sizeof(lo5));
		dt_listen(t, fd, 1);
		dt_getnames(t, fd);
	}
}

/* IP_LOCAL_PORT_RANGE's value: the low port, and the high one above it. */
#define PORT_RANGE(lo, hi) ((int)((uint32_t)(lo) | (uint32_t)(hi) << 16))

/*
 * IP_LOCAL_PORT_RANGE (Linux 6.3): a socket's own ephemeral ports, within
 * net.ipv4.ip_local_port_range (here 20000-20100, outside the range the
 * transcripts print as "eph"). Its values (4 bytes exactly; low above
 * high is EINVAL; an end of 0 is the instance's); each end inside the
 * instance's range narrows it, an end outside is ignored; bind() to port
 * 0, connect() and UDP's autobind take ports from it; an accepted socket
 * has its listener's; a range whose one port is taken is EADDRINUSE.
 */
static void case_local_port_range(struct dt *t)
{
	static const int vals[] = { PORT_RANGE(20050, 20060), PORT_RANGE(0, 20060),
				    PORT_RANGE(20050, 0), PORT_RANGE(20060, 20050),
				    PORT_RANGE(5, 4), PORT_RANGE(65535, 65535),
				    -1, 0 };
	struct sockaddr_in any = dt_sin("127.0.0.1", 0);
	struct sockaddr_in to = dt_sin("127.0.0.1", P1);
	int l = dt_tcp_listener(t, P1);
	int fd, fd2, s;
	short two = 1;

	dt_sysctl(t, "net.ipv4.ip_local_port_range", "20000 20100");
	fd = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_getsockopt_int(t, fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE);
	DT_SETGET(t, fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, vals);
	dt_setsockopt(t, fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &two,
		      sizeof(two));
	/* bind(0): the one port of the range */
	dt_setsockopt_int(t, fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE,
			  PORT_RANGE(20050, 20050));
	dt_bind(t, fd, &any, sizeof(any));
	dt_getnames(t, fd);
	fd2 = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_setsockopt_int(t, fd2, IPPROTO_IP, IP_LOCAL_PORT_RANGE,
			  PORT_RANGE(20050, 20050));
	dt_bind(t, fd2, &any, sizeof(any));
	dt_close(t, fd2);
	/* An end outside the instance's range: that end is the instance's. */
	fd2 = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_setsockopt_int(t, fd2, IPPROTO_IP, IP_LOCAL_PORT_RANGE,
			  PORT_RANGE(10000, 20000));
	dt_bind(t, fd2, &any, sizeof(any));
	dt_getnames(t, fd2);
	dt_close(t, fd2);
	/* connect(); the accepted socket has its listener's range */
	dt_setsockopt_int(t, l, IPPROTO_IP, IP_LOCAL_PORT_RANGE,
			  PORT_RANGE(20080, 20090));
	fd2 = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_setsockopt_int(t, fd2, IPPROTO_IP, IP_LOCAL_PORT_RANGE,
			  PORT_RANGE(20070, 20070));
	dt_connect(t, fd2, &to, sizeof(to));
	dt_getnames(t, fd2);
	s = dt_accept(t, l, NULL, NULL);
	dt_getsockopt_int(t, s, IPPROTO_IP, IP_LOCAL_PORT_RANGE);
	/* (the client closes first: its TIME_WAIT, not one on P1) */
	dt_close(t, fd2);
	dt_close(t, s);
	dt_close(t, fd);
	/* UDP: the first send's port */
	fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	dt_setsockopt_int(t, fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE,
			  PORT_RANGE(20095, 20095));
	dt_sendto(t, fd, hello, 5, 0, &to, sizeof(to));
	dt_getnames(t, fd);
	dt_close(t, fd);
	dt_sysctl(t, "net.ipv4.ip_local_port_range", "32768 60999");
}

/*
 * IP_MINTTL (RFC 5082): the values (0-255, EINVAL past them); a TCP
 * connection whose reader asks for more than the loopback's TTL (64)
 * gets nothing the peer sends (dropped unanswered, so the peer sends it
 * again), and once it asks for 64, the retransmission comes through.
 */
static void case_minttl(struct dt *t)
{
	static const int vals[] = { 0, 1, 64, 255, 256, -1 };
	char buf[16];
	int l, c, s;

	l = dt_tcp_listener(t, P1);
	DT_SETGET(t, l, IPPROTO_IP, IP_MINTTL, vals);
	dt_setsockopt_int(t, l, IPPROTO_IP, IP_MINTTL, 0);
	dt_run_timers(t);
	dt_tcp_pair(t, P2, &l, &c, &s);
	dt_setsockopt_int(t, s, IPPROTO_IP, IP_MINTTL, 65);
	dt_send(t, c, hello, 5, 0);
	usleep(50000);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_setsockopt_int(t, s, IPPROTO_IP, IP_MINTTL, 64);
	{
		struct pollfd p = { .fd = s, .events = POLLIN };

		/* The first retransmission: an RTO of 200 ms or more. */
		dt_poll(t, &p, 1, 3000);
	}
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
}

/* ---- control messages of sendmsg ---------------------------------------- */

/* One control message (its cmsg_len CMSG_LEN(len) unless cmlen says
 * otherwise), and a second if level2 is not 0. */
static void send_cmsg(struct dt *t, int fd, const struct sockaddr_in *to,
		      int level, int type, const void *data, size_t len,
		      size_t cmlen, int level2, int type2, int val2)
{
	char ctl[128] __attribute__((aligned(8)));
	struct iovec iov = { (void *)hello, 5 };
	struct msghdr m = {
		.msg_name = (void *)to, .msg_namelen = to ? sizeof(*to) : 0,
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = CMSG_SPACE(len),
	};
	struct cmsghdr *c = (struct cmsghdr *)ctl;

	memset(ctl, 0, sizeof(ctl));
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = cmlen ? cmlen : CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
	if (level2) {
		c = (struct cmsghdr *)(ctl + CMSG_SPACE(len));
		c->cmsg_level = level2;
		c->cmsg_type = type2;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &val2, sizeof(int));
		m.msg_controllen += CMSG_SPACE(sizeof(int));
	}
	dt_sendmsg(t, fd, &m, 0);
}

static void send_int(struct dt *t, int fd, const struct sockaddr_in *to,
		     int level, int type, int val)
{
	send_cmsg(t, fd, to, level, type, &val, sizeof(val), 0, 0, 0, 0);
}

/* IP_TTL, IP_TOS and IP_PKTINFO for one datagram, as the receiver sees
 * them, and the values and lengths refused. */
static void case_sendmsg_ip_cmsgs(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct in_pktinfo pi;
	unsigned char byte = 0x28;
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_setsockopt_int(t, s, IPPROTO_IP, IP_PKTINFO, 1);
	dt_setsockopt_int(t, s, IPPROTO_IP, IP_RECVTTL, 1);
	dt_setsockopt_int(t, s, IPPROTO_IP, IP_RECVTOS, 1);
	send_int(t, u, &a, SOL_IP, IP_TTL, 7);
	dt_recvmsg_noted(t, s, MSG_DONTWAIT, 64, 256);
	send_int(t, u, &a, SOL_IP, IP_TOS, 0x10);
	dt_recvmsg_noted(t, s, MSG_DONTWAIT, 64, 256);
	send_cmsg(t, u, &a, SOL_IP, IP_TOS, &byte, 1, 0, 0, 0, 0);
	dt_recvmsg_noted(t, s, MSG_DONTWAIT, 64, 256);
	send_cmsg(t, u, &a, SOL_IP, IP_TTL, &byte, 1, 0, 0, 0, 0);
	send_cmsg(t, u, &a, SOL_IP, IP_TOS, &(int){ 0x28 }, 2, 0, 0, 0, 0);
	for (int v = -1; v <= 256; v += 257) {
		send_int(t, u, &a, SOL_IP, IP_TTL, v);
		send_int(t, u, &a, SOL_IP, IP_TOS, v);
	}
	send_int(t, u, &a, SOL_IP, IP_TTL, 0);
	/* Two at once; the socket's own values after. */
	send_cmsg(t, u, &a, SOL_IP, IP_TTL, &(int){ 3 }, sizeof(int), 0,
		  SOL_IP, IP_TOS, 0x04);
	dt_recvmsg_noted(t, s, MSG_DONTWAIT, 64, 256);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, s, MSG_DONTWAIT, 64, 256);
	/* IP_PKTINFO: the source address, the interface. */
	memset(&pi, 0, sizeof(pi));
	inet_pton(AF_INET, "127.0.0.5", &pi.ipi_spec_dst);
	send_cmsg(t, u, &a, SOL_IP, IP_PKTINFO, &pi, sizeof(pi), 0, 0, 0, 0);
	dt_recvmsg_noted(t, s, MSG_DONTWAIT, 64, 256);
	pi.ipi_ifindex = 1;
	send_cmsg(t, u, &a, SOL_IP, IP_PKTINFO, &pi, sizeof(pi), 0, 0, 0, 0);
	dt_recvmsg_noted(t, s, MSG_DONTWAIT, 64, 256);
	pi.ipi_ifindex = 99;
	send_cmsg(t, u, &a, SOL_IP, IP_PKTINFO, &pi, sizeof(pi), 0, 0, 0, 0);
	pi.ipi_ifindex = 0;
	inet_pton(AF_INET, "10.9.9.9", &pi.ipi_spec_dst);
	send_cmsg(t, u, &a, SOL_IP, IP_PKTINFO, &pi, sizeof(pi), 0, 0, 0, 0);
	inet_pton(AF_INET, "255.255.255.255", &pi.ipi_spec_dst);
	send_cmsg(t, u, &a, SOL_IP, IP_PKTINFO, &pi, sizeof(pi), 0, 0, 0, 0);
	inet_pton(AF_INET, "224.0.0.1", &pi.ipi_spec_dst);
	send_cmsg(t, u, &a, SOL_IP, IP_PKTINFO, &pi, sizeof(pi), 0, 0, 0, 0);
	pi.ipi_spec_dst.s_addr = 0;
	send_cmsg(t, u, &a, SOL_IP, IP_PKTINFO, &pi, sizeof(pi), 0, 0, 0, 0);
	dt_recvmsg_noted(t, s, MSG_DONTWAIT, 64, 256);
	send_cmsg(t, u, &a, SOL_IP, IP_PKTINFO, &pi, sizeof(pi) - 4, 0, 0, 0,
		  0);
	dt_recv(t, s, NULL, 0, MSG_DONTWAIT);
}

/* Types, levels and lengths: what is refused and what passed over. */
static void case_sendmsg_cmsg_kinds(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int l = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	char buf[64];

	send_int(t, u, &a, SOL_IP, IP_RECVERR, 1);
	send_int(t, u, &a, SOL_IP, 9999, 1);
	send_int(t, u, &a, 200, 1, 1);            /* another level: ignored */
	send_int(t, u, &a, SOL_SOCKET, SO_MARK, 5);
	send_int(t, u, &a, SOL_SOCKET, SO_PRIORITY, 3);
	send_int(t, u, &a, SOL_SOCKET, SO_PRIORITY, 9);
	send_int(t, u, &a, SOL_SOCKET, SCM_RIGHTS, 0);
	send_int(t, u, &a, SOL_SOCKET, 9999, 1);
	send_cmsg(t, u, &a, SOL_SOCKET, SO_MARK, &(int){ 5 }, 2, 0, 0, 0, 0);
	/* cmsg_len shorter than a header, or past the buffer. */
	send_cmsg(t, u, &a, SOL_IP, IP_TTL, &(int){ 5 }, sizeof(int), 8, 0,
		  0, 0);
	send_cmsg(t, u, &a, SOL_IP, IP_TTL, &(int){ 5 }, sizeof(int), 200, 0,
		  0, 0);
	/* A good one, then a bad one. */
	send_cmsg(t, u, &a, SOL_IP, IP_TTL, &(int){ 5 }, sizeof(int), 0,
		  SOL_IP, IP_TTL, 0);
	for (int i = 0; i < 8; i++)
		dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	/* TCP reads only SOL_SOCKET messages, and any fault is EINVAL. */
	dt_bind(t, l, &a, sizeof(a));
	dt_listen(t, l, 4);
	dt_connect(t, c, &a, sizeof(a));
	send_int(t, c, NULL, SOL_IP, IP_TTL, 0);
	send_int(t, c, NULL, SOL_IP, 9999, 0);
	send_int(t, c, NULL, SOL_SOCKET, 9999, 1);
	send_int(t, c, NULL, SOL_SOCKET, SO_PRIORITY, 2);
	send_cmsg(t, c, NULL, SOL_SOCKET, SO_MARK, &(int){ 5 }, sizeof(int),
		  300, 0, 0, 0);
	/* After shutdown(SHUT_WR) the connection is in FIN_WAIT1, not open:
	 * EPIPE before any look at the messages. */
	dt_shutdown(t, c, SHUT_WR);
	send_int(t, c, NULL, SOL_SOCKET, 9999, 1);
	send_int(t, c, NULL, SOL_SOCKET, SO_PRIORITY, 2);
}

/* IP_PKTINFO's source overrides a bound one; 0.0.0.0 lets the route
 * choose. */
static void case_sendmsg_pktinfo_bound(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in b = dt_sin("127.0.0.7", P2);
	struct in_pktinfo pi;
	char buf[16];
	struct sockaddr_in from;
	socklen_t fl;
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_bind(t, u, &b, sizeof(b));
	memset(&pi, 0, sizeof(pi));
	send_cmsg(t, u, &a, SOL_IP, IP_PKTINFO, &pi, sizeof(pi), 0, 0, 0, 0);
	fl = sizeof(from);
	dt_recvfrom(t, s, buf, sizeof(buf), MSG_DONTWAIT, &from, &fl);
	inet_pton(AF_INET, "127.0.0.9", &pi.ipi_spec_dst);
	send_cmsg(t, u, &a, SOL_IP, IP_PKTINFO, &pi, sizeof(pi), 0, 0, 0, 0);
	fl = sizeof(from);
	dt_recvfrom(t, s, buf, sizeof(buf), MSG_DONTWAIT, &from, &fl);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	fl = sizeof(from);
	dt_recvfrom(t, s, buf, sizeof(buf), MSG_DONTWAIT, &from, &fl);
}

/*
 * IPPROTO_IP options that ask little of a TCP or UDP socket: IP_CHECKSUM
 * (a flag; its message needs a checksum the device left complete, which
 * neither lo nor a TAP gives), IP_PROTOCOL (read only: Linux answers
 * inet_num, the local port on TCP and UDP), IP_TRANSPARENT (root's; a
 * bind to any address, as IP_FREEBIND), IP_NODEFRAG (raw sockets'), and
 * the MCAST_* requests, which have no value to read.
 */
#ifndef IP_PROTOCOL   /* (linux/in.h's; not in glibc's netinet/in.h) */
#define IP_PROTOCOL 52
#endif

static void case_ip_misc_options(struct dt *t)
{
	static const int names[] = { IP_CHECKSUM, IP_PROTOCOL, IP_TRANSPARENT,
				     IP_NODEFRAG, IP_RECVFRAGSIZE,
				     IP_RECVERR_RFC4884, MCAST_JOIN_GROUP,
				     MCAST_LEAVE_GROUP, MCAST_BLOCK_SOURCE,
				     MCAST_JOIN_SOURCE_GROUP, IP_ADD_MEMBERSHIP };
	static const int vals[] = { 1, 0, 2, -1, 1 };
	struct sockaddr_in a = dt_sin("127.0.0.1", 7301);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int c = dt_socket(t, AF_INET, SOCK_STREAM, 0);

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		dt_getsockopt_int(t, u, SOL_IP, names[i]);
		dt_getsockopt_int(t, c, SOL_IP, names[i]);
		DT_SETGET(t, u, SOL_IP, names[i], vals);
		DT_SETGET(t, c, SOL_IP, names[i], vals);
	}
	dt_bind(t, u, &a, sizeof(a));
	dt_getsockopt_int(t, u, SOL_IP, IP_PROTOCOL);
	a = dt_sin("10.99.0.1", 7301);
	dt_bind(t, c, &a, sizeof(a));
	dt_close(t, u);
	dt_close(t, c);
}

/*
 * IP_RECVFRAGSIZE: a datagram that came in fragments says how large the
 * largest was (lo at MTU 1500: 1500), one that came whole says nothing;
 * TCP refuses it. IP_CHECKSUM adds nothing over lo.
 */
static void case_recvfragsize(struct dt *t)
{
	static char big[3000];
	struct sockaddr_in to = dt_sin("127.0.0.1", 7302);
	int r = dt_udp_bound(t, 7302);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_set_lo_mtu(t, 1500);
	dt_setsockopt_int(t, r, SOL_IP, IP_RECVFRAGSIZE, 1);
	dt_setsockopt_int(t, r, SOL_IP, IP_CHECKSUM, 1);
	dt_sendto(t, u, big, sizeof(big), 0, &to, sizeof(to));
	dt_sendto(t, u, big, 1000, 0, &to, sizeof(to));
	usleep(20000);
	dt_recvmsg_noted(t, r, MSG_DONTWAIT, 4096, 256);
	dt_recvmsg_noted(t, r, MSG_DONTWAIT, 4096, 256);
	dt_setsockopt_int(t, r, SOL_IP, IP_RECVFRAGSIZE, 0);
	dt_sendto(t, u, big, 2000, 0, &to, sizeof(to));
	usleep(20000);
	dt_recvmsg_noted(t, r, MSG_DONTWAIT, 4096, 256);
	dt_set_lo_mtu(t, 65536);
	dt_close(t, u);
	dt_close(t, r);
}

/* One fragment of a UDP datagram from 127.0.0.1:7400 to 127.0.0.1, the
 * datagram's bytes [off, off + n) of udp, with its TOS byte. */
static void inject_frag(struct dt *t, uint16_t id, uint8_t tos,
			const unsigned char *udp, size_t off, size_t n, bool mf)
{
	unsigned char p[20 + 64];

	memset(p, 0, 20);
	p[0] = 0x45;
	p[1] = tos;
	p[2] = (unsigned char)((20 + n) >> 8);
	p[3] = (unsigned char)(20 + n);
	p[4] = (unsigned char)(id >> 8);
	p[5] = (unsigned char)id;
	p[6] = (unsigned char)((mf ? 0x20 : 0) | (off / 8) >> 8);
	p[7] = (unsigned char)(off / 8);
	p[8] = 64;
	p[9] = IPPROTO_UDP;
	p[12] = p[16] = 127;
	p[15] = p[19] = 1;
	memcpy(p + 20, udp + off, n);
	dt_inject_ip(t, p, 20 + n);
}

/*
 * RFC 3168 §5.3: a datagram put back together is CE if any of its
 * fragments was, and one whose fragments mix not-ECT with ECT or CE is
 * dropped; otherwise its header is the first fragment's (Linux's
 * ip_frag_ecn_table, OR-ed into the first's TOS). Each datagram (two
 * fragments, some out of order, one with a not-ECT duplicate of its
 * first, which is dropped as a duplicate before its field counts) is
 * read with IP_RECVTOS, or not at all.
 */
static void case_frag_ecn(struct dt *t)
{
	static const struct { uint8_t tos0, tos1; bool swap, dup; } c[] = {
		{ 0x02, 0x02, false, false }, { 0x02, 0x03, false, false },
		{ 0x03, 0x02, false, false }, { 0x01, 0x02, false, false },
		{ 0x02, 0x01, false, false }, { 0x03, 0x03, false, false },
		{ 0x00, 0x00, false, false }, { 0x02, 0x00, false, false },
		{ 0x00, 0x03, false, false }, { 0x01, 0x00, false, false },
		{ 0xb8 | 2, 0x03, false, false }, { 0x02, 0x03, true, false },
		{ 0x00, 0x03, true, false }, { 0x02, 0x02, false, true },
	};
	unsigned char udp[24] = { 0x1c, 0xe8, 0x1c, 0xe9, 0, 24, 0, 0,
				  'f', 'r', 'a', 'g', 'm', 'e', 'n', 't',
				  's', ' ', 'o', 'f', ' ', 'o', 'n', 'e' };
	int r = dt_udp_bound(t, 7401);

	dt_setsockopt_int(t, r, SOL_IP, IP_RECVTOS, 1);
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		uint16_t id = (uint16_t)(0x4e00 + i);

		dt_note(t, "fragments tos %#x then %#x%s%s", c[i].tos0,
			c[i].tos1, c[i].swap ? ", second first" : "",
			c[i].dup ? ", first again not-ECT" : "");
		if (c[i].swap)
			inject_frag(t, id, c[i].tos1, udp, 16, 8, false);
		inject_frag(t, id, c[i].tos0, udp, 0, 16, true);
		if (c[i].dup)
			inject_frag(t, id, 0, udp, 0, 16, true);
		if (!c[i].swap)
			inject_frag(t, id, c[i].tos1, udp, 16, 8, false);
		usleep(10000);
		dt_recvmsg_noted(t, r, MSG_DONTWAIT, 64, 64);
	}
	dt_close(t, r);
}

static const struct dt_case cases[] = {
	DT_CASE(case_recvfragsize),
	DT_CASE(case_frag_ecn),
	DT_CASE(case_ip_misc_options),
	DT_CASE(case_mtu_discover_values),
	DT_CASE(case_ip_mtu),
	DT_CASE(case_mtu_discover_emsgsize),
	DT_CASE(case_emsgsize_before_pending_error),
	DT_CASE(case_recverr_queue_bounded),
	DT_CASE(case_recverr_bools),
	DT_CASE(case_recverr_port_unreachable),
	DT_CASE(case_recverr_blocking_recv),
	DT_CASE(case_recverr_connected_cmsgs),
	DT_CASE(case_recverr_tcp),
	DT_CASE(case_cmsg_pktinfo_ttl_tos),
	DT_CASE(case_cmsg_origdstaddr),
	DT_CASE(case_freebind),
	DT_CASE(case_bind_address_no_port),
	DT_CASE(case_local_port_range),
	DT_CASE(case_minttl),
	DT_CASE(case_sendmsg_ip_cmsgs),
	DT_CASE(case_sendmsg_cmsg_kinds),
	DT_CASE(case_sendmsg_pktinfo_bound),
};

int main(void)
{
	return dt_main("diff_ipopt", cases, sizeof(cases) / sizeof(cases[0]));
}
