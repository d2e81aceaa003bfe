/*
 * httpd.c - an HTTP/1.1 file server written on the ustack API.
 *
 *   httpd --tap T --addr A.B.C.D/N --root DIR [--port P] ...
 *
 * Attaches a ustack instance to the TAP device T in the current network
 * namespace (creating it when absent), listens on port P (80) and serves
 * the regular files under DIR to GET and HEAD (RFC 9110 §9.3.1-2), a
 * thread per connection (common.c, serve_connections). Connections persist
 * (RFC 9112 §9.3) unless the client says "Connection: close" or speaks
 * HTTP/1.0 without "keep-alive"; every response has a Content-Length, and
 * a file is sent with read() and us_send() in large chunks.
 *
 * A request target is percent-decoded and split into segments; a ".."
 * segment, a NUL, or a path that resolves (through a symbolic link) to
 * outside DIR is refused. Answers: 200, 400 (malformed request, "..",
 * missing Host in HTTP/1.1), 403 (unreadable), 404, 405 (not GET or HEAD,
 * with Allow), 413 (request body too large), 431 (request head over
 * 16 KiB), 501 (a Transfer-Encoding in the request), 505 (not HTTP/1.x).
 * A directory serves its index.html.
 *
 * On SIGINT or SIGTERM it stops accepting, shuts every connection down,
 * waits up to 3 s for the last closes to finish, prints
 *
 *   httpd: stopping on SIGTERM: C connections, R requests (2xx N, 4xx N,
 *   5xx N), B body bytes sent
 *
 * then ustack's counters and the state left (stack_report), and exits 0.
 * Bad command-line input gets one line on stderr naming the argument, and
 * exit status 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common.h"

#define HEAD_MAX (16 * 1024)          /* request line + header fields */
#define BODY_DISCARD_MAX (1 << 20)    /* a request body we read and drop */
#define FILE_CHUNK (256 * 1024)       /* read() + us_send() at a time */
#define LINGER_S 1                    /* lingering close: wait this long */
#define LINGER_MAX (1 << 20)          /* ... for at most this much input */

static const char usage[] =
	"Usage: httpd --tap NAME --addr A.B.C.D/N --root DIR [OPTIONS]\n"
	"\n"
	"Attach ustack to the TAP device NAME (created when absent) at the\n"
	"address and serve the files under DIR over HTTP/1.1 (GET and HEAD,\n"
	"keep-alive, Content-Length), a thread per connection, until SIGINT or\n"
	"SIGTERM; then print the totals, ustack's counters and the state left,\n"
	"and exit 0. Prints \"httpd: up on NAME addr A.B.C.D/N mac M port P\"\n"
	"once ready.\n"
	"\n"
	"Options:\n"
	"  --root DIR         directory to serve (required)\n"
	"  --port P           TCP port, 1..65535 (default 80)\n"
	"  --max-conns N      connections served at once, 1..4096 (default 256)\n"
	"  --idle-timeout S   close a connection idle for S seconds, 1..3600\n"
	"                     (default 30)\n"
	"  --verbose          print a line per request (and its status) on\n"
	"                     stdout\n"
	STACK_OPTIONS_HELP;

enum { OPT_ROOT = OPT_TOOL, OPT_PORT, OPT_MAX_CONNS, OPT_IDLE, OPT_VERBOSE };

static const struct option options[] = {
	STACK_LONG_OPTIONS,
	{ "root", required_argument, NULL, OPT_ROOT },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ NULL, 0, NULL, 0 },
};

struct httpd {
	char root[PATH_MAX];     /* resolved, no trailing '/' */
	uint16_t port;
	unsigned int max_conns;
	unsigned int idle_s;
	bool verbose;
	atomic_uint_fast64_t requests, st2xx, st4xx, st5xx, body_bytes;
};

