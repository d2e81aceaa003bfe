/*
 * poll.c - us_poll and us_ppoll over ustack sockets and kernel descriptors
 * in one set (Linux's fs/select.c do_sys_poll), and the pieces poll.h
 * declares for select.c and epoll.c: deadlines, watches, the wait loop.
 *
 * Call chain: application -> us_poll -> poll_wait_loop -> poll_scan
 *             (poll_watch_scan -> sock->ops->poll, core lock held) and
 *             poll_kernel (ppoll on the kernel fds + the waiter's eventfd).
 *             Wake-ups come back as sk_data_ready ... us_wake_up ->
 *             poll_watch_wake -> write(waiter eventfd).
 *
 * A set without ustack sockets goes to the kernel's ppoll unchanged.
 */
#include "socket/poll.h"

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>

#include "socket/epoll.h"
#include "socket/socket.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define NSEC_PER_SEC 1000000000L

/* Entries kept on the stack; larger sets are allocated. */
#define POLL_STACK_FDS 32

/* ---- deadlines ---------------------------------------------------------- */

static void ts_add(struct timespec *a, const struct timespec *b)
{
	a->tv_sec += b->tv_sec;
	a->tv_nsec += b->tv_nsec;
	if (a->tv_nsec >= NSEC_PER_SEC) {
		a->tv_sec++;
		a->tv_nsec -= NSEC_PER_SEC;
	}
}

void us_deadline_init(struct us_deadline *dl, const struct timespec *rel)
{
	dl->forever = !rel;
	clock_gettime(CLOCK_MONOTONIC, &dl->end);
	if (rel)
		ts_add(&dl->end, rel);
}

void us_deadline_init_ms(struct us_deadline *dl, int ms)
{
	struct timespec rel = { ms / 1000, (long)(ms % 1000) * 1000000L };

	us_deadline_init(dl, ms < 0 ? NULL : &rel);
}

const struct timespec *us_deadline_left(const struct us_deadline *dl,
					struct timespec *buf)
{
	struct timespec now;

	if (dl->forever)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &now);
	buf->tv_sec = dl->end.tv_sec - now.tv_sec;
	buf->tv_nsec = dl->end.tv_nsec - now.tv_nsec;
	if (buf->tv_nsec < 0) {
		buf->tv_sec--;
		buf->tv_nsec += NSEC_PER_SEC;
	}
	if (buf->tv_sec < 0)
		buf->tv_sec = buf->tv_nsec = 0;
	return buf;
}

bool us_deadline_passed(const struct us_deadline *dl)
{
	struct timespec left;

	return !dl->forever && us_timespec_is_zero(us_deadline_left(dl, &left));
}

int us_deadline_left_ms(const struct us_deadline *dl)
{
	struct timespec left;
	long long ms;

	if (!us_deadline_left(dl, &left))
		return -1;
	/* Rounded up, so that a sleep never ends before the deadline. */
	ms = (long long)left.tv_sec * 1000 + (left.tv_nsec + 999999) / 1000000;
	return ms > 0x7fffffff ? 0x7fffffff : (int)ms;
}

/* ---- the waiter and the watches ---------------------------------------- */

static int poll_waiter_arm(struct poll_waiter *w)
{
	if (poll_drive_arm(w))
		return 0;
	w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	return w->evfd < 0 ? -errno : 0;
}

/*
 * Called by a socket's wake-up under its core lock, possibly from several
 * stacks at once: only the first wake-up since the last rearm writes, and
 * none from the engine this call's own thread is running (it rescans).
 */
static void poll_waiter_wake(struct poll_waiter *w)
{
	uint64_t one = 1;

	if (poll_drive_self(w)) {
		atomic_store(&w->woken, true);
		return;
	}
	if (!atomic_exchange(&w->woken, true)) {
		atomic_store(&w->written, true);
		(void)!us_sys_write(w->evfd, &one, sizeof(one));
	}
}

