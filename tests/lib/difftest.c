/*
 * difftest.c - the differential test runner and its recording wrappers
 * (see difftest.h): each dt_* call goes through the side's call table and
 * appends one normalised line to the side's transcript.
 */
#include "difftest.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include "dev/dummy.h"
#include "dev/netdev.h"
#include "netns.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define DT_MAX_FDS 64
#define DT_EPH_LO 32768
#define DT_EPH_HI 60999
#define DT_DATA_SHOW 48
#define DT_MARK 0xa5     /* output buffers are prefilled with this */

struct dt_fd {
	int fd;
	int id;
	bool open;
};

struct dt {
	const struct calltable *ct;
	struct ustack *st;          /* the ustack side's instance, else NULL */
	char *buf;                  /* the transcript */
	size_t len, cap;
	struct dt_fd fds[DT_MAX_FDS];
	int nfds, next_id;
	struct timespec last_ts;    /* the last time dt_note_cmsgs saw */
};

/* ---- the transcript ------------------------------------------------------ */

static void out(struct dt *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void out(struct dt *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n >= 0 && (size_t)n < t->cap - t->len)
			break;
		t->cap = t->cap * 2 + (size_t)(n > 0 ? n : 0) + 256;
		t->buf = realloc(t->buf, t->cap);
		if (!t->buf)
			abort();
	}
	t->len += (size_t)n;
}

void dt_note(struct dt *t, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	out(t, "note: %s\n", line);
}

const struct calltable *dt_ct(const struct dt *t)
{
	return t->ct;
}

struct ustack *dt_ustack(const struct dt *t)
{
	return t->st;
}

static void out_ret(struct dt *t, long rc, int err)
{
	const char *name = strerrorname_np(err);

	if (rc >= 0)
		out(t, " = %ld", rc);
	else
		out(t, " = %ld %s", rc, name ? name : "E?");
}

static bool untouched(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != DT_MARK)
			return false;
	return n > 0;
}

/* Lengths that do not fit in an int (a negative socklen_t) mark nothing:
 * the call is expected to refuse them. */
static void mark(void *p, size_t n)
{
	if (p && n && n <= INT_MAX)
		memset(p, DT_MARK, n);
}

static void out_hex(struct dt *t, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out(t, "%02x", p[i]);
}

