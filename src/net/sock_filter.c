/*
 * sock_filter.c - classic BPF socket filters: SO_ATTACH_FILTER,
 * SO_DETACH_FILTER, SO_GET_FILTER, SO_LOCK_FILTER's hold on them (Linux's
 * net/core/filter.c for what it keeps of cBPF; the instruction set is
 * McCanne and Jacobson's, "The BSD Packet Filter", USENIX 1993).
 *
 * A program of 1..4096 instructions is checked once, as Linux's
 * bpf_check_classic checks it: only the opcodes Linux takes, jumps that
 * land inside the program, memory cells 0..15 stored before they are
 * loaded on every path, no division by a constant 0, no constant shift of
 * 32 or more, only ancillary loads Linux knows, a RET last. It then runs
 * on every packet the socket is about to take, at its transport header
 * (UDP and TCP) or ICMP header (ping), after the socket was found and
 * before anything else: 0 drops the packet, a smaller value than its
 * length cuts it to that (never into the header), anything else takes it
 * whole (sk_filter_trim_cap).
 *
 * Run time, as Linux's conversion of a classic program: a load past the
 * packet, or from an offset Linux cannot map, ends the program with 0;
 * so does a division by X == 0; shifts by X use its low five bits.
 * Negative offsets reach the network header (SKF_NET_OFF) and the link
 * header (SKF_LL_OFF); SKF_AD_OFF + n reads the skb's metadata.
 *
 * A child of a listener shares the listener's program (sk_clone_lock
 * takes a reference); a program is freed with its last socket.
 */
#include <errno.h>
#include <linux/filter.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/random.h"
#include "dev/netdev.h"
#include "net/sock.h"
#include "stack/stack.h"

struct sk_filter {
	int refcnt;
	uint16_t len;
	struct sock_filter insns[];
};

/* ---- the checker (Linux's bpf_check_classic) ---------------------------- */

static bool bpf_code_allowed(uint16_t code)
{
	switch (code) {
	case BPF_ALU | BPF_ADD | BPF_K: case BPF_ALU | BPF_ADD | BPF_X:
	case BPF_ALU | BPF_SUB | BPF_K: case BPF_ALU | BPF_SUB | BPF_X:
	case BPF_ALU | BPF_MUL | BPF_K: case BPF_ALU | BPF_MUL | BPF_X:
	case BPF_ALU | BPF_DIV | BPF_K: case BPF_ALU | BPF_DIV | BPF_X:
	case BPF_ALU | BPF_MOD | BPF_K: case BPF_ALU | BPF_MOD | BPF_X:
	case BPF_ALU | BPF_AND | BPF_K: case BPF_ALU | BPF_AND | BPF_X:
	case BPF_ALU | BPF_OR | BPF_K: case BPF_ALU | BPF_OR | BPF_X:
	case BPF_ALU | BPF_XOR | BPF_K: case BPF_ALU | BPF_XOR | BPF_X:
	case BPF_ALU | BPF_LSH | BPF_K: case BPF_ALU | BPF_LSH | BPF_X:
	case BPF_ALU | BPF_RSH | BPF_K: case BPF_ALU | BPF_RSH | BPF_X:
	case BPF_ALU | BPF_NEG:
	case BPF_LD | BPF_W | BPF_ABS: case BPF_LD | BPF_H | BPF_ABS:
	case BPF_LD | BPF_B | BPF_ABS:
	case BPF_LD | BPF_W | BPF_IND: case BPF_LD | BPF_H | BPF_IND:
	case BPF_LD | BPF_B | BPF_IND:
	case BPF_LD | BPF_W | BPF_LEN: case BPF_LD | BPF_IMM:
	case BPF_LD | BPF_MEM:
	case BPF_LDX | BPF_W | BPF_LEN: case BPF_LDX | BPF_B | BPF_MSH:
	case BPF_LDX | BPF_IMM: case BPF_LDX | BPF_MEM:
	case BPF_ST: case BPF_STX:
	case BPF_MISC | BPF_TAX: case BPF_MISC | BPF_TXA:
	case BPF_RET | BPF_K: case BPF_RET | BPF_A:
	case BPF_JMP | BPF_JA:
	case BPF_JMP | BPF_JEQ | BPF_K: case BPF_JMP | BPF_JEQ | BPF_X:
	case BPF_JMP | BPF_JGE | BPF_K: case BPF_JMP | BPF_JGE | BPF_X:
	case BPF_JMP | BPF_JGT | BPF_K: case BPF_JMP | BPF_JGT | BPF_X:
	case BPF_JMP | BPF_JSET | BPF_K: case BPF_JMP | BPF_JSET | BPF_X:
		return true;
	default:
		return false;
	}
}

