/*
 * udp_echo.c - a UDP echo server and client written on the ustack API.
 *
 *   udp_echo server --tap T --addr A.B.C.D/N --port P
 *   udp_echo client --tap T --addr A.B.C.D/N --to HOST:PORT --count N
 *                   --min-size A --max-size B [--seed S]
 *
 * Each attaches a ustack instance to the TAP device T in the current
 * network namespace (creating it when absent) at the given address, starts
 * the runtime thread (common.c), and then uses nothing but the BSD calls
 * (us_socket, us_bind, us_recvfrom, us_sendto, us_setsockopt, us_close) on
 * one UDP socket. The server echoes every datagram to its sender until
 * SIGINT or SIGTERM, then prints
 *
 *   udp_echo: stopping on SIGTERM: received N datagrams (B bytes), echoed N,
 *   send errors E
 *
 * and ustack's counters and the state left (stack_report). The client
 * sends N datagrams of seeded random sizes and bytes, one at a time, waits
 * for each echo (SO_RCVTIMEO, a bounded number of resends: UDP may lose),
 * checks every byte, prints
 *
 *   udp_echo: sent N, echoed N, mismatched 0, lost K
 *
 * and exits 1 on any mismatch or when more than --max-lost were lost. Bad
 * command-line input gets one line on stderr naming the argument, and exit
 * status 2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define UDP_PAYLOAD_MAX 65507   /* 65535 - 20 (IPv4) - 8 (UDP) */
#define RECV_BUF_LEN 65536      /* larger than any datagram: no truncation */
#define LATE_RING 64            /* timed-out datagrams whose echo may come */
#define RECV_SLICE_MS 200       /* longest SO_RCVTIMEO, to notice signals */

static const char main_usage[] =
	"Usage: udp_echo server|client [OPTIONS]\n"
	"\n"
	"A UDP echo server and client on ustack, each on a TAP device in the\n"
	"current network namespace. See 'udp_echo server --help' and\n"
	"'udp_echo client --help'.\n";

static const char server_usage[] =
	"Usage: udp_echo server --tap NAME --addr A.B.C.D/N --port P [OPTIONS]\n"
	"\n"
	"Attach ustack to the TAP device NAME (created when absent) at the\n"
	"address, bind a UDP socket to port P and send every datagram back to\n"
	"its sender until SIGINT or SIGTERM; then print the totals, ustack's\n"
	"counters and the state left, and exit 0. Prints\n"
	"\"udp_echo: up on NAME addr A.B.C.D/N mac M port P\" once ready.\n"
	"\n"
	"Options:\n"
	"  --port P           UDP port to serve, 1..65535 (required)\n"
	STACK_OPTIONS_HELP;

static const char client_usage[] =
	"Usage: udp_echo client --tap NAME --addr A.B.C.D/N --to HOST:PORT\n"
	"                       --count N --min-size A --max-size B [OPTIONS]\n"
	"\n"
	"Attach ustack to the TAP device NAME (created when absent) at the\n"
	"address and send N datagrams of random sizes A..B bytes (random bytes,\n"
	"seeded) one at a time to the echo server HOST:PORT. Each echo is awaited\n"
	"for --timeout-ms, the datagram resent up to --retries times, and every\n"
	"echoed byte compared. Prints\n"
	"  udp_echo: sent N, echoed N, mismatched M, lost K\n"
	"and exits 1 when M > 0 or K > --max-lost, else 0. SIGINT or SIGTERM\n"
	"stops it early (summary printed, exit 1). --seed S seeds the sizes and\n"
	"bytes as well as the stack; without it they come from the time, and\n"
	"the seed used is printed, so that a run can be repeated.\n"
	"\n"
	"Options:\n"
	"  --to HOST:PORT     the echo server, an IPv4 address (required)\n"
	"  --count N          datagrams to send, 1..100000000 (required)\n"
	"  --min-size A       smallest payload, 0..65507 bytes (required)\n"
	"  --max-size B       largest payload, A..65507 bytes (required)\n"
	"  --timeout-ms T     wait for one echo, 1..600000 ms (default 1000)\n"
	"  --retries R        resends of an unanswered datagram, 0..100 (default 3)\n"
	"  --max-lost K       datagrams that may stay unanswered (default 0)\n"
	STACK_OPTIONS_HELP;

