/*
 * test_intr.c - signals and blocking calls (src/socket/wait.c,
 * socket.c:sock_wait_event): a signal whose handler has no SA_RESTART ends
 * a blocked recv/accept with EINTR; with SA_RESTART the call goes on
 * asleep and completes later, unless the socket has a timeout (then EINTR
 * regardless, Linux's sock_intr_errno); poll and epoll_wait always fail
 * with EINTR (signal(7): never restarted).
 *
 * Each case runs on a ustack socket and, where the test's own network
 * namespace gives one, on a kernel socket put through the same steps: the
 * kernel is the oracle. A thread makes the call; the test waits until the
 * thread sleeps in the kernel (/proc/self/task/TID/syscall), signals it,
 * waits until the handler ran, then either joins it or, for a restarted
 * call, checks it is still asleep, sends a datagram and joins it.
 *
 * The cases run twice: on a stack with only its loopback, where a blocked
 * call sleeps on its eventfd, and (in the private namespace) on one with a
 * TAP device too, where a blocked recv/accept drives the engine while it
 * waits (wait.c: sleep_driving, an epoll_wait on its eventfd and the TAP):
 * there the test also checks that the call sleeps in epoll_wait, and that
 * a datagram the kernel sends over the TAP reaches a thread blocked that
 * way, with and without a handler having interrupted it, and one asleep in
 * us_epoll_wait (epoll.c: ep_drive), us_poll or us_select (poll_drive.c),
 * read by that thread; and that a signal coming while such a thread runs
 * the engine still ends its call (runtime.h, struct us_sigguard).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/netns.h"
#include "dev/netdev.h"
#include "lib/rdfix.h"
#include "socket/socket.h"
#include "stack/runtime.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define HANG_GUARD_MS 10000

static struct rd_fix F;
static atomic_int handled;
/* The driving group: the stack has a TAP; ustack recv/accept must sleep in
 * epoll_wait. */
static bool driving;
static bool timed;                      /* ... unless SO_RCVTIMEO is set */
static int ktap = -1;                   /* kernel UDP socket on the TAP net */

#define TAP_NAME "usintr0"
#define TAP_NET 0x0a4d0000u             /* 10.77.0.0/24 */

static void on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

static void install_handler(void (*fn)(int), bool restart)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, NULL), 0);
	/* Noticed at once, as the shim's sigaction makes it. */
	us_sig_handlers_changed();
}

static void install(bool restart)
{
	install_handler(on_signal, restart);
}

enum call { CALL_RECV, CALL_ACCEPT, CALL_POLL, CALL_EPOLL, CALL_SELECT,
	    CALL_POLL_TIMED };

struct blocker {
	pthread_t thread;
	atomic_int tid;
	enum call call;
	bool ustack;
	int fd;
	atomic_bool done;
	long rc;
	int err;
};

static void *blocker_main(void *arg)
{
	struct blocker *b = arg;
	struct pollfd pfd = { .fd = b->fd, .events = POLLIN };
	struct epoll_event ev = { .events = EPOLLIN }, out[4];
	char buf[64];
	fd_set rset;
	int ep;

	atomic_store(&b->tid, (int)syscall(SYS_gettid));
	errno = 0;
	switch (b->call) {
	case CALL_RECV:
		b->rc = b->ustack ? us_recv(b->fd, buf, sizeof(buf), 0)
				  : recv(b->fd, buf, sizeof(buf), 0);
		break;
	case CALL_ACCEPT:
		b->rc = b->ustack ? us_accept(b->fd, NULL, NULL)
				  : accept(b->fd, NULL, NULL);
		break;
	case CALL_POLL:
		b->rc = b->ustack ? us_poll(&pfd, 1, -1) : poll(&pfd, 1, -1);
		break;
	case CALL_POLL_TIMED:
		b->rc = b->ustack ? us_poll(&pfd, 1, 4 * HANG_GUARD_MS)
				  : poll(&pfd, 1, 4 * HANG_GUARD_MS);
		break;
	case CALL_SELECT:
		FD_ZERO(&rset);
		FD_SET(b->fd, &rset);
		b->rc = b->ustack ? us_select(b->fd + 1, &rset, NULL, NULL, NULL)
				  : select(b->fd + 1, &rset, NULL, NULL, NULL);
		break;
	case CALL_EPOLL:
		ep = b->ustack ? us_epoll_create1(0) : epoll_create1(0);
		assert_true(ep >= 0);
		assert_int_equal(b->ustack ? us_epoll_ctl(ep, EPOLL_CTL_ADD,
							   b->fd, &ev)
				 : epoll_ctl(ep, EPOLL_CTL_ADD, b->fd, &ev), 0);
		b->rc = b->ustack ? us_epoll_wait(ep, out, 4, -1)
				  : epoll_wait(ep, out, 4, -1);
		b->err = errno;
		if (b->ustack)
			us_close(ep);
		else
			close(ep);
		atomic_store(&b->done, true);
		return NULL;
	}
	b->err = errno;
	atomic_store(&b->done, true);
	return NULL;
}

/* The system call thread tid is in (/proc/self/task/TID/syscall): 1 with
 * *nr and its fourth argument, 0 when the line says none, -1 when the
 * file cannot be opened. */
static int task_syscall(int tid, long *nr, unsigned long *arg4)
{
	char path[64], buf[256];
	unsigned long a[4];
	FILE *f;
	int n = 0;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		n = sscanf(buf, "%ld %lx %lx %lx %lx", nr, &a[0], &a[1], &a[2],
			   &a[3]);
	fclose(f);
	if (n < 1)
		return 0;
	*arg4 = n == 5 ? a[3] : 0;
	return 1;
}

/* True while the thread sleeps in a system call (not futex: a lock);
 * *nrp is that call. */
static bool asleep_in_kernel(int tid, long *nrp)
{
	char path[64], buf[128];
	unsigned long arg4;
	long nr;
	FILE *f;
	int ok;

	if (task_syscall(tid, &nr, &arg4) != 1)
		return false;
	*nrp = nr;
	switch (nr) {
	case SYS_read: case SYS_poll: case SYS_ppoll: case SYS_recvfrom:
	case SYS_accept: case SYS_accept4: case SYS_epoll_wait:
	case SYS_epoll_pwait: case SYS_epoll_pwait2: case SYS_pselect6:
		snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
		f = fopen(path, "r");
		if (!f)
			return false;
		ok = fgets(buf, sizeof(buf), f) != NULL;
		fclose(f);
		return ok && strstr(buf, ") S ");
	default:
		return false;
	}
}

