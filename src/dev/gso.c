/*
 * gso.c - software fallbacks for offloads a device lacks (see gso.h).
 *
 * TCP builds GSO packets and partial checksums only for a route whose
 * device says it can take them (US_NETIF_F_TSO, US_NETIF_F_HW_CSUM), so
 * for TCP these run only when that changed under a packet (a route moved,
 * the offloads were turned off) or when a test asks for them. UDP, as
 * Linux's udp_send_skb, makes one GSO packet of a UDP_SEGMENT send
 * whatever the device, and it is cut here for a device without
 * US_NETIF_F_GSO_UDP_L4; UDP also cuts a received one here for a socket
 * that did not ask for it whole (udp_queue_segments). They follow the
 * virtio-net contract (Virtio 1.2 §5.1.6.2): the checksum field of a
 * partial packet holds the pseudo-header sum, counted with the length
 * of the whole L4 packet, and summing from csum_start over it gives the
 * checksum.
 */
#include "dev/gso.h"

#include <errno.h>
#include <string.h>

#include "core/checksum.h"
#include "dev/netdev.h"
#include "net/sock.h"
#include "stack/stack.h"

#define IP_HLEN_MIN 20
#define TCP_HLEN_MIN 20
#define UDP_HLEN_MIN 8
#define TCPF_FIN 0x01
#define TCPF_PSH 0x08
#define TCPF_CWR 0x80