/*
 * Drain before clearing `woken`: a wake-up in between then writes again
 * (and the rescan that follows sees its event anyway), whereas the other
 * order could leave `woken` set on an empty eventfd and sleep through
 * every later wake-up. A wake-up that set `woken` but has not written
 * yet writes after this: one spurious rescan.
 */
static void poll_waiter_rearm(struct poll_waiter *w)
{
	uint64_t v;

	if (atomic_exchange(&w->written, false))
		(void)!us_sys_read(w->evfd, &v, sizeof(v));
	atomic_store(&w->woken, false);
}

void poll_waiter_close(struct poll_waiter *w)
{
	us_sigguard_release(&w->sig);
	if (w->borrowed)
		poll_drive_release(w);
	if (w->evfd >= 0)
		us_sys_close(w->evfd);
	w->evfd = -1;
}

static void poll_watch_wake(struct us_wait_entry *e, uint32_t events)
{
	struct poll_watch *pw = container_of(e, struct poll_watch, wait);

	/* A closing socket frees its wait queue: leave it now. */
	if (events & POLLNVAL) {
		us_wait_del(e);
		pw->queued = false;
	} else if (!(events & pw->key)) {
		return;
	}
	poll_waiter_wake(pw->waiter);
}

bool poll_watch_init(struct poll_watch *pw, int fd, uint32_t key)
{
	memset(pw, 0, sizeof(*pw));
	pw->sock = sockfd_lookup(fd, NULL);
	pw->key = key | POLLERR | POLLHUP;
	pw->wait.func = poll_watch_wake;
	return pw->sock != NULL;
}

uint32_t poll_watch_scan(struct poll_watch *pw, struct poll_waiter *w)
{
	struct socket *sock = pw->sock;
	uint32_t mask = POLLNVAL;

	us_core_lock(sock->st);
	/* (fd < 0: its last descriptor was closed, the socket lingers.) */
	if (!sock->dead && sock->sk && sock->fd >= 0) {
		if (w && !pw->queued) {
			pw->waiter = w;
			us_wait_add(&sock->wq, &pw->wait);
			pw->queued = true;
		}
		mask = sock_poll_user(sock);
	}
	us_core_unlock(sock->st);
	return mask;
}

void poll_watch_release(struct poll_watch *pw)
{
	struct socket *sock = pw->sock;

	us_core_lock(sock->st);
	if (pw->queued)
		us_wait_del(&pw->wait);
	pw->queued = false;
	us_core_unlock(sock->st);
	sockfd_put(sock);
}

/* ---- the wait loop ------------------------------------------------------ */

/* One kernel call; retried when a signal interrupts a pass that already
 * has an answer (the answer wins, as in Linux's do_poll). */
static int kernel_pass(const struct poll_call_ops *ops, void *ctx,
		       const struct timespec *tmo, const sigset_t *sigmask,
		       int ready, int evfd, bool *woken)
{
	int k;

	do {
		k = ops->kernel(ctx, tmo, ready ? NULL : sigmask, evfd, woken);
	} while (k == -EINTR && ready > 0);
	return k;
}

/*
 * One sleep of an armed call that has nothing ready: on the driving set
 * alone, or in the kernel's call on the kernel fds and the set (or the
 * waiter's eventfd when not driving).
 */
static int sleep_pass(const struct poll_call_ops *ops, void *ctx,
		      struct poll_waiter *w, const struct timespec *tmo,
		      const sigset_t *sigmask, bool *woken)
{
	int k;

	if (w->drv_epfd >= 0 && !w->kernel_fds)
		return poll_drive_wait(tmo, sigmask, w, woken);
	k = kernel_pass(ops, ctx, tmo, sigmask, 0,
			w->drv_epfd >= 0 ? w->drv_epfd : w->evfd, woken);
	if (*woken && w->drv_epfd >= 0)
		poll_drive_after(w, woken);
	return k;
}

