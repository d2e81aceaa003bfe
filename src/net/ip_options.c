/*
 * ip_options.c - IPv4 header options (RFC 791 §3.1; RFC 1812 §5.2.4 for
 * the source route's repair), with Linux's rules (net/ipv4/ip_options.c):
 * one walker checks a socket's options or a received header's, the
 * others echo, undo and build them. See ip_options.h for the call chain.
 */
#include "net/ip_options.h"

#include <errno.h>
#include <netinet/ip.h>
#include <string.h>

#include "net/ipv4.h"
#include "stack/stack.h"

/* RFC 791 §3.1 option types (IPOPT_END, IPOPT_NOOP, IPOPT_RR, IPOPT_TS,
 * IPOPT_LSRR, IPOPT_SSRR, IPOPT_RA and the timestamp's flags IPOPT_TS_*)
 * are <netinet/ip.h>'s. */
#ifndef IPOPT_CIPSO
#define IPOPT_CIPSO 134   /* CIPSO (FIPS 188's IP label, Linux's) */
#endif

/*
 * RFC 791 §3.1 (Internet Timestamp): milliseconds since midnight UT, in
 * network order, from the instance's wall clock (Linux's
 * inet_current_timestamp).
 */
static uint32_t ip_options_now_ms(struct ustack *st)
{
	int64_t us = (int64_t)st->now + st->clock->realtime_offset_us;
	uint64_t ms = (uint64_t)(us < 0 ? 0 : us) / 1000u;

	return htonl((uint32_t)(ms % (86400u * 1000u)));
}

/* A prespecified timestamp address that is not this host's (Linux's
 * inet_addr_type() == RTN_UNICAST) gets no entry. */
static bool ip_options_ours(struct ustack *st, const uint8_t *p)
{
	uint32_t a;

	memcpy(&a, p, 4);
	return ip_addr_type(st, a) != IP_ADDR_UNICAST;
}

/* What the walker is checking: a socket's options, or a received header
 * to process in place. */
struct ip_opt_walk {
	struct ustack *st;
	bool pkt;
	bool capable;
	uint32_t spec_dst;
	uint32_t now;       /* the timestamp to write (pkt) */
};

/* RFC 791 §3.1 loose and strict source routes: pointer at least 4; a
 * socket's route is given whole (pointer 4, at least two addresses) and
 * its first hop taken out. */
static int ip_opt_srr(struct ip_options *opt, uint8_t *iph, uint8_t *p,
		      const struct ip_opt_walk *w, uint8_t **pp)
{
	uint8_t len = p[1];

	if (len < 3) {
		*pp = p + 1;
		return -EINVAL;
	}
	if (p[2] < 4) {
		*pp = p + 2;
		return -EINVAL;
	}
	if (opt->srr) {   /* RFC 1812 §5.2.4.1: only one */
		*pp = p;
		return -EINVAL;
	}
	if (!w->pkt) {
		if (p[2] != 4 || len < 7 || ((len - 3) & 3)) {
			*pp = p + 1;
			return -EINVAL;
		}
		memcpy(&opt->faddr, p + 3, 4);
		if (len > 7)
			memmove(p + 3, p + 7, (size_t)(len - 7));
	}
	opt->is_strictroute = p[0] == IPOPT_SSRR;
	opt->srr = (uint8_t)(p - iph);
	return 0;
}

/* What record route and timestamp check alike, in Linux's order: one of
 * each kind (seen: one came before), a length of at least minlen, a
 * pointer of at least minptr and, unless the option is full, a whole
 * 4-byte slot at it. True when one fails, *pp at the byte to blame. */
static bool ip_opt_slot_bad(bool seen, uint8_t *p, uint8_t minlen,
			    uint8_t minptr, uint8_t **pp)
{
	uint8_t len = p[1];

	if (seen)
		*pp = p;
	else if (len < minlen)
		*pp = p + 1;
	else if (p[2] < minptr || (p[2] <= len && p[2] + 3 > len))
		*pp = p + 2;
	else
		return false;
	return true;
}

