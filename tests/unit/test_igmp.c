/*
 * test_igmp.c - multicast groups: joining and leaving (IP_ADD_MEMBERSHIP
 * and kin, with Linux's errors), which datagrams to a group reach which
 * socket (IP_MULTICAST_ALL), the IGMP reports a join, a leave and a query
 * bring (RFC 3376 §5, RFC 2236 §3), the local copy IP_MULTICAST_LOOP
 * asks for, and source filters (RFC 3678) with their reports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include "core/checksum.h"
#include "ustack/ustack.h"
#include "lib/iptest.h"

static struct test_stack T;
static uint32_t ME, PEER, GROUP, GROUP2;

static int setup(void **state)
{
	*state = &T;
	ts_init_l3(&T, "10.0.0.2", 24);
	ME = ts_ip("10.0.0.2");
	PEER = ts_ip("10.0.0.1");
	GROUP = ts_ip("239.1.2.3");
	GROUP2 = ts_ip("239.1.2.4");
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static int udp_on(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };
	int fd = us_socket_on(T.st, AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int one = 1;

	assert_true(fd >= 0);
	/* Several members on one port, as Linux needs it. */
	assert_int_equal(us_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				       sizeof(one)), 0);
	assert_int_equal(us_bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static int join(int fd, int opt, uint32_t group, uint32_t addr, int ifindex)
{
	struct ip_mreqn m = { .imr_multiaddr.s_addr = group,
			      .imr_address.s_addr = addr,
			      .imr_ifindex = ifindex };

	return us_setsockopt(fd, IPPROTO_IP, opt, &m, sizeof(m)) < 0 ? -errno
								     : 0;
}

/* A UDP datagram "hi" from PEER:7000 to dst:port, checksum 0 (none). */
static void inject_udp(uint32_t dst, uint16_t port)
{
	uint8_t u[10] = { 0x1b, 0x58, (uint8_t)(port >> 8), (uint8_t)port,
			  0, 10, 0, 0, 'h', 'i' };

	ipt_inject(&T, PEER, dst, IPPROTO_UDP, 1, 0, u, sizeof(u));
}

static bool got(int fd)
{
	char buf[8];

	return us_recv(fd, buf, sizeof(buf), 0) == 2;
}

/*
 * The next frame must be an IGMP message as RFC 3376 §4 and RFC 2113 ask:
 * TTL 1, Router Alert, TOS 0xc0, from ME, with a good checksum. Returns
 * the message (its length in *len) in a buffer the caller frees with
 * the skb.
 */
static struct sk_buff *pop_igmp(uint32_t *dst, uint8_t **msg, size_t *len)
{
	struct ipv4_info h;
	struct sk_buff *skb = ipt_pop(&T, &h);

	assert_int_equal(skb->data[0], 0x46);
	assert_int_equal(h.ttl, 1);
	assert_int_equal(h.tos, 0xc0);
	assert_int_equal(h.protocol, 2);
	assert_int_equal(h.saddr, ME);
	assert_int_equal(skb->data[20], 0x94);
	assert_int_equal(skb->data[21], 4);
	*dst = h.daddr;
	*msg = skb->data + 24;
	*len = skb->len - 24;
	assert_int_equal(inet_csum(*msg, *len), 0);
	return skb;
}

/* The next frame is a version 3 report with one record of `type` for
 * group. */
static void expect_v3(uint8_t type, uint32_t group)
{
	uint32_t dst;
	uint8_t *m;
	size_t len;
	struct sk_buff *skb = pop_igmp(&dst, &m, &len);

	assert_int_equal(dst, ts_ip("224.0.0.22"));
	assert_int_equal(len, 16);
	assert_int_equal(m[0], 0x22);
	assert_int_equal(ipt_get16(m + 6), 1);
	assert_int_equal(m[8], type);
	assert_int_equal(ipt_get16(m + 10), 0);   /* no sources */
	assert_memory_equal(m + 12, &group, 4);
	skb_free(skb);
}

/* Advance virtual time by `us`, in steps, running the timers. */
static void run_for(us_time_t us)
{
	for (us_time_t t = 0; t < us; t += 10000)
		ts_advance(&T, 10000);
}

/*
 * A join tells the routers at once and once more within the Unsolicited
 * Report Interval (1 s); datagrams to the group then reach the members and
 * the sockets that take every group (IP_MULTICAST_ALL, the default), not a
 * socket with it off. A leave tells them twice too, and the group is
 * heard no more.
 */
static void test_join_receive_leave(void **state)
{
	int a = udp_on(5000), b = udp_on(5000), c = udp_on(5000), zero = 0;
	uint64_t not_ours = ipt_drops(&T, US_DROP_IP_NOT_FOR_US);

	(void)state;
	assert_int_equal(us_setsockopt(b, IPPROTO_IP, IP_MULTICAST_ALL, &zero,
				       sizeof(zero)), 0);
	inject_udp(GROUP, 5000);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_NOT_FOR_US), not_ours + 1);
	assert_false(got(a));

	assert_int_equal(join(a, IP_ADD_MEMBERSHIP, GROUP, ME, 0), 0);
	expect_v3(4, GROUP);                 /* CHANGE_TO_EXCLUDE_MODE {} */
	assert_null(ts_pop_tx(&T));
	run_for(1000000);
	expect_v3(4, GROUP);                 /* the one repeat */
	run_for(3000000);
	assert_null(ts_pop_tx(&T));

	inject_udp(GROUP, 5000);
	assert_true(got(a));
	assert_false(got(b));
	assert_true(got(c));
	/* Another group, another port: not ours, and no one's. */
	inject_udp(GROUP2, 5000);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_NOT_FOR_US), not_ours + 2);
	inject_udp(GROUP, 5001);
	assert_int_equal(ipt_mib(&T, US_MIB_UDP_IGNORED_MULTI), 1);
	assert_int_equal(ipt_mib(&T, US_MIB_UDP_NO_PORTS), 0);
	assert_null(ts_pop_tx(&T));          /* no port unreachable */

	/* b joins on the device by index: now it takes them too. */
	assert_int_equal(join(b, IP_ADD_MEMBERSHIP, GROUP, 0,
			      T.dev->ifindex), 0);
	assert_null(ts_pop_tx(&T));          /* joined already: no report */
	inject_udp(GROUP, 5000);
	assert_true(got(a) && got(b) && got(c));

	assert_int_equal(join(a, IP_DROP_MEMBERSHIP, GROUP, ME, 0), 0);
	assert_null(ts_pop_tx(&T));          /* b is still a member */
	assert_int_equal(us_close(b), 0);    /* its membership goes */
	expect_v3(3, GROUP);                 /* CHANGE_TO_INCLUDE_MODE {} */
	run_for(1000000);
	expect_v3(3, GROUP);
	run_for(3000000);
	assert_null(ts_pop_tx(&T));
	inject_udp(GROUP, 5000);
	assert_false(got(a) || got(c));
	assert_int_equal(ipt_drops(&T, US_DROP_IP_NOT_FOR_US), not_ours + 3);
	assert_int_equal(us_close(a), 0);
	assert_int_equal(us_close(c), 0);
}

