/*
 * test_runtime.c - the runtime thread (src/stack/runtime.c) on the real
 * monotonic clock: start/stop and their errors, a timer armed after start
 * fires once the runtime is woken, a device registered after start is
 * polled when its fd becomes readable, timers fire and the core lock is
 * free now and then under a flood of frames, and a stack is destroyed
 * cleanly while running.
 *
 * Waits are bounded (a hang guard of 10 s), never asserted as durations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "dev/netdev.h"
#include "stack/runtime.h"
#include "stack/stack.h"

#define WAIT_STEP_US 1000
#define WAIT_LIMIT_STEPS 10000 /* 10 s: only a guard against hangs */

static struct ustack *new_stack(void)
{
	struct ustack_config cfg;
	struct ustack *st;

	ustack_config_init(&cfg);
	cfg.seed = 1;
	cfg.log_level = US_LOG_ERR;
	st = ustack_create(&cfg);
	assert_non_null(st);
	return st;
}

/* Wait until *flag (read under the core lock) is at least want. */
static bool wait_for(struct ustack *st, const int *flag, int want)
{
	for (int i = 0; i < WAIT_LIMIT_STEPS; i++) {
		int v;

		pthread_mutex_lock(&st->lock);
		v = *flag;
		pthread_mutex_unlock(&st->lock);
		if (v >= want)
			return true;
		usleep(WAIT_STEP_US);
	}
	return false;
}

static void test_start_stop(void **state)
{
	struct ustack *st = new_stack();

	(void)state;
	assert_int_equal(ustack_start(st), 0);
	assert_non_null(st->rt);
	assert_int_equal(ustack_start(st), -EALREADY);
	ustack_stop(st);
	assert_null(st->rt);
	ustack_stop(st); /* harmless when stopped */
	/* It can start again after a stop. */
	assert_int_equal(ustack_start(st), 0);
	ustack_stop(st);
	ustack_destroy(st);
}

static void test_wakeup_when_stopped(void **state)
{
	struct ustack *st = new_stack();

	(void)state;
	pthread_mutex_lock(&st->lock);
	us_runtime_wakeup(st); /* harmless without a runtime */
	pthread_mutex_unlock(&st->lock);
	ustack_destroy(st);
}

struct timer_probe {
	struct us_timer t;
	int fired;
	us_time_t at;
};

static struct timer_probe probe;

static void probe_fn(struct us_timer *t, us_time_t now)
{
	struct timer_probe *p = container_of(t, struct timer_probe, t);

	p->fired++;
	p->at = now;
}

static void test_timer_fires(void **state)
{
	struct ustack *st = new_stack();
	us_time_t due;

	(void)state;
	assert_int_equal(ustack_start(st), 0);
	probe.fired = 0;
	us_timer_init(&probe.t, probe_fn);
	pthread_mutex_lock(&st->lock);
	/* Armed after the runtime went to sleep with nothing pending: only
	 * the wake-up tells it to arm its timerfd. */
	due = us_clock_now(st->clock) + 20 * US_USEC_PER_MS;
	assert_int_equal(us_timer_mod(&st->timers, &probe.t, due), 0);
	us_runtime_wakeup(st);
	pthread_mutex_unlock(&st->lock);
	assert_true(wait_for(st, &probe.fired, 1));
	pthread_mutex_lock(&st->lock);
	assert_int_equal(probe.fired, 1);
	assert_true(probe.at >= due);
	pthread_mutex_unlock(&st->lock);
	ustack_destroy(st);
}

/* A device whose fd is the read end of a pipe; poll counts the bytes. */
struct pipedev_priv {
	int wfd;
	int bytes;
};

static int pipedev_poll(struct net_device *dev, int budget)
{
	struct pipedev_priv *p = netdev_priv(dev);
	int n = 0;
	char c;

	while (n < budget && read(dev->fd, &c, 1) == 1)
		n++;
	p->bytes += n;
	return n;
}

