/*
 * test_dup.c - duplicated ustack descriptors (us_dup, us_dup2, us_dup3,
 * us_fcntl F_DUPFD / F_DUPFD_CLOEXEC), as Linux's dup: a new descriptor
 * number for the same open socket. The number and its close-on-exec flag
 * are the kernel's (each is a kernel dup of the socket's eventfd); close()
 * of one drops only that number, and the connection is released (the FIN)
 * when the last one goes, as Linux's file refcount. Readiness is the same
 * on every duplicate, for us_poll, a kernel poll() and us_epoll; an epoll
 * registration is keyed by (socket, number) as Linux's by (file, fd) and
 * outlives the close of its number while another descriptor holds the
 * socket.
 *
 * No runtime thread: the peer is injected (tests/lib/tcptest.h), and what
 * the stack sends is read back, so "no FIN yet" is an observation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "lib/tcptest.h"
#include "socket/socket.h"
#include "ustack/ustack.h"

static struct test_stack T;
static struct tt_conn C;

static int setup(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	tt_conn_init(&C, &T, false);
	tt_open(&C);
	return 0;
}

/* Read back everything the stack sent; true if one of them had a FIN. */
static bool sent_fin(void)
{
	struct tt_seg s;
	bool fin = false;

	while (tt_pop(&T, &s))
		fin |= (s.th.flags & TCPHDR_FIN) != 0;
	return fin;
}

/* The peer sends n bytes; the stack's ACKs are read back (no FIN). */
static void peer_data(size_t n)
{
	static const char buf[64] = "peer data";

	assert_true(n <= sizeof(buf));
	tt_peer(&C, TCPHDR_ACK | TCPHDR_PSH, buf, n);
	assert_false(sent_fin());
}

/* fd is closed for the kernel (its number freed). */
static void assert_closed(int fd)
{
	assert_int_equal(fcntl(fd, F_GETFD), -1);
	assert_int_equal(errno, EBADF);
}

/* dup, close the original: the connection goes on through the dup, no
 * FIN until the dup is closed too. */
static void test_dup_then_close_original(void **state)
{
	char buf[16];
	int d;

	(void)state;
	d = us_dup(C.fd);
	assert_true(d >= 0);
	assert_int_not_equal(d, C.fd);
	assert_int_equal(tt_state(d), TCP_ESTABLISHED);

	assert_int_equal(us_close(C.fd), 0);
	assert_closed(C.fd);
	assert_false(sent_fin());
	assert_int_equal(tt_conn_state(&C), TCP_ESTABLISHED);
	/* The number is gone, for the socket calls too. */
	assert_int_equal(us_send(C.fd, "x", 1, 0), -1);
	assert_int_equal(errno, EBADF);

	/* Both ways through the dup. */
	assert_int_equal(us_send(d, "hello", 5, 0), 5);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 5);
	C.rcv_nxt += 5;
	peer_data(4);
	assert_int_equal(us_recv(d, buf, sizeof(buf), 0), 4);
	assert_memory_equal(buf, "peer", 4);

	/* The last descriptor: now the FIN. */
	assert_int_equal(us_close(d), 0);
	TT_EXPECT(&C, TCPHDR_FIN | TCPHDR_ACK, C.rcv_nxt, C.snd_nxt);
	assert_closed(d);
	C.fd = -1;
}

/* Closing the dup first leaves the original as it was. */
static void test_close_dup_first(void **state)
{
	int d;

	(void)state;
	d = us_dup(C.fd);
	assert_true(d >= 0);
	assert_int_equal(us_close(d), 0);
	assert_closed(d);
	assert_false(sent_fin());
	assert_int_equal(us_send(C.fd, "abc", 3, 0), 3);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 3);
	C.rcv_nxt += 3;
	/* A second close of the dup's number: EBADF, as the kernel says. */
	assert_int_equal(us_close(d), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(us_close(C.fd), 0);
	TT_EXPECT(&C, TCPHDR_FIN | TCPHDR_ACK, C.rcv_nxt, C.snd_nxt);
	C.fd = -1;
}

/* dup2 onto a kernel descriptor's number, onto another ustack socket's,
 * and onto itself. */
