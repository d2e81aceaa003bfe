/*
 * test_diff_sockopt.c - differential tests of the options of a UDP socket:
 * getsockopt/setsockopt at SOL_SOCKET and IPPROTO_IP (every option ustack
 * implements, bad levels, lengths and buffers), the control messages
 * they ask for (SO_TIMESTAMP, SO_TIMESTAMPNS and their _NEW kinds,
 * SO_RXQ_OVFL), fcntl() and ioctl().
 *
 * Every case is written once against the socket call table
 * (tests/lib/difftest.h) and run twice, on the kernel's sockets in a
 * private network namespace and on ustack; a case fails when the two
 * transcripts (return values, errno, data, addresses, lengths, flags)
 * differ. Linux is the oracle. Fixed ports are below 32768; an ephemeral
 * port prints as "eph" on both sides. DT_SHOW=1 prints agreeing
 * transcripts too, DT_CASE=pattern runs only the matching cases.
 *
 * Kept out of the comparison, and why: values that depend on how the
 * kernel was built or the host is set up rather than on the API
 * (timeouts that are not whole ticks, since Linux rounds them to
 * 1/CONFIG_HZ; a negative SO_LINGER time, reported as
 * MAX_SCHEDULE_TIMEOUT / HZ; buffer sizes past a host's non-default
 * rmem_max/wmem_max; exactly how many datagrams a full queue drops, as
 * each stack accounts buffer memory its own way); options other files
 * cover (SO_BINDTODEVICE test_diff_bindtodev's, SO_PEEK_OFF
 * test_diff_peekoff's, SO_TIMESTAMPING test_diff_tstamp's, UDP_SEGMENT
 * test_diff_udp's; group membership is case_sockopt_membership's); SIGIO
 * (ustack sends none; O_ASYNC is compared).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/net_tstamp.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/difftest.h"

#define P1 5001

static const char hello[] = "hello";

/* ---- socket options ------------------------------------------------------ */

static void case_sockopt_readonly(struct dt *t)
{
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	static const int opts[] = {
		SO_TYPE, SO_PROTOCOL, SO_DOMAIN, SO_ERROR, SO_ACCEPTCONN,
	};

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		dt_getsockopt_int(t, fd, SOL_SOCKET, opts[i]);
		dt_setsockopt_int(t, fd, SOL_SOCKET, opts[i], 1);
	}
}

static void case_sockopt_bools(struct dt *t)
{
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	static const int opts[] = {
		SO_REUSEADDR, SO_REUSEPORT, SO_BROADCAST, SO_KEEPALIVE,
		SO_OOBINLINE, SO_DONTROUTE,
	};

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		dt_getsockopt_int(t, fd, SOL_SOCKET, opts[i]);
		dt_setsockopt_int(t, fd, SOL_SOCKET, opts[i], 1);
		dt_getsockopt_int(t, fd, SOL_SOCKET, opts[i]);
		dt_setsockopt_int(t, fd, SOL_SOCKET, opts[i], 42);
		dt_getsockopt_int(t, fd, SOL_SOCKET, opts[i]);
		dt_setsockopt_int(t, fd, SOL_SOCKET, opts[i], 0);
		dt_getsockopt_int(t, fd, SOL_SOCKET, opts[i]);
	}
}

static long read_sysctl(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/*
 * Values are doubled, and capped at net.core.rmem_max / wmem_max first.
 * ustack has Linux's default maxima (4 MiB); the kernel's are the host's
 * (these two sysctls are not per namespace), so the values past them are
 * compared only while the host keeps the defaults.
 */
static void case_sockopt_bufs(struct dt *t)
{
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	static const int vals[] = {
		0, 1, 1000, 2304, 4096, 65536, 4194304, 1 << 30, -1, INT_MIN,
	};
	size_t n = sizeof(vals) / sizeof(vals[0]);

	if (read_sysctl("/proc/sys/net/core/rmem_max") != 4194304 ||
	    read_sysctl("/proc/sys/net/core/wmem_max") != 4194304) {
		dt_note(t, "host rmem_max/wmem_max not the defaults");
		n = 6;
	}
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_RCVBUF);
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_SNDBUF);
	for (size_t i = 0; i < n; i++) {
		dt_setsockopt_int(t, fd, SOL_SOCKET, SO_RCVBUF, vals[i]);
		dt_getsockopt_int(t, fd, SOL_SOCKET, SO_RCVBUF);
		dt_setsockopt_int(t, fd, SOL_SOCKET, SO_SNDBUF, vals[i]);
		dt_getsockopt_int(t, fd, SOL_SOCKET, SO_SNDBUF);
	}
}

static void case_sockopt_timeo(struct dt *t)
{
	/*
	 * Linux keeps timeouts in jiffies and reports them back rounded up
	 * to a tick (1/CONFIG_HZ s), so only multiples of 10 ms, a tick at
	 * any HZ, are compared: ustack keeps microseconds.
	 */
	static const struct timeval tvs[] = {
		{ 1, 500000 }, { 0, 0 }, { 0, 20000 }, { -1, 0 },
		{ 0, 1000000 }, { 0, -1 }, { 100000, 0 }, { -5, -1 },
	};
	/* The _NEW names take 64-bit fields on every ABI (on x86-64 the
	 * same layout as a timeval). */
	static const int opts[] = {
		SO_RCVTIMEO_OLD, SO_SNDTIMEO_OLD,
		SO_RCVTIMEO_NEW, SO_SNDTIMEO_NEW,
	};
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	struct timeval tv[2];
	socklen_t len;

	for (size_t o = 0; o < sizeof(opts) / sizeof(opts[0]); o++) {
		int opt = opts[o];

		len = sizeof(tv[0]);
		dt_getsockopt(t, fd, SOL_SOCKET, opt, tv, &len);
		for (size_t i = 0; i < sizeof(tvs) / sizeof(tvs[0]); i++) {
			dt_setsockopt(t, fd, SOL_SOCKET, opt, &tvs[i],
				      sizeof(tvs[i]));
			len = sizeof(tv[0]);
			dt_getsockopt(t, fd, SOL_SOCKET, opt, tv, &len);
		}
		dt_setsockopt(t, fd, SOL_SOCKET, opt, &tvs[0],
			      sizeof(tvs[0]) - 1);
		dt_setsockopt(t, fd, SOL_SOCKET, opt, &tvs[0], 8);
		dt_setsockopt(t, fd, SOL_SOCKET, opt, NULL, sizeof(tvs[0]));
		len = 8;
		dt_getsockopt(t, fd, SOL_SOCKET, opt, tv, &len);
		len = sizeof(tv);
		dt_getsockopt(t, fd, SOL_SOCKET, opt, tv, &len);
	}
}