static bool bpf_is_cond_jump(uint16_t code)
{
	return BPF_CLASS(code) == BPF_JMP && BPF_OP(code) != BPF_JA;
}

/* The ancillary loads Linux knows (bpf_anc_helper), each as k. */
static bool bpf_anc_known(uint32_t k)
{
	switch (k) {
	case SKF_AD_OFF + SKF_AD_PROTOCOL: case SKF_AD_OFF + SKF_AD_PKTTYPE:
	case SKF_AD_OFF + SKF_AD_IFINDEX: case SKF_AD_OFF + SKF_AD_NLATTR:
	case SKF_AD_OFF + SKF_AD_NLATTR_NEST: case SKF_AD_OFF + SKF_AD_MARK:
	case SKF_AD_OFF + SKF_AD_QUEUE: case SKF_AD_OFF + SKF_AD_HATYPE:
	case SKF_AD_OFF + SKF_AD_RXHASH: case SKF_AD_OFF + SKF_AD_CPU:
	case SKF_AD_OFF + SKF_AD_ALU_XOR_X: case SKF_AD_OFF + SKF_AD_VLAN_TAG:
	case SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT:
	case SKF_AD_OFF + SKF_AD_PAY_OFFSET: case SKF_AD_OFF + SKF_AD_RANDOM:
	case SKF_AD_OFF + SKF_AD_VLAN_TPID:
		return true;
	default:
		return false;
	}
}

/* Every memory cell a load reads was stored on every path to it
 * (check_load_and_stores): one bit per cell, met at each jump target. */
static int bpf_check_mem(const struct sock_filter *f, unsigned int n)
{
	uint16_t *masks = malloc(n * sizeof(*masks)), valid = 0;
	int rc = 0;

	if (!masks)
		return -ENOMEM;
	memset(masks, 0xff, n * sizeof(*masks));
	for (unsigned int pc = 0; pc < n && !rc; pc++) {
		valid &= masks[pc];
		switch (f[pc].code) {
		case BPF_ST:
		case BPF_STX:
			valid |= (uint16_t)(1u << f[pc].k);
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
			if (!(valid & (1u << f[pc].k)))
				rc = -EINVAL;
			break;
		case BPF_JMP | BPF_JA:
			masks[pc + 1 + f[pc].k] &= valid;
			valid = 0xffff;
			break;
		default:
			if (bpf_is_cond_jump(f[pc].code)) {
				masks[pc + 1 + f[pc].jt] &= valid;
				masks[pc + 1 + f[pc].jf] &= valid;
				valid = 0xffff;
			}
		}
	}
	free(masks);
	return rc;
}

static int bpf_check(const struct sock_filter *f, unsigned int n)
{
	if (n == 0 || n > BPF_MAXINSNS)
		return -EINVAL;
	for (unsigned int pc = 0; pc < n; pc++) {
		uint16_t code = f[pc].code;
		uint32_t k = f[pc].k;

		if (!bpf_code_allowed(code))
			return -EINVAL;
		switch (code) {
		case BPF_ALU | BPF_DIV | BPF_K:
		case BPF_ALU | BPF_MOD | BPF_K:
			if (k == 0)
				return -EINVAL;
			break;
		case BPF_ALU | BPF_LSH | BPF_K:
		case BPF_ALU | BPF_RSH | BPF_K:
			if (k >= 32)
				return -EINVAL;
			break;
		case BPF_LD | BPF_MEM:
		case BPF_LDX | BPF_MEM:
		case BPF_ST:
		case BPF_STX:
			if (k >= BPF_MEMWORDS)
				return -EINVAL;
			break;
		case BPF_JMP | BPF_JA:
			if (k >= n - pc - 1)
				return -EINVAL;
			break;
		case BPF_LD | BPF_W | BPF_ABS:
		case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
			if (k >= (uint32_t)SKF_AD_OFF && !bpf_anc_known(k))
				return -EINVAL;
			break;
		default:
			if (bpf_is_cond_jump(code) &&
			    (pc + f[pc].jt + 1 >= n || pc + f[pc].jf + 1 >= n))
				return -EINVAL;
		}
	}
	if (f[n - 1].code != (BPF_RET | BPF_K) &&
	    f[n - 1].code != (BPF_RET | BPF_A))
		return -EINVAL;
	return bpf_check_mem(f, n);
}

