/*
 * poll_drive.c - us_poll and us_select drive the engine while they wait
 * (DESIGN.md, "drive the engine yourself"), as a blocked recv does
 * (wait.c) and us_epoll_wait does (epoll.c).
 *
 * Call chain: poll_wait_loop (poll.c) -> poll_drive_arm, then per sleep
 *             poll_drive_wait -> epoll_pwait2 on the thread's set ->
 *             us_runtime_drive (runtime.c) when a device has frames.
 *
 * A thread keeps one set across calls: an eventfd that the call's watches
 * write (the waiter) and the device fds of one instance, added ahead of the
 * runtime thread's watch by us_runtime_driver_sync, so that with
 * EPOLLEXCLUSIVE a frame wakes this thread, not the runtime thread, while
 * it waits. Made on first use, kept while the instance's device set is the
 * same (us_runtime_dev_gen), freed when the thread exits. The instance
 * driven is that of the call's first ustack socket: one per call, as an
 * epoll set drives one.
 *
 * A call with kernel descriptors too waits in ppoll/pselect6 on them and on
 * the set's fd (an epoll fd is readable while any of its fds is): the wake-up
 * is then not exclusive (the runtime thread may race this one for the
 * frame), but the frames are still read by whichever gets the lock first.
 *
 * Signals: poll, select and epoll_wait are never restarted after a handler
 * (signal(7)), so an interrupted epoll_pwait2 is the call's EINTR. From its
 * first sleep on, the call holds signals blocked (poll.c, poll_wait_loop;
 * runtime.h, struct us_sigguard) until poll_waiter_close.
 */
#include "socket/poll.h"

#include <pthread.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "socket/socket.h"
#include "stack/runtime.h"
#include "stack/stack.h"

enum { PD_EVFD = 1, PD_DEV = 2 };

struct poll_driver {
	int evfd;                   /* the waiter's eventfd while in use */
	struct us_driver_set set;   /* evfd + st's device fds */
	bool busy;                  /* lent to a call (a handler's nested
				       call makes its own waiter) */
};

static __thread struct poll_driver *my_driver;
/* The waiter of the call this thread is driving for: its own wake-ups
 * need no write (the loop rescans after the engine ran anyway). */
static __thread struct poll_waiter *my_waiter;
static pthread_key_t driver_key;
static pthread_once_t driver_once = PTHREAD_ONCE_INIT;

static void driver_free(void *p)
{
	struct poll_driver *d = p;

	if (d->set.epfd >= 0)
		us_sys_close(d->set.epfd);
	if (d->evfd >= 0)
		us_sys_close(d->evfd);
	free(d);
}

static void driver_key_init(void)
{
	(void)pthread_key_create(&driver_key, driver_free);
}

static struct poll_driver *driver_get(void)
{
	struct poll_driver *d = my_driver;

	if (d)
		return d;
	pthread_once(&driver_once, driver_key_init);
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->set.epfd = -1;
	d->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->evfd < 0) {
		free(d);
		return NULL;
	}
	(void)pthread_setspecific(driver_key, d);
	my_driver = d;
	return d;
}

/* st's core lock held: make d->set.epfd watch d->evfd and st's devices. */
static bool driver_sync(struct poll_driver *d, struct ustack *st)
{
	return us_driver_set_ready(&d->set, st, d->evfd,
				   (uint64_t)PD_EVFD << 32,
				   (uint64_t)PD_DEV << 32);
}

bool poll_drive_arm(struct poll_waiter *w)
{
	struct poll_driver *d;
	bool ok;

	if (!w->st || !(d = driver_get()) || d->busy)
		return false;
	us_core_lock(w->st);
	ok = driver_sync(d, w->st);
	/* Taken before the unlock, which may run a SIGURG handler whose
	 * own us_poll must then not borrow the driver too. */
	d->busy = ok;
	us_core_unlock(w->st);
	if (!ok)
		return false;
	w->borrowed = true;
	w->evfd = d->evfd;
	w->drv_epfd = d->set.epfd;
	atomic_store(&w->woken, false);
	atomic_store(&w->written, false);
	return true;
}