/* RFC 791 §3.1 record route: one, pointer at least 4, a whole slot at
 * the pointer unless full; received with room, this host's address. */
static int ip_opt_rr(struct ip_options *opt, uint8_t *iph, uint8_t *p,
		     const struct ip_opt_walk *w, uint8_t **pp)
{
	uint8_t len = p[1];

	if (ip_opt_slot_bad(opt->rr, p, 3, 4, pp))
		return -EINVAL;
	if (p[2] <= len) {
		if (w->pkt)
			memcpy(p + p[2] - 1, &w->spec_dst, 4);
		p[2] += 4;
		opt->rr_needaddr = true;
	}
	opt->rr = (uint8_t)(p - iph);
	return 0;
}

/* The timestamp's slot at the pointer, by its flag (RFC 791 §3.1). NULL
 * or where the time goes; -EINVAL with *pp set. */
static int ip_opt_ts_room(struct ip_options *opt, uint8_t *p,
			  const struct ip_opt_walk *w, uint8_t **timep,
			  uint8_t **pp)
{
	uint8_t len = p[1];

	switch (p[3] & 0xf) {
	case IPOPT_TS_TSONLY:
		*timep = p + p[2] - 1;
		opt->ts_needtime = true;
		p[2] += 4;
		return 0;
	case IPOPT_TS_TSANDADDR:
		if (p[2] + 7 > len)
			break;
		if (w->pkt)
			memcpy(p + p[2] - 1, &w->spec_dst, 4);
		*timep = p + p[2] + 3;
		opt->ts_needaddr = opt->ts_needtime = true;
		p[2] += 8;
		return 0;
	case IPOPT_TS_PRESPEC:
		if (p[2] + 7 > len)
			break;
		if (!ip_options_ours(w->st, p + p[2] - 1))
			return 0;
		*timep = p + p[2] + 3;
		opt->ts_needtime = true;
		p[2] += 8;
		return 0;
	default:
		/* Other flags are a raw socket's business (Linux asks
		 * CAP_NET_RAW of a socket; a packet's are left alone). */
		if (!w->pkt && !w->capable) {
			*pp = p + 3;
			return -EINVAL;
		}
		return 0;
	}
	*pp = p + 2;
	return -EINVAL;
}

/* RFC 791 §3.1 Internet Timestamp: one, pointer at least 5; full, its
 * overflow count goes up (15 is an error). */
static int ip_opt_ts(struct ip_options *opt, uint8_t *iph, uint8_t *p,
		     const struct ip_opt_walk *w, uint8_t **pp)
{
	uint8_t len = p[1], *timep = NULL;
	int rc;

	if (ip_opt_slot_bad(opt->ts, p, 4, 5, pp))
		return -EINVAL;
	if (p[2] <= len) {
		rc = ip_opt_ts_room(opt, p, w, &timep, pp);
		if (rc < 0)
			return rc;
		if (timep && w->pkt)
			memcpy(timep, &w->now, 4);
	} else if ((p[3] & 0xf) != IPOPT_TS_PRESPEC) {
		unsigned int overflow = p[3] >> 4;

		if (overflow == 15) {
			*pp = p + 3;
			return -EINVAL;
		}
		if (w->pkt)
			p[3] = (uint8_t)((p[3] & 0xf) | (overflow + 1) << 4);
	}
	opt->ts = (uint8_t)(p - iph);
	return 0;
}

/* One option that is neither END nor NOP, len bytes at p. */
static int ip_opt_one(struct ip_options *opt, uint8_t *iph, uint8_t *p,
		      const struct ip_opt_walk *w, uint8_t **pp)
{
	switch (p[0]) {
	case IPOPT_LSRR:
	case IPOPT_SSRR:
		return ip_opt_srr(opt, iph, p, w, pp);
	case IPOPT_RR:
		return ip_opt_rr(opt, iph, p, w, pp);
	case IPOPT_TS:
		return ip_opt_ts(opt, iph, p, w, pp);
	case IPOPT_RA:
		/* RFC 2113: two bytes of value; taken, not acted on. */
		if (p[1] < 4) {
			*pp = p + 1;
			return -EINVAL;
		}
		return 0;
	case IPOPT_CIPSO:
		/* No CIPSO domain is ever configured here: refused as
		 * Linux refuses one with none (cipso_v4_validate). */
		*pp = w->pkt ? p + (p[1] < 8 ? 1 : 2) : p;
		return -EINVAL;
	default:
		/* SEC, SID and unknown types: a socket needs CAP_NET_RAW. */
		if (!w->pkt && !w->capable) {
			*pp = p;
			return -EINVAL;
		}
		return 0;
	}
}

