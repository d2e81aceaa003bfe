/*
 * epoll.c - epoll instances holding ustack sockets and kernel descriptors
 * in one set: us_epoll_create1, us_epoll_ctl, us_epoll_wait (Linux's
 * fs/eventpoll.c, for a process where some descriptors are ustack's).
 *
 * An instance is a real kernel epoll fd, whose number is the descriptor,
 * plus ustack-side state. Kernel descriptors go into the kernel epoll as
 * they are, so the kernel keeps their rules. A ustack socket gets an
 * epitem whose wait entry sits on the socket's wait queue; its callback
 * (Linux's ep_poll_callback) puts the item on the instance's ready list
 * and keeps an eventfd, itself in the kernel epoll, readable while that
 * list is not empty. So the descriptor polls readable, nests in other
 * sets, and a thread asleep in epoll_wait on it wakes for either kind.
 *
 * Nested: an instance added to another set of ours is marked, and then
 * every event it queues writes the eventfd again (an edge for an outer
 * set with EPOLLET, as Linux's ep_poll_callback wakes ep->poll_wait). An
 * outer set, poll() and select() first drop the items on an inner
 * instance's ready list that are no longer ready (Linux's
 * ep_eventpoll_poll), so that it does not poll readable for nothing. A
 * set, poll() or select() of the kernel's own (not through ustack) sees
 * only the eventfd: readable while the list is not empty, stale items
 * included, and one edge for a run of events.
 *
 * Call chain: us_epoll_wait -> ep_poll -> ep_send_ustack (ep_report ->
 *             sock->ops->poll) and ep_kernel_wait (epoll_pwait on the
 *             kernel fd) ... sk_data_ready -> us_wake_up -> ep_poll_callback.
 *
 * Locks: a socket's wake-up runs with its stack's core lock held and then
 * takes the instance's lock, so the order is core lock -> ep->lock, and
 * nothing here takes a core lock while holding an instance's lock: the
 * ready items are taken off the list first, then each is polled under its
 * core lock. Items live by reference count (under ep->lock): the set holds
 * one, and every such snapshot one more.
 */
#include "socket/epoll.h"

#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>

#include "socket/poll.h"
#include "socket/socket.h"
#include "stack/runtime.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

/* The event bits that are settings, not events (Linux's EP_PRIVATE_BITS). */
#define EP_PRIVATE_BITS (EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE)
/* What may accompany EPOLLEXCLUSIVE (Linux's EPOLLEXCLUSIVE_OK_BITS). */
#define EP_EXCLUSIVE_OK_BITS (EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | \
			      EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)
#define EP_MAX_EVENTS ((int)(INT_MAX / sizeof(struct epoll_event)))
/* Ready items taken per snapshot. */
#define EP_BATCH 64
/* How deep sets of ours are looked into (Linux's EP_MAX_NESTS). */
#define EP_MAX_NESTS 4
/*
 * No such operation: epoll_ctl with it fails at the first check that
 * fails, in the kernel's order (EBADF epfd, EBADF fd, EPERM fd, EINVAL),
 * and changes nothing. Used to answer for a descriptor that is no epoll
 * instance of ours exactly as the kernel would.
 */
#define EP_PROBE_OP 0

struct us_epoll {
	/* The kernel epoll: the descriptor, until the user closes it while
	 * a call still holds the set (then a private copy of it). */
	_Atomic int epfd;
	int evfd;                   /* in epfd; readable while any is ready */
	uint64_t cookie;            /* evfd's event data in epfd */
	atomic_int refcnt;          /* the fd table + calls in flight */
	atomic_int nkernel;         /* kernel fds added (never too low) */
	atomic_bool kernel_turn;    /* the last wait was all ustack items */
	pthread_mutex_t lock;       /* the lists and every item's fields */
	struct list_head items;     /* every live epitem */
	struct list_head rdllist;   /* ready epitems */
	int nready;
	bool evfd_ready;
	unsigned int scan_gen;      /* ep_send_ustack calls begun */
	/* In another set of ours: every event is written to evfd. */
	bool nested;
	/* The instances of ours added to epfd (their numbers; one may have
	 * been closed since), looked at before the kernel is asked. */
	int *inner;
	int ninner, inner_cap;
	atomic_bool has_inner;      /* ever had one */
	/*
	 * Driving (as a blocked socket call does, socket/wait.c): the device
	 * fds of one instance whose sockets are in the set sit in epfd too,
	 * ahead of its runtime thread's watch (us_runtime_driver_sync), so a
	 * thread asleep here reads frames itself. Their event data is
	 * dev_tag | fd. drv_st/drv_gen are written with drv_st's core lock
	 * and ep->lock held.
	 */
	uint64_t dev_tag;
	struct ustack *drv_st;
	unsigned int drv_gen;
	/* nready > 0, for a driving thread to stop reading a device once
	 * it has something to report (us_runtime_drive_until) */
	atomic_bool any_ready;
};

