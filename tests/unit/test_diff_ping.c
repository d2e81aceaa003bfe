/*
 * test_diff_ping.c - differential tests of ICMP echo sockets ("ping
 * sockets", socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP), Linux's
 * net/ipv4/ping.c): creation and options, bind() and the identifier as
 * the socket's port, the checks of a send (length, type and code, flags,
 * addresses, SO_BROADCAST), an echo to 127.0.0.1 and the reply read back
 * whole with the identifier replaced and the checksum computed, connect(),
 * MSG_PEEK / MSG_TRUNC, IP_TTL / IP_RECVTTL / IP_RECVTOS, EMSGSIZE on the
 * error queue, poll and SO_RCVBUF.
 *
 * The kernel side allows ping sockets in its namespace
 * (net.ipv4.ping_group_range "0 2147483647"; without it root gets
 * EACCES); ustack allows them to everyone. An identifier the kernel picks
 * comes from a counter shared by all its namespaces, so cases that let
 * the stack pick one note only what is the same on both sides.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/difftest.h"

#define ID1 4321
#define ID2 4322

/* An echo request of len bytes (at least the header): id, seq, then
 * bytes 'a', 'b', ... as data. */
static void echo_req(unsigned char *p, size_t len, uint16_t id, uint16_t seq)
{
	memset(p, 0, len);
	p[0] = ICMP_ECHO;
	p[4] = (unsigned char)(id >> 8);
	p[5] = (unsigned char)id;
	p[6] = (unsigned char)(seq >> 8);
	p[7] = (unsigned char)seq;
	for (size_t i = 8; i < len; i++)
		p[i] = (unsigned char)('a' + (i - 8) % 26);
}

static int bound_ping(struct dt *t, const char *ip, uint16_t id)
{
	struct sockaddr_in a = dt_sin(ip, id);
	int fd = dt_ping_socket(t);

	dt_bind(t, fd, &a, sizeof(a));
	return fd;
}

static void wait_in(struct dt *t, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	/* Long enough for the reply over the loopback; POLLIN ends it. */
	dt_poll(t, &p, 1, 1000);
}

/* ---- creating, options, bind -------------------------------------------- */

static void case_create(struct dt *t)
{
	int fd = dt_ping_socket(t);
	int v = 0;

	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_TYPE);
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_PROTOCOL);
	/* Linux's INET_PROTOSW_REUSE: sharing from the start. */
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_REUSEADDR);
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_BROADCAST);
	dt_getsockopt_int(t, fd, IPPROTO_IP, IP_TTL);
	dt_getnames(t, fd);
	dt_ioctl(t, fd, FIONREAD, &v);
	dt_listen(t, fd, 1);
	dt_accept(t, fd, NULL, NULL);
	dt_setsockopt_int(t, fd, IPPROTO_TCP, 1, 1);
	dt_getsockopt_int(t, fd, IPPROTO_UDP, 1);
	dt_close(t, fd);
	/* Raw ICMP and other protocols of SOCK_DGRAM stay refused here. */
	dt_socket(t, AF_INET, SOCK_DGRAM, IPPROTO_TCP);
	dt_socket(t, AF_INET, SOCK_DGRAM, IPPROTO_ICMPV6);
}