/*
 * The walk (Linux's __ip_options_compile): `optlen` option bytes at
 * iph + 20. 0, or -EINVAL with *ppo the octet at fault.
 */
static int ip_opt_walk(struct ip_options *opt, uint8_t *iph, size_t optlen,
		       const struct ip_opt_walk *w, unsigned int *ppo)
{
	uint8_t *p = iph + IP_HLEN_MIN, *pp = NULL;
	size_t l = optlen;

	while (l > 0) {
		if (*p == IPOPT_END) {
			/* RFC 791: END ends the list; what follows is
			 * padding, made so. */
			memset(p, IPOPT_END, l);
			break;
		}
		if (*p == IPOPT_NOOP) {
			p++;
			l--;
			continue;
		}
		if (l < 2 || p[1] < 2 || p[1] > l) {
			pp = p;
			break;
		}
		if (ip_opt_one(opt, iph, p, w, &pp) < 0)
			break;
		l -= p[1];
		p += p[1];
	}
	if (!pp)
		return 0;
	*ppo = (unsigned int)(pp - iph);
	return -EINVAL;
}

int ip_options_compile_sock(struct ustack *st, struct ip_options *opt,
			    const uint8_t *bytes, size_t len, bool capable)
{
	struct ip_opt_walk w = { .st = st, .capable = capable };
	uint8_t hdr[IP_HLEN_MIN + IP_OPTIONS_MAX];
	struct ip_options o;
	unsigned int pp;
	size_t padded = (len + 3) & ~(size_t)3;

	if (len > IP_OPTIONS_MAX)
		return -EINVAL;
	memset(&o, 0, sizeof(o));
	memset(hdr, 0, sizeof(hdr));
	if (len)
		memcpy(hdr + IP_HLEN_MIN, bytes, len);
	if (ip_opt_walk(&o, hdr, padded, &w, &pp) < 0)
		return -EINVAL;
	/* Linux d3915a1f5a4b: a source route needs CAP_NET_RAW. */
	if (o.srr && !capable)
		return -EPERM;
	o.optlen = (uint8_t)padded;
	memcpy(o.data, hdr + IP_HLEN_MIN, padded);
	*opt = o;
	return 0;
}

int ip_options_rcv(struct ustack *st, uint8_t *iph, uint32_t spec_dst,
		   unsigned int *pp, bool *srr)
{
	struct ip_opt_walk w = {
		.st = st, .pkt = true, .spec_dst = spec_dst,
		.now = ip_options_now_ms(st),
	};
	struct ip_options o;
	int rc;

	memset(&o, 0, sizeof(o));
	rc = ip_opt_walk(&o, iph, (size_t)(iph[0] & 0xf) * 4 - IP_HLEN_MIN,
			 &w, pp);
	*srr = o.srr != 0;
	return rc;
}

/*
 * The offsets and slots of a header that ip_options_rcv processed, the
 * options that end by `end` (an offset from iph: the header's length, or
 * where the option at fault starts when the walk failed; those before it
 * are whole). A record route or timestamp whose pointer is within it
 * still has room for an entry, which is what its echo asks (a
 * prespecified one whose address is not ours is passed over by the echo
 * all the same). Returns where the first option past `end` starts (the
 * one at fault), or 0.
 */
static size_t ip_options_scan(const uint8_t *iph, size_t end,
			      struct ip_options *opt)
{
	size_t l = (size_t)(iph[0] & 0xf) * 4 - IP_HLEN_MIN;
	const uint8_t *p = iph + IP_HLEN_MIN;

