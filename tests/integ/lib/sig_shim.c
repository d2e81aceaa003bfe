/*
 * sig_shim.c - signal handlers of a program that runs on ustack through the
 * shim, for tests/integ/shim_signals.sh, against the kernel's echo server
 * (shim_echo.py, one connection per case below). Plain libc, no ustack
 * calls.
 *
 *   sig_shim HOST PORT
 *
 * Cases, in order (each prints "ok: ..." or says what failed and exits 1):
 *   longjmp   a SIGALRM handler (signal(), a 200 us timer) leaves with
 *             siglongjmp while the program sends and receives on a socket
 *             for 1 s; then a new connection echoes.
 *   handler   a SIGALRM handler sends one byte on another socket while the
 *             program sends and receives on the first; every byte the
 *             handlers sent comes back.
 *   restart   a thread blocks in recv(); SIGUSR2 with SA_RESTART: the
 *             handler runs while recv() waits, and recv() then returns the
 *             data (restarted); without SA_RESTART recv() fails with EINTR.
 *   epoll     an untimed epoll_wait() fails with EINTR under SA_RESTART.
 *   pwait     SIGUSR1 (sigqueue, SA_SIGINFO) and SIGUSR2, pending and
 *             blocked, come in epoll_pwait()'s wait, whose mask opens them:
 *             it fails with EINTR, both handlers have run when it returns,
 *             and SIGUSR1's got its siginfo (SI_QUEUE, the value) and a
 *             ucontext, as the kernel gives them.
 *   pwait-many 20 real-time signals the same way: more than the shim's
 *             list holds (16); every handler runs.
 *   actions   sigaction() reports the program's handler and flags (not the
 *             shim's), and sysv_signal()'s handler runs once; sigset()
 *             installs through the shim, SIG_HOLD blocks.
 *   vfork     what a vfork() child installs stays the child's.
 *   sigio     O_ASYNC with F_SETSIG: the echo's arrival is the signal,
 *             with si_code POLL_IN, si_band and si_fd, taken with
 *             sigtimedwait and then by an SA_SIGINFO handler (the stack's
 *             own threads read the reply, not the program's).
 * Against old code the first two hang (the handler ran while its thread
 * held the instance's lock): the script's time limit catches that.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in peer;

static void die(const char *what)
{
	fprintf(stderr, "sig_shim: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void fail(const char *what)
{
	fprintf(stderr, "sig_shim: FAIL: %s\n", what);
	exit(1);
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int dial(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&peer, sizeof(peer)) < 0)
		die("connect");
	return fd;
}

/* n bytes sent, the same n read back. */
static void echo(int fd, const char *buf, size_t n)
{
	char got[4096];
	size_t have = 0;

	if (n > sizeof(got))
		fail("echo too long");
	if (send(fd, buf, n, 0) != (ssize_t)n)
		die("send");
	while (have < n) {
		ssize_t r = recv(fd, got + have, n - have, 0);

		if (r <= 0)
			die("recv (echo)");
		have += (size_t)r;
	}
	if (memcmp(buf, got, n) != 0)
		fail("the echo differs");
}

static void timer(long usec)
{
	struct itimerval it = { { 0, usec }, { 0, usec } };

	if (setitimer(ITIMER_REAL, &it, NULL) < 0)
		die("setitimer");
}

/* Send and receive on fd for secs seconds (whatever the echo returns). */
static void traffic(int fd, double secs, volatile long *rounds)
{
	static char buf[512];
	double end = now() + secs;

	while (now() < end) {
		if (send(fd, buf, sizeof(buf), 0) < 0 && errno != EINTR)
			die("send (traffic)");
		if (recv(fd, buf, sizeof(buf), 0) < 0 && errno != EINTR)
			die("recv (traffic)");
		(*rounds)++;
	}
}

/* ---- longjmp --------------------------------------------------------------- */

static sigjmp_buf jump_env;
static volatile sig_atomic_t jump_armed;
static volatile long jumps_taken;

static void on_alarm_jump(int sig)
{
	(void)sig;
	if (jump_armed)
		siglongjmp(jump_env, 1);
}