/* Linux's errors (do_ip_setsockopt, ip_mc_join_group, ip_mc_leave_group;
 * test_diff_sockopt compares them with the kernel's). */
static void test_membership_errors(void **state)
{
	int u = udp_on(5000);
	int t = us_socket_on(T.st, AF_INET, SOCK_STREAM, 0);
	struct ip_mreq short_req = { .imr_multiaddr.s_addr = GROUP,
				     .imr_interface.s_addr = ME };
	struct group_req gr = { .gr_interface = (uint32_t)T.dev->ifindex };
	struct sockaddr_in *gs = (struct sockaddr_in *)&gr.gr_group;

	(void)state;
	assert_int_equal(join(t, IP_ADD_MEMBERSHIP, GROUP, ME, 0), -EPROTO);
	assert_int_equal(us_setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP,
				       &short_req, 4), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(join(u, IP_ADD_MEMBERSHIP, PEER, ME, 0), -EINVAL);
	assert_int_equal(join(u, IP_ADD_MEMBERSHIP, GROUP, 0, 99), -ENODEV);
	assert_int_equal(join(u, IP_ADD_MEMBERSHIP, GROUP,
			      ts_ip("10.9.9.9"), 0), -ENODEV);
	/* No address, no index, no route to the group. */
	assert_int_equal(join(u, IP_ADD_MEMBERSHIP, GROUP, 0, 0), -ENODEV);
	/* An ip_mreq (8 bytes) joins by address. */
	assert_int_equal(us_setsockopt(u, IPPROTO_IP, IP_ADD_MEMBERSHIP,
				       &short_req, sizeof(short_req)), 0);
	assert_int_equal(join(u, IP_ADD_MEMBERSHIP, GROUP, 0,
			      T.dev->ifindex), -EADDRINUSE);
	assert_int_equal(join(u, IP_DROP_MEMBERSHIP, GROUP2, ME, 0),
			 -EADDRNOTAVAIL);
	assert_int_equal(join(u, IP_DROP_MEMBERSHIP, GROUP, 0, 0), -ENODEV);
	assert_int_equal(join(u, IP_DROP_MEMBERSHIP, GROUP, 0,
			      T.dev->ifindex), 0);
	assert_int_equal(join(u, IP_DROP_MEMBERSHIP, GROUP, 0,
			      T.dev->ifindex), -EADDRNOTAVAIL);
	/* MCAST_JOIN_GROUP: a group_req, AF_INET only. */
	gs->sin_family = AF_INET;
	gs->sin_addr.s_addr = GROUP;
	assert_int_equal(us_setsockopt(u, IPPROTO_IP, MCAST_JOIN_GROUP, &gr,
				       sizeof(gr) - 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(us_setsockopt(u, IPPROTO_IP, MCAST_JOIN_GROUP, &gr,
				       sizeof(gr)), 0);
	assert_int_equal(us_setsockopt(u, IPPROTO_IP, MCAST_LEAVE_GROUP, &gr,
				       sizeof(gr)), 0);
	assert_int_equal(us_setsockopt(u, IPPROTO_IP, MCAST_LEAVE_GROUP, &gr,
				       sizeof(gr)), -1);
	assert_int_equal(errno, EADDRNOTAVAIL);
	gs->sin_family = AF_INET6;
	assert_int_equal(us_setsockopt(u, IPPROTO_IP, MCAST_JOIN_GROUP, &gr,
				       sizeof(gr)), -1);
	assert_int_equal(errno, EINVAL);
	/* net.ipv4.igmp_max_memberships (20): the 21st is ENOBUFS. */
	for (uint32_t i = 0; i < 20; i++)
		assert_int_equal(join(u, IP_ADD_MEMBERSHIP,
				      htonl(0xef050500u + i), ME, 0), 0);
	assert_int_equal(join(u, IP_ADD_MEMBERSHIP, htonl(0xef050514u), ME, 0),
			 -ENOBUFS);
	assert_int_equal(us_close(u), 0);
	assert_int_equal(us_close(t), 0);
}

/* The IGMP message msg (its checksum filled in) from src to dst. */
static void inject_igmp(uint32_t src, uint32_t dst, uint8_t *msg, size_t len)
{
	msg[2] = msg[3] = 0;
	put16(msg + 2, inet_csum(msg, len));
	ipt_inject(&T, src, dst, 2, 1, 0, msg, len);
}

/* A query of `len` bytes (8: version 1 or 2, 12: version 3) for group,
 * with Max Resp Code `code`. */
static void inject_query(size_t len, uint8_t code, uint32_t group)
{
	uint8_t q[12] = { 0x11, code };

	memcpy(q + 4, &group, 4);
	inject_igmp(PEER, group ? group : ts_ip("224.0.0.1"), q, len);
}

/*
 * Queries: a version 3 general query is answered within its Max Resp Time
 * by one report listing every group; a version 2 query turns the device to
 * version 2 for the Older Version Querier Present Timeout (260 s), where
 * each group answers with a version 2 report to itself, another host's
 * report for a group cancels ours, and a leave is one Leave Group to
 * 224.0.0.2. A query with a bad checksum is dropped.
 */
static void test_queries_and_versions(void **state)
{
	int u = udp_on(5000);
	uint32_t dst, g;
	uint8_t *m;
	size_t len;
	struct sk_buff *skb;
	uint8_t rep[8] = { 0x16 };

	(void)state;
	assert_int_equal(join(u, IP_ADD_MEMBERSHIP, GROUP, ME, 0), 0);
	assert_int_equal(join(u, IP_ADD_MEMBERSHIP, GROUP2, ME, 0), 0);
	run_for(2000000);
	ts_flush_tx(&T);

	inject_query(12, 10, 0);             /* Max Resp Time 1 s */
	assert_int_equal(ipt_mib(&T, US_MIB_IGMP_IN_QUERIES), 1);
	run_for(1000000);
	skb = pop_igmp(&dst, &m, &len);
	assert_int_equal(dst, ts_ip("224.0.0.22"));
	assert_int_equal(m[0], 0x22);
	assert_int_equal(ipt_get16(m + 6), 2);
	assert_int_equal(len, 8 + 2 * 8);
	assert_int_equal(m[8], 2);           /* MODE_IS_EXCLUDE */
	assert_int_equal(m[16], 2);
	assert_memory_equal(m + 12, &GROUP, 4);
	assert_memory_equal(m + 20, &GROUP2, 4);
	skb_free(skb);
	assert_null(ts_pop_tx(&T));

	/* Bad checksum: dropped, no answer. */
	{
		uint8_t q[8] = { 0x11, 10, 0, 1 };

		ipt_inject(&T, PEER, ts_ip("224.0.0.1"), 2, 1, 0, q, 8);
		assert_int_equal(ipt_drops(&T, US_DROP_IGMP_BAD_CSUM), 1);
	}

	inject_query(8, 20, 0);              /* version 2, 2 s */
	/* Another host answers for GROUP2 first: ours is not sent. */
	memcpy(rep + 4, &GROUP2, 4);
	inject_igmp(PEER, GROUP2, rep, 8);
	run_for(2000000);
	skb = pop_igmp(&dst, &m, &len);
	assert_int_equal(len, 8);
	assert_int_equal(m[0], 0x16);
	memcpy(&g, m + 4, 4);
	assert_int_equal(g, GROUP);
	assert_int_equal(dst, GROUP);
	skb_free(skb);
	assert_null(ts_pop_tx(&T));

	assert_int_equal(join(u, IP_DROP_MEMBERSHIP, GROUP, ME, 0), 0);
	skb = pop_igmp(&dst, &m, &len);
	assert_int_equal(m[0], 0x17);
	assert_int_equal(dst, ts_ip("224.0.0.2"));
	skb_free(skb);
	run_for(12000000);
	assert_null(ts_pop_tx(&T));          /* a leave is said once */

	/* A join in version 2: a report to the group at once and once more
	 * within the Unsolicited Report Interval (10 s, RFC 2236 §8.10). */
	assert_int_equal(join(u, IP_ADD_MEMBERSHIP, GROUP, ME, 0), 0);
	for (int i = 0; i < 2; i++) {
		if (i)
			run_for(10000000);
		skb = pop_igmp(&dst, &m, &len);
		assert_int_equal(m[0], 0x16);
		assert_int_equal(dst, GROUP);
		skb_free(skb);
		assert_null(ts_pop_tx(&T));
	}
	run_for(20000000);
	assert_null(ts_pop_tx(&T));
	assert_int_equal(join(u, IP_DROP_MEMBERSHIP, GROUP, ME, 0), 0);
	ts_flush_tx(&T);

	/* 260 s after the version 2 query, version 3 again. */
	run_for(250000000);
	ts_flush_tx(&T);
	assert_int_equal(join(u, IP_ADD_MEMBERSHIP, GROUP, ME, 0), 0);
	expect_v3(4, GROUP);
	assert_int_equal(us_close(u), 0);
}

/*
 * IP_MULTICAST_LOOP (on by default): a datagram sent to a group this host
 * joined on the outgoing device reaches our members too, as if received
 * on that device (Linux's dev_loopback_xmit): a member that takes only
 * its own groups (IP_MULTICAST_ALL off) gets it, IP_PKTINFO names that
 * device, and no loopback device is needed. Off, the wire only. With
 * IP_MULTICAST_TTL 0, our members only.
 */
static void test_multicast_loop(void **state)
{
	int r = udp_on(5000), s = udp_on(0), off = 0, on = 1;
	struct in_addr ifa = { .s_addr = ME };
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(5000),
				  .sin_addr.s_addr = GROUP };
	char buf[8], ctl[64];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;
	struct in_pktinfo pi;

	(void)state;
	assert_int_equal(us_setsockopt(r, IPPROTO_IP, IP_MULTICAST_ALL, &off,
				       sizeof(off)), 0);
	assert_int_equal(us_setsockopt(r, IPPROTO_IP, IP_PKTINFO, &on,
				       sizeof(on)), 0);
	assert_int_equal(us_setsockopt(s, IPPROTO_IP, IP_MULTICAST_IF, &ifa,
				       sizeof(ifa)), 0);
	/* Not joined: the wire only. */
	assert_int_equal(us_sendto(s, "hi", 2, 0, (struct sockaddr *)&to,
				   sizeof(to)), 2);
	assert_int_equal(ts_flush_tx(&T), 1);
	assert_false(got(r));

	assert_int_equal(join(r, IP_ADD_MEMBERSHIP, GROUP, ME, 0), 0);
	ts_flush_tx(&T);
	assert_int_equal(us_sendto(s, "hi", 2, 0, (struct sockaddr *)&to,
				   sizeof(to)), 2);
	assert_int_equal(ts_flush_tx(&T), 1);
	assert_int_equal(us_recvmsg(r, &m, 0), 2);
	c = CMSG_FIRSTHDR(&m);
	assert_non_null(c);
	assert_int_equal(c->cmsg_type, IP_PKTINFO);
	memcpy(&pi, CMSG_DATA(c), sizeof(pi));
	assert_int_equal(pi.ipi_ifindex, T.dev->ifindex);
	assert_int_equal(pi.ipi_addr.s_addr, GROUP);
	assert_false(got(r));

	assert_int_equal(us_setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &off,
				       sizeof(off)), 0);
	assert_int_equal(us_sendto(s, "hi", 2, 0, (struct sockaddr *)&to,
				   sizeof(to)), 2);
	assert_int_equal(ts_flush_tx(&T), 1);
	assert_false(got(r));

	assert_int_equal(us_setsockopt(s, IPPROTO_IP, IP_MULTICAST_LOOP, &on,
				       sizeof(on)), 0);
	assert_int_equal(us_setsockopt(s, IPPROTO_IP, IP_MULTICAST_TTL, &off,
				       sizeof(off)), 0);
	assert_int_equal(us_sendto(s, "hi", 2, 0, (struct sockaddr *)&to,
				   sizeof(to)), 2);
	assert_int_equal(ts_flush_tx(&T), 0);
	assert_true(got(r));
	assert_int_equal(us_close(r), 0);
	assert_int_equal(us_close(s), 0);
}