static void case_sockopt_rcvtimeo_expiry(struct dt *t)
{
	struct timeval tv = { 0, 20000 };
	char buf[8];
	int fd = dt_udp_bound(t, P1);

	dt_setsockopt(t, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	dt_recv(t, fd, buf, sizeof(buf), 0);
	dt_recvfrom(t, fd, buf, sizeof(buf), 0, NULL, NULL);
	dt_read(t, fd, buf, sizeof(buf));
}

/* A timeout past any clock's range is for ever, as Linux reads it back
 * ({0, 0}), not a product that wrapped round to a short wait. (Between
 * 2^64 us and Linux's own limit, which depends on HZ, Linux keeps the
 * time and ustack takes for ever: not compared.) */
static void case_sockopt_timeo_huge(struct dt *t)
{
	struct timeval tv = { 1000000000000000000L, 999999 }, g;
	socklen_t len = sizeof(g);
	char buf[8];
	int fd = dt_udp_bound(t, P1);

	dt_setsockopt(t, fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	dt_getsockopt(t, fd, SOL_SOCKET, SO_RCVTIMEO, &g, &len);
	dt_setsockopt(t, fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	len = sizeof(g);
	dt_getsockopt(t, fd, SOL_SOCKET, SO_SNDTIMEO, &g, &len);
	dt_recv(t, fd, buf, sizeof(buf), MSG_DONTWAIT);
}

static void case_sockopt_linger(struct dt *t)
{
	struct linger l = { 1, 5 }, g;
	socklen_t len = sizeof(g);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_getsockopt(t, fd, SOL_SOCKET, SO_LINGER, &g, &len);
	dt_setsockopt(t, fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	len = sizeof(g);
	dt_getsockopt(t, fd, SOL_SOCKET, SO_LINGER, &g, &len);
	/* A negative l_linger is "forever"; Linux reports that back as
	 * MAX_SCHEDULE_TIMEOUT / HZ cut to an int, which depends on HZ:
	 * not compared. Turning lingering off keeps the time. */
	l.l_linger = 7;
	dt_setsockopt(t, fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	len = sizeof(g);
	dt_getsockopt(t, fd, SOL_SOCKET, SO_LINGER, &g, &len);
	l.l_onoff = 0;
	l.l_linger = 9;
	dt_setsockopt(t, fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	len = sizeof(g);
	dt_getsockopt(t, fd, SOL_SOCKET, SO_LINGER, &g, &len);
	dt_setsockopt(t, fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l) - 1);
	dt_setsockopt(t, fd, SOL_SOCKET, SO_LINGER, &l, sizeof(int));
	len = 4;
	dt_getsockopt(t, fd, SOL_SOCKET, SO_LINGER, &g, &len);
}

static void case_sockopt_lowat(struct dt *t)
{
	static const int vals[] = { 0, 1, 100, -5, INT_MAX };
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_RCVLOWAT);
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_SNDLOWAT);
	DT_SETGET(t, fd, SOL_SOCKET, SO_RCVLOWAT, vals);
	dt_setsockopt_int(t, fd, SOL_SOCKET, SO_SNDLOWAT, 10);
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_SNDLOWAT);
}

static void case_sockopt_more_bools(struct dt *t)
{
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	static const int opts[] = { SO_RXQ_OVFL, SO_TIMESTAMP_OLD,
				    SO_TIMESTAMPNS_OLD, SO_TIMESTAMP_NEW,
				    SO_TIMESTAMPNS_NEW };

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		dt_getsockopt_int(t, fd, SOL_SOCKET, opts[i]);
		dt_setsockopt_int(t, fd, SOL_SOCKET, opts[i], 5);
		dt_getsockopt_int(t, fd, SOL_SOCKET, opts[i]);
		dt_setsockopt_int(t, fd, SOL_SOCKET, opts[i], 0);
		dt_getsockopt_int(t, fd, SOL_SOCKET, opts[i]);
	}
}

static void case_cmsg_timestamp(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	char buf[16], ctl[64] __attribute__((aligned(8)));
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_setsockopt_int(t, s, SOL_SOCKET, SO_TIMESTAMP, 1);
	for (int i = 0; i < 4; i++)
		dt_sendto(t, fd, hello, 5, 0, &a, sizeof(a));
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	dt_recvmsg(t, s, &m, 0);
	dt_note_cmsgs(t, &m);
	/* No room for the message: cut, MSG_CTRUNC. */
	m.msg_controllen = 20;
	dt_recvmsg(t, s, &m, 0);
	m.msg_control = NULL;
	m.msg_controllen = 0;
	dt_recvmsg(t, s, &m, 0);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_TIMESTAMP, 0);
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	dt_recvmsg(t, s, &m, 0);
}

/*
 * SO_TIMESTAMPNS and the _NEW names (Linux's __sock_set_timestamps): the
 * last one set decides the message (timeval or timespec, old or new
 * type); each reads back as on only while it is the one in force;
 * turning any of them off stops the messages and keeps the _NEW choice.
 */
/* fd sends one datagram to s (bound to P1), which reads it with room
 * for control messages; they are noted. */
static void datagram_noted(struct dt *t, int fd, int s)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	char buf[16], ctl[64] __attribute__((aligned(8)));
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl, .msg_controllen = sizeof(ctl) };

	dt_sendto(t, fd, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg(t, s, &m, 0);
	dt_note_cmsgs(t, &m);
}

static void case_cmsg_timestamp_kinds(struct dt *t)
{
	static const int names[] = { SO_TIMESTAMP_OLD, SO_TIMESTAMPNS_OLD,
				     SO_TIMESTAMP_NEW, SO_TIMESTAMPNS_NEW };
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	for (size_t i = 0; i < 5; i++) {
		/* The fifth: off by another name than the one set (no
		 * message). */
		dt_setsockopt_int(t, s, SOL_SOCKET,
				  i < 4 ? names[i] : SO_TIMESTAMP_OLD, i < 4);
		for (size_t k = 0; k < 4; k++)
			dt_getsockopt_int(t, s, SOL_SOCKET, names[k]);
		datagram_noted(t, fd, s);
	}
	/* On again by a name of the old kind after a _NEW one. */
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_TIMESTAMPNS_OLD, 1);
	datagram_noted(t, fd, s);
}

static void case_cmsg_rxq_ovfl(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	char buf[1000], ctl[64] __attribute__((aligned(8)));
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int got = 0;

	memset(buf, 'x', sizeof(buf));
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_RXQ_OVFL, 1);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_RCVBUF, 0);
	/* Overfill the smallest queue, drain it, then one more datagram:
	 * it carries the number dropped so far. The counts themselves are
	 * not compared. */
	for (int i = 0; i < 20; i++)
		dt_sendto(t, fd, buf, sizeof(buf), 0, &a, sizeof(a));
	while (dt_ct(t)->recv(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		got++;
	dt_note(t, "some but not all queued: %d", got > 0 && got < 20);
	dt_sendto(t, fd, buf, sizeof(buf), 0, &a, sizeof(a));
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	dt_recvmsg(t, s, &m, 0);
	dt_note_cmsgs(t, &m);
}

/*
 * SO_MEMINFO: nine counters (Linux's sk_get_meminfo), as many as the
 * caller has room for. A fresh socket's are compared whole (its buffer
 * sizes are SO_RCVBUF's and SO_SNDBUF's); with a datagram queued, only
 * that its receive memory is charged and freed again, since each stack
 * reckons a buffer's truesize its own way (and Linux's forward allocation,
 * the fifth, has no counterpart: ustack reserves no memory ahead).
 */
static void case_sockopt_meminfo(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	uint32_t m[12];
	socklen_t len = sizeof(m);
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int tcp = dt_socket(t, AF_INET, SOCK_STREAM, 0);

	dt_getsockopt(t, s, SOL_SOCKET, SO_MEMINFO, m, &len);
	len = 8;
	dt_getsockopt(t, s, SOL_SOCKET, SO_MEMINFO, m, &len);
	len = 0;
	dt_getsockopt(t, s, SOL_SOCKET, SO_MEMINFO, m, &len);
	len = sizeof(m);
	dt_getsockopt(t, tcp, SOL_SOCKET, SO_MEMINFO, m, &len);
	dt_sendto(t, fd, hello, sizeof(hello), 0, &a, sizeof(a));
	len = sizeof(m);
	memset(m, 0, sizeof(m));
	dt_ct(t)->getsockopt(s, SOL_SOCKET, SO_MEMINFO, m, &len);
	dt_note(t, "queued: rmem %s, rcvbuf %s", m[0] ? "charged" : "0",
		m[1] == (uint32_t)dt_getsockopt_int(t, s, SOL_SOCKET,
						     SO_RCVBUF) ?
		"as SO_RCVBUF" : "differs");
	dt_recv(t, s, m, sizeof(m), 0);
	len = sizeof(m);
	dt_ct(t)->getsockopt(s, SOL_SOCKET, SO_MEMINFO, m, &len);
	dt_note(t, "read: rmem %u", m[0]);
}

/*
 * IP_MULTICAST_TTL, _LOOP, _ALL and _IF: defaults (TTL 1, loop and all
 * on, no interface), the values taken and refused, int and one-byte
 * forms; IP_MULTICAST_IF as an in_addr, an ip_mreq and an ip_mreqn, by
 * address and by index, and reading it back (the address only). A TCP
 * socket refuses the TTL and the interface.
 */
static void case_sockopt_multicast(struct dt *t)
{
	static const int opts[] = {
		IP_MULTICAST_TTL, IP_MULTICAST_LOOP, IP_MULTICAST_ALL,
	};
	static const int vals[] = { 0, 1, 2, 64, 255, 256, -1, -2 };
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int tcp = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	struct in_addr a = { .s_addr = htonl(INADDR_LOOPBACK) };
	struct ip_mreq mr = { .imr_interface = a };
	struct ip_mreqn mn = { .imr_ifindex = 1 };
	struct sockaddr_in grp = dt_sin("224.1.2.3", P1);
	unsigned char b = 7;
	uint32_t got[4];
	socklen_t len;

	for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		dt_getsockopt_int(t, fd, IPPROTO_IP, opts[i]);
		for (size_t k = 0; k < sizeof(vals) / sizeof(vals[0]); k++) {
			dt_setsockopt_int(t, fd, IPPROTO_IP, opts[i], vals[k]);
			dt_getsockopt_int(t, fd, IPPROTO_IP, opts[i]);
		}
		dt_setsockopt(t, fd, IPPROTO_IP, opts[i], &b, 1);
		dt_getsockopt_int(t, fd, IPPROTO_IP, opts[i]);
		len = 1;
		dt_getsockopt(t, fd, IPPROTO_IP, opts[i], got, &len);
		dt_setsockopt(t, fd, IPPROTO_IP, opts[i], &b, 0);
		dt_getsockopt_int(t, tcp, IPPROTO_IP, opts[i]);
		dt_setsockopt_int(t, tcp, IPPROTO_IP, opts[i], 2);
		dt_getsockopt_int(t, tcp, IPPROTO_IP, opts[i]);
	}
	len = sizeof(got);
	dt_getsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, got, &len);
	dt_setsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof(a));
	len = sizeof(got);
	dt_getsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, got, &len);
	len = 2;
	dt_getsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, got, &len);
	dt_setsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, &a, 3);
	a.s_addr = inet_addr("10.9.9.9");
	dt_setsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof(a));
	a.s_addr = 0;
	dt_setsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, &a, sizeof(a));
	len = sizeof(got);
	dt_getsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, got, &len);
	dt_setsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr));
	len = sizeof(got);
	dt_getsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, got, &len);
	dt_setsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, &mn, sizeof(mn));
	len = sizeof(got);
	dt_getsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, got, &len);
	mn.imr_ifindex = 999;
	dt_setsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, &mn, sizeof(mn));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, NULL, sizeof(mn));
	dt_setsockopt(t, tcp, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr));
	len = sizeof(got);
	dt_getsockopt(t, tcp, IPPROTO_IP, IP_MULTICAST_IF, got, &len);
	/* An index with an address that is not ours is taken, but the
	 * address cannot be a group datagram's source. */
	mn.imr_ifindex = 1;
	mn.imr_address.s_addr = inet_addr("10.9.9.9");
	dt_setsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, &mn, sizeof(mn));
	len = sizeof(got);
	dt_getsockopt(t, fd, IPPROTO_IP, IP_MULTICAST_IF, got, &len);
	dt_sendto(t, fd, "x", 1, 0, &grp, sizeof(grp));
	dt_connect(t, fd, &grp, sizeof(grp));
}

