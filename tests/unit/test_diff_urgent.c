/*
 * test_diff_urgent.c - differential tests of TCP urgent data over loopback:
 * send(MSG_OOB), recv(MSG_OOB) and its errors, MSG_OOB|MSG_PEEK, reads
 * that stop at the mark, SIOCATMARK, SO_OOBINLINE (set and toggled), a
 * newer urgent byte replacing an unread one, urgent data at the start of
 * the stream, in the middle of a large send, after the peer's FIN and
 * behind a zero window, POLLPRI / select's exception set / EPOLLPRI, and
 * SIGURG to the owner set with F_SETOWN, F_SETOWN_EX (and read back with
 * F_GETOWN, F_GETOWN_EX).
 *
 * Each case runs on the kernel's sockets in a private network namespace
 * and on ustack (tests/lib/difftest.h); a case fails when the two
 * transcripts differ. Linux is the oracle. Each case has its own ports, as
 * the kernel side runs every case in one namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/difftest.h"
#include "ustack/ustack.h"

static bool on_ustack(struct dt *t)
{
	return dt_ct(t) == &ct_ustack;
}

static void poll1(struct dt *t, int fd)
{
	struct pollfd p = { .fd = fd,
			    .events = POLLIN | POLLPRI | POLLOUT | POLLRDHUP };

	dt_poll(t, &p, 1, 0);
}

static void atmark(struct dt *t, int fd)
{
	int v = -7;

	dt_ioctl(t, fd, SIOCATMARK, &v);
}

static void inq(struct dt *t, int fd)
{
	int v = -7;

	dt_ioctl(t, fd, FIONREAD, &v);
}

/* recvmsg, for msg_flags (MSG_OOB, MSG_TRUNC). */
static void recvmsg1(struct dt *t, int fd, size_t len, int flags)
{
	char buf[64];
	struct iovec iov = { buf, len };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

	dt_recvmsg(t, fd, &m, flags);
}

/* select() and epoll on fd, noted (descriptor numbers differ). */
static void select_epoll(struct dt *t, int fd)
{
	struct timeval tv = { 0, 0 };
	fd_set r, w, x;
	struct epoll_event ev = { .events = EPOLLIN | EPOLLPRI };
	int n, ep;

	FD_ZERO(&r);
	FD_ZERO(&w);
	FD_ZERO(&x);
	FD_SET(fd, &r);
	FD_SET(fd, &x);
	n = on_ustack(t) ? us_select(fd + 1, &r, &w, &x, &tv)
			 : select(fd + 1, &r, &w, &x, &tv);
	dt_note(t, "select: %d read=%d except=%d", n, FD_ISSET(fd, &r) != 0,
		FD_ISSET(fd, &x) != 0);
	ep = on_ustack(t) ? us_epoll_create1(0) : epoll_create1(0);
	if (on_ustack(t))
		us_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	else
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	memset(&ev, 0, sizeof(ev));
	n = on_ustack(t) ? us_epoll_wait(ep, &ev, 1, 0)
			 : epoll_wait(ep, &ev, 1, 0);
	dt_note(t, "epoll: %d events=%#x", n, n == 1 ? ev.events : 0);
	if (on_ustack(t))
		us_close(ep);
	else
		close(ep);
}

/* ---- the basics ------------------------------------------------------------ */

static void case_oob_basic(struct dt *t)
{
	char buf[16];
	int l, c, s;

	dt_tcp_pair(t, 7101, &l, &c, &s);
	poll1(t, s);
	atmark(t, s);
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB);   /* none yet: EINVAL */
	dt_send(t, c, "abcX", 4, MSG_OOB);
	poll1(t, s);
	select_epoll(t, s);
	atmark(t, s);
	inq(t, s);
	/* The read stops at the mark. */
	dt_recv(t, s, buf, sizeof(buf), 0);
	atmark(t, s);
	inq(t, s);
	poll1(t, s);
	recvmsg1(t, s, sizeof(buf), MSG_OOB);
	recvmsg1(t, s, sizeof(buf), MSG_OOB);       /* read already */
	poll1(t, s);
	select_epoll(t, s);
	atmark(t, s);
	inq(t, s);
	/* The urgent byte is still in the stream, and is passed over. */
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	inq(t, s);
	atmark(t, s);
	dt_send(t, c, "tail", 4, 0);
	dt_recv(t, s, buf, sizeof(buf), 0);
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
}

