/*
 * test_diff_socket.c - differential tests of the SOCK_DGRAM socket calls
 * that create, name and connect sockets: socket(), bind() (conflicts,
 * SO_REUSEADDR/SO_REUSEPORT, bad addresses, ephemeral and privileged
 * ports), connect() and disconnect, getsockname/getpeername, listen and
 * accept on UDP, and every call on a closed descriptor or a pipe.
 *
 * Every case is written once against the socket call table
 * (tests/lib/difftest.h) and run twice, on the kernel's sockets in a
 * private network namespace and on ustack; a case fails when the two
 * transcripts (return values, errno, data, addresses, lengths, flags)
 * differ. Linux is the oracle. Fixed ports are below 32768; an ephemeral
 * port prints as "eph" on both sides. DT_SHOW=1 prints agreeing
 * transcripts too, DT_CASE=pattern runs only the matching cases.
 *
 * Kept out of the comparison, and why:
 *  - socket types ustack does not implement over AF_INET (SOCK_STREAM
 *    here is another issue's; SOCK_RAW, and SOCK_PACKET, which Linux
 *    turns into a packet socket) and other families: us_socket() hands
 *    AF_INET6 and the rest to the kernel, so both sides would be Linux.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/difftest.h"

#define P1 5001
#define P2 5002
#define P3 5003

static const char hello[] = "hello";

/* ---- socket() ------------------------------------------------------------ */

static void case_socket_family(struct dt *t)
{
	dt_socket(t, 12345, SOCK_DGRAM, 0);
	dt_socket(t, -1, SOCK_DGRAM, 0);
	dt_socket(t, AF_MAX, SOCK_DGRAM, 0);
}

static void case_socket_type(struct dt *t)
{
	dt_socket(t, AF_INET, -1, 0);
	dt_socket(t, AF_INET, 0, 0);
	dt_socket(t, AF_INET, 11, 0);
	dt_socket(t, AF_INET, 7, 0);
	dt_socket(t, AF_INET, SOCK_DGRAM | 0x100, 0);
	dt_socket(t, AF_INET, SOCK_DGRAM | 0x10, 0);
	dt_socket(t, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
}

static void case_socket_protocol(struct dt *t)
{
	dt_socket(t, AF_INET, SOCK_DGRAM, -1);
	dt_socket(t, AF_INET, SOCK_DGRAM, IPPROTO_MAX);
	dt_socket(t, AF_INET, SOCK_DGRAM, 300);
	dt_socket(t, AF_INET, SOCK_DGRAM, IPPROTO_TCP);
	dt_socket(t, AF_INET, SOCK_DGRAM, 255);
	dt_socket(t, AF_INET, SOCK_DGRAM, IPPROTO_UDP);
	dt_socket(t, AF_INET, SOCK_DGRAM, IPPROTO_IP);
}

/* ---- bind() -------------------------------------------------------------- */

static void case_bind_basic(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_getnames(t, fd);
	dt_bind(t, fd, &a, sizeof(a));
	dt_getnames(t, fd);
	/* Bound once: a second bind fails, to the same or another port. */
	dt_bind(t, fd, &a, sizeof(a));
	a.sin_port = htons(P2);
	dt_bind(t, fd, &a, sizeof(a));
	dt_getnames(t, fd);
}

static void case_bind_port0(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 0);
	struct sockaddr_in any = dt_sin("0.0.0.0", 0);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int fd2 = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_bind(t, fd, &a, sizeof(a));
	dt_getnames(t, fd);
	dt_bind(t, fd2, &any, sizeof(any));
	dt_getnames(t, fd2);
}

