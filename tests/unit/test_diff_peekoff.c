/*
 * test_diff_peekoff.c - differential tests of SO_PEEK_OFF: which sockets
 * take it (TCP and UDP; ping sockets refuse it, as raw ones, which ustack
 * does not have), its values and
 * lengths, what a child inherits, how peeks move it on and reads move it
 * back, on a stream (blocking and not, MSG_TRUNC, MSG_WAITALL, the urgent
 * byte, the end of the stream, a disconnect) and on datagrams (an offset
 * into one, past several, datagrams of no bytes, MSG_TRUNC).
 *
 * Each case runs on the kernel's sockets in a private network namespace
 * and on ustack (tests/lib/difftest.h); a case fails when the two
 * transcripts differ. Linux is the oracle. Each case has its own ports, as
 * the kernel side runs every case in one namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/difftest.h"
#include "ustack/ustack.h"

/* A peek and a read of n bytes, each noted with its flags and data. */
static void peek(struct dt *t, int fd, size_t n, int flags)
{
	dt_recvmsg_noted(t, fd, MSG_PEEK | MSG_DONTWAIT | flags, n, 0);
}

static void take(struct dt *t, int fd, size_t n, int flags)
{
	dt_recvmsg_noted(t, fd, MSG_DONTWAIT | flags, n, 0);
}

static void offset(struct dt *t, int fd)
{
	dt_getsockopt_int(t, fd, SOL_SOCKET, SO_PEEK_OFF);
}

/* The option on every kind of socket: the default, values at the edges of
 * an int (negative ones turn it off, and read back as given), short
 * lengths, and the sockets that have no offset to keep. */
static void case_peekoff_option(struct dt *t)
{
	static const int vals[] = { 0, 5, -1, -5, INT_MAX, INT_MIN, 0 };
	static const socklen_t lens[] = { 0, 2, 4, 8 };
	int tcp = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int udp = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int l = dt_tcp_listener(t, 7101);
	int ping;
	short sh = 3;

	ping = dt_ping_socket(t);

	offset(t, tcp);
	offset(t, udp);
	DT_SETGET(t, tcp, SOL_SOCKET, SO_PEEK_OFF, vals);
	DT_SETGET(t, udp, SOL_SOCKET, SO_PEEK_OFF, vals);
	DT_SETGET(t, l, SOL_SOCKET, SO_PEEK_OFF, vals);
	DT_GETLENS(t, tcp, SOL_SOCKET, SO_PEEK_OFF, lens);
	dt_setsockopt(t, tcp, SOL_SOCKET, SO_PEEK_OFF, &sh, sizeof(sh));
	offset(t, tcp);
	offset(t, ping);
	dt_setsockopt_int(t, ping, SOL_SOCKET, SO_PEEK_OFF, 0);
}

/* A stream: peeks move on, reads move back (not below 0), a peek past
 * the data finds none, and new data is found there. */
static void case_peekoff_tcp(struct dt *t)
{
	int l, c, s;

	dt_tcp_pair(t, 7102, &l, &c, &s);
	dt_send(t, c, "abcdefghij", 10, 0);
	usleep(20000);
	peek(t, s, 3, 0);                      /* off: "abc" again */
	peek(t, s, 3, 0);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_PEEK_OFF, 0);
	peek(t, s, 3, 0);                      /* abc */
	peek(t, s, 3, 0);                      /* def */
	offset(t, s);
	take(t, s, 2, 0);                      /* ab; the offset 4 */
	offset(t, s);
	peek(t, s, 10, 0);                     /* ghij */
	offset(t, s);
	peek(t, s, 10, 0);                     /* none yet */
	dt_send(t, c, "klm", 3, 0);
	usleep(20000);
	peek(t, s, 10, 0);                     /* klm */
	offset(t, s);
	take(t, s, 4, 0);                      /* cdef */
	offset(t, s);
	peek(t, s, 2, MSG_TRUNC);              /* counted, not copied */
	offset(t, s);
	take(t, s, 20, 0);                     /* the rest: the offset 0 */
	offset(t, s);
	/* An offset set past the data: a peek waits for it. */
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_PEEK_OFF, 5);
	dt_send(t, c, "nop", 3, 0);
	usleep(20000);
	peek(t, s, 10, 0);
	dt_send(t, c, "qrstu", 5, 0);
	usleep(20000);
	peek(t, s, 10, 0);                     /* stu */
	offset(t, s);
	/* Off again: every peek from the start. */
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_PEEK_OFF, -1);
	peek(t, s, 4, 0);
	take(t, s, 4, 0);
	offset(t, s);
	/* Past the data once the peer's FIN came: the end, 0. */
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_PEEK_OFF, 20);
	dt_shutdown(t, c, SHUT_WR);
	usleep(20000);
	peek(t, s, 10, 0);
	offset(t, s);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_PEEK_OFF, 2);
	peek(t, s, 10, 0);
	offset(t, s);
	take(t, s, 10, 0);
	offset(t, s);
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, l);
}

/* Blocking peeks with an offset: MSG_WAITALL waits for its length past
 * the offset; a peek with nothing past the offset times out. A child
 * starts with the listener's offset; a disconnect turns it off. */