/* ---- the interpreter ---------------------------------------------------- */

/* The packet as the program sees it: from `start` (the transport header)
 * for len bytes, through skb's linear part and its frag_list. */
struct bpf_pkt {
	const struct sk_buff *skb;
	const uint8_t *start;
	uint32_t len;
};

/* size bytes at offset off from the start, into out; false past the end. */
static bool bpf_pkt_read(const struct bpf_pkt *p, uint32_t off, uint32_t size,
			 uint8_t *out)
{
	const struct sk_buff *skb = p->skb, *f;
	uint32_t lin = (uint32_t)(skb->tail - p->start), n;

	if (off > p->len || size > p->len - off)
		return false;
	if (off < lin) {
		n = lin - off < size ? lin - off : size;
		memcpy(out, p->start + off, n);
		out += n;
		size -= n;
		off += n;
	}
	off -= lin;
	skb_walk_frags(skb, f) {
		uint32_t flen = (uint32_t)(f->tail - f->data);

		if (!size)
			break;
		if (off >= flen) {
			off -= flen;
			continue;
		}
		n = flen - off < size ? flen - off : size;
		memcpy(out, f->data + off, n);
		out += n;
		size -= n;
		off = 0;
	}
	return size == 0;
}

/* A header-relative load (SKF_NET_OFF, SKF_LL_OFF): within the linear
 * bytes from that header on (bpf_internal_load_pointer_neg_helper). */
static bool bpf_hdr_read(const struct bpf_pkt *p, int32_t k, uint32_t size,
			 uint8_t *out)
{
	const struct sk_buff *skb = p->skb;
	uint32_t hdr, off, room;

	if (k >= SKF_NET_OFF) {
		hdr = skb->network_header;
		off = (uint32_t)(k - SKF_NET_OFF);
	} else if (k >= SKF_LL_OFF) {
		hdr = skb->mac_header;
		off = (uint32_t)(k - SKF_LL_OFF);
	} else {
		return false;
	}
	/* (offsets from head compared, no pointer formed past the end) */
	room = (uint32_t)(skb->tail - skb->head);
	if (hdr == SKB_HDR_UNSET || hdr > room || off > room - hdr ||
	    size > room - hdr - off)
		return false;
	memcpy(out, skb->head + hdr + off, size);
	return true;
}

static bool bpf_load(const struct bpf_pkt *p, int32_t k, uint32_t size,
		     uint32_t *a)
{
	uint8_t b[4];

	if (k >= 0 ? !bpf_pkt_read(p, (uint32_t)k, size, b)
		   : !bpf_hdr_read(p, k, size, b))
		return false;
	*a = size == 4 ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
			 (uint32_t)b[2] << 8 | b[3]
	   : size == 2 ? (uint32_t)b[0] << 8 | b[1] : b[0];
	return true;
}

/* Netlink attributes from offset a of the packet (nla_find): the offset
 * of the first of type x, or 0. */
static uint32_t bpf_nla_find(const uint8_t *data, uint32_t len, uint32_t a,
			     uint32_t x)
{
	uint32_t rem, off = a;

	if (a > len)
		return 0;
	rem = len - a;
	while (rem >= 4) {
		uint16_t nla_len, nla_type;

		memcpy(&nla_len, data + off, 2);
		memcpy(&nla_type, data + off + 2, 2);
		if (nla_len < 4 || nla_len > rem)
			break;
		if ((nla_type & 0x3fff) == x)
			return off;
		nla_len = (uint16_t)((nla_len + 3u) & ~3u);
		if (nla_len >= rem)
			break;
		off += nla_len;
		rem -= nla_len;
	}
	return 0;
}

