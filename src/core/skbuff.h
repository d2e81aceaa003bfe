/*
 * skbuff.h - struct sk_buff, one buffer per packet, with Linux's geometry.
 *
 *   head ---- data ======== tail ---- end
 *   headroom   packet bytes  tailroom
 *
 * Each layer pushes its header into the headroom on the way out and pulls it
 * on the way in, so no layer copies a payload. The data area is shared by
 * clones (skb_clone) and carries its own reference count in
 * struct skb_shared_info, placed right after `end` as in Linux.
 *
 * Ownership passes with the call: a function that receives an skb either
 * keeps it (queues it) or frees it, and every drop is counted with a reason
 * (us_drop() in core/stats.h).
 *
 * Allocation is charged to a struct skb_pool, which enforces a memory limit:
 * over the limit skb_alloc() returns NULL and counts the failure.
 */
#ifndef US_CORE_SKBUFF_H
#define US_CORE_SKBUFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"
#include "core/list.h"

struct net_device;
struct sock;

/* Headroom that every packet built by the stack reserves: virtio-net header
 * (12) + Ethernet (14) + IPv4 with options (60) + TCP with options (60),
 * rounded up. */
#define US_SKB_MAX_HEADER 160

enum skb_pkt_type {
	PKT_HOST = 0,      /* to us */
	PKT_BROADCAST = 1,
	PKT_MULTICAST = 2,
	PKT_OTHERHOST = 3, /* to someone else on the link */
	PKT_OUTGOING = 4,
	PKT_LOOPBACK = 5,  /* our own, looped back (a broadcast, a group) */
};

enum skb_csum {
	CHECKSUM_NONE = 0,        /* nothing verified; software must check */
	CHECKSUM_UNNECESSARY = 1, /* the device verified L4 checksums */
	CHECKSUM_PARTIAL = 2,     /* tx: pseudo-header sum is in place; the
				     device finishes from csum_start at
				     csum_start + csum_offset */
};

/* GSO types, numbered as virtio-net's VIRTIO_NET_HDR_GSO_* (Linux's
 * SKB_GSO_TCPV4, SKB_GSO_UDP_L4). */
enum skb_gso_type {
	SKB_GSO_NONE = 0,
	SKB_GSO_TCPV4 = 1,
	SKB_GSO_UDP_L4 = 5, /* datagrams of gso_size, each with its header */
};

struct skb_shared_info {
	int dataref;        /* how many sk_buffs point at this data area */
	uint16_t gso_size;  /* payload bytes per segment, 0 = not GSO */
	uint16_t gso_segs;
	uint16_t gso_type;
	/* More payload after this data area (Linux's frag_list): buffers
	 * chained by frag_next, each owned by this data area, whose bytes
	 * (data..tail) follow ours. Only a GSO packet on its way out has
	 * them; skb->data_len counts their bytes. */
	struct sk_buff *frag_list;
};

/*
 * Recycling: freed structs and data areas wait here for the next
 * allocation instead of going back to malloc, so a steady stream of
 * packets allocates nothing. A cached area is not charged to the pool.
 * The free lists run through the cached memory itself, so the bounds
 * cost nothing until they are used.
 */
#define SKB_CACHE_STRUCTS 8192  /* struct sk_buff kept for reuse */
/* Data-area sizes kept. A bulk sender alone uses five: carved write areas,
 * headers, ACKs, the MSS-sized tail of a write, and received frames. */
#define SKB_CACHE_CLASSES 8
/*
 * Bytes of areas kept at most: room for one connection's largest receive
 * and send buffers (tcp_rmem and tcp_wmem maxima, 6 + 4 MB) and what is in
 * flight, so a bulk transfer's buffers cycle through here: a send buffer
 * of MSS-sized segments is thousands of areas and structs. With 4 MB and
 * 256 areas a class they overflowed to malloc, whose trimming gave the
 * pages back to the kernel and faulted them in again: a third of a
 * wire-bulk profile, and malloc a quarter more.
 */
#define SKB_CACHE_MAX_BYTES (16u << 20)

struct skb_area_class {
	unsigned int size;      /* data bytes of every area here; 0 = free */
	unsigned int count;
	void *first;            /* each cached area starts with the next */
};

struct skb_cache {
	unsigned int nstructs;
	struct sk_buff *structs;  /* linked through skb->frag_next */
	struct skb_area_class classes[SKB_CACHE_CLASSES];
	size_t area_bytes;      /* bytes held in classes */
	uint64_t hits, misses;  /* allocations served from here / malloc */
};

