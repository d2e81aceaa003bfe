/*
 * tap.c - a TAP device of the Linux kernel as a ustack net_device
 * (see tap.h).
 *
 * Call chain:  dev_queue_xmit -> tap_xmit -> writev(/dev/net/tun), or
 *              for a large packet -> tap_tx_queue ... the writer thread's
 *              writev (tap_tx.c)
 *              us_engine_step / runtime epoll -> tap_poll -> read ->
 *              netif_receive_skb
 *
 * With IFF_VNET_HDR every frame crossing the fd is preceded by a
 * virtio-net header (Virtio 1.2 §5.1.6 "Device Operation", struct
 * virtio_net_hdr with num_buffers, 12 bytes). It carries checksum and
 * segmentation offload state. With offloads on (the default), ustack
 * hands the kernel TCP packets of up to 64 KB with a partial checksum and
 * the segment size (TSO, §5.1.6.2), and TUNSETOFFLOAD(TUN_F_CSUM |
 * TUN_F_TSO4) lets the kernel write the same to us (§5.1.6.4): large TCP
 * packets, and checksums left unfinished (NEEDS_CSUM) or already checked
 * (DATA_VALID). UDP the same where the kernel has USO (Linux 6.2,
 * TUN_F_USO4 | TUN_F_USO6, GSO_UDP_L4): a UDP_SEGMENT send crosses as one
 * packet each way. The device's feature bits say which of these are on; with
 * offloads off (tap_config.no_offload) the kernel finishes every checksum
 * and segments before writing to us, and a header that says otherwise is
 * dropped.
 *
 * A fault layer (tap_fault.c) can sit on either path for tests: seeded
 * loss, duplication and reordering, asked for in struct tap_config.
 */
#include "dev/tap.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "core/checksum.h"
#include "dev/netdev.h"
#include "dev/pcap.h"
#include "dev/tap_fault.h"
#include "dev/tap_tx.h"
#include "stack/stack.h"

/*
 * The virtio-net header. Legacy layout, which tun uses, keeps the fields in
 * the host's byte order unless TUNSETVNETLE/BE says otherwise.
 */
struct vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;      /* bytes of headers to copy into each segment */
	uint16_t gso_size;     /* payload bytes per segment */
	uint16_t csum_start;   /* from the frame start */
	uint16_t csum_offset;  /* from csum_start to the checksum field */
	uint16_t num_buffers;  /* mergeable rx buffers; 0 from a writer */
};

_Static_assert(sizeof(struct vnet_hdr) == 12, "virtio_net_hdr_v1 is 12 bytes");

#define VNET_HDR_LEN ((int)sizeof(struct vnet_hdr))
#define VNET_F_NEEDS_CSUM 1
#define VNET_F_DATA_VALID 2
#define VNET_GSO_NONE 0
#define VNET_GSO_TCPV4 1
#define VNET_GSO_UDP_L4 5 /* Virtio 1.2 §5.1.6: UDP segmentation (USO) */
#define VNET_GSO_ECN 0x80

#define TAP_DEV_PATH "/dev/net/tun"
/* An 802.1Q tag, and one byte no frame can fill: a read that fills the
 * buffers is of a frame cut short (tap_read). */
#define TAP_RX_SLACK 5
#define TAP_GSO_MAX 65535 /* the largest IPv4 packet the kernel sends us */
#define TAP_COPYBREAK 32768 /* a GSO frame up to this is copied (tap_read) */
#define TCP_DOFF_BYTE 12 /* offset of TCP's data-offset nibble */
#define UDP_HLEN 8
/* The most datagrams one UDP GSO packet may hold: what Linux sends at most
 * (UDP_MAX_SEGMENTS), and it cuts its GRO packets at fewer. */
#define TAP_UDP_GSO_SEGS_MAX 128
/* Linux 6.2's TUNSETOFFLOAD bits for USO, which older headers lack; the
 * kernel takes them only together. */
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif
#define TAP_FLUSH_MS 1000 /* how long ustack_stop waits for the writer */

