/*
 * igmp.c - IPv4 multicast groups and IGMP (see igmp.h).
 *
 * A device's groups are entries on st->ip.mc_groups, each counting the
 * memberships on it (Linux's ip_mc_list and its users). The first
 * membership makes the device join; the last one leaving makes it leave.
 * 224.0.0.1 (all hosts) every device hears without joining (RFC 1112
 * §6.4 has the host join it at start) and is never reported.
 *
 * IGMP, host side (RFC 3376 §5, RFC 2236 §3, RFC 1112 App. I):
 *   - A change (join, leave) is told at once and Robustness Variable (2)
 *     times in all, the repeats at random within the Unsolicited Report
 *     Interval (1 s for version 3, 10 s for 2 and 1). Version 3 says it
 *     with a CHANGE_TO_EXCLUDE_MODE record (join) or a
 *     CHANGE_TO_INCLUDE_MODE record (leave) for the group and no source,
 *     to 224.0.0.22. Version 2 sends a Membership Report to the group
 *     (and a single Leave Group to 224.0.0.2, if ours was the last report
 *     heard), version 1 a report only.
 *   - A query is answered after a random delay within its Max Resp Time
 *     with the current state: one version 3 report that lists every group
 *     (MODE_IS_EXCLUDE) for a general query, a record for the group for a
 *     group-specific one. In version 1 or 2 each group answers alone, and
 *     hearing another host's report for it cancels ours (RFC 2236 §3).
 *     Malformed queries (9 to 11 bytes, sources past the end, a general
 *     query with sources) are dropped, as Linux's igmp_heard_query.
 *   - The version: a version 1 query (8 bytes, Max Resp Code 0) or
 *     version 2 query (8 bytes) puts the device in that compatibility mode
 *     for the Older Version Querier Present Timeout (RFC 3376 §7.2.1:
 *     Robustness x Query Interval + Query Response Interval, 260 s), and
 *     cancels what version 3 had pending.
 * Every message goes with TTL 1, IP Router Alert (RFC 2113) and TOS 0xc0,
 * from the device's address, as Linux's igmp_send_report and
 * igmpv3_newpack.
 */
#include "net/igmp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/checksum.h"
#include "core/list.h"
#include "core/random.h"
#include "core/skbuff.h"
#include "dev/netdev.h"
#include "net/af_inet.h"
#include "net/ipv4.h"
#include "net/ipv4_priv.h"
#include "net/sock.h"
#include "stack/stack.h"

#define IGMP_QUERY     0x11
#define IGMP_V1_REPORT 0x12
#define IGMP_V2_REPORT 0x16
#define IGMP_V2_LEAVE  0x17
#define IGMP_V3_REPORT 0x22

/* RFC 3376 §4.2.12: group record types. */
#define IGMP_MODE_IS_EXCLUDE   2
#define IGMP_TO_INCLUDE        3
#define IGMP_TO_EXCLUDE        4

#define IGMP_ALL_HOSTS   0xe0000001u   /* host byte order */
#define IGMP_ALL_ROUTERS 0xe0000002u
#define IGMP_V3_ROUTERS  0xe0000016u

#define IGMP_HLEN        8
#define IGMP_V3_QLEN     12
#define IGMP_RECORD_LEN  8
#define IGMP_IP_HLEN     (IP_HLEN_MIN + 4)   /* with Router Alert */

#define IGMP_ROBUSTNESS  2                                /* §8.1 */
#define IGMP_QUERY_INTERVAL_US  (125 * US_USEC_PER_SEC)   /* §8.2 */
#define IGMP_QUERY_RESPONSE_US  (10 * US_USEC_PER_SEC)    /* §8.3 */
#define IGMP_V3_UNSOLICITED_US  (1 * US_USEC_PER_SEC)     /* §8.11 */
#define IGMP_V2_UNSOLICITED_US  (10 * US_USEC_PER_SEC)    /* 2236 §8.10 */
#define IGMP_OLDER_QUERIER_US \
	(IGMP_ROBUSTNESS * IGMP_QUERY_INTERVAL_US + IGMP_QUERY_RESPONSE_US)
