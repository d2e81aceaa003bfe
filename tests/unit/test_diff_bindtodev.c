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
#include "lib/calltable.h"
#include <linux/capability.h>
#include <sys/syscall.h>
static void cap_raw(bool on)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	syscall(SYS_capget, &h, d);
	if (on) d[0].effective |= 1u << CAP_NET_RAW;
	else d[0].effective &= ~(1u << CAP_NET_RAW);
	syscall(SYS_capset, &h, d);
}

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


/* ---- more paths (helper-86's review) ------------------------------------- */

/* The interface IP_PKTINFO reports for the next datagram on fd. */
static int pktinfo_ifindex(struct dt *t, int fd)
{
	char buf[16], ctl[64] __attribute__((aligned(8)));
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct in_pktinfo pi;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	dt_ct(t)->poll(&p, 1, 100);
	memset(&pi, 0, sizeof(pi));
	if (dt_recvmsg(t, fd, &m, MSG_DONTWAIT) >= 0 && CMSG_FIRSTHDR(&m))
		memcpy(&pi, CMSG_DATA(CMSG_FIRSTHDR(&m)), sizeof(pi));
	return pi.ipi_ifindex;
}

/* a socket bound to lo sends to 10.9.0.1: Linux's rt_iif is the oif. */
static void case_sender_device_iif(struct dt *t)
{
	struct sockaddr_in v0 = dt_sin("10.9.0.1", P1);
	int idx = dt_add_link(t);
	int s = udp_on(t, "0.0.0.0", P1), s2, u, i;

	dt_setsockopt_int(t, s, SOL_IP, IP_PKTINFO, 1);
	u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	bind_dev(t, u, "lo");
	dt_sendto(t, u, hello, 5, 0, &v0, sizeof(v0));
	i = pktinfo_ifindex(t, s);
	dt_note(t, "bound lo -> 10.9.0.1: ifindex v0 %d lo %d", i == idx, i == 1);
	/* with IP_PKTINFO's ifindex = lo on an unbound socket */
	{
		int u2 = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
		struct in_pktinfo pi = { .ipi_ifindex = 1 };
		char ctl[CMSG_SPACE(sizeof(pi))] __attribute__((aligned(8)));
		struct iovec iov = { (void *)hello, 5 };
		struct msghdr m = { .msg_name = &v0, .msg_namelen = sizeof(v0),
				    .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = ctl, .msg_controllen = sizeof(ctl) };
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);

		memset(ctl, 0, sizeof(ctl));
		c->cmsg_level = SOL_IP; c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(pi));
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
		dt_sendmsg(t, u2, &m, 0);
		i = pktinfo_ifindex(t, s);
		dt_note(t, "pktinfo lo -> 10.9.0.1: ifindex v0 %d lo %d", i == idx, i == 1);
	}
	/* a receiver bound to v0 */
	dt_close(t, s);
	s2 = udp_on(t, "0.0.0.0", P1);
	bind_dev(t, s2, "v0");
	dt_sendto(t, u, hello, 5, 0, &v0, sizeof(v0));
	udp_got(t, s2);
}

/* TCP from a socket bound to lo to 10.9.0.1, listener bound to v0: the
 * SYN counts as lo's, so it never reaches the listener (both hang). A
 * port of its own: the kernel's namespace keeps TIME_WAIT across cases. */
static void case_tcp_bound_lo_to_v0(struct dt *t)
{
	struct sockaddr_in any = dt_sin("0.0.0.0", 5331);
	struct sockaddr_in v0 = dt_sin("10.9.0.1", 5331);
	struct pollfd p;
	int l, c;

	dt_add_link(t);
	l = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	bind_dev(t, l, "v0");
	dt_bind(t, l, &any, sizeof(any));
	dt_listen(t, l, 8);
	dt_fcntl(t, l, F_SETFL, O_NONBLOCK);
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	bind_dev(t, c, "lo");
	dt_fcntl(t, c, F_SETFL, O_NONBLOCK);
	dt_connect(t, c, &v0, sizeof(v0));
	p.fd = c; p.events = POLLOUT; p.revents = 0;
	dt_ct(t)->poll(&p, 1, 200);
	dt_getsockopt_int(t, c, SOL_SOCKET, SO_ERROR);
	dt_accept4(t, l, NULL, NULL, SOCK_NONBLOCK);
}

