/*
 * test_poll.c - us_poll, us_ppoll, us_select and us_pselect
 * (src/socket/poll.c, select.c) on sets that mix a pipe, a kernel UDP
 * socket and ustack UDP sockets.
 *
 * As in test_epoll.c, the process first enters a network namespace of its
 * own, and the kernel is the oracle wherever it can answer the same
 * question: a ustack socket and a kernel socket put through the same steps
 * must show the same poll masks and select bits.
 *
 * Timeouts are hang guards; the only time measured is that a call which
 * timed out did not return before its timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lib/rdfix.h"
#include "ustack/ustack.h"

#define SKIP_WITHOUT_NETNS() \
	do { \
		if (rd_netns_why[0]) { \
			print_message("skipped: %s\n", rd_netns_why); \
			skip(); \
		} \
	} while (0)

#define EXPECT_ERR(call, err) \
	do { \
		errno = 0; \
		assert_int_equal((call), -1); \
		assert_int_equal(errno, (err)); \
	} while (0)

/* Both calls alike: same result, and the same errno when they fail. */
#define SAME(us_call, k_call) \
	do { \
		int rc_u_, rc_k_, e_u_, e_k_; \
		errno = 0; \
		rc_u_ = (us_call); \
		e_u_ = errno; \
		errno = 0; \
		rc_k_ = (k_call); \
		e_k_ = errno; \
		assert_int_equal(rc_u_, rc_k_); \
		if (rc_u_ < 0) \
			assert_int_equal(e_u_, e_k_); \
	} while (0)

static struct rd_fix F;

static int setup(void **state)
{
	rd_fix_init(&F, false);
	return 0;
}

static int setup_started(void **state)
{
	rd_fix_init(&F, true);
	return 0;
}

static int teardown(void **state)
{
	rd_fix_destroy(&F);
	return 0;
}

static int closed_fd(void)
{
	int fd = dup(0);

	assert_true(fd >= 0);
	close(fd);
	return fd;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- poll: exactly the ready ones --------------------------------------- */

enum { P_PIPE, P_KA, P_UA, P_UB, P_NEG, P_CLOSED, P_N };

static void poll_set(struct pollfd *p, short events)
{
	int fds[P_N] = { F.pipe_r, F.ka, F.ua, F.ub, -1, closed_fd() };

	for (int i = 0; i < P_N; i++)
		p[i] = (struct pollfd){ .fd = fds[i], .events = events,
					.revents = 0x7777 };
}

/* Poll the set (no wait) and expect exactly `want` (bit per entry) with
 * POLLIN, besides the closed descriptor's POLLNVAL. */
static void expect_pollin(struct pollfd *p, unsigned want)
{
	assert_int_equal(us_poll(p, P_N, 0), __builtin_popcount(want) + 1);
	for (int i = 0; i < P_N; i++) {
		short rev = (want & (1u << i)) ? POLLIN : 0;

		if (i == P_CLOSED)
			rev = POLLNVAL;
		assert_int_equal(p[i].revents, rev);
	}
}

static void test_poll_mixed(void **state)
{
	struct pollfd p[P_N];

	SKIP_WITHOUT_NETNS();
	poll_set(p, POLLIN);
	/* A negative fd is ignored, and its revents cleared. */
	expect_pollin(p, 0);
	rd_make_ready(&F, F.pipe_r);
	rd_make_ready(&F, F.ua);
	expect_pollin(p, 1u << P_PIPE | 1u << P_UA);
	rd_make_ready(&F, F.ka);
	rd_make_ready(&F, F.ub);
	expect_pollin(p, 1u << P_PIPE | 1u << P_KA | 1u << P_UA | 1u << P_UB);
	rd_drain(F.pipe_r);
	rd_drain(F.ub);
	expect_pollin(p, 1u << P_KA | 1u << P_UA);
	rd_drain(F.ka);
	rd_drain(F.ua);
	expect_pollin(p, 0);
}

/* More entries than fit on the stack, and the same socket many times. */
static void test_poll_large_set(void **state)
{
	struct pollfd p[100];

	for (int i = 0; i < 100; i++)
		p[i] = (struct pollfd){ .fd = i % 2 ? F.ua : F.pipe_r,
					.events = POLLIN };
	assert_int_equal(us_poll(p, 100, 0), 0);
	rd_make_ready(&F, F.ua);
	assert_int_equal(us_poll(p, 100, 0), 50);
	for (int i = 0; i < 100; i++)
		assert_int_equal(p[i].revents, i % 2 ? POLLIN : 0);
}

/* ---- masks compared with the kernel's ----------------------------------- */

/* ua and ka polled for `events` in one call: the same revents. */
static short same_revents(short events)
{
	struct pollfd p[2] = { { .fd = F.ua, .events = events },
			       { .fd = F.ka, .events = events } };

	us_poll(p, 2, 0);
	assert_int_equal(p[0].revents, p[1].revents);
	return p[0].revents;
}

#define ALL_EVENTS (POLLIN | POLLPRI | POLLOUT | POLLRDNORM | POLLWRNORM | \
		    POLLRDHUP)