struct tap_priv {
	bool vnet;             /* frames carry a struct vnet_hdr */
	struct sk_buff *spare; /* rx buffer kept when a read found nothing */
	struct sk_buff *big;   /* with GRO_HW: the rx buffer for a frame
				  larger than the spare, up to TAP_GSO_MAX */
	struct tap_fault fault; /* seeded faults (tests); off by default */
	bool last_full;        /* the last frame read filled over half an MTU */
	bool tx_thread;        /* large packets go to the writer thread */
	struct tap_tx *tx;     /* its queue, made on first use */
};

/* ---- receive ---------------------------------------------------------- */

/* Room for a whole frame: header, Ethernet, the MTU, a VLAN tag (and a
 * byte more, TAP_RX_SLACK). The MTU the device was made with: one lowered
 * since (SIOCSIFMTU) changes only what ustack sends, as a NIC still
 * receives what its buffers hold (the kernel's side keeps its MTU). */
static unsigned int tap_rx_size(const struct net_device *dev)
{
	struct tap_priv *tp = netdev_priv(dev);
	unsigned int mtu = dev->max_mtu > dev->mtu ? dev->max_mtu : dev->mtu;

	return (tp->vnet ? VNET_HDR_LEN : 0) + ETH_HLEN + mtu + TAP_RX_SLACK;
}

static struct sk_buff *tap_rx_buffer(struct net_device *dev)
{
	struct tap_priv *tp = netdev_priv(dev);
	struct sk_buff *skb = tp->spare;

	if (skb) {
		tp->spare = NULL;
		return skb;
	}
	return us_skb_alloc(dev->st, tap_rx_size(dev));
}

/* With GRO_HW, the buffer the rest of a large frame is read into. */
static struct sk_buff *tap_rx_big(struct net_device *dev)
{
	struct tap_priv *tp = netdev_priv(dev);
	struct sk_buff *skb = tp->big;

	if (!(dev->features & US_NETIF_F_GRO_HW))
		return NULL;
	if (skb) {
		tp->big = NULL;
		return skb;
	}
	return us_skb_alloc(dev->st, VNET_HDR_LEN + ETH_HLEN + TAP_GSO_MAX +
				     TAP_RX_SLACK);
}

/* A partial checksum must lie inside the frame (after the header). */
static bool tap_rx_csum_ok(const struct vnet_hdr *h, unsigned int len)
{
	return (unsigned int)h->csum_start + h->csum_offset + 2u <=
	       len - VNET_HDR_LEN;
}

/*
 * A UDP GSO frame: the size and count go to skb_shinfo for UDP, which
 * cuts it (udp_queue_segments) unless the socket takes it whole. Only an
 * unfragmented IPv4 UDP packet of at most TAP_UDP_GSO_SEGS_MAX datagrams;
 * false for anything else, which is dropped.
 */
static bool tap_rx_udp_gso(struct sk_buff *skb, const struct vnet_hdr *h)
{
	const uint8_t *p = skb->data + VNET_HDR_LEN;
	unsigned int len = skb->len - VNET_HDR_LEN, ihl, segs;

	if (len < ETH_HLEN + 20 + UDP_HLEN || p[12] != 0x08 || p[13] != 0 ||
	    p[ETH_HLEN + 9] != IPPROTO_UDP || !h->gso_size)
		return false;
	ihl = (p[ETH_HLEN] & 0xfu) * 4;
	/* Not a fragment (MF or an offset): one whole UDP packet. */
	if (ihl < 20 || ETH_HLEN + ihl + UDP_HLEN > len ||
	    (p[ETH_HLEN + 6] & 0x3f) || p[ETH_HLEN + 7])
		return false;
	len -= ETH_HLEN + ihl + UDP_HLEN;
	segs = (len + h->gso_size - 1) / h->gso_size;
	if (segs > TAP_UDP_GSO_SEGS_MAX)
		return false;
	/* One datagram's worth is one datagram, not GSO (Linux's
	 * virtio_net_hdr_to_skb). */
	if (len <= h->gso_size)
		return true;
	skb_shinfo(skb)->gso_size = h->gso_size;
	skb_shinfo(skb)->gso_segs = (uint16_t)segs;
	skb_shinfo(skb)->gso_type = SKB_GSO_UDP_L4;
	return true;
}

