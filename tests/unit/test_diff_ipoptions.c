/*
 * test_diff_ipoptions.c - differential tests of IPv4 header options
 * (RFC 791 §3.1) as sockets see them: IP_OPTIONS set and read back on UDP
 * and TCP with Linux's checks, errors and padding, IP_RECVOPTS and
 * IP_RETOPTS (their values, and the messages of a datagram, of an ICMP
 * echo reply and of an error on the error queue), the IP_RETOPTS control
 * message of sendmsg, the size a datagram may have under
 * IP_PMTUDISC_DO, TCP's MSS with options on both ends and a reset for a
 * SYN with them, connect() with a source route, the refusals without
 * CAP_NET_RAW (dt_cap_net_raw, both sides); and on the wire
 * (dt_inject_ip, dt_wire_note): a TIME_WAIT socket's ACK.
 *
 * Each case runs on the kernel's sockets in a private namespace and on
 * ustack; the transcripts must agree. Option bytes in control messages
 * are compared whole but for a timestamp's times (dt_note_cmsgs: "t" when
 * recent). ustack's wire bytes are test_ip_options's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "lib/difftest.h"

#define P1 5301
#define P2 5302   /* nobody listens here */

struct optcase {
	unsigned char b[44];
	socklen_t len;
};

/* The strings of the spec's §1.1 table (sockopt.c's probes). */
static const struct optcase set_cases[] = {
	{ { 1 }, 1 },                                   /* NOP: padded */
	{ { 1, 1, 1, 1 }, 4 },
	{ { 0, 7, 7, 4, 9, 9 }, 6 },                    /* after END */
	{ { 1, 0, 0x44, 0x33 }, 4 },
	{ { 7 }, 1 },                                   /* no length */
	{ { 7, 9, 4, 0, 0, 0, 0, 0 }, 8 },              /* past the end */
	{ { 7, 7, 4 }, 7 },                             /* RR 1 slot */
	{ { 7, 7, 4, 1, 2, 3, 4 }, 7 },                 /* slot zeroed */
	{ { 7, 11, 8, 10, 0, 0, 1 }, 11 },              /* data kept */
	{ { 7, 3, 4 }, 3 },                             /* full */
	{ { 7, 11, 12 }, 11 },                          /* full */
	{ { 7, 7, 5 }, 7 },                             /* pointer 5 */
	{ { 7, 6, 4 }, 6 },                             /* no whole slot */
	{ { 7, 7, 3 }, 7 },                             /* pointer 3 */
	{ { 7, 2 }, 2 },                                /* length 2 */
	{ { 7, 7, 4, 0, 0, 0, 0, 7, 7, 4 }, 14 },       /* two RR */
	{ { 0x44, 12, 5, 0 }, 12 },                     /* TS tsonly */
	{ { 0x44, 20, 5, 1 }, 20 },                     /* TS tsandaddr */
	{ { 0x44, 8, 5, 1 }, 8 },                       /* no pair room */
	{ { 0x44, 12, 5, 3, 127, 0, 0, 1 }, 12 },       /* prespec ours */
	{ { 0x44, 12, 5, 3, 10, 1, 1, 1 }, 12 },        /* not ours */
	{ { 0x44, 8, 9, 0 }, 8 },                       /* full */
	{ { 0x44, 8, 9, 0xf0 }, 8 },                    /* overflow 15 */
	{ { 0x44, 8, 4, 0 }, 8 },                       /* pointer 4 */
	{ { 0x44, 3, 5 }, 3 },                          /* length 3 */
	{ { 0x44, 8, 5, 2 }, 8 },                       /* flag 2 (root) */
	{ { 0x83, 11, 4, 127, 0, 0, 2, 127, 0, 0, 3 }, 11 }, /* LSRR */
	{ { 0x89, 7, 4, 127, 0, 0, 2 }, 7 },            /* SSRR */
	{ { 0x83, 8, 4, 127, 0, 0, 2, 0 }, 8 },         /* length 8 */
	{ { 0x83, 7, 8, 127, 0, 0, 2 }, 7 },            /* pointer 8 */
	{ { 0x83, 3, 4 }, 3 },                          /* length 3 */
	{ { 0x83, 7, 4, 1, 1, 1, 1, 0x89, 7, 4, 2, 2, 2, 2 }, 14 },
	{ { 0x94, 4, 0, 0 }, 4 },                       /* RA */
	{ { 0x94, 4, 0, 1 }, 4 },
	{ { 0x94, 2 }, 2 },                             /* RA length 2 */
	{ { 0x82, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 11 }, /* SEC */
	{ { 0x88, 4, 0, 1 }, 4 },                       /* SID */
	{ { 25, 4, 1, 2 }, 4 },                         /* unknown */
	{ { 0x9e, 4, 0x11, 0x22 }, 4 },                 /* unknown, copied */
	{ { 0x86, 6, 0, 0, 0, 1 }, 6 },                 /* CIPSO: no DOI */
	{ { 7, 39, 4 }, 39 },                           /* RR 9 slots */
	{ { 7, 40, 4 }, 40 },                           /* 40: no whole slot */
};

static void set_and_read(struct dt *t, int fd, const struct optcase *c)
{
	unsigned char out[40];
	socklen_t l = sizeof(out);

	dt_setsockopt(t, fd, IPPROTO_IP, IP_OPTIONS, c->b, c->len);
	dt_getsockopt(t, fd, IPPROTO_IP, IP_OPTIONS, out, &l);
}

static void case_ipoptions_set_validation(struct dt *t)
{
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int s = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int p = dt_ping_socket(t);

	for (size_t i = 0; i < sizeof(set_cases) / sizeof(set_cases[0]); i++) {
		set_and_read(t, u, &set_cases[i]);
		set_and_read(t, s, &set_cases[i]);
	}
	set_and_read(t, p, &set_cases[6]);
	set_and_read(t, p, &set_cases[26]);
}

/* The lengths: over 40 refused first, NULL with a length EFAULT, 0 (or
 * NULL, 0) clears; a failed set keeps what was there; the room read. */
static void case_ipoptions_lengths(struct dt *t)
{
	static const unsigned char rr[11] = { 7, 11, 4 };
	static const socklen_t lens[] = { 0, 1, 3, 7, 12, 64 };
	unsigned char big[44];
	unsigned char out[40];
	socklen_t l = sizeof(out);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	memset(big, 1, sizeof(big));
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, rr, sizeof(rr));
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, big, 41);
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, big, 44);
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, NULL, 8);
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, (unsigned char[2]){ 7, 2 },
		      2);
	DT_GETLENS(t, u, IPPROTO_IP, IP_OPTIONS, lens);
	l = (socklen_t)-1;
	dt_getsockopt(t, u, IPPROTO_IP, IP_OPTIONS, out, &l);
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, big, 40);
	DT_GETLENS(t, u, IPPROTO_IP, IP_OPTIONS, lens);
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, NULL, 0);
	DT_GETLENS(t, u, IPPROTO_IP, IP_OPTIONS, lens);
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, rr, sizeof(rr));
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, rr, 0);
	DT_GETLENS(t, u, IPPROTO_IP, IP_OPTIONS, lens);
}