int poll_wait_loop(const struct poll_call_ops *ops, void *ctx,
		   struct poll_waiter *w, const struct us_deadline *dl,
		   const sigset_t *sigmask)
{
	static const struct timespec zero;
	bool armed = !w; /* nothing to queue: sleep at once */

	for (;;) {
		struct timespec left;
		const struct timespec *tmo = &zero;
		bool woken = false;
		int n, k;

		n = ops->scan(ctx, armed ? w : NULL);
		if (n == 0 && armed && !us_deadline_passed(dl))
			tmo = us_deadline_left(dl, &left);
		if (n == 0 && w && armed && !us_timespec_is_zero(tmo)) {
			/* From the first sleep on, a signal waits for a
			 * sleep, which it ends (runtime.h, us_sigguard); one
			 * held for after the call before that ends it now. */
			us_sigguard_hold(&w->sig);
			if (us_wait_signal_held())
				return -EINTR;
			k = sleep_pass(ops, ctx, w, tmo,
				       us_sigguard_mask(&w->sig, sigmask),
				       &woken);
		} else {
			if (!us_timespec_is_zero(tmo) && us_wait_signal_held())
				return -EINTR;
			k = kernel_pass(ops, ctx, tmo,
					w ? us_sigguard_mask(&w->sig, sigmask) :
					sigmask, n,
					w ? w->evfd : -1, &woken);
		}
		if (k < 0 || n + k > 0)
			return k < 0 ? k : n + k;
		/* A wake-up at the deadline still gets its rescan. */
		if (us_deadline_passed(dl) && !woken)
			return 0;
		if (!armed) {
			k = poll_waiter_arm(w);
			if (k < 0)
				return k;
			armed = true;
		} else if (woken) {
			poll_waiter_rearm(w);
		}
	}
}

/* ---- poll --------------------------------------------------------------- */

struct poll_call {
	struct pollfd *fds;         /* the caller's array */
	struct pollfd *kfds;        /* its kernel fds, + 1 for the waiter */
	nfds_t *kidx;               /* kfds[i] is fds[kidx[i]] */
	nfds_t nk;
	struct poll_watch *watches; /* its ustack sockets */
	nfds_t *widx;
	nfds_t nw;
};

static int poll_scan(void *ctx, struct poll_waiter *w)
{
	struct poll_call *c = ctx;
	int ready = 0;

	for (nfds_t i = 0; i < c->nw; i++) {
		struct poll_watch *pw = &c->watches[i];
		uint32_t mask = poll_watch_scan(pw, w);

		/* Linux's filter: the events asked for, and always ERR/HUP
		 * (in the key); a closed socket reports POLLNVAL alone. */
		if (!(mask & POLLNVAL))
			mask &= pw->key;
		c->fds[c->widx[i]].revents = (short)mask;
		ready += mask != 0;
	}
	return ready;
}

static int poll_kernel(void *ctx, const struct timespec *tmo,
		       const sigset_t *sigmask, int evfd, bool *woken)
{
	struct poll_call *c = ctx;
	nfds_t n = c->nk;
	int r;

	if (n == 0 && evfd < 0 && us_timespec_is_zero(tmo))
		return 0;
	if (evfd >= 0) {
		c->kfds[n].fd = evfd;
		c->kfds[n].events = POLLIN;
		c->kfds[n++].revents = 0;
	}
	r = us_sys_ppoll(c->kfds, n, tmo, sigmask);
	for (nfds_t i = 0; i < c->nk; i++)
		c->fds[c->kidx[i]].revents = r < 0 ? 0 : c->kfds[i].revents;
	if (r > 0 && evfd >= 0 && c->kfds[c->nk].revents) {
		*woken = true;
		r--;
	}
	return r;
}

static const struct poll_call_ops poll_ops = {
	.scan = poll_scan,
	.kernel = poll_kernel,
};

