/*
 * wait.c - wait queues and the sleepers of blocked threads (see wait.h).
 */
#include "socket/wait.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>

#include "core/sys.h"
#include "socket/socket.h"
#include "stack/runtime.h"
#include "stack/stack.h"

void us_wait_queue_init(struct us_wait_queue *wq)
{
	list_init(&wq->entries);
	list_init(&wq->sleeping);
	wq->sleepers = 0;
	wq->wakeups = 0;
}

void us_wait_queue_destroy(struct us_wait_queue *wq)
{
	(void)wq;
}

void us_wait_add(struct us_wait_queue *wq, struct us_wait_entry *e)
{
	list_add_tail(&e->list, &wq->entries);
}

void us_wait_del(struct us_wait_entry *e)
{
	list_del(&e->list);
}

/* The thread's sleeper; a blocking call that a signal handler makes while
 * the thread's call sleeps gets the next one of the chain (nested), as in
 * the kernel each sleep has its own wait entry. */
static __thread struct us_sleeper *my_sleeper;

/* The sleeper of the call this thread runs now, which may be running the
 * engine as it sleeps (queued): one whose nested one is queued is that
 * of a call a handler interrupted. */
static struct us_sleeper *sleeper_running(void)
{
	struct us_sleeper *s = my_sleeper;

	while (s && s->nested && s->nested->queued)
		s = s->nested;
	return s;
}

/* The sleeper a new sleep of this thread takes: the first not queued. */
static struct us_sleeper *sleeper_unqueued(void)
{
	struct us_sleeper *s = my_sleeper;

	while (s && s->queued)
		s = s->nested;
	return s;
}

/* This thread runs the engine outside its wait loop (us_wait_outside_loop):
 * a wake-up of its own sleeper needs the eventfd then, as the loop will not
 * look at `woken` before it sleeps. */
static __thread bool outside_loop;

void us_wait_outside_loop(bool on)
{
	outside_loop = on;
}

static void sleeper_wake(struct us_sleeper *s)
{
	uint64_t one = 1;

	/* A thread driving the engine wakes itself, and a driving thread
	 * out of its epoll_pwait, on its way to the core lock the waker
	 * holds, sees `woken` once it has it: no write needed. Not a call
	 * of this thread asleep in read() that a handler interrupted: the
	 * kernel restarts that read, which needs the write. */
	if ((s->driving && s == sleeper_running() && !outside_loop) ||
	    atomic_load(&s->awake)) {
		atomic_store(&s->woken, true);
		return;
	}
	/* One write per sleep: the sleeper drains it before the next. */
	if (!atomic_exchange(&s->woken, true)) {
		s->written = true;
		(void)!us_sys_write(s->evfd, &one, sizeof(one));
	}
}

void us_wake_up(struct us_wait_queue *wq, uint32_t events)
{
	struct list_head *pos, *tmp;

	wq->wakeups++;
	list_for_each(pos, &wq->sleeping)
		sleeper_wake(list_entry(pos, struct us_sleeper, node));
	list_for_each_safe(pos, tmp, &wq->entries) {
		struct us_wait_entry *e = list_entry(pos, struct us_wait_entry, list);

		e->func(e, events);
	}
}

bool us_wait_woken_other(const struct us_wait_queue *wq)
{
	struct list_head *pos;

	list_for_each(pos, &wq->sleeping) {
		struct us_sleeper *s = list_entry(pos, struct us_sleeper, node);

		if (s != sleeper_running() && atomic_load(&s->woken))
			return true;
	}
	return false;
}

/* ---- sleepers ----------------------------------------------------------- */

static pthread_key_t sleeper_key;
static pthread_once_t sleeper_once = PTHREAD_ONCE_INIT;

static void sleeper_free(void *p)
{
	struct us_sleeper *s = p;

	/* (On the exiting thread: a later destructor that calls ustack
	 * makes a new one.) */
	my_sleeper = NULL;

	while (s) {
		struct us_sleeper *next = s->nested;

		us_sys_close(s->evfd);
		if (s->drv.epfd >= 0)
			us_sys_close(s->drv.epfd);
		free(s);
		s = next;
	}
}

