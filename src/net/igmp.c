/*
 * igmp.c - IPv4 multicast groups and IGMP (see igmp.h).
 *
 * A device's groups are entries on st->ip.mc_groups, each counting the
 * memberships on it (Linux's ip_mc_list and its users). The first
 * membership makes the device join; the last one leaving makes it leave.
 * 224.0.0.1 (all hosts) every device hears without joining (RFC 1112
 * §6.4 has the host join it at start) and is never reported.
 *
 * Source filters (RFC 3678, Linux's ip_mc_source and ip_mc_msfilter): a
 * membership has a mode and sources; the group of the device counts, per
 * mode, the memberships and how many name each source (Linux's sfcount
 * and sf_count), from which its filter follows (ip_mc_filter, RFC 3376
 * §3.2), and which datagrams the device hears (ip_mc_dev_joined).
 *
 * IGMP, host side (RFC 3376 §5, RFC 2236 §3, RFC 1112 App. I):
 *   - A change of a group's filter (a join, a leave, a source) is told at
 *     once and Robustness Variable (2) times in all, the repeats at random
 *     within the Unsolicited Report Interval (1 s for version 3, 10 s for
 *     2 and 1). Version 3 says a change of mode with a
 *     CHANGE_TO_EXCLUDE_MODE record (a join: no source) or a
 *     CHANGE_TO_INCLUDE_MODE record (a leave: none) with the new sources,
 *     and new and gone sources in the same mode with ALLOW_NEW_SOURCES and
 *     BLOCK_OLD_SOURCES records, to 224.0.0.22; a change while repeats
 *     are pending is merged with them, and the repeats say the sources
 *     changed, or the filter as a mode change record while a mode change
 *     is among them. Version 2 sends a Membership Report
 *     to the group (and a single Leave Group to 224.0.0.2, if ours was the
 *     last report heard), version 1 a report only; both only for joins
 *     and leaves.
 *   - A query is answered after a random delay within its Max Resp Time
 *     with the current state: one version 3 report that lists every group
 *     (MODE_IS_EXCLUDE or MODE_IS_INCLUDE, with the sources) for a
 *     general query, a record for the group for a group-specific one;
 *     for a group-and-source-specific one MODE_IS_INCLUDE with the asked
 *     sources the device hears (none: no answer), merged with a pending
 *     one of its kind, the whole record if a group query comes too;
 *     answers are timed apart from change reports, and a change report
 *     stands for one only when it says the whole filter. In version 1 or
 *     2 each group answers alone, and
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
#define IGMP_MODE_IS_INCLUDE   1
#define IGMP_MODE_IS_EXCLUDE   2
#define IGMP_TO_INCLUDE        3
#define IGMP_TO_EXCLUDE        4
#define IGMP_ALLOW_NEW         5
#define IGMP_BLOCK_OLD         6

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

/* A source some membership of a group names, and how many do in each
 * mode (Linux's ip_sf_list, sf_count[]). */
struct ip_mc_src {
	uint32_t addr;
	unsigned int count[2];     /* [MCAST_EXCLUDE], [MCAST_INCLUDE] */
};

/* A group a device joined (Linux's ip_mc_list). */
struct ip_mc_group {
	struct list_head node;     /* on st->ip.mc_groups */
	struct net_device *dev;
	uint32_t group;            /* network byte order */
	int users;                 /* memberships; 0 while its leave is told */
	unsigned int sfcount[2];   /* memberships in each mode */
	struct ip_mc_src *srcs;
	unsigned int nsrcs;
	uint8_t rmode;             /* the filter last told: its mode ... */
	unsigned int nrsrc;        /* ... and sources */
	uint32_t *rsrc;
	uint8_t changes_left;      /* state-change reports still to send: */
	bool chg_mode;             /* a mode change record (the filter), or */
	uint32_t *chg_src;         /* the sources allowed, then blocked */
	unsigned int nallow, nblock;
	bool reporter;             /* ours was the last v1/v2 report heard */
	bool query_due;            /* an answer to a query is due at
				      query_at ... */
	bool query_srcs;           /* ... for these sources only (a
				      group-and-source query) */
	uint32_t *qsrc;
	unsigned int nqsrc;
	us_time_t query_at;
	us_time_t report_at;       /* the next change report (changes_left) */
};

