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
 * lock is given up until an application thread waiting for it has had it
 * (rt_let_waiters_in), so such threads are not starved.
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
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "core/sys.h"
#include "dev/netdev.h"
#include "socket/socket.h"
#include "socket/wait.h"
#include "stack/stack.h"

/* What an epoll event is about; kept in the high half of its data. */
enum rt_source {
	RT_SRC_WAKE = 1,
	RT_SRC_TIMER = 2,
	RT_SRC_DEV = 3,
};

/* What a pass left to the core lock's holder is for (st->rt_pass_wanted,
 * rt_hand_off): the timerfd expired; a device has frames. */
enum { RT_PASS_TIMER = 1, RT_PASS_DEV = 2 };

#define RT_MAX_EVENTS 16
/* How long the runtime thread, with work left, waits for an application
 * thread that wants the core lock to get it (rt_let_waiters_in). */
#define RT_LET_IN_US 200
#define RT_BUDGET 64       /* packets per device per step (a UDP GSO
			      frame counts its datagrams, tap_rx_one) */
#define RT_MAX_STEPS 64    /* steps per hold of the core lock */

struct us_runtime {
	struct ustack *st;
	pthread_t thread;
	int epfd;
	int quiet_epfd;     /* the timerfd and wakefd only (rt_hand_off) */
	int timerfd;
	int wakefd;
	bool stopping;      /* set under the core lock by ustack_stop() */
	bool abs_clock;     /* st->clock reads CLOCK_MONOTONIC */
	us_time_t armed;    /* the timerfd's pending deadline, or NEVER */
	us_time_t planned;  /* the next event as of the last pass; read and
			       written under the core lock */
	unsigned int dev_gen;  /* a new serial when a device fd joins the set */
	bool lone_wake;     /* rt_lone_wake(): a driver may stop reading early */
	unsigned int serial;   /* this runtime among all (us_runtime_claim) */
	int claims;         /* threads that took the devices (core lock) */
	bool lingering;     /* no claim, but the devices are still taken ... */
	us_time_t linger_until;  /* ... until then (us_runtime_unclaim) */
	us_time_t linger_us;     /* how long a linger lasts (RT_LINGER_US) */
	bool poll_hit;      /* a drive came during the last linger */
	unsigned int poll_skips;  /* drives since, with no linger */
	int hand_off_ms;         /* rt_hand_off's retry (RT_HAND_OFF_MS) */
	uint64_t pass_mark;      /* us_drain_mark at the runtime's last pass */
};

/*
 * Watch fd in epfd. Device fds are watched with EPOLLEXCLUSIVE, here and in
 * the epoll sets of application threads that drive the engine while they
 * wait (us_runtime_driver_sync): a frame wakes one waiter, not all of them.
 */
