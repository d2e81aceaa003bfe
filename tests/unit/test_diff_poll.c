/*
 * test_diff_poll.c - differential tests of poll() masks on UDP sockets: fresh,
 * readable, with a pending error, shut down, closed, and mixed with a pipe;
 * and of epoll: a wait that walks past items no longer ready, and sets
 * nested in sets (edge-triggered, one-shot, polled).
 *
 * Every case is written once against the socket call table
 * (tests/lib/difftest.h) and run twice, on the kernel's sockets in a
 * private network namespace and on ustack; a case fails when the two
 * transcripts (return values, errno, data, addresses, lengths, flags)
 * differ. Linux is the oracle. Fixed ports are below 32768; an ephemeral
 * port prints as "eph" on both sides. DT_SHOW=1 prints agreeing
 * transcripts too, DT_CASE=pattern runs only the matching cases.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/difftest.h"

#define P1 5001
#define P2 5002
#define P_CLOSED 5999   /* nobody is bound here: ICMP port unreachable */

static const char hello[] = "hello";

/* ---- poll masks ---------------------------------------------------------- */

#define PIN (POLLIN | POLLRDNORM | POLLPRI | POLLRDHUP)
#define POUT (POLLOUT | POLLWRNORM | POLLWRBAND)

static void poll1(struct dt *t, int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };

	dt_poll(t, &p, 1, timeout_ms);
}

static void case_poll_masks(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	char buf[16];
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	/* Fresh and unbound: writable only. */
	poll1(t, u, PIN | POUT, 0);
	poll1(t, s, PIN | POUT, 0);
	poll1(t, s, 0, 0);
	poll1(t, s, PIN, 0);
	/* A datagram queued: readable, until taken. */
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	poll1(t, s, PIN | POUT, 0);
	poll1(t, s, POLLIN, 0);
	poll1(t, s, POLLRDNORM, 0);
	dt_recv(t, s, buf, sizeof(buf), 0);
	poll1(t, s, PIN, 0);
	/* An empty datagram is readable too. */
	dt_sendto(t, u, "", 0, 0, &a, sizeof(a));
	poll1(t, s, PIN, 0);
	/* Nothing comes: the timeout passes. */
	dt_recv(t, s, buf, sizeof(buf), 0);
	poll1(t, s, PIN, 20);
}

static void case_poll_error_shutdown(struct dt *t)
{
	struct sockaddr_in dead = dt_sin("127.0.0.1", P_CLOSED);
	char buf[16];
	int c = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int s = dt_udp_bound(t, P1);

	/* A pending ICMP error: POLLERR, even when not asked for. */
	dt_connect(t, c, &dead, sizeof(dead));
	dt_send(t, c, hello, 5, 0);
	poll1(t, c, PIN | POUT, 0);
	poll1(t, c, 0, 0);
	dt_recv(t, c, buf, sizeof(buf), MSG_DONTWAIT);
	poll1(t, c, PIN | POUT, 0);
	/* Shut for reading: readable (end of file) with POLLRDHUP; shut
	 * both ways: POLLHUP as well. */
	dt_shutdown(t, s, SHUT_RD);
	poll1(t, s, PIN | POUT, 0);
	poll1(t, s, 0, 0);
	dt_shutdown(t, s, SHUT_WR);
	poll1(t, s, PIN | POUT, 0);
	poll1(t, s, 0, 0);
	dt_shutdown(t, c, SHUT_WR);
	poll1(t, c, PIN | POUT, 0);
}

static void case_poll_mixed(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct pollfd p[5];
	int pp[2];
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int dead = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_pipe(t, pp);
	dt_close(t, dead);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_write(t, pp[1], "x", 1);
	p[0] = (struct pollfd){ .fd = s, .events = POLLIN };
	p[1] = (struct pollfd){ .fd = u, .events = POLLIN };
	p[2] = (struct pollfd){ .fd = pp[0], .events = POLLIN };
	p[3] = (struct pollfd){ .fd = dead, .events = POLLIN };
	p[4] = (struct pollfd){ .fd = -1, .events = POLLIN };
	dt_poll(t, p, 5, 0);
	dt_poll(t, p, 5, 1000);
	p[3].fd = -1;
	dt_poll(t, p + 1, 1, 0);
	dt_poll(t, p, 5, 0);
	dt_poll(t, NULL, 0, 0);
}

/* ---- epoll ---------------------------------------------------------------- */

/* Read what u has, until EAGAIN. */
static void drain(struct dt *t, int u)
{
	char buf[16];

	while (dt_recv(t, u, buf, sizeof(buf), MSG_DONTWAIT) >= 0)
		;
}

/*
 * Linux's ep_send_events walks the ready list until maxevents events are
 * reported: an item found no longer ready is dropped and the next one
 * looked at, so a wait returns the ready socket behind a stale one.
 */
static void case_epoll_walks_stale(struct dt *t)
{
	struct sockaddr_in a1 = dt_sin("127.0.0.1", P1);
	struct sockaddr_in a2 = dt_sin("127.0.0.1", P2);
	char buf[16];
	int ep = dt_epoll_create1(t, 0);
	int s1 = dt_udp_bound(t, P1);
	int s2 = dt_udp_bound(t, P2);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_epoll_ctl(t, ep, EPOLL_CTL_ADD, s1, EPOLLIN, 1);
	dt_epoll_ctl(t, ep, EPOLL_CTL_ADD, s2, EPOLLIN, 2);
	dt_sendto(t, u, hello, 5, 0, &a1, sizeof(a1));
	dt_sendto(t, u, hello, 5, 0, &a2, sizeof(a2));
	dt_epoll_wait(t, ep, 2, 1000);
	/* Both stay queued (level-triggered); s1 is then read empty. */
	dt_recv(t, s1, buf, sizeof(buf), 0);
	dt_epoll_wait(t, ep, 1, 0);
	dt_epoll_wait(t, ep, 2, 0);
	dt_recv(t, s2, buf, sizeof(buf), 0);
	dt_epoll_wait(t, ep, 2, 0);
}