/* One group record of a version 3 report (RFC 3376 §4.2.4). */
struct igmp_record {
	uint8_t type;
	uint32_t group;
	const uint32_t *src;
	unsigned int nsrc;
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

/* Bytes of records a version 3 report out of dev may carry. */
static size_t igmp_v3_room(const struct net_device *dev)
{
	size_t mtu = dev->mtu < IP_MAXPACKET ? dev->mtu : IP_MAXPACKET;
	size_t head = IGMP_IP_HLEN + IGMP_HLEN;

	return mtu > head ? mtu - head : 0;
}

/*
 * The n records in as many version 3 reports as dev's MTU needs (RFC 3376
 * §4.2.16, Linux's add_grec): a record whose sources do not fit goes on
 * in the next report with the rest of them, except a MODE_IS_EXCLUDE or
 * CHANGE_TO_EXCLUDE_MODE record, which keeps as many as fit and drops the
 * rest.
 */
static void igmp_send_v3(struct ustack *st, struct net_device *dev,
			 const struct igmp_record *rec, size_t n)
{
	size_t room = igmp_v3_room(dev), len = IGMP_HLEN, k = 0, i = 0;
	unsigned int done = 0;   /* sources of rec[i] already sent */
	uint8_t *msg;

	if (room < IGMP_RECORD_LEN + 4)
		room = IGMP_RECORD_LEN + 4;
	msg = calloc(1, IGMP_HLEN + room);
	if (!msg) {
		us_drop(st, NULL, US_DROP_NOMEM);
		return;
	}
	while (i < n) {
		const struct igmp_record *r = &rec[i];
		size_t fit = (IGMP_HLEN + room - len < IGMP_RECORD_LEN) ? 0 :
			     (IGMP_HLEN + room - len - IGMP_RECORD_LEN) / 4;
		unsigned int left = r->nsrc - done, take;
		uint8_t *p = msg + len;

		/* Not even the record's header (and a source, if it has
		 * any) fits, or an EXCLUDE record would be cut where a
		 * report of its own holds more: this report goes, the record
		 * starts the next. */
		if (len + IGMP_RECORD_LEN > IGMP_HLEN + room ||
		    (left && !fit) ||
		    (k && left > fit && (r->type == IGMP_MODE_IS_EXCLUDE ||
					 r->type == IGMP_TO_EXCLUDE))) {
			msg[0] = IGMP_V3_REPORT;
			ip_put16(msg + 6, (uint16_t)k);
			igmp_xmit(st, dev, htonl(IGMP_V3_ROUTERS), msg, len);
			memset(msg, 0, IGMP_HLEN + room);
			len = IGMP_HLEN;
			k = 0;
			continue;
		}
		take = left < fit ? left : (unsigned int)fit;
		p[0] = r->type;   /* aux data length: 0 */
		ip_put16(p + 2, (uint16_t)take);
		memcpy(p + 4, &r->group, 4);
		if (take)
			memcpy(p + 8, r->src + done, 4u * take);
		len += IGMP_RECORD_LEN + 4u * take;
		k++;
		done += take;
		if (done == r->nsrc || r->type == IGMP_MODE_IS_EXCLUDE ||
		    r->type == IGMP_TO_EXCLUDE) {
			i++;
			done = 0;
		}
	}
	if (k) {
		msg[0] = IGMP_V3_REPORT;
		ip_put16(msg + 6, (uint16_t)k);
		igmp_xmit(st, dev, htonl(IGMP_V3_ROUTERS), msg, len);
	}
	free(msg);
}

/* Whether the filter last told has the device hear the group: EXCLUDE
 * mode, or INCLUDE with a source (RFC 3376 §3.2). */
static bool igmp_joined(const struct ip_mc_group *g)
{
	return g->rmode == MCAST_EXCLUDE || g->nrsrc > 0;
}

/* g's record of its filter: a change to it, or what it is (a query's
 * answer). */
static struct igmp_record igmp_state_record(const struct ip_mc_group *g,
					    bool change)
{
	struct igmp_record r = { 0, g->group, g->rsrc, g->nrsrc };

	if (g->rmode == MCAST_EXCLUDE)
		r.type = change ? IGMP_TO_EXCLUDE : IGMP_MODE_IS_EXCLUDE;
	else
		r.type = change ? IGMP_TO_INCLUDE : IGMP_MODE_IS_INCLUDE;
	return r;
}

/*
 * g's state in dev's mode: a change (its filter now) or, answering a
 * query, what it is now (joined then). Versions 1 and 2 say both alike, a
 * report; a version 2 leave is a Leave Group, only from the last host to
 * report (RFC 2236 §3 allows it from any; Linux's igmp_group_dropped), a
 * version 1 leave nothing.
 */
static void igmp_send_state(struct ustack *st, struct ip_mc_group *g,
			    bool change)
{
	int version = igmp_version(g->dev, st->now);

	if (version == 3) {
		struct igmp_record r = igmp_state_record(g, change);

		igmp_send_v3(st, g->dev, &r, 1);
	} else if (igmp_joined(g)) {
		igmp_send_v12(st, g->dev, version == 1 ? IGMP_V1_REPORT
						       : IGMP_V2_REPORT,
			      g->group);
		g->reporter = true;
	} else if (version == 2 && g->reporter) {
		igmp_send_v12(st, g->dev, IGMP_V2_LEAVE, g->group);
	}
}

/* Version 3's answer to a general query: every group dev hears, with its
 * filter, in as many reports as its MTU needs. */
static void igmp_send_all(struct ustack *st, struct net_device *dev)
{
	struct igmp_record *rec;
	struct list_head *pos;
	size_t n = 0, max = 0;

	list_for_each(pos, &st->ip.mc_groups)
		max++;
	rec = malloc((max ? max : 1) * sizeof(*rec));
	if (!rec) {
		us_drop(st, NULL, US_DROP_NOMEM);
		return;
	}
	list_for_each(pos, &st->ip.mc_groups) {
		struct ip_mc_group *g = list_entry(pos, struct ip_mc_group,
						   node);

		if (g->dev == dev && igmp_joined(g) && igmp_reported(g->group))
			rec[n++] = igmp_state_record(g, false);
	}
	igmp_send_v3(st, dev, rec, n);
	free(rec);
}

static unsigned int ip_mc_minus(const uint32_t *a, unsigned int na,
				const uint32_t *b, unsigned int nb,
				uint32_t *out);

/* The members of a that are in b (the first nb of b), into out. */
static unsigned int igmp_intersect(const uint32_t *a, unsigned int na,
				   const uint32_t *b, unsigned int nb,
				   uint32_t *out)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < na; i++)
		for (unsigned int j = 0; j < nb; j++)
			if (a[i] == b[j]) {
				out[n++] = a[i];
				break;
			}
	return n;
}