static void sleeper_key_init(void)
{
	(void)pthread_key_create(&sleeper_key, sleeper_free);
}

static struct us_sleeper *sleeper_new(int *err)
{
	struct us_sleeper *s = calloc(1, sizeof(*s));

	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	/* Blocking: an untimed sleep is a read() the kernel may restart. */
	s->drv.epfd = -1;
	s->evfd = eventfd(0, EFD_CLOEXEC);
	if (s->evfd < 0) {
		*err = -errno;
		free(s);
		return NULL;
	}
	return s;
}

/*
 * The sleeper for a sleep of the calling thread, made on first use (the
 * chain is freed at thread exit): the thread's own, or, in a signal
 * handler that interrupted a sleeping call, the next free one.
 */
static struct us_sleeper *sleeper_get(int *err)
{
	struct us_sleeper *s = my_sleeper;

	if (!s) {
		pthread_once(&sleeper_once, sleeper_key_init);
		s = sleeper_new(err);
		if (!s)
			return NULL;
		(void)pthread_setspecific(sleeper_key, s);
		my_sleeper = s;
	}
	while (s->queued) {
		if (!s->nested && !(s->nested = sleeper_new(err)))
			return NULL;
		s = s->nested;
	}
	return s;
}

static int ts_until(const struct timespec *deadline, struct timespec *left)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left->tv_sec = deadline->tv_sec - now.tv_sec;
	left->tv_nsec = deadline->tv_nsec - now.tv_nsec;
	if (left->tv_nsec < 0) {
		left->tv_sec--;
		left->tv_nsec += 1000000000L;
	}
	return left->tv_sec < 0 ? -ETIMEDOUT : 0;
}

bool (*us_wait_held_signals)(bool *restart);

/* Set when a call ends in EINTR for held signals: restart it after them. */
static __thread bool restart_after;

bool us_wait_take_restart(void)
{
	bool r = restart_after;

	restart_after = false;
	return r;
}

/* The thread holds signals for after its call (untimed: its wait would
 * have been restarted under SA_RESTART); notes whether to restart. */
static bool signals_held(bool untimed)
{
	bool restart = false;

	if (!us_wait_held_signals || !us_wait_held_signals(&restart))
		return false;
	restart_after = untimed && restart;
	return true;
}

bool us_wait_signal_held(void)
{
	return signals_held(false);
}

/* The kernel part of a sleep: 0 when the eventfd was written (and now
 * read), -EINTR, -ETIMEDOUT. No lock held. */
static int sleeper_block(struct us_sleeper *s, const struct timespec *deadline,
			 const sigset_t *mask)
{
	struct pollfd pfd = { .fd = s->evfd, .events = POLLIN };
	struct timespec left, *tmo = NULL;
	uint64_t v;
	long r;

	if (!deadline && !us_wait_held_signals) {
		/* SA_RESTART handlers restart this read inside the kernel,
		 * as they restart a blocking recv(); others end it. */
		r = us_sys_read(s->evfd, &v, sizeof(v));
		return r < 0 ? -errno : 0;
	}
	/* Timed, or handlers held for after the call: a poll, which every
	 * signal ends (a held one must end the call: it restarts later). */
	if (deadline) {
		if (ts_until(deadline, &left) < 0)
			return -ETIMEDOUT;
		tmo = &left;
	}
	do
		r = us_sys(SYS_ppoll, &pfd, 1, tmo, mask, (size_t)(_NSIG / 8));
	while (r < 0 && errno == EINTR && !deadline && !signals_held(true) &&
	       us_wait_handlers_restart());
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	(void)!us_sys_read(s->evfd, &v, sizeof(v));
	return 0;
}

/* ---- driving the engine while asleep -------------------------------- */

enum { DRV_EVFD = 1, DRV_DEV = 2 };

/*
 * Core lock held. Make s's epoll set fit st's devices; false when this
 * sleep cannot drive (no runtime, no device fd, or an error: the plain
 * sleep then does).
 */