/*
 * What IGMP is taken: a query from {0, 0} (a snooping switch's, RFC 4541
 * §2.1.1; Linux's ip_route_input_mc) is answered; a query to a group not
 * joined is not ours (Linux's ip_check_mc_rcu) and changes nothing;
 * malformed queries are dropped: lengths 9 to 11, a version 3 query whose
 * sources run past its end, a general one with sources.
 */
static void test_query_acceptance(void **state)
{
	int u = udp_on(5000);
	uint64_t not_ours = ipt_drops(&T, US_DROP_IP_NOT_FOR_US);
	uint8_t q[16] = { 0x11, 10 };

	(void)state;
	assert_int_equal(join(u, IP_ADD_MEMBERSHIP, GROUP, ME, 0), 0);
	run_for(2000000);
	ts_flush_tx(&T);

	/* A version 2 query for a group we never joined, to that group. */
	memcpy(q + 4, &GROUP2, 4);
	inject_igmp(PEER, GROUP2, q, 8);
	assert_int_equal(ipt_drops(&T, US_DROP_IP_NOT_FOR_US), not_ours + 1);
	assert_int_equal(ipt_mib(&T, US_MIB_IGMP_IN_QUERIES), 0);

	for (size_t len = 9; len <= 11; len++) {
		memset(q + 2, 0, 14);
		inject_igmp(PEER, ts_ip("224.0.0.1"), q, len);
	}
	/* Version 3, general, one source: not a query. */
	memset(q + 2, 0, 14);
	q[11] = 1;
	inject_igmp(PEER, ts_ip("224.0.0.1"), q, 16);
	/* Version 3 for the group, two sources in room for one. */
	memset(q + 2, 0, 14);
	memcpy(q + 4, &GROUP, 4);
	q[11] = 2;
	inject_igmp(PEER, GROUP, q, 16);
	assert_int_equal(ipt_drops(&T, US_DROP_IGMP_TRUNCATED), 5);
	assert_int_equal(ipt_mib(&T, US_MIB_IGMP_IN_QUERIES), 0);
	run_for(2000000);
	assert_null(ts_pop_tx(&T));

	/* A version 3 general query from 0.0.0.0 is answered. */
	memset(q + 2, 0, 14);
	inject_igmp(0, ts_ip("224.0.0.1"), q, 12);
	assert_int_equal(ipt_mib(&T, US_MIB_IGMP_IN_QUERIES), 1);
	run_for(1000000);
	{
		uint32_t dst;
		uint8_t *m;
		size_t len;
		struct sk_buff *skb = pop_igmp(&dst, &m, &len);

		assert_int_equal(m[0], 0x22);
		assert_int_equal(m[8], 2);
		skb_free(skb);
	}
	assert_int_equal(us_close(u), 0);
}