/*
 * The answer to a group-and-source-specific query (RFC 3376 §5.2): of the
 * sources asked about, those the device hears, as MODE_IS_INCLUDE: in
 * INCLUDE mode the asked ones it includes, in EXCLUDE mode the asked ones
 * it does not exclude. None: no answer.
 */
static void igmp_send_sources(struct ustack *st, struct ip_mc_group *g)
{
	uint32_t *heard = malloc((g->nqsrc ? g->nqsrc : 1) * sizeof(*heard));
	struct igmp_record r = { IGMP_MODE_IS_INCLUDE, g->group, heard, 0 };

	if (!heard) {
		us_drop(st, NULL, US_DROP_NOMEM);
		return;
	}
	if (g->rmode == MCAST_INCLUDE)
		r.nsrc = igmp_intersect(g->qsrc, g->nqsrc, g->rsrc, g->nrsrc,
					heard);
	else
		r.nsrc = ip_mc_minus(g->qsrc, g->nqsrc, g->rsrc, g->nrsrc,
				     heard);
	if (r.nsrc)
		igmp_send_v3(st, g->dev, &r, 1);
	free(heard);
	g->query_srcs = false;
	g->nqsrc = 0;
}

/* Whether g's pending change is told with the whole filter: a mode
 * change record in version 3, a report in versions 1 and 2. */
static bool igmp_change_whole(struct ustack *st, const struct ip_mc_group *g)
{
	return g->chg_mode || igmp_version(g->dev, st->now) != 3;
}

/*
 * g's pending change, at once or repeated (RFC 3376 §5.1): the filter as
 * a mode change record while a mode change is among what is pending, else
 * ALLOW and BLOCK records with the sources changed (merged over the
 * changes since the first of them); versions 1 and 2 a report.
 */
static void igmp_send_change(struct ustack *st, struct ip_mc_group *g)
{
	struct igmp_record rec[2];
	size_t n = 0;

	if (g->chg_mode || igmp_version(g->dev, st->now) != 3) {
		igmp_send_state(st, g, true);
		return;
	}
	if (g->nallow)
		rec[n++] = (struct igmp_record){ IGMP_ALLOW_NEW, g->group,
						 g->chg_src, g->nallow };
	if (g->nblock)
		rec[n++] = (struct igmp_record){ IGMP_BLOCK_OLD, g->group,
						 g->chg_src + g->nallow,
						 g->nblock };
	if (n)
		igmp_send_v3(st, g->dev, rec, n);
}

