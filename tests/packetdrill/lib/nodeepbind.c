/*
 * nodeepbind.c - an LD_PRELOAD helper for running packetdrill against the
 * ASan build of libustack-packetdrill.so.
 *
 * packetdrill dlopen()s its plug-in with RTLD_DEEPBIND, which the sanitizer
 * runtime refuses (google/sanitizers#611). The plug-in exports a single
 * symbol and binds everything else inside itself, so deep binding buys it
 * nothing: this dlopen() drops the flag and hands the call on. It must come
 * before libasan in LD_PRELOAD (with ASAN_OPTIONS=verify_asan_link_order=0).
 */
#include <dlfcn.h>

typedef void *(*dlopen_fn)(const char *file, int flags);

void *dlopen(const char *file, int flags)
{
	static dlopen_fn real;

	if (!real)
		real = (dlopen_fn)dlsym(RTLD_NEXT, "dlopen");
	return real(file, flags & ~RTLD_DEEPBIND);
}