/* One request, as parsed. */
struct request {
	char method[16];
	char target[HEAD_MAX];
	int minor;               /* HTTP/1.minor */
	bool head;               /* HEAD: no body in the response */
	bool keep_alive;
	bool has_host;
	uint64_t content_length;
};

/* What a connection holds between requests. */
struct conn {
	struct httpd *h;
	int fd;
	char buf[HEAD_MAX];
	size_t len;              /* bytes received, not yet consumed */
	uint8_t *chunk;          /* FILE_CHUNK bytes for sending files */
	int status;              /* of the last answer, for the log */
};

static void one_option(void *ctx, int opt, const char *arg)
{
	struct httpd *h = ctx;
	struct stat sb;

	switch (opt) {
	case OPT_ROOT:
		if (!realpath(arg, h->root))
			usage_error("--root '%s': %s", arg, strerror(errno));
		if (stat(h->root, &sb) < 0 || !S_ISDIR(sb.st_mode))
			usage_error("--root '%s': not a directory", arg);
		break;
	case OPT_PORT:
		h->port = (uint16_t)parse_range("--port", arg, 1, 65535);
		break;
	case OPT_MAX_CONNS:
		h->max_conns = (unsigned int)parse_range("--max-conns", arg, 1,
							 4096);
		break;
	case OPT_IDLE:
		h->idle_s = (unsigned int)parse_range("--idle-timeout", arg, 1,
						      3600);
		break;
	case OPT_VERBOSE:
		h->verbose = true;
		break;
	}
}

/* ---- responses ---------------------------------------------------------- */

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 501: return "Not Implemented";
	case 505: return "HTTP Version Not Supported";
	default: return "Internal Server Error";
	}
}

/* RFC 9110 §5.6.7: IMF-fixdate. */
static void http_date(time_t t, char *out, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, len, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static const char *content_type(const char *path)
{
	static const struct { const char *ext, *type; } types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".htm", "text/html; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" },
		{ ".css", "text/css" },
		{ ".js", "text/javascript" },
		{ ".json", "application/json" },
		{ ".png", "image/png" },
		{ ".jpg", "image/jpeg" },
		{ ".jpeg", "image/jpeg" },
		{ ".gif", "image/gif" },
		{ ".svg", "image/svg+xml" },
		{ ".pdf", "application/pdf" },
	};
	const char *dot = strrchr(path, '.');

	if (dot && !strchr(dot, '/'))
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

/* Count the answer, and note it for the request's log line. */
static void count_status(struct conn *c, int status)
{
	struct httpd *h = c->h;

	c->status = status;
	h->requests++;
	if (status < 300)
		h->st2xx++;
	else if (status < 500)
		h->st4xx++;
	else
		h->st5xx++;
}

/* The status line and header fields; 0 or -1. */
static int send_head(struct conn *c, int status, const char *type,
		     uint64_t length, const struct stat *sb, bool keep_alive,
		     bool more)
{
	char date[64], mod[64] = "", head[512];
	int n;

	http_date(time(NULL), date, sizeof(date));
	if (sb)
		http_date(sb->st_mtime, mod, sizeof(mod));
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %d %s\r\n"
		     "Server: ustack-httpd\r\n"
		     "Date: %s\r\n"
		     "%s%s%s"
		     "%s"
		     "Content-Type: %s\r\n"
		     "Content-Length: %" PRIu64 "\r\n"
		     "Connection: %s\r\n"
		     "\r\n",
		     status, reason(status), date,
		     sb ? "Last-Modified: " : "", mod, sb ? "\r\n" : "",
		     status == 405 ? "Allow: GET, HEAD\r\n" : "",
		     type, length, keep_alive ? "keep-alive" : "close");
	if (n < 0 || (size_t)n >= sizeof(head))
		return -1;
	/* MSG_MORE: the body follows at once, in the same segments. */
	if (more)
		return us_send(c->fd, head, (size_t)n, MSG_NOSIGNAL | MSG_MORE) ==
		       n ? 0 : send_all(c->fd, head, (size_t)n);
	return send_all(c->fd, head, (size_t)n);
}