/* ---- the timer ----------------------------------------------------------- */

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

		if (g->changes_left && g->report_at < next)
			next = g->report_at;
		if (g->query_due && g->query_at < next)
			next = g->query_at;
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
	free(g->srcs);
	free(g->rsrc);
	free(g->qsrc);
	free(g->chg_src);
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

		if (g->changes_left && g->report_at <= now) {
			/* A change report that says the whole filter answers
			 * a query too; ALLOW and BLOCK records do not. */
			if (igmp_change_whole(st, g))
				g->query_due = false;
			igmp_send_change(st, g);
			if (--g->changes_left)
				g->report_at = now + igmp_random(
					st, igmp_unsolicited(g->dev, now));
		}
		if (g->query_due && g->query_at <= now) {
			if (g->query_srcs)
				igmp_send_sources(st, g);
			else
				igmp_send_state(st, g, false);
			g->query_due = false;
		}
		if (!g->users && !g->changes_left)
			igmp_group_free(g);
	}
	igmp_arm(st);
}

/*
 * g's filter now (RFC 3376 §3.2, Linux's sf_setstate): EXCLUDE when a
 * membership excludes, with the sources every excluding one blocks and no
 * including one names; else INCLUDE, with every source named. Into out
 * (room for g->nsrcs); returns how many.
 */
static unsigned int ip_mc_filter(const struct ip_mc_group *g, uint8_t *mode,
				 uint32_t *out)
{
	unsigned int n = 0, ex = g->sfcount[MCAST_EXCLUDE];

	*mode = ex ? MCAST_EXCLUDE : MCAST_INCLUDE;
	for (unsigned int i = 0; i < g->nsrcs; i++) {
		const struct ip_mc_src *sf = &g->srcs[i];

		if (ex ? sf->count[MCAST_EXCLUDE] == ex &&
			 !sf->count[MCAST_INCLUDE]
		       : sf->count[MCAST_INCLUDE] > 0)
			out[n++] = sf->addr;
	}
	return n;
}

/* The members of a not in b, into out; how many. */
static unsigned int ip_mc_minus(const uint32_t *a, unsigned int na,
				const uint32_t *b, unsigned int nb,
				uint32_t *out)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < na; i++) {
		unsigned int j = 0;

		while (j < nb && b[j] != a[i])
			j++;
		if (j == nb)
			out[n++] = a[i];
	}
	return n;
}

/*
 * The sources changed that g's repeats say: the new change's allowed x
 * and blocked y merged into what is pending (RFC 3376 §5.1: a source
 * allowed since is no longer blocked, and the other way round), or alone
 * when nothing is. False without memory (the repeats then say the
 * filter).
 */
static bool igmp_merge_change(struct ip_mc_group *g, bool pending,
			      const uint32_t *x, unsigned int nx,
			      const uint32_t *y, unsigned int ny)
{
	unsigned int na = pending ? g->nallow : 0, nb = pending ? g->nblock : 0;
	uint32_t *m = malloc((na + nb + nx + ny + 1) * sizeof(*m)), *old;
	unsigned int ka, kb;

	if (!m)
		return false;
	old = g->chg_src;
	/* Allowed: the pending ones not now blocked, then the new ones
	 * (not already there); blocked the same way round. */
	ka = ip_mc_minus(old, na, y, ny, m);
	ka += ip_mc_minus(x, nx, m, ka, m + ka);
	kb = ip_mc_minus(old ? old + na : NULL, nb, x, nx, m + ka);
	kb += ip_mc_minus(y, ny, m + ka, kb, m + ka + kb);
	free(old);
	g->chg_src = m;
	g->nallow = ka;
	g->nblock = kb;
	return true;
}

/*
 * Tell a change of g's filter now, and Robustness - 1 more times later
 * (RFC 3376 §5.1): version 3 with a mode change record and the new
 * sources (TO_EX for a join, TO_IN with none for a leave), or for new and
 * gone sources in the same mode ALLOW and BLOCK records; its repeats say
 * the sources changed since the first pending change, or the filter as a
 * mode change record while a mode change is pending. Versions 1 and 2
 * only say joins and leaves.
 */
