/*
 * oob_demo.c - TCP urgent data, the way telnet and rlogin use it for an
 * "interrupt": a client streams bulk data and, at some point, sends one
 * urgent byte (send(MSG_OOB)); the server reports that byte and where it
 * sits in the stream the moment it arrives, while the bulk data before it
 * is still queued, then reads on to the mark (SIOCATMARK) and to the end.
 *
 *   oob_demo server --port P [--read-delay-ms D] [--oobinline] ...
 *   oob_demo client --to A.B.C.D:P --bytes N
 *                   (--urgent-at K | --urgent-after-ms T) [--byte C] ...
 *
 * Each runs on a ustack instance on a TAP device (--tap, --addr and the
 * other stack options of common.c), or with --kernel on the kernel's own
 * sockets: the same program either way, which is how the interop test
 * (tests/integ/tcp_urgent.sh) compares ustack with Linux.
 *
 * The server serves one connection. It is the socket's owner (F_SETOWN),
 * so SIGURG tells it that urgent data is on its way as soon as a segment
 * with the urgent pointer arrives; poll's POLLPRI says the byte is there,
 * recv(MSG_OOB) takes it, and FIONREAD, which stops at the mark, says how
 * much bulk data is queued before it. Lines that depend on timing start
 * with "info:"; the others are the same on every run of the same input.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

static const char usage[] =
	"Usage: oob_demo server --port P [OPTIONS]\n"
	"       oob_demo client --to A.B.C.D:P --bytes N\n"
	"                       (--urgent-at K | --urgent-after-ms T) [OPTIONS]\n"
	"\n"
	"TCP urgent data as telnet's \"interrupt\" uses it. The client streams N\n"
	"bytes and sends one urgent byte after K of them (or after T ms); the\n"
	"server reports the urgent byte and its stream offset when it arrives,\n"
	"then the mark and the end of the stream. One connection, then exit.\n"
	"\n"
	"Options:\n"
	"  --kernel           use the kernel's sockets, not ustack (no --tap)\n"
	"  --port P           server: TCP port to listen on\n"
	"  --read-delay-ms D  server: pause between reads (default 5), so that\n"
	"                     bulk data is queued when the urgent byte comes\n"
	"  --oobinline        server: SO_OOBINLINE, the urgent byte in the stream\n"
	"  --to A.B.C.D:P     client: the server\n"
	"  --bytes N          client: bulk bytes to send (default 1000000)\n"
	"  --urgent-at K      client: send the urgent byte after K bulk bytes\n"
	"  --urgent-after-ms T  client: ... after T ms of sending instead\n"
	"  --byte C           client: the urgent byte (default '!')\n"
	"\n"
	"Stack options (ustack, without --kernel):\n"
	STACK_OPTIONS_HELP;

enum {
	OPT_KERNEL = OPT_TOOL, OPT_PORT, OPT_READ_DELAY, OPT_INLINE, OPT_TO,
	OPT_BYTES, OPT_URGENT_AT, OPT_URGENT_AFTER, OPT_BYTE,
};

static const struct option options[] = {
	STACK_LONG_OPTIONS,
	{ "kernel", no_argument, NULL, OPT_KERNEL },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "read-delay-ms", required_argument, NULL, OPT_READ_DELAY },
	{ "oobinline", no_argument, NULL, OPT_INLINE },
	{ "to", required_argument, NULL, OPT_TO },
	{ "bytes", required_argument, NULL, OPT_BYTES },
	{ "urgent-at", required_argument, NULL, OPT_URGENT_AT },
	{ "urgent-after-ms", required_argument, NULL, OPT_URGENT_AFTER },
	{ "byte", required_argument, NULL, OPT_BYTE },
	{ NULL, 0, NULL, 0 },
};

struct demo {
	bool server, kernel, oobinline, have_to;
	uint16_t port;
	unsigned int read_delay_ms;
	struct sockaddr_in to;
	uint64_t bytes, urgent_at, urgent_after_ms;
	bool have_urgent_at, have_urgent_after;
	unsigned char byte;
};

static void one_option(struct demo *d, int opt, const char *arg)
{
	switch (opt) {
	case OPT_KERNEL: d->kernel = true; break;
	case OPT_PORT:
		d->port = (uint16_t)parse_range("--port", arg, 1, 65535);
		break;
	case OPT_READ_DELAY:
		d->read_delay_ms = (unsigned int)parse_range("--read-delay-ms",
							     arg, 0, 10000);
		break;
	case OPT_INLINE: d->oobinline = true; break;
	case OPT_TO:
		parse_host_port("--to", arg, &d->to);
		d->have_to = true;
		break;
	case OPT_BYTES:
		d->bytes = parse_range("--bytes", arg, 0, UINT64_C(1) << 40);
		break;
	case OPT_URGENT_AT:
		d->urgent_at = parse_range("--urgent-at", arg, 0,
					   UINT64_C(1) << 40);
		d->have_urgent_at = true;
		break;
	case OPT_URGENT_AFTER:
		d->urgent_after_ms = parse_range("--urgent-after-ms", arg, 0,
						 3600000);
		d->have_urgent_after = true;
		break;
	case OPT_BYTE:
		if (strlen(arg) != 1)
			usage_error("--byte: one character, not '%s'", arg);
		d->byte = (unsigned char)arg[0];
		break;
	default:
		usage_error("unknown option (try 'oob_demo --help')");
	}
}

static void parse(int argc, char **argv, struct demo *d, struct stack_opts *so)
{
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			exit(0);
		}
		if (opt == ':')
			usage_error("%s: missing value", argv[optind - 1]);
		if (opt == '?')
			usage_error("unknown option '%s' (try 'oob_demo --help')",
				    argv[optind - 1]);
		if (!stack_option(so, opt, optarg))
			one_option(d, opt, optarg);
	}
	/* The mode, anywhere among the options (getopt moved it last). */
	if (optind != argc - 1 || (strcmp(argv[optind], "server") &&
				   strcmp(argv[optind], "client")))
		usage_error("say 'server' or 'client' (try 'oob_demo --help')");
	d->server = !strcmp(argv[optind], "server");
	if (!d->kernel && (!so->ifc.ifname[0] || !so->have_addr))
		usage_error("--tap NAME and --addr A.B.C.D/N are required "
			    "(or --kernel)");
	if (d->server && !d->port)
		usage_error("--port P is required");
	if (!d->server && !d->have_to)
		usage_error("--to A.B.C.D:P is required");
	if (!d->server && d->have_urgent_at == d->have_urgent_after)
		usage_error("one of --urgent-at K and --urgent-after-ms T");
	if (d->have_urgent_at && d->urgent_at > d->bytes)
		usage_error("--urgent-at %" PRIu64 " is beyond --bytes %" PRIu64,
			    d->urgent_at, d->bytes);
}