static void case_bind_any(struct dt *t)
{
	struct sockaddr_in a = dt_sin("0.0.0.0", P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_bind(t, fd, &a, sizeof(a));
	dt_getnames(t, fd);
}

static void case_bind_conflict(struct dt *t)
{
	struct sockaddr_in lo = dt_sin("127.0.0.1", P1);
	struct sockaddr_in lo2 = dt_sin("127.0.0.2", P1);
	struct sockaddr_in any = dt_sin("0.0.0.0", P1);
	int a = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int b = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int c = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	/* Same address and port. */
	dt_bind(t, a, &lo, sizeof(lo));
	dt_bind(t, b, &lo, sizeof(lo));
	/* A wildcard over a specific binding, and a different address. */
	dt_bind(t, b, &any, sizeof(any));
	dt_bind(t, b, &lo2, sizeof(lo2));
	/* The failed binds left c free; the port is taken for it too. */
	dt_bind(t, c, &lo, sizeof(lo));
	dt_close(t, a);
	/* The port is free again once the holder is closed. */
	dt_bind(t, c, &lo, sizeof(lo));
	dt_getnames(t, c);
}

static void case_bind_conflict_wild_first(struct dt *t)
{
	struct sockaddr_in lo = dt_sin("127.0.0.1", P1);
	struct sockaddr_in any = dt_sin("0.0.0.0", P1);
	int a = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int b = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_bind(t, a, &any, sizeof(any));
	dt_bind(t, b, &lo, sizeof(lo));
	dt_bind(t, b, &any, sizeof(any));
}

static void reuse_pair(struct dt *t, int opt_a, int opt_b, bool wild)
{
	struct sockaddr_in lo = dt_sin("127.0.0.1", P1);
	struct sockaddr_in any = dt_sin("0.0.0.0", P1);
	int a = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int b = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	if (opt_a)
		dt_setsockopt_int(t, a, SOL_SOCKET, opt_a, 1);
	if (opt_b)
		dt_setsockopt_int(t, b, SOL_SOCKET, opt_b, 1);
	dt_bind(t, a, wild ? (void *)&any : (void *)&lo, sizeof(lo));
	dt_bind(t, b, &lo, sizeof(lo));
	dt_close(t, a);
	dt_close(t, b);
}

static void case_bind_reuseaddr(struct dt *t)
{
	reuse_pair(t, SO_REUSEADDR, SO_REUSEADDR, false);
	reuse_pair(t, SO_REUSEADDR, 0, false);
	reuse_pair(t, 0, SO_REUSEADDR, false);
	reuse_pair(t, SO_REUSEADDR, SO_REUSEADDR, true);
}

static void case_bind_reuseport(struct dt *t)
{
	reuse_pair(t, SO_REUSEPORT, SO_REUSEPORT, false);
	reuse_pair(t, SO_REUSEPORT, 0, false);
	reuse_pair(t, 0, SO_REUSEPORT, false);
	reuse_pair(t, SO_REUSEPORT, SO_REUSEPORT, true);
	reuse_pair(t, SO_REUSEPORT, SO_REUSEADDR, false);
}

static void case_bind_bad_addr(struct dt *t)
{
	struct sockaddr_in a = dt_sin("10.1.2.3", P1);
	struct sockaddr_storage ss;
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	/* Not an address of this host. */
	dt_bind(t, fd, &a, sizeof(a));
	/* Another family, with room for it. */
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_INET6;
	dt_bind(t, fd, &ss, sizeof(struct sockaddr_in6));
	dt_bind(t, fd, &ss, sizeof(struct sockaddr_in));
	/* Lengths. */
	a = dt_sin("127.0.0.1", P1);
	dt_bind(t, fd, &a, sizeof(a) - 1);
	dt_bind(t, fd, &a, 2);
	dt_bind(t, fd, &a, 0);
	dt_bind(t, fd, &ss, sizeof(ss) + 1);
	dt_bind(t, fd, &a, (socklen_t)-1);
	/* No address at all. */
	dt_bind(t, fd, NULL, sizeof(a));
	dt_bind(t, fd, NULL, 0);
	/* AF_UNSPEC: accepted only for INADDR_ANY. */
	a.sin_family = AF_UNSPEC;
	dt_bind(t, fd, &a, sizeof(a));
	a.sin_addr.s_addr = htonl(INADDR_ANY);
	dt_bind(t, fd, &a, sizeof(a));
	dt_getnames(t, fd);
}

static void case_bind_special_addr(struct dt *t)
{
	static const char *const addrs[] = {
		"127.0.0.5", "127.255.255.255", "255.255.255.255", "224.0.0.1",
		"240.0.0.1", "0.1.2.3", "127.0.0.0",
	};

	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		struct sockaddr_in a = dt_sin(addrs[i], P1);
		int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

		dt_bind(t, fd, &a, sizeof(a));
		dt_getnames(t, fd);
		dt_close(t, fd);
	}
}

