/*
 * sock.h - struct sock, the protocol level's socket (Linux's "INET socket").
 *
 * A struct sock holds what the protocols need: addresses and ports, state,
 * the receive and write queues with byte accounting against SO_RCVBUF and
 * SO_SNDBUF, the pending error, options, and the four callbacks with which
 * the protocol tells the socket level that something happened. Protocol
 * socks embed it as their first member (struct udp_sock, later tcp_sock),
 * so a struct sock * converts to the protocol's type.
 *
 * The protocol level never calls the socket level directly: only through
 * the callbacks, which struct socket installs (socket/socket.c).
 */
#ifndef US_NET_SOCK_H
#define US_NET_SOCK_H

/* listen()'s backlog at most (Linux's net.core.somaxconn, fixed here). */
#define US_SOMAXCONN 4096

#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <linux/net_tstamp.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "core/list.h"
#include "core/skbuff.h"
#include "core/timer.h"
#include "stack/sysctl.h"

/* Linux's kernel-internal "not mine, ask the next layer" of an ioctl (a
 * protocol's, then the device level's); never seen by a caller. */
#ifndef ENOIOCTLCMD
#define ENOIOCTLCMD 515
#endif

struct ustack;
struct socket;
struct sock;
struct ip_options;

/* Shutdown bits. */
#define RCV_SHUTDOWN 1
#define SEND_SHUTDOWN 2
#define SHUTDOWN_MASK 3

/*
 * States: Linux's TCP states, TCP_ESTABLISHED (1) .. TCP_CLOSING (11), as
 * <netinet/tcp.h> numbers them; UDP uses CLOSE and ESTABLISHED.
 */

/*
 * Linux's defaults: net.core.rmem_default / wmem_default, and the maxima
 * rmem_max / wmem_max (4 MiB in current kernels; 212992 in older ones).
 */
#define US_SK_RCVBUF_DEFAULT 212992
#define US_SK_SNDBUF_DEFAULT 212992
#define US_SK_BUF_MAX 4194304
#define US_SK_RCVBUF_MIN 2304   /* SOCK_MIN_RCVBUF */
#define US_SK_SNDBUF_MIN 4608   /* SOCK_MIN_SNDBUF */

/* Per-protocol operations (Linux's struct proto). */
struct proto {
	const char *name;
	size_t obj_size;            /* sizeof the protocol's sock */
	int (*init)(struct sock *sk);
	/* The user closed the socket; the protocol may keep the sock alive
	 * (TCP's FIN_WAIT, TIME_WAIT) and drops its reference when done. */
	void (*close)(struct sock *sk);
	/* The first half of close, for a close() that lingers (SO_LINGER
	 * with a time): while the socket still exists, start what close
	 * would (TCP: FIN, or RST for unread data). close follows it and
	 * finds nothing more to send. Optional. */
	void (*close_start)(struct sock *sk);
	/* bind() of a protocol with its own rules (ping's identifier, as
	 * Linux's sk_prot->bind); NULL: inet_bind's port rules. Optional. */
	int (*bind)(struct sock *sk, const struct sockaddr *uaddr, int len);
	int (*connect)(struct sock *sk, const struct sockaddr *uaddr, int len);
	int (*disconnect)(struct sock *sk, int flags);
	int (*sendmsg)(struct sock *sk, const struct msghdr *msg, size_t len,
		       int flags);
	int (*recvmsg)(struct sock *sk, struct msghdr *msg, size_t len,
		       int flags, int *addr_len);
	int (*setsockopt)(struct sock *sk, int level, int optname,
			  const void *optval, socklen_t optlen);
	int (*getsockopt)(struct sock *sk, int level, int optname, void *optval,
			  socklen_t *optlen);
	int (*ioctl)(struct sock *sk, unsigned long cmd, int *karg);
	/* Reserve local port snum (host order; 0 = pick one). 0 or -errno. */
	int (*get_port)(struct sock *sk, uint16_t snum);
	void (*unhash)(struct sock *sk);
	/* Free the protocol's own state (queues, timers) before the sock. */
	void (*destroy)(struct sock *sk);
	void (*shutdown)(struct sock *sk, int how);
	/* SO_KEEPALIVE is being set to `on` (before the flag changes):
	 * the protocol starts or stops its keepalive timer. Optional. */
	void (*keepalive)(struct sock *sk, bool on);
	/* The socket's error queue (IP_RECVERR, ip_sockglue.c), for a
	 * protocol that keeps one; NULL when it has none yet and `make` is
	 * false (or no memory). Optional. */
	struct sk_buff_head *(*error_queue)(struct sock *sk, bool make);
	/* SO_RCVLOWAT (val >= 0): a protocol that bounds it (TCP, Linux's
	 * tcp_set_rcvlowat). Optional: else it is stored as given. */
	void (*set_rcvlowat)(struct sock *sk, int val);
};

