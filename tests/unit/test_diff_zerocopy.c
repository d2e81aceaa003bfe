/*
 * test_diff_zerocopy.c - differential tests of SO_ZEROCOPY and
 * MSG_ZEROCOPY's completion notices over loopback, where Linux copies as
 * ustack always does (SO_EE_CODE_ZEROCOPY_COPIED): which sockets take the
 * option and what it inherits, the ids sends take (not a send of no bytes
 * on TCP, one on UDP, not without SO_ZEROCOPY, given back by a send that
 * fails), when the notices come (TCP: once acknowledged; UDP: as the
 * datagram leaves, before its ICMP error; a corked datagram's all at
 * once), how they merge on the error queue, POLLERR, and ENOBUFS once
 * net.core.optmem_max holds no more records.
 *
 * Each case runs on the kernel's sockets in a private network namespace
 * and on ustack (tests/lib/difftest.h); a case fails when the two
 * transcripts differ. Linux is the oracle. Each case has its own ports, as
 * the kernel side runs every case in one namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/net_tstamp.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "lib/difftest.h"
#include "ustack/ustack.h"

/* The pause for loopback's ACKs (and a delayed one) to come back. */
#define SETTLE_US 250000

/* One notice (or EAGAIN), with its IP_RECVERR message. */
static void notice(struct dt *t, int fd)
{
	dt_recvmsg_noted(t, fd, MSG_ERRQUEUE, 16, 128);
}

static void pollerr(struct dt *t, int fd)
{
	struct pollfd p = { .fd = fd, .events = 0 };

	dt_poll(t, &p, 1, 0);
}

static void zsend(struct dt *t, int fd, size_t len, int flags)
{
	static const char data[2048];

	dt_send(t, fd, data, len, MSG_ZEROCOPY | MSG_NOSIGNAL | flags);
}

/* The option: TCP (any state) and UDP take 0 or 1; ping sockets refuse
 * it; it reads back anywhere; an accepted socket has its listener's. */
static void case_zc_option(struct dt *t)
{
	static const int vals[] = { 1, 2, -1, 0, 1 };
	static const socklen_t lens[] = { 0, 2, 4, 8 };
	struct sockaddr_in a = dt_sin("127.0.0.1", 7201);
	int tcp = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int udp = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int l = dt_tcp_listener(t, 7201);
	int ping, c, s;
	short sh = 1;

	ping = dt_ping_socket(t);
	dt_getsockopt_int(t, tcp, SOL_SOCKET, SO_ZEROCOPY);
	DT_SETGET(t, tcp, SOL_SOCKET, SO_ZEROCOPY, vals);
	DT_SETGET(t, udp, SOL_SOCKET, SO_ZEROCOPY, vals);
	DT_SETGET(t, ping, SOL_SOCKET, SO_ZEROCOPY, vals);
	DT_GETLENS(t, udp, SOL_SOCKET, SO_ZEROCOPY, lens);
	dt_setsockopt(t, udp, SOL_SOCKET, SO_ZEROCOPY, &sh, sizeof(sh));
	dt_setsockopt_int(t, l, SOL_SOCKET, SO_ZEROCOPY, 1);
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_connect(t, c, &a, sizeof(a));
	s = dt_accept(t, l, NULL, NULL);
	dt_getsockopt_int(t, s, SOL_SOCKET, SO_ZEROCOPY);
	dt_getsockopt_int(t, c, SOL_SOCKET, SO_ZEROCOPY);
	/* MSG_ZEROCOPY without the option, or on a ping socket: a plain
	 * send, no notice. */
	zsend(t, c, 10, 0);
	usleep(SETTLE_US);
	notice(t, c);
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, l);
	dt_close(t, ping);
}

/* TCP: ids from 0 for sends of bytes, none for an empty one or a plain
 * send, one per send that went; the notices after the ACK, merged while
 * unread; POLLERR meanwhile; read one at a time. */