/* Payload: short ones in full (C escapes), long ones by length and hash. */
static void out_data(struct dt *t, const void *buf, size_t n)
{
	const unsigned char *p = buf;
	uint32_t h = 2166136261u;

	if (n > DT_DATA_SHOW) {
		for (size_t i = 0; i < n; i++)
			h = (h ^ p[i]) * 16777619u;
		out(t, " data=<%zu bytes fnv %08x>", n, h);
		return;
	}
	out(t, " data=\"");
	for (size_t i = 0; i < n; i++) {
		if (p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' && p[i] != '\\')
			out(t, "%c", p[i]);
		else
			out(t, "\\x%02x", p[i]);
	}
	out(t, "\"");
}

/* ---- descriptors: named in order of appearance --------------------------- */

static struct dt_fd *fd_find(struct dt *t, int fd)
{
	for (int i = t->nfds - 1; i >= 0; i--)
		if (t->fds[i].fd == fd)
			return &t->fds[i];
	return NULL;
}

static void fd_new(struct dt *t, int fd)
{
	struct dt_fd *e = fd_find(t, fd);

	if (fd < 0)
		return;
	if (!e) {
		if (t->nfds == DT_MAX_FDS)
			abort();
		e = &t->fds[t->nfds++];
	}
	e->fd = fd;
	e->id = ++t->next_id;
	e->open = true;
}

static void out_fd(struct dt *t, int fd)
{
	struct dt_fd *e = fd_find(t, fd);

	if (!e)
		out(t, "%d", fd);
	else
		out(t, "fd%d%s", e->id, e->open ? "" : "(closed)");
}

static void out_fd_ret(struct dt *t, int rc, int err)
{
	if (rc < 0) {
		out_ret(t, rc, err);
		return;
	}
	fd_new(t, rc);
	out(t, " = ");
	out_fd(t, rc);
}

/* ---- addresses ----------------------------------------------------------- */

static void out_port(struct dt *t, uint16_t port_net)
{
	uint16_t p = ntohs(port_net);

	if (p >= DT_EPH_LO && p <= DT_EPH_HI)
		out(t, "eph");
	else
		out(t, "%u", p);
}

/* The first len bytes at addr, as a sockaddr. */
static void out_addr(struct dt *t, const void *addr, size_t len)
{
	const unsigned char *p = addr;
	struct sockaddr_in sin;
	sa_family_t fam;

	if (!addr) {
		out(t, "NULL");
		return;
	}
	/* Nothing here is longer than a sockaddr_in. */
	if (len > sizeof(struct sockaddr_in))
		len = sizeof(struct sockaddr_in);
	if (untouched(addr, len)) {
		out(t, "untouched");
		return;
	}
	if (len < sizeof(fam)) {
		out(t, "<");
		out_hex(t, p, len);
		out(t, ">");
		return;
	}
	memcpy(&fam, p, sizeof(fam));
	if (fam != AF_INET || len < 8) {
		out(t, "{fam %u ", fam);
		out_hex(t, p + 2, len - 2);
		out(t, "}");
		return;
	}
	memset(&sin, 0, sizeof(sin));
	memcpy(&sin, p, len < sizeof(sin) ? len : sizeof(sin));
	out(t, "%s:", inet_ntoa(sin.sin_addr));
	out_port(t, sin.sin_port);
	if (len > 8 && !untouched(p + 8, len - 8)) {
		for (size_t i = 8; i < len; i++)
			if (p[i]) {
				out(t, "+zero:");
				out_hex(t, p + 8, len - 8);
				break;
			}
	}
}

struct sockaddr_in dt_sin(const char *ip, uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
		abort();
	return sin;
}

/* An address handed back by the call: its length, then its bytes (as
 * many as the caller's buffer had room for). */
static void out_addr_result(struct dt *t, const void *addr, socklen_t inlen,
			    const socklen_t *lenp)
{
	if (!lenp) {
		out(t, " addrlen=NULL");
		return;
	}
	out(t, " addrlen=%u", (unsigned)*lenp);
	if (!addr || (int)inlen < 0)
		return;
	out(t, " addr=");
	out_addr(t, addr, inlen < *lenp ? inlen : *lenp);
}

/* ---- the calls ----------------------------------------------------------- */

/* SIGPIPE is part of what a call does: counted, and shown on the line. */
static volatile sig_atomic_t sigpipes;
static sig_atomic_t sigpipes_before;

static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

#define CALL(t, rc, expr)                               \
	do {                                            \
		sigpipes_before = sigpipes;             \
		errno = 0;                              \
		rc = (t)->ct->expr;                     \
		err = errno;                            \
	} while (0)

static void end_line(struct dt *t)
{
	if (sigpipes != sigpipes_before)
		out(t, " +SIGPIPE");
	sigpipes_before = sigpipes;
	out(t, "\n");
}

int dt_socket(struct dt *t, int domain, int type, int protocol)
{
	int rc, err;

	CALL(t, rc, socket(domain, type, protocol));
	out(t, "socket(%d, %#x, %d)", domain, (unsigned)type, protocol);
	out_fd_ret(t, rc, err);
	end_line(t);
	errno = err;
	return rc;
}

int dt_pipe(struct dt *t, int fds[2])
{
	int rc = pipe(fds);

	out(t, "pipe()");
	if (rc == 0) {
		fd_new(t, fds[0]);
		fd_new(t, fds[1]);
		out(t, " = 0 [");
		out_fd(t, fds[0]);
		out(t, ", ");
		out_fd(t, fds[1]);
		out(t, "]\n");
	} else {
		out_ret(t, rc, errno);
		end_line(t);
	}
	return rc;
}

static int named_call(struct dt *t, const char *what, int fd, const void *addr,
		      socklen_t len, bool is_connect)
{
	int rc, err;

	if (is_connect)
		CALL(t, rc, connect(fd, addr, len));
	else
		CALL(t, rc, bind(fd, addr, len));
	out(t, "%s(", what);
	out_fd(t, fd);
	out(t, ", ");
	out_addr(t, addr, len > 16 ? 16 : len);
	out(t, ", %u)", (unsigned)len);
	out_ret(t, rc, err);
	end_line(t);
	errno = err;
	return rc;
}

int dt_bind(struct dt *t, int fd, const void *addr, socklen_t len)
{
	return named_call(t, "bind", fd, addr, len, false);
}

int dt_connect(struct dt *t, int fd, const void *addr, socklen_t len)
{
	return named_call(t, "connect", fd, addr, len, true);
}

int dt_listen(struct dt *t, int fd, int backlog)
{
	int rc, err;

	CALL(t, rc, listen(fd, backlog));
	out(t, "listen(");
	out_fd(t, fd);
	out(t, ", %d)", backlog);
	out_ret(t, rc, err);
	end_line(t);
	errno = err;
	return rc;
}

int dt_accept4(struct dt *t, int fd, void *addr, socklen_t *len, int flags)
{
	socklen_t inlen = len ? *len : 0;
	int rc, err;

	mark(addr, inlen);
	CALL(t, rc, accept4(fd, addr, len, flags));
	out(t, "accept4(");
	out_fd(t, fd);
	out(t, ", %s, %#x)", addr ? "addr" : "NULL", (unsigned)flags);
	out_fd_ret(t, rc, err);
	out_addr_result(t, addr, inlen, len);
	end_line(t);
	errno = err;
	return rc;
}

int dt_accept(struct dt *t, int fd, void *addr, socklen_t *len)
{
	socklen_t inlen = len ? *len : 0;
	int rc, err;

	mark(addr, inlen);
	CALL(t, rc, accept(fd, addr, len));
	out(t, "accept(");
	out_fd(t, fd);
	out(t, ", %s)", addr ? "addr" : "NULL");
	out_fd_ret(t, rc, err);
	out_addr_result(t, addr, inlen, len);
	end_line(t);
	errno = err;
	return rc;
}

static void out_send_end(struct dt *t, ssize_t rc, int err)
{
	out_ret(t, rc, err);
	end_line(t);
}

ssize_t dt_send(struct dt *t, int fd, const void *buf, size_t len, int flags)
{
	ssize_t rc;
	int err;

	CALL(t, rc, send(fd, buf, len, flags));
	out(t, "send(");
	out_fd(t, fd);
	out(t, ", %zu bytes, %#x)", len, (unsigned)flags);
	out_send_end(t, rc, err);
	errno = err;
	return rc;
}

ssize_t dt_sendto(struct dt *t, int fd, const void *buf, size_t len,
		  int flags, const void *addr, socklen_t addrlen)
{
	ssize_t rc;
	int err;

	CALL(t, rc, sendto(fd, buf, len, flags, addr, addrlen));
	out(t, "sendto(");
	out_fd(t, fd);
	out(t, ", %zu bytes, %#x, ", len, (unsigned)flags);
	out_addr(t, addr, addrlen > 16 ? 16 : addrlen);
	out(t, ", %u)", (unsigned)addrlen);
	out_send_end(t, rc, err);
	errno = err;
	return rc;
}

static size_t iov_total(const struct iovec *iov, size_t n)
{
	size_t sum = 0;

	for (size_t i = 0; iov && i < n; i++)
		sum += iov[i].iov_len;
	return sum;
}

ssize_t dt_sendmsg(struct dt *t, int fd, const struct msghdr *msg, int flags)
{
	ssize_t rc;
	int err;

	CALL(t, rc, sendmsg(fd, msg, flags));
	out(t, "sendmsg(");
	out_fd(t, fd);
	if (msg) {
		out(t, ", {name ");
		out_addr(t, msg->msg_name,
			 msg->msg_namelen > 16 ? 16 : msg->msg_namelen);
		out(t, " namelen %u, %zu iov %zu bytes, controllen %zu}",
		    (unsigned)msg->msg_namelen, (size_t)msg->msg_iovlen,
		    iov_total(msg->msg_iov, msg->msg_iovlen),
		    (size_t)msg->msg_controllen);
	} else {
		out(t, ", NULL");
	}
	out(t, ", %#x)", (unsigned)flags);
	out_send_end(t, rc, err);
	errno = err;
	return rc;
}

/* What a receive call copied: ret bytes, at most the buffer's length. */
static void out_recv_data(struct dt *t, ssize_t rc, const void *buf,
			  size_t len)
{
	if (rc < 0 || !buf)
		return;
	out_data(t, buf, (size_t)rc < len ? (size_t)rc : len);
}

ssize_t dt_recv(struct dt *t, int fd, void *buf, size_t len, int flags)
{
	ssize_t rc;
	int err;

	mark(buf, len);
	CALL(t, rc, recv(fd, buf, len, flags));
	out(t, "recv(");
	out_fd(t, fd);
	out(t, ", %zu, %#x)", len, (unsigned)flags);
	out_ret(t, rc, err);
	out_recv_data(t, rc, buf, len);
	end_line(t);
	errno = err;
	return rc;
}

ssize_t dt_recvfrom(struct dt *t, int fd, void *buf, size_t len, int flags,
		    void *addr, socklen_t *addrlen)
{
	socklen_t inlen = addrlen ? *addrlen : 0;
	ssize_t rc;
	int err;

	mark(buf, len);
	if (addr && addrlen && (int)inlen > 0)
		mark(addr, inlen);
	CALL(t, rc, recvfrom(fd, buf, len, flags, addr, addrlen));
	out(t, "recvfrom(");
	out_fd(t, fd);
	out(t, ", %zu, %#x, %s, %d)", len, (unsigned)flags,
	    addr ? "addr" : "NULL", addrlen ? (int)inlen : -1);
	out_ret(t, rc, err);
	out_recv_data(t, rc, buf, len);
	if (addr || addrlen)
		out_addr_result(t, addr, (int)inlen > 0 ? inlen : 0, addrlen);
	end_line(t);
	errno = err;
	return rc;
}

/* What a recvmsg/readv filled: the iovecs in order, ret bytes in all. */
static void out_iov_data(struct dt *t, ssize_t rc, const struct iovec *iov,
			 size_t n)
{
	size_t left, total = iov_total(iov, n);
	unsigned char *flat;
	size_t off = 0;

	if (rc < 0)
		return;
	left = (size_t)rc < total ? (size_t)rc : total;
	flat = malloc(left + 1);
	if (!flat)
		abort();
	for (size_t i = 0; i < n && off < left; i++) {
		size_t k = iov[i].iov_len < left - off ? iov[i].iov_len
						       : left - off;

		memcpy(flat + off, iov[i].iov_base, k);
		off += k;
	}
	out_data(t, flat, left);
	free(flat);
}

static void mark_iov(const struct iovec *iov, size_t n)
{
	for (size_t i = 0; iov && i < n; i++)
		mark(iov[i].iov_base, iov[i].iov_len);
}

ssize_t dt_recvmsg(struct dt *t, int fd, struct msghdr *msg, int flags)
{
	socklen_t inlen = msg ? msg->msg_namelen : 0;
	size_t inctl = msg ? msg->msg_controllen : 0;
	ssize_t rc;
	int err;

	if (msg) {
		mark(msg->msg_name, inlen);
		mark_iov(msg->msg_iov, msg->msg_iovlen);
		mark(msg->msg_control, msg->msg_controllen);
		msg->msg_flags = 0x5a5a;
	}
	CALL(t, rc, recvmsg(fd, msg, flags));
	out(t, "recvmsg(");
	out_fd(t, fd);
	if (msg)
		out(t, ", {namelen %u, %zu iov %zu bytes, controllen %zu}",
		    (unsigned)inlen, (size_t)msg->msg_iovlen,
		    iov_total(msg->msg_iov, msg->msg_iovlen), inctl);
	else
		out(t, ", NULL");
	out(t, ", %#x)", (unsigned)flags);
	out_ret(t, rc, err);
	if (msg) {
		out_iov_data(t, rc, msg->msg_iov, msg->msg_iovlen);
		out(t, " msg_flags=%#x namelen=%u", (unsigned)msg->msg_flags,
		    (unsigned)msg->msg_namelen);
		if (msg->msg_name) {
			out(t, " name=");
			out_addr(t, msg->msg_name, inlen < msg->msg_namelen
					? inlen : msg->msg_namelen);
		}
		out(t, " controllen=%zu", (size_t)msg->msg_controllen);
	}
	end_line(t);
	errno = err;
	return rc;
}

ssize_t dt_read(struct dt *t, int fd, void *buf, size_t len)
{
	ssize_t rc;
	int err;

	mark(buf, len);
	CALL(t, rc, read(fd, buf, len));
	out(t, "read(");
	out_fd(t, fd);
	out(t, ", %zu)", len);
	out_ret(t, rc, err);
	out_recv_data(t, rc, buf, len);
	end_line(t);
	errno = err;
	return rc;
}

ssize_t dt_write(struct dt *t, int fd, const void *buf, size_t len)
{
	ssize_t rc;
	int err;

	CALL(t, rc, write(fd, buf, len));
	out(t, "write(");
	out_fd(t, fd);
	out(t, ", %zu bytes)", len);
	out_send_end(t, rc, err);
	errno = err;
	return rc;
}

ssize_t dt_readv(struct dt *t, int fd, const struct iovec *iov, int iovcnt)
{
	size_t n = iovcnt > 0 ? (size_t)iovcnt : 0;
	ssize_t rc;
	int err;

	mark_iov(iov, n);
	CALL(t, rc, readv(fd, iov, iovcnt));
	out(t, "readv(");
	out_fd(t, fd);
	out(t, ", %d iov %zu bytes)", iovcnt, iov_total(iov, n));
	out_ret(t, rc, err);
	out_iov_data(t, rc, iov, n);
	for (size_t i = 0; iov && rc >= 0 && i < n; i++) {
		out(t, " [%zu]", i);
		out_data(t, iov[i].iov_base, iov[i].iov_len);
	}
	end_line(t);
	errno = err;
	return rc;
}

ssize_t dt_writev(struct dt *t, int fd, const struct iovec *iov, int iovcnt)
{
	size_t n = iovcnt > 0 ? (size_t)iovcnt : 0;
	ssize_t rc;
	int err;

	CALL(t, rc, writev(fd, iov, iovcnt));
	out(t, "writev(");
	out_fd(t, fd);
	out(t, ", %d iov %zu bytes)", iovcnt, iov_total(iov, n));
	out_send_end(t, rc, err);
	errno = err;
	return rc;
}

int dt_close(struct dt *t, int fd)
{
	struct dt_fd *e;
	int rc, err;

	CALL(t, rc, close(fd));
	out(t, "close(");
	out_fd(t, fd);
	out(t, ")");
	out_ret(t, rc, err);
	end_line(t);
	e = fd_find(t, fd);
	if (rc == 0 && e)
		e->open = false;
	errno = err;
	return rc;
}

int dt_shutdown(struct dt *t, int fd, int how)
{
	int rc, err;

	CALL(t, rc, shutdown(fd, how));
	out(t, "shutdown(");
	out_fd(t, fd);
	out(t, ", %d)", how);
	out_ret(t, rc, err);
	end_line(t);
	errno = err;
	return rc;
}

static int name_call(struct dt *t, int fd, void *addr, socklen_t *len,
		     bool peer)
{
	socklen_t inlen = len ? *len : 0;
	int rc, err;

	if (addr && len && (int)inlen > 0)
		mark(addr, inlen);
	if (peer)
		CALL(t, rc, getpeername(fd, addr, len));
	else
		CALL(t, rc, getsockname(fd, addr, len));
	out(t, "%s(", peer ? "getpeername" : "getsockname");
	out_fd(t, fd);
	out(t, ", %s, %d)", addr ? "addr" : "NULL", len ? (int)inlen : -1);
	out_ret(t, rc, err);
	out_addr_result(t, addr, (int)inlen > 0 ? inlen : 0, len);
	end_line(t);
	errno = err;
	return rc;
}

int dt_getsockname(struct dt *t, int fd, void *addr, socklen_t *len)
{
	return name_call(t, fd, addr, len, false);
}

int dt_getpeername(struct dt *t, int fd, void *addr, socklen_t *len)
{
	return name_call(t, fd, addr, len, true);
}

/* An option value: ints when it is made of them, else bytes. */
static void out_optval(struct dt *t, const void *val, size_t n)
{
	const unsigned char *p = val;

	if (untouched(val, n)) {
		out(t, " val=untouched");
		return;
	}
	out(t, " val=");
	if (n == 0 || n % sizeof(int)) {
		out(t, "<");
		out_hex(t, p, n);
		out(t, ">");
		return;
	}
	out(t, "[");
	for (size_t i = 0; i < n; i += sizeof(int)) {
		int v;

		memcpy(&v, p + i, sizeof(v));
		out(t, "%s%d", i ? " " : "", v);
	}
	out(t, "]");
}

int dt_getsockopt(struct dt *t, int fd, int level, int name, void *val,
		  socklen_t *len)
{
	socklen_t inlen = len ? *len : 0;
	int rc, err;

	if (val && len && (int)inlen > 0)
		mark(val, inlen);
	CALL(t, rc, getsockopt(fd, level, name, val, len));
	out(t, "getsockopt(");
	out_fd(t, fd);
	out(t, ", %d, %d, %s, %d)", level, name, val ? "val" : "NULL",
	    len ? (int)inlen : -1);
	out_ret(t, rc, err);
	if (len) {
		out(t, " optlen=%d", (int)*len);
		if (val && (int)inlen > 0)
			out_optval(t, val, inlen < *len ? inlen : *len);
	}
	end_line(t);
	errno = err;
	return rc;
}

int dt_setsockopt(struct dt *t, int fd, int level, int name, const void *val,
		  socklen_t len)
{
	int rc, err;

	CALL(t, rc, setsockopt(fd, level, name, val, len));
	out(t, "setsockopt(");
	out_fd(t, fd);
	out(t, ", %d, %d, ", level, name);
	if (val && len == sizeof(int)) {
		int v;

		memcpy(&v, val, sizeof(v));
		out(t, "[%d]", v);
	} else if (val && len <= 32) {
		out(t, "<");
		out_hex(t, val, len);
		out(t, ">");
	} else if (val) {
		out(t, "val");
	} else {
		out(t, "NULL");
	}
	out(t, ", %u)", (unsigned)len);
	out_ret(t, rc, err);
	end_line(t);
	errno = err;
	return rc;
}

int dt_setsockopt_int(struct dt *t, int fd, int level, int name, int val)
{
	return dt_setsockopt(t, fd, level, name, &val, sizeof(val));
}

int dt_getsockopt_int(struct dt *t, int fd, int level, int name)
{
	int v;
	socklen_t len = sizeof(v);
	int rc = dt_getsockopt(t, fd, level, name, &v, &len);

	return rc < 0 ? rc : v;
}

void dt_setget_ints(struct dt *t, int fd, int level, int name,
		    const int *vals, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		dt_setsockopt_int(t, fd, level, name, vals[i]);
		dt_getsockopt_int(t, fd, level, name);
	}
}