static void case_bind_privileged(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 80);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int fd2 = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	/* We are root (in the namespace): allowed. */
	dt_bind(t, fd, &a, sizeof(a));
	/* Without the capability: EACCES. seteuid() drops the effective
	 * capabilities and seteuid(0) brings them back. */
	a.sin_port = htons(81);
	dt_note(t, "seteuid(65534) = %d", seteuid(65534));
	dt_bind(t, fd2, &a, sizeof(a));
	dt_note(t, "seteuid(0) = %d", seteuid(0));
	dt_bind(t, fd2, &a, sizeof(a));
}

/* ---- connect() ----------------------------------------------------------- */

static void case_connect_basic(struct dt *t)
{
	struct sockaddr_in srv = dt_sin("127.0.0.1", P1);
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char buf[64];
	int s = dt_udp_bound(t, P1);
	int c = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_connect(t, c, &srv, sizeof(srv));
	dt_getnames(t, c);
	dt_send(t, c, hello, 5, 0);
	dt_write(t, c, "world", 5);
	dt_recvfrom(t, s, buf, sizeof(buf), 0, &from, &fl);
	dt_recv(t, s, buf, sizeof(buf), 0);
	/* Reply to the address the datagram came from. */
	dt_sendto(t, s, "back", 4, 0, &from, fl);
	dt_recv(t, c, buf, sizeof(buf), MSG_DONTWAIT);
	/* Connecting again moves the peer. */
	srv.sin_port = htons(P2);
	dt_connect(t, c, &srv, sizeof(srv));
	dt_getnames(t, c);
}

static void case_connect_unspec(struct dt *t)
{
	struct sockaddr_in srv = dt_sin("127.0.0.1", P1);
	struct sockaddr_in local = dt_sin("127.0.0.1", P2);
	struct sockaddr un = { .sa_family = AF_UNSPEC };
	char buf[16];
	int s = dt_udp_bound(t, P1);
	int c = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int d = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	/* Autobound by connect: disconnecting forgets address and port. */
	dt_connect(t, c, &srv, sizeof(srv));
	dt_getnames(t, c);
	dt_connect(t, c, &un, sizeof(un));
	dt_getnames(t, c);
	dt_send(t, c, hello, 5, 0);
	/* A short AF_UNSPEC (just the family) disconnects too. */
	dt_connect(t, c, &srv, sizeof(srv));
	dt_connect(t, c, &un, sizeof(un.sa_family));
	dt_getnames(t, c);
	dt_connect(t, c, &un, 1);
	/* Bound by the user: the binding survives the disconnect. */
	dt_bind(t, d, &local, sizeof(local));
	dt_connect(t, d, &srv, sizeof(srv));
	dt_connect(t, d, &un, sizeof(un));
	dt_getnames(t, d);
	/* Disconnecting an unconnected socket is fine. */
	dt_connect(t, d, &un, sizeof(un));
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
}

static void case_connect_bad(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_storage ss;
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_connect(t, fd, &a, sizeof(a) - 1);
	dt_connect(t, fd, &a, 0);
	dt_connect(t, fd, NULL, sizeof(a));
	dt_connect(t, fd, NULL, 0);
	dt_connect(t, fd, &a, sizeof(ss) + 1);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_INET6;
	dt_connect(t, fd, &ss, sizeof(struct sockaddr_in6));
	/* No route: only lo exists. */
	a = dt_sin("10.1.2.3", P1);
	dt_connect(t, fd, &a, sizeof(a));
	dt_getnames(t, fd);
	/* Port 0 and address 0. */
	a = dt_sin("127.0.0.1", 0);
	dt_connect(t, fd, &a, sizeof(a));
	dt_getnames(t, fd);
	a = dt_sin("0.0.0.0", P1);
	dt_connect(t, fd, &a, sizeof(a));
	dt_getnames(t, fd);
}

