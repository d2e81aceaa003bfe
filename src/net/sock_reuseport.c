// SPDX-License-Identifier: BSD-2-Clause
/*
 * sock_reuseport.c - SO_REUSEPORT groups and SO_ATTACH_REUSEPORT_CBPF, as
 * Linux keeps them (net/core/sock_reuseport.c).
 *
 * Sockets that share an address, port and device with SO_REUSEPORT form a
 * group: a UDP socket joins at bind, a TCP one when it listens. The group
 * keeps them in the order they joined; one that leaves gives its place to
 * the last (reuseport_detach_sock), so a place is an index a program can
 * name. A packet for the group goes to the socket its classic BPF program
 * returns the index of, the program run on the packet's payload (the UDP
 * or TCP header pulled); without a program, or for an index past the
 * group, to one chosen by a hash of the packet's addresses and ports
 * (reciprocal_scale), so a flow stays with its socket.
 *
 * A socket not yet bound (or listening) that sets a program starts a
 * group of its own, which it keeps when it joins no other; joining
 * another drops its program (the group's is the one that counts).
 *
 * Once members have set SO_INCOMING_CPU, the hash's choice moves on to
 * the first member whose CPU is the one taking the packet.
 *
 * Not as Linux: a UDP group some of whose sockets are connected is not
 * used (Linux takes its choice and lets a better-scoring connected socket
 * still win); TCP listeners that leave do not hand their queued
 * connections to others (net.ipv4.tcp_migrate_req, off by default).
 *
 * Call chain: udp_get_port / tcp_listen_start -> reuseport_join;
 * udp_unhash / tcp_listen_stop / sock_put -> reuseport_leave; udp_lookup,
 * tcp_v4_rcv -> reuseport_select; setsockopt -> reuseport_attach_cbpf,
 * reuseport_detach_prog.
 */
#include <errno.h>
#include <linux/filter.h>
#include <stdlib.h>

#include "net/sock.h"

struct sock_reuseport {
	struct sk_filter *prog;     /* SO_ATTACH_REUSEPORT_CBPF's, or NULL */
	bool has_conns;             /* a UDP member connected */
	uint16_t incoming_cpu;      /* members with an SO_INCOMING_CPU */
	uint16_t num, cap;
	struct sock **socks;        /* the members, by place */
};

static struct sock_reuseport *reuseport_of(const struct sock *sk)
{
	const struct sock_ext *e = sk->has_ext ? sock_ext(sk, false) : NULL;

	return e ? e->reuse : NULL;
}

bool reuseport_peer(const struct sock *sk, const struct sock *sk2)
{
	return sk2 != sk && sk2->num == sk->num && sk2->reuseport &&
	       sk2->rcv_saddr == sk->rcv_saddr &&
	       sk2->bound_dev_if == sk->bound_dev_if;
}

static void reuseport_free(struct sock_reuseport *r)
{
	if (r->prog)
		sk_filter_put(r->prog);
	free(r->socks);
	free(r);
}

/* sk out of its group r (Linux's reuseport_detach_sock): the last
 * member takes its place; the group goes with its last member. */
static void reuseport_remove(struct sock_ext *e, struct sock_reuseport *r,
			     const struct sock *sk)
{
	for (uint16_t i = 0; i < r->num; i++) {
		if (r->socks[i] != sk)
			continue;
		r->socks[i] = r->socks[--r->num];
		break;
	}
	if (sk->incoming_cpu >= 0 && r->incoming_cpu)
		r->incoming_cpu--;   /* (Linux's reuseport_put_incoming_cpu) */
	e->reuse = NULL;
	if (!r->num)
		reuseport_free(r);
}

int reuseport_join(struct sock *sk, struct sock *sk2)
{
	struct sock_ext *e = sock_ext(sk, true);
	struct sock_reuseport *r, *old;

	if (!e)
		return -ENOMEM;
	/* A peer without a group (SO_REUSEPORT set after its bind or
	 * listen) gets one first, in place 0 (Linux's reuseport_add_sock). */
	if (sk2 && !reuseport_of(sk2)) {
		int rc = reuseport_join(sk2, NULL);

		if (rc < 0)
			return rc;
	}
	old = e->reuse;
	r = sk2 ? reuseport_of(sk2) : NULL;
	if (r == old && old)
		return 0;
	if (!r) {
		/* Linux's reuseport_alloc: a group made for a program before
		 * stays this socket's own. */
		if (old)
			return 0;
		r = calloc(1, sizeof(*r));
		if (!r)
			return -ENOMEM;
	}
	if (r->num == r->cap) {
		uint16_t cap = r->cap ? (uint16_t)(r->cap * 2) : 4;
		struct sock **socks;

		if (r->cap >= UINT16_MAX / 2 ||
		    !(socks = realloc(r->socks, cap * sizeof(*socks)))) {
			if (!r->num)
				free(r);
			return -ENOMEM;
		}
		r->socks = socks;
		r->cap = cap;
	}
	r->socks[r->num++] = sk;
	if (old)
		reuseport_remove(e, old, sk);
	e->reuse = r;
	if (sk->incoming_cpu >= 0)
		r->incoming_cpu++;   /* (Linux's reuseport_get_incoming_cpu) */
	return 0;
}

