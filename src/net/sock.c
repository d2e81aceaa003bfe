/*
 * sock.c - struct sock: allocation, reference counting, receive-queue
 * accounting, errors, and the SOL_SOCKET options (see sock.h).
 */
#include "net/af_inet.h"
#include "net/sock.h"

#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76   /* <asm-generic/socket.h>, Linux 6.5 */
#endif
#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77
#endif

#include "dev/dev_ioctl.h"
#include "stack/stack.h"

struct sock *sk_alloc(struct ustack *st, int family, int type, int protocol,
		      const struct proto *prot)
{
	struct sock *sk = calloc(1, prot->obj_size);

	if (!sk)
		return NULL;
	sk->st = st;
	sk->prot = prot;
	sk->refcnt = 1;
	sk->family = (uint16_t)family;
	sk->type = (uint16_t)type;
	sk->protocol = (uint8_t)protocol;
	sk->state = TCP_CLOSE;
	list_init(&sk->bind_node);
	skb_queue_head_init(&sk->receive_queue);
	skb_queue_head_init(&sk->write_queue);
	sk->rcvbuf = US_SK_RCVBUF_DEFAULT;
	sk->sndbuf = US_SK_SNDBUF_DEFAULT;
	sk->rcvtimeo_us = US_TIME_NEVER;
	sk->sndtimeo_us = US_TIME_NEVER;
	sk->rcvlowat = 1;
	sk->incoming_cpu = -1;
	sk->ttl = -1;
	sk->mc_ttl = 1;
	sk->mc_loop = true;
	sk->mc_all = true;
	/* As Linux's inet_create. */
	sk->pmtudisc = st->sysctl.ip_no_pmtu_disc ? IP_PMTUDISC_DONT
						  : IP_PMTUDISC_WANT;
	return sk;
}

/*
 * Linux's sk_clone_lock copies the whole sock and then resets what belongs
 * to the connection alone; of the options, only SO_PRIORITY starts again
 * at 0, and of the user's locks only the port's (SOCK_BINDPORT_LOCK: the
 * port is the listener's). Here the options are copied one by one.
 */
void sk_clone_options(struct sock *newsk, const struct sock *sk)
{
	newsk->rcvbuf = sk->rcvbuf;
	newsk->sndbuf = sk->sndbuf;
	newsk->rcvbuf_locked = sk->rcvbuf_locked;
	newsk->sndbuf_locked = sk->sndbuf_locked;
	newsk->userlocks_addr = sk->userlocks_addr;
	newsk->reuseaddr = sk->reuseaddr;
	newsk->reuseport = sk->reuseport;
	newsk->broadcast = sk->broadcast;
	newsk->keepalive = sk->keepalive;
	newsk->oobinline = sk->oobinline;
	newsk->dontroute = sk->dontroute;
	newsk->rxq_ovfl = sk->rxq_ovfl;
	newsk->timestamp = sk->timestamp;
	newsk->tsflags = sk->tsflags;
	newsk->tskey = sk->tskey;
	newsk->ts_sticky = sk->ts_sticky;
	sock_netstamp_update(newsk, false);
	newsk->linger_on = sk->linger_on;
	newsk->linger_sec = sk->linger_sec;
	newsk->bound_dev_if = sk->bound_dev_if;
	newsk->incoming_cpu = sched_getcpu();   /* (not the listener's) */
	newsk->rcvtimeo_us = sk->rcvtimeo_us;
	newsk->sndtimeo_us = sk->sndtimeo_us;
	newsk->rcvlowat = sk->rcvlowat;
	newsk->mark = sk->mark;
	/* IPPROTO_IP's (Linux: in the inet_sock part of the same copy). */
	newsk->tos = sk->tos;
	newsk->ttl = sk->ttl;
	newsk->mc_ttl = sk->mc_ttl;
	newsk->mc_loop = sk->mc_loop;
	newsk->mc_all = sk->mc_all;
	newsk->pmtudisc = sk->pmtudisc;
	newsk->recverr = sk->recverr;
	newsk->pktinfo = sk->pktinfo;
	newsk->recvttl = sk->recvttl;
	newsk->recvtos = sk->recvtos;
	newsk->min_ttl = sk->min_ttl;
	newsk->freebind = sk->freebind;
	newsk->recvorigdst = sk->recvorigdst;
	newsk->bind_no_port = sk->bind_no_port;
	newsk->transparent = sk->transparent;
	newsk->checksum = sk->checksum;
	newsk->recvfragsize = sk->recvfragsize;
	newsk->recverr_rfc4884 = sk->recverr_rfc4884;
	newsk->no_check = sk->no_check;
	newsk->select_err_queue = sk->select_err_queue;
	newsk->rcvmark = sk->rcvmark;
	newsk->zerocopy = sk->zerocopy;
	sk_filter_clone(newsk, sk);   /* (shared, as Linux's sk_clone_lock) */
	/* (and IP_LOCAL_PORT_RANGE, Linux's inet_sock copy: a child without
	 * memory for it takes the instance's range) */
	if (sk->has_ext) {
		const struct sock_ext *e = sock_ext(sk, false);
		struct sock_ext *ne;

		if (e && (e->local_port_range || sk->txtime || e->uc_index ||
			  e->flags || e->busy_poll || e->busy_poll_budget ||
			  sk->peek_off || sk->pacing) &&
		    (ne = sock_ext(newsk, true)) != NULL) {
			ne->local_port_range = e->local_port_range;
			ne->uc_index = e->uc_index;
			ne->flags = e->flags;
			ne->busy_poll = e->busy_poll;
			ne->busy_poll_budget = e->busy_poll_budget;
			ne->txtime_clockid = e->txtime_clockid;
			ne->txtime_flags = e->txtime_flags;
			newsk->txtime = sk->txtime;
			ne->peek_off = e->peek_off;
			newsk->peek_off = sk->peek_off;
			ne->max_pacing_rate = e->max_pacing_rate;
			newsk->pacing = sk->pacing;
		}
	}
}

static struct list_head *sock_ext_chain(const struct sock *sk)
{
	uint32_t h = (uint32_t)((uintptr_t)sk >> 4) * 2654435761u;

	_Static_assert(SOCK_EXT_BUCKETS == 1u << 8, "the hash's top 8 bits");
	return &sk->st->sock_exts[h >> 24];
}