static void case_connect_filter(struct dt *t)
{
	struct sockaddr_in c1a = dt_sin("127.0.0.1", P2);
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char buf[16];
	int s = dt_udp_bound(t, P1);
	int c1 = dt_udp_bound(t, P2);
	int c2 = dt_udp_bound(t, P3);
	struct sockaddr_in srv = dt_sin("127.0.0.1", P1);

	/* s hears only from c1 once connected to it. */
	dt_connect(t, s, &c1a, sizeof(c1a));
	dt_sendto(t, c2, "two", 3, 0, &srv, sizeof(srv));
	dt_sendto(t, c1, "one", 3, 0, &srv, sizeof(srv));
	dt_recvfrom(t, s, buf, sizeof(buf), MSG_DONTWAIT, &from, &fl);
	dt_recvfrom(t, s, buf, sizeof(buf), MSG_DONTWAIT, &from, &fl);
	/* A connected socket may still sendto another address. */
	srv.sin_port = htons(P3);
	dt_sendto(t, s, "x", 1, 0, &srv, sizeof(srv));
	dt_recv(t, c2, buf, sizeof(buf), MSG_DONTWAIT);
}

static void case_bind_after_autobind(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in b = dt_sin("127.0.0.1", P2);
	int c = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int d = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_connect(t, c, &a, sizeof(a));
	dt_bind(t, c, &b, sizeof(b));
	dt_sendto(t, d, hello, 5, 0, &a, sizeof(a));
	dt_getnames(t, d);
	dt_bind(t, d, &b, sizeof(b));
}

/* 127/8 is all this host: bindings tell the addresses apart. */
static void case_loopback_addrs(struct dt *t)
{
	struct sockaddr_in two = dt_sin("127.0.0.2", P1);
	struct sockaddr_in one = dt_sin("127.0.0.1", P1);
	struct sockaddr_in from;
	socklen_t fl = sizeof(from);
	char buf[16];
	int s2 = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int c = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_bind(t, s2, &two, sizeof(two));
	dt_sendto(t, fd, "to1", 3, 0, &one, sizeof(one));
	dt_sendto(t, fd, "to2", 3, 0, &two, sizeof(two));
	dt_recvfrom(t, s2, buf, sizeof(buf), MSG_DONTWAIT, &from, &fl);
	dt_recv(t, s2, buf, sizeof(buf), MSG_DONTWAIT);
	dt_connect(t, c, &two, sizeof(two));
	dt_getnames(t, c);
	dt_send(t, c, "c", 1, 0);
	fl = sizeof(from);
	dt_recvfrom(t, s2, buf, sizeof(buf), MSG_DONTWAIT, &from, &fl);
}

/* ---- descriptors that are closed or not sockets -------------------------- */

static void every_call(struct dt *t, int fd)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	char buf[8] = "xy";
	struct iovec iov = { buf, 2 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int v = 1;

	dt_bind(t, fd, &a, sizeof(a));
	dt_connect(t, fd, &a, sizeof(a));
	dt_listen(t, fd, 5);
	dt_accept(t, fd, NULL, NULL);
	dt_accept4(t, fd, NULL, NULL, SOCK_NONBLOCK);
	dt_send(t, fd, buf, 2, MSG_DONTWAIT);
	dt_sendto(t, fd, buf, 2, MSG_DONTWAIT, &a, sizeof(a));
	dt_sendmsg(t, fd, &m, MSG_DONTWAIT);
	dt_recv(t, fd, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recvfrom(t, fd, buf, sizeof(buf), MSG_DONTWAIT, &from, &len);
	dt_recvmsg(t, fd, &m, MSG_DONTWAIT);
	dt_shutdown(t, fd, SHUT_RDWR);
	len = sizeof(from);
	dt_getsockname(t, fd, &from, &len);
	len = sizeof(from);
	dt_getpeername(t, fd, &from, &len);
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_TYPE);
	dt_setsockopt_int(t, fd, SOL_SOCKET, SO_REUSEADDR, 1);
	dt_ioctl(t, fd, FIONREAD, &v);
	dt_fcntl(t, fd, F_GETFL, 0);
}

