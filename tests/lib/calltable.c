/*
 * calltable.c - the two instances of the socket call table (see
 * calltable.h): the kernel's calls through libc, and ustack's us_* calls.
 */
#include "calltable.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ustack/ustack.h"

const struct calltable ct_kernel = {
	.name = "linux",
	.socket = socket,
	.bind = bind,
	.connect = connect,
	.listen = listen,
	.accept = accept,
	.accept4 = accept4,
	.send = send,
	.sendto = sendto,
	.sendmsg = sendmsg,
	.recv = recv,
	.recvfrom = recvfrom,
	.recvmsg = recvmsg,
	.read = read,
	.write = write,
	.readv = readv,
	.writev = writev,
	.close = close,
	.shutdown = shutdown,
	.getsockname = getsockname,
	.getpeername = getpeername,
	.getsockopt = getsockopt,
	.setsockopt = setsockopt,
	.fcntl = fcntl,
	.ioctl = ioctl,
	.poll = poll,
	.epoll_create1 = epoll_create1,
	.epoll_ctl = epoll_ctl,
	.epoll_wait = epoll_wait,
};

const struct calltable ct_ustack = {
	.name = "ustack",
	.socket = us_socket,
	.bind = us_bind,
	.connect = us_connect,
	.listen = us_listen,
	.accept = us_accept,
	.accept4 = us_accept4,
	.send = us_send,
	.sendto = us_sendto,
	.sendmsg = us_sendmsg,
	.recv = us_recv,
	.recvfrom = us_recvfrom,
	.recvmsg = us_recvmsg,
	.read = us_read,
	.write = us_write,
	.readv = us_readv,
	.writev = us_writev,
	.close = us_close,
	.shutdown = us_shutdown,
	.getsockname = us_getsockname,
	.getpeername = us_getpeername,
	.getsockopt = us_getsockopt,
	.setsockopt = us_setsockopt,
	.fcntl = us_fcntl,
	.ioctl = us_ioctl,
	.poll = us_poll,
	.epoll_create1 = us_epoll_create1,
	.epoll_ctl = us_epoll_ctl,
	.epoll_wait = us_epoll_wait,
};