static void test_dup2_onto_number(void **state)
{
	int kfd, other, u;

	(void)state;
	kfd = open("/dev/null", O_RDONLY);
	assert_true(kfd >= 0);
	assert_int_equal(us_dup2(C.fd, kfd), kfd);
	assert_int_equal(tt_state(kfd), TCP_ESTABLISHED);
	/* dup2 never sets close-on-exec. */
	assert_int_equal(us_fcntl(kfd, F_GETFD), 0);

	/* Onto a ustack UDP socket: that one is closed first. */
	u = us_socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(u >= 0);
	assert_int_equal(us_dup2(C.fd, u), u);
	assert_int_equal(tt_state(u), TCP_ESTABLISHED);

	/* Onto itself: the number, nothing else happens. */
	assert_int_equal(us_dup2(C.fd, C.fd), C.fd);
	/* An unopened source: EBADF, the target untouched. */
	other = open("/dev/null", O_RDONLY);
	assert_true(other >= 0);
	assert_int_equal(close(other), 0);
	assert_int_equal(us_dup2(other, u), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(tt_state(u), TCP_ESTABLISHED);

	assert_int_equal(us_close(C.fd), 0);
	assert_int_equal(us_close(kfd), 0);
	assert_false(sent_fin());
	/* u is left open: the stack's teardown closes it. */
	assert_int_equal(us_send(u, "z", 1, 0), 1);
	TT_EXPECT_DATA(&C, C.rcv_nxt, 1);
	C.fd = -1;
}

/* F_DUPFD gives the lowest free number >= its argument, the same the
 * kernel gives for its own descriptor; close-on-exec as the call says. */
static void test_fdupfd_and_cloexec(void **state)
{
	int a, b, c, k, kd;

	(void)state;
	k = open("/dev/null", O_RDONLY);
	assert_true(k >= 0);
	kd = fcntl(k, F_DUPFD, 200);
	assert_true(kd >= 200);
	assert_int_equal(close(kd), 0);

	a = us_fcntl(C.fd, F_DUPFD, 200);
	assert_int_equal(a, kd);
	assert_int_equal(us_fcntl(a, F_GETFD), 0);
	b = us_fcntl(C.fd, F_DUPFD_CLOEXEC, 200);
	assert_int_equal(b, a + 1);
	assert_int_equal(us_fcntl(b, F_GETFD), FD_CLOEXEC);
	/* The flag is the descriptor's, not the socket's. */
	assert_int_equal(us_fcntl(a, F_GETFD), 0);
	assert_int_equal(us_fcntl(a, F_SETFD, FD_CLOEXEC), 0);
	assert_int_equal(us_fcntl(C.fd, F_GETFD), 0);

	c = us_dup3(C.fd, 300, O_CLOEXEC);
	assert_int_equal(c, 300);
	assert_int_equal(us_fcntl(c, F_GETFD), FD_CLOEXEC);
	assert_int_equal(us_dup3(C.fd, 301, 0), 301);
	assert_int_equal(us_fcntl(301, F_GETFD), 0);
	/* dup3's errors, the kernel's. */
	assert_int_equal(us_dup3(C.fd, C.fd, 0), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(us_dup3(C.fd, 302, O_NONBLOCK), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(us_fcntl(C.fd, F_DUPFD, -1), -1);
	assert_int_equal(errno, EINVAL);
	/* us_dup: the lowest free number, here k's once k is closed. */
	assert_int_equal(close(k), 0);
	assert_int_equal(us_dup(C.fd), k);

	/* Five descriptors: the FIN only after the last. */
	int fds[] = { C.fd, a, b, c, 301, k };

	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		assert_false(sent_fin());
		assert_int_equal(us_close(fds[i]), 0);
	}
	TT_EXPECT(&C, TCPHDR_FIN | TCPHDR_ACK, C.rcv_nxt, C.snd_nxt);
	C.fd = -1;
}

/* Readiness on the dup, through us_poll and the kernel's poll, also after
 * the original (the number the stack signalled through) is closed. */
static void test_poll_on_dup(void **state)
{
	struct pollfd p;
	char buf[16];
	int d;

	(void)state;
	d = us_dup(C.fd);
	assert_true(d >= 0);
	p = (struct pollfd){ .fd = d, .events = POLLIN };
	assert_int_equal(us_poll(&p, 1, 0), 0);
	peer_data(3);
	assert_int_equal(us_poll(&p, 1, 0), 1);
	assert_true(p.revents & POLLIN);
	assert_int_equal(poll(&p, 1, 0), 1);
	assert_true(p.revents & POLLIN);
	assert_int_equal(us_recv(d, buf, sizeof(buf), 0), 3);
	assert_int_equal(poll(&p, 1, 0), 0);

	assert_int_equal(us_close(C.fd), 0);
	C.fd = -1;
	peer_data(2);
	assert_int_equal(poll(&p, 1, 0), 1);
	assert_true(p.revents & POLLIN);
	assert_int_equal(us_poll(&p, 1, 0), 1);
	assert_true(p.revents & POLLIN);
	assert_int_equal(us_recv(d, buf, sizeof(buf), 0), 2);
	assert_int_equal(poll(&p, 1, 0), 0);
	assert_int_equal(us_close(d), 0);
}

static int wait_one(int ep, uint64_t *data)
{
	struct epoll_event ev[4];
	int n = us_epoll_wait(ep, ev, 4, 0);

	if (n == 1)
		*data = ev[0].data.u64;
	return n;
}

/*
 * Linux's epoll keys an item by (file, fd): the original and its dup are
 * two items of one set; closing a number does not remove its item while
 * the socket lives (the file is still open), closing the last one does.
 */
static void test_epoll_after_close_of_other(void **state)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct epoll_event out[4];
	char buf[16];
	uint64_t data = 0;
	int ep, d;

	(void)state;
	ep = us_epoll_create1(0);
	assert_true(ep >= 0);
	d = us_dup(C.fd);
	assert_true(d >= 0);

	ev.data.u64 = 1;
	assert_int_equal(us_epoll_ctl(ep, EPOLL_CTL_ADD, C.fd, &ev), 0);
	ev.data.u64 = 2;
	assert_int_equal(us_epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev), 0);
	assert_int_equal(us_epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev), -1);
	assert_int_equal(errno, EEXIST);
	peer_data(3);
	assert_int_equal(us_epoll_wait(ep, out, 4, 0), 2);
	assert_int_equal(out[0].data.u64 + out[1].data.u64, 3);
	assert_int_equal(us_recv(d, buf, sizeof(buf), 0), 3);
	assert_int_equal(us_epoll_wait(ep, out, 4, 0), 0);

	/* The dup's item goes by DEL; then close the original: its item
	 * stays (the socket lives on in d) and still reports. */
	assert_int_equal(us_epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL), 0);
	assert_int_equal(us_close(C.fd), 0);
	C.fd = -1;
	peer_data(2);
	assert_int_equal(wait_one(ep, &data), 1);
	assert_int_equal(data, 1);
	assert_int_equal(us_recv(d, buf, sizeof(buf), 0), 2);

	/* Registered through d after the original is gone: works. */
	ev.data.u64 = 3;
	assert_int_equal(us_epoll_ctl(ep, EPOLL_CTL_ADD, d, &ev), 0);
	peer_data(1);
	assert_int_equal(us_epoll_wait(ep, out, 4, 0), 2);
	assert_int_equal(out[0].data.u64 + out[1].data.u64, 4);
	assert_int_equal(us_recv(d, buf, sizeof(buf), 0), 1);

	/* The last descriptor: the items go with the socket. */
	assert_int_equal(us_close(d), 0);
	TT_EXPECT(&C, TCPHDR_FIN | TCPHDR_ACK, C.rcv_nxt, C.snd_nxt);
	assert_int_equal(us_epoll_wait(ep, out, 4, 0), 0);
	assert_int_equal(us_close(ep), 0);
}

