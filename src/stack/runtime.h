/*
 * runtime.h - the runtime thread of a stack instance (runtime.c).
 *
 * ustack_start() (ustack.h) starts one thread per instance that waits with
 * epoll on every device fd, a timerfd armed for the engine's next event and
 * a wake-up eventfd; each time it wakes it takes the core lock and runs the
 * engine until idle. These are the runtime's internal entry points for the
 * rest of the stack.
 */
#ifndef US_STACK_RUNTIME_H
#define US_STACK_RUNTIME_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct ustack;
struct net_device;

/*
 * Make the runtime thread wake up and recompute its next event, e.g. after
 * arming a timer earlier than anything pending or queueing work for it.
 * Call with the core lock held (so it cannot race with ustack_stop());
 * harmless when the runtime is not started.
 */
void us_runtime_wakeup(struct ustack *st);
/*
 * Wake the runtime thread only if something is now due earlier than what
 * it is waiting for (a timer a call just armed, a frame queued on an
 * in-memory device). Core lock held. This is what socket calls use, so
 * that an ordinary call costs no extra system call.
 */
void us_runtime_kick(struct ustack *st);

/*
 * Add a device registered after ustack_start() to the runtime's epoll set.
 * Core lock held. Does nothing when the runtime is not started or the
 * device has no fd. Returns 0 or -errno. A device's fd leaves the set by
 * itself when the device closes it.
 */
int us_runtime_add_dev(struct ustack *st, struct net_device *dev);

/*
 * us_runtime_claim: a thread whose driving set watches every device (and
 * which will drive in an untimed wait) takes the devices from the runtime
 * thread for the length of a blocking call, which then is not woken for
 * frames that thread will read anyway; returns a token, 0 when nothing was
 * taken. us_runtime_unclaim(token, linger) gives them back (the last of
 * several claims does), with linger a little later (RT_LINGER_US) unless
 * us_runtime_linger_end (a sleep that will not drive) comes first; a new
 * claim in between takes the linger over. Core lock held. runtime.c
 * explains why no frame is lost.
 */
unsigned int us_runtime_claim(struct ustack *st);
/* How long a linger lasts by default, in µs: longer than a whole short
 * connection on this host (connect, request, reply, close: 80-100 µs), so
 * that a thread opening one after another keeps the devices; short enough
 * to be no more than a late ACK to a frame nobody waits for. 200 µs was
 * measured worse: the runtime thread's timer then fired every second
 * connection or so. */
#define RT_LINGER_US 1000
/* An event loop whose last linger was wasted lingers again at every this
 * many drives, to see whether it still is (us_runtime_linger). */
#define RT_LINGER_PROBE 8
/* How long the runtime thread leaves a pass to the holder of the core lock
 * before it tries again (rt_hand_off), in milliseconds. */
#define RT_HAND_OFF_MS 1
/* Core lock held: every device fd was read empty by a read begun after
 * `mark` (us_drain_mark in stack.h). */
bool us_drained_since(struct ustack *st, uint64_t mark);
void us_runtime_unclaim(struct ustack *st, unsigned int token, bool linger);
void us_runtime_linger_end(struct ustack *st);
/* A thread that has just driven the engine for a wait and will wait again
 * soon (epoll_wait) keeps the devices from the runtime thread for
 * RT_LINGER_US, as a claim's end does, if such a drive came during the
 * last linger, or this is the RT_LINGER_PROBE-th drive since one did not.
 * Core lock held. */
void us_runtime_linger(struct ustack *st);
/* Core lock held, about to be let go (us_core_unlock): run the pass the
 * runtime thread left to the lock's holder, if it did (runtime.c,
 * rt_hand_off). */
void us_runtime_before_unlock(struct ustack *st);
/* Core lock held: how long the runtime thread leaves a pass to the lock's
 * holder before it tries again, in ms (tests). */
void us_runtime_set_hand_off_ms(struct ustack *st, int ms);
/* Core lock held: how many claims hold the devices now, and whether they
 * are taken (a claim or a linger) (tests). */
unsigned int us_runtime_claims(struct ustack *st);
bool us_runtime_taken(struct ustack *st);
/* Core lock held: how long a linger lasts from now on, in µs (0: none);
 * for tests, which need one longer than their own steps. */
void us_runtime_set_linger(struct ustack *st, unsigned int usec);