void dt_getsockopt_lens(struct dt *t, int fd, int level, int name,
			const socklen_t *lens, size_t n)
{
	unsigned char buf[64];

	for (size_t i = 0; i < n; i++) {
		socklen_t len = lens[i] <= sizeof(buf) || (int)lens[i] < 0 ?
				lens[i] : sizeof(buf);

		dt_getsockopt(t, fd, level, name, buf, &len);
	}
}

int dt_add_link(struct dt *t)
{
	int idx, rc = 0, err = 0;

	if (t->st) {
		struct net_device *v0 = us_dev_get_by_name(t->st, "v0");

		if (!v0 && (!dummy_create(t->st, "v1") ||
			    !(v0 = dummy_create(t->st, "v0")) ||
			    netdev_set_ipv4(v0, inet_addr("10.9.0.1"), 24) < 0)) {
			rc = -1;
			err = ENOMEM;
		}
		idx = v0 ? v0->ifindex : 0;
	} else {
		/* (Made once per namespace: "File exists" after that.) */
		if (system("ip link add v0 type veth peer name v1 2>/dev/null;"
			   " ip addr replace 10.9.0.1/24 dev v0 &&"
			   " ip link set v0 up && ip link set v1 up") != 0) {
			rc = -1;
			err = EIO;
		}
		idx = (int)if_nametoindex("v0");
	}
	out(t, "add link v0 10.9.0.1/24 (and v1)");
	out_ret(t, rc, err);
	end_line(t);
	return idx;
}