/* IP_ADD_MEMBERSHIP and kin: the request's forms (ip_mreq, ip_mreqn,
 * group_req) and Linux's errors (do_ip_setsockopt, ip_mc_join_group,
 * ip_mc_leave_group), on lo. */
static void case_sockopt_membership(struct dt *t)
{
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int fd2 = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int tcp = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	uint32_t group = inet_addr("239.1.2.3");
	struct ip_mreq mr = { .imr_multiaddr.s_addr = group,
			      .imr_interface.s_addr = htonl(INADDR_LOOPBACK) };
	struct ip_mreqn mn = { .imr_multiaddr.s_addr = group,
			       .imr_ifindex = 1 };
	struct group_req gr = { .gr_interface = 1 };
	struct sockaddr_in gs = { .sin_family = AF_INET,
				  .sin_addr.s_addr = group };
	uint32_t got[4];
	socklen_t len;

	memcpy(&gr.gr_group, &gs, sizeof(gs));
	dt_setsockopt(t, tcp, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, 4);
	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mn, sizeof(mn));
	dt_setsockopt(t, fd2, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mn, sizeof(mn));
	len = sizeof(got);
	dt_getsockopt(t, fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, got, &len);
	mn.imr_ifindex = 999;
	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mn, sizeof(mn));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mn, sizeof(mn));
	mr.imr_interface.s_addr = inet_addr("10.9.9.9");
	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
	mr.imr_interface.s_addr = htonl(INADDR_LOOPBACK);
	mr.imr_multiaddr.s_addr = htonl(INADDR_LOOPBACK);
	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr));
	mr.imr_multiaddr.s_addr = group;
	dt_setsockopt(t, fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr));
	dt_setsockopt(t, fd2, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr));
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_JOIN_GROUP, &gr, sizeof(gr) - 1);
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_JOIN_GROUP, &gr, sizeof(gr));
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_JOIN_GROUP, &gr, sizeof(gr));
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_LEAVE_GROUP, &gr, sizeof(gr));
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_LEAVE_GROUP, &gr, sizeof(gr));
	gs.sin_family = AF_INET6;
	memcpy(&gr.gr_group, &gs, sizeof(gs));
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_JOIN_GROUP, &gr, sizeof(gr));
	/* net.ipv4.igmp_max_memberships, 20 by default. */
	for (uint32_t i = 0; i < 21; i++) {
		mr.imr_multiaddr.s_addr = htonl(0xef050500u + i);
		dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
			      sizeof(mr));
	}
}

/* IP_MSFILTER read back (it takes the group and the number of sources
 * the buffer holds in, so the call goes straight to the side's table):
 * the result, the length and the bytes noted. */
static void get_msfilter(struct dt *t, int fd, uint32_t group, uint32_t room,
			 socklen_t len)
{
	union {
		struct ip_msfilter f;
		char b[sizeof(struct ip_msfilter) + 3 * sizeof(struct in_addr)];
	} u;
	char hex[2 * sizeof(u) + 1] = "";
	int rc;

	memset(&u, 0xa5, sizeof(u));
	u.f.imsf_multiaddr.s_addr = group;
	u.f.imsf_interface.s_addr = htonl(INADDR_LOOPBACK);
	u.f.imsf_numsrc = room;
	errno = 0;
	rc = dt_ct(t)->getsockopt(fd, IPPROTO_IP, IP_MSFILTER, &u, &len);
	for (size_t i = 0; rc == 0 && i < len && i < sizeof(u); i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned char)u.b[i]);
	dt_note(t, "getsockopt(IP_MSFILTER, room %u) = %d %s len=%u %s", room,
		rc, rc < 0 ? strerror(errno) : "", (unsigned)len, hex);
}

static void set_msfilter(struct dt *t, int fd, uint32_t group, uint32_t mode,
			 uint32_t n, socklen_t len)
{
	union {
		struct ip_msfilter f;
		char b[sizeof(struct ip_msfilter) + 15 * sizeof(struct in_addr)];
	} u;

	memset(&u, 0, sizeof(u));
	u.f.imsf_multiaddr.s_addr = group;
	u.f.imsf_interface.s_addr = htonl(INADDR_LOOPBACK);
	u.f.imsf_fmode = mode;
	u.f.imsf_numsrc = n;
	for (uint32_t i = 0; i < n && i < 16; i++) {
		uint32_t a = htonl(0x0a010101u + i);

		memcpy(u.b + offsetof(struct ip_msfilter, imsf_slist) +
		       i * sizeof(a), &a, sizeof(a));
	}
	dt_setsockopt(t, fd, IPPROTO_IP, IP_MSFILTER, &u, len);
}

/*
 * Source filters (RFC 3678 §4.1, Linux's ip_mc_source and ip_mc_msfilter):
 * IP_ADD_SOURCE_MEMBERSHIP joins a group for chosen sources, the block
 * options exclude sources from an any-source join, IP_MSFILTER sets and
 * reads the whole filter; their errors and limits
 * (net.ipv4.igmp_max_msf, 10). Left out as they differ by design: a TCP
 * socket (Linux lets it hold source memberships, ustack says EPROTO), and
 * an IP_MSFILTER read whose imsf_numsrc is larger than its optlen holds
 * (Linux writes imsf_numsrc sources past optlen; ustack keeps to optlen).
 */