/*
 * Apply the virtio-net header of a received frame to skb and strip it.
 * Only what TUNSETOFFLOAD allowed may come: a large TCP packet (gso_type
 * TCPV4) with GRO_HW, a UDP one (UDP_L4) with GRO_UDP_L4, a checksum left
 * unfinished with RXCSUM; anything else is not a header we agreed to, and
 * the frame is dropped.
 */
static enum us_drop_reason tap_rx_vnet(struct net_device *dev,
				       struct sk_buff *skb)
{
	unsigned int gso;
	struct vnet_hdr h;

	if (skb->len < VNET_HDR_LEN)
		return US_DROP_DEV_RX_ERROR;
	memcpy(&h, skb->data, sizeof(h));
	gso = h.gso_type & ~VNET_GSO_ECN;
	if (gso == VNET_GSO_UDP_L4) {
		if (!(dev->features & US_NETIF_F_GRO_UDP_L4) ||
		    !tap_rx_udp_gso(skb, &h))
			return US_DROP_DEV_BAD_VNET_HDR;
	} else if (gso != VNET_GSO_NONE &&
		   (gso != VNET_GSO_TCPV4 ||
		    !(dev->features & US_NETIF_F_GRO_HW))) {
		return US_DROP_DEV_BAD_VNET_HDR;
	}
	if (h.flags & VNET_F_NEEDS_CSUM) {
		if (!(dev->features & US_NETIF_F_RXCSUM) ||
		    !tap_rx_csum_ok(&h, skb->len))
			return US_DROP_DEV_BAD_VNET_HDR;
		/* A checksum left for us to finish comes from the kernel's own
		 * stack, which Linux trusts as checked (skb_csum_unnecessary
		 * on CHECKSUM_PARTIAL): nothing crossed a wire. */
		skb->ip_summed = CHECKSUM_UNNECESSARY;
	} else {
		/* DATA_VALID: the kernel already verified the L4 checksum. */
		skb->ip_summed = (h.flags & VNET_F_DATA_VALID) ?
				 CHECKSUM_UNNECESSARY : CHECKSUM_NONE;
	}
	if (gso != VNET_GSO_NONE)
		us_mib_inc(dev->st, US_MIB_DEV_RX_GSO);
	/* A large TCP packet keeps its segments' size, which TCP takes for
	 * the peer's (Linux's virtio_net_hdr_to_skb, then
	 * tcp_measure_rcv_mss). */
	if (gso == VNET_GSO_TCPV4 && h.gso_size) {
		skb_shinfo(skb)->gso_size = h.gso_size;
		skb_shinfo(skb)->gso_type = SKB_GSO_TCPV4;
	}
	skb_pull(skb, VNET_HDR_LEN);
	return US_DROP_NOT_DROPPED;
}

/*
 * One read into the spare buffer, and with GRO_HW on into the big one
 * behind it: a frame up to the MTU lands in the spare whole, and only a
 * larger one has its first part moved into the big buffer. So small
 * frames do not take 64 KB each out of a socket's receive buffer, and
 * large ones cost one read and a copy of one MTU's worth. The buffer
 * that got no frame is kept for the next read. Returns the length read
 * (the frame in *skbp), or -errno with both buffers kept.
 */
