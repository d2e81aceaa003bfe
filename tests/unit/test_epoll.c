/*
 * test_epoll.c - us_epoll_create1/us_epoll_ctl/us_epoll_wait
 * (src/socket/epoll.c) on sets that mix a pipe, a kernel UDP socket and
 * ustack UDP sockets.
 *
 * The process enters a network namespace of its own first (tests/lib/
 * netns.c), so its kernel UDP socket lives on a private loopback; without
 * one the tests that need it are skipped with the reason. Wherever the
 * kernel can answer the same question (the same operation on a kernel
 * socket, or on a kernel epoll), the test asks it and expects ustack's
 * answer to match: event masks, return values, errno.
 *
 * Timeouts are hang guards; the only time measured is that a wait which
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
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "lib/rdfix.h"
#include "socket/epoll.h"
#include "socket/socket.h"
#include "ustack/ustack.h"

/* Event data: which descriptor of the fixture. */
enum { ID_PIPE, ID_KA, ID_UA, ID_UB, ID_OTHER, NIDS };

#define SKIP_WITHOUT_NETNS() \
	do { \
		if (rd_netns_why[0]) { \
			print_message("skipped: %s\n", rd_netns_why); \
			skip(); \
		} \
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

static int fix_fd(int id)
{
	switch (id) {
	case ID_PIPE: return F.pipe_r;
	case ID_KA: return F.ka;
	case ID_UA: return F.ua;
	case ID_UB: return F.ub;
	}
	fail();
	return -1;
}

static void add(int ep, int fd, uint32_t events, int id)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)id };

	assert_int_equal(us_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
}

static void mod(int ep, int fd, uint32_t events, int id)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)id };

	assert_int_equal(us_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), 0);
}

/* One set with the four fixture descriptors, all with `events`. */
static int mixed_set(uint32_t events)
{
	int ep = us_epoll_create1(EPOLL_CLOEXEC);

	assert_true(ep >= 0);
	for (int id = ID_PIPE; id <= ID_UB; id++)
		add(ep, fix_fd(id), events, id);
	return ep;
}

/*
 * epoll_wait once (timeout_ms) and file the events by id: got[id] is the
 * mask (0 = not reported). Each id at most once. Returns the count.
 */
static int wait_ids(int ep, uint32_t got[NIDS], int timeout_ms)
{
	struct epoll_event evs[NIDS + 2];
	int n = us_epoll_wait(ep, evs, NIDS + 2, timeout_ms);

	assert_true(n >= 0);
	memset(got, 0, NIDS * sizeof(got[0]));
	for (int i = 0; i < n; i++) {
		uint64_t id = evs[i].data.u64;

		assert_true(id < NIDS);
		assert_int_equal(got[id], 0);
		got[id] = evs[i].events;
		assert_int_not_equal(got[id], 0);
	}
	return n;
}

/* Exactly the ids in `want` (a bit per id) reported, each with `mask`. */
static void expect_ready(int ep, unsigned want, uint32_t mask)
{
	uint32_t got[NIDS];
	int n = wait_ids(ep, got, 0);

	assert_int_equal(n, __builtin_popcount(want));
	for (int id = 0; id < NIDS; id++)
		assert_int_equal(got[id], (want & (1u << id)) ? mask : 0);
}

#define BIT(id) (1u << (id))
#define ALL4 (BIT(ID_PIPE) | BIT(ID_KA) | BIT(ID_UA) | BIT(ID_UB))

/* ---- the check: exactly the ready ones, LT and ET --------------- */

static void test_level_triggered(void **state)
{
	int ep;

	SKIP_WITHOUT_NETNS();
	ep = mixed_set(EPOLLIN);
	expect_ready(ep, 0, 0);
	rd_make_ready(&F, F.pipe_r);
	rd_make_ready(&F, F.ua);
	expect_ready(ep, BIT(ID_PIPE) | BIT(ID_UA), EPOLLIN);
	/* Level-triggered: still ready, so reported again, and again. */
	expect_ready(ep, BIT(ID_PIPE) | BIT(ID_UA), EPOLLIN);
	expect_ready(ep, BIT(ID_PIPE) | BIT(ID_UA), EPOLLIN);
	rd_make_ready(&F, F.ka);
	rd_make_ready(&F, F.ub);
	expect_ready(ep, ALL4, EPOLLIN);
	rd_drain(F.pipe_r);
	rd_drain(F.ua);
	expect_ready(ep, BIT(ID_KA) | BIT(ID_UB), EPOLLIN);
	rd_drain(F.ka);
	rd_drain(F.ub);
	expect_ready(ep, 0, 0);
	assert_int_equal(us_close(ep), 0);
}

