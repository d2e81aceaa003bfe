/*
 * test_diff_udp.c - differential tests of UDP data transfer through the socket
 * calls: send/sendto/sendmsg/write/writev and their errors (EDESTADDRREQ,
 * EMSGSIZE, MSG_OOB, bad addresses and buffers), recv/recvfrom/recvmsg/
 * read/readv (MSG_PEEK, MSG_TRUNC, MSG_DONTWAIT, msg_flags, msg_namelen),
 * zero-length datagrams, ICMP port unreachable as ECONNREFUSED,
 * shutdown(), broadcast, corking (MSG_MORE, UDP_CORK), UDP_SEGMENT and
 * UDP_GRO.
 *
 * Every case is written once against the socket call table
 * (tests/lib/difftest.h) and run twice, on the kernel's sockets in a
 * private network namespace and on ustack; a case fails when the two
 * transcripts (return values, errno, data, addresses, lengths, flags)
 * differ. Linux is the oracle. Fixed ports are below 32768; an ephemeral
 * port prints as "eph" on both sides. DT_SHOW=1 prints agreeing
 * transcripts too, DT_CASE=pattern runs only the matching cases.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/difftest.h"

#define P1 5001
#define P2 5002
#define P_CLOSED 5999   /* nobody is bound here: ICMP port unreachable */

static const char hello[] = "hello";

/* ---- sending ------------------------------------------------------------- */

static void case_send_no_dest(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 0);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_send(t, fd, hello, 5, 0);
	dt_write(t, fd, hello, 5);
	dt_sendto(t, fd, hello, 5, 0, NULL, 0);
	/* Port 0 is no destination. */
	dt_sendto(t, fd, hello, 5, 0, &a, sizeof(a));
	dt_getnames(t, fd);
}

static void case_send_bad_addr(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_storage ss;
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	char buf[16];

	dt_sendto(t, fd, hello, 5, 0, &a, sizeof(a) - 1);
	dt_sendto(t, fd, hello, 5, 0, &a, 0);
	dt_sendto(t, fd, hello, 5, 0, NULL, sizeof(a));
	dt_sendto(t, fd, hello, 5, 0, &a, sizeof(ss) + 1);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_INET6;
	dt_sendto(t, fd, hello, 5, 0, &ss, sizeof(struct sockaddr_in6));
	/* AF_UNSPEC is taken as AF_INET here. */
	a.sin_family = AF_UNSPEC;
	dt_sendto(t, fd, hello, 5, 0, &a, sizeof(a));
	a = dt_sin("10.1.2.3", P1);
	dt_sendto(t, fd, hello, 5, 0, &a, sizeof(a));
	a = dt_sin("0.0.0.0", P1);
	dt_sendto(t, fd, "zero", 4, 0, &a, sizeof(a));
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
}

static void case_send_sizes(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	size_t big = 70000;
	char *buf = calloc(1, big);
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	for (size_t i = 0; i < big; i++)
		buf[i] = (char)(i * 7);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_RCVBUF, 1 << 20);
	dt_sendto(t, fd, buf, 65507, 0, &a, sizeof(a));
	dt_sendto(t, fd, buf, 65508, 0, &a, sizeof(a));
	dt_sendto(t, fd, buf, 65535, 0, &a, sizeof(a));
	dt_sendto(t, fd, buf, 65536, 0, &a, sizeof(a));
	dt_sendto(t, fd, buf, big, 0, &a, sizeof(a));
	dt_sendto(t, fd, buf, 1, MSG_OOB, &a, sizeof(a));
	/* The order of the checks: size before address, OOB before both. */
	dt_sendto(t, fd, buf, 65536, 0, NULL, 0);
	dt_sendto(t, fd, buf, 65508, 0, NULL, 0);
	dt_sendto(t, fd, buf, 1, MSG_OOB, NULL, 0);
	dt_send(t, fd, buf, 65536, MSG_OOB);
	dt_recv(t, s, buf, big, MSG_DONTWAIT);
	dt_recv(t, s, buf, big, MSG_DONTWAIT);
	free(buf);
}

static void case_zero_length(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char buf[16];
	int n = 0;
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_sendto(t, fd, NULL, 0, 0, &a, sizeof(a));
	dt_sendto(t, fd, hello, 5, 0, &a, sizeof(a));
	dt_ioctl(t, s, FIONREAD, &n);
	dt_recvfrom(t, s, buf, sizeof(buf), MSG_DONTWAIT, &from, &fl);
	dt_ioctl(t, s, FIONREAD, &n);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	/* A zero-length buffer still takes a datagram off the queue. */
	dt_sendto(t, fd, hello, 5, 0, &a, sizeof(a));
	dt_recv(t, s, buf, 0, MSG_DONTWAIT);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, s, NULL, 0, MSG_DONTWAIT);
}

/* ---- receiving ----------------------------------------------------------- */

