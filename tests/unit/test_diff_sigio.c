/*
 * test_diff_sigio.c - differential tests of signal-driven I/O: O_ASYNC
 * (fcntl F_SETFL, ioctl FIOASYNC), F_SETSIG / F_GETSIG, and which signals
 * the socket's owner (F_SETOWN, F_SETOWN_EX) receives, with which si_code,
 * si_band and si_fd: TCP data arriving, a connection made (connect) or
 * ready to accept (a listener), room to write after a full send buffer,
 * the peer's FIN (half close: POLL_IN; after our own: POLL_HUP), a RST and
 * a refused connect (POLL_ERR), urgent data (SIGURG and POLL_PRI); UDP
 * datagrams arriving and an ICMP error on a connected socket; and nothing
 * without O_ASYNC or without an owner.
 *
 * The signals are blocked while a case runs and taken with sigtimedwait
 * after each step, lowest number first and real-time ones in order, as
 * the kernel hands them out; each is one line of the transcript. Each
 * case runs on the kernel's sockets in a private network namespace and on
 * ustack (tests/lib/difftest.h); a case fails when the two transcripts
 * differ. Linux is the oracle.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/difftest.h"

/* The F_SETSIG signal the cases use (a real-time one: every event is
 * queued). */
#define RTSIG (SIGRTMIN + 4)

struct label {
	int fd;
	const char *name;
};

static sigset_t watched(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	sigaddset(&set, SIGURG);
	sigaddset(&set, RTSIG);
	return set;
}

/* Drop what is pending, unrecorded. */
static void discard(void)
{
	sigset_t set = watched();
	struct timespec zero = { 0, 0 };
	int e = errno;

	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	errno = e;
}

/*
 * Blocked for the case, and ignored for good: what a socket still sends
 * as the runner closes the case's descriptors (a RST, a FIN) must not
 * end the program (SIGIO's default action). A blocked signal is queued
 * all the same, ignored or not.
 */
static void begin(void)
{
	sigset_t set = watched();
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGIO, &sa, NULL);
	sigaction(RTSIG, &sa, NULL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	/* What the last side's closes sent is not this case's. */
	discard();
}

static const char *signame(int sig)
{
	if (sig == SIGIO)
		return "SIGIO";
	if (sig == SIGURG)
		return "SIGURG";
	if (sig == RTSIG)
		return "RTSIG";
	return "?";
}

static const char *fdname(const struct label *l, int n, int fd)
{
	for (int i = 0; i < n; i++)
		if (l[i].fd == fd)
			return l[i].name;
	return "?";
}

/*
 * Take every pending signal, one line each: the signal, si_code and, for
 * a signal with details (POLL_* or SI_SIGIO), si_band and the socket
 * si_fd names. `code` false: the signal alone (a process group's, whose
 * details ustack cannot always give).
 */
static void drain_as(struct dt *t, const struct label *l, int n, bool code)
{
	sigset_t set = watched();
	struct timespec zero = { 0, 0 };
	siginfo_t si;
	int e = errno, k = 0;

	while (sigtimedwait(&set, &si, &zero) > 0) {
		k++;
		if (!code)
			dt_note(t, "%s", signame(si.si_signo));
		else if ((si.si_code >= POLL_IN && si.si_code <= POLL_HUP) ||
			 si.si_code == SI_SIGIO)
			dt_note(t, "%s code %d band %#lx fd %s",
				signame(si.si_signo), si.si_code, si.si_band,
				fdname(l, n, si.si_fd));
		else
			dt_note(t, "%s code %#x", signame(si.si_signo),
				(unsigned)si.si_code);
	}
	if (!k)
		dt_note(t, "no signal");
	errno = e;
}

#define drain(t, l) drain_as(t, l, (int)(sizeof(l) / sizeof((l)[0])), true)

/* Wait (unrecorded, at most 2 s) until fd polls one of events: what the
 * step set off has happened. */
static void settle(struct dt *t, int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int e = errno;

	(void)dt_ct(t)->poll(&p, 1, 2000);
	errno = e;
}