struct sock {
	struct ustack *st;
	struct socket *sk_socket;   /* NULL once the user closed it */
	const struct proto *prot;
	int refcnt;

	uint16_t family;            /* AF_INET */
	uint16_t type;              /* SOCK_DGRAM, SOCK_STREAM, SOCK_RAW */
	uint8_t protocol;           /* IPPROTO_* */
	uint8_t state;              /* TCP_* */
	uint8_t shutdown;           /* RCV_SHUTDOWN | SEND_SHUTDOWN */
	bool userlocks_port : 1;    /* the user bound a port (not autobound) */
	bool userlocks_addr : 1;    /* the user bound an address */
	/* IP_TRANSPARENT (a bind to any address, as IP_FREEBIND),
	 * IP_CHECKSUM, IP_RECVFRAGSIZE (a reassembled datagram's largest
	 * fragment as a control message), IP_RECVERR_RFC4884 (an ICMP
	 * error's extension structure located, ip_icmp_error). */
	bool transparent : 1, checksum : 1, recvfragsize : 1,
	     recverr_rfc4884 : 1;
	/* SO_ZEROCOPY; sends of MSG_ZEROCOPY wait to complete (sock_ext);
	 * the pending corked datagram holds such sends (UDP's). */
	bool zerocopy : 1, zc_wait : 1, zc_corked : 1;
	/* SO_PEEK_OFF was given a value (in sock_ext; -1 without one). */
	bool peek_off : 1;
	/* A socket filter (SO_ATTACH_FILTER) in sock_ext. */
	bool filter : 1;
	/* IP_OPTIONS set (in sock_ext's ipopt), IP_RECVOPTS, IP_RETOPTS
	 * (ip_sockglue.c). */
	bool ip_opt : 1, recvopts : 1, retopts : 1;
	/* SO_MAX_PACING_RATE was given a limit once: TCP paces itself from
	 * then on (Linux's sk_pacing_status SK_PACING_NEEDED; tcp_pacing.c;
	 * the limit: sock_ext) */
	bool pacing : 1;
	/* Linux's SOCK_NOSPACE: a write found no room, or a user's poll
	 * found the socket not writable; cleared when room comes (TCP:
	 * tcp_check_space; the send-buffer-limited time, tcp_info.c) */
	bool nospace : 1;
	uint8_t tos;                /* IP_TOS (here for packing) */
	uint16_t num;               /* local port, host order; 0 = unbound */

	/* Addresses and ports, network byte order (num: host order). */
	uint32_t rcv_saddr;         /* bound local address, 0 = any */
	uint32_t saddr;             /* source address for sending */
	uint32_t daddr;             /* connected peer */
	uint16_t sport;             /* local port, network order */
	uint16_t dport;             /* peer port, network order */
	struct list_head bind_node; /* on the protocol's port table */

	/* Queues and their accounting (bytes of truesize, as Linux). */
	struct sk_buff_head receive_queue;
	struct sk_buff_head write_queue;
	int rcvbuf;
	int sndbuf;
	int rmem_alloc;
	int wmem_alloc;
	uint32_t drops;             /* receive-queue overflows (SO_RXQ_OVFL) */

	int16_t err;                /* pending error (SO_ERROR), positive */
	int16_t err_soft;           /* (errno values fit) */