/* The bulk data: a pattern from its stream offset, so any byte lost,
 * doubled or moved shows in the checksum. */
static unsigned char bulk_byte(uint64_t off)
{
	return (unsigned char)('a' + off % 26);
}

/* FNV-1a, 64 bits, over the bulk stream as received. */
static uint64_t fnv(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * UINT64_C(0x100000001b3);
	return h;
}

/* ---- server ---------------------------------------------------------------- */

static volatile sig_atomic_t sigurgs;

static void on_sigurg(int sig)
{
	(void)sig;
	sigurgs++;
}

struct rx {
	int fd;
	uint64_t total;           /* bulk bytes read */
	uint64_t hash;
	int urgent;               /* urgent bytes taken */
	int sigurgs_seen;
	bool oobinline, at_mark_reported;
};

static int atmark(int fd)
{
	int v = 0;

	return us_ioctl(fd, SIOCATMARK, &v) < 0 ? -1 : v;
}

/* Take the urgent byte and say where it is: FIONREAD stops at the mark,
 * so what it counts lies between what we read and the urgent byte. */
static void take_urgent(struct rx *r)
{
	unsigned char c;
	int before = 0;

	if (us_recv(r->fd, &c, 1, MSG_OOB) != 1)
		return;
	us_ioctl(r->fd, FIONREAD, &before);
	r->urgent++;
	printf("oob_demo: urgent byte '%c' (0x%02x) at stream offset %" PRIu64
	       "\n", c >= 32 && c < 127 ? c : '.', c, r->total + (uint64_t)before);
	printf("info: %d bulk bytes still queued before it\n", before);
	fflush(stdout);
}