static void wait_asleep(struct blocker *b)
{
	for (int i = 0; i < HANG_GUARD_MS; i++) {
		int tid = atomic_load(&b->tid);
		long nr;

		/* The call read with the state: a frame that wakes a
		 * driving thread for a moment (the kernel's own IPv6
		 * traffic on the TAP) cannot come between the two. */
		if (tid && asleep_in_kernel(tid, &nr)) {
			if (driving && !timed && b->ustack &&
			    (b->call == CALL_RECV || b->call == CALL_ACCEPT))
				assert_true(nr == SYS_epoll_wait ||
					    nr == SYS_epoll_pwait);
			/* poll/select on ustack sockets alone: in the
			 * driving set (poll_drive.c), timed or not. */
			if (driving && b->ustack &&
			    (b->call == CALL_POLL || b->call == CALL_SELECT ||
			     b->call == CALL_POLL_TIMED))
				assert_true(nr == SYS_epoll_pwait2 ||
					    nr == SYS_epoll_pwait);
			return;
		}
		assert_false(atomic_load(&b->done));
		usleep(1000);
	}
	fail_msg("the call did not go to sleep within %d ms", HANG_GUARD_MS);
}

static void wait_handled(int before)
{
	for (int i = 0; i < HANG_GUARD_MS; i++) {
		if (atomic_load(&handled) > before)
			return;
		usleep(1000);
	}
	fail_msg("the signal handler did not run");
}

static void start(struct blocker *b, enum call call, bool ustack, int fd)
{
	memset(b, 0, sizeof(*b));
	b->call = call;
	b->ustack = ustack;
	b->fd = fd;
	assert_int_equal(pthread_create(&b->thread, NULL, blocker_main, b), 0);
	wait_asleep(b);
}

/* Signal the sleeping thread and wait for the handler. */
static void interrupt(struct blocker *b)
{
	int before = atomic_load(&handled);

	assert_int_equal(pthread_kill(b->thread, SIGUSR1), 0);
	wait_handled(before);
}

/* Interrupt the call; it must end with EINTR. */
static void expect_eintr(enum call call, bool ustack, int fd)
{
	struct blocker b;

	start(&b, call, ustack, fd);
	interrupt(&b);
	pthread_join(b.thread, NULL);
	assert_int_equal(b.rc, -1);
	assert_int_equal(b.err, EINTR);
}

static void make_blocking(int fd, bool ustack)
{
	int fl = ustack ? us_fcntl(fd, F_GETFL) : fcntl(fd, F_GETFL);

	assert_true(fl >= 0);
	assert_int_equal(ustack ? us_fcntl(fd, F_SETFL, fl & ~O_NONBLOCK)
			 : fcntl(fd, F_SETFL, fl & ~O_NONBLOCK), 0);
}

static void set_rcvtimeo(int fd, bool ustack, int sec)
{
	struct timeval tv = { sec, 0 };

	assert_int_equal(ustack ? us_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO,
						&tv, sizeof(tv))
			 : setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				      sizeof(tv)), 0);
}

static int setup(void **state)
{
	rd_fix_init(&F, true);
	make_blocking(F.ua, true);
	if (F.ka >= 0)
		make_blocking(F.ka, false);
	return 0;
}

/* Give the kernel's end of the TAP 10.77.0.1/24 (ustack has .2). */
static void kernel_tap_addr(void)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int s = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(s >= 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, TAP_NAME);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(TAP_NET | 1);
	assert_int_equal(ioctl(s, SIOCSIFADDR, &ifr), 0);
	sin->sin_addr.s_addr = htonl(0xffffff00u);
	assert_int_equal(ioctl(s, SIOCSIFNETMASK, &ifr), 0);
	close(s);
}

/* As setup, and a TAP added after the runtime started. */
static int setup_tap(void **state)
{
	struct ustack_ifconfig ifc;

	setup(state);
	/* No IPv6 on the TAP (this namespace is the test's own): the
	 * kernel's own router solicitations and reports would wake a
	 * driving thread at random moments. */
	netns_no_ipv6();
	memset(&ifc, 0, sizeof(ifc));
	ifc.ifname = TAP_NAME;
	ifc.addr = htonl(TAP_NET | 2);
	ifc.prefix_len = 24;
	assert_int_equal(ustack_add_tap(F.st, &ifc), 0);
	kernel_tap_addr();
	ktap = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(ktap >= 0);
	driving = true;
	return 0;
}

static int teardown(void **state)
{
	driving = false;
	if (ktap >= 0)
		close(ktap);
	ktap = -1;
	rd_fix_destroy(&F);
	return 0;
}

/* The case on ustack's socket, then on the kernel's when there is one. */
static void both(void (*fn)(int fd, bool ustack))
{
	fn(F.ua, true);
	if (F.ka >= 0)
		fn(F.ka, false);
}

static void recv_no_restart(int fd, bool ustack)
{
	install(false);
	expect_eintr(CALL_RECV, ustack, fd);
}

static void test_recv_eintr(void **state)
{
	both(recv_no_restart);
}

/* SA_RESTART: the call survives the handler and gets the datagram. */
static void recv_restart(int fd, bool ustack)
{
	const struct sockaddr_in *to = ustack ? &F.ua_addr : &F.ka_addr;
	struct blocker b;

	install(true);
	start(&b, CALL_RECV, ustack, fd);
	interrupt(&b);
	wait_asleep(&b);
	assert_false(atomic_load(&b.done));
	if (ustack)
		rd_us_send(F.st, to);
	else
		assert_int_equal(sendto(F.ksend, "x", 1, 0,
					(const struct sockaddr *)to,
					sizeof(*to)), 1);
	pthread_join(b.thread, NULL);
	assert_int_equal(b.rc, 1);
}

static void test_recv_restarted(void **state)
{
	both(recv_restart);
}

/* A socket timeout makes the call fail with EINTR even with SA_RESTART. */
static void recv_timeo(int fd, bool ustack)
{
	install(true);
	set_rcvtimeo(fd, ustack, 30);
	timed = true;
	expect_eintr(CALL_RECV, ustack, fd);
	timed = false;
	set_rcvtimeo(fd, ustack, 0);
}

static void test_recv_timeout_eintr(void **state)
{
	both(recv_timeo);
}

static void poll_restart(int fd, bool ustack)
{
	install(true);
	expect_eintr(CALL_POLL, ustack, fd);
}

static void test_poll_never_restarts(void **state)
{
	both(poll_restart);
}

static void select_restart(int fd, bool ustack)
{
	install(true);
	expect_eintr(CALL_SELECT, ustack, fd);
	expect_eintr(CALL_POLL_TIMED, ustack, fd);
}

static void test_select_never_restarts(void **state)
{
	both(select_restart);
}

static void epoll_restart(int fd, bool ustack)
{
	install(true);
	expect_eintr(CALL_EPOLL, ustack, fd);
}

static void test_epoll_never_restarts(void **state)
{
	both(epoll_restart);
}

/*
 * A handler that makes a blocking ustack call of its own while the call
 * it interrupted sleeps (as in the kernel, each sleeps on its own): the
 * handler's recv on ub waits for a datagram, then the interrupted recv
 * on ua (SA_RESTART) goes on and gets its own. Both share one thread,
 * which once had one sleeper: the nested sleep took it off ua's wait
 * queue, and ua's datagram woke nobody.
 */
static atomic_long nested_rc = -2;

static void on_signal_nested(int sig)
{
	char c;

	(void)sig;
	atomic_store(&nested_rc, (long)us_recv(F.ub, &c, 1, 0));
	atomic_fetch_add(&handled, 1);
}