static void test_edge_triggered(void **state)
{
	int ep;

	SKIP_WITHOUT_NETNS();
	ep = mixed_set(EPOLLIN | EPOLLET);
	rd_make_ready(&F, F.pipe_r);
	rd_make_ready(&F, F.ka);
	rd_make_ready(&F, F.ua);
	expect_ready(ep, BIT(ID_PIPE) | BIT(ID_KA) | BIT(ID_UA), EPOLLIN);
	/* Still readable, but nothing new: nothing reported. */
	expect_ready(ep, 0, 0);
	/* A new arrival is a new event, on either kind of descriptor. */
	rd_make_ready(&F, F.ua);
	expect_ready(ep, BIT(ID_UA), EPOLLIN);
	rd_make_ready(&F, F.ka);
	rd_make_ready(&F, F.pipe_r);
	rd_make_ready(&F, F.ub);
	expect_ready(ep, BIT(ID_PIPE) | BIT(ID_KA) | BIT(ID_UB), EPOLLIN);
	expect_ready(ep, 0, 0);
	/* EPOLL_CTL_MOD looks again, and reports what is ready (as Linux). */
	mod(ep, F.ua, EPOLLIN | EPOLLET, ID_UA);
	mod(ep, F.ka, EPOLLIN | EPOLLET, ID_KA);
	expect_ready(ep, BIT(ID_KA) | BIT(ID_UA), EPOLLIN);
	expect_ready(ep, 0, 0);
	us_close(ep);
}

static void test_oneshot(void **state)
{
	int ep;

	SKIP_WITHOUT_NETNS();
	ep = mixed_set(EPOLLIN | EPOLLONESHOT);
	for (int id = ID_PIPE; id <= ID_UB; id++)
		rd_make_ready(&F, fix_fd(id));
	expect_ready(ep, ALL4, EPOLLIN);
	/* Disabled after one report, whatever happens next. */
	expect_ready(ep, 0, 0);
	for (int id = ID_PIPE; id <= ID_UB; id++)
		rd_make_ready(&F, fix_fd(id));
	expect_ready(ep, 0, 0);
	/* Until EPOLL_CTL_MOD arms it again. */
	for (int id = ID_PIPE; id <= ID_UB; id++)
		mod(ep, fix_fd(id), EPOLLIN | EPOLLONESHOT, id);
	expect_ready(ep, ALL4, EPOLLIN);
	expect_ready(ep, 0, 0);
	/* A disabled item is still in the set: ADD again is EEXIST. */
	assert_int_equal(us_epoll_ctl(ep, EPOLL_CTL_ADD, F.ua,
				      &(struct epoll_event){ .events = EPOLLIN }),
			 -1);
	assert_int_equal(errno, EEXIST);
	us_close(ep);
}

/* ---- masks compared with the kernel's ----------------------------------- */

/* Report ustack socket u and kernel socket k, in one set, with the same
 * interest; both must be reported with the same mask, which is returned. */
static uint32_t same_mask(int ep)
{
	uint32_t got[NIDS];

	wait_ids(ep, got, 0);
	assert_int_equal(got[ID_UA], got[ID_KA]);
	return got[ID_UA];
}

static void test_rdhup_hup_after_shutdown(void **state)
{
	uint32_t want = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
	int ep, rc_k, rc_u, err_k, err_u;

	SKIP_WITHOUT_NETNS();
	ep = us_epoll_create1(0);
	add(ep, F.ua, want, ID_UA);
	add(ep, F.ka, want, ID_KA);
	/* ub and ksend: no interest at all, so only ERR/HUP can show. */
	add(ep, F.ub, 0, ID_UB);
	add(ep, F.ksend, 0, ID_PIPE);
	assert_int_equal(same_mask(ep), EPOLLOUT);

	/* Unconnected: ENOTCONN, but the shutdown is recorded (as Linux). */
	rc_u = us_shutdown(F.ua, SHUT_RD);
	err_u = errno;
	rc_k = shutdown(F.ka, SHUT_RD);
	err_k = errno;
	assert_int_equal(rc_u, rc_k);
	assert_int_equal(err_u, err_k);
	assert_int_equal(same_mask(ep), EPOLLIN | EPOLLOUT | EPOLLRDHUP);

	us_shutdown(F.ua, SHUT_RDWR);
	shutdown(F.ka, SHUT_RDWR);
	assert_int_equal(same_mask(ep),
			 EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLHUP);

	/* EPOLLHUP is reported without being asked for. */
	us_shutdown(F.ub, SHUT_RDWR);
	shutdown(F.ksend, SHUT_RDWR);
	{
		uint32_t got[NIDS];

		wait_ids(ep, got, 0);
		assert_int_equal(got[ID_UB], EPOLLHUP);
		assert_int_equal(got[ID_PIPE], EPOLLHUP);
	}
	/* EPOLLRDHUP only when asked for. */
	mod(ep, F.ua, EPOLLIN, ID_UA);
	mod(ep, F.ka, EPOLLIN, ID_KA);
	assert_int_equal(same_mask(ep), EPOLLIN | EPOLLHUP);
	us_close(ep);
}