enum {
	OPT_PORT = OPT_TOOL, OPT_TO, OPT_COUNT, OPT_MIN_SIZE, OPT_MAX_SIZE,
	OPT_TIMEOUT_MS, OPT_RETRIES, OPT_MAX_LOST,
};

static const struct option server_options[] = {
	STACK_LONG_OPTIONS,
	{ "port", required_argument, NULL, OPT_PORT },
	{ NULL, 0, NULL, 0 },
};

static const struct option client_options[] = {
	STACK_LONG_OPTIONS,
	{ "to", required_argument, NULL, OPT_TO },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "min-size", required_argument, NULL, OPT_MIN_SIZE },
	{ "max-size", required_argument, NULL, OPT_MAX_SIZE },
	{ "timeout-ms", required_argument, NULL, OPT_TIMEOUT_MS },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "max-lost", required_argument, NULL, OPT_MAX_LOST },
	{ NULL, 0, NULL, 0 },
};

/* The client's own options. */
struct client_opts {
	struct sockaddr_in to;
	uint64_t seed;            /* of the sizes and bytes */
	uint64_t count, min_size, max_size, timeout_ms, retries, max_lost;
	bool have_to, have_count, have_min, have_max;
};

static void client_option(void *ctx, int opt, const char *arg)
{
	struct client_opts *o = ctx;

	switch (opt) {
	case OPT_TO:
		parse_host_port("--to", arg, &o->to);
		o->have_to = true;
		break;
	case OPT_COUNT:
		o->count = parse_range("--count", arg, 1, 100000000);
		o->have_count = true;
		break;
	case OPT_MIN_SIZE:
		o->min_size = parse_range("--min-size", arg, 0, UDP_PAYLOAD_MAX);
		o->have_min = true;
		break;
	case OPT_MAX_SIZE:
		o->max_size = parse_range("--max-size", arg, 0, UDP_PAYLOAD_MAX);
		o->have_max = true;
		break;
	case OPT_TIMEOUT_MS:
		o->timeout_ms = parse_range("--timeout-ms", arg, 1, 600000);
		break;
	case OPT_RETRIES:
		o->retries = parse_range("--retries", arg, 0, 100);
		break;
	case OPT_MAX_LOST:
		o->max_lost = parse_range("--max-lost", arg, 0, 100000000);
		break;
	}
}

static void server_option(void *ctx, int opt, const char *arg)
{
	uint16_t *port = ctx;

	if (opt == OPT_PORT)
		*port = (uint16_t)parse_range("--port", arg, 1, 65535);
}

/* A UDP socket bound to port (0 = any), or -1 after saying why. */
static int udp_socket(uint16_t port)
{
	struct sockaddr_in sin;
	int fd = us_socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0) {
		fprintf(stderr, "udp_echo: socket: %s\n", strerror(errno));
		return -1;
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (us_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		fprintf(stderr, "udp_echo: bind to port %u: %s\n", port,
			strerror(errno));
		us_close(fd);
		return -1;
	}
	return fd;
}

/* ---- server ------------------------------------------------------------- */

struct server_stats {
	uint64_t datagrams, bytes, echoed, send_errors;
};

/* Echo what the socket holds, without blocking on receive. */
static int echo_pending(int fd, uint8_t *buf, struct server_stats *s)
{
	for (;;) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n = us_recvfrom(fd, buf, RECV_BUF_LEN, MSG_DONTWAIT,
					(struct sockaddr *)&from, &flen);

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return 0;
			fprintf(stderr, "udp_echo: recvfrom: %s\n", strerror(errno));
			return -1;
		}
		s->datagrams++;
		s->bytes += (uint64_t)n;
		if (us_sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from,
			      flen) == n)
			s->echoed++;
		else if (s->send_errors++ < 10)
			fprintf(stderr, "udp_echo: sendto (%zd bytes): %s\n", n,
				strerror(errno));
	}
}

