/*
 * tcp_echo.c - a TCP echo server written on the ustack API.
 *
 *   tcp_echo --tap T --addr A.B.C.D/N --port P [--max-conns N]
 *
 * Attaches a ustack instance to the TAP device T in the current network
 * namespace (creating it when absent) at the given address, listens on
 * port P and sends every byte each client sends back to it, a thread per
 * connection with blocking us_recv/us_send (common.c, serve_connections).
 * When a client shuts its side down, the server closes the connection once
 * everything was echoed. On SIGINT or SIGTERM it stops accepting, shuts
 * every connection down, waits up to 3 s for the last closes to finish
 * (common.c, stack_wait_quiet), and prints
 *
 *   tcp_echo: stopping on SIGTERM: N connections, B bytes echoed, E errors
 *
 * then ustack's counters and the state left (stack_report), and exits 0.
 * Bad command-line input gets one line on stderr naming the argument, and
 * exit status 2.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

#define ECHO_BUF_LEN (64 * 1024)

static const char usage[] =
	"Usage: tcp_echo --tap NAME --addr A.B.C.D/N --port P [OPTIONS]\n"
	"\n"
	"Attach ustack to the TAP device NAME (created when absent) at the\n"
	"address, listen on TCP port P and echo every byte back to its sender,\n"
	"a thread per connection, until SIGINT or SIGTERM; then print the\n"
	"totals, ustack's counters and the state left, and exit 0. Prints\n"
	"\"tcp_echo: up on NAME addr A.B.C.D/N mac M port P\" once ready.\n"
	"\n"
	"Options:\n"
	"  --port P           TCP port to serve, 1..65535 (required)\n"
	"  --max-conns N      connections served at once, 1..4096 (default 256);\n"
	"                     more wait in the listen backlog\n"
	STACK_OPTIONS_HELP;

enum { OPT_PORT = OPT_TOOL, OPT_MAX_CONNS };

static const struct option options[] = {
	STACK_LONG_OPTIONS,
	{ "port", required_argument, NULL, OPT_PORT },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ NULL, 0, NULL, 0 },
};

struct echo {
	uint16_t port;
	unsigned int max_conns;
	atomic_uint_fast64_t bytes, errors;
};

static void one_option(void *ctx, int opt, const char *arg)
{
	struct echo *e = ctx;

	if (opt == OPT_PORT)
		e->port = (uint16_t)parse_range("--port", arg, 1, 65535);
	else if (opt == OPT_MAX_CONNS)
		e->max_conns = (unsigned int)parse_range("--max-conns", arg, 1,
							 4096);
}

/* A reset or our own shutdown at exit ends a connection without fuss. */
static void conn_error(struct echo *e, const char *what)
{
	if (errno != EPIPE && errno != ECONNRESET)
		fprintf(stderr, "tcp_echo: %s: %s\n", what, strerror(errno));
	e->errors++;
}

/* Echo until the client's end of stream (or an error). */
static void echo_conn(int fd, void *ctx)
{
	struct echo *e = ctx;
	uint8_t *buf = malloc(ECHO_BUF_LEN);

	while (buf) {
		ssize_t n = us_recv(fd, buf, ECHO_BUF_LEN, 0);

		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			conn_error(e, "recv");
			break;
		}
		if (send_all(fd, buf, (size_t)n) < 0) {
			conn_error(e, "send");
			break;
		}
		e->bytes += (uint64_t)n;
	}
	free(buf);
}

int main(int argc, char **argv)
{
	struct echo e = { .max_conns = 256 };
	struct serve_stats ss = { 0 };
	struct stack_opts o;
	struct ustack *st;
	char extra[32];
	int sfd, lfd, sig, rest;

	tool_name = "tcp_echo";
	stack_opts_init(&o);
	rest = parse_options(argc, argv, options, usage, &o, one_option, &e);
	if (rest < argc)
		usage_error("unexpected argument '%s'", argv[rest]);
	if (!e.port)
		usage_error("--port P is required");
	sfd = open_signalfd();
	if (sfd < 0) {
		fprintf(stderr, "tcp_echo: signalfd: %s\n", strerror(errno));
		return 1;
	}
	st = stack_up(&o);
	lfd = st ? tcp_listen(e.port, (int)e.max_conns) : -1;
	if (lfd < 0) {
		ustack_destroy(st);
		close(sfd);
		return 1;
	}
	snprintf(extra, sizeof(extra), "port %u", e.port);
	print_ready(st, &o, extra);
	sig = serve_connections(lfd, sfd, e.max_conns, echo_conn, &e, &ss);
	us_close(lfd);
	/* Let the last closes finish (a FIN may be lost), then stop. */
	stack_wait_quiet(st, QUIET_WAIT_MS);
	ustack_stop(st);
	printf("tcp_echo: stopping on %s: %" PRIu64 " connections, %" PRIu64
	       " bytes echoed, %" PRIu64 " errors\n",
	       sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "an error",
	       ss.accepted, (uint64_t)e.bytes,
	       (uint64_t)e.errors + ss.accept_errors);
	stack_report(st, stdout);
	ustack_destroy(st);
	close(sfd);
	return sig > 0 ? 0 : 1;
}