static void case_sockopt_source_membership(struct dt *t)
{
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	uint32_t g1 = inet_addr("239.1.2.3"), g2 = inet_addr("239.1.2.4");
	struct ip_mreq_source ms = { .imr_multiaddr.s_addr = g1,
				     .imr_interface.s_addr = htonl(INADDR_LOOPBACK),
				     .imr_sourceaddr.s_addr = inet_addr("10.1.1.1") };
	struct ip_mreq mr = { .imr_multiaddr.s_addr = g2,
			      .imr_interface.s_addr = htonl(INADDR_LOOPBACK) };
	const uint32_t s1 = inet_addr("10.1.1.1"), s2 = inet_addr("10.1.1.2");

	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms,
		      sizeof(ms) - 1);
	/* Include mode: joined by the first source. */
	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms,
		      sizeof(ms));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms,
		      sizeof(ms));
	ms.imr_sourceaddr.s_addr = s2;
	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms,
		      sizeof(ms));
	get_msfilter(t, fd, g1, 4, IP_MSFILTER_SIZE(4));
	get_msfilter(t, fd, g1, 1, IP_MSFILTER_SIZE(1));
	get_msfilter(t, fd, g1, 0, IP_MSFILTER_SIZE(0));
	get_msfilter(t, fd, g1, 0, IP_MSFILTER_SIZE(0) - 1);
	dt_setsockopt(t, fd, IPPROTO_IP, IP_BLOCK_SOURCE, &ms, sizeof(ms));
	mr.imr_multiaddr.s_addr = g1;
	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
	ms.imr_sourceaddr.s_addr = s1;
	dt_setsockopt(t, fd, IPPROTO_IP, IP_DROP_SOURCE_MEMBERSHIP, &ms,
		      sizeof(ms));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_DROP_SOURCE_MEMBERSHIP, &ms,
		      sizeof(ms));
	get_msfilter(t, fd, g1, 4, IP_MSFILTER_SIZE(4));
	/* The last source dropped: the group is left. */
	ms.imr_sourceaddr.s_addr = s2;
	dt_setsockopt(t, fd, IPPROTO_IP, IP_DROP_SOURCE_MEMBERSHIP, &ms,
		      sizeof(ms));
	get_msfilter(t, fd, g1, 4, IP_MSFILTER_SIZE(4));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_DROP_MEMBERSHIP, &mr, sizeof(mr));
	/* Exclude mode: an any-source join, then blocks. */
	ms.imr_multiaddr.s_addr = g2;
	dt_setsockopt(t, fd, IPPROTO_IP, IP_BLOCK_SOURCE, &ms, sizeof(ms));
	mr.imr_multiaddr.s_addr = g2;
	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof(mr));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_BLOCK_SOURCE, &ms, sizeof(ms));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_BLOCK_SOURCE, &ms, sizeof(ms));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms,
		      sizeof(ms));
	get_msfilter(t, fd, g2, 4, IP_MSFILTER_SIZE(4));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_UNBLOCK_SOURCE, &ms, sizeof(ms));
	dt_setsockopt(t, fd, IPPROTO_IP, IP_UNBLOCK_SOURCE, &ms, sizeof(ms));
	ms.imr_sourceaddr.s_addr = s1;
	dt_setsockopt(t, fd, IPPROTO_IP, IP_UNBLOCK_SOURCE, &ms, sizeof(ms));
	get_msfilter(t, fd, g2, 4, IP_MSFILTER_SIZE(4));
	/* The whole filter at once; a group not joined; the limit. */
	set_msfilter(t, fd, g2, MCAST_INCLUDE, 3, IP_MSFILTER_SIZE(3));
	get_msfilter(t, fd, g2, 4, IP_MSFILTER_SIZE(4));
	set_msfilter(t, fd, g2, MCAST_EXCLUDE, 0, IP_MSFILTER_SIZE(0));
	get_msfilter(t, fd, g2, 4, IP_MSFILTER_SIZE(4));
	set_msfilter(t, fd, g2, MCAST_INCLUDE, 0, IP_MSFILTER_SIZE(0));
	get_msfilter(t, fd, g2, 4, IP_MSFILTER_SIZE(4));
	set_msfilter(t, fd, g2, 7, 1, IP_MSFILTER_SIZE(1));
	set_msfilter(t, fd, g2, MCAST_INCLUDE, 3, IP_MSFILTER_SIZE(2));
	set_msfilter(t, fd, g2, MCAST_INCLUDE, 11, IP_MSFILTER_SIZE(11));
	set_msfilter(t, fd, g1, MCAST_INCLUDE, 1, IP_MSFILTER_SIZE(1));
	get_msfilter(t, fd, inet_addr("239.9.9.9"), 1, IP_MSFILTER_SIZE(1));
	ms.imr_multiaddr.s_addr = inet_addr("239.1.2.5");
	for (uint32_t i = 0; i < 11; i++) {
		ms.imr_sourceaddr.s_addr = htonl(0x0a020000u + i);
		dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms,
			      sizeof(ms));
	}
	ms.imr_multiaddr.s_addr = htonl(INADDR_LOOPBACK);
	dt_setsockopt(t, fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP, &ms,
		      sizeof(ms));
	dt_getsockopt_int(t, fd, IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP);
}

/* A group_source_req on lo (index 1) for group and source. */
static struct group_source_req gsr_of(uint32_t group, uint32_t source,
				      int family)
{
	struct group_source_req r = { .gsr_interface = 1 };
	struct sockaddr_in g = { .sin_family = AF_INET,
				 .sin_addr.s_addr = group };
	struct sockaddr_in src = { .sin_family = (sa_family_t)family,
				   .sin_addr.s_addr = source };

	memcpy(&r.gsr_group, &g, sizeof(g));
	memcpy(&r.gsr_source, &src, sizeof(src));
	return r;
}

/* MCAST_MSFILTER set with n sources 10.1.1.1.. (family of each given),
 * and read back on ifindex with room for 4 (straight to the side's
 * table, as get_msfilter). */
static void set_gsfilter(struct dt *t, int fd, uint32_t group, uint32_t mode,
			 uint32_t n, int family)
{
	static char b[GROUP_FILTER_SIZE(12)];
	struct group_filter *gf = (struct group_filter *)b;
	struct sockaddr_in g = { .sin_family = AF_INET,
				 .sin_addr.s_addr = group };

	memset(b, 0, sizeof(b));
	gf->gf_interface = 1;
	memcpy(&gf->gf_group, &g, sizeof(g));
	gf->gf_fmode = mode;
	gf->gf_numsrc = n;
	for (uint32_t i = 0; i < n && i < 12; i++) {
		struct sockaddr_in src = { .sin_family = (sa_family_t)family,
					   .sin_addr.s_addr =
						   htonl(0x0a010101u + i) };

		memcpy(b + offsetof(struct group_filter, gf_slist) +
		       i * sizeof(struct sockaddr_storage), &src, sizeof(src));
	}
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_MSFILTER, b,
		      (socklen_t)GROUP_FILTER_SIZE(n < 12 ? n : 12));
}

static void get_gsfilter(struct dt *t, int fd, uint32_t group,
			 uint32_t ifindex, uint32_t room, socklen_t len)
{
	static char b[GROUP_FILTER_SIZE(4)];
	struct group_filter *gf = (struct group_filter *)b;
	struct sockaddr_in g = { .sin_family = AF_INET,
				 .sin_addr.s_addr = group };
	int rc;

	memset(b, 0xa5, sizeof(b));
	gf->gf_interface = ifindex;
	memcpy(&gf->gf_group, &g, sizeof(g));
	gf->gf_numsrc = room;
	errno = 0;
	rc = dt_ct(t)->getsockopt(fd, IPPROTO_IP, MCAST_MSFILTER, b, &len);
	dt_note(t, "getsockopt(MCAST_MSFILTER) = %d %s len=%u", rc,
		rc < 0 ? strerror(errno) : "", (unsigned)len);
	if (rc < 0)
		return;
	dt_note(t, "  fmode %u numsrc %u", gf->gf_fmode, gf->gf_numsrc);
	for (size_t i = 0; i < 4 && GROUP_FILTER_SIZE(i + 1) <= len; i++) {
		struct sockaddr_in src;

		memcpy(&src, b + offsetof(struct group_filter, gf_slist) +
		       i * sizeof(struct sockaddr_storage), sizeof(src));
		dt_note(t, "  source family %d %08x", src.sin_family,
			ntohl(src.sin_addr.s_addr));
	}
}

