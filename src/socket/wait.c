/*
 * wait.c - wait queues and the sleepers of blocked threads (see wait.h).
 */
#include "socket/wait.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/eventfd.h>

#include "core/sys.h"

void us_wait_queue_init(struct us_wait_queue *wq)
{
	list_init(&wq->entries);
	list_init(&wq->sleeping);
	wq->sleepers = 0;
}

void us_wait_queue_destroy(struct us_wait_queue *wq)
{
	(void)wq;
}

void us_wait_add(struct us_wait_queue *wq, struct us_wait_entry *e)
{
	list_add_tail(&e->list, &wq->entries);
}

void us_wait_del(struct us_wait_entry *e)
{
	list_del(&e->list);
}

static void sleeper_wake(struct us_sleeper *s)
{
	uint64_t one = 1;

	/* One write per sleep: the sleeper drains it before the next. */
	if (!atomic_exchange(&s->woken, true))
		(void)!us_sys_write(s->evfd, &one, sizeof(one));
}

void us_wake_up(struct us_wait_queue *wq, uint32_t events)
{
	struct list_head *pos, *tmp;

	list_for_each(pos, &wq->sleeping)
		sleeper_wake(list_entry(pos, struct us_sleeper, node));
	list_for_each_safe(pos, tmp, &wq->entries) {
		struct us_wait_entry *e = list_entry(pos, struct us_wait_entry, list);

		e->func(e, events);
	}
}

/* ---- sleepers ----------------------------------------------------------- */

static pthread_key_t sleeper_key;
static pthread_once_t sleeper_once = PTHREAD_ONCE_INIT;
static __thread struct us_sleeper *my_sleeper;

static void sleeper_free(void *p)
{
	struct us_sleeper *s = p;

	us_sys_close(s->evfd);
	free(s);
}

static void sleeper_key_init(void)
{
	(void)pthread_key_create(&sleeper_key, sleeper_free);
}

/* The calling thread's sleeper, made on first use; freed at thread exit. */
static struct us_sleeper *sleeper_get(int *err)
{
	struct us_sleeper *s = my_sleeper;

	if (s)
		return s;
	pthread_once(&sleeper_once, sleeper_key_init);
	s = calloc(1, sizeof(*s));
	if (!s) {
		*err = -ENOMEM;
		return NULL;
	}
	/* Blocking: an untimed sleep is a read() the kernel may restart. */
	s->evfd = eventfd(0, EFD_CLOEXEC);
	if (s->evfd < 0) {
		*err = -errno;
		free(s);
		return NULL;
	}
	(void)pthread_setspecific(sleeper_key, s);
	my_sleeper = s;
	return s;
}

static int ts_until(const struct timespec *deadline, struct timespec *left)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left->tv_sec = deadline->tv_sec - now.tv_sec;
	left->tv_nsec = deadline->tv_nsec - now.tv_nsec;
	if (left->tv_nsec < 0) {
		left->tv_sec--;
		left->tv_nsec += 1000000000L;
	}
	return left->tv_sec < 0 ? -ETIMEDOUT : 0;
}

/* The kernel part of a sleep: 0 when the eventfd was written (and now
 * read), -EINTR, -ETIMEDOUT. No lock held. */
static int sleeper_block(struct us_sleeper *s, const struct timespec *deadline)
{
	struct pollfd pfd = { .fd = s->evfd, .events = POLLIN };
	struct timespec left;
	uint64_t v;
	long r;

	if (!deadline) {
		/* SA_RESTART handlers restart this read inside the kernel,
		 * as they restart a blocking recv(); others end it. */
		r = us_sys_read(s->evfd, &v, sizeof(v));
		return r < 0 ? -errno : 0;
	}
	if (ts_until(deadline, &left) < 0)
		return -ETIMEDOUT;
	r = us_sys(SYS_ppoll, &pfd, 1, &left, NULL, (size_t)(_NSIG / 8));
	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	(void)!us_sys_read(s->evfd, &v, sizeof(v));
	return 0;
}

int us_wait_sleep(struct us_wait_queue *wq, pthread_mutex_t *lock,
		  const struct timespec *deadline)
{
	struct us_sleeper *s;
	int err = 0, rc;
	uint64_t v;

	s = sleeper_get(&err);
	if (!s)
		return err;
	atomic_store(&s->woken, false);
	list_add_tail(&s->node, &wq->sleeping);
	wq->sleepers++;
	pthread_mutex_unlock(lock);
	rc = sleeper_block(s, deadline);
	pthread_mutex_lock(lock);
	list_del(&s->node);
	wq->sleepers--;
	/*
	 * A wake-up that came with the signal or the timeout wrote the
	 * eventfd (under the lock we hold again, so the write is done):
	 * drain it, or the next sleep would return at once.
	 */
	if (rc < 0 && atomic_load(&s->woken))
		(void)!us_sys_read(s->evfd, &v, sizeof(v));
	if (rc == -EINTR || rc == -ETIMEDOUT)
		return rc;
	return rc < 0 ? rc : 0;
}