	/* Options. */
	bool reuseaddr : 1, reuseport : 1, broadcast : 1, keepalive : 1,
	     oobinline : 1, dontroute : 1, rxq_ovfl : 1, linger_on : 1;
	bool rcvbuf_locked : 1, sndbuf_locked : 1;
	bool has_ext : 1;           /* a sock_ext of its own (below) */
	uint8_t timestamp : 3;      /* SOCK_TS_*: SO_TIMESTAMP(NS)(_NEW) */
	/* SO_TIMESTAMP(NS) was on once: receive timestamps stay wanted
	 * until the socket goes (Linux's SOCK_TIMESTAMP flag). */
	bool ts_sticky : 1;
	bool txtime : 1;            /* SO_TXTIME set (its clock: sock_ext) */
	uint8_t min_ttl;            /* IP_MINTTL: TCP drops segments below */
	/* IPPROTO_IP options (ip_sockglue.c), in the byte the bools leave
	 * before linger_sec: IP_MTU_DISCOVER's mode (IP_PMTUDISC_*), and
	 * IP_RECVERR, IP_PKTINFO, IP_RECVTTL, IP_RECVTOS. */
	uint8_t pmtudisc : 3, recverr : 1, pktinfo : 1, recvttl : 1,
		recvtos : 1,
		errq_ext : 1;  /* the protocol keeps an error queue for it
				  outside the sock (TCP's, tcp_err.c) */
	/* SO_TIMESTAMPING (sock_tstamp.c): its SOF_TIMESTAMPING_* flags,
	 * and OPT_ID's counter (a datagram socket's next key; a TCP
	 * socket's sequence number that key 0 stands for). */
	uint32_t tsflags;
	uint32_t tskey;
	int linger_sec;
	int bound_dev_if;           /* SO_BINDTODEVICE */
	int incoming_cpu;           /* SO_INCOMING_CPU (-1: none yet) */
	us_time_t rcvtimeo_us;      /* US_TIME_NEVER = wait forever; 0 = not at
				       all (a negative SO_RCVTIMEO, as Linux) */
	us_time_t sndtimeo_us;
	int rcvlowat;
	int priority;
	uint32_t mark;
	int16_t ttl;                /* -1 = the stack's default */
	/* IP_MULTICAST_TTL (1), IP_MULTICAST_LOOP and IP_MULTICAST_ALL
	 * (both on), as Linux's inet_sock has them. */
	uint8_t mc_ttl;
	bool mc_loop : 1, mc_all : 1;
	/* IP_FREEBIND: bind() takes an address this host does not have;
	 * IP_RECVORIGDSTADDR: a datagram's destination as a control
	 * message; IP_BIND_ADDRESS_NO_PORT: bind() to port 0 takes the
	 * address alone, the port comes with connect() (or a send, or
	 * listen()). */
	bool freebind : 1, recvorigdst : 1, bind_no_port : 1;
	/* SO_NO_CHECK: UDP sends without a checksum; SO_SELECT_ERR_QUEUE:
	 * kept only (Linux 6.18's poll adds no POLLPRI for it any more);
	 * SO_RCVMARK: a datagram's mark as an SO_MARK message. */
	bool no_check : 1, select_err_queue : 1, rcvmark : 1;

	/* Wake-ups towards the socket level (struct sock_wakeups), set when
	 * a socket is grafted on (a child at accept: NULL before, where
	 * every caller tests sk_socket first). One pointer where Linux has
	 * five: every idle connection pays for this struct. */
	const struct sock_wakeups *wake;
};

/* Wake-ups towards the socket level. Core lock held. */
struct sock_wakeups {
	void (*data_ready)(struct sock *sk);
	void (*write_space)(struct sock *sk);
	void (*state_change)(struct sock *sk);
	void (*error_report)(struct sock *sk);
	/* Linux's sk_wake_async: a signal for the socket's owner (fcntl
	 * F_SETOWN), SOCK_WAKE_* how, POLL_* band. SOCK_WAKE_URG is the
	 * peer's urgent pointer: SIGURG, and with O_ASYNC the F_SETSIG
	 * signal; the others send SIGIO (or the F_SETSIG signal) only with
	 * O_ASYNC. data_ready, write_space and error_report send theirs
	 * themselves, as Linux's sock_def_* do. */
	void (*wake_async)(struct sock *sk, int how, int band);
};

