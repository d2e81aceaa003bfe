/*
 * stack.c - creating and destroying an instance, and the engine loop
 * (see stack.h). The runtime thread (runtime.c) and tests call the engine.
 */
#include "stack/stack.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "dev/loopback.h"
#include "dev/netdev.h"
#include "net/arp.h"
#include "net/icmp.h"
#include "net/ipv4.h"
#include "net/tcp/tcp.h"
#include "net/ping.h"
#include "net/udp.h"
#include "socket/socket.h"

#define US_DEFAULT_MEM_LIMIT (64u << 20)

void ustack_config_init(struct ustack_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = US_LOG_WARN;
	cfg->mem_limit_bytes = US_DEFAULT_MEM_LIMIT;
}

static uint64_t seed_from_os(void)
{
	uint64_t seed = 0;

	if (getrandom(&seed, sizeof(seed), 0) != sizeof(seed))
		seed = (uint64_t)(uintptr_t)&seed ^ 0x5eed5eed5eedULL;
	return seed;
}

struct ustack *ustack_create(const struct ustack_config *cfg)
{
	struct ustack_config defaults;
	struct ustack *st;

	if (!cfg) {
		ustack_config_init(&defaults);
		cfg = &defaults;
	}
	st = calloc(1, sizeof(*st));
	if (!st) {
		errno = ENOMEM;
		return NULL;
	}
	pthread_mutex_init(&st->lock, NULL);
	if (cfg->clock) {
		st->clock = cfg->clock;
	} else {
		us_clock_init_monotonic(&st->own_clock);
		st->clock = &st->own_clock;
	}
	st->now = us_clock_now(st->clock);
	us_timer_base_init(&st->timers);
	list_init(&st->devices);
	list_init(&st->sockets);
	for (int i = 0; i < SOCK_EXT_BUCKETS; i++)
		list_init(&st->sock_exts[i]);
	list_init(&st->rd_dirty);
	st->next_ifindex = 1;
	skb_pool_init(&st->skb_pool, cfg->mem_limit_bytes);
	/* Without the cache every packet costs two mallocs: go on without. */
	(void)skb_pool_cache_init(&st->skb_pool);
	us_log_init(&st->log, cfg->log_level);
	us_sysctl_init(&st->sysctl);
	us_rng_seed(&st->rng, cfg->seed ? cfg->seed : seed_from_os());
	arp_init(st);
	ip_init(st);
	icmp_init(st);
	udp_init(st);
	ping_init(st);
	tcp_init(st);
	if (!cfg->no_loopback && !loopback_create(st)) {
		ustack_destroy(st);
		errno = ENOMEM;
		return NULL;
	}
	if (!us_default_stack())
		us_set_default_stack(st);
	return st;
}

void ustack_set_default(struct ustack *st)
{
	us_set_default_stack(st);
}

/* Sockets still open when the instance goes are closed, and their
 * descriptors released, as at process exit. */
static void close_all_sockets(struct ustack *st)
{
	while (!list_empty(&st->sockets)) {
		struct socket *sock = list_entry(st->sockets.next, struct socket,
						 node);
		bool installed = fdtable_forget_socket(sock);

		sock_close_locked(sock);
		if (installed)
			sockfd_put(sock);
	}
}

void ustack_destroy(struct ustack *st)
{
	if (!st)
		return;
	ustack_stop(st);
	if (us_default_stack() == st)
		us_set_default_stack(NULL);
	us_core_lock(st);
	close_all_sockets(st);
	tcp_exit(st);
	/* (Every sock went through sock_put, its extras with it; one still
	 * here would be a sock leaked, which LeakSanitizer reports.) */
	while (!list_empty(&st->devices))
		netdev_unregister(list_entry(st->devices.next,
					     struct net_device, list));
	arp_destroy(st);
	ip_destroy(st);
	us_timer_base_destroy(&st->timers);
	skb_pool_destroy(&st->skb_pool);
	free(st->sigq);   /* (the signals of the closes above: unsent) */
	pthread_mutex_unlock(&st->lock);
	pthread_mutex_destroy(&st->lock);
	free(st);
}