/* O_ASYNC (with O_NONBLOCK), this process the owner, signal sig. */
static void async_owned(struct dt *t, int fd, int sig)
{
	dt_fcntl(t, fd, F_SETOWN, getpid());
	dt_fcntl(t, fd, F_SETSIG, sig);
	dt_fcntl(t, fd, F_SETFL, O_ASYNC | O_NONBLOCK);
}

static void send_settle(struct dt *t, int c, int s, const char *what)
{
	dt_send(t, c, what, strlen(what), 0);
	settle(t, s, POLLIN);
}

/* ---- the flags ------------------------------------------------------------- */

static void case_sigio_flags(struct dt *t)
{
	int s = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int v;

	dt_fcntl(t, s, F_GETFL, 0);
	dt_fcntl(t, s, F_GETSIG, 0);
	dt_fcntl(t, s, F_SETSIG, 1);
	dt_fcntl(t, s, F_GETSIG, 0);
	dt_fcntl(t, s, F_SETSIG, 64);
	dt_fcntl(t, s, F_SETSIG, 65);
	dt_fcntl(t, s, F_SETSIG, -1);
	dt_fcntl(t, s, F_GETSIG, 0);
	dt_fcntl(t, s, F_SETSIG, 0);
	dt_fcntl(t, s, F_GETSIG, 0);
	dt_fcntl(t, s, F_SETFL, O_ASYNC);
	dt_fcntl(t, s, F_GETFL, 0);
	v = 0;
	dt_ioctl(t, s, FIOASYNC, &v);
	dt_fcntl(t, s, F_GETFL, 0);
	v = 7;
	dt_ioctl(t, s, FIOASYNC, &v);
	dt_fcntl(t, s, F_GETFL, 0);
	dt_fcntl(t, u, F_SETSIG, RTSIG);
	dt_fcntl(t, u, F_GETSIG, 0);
	dt_fcntl(t, u, F_SETFL, O_ASYNC | O_NONBLOCK);
	dt_fcntl(t, u, F_GETFL, 0);
}

/* ---- TCP ------------------------------------------------------------------- */

static void case_sigio_tcp_data(struct dt *t)
{
	char buf[16];
	int l, c, s, v;

	begin();
	dt_tcp_pair(t, 7301, &l, &c, &s);
	{
		const struct label n[] = { { l, "l" }, { c, "c" }, { s, "s" } };

		/* O_ASYNC without an owner: nothing. */
		dt_fcntl(t, s, F_SETFL, O_ASYNC | O_NONBLOCK);
		send_settle(t, c, s, "a");
		drain(t, n);
		dt_recv(t, s, buf, sizeof(buf), 0);
		/* SIGIO, no details; twice pending is once. */
		dt_fcntl(t, s, F_SETOWN, getpid());
		send_settle(t, c, s, "b");
		drain(t, n);
		send_settle(t, c, s, "c");
		send_settle(t, c, s, "d");
		drain(t, n);
		dt_recv(t, s, buf, sizeof(buf), 0);
		/* F_SETSIG: POLL_IN, one per arrival. */
		dt_fcntl(t, s, F_SETSIG, RTSIG);
		send_settle(t, c, s, "e");
		send_settle(t, c, s, "f");
		drain(t, n);
		dt_recv(t, s, buf, sizeof(buf), 0);
		/* O_ASYNC off: nothing; on again by FIOASYNC. */
		dt_fcntl(t, s, F_SETFL, O_NONBLOCK);
		send_settle(t, c, s, "g");
		drain(t, n);
		dt_recv(t, s, buf, sizeof(buf), 0);
		v = 1;
		dt_ioctl(t, s, FIOASYNC, &v);
		send_settle(t, c, s, "h");
		drain(t, n);
		dt_recv(t, s, buf, sizeof(buf), 0);
		/* No owner any more: nothing. */
		dt_fcntl(t, s, F_SETOWN, 0);
		send_settle(t, c, s, "i");
		drain(t, n);
		/* Reading, writing and the sender's side: no signal. */
		dt_fcntl(t, s, F_SETOWN, getpid());
		dt_recv(t, s, buf, sizeof(buf), 0);
		dt_send(t, s, "xy", 2, 0);
		settle(t, c, POLLIN);
		dt_recv(t, c, buf, sizeof(buf), 0);
		drain(t, n);
	}
}