#define EP_DEV_TAG_MASK 0xffffffff00000000ull

struct us_epitem {
	struct list_head node;      /* on ep->items while alive */
	struct list_head rdllink;   /* on ep->rdllist while on_rdl */
	struct us_epoll *ep;
	struct socket *sock;        /* valid while !dead */
	int fd;                     /* with sock, the key: Linux's (file, fd) */
	struct ustack *st;          /* the socket's stack, for its core lock */
	struct us_wait_entry wait;  /* on sock->wq while !dead */
	uint32_t events;            /* interest, EPOLLERR|EPOLLHUP, settings */
	epoll_data_t data;
	int refcnt;
	unsigned int rdl_gen;       /* ep->scan_gen when queued */
	bool on_rdl;
	bool dead;                  /* removed: DEL, socket closed, ep freed */
};

/* ---- the ready list (ep->lock held) ------------------------------------ */

/* The eventfd follows the ready list; a system call only on a change. */
static void ep_sync_evfd(struct us_epoll *ep)
{
	bool want = ep->nready > 0;
	uint64_t v = 1;

	if (want == ep->evfd_ready)
		return;
	if (want)
		(void)!us_sys_write(ep->evfd, &v, sizeof(v));
	else
		(void)!us_sys_read(ep->evfd, &v, sizeof(v));
	ep->evfd_ready = want;
}

/*
 * The wake-up for news on the list: the eventfd readable, and, for an
 * instance in another set of ours, written again even when it already
 * was. Linux's ep_poll_callback wakes ep->poll_wait at every event it
 * queues or finds queued, so an outer set with EPOLLET gets an edge each
 * time; without an outer set a readable eventfd is all a waiter needs,
 * and a system call per event would be wasted.
 */
static void ep_poll_wake(struct us_epoll *ep)
{
	uint64_t v = 1;

	if (ep->evfd_ready && ep->nested)
		(void)!us_sys_write(ep->evfd, &v, sizeof(v));
	else
		ep_sync_evfd(ep);
}

/* Queue epi at the tail; false if it already was queued. */
static bool ep_set_ready(struct us_epoll *ep, struct us_epitem *epi)
{
	if (epi->on_rdl)
		return false;
	list_add_tail(&epi->rdllink, &ep->rdllist);
	epi->rdl_gen = ep->scan_gen;
	epi->on_rdl = true;
	ep->nready++;
	atomic_store(&ep->any_ready, true);
	return true;
}

/*
 * Put an item a wait took but did not get to back at the head, with the
 * stamp it had, to be looked at first by the next (Linux's ep_done_scan
 * splices the rest of its list back in front).
 */
static void ep_set_ready_head(struct us_epoll *ep, struct us_epitem *epi)
{
	if (epi->on_rdl || epi->dead)
		return;
	list_add(&epi->rdllink, &ep->rdllist);
	epi->on_rdl = true;
	ep->nready++;
	atomic_store(&ep->any_ready, true);
}

static void ep_clear_ready(struct us_epoll *ep, struct us_epitem *epi)
{
	if (!epi->on_rdl)
		return;
	list_del(&epi->rdllink);
	epi->on_rdl = false;
	ep->nready--;
	atomic_store(&ep->any_ready, ep->nready > 0);
}

static void epi_put_locked(struct us_epitem *epi)
{
	if (--epi->refcnt == 0)
		free(epi);
}

/* Take epi out of the set. Its core lock and ep->lock held. */
static void ep_unlink(struct us_epoll *ep, struct us_epitem *epi)
{
	us_wait_del(&epi->wait);
	list_del(&epi->node);
	ep_clear_ready(ep, epi);
	epi->dead = true;
	ep_sync_evfd(ep);
	epi_put_locked(epi);
}

/* ---- the wake-up callback ----------------------------------------------- */

/*
 * Linux's ep_poll_callback: queue the item if the event is one it waits
 * for and it is armed (a fired EPOLLONESHOT item has only settings left),
 * and wake, even if it was queued already.
 * A closing socket sends POLLNVAL: the item leaves the set, as Linux's
 * eventpoll_release() removes a file that goes away.
 */