static void test_masks_match_kernel_shutdown(void **state)
{
	SKIP_WITHOUT_NETNS();
	assert_int_equal(same_revents(ALL_EVENTS), POLLOUT | POLLWRNORM);
	assert_int_equal(same_revents(0), 0);
	rd_make_ready(&F, F.ua);
	rd_make_ready(&F, F.ka);
	assert_int_equal(same_revents(ALL_EVENTS),
			 POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM);
	rd_drain(F.ua);
	rd_drain(F.ka);
	SAME(us_shutdown(F.ua, SHUT_RD), shutdown(F.ka, SHUT_RD));
	assert_int_equal(same_revents(ALL_EVENTS), POLLIN | POLLRDNORM |
			 POLLOUT | POLLWRNORM | POLLRDHUP);
	/* POLLRDHUP only when asked for. */
	assert_int_equal(same_revents(POLLIN), POLLIN);
	SAME(us_shutdown(F.ua, SHUT_RDWR), shutdown(F.ka, SHUT_RDWR));
	/* POLLHUP whether asked for or not. */
	assert_int_equal(same_revents(0), POLLHUP);
	assert_int_equal(same_revents(ALL_EVENTS), POLLIN | POLLRDNORM |
			 POLLOUT | POLLWRNORM | POLLRDHUP | POLLHUP);
}

static struct sockaddr_in closed_port(bool kernel)
{
	struct sockaddr_in sin;
	int fd = kernel ? rd_kernel_udp(&sin) : rd_us_udp(F.st, &sin);

	us_close(fd);
	return sin;
}

/* Connect ua and ka to ports nobody listens on and send: both get the
 * ICMP port unreachable as a pending error. */
static void refuse_both(void)
{
	struct sockaddr_in ku = closed_port(true), uu = closed_port(false);

	assert_int_equal(us_connect(F.ua, (struct sockaddr *)&uu, sizeof(uu)), 0);
	assert_int_equal(connect(F.ka, (struct sockaddr *)&ku, sizeof(ku)), 0);
	assert_int_equal(us_send(F.ua, "x", 1, 0), 1);
	assert_int_equal(send(F.ka, "x", 1, 0), 1);
	assert_true(rd_kernel_wait(F.ka, POLLERR));
}

static void test_masks_match_kernel_error(void **state)
{
	char buf[4];

	SKIP_WITHOUT_NETNS();
	refuse_both();
	/* POLLERR whether asked for or not. */
	assert_int_equal(same_revents(0), POLLERR);
	assert_int_equal(same_revents(POLLIN), POLLERR);
	assert_int_equal(same_revents(ALL_EVENTS),
			 POLLERR | POLLOUT | POLLWRNORM);
	SAME(us_recv(F.ua, buf, sizeof(buf), 0), recv(F.ka, buf, sizeof(buf), 0));
	assert_int_equal(same_revents(POLLIN), 0);
}

/* ---- select ------------------------------------------------------------- */

static int maxfd(void)
{
	int fds[] = { F.pipe_r, F.ka, F.ua, F.ub }, m = 0;

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] > m)
			m = fds[i];
	return m + 1;
}

struct sel {
	fd_set r, w, e;
};

static void sel_all(struct sel *s, bool r, bool w, bool e)
{
	int fds[] = { F.pipe_r, F.ka, F.ua, F.ub };

	FD_ZERO(&s->r);
	FD_ZERO(&s->w);
	FD_ZERO(&s->e);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (r)
			FD_SET(fds[i], &s->r);
		if (w && fds[i] != F.pipe_r)
			FD_SET(fds[i], &s->w);
		if (e)
			FD_SET(fds[i], &s->e);
	}
}

static int sel_now(struct sel *s)
{
	struct timeval tv = { 0, 0 };

	return us_select(maxfd(), &s->r, &s->w, &s->e, &tv);
}