static void case_recvopts_retopts_flags(struct dt *t)
{
	static const int vals[] = { 0, 1, 2, -1, 0 };
	static const socklen_t lens[] = { 0, 1, 3, 4, 8 };
	int fds[3];

	fds[0] = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	fds[1] = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	fds[2] = dt_ping_socket(t);
	for (int i = 0; i < 3; i++) {
		DT_SETGET(t, fds[i], IPPROTO_IP, IP_RECVOPTS, vals);
		DT_SETGET(t, fds[i], IPPROTO_IP, IP_RETOPTS, vals);
		dt_setsockopt(t, fds[i], IPPROTO_IP, IP_RETOPTS,
			      (unsigned char[1]){ 5 }, 1);
		DT_GETLENS(t, fds[i], IPPROTO_IP, IP_RETOPTS, lens);
		dt_setsockopt(t, fds[i], IPPROTO_IP, IP_RECVOPTS, NULL, 0);
		DT_GETLENS(t, fds[i], IPPROTO_IP, IP_RECVOPTS, lens);
	}
}

/* A datagram from a socket with options to one with IP_RECVOPTS and
 * IP_RETOPTS: what arrives (this host's entries in), what a reply should
 * carry; then the reply sent with that IP_RETOPTS. */
static void send_with(struct dt *t, int u, int r, const struct optcase *c)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", P1);
	struct pollfd p = { .fd = r, .events = POLLIN };

	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, c->b, c->len);
	dt_sendto(t, u, "x", 1, 0, &to, sizeof(to));
	dt_poll(t, &p, 1, 500);
	dt_recvmsg_noted(t, r, MSG_DONTWAIT, 16, 256);
}