/* A port nobody listens on, in ustack or in the kernel. */
static struct sockaddr_in closed_port(bool kernel)
{
	struct sockaddr_in sin;
	int fd = kernel ? rd_kernel_udp(&sin) : rd_us_udp(F.st, &sin);

	us_close(fd);
	return sin;
}

static void test_err_after_port_unreachable(void **state)
{
	struct sockaddr_in ku, uu;
	char buf[8];
	int ep;

	SKIP_WITHOUT_NETNS();
	ku = closed_port(true);
	uu = closed_port(false);
	ep = us_epoll_create1(0);
	add(ep, F.ua, EPOLLIN, ID_UA);
	add(ep, F.ka, EPOLLIN, ID_KA);
	assert_int_equal(us_connect(F.ua, (struct sockaddr *)&uu, sizeof(uu)), 0);
	assert_int_equal(connect(F.ka, (struct sockaddr *)&ku, sizeof(ku)), 0);
	assert_int_equal(us_send(F.ua, "x", 1, 0), 1);
	assert_int_equal(send(F.ka, "x", 1, 0), 1);
	/* The ICMP error comes back to ustack before us_send returns. */
	assert_true(rd_kernel_wait(F.ka, POLLERR));
	/* EPOLLERR without being asked for, on both. */
	assert_int_equal(same_mask(ep), EPOLLERR);
	assert_int_equal(same_mask(ep), EPOLLERR);
	/* The next call reports and clears it; then nothing is left. */
	assert_int_equal(us_recv(F.ua, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, ECONNREFUSED);
	assert_int_equal(recv(F.ka, buf, sizeof(buf), 0), -1);
	assert_int_equal(errno, ECONNREFUSED);
	expect_ready(ep, 0, 0);
	us_close(ep);
}

/* ---- closing ------------------------------------------------------------ */

static void test_close_removes_socket(void **state)
{
	struct sockaddr_in sin;
	int ep = us_epoll_create1(0), ep2 = us_epoll_create1(0);
	int old_fd = F.ua, fd;
	uint32_t got[NIDS];

	add(ep, F.ua, EPOLLIN, ID_UA);
	add(ep, F.ub, EPOLLIN, ID_UB);
	add(ep2, F.ua, EPOLLIN | EPOLLET, ID_UA);
	rd_make_ready(&F, F.ua);
	rd_make_ready(&F, F.ub);
	/* ua is on both ready lists when it closes. */
	assert_int_equal(us_close(F.ua), 0);
	F.ua = -1;
	expect_ready(ep, BIT(ID_UB), EPOLLIN);
	assert_int_equal(wait_ids(ep2, got, 0), 0);
	/* Gone from the set: the number is no descriptor now. */
	assert_int_equal(us_epoll_ctl(ep, EPOLL_CTL_DEL, old_fd, NULL), -1);
	assert_int_equal(errno, EBADF);
	/* A new socket that gets the same number is not in the set. */
	fd = rd_us_udp(F.st, &sin);
	if (fd == old_fd) {
		rd_us_send(F.st, &sin);
		expect_ready(ep, BIT(ID_UB), EPOLLIN);
		assert_int_equal(us_epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL), -1);
		assert_int_equal(errno, ENOENT);
	}
	us_close(fd);
	us_close(ep2);
	us_close(ep);
}

