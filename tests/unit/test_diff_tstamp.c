/*
 * test_diff_tstamp.c - differential tests of SO_TIMESTAMPING (Linux's
 * Documentation/networking/timestamping.rst): the option's values and
 * errors, software receive timestamps (SCM_TIMESTAMPING) on UDP and TCP,
 * and transmit timestamps read from the error queue
 * (recvmsg(MSG_ERRQUEUE): SCM_TSTAMP_SCHED, SCM_TSTAMP_SND and TCP's
 * SCM_TSTAMP_ACK, with OPT_ID's keys, OPT_TSONLY, OPT_CMSG), asked for by
 * the socket or by one send's control message (SO_TIMESTAMPING,
 * SCM_TS_OPT_ID); the paths a packet takes: a blocking write in pieces,
 * TCP_CORK, IP fragments, UDP_SEGMENT; IP_RECVERR turned off; an ICMP
 * error's entry; a socket that had SO_TIMESTAMP on.
 *
 * Every case is written once against the socket call table
 * (tests/lib/difftest.h) and run twice, on the kernel's sockets in a
 * private network namespace and on ustack; a case fails when the two
 * transcripts differ. Timestamps are not compared as numbers: each is
 * checked to be recent, in order with the one before it, and the unused
 * ones to be zero. DT_SHOW=1 prints agreeing transcripts too,
 * DT_CASE=pattern runs only the matching cases.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lib/difftest.h"

#define P1 5201
#define P2 5202
#define P3 5203

#ifndef SCM_TS_OPT_ID
#define SCM_TS_OPT_ID 81                    /* <asm/socket.h>, Linux 6.13 */
#endif
#define TS_OPT_ID_TCP (1 << 16)             /* SOF_TIMESTAMPING_OPT_ID_TCP */
#define TS_OPT_RX_FILTER (1 << 17)          /* ..._OPT_RX_FILTER, 6.12 */
#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
#define TS_TX (SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_TX_SCHED)

static const char hello[] = "hello";

/*
 * An error queue entry that holds a packet: what varies from run to run
 * (the IP identifier, sequence numbers, checksums) is left out. A frame
 * is summed up by its link header's type, its IP header's protocol and
 * total length and its ports; a shorter packet (TCP's payload) shown.
 */
static ssize_t recv_frame(struct dt *t, int fd, size_t buflen)
{
	unsigned char b[4096];
	char ctl[512] __attribute__((aligned(8)));
	struct iovec iov = { b, buflen };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = sizeof(ctl),
	};
	ssize_t rc = dt_ct(t)->recvmsg(fd, &m, MSG_ERRQUEUE);

	if (rc < 0) {
		dt_note(t, "recvmsg(errqueue) = -1 errno %d", errno);
		return rc;
	}
	dt_note(t, "recvmsg(errqueue) = %zd msg_flags %#x controllen %zu",
		rc, (unsigned)m.msg_flags, (size_t)m.msg_controllen);
	if (rc >= 14 + 20 + 4 && (size_t)rc <= buflen) {
		unsigned sp = b[34] << 8 | b[35], dp = b[36] << 8 | b[37];

		/* (An ephemeral port differs between the two.) */
		dt_note(t, "  frame: ethertype %02x%02x, ip version/ihl %#x "
			"proto %u totlen %u, ports %u -> %u", b[12], b[13],
			b[14], b[14 + 9], b[16] << 8 | b[17],
			sp >= 32768 ? 0 : sp, dp >= 32768 ? 0 : dp);
	}
	else
		dt_note(t, "  data: %.*s", (int)((size_t)rc < buflen ?
						(size_t)rc : buflen), b);
	dt_note_cmsgs(t, &m);
	return rc;
}

static int set_ts(struct dt *t, int fd, int flags)
{
	return dt_setsockopt_int(t, fd, SOL_SOCKET, SO_TIMESTAMPING, flags);
}