static void case_peekoff_tcp_wait(struct dt *t)
{
	struct timeval tv = { 0, 100000 };
	struct sockaddr_in a = dt_sin("127.0.0.1", 7103);
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	int l = dt_tcp_listener(t, 7103);
	int c, s;

	dt_setsockopt_int(t, l, SOL_SOCKET, SO_PEEK_OFF, 2);
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_connect(t, c, &a, sizeof(a));
	s = dt_accept(t, l, NULL, NULL);
	offset(t, s);
	offset(t, c);
	dt_setsockopt(t, s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	dt_send(t, c, "abcd", 4, 0);
	usleep(20000);
	/* Two past the offset of 2, then four: the wait ends in time with
	 * what there is. */
	dt_recvmsg_noted(t, s, MSG_PEEK | MSG_WAITALL, 2, 0);
	offset(t, s);
	dt_recvmsg_noted(t, s, MSG_PEEK | MSG_WAITALL, 4, 0);
	offset(t, s);
	dt_recvmsg_noted(t, s, MSG_PEEK, 4, 0);
	offset(t, s);
	dt_send(t, c, "efgh", 4, 0);
	usleep(20000);
	dt_recvmsg_noted(t, s, MSG_PEEK, 8, 0);
	offset(t, s);
	dt_connect(t, s, &unspec, sizeof(unspec));
	offset(t, s);
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, l);
}

/* The urgent byte, out of band: a peek at the mark passes over it, and
 * the offset moves by the bytes returned only. */
static void case_peekoff_urgent(struct dt *t)
{
	int l, c, s, v = -7;

	dt_tcp_pair(t, 7104, &l, &c, &s);
	dt_send(t, c, "abc", 3, 0);
	dt_send(t, c, "!", 1, MSG_OOB);
	dt_send(t, c, "defg", 4, 0);
	usleep(20000);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_PEEK_OFF, 1);
	peek(t, s, 10, 0);                     /* bc: stops at the mark */
	offset(t, s);
	peek(t, s, 10, 0);                     /* defg, the byte passed */
	offset(t, s);
	peek(t, s, 10, 0);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_PEEK_OFF, 0);
	peek(t, s, 10, 0);
	dt_ioctl(t, s, SIOCATMARK, &v);
	take(t, s, 10, 0);
	offset(t, s);
	take(t, s, 1, MSG_OOB);
	take(t, s, 10, 0);
	offset(t, s);
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, l);
}

/* Datagrams: a peek at an offset goes past the datagrams that end at or
 * before it and into the one it falls in; one of no bytes is peeked at
 * once, then passed over; a read moves the offset back by what it
 * returned, MSG_TRUNC by the whole datagram. */
static void case_peekoff_udp(struct dt *t)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", 7105);
	int r = dt_udp_bound(t, 7105);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_sendto(t, u, "aaaaa", 5, 0, &to, sizeof(to));
	dt_sendto(t, u, "", 0, 0, &to, sizeof(to));
	dt_sendto(t, u, "bbbbbbbb", 8, 0, &to, sizeof(to));
	dt_sendto(t, u, "cc", 2, 0, &to, sizeof(to));
	usleep(20000);
	dt_setsockopt_int(t, r, SOL_SOCKET, SO_PEEK_OFF, 0);
	peek(t, r, 3, 0);                      /* aaa, truncated */
	offset(t, r);
	peek(t, r, 2, 0);                      /* aa: the rest, truncated */
	offset(t, r);
	peek(t, r, 64, 0);                     /* the empty one */
	offset(t, r);
	peek(t, r, 64, 0);                     /* bbbbbbbb */
	offset(t, r);
	peek(t, r, 3, MSG_TRUNC);              /* cc, as its length, 2 */
	offset(t, r);
	peek(t, r, 64, 0);                     /* none */
	dt_setsockopt_int(t, r, SOL_SOCKET, SO_PEEK_OFF, 9);
	peek(t, r, 64, MSG_TRUNC);             /* bbbb at 4: returns 8 */
	offset(t, r);
	take(t, r, 2, 0);                      /* aa of aaaaa: back by 2 */
	offset(t, r);
	take(t, r, 64, 0);                     /* the empty one */
	offset(t, r);
	take(t, r, 1, MSG_TRUNC);              /* b, returns 8 */
	offset(t, r);
	dt_setsockopt_int(t, r, SOL_SOCKET, SO_PEEK_OFF, 1);
	peek(t, r, 64, 0);                     /* c */
	offset(t, r);
	take(t, r, 64, 0);
	offset(t, r);
	peek(t, r, 64, 0);
	dt_close(t, u);
	dt_close(t, r);
}

/* An empty datagram under an offset of 0 at the head of the queue, and
 * after reading through the offset; SIOCINQ and FIONREAD stay the next
 * datagram's. */
static void case_peekoff_udp_empty(struct dt *t)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", 7106);
	int r = dt_udp_bound(t, 7106);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int v = -7;

	dt_sendto(t, u, "", 0, 0, &to, sizeof(to));
	dt_sendto(t, u, "", 0, 0, &to, sizeof(to));
	dt_sendto(t, u, "xyz", 3, 0, &to, sizeof(to));
	usleep(20000);
	dt_setsockopt_int(t, r, SOL_SOCKET, SO_PEEK_OFF, 0);
	peek(t, r, 64, 0);
	peek(t, r, 64, 0);
	peek(t, r, 64, 0);
	offset(t, r);
	dt_ioctl(t, r, FIONREAD, &v);
	peek(t, r, 64, 0);
	take(t, r, 64, 0);
	take(t, r, 64, 0);
	offset(t, r);
	dt_setsockopt_int(t, r, SOL_SOCKET, SO_PEEK_OFF, 0);
	peek(t, r, 1, 0);
	take(t, r, 64, 0);
	offset(t, r);
	dt_close(t, u);
	dt_close(t, r);
}

static const struct dt_case cases[] = {
	DT_CASE(case_peekoff_option),
	DT_CASE(case_peekoff_tcp),
	DT_CASE(case_peekoff_tcp_wait),
	DT_CASE(case_peekoff_urgent),
	DT_CASE(case_peekoff_udp),
	DT_CASE(case_peekoff_udp_empty),
};

int main(void)
{
	return dt_main("diff_peekoff", cases, sizeof(cases) / sizeof(cases[0]));
}