/* The MCAST_ source options (RFC 3678 §5.1.2, §5.2.1), Linux's
 * do_mcast_group_source and ip_set_mcast_msfilter: a group_source_req of
 * exactly its size with AF_INET addresses, a group_filter. (Reads whose
 * gf_numsrc is past what optlen holds are left out, as for IP_MSFILTER.) */
static void case_sockopt_source_group(struct dt *t)
{
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	uint32_t g = inet_addr("239.1.2.6"), s1 = inet_addr("10.1.1.1");
	struct group_source_req r = gsr_of(g, s1, AF_INET);
	struct group_source_req bad = gsr_of(g, s1, AF_INET6);

	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP, &r,
		      sizeof(r) - 1);
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP, &bad,
		      sizeof(bad));
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP, &r,
		      sizeof(r));
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP, &r,
		      sizeof(r));
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_BLOCK_SOURCE, &r, sizeof(r));
	get_gsfilter(t, fd, g, 1, 4, GROUP_FILTER_SIZE(4));
	get_gsfilter(t, fd, g, 0, 4, GROUP_FILTER_SIZE(4));
	get_gsfilter(t, fd, g, 1, 0, GROUP_FILTER_SIZE(0));
	get_gsfilter(t, fd, g, 1, 0, GROUP_FILTER_SIZE(0) - 1);
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_LEAVE_SOURCE_GROUP, &r,
		      sizeof(r));
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_LEAVE_SOURCE_GROUP, &r,
		      sizeof(r));
	get_gsfilter(t, fd, g, 1, 4, GROUP_FILTER_SIZE(4));
	/* The whole filter: needs a join first; then modes and sources. */
	set_gsfilter(t, fd, g, MCAST_EXCLUDE, 2, AF_INET);
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_JOIN_GROUP,
		      &(struct group_req){ .gr_interface = 1,
					   .gr_group = r.gsr_group },
		      sizeof(struct group_req));
	set_gsfilter(t, fd, g, MCAST_EXCLUDE, 2, AF_INET);
	get_gsfilter(t, fd, g, 1, 4, GROUP_FILTER_SIZE(4));
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_UNBLOCK_SOURCE, &r, sizeof(r));
	dt_setsockopt(t, fd, IPPROTO_IP, MCAST_UNBLOCK_SOURCE, &r, sizeof(r));
	get_gsfilter(t, fd, g, 1, 4, GROUP_FILTER_SIZE(4));
	set_gsfilter(t, fd, g, MCAST_INCLUDE, 3, AF_INET);
	get_gsfilter(t, fd, g, 1, 2, GROUP_FILTER_SIZE(2));
	set_gsfilter(t, fd, g, MCAST_INCLUDE, 2, AF_INET6);
	set_gsfilter(t, fd, g, MCAST_INCLUDE, 11, AF_INET);
	set_gsfilter(t, fd, g, 5, 1, AF_INET);
	set_gsfilter(t, fd, g, MCAST_INCLUDE, 0, AF_INET);
	get_gsfilter(t, fd, g, 1, 4, GROUP_FILTER_SIZE(4));
}

/* SO_PRIORITY and SO_MARK, and the FORCE buffer sizes: root may set any
 * value; without CAP_NET_ADMIN, EPERM (priorities 0..6 stay allowed). */
static void case_sockopt_privileged(struct dt *t)
{
	static const int prios[] = { 0, 6, 7, -1, 100 };
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1)
			dt_note(t, "seteuid(65534) = %d", seteuid(65534));
		for (size_t i = 0; i < sizeof(prios) / sizeof(prios[0]); i++) {
			dt_setsockopt_int(t, fd, SOL_SOCKET, SO_PRIORITY,
					  prios[i]);
			dt_getsockopt_int(t, fd, SOL_SOCKET, SO_PRIORITY);
		}
		dt_setsockopt_int(t, fd, SOL_SOCKET, SO_MARK, 42 + pass);
		dt_getsockopt_int(t, fd, SOL_SOCKET, SO_MARK);
		dt_setsockopt_int(t, fd, SOL_SOCKET, SO_RCVBUFFORCE,
				  5000 + pass);
		dt_getsockopt_int(t, fd, SOL_SOCKET, SO_RCVBUF);
		dt_setsockopt_int(t, fd, SOL_SOCKET, SO_SNDBUFFORCE,
				  6000 + pass);
		dt_getsockopt_int(t, fd, SOL_SOCKET, SO_SNDBUF);
	}
	dt_note(t, "seteuid(0) = %d", seteuid(0));
	dt_setsockopt_int(t, fd, SOL_SOCKET, SO_RCVBUFFORCE, -1);
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_RCVBUF);
	dt_setsockopt_int(t, fd, SOL_SOCKET, SO_SNDBUFFORCE, 1 << 30);
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_SNDBUF);
}

static void case_sockopt_bad(struct dt *t)
{
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int v = 1;
	socklen_t len;
	char small[2], big[64];

	/* Unknown option, unknown level. */
	dt_getsockopt_int(t, fd, SOL_SOCKET, 9999);
	dt_setsockopt_int(t, fd, SOL_SOCKET, 9999, 1);
	dt_getsockopt_int(t, fd, 9999, SO_TYPE);
	dt_setsockopt_int(t, fd, 9999, SO_REUSEADDR, 1);
	dt_getsockopt_int(t, fd, IPPROTO_TCP, 1);
	dt_setsockopt_int(t, fd, IPPROTO_TCP, 1, 1);
	dt_getsockopt_int(t, fd, IPPROTO_UDP, 9999);
	dt_setsockopt_int(t, fd, IPPROTO_UDP, 9999, 1);
	dt_getsockopt_int(t, fd, IPPROTO_IP, 9999);
	dt_setsockopt_int(t, fd, IPPROTO_IP, 9999, 1);
	/* Short and missing option buffers. */
	dt_setsockopt(t, fd, SOL_SOCKET, SO_REUSEADDR, &v, 2);
	dt_setsockopt(t, fd, SOL_SOCKET, SO_REUSEADDR, &v, 0);
	dt_setsockopt(t, fd, SOL_SOCKET, SO_REUSEADDR, NULL, sizeof(v));
	dt_setsockopt(t, fd, SOL_SOCKET, SO_REUSEADDR, &v, (socklen_t)-1);
	dt_setsockopt(t, fd, SOL_SOCKET, SO_RCVBUF, &v, 3);
	len = sizeof(small);
	dt_getsockopt(t, fd, SOL_SOCKET, SO_TYPE, small, &len);
	len = 0;
	dt_getsockopt(t, fd, SOL_SOCKET, SO_TYPE, small, &len);
	len = sizeof(v);
	dt_getsockopt(t, fd, SOL_SOCKET, SO_TYPE, NULL, &len);
	len = 0;
	dt_getsockopt(t, fd, SOL_SOCKET, SO_TYPE, NULL, &len);
	dt_getsockopt(t, fd, SOL_SOCKET, SO_TYPE, &v, NULL);
	len = (socklen_t)-1;
	dt_getsockopt(t, fd, SOL_SOCKET, SO_TYPE, &v, &len);
	len = sizeof(big);
	dt_getsockopt(t, fd, SOL_SOCKET, SO_TYPE, big, &len);
}

