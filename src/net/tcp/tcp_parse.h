/*
 * tcp_parse.h - the TCP header and its options as plain structs: the parse
 * step (bytes to struct, every length checked once) and the emit step
 * (struct to bytes), RFC 9293 §3.1-3.2, RFC 7323 (window scale,
 * timestamps), RFC 2018 (SACK).
 *
 * Receive: ip_local_deliver -> tcp_rcv -> tcp_parse_header -> ...
 * Send:    tcp_transmit_skb -> tcp_emit_options / tcp_emit_header.
 */
#ifndef US_NET_TCP_PARSE_H
#define US_NET_TCP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/stats.h"

#define TCP_HLEN_MIN 20
#define TCP_HLEN_MAX 60

/* Header flags (RFC 9293 §3.1, RFC 3168 for ECE/CWR). */
#define TCPHDR_FIN 0x01
#define TCPHDR_SYN 0x02
#define TCPHDR_RST 0x04
#define TCPHDR_PSH 0x08
#define TCPHDR_ACK 0x10
#define TCPHDR_URG 0x20
#define TCPHDR_ECE 0x40
#define TCPHDR_CWR 0x80

/* Option kinds. */
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WINDOW 3
#define TCPOPT_SACK_PERM 4
#define TCPOPT_SACK 5
#define TCPOPT_TIMESTAMP 8
#define TCPOPT_MD5SIG 19    /* RFC 2385 */
#define TCPOPT_FASTOPEN 34  /* RFC 7413 §2 */
#define TCPOPT_EXP 254      /* RFC 6994 experiments */
#define TCPOPT_FASTOPEN_MAGIC 0xF989 /* Fast Open's experimental form */

#define TCPOLEN_MSS 4
#define TCPOLEN_WINDOW 3
#define TCPOLEN_SACK_PERM 2
#define TCPOLEN_TIMESTAMP 10
#define TCPOLEN_MD5SIG 18
#define TCP_MAX_SACKS 4
#define TCP_MAX_WSCALE 14   /* RFC 7323 §2.3 */
#define TCP_FASTOPEN_COOKIE_MIN 4   /* RFC 7413 §4.1.1: 4 to 16 bytes */
#define TCP_FASTOPEN_COOKIE_MAX 16

struct tcp_sack_block {
	uint32_t start;
	uint32_t end;
};

struct tcp_opts {
	bool mss_ok, ws_ok, sack_ok, ts_ok;
	uint16_t mss;
	uint8_t ws;            /* shift count, clamped to 14 on parse */
	uint32_t tsval, tsecr;
	uint8_t nsacks;
	struct tcp_sack_block sacks[TCP_MAX_SACKS];
	bool md5;              /* an RFC 2385 signature is present */
	/* TCP Fast Open (RFC 7413 §2), on a SYN or SYN-ACK only: fo_ok, the
	 * option is there (fo_len 0: a cookie request); fo_exp, in the
	 * experimental form (kind 254, magic 0xF989) older peers use. A
	 * cookie of a length RFC 7413 does not allow is no option (Linux's
	 * tcp_parse_fastopen_option). */
	bool fo_ok, fo_exp;
	uint8_t fo_len;
	uint8_t fo_cookie[TCP_FASTOPEN_COOKIE_MAX];
};

/* A parsed TCP header; fields in host order. */
struct tcp_seg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t doff;          /* header length in bytes */
	uint8_t flags;         /* TCPHDR_* */
	uint16_t window;       /* as on the wire, not yet scaled */
	uint16_t check;
	uint16_t urg_ptr;
	struct tcp_opts opts;
};

/*
 * Parse the header at p (len bytes: header and payload). Checks the data
 * offset (>= 20, within len) and every option's length: an option whose
 * length is below 2 or runs past the header makes the segment malformed
 * (RFC 9293 §3.2 MUST-7: be prepared for illegal option lengths; we drop
 * and count). Options with the wrong length for their kind are ignored, as
 * Linux does; MSS, window scale and SACK-permitted count only on a SYN.
 * Returns US_DROP_NOT_DROPPED (0) or the reason.
 */
enum us_drop_reason tcp_parse_header(const uint8_t *p, size_t len,
				     struct tcp_seg *out);
/* Options only (the bytes between the fixed header and the data). */
enum us_drop_reason tcp_parse_options(const uint8_t *opt, size_t len, bool syn,
				      struct tcp_opts *out);

/*
 * Write the options for a segment, in Linux's order and padding:
 * SYN:  MSS, SACK-permitted + timestamps (or NOP NOP TS, or NOP NOP
 *       SACK-permitted), NOP + window scale, Fast Open (+ NOP NOP);
 * else: NOP NOP timestamps, NOP NOP SACK blocks.
 * Returns the length written (a multiple of 4, at most 40).
 */
size_t tcp_emit_options(const struct tcp_opts *o, bool syn, uint8_t *out);
/* Write the 20-byte fixed header (doff from h->doff; checksum as given). */
void tcp_emit_header(const struct tcp_seg *h, uint8_t *out);

#endif
