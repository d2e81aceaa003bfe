/*
 * sock_tstamp.c - SO_TIMESTAMPING, as Linux has it (net/core/sock.c's
 * sock_set_timestamping, net/core/skbuff.c's __skb_tstamp_tx,
 * Documentation/networking/timestamping.rst), in software: ustack has no
 * hardware clock.
 *
 *  - The option: SOF_TIMESTAMPING_* flags (bits 0..18 on Linux 6.18), an
 *    int or a struct so_timestamping; OPT_ID starts its counter, OPT_ID
 *    on TCP only on a connection; OPT_ID_TCP needs OPT_ID, OPT_STATS
 *    needs OPT_TSONLY; BIND_PHC finds no clock (EOPNOTSUPP unbound,
 *    EINVAL bound). Reading it back: the flags and bind_phc, zero under
 *    SO_TIMESTAMPING_NEW when the _OLD name set them.
 *  - Receive: with SOFTWARE, SCM_TIMESTAMPING (three timespecs, the first
 *    the arrival) beside SO_TIMESTAMP's message; asked for with
 *    RX_SOFTWARE, or given anyway while another socket has receive
 *    timestamps on (Linux stamps every packet then), unless
 *    OPT_RX_FILTER.
 *  - Transmit: a send marks its packet (skb->tx_flags, skb->tskey) with
 *    the socket's flags or those of its SO_TIMESTAMPING control message;
 *    dev_queue_xmit reports SCM_TSTAMP_SCHED, the device's hand-over
 *    SCM_TSTAMP_SND, and TCP's ACK of the write's last byte
 *    SCM_TSTAMP_ACK. Each report is an entry on the socket's error queue
 *    (ENOMSG, SO_EE_ORIGIN_TIMESTAMPING, ee_info the kind, ee_data the
 *    key under OPT_ID: a datagram's number, or a TCP byte's offset),
 *    holding the packet as it left (from its link header; TCP's ACK: the
 *    segment's payload), or nothing under OPT_TSONLY; read with
 *    recvmsg(MSG_ERRQUEUE) (ip_recv_error), POLLERR while one waits.
 *
 * Not done: hardware timestamps (TX_HARDWARE and RX_HARDWARE ask for
 * none here, as on a Linux device without them), OPT_STATS's statistics
 * (the entry comes without them), TX_COMPLETION (accepted; no device here
 * reports a completion), net.core.tstamp_allow_data.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>

#include "net/af_inet.h"
#include "net/sock.h"
#include "net/tcp/tcp.h"
#include "stack/stack.h"

#define TS_OPT_ID_TCP (1u << 16)     /* SOF_TIMESTAMPING_OPT_ID_TCP */
#define TS_OPT_RX_FILTER (1u << 17)  /* SOF_TIMESTAMPING_OPT_RX_FILTER */
#define TS_MASK ((US_SOF_TX_COMPLETION << 1) - 1)

#ifndef SCM_TS_OPT_ID
#define SCM_TS_OPT_ID 81   /* <asm/socket.h>, Linux 6.13 */
#endif

/* ---- receive timestamps wanted (Linux's netstamp_needed) -------------- */

void sock_netstamp_update(struct sock *sk, bool before)
{
	bool now = sock_netstamp_on(sk);

	if (now != before)
		sk->st->netstamp_users += now ? 1 : -1;
}

void sock_netstamp_release(struct sock *sk)
{
	if (sock_netstamp_on(sk))
		sk->st->netstamp_users--;
}

/* ---- the option --------------------------------------------------------- */

/* OPT_ID newly on: its counter starts (Linux's sock_set_tskey). TCP's
 * counts bytes from what is unacknowledged (OPT_ID_TCP: from what was
 * written), so only a connection has one. */
static int sock_set_tskey(struct sock *sk, uint32_t val)
{
	if ((val & TS_OPT_ID_TCP) && !(val & SOF_TIMESTAMPING_OPT_ID))
		return -EINVAL;
	if (!(val & SOF_TIMESTAMPING_OPT_ID) ||
	    (sk->tsflags & SOF_TIMESTAMPING_OPT_ID))
		return 0;
	if (sk->type == SOCK_STREAM && sk->protocol == IPPROTO_TCP) {
		const struct tcp_sock *tp = tcp_sk(sk);

		if (sk->state == TCP_CLOSE || sk->state == TCP_LISTEN)
			return -EINVAL;
		sk->tskey = (val & TS_OPT_ID_TCP) ? tp->write_seq : tp->snd_una;
	} else {
		sk->tskey = 0;
	}
	return 0;
}

