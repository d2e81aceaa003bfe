/*
 * fdtable.c - the process-wide table from descriptor numbers to ustack
 * objects (see socket.h). It is the one piece of global mutable state
 * outside a stack instance, as the kernel's own fd table is. Descriptor
 * numbers are real kernel descriptors (a socket's eventfd, an epoll
 * instance's epoll fd), so they are unique in the process.
 *
 * An entry is a socket or an epoll instance (socket/epoll.c); the socket
 * calls see only sockets, epoll's calls only epoll instances.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "socket/epoll.h"
#include "socket/socket.h"
#include "core/sys.h"
#include "stack/stack.h"

enum fd_kind {
	FD_NONE = 0,
	FD_SOCKET,
	FD_EPOLL,
};

/*
 * An entry is one word, as the table has a slot for every descriptor
 * number up to the highest (each idle socket pays for its own): a struct
 * socket *, or a struct us_epoll * with the low bit set (both come from
 * malloc, so that bit is free); 0 when empty.
 */
struct fd_slot {
	uintptr_t v;
};

#define FD_SLOT_EPOLL ((uintptr_t)1)
#define FD_SLOT_NONE ((struct fd_slot){ 0 })

static enum fd_kind slot_kind(const struct fd_slot *s)
{
	if (!s->v)
		return FD_NONE;
	return s->v & FD_SLOT_EPOLL ? FD_EPOLL : FD_SOCKET;
}

static struct socket *slot_sock(const struct fd_slot *s)
{
	return (struct socket *)s->v;
}

static struct us_epoll *slot_ep(const struct fd_slot *s)
{
	return (struct us_epoll *)(s->v & ~FD_SLOT_EPOLL);
}

static struct fd_slot sock_slot(struct socket *sock)
{
	return (struct fd_slot){ (uintptr_t)sock };
}

static struct fd_slot epoll_slot(struct us_epoll *ep)
{
	return (struct fd_slot){ (uintptr_t)ep | FD_SLOT_EPOLL };
}

/*
 * Changes take fdt.lock. The question "is this number ours?", which the
 * shim asks of every descriptor a program passes to libc (pipes and files
 * too), takes no lock (fdtable_is_ours, fdtable_is_epoll): a signal
 * handler that write()s to a pipe (a self-pipe, Python's wakeup fd) while
 * its thread was inside the table must not wait for a lock that thread
 * holds. So the table is chunks of FD_CHUNK slots that never move once
 * made (a reader without the lock may be looking at one), reached through
 * a fixed directory, and slots are written with atomic stores. Only the
 * chunks that hold numbers in use are made.
 */
#define FD_CHUNK_SHIFT 8
#define FD_CHUNK (1 << FD_CHUNK_SHIFT)
#define FD_MAX_CHUNKS 16384   /* descriptors below 4M (Linux: 1M, nr_open) */

static struct {
	pthread_mutex_t lock;
	struct fd_slot *chunk[FD_MAX_CHUNKS];
	int nslots;                 /* past the last chunk made */
	struct ustack *default_stack;
} fdt = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void slot_set(struct fd_slot *s, struct fd_slot v)
{
	__atomic_store_n(&s->v, v.v, __ATOMIC_RELEASE);
}

/* fd's slot, or NULL when no chunk holds it; fdt.lock held. */
static struct fd_slot *slot_at(int fd)
{
	struct fd_slot *c;

	if (fd < 0 || fd >= fdt.nslots)
		return NULL;
	c = fdt.chunk[fd >> FD_CHUNK_SHIFT];
	return c ? &c[fd & (FD_CHUNK - 1)] : NULL;
}

/* The entry for fd if it is of `kind`; fdt.lock held. */
static struct fd_slot *slot_get(int fd, enum fd_kind kind)
{
	struct fd_slot *s = slot_at(fd);

	return s && slot_kind(s) == kind ? s : NULL;
}

/* What fd holds, read without the lock (an answer that may be a moment
 * old, as any answer about a descriptor another thread may close). */
static enum fd_kind slot_kind_unlocked(int fd)
{
	struct fd_slot *c, v;