static void test_close_epoll_with_items(void **state)
{
	char buf[8];
	int ep = us_epoll_create1(0);

	add(ep, F.ua, EPOLLIN, ID_UA);
	add(ep, F.pipe_r, EPOLLIN, ID_PIPE);
	rd_make_ready(&F, F.ua);
	expect_ready(ep, BIT(ID_UA), EPOLLIN);
	assert_int_equal(us_close(ep), 0);
	/* The instance is gone: its number is closed, its items unhooked. */
	assert_int_equal(us_epoll_wait(ep, (struct epoll_event[1]){ 0 }, 1, 0),
			 -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(fcntl(ep, F_GETFD), -1);
	rd_make_ready(&F, F.ua);
	assert_int_equal(us_recv(F.ua, buf, sizeof(buf), 0), 1);
	assert_int_equal(us_close(F.ua), 0);
	F.ua = -1;
}

/* A whole stack destroyed under a set: its sockets leave the set. */
static void test_stack_destroyed_under_set(void **state)
{
	struct ustack *st2 = ustack_create(NULL);
	struct sockaddr_in sin;
	int ep = us_epoll_create1(0), fd;

	assert_non_null(st2);
	fd = rd_us_udp(st2, &sin);
	add(ep, fd, EPOLLIN, ID_OTHER);
	add(ep, F.ua, EPOLLIN, ID_UA);
	rd_us_send(st2, &sin);
	rd_make_ready(&F, F.ua);
	expect_ready(ep, BIT(ID_OTHER) | BIT(ID_UA), EPOLLIN);
	ustack_destroy(st2);
	expect_ready(ep, BIT(ID_UA), EPOLLIN);
	us_close(ep);
}

/* ---- waiting ------------------------------------------------------------ */

struct waker {
	pthread_t thread;
	int fd;                 /* what to make ready */
	atomic_int go;          /* set by the waiter just before it waits */
};

static void *waker_main(void *arg)
{
	struct waker *w = arg;

	while (!atomic_load(&w->go))
		usleep(1000);
	/* Give the waiter time to fall asleep; nothing is measured. */
	usleep(20000);
	rd_make_ready(&F, w->fd);
	return NULL;
}

static void start_waker(struct waker *w, int fd)
{
	w->fd = fd;
	atomic_init(&w->go, 0);
	assert_int_equal(pthread_create(&w->thread, NULL, waker_main, w), 0);
}

/* A blocking wait on a set where nothing is ready wakes for fd, made
 * ready by another thread, and reports exactly it. */
static void blocking_wait_woken_by(int ep, int id)
{
	struct epoll_event ev[NIDS];
	struct waker w;
	int n;

	start_waker(&w, fix_fd(id));
	atomic_store(&w.go, 1);
	n = us_epoll_wait(ep, ev, NIDS, RD_HANG_GUARD_MS);
	pthread_join(w.thread, NULL);
	assert_int_equal(n, 1);
	assert_int_equal(ev[0].data.u64, id);
	assert_int_equal(ev[0].events, EPOLLIN);
	rd_drain(fix_fd(id));
}

static void test_blocking_wait_woken(void **state)
{
	int ep;

	SKIP_WITHOUT_NETNS();
	ep = mixed_set(EPOLLIN);
	blocking_wait_woken_by(ep, ID_UA);
	blocking_wait_woken_by(ep, ID_PIPE);
	blocking_wait_woken_by(ep, ID_KA);
	blocking_wait_woken_by(ep, ID_UB);
	us_close(ep);
}

/* Only ustack sockets in the set: the sleep is on the instance's eventfd. */
static void test_blocking_wait_ustack_only(void **state)
{
	int ep = us_epoll_create1(0);

	add(ep, F.ua, EPOLLIN | EPOLLET, ID_UA);
	blocking_wait_woken_by(ep, ID_UA);
	us_close(ep);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void timeout_returns_zero(int ep, int timeout_ms)
{
	struct epoll_event ev[4];
	int64_t t0 = now_ms();

	assert_int_equal(us_epoll_wait(ep, ev, 4, timeout_ms), 0);
	/* Never before the timeout (a lower bound, not a speed). */
	assert_true(now_ms() - t0 >= timeout_ms);
}

static void test_timeouts(void **state)
{
	int ep = us_epoll_create1(0);

	/* ustack sockets only, then with a kernel descriptor too. */
	add(ep, F.ua, EPOLLIN, ID_UA);
	timeout_returns_zero(ep, 0);
	timeout_returns_zero(ep, 30);
	add(ep, F.pipe_r, EPOLLIN, ID_PIPE);
	timeout_returns_zero(ep, 30);
	/* An empty set sleeps too. */
	us_epoll_ctl(ep, EPOLL_CTL_DEL, F.ua, NULL);
	us_epoll_ctl(ep, EPOLL_CTL_DEL, F.pipe_r, NULL);
	timeout_returns_zero(ep, 20);
	us_close(ep);
}

/* ---- the descriptor itself ---------------------------------------------- */

static void test_pollable_and_nested(void **state)
{
	struct pollfd p;
	struct epoll_event ev[2];
	int ep = us_epoll_create1(0), outer = us_epoll_create1(0);

	add(ep, F.ua, EPOLLIN, ID_UA);
	add(outer, ep, EPOLLIN, ID_OTHER);
	p = (struct pollfd){ .fd = ep, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_int_equal(us_epoll_wait(outer, ev, 2, 0), 0);
	rd_make_ready(&F, F.ua);
	/* The kernel sees the instance readable; so does an outer set. */
	assert_int_equal(poll(&p, 1, 0), 1);
	assert_int_equal(p.revents, POLLIN);
	assert_int_equal(us_epoll_wait(outer, ev, 2, 0), 1);
	assert_int_equal(ev[0].data.u64, ID_OTHER);
	assert_int_equal(us_epoll_wait(ep, ev, 2, 0), 1);
	assert_int_equal(ev[0].data.u64, ID_UA);
	/* Consumed, and found not ready by the next wait: quiet again. */
	rd_drain(F.ua);
	assert_int_equal(us_epoll_wait(ep, ev, 2, 0), 0);
	assert_int_equal(poll(&p, 1, 0), 0);
	/* A cycle is refused by the kernel, as for any epoll. */
	assert_int_equal(us_epoll_ctl(ep, EPOLL_CTL_ADD, outer,
				      &(struct epoll_event){ .events = EPOLLIN }),
			 -1);
	assert_int_equal(errno, ELOOP);
	us_close(outer);
	us_close(ep);
}

/* select() on an instance whose level-triggered item was read empty
 * since its last wait: the stale item is dropped first (Linux's
 * ep_eventpoll_poll), so the instance is not readable for nothing. */
static void test_select_drops_stale(void **state)
{
	struct epoll_event ev[2];
	struct timeval tv = { 0, 0 };
	fd_set r;
	int ep = us_epoll_create1(0);

	add(ep, F.ua, EPOLLIN, ID_UA);
	rd_make_ready(&F, F.ua);
	assert_int_equal(us_epoll_wait(ep, ev, 2, 0), 1);
	rd_drain(F.ua);
	FD_ZERO(&r);
	FD_SET(ep, &r);
	assert_int_equal(us_select(ep + 1, &r, NULL, NULL, &tv), 0);
	assert_false(FD_ISSET(ep, &r));
	rd_make_ready(&F, F.ua);
	FD_SET(ep, &r);
	assert_int_equal(us_select(ep + 1, &r, NULL, NULL, &tv), 1);
	assert_true(FD_ISSET(ep, &r));
	us_close(ep);
}

/* maxevents smaller than the ready list: level-triggered items take
 * turns, and kernel descriptors get theirs. */
static void test_maxevents_round_robin(void **state)
{
	struct epoll_event ev;
	int ep = us_epoll_create1(0);
	unsigned seen = 0;

	add(ep, F.ua, EPOLLIN, ID_UA);
	add(ep, F.ub, EPOLLIN, ID_UB);
	rd_make_ready(&F, F.ua);
	rd_make_ready(&F, F.ub);
	assert_int_equal(us_epoll_wait(ep, &ev, 1, 0), 1);
	assert_int_equal(ev.data.u64, ID_UA);
	assert_int_equal(us_epoll_wait(ep, &ev, 1, 0), 1);
	assert_int_equal(ev.data.u64, ID_UB);
	assert_int_equal(us_epoll_wait(ep, &ev, 1, 0), 1);
	assert_int_equal(ev.data.u64, ID_UA);
	add(ep, F.pipe_r, EPOLLIN, ID_PIPE);
	rd_make_ready(&F, F.pipe_r);
	for (int i = 0; i < 6; i++) {
		assert_int_equal(us_epoll_wait(ep, &ev, 1, 0), 1);
		seen |= BIT(ev.data.u64);
	}
	assert_int_equal(seen, BIT(ID_UA) | BIT(ID_UB) | BIT(ID_PIPE));
	us_close(ep);
}

/* Sockets of two stacks in one set, each under its own core lock. */
static void test_two_stacks_one_set(void **state)
{
	struct ustack *st2 = ustack_create(NULL);
	struct sockaddr_in sin;
	int ep = us_epoll_create1(0), fd;

	assert_non_null(st2);
	fd = rd_us_udp(st2, &sin);
	add(ep, fd, EPOLLIN | EPOLLOUT, ID_OTHER);
	add(ep, F.ua, EPOLLIN | EPOLLOUT, ID_UA);
	expect_ready(ep, BIT(ID_OTHER) | BIT(ID_UA), EPOLLOUT);
	rd_us_send(st2, &sin);
	rd_make_ready(&F, F.ua);
	expect_ready(ep, BIT(ID_OTHER) | BIT(ID_UA), EPOLLIN | EPOLLOUT);
	us_close(fd);
	us_close(ep);
	ustack_destroy(st2);
}

/* ---- errors, against the kernel's --------------------------------------- */

/* Both calls fail (or succeed) alike: same result, same errno. */
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

#define EXPECT_ERR(call, err) \
	do { \
		errno = 0; \
		assert_int_equal((call), -1); \
		assert_int_equal(errno, (err)); \
	} while (0)

static void test_create_errors(void **state)
{
	SAME(us_epoll_create(0), epoll_create(0));
	SAME(us_epoll_create(-1), epoll_create(-1));
	SAME(us_epoll_create1(1), epoll_create1(1));
	SAME(us_epoll_create1(EPOLL_CLOEXEC | O_NONBLOCK),
	     epoll_create1(EPOLL_CLOEXEC | O_NONBLOCK));
}

/*
 * The same operations on a ustack socket in our set and on a kernel UDP
 * socket in a kernel epoll: same outcome every time. When tgt_k is a
 * kernel descriptor in our set, our set defers to the kernel; the
 * comparison then checks that nothing is lost on the way.
 */
static void ctl_matches_kernel(int ep_u, int tgt_u, int ep_k, int tgt_k)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct epoll_event ex = { .events = EPOLLIN | EPOLLEXCLUSIVE };
	struct epoll_event bad_ex = { .events = EPOLLIN | EPOLLEXCLUSIVE |
						EPOLLONESHOT };

	SAME(us_epoll_ctl(ep_u, EPOLL_CTL_MOD, tgt_u, &ev),
	     epoll_ctl(ep_k, EPOLL_CTL_MOD, tgt_k, &ev));
	SAME(us_epoll_ctl(ep_u, EPOLL_CTL_DEL, tgt_u, NULL),
	     epoll_ctl(ep_k, EPOLL_CTL_DEL, tgt_k, NULL));
	SAME(us_epoll_ctl(ep_u, EPOLL_CTL_ADD, tgt_u, NULL),
	     epoll_ctl(ep_k, EPOLL_CTL_ADD, tgt_k, NULL));
	SAME(us_epoll_ctl(ep_u, 99, tgt_u, NULL),
	     epoll_ctl(ep_k, 99, tgt_k, NULL));
	SAME(us_epoll_ctl(ep_u, 99, tgt_u, &ev),
	     epoll_ctl(ep_k, 99, tgt_k, &ev));
	SAME(us_epoll_ctl(ep_u, EPOLL_CTL_ADD, tgt_u, &bad_ex),
	     epoll_ctl(ep_k, EPOLL_CTL_ADD, tgt_k, &bad_ex));
	SAME(us_epoll_ctl(ep_u, EPOLL_CTL_ADD, tgt_u, &ev),
	     epoll_ctl(ep_k, EPOLL_CTL_ADD, tgt_k, &ev));
	SAME(us_epoll_ctl(ep_u, EPOLL_CTL_ADD, tgt_u, &ev),
	     epoll_ctl(ep_k, EPOLL_CTL_ADD, tgt_k, &ev));
	SAME(us_epoll_ctl(ep_u, EPOLL_CTL_MOD, tgt_u, &ex),
	     epoll_ctl(ep_k, EPOLL_CTL_MOD, tgt_k, &ex));
	SAME(us_epoll_ctl(ep_u, EPOLL_CTL_DEL, tgt_u, NULL),
	     epoll_ctl(ep_k, EPOLL_CTL_DEL, tgt_k, NULL));
	/* Exclusive is accepted at ADD, and then MOD is refused. */
	SAME(us_epoll_ctl(ep_u, EPOLL_CTL_ADD, tgt_u, &ex),
	     epoll_ctl(ep_k, EPOLL_CTL_ADD, tgt_k, &ex));
	SAME(us_epoll_ctl(ep_u, EPOLL_CTL_MOD, tgt_u, &ev),
	     epoll_ctl(ep_k, EPOLL_CTL_MOD, tgt_k, &ev));
	SAME(us_epoll_ctl(ep_u, EPOLL_CTL_DEL, tgt_u, NULL),
	     epoll_ctl(ep_k, EPOLL_CTL_DEL, tgt_k, NULL));
}

static void test_ctl_errors_match_kernel(void **state)
{
	int ep_u = us_epoll_create1(0), ep_k = epoll_create1(EPOLL_CLOEXEC);
	/* Unbound: nothing of the host's network is touched. */
	int kudp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(ep_u >= 0 && ep_k >= 0 && kudp >= 0);
	/* A ustack socket in ours, a kernel socket in the kernel's. */
	ctl_matches_kernel(ep_u, F.ua, ep_k, kudp);
	/* A kernel descriptor in ours. */
	ctl_matches_kernel(ep_u, F.pipe_r, ep_k, kudp);
	us_close(kudp);
	us_close(ep_k);
	us_close(ep_u);
}

static void test_ctl_errors(void **state)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char path[] = "/tmp/ustack-epoll-XXXXXX";
	int ep = us_epoll_create1(0), kep = epoll_create1(EPOLL_CLOEXEC);
	int file = mkstemp(path), closed;

	assert_true(file >= 0);
	unlink(path);
	closed = dup(file);
	close(closed);
	/* EFAULT before anything else, even for a bad op or a bad epfd. */
	EXPECT_ERR(us_epoll_ctl(ep, EPOLL_CTL_ADD, F.ua, NULL), EFAULT);
	EXPECT_ERR(us_epoll_ctl(ep, EPOLL_CTL_MOD, F.pipe_r, NULL), EFAULT);
	EXPECT_ERR(us_epoll_ctl(closed, EPOLL_CTL_ADD, F.ua, NULL), EFAULT);
	/* Descriptors that are not open. */
	EXPECT_ERR(us_epoll_ctl(ep, EPOLL_CTL_ADD, closed, &ev), EBADF);
	EXPECT_ERR(us_epoll_ctl(ep, EPOLL_CTL_ADD, -1, &ev), EBADF);
	EXPECT_ERR(us_epoll_ctl(closed, EPOLL_CTL_ADD, F.ua, &ev), EBADF);
	EXPECT_ERR(us_epoll_ctl(-1, EPOLL_CTL_ADD, F.ua, &ev), EBADF);
	EXPECT_ERR(us_epoll_ctl(F.pipe_r, EPOLL_CTL_ADD, closed, &ev), EBADF);
	/* A regular file cannot be polled. */
	EXPECT_ERR(us_epoll_ctl(ep, EPOLL_CTL_ADD, file, &ev), EPERM);
	/* Not an epoll instance: a pipe, a ustack socket, or one made by the
	 * kernel's epoll_create (not ours). */
	EXPECT_ERR(us_epoll_ctl(F.pipe_r, EPOLL_CTL_ADD, F.ua, &ev), EINVAL);
	EXPECT_ERR(us_epoll_ctl(F.ub, EPOLL_CTL_ADD, F.ua, &ev), EINVAL);
	EXPECT_ERR(us_epoll_ctl(kep, EPOLL_CTL_ADD, F.ua, &ev), EINVAL);
	EXPECT_ERR(us_epoll_ctl(kep, EPOLL_CTL_ADD, F.pipe_r, &ev), EINVAL);
	/* ... which the refusal left untouched. */
	EXPECT_ERR(epoll_ctl(kep, EPOLL_CTL_DEL, F.pipe_r, NULL), ENOENT);
	/* Into itself. */
	EXPECT_ERR(us_epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL);
	/* A bad op on a good pair. */
	EXPECT_ERR(us_epoll_ctl(ep, 0, F.ua, &ev), EINVAL);
	EXPECT_ERR(us_epoll_ctl(ep, 4, F.ua, &ev), EINVAL);
	close(file);
	close(kep);
	us_close(ep);
}

static void test_wait_errors(void **state)
{
	struct epoll_event *volatile no_events = NULL;
	struct epoll_event ev[2];
	int ep = us_epoll_create1(0), kep = epoll_create1(EPOLL_CLOEXEC);
	int closed = dup(kep);

	close(closed);
	/* maxevents first, even before the descriptor. */
	EXPECT_ERR(us_epoll_wait(ep, ev, 0, 0), EINVAL);
	EXPECT_ERR(us_epoll_wait(ep, ev, -1, 0), EINVAL);
	EXPECT_ERR(us_epoll_wait(closed, ev, 0, 0), EINVAL);
	EXPECT_ERR(us_epoll_wait(ep, ev, INT_MAX, 0), EINVAL);
	EXPECT_ERR(us_epoll_wait(closed, ev, 2, 0), EBADF);
	EXPECT_ERR(us_epoll_wait(-1, ev, 2, 0), EBADF);
	EXPECT_ERR(us_epoll_wait(F.pipe_r, ev, 2, 0), EINVAL);
	EXPECT_ERR(us_epoll_wait(F.ua, ev, 2, 0), EINVAL);
	EXPECT_ERR(us_epoll_wait(kep, ev, 2, 0), EINVAL);
	/* No room for the events: EFAULT once there is one, as the kernel's. */
	add(ep, F.ua, EPOLLIN, ID_UA);
	assert_int_equal(us_epoll_wait(ep, NULL, 1, 0), 0);
	rd_make_ready(&F, F.ua);
	EXPECT_ERR(us_epoll_wait(ep, NULL, 1, 0), EFAULT);
	/* The event was not lost. */
	assert_int_equal(us_epoll_wait(ep, ev, 2, 0), 1);
	assert_int_equal(ev[0].data.u64, ID_UA);
	us_epoll_ctl(ep, EPOLL_CTL_DEL, F.ua, NULL);
	rd_make_ready(&F, F.pipe_r);
	assert_int_equal(epoll_ctl(kep, EPOLL_CTL_ADD, F.pipe_r,
				   &(struct epoll_event){ .events = EPOLLIN }), 0);
	add(ep, F.pipe_r, EPOLLIN, ID_PIPE);
	/* (Through a volatile, past glibc's nonnull attribute.) */
	SAME(us_epoll_wait(ep, no_events, 1, 0),
	     epoll_wait(kep, no_events, 1, 0));
	close(kep);
	us_close(ep);
}

/* epoll_pwait: the mask is in force while it sleeps, and only then. */
static atomic_int usr1_caught;

static void on_usr1(int sig)
{
	atomic_fetch_add(&usr1_caught, 1);
}

static void test_pwait_sigmask(void **state)
{
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct epoll_event ev[2];
	sigset_t block, old, none;
	int ep = us_epoll_create1(0);

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&none);
	sigaction(SIGUSR1, &sa, NULL);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	add(ep, F.ua, EPOLLIN, ID_UA);
	raise(SIGUSR1);
	/* Something ready: it is reported, the signal stays pending. */
	rd_make_ready(&F, F.ua);
	assert_int_equal(us_epoll_pwait(ep, ev, 2, 0, &none), 1);
	assert_int_equal(atomic_load(&usr1_caught), 0);
	/* Nothing ready: the mask lets the signal in, EINTR. */
	rd_drain(F.ua);
	EXPECT_ERR(us_epoll_pwait(ep, ev, 2, RD_HANG_GUARD_MS, &none), EINTR);
	assert_int_equal(atomic_load(&usr1_caught), 1);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
	us_close(ep);
}

