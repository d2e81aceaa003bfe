/*
 * difftest_wire.c - packets for differential tests (difftest.h): an IPv4
 * packet handed to the side's stack as if it came in on "lo", and what
 * the side sends on "lo", shown packet by packet.
 *
 * The kernel's side injects through a raw socket (IPPROTO_RAW: the case
 * writes the whole header) and watches with an AF_PACKET socket on lo,
 * keeping what it sees going out; ustack's injects through its loopback
 * device's transmit and watches that transmit (its ops replaced by a copy
 * whose xmit records each frame first). Both see an injected packet go
 * out too, so a capture holds it on both.
 */
#include "difftest.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/checksum.h"
#include "dev/netdev.h"
#include "socket/socket.h"
#include "stack/stack.h"

#define WIRE_MAX 64       /* packets a capture keeps */
#define WIRE_SNAP 128     /* bytes of each, from the IP header */

struct wire_pkt {
	unsigned char b[WIRE_SNAP];
	size_t len, caplen;
};

/* One capture at a time (the sides run one after the other). */
static struct {
	bool on;
	int fd;                                   /* the kernel's */
	struct net_device *dev;                   /* ustack's lo */
	const struct net_device_ops *orig_ops;
	struct net_device_ops spy_ops;
	struct wire_pkt pkts[WIRE_MAX];
	int n;
} W = { .fd = -1 };

static void wire_keep(const unsigned char *ip, size_t len)
{
	struct wire_pkt *p;

	if (W.n >= WIRE_MAX)
		return;
	p = &W.pkts[W.n++];
	p->len = len;
	p->caplen = len < WIRE_SNAP ? len : WIRE_SNAP;
	memcpy(p->b, ip, p->caplen);
}

/* ustack's lo: each frame sent is an Ethernet frame of zero addresses. */
static int spy_xmit(struct net_device *dev, struct sk_buff *skb)
{
	if (W.on && skb_headlen(skb) >= ETH_HLEN + 20 &&
	    skb->data[12] == 0x08 && skb->data[13] == 0x00)
		wire_keep(skb->data + ETH_HLEN, skb->len - ETH_HLEN);
	return W.orig_ops->xmit(dev, skb);
}

static void wire_stop(void)
{
	if (W.fd >= 0)
		close(W.fd);
	W.fd = -1;
	if (W.dev)
		W.dev->ops = W.orig_ops;
	W.dev = NULL;
	W.on = false;
}

void dt_wire_start(struct dt *t)
{
	struct ustack *st = dt_ustack(t);
	int rc = 0, err = 0;

	wire_stop();
	W.n = 0;
	if (st) {
		us_core_lock(st);
		W.dev = us_dev_get_by_name(st, "lo");
		if (W.dev) {
			W.orig_ops = W.dev->ops;
			W.spy_ops = *W.orig_ops;
			W.spy_ops.xmit = spy_xmit;
			W.dev->ops = &W.spy_ops;
		} else {
			rc = -1;
			err = ENODEV;
		}
		us_core_unlock(st);
	} else {
		/* (ETH_P_ALL: a socket of one protocol sees only what
		 * comes in, Linux's dev_queue_xmit_nit taps all) */
		struct sockaddr_ll ll = {
			.sll_family = AF_PACKET,
			.sll_protocol = htons(ETH_P_ALL),
			.sll_ifindex = (int)if_nametoindex("lo"),
		};

		W.fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK,
			      htons(ETH_P_ALL));
		if (W.fd < 0 || bind(W.fd, (struct sockaddr *)&ll,
				     sizeof(ll)) < 0) {
			rc = -1;
			err = errno;
		}
	}
	W.on = rc == 0;
	dt_note(t, "wire capture on lo: %s", rc ? strerror(err) : "on");
}

/* The kernel's: what the AF_PACKET socket saw go out since the start. */
static void wire_drain_kernel(void)
{
	unsigned char b[65536];
	struct sockaddr_ll from;
	socklen_t fl;
	ssize_t n;

	for (;;) {
		fl = sizeof(from);
		n = recvfrom(W.fd, b, sizeof(b), MSG_TRUNC,
			     (struct sockaddr *)&from, &fl);
		if (n < 0)
			break;
		if (from.sll_pkttype == PACKET_OUTGOING &&
		    from.sll_protocol == htons(ETH_P_IP))
			wire_keep(b, (size_t)n);   /* (WIRE_SNAP of it) */
	}
}

/* A TCP segment's ports, flags and payload length, after line. */
static void wire_note_tcp(char *line, size_t cap, const unsigned char *l4,
			  size_t l4len, size_t len)
{
	static const char names[] = "FSRPAUEW";
	size_t at = strlen(line), doff;

	if (l4len < 20)
		return;
	doff = (size_t)(l4[12] >> 4) * 4;
	snprintf(line + at, cap - at, " tcp %u>%u ", l4[0] << 8 | l4[1],
		 l4[2] << 8 | l4[3]);
	at = strlen(line);
	for (int i = 0; i < 8; i++)
		if (l4[13] & (1u << i) && at + 2 < cap)
			line[at++] = names[i];
	line[at] = 0;
	snprintf(line + at, cap - at, " len %zu", len > doff ? len - doff : 0);
}