static void igmp_change(struct ustack *st, struct ip_mc_group *g)
{
	uint32_t *old = g->rsrc, *cur, *diff;
	unsigned int nold = g->nrsrc, n, a, b;
	uint8_t oldmode = g->rmode, mode;
	bool was = igmp_joined(g), pending = g->changes_left > 0;
	bool changed = false;

	cur = malloc((g->nsrcs ? g->nsrcs : 1) * sizeof(*cur));
	diff = malloc((g->nsrcs + nold + 1) * sizeof(*diff));
	if (!cur || !diff) {
		free(cur);
		free(diff);
		us_drop(st, NULL, US_DROP_NOMEM);
		return;
	}
	n = ip_mc_filter(g, &mode, cur);
	g->rmode = mode;
	g->rsrc = cur;
	g->nrsrc = n;
	if (mode != oldmode) {
		changed = true;
		g->chg_mode = true;
	} else {
		a = ip_mc_minus(cur, n, old, nold, diff);
		b = ip_mc_minus(old, nold, cur, n, diff + a);
		/* Including: the new are allowed, the gone blocked; excluding:
		 * the other way round. */
		if (mode == MCAST_EXCLUDE) {
			unsigned int t = a;

			a = b;
			b = t;
		}
		changed = a || b;
		if (changed && !(pending && g->chg_mode)) {
			const uint32_t *x = mode == MCAST_INCLUDE ? diff : diff + b;
			const uint32_t *y = mode == MCAST_INCLUDE ? diff + a : diff;

			g->chg_mode = !igmp_merge_change(g, pending, x, a, y, b);
		}
	}
	if (changed && igmp_reported(g->group)) {
		int version = igmp_version(g->dev, st->now);

		if (version == 3 || was != igmp_joined(g)) {
			if (igmp_change_whole(st, g))
				g->query_due = false;
			g->changes_left = 0;
			/* The merged change (RFC 3376 §5.1): the new
			 * difference with what was pending. */
			igmp_send_change(st, g);
			/* Version 2 says a leave once (RFC 2236 §3); version
			 * 1 not at all. */
			if (version == 3 || igmp_joined(g)) {
				g->changes_left = IGMP_ROBUSTNESS - 1;
				g->report_at = st->now + igmp_random(
					st, igmp_unsolicited(g->dev, st->now));
			}
		}
	}
	free(old);
	free(diff);
}

/* A membership's filter: its mode and sources. */
struct ip_mc_sf {
	uint8_t mode;
	const uint32_t *src;
	unsigned int n;
};

/* Count a membership's filter into g (delta 1) or out of it (-1), as
 * Linux's ip_mc_add_src and ip_mc_del_src; room for its sources was made
 * (ip_mc_reserve). */
static void ip_mc_count(struct ip_mc_group *g, const struct ip_mc_sf *f,
			int delta)
{
	g->sfcount[f->mode] += (unsigned int)delta;
	g->users += delta;
	for (unsigned int i = 0; i < f->n; i++) {
		unsigned int k = 0;

		while (k < g->nsrcs && g->srcs[k].addr != f->src[i])
			k++;
		if (k == g->nsrcs) {
			if (delta < 0)
				continue;
			g->srcs[g->nsrcs++] = (struct ip_mc_src){ f->src[i],
								  { 0, 0 } };
		}
		g->srcs[k].count[f->mode] += (unsigned int)delta;
		if (!g->srcs[k].count[0] && !g->srcs[k].count[1]) {
			memmove(&g->srcs[k], &g->srcs[k + 1],
				(g->nsrcs - k - 1) * sizeof(g->srcs[0]));
			g->nsrcs--;
		}
	}
}

static int ip_mc_reserve(struct ip_mc_group *g, unsigned int more)
{
	struct ip_mc_src *p;

	if (!more)
		return 0;
	p = realloc(g->srcs, (g->nsrcs + more) * sizeof(*p));
	if (!p)
		return -ENOMEM;
	g->srcs = p;
	return 0;
}

/*
 * A membership of group on dev changes its filter from old to new (NULL:
 * there was none, there is none now), as Linux's ip_mc_inc_group,
 * ip_mc_dec_group and the source calls: the device's group is made or
 * counted, the change told, the group forgotten once left and told.
 * 0 or -ENOMEM (nothing changed then).
 */
static int ip_mc_apply(struct ustack *st, struct net_device *dev,
		       uint32_t group, const struct ip_mc_sf *old,
		       const struct ip_mc_sf *new)
{
	struct ip_mc_group *g = ip_mc_find(st, dev, group);

	if (!g) {
		if (!new)
			return 0;
		g = calloc(1, sizeof(*g));
		if (!g)
			return -ENOMEM;
		g->dev = dev;
		g->group = group;
		g->rmode = MCAST_INCLUDE;
		list_add_tail(&g->node, &st->ip.mc_groups);
	}
	if (new && ip_mc_reserve(g, new->n) < 0) {
		if (!g->users && !g->changes_left)
			igmp_group_free(g);
		return -ENOMEM;
	}
	if (old)
		ip_mc_count(g, old, -1);
	if (new)
		ip_mc_count(g, new, 1);
	igmp_change(st, g);
	if (!g->users && !g->changes_left)
		igmp_group_free(g);
	igmp_arm(st);
	return 0;
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

/* Sources of pending group-and-source queries remembered for a group at
 * most; past them the answer is the group's whole state. */
#define IGMP_QUERY_SRCS_MAX 1024

/* Add the n sources at src to g's pending answer (RFC 3376 §5.2: the
 * sources of group-and-source queries for one group are merged). */
static void igmp_query_sources(struct ip_mc_group *g, const uint32_t *src,
			       unsigned int n)
{
	uint32_t *q = realloc(g->qsrc, (g->nqsrc + n + 1) * sizeof(*q));

	if (!q) {
		g->query_srcs = false;   /* answer with the whole state */
		return;
	}
	g->qsrc = q;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int j = 0;

		while (j < g->nqsrc && g->qsrc[j] != src[i])
			j++;
		if (j == g->nqsrc)
			g->qsrc[g->nqsrc++] = src[i];
	}
	/* Too many to remember: answer with the whole state. */
	if (g->nqsrc > IGMP_QUERY_SRCS_MAX)
		g->query_srcs = false;
}