/* ---- threads ------------------------------------------------------------ */

struct churn {
	int ep;
	atomic_int stop;
	atomic_int rounds;
};

/* Sockets come into the set, get data and close, over and over. */
static void *churn_main(void *arg)
{
	struct churn *c = arg;

	while (!atomic_load(&c->stop)) {
		struct sockaddr_in sin;
		int fd = rd_us_udp(F.st, &sin);

		add(c->ep, fd, EPOLLIN | (atomic_load(&c->rounds) & 1 ?
					  EPOLLET : 0), ID_OTHER);
		rd_us_send(F.st, &sin);
		us_close(fd);
		atomic_fetch_add(&c->rounds, 1);
	}
	return NULL;
}

/* Waiters and closers race; nothing is reported twice per wait or after
 * its close, and nothing leaks or is used after free (ASan). */
static void test_close_races_wait(void **state)
{
	struct churn c = { .ep = us_epoll_create1(0) };
	pthread_t t;
	int64_t t0 = now_ms();

	atomic_init(&c.stop, 0);
	atomic_init(&c.rounds, 0);
	add(c.ep, F.ua, EPOLLIN, ID_UA);
	assert_int_equal(pthread_create(&t, NULL, churn_main, &c), 0);
	while (atomic_load(&c.rounds) < 2000 &&
	       now_ms() - t0 < RD_HANG_GUARD_MS) {
		struct epoll_event ev[8];
		int n = us_epoll_wait(c.ep, ev, 8, 1);

		assert_true(n >= 0);
		for (int i = 0; i < n; i++)
			assert_true(ev[i].data.u64 == ID_OTHER);
	}
	atomic_store(&c.stop, 1);
	pthread_join(t, NULL);
	assert_true(atomic_load(&c.rounds) >= 2000);
	us_close(c.ep);
}