static bool wait_done(struct blocker *b)
{
	for (int i = 0; i < HANG_GUARD_MS && !atomic_load(&b->done); i++)
		usleep(1000);
	return atomic_load(&b->done);
}

static void test_nested_blocking_call(void **state)
{
	struct blocker b;
	int before = atomic_load(&handled);

	(void)state;
	make_blocking(F.ub, true);
	install_handler(on_signal_nested, true);
	atomic_store(&nested_rc, -2);
	start(&b, CALL_RECV, true, F.ua);
	assert_int_equal(pthread_kill(b.thread, SIGUSR1), 0);
	/* The handler's recv asleep in the same thread. */
	for (int i = 0; i < HANG_GUARD_MS; i++) {
		long nr;

		if (atomic_load(&nested_rc) != -2)
			break;
		if (asleep_in_kernel(atomic_load(&b.tid), &nr) && i > 20)
			break;
		usleep(1000);
	}
	rd_us_send(F.st, &F.ub_addr);
	wait_handled(before);
	assert_int_equal(atomic_load(&nested_rc), 1);
	wait_asleep(&b);
	assert_false(atomic_load(&b.done));
	rd_us_send(F.st, &F.ua_addr);
	if (!wait_done(&b))
		fail_msg("the interrupted recv slept on after its datagram "
			 "came (the handler's sleep took its place)");
	pthread_join(b.thread, NULL);
	assert_int_equal(b.rc, 1);
}

/*
 * A handler's non-blocking ustack call makes the call it interrupted
 * ready: that call (SA_RESTART) returns with the data. Asleep in read()
 * on its eventfd (the loopback-only group), it needs the eventfd written
 * although the waker is its own thread: the kernel restarts the read.
 */
static void on_signal_send(int sig)
{
	(void)sig;
	(void)us_sendto(F.usend, "h", 1, 0, (const struct sockaddr *)&F.ua_addr,
			sizeof(F.ua_addr));
	atomic_fetch_add(&handled, 1);
}

static void test_handler_wakes_own_call(void **state)
{
	struct blocker b;
	int before = atomic_load(&handled);

	(void)state;
	install_handler(on_signal_send, true);
	start(&b, CALL_RECV, true, F.ua);
	assert_int_equal(pthread_kill(b.thread, SIGUSR1), 0);
	wait_handled(before);
	if (!wait_done(&b))
		fail_msg("the interrupted recv slept on with its datagram "
			 "queued (woken by its own thread, no eventfd write)");
	pthread_join(b.thread, NULL);
	assert_int_equal(b.rc, 1);
}