static bool driver_ready(struct us_sleeper *s, struct ustack *st)
{
	return us_driver_set_ready(&s->drv, st, s->evfd,
				   (uint64_t)DRV_EVFD << 32,
				   (uint64_t)DRV_DEV << 32);
}

/*
 * After a handler interrupted an untimed sleep: would the kernel have
 * restarted a blocking read()? It does when the handler that ran has
 * SA_RESTART. Which signal came is not known here, so: yes when every
 * signal that can have run a handler (caught, not blocked in this thread,
 * not one a fault raises: a thread asleep in a system call makes no fault)
 * has SA_RESTART; no otherwise. Only a program mixing both kinds of
 * handler can see a difference from Linux. Runs only after a signal.
 */
bool us_wait_handlers_restart(void)
{
	sigset_t blocked;

	if (signals_held(true))
		return false;
	if (pthread_sigmask(SIG_BLOCK, NULL, &blocked) != 0)
		return false;
	for (int sig = 1; sig < _NSIG; sig++) {
		struct sigaction sa;

		if (sig == SIGKILL || sig == SIGSTOP || us_fault_signal(sig) ||
		    sigismember(&blocked, sig) == 1 || !us_sig_caught(sig, &sa))
			continue;
		if (!(sa.sa_flags & SA_RESTART))
			return false;
	}
	return true;
}

/*
 * The untimed sleep of a driving thread, core lock held on entry and on
 * return (s queued on its wait queue). Frames for any socket are handled
 * here; the loop ends when this thread's sleeper was woken. From its
 * first sleep on, asynchronous signals wait for the next sleep (runtime.h,
 * struct us_sigguard), so that one coming while the thread runs the engine
 * or waits for the lock still ends the call.
 */
/* A signal the sleep's mask lets through is pending (a poll with no
 * timeout never reports it: the sleep would). */
static bool signal_waiting(const sigset_t *mask)
{
	sigset_t p;

	if (!mask || sigpending(&p) < 0)
		return false;
	for (int sig = 1; sig < NSIG; sig++)
		if (sigismember(&p, sig) == 1 && sigismember(mask, sig) == 0)
			return true;
	return false;
}

/*
 * net.core.busy_read (Linux's name and unit): before its first sleep, a
 * blocked call polls its set (devices and wake-up eventfd) for up to that
 * many microseconds (read under the lock), without the lock, once per
 * call as Linux's sk_busy_loop. What comes in that time is read with no
 * sleep of this thread, and the kernel's sender finds no sleeper of this
 * set to wake (the runtime thread's set may still be woken): less latency
 * for more CPU. It stops for a pending signal, as Linux's does, and for a
 * wake-up a handler made without the eventfd. The number of events, 0
 * when nothing came, -1 with EINTR for a signal.
 */
static int busy_poll(struct us_sleeper *s, int us, struct epoll_event *evs,
		     int max, const sigset_t *mask)
{
	struct timespec t0, t;
	int64_t spent;
	int n;

	if (us <= 0)
		return 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (unsigned int i = 0;; i++) {
		if (i % 8 == 0 && signal_waiting(mask)) {
			errno = EINTR;
			return -1;
		}
		n = epoll_pwait(s->drv.epfd, evs, max, 0, mask);
		if (n != 0 || atomic_load(&s->woken))
			return n;
		clock_gettime(CLOCK_MONOTONIC, &t);
		spent = (int64_t)(t.tv_sec - t0.tv_sec) * 1000000 +
			(t.tv_nsec - t0.tv_nsec) / 1000;
		if (spent >= us)
			return 0;
	}
}