/*
 * A thread blocked in a socket call drives the engine itself (DESIGN.md):
 * it waits in an epoll set of its own that holds its sleeper's eventfd and
 * the device fds, and when a frame comes it takes the core lock and runs
 * the engine, so that its data reaches it without a hop through the
 * runtime thread. All three with the core lock held.
 *
 * us_runtime_dev_gen: 0 when there is no runtime; otherwise a number that
 * changes when the set of device fds changes (a thread's set is then
 * rebuilt). us_runtime_driver_sync: add every device fd to epfd with
 * `data` | fd, ahead of the runtime's own watch; returns how many (0: nothing
 * to drive) or -errno. us_runtime_driver_drop: take them out of epfd
 * again. us_runtime_drive: run the engine until idle (counted in
 * rt.driven) and arm the runtime's timer for what is next; false when the
 * runtime is stopped or stopping (the thread must then sleep the plain
 * way).
 */
unsigned int us_runtime_dev_gen(struct ustack *st);
/*
 * A thread's epoll set for driving: its eventfd (tagged evfd_tag) and the
 * device fds of one instance (dev_tag | fd). us_driver_set_ready makes d
 * fit st's devices, rebuilding it when they changed; false when a wait on
 * st cannot drive (no runtime, no device, an error), and d is then empty.
 */
struct us_driver_set {
	int epfd;                   /* -1 until first needed */
	struct ustack *st;          /* the instance it was built for */
	unsigned int gen;           /* and its us_runtime_dev_gen() */
};
#define US_DRIVER_SET_INIT { .epfd = -1 }
bool us_driver_set_ready(struct us_driver_set *d, struct ustack *st,
			 int evfd, uint64_t evfd_tag, uint64_t dev_tag);
int us_runtime_driver_sync(struct ustack *st, int epfd, uint64_t data);
void us_runtime_driver_drop(struct ustack *st, int epfd);
bool us_runtime_drive(struct ustack *st);
/*
 * As us_runtime_drive, for a thread that waits for `done` (its sleeper's
 * woken flag): once that is true, a device read after a frame may stop
 * before the device is empty, where the kernel lets another thread be sure
 * to read the rest (runtime.c, rt_lone_wake). Counted in rt.driven_early.
 */
bool us_runtime_drive_until(struct ustack *st, const atomic_bool *done);

/* A signal raised by a fault of the thread itself (SIGSEGV, SIGBUS, ...). */
bool us_fault_signal(int sig);
/* Start a thread of ustack's own, named name, with asynchronous signals
 * blocked (they are the application's). 0 or -errno. */
int us_thread_spawn(pthread_t *t, void *(*fn)(void *), void *arg,
		    const char *name);
/* Whether sig has a handler (not SIG_DFL or SIG_IGN); *sa is its action. */
bool us_sig_caught(int sig, struct sigaction *sa);
/* Whether the action sa is a handler (not SIG_DFL or SIG_IGN). */
bool us_sig_is_handler(const struct sigaction *sa);
/* A signal a thread may hold blocked without missing a crash: not one a
 * fault raises, nor abort()'s (which unblocks it anyway), nor SIGKILL or
 * SIGSTOP. us_async_signals: all of them. */
bool us_async_signal(int sig);
void us_async_signals(sigset_t *set);

/*
 * A call that runs the engine while it waits holds asynchronous signals
 * blocked from its first sleep until it returns (pselect's way), and
 * sleeps with the mask it was called with (us_sigguard_mask): a signal
 * that comes while the engine runs in user space, or while the thread
 * waits for the core lock or rescans, is then delivered in the next sleep,
 * which ends in EINTR, as in Linux, where a signal pending before a sleep
 * ends the call (signal_pending() in ep_poll, do_poll, sk_wait_event).
 * Without it the handler runs at once and the call sleeps on: a program
 * that sets a flag in its handler (nginx's SIGQUIT) sleeps until some
 * later event. Costs two sigprocmask calls per call that drives, in a
 * process that catches some signal (sigaction, looked up at most once a
 * second: a handler installed in library mode counts within a second;
 * the shim's sigaction and signal tell us_sig_handlers_changed at once).
 */
struct us_sigguard {
	bool on;                    /* blocked; saved is the mask to restore */
	sigset_t saved;
};
void us_sigguard_hold(struct us_sigguard *g);
void us_sig_handlers_changed(void);
void us_sigguard_release(struct us_sigguard *g);
/* The mask for a sleep: the caller's (epoll_pwait's, ppoll's), else the
 * one saved by the guard, else NULL (the thread's, unchanged). */
static inline const sigset_t *us_sigguard_mask(const struct us_sigguard *g,
					       const sigset_t *user)
{
	return user ? user : g->on ? &g->saved : NULL;
}

#endif