/*
 * A set A (u level-triggered) inside a set B with EPOLLET: every event
 * that reaches A is an edge for B, even while u still sits on A's ready
 * list from an earlier wait (Linux's ep_poll_callback wakes ep->poll_wait
 * whether or not the item was already queued). The 1 s timeouts only stop
 * a wait that would never end.
 */
static void case_epoll_nested_et(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int ea = dt_epoll_create1(t, 0);
	int eb = dt_epoll_create1(t, 0);
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_epoll_ctl(t, ea, EPOLL_CTL_ADD, s, EPOLLIN, 1);
	dt_epoll_ctl(t, eb, EPOLL_CTL_ADD, ea, EPOLLIN | EPOLLET, 2);
	dt_sendto(t, u, "one", 3, 0, &a, sizeof(a));
	dt_epoll_wait(t, eb, 4, 1000);
	dt_epoll_wait(t, ea, 4, 0);
	drain(t, s);
	dt_sendto(t, u, "two", 3, 0, &a, sizeof(a));
	dt_epoll_wait(t, eb, 4, 1000);
	dt_epoll_wait(t, ea, 4, 0);
	/* Two events before B's next wait: one report. */
	dt_sendto(t, u, "three", 5, 0, &a, sizeof(a));
	dt_sendto(t, u, "four", 4, 0, &a, sizeof(a));
	dt_epoll_wait(t, eb, 4, 1000);
	dt_epoll_wait(t, eb, 4, 0);
	drain(t, s);
	dt_epoll_wait(t, ea, 4, 0);
	dt_epoll_wait(t, eb, 4, 0);
}

/*
 * A level-triggered item read empty since A's last wait is stale: Linux's
 * ep_eventpoll_poll polls the items on A's ready list and drops those no
 * longer ready, so neither poll() nor an outer set (level-triggered or
 * re-armed one-shot) reports A for nothing.
 */
static void case_epoll_nested_stale(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	struct pollfd p;
	int ea = dt_epoll_create1(t, 0);
	int eb = dt_epoll_create1(t, 0);
	int ec = dt_epoll_create1(t, 0);
	int s = dt_udp_bound(t, P1);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_epoll_ctl(t, ea, EPOLL_CTL_ADD, s, EPOLLIN, 1);
	dt_epoll_ctl(t, eb, EPOLL_CTL_ADD, ea, EPOLLIN, 2);
	dt_epoll_ctl(t, ec, EPOLL_CTL_ADD, ea, EPOLLIN | EPOLLONESHOT, 3);
	/* poll() */
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_epoll_wait(t, ea, 4, 0);
	drain(t, s);
	p = (struct pollfd){ .fd = ea, .events = POLLIN };
	dt_poll(t, &p, 1, 0);
	dt_epoll_wait(t, ea, 4, 0);
	/* A level-triggered outer set. */
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_epoll_wait(t, ea, 4, 0);
	drain(t, s);
	dt_epoll_wait(t, eb, 4, 0);
	/* A one-shot outer set, re-armed. */
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_epoll_wait(t, ec, 4, 0);
	dt_epoll_wait(t, ea, 4, 0);
	drain(t, s);
	dt_epoll_ctl(t, ec, EPOLL_CTL_MOD, ea, EPOLLIN | EPOLLONESHOT, 3);
	dt_epoll_wait(t, ec, 4, 0);
	dt_sendto(t, u, hello, 5, 0, &a, sizeof(a));
	dt_epoll_wait(t, ec, 4, 1000);
	dt_epoll_wait(t, eb, 4, 0);
	dt_poll(t, &p, 1, 0);
}

/*
 * A sent datagram's memory given back wakes the socket's writers (Linux's
 * sock_wfree -> sock_def_write_space) with EPOLLOUT | EPOLLWRNORM |
 * EPOLLWRBAND: an edge-triggered item waiting for any one of them alone
 * is queued again and reported.
 */
static void case_epoll_write_space_bands(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int ep = dt_epoll_create1(t, 0);
	int s = dt_udp_bound(t, P1);
	int u1 = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int u2 = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int u3 = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_epoll_ctl(t, ep, EPOLL_CTL_ADD, u1, EPOLLOUT | EPOLLET, 1);
	dt_epoll_ctl(t, ep, EPOLL_CTL_ADD, u2, EPOLLWRNORM | EPOLLET, 2);
	dt_epoll_ctl(t, ep, EPOLL_CTL_ADD, u3, EPOLLWRBAND | EPOLLET, 3);
	dt_epoll_wait(t, ep, 4, 0);
	dt_epoll_wait(t, ep, 4, 0);
	dt_sendto(t, u1, hello, 5, 0, &a, sizeof(a));
	dt_sendto(t, u2, hello, 5, 0, &a, sizeof(a));
	dt_sendto(t, u3, hello, 5, 0, &a, sizeof(a));
	dt_epoll_wait(t, ep, 4, 0);
	dt_epoll_wait(t, ep, 4, 0);
	dt_close(t, s);
}

static const struct dt_case cases[] = {
	DT_CASE(case_poll_masks),
	DT_CASE(case_poll_error_shutdown),
	DT_CASE(case_poll_mixed),
	DT_CASE(case_epoll_walks_stale),
	DT_CASE(case_epoll_nested_et),
	DT_CASE(case_epoll_nested_stale),
	DT_CASE(case_epoll_write_space_bands),
};

int main(void)
{
	return dt_main("diff_poll", cases, sizeof(cases) / sizeof(cases[0]));
}