static void test_select_mixed(void **state)
{
	struct sel s;

	SKIP_WITHOUT_NETNS();
	sel_all(&s, true, false, true);
	assert_int_equal(sel_now(&s), 0);
	/* Rewritten: nothing left set in any of them. */
	for (int fd = 0; fd < maxfd(); fd++)
		assert_false(FD_ISSET(fd, &s.r) || FD_ISSET(fd, &s.w) ||
			     FD_ISSET(fd, &s.e));
	rd_make_ready(&F, F.pipe_r);
	rd_make_ready(&F, F.ua);
	sel_all(&s, true, false, true);
	assert_int_equal(sel_now(&s), 2);
	assert_true(FD_ISSET(F.pipe_r, &s.r));
	assert_true(FD_ISSET(F.ua, &s.r));
	assert_false(FD_ISSET(F.ka, &s.r));
	assert_false(FD_ISSET(F.ub, &s.r));
	/* Each bit counts: UDP sockets are writable, so 2 + 3. */
	sel_all(&s, true, true, true);
	assert_int_equal(sel_now(&s), 5);
	assert_true(FD_ISSET(F.ua, &s.w) && FD_ISSET(F.ub, &s.w) &&
		    FD_ISSET(F.ka, &s.w));
	assert_false(FD_ISSET(F.ua, &s.e));
	/* NULL sets are empty sets. */
	FD_ZERO(&s.r);
	FD_SET(F.ka, &s.r);
	rd_make_ready(&F, F.ka);
	assert_int_equal(us_select(maxfd(), &s.r, NULL, NULL,
				   &(struct timeval){ 0, 0 }), 1);
	assert_true(FD_ISSET(F.ka, &s.r));
}

/* select's mapping, on a ustack socket and a kernel one alike: hang-up
 * reads as readable, an error as readable and writable, neither as an
 * exception. */
static void select_both(bool *r_u, bool *w_u, bool *e_u)
{
	struct sel s;

	FD_ZERO(&s.r);
	FD_ZERO(&s.w);
	FD_ZERO(&s.e);
	FD_SET(F.ua, &s.r);
	FD_SET(F.ka, &s.r);
	FD_SET(F.ua, &s.e);
	FD_SET(F.ka, &s.e);
	sel_now(&s);
	assert_int_equal(FD_ISSET(F.ua, &s.r), FD_ISSET(F.ka, &s.r));
	assert_int_equal(FD_ISSET(F.ua, &s.e), FD_ISSET(F.ka, &s.e));
	*r_u = FD_ISSET(F.ua, &s.r);
	*e_u = FD_ISSET(F.ua, &s.e);
	FD_ZERO(&s.w);
	FD_SET(F.ua, &s.w);
	FD_SET(F.ka, &s.w);
	us_select(maxfd(), NULL, &s.w, NULL, &(struct timeval){ 0, 0 });
	assert_int_equal(FD_ISSET(F.ua, &s.w), FD_ISSET(F.ka, &s.w));
	*w_u = FD_ISSET(F.ua, &s.w);
}

static void test_select_mapping_matches_kernel(void **state)
{
	bool r, w, e;
	char buf[4];

	SKIP_WITHOUT_NETNS();
	select_both(&r, &w, &e);
	assert_true(!r && w && !e);
	us_shutdown(F.ua, SHUT_RDWR);
	shutdown(F.ka, SHUT_RDWR);
	select_both(&r, &w, &e);
	assert_true(r && w && !e);
	/* A pending error, on a fresh pair. */
	rd_fix_destroy(&F);
	rd_fix_init(&F, false);
	refuse_both();
	select_both(&r, &w, &e);
	assert_true(r && w && !e);
	SAME(us_recv(F.ua, buf, sizeof(buf), 0), recv(F.ka, buf, sizeof(buf), 0));
}

