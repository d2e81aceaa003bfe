/*
 * wait.c - wait queues (see wait.h).
 */
#include "socket/wait.h"

#include <time.h>

void us_wait_queue_init(struct us_wait_queue *wq)
{
	pthread_condattr_t attr;

	list_init(&wq->entries);
	/* Timeouts are computed on the monotonic clock. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&wq->cond, &attr);
	pthread_condattr_destroy(&attr);
	wq->sleepers = 0;
}

void us_wait_queue_destroy(struct us_wait_queue *wq)
{
	pthread_cond_destroy(&wq->cond);
}

void us_wait_add(struct us_wait_queue *wq, struct us_wait_entry *e)
{
	list_add_tail(&e->list, &wq->entries);
}

void us_wait_del(struct us_wait_entry *e)
{
	list_del(&e->list);
}

void us_wake_up(struct us_wait_queue *wq, uint32_t events)
{
	struct list_head *pos, *tmp;

	if (wq->sleepers)
		pthread_cond_broadcast(&wq->cond);
	list_for_each_safe(pos, tmp, &wq->entries) {
		struct us_wait_entry *e = list_entry(pos, struct us_wait_entry, list);

		e->func(e, events);
	}
}