/* RFC 1112 App. I: a version 1 query's response time is 10 s. */
#define IGMP_V1_RESPONSE_US     (10 * US_USEC_PER_SEC)

/* A group a device joined (Linux's ip_mc_list). */
struct ip_mc_group {
	struct list_head node;     /* on st->ip.mc_groups */
	struct net_device *dev;
	uint32_t group;            /* network byte order */
	int users;                 /* memberships; 0 while its leave is told */
	uint8_t changes_left;      /* state-change reports still to send */
	bool reporter;             /* ours was the last v1/v2 report heard */
	bool query_due;            /* an answer to a query is due ... */
	us_time_t report_at;       /* ... or the next change report, then */
};

static bool igmp_reported(uint32_t group)
{
	return group != htonl(IGMP_ALL_HOSTS);
}

static int igmp_version(const struct net_device *dev, us_time_t now)
{
	if (dev->igmp_v1_until > now)
		return 1;
	if (dev->igmp_v2_until > now)
		return 2;
	return 3;
}

static us_time_t igmp_random(struct ustack *st, us_time_t max)
{
	return max ? (us_time_t)us_rng_below(&st->rng, max) : 0;
}

static struct ip_mc_group *ip_mc_find(struct ustack *st,
				      const struct net_device *dev,
				      uint32_t group)
{
	struct list_head *pos;

	list_for_each(pos, &st->ip.mc_groups) {
		struct ip_mc_group *g = list_entry(pos, struct ip_mc_group,
						   node);

		if (g->dev == dev && g->group == group)
			return g;
	}
	return NULL;
}

/* ---- sending ------------------------------------------------------------- */

/* Send the IGMP message msg (its checksum is filled here) to dst out of
 * dev, with TTL 1, Router Alert and TOS 0xc0. */
static void igmp_xmit(struct ustack *st, struct net_device *dev, uint32_t dst,
		      uint8_t *msg, size_t len)
{
	struct ip_route rt;
	struct sk_buff *skb;
	uint8_t *p;

	if (ip_route_output_mc(st, dst, dev->ifindex, &rt) < 0)
		return;
	skb = us_skb_alloc(st, (unsigned int)(IGMP_IP_HLEN + len));
	if (!skb) {
		us_drop(st, NULL, US_DROP_NOMEM);
		return;
	}
	msg[2] = msg[3] = 0;
	ip_put16(msg + 2, inet_csum(msg, len));
	p = skb_put(skb, (unsigned int)(IGMP_IP_HLEN + len));
	memset(p, 0, IGMP_IP_HLEN);
	p[0] = 0x40 | (IGMP_IP_HLEN / 4);
	p[1] = 0xc0;
	ip_put16(p + 2, (uint16_t)(IGMP_IP_HLEN + len));
	ip_put16(p + 4, ip_select_id(st, rt.saddr, dst, IPPROTO_IGMP_, 1));
	ip_put16(p + 6, IP_DF);
	p[8] = 1;
	p[9] = IPPROTO_IGMP_;
	memcpy(p + 12, &rt.saddr, 4);
	memcpy(p + 16, &dst, 4);
	p[20] = 0x94;   /* Router Alert: copied, class 0, number 20 */
	p[21] = 4;      /* its length; the value 0 follows */
	ip_put16(p + 10, inet_csum(p, IGMP_IP_HLEN));
	memcpy(p + IGMP_IP_HLEN, msg, len);
	skb_reset_network_header(skb);
	us_mib_inc(st, US_MIB_IP_OUT_REQUESTS);
	us_mib_inc(st, US_MIB_IGMP_OUT_MSGS);
	(void)ip_finish_output(st, &rt, skb);
}