/*
 * Linux turns its receive stamping on in a work item after the first
 * socket asks (net_enable_timestamp's deferred static key), so a datagram
 * that arrives meanwhile has no time; on a loaded machine that can take
 * longer than any fixed pause. On the kernel's side, wait (at most 2 s,
 * outside the transcript) until a datagram of its own comes stamped; a
 * case calls this once one of its sockets asks, which keeps it on.
 */
static void kernel_stamping_on(struct dt *t)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int fd, on = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;

	if (dt_ct(t) != &ct_kernel)
		return;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &alen) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &on, sizeof(on)) < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	for (int i = 0; i < 100; i++) {
		char buf[8], ctl[256] __attribute__((aligned(8)));
		struct iovec iov = { buf, sizeof(buf) };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = ctl,
				    .msg_controllen = sizeof(ctl) };

		if (sendto(fd, "x", 1, 0, (struct sockaddr *)&a,
			   sizeof(a)) < 0)
			break;
		usleep(20000);
		if (recvmsg(fd, &m, 0) >= 0 && CMSG_FIRSTHDR(&m))
			break;
	}
	close(fd);
}

/* Wait (at most a second) for POLLERR, then read the error queue until
 * it is empty; each entry's messages noted (frame: entries with their
 * packet). */
static void drain_errqueue(struct dt *t, int fd, size_t buflen)
{
	struct pollfd p = { .fd = fd, .events = 0 };

	dt_ct(t)->poll(&p, 1, 1000);
	while (dt_recvmsg_noted(t, fd, MSG_ERRQUEUE, buflen, 512) >= 0)
		;
}

static void drain_frames(struct dt *t, int fd, size_t buflen)
{
	struct pollfd p = { .fd = fd, .events = 0 };

	dt_ct(t)->poll(&p, 1, 1000);
	while (recv_frame(t, fd, buflen) >= 0)
		;
}

/* ---- the option ------------------------------------------------------- */

/* Each flag alone, read back; the combinations Linux refuses; the
 * lengths it takes (an int, or struct so_timestamping) and gives. */
static void case_tstamp_option(struct dt *t)
{
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int v[2] = { 0, 0 };
	socklen_t len;

	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_TIMESTAMPING);
	for (int b = 0; b <= 20; b++) {
		set_ts(t, fd, 1 << b);
		dt_getsockopt_int(t, fd, SOL_SOCKET, SO_TIMESTAMPING);
	}
	set_ts(t, fd, TS_OPT_ID_TCP);
	set_ts(t, fd, TS_OPT_ID_TCP | SOF_TIMESTAMPING_OPT_ID);
	set_ts(t, fd, SOF_TIMESTAMPING_OPT_STATS);
	set_ts(t, fd, SOF_TIMESTAMPING_OPT_STATS | SOF_TIMESTAMPING_OPT_TSONLY);
	set_ts(t, fd, TS_OPT_RX_FILTER | SOF_TIMESTAMPING_RX_SOFTWARE);
	set_ts(t, fd, TS_OPT_RX_FILTER | SOF_TIMESTAMPING_SOFTWARE);
	set_ts(t, fd, -1);
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_TIMESTAMPING);
	/* Lengths: 3 is too short, 8 is the struct (bind_phc 0), 6 and 12
	 * an int. */
	v[0] = SOF_TIMESTAMPING_SOFTWARE;
	dt_setsockopt(t, fd, SOL_SOCKET, SO_TIMESTAMPING, v, 3);
	v[0] = SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE;
	dt_setsockopt(t, fd, SOL_SOCKET, SO_TIMESTAMPING, v, 8);
	v[0] = SOF_TIMESTAMPING_RX_SOFTWARE;
	dt_setsockopt(t, fd, SOL_SOCKET, SO_TIMESTAMPING, v, 6);
	len = sizeof(v);
	dt_getsockopt(t, fd, SOL_SOCKET, SO_TIMESTAMPING, v, &len);
	len = 2;
	dt_getsockopt(t, fd, SOL_SOCKET, SO_TIMESTAMPING, v, &len);
	/* BIND_PHC: no clock to bind to (not bound to a device). */
	v[0] = SOF_TIMESTAMPING_BIND_PHC;
	v[1] = 0;
	dt_setsockopt(t, fd, SOL_SOCKET, SO_TIMESTAMPING, v, 8);
	dt_setsockopt(t, fd, SOL_SOCKET, SO_TIMESTAMPING, v, 4);
	/* _OLD and _NEW: the one set decides what the other reads. */
	set_ts(t, fd, SOF_TIMESTAMPING_SOFTWARE);
	dt_setsockopt_int(t, fd, SOL_SOCKET, SO_TIMESTAMPING_NEW,
			  SOF_TIMESTAMPING_RX_SOFTWARE);
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_TIMESTAMPING_OLD);
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_TIMESTAMPING_NEW);
	dt_setsockopt_int(t, fd, SOL_SOCKET, SO_TIMESTAMPING_OLD,
			  SOF_TIMESTAMPING_SOFTWARE);
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_TIMESTAMPING_OLD);
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_TIMESTAMPING_NEW);
	dt_setsockopt(t, fd, SOL_SOCKET, SO_TIMESTAMPING, NULL, 4);
}