struct sock_ext *sock_ext(const struct sock *sk, bool make)
{
	struct list_head *chain, *pos;
	struct sock_ext *e;

	if (!sk->has_ext && !make)
		return NULL;
	chain = sock_ext_chain(sk);
	list_for_each(pos, chain) {
		e = list_entry(pos, struct sock_ext, node);
		if (e->sk == sk)
			return e;
	}
	if (!make)
		return NULL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	e->sk = sk;
	e->max_pacing_rate = UINT64_MAX;
	list_add(&e->node, chain);
	((struct sock *)sk)->has_ext = true;
	return e;
}

int sk_peek_offset(const struct sock *sk, int flags)
{
	const struct sock_ext *e;

	if (!(flags & MSG_PEEK))
		return 0;
	e = sk->peek_off ? sock_ext(sk, false) : NULL;
	return e ? e->peek_off : -1;
}

int sk_set_peek_off(struct sock *sk, int val)
{
	struct sock_ext *e = sock_ext(sk, val != -1);

	if (!e)
		return val == -1 ? 0 : -ENOMEM;
	e->peek_off = val;
	sk->peek_off = val != -1;
	return 0;
}

/* (Linux's sk_peek_offset_bwd; a peek moves it back by minus its bytes.) */
void sk_peek_offset_bwd(struct sock *sk, int n)
{
	struct sock_ext *e = sk->peek_off ? sock_ext(sk, false) : NULL;
	int off;

	if (!e || e->peek_off < 0)
		return;
	/* (In 32 bits, wrapping, as Linux's s32.) */
	off = (int)((uint32_t)e->peek_off - (uint32_t)n);
	e->peek_off = off > 0 ? off : 0;
}

void sk_peek_offset_fwd(struct sock *sk, int n)
{
	sk_peek_offset_bwd(sk, -n);
}

void sock_put(struct sock *sk)
{
	struct sock_ext *e;

	if (--sk->refcnt > 0)
		return;
	if (sk->prot->destroy)
		sk->prot->destroy(sk);
	sock_netstamp_release(sk);
	if ((e = sock_ext(sk, false)) != NULL) {
		reuseport_leave(sk);
		list_del(&e->node);
		free(e->saved_syn);
		free(e->ipopt);
		free(e->zc);
		sk_filter_release(e);
		/* (TCP's destroy empties its error queue first; any other
		 * user's would go here) */
		ip_errqueue_free(sk, e->errq);
		free(e->errq);
		free(e);
	}
	skb_queue_purge(&sk->receive_queue);
	skb_queue_purge(&sk->write_queue);
	free(sk);
}

int sock_queue_rcv_skb(struct sock *sk, struct sk_buff *skb)
{
	/*
	 * As Linux's UDP does, a datagram is refused once the memory already
	 * queued plus this one would pass SO_RCVBUF, but an empty queue takes
	 * any one datagram.
	 */
	if (sk->rmem_alloc && (sk->rmem_alloc + (int)skb->truesize > sk->rcvbuf ||
			       !skb_pool_may_queue(&sk->st->skb_pool, 0))) {
		/* ... nor past the skb pool's queue limit (skbuff.h), so
		 * that what remains serves other frames (Linux: the
		 * protocol's memory limit, __sk_mem_raise_allocated). */
		sk->drops++;
		return -ENOBUFS;
	}
	sk->rmem_alloc += (int)skb->truesize;
	SOCK_SKB_CB(skb)->dropcount = sk->rxq_ovfl ? sk->drops : 0;
	SOCK_SKB_CB(skb)->peeked = false;   /* (lo passes a sender's cb) */
	skb->sk = sk;
	skb_queue_tail(&sk->receive_queue, skb);
	sk_data_ready(sk);
	return 0;
}

void sock_rfree(struct sock *sk, struct sk_buff *skb)
{
	sk->rmem_alloc -= (int)skb->truesize;
	skb->sk = NULL;
}

void sock_purge_queue(struct sock *sk, struct sk_buff_head *q)
{
	struct sk_buff *skb;

	while (q && (skb = skb_dequeue(q)) != NULL) {
		sock_rfree(sk, skb);
		skb_free(skb);
	}
}

void put_cmsg(struct msghdr *msg, int level, int type, size_t len,
	      const void *data)
{
	struct cmsghdr h;
	size_t cmlen = CMSG_LEN(len);

	if (!msg->msg_control || msg->msg_controllen < sizeof(h)) {
		msg->msg_flags |= MSG_CTRUNC;
		return;
	}
	if (msg->msg_controllen < cmlen) {
		msg->msg_flags |= MSG_CTRUNC;
		cmlen = msg->msg_controllen;
	}
	h.cmsg_level = level;
	h.cmsg_type = type;
	h.cmsg_len = cmlen;
	memcpy(msg->msg_control, &h, sizeof(h));
	memcpy(CMSG_DATA((struct cmsghdr *)msg->msg_control), data,
	       cmlen - sizeof(h));
	cmlen = CMSG_SPACE(len);
	if (cmlen > msg->msg_controllen)
		cmlen = msg->msg_controllen;
	msg->msg_control = (char *)msg->msg_control + cmlen;
	msg->msg_controllen -= cmlen;
}

/*
 * The arrival time on the wall clock, as Linux's __sock_recv_timestamp
 * reports it: a timeval (SO_TIMESTAMP) or a timespec (SO_TIMESTAMPNS),
 * under the old or the _NEW message type. On a 64-bit Linux both layouts
 * are two 64-bit fields; only the type differs. ustack's clock counts
 * microseconds, so the nanoseconds end in 000.
 */
void sock_recv_timestamp(struct msghdr *msg, const struct sock *sk,
			 const struct sk_buff *skb)
{
	sock_put_timestamp(msg, sk, skb->tstamp, SOCK_TS_SRC_RX);
}