void poll_drive_release(struct poll_waiter *w)
{
	uint64_t v;

	if (!w->borrowed)
		return;
	/* The watches are gone: leave the eventfd empty for the next call. */
	if (atomic_load(&w->written))
		(void)!us_sys_read(w->evfd, &v, sizeof(v));
	my_driver->busy = false;
	w->evfd = -1;
	w->drv_epfd = -1;
	w->borrowed = false;
}

bool poll_drive_self(struct poll_waiter *w)
{
	return w == my_waiter;
}

/* Run the engine of w's instance in this thread. */
static void drive(struct poll_waiter *w)
{
	struct ustack *st = w->st;

	us_core_lock(st);
	my_waiter = w;
	/* Stop reading once a socket of the call woke it (poll_waiter_wake
	 * sets woken for the thread's own engine), as recv and epoll do. */
	if (!us_runtime_drive_until(st, &w->woken)) {
		/* The runtime stopped: wait on the eventfd alone. */
		us_runtime_driver_drop(st, w->drv_epfd);
		my_driver->set.st = NULL;
		w->drv_epfd = -1;
	}
	my_waiter = NULL;
	us_core_unlock(st);
	atomic_store(&w->woken, true);
}

/* What the set has: *woken for the eventfd, true when a device had
 * frames (and the engine then ran). Error or hang-up alone on a device
 * (it went away): the runtime thread reports it; this set stops watching. */
static bool drive_events(struct poll_waiter *w, const struct epoll_event *evs,
			 int n, bool *woken)
{
	bool dev = false;

	for (int i = 0; i < n; i++) {
		if (evs[i].data.u64 >> 32 != PD_DEV)
			*woken = true;
		else if (evs[i].events & EPOLLIN)
			dev = true;
		else
			epoll_ctl(w->drv_epfd, EPOLL_CTL_DEL,
				  (int)(uint32_t)evs[i].data.u64, NULL);
	}
	if (dev)
		drive(w);
	return dev;
}

static long epoll_wait_ts(int epfd, struct epoll_event *evs, int max,
			  const struct timespec *tmo, const sigset_t *sigmask)
{
	static atomic_bool no_pwait2;
	struct us_deadline dl;
	long r;

	if (!atomic_load(&no_pwait2)) {
		struct timespec t, *tp = NULL;

		if (tmo) {
			t = *tmo;
			tp = &t;
		}
		r = us_sys(SYS_epoll_pwait2, epfd, evs, max, tp, sigmask,
			   US_KSIGSET_SIZE);
		if (r >= 0 || errno != ENOSYS)
			return r;
		atomic_store(&no_pwait2, true);
	}
	/* Before Linux 5.11: milliseconds, rounded up. */
	us_deadline_init(&dl, tmo);
	return us_sys(SYS_epoll_pwait, epfd, evs, max, us_deadline_left_ms(&dl),
		      sigmask, US_KSIGSET_SIZE);
}

int poll_drive_wait(const struct timespec *tmo, const sigset_t *sigmask,
		    struct poll_waiter *w, bool *woken)
{
	struct epoll_event evs[4];
	long r;

	r = epoll_wait_ts(w->drv_epfd, evs, 4, tmo, sigmask);
	if (r < 0)
		return -errno;
	if (drive_events(w, evs, (int)r, woken))
		*woken = true;
	return 0;
}

void poll_drive_after(struct poll_waiter *w, bool *woken)
{
	struct epoll_event evs[4];
	long r;

	/* The set's fd was readable: which of its fds? */
	*woken = false;
	r = us_sys(SYS_epoll_pwait, w->drv_epfd, evs, 4, 0, NULL,
		   US_KSIGSET_SIZE);
	if (r > 0 && drive_events(w, evs, (int)r, woken))
		*woken = true;
}
