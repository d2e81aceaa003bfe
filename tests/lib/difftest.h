/*
 * difftest.h - differential tests: Linux is the oracle (TESTING.md).
 *
 * A case is a function written once against the socket call table
 * (calltable.h) through the dt_* wrappers below. dt_run_case() runs it
 * twice: on the kernel's sockets, in the private network namespace that
 * dt_main() entered first (netns.h), and on a fresh ustack instance
 * (ustack_create: "lo", 127.0.0.1/8). Every wrapped call appends one line
 * to the side's transcript: the call and its arguments, the return value,
 * the errno name, and what the call handed back (data, addresses and their
 * lengths, msg_flags, option values and lengths, revents, a SIGPIPE). The
 * case passes when the two transcripts are equal. Output buffers are
 * filled with a marker first, so "untouched" is visible too.
 *
 * What differs by design is written so that it compares equal:
 * descriptors are named fd1, fd2, ... in order of appearance; a port in
 * the ephemeral range (32768..60999 on both) prints as "eph", so cases use
 * fixed ports below 32768 wherever they need a number.
 *
 *   static void case_bind_twice(struct dt *t)
 *   {
 *           struct sockaddr_in a = dt_sin("127.0.0.1", 5000);
 *           int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
 *
 *           dt_bind(t, fd, &a, sizeof(a));
 *           dt_bind(t, fd, &a, sizeof(a));   // EINVAL on both, or a diff
 *   }
 *
 *   static const struct dt_case cases[] = { DT_CASE(case_bind_twice) };
 *
 *   int main(void)
 *   {
 *           return dt_main("diff_bind", cases, 1);
 *   }
 *
 * A buffer handed to a call must really be as long as the length passed
 * with it (the kernel side would fault, the marker would overrun).
 */
#ifndef US_TESTS_DIFFTEST_H
#define US_TESTS_DIFFTEST_H

#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "calltable.h"

struct dt;

struct dt_case {
	const char *name;
	void (*fn)(struct dt *t);
};

/*
 * Run c on both sides and compare. Returns true when the transcripts are
 * equal; otherwise prints both, with the differing lines marked, to out.
 * A case that has not finished after DT_HANG_S seconds is reported with its
 * transcript so far and the process exits.
 */
#define DT_HANG_S 60
bool dt_run_case(const struct dt_case *c, FILE *out);

#define DT_CASE(fn) { #fn, fn }