static inline void sk_data_ready(struct sock *sk)
{
	sk->wake->data_ready(sk);
}

static inline void sk_write_space(struct sock *sk)
{
	sk->wake->write_space(sk);
}

static inline void sk_state_change(struct sock *sk)
{
	sk->wake->state_change(sk);
}

static inline void sk_error_report(struct sock *sk)
{
	sk->wake->error_report(sk);
}

static inline void sk_wake_async(struct sock *sk, int how, int band)
{
	sk->wake->wake_async(sk, how, band);
}

/* The kinds of sk_wake_async (Linux's SOCK_WAKE_*). */
enum {
	SOCK_WAKE_IO,      /* always (an error, a connection made) */
	SOCK_WAKE_WAITD,   /* not while a read waits in the socket */
	SOCK_WAKE_SPACE,   /* only after a writer ran out of room */
	SOCK_WAKE_URG,     /* urgent data: SIGURG first */
};

/*
 * Socket-level control data of a queued skb, at the end of skb->cb so that
 * a protocol's own at the start is left alone (Linux's struct sock_skb_cb).
 */
struct sock_skb_cb {
	uint32_t dropcount;         /* sk->drops when queued (SO_RXQ_OVFL) */
	/* A datagram of no bytes that a peek at an offset returned once,
	 * and passes over since (Linux's skb->peeked). */
	bool peeked;
};

#define SOCK_SKB_CB(skb) ((struct sock_skb_cb *)((skb)->cb + \
	sizeof((skb)->cb) - sizeof(struct sock_skb_cb)))

/*
 * What few sockets set is kept beside them, in the instance's table,
 * rather than in every sock, which each idle connection pays for: found
 * by the sock's address (has_ext says whether to look), made at the
 * first setting, freed with the sock.
 */
#define SOCK_EXT_BUCKETS 256
struct sock_ext {
	struct list_head node;          /* on st->sock_exts[hash] */
	const struct sock *sk;
	uint32_t local_port_range;      /* IP_LOCAL_PORT_RANGE: lo | hi << 16
					   (0: the instance's) */
	struct us_fastopen_keys fastopen_key; /* TCP_FASTOPEN_KEY (n 0:
						 none: the instance's) */
	int uc_index;                   /* IP_UNICAST_IF's interface */
	uint32_t flags;                 /* SK_EXT_*: options that only read
					   back as set */
	int busy_poll;                  /* SO_BUSY_POLL (us) */
	uint16_t busy_poll_budget;      /* SO_BUSY_POLL_BUDGET */
	uint64_t cookie;                /* SO_COOKIE (0: none given yet) */
	uint8_t *saved_syn;             /* TCP_SAVED_SYN's headers (malloc) */
	uint16_t saved_syn_len;
	int txtime_clockid;             /* SO_TXTIME's clock and flags */
	uint32_t txtime_flags;
	int peek_off;                   /* SO_PEEK_OFF (sock.peek_off set) */
	/* MSG_ZEROCOPY (sock_zerocopy.c): the next send id, and the sends
	 * waiting to complete, oldest first (malloc). */
	uint32_t zckey;
	uint16_t zc_n, zc_cap;
	struct sock_zc_range *zc;
	/* TCP's timer bounds (tcp_sock.timer_bounds; tcp_timer.c), us. */
	uint32_t rto_max_us, rto_min_us, delack_max_us;
	struct sk_filter *filter;       /* SO_ATTACH_FILTER (sock.filter) */
	struct sock_reuseport *reuse;   /* its SO_REUSEPORT group */
	/* TCP's error queue (tcp_err.c; sock.errq_ext), malloc. */
	struct sk_buff_head *errq;
	/* TCP_INFO's counters of rare events (tcp_info.c): made with the
	 * first, so a connection that never lost or reordered a segment
	 * holds none of them. */
	struct tcp_rare_stats {
		uint64_t bytes_retrans;     /* payload sent again */
		uint32_t reord_seen;        /* reordering detected */
		uint32_t rcv_ooopack;       /* segments out of order */
		uint32_t rehash;            /* timeouts (SO_TXREHASH on) */
		uint32_t rto_time_ms;       /* in timeouts' loss states */
		uint32_t rto_stamp_ms;      /* the running one's start */
		uint16_t total_rto, rto_recoveries;
		uint16_t reordering;        /* 0: net.ipv4's 3 */
		uint32_t delivered_ce;      /* delivered, an ECE's ACK said */
	} tcp_stats;
	/* IP options (ip_options.h), malloc: [0] IP_OPTIONS (sock.ip_opt),
	 * [1] the last IP_RETOPTS control message, [2] those a UDP datagram
	 * held by UDP_CORK or MSG_MORE started with (ip_options_hold). */
	struct ip_options *ipopt;
	/* SO_MAX_PACING_RATE, bytes per second (UINT64_MAX: none); and TCP's
	 * pacing (tcp_pacing.c): when the next segment may go, in ns of the
	 * stack's clock, and the timer that sends it then. */
	uint64_t max_pacing_rate;
	uint64_t pace_next_ns;
	struct us_timer pace_timer;
	bool pace_timer_ready;          /* pace_timer initialised */
};
/* Sends ids lo..hi, of `bytes`, complete once `end` is reached (TCP: the
 * sequence number after their last byte is acknowledged). */
