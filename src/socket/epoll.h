/*
 * epoll.h - what the rest of the socket level needs from epoll.c: taking
 * and dropping references on an epoll instance (the descriptor table holds
 * one, see fdtable.c), closing one through us_close() (api.c), and
 * bringing one's readiness up to date before poll() or select() asks the
 * kernel about it (poll.c, select.c).
 */
#ifndef US_SOCKET_EPOLL_H
#define US_SOCKET_EPOLL_H

#include <stdbool.h>

struct us_epoll;

/* Take a reference; the descriptor table calls it under its own lock. */
void eventpoll_get(struct us_epoll *ep);
/* Drop one; the last frees the instance (its items, its kernel fds). */
void eventpoll_put(struct us_epoll *ep);
/*
 * us_close() on fd: when fd is an epoll instance of ours, remove it from
 * the table, drop the table's reference and return true. False otherwise
 * (the caller closes the kernel descriptor).
 */
bool eventpoll_close_fd(int fd);
/*
 * The kernel is about to poll fd (poll, select): when fd is an epoll
 * instance of ours, drop the items on its ready list that are no longer
 * ready (Linux's ep_eventpoll_poll re-polls them), so that it does not
 * poll readable for nothing.
 */
void eventpoll_before_poll(int fd);

#endif
