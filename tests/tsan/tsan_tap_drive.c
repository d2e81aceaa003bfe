/*
 * tsan_tap_drive.c - application threads that drive the engine while they
 * wait (src/socket/wait.c: sleep_driving; src/stack/runtime.c:
 * us_runtime_drive), built with ThreadSanitizer (scripts/run-tests.sh runs
 * it with halt_on_error=1, so any report fails the test).
 *
 * In a private network namespace, one instance with a TAP device (ustack
 * 10.66.0.2, the kernel 10.66.0.1) and its runtime thread. The kernel runs
 * an echo server (a thread per connection). Four ustack threads each
 * connect (a blocking connect), then for $USTACK_TSAN_SECONDS (default 5)
 * send chunks of 1 byte to 64 KB and read each back with blocking recv
 * calls. While they wait they read the TAP themselves, so frames for all
 * four connections are handled by whichever thread the kernel woke, or by
 * the runtime thread, concurrently with the others' sends and receives;
 * their large packets are written by the TAP's writer thread (tap_tx.c).
 * net.core.busy_read is 20 us: a waiting thread polls the TAP that long
 * before it sleeps (busy_poll), so both ways of waiting run, side by
 * side. Every byte that comes back is compared with what was sent. Waits are
 * bounded by hang guards (SO_RCVTIMEO of 30 s), never asserted as times.
 *
 * Skipped (77) when no network namespace can be made.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "lib/netns.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define TAP_NAME "ustsan0"
#define NET 0x0a420000u                 /* 10.66.0.0/24 */
#define ECHO_PORT 7007
#define CLIENTS 4
#define CHUNK_MAX 65536

static struct ustack *st;
static int klisten = -1;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run_seconds(void)
{
	const char *s = getenv("USTACK_TSAN_SECONDS");
	int n = s ? atoi(s) : 5;

	return n > 0 ? n : 5;
}

/* ---- the kernel's echo server ------------------------------------------- */

static void *echo_conn(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static _Thread_local char buf[CHUNK_MAX];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(fd, buf + off, (size_t)(n - off));

			if (w <= 0)
				goto out;
			off += w;
		}
	}
out:
	close(fd);
	return NULL;
}

static void *echo_main(void *arg)
{
	(void)arg;
	for (;;) {
		pthread_t t;
		int fd = accept(klisten, NULL, NULL);

		if (fd < 0)
			return NULL;    /* shut down at the end */
		if (pthread_create(&t, NULL, echo_conn, (void *)(intptr_t)fd))
			close(fd);
		else
			pthread_detach(t);
	}
}

/* ---- the ustack clients -------------------------------------------------- */

struct client {
	pthread_t thread;
	unsigned int id;
	double until;
	uint64_t bytes;     /* echoed back and checked */
	char err[160];
};

static uint8_t pattern(unsigned int id, uint64_t off)
{
	return (uint8_t)(off * 131 + id * 29 + (off >> 9));
}

static bool send_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t w = us_send(fd, p, n, 0);

		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	struct sockaddr_in to = { .sin_family = AF_INET };
	struct timeval guard = { 30, 0 };
	static _Thread_local uint8_t out[CHUNK_MAX], in[CHUNK_MAX];
	uint64_t off = 0, x = 0x9e3779b97f4a7c15ull * (c->id + 1);
	int fd = us_socket_on(st, AF_INET, SOCK_STREAM, 0);

	to.sin_addr.s_addr = htonl(NET | 1);
	to.sin_port = htons(ECHO_PORT);
	if (fd < 0 || us_connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		snprintf(c->err, sizeof(c->err), "connect: %s", strerror(errno));
		goto out;
	}
	/* A hang guard only: the test is about what arrives, not when. */
	us_setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &guard, sizeof(guard));
	while (now_s() < c->until) {
		size_t n, got = 0;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		/* Mostly small (request/response), sometimes up to 64 KB. */
		n = (x & 7) ? 1 + (size_t)(x >> 40) % 512
			    : 1 + (size_t)(x >> 40) % CHUNK_MAX;
		for (size_t i = 0; i < n; i++)
			out[i] = pattern(c->id, off + i);
		if (!send_all(fd, out, n)) {
			snprintf(c->err, sizeof(c->err), "send: %s",
				 strerror(errno));
			break;
		}
		while (got < n) {
			ssize_t r = us_recv(fd, in + got, n - got, 0);

			if (r <= 0) {
				snprintf(c->err, sizeof(c->err), "recv: %zd %s",
					 r, r < 0 ? strerror(errno) : "EOF");
				goto out;
			}
			got += (size_t)r;
		}
		if (memcmp(in, out, n) != 0) {
			snprintf(c->err, sizeof(c->err),
				 "bytes differ in the chunk at %llu",
				 (unsigned long long)off);
			break;
		}
		off += n;
		c->bytes = off;
	}