static int watch_fd(int epfd, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = events;
	ev.data.u64 = data;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static int rt_watch_in(int epfd, int fd, enum rt_source src)
{
	uint32_t events = EPOLLIN;

	if (src == RT_SRC_DEV)
		events |= EPOLLEXCLUSIVE;
	return watch_fd(epfd, fd, events, (uint64_t)src << 32 | (uint32_t)fd);
}

static int rt_watch(struct us_runtime *rt, int fd, enum rt_source src)
{
	return rt_watch_in(rt->epfd, fd, src);
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
 * Make the timerfd fire no later than `next` (engine time; `now` is the
 * engine's current time). Core lock held: application threads arm it too
 * (us_runtime_kick), so a call that sets a timer costs at most one
 * timerfd_settime and no wake-up of the runtime thread. With the monotonic
 * clock a deadline already armed at or before `next` is left alone: it may
 * fire early, the runtime then finds nothing due and arms again, once per
 * armed deadline, where re-arming at every change (an RTO pushed on by each
 * ACK) would cost a system call per segment. A deadline in the past fires at
 * once, which is what we want: the loop then runs again.
 */
static int rt_arm(struct us_runtime *rt, us_time_t next, us_time_t now)
{
	struct itimerspec its;
	us_time_t t;
	int flags = 0;

	if (rt->abs_clock ? next >= rt->armed :
	    next == rt->armed && next == US_TIME_NEVER)
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

		if (dev->fd == fd) {
			name = dev->name;
			dev->rt_unwatched = true;
		}
	}
	us_log(st, US_LOG_WARN, "runtime: device %s (fd %d) reports an error "
	       "or hang-up (deleted?); no longer watching it", name, fd);
	pthread_mutex_unlock(&st->lock);
}

/* Returns true when the timerfd expired (rt->armed is then stale);
 * *dev_only when every event was a device's, *timer_only when the
 * timerfd's was the only one; *leave: what a pass for this wake-up may be
 * left to the core lock's holder for (RT_PASS_*; 0 when the eventfd was
 * among them: a stop, or work the holder could not finish). */
static bool rt_handle_events(struct us_runtime *rt,
			     const struct epoll_event *evs, int n,
			     bool *dev_only, bool *timer_only,
			     unsigned int *leave)
{
	bool fired = false, wake = false;

	*dev_only = n > 0;
	*timer_only = n == 1 && evs[0].data.u64 >> 32 == RT_SRC_TIMER;
	*leave = 0;

	for (int i = 0; i < n; i++) {
		enum rt_source src = (enum rt_source)(evs[i].data.u64 >> 32);
		int fd = (int)(uint32_t)evs[i].data.u64;

		switch (src) {
		case RT_SRC_WAKE:
			rt_drain(rt->wakefd);
			*dev_only = false;
			wake = true;
			break;
		case RT_SRC_TIMER:
			rt_drain(rt->timerfd);
			fired = true;
			*dev_only = false;
			*leave |= RT_PASS_TIMER;
			break;
		case RT_SRC_DEV:
			if ((evs[i].events & (EPOLLERR | EPOLLHUP)) &&
			    !(evs[i].events & EPOLLIN))
				rt_forget_dev_fd(rt, fd);
			else
				*leave |= RT_PASS_DEV;
			break;
		}
	}
	if (wake)
		*leave = 0;
	return fired;
}

/* Log under the core lock (the log line carries the engine's time). */
static void rt_log_errno(struct us_runtime *rt, const char *what, int err)
{
	pthread_mutex_lock(&rt->st->lock);
	us_log(rt->st, US_LOG_ERR, "runtime: %s: %s; the runtime thread stops",
	       what, strerror(err));
	pthread_mutex_unlock(&rt->st->lock);
}

/*
 * Core lock held. True when idle, false when work is left for next time.
 * A step that did less than one device's budget of work read every device
 * until it had nothing more (EAGAIN), so the next step would find the fds
 * empty: what can still be due is in memory (loopback frames, timers),
 * which us_engine_run_pending finishes without another read per device.
 */
static bool rt_run_engine(struct ustack *st)
{
	for (int i = 0; i < RT_MAX_STEPS; i++) {
		int work;

		us_engine_begin(st);
		work = us_engine_step(st, RT_BUDGET);
		if (work < RT_BUDGET) {
			if (work > 0)
				us_engine_run_pending(st);
			return true;
		}
	}
	return false;
}

/* Whether the devices are off the runtime's watch (us_runtime_claim). */
static bool rt_taken(const struct us_runtime *rt)
{
	return rt->claims > 0 || rt->lingering;
}

/* Watch the devices in the runtime's set again (on) or stop (off). An
 * error adding one leaves it to the driving threads until the next claim
 * gives it back; none is expected (the fd is open and was watched
 * before). Core lock held. */
static void rt_watch_devices(struct us_runtime *rt, bool on)
{
	struct list_head *pos;

	list_for_each(pos, &rt->st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device,
						    list);

		if (dev->fd < 0 || dev->rt_unwatched)
			continue;
		if (on)
			(void)rt_watch(rt, dev->fd, RT_SRC_DEV);
		else
			epoll_ctl(rt->epfd, EPOLL_CTL_DEL, dev->fd, NULL);
	}
}

/* A thread takes the devices: the runtime stops watching them (a no-op
 * when they are taken already). Core lock held. */
static void rt_take(struct us_runtime *rt)
{
	if (!rt_taken(rt))
		rt_watch_devices(rt, false);
}

/* The last claim has ended (and its linger, if any): the runtime watches
 * the devices again. EPOLL_CTL_ADD looks at each fd's state, so a frame
 * left there wakes the runtime thread at once. Core lock held. */
static void rt_give_back(struct us_runtime *rt)
{
	rt->lingering = false;
	rt_watch_devices(rt, true);
}

/* Core lock held: note the next event and arm the timerfd for it (or for
 * the end of a linger, if sooner). */
static int rt_plan(struct us_runtime *rt)
{
	struct ustack *st = rt->st;
	us_time_t next = us_engine_next_event(st);

	rt->planned = next;
	if (rt->lingering && rt->linger_until < next)
		next = rt->linger_until;
	return rt_arm(rt, next, st->now);
}

/*
 * One pass of the runtime's loop, core lock held: give back the devices
 * when a linger is over, run the engine unless there is surely nothing to
 * do, and arm the timerfd for what comes next. fired: the timerfd expired
 * (and was read); dev_only, timer_only and mark describe the wake-up
 * (runtime_main). Returns false when work is left for another pass;
 * *err: timerfd_settime's error.
 */
static bool rt_pass(struct us_runtime *rt, bool fired, bool dev_only,
		    bool timer_only, uint64_t mark, int *err)
{
	struct ustack *st = rt->st;
	bool idle;

	/* A one-shot timerfd is disarmed once it expired. */
	if (fired)
		rt->armed = US_TIME_NEVER;
	if (rt->lingering && us_clock_now(st->clock) >= rt->linger_until)
		rt_give_back(rt);
	/* Woken for frames only, which a driving thread has read since (the
	 * device would be found empty): nothing to run; a timer already due
	 * makes rt_plan's deadline fire at once. Woken by the timer for a
	 * linger that a thread has since renewed (or a claim), with no timer
	 * due, and the devices were read empty since the last pass: nothing
	 * to run either. Not without that read: a thread that renews lingers
	 * without reading (connects in a loop) would leave a frame unread for
	 * good; so a frame waits at most two lingers. */
	if ((dev_only && us_drained_since(st, mark)) ||
	    (timer_only && rt_taken(rt) &&
	     us_engine_next_event(st) > us_clock_now(st->clock) &&
	     us_drained_since(st, rt->pass_mark))) {
		if (dev_only)
			us_mib_inc(st, US_MIB_RT_DRAINED_BEFORE);
		idle = true;
		*err = rt_plan(rt);
	} else {
		idle = rt_run_engine(st);
		if (idle)
			*err = rt_plan(rt);
		else
			rt->planned = 0;
	}
	rt->pass_mark = us_drain_mark(st);
	return idle;
}

/*
 * Woken by its timer or by frames, the runtime thread does not wait for
 * the core lock if another thread holds it: it leaves the pass to that
 * thread, which runs it just before it lets the lock go
 * (us_runtime_before_unlock), and reads the devices then if frames woke
 * the runtime. Waiting would cost more than the pass: a thread busy in
 * ustack calls (an event loop serving many connections) takes the lock
 * again at once, and each of its unlocks would wake the waiting runtime
 * thread (a futex system call), only for it to find the lock taken again,
 * several times over. A holder that looked at the flag before it was set,
 * or lets the lock go without us_core_unlock, leaves the pass to the
 * runtime thread's next try, rt->hand_off_ms later. Meanwhile the runtime
 * waits on its timerfd and eventfd alone when frames woke it (its set
 * would return the device at once, until it is read): a frame that comes
 * after the holder's pass waits for that try at most, unless another
 * thread reads it first. True when the pass was left; false with the lock
 * held.
 */
static bool rt_hand_off(struct us_runtime *rt, unsigned int why)
{
	struct ustack *st = rt->st;

	if (pthread_mutex_trylock(&st->lock) == 0)
		return false;
	atomic_fetch_or(&st->rt_pass_wanted, why);
	if (pthread_mutex_trylock(&st->lock) == 0) {
		/* Ours after all (the flag tells the pass what for). */
		return false;
	}
	return true;
}

void us_runtime_before_unlock(struct ustack *st)
{
	struct us_runtime *rt = st->rt;
	unsigned int why;
	int err = 0;
	bool idle;

	if (!atomic_load(&st->rt_pass_wanted) || !rt || rt->stopping ||
	    pthread_equal(rt->thread, pthread_self()))
		return;
	why = atomic_exchange(&st->rt_pass_wanted, 0);
	if (!why)
		return;
	/* For frames, a pass that runs the engine (no timer-only
	 * shortcut). */
	us_wait_outside_loop(true);
	idle = rt_pass(rt, why & RT_PASS_TIMER, false,
		       !(why & RT_PASS_DEV), 0, &err);
	us_wait_outside_loop(false);
	/* Work left, or the timerfd could not be armed: the runtime thread
	 * takes over (and reports the error if it persists). */
	if (!idle || err < 0) {
		rt->planned = 0;
		us_runtime_wakeup(st);
	}
}

static uint64_t rt_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * After a pass that left work (a flood), before the runtime takes the core
 * lock again: an application thread waiting for it (us_core_lock) gets it
 * first. A mutex goes to whoever asks first once it is free, and the
 * runtime, which never slept, would ask before the woken waiter runs: a
 * reader of a flooded socket would then get the lock once in many passes
 * (a UDP flood of 64 KB GSO packets: 40k reads a second against 350k).
 * Bounded by RT_LET_IN_US, so that frames are not left for long.
 */
static void rt_let_waiters_in(struct ustack *st)
{
	uint64_t until;

	if (!atomic_load_explicit(&st->lock_waiters, memory_order_relaxed))
		return;
	/* Real time, whatever the stack's clock (a virtual one stands). */
	until = rt_mono_us() + RT_LET_IN_US;
	while (atomic_load_explicit(&st->lock_waiters, memory_order_relaxed) &&
	       rt_mono_us() < until)
		sched_yield();
}

static void *runtime_main(void *arg)
{
	struct us_runtime *rt = arg;
	struct ustack *st = rt->st;
	struct epoll_event evs[RT_MAX_EVENTS];
	bool fired = false, dev_only = false, timer_only = false;
	unsigned int leave = 0, why;
	uint64_t mark = 0;
	int timeout, epfd;

	for (;;) {
		bool stop, idle = false;
		int n, err = 0;

		if (!leave) {
			pthread_mutex_lock(&st->lock);
		} else if (rt_hand_off(rt, leave)) {
			/* Back to sleep; should the pass not be taken within
			 * hand_off_ms, the runtime tries again. */
			timeout = rt->hand_off_ms;
			goto wait;
		}
		/* A pass left to another thread and not taken: the timerfd
		 * was read for it, so it counts as fired; frames make it
		 * run the engine. */
		why = atomic_exchange(&st->rt_pass_wanted, 0);
		if (why & RT_PASS_TIMER)
			fired = true;
		if (why & RT_PASS_DEV)
			dev_only = timer_only = false;
		stop = rt->stopping;
		if (!stop)
			idle = rt_pass(rt, fired, dev_only, timer_only, mark,
				       &err);
		us_core_unlock(st);
		if (stop)
			break;
		if (err < 0) {
			rt_log_errno(rt, "timerfd_settime", -err);
			break;
		}
		if (!idle) {
			fired = dev_only = timer_only = false;
			leave = 0;
			rt_let_waiters_in(st);
			continue;
		}
		timeout = -1;
wait:
		fired = dev_only = timer_only = false;
		/* A pass left for frames: the device would wake the main set
		 * at once until the pass reads it. */
		epfd = timeout >= 0 &&
		       (atomic_load(&st->rt_pass_wanted) & RT_PASS_DEV) ?
		       rt->quiet_epfd : rt->epfd;
		n = epoll_wait(epfd, evs, RT_MAX_EVENTS, timeout);
		mark = us_drain_mark(st);
		if (n == 0) {
			/* The hand-off's time is up: the pass was taken (wait
			 * on), or it is tried again: the runtime runs it if
			 * the lock is free now, else leaves it again. */
			leave = atomic_load(&st->rt_pass_wanted);
			if (!leave) {
				timeout = -1;
				goto wait;
			}
			continue;
		}
		if (n < 0) {
			if (errno == EINTR) {
				leave = 0;
				continue;
			}
			rt_log_errno(rt, "epoll_wait", errno);
			break;
		}
		fired = rt_handle_events(rt, evs, n, &dev_only, &timer_only,
					 &leave);
	}
	return NULL;
}

static void runtime_free(struct us_runtime *rt)
{
	if (rt->epfd >= 0)
		close(rt->epfd);
	if (rt->quiet_epfd >= 0)
		close(rt->quiet_epfd);
	if (rt->timerfd >= 0)
		close(rt->timerfd);
	if (rt->wakefd >= 0)
		close(rt->wakefd);
	free(rt);
}

/*
 * A process-wide serial for device sets, so that a thread's epoll set built
 * for one instance is never mistaken for another's (an instance made later
 * at the same address). Never 0: 0 means "no runtime".
 */
static unsigned int rt_new_gen(void)
{
	static atomic_uint serial;
	unsigned int g;

	do
		g = atomic_fetch_add(&serial, 1) + 1;
	while (g == 0);
	return g;
}

/*
 * May a thread that drives the engine while it waits stop reading a device
 * once it has what it waited for, leaving frames in the device, to save the
 * read that would find it empty? Only when every frame left is sure to be
 * read by someone else without another frame coming. Count each frame's
 * wake-up as a token:
 *
 * A frame queued on a TAP wakes the fd's wait queue once (tun_net_xmit ->
 * sk_data_ready). The walk calls every epoll item watching the fd; ours
 * are all EPOLLEXCLUSIVE, and such an item queues the fd on its set's
 * ready list and stops the walk only if a thread waits in that set
 * (ep_poll_callback's ewake). So each frame leaves one token: a thread
 * waiting in some set is woken, or, when nobody waits anywhere, the
 * runtime's set has the fd on its ready list (its item is always visited
 * then), and the runtime thread, which always comes back to epoll_wait and
 * always reads until EAGAIN, takes it there. (When it finds the core lock
 * held, the read until EAGAIN is the holder's, as it lets the lock go, or
 * its own at its retry, rt_hand_off: meanwhile it waits in quiet_epfd,
 * where nobody waits in its main set, so a frame that comes then leaves
 * its token on that set's ready list, for when it comes back, at most
 * hand_off_ms later.) While the devices are taken
 * (a claim or a linger, us_runtime_claim) the runtime's item is not there:
 * the token then waits on the ready lists of the driving sets, and when
 * the devices come back, EPOLL_CTL_ADD finds the fd readable and puts it
 * on the runtime's list, which restores the argument.
 *
 * A woken driving thread's epoll_wait returns the device (level-triggered:
 * unless someone emptied it meanwhile) and the thread runs the engine,
 * which reads each device at least once: one frame per token at least, so
 * frames in a device never outnumber the tokens still to be spent, and
 * none is left once all are.
 *
 * That needs a waiter to take one token per sleep: a thread reached by a
 * wake-up must leave its set's wait queue at once, even if something else
 * (a signal) woke it first, or it could swallow two frames' wake-ups and
 * read one. Linux does so since 6.0 (fs/eventpoll.c,
 * ep_autoremove_wake_function: "epoll: autoremove wakers even more
 * aggressively"); before, a thread stayed queued until it ran, and every
 * driving thread reads until EAGAIN as the runtime thread does.
 */
static bool rt_lone_wake(void)
{
	struct utsname u;
	unsigned int major, minor;

	if (uname(&u) != 0 ||
	    sscanf(u.release, "%u.%u", &major, &minor) != 2)
		return false;
	return major >= 6;
}

static struct us_runtime *runtime_alloc(struct ustack *st, int *err)
{
	struct us_runtime *rt = calloc(1, sizeof(*rt));

	if (!rt) {
		*err = -ENOMEM;
		return NULL;
	}
	rt->st = st;
	rt->dev_gen = rt_new_gen();
	rt->serial = rt_new_gen();
	rt->armed = US_TIME_NEVER;
	rt->planned = 0;
	rt->linger_us = RT_LINGER_US;
	rt->poll_hit = true;       /* until a linger shows otherwise */
	rt->hand_off_ms = RT_HAND_OFF_MS;
	rt->abs_clock = clock_is_monotonic(st->clock);
	rt->lone_wake = rt_lone_wake();
	rt->epfd = epoll_create1(EPOLL_CLOEXEC);
	rt->quiet_epfd = epoll_create1(EPOLL_CLOEXEC);
	rt->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	rt->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (rt->epfd < 0 || rt->quiet_epfd < 0 || rt->timerfd < 0 ||
	    rt->wakefd < 0) {
		*err = -errno;
		runtime_free(rt);
		return NULL;
	}
	*err = rt_watch(rt, rt->timerfd, RT_SRC_TIMER);
	if (!*err)
		*err = rt_watch(rt, rt->wakefd, RT_SRC_WAKE);
	if (!*err)
		*err = rt_watch_in(rt->quiet_epfd, rt->timerfd, RT_SRC_TIMER);
	if (!*err)
		*err = rt_watch_in(rt->quiet_epfd, rt->wakefd, RT_SRC_WAKE);
	if (*err) {
		runtime_free(rt);
		return NULL;
	}
	return rt;
}

bool us_fault_signal(int sig)
{
	return sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE ||
	       sig == SIGILL || sig == SIGTRAP || sig == SIGSYS;
}

bool us_sig_is_handler(const struct sigaction *sa)
{
	return (sa->sa_flags & SA_SIGINFO) ||
	       (sa->sa_handler != SIG_DFL && sa->sa_handler != SIG_IGN);
}

bool us_sig_caught(int sig, struct sigaction *sa)
{
	return sigaction(sig, NULL, sa) == 0 && us_sig_is_handler(sa);
}

bool us_async_signal(int sig)
{
	return sig > 0 && sig < _NSIG && sig != SIGKILL && sig != SIGSTOP &&
	       sig != SIGABRT && !us_fault_signal(sig);
}

void us_async_signals(sigset_t *set)
{
	/* (Filled, then emptied of the others: sigaddset would refuse
	 * glibc's own signals with EINVAL, in errno.) */
	sigfillset(set);
	for (int sig = 1; sig < _NSIG; sig++)
		if (!us_async_signal(sig))
			sigdelset(set, sig);
}

/*
 * Whether the process catches any signal (a handler, not SIG_DFL or
 * SIG_IGN): looked up with sigaction at most once a second, or at once
 * after us_sig_handlers_changed. A process that catches none has no
 * handler whose run a drive could hide, so its calls skip the guard and
 * its two system calls.
 */
static _Atomic uint64_t sig_caught;
static _Atomic long long sig_caught_at = -1;   /* -1: look now */
/* Bumped by us_sig_handlers_changed: a lookup that overlapped a change
 * is not kept, so the next call looks again. */
static _Atomic unsigned int sig_caught_gen;

static bool process_catches_signals(void)
{
	long long at = atomic_load(&sig_caught_at);
	unsigned int gen = atomic_load(&sig_caught_gen);
	struct timespec now;
	uint64_t m = 0;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if (at >= 0 && (long long)now.tv_sec - at < 1)
		return atomic_load(&sig_caught) != 0;
	for (int sig = 1; sig < _NSIG && sig <= 64; sig++) {
		struct sigaction sa;

		/* Those the guard never blocks do not count. */
		if (us_async_signal(sig) && us_sig_caught(sig, &sa))
			m |= 1ull << (sig - 1);
	}
	atomic_store(&sig_caught, m);
	atomic_store(&sig_caught_at, (long long)now.tv_sec);
	/* A change during the lookup: look again next time. (Either this
	 * load sees its count, or its store of -1 comes after ours.) */
	if (atomic_load(&sig_caught_gen) != gen) {
		atomic_store(&sig_caught_at, -1);
		return true;
	}
	return m != 0;
}

void us_sig_handlers_changed(void)
{
	atomic_fetch_add(&sig_caught_gen, 1);
	atomic_store(&sig_caught_at, -1);
}

void us_sigguard_hold(struct us_sigguard *g)
{
	sigset_t block;

	if (g->on || !process_catches_signals())
		return;
	us_async_signals(&block);
	g->on = pthread_sigmask(SIG_BLOCK, &block, &g->saved) == 0;
}

void us_sigguard_release(struct us_sigguard *g)
{
	if (!g->on)
		return;
	g->on = false;
	pthread_sigmask(SIG_SETMASK, &g->saved, NULL);
}

/*
 * Start the thread with asynchronous signals blocked, so that they go to the
 * application's threads (which may wait for them with signalfd). Signals
 * raised by a fault stay unblocked: a crash must still be reported.
 */
int us_thread_spawn(pthread_t *t, void *(*fn)(void *), void *arg,
		    const char *name)
{
	sigset_t block, old;
	int err;

	us_async_signals(&block);
	pthread_sigmask(SIG_SETMASK, &block, &old);
	err = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	pthread_setname_np(*t, name);
	return 0;
}

static int runtime_spawn(struct us_runtime *rt)
{
	return us_thread_spawn(&rt->thread, runtime_main, rt, "ustack-rt");
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
	atomic_store(&st->rt_pass_wanted, 0);
	/* What the devices took is written before the caller goes on (the
	 * shim's exit stops, then the process ends with every thread). */
	netdev_flush_all(st);
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
	if (rt->abs_clock) {
		/* An error here is the runtime thread's to report, when its
		 * own arming fails the same way. */
		(void)rt_arm(rt, next, st->now);
		return;
	}
	if (next >= rt->planned)
		return;
	rt->planned = next;
	us_runtime_wakeup(st);
}

bool us_drained_since(struct ustack *st, uint64_t mark)
{
	struct list_head *pos;
	bool any = false;

	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device, list);

		if (dev->fd < 0)
			continue;
		if (dev->rx_empty_at <= mark)
			return false;
		any = true;
	}
	return any;
}