/* accept() on a ustack listener (TCP on ustack's loopback). */
static void test_accept_eintr(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int lfd = us_socket_on(F.st, AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(lfd >= 0);
	assert_int_equal(us_bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(us_listen(lfd, 4), 0);
	install(false);
	expect_eintr(CALL_ACCEPT, true, lfd);
	us_close(lfd);
}

/* Many threads asleep on one socket: a signal to one ends only its call;
 * close() from another thread ends the rest with EBADF. */
static void test_many_sleepers_and_close(void **state)
{
	struct blocker b[3];
	int fd = rd_us_udp(F.st, &(struct sockaddr_in){ 0 });

	make_blocking(fd, true);
	install(false);
	for (int i = 0; i < 3; i++)
		start(&b[i], CALL_RECV, true, fd);
	interrupt(&b[1]);
	pthread_join(b[1].thread, NULL);
	assert_int_equal(b[1].err, EINTR);
	assert_false(atomic_load(&b[0].done));
	assert_false(atomic_load(&b[2].done));
	assert_int_equal(us_close(fd), 0);
	for (int i = 0; i < 3; i += 2) {
		pthread_join(b[i].thread, NULL);
		assert_int_equal(b[i].rc, -1);
		assert_int_equal(b[i].err, EBADF);
	}
}

/*
 * Driving group only: a datagram from the kernel over the TAP reaches a
 * recv blocked in epoll_wait (the blocked thread itself reads the TAP), and
 * still does after a handler with SA_RESTART interrupted that wait.
 */
static uint64_t driven(void)
{
	uint64_t v;

	pthread_mutex_lock(&F.st->lock);
	v = F.st->stats.mib[US_MIB_RT_DRIVEN];
	pthread_mutex_unlock(&F.st->lock);
	return v;
}

static void tap_datagram(enum call call, bool interrupt_first)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct blocker b;
	int fd = us_socket_on(F.st, AF_INET, SOCK_DGRAM, 0);
	uint64_t before = driven();

	assert_true(fd >= 0);
	sin.sin_addr.s_addr = htonl(TAP_NET | 2);
	sin.sin_port = htons(4321);
	assert_int_equal(us_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	make_blocking(fd, true);
	install(true);
	start(&b, call, true, fd);
	if (interrupt_first) {
		interrupt(&b);
		wait_asleep(&b);
		assert_false(atomic_load(&b.done));
	}
	/* The first datagram also resolves ARP through the same thread. */
	assert_int_equal(sendto(ktap, "tap", 3, 0, (struct sockaddr *)&sin,
				sizeof(sin)), 3);
	pthread_join(b.thread, NULL);
	/* recv: the datagram's 3 bytes; the others: 1 ready. */
	assert_int_equal(b.rc, call == CALL_RECV ? 3 : 1);
	/* The blocked thread read the TAP itself (it may share the frames
	 * with the runtime thread, but not all of them). */
	assert_true(driven() > before);
	us_close(fd);
}

static void test_tap_datagram(void **state)
{
	if (!driving)
		skip();
	tap_datagram(CALL_RECV, false);
	tap_datagram(CALL_RECV, true);
}

/* The same for a thread asleep in us_epoll_wait on the socket. */
static void test_tap_epoll_datagram(void **state)
{
	if (!driving)
		skip();
	tap_datagram(CALL_EPOLL, false);
}

/* The same for poll (untimed and timed) and select: poll_drive.c. */
static void test_tap_poll_datagram(void **state)
{
	if (!driving)
		skip();
	tap_datagram(CALL_POLL, false);
	tap_datagram(CALL_POLL_TIMED, false);
	tap_datagram(CALL_SELECT, false);
}

static uint64_t mib(enum us_mib m)
{
	uint64_t v;

	pthread_mutex_lock(&F.st->lock);
	v = F.st->stats.mib[m];
	pthread_mutex_unlock(&F.st->lock);
	return v;
}

/* Host `host` of the TAP network (1: the kernel, 2: ustack), port. */
static void tap_sin(struct sockaddr_in *sin, uint32_t host, uint16_t port)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(TAP_NET | host);
	sin->sin_port = htons(port);
}

static int udp_on_tap(uint16_t port, struct sockaddr_in *sin)
{
	int fd = us_socket_on(F.st, AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	tap_sin(sin, 2, port);
	assert_int_equal(us_bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	return fd;
}

/* The kernel sends one byte to sin; ustack's fd must get it, with no
 * further traffic (a hang shows as a timeout, not as slowness). */
static void expect_byte(int fd, const struct sockaddr_in *sin, char c)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	char got = 0;

	assert_int_equal(us_poll(&pfd, 1, HANG_GUARD_MS), 1);
	assert_int_equal(us_recv(fd, &got, 1, MSG_DONTWAIT), 1);
	assert_int_equal(got, c);
	(void)sin;
}

/* Blocking UDP socket A and socket B on the TAP, with the kernel's ARP
 * entry for them made first, so that later datagrams leave at once. */
static void two_on_tap(int *a, struct sockaddr_in *sa, int *b,
		       struct sockaddr_in *sb)
{
	*a = udp_on_tap(4321, sa);
	*b = udp_on_tap(4322, sb);
	make_blocking(*a, true);
	assert_int_equal(sendto(ktap, "w", 1, 0, (struct sockaddr *)sb,
				sizeof(*sb)), 1);
	expect_byte(*b, sb, 'w');
}

/* Until thread tid sleeps in futex (here: waits for the core lock). */
static void wait_in_futex(int tid)
{
	for (int i = 0; i < HANG_GUARD_MS * 10; i++) {
		unsigned long arg4;
		long nr = -1;
		int r = task_syscall(tid, &nr, &arg4);

		assert_true(r >= 0);
		if (r == 1 && nr == SYS_futex)
			return;
		usleep(100);
	}
	fail_msg("thread %d did not wait for the core lock", tid);
}

/* How long the runtime thread leaves a pass to the core lock's holder
 * before it tries again (runtime.c, rt_hand_off). */
static void set_hand_off_ms(int ms)
{
	pthread_mutex_lock(&F.st->lock);
	us_runtime_set_hand_off_ms(F.st, ms);
	pthread_mutex_unlock(&F.st->lock);
}

/* Until thread tid sleeps in an epoll_wait without a timeout: the runtime
 * thread idle in its main set, not in a hand-off's timed wait. */
static void wait_untimed_epoll(int tid)
{
	for (int i = 0; i < HANG_GUARD_MS * 10; i++) {
		unsigned long arg4 = 0;
		long nr = -1;
		int r = task_syscall(tid, &nr, &arg4);

		assert_true(r >= 0);
		if (r == 1 && nr == SYS_epoll_wait &&
		    (unsigned int)arg4 == 0xffffffffu &&
		    asleep_in_kernel(tid, &nr))
			return;
		usleep(100);
	}
	fail_msg("the runtime thread is not idle in epoll_wait");
}

/* Whether the runtime thread, woken while the test holds the core lock,
 * left its pass to the lock's holder (runtime.c, rt_hand_off) within the
 * hang guard. */
static bool pass_left(void)
{
	for (int i = 0; i < HANG_GUARD_MS * 10; i++) {
		if (atomic_load(&F.st->rt_pass_wanted))
			return true;
		usleep(100);
	}
	return false;
}

/* The runtime thread's id, by its name. */
static int runtime_tid(void)
{
	char path[300], name[32];
	struct dirent *d;
	DIR *dir = opendir("/proc/self/task");
	int tid = -1;

	assert_non_null(dir);
	while (tid < 0 && (d = readdir(dir)) != NULL) {
		FILE *f;

		snprintf(path, sizeof(path), "/proc/self/task/%s/comm",
			 d->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(name, sizeof(name), f) &&
		    !strncmp(name, "ustack-rt", 9))
			tid = atoi(d->d_name);
		fclose(f);
	}
	closedir(dir);
	assert_true(tid > 0);
	return tid;
}

/* Linux >= 6.0 lets a driving thread stop reading early (runtime.c). */
static bool kernel_lone_wake(void)
{
	unsigned int major = 0;
	FILE *f = fopen("/proc/sys/kernel/osrelease", "r");

	if (!f)
		return false;
	if (fscanf(f, "%u", &major) != 1)
		major = 0;
	fclose(f);
	return major >= 6;
}

/*
 * Driving group only: a recv blocked on socket A wakes for A's datagram
 * and stops reading the TAP there (rt.driven_early), leaving B's
 * datagram, which came right behind it, in the device. B's must still be
 * delivered with nothing more sent: its wake-up went to the runtime
 * thread, which, finding the core lock held, left the read to the lock's
 * holder (runtime.c, rt_hand_off): the woken thread reads B as it lets
 * the lock go. The core lock is held while the kernel sends both, so that
 * both frames wait in the TAP when the woken thread reads it; B is sent
 * once that thread waits for the lock, and the lock is let go once the
 * runtime thread has left its pass (its retry set to 60 s, so it cannot
 * take the lock first), and woken after each round (the eventfd) to wait
 * for frames again. With full-sized datagrams (a bulk stream) the thread
 * reads on instead: no early stop.
 */
static void frame_left(enum call call, size_t len)
{
	static const char pa[1200] = "a", pb[1200] = "b";
	struct sockaddr_in sa, sb;
	int a, b, rounds = 20;
	uint64_t early;
	bool lone = kernel_lone_wake();
	int rt = runtime_tid();

	two_on_tap(&a, &sa, &b, &sb);
	early = mib(US_MIB_RT_DRIVEN_EARLY);  /* (its us_poll may stop too) */
	set_hand_off_ms(60 * 1000);
	for (int i = 0; i < rounds; i++) {
		struct blocker t;
		bool left;
		char c = 0;

		/* Back from the last round's hand-off (its eventfd). */
		wait_untimed_epoll(rt);
		start(&t, call, true, a);
		pthread_mutex_lock(&F.st->lock);
		assert_int_equal(sendto(ktap, pa, len, 0,
					(struct sockaddr *)&sa, sizeof(sa)),
				 (ssize_t)len);
		wait_in_futex(atomic_load(&t.tid));
		assert_int_equal(sendto(ktap, pb, len, 0,
					(struct sockaddr *)&sb, sizeof(sb)),
				 (ssize_t)len);
		left = pass_left();
		pthread_mutex_unlock(&F.st->lock);
		pthread_join(t.thread, NULL);
		assert_true(left);
		/* recv's buffer takes 64 bytes of a datagram. */
		assert_int_equal(t.rc, call != CALL_RECV ? 1 :
				 (long)(len < 64 ? len : 64));
		if (call != CALL_RECV)
			expect_byte(a, &sa, 'a');
		/* Read already, by t as it let the lock go (the runtime's
		 * retry is 60 s away; a poll here would read the TAP). */
		assert_int_equal(us_recv(b, &c, 1, MSG_DONTWAIT), 1);
		assert_int_equal(c, 'b');
		/* It stopped early each time, where the kernel makes that
		 * safe, and never after a full-sized frame (bulk). */
		early += lone && len == 1;
		assert_int_equal(mib(US_MIB_RT_DRIVEN_EARLY), early);
		us_runtime_wakeup(F.st);    /* out of its 60 s wait */
	}
	set_hand_off_ms(RT_HAND_OFF_MS);
	us_runtime_wakeup(F.st);
	us_close(a);
	us_close(b);
}

static void test_tap_frame_left(void **state)
{
	if (!driving)
		skip();
	frame_left(CALL_RECV, 1);
	frame_left(CALL_RECV, 1200);
}

/* The same for a thread asleep in us_epoll_wait (epoll.c: ep_drive),
 * which may stop once an item of its set is ready. */
static void test_tap_epoll_frame_left(void **state)
{
	if (!driving)
		skip();
	frame_left(CALL_EPOLL, 1);
}

/* And for one asleep in us_poll (poll_drive.c), which also stops reading
 * once a socket of its call is ready. */
static void test_tap_poll_frame_left(void **state)
{
	if (!driving)
		skip();
	frame_left(CALL_POLL, 1);
}

/*
 * Driving group only: a signal that comes while the blocked thread runs
 * the engine (here: as it waits for the core lock to read a frame for
 * another socket) must still end its call, as on Linux, where a signal
 * pending before a sleep ends it. Were the handler to run at once, the
 * call would go back to sleep and see the signal never (nginx's SIGQUIT
 * was lost so). The test holds the core lock while the kernel sends to
 * socket B, signals the thread once it waits for the lock, lets go, and
 * expects EINTR without anything sent to A.
 */
/*
 * With the core lock held, the kernel sends a byte to `to`; once thread t
 * waits for the lock (to read it), t is signalled and the lock let go.
 * Whether t's call ended within the hang guard.
 */
static bool send_and_signal_while_locked(struct blocker *t,
					 const struct sockaddr_in *to, char c)
{
	pthread_mutex_lock(&F.st->lock);
	assert_int_equal(sendto(ktap, &c, 1, 0, (const struct sockaddr *)to,
				sizeof(*to)), 1);
	wait_in_futex(atomic_load(&t->tid));
	assert_int_equal(pthread_kill(t->thread, SIGUSR1), 0);
	pthread_mutex_unlock(&F.st->lock);
	for (int i = 0; i < HANG_GUARD_MS && !atomic_load(&t->done); i++)
		usleep(1000);
	return atomic_load(&t->done);
}

static void signal_while_driving(enum call call)
{
	struct sockaddr_in sa, sb;
	struct blocker t;
	int a, b, before = atomic_load(&handled);

	two_on_tap(&a, &sa, &b, &sb);
	install(false);
	start(&t, call, true, a);
	if (!send_and_signal_while_locked(&t, &sb, 'b')) {
		/* End the call so that the test can report. */
		assert_int_equal(sendto(ktap, "a", 1, 0,
					(struct sockaddr *)&sa, sizeof(sa)), 1);
		pthread_join(t.thread, NULL);
		fail_msg("call %d slept on after a signal came while it drove "
			 "the engine", (int)call);
	}
	pthread_join(t.thread, NULL);
	assert_int_equal(t.rc, -1);
	assert_int_equal(t.err, EINTR);
	assert_true(atomic_load(&handled) > before);
	/* The thread read B's datagram before it went back to sleep. */
	expect_byte(b, &sb, 'b');
	us_close(a);
	us_close(b);
}

static atomic_int handler_fd = -1;
static atomic_int handler_did;

/* A handler that makes a ustack call (as a self-pipe over loopback). */
static void on_signal_ustack(int sig)
{
	int one = 1, fd = atomic_load(&handler_fd);

	(void)sig;
	if (fd >= 0)
		(void)us_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				    sizeof(one));
	atomic_fetch_add(&handler_did, 1);
}

/* The signal comes while the blocked recv drives and the frame that
 * drive reads is for the recv's own socket: the held signal is delivered
 * as the call returns, and the handler's ustack call must not find the
 * core lock still held by its own thread (it once did: a deadlock). */
static void test_tap_handler_ustack_call(void **state)
{
	struct sockaddr_in sa, sb;
	struct blocker t;
	int a, b;

	(void)state;
	if (!driving)
		skip();
	two_on_tap(&a, &sa, &b, &sb);
	atomic_store(&handler_fd, b);
	install_handler(on_signal_ustack, false);
	start(&t, CALL_RECV, true, a);
	if (!send_and_signal_while_locked(&t, &sa, 'a'))
		fail_msg("recv thread stuck: handler's ustack call deadlocked "
			 "on the core lock (handler_did=%d)",
			 atomic_load(&handler_did));
	pthread_join(t.thread, NULL);
	assert_int_equal(t.rc, 1);
	us_close(a);
	us_close(b);
}

struct epw { int ep; atomic_int tid; atomic_bool done; int rc, err; };

static void *epw_main(void *arg)
{
	struct epw *w = arg;
	struct epoll_event out[1];

	atomic_store(&w->tid, (int)syscall(SYS_gettid));
	w->rc = us_epoll_wait(w->ep, out, 1, -1);
	w->err = errno;
	atomic_store(&w->done, true);
	return NULL;
}

/* A us_epoll_wait that starts with the kernel's turn (ep_kernel_first:
 * the last call was filled by ustack items alone) and drives there: a
 * signal during that drive must still end the call with EINTR. */
static void test_tap_epoll_kernel_first(void **state)
{
	struct sockaddr_in sa, sb;
	struct epoll_event ev = { .events = EPOLLIN }, out[1];
	struct epw w = { 0 };
	pthread_t th;
	char c;
	int a, b, before;

	(void)state;
	if (!driving)
		skip();
	a = udp_on_tap(4341, &sa);
	b = udp_on_tap(4342, &sb);
	assert_int_equal(sendto(ktap, "w", 1, 0, (struct sockaddr *)&sb,
				sizeof(sb)), 1);
	expect_byte(b, &sb, 'w');
	w.ep = us_epoll_create1(0);
	ev.data.fd = a;
	assert_int_equal(us_epoll_ctl(w.ep, EPOLL_CTL_ADD, a, &ev), 0);
	assert_int_equal(sendto(ktap, "x", 1, 0, (struct sockaddr *)&sa,
				sizeof(sa)), 1);
	assert_int_equal(us_epoll_wait(w.ep, out, 1, HANG_GUARD_MS), 1);
	/* n == max from ustack items alone: the next call asks the kernel
	 * first. */
	assert_int_equal(us_recv(a, &c, 1, MSG_DONTWAIT), 1);
	install(false);
	before = atomic_load(&handled);
	pthread_mutex_lock(&F.st->lock);
	assert_int_equal(sendto(ktap, "b", 1, 0, (struct sockaddr *)&sb,
				sizeof(sb)), 1);
	usleep(20000);
	pthread_create(&th, NULL, epw_main, &w);
	while (!atomic_load(&w.tid))
		usleep(100);
	wait_in_futex(atomic_load(&w.tid));
	assert_int_equal(pthread_kill(th, SIGUSR1), 0);
	usleep(20000);
	pthread_mutex_unlock(&F.st->lock);
	for (int i = 0; i < HANG_GUARD_MS && !atomic_load(&w.done); i++)
		usleep(1000);
	if (!atomic_load(&w.done)) {
		assert_int_equal(sendto(ktap, "a", 1, 0, (struct sockaddr *)&sa,
					sizeof(sa)), 1);
		pthread_join(th, NULL);
		fail_msg("epoll_wait slept on after a signal during its "
			 "kernel-first drive (handled %d -> %d, rc %d)", before,
			 atomic_load(&handled), w.rc);
	}
	pthread_join(th, NULL);
	assert_int_equal(w.rc, -1);
	assert_int_equal(w.err, EINTR);
	us_close(w.ep);
	us_close(a);
	us_close(b);
}

static void test_tap_signal_while_driving(void **state)
{
	if (!driving)
		skip();
	signal_while_driving(CALL_RECV);
	signal_while_driving(CALL_EPOLL);
	signal_while_driving(CALL_POLL);
	signal_while_driving(CALL_POLL_TIMED);
	signal_while_driving(CALL_SELECT);
}

/* A kernel TCP listener on the TAP network's kernel address; *ka gets it. */
static int kernel_listener(uint16_t port, struct sockaddr_in *ka)
{
	int kl = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(kl >= 0);
	tap_sin(ka, 1, port);
	assert_int_equal(bind(kl, (struct sockaddr *)ka, sizeof(*ka)), 0);
	assert_int_equal(listen(kl, 16), 0);
	return kl;
}

/*
 * A blocking connect takes the TAP from the runtime thread while it
 * drives (us_runtime_claim) and must give it back, at once or when its
 * linger ends: once it returned, a datagram with no ustack thread waiting
 * is still taken in (by the runtime thread), whether the connect read the
 * device empty or stopped after the SYN-ACK.
 */
static void test_tap_connect_gives_back(void **state)
{
	struct sockaddr_in ka, ua;
	int kl, a;

	if (!driving)
		skip();
	a = udp_on_tap(4321, &ua);
	kl = kernel_listener(4400, &ka);
	for (int i = 0; i < 20; i++) {
		int fd = us_socket_on(F.st, AF_INET, SOCK_STREAM, 0), kc;
		char got = 0;
		int tries;

		assert_true(fd >= 0);
		assert_int_equal(us_connect(fd, (struct sockaddr *)&ka,
					    sizeof(ka)), 0);
		assert_int_equal(sendto(ktap, "x", 1, 0,
					(struct sockaddr *)&ua, sizeof(ua)), 1);
		/* A nonblocking recv does not drive: only the runtime
		 * thread can read the datagram in. */
		for (tries = 0; tries < HANG_GUARD_MS; tries++) {
			if (us_recv(a, &got, 1, MSG_DONTWAIT) == 1)
				break;
			usleep(1000);
		}
		assert_true(tries < HANG_GUARD_MS);
		assert_int_equal(got, 'x');
		kc = accept(kl, NULL, NULL);
		assert_true(kc >= 0);
		close(kc);
		us_close(fd);
	}
	close(kl);
	us_close(a);
}

/*
 * A blocking connect takes the TAP from the runtime thread (its claim);
 * a handler interrupting it makes a timed recv, which sleeps without
 * driving: the claim must be given back for that sleep, or nobody reads
 * the device until some timer runs the engine.
 */
static atomic_int claim_b = -1;
static atomic_long claim_rc = -2;

static void on_signal_timed_recv(int sig)
{
	char c;

	(void)sig;
	atomic_store(&claim_rc, (long)us_recv(atomic_load(&claim_b), &c, 1, 0));
	atomic_fetch_add(&handled, 1);
}

struct connector { int fd; atomic_int tid; atomic_bool done; };

static void *connector_main(void *arg)
{
	struct connector *c = arg;
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(4401),
				  .sin_addr.s_addr = htonl(TAP_NET | 3) };

	atomic_store(&c->tid, (int)syscall(SYS_gettid));
	(void)us_connect(c->fd, (struct sockaddr *)&to, sizeof(to));
	atomic_store(&c->done, true);
	return NULL;
}