static void test_select_errors(void **state)
{
	struct timeval tv = { 0, 0 };
	fd_set r, keep;
	int closed = closed_fd();

	EXPECT_ERR(us_select(-1, NULL, NULL, NULL, &tv), EINVAL);
	tv = (struct timeval){ -1, 0 };
	EXPECT_ERR(us_select(0, NULL, NULL, NULL, &tv), EINVAL);
	tv = (struct timeval){ 0, -1 };
	EXPECT_ERR(us_select(0, NULL, NULL, NULL, &tv), EINVAL);
	/* tv_usec of a second or more is normalized, not refused. */
	tv = (struct timeval){ 0, 1000000 };
	FD_ZERO(&r);
	FD_SET(F.ua, &r);
	rd_make_ready(&F, F.ua);
	assert_int_equal(us_select(F.ua + 1, &r, NULL, NULL, &tv), 1);
	assert_true(tv.tv_usec < 1000000);
	/* A closed descriptor in a set: EBADF, the sets left as they were,
	 * even with a ustack socket ready in them (and one not ready). */
	FD_ZERO(&r);
	FD_SET(F.ua, &r);
	FD_SET(F.ub, &r);
	FD_SET(closed, &r);
	keep = r;
	tv = (struct timeval){ 0, 0 };
	EXPECT_ERR(us_select((closed > maxfd() ? closed : maxfd()) + 1, &r,
			     NULL, NULL, &tv), EBADF);
	assert_memory_equal(&r, &keep, sizeof(r));
	/* A ustack socket's number after it closed is closed too. */
	closed = F.ub;
	us_close(F.ub);
	F.ub = -1;
	FD_ZERO(&r);
	FD_SET(closed, &r);
	EXPECT_ERR(us_select(closed + 1, &r, NULL, NULL, &tv), EBADF);
	SAME(us_pselect(closed + 1, &r, NULL, NULL,
			&(struct timespec){ 0, 1000000000L }, NULL),
	     pselect(closed + 1, &r, NULL, NULL,
		     &(struct timespec){ 0, 1000000000L }, NULL));
	/* Beyond nfds nothing is looked at. */
	FD_ZERO(&r);
	FD_SET(closed, &r);
	assert_int_equal(us_select(closed, &r, NULL, NULL, &tv), 0);
}

/*
 * A count far past FD_SETSIZE with sets of FD_SETSIZE bits (a program
 * passing getdtablesize()): Linux reads and writes no further than its
 * descriptor table, and so must we: nothing past the sets is touched
 * (ASan reports the overrun too), and the answer is the kernel's.
 */
static void test_select_huge_nfds(void **state)
{
	struct {
		fd_set r;
		unsigned char after[256];
	} s, k;
	struct timeval tv = { 0, 0 };
	int n = 1 << 20;

	(void)state;
	memset(&s, 0xa5, sizeof(s));
	FD_ZERO(&s.r);
	FD_SET(F.ua, &s.r);
	rd_make_ready(&F, F.ua);
	assert_int_equal(us_select(n, &s.r, NULL, NULL, &tv), 1);
	assert_true(FD_ISSET(F.ua, &s.r));
	for (size_t i = 0; i < sizeof(s.after); i++)
		assert_int_equal(s.after[i], 0xa5);
	/* The kernel's own answer to the same count, for comparison. */
	memset(&k, 0xa5, sizeof(k));
	FD_ZERO(&k.r);
	FD_SET(0, &k.r);
	(void)select(n, &k.r, NULL, NULL, &tv);
	for (size_t i = 0; i < sizeof(k.after); i++)
		assert_int_equal(k.after[i], 0xa5);
}