static ssize_t tap_read(struct net_device *dev, struct sk_buff **skbp)
{
	struct tap_priv *tp = netdev_priv(dev);
	struct sk_buff *skb = *skbp, *big = tap_rx_big(dev);
	unsigned int room = skb_tailroom(skb);
	struct iovec iov[2] = { { skb->data, room } };
	ssize_t n;

	if (big) {
		iov[1].iov_base = big->data + room;
		iov[1].iov_len = skb_tailroom(big) - room;
	}
	do
		n = readv(dev->fd, iov, big ? 2 : 1);
	while (n < 0 && errno == EINTR);
	/* A frame longer than the buffers (the kernel's side of the TAP
	 * has a larger MTU, and no GRO_HW buffer is behind the spare): the
	 * kernel copied what fit, and says so or the frame's whole length
	 * (tun_put_user has done both). Dropped, as a NIC drops an
	 * oversize frame, rather than handed up cut. */
	if (n > 0 && (size_t)n >= room + (big ? iov[1].iov_len : 0)) {
		tp->big = big;
		tp->spare = skb;
		return -EMSGSIZE;
	}
	tp->last_full = n > 0 && (size_t)n > room / 2;
	if (n < 0 || (size_t)n <= room) {
		n = n < 0 ? -errno : n;
		tp->big = big;
		if (n < 0)
			tp->spare = skb;
		else
			skb_put(skb, (unsigned int)n);
		return n;
	}
	memcpy(big->data, skb->data, room);
	skb_put(big, (unsigned int)n);
	tp->spare = skb;
	/* A GSO frame of a few segments (an application-limited burst)
	 * would hold a 64 KB buffer for a few KB: its truesize, charged to
	 * the socket, would close the window and fill the receive buffer
	 * with what is mostly empty. Copied into a buffer of its size, as
	 * a NIC driver's copybreak; the big one is kept for the next. */
	if ((size_t)n <= TAP_COPYBREAK) {
		struct sk_buff *c = us_skb_alloc(dev->st, (unsigned int)n);

		if (c) {
			us_mib_inc(dev->st, US_MIB_DEV_RX_COPYBREAK);
			skb_put_data(c, big->data, (unsigned int)n);
			skb_trim(big, 0);
			tp->big = big;
			*skbp = c;
			return n;
		}
	}
	*skbp = big;
	return n;
}

/*
 * No buffer for the next frame (the skb pool is full): drop it, as a NIC
 * without a free descriptor does. Left in the kernel's queue it would keep
 * the fd readable, so every reader would wake again at once and read
 * nothing: a spin that also starves the ACKs that would free the memory.
 * A short read takes the frame off the queue whole (tun_do_read frees it
 * whatever it copied). 1 when a frame was dropped, 0 when none waits.
 */
static int tap_rx_drop(struct net_device *dev)
{
	unsigned char b[64];
	ssize_t n;

	do
		n = read(dev->fd, b, sizeof(b));
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno != EINVAL)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
	dev->stats.rx_dropped++;
	us_drop(dev->st, NULL, US_DROP_NOMEM);
	return 1;
}

/*
 * Read one frame. The work it was when one was handled: 1, or for a UDP
 * GSO frame its datagrams, which UDP may cut one by one, so that a poll's
 * budget (and the runtime's hold of the core lock) counts packets, not
 * 64 KB frames of a UDP flood; 0 when none waits; -errno.
 */
static int tap_rx_one(struct net_device *dev)
{
	struct tap_priv *tp = netdev_priv(dev);
	struct sk_buff *skb = tap_rx_buffer(dev);
	uint64_t seq = us_rx_read_begin(dev->st);
	enum us_drop_reason why;
	ssize_t n;
	int r, work;

	if (!skb) {
		r = tap_rx_drop(dev);
		if (r == 0)
			dev->rx_empty_at = seq;
		return r;
	}
	n = tap_read(dev, &skb);
	if (n < 0) {
		if (n == -EAGAIN || n == -EWOULDBLOCK) {
			dev->rx_empty_at = seq;
			return 0;
		}
		if (n == -EMSGSIZE) {
			dev->stats.rx_dropped++;
			us_drop(dev->st, NULL, US_DROP_DEV_RX_TOO_LONG);
			return 1;
		}
		dev->stats.rx_errors++;
		return (int)n;
	}
	why = tp->vnet ? tap_rx_vnet(dev, skb) : US_DROP_NOT_DROPPED;
	if (why != US_DROP_NOT_DROPPED) {
		dev->stats.rx_dropped++;
		us_drop(dev->st, skb, why);
		return 1;
	}
	work = skb_shinfo(skb)->gso_type == SKB_GSO_UDP_L4 && skb_is_gso(skb) ?
	       skb_shinfo(skb)->gso_segs : 1;
	tap_fault_rx(&tp->fault, skb);
	return work;
}

