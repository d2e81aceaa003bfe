/*
 * sim.c - the discrete-event loop over stacks on one virtual clock
 * (see sim.h).
 */
#include "sim.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dev/netdev.h"
#include "dev/wire.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

struct ustack *sim_stack_pool(struct us_clock *clock, uint64_t seed,
			      size_t mem_limit)
{
	struct ustack_config cfg;

	ustack_config_init(&cfg);
	cfg.clock = clock;
	cfg.seed = seed;
	cfg.log_level = 0;
	if (mem_limit)
		cfg.mem_limit_bytes = mem_limit;
	return ustack_create(&cfg);
}

struct ustack *sim_stack(struct us_clock *clock, uint64_t seed)
{
	return sim_stack_pool(clock, seed, 0);
}

uint64_t sim_seed(const char *test_name, uint64_t def)
{
	const char *env = getenv("SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : def;

	printf("%s: seed %" PRIu64 " (replay: SEED=%" PRIu64 " make test-sim)\n",
	       test_name, seed, seed);
	return seed;
}

static uint64_t run_all_idle(struct ustack **stacks, int n)
{
	uint64_t work = 0;
	int busy;

	do {
		busy = 0;
		for (int i = 0; i < n; i++) {
			int w;

			us_engine_begin(stacks[i]);
			w = us_engine_step(stacks[i], 64);
			busy |= w > 0;
			work += (uint64_t)w;
		}
	} while (busy);
	return work;
}

int sim_advance(struct us_clock *clock, struct ustack **stacks, int n,
		us_time_t until)
{
	us_time_t next = US_TIME_NEVER;

	run_all_idle(stacks, n);
	for (int i = 0; i < n; i++) {
		us_time_t t = us_engine_next_event(stacks[i]);

		if (t < next)
			next = t;
	}
	if (next > until)
		return 0;
	us_clock_set(clock, next > clock->virt ? next : clock->virt + 1);
	run_all_idle(stacks, n);
	return 1;
}

uint64_t sim_run_until(struct us_clock *clock, struct ustack **stacks, int n,
		       us_time_t until)
{
	uint64_t work = 0;

	for (;;) {
		us_time_t next = US_TIME_NEVER;

		work += run_all_idle(stacks, n);
		for (int i = 0; i < n; i++) {
			us_time_t t = us_engine_next_event(stacks[i]);

			if (t < next)
				next = t;
		}
		if (next > until) {
			us_clock_set(clock, until);
			work += run_all_idle(stacks, n);
			return work;
		}
		/* An event due now was handled by run_all_idle; step time. */
		us_clock_set(clock, next > clock->virt ? next : clock->virt + 1);
	}
}

#define SIM_BULK_CHUNK 65536

static uint8_t sim_bulk_byte(size_t off)
{
	return (uint8_t)((off * 2654435761u) >> 13);
}

bool sim_bulk_pump(int cfd, int sfd, struct sim_bulk *b)
{
	static uint8_t buf[SIM_BULK_CHUNK];
	bool did = false;
	ssize_t n;

	if (b->sent < b->total) {
		size_t len = b->total - b->sent < sizeof(buf) ?
			     b->total - b->sent : sizeof(buf);

		for (size_t i = 0; i < len; i++)
			buf[i] = sim_bulk_byte(b->sent + i);
		n = us_send(cfd, buf, len, MSG_DONTWAIT);
		if (n > 0) {
			b->sent += (size_t)n;
			did = true;
		}
	}
	while ((n = us_recv(sfd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != sim_bulk_byte(b->rcvd + (size_t)i))
				b->bad = true;
		b->rcvd += (size_t)n;
		did = true;
	}
	return did;
}

int sim_tcp_connect(struct us_clock *clock, struct ustack **stacks, int n,
		    int lfd, int cfd, const struct sockaddr_in *sa)
{
	us_time_t until = clock->virt + 10 * US_USEC_PER_SEC;
	int sfd;

	if (us_connect(cfd, (const struct sockaddr *)sa, sizeof(*sa)) == 0 ||
	    errno != EINPROGRESS)
		return -1;
	while ((sfd = us_accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) < 0)
		if (!sim_advance(clock, stacks, n, until))
			return -1;
	return sfd;
}

int sim_tcp_pair(struct us_clock *clock, struct ustack **st,
		 const struct wire_params *wp, uint32_t a, uint32_t b,
		 uint16_t port, int rcvbuf, const char *cc,
		 struct sim_tcp_pair *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(port),
				  .sin_addr.s_addr = b };

	p->lfd = p->cfd = p->sfd = -1;
	if (wire_pair_create(st[0], st[1], wp, &p->da, &p->db) < 0 ||
	    netdev_set_ipv4(p->da, a, 24) < 0 ||
	    netdev_set_ipv4(p->db, b, 24) < 0)
		return -1;
	p->lfd = us_socket_on(st[1], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (p->lfd < 0 ||
	    (rcvbuf && us_setsockopt(p->lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf,
				     sizeof(rcvbuf)) < 0) ||
	    us_bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    us_listen(p->lfd, 4) < 0)
		return -1;
	p->cfd = us_socket_on(st[0], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (p->cfd < 0 ||
	    (cc && us_setsockopt(p->cfd, IPPROTO_TCP, TCP_CONGESTION, cc,
				 (socklen_t)strlen(cc)) < 0))
		return -1;
	p->sfd = sim_tcp_connect(clock, st, 2, p->lfd, p->cfd, &sa);
	return p->sfd < 0 ? -1 : 0;
}