static void case_zc_tcp(struct dt *t)
{
	char buf[4096];
	int l, c, s;

	dt_run_timers(t);
	dt_tcp_pair(t, 7202, &l, &c, &s);
	dt_setsockopt_int(t, c, SOL_SOCKET, SO_ZEROCOPY, 1);
	notice(t, c);
	zsend(t, c, 100, 0);
	usleep(SETTLE_US);
	pollerr(t, c);
	notice(t, c);
	pollerr(t, c);
	notice(t, c);
	zsend(t, c, 0, 0);                  /* no id */
	zsend(t, c, 1, 0);                  /* 1 */
	dt_send(t, c, "plain", 5, 0);       /* none */
	zsend(t, c, 2000, 0);               /* 2 */
	usleep(SETTLE_US);
	notice(t, c);                       /* [1, 2] */
	notice(t, c);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	/* The peer need not read: ACKed is enough. */
	zsend(t, c, 10, 0);                 /* 3 */
	usleep(SETTLE_US);
	notice(t, c);
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, l);
}

/* A send that fails takes no id: EPIPE before a connection, and after
 * the peer's reset (the notices of what was acknowledged still come). */
static void case_zc_tcp_fail(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 7203);
	struct linger lg = { 1, 0 };
	int l = dt_tcp_listener(t, 7203);
	int c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int s;

	dt_run_timers(t);
	dt_setsockopt_int(t, c, SOL_SOCKET, SO_ZEROCOPY, 1);
	zsend(t, c, 10, 0);                 /* EPIPE */
	dt_connect(t, c, &a, sizeof(a));
	s = dt_accept(t, l, NULL, NULL);
	zsend(t, c, 10, 0);                 /* 0 */
	usleep(SETTLE_US);
	dt_setsockopt(t, s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	dt_close(t, s);
	usleep(SETTLE_US);
	zsend(t, c, 10, 0);                 /* ECONNRESET, then EPIPE */
	zsend(t, c, 10, 0);
	notice(t, c);
	notice(t, c);
	dt_close(t, c);
	dt_close(t, l);
}

/* UDP: every datagram takes an id, even of no bytes; the notice is there
 * as the send returns; a corked datagram's sends complete together, only
 * its zerocopy ones counted; EMSGSIZE takes none. */
static void case_zc_udp(struct dt *t)
{
	static const char big[65508];
	struct sockaddr_in to = dt_sin("127.0.0.1", 7204);
	int r = dt_udp_bound(t, 7204);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_connect(t, u, &to, sizeof(to));
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_ZEROCOPY, 1);
	zsend(t, u, 10, 0);                 /* 0 */
	zsend(t, u, 0, 0);                  /* 1 */
	zsend(t, u, 10, 0);                 /* 2 */
	pollerr(t, u);
	notice(t, u);                       /* [0, 2] */
	dt_send(t, u, big, sizeof(big), MSG_ZEROCOPY);   /* EMSGSIZE */
	zsend(t, u, 5, MSG_MORE);           /* 3 */
	zsend(t, u, 5, MSG_MORE);           /* 4 */
	notice(t, u);                       /* nothing while corked */
	dt_send(t, u, "plain", 5, 0);
	notice(t, u);                       /* [3, 4] */
	dt_send(t, u, "plain", 5, MSG_MORE);
	zsend(t, u, 5, 0);                  /* 5 */
	notice(t, u);
	dt_setsockopt_int(t, u, SOL_UDP, UDP_CORK, 1);
	zsend(t, u, 5, 0);                  /* 6 */
	dt_send(t, u, "plain", 5, 0);
	zsend(t, u, 5, 0);                  /* 7 */
	notice(t, u);
	dt_setsockopt_int(t, u, SOL_UDP, UDP_CORK, 0);
	notice(t, u);                       /* [6, 7] */
	notice(t, u);
	dt_close(t, u);
	dt_close(t, r);
}

/* UDP to a closed port with IP_RECVERR: the notice first, then the ICMP
 * error, which splits the next notice off; the send after the error
 * fails (ECONNREFUSED) and takes no id. */