static void case_recv_empty(struct dt *t)
{
	char buf[16];
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int nb = dt_socket(t, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recvfrom(t, s, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
	dt_recv(t, u, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, nb, buf, sizeof(buf), 0);
	dt_read(t, nb, buf, sizeof(buf));
	/* Neither the unbound nor the nonblocking socket got bound. */
	dt_getnames(t, u);
	dt_getnames(t, nb);
}

static double now_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * recv(MSG_OOB) on UDP: Linux's udp_recvmsg ignores the flag, so a
 * blocking call waits for a datagram like any other (only TCP's
 * tcp_recv_urg never waits). With a 0.3 s SO_RCVTIMEO: EAGAIN after its
 * timeout, noted in words coarse enough for a loaded machine; with a
 * datagram queued, the datagram.
 */
static void case_recv_oob_waits(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct timeval tv = { 0, 300000 };
	char buf[16];
	double t0, waited;
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_setsockopt(t, s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	t0 = now_secs();
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
	waited = now_secs() - t0;
	dt_note(t, "recv waited %s", waited < 0.2 ? "not at all"
			: waited < 0.54 ? "its timeout" : "more than its timeout");
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB | MSG_DONTWAIT);
	dt_sendto(t, fd, hello, 5, 0, &a, sizeof(a));
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
}

static void case_recv_peek_trunc(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char buf[64];
	int s = dt_udp_bound(t, P1);
	int fd = dt_udp_bound(t, P2);

	dt_sendto(t, fd, "0123456789", 10, 0, &a, sizeof(a));
	dt_sendto(t, fd, "abc", 3, 0, &a, sizeof(a));
	dt_recvfrom(t, s, buf, 4, MSG_PEEK, &from, &fl);
	dt_recv(t, s, buf, sizeof(buf), MSG_PEEK | MSG_TRUNC);
	dt_recv(t, s, buf, 4, MSG_PEEK | MSG_TRUNC);
	/* MSG_TRUNC in: the real length comes back, the rest is lost. */
	dt_recv(t, s, buf, 4, MSG_TRUNC);
	dt_recv(t, s, buf, 2, 0);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
}

static void case_recvmsg(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_storage name;
	char b1[3], b2[4], b3[16], ctl[64];
	struct iovec iov[3] = {
		{ b1, sizeof(b1) }, { b2, sizeof(b2) }, { b3, sizeof(b3) },
	};
	struct msghdr m;
	int s = dt_udp_bound(t, P1);
	int fd = dt_udp_bound(t, P2);

	for (int i = 0; i < 6; i++)
		dt_sendto(t, fd, "0123456789", 10, 0, &a, sizeof(a));
	/* Scattered, with a name buffer larger than needed. */
	memset(&m, 0, sizeof(m));
	m.msg_name = &name;
	m.msg_namelen = sizeof(name);
	m.msg_iov = iov;
	m.msg_iovlen = 3;
	dt_recvmsg(t, s, &m, 0);
	/* Truncated: MSG_TRUNC comes out in msg_flags. */
	m.msg_iovlen = 2;
	m.msg_namelen = sizeof(name);
	dt_recvmsg(t, s, &m, 0);
	m.msg_namelen = sizeof(name);
	dt_recvmsg(t, s, &m, MSG_TRUNC);
	/* A name buffer too short, and none at all. */
	m.msg_namelen = 6;
	dt_recvmsg(t, s, &m, 0);
	m.msg_name = NULL;
	m.msg_namelen = 16;
	dt_recvmsg(t, s, &m, 0);
	/* Control buffer but no option asking for control data. */
	m.msg_name = &name;
	m.msg_namelen = sizeof(name);
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	m.msg_iovlen = 3;
	dt_recvmsg(t, s, &m, 0);
	/* Empty now. */
	m.msg_controllen = sizeof(ctl);
	dt_recvmsg(t, s, &m, MSG_DONTWAIT);
	dt_recvmsg(t, s, NULL, MSG_DONTWAIT);
}

static void case_sendmsg(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct iovec iov[3] = {
		{ (void *)"ab", 2 }, { NULL, 0 }, { (void *)"cdef", 4 },
	};
	struct msghdr m;
	char buf[16];
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	memset(&m, 0, sizeof(m));
	m.msg_name = &a;
	m.msg_namelen = sizeof(a);
	m.msg_iov = iov;
	m.msg_iovlen = 3;
	dt_sendmsg(t, fd, &m, 0);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	/* No name on an unconnected socket. */
	m.msg_name = NULL;
	m.msg_namelen = 0;
	dt_sendmsg(t, fd, &m, 0);
	/* Short name. */
	m.msg_name = &a;
	m.msg_namelen = 4;
	dt_sendmsg(t, fd, &m, 0);
	/* No iovecs: an empty datagram. */
	m.msg_namelen = sizeof(a);
	m.msg_iovlen = 0;
	dt_sendmsg(t, fd, &m, 0);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	m.msg_iov = NULL;
	m.msg_iovlen = 1;
	dt_sendmsg(t, fd, &m, 0);
	m.msg_iovlen = 2000;
	dt_sendmsg(t, fd, &m, 0);
	dt_sendmsg(t, fd, NULL, 0);
}

static void many_iov(struct dt *t, int wfd, int rfd)
{
	struct iovec *v = calloc(IOV_MAX + 1, sizeof(*v));
	struct msghdr m = { .msg_iov = v, .msg_iovlen = IOV_MAX + 1 };
	char b[4] = "abc";

	for (int i = 0; i <= IOV_MAX; i++)
		v[i] = (struct iovec){ b, 1 };
	dt_writev(t, wfd, v, IOV_MAX + 1);
	dt_readv(t, rfd, v, IOV_MAX + 1);
	dt_sendmsg(t, wfd, &m, 0);
	dt_recvmsg(t, rfd, &m, 0);
	m.msg_iovlen = IOV_MAX;
	dt_sendmsg(t, wfd, &m, 0);
	dt_recvmsg(t, rfd, &m, 0);
	free(v);
}

static void case_readv_writev(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in b = dt_sin("127.0.0.1", P2);
	char r1[2], r2[3], r3[10];
	struct iovec w[2] = { { (void *)"hel", 3 }, { (void *)"lo, you", 7 } };
	struct iovec r[3] = { { r1, 2 }, { r2, 3 }, { r3, 10 } };
	int s = dt_udp_bound(t, P1);
	int c = dt_udp_bound(t, P2);

	dt_connect(t, c, &a, sizeof(a));
	dt_connect(t, s, &b, sizeof(b));
	dt_fcntl(t, s, F_SETFL, O_NONBLOCK);
	dt_writev(t, c, w, 2);
	dt_readv(t, s, r, 3);
	dt_writev(t, c, w, 2);
	dt_readv(t, s, r, 2);
	/* Nothing to write: writev sends no datagram at all, and readv
	 * with no room returns 0 and leaves the queue alone (Linux's
	 * vfs_readv/vfs_writev stop at a zero total), unlike write(). */
	dt_writev(t, c, w, 0);
	dt_readv(t, s, r, 3);
	dt_write(t, c, "", 0);
	dt_read(t, s, r1, 0);
	dt_readv(t, s, r, 0);
	dt_readv(t, s, r, 3);
	dt_readv(t, s, r, 3);
	dt_writev(t, c, w, -1);
	dt_readv(t, s, r, -1);
	dt_writev(t, c, NULL, 1);
	dt_readv(t, s, NULL, 1);
	/* More than IOV_MAX entries: EINVAL here, EMSGSIZE for sendmsg. */
	many_iov(t, c, s);
}

/*
 * Bad buffers: a NULL buffer faults only when bytes are to be copied, so an
 * empty queue still says EAGAIN; a datagram that cannot be copied out, or
 * whose sender's address cannot be, is lost all the same.
 */
static void case_bad_buffers(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in from;
	socklen_t fl;
	char buf[16];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_recv(t, s, NULL, 5, MSG_DONTWAIT);
	dt_sendto(t, fd, NULL, 5, 0, &a, sizeof(a));
	dt_sendto(t, fd, NULL, 5, 0, NULL, 0);
	dt_sendto(t, fd, "one", 3, 0, &a, sizeof(a));
	dt_sendto(t, fd, "two", 3, 0, &a, sizeof(a));
	dt_sendto(t, fd, "three", 5, 0, &a, sizeof(a));
	dt_sendto(t, fd, "four", 4, 0, &a, sizeof(a));
	dt_recv(t, s, NULL, 5, MSG_DONTWAIT | MSG_PEEK);
	dt_recv(t, s, NULL, 5, MSG_DONTWAIT);
	dt_recvfrom(t, s, buf, sizeof(buf), MSG_DONTWAIT, &from, NULL);
	fl = (socklen_t)-1;
	dt_recvfrom(t, s, buf, sizeof(buf), MSG_DONTWAIT, &from, &fl);
	/* A negative msg_namelen is refused before anything is taken. */
	m.msg_name = &from;
	m.msg_namelen = (socklen_t)-1;
	dt_recvmsg(t, s, &m, MSG_DONTWAIT);
	fl = sizeof(from);
	dt_recvfrom(t, s, buf, sizeof(buf), MSG_DONTWAIT, NULL, &fl);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
}

static void case_msg_flags(struct dt *t)
{
	struct {
		struct sockaddr_storage ss;
		char more[72];
	} big;
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	char buf[16];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	/* A name longer than any address is cut to sockaddr_storage. */
	memset(&big, 0, sizeof(big));
	memcpy(&big, &a, sizeof(a));
	m.msg_name = &big;
	m.msg_namelen = sizeof(big);
	iov.iov_len = 4;
	memcpy(buf, "long", 4);
	dt_sendmsg(t, fd, &m, 0);
	/* A name of length 0 is no name at all. */
	m.msg_namelen = 0;
	dt_sendmsg(t, fd, &m, 0);
	iov.iov_len = sizeof(buf);
	dt_sendto(t, fd, "x", 1, 0, &a, sizeof(a));
	/* Flags that mean nothing to UDP, or that come back in msg_flags. */
	dt_recv(t, s, buf, sizeof(buf), MSG_ERRQUEUE);
	m.msg_namelen = sizeof(big.ss);
	dt_recvmsg(t, s, &m, MSG_CMSG_CLOEXEC | MSG_WAITALL);
	m.msg_namelen = sizeof(big.ss);
	dt_recvmsg(t, s, &m, MSG_DONTWAIT | MSG_ERRQUEUE);
	m.msg_namelen = 0;
	dt_sendto(t, fd, "yz", 2, MSG_MORE | MSG_EOR | MSG_CONFIRM, &a,
		  sizeof(a));
	dt_recvmsg(t, s, &m, MSG_DONTWAIT);
}

/* ---- corking: MSG_MORE and UDP_CORK -------------------------------------- */

/*
 * Linux's udp_sendmsg appends what is sent with MSG_MORE (or under
 * UDP_CORK) to one pending datagram (ip_append_data), sent by the first
 * call without them. The destination is the first call's: later ones
 * name none, or another, and their control messages are not looked at.
 */
static void case_cork_msg_more(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in b = dt_sin("127.0.0.1", P2);
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char buf[64];
	int s = dt_udp_bound(t, P1);
	int s2 = dt_udp_bound(t, P2);
	int fd = dt_udp_bound(t, 5003);
	int c = dt_udp_bound(t, 5004);

	dt_sendto(t, fd, "ab", 2, MSG_MORE, &a, sizeof(a));
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_sendto(t, fd, "cd", 2, MSG_MORE, &b, sizeof(b));
	dt_send(t, fd, "", 0, MSG_MORE);
	/* Errors checked before the pending datagram: it stays. */
	dt_sendto(t, fd, "x", 1, MSG_OOB, &a, sizeof(a));
	dt_sendto(t, fd, buf, 65536, MSG_MORE, &a, sizeof(a));
	dt_sendto(t, fd, "ef", 2, 0, NULL, 0);
	dt_recvfrom(t, s, buf, sizeof(buf), MSG_DONTWAIT, &from, &fl);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, s2, buf, sizeof(buf), MSG_DONTWAIT);
	/* An empty datagram, corked and sent. */
	dt_sendto(t, fd, "", 0, MSG_MORE, &a, sizeof(a));
	dt_sendto(t, fd, "", 0, 0, &a, sizeof(a));
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	/* A connected socket. */
	dt_connect(t, c, &a, sizeof(a));
	dt_send(t, c, "pq", 2, MSG_MORE);
	dt_write(t, c, "rs", 2);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	/* Closed while corked: nothing is sent. */
	dt_send(t, c, "lost", 4, MSG_MORE);
	dt_close(t, c);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
}

/* UDP_CORK holds every send until it is cleared, which sends. */
static void case_cork_option(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	char buf[64];
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_getsockopt_int(t, fd, IPPROTO_UDP, UDP_CORK);
	dt_setsockopt_int(t, fd, IPPROTO_UDP, UDP_CORK, 7);
	dt_getsockopt_int(t, fd, IPPROTO_UDP, UDP_CORK);
	dt_sendto(t, fd, "on", 2, 0, &a, sizeof(a));
	dt_sendto(t, fd, "e", 1, 0, &a, sizeof(a));
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_setsockopt_int(t, fd, IPPROTO_UDP, UDP_CORK, 0);
	dt_getsockopt_int(t, fd, IPPROTO_UDP, UDP_CORK);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	/* Cleared with nothing pending: nothing sent. */
	dt_setsockopt_int(t, fd, IPPROTO_UDP, UDP_CORK, 0);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	/* MSG_MORE under UDP_CORK, then a plain send: still held. */
	dt_setsockopt_int(t, fd, IPPROTO_UDP, UDP_CORK, 1);
	dt_sendto(t, fd, "tw", 2, MSG_MORE, &a, sizeof(a));
	dt_sendto(t, fd, "o", 1, 0, &a, sizeof(a));
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_setsockopt(t, fd, IPPROTO_UDP, UDP_CORK, "", 0);
	dt_setsockopt_int(t, fd, IPPROTO_UDP, UDP_CORK, 0);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
}

/*
 * The size of a corked datagram: 65507 bytes of data in all; the send
 * that would go past fails with EMSGSIZE and the whole pending datagram
 * is dropped (Linux's udp_flush_pending_frames).
 */
static void case_cork_sizes(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	size_t big = 65507;
	char *buf = calloc(1, big + 16);
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	for (size_t i = 0; i < big; i++)
		buf[i] = (char)(i * 7);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_RCVBUF, 1 << 20);
	dt_sendto(t, fd, buf, 65000, MSG_MORE, &a, sizeof(a));
	dt_sendto(t, fd, buf, 508, MSG_MORE, &a, sizeof(a));
	dt_sendto(t, fd, "z", 1, 0, &a, sizeof(a));
	dt_recv(t, s, buf, big, MSG_DONTWAIT);
	dt_recv(t, s, buf, big, MSG_DONTWAIT);
	dt_sendto(t, fd, buf, 65000, MSG_MORE, &a, sizeof(a));
	dt_sendto(t, fd, buf + 65000, 507, MSG_MORE, &a, sizeof(a));
	dt_send(t, fd, NULL, 0, 0);
	dt_recv(t, s, buf, big, MSG_DONTWAIT);
	dt_recv(t, s, buf, big, MSG_DONTWAIT);
	/* Many small pieces. */
	for (int i = 0; i < 300; i++)
		dt_ct(t)->sendto(fd, buf + 100 * i, 100, MSG_MORE,
				 (const struct sockaddr *)&a, sizeof(a));
	dt_send(t, fd, "!", 1, 0);
	dt_recv(t, s, buf, big, MSG_DONTWAIT);
	free(buf);
}

