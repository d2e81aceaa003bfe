/*
 * rdfix.h - the fixture of the readiness tests (test_poll.c, test_epoll.c):
 * one descriptor of each kind that poll, select and epoll must mix, and
 * ways to make each one ready.
 *
 *   pipe_r      the read end of a pipe (pipe_w writes it)
 *   ka          a kernel UDP socket on 127.0.0.1 in the test's own network
 *               namespace (rd_netns_setup), -1 when there is none
 *   ua, ub      two ustack UDP sockets on 127.0.0.1 of the stack's "lo"
 *
 * rd_make_ready() returns only once the descriptor is readable, so a test
 * asserts on readiness without sleeping: ustack's loopback delivers before
 * the sending call returns, the kernel's is waited for (a hang guard, never
 * a measured time).
 */
#ifndef US_TESTS_RDFIX_H
#define US_TESTS_RDFIX_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

struct ustack;

#define RD_HANG_GUARD_MS 10000

struct rd_fix {
	struct ustack *st;
	int pipe_r, pipe_w;
	int ka, ksend;
	int ua, ub, usend;
	struct sockaddr_in ka_addr, ua_addr, ub_addr;
};

/* Why there is no kernel UDP socket (empty when there is one). */
extern char rd_netns_why[200];

/* Enter a private network namespace; call from main, before any thread. */
void rd_netns_setup(void);
/* Build the fixture on a new stack; start its runtime thread if asked. */
void rd_fix_init(struct rd_fix *f, bool start);
void rd_fix_destroy(struct rd_fix *f);

/* A ustack UDP socket bound to 127.0.0.1, port chosen; *sin its address. */
int rd_us_udp(struct ustack *st, struct sockaddr_in *sin);
/* A kernel one likewise (nonblocking). */
int rd_kernel_udp(struct sockaddr_in *sin);

/* Make fd (one of the fixture's) readable: a byte or a datagram. */
void rd_make_ready(struct rd_fix *f, int fd);
/* Read everything fd holds, so that it is no longer readable. */
void rd_drain(int fd);
/* Wait (hang guard only) until the kernel reports `events` (or an error
 * or hang-up) on fd. */
bool rd_kernel_wait(int fd, short events);
/* Send one datagram from a fresh ustack socket of st to sin. */
void rd_us_send(struct ustack *st, const struct sockaddr_in *sin);

#endif