/*
 * Older versions: a version 1 query (Max Resp Code 0) is answered with a
 * version 1 report and a leave says nothing; a version 2 query cancels a
 * version 3 answer still due (RFC 3376 §7.2.1) and the answer then comes
 * as version 2; a host that heard another's report for the group does not
 * send the Leave Group (Linux's igmp_group_dropped, the last reporter
 * only).
 */
static void test_older_versions(void **state)
{
	int u = udp_on(5000);
	uint32_t dst, g;
	uint8_t *m;
	size_t len;
	struct sk_buff *skb;
	uint8_t q[12] = { 0x11, 100 }, rep[8] = { 0x16 };

	(void)state;
	assert_int_equal(join(u, IP_ADD_MEMBERSHIP, GROUP, ME, 0), 0);
	run_for(2000000);
	ts_flush_tx(&T);

	/* Version 3 general query, 10 s to answer; a version 2 query at
	 * once after it, 1 s: one version 2 report, no version 3 one. */
	inject_igmp(PEER, ts_ip("224.0.0.1"), q, 12);
	memset(q, 0, sizeof(q));
	q[0] = 0x11;
	q[1] = 10;
	inject_igmp(PEER, ts_ip("224.0.0.1"), q, 8);
	run_for(11000000);
	skb = pop_igmp(&dst, &m, &len);
	assert_int_equal(m[0], 0x16);
	assert_int_equal(dst, GROUP);
	skb_free(skb);
	assert_null(ts_pop_tx(&T));

	/* Another host reports the group: our leave is not needed. */
	memcpy(rep + 4, &GROUP, 4);
	inject_igmp(PEER, GROUP, rep, 8);
	assert_int_equal(join(u, IP_DROP_MEMBERSHIP, GROUP, ME, 0), 0);
	assert_null(ts_pop_tx(&T));

	/* Version 1: a query answered with a version 1 report. */
	assert_int_equal(join(u, IP_ADD_MEMBERSHIP, GROUP2, ME, 0), 0);
	ts_flush_tx(&T);
	memset(q, 0, sizeof(q));
	q[0] = 0x11;
	inject_igmp(PEER, ts_ip("224.0.0.1"), q, 8);
	run_for(10000000);
	skb = pop_igmp(&dst, &m, &len);
	assert_int_equal(m[0], 0x12);
	memcpy(&g, m + 4, 4);
	assert_int_equal(g, GROUP2);
	skb_free(skb);
	assert_null(ts_pop_tx(&T));
	assert_int_equal(join(u, IP_DROP_MEMBERSHIP, GROUP2, ME, 0), 0);
	assert_null(ts_pop_tx(&T));          /* version 1 has no leave */
	assert_int_equal(us_close(u), 0);
}

