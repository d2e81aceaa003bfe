/*
 * sys.h - direct system calls for the stack's own use of kernel
 * descriptors.
 *
 * When the LD_PRELOAD shim is loaded, the libc names (read, close, bind,
 * ...) resolve to the shim, which sends calls on ustack descriptors back
 * into ustack. The stack's own eventfds are ustack descriptors, and the
 * us_* calls pass kernel descriptors through to the kernel, so both must
 * bypass the shim: they go straight to the kernel through syscall(2).
 */
#ifndef US_CORE_SYS_H
#define US_CORE_SYS_H

#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#define us_sys(...) syscall(__VA_ARGS__)

static inline ssize_t us_sys_read(int fd, void *buf, size_t n)
{
	return (ssize_t)syscall(SYS_read, fd, buf, n);
}

static inline ssize_t us_sys_write(int fd, const void *buf, size_t n)
{
	return (ssize_t)syscall(SYS_write, fd, buf, n);
}

static inline int us_sys_close(int fd)
{
	return (int)syscall(SYS_close, fd);
}

static inline pid_t us_sys_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* rt_tgsigqueueinfo: sig with si to thread tid of process tgid. A thread
 * may send itself any si_code; to others only negative ones (SI_QUEUE,
 * SI_SIGIO, ...). 0 or -1 with errno. */
static inline int us_sys_tgsigqueue(pid_t tgid, pid_t tid, int sig,
				    siginfo_t *si)
{
	return (int)syscall(SYS_rt_tgsigqueueinfo, tgid, tid, sig, si);
}

#endif