/* The kernel side sets the MTU of its "lo" with SIOCSIFMTU (in the private
 * namespace), the ustack side its loopback device's. */
int dt_set_lo_mtu(struct dt *t, int mtu)
{
	int rc, err = 0;

	if (t->st) {
		struct net_device *dev = us_dev_get_by_name(t->st, "lo");

		rc = dev ? 0 : -1;
		if (dev)
			dev->mtu = (unsigned int)mtu;
		err = dev ? 0 : ENODEV;
	} else {
		struct ifreq ifr;
		int fd = socket(AF_INET, SOCK_DGRAM, 0);

		memset(&ifr, 0, sizeof(ifr));
		strcpy(ifr.ifr_name, "lo");
		ifr.ifr_mtu = mtu;
		rc = fd < 0 ? -1 : ioctl(fd, SIOCSIFMTU, &ifr);
		err = errno;
		if (fd >= 0)
			close(fd);
	}
	out(t, "set lo mtu %d", mtu);
	out_ret(t, rc, err);
	end_line(t);
	errno = err;
	return rc;
}

/* The kernel side writes /proc/sys/NAME (of the private namespace), the
 * ustack side calls ustack_sysctl_set. */
int dt_sysctl(struct dt *t, const char *name, const char *value)
{
	char path[128];
	int rc, err = 0;

	if (t->st) {
		rc = ustack_sysctl_set(t->st, name, value);
	} else {
		int fd, i;

		i = snprintf(path, sizeof(path), "/proc/sys/%s", name);
		for (char *p = path + 10; p < path + i; p++)
			if (*p == '.')
				*p = '/';
		fd = open(path, O_WRONLY);
		rc = fd < 0 ? -1 : 0;
		if (fd >= 0 && write(fd, value, strlen(value)) < 0)
			rc = -1;
		err = errno;
		if (fd >= 0)
			close(fd);
		errno = err;
	}
	err = errno;
	out(t, "sysctl(%s, \"%s\")", name, value);
	out_ret(t, rc, err);
	end_line(t);
	errno = err;
	return rc;
}

