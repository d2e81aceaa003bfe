/*
 * stack.h - struct ustack, one stack instance, and the engine entry points.
 *
 * Everything mutable lives here (no global state), under `lock`, the core
 * lock. Whoever drives the engine (the runtime thread, a blocking call, a
 * test) holds the lock, sets `now` from the clock with us_engine_begin(),
 * polls devices and runs timers.
 */
#ifndef US_STACK_STACK_H
#define US_STACK_STACK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "core/clock.h"
#include "core/list.h"
#include "core/log.h"
#include "core/random.h"
#include "core/skbuff.h"
#include "core/stats.h"
#include "core/timer.h"
#include "net/arp.h"
#include "net/icmp.h"
#include "net/ipv4.h"
#include "net/ping.h"
#include "net/tcp/tcp.h"
#include "net/udp.h"
#include "stack/sysctl.h"
#include "ustack/ustack.h"

struct us_runtime;

struct ustack {
	pthread_mutex_t lock;     /* the core lock */
	struct us_clock *clock;
	struct us_clock own_clock; /* used when the config gave none */
	us_time_t now;            /* engine time, set on each entry */

	struct us_timer_base timers;
	struct list_head devices;
	int next_ifindex;
	struct skb_pool skb_pool;
	struct us_stats stats;
	struct us_log log;
	struct us_rng rng;

	struct arp_table arp;
	struct ipv4_state ip;
	struct icmp_state icmp;
	struct udp_table udp;
	struct ping_table ping;
	struct tcp_table tcp;
	struct list_head sockets;  /* every struct socket of this instance */
	/* the few socks' rarer options, by sock (sock.h's sock_ext) */
	struct list_head sock_exts[SOCK_EXT_BUCKETS];
	/* Sockets that want receive timestamps (SO_TIMESTAMP, or
	 * SO_TIMESTAMPING's RX_SOFTWARE): while there are any, SOFTWARE
	 * alone reports them too (Linux's netstamp_needed_key). */
	int netstamp_users;
	/* SO_COOKIE's last given (Linux's sock_gen_cookie, from 1), and
	 * SO_NETNS_COOKIE's for the whole instance (0: not given yet). */
	uint64_t sock_cookie_last;
	uint64_t netns_cookie;
	/* Sockets whose readiness changed since the core lock was taken; their
	 * eventfds are brought up to date when it is released (socket.c). */
	struct list_head rd_dirty;
	struct us_sysctl sysctl;   /* tunables (stack/sysctl.h) */

	/* SIGURG, SIGIO and F_SETSIG signals owed to socket owners
	 * (F_SETOWN), sent once the core lock is released (socket/sigio.c),
	 * so a handler may call ustack. */
	struct us_sigq {
		int pid;
		int fd;                /* si_fd */
		uint8_t type;          /* F_OWNER_PID, F_OWNER_PGRP, F_OWNER_TID */
		uint8_t sig;
		uint8_t code;          /* POLL_IN..POLL_HUP; 0: no details */
	} *sigq;                   /* malloc'd, sigq_cap long */
	int sigq_n, sigq_cap;

	struct us_runtime *rt;    /* NULL until ustack_start() */
	/* Threads asleep in a sleep that does not drive the engine (a timed
	 * us_wait_sleep): no linger meanwhile (runtime.c, us_runtime_claim).
	 * Core lock held. */
	int blind_sleepers;

	/*
	 * Set while a thread that drives the engine as it waits runs it
	 * (us_runtime_drive_until): its "woken" flag. Once that reads true,
	 * a device poll may stop after the frame in hand instead of reading
	 * the device until it is empty (us_rx_enough). Why no frame is then
	 * left unread: runtime.c, rt_lone_wake.
	 */
	const atomic_bool *rx_enough;

	/* Device reads begun, for us_drain_mark (incremented before each
	 * read of a device fd; read without the core lock). */
	atomic_uint_least64_t rx_reads;