/* ---- source filters ------------------------------------------------------ */

/* Let the reports of the changes so far go, their repeats too (within the
 * Unsolicited Report Interval, 1 s), and drop them. */
static void reports_pass(void)
{
	run_for(1100000);
	ts_flush_tx(&T);
}

/* A UDP datagram "hi" from src:7000 to dst:port. */
static void inject_udp_from(uint32_t src, uint32_t dst, uint16_t port)
{
	uint8_t u[10] = { 0x1b, 0x58, (uint8_t)(port >> 8), (uint8_t)port,
			  0, 10, 0, 0, 'h', 'i' };

	ipt_inject(&T, src, dst, IPPROTO_UDP, 1, 0, u, sizeof(u));
}

static int source_opt(int fd, int opt, uint32_t group, uint32_t source)
{
	struct ip_mreq_source m = { .imr_multiaddr.s_addr = group,
				    .imr_interface.s_addr = ME,
				    .imr_sourceaddr.s_addr = source };

	return us_setsockopt(fd, IPPROTO_IP, opt, &m, sizeof(m)) < 0 ? -errno
								     : 0;
}

/* The next frame is a version 3 report whose records are, in order,
 * nrec of (type, group, one source or none: src 0). */
static void expect_v3_records(size_t nrec, const uint8_t *types,
			      const uint32_t *srcs)
{
	uint32_t dst;
	uint8_t *m;
	size_t len, off = 8;
	struct sk_buff *skb = pop_igmp(&dst, &m, &len);

	assert_int_equal(dst, ts_ip("224.0.0.22"));
	assert_int_equal(m[0], 0x22);
	assert_int_equal(ipt_get16(m + 6), nrec);
	for (size_t i = 0; i < nrec; i++) {
		uint16_t n = ipt_get16(m + off + 2);

		assert_true(off + 8 <= len);
		assert_int_equal(m[off], types[i]);
		assert_memory_equal(m + off + 4, &GROUP, 4);
		assert_int_equal(n, srcs[i] ? 1 : 0);
		if (n)
			assert_memory_equal(m + off + 8, &srcs[i], 4);
		off += 8 + 4u * n;
	}
	assert_int_equal(off, len);
	skb_free(skb);
}