/*
 * The socket's descriptor is a kernel file that polls readable while the
 * socket has data, so one kernel poll() waits for datagrams and signals.
 */
static int serve(int fd, int sfd, struct server_stats *s)
{
	uint8_t *buf = malloc(RECV_BUF_LEN);
	struct pollfd pfd[2] = { { fd, POLLIN, 0 }, { sfd, POLLIN, 0 } };
	int sig = -1;

	if (!buf)
		return -1;
	while (sig < 0) {
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((pfd[0].revents & POLLIN) && echo_pending(fd, buf, s) < 0)
			break;
		if (pfd[1].revents & POLLIN)
			sig = read_signal(sfd);
	}
	free(buf);
	return sig;
}

static int cmd_server(int argc, char **argv)
{
	struct server_stats s = { 0 };
	struct stack_opts o;
	struct ustack *st;
	uint16_t port = 0;
	char extra[32];
	int fd, sfd, sig, rest;

	stack_opts_init(&o);
	rest = parse_options(argc, argv, server_options, server_usage, &o,
			     server_option, &port);
	if (rest < argc)
		usage_error("server: unexpected argument '%s'", argv[rest]);
	if (!port)
		usage_error("server: --port P is required");
	sfd = open_signalfd();
	if (sfd < 0) {
		fprintf(stderr, "udp_echo: signalfd: %s\n", strerror(errno));
		return 1;
	}
	st = stack_up(&o);
	fd = st ? udp_socket(port) : -1;
	if (fd < 0) {
		ustack_destroy(st);
		close(sfd);
		return 1;
	}
	snprintf(extra, sizeof(extra), "port %u", port);
	print_ready(st, &o, extra);
	sig = serve(fd, sfd, &s);
	us_close(fd);
	ustack_stop(st);
	printf("udp_echo: stopping on %s: received %" PRIu64 " datagrams (%"
	       PRIu64 " bytes), echoed %" PRIu64 ", send errors %" PRIu64 "\n",
	       sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "an error",
	       s.datagrams, s.bytes, s.echoed, s.send_errors);
	stack_report(st, stdout);
	ustack_destroy(st);
	close(sfd);
	return sig > 0 ? 0 : 1;
}

/* ---- client ------------------------------------------------------------- */

/* splitmix64: small, fast, and every (seed, index) gives its own stream. */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * Datagram i's size and bytes depend on (seed, i) alone, so a late echo of
 * an earlier datagram can be recognised by regenerating it.
 */
static size_t make_datagram(const struct client_opts *o, uint64_t i,
			    uint8_t *buf)
{
	uint64_t x = o->seed ^ (i * 0xd1342543de82ef95ull);
	uint64_t span = o->max_size - o->min_size + 1;
	size_t len = (size_t)(o->min_size + splitmix64(&x) % span);

	for (size_t k = 0; k < len; k += 8) {
		uint64_t r = splitmix64(&x);
		size_t n = len - k < 8 ? len - k : 8;

		memcpy(buf + k, &r, n);
	}
	return len;
}

struct client {
	const struct client_opts *o;
	int fd;
	uint8_t *tx, *rx, *old;   /* this datagram, the echo, a regenerated one */
	uint64_t late_ids[LATE_RING];
	unsigned int late_n;      /* entries used, oldest overwritten */
	/* what the summary reports */
	uint64_t sent, echoed, mismatched, lost;
	uint64_t resends, late, stray, bytes;
};

enum echo_result { ECHO_OK, ECHO_TIMEOUT, ECHO_MISMATCH, ECHO_ERROR };

/* SIGINT or SIGTERM: stop, report and close the capture. */
static volatile sig_atomic_t client_signal;