	/* The runtime thread, woken by its timer or by frames while another
	 * thread held the core lock, left its pass to that thread (runtime.c,
	 * rt_hand_off; us_runtime_before_unlock): RT_PASS_* bits, 0 if not. */
	atomic_uint rt_pass_wanted;
	/* Application threads waiting for the core lock (us_core_lock):
	 * the runtime thread lets them in between its passes under a
	 * flood (runtime.c, rt_let_waiters_in). */
	atomic_uint lock_waiters;
};

/* The core lock, taken by a thread of the application (a socket call, a
 * poll, a drive of the engine), counted while it waits. */
static inline void us_core_lock(struct ustack *st)
{
	atomic_fetch_add_explicit(&st->lock_waiters, 1, memory_order_relaxed);
	pthread_mutex_lock(&st->lock);
	atomic_fetch_sub_explicit(&st->lock_waiters, 1, memory_order_relaxed);
}

/*
 * A thread woken by a device fd (its epoll_wait returned it) takes a mark
 * at once, before it asks for the core lock; once it holds the lock,
 * us_drained_since (runtime.h) says whether each device was read empty by
 * a read begun after the mark: the frames that woke it were then all read
 * by someone (a TAP queue is in order), and its own read would find
 * nothing. A frame that came after that empty read wakes whoever waits
 * next (runtime.c, rt_lone_wake).
 */
static inline uint64_t us_drain_mark(struct ustack *st)
{
	return atomic_load(&st->rx_reads);
}

/* Before a read of a device fd: the read's number, for its device's
 * rx_empty_at when it finds the device empty. */
static inline uint64_t us_rx_read_begin(struct ustack *st)
{
	return atomic_fetch_add(&st->rx_reads, 1) + 1;
}

/* Core lock held. True when a device poll may stop after the frame it
 * just handled: the thread running the engine has what it waited for. */
static inline bool us_rx_enough(const struct ustack *st)
{
	return st->rx_enough && atomic_load(st->rx_enough);
}

static inline void us_mib_inc(struct ustack *st, enum us_mib m)
{
	st->stats.mib[m]++;
}

static inline void us_mib_add(struct ustack *st, enum us_mib m, uint64_t n)
{
	st->stats.mib[m] += n;
}

/* Count a dropped packet under `reason` and free it (skb may be NULL). */
void us_drop(struct ustack *st, struct sk_buff *skb, enum us_drop_reason reason);

/* Allocate a packet with the stack's standard headroom for `len` bytes. */
struct sk_buff *us_skb_alloc(struct ustack *st, unsigned int len);

/* Set st->now from the clock (never backwards). Core lock held. */
void us_engine_begin(struct ustack *st);
/*
 * One pass of the engine at st->now: poll every device (budget frames
 * each) and run due timers. Returns the number of frames + timers handled.
 * Core lock held.
 */
int us_engine_step(struct ustack *st, int budget);
/*
 * A device hands the stack a batch of frames read in one go: between
 * begin and end, protocols may hold back what they would answer to each
 * frame and answer once at the end (TCP's ACKs, tcp_ackbatch.c). Core
 * lock held; they nest.
 */
void us_rx_batch_begin(struct ustack *st);
void us_rx_batch_end(struct ustack *st);
/* Earliest of the next timer and every device's next_event. */
us_time_t us_engine_next_event(struct ustack *st);
/*
 * Deliver what in-memory devices (loopback, wire) hold for st->now and run
 * due timers, without touching devices that need a system call. A socket
 * call runs this before it returns, so that a datagram sent to a local
 * address has arrived by then, as on Linux's loopback.
 */
void us_engine_run_pending(struct ustack *st);
/* Step until no device has a frame ready and no timer is due at st->now;
 * then bring the sockets' eventfds up to date, as releasing the core lock
 * does (tests and simulations drive the engine this way, without it). */
void us_engine_run_until_idle(struct ustack *st);

/* Find a device by name or ifindex; NULL if none. */
struct net_device *us_dev_get_by_name(struct ustack *st, const char *name);
struct net_device *us_dev_get_by_index(struct ustack *st, int ifindex);

#endif