/* An error answer with a short text body; 0 or -1. */
static int send_error(struct conn *c, const struct request *rq, int status,
		      bool keep_alive)
{
	char body[96];
	int n = snprintf(body, sizeof(body), "%d %s\n", status, reason(status));

	count_status(c, status);
	if (send_head(c, status, "text/plain; charset=utf-8", (uint64_t)n, NULL,
		      keep_alive, false) < 0)
		return -1;
	if (rq && rq->head)
		return 0;
	return send_all(c->fd, body, (size_t)n);
}

/* ---- parsing ------------------------------------------------------------ */

/* Case-insensitive: does the comma-separated list hold token? */
static bool has_token(const char *list, const char *token)
{
	size_t tl = strlen(token);

	while (*list) {
		size_t n;

		while (*list == ' ' || *list == '\t' || *list == ',')
			list++;
		n = strcspn(list, ", \t");
		if (n == tl && strncasecmp(list, token, n) == 0)
			return true;
		list += n;
	}
	return false;
}

/* One header field line (no CRLF). 0, or the status to answer. */
static int parse_field(char *line, struct request *rq, bool *close_tok,
		       bool *keep_tok, bool *te)
{
	char *colon = strchr(line, ':'), *v, *end;
	uint64_t cl;

	/* RFC 9112 §5.1: no whitespace between the name and the colon. */
	if (!colon || colon == line || colon[-1] == ' ' || colon[-1] == '\t')
		return 400;
	*colon = '\0';
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (strcasecmp(line, "host") == 0) {
		if (rq->has_host)
			return 400;   /* RFC 9112 §3.2: exactly one */
		rq->has_host = true;
	} else if (strcasecmp(line, "connection") == 0) {
		*close_tok |= has_token(v, "close");
		*keep_tok |= has_token(v, "keep-alive");
	} else if (strcasecmp(line, "content-length") == 0) {
		if (!parse_u64(v, UINT64_MAX, &cl) ||
		    (rq->content_length && cl != rq->content_length))
			return 400;
		rq->content_length = cl;
	} else if (strcasecmp(line, "transfer-encoding") == 0) {
		*te = true;
	}
	return 0;
}

/* "METHOD SP TARGET SP HTTP/1.x". 0, or the status to answer. */
static int parse_request_line(char *line, struct request *rq)
{
	char *sp1 = strchr(line, ' '), *sp2;

	if (!sp1)
		return 400;
	sp2 = strchr(sp1 + 1, ' ');
	if (!sp2 || strchr(sp2 + 1, ' ') || sp1 == line || sp2 == sp1 + 1 ||
	    (size_t)(sp1 - line) >= sizeof(rq->method))
		return 400;
	memcpy(rq->method, line, (size_t)(sp1 - line));
	rq->method[sp1 - line] = '\0';
	*sp2 = '\0';
	snprintf(rq->target, sizeof(rq->target), "%s", sp1 + 1);
	if (strncmp(sp2 + 1, "HTTP/", 5) != 0)
		return 400;
	if (strcmp(sp2 + 1, "HTTP/1.1") == 0)
		rq->minor = 1;
	else if (strcmp(sp2 + 1, "HTTP/1.0") == 0)
		rq->minor = 0;
	else
		return 505;
	return 0;
}

/* Next line of the head (CRLF or a bare LF ends it, RFC 9112 §2.2). */
static char *next_line(char **p)
{
	char *line = *p, *nl = strchr(line, '\n');

	if (!nl)
		return NULL;
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	*p = nl + 1;
	return line;
}