	if (fd < 0 || fd >= FD_MAX_CHUNKS * FD_CHUNK)
		return FD_NONE;
	c = __atomic_load_n(&fdt.chunk[fd >> FD_CHUNK_SHIFT], __ATOMIC_ACQUIRE);
	if (!c)
		return FD_NONE;
	v.v = __atomic_load_n(&c[fd & (FD_CHUNK - 1)].v, __ATOMIC_ACQUIRE);
	return slot_kind(&v);
}

/* Make the chunk for fd; fdt.lock held. */
static int fdtable_grow(int fd)
{
	struct fd_slot *c;
	int i = fd >> FD_CHUNK_SHIFT;

	if (fd < 0 || i >= FD_MAX_CHUNKS)
		return -ENOMEM;
	if (!fdt.chunk[i]) {
		c = calloc(FD_CHUNK, sizeof(*c));
		if (!c)
			return -ENOMEM;
		/* Zeroed before a reader can see it. */
		__atomic_store_n(&fdt.chunk[i], c, __ATOMIC_RELEASE);
	}
	if (fdt.nslots < (i + 1) * FD_CHUNK)
		fdt.nslots = (i + 1) * FD_CHUNK;
	return 0;
}

static int slot_install(int fd, struct fd_slot entry)
{
	int rc = 0;

	pthread_mutex_lock(&fdt.lock);
	if (!slot_at(fd))
		rc = fdtable_grow(fd);
	if (rc == 0)
		slot_set(slot_at(fd), entry);
	pthread_mutex_unlock(&fdt.lock);
	return rc;
}

/* One more descriptor of sock at fd (the first one, or a dup). */
static int slot_install_sock(int fd, struct socket *sock)
{
	int rc = 0;

	pthread_mutex_lock(&fdt.lock);
	if (!slot_at(fd))
		rc = fdtable_grow(fd);
	if (rc == 0) {
		slot_set(slot_at(fd), sock_slot(sock));
		sock->ndesc++;
	}
	pthread_mutex_unlock(&fdt.lock);
	return rc;
}

int fdtable_install(struct socket *sock)
{
	return slot_install_sock(sock->fd, sock);
}

int fdtable_install_dup(int fd, struct socket *sock)
{
	return slot_install_sock(fd, sock);
}

bool fdtable_holds(int fd, const struct socket *sock)
{
	bool holds;

	pthread_mutex_lock(&fdt.lock);
	holds = slot_get(fd, FD_SOCKET) && slot_sock(slot_at(fd)) == sock;
	pthread_mutex_unlock(&fdt.lock);
	return holds;
}

struct socket *sockfd_lookup(int fd, int *err)
{
	struct socket *sock = NULL;
	struct fd_slot *slot;

	pthread_mutex_lock(&fdt.lock);
	slot = slot_get(fd, FD_SOCKET);
	if (slot) {
		sock = slot_sock(slot);
		atomic_fetch_add(&sock->refcnt, 1);
	}
	pthread_mutex_unlock(&fdt.lock);
	if (!sock && err)
		*err = fd < 0 ? -EBADF : -ENOTSOCK;
	return sock;
}

bool fdtable_is_ours(int fd)
{
	return slot_kind_unlocked(fd) == FD_SOCKET;
}

bool fdtable_is_epoll(int fd)
{
	return slot_kind_unlocked(fd) == FD_EPOLL;
}

/* Empty fd's entry if it is of `kind`; returns what it held (kind
 * FD_NONE when it held nothing of that kind). */
static struct fd_slot slot_take(int fd, enum fd_kind kind)
{
	struct fd_slot taken = FD_SLOT_NONE;
	struct fd_slot *slot;

	pthread_mutex_lock(&fdt.lock);
	slot = slot_get(fd, kind);
	if (slot) {
		taken = *slot;
		slot_set(slot, FD_SLOT_NONE);
	}
	pthread_mutex_unlock(&fdt.lock);
	return taken;
}