/* A version 1 or 2 message of `type` about group. */
static void igmp_send_v12(struct ustack *st, struct net_device *dev,
			  uint8_t type, uint32_t group)
{
	uint8_t msg[IGMP_HLEN] = { type };

	memcpy(msg + 4, &group, 4);
	igmp_xmit(st, dev,
		  type == IGMP_V2_LEAVE ? htonl(IGMP_ALL_ROUTERS) : group,
		  msg, sizeof(msg));
}

/* The most records a version 3 report of dev's MTU holds. */
static size_t igmp_v3_room(const struct net_device *dev)
{
	size_t mtu = dev->mtu < IP_MAXPACKET ? dev->mtu : IP_MAXPACKET;
	size_t head = IGMP_IP_HLEN + IGMP_HLEN;

	return mtu >= head + IGMP_RECORD_LEN ?
	       (mtu - head) / IGMP_RECORD_LEN : 1;
}

/* A version 3 report with `n` records of `type`, one per group. */
static void igmp_send_v3(struct ustack *st, struct net_device *dev,
			 uint8_t type, const uint32_t *groups, size_t n)
{
	size_t len = IGMP_HLEN + n * IGMP_RECORD_LEN;
	uint8_t *msg = calloc(1, len);

	if (!msg) {
		us_drop(st, NULL, US_DROP_NOMEM);
		return;
	}
	msg[0] = IGMP_V3_REPORT;
	ip_put16(msg + 6, (uint16_t)n);
	for (size_t i = 0; i < n; i++) {
		uint8_t *r = msg + IGMP_HLEN + i * IGMP_RECORD_LEN;

		r[0] = type;   /* aux data length and sources: 0 */
		memcpy(r + 4, &groups[i], 4);
	}
	igmp_xmit(st, dev, htonl(IGMP_V3_ROUTERS), msg, len);
	free(msg);
}

/*
 * g's state in dev's mode: a change (joined when it has users, else left)
 * or, answering a query, what it is now (it has users then). Versions 1
 * and 2 say both alike, a report; a version 2 leave is a Leave Group,
 * only from the last host to report (RFC 2236 §3 allows it from any;
 * Linux's igmp_group_dropped), a version 1 leave nothing.
 */
static void igmp_send_state(struct ustack *st, struct ip_mc_group *g,
			    bool change)
{
	int version = igmp_version(g->dev, st->now);

	if (version == 3) {
		igmp_send_v3(st, g->dev,
			     !change ? IGMP_MODE_IS_EXCLUDE
			     : g->users ? IGMP_TO_EXCLUDE : IGMP_TO_INCLUDE,
			     &g->group, 1);
	} else if (g->users) {
		igmp_send_v12(st, g->dev, version == 1 ? IGMP_V1_REPORT
						       : IGMP_V2_REPORT,
			      g->group);
		g->reporter = true;
	} else if (version == 2 && g->reporter) {
		igmp_send_v12(st, g->dev, IGMP_V2_LEAVE, g->group);
	}
}

/* Version 3's answer to a general query: every group of dev joined, in
 * as many reports as its MTU needs. */
static void igmp_send_all(struct ustack *st, struct net_device *dev)
{
	size_t room = igmp_v3_room(dev), n = 0;
	uint32_t *groups = malloc(room * sizeof(*groups));
	struct list_head *pos;

	if (!groups) {
		us_drop(st, NULL, US_DROP_NOMEM);
		return;
	}
	list_for_each(pos, &st->ip.mc_groups) {
		struct ip_mc_group *g = list_entry(pos, struct ip_mc_group,
						   node);

		if (g->dev != dev || !g->users || !igmp_reported(g->group))
			continue;
		groups[n++] = g->group;
		if (n == room) {
			igmp_send_v3(st, dev, IGMP_MODE_IS_EXCLUDE, groups, n);
			n = 0;
		}
	}
	if (n)
		igmp_send_v3(st, dev, IGMP_MODE_IS_EXCLUDE, groups, n);
	free(groups);
}