static void expect_record(uint8_t type, uint32_t src)
{
	expect_v3_records(1, &type, &src);
}

/*
 * Source filters (RFC 3678, RFC 3376 §3.2 and §5.1): a socket that joins
 * for PEER alone gets PEER's datagrams and no other's, and the device
 * says ALLOW(PEER); an any-source member that blocks PEER gets the
 * others' and not PEER's; the device's filter merges the two (EXCLUDE with
 * nothing blocked: TO_EX, and PEER stays heard while the first includes
 * it); when the first leaves, PEER is blocked at the device (TO_EX(PEER)
 * while the mode change is repeated) and its datagrams dropped before
 * UDP; a general query is answered with MODE_IS_EXCLUDE(PEER); the
 * repeats of the change say the filter as TO_EX(PEER).
 */
static void test_source_filters(void **state)
{
	uint32_t other = ts_ip("10.0.0.9");
	int ssm = udp_on(7000), asm_ = udp_on(7000), zero = 0;
	uint64_t drops;

	(void)state;
	/* Neither takes a group it has no membership for. */
	assert_int_equal(us_setsockopt(ssm, IPPROTO_IP, IP_MULTICAST_ALL, &zero,
				       sizeof(zero)), 0);
	assert_int_equal(us_setsockopt(asm_, IPPROTO_IP, IP_MULTICAST_ALL,
				       &zero, sizeof(zero)), 0);
	assert_int_equal(source_opt(ssm, IP_ADD_SOURCE_MEMBERSHIP, GROUP, PEER),
			 0);
	expect_record(5, PEER);                       /* ALLOW_NEW(PEER) */
	assert_null(ts_pop_tx(&T));
	inject_udp_from(PEER, GROUP, 7000);
	assert_true(got(ssm));
	inject_udp_from(other, GROUP, 7000);
	assert_false(got(ssm));

	assert_int_equal(join(asm_, IP_ADD_MEMBERSHIP, GROUP, ME, 0), 0);
	expect_record(4, 0);                          /* TO_EX() */
	assert_int_equal(source_opt(asm_, IP_BLOCK_SOURCE, GROUP, PEER), 0);
	assert_null(ts_pop_tx(&T));   /* PEER is still included by ssm */
	inject_udp_from(PEER, GROUP, 7000);
	assert_true(got(ssm));
	assert_false(got(asm_));
	inject_udp_from(other, GROUP, 7000);
	assert_false(got(ssm));
	assert_true(got(asm_));

	/* The last source dropped: ssm leaves; PEER is blocked by all. The
	 * join's mode change is still being repeated, so this change too
	 * says the whole filter (RFC 3376 §5.1). */
	assert_int_equal(source_opt(ssm, IP_DROP_SOURCE_MEMBERSHIP, GROUP,
				    PEER), 0);
	expect_record(4, PEER);                       /* TO_EX(PEER) */
	drops = T.st->stats.drops[US_DROP_IP_NOT_FOR_US];
	inject_udp_from(PEER, GROUP, 7000);
	assert_false(got(asm_));
	assert_int_equal(T.st->stats.drops[US_DROP_IP_NOT_FOR_US], drops + 1);
	inject_udp_from(other, GROUP, 7000);
	assert_true(got(asm_));

	/* Repeats within the Unsolicited Report Interval say the filter. */
	run_for(1100000);
	expect_record(4, PEER);                       /* TO_EX(PEER) */
	assert_null(ts_pop_tx(&T));
	inject_query(12, 10, 0);
	run_for(1100000);
	expect_record(2, PEER);                       /* MODE_IS_EXCLUDE */
	assert_int_equal(us_close(ssm), 0);
	assert_int_equal(us_close(asm_), 0);
	expect_record(3, 0);                          /* TO_IN(): left */
}

/* Walk the version 3 reports waiting on the device: each within the MTU,
 * each record of `type` for GROUP; returns how many reports, and adds the
 * sources of all (checked to be 10.1.x.y in order from *next). */
static int walk_reports(uint8_t type, uint32_t *next)
{
	struct sk_buff *skb;
	int reports = 0;

	while ((skb = ts_pop_tx(&T)) != NULL) {
		const uint8_t *m = skb->data + 24;
		size_t len = skb->len - 24, off = 8;

		assert_true(skb->len <= T.dev->mtu);
		assert_int_equal(m[0], 0x22);
		for (uint16_t r = 0; r < ipt_get16(m + 6); r++) {
			uint16_t n = ipt_get16(m + off + 2);

			assert_int_equal(m[off], type);
			assert_memory_equal(m + off + 4, &GROUP, 4);
			for (uint16_t i = 0; i < n; i++) {
				uint32_t a = htonl(*next);

				assert_memory_equal(m + off + 8 + 4u * i, &a, 4);
				(*next)++;
			}
			off += 8 + 4u * n;
		}
		assert_int_equal(off, len);
		skb_free(skb);
		reports++;
	}
	return reports;
}