int us_runtime_add_dev(struct ustack *st, struct net_device *dev)
{
	if (!st->rt || dev->fd < 0)
		return 0;
	st->rt->dev_gen = rt_new_gen();
	/* Taken by a thread (us_runtime_claim): watched when it gives the
	 * devices back. */
	if (rt_taken(st->rt))
		return 0;
	return rt_watch(st->rt, dev->fd, RT_SRC_DEV);
}

/*
 * A thread in a blocking call that will drive the engine as it waits (its
 * driving set watches every device) may take the devices from the runtime
 * thread for the call: the runtime's watch of each device fd is removed,
 * so that a frame coming while the thread is not in its epoll_wait (a
 * reply the kernel makes inside our own write to the TAP: the SYN-ACK to
 * connect()'s SYN) does not wake the runtime thread, which would find the
 * calling thread about to read it anyway.
 *
 * The devices stay off the runtime's watch for RT_LINGER_US after the
 * last claim ends when the caller asks (linger: a connect that succeeded;
 * us_runtime_linger for an epoll_wait that drove): a connection's first
 * exchange follows its connect() at once, and the peer's first frames
 * (its ACK of our request, which the kernel sends inside our write; the
 * reply; a FIN that comes while the thread opens its next connection)
 * then go to the thread that will wait for them, not through a wake-up of
 * the runtime thread; an epoll loop likewise comes back for its next
 * frames. The runtime thread's timer ends the linger (rt_plan,
 * runtime_main), and reads the devices at its expiry unless someone read
 * them empty since its last pass: a frame nobody waits for is read at most
 * two lingers late. A
 * thread asleep in a timed sleep (wait.c), which cannot read the devices,
 * would wait that long for its data: such a sleep ends a linger
 * (us_runtime_linger_end) and none starts while one lasts
 * (st->blind_sleepers). Other waits that do not read them (an epoll set or
 * a poll over a second instance's sockets, a wait on a socket's
 * descriptor outside ustack) are not counted: their data may be up to two
 * lingers late. Only with the monotonic clock, which the timerfd shares.
 * A claim made during a linger takes it over.
 *
 * Why no frame is stranded meanwhile: a frame wakes a thread waiting in
 * one of the sets that watch the device, or, when nobody waits, is queued
 * on every such set's ready list (rt_lone_wake); the claiming thread's set
 * is one, so its next epoll_wait returns the device at once. If it leaves
 * without another epoll_wait, the runtime's watch comes back (at
 * us_runtime_unclaim, or when the linger ends), and EPOLL_CTL_ADD looks at
 * the fd's state: a frame still there wakes the runtime thread. Several
 * threads may claim; the last to leave gives the devices back. Core lock
 * held. Returns a token for us_runtime_unclaim, 0 when nothing was taken.
 */