struct sock_zc_range {
	uint32_t lo, hi;
	uint32_t bytes;
	uint32_t end;
};
/* sock_ext.flags: SO_DEBUG, SO_WIFI_STATUS, SO_NOFCS, SO_LOCK_FILTER,
 * SO_PREFER_BUSY_POLL, and SO_TXREHASH turned off. */
#define SK_EXT_DEBUG            0x01
#define SK_EXT_WIFI_STATUS      0x02
#define SK_EXT_NOFCS            0x04
#define SK_EXT_LOCK_FILTER      0x08
#define SK_EXT_PREFER_BUSY_POLL 0x10
#define SK_EXT_NO_TXREHASH      0x20
/* sk's, or NULL; with make, one made if none (NULL without memory). */
struct sock_ext *sock_ext(const struct sock *sk, bool make);

/* A TCP or a UDP socket: the ones SO_PEEK_OFF and SO_ZEROCOPY are for
 * (not ping's, nor raw ones). */
static inline bool sk_is_tcp_or_udp(const struct sock *sk)
{
	return sk->type == SOCK_STREAM ||
	       (sk->type == SOCK_DGRAM && sk->protocol == IPPROTO_UDP);
}

/*
 * SO_PEEK_OFF (Linux's sk_peek_off, TCP's and UDP's): where a peek
 * starts, in bytes past what was read, moved on by each peek and back by
 * each read. -1, the default, turns it off. sk_peek_offset is the
 * offset a call with these flags starts at: 0 unless a peek, and then
 * negative when off.
 */
int sk_peek_offset(const struct sock *sk, int flags);
int sk_set_peek_off(struct sock *sk, int val);
/* SO_INCOMING_CPU (Linux's sk_incoming_cpu_update): the CPU that took
 * the socket's last packet, where a connected UDP socket or any TCP one
 * but a listener is given one (a listener's is what the user set). */
static inline void sk_incoming_cpu_update(struct sock *sk)
{
	int cpu = sched_getcpu();

	if (sk->incoming_cpu != cpu)
		sk->incoming_cpu = cpu;
}
/* SO_MAX_PACING_RATE's limit, bytes per second (UINT64_MAX: none). */
uint64_t sk_max_pacing_rate(const struct sock *sk);
/* A peek of n bytes (forward), a read of n (back, not below 0); either
 * only while the offset is on. */
void sk_peek_offset_fwd(struct sock *sk, int n);
void sk_peek_offset_bwd(struct sock *sk, int n);

/*
 * MSG_ZEROCOPY (sock_zerocopy.c). SO_ZEROCOPY's setting (EOPNOTSUPP but
 * on TCP and UDP; 0 or 1). A send starts with sock_zc_start: z->on when
 * it takes an id (MSG_ZEROCOPY, SO_ZEROCOPY, len > 0), -ENOBUFS when
 * optmem has no room for another record; tail: where unsent data ends
 * (TCP; NULL: none), so that the record of the send that left it there
 * takes this one too.
 * After it queued `bytes` (0: none, the id is not taken), sock_zc_sent
 * records it to complete at `end`; sock_zc_complete completes those up
 * to `upto`, or all.
 */