/*
 * A record too large for one report (RFC 3376 §4.2.16): TO_IN and BLOCK
 * with 500 sources go on in as many reports as the MTU needs, every
 * source once, repeats too; TO_EX with 500 keeps what one report holds
 * and drops the rest.
 */
static void test_report_split(void **state)
{
	static char b[IP_MSFILTER_SIZE(500)];
	struct ip_msfilter *f = (struct ip_msfilter *)b;
	int fd = udp_on(7000), fd2 = udp_on(7000);
	uint32_t next = 0x0a010000u;

	(void)state;
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.igmp_max_msf",
					   "500"), 0);
	f->imsf_multiaddr.s_addr = GROUP;
	f->imsf_interface.s_addr = ME;
	f->imsf_fmode = MCAST_INCLUDE;
	f->imsf_numsrc = 500;
	for (uint32_t i = 0; i < 500; i++) {
		uint32_t a = htonl(0x0a010000u + i);

		memcpy(b + offsetof(struct ip_msfilter, imsf_slist) + 4 * i, &a,
		       4);
	}
	assert_int_equal(join(fd, IP_ADD_MEMBERSHIP, GROUP, ME, 0), 0);
	ts_flush_tx(&T);   /* the join's TO_EX() */
	/* EXCLUDE() to INCLUDE(500): TO_IN(500), over two reports, and so
	 * its repeat. */
	assert_int_equal(us_setsockopt(fd, IPPROTO_IP, IP_MSFILTER, b,
				       sizeof(b)), 0);
	assert_int_equal(walk_reports(3, &next), 2);
	assert_int_equal(next, 0x0a010000u + 500);
	next = 0x0a010000u;
	run_for(1100000);
	assert_int_equal(walk_reports(3, &next), 2);
	assert_int_equal(next, 0x0a010000u + 500);
	/* Left: INCLUDE(500) to INCLUDE(): BLOCK(500), as many. */
	next = 0x0a010000u;
	assert_int_equal(us_close(fd), 0);
	assert_int_equal(walk_reports(6, &next), 2);
	assert_int_equal(next, 0x0a010000u + 500);
	reports_pass();
	/* A join, then EXCLUDE(500) while the join's TO_EX() is repeated:
	 * TO_EX(500), cut to one report, and so its repeat. */
	assert_int_equal(join(fd2, IP_ADD_MEMBERSHIP, GROUP, ME, 0), 0);
	f->imsf_fmode = MCAST_EXCLUDE;
	ts_flush_tx(&T);
	assert_int_equal(us_setsockopt(fd2, IPPROTO_IP, IP_MSFILTER, b,
				       sizeof(b)), 0);
	next = 0x0a010000u;
	assert_int_equal(walk_reports(4, &next), 1);
	assert_true(next > 0x0a010000u + 300 && next < 0x0a010000u + 500);
	next = 0x0a010000u;
	run_for(1100000);
	assert_int_equal(walk_reports(4, &next), 1);
	assert_true(next > 0x0a010000u + 300 && next < 0x0a010000u + 500);
	assert_int_equal(us_close(fd2), 0);
}

/* A version 3 query for GROUP about the n sources at src (Max Resp 1 s). */
static void inject_source_query(const uint32_t *src, size_t n)
{
	uint8_t q[12 + 4 * 4] = { 0x11, 10 };

	memcpy(q + 4, &GROUP, 4);
	put16(q + 10, (uint16_t)n);
	memcpy(q + 12, src, 4 * n);
	inject_igmp(PEER, GROUP, q, 12 + 4 * n);
}

/*
 * Group-and-source-specific queries (RFC 3376 §5.2): the answer names the
 * asked sources the device hears, as MODE_IS_INCLUDE: in INCLUDE mode the
 * asked ones included, in EXCLUDE mode the asked ones not excluded; none,
 * no answer. Two pending ones merge their sources; a group query makes
 * the answer the group's whole state.
 */
static void test_group_source_query(void **state)
{
	uint32_t other = ts_ip("10.0.0.9"), both[2] = { PEER, other };
	int fd = udp_on(7000);

	(void)state;
	assert_int_equal(source_opt(fd, IP_ADD_SOURCE_MEMBERSHIP, GROUP, PEER),
			 0);
	reports_pass();
	inject_source_query(both, 2);
	run_for(1100000);
	expect_record(1, PEER);                       /* IS_IN(PEER) */
	assert_null(ts_pop_tx(&T));
	inject_source_query(&other, 1);
	run_for(1100000);
	assert_null(ts_pop_tx(&T));                   /* nothing heard */
	inject_source_query(&PEER, 1);
	inject_source_query(&other, 1);
	run_for(1100000);
	expect_record(1, PEER);                       /* merged */
	assert_null(ts_pop_tx(&T));
	assert_int_equal(us_close(fd), 0);
	reports_pass();

	/* EXCLUDE(PEER): the asked ones not blocked. */
	fd = udp_on(7000);
	assert_int_equal(join(fd, IP_ADD_MEMBERSHIP, GROUP, ME, 0), 0);
	assert_int_equal(source_opt(fd, IP_BLOCK_SOURCE, GROUP, PEER), 0);
	reports_pass();
	inject_source_query(both, 2);
	run_for(1100000);
	expect_record(1, other);                      /* IS_IN(other) */
	inject_source_query(&other, 1);
	inject_query(12, 10, GROUP);
	run_for(1100000);
	expect_record(2, PEER);                       /* IS_EX(PEER) */
	assert_null(ts_pop_tx(&T));
	assert_int_equal(us_close(fd), 0);
}