static void ep_poll_callback(struct us_wait_entry *e, uint32_t events)
{
	struct us_epitem *epi = container_of(e, struct us_epitem, wait);
	struct us_epoll *ep = epi->ep;

	pthread_mutex_lock(&ep->lock);
	if (events & POLLNVAL) {
		ep_unlink(ep, epi);
	} else if ((epi->events & ~EP_PRIVATE_BITS) &&
		   (!events || (events & epi->events))) {
		ep_set_ready(ep, epi);
		ep_poll_wake(ep);
	}
	pthread_mutex_unlock(&ep->lock);
}

/* ---- instances ---------------------------------------------------------- */

void eventpoll_get(struct us_epoll *ep)
{
	atomic_fetch_add(&ep->refcnt, 1);
}

/* Remove every item, each under its own core lock. No call is in flight. */
static void ep_clear(struct us_epoll *ep)
{
	for (;;) {
		struct us_epitem *epi;
		struct ustack *st;

		pthread_mutex_lock(&ep->lock);
		if (list_empty(&ep->items)) {
			pthread_mutex_unlock(&ep->lock);
			return;
		}
		epi = list_entry(ep->items.next, struct us_epitem, node);
		epi->refcnt++;
		st = epi->st;
		pthread_mutex_unlock(&ep->lock);

		us_core_lock(st);
		pthread_mutex_lock(&ep->lock);
		if (!epi->dead)
			ep_unlink(ep, epi);
		epi_put_locked(epi);
		pthread_mutex_unlock(&ep->lock);
		us_core_unlock(st);
	}
}

static void ep_free(struct us_epoll *ep)
{
	ep_clear(ep);
	if (ep->evfd >= 0)
		us_sys_close(ep->evfd);
	if (ep->epfd >= 0)
		us_sys_close(ep->epfd);
	pthread_mutex_destroy(&ep->lock);
	free(ep->inner);
	free(ep);
}

void eventpoll_put(struct us_epoll *ep)
{
	if (atomic_fetch_sub(&ep->refcnt, 1) == 1)
		ep_free(ep);
}

/*
 * The number is free once close() returns (Linux's close_fd): a call that
 * still holds the set (an epoll_wait in another thread) goes on with a
 * private copy of the kernel epoll, which the last reference closes. Else
 * that last reference would close, later, whatever a dup2() or an open()
 * had put at the number meanwhile. (With no descriptor left for the copy,
 * the number goes with the last reference, as before.)
 */
bool eventpoll_close_fd(int fd)
{
	struct us_epoll *ep = fdtable_remove_epoll(fd);

	if (!ep)
		return false;
	if (atomic_load(&ep->refcnt) > 1) {
		/* Not 0-2: a daemon that closed stdio reopens them. */
		int priv = (int)us_sys(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 3);

		if (priv >= 0) {
			atomic_store(&ep->epfd, priv);
			us_sys_close(fd);
		}
	}
	eventpoll_put(ep);
	return true;
}

/* The eventfd's data must not look like any of the user's: random. */
static uint64_t ep_new_cookie(struct us_epoll *ep)
{
	uint64_t c = 0;

	if (getrandom(&c, sizeof(c), GRND_NONBLOCK) != sizeof(c)) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		c = (uint64_t)(uintptr_t)ep * 0x9e3779b97f4a7c15ULL ^
		    (uint64_t)ts.tv_nsec << 17 ^ (uint64_t)ts.tv_sec;
	}
	return c;
}

/* A new instance (one reference), or NULL with *err = -errno. */
static struct us_epoll *ep_alloc(int flags, int *err)
{
	struct us_epoll *ep = calloc(1, sizeof(*ep));
	struct epoll_event ev = { .events = EPOLLIN };

	if (!ep) {
		*err = -ENOMEM;
		return NULL;
	}
	atomic_init(&ep->refcnt, 1);
	pthread_mutex_init(&ep->lock, NULL);
	list_init(&ep->items);
	list_init(&ep->rdllist);
	ep->cookie = ep_new_cookie(ep);
	ep->dev_tag = (ep->cookie ^ 0x8000000000000000ull) & EP_DEV_TAG_MASK;
	ep->epfd = (int)us_sys(SYS_epoll_create1, flags & EPOLL_CLOEXEC);
	ep->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev.data.u64 = ep->cookie;
	if (ep->epfd < 0 || ep->evfd < 0 ||
	    us_sys(SYS_epoll_ctl, ep->epfd, EPOLL_CTL_ADD, ep->evfd, &ev) < 0) {
		*err = -errno;
		ep_free(ep);
		return NULL;
	}
	return ep;
}

