/*
 * runtime.c - the runtime thread that drives one instance's engine from
 * real events (see runtime.h and ustack_start() in ustack.h).
 *
 * The thread sleeps in epoll_wait on every device fd, a timerfd and a
 * wake-up eventfd. Each time it wakes:
 *
 *   lock; run the engine until idle; next = us_engine_next_event; unlock;
 *   arm the timerfd for next; epoll_wait
 *
 * "Until idle" is us_engine_run_until_idle() with two changes for a real
 * clock: the engine's time is refreshed before every step, so timers keep
 * firing on time under a flood of frames, and after RT_MAX_STEPS steps the
 * lock is given up for a moment, so application threads waiting for it are
 * not starved.
 *
 * Device fds are level-triggered: the engine reads each device until it has
 * nothing more, so an fd still readable after a pass simply wakes the
 * thread again. With the monotonic clock (CLOCK_MONOTONIC in µs) the
 * timerfd is armed at the absolute deadline, so a late wake-up never pushes
 * timers back; with any other clock it is armed relative to the engine's
 * time.
 */
#include "stack/runtime.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "dev/netdev.h"
#include "socket/socket.h"
#include "stack/stack.h"

/* What an epoll event is about; kept in the high half of its data. */
enum rt_source {
	RT_SRC_WAKE = 1,
	RT_SRC_TIMER = 2,
	RT_SRC_DEV = 3,
};

#define RT_MAX_EVENTS 16
#define RT_BUDGET 64       /* frames per device per step */
#define RT_MAX_STEPS 64    /* steps per hold of the core lock */

struct us_runtime {
	struct ustack *st;
	pthread_t thread;
	int epfd;
	int timerfd;
	int wakefd;
	bool stopping;      /* set under the core lock by ustack_stop() */
	bool abs_clock;     /* st->clock reads CLOCK_MONOTONIC */
	us_time_t armed;    /* the timerfd's pending deadline, or NEVER */
	us_time_t planned;  /* the next event as of the last pass; read and
			       written under the core lock */
};

static int rt_watch(struct us_runtime *rt, int fd, enum rt_source src)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = (uint64_t)src << 32 | (uint32_t)fd;
	if (epoll_ctl(rt->epfd, EPOLL_CTL_ADD, fd, &ev) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Read a timerfd or eventfd to clear it; EAGAIN means it already was. */
static void rt_drain(int fd)
{
	uint64_t v;
	ssize_t n = read(fd, &v, sizeof(v));

	(void)n;
}

static bool clock_is_monotonic(const struct us_clock *c)
{
	struct us_clock mono;

	us_clock_init_monotonic(&mono);
	return c->now == mono.now;
}

/*
 * Arm the timerfd for `next` (engine time; `now` is the engine's current
 * time). A deadline already in the past fires at once, which is what we
 * want: the loop then runs again.
 */
static int rt_arm(struct us_runtime *rt, us_time_t next, us_time_t now)
{
	struct itimerspec its;
	us_time_t t;
	int flags = 0;

	if (next == rt->armed && (rt->abs_clock || next == US_TIME_NEVER))
		return 0;
	memset(&its, 0, sizeof(its));
	if (next != US_TIME_NEVER) {
		if (rt->abs_clock) {
			flags = TFD_TIMER_ABSTIME;
			t = next;
		} else {
			t = next > now ? next - now : 0;
		}
		its.it_value.tv_sec = (time_t)(t / US_USEC_PER_SEC);
		its.it_value.tv_nsec = (long)(t % US_USEC_PER_SEC) * 1000;
		/* An all-zero it_value would disarm the timer instead. */
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(rt->timerfd, flags, &its, NULL) < 0)
		return -errno;
	rt->armed = next;
	return 0;
}

/*
 * A device fd reporting an error or hang-up (its kernel device was deleted)
 * would wake a level-triggered epoll forever; stop watching it.
 */
static void rt_forget_dev_fd(struct us_runtime *rt, int fd)
{
	struct ustack *st = rt->st;
	const char *name = "?";
	struct list_head *pos;

	epoll_ctl(rt->epfd, EPOLL_CTL_DEL, fd, NULL);
	pthread_mutex_lock(&st->lock);
	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device, list);

		if (dev->fd == fd)
			name = dev->name;
	}
	us_log(st, US_LOG_WARN, "runtime: device %s (fd %d) reports an error "
	       "or hang-up (deleted?); no longer watching it", name, fd);
	pthread_mutex_unlock(&st->lock);
}

static void rt_handle_events(struct us_runtime *rt,
			     const struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++) {
		enum rt_source src = (enum rt_source)(evs[i].data.u64 >> 32);
		int fd = (int)(uint32_t)evs[i].data.u64;

		switch (src) {
		case RT_SRC_WAKE:
			rt_drain(rt->wakefd);
			break;
		case RT_SRC_TIMER:
			rt_drain(rt->timerfd);
			/* A one-shot timerfd is disarmed once it expired. */
			rt->armed = US_TIME_NEVER;
			break;
		case RT_SRC_DEV:
			if ((evs[i].events & (EPOLLERR | EPOLLHUP)) &&
			    !(evs[i].events & EPOLLIN))
				rt_forget_dev_fd(rt, fd);
			break;
		}
	}
}

/* Log under the core lock (the log line carries the engine's time). */
static void rt_log_errno(struct us_runtime *rt, const char *what, int err)
{
	pthread_mutex_lock(&rt->st->lock);
	us_log(rt->st, US_LOG_ERR, "runtime: %s: %s; the runtime thread stops",
	       what, strerror(err));
	pthread_mutex_unlock(&rt->st->lock);
}