/* OPT_ID on TCP: refused before a connection exists and on a listener;
 * once set, setting it again needs no connection. */
static void case_tstamp_option_tcp(struct dt *t)
{
	int fd = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int l, c, s;

	set_ts(t, fd, SOF_TIMESTAMPING_OPT_ID);
	set_ts(t, fd, SOF_TIMESTAMPING_SOFTWARE);
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_TIMESTAMPING);
	dt_tcp_pair(t, P1, &l, &c, &s);
	set_ts(t, l, SOF_TIMESTAMPING_OPT_ID);
	set_ts(t, l, SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_TX_ACK);
	set_ts(t, c, SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_SOFTWARE);
	dt_getsockopt_int(t, c, SOL_SOCKET, SO_TIMESTAMPING);
	dt_shutdown(t, c, SHUT_RDWR);
	set_ts(t, c, SOF_TIMESTAMPING_OPT_ID | TS_OPT_ID_TCP);
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, l);
	dt_close(t, fd);
}

/* ---- receive timestamps ------------------------------------------------ */

/* SCM_TIMESTAMPING on a datagram: with RX_SOFTWARE and SOFTWARE; not
 * with either alone (SOFTWARE alone reports what the stack stamped
 * anyway: the socket's own SO_TIMESTAMP makes it stamp), beside
 * SO_TIMESTAMP's message, in the _NEW type. */
static void case_tstamp_udp_rx(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	static const int flags[] = {
		SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE,
		SOF_TIMESTAMPING_RX_SOFTWARE,
		SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_RAW_HARDWARE |
			SOF_TIMESTAMPING_RX_SOFTWARE,
		SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE |
			SOF_TIMESTAMPING_OPT_PKTINFO,
		0,
	};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		set_ts(t, s, flags[i]);
		if (i == 0)
			kernel_stamping_on(t);
		dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
		dt_recvmsg_noted(t, s, 0, 64, 512);
	}
	/* Beside SO_TIMESTAMP; then the _NEW kind. */
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_TIMESTAMP, 1);
	set_ts(t, s, flags[0]);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, s, 0, 64, 512);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_TIMESTAMP, 0);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_TIMESTAMPING_NEW, flags[0]);
	/* (flags[4] let the kernel's switch go off: on again, later) */
	kernel_stamping_on(t);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, s, 0, 64, 512);
	dt_getsockopt_int(t, s, SOL_SOCKET, SO_TIMESTAMP_NEW);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_TIMESTAMP_OLD, 1);
	dt_getsockopt_int(t, s, SOL_SOCKET, SO_TIMESTAMPING_NEW);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, s, 0, 64, 512);
}