static void case_sockopt_ip(struct dt *t)
{
	static const int vals[] = {
		0, 1, 0x10, 0x08, 0x04, 0x02, 0x18, 0x1e, 0xb8, 255, 256,
		-1, -2,
	};
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	unsigned char byte = 0x28;
	socklen_t len;
	char small[2];

	for (int opt = IP_TOS; opt; opt = opt == IP_TOS ? IP_TTL : 0) {
		dt_getsockopt_int(t, fd, IPPROTO_IP, opt);
		for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
			dt_setsockopt_int(t, fd, IPPROTO_IP, opt, vals[i]);
			dt_getsockopt_int(t, fd, IPPROTO_IP, opt);
			/* The TOS sets the priority too. */
			dt_getsockopt_int(t, fd, SOL_SOCKET, SO_PRIORITY);
		}
		dt_setsockopt(t, fd, IPPROTO_IP, opt, &byte, 1);
		dt_getsockopt_int(t, fd, IPPROTO_IP, opt);
		dt_setsockopt(t, fd, IPPROTO_IP, opt, &byte, 0);
		dt_setsockopt(t, fd, IPPROTO_IP, opt, NULL, 4);
		len = 1;
		dt_getsockopt(t, fd, IPPROTO_IP, opt, small, &len);
		len = 0;
		dt_getsockopt(t, fd, IPPROTO_IP, opt, small, &len);
	}
}

/* ---- fcntl and ioctl ----------------------------------------------------- */

static void case_fcntl(struct dt *t)
{
	char buf[4];
	int fd = dt_udp_bound(t, P1);
	int nb = dt_socket(t, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int ce = dt_socket(t, AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	dt_fcntl(t, fd, F_GETFL, 0);
	dt_fcntl(t, nb, F_GETFL, 0);
	dt_fcntl(t, fd, F_GETFD, 0);
	dt_fcntl(t, ce, F_GETFD, 0);
	dt_fcntl(t, fd, F_SETFL, O_NONBLOCK);
	dt_fcntl(t, fd, F_GETFL, 0);
	dt_recv(t, fd, buf, sizeof(buf), 0);
	dt_fcntl(t, fd, F_SETFL, 0);
	dt_fcntl(t, fd, F_GETFL, 0);
	dt_fcntl(t, fd, F_SETFD, FD_CLOEXEC);
	dt_fcntl(t, fd, F_GETFD, 0);
	dt_fcntl(t, fd, F_SETFD, 0);
	dt_fcntl(t, fd, F_GETFD, 0);
	/* Flags that F_SETFL ignores or keeps. */
	dt_fcntl(t, fd, F_SETFL, O_RDONLY | O_NONBLOCK);
	dt_fcntl(t, fd, F_GETFL, 0);
	dt_fcntl(t, fd, F_SETFL, O_APPEND);
	dt_fcntl(t, fd, F_GETFL, 0);
	dt_fcntl(t, fd, 9999, 0);
}

static void case_ioctl(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	char buf[64];
	int v;
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	v = -1;
	dt_ioctl(t, s, FIONREAD, &v);
	dt_sendto(t, fd, "0123456789", 10, 0, &a, sizeof(a));
	dt_sendto(t, fd, "abc", 3, 0, &a, sizeof(a));
	dt_ioctl(t, s, FIONREAD, &v);
	dt_ioctl(t, s, SIOCINQ, &v);
	dt_ioctl(t, s, SIOCOUTQ, &v);
	dt_ioctl(t, fd, SIOCOUTQ, &v);
	dt_ioctl(t, s, FIONREAD, NULL);
	/* FIONBIO: nonzero sets, zero clears. */
	v = 7;
	dt_ioctl(t, s, FIONBIO, &v);
	dt_fcntl(t, s, F_GETFL, 0);
	dt_recv(t, s, buf, sizeof(buf), 0);
	dt_recv(t, s, buf, sizeof(buf), 0);
	dt_recv(t, s, buf, sizeof(buf), 0);
	v = 0;
	dt_ioctl(t, s, FIONBIO, &v);
	dt_fcntl(t, s, F_GETFL, 0);
	dt_ioctl(t, s, FIONBIO, NULL);
	/* Requests that are not for sockets at all. */
	v = 0;
	dt_ioctl(t, s, 0x5499, &v);
	dt_ioctl(t, s, _IOR('x', 0x77, int), &v);
	dt_ioctl(t, s, FIOCLEX, NULL);
	dt_fcntl(t, s, F_GETFD, 0);
	dt_ioctl(t, s, FIONCLEX, NULL);
	dt_fcntl(t, s, F_GETFD, 0);
}

/*
 * The requests Linux answers above the protocol: the owner (sock_ioctl's
 * FIOSETOWN/SIOCSPGRP, FIOGETOWN/SIOCGPGRP, as F_SETOWN/F_GETOWN) and
 * FIOASYNC (do_vfs_ioctl: O_ASYNC in F_GETFL), on UDP and on a TCP
 * listener, whose unknown requests are ENOTTY like any socket's.
 */
static void case_ioctl_socket_level(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int v;
	int s = dt_udp_bound(t, P1);
	int l = dt_socket(t, AF_INET, SOCK_STREAM, 0);

	v = -1;
	dt_ioctl(t, s, FIOGETOWN, &v);
	v = getpid();
	dt_ioctl(t, s, FIOSETOWN, &v);
	dt_note(t, "F_GETOWN %s", dt_ct(t)->fcntl(s, F_GETOWN) == getpid() ?
		"self" : "other");
	v = -1;
	dt_ioctl(t, s, SIOCGPGRP, &v);
	dt_note(t, "owner %s", v == getpid() ? "self" : "other");
	v = -getpgrp();
	dt_ioctl(t, s, SIOCSPGRP, &v);
	v = -1;
	dt_ioctl(t, s, FIOGETOWN, &v);
	dt_note(t, "owner %s", v == -getpgrp() ? "-pgrp" : "other");
	v = 0x3fffffff;
	dt_ioctl(t, s, FIOSETOWN, &v);
	dt_ioctl(t, s, FIOSETOWN, NULL);
	dt_ioctl(t, s, FIOGETOWN, NULL);
	v = 0;
	dt_ioctl(t, s, SIOCSPGRP, &v);
	dt_ioctl(t, s, SIOCGPGRP, &v);
	/* FIOASYNC, and O_ASYNC through F_SETFL. */
	v = 5;
	dt_ioctl(t, s, FIOASYNC, &v);
	dt_fcntl(t, s, F_GETFL, 0);
	v = 0;
	dt_ioctl(t, s, FIOASYNC, &v);
	dt_fcntl(t, s, F_GETFL, 0);
	dt_ioctl(t, s, FIOASYNC, NULL);
	dt_fcntl(t, s, F_SETFL, O_ASYNC | O_NONBLOCK);
	dt_fcntl(t, s, F_GETFL, 0);
	dt_fcntl(t, s, F_SETFL, 0);
	dt_fcntl(t, s, F_GETFL, 0);
	/* A TCP listener. */
	dt_bind(t, l, &a, sizeof(a));
	dt_listen(t, l, 4);
	v = 0;
	dt_ioctl(t, l, 0x5499, &v);
	dt_ioctl(t, l, _IOR('x', 0x77, int), &v);
	dt_ioctl(t, l, SIOCINQ, &v);
	dt_ioctl(t, l, SIOCOUTQ, &v);
	dt_ioctl(t, l, SIOCATMARK, &v);
	v = 1;
	dt_ioctl(t, l, FIOASYNC, &v);
	dt_fcntl(t, l, F_GETFL, 0);
	v = getpid();
	dt_ioctl(t, l, FIOSETOWN, &v);
	v = -1;
	dt_ioctl(t, l, FIOGETOWN, &v);
}

/* One datagram to P1 with an SCM_TXTIME message of len bytes holding
 * `when`. */
static void send_txtime(struct dt *t, int fd, uint64_t when, size_t len)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	char ctl[CMSG_SPACE(sizeof(uint64_t))] __attribute__((aligned(8)));
	struct iovec iov = { (void *)hello, 5 };
	struct msghdr m = {
		.msg_name = &a, .msg_namelen = sizeof(a),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	struct cmsghdr *c = (struct cmsghdr *)ctl;

	memset(ctl, 0, sizeof(ctl));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_TXTIME;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), &when, sizeof(when));
	dt_sendmsg(t, fd, &m, 0);
}