static unsigned int claims(void)
{
	unsigned int n;

	pthread_mutex_lock(&F.st->lock);
	n = us_runtime_claims(F.st);
	pthread_mutex_unlock(&F.st->lock);
	return n;
}

/* Until thread *tid (once it has set it) sleeps in system call `call`. */
static void wait_in_syscall(const atomic_int *tid, long call)
{
	long nr = 0;
	int i;

	for (i = 0; i < HANG_GUARD_MS; i++) {
		int t = atomic_load(tid);

		if (t && asleep_in_kernel(t, &nr) && nr == call)
			break;
		usleep(1000);
	}
	assert_true(i < HANG_GUARD_MS);
}

/* Until thread *tid sleeps in ppoll: a timed sleep, which cannot drive. */
static void wait_in_ppoll(const atomic_int *tid)
{
	wait_in_syscall(tid, SYS_ppoll);
}

static bool devices_taken(void)
{
	bool taken;

	pthread_mutex_lock(&F.st->lock);
	taken = us_runtime_taken(F.st);
	pthread_mutex_unlock(&F.st->lock);
	return taken;
}

static void test_tap_handler_sleep_gives_back(void **state)
{
	struct connector c = { .tid = 0 };
	struct sockaddr_in sa, sb;
	pthread_t th;
	int a, b, before = atomic_load(&handled), i;
	long nr = 0;

	(void)state;
	if (!driving)
		skip();
	two_on_tap(&a, &sa, &b, &sb);
	make_blocking(b, true);
	set_rcvtimeo(b, true, HANG_GUARD_MS / 1000);
	atomic_store(&claim_b, b);
	atomic_store(&claim_rc, -2);
	install_handler(on_signal_timed_recv, true);
	c.fd = us_socket_on(F.st, AF_INET, SOCK_STREAM, 0);
	assert_true(c.fd >= 0);
	assert_int_equal(pthread_create(&th, NULL, connector_main, &c), 0);
	/* The connect asleep, holding the TAP (nobody answers its ARP). */
	for (i = 0; i < HANG_GUARD_MS; i++) {
		int tid = atomic_load(&c.tid);

		if (tid && asleep_in_kernel(tid, &nr) && claims() == 1)
			break;
		usleep(1000);
	}
	assert_true(i < HANG_GUARD_MS);
	assert_int_equal(pthread_kill(th, SIGUSR1), 0);
	/* The handler's recv asleep in ppoll (timed: it cannot drive). */
	wait_in_ppoll(&c.tid);
	assert_int_equal(claims(), 0);
	assert_false(devices_taken());
	assert_int_equal(sendto(ktap, "t", 1, 0, (struct sockaddr *)&sb,
				sizeof(sb)), 1);
	wait_handled(before);
	assert_int_equal(atomic_load(&claim_rc), 1);
	/* Shut down while connecting: the connect ends (Linux's
	 * inet_shutdown disconnects a SYN_SENT socket). */
	assert_int_equal(us_shutdown(c.fd, SHUT_RDWR), 0);
	for (i = 0; i < HANG_GUARD_MS && !atomic_load(&c.done); i++)
		usleep(1000);
	assert_true(atomic_load(&c.done));
	pthread_join(th, NULL);
	us_close(c.fd);
	us_close(a);
	us_close(b);
}