unsigned int us_runtime_claim(struct ustack *st)
{
	struct us_runtime *rt = st->rt;

	if (!rt || rt->stopping)
		return 0;
	rt_take(rt);
	rt->claims++;
	rt->lingering = false;
	return rt->serial;
}

/* The devices stay taken (or are taken) until RT_LINGER_US from now,
 * unless a claim is held (its end starts the linger). */
static void rt_linger(struct us_runtime *rt)
{
	struct ustack *st = rt->st;

	rt->lingering = true;
	rt->linger_until = us_clock_now(st->clock) + rt->linger_us;
	/* At most one timerfd_settime: an earlier deadline armed is kept
	 * (the runtime thread then arms for this one). An error is the
	 * runtime thread's to report, at its next arming. */
	(void)rt_arm(rt, rt->linger_until, st->now);
}

static bool rt_may_linger(const struct us_runtime *rt)
{
	return rt->abs_clock && !rt->stopping && rt->linger_us > 0 &&
	       rt->st->blind_sleepers == 0;
}

/*
 * An event loop's linger pays when the peer answers within it (its ACK of
 * a reply of several segments, which the kernel sends inside our own
 * write; the next request of a busy client): the loop's next drive then
 * comes while the linger lasts, and finds the frames left for it where
 * they would have woken the runtime thread. A loop that gets a frame now
 * and then, and nothing in between, is woken for it first anyway (its set
 * watches the devices ahead of the runtime's, us_runtime_driver_sync);
 * there a linger per frame costs two epoll_ctl, a timerfd_settime and a
 * wake-up of the runtime thread at its end, for nothing. So a drive starts
 * a linger only if the last one had a drive during it (poll_hit), or,
 * to notice when that changes, after RT_LINGER_PROBE drives without.
 */
