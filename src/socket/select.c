/*
 * select.c - us_select and us_pselect over ustack sockets and kernel
 * descriptors in the same sets (Linux's fs/select.c core_sys_select).
 *
 * Call chain: application -> us_select -> poll_wait_loop (poll.c) ->
 *             select_scan (each ustack socket's ops->poll through its
 *             watch) and select_kernel (the kernel's pselect6 on the other
 *             descriptors + the waiter's eventfd).
 *
 * The kernel keeps answering for its own descriptors, so its rules hold
 * for them unchanged (EBADF for a closed one, the fd table's size). A
 * ustack socket's mask is mapped as Linux's do_select() maps a file's:
 * readable on POLLIN|POLLHUP|POLLERR, writable on POLLOUT|POLLERR,
 * exceptional on POLLPRI.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>

#include "core/sys.h"
#include "socket/epoll.h"
#include "socket/poll.h"
#include "socket/socket.h"
#include "ustack/ustack.h"

#define BITS_PER_LONG ((int)(8 * sizeof(unsigned long)))
#define FDS_LONGS(n) (((size_t)(n) + BITS_PER_LONG - 1) / BITS_PER_LONG)

/* Linux's POLLIN_SET, POLLOUT_SET and POLLEX_SET. */
#define SEL_IN (POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR)
#define SEL_OUT (POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR)
#define SEL_EX (POLLPRI)

enum { SET_IN, SET_OUT, SET_EX, NSETS };

static const uint32_t sel_mask[NSETS] = { SEL_IN, SEL_OUT, SEL_EX };

struct select_watch {
	struct poll_watch pw;
	int fd;
	uint8_t sets;               /* bit s: the caller asked in set s */
	uint8_t ready;              /* bit s: ready in set s */
};

struct select_call {
	int n;
	unsigned long *user[NSETS]; /* the caller's sets (or NULL) */
	unsigned long *want[NSETS]; /* their kernel descriptors, n bits */
	unsigned long *res[NSETS];  /* the kernel's answer, rbits bits */
	int rbits;
	int kn;                     /* highest kernel descriptor asked + 1 */
	struct select_watch *watches;
	int nw;
};

static bool bit_test(const unsigned long *set, int fd)
{
	return set[fd / BITS_PER_LONG] & (1UL << (fd % BITS_PER_LONG));
}

static void bit_set(unsigned long *set, int fd)
{
	set[fd / BITS_PER_LONG] |= 1UL << (fd % BITS_PER_LONG);
}

static void bit_clear(unsigned long *set, int fd)
{
	set[fd / BITS_PER_LONG] &= ~(1UL << (fd % BITS_PER_LONG));
}

static int sel_scan(void *ctx, struct poll_waiter *w)
{
	struct select_call *c = ctx;
	int ready = 0;

	for (int i = 0; i < c->nw; i++) {
		struct select_watch *sw = &c->watches[i];
		uint32_t mask = poll_watch_scan(&sw->pw, w);

		sw->ready = 0;
		for (int s = 0; s < NSETS; s++) {
			if ((sw->sets & (1u << s)) && (mask & sel_mask[s])) {
				sw->ready |= (uint8_t)(1u << s);
				ready++;
			}
		}
	}
	return ready;
}

static int sel_grow_res(struct select_call *c, int nbits)
{
	size_t longs = FDS_LONGS(nbits);
	unsigned long *p;

	if (nbits <= c->rbits)
		return 0;
	p = realloc(c->res[0], NSETS * longs * sizeof(*p));
	if (!p)
		return -ENOMEM;
	for (int s = 0; s < NSETS; s++)
		c->res[s] = p + s * longs;
	c->rbits = (int)(longs * BITS_PER_LONG);
	return 0;
}

static int popcount_sets(unsigned long *const sets[NSETS], int nbits)
{
	int count = 0;

	for (int s = 0; s < NSETS; s++)
		for (size_t i = 0; i < FDS_LONGS(nbits); i++)
			count += __builtin_popcountl(sets[s][i]);
	return count;
}

/*
 * The kernel ignores descriptors beyond its fd table (they cannot be open)
 * and writes back only the bits below it, so their request bits would read
 * as answers. That is only so when the sets hold more bits than it counted;
 * then clear every bit of a descriptor that is not open.
 */
static void sel_drop_unopened(struct select_call *c, int nbits, int count)
{
	if (popcount_sets(c->res, nbits) == count)
		return;
	for (int fd = 0; fd < nbits; fd++) {
		bool set = false;

		for (int s = 0; s < NSETS; s++)
			set |= bit_test(c->res[s], fd);
		if (!set || us_sys(SYS_fcntl, fd, F_GETFD) >= 0 ||
		    errno != EBADF)
			continue;
		for (int s = 0; s < NSETS; s++)
			bit_clear(c->res[s], fd);
	}
}