/* Sort the caller's entries into ustack sockets and kernel fds. Returns
 * the number of watches (the call holds a reference on each). */
static nfds_t poll_split(struct poll_call *c, nfds_t nfds)
{
	for (nfds_t i = 0; i < nfds; i++) {
		struct pollfd *p = &c->fds[i];
		struct poll_watch *pw = &c->watches[c->nw];

		p->revents = 0;
		if (p->fd < 0)
			continue;
		if (poll_watch_init(pw, p->fd, (uint16_t)p->events)) {
			c->widx[c->nw++] = i;
			continue;
		}
		eventpoll_before_poll(p->fd);
		c->kfds[c->nk] = *p;
		c->kidx[c->nk++] = i;
	}
	return c->nw;
}

/* One block for the arrays, on the stack when the set is small. */
struct poll_mem {
	struct pollfd kfds[POLL_STACK_FDS + 1];
	nfds_t kidx[POLL_STACK_FDS];
	struct poll_watch watches[POLL_STACK_FDS];
	nfds_t widx[POLL_STACK_FDS];
};

static int poll_call_alloc(struct poll_call *c, struct poll_mem *m,
			   nfds_t nfds)
{
	if (nfds <= POLL_STACK_FDS) {
		c->kfds = m->kfds;
		c->kidx = m->kidx;
		c->watches = m->watches;
		c->widx = m->widx;
		return 0;
	}
	c->kfds = calloc(nfds + 1, sizeof(*c->kfds));
	c->kidx = calloc(nfds, sizeof(*c->kidx));
	c->watches = calloc(nfds, sizeof(*c->watches));
	c->widx = calloc(nfds, sizeof(*c->widx));
	if (c->kfds && c->kidx && c->watches && c->widx)
		return 0;
	return -ENOMEM;
}

static void poll_call_free(struct poll_call *c, struct poll_mem *m)
{
	for (nfds_t i = 0; i < c->nw; i++)
		poll_watch_release(&c->watches[i]);
	if (c->kfds == m->kfds)
		return;
	free(c->kfds);
	free(c->kidx);
	free(c->watches);
	free(c->widx);
}

/* Linux's do_sys_poll(): the limit, the copy-in, then the loop. */
static int do_poll(struct pollfd *fds, nfds_t nfds,
		   const struct us_deadline *dl, const sigset_t *sigmask)
{
	struct poll_waiter w = POLL_WAITER_INIT;
	struct poll_call c = { .fds = fds };
	struct timespec left;
	struct poll_mem mem;
	struct rlimit rl;
	int rc;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && nfds > rl.rlim_cur)
		return -EINVAL;
	if (nfds && !fds)
		return -EFAULT;
	rc = poll_call_alloc(&c, &mem, nfds);
	if (rc == 0 && poll_split(&c, nfds) > 0) {
		w.st = c.watches[0].sock->st;
		w.kernel_fds = c.nk > 0;
		rc = poll_wait_loop(&poll_ops, &c, &w, dl, sigmask);
	}
	else if (rc == 0 && !us_deadline_passed(dl) && us_wait_signal_held())
		rc = -EINTR;
	else if (rc == 0)
		/* Kernel fds only: the kernel's own poll, one system call. */
		rc = us_sys_ppoll(fds, nfds, us_deadline_left(dl, &left),
				  sigmask);
	poll_call_free(&c, &mem);
	poll_waiter_close(&w);
	return rc;
}

int us_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct us_deadline dl;

	us_deadline_init_ms(&dl, timeout);
	return (int)us_set_errno(do_poll(fds, nfds, &dl, NULL));
}

int us_ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo_p,
	     const sigset_t *sigmask)
{
	struct us_deadline dl;

	if (tmo_p && !us_timespec_valid(tmo_p))
		return (int)us_set_errno(-EINVAL);
	us_deadline_init(&dl, tmo_p);
	return (int)us_set_errno(do_poll(fds, nfds, &dl, sigmask));
}