/* UDP bound to lo, connected to a closed port on 127.0.0.1: the
 * port unreachable is looked up with skb->dev's index (lo) on Linux. */
static void case_udp_bound_icmp_error(struct dt *t)
{
	struct sockaddr_in lo = dt_sin("127.0.0.1", 5399);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	struct pollfd p = { .fd = u, .events = POLLIN };
	char buf[8];

	bind_dev(t, u, "lo");
	dt_connect(t, u, &lo, sizeof(lo));
	dt_send(t, u, hello, 5, 0);
	dt_ct(t)->poll(&p, 1, 100);
	dt_recv(t, u, buf, sizeof(buf), MSG_DONTWAIT);
	dt_setsockopt_int(t, u, SOL_IP, IP_RECVERR, 1);
	dt_send(t, u, hello, 5, 0);
	dt_ct(t)->poll(&p, 1, 100);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE | MSG_DONTWAIT, 64, 256);
}

/* connected to 127.0.0.1, then bound to v0: a loopback source out of
 * a device that is not a loopback (Linux's __mkroute_output: EINVAL). */
static void case_loopback_source_out_of_device(struct dt *t)
{
	struct sockaddr_in lo = dt_sin("127.0.0.1", P3);
	int s, u, c, l;
	struct sockaddr_in a = dt_sin("127.0.0.1", 0);
	struct sockaddr_in zero = dt_sin("0.1.2.3", P3);
	struct sockaddr_in classe = dt_sin("240.0.0.1", P3);

	dt_add_link(t);
	s = udp_on(t, "0.0.0.0", P3);
	u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	dt_connect(t, u, &lo, sizeof(lo));
	bind_dev(t, u, "v0");
	dt_send(t, u, hello, 5, 0);
	udp_got(t, s);
	dt_sendto(t, u, hello, 5, 0, &zero, sizeof(zero));
	dt_sendto(t, u, hello, 5, 0, &classe, sizeof(classe));
	/* TCP bound to 127.0.0.1 and to v0 */
	l = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	(void)l;
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_fcntl(t, c, F_SETFL, O_NONBLOCK);
	dt_bind(t, c, &a, sizeof(a));
	bind_dev(t, c, "v0");
	dt_connect(t, c, &lo, sizeof(lo));
}

/* TIME_WAIT of a connection bound to v0; a socket bound to lo on the
 * same tuple. */
static void case_timewait_bound_device(struct dt *t)
{
	struct sockaddr_in any = dt_sin("0.0.0.0", 5311);
	struct sockaddr_in v0 = dt_sin("10.9.0.1", 5311);
	struct sockaddr_in me = dt_sin("10.9.0.1", 5312);
	int l, c, a, c2;

	dt_add_link(t);
	l = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_setsockopt_int(t, l, SOL_SOCKET, SO_REUSEADDR, 1);
	dt_bind(t, l, &any, sizeof(any));
	dt_listen(t, l, 8);
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_setsockopt_int(t, c, SOL_SOCKET, SO_REUSEADDR, 1);
	bind_dev(t, c, "v0");
	dt_bind(t, c, &me, sizeof(me));
	dt_connect(t, c, &v0, sizeof(v0));
	a = dt_accept(t, l, NULL, NULL);
	dt_close(t, c);
	dt_close(t, a);
	usleep(50000);
	c2 = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_setsockopt_int(t, c2, SOL_SOCKET, SO_REUSEADDR, 1);
	dt_setsockopt_int(t, c2, SOL_SOCKET, SO_REUSEADDR, 1);
	bind_dev(t, c2, "lo");
	dt_fcntl(t, c2, F_SETFL, O_NONBLOCK);
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	bind_dev(t, c, "v1");
	dt_bind(t, c, &me, sizeof(me));
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_bind(t, c, &me, sizeof(me));
}