struct zc_send {
	bool on;
	bool merge;
};
int sock_zerocopy_set(struct sock *sk, int val);
int sock_zc_start(struct sock *sk, int flags, size_t len,
		  const uint32_t *tail, struct zc_send *z);
uint32_t sock_zc_take_id(struct sock *sk);
/* The option memory its records hold (SO_MEMINFO's OPTMEM). */
size_t sock_zc_optmem(struct sock *sk);
void sock_zc_sent(struct sock *sk, const struct zc_send *z, size_t bytes,
		  uint32_t end);
void sock_zc_complete(struct sock *sk, uint32_t upto, bool all);

/*
 * Classic BPF socket filters (sock_filter.c): SO_ATTACH_FILTER's struct
 * sock_fprog, SO_DETACH_FILTER, SO_GET_FILTER (in instructions), each
 * refused (EPERM) while SO_LOCK_FILTER holds. sk_filter_run gives the
 * verdict on a packet seen from `start` (its transport header) to its end:
 * the bytes to keep (0: drop; UINT32_MAX without a filter).
 */
struct sk_filter;
int sk_attach_filter(struct sock *sk, const void *optval, socklen_t optlen,
		     bool locked);
int sk_detach_filter(struct sock *sk, bool locked);
int sk_get_filter(struct sock *sk, void *optval, socklen_t *optlen);
/* A listener's child takes its program (shared), at creation and again
 * as it is when the handshake ends. */
void sk_filter_clone(struct sock *sk, const struct sock *parent);
void sk_filter_release(struct sock_ext *e);
uint32_t sk_filter_run(const struct sock *sk, const struct sk_buff *skb,
		       const uint8_t *start);
/* sk_filter_run's verdict applied (Linux's sk_filter_trim_cap): false to
 * drop; else the packet cut to it, never below `cap` bytes from start. */
bool sk_filter_trim(const struct sock *sk, struct sk_buff *skb,
		    const uint8_t *start, uint32_t cap);
/* A program of the user's, checked (refcount 1; -EINVAL, -ENOMEM); run
 * on a packet seen from start; a reference dropped. */
struct sock_fprog;
int sk_fprog_copy(const void *optval, socklen_t optlen,
		  struct sock_fprog *prog);   /* (EINVAL, EFAULT) */
int sk_filter_create(const struct sock_fprog *prog, struct sk_filter **out);
uint32_t sk_filter_run_prog(const struct sk_filter *fp,
			    const struct sk_buff *skb, const uint8_t *start);
void sk_filter_put(struct sk_filter *fp);

/*
 * SO_REUSEPORT groups (sock_reuseport.c, Linux's sock_reuseport.c): the
 * sockets sharing an address and port, in the order they joined (a UDP
 * socket at bind, a TCP one at listen; one that leaves gives its place
 * to the last), and the group's SO_ATTACH_REUSEPORT_CBPF program, whose
 * value picks a socket by its place. reuseport_join: sk joins sk2's
 * group, or starts its own (sk2 NULL). reuseport_select: the group's
 * choice for a packet (the program's, else by hash), NULL without a
 * group or when connected UDP sockets are in it.
 */
struct sock_reuseport;
int reuseport_join(struct sock *sk, struct sock *sk2);
void reuseport_leave(struct sock *sk);
/* Is sk2 a socket whose group sk may join, made for it if it has none
 * (Linux's udp_reuseport_add_sock and inet_reuseport_add_sock: the same
 * address, port and device, SO_REUSEPORT)? */
bool reuseport_peer(const struct sock *sk, const struct sock *sk2);
void reuseport_has_conns_set(struct sock *sk);
/* SO_INCOMING_CPU set: the group counts its members that have one. */
void reuseport_set_incoming_cpu(struct sock *sk, int cpu);
struct sock *reuseport_select(struct sock *sk, uint32_t hash,
			      const struct sk_buff *skb,
			      const uint8_t *payload);
int reuseport_attach_cbpf(struct sock *sk, const void *optval,
			  socklen_t optlen);
int reuseport_detach_prog(struct sock *sk);