static void case_bind(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", ID1);
	struct sockaddr_in any = dt_sin("0.0.0.0", ID2);
	int fd = dt_ping_socket(t);
	int fd2 = dt_ping_socket(t);
	int fd3 = dt_ping_socket(t);
	int fd4 = dt_ping_socket(t);

	dt_bind(t, fd, &a, sizeof(a) - 1);
	a.sin_family = AF_INET6;
	dt_bind(t, fd, &a, sizeof(a));
	a.sin_family = AF_UNSPEC;
	dt_bind(t, fd, &a, sizeof(a));
	a = dt_sin("10.9.9.9", ID1);
	dt_bind(t, fd, &a, sizeof(a));
	/* Not to a broadcast or multicast address (UDP may). */
	a = dt_sin("127.255.255.255", ID1);
	dt_bind(t, fd, &a, sizeof(a));
	a = dt_sin("224.0.0.1", ID1);
	dt_bind(t, fd, &a, sizeof(a));
	/* Any identifier, below 1024 too; getsockname reports it. */
	a = dt_sin("127.0.0.1", 7);
	dt_bind(t, fd, &a, sizeof(a));
	dt_getnames(t, fd);
	dt_bind(t, fd, &a, sizeof(a));
	/* The same identifier again: both allow sharing from the start. */
	dt_bind(t, fd2, &a, sizeof(a));
	dt_getnames(t, fd2);
	/* One that does not is refused, and may bind again after. */
	dt_setsockopt_int(t, fd3, SOL_SOCKET, SO_REUSEADDR, 0);
	dt_bind(t, fd3, &a, sizeof(a));
	dt_getnames(t, fd3);
	dt_bind(t, fd3, &any, sizeof(any));
	dt_getnames(t, fd3);
	/* AF_UNSPEC with any address is taken as AF_INET. */
	any.sin_family = AF_UNSPEC;
	any.sin_port = htons(ID1);
	dt_bind(t, fd4, &any, sizeof(any));
	dt_getnames(t, fd4);
	dt_close(t, fd);
	dt_close(t, fd2);
	dt_close(t, fd3);
	dt_close(t, fd4);
}

/* bind to identifier 0, a send, or a connect picks one: never 0, and the
 * reply comes back with it. */
static void case_autobind(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 0), name;
	socklen_t len = sizeof(name);
	int fd = dt_ping_socket(t), fd2 = dt_ping_socket(t), fd3 = dt_ping_socket(t);
	unsigned char req[16], rep[64];
	ssize_t n;

	dt_bind(t, fd, &a, sizeof(a));
	dt_ct(t)->getsockname(fd, (struct sockaddr *)&name, &len);
	dt_note(t, "bind 0: id != 0: %d", name.sin_port != 0);
	echo_req(req, sizeof(req), 0, 1);
	dt_sendto(t, fd2, req, sizeof(req), 0, &a, sizeof(a));
	len = sizeof(name);
	dt_ct(t)->getsockname(fd2, (struct sockaddr *)&name, &len);
	dt_note(t, "send: id != 0: %d, addr %#x", name.sin_port != 0,
		ntohl(name.sin_addr.s_addr));
	wait_in(t, fd2);
	n = dt_ct(t)->recv(fd2, rep, sizeof(rep), MSG_DONTWAIT);
	dt_note(t, "reply %zd type %d id is the socket's: %d", n, rep[0],
		n >= 8 && memcmp(rep + 4, &name.sin_port, 2) == 0);
	dt_connect(t, fd3, &a, sizeof(a));
	len = sizeof(name);
	dt_ct(t)->getsockname(fd3, (struct sockaddr *)&name, &len);
	dt_note(t, "connect: id != 0: %d, addr %#x", name.sin_port != 0,
		ntohl(name.sin_addr.s_addr));
}

/* ---- what a send checks ------------------------------------------------- */