static void case_longjmp(void)
{
	static volatile long rounds;
	static volatile double end;
	int fd = dial(), fd2;

	signal(SIGALRM, on_alarm_jump);
	end = now() + 1.0;
	if (sigsetjmp(jump_env, 1))
		jumps_taken++;
	jump_armed = 1;
	timer(200);
	if (now() < end)
		traffic(fd, end - now(), &rounds);
	jump_armed = 0;
	timer(0);
	signal(SIGALRM, SIG_DFL);
	if (jumps_taken == 0)
		fail("longjmp: no handler ran");
	close(fd);
	fd2 = dial();
	echo(fd2, "after the jumps", 15);
	close(fd2);
	printf("ok: longjmp: %ld jumps out of handlers, %ld rounds, then a "
	       "new connection echoed\n", jumps_taken, rounds);
}

/* ---- a handler that calls ustack ------------------------------------------- */

static int handler_fd;
static volatile long handler_sent;

static void on_alarm_send(int sig)
{
	int saved = errno;

	(void)sig;
	if (send(handler_fd, "h", 1, MSG_DONTWAIT) == 1)
		handler_sent++;
	errno = saved;
}

static void case_handler(void)
{
	static volatile long rounds;
	char buf[4096];
	long have = 0;
	int fd = dial();
	struct sigaction sa;

	handler_fd = dial();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm_send;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	timer(500);
	traffic(fd, 1.0, &rounds);
	timer(0);
	signal(SIGALRM, SIG_DFL);
	if (handler_sent == 0)
		fail("handler: no handler sent");
	while (have < handler_sent) {
		ssize_t r = recv(handler_fd, buf, sizeof(buf), 0);

		if (r <= 0)
			die("recv (handler bytes)");
		for (ssize_t i = 0; i < r; i++)
			if (buf[i] != 'h')
				fail("handler: a byte is not the handler's");
		have += r;
	}
	if (have != handler_sent)
		fail("handler: more bytes than the handlers sent");
	close(fd);
	close(handler_fd);
	printf("ok: handler: %ld sends from handlers all echoed, %ld rounds\n",
	       handler_sent, rounds);
}

/* ---- restart ----------------------------------------------------------------- */

static atomic_int usr2_seen;
static void on_usr2(int sig)
{
	(void)sig;
	atomic_fetch_add(&usr2_seen, 1);
}

struct blocked {
	int fd;
	atomic_bool done;
	ssize_t r;
	int err;
	char c;
};

static void *recv_thread(void *arg)
{
	struct blocked *b = arg;

	b->r = recv(b->fd, &b->c, 1, 0);
	b->err = errno;
	atomic_store(&b->done, true);
	return NULL;
}

/* Wait up to 3 s for cond; true when it held. */
static bool wait_for(atomic_int *v, int want)
{
	for (double end = now() + 3.0; now() < end; usleep(1000))
		if (atomic_load(v) >= want)
			return true;
	return false;
}

static bool wait_done(struct blocked *b)
{
	for (double end = now() + 3.0; now() < end; usleep(1000))
		if (atomic_load(&b->done))
			return true;
	return false;
}

static void case_restart(bool sa_restart)
{
	struct blocked b = { .fd = dial() };
	struct sigaction sa;
	pthread_t t;
	int before = atomic_load(&usr2_seen);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sa.sa_flags = sa_restart ? SA_RESTART : 0;
	sigaction(SIGUSR2, &sa, NULL);
	pthread_create(&t, NULL, recv_thread, &b);
	usleep(200000);
	pthread_kill(t, SIGUSR2);
	if (!wait_for(&usr2_seen, before + 1))
		fail("restart: the handler did not run while recv() waited");
	if (sa_restart) {
		usleep(100000);
		if (atomic_load(&b.done))
			fail("restart: recv() returned under SA_RESTART");
		if (send(b.fd, "r", 1, 0) != 1)
			die("send");
		if (!wait_done(&b))
			fail("restart: recv() did not return the data");
		if (b.r != 1 || b.c != 'r')
			fail("restart: recv() did not return the byte");
	} else {
		if (!wait_done(&b))
			fail("restart: recv() still waits without SA_RESTART");
		if (b.r != -1 || b.err != EINTR)
			fail("restart: recv() did not fail with EINTR");
	}
	pthread_join(t, NULL);
	close(b.fd);
	printf("ok: restart: %s\n", sa_restart ?
	       "the handler ran while recv() waited, then recv() returned "
	       "the data (SA_RESTART)" :
	       "recv() failed with EINTR (no SA_RESTART)");
}