/*
 * A descriptor's number is free when close() returns, even while a call in
 * another thread still holds the socket or the set (a reference taken here
 * stands for it): the dup2() idiom that puts /dev/null over a number to
 * stop a blocked thread must not see its /dev/null closed when that call
 * ends (Linux's close_fd frees the number at once).
 */
static void test_close_frees_number_while_held(void **state)
{
	struct sockaddr_in sin;
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int fd = rd_us_udp(F.st, &sin);
	int ep = us_epoll_create1(0);
	struct socket *sock;
	struct us_epoll *e;

	(void)state;
	assert_true(null >= 0 && fd >= 0 && ep >= 0);
	add(ep, fd, EPOLLIN, ID_OTHER);

	sock = sockfd_lookup(fd, NULL);
	assert_non_null(sock);
	assert_int_equal(us_close(fd), 0);
	assert_int_equal(dup2(null, fd), fd);
	sockfd_put(sock);
	assert_true(fcntl(fd, F_GETFD) >= 0);

	e = epollfd_lookup(ep);
	assert_non_null(e);
	assert_int_equal(us_close(ep), 0);
	assert_int_equal(dup2(null, ep), ep);
	eventpoll_put(e);
	assert_true(fcntl(ep, F_GETFD) >= 0);

	close(fd);
	close(ep);
	close(null);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_level_triggered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edge_triggered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oneshot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rdhup_hup_after_shutdown,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_err_after_port_unreachable,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_removes_socket, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_close_epoll_with_items, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_stack_destroyed_under_set,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_blocking_wait_woken,
						setup_started, teardown),
		cmocka_unit_test_setup_teardown(test_blocking_wait_ustack_only,
						setup_started, teardown),
		cmocka_unit_test_setup_teardown(test_timeouts, setup_started,
						teardown),
		cmocka_unit_test_setup_teardown(test_pollable_and_nested, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_select_drops_stale, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_maxevents_round_robin, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_two_stacks_one_set, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_create_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ctl_errors_match_kernel, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ctl_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pwait_sigmask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_races_wait,
						setup_started, teardown),
		cmocka_unit_test_setup_teardown(test_close_frees_number_while_held,
						setup, teardown),
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