int dt_fcntl(struct dt *t, int fd, int cmd, long arg)
{
	int rc, err;

	CALL(t, rc, fcntl(fd, cmd, arg));
	out(t, "fcntl(");
	out_fd(t, fd);
	out(t, ", %d, %#lx)", cmd, arg);
	if (rc >= 0)
		out(t, " = %#x", (unsigned)rc);
	else
		out_ret(t, rc, err);
	end_line(t);
	errno = err;
	return rc;
}

int dt_ioctl(struct dt *t, int fd, unsigned long request, int *arg)
{
	int in = arg ? *arg : 0;
	int rc, err;

	CALL(t, rc, ioctl(fd, request, arg));
	out(t, "ioctl(");
	out_fd(t, fd);
	out(t, ", %#lx, ", request);
	if (arg)
		out(t, "[%d])", in);
	else
		out(t, "NULL)");
	out_ret(t, rc, err);
	if (arg)
		out(t, " arg=%d", *arg);
	end_line(t);
	errno = err;
	return rc;
}

int dt_ioctl_ifreq(struct dt *t, int fd, unsigned long request,
		   struct ifreq *ifr)
{
	struct ifreq in;
	int rc, err;

	if (ifr)
		memcpy(&in, ifr, sizeof(in));
	CALL(t, rc, ioctl(fd, request, ifr));
	out(t, "ioctl(");
	out_fd(t, fd);
	out(t, ", %#lx, ", request);
	if (ifr) {
		out(t, "{");
		out_hex(t, (const unsigned char *)in.ifr_name, IFNAMSIZ);
		out(t, " ");
		out_hex(t, (const unsigned char *)&in.ifr_ifru,
			sizeof(in.ifr_ifru));
		out(t, "})");
	} else {
		out(t, "NULL)");
	}
	out_ret(t, rc, err);
	if (ifr && memcmp(&in, ifr, sizeof(in)) != 0) {
		out(t, " ifr={");
		out_hex(t, (const unsigned char *)ifr->ifr_name, IFNAMSIZ);
		out(t, " ");
		out_hex(t, (const unsigned char *)&ifr->ifr_ifru,
			sizeof(ifr->ifr_ifru));
		out(t, "}");
	} else if (ifr) {
		out(t, " ifr untouched");
	}
	end_line(t);
	errno = err;
	return rc;
}

int dt_ioctl_ifconf(struct dt *t, int fd, int len, void *buf, size_t cap,
		    bool null_ifc)
{
	struct ifconf ifc;
	int rc, err;

	memset(&ifc, 0, sizeof(ifc));
	ifc.ifc_len = len;
	ifc.ifc_buf = buf;
	mark(buf, cap);
	CALL(t, rc, ioctl(fd, SIOCGIFCONF, null_ifc ? NULL : &ifc));
	out(t, "ioctl(");
	out_fd(t, fd);
	if (null_ifc)
		out(t, ", SIOCGIFCONF, NULL)");
	else
		out(t, ", SIOCGIFCONF, {len %d, %s})", len,
		    buf ? "buf" : "NULL");
	out_ret(t, rc, err);
	if (!null_ifc)
		out(t, " ifc_len=%d buf %s", ifc.ifc_len,
		    ifc.ifc_buf == buf ? "same" : "moved");
	for (size_t i = 0; buf && i < cap; i += sizeof(struct ifreq)) {
		size_t n = cap - i < sizeof(struct ifreq) ?
			   cap - i : sizeof(struct ifreq);

		out(t, "\n    [%zu] ", i);
		if (untouched((const char *)buf + i, n))
			out(t, "untouched");
		else
			out_hex(t, (const unsigned char *)buf + i, n);
	}
	end_line(t);
	errno = err;
	return rc;
}