/* ---- epoll ------------------------------------------------------------------- */

struct ep_wait {
	int ep;
	atomic_bool done;
	int r, err;
};

static void *epoll_thread(void *arg)
{
	struct ep_wait *w = arg;
	struct epoll_event ev;

	w->r = epoll_wait(w->ep, &ev, 1, -1);
	w->err = errno;
	atomic_store(&w->done, true);
	return NULL;
}

static void case_epoll(void)
{
	struct ep_wait w = { .ep = epoll_create1(0) };
	struct epoll_event ev = { .events = EPOLLIN };
	int fd = dial();
	pthread_t t;
	int before = atomic_load(&usr2_seen);

	signal(SIGUSR2, on_usr2);   /* SA_RESTART */
	if (w.ep < 0 || epoll_ctl(w.ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll");
	pthread_create(&t, NULL, epoll_thread, &w);
	usleep(200000);
	pthread_kill(t, SIGUSR2);
	for (double end = now() + 3.0; now() < end && !atomic_load(&w.done);)
		usleep(1000);
	if (!atomic_load(&w.done) || atomic_load(&usr2_seen) != before + 1)
		fail("epoll: epoll_wait() went on after the signal");
	if (w.r != -1 || w.err != EINTR)
		fail("epoll: epoll_wait() did not fail with EINTR");
	pthread_join(t, NULL);
	close(w.ep);
	close(fd);
	printf("ok: epoll: epoll_wait() failed with EINTR under SA_RESTART\n");
}

/* ---- pwait ------------------------------------------------------------------- */

static atomic_int info_seen;
static volatile sig_atomic_t info_code, info_value, info_uc;

static void on_usr1_info(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	info_code = si->si_code;
	info_value = si->si_value.sival_int;
	info_uc = uc != NULL;
	atomic_fetch_add(&info_seen, 1);
}

static void case_pwait(void)
{
	struct sigaction sa = { .sa_sigaction = on_usr1_info,
				.sa_flags = SA_SIGINFO | SA_RESTART };
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(0), fd = dial();
	int before = atomic_load(&usr2_seen);
	sigset_t both, old, open;
	int r;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGUSR1, &sa, NULL) < 0)
		die("sigaction");
	signal(SIGUSR2, on_usr2);
	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll");
	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &both, &old);
	if (sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 4242 }))
		die("sigqueue");
	raise(SIGUSR2);
	open = old;
	sigdelset(&open, SIGUSR1);
	sigdelset(&open, SIGUSR2);
	r = epoll_pwait(ep, &ev, 1, -1, &open);
	if (r != -1 || errno != EINTR)
		fail("pwait: epoll_pwait() did not fail with EINTR");
	if (atomic_load(&info_seen) != 1 || atomic_load(&usr2_seen) != before + 1)
		fail("pwait: a handler did not run in epoll_pwait()");
	if (info_code != SI_QUEUE || info_value != 4242)
		fail("pwait: SIGUSR1's handler did not get its siginfo");
	if (!info_uc)
		fail("pwait: SIGUSR1's handler got no ucontext");
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	signal(SIGUSR1, SIG_DFL);
	close(ep);
	close(fd);
	printf("ok: pwait: both handlers ran in epoll_pwait(), with siginfo "
	       "and ucontext\n");
}

/* More signals in one call than the shim holds a list for (16): every
 * one's handler runs, none is lost (the kernel's queue keeps them). */
static atomic_int rt_seen;

static void on_rt(int sig)
{
	(void)sig;
	atomic_fetch_add(&rt_seen, 1);
}