static void case_udp_rr_ts(struct dt *t)
{
	static const struct optcase cs[] = {
		{ { 7, 11, 4 }, 11 },                   /* RR 2 slots */
		{ { 1, 7, 39, 4 }, 40 },                /* RR 9 slots */
		{ { 0x44, 12, 5, 0 }, 12 },             /* TS tsonly */
		{ { 0x44, 20, 5, 1 }, 20 },             /* TS tsandaddr */
		{ { 0x44, 12, 5, 3, 127, 0, 0, 1 }, 12 }, /* prespec ours */
		{ { 0x44, 12, 5, 3, 10, 1, 1, 1 }, 12 }, /* not ours */
		{ { 0x44, 8, 9, 0x10 }, 8 },            /* full: overflow */
		{ { 1, 1, 1, 1 }, 4 },                  /* NOP: no echo */
		{ { 0x94, 4, 0, 0 }, 4 },               /* RA */
		{ { 0x9e, 4, 0x11, 0x22 }, 4 },         /* unknown */
		{ { 7, 7, 4, 0, 0, 0, 0, 0x44, 8, 5, 0 }, 16 },
		{ { 0 }, 0 },                           /* none: no messages */
	};
	int r = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_setsockopt_int(t, r, IPPROTO_IP, IP_RECVOPTS, 1);
	dt_setsockopt_int(t, r, IPPROTO_IP, IP_RETOPTS, 1);
	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++)
		send_with(t, u, r, &cs[i]);
	/* IP_RETOPTS alone, then IP_RECVOPTS alone. */
	dt_setsockopt_int(t, r, IPPROTO_IP, IP_RECVOPTS, 0);
	send_with(t, u, r, &cs[0]);
	dt_setsockopt_int(t, r, IPPROTO_IP, IP_RECVOPTS, 1);
	dt_setsockopt_int(t, r, IPPROTO_IP, IP_RETOPTS, 0);
	send_with(t, u, r, &cs[0]);
}

/* sendmsg with an IP_RETOPTS message of n bytes. */
static void send_retopts(struct dt *t, int u, int r, const void *b, size_t n)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", P1);
	char ctl[CMSG_SPACE(48)] __attribute__((aligned(8)));
	struct iovec iov = { "y", 1 };
	struct msghdr m = { .msg_name = &to, .msg_namelen = sizeof(to),
			    .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl,
			    .msg_controllen = CMSG_SPACE(n) };
	struct cmsghdr *c = (struct cmsghdr *)ctl;
	struct pollfd p = { .fd = r, .events = POLLIN };

	memset(ctl, 0, sizeof(ctl));
	c->cmsg_level = SOL_IP;
	c->cmsg_type = IP_RETOPTS;
	c->cmsg_len = CMSG_LEN(n);
	memcpy(CMSG_DATA(c), b, n);
	if (dt_sendmsg(t, u, &m, 0) < 0)
		return;
	dt_poll(t, &p, 1, 500);
	dt_recvmsg_noted(t, r, MSG_DONTWAIT, 16, 256);
}

static void case_retopts_cmsg_send(struct dt *t)
{
	static const unsigned char rr[11] = { 7, 11, 4 };
	unsigned char nops[44], rr39[44];
	int r = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int p = dt_ping_socket(t);

	memset(nops, 1, sizeof(nops));
	memset(rr39, 0x99, sizeof(rr39));
	memset(rr39, 0, 39);
	rr39[0] = 7;
	rr39[1] = 39;
	rr39[2] = 4;
	dt_setsockopt_int(t, r, IPPROTO_IP, IP_RECVOPTS, 1);
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, rr, sizeof(rr));
	send_retopts(t, u, r, "", 0);
	send_retopts(t, u, r, nops, 4);
	send_retopts(t, u, r, nops, 3);
	send_retopts(t, u, r, nops, 44);
	send_retopts(t, u, r, rr39, 44);
	send_retopts(t, u, r, (unsigned char[4]){ 7, 7, 3, 0 }, 4);
	send_retopts(t, u, r, (unsigned char[4]){ 25, 4, 0, 0 }, 4);
	/* The socket's own again. */
	send_with(t, u, r, &(struct optcase){ { 7, 11, 4 }, 11 });
	/* A ping socket checks it the same way. */
	send_retopts(t, p, r, (unsigned char[4]){ 7, 7, 3, 0 }, 4);
}

/*
 * Without CAP_NET_RAW (Linux's ip_options_get, ns_capable): the security
 * and unknown types and a timestamp's unknown flags are EINVAL, a source
 * route EPERM once it is well formed (Linux d3915a1f5a4b; a malformed
 * one EINVAL first), CIPSO EINVAL as ever; record route, timestamps,
 * router alert and NOPs are anyone's. The same for the IP_RETOPTS
 * message of a datagram (ip_cmsg_send) and on TCP.
 */