/* TCP: the arrival of the last segment a read took data from. */
static void case_tstamp_tcp_rx(struct dt *t)
{
	char big[3000];
	int l, c, s;

	memset(big, 'x', sizeof(big));
	dt_tcp_pair(t, P2, &l, &c, &s);
	set_ts(t, s, SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE);
	kernel_stamping_on(t);
	dt_write(t, c, hello, 5);
	dt_recvmsg_noted(t, s, 0, 64, 512);
	dt_write(t, c, big, sizeof(big));
	dt_write(t, c, hello, 5);
	usleep(50000);
	dt_recvmsg_noted(t, s, 0, 100, 512);
	dt_recvmsg_noted(t, s, MSG_PEEK, sizeof(big) + 5, 512);
	dt_recvmsg_noted(t, s, 0, sizeof(big) + 5, 512);
	set_ts(t, s, SOF_TIMESTAMPING_RX_SOFTWARE);
	dt_write(t, c, hello, 5);
	dt_recvmsg_noted(t, s, 0, 64, 512);
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, l);
}

/* ---- transmit timestamps ----------------------------------------------- */

/* UDP: SCHED then SND for each datagram, keyed 0, 1, 2 with OPT_ID;
 * POLLERR while any waits; EAGAIN once read. No payload (TSONLY). */
static void case_tstamp_udp_tx(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct pollfd p;
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	set_ts(t, u, TS_TX | SOF_TIMESTAMPING_SOFTWARE |
		     SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY);
	for (int i = 0; i < 3; i++)
		dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	p.fd = u;
	p.events = POLLIN | POLLOUT;
	dt_poll(t, &p, 1, 0);
	for (int i = 0; i < 7; i++)
		dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 512);
	dt_poll(t, &p, 1, 0);
	dt_recv(t, s, NULL, 0, MSG_DONTWAIT | MSG_TRUNC);
	/* Without SOFTWARE: the entries come, without a time. Without
	 * OPT_ID: key 0. SND alone. */
	set_ts(t, u, TS_TX | SOF_TIMESTAMPING_OPT_TSONLY);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	drain_errqueue(t, u, 64);
	set_ts(t, u, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
		     SOF_TIMESTAMPING_OPT_TSONLY);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	drain_errqueue(t, u, 64);
	/* OPT_ID set again keeps counting; off and on restarts at 0. */
	set_ts(t, u, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
		     SOF_TIMESTAMPING_OPT_TSONLY | SOF_TIMESTAMPING_OPT_ID);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	drain_errqueue(t, u, 64);
	dt_close(t, u);
	dt_close(t, s);
}

/* Without OPT_TSONLY the entry holds the frame as it left, from its link
 * header on; cut to the buffer given (MSG_TRUNC). OPT_CMSG adds the IP
 * control messages the socket asks for, and the offender's address. */
static void case_tstamp_udp_payload(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int s = dt_udp_bound(t, P1);
	int u = dt_udp_bound(t, P2);

	set_ts(t, u, TS_TX | SOF_TIMESTAMPING_SOFTWARE);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	recv_frame(t, u, 100);
	recv_frame(t, u, 10);
	set_ts(t, u, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
		     SOF_TIMESTAMPING_OPT_CMSG);
	dt_setsockopt_int(t, u, SOL_IP, IP_PKTINFO, 1);
	dt_setsockopt_int(t, u, SOL_IP, IP_RECVTTL, 1);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	recv_frame(t, u, 100);
	/* The same with TSONLY: no frame, so no IP messages. */
	set_ts(t, u, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
		     SOF_TIMESTAMPING_OPT_CMSG | SOF_TIMESTAMPING_OPT_TSONLY);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 100, 512);
	/* SO_TIMESTAMP's message comes with the entry too. */
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_TIMESTAMP, 1);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 100, 512);
	dt_close(t, u);
	dt_close(t, s);
}

/* What a device without a clock of its own reports: nothing for
 * TX_HARDWARE or TX_COMPLETION, though each send under OPT_ID still
 * takes its key. */