static void case_pwait_many(void)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(0), fd = dial(), n = 20, r;
	sigset_t all, old, open;

	if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll");
	sigemptyset(&all);
	for (int i = 0; i < n; i++) {
		signal(SIGRTMIN + i, on_rt);
		sigaddset(&all, SIGRTMIN + i);
	}
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < n; i++)
		if (sigqueue(getpid(), SIGRTMIN + i, (union sigval){ 0 }))
			die("sigqueue");
	open = old;
	for (int i = 0; i < n; i++)
		sigdelset(&open, SIGRTMIN + i);
	r = epoll_pwait(ep, &ev, 1, -1, &open);
	if (r != -1 || errno != EINTR)
		fail("pwait-many: epoll_pwait() did not fail with EINTR");
	if (atomic_load(&rt_seen) != n) {
		fprintf(stderr, "sig_shim: %d of %d handlers ran\n",
			atomic_load(&rt_seen), n);
		fail("pwait-many: signals were lost");
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	for (int i = 0; i < n; i++)
		signal(SIGRTMIN + i, SIG_DFL);
	close(ep);
	close(fd);
	printf("ok: pwait-many: %d signals in one call, every handler ran\n", n);
}

/* ---- actions ----------------------------------------------------------------- */

static void on_usr1(int sig)
{
	(void)sig;
	atomic_fetch_add(&usr2_seen, 1);
}

/* The handler the kernel holds for sig, read with the system call. */
static void *kernel_handler(int sig)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} k;

	if (syscall(SYS_rt_sigaction, sig, NULL, &k, sizeof(k.mask)) < 0)
		die("rt_sigaction");
	return k.handler;
}

/* sigset() is obsolete (glibc marks it deprecated), but programs use it. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static void case_actions(void)
{
	struct sigaction old;
	int before;

	signal(SIGUSR1, on_usr1);
	if (sigaction(SIGUSR1, NULL, &old) < 0)
		die("sigaction");
	if (old.sa_handler != on_usr1 || (old.sa_flags & SA_SIGINFO) ||
	    !(old.sa_flags & SA_RESTART))
		fail("actions: sigaction() does not report signal()'s action");
	if (signal(SIGUSR1, SIG_DFL) != on_usr1)
		fail("actions: signal() does not return the old handler");
	before = atomic_load(&usr2_seen);
	sysv_signal(SIGUSR1, on_usr1);
	raise(SIGUSR1);
	if (atomic_load(&usr2_seen) != before + 1)
		fail("actions: sysv_signal()'s handler did not run");
	if (sigaction(SIGUSR1, NULL, &old) < 0 || old.sa_handler != SIG_DFL)
		fail("actions: sysv_signal()'s handler was not reset");
	/* sigset(): the kernel gets the shim's trampoline (read with the
	 * system call, which the shim does not see), sigaction() reports the
	 * program's handler without flags; SIG_HOLD blocks and is reported
	 * back by the next sigset(), which unblocks. */
	if (sigset(SIGUSR1, on_usr1) != SIG_DFL)
		fail("actions: sigset() does not return the old handler");
	if (kernel_handler(SIGUSR1) == (void *)on_usr1)
		fail("actions: sigset()'s handler is the kernel's, not held");
	if (sigaction(SIGUSR1, NULL, &old) < 0 || old.sa_handler != on_usr1 ||
	    (old.sa_flags & (SA_RESTART | SA_SIGINFO | SA_RESETHAND)))
		fail("actions: sigaction() does not report sigset()'s action");
	before = atomic_load(&usr2_seen);
	if (sigset(SIGUSR1, SIG_HOLD) != on_usr1)
		fail("actions: sigset(SIG_HOLD) does not return the handler");
	raise(SIGUSR1);
	if (atomic_load(&usr2_seen) != before)
		fail("actions: sigset(SIG_HOLD) did not block");
	if (sigset(SIGUSR1, on_usr1) != SIG_HOLD)
		fail("actions: sigset() after SIG_HOLD does not say SIG_HOLD");
	if (atomic_load(&usr2_seen) != before + 1)
		fail("actions: the held signal did not run once unblocked");
	signal(SIGUSR1, SIG_DFL);
	printf("ok: actions: the program's handlers and flags are reported; "
	       "sysv_signal() resets; sigset() as System V's\n");
}

/* ---- vfork ------------------------------------------------------------------- */

static atomic_int other_seen;
static void on_usr1_other(int sig)
{
	(void)sig;
	atomic_fetch_add(&other_seen, 1);
}

/*
 * A vfork() child shares the parent's memory but has its own signal
 * actions (subprocess resets them before exec): what it installs must not
 * become the parent's handler.
 */