/* Parse the head (NUL-terminated, up to the blank line). 0 or a status. */
static int parse_head(char *head, struct request *rq)
{
	bool close_tok = false, keep_tok = false, te = false;
	char *p = head, *line;
	int status;

	memset(rq, 0, sizeof(*rq));
	line = next_line(&p);
	if (!line)
		return 400;
	status = parse_request_line(line, rq);
	if (status)
		return status;
	rq->head = strcmp(rq->method, "HEAD") == 0;
	while ((line = next_line(&p)) != NULL && line[0]) {
		status = parse_field(line, rq, &close_tok, &keep_tok, &te);
		if (status)
			return status;
	}
	/* RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 only with
	 * "keep-alive". */
	rq->keep_alive = rq->minor >= 1 ? !close_tok : keep_tok && !close_tok;
	if (te)
		return 501;
	if (rq->minor >= 1 && !rq->has_host)
		return 400;
	if (rq->content_length > BODY_DISCARD_MAX)
		return 413;
	if (strcmp(rq->method, "GET") != 0 && !rq->head)
		return 405;
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/*
 * The target's path, decoded, as a relative path below the root ("" for
 * the root itself): empty and "." segments dropped, ".." refused. False
 * for a malformed or escaping target.
 */
static bool target_to_path(const char *target, char *out, size_t len)
{
	char dec[HEAD_MAX], *seg, *save = NULL;
	const char *p = target;
	size_t n = 0, o = 0;

	/* RFC 9112 §3.2.2: absolute-form; the path follows the authority. */
	if (strncasecmp(p, "http://", 7) == 0) {
		p = strchr(p + 7, '/');
		if (!p)
			p = "/";
	}
	if (*p != '/')
		return false;
	for (; *p && *p != '?' && *p != '#'; p++) {
		char ch = *p;

		if (ch == '%') {
			int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);

			if (lo < 0)
				return false;
			ch = (char)(hi << 4 | lo);
			p += 2;
		}
		if (ch == '\0' || n + 1 >= sizeof(dec))
			return false;
		dec[n++] = ch;
	}
	dec[n] = '\0';
	for (seg = strtok_r(dec, "/", &save); seg;
	     seg = strtok_r(NULL, "/", &save)) {
		size_t sl = strlen(seg);

		if (strcmp(seg, ".") == 0)
			continue;
		if (strcmp(seg, "..") == 0)
			return false;
		if (o + sl + 2 > len)
			return false;
		if (o)
			out[o++] = '/';
		memcpy(out + o, seg, sl);
		o += sl;
	}
	out[o] = '\0';
	return true;
}

/* ---- files -------------------------------------------------------------- */

/*
 * Open the file for rel under the root: a directory means its index.html;
 * whatever the path resolves to (symbolic links followed) must lie inside
 * the root. Returns the fd, or -status.
 */