/* SO_RCVLOWAT: POLL_IN once that much is in (Linux's tcp_data_ready),
 * and when a lower mark is set with enough in (tcp_set_rcvlowat). */
static void case_sigio_tcp_rcvlowat(struct dt *t)
{
	char buf[16];
	int l, c, s, v = -7;

	begin();
	dt_tcp_pair(t, 7305, &l, &c, &s);
	{
		const struct label n[] = { { l, "l" }, { c, "c" }, { s, "s" } };

		async_owned(t, s, RTSIG);
		dt_setsockopt_int(t, s, SOL_SOCKET, SO_RCVLOWAT, 5);
		dt_send(t, c, "abc", 3, 0);
		dt_ioctl(t, s, FIONREAD, &v);
		drain(t, n);
		send_settle(t, c, s, "de");
		drain(t, n);
		dt_setsockopt_int(t, s, SOL_SOCKET, SO_RCVLOWAT, 10);
		drain(t, n);
		dt_setsockopt_int(t, s, SOL_SOCKET, SO_RCVLOWAT, 2);
		drain(t, n);
		dt_recv(t, s, buf, sizeof(buf), 0);
		dt_send(t, c, "f", 1, 0);
		dt_ioctl(t, s, FIONREAD, &v);
		drain(t, n);
		dt_shutdown(t, c, SHUT_WR);
		settle(t, s, POLLRDHUP);
		drain(t, n);
	}
}

/* The peer's FIN on a connection open both ways: POLL_IN. */
static void case_sigio_tcp_fin(struct dt *t)
{
	char buf[16];
	int l, c, s;

	begin();
	dt_tcp_pair(t, 7311, &l, &c, &s);
	{
		const struct label n[] = { { l, "l" }, { c, "c" }, { s, "s" } };

		async_owned(t, s, RTSIG);
		dt_send(t, c, "last", 4, 0);
		dt_shutdown(t, c, SHUT_WR);
		settle(t, s, POLLRDHUP);
		drain(t, n);
		dt_recv(t, s, buf, sizeof(buf), 0);
		dt_recv(t, s, buf, sizeof(buf), 0);
		/* Our own FIN, acknowledged: nothing. */
		dt_shutdown(t, s, SHUT_WR);
		settle(t, c, POLLIN);
		drain(t, n);
		/* And plain SIGIO for the FIN alone. */
	}
	dt_tcp_pair(t, 7312, &l, &c, &s);
	{
		const struct label n[] = { { l, "l" }, { c, "c" }, { s, "s" } };

		async_owned(t, s, 0);
		dt_shutdown(t, c, SHUT_WR);
		settle(t, s, POLLRDHUP);
		drain(t, n);
	}
}

/* The peer's FIN after our own (FIN_WAIT2): POLL_HUP. */
static void case_sigio_tcp_hup(struct dt *t)
{
	char buf[16];
	int l, c, s;

	begin();
	dt_tcp_pair(t, 7321, &l, &c, &s);
	{
		const struct label n[] = { { l, "l" }, { c, "c" }, { s, "s" } };

		async_owned(t, s, RTSIG);
		dt_shutdown(t, s, SHUT_WR);
		settle(t, c, POLLIN);
		dt_recv(t, c, buf, sizeof(buf), 0);
		drain(t, n);
		dt_shutdown(t, c, SHUT_WR);
		settle(t, s, POLLRDHUP);
		drain(t, n);
		dt_recv(t, s, buf, sizeof(buf), 0);
	}
}