/* pselect6(2) straight to the kernel. */
static int sys_pselect(int n, unsigned long *const sets[NSETS],
		       const struct timespec *tmo, const sigset_t *sigmask)
{
	struct { const sigset_t *ss; size_t len; } sig = { sigmask,
							   US_KSIGSET_SIZE };
	struct timespec t, *tp = NULL;
	long r;

	if (tmo) {
		t = *tmo;
		tp = &t;
	}
	r = us_sys(SYS_pselect6, n, sets[SET_IN], sets[SET_OUT], sets[SET_EX],
		   tp, sigmask ? &sig : NULL);
	return r < 0 ? -errno : (int)r;
}

static int sel_kernel(void *ctx, const struct timespec *tmo,
		      const sigset_t *sigmask, int evfd, bool *woken)
{
	struct select_call *c = ctx;
	int nbits = evfd >= c->kn ? evfd + 1 : c->kn;
	int r;

	if (nbits == 0 && us_timespec_is_zero(tmo))
		return 0;
	r = sel_grow_res(c, nbits);
	if (r < 0)
		return r;
	for (int s = 0; s < NSETS; s++) {
		memset(c->res[s], 0, FDS_LONGS(nbits) * sizeof(unsigned long));
		memcpy(c->res[s], c->want[s],
		       FDS_LONGS(c->kn) * sizeof(unsigned long));
	}
	if (evfd >= 0)
		bit_set(c->res[SET_IN], evfd);
	r = sys_pselect(nbits, c->res, tmo, sigmask);
	if (r < 0)
		return r;
	sel_drop_unopened(c, nbits, r);
	if (evfd >= 0 && bit_test(c->res[SET_IN], evfd)) {
		bit_clear(c->res[SET_IN], evfd);
		*woken = true;
		r--;
	}
	return r;
}

static const struct poll_call_ops select_ops = {
	.scan = sel_scan,
	.kernel = sel_kernel,
};

/* Record fd as a ustack socket when it is one. */
static bool sel_add_watch(struct select_call *c, int fd, uint8_t sets)
{
	struct select_watch *sw = &c->watches[c->nw];
	uint32_t key = SEL_EX;

	if (sets & (1u << SET_IN))
		key |= SEL_IN;
	if (sets & (1u << SET_OUT))
		key |= SEL_OUT;
	if (!poll_watch_init(&sw->pw, fd, key))
		return false;
	sw->fd = fd;
	sw->sets = sets;
	c->nw++;
	return true;
}

/*
 * Copy the caller's sets (bits < n only, as Linux reads them), moving the
 * ustack sockets to watches; the rest stay in want[] for the kernel.
 */
static int sel_split(struct select_call *c)
{
	size_t longs = FDS_LONGS(c->n);
	int nset = 0;

	c->want[0] = calloc(NSETS * longs + 1, sizeof(unsigned long));
	if (!c->want[0])
		return -ENOMEM;
	for (int s = 0; s < NSETS; s++) {
		c->want[s] = c->want[0] + s * longs;
		if (c->user[s])
			memcpy(c->want[s], c->user[s], longs * sizeof(long));
		/* Bits past n in the last long are not the caller's. */
		if (c->n % BITS_PER_LONG)
			c->want[s][longs - 1] &= ~(~0UL <<
						   (c->n % BITS_PER_LONG));
	}
	/* At most one watch per descriptor asked about. */
	for (size_t i = 0; i < longs; i++)
		nset += __builtin_popcountl(c->want[SET_IN][i] |
					   c->want[SET_OUT][i] |
					   c->want[SET_EX][i]);
	c->watches = calloc((size_t)nset + 1, sizeof(*c->watches));
	if (!c->watches)
		return -ENOMEM;
	for (int fd = 0; fd < c->n; fd++) {
		uint8_t sets = 0;

		for (int s = 0; s < NSETS; s++)
			sets |= (uint8_t)(bit_test(c->want[s], fd) << s);
		if (!sets)
			continue;
		if (sel_add_watch(c, fd, sets)) {
			for (int s = 0; s < NSETS; s++)
				bit_clear(c->want[s], fd);
			continue;
		}
		eventpoll_before_poll(fd);
		c->kn = fd + 1;
	}
	return 0;
}

/* The answer into the caller's sets: n bits of each, zero-filled to
 * whole longs, as Linux's set_fd_set() writes them. */
