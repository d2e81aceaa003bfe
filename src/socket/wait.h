/*
 * wait.h - wait queues: how the protocol level wakes the socket level.
 *
 * A socket has one wait queue. Threads blocked in a call (recv, accept,
 * connect, send) sleep on its condition variable with the core lock
 * released; epoll instances hang an entry on it whose callback marks the
 * socket ready in that instance (Linux's ep_poll_callback). The protocol's
 * callbacks (sk_data_ready, sk_write_space, sk_state_change,
 * sk_error_report) end in us_wake_up(), always with the core lock held.
 */
#ifndef US_SOCKET_WAIT_H
#define US_SOCKET_WAIT_H

#include <pthread.h>
#include <stdint.h>

#include "core/list.h"

struct us_wait_entry;
typedef void (*us_wait_fn)(struct us_wait_entry *e, uint32_t events);

struct us_wait_entry {
	struct list_head list;
	us_wait_fn func;
};

struct us_wait_queue {
	struct list_head entries;
	pthread_cond_t cond;   /* blocked callers; used with the core lock */
	int sleepers;
};

void us_wait_queue_init(struct us_wait_queue *wq);
void us_wait_queue_destroy(struct us_wait_queue *wq);
void us_wait_add(struct us_wait_queue *wq, struct us_wait_entry *e);
void us_wait_del(struct us_wait_entry *e);
/* Wake sleepers and call every entry with the events that happened
 * (POLLIN, POLLOUT, ... bits). Core lock held. */
void us_wake_up(struct us_wait_queue *wq, uint32_t events);

#endif
