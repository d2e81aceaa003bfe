/*
 * fdtable.c - the process-wide table from descriptor numbers to ustack
 * sockets (see socket.h). It is the one piece of global mutable state
 * outside a stack instance, as the kernel's own fd table is. Descriptor
 * numbers are the sockets' eventfds, so they are unique in the process.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "socket/socket.h"
#include "core/sys.h"
#include "stack/stack.h"

static struct {
	pthread_mutex_t lock;
	struct socket **slots;
	int nslots;
	struct ustack *default_stack;
} fdt = { .lock = PTHREAD_MUTEX_INITIALIZER };

static int fdtable_grow(int fd)
{
	int n = fdt.nslots ? fdt.nslots : 256;
	struct socket **slots;

	while (n <= fd)
		n *= 2;
	slots = realloc(fdt.slots, (size_t)n * sizeof(*slots));
	if (!slots)
		return -ENOMEM;
	memset(slots + fdt.nslots, 0, (size_t)(n - fdt.nslots) * sizeof(*slots));
	fdt.slots = slots;
	fdt.nslots = n;
	return 0;
}

int fdtable_install(struct socket *sock)
{
	int rc = 0;

	pthread_mutex_lock(&fdt.lock);
	if (sock->fd >= fdt.nslots)
		rc = fdtable_grow(sock->fd);
	if (rc == 0)
		fdt.slots[sock->fd] = sock;
	pthread_mutex_unlock(&fdt.lock);
	return rc;
}

struct socket *sockfd_lookup(int fd, int *err)
{
	struct socket *sock = NULL;

	pthread_mutex_lock(&fdt.lock);
	if (fd >= 0 && fd < fdt.nslots)
		sock = fdt.slots[fd];
	if (sock)
		atomic_fetch_add(&sock->refcnt, 1);
	pthread_mutex_unlock(&fdt.lock);
	if (!sock && err)
		*err = fd < 0 ? -EBADF : -ENOTSOCK;
	return sock;
}

bool fdtable_is_ours(int fd)
{
	bool ours;

	pthread_mutex_lock(&fdt.lock);
	ours = fd >= 0 && fd < fdt.nslots && fdt.slots[fd];
	pthread_mutex_unlock(&fdt.lock);
	return ours;
}

struct socket *fdtable_remove(int fd)
{
	struct socket *sock = NULL;

	pthread_mutex_lock(&fdt.lock);
	if (fd >= 0 && fd < fdt.nslots) {
		sock = fdt.slots[fd];
		fdt.slots[fd] = NULL;
	}
	pthread_mutex_unlock(&fdt.lock);
	return sock;
}

void sockfd_put(struct socket *sock)
{
	if (atomic_fetch_sub(&sock->refcnt, 1) != 1)
		return;
	/* Last reference: the sock below was released at close. */
	us_wait_queue_destroy(&sock->wq);
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