static void case_vfork(void)
{
	struct sigaction old;
	int before = atomic_load(&usr2_seen), status;
	pid_t pid;

	signal(SIGUSR1, on_usr1);
	pid = vfork();
	if (pid == 0) {
		signal(SIGUSR1, on_usr1_other);
		signal(SIGUSR1, SIG_DFL);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
		die("vfork");
	if (sigaction(SIGUSR1, NULL, &old) < 0 || old.sa_handler != on_usr1)
		fail("vfork: the child's sigaction changed the parent's");
	raise(SIGUSR1);
	if (atomic_load(&usr2_seen) != before + 1 ||
	    atomic_load(&other_seen) != 0)
		fail("vfork: the parent's handler is not its own");
	signal(SIGUSR1, SIG_DFL);
	printf("ok: vfork: the child's handlers stayed its own\n");
}

/* ---- sigio ------------------------------------------------------------------ */

static volatile sig_atomic_t io_seen, io_code, io_fd;
static volatile long io_band;

static void on_io(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	io_code = si->si_code;
	io_band = si->si_band;
	io_fd = si->si_fd;
	io_seen++;
}

/* Read n bytes from a nonblocking socket (5 s at most). */
static void read_n(int fd, size_t n)
{
	char buf[64];
	size_t have = 0;
	double end = now() + 5;

	while (have < n && now() < end) {
		ssize_t k = recv(fd, buf, sizeof(buf), 0);

		if (k > 0)
			have += (size_t)k;
		else if (k == 0 || errno != EAGAIN)
			die("recv");
		else
			usleep(1000);
	}
	if (have != n)
		fail("sigio: the echo did not come back");
}

static void case_sigio(void)
{
	int fd = dial(), sig = SIGRTMIN + 1;
	struct timespec tmo = { 5, 0 }, zero = { 0, 0 };
	struct sigaction sa;
	sigset_t set;
	siginfo_t si;
	double end;

	sigemptyset(&set);
	sigaddset(&set, sig);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	if (fcntl(fd, F_SETOWN, getpid()) < 0 || fcntl(fd, F_SETSIG, sig) < 0 ||
	    fcntl(fd, F_SETFL, O_ASYNC | O_NONBLOCK) < 0)
		die("fcntl");
	if (fcntl(fd, F_GETSIG) != sig || !(fcntl(fd, F_GETFL) & O_ASYNC))
		fail("sigio: F_GETSIG / F_GETFL do not read back");
	if (send(fd, "ping", 4, 0) != 4)
		die("send");
	if (sigtimedwait(&set, &si, &tmo) != sig)
		fail("sigio: no signal for the echo");
	if (si.si_code != POLL_IN || si.si_fd != fd ||
	    si.si_band != (POLLIN | POLLRDNORM)) {
		fprintf(stderr, "sig_shim: code %d band %#lx fd %d (fd %d)\n",
			si.si_code, si.si_band, si.si_fd, fd);
		fail("sigio: not POLL_IN for the socket");
	}
	read_n(fd, 4);
	/* (The echo may have come in pieces, a signal each.) */
	while (sigtimedwait(&set, NULL, &zero) > 0)
		;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_io;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	if (sigaction(sig, &sa, NULL) < 0)
		die("sigaction");
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	if (send(fd, "pong", 4, 0) != 4)
		die("send");
	for (end = now() + 5; !io_seen && now() < end;)
		usleep(1000);
	if (!io_seen || io_code != POLL_IN || io_fd != fd ||
	    io_band != (POLLIN | POLLRDNORM))
		fail("sigio: the handler did not get POLL_IN for the socket");
	read_n(fd, 4);
	if (fcntl(fd, F_SETFL, 0) < 0)
		die("fcntl");
	close(fd);
	printf("ok: sigio: the echo arrived as POLL_IN, waited for and "
	       "handled\n");
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: sig_shim HOST PORT\n");
		return 2;
	}
	peer.sin_family = AF_INET;
	peer.sin_port = htons((uint16_t)atoi(argv[2]));
	if (inet_pton(AF_INET, argv[1], &peer.sin_addr) != 1)
		fail("bad address");
	setvbuf(stdout, NULL, _IOLBF, 0);
	case_longjmp();
	case_handler();
	case_restart(true);
	case_restart(false);
	case_epoll();
	case_pwait();
	case_pwait_many();
	case_actions();
	case_vfork();
	case_sigio();
	printf("sig_shim: all cases passed\n");
	return 0;
}
