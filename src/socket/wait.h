/*
 * wait.h - wait queues: how the protocol level wakes the socket level.
 *
 * A socket has one wait queue. Threads blocked in a call (recv, accept,
 * connect, send) sleep on it with the core lock released; epoll instances
 * hang an entry on it whose callback marks the socket ready in that
 * instance (Linux's ep_poll_callback). The protocol's callbacks
 * (sk_data_ready, sk_write_space, sk_state_change, sk_error_report) end in
 * us_wake_up(), always with the core lock held.
 *
 * A blocked thread sleeps in the kernel on an eventfd of its own (its
 * sleeper), not on a condition variable, so that a signal interrupts the
 * sleep as it interrupts a Linux socket call (signal(7)): an untimed sleep
 * is a blocking read(), which the kernel restarts after a handler installed
 * with SA_RESTART and otherwise fails with EINTR; a timed sleep is a
 * ppoll(), which always fails with EINTR, as Linux's socket calls do when
 * a socket timeout is set (sock_intr_errno).
 *
 * When the instance has a runtime thread and devices with fds, an untimed
 * sleep drives the engine instead (DESIGN.md): the thread waits in an epoll
 * set holding its eventfd and the device fds, and runs the engine itself
 * when a frame comes, so a reply reaches it without two thread hops. That
 * wait is an epoll_wait, which a signal always interrupts; the sleep is
 * then resumed when every handler that could have run was installed with
 * SA_RESTART (the kernel would have restarted the read()), and ends in
 * EINTR otherwise.
 */
#ifndef US_SOCKET_WAIT_H
#define US_SOCKET_WAIT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/list.h"
#include "stack/runtime.h"     /* struct us_driver_set */

struct us_wait_entry;
typedef void (*us_wait_fn)(struct us_wait_entry *e, uint32_t events);

struct us_wait_entry {
	struct list_head list;
	us_wait_fn func;
};

struct ustack;

/* One thread's way to sleep: a blocking eventfd, made on first use. */
struct us_sleeper {
	struct list_head node;      /* on a wait queue while asleep */
	int evfd;
	atomic_bool woken;          /* woken since it was queued */
	bool written;               /* ... by a write to evfd (core lock) */
	/* Set by a driving sleeper between its epoll_pwait's return and its
	 * next sleep (cleared under the core lock before it unlocks): it will
	 * look at `woken` under the lock before it sleeps again, so a wake-up
	 * meanwhile needs no write to evfd (sleeper_wake). */
	atomic_bool awake;
	unsigned int claim;         /* us_wait_claim's token, or 0 */
	struct ustack *claim_st;    /* ... on this instance */
	bool queued;                /* on a wait queue: its call sleeps */
	bool driving;               /* in sleep_driving or us_wait_drive_for:
				       it looks at `woken` after each run */
	/* The sleeper of a blocking call that a signal handler makes while
	 * this one's call sleeps (made then, kept with the thread's). */
	struct us_sleeper *nested;
	/* The thread's epoll set for driving an instance's engine while it
	 * waits (us_runtime_driver_sync): evfd and the device fds. */
	struct us_driver_set drv;
};

struct us_wait_queue {
	struct list_head entries;
	struct list_head sleeping;  /* struct us_sleeper, under the core lock */
	int sleepers;
	unsigned int wakeups;       /* us_wake_up calls, for sock_wait_retry */
};

void us_wait_queue_init(struct us_wait_queue *wq);
void us_wait_queue_destroy(struct us_wait_queue *wq);
void us_wait_add(struct us_wait_queue *wq, struct us_wait_entry *e);
void us_wait_del(struct us_wait_entry *e);
/* Wake sleepers and call every entry with the events that happened
 * (POLLIN, POLLOUT, ... bits). Core lock held. */
void us_wake_up(struct us_wait_queue *wq, uint32_t events);
/* Core lock held: another thread asleep on wq was woken and has not taken
 * the lock since (it will, before its call returns). */
bool us_wait_woken_other(const struct us_wait_queue *wq);

/*
 * Sleep on wq until woken, a signal arrives or the absolute CLOCK_MONOTONIC
 * deadline (NULL = none) passes. st's core lock is held on entry and on
 * return, released while asleep. Returns 0 (woken, or a spurious return:
 * the caller rechecks its condition), -EINTR, -ETIMEDOUT, or another -errno
 * when the thread cannot get a sleeper.
 */
int us_wait_sleep(struct us_wait_queue *wq, struct ustack *st,
		  const struct timespec *deadline);

/*
 * For a blocking call whose waits will be untimed us_wait_sleep calls
 * (which drive the engine): make the calling thread's driving set and take
 * st's devices from the runtime thread (us_runtime_claim) until
 * us_wait_unclaim (with linger: a little after), or until a sleep of the
 * thread that cannot drive (which gives them back first). Nothing is taken
 * when the thread cannot drive. Core lock held.
 */
void us_wait_claim(struct ustack *st);
void us_wait_unclaim(struct ustack *st, bool linger);
/* The calling thread is about to run the engine, or is done, outside the
 * loop of any wait of its own (a pass the runtime thread left to it:
 * us_runtime_before_unlock), where the wake-up of its own sleeper must write
 * the eventfd: the sleep does not look again before it blocks. */
void us_wait_outside_loop(bool on);

/*
 * Run the engine once for a call about to wait on wq (us_runtime_drive),
 * with the calling thread counted among wq's sleepers: once wq is woken,
 * reading the devices may stop early (us_runtime_drive_until). Core lock
 * held; false when there is no runtime to drive.
 */
bool us_wait_drive_for(struct us_wait_queue *wq, struct ustack *st);

/* Would the kernel have restarted an untimed blocking call that a signal
 * handler interrupted (every handler that can have run has SA_RESTART)?
 * False when the thread holds signals (us_wait_held_signals): the call
 * then unwinds with EINTR and us_wait_take_restart says. */
bool us_wait_handlers_restart(void);

/*
 * Set by a layer that runs a program's signal handlers only once the
 * ustack call they interrupted has unwound (the LD_PRELOAD shim's
 * trampoline, preload/signals.c), as the kernel runs them only on the way
 * back to user space: true when the calling thread holds such a signal
 * (*restart: every one held has SA_RESTART). A held signal ends a sleep,
 * or the wait before it, with EINTR. NULL when the library is linked into
 * a program: handlers run inside the sleep they interrupt.
 */
extern bool (*us_wait_held_signals)(bool *restart);
/*
 * After a call that failed with EINTR for held signals: would the kernel
 * have restarted it once their handlers ran (an untimed wait, SA_RESTART)?
 * Reading it clears it.
 */
bool us_wait_take_restart(void);
/* For poll, select and epoll_wait, which a signal always ends: the thread
 * holds signals, so the call must not sleep (it fails with EINTR). */
bool us_wait_signal_held(void);

#endif