/* Allocate prot->obj_size bytes, zeroed, with defaults; refcnt 1. */
struct sock *sk_alloc(struct ustack *st, int family, int type, int protocol,
		      const struct proto *prot);
/* The options a connection accepted on sk starts with (Linux's
 * sk_clone_lock): every socket-level and IP-level one but SO_PRIORITY. */
void sk_clone_options(struct sock *newsk, const struct sock *sk);
static inline void sock_hold(struct sock *sk)
{
	sk->refcnt++;
}
/* Drop a reference; the last one calls prot->destroy and frees. */
void sock_put(struct sock *sk);

/*
 * Queue skb on the receive queue, charging its truesize; wakes readers.
 * Returns 0, or -ENOBUFS when rcvbuf is full (the caller drops it and
 * counts; sk->drops is incremented here).
 */
int sock_queue_rcv_skb(struct sock *sk, struct sk_buff *skb);
/* Dequeue / unlink a received skb and uncharge it. */
void sock_rfree(struct sock *sk, struct sk_buff *skb);
/* Uncharge and free everything on q, a queue charged to sk's receive
 * memory (the receive queue, an error queue). q may be NULL. */
void sock_purge_queue(struct sock *sk, struct sk_buff_head *q);
/*
 * Append a control message to msg (Linux's put_cmsg): msg->msg_control and
 * msg_controllen advance past it. One that does not fit whole is cut and
 * MSG_CTRUNC set, as is MSG_CTRUNC when there is no room at all.
 */
void put_cmsg(struct msghdr *msg, int level, int type, size_t len,
	      const void *data);
/* What a receive timestamp is of: a packet received, a transmit report
 * on the error queue, or another entry there (an ICMP error, a local
 * one). */
enum sock_ts_src {
	SOCK_TS_SRC_RX,
	SOCK_TS_SRC_REPORT,
	SOCK_TS_SRC_ERROR,
};
/* sk->timestamp, Linux's socket flags: SOCK_RCVTSTAMP (a receive
 * timestamp is asked for), SOCK_RCVTSTAMPNS (in nanoseconds, a timespec),
 * SOCK_TSTAMP_NEW (the _NEW message types, 64-bit time on every
 * architecture). */
#define SOCK_TS_RCV 0x1
#define SOCK_TS_NS 0x2
#define SOCK_TS_NEW 0x4

/* The control messages a received skb carries to the user under the
 * socket's options: SO_TIMESTAMP(NS), SO_RXQ_OVFL (Linux's
 * sock_recv_cmsgs). */
void sock_recv_cmsgs(struct msghdr *msg, const struct sock *sk,
		     const struct sk_buff *skb);
/* SO_TIMESTAMP(NS)'s alone (an error read from the error queue). */
void sock_recv_timestamp(struct msghdr *msg, const struct sock *sk,
			 const struct sk_buff *skb);
/* The same for a time of the instance's clock (TCP: the last segment
 * a read took data from). */
void sock_put_timestamp(struct msghdr *msg, const struct sock *sk,
			us_time_t when, enum sock_ts_src src);

/* SO_TIMESTAMPING's (sock_tstamp.c) part of the receive messages: an
 * SCM_TIMESTAMPING for `when`, as the socket's flags ask. */
void sock_put_timestamping(struct msghdr *msg, const struct sock *sk,
			   us_time_t when, enum sock_ts_src src);

/*
 * SO_TIMESTAMPING (sock_tstamp.c). The option, set and read (lv: the
 * length read back); the count of sockets that want receive timestamps
 * (before: whether sk did before a change; release: it goes).
 */
int sock_set_timestamping(struct sock *sk, int optname, const void *optval,
			  socklen_t optlen);
int sock_get_timestamping(const struct sock *sk, int optname, void *v,
			  int *lv);
void sock_netstamp_update(struct sock *sk, bool before);
void sock_netstamp_release(struct sock *sk);
static inline bool sock_netstamp_on(const struct sock *sk)
{
	return sk->ts_sticky || (sk->tsflags & SOF_TIMESTAMPING_RX_SOFTWARE);
}
/* The flags that ask for transmit reports (Linux's
 * SOF_TIMESTAMPING_TX_RECORD_MASK; TX_COMPLETION is Linux 6.16's). */
