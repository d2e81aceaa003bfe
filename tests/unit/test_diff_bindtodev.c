/*
 * test_diff_bindtodev.c - differential tests of a socket tied to an
 * interface: SO_BINDTODEVICE and SO_BINDTOIFINDEX (what a socket takes in
 * and where it sends), IP_UNICAST_IF (where a datagram socket's unicast
 * goes), and the interface a packet this host sent to itself counts as
 * coming in on (IP_PKTINFO).
 *
 * Both sides have lo and a second link (dt_add_link: v0 with 10.9.0.1/24,
 * a veth pair on the kernel's side, dummy devices on ustack's). A packet
 * to 10.9.0.1 goes through lo, yet counts as having come in on v0 (the
 * local route's device: Linux's rt_iif); one to 127.0.0.1 as on lo.
 * Interface indices are never printed (they may differ): only whether a
 * reported one is v0's or lo's. DT_SHOW=1 prints agreeing transcripts
 * too, DT_CASE=pattern runs only the matching cases.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/difftest.h"

#define P1 5301
#define P2 5302
#define P3 5303

static const char hello[] = "hello";

static int bind_dev(struct dt *t, int fd, const char *name)
{
	return dt_setsockopt(t, fd, SOL_SOCKET, SO_BINDTODEVICE, name,
			     (socklen_t)strlen(name));
}

/* A datagram socket bound to addr:port. */
static int udp_on(struct dt *t, const char *addr, uint16_t port)
{
	struct sockaddr_in a = dt_sin(addr, port);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_bind(t, fd, &a, sizeof(a));
	return fd;
}

/* Did fd get a datagram? (Waits a little: the loopback is quick.) */
static void udp_got(struct dt *t, int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char buf[16];

	dt_ct(t)->poll(&p, 1, 100);
	dt_recv(t, fd, buf, sizeof(buf), MSG_DONTWAIT);
}

/* The option's values: a name of up to IFNAMSIZ - 1 bytes ("" or none
 * unbinds), read back with its NUL into room for any name; the index
 * form; rebinding (allowed to root, as these tests run). */
static void case_bindtodevice_option(struct dt *t)
{
	int udp = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int tcp = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	char name[32];
	socklen_t len;
	int v0 = dt_add_link(t), idx;

	for (int k = 0; k < 2; k++) {
		int fd = k ? tcp : udp;

		len = sizeof(name);
		dt_getsockopt(t, fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len);
		bind_dev(t, fd, "lo");
		len = sizeof(name);
		dt_getsockopt(t, fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len);
		len = 8;
		dt_getsockopt(t, fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len);
		dt_getsockopt_int(t, fd, SOL_SOCKET, SO_BINDTOIFINDEX);
		bind_dev(t, fd, "v0");
		len = 16;
		dt_getsockopt(t, fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len);
		len = sizeof(idx);
		dt_ct(t)->getsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &idx,
				     &len);
		dt_note(t, "SO_BINDTOIFINDEX is v0's: %d", idx == v0);
		bind_dev(t, fd, "nosuchdev");
		/* Cut to 15 bytes: "v0" and garbage is no name. */
		dt_setsockopt(t, fd, SOL_SOCKET, SO_BINDTODEVICE,
			      "v0\0xxxxxxxxxxxxxxxxxxx", 20);
		len = sizeof(name);
		dt_getsockopt(t, fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len);
		dt_setsockopt(t, fd, SOL_SOCKET, SO_BINDTODEVICE,
			      "xxxxxxxxxxxxxxxv0", 17);
		bind_dev(t, fd, "");
		len = sizeof(name);
		dt_getsockopt(t, fd, SOL_SOCKET, SO_BINDTODEVICE, name, &len);
		dt_setsockopt_int(t, fd, SOL_SOCKET, SO_BINDTOIFINDEX, 1);
		dt_getsockopt_int(t, fd, SOL_SOCKET, SO_BINDTOIFINDEX);
		dt_setsockopt(t, fd, SOL_SOCKET, SO_BINDTODEVICE, "", 0);
		dt_getsockopt_int(t, fd, SOL_SOCKET, SO_BINDTOIFINDEX);
		dt_setsockopt_int(t, fd, SOL_SOCKET, SO_BINDTOIFINDEX, 9999);
		dt_setsockopt_int(t, fd, SOL_SOCKET, SO_BINDTOIFINDEX, -1);
		dt_setsockopt_int(t, fd, SOL_SOCKET, SO_BINDTOIFINDEX, 0);
		dt_setsockopt(t, fd, SOL_SOCKET, SO_BINDTODEVICE, NULL, 0);
	}
}

/* A datagram socket bound to a device takes only what came in on it:
 * to 10.9.0.1 counts as v0, to 127.0.0.1 as lo. */