static void case_ipoptions_unprivileged(struct dt *t)
{
	static const unsigned char lsrr[12] = { 0x83, 11, 4, 127, 0, 0, 2,
						127, 0, 0, 3 };
	int r = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int s = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int p = dt_ping_socket(t);

	if (dt_cap_net_raw(t, false) < 0)
		return;
	for (size_t i = 0; i < sizeof(set_cases) / sizeof(set_cases[0]); i++) {
		set_and_read(t, u, &set_cases[i]);
		set_and_read(t, s, &set_cases[i]);
	}
	set_and_read(t, p, &set_cases[26]);
	set_and_read(t, p, &set_cases[35]);
	dt_setsockopt_int(t, r, IPPROTO_IP, IP_RECVOPTS, 1);
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, NULL, 0);
	send_retopts(t, u, r, lsrr, sizeof(lsrr));
	send_retopts(t, u, r, (unsigned char[4]){ 25, 4, 0, 0 }, 4);
	send_retopts(t, u, r, (unsigned char[4]){ 0x44, 4, 5, 2 }, 4);
	send_retopts(t, u, r, (unsigned char[4]){ 1, 7, 3, 4 }, 4);
	send_retopts(t, p, r, lsrr, sizeof(lsrr));
	dt_cap_net_raw(t, true);
	/* Back: the source route is taken again. */
	set_and_read(t, u, &set_cases[26]);
}

/* An echo and its reply through a ping socket, the request with RR or
 * TS: the reply's options as the ping socket reads them. */
static void case_ping_rr_ts(struct dt *t)
{
	static const struct optcase cs[] = {
		{ { 1, 7, 39, 4 }, 40 },
		{ { 0x44, 36, 5, 1 }, 36 },
		{ { 0x44, 20, 5, 0 }, 20 },
		{ { 1, 1, 1, 1 }, 4 },
	};
	struct sockaddr_in to = dt_sin("127.0.0.1", 0);
	struct sockaddr_in id = dt_sin("127.0.0.1", 4242);
	unsigned char echo[16] = { ICMP_ECHO, 0, 0, 0, 0, 0, 0, 1 };
	int p = dt_ping_socket(t);

	dt_bind(t, p, &id, sizeof(id));   /* the same identifier on both */

	dt_setsockopt_int(t, p, IPPROTO_IP, IP_RECVOPTS, 1);
	dt_setsockopt_int(t, p, IPPROTO_IP, IP_RETOPTS, 1);
	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++) {
		struct pollfd pf = { .fd = p, .events = POLLIN };

		dt_setsockopt(t, p, IPPROTO_IP, IP_OPTIONS, cs[i].b, cs[i].len);
		echo[7] = (unsigned char)(i + 1);
		dt_sendto(t, p, echo, sizeof(echo), 0, &to, sizeof(to));
		dt_poll(t, &pf, 1, 500);
		dt_recvmsg_noted(t, p, MSG_DONTWAIT, 32, 256);
	}
}

/* A port unreachable for a datagram with RR: the ICMP packet's own
 * options on the error queue, beside IP_RECVERR. */
static void case_errqueue_options(struct dt *t)
{
	static const unsigned char rr[11] = { 7, 11, 4 };
	struct sockaddr_in to = dt_sin("127.0.0.1", P2);
	struct pollfd p;
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_setsockopt_int(t, u, IPPROTO_IP, IP_RECVERR, 1);
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_RECVOPTS, 1);
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_RETOPTS, 1);
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, rr, sizeof(rr));
	dt_sendto(t, u, "hello", 5, 0, &to, sizeof(to));
	p = (struct pollfd){ .fd = u, .events = POLLIN };
	dt_poll(t, &p, 1, 500);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 512);
}

/* What fits under IP_PMTUDISC_DO with 16 option bytes on an MTU of 1500
 * (1456 bytes of payload), and a large datagram fragmented with them:
 * the receiver's IP_RECVOPTS is the first fragment's. */
static void case_fragment_options(struct dt *t)
{
	static const unsigned char o[16] = { 7, 7, 4, 0, 0, 0, 0, 0x9e, 4,
					     0x11, 0x22, 0x94, 4, 0, 0, 1 };
	static char big[3000];
	struct sockaddr_in to = dt_sin("127.0.0.1", P1);
	struct pollfd p;
	int r = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	if (dt_set_lo_mtu(t, 1500) < 0)
		return;
	dt_setsockopt_int(t, r, IPPROTO_IP, IP_RECVOPTS, 1);
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, o, sizeof(o));
	dt_sendto(t, u, big, sizeof(big), 0, &to, sizeof(to));
	p = (struct pollfd){ .fd = r, .events = POLLIN };
	dt_poll(t, &p, 1, 500);
	dt_recvmsg_noted(t, r, MSG_DONTWAIT, 4096, 256);
	dt_setsockopt_int(t, u, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO);
	dt_sendto(t, u, big, 1456, 0, &to, sizeof(to));
	dt_sendto(t, u, big, 1457, 0, &to, sizeof(to));
	dt_set_lo_mtu(t, 65536);
}