static int tap_poll(struct net_device *dev, int budget)
{
	struct tap_priv *tp = netdev_priv(dev);
	int n = 0;

	/* The frames of one poll are one batch: TCP answers them with one
	 * ACK per connection at its end (tcp_ackbatch.c). */
	us_rx_batch_begin(dev->st);
	while (n < budget) {
		int r = tap_rx_one(dev);

		if (r < 0) {
			us_log(dev->st, US_LOG_DEBUG, "tap %s: read: %s",
			       dev->name, strerror(-r));
			break;
		}
		if (r == 0)
			break;
		n += r;
		/* A thread driving the engine as it waits has its data: it
		 * leaves the rest to others rather than read the device
		 * until EAGAIN (runtime.c, rt_lone_wake). Not after a
		 * large frame (over half an MTU, or GSO): a bulk stream is
		 * in flight, more of it likely waits, and one batch for all
		 * of it is one ACK (tcp_ackbatch.c) where stopping would
		 * cost one per frame. */
		if (!tp->last_full && us_rx_enough(dev->st)) {
			us_mib_inc(dev->st, US_MIB_RT_DRIVEN_EARLY);
			break;
		}
	}
	us_rx_batch_end(dev->st);
	/* What the writer thread has written by now: free it. */
	if (tp->tx)
		tap_tx_reclaim(tp->tx);
	/* The 64 KB buffer goes back to the instance's skb cache between
	 * bursts rather than stay with the device. */
	skb_free(tp->big);
	tp->big = NULL;
	return n;
}

/* ---- transmit --------------------------------------------------------- */

/*
 * Header bytes in front of the payload of a GSO frame: up to the end of
 * the TCP header (from its data offset) or of the UDP header.
 */
static unsigned int tap_gso_hdr_len(const struct sk_buff *skb, int gso_type)
{
	unsigned int th;

	if (skb->transport_header == SKB_HDR_UNSET ||
	    skb_transport_header(skb) < skb->data)
		return 0;
	th = (unsigned int)(skb_transport_header(skb) - skb->data);
	if (gso_type == VNET_GSO_UDP_L4)
		return th + UDP_HLEN <= skb_headlen(skb) ? th + UDP_HLEN : 0;
	if (th + TCP_DOFF_BYTE >= skb_headlen(skb))
		return 0;
	return th + (unsigned int)(skb->data[th + TCP_DOFF_BYTE] >> 4) * 4;
}

/* Where a partial checksum starts, from skb->data; -1 when out of range. */
static int tap_csum_start(const struct sk_buff *skb)
{
	unsigned int start;

	if (skb->csum_start < skb_headroom(skb))
		return -1;
	start = skb->csum_start - skb_headroom(skb);
	if (start + skb->csum_offset + 2u > skb->len)
		return -1;
	return (int)start;
}

/* Fill h for skb (data at the Ethernet header). 0, or a drop reason. */
static enum us_drop_reason tap_tx_vnet(const struct sk_buff *skb,
				       struct vnet_hdr *h)
{
	const struct skb_shared_info *si = skb_shinfo(skb);
	int start;

	memset(h, 0, sizeof(*h));
	if (skb->ip_summed == CHECKSUM_PARTIAL) {
		start = tap_csum_start(skb);
		if (start < 0)
			return US_DROP_DEV_TX_ERROR;
		h->flags = VNET_F_NEEDS_CSUM;
		h->csum_start = (uint16_t)start;
		h->csum_offset = skb->csum_offset;
	}
	if (!si->gso_size)
		return US_DROP_NOT_DROPPED;
	switch (si->gso_type) {
	case SKB_GSO_TCPV4:
		h->gso_type = VNET_GSO_TCPV4;
		break;
	case SKB_GSO_UDP_L4:
		h->gso_type = VNET_GSO_UDP_L4;
		break;
	default:
		return US_DROP_DEV_TX_ERROR;
	}
	/* The kernel can only segment what it may checksum. */
	if (skb->ip_summed != CHECKSUM_PARTIAL)
		return US_DROP_DEV_TX_ERROR;
	/* CWR on the first segment only (Linux's SKB_GSO_TCP_ECN) */
	if (h->gso_type == VNET_GSO_TCPV4 &&
	    skb_headlen(skb) > h->csum_start + 13u &&
	    (skb->data[h->csum_start + 13] & 0x80))
		h->gso_type |= VNET_GSO_ECN;
	h->gso_size = si->gso_size;
	h->hdr_len = (uint16_t)tap_gso_hdr_len(skb, h->gso_type);
	return h->hdr_len ? US_DROP_NOT_DROPPED : US_DROP_DEV_TX_ERROR;
}

