/*
 * signals.c - a program's signal handlers run outside ustack's calls.
 *
 * A handler may leave with longjmp (iperf3's on SIGINT), call exit() (which
 * closes ustack sockets) or call ustack itself. Run while its thread was
 * inside a ustack call holding the instance's lock, such a handler would
 * leave the lock held or wait for its own thread. The kernel never runs a
 * handler in the middle of a system call: it runs it on the way back to
 * user space, then restarts the call if the handler has SA_RESTART and the
 * call may be restarted (signal(7)). The shim does the same:
 *
 *   sigaction/signal -> the kernel gets `trampoline` in place of the
 *                       program's handler (same mask and flags), the
 *                       program's action is kept in `acts`
 *   signal while the thread is in no ustack call -> trampoline calls the
 *                       handler at once (the kernel's mask, context)
 *   signal inside one (shim_sig_enter .. shim_sig_leave) -> trampoline
 *                       holds it; the call's sleep ends (or does not
 *                       begin) with EINTR (wait.c, us_wait_held_signals),
 *                       the call unwinds, shim_sig_leave has the kernel
 *                       deliver it again (run_held), and calls
 *                       again when the kernel would have restarted
 *                       (us_wait_take_restart: an untimed wait and
 *                       SA_RESTART, read from the kernel's action, which
 *                       siginterrupt() may have changed).
 *
 * Signals that a fault raises (SIGSEGV, SIGBUS, ...) and SIGABRT keep the
 * program's handler in the kernel: holding them would fault again or
 * abort without it. Held signals are queued to the thread again at the
 * call's end, so the kernel itself runs their handlers there, each with a
 * ucontext of the call's end (not of the inside of the call, which the
 * handler could not resume anyway). Programs that install handlers with
 * the system call itself keep the behaviour of wait.h: the handler runs in
 * the sleep it interrupts.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "core/sys.h"
#include "preload/preload.h"
#include "socket/wait.h"
#include "stack/runtime.h"

/* Signals one thread may hold within one call (more of one standard
 * signal merge, as the kernel merges them). */
#define HELD_MAX 16

/*
 * The program's action for each signal whose kernel action is the
 * trampoline (what the kernel holds says which: a handler reset by
 * SA_RESETHAND is the kernel's SIG_DFL again). Written under acts_lock
 * with the writer's signals blocked; read by the trampoline in any thread,
 * so with a sequence count (odd while it is written) rather than a lock.
 */
struct user_act {
	atomic_uint seq;
	struct sigaction sa;
};

static struct user_act acts[_NSIG];
static pthread_mutex_t acts_lock = PTHREAD_MUTEX_INITIALIZER;
/* The process whose memory this is: a vfork() child shares it, and its
 * sigaction calls (subprocess resetting handlers before exec) are its own. */
static pid_t acts_owner;

static void act_read(int sig, struct sigaction *sa)
{
	struct user_act *a = &acts[sig];
	unsigned int s;

	do {
		while ((s = atomic_load_explicit(&a->seq,
						 memory_order_acquire)) & 1)
			;
		memcpy(sa, &a->sa, sizeof(*sa));
		atomic_thread_fence(memory_order_acquire);
	} while (atomic_load_explicit(&a->seq, memory_order_relaxed) != s);
}

static void act_write(int sig, const struct sigaction *sa)
{
	struct user_act *a = &acts[sig];

	atomic_fetch_add_explicit(&a->seq, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	memcpy(&a->sa, sa, sizeof(*sa));
	atomic_fetch_add_explicit(&a->seq, 1, memory_order_release);
}

struct held {
	int sig;
	bool restart;
	siginfo_t info;
	struct sigaction sa;
};

/* Per thread: inside a ustack call (depth), and the signals held. */
static __thread volatile int depth;
static __thread volatile int nheld;
static __thread struct held held[HELD_MAX];
/* Signals that came with the list full: queued to the thread again and
 * kept blocked (those the trampoline blocked: deferred_masked) until
 * run_held opens them. */
static __thread sigset_t deferred, deferred_masked;

static void call_handler(const struct sigaction *sa, int sig,
			 siginfo_t *info, void *uc)
{
	if (sa->sa_flags & SA_SIGINFO)
		sa->sa_sigaction(sig, info, uc);
	else
		sa->sa_handler(sig);
}

/* The kernel's SA_RESTART for sig now (siginterrupt changes it there). */
static bool kernel_restarts(int sig)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		uint64_t mask;
	} k;

	if (us_sys(SYS_rt_sigaction, sig, NULL, &k, sizeof(k.mask)) < 0)
		return false;
	return k.flags & SA_RESTART;
}

/* Every signal a handler can be held for (async_block), blocked while
 * the list of held signals changes: a handler nested in the trampoline or
 * in run_held would otherwise find it half changed. */
