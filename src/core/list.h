/*
 * list.h - intrusive doubly linked circular list, the kernel's list_head.
 *
 * Used everywhere an object sits on a list (devices, ARP entries, sk_buff
 * queues, reassembly queues). The list head and the nodes are the same type,
 * and container_of() gets from the node back to the object holding it.
 */
#ifndef US_CORE_LIST_H
#define US_CORE_LIST_H

#include <stdbool.h>
#include <stddef.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name) { &(name), &(name) }

static inline void list_init(struct list_head *h)
{
	h->next = h;
	h->prev = h;
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

static inline void list_insert_between(struct list_head *n,
				       struct list_head *prev,
				       struct list_head *next)
{
	next->prev = n;
	n->next = next;
	n->prev = prev;
	prev->next = n;
}

/* Insert n right after pos. */
static inline void list_add(struct list_head *n, struct list_head *pos)
{
	list_insert_between(n, pos, pos->next);
}

/* Insert n right before pos (at the tail when pos is the head). */
static inline void list_add_tail(struct list_head *n, struct list_head *pos)
{
	list_insert_between(n, pos->prev, pos);
}

static inline void list_del(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n;
	n->prev = n;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)

#define list_for_each(pos, head) \
	for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)

/* Safe against removal of pos inside the loop body. */
#define list_for_each_safe(pos, tmp, head) \
	for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); \
	     (pos) = (tmp), (tmp) = (pos)->next)

#endif