static int open_file(const struct httpd *h, const char *rel, struct stat *sb,
		     char *resolved)
{
	char path[PATH_MAX];
	size_t rl = strlen(h->root);
	int fd, n;

	n = snprintf(path, sizeof(path), "%s/%s", h->root, rel);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -404;
	for (int tries = 0; tries < 2; tries++) {
		if (!realpath(path, resolved))
			return errno == EACCES ? -403 : -404;
		if (strncmp(resolved, h->root, rl) != 0 ||
		    (resolved[rl] != '/' && resolved[rl] != '\0'))
			return -404;   /* a link out of the root: not ours */
		if (stat(resolved, sb) < 0)
			return -404;
		if (!S_ISDIR(sb->st_mode))
			break;
		n = snprintf(path, sizeof(path), "%s/index.html", resolved);
		if (n < 0 || (size_t)n >= sizeof(path))
			return -404;
	}
	if (!S_ISREG(sb->st_mode))
		return -404;
	fd = open(resolved, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == EACCES ? -403 : -404;
	if (fstat(fd, sb) < 0) {
		close(fd);
		return -500;
	}
	return fd;
}

/* The file's bytes after the head. 0, or -1 (the connection must close:
 * the response cannot be completed). */
static int send_body(struct conn *c, int fd, uint64_t size)
{
	uint64_t left = size;

	while (left > 0) {
		size_t want = left < FILE_CHUNK ? (size_t)left : FILE_CHUNK;
		ssize_t n = read(fd, c->chunk, want);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;   /* the file shrank or failed under us */
		if (send_all(c->fd, c->chunk, (size_t)n) < 0)
			return -1;
		c->h->body_bytes += (uint64_t)n;
		left -= (uint64_t)n;
	}
	return 0;
}

/* Answer a parsed GET or HEAD. 0 to go on, -1 to close. */
static int serve_file(struct conn *c, const struct request *rq)
{
	char rel[HEAD_MAX], resolved[PATH_MAX];
	struct stat sb;
	int fd, rc;

	if (!target_to_path(rq->target, rel, sizeof(rel))) {
		send_error(c, rq, 400, false);
		return -1;
	}
	fd = open_file(c->h, rel, &sb, resolved);
	if (fd < 0) {
		if (send_error(c, rq, -fd, rq->keep_alive) < 0)
			return -1;
		return rq->keep_alive ? 0 : -1;
	}
	count_status(c, 200);
	rc = send_head(c, 200, content_type(resolved), (uint64_t)sb.st_size, &sb,
		       rq->keep_alive, !rq->head && sb.st_size > 0);
	if (rc == 0 && !rq->head)
		rc = send_body(c, fd, (uint64_t)sb.st_size);
	close(fd);
	return rc < 0 || !rq->keep_alive ? -1 : 0;
}

/* ---- the connection ----------------------------------------------------- */

/* Where the head ends (just past its blank line), or 0 if not yet. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/*
 * Receive until a whole head is buffered. Returns its length, 0 when the
 * client closed (or went idle) between requests, -1 on an error, -431
 * when the head does not fit.
 */
static ssize_t read_head(struct conn *c)
{
	size_t end;

	/* RFC 9112 §2.2: empty lines before a request line are ignored. */
	for (;;) {
		ssize_t n;

		while (c->len > 0 && (c->buf[0] == '\r' || c->buf[0] == '\n'))
			memmove(c->buf, c->buf + 1, --c->len);
		end = head_end(c->buf, c->len);
		if (end)
			return (ssize_t)end;
		if (c->len >= sizeof(c->buf) - 1)
			return -431;
		n = us_recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len,
			    0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return c->len == 0 && (n == 0 || errno == EAGAIN ||
					       errno == ECONNRESET) ? 0 : -1;
		c->len += (size_t)n;
	}
}

/* Drop `len` bytes of request body (some may be buffered). 0 or -1. */
static int discard_body(struct conn *c, uint64_t len)
{
	size_t have = c->len < len ? c->len : (size_t)len;

	memmove(c->buf, c->buf + have, c->len - have);
	c->len -= have;
	len -= have;
	while (len > 0) {
		size_t want = len < FILE_CHUNK ? (size_t)len : FILE_CHUNK;
		ssize_t n = us_recv(c->fd, c->chunk, want, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len -= (uint64_t)n;
	}
	return 0;
}

static void log_request(const struct conn *c, const char *line, int rc)
{
	if (c->h->verbose)
		printf("httpd: \"%s\" %d%s\n", line, c->status,
		       rc < 0 ? " (connection closed)" : "");
}

/* Parse the head (c->buf[0..end), NUL-terminated) and answer it. 0 to go
 * on, -1 to close. */
static int answer(struct conn *c, ssize_t end)
{
	struct request rq;
	int status = parse_head(c->buf, &rq);

	/* The head is consumed; what follows is body or the next request. */
	memmove(c->buf, c->buf + end, c->len - (size_t)end);
	c->len -= (size_t)end;
	/* After these the rest of the stream cannot be trusted: close. */
	if (status == 400 || status == 413 || status == 501 || status == 505) {
		send_error(c, &rq, status, false);
		return -1;
	}
	if (discard_body(c, rq.content_length) < 0)
		return -1;
	if (!status)
		return serve_file(c, &rq);
	if (send_error(c, &rq, status, rq.keep_alive) < 0)
		return -1;
	return rq.keep_alive ? 0 : -1;
}

/* One request: read, parse, answer. 0 to go on, -1 to close. */
static int one_request(struct conn *c)
{
	char line[160];
	ssize_t end = read_head(c);
	int rc;

	c->status = 0;
	if (end == -431) {
		send_error(c, NULL, 431, false);
		log_request(c, "(request head too large)", -1);
	}
	if (end <= 0)
		return -1;
	c->buf[end - 1] = '\0';
	snprintf(line, sizeof(line), "%.*s", (int)strcspn(c->buf, "\r\n"),
		 c->buf);
	rc = answer(c, end);
	log_request(c, line, rc);
	return rc;
}

/*
 * Close our side but read (and drop) what the client still sends for a
 * moment before the descriptor is closed: closing with unread data would
 * reset the connection (RFC 2525 §2.17), and the reset could destroy an
 * error response the client has not read yet (RFC 9112 §9.6).
 */
static void lingering_close(struct conn *c)
{
	struct timeval tv = { .tv_sec = LINGER_S };
	size_t drained = 0;

	us_shutdown(c->fd, SHUT_WR);
	us_setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (drained < LINGER_MAX) {
		ssize_t n = us_recv(c->fd, c->chunk, FILE_CHUNK, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		drained += (size_t)n;
	}
}

static void http_conn(int fd, void *ctx)
{
	struct httpd *h = ctx;
	struct timeval tv = { .tv_sec = (time_t)h->idle_s };
	struct conn *c = calloc(1, sizeof(*c));

	if (!c)
		return;
	c->h = h;
	c->fd = fd;
	c->chunk = malloc(FILE_CHUNK);
	/* A client that stops reading or writing is let go after a while. */
	us_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	us_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	while (c->chunk && one_request(c) == 0)
		;
	if (c->chunk)
		lingering_close(c);
	free(c->chunk);
	free(c);
}

int main(int argc, char **argv)
{
	static struct httpd h = { .port = 80, .max_conns = 256, .idle_s = 30 };
	struct serve_stats ss = { 0 };
	struct stack_opts o;
	struct ustack *st;
	char extra[PATH_MAX + 32];
	int sfd, lfd, sig, rest;

	tool_name = "httpd";
	stack_opts_init(&o);
	rest = parse_options(argc, argv, options, usage, &o, one_option, &h);
	if (rest < argc)
		usage_error("unexpected argument '%s'", argv[rest]);
	if (!h.root[0])
		usage_error("--root DIR is required");
	sfd = open_signalfd();
	if (sfd < 0) {
		fprintf(stderr, "httpd: signalfd: %s\n", strerror(errno));
		return 1;
	}
	st = stack_up(&o);
	lfd = st ? tcp_listen(h.port, (int)h.max_conns) : -1;
	if (lfd < 0) {
		ustack_destroy(st);
		close(sfd);
		return 1;
	}
	snprintf(extra, sizeof(extra), "port %u root %s", h.port, h.root);
	print_ready(st, &o, extra);
	sig = serve_connections(lfd, sfd, h.max_conns, http_conn, &h, &ss);
	us_close(lfd);
	/* Let the last closes finish (a FIN may be lost), then stop. */
	stack_wait_quiet(st, QUIET_WAIT_MS);
	ustack_stop(st);
	printf("httpd: stopping on %s: %" PRIu64 " connections, %" PRIu64
	       " requests (2xx %" PRIu64 ", 4xx %" PRIu64 ", 5xx %" PRIu64
	       "), %" PRIu64 " body bytes sent\n",
	       sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "an error",
	       ss.accepted, (uint64_t)h.requests, (uint64_t)h.st2xx,
	       (uint64_t)h.st4xx, (uint64_t)h.st5xx, (uint64_t)h.body_bytes);
	stack_report(st, stdout);
	ustack_destroy(st);
	close(sfd);
	return sig > 0 ? 0 : 1;
}