void us_runtime_linger(struct ustack *st)
{
	struct us_runtime *rt = st->rt;

	if (!rt || rt->claims > 0 || !rt_may_linger(rt))
		return;
	/* Over but not yet given back (the runtime thread's timer is due):
	 * no hit. */
	if (rt->lingering && us_clock_now(st->clock) < rt->linger_until) {
		rt->poll_hit = true;
	} else if (rt->poll_hit || ++rt->poll_skips >= RT_LINGER_PROBE) {
		rt->poll_hit = false;
		rt->poll_skips = 0;
	} else {
		return;
	}
	rt_take(rt);
	rt_linger(rt);
}

void us_runtime_unclaim(struct ustack *st, unsigned int token, bool linger)
{
	struct us_runtime *rt = st->rt;

	/* The runtime the devices were taken from was stopped since. */
	if (!token || !rt || rt->serial != token)
		return;
	if (--rt->claims > 0)
		return;
	if (linger && rt_may_linger(rt))
		rt_linger(rt);
	else
		rt_give_back(rt);
}

void us_runtime_linger_end(struct ustack *st)
{
	struct us_runtime *rt = st->rt;

	if (rt && rt->lingering && rt->claims == 0)
		rt_give_back(rt);
}

unsigned int us_runtime_claims(struct ustack *st)
{
	return st->rt ? (unsigned int)st->rt->claims : 0;
}