static void client_on_signal(int sig)
{
	client_signal = sig;
}

static void client_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = client_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void remember_late(struct client *c, uint64_t i)
{
	for (unsigned int k = 0; k < c->late_n && k < LATE_RING; k++)
		if (c->late_ids[k] == i)
			return;
	c->late_ids[c->late_n++ % LATE_RING] = i;
}

/* Is rx (n bytes) the echo of a datagram that timed out before? */
static bool is_late_echo(struct client *c, size_t n)
{
	for (unsigned int k = 0; k < c->late_n && k < LATE_RING; k++) {
		size_t len = make_datagram(c->o, c->late_ids[k], c->old);

		if (len == n && memcmp(c->old, c->rx, n) == 0)
			return true;
	}
	return false;
}

static void report_mismatch(const struct client *c, uint64_t i, size_t want,
			    size_t got)
{
	size_t k = 0;

	while (k < want && k < got && c->tx[k] == c->rx[k])
		k++;
	fprintf(stderr, "udp_echo: datagram %" PRIu64 ": sent %zu bytes, echo "
		"has %zu, first difference at byte %zu\n", i, want, got, k);
}

static int set_rcvtimeo(int fd, uint64_t ms)
{
	struct timeval tv = { (time_t)(ms / 1000),
			      (suseconds_t)(ms % 1000) * 1000 };

	return us_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

/* Wait up to the timeout for datagram i's echo; other datagrams that come
 * meanwhile are counted as late echoes, strays or mismatches. */
static enum echo_result await_echo(struct client *c, uint64_t i, size_t len)
{
	uint64_t deadline = now_ms() + c->o->timeout_ms, t;

	/* A blocked receive does not end on a signal, so it waits in slices
	 * of at most RECV_SLICE_MS, and a signal is seen within one. */
	while ((t = now_ms()) < deadline && !client_signal) {
		struct sockaddr_in from;
		socklen_t flen = sizeof(from);
		ssize_t n;

		if (set_rcvtimeo(c->fd, deadline - t < RECV_SLICE_MS ?
					deadline - t : RECV_SLICE_MS) < 0)
			return ECHO_ERROR;
		n = us_recvfrom(c->fd, c->rx, RECV_BUF_LEN, 0,
				(struct sockaddr *)&from, &flen);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "udp_echo: recvfrom: %s\n", strerror(errno));
			return ECHO_ERROR;
		}
		if (from.sin_addr.s_addr != c->o->to.sin_addr.s_addr ||
		    from.sin_port != c->o->to.sin_port) {
			c->stray++;
			continue;
		}
		if ((size_t)n == len && memcmp(c->tx, c->rx, len) == 0)
			return ECHO_OK;
		if (is_late_echo(c, (size_t)n)) {
			c->late++;
			continue;
		}
		report_mismatch(c, i, len, (size_t)n);
		return ECHO_MISMATCH;
	}
	return ECHO_TIMEOUT;
}

/* Send datagram i and wait for its echo, resending on timeouts. */
static int exchange_one(struct client *c, uint64_t i)
{
	size_t len = make_datagram(c->o, i, c->tx);

	for (uint64_t attempt = 0; attempt <= c->o->retries; attempt++) {
		enum echo_result r;

		if (attempt > 0) {
			if (c->resends++ < 10)
				fprintf(stderr, "udp_echo: datagram %" PRIu64
					" (%zu bytes): no echo within %" PRIu64
					" ms, sending it again\n", i, len,
					c->o->timeout_ms);
			remember_late(c, i);
		}
		if (us_sendto(c->fd, c->tx, len, 0, (struct sockaddr *)&c->o->to,
			      sizeof(c->o->to)) != (ssize_t)len) {
			fprintf(stderr, "udp_echo: sendto (%zu bytes): %s\n", len,
				strerror(errno));
			return -1;
		}
		c->bytes += len;
		r = await_echo(c, i, len);
		if (r == ECHO_ERROR || client_signal)
			return -1;
		if (r == ECHO_OK) {
			c->echoed++;
			return 0;
		}
		if (r == ECHO_MISMATCH) {
			/* The true echo may still come: do not blame the
			 * next datagram for it. */
			c->mismatched++;
			remember_late(c, i);
			return 0;
		}
	}
	c->lost++;
	remember_late(c, i);
	fprintf(stderr, "udp_echo: datagram %" PRIu64 " (%zu bytes): no echo "
		"after %" PRIu64 " tries\n", i, len, c->o->retries + 1);
	return 0;
}