/* ping socket bound to lo / v0 */
static void case_ping_bound_device(struct dt *t)
{
	struct sockaddr_in lo = dt_sin("127.0.0.1", 0);
	struct sockaddr_in v0 = dt_sin("10.9.0.1", 0);
	unsigned char req[8] = { 8, 0, 0, 0, 0, 0, 0, 1 };
	int p;

	dt_add_link(t);
	p = dt_ping_socket(t);
	if (p < 0)
		return;
	bind_dev(t, p, "lo");
	dt_sendto(t, p, req, 8, 0, &lo, sizeof(lo));
	dt_recvmsg_noted(t, p, 0, 1, 0);
	dt_sendto(t, p, req, 8, 0, &v0, sizeof(v0));
	{ struct pollfd q = { .fd = p, .events = POLLIN }; dt_ct(t)->poll(&q, 1, 100); }
	dt_recvmsg_noted(t, p, MSG_DONTWAIT, 1, 0);
	bind_dev(t, p, "v0");
	dt_sendto(t, p, req, 8, 0, &v0, sizeof(v0));
	{ struct pollfd q = { .fd = p, .events = POLLIN }; dt_ct(t)->poll(&q, 1, 100); }
	dt_recvmsg_noted(t, p, MSG_DONTWAIT, 1, 0);
}

/* getsockopt SO_BINDTODEVICE buffer lengths */
static void case_bindtodevice_getlen(struct dt *t)
{
	static const socklen_t unbound[] = { 0, (socklen_t)-1 };
	static const socklen_t bound[] = { 15, 16 }, idx[] = { 2, 0 };
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	char name[32];

	dt_add_link(t);
	DT_GETLENS(t, u, SOL_SOCKET, SO_BINDTODEVICE, unbound);
	bind_dev(t, u, "v0");
	DT_GETLENS(t, u, SOL_SOCKET, SO_BINDTODEVICE, bound);
	DT_GETLENS(t, u, SOL_SOCKET, SO_BINDTOIFINDEX, idx);
	memset(name, 0, sizeof(name));
	dt_setsockopt(t, u, SOL_SOCKET, SO_BINDTOIFINDEX, name, 2);
	dt_setsockopt(t, u, SOL_SOCKET, SO_BINDTODEVICE, "lo", (socklen_t)-1);
}

