/*
 * ip_options.h - IPv4 header options (RFC 791 §3.1), as a host uses them:
 * checked and filled in on receipt (record route, timestamp), echoed in
 * replies (ICMP, TCP's SYN-ACK and resets, IP_RETOPTS), set by a socket
 * (IP_OPTIONS, the IP_RETOPTS control message) and written into the
 * header of every packet it sends (Linux's net/ipv4/ip_options.c).
 *
 *   ip_rcv (ipv4.c) -> ip_options_rcv
 *   ip_setsockopt, ip_cmsg_send (ip_sockglue.c) -> ip_options_compile_sock
 *   ip_output (ipv4.c) -> ip_options_build
 *   icmp_echo, icmp_send, tcp_new_child, tcp_v4_send_reset,
 *   tcp_tw_send_ack, ip_cmsg_recv -> ip_options_echo [-> ip_options_undo]
 *
 * Not done (ustack is a host and has no raw sockets): forwarding a source
 * route (a packet whose route is not consumed is dropped), CIPSO and the
 * security options as labels (CIPSO is always refused; SEC and SID are
 * opaque unknown options), router alert delivery.
 */
#ifndef US_NET_IP_OPTIONS_H
#define US_NET_IP_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ustack;

#define IP_OPTIONS_MAX 40

/*
 * Options in their sending form (Linux's struct ip_options without the
 * forwarding, CIPSO and router alert parts). Offsets count from the start
 * of the IP header (so the first option is at 20; 0: none), in `data` at
 * offset - 20.
 */
struct ip_options {
	uint32_t faddr;          /* a source route's first hop */
	uint8_t optlen;          /* bytes in data, a multiple of 4 */
	uint8_t srr, rr, ts;
	bool is_strictroute : 1;
	bool rr_needaddr : 1;    /* a slot for this host's address */
	bool ts_needaddr : 1;    /* a timestamp's address slot */
	bool ts_needtime : 1;    /* a timestamp's time slot */
	uint8_t data[IP_OPTIONS_MAX];
};

/*
 * A socket's options (IP_OPTIONS, the IP_RETOPTS message), `len` bytes
 * (at most IP_OPTIONS_MAX), into `opt` in sending form: padded with END,
 * everything after the first END made END, checked as Linux's
 * ip_options_get. `capable`: CAP_NET_RAW, without which SEC, SID,
 * unknown types and unknown timestamp flags are -EINVAL and a source
 * route -EPERM. 0, or the error; opt is written only on success.
 */
int ip_options_compile_sock(struct ustack *st, struct ip_options *opt,
			    const uint8_t *bytes, size_t len, bool capable);

/*
 * A received header's options (iph: the IP header, ihl > 5, private to
 * the caller), checked and processed for local delivery in place: record
 * route and timestamp get this host's entry (spec_dst, the time), a full
 * timestamp's overflow count goes up, bytes after END become END. 0, or
 * -EINVAL with *pp the offset from iph of the octet at fault (RFC 792's
 * parameter problem pointer). *srr: the header holds a source route.
 */
int ip_options_rcv(struct ustack *st, uint8_t *iph, uint32_t spec_dst,
		   unsigned int *pp, bool *srr);

/*
 * The options a reply to a processed header (ip_options_rcv's) carries
 * (Linux's __ip_options_echo): record route, timestamp, the source route
 * reversed, in that order, END-padded; nothing else. -EINVAL when a
 * record route or timestamp has less than a slot left at its pointer.
 */
int ip_options_echo(struct ustack *st, struct ip_options *dopt,
		    const uint8_t *iph);
/* The same of the options that end by `end` (an offset from iph): a
 * parameter problem's echo of those ip_options_rcv took before the bad
 * one, whose pointer is `end` (Linux's __icmp_send echoes the options
 * ip_options_compile filled in up to its error). */
int ip_options_echo_upto(struct ustack *st, struct ip_options *dopt,
			 const uint8_t *iph, size_t end);

/* Back to the form setsockopt takes (Linux's ip_options_undo): the first
 * hop back in front, reserved slots zeroed and their pointers back. */
void ip_options_undo(struct ip_options *opt);

/*
 * Write opt into a header being sent (iph, with room for its optlen
 * bytes after the first 20): a source route's last slot gets the final
 * destination daddr, reserved record-route and timestamp slots this
 * host's address saddr and the time.
 */
void ip_options_build(struct ustack *st, const struct ip_options *opt,
		      uint8_t *iph, uint32_t daddr, uint32_t saddr);

/* The destination a packet with opt goes to first: a source route's
 * first hop, else daddr. */
static inline uint32_t ip_options_first_hop(const struct ip_options *opt,
					    uint32_t daddr)
{
	return opt && opt->srr ? opt->faddr : daddr;
}

static inline unsigned int ip_options_len(const struct ip_options *opt)
{
	return opt ? opt->optlen : 0;
}

#endif