/*
 * Answer g at random within max_resp, unless a report is due within
 * max_resp already (RFC 2236 §3, Linux's igmp_mod_timer). A
 * group-and-source query (n sources at src) asks for those sources alone,
 * merged with a pending one of its kind; a group query, or one pending,
 * makes it an answer for the whole group (RFC 3376 §5.2).
 */
static void igmp_schedule(struct ustack *st, struct ip_mc_group *g,
			  us_time_t max_resp, const uint32_t *src,
			  unsigned int n)
{
	bool pending = g->query_due;

	if (!igmp_joined(g) || !igmp_reported(g->group))
		return;
	if (!pending) {
		g->query_srcs = n > 0;
		g->nqsrc = 0;
	} else if (!n) {
		g->query_srcs = false;
	}
	if (g->query_srcs)
		igmp_query_sources(g, src, n);
	if (pending && g->query_at < st->now + max_resp)
		return;
	/* Versions 1 and 2: a report of the group due soon answers it. */
	if (igmp_version(g->dev, st->now) != 3 && g->changes_left &&
	    g->report_at < st->now + max_resp)
		return;
	g->query_due = true;
	g->query_at = st->now + igmp_random(st, max_resp);
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
	uint32_t *src = NULL;
	unsigned int nsrc = 0;
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
		 * version's: general with 10 s under version 1, without its
		 * sources under both. */
		if (igmp_version(dev, st->now) == 1) {
			max_resp = IGMP_V1_RESPONSE_US;
			group = 0;
		}
		if (igmp_version(dev, st->now) == 3 && nsrcs) {
			src = malloc(nsrcs * sizeof(*src));
			if (!src) {
				us_drop(st, NULL, US_DROP_NOMEM);
				return;
			}
			memcpy(src, m + IGMP_V3_QLEN, 4u * nsrcs);
			nsrc = nsrcs;
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
			igmp_schedule(st, g, max_resp, src, nsrc);
	}
	free(src);
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
		      uint32_t group, uint32_t saddr, int proto)
{
	const struct ip_mc_group *g;

	if (group == htonl(IGMP_ALL_HOSTS))
		return true;
	g = ip_mc_find(st, dev, group);
	if (!g || g->users <= 0)
		return false;
	/* Linux's ip_check_mc_rcu: IGMP, and an unspecified source. */
	if (proto == IPPROTO_IGMP_ || !saddr)
		return true;
	for (unsigned int i = 0; i < g->nsrcs; i++) {
		if (g->srcs[i].addr == saddr)
			return g->srcs[i].count[MCAST_INCLUDE] ||
			       g->srcs[i].count[MCAST_EXCLUDE] !=
				       g->sfcount[MCAST_EXCLUDE];
	}
	return g->sfcount[MCAST_EXCLUDE] != 0;
}

/* ---- sockets ------------------------------------------------------------ */

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

static struct ip_mc_sf ip_mc_sf_of(const struct ip_mc_socklist *iml)
{
	return (struct ip_mc_sf){ iml->sfmode, iml->src, iml->nsrc };
}

/* A join in `mode` with no source (Linux's __ip_mc_join_group): EXCLUDE
 * for any source, INCLUDE before the first source is added. */
static int ip_mc_join(struct sock *sk, struct ip_mreqn *imr, uint8_t mode)
{
	struct inet_dgram_sock *isk = inet_dgram_sk(sk);
	uint32_t group = imr->imr_multiaddr.s_addr;
	struct ip_mc_sf sf = { mode, NULL, 0 };
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
	if (ip_mc_apply(sk->st, dev, group, NULL, &sf) < 0) {
		free(iml);
		return -ENOBUFS;
	}
	iml->group = group;
	iml->address = imr->imr_address.s_addr;
	iml->ifindex = imr->imr_ifindex;
	iml->sfmode = mode;
	iml->next = isk->mc_list;
	isk->mc_list = iml;
	return 0;
}

int ip_mc_join_group(struct sock *sk, struct ip_mreqn *imr)
{
	return ip_mc_join(sk, imr, MCAST_EXCLUDE);
}