int us_epoll_create1(int flags)
{
	struct us_epoll *ep;
	int err = 0, fd;

	if (flags & ~EPOLL_CLOEXEC)
		return (int)us_set_errno(-EINVAL);
	ep = ep_alloc(flags, &err);
	if (!ep)
		return (int)us_set_errno(err);
	fd = ep->epfd;
	err = fdtable_install_epoll(fd, ep);
	if (err < 0) {
		ep_free(ep);
		return (int)us_set_errno(err);
	}
	return fd;
}

int us_epoll_create(int size)
{
	if (size <= 0)
		return (int)us_set_errno(-EINVAL);
	return us_epoll_create1(0);
}

/* ---- epoll_ctl ---------------------------------------------------------- */

/* The item of ep on (sock, fd), found through the socket's wait queue (a
 * short list: one entry per set or call watching it). As Linux's epitem
 * key (file, fd), two dups of a socket are two items; closing one number
 * leaves its item until the socket's last descriptor goes. Core lock
 * held. */
static struct us_epitem *ep_find(struct us_epoll *ep, struct socket *sock,
				 int fd)
{
	struct list_head *pos;

	list_for_each(pos, &sock->wq.entries) {
		struct us_wait_entry *e = list_entry(pos, struct us_wait_entry,
						     list);
		struct us_epitem *epi;

		if (e->func != ep_poll_callback)
			continue;
		epi = container_of(e, struct us_epitem, wait);
		if (epi->ep == ep && epi->fd == fd)
			return epi;
	}
	return NULL;
}

/* Queue epi if it is ready now, waking only if it was not queued yet
 * (Linux's ep_insert and ep_modify). Core lock and ep->lock held. */
static void ep_check_ready(struct us_epoll *ep, struct us_epitem *epi)
{
	if ((sock_poll_user(epi->sock) & epi->events) &&
	    ep_set_ready(ep, epi))
		ep_poll_wake(ep);
}

/* ---- driving the engine from epoll_wait -------------------------------- */

/*
 * st's core lock held (a socket of st joins the set): watch st's devices
 * from this set, unless it already does, or drives another instance (one
 * per set; the others' frames come through their runtime threads).
 */
static void ep_drive_attach(struct us_epoll *ep, struct ustack *st)
{
	unsigned int gen = us_runtime_dev_gen(st);
	bool skip;

	pthread_mutex_lock(&ep->lock);
	skip = gen == 0 || (ep->drv_st && ep->drv_st != st) ||
	       (ep->drv_st == st && ep->drv_gen == gen);
	pthread_mutex_unlock(&ep->lock);
	if (skip || us_runtime_driver_sync(st, ep->epfd, ep->dev_tag) <= 0)
		return;
	pthread_mutex_lock(&ep->lock);
	ep->drv_st = st;
	ep->drv_gen = gen;
	pthread_mutex_unlock(&ep->lock);
}

/* st's core lock held: stop watching its devices (its runtime stopped). */
static void ep_drive_detach(struct us_epoll *ep, struct ustack *st)
{
	us_runtime_driver_drop(st, ep->epfd);
	pthread_mutex_lock(&ep->lock);
	ep->drv_st = NULL;
	pthread_mutex_unlock(&ep->lock);
}

/*
 * A device in the set has frames: run the engine in this thread. With
 * `early` (every event of the kernel wait was returned, so this thread saw
 * its wake-up), it may stop reading once an item of the set is ready.
 */
static void ep_drive(struct us_epoll *ep, bool early)
{
	struct ustack *st;

	pthread_mutex_lock(&ep->lock);
	st = ep->drv_st;
	pthread_mutex_unlock(&ep->lock);
	if (!st)
		return;
	us_core_lock(st);
	if (!us_runtime_drive_until(st, early ? &ep->any_ready : NULL))
		ep_drive_detach(ep, st);
	else    /* a poller comes back soon: the devices wait for it */
		us_runtime_linger(st);
	us_core_unlock(st);
}

static int ep_insert(struct us_epoll *ep, struct socket *sock, int fd,
		     const struct epoll_event *ev)
{
	struct us_epitem *epi = calloc(1, sizeof(*epi));

	if (!epi)
		return -ENOMEM;
	epi->ep = ep;
	epi->sock = sock;
	epi->fd = fd;
	epi->st = sock->st;
	epi->events = ev->events | EPOLLERR | EPOLLHUP;
	epi->data = ev->data;
	epi->refcnt = 1;
	epi->wait.func = ep_poll_callback;
	us_wait_add(&sock->wq, &epi->wait);
	pthread_mutex_lock(&ep->lock);
	list_add_tail(&epi->node, &ep->items);
	ep_check_ready(ep, epi);
	pthread_mutex_unlock(&ep->lock);
	ep_drive_attach(ep, sock->st);
	return 0;
}