static void case_oob_errors(struct dt *t)
{
	char buf[8];
	int l = dt_tcp_listener(t, 7111);
	int u = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int d = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int c, s;

	dt_recv(t, l, buf, sizeof(buf), MSG_OOB);
	atmark(t, l);
	dt_recv(t, u, buf, sizeof(buf), MSG_OOB);
	dt_recv(t, u, buf, sizeof(buf), MSG_OOB | MSG_PEEK);
	atmark(t, u);
	dt_send(t, u, "x", 1, MSG_OOB | MSG_NOSIGNAL);
	dt_send(t, u, "x", 1, MSG_OOB);
	dt_recv(t, d, buf, sizeof(buf), MSG_OOB | MSG_DONTWAIT);
	dt_send(t, d, "x", 1, MSG_OOB);
	atmark(t, d);
	dt_close(t, l);
	dt_tcp_pair(t, 7112, &l, &c, &s);
	/* Nothing sent: no urgent mark, no byte to take. */
	dt_send(t, c, "", 0, MSG_OOB);
	atmark(t, s);
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
	dt_send(t, c, "Z", 1, MSG_OOB);
	/* A zero-length MSG_OOB read takes the byte all the same. */
	recvmsg1(t, s, 0, MSG_OOB);
	recvmsg1(t, s, sizeof(buf), MSG_OOB);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	/* MSG_TRUNC: taken, not copied. */
	dt_send(t, c, "Y", 1, MSG_OOB);
	recvmsg1(t, s, sizeof(buf), MSG_OOB | MSG_TRUNC);
	recvmsg1(t, s, sizeof(buf), MSG_OOB);
	atmark(t, s);
	dt_shutdown(t, c, SHUT_RDWR);
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
	dt_recv(t, s, buf, sizeof(buf), 0);
}

static void case_oob_start(struct dt *t)
{
	char buf[16];
	int l, c, s;

	dt_tcp_pair(t, 7121, &l, &c, &s);
	dt_send(t, c, "!", 1, MSG_OOB);
	dt_send(t, c, "data", 4, 0);
	atmark(t, s);
	poll1(t, s);
	inq(t, s);
	/* Read without taking the urgent byte first: it is skipped, and
	 * gone. */
	dt_recv(t, s, buf, sizeof(buf), 0);
	atmark(t, s);
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
	poll1(t, s);
}

static void case_oob_peek(struct dt *t)
{
	char buf[16];
	int l, c, s;

	dt_tcp_pair(t, 7131, &l, &c, &s);
	dt_send(t, c, "abcX", 4, MSG_OOB);
	dt_send(t, c, "def", 3, 0);
	recvmsg1(t, s, sizeof(buf), MSG_OOB | MSG_PEEK);
	recvmsg1(t, s, sizeof(buf), MSG_OOB | MSG_PEEK);
	/* A peek stops at the mark too. */
	dt_recv(t, s, buf, sizeof(buf), MSG_PEEK);
	dt_recv(t, s, buf, 2, 0);
	dt_recv(t, s, buf, sizeof(buf), MSG_PEEK);
	dt_recv(t, s, buf, sizeof(buf), 0);
	atmark(t, s);
	/* At the mark, a peek passes over the urgent byte, and leaves it. */
	dt_recv(t, s, buf, sizeof(buf), MSG_PEEK);
	atmark(t, s);
	recvmsg1(t, s, sizeof(buf), MSG_OOB | MSG_PEEK);
	recvmsg1(t, s, sizeof(buf), MSG_OOB);
	recvmsg1(t, s, sizeof(buf), MSG_OOB | MSG_PEEK);
	dt_recv(t, s, buf, sizeof(buf), MSG_PEEK);
	atmark(t, s);
	dt_recv(t, s, buf, sizeof(buf), 0);
	atmark(t, s);
}

/* Reading past the mark without MSG_OOB forgets the urgent byte. */
static void case_oob_read_past(struct dt *t)
{
	char buf[16];
	int l, c, s;

	dt_tcp_pair(t, 7141, &l, &c, &s);
	dt_send(t, c, "abcX", 4, MSG_OOB);
	dt_send(t, c, "def", 3, 0);
	dt_recv(t, s, buf, sizeof(buf), 0);
	atmark(t, s);
	poll1(t, s);
	dt_recv(t, s, buf, sizeof(buf), 0);
	atmark(t, s);
	poll1(t, s);
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
	/* MSG_WAITALL still stops at a mark. */
	dt_send(t, c, "12Q", 3, MSG_OOB);
	dt_send(t, c, "345", 3, 0);
	dt_recv(t, s, buf, 6, MSG_WAITALL);
	atmark(t, s);
	dt_recv(t, s, buf, 3, MSG_WAITALL);
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
}