	memset(opt, 0, sizeof(*opt));
	opt->optlen = (uint8_t)l;
	while (l >= 2 && *p != IPOPT_END) {
		uint8_t off = (uint8_t)(p - iph);

		if (*p == IPOPT_NOOP) {
			p++;
			l--;
			continue;
		}
		if (p[1] < 2 || p[1] > l)
			return 0;
		if (off + p[1] > end)
			return off;
		if ((*p == IPOPT_LSRR || *p == IPOPT_SSRR) && !opt->srr &&
		    p[1] >= 3) {
			opt->srr = off;
			opt->is_strictroute = *p == IPOPT_SSRR;
		} else if (*p == IPOPT_RR && !opt->rr && p[1] >= 3) {
			opt->rr = off;
			opt->rr_needaddr = p[2] <= p[1];
		} else if (*p == IPOPT_TS && !opt->ts && p[1] >= 4) {
			opt->ts = off;
			if (p[2] <= p[1]) {
				uint8_t f = p[3] & 0xf;

				opt->ts_needaddr = f == IPOPT_TS_TSANDADDR;
				opt->ts_needtime = f == IPOPT_TS_TSONLY ||
						   f == IPOPT_TS_TSANDADDR ||
						   f == IPOPT_TS_PRESPEC;
			}
		}
		l -= p[1];
		p += p[1];
	}
	return 0;
}

/* The timestamp's echo: the reply's own slot past the entries so far. */
static int ip_echo_ts(struct ustack *st, struct ip_options *dopt,
		      const struct ip_options *sopt, uint8_t *d)
{
	unsigned int len = d[1], off = d[2];

	if (off > len)
		return 0;
	if (sopt->ts_needaddr) {
		if (off + 3 > len)
			return -EINVAL;
		dopt->ts_needaddr = true;
		off += 4;
	}
	if (sopt->ts_needtime) {
		if (off + 3 > len)
			return -EINVAL;
		if ((d[3] & 0xf) != IPOPT_TS_PRESPEC) {
			dopt->ts_needtime = true;
			off += 4;
		} else if (off + 7 <= len && ip_options_ours(st, d + off - 1)) {
			dopt->ts_needtime = true;
			off += 8;
		}
	}
	d[2] = (uint8_t)off;
	return 0;
}

/* The source route reversed (RFC 791 §3.1: the return route is the
 * recorded one backwards), its first hop aside; the recorded first hop
 * left out when it is the packet's source (RFC 1812 §5.2.4.1). */
static void ip_echo_srr(struct ip_options *dopt, const uint8_t *iph,
			const struct ip_options *sopt, uint8_t *d)
{
	const uint8_t *s = iph + sopt->srr;
	int len = s[1], soff = s[2], doff = 0;
	uint32_t faddr = 0;

	if (soff > len)
		soff = len + 1;
	soff -= 4;
	if (soff > 3) {
		memcpy(&faddr, s + soff - 1, 4);
		for (soff -= 4, doff = 4; soff > 3; soff -= 4, doff += 4)
			memcpy(d + doff - 1, s + soff - 1, 4);
		if (memcmp(iph + 12, s + soff + 3, 4) == 0)
			doff -= 4;
	}
	if (doff <= 3)
		return;
	dopt->faddr = faddr;
	d[0] = s[0];
	d[1] = (uint8_t)(doff + 3);
	d[2] = 4;
	dopt->srr = (uint8_t)(IP_HLEN_MIN + dopt->optlen);
	dopt->optlen = (uint8_t)(dopt->optlen + doff + 3);
	dopt->is_strictroute = sopt->is_strictroute;
}