static int ep_modify(struct us_epoll *ep, struct us_epitem *epi,
		     const struct epoll_event *ev)
{
	/* EPOLLEXCLUSIVE is set once, at insert (Linux refuses MOD). */
	if (epi->events & EPOLLEXCLUSIVE)
		return -EINVAL;
	pthread_mutex_lock(&ep->lock);
	epi->events = ev->events | EPOLLERR | EPOLLHUP;
	epi->data = ev->data;
	ep_check_ready(ep, epi);
	pthread_mutex_unlock(&ep->lock);
	return 0;
}

static int ep_remove(struct us_epoll *ep, struct us_epitem *epi)
{
	pthread_mutex_lock(&ep->lock);
	ep_unlink(ep, epi);
	pthread_mutex_unlock(&ep->lock);
	return 0;
}

/* Linux's do_epoll_ctl for a ustack socket, from the EPOLLEXCLUSIVE
 * checks on. */
static int ep_ctl_sock(struct us_epoll *ep, int op, struct socket *sock,
		       int fd, const struct epoll_event *ev)
{
	struct us_epitem *epi;
	int rc;

	if (op != EPOLL_CTL_DEL && (ev->events & EPOLLEXCLUSIVE)) {
		if (op == EPOLL_CTL_MOD)
			return -EINVAL;
		if (op == EPOLL_CTL_ADD && (ev->events & ~EP_EXCLUSIVE_OK_BITS))
			return -EINVAL;
	}
	us_core_lock(sock->st);
	if (sock->dead) {
		/* Closed by another thread since the lookup. */
		us_core_unlock(sock->st);
		return -EBADF;
	}
	epi = ep_find(ep, sock, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		rc = epi ? -EEXIST : ep_insert(ep, sock, fd, ev);
		break;
	case EPOLL_CTL_MOD:
		rc = epi ? ep_modify(ep, epi, ev) : -ENOENT;
		break;
	case EPOLL_CTL_DEL:
		rc = epi ? ep_remove(ep, epi) : -ENOENT;
		break;
	default:
		rc = -EINVAL;
		break;
	}
	us_core_unlock(sock->st);
	return rc;
}

/* Forget an inner number: removed, or no instance of ours any more. */
static void ep_forget_inner(struct us_epoll *ep, int fd)
{
	pthread_mutex_lock(&ep->lock);
	for (int i = 0; i < ep->ninner; i++)
		if (ep->inner[i] == fd) {
			ep->inner[i] = ep->inner[--ep->ninner];
			break;
		}
	pthread_mutex_unlock(&ep->lock);
}

/*
 * An instance of ours was added to ep: it is nested from now on (every
 * event it queues is an edge), and ep looks into it before the kernel
 * does (ep_scan_inner). Linux's ep_insert of an epoll file hangs an entry
 * on its poll_wait.
 */
static int ep_add_inner(struct us_epoll *ep, struct us_epoll *in, int fd)
{
	int rc = 0;

	pthread_mutex_lock(&in->lock);
	in->nested = true;
	pthread_mutex_unlock(&in->lock);
	pthread_mutex_lock(&ep->lock);
	for (int i = 0; i < ep->ninner; i++)
		if (ep->inner[i] == fd)
			goto out;
	if (ep->ninner == ep->inner_cap) {
		int cap = ep->inner_cap ? 2 * ep->inner_cap : 4;
		int *p = realloc(ep->inner, (size_t)cap * sizeof(*p));

		if (!p) {
			rc = -ENOMEM;
			goto out;
		}
		ep->inner = p;
		ep->inner_cap = cap;
	}
	ep->inner[ep->ninner++] = fd;
	atomic_store(&ep->has_inner, true);
out:
	pthread_mutex_unlock(&ep->lock);
	return rc;
}

/* A kernel descriptor: the kernel epoll decides, with its own errors. */
static int ep_ctl_kernel(struct us_epoll *ep, int op, int fd,
			 struct epoll_event *ev)
{
	struct us_epoll *in;
	int rc = 0;

	if (us_sys(SYS_epoll_ctl, ep->epfd, op, fd, ev) < 0)
		return -errno;
	if (op == EPOLL_CTL_ADD)
		atomic_fetch_add(&ep->nkernel, 1);
	else if (op == EPOLL_CTL_DEL)
		atomic_fetch_sub(&ep->nkernel, 1);
	if (op == EPOLL_CTL_DEL)
		ep_forget_inner(ep, fd);
	if (op != EPOLL_CTL_ADD)
		return 0;
	in = epollfd_lookup(fd);
	if (in) {
		rc = ep_add_inner(ep, in, fd);
		if (rc < 0) {
			/* Undone, as Linux fails the insert as a whole. */
			us_sys(SYS_epoll_ctl, ep->epfd, EPOLL_CTL_DEL, fd,
			       NULL);
			atomic_fetch_sub(&ep->nkernel, 1);
		}
		eventpoll_put(in);
	}
	return rc;
}