/* ---- several urgent bytes ---------------------------------------------------- */

static void case_two_urgent_adjacent(struct dt *t)
{
	char buf[16];
	int l, c, s;

	dt_tcp_pair(t, 7151, &l, &c, &s);
	dt_send(t, c, "A", 1, MSG_OOB);
	dt_send(t, c, "B", 1, MSG_OOB);
	atmark(t, s);
	inq(t, s);
	poll1(t, s);
	recvmsg1(t, s, sizeof(buf), MSG_OOB);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	atmark(t, s);
	inq(t, s);
}

static void case_two_urgent_apart(struct dt *t)
{
	char buf[16];
	int l, c, s;

	dt_tcp_pair(t, 7161, &l, &c, &s);
	dt_send(t, c, "1A", 2, MSG_OOB);
	dt_send(t, c, "2B", 2, MSG_OOB);
	atmark(t, s);
	inq(t, s);
	recvmsg1(t, s, sizeof(buf), MSG_OOB);
	/* The older urgent byte is ordinary data now. */
	dt_recv(t, s, buf, sizeof(buf), 0);
	atmark(t, s);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	/* Again, with the first already read out of band. */
	dt_send(t, c, "3C", 2, MSG_OOB);
	dt_recv(t, s, buf, 1, 0);
	recvmsg1(t, s, sizeof(buf), MSG_OOB);
	dt_send(t, c, "4D", 2, MSG_OOB);
	atmark(t, s);
	recvmsg1(t, s, sizeof(buf), MSG_OOB);
	dt_recv(t, s, buf, sizeof(buf), 0);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	/* The reader at the first mark, unread, when the second comes. */
	dt_send(t, c, "5E", 2, MSG_OOB);
	dt_recv(t, s, buf, sizeof(buf), 0);
	atmark(t, s);
	dt_send(t, c, "6F", 2, MSG_OOB);
	atmark(t, s);
	inq(t, s);
	recvmsg1(t, s, sizeof(buf), MSG_OOB);
	dt_recv(t, s, buf, sizeof(buf), 0);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
}

/* ---- SO_OOBINLINE ------------------------------------------------------------- */

static void case_oobinline(struct dt *t)
{
	char buf[16];
	int l, c, s;

	dt_tcp_pair(t, 7171, &l, &c, &s);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_OOBINLINE, 1);
	dt_send(t, c, "abcX", 4, MSG_OOB);
	dt_send(t, c, "def", 3, 0);
	poll1(t, s);
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
	dt_recv(t, s, buf, sizeof(buf), 0);
	atmark(t, s);
	poll1(t, s);
	dt_recv(t, s, buf, sizeof(buf), MSG_PEEK);
	dt_recv(t, s, buf, sizeof(buf), 0);
	atmark(t, s);
	/* Toggled off while an urgent byte waits: it is out of band again. */
	dt_send(t, c, "ghY", 3, MSG_OOB);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_OOBINLINE, 0);
	dt_recv(t, s, buf, sizeof(buf), 0);
	recvmsg1(t, s, sizeof(buf), MSG_OOB);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	/* And on again, with the reader at the mark. */
	dt_send(t, c, "ijZ", 3, MSG_OOB);
	dt_recv(t, s, buf, sizeof(buf), 0);
	dt_setsockopt_int(t, s, SOL_SOCKET, SO_OOBINLINE, 1);
	atmark(t, s);
	poll1(t, s);
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
	dt_recv(t, s, buf, sizeof(buf), 0);
	dt_getsockopt_int(t, s, SOL_SOCKET, SO_OOBINLINE);
}

/* ---- where the urgent byte is ------------------------------------------------- */

static char big[100000];

/* Read until the mark (or EOF / error), noting how much came before it. */
static void read_to_mark(struct dt *t, int s)
{
	const struct calltable *ct = dt_ct(t);
	char buf[4096];
	size_t total = 0;
	int at = 0, e = errno;

	for (int i = 0; i < 10000; i++) {
		ssize_t n;

		if (ct->ioctl(s, SIOCATMARK, &at) < 0 || at)
			break;
		n = ct->recv(s, buf, sizeof(buf), 0);
		if (n <= 0)
			break;
		for (ssize_t k = 0; k < n; k++)
			if (buf[k] != big[(total + (size_t)k) % sizeof(big)])
				dt_note(t, "byte %zu differs", total + (size_t)k);
		total += (size_t)n;
	}
	errno = e;
	dt_note(t, "read %zu bytes to the mark (at mark: %d)", total, at);
}