bool dev_needs_help(const struct net_device *dev, const struct sk_buff *skb)
{
	if (skb_is_gso(skb) && skb->len >= US_GSO_MAX_SIZE)
		return true;
	if (skb_is_gso(skb) && skb_shinfo(skb)->gso_type == SKB_GSO_UDP_L4)
		return !(dev->features & US_NETIF_F_GSO_UDP_L4) ||
		       skb_is_nonlinear(skb);
	if (skb_is_gso(skb) || skb_is_nonlinear(skb))
		return !(dev->features & US_NETIF_F_TSO);
	return skb->ip_summed == CHECKSUM_PARTIAL &&
	       !(dev->features & US_NETIF_F_HW_CSUM);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int skb_checksum_help(struct sk_buff *skb)
{
	unsigned int start, field;
	uint16_t sum;

	if (skb->ip_summed != CHECKSUM_PARTIAL)
		return 0;
	if (skb_is_nonlinear(skb) || skb->csum_start < skb_headroom(skb))
		return -EINVAL;
	start = skb->csum_start - skb_headroom(skb);
	field = start + skb->csum_offset;
	if (field + 2 > skb->len)
		return -EINVAL;
	/* The field is written: another holder of the data keeps its bytes. */
	if (skb_unshare_data(skb) < 0)
		return -ENOMEM;
	sum = csum_fold(csum_partial(skb->data + start, skb->len - start, 0));
	/* For UDP a computed 0 is sent as 0xffff (RFC 768); for TCP the two
	 * are the same ones' complement zero. */
	put16(skb->data + field, sum ? sum : 0xffff);
	skb->ip_summed = CHECKSUM_NONE;
	return 0;
}

/* Where the headers of a GSO packet are, from skb->data. */
struct gso_geom {
	unsigned int nh;     /* IPv4 header */
	unsigned int th;     /* TCP or UDP header */
	unsigned int hlen;   /* every header: th + the L4 header length */
	unsigned int mss;
	bool udp;            /* SKB_GSO_UDP_L4 */
	bool l4_csum;        /* compute each segment's L4 checksum */
};

static int gso_geometry(const struct sk_buff *skb, struct gso_geom *g)
{
	unsigned int head = skb_headroom(skb), type = skb_shinfo(skb)->gso_type;

	if ((type != SKB_GSO_TCPV4 && type != SKB_GSO_UDP_L4) ||
	    skb->network_header == SKB_HDR_UNSET ||
	    skb->transport_header == SKB_HDR_UNSET ||
	    skb->network_header < head || skb->transport_header < head)
		return -EINVAL;
	g->nh = skb->network_header - head;
	g->th = skb->transport_header - head;
	g->mss = skb_shinfo(skb)->gso_size;
	g->udp = type == SKB_GSO_UDP_L4;
	if (g->th < g->nh + IP_HLEN_MIN || !g->mss)
		return -EINVAL;
	if (g->udp) {
		g->hlen = g->th + UDP_HLEN_MIN;
		return g->hlen <= skb_headlen(skb) ? 0 : -EINVAL;
	}
	if (g->th + TCP_HLEN_MIN > skb_headlen(skb))
		return -EINVAL;
	g->hlen = g->th + (skb->data[g->th + 12] >> 4) * 4u;
	if (g->hlen < g->th + TCP_HLEN_MIN || g->hlen > skb_headlen(skb))
		return -EINVAL;
	return 0;
}

/* A reader over the payload of a packet and its frag_list. */
struct gso_cursor {
	const struct sk_buff *frag;  /* the piece being read; NULL = head */
	const uint8_t *p;
	unsigned int left;           /* bytes left in this piece */
};

static void cursor_copy(struct gso_cursor *c, const struct sk_buff *skb,
			uint8_t *to, unsigned int n)
{
	while (n) {
		unsigned int k;

		while (!c->left) {
			c->frag = c->frag ? c->frag->frag_next :
					    skb_shinfo(skb)->frag_list;
			c->p = c->frag->data;
			c->left = skb_headlen(c->frag);
		}
		k = n < c->left ? n : c->left;
		memcpy(to, c->p, k);
		to += k;
		c->p += k;
		c->left -= k;
		n -= k;
	}
}

/*
 * The destination the transport checksum covers: the header's, or with a
 * source route (RFC 791 §3.1: the header holds the next hop) the route's
 * last address, where ip_output put the final one (RFC 1122 §3.2.1.8;
 * Linux's tcp4/udp4 segmentation keep the pseudo-header's sum instead).
 */
static uint32_t gso_final_daddr(const uint8_t *ip)
{
	unsigned int hl = (ip[0] & 0xfu) * 4, i = 20;
	uint32_t daddr;

	memcpy(&daddr, ip + 16, 4);
	while (i < hl) {
		uint8_t type = ip[i], len;

		if (type == 0)             /* end of options */
			break;
		if (type == 1) {           /* no-operation */
			i++;
			continue;
		}
		if (i + 1 >= hl || (len = ip[i + 1]) < 2 || len > hl - i)
			break;
		if ((type == 131 || type == 137) && len >= 7)   /* LSRR, SSRR */
			memcpy(&daddr, ip + i + len - 4, 4);
		i += len;
	}
	return daddr;
}

/*
 * Fix the headers of segment i (payload at offset off of the whole): the
 * IPv4 length, id and checksum; TCP's sequence number and flags, or UDP's
 * length (RFC 768: each datagram is whole); the L4 checksum, in full,
 * unless the segments are of a packet already checked (g->l4_csum).
 */
static void gso_fix_headers(struct sk_buff *seg, const struct gso_geom *g,
			    unsigned int i, uint32_t off, bool last)
{
	uint8_t *ip = seg->data + g->nh, *th = seg->data + g->th;
	unsigned int l4len = seg->len - g->th, check = g->udp ? 6 : 16;
	uint32_t saddr, daddr, seq;
	uint16_t sum;

	put16(ip + 2, (uint16_t)(seg->len - g->nh));
	put16(ip + 4, (uint16_t)(get16(ip + 4) + i));
	put16(ip + 10, 0);
	put16(ip + 10, inet_csum(ip, (size_t)((ip[0] & 0xf) * 4)));
	if (g->udp) {
		put16(th + 4, (uint16_t)l4len);
	} else {
		seq = (uint32_t)get16(th + 4) << 16 | get16(th + 6);
		seq += off;
		put16(th + 4, (uint16_t)(seq >> 16));
		put16(th + 6, (uint16_t)seq);
		if (!last)
			th[13] &= (uint8_t)~(TCPF_FIN | TCPF_PSH);
		if (i)
			th[13] &= (uint8_t)~TCPF_CWR;
	}
	if (!g->l4_csum)
		return;
	memcpy(&saddr, ip + 12, 4);
	daddr = gso_final_daddr(ip);
	put16(th + check, 0);
	sum = csum_fold(csum_partial(th, l4len, csum_tcpudp_nofold(
			saddr, daddr, ip[9], (uint16_t)l4len, 0)));
	/* RFC 768: a UDP checksum that comes to zero is sent as all ones. */
	put16(th + check, g->udp && !sum ? 0xffff : sum);
}

static struct sk_buff *gso_new_segment(struct sk_buff *skb,
				       const struct gso_geom *g, unsigned int n)
{
	unsigned int room = skb_headroom(skb);
	struct sk_buff *seg = skb_alloc_reserved(skb->pool, room, g->hlen + n);

	if (!seg)
		return NULL;
	memcpy(skb_put(seg, g->hlen + n), skb->data, g->hlen);
	seg->dev = skb->dev;
	seg->protocol = skb->protocol;
	seg->tstamp = skb->tstamp;
	seg->mark = skb->mark;
	seg->mac_header = skb->mac_header;
	seg->network_header = skb->network_header;
	seg->transport_header = skb->transport_header;
	return seg;
}

/* The segment a transmit timestamp goes with (Linux's tcp_gso_tstamp and
 * __udp_gso_segment): TCP's has the byte it is keyed by; a datagram's
 * is the first. */
static bool gso_tstamp_here(const struct sk_buff *seg,
			    const struct gso_geom *g, unsigned int i,
			    unsigned int n, uint32_t key)
{
	const uint8_t *th = seg->data + g->th;
	uint32_t seq;

	if (g->udp)
		return i == 0;
	seq = (uint32_t)get16(th + 4) << 16 | get16(th + 6);
	return key - seq < n;
}

static int gso_segment(struct sk_buff *skb, struct sk_buff_head *segs,
		       bool l4_csum)
{
	struct gso_cursor c = { 0 };
	struct gso_geom g;
	uint32_t total, off;
	unsigned int i = 0;

	if (gso_geometry(skb, &g) < 0)
		return -EINVAL;
	g.l4_csum = l4_csum;
	total = skb->len - g.hlen;
	c.p = skb->data + g.hlen;
	c.left = skb_headlen(skb) - g.hlen;
	for (off = 0; off < total || (!total && !i); i++) {
		unsigned int n = total - off < g.mss ? total - off : g.mss;
		struct sk_buff *seg = gso_new_segment(skb, &g, n);

		if (!seg) {
			skb_queue_purge(segs);
			return -ENOMEM;
		}
		cursor_copy(&c, skb, seg->data + g.hlen, n);
		gso_fix_headers(seg, &g, i, off, off + n >= total);
		if (skb->tx_flags && gso_tstamp_here(seg, &g, i, n, skb->tskey))
			skb_tstamp_move(skb, seg);
		skb_queue_tail(segs, seg);
		off += n;
	}
	return 0;
}

int skb_gso_segment(struct sk_buff *skb, struct sk_buff_head *segs)
{
	return gso_segment(skb, segs, true);
}

int skb_gso_segment_rx(struct sk_buff *skb, struct sk_buff_head *segs)
{
	return gso_segment(skb, segs, false);
}