/* epfd is no instance of ours: the error the kernel gives (an epoll fd
 * made elsewhere is refused too, with EINVAL). */
static int ep_not_ours(int epfd, int fd)
{
	struct epoll_event ev = { 0 };

	if (us_sys(SYS_epoll_ctl, epfd, EP_PROBE_OP, fd, &ev) < 0)
		return -errno;
	return -EINVAL;
}

int us_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	struct epoll_event ev = { 0 };
	struct us_epoll *ep;
	struct socket *sock;
	int rc;

	/* Linux copies the event in before it looks at any descriptor. */
	if (op != EPOLL_CTL_DEL) {
		if (!event)
			return (int)us_set_errno(-EFAULT);
		ev = *event;
	}
	ep = epollfd_lookup(epfd);
	if (!ep)
		return (int)us_set_errno(ep_not_ours(epfd, fd));
	sock = sockfd_lookup(fd, NULL);
	if (sock) {
		rc = ep_ctl_sock(ep, op, sock, fd, &ev);
		sockfd_put(sock);
	} else {
		rc = ep_ctl_kernel(ep, op, fd, &ev);
	}
	eventpoll_put(ep);
	return (int)us_set_errno(rc);
}

/* ---- epoll_wait --------------------------------------------------------- */

/*
 * Report epi into *out if it is ready now (Linux's ep_send_events for one
 * item): 1 when reported, 0 when not ready (it leaves the list), -EFAULT
 * when there is nowhere to put it (the caller queues it again). A
 * level-triggered item goes back on the list, to be polled again by the
 * next wait; a one-shot item is disarmed.
 */
static int ep_report(struct us_epoll *ep, struct us_epitem *epi,
		     struct epoll_event *out)
{
	struct ustack *st = epi->st;
	uint32_t mask = 0;
	int rc = 0;

	us_core_lock(st);
	pthread_mutex_lock(&ep->lock);
	if (!epi->dead && (epi->events & ~EP_PRIVATE_BITS))
		mask = sock_poll_user(epi->sock) & epi->events;
	if (mask && !out) {
		rc = -EFAULT;
	} else if (mask) {
		out->events = mask;
		out->data = epi->data;
		if (epi->events & EPOLLONESHOT)
			epi->events &= EP_PRIVATE_BITS;
		else if (!(epi->events & EPOLLET))
			ep_set_ready(ep, epi);
		rc = 1;
	}
	pthread_mutex_unlock(&ep->lock);
	/* As every call: a pass the runtime thread left (frames it could not
	 * read while an event loop reported items) runs here. */
	us_core_unlock(st);
	return rc;
}

/* Whether a was stamped before b (the stamps wrap). */
static bool gen_before(unsigned int a, unsigned int b)
{
	return (int)(a - b) < 0;
}

/*
 * Take up to n items off the head of the list, with a reference each,
 * only those queued before the wait stamped gen began: what it queues
 * again (level-triggered items) or wake-ups queue meanwhile go to the
 * tail with a later stamp, so none is looked at twice in one call.
 */
static int ep_snapshot(struct us_epoll *ep, struct us_epitem **snap, int n,
		       unsigned int gen)
{
	int i;

	for (i = 0; i < n && !list_empty(&ep->rdllist); i++) {
		struct us_epitem *epi = list_entry(ep->rdllist.next,
						   struct us_epitem, rdllink);

		if (!gen_before(epi->rdl_gen, gen))
			break;
		ep_clear_ready(ep, epi);
		epi->refcnt++;
		snap[i] = epi;
	}
	return i;
}

/*
 * The ready ustack items into events[0 .. max): how many, or -EFAULT. As
 * Linux's ep_send_events, the list is walked until max events are
 * reported or every item queued before the call was looked at: items no
 * longer ready leave it without taking a place.
 */