bool us_runtime_taken(struct ustack *st)
{
	return st->rt && rt_taken(st->rt);
}

void us_runtime_set_linger(struct ustack *st, unsigned int usec)
{
	if (st->rt)
		st->rt->linger_us = usec;
}

void us_runtime_set_hand_off_ms(struct ustack *st, int ms)
{
	/* At least 1 ms: a wait of 0 (or none) would spin while the lock
	 * is held. */
	if (st->rt)
		st->rt->hand_off_ms = ms > 0 ? ms : 1;
}

/* ---- application threads driving the engine ---------------------------- */

unsigned int us_runtime_dev_gen(struct ustack *st)
{
	return st->rt ? st->rt->dev_gen : 0;
}

bool us_driver_set_ready(struct us_driver_set *d, struct ustack *st,
			 int evfd, uint64_t evfd_tag, uint64_t dev_tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = evfd_tag };
	unsigned int gen = us_runtime_dev_gen(st);

	if (gen == 0)
		return false;
	if (d->epfd >= 0 && d->st == st && d->gen == gen)
		return true;
	if (d->epfd >= 0)
		us_sys_close(d->epfd);
	d->st = NULL;
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->epfd < 0)
		return false;
	if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, evfd, &ev) < 0 ||
	    us_runtime_driver_sync(st, d->epfd, dev_tag) <= 0) {
		us_sys_close(d->epfd);
		d->epfd = -1;
		return false;
	}
	d->st = st;
	d->gen = gen;
	return true;
}

