/*
 * http_get.c - an HTTP/1.1 client written on the ustack API: save one URL
 * to a file.
 *
 *   http_get --tap T --addr A.B.C.D/N -o FILE http://A.B.C.D[:PORT]/PATH
 *
 * Attaches a ustack instance to the TAP device T in the current network
 * namespace (creating it when absent), connects to the server, sends one
 * GET (RFC 9110 §9.3.1) with "Connection: close", and writes the body of a
 * 200 response to FILE. The body's length comes from Content-Length, the
 * chunked coding (RFC 9112 §7.1), or the end of the connection (RFC 9112
 * §6.3), and is checked: a body shorter than its Content-Length is an
 * error. Prints
 *
 *   http_get: 200 OK, N bytes in S s (R MB/s) -> FILE
 *
 * and exits 0; on any error (refused, timed out, a status other than 200,
 * a short or malformed body, a write error) it says what went wrong,
 * removes FILE, and exits 1. Bad command-line input gets one line on
 * stderr naming the argument, and exit status 2.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common.h"

#define HEAD_MAX (64 * 1024)
#define BUF_LEN (256 * 1024)
#define LINE_MAX_LEN 1024       /* a chunk-size line */

static const char usage[] =
	"Usage: http_get --tap NAME --addr A.B.C.D/N -o FILE URL [OPTIONS]\n"
	"\n"
	"Attach ustack to the TAP device NAME (created when absent) at the\n"
	"address, fetch URL (http://A.B.C.D[:PORT]/PATH; no names, no https)\n"
	"with one HTTP/1.1 GET and save the body of a 200 response to FILE\n"
	"('-' for standard output). The body length (Content-Length, chunked,\n"
	"or up to the close) is checked. Exit status 0 when the whole body was\n"
	"saved; 1 on any error, after which FILE is removed; 2 on bad\n"
	"command-line input.\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE  where to save the body (required)\n"
	"  --timeout S        give up when connecting, or when the server sends\n"
	"                     nothing, for S seconds, 1..3600 (default 30)\n"
	"  --counters         after the transfer, print ustack's counters and\n"
	"                     the state left on stdout\n"
	STACK_OPTIONS_HELP;

enum { OPT_OUTPUT = 'o', OPT_TIMEOUT = OPT_TOOL, OPT_COUNTERS };

static const struct option options[] = {
	STACK_LONG_OPTIONS,
	{ "output", required_argument, NULL, OPT_OUTPUT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "counters", no_argument, NULL, OPT_COUNTERS },
	{ NULL, 0, NULL, 0 },
};

struct get {
	/* options */
	const char *output;
	unsigned int timeout_s;
	bool counters;
	struct sockaddr_in server;
	char host[64];          /* the Host field: A.B.C.D[:PORT] */
	const char *path;
	/* the transfer */
	int fd;                 /* the connection */
	int out;                /* the output file */
	bool created;           /* we opened (and truncated) it */
	char *buf;              /* received, not yet consumed: [pos, len) */
	size_t pos, len;
	uint64_t body;          /* body bytes written */
};

static void one_option(void *ctx, int opt, const char *arg)
{
	struct get *g = ctx;

	switch (opt) {
	case OPT_OUTPUT:
		if (!arg[0])
			usage_error("--output: empty file name");
		g->output = arg;
		break;
	case OPT_TIMEOUT:
		g->timeout_s = (unsigned int)parse_range("--timeout", arg, 1, 3600);
		break;
	case OPT_COUNTERS:
		g->counters = true;
		break;
	}
}