static int run_client(struct client *c)
{
	int rc = 0;

	for (uint64_t i = 0; i < c->o->count && rc == 0; i++) {
		c->sent++;
		rc = exchange_one(c, i);
	}
	printf("udp_echo: sent %" PRIu64 ", echoed %" PRIu64 ", mismatched %"
	       PRIu64 ", lost %" PRIu64 "\n", c->sent, c->echoed, c->mismatched,
	       c->lost);
	printf("udp_echo: resent %" PRIu64 ", late echoes %" PRIu64
	       ", stray datagrams %" PRIu64 ", payload bytes sent %" PRIu64 "\n",
	       c->resends, c->late, c->stray, c->bytes);
	if (client_signal)
		printf("udp_echo: stopped by %s\n",
		       client_signal == SIGINT ? "SIGINT" : "SIGTERM");
	if (rc < 0)
		return 1;
	if (c->mismatched || c->lost > c->o->max_lost)
		return 1;
	return 0;
}

static void check_client_opts(struct client_opts *o, uint64_t stack_seed)
{
	if (!o->have_to)
		usage_error("client: --to HOST:PORT is required");
	if (!o->have_count)
		usage_error("client: --count N is required");
	if (!o->have_min)
		usage_error("client: --min-size A is required");
	if (!o->have_max)
		usage_error("client: --max-size B is required");
	if (o->min_size > o->max_size)
		usage_error("--max-size %" PRIu64 ": smaller than --min-size %"
			    PRIu64, o->max_size, o->min_size);
	o->seed = stack_seed;
	if (!o->seed)
		o->seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
}

static int cmd_client(int argc, char **argv)
{
	struct client_opts co = { .timeout_ms = 1000, .retries = 3 };
	struct stack_opts so;
	struct ustack *st;
	struct client c;
	int rc = 1, rest;

	stack_opts_init(&so);
	rest = parse_options(argc, argv, client_options, client_usage, &so,
			     client_option, &co);
	if (rest < argc)
		usage_error("client: unexpected argument '%s'", argv[rest]);
	check_client_opts(&co, so.seed);
	client_catch_signals();
	memset(&c, 0, sizeof(c));
	c.o = &co;
	c.tx = malloc(RECV_BUF_LEN);
	c.rx = malloc(RECV_BUF_LEN);
	c.old = malloc(RECV_BUF_LEN);
	st = (c.tx && c.rx && c.old) ? stack_up(&so) : NULL;
	c.fd = st ? udp_socket(0) : -1;
	if (c.fd >= 0) {
		printf("udp_echo: client: %" PRIu64 " datagrams of %" PRIu64
		       "..%" PRIu64 " bytes, seed %" PRIu64 "\n", co.count,
		       co.min_size, co.max_size, co.seed);
		fflush(stdout);
		rc = run_client(&c);
		us_close(c.fd);
		ustack_stop(st);
		stack_report(st, stdout);
	}
	ustack_destroy(st);
	free(c.tx);
	free(c.rx);
	free(c.old);
	return rc;
}

int main(int argc, char **argv)
{
	tool_name = "udp_echo";
	if (argc < 2)
		usage_error("no command given (try 'udp_echo --help')");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "server") == 0)
		return cmd_server(argc - 1, argv + 1);
	if (strcmp(argv[1], "client") == 0)
		return cmd_client(argc - 1, argv + 1);
	usage_error("unknown command '%s' (try 'udp_echo --help')", argv[1]);
}