struct skb_pool {
	size_t limit_bytes; /* 0 = unlimited */
	/* Data that sockets queue, to send or received, stops here
	 * (skb_pool_may_queue): the last eighth is kept for frames that
	 * arrive, so that the ACKs that free sent data can always be read. */
	size_t queue_limit;
	size_t used_bytes;  /* truesize of every live sk_buff */
	uint64_t alloc_fail;
	uint64_t live;      /* live sk_buff structs (clones included) */
	/* Made so far: data areas (skb_alloc) and clones (skb_clone); the
	 * stack copies them into its skb.* counters. */
	uint64_t allocs, clones;
	struct skb_cache *cache; /* NULL = malloc and free every time */
};

struct sk_buff {
	struct list_head list;     /* on one sk_buff_head at a time */
	struct net_device *dev;    /* device it arrived on / leaves by */
	struct sock *sk;           /* owning socket, if any */
	/* Called when the skb is freed (e.g. to uncharge sk's send buffer). */
	void (*destructor)(struct sk_buff *skb);
	struct skb_pool *pool;
	us_time_t tstamp;

	unsigned char *head;
	unsigned char *data;
	unsigned char *tail;
	unsigned char *end;
	uint32_t len;              /* tail - data, plus data_len */
	uint32_t data_len;         /* bytes in the frag_list (0 = linear) */
	uint32_t truesize;         /* charged to the pool */
	uint32_t tskey;            /* SO_TIMESTAMPING's key (tx_flags) */
	struct sk_buff *frag_next; /* next on its owner's frag_list */

	/* Header offsets from head; 0xffff = unset. */
	uint16_t mac_header;
	uint16_t network_header;
	uint16_t transport_header;

	uint16_t protocol;         /* ethertype, host byte order */
	uint8_t pkt_type;          /* enum skb_pkt_type */
	uint8_t ip_summed;         /* enum skb_csum */
	uint16_t csum_start;       /* offset from head, for CHECKSUM_PARTIAL */
	uint16_t csum_offset;      /* from csum_start to the checksum field */
	/* Transmit timestamps asked for (SKBTX_*, sock_tstamp.c), with
	 * tskey; kept by clones and copies, as Linux keeps them in the
	 * shared info. */
	uint8_t tx_flags;
	/* A reassembled datagram's largest fragment, its IP length (Linux's
	 * IPCB frag_max_size: IP_RECVFRAGSIZE); 0 for one that came whole. */
	uint16_t frag_max;

	int users;                 /* references to this struct */
	uint32_t mark;             /* SO_MARK of the socket that sent it */
	/* A packet this host sends itself through lo: the interface its
	 * sender asked for (0: none), which it counts as having come in on
	 * (Linux's rt_iif; ip_iif). */
	int iif;

	/* Per-layer scratch space; each layer defines its own view. */
	_Alignas(8) char cb[48];
};

/* sk_buff.tx_flags (Linux's SKBTX_*, and TCP_SKB_CB's txstamp_ack). */
#define SKBTX_SW_TSTAMP    0x1   /* SCM_TSTAMP_SND when the device takes it */
#define SKBTX_SCHED_TSTAMP 0x2   /* SCM_TSTAMP_SCHED at dev_queue_xmit */
#define SKBTX_ACK_TSTAMP   0x4   /* SCM_TSTAMP_ACK (TCP's write queue) */
/* The reports the device level gives. */
#define SKBTX_DEV_TSTAMP (SKBTX_SW_TSTAMP | SKBTX_SCHED_TSTAMP)

struct sk_buff_head {
	struct list_head list;
	uint32_t qlen;
	uint32_t bytes; /* sum of skb->len of the queued buffers (bounded by
			   the owner's limits, socket buffers of <= 4 MiB) */
};

#define SKB_HDR_UNSET 0xffff

void skb_pool_init(struct skb_pool *pool, size_t limit_bytes);
/* Whether `bytes` more of queued data fit below the queue limit (0: the
 * pool is not past it). */
static inline bool skb_pool_may_queue(const struct skb_pool *pool,
				      size_t bytes)
{
	return !pool->queue_limit ||
	       pool->used_bytes + bytes <= pool->queue_limit;
}
/* Turn recycling on (0, or -ENOMEM) / free what the cache holds. */
int skb_pool_cache_init(struct skb_pool *pool);
void skb_pool_destroy(struct skb_pool *pool);

/*
 * Allocate an skb whose data area holds `size` bytes, all of it tailroom.
 * Returns NULL when malloc fails or the pool's limit would be exceeded.
 * `pool` may be NULL (unaccounted, for tests).
 */