int ip_options_echo_upto(struct ustack *st, struct ip_options *dopt,
			 const uint8_t *iph, size_t end)
{
	struct ip_options sopt;
	size_t fault;
	uint8_t *d;

	memset(dopt, 0, sizeof(*dopt));
	if ((iph[0] & 0xf) <= 5)
		return 0;
	fault = ip_options_scan(iph, end, &sopt);
	if (sopt.rr) {
		const uint8_t *s = iph + sopt.rr;

		d = dopt->data + dopt->optlen;
		memcpy(d, s, s[1]);
		dopt->rr = (uint8_t)(IP_HLEN_MIN + dopt->optlen);
		if (sopt.rr_needaddr && s[2] <= s[1]) {
			if (s[2] + 3 > s[1])
				return -EINVAL;
			d[2] = (uint8_t)(s[2] + 4);
			dopt->rr_needaddr = true;
		}
		dopt->optlen = (uint8_t)(dopt->optlen + s[1]);
	}
	if (sopt.ts) {
		const uint8_t *s = iph + sopt.ts;

		d = dopt->data + dopt->optlen;
		memcpy(d, s, s[1]);
		dopt->ts = (uint8_t)(IP_HLEN_MIN + dopt->optlen);
		if (ip_echo_ts(st, dopt, &sopt, d) < 0)
			return -EINVAL;
		dopt->optlen = (uint8_t)(dopt->optlen + s[1]);
	}
	if (sopt.srr)
		ip_echo_srr(dopt, iph, &sopt, dopt->data + dopt->optlen);
	/* A CIPSO option at fault is echoed too: Linux's compile notes
	 * one before it asks cipso_v4_validate, which refuses it (no CIPSO
	 * domain here), and __ip_options_echo copies what was noted. */
	if (fault && iph[fault] == IPOPT_CIPSO &&
	    dopt->optlen + iph[fault + 1] <= IP_OPTIONS_MAX) {
		memcpy(dopt->data + dopt->optlen, iph + fault, iph[fault + 1]);
		dopt->optlen = (uint8_t)(dopt->optlen + iph[fault + 1]);
	}
	while (dopt->optlen & 3)
		dopt->data[dopt->optlen++] = IPOPT_END;
	return 0;
}

int ip_options_echo(struct ustack *st, struct ip_options *dopt,
		    const uint8_t *iph)
{
	return ip_options_echo_upto(st, dopt, iph, (size_t)(iph[0] & 0xf) * 4);
}

void ip_options_undo(struct ip_options *opt)
{
	uint8_t *p;

	if (opt->srr) {
		p = opt->data + opt->srr - IP_HLEN_MIN;
		memmove(p + 7, p + 3, (size_t)(p[1] - 7));
		memcpy(p + 3, &opt->faddr, 4);
	}
	if (opt->rr_needaddr) {
		p = opt->data + opt->rr - IP_HLEN_MIN;
		p[2] = (uint8_t)(p[2] - 4);
		memset(p + p[2] - 1, 0, 4);
	}
	if (opt->ts) {
		p = opt->data + opt->ts - IP_HLEN_MIN;
		if (opt->ts_needtime) {
			p[2] = (uint8_t)(p[2] - 4);
			memset(p + p[2] - 1, 0, 4);
			if ((p[3] & 0xf) == IPOPT_TS_PRESPEC)
				p[2] = (uint8_t)(p[2] - 4);
		}
		if (opt->ts_needaddr) {
			p[2] = (uint8_t)(p[2] - 4);
			memset(p + p[2] - 1, 0, 4);
		}
	}
}

void ip_options_build(struct ustack *st, const struct ip_options *opt,
		      uint8_t *iph, uint32_t daddr, uint32_t saddr)
{
	memcpy(iph + IP_HLEN_MIN, opt->data, opt->optlen);
	/* RFC 791 §3.1: the header goes to the first hop; the final
	 * destination takes the route's last slot. */
	if (opt->srr)
		memcpy(iph + opt->srr + iph[opt->srr + 1] - 4, &daddr, 4);
	if (opt->rr_needaddr)
		memcpy(iph + opt->rr + iph[opt->rr + 2] - 5, &saddr, 4);
	if (opt->ts_needaddr)
		memcpy(iph + opt->ts + iph[opt->ts + 2] - 9, &saddr, 4);
	if (opt->ts_needtime) {
		uint32_t now = ip_options_now_ms(st);

		memcpy(iph + opt->ts + iph[opt->ts + 2] - 5, &now, 4);
	}
}