void sock_put_timestamp(struct msghdr *msg, const struct sock *sk,
			us_time_t when, enum sock_ts_src src)
{
	int64_t us = (int64_t)when + sk->st->clock->realtime_offset_us;
	bool isnew = sk->timestamp & SOCK_TS_NEW;
	int64_t t[2];

	/* (The _OLD layouts are two longs: the same only where long is
	 * 64 bits, as on every target ustack builds for.) */
	_Static_assert(sizeof(long) == sizeof(int64_t),
		       "SO_TIMESTAMP_OLD's timeval is two 64-bit longs");

	if (!(sk->timestamp & SOCK_TS_RCV))
		goto timestamping;
	t[0] = us / 1000000;
	t[1] = us % 1000000;
	if (sk->timestamp & SOCK_TS_NS) {
		t[1] *= 1000;
		put_cmsg(msg, SOL_SOCKET,
			 isnew ? SO_TIMESTAMPNS_NEW : SO_TIMESTAMPNS_OLD,
			 sizeof(t), t);
	} else {
		put_cmsg(msg, SOL_SOCKET,
			 isnew ? SO_TIMESTAMP_NEW : SO_TIMESTAMP_OLD,
			 sizeof(t), t);
	}
timestamping:
	if (sk->tsflags)
		sock_put_timestamping(msg, sk, when, src);
}

void sock_recv_cmsgs(struct msghdr *msg, const struct sock *sk,
		     const struct sk_buff *skb)
{
	uint32_t drops = SOCK_SKB_CB(skb)->dropcount;

	sock_recv_timestamp(msg, sk, skb);
	/* Only a datagram queued after drops carries the count. */
	if (sk->rxq_ovfl && drops)
		put_cmsg(msg, SOL_SOCKET, SO_RXQ_OVFL, sizeof(drops), &drops);
	/* SO_RCVMARK: the mark it came with, 0 for none (a datagram this
	 * host sent itself keeps its sender's). */
	if (sk->rcvmark)
		put_cmsg(msg, SOL_SOCKET, SO_MARK, sizeof(skb->mark),
			 &skb->mark);
}

int sock_error(struct sock *sk)
{
	int err = sk->err;

	sk->err = 0;
	return err;
}

void sock_set_error(struct sock *sk, int err)
{
	sk->err = err;
	/* (A child not yet accepted, or an orphan, has no socket to wake.) */
	if (sk->sk_socket)
		sk_error_report(sk);
}

/* ---- control messages of sendmsg ----------------------------------------- */

static bool capable_admin(void);

/* Priorities 0..6 are anyone's, the rest CAP_NET_ADMIN's (Linux's
 * sk_set_prio_allowed), for SO_PRIORITY and its control message. */
static bool prio_allowed(uint32_t prio)
{
	return prio <= 6 || capable_admin();
}

struct cmsghdr *sock_cmsg_first(const struct msghdr *msg)
{
	return msg->msg_controllen >= sizeof(struct cmsghdr) ?
	       (struct cmsghdr *)msg->msg_control : NULL;
}

struct cmsghdr *sock_cmsg_next(const struct msghdr *msg,
			       const struct cmsghdr *c)
{
	size_t at = (size_t)((const char *)c - (const char *)msg->msg_control);

	/* (Callers check sock_cmsg_ok first; a length that does not even
	 * cover the header ends the walk here too.) */
	if (c->cmsg_len < sizeof(struct cmsghdr))
		return NULL;
	at += CMSG_ALIGN(c->cmsg_len);
	if (at + sizeof(struct cmsghdr) > msg->msg_controllen)
		return NULL;
	return (struct cmsghdr *)((char *)msg->msg_control + at);
}

bool sock_cmsg_ok(const struct msghdr *msg, const struct cmsghdr *c)
{
	size_t at = (size_t)((const char *)c - (const char *)msg->msg_control);

	return c->cmsg_len >= sizeof(struct cmsghdr) &&
	       c->cmsg_len <= msg->msg_controllen - at;
}

/*
 * SO_MARK and SO_PRIORITY for this one datagram, with setsockopt's rules
 * (checked; ustack has no use for either value on a packet); SCM_RIGHTS
 * and SCM_CREDENTIALS mean nothing here and are passed over, as in Linux.
 * SO_TIMESTAMPING and SCM_TS_OPT_ID go into sockc (sock_tstamp.c), and
 * SCM_TXTIME's time (a u64, once SO_TXTIME is on).
 */
int sock_cmsg_one(struct sock *sk, const struct cmsghdr *c,
		  struct sockcm *sockc)
{
	uint32_t v;
	int rc;

	rc = sock_cmsg_tstamp(sk, c, sockc);
	if (rc <= 0)
		return rc;
	switch (c->cmsg_type) {
	case SCM_TXTIME:
		if (!sk->txtime || c->cmsg_len != CMSG_LEN(sizeof(uint64_t)))
			return -EINVAL;
		memcpy(&sockc->transmit_time, CMSG_DATA(c), sizeof(uint64_t));
		return 0;
	case SO_MARK:
		if (!capable_admin())
			return -EPERM;
		if (c->cmsg_len != CMSG_LEN(sizeof(uint32_t)))
			return -EINVAL;
		memcpy(&sockc->mark, CMSG_DATA(c), sizeof(uint32_t));
		return 0;
	case SO_PRIORITY:
		if (c->cmsg_len != CMSG_LEN(sizeof(uint32_t)))
			return -EINVAL;
		memcpy(&v, CMSG_DATA(c), sizeof(v));
		return prio_allowed(v) ? 0 : -EPERM;
	case SCM_RIGHTS:
	case SCM_CREDENTIALS:
		return 0;
	default:
		return -EINVAL;
	}
}