struct sk_buff *skb_alloc(struct skb_pool *pool, unsigned int size);
/* The truesize skb_alloc(size) charges: the struct, the data area rounded
 * up, the shared info. */
size_t skb_truesize_of(unsigned int size);

/* The smallest power of two that is at least len and at least min (a
 * power of two itself): a buffer size class. */
static inline unsigned int skb_size_class(unsigned int len, unsigned int min)
{
	unsigned int size = min;

	while (size < len)
		size *= 2;
	return size;
}
/* skb_alloc(headroom + len) then skb_reserve(headroom). */
struct sk_buff *skb_alloc_reserved(struct skb_pool *pool, unsigned int headroom,
				   unsigned int len);
/* Drop one reference; frees the struct, and the data on its last ref. */
void skb_free(struct sk_buff *skb);
/*
 * Release the sending socket's claim on skb now (run its destructor), as
 * when a packet leaves one socket and arrives at another on loopback.
 */
static inline void skb_orphan(struct sk_buff *skb)
{
	if (skb->destructor)
		skb->destructor(skb);
	skb->destructor = NULL;
	skb->sk = NULL;
}
/* Take another reference to the same struct. */
static inline struct sk_buff *skb_get(struct sk_buff *skb)
{
	skb->users++;
	return skb;
}
/* A new struct sharing the data area (the data must then not be written). */
struct sk_buff *skb_clone(struct sk_buff *skb);
/*
 * A clone whose window is len bytes of skb's (linear) data area from
 * `data`, taking `charge` bytes of skb's truesize along: buffers carved
 * out of one area share its charge, so the pool's count stays what the
 * area costs however it is cut (tcp_sendmsg's large writes).
 */
struct sk_buff *skb_clone_part(struct sk_buff *skb, unsigned char *data,
			       unsigned int len, uint32_t charge);
/*
 * Whether pkt, or a buffer on its frag_list, shares seg's data area over
 * seg's bytes: a packet built from seg (a clone with headers pushed, a GSO
 * packet gathering it) that is still waiting somewhere in the stack. An
 * empty seg (a SYN, a FIN) counts where its data pointer falls.
 */
bool skb_holds(const struct sk_buff *pkt, const struct sk_buff *seg);
/* A private copy of struct and data, with the same headroom; a frag_list
 * is copied in after the linear bytes (the copy is linear). */
struct sk_buff *skb_copy(const struct sk_buff *skb);
/* Make skb's data private if it is shared; 0 or -ENOMEM. */
int skb_unshare_data(struct sk_buff *skb);
/*
 * Give a linear skb a data area of its own, headroom bytes in front of its
 * bytes and at least tailroom behind (Linux's pskb_expand_head), for a
 * buffer that must grow past its end or whose area is shared. The old
 * area loses skb's reference. skb->truesize becomes the new area's cost:
 * a socket charged with the old one moves its charge by the difference.
 * 0, or -EINVAL (not linear, too large) / -ENOMEM with skb unchanged.
 */
int skb_expand_linear(struct sk_buff *skb, unsigned int headroom,
		      unsigned int tailroom);

static inline struct skb_shared_info *skb_shinfo(const struct sk_buff *skb)
{
	return (struct skb_shared_info *)skb->end;
}

/* True when another sk_buff points at the same data area. */
static inline bool skb_shared_data(const struct sk_buff *skb)
{
	return skb_shinfo(skb)->dataref > 1;
}

/* Bytes in the data area itself (Linux's skb_headlen). */
static inline unsigned int skb_headlen(const struct sk_buff *skb)
{
	return skb->len - skb->data_len;
}

static inline bool skb_is_nonlinear(const struct sk_buff *skb)
{
	return skb->data_len != 0;
}

static inline bool skb_is_gso(const struct sk_buff *skb)
{
	return skb_shinfo(skb)->gso_size != 0;
}

/*
 * Chain frag (its data..tail) behind skb's payload: skb takes over the
 * reference to frag. skb's data area must not be shared.
 */
void skb_add_frag(struct sk_buff *skb, struct sk_buff *frag);
/* The same behind `last`, the list's tail (NULL while it is empty): O(1)
 * for a caller that builds the list in order. */
void skb_add_frag_after(struct sk_buff *skb, struct sk_buff *last,
			struct sk_buff *frag);

#define skb_walk_frags(skb, f) \
	for ((f) = skb_shinfo(skb)->frag_list; (f); (f) = (f)->frag_next)