static void fill_big(void)
{
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 23);
}

static void case_oob_in_large_send(struct dt *t)
{
	struct timeval tv = { 10, 0 };
	char buf[16];
	int l, c, s;

	fill_big();
	dt_tcp_pair(t, 7181, &l, &c, &s);
	dt_setsockopt(t, s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	dt_send(t, c, big, 30000, 0);
	/* The last byte of this send is urgent: 70000 bytes further. */
	dt_send(t, c, big + 30000, 70000, MSG_OOB);
	read_to_mark(t, s);
	atmark(t, s);
	recvmsg1(t, s, sizeof(buf), MSG_OOB);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
}

static void case_oob_after_fin(struct dt *t)
{
	char buf[16];
	int l, c, s;

	dt_tcp_pair(t, 7191, &l, &c, &s);
	dt_send(t, c, "abcX", 4, MSG_OOB);
	dt_shutdown(t, c, SHUT_WR);
	poll1(t, s);
	dt_recv(t, s, buf, sizeof(buf), 0);
	atmark(t, s);
	recvmsg1(t, s, sizeof(buf), MSG_OOB | MSG_PEEK);
	poll1(t, s);
	dt_recv(t, s, buf, sizeof(buf), 0);
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
	poll1(t, s);
	/* The byte unread, the FIN after it. */
	dt_send(t, s, "Q", 1, MSG_OOB);
	dt_shutdown(t, s, SHUT_WR);
	recvmsg1(t, c, sizeof(buf), MSG_OOB);
	recvmsg1(t, c, sizeof(buf), MSG_OOB);
	dt_recv(t, c, buf, sizeof(buf), 0);
	dt_recv(t, c, buf, sizeof(buf), 0);
	dt_recv(t, c, buf, sizeof(buf), MSG_OOB);
}

/*
 * The sender's urgent byte waits behind a full receive buffer. What goes
 * on the wire meanwhile depends on timers (window probes): only what the
 * reader finds afterwards is compared.
 */
static void case_oob_zero_window(struct dt *t)
{
	const struct calltable *ct = dt_ct(t);
	struct timeval tv = { 10, 0 };
	struct sockaddr_in a = dt_sin("127.0.0.1", 7201);
	char buf[16];
	int l, c, s, e;
	ssize_t sent = 0;

	fill_big();
	l = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_setsockopt_int(t, l, SOL_SOCKET, SO_REUSEADDR, 1);
	dt_setsockopt_int(t, l, SOL_SOCKET, SO_RCVBUF, 4096);
	dt_bind(t, l, &a, sizeof(a));
	dt_listen(t, l, 8);
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_setsockopt_int(t, c, SOL_SOCKET, SO_SNDBUF, 1 << 20);
	dt_connect(t, c, &a, sizeof(a));
	s = dt_accept(t, l, NULL, NULL);
	dt_setsockopt(t, s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* More than the receiver takes: the rest waits in c. */
	e = errno;
	while (sent < 40000) {
		ssize_t n = ct->send(c, big + sent, (size_t)(40000 - sent),
				     MSG_DONTWAIT);

		if (n <= 0)
			break;
		sent += n;
	}
	errno = e;
	dt_note(t, "sent %zd", sent);
	dt_send(t, c, "U", 1, MSG_OOB);
	big[40000] = 'U';
	read_to_mark(t, s);
	atmark(t, s);
	recvmsg1(t, s, sizeof(buf), MSG_OOB);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	atmark(t, s);
	big[40000] = (char)('a' + 40000 % 23);
}

/* connect(AF_UNSPEC) forgets the urgent state with the connection. */
static void case_oob_disconnect(struct dt *t)
{
	struct sockaddr un = { .sa_family = AF_UNSPEC };
	char buf[8];
	int l, c, s;

	dt_tcp_pair(t, 7221, &l, &c, &s);
	dt_send(t, c, "abX", 3, MSG_OOB);
	dt_recv(t, s, buf, sizeof(buf), 0);
	atmark(t, s);
	dt_connect(t, s, &un, sizeof(un));
	atmark(t, s);
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
	/* No POLLPRI (nor the old shutdown bits) either. Reconnecting after
	 * connect(AF_UNSPEC) is compared in test_diff_tcp.c. */
	poll1(t, s);
}

/* ---- SIGURG and the owner ---------------------------------------------------- */

static volatile sig_atomic_t sigurgs;

static void on_sigurg(int sig)
{
	(void)sig;
	sigurgs++;
}

static void getown_ex(struct dt *t, int fd)
{
	struct f_owner_ex ex = { -7, -7 };
	int rc = dt_fcntl(t, fd, F_GETOWN_EX, (long)&ex);

	if (rc == 0)
		dt_note(t, "owner_ex type %d pid %s", ex.type,
			ex.pid == 0 ? "0" : ex.pid == getpid() ? "self" :
			ex.pid == -getpid() ? "-self" : "other");
}

static void getown(struct dt *t, int fd)
{
	const struct calltable *ct = dt_ct(t);
	int e = errno;
	int rc = ct->fcntl(fd, F_GETOWN);

	dt_note(t, "F_GETOWN %s", rc == 0 ? "0" : rc == getpid() ? "self" :
		rc == -getpgrp() ? "-pgrp" : "other");
	errno = e;
}

static void urgent_and_count(struct dt *t, int c, int s, const char *what)
{
	char buf[4];
	int before = sigurgs;

	dt_send(t, c, what, 1, MSG_OOB);
	dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
	dt_note(t, "SIGURG %d", sigurgs - before);
}

static void case_sigurg(struct dt *t)
{
	struct sigaction sa, old;
	struct f_owner_ex ex;
	int l, c, s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigurg;
	sigaction(SIGURG, &sa, &old);
	dt_tcp_pair(t, 7211, &l, &c, &s);
	getown(t, s);
	getown_ex(t, s);
	/* No owner: no signal. */
	urgent_and_count(t, c, s, "a");
	dt_fcntl(t, s, F_SETOWN, getpid());
	getown(t, s);
	getown_ex(t, s);
	urgent_and_count(t, c, s, "b");
	ex.type = F_OWNER_TID;
	ex.pid = (pid_t)syscall(SYS_gettid);
	dt_fcntl(t, s, F_SETOWN_EX, (long)&ex);
	getown(t, s);
	getown_ex(t, s);
	urgent_and_count(t, c, s, "c");
	/* A process group. */
	dt_fcntl(t, s, F_SETOWN, -getpgrp());
	getown(t, s);
	getown_ex(t, s);
	urgent_and_count(t, c, s, "d");
	/* Bad owners. */
	dt_fcntl(t, s, F_SETOWN, 0x3fffffff);
	ex.type = 9;
	dt_fcntl(t, s, F_SETOWN_EX, (long)&ex);
	ex.type = F_OWNER_PID;
	ex.pid = 0x3fffffff;
	dt_fcntl(t, s, F_SETOWN_EX, (long)&ex);
	getown(t, s);
	/* A negative number names nothing to F_SETOWN_EX (Linux's
	 * find_vpid): ESRCH, whatever the type, and the owner stays. */
	ex.pid = -getpid();
	dt_fcntl(t, s, F_SETOWN_EX, (long)&ex);
	ex.type = F_OWNER_PGRP;
	ex.pid = -1;
	dt_fcntl(t, s, F_SETOWN_EX, (long)&ex);
	ex.type = F_OWNER_TID;
	dt_fcntl(t, s, F_SETOWN_EX, (long)&ex);
	getown(t, s);
	getown_ex(t, s);
	/* Owner 0: nobody again. */
	dt_fcntl(t, s, F_SETOWN, 0);
	getown(t, s);
	getown_ex(t, s);
	urgent_and_count(t, c, s, "e");
	/* The sender's socket has no owner: its peer's urgent data does
	 * not signal. An accepted socket does not inherit the listener's
	 * owner. */
	dt_fcntl(t, l, F_SETOWN, getpid());
	getown(t, c);
	sigaction(SIGURG, &old, NULL);
}

static const struct dt_case cases[] = {
	DT_CASE(case_oob_basic),
	DT_CASE(case_oob_errors),
	DT_CASE(case_oob_start),
	DT_CASE(case_oob_peek),
	DT_CASE(case_oob_read_past),
	DT_CASE(case_two_urgent_adjacent),
	DT_CASE(case_two_urgent_apart),
	DT_CASE(case_oobinline),
	DT_CASE(case_oob_in_large_send),
	DT_CASE(case_oob_after_fin),
	DT_CASE(case_oob_zero_window),
	DT_CASE(case_oob_disconnect),
	DT_CASE(case_sigurg),
};

int main(void)
{
	return dt_main("diff_urgent", cases, sizeof(cases) / sizeof(cases[0]));
}