/*
 * A corked datagram against the MTU (lo at 1500): under IP_PMTUDISC_DO it
 * may not outgrow it (EMSGSIZE, dropped); otherwise it is fragmented. The
 * shutdown and error of a socket stop only a datagram's first send.
 */
static void case_cork_mtu_and_errors(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in dead = dt_sin("127.0.0.1", P_CLOSED);
	static char buf[4096];
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int c = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 13);
	dt_set_lo_mtu(t, 1500);
	dt_sendto(t, fd, buf, 1000, MSG_MORE, &a, sizeof(a));
	dt_sendto(t, fd, buf + 1000, 2000, 0, &a, sizeof(a));
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_setsockopt_int(t, fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
	dt_sendto(t, fd, buf, 1000, MSG_MORE, &a, sizeof(a));
	dt_sendto(t, fd, buf, 1000, MSG_MORE, &a, sizeof(a));
	dt_sendto(t, fd, "k", 1, 0, &a, sizeof(a));
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_set_lo_mtu(t, 65536);
	/* Shut for writing while corked. */
	dt_sendto(t, fd, "ab", 2, MSG_MORE, &a, sizeof(a));
	dt_shutdown(t, fd, SHUT_WR);
	dt_sendto(t, fd, "cd", 2, 0, &a, sizeof(a));
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_sendto(t, fd, "ef", 2, MSG_MORE, &a, sizeof(a));
	/* A pending error (port unreachable) while corked. */
	dt_connect(t, c, &dead, sizeof(dead));
	dt_send(t, c, "x", 1, 0);
	dt_sendto(t, c, "gh", 2, MSG_MORE, &a, sizeof(a));
	dt_getsockopt_int(t, c, SOL_SOCKET, SO_ERROR);
	dt_sendto(t, c, "ij", 2, MSG_MORE, &a, sizeof(a));
	dt_send(t, c, "x", 1, 0);
	dt_getsockopt_int(t, c, SOL_SOCKET, SO_ERROR);
	dt_sendto(t, c, "kl", 2, MSG_MORE, &a, sizeof(a));
	dt_sendto(t, c, "mn", 2, 0, &a, sizeof(a));
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
}