void us_drop(struct ustack *st, struct sk_buff *skb, enum us_drop_reason reason)
{
	if ((unsigned)reason >= US_DROP_MAX)
		reason = US_DROP_NOT_SPECIFIED;
	st->stats.drops[reason]++;
	st->stats.drops_total++;
	us_log(st, US_LOG_TRACE, "drop %s len %u", us_drop_reason_name(reason),
	       skb ? skb->len : 0);
	skb_free(skb);
}

struct sk_buff *us_skb_alloc(struct ustack *st, unsigned int len)
{
	return skb_alloc_reserved(&st->skb_pool, US_SKB_MAX_HEADER, len);
}

void us_engine_begin(struct ustack *st)
{
	us_time_t t = us_clock_now(st->clock);

	if (t > st->now)
		st->now = t;
}

int us_engine_step(struct ustack *st, int budget)
{
	struct list_head *pos, *tmp;
	int work = 0;

	list_for_each_safe(pos, tmp, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device, list);

		if (dev->ops->poll)
			work += dev->ops->poll(dev, budget);
	}
	work += (int)us_timers_run(&st->timers, st->now);
	return work;
}

void us_rx_batch_begin(struct ustack *st)
{
	tcp_rx_batch_begin(st);
}

void us_rx_batch_end(struct ustack *st)
{
	tcp_rx_batch_end(st);
}

us_time_t us_engine_next_event(struct ustack *st)
{
	us_time_t next = us_timer_next(&st->timers);
	struct list_head *pos;

	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device, list);

		if (dev->ops->next_event) {
			us_time_t t = dev->ops->next_event(dev);

			if (t < next)
				next = t;
		}
	}
	return next;
}

void us_engine_run_pending(struct ustack *st)
{
	struct list_head *pos, *tmp;
	int work;

	do {
		work = 0;
		list_for_each_safe(pos, tmp, &st->devices) {
			struct net_device *dev = list_entry(pos, struct net_device,
							    list);

			if (dev->ops->next_event && dev->ops->poll &&
			    dev->ops->next_event(dev) <= st->now)
				work += dev->ops->poll(dev, 64);
		}
		work += (int)us_timers_run(&st->timers, st->now);
	} while (work > 0);
}

void us_engine_run_until_idle(struct ustack *st)
{
	while (us_engine_step(st, 64) > 0)
		;
	sock_flush_readiness(st);
}

struct net_device *us_dev_get_by_name(struct ustack *st, const char *name)
{
	struct list_head *pos;

	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device, list);

		if (strcmp(dev->name, name) == 0)
			return dev;
	}
	return NULL;
}

struct net_device *us_dev_get_by_index(struct ustack *st, int ifindex)
{
	struct list_head *pos;

	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device, list);

		if (dev->ifindex == ifindex)
			return dev;
	}
	return NULL;
}

void ustack_print_counters(struct ustack *st, FILE *f)
{
	struct list_head *pos;

	us_core_lock(st);
	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device, list);
		const struct net_device_stats *s = &dev->stats;

		fprintf(f, "dev %s: rx %llu pkts %llu bytes, tx %llu pkts %llu bytes, "
			"rx_dropped %llu tx_dropped %llu\n", dev->name,
			(unsigned long long)s->rx_packets,
			(unsigned long long)s->rx_bytes,
			(unsigned long long)s->tx_packets,
			(unsigned long long)s->tx_bytes,
			(unsigned long long)s->rx_dropped,
			(unsigned long long)s->tx_dropped);
	}
	st->stats.mib[US_MIB_SKB_ALLOCS] = st->skb_pool.allocs;
	st->stats.mib[US_MIB_SKB_CLONES] = st->skb_pool.clones;
	if (st->skb_pool.cache)
		st->stats.mib[US_MIB_SKB_CACHE_MISSES] =
			st->skb_pool.cache->misses;
	us_stats_print(&st->stats, f);
	pthread_mutex_unlock(&st->lock);
}
