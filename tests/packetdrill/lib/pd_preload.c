/*
 * pd_preload.c - an LD_PRELOAD helper for running packetdrill against
 * ustack's plug-in (libustack-packetdrill.so), preloaded by run.sh on the
 * ustack side.
 *
 * 1. packetdrill dlopen()s its plug-in with RTLD_DEEPBIND, which the
 *    sanitizer runtime refuses (google/sanitizers#611). The plug-in exports
 *    only its entry points and binds everything else inside itself, so deep
 *    binding buys it nothing: this dlopen() drops the flag and hands the
 *    call on. Under ASan it must come before libasan in LD_PRELOAD (with
 *    ASAN_OPTIONS=verify_asan_link_order=0).
 * 2. A script's `%{ python }%` code events read TCP_INFO, TCP_CC_INFO and
 *    SO_MEMINFO of the script's socket with the C library's getsockopt(),
 *    which knows nothing of the plug-in's descriptors. Those three go to
 *    the plug-in's packetdrill_code_getsockopt instead, on every
 *    descriptor (with --so_filename packetdrill has no kernel TCP socket
 *    to ask); everything else to the C library.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

#ifndef TCP_CC_INFO
#define TCP_CC_INFO 26
#endif
#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

typedef void *(*dlopen_fn)(const char *file, int flags);
typedef int (*getsockopt_fn)(int fd, int level, int optname, void *optval,
			     socklen_t *optlen);

static getsockopt_fn plugin_getsockopt;

void *dlopen(const char *file, int flags)
{
	static dlopen_fn real;
	void *h;

	if (!real)
		real = (dlopen_fn)dlsym(RTLD_NEXT, "dlopen");
	h = real(file, flags & ~RTLD_DEEPBIND);
	if (h && !plugin_getsockopt)
		plugin_getsockopt = (getsockopt_fn)dlsym(h,
			"packetdrill_code_getsockopt");
	return h;
}

int getsockopt(int fd, int level, int optname, void *optval,
	       socklen_t *optlen)
{
	static getsockopt_fn real;

	if (!real)
		real = (getsockopt_fn)dlsym(RTLD_NEXT, "getsockopt");
	if (plugin_getsockopt &&
	    ((level == IPPROTO_TCP &&
	      (optname == TCP_INFO || optname == TCP_CC_INFO)) ||
	     (level == SOL_SOCKET && optname == SO_MEMINFO)))
		return plugin_getsockopt(fd, level, optname, optval, optlen);
	return real(fd, level, optname, optval, optlen);
}