/* Another descriptor of sock than fd, or -1; fdt.lock held. */
static int sock_other_fd(const struct socket *sock, int fd)
{
	for (int i = 0; i < fdt.nslots; i++) {
		struct fd_slot *s = slot_at(i);

		if (i != fd && s && slot_kind(s) == FD_SOCKET &&
		    slot_sock(s) == sock)
			return i;
	}
	return -1;
}

/*
 * Drop descriptor fd of sock (Linux's close_fd: the number goes, the file
 * stays while other descriptors hold it). sock->fd, the number the stack
 * signals readiness through, moves to a descriptor that stays.
 */
static struct socket *slot_remove_sock(int fd, const struct socket *want,
				       bool *last)
{
	struct socket *sock = NULL;
	struct fd_slot *slot;

	pthread_mutex_lock(&fdt.lock);
	slot = slot_get(fd, FD_SOCKET);
	if (slot && (!want || slot_sock(slot) == want)) {
		sock = slot_sock(slot);
		slot_set(slot, FD_SLOT_NONE);
		*last = --sock->ndesc == 0;
		if (!*last) {
			/* The table's reference stays; the caller gets one. */
			atomic_fetch_add(&sock->refcnt, 1);
			if (sock->fd == fd)
				sock->fd = sock_other_fd(sock, fd);
		}
	}
	pthread_mutex_unlock(&fdt.lock);
	return sock;
}

struct socket *fdtable_remove(int fd)
{
	bool last;

	return slot_remove_sock(fd, NULL, &last);
}

struct socket *fdtable_remove_desc(int fd, const struct socket *sock,
				   bool *last)
{
	return slot_remove_sock(fd, sock, last);
}

bool fdtable_forget_socket(struct socket *sock)
{
	bool had = false;

	pthread_mutex_lock(&fdt.lock);
	for (int i = 0; i < fdt.nslots; i++) {
		struct fd_slot *s = slot_at(i);

		if (!s || slot_kind(s) != FD_SOCKET || slot_sock(s) != sock)
			continue;
		slot_set(s, FD_SLOT_NONE);
		had = true;
		/* sock->fd itself goes with the socket (sock_close_locked). */
		if (i != sock->fd)
			us_sys_close(i);
	}
	sock->ndesc = 0;
	pthread_mutex_unlock(&fdt.lock);
	return had;
}

int fdtable_install_epoll(int fd, struct us_epoll *ep)
{
	return slot_install(fd, epoll_slot(ep));
}

struct us_epoll *epollfd_lookup(int fd)
{
	struct us_epoll *ep = NULL;
	struct fd_slot *slot;

	pthread_mutex_lock(&fdt.lock);
	slot = slot_get(fd, FD_EPOLL);
	if (slot) {
		ep = slot_ep(slot);
		eventpoll_get(ep);
	}
	pthread_mutex_unlock(&fdt.lock);
	return ep;
}

struct us_epoll *fdtable_remove_epoll(int fd)
{
	struct fd_slot taken = slot_take(fd, FD_EPOLL);

	return slot_kind(&taken) == FD_EPOLL ? slot_ep(&taken) : NULL;
}

void sockfd_put(struct socket *sock)
{
	if (atomic_fetch_sub(&sock->refcnt, 1) != 1)
		return;
	/* Last reference: the sock below was released at close. */
	us_wait_queue_destroy(&sock->wq);
	if (sock->fd >= 0)
		us_sys_close(sock->fd);
	free(sock);
}

void us_set_default_stack(struct ustack *st)
{
	pthread_mutex_lock(&fdt.lock);
	fdt.default_stack = st;
	pthread_mutex_unlock(&fdt.lock);
}

struct ustack *us_default_stack(void)
{
	struct ustack *st;

	pthread_mutex_lock(&fdt.lock);
	st = fdt.default_stack;
	pthread_mutex_unlock(&fdt.lock);
	return st;
}

int fdtable_size(void)
{
	int n;

	pthread_mutex_lock(&fdt.lock);
	n = fdt.nslots;
	pthread_mutex_unlock(&fdt.lock);
	return n;
}

void fdtable_fork_lock(void)
{
	pthread_mutex_lock(&fdt.lock);
}

void fdtable_fork_unlock(void)
{
	pthread_mutex_unlock(&fdt.lock);
}