/* Duplicating what is not a ustack socket is the kernel's business; a
 * ustack epoll instance cannot be duplicated (EMFILE). */
static void test_dup_other_descriptors(void **state)
{
	int k, kd, ep;

	(void)state;
	k = open("/dev/null", O_RDONLY);
	assert_true(k >= 0);
	kd = us_dup(k);
	assert_true(kd >= 0);
	assert_false(us_fcntl(kd, F_GETFL) & O_NONBLOCK);
	assert_int_equal(close(kd), 0);
	assert_int_equal(close(k), 0);
	assert_int_equal(us_dup(k), -1);
	assert_int_equal(errno, EBADF);

	ep = us_epoll_create1(0);
	assert_true(ep >= 0);
	assert_int_equal(us_dup(ep), -1);
	assert_int_equal(errno, EMFILE);
	assert_int_equal(us_fcntl(ep, F_DUPFD_CLOEXEC, 0), -1);
	assert_int_equal(errno, EMFILE);
	assert_int_equal(us_close(ep), 0);
}

/*
 * "Is this descriptor ustack's?" takes no lock: the shim asks it of every
 * descriptor a program hands libc, and a signal handler that write()s to
 * a pipe (a self-pipe, Python's wakeup fd) while its thread holds the
 * table's lock (here: held on purpose) must get its answer, not wait for
 * itself for ever.
 */
static int hpipe[2];
static volatile sig_atomic_t h_answer = -1;

static void ask_in_handler(int sig)
{
	(void)sig;
	h_answer = fdtable_is_ours(hpipe[1]) + 2 * fdtable_is_epoll(hpipe[1]) +
		   4 * !fdtable_is_ours(C.fd);
}

static void test_is_ours_from_handler_under_lock(void **state)
{
	struct sigaction sa = { .sa_handler = ask_in_handler }, old;

	(void)state;
	assert_int_equal(pipe(hpipe), 0);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	fdtable_fork_lock();
	raise(SIGUSR1);
	fdtable_fork_unlock();
	assert_int_equal(h_answer, 0);
	assert_int_equal(sigaction(SIGUSR1, &old, NULL), 0);
	close(hpipe[0]);
	close(hpipe[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dup_then_close_original,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_close_dup_first, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_dup2_onto_number, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_fdupfd_and_cloexec, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_poll_on_dup, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_epoll_after_close_of_other,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_dup_other_descriptors,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(
			test_is_ours_from_handler_under_lock, setup, ts_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