static void case_closed_fd(struct dt *t)
{
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	char buf[4];

	dt_close(t, fd);
	every_call(t, fd);
	dt_read(t, fd, buf, sizeof(buf));
	dt_write(t, fd, buf, sizeof(buf));
	dt_close(t, fd);
	every_call(t, -1);
	every_call(t, 100000);
}

static void case_not_socket(struct dt *t)
{
	int p[2];
	char buf[4] = "abc";

	dt_pipe(t, p);
	every_call(t, p[0]);
	/* Plain I/O on the pipe goes to the kernel on both sides. */
	dt_write(t, p[1], buf, 3);
	dt_read(t, p[0], buf, sizeof(buf));
	dt_close(t, p[0]);
	dt_close(t, p[1]);
}

static void case_listen_accept(struct dt *t)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_listen(t, fd, 5);
	dt_listen(t, u, 0);
	dt_accept(t, fd, &a, &len);
	dt_accept(t, fd, NULL, NULL);
	dt_accept4(t, fd, NULL, NULL, SOCK_CLOEXEC);
	dt_accept4(t, fd, NULL, NULL, 0x40000000);
	len = (socklen_t)-1;
	dt_accept(t, fd, &a, &len);
	dt_accept(t, fd, &a, NULL);
	dt_getnames(t, u);
}

/* ---- getsockname / getpeername arguments --------------------------------- */

static void case_getname_args(struct dt *t)
{
	struct sockaddr_storage a;
	socklen_t len;
	int fd = dt_udp_bound(t, P1);

	len = 4;
	dt_getsockname(t, fd, &a, &len);
	len = 0;
	dt_getsockname(t, fd, &a, &len);
	len = 0;
	dt_getsockname(t, fd, NULL, &len);
	len = sizeof(a);
	dt_getsockname(t, fd, NULL, &len);
	dt_getsockname(t, fd, &a, NULL);
	len = (socklen_t)-1;
	dt_getsockname(t, fd, &a, &len);
	len = 100;
	dt_getsockname(t, fd, &a, &len);
	len = 4;
	dt_getpeername(t, fd, &a, &len);
	dt_getpeername(t, fd, &a, NULL);
}

static const struct dt_case cases[] = {
	DT_CASE(case_socket_family),
	DT_CASE(case_socket_type),
	DT_CASE(case_socket_protocol),
	DT_CASE(case_bind_basic),
	DT_CASE(case_bind_port0),
	DT_CASE(case_bind_any),
	DT_CASE(case_bind_conflict),
	DT_CASE(case_bind_conflict_wild_first),
	DT_CASE(case_bind_reuseaddr),
	DT_CASE(case_bind_reuseport),
	DT_CASE(case_bind_bad_addr),
	DT_CASE(case_bind_special_addr),
	DT_CASE(case_bind_privileged),
	DT_CASE(case_connect_basic),
	DT_CASE(case_connect_unspec),
	DT_CASE(case_connect_bad),
	DT_CASE(case_connect_filter),
	DT_CASE(case_bind_after_autobind),
	DT_CASE(case_loopback_addrs),
	DT_CASE(case_closed_fd),
	DT_CASE(case_not_socket),
	DT_CASE(case_listen_accept),
	DT_CASE(case_getname_args),
};

int main(void)
{
	return dt_main("diff_socket", cases, sizeof(cases) / sizeof(cases[0]));
}