int dt_poll(struct dt *t, struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	int rc, err;

	for (nfds_t i = 0; i < nfds; i++)
		fds[i].revents = 0x5a5a;
	CALL(t, rc, poll(fds, nfds, timeout_ms));
	out(t, "poll(");
	if (!nfds)
		out(t, "{");
	for (nfds_t i = 0; i < nfds; i++) {
		out(t, "%s", i ? " " : "{");
		out_fd(t, fds[i].fd);
		out(t, ":%#x", (unsigned)fds[i].events);
	}
	out(t, "}, %d)", timeout_ms);
	out_ret(t, rc, err);
	out(t, " revents");
	for (nfds_t i = 0; i < nfds; i++)
		out(t, " %#x", (unsigned)(uint16_t)fds[i].revents);
	end_line(t);
	errno = err;
	return rc;
}

int dt_epoll_create1(struct dt *t, int flags)
{
	int rc, err;

	CALL(t, rc, epoll_create1(flags));
	out(t, "epoll_create1(%#x)", (unsigned)flags);
	out_fd_ret(t, rc, err);
	end_line(t);
	errno = err;
	return rc;
}

int dt_epoll_ctl(struct dt *t, int epfd, int op, int fd, uint32_t events,
		 uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	int rc, err;

	CALL(t, rc, epoll_ctl(epfd, op, fd, &ev));
	out(t, "epoll_ctl(");
	out_fd(t, epfd);
	out(t, ", %d, ", op);
	out_fd(t, fd);
	out(t, ", {%#x, %llu})", (unsigned)events, (unsigned long long)data);
	out_ret(t, rc, err);
	end_line(t);
	errno = err;
	return rc;
}

int dt_epoll_wait(struct dt *t, int epfd, int maxevents, int timeout_ms)
{
	struct epoll_event evs[DT_EPOLL_MAX];
	int rc, err;

	if (maxevents > DT_EPOLL_MAX)
		abort();
	mark(evs, sizeof(evs));
	CALL(t, rc, epoll_wait(epfd, evs, maxevents, timeout_ms));
	out(t, "epoll_wait(");
	out_fd(t, epfd);
	out(t, ", %d, %d)", maxevents, timeout_ms);
	out_ret(t, rc, err);
	for (int i = 0; i < rc; i++)
		out(t, " {%#x, %llu}", (unsigned)evs[i].events,
		    (unsigned long long)evs[i].data.u64);
	end_line(t);
	errno = err;
	return rc;
}

void dt_getnames(struct dt *t, int fd)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);

	dt_getsockname(t, fd, &a, &len);
	len = sizeof(a);
	dt_getpeername(t, fd, &a, &len);
}

int dt_cap_net_raw(struct dt *t, bool on)
{
	struct __user_cap_header_struct h = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3];
	int rc = (int)syscall(SYS_capget, &h, d), err = 0;

	if (rc == 0) {
		if (on)
			d[CAP_TO_INDEX(CAP_NET_RAW)].effective |=
				CAP_TO_MASK(CAP_NET_RAW);
		else
			d[CAP_TO_INDEX(CAP_NET_RAW)].effective &=
				~CAP_TO_MASK(CAP_NET_RAW);
		rc = (int)syscall(SYS_capset, &h, d);
	}
	err = rc ? errno : 0;
	out(t, "CAP_NET_RAW %s", on ? "on" : "off");
	out_ret(t, rc, err);
	end_line(t);
	return rc;
}

int dt_ping_socket(struct dt *t)
{
	if (dt_ct(t) == &ct_kernel) {
		int fd = open("/proc/sys/net/ipv4/ping_group_range", O_WRONLY);

		if (fd < 0 || write(fd, "0 2147483647", 12) != 12)
			perror("ping_group_range");
		if (fd >= 0)
			close(fd);
	}
	return dt_socket(t, AF_INET, SOCK_DGRAM, IPPROTO_ICMP);
}

int dt_udp_bound(struct dt *t, uint16_t port)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", port);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_bind(t, fd, &a, sizeof(a));
	return fd;
}

int dt_tcp_listener(struct dt *t, uint16_t port)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", port);
	int fd = dt_socket(t, AF_INET, SOCK_STREAM, 0);

	dt_setsockopt_int(t, fd, SOL_SOCKET, SO_REUSEADDR, 1);
	dt_bind(t, fd, &a, sizeof(a));
	dt_listen(t, fd, 8);
	return fd;
}

void dt_tcp_pair(struct dt *t, uint16_t port, int *l, int *c, int *s)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", port);

	*l = dt_tcp_listener(t, port);
	*c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_connect(t, *c, &a, sizeof(a));
	*s = dt_accept(t, *l, NULL, NULL);
}

/* ---- running a case ------------------------------------------------------ */

static struct dt *hang_dt;
static const char *hang_case;

static void on_hang(int sig)
{
	(void)sig;
	fprintf(stderr, "HANG: case %s on %s still running after %d s; "
		"transcript so far:\n%.*s\n", hang_case, hang_dt->ct->name,
		DT_HANG_S, (int)hang_dt->len, hang_dt->buf);
	_exit(1);
}