/* TCP's MSS makes room for the IP options of every segment: set before
 * connect() (the accepted socket echoes the SYN's), on an established
 * connection, and cleared; a listener's own are not inherited. */
static void tcp_with(struct dt *t, const struct optcase *c, int port)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", (uint16_t)port);
	unsigned char out[40];
	/* (A timestamp's times differ: its first word only.) */
	socklen_t l = c->b[0] == 0x44 ? 4 : sizeof(out);
	int lfd = dt_tcp_listener(t, (uint16_t)port);
	int cfd = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int s;

	dt_setsockopt(t, cfd, IPPROTO_IP, IP_OPTIONS, c->b, c->len);
	dt_connect(t, cfd, &to, sizeof(to));
	s = dt_accept(t, lfd, NULL, NULL);
	dt_getsockopt_int(t, cfd, IPPROTO_TCP, TCP_MAXSEG);
	dt_getsockopt_int(t, s, IPPROTO_TCP, TCP_MAXSEG);
	dt_getsockopt(t, s, IPPROTO_IP, IP_OPTIONS, out, &l);
	dt_write(t, cfd, "abc", 3);
	dt_read(t, s, out, 3);
	dt_close(t, s);
	dt_close(t, cfd);
	dt_close(t, lfd);
}

static void case_tcp_options_mss(struct dt *t)
{
	static const struct optcase cs[] = {
		{ { 0 }, 0 },
		{ { 1, 1, 1, 1 }, 4 },
		{ { 1, 7, 39, 4 }, 40 },
		{ { 0x44, 12, 5, 0 }, 12 },
	};
	static const unsigned char rr[12] = { 7, 11, 4 };
	unsigned char out[40];
	socklen_t l;
	int lfd, c, s;

	if (dt_set_lo_mtu(t, 1500) < 0)
		return;
	for (size_t i = 0; i < sizeof(cs) / sizeof(cs[0]); i++)
		tcp_with(t, &cs[i], P1 + 10 + (int)i);
	dt_tcp_pair(t, P1 + 20, &lfd, &c, &s);
	dt_getsockopt_int(t, c, IPPROTO_TCP, TCP_MAXSEG);
	dt_setsockopt(t, c, IPPROTO_IP, IP_OPTIONS, rr, sizeof(rr));
	dt_getsockopt_int(t, c, IPPROTO_TCP, TCP_MAXSEG);
	dt_setsockopt(t, c, IPPROTO_IP, IP_OPTIONS, NULL, 0);
	dt_getsockopt_int(t, c, IPPROTO_TCP, TCP_MAXSEG);
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, lfd);
	/* A listener's options: not the child's. */
	lfd = dt_tcp_listener(t, P1 + 21);
	dt_setsockopt(t, lfd, IPPROTO_IP, IP_OPTIONS, rr, sizeof(rr));
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	{
		struct sockaddr_in to = dt_sin("127.0.0.1", P1 + 21);

		dt_connect(t, c, &to, sizeof(to));
	}
	s = dt_accept(t, lfd, NULL, NULL);
	l = sizeof(out);
	dt_getsockopt(t, s, IPPROTO_IP, IP_OPTIONS, out, &l);
	dt_getsockopt_int(t, s, IPPROTO_TCP, TCP_MAXSEG);
	dt_set_lo_mtu(t, 65536);
}

/* connect() with options to a port nobody listens on: the reset (which
 * echoes them, test_ip_options) refuses it. */
static void case_tcp_options_rst(struct dt *t)
{
	static const unsigned char rr[12] = { 7, 11, 4 };
	struct sockaddr_in to = dt_sin("127.0.0.1", P2);
	int c = dt_socket(t, AF_INET, SOCK_STREAM, 0);

	dt_setsockopt(t, c, IPPROTO_IP, IP_OPTIONS, rr, sizeof(rr));
	dt_connect(t, c, &to, sizeof(to));
}

/* A source route over lo: set as root, the datagram goes to the first
 * hop and nothing arrives (the kernel's martian, ustack's drop). */