/* multicast with a bound device, IP_MULTICAST_IF conflicts */
static void case_multicast_bound_device(struct dt *t)
{
	struct sockaddr_in g = dt_sin("224.1.2.3", P1);
	int idx = dt_add_link(t);
	int s = udp_on(t, "0.0.0.0", P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	struct ip_mreqn mr = { .imr_ifindex = 1 };
	struct ip_mreq m2 = { .imr_interface.s_addr = inet_addr("10.9.0.1") };
	int i;

	dt_setsockopt_int(t, s, SOL_IP, IP_PKTINFO, 1);
	mr.imr_multiaddr.s_addr = inet_addr("224.1.2.3");
	dt_setsockopt(t, s, SOL_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
	bind_dev(t, u, "lo");
	dt_sendto(t, u, hello, 5, 0, &g, sizeof(g));
	i = pktinfo_ifindex(t, s);
	dt_note(t, "mc bound lo: v0 %d lo %d", i == idx, i == 1);
	dt_setsockopt(t, u, SOL_IP, IP_MULTICAST_IF, &m2, sizeof(m2));
	mr.imr_ifindex = idx;
	dt_ct(t)->setsockopt(u, SOL_IP, IP_MULTICAST_IF, &mr, sizeof(mr));
	dt_note(t, "mcif v0 on lo-bound: errno %d", errno);
	dt_sendto(t, u, hello, 5, 0, &g, sizeof(g));
	i = pktinfo_ifindex(t, s);
	dt_note(t, "mc bound lo: v0 %d lo %d", i == idx, i == 1);
}

static void case_bindtodevice_eperm(struct dt *t)
{
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int v = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_add_link(t);
	cap_raw(false);
	bind_dev(t, v, "");
	bind_dev(t, u, "lo");
	bind_dev(t, u, "lo");
	bind_dev(t, u, "v0");
	bind_dev(t, u, "");
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_BINDTOIFINDEX, 0);
	bind_dev(t, u, "nosuch");
	cap_raw(true);
	bind_dev(t, u, "");
}

static void send_pi(struct dt *t, int fd, struct sockaddr_in *to, int ifindex)
{
	struct in_pktinfo pi = { .ipi_ifindex = ifindex };
	char ctl[CMSG_SPACE(sizeof(pi))] __attribute__((aligned(8)));
	struct iovec iov = { (void *)hello, 5 };
	struct msghdr m = { .msg_name = to, .msg_namelen = sizeof(*to),
			    .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	memset(ctl, 0, sizeof(ctl));
	c->cmsg_level = SOL_IP; c->cmsg_type = IP_PKTINFO;
	c->cmsg_len = CMSG_LEN(sizeof(pi));
	memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	dt_sendmsg(t, fd, &m, 0);
}

static void case_pktinfo_and_broadcast_by_device(struct dt *t)
{
	struct sockaddr_in lo = dt_sin("127.0.0.1", P1);
	struct sockaddr_in bc = dt_sin("10.9.0.255", P1);
	int idx = dt_add_link(t);
	int s = udp_on(t, "0.0.0.0", P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	bind_dev(t, u, "v0");
	send_pi(t, u, &lo, 1);
	udp_got(t, s);
	bind_dev(t, u, "lo");
	send_pi(t, u, &lo, idx);
	udp_got(t, s);
	/* v0's subnet broadcast out of lo / v1: no broadcast route there */
	dt_sendto(t, u, hello, 5, 0, &bc, sizeof(bc));
	udp_got(t, s);
	bind_dev(t, u, "v1");
	dt_sendto(t, u, hello, 5, 0, &bc, sizeof(bc));
	bind_dev(t, u, "v0");
	dt_sendto(t, u, hello, 5, 0, &bc, sizeof(bc));
}

static void case_tcp_established_wrong_device(struct dt *t)
{
	int l, c, a;
	char buf[16];
	struct pollfd p;

	dt_add_link(t);
	dt_tcp_pair(t, 5321, &l, &c, &a);
	bind_dev(t, a, "v0");
	dt_send(t, c, hello, 5, 0);
	p.fd = c; p.events = POLLIN; p.revents = 0;
	dt_ct(t)->poll(&p, 1, 200);
	dt_recv(t, c, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, a, buf, sizeof(buf), MSG_DONTWAIT);
	/* the other way: a bound to lo again, c bound to v0 sends */
	dt_tcp_pair(t, 5322, &l, &c, &a);
	bind_dev(t, a, "lo");
	dt_send(t, c, hello, 5, 0);
	p.fd = a; p.events = POLLIN; p.revents = 0;
	dt_ct(t)->poll(&p, 1, 200);
	dt_recv(t, a, buf, sizeof(buf), MSG_DONTWAIT);
}

static const struct dt_case cases[] = {
	DT_CASE(case_tcp_established_wrong_device),
	DT_CASE(case_pktinfo_and_broadcast_by_device),
	DT_CASE(case_bindtodevice_eperm),
	DT_CASE(case_bindtodevice_option),
	DT_CASE(case_bindtodevice_udp_in),
	DT_CASE(case_pktinfo_local_iif),
	DT_CASE(case_bindtodevice_tcp_in),
	DT_CASE(case_bindtodevice_out),
	DT_CASE(case_unicast_if),
	DT_CASE(case_sender_device_iif),
	DT_CASE(case_tcp_bound_lo_to_v0),
	DT_CASE(case_udp_bound_icmp_error),
	DT_CASE(case_loopback_source_out_of_device),
	DT_CASE(case_timewait_bound_device),
	DT_CASE(case_ping_bound_device),
	DT_CASE(case_bindtodevice_getlen),
	DT_CASE(case_multicast_bound_device),
};

int main(void)
{
	return dt_main("diff_bindtodev", cases, sizeof(cases) / sizeof(cases[0]));
}