/* Core lock held. True when idle, false when work is left for next time. */
static bool rt_run_engine(struct ustack *st)
{
	for (int i = 0; i < RT_MAX_STEPS; i++) {
		us_engine_begin(st);
		if (us_engine_step(st, RT_BUDGET) == 0)
			return true;
	}
	return false;
}

static void *runtime_main(void *arg)
{
	struct us_runtime *rt = arg;
	struct ustack *st = rt->st;
	struct epoll_event evs[RT_MAX_EVENTS];

	for (;;) {
		us_time_t next = US_TIME_NEVER, now = 0;
		bool stop, idle = false;
		int n, err;

		pthread_mutex_lock(&st->lock);
		stop = rt->stopping;
		if (!stop) {
			idle = rt_run_engine(st);
			next = us_engine_next_event(st);
			now = st->now;
			rt->planned = idle ? next : 0;
		}
		us_core_unlock(st);
		if (stop)
			break;
		if (!idle)
			continue;
		err = rt_arm(rt, next, now);
		if (err < 0) {
			rt_log_errno(rt, "timerfd_settime", -err);
			break;
		}
		n = epoll_wait(rt->epfd, evs, RT_MAX_EVENTS, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rt_log_errno(rt, "epoll_wait", errno);
			break;
		}
		rt_handle_events(rt, evs, n);
	}
	return NULL;
}

static void runtime_free(struct us_runtime *rt)
{
	if (rt->epfd >= 0)
		close(rt->epfd);
	if (rt->timerfd >= 0)
		close(rt->timerfd);
	if (rt->wakefd >= 0)
		close(rt->wakefd);
	free(rt);
}

static struct us_runtime *runtime_alloc(struct ustack *st, int *err)
{
	struct us_runtime *rt = calloc(1, sizeof(*rt));

	if (!rt) {
		*err = -ENOMEM;
		return NULL;
	}
	rt->st = st;
	rt->armed = US_TIME_NEVER;
	rt->planned = 0;
	rt->abs_clock = clock_is_monotonic(st->clock);
	rt->epfd = epoll_create1(EPOLL_CLOEXEC);
	rt->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	rt->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (rt->epfd < 0 || rt->timerfd < 0 || rt->wakefd < 0) {
		*err = -errno;
		runtime_free(rt);
		return NULL;
	}
	*err = rt_watch(rt, rt->timerfd, RT_SRC_TIMER);
	if (!*err)
		*err = rt_watch(rt, rt->wakefd, RT_SRC_WAKE);
	if (*err) {
		runtime_free(rt);
		return NULL;
	}
	return rt;
}

/*
 * Start the thread with asynchronous signals blocked, so that they go to the
 * application's threads (which may wait for them with signalfd). Signals
 * raised by a fault stay unblocked: a crash must still be reported.
 */
static int runtime_spawn(struct us_runtime *rt)
{
	static const int sync_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
					    SIGTRAP, SIGABRT, SIGSYS };
	sigset_t block, old;
	int err;

	sigfillset(&block);
	for (size_t i = 0; i < sizeof(sync_signals) / sizeof(sync_signals[0]); i++)
		sigdelset(&block, sync_signals[i]);
	pthread_sigmask(SIG_SETMASK, &block, &old);
	err = pthread_create(&rt->thread, NULL, runtime_main, rt);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	pthread_setname_np(rt->thread, "ustack-rt");
	return 0;
}

int ustack_start(struct ustack *st)
{
	struct us_runtime *rt;
	struct list_head *pos;
	int err;

	pthread_mutex_lock(&st->lock);
	if (st->rt) {
		pthread_mutex_unlock(&st->lock);
		return -EALREADY;
	}
	rt = runtime_alloc(st, &err);
	if (!rt)
		goto out;
	st->rt = rt;
	list_for_each(pos, &st->devices) {
		err = us_runtime_add_dev(st, list_entry(pos, struct net_device,
							list));
		if (err)
			goto fail;
	}
	/* The thread waits for the core lock until this call returns. */
	err = runtime_spawn(rt);
	if (err)
		goto fail;
	pthread_mutex_unlock(&st->lock);
	return 0;
fail:
	st->rt = NULL;
	runtime_free(rt);
out:
	pthread_mutex_unlock(&st->lock);
	return err;
}

void ustack_stop(struct ustack *st)
{
	struct us_runtime *rt;

	pthread_mutex_lock(&st->lock);
	rt = st->rt;
	if (!rt || rt->stopping) {
		pthread_mutex_unlock(&st->lock);
		return;
	}
	rt->stopping = true;
	us_runtime_wakeup(st);
	pthread_mutex_unlock(&st->lock);

	pthread_join(rt->thread, NULL);

	pthread_mutex_lock(&st->lock);
	st->rt = NULL;
	pthread_mutex_unlock(&st->lock);
	runtime_free(rt);
}

void us_runtime_wakeup(struct ustack *st)
{
	struct us_runtime *rt = st->rt;
	uint64_t one = 1;
	ssize_t n;

	if (!rt)
		return;
	/* EAGAIN only when the counter is near overflow: a wake-up is pending
	 * anyway. */
	n = write(rt->wakefd, &one, sizeof(one));
	(void)n;
}

void us_runtime_kick(struct ustack *st)
{
	struct us_runtime *rt = st->rt;
	us_time_t next;

	if (!rt)
		return;
	next = us_engine_next_event(st);
	if (next >= rt->planned)
		return;
	rt->planned = next;
	us_runtime_wakeup(st);
}

int us_runtime_add_dev(struct ustack *st, struct net_device *dev)
{
	if (!st->rt || dev->fd < 0)
		return 0;
	return rt_watch(st->rt, dev->fd, RT_SRC_DEV);
}