/*
 * The kernel wakes one EPOLLEXCLUSIVE watcher of a readable fd: the first
 * one, in the order they were added, whose epoll set has a thread waiting
 * in it (ep_poll_callback; a set nobody waits in only queues the event and
 * the wake-up goes on to the next). So a thread's set is added first and
 * the runtime's own watch is then taken off and added again, behind it: a
 * frame goes to a thread waiting to drive the engine when there is one, and
 * to the runtime thread only when none waits. A frame arriving between the
 * two epoll_ctl calls is not lost: EPOLL_CTL_ADD looks at the fd's state.
 */
int us_runtime_driver_sync(struct ustack *st, int epfd, uint64_t data)
{
	struct us_runtime *rt = st->rt;
	struct list_head *pos;
	int n = 0, err;

	if (!rt || rt->stopping)
		return 0;
	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device, list);

		if (dev->fd < 0)
			continue;
		err = watch_fd(epfd, dev->fd, EPOLLIN | EPOLLEXCLUSIVE,
			       data | (uint32_t)dev->fd);
		if (err)
			return err;
		n++;
		/* Taken (us_runtime_claim): the watch comes back, last, when
		 * the devices are given back. */
		if (rt_taken(rt))
			continue;
		epoll_ctl(rt->epfd, EPOLL_CTL_DEL, dev->fd, NULL);
		err = rt_watch(rt, dev->fd, RT_SRC_DEV);
		if (err)
			return err;
	}
	return n;
}

bool us_runtime_drive_until(struct ustack *st, const atomic_bool *done)
{
	struct us_runtime *rt = st->rt;
	bool idle;

	if (!rt || rt->stopping)
		return false;
	us_mib_inc(st, US_MIB_RT_DRIVEN);
	st->rx_enough = rt->lone_wake ? done : NULL;
	idle = rt_run_engine(st);
	st->rx_enough = NULL;
	/* Frames left over (a flood) may have been announced to this
	 * thread only: the runtime thread takes them from here. */
	if (!idle) {
		rt->planned = 0;
		us_runtime_wakeup(st);
		return true;
	}
	us_runtime_kick(st);
	return true;
}

bool us_runtime_drive(struct ustack *st)
{
	return us_runtime_drive_until(st, NULL);
}

void us_runtime_driver_drop(struct ustack *st, int epfd)
{
	struct list_head *pos;

	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device, list);

		if (dev->fd >= 0)
			epoll_ctl(epfd, EPOLL_CTL_DEL, dev->fd, NULL);
	}
}