static void case_send_checks(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 0);
	static unsigned char big[65536];
	unsigned char req[16];
	int fd = bound_ping(t, "127.0.0.1", ID1);

	echo_req(req, sizeof(req), 0, 1);
	/* Shorter than the ICMP header. */
	dt_sendto(t, fd, req, 0, 0, &a, sizeof(a));
	dt_sendto(t, fd, req, 7, 0, &a, sizeof(a));
	dt_sendto(t, fd, req, 7, MSG_OOB, &a, sizeof(a));
	/* The header alone is an echo. */
	dt_sendto(t, fd, req, 8, MSG_OOB, &a, sizeof(a));
	dt_sendto(t, fd, NULL, 8, 0, &a, sizeof(a));
	/* Only echo requests with code 0. */
	req[0] = ICMP_ECHOREPLY;
	dt_sendto(t, fd, req, sizeof(req), 0, &a, sizeof(a));
	req[0] = ICMP_TIMESTAMP;
	dt_sendto(t, fd, req, sizeof(req), 0, &a, sizeof(a));
	req[0] = ICMP_DEST_UNREACH;
	dt_sendto(t, fd, req, sizeof(req), 0, &a, sizeof(a));
	req[0] = ICMP_ECHO;
	req[1] = 1;
	dt_sendto(t, fd, req, sizeof(req), 0, &a, sizeof(a));
	req[1] = 0;
	/* The type is checked before the address. */
	req[0] = 13;
	dt_sendto(t, fd, req, sizeof(req), 0, &a, sizeof(a) - 1);
	req[0] = ICMP_ECHO;
	/* Addresses. */
	dt_sendto(t, fd, req, sizeof(req), 0, NULL, 0);
	dt_send(t, fd, req, sizeof(req), 0);
	dt_sendto(t, fd, req, sizeof(req), 0, &a, sizeof(a) - 1);
	a.sin_family = AF_UNSPEC;
	dt_sendto(t, fd, req, sizeof(req), 0, &a, sizeof(a));
	a = dt_sin("10.1.2.3", 0);
	dt_sendto(t, fd, req, sizeof(req), 0, &a, sizeof(a));
	/* Broadcast only with SO_BROADCAST. */
	a = dt_sin("127.255.255.255", 0);
	dt_sendto(t, fd, req, sizeof(req), 0, &a, sizeof(a));
	/* Sizes: at most 65535 in the call, and in the IP packet. */
	a = dt_sin("127.0.0.1", 0);
	echo_req(big, sizeof(big), 0, 2);
	dt_sendto(t, fd, big, 65536, 0, &a, sizeof(a));
	dt_sendto(t, fd, big, 65535, 0, &a, sizeof(a));
	dt_sendto(t, fd, big, 65515, 0, &a, sizeof(a));
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_ERROR);
	dt_shutdown(t, fd, SHUT_WR);
	dt_sendto(t, fd, req, sizeof(req), 0, &a, sizeof(a));
}

/* ---- an echo and its reply ---------------------------------------------- */

static void case_echo_reply(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 9999), from;
	unsigned char req[40], buf[64];
	socklen_t flen;
	int fd = bound_ping(t, "0.0.0.0", ID1);
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

	dt_poll(t, &p, 1, 0);
	/* The identifier is the socket's whatever the user wrote; the port
	 * of the destination is no matter. */
	echo_req(req, sizeof(req), 0xbeef, 7);
	dt_sendto(t, fd, req, sizeof(req), 0, &a, sizeof(a));
	wait_in(t, fd);
	flen = sizeof(from);
	dt_recvfrom(t, fd, buf, sizeof(buf), 0, &from, &flen);
	dt_recv(t, fd, buf, sizeof(buf), MSG_DONTWAIT);
	/* A zero-length echo: the header alone. */
	echo_req(req, 8, ID1, 8);
	dt_sendto(t, fd, req, 8, 0, &a, sizeof(a));
	wait_in(t, fd);
	flen = sizeof(from);
	dt_recvfrom(t, fd, buf, sizeof(buf), 0, &from, &flen);
	/* Peeked, then cut: MSG_TRUNC in msg_flags, the length copied
	 * returned even when MSG_TRUNC is asked. */
	echo_req(req, sizeof(req), 1, 9);
	dt_sendto(t, fd, req, sizeof(req), 0, &a, sizeof(a));
	wait_in(t, fd);
	dt_recv(t, fd, buf, 12, MSG_PEEK);
	dt_recvmsg_noted(t, fd, MSG_TRUNC, 12, 256);
	dt_recv(t, fd, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, fd, buf, sizeof(buf), MSG_OOB);
	dt_poll(t, &p, 1, 0);
	dt_close(t, fd);
}

/* Replies go by identifier; one bound to an address hears only replies
 * to it. */