static void test_poll_errors(void **state)
{
	struct pollfd *volatile none = NULL;
	struct pollfd p = { .fd = F.ua, .events = POLLIN };
	struct rlimit rl;

	SAME(us_poll(none, 1, 0), poll(none, 1, 0));
	assert_int_equal(us_poll(none, 0, 0), 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	/* (The kernel asked directly: ASan's poll() would read the array.) */
	SAME(us_poll(&p, (nfds_t)rl.rlim_cur + 1, 0),
	     (int)syscall(SYS_ppoll, &p, (nfds_t)rl.rlim_cur + 1,
			  &(struct timespec){ 0, 0 }, NULL, 0));
	EXPECT_ERR(us_ppoll(&p, 1, &(struct timespec){ -1, 0 }, NULL), EINVAL);
	EXPECT_ERR(us_ppoll(&p, 1, &(struct timespec){ 0, 1000000000L }, NULL),
		   EINVAL);
	EXPECT_ERR(us_ppoll(&p, 1, &(struct timespec){ 0, -1 }, NULL), EINVAL);
	assert_int_equal(us_ppoll(&p, 1, &(struct timespec){ 0, 0 }, NULL), 0);
}

/* ---- blocking ----------------------------------------------------------- */

struct waker {
	pthread_t thread;
	int fd;
	bool close;             /* close fd instead of making it ready */
	atomic_int go;
};

static void *waker_main(void *arg)
{
	struct waker *w = arg;

	while (!atomic_load(&w->go))
		usleep(1000);
	/* Give the caller time to fall asleep; nothing is measured. */
	usleep(20000);
	if (w->close)
		us_close(w->fd);
	else
		rd_make_ready(&F, w->fd);
	return NULL;
}

static void start_waker(struct waker *w, int fd, bool close_it)
{
	w->fd = fd;
	w->close = close_it;
	atomic_init(&w->go, 1);
	assert_int_equal(pthread_create(&w->thread, NULL, waker_main, w), 0);
}

/* A blocking poll on the mixed set, woken by fd (made ready by a thread):
 * exactly that entry reported. */
static void poll_woken_by(int fd)
{
	struct pollfd p[4] = {
		{ .fd = F.pipe_r, .events = POLLIN },
		{ .fd = F.ka, .events = POLLIN },
		{ .fd = F.ua, .events = POLLIN },
		{ .fd = F.ub, .events = POLLIN },
	};
	struct waker w;
	int n;

	start_waker(&w, fd, false);
	n = us_poll(p, 4, RD_HANG_GUARD_MS);
	pthread_join(w.thread, NULL);
	assert_int_equal(n, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(p[i].revents, p[i].fd == fd ? POLLIN : 0);
	rd_drain(fd);
}

static void test_poll_blocks_until_ready(void **state)
{
	SKIP_WITHOUT_NETNS();
	poll_woken_by(F.ua);
	poll_woken_by(F.pipe_r);
	poll_woken_by(F.ka);
	poll_woken_by(F.ub);
}

static void test_select_blocks_until_ready(void **state)
{
	struct timeval tv = { RD_HANG_GUARD_MS / 1000, 0 };
	struct waker w;
	fd_set r;

	FD_ZERO(&r);
	FD_SET(F.pipe_r, &r);
	FD_SET(F.ua, &r);
	FD_SET(F.ub, &r);
	start_waker(&w, F.ub, false);
	assert_int_equal(us_select(maxfd(), &r, NULL, NULL, &tv), 1);
	pthread_join(w.thread, NULL);
	assert_true(FD_ISSET(F.ub, &r));
	assert_false(FD_ISSET(F.ua, &r) || FD_ISSET(F.pipe_r, &r));
	/* The time left is written back: less than given, more than none. */
	assert_true(tv.tv_sec < RD_HANG_GUARD_MS / 1000);
	assert_true(tv.tv_sec > 0 || tv.tv_usec > 0);
	assert_true(tv.tv_usec >= 0 && tv.tv_usec < 1000000);

	FD_ZERO(&r);
	FD_SET(F.pipe_r, &r);
	FD_SET(F.ua, &r);
	start_waker(&w, F.pipe_r, false);
	assert_int_equal(us_select(maxfd(), &r, NULL, NULL, NULL), 1);
	pthread_join(w.thread, NULL);
	assert_true(FD_ISSET(F.pipe_r, &r) && !FD_ISSET(F.ua, &r));
}

struct two_steps {
	pthread_t thread;
	atomic_int step;        /* 1 once the first shutdown is done */
};

static void *two_steps_main(void *arg)
{
	struct two_steps *t = arg;

	usleep(20000);
	us_shutdown(F.ua, SHUT_RD);
	atomic_store(&t->step, 1);
	usleep(20000);
	us_shutdown(F.ua, SHUT_RDWR);
	return NULL;
}

/*
 * A wake-up that finds nothing (SHUT_RD wakes pollers with POLLHUP among
 * its events, but a UDP socket only hangs up at SHUT_RDWR) must leave the
 * call able to wake again: it sleeps on, and the real hang-up wakes it.
 */
static void test_poll_wakes_again_after_spurious(void **state)
{
	struct pollfd p = { .fd = F.ua, .events = POLLPRI };
	struct two_steps t;

	atomic_init(&t.step, 0);
	assert_int_equal(pthread_create(&t.thread, NULL, two_steps_main, &t),
			 0);
	assert_int_equal(us_poll(&p, 1, RD_HANG_GUARD_MS), 1);
	assert_int_equal(atomic_load(&t.step), 1);
	pthread_join(t.thread, NULL);
	assert_int_equal(p.revents, POLLHUP);
}

/* Closed by another thread while a poll sleeps on it: the poll wakes and
 * reports POLLNVAL (ustack tears a socket down at close, so there is
 * nothing left to wait for). */
static void test_close_during_poll(void **state)
{
	struct pollfd p = { .fd = F.ua, .events = POLLIN };
	struct waker w;

	start_waker(&w, F.ua, true);
	assert_int_equal(us_poll(&p, 1, RD_HANG_GUARD_MS), 1);
	pthread_join(w.thread, NULL);
	F.ua = -1;
	assert_int_equal(p.revents, POLLNVAL);
}

static void test_timeouts(void **state)
{
	struct pollfd p[2] = { { .fd = F.ua, .events = POLLIN },
			       { .fd = F.pipe_r, .events = POLLIN } };
	struct timeval tv = { 0, 30000 };
	fd_set r;
	int64_t t0 = now_ms();

	assert_int_equal(us_poll(p, 2, 30), 0);
	assert_true(now_ms() - t0 >= 30);
	/* ustack sockets only. */
	t0 = now_ms();
	assert_int_equal(us_poll(p, 1, 20), 0);
	assert_true(now_ms() - t0 >= 20);
	t0 = now_ms();
	assert_int_equal(us_ppoll(p, 2, &(struct timespec){ 0, 20000000 },
				  NULL), 0);
	assert_true(now_ms() - t0 >= 20);
	FD_ZERO(&r);
	FD_SET(F.ua, &r);
	FD_SET(F.pipe_r, &r);
	t0 = now_ms();
	assert_int_equal(us_select(maxfd(), &r, NULL, NULL, &tv), 0);
	assert_true(now_ms() - t0 >= 30);
	/* Timed out: nothing left, and the sets cleared. */
	assert_int_equal(tv.tv_sec, 0);
	assert_int_equal(tv.tv_usec, 0);
	assert_false(FD_ISSET(F.ua, &r) || FD_ISSET(F.pipe_r, &r));
	/* Nothing at all to wait for: a sleep. */
	t0 = now_ms();
	assert_int_equal(us_poll(NULL, 0, 20), 0);
	assert_true(now_ms() - t0 >= 20);
}

/* ---- signal masks ------------------------------------------------------- */

static atomic_int usr1_caught;

static void on_usr1(int sig)
{
	atomic_fetch_add(&usr1_caught, 1);
}

/*
 * ppoll and pselect apply their mask while they sleep: a signal the mask
 * lets in interrupts them (EINTR), but when something is ready the answer
 * wins and the signal stays pending, as the kernel does.
 */
static void test_sigmask(void **state)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	/* A kernel descriptor too, so that the kernel is asked each time. */
	struct pollfd p[2] = { { .fd = F.ua, .events = POLLIN },
			       { .fd = F.pipe_r, .events = POLLIN } };
	sigset_t block, old, none;
	fd_set r;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&none);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	raise(SIGUSR1);
	rd_make_ready(&F, F.ua);
	assert_int_equal(us_ppoll(p, 2, NULL, &none), 1);
	FD_ZERO(&r);
	FD_SET(F.ua, &r);
	FD_SET(F.pipe_r, &r);
	assert_int_equal(us_pselect(maxfd(), &r, NULL, NULL, NULL, &none), 1);
	assert_int_equal(atomic_load(&usr1_caught), 0);
	rd_drain(F.ua);
	EXPECT_ERR(us_ppoll(p, 2, NULL, &none), EINTR);
	assert_int_equal(atomic_load(&usr1_caught), 1);
	raise(SIGUSR1);
	FD_SET(F.ua, &r);
	FD_SET(F.pipe_r, &r);
	EXPECT_ERR(us_pselect(maxfd(), &r, NULL, NULL, NULL, &none), EINTR);
	assert_int_equal(atomic_load(&usr1_caught), 2);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_poll_mixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_large_set, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_masks_match_kernel_shutdown,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_masks_match_kernel_error,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_mixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_mapping_matches_kernel,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_errors, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_select_huge_nfds, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_poll_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_poll_blocks_until_ready,
						setup_started, teardown),
		cmocka_unit_test_setup_teardown(test_select_blocks_until_ready,
						setup_started, teardown),
		cmocka_unit_test_setup_teardown(test_poll_wakes_again_after_spurious,
						setup_started, teardown),
		cmocka_unit_test_setup_teardown(test_close_during_poll,
						setup_started, teardown),
		cmocka_unit_test_setup_teardown(test_timeouts, setup_started,
						teardown),
		cmocka_unit_test_setup_teardown(test_sigmask, setup, teardown),
	};

	int failed;

	rd_netns_setup();
	failed = cmocka_run_group_tests(tests, NULL, NULL);
	if (failed || !rd_netns_why[0])
		return failed;
	/* The tests with a kernel socket did not run: say so, as a skip
	 * whose reason is the last line (the runner's convention). */
	printf("tests with a kernel UDP socket skipped: %s\n", rd_netns_why);
	return 77;
}