static void note_signals(struct rx *r)
{
	if (sigurgs != r->sigurgs_seen) {
		r->sigurgs_seen = sigurgs;
		printf("info: SIGURG (urgent data on its way)\n");
		fflush(stdout);
	}
}

/* At the mark: the urgent byte must be taken before the stream is read
 * on, or the read passes over it and it is gone. */
static void at_mark(struct rx *r)
{
	struct pollfd p = { .fd = r->fd, .events = POLLPRI };

	if (!r->at_mark_reported) {
		printf("oob_demo: reached the mark at offset %" PRIu64 "\n",
		       r->total);
		fflush(stdout);
		r->at_mark_reported = true;
	}
	if (r->oobinline)
		return;
	for (;;) {
		unsigned char c;
		ssize_t n = us_recv(r->fd, &c, 1, MSG_OOB | MSG_PEEK);

		if (n == 1) {
			take_urgent(r);
			return;
		}
		if (n < 0 && errno != EAGAIN)
			return;   /* EINVAL: taken already */
		if (us_poll(&p, 1, 1000) < 0 && errno != EINTR)
			return;
	}
}

static int serve(const struct demo *d, int lfd)
{
	struct sigaction sa = { .sa_handler = on_sigurg };
	struct rx r = { .hash = UINT64_C(0xcbf29ce484222325),
			.oobinline = d->oobinline };
	struct timespec delay = { d->read_delay_ms / 1000,
				  (long)(d->read_delay_ms % 1000) * 1000000L };
	unsigned char buf[4096];
	bool lastmark = false;

	sigaction(SIGURG, &sa, NULL);
	r.fd = us_accept(lfd, NULL, NULL);
	if (r.fd < 0) {
		fprintf(stderr, "oob_demo: accept: %s\n", strerror(errno));
		return 1;
	}
	us_fcntl(r.fd, F_SETOWN, getpid());
	if (d->oobinline)
		us_setsockopt(r.fd, SOL_SOCKET, SO_OOBINLINE, &(int){1},
			      sizeof(int));
	printf("oob_demo: connection accepted\n");
	fflush(stdout);
	for (;;) {
		struct pollfd p = { .fd = r.fd, .events = POLLIN | POLLPRI };
		ssize_t n;
		int m;

		note_signals(&r);
		if (us_poll(&p, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if ((p.revents & POLLPRI) && !d->oobinline)
			take_urgent(&r);
		m = atmark(r.fd);
		if (m == 1 && !lastmark)
			at_mark(&r);
		lastmark = m == 1;
		if (!(p.revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = us_recv(r.fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			fprintf(stderr, "oob_demo: recv: %s\n", strerror(errno));
			us_close(r.fd);
			return 1;
		}
		r.hash = fnv(r.hash, buf, (size_t)n);
		r.total += (uint64_t)n;
		if (d->read_delay_ms)
			nanosleep(&delay, NULL);
	}
	note_signals(&r);
	printf("oob_demo: end of stream after %" PRIu64 " bytes in band, "
	       "%d urgent byte(s) out of band, fnv %016" PRIx64 "\n",
	       r.total, r.urgent, r.hash);
	us_close(r.fd);
	return 0;
}

/* ---- client ---------------------------------------------------------------- */

/* Is it time for the urgent byte, after `sent` bulk bytes? */
static bool urgent_due(const struct demo *d, uint64_t sent, double start)
{
	if (d->have_urgent_at)
		return sent == d->urgent_at;
	return sent == d->bytes ||
	       (now_seconds() - start) * 1000 >= (double)d->urgent_after_ms;
}

static int stream(const struct demo *d, int fd)
{
	unsigned char buf[16384];
	uint64_t sent = 0, hash = UINT64_C(0xcbf29ce484222325);
	bool urgent_sent = false;
	double start = now_seconds();

	for (;;) {
		size_t n = sizeof(buf);

		if (!urgent_sent && urgent_due(d, sent, start)) {
			if (us_send(fd, &d->byte, 1, MSG_OOB | MSG_NOSIGNAL) != 1) {
				fprintf(stderr, "oob_demo: send(MSG_OOB): %s\n",
					strerror(errno));
				return 1;
			}
			urgent_sent = true;
			printf("oob_demo: sent urgent byte '%c' after %" PRIu64
			       " bytes\n", d->byte, sent);
			fflush(stdout);
			continue;
		}
		if (sent == d->bytes)
			break;
		if (d->bytes - sent < n)
			n = (size_t)(d->bytes - sent);
		if (!urgent_sent && d->have_urgent_at && d->urgent_at - sent < n)
			n = (size_t)(d->urgent_at - sent);
		for (size_t i = 0; i < n; i++)
			buf[i] = bulk_byte(sent + i);
		if (send_all(fd, buf, n) < 0) {
			fprintf(stderr, "oob_demo: send: %s\n", strerror(errno));
			return 1;
		}
		hash = fnv(hash, buf, n);
		sent += n;
	}
	printf("oob_demo: sent %" PRIu64 " bulk bytes, fnv %016" PRIx64 "\n",
	       sent, hash);
	fflush(stdout);
	return 0;
}

/* Our side done: wait for the server's close, which follows our FIN. */
static void finish(int fd)
{
	unsigned char b[256];

	us_shutdown(fd, SHUT_WR);
	while (us_recv(fd, b, sizeof(b), 0) > 0)
		;
}

static int run_client(const struct demo *d)
{
	int fd = d->kernel ? socket(AF_INET, SOCK_STREAM, 0)
			   : us_socket(AF_INET, SOCK_STREAM, 0);
	int rc;

	if (fd < 0 || us_connect(fd, (const struct sockaddr *)&d->to,
				 sizeof(d->to)) < 0) {
		fprintf(stderr, "oob_demo: connect: %s\n", strerror(errno));
		return 1;
	}
	rc = stream(d, fd);
	if (rc == 0)
		finish(fd);
	us_close(fd);
	return rc;
}

static int run_server(const struct demo *d)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(d->port) };
	int fd = d->kernel ? socket(AF_INET, SOCK_STREAM, 0)
			   : us_socket(AF_INET, SOCK_STREAM, 0);
	int rc;

	if (fd < 0 ||
	    us_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &(int){1},
			  sizeof(int)) < 0 ||
	    us_bind(fd, (const struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    us_listen(fd, 1) < 0) {
		fprintf(stderr, "oob_demo: listen on port %u: %s\n", d->port,
			strerror(errno));
		return 1;
	}
	printf("oob_demo: listening on port %u (%s)\n", d->port,
	       d->kernel ? "kernel" : "ustack");
	fflush(stdout);
	rc = serve(d, fd);
	us_close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct demo d = { .read_delay_ms = 5, .bytes = 1000000, .byte = '!' };
	struct stack_opts o;
	struct ustack *st = NULL;
	int rc;

	tool_name = "oob_demo";
	stack_opts_init(&o);
	parse(argc, argv, &d, &o);
	signal(SIGPIPE, SIG_IGN);
	if (!d.kernel) {
		st = stack_up(&o);
		if (!st)
			return 1;
		print_ready(st, &o, d.server ? "server" : "client");
	}
	rc = d.server ? run_server(&d) : run_client(&d);
	if (st) {
		/* Let the last FIN and ACK go, then stop. */
		stack_wait_quiet(st, QUIET_WAIT_MS);
		ustack_stop(st);
		ustack_destroy(st);
	}
	return rc;
}