static void case_tstamp_no_report(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct pollfd p = { .events = POLLIN };
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	set_ts(t, u, SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_SOFTWARE |
		     SOF_TIMESTAMPING_RAW_HARDWARE | SOF_TIMESTAMPING_OPT_ID |
		     SOF_TIMESTAMPING_OPT_TSONLY);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	set_ts(t, u, (1 << 18) | SOF_TIMESTAMPING_SOFTWARE |
		     SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	usleep(20000);
	p.fd = u;
	dt_poll(t, &p, 1, 0);
	dt_recvmsg_noted(t, u, MSG_ERRQUEUE, 64, 512);
	set_ts(t, u, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
		     SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	drain_errqueue(t, u, 64);
	/* MSG_MORE: one datagram of two sends, keyed by the first. */
	dt_sendto(t, u, hello, 5, MSG_MORE, &a, sizeof(a));
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	drain_errqueue(t, u, 64);
	dt_close(t, u);
	dt_close(t, s);
}

static void send_ctl(struct dt *t, int fd, const struct sockaddr_in *to,
		     int type, uint32_t val, size_t len, int type2,
		     uint32_t val2)
{
	char ctl[64] __attribute__((aligned(8)));
	struct iovec iov = { (void *)hello, 5 };
	struct msghdr m = {
		.msg_name = (void *)to, .msg_namelen = to ? sizeof(*to) : 0,
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl, .msg_controllen = CMSG_SPACE(sizeof(val)),
	};
	struct cmsghdr *c = (struct cmsghdr *)ctl;

	memset(ctl, 0, sizeof(ctl));
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), &val, sizeof(val));
	if (type2) {
		c = (struct cmsghdr *)(ctl + CMSG_SPACE(sizeof(val)));
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = type2;
		c->cmsg_len = CMSG_LEN(sizeof(val2));
		memcpy(CMSG_DATA(c), &val2, sizeof(val2));
		m.msg_controllen += CMSG_SPACE(sizeof(val2));
	}
	dt_sendmsg(t, fd, &m, 0);
}

/* One send's own: SO_TIMESTAMPING's message replaces the socket's
 * transmit flags for that datagram (and takes nothing else);
 * SCM_TS_OPT_ID gives its key (only under OPT_ID; not on TCP). */
static void case_tstamp_sendmsg_cmsg(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int l, c, srv;

	set_ts(t, u, SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY);
	send_ctl(t, u, &a, SO_TIMESTAMPING, SOF_TIMESTAMPING_TX_SOFTWARE, 4,
		 0, 0);
	drain_errqueue(t, u, 64);
	send_ctl(t, u, &a, SO_TIMESTAMPING, SOF_TIMESTAMPING_SOFTWARE, 4, 0, 0);
	send_ctl(t, u, &a, SO_TIMESTAMPING, SOF_TIMESTAMPING_TX_SOFTWARE, 2,
		 0, 0);
	send_ctl(t, u, &a, SO_TIMESTAMPING, SOF_TIMESTAMPING_TX_SOFTWARE, 8,
		 0, 0);
	send_ctl(t, u, &a, SCM_TS_OPT_ID, 77, 4, 0, 0);
	/* The socket's flags turned off for one datagram. */
	set_ts(t, u, SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY |
		     TS_TX | SOF_TIMESTAMPING_OPT_ID);
	send_ctl(t, u, &a, SO_TIMESTAMPING, 0, 4, 0, 0);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	drain_errqueue(t, u, 64);
	send_ctl(t, u, &a, SCM_TS_OPT_ID, 77, 4, 0, 0);
	send_ctl(t, u, &a, SCM_TS_OPT_ID, 78, 2, 0, 0);
	send_ctl(t, u, &a, SO_TIMESTAMPING, SOF_TIMESTAMPING_TX_SCHED, 4,
		 SCM_TS_OPT_ID, 1000);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	drain_errqueue(t, u, 64);
	while (dt_ct(t)->recv(s, NULL, 0, MSG_DONTWAIT | MSG_TRUNC) >= 0)
		;
	/* TCP takes SO_TIMESTAMPING's message, not SCM_TS_OPT_ID's. */
	dt_tcp_pair(t, P3, &l, &c, &srv);
	set_ts(t, c, SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY |
		     SOF_TIMESTAMPING_OPT_ID);
	send_ctl(t, c, NULL, SCM_TS_OPT_ID, 5, 4, 0, 0);
	send_ctl(t, c, NULL, SO_TIMESTAMPING, SOF_TIMESTAMPING_TX_SOFTWARE |
		 SOF_TIMESTAMPING_TX_ACK, 4, 0, 0);
	drain_errqueue(t, c, 64);
	usleep(20000);
	drain_errqueue(t, c, 64);
	dt_close(t, c);
	dt_close(t, srv);
	dt_close(t, l);
	dt_close(t, u);
	dt_close(t, s);
}