/*
 * The repeat of a change of sources in one mode says the sources changed
 * (RFC 3376 §5.1), merged over the changes pending: a source allowed and
 * then dropped before the repeat is told and repeated as blocked only; a
 * source added and another dropped are told and repeated together.
 */
static void test_source_change_repeats(void **state)
{
	uint32_t other = ts_ip("10.0.0.9");
	int fd = udp_on(7000);

	(void)state;
	assert_int_equal(source_opt(fd, IP_ADD_SOURCE_MEMBERSHIP, GROUP, PEER),
			 0);
	expect_record(5, PEER);                       /* ALLOW(PEER) */
	run_for(1100000);
	expect_record(5, PEER);                       /* its repeat */
	assert_null(ts_pop_tx(&T));
	assert_int_equal(source_opt(fd, IP_ADD_SOURCE_MEMBERSHIP, GROUP,
				    other), 0);
	expect_record(5, other);                      /* ALLOW(other) */
	assert_int_equal(source_opt(fd, IP_DROP_SOURCE_MEMBERSHIP, GROUP,
				    other), 0);
	expect_record(6, other);                      /* BLOCK(other) */
	run_for(1100000);
	expect_record(6, other);                      /* merged: BLOCK only */
	assert_null(ts_pop_tx(&T));
	/* Two changes before the repeat: the second report, and the
	 * repeat, say both. */
	assert_int_equal(source_opt(fd, IP_ADD_SOURCE_MEMBERSHIP, GROUP,
				    other), 0);
	expect_record(5, other);
	assert_int_equal(source_opt(fd, IP_DROP_SOURCE_MEMBERSHIP, GROUP,
				    PEER), 0);
	expect_v3_records(2, (const uint8_t[]){ 5, 6 },
			  (const uint32_t[]){ other, PEER });
	run_for(1100000);
	expect_v3_records(2, (const uint8_t[]){ 5, 6 },
			  (const uint32_t[]){ other, PEER });
	assert_null(ts_pop_tx(&T));
	assert_int_equal(us_close(fd), 0);
}

/* Pop every frame waiting: how many version 3 records of `type` for
 * GROUP name src first (0: have no source). */
static int count_records(uint8_t type, uint32_t src)
{
	struct sk_buff *skb;
	int n = 0;

	while ((skb = ts_pop_tx(&T)) != NULL) {
		const uint8_t *m = skb->data + 24;
		size_t off = 8;

		for (uint16_t r = 0; r < ipt_get16(m + 6); r++) {
			uint16_t ns = ipt_get16(m + off + 2);

			if (m[off] == type && !memcmp(m + off + 4, &GROUP, 4) &&
			    (ns ? !memcmp(m + off + 8, &src, 4) : !src))
				n++;
			off += 8 + 4u * ns;
		}
		skb_free(skb);
	}
	return n;
}

/*
 * An answer to a query is timed apart from the repeats of a change: a
 * repeat of ALLOW or BLOCK records does not say the sources that did not
 * change, so it does not stand for the answer (RFC 3376 §5.2).
 */
static void test_answers_beside_changes(void **state)
{
	uint32_t other = ts_ip("10.0.0.9");
	int fd = udp_on(7000);

	(void)state;
	assert_int_equal(source_opt(fd, IP_ADD_SOURCE_MEMBERSHIP, GROUP, PEER),
			 0);
	reports_pass();
	/* A change pending its repeat, then a query about PEER. */
	assert_int_equal(source_opt(fd, IP_ADD_SOURCE_MEMBERSHIP, GROUP,
				    other), 0);
	expect_record(5, other);
	inject_source_query(&PEER, 1);
	run_for(1100000);
	assert_int_equal(count_records(1, PEER), 1);   /* IS_IN(PEER) */
	assert_int_equal(us_close(fd), 0);
	reports_pass();

	/* A group query pending, then a block: the answer still goes. */
	fd = udp_on(7000);
	assert_int_equal(join(fd, IP_ADD_MEMBERSHIP, GROUP, ME, 0), 0);
	reports_pass();
	inject_query(12, 10, GROUP);
	assert_int_equal(source_opt(fd, IP_BLOCK_SOURCE, GROUP, PEER), 0);
	expect_record(6, PEER);                        /* BLOCK(PEER) */
	run_for(1100000);
	assert_int_equal(count_records(2, PEER), 1);   /* IS_EX(PEER) */
	assert_int_equal(us_close(fd), 0);
}

int main(void)
{
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, ts_teardown)
	const struct CMUnitTest tests[] = {
		T_(test_join_receive_leave),
		T_(test_membership_errors),
		T_(test_queries_and_versions),
		T_(test_multicast_loop),
		T_(test_query_acceptance),
		T_(test_older_versions),
		T_(test_source_filters),
		T_(test_report_split),
		T_(test_group_source_query),
		T_(test_source_change_repeats),
		T_(test_answers_beside_changes),
	};
#undef T_
	return cmocka_run_group_tests(tests, NULL, NULL);
}
