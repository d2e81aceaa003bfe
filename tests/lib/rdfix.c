/*
 * rdfix.c - the readiness tests' fixture (see rdfix.h).
 */
#include "rdfix.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "netns.h"
#include "ustack/ustack.h"

char rd_netns_why[200];

void rd_netns_setup(void)
{
	netns_enter_private(rd_netns_why, sizeof(rd_netns_why));
}

static void loopback_addr(struct sockaddr_in *sin)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

int rd_us_udp(struct ustack *st, struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = us_socket_on(st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(fd >= 0);
	loopback_addr(sin);
	assert_int_equal(us_bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(us_getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

int rd_kernel_udp(struct sockaddr_in *sin)
{
	socklen_t len = sizeof(*sin);
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	loopback_addr(sin);
	assert_int_equal(bind(fd, (struct sockaddr *)sin, sizeof(*sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)sin, &len), 0);
	return fd;
}

void rd_fix_init(struct rd_fix *f, bool start)
{
	struct ustack_config cfg;
	struct sockaddr_in unused;
	int p[2];

	memset(f, 0, sizeof(*f));
	ustack_config_init(&cfg);
	cfg.seed = 7;
	cfg.log_level = 0;
	f->st = ustack_create(&cfg);
	assert_non_null(f->st);
	if (start)
		assert_int_equal(ustack_start(f->st), 0);
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	f->pipe_r = p[0];
	f->pipe_w = p[1];
	f->ka = f->ksend = -1;
	if (!rd_netns_why[0]) {
		f->ka = rd_kernel_udp(&f->ka_addr);
		f->ksend = rd_kernel_udp(&unused);
	}
	f->ua = rd_us_udp(f->st, &f->ua_addr);
	f->ub = rd_us_udp(f->st, &f->ub_addr);
	f->usend = rd_us_udp(f->st, &unused);
}

static void close_if_open(int fd)
{
	if (fd >= 0)
		us_close(fd);
}

void rd_fix_destroy(struct rd_fix *f)
{
	close_if_open(f->pipe_r);
	close_if_open(f->pipe_w);
	close_if_open(f->ka);
	close_if_open(f->ksend);
	close_if_open(f->ua);
	close_if_open(f->ub);
	close_if_open(f->usend);
	ustack_destroy(f->st);
}

bool rd_kernel_wait(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, RD_HANG_GUARD_MS) == 1 &&
	       (p.revents & (events | POLLERR | POLLHUP));
}

void rd_us_send(struct ustack *st, const struct sockaddr_in *sin)
{
	struct sockaddr_in me;
	int fd = rd_us_udp(st, &me);

	assert_int_equal(us_sendto(fd, "x", 1, 0, (const struct sockaddr *)sin,
				   sizeof(*sin)), 1);
	us_close(fd);
}

void rd_make_ready(struct rd_fix *f, int fd)
{
	const struct sockaddr_in *to = NULL;
	int from = f->usend;

	if (fd == f->pipe_r) {
		assert_int_equal(write(f->pipe_w, "x", 1), 1);
		return;
	}
	if (fd == f->ka) {
		assert_int_equal(sendto(f->ksend, "x", 1, 0,
					(const struct sockaddr *)&f->ka_addr,
					sizeof(f->ka_addr)), 1);
		assert_true(rd_kernel_wait(f->ka, POLLIN));
		return;
	}
	if (fd == f->ua)
		to = &f->ua_addr;
	else if (fd == f->ub)
		to = &f->ub_addr;
	assert_non_null(to);
	assert_int_equal(us_sendto(from, "x", 1, 0, (const struct sockaddr *)to,
				   sizeof(*to)), 1);
}

void rd_drain(int fd)
{
	char buf[2048];

	/* us_read passes kernel descriptors through to the kernel. */
	while (us_read(fd, buf, sizeof(buf)) > 0)
		;
}