/* TCP: SCHED, SND and ACK for the last byte of each write, keyed by its
 * offset from what was unacknowledged when OPT_ID was set (OPT_ID_TCP:
 * from what was written). */
static void case_tstamp_tcp_tx(struct dt *t)
{
	char buf[4096];
	int l, c, s;

	dt_tcp_pair(t, P2, &l, &c, &s);
	dt_write(t, c, hello, 5);
	set_ts(t, c, TS_TX | SOF_TIMESTAMPING_TX_ACK |
		     SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
		     SOF_TIMESTAMPING_OPT_TSONLY);
	dt_write(t, c, "abcdefghij", 10);
	drain_errqueue(t, c, 64);
	usleep(20000);
	drain_errqueue(t, c, 64);
	dt_write(t, c, "0123456789", 10);
	usleep(20000);
	drain_errqueue(t, c, 64);
	dt_read(t, s, buf, sizeof(buf));
	/* Without TSONLY: the frame for SCHED and SND, the payload for ACK. */
	set_ts(t, c, TS_TX | SOF_TIMESTAMPING_TX_ACK |
		     SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID);
	dt_write(t, c, hello, 5);
	usleep(20000);
	drain_frames(t, c, 200);
	dt_read(t, s, buf, sizeof(buf));
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, l);
}

/* ---- the paths a packet can take ----------------------------------------- */

/* A datagram cut into fragments (lo's MTU 1500): its reports come for the
 * first fragment, as Linux sends the datagram's own buffer first. */
static void case_tstamp_udp_fragments(struct dt *t)
{
	static char big[3000];
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int s, u;

	dt_set_lo_mtu(t, 1500);
	s = dt_udp_bound(t, P1);
	u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	set_ts(t, u, TS_TX | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
		     SOF_TIMESTAMPING_OPT_TSONLY);
	dt_sendto(t, u, big, sizeof(big), 0, &a, sizeof(a));
	drain_errqueue(t, u, 64);
	set_ts(t, u, TS_TX | SOF_TIMESTAMPING_SOFTWARE);
	dt_sendto(t, u, big, sizeof(big), 0, &a, sizeof(a));
	drain_frames(t, u, 4000);
	dt_close(t, u);
	dt_close(t, s);
	dt_set_lo_mtu(t, 65536);
}

/* TCP_CORK: two writes go as one packet, whose reports are the second
 * write's (lo's MTU 1500). */
static void case_tstamp_tcp_cork(struct dt *t)
{
	static char big[2896];
	char buf[8192];
	int l, c, s;

	memset(big, 'z', sizeof(big));
	dt_set_lo_mtu(t, 1500);
	dt_tcp_pair(t, P3, &l, &c, &s);
	set_ts(t, c, TS_TX | SOF_TIMESTAMPING_TX_ACK |
		     SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
		     SOF_TIMESTAMPING_OPT_TSONLY);
	dt_setsockopt_int(t, c, IPPROTO_TCP, TCP_CORK, 1);
	dt_write(t, c, big, sizeof(big));
	dt_write(t, c, hello, 5);
	dt_setsockopt_int(t, c, IPPROTO_TCP, TCP_CORK, 0);
	usleep(20000);
	drain_errqueue(t, c, 64);
	dt_read(t, s, buf, sizeof(buf));
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, l);
	dt_set_lo_mtu(t, 65536);
}

/* Turning IP_RECVERR off drops the errors queued, not the timestamp
 * reports (Linux's skb_errqueue_purge). */