static void case_srr_send(struct dt *t)
{
	static const unsigned char lsrr[12] = { 0x83, 11, 4, 127, 0, 0, 2,
						127, 0, 0, 3 };
	struct sockaddr_in to = dt_sin("127.0.0.1", P1);
	struct pollfd p;
	int r = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	unsigned char out[40];
	socklen_t l = sizeof(out);

	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, lsrr, sizeof(lsrr));
	dt_getsockopt(t, u, IPPROTO_IP, IP_OPTIONS, out, &l);
	dt_sendto(t, u, "x", 1, 0, &to, sizeof(to));
	p = (struct pollfd){ .fd = r, .events = POLLIN };
	dt_poll(t, &p, 1, 200);
	dt_recvmsg_noted(t, r, MSG_DONTWAIT, 16, 0);
	/* Without a destination. */
	dt_send(t, u, "x", 1, 0);
}

/*
 * A datagram held by MSG_MORE keeps the options it started with (Linux's
 * ip_setup_cork copies them): IP_OPTIONS changed, or cleared, before the
 * datagram goes changes nothing of it.
 */
static void case_cork_keeps_options(struct dt *t)
{
	static const unsigned char rr[8] = { 7, 7, 4 };
	static const unsigned char rr2[12] = { 7, 11, 4 };
	struct sockaddr_in to = dt_sin("127.0.0.1", P1);
	struct pollfd p;
	int r = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_setsockopt_int(t, r, IPPROTO_IP, IP_RECVOPTS, 1);
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, rr, sizeof(rr));
	dt_sendto(t, u, "x", 1, MSG_MORE, &to, sizeof(to));
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, rr2, sizeof(rr2));
	dt_sendto(t, u, "y", 1, 0, &to, sizeof(to));
	p = (struct pollfd){ .fd = r, .events = POLLIN };
	dt_poll(t, &p, 1, 500);
	dt_recvmsg_noted(t, r, MSG_DONTWAIT, 16, 256);
	/* cleared while corked */
	dt_sendto(t, u, "x", 1, MSG_MORE, &to, sizeof(to));
	dt_setsockopt(t, u, IPPROTO_IP, IP_OPTIONS, NULL, 0);
	dt_sendto(t, u, "y", 1, 0, &to, sizeof(to));
	p = (struct pollfd){ .fd = r, .events = POLLIN };
	dt_poll(t, &p, 1, 500);
	dt_recvmsg_noted(t, r, MSG_DONTWAIT, 16, 256);
}

/* An IPv4 packet from 127.0.0.1 to 127.0.0.1: opts (optlen bytes, a
 * multiple of 4) and l4 (l4len bytes) of protocol proto. */
static void inject_opts(struct dt *t, uint8_t proto, const unsigned char *opts,
			size_t optlen, const unsigned char *l4, size_t l4len)
{
	unsigned char p[60 + 64];
	size_t hl = 20 + optlen;

	memset(p, 0, hl);
	p[0] = (unsigned char)(0x40 | hl / 4);
	p[2] = (unsigned char)((hl + l4len) >> 8);
	p[3] = (unsigned char)(hl + l4len);
	p[4] = 0x12;
	p[8] = 64;
	p[9] = proto;
	p[12] = p[16] = 127;
	p[15] = p[19] = 1;
	if (optlen)
		memcpy(p + 20, opts, optlen);
	memcpy(p + hl, l4, l4len);
	dt_inject_ip(t, p, hl + l4len);
}

/* The 16-bit one's complement sum of n bytes, added to sum. */
static uint32_t sum16(uint32_t sum, const unsigned char *b, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	return sum;
}

/* A TCP segment of 127.0.0.1:sport to 127.0.0.1:dport with one byte of
 * data (a segment with data is answered out of the window whatever
 * tcp_invalid_ratelimit says), flags and sequence numbers given, its
 * checksum made. */
static void inject_tcp(struct dt *t, uint16_t sport, uint16_t dport,
		       uint8_t flags, uint32_t seq, uint32_t ack,
		       const unsigned char *opts, size_t optlen)
{
	unsigned char th[21] = { 0 }, pseudo[12] = { 127, 0, 0, 1, 127, 0, 0, 1,
						     0, IPPROTO_TCP, 0, 21 };
	uint32_t sum;

	th[0] = (unsigned char)(sport >> 8);
	th[1] = (unsigned char)sport;
	th[2] = (unsigned char)(dport >> 8);
	th[3] = (unsigned char)dport;
	for (int i = 0; i < 4; i++) {
		th[4 + i] = (unsigned char)(seq >> (24 - 8 * i));
		th[8 + i] = (unsigned char)(ack >> (24 - 8 * i));
	}
	th[12] = 5 << 4;
	th[13] = flags;
	th[14] = 0xff;
	th[15] = 0xff;
	th[20] = 'z';
	sum = sum16(sum16(0, pseudo, sizeof(pseudo)), th, sizeof(th));
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	th[16] = (unsigned char)(~sum >> 8);
	th[17] = (unsigned char)~sum;
	inject_opts(t, IPPROTO_TCP, opts, optlen, th, sizeof(th));
}

