/*
 * preload.h - what the two halves of libustack-preload.so share: the
 * interposed libc calls (preload.c) and the process's one stack instance,
 * made from the environment on first use (instance.c).
 *
 * Call chain: program -> libc name (socket, read, epoll_wait, ...) resolved
 *             to preload.c -> us_* (src/socket/api.c, poll.c, epoll.c) for
 *             ustack descriptors, the next definition (libc) otherwise.
 */
#ifndef US_PRELOAD_PRELOAD_H
#define US_PRELOAD_PRELOAD_H

#include <signal.h>
#include <stdbool.h>

struct ustack;

/*
 * The instance sockets go on, created (from USTACK_TAP, USTACK_ADDR, ...)
 * on first call. NULL with *err = -errno when the environment is wrong or
 * the device cannot be attached; one message on stderr names the variable.
 */
struct ustack *shim_stack(int *err);

/* True in a child made by fork(): ustack descriptors it inherited are not
 * usable there (the instance and its device belong to the parent). */
bool shim_in_child(void);
/* True in a fork() child, which has its own copy of the process's memory
 * (not in a vfork() child, which may share the parent's). */
bool shim_child_owns_copy(void);
/* The child's error for a ustack descriptor: one message, EOPNOTSUPP. */
int shim_child_error(int fd);

/*
 * signals.c: a program's handlers run outside ustack's calls. Every call
 * into ustack is bracketed by shim_sig_enter and shim_sig_leave (the
 * SHIM_CALL macros of preload.c); shim_sig_leave runs the handlers of the
 * signals that came meanwhile and returns true when the call must be made
 * again (restartable: the kernel would restart it after an SA_RESTART
 * handler; poll, select, epoll_wait and close are not).
 */
void shim_sig_enter(void);
bool shim_sig_leave(bool failed, bool restartable);
int shim_sigaction(int sig, const struct sigaction *act,
		   struct sigaction *old);
/* signal() with these sa_flags (glibc's: SA_RESTART; sysv_signal's:
 * SA_RESETHAND | SA_NODEFER). */
__sighandler_t shim_signal(int sig, __sighandler_t handler, int flags);

/* Resolve a libc function that this library hides (dlsym RTLD_NEXT). */
void *shim_dlsym(const char *name);

#endif