static void sel_copy_out(struct select_call *c)
{
	size_t longs = FDS_LONGS(c->n);

	for (int s = 0; s < NSETS; s++) {
		if (!c->user[s])
			continue;
		memset(c->user[s], 0, longs * sizeof(long));
		if (c->res[0])
			memcpy(c->user[s], c->res[s],
			       FDS_LONGS(c->kn) * sizeof(long));
		for (int i = 0; i < c->nw; i++)
			if (c->watches[i].ready & (1u << s))
				bit_set(c->user[s], c->watches[i].fd);
	}
}

static void sel_free(struct select_call *c)
{
	for (int i = 0; i < c->nw; i++)
		poll_watch_release(&c->watches[i].pw);
	free(c->watches);
	free(c->want[0]);
	free(c->res[0]);
}

/*
 * The size of the process's descriptor table (the kernel's max_fds, which
 * /proc/self/status says as FDSize), or 0 when it cannot be read (then
 * FD_SETSIZE: bits past it are left as they were, as a program passing
 * sets of FD_SETSIZE bits must not have the memory past them touched).
 */
static int fd_table_size(void)
{
	char buf[2048], *p;
	ssize_t n;
	int fd = (int)us_sys(SYS_openat, AT_FDCWD, "/proc/self/status",
			     O_RDONLY | O_CLOEXEC);
	struct rlimit rl;

	/* No descriptor left to open it with: the table then has room
	 * for at least the limit's worth. (No /proc: unknown.) */
	if (fd < 0 && (errno == EMFILE || errno == ENFILE) &&
	    getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)INT_MAX)
		return (int)rl.rlim_cur;
	if (fd < 0)
		return 0;
	n = us_sys_read(fd, buf, sizeof(buf) - 1);
	us_sys_close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "\nFDSize:");
	return p ? atoi(p + 8) : 0;
}

/* Linux's core_sys_select(): sets untouched on error, rewritten else. */
static int do_select(int n, fd_set *r, fd_set *w, fd_set *e,
		     const struct us_deadline *dl, const sigset_t *sigmask)
{
	struct select_call c = {
		.n = n,
		.user = { (unsigned long *)r, (unsigned long *)w,
			  (unsigned long *)e },
	};
	struct poll_waiter waiter = POLL_WAITER_INIT;
	int rc;

	if (n < 0)
		return -EINVAL;
	/*
	 * No further than the descriptor table, as Linux: a program that
	 * passes getdtablesize() (or RLIMIT_NOFILE) with fd_sets of
	 * FD_SETSIZE bits must not have the bits past its sets read or
	 * zeroed. Only a count past FD_SETSIZE costs the look.
	 */
	if (n > FD_SETSIZE) {
		int max = fd_table_size();

		c.n = n = max <= 0 ? FD_SETSIZE : max < n ? max : n;
	}
	rc = sel_split(&c);
	if (rc == 0 && c.nw) {
		waiter.st = c.watches[0].pw.sock->st;
		waiter.kernel_fds = c.kn > 0;
	}
	if (rc == 0)
		rc = poll_wait_loop(&select_ops, &c, c.nw ? &waiter : NULL, dl,
				    sigmask);
	if (rc >= 0)
		sel_copy_out(&c);
	sel_free(&c);
	poll_waiter_close(&waiter);
	return rc;
}

/* glibc's select(): negative fields are refused, tv_usec is normalized,
 * and the time left is written back whatever the outcome. */
int us_select(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
	      struct timeval *timeout)
{
	struct timespec rel, left;
	struct us_deadline dl;
	int rc;

	if (timeout) {
		if (timeout->tv_sec < 0 || timeout->tv_usec < 0)
			return (int)us_set_errno(-EINVAL);
		rel.tv_sec = timeout->tv_sec + timeout->tv_usec / 1000000;
		rel.tv_nsec = (long)(timeout->tv_usec % 1000000) * 1000;
	}
	us_deadline_init(&dl, timeout ? &rel : NULL);
	rc = do_select(nfds, readfds, writefds, exceptfds, &dl, NULL);
	if (timeout) {
		us_deadline_left(&dl, &left);
		timeout->tv_sec = left.tv_sec;
		timeout->tv_usec = left.tv_nsec / 1000;
	}
	return (int)us_set_errno(rc);
}

int us_pselect(int nfds, fd_set *readfds, fd_set *writefds, fd_set *exceptfds,
	       const struct timespec *timeout, const sigset_t *sigmask)
{
	struct us_deadline dl;

	if (timeout && !us_timespec_valid(timeout))
		return (int)us_set_errno(-EINVAL);
	us_deadline_init(&dl, timeout);
	return (int)us_set_errno(do_select(nfds, readfds, writefds, exceptfds,
					   &dl, sigmask));
}