/* http://A.B.C.D[:PORT][/PATH]: the server, the Host field, the path. */
static void parse_url(const char *url, struct get *g)
{
	const char *p = url + 7, *slash, *colon;
	char host[32];
	uint64_t port = 80;
	size_t hl;

	if (strncasecmp(url, "http://", 7) != 0)
		usage_error("URL '%s': expected http://A.B.C.D[:PORT]/PATH", url);
	slash = strchr(p, '/');
	hl = slash ? (size_t)(slash - p) : strlen(p);
	colon = memchr(p, ':', hl);
	if ((colon ? (size_t)(colon - p) : hl) >= sizeof(host))
		usage_error("URL '%s': the host must be an IPv4 address", url);
	memcpy(host, p, colon ? (size_t)(colon - p) : hl);
	host[colon ? (size_t)(colon - p) : hl] = '\0';
	memset(&g->server, 0, sizeof(g->server));
	g->server.sin_family = AF_INET;
	if (!parse_ipv4(host, &g->server.sin_addr.s_addr))
		usage_error("URL '%s': '%s' is not an IPv4 address (no names)",
			    url, host);
	if (colon) {
		char num[8];
		size_t nl = hl - (size_t)(colon - p) - 1;

		if (nl == 0 || nl >= sizeof(num))
			usage_error("URL '%s': port must be 1..65535", url);
		memcpy(num, colon + 1, nl);
		num[nl] = '\0';
		if (!parse_u64(num, 65535, &port) || port == 0)
			usage_error("URL '%s': port must be 1..65535", url);
	}
	g->server.sin_port = htons((uint16_t)port);
	if (port == 80)
		snprintf(g->host, sizeof(g->host), "%s", host);
	else
		snprintf(g->host, sizeof(g->host), "%s:%u", host,
			 (unsigned int)port);
	g->path = slash ? slash : "/";
	for (const char *c = g->path; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			usage_error("URL '%s': spaces and control characters "
				    "must be percent-encoded", url);
	if (strlen(g->path) > 8000)
		usage_error("URL '%s': path longer than 8000 bytes", url);
}

/* ---- errors ------------------------------------------------------------- */

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Say what went wrong; returns -1 for the caller to pass up. */
static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("http_get: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* A failed receive, in words (a timeout is EAGAIN from SO_RCVTIMEO). */
static const char *recv_error(int err)
{
	return err == EAGAIN ? "timed out waiting for the server"
			     : strerror(err);
}

/* ---- receiving ---------------------------------------------------------- */

/* More bytes into buf (compacting it first). >0, 0 at the end, -1. */
static ssize_t fill(struct get *g)
{
	ssize_t n;

	if (g->pos > 0) {
		memmove(g->buf, g->buf + g->pos, g->len - g->pos);
		g->len -= g->pos;
		g->pos = 0;
	}
	if (g->len == BUF_LEN)
		return -1;
	do
		n = us_recv(g->fd, g->buf + g->len, BUF_LEN - g->len, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		g->len += (size_t)n;
	return n;
}

/* Write the next n buffered bytes to the output. 0 or -1. */
static int emit(struct get *g, size_t n)
{
	const char *p = g->buf + g->pos;
	size_t left = n;

	while (left > 0) {
		ssize_t w = write(g->out, p, left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return fail("writing %s: %s", g->output, strerror(errno));
		p += w;
		left -= (size_t)w;
	}
	g->pos += n;
	g->body += n;
	return 0;
}

/* The next line (CRLF or LF), NUL-terminated in place; NULL at the end of
 * the stream or on an error (said). */
static char *read_line(struct get *g, size_t max)
{
	for (;;) {
		char *start = g->buf + g->pos;
		char *nl = memchr(start, '\n', g->len - g->pos);
		ssize_t n;

		if (nl) {
			*nl = '\0';
			if (nl > start && nl[-1] == '\r')
				nl[-1] = '\0';
			g->pos = (size_t)(nl + 1 - g->buf);
			return start;
		}
		if (g->len - g->pos >= max) {
			fail("a line of the response is longer than %zu bytes",
			     max);
			return NULL;
		}
		n = fill(g);
		if (n <= 0) {
			if (n < 0)
				fail("receiving: %s", recv_error(errno));
			else
				fail("the server closed the connection in the "
				     "middle of the response head");
			return NULL;
		}
	}
}

struct response {
	int status;
	char reason[128];
	bool chunked;
	bool has_length;
	uint64_t length;
};

/* One header field into rs. 0 or -1. */
static int parse_field(char *line, struct response *rs)
{
	char *colon = strchr(line, ':'), *v;
	uint64_t cl;

	if (!colon || colon == line)
		return fail("malformed header field '%s'", line);
	*colon = '\0';
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	for (char *e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t');)
		*--e = '\0';
	if (strcasecmp(line, "content-length") == 0) {
		if (!parse_u64(v, UINT64_MAX, &cl) ||
		    (rs->has_length && cl != rs->length))
			return fail("bad Content-Length '%s'", v);
		rs->has_length = true;
		rs->length = cl;
	} else if (strcasecmp(line, "transfer-encoding") == 0) {
		/* RFC 9112 §6.1: chunked must be the final coding, and it is
		 * the only one this client decodes. */
		if (strcasecmp(v, "chunked") != 0)
			return fail("unsupported Transfer-Encoding '%s'", v);
		rs->chunked = true;
	}
	return 0;
}

/* The status line and fields of one response. 0 or -1. */
static int read_head_once(struct get *g, struct response *rs)
{
	char *line = read_line(g, HEAD_MAX);
	const char *d;

	if (!line)
		return -1;
	memset(rs, 0, sizeof(*rs));
	/* RFC 9112 §4: HTTP-version SP 3DIGIT SP [reason-phrase] */
	d = line + 9;
	if (strncmp(line, "HTTP/1.", 7) != 0 || line[7] < '0' || line[7] > '9' ||
	    line[8] != ' ' || d[0] < '1' || d[0] > '5' || d[1] < '0' ||
	    d[1] > '9' || d[2] < '0' || d[2] > '9' || (d[3] && d[3] != ' '))
		return fail("not an HTTP/1.x status line: '%.80s'", line);
	rs->status = (d[0] - '0') * 100 + (d[1] - '0') * 10 + (d[2] - '0');
	snprintf(rs->reason, sizeof(rs->reason), "%s", d[3] ? d + 4 : "");
	while ((line = read_line(g, HEAD_MAX)) != NULL && line[0])
		if (parse_field(line, rs) < 0)
			return -1;
	return line ? 0 : -1;
}

/* The final response's head, skipping 1xx interim ones (RFC 9110 §15.2). */
static int read_head(struct get *g, struct response *rs)
{
	for (int i = 0; i < 10; i++) {
		if (read_head_once(g, rs) < 0)
			return -1;
		if (rs->status >= 200)
			return 0;
	}
	return fail("too many interim (1xx) responses");
}

/* Exactly `len` body bytes (or, when !exact, up to the close). 0 or -1. */
static int read_body(struct get *g, uint64_t len, bool exact)
{
	uint64_t got = 0;

	for (;;) {
		size_t have = g->len - g->pos;
		ssize_t n;

		if (exact && have > len - got)
			have = (size_t)(len - got);
		if (have && emit(g, have) < 0)
			return -1;
		got += have;
		if (exact && got == len)
			return 0;
		n = fill(g);
		if (n == 0 && !exact)
			return 0;
		if (n == 0)
			return fail("the server closed the connection after %"
				    PRIu64 " of %" PRIu64 " body bytes", got, len);
		if (n < 0)
			return fail("receiving the body after %" PRIu64
				    " bytes: %s", got, recv_error(errno));
	}
}

/* RFC 9112 §7.1: chunk-size [ext] CRLF data CRLF ... 0 CRLF trailers CRLF */
static int read_chunked(struct get *g)
{
	for (;;) {
		char *line = read_line(g, LINE_MAX_LEN), *end;
		unsigned long long size;

		if (!line)
			return -1;
		errno = 0;
		size = strtoull(line, &end, 16);
		if (end == line || errno ||
		    (*end && *end != ';' && *end != ' ' && *end != '\t'))
			return fail("bad chunk size line '%.40s'", line);
		if (size == 0)
			break;
		if (read_body(g, size, true) < 0)
			return -1;
		line = read_line(g, LINE_MAX_LEN);
		if (!line)
			return -1;
		if (line[0])
			return fail("no CRLF after a chunk's data");
	}
	/* Trailer fields, up to the blank line. */
	for (;;) {
		char *line = read_line(g, HEAD_MAX);

		if (!line)
			return -1;
		if (!line[0])
			return 0;
	}
}

/* ---- the transfer ------------------------------------------------------- */

static int connect_server(struct get *g)
{
	struct timeval tv = { .tv_sec = (time_t)g->timeout_s };
	char addr[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &g->server.sin_addr, addr, sizeof(addr));
	g->fd = us_socket(AF_INET, SOCK_STREAM, 0);
	if (g->fd < 0)
		return fail("socket: %s", strerror(errno));
	/* SO_SNDTIMEO bounds connect() too, as on Linux. */
	if (us_setsockopt(g->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    us_setsockopt(g->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return fail("setsockopt: %s", strerror(errno));
	if (us_connect(g->fd, (struct sockaddr *)&g->server,
		       sizeof(g->server)) < 0)
		return fail("connect to %s:%u: %s", addr,
			    ntohs(g->server.sin_port),
			    errno == EINPROGRESS ? "timed out" : strerror(errno));
	return 0;
}

static int send_request(struct get *g)
{
	char req[8300];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\n"
			 "Host: %s\r\n"
			 "User-Agent: ustack-http_get\r\n"
			 "Accept: */*\r\n"
			 "Connection: close\r\n"
			 "\r\n", g->path, g->host);

	if (n < 0 || (size_t)n >= sizeof(req))
		return fail("request too long");
	if (send_all(g->fd, req, (size_t)n) < 0)
		return fail("sending the request: %s", strerror(errno));
	return 0;
}

static int open_output(struct get *g)
{
	if (strcmp(g->output, "-") == 0) {
		g->out = STDOUT_FILENO;
		return 0;
	}
	g->out = open(g->output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (g->out < 0)
		return fail("cannot write %s: %s", g->output, strerror(errno));
	g->created = true;
	return 0;
}

static int transfer(struct get *g)
{
	struct response rs;
	double t0 = now_seconds(), dt;
	bool tofile;
	int rc;

	if (connect_server(g) < 0 || send_request(g) < 0 ||
	    read_head(g, &rs) < 0)
		return -1;
	if (rs.status != 200)
		return fail("the server answered %d %s", rs.status, rs.reason);
	if (open_output(g) < 0)
		return -1;
	if (rs.chunked)
		rc = read_chunked(g);
	else if (rs.has_length)
		rc = read_body(g, rs.length, true);
	else
		rc = read_body(g, 0, false);
	if (rc < 0)
		return -1;
	if (g->out != STDOUT_FILENO && close(g->out) < 0) {
		g->out = -1;
		return fail("writing %s: %s", g->output, strerror(errno));
	}
	/* With the body on stdout, the summary goes to stderr. */
	tofile = g->out != STDOUT_FILENO;
	g->out = -1;
	dt = now_seconds() - t0;
	fprintf(tofile ? stdout : stderr,
		"http_get: %d %s, %" PRIu64 " bytes in %.2f s (%.1f MB/s) -> %s\n",
		rs.status, rs.reason, g->body, dt,
		dt > 0 ? (double)g->body / dt / 1e6 : 0.0, g->output);
	/* Our FIN, acknowledged, before the stack goes away (it may need
	 * sending again on a lossy path). */
	us_shutdown(g->fd, SHUT_WR);
	wait_closed(g->fd, QUIET_WAIT_MS);
	return 0;
}

int main(int argc, char **argv)
{
	struct get g = { .timeout_s = 30, .fd = -1, .out = -1 };
	struct stack_opts o;
	struct ustack *st;
	int rest, rc;

	tool_name = "http_get";
	stack_opts_init(&o);
	rest = parse_options(argc, argv, options, usage, &o, one_option, &g);
	if (rest >= argc)
		usage_error("no URL given (try 'http_get --help')");
	if (rest + 1 < argc)
		usage_error("unexpected argument '%s'", argv[rest + 1]);
	parse_url(argv[rest], &g);
	if (!g.output)
		usage_error("-o FILE is required");
	signal(SIGPIPE, SIG_IGN);
	g.buf = malloc(BUF_LEN);
	st = g.buf ? stack_up(&o) : NULL;
	if (!st) {
		free(g.buf);
		return 1;
	}
	rc = transfer(&g);
	if (g.out >= 0 && g.out != STDOUT_FILENO)
		close(g.out);
	if (rc < 0 && g.created)
		unlink(g.output);
	if (g.fd >= 0)
		us_close(g.fd);
	ustack_stop(st);
	if (g.counters)
		stack_report(st, stdout);
	ustack_destroy(st);
	free(g.buf);
	return rc < 0 ? 1 : 0;
}