static int ep_send_ustack(struct us_epoll *ep, struct epoll_event *events,
			  int max)
{
	struct us_epitem *snap[EP_BATCH];
	unsigned int gen;
	int want, n, i, count = 0, rc = 0;

	pthread_mutex_lock(&ep->lock);
	gen = ++ep->scan_gen;
	do {
		want = max - count < EP_BATCH ? max - count : EP_BATCH;
		n = ep_snapshot(ep, snap, want, gen);
		pthread_mutex_unlock(&ep->lock);

		for (i = 0; i < n; i++) {
			rc = ep_report(ep, snap[i], events ? &events[count]
							   : NULL);
			if (rc < 0)
				break;
			count += rc;
		}

		pthread_mutex_lock(&ep->lock);
		/* After a fault, the item and those not looked at go back
		 * in front, in their order. */
		for (int j = n - 1; j >= i; j--)
			ep_set_ready_head(ep, snap[j]);
		for (int j = 0; j < n; j++)
			epi_put_locked(snap[j]);
	} while (rc >= 0 && n == want && count < max);
	ep_sync_evfd(ep);
	pthread_mutex_unlock(&ep->lock);
	return rc < 0 && count == 0 ? rc : count;
}

/*
 * Linux's ep_eventpoll_poll for the ustack items: poll those on the list
 * from its head, dropping each that is no longer ready, until one is (the
 * instance is readable) or none is left (the eventfd is read empty). At
 * most the items queued when it began.
 */
static void ep_drop_stale(struct us_epoll *ep)
{
	pthread_mutex_lock(&ep->lock);
	for (int left = ep->nready; left > 0 && !list_empty(&ep->rdllist);
	     left--) {
		struct us_epitem *epi = list_entry(ep->rdllist.next,
						   struct us_epitem, rdllink);
		struct ustack *st = epi->st;
		bool ready = false;

		epi->refcnt++;
		pthread_mutex_unlock(&ep->lock);
		us_core_lock(st);
		pthread_mutex_lock(&ep->lock);
		if (epi->on_rdl && !epi->dead)
			ready = sock_poll_user(epi->sock) & epi->events &
				~EP_PRIVATE_BITS;
		if (!ready)
			ep_clear_ready(ep, epi);
		epi_put_locked(epi);
		pthread_mutex_unlock(&ep->lock);
		us_core_unlock(st);
		pthread_mutex_lock(&ep->lock);
		if (ready)
			break;
	}
	ep_sync_evfd(ep);
	pthread_mutex_unlock(&ep->lock);
}

static void ep_scan_inner(struct us_epoll *ep, int depth);

/* ep is about to be polled by the kernel (depth: how deep in sets of
 * ours): bring its readiness, and that of the sets of ours inside it, up
 * to date. */
static void ep_revalidate(struct us_epoll *ep, int depth)
{
	if (depth < EP_MAX_NESTS)
		ep_scan_inner(ep, depth + 1);
	ep_drop_stale(ep);
}

/*
 * Before the kernel looks at the instances of ours in ep's kernel epoll:
 * each drops its stale items, so that it is reported only if something
 * in it is ready (Linux's ep_item_poll of a nested epoll file). A number
 * closed and reused by another instance of ours is only looked at for
 * nothing.
 */
static void ep_scan_inner(struct us_epoll *ep, int depth)
{
	for (int i = 0;; i++) {
		struct us_epoll *in;
		int fd;

		pthread_mutex_lock(&ep->lock);
		fd = i < ep->ninner ? ep->inner[i] : -1;
		pthread_mutex_unlock(&ep->lock);
		if (fd < 0)
			return;
		in = epollfd_lookup(fd);
		if (!in) {
			ep_forget_inner(ep, fd);
			i--;
			continue;
		}
		if (in != ep)
			ep_revalidate(in, depth);
		eventpoll_put(in);
	}
}

void eventpoll_before_poll(int fd)
{
	struct us_epoll *ep;

	if (!fdtable_is_epoll(fd))
		return;
	ep = epollfd_lookup(fd);
	if (!ep)
		return;
	ep_revalidate(ep, 1);
	eventpoll_put(ep);
}

/*
 * The kernel's part: epoll_pwait on the kernel epoll, minus our eventfd's
 * events and the devices'. *woken when the eventfd was among them, or a
 * device was and this thread ran the engine (which may have made items
 * ready: the caller rescans).
 */
static int ep_kernel_wait(struct us_epoll *ep, struct epoll_event *events,
			  int max, int timeout_ms, const sigset_t *sigmask,
			  struct us_sigguard *sig, bool *woken)
{
	bool drive = false;
	long r;
	int n = 0;

