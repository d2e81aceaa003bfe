/*
 * tsan_udp_threads.c - application threads on one instance's UDP sockets,
 * built with ThreadSanitizer (the Makefile's build/tsan/, run by
 * scripts/run-tests.sh with halt_on_error=1, so any report fails the test).
 *
 * One instance with its loopback (127.0.0.1) and its runtime thread
 * running, and:
 *
 *   - a blocking us_recv() in one thread, woken by us_close() of the same
 *     descriptor in another: -1 with EBADF;
 *   - a blocking us_recv() woken by a datagram sent from another thread;
 *   - SO_RCVTIMEO expiring, in four threads at once on one socket: -1 with
 *     EAGAIN, never before the timeout;
 *   - calls racing with us_close() of their descriptor: each returns a
 *     result or fails as on a closed descriptor, never crashes;
 *   - 8 threads sending and receiving for $USTACK_TSAN_SECONDS (default
 *     30) on a shared socket and on one socket each, blocking and not,
 *     with socket churn, option calls and kernel poll() on the descriptors
 *     in between. Every datagram carries its sender and sequence number and
 *     bytes derived from them; every one received is checked byte for byte
 *     and for duplicates, and at the end every datagram sent was received
 *     or counted as a receive-buffer drop.
 *
 * Waits are bounded (10 s hang guards), never asserted as durations, except
 * that a receive timeout must not end early.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "socket/socket.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define NTHREADS 8
#define SHARED NTHREADS            /* index of the shared socket */
#define DEFAULT_SECONDS 30
#define HANG_GUARD_MS 10000
#define MIN_LEN ((int)sizeof(struct tag))
#define MAX_LEN 4000
#define SEQ_LIMIT (1u << 22)       /* per sender; the bitmap's size */
#define TAG_MAGIC 0x75735453u      /* "usTS" */
#define RCVTIMEO_MS 20

static struct ustack *st;

/* ---- helpers ------------------------------------------------------------ */

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static struct sockaddr_in loopback_addr(uint16_t port)
{
	struct sockaddr_in sin;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = port;
	return sin;
}

/* A UDP socket bound to 127.0.0.1 and an ephemeral port (network order in
 * *port). */
static int bound_socket(uint16_t *port)
{
	struct sockaddr_in sin = loopback_addr(0);
	socklen_t len = sizeof(sin);
	int fd = us_socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(us_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(us_getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = sin.sin_port;
	return fd;
}

static void set_rcvtimeo_ms(int fd, long ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	assert_int_equal(us_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
				       sizeof(tv)), 0);
}

/* Threads asleep in a call on fd (read under the core lock). */
static int sleepers(int fd)
{
	struct socket *sock = sockfd_lookup(fd, NULL);
	int n;

	if (!sock)
		return -1;
	pthread_mutex_lock(&st->lock);
	n = sock->wq.sleepers;
	pthread_mutex_unlock(&st->lock);
	sockfd_put(sock);
	return n;
}

/* Wait (bounded) until `want` threads sleep in a call on fd. */
static void wait_sleepers(int fd, int want)
{
	for (int i = 0; i < HANG_GUARD_MS; i++) {
		if (sleepers(fd) >= want)
			return;
		usleep(1000);
	}
	fail_msg("no %d thread(s) asleep on fd %d after %d ms", want, fd,
		 HANG_GUARD_MS);
}

struct recv_call {
	pthread_t thread;
	int fd;
	ssize_t rc;
	int err;
	uint64_t elapsed_us;
	struct sockaddr_in from;
	char buf[256];
};

static void *recv_main(void *arg)
{
	struct recv_call *c = arg;
	socklen_t len = sizeof(c->from);
	uint64_t t0 = now_us();

	c->rc = us_recvfrom(c->fd, c->buf, sizeof(c->buf), 0,
			    (struct sockaddr *)&c->from, &len);
	c->err = errno;
	c->elapsed_us = now_us() - t0;
	return NULL;
}

static void start_recv(struct recv_call *c, int fd)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	assert_int_equal(pthread_create(&c->thread, NULL, recv_main, c), 0);
}

/* ---- blocking calls woken from another thread --------------------------- */