/*
 * Without a virtio-net header there is nobody to finish a partial
 * checksum or to segment: the device has no offload bits, so
 * dev_queue_xmit did both in software before we were called.
 */
static enum us_drop_reason tap_tx_plain(const struct sk_buff *skb)
{
	if (skb_is_gso(skb) || skb_is_nonlinear(skb) ||
	    skb->ip_summed == CHECKSUM_PARTIAL)
		return US_DROP_DEV_TX_ERROR;
	return US_DROP_NOT_DROPPED;
}

/*
 * The frame as it is written: tun takes each write as one whole frame. The
 * header goes into the headroom the stack reserved for it
 * (needed_headroom); when there is none, or the data is shared with a
 * clone whose headroom is not ours to write, it is written from the
 * frame's own copy alongside instead.
 */
static void tap_frame_make(struct tap_frame *f, struct sk_buff *skb,
			   const struct vnet_hdr *h)
{
	f->skb = skb;
	f->hdr_len = 0;
	if (!h)
		return;
	if (skb_headroom(skb) >= VNET_HDR_LEN && !skb_shared_data(skb)) {
		memcpy(skb_push(skb, VNET_HDR_LEN), h, VNET_HDR_LEN);
		return;
	}
	memcpy(f->hdr, h, VNET_HDR_LEN);
	f->hdr_len = VNET_HDR_LEN;
}

/*
 * The writer thread takes a large packet (len: before the header), and any
 * frame while it still has one to write, so that frames keep their order
 * (tap_tx.c).
 */
static bool tap_to_thread(const struct tap_priv *tp, const struct sk_buff *skb,
			  unsigned int len)
{
	if (tp->tx && !tap_tx_idle(tp->tx))
		return true;
	return tp->tx_thread && skb_is_gso(skb) && len >= TAP_TX_THREAD_MIN;
}

/*
 * tap_tx_queue, the queue made on first use: 0, -ENOBUFS (full), or
 * another -errno when f was not queued and may be written at once. When
 * the thread cannot be had (no memory, no thread), the device writes
 * everything itself from then on.
 */
static int tap_queue(struct net_device *dev, const struct tap_frame *f)
{
	struct tap_priv *tp = netdev_priv(dev);
	int err;

	if (!tp->tx)
		tp->tx = tap_tx_new(dev);
	err = tp->tx ? tap_tx_queue(tp->tx, f) : -ENOMEM;
	if (err < 0 && err != -ENOBUFS) {
		tp->tx_thread = false;
		us_log(dev->st, US_LOG_WARN, "tap %s: no writer thread (%s): "
		       "frames are written by the senders", dev->name,
		       strerror(-err));
	}
	return err;
}

/* Send one frame: the path under the fault layer. */
static int tap_xmit_now(struct net_device *dev, struct sk_buff *skb)
{
	struct tap_priv *tp = netdev_priv(dev);
	unsigned int len = skb->len;
	enum us_drop_reason why;
	struct tap_frame f;
	struct vnet_hdr h;
	int err = 0;

	why = tp->vnet ? tap_tx_vnet(skb, &h) : tap_tx_plain(skb);
	if (why != US_DROP_NOT_DROPPED) {
		us_drop(dev->st, skb, why);
		return why == US_DROP_NOMEM ? -ENOMEM : -EINVAL;
	}
	tap_frame_make(&f, skb, tp->vnet ? &h : NULL);
	if (tap_to_thread(tp, skb, len)) {
		err = tap_queue(dev, &f);
		if (err == 0)
			return 0;
	}
	if (err != -ENOBUFS)
		err = tap_frame_write(dev->fd, &f);
	if (err == 0) {
		skb_free(skb);
		return 0;
	}
	return tap_frame_dropped(dev, skb, err);
}