/*
 * UDP_SEGMENT (Linux's udp_lib_setsockopt, __udp_cmsg_send and
 * udp_send_skb with a gso_size): the option's range, the control message
 * (a u16 exactly), the datagrams one send is cut into, and the errors:
 * past 128 datagrams EINVAL, one datagram past the path's MTU EMSGSIZE,
 * the whole past 65507 bytes EMSGSIZE.
 */
static void case_udp_segment(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	static char buf[70000];
	char rbuf[2048];
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int tcp = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	static const int vals[] = { -1, 0, 1, 1000, 65535, 65536 };
	union {
		char b[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, 2000 };
	struct msghdr m = { .msg_name = &a, .msg_namelen = sizeof(a),
			    .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.b };
	struct cmsghdr *c = (struct cmsghdr *)ctl.b;
	uint16_t g16 = 700;
	int g32 = 700;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + i / 997);
	dt_getsockopt_int(t, fd, SOL_UDP, UDP_SEGMENT);
	DT_SETGET(t, fd, SOL_UDP, UDP_SEGMENT, vals);
	dt_setsockopt(t, fd, SOL_UDP, UDP_SEGMENT, &g16, sizeof(g16));
	dt_setsockopt_int(t, tcp, SOL_UDP, UDP_SEGMENT, 100);
	/* 2500 bytes by 1000: 1000, 1000, 500; 1000 by 1000: one. */
	dt_setsockopt_int(t, fd, SOL_UDP, UDP_SEGMENT, 1000);
	dt_sendto(t, fd, buf, 2500, 0, &a, sizeof(a));
	for (int i = 0; i < 4; i++)
		dt_recv(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	dt_sendto(t, fd, buf, 1000, 0, &a, sizeof(a));
	dt_recv(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	dt_recv(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	/* Corked, the whole is cut when it goes. */
	dt_sendto(t, fd, buf, 1500, MSG_MORE, &a, sizeof(a));
	dt_sendto(t, fd, buf + 1500, 1000, 0, &a, sizeof(a));
	for (int i = 0; i < 4; i++)
		dt_recv(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	/* 128 datagrams at most. */
	dt_setsockopt_int(t, fd, SOL_UDP, UDP_SEGMENT, 10);
	dt_sendto(t, fd, buf, 1281, 0, &a, sizeof(a));
	dt_sendto(t, fd, buf, 1280, 0, &a, sizeof(a));
	for (int i = 0; i < 129; i++)
		dt_recv(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	/* The whole may be 64 KB, not more. */
	dt_setsockopt_int(t, fd, SOL_UDP, UDP_SEGMENT, 1400);
	dt_sendto(t, fd, buf, 65508, 0, &a, sizeof(a));
	dt_sendto(t, fd, buf, 65507, 0, &a, sizeof(a));
	for (int i = 0; i < 48; i++)
		dt_recv(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	/* Each datagram must fit the path: MTU 1500. */
	dt_set_lo_mtu(t, 1500);
	dt_setsockopt_int(t, fd, SOL_UDP, UDP_SEGMENT, 2000);
	dt_sendto(t, fd, buf, 3000, 0, &a, sizeof(a));
	dt_sendto(t, fd, buf, 1400, 0, &a, sizeof(a));
	dt_recv(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	dt_setsockopt_int(t, fd, SOL_UDP, UDP_SEGMENT, 1472);
	dt_sendto(t, fd, buf, 3000, 0, &a, sizeof(a));
	for (int i = 0; i < 4; i++)
		dt_recv(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	dt_set_lo_mtu(t, 65536);
	/* The control message: a u16, 0 for none, for this send only. */
	dt_setsockopt_int(t, fd, SOL_UDP, UDP_SEGMENT, 0);
	c->cmsg_level = SOL_UDP;
	c->cmsg_type = UDP_SEGMENT;
	c->cmsg_len = CMSG_LEN(sizeof(g16));
	memcpy(CMSG_DATA(c), &g16, sizeof(g16));
	m.msg_controllen = CMSG_SPACE(sizeof(g16));
	dt_sendmsg(t, fd, &m, 0);
	for (int i = 0; i < 4; i++)
		dt_recv(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	c->cmsg_len = CMSG_LEN(sizeof(g32));
	memcpy(CMSG_DATA(c), &g32, sizeof(g32));
	m.msg_controllen = CMSG_SPACE(sizeof(g32));
	dt_sendmsg(t, fd, &m, 0);
	dt_setsockopt_int(t, fd, SOL_UDP, UDP_SEGMENT, 500);
	g16 = 0;
	c->cmsg_len = CMSG_LEN(sizeof(g16));
	memcpy(CMSG_DATA(c), &g16, sizeof(g16));
	m.msg_controllen = CMSG_SPACE(sizeof(g16));
	dt_sendmsg(t, fd, &m, 0);
	dt_recv(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	dt_recv(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	c->cmsg_type = UDP_CORK;
	dt_sendmsg(t, fd, &m, 0);
}

/* Each control message of m: level, type, length and its bytes. */
static void note_cmsgs(struct dt *t, struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		size_t n = c->cmsg_len > CMSG_LEN(0) ? c->cmsg_len - CMSG_LEN(0)
						      : 0;
		char hex[2 * 32 + 1] = "";

		for (size_t i = 0; i < n && i < 32; i++)
			snprintf(hex + 2 * i, 3, "%02x", CMSG_DATA(c)[i]);
		dt_note(t, "cmsg level %d type %d len %zu data %s",
			c->cmsg_level, c->cmsg_type, (size_t)c->cmsg_len, hex);
	}
}

static void gro_recvmsg(struct dt *t, int fd, char *buf, size_t len,
			int flags)
{
	union {
		char b[256];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b) };

	if (dt_recvmsg(t, fd, &m, flags) >= 0)
		note_cmsgs(t, &m);
}

/*
 * UDP_GRO (Linux's udp_lib_setsockopt, udp_cmsg_recv): an int, reported
 * as 0 or 1. With it, a UDP_SEGMENT send over lo (a device that passes
 * GSO packets whole) arrives as one buffer with its datagram size in a
 * SOL_UDP/UDP_GRO control message (an int); without it, as datagrams.
 * A datagram that came alone has no such message. Truncation, MSG_PEEK
 * and FIONREAD see the whole buffer.
 */
static void case_udp_gro(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	static char buf[70000], rbuf[70000];
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int tcp = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	uint8_t one = 1;
	int n = -1;

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 13 + i / 1009);
	dt_getsockopt_int(t, s, SOL_UDP, UDP_GRO);
	dt_setsockopt_int(t, s, SOL_UDP, UDP_GRO, 5);
	dt_getsockopt_int(t, s, SOL_UDP, UDP_GRO);
	dt_setsockopt(t, s, SOL_UDP, UDP_GRO, &one, sizeof(one));
	dt_setsockopt_int(t, tcp, SOL_UDP, UDP_GRO, 1);
	dt_setsockopt_int(t, s, SOL_IP, IP_PKTINFO, 1);
	dt_setsockopt_int(t, fd, SOL_UDP, UDP_SEGMENT, 1000);
	/* Whole: 2500 bytes, datagrams of 1000. */
	dt_sendto(t, fd, buf, 2500, 0, &a, sizeof(a));
	gro_recvmsg(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	gro_recvmsg(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	/* One datagram's worth: no GSO, no message. */
	dt_sendto(t, fd, buf, 700, 0, &a, sizeof(a));
	gro_recvmsg(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	/* Peeked, measured, truncated. */
	dt_sendto(t, fd, buf + 3, 4321, 0, &a, sizeof(a));
	dt_ioctl(t, s, FIONREAD, &n);
	dt_recv(t, s, rbuf, 10, MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	gro_recvmsg(t, s, rbuf, 100, MSG_DONTWAIT);
	gro_recvmsg(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	/* Off again: cut into datagrams, no message. */
	dt_setsockopt_int(t, s, SOL_UDP, UDP_GRO, 0);
	dt_getsockopt_int(t, s, SOL_UDP, UDP_GRO);
	dt_sendto(t, fd, buf, 2500, 0, &a, sizeof(a));
	for (int i = 0; i < 4; i++)
		gro_recvmsg(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	/* The largest whole: a frame of 65536 bytes or more with lo's
	 * header (IP 65522, a payload of 65494) is cut on the way out
	 * (Linux's gso_max_size), whatever the receiver takes. */
	dt_setsockopt_int(t, s, SOL_UDP, UDP_GRO, 1);
	dt_setsockopt_int(t, fd, SOL_UDP, UDP_SEGMENT, 1400);
	dt_sendto(t, fd, buf, 65493, 0, &a, sizeof(a));
	gro_recvmsg(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	dt_sendto(t, fd, buf, 65494, 0, &a, sizeof(a));
	gro_recvmsg(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
	gro_recvmsg(t, s, rbuf, sizeof(rbuf), MSG_DONTWAIT);
}

/* ---- which socket a datagram goes to ------------------------------------ */

static void deliver_one(struct dt *t, int to, int a, int b, int c)
{
	struct sockaddr_in dst = dt_sin("127.0.0.1", P1);
	char buf[16];

	dt_sendto(t, to, hello, 5, 0, &dst, sizeof(dst));
	dt_recv(t, a, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, b, buf, sizeof(buf), MSG_DONTWAIT);
	if (c >= 0)
		dt_recv(t, c, buf, sizeof(buf), MSG_DONTWAIT);
}

/*
 * Sockets sharing a port by SO_REUSEADDR: the most specific binding, a
 * connected socket before a bound one, and among equals the one bound
 * last (Linux adds to the head of the port's chain and keeps the first
 * best match).
 */
static void case_reuseaddr_delivery(struct dt *t)
{
	struct sockaddr_in lo = dt_sin("127.0.0.1", P1);
	struct sockaddr_in any = dt_sin("0.0.0.0", P1);
	struct sockaddr_in peer = dt_sin("127.0.0.1", P2);
	int a = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int b = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int c = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int from = dt_udp_bound(t, P2);

	dt_setsockopt_int(t, a, SOL_SOCKET, SO_REUSEADDR, 1);
	dt_setsockopt_int(t, b, SOL_SOCKET, SO_REUSEADDR, 1);
	dt_setsockopt_int(t, c, SOL_SOCKET, SO_REUSEADDR, 1);
	dt_bind(t, a, &lo, sizeof(lo));
	dt_bind(t, b, &lo, sizeof(lo));
	deliver_one(t, from, a, b, -1);
	dt_close(t, b);
	deliver_one(t, from, a, c, -1);
	dt_bind(t, c, &any, sizeof(any));
	deliver_one(t, from, a, c, -1);
	dt_connect(t, c, &peer, sizeof(peer));
	deliver_one(t, from, a, c, -1);
}

/* ---- ICMP errors --------------------------------------------------------- */

static void case_icmp_connected(struct dt *t)
{
	struct sockaddr_in dead = dt_sin("127.0.0.1", P_CLOSED);
	char buf[16];
	int c = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_connect(t, c, &dead, sizeof(dead));
	dt_send(t, c, hello, 5, 0);
	/* The port unreachable came back: the next call reports it once. */
	dt_send(t, c, hello, 5, 0);
	dt_send(t, c, hello, 5, 0);
	dt_recv(t, c, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, c, buf, sizeof(buf), MSG_DONTWAIT);
	dt_send(t, c, hello, 5, 0);
	dt_getsockopt_int(t, c, SOL_SOCKET, SO_ERROR);
	dt_getsockopt_int(t, c, SOL_SOCKET, SO_ERROR);
	dt_send(t, c, hello, 5, 0);
	dt_sendto(t, c, hello, 5, 0, &dead, sizeof(dead));
	dt_recvfrom(t, c, buf, sizeof(buf), MSG_DONTWAIT, NULL, NULL);
}

static void case_icmp_unconnected(struct dt *t)
{
	struct sockaddr_in dead = dt_sin("127.0.0.1", P_CLOSED);
	char buf[16];
	int c = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_sendto(t, c, hello, 5, 0, &dead, sizeof(dead));
	dt_sendto(t, c, hello, 5, 0, &dead, sizeof(dead));
	dt_recv(t, c, buf, sizeof(buf), MSG_DONTWAIT);
	dt_getsockopt_int(t, c, SOL_SOCKET, SO_ERROR);
	/* Connecting afterwards does not bring old errors back. */
	dt_connect(t, c, &dead, sizeof(dead));
	dt_recv(t, c, buf, sizeof(buf), MSG_DONTWAIT);
}

/* ---- shutdown() ---------------------------------------------------------- */

static void case_shutdown_connected(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in b = dt_sin("127.0.0.1", P2);
	char buf[16];
	int s = dt_udp_bound(t, P1);
	int c = dt_udp_bound(t, P2);

	dt_connect(t, c, &a, sizeof(a));
	dt_sendto(t, s, "early", 5, 0, &b, sizeof(b));
	dt_shutdown(t, c, SHUT_RD);
	/* Queued data is still there; after it, end of file. */
	dt_recv(t, c, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, c, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, c, buf, sizeof(buf), 0);
	/* Datagrams arriving after SHUT_RD. */
	dt_sendto(t, s, "late", 4, 0, &b, sizeof(b));
	dt_recv(t, c, buf, sizeof(buf), 0);
	dt_send(t, c, hello, 5, 0);
	dt_shutdown(t, c, SHUT_WR);
	dt_send(t, c, hello, 5, 0);
	dt_send(t, c, hello, 5, MSG_NOSIGNAL);
	dt_write(t, c, hello, 5);
	dt_sendto(t, c, hello, 5, 0, &a, sizeof(a));
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_getnames(t, c);
	dt_shutdown(t, c, SHUT_RDWR);
	dt_shutdown(t, c, 3);
	dt_shutdown(t, c, -1);
}

static void case_shutdown_unconnected(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	char buf[16];
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int v = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	/* ENOTCONN, but the shutdown takes effect. */
	dt_shutdown(t, u, SHUT_WR);
	dt_sendto(t, u, hello, 5, MSG_NOSIGNAL, &a, sizeof(a));
	dt_shutdown(t, s, SHUT_RD);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, s, buf, sizeof(buf), 0);
	dt_shutdown(t, v, SHUT_RDWR);
	dt_recv(t, v, buf, sizeof(buf), 0);
	dt_sendto(t, v, hello, 5, MSG_NOSIGNAL, &a, sizeof(a));
	dt_shutdown(t, v, 7);
	dt_getnames(t, v);
}

/* ---- broadcast ----------------------------------------------------------- */

static void case_broadcast(struct dt *t)
{
	struct sockaddr_in bc = dt_sin("127.255.255.255", P1);
	struct sockaddr_in lbc = dt_sin("255.255.255.255", P1);
	struct sockaddr_in any = dt_sin("0.0.0.0", P1);
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char buf[16];
	int r = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_bind(t, r, &any, sizeof(any));
	dt_sendto(t, fd, hello, 5, 0, &bc, sizeof(bc));
	dt_sendto(t, fd, hello, 5, 0, &lbc, sizeof(lbc));
	dt_connect(t, fd, &bc, sizeof(bc));
	dt_setsockopt_int(t, fd, SOL_SOCKET, SO_BROADCAST, 1);
	dt_sendto(t, fd, "bcast", 5, 0, &bc, sizeof(bc));
	dt_sendto(t, fd, "lbcast", 6, 0, &lbc, sizeof(lbc));
	dt_recvfrom(t, r, buf, sizeof(buf), MSG_DONTWAIT, &from, &fl);
	dt_recv(t, r, buf, sizeof(buf), MSG_DONTWAIT);
	dt_connect(t, fd, &bc, sizeof(bc));
	dt_getnames(t, fd);
	dt_send(t, fd, "conn", 4, 0);
	dt_recv(t, r, buf, sizeof(buf), MSG_DONTWAIT);
	dt_setsockopt_int(t, fd, SOL_SOCKET, SO_BROADCAST, 0);
	dt_send(t, fd, "conn", 4, 0);
}

/*
 * No free ephemeral port: net.ipv4.ip_local_port_range shrunk to two
 * ports, both taken by bind() to port 0, so a third bind() to port 0 is
 * EADDRINUSE, and an unbound socket's sendto() and connect() are EAGAIN
 * at once, blocking or not (Linux's inet_autobind: udp_lib_get_port
 * finds nothing; a wait would not help). With one of the two let go,
 * sendto() binds to it.
 */
static void case_autobind_exhausted(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in any = dt_sin("0.0.0.0", 0);
	char buf[16];
	int s = dt_udp_bound(t, P1);
	int b1, b2, fd;

	dt_sysctl(t, "net.ipv4.ip_local_port_range", "40000 40001");
	b1 = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	dt_bind(t, b1, &any, sizeof(any));
	b2 = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	dt_bind(t, b2, &any, sizeof(any));
	fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	dt_sendto(t, fd, hello, 5, 0, &a, sizeof(a));
	dt_sendto(t, fd, hello, 5, MSG_DONTWAIT, &a, sizeof(a));
	dt_send(t, fd, hello, 5, 0);
	dt_connect(t, fd, &a, sizeof(a));
	dt_bind(t, fd, &any, sizeof(any));
	dt_getnames(t, fd);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_close(t, b1);
	dt_sendto(t, fd, hello, 5, 0, &a, sizeof(a));
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_getnames(t, fd);
	dt_sysctl(t, "net.ipv4.ip_local_port_range", "32768 60999");
}

static const struct dt_case cases[] = {
	DT_CASE(case_send_no_dest),
	DT_CASE(case_send_bad_addr),
	DT_CASE(case_send_sizes),
	DT_CASE(case_zero_length),
	DT_CASE(case_recv_empty),
	DT_CASE(case_cork_msg_more),
	DT_CASE(case_cork_option),
	DT_CASE(case_cork_sizes),
	DT_CASE(case_cork_mtu_and_errors),
	DT_CASE(case_udp_segment),
	DT_CASE(case_udp_gro),
	DT_CASE(case_recv_oob_waits),
	DT_CASE(case_recv_peek_trunc),
	DT_CASE(case_recvmsg),
	DT_CASE(case_sendmsg),
	DT_CASE(case_readv_writev),
	DT_CASE(case_bad_buffers),
	DT_CASE(case_msg_flags),
	DT_CASE(case_reuseaddr_delivery),
	DT_CASE(case_icmp_connected),
	DT_CASE(case_icmp_unconnected),
	DT_CASE(case_shutdown_connected),
	DT_CASE(case_shutdown_unconnected),
	DT_CASE(case_broadcast),
	DT_CASE(case_autobind_exhausted),
};

int main(void)
{
	return dt_main("diff_udp", cases, sizeof(cases) / sizeof(cases[0]));
}