	if (atomic_load(&ep->has_inner))
		ep_scan_inner(ep, 1);
	r = us_sys(SYS_epoll_pwait, ep->epfd, events, max, timeout_ms,
		   sigmask, US_KSIGSET_SIZE);
	if (r < 0)
		return -errno;
	for (int i = 0; i < (int)r; i++) {
		uint64_t d = events[i].data.u64;

		if (d == ep->cookie) {
			*woken = true;
			continue;
		}
		if ((d & EP_DEV_TAG_MASK) == ep->dev_tag) {
			if (events[i].events & EPOLLIN)
				drive = true;
			else    /* the device went away */
				us_sys(SYS_epoll_ctl, ep->epfd, EPOLL_CTL_DEL,
				       (int)(uint32_t)d, NULL);
			continue;
		}
		events[n++] = events[i];
	}
	if (drive) {
		if (sig)        /* a call that may sleep after this */
			us_sigguard_hold(sig);
		ep_drive(ep, r < max);
		*woken = true;
	}
	return n;
}

/*
 * Whether to ask the kernel first, without waiting: after a wait that the
 * ready ustack items filled alone, so that level-triggered sockets that
 * stay ready cannot starve the kernel's descriptors (nor, since the turn
 * passes back, the other way round).
 */
static int ep_kernel_first(struct us_epoll *ep, struct epoll_event *events,
			   int max, bool *asked, struct us_sigguard *sig)
{
	bool woken = false;
	int n;

	*asked = atomic_exchange(&ep->kernel_turn, false);
	if (!*asked)
		return 0;
	n = ep_kernel_wait(ep, events, max, 0, NULL, sig, &woken);
	return n < 0 ? 0 : n;
}

/* Linux's ep_poll: until something is reported, the time is up, or a
 * signal interrupts (sig: runtime.h, struct us_sigguard). */
static int ep_poll_loop(struct us_epoll *ep, struct epoll_event *events,
			int max, const struct us_deadline *dl,
			const sigset_t *sigmask, struct us_sigguard *sig)
{
	bool asked;
	int n = ep_kernel_first(ep, events, max, &asked,
				us_deadline_left_ms(dl) ? sig : NULL);

	for (;;) {
		bool woken = false;
		int k, tmo;

		k = n < max ? ep_send_ustack(ep, events ? events + n : NULL,
					     max - n) : 0;
		if (k < 0)
			return n ? n : k;
		n += k;
		if (n == max) {
			if (!asked)
				atomic_store(&ep->kernel_turn, true);
			return n;
		}
		tmo = n > 0 ? 0 : us_deadline_left_ms(dl);
		if (tmo == 0 && atomic_load(&ep->nkernel) <= 0)
			return n;
		/* From the first sleep on, a signal waits for a sleep, which
		 * it ends (runtime.h, struct us_sigguard); one held for after
		 * the call before that ends it now. */
		if (tmo)
			us_sigguard_hold(sig);
		if (tmo && us_wait_signal_held())
			return -EINTR;
		k = ep_kernel_wait(ep, events ? events + n : NULL, max - n, tmo,
				   n ? NULL : us_sigguard_mask(sig, sigmask),
				   tmo ? sig : NULL, &woken);
		if (k < 0)
			return n ? n : k;
		n += k;
		/* A wake-up at the deadline still gets its rescan. */
		if (n > 0 || (tmo == 0 && !woken))
			return n;
	}
}

static int ep_poll(struct us_epoll *ep, struct epoll_event *events, int max,
		   const struct us_deadline *dl, const sigset_t *sigmask)
{
	struct us_sigguard sig = { .on = false };
	int rc = ep_poll_loop(ep, events, max, dl, sigmask, &sig);

	us_sigguard_release(&sig);
	return rc;
}

/* epfd is no instance of ours: EBADF if it is not open, else EINVAL. */
static int ep_wait_not_ours(int epfd)
{
	if (us_sys(SYS_fcntl, epfd, F_GETFD) < 0 && errno == EBADF)
		return -EBADF;
	return -EINVAL;
}

int us_epoll_pwait(int epfd, struct epoll_event *events, int maxevents,
		   int timeout, const sigset_t *sigmask)
{
	struct us_deadline dl;
	struct us_epoll *ep;
	int rc;

	if (maxevents <= 0 || maxevents > EP_MAX_EVENTS)
		return (int)us_set_errno(-EINVAL);
	ep = epollfd_lookup(epfd);
	if (!ep)
		return (int)us_set_errno(ep_wait_not_ours(epfd));
	us_deadline_init_ms(&dl, timeout);
	rc = ep_poll(ep, events, maxevents, &dl, sigmask);
	eventpoll_put(ep);
	return (int)us_set_errno(rc);
}

int us_epoll_wait(int epfd, struct epoll_event *events, int maxevents,
		  int timeout)
{
	return us_epoll_pwait(epfd, events, maxevents, timeout, NULL);
}