/*
 * SO_TXTIME (Linux's sk_setsockopt): a struct sock_txtime of exactly its
 * size, its flags known, its clock one of REALTIME, MONOTONIC, TAI (another
 * than MONOTONIC for CAP_NET_ADMIN alone), read back as set, never off
 * again; SCM_TXTIME's time (a u64) only once it is on. On the loopback,
 * whose queue does not look at the time (no fq or etf qdisc), the
 * datagram goes at once, whatever the time says.
 */
static void case_sockopt_txtime(struct dt *t)
{
	struct sock_txtime st = { CLOCK_MONOTONIC, 0 };
	uint32_t wide[3] = { 0, 0, 0 };
	char buf[16];
	socklen_t len;
	struct timespec now;
	int s = dt_udp_bound(t, P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int tcp = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	static const clockid_t clocks[] = { CLOCK_REALTIME, CLOCK_TAI,
					    CLOCK_BOOTTIME, 99, -1 };

	len = sizeof(st);
	dt_getsockopt(t, fd, SOL_SOCKET, SO_TXTIME, &st, &len);
	len = 4;
	dt_getsockopt(t, fd, SOL_SOCKET, SO_TXTIME, &st, &len);
	send_txtime(t, fd, 1, sizeof(uint64_t));
	st.clockid = CLOCK_MONOTONIC;
	st.flags = 0;
	dt_setsockopt(t, fd, SOL_SOCKET, SO_TXTIME, &st, 4);
	memcpy(wide, &st, sizeof(st));
	dt_setsockopt(t, fd, SOL_SOCKET, SO_TXTIME, wide, sizeof(wide));
	st.flags = 4;
	dt_setsockopt(t, fd, SOL_SOCKET, SO_TXTIME, &st, sizeof(st));
	st.flags = SOF_TXTIME_DEADLINE_MODE | SOF_TXTIME_REPORT_ERRORS;
	dt_setsockopt(t, fd, SOL_SOCKET, SO_TXTIME, &st, sizeof(st));
	len = sizeof(st);
	dt_getsockopt(t, fd, SOL_SOCKET, SO_TXTIME, &st, &len);
	for (size_t i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		st.clockid = clocks[i];
		st.flags = 0;
		dt_setsockopt(t, fd, SOL_SOCKET, SO_TXTIME, &st, sizeof(st));
		len = sizeof(st);
		dt_getsockopt(t, fd, SOL_SOCKET, SO_TXTIME, &st, &len);
	}
	st.clockid = CLOCK_MONOTONIC;
	st.flags = 0;
	dt_setsockopt(t, fd, SOL_SOCKET, SO_TXTIME, &st, sizeof(st));
	dt_setsockopt(t, tcp, SOL_SOCKET, SO_TXTIME, &st, sizeof(st));
	len = sizeof(st);
	dt_getsockopt(t, tcp, SOL_SOCKET, SO_TXTIME, &st, &len);
	/* The time: a u64, 4 bytes refused; far ahead, it goes now. */
	clock_gettime(CLOCK_MONOTONIC, &now);
	send_txtime(t, fd, (uint64_t)(now.tv_sec + 3600) * 1000000000u, 4);
	send_txtime(t, fd, (uint64_t)(now.tv_sec + 3600) * 1000000000u,
		    sizeof(uint64_t));
	send_txtime(t, fd, 0, sizeof(uint64_t));
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
}

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

/*
 * The SOL_SOCKET options that hold a flag or a number and ask nothing
 * more of an IP socket (Linux's sk_setsockopt and sk_getsockopt), each
 * set and read back with the values around its edges, on UDP and TCP.
 */
static void case_sockopt_flags(struct dt *t)
{
	static const int opts[] = {
		SO_DEBUG, SO_BSDCOMPAT, SO_PASSCRED, SO_PASSSEC,
		SO_WIFI_STATUS, SO_NOFCS, SO_LOCK_FILTER, SO_SELECT_ERR_QUEUE,
		SO_NO_CHECK, SO_BUF_LOCK, SO_INCOMING_NAPI_ID, SO_TXREHASH,
		SO_RCVMARK, SO_PASSPIDFD, SO_PEERPIDFD, SO_PEERGROUPS,
		SO_BUSY_POLL, SO_PREFER_BUSY_POLL, SO_BUSY_POLL_BUDGET,
		SO_RESERVE_MEM, SO_NETNS_COOKIE, SO_COOKIE,
	};
	static const int vals[] = { 0, 1, 2, 3, 4, -1, 7 };
	int fds[2];

	fds[0] = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	fds[1] = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	for (size_t k = 0; k < 2; k++)
		for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
			dt_getsockopt_int(t, fds[k], SOL_SOCKET, opts[i]);
			DT_SETGET(t, fds[k], SOL_SOCKET, opts[i], vals);
		}
}

/*
 * The read-only ones with a value of their own: SO_COOKIE (a number for
 * the socket, for good: only compared as non-zero, stable, distinct),
 * SO_NETNS_COOKIE (the namespace's, the same for every socket), both
 * EINVAL without room for 8 bytes; SO_PEERNAME (the peer's address,
 * ENOTCONN without one, EINVAL for more room than it takes), SO_PEERCRED
 * (no credentials for an IP peer: pid 0, ids -1).
 */
static void case_sockopt_cookies_peer(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	static const socklen_t peer_lens[] = { 16, 8, 32 };
	static const socklen_t cred_lens[] = { 12, 32, 4 };
	uint64_t c1 = 0, c2 = 0, c3 = 0, n1 = 0, n2 = 0;
	unsigned char buf[32];
	socklen_t len;

	len = 4;
	dt_getsockopt(t, s, SOL_SOCKET, SO_COOKIE, buf, &len);
	len = sizeof(c1);
	dt_ct(t)->getsockopt(s, SOL_SOCKET, SO_COOKIE, &c1, &len);
	len = sizeof(c2);
	dt_ct(t)->getsockopt(s, SOL_SOCKET, SO_COOKIE, &c2, &len);
	len = sizeof(c3);
	dt_ct(t)->getsockopt(u, SOL_SOCKET, SO_COOKIE, &c3, &len);
	dt_note(t, "cookies: non-zero %d, stable %d, distinct %d",
		c1 != 0, c1 == c2, c1 != c3);
	len = 16;
	dt_ct(t)->getsockopt(s, SOL_SOCKET, SO_COOKIE, buf, &len);
	dt_note(t, "SO_COOKIE with 16 bytes of room: length %u", (unsigned)len);
	len = 16;
	dt_getsockopt(t, s, SOL_SOCKET, SO_NETNS_COOKIE, buf, &len);
	len = sizeof(n1);
	dt_ct(t)->getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &n1, &len);
	len = sizeof(n2);
	dt_ct(t)->getsockopt(u, SOL_SOCKET, SO_NETNS_COOKIE, &n2, &len);
	dt_note(t, "namespace cookie: non-zero %d, shared %d", n1 != 0,
		n1 == n2);
	len = 16;
	dt_getsockopt(t, u, SOL_SOCKET, SO_PEERNAME, buf, &len);
	dt_connect(t, u, &a, sizeof(a));
	DT_GETLENS(t, u, SOL_SOCKET, SO_PEERNAME, peer_lens);
	DT_GETLENS(t, u, SOL_SOCKET, SO_PEERCRED, cred_lens);
}

/*
 * SO_MAX_PACING_RATE's value (Linux's sk_setsockopt, sk_getsockopt), which
 * packetdrill's pacing/ scripts cannot give in eight bytes: an unsigned
 * long of eight bytes sets and reads all 64 bits; an int, and 0xffffffff
 * as an int is ~0; read into four bytes a rate above 2^32 - 1 is cut to
 * that; six bytes set only the int; less than an int is EINVAL.
 */