/* The membership gone from its device and freed. */
static void ip_mc_forget(struct sock *sk, struct ip_mc_socklist *iml)
{
	struct net_device *dev = us_dev_get_by_index(sk->st, iml->ifindex);
	struct ip_mc_sf sf = ip_mc_sf_of(iml);

	if (dev)
		(void)ip_mc_apply(sk->st, dev, iml->group, &sf, NULL);
	free(iml->src);
	free(iml);
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
		ip_mc_forget(sk, iml);
		return 0;
	}
	return -EADDRNOTAVAIL;
}

void ip_mc_drop_socket(struct sock *sk)
{
	struct inet_dgram_sock *isk = inet_dgram_sk(sk);
	struct ip_mc_socklist *iml;

	while ((iml = isk->mc_list) != NULL) {
		isk->mc_list = iml->next;
		ip_mc_forget(sk, iml);
	}
}

/* The socket's membership of group on the device imr names (filled in),
 * and that device: Linux's lookup in ip_mc_source and ip_mc_msfilter. */
static struct ip_mc_socklist *ip_mc_lookup(struct sock *sk,
					   struct ip_mreqn *imr,
					   struct net_device **devp)
{
	struct ip_mc_socklist *iml;

	*devp = ip_mc_find_dev(sk->st, imr);
	if (!*devp)
		return NULL;
	for (iml = inet_dgram_sk(sk)->mc_list; iml; iml = iml->next) {
		if (iml->group == imr->imr_multiaddr.s_addr &&
		    iml->ifindex == imr->imr_ifindex)
			return iml;
	}
	return NULL;
}

/* The membership's filter becomes mode and the n sources of list (a
 * malloc'ed array the membership takes over, NULL for none; freed if
 * this fails), counted on its device. */
static int ip_mc_set_sf(struct sock *sk, struct net_device *dev,
			struct ip_mc_socklist *iml, uint8_t mode,
			uint32_t *list, unsigned int n)
{
	struct ip_mc_sf old = ip_mc_sf_of(iml), new = { mode, list, n };

	if (ip_mc_apply(sk->st, dev, iml->group, &old, &new) < 0) {
		free(list);
		return -ENOBUFS;
	}
	free(iml->src);
	iml->src = list;
	iml->nsrc = n;
	iml->sfmode = mode;
	return 0;
}

/* Linux's ip_mc_source: add or remove one source of a membership in
 * omode. */
static int ip_mc_source(struct sock *sk, bool add, uint8_t omode,
			struct ip_mreqn *imr, uint32_t source)
{
	struct net_device *dev;
	struct ip_mc_socklist *iml;
	uint32_t *list;
	unsigned int i, n;
	int rc;

	if (!ipv4_is_multicast(imr->imr_multiaddr.s_addr))
		return -EINVAL;
	iml = ip_mc_lookup(sk, imr, &dev);
	if (!dev)
		return -ENODEV;
	if (!iml)
		return -EINVAL;   /* a join must come first */
	/* A filter once listed keeps its mode; an empty one may switch. */
	if (iml->sfmode != omode) {
		if (iml->has_sflist)
			return -EINVAL;
		rc = ip_mc_set_sf(sk, dev, iml, omode, NULL, 0);
		if (rc < 0)
			return rc;
	}
	n = iml->nsrc;
	for (i = 0; i < n && iml->src[i] != source; i++)
		;
	if (!add) {
		if (!iml->has_sflist || i == n)
			return -EADDRNOTAVAIL;
		/* (INCLUDE, no source) is no membership at all. */
		if (n == 1 && omode == MCAST_INCLUDE)
			return ip_mc_leave_group(sk, imr);
		list = malloc(n * sizeof(*list));
		if (!list)
			return -ENOBUFS;
		memcpy(list, iml->src, i * sizeof(*list));
		memcpy(list + i, iml->src + i + 1, (n - i - 1) * sizeof(*list));
		return ip_mc_set_sf(sk, dev, iml, omode, list, n - 1);
	}
	if (iml->has_sflist && n >= (unsigned int)sk->st->sysctl.igmp_max_msf)
		return -ENOBUFS;
	if (i < n)
		return -EADDRNOTAVAIL;
	list = malloc((n + 1) * sizeof(*list));
	if (!list)
		return -ENOBUFS;
	if (n)
		memcpy(list, iml->src, n * sizeof(*list));
	list[n] = source;
	rc = ip_mc_set_sf(sk, dev, iml, omode, list, n + 1);
	if (rc == 0)
		iml->has_sflist = true;
	return rc;
}