/*
 * A TIME_WAIT socket's ACK (and the reset a listener sends for that ACK)
 * echoes the options of the segment it answers, not the connection's:
 * Linux's tcp_v4_send_ack and tcp_v4_send_reset hand the segment's
 * options to ip_send_unicast_reply, which echoes them (ip_options_echo).
 * The client (the side that closed first) sent its segments with record
 * route; its TIME_WAIT answers segments with record route, a timestamp
 * and none.
 */
static void case_timewait_ack_options(struct dt *t)
{
	static const unsigned char rr9[40] = { 7, 39, 4 };
	static const struct optcase seg[] = {
		{ { 7, 11, 4 }, 12 },          /* record route, 2 slots */
		{ { 0x44, 12, 5, 0 }, 12 },    /* timestamp, 2 slots */
		{ { 7, 7, 8, 10, 0, 0, 1 }, 8 },   /* record route, full */
		{ { 0 }, 0 },
	};

	for (size_t i = 0; i < sizeof(seg) / sizeof(seg[0]); i++) {
		uint16_t cp = (uint16_t)(P1 + 40 + 2 * i), sp = cp + 1;
		struct sockaddr_in a = dt_sin("127.0.0.1", cp);
		struct sockaddr_in to = dt_sin("127.0.0.1", sp);
		int l = dt_tcp_listener(t, sp);
		int c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
		int s;
		char b[4];

		/* The client closes first: its end waits in TIME_WAIT. */
		dt_bind(t, c, &a, sizeof(a));
		dt_setsockopt(t, c, IPPROTO_IP, IP_OPTIONS, rr9, sizeof(rr9));
		dt_connect(t, c, &to, sizeof(to));
		s = dt_accept(t, l, NULL, NULL);
		dt_close(t, c);
		dt_read(t, s, b, sizeof(b));
		dt_close(t, s);
		usleep(20000);
		/* A segment out of its window: an ACK answers, and the
		 * listener's reset answers that ACK (and ends the
		 * TIME_WAIT: one connection a segment). */
		dt_wire_start(t);
		inject_tcp(t, sp, cp, 0x18, 0x12345678, 1, seg[i].b,
			   seg[i].len);
		usleep(20000);
		dt_wire_note(t, IPPROTO_TCP);
		dt_close(t, l);
	}
}

/*
 * connect() on a socket whose IP_OPTIONS hold a source route, to
 * 0.0.0.0: TCP refuses it with EINVAL (Linux's tcp_v4_connect: no final
 * destination for the route's last slot); UDP and ping sockets connect
 * (ip4_datagram_connect asks nothing of the options). To a destination,
 * TCP's route is the first hop's (tcp_v4_connect routes to it): IP_MTU
 * is that route's MTU, which bounds the MSS too (a first hop on lo at
 * MTU 300, the destination on v0; timestamps off, whose room Linux
 * counts before the SYN-ACK); a UDP socket's IP_MTU stays its peer's.
 */