static void case_bindtodevice_udp_in(struct dt *t)
{
	struct sockaddr_in lo = dt_sin("127.0.0.1", P1);
	struct sockaddr_in v0 = dt_sin("10.9.0.1", P1);
	int s, u;

	dt_add_link(t);
	s = udp_on(t, "0.0.0.0", P1);
	u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	bind_dev(t, s, "v0");
	dt_sendto(t, u, hello, 5, 0, &lo, sizeof(lo));
	udp_got(t, s);
	dt_sendto(t, u, hello, 5, 0, &v0, sizeof(v0));
	udp_got(t, s);
	bind_dev(t, s, "lo");
	dt_sendto(t, u, hello, 5, 0, &v0, sizeof(v0));
	udp_got(t, s);
	dt_sendto(t, u, hello, 5, 0, &lo, sizeof(lo));
	udp_got(t, s);
	/* Two sockets on one port, each on its device. */
	{
		int s2 = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
		struct sockaddr_in any = dt_sin("0.0.0.0", P1);

		bind_dev(t, s2, "v0");
		dt_bind(t, s2, &any, sizeof(any));
		dt_sendto(t, u, hello, 5, 0, &v0, sizeof(v0));
		udp_got(t, s2);
		udp_got(t, s);
	}
}

/* IP_PKTINFO's interface for a datagram this host sent itself. */
static void case_pktinfo_local_iif(struct dt *t)
{
	struct sockaddr_in lo = dt_sin("127.0.0.1", P1);
	struct sockaddr_in v0 = dt_sin("10.9.0.1", P1);
	int idx = dt_add_link(t);
	int s = udp_on(t, "0.0.0.0", P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_setsockopt_int(t, s, SOL_IP, IP_PKTINFO, 1);
	for (int k = 0; k < 2; k++) {
		char buf[16], ctl[64] __attribute__((aligned(8)));
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = ctl,
				    .msg_controllen = sizeof(ctl) };
		struct in_pktinfo pi;

		dt_sendto(t, u, hello, 5, 0, k ? &v0 : &lo, sizeof(lo));
		memset(&pi, 0, sizeof(pi));
		if (dt_recvmsg(t, s, &m, 0) >= 0 && CMSG_FIRSTHDR(&m))
			memcpy(&pi, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(pi));
		dt_note(t, "to %s: ifindex is v0's %d, lo's %d",
			k ? "10.9.0.1" : "127.0.0.1", pi.ipi_ifindex == idx,
			pi.ipi_ifindex == 1);
	}
}

/* A listener bound to a device: connections that come in on another are
 * refused; among listeners on one port, the one bound to the device the
 * SYN came in on wins over the one bound to none. */
static void case_bindtodevice_tcp_in(struct dt *t)
{
	struct sockaddr_in any = dt_sin("0.0.0.0", P2);
	struct sockaddr_in lo = dt_sin("127.0.0.1", P2);
	struct sockaddr_in v0 = dt_sin("10.9.0.1", P2);
	int l, l2, c, a;

	dt_add_link(t);
	l = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_setsockopt_int(t, l, SOL_SOCKET, SO_REUSEADDR, 1);
	bind_dev(t, l, "v0");
	dt_bind(t, l, &any, sizeof(any));
	dt_listen(t, l, 8);
	dt_fcntl(t, l, F_SETFL, O_NONBLOCK);
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_connect(t, c, &lo, sizeof(lo));
	dt_close(t, c);
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_connect(t, c, &v0, sizeof(v0));
	a = dt_accept4(t, l, NULL, NULL, SOCK_NONBLOCK);
	dt_getsockopt_int(t, a, SOL_SOCKET, SO_BINDTOIFINDEX);
	dt_close(t, a);
	dt_close(t, c);
	/* A second listener on the port, bound to no device: takes lo's;
	 * v0's still go to the first. (SO_REUSEADDR does not let two
	 * listeners share a port; another device does.) */
	l2 = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_bind(t, l2, &any, sizeof(any));
	dt_setsockopt_int(t, l2, SOL_SOCKET, SO_REUSEADDR, 1);
	bind_dev(t, l2, "lo");
	dt_bind(t, l2, &any, sizeof(any));
	dt_listen(t, l2, 8);
	dt_fcntl(t, l2, F_SETFL, O_NONBLOCK);
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_connect(t, c, &lo, sizeof(lo));
	dt_accept4(t, l2, NULL, NULL, SOCK_NONBLOCK);
	dt_accept4(t, l, NULL, NULL, SOCK_NONBLOCK);
	dt_close(t, c);
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_connect(t, c, &v0, sizeof(v0));
	dt_accept4(t, l2, NULL, NULL, SOCK_NONBLOCK);
	dt_accept4(t, l, NULL, NULL, SOCK_NONBLOCK);
}