static void run_side(struct dt *t, const struct dt_case *c,
		     const struct calltable *ct)
{
	struct ustack_config cfg;
	struct ustack *st = NULL;

	memset(t, 0, sizeof(*t));
	t->ct = ct;
	t->cap = 4096;
	t->buf = calloc(1, t->cap);
	if (!t->buf)
		abort();
	if (ct == &ct_ustack) {
		ustack_config_init(&cfg);
		cfg.seed = 1;
		cfg.log_level = 0;
		st = ustack_create(&cfg);
		if (!st)
			abort();
		ustack_set_default(st);
		t->st = st;
	}
	hang_dt = t;
	hang_case = c->name;
	signal(SIGALRM, on_hang);
	signal(SIGPIPE, on_sigpipe);
	alarm(DT_HANG_S);
	c->fn(t);
	alarm(0);
	for (int i = 0; i < t->nfds; i++)
		if (t->fds[i].open)
			ct->close(t->fds[i].fd);
	ustack_destroy(st);
}

void dt_run_timers(struct dt *t)
{
	if (t->st && ustack_start(t->st) < 0 && !t->st->rt)
		abort();
}

/* The next line of a transcript, without its newline. */
static size_t next_line(const char **p, const char **line)
{
	const char *nl = strchr(*p, '\n');
	size_t n = nl ? (size_t)(nl - *p) : strlen(*p);

	*line = *p;
	*p += nl ? n + 1 : n;
	return n;
}

static void print_both(const char *k, const char *u, FILE *f)
{
	while (*k || *u) {
		const char *kl, *ul;
		size_t kn = next_line(&k, &kl), un = next_line(&u, &ul);

		if (kn == un && memcmp(kl, ul, kn) == 0) {
			fprintf(f, "    both   | %.*s\n", (int)kn, kl);
			continue;
		}
		fprintf(f, "  ! linux  | %.*s\n", (int)kn, kl);
		fprintf(f, "  ! ustack | %.*s\n", (int)un, ul);
	}
}

bool dt_run_case(const struct dt_case *c, FILE *f)
{
	struct dt k, u;
	bool same;

	run_side(&k, c, &ct_kernel);
	run_side(&u, c, &ct_ustack);
	same = strcmp(k.buf, u.buf) == 0;
	if (same && getenv("DT_SHOW")) {
		fprintf(f, "case %s: agreed\n", c->name);
		print_both(k.buf, u.buf, f);
	}
	if (!same) {
		fprintf(f, "case %s: linux and ustack disagree\n", c->name);
		print_both(k.buf, u.buf, f);
	}
	free(k.buf);
	free(u.buf);
	return same;
}

/* ---- the program --------------------------------------------------------- */

static void run_cmocka_case(void **state)
{
	const struct dt_case *c = *state;

	if (!dt_run_case(c, stdout))
		fail_msg("%s: linux and ustack disagree (transcripts above)",
			 c->name);
}

/* ---- control messages ---------------------------------------------------- */

/* A time in a control message: recent (within a minute of the clock),
 * its fraction in range, and not before the last one of the case. */
static void note_time(struct dt *t, const char *what, int64_t sec,
		      int64_t frac, bool ns)
{
	struct timespec now, ts = { (time_t)sec, (long)(ns ? frac : frac * 1000) };
	bool ordered;

	clock_gettime(CLOCK_REALTIME, &now);
	ordered = ts.tv_sec > t->last_ts.tv_sec ||
		  (ts.tv_sec == t->last_ts.tv_sec &&
		   ts.tv_nsec >= t->last_ts.tv_nsec);
	t->last_ts = ts;
	dt_note(t, "  %s recent %d, fraction in range %d, not before the "
		"last %d", what, sec > now.tv_sec - 60 && sec <= now.tv_sec,
		frac >= 0 && frac < (ns ? 1000000000 : 1000000), ordered);
}

static void note_addr(char *out, size_t n, const void *in_addr)
{
	inet_ntop(AF_INET, in_addr, out, (socklen_t)n);
}

/*
 * IPv4 options (IP_RECVOPTS, IP_RETOPTS) in hex, each time in a timestamp
 * option (RFC 791 §3.1: ms since midnight UT) shown as "t" when it is
 * within a minute of now, "T?" otherwise, since the two stacks stamp at
 * different moments.
 */
void dt_note_ipopts(struct dt *t, const unsigned char *d, size_t n)
{
	char line[3 * 64 + 16];
	size_t at = 0, i = 0, ts_start = 0, ts_end = 0, step = 0;
	struct timespec now;
	uint32_t now_ms;

	clock_gettime(CLOCK_REALTIME, &now);
	now_ms = (uint32_t)((now.tv_sec % 86400) * 1000 + now.tv_nsec / 1000000);
	/* The first timestamp option's recorded entries. */
	while (i + 1 < n && d[i] != 0) {
		if (d[i] == 1) {
			i++;
			continue;
		}
		if (d[i + 1] < 2 || i + d[i + 1] > n)
			break;
		if (d[i] == 68 && d[i + 1] >= 4 && !ts_end) {
			ts_start = i + 4;
			ts_end = i + (d[i + 2] - 1 < d[i + 1] ? d[i + 2] - 1u
							      : d[i + 1]);
			step = (d[i + 3] & 0xf) == 0 ? 4 : 8;
		}
		i += d[i + 1];
	}
	line[0] = 0;
	for (i = 0; i < n && at + 4 < sizeof(line); i++) {
		bool is_time = ts_end && i >= ts_start && i + 4 <= ts_end &&
			       (i - ts_start) % step == step - 4;

		if (is_time) {
			uint32_t v = (uint32_t)d[i] << 24 | d[i + 1] << 16 |
				     d[i + 2] << 8 | d[i + 3];
			int64_t diff = (int64_t)v - now_ms;

			at += (size_t)snprintf(line + at, sizeof(line) - at,
					       "%s ", diff > -60000 &&
					       diff < 60000 ? "t" : "T?");
			i += 3;
			continue;
		}
		at += (size_t)snprintf(line + at, sizeof(line) - at, "%02x%s",
				       d[i], (i % 4 == 3) ? " " : "");
	}
	dt_note(t, "  opts %s", line);
}

