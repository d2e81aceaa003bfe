/*
 * ustack.h - the public API of ustack, a user-space TCP/IP stack.
 *
 * A struct ustack is one stack instance: its devices, tables, timers and
 * counters, and (once started) the runtime thread that drives it. Create
 * one (it has a loopback device, "lo", 127.0.0.1/8), attach a TAP device
 * with an address, start it, and use the BSD socket calls below.
 *
 * All functions return 0 or a negative errno value unless they say
 * otherwise.
 */
#ifndef USTACK_USTACK_H
#define USTACK_USTACK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ustack;
struct us_clock;

struct ustack_config {
	uint64_t seed;            /* for ISNs, ports, MACs; 0 = from the OS */
	int log_level;            /* 0 err .. 4 trace; default 1 (warn) */
	size_t mem_limit_bytes;   /* packet-buffer memory limit; default 64 MiB */
	struct us_clock *clock;   /* NULL = the monotonic clock */
	int no_loopback;          /* nonzero: no "lo" device (for unit tests) */
};

/* Fill cfg with the defaults. */
void ustack_config_init(struct ustack_config *cfg);
/* NULL cfg = defaults. Returns NULL on failure (errno set). */
struct ustack *ustack_create(const struct ustack_config *cfg);
/* Stops the runtime if running, releases every device and buffer. */
void ustack_destroy(struct ustack *st);

struct ustack_ifconfig {
	const char *ifname;       /* TAP device name; created when absent */
	uint32_t addr;            /* IPv4 address, network byte order */
	int prefix_len;           /* 0..32 */
	uint32_t gateway;         /* default gateway, network order; 0 = none */
	unsigned int mtu;         /* 0 = 1500 */
	const uint8_t *mac;       /* 6 bytes, or NULL for a random local MAC */
	const char *pcap_path;    /* capture every frame here, or NULL */
};

/*
 * Attach to (or create) the TAP device ifc->ifname in the calling thread's
 * network namespace, bring it up, and give ustack the address. Sends a
 * gratuitous ARP.
 */
int ustack_add_tap(struct ustack *st, const struct ustack_ifconfig *ifc);

/* Start / stop the runtime thread that drives devices and timers. */
int ustack_start(struct ustack *st);
void ustack_stop(struct ustack *st);

/* Print every non-zero counter and drop reason. */
void ustack_print_counters(struct ustack *st, FILE *f);

/*
 * The BSD socket calls. Each has the arguments, return value and errno of
 * the Linux call of the same name (without the us_ prefix). Descriptors are
 * real kernel descriptors owned by the stack; calls on descriptors that are
 * not ustack sockets go to the kernel unchanged, and us_socket() with a
 * family other than AF_INET creates a kernel socket.
 *
 * us_socket() creates the socket on the default instance: the last one
 * passed to ustack_set_default(), else the first created.
 */
void ustack_set_default(struct ustack *st);
int us_socket(int domain, int type, int protocol);
int us_socket_on(struct ustack *st, int domain, int type, int protocol);
int us_bind(int fd, const struct sockaddr *addr, socklen_t len);
int us_connect(int fd, const struct sockaddr *addr, socklen_t len);
int us_listen(int fd, int backlog);
int us_accept(int fd, struct sockaddr *addr, socklen_t *addrlen);
int us_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
ssize_t us_send(int fd, const void *buf, size_t len, int flags);
ssize_t us_sendto(int fd, const void *buf, size_t len, int flags,
		  const struct sockaddr *addr, socklen_t addrlen);
ssize_t us_sendmsg(int fd, const struct msghdr *msg, int flags);
ssize_t us_recv(int fd, void *buf, size_t len, int flags);
ssize_t us_recvfrom(int fd, void *buf, size_t len, int flags,
		    struct sockaddr *addr, socklen_t *addrlen);
ssize_t us_recvmsg(int fd, struct msghdr *msg, int flags);
ssize_t us_read(int fd, void *buf, size_t len);
ssize_t us_write(int fd, const void *buf, size_t len);
ssize_t us_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t us_writev(int fd, const struct iovec *iov, int iovcnt);
int us_close(int fd);
int us_shutdown(int fd, int how);
int us_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int us_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int us_getsockopt(int fd, int level, int optname, void *optval,
		  socklen_t *optlen);
int us_setsockopt(int fd, int level, int optname, const void *optval,
		  socklen_t optlen);
int us_fcntl(int fd, int cmd, ...);
int us_ioctl(int fd, unsigned long request, ...);

#ifdef __cplusplus
}
#endif

#endif