out:
	if (fd >= 0)
		us_close(fd);
	return NULL;
}

static void test_clients_drive_the_tap(void **state)
{
	struct client c[CLIENTS];
	pthread_t echo;
	double until = now_s() + run_seconds();
	uint64_t driven, by_thread, busy_hits;

	(void)state;
	assert_int_equal(pthread_create(&echo, NULL, echo_main, NULL), 0);
	for (unsigned int i = 0; i < CLIENTS; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].id = i;
		c[i].until = until;
		assert_int_equal(pthread_create(&c[i].thread, NULL,
						client_main, &c[i]), 0);
	}
	for (unsigned int i = 0; i < CLIENTS; i++) {
		pthread_join(c[i].thread, NULL);
		if (c[i].err[0])
			fail_msg("client %u: %s", i, c[i].err);
		/* Each got at least one chunk back. */
		assert_true(c[i].bytes > 0);
		printf("client %u: %llu bytes echoed and checked\n", i,
		       (unsigned long long)c[i].bytes);
	}
	shutdown(klisten, SHUT_RDWR);
	pthread_join(echo, NULL);
	/* The clients did read the TAP while they waited. */
	pthread_mutex_lock(&st->lock);
	driven = st->stats.mib[US_MIB_RT_DRIVEN];
	by_thread = st->stats.mib[US_MIB_DEV_TX_THREAD];
	busy_hits = st->stats.mib[US_MIB_RT_BUSY_POLL_HITS];
	pthread_mutex_unlock(&st->lock);
	printf("engine runs by blocked application threads: %llu\n",
	       (unsigned long long)driven);
	assert_true(driven > 0);
	/* Large sends went through the TAP's writer thread (tap_tx.c),
	 * beside the threads that sent them. */
	printf("frames written by the TAP's writer thread: %llu\n",
	       (unsigned long long)by_thread);
	assert_true(by_thread > 0);
	/* Some waits ended in the busy poll, without a sleep. */
	printf("waits that busy polling ended: %llu\n",
	       (unsigned long long)busy_hits);
	assert_true(busy_hits > 0);
}

/* ---- the instance and the kernel's side --------------------------------- */

static int kernel_side(void)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	struct sockaddr_in a = { .sin_family = AF_INET };
	int one = 1, s = socket(AF_INET, SOCK_DGRAM, 0);

	if (s < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, TAP_NAME);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(NET | 1);
	if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
		goto fail;
	sin->sin_addr.s_addr = htonl(0xffffff00u);
	if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
		goto fail;
	close(s);
	klisten = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	a.sin_addr.s_addr = htonl(NET | 1);
	a.sin_port = htons(ECHO_PORT);
	setsockopt(klisten, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (klisten < 0 || bind(klisten, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(klisten, 16) < 0)
		return -1;
	return 0;
fail:
	close(s);
	return -1;
}

static int group_setup(void **state)
{
	struct ustack_config cfg;
	struct ustack_ifconfig ifc;

	(void)state;
	ustack_config_init(&cfg);
	cfg.seed = 3;
	cfg.log_level = 0;   /* errors only */
	st = ustack_create(&cfg);
	if (!st || ustack_sysctl_set(st, "net.core.busy_read", "20") < 0)
		return -1;
	memset(&ifc, 0, sizeof(ifc));
	ifc.ifname = TAP_NAME;
	ifc.addr = htonl(NET | 2);
	ifc.prefix_len = 24;
	if (ustack_add_tap(st, &ifc) < 0 || ustack_start(st) < 0 ||
	    kernel_side() < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	if (klisten >= 0)
		close(klisten);
	ustack_destroy(st);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clients_drive_the_tap),
	};
	char why[200];

	if (netns_enter_private(why, sizeof(why)) < 0) {
		printf("skipped: %s\n", why);
		return 77;
	}
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