/* Where the payload starts, from the program's offset 0 (Linux's
 * skb_get_poff): past the transport header, TCP's with its options. */
static uint32_t bpf_pay_offset(const struct bpf_pkt *p)
{
	const struct sk_buff *skb = p->skb;
	const uint8_t *th;
	uint32_t off, hl;

	if (skb->network_header == SKB_HDR_UNSET ||
	    skb->transport_header == SKB_HDR_UNSET)
		return 0;
	th = skb_transport_header(skb);
	off = (uint32_t)(th - p->start);
	switch (skb_network_header(skb)[9]) {
	case IPPROTO_TCP:
		if (th + 13 > skb->tail)
			return 0;
		hl = (uint32_t)(th[12] >> 4) * 4;
		return off + (hl > 20 ? hl : 20);
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_IGMP:
		return off + 8;
	default:
		return off;
	}
}

static uint32_t bpf_ancillary(const struct bpf_pkt *p, uint32_t k,
			      uint32_t a, uint32_t x)
{
	const struct sk_buff *skb = p->skb;
	uint32_t lin = (uint32_t)(skb->tail - p->start);

	switch (k - (uint32_t)SKF_AD_OFF) {
	case SKF_AD_PROTOCOL:
		return skb->protocol;
	case SKF_AD_PKTTYPE:
		return skb->pkt_type;
	case SKF_AD_IFINDEX:
		return skb->dev ? (uint32_t)skb->dev->ifindex : 0;
	case SKF_AD_MARK:
		return skb->mark;
	case SKF_AD_HATYPE:
		return skb->dev ? skb->dev->type : 0;   /* (ARPHRD_*) */
	case SKF_AD_ALU_XOR_X:
		return a ^ x;
	case SKF_AD_RANDOM:
		return (uint32_t)us_rng_next(&skb->dev->st->rng);
	case SKF_AD_NLATTR:
		return skb_is_nonlinear(skb) ? 0 :
		       bpf_nla_find(p->start, lin, a, x);
	case SKF_AD_NLATTR_NEST: {
		uint16_t nla_len;

		if (skb_is_nonlinear(skb) || a > lin || lin - a < 4)
			return 0;
		memcpy(&nla_len, p->start + a, 2);
		if (nla_len > lin - a)
			return 0;
		/* (within the nested attribute's payload) */
		return bpf_nla_find(p->start, a + nla_len, a + 4, x);
	}
	case SKF_AD_PAY_OFFSET:
		return bpf_pay_offset(p);
	case SKF_AD_CPU:
		/* The CPU that runs the program, as Linux's
		 * raw_smp_processor_id (a reuseport program steers by it). */
		return (uint32_t)sched_getcpu();
	default:
		/* QUEUE, RXHASH, the VLAN ones: nothing here to report (one
		 * queue, no hash, no VLANs). */
		return 0;
	}
}

/* The program's verdict on the packet (Linux's bpf_prog_run on the
 * converted program): the bytes to keep, 0 to drop. */