int ip_mc_source_opt(struct sock *sk, int optname, uint32_t group,
		     uint32_t ifaddr, int ifindex, uint32_t source)
{
	struct ip_mreqn imr = { .imr_multiaddr.s_addr = group,
				.imr_address.s_addr = ifaddr,
				.imr_ifindex = ifindex };
	bool add = optname == IP_BLOCK_SOURCE ||
		   optname == MCAST_BLOCK_SOURCE ||
		   optname == IP_ADD_SOURCE_MEMBERSHIP ||
		   optname == MCAST_JOIN_SOURCE_GROUP;
	uint8_t omode = MCAST_INCLUDE;
	int rc;

	if (optname == IP_BLOCK_SOURCE || optname == MCAST_BLOCK_SOURCE ||
	    optname == IP_UNBLOCK_SOURCE || optname == MCAST_UNBLOCK_SOURCE)
		omode = MCAST_EXCLUDE;
	if (optname == IP_ADD_SOURCE_MEMBERSHIP ||
	    optname == MCAST_JOIN_SOURCE_GROUP) {
		struct ip_mreqn j = imr;

		rc = ip_mc_join(sk, &j, MCAST_INCLUDE);
		if (rc && rc != -EADDRINUSE)
			return rc;
		/* The device found by the join, for MCAST_'s index. */
		if (optname == MCAST_JOIN_SOURCE_GROUP)
			imr.imr_ifindex = j.imr_ifindex;
	}
	return ip_mc_source(sk, add, omode, &imr, source);
}

int ip_mc_msfilter(struct sock *sk, uint32_t group, uint32_t ifaddr,
		   int ifindex, uint32_t mode, const uint32_t *src,
		   uint32_t n)
{
	struct ip_mreqn imr = { .imr_multiaddr.s_addr = group,
				.imr_address.s_addr = ifaddr,
				.imr_ifindex = ifindex };
	struct ip_mc_socklist *iml;
	struct net_device *dev;
	uint32_t *list = NULL;
	int rc;

	if (!ipv4_is_multicast(group) ||
	    (mode != MCAST_INCLUDE && mode != MCAST_EXCLUDE))
		return -EINVAL;
	iml = ip_mc_lookup(sk, &imr, &dev);
	if (!dev)
		return -ENODEV;
	if (mode == MCAST_INCLUDE && n == 0)
		return ip_mc_leave_group(sk, &imr);
	if (!iml)
		return -EINVAL;
	if (n) {
		list = malloc(n * sizeof(*list));
		if (!list)
			return -ENOBUFS;
		memcpy(list, src, n * sizeof(*list));
	}
	rc = ip_mc_set_sf(sk, dev, iml, (uint8_t)mode, list, n);
	if (rc == 0)
		iml->has_sflist = n > 0;
	return rc;
}

int ip_mc_msfget(struct sock *sk, uint32_t group, uint32_t ifaddr,
		 int ifindex, uint32_t *mode, uint32_t *count, uint32_t *src,
		 uint32_t *n)
{
	struct ip_mreqn imr = { .imr_multiaddr.s_addr = group,
				.imr_address.s_addr = ifaddr };
	struct ip_mc_socklist *iml;
	struct net_device *dev;
	uint32_t have;

	if (!ipv4_is_multicast(group))
		return -EINVAL;
	if (ifindex >= 0) {
		/* ip_mc_gsfget: the index as given, no device looked up. */
		for (iml = inet_dgram_sk(sk)->mc_list; iml; iml = iml->next)
			if (iml->group == group && iml->ifindex == ifindex)
				break;
	} else {
		iml = ip_mc_lookup(sk, &imr, &dev);
		if (!dev)
			return -ENODEV;
	}
	if (!iml)
		return -EADDRNOTAVAIL;
	have = iml->has_sflist ? iml->nsrc : 0;
	*mode = iml->sfmode;
	*count = have;
	if (*n > have)
		*n = have;
	if (*n)
		memcpy(src, iml->src, *n * sizeof(*src));
	return 0;
}

bool ip_mc_sf_allow(const struct sock *sk, uint32_t group, uint32_t saddr,
		    int ifindex)
{
	const struct ip_mc_socklist *iml;

	if (!ipv4_is_multicast(group))
		return true;
	for (iml = ((const struct inet_dgram_sock *)sk)->mc_list; iml;
	     iml = iml->next) {
		unsigned int i = 0;

		if (iml->group != group || iml->ifindex != ifindex)
			continue;
		while (i < iml->nsrc && iml->src[i] != saddr)
			i++;
		/* Named: allowed if included; not named: if excluding. */
		return (i < iml->nsrc) == (iml->sfmode == MCAST_INCLUDE);
	}
	return sk->mc_all;
}

/* ---- set-up ------------------------------------------------------------- */

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