static void test_close_wakes_blocked_recv(void **state)
{
	struct recv_call untimed, timed;
	uint16_t port;
	int fd = bound_socket(&port);

	(void)state;
	start_recv(&untimed, fd);
	wait_sleepers(fd, 1);
	/* A second sleeper with a (long) timeout: woken too, not timed out. */
	set_rcvtimeo_ms(fd, 60000);
	start_recv(&timed, fd);
	wait_sleepers(fd, 2);
	assert_int_equal(us_close(fd), 0);
	pthread_join(untimed.thread, NULL);
	pthread_join(timed.thread, NULL);
	assert_int_equal(untimed.rc, -1);
	assert_int_equal(untimed.err, EBADF);
	assert_int_equal(timed.rc, -1);
	assert_int_equal(timed.err, EBADF);
	/* The descriptor is gone for later calls too. */
	assert_int_equal(us_close(fd), -1);
	assert_int_equal(errno, EBADF);
}

static void test_data_wakes_blocked_recv(void **state)
{
	static const char msg[] = "wake up";
	struct recv_call c;
	uint16_t port_a, port_b;
	int a = bound_socket(&port_a), b = bound_socket(&port_b);
	struct sockaddr_in to = loopback_addr(port_a);

	(void)state;
	start_recv(&c, a);
	wait_sleepers(a, 1);
	assert_int_equal(us_sendto(b, msg, sizeof(msg), 0, (struct sockaddr *)&to,
				   sizeof(to)), (ssize_t)sizeof(msg));
	pthread_join(c.thread, NULL);
	assert_int_equal(c.rc, (ssize_t)sizeof(msg));
	assert_memory_equal(c.buf, msg, sizeof(msg));
	assert_int_equal(c.from.sin_port, port_b);
	assert_int_equal(c.from.sin_addr.s_addr, htonl(INADDR_LOOPBACK));
	assert_int_equal(us_close(a), 0);
	assert_int_equal(us_close(b), 0);
}

static void test_rcvtimeo_expires(void **state)
{
	struct recv_call c[4];
	struct timeval tv;
	socklen_t len = sizeof(tv);
	uint16_t port;
	int fd = bound_socket(&port);

	(void)state;
	set_rcvtimeo_ms(fd, 200);
	assert_int_equal(us_getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, &len), 0);
	assert_int_equal(tv.tv_sec, 0);
	assert_int_equal(tv.tv_usec, 200000);
	for (int i = 0; i < 4; i++)
		start_recv(&c[i], fd);
	for (int i = 0; i < 4; i++) {
		pthread_join(c[i].thread, NULL);
		assert_int_equal(c[i].rc, -1);
		assert_int_equal(c[i].err, EAGAIN);
		/* Not early (the condition variable waits on CLOCK_MONOTONIC). */
		assert_true(c[i].elapsed_us >= 200000);
	}
	assert_int_equal(us_close(fd), 0);
}

/* ---- calls racing with close -------------------------------------------- */

struct racer {
	int fd;
	atomic_int go;
	int bad_errno;     /* an errno other than the expected ones, or 0 */
	int calls;
};

/*
 * Any call may succeed or find the descriptor closed; nothing else. A call
 * made after us_close() took the descriptor out of the table, but before
 * the last reference closed the eventfd under it, goes to the kernel with
 * that eventfd: ENOTSOCK, or ENOTTY for FIONREAD (Linux would say EBADF).
 */
static bool racer_ok(long rc, int err)
{
	return rc >= 0 || err == EAGAIN || err == EBADF || err == ENOTSOCK ||
	       err == ENOTTY;
}

static void *racer_main(void *arg)
{
	struct racer *r = arg;
	struct sockaddr_in self;
	socklen_t len = sizeof(self);
	char buf[64] = "race";
	int v = 0;
	long rc;

	while (!atomic_load(&r->go))
		;
	for (int i = 0; i < 2000; i++) {
		r->calls++;
		switch (i % 5) {
		case 0:
			rc = us_recv(r->fd, buf, sizeof(buf), MSG_DONTWAIT);
			break;
		case 1:
			len = sizeof(self);
			rc = us_getsockname(r->fd, (struct sockaddr *)&self, &len);
			if (rc == 0)
				rc = us_sendto(r->fd, buf, 4, 0,
					       (struct sockaddr *)&self, len);
			break;
		case 2:
			len = sizeof(v);
			rc = us_getsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &v, &len);
			break;
		case 3:
			v = 65536;
			rc = us_setsockopt(r->fd, SOL_SOCKET, SO_SNDBUF, &v,
					   sizeof(v));
			break;
		default:
			rc = us_ioctl(r->fd, FIONREAD, &v);
			break;
		}
		if (!racer_ok(rc, errno)) {
			r->bad_errno = errno;
			break;
		}
		if (rc < 0 && errno != EAGAIN)
			break;
	}
	return NULL;
}