void dt_note_cmsgs(struct dt *t, const struct msghdr *m)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c;
	     c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		size_t n = c->cmsg_len > CMSG_LEN(0) ? c->cmsg_len - CMSG_LEN(0)
						      : 0;
		const unsigned char *d = CMSG_DATA(c);
		int level = c->cmsg_level, type = c->cmsg_type;
		char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
		int64_t v[6];

		dt_note(t, "cmsg %d/%d len %zu", level, type,
			(size_t)c->cmsg_len);
		if (level == SOL_SOCKET &&
		    (type == SO_TIMESTAMP_OLD || type == SO_TIMESTAMP_NEW ||
		     type == SO_TIMESTAMPNS_OLD || type == SO_TIMESTAMPNS_NEW) &&
		    n >= 2 * sizeof(int64_t)) {
			/* Two 64-bit fields in every layout on x86-64. */
			memcpy(v, d, 2 * sizeof(int64_t));
			note_time(t, "time", v[0], v[1],
				  type == SO_TIMESTAMPNS_OLD ||
				  type == SO_TIMESTAMPNS_NEW);
		} else if (level == SOL_SOCKET &&
			   (type == SO_TIMESTAMPING_OLD ||
			    type == SO_TIMESTAMPING_NEW) &&
			   n >= 6 * sizeof(int64_t)) {
			memcpy(v, d, 6 * sizeof(int64_t));
			note_time(t, "ts[0]", v[0], v[1], true);
			dt_note(t, "  ts[1] zero %d, ts[2] zero %d",
				!v[2] && !v[3], !v[4] && !v[5]);
		} else if (level == SOL_SOCKET && type == SO_RXQ_OVFL &&
			   n >= sizeof(uint32_t)) {
			uint32_t drops;

			/* How many a full queue drops depends on each
			 * stack's accounting: only that there were some. */
			memcpy(&drops, d, sizeof(drops));
			dt_note(t, "  drops > 0: %d", drops > 0);
		} else if (level == SOL_IP && type == IP_PKTINFO &&
			   n >= sizeof(struct in_pktinfo)) {
			struct in_pktinfo pi;

			memcpy(&pi, d, sizeof(pi));
			note_addr(a, sizeof(a), &pi.ipi_spec_dst);
			note_addr(b, sizeof(b), &pi.ipi_addr);
			dt_note(t, "  ifindex %d spec_dst %s addr %s",
				pi.ipi_ifindex, a, b);
		} else if (level == SOL_IP && type == IP_TTL &&
			   n >= sizeof(int)) {
			int ttl;

			memcpy(&ttl, d, sizeof(ttl));
			dt_note(t, "  ttl %d", ttl);
		} else if (level == SOL_IP && type == IP_TOS && n >= 1) {
			dt_note(t, "  tos %#x", d[0]);
		} else if (level == SOL_IP &&
			   (type == IP_RECVOPTS || type == IP_RETOPTS)) {
			dt_note_ipopts(t, d, n);
		} else if (level == SOL_IP && type == IP_ORIGDSTADDR &&
			   n >= sizeof(struct sockaddr_in)) {
			struct sockaddr_in o;

			memcpy(&o, d, sizeof(o));
			note_addr(a, sizeof(a), &o.sin_addr);
			dt_note(t, "  family %u %s:%u zero %d", o.sin_family, a,
				ntohs(o.sin_port),
				!memcmp(o.sin_zero, "\0\0\0\0\0\0\0\0", 8));
		} else if (level == SOL_TCP && type == TCP_INQ &&
			   n >= sizeof(int)) {
			int inq;

			memcpy(&inq, d, sizeof(inq));
			dt_note(t, "  inq %d", inq);
		} else if (level == SOL_IP && type == IP_RECVFRAGSIZE &&
			   n >= sizeof(int)) {
			int size;

			memcpy(&size, d, sizeof(size));
			dt_note(t, "  fragsize %d", size);
		} else if (level == SOL_IP && type == IP_RECVERR &&
			   n >= sizeof(struct sock_extended_err) +
				sizeof(struct sockaddr_in)) {
			struct sock_extended_err ee;
			struct sockaddr_in off;

			memcpy(&ee, d, sizeof(ee));
			memcpy(&off, d + sizeof(ee), sizeof(off));
			note_addr(a, sizeof(a), &off.sin_addr);
			dt_note(t, "  errno %u origin %u type %u code %u pad %u "
				"info %u data %u offender family %u %s:%u",
				ee.ee_errno, ee.ee_origin, ee.ee_type,
				ee.ee_code, ee.ee_pad, ee.ee_info, ee.ee_data,
				off.sin_family, a, ntohs(off.sin_port));
		}
	}
}

ssize_t dt_recvmsg_noted(struct dt *t, int fd, int flags, size_t buflen,
			 size_t ctllen)
{
	static char buf[4096];
	char ctl[512] __attribute__((aligned(8)));
	struct sockaddr_in from;
	struct iovec iov = { buf, buflen < sizeof(buf) ? buflen : sizeof(buf) };
	struct msghdr m = {
		.msg_name = &from, .msg_namelen = sizeof(from),
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctllen ? ctl : NULL,
		.msg_controllen = ctllen < sizeof(ctl) ? ctllen : sizeof(ctl),
	};
	ssize_t rc = dt_recvmsg(t, fd, &m, flags);

	if (rc >= 0 && ctllen)
		dt_note_cmsgs(t, &m);
	return rc;
}

int dt_main(const char *group, const struct dt_case *cases, size_t n)
{
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	char why[256];
	int rc;

	if (!tests)
		return 1;
	/* The kernel side's 127.0.0.1 must be a private one. */
	if (netns_enter_private(why, sizeof(why)) < 0) {
		printf("%s\n", why);
		free(tests);
		return 77;
	}
	if (getenv("DT_CASE"))
		cmocka_set_test_filter(getenv("DT_CASE"));
	for (size_t i = 0; i < n; i++) {
		tests[i].name = cases[i].name;
		tests[i].test_func = run_cmocka_case;
		tests[i].initial_state = (void *)&cases[i];
	}
	rc = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	free(tests);
	return rc;
}