static inline unsigned int skb_headroom(const struct sk_buff *skb)
{
	return (unsigned int)(skb->data - skb->head);
}

static inline unsigned int skb_tailroom(const struct sk_buff *skb)
{
	return (unsigned int)(skb->end - skb->tail);
}

/*
 * Geometry. Unlike Linux, which panics, running out of room returns NULL
 * (or -1) and leaves the skb unchanged, so callers drop the packet.
 */
int skb_reserve(struct sk_buff *skb, unsigned int len);  /* only while empty */
unsigned char *skb_put(struct sk_buff *skb, unsigned int len);   /* append */
unsigned char *skb_push(struct sk_buff *skb, unsigned int len);  /* prepend */
unsigned char *skb_pull(struct sk_buff *skb, unsigned int len);  /* strip front */
int skb_trim(struct sk_buff *skb, unsigned int len);     /* cut to len */
/* The same for one with a frag_list too (the frags past the cut freed);
 * -1 when its data area is shared. */
int skb_trim_frags(struct sk_buff *skb, unsigned int len);
/* Append len bytes copied from src; -1 when out of room. */
int skb_put_data(struct sk_buff *skb, const void *src, unsigned int len);

static inline bool skb_may_pull(const struct sk_buff *skb, unsigned int len)
{
	return len <= skb->len;
}

/* Header offsets (stored relative to head, like Linux's offsets). */
static inline void skb_reset_mac_header(struct sk_buff *skb)
{
	skb->mac_header = (uint16_t)(skb->data - skb->head);
}
static inline void skb_reset_network_header(struct sk_buff *skb)
{
	skb->network_header = (uint16_t)(skb->data - skb->head);
}
static inline void skb_reset_transport_header(struct sk_buff *skb)
{
	skb->transport_header = (uint16_t)(skb->data - skb->head);
}
static inline unsigned char *skb_mac_header(const struct sk_buff *skb)
{
	return skb->head + skb->mac_header;
}
static inline unsigned char *skb_network_header(const struct sk_buff *skb)
{
	return skb->head + skb->network_header;
}
static inline unsigned char *skb_transport_header(const struct sk_buff *skb)
{
	return skb->head + skb->transport_header;
}
/* Offset of the network header from data (negative once it was pulled). */
static inline int skb_network_offset(const struct sk_buff *skb)
{
	return (int)(skb_network_header(skb) - skb->data);
}

/* Queues. The "__" variants of Linux are the only ones: the engine's core
 * lock protects every queue. */
void skb_queue_head_init(struct sk_buff_head *q);
void skb_queue_tail(struct sk_buff_head *q, struct sk_buff *skb);
void skb_queue_head(struct sk_buff_head *q, struct sk_buff *skb);
/* Insert skb after `prev`, which is on q. */
void skb_queue_after(struct sk_buff_head *q, struct sk_buff *prev,
		     struct sk_buff *skb);
struct sk_buff *skb_dequeue(struct sk_buff_head *q);
void skb_unlink(struct sk_buff_head *q, struct sk_buff *skb);
/* Free every queued skb. */
void skb_queue_purge(struct sk_buff_head *q);

static inline bool skb_queue_empty(const struct sk_buff_head *q)
{
	return q->qlen == 0;
}
static inline struct sk_buff *skb_peek(const struct sk_buff_head *q)
{
	return q->qlen ? list_entry(q->list.next, struct sk_buff, list) : NULL;
}
static inline struct sk_buff *skb_peek_tail(const struct sk_buff_head *q)
{
	return q->qlen ? list_entry(q->list.prev, struct sk_buff, list) : NULL;
}

/* The skb after skb on q, or NULL at its end. */
static inline struct sk_buff *skb_queue_next(const struct sk_buff_head *q,
					     const struct sk_buff *skb)
{
	return skb->list.next == &q->list ? NULL :
	       list_entry(skb->list.next, struct sk_buff, list);
}

#define skb_queue_walk(q, skb) \
	for ((skb) = list_entry((q)->list.next, struct sk_buff, list); \
	     &(skb)->list != &(q)->list; \
	     (skb) = list_entry((skb)->list.next, struct sk_buff, list))

#define skb_queue_walk_safe(q, skb, tmp) \
	for ((skb) = list_entry((q)->list.next, struct sk_buff, list), \
	     (tmp) = list_entry((skb)->list.next, struct sk_buff, list); \
	     &(skb)->list != &(q)->list; \
	     (skb) = (tmp), (tmp) = list_entry((skb)->list.next, struct sk_buff, list))

#endif