static void test_calls_race_with_close(void **state)
{
	int rounds = 200;

	(void)state;
	for (int i = 0; i < rounds; i++) {
		struct racer r = { 0 };
		pthread_t t;
		uint16_t port;

		r.fd = bound_socket(&port);
		assert_int_equal(pthread_create(&t, NULL, racer_main, &r), 0);
		atomic_store(&r.go, 1);
		/* Close at a different point of the racer's calls each round. */
		for (volatile int spin = 0; spin < (i % 20) * 500; spin++)
			;
		assert_int_equal(us_close(r.fd), 0);
		pthread_join(t, NULL);
		if (r.bad_errno)
			fail_msg("round %d: a call racing with close failed with "
				 "%s", i, strerror(r.bad_errno));
	}
}

/* ---- eight threads ------------------------------------------------------ */

/* The head of every datagram of the stress test. */
struct tag {
	uint32_t magic;
	uint16_t sender;   /* thread index */
	uint16_t via;      /* the socket it was sent from: a thread's, SHARED */
	uint32_t seq;      /* the sender's sequence number */
	uint32_t len;      /* the datagram's length */
};

struct stress {
	int fds[NTHREADS + 1];
	uint16_t ports[NTHREADS + 1];  /* network order */
	atomic_bool stop;
	pthread_barrier_t drained;
	atomic_uint_least64_t *seen[NTHREADS];   /* bitmaps of seqs received */
	atomic_uint sent[NTHREADS];              /* next seq = datagrams sent */
	atomic_uint received, bad, churned, blocked_recvs, timeouts;
	pthread_mutex_t msg_lock;
	char first_bad[256];
};

struct worker {
	pthread_t thread;
	struct stress *s;
	int id;
	uint64_t rng;
	uint8_t buf[MAX_LEN + 64];
};

static uint64_t xorshift(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* The bytes after the tag depend on (sender, seq) alone. */
static void fill_payload(uint8_t *p, size_t n, unsigned int sender,
			 uint32_t seq)
{
	uint64_t x = ((uint64_t)sender << 32 | seq) * 0x9e3779b97f4a7c15ull | 1;

	for (size_t k = 0; k < n; k++)
		p[k] = (uint8_t)(xorshift(&x) >> 32);
}

static void record_bad(struct stress *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void record_bad(struct stress *s, const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&s->bad, 1) != 0)
		return;
	pthread_mutex_lock(&s->msg_lock);
	va_start(ap, fmt);
	vsnprintf(s->first_bad, sizeof(s->first_bad), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&s->msg_lock);
}

static void send_one(struct worker *w, int via, int to)
{
	struct stress *s = w->s;
	struct sockaddr_in dst = loopback_addr(s->ports[to]);
	struct tag t = { TAG_MAGIC, (uint16_t)w->id, (uint16_t)via, 0, 0 };
	uint32_t len = MIN_LEN + (uint32_t)(xorshift(&w->rng) %
					    (MAX_LEN - MIN_LEN + 1));
	ssize_t rc;

	/* Only this thread sends as w->id, so the counter is its own. */
	t.seq = atomic_load(&s->sent[w->id]);
	if (t.seq >= SEQ_LIMIT)
		return;
	t.len = len;
	memcpy(w->buf, &t, sizeof(t));
	fill_payload(w->buf + sizeof(t), len - sizeof(t), t.sender, t.seq);
	rc = us_sendto(s->fds[via], w->buf, len, MSG_DONTWAIT,
		       (struct sockaddr *)&dst, sizeof(dst));
	if (rc == (ssize_t)len)
		atomic_store(&s->sent[w->id], t.seq + 1);
	else if (rc >= 0 || (errno != EAGAIN && errno != ENOBUFS))
		record_bad(s, "thread %d: sendto via %d: rc %zd, %s", w->id, via,
			   rc, strerror(errno));
}