static void case_two_sockets(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 0);
	struct sockaddr_in a2 = dt_sin("127.0.0.2", 0);
	unsigned char req[16], buf[64];
	int fd1 = bound_ping(t, "0.0.0.0", ID1);
	int fd2 = bound_ping(t, "127.0.0.2", ID2);

	echo_req(req, sizeof(req), 0, 1);
	dt_sendto(t, fd1, req, sizeof(req), 0, &a, sizeof(a));
	dt_sendto(t, fd2, req, sizeof(req), 0, &a2, sizeof(a2));
	wait_in(t, fd1);
	wait_in(t, fd2);
	dt_recv(t, fd1, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, fd1, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, fd2, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, fd2, buf, sizeof(buf), MSG_DONTWAIT);
	dt_getnames(t, fd2);
}

static void case_connect(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 0), un;
	struct sockaddr_in bc = dt_sin("127.255.255.255", 0);
	unsigned char req[16], buf[64];
	int fd = bound_ping(t, "0.0.0.0", ID1);

	echo_req(req, sizeof(req), 0, 3);
	dt_connect(t, fd, &bc, sizeof(bc));
	dt_connect(t, fd, &a, sizeof(a) - 1);
	dt_connect(t, fd, &a, sizeof(a));
	/* Connected with port 0: no peer by getpeername (Linux). */
	dt_getnames(t, fd);
	dt_send(t, fd, req, sizeof(req), 0);
	dt_write(t, fd, req, sizeof(req));
	wait_in(t, fd);
	dt_read(t, fd, buf, sizeof(buf));
	dt_read(t, fd, buf, sizeof(buf));
	a.sin_port = htons(77);
	dt_connect(t, fd, &a, sizeof(a));
	dt_getnames(t, fd);
	memset(&un, 0, sizeof(un));
	un.sin_family = AF_UNSPEC;
	dt_connect(t, fd, &un, sizeof(un));
	dt_getnames(t, fd);
	dt_send(t, fd, req, sizeof(req), 0);
	/* Non-blocking: no reply yet. */
	dt_recv(t, fd, buf, sizeof(buf), MSG_DONTWAIT);
	dt_fcntl(t, fd, F_SETFL, O_NONBLOCK);
	dt_recv(t, fd, buf, sizeof(buf), 0);
}

static void case_broadcast(struct dt *t)
{
	struct sockaddr_in bc = dt_sin("127.255.255.255", 0);
	unsigned char req[16];
	int fd = bound_ping(t, "0.0.0.0", ID1);

	echo_req(req, sizeof(req), 0, 1);
	dt_sendto(t, fd, req, sizeof(req), 0, &bc, sizeof(bc));
	dt_setsockopt_int(t, fd, SOL_SOCKET, SO_BROADCAST, 1);
	dt_sendto(t, fd, req, sizeof(req), 0, &bc, sizeof(bc));
	dt_connect(t, fd, &bc, sizeof(bc));
	/* Checked on each send, connected or not (no route is kept). */
	dt_setsockopt_int(t, fd, SOL_SOCKET, SO_BROADCAST, 0);
	dt_send(t, fd, req, sizeof(req), 0);
}

/* ---- IP options ---------------------------------------------------------- */