int sock_set_timestamping(struct sock *sk, int optname, const void *optval,
			  socklen_t optlen)
{
	struct so_timestamping ts = { 0, 0 };
	bool before = sock_netstamp_on(sk);
	uint32_t val;
	int rc;

	/* An int (sk_setsockopt reads one first), or the whole struct. */
	if (optlen < sizeof(int))
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	memcpy(&ts, optval, optlen == sizeof(ts) ? sizeof(ts) : sizeof(int));
	val = (uint32_t)ts.flags;
	if (val & ~TS_MASK)
		return -EINVAL;
	rc = sock_set_tskey(sk, val);
	if (rc < 0)
		return rc;
	if ((val & SOF_TIMESTAMPING_OPT_STATS) &&
	    !(val & SOF_TIMESTAMPING_OPT_TSONLY))
		return -EINVAL;
	/* No PTP clock to bind to: Linux's sock_timestamping_bind_phc
	 * wants a bound device, then one of its virtual clocks. */
	if (val & SOF_TIMESTAMPING_BIND_PHC)
		return sk->bound_dev_if ? -EINVAL : -EOPNOTSUPP;
	sk->tsflags = val;
	if (optname == SO_TIMESTAMPING_NEW)
		sk->timestamp |= SOCK_TS_NEW;
	else
		sk->timestamp &= (uint8_t)~SOCK_TS_NEW;
	sock_netstamp_update(sk, before);
	return 0;
}

int sock_get_timestamping(const struct sock *sk, int optname, void *v, int *lv)
{
	struct so_timestamping ts = { 0, 0 };

	/* The _NEW name reads them only when it set them (Linux). */
	if (optname == SO_TIMESTAMPING_OLD || (sk->timestamp & SOCK_TS_NEW))
		ts.flags = (int)sk->tsflags;
	memcpy(v, &ts, sizeof(ts));
	*lv = sizeof(ts);
	return 0;
}

/* One send's SO_TIMESTAMPING or SCM_TS_OPT_ID message (Linux's
 * __sock_cmsg_send): 0, -EINVAL, or 1 when c is neither. */
int sock_cmsg_tstamp(struct sock *sk, const struct cmsghdr *c,
		     struct sockcm *sockc)
{
	uint32_t v;

	if (c->cmsg_type != SO_TIMESTAMPING_OLD &&
	    c->cmsg_type != SO_TIMESTAMPING_NEW && c->cmsg_type != SCM_TS_OPT_ID)
		return 1;
	if (c->cmsg_type == SCM_TS_OPT_ID &&
	    (sk->type == SOCK_STREAM ||
	     !(sk->tsflags & SOF_TIMESTAMPING_OPT_ID)))
		return -EINVAL;
	if (c->cmsg_len != CMSG_LEN(sizeof(uint32_t)))
		return -EINVAL;
	memcpy(&v, CMSG_DATA(c), sizeof(v));
	if (c->cmsg_type == SCM_TS_OPT_ID) {
		sockc->ts_opt_id = v;
		sockc->ts_opt_id_set = true;
		return 0;
	}
	if (v & ~US_TS_TX_RECORD)
		return -EINVAL;
	sockc->tsflags = (sockc->tsflags & ~US_TS_TX_RECORD) | v;
	return 0;
}

/* ---- transmit timestamps ------------------------------------------------ */

uint8_t sock_tx_flags(uint32_t tsflags)
{
	uint8_t f = 0;

	if (tsflags & SOF_TIMESTAMPING_TX_SOFTWARE)
		f |= SKBTX_SW_TSTAMP;
	if (tsflags & SOF_TIMESTAMPING_TX_SCHED)
		f |= SKBTX_SCHED_TSTAMP;
	return f;
}

uint8_t sock_tx_timestamp(struct sock *sk, const struct sockcm *sockc,
			  uint32_t *tskey)
{
	uint8_t f = sock_tx_flags(sockc->tsflags);

	/* (Linux's _sock_tx_timestamp: a key only when a report is asked
	 * for, the message's own before the counter's.) */
	if ((sockc->tsflags & SOF_TIMESTAMPING_OPT_ID) &&
	    (sockc->tsflags & US_TS_TX_RECORD))
		*tskey = sockc->ts_opt_id_set ? sockc->ts_opt_id : sk->tskey++;
	return f;
}

static void tstamp_destruct(struct sk_buff *skb)
{
	sock_put(skb->sk);
}

void skb_tstamp_own(struct sk_buff *skb, struct sock *sk)
{
	skb_orphan(skb);
	sock_hold(sk);
	skb->sk = sk;
	skb->destructor = tstamp_destruct;
}

void skb_tstamp_move(struct sk_buff *from, struct sk_buff *to)
{
	to->tx_flags = from->tx_flags;
	to->tskey = from->tskey;
	from->tx_flags = 0;
	if (from->sk)
		skb_tstamp_own(to, from->sk);
}