struct timed_recv { int fd; atomic_int tid; atomic_long rc; char got; };

static void *timed_recv_main(void *arg)
{
	struct timed_recv *t = arg;

	atomic_store(&t->tid, (int)syscall(SYS_gettid));
	atomic_store(&t->rc, (long)us_recv(t->fd, &t->got, 1, 0));
	return NULL;
}

static void set_linger(unsigned int usec)
{
	pthread_mutex_lock(&F.st->lock);
	us_runtime_set_linger(F.st, usec);
	pthread_mutex_unlock(&F.st->lock);
}

static void end_linger(void)
{
	pthread_mutex_lock(&F.st->lock);
	us_runtime_linger_end(F.st);
	pthread_mutex_unlock(&F.st->lock);
}

/* A blocking connect to ka, kept open; its result. */
static int connect_kept(const struct sockaddr_in *ka, int *fd)
{
	*fd = us_socket_on(F.st, AF_INET, SOCK_STREAM, 0);
	assert_true(*fd >= 0);
	return us_connect(*fd, (const struct sockaddr *)ka, sizeof(*ka));
}

/* A thread asleep in us_epoll_wait on a gets a datagram from the kernel
 * (reading the TAP: tap_datagram); whether the TAP is taken after. */
static bool epoll_read_keeps(int a, const struct sockaddr_in *sa)
{
	uint64_t before = driven();
	struct blocker blk;
	char c;

	start(&blk, CALL_EPOLL, true, a);
	assert_int_equal(sendto(ktap, "e", 1, 0, (const struct sockaddr *)sa,
				sizeof(*sa)), 1);
	pthread_join(blk.thread, NULL);
	assert_int_equal(blk.rc, 1);
	assert_true(driven() > before);
	assert_int_equal(us_recv(a, &c, 1, 0), 1);
	assert_int_equal(c, 'e');
	return devices_taken();
}