static void case_srr_connect(struct dt *t)
{
	static const unsigned char lsrr[12] = { 0x83, 11, 4, 10, 9, 0, 2,
						127, 0, 0, 3 };
	static const unsigned char lsrr_lo[12] = { 0x83, 11, 4, 127, 0, 0, 2,
						   10, 9, 0, 3 };
	struct sockaddr_in any = dt_sin("0.0.0.0", P1 + 50);
	struct sockaddr_in to = dt_sin("127.0.0.1", P1 + 50);
	struct sockaddr_in v0 = dt_sin("10.9.0.2", P1 + 50);
	int fd, types[] = { SOCK_STREAM | SOCK_NONBLOCK, SOCK_DGRAM };

	dt_add_link(t);
	for (size_t i = 0; i < 2; i++) {
		fd = dt_socket(t, AF_INET, types[i], 0);
		dt_setsockopt(t, fd, IPPROTO_IP, IP_OPTIONS, lsrr, sizeof(lsrr));
		dt_connect(t, fd, &any, sizeof(any));
		dt_getnames(t, fd);
		dt_close(t, fd);
	}
	fd = dt_ping_socket(t);
	dt_setsockopt(t, fd, IPPROTO_IP, IP_OPTIONS, lsrr, sizeof(lsrr));
	dt_connect(t, fd, &any, sizeof(any));
	dt_close(t, fd);
	fd = dt_socket(t, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	dt_setsockopt(t, fd, IPPROTO_IP, IP_OPTIONS, lsrr, sizeof(lsrr));
	dt_connect(t, fd, &to, sizeof(to));
	dt_getsockopt_int(t, fd, IPPROTO_IP, IP_MTU);
	dt_getnames(t, fd);
	dt_close(t, fd);
	fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	dt_setsockopt(t, fd, IPPROTO_IP, IP_OPTIONS, lsrr, sizeof(lsrr));
	dt_connect(t, fd, &to, sizeof(to));
	dt_getsockopt_int(t, fd, IPPROTO_IP, IP_MTU);
	dt_close(t, fd);
	if (dt_set_lo_mtu(t, 300) < 0)
		return;
	dt_sysctl(t, "net.ipv4.tcp_timestamps", "0");
	fd = dt_socket(t, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	dt_setsockopt(t, fd, IPPROTO_IP, IP_OPTIONS, lsrr_lo, sizeof(lsrr_lo));
	dt_connect(t, fd, &v0, sizeof(v0));
	dt_getsockopt_int(t, fd, IPPROTO_IP, IP_MTU);
	dt_getsockopt_int(t, fd, IPPROTO_TCP, TCP_MAXSEG);
	dt_close(t, fd);
	dt_sysctl(t, "net.ipv4.tcp_timestamps", "1");
	dt_set_lo_mtu(t, 65536);
}

/*
 * A parameter problem carries the echo of the options checked before the
 * bad one (Linux's __icmp_send echoes the ip_options that
 * ip_options_compile filled in up to the error), and quotes the header
 * as processed so far. UDP datagrams to a bound port, with a record
 * route then a second one; a timestamp then a record route with a bad
 * pointer; a bad first option; a record route with room then a bad
 * router alert; an unknown option (not echoed) and a record route before
 * a bad router alert; a timestamp of addresses and times before a CIPSO
 * option (refused: no CIPSO domain).
 */
static void case_parameter_problem_options(struct dt *t)
{
	static const struct optcase bad[] = {
		{ { 7, 7, 4, 0, 0, 0, 0, 7, 7, 4, 0, 0, 0, 0, 1, 1 }, 16 },
		{ { 0x44, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7, 3, 0, 0,
		    0, 0, 1 }, 20 },
		{ { 7, 7, 3, 0, 0, 0, 0, 1 }, 8 },
		{ { 7, 11, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0x94, 2, 1, 1, 1 }, 16 },
		{ { 25, 4, 1, 2, 7, 7, 4, 0, 0, 0, 0, 0x94, 2, 1, 1, 1 }, 16 },
		{ { 0x44, 12, 5, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 6, 0, 0,
		    0, 1, 0, 0 }, 20 },
	};
	unsigned char udp[9] = { 0x1c, 0xe8, 0, 0, 0, 9, 0, 0, 'p' };
	int r = dt_udp_bound(t, P1 + 43);

	udp[2] = (unsigned char)((P1 + 43) >> 8);
	udp[3] = (unsigned char)(P1 + 43);
	dt_wire_start(t);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		inject_opts(t, IPPROTO_UDP, bad[i].b, bad[i].len, udp,
			    sizeof(udp));
	usleep(20000);
	dt_wire_note(t, IPPROTO_ICMP);
	dt_recvmsg_noted(t, r, MSG_DONTWAIT, 16, 0);
}

static const struct dt_case cases[] = {
	DT_CASE(case_ipoptions_set_validation),
	DT_CASE(case_ipoptions_lengths),
	DT_CASE(case_ipoptions_unprivileged),
	DT_CASE(case_recvopts_retopts_flags),
	DT_CASE(case_udp_rr_ts),
	DT_CASE(case_retopts_cmsg_send),
	DT_CASE(case_ping_rr_ts),
	DT_CASE(case_errqueue_options),
	DT_CASE(case_fragment_options),
	DT_CASE(case_tcp_options_mss),
	DT_CASE(case_tcp_options_rst),
	DT_CASE(case_srr_send),
	DT_CASE(case_cork_keeps_options),
	DT_CASE(case_timewait_ack_options),
	DT_CASE(case_srr_connect),
	DT_CASE(case_parameter_problem_options),
};

int main(void)
{
	return dt_main("diff_ipoptions", cases, sizeof(cases) / sizeof(cases[0]));
}