#define US_SOF_TX_COMPLETION (1u << 18)
#define US_TS_TX_RECORD (SOF_TIMESTAMPING_TX_HARDWARE | \
			 SOF_TIMESTAMPING_TX_SOFTWARE | \
			 SOF_TIMESTAMPING_TX_SCHED | SOF_TIMESTAMPING_TX_ACK | \
			 US_SOF_TX_COMPLETION)
/* What one send asks (Linux's sockcm_cookie): the socket's flags, or
 * those its SO_TIMESTAMPING message put instead, and SCM_TS_OPT_ID's
 * key. */
struct sockcm {
	uint32_t tsflags;
	uint32_t ts_opt_id;
	bool ts_opt_id_set;
	uint64_t transmit_time;     /* SCM_TXTIME's (taken, not waited for) */
	uint32_t mark;              /* SO_MARK, or the message's */
};
static inline void sockcm_init(struct sockcm *c, const struct sock *sk)
{
	c->tsflags = sk->tsflags;
	c->ts_opt_id = 0;
	c->ts_opt_id_set = false;
	c->transmit_time = 0;
	c->mark = sk->mark;
}
/* A send's SO_TIMESTAMPING / SCM_TS_OPT_ID message into sockc: 0,
 * -EINVAL, or 1 for another type. */
int sock_cmsg_tstamp(struct sock *sk, const struct cmsghdr *c,
		     struct sockcm *sockc);
/* The skb->tx_flags sockc's flags ask for; under OPT_ID, *tskey gets the
 * datagram's key (the message's, or the socket's next). */
uint8_t sock_tx_timestamp(struct sock *sk, const struct sockcm *sockc,
			  uint32_t *tskey);
uint8_t sock_tx_flags(uint32_t tsflags);
/* A packet marked for a report holds its socket until it is freed
 * (own), or hands the mark on to a segment cut from it (move). */
void skb_tstamp_own(struct sk_buff *skb, struct sock *sk);
void skb_tstamp_move(struct sk_buff *from, struct sk_buff *to);
/* Report a transmission of kind tstype (SCM_TSTAMP_*): skb_tstamp_tx
 * for a packet marked with its socket (the device level), sock_tstamp_tx
 * for TCP's (orig the packet or segment, key its tskey). */
void skb_tstamp_tx(struct sk_buff *skb, int tstype);
void sock_tstamp_tx(struct sock *sk, const struct sk_buff *orig, int tstype,
		    uint32_t key);

/*
 * The control messages of a sendmsg, walked as Linux's for_each_cmsghdr
 * (the first when msg_controllen holds a header; the next one aligned
 * after it while its header fits). sock_cmsg_ok is Linux's CMSG_OK: the
 * length covers a header and stays inside the buffer.
 */
struct cmsghdr *sock_cmsg_first(const struct msghdr *msg);
struct cmsghdr *sock_cmsg_next(const struct msghdr *msg,
			       const struct cmsghdr *c);
bool sock_cmsg_ok(const struct msghdr *msg, const struct cmsghdr *c);
/* One SOL_SOCKET control message of a sendmsg (Linux's
 * __sock_cmsg_send): 0, or -EINVAL / -EPERM. */
int sock_cmsg_one(struct sock *sk, const struct cmsghdr *c,
		  struct sockcm *sockc);
/* Every SOL_SOCKET one (Linux's sock_cmsg_send; TCP's sendmsg). */
int sock_cmsg_send(struct sock *sk, const struct msghdr *msg,
		   struct sockcm *sockc);

/* Pending error, cleared (sock_error in Linux): positive errno or 0. */
int sock_error(struct sock *sk);
/* Set a hard error and report it. */
void sock_set_error(struct sock *sk, int err);

/* SOL_SOCKET options shared by every protocol. */
int sock_setsockopt(struct sock *sk, int optname, const void *optval,
		    socklen_t optlen);
int sock_getsockopt(struct sock *sk, int optname, void *optval,
		    socklen_t *optlen);

static inline bool sock_flag_rcv_shutdown(const struct sock *sk)
{
	return sk->shutdown & RCV_SHUTDOWN;
}

#endif