static void case_sockopt_max_pacing_rate(struct dt *t)
{
	static const socklen_t lens[] = { 8, 4, 16, 2, 0 };
	uint64_t v;
	uint32_t i;
	int fds[2];

	fds[0] = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	fds[1] = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	for (size_t k = 0; k < 2; k++) {
		int s = fds[k];

		DT_GETLENS(t, s, SOL_SOCKET, SO_MAX_PACING_RATE, lens);
		v = 3ULL << 33;
		dt_setsockopt(t, s, SOL_SOCKET, SO_MAX_PACING_RATE, &v, 8);
		DT_GETLENS(t, s, SOL_SOCKET, SO_MAX_PACING_RATE, lens);
		i = 0xffffffffu;
		dt_setsockopt(t, s, SOL_SOCKET, SO_MAX_PACING_RATE, &i, 4);
		DT_GETLENS(t, s, SOL_SOCKET, SO_MAX_PACING_RATE, lens);
		v = 123456789012ULL;
		dt_setsockopt(t, s, SOL_SOCKET, SO_MAX_PACING_RATE, &v, 6);
		DT_GETLENS(t, s, SOL_SOCKET, SO_MAX_PACING_RATE, lens);
		dt_setsockopt(t, s, SOL_SOCKET, SO_MAX_PACING_RATE, &v, 3);
		v = 0;
		dt_setsockopt(t, s, SOL_SOCKET, SO_MAX_PACING_RATE, &v, 8);
		DT_GETLENS(t, s, SOL_SOCKET, SO_MAX_PACING_RATE, lens);
	}
}

/* SO_INCOMING_CPU as read raw (sides' CPUs may differ): a CPU of this
 * machine or not. */
static int incoming_cpu_kind(struct dt *t, int fd)
{
	int v = -2;
	socklen_t len = sizeof(v);

	dt_ct(t)->getsockopt(fd, SOL_SOCKET, SO_INCOMING_CPU, &v, &len);
	return v >= 0 && v < (int)sysconf(_SC_NPROCESSORS_CONF) ? 1 : v;
}

/*
 * SO_INCOMING_CPU (Linux's sk_incoming_cpu_update): -1 until a packet
 * comes, and what is set reads back; a connected UDP socket and a TCP
 * connection take the CPU their last packet was taken on (compared as
 * "a CPU of this machine", 1 in the notes: the sides' CPUs may differ),
 * an unconnected UDP socket and a listener keep theirs; an accepted
 * socket has a CPU, not its listener's value.
 */
static void case_sockopt_incoming_cpu(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in b = dt_sin("127.0.0.1", P1 + 1);
	static const int vals[] = { 7, -5, 100000, -1 };
	int s = dt_udp_bound(t, P1), c = dt_udp_bound(t, P1 + 1);
	int l, x, y;
	char buf[8];

	DT_SETGET(t, s, SOL_SOCKET, SO_INCOMING_CPU, vals);
	dt_connect(t, c, &a, sizeof(a));
	dt_sendto(t, c, "abc", 3, 0, &a, sizeof(a));
	dt_sendto(t, s, "def", 3, 0, &b, sizeof(b));
	dt_recv(t, s, buf, sizeof(buf), 0);
	dt_recv(t, c, buf, sizeof(buf), 0);
	dt_note(t, "UDP: unconnected %d, connected %d",
		incoming_cpu_kind(t, s), incoming_cpu_kind(t, c));
	dt_tcp_pair(t, P1 + 2, &l, &x, &y);
	dt_setsockopt_int(t, l, SOL_SOCKET, SO_INCOMING_CPU, 1000);
	dt_send(t, x, "ghi", 3, 0);
	dt_recv(t, y, buf, sizeof(buf), 0);
	dt_note(t, "TCP: listener %d, client %d, accepted %d",
		incoming_cpu_kind(t, l), incoming_cpu_kind(t, x),
		incoming_cpu_kind(t, y));
}

/*
 * What three of them do: SO_RCVMARK gives the sender's mark (SO_MARK, or
 * its message's; 0 without) as an SO_MARK message; SO_SELECT_ERR_QUEUE
 * no longer adds POLLPRI to a waiting error (Linux 6.18); SO_NO_CHECK
 * sends without a checksum (the datagram still arrives), and refuses
 * UDP_SEGMENT's datagrams.
 */
static void case_sockopt_rcvmark_errqueue(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct sockaddr_in nobody = dt_sin("127.0.0.1", P1 + 1);
	char buf[16], ctl[64] __attribute__((aligned(8)));
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct pollfd p;
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	uint32_t mark = 7;

	dt_setsockopt_int(t, s, SOL_SOCKET, SO_RCVMARK, 1);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	dt_recvmsg(t, s, &m, 0);
	dt_note_cmsgs(t, &m);
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_MARK, 5);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	dt_recvmsg(t, s, &m, 0);
	dt_note_cmsgs(t, &m);
	if (m.msg_controllen >= CMSG_LEN(4)) {
		memcpy(&mark, CMSG_DATA(CMSG_FIRSTHDR(&m)), 4);
		dt_note(t, "mark %u", mark);
	}
	/* The message's mark for one datagram. */
	{
		char sctl[CMSG_SPACE(4)] __attribute__((aligned(8)));
		struct iovec siov = { (void *)hello, 5 };
		struct msghdr sm = { .msg_name = &a, .msg_namelen = sizeof(a),
				     .msg_iov = &siov, .msg_iovlen = 1,
				     .msg_control = sctl,
				     .msg_controllen = sizeof(sctl) };
		struct cmsghdr *c = (struct cmsghdr *)sctl;

		memset(sctl, 0, sizeof(sctl));
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SO_MARK;
		c->cmsg_len = CMSG_LEN(4);
		mark = 9;
		memcpy(CMSG_DATA(c), &mark, 4);
		dt_sendmsg(t, u, &sm, 0);
	}
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	dt_recvmsg(t, s, &m, 0);
	if (m.msg_controllen >= CMSG_LEN(4)) {
		memcpy(&mark, CMSG_DATA(CMSG_FIRSTHDR(&m)), 4);
		dt_note(t, "mark %u", mark);
	}
	/* An error waiting: POLLERR, and POLLPRI with SO_SELECT_ERR_QUEUE. */
	dt_setsockopt_int(t, u, SOL_IP, IP_RECVERR, 1);
	dt_sendto(t, u, hello, 5, 0, &nobody, sizeof(nobody));
	p.fd = u;
	p.events = POLLIN;
	dt_poll(t, &p, 1, 1000);
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_SELECT_ERR_QUEUE, 1);
	dt_poll(t, &p, 1, 0);
	dt_getsockopt_int(t, u, SOL_SOCKET, SO_ERROR);
	dt_setsockopt_int(t, u, SOL_IP, IP_RECVERR, 0);
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_NO_CHECK, 1);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	m.msg_control = NULL;
	m.msg_controllen = 0;
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_RCVMARK, 0);
	dt_recvmsg(t, s, &m, 0);
	dt_setsockopt_int(t, u, IPPROTO_UDP, UDP_SEGMENT, 1000);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
}

static const struct dt_case cases[] = {
	DT_CASE(case_sockopt_flags),
	DT_CASE(case_sockopt_cookies_peer),
	DT_CASE(case_sockopt_max_pacing_rate),
	DT_CASE(case_sockopt_incoming_cpu),
	DT_CASE(case_sockopt_rcvmark_errqueue),
	DT_CASE(case_sockopt_txtime),
	DT_CASE(case_sockopt_readonly),
	DT_CASE(case_sockopt_bools),
	DT_CASE(case_sockopt_bufs),
	DT_CASE(case_sockopt_timeo),
	DT_CASE(case_sockopt_rcvtimeo_expiry),
	DT_CASE(case_sockopt_timeo_huge),
	DT_CASE(case_sockopt_linger),
	DT_CASE(case_sockopt_lowat),
	DT_CASE(case_sockopt_more_bools),
	DT_CASE(case_cmsg_timestamp),
	DT_CASE(case_cmsg_timestamp_kinds),
	DT_CASE(case_cmsg_rxq_ovfl),
	DT_CASE(case_sockopt_meminfo),
	DT_CASE(case_sockopt_multicast),
	DT_CASE(case_sockopt_membership),
	DT_CASE(case_sockopt_source_membership),
	DT_CASE(case_sockopt_source_group),
	DT_CASE(case_sockopt_privileged),
	DT_CASE(case_sockopt_bad),
	DT_CASE(case_sockopt_ip),
	DT_CASE(case_fcntl),
	DT_CASE(case_ioctl),
	DT_CASE(case_ioctl_socket_level),
};

int main(void)
{
	return dt_main("diff_sockopt", cases, sizeof(cases) / sizeof(cases[0]));
}