/* ---- the timer ----------------------------------------------------------- */

static bool igmp_group_pending(const struct ip_mc_group *g)
{
	return g->changes_left || g->query_due;
}

/* Arm the timer for the earliest report due, or stop it. */
static void igmp_arm(struct ustack *st)
{
	us_time_t next = US_TIME_NEVER;
	struct list_head *pos;

	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device,
						    list);

		if (dev->igmp_query_due && dev->igmp_query_at < next)
			next = dev->igmp_query_at;
	}
	list_for_each(pos, &st->ip.mc_groups) {
		struct ip_mc_group *g = list_entry(pos, struct ip_mc_group,
						   node);

		if (igmp_group_pending(g) && g->report_at < next)
			next = g->report_at;
	}
	if (next == US_TIME_NEVER)
		us_timer_del(&st->timers, &st->ip.igmp_timer);
	else
		(void)us_timer_mod(&st->timers, &st->ip.igmp_timer, next);
}

static us_time_t igmp_unsolicited(const struct net_device *dev,
				  us_time_t now)
{
	return igmp_version(dev, now) == 3 ? IGMP_V3_UNSOLICITED_US
					   : IGMP_V2_UNSOLICITED_US;
}

static void igmp_group_free(struct ip_mc_group *g)
{
	list_del(&g->node);
	free(g);
}

static void igmp_timer_fire(struct us_timer *t, us_time_t now)
{
	struct ustack *st = container_of(t, struct ustack, ip.igmp_timer);
	struct list_head *pos, *tmp;

	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device,
						    list);

		if (!dev->igmp_query_due || dev->igmp_query_at > now)
			continue;
		dev->igmp_query_due = false;
		igmp_send_all(st, dev);
	}
	list_for_each_safe(pos, tmp, &st->ip.mc_groups) {
		struct ip_mc_group *g = list_entry(pos, struct ip_mc_group,
						   node);

		if (!igmp_group_pending(g) || g->report_at > now)
			continue;
		if (g->changes_left) {
			/* A change report says the current state too. */
			igmp_send_state(st, g, true);
			g->query_due = false;
			if (--g->changes_left)
				g->report_at = now + igmp_random(
					st, igmp_unsolicited(g->dev, now));
		} else {
			igmp_send_state(st, g, false);
			g->query_due = false;
		}
		if (!g->users && !g->changes_left)
			igmp_group_free(g);
	}
	igmp_arm(st);
}

/* Tell a change of g now and Robustness - 1 more times later. */
static void igmp_change(struct ustack *st, struct ip_mc_group *g)
{
	g->query_due = false;
	g->changes_left = 0;
	if (!igmp_reported(g->group))
		return;
	igmp_send_state(st, g, true);
	/* Version 2 says a leave once (RFC 2236 §3); version 1 not at all. */
	if (!g->users && igmp_version(g->dev, st->now) != 3)
		return;
	g->changes_left = IGMP_ROBUSTNESS - 1;
	g->report_at = st->now +
		       igmp_random(st, igmp_unsolicited(g->dev, st->now));
}

/* One more membership of group on dev (Linux's ip_mc_inc_group). */
static int ip_mc_inc_group(struct ustack *st, struct net_device *dev,
			   uint32_t group)
{
	struct ip_mc_group *g = ip_mc_find(st, dev, group);

	if (g && g->users++)
		return 0;
	if (!g) {
		g = calloc(1, sizeof(*g));
		if (!g)
			return -ENOMEM;
		g->dev = dev;
		g->group = group;
		g->users = 1;
		list_add_tail(&g->node, &st->ip.mc_groups);
	}
	igmp_change(st, g);
	igmp_arm(st);
	return 0;
}

