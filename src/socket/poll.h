/*
 * poll.h - what the readiness calls share (poll.c, select.c, epoll.c):
 * deadlines on the monotonic clock, the kernel's own waiting calls, and
 * the watch by which one us_poll/us_select call sleeps on ustack sockets.
 *
 * A ustack socket's descriptor is an eventfd that only says "readable", so
 * a call that waits for more (POLLOUT, POLLERR, ...) cannot simply hand it
 * to the kernel. Instead the call hangs a watch (a us_wait_entry) on each
 * socket's wait queue. The protocol's wake-ups run the watch's callback
 * under the core lock; it writes the call's own eventfd (the waiter), and
 * the call sleeps in the kernel's ppoll/pselect6 on its kernel descriptors
 * plus that eventfd. Each wake-up rescans, as Linux's do_poll() loops.
 *
 * Call chain: us_poll/us_select -> poll_wait_loop -> ops->scan
 *             (poll_watch_scan -> sock->ops->poll) and ops->kernel (ppoll or
 *             pselect6) ... sk_data_ready -> us_wake_up -> poll_watch_wake.
 */
#ifndef US_SOCKET_POLL_H
#define US_SOCKET_POLL_H

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "core/sys.h"
#include "socket/wait.h"
#include "stack/runtime.h"

struct socket;

/* -1 and errno for a negative result (the BSD API's convention). */
static inline long us_set_errno(long rc)
{
	if (rc < 0) {
		errno = (int)-rc;
		return -1;
	}
	return rc;
}

/*
 * The kernel's sigset size, which the raw system calls want (not glibc's
 * 128-byte sigset_t). A size_t: syscall(2) reads every argument as a long,
 * and an int passed through its "..." may arrive with junk in the upper
 * half.
 */
#define US_KSIGSET_SIZE ((size_t)(_NSIG / 8))

/* ppoll(2) straight to the kernel; ts is copied (the kernel updates it). */
static inline int us_sys_ppoll(struct pollfd *fds, nfds_t n,
			       const struct timespec *ts, const sigset_t *mask)
{
	struct timespec t, *tp = NULL;
	long r;

	if (ts) {
		t = *ts;
		tp = &t;
	}
	r = us_sys(SYS_ppoll, fds, n, tp, mask, US_KSIGSET_SIZE);
	return r < 0 ? -errno : (int)r;
}

/* ---- deadlines ---------------------------------------------------------- */

struct us_deadline {
	bool forever;
	struct timespec end;        /* CLOCK_MONOTONIC */
};

/* Linux's timespec64_valid(): what poll/select timeouts must satisfy. */
static inline bool us_timespec_valid(const struct timespec *ts)
{
	return ts->tv_sec >= 0 && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000L;
}

/* rel == NULL: no deadline. A zero rel has already passed. */
void us_deadline_init(struct us_deadline *dl, const struct timespec *rel);
/* Milliseconds as poll/epoll_wait take them: negative = no deadline. */
void us_deadline_init_ms(struct us_deadline *dl, int ms);
bool us_deadline_passed(const struct us_deadline *dl);
/* Time left into *buf (zero once passed); NULL when there is no deadline. */
const struct timespec *us_deadline_left(const struct us_deadline *dl,
					struct timespec *buf);
/* Time left in whole milliseconds, rounded up; -1 when there is none. */
int us_deadline_left_ms(const struct us_deadline *dl);

/* ---- sleeping on ustack sockets ----------------------------------------- */

/*
 * One call's wake-up eventfd, created only when the call has to sleep; or,
 * when the call can drive st's engine (poll_drive.c), the thread's own,
 * lent for the call together with the epoll set that holds it and st's
 * devices.
 */
struct poll_waiter {
	int evfd;
	atomic_bool woken;          /* woken since the last rearm */
	atomic_bool written;        /* ... by a write to evfd */
	/* driving (poll_drive.c) */
	struct ustack *st;          /* the instance to drive, or NULL */
	bool kernel_fds;            /* the call has kernel fds too */
	bool borrowed;              /* evfd is the thread's driver's */
	int drv_epfd;               /* evfd + st's devices; -1 = not driving */
	struct us_sigguard sig;     /* held once it drove (runtime.h) */
};

/* A call watching one ustack socket. */
struct poll_watch {
	struct socket *sock;        /* referenced for the whole call */
	struct us_wait_entry wait;
	struct poll_waiter *waiter;
	uint32_t key;               /* events that are worth a wake-up */
	bool queued;                /* on sock->wq; under the core lock */
};

/* Look fd up; false (nothing taken) when it is not a ustack socket. */
bool poll_watch_init(struct poll_watch *pw, int fd, uint32_t key);
/*
 * The socket's readiness now (sock->ops->poll under its core lock), or
 * POLLNVAL once it is closed. With a waiter, the watch is queued first, in
 * the same locked section, so no wake-up can fall between the two.
 */
uint32_t poll_watch_scan(struct poll_watch *pw, struct poll_waiter *w);
/* Unqueue the watch and drop the reference. */
void poll_watch_release(struct poll_watch *pw);

/*
 * The two halves of one pass of a poll or select call. scan() looks at the
 * ustack sockets (queueing their watches on w when w is not NULL) and
 * returns how many are ready; kernel() asks the kernel about the rest,
 * sleeping up to tmo (NULL = no limit) on them and on evfd (when >= 0),
 * and returns how many are ready or -errno, with *woken set when evfd was.
 */
struct poll_call_ops {
	int (*scan)(void *ctx, struct poll_waiter *w);
	int (*kernel)(void *ctx, const struct timespec *tmo,
		      const sigset_t *sigmask, int evfd, bool *woken);
};

/*
 * Run passes until something is ready, the deadline passes or a signal
 * interrupts (-EINTR). With a waiter (the call watches ustack sockets) the
 * first pass does not sleep, and later ones sleep on the waiter too; the
 * caller owns it, and closes it only after releasing every watch, since a
 * queued watch may still wake it.
 */
int poll_wait_loop(const struct poll_call_ops *ops, void *ctx,
		   struct poll_waiter *w, const struct us_deadline *dl,
		   const sigset_t *sigmask);
#define POLL_WAITER_INIT { .evfd = -1, .drv_epfd = -1 }
void poll_waiter_close(struct poll_waiter *w);

/*
 * Driving the engine from poll/select (poll_drive.c). poll_drive_arm: lend
 * w the thread's eventfd and driving set for w->st; false when it cannot
 * (no runtime or device fd, no memory, already lent): w then makes its own
 * eventfd. poll_drive_release: give them back (drained). poll_drive_wait:
 * sleep up to tmo on the set (no kernel fds in the call), running the
 * engine when a device has frames; 0 with *woken when the call should
 * rescan, or -errno (-EINTR for a signal). poll_drive_after: the set's fd
 * was readable in a ppoll/pselect6 pass: run the engine if a device has
 * frames; *woken as poll_drive_wait's. poll_drive_self: w belongs to the
 * call this thread is driving the engine for now.
 */
bool poll_drive_arm(struct poll_waiter *w);
void poll_drive_release(struct poll_waiter *w);
int poll_drive_wait(const struct timespec *tmo, const sigset_t *sigmask,
		    struct poll_waiter *w, bool *woken);
void poll_drive_after(struct poll_waiter *w, bool *woken);
bool poll_drive_self(struct poll_waiter *w);

static inline bool us_timespec_is_zero(const struct timespec *ts)
{
	return ts && ts->tv_sec == 0 && ts->tv_nsec == 0;
}

#endif