/* Check one received datagram: tag, length, source, bytes, duplicates. */
static void check_datagram(struct worker *w, size_t n,
			   const struct sockaddr_in *from)
{
	struct stress *s = w->s;
	uint8_t expect[MAX_LEN];
	struct tag t;
	uint64_t bit;

	memcpy(&t, w->buf, n < sizeof(t) ? n : sizeof(t));
	if (n < sizeof(t) || n > MAX_LEN || t.magic != TAG_MAGIC ||
	    t.sender >= NTHREADS ||
	    t.len != n || (t.via != SHARED && t.via != t.sender) ||
	    t.seq >= SEQ_LIMIT) {
		record_bad(s, "thread %d: a datagram of %zu bytes with a bad tag",
			   w->id, n);
		return;
	}
	if (from->sin_port != s->ports[t.via] ||
	    from->sin_addr.s_addr != htonl(INADDR_LOOPBACK))
		record_bad(s, "thread %d: datagram %u/%u from port %u, not %u",
			   w->id, t.sender, t.seq, ntohs(from->sin_port),
			   ntohs(s->ports[t.via]));
	fill_payload(expect, n - sizeof(t), t.sender, t.seq);
	if (memcmp(expect, w->buf + sizeof(t), n - sizeof(t)) != 0)
		record_bad(s, "thread %d: datagram %u/%u: bytes differ", w->id,
			   t.sender, t.seq);
	bit = 1ull << (t.seq % 64);
	if (atomic_fetch_or(&s->seen[t.sender][t.seq / 64], bit) & bit)
		record_bad(s, "thread %d: datagram %u/%u received twice", w->id,
			   t.sender, t.seq);
	atomic_fetch_add(&s->received, 1);
}

/* Receive one datagram on socket idx; false when there was none. */
static bool recv_one(struct worker *w, int idx, int flags)
{
	struct sockaddr_in from;
	socklen_t len = sizeof(from);
	ssize_t n = us_recvfrom(w->s->fds[idx], w->buf, sizeof(w->buf), flags,
				(struct sockaddr *)&from, &len);

	if (n >= 0) {
		check_datagram(w, (size_t)n, &from);
		return true;
	}
	if (errno == EAGAIN) {
		if (!(flags & MSG_DONTWAIT))
			atomic_fetch_add(&w->s->timeouts, 1);
		return false;
	}
	record_bad(w->s, "thread %d: recvfrom on %d: %s", w->id, idx,
		   strerror(errno));
	return false;
}

/* A short-lived socket: bind, name, a datagram to itself, close. */
static void churn_socket(struct worker *w)
{
	struct sockaddr_in self;
	socklen_t len = sizeof(self);
	char out[32], in[32];
	uint16_t port;
	int fd = us_socket(AF_INET, SOCK_DGRAM, 0);

	if (fd < 0) {
		record_bad(w->s, "thread %d: socket: %s", w->id, strerror(errno));
		return;
	}
	self = loopback_addr(0);
	if (us_bind(fd, (struct sockaddr *)&self, sizeof(self)) < 0 ||
	    us_getsockname(fd, (struct sockaddr *)&self, &len) < 0)
		record_bad(w->s, "thread %d: bind/getsockname: %s", w->id,
			   strerror(errno));
	port = self.sin_port;
	snprintf(out, sizeof(out), "churn %d %u", w->id, ntohs(port));
	if (us_sendto(fd, out, sizeof(out), 0, (struct sockaddr *)&self,
		      sizeof(self)) != (ssize_t)sizeof(out) ||
	    us_recv(fd, in, sizeof(in), MSG_DONTWAIT) != (ssize_t)sizeof(in) ||
	    memcmp(in, out, sizeof(in)) != 0)
		record_bad(w->s, "thread %d: churn socket: %s", w->id,
			   strerror(errno));
	if (us_close(fd) < 0)
		record_bad(w->s, "thread %d: close: %s", w->id, strerror(errno));
	atomic_fetch_add(&w->s->churned, 1);
}

/* Calls that read or change socket state beside the data path. */
static void poke_socket(struct worker *w)
{
	int idx = (int)(xorshift(&w->rng) % (NTHREADS + 1));
	int fd = w->s->fds[idx], v = 0;
	struct pollfd pfd = { fd, POLLIN, 0 };
	socklen_t len = sizeof(v);

	if (us_ioctl(fd, FIONREAD, &v) < 0 ||
	    us_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len) < 0 ||
	    us_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)) < 0 ||
	    poll(&pfd, 1, 0) < 0)
		record_bad(w->s, "thread %d: option calls on %d: %s", w->id, idx,
			   strerror(errno));
}