/* One membership fewer (Linux's ip_mc_dec_group). */
static void ip_mc_dec_group(struct ustack *st, struct net_device *dev,
			    uint32_t group)
{
	struct ip_mc_group *g = ip_mc_find(st, dev, group);

	if (!g || !g->users || --g->users)
		return;
	igmp_change(st, g);
	if (!g->changes_left)
		igmp_group_free(g);
	igmp_arm(st);
}

/* ---- receiving ----------------------------------------------------------- */

/* RFC 3376 §4.1.1: the Max Resp Time a code stands for, in µs. */
static us_time_t igmp_v3_max_resp(uint8_t code)
{
	uint32_t tenths = code;

	if (code >= 128)
		tenths = (uint32_t)((code & 0x0f) | 0x10) << (((code >> 4) & 7) + 3);
	return (us_time_t)tenths * 100000;
}

/* Answer g at random within max_resp, unless a report is due within
 * max_resp already (RFC 2236 §3, Linux's igmp_mod_timer). */
static void igmp_schedule(struct ustack *st, struct ip_mc_group *g,
			  us_time_t max_resp)
{
	if (!g->users || !igmp_reported(g->group))
		return;
	if (igmp_group_pending(g) && g->report_at < st->now + max_resp)
		return;
	g->query_due = true;
	g->report_at = st->now + igmp_random(st, max_resp);
}

/*
 * An older querier: RFC 3376 §7.2.1 has the host cancel its pending
 * answers and retransmissions as it changes mode (Linux's
 * igmp_heard_query: mr_ifc_count, igmpv3_clear_delrec). Leaves still to
 * be told go.
 */
static void igmp_older_querier(struct ustack *st, struct net_device *dev)
{
	struct list_head *pos, *tmp;

	dev->igmp_query_due = false;
	list_for_each_safe(pos, tmp, &st->ip.mc_groups) {
		struct ip_mc_group *g = list_entry(pos, struct ip_mc_group,
						   node);

		if (g->dev != dev)
			continue;
		g->changes_left = 0;
		g->query_due = false;
		if (!g->users)
			igmp_group_free(g);
	}
}

static void igmp_query(struct ustack *st, struct net_device *dev,
		       const uint8_t *m, size_t len)
{
	uint32_t group;
	us_time_t max_resp;
	struct list_head *pos;
	int version;

	memcpy(&group, m + 4, 4);
	/* RFC 3376 §7.1: the version by length and Max Resp Code. */
	if (len == IGMP_HLEN) {
		if (m[1] == 0) {
			dev->igmp_v1_until = st->now + IGMP_OLDER_QUERIER_US;
			max_resp = IGMP_V1_RESPONSE_US;
			group = 0;   /* version 1 has general queries only */
		} else {
			dev->igmp_v2_until = st->now + IGMP_OLDER_QUERIER_US;
			max_resp = (us_time_t)m[1] * 100000;
		}
		igmp_older_querier(st, dev);
	} else if (len >= IGMP_V3_QLEN) {
		uint16_t nsrcs = ip_get16(m + 10);

		/* Sources past the end, or given with a general query: not
		 * a query (Linux's igmp_heard_query ignores both). */
		if (len < IGMP_V3_QLEN + 4u * nsrcs || (!group && nsrcs)) {
			us_drop(st, NULL, US_DROP_IGMP_TRUNCATED);
			return;
		}
		max_resp = igmp_v3_max_resp(m[1]);
		/* In an older mode, a version 3 query is taken as that
		 * version's: general with 10 s under version 1. */
		if (igmp_version(dev, st->now) == 1) {
			max_resp = IGMP_V1_RESPONSE_US;
			group = 0;
		}
	} else {
		us_drop(st, NULL, US_DROP_IGMP_TRUNCATED);
		return;
	}
	us_mib_inc(st, US_MIB_IGMP_IN_QUERIES);
	version = igmp_version(dev, st->now);
	if (!group && version == 3) {
		us_time_t at = st->now + igmp_random(st, max_resp);

		if (!dev->igmp_query_due || at < dev->igmp_query_at) {
			dev->igmp_query_due = true;
			dev->igmp_query_at = at;
		}
		igmp_arm(st);
		return;
	}
	list_for_each(pos, &st->ip.mc_groups) {
		struct ip_mc_group *g = list_entry(pos, struct ip_mc_group,
						   node);

		if (g->dev == dev && (!group || g->group == group))
			igmp_schedule(st, g, max_resp);
	}
	igmp_arm(st);
}

