/*
 * epoll_mix.c - one epoll set holding a TCP socket, a pipe and a timerfd,
 * for tests/integ/shim_epoll_mix.sh, which runs it under `ustack run` (so
 * the socket is ustack's, the pipe and the timer the kernel's) against the
 * kernel's socat echo server.
 *
 *   epoll_mix HOST PORT BYTES
 *
 * Every timer tick writes the next chunk of a seeded byte stream into the
 * pipe; what the pipe yields is sent on the socket; what the socket
 * yields must be the same stream, echoed. Plain libc, no ustack calls.
 * Prints "epoll_mix: N bytes echoed intact, T ticks, P pipe reads" and
 * exits 0, or says what went wrong and exits 1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define CHUNK 32768
#define MAX_PENDING (1 << 20)
#define IDLE_LIMIT_MS 30000

static uint64_t gen_state = 0x9e3779b97f4a7c15ULL;
static uint64_t chk_state = 0x9e3779b97f4a7c15ULL;

/* xorshift64: the stream's bytes, from either end. */
static uint8_t next_byte(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (uint8_t)(*s >> 24);
}

static void die(const char *what)
{
	fprintf(stderr, "epoll_mix: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void add(int ep, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl ADD");
}

static void mod(int ep, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev) < 0)
		die("epoll_ctl MOD");
}

/*
 * poll() and select() on an epoll set alone: a level-triggered item left
 * on its ready list after its socket was drained is not readiness (Linux's
 * ep_eventpoll_poll looks again). Under the shim the call must reach
 * ustack, which looks again; the kernel's poll would see the set's
 * eventfd still signalled. A datagram over ustack's own loopback.
 */
static void poll_stale_epoll(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof(a);
	struct epoll_event ev;
	struct pollfd pfd;
	struct timeval tv = { 0, 0 };
	fd_set r;
	char c;
	int u = socket(AF_INET, SOCK_DGRAM, 0);
	int v = socket(AF_INET, SOCK_DGRAM, 0);
	int ep = epoll_create1(0);

	if (u < 0 || v < 0 || ep < 0 ||
	    bind(u, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(u, (struct sockaddr *)&a, &alen) < 0)
		die("udp set-up");
	add(ep, u, EPOLLIN);
	if (sendto(v, "x", 1, 0, (struct sockaddr *)&a, sizeof(a)) != 1)
		die("sendto");
	if (epoll_wait(ep, &ev, 1, 1000) != 1)
		die("epoll_wait (the datagram)");
	if (recv(u, &c, 1, 0) != 1)
		die("recv");
	pfd.fd = ep;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 0) != 0) {
		fprintf(stderr, "epoll_mix: poll() says a drained epoll set is "
			"readable\n");
		exit(1);
	}
	FD_ZERO(&r);
	FD_SET(ep, &r);
	if (select(ep + 1, &r, NULL, NULL, &tv) != 0) {
		fprintf(stderr, "epoll_mix: select() says a drained epoll set "
			"is readable\n");
		exit(1);
	}
	close(ep);
	close(u);
	close(v);
	printf("epoll_mix: poll and select see a drained epoll set idle\n");
}

int main(int argc, char **argv)
{
	static uint8_t pending[MAX_PENDING + CHUNK], buf[CHUNK];
	struct itimerspec its = { { 0, 2000000 }, { 0, 2000000 } };
	size_t total, generated = 0, echoed = 0, npend = 0, sent = 0;
	unsigned long ticks = 0, pipe_reads = 0;
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int sock, tfd, ep, p[2], idle = 0;
	bool want_out = false, shut = false;

	if (argc != 4) {
		fprintf(stderr, "usage: epoll_mix HOST PORT BYTES\n");
		return 2;
	}
	poll_stale_epoll();
	total = strtoull(argv[3], NULL, 10);
	sin.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &sin.sin_addr) != 1)
		return 2;
	sock = socket(AF_INET, SOCK_STREAM, 0);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		die("connect");
	fcntl(sock, F_SETFL, O_NONBLOCK);
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		die("pipe2");
	tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (tfd < 0 || timerfd_settime(tfd, 0, &its, NULL) < 0)
		die("timerfd");
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		die("epoll_create1");
	add(ep, sock, EPOLLIN);
	add(ep, p[0], EPOLLIN);
	add(ep, tfd, EPOLLIN);

	while (echoed < total) {
		struct epoll_event evs[8];
		int n = epoll_wait(ep, evs, 8, 100);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("epoll_wait");
		idle = n ? 0 : idle + 100;
		if (idle >= IDLE_LIMIT_MS) {
			fprintf(stderr, "epoll_mix: no event for %d ms; %zu of "
				"%zu bytes echoed\n", IDLE_LIMIT_MS, echoed, total);
			return 1;
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			ssize_t r;

			if (fd == tfd) {
				uint64_t t;

				if (read(tfd, &t, sizeof(t)) == sizeof(t))
					ticks += t;
				if (generated < total && npend < MAX_PENDING) {
					size_t k = total - generated;

					if (k > CHUNK)
						k = CHUNK;
					for (size_t j = 0; j < k; j++)
						buf[j] = next_byte(&gen_state);
					/* A pipe takes up to 64 KiB: a
					 * chunk always fits once read. */
					r = write(p[1], buf, k);
					if (r != (ssize_t)k)
						die("write pipe");
					generated += k;
				}
			} else if (fd == p[0]) {
				r = read(p[0], pending + npend, CHUNK);
				if (r > 0) {
					npend += (size_t)r;
					pipe_reads++;
				}
			} else if (fd == sock && (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
				r = read(sock, buf, sizeof(buf));
				if (r == 0) {
					fprintf(stderr, "epoll_mix: the echo "
						"ended after %zu bytes\n", echoed);
					return 1;
				}
				if (r < 0 && errno != EAGAIN)
					die("read socket");
				for (ssize_t j = 0; j < r; j++) {
					if (buf[j] != next_byte(&chk_state)) {
						fprintf(stderr, "epoll_mix: "
							"byte %zu differs\n",
							echoed + (size_t)j);
						return 1;
					}
				}
				if (r > 0)
					echoed += (size_t)r;
			}
		}
		if (npend) {
			ssize_t r = write(sock, pending, npend);

			if (r < 0 && errno != EAGAIN)
				die("write socket");
			if (r > 0) {
				memmove(pending, pending + r, npend - (size_t)r);
				npend -= (size_t)r;
				sent += (size_t)r;
			}
		}
		if ((npend > 0) != want_out) {
			want_out = npend > 0;
			mod(ep, sock, EPOLLIN | (want_out ? EPOLLOUT : 0));
		}
		if (!shut && sent == total) {
			shutdown(sock, SHUT_WR);
			shut = true;
		}
	}
	printf("epoll_mix: %zu bytes echoed intact, %lu ticks, %lu pipe "
	       "reads\n", echoed, ticks, pipe_reads);
	close(ep);
	close(sock);
	return 0;
}