/*
 * The linger (runtime.c, us_runtime_claim), made longer than any step
 * here (60 s) so that what holds the devices is seen, not raced: a
 * connect that succeeded keeps them after it returns; one that failed
 * gives them back (a linger too); a thread asleep in a timed recv, which
 * cannot read the TAP, ends a linger and keeps a connect from starting
 * one, and gets its datagram; an epoll_wait that read the TAP keeps them
 * unless the last linger had no such read during it (then one in
 * RT_LINGER_PROBE does).
 * With the default linger, one ends by itself.
 */
static void test_tap_linger(void **state)
{
	struct timed_recv t = { .tid = 0, .rc = -2 };
	struct sockaddr_in ka, sa, sb, nowhere;
	pthread_t th;
	int kl, a, fd[5], i, n = 0;

	(void)state;
	if (!driving)
		skip();
	two_on_tap(&a, &sa, &t.fd, &sb);
	make_blocking(t.fd, true);
	set_rcvtimeo(t.fd, true, HANG_GUARD_MS / 1000);
	kl = kernel_listener(4402, &ka);
	nowhere = ka;
	nowhere.sin_addr.s_addr = htonl(0x0a630001u);   /* no route */
	set_linger(60u * 1000 * 1000);
	assert_false(devices_taken());

	assert_int_equal(connect_kept(&ka, &fd[n++]), 0);
	assert_true(devices_taken());
	assert_int_equal(connect_kept(&nowhere, &fd[n++]), -1);
	assert_int_equal(errno, ENETUNREACH);
	assert_false(devices_taken());

	assert_int_equal(connect_kept(&ka, &fd[n++]), 0);
	assert_true(devices_taken());
	assert_int_equal(pthread_create(&th, NULL, timed_recv_main, &t), 0);
	wait_in_ppoll(&t.tid);
	assert_false(devices_taken());
	assert_int_equal(connect_kept(&ka, &fd[n++]), 0);
	assert_false(devices_taken());
	assert_int_equal(sendto(ktap, "t", 1, 0, (struct sockaddr *)&sb,
				sizeof(sb)), 1);
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&t.rc), 1);
	assert_int_equal(t.got, 't');

	/* An epoll_wait that read the TAP (tap_datagram: it does) keeps
	 * it. Once a linger ends with no such read during it, the next read
	 * does not start one, and one read in RT_LINGER_PROBE does (fewer
	 * calls if a stray frame made one call read twice); once a linger
	 * had a read during it, the next read lingers again. */
	assert_true(epoll_read_keeps(a, &sa));
	end_linger();
	assert_false(epoll_read_keeps(a, &sa));
	for (i = 2; i <= RT_LINGER_PROBE && !epoll_read_keeps(a, &sa); i++)
		;
	assert_true(i <= RT_LINGER_PROBE);
	assert_true(epoll_read_keeps(a, &sa));   /* during the linger */
	end_linger();
	assert_true(epoll_read_keeps(a, &sa));

	/* The default linger ends by itself. */
	set_linger(0);
	assert_int_equal(connect_kept(&ka, &fd[n++]), 0);
	assert_false(devices_taken());
	set_linger(RT_LINGER_US);
	us_close(fd[--n]);
	assert_int_equal(connect_kept(&ka, &fd[n++]), 0);
	for (i = 0; i < HANG_GUARD_MS && devices_taken(); i++)
		usleep(1000);
	assert_true(i < HANG_GUARD_MS);
	for (i = 0; i < n; i++)
		us_close(fd[i]);
	close(kl);
	us_close(a);
	us_close(t.fd);
}

/*
 * The runtime thread, woken by its timer while another thread holds the
 * core lock, leaves its pass to that thread (runtime.c, rt_hand_off): the
 * timer runs in the thread that lets the lock go through us_core_unlock
 * (the runtime's retry set to 60 s here, so that it cannot take it
 * first). A thread that lets it go otherwise leaves it to the runtime
 * thread's retry (the default, RT_HAND_OFF_MS).
 */
static struct {
	struct us_timer t;
	atomic_bool ran;
	atomic_bool by_me;
	pthread_t me;
} hot;

static void hot_fire(struct us_timer *t, us_time_t now)
{
	(void)t;
	(void)now;
	atomic_store(&hot.by_me, pthread_equal(pthread_self(), hot.me));
	atomic_store(&hot.ran, true);
}

static void test_runtime_hand_off(void **state)
{
	atomic_int rt_tid;

	(void)state;
	for (int raw = 0; raw < 2; raw++) {
		bool left, early;
		int i;

		atomic_store(&hot.ran, false);
		atomic_store(&hot.by_me, false);
		hot.me = pthread_self();
		us_timer_init(&hot.t, hot_fire);
		set_hand_off_ms(raw ? RT_HAND_OFF_MS : 60 * 1000);
		/* The runtime thread idle in its epoll_wait first (not in a
		 * pass, which would wait for the lock as usual). */
		atomic_store(&rt_tid, runtime_tid());
		wait_in_syscall(&rt_tid, SYS_epoll_wait);
		pthread_mutex_lock(&F.st->lock);
		us_timer_mod(&F.st->timers, &hot.t,
			     us_clock_now(F.st->clock) + 2000);
		us_runtime_kick(F.st);
		/* The timer fires meanwhile (2 ms on); the lock is ours. The
		 * runtime thread leaves its pass to us: until it has, the
		 * lock is kept (asserted once it is let go). */
		usleep(50 * 1000);
		left = pass_left();
		early = atomic_load(&hot.ran);
		if (!raw) {
			us_core_unlock(F.st);
			assert_true(left);
			assert_false(early);
			assert_true(atomic_load(&hot.ran));
			assert_true(atomic_load(&hot.by_me));
			continue;
		}
		pthread_mutex_unlock(&F.st->lock);
		assert_true(left);
		assert_false(early);
		for (i = 0; i < HANG_GUARD_MS && !atomic_load(&hot.ran); i++)
			usleep(1000);
		assert_true(atomic_load(&hot.ran));
		assert_false(atomic_load(&hot.by_me));
	}
	set_hand_off_ms(RT_HAND_OFF_MS);
}

