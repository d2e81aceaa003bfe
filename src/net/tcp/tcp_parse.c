/*
 * tcp_parse.c - parse and emit the TCP header and options (see
 * tcp_parse.h).
 */
#include "net/tcp/tcp_parse.h"

#include <string.h>

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* A Fast Open option's cookie of n bytes (RFC 7413 §2: an even length
 * of 4 to 16, or none for a request), on a SYN or SYN-ACK only. */
static void tcp_take_fastopen(const uint8_t *cookie, int n, bool exp,
			      bool syn, struct tcp_opts *out)
{
	if (!syn || n < 0 || (n & 1))
		return;
	if (n != 0 && (n < TCP_FASTOPEN_COOKIE_MIN ||
		       n > TCP_FASTOPEN_COOKIE_MAX)) {
		out->fo_ok = false;   /* Linux: as if there were none */
		return;
	}
	out->fo_ok = true;
	out->fo_exp = exp;
	out->fo_len = (uint8_t)n;
	memcpy(out->fo_cookie, cookie, (size_t)n);
}

/* One option of known kind and a length already checked to fit. */
static void tcp_take_option(uint8_t kind, const uint8_t *o, uint8_t olen,
			    bool syn, struct tcp_opts *out)
{
	switch (kind) {
	case TCPOPT_MSS:
		if (olen == TCPOLEN_MSS && syn) {
			out->mss_ok = true;
			out->mss = get16(o + 2);
		}
		break;
	case TCPOPT_WINDOW:
		/* RFC 7323 §2.3: a shift above 14 is used as 14. */
		if (olen == TCPOLEN_WINDOW && syn) {
			out->ws_ok = true;
			out->ws = o[2] > TCP_MAX_WSCALE ? TCP_MAX_WSCALE : o[2];
		}
		break;
	case TCPOPT_SACK_PERM:
		if (olen == TCPOLEN_SACK_PERM && syn)
			out->sack_ok = true;
		break;
	case TCPOPT_TIMESTAMP:
		if (olen == TCPOLEN_TIMESTAMP) {
			out->ts_ok = true;
			out->tsval = get32(o + 2);
			out->tsecr = get32(o + 6);
		}
		break;
	case TCPOPT_SACK:
		/* RFC 2018 §3: 2 + 8n bytes, n >= 1. */
		if (olen >= 10 && (olen - 2) % 8 == 0 && !syn) {
			uint8_t n = (uint8_t)((olen - 2) / 8);

			if (n > TCP_MAX_SACKS)
				n = TCP_MAX_SACKS;
			for (uint8_t i = 0; i < n; i++) {
				out->sacks[i].start = get32(o + 2 + 8 * i);
				out->sacks[i].end = get32(o + 6 + 8 * i);
			}
			out->nsacks = n;
		}
		break;
	case TCPOPT_FASTOPEN:
		tcp_take_fastopen(o + 2, olen - 2, false, syn, out);
		break;
	case TCPOPT_EXP:
		if (olen >= 4 && get16(o + 2) == TCPOPT_FASTOPEN_MAGIC)
			tcp_take_fastopen(o + 4, olen - 4, true, syn, out);
		break;
	case TCPOPT_MD5SIG:
		/* Only noted: ustack has no keys, so a signed segment is
		 * one it cannot accept (tcp_v4_rcv). */
		if (olen == TCPOLEN_MD5SIG)
			out->md5 = true;
		break;
	default:
		/* RFC 9293 §3.2 MUST-6: unknown options are ignored. */
		break;
	}
}