/* The side being run (for the rare case that must know; not recorded). */
const struct calltable *dt_ct(const struct dt *t);
/* The ustack side's instance; NULL on the kernel's. */
struct ustack;
struct ustack *dt_ustack(const struct dt *t);
/* Free-form line in the transcript (a value the case computed). */
void dt_note(struct dt *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* An AF_INET address from a dotted quad and a host-order port. */
struct sockaddr_in dt_sin(const char *ip, uint16_t port);

/* A pipe made with the kernel's pipe(2) on both sides, its ends named. */
int dt_pipe(struct dt *t, int fds[2]);

/* The recorded calls: same arguments and results as the libc calls. */
int dt_socket(struct dt *t, int domain, int type, int protocol);
int dt_bind(struct dt *t, int fd, const void *addr, socklen_t len);
int dt_connect(struct dt *t, int fd, const void *addr, socklen_t len);
int dt_listen(struct dt *t, int fd, int backlog);
int dt_accept(struct dt *t, int fd, void *addr, socklen_t *len);
int dt_accept4(struct dt *t, int fd, void *addr, socklen_t *len, int flags);
ssize_t dt_send(struct dt *t, int fd, const void *buf, size_t len, int flags);
ssize_t dt_sendto(struct dt *t, int fd, const void *buf, size_t len,
		  int flags, const void *addr, socklen_t addrlen);
ssize_t dt_sendmsg(struct dt *t, int fd, const struct msghdr *msg, int flags);
ssize_t dt_recv(struct dt *t, int fd, void *buf, size_t len, int flags);
ssize_t dt_recvfrom(struct dt *t, int fd, void *buf, size_t len, int flags,
		    void *addr, socklen_t *addrlen);
ssize_t dt_recvmsg(struct dt *t, int fd, struct msghdr *msg, int flags);
ssize_t dt_read(struct dt *t, int fd, void *buf, size_t len);
ssize_t dt_write(struct dt *t, int fd, const void *buf, size_t len);
ssize_t dt_readv(struct dt *t, int fd, const struct iovec *iov, int iovcnt);
ssize_t dt_writev(struct dt *t, int fd, const struct iovec *iov, int iovcnt);
int dt_close(struct dt *t, int fd);
int dt_shutdown(struct dt *t, int fd, int how);
int dt_getsockname(struct dt *t, int fd, void *addr, socklen_t *len);
int dt_getpeername(struct dt *t, int fd, void *addr, socklen_t *len);
int dt_getsockopt(struct dt *t, int fd, int level, int name, void *val,
		  socklen_t *len);
int dt_setsockopt(struct dt *t, int fd, int level, int name, const void *val,
		  socklen_t len);
/* arg as the third argument of fcntl(2) (an int or a flag set). */
int dt_fcntl(struct dt *t, int fd, int cmd, long arg);
/* arg: an int in and/or out (FIONBIO, FIONREAD, ...), or NULL. */
int dt_ioctl(struct dt *t, int fd, unsigned long request, int *arg);
/* An interface request on a struct ifreq (SIOCGIFFLAGS, ...; ifr NULL
 * passes NULL): shows the name and union passed, and the whole struct
 * after the call (bytes the call left keep what the case put there). */
struct ifreq;
int dt_ioctl_ifreq(struct dt *t, int fd, unsigned long request,
		   struct ifreq *ifr);
/* SIOCGIFCONF with ifc_len = len and ifc_buf = buf (cap bytes, filled
 * with the marker first; NULL allowed): shows ifc_len after the call and
 * the cap bytes of buf. ifc NULL passes NULL. */
int dt_ioctl_ifconf(struct dt *t, int fd, int len, void *buf, size_t cap,
		    bool null_ifc);
int dt_poll(struct dt *t, struct pollfd *fds, nfds_t nfds, int timeout_ms);
int dt_epoll_create1(struct dt *t, int flags);
/* The event's data is a number of the case's choosing (data.u64). */
int dt_epoll_ctl(struct dt *t, int epfd, int op, int fd, uint32_t events,
		 uint64_t data);
/* Up to DT_EPOLL_MAX events, each shown as {events, data}. */
#define DT_EPOLL_MAX 16
int dt_epoll_wait(struct dt *t, int epfd, int maxevents, int timeout_ms);

/* Set a sysctl (e.g. "net.ipv4.tcp_congestion_control") on the side's
 * stack: the kernel's private namespace, or the ustack instance. */
int dt_sysctl(struct dt *t, const char *name, const char *value);
/* A second interface on both sides: "v0" with 10.9.0.1/24, and "v1"
 * before it (the kernel's: a veth pair; ustack's: dummy devices, which
 * drop what they send: a case must not wait for an answer from the
 * link, nor send out of v1 to v0, which the kernel's veth delivers).
 * Returns v0's interface index on the side (not recorded: the indices
 * may differ). */
int dt_add_link(struct dt *t);
/* The MTU of the loopback device ("lo") on both sides; a case that
 * changes it puts 65536 back. */
int dt_set_lo_mtu(struct dt *t, int mtu);

/* Shorthands used by most cases. */
int dt_setsockopt_int(struct dt *t, int fd, int level, int name, int val);
/* getsockopt into an int-sized buffer prefilled with a marker. */
int dt_getsockopt_int(struct dt *t, int fd, int level, int name);
/* Each of n values set, then read back (an option's range and errors). */
void dt_setget_ints(struct dt *t, int fd, int level, int name,
		    const int *vals, size_t n);
#define DT_SETGET(t, fd, level, name, vals) \
	dt_setget_ints(t, fd, level, name, vals, sizeof(vals) / sizeof((vals)[0]))
/* The option read with each of n lengths of room (at most 64 bytes):
 * what each gives, and the length it says. */
void dt_getsockopt_lens(struct dt *t, int fd, int level, int name,
			const socklen_t *lens, size_t n);
#define DT_GETLENS(t, fd, level, name, lens) \
	dt_getsockopt_lens(t, fd, level, name, lens, \
			   sizeof(lens) / sizeof((lens)[0]))
/* CAP_NET_RAW in the calling thread's effective set, on or off: both
 * sides ask that set (the kernel's ns_capable, ustack's dev_capable), so
 * a case runs without it on both; it stays permitted, and a case that
 * turns it off turns it on again. Recorded. */
int dt_cap_net_raw(struct dt *t, bool on);
/* A ping socket (SOCK_DGRAM, IPPROTO_ICMP); on the kernel's side, ping
 * sockets allowed to root first (net.ipv4.ping_group_range "0
 * 2147483647", as ustack allows them). */
int dt_ping_socket(struct dt *t);
/* A UDP socket bound to 127.0.0.1:port (port 0: ephemeral). */
int dt_udp_bound(struct dt *t, uint16_t port);
/* A TCP listener on 127.0.0.1:port (SO_REUSEADDR, backlog 8), and a
 * connected pair: c connected to port, s accepted from the listener l. */
int dt_tcp_listener(struct dt *t, uint16_t port);
void dt_tcp_pair(struct dt *t, uint16_t port, int *l, int *c, int *s);
/* ustack runs its timers (a retransmission, a delayed ACK) only with its
 * runtime thread, which a case starts with this when it waits for one
 * (nothing to do on Linux). */
void dt_run_timers(struct dt *t);
/* The control messages a recvmsg got, one line each (level, type,
 * length), and what they hold as far as both sides can agree: a time is
 * checked to be recent, in range, and not before the last one the case
 * saw; SO_RXQ_OVFL's count to be above 0; IP_PKTINFO, IP_TTL, IP_TOS,
 * IP_ORIGDSTADDR and IP_RECVERR's fields as they are. */
struct msghdr;
void dt_note_cmsgs(struct dt *t, const struct msghdr *m);
/* dt_recvmsg with a name, buflen bytes of buffer (at most 4096) and
 * ctllen of room for control messages (at most 512; 0: none), which are
 * then noted. */
ssize_t dt_recvmsg_noted(struct dt *t, int fd, int flags, size_t buflen,
			 size_t ctllen);
/* IPv4 option bytes (IP_RECVOPTS, IP_RETOPTS, a header's) as a note
 * line in hex, a timestamp option's times as "t" when recent. */
void dt_note_ipopts(struct dt *t, const unsigned char *d, size_t n);

/*
 * Packets (difftest_wire.c). dt_inject_ip hands the side's stack an IPv4
 * packet, header included (its checksum is filled in), as if it came in
 * on "lo": the kernel's through a raw socket, ustack's through its
 * loopback device. dt_wire_start starts a capture of what the side sends
 * on "lo" (an injected packet too); dt_wire_note ends it, with a note
 * line for each IPv4 packet of protocol proto (0: any): addresses, TOS,
 * TCP ports, flags and length or ICMP type, code and word after the
 * checksum, and the options (dt_note_ipopts).
 */
int dt_inject_ip(struct dt *t, const void *pkt, size_t len);
void dt_wire_start(struct dt *t);
void dt_wire_note(struct dt *t, int proto);
/* getsockname and getpeername into sockaddr_in-sized buffers. */
void dt_getnames(struct dt *t, int fd);

/*
 * The whole program of a differential test: a private network namespace
 * for the kernel side (or exit 77 saying why there can be none), then each
 * case as a cmocka test of the group. DT_CASE=pattern runs only the cases
 * whose name matches; DT_SHOW=1 prints agreeing transcripts too.
 */
int dt_main(const char *group, const struct dt_case *cases, size_t n);

#endif