static int sleep_driving(struct us_sleeper *s, struct ustack *st)
{
	struct epoll_event evs[4];
	struct us_sigguard sig = { .on = false };
	bool drained = false, spun = false, slept = false;
	uint64_t v, mark;
	int n, rc = 0;

	while (!atomic_load(&s->woken)) {
		/* (The busy poll is once per call.) */
		int busy_us = spun ? 0 : st->sysctl.busy_read;
		bool dev = false;
		int err;

		/* From the first sleep on, a signal waits for the next one
		 * (the engine runs and the lock is waited for in between). */
		us_sigguard_hold(&sig);
		/* A signal held for after the call (us_wait_held_signals)
		 * before the guard: it ends the call now (after it, it ends
		 * the sleep). */
		if (signals_held(true)) {
			rc = -EINTR;
			break;
		}
		/* From here a waker writes the eventfd (it holds the lock
		 * once we let it go, and sees this store). */
		atomic_store(&s->awake, false);
		us_core_unlock(st);
		n = busy_poll(s, busy_us, evs, 4,
			      us_sigguard_mask(&sig, NULL));
		spun |= busy_us > 0;
		if (n == 0 && !atomic_load(&s->woken)) {
			slept = true;
			n = epoll_pwait(s->drv.epfd, evs, 4, -1,
					us_sigguard_mask(&sig, NULL));
		}
		err = n < 0 ? errno : 0;
		/* Up to the next sleep, `woken` is looked at under the lock
		 * (the loop's condition) before this thread sleeps again. */
		atomic_store(&s->awake, true);
		mark = us_drain_mark(st);
		/* A handler ran in the sleep: the caller's mask again, before
		 * the lock, as another signal held meanwhile may come now and
		 * its handler may call ustack; and for handlers_restart. */
		if (err == EINTR)
			us_sigguard_release(&sig);
		for (int i = 0; i < n; i++)
			dev |= evs[i].data.u64 >> 32 == DRV_DEV &&
			       (evs[i].events & EPOLLIN);
		us_core_lock(st);
		if (n < 0) {
			if (err != EINTR) {
				rc = -err;
				break;
			}
			if (atomic_load(&s->woken) || us_wait_handlers_restart())
				continue;
			rc = -EINTR;
			break;
		}
		for (int i = 0; i < n; i++) {
			uint32_t e = evs[i].events;
			int fd = (int)(uint32_t)evs[i].data.u64;

			if (evs[i].data.u64 >> 32 != DRV_DEV) {
				if (s->written && !drained) {
					(void)!us_sys_read(s->evfd, &v,
							   sizeof(v));
					drained = true;
				}
			} else if (!(e & EPOLLIN)) {
				/* Error or hang-up only (the device went
				 * away): the runtime thread reports it;
				 * this set stops watching. */
				epoll_ctl(s->drv.epfd, EPOLL_CTL_DEL, fd,
					  NULL);
			}
		}
		/* Another thread read the devices empty since the wake-up
		 * (the runtime, while this one waited for the lock): no run
		 * would read anything. */
		if (dev && us_drained_since(st, mark)) {
			us_mib_inc(st, US_MIB_RT_DRAINED_BEFORE);
			dev = false;
		}
		/* With its wake-up here, the thread may stop reading once
		 * it has its data; not when the events filled evs (a
		 * device's may be among those not returned). */
		if (dev && !us_runtime_drive_until(st, n < (int)(sizeof(evs) /
						   sizeof(evs[0])) ?
						   &s->woken : NULL))
			break;      /* runtime stopped: recheck */
	}
	atomic_store(&s->awake, false);
	if (sig.on) {
		/* Not under the lock: a handler may call ustack. */
		us_core_unlock(st);
		us_sigguard_release(&sig);
		us_core_lock(st);
	}
	/* Written but not seen in the set: drain it (the write was made
	 * under the lock we hold, so the read returns at once). */
	if (s->written && !drained)
		(void)!us_sys_read(s->evfd, &v, sizeof(v));
	s->written = false;
	/* The call was answered without a sleep: the busy poll spared it. */
	if (spun && !slept && rc == 0)
		us_mib_inc(st, US_MIB_RT_BUSY_POLL_HITS);
	return rc;
}

/* Queue s on wq as not woken yet / take it off. Core lock held. */
static void sleeper_enqueue(struct us_sleeper *s, struct us_wait_queue *wq)
{
	atomic_store(&s->woken, false);
	atomic_store(&s->awake, false);
	s->written = false;
	s->queued = true;
	list_add_tail(&s->node, &wq->sleeping);
	wq->sleepers++;
}

static void sleeper_dequeue(struct us_sleeper *s, struct us_wait_queue *wq)
{
	list_del(&s->node);
	s->queued = false;
	wq->sleepers--;
}

