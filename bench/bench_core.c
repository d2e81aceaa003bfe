/*
 * bench_core.c - the measured loops of `make bench`, over a table of socket
 * calls (see bench_core.h).
 *
 * The bulk pattern repeats with a prime period, so that consecutive writes
 * never line up with it: a segment delivered at the wrong offset, twice or
 * not at all fails the comparison. Checking is one memcmp() against a
 * precomputed copy, cheap next to the transfer, and the same on every
 * stack measured.
 */
#include "bench_core.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define PATTERN_PERIOD 65521u  /* the largest prime below 2^16 */

static uint8_t pattern_tab[PATTERN_PERIOD + BENCH_CHUNK];
static pthread_once_t pattern_once = PTHREAD_ONCE_INIT;

static void pattern_init(void)
{
	for (size_t i = 0; i < sizeof(pattern_tab); i++) {
		uint32_t x = (uint32_t)(i % PATTERN_PERIOD) * 2654435761u;

		pattern_tab[i] = (uint8_t)(x >> 24);
	}
}

const uint8_t *bench_pattern(uint64_t off)
{
	pthread_once(&pattern_once, pattern_init);
	return pattern_tab + off % PATTERN_PERIOD;
}

double bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void fail(struct bench_result *r, const char *what)
{
	fprintf(stderr, "bench: %s: %s: %s\n", r->mode, what,
		errno ? strerror(errno) : "unexpected data");
	r->ok = false;
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = addr;
	sin.sin_port = htons(port);
	return sin;
}

/*
 * A TCP socket. A kernel socket gets the congestion control that BENCH_CC
 * names, when it names one: a new network namespace inherits the host's
 * default, which may not be Linux's own (CUBIC, ustack's default too), and
 * BBR's pacing alone halves the kernel sender's rate over the TAP here.
 * Accepted sockets inherit the listener's. A name the kernel refuses is
 * fatal, so that no figure is taken with another algorithm than the one
 * the bench reports.
 */
static int tcp_socket(const struct bench_ops *o)
{
	const char *cc = getenv("BENCH_CC");
	int fd = o->socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0 || !cc || !*cc || strcmp(o->name, "kernel"))
		return fd;
	if (o->setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc,
			  (socklen_t)strlen(cc)) < 0) {
		fprintf(stderr, "bench: TCP_CONGESTION %s: %s\n", cc,
			strerror(errno));
		exit(1);
	}
	return fd;
}

int bench_listen(const struct bench_ops *o, uint32_t addr, uint16_t port)
{
	struct sockaddr_in sin = sin_of(addr, port);
	int one = 1;
	int fd = tcp_socket(o);

	if (fd < 0) {
		perror("bench: socket");
		return -1;
	}
	o->setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (o->bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    o->listen(fd, 4096) < 0) {
		fprintf(stderr, "bench: listen on port %u: %s\n", port,
			strerror(errno));
		o->close(fd);
		return -1;
	}
	return fd;
}

