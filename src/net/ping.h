/*
 * ping.h - ICMP echo sockets, "ping sockets" (Linux's net/ipv4/ping.c):
 * socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP).
 *
 * The socket's local "port" is the ICMP echo identifier: bind() sets it
 * (0: one is picked), the first send or connect picks one, getsockname
 * reports it in sin_port. A send takes an ICMP echo request from the
 * user (header and data); the stack puts in the socket's identifier and
 * the checksum. Echo replies whose identifier is a socket's are queued to
 * it whole (ICMP header and data), from the address that sent them (port
 * 0); ICMP errors about its requests are its errors (IP_RECVERR: the
 * error queue), as UDP's.
 *
 * Linux lets only the groups of net.ipv4.ping_group_range open these
 * (EACCES otherwise, "1 0", nobody, by default); ustack runs inside its
 * user's process and allows every user.
 *
 * Receive: icmp_rcv -> icmp_echo_reply -> ping_rcv (by identifier) ->
 *          sock_queue_rcv_skb; no socket: the echo_reply_cb as before.
 * Send:    us_sendto -> inet_sendmsg (autobind) -> ping_sendmsg ->
 *          ip_output.
 * Errors:  icmp_rcv -> icmp_error_rcv -> icmp_err (the quoted ICMP) ->
 *          ping_err.
 */
#ifndef US_NET_PING_H
#define US_NET_PING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/list.h"
#include "net/af_inet.h"
#include "net/sock.h"

struct ustack;
struct sk_buff;
struct ipv4_info;

#define PING_HTABLE_SIZE 64

struct ping_sock {
	struct inet_dgram_sock inet;  /* first member */
};

struct ping_table {
	struct list_head hash[PING_HTABLE_SIZE];   /* by identifier */
	uint16_t next_ident;   /* where the search for a free one starts */
};

extern const struct proto ping_prot;

void ping_init(struct ustack *st);
/* An echo reply (skb->data at its ICMP header, network header set): true
 * when a ping socket took it (ownership too), false when none wants it. */
bool ping_rcv(struct sk_buff *skb);
/* An ICMP error quoting an ICMP message we sent (l4 at its header, at
 * least 8 bytes): Linux's ping_err. */
void ping_err(struct ustack *st, struct sk_buff *skb,
	      const struct ipv4_info *inner, const uint8_t *l4, size_t l4_len,
	      int type, int code, uint32_t info);

#endif