/* Until the TAP holds a frame (poll does not take it) or datagram c has
 * reached b already (the runtime thread's timer pass read the TAP). */
static void wait_tap_or_delivered(int b, char c)
{
	struct pollfd p = { .fd = -1, .events = POLLIN };
	struct list_head *pos;
	char got;
	int i;

	list_for_each(pos, &F.st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device,
						    list);

		if (dev->fd >= 0)
			p.fd = dev->fd;
	}
	assert_true(p.fd >= 0);
	for (i = 0; i < HANG_GUARD_MS; i++) {
		if (poll(&p, 1, 0) == 1)
			return;
		if (us_recv(b, &got, 1, MSG_PEEK | MSG_DONTWAIT) == 1 &&
		    got == c)
			return;
		usleep(1000);
	}
	fail_msg("datagram %c neither in the TAP nor delivered", c);
}

/*
 * A blocking write of more than one segment takes the devices from the
 * runtime thread and keeps them a linger after it (tcp_sockops.c,
 * inet_stream_sendmsg); the next such write reads what came meanwhile
 * (a datagram here; the linger is 60 s) before it sends. A write of one
 * segment or less takes nothing.
 */
static void test_tap_bulk_send_claims(void **state)
{
	static char buf[4096];      /* > the MSS, < the send buffer */
	uint64_t before;
	struct sockaddr_in ka, sa, sb;
	int kl, ks, fd, a, b;
	char got = 0;

	(void)state;
	if (!driving)
		skip();
	two_on_tap(&a, &sa, &b, &sb);
	kl = kernel_listener(4403, &ka);
	set_linger(60u * 1000 * 1000);
	assert_int_equal(connect_kept(&ka, &fd), 0);
	ks = accept(kl, NULL, NULL);
	assert_true(ks >= 0);
	end_linger();                          /* the connect's */
	assert_false(devices_taken());

	assert_int_equal(us_send(fd, buf, 100, 0), 100);
	assert_false(devices_taken());
	assert_int_equal(us_send(fd, buf, sizeof(buf), 0), (int)sizeof(buf));
	assert_true(devices_taken());
	/* The peer's ACKs read, so that a frame in the TAP is the
	 * datagram (the TAP's tx count would not do: the kernel counts a
	 * frame when it is read). */
	pthread_mutex_lock(&F.st->lock);
	(void)us_runtime_drive(F.st);
	us_core_unlock(F.st);
	assert_int_equal(sendto(ktap, "s", 1, 0, (struct sockaddr *)&sb,
				sizeof(sb)), 1);
	wait_tap_or_delivered(b, 's');
	/* The write reads the device first (the runtime thread may also
	 * have read it by now, for a timer: then the datagram is there
	 * anyway, and the count still shows this write's read). */
	before = driven();
	assert_int_equal(us_send(fd, buf, sizeof(buf), 0), (int)sizeof(buf));
	assert_true(driven() > before);
	assert_int_equal(us_recv(b, &got, 1, MSG_DONTWAIT), 1);
	assert_int_equal(got, 's');
	assert_true(devices_taken());

	set_linger(RT_LINGER_US);
	end_linger();
	us_close(fd);
	close(ks);
	close(kl);
	us_close(a);
	us_close(b);
}

int main(void)
{
#define INTR_CASES(SETUP) \
		cmocka_unit_test_setup_teardown(test_recv_eintr, SETUP, teardown), \
		cmocka_unit_test_setup_teardown(test_recv_restarted, SETUP, \
						teardown), \
		cmocka_unit_test_setup_teardown(test_recv_timeout_eintr, SETUP, \
						teardown), \
		cmocka_unit_test_setup_teardown(test_poll_never_restarts, SETUP, \
						teardown), \
		cmocka_unit_test_setup_teardown(test_epoll_never_restarts, SETUP, \
						teardown), \
		cmocka_unit_test_setup_teardown(test_select_never_restarts, \
						SETUP, teardown), \
		cmocka_unit_test_setup_teardown(test_accept_eintr, SETUP, \
						teardown), \
		cmocka_unit_test_setup_teardown(test_many_sleepers_and_close, \
						SETUP, teardown), \
		cmocka_unit_test_setup_teardown(test_nested_blocking_call, \
						SETUP, teardown), \
		cmocka_unit_test_setup_teardown(test_handler_wakes_own_call, \
						SETUP, teardown), \
		cmocka_unit_test_setup_teardown(test_runtime_hand_off, SETUP, \
						teardown)
	const struct CMUnitTest tests[] = {
		INTR_CASES(setup),
	};
	const struct CMUnitTest tap_tests[] = {
		INTR_CASES(setup_tap),
		cmocka_unit_test_setup_teardown(test_tap_datagram, setup_tap,
						teardown),
		cmocka_unit_test_setup_teardown(test_tap_epoll_datagram,
						setup_tap, teardown),
		cmocka_unit_test_setup_teardown(test_tap_poll_datagram,
						setup_tap, teardown),
		cmocka_unit_test_setup_teardown(test_tap_frame_left,
						setup_tap, teardown),
		cmocka_unit_test_setup_teardown(test_tap_epoll_frame_left,
						setup_tap, teardown),
		cmocka_unit_test_setup_teardown(test_tap_poll_frame_left,
						setup_tap, teardown),
		cmocka_unit_test_setup_teardown(test_tap_signal_while_driving,
						setup_tap, teardown),
		cmocka_unit_test_setup_teardown(test_tap_epoll_kernel_first,
						setup_tap, teardown),
		cmocka_unit_test_setup_teardown(test_tap_handler_ustack_call,
						setup_tap, teardown),
		cmocka_unit_test_setup_teardown(test_tap_connect_gives_back,
						setup_tap, teardown),
		cmocka_unit_test_setup_teardown(test_tap_linger,
						setup_tap, teardown),
		cmocka_unit_test_setup_teardown(test_tap_handler_sleep_gives_back,
						setup_tap, teardown),
		cmocka_unit_test_setup_teardown(test_tap_bulk_send_claims,
						setup_tap, teardown),
	};
	int failed;

	rd_netns_setup();
	failed = cmocka_run_group_tests_name("loopback only", tests, NULL,
					     NULL);
	if (!rd_netns_why[0])
		return failed + cmocka_run_group_tests_name("with a TAP (driving)",
							    tap_tests, NULL,
							    NULL);
	if (failed)
		return failed;
	printf("kernel halves and the TAP group skipped: %s\n", rd_netns_why);
	return 77;
}