void igmp_rcv(struct sk_buff *skb)
{
	struct ustack *st = skb->dev->st;
	struct ip_mc_group *g;
	uint32_t group;
	uint8_t *m;

	us_mib_inc(st, US_MIB_IGMP_IN_MSGS);
	if (skb->len < IGMP_HLEN || !skb_may_pull(skb, skb->len)) {
		us_drop(st, skb, US_DROP_IGMP_TRUNCATED);
		return;
	}
	m = skb->data;
	if (inet_csum(m, skb->len) != 0) {
		us_drop(st, skb, US_DROP_IGMP_BAD_CSUM);
		return;
	}
	switch (m[0]) {
	case IGMP_QUERY:
		igmp_query(st, skb->dev, m, skb->len);
		break;
	case IGMP_V1_REPORT:
	case IGMP_V2_REPORT:
		/* Another member answered for the group: in version 1 and
		 * 2 ours is not needed (RFC 2236 §3). */
		memcpy(&group, m + 4, 4);
		g = ip_mc_find(st, skb->dev, group);
		if (g && g->users && igmp_version(skb->dev, st->now) != 3) {
			/* Linux's igmp_heard_report: our timer stops, and
			 * the leave is theirs to say. */
			g->query_due = false;
			g->changes_left = 0;
			g->reporter = false;
			igmp_arm(st);
		}
		break;
	case IGMP_V2_LEAVE:
	case IGMP_V3_REPORT:
		break;   /* for routers */
	default:
		us_drop(st, skb, US_DROP_IGMP_UNKNOWN_TYPE);
		return;
	}
	skb_free(skb);
}

bool ip_mc_dev_joined(struct ustack *st, const struct net_device *dev,
		      uint32_t group)
{
	const struct ip_mc_group *g = ip_mc_find(st, dev, group);

	return group == htonl(IGMP_ALL_HOSTS) || (g && g->users > 0);
}

/* ---- sockets --------------------------------------------------------------- */

/* The device a request names (Linux's ip_mc_find_dev): by index, by
 * address, or the route to the group; imr_ifindex is set to it. */
static struct net_device *ip_mc_find_dev(struct ustack *st,
					 struct ip_mreqn *imr)
{
	struct net_device *dev = NULL;
	struct ip_route rt;

	if (imr->imr_ifindex)
		return us_dev_get_by_index(st, imr->imr_ifindex);
	if (imr->imr_address.s_addr) {
		dev = ip_dev_find(st, imr->imr_address.s_addr);
		if (!dev)
			return NULL;
	}
	if (!dev && ip_route_output(st, imr->imr_multiaddr.s_addr, &rt) == 0)
		dev = rt.dev;
	if (dev)
		imr->imr_ifindex = dev->ifindex;
	return dev;
}