int bench_connect(const struct bench_ops *o, uint32_t addr, uint16_t port,
		  bool nodelay)
{
	struct sockaddr_in sin = sin_of(addr, port);
	int one = 1;
	int fd = tcp_socket(o);

	if (fd < 0)
		return -1;
	if (nodelay)
		o->setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o->connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int err = errno;

		o->close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* Receive exactly len bytes; false on error or a premature end. */
static bool recv_full(const struct bench_ops *o, int fd, uint8_t *buf,
		      size_t len)
{
	while (len > 0) {
		ssize_t n = o->recv(fd, buf, len, 0);

		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			if (n < 0 && errno == EINTR)
				continue;
			return false;
		}
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

static bool send_full(const struct bench_ops *o, int fd, const uint8_t *buf,
		      size_t len)
{
	while (len > 0) {
		ssize_t n = o->send(fd, buf, len, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

void bench_sink(const struct bench_ops *o, int lfd, struct bench_result *r)
{
	static uint8_t buf[BENCH_CHUNK];
	double start = 0;
	int fd = o->accept(lfd, NULL, NULL);

	r->ok = true;
	if (fd < 0) {
		fail(r, "accept");
		return;
	}
	for (;;) {
		ssize_t n = o->recv(fd, buf, sizeof(buf), 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fail(r, "recv");
			break;
		}
		if (n == 0)
			break;
		if (r->bytes == 0)
			start = bench_now();
		if (memcmp(buf, bench_pattern(r->bytes), (size_t)n) != 0) {
			const uint8_t *want = bench_pattern(r->bytes);
			size_t i = 0;

			while (buf[i] == want[i])
				i++;
			r->bytes += i;
			fprintf(stderr, "bench: sink: pattern mismatch at stream "
				"offset %llu\n", (unsigned long long)r->bytes);
			r->ok = false;
			break;
		}
		r->bytes += (uint64_t)n;
	}
	r->secs = r->bytes ? bench_now() - start : 0;
	o->close(fd);
}

uint64_t bench_corrupt_at = UINT64_MAX;

/* What to send from stream offset off: the pattern, or a copy of it with
 * the byte at bench_corrupt_at flipped. */
static const uint8_t *source_chunk(uint64_t off)
{
	static uint8_t bad[BENCH_CHUNK];

	if (bench_corrupt_at < off || bench_corrupt_at - off >= BENCH_CHUNK)
		return bench_pattern(off);
	memcpy(bad, bench_pattern(off), BENCH_CHUNK);
	bad[bench_corrupt_at - off] ^= 0xff;
	return bad;
}

void bench_source(const struct bench_ops *o, uint32_t addr, uint16_t port,
		  double secs, struct bench_result *r)
{
	uint8_t c;
	double start, end;
	uint64_t sent = 0;
	int fd = bench_connect(o, addr, port, false);

	r->ok = true;
	if (fd < 0) {
		fail(r, "connect");
		return;
	}
	start = bench_now();
	end = start + secs;
	while (r->ok) {
		ssize_t n = o->send(fd, source_chunk(sent), BENCH_CHUNK, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			fail(r, "send");
			break;
		}
		sent += (uint64_t)n;
		/* The clock is read once per write, which is cheap next to
		 * a 64 KB write on every stack. */
		if (bench_now() >= end)
			break;
	}
	/* The sink closes once it has read everything: wait for that. */
	if (r->ok && o->shutdown(fd, SHUT_WR) < 0)
		fail(r, "shutdown");
	if (r->ok && o->recv(fd, &c, 1, 0) != 0)
		fail(r, "waiting for the sink to close");
	r->secs = bench_now() - start;
	r->bytes = sent;
	o->close(fd);
}

void bench_rr_server(const struct bench_ops *o, int lfd, size_t size,
		     struct bench_result *r)
{
	uint8_t buf[BENCH_CRR_SIZE];
	int one = 1;
	int fd = o->accept(lfd, NULL, NULL);
	double start = bench_now();

	r->ok = true;
	if (fd < 0) {
		fail(r, "accept");
		return;
	}
	o->setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	for (;;) {
		ssize_t n = o->recv(fd, buf, size, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			break;
		if (n < 0 || !recv_full(o, fd, buf + n, size - (size_t)n)) {
			fail(r, "recv");
			break;
		}
		if (!send_full(o, fd, buf, size)) {
			fail(r, "send");
			break;
		}
		r->count++;
		r->bytes += size;
	}
	r->secs = bench_now() - start;
	o->close(fd);
}

void bench_rr_client(const struct bench_ops *o, uint32_t addr, uint16_t port,
		     size_t size, double secs, struct bench_result *r)
{
	uint8_t req[BENCH_CRR_SIZE], resp[BENCH_CRR_SIZE];
	double start, end;
	int fd = bench_connect(o, addr, port, true);

	r->ok = true;
	if (fd < 0) {
		fail(r, "connect");
		return;
	}
	start = bench_now();
	end = start + secs;
	do {
		/* Check the clock every 64 transactions. */
		for (int i = 0; i < 64 && r->ok; i++) {
			memset(req, (int)(r->count & 0xff), size);
			if (!send_full(o, fd, req, size)) {
				fail(r, "send");
			} else if (!recv_full(o, fd, resp, size)) {
				fail(r, "recv");
			} else if (memcmp(req, resp, size) != 0) {
				errno = 0;
				fail(r, "response differs from request");
			} else {
				r->count++;
				r->bytes += size;
			}
		}
	} while (r->ok && bench_now() < end);
	r->secs = bench_now() - start;
	o->shutdown(fd, SHUT_WR);
	o->close(fd);
}

/* One connect/request/response/close on an accepted socket. */
static bool crr_serve_one(const struct bench_ops *o, int fd,
			  struct bench_result *r)
{
	uint8_t buf[BENCH_CRR_SIZE], c;
	ssize_t n;

	if (!recv_full(o, fd, buf, sizeof(buf)))
		return false;
	if (!send_full(o, fd, buf, sizeof(buf)))
		return false;
	/* Wait for the client's close, so that the client, not the
	 * server, ends in TIME_WAIT (as an HTTP/1.0 server arranges). */
	do
		n = o->recv(fd, &c, 1, 0);
	while (n < 0 && errno == EINTR);
	if (n != 0)
		return false;
	r->count++;
	r->bytes += sizeof(buf);
	return true;
}

void bench_crr_server(const struct bench_ops *o, uint32_t addr,
		      uint16_t base_port, volatile bool *stop,
		      void (*ready)(void), struct bench_result *r)
{
	struct pollfd pfd[BENCH_CRR_PORTS];
	double start = bench_now();

	r->ok = true;
	for (int i = 0; i < BENCH_CRR_PORTS; i++) {
		pfd[i].fd = bench_listen(o, addr, (uint16_t)(base_port + i));
		pfd[i].events = POLLIN;
		if (pfd[i].fd < 0) {
			r->ok = false;
			while (i-- > 0)
				o->close(pfd[i].fd);
			return;
		}
	}
	ready();
	while (!*stop) {
		int n = o->poll(pfd, BENCH_CRR_PORTS, 200);

		for (int i = 0; n > 0 && i < BENCH_CRR_PORTS; i++) {
			int fd;

			if (!(pfd[i].revents & POLLIN))
				continue;
			fd = o->accept(pfd[i].fd, NULL, NULL);
			if (fd < 0)
				continue;
			if (!crr_serve_one(o, fd, r))
				r->ok = false;
			o->close(fd);
		}
	}
	r->secs = bench_now() - start;
	for (int i = 0; i < BENCH_CRR_PORTS; i++)
		o->close(pfd[i].fd);
}

void bench_crr_client(const struct bench_ops *o, uint32_t addr,
		      uint16_t base_port, double secs, struct bench_result *r)
{
	uint8_t req[BENCH_CRR_SIZE], resp[BENCH_CRR_SIZE];
	double start = bench_now(), end = start + secs;

	r->ok = true;
	while (r->ok && bench_now() < end) {
		uint16_t port = (uint16_t)(base_port + r->count % BENCH_CRR_PORTS);
		int fd = bench_connect(o, addr, port, true);

		if (fd < 0) {
			fail(r, "connect");
			break;
		}
		memset(req, (int)(r->count & 0xff), sizeof(req));
		if (!send_full(o, fd, req, sizeof(req)))
			fail(r, "send");
		else if (!recv_full(o, fd, resp, sizeof(resp)))
			fail(r, "recv");
		else if (memcmp(req, resp, sizeof(req)) != 0) {
			errno = 0;
			fail(r, "response differs from request");
		} else {
			r->count++;
			r->bytes += sizeof(req);
		}
		o->close(fd);
	}
	r->secs = bench_now() - start;
}

static double tv_secs(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

void bench_print_result(const struct bench_ops *o, const struct bench_result *r)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	printf("result mode=%s stack=%s bytes=%llu secs=%.6f count=%llu "
	       "cpu_user=%.3f cpu_sys=%.3f ok=%d\n", r->mode, o->name,
	       (unsigned long long)r->bytes, r->secs,
	       (unsigned long long)r->count, tv_secs(ru.ru_utime),
	       tv_secs(ru.ru_stime), r->ok ? 1 : 0);
	fflush(stdout);
}