static void case_tstamp_recverr_off(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	set_ts(t, u, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
		     SOF_TIMESTAMPING_OPT_TSONLY);
	dt_setsockopt_int(t, u, SOL_IP, IP_RECVERR, 1);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	usleep(20000);
	dt_setsockopt_int(t, u, SOL_IP, IP_RECVERR, 0);
	drain_errqueue(t, u, 64);
	dt_close(t, u);
	dt_close(t, s);
}

/* UDP_SEGMENT's packet on lo (which takes it whole): one report, for the
 * whole packet. */
static void case_tstamp_udp_gso(struct dt *t)
{
	static char big[3000];
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_setsockopt_int(t, u, IPPROTO_UDP, UDP_SEGMENT, 1000);
	set_ts(t, u, TS_TX | SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID);
	dt_sendto(t, u, big, sizeof(big), 0, &a, sizeof(a));
	drain_frames(t, u, 4000);
	dt_close(t, u);
	dt_close(t, s);
}

/* SO_TIMESTAMP on then off leaves the socket wanting receive timestamps
 * (Linux's SOCK_TIMESTAMP flag stays until it closes): SOFTWARE alone
 * then reports. Linux turns its switch on in a work item: the wait. This
 * case leaves the kernel's switch on for a while: it comes last. */
static void case_tstamp_rx_sticky(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	set_ts(t, s, SOF_TIMESTAMPING_SOFTWARE);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, s, 0, 64, 512);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_TIMESTAMP, 1);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_TIMESTAMP, 0);
	kernel_stamping_on(t);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_recvmsg_noted(t, s, 0, 64, 512);
	dt_close(t, u);
	dt_close(t, s);
}

/* An ICMP error's entry with SOFTWARE alone while nothing stamps: no
 * time (the error queue takes reports without RX_SOFTWARE, but this
 * entry has no time to report). As any case that needs the kernel's
 * switch off, it comes first. */
static void case_tstamp_icmp_error(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 5299);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_setsockopt_int(t, u, SOL_IP, IP_RECVERR, 1);
	set_ts(t, u, SOF_TIMESTAMPING_SOFTWARE);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	drain_errqueue(t, u, 64);
	dt_close(t, u);
}

/* One blocking write larger than the send buffer: one set of reports,
 * for its last byte (ustack sends it in pieces). */
static void case_tstamp_tcp_blocking(struct dt *t)
{
	static char big[50000];
	static char buf[200000];
	int l, c, s;

	dt_tcp_pair(t, P2, &l, &c, &s);
	dt_setsockopt_int(t, c, SOL_SOCKET, SO_SNDBUF, 4096);
	set_ts(t, c, TS_TX | SOF_TIMESTAMPING_TX_ACK |
		     SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
		     SOF_TIMESTAMPING_OPT_TSONLY);
	dt_write(t, c, big, sizeof(big));
	usleep(50000);
	drain_errqueue(t, c, 64);
	while (dt_ct(t)->recv(s, buf, sizeof(buf), MSG_DONTWAIT) > 0)
		;
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, l);
}

static const struct dt_case cases[] = {
	DT_CASE(case_tstamp_icmp_error),
	DT_CASE(case_tstamp_option),
	DT_CASE(case_tstamp_option_tcp),
	DT_CASE(case_tstamp_udp_rx),
	DT_CASE(case_tstamp_tcp_rx),
	DT_CASE(case_tstamp_udp_tx),
	DT_CASE(case_tstamp_udp_payload),
	DT_CASE(case_tstamp_no_report),
	DT_CASE(case_tstamp_sendmsg_cmsg),
	DT_CASE(case_tstamp_tcp_tx),
	DT_CASE(case_tstamp_tcp_blocking),
	DT_CASE(case_tstamp_tcp_cork),
	DT_CASE(case_tstamp_udp_fragments),
	DT_CASE(case_tstamp_udp_gso),
	DT_CASE(case_tstamp_recverr_off),
	DT_CASE(case_tstamp_rx_sticky),
};

int main(void)
{
	return dt_main("diff_tstamp", cases, sizeof(cases) / sizeof(cases[0]));
}