static sigset_t async_block;

static void trampoline(int sig, siginfo_t *info, void *uc)
{
	struct sigaction sa;
	sigset_t old;
	int n;

	act_read(sig, &sa);
	if (depth == 0) {
		call_handler(&sa, sig, info, uc);
		return;
	}
	pthread_sigmask(SIG_BLOCK, &async_block, &old);
	n = nheld;
	for (int i = 0; i < n; i++)
		if (held[i].sig == sig && sig < SIGRTMIN)
			n = -1;         /* merged, as the kernel merges */
	if (n >= 0 && n < HELD_MAX) {
		held[n].sig = sig;
		held[n].info = *info;
		held[n].sa = sa;
		held[n].restart = kernel_restarts(sig);
		atomic_signal_fence(memory_order_seq_cst);
		nheld = n + 1;
	} else if (n >= HELD_MAX) {
		/* The list is full: the kernel keeps the signal. Queued to
		 * this thread again and blocked when the handler returns (its
		 * ucontext's mask), it waits there for run_held. */
		ucontext_t *u = uc;

		if (us_sys_tgsigqueue(getpid(), us_sys_gettid(), sig,
				      info) == 0) {
			if (!sigismember(&u->uc_sigmask, sig)) {
				sigaddset(&u->uc_sigmask, sig);
				sigaddset(&deferred_masked, sig);
			}
			sigaddset(&deferred, sig);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* wait.c's hook: this thread holds signals (restart: all SA_RESTART). */
static bool held_signals(bool *restart)
{
	int n = nheld;

	if (n == 0 || depth == 0)
		return false;
	*restart = true;
	for (int i = 0; i < n; i++)
		*restart = *restart && held[i].restart;
	return true;
}

/*
 * Run the held handlers: each held signal is queued again to this thread
 * with its siginfo (rt_tgsigqueueinfo, which a thread may do to itself
 * with any si_code), and the kernel delivers them when run_held's mask
 * comes off, as it would have on the way out of a system call: in its
 * order, each handler with the kernel's mask and its own ucontext, the
 * action current at delivery, and a handler that leaves with longjmp
 * leaves the rest pending in the kernel, delivered as soon as the mask
 * allows. A held signal that the thread's mask blocks now (epoll_pwait,
 * ppoll and pselect unblock signals only for the wait) is unblocked until
 * it is delivered, as the kernel runs such a handler before it puts the
 * mask back. A handler with SA_RESETHAND (the kernel's action is SIG_DFL
 * again since the trampoline ran) or a signal the kernel will not queue
 * (RLIMIT_SIGPENDING) is called here instead, without a ucontext.
 * Entries are taken off the list with signals blocked: a handler that
 * calls ustack runs what its own call held at that call's end.
 */
static void run_held(void)
{
	sigset_t old, open, mask;
	pid_t pid = getpid(), tid = us_sys_gettid();

	pthread_sigmask(SIG_BLOCK, &async_block, &old);
	open = old;
	while (nheld > 0) {
		struct held h = held[0];

		for (int i = 1; i < nheld; i++)
			held[i - 1] = held[i];
		nheld = nheld - 1;
		if (!(h.sa.sa_flags & SA_RESETHAND) &&
		    us_sys_tgsigqueue(pid, tid, h.sig, &h.info) == 0) {
			sigdelset(&open, h.sig);
			continue;
		}
		sigorset(&mask, &old, &h.sa.sa_mask);
		if (!(h.sa.sa_flags & SA_NODEFER))
			sigaddset(&mask, h.sig);
		pthread_sigmask(SIG_SETMASK, &mask, NULL);
		call_handler(&h.sa, h.sig, &h.info, NULL);
		pthread_sigmask(SIG_BLOCK, &async_block, NULL);
	}
	/* Those that found the list full are pending already: opened too,
	 * and the mask the trampoline added them to is the program's
	 * again. */
	for (int sig = 1; sig < _NSIG; sig++) {
		if (!sigismember(&deferred, sig))
			continue;
		sigdelset(&open, sig);
		if (sigismember(&deferred_masked, sig))
			sigdelset(&old, sig);
	}
	sigemptyset(&deferred);
	sigemptyset(&deferred_masked);
	/* The queued signals are delivered on the way out of this call. */
	pthread_sigmask(SIG_SETMASK, &open, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

void shim_sig_enter(void)
{
	if (depth == 0)
		(void)us_wait_take_restart();
	depth = depth + 1;
	atomic_signal_fence(memory_order_seq_cst);
}

bool shim_sig_leave(bool failed, bool restartable)
{
	int err = errno;
	bool restart = false;

	/* Decided while still inside (depth 1): from depth 0 on, a handler
	 * may run at once and make calls of its own, which clear the flag. */
	atomic_signal_fence(memory_order_seq_cst);
	if (depth == 1 && nheld > 0)
		restart = us_wait_take_restart() && failed && err == EINTR &&
			  restartable;
	depth = depth - 1;
	atomic_signal_fence(memory_order_seq_cst);
	if (depth > 0 || nheld == 0)
		return false;
	run_held();
	errno = err;
	if (restart)
		shim_sig_enter();
	return restart;
}

/* ---- the program's view of its actions ---------------------------------- */

static int real_sigaction(int sig, const struct sigaction *act,
			  struct sigaction *old)
{
	static int (*real)(int, const struct sigaction *, struct sigaction *);

	if (!real)
		real = (int (*)(int, const struct sigaction *,
				struct sigaction *))shim_dlsym("sigaction");
	return real(sig, act, old);
}

/* The kernel's action of sig as the program set it. */
static void act_translate(int sig, struct sigaction *old)
{
	struct sigaction prev;
	int flags;

	if (old->sa_sigaction != trampoline)
		return;
	/* The kernel's flags (siginterrupt may have changed SA_RESTART)
	 * but the program's SA_SIGINFO. */
	act_read(sig, &prev);
	flags = (old->sa_flags & ~SA_SIGINFO) | (prev.sa_flags & SA_SIGINFO);
	*old = prev;
	old->sa_flags = flags;
}

/* A sigaction of the program: its handler goes behind the trampoline. */
int shim_sigaction(int sig, const struct sigaction *act,
		   struct sigaction *old)
{
	struct sigaction k, prev;
	sigset_t all, mask;
	int rc;

	if (!us_async_signal(sig))
		return real_sigaction(sig, act, old);
	if (getpid() != acts_owner) {
		/* A vfork() child: the kernel's actions are its own, the
		 * table is the parent's. */
		rc = real_sigaction(sig, act, old);
		if (rc == 0 && old)
			act_translate(sig, old);
		return rc;
	}
	/* No handler of this thread may come in here: it could call
	 * sigaction itself (SysV handlers reinstall themselves). */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &mask);
	pthread_mutex_lock(&acts_lock);
	act_read(sig, &prev);
	if (act && us_sig_is_handler(act)) {
		k = *act;
		k.sa_flags |= SA_SIGINFO;
		k.sa_sigaction = trampoline;
		act_write(sig, act);
		rc = real_sigaction(sig, &k, old);
	} else {
		rc = real_sigaction(sig, act, old);
	}
	if (rc == 0 && old && old->sa_sigaction == trampoline) {
		int flags = (old->sa_flags & ~SA_SIGINFO) |
			    (prev.sa_flags & SA_SIGINFO);

		*old = prev;
		old->sa_flags = flags;
	}
	if (rc != 0 && act && us_sig_is_handler(act))
		act_write(sig, &prev);
	pthread_mutex_unlock(&acts_lock);
	pthread_sigmask(SIG_SETMASK, &mask, NULL);
	if (rc == 0 && act)
		us_sig_handlers_changed();
	return rc;
}

/* signal() as glibc's: BSD semantics (SA_RESTART, the signal blocked in
 * its handler) through shim_sigaction. */
__sighandler_t shim_signal(int sig, __sighandler_t handler, int flags)
{
	struct sigaction sa, old;

	if (handler == SIG_ERR || sig <= 0 || sig >= _NSIG) {
		errno = EINVAL;
		return SIG_ERR;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	if (!(flags & SA_NODEFER))
		sigaddset(&sa.sa_mask, sig);
	sa.sa_flags = flags;
	if (shim_sigaction(sig, &sa, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

/* fork(): the child gets the table unlocked, and is its owner. The
 * forking thread's signals stay blocked while it holds the lock: a
 * handler that comes meanwhile may call sigaction (a SIGCHLD reaper
 * installing itself again). (The three run on the forking thread.) */
static sigset_t fork_mask;

static void acts_fork_prepare(void)
{
	sigset_t all;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &fork_mask);
	pthread_mutex_lock(&acts_lock);
}

static void acts_fork_parent(void)
{
	pthread_mutex_unlock(&acts_lock);
	pthread_sigmask(SIG_SETMASK, &fork_mask, NULL);
}

static void acts_fork_child(void)
{
	pthread_mutex_unlock(&acts_lock);
	acts_owner = getpid();
	pthread_sigmask(SIG_SETMASK, &fork_mask, NULL);
}

__attribute__((constructor)) static void signals_init(void)
{
	us_async_signals(&async_block);
	acts_owner = getpid();
	(void)pthread_atfork(acts_fork_prepare, acts_fork_parent,
			     acts_fork_child);
	us_wait_held_signals = held_signals;
}