int ip_mc_join_group(struct sock *sk, struct ip_mreqn *imr)
{
	struct inet_dgram_sock *isk = inet_dgram_sk(sk);
	uint32_t group = imr->imr_multiaddr.s_addr;
	struct ip_mc_socklist *iml;
	struct net_device *dev;
	int count = 0;

	if (!ipv4_is_multicast(group))
		return -EINVAL;
	dev = ip_mc_find_dev(sk->st, imr);
	if (!dev)
		return -ENODEV;
	for (iml = isk->mc_list; iml; iml = iml->next) {
		if (iml->group == group && iml->ifindex == imr->imr_ifindex)
			return -EADDRINUSE;
		count++;
	}
	if (count >= sk->st->sysctl.igmp_max_memberships)
		return -ENOBUFS;
	iml = calloc(1, sizeof(*iml));
	if (!iml)
		return -ENOBUFS;   /* Linux's sock_kmalloc failing */
	if (ip_mc_inc_group(sk->st, dev, group) < 0) {
		free(iml);
		return -ENOBUFS;
	}
	iml->group = group;
	iml->address = imr->imr_address.s_addr;
	iml->ifindex = imr->imr_ifindex;
	iml->next = isk->mc_list;
	isk->mc_list = iml;
	return 0;
}

int ip_mc_leave_group(struct sock *sk, struct ip_mreqn *imr)
{
	struct inet_dgram_sock *isk = inet_dgram_sk(sk);
	uint32_t group = imr->imr_multiaddr.s_addr;
	struct ip_mc_socklist **pp, *iml;
	struct net_device *dev = ip_mc_find_dev(sk->st, imr);

	if (!imr->imr_ifindex && !imr->imr_address.s_addr && !dev)
		return -ENODEV;
	for (pp = &isk->mc_list; (iml = *pp) != NULL; pp = &iml->next) {
		if (iml->group != group)
			continue;
		if (imr->imr_ifindex) {
			if (iml->ifindex != imr->imr_ifindex)
				continue;
		} else if (imr->imr_address.s_addr &&
			   imr->imr_address.s_addr != iml->address) {
			continue;
		}
		*pp = iml->next;
		if (dev)
			ip_mc_dec_group(sk->st, dev, group);
		free(iml);
		return 0;
	}
	return -EADDRNOTAVAIL;
}

void ip_mc_drop_socket(struct sock *sk)
{
	struct inet_dgram_sock *isk = inet_dgram_sk(sk);
	struct ip_mc_socklist *iml;

	while ((iml = isk->mc_list) != NULL) {
		struct net_device *dev = us_dev_get_by_index(sk->st,
							     iml->ifindex);

		isk->mc_list = iml->next;
		if (dev)
			ip_mc_dec_group(sk->st, dev, iml->group);
		free(iml);
	}
}

bool ip_mc_sf_allow(const struct sock *sk, uint32_t group, int ifindex)
{
	const struct ip_mc_socklist *iml;

	if (!ipv4_is_multicast(group))
		return true;
	for (iml = ((const struct inet_dgram_sock *)sk)->mc_list; iml;
	     iml = iml->next) {
		if (iml->group == group && iml->ifindex == ifindex)
			return true;
	}
	return sk->mc_all;
}

/* ---- set-up ------------------------------------------------------------------ */

static const struct net_protocol igmp_protocol = {
	.handler = igmp_rcv,
};

void igmp_init(struct ustack *st)
{
	list_init(&st->ip.mc_groups);
	us_timer_init(&st->ip.igmp_timer, igmp_timer_fire);
	st->ip.protos[IPPROTO_IGMP_] = &igmp_protocol;
}

void ip_mc_dev_down(struct ustack *st, struct net_device *dev)
{
	struct list_head *pos, *tmp;

	list_for_each_safe(pos, tmp, &st->ip.mc_groups) {
		struct ip_mc_group *g = list_entry(pos, struct ip_mc_group,
						   node);

		if (g->dev == dev)
			igmp_group_free(g);
	}
	dev->igmp_query_due = false;
	igmp_arm(st);
}

void igmp_destroy(struct ustack *st)
{
	struct list_head *pos, *tmp;

	us_timer_del(&st->timers, &st->ip.igmp_timer);
	list_for_each_safe(pos, tmp, &st->ip.mc_groups)
		igmp_group_free(list_entry(pos, struct ip_mc_group, node));
}