static void case_ip_options(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 0);
	unsigned char req[16], ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { req, sizeof(req) };
	struct msghdr m = {
		.msg_name = &a, .msg_namelen = sizeof(a),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *c = (struct cmsghdr *)ctl;
	int fd = bound_ping(t, "0.0.0.0", ID1);
	int v = 9;

	dt_setsockopt_int(t, fd, IPPROTO_IP, IP_TTL, 0);
	dt_setsockopt_int(t, fd, IPPROTO_IP, IP_TTL, 33);
	dt_getsockopt_int(t, fd, IPPROTO_IP, IP_TTL);
	dt_setsockopt_int(t, fd, IPPROTO_IP, IP_TOS, 0x10);
	dt_setsockopt_int(t, fd, IPPROTO_IP, IP_RECVTTL, 1);
	dt_setsockopt_int(t, fd, IPPROTO_IP, IP_RECVTOS, 1);
	echo_req(req, sizeof(req), 0, 1);
	dt_sendto(t, fd, req, sizeof(req), 0, &a, sizeof(a));
	wait_in(t, fd);
	/* The reply of each stack: TTL 64, the request's TOS. */
	dt_recvmsg_noted(t, fd, 0, 64, 256);
	/* IP_TTL for one echo as a control message; a bad one refused. */
	memset(ctl, 0, sizeof(ctl));
	c->cmsg_level = SOL_IP;
	c->cmsg_type = IP_TTL;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &v, sizeof(v));
	dt_sendmsg(t, fd, &m, 0);
	wait_in(t, fd);
	dt_recvmsg_noted(t, fd, 0, 64, 256);
	v = 300;
	memcpy(CMSG_DATA(c), &v, sizeof(v));
	dt_sendmsg(t, fd, &m, 0);
	c->cmsg_type = 99;
	dt_sendmsg(t, fd, &m, 0);
}

/* A local EMSGSIZE under IP_MTU_DISCOVER's DO is queued with
 * IP_RECVERR, and polls as POLLERR. */
static void case_emsgsize_errqueue(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 0);
	static unsigned char req[2000];
	int fd = bound_ping(t, "0.0.0.0", ID1);
	struct pollfd p = { .fd = fd, .events = POLLIN };

	echo_req(req, sizeof(req), 0, 1);
	dt_set_lo_mtu(t, 1500);
	dt_setsockopt_int(t, fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
	dt_sendto(t, fd, req, 1481, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, fd, MSG_ERRQUEUE, 64, 256);
	dt_setsockopt_int(t, fd, IPPROTO_IP, IP_RECVERR, 1);
	dt_sendto(t, fd, req, 1481, 0, &a, sizeof(a));
	dt_poll(t, &p, 1, 0);
	dt_recvmsg_noted(t, fd, MSG_ERRQUEUE, 64, 256);
	dt_poll(t, &p, 1, 0);
	/* Under WANT it is fragmented, and comes back whole. */
	dt_setsockopt_int(t, fd, IPPROTO_IP, IP_MTU_DISCOVER,
			  IP_PMTUDISC_WANT);
	dt_sendto(t, fd, req, 1481, 0, &a, sizeof(a));
	wait_in(t, fd);
	dt_recvmsg_noted(t, fd, 0, sizeof(req), 256);
	dt_set_lo_mtu(t, 65536);
}

/* Replies past SO_RCVBUF are dropped; the queue drains. */
static void case_rcvbuf(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 0);
	static unsigned char req[1000];
	unsigned char buf[1100];
	int fd = bound_ping(t, "0.0.0.0", ID1);
	int got = 0;

	echo_req(req, sizeof(req), 0, 1);
	dt_setsockopt_int(t, fd, SOL_SOCKET, SO_RCVBUF, 2304);
	for (int i = 0; i < 50; i++)
		dt_ct(t)->sendto(fd, req, sizeof(req), 0,
				 (struct sockaddr *)&a, sizeof(a));
	wait_in(t, fd);
	while (dt_ct(t)->recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		got++;
	dt_note(t, "replies kept: some %d, not all %d", got > 0, got < 50);
	dt_recv(t, fd, buf, sizeof(buf), MSG_DONTWAIT);
}

static const struct dt_case cases[] = {
	DT_CASE(case_create),
	DT_CASE(case_bind),
	DT_CASE(case_autobind),
	DT_CASE(case_send_checks),
	DT_CASE(case_echo_reply),
	DT_CASE(case_two_sockets),
	DT_CASE(case_connect),
	DT_CASE(case_broadcast),
	DT_CASE(case_ip_options),
	DT_CASE(case_emsgsize_errqueue),
	DT_CASE(case_rcvbuf),
};

int main(void)
{
	return dt_main("diff_ping", cases, sizeof(cases) / sizeof(cases[0]));
}