/* A RST: POLL_ERR. */
static void case_sigio_tcp_rst(struct dt *t)
{
	struct linger lg = { 1, 0 };
	char buf[16];
	int l, c, s;

	begin();
	dt_tcp_pair(t, 7331, &l, &c, &s);
	{
		const struct label n[] = { { l, "l" }, { c, "c" }, { s, "s" } };

		async_owned(t, s, RTSIG);
		dt_setsockopt(t, c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		dt_close(t, c);
		settle(t, s, POLLERR);
		drain(t, n);
		dt_recv(t, s, buf, sizeof(buf), 0);
		drain(t, n);
	}
	/* And plain SIGIO. */
	dt_tcp_pair(t, 7332, &l, &c, &s);
	{
		const struct label n[] = { { l, "l" }, { c, "c" }, { s, "s" } };

		async_owned(t, s, 0);
		dt_setsockopt(t, c, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		dt_close(t, c);
		settle(t, s, POLLERR);
		drain(t, n);
	}
}

/*
 * connect(): POLL_OUT once connected, POLL_ERR when refused. A listener:
 * POLL_IN for the connection it can accept; the accepted socket has no
 * O_ASYNC, signal or owner of its own.
 */
static void case_sigio_tcp_connect(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 7341);
	struct sockaddr_in none = dt_sin("127.0.0.1", 7349);
	int l = dt_tcp_listener(t, 7341);
	int c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int r = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int s;

	begin();
	async_owned(t, l, RTSIG);
	async_owned(t, c, RTSIG);
	async_owned(t, r, RTSIG);
	dt_connect(t, c, &a, sizeof(a));
	settle(t, c, POLLOUT);
	settle(t, l, POLLIN);
	s = dt_accept(t, l, NULL, NULL);
	{
		const struct label n[] = { { l, "l" }, { c, "c" }, { r, "r" },
					   { s, "s" } };

		drain(t, n);
		dt_fcntl(t, s, F_GETFL, 0);
		dt_fcntl(t, s, F_GETSIG, 0);
		dt_fcntl(t, s, F_GETOWN, 0);
		dt_connect(t, r, &none, sizeof(none));
		settle(t, r, POLLERR);
		drain(t, n);
		dt_getsockopt_int(t, r, SOL_SOCKET, SO_ERROR);
		drain(t, n);
	}
}

static char big[200000];

/*
 * Room to write: POLL_OUT once, after a send found the buffer full, when
 * the peer's reading made room. A sender that never ran out gets none.
 */
static void case_sigio_tcp_write_space(struct dt *t)
{
	const struct calltable *ct = dt_ct(t);
	struct sockaddr_in a = dt_sin("127.0.0.1", 7351);
	char buf[4096];
	ssize_t sent = 0, got = 0, k;
	int l, c, s, e;

	begin();
	l = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_setsockopt_int(t, l, SOL_SOCKET, SO_REUSEADDR, 1);
	dt_setsockopt_int(t, l, SOL_SOCKET, SO_RCVBUF, 8192);
	dt_bind(t, l, &a, sizeof(a));
	dt_listen(t, l, 8);
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_setsockopt_int(t, c, SOL_SOCKET, SO_SNDBUF, 8192);
	dt_connect(t, c, &a, sizeof(a));
	s = dt_accept(t, l, NULL, NULL);
	{
		const struct label n[] = { { l, "l" }, { c, "c" }, { s, "s" } };

		async_owned(t, c, RTSIG);
		/* Small writes that fit: no POLL_OUT. */
		dt_send(t, c, "hello", 5, 0);
		settle(t, s, POLLIN);
		dt_recv(t, s, buf, sizeof(buf), 0);
		drain(t, n);
		/* Until the buffer stays full (unrecorded: how much fits,
		 * and whether ACKs still free some after a send, is the
		 * stacks' own business; so are the signals meanwhile). */
		e = errno;
		for (int i = 0; i < 100; i++) {
			struct pollfd p = { .fd = c, .events = POLLOUT };

			while ((k = ct->send(c, big, sizeof(big), 0)) > 0)
				sent += k;
			if (ct->poll(&p, 1, 0) == 0)
				break;
		}
		errno = e;
		discard();
		dt_send(t, c, big, sizeof(big), 0);
		drain(t, n);
		/* The reader takes it all; room comes back. */
		while (got < sent) {
			struct pollfd p = { .fd = s, .events = POLLIN };

			k = ct->recv(s, buf, sizeof(buf), MSG_DONTWAIT);
			if (k > 0) {
				got += k;
				continue;
			}
			if (ct->poll(&p, 1, 2000) <= 0)
				break;
		}
		errno = e;
		dt_note(t, "received all: %d", got == sent);
		settle(t, c, POLLOUT);
		drain(t, n);
		/* Once only. */
		dt_send(t, c, "more", 4, 0);
		settle(t, s, POLLIN);
		dt_recv(t, s, buf, sizeof(buf), 0);
		drain(t, n);
	}
}

/* Urgent data: SIGURG to the owner, and with O_ASYNC the F_SETSIG
 * signal's POLL_PRI (none for signal 0), with the data's POLL_IN. */
static void case_sigio_tcp_urgent(struct dt *t)
{
	char buf[16];
	int l, c, s;

	begin();
	dt_tcp_pair(t, 7361, &l, &c, &s);
	{
		const struct label n[] = { { l, "l" }, { c, "c" }, { s, "s" } };

		async_owned(t, s, 0);
		dt_send(t, c, "abX", 3, MSG_OOB);
		settle(t, s, POLLPRI);
		drain(t, n);
		dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
		dt_recv(t, s, buf, sizeof(buf), 0);
		dt_fcntl(t, s, F_SETSIG, RTSIG);
		dt_send(t, c, "cdY", 3, MSG_OOB);
		settle(t, s, POLLPRI);
		drain(t, n);
		dt_recv(t, s, buf, sizeof(buf), MSG_OOB);
		dt_recv(t, s, buf, sizeof(buf), 0);
	}
}

/* The owner as a thread (F_SETOWN_EX F_OWNER_TID) and as a process
 * group: a group's signal is compared without its details. */
static void case_sigio_owners(struct dt *t)
{
	struct f_owner_ex ex;
	char buf[16];
	int l, c, s;

	begin();
	dt_tcp_pair(t, 7371, &l, &c, &s);
	{
		const struct label n[] = { { l, "l" }, { c, "c" }, { s, "s" } };

		dt_fcntl(t, s, F_SETSIG, RTSIG);
		dt_fcntl(t, s, F_SETFL, O_ASYNC | O_NONBLOCK);
		ex.type = F_OWNER_TID;
		ex.pid = (pid_t)syscall(SYS_gettid);
		dt_fcntl(t, s, F_SETOWN_EX, (long)&ex);
		send_settle(t, c, s, "a");
		drain(t, n);
		dt_recv(t, s, buf, sizeof(buf), 0);
		/* SIGURG as the signal: the other processes of the group
		 * ignore it. */
		dt_fcntl(t, s, F_SETSIG, SIGURG);
		dt_fcntl(t, s, F_SETOWN, -getpgrp());
		send_settle(t, c, s, "b");
		drain_as(t, n, 3, false);
		dt_recv(t, s, buf, sizeof(buf), 0);
	}
}

/* ---- a read waiting ------------------------------------------------------------ */

struct reader {
	const struct calltable *ct;
	int fd;
	pid_t tid;
	ssize_t rc;
	char buf[16];
};

static void *read_thread(void *arg)
{
	struct reader *r = arg;

	r->tid = (pid_t)syscall(SYS_gettid);
	r->rc = r->ct->recv(r->fd, r->buf, sizeof(r->buf), 0);
	return NULL;
}

/* Until thread tid sleeps (its state in /proc: S), 5 s at most. */
static void wait_asleep(pid_t tid)
{
	char path[64], line[256];

	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", (int)tid);
	for (int i = 0; i < 5000; i++) {
		FILE *f = fopen(path, "r");
		char *p = NULL;

		if (f) {
			p = fgets(line, sizeof(line), f);
			fclose(f);
		}
		p = p ? strrchr(line, ')') : NULL;
		if (p && p[1] == ' ' && p[2] == 'S')
			return;
		usleep(1000);
	}
}

/*
 * A blocking read waiting in a TCP socket (Linux's sk_wait_data,
 * SOCKWQ_ASYNC_WAITDATA): the data it waits for sends no SIGIO. A UDP
 * read's wait sets no such mark: the datagram sends its POLL_IN.
 */
static void reader_case(struct dt *t, int fd, int from, const char *what,
			const struct label *n, int nn)
{
	struct reader r = { dt_ct(t), fd, 0, 0, { 0 } };
	pthread_t th;

	pthread_create(&th, NULL, read_thread, &r);
	while (!__atomic_load_n(&r.tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	wait_asleep(r.tid);
	dt_send(t, from, what, strlen(what), 0);
	pthread_join(th, NULL);
	dt_note(t, "the waiting read returned %zd", r.rc);
	drain_as(t, n, nn, true);
}

static void case_sigio_read_waiting(struct dt *t)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", 7391);
	int l, c, s, u, v;

	begin();
	dt_tcp_pair(t, 7390, &l, &c, &s);
	u = dt_udp_bound(t, 7391);
	v = dt_udp_bound(t, 7392);
	dt_connect(t, v, &to, sizeof(to));
	{
		const struct label n[] = { { l, "l" }, { c, "c" }, { s, "s" },
					   { u, "u" }, { v, "v" } };

		dt_fcntl(t, s, F_SETOWN, getpid());
		dt_fcntl(t, s, F_SETSIG, RTSIG);
		dt_fcntl(t, s, F_SETFL, O_ASYNC);
		reader_case(t, s, c, "abc", n, 5);
		/* The mark goes with the wait. */
		send_settle(t, c, s, "d");
		drain(t, n);
		dt_fcntl(t, u, F_SETOWN, getpid());
		dt_fcntl(t, u, F_SETSIG, RTSIG);
		dt_fcntl(t, u, F_SETFL, O_ASYNC);
		reader_case(t, u, v, "dgram", n, 5);
	}
}

/* ---- UDP ------------------------------------------------------------------- */

static void case_sigio_udp(struct dt *t)
{
	struct sockaddr_in to = dt_sin("127.0.0.1", 7381);
	struct sockaddr_in none = dt_sin("127.0.0.1", 7389);
	char buf[16];
	int u = dt_udp_bound(t, 7381);
	int v = dt_udp_bound(t, 7382);

	begin();
	{
		const struct label n[] = { { u, "u" }, { v, "v" } };

		dt_sendto(t, v, "x", 1, 0, &to, sizeof(to));
		settle(t, u, POLLIN);
		drain(t, n);
		async_owned(t, u, RTSIG);
		dt_sendto(t, v, "y", 1, 0, &to, sizeof(to));
		dt_sendto(t, v, "z", 1, 0, &to, sizeof(to));
		settle(t, u, POLLIN);
		drain(t, n);
		dt_recv(t, u, buf, sizeof(buf), 0);
		dt_recv(t, u, buf, sizeof(buf), 0);
		dt_recv(t, u, buf, sizeof(buf), 0);
		/* Sending: nothing. A connected socket's ICMP error:
		 * POLL_ERR. */
		dt_connect(t, u, &none, sizeof(none));
		dt_send(t, u, "w", 1, 0);
		settle(t, u, POLLERR);
		drain(t, n);
		dt_recv(t, u, buf, sizeof(buf), 0);
		/* Plain SIGIO. */
		dt_fcntl(t, v, F_SETOWN, getpid());
		dt_fcntl(t, v, F_SETFL, O_ASYNC);
		dt_connect(t, v, &none, sizeof(none));
		dt_send(t, v, "w", 1, 0);
		settle(t, v, POLLERR);
		drain(t, n);
	}
}

static const struct dt_case cases[] = {
	DT_CASE(case_sigio_flags),
	DT_CASE(case_sigio_tcp_data),
	DT_CASE(case_sigio_tcp_rcvlowat),
	DT_CASE(case_sigio_tcp_fin),
	DT_CASE(case_sigio_tcp_hup),
	DT_CASE(case_sigio_tcp_rst),
	DT_CASE(case_sigio_tcp_connect),
	DT_CASE(case_sigio_tcp_write_space),
	DT_CASE(case_sigio_tcp_urgent),
	DT_CASE(case_sigio_owners),
	DT_CASE(case_sigio_read_waiting),
	DT_CASE(case_sigio_udp),
};

int main(void)
{
	return dt_main("diff_sigio", cases, sizeof(cases) / sizeof(cases[0]));
}