void reuseport_set_incoming_cpu(struct sock *sk, int cpu)
{
	struct sock_reuseport *r = reuseport_of(sk);

	if (r && sk->incoming_cpu < 0 && cpu >= 0)
		r->incoming_cpu++;
	else if (r && sk->incoming_cpu >= 0 && cpu < 0 && r->incoming_cpu)
		r->incoming_cpu--;
	sk->incoming_cpu = cpu;
}

/* Linux's reuseport_select_sock_by_hash: the member at the hash's place,
 * or, once members have set SO_INCOMING_CPU, the first from there whose
 * CPU is the one taking the packet (else the first there); never a
 * connected one. */
static struct sock *reuseport_by_hash(const struct sock_reuseport *r,
				      uint32_t hash)
{
	uint16_t i = (uint16_t)(((uint64_t)hash * r->num) >> 32), j = i;
	struct sock *first = NULL;
	int cpu = r->incoming_cpu ? sched_getcpu() : -1;

	do {
		struct sock *sk = r->socks[i];

		if (sk->state != TCP_ESTABLISHED) {
			if (!r->incoming_cpu || sk->incoming_cpu == cpu)
				return sk;
			if (!first)
				first = sk;
		}
		if (++i >= r->num)
			i = 0;
	} while (i != j);
	return first;
}

void reuseport_leave(struct sock *sk)
{
	struct sock_ext *e = sk->has_ext ? sock_ext(sk, false) : NULL;

	if (e && e->reuse)
		reuseport_remove(e, e->reuse, sk);
}

void reuseport_has_conns_set(struct sock *sk)
{
	struct sock_reuseport *r = reuseport_of(sk);

	if (r)
		r->has_conns = true;
}

struct sock *reuseport_select(struct sock *sk, uint32_t hash,
			      const struct sk_buff *skb,
			      const uint8_t *payload)
{
	struct sock_reuseport *r = reuseport_of(sk);

	if (!r || !r->num || r->has_conns)
		return NULL;
	if (r->prog && skb) {
		uint32_t i = sk_filter_run_prog(r->prog, skb, payload);

		if (i < r->num)
			return r->socks[i];
	}
	return reuseport_by_hash(r, hash);
}

/* Is sk in its table yet (Linux's !sk_unhashed): a TCP socket listening
 * or connected, a datagram socket bound? */
static bool reuseport_hashed(const struct sock *sk)
{
	return sk->type == SOCK_STREAM ? sk->state != TCP_CLOSE : sk->num != 0;
}

/* Linux's sk_reuseport_attach_filter: the program checked first, then a
 * group to hold it: a socket not yet in its table with SO_REUSEPORT gets
 * one of its own, any other needs the one it joined (EINVAL). */
int reuseport_attach_cbpf(struct sock *sk, const void *optval,
			  socklen_t optlen)
{
	struct sock_fprog prog;
	struct sk_filter *fp;
	struct sock_reuseport *r;
	int rc = sk_fprog_copy(optval, optlen, &prog);

	if (rc || (rc = sk_filter_create(&prog, &fp)) != 0)
		return rc;
	if (!reuseport_hashed(sk) && sk->reuseport) {
		rc = reuseport_join(sk, NULL);
	} else if (!reuseport_of(sk)) {
		rc = -EINVAL;
	}
	if (rc) {
		sk_filter_put(fp);
		return rc;
	}
	r = reuseport_of(sk);
	if (r->prog)
		sk_filter_put(r->prog);
	r->prog = fp;
	return 0;
}

/* Linux's reuseport_detach_prog: ENOENT without a program (or a group,
 * with SO_REUSEPORT), EINVAL without either. */
int reuseport_detach_prog(struct sock *sk)
{
	struct sock_reuseport *r = reuseport_of(sk);

	if (!r)
		return sk->reuseport ? -ENOENT : -EINVAL;
	if (!r->prog)
		return -ENOENT;
	sk_filter_put(r->prog);
	r->prog = NULL;
	return 0;
}