static int tap_xmit(struct net_device *dev, struct sk_buff *skb)
{
	struct tap_priv *tp = netdev_priv(dev);

	return tap_fault_xmit(&tp->fault, skb);
}

static bool tap_holds(const struct net_device *dev, const struct sk_buff *seg)
{
	const struct tap_priv *tp = netdev_priv(dev);

	return tp->tx && tap_tx_holds(tp->tx, seg);
}

static void tap_flush(struct net_device *dev)
{
	struct tap_priv *tp = netdev_priv(dev);

	if (tp->tx && !tap_tx_flush(tp->tx, TAP_FLUSH_MS))
		us_log(dev->st, US_LOG_WARN, "tap %s: frames still unwritten "
		       "after %d ms", dev->name, TAP_FLUSH_MS);
}

static void tap_destroy(struct net_device *dev)
{
	struct tap_priv *tp = netdev_priv(dev);

	tap_fault_destroy(&tp->fault);
	/* Before the fd closes: the thread writes what it has first. */
	tap_tx_free(tp->tx);
	tp->tx = NULL;
	skb_free(tp->spare);
	tp->spare = NULL;
	skb_free(tp->big);
	tp->big = NULL;
	if (dev->pcap) {
		pcap_close(dev->pcap);
		dev->pcap = NULL;
	}
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
}

static const struct net_device_ops tap_ops = {
	.xmit = tap_xmit,
	.poll = tap_poll,
	.holds = tap_holds,
	.flush = tap_flush,
	.destroy = tap_destroy,
};

/* ---- setup ------------------------------------------------------------ */

/*
 * What the kernel may write to us (TUNSETOFFLOAD): unfinished checksums,
 * and with GRO_HW large TCP packets too, with GRO_UDP_L4 large UDP ones
 * (USO6 with USO4, as the kernel wants both; IPv6 frames are dropped
 * here anyway). Nothing without RXCSUM.
 */
static unsigned int tap_tun_offloads(uint32_t features)
{
	unsigned int f = 0;

	if (features & US_NETIF_F_RXCSUM) {
		f |= TUN_F_CSUM;
		if (features & US_NETIF_F_GRO_HW)
			f |= TUN_F_TSO4;
		if (features & US_NETIF_F_GRO_UDP_L4)
			f |= TUN_F_USO4 | TUN_F_USO6;
	}
	return f;
}

/*
 * Attach fd to the TAP device `name`, creating it when absent. A kernel
 * before 6.2 refuses USO (EINVAL): then both ways go without it, and
 * *features says so.
 */
static int tap_attach(int fd, const char *name, bool vnet, uint32_t *features)
{
	struct ifreq ifr;
	int sz = VNET_HDR_LEN;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return -errno;
	if (!vnet)
		return 0;
	if (ioctl(fd, TUNSETVNETHDRSZ, &sz) < 0)
		return -errno;
	if (ioctl(fd, TUNSETOFFLOAD, tap_tun_offloads(*features)) == 0)
		return 0;
	if (errno != EINVAL || !(*features & US_NETIF_F_GRO_UDP_L4))
		return -errno;
	*features &= ~(uint32_t)(US_NETIF_F_GSO_UDP_L4 | US_NETIF_F_GRO_UDP_L4);
	if (ioctl(fd, TUNSETOFFLOAD, tap_tun_offloads(*features)) < 0)
		return -errno;
	return 0;
}

/*
 * Set the kernel-side MTU and bring the link up, in this namespace. What
 * is so already is left alone: setting needs CAP_NET_ADMIN, which a
 * program may have dropped before its first socket (iputils ping keeps
 * only CAP_NET_RAW), while attaching to an existing TAP device needs none.
 */
static int tap_link_up(const char *name, unsigned int mtu)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0 || ifr.ifr_mtu != (int)mtu) {
		ifr.ifr_mtu = (int)mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) < 0)
			err = -errno;
	}
	if (!err && ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		err = -errno;
	if (!err && !(ifr.ifr_flags & IFF_UP)) {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
			err = -errno;
	}
	close(s);
	return err;
}

