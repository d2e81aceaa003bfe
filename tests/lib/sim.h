/*
 * sim.h - drive several stack instances that share one virtual clock, as a
 * discrete-event simulation: run every engine until idle, then jump the
 * clock to the earliest next event (a timer or a frame on a wire).
 */
#ifndef US_TESTS_SIM_H
#define US_TESTS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"

struct ustack;

/* An instance on the shared virtual clock, seeded and quiet (log level
 * 0); NULL if ustack_create fails. */
struct ustack *sim_stack(struct us_clock *clock, uint64_t seed);
/* The same with a packet-buffer pool of mem_limit bytes (0: the default). */
struct ustack *sim_stack_pool(struct us_clock *clock, uint64_t seed,
			      size_t mem_limit);
/* The seed for this run: $SEED if set, else def. Printed for replay. */
uint64_t sim_seed(const char *test_name, uint64_t def);
/* Run the stacks until the clock reaches `until` (or nothing is left to
 * happen). Returns the number of engine steps that did work. */
uint64_t sim_run_until(struct us_clock *clock, struct ustack **stacks, int n,
		       us_time_t until);
/*
 * One step for simulations whose applications act between events: run the
 * engines until idle, then move the clock to the next event and run what
 * is due. Returns 0 when no event is due at or before `until` (the clock
 * is left where it was).
 */
int sim_advance(struct us_clock *clock, struct ustack **stacks, int n,
		us_time_t until);


/*
 * A one-way bulk transfer driven between simulation steps: `total` bytes
 * of a pattern of their offset, sent on cfd as its buffer takes them and
 * read from sfd, every byte checked (bad: one differed).
 */
struct sim_bulk {
	size_t total, sent, rcvd;
	bool bad;
};
/* One step: send what the buffer takes, read what there is. True when
 * anything moved. */
bool sim_bulk_pump(int cfd, int sfd, struct sim_bulk *b);
/* Connect cfd (nonblocking) to sa and run the stacks until lfd accepts
 * the connection, for 10 s of virtual time at most: the accepted
 * (nonblocking) descriptor, or -1. */
struct sockaddr_in;
int sim_tcp_connect(struct us_clock *clock, struct ustack **stacks, int n,
		    int lfd, int cfd, const struct sockaddr_in *sa);

/*
 * One connection over a wire between st[0] (the client, address a/24)
 * and st[1] (the server, b/24): the wire made with *wp, a listener on
 * b:port with SO_RCVBUF rcvbuf (0: the default; the child inherits it),
 * the client's congestion control cc (NULL: the default), connected as
 * sim_tcp_connect does. 0, or -1 when a step failed.
 */
struct wire_params;
struct net_device;
struct sim_tcp_pair {
	struct net_device *da, *db;   /* the client's and the server's end */
	int lfd, cfd, sfd;            /* nonblocking */
};
int sim_tcp_pair(struct us_clock *clock, struct ustack **st,
		 const struct wire_params *wp, uint32_t a, uint32_t b,
		 uint16_t port, int rcvbuf, const char *cc,
		 struct sim_tcp_pair *p);
#endif