static uint32_t bpf_run(const struct sk_filter *fp, const struct bpf_pkt *p)
{
	const struct sock_filter *f = fp->insns;
	uint32_t a = 0, x = 0, mem[BPF_MEMWORDS] = { 0 }, t;

	for (unsigned int pc = 0; pc < fp->len; pc++) {
		uint32_t k = f[pc].k;
		uint32_t src = BPF_SRC(f[pc].code) == BPF_X ? x : k;

		switch (f[pc].code) {
		case BPF_ALU | BPF_ADD | BPF_K: case BPF_ALU | BPF_ADD | BPF_X:
			a += src;
			break;
		case BPF_ALU | BPF_SUB | BPF_K: case BPF_ALU | BPF_SUB | BPF_X:
			a -= src;
			break;
		case BPF_ALU | BPF_MUL | BPF_K: case BPF_ALU | BPF_MUL | BPF_X:
			a *= src;
			break;
		case BPF_ALU | BPF_DIV | BPF_K: case BPF_ALU | BPF_DIV | BPF_X:
			if (!src)
				return 0;
			a /= src;
			break;
		case BPF_ALU | BPF_MOD | BPF_K: case BPF_ALU | BPF_MOD | BPF_X:
			if (!src)
				return 0;
			a %= src;
			break;
		case BPF_ALU | BPF_AND | BPF_K: case BPF_ALU | BPF_AND | BPF_X:
			a &= src;
			break;
		case BPF_ALU | BPF_OR | BPF_K: case BPF_ALU | BPF_OR | BPF_X:
			a |= src;
			break;
		case BPF_ALU | BPF_XOR | BPF_K: case BPF_ALU | BPF_XOR | BPF_X:
			a ^= src;
			break;
		case BPF_ALU | BPF_LSH | BPF_K: case BPF_ALU | BPF_LSH | BPF_X:
			a <<= src & 31;
			break;
		case BPF_ALU | BPF_RSH | BPF_K: case BPF_ALU | BPF_RSH | BPF_X:
			a >>= src & 31;
			break;
		case BPF_ALU | BPF_NEG:
			a = 0u - a;
			break;
		case BPF_LD | BPF_W | BPF_ABS: case BPF_LD | BPF_H | BPF_ABS:
		case BPF_LD | BPF_B | BPF_ABS:
			if (k >= (uint32_t)SKF_AD_OFF) {
				a = bpf_ancillary(p, k, a, x);
				break;
			}
			/* fall through */
		case BPF_LD | BPF_W | BPF_IND: case BPF_LD | BPF_H | BPF_IND:
		case BPF_LD | BPF_B | BPF_IND: {
			uint32_t size = BPF_SIZE(f[pc].code) == BPF_W ? 4 :
					BPF_SIZE(f[pc].code) == BPF_H ? 2 : 1;

			t = BPF_MODE(f[pc].code) == BPF_IND ? x + k : k;
			if (!bpf_load(p, (int32_t)t, size, &a))
				return 0;
			break;
		}
		case BPF_LD | BPF_W | BPF_LEN:
			a = p->len;
			break;
		case BPF_LDX | BPF_W | BPF_LEN:
			x = p->len;
			break;
		case BPF_LD | BPF_IMM:
			a = k;
			break;
		case BPF_LDX | BPF_IMM:
			x = k;
			break;
		case BPF_LD | BPF_MEM:
			a = mem[k];
			break;
		case BPF_LDX | BPF_MEM:
			x = mem[k];
			break;
		case BPF_LDX | BPF_B | BPF_MSH:
			if (!bpf_load(p, (int32_t)k, 1, &t))
				return 0;
			x = (t & 0xf) << 2;
			break;
		case BPF_ST:
			mem[k] = a;
			break;
		case BPF_STX:
			mem[k] = x;
			break;
		case BPF_MISC | BPF_TAX:
			x = a;
			break;
		case BPF_MISC | BPF_TXA:
			a = x;
			break;
		case BPF_RET | BPF_K:
			return k;
		case BPF_RET | BPF_A:
			return a;
		case BPF_JMP | BPF_JA:
			pc += k;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K: case BPF_JMP | BPF_JEQ | BPF_X:
			pc += a == src ? f[pc].jt : f[pc].jf;
			break;
		case BPF_JMP | BPF_JGT | BPF_K: case BPF_JMP | BPF_JGT | BPF_X:
			pc += a > src ? f[pc].jt : f[pc].jf;
			break;
		case BPF_JMP | BPF_JGE | BPF_K: case BPF_JMP | BPF_JGE | BPF_X:
			pc += a >= src ? f[pc].jt : f[pc].jf;
			break;
		case BPF_JMP | BPF_JSET | BPF_K: case BPF_JMP | BPF_JSET | BPF_X:
			pc += (a & src) ? f[pc].jt : f[pc].jf;
			break;
		default:
			return 0;   /* (the checker let none other in) */
		}
	}
	return 0;   /* (a RET ends every checked program) */
}

/* ---- the socket's program ------------------------------------------------ */

static struct sk_filter *sk_filter_of(const struct sock *sk)
{
	const struct sock_ext *e = sk->filter ? sock_ext(sk, false) : NULL;

	return e ? e->filter : NULL;
}

void sk_filter_put(struct sk_filter *fp)
{
	if (fp && --fp->refcnt == 0)
		free(fp);
}