static int tap_open(const struct tap_config *cfg, unsigned int mtu,
		    uint32_t *features, int *fdp)
{
	int fd = open(TAP_DEV_PATH, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	int err;

	if (fd < 0)
		return -errno;
	err = tap_attach(fd, cfg->ifname, !cfg->no_vnet_hdr, features);
	if (!err)
		err = tap_link_up(cfg->ifname, mtu);
	if (err) {
		close(fd);
		return err;
	}
	*fdp = fd;
	return 0;
}

/* A locally administered unicast MAC (IEEE 802: bit 0x02 set, 0x01 clear). */
static void tap_random_mac(struct us_rng *rng, uint8_t *mac)
{
	uint64_t v = us_rng_next(rng);

	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)(v >> (8 * i));
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
}

/* The fault layer's seed: the config's, else one from the stack's
 * generator, drawn only when faults are asked for so that a run without
 * them sees the same random choices as before. */
static uint64_t tap_fault_seed(struct ustack *st, const struct tap_config *cfg)
{
	if (!tap_fault_wanted(cfg->tx_fault) && !tap_fault_wanted(cfg->rx_fault))
		return 0;
	return cfg->fault_seed ? cfg->fault_seed : us_rng_next(&st->rng);
}

/*
 * The offloads this device offers (none without a virtio-net header or
 * with no_offload). The fault layer acts on one frame at a time, so with
 * faults on a direction that direction keeps wire-sized frames.
 */
static uint32_t tap_features(const struct tap_config *cfg)
{
	uint32_t f;

	if (cfg->no_vnet_hdr || cfg->no_offload)
		return 0;
	f = US_NETIF_F_HW_CSUM | US_NETIF_F_RXCSUM;
	if (!tap_fault_wanted(cfg->tx_fault))
		f |= US_NETIF_F_TSO;
	if (!tap_fault_wanted(cfg->rx_fault))
		f |= US_NETIF_F_GRO_HW;
	/* USO both ways or not at all: whether the kernel has it shows only
	 * when we ask it to write USO to us (tap_attach). */
	if ((f & US_NETIF_F_TSO) && (f & US_NETIF_F_GRO_HW))
		f |= US_NETIF_F_GSO_UDP_L4 | US_NETIF_F_GRO_UDP_L4;
	return f;
}

static struct net_device *tap_fail(int *err, int e)
{
	if (err)
		*err = e;
	return NULL;
}

struct net_device *tap_create(struct ustack *st, const struct tap_config *cfg,
			      int *err)
{
	uint32_t features;
	unsigned int mtu;
	struct tap_priv *tp;
	struct net_device *dev;
	int fd = -1, e;

	if (!st || !cfg || !cfg->ifname || !cfg->ifname[0] ||
	    strlen(cfg->ifname) >= IFNAMSIZ)
		return tap_fail(err, -EINVAL);
	if (us_dev_get_by_name(st, cfg->ifname))
		return tap_fail(err, -EEXIST);
	mtu = cfg->mtu ? cfg->mtu : ETH_DATA_LEN;
	features = tap_features(cfg);
	e = tap_open(cfg, mtu, &features, &fd);
	if (e)
		return tap_fail(err, e);
	dev = netdev_alloc(cfg->ifname, sizeof(*tp), &tap_ops);
	if (!dev) {
		close(fd);
		return tap_fail(err, -ENOMEM);
	}
	tp = netdev_priv(dev);
	tp->vnet = !cfg->no_vnet_hdr;
	tp->tx_thread = cfg->tx_thread;
	dev->features = features;
	dev->fd = fd;
	tap_fault_init(&tp->fault, dev, tap_xmit_now, cfg->tx_fault,
		       cfg->rx_fault, tap_fault_seed(st, cfg));
	dev->mtu = mtu;
	dev->flags |= US_IFF_UP;
	dev->needed_headroom = tp->vnet ? VNET_HDR_LEN : 0;
	if (cfg->mac)
		memcpy(dev->dev_addr, cfg->mac, ETH_ALEN);
	else
		tap_random_mac(&st->rng, dev->dev_addr);
	e = netdev_register(st, dev);
	if (e) {
		netdev_unregister(dev);
		return tap_fail(err, e);
	}
	if (err)
		*err = 0;
	return dev;
}