static bool wire_icmp_error(int type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* An ICMP error's quoted header: its protocol and options (the stacks
 * quote it as they processed it). */
static void wire_note_quoted(struct dt *t, const unsigned char *q, size_t n)
{
	size_t ihl;

	if (n < 20)
		return;
	ihl = (size_t)(q[0] & 0xf) * 4;
	dt_note(t, "  quoting proto %d, %zu bytes of header", q[9], ihl);
	if (ihl > 20 && ihl <= n)
		dt_note_ipopts(t, q + 20, ihl - 20);
}

void dt_wire_note(struct dt *t, int proto)
{
	struct ustack *st = dt_ustack(t);

	if (st)
		us_core_lock(st);
	else if (W.fd >= 0)
		wire_drain_kernel();
	for (int i = 0; i < W.n; i++) {
		const struct wire_pkt *p = &W.pkts[i];
		const unsigned char *ip = p->b;
		size_t ihl = (size_t)(ip[0] & 0xf) * 4;
		char line[160], src[16], dst[16];

		if (p->caplen < 20 || (ip[0] >> 4) != 4 || ihl > p->caplen ||
		    (proto && ip[9] != proto))
			continue;
		inet_ntop(AF_INET, ip + 12, src, sizeof(src));
		inet_ntop(AF_INET, ip + 16, dst, sizeof(dst));
		snprintf(line, sizeof(line), "wire: %s > %s proto %d tos %#x",
			 src, dst, ip[9], ip[1]);
		if (ip[9] == IPPROTO_TCP)
			wire_note_tcp(line, sizeof(line), ip + ihl,
				      p->caplen - ihl, p->len - ihl);
		else if (ip[9] == IPPROTO_ICMP && p->caplen >= ihl + 8)
			snprintf(line + strlen(line), sizeof(line) - strlen(line),
				 " icmp type %d code %d info %02x%02x%02x%02x",
				 ip[ihl], ip[ihl + 1], ip[ihl + 4], ip[ihl + 5],
				 ip[ihl + 6], ip[ihl + 7]);
		dt_note(t, "%s", line);
		if (ihl > 20)
			dt_note_ipopts(t, ip + 20, ihl - 20);
		if (ip[9] == IPPROTO_ICMP && p->caplen > ihl + 8 &&
		    wire_icmp_error(ip[ihl]))
			wire_note_quoted(t, ip + ihl + 8, p->caplen - ihl - 8);
	}
	W.n = 0;
	wire_stop();
	if (st)
		us_core_unlock(st);
}

int dt_inject_ip(struct dt *t, const void *pkt, size_t len)
{
	struct ustack *st = dt_ustack(t);
	unsigned char b[65536];
	size_t ihl;
	int rc = 0, err = 0;

	if (len < 20 || len > sizeof(b) - ETH_HLEN)
		abort();
	memcpy(b + ETH_HLEN, pkt, len);
	ihl = (size_t)(b[ETH_HLEN] & 0xf) * 4;
	b[ETH_HLEN + 10] = b[ETH_HLEN + 11] = 0;
	{
		uint16_t sum = inet_csum(b + ETH_HLEN, ihl);

		b[ETH_HLEN + 10] = (unsigned char)(sum >> 8);
		b[ETH_HLEN + 11] = (unsigned char)sum;
	}
	if (st) {
		struct net_device *lo;
		struct sk_buff *skb;

		us_core_lock(st);
		us_engine_begin(st);
		lo = us_dev_get_by_name(st, "lo");
		skb = lo ? us_skb_alloc(st, (unsigned int)(ETH_HLEN + len))
			 : NULL;
		if (skb) {
			memset(b, 0, 12);
			b[12] = 0x08;
			b[13] = 0x00;
			memcpy(skb_put(skb, (unsigned int)(ETH_HLEN + len)), b,
			       ETH_HLEN + len);
			skb->dev = lo;
			skb->protocol = ETH_P_IP;
			rc = lo->ops->xmit(lo, skb);
			err = -rc;
			us_engine_run_until_idle(st);
		} else {
			rc = -1;
			err = ENOMEM;
		}
		us_core_unlock(st);
	} else {
		struct sockaddr_in to = { .sin_family = AF_INET };
		int fd = socket(AF_INET, SOCK_RAW, IPPROTO_RAW);

		memcpy(&to.sin_addr, b + ETH_HLEN + 16, 4);
		if (fd < 0 || sendto(fd, b + ETH_HLEN, len, 0,
				     (struct sockaddr *)&to, sizeof(to)) < 0) {
			rc = -1;
			err = errno;
		}
		if (fd >= 0)
			close(fd);
	}
	dt_note(t, "inject %zu bytes: %s", len, rc ? strerror(err) : "ok");
	return rc ? -1 : 0;
}