enum us_drop_reason tcp_parse_options(const uint8_t *opt, size_t len, bool syn,
				      struct tcp_opts *out)
{
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	while (i < len) {
		uint8_t kind = opt[i];
		uint8_t olen;

		if (kind == TCPOPT_EOL)
			break;
		if (kind == TCPOPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return US_DROP_TCP_BAD_OPTIONS;
		olen = opt[i + 1];
		if (olen < 2 || olen > len - i)
			return US_DROP_TCP_BAD_OPTIONS;
		tcp_take_option(kind, opt + i, olen, syn, out);
		i += olen;
	}
	return US_DROP_NOT_DROPPED;
}

enum us_drop_reason tcp_parse_header(const uint8_t *p, size_t len,
				     struct tcp_seg *out)
{
	if (len < TCP_HLEN_MIN)
		return US_DROP_TCP_TRUNCATED;
	out->doff = (uint8_t)((p[12] >> 4) * 4);
	if (out->doff < TCP_HLEN_MIN || out->doff > len)
		return US_DROP_TCP_BAD_DOFF;
	out->sport = get16(p);
	out->dport = get16(p + 2);
	out->seq = get32(p + 4);
	out->ack = get32(p + 8);
	out->flags = p[13];
	out->window = get16(p + 14);
	out->check = get16(p + 16);
	out->urg_ptr = get16(p + 18);
	return tcp_parse_options(p + TCP_HLEN_MIN, out->doff - TCP_HLEN_MIN,
				 out->flags & TCPHDR_SYN, &out->opts);
}

static uint8_t *put_word(uint8_t *p, uint8_t a, uint8_t b, uint8_t c,
			 uint8_t d)
{
	p[0] = a;
	p[1] = b;
	p[2] = c;
	p[3] = d;
	return p + 4;
}

size_t tcp_emit_options(const struct tcp_opts *o, bool syn, uint8_t *out)
{
	uint8_t *p = out;
	bool sack_perm = syn && o->sack_ok;

	if (syn && o->mss_ok) {
		p = put_word(p, TCPOPT_MSS, TCPOLEN_MSS, 0, 0);
		put16(p - 2, o->mss);
	}
	if (o->ts_ok) {
		/* SACK-permitted rides in the timestamp's padding. */
		if (sack_perm)
			p = put_word(p, TCPOPT_SACK_PERM, TCPOLEN_SACK_PERM,
				     TCPOPT_TIMESTAMP, TCPOLEN_TIMESTAMP);
		else
			p = put_word(p, TCPOPT_NOP, TCPOPT_NOP,
				     TCPOPT_TIMESTAMP, TCPOLEN_TIMESTAMP);
		sack_perm = false;
		put32(p, o->tsval);
		put32(p + 4, o->tsecr);
		p += 8;
	}
	if (sack_perm)
		p = put_word(p, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK_PERM,
			     TCPOLEN_SACK_PERM);
	if (syn && o->ws_ok)
		p = put_word(p, TCPOPT_NOP, TCPOPT_WINDOW, TCPOLEN_WINDOW, o->ws);
	if (syn && o->fo_ok) {
		uint8_t len = (uint8_t)((o->fo_exp ? 4 : 2) + o->fo_len);

		*p++ = o->fo_exp ? TCPOPT_EXP : TCPOPT_FASTOPEN;
		*p++ = len;
		if (o->fo_exp) {
			put16(p, TCPOPT_FASTOPEN_MAGIC);
			p += 2;
		}
		memcpy(p, o->fo_cookie, o->fo_len);
		p += o->fo_len;
		if ((len & 3) == 2) {
			*p++ = TCPOPT_NOP;
			*p++ = TCPOPT_NOP;
		}
	}
	if (!syn && o->nsacks) {
		/* What fits in 40 bytes with the timestamp: 3 blocks. */
		uint8_t n = o->nsacks;
		uint8_t room = (uint8_t)((40 - (p - out) - 4) / 8);

		if (n > room)
			n = room;
		p = put_word(p, TCPOPT_NOP, TCPOPT_NOP, TCPOPT_SACK,
			     (uint8_t)(2 + 8 * n));
		for (uint8_t i = 0; i < n; i++) {
			put32(p, o->sacks[i].start);
			put32(p + 4, o->sacks[i].end);
			p += 8;
		}
	}
	return (size_t)(p - out);
}

void tcp_emit_header(const struct tcp_seg *h, uint8_t *out)
{
	put16(out, h->sport);
	put16(out + 2, h->dport);
	put32(out + 4, h->seq);
	put32(out + 8, h->ack);
	out[12] = (uint8_t)((h->doff / 4) << 4);
	out[13] = h->flags;
	put16(out + 14, h->window);
	put16(out + 16, h->check);
	put16(out + 18, h->urg_ptr);
}