/* Where a socket bound to a device sends: out of it, even where the
 * routes would choose another. */
static void case_bindtodevice_out(struct dt *t)
{
	struct sockaddr_in lo = dt_sin("127.0.0.1", P3);
	struct sockaddr_in v0 = dt_sin("10.9.0.1", P3);
	struct sockaddr_in far = dt_sin("10.9.0.7", P3);
	struct sockaddr_in unrouted = dt_sin("192.0.2.9", P3);
	int s, u, c;

	dt_add_link(t);
	s = udp_on(t, "0.0.0.0", P3);
	u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	bind_dev(t, u, "v0");
	dt_sendto(t, u, hello, 5, 0, &lo, sizeof(lo));
	udp_got(t, s);
	dt_sendto(t, u, hello, 5, 0, &v0, sizeof(v0));
	udp_got(t, s);
	dt_sendto(t, u, hello, 5, 0, &far, sizeof(far));
	dt_sendto(t, u, hello, 5, 0, &unrouted, sizeof(unrouted));
	dt_connect(t, u, &unrouted, sizeof(unrouted));
	dt_getnames(t, u);
	bind_dev(t, u, "lo");
	dt_sendto(t, u, hello, 5, 0, &v0, sizeof(v0));
	udp_got(t, s);
	dt_sendto(t, u, hello, 5, 0, &far, sizeof(far));
	dt_close(t, u);
	u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	dt_sendto(t, u, hello, 5, 0, &unrouted, sizeof(unrouted));
	/* TCP: connect() routes out of the device. */
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_fcntl(t, c, F_SETFL, O_NONBLOCK);
	bind_dev(t, c, "v0");
	dt_connect(t, c, &unrouted, sizeof(unrouted));
	dt_getnames(t, c);
	dt_close(t, c);
}

/* IP_UNICAST_IF: an index in network order; a datagram socket's unicast
 * leaves by it unless it is bound to a device; EADDRNOTAVAIL for no such
 * interface, EINVAL on a bound socket. */
static void case_unicast_if(struct dt *t)
{
	struct sockaddr_in lo = dt_sin("127.0.0.1", P3);
	struct sockaddr_in unrouted = dt_sin("192.0.2.9", P3);
	int idx = dt_add_link(t);
	int s = udp_on(t, "0.0.0.0", P3);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int tcp = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int v = 0, got;
	socklen_t len;

	dt_getsockopt_int(t, u, SOL_IP, IP_UNICAST_IF);
	dt_setsockopt_int(t, u, SOL_IP, IP_UNICAST_IF, (int)htonl(9999));
	dt_setsockopt(t, u, SOL_IP, IP_UNICAST_IF, &v, 2);
	v = (int)htonl((uint32_t)idx);
	dt_ct(t)->setsockopt(u, SOL_IP, IP_UNICAST_IF, &v, sizeof(v));
	len = sizeof(got);
	dt_ct(t)->getsockopt(u, SOL_IP, IP_UNICAST_IF, &got, &len);
	dt_note(t, "reads back v0's, in network order: %d", got == v);
	dt_sendto(t, u, hello, 5, 0, &unrouted, sizeof(unrouted));
	dt_sendto(t, u, hello, 5, 0, &lo, sizeof(lo));
	udp_got(t, s);
	dt_setsockopt_int(t, u, SOL_IP, IP_UNICAST_IF, 0);
	dt_sendto(t, u, hello, 5, 0, &lo, sizeof(lo));
	udp_got(t, s);
	dt_sendto(t, u, hello, 5, 0, &unrouted, sizeof(unrouted));
	bind_dev(t, u, "lo");
	dt_ct(t)->setsockopt(u, SOL_IP, IP_UNICAST_IF, &v, sizeof(v));
	dt_note(t, "IP_UNICAST_IF on a bound socket: errno %s",
		errno == EINVAL ? "EINVAL" : "other");
	dt_ct(t)->setsockopt(tcp, SOL_IP, IP_UNICAST_IF, &v, sizeof(v));
	len = sizeof(got);
	dt_ct(t)->getsockopt(tcp, SOL_IP, IP_UNICAST_IF, &got, &len);
	dt_note(t, "TCP keeps it too: %d", got == v);
}

static const struct dt_case cases[] = {
	DT_CASE(case_bindtodevice_option),
	DT_CASE(case_bindtodevice_udp_in),
	DT_CASE(case_pktinfo_local_iif),
	DT_CASE(case_bindtodevice_tcp_in),
	DT_CASE(case_bindtodevice_out),
	DT_CASE(case_unicast_if),
};

int main(void)
{
	return dt_main("diff_bindtodev", cases, sizeof(cases) / sizeof(cases[0]));
}