/*
 * The bytes of a packet from its data on (its frag_list's too), into a
 * buffer of their size: a segment carved from a larger area, or a GSO
 * packet's pieces, cost only what they hold. Its headers' offsets and
 * device come along.
 */
static struct sk_buff *tstamp_copy(struct sock *sk, const struct sk_buff *orig)
{
	struct sk_buff *skb = us_skb_alloc(sk->st, orig->len), *f;
	unsigned char *p;
	int off;

	if (!skb)
		return NULL;
	p = skb_put(skb, orig->len);
	memcpy(p, orig->data, skb_headlen(orig));
	p += skb_headlen(orig);
	skb_walk_frags(orig, f) {
		memcpy(p, f->data, skb_headlen(f));
		p += skb_headlen(f);
	}
	skb->dev = orig->dev;
	if (orig->network_header != SKB_HDR_UNSET &&
	    (off = skb_network_offset(orig)) >= 0 &&
	    (uint32_t)off < orig->len)
		skb->network_header = (uint16_t)(skb->data - skb->head + off);
	return skb;
}

/*
 * Report a transmission (Linux's __skb_tstamp_tx and
 * __skb_complete_tx_timestamp): an entry on sk's error queue, charged to
 * its receive buffer and dropped when that is full, stamped now. orig is
 * the packet as it left (its bytes are copied unless OPT_TSONLY), key its
 * tskey.
 */
void sock_tstamp_tx(struct sock *sk, const struct sk_buff *orig, int tstype,
		    uint32_t key)
{
	uint32_t tsflags = sk->tsflags;
	struct sock_extended_err ee;
	struct sk_buff *skb;

	/* (A socket closed meanwhile has no one to read it.) */
	if (!sk->sk_socket || !sock_error_queue(sk, true))
		return;
	skb = (tsflags & SOF_TIMESTAMPING_OPT_TSONLY) ?
	      us_skb_alloc(sk->st, 0) : tstamp_copy(sk, orig);
	if (!skb)
		return;
	skb->tstamp = sk->st->now;
	memset(&ee, 0, sizeof(ee));
	ee.ee_errno = ENOMSG;
	ee.ee_origin = SO_EE_ORIGIN_TIMESTAMPING;
	ee.ee_info = (uint32_t)tstype;
	if (tsflags & SOF_TIMESTAMPING_OPT_ID)
		ee.ee_data = sk->type == SOCK_STREAM ? key - sk->tskey : key;
	ip_tstamp_error(sk, skb, &ee);
}

void skb_tstamp_tx(struct sk_buff *skb, int tstype)
{
	uint8_t bit = tstype == SCM_TSTAMP_SCHED ? SKBTX_SCHED_TSTAMP
						 : SKBTX_SW_TSTAMP;

	if ((skb->tx_flags & bit) && skb->sk)
		sock_tstamp_tx(skb->sk, skb, tstype, skb->tskey);
}

/* ---- receive timestamps ------------------------------------------------- */

/*
 * SCM_TIMESTAMPING for `when` (Linux's __sock_recv_timestamp and
 * tcp_recv_timestamp), with SOFTWARE: for a transmit report always; for
 * a packet received when RX_SOFTWARE asked for it, or when packets are
 * being stamped anyway (Linux stamps them then) and OPT_RX_FILTER does
 * not refuse it; for an ICMP or local error only in the second case
 * (the error queue takes no filter, but its entry has a time only if
 * packets were being stamped).
 */
void sock_put_timestamping(struct msghdr *msg, const struct sock *sk,
			   us_time_t when, enum sock_ts_src src)
{
	uint32_t f = sk->tsflags;
	int64_t us = (int64_t)when + sk->st->clock->realtime_offset_us;
	bool stamping = sk->st->netstamp_users > 0;
	struct timespec ts[3];

	if (!(f & SOF_TIMESTAMPING_SOFTWARE) || !when)
		return;
	if (src == SOCK_TS_SRC_ERROR && !stamping)
		return;
	if (src == SOCK_TS_SRC_RX && !(f & SOF_TIMESTAMPING_RX_SOFTWARE) &&
	    ((f & TS_OPT_RX_FILTER) || !stamping))
		return;
	_Static_assert(sizeof(struct timespec) == 16,
		       "scm_timestamping's _OLD layout is scm_timestamping64's");
	memset(ts, 0, sizeof(ts));
	ts[0].tv_sec = us / 1000000;
	ts[0].tv_nsec = (long)(us % 1000000) * 1000;
	put_cmsg(msg, SOL_SOCKET, (sk->timestamp & SOCK_TS_NEW) ?
		 SO_TIMESTAMPING_NEW : SO_TIMESTAMPING_OLD, sizeof(ts), ts);
}
