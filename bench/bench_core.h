/*
 * bench_core.h - the measured loops of `make bench` (bulk sink and source,
 * request/response, connect/request/response/close), written once over a
 * table of socket calls so that the kernel, ustack and lwIP run exactly the
 * same code (bench_tcp.c fills the table with the libc or the us_* calls,
 * bench_lwip.c with lwIP's).
 *
 * Every loop checks what it receives: bulk data is a fixed pattern of the
 * stream offset, request/response bytes are a counter. A wrong byte ends
 * the run with an error, so a figure is only printed for data that arrived
 * intact. Each program prints one line at the end:
 *
 *   result mode=M stack=S bytes=B secs=T count=N cpu_user=U cpu_sys=Y ok=1
 *
 * (cpu_* for the whole process, all threads), which scripts/bench.sh reads.
 */
#ifndef US_BENCH_CORE_H
#define US_BENCH_CORE_H

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct bench_ops {
	const char *name;
	int (*socket)(int domain, int type, int protocol);
	int (*bind)(int fd, const struct sockaddr *addr, socklen_t len);
	int (*listen)(int fd, int backlog);
	int (*accept)(int fd, struct sockaddr *addr, socklen_t *len);
	int (*connect)(int fd, const struct sockaddr *addr, socklen_t len);
	ssize_t (*send)(int fd, const void *buf, size_t len, int flags);
	ssize_t (*recv)(int fd, void *buf, size_t len, int flags);
	int (*setsockopt)(int fd, int level, int name, const void *val,
			  socklen_t len);
	int (*shutdown)(int fd, int how);
	int (*close)(int fd);
	int (*poll)(struct pollfd *fds, nfds_t n, int timeout_ms);
};

struct bench_result {
	const char *mode;
	uint64_t bytes;      /* payload bytes received and checked */
	uint64_t count;      /* transactions or connections completed */
	double secs;         /* measured interval */
	bool ok;
};

/* Write size (bulk) and the largest request the loops handle. */
#define BENCH_CHUNK (64 * 1024)
#define BENCH_CRR_SIZE 100
/* The connect/request/response/close server listens on this many ports
 * (base .. base + n - 1), so that the client's TIME_WAIT pairs, spread over
 * them, never exhaust one port pair's ephemeral range. */
#define BENCH_CRR_PORTS 16

/* The pattern from stream offset off on (BENCH_CHUNK bytes readable). */
const uint8_t *bench_pattern(uint64_t off);
/* Monotonic seconds. */
double bench_now(void);

/* A listening socket on addr:port (SO_REUSEADDR), or -1 after saying why. */
int bench_listen(const struct bench_ops *o, uint32_t addr, uint16_t port);
/* A connected socket (TCP_NODELAY when nodelay), or -1 after saying why. */
int bench_connect(const struct bench_ops *o, uint32_t addr, uint16_t port,
		  bool nodelay);

/* Accept one connection on lfd and read it to its end, checking the
 * pattern; the interval runs from the first byte to the end. */
void bench_sink(const struct bench_ops *o, int lfd, struct bench_result *r);
/* Send the pattern to addr:port for secs seconds, then shut down and wait
 * for the sink to close (so that every byte was delivered). The byte at
 * stream offset bench_corrupt_at (none by default) is sent wrong, so that
 * a test can see the sink's check fail. */
extern uint64_t bench_corrupt_at;
void bench_source(const struct bench_ops *o, uint32_t addr, uint16_t port,
		  double secs, struct bench_result *r);
/* Accept one connection; echo each `size`-byte request until the end. */
void bench_rr_server(const struct bench_ops *o, int lfd, size_t size,
		     struct bench_result *r);
/* One connection: `size`-byte request, same-size response, for secs. */
void bench_rr_client(const struct bench_ops *o, uint32_t addr, uint16_t port,
		     size_t size, double secs, struct bench_result *r);
/* Serve connect/request/response/close on BENCH_CRR_PORTS listeners from
 * base_port until *stop becomes true; ready() once they all listen. */
void bench_crr_server(const struct bench_ops *o, uint32_t addr,
		      uint16_t base_port, volatile bool *stop,
		      void (*ready)(void), struct bench_result *r);
/* Connect, send BENCH_CRR_SIZE bytes, read as many back, close; repeat for
 * secs, cycling over the server's ports. */
void bench_crr_client(const struct bench_ops *o, uint32_t addr,
		      uint16_t base_port, double secs, struct bench_result *r);

/* Print the result line (see above), with this process's CPU time. */
void bench_print_result(const struct bench_ops *o, const struct bench_result *r);

#endif
