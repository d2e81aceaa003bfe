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

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>

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

/*
 * Per-instance tunables, named as the Linux sysctls they mirror
 * ("net.ipv4.tcp_sack"; '/' works as the separator too) and with Linux's
 * defaults. Values are strings, as written to /proc/sys. Returns 0, or -1
 * with errno ENOENT (no such knob) or EINVAL (value out of range).
 */
int ustack_sysctl_set(struct ustack *st, const char *name, const char *value);
/* The value as a string in buf; -1 with ENOENT, or ENOSPC if len is short. */
int ustack_sysctl_get(struct ustack *st, const char *name, char *buf,
		      size_t len);

/*
 * Seeded faults on one direction of a TAP device's path, for testing
 * against the kernel (which has no netem here): each frame is lost,
 * duplicated or held back (so that later frames overtake it) with the
 * given probability, in parts per million. All zero = a clean path.
 */
struct ustack_fault {
	uint32_t loss_ppm;
	uint32_t dup_ppm;
	uint32_t reorder_ppm;
	uint32_t reorder_delay_us; /* how long a frame is held; 0 = 1 ms */
};

struct ustack_ifconfig {
	const char *ifname;       /* TAP device name; created when absent */
	uint32_t addr;            /* IPv4 address, network byte order */
	int prefix_len;           /* 0..32 */
	uint32_t gateway;         /* default gateway, network order; 0 = none */
	unsigned int mtu;         /* 0 = 1500 */
	const uint8_t *mac;       /* 6 bytes, or NULL for a random local MAC */
	const char *pcap_path;    /* capture every frame here, or NULL */
	/* Faults on the frames ustack sends (tx) and receives (rx). The
	 * capture sees sent frames before the faults, received ones after. */
	struct ustack_fault tx_fault;
	struct ustack_fault rx_fault;
	uint64_t fault_seed;      /* 0 = from the instance's seed */
	/* Offloads over the virtio-net header (checksums both ways, TSO out,
	 * large TCP packets in) are on unless this is nonzero. */
	int no_offload;
	/* Large packets (TSO, 16 KB or more) are written to the TAP by a
	 * thread of the device's own, so that a bulk sender's copies and
	 * the kernel's receive work run on two CPUs, unless this is
	 * nonzero: then every frame is written by the thread that sends
	 * it. */
	int no_tx_thread;
};

/*
 * Attach to (or create) the TAP device ifc->ifname in the calling thread's
 * network namespace, bring it up, and give ustack the address. Sends a
 * gratuitous ARP.
 */
int ustack_add_tap(struct ustack *st, const struct ustack_ifconfig *ifc);

/* Start / stop the runtime thread that drives devices and timers. Stop
 * also waits (up to 1 s) for a TAP's writer thread to write the frames
 * it was given (ustack_ifconfig.no_tx_thread). */
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
/* A new descriptor for the same socket (the kernel picks the number and
 * close-on-exec as for any dup); the socket is released when its last
 * descriptor is closed. us_fcntl F_DUPFD / F_DUPFD_CLOEXEC too. */
int us_dup(int fd);
int us_dup2(int fd, int newfd);
int us_dup3(int fd, int newfd, int flags);
int us_shutdown(int fd, int how);
int us_getsockname(int fd, struct sockaddr *addr, socklen_t *len);
int us_getpeername(int fd, struct sockaddr *addr, socklen_t *len);
int us_getsockopt(int fd, int level, int optname, void *optval,
		  socklen_t *optlen);
int us_setsockopt(int fd, int level, int optname, const void *optval,
		  socklen_t optlen);
int us_fcntl(int fd, int cmd, ...);
int us_ioctl(int fd, unsigned long request, ...);

/*
 * Readiness, over ustack sockets and kernel descriptors in the same set,
 * with Linux's semantics and errors. An epoll instance is a real kernel
 * epoll descriptor (it can itself be polled, or added to another set);
 * close it with us_close(). us_epoll_* accept only instances made by
 * us_epoll_create/us_epoll_create1 (EINVAL for any other epoll fd).
 */
int us_poll(struct pollfd *fds, nfds_t nfds, int timeout);
int us_ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo_p,
	     const sigset_t *sigmask);
int us_select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
	      struct timeval *timeout);
int us_pselect(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
	       const struct timespec *timeout, const sigset_t *sigmask);
int us_epoll_create(int size);
int us_epoll_create1(int flags);
int us_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
int us_epoll_wait(int epfd, struct epoll_event *events, int maxevents,
		  int timeout);
int us_epoll_pwait(int epfd, struct epoll_event *events, int maxevents,
		   int timeout, const sigset_t *sigmask);

#ifdef __cplusplus
}
#endif

#endif