int sock_cmsg_send(struct sock *sk, const struct msghdr *msg,
		   struct sockcm *sockc)
{
	for (struct cmsghdr *c = sock_cmsg_first(msg); c;
	     c = sock_cmsg_next(msg, c)) {
		int rc;

		if (!sock_cmsg_ok(msg, c))
			return -EINVAL;
		if (c->cmsg_level != SOL_SOCKET)
			continue;
		rc = sock_cmsg_one(sk, c, sockc);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int get_int(const void *optval, socklen_t optlen, int *val)
{
	if (optlen < sizeof(int))
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	memcpy(val, optval, sizeof(int));
	return 0;
}

/* SO_RCVTIMEO_NEW / SO_SNDTIMEO_NEW take 64-bit fields everywhere
 * (Linux's __kernel_sock_timeval); the old names take a struct timeval. */
struct us_sock_timeval {
	int64_t tv_sec;
	int64_t tv_usec;
};

static bool timeo_is_new(int optname)
{
	return optname == SO_RCVTIMEO_NEW || optname == SO_SNDTIMEO_NEW;
}

/* Linux's sock_set_timeout(): {0,0} = forever, a negative time = 0. */
static int set_timeout(us_time_t *timeo, const void *optval, socklen_t optlen,
		       bool new64)
{
	struct us_sock_timeval tv;
	struct timeval old;

	if (optlen < (new64 ? sizeof(tv) : sizeof(old)))
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	if (new64) {
		memcpy(&tv, optval, sizeof(tv));
	} else {
		memcpy(&old, optval, sizeof(old));
		tv.tv_sec = old.tv_sec;
		tv.tv_usec = old.tv_usec;
	}
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	if (tv.tv_sec < 0) {
		*timeo = 0;
		return 0;
	}
	if (tv.tv_sec == 0 && tv.tv_usec == 0) {
		*timeo = US_TIME_NEVER;
		return 0;
	}
	/* Past what the clock can count (some 580,000 years): for ever,
	 * as Linux's sock_set_timeout takes a time past its own range, not
	 * a product that wrapped round to a short wait. */
	if ((uint64_t)tv.tv_sec >= (US_TIME_NEVER - 1000000) / US_USEC_PER_SEC) {
		*timeo = US_TIME_NEVER;
		return 0;
	}
	*timeo = (us_time_t)tv.tv_sec * US_USEC_PER_SEC + (us_time_t)tv.tv_usec;
	return 0;
}

/* CAP_NET_ADMIN where the socket lives (Linux's ns_capable on the
 * socket's namespace): the thread's effective capability, as the device
 * ioctls ask it (a root that dropped it has it no more). */
static bool capable_admin(void)
{
	return dev_capable_net_admin();
}

/*
 * CAP_NET_ADMIN over the whole system (Linux's capable(), which the FORCE
 * buffer sizes ask for): root, and not just root of a user namespace,
 * whose uid map would not be the identity over every uid.
 */
static bool capable_admin_system(void)
{
	unsigned int inside, outside, count;
	FILE *f;
	bool all;

	if (geteuid() != 0)
		return false;
	f = fopen("/proc/self/uid_map", "re");
	if (!f)
		return true;
	all = fscanf(f, "%u %u %u", &inside, &outside, &count) == 3 &&
	      inside == 0 && outside == 0 && count == UINT32_MAX;
	fclose(f);
	return all;
}

/*
 * SO_TXTIME (Linux's sk_setsockopt): a struct sock_txtime, exactly; its
 * flags SOF_TXTIME_DEADLINE_MODE and _REPORT_ERRORS; its clock
 * CLOCK_MONOTONIC, or REALTIME or TAI for CAP_NET_ADMIN. Once on, it
 * stays on. The times it lets a send give (SCM_TXTIME) are taken and not
 * waited for, as by Linux's default queues (pfifo_fast, fq_codel, and the
 * loopback's none): only its fq and etf qdiscs hold a packet until then.
 */
static int sock_set_txtime(struct sock *sk, const void *optval,
			   socklen_t optlen)
{
	struct sock_txtime st;
	struct sock_ext *e;

	if (optlen != sizeof(st))
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	memcpy(&st, optval, sizeof(st));
	if (st.flags & ~(uint32_t)SOF_TXTIME_FLAGS_MASK)
		return -EINVAL;
	if (st.clockid != CLOCK_MONOTONIC && !capable_admin())
		return -EPERM;
	if (st.clockid != CLOCK_REALTIME && st.clockid != CLOCK_MONOTONIC &&
	    st.clockid != CLOCK_TAI)
		return -EINVAL;
	e = sock_ext(sk, true);
	if (!e)
		return -ENOMEM;
	e->txtime_clockid = st.clockid;
	e->txtime_flags = st.flags;
	sk->txtime = true;
	return 0;
}

/*
 * SO_RCVBUF / SO_SNDBUF as Linux's sk_setsockopt: capped at the sysctl
 * maximum in an unsigned comparison (so a negative value gets the
 * maximum), or with the FORCE variants taken as is but not below 0; then
 * doubled for the bookkeeping overhead, and never below the minimum.
 */
static void set_buf(int *buf, int val, int min, bool force)
{
	if (force)
		val = val < 0 ? 0 : val;
	else if ((unsigned int)val > US_SK_BUF_MAX)
		val = US_SK_BUF_MAX;
	if (val > INT_MAX / 2)
		val = INT_MAX / 2;
	*buf = val * 2 < min ? min : val * 2;
}

/* An option of sock_ext.flags on or off (no sock_ext made for off). */
static int sock_ext_flag(struct sock *sk, uint32_t flag, bool on)
{
	struct sock_ext *e = sock_ext(sk, on);

	if (e)
		e->flags = on ? e->flags | flag : e->flags & ~flag;
	return e || !on ? 0 : -ENOMEM;
}

static bool sock_ext_has(const struct sock *sk, uint32_t flag)
{
	const struct sock_ext *e = sock_ext(sk, false);

	return e && (e->flags & flag);
}

/*
 * SO_BUSY_POLL, SO_PREFER_BUSY_POLL, SO_BUSY_POLL_BUDGET, as Linux's
 * sk_setsockopt takes them (more than the current time or budget, or the
 * preference, needs CAP_NET_ADMIN). Kept, and read back; they ask nothing
 * of ustack's devices, which, like a Linux device without NAPI, have no
 * queue a socket could poll.
 */
static int sock_set_busy_poll(struct sock *sk, int optname, int val)
{
	struct sock_ext *e = sock_ext(sk, false);

	switch (optname) {
	case SO_BUSY_POLL:
		if (val < 0)
			return -EINVAL;
		if (val > (e ? e->busy_poll : 0) && !capable_admin())
			return -EPERM;
		break;
	case SO_PREFER_BUSY_POLL:
		if (val && !capable_admin())
			return -EPERM;
		return sock_ext_flag(sk, SK_EXT_PREFER_BUSY_POLL, val != 0);
	default:
		if (val > (e ? e->busy_poll_budget : 0) && !capable_admin())
			return -EPERM;
		if (val < 0 || val > UINT16_MAX)
			return -EINVAL;
		break;
	}
	if (!val && !e)
		return 0;
	if (!(e = sock_ext(sk, true)))
		return -ENOMEM;
	if (optname == SO_BUSY_POLL)
		e->busy_poll = val;
	else
		e->busy_poll_budget = (uint16_t)val;
	return 0;
}

static int sock_set_bool(struct sock *sk, int optname, int val)
{
	bool on = val != 0;

	switch (optname) {
	case SO_REUSEADDR: sk->reuseaddr = on; break;
	case SO_REUSEPORT: sk->reuseport = on; break;
	case SO_BROADCAST: sk->broadcast = on; break;
	case SO_KEEPALIVE:
		if (sk->prot->keepalive)
			sk->prot->keepalive(sk, on);
		sk->keepalive = on;
		break;
	case SO_OOBINLINE: sk->oobinline = on; break;
	case SO_DONTROUTE: sk->dontroute = on; break;
	case SO_RXQ_OVFL: sk->rxq_ovfl = on; break;
	case SO_TIMESTAMP_OLD:
	case SO_TIMESTAMP_NEW:
	case SO_TIMESTAMPNS_OLD:
	case SO_TIMESTAMPNS_NEW: {
		bool before = sock_netstamp_on(sk);

		/* Linux's __sock_set_timestamps: on sets the layout and
		 * the type, off clears the request and the layout and
		 * leaves the type. */
		if (on)
			sk->timestamp = SOCK_TS_RCV |
				(optname == SO_TIMESTAMPNS_OLD ||
				 optname == SO_TIMESTAMPNS_NEW ? SOCK_TS_NS : 0) |
				(optname == SO_TIMESTAMP_NEW ||
				 optname == SO_TIMESTAMPNS_NEW ? SOCK_TS_NEW : 0);
		else
			sk->timestamp &= (uint8_t)SOCK_TS_NEW;
		sk->ts_sticky |= on;
		sock_netstamp_update(sk, before);
		break;
	}
	default: return -ENOPROTOOPT;
	}
	return 0;
}

/*
 * SO_BINDTODEVICE and SO_BINDTOIFINDEX (Linux's sock_bindtoindex_locked):
 * the socket takes only what comes in on that device and sends only out
 * of it (0: any); once bound, changing it needs CAP_NET_RAW.
 */
static int sock_bindtoindex(struct sock *sk, int ifindex)
{
	if (sk->bound_dev_if && !dev_capable(CAP_NET_RAW))
		return -EPERM;
	if (ifindex < 0)
		return -EINVAL;
	/* (No such device is no error here: Linux looks only at a name;
	 * what the socket then sends fails with ENODEV.) */
	sk->bound_dev_if = ifindex;
	/* A bound UDP socket leaves its SO_REUSEPORT group, whose members
	 * share one device (Linux's sk_prot->rehash, udp_lib_rehash); a
	 * TCP listener keeps its (tcp_prot has no rehash). */
	if (sk->type == SOCK_DGRAM && sk->protocol == IPPROTO_UDP && sk->num)
		reuseport_leave(sk);
	return 0;
}

/* SO_BINDTODEVICE's name (Linux's sock_setbindtodevice): cut to
 * IFNAMSIZ - 1 bytes; "" or no bytes unbinds. */
static int sock_setbindtodevice(struct sock *sk, const void *optval,
				socklen_t optlen)
{
	char name[IFNAMSIZ];
	struct net_device *dev;

	if ((int)optlen < 0)
		return -EINVAL;
	if (optlen > IFNAMSIZ - 1)
		optlen = IFNAMSIZ - 1;
	memset(name, 0, sizeof(name));
	if (optlen && !optval)
		return -EFAULT;
	if (optlen)
		memcpy(name, optval, optlen);
	if (!name[0])
		return sock_bindtoindex(sk, 0);
	dev = us_dev_get_by_name(sk->st, name);
	if (!dev)
		return -ENODEV;
	return sock_bindtoindex(sk, dev->ifindex);
}

/*
 * SO_MAX_PACING_RATE (Linux's sk_setsockopt): bytes per second, from an int
 * or, with room for it, an unsigned long of eight bytes; 0xffffffff as an
 * int is no limit, as ~0 is. Any limit marks the socket for pacing for
 * good (Linux's SK_PACING_NEEDED), which TCP does itself (tcp_pacing.c);
 * other sockets keep the value only (Linux paces them in the fq qdisc).
 */
static int sock_set_max_pacing_rate(struct sock *sk, const void *optval,
				    socklen_t optlen)
{
	struct sock_ext *e;
	uint64_t rate;
	int v, rc = get_int(optval, optlen, &v);

	if (rc < 0)
		return rc;
	if (optlen >= sizeof(rate))
		memcpy(&rate, optval, sizeof(rate));
	else
		rate = (uint32_t)v == UINT32_MAX ? UINT64_MAX : (uint32_t)v;
	e = sock_ext(sk, rate != UINT64_MAX);
	if (!e)
		return rate == UINT64_MAX ? 0 : -ENOMEM;
	e->max_pacing_rate = rate;
	if (rate != UINT64_MAX)
		sk->pacing = true;
	return 0;
}

uint64_t sk_max_pacing_rate(const struct sock *sk)
{
	const struct sock_ext *e = sk->has_ext ? sock_ext(sk, false) : NULL;

	return e ? e->max_pacing_rate : UINT64_MAX;
}

int sock_setsockopt(struct sock *sk, int optname, const void *optval,
		    socklen_t optlen)
{
	struct linger l;
	int val, rc;

	switch (optname) {
	case SO_BINDTODEVICE:
		return sock_setbindtodevice(sk, optval, optlen);
	case SO_RCVTIMEO_OLD:
	case SO_RCVTIMEO_NEW:
		return set_timeout(&sk->rcvtimeo_us, optval, optlen,
				   timeo_is_new(optname));
	case SO_SNDTIMEO_OLD:
	case SO_SNDTIMEO_NEW:
		return set_timeout(&sk->sndtimeo_us, optval, optlen,
				   timeo_is_new(optname));
	case SO_LINGER:
		if (optlen < sizeof(l))
			return -EINVAL;
		if (!optval)
			return -EFAULT;
		memcpy(&l, optval, sizeof(l));
		/* Turning lingering off keeps the time, as on Linux; a
		 * negative time is "forever" (Linux reads it unsigned). */
		sk->linger_on = l.l_onoff != 0;
		if (l.l_onoff)
			sk->linger_sec = l.l_linger < 0 ? INT_MAX : l.l_linger;
		return 0;
	case SO_TIMESTAMPING_OLD:
	case SO_TIMESTAMPING_NEW:
		return sock_set_timestamping(sk, optname, optval, optlen);
	case SO_TXTIME:
		return sock_set_txtime(sk, optval, optlen);
	case SO_PASSCRED:
	case SO_PASSSEC:
	case SO_PASSPIDFD:
		return -EOPNOTSUPP;   /* (Linux 6.18: AF_UNIX's alone) */
	case SO_ATTACH_FILTER:
		return sk_attach_filter(sk, optval, optlen,
					sock_ext_has(sk, SK_EXT_LOCK_FILTER));
	case SO_MAX_PACING_RATE:
		return sock_set_max_pacing_rate(sk, optval, optlen);
	case SO_ATTACH_REUSEPORT_CBPF:
		return reuseport_attach_cbpf(sk, optval, optlen);
	}
	rc = get_int(optval, optlen, &val);
	if (rc < 0)
		return rc;
	switch (optname) {
	case SO_RCVBUF:
	case SO_RCVBUFFORCE:
		if (optname == SO_RCVBUFFORCE && !capable_admin_system())
			return -EPERM;
		sk->rcvbuf_locked = true;
		set_buf(&sk->rcvbuf, val, US_SK_RCVBUF_MIN,
			optname == SO_RCVBUFFORCE);
		return 0;
	case SO_SNDBUF:
	case SO_SNDBUFFORCE:
		if (optname == SO_SNDBUFFORCE && !capable_admin_system())
			return -EPERM;
		sk->sndbuf_locked = true;
		set_buf(&sk->sndbuf, val, US_SK_SNDBUF_MIN,
			optname == SO_SNDBUFFORCE);
		sk_write_space(sk);
		return 0;
	case SO_RCVLOWAT:
		if (val < 0)
			val = INT_MAX;
		if (sk->prot->set_rcvlowat)
			sk->prot->set_rcvlowat(sk, val);
		else
			sk->rcvlowat = val ? val : 1;
		return 0;
	case SO_PRIORITY:
		if (!prio_allowed((uint32_t)val))
			return -EPERM;
		sk->priority = val;
		return 0;
	case SO_MARK:
		if (!capable_admin())
			return -EPERM;
		sk->mark = (uint32_t)val;
		return 0;
	case SO_BINDTOIFINDEX:
		return sock_bindtoindex(sk, val);
	case SO_INCOMING_CPU:
		/* Any value; it steers the socket's SO_REUSEPORT group
		 * (Linux's reuseport_update_incoming_cpu). */
		reuseport_set_incoming_cpu(sk, val);
		return 0;
	case SO_DEBUG:
		if (val && !capable_admin())
			return -EACCES;
		return sock_ext_flag(sk, SK_EXT_DEBUG, val != 0);
	case SO_BSDCOMPAT:
		return 0;
	case SO_WIFI_STATUS:
		return sock_ext_flag(sk, SK_EXT_WIFI_STATUS, val != 0);
	case SO_NOFCS:
		return sock_ext_flag(sk, SK_EXT_NOFCS, val != 0);
	case SO_LOCK_FILTER:
		/* Once locked, for good (Linux's SOCK_FILTER_LOCKED). */
		if (!val && sock_ext_has(sk, SK_EXT_LOCK_FILTER))
			return -EPERM;
		return sock_ext_flag(sk, SK_EXT_LOCK_FILTER, val != 0);
	case SO_DETACH_FILTER:
		return sk_detach_filter(sk, sock_ext_has(sk, SK_EXT_LOCK_FILTER));
	case SO_DETACH_REUSEPORT_BPF:
		return reuseport_detach_prog(sk);
	case SO_NO_CHECK:
		sk->no_check = val != 0;
		return 0;
	case SO_SELECT_ERR_QUEUE:
		sk->select_err_queue = val != 0;
		return 0;
	case SO_RCVMARK:
		sk->rcvmark = val != 0;
		return 0;
	case SO_BUF_LOCK:
		/* SOCK_SNDBUF_LOCK 1, SOCK_RCVBUF_LOCK 2. */
		if (val & ~3)
			return -EINVAL;
		sk->sndbuf_locked = val & 1;
		sk->rcvbuf_locked = (val & 2) != 0;
		return 0;
	case SO_ZEROCOPY:
		return sock_zerocopy_set(sk, val);
	case SO_PEEK_OFF:
		if (!sk_is_tcp_or_udp(sk))
			return -EOPNOTSUPP;
		return sk_set_peek_off(sk, val);
	case SO_TXREHASH:
		/* TCP's alone; -1 is the default (net.core.txrehash, 1). */
		if (sk->type != SOCK_STREAM)
			return -EOPNOTSUPP;
		if (val < -1 || val > 1)
			return -EINVAL;
		return sock_ext_flag(sk, SK_EXT_NO_TXREHASH, val == 0);
	case SO_RESERVE_MEM:
		/* No memory cgroup here to reserve from (Linux's
		 * sock_reserve_memory without one). */
		return val < 0 ? -EINVAL : -EOPNOTSUPP;
	case SO_BUSY_POLL:
	case SO_PREFER_BUSY_POLL:
	case SO_BUSY_POLL_BUDGET:
		return sock_set_busy_poll(sk, optname, val);
	default:
		return sock_set_bool(sk, optname, val);
	}
}

static int sock_get_bool(const struct sock *sk, int optname, int *v)
{
	switch (optname) {
	case SO_REUSEADDR: *v = sk->reuseaddr; break;
	case SO_REUSEPORT: *v = sk->reuseport; break;
	case SO_BROADCAST: *v = sk->broadcast; break;
	case SO_KEEPALIVE: *v = sk->keepalive; break;
	case SO_OOBINLINE: *v = sk->oobinline; break;
	case SO_DONTROUTE: *v = sk->dontroute; break;
	case SO_RXQ_OVFL: *v = sk->rxq_ovfl; break;
	/* As Linux's sk_getsockopt reads its flags (SO_TIMESTAMP_NEW is on
	 * under SO_TIMESTAMPNS_NEW too). */
	case SO_TIMESTAMP_OLD:
		*v = sk->timestamp == SOCK_TS_RCV;
		break;
	case SO_TIMESTAMP_NEW:
		*v = (sk->timestamp & (SOCK_TS_RCV | SOCK_TS_NEW)) ==
		     (SOCK_TS_RCV | SOCK_TS_NEW);
		break;
	case SO_TIMESTAMPNS_OLD:
		*v = (sk->timestamp & (SOCK_TS_NS | SOCK_TS_NEW)) == SOCK_TS_NS;
		break;
	case SO_TIMESTAMPNS_NEW:
		*v = (sk->timestamp & (SOCK_TS_NS | SOCK_TS_NEW)) ==
		     (SOCK_TS_NS | SOCK_TS_NEW);
		break;
	default: return -ENOPROTOOPT;
	}
	return 0;
}

/* A timeout as getsockopt reports it, in the layout the name asks for;
 * returns that layout's size. */
static int timeout_to_user(us_time_t t, void *v, bool new64)
{
	struct us_sock_timeval tv = { 0, 0 };
	struct timeval old;

	if (t != US_TIME_NEVER) {
		tv.tv_sec = (int64_t)(t / US_USEC_PER_SEC);
		tv.tv_usec = (int64_t)(t % US_USEC_PER_SEC);
	}
	if (new64) {
		memcpy(v, &tv, sizeof(tv));
		return sizeof(tv);
	}
	old.tv_sec = (time_t)tv.tv_sec;
	old.tv_usec = (suseconds_t)tv.tv_usec;
	memcpy(v, &old, sizeof(old));
	return sizeof(old);
}

static int sock_get_value(struct sock *sk, int optname, void *v, int *lv)
{
	int *iv = v;

	*lv = sizeof(int);
	switch (optname) {
	case SO_TYPE: *iv = sk->type; return 0;
	case SO_PROTOCOL: *iv = sk->protocol; return 0;
	case SO_DOMAIN: *iv = sk->family; return 0;
	case SO_ERROR:
		/* Linux's sock_getsockopt: the pending error, else the soft
		 * one TCP kept from an ICMP error (tcp_err.c); read once. */
		*iv = sock_error(sk);
		if (!*iv) {
			*iv = sk->err_soft;
			sk->err_soft = 0;
		}
		return 0;
	case SO_RCVBUF: *iv = sk->rcvbuf; return 0;
	case SO_SNDBUF: *iv = sk->sndbuf; return 0;
	case SO_MEMINFO: {
		/* Linux's sk_get_meminfo. A TCP socket's charge is its
		 * write queue (Linux's sk_wmem_queued); a datagram's is
		 * what is on its way out (sk_wmem_alloc). */
		uint32_t *m = v;
		bool stream = sk->type == SOCK_STREAM;

		m[SK_MEMINFO_RMEM_ALLOC] = (uint32_t)sk->rmem_alloc;
		m[SK_MEMINFO_RCVBUF] = (uint32_t)sk->rcvbuf;
		m[SK_MEMINFO_WMEM_ALLOC] = stream ? 0 : (uint32_t)sk->wmem_alloc;
		m[SK_MEMINFO_SNDBUF] = (uint32_t)sk->sndbuf;
		m[SK_MEMINFO_WMEM_QUEUED] = stream ? (uint32_t)sk->wmem_alloc : 0;
		m[SK_MEMINFO_DROPS] = sk->drops;
		/* (MSG_ZEROCOPY's records: the only option memory ustack
		 * counts) */
		m[SK_MEMINFO_OPTMEM] = (uint32_t)sock_zc_optmem(sk);
		*lv = SK_MEMINFO_VARS * sizeof(uint32_t);
		return 0;
	}
	case SO_RCVLOWAT: *iv = sk->rcvlowat; return 0;
	case SO_BINDTOIFINDEX: *iv = sk->bound_dev_if; return 0;
	case SO_DEBUG: *iv = sock_ext_has(sk, SK_EXT_DEBUG); return 0;
	case SO_BSDCOMPAT: *iv = 0; return 0;
	case SO_WIFI_STATUS: *iv = sock_ext_has(sk, SK_EXT_WIFI_STATUS); return 0;
	case SO_NOFCS: *iv = sock_ext_has(sk, SK_EXT_NOFCS); return 0;
	case SO_LOCK_FILTER: *iv = sock_ext_has(sk, SK_EXT_LOCK_FILTER); return 0;
	case SO_BPF_EXTENSIONS: *iv = SKF_AD_MAX; return 0;   /* (all known) */
	case SO_NO_CHECK: *iv = sk->no_check; return 0;
	case SO_SELECT_ERR_QUEUE: *iv = sk->select_err_queue; return 0;
	case SO_RCVMARK: *iv = sk->rcvmark; return 0;
	case SO_BUF_LOCK:
		*iv = sk->sndbuf_locked | sk->rcvbuf_locked << 1;
		return 0;
	case SO_ZEROCOPY: *iv = sk->zerocopy; return 0;
	case SO_PEEK_OFF:
		if (!sk_is_tcp_or_udp(sk))
			return -EOPNOTSUPP;
		*iv = sk_peek_offset(sk, MSG_PEEK);
		return 0;
	case SO_TXREHASH:
		if (sk->type != SOCK_STREAM)
			return -EOPNOTSUPP;
		*iv = !sock_ext_has(sk, SK_EXT_NO_TXREHASH);
		return 0;
	case SO_RESERVE_MEM: *iv = 0; return 0;
	case SO_INCOMING_CPU: *iv = sk->incoming_cpu; return 0;
	case SO_INCOMING_NAPI_ID: *iv = 0; return 0;   /* no NAPI here */
	case SO_BUSY_POLL: {
		const struct sock_ext *e = sock_ext(sk, false);

		*iv = e ? e->busy_poll : 0;
		return 0;
	}
	case SO_PREFER_BUSY_POLL:
		*iv = sock_ext_has(sk, SK_EXT_PREFER_BUSY_POLL);
		return 0;
	case SO_PASSCRED:
	case SO_PASSSEC:
	case SO_PASSPIDFD:
		return -EOPNOTSUPP;   /* (Linux 6.18: AF_UNIX's alone) */
	case SO_PEERGROUPS:
	case SO_PEERPIDFD:
		return -ENODATA;      /* an IP peer has no credentials */
	case SO_PEERCRED: {
		/* Linux's cred_to_ucred with no peer: pid 0, ids -1. */
		struct ucred *c = v;

		c->pid = 0;
		c->uid = (uid_t)-1;
		c->gid = (gid_t)-1;
		*lv = sizeof(*c);
		return 0;
	}
	case SO_TIMESTAMPING_OLD:
	case SO_TIMESTAMPING_NEW:
		return sock_get_timestamping(sk, optname, v, lv);
	case SO_TXTIME: {
		const struct sock_ext *e = sock_ext(sk, false);
		struct sock_txtime st = { 0, 0 };

		if (e && sk->txtime) {
			st.clockid = e->txtime_clockid;
			st.flags = e->txtime_flags;
		}
		memcpy(v, &st, sizeof(st));
		*lv = sizeof(st);
		return 0;
	}
	case SO_SNDLOWAT: *iv = 1; return 0;
	case SO_PRIORITY: *iv = sk->priority; return 0;
	case SO_MARK: *iv = (int)sk->mark; return 0;
	case SO_ACCEPTCONN: *iv = sk->state == TCP_LISTEN; return 0;
	case SO_LINGER: {
		struct linger *l = v;

		l->l_onoff = sk->linger_on;
		l->l_linger = sk->linger_sec;
		*lv = sizeof(*l);
		return 0;
	}
	case SO_RCVTIMEO_OLD:
	case SO_RCVTIMEO_NEW:
		*lv = timeout_to_user(sk->rcvtimeo_us, v,
				      timeo_is_new(optname));
		return 0;
	case SO_SNDTIMEO_OLD:
	case SO_SNDTIMEO_NEW:
		*lv = timeout_to_user(sk->sndtimeo_us, v,
				      timeo_is_new(optname));
		return 0;
	default:
		return sock_get_bool(sk, optname, iv);
	}
}

/* SO_COOKIE's number: given at the first asking, kept in the sock_ext
 * (0 without memory for one). */
static uint64_t sock_cookie(struct sock *sk)
{
	struct sock_ext *e = sock_ext(sk, true);

	if (!e)
		return 0;
	if (!e->cookie)
		e->cookie = ++sk->st->sock_cookie_last;
	return e->cookie;
}

/* SO_BINDTODEVICE read (Linux's sock_getbindtodevice): nothing when
 * unbound, else the name and its NUL, into room for any name. */
static int sock_getbindtodevice(struct sock *sk, void *optval,
				socklen_t *optlen)
{
	struct net_device *dev;
	size_t n;

	if (!sk->bound_dev_if) {
		*optlen = 0;
		return 0;
	}
	if ((int)*optlen < IFNAMSIZ)
		return -EINVAL;
	dev = us_dev_get_by_index(sk->st, sk->bound_dev_if);
	if (!dev)
		return -ENODEV;
	n = strnlen(dev->name, IFNAMSIZ - 1) + 1;
	if (!optval)
		return -EFAULT;
	memcpy(optval, dev->name, n - 1);
	((char *)optval)[n - 1] = '\0';
	*optlen = (socklen_t)n;
	return 0;
}

int sock_getsockopt(struct sock *sk, int optname, void *optval,
		    socklen_t *optlen)
{
	union {
		int i;
		uint64_t u64;
		struct linger l;
		struct timeval tv;
		struct us_sock_timeval ktv;
		struct ucred cred;
		struct sockaddr_in sin;
		uint32_t meminfo[SK_MEMINFO_VARS];
	} v;
	int lv = 0, rc;
	socklen_t len = *optlen;

	if ((int)len < 0)
		return -EINVAL;
	if (optname == SO_BINDTODEVICE)
		return sock_getbindtodevice(sk, optval, optlen);
	if (optname == SO_GET_FILTER)
		return sk_get_filter(sk, optval, optlen);
	memset(&v, 0, sizeof(v));
	switch (optname) {
	case SO_COOKIE:
		/* A number of the socket's own, for good (Linux's
		 * sock_gen_cookie); room for all of it or EINVAL. */
		if (len < sizeof(uint64_t))
			return -EINVAL;
		v.u64 = sock_cookie(sk);
		lv = sizeof(uint64_t);
		break;
	case SO_MAX_PACING_RATE:
		/* All of it into eight bytes; into less, an int of at most
		 * 0xffffffff (Linux's sk_getsockopt). */
		v.u64 = sk_max_pacing_rate(sk);
		lv = sizeof(uint64_t);
		if (len < sizeof(uint64_t)) {
			v.i = (int)(v.u64 > UINT32_MAX ? UINT32_MAX : v.u64);
			lv = sizeof(int);
		}
		break;
	case SO_NETNS_COOKIE:
		if (len != sizeof(uint64_t))
			return -EINVAL;
		if (!sk->st->netns_cookie)
			sk->st->netns_cookie = ++sk->st->sock_cookie_last;
		v.u64 = sk->st->netns_cookie;
		lv = sizeof(uint64_t);
		break;
	case SO_PEERNAME: {
		/* The peer's address (Linux's getname(peer)): ENOTCONN
		 * without one; a caller's room larger than it is EINVAL, a
		 * smaller one gets its first bytes. */
		if (!sk->dport || (sk->type == SOCK_STREAM &&
				   (sk->state == TCP_LISTEN ||
				    sk->state == TCP_CLOSE ||
				    sk->state == TCP_SYN_SENT)))
			return -ENOTCONN;
		if (len > sizeof(v.sin))
			return -EINVAL;
		v.sin.sin_family = AF_INET;
		v.sin.sin_port = sk->dport;
		v.sin.sin_addr.s_addr = sk->daddr;
		lv = (int)len;
		break;
	}
	default:
		rc = sock_get_value(sk, optname, &v, &lv);
		if (rc < 0)
			return rc;
	}
	/* Linux copies at most what the caller has room for. */
	if (len > (socklen_t)lv)
		len = (socklen_t)lv;
	if (len && !optval)
		return -EFAULT;
	if (len)
		memcpy(optval, &v, len);
	*optlen = len;
	return 0;
}