static int sk_filter_set(struct sock *sk, struct sk_filter *fp)
{
	struct sock_ext *e = sock_ext(sk, fp != NULL);

	if (!e) {
		sk_filter_put(fp);
		return fp ? -ENOMEM : 0;
	}
	sk_filter_put(e->filter);
	e->filter = fp;
	sk->filter = fp != NULL;
	return 0;
}

int sk_fprog_copy(const void *optval, socklen_t optlen,
		  struct sock_fprog *prog)
{
	if (optlen != sizeof(*prog))
		return -EINVAL;
	if (!optval)
		return -EFAULT;
	memcpy(prog, optval, sizeof(*prog));
	return 0;
}

int sk_filter_create(const struct sock_fprog *prog, struct sk_filter **out)
{
	struct sk_filter *fp;
	int rc;

	if (!prog->filter || prog->len == 0 || prog->len > BPF_MAXINSNS)
		return -EINVAL;
	fp = malloc(sizeof(*fp) + prog->len * sizeof(fp->insns[0]));
	if (!fp)
		return -ENOMEM;
	fp->refcnt = 1;
	fp->len = prog->len;
	memcpy(fp->insns, prog->filter, prog->len * sizeof(fp->insns[0]));
	rc = bpf_check(fp->insns, fp->len);
	if (rc) {
		free(fp);
		return rc;
	}
	*out = fp;
	return 0;
}

/* Linux's sk_attach_filter, its checks in order: the struct's size, the
 * lock (SO_LOCK_FILTER), the length and pointer, the program. */
int sk_attach_filter(struct sock *sk, const void *optval, socklen_t optlen,
		     bool locked)
{
	struct sock_fprog prog;
	struct sk_filter *fp;
	int rc = sk_fprog_copy(optval, optlen, &prog);

	if (rc)
		return rc;
	if (locked)
		return -EPERM;
	rc = sk_filter_create(&prog, &fp);
	return rc ? rc : sk_filter_set(sk, fp);
}

int sk_detach_filter(struct sock *sk, bool locked)
{
	if (locked)
		return -EPERM;
	if (!sk->filter)
		return -ENOENT;
	return sk_filter_set(sk, NULL);
}

int sk_get_filter(struct sock *sk, void *optval, socklen_t *optlen)
{
	const struct sk_filter *fp = sk_filter_of(sk);
	socklen_t room = *optlen;

	/* (In instructions: Linux's sk_get_filter.) */
	if (!fp) {
		*optlen = 0;
		return 0;
	}
	if (room && room < fp->len)
		return -EINVAL;
	if (room && !optval)
		return -EFAULT;
	if (room)
		memcpy(optval, fp->insns, fp->len * sizeof(fp->insns[0]));
	*optlen = fp->len;
	return 0;
}

void sk_filter_clone(struct sock *sk, const struct sock *parent)
{
	struct sk_filter *fp = sk_filter_of(parent);

	if (fp == sk_filter_of(sk))
		return;
	if (fp)
		fp->refcnt++;
	(void)sk_filter_set(sk, fp);
}

void sk_filter_release(struct sock_ext *e)
{
	sk_filter_put(e->filter);
	e->filter = NULL;
}

uint32_t sk_filter_run_prog(const struct sk_filter *fp,
			    const struct sk_buff *skb, const uint8_t *start)
{
	struct bpf_pkt p = { skb, start,
			     (uint32_t)(skb->len + (skb->data - start)) };

	return bpf_run(fp, &p);
}

uint32_t sk_filter_run(const struct sock *sk, const struct sk_buff *skb,
		       const uint8_t *start)
{
	const struct sk_filter *fp = sk_filter_of(sk);

	return fp ? sk_filter_run_prog(fp, skb, start) : UINT32_MAX;
}

bool sk_filter_trim(const struct sock *sk, struct sk_buff *skb,
		    const uint8_t *start, uint32_t cap)
{
	uint32_t before = (uint32_t)(skb->data - start);
	uint32_t keep = sk_filter_run(sk, skb, start);

	if (!keep)
		return false;
	if (keep < cap)
		keep = cap;
	if (keep < before + skb->len &&
	    skb_trim_frags(skb, keep > before ? keep - before : 0) < 0)
		return false;   /* (a shared frag_list is not cut: dropped) */
	return true;
}