static int pipedev_xmit(struct net_device *dev, struct sk_buff *skb)
{
	(void)dev;
	skb_free(skb);
	return 0;
}

static void pipedev_destroy(struct net_device *dev)
{
	struct pipedev_priv *p = netdev_priv(dev);

	close(dev->fd);
	close(p->wfd);
}

static const struct net_device_ops pipedev_ops = {
	.xmit = pipedev_xmit,
	.poll = pipedev_poll,
	.destroy = pipedev_destroy,
};

static void test_device_added_after_start(void **state)
{
	struct ustack *st = new_stack();
	struct pipedev_priv *p;
	struct net_device *dev;
	int fds[2];

	(void)state;
	assert_int_equal(ustack_start(st), 0);
	assert_int_equal(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
	dev = netdev_alloc("pipe0", sizeof(*p), &pipedev_ops);
	assert_non_null(dev);
	p = netdev_priv(dev);
	p->wfd = fds[1];
	dev->fd = fds[0];
	pthread_mutex_lock(&st->lock);
	assert_int_equal(netdev_register(st, dev), 0);
	assert_int_equal(us_runtime_add_dev(st, dev), 0);
	pthread_mutex_unlock(&st->lock);

	/* More bytes than one poll's budget: the runtime keeps reading. */
	for (int i = 0; i < 100; i++)
		assert_int_equal(write(fds[1], "x", 1), 1);
	assert_true(wait_for(st, &p->bytes, 100));
	assert_int_equal(write(fds[1], "y", 1), 1);
	assert_true(wait_for(st, &p->bytes, 101));
	/* Destroying a running stack stops the runtime first. */
	ustack_destroy(st);
}

/*
 * A device that always has frames while `busy` (its fd, an eventfd, stays
 * readable): a flood. Timers must still fire, and other threads must still
 * get the core lock.
 */
struct busydev_priv {
	bool busy;
	int polls;
};

static int busydev_poll(struct net_device *dev, int budget)
{
	struct busydev_priv *p = netdev_priv(dev);
	uint64_t v;

	if (!p->busy) {
		/* Drain the eventfd: no longer readable, no more wake-ups. */
		ssize_t n = read(dev->fd, &v, sizeof(v));

		(void)n;
		return 0;
	}
	p->polls++;
	return budget;
}

static void busydev_destroy(struct net_device *dev)
{
	close(dev->fd);
}

static const struct net_device_ops busydev_ops = {
	.xmit = pipedev_xmit,
	.poll = busydev_poll,
	.destroy = busydev_destroy,
};

static void test_timer_fires_during_flood(void **state)
{
	struct ustack *st = new_stack();
	struct busydev_priv *p;
	struct net_device *dev;
	us_time_t due;

	(void)state;
	dev = netdev_alloc("busy0", sizeof(*p), &busydev_ops);
	assert_non_null(dev);
	p = netdev_priv(dev);
	p->busy = true;
	dev->fd = eventfd(1, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(dev->fd >= 0);
	probe.fired = 0;
	us_timer_init(&probe.t, probe_fn);
	pthread_mutex_lock(&st->lock);
	assert_int_equal(netdev_register(st, dev), 0);
	due = us_clock_now(st->clock) + 5 * US_USEC_PER_MS;
	assert_int_equal(us_timer_mod(&st->timers, &probe.t, due), 0);
	pthread_mutex_unlock(&st->lock);

	assert_int_equal(ustack_start(st), 0);
	/* wait_for() itself needs the lock the flood holds. */
	assert_true(wait_for(st, &probe.fired, 1));
	pthread_mutex_lock(&st->lock);
	assert_true(p->polls > 0);
	p->busy = false;
	pthread_mutex_unlock(&st->lock);
	ustack_destroy(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_stop),
		cmocka_unit_test(test_wakeup_when_stopped),
		cmocka_unit_test(test_timer_fires),
		cmocka_unit_test(test_device_added_after_start),
		cmocka_unit_test(test_timer_fires_during_flood),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