bool us_wait_drive_for(struct us_wait_queue *wq, struct ustack *st)
{
	struct us_sleeper *s;
	int err = 0;
	bool ran;

	s = sleeper_get(&err);
	if (!s)
		return us_runtime_drive(st);
	/* Queued as a sleeper of this thread: a wake-up only sets `woken`
	 * (sleeper_wake), which ends the reading early. */
	sleeper_enqueue(s, wq);
	s->driving = true;
	ran = us_runtime_drive_until(st, &s->woken);
	s->driving = false;
	sleeper_dequeue(s, wq);
	return ran;
}

void us_wait_claim(struct ustack *st)
{
	struct us_sleeper *s;
	int err = 0;

	s = sleeper_get(&err);
	if (!s || s->claim || !driver_ready(s, st))
		return;
	s->claim = us_runtime_claim(st);
	s->claim_st = st;
}

static void sleeper_unclaim(struct us_sleeper *s, struct ustack *st,
			    bool linger)
{
	if (!s || !s->claim || s->claim_st != st)
		return;
	us_runtime_unclaim(st, s->claim, linger);
	s->claim = 0;
}

/* The call ends. With linger, the devices stay off the runtime's watch a
 * little longer (runtime.c, us_runtime_claim): this thread's next calls
 * are likely to wait for what the peer sends next, and will read it. */
void us_wait_unclaim(struct ustack *st, bool linger)
{
	sleeper_unclaim(sleeper_unqueued(), st, linger);
}

/* Every claim of this thread's calls on st, at once, and a linger (a
 * claim on another instance is given back under that one's lock, when its
 * call ends). */
static void unclaim_all(struct ustack *st)
{
	for (struct us_sleeper *s = my_sleeper; s; s = s->nested)
		sleeper_unclaim(s, st, false);
	us_runtime_linger_end(st);
}

int us_wait_sleep(struct us_wait_queue *wq, struct ustack *st,
		  const struct timespec *deadline)
{
	pthread_mutex_t *lock = &st->lock;
	struct us_sigguard guard = { .on = false };
	struct us_sleeper *s;
	int err = 0, rc;
	uint64_t v;

	/* A signal came while the thread ran the call: it ends the call
	 * before any sleep, as a pending signal ends Linux's. */
	if (signals_held(!deadline))
		return -EINTR;
	s = sleeper_get(&err);
	if (!s)
		return err;
	sleeper_enqueue(s, wq);
	if (!deadline && driver_ready(s, st)) {
		s->driving = true;
		rc = sleep_driving(s, st);
		s->driving = false;
		sleeper_dequeue(s, wq);
		return rc;
	}
	/* A sleep that does not drive gives back the devices this thread
	 * took (us_wait_claim), its interrupted calls' too, and a linger
	 * (whoever's): nobody might read them meanwhile. */
	unclaim_all(st);
	st->blind_sleepers++;
	/* Signals held for after the call: blocked from before the last
	 * look until the sleep (which takes the caller's mask), so that
	 * none is held unseen between them. */
	if (us_wait_held_signals)
		us_sigguard_hold(&guard);
	us_core_unlock(st);
	if (signals_held(!deadline))
		rc = -EINTR;
	else
		rc = sleeper_block(s, deadline, us_sigguard_mask(&guard, NULL));
	us_sigguard_release(&guard);
	pthread_mutex_lock(lock);
	st->blind_sleepers--;
	/*
	 * A wake-up that came with the signal or the timeout wrote the
	 * eventfd (under the lock we hold again, so the write is done):
	 * drain it, or the next sleep would return at once. While still
	 * queued, so that a handler's sleep cannot take this sleeper first.
	 */
	if (rc < 0 && atomic_load(&s->woken))
		(void)!us_sys_read(s->evfd, &v, sizeof(v));
	sleeper_dequeue(s, wq);
	if (rc == -EINTR)
		(void)signals_held(!deadline);
	if (rc == -EINTR || rc == -ETIMEDOUT)
		return rc;
	return rc < 0 ? rc : 0;
}