static void worker_step(struct worker *w)
{
	int r = (int)(xorshift(&w->rng) % 32);
	int peer = (int)(xorshift(&w->rng) % NTHREADS);

	if (r < 12)
		send_one(w, w->id, peer);
	else if (r < 16)
		send_one(w, w->id, SHARED);
	else if (r < 20)
		send_one(w, SHARED, peer);
	else if (r < 26)
		for (int k = 0; k < 8 && recv_one(w, w->id, MSG_DONTWAIT); k++)
			;
	else if (r < 28) {
		atomic_fetch_add(&w->s->blocked_recvs, 1);
		recv_one(w, r == 26 ? w->id : SHARED, 0);
	} else if (r < 30)
		recv_one(w, SHARED, MSG_DONTWAIT);
	else if (r == 30)
		churn_socket(w);
	else
		poke_socket(w);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&w->s->stop))
		worker_step(w);
	/* Every send has returned, so every datagram is queued (loopback
	 * delivers before the sending call returns): drain. */
	pthread_barrier_wait(&w->s->drained);
	while (recv_one(w, w->id, MSG_DONTWAIT))
		;
	if (w->id == 0)
		while (recv_one(w, SHARED, MSG_DONTWAIT))
			;
	return NULL;
}

static int stress_seconds(void)
{
	const char *s = getenv("USTACK_TSAN_SECONDS");
	int v = s ? atoi(s) : DEFAULT_SECONDS;

	return v > 0 ? v : DEFAULT_SECONDS;
}

static void stress_setup(struct stress *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_init(&s->msg_lock, NULL);
	pthread_barrier_init(&s->drained, NULL, NTHREADS);
	for (int i = 0; i <= NTHREADS; i++) {
		s->fds[i] = bound_socket(&s->ports[i]);
		set_rcvtimeo_ms(s->fds[i], RCVTIMEO_MS);
	}
	for (int i = 0; i < NTHREADS; i++) {
		s->seen[i] = calloc(SEQ_LIMIT / 64, sizeof(*s->seen[i]));
		assert_non_null(s->seen[i]);
	}
}

static void stress_teardown(struct stress *s)
{
	for (int i = 0; i <= NTHREADS; i++)
		assert_int_equal(us_close(s->fds[i]), 0);
	for (int i = 0; i < NTHREADS; i++)
		free(s->seen[i]);
	pthread_barrier_destroy(&s->drained);
	pthread_mutex_destroy(&s->msg_lock);
}

static uint64_t mib(enum us_mib m)
{
	uint64_t v;

	pthread_mutex_lock(&st->lock);
	v = st->stats.mib[m];
	pthread_mutex_unlock(&st->lock);
	return v;
}

static void test_eight_threads(void **state)
{
	static struct worker w[NTHREADS];
	static struct stress s;
	uint64_t sent = 0, drops0 = mib(US_MIB_UDP_RCVBUF_ERRORS), drops;
	int seconds = stress_seconds();

	(void)state;
	stress_setup(&s);
	for (int i = 0; i < NTHREADS; i++) {
		w[i].s = &s;
		w[i].id = i;
		w[i].rng = 0x2545f4914f6cdd1dull * (uint64_t)(i + 1);
		assert_int_equal(pthread_create(&w[i].thread, NULL, worker_main,
						&w[i]), 0);
	}
	sleep((unsigned int)seconds);
	atomic_store(&s.stop, true);
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(w[i].thread, NULL);
	for (int i = 0; i < NTHREADS; i++)
		sent += atomic_load(&s.sent[i]);
	drops = mib(US_MIB_UDP_RCVBUF_ERRORS) - drops0;
	print_message("%d threads, %d s: sent %llu, received %u, dropped "
		      "(receive buffer full) %llu; %u blocking receives (%u timed "
		      "out), %u short-lived sockets\n", NTHREADS, seconds,
		      (unsigned long long)sent, atomic_load(&s.received),
		      (unsigned long long)drops, atomic_load(&s.blocked_recvs),
		      atomic_load(&s.timeouts), atomic_load(&s.churned));
	if (atomic_load(&s.bad))
		fail_msg("%u bad results; the first: %s", atomic_load(&s.bad),
			 s.first_bad);
	assert_true(sent > 0);
	assert_true(atomic_load(&s.received) > 0);
	/* Nothing vanished: received or counted as dropped, all of it. */
	assert_int_equal(sent, atomic_load(&s.received) + drops);
	stress_teardown(&s);
}

/* ---- the instance ------------------------------------------------------- */

static int group_setup(void **state)
{
	struct ustack_config cfg;

	(void)state;
	ustack_config_init(&cfg);
	cfg.seed = 1;
	cfg.log_level = US_LOG_ERR;
	st = ustack_create(&cfg);
	if (!st || ustack_start(st) < 0)
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	ustack_destroy(st);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_close_wakes_blocked_recv),
		cmocka_unit_test(test_data_wakes_blocked_recv),
		cmocka_unit_test(test_rcvtimeo_expires),
		cmocka_unit_test(test_calls_race_with_close),
		cmocka_unit_test(test_eight_threads),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