static void case_zc_udp_icmp(struct dt *t)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", 7205);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_connect(t, u, &to, sizeof(to));
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_ZEROCOPY, 1);
	dt_setsockopt_int(t, u, SOL_IP, IP_RECVERR, 1);
	zsend(t, u, 10, 0);                 /* 0 */
	usleep(50000);
	zsend(t, u, 10, 0);                 /* ECONNREFUSED */
	zsend(t, u, 10, 0);                 /* 1 */
	usleep(50000);
	notice(t, u);
	notice(t, u);
	notice(t, u);
	notice(t, u);
	notice(t, u);
	dt_close(t, u);
}

/* net.core.optmem_max 8192: ten records. Timestamp reports between the
 * notices keep them from merging; reading them gives the room back. */
static void case_zc_optmem(struct dt *t)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", 7206);
	int r = dt_udp_bound(t, 7206);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_sysctl(t, "net.core.optmem_max", "8192");
	dt_connect(t, u, &to, sizeof(to));
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_ZEROCOPY, 1);
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_TIMESTAMPING,
			  SOF_TIMESTAMPING_TX_SOFTWARE |
			  SOF_TIMESTAMPING_SOFTWARE |
			  SOF_TIMESTAMPING_OPT_TSONLY);
	for (int i = 0; i < 12; i++)
		zsend(t, u, 10, 0);         /* 0..9, then ENOBUFS */
	notice(t, u);                       /* the first report */
	notice(t, u);                       /* [0, 0] */
	zsend(t, u, 10, 0);                 /* 10 */
	zsend(t, u, 10, 0);                 /* ENOBUFS */
	dt_sysctl(t, "net.core.optmem_max", "131072");
	zsend(t, u, 10, 0);                 /* 11 */
	dt_close(t, u);
	dt_close(t, r);
}

/* SO_MEMINFO: a notice waiting holds option memory (832 bytes, Linux's
 * skb), not receive buffer, until read (helper-89's case). */
static void meminfo(struct dt *t, int fd, const char *what)
{
	uint32_t m[SK_MEMINFO_VARS];
	socklen_t len = sizeof(m);

	memset(m, 0, sizeof(m));
	if (dt_ct(t)->getsockopt(fd, SOL_SOCKET, SO_MEMINFO, m, &len) < 0)
		dt_note(t, "%s: SO_MEMINFO failed %d", what, errno);
	else
		dt_note(t, "%s: rmem_alloc %u optmem %u", what,
			m[SK_MEMINFO_RMEM_ALLOC], m[SK_MEMINFO_OPTMEM]);
}

static void case_zc_meminfo(struct dt *t)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", 7207);
	int r = dt_udp_bound(t, 7207);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int l, c, s;

	dt_run_timers(t);
	dt_connect(t, u, &to, sizeof(to));
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_ZEROCOPY, 1);
	zsend(t, u, 10, 0);
	meminfo(t, u, "udp notice queued");
	notice(t, u);
	meminfo(t, u, "udp notice read");
	dt_tcp_pair(t, 7208, &l, &c, &s);
	dt_setsockopt_int(t, c, SOL_SOCKET, SO_ZEROCOPY, 1);
	meminfo(t, c, "tcp before");
	zsend(t, c, 100, 0);
	usleep(SETTLE_US);
	meminfo(t, c, "tcp notice queued");
	notice(t, c);
	meminfo(t, c, "tcp notice read");
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, l);
	dt_close(t, u);
	dt_close(t, r);
}

static const struct dt_case cases[] = {
	DT_CASE(case_zc_meminfo),
	DT_CASE(case_zc_option),
	DT_CASE(case_zc_tcp),
	DT_CASE(case_zc_tcp_fail),
	DT_CASE(case_zc_udp),
	DT_CASE(case_zc_udp_icmp),
	DT_CASE(case_zc_optmem),
};

int main(void)
{
	return dt_main("diff_zerocopy", cases, sizeof(cases) / sizeof(cases[0]));
}
