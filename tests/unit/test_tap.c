/*
 * test_tap.c - the TAP device against the real kernel, inside a network
 * namespace this test creates (never the host's).
 *
 * The process first enters a new network namespace: plain
 * unshare(CLONE_NEWNET) as root, else a new user namespace too, mapping
 * its uid/gid to root in it. When neither works every test is skipped
 * with the reason, and the binary exits 77 (the runner's "skipped").
 *
 * The kernel side of the TAP is watched with an AF_PACKET socket bound to
 * it. Checked: the link comes up with the requested MTU, nonblocking fd,
 * headroom for the virtio-net header, MAC from the config or random local
 * unicast; a frame ustack sends arrives byte-exact (header stripped), from
 * the headroom path, the zero-headroom path and a shared clone; the header
 * carries NEEDS_CSUM/csum_start/csum_offset and GSO fields, as the kernel
 * reads them back; a frame the kernel side sends arrives through
 * ops->poll; a kernel UDP datagram arrives with a valid checksum, and once
 * the kernel is (behind the driver's back) allowed to send unfinished
 * checksums the frame is dropped as a bad vnet header; the no_vnet_hdr
 * path both ways, with a partial checksum finished in software; with
 * offloads on (the default) the feature bits and TUNSETOFFLOAD agree, a
 * TSO packet built as TCP builds it (headers in the head, the payload on
 * the frag_list) reaches the kernel as one frame with the GSO fields, and
 * the same packet on a device without offloads is cut into segments with
 * their own checksums and sequence numbers; a GSO packet the kernel sends
 * arrives whole, its unfinished checksum taken as checked, and as
 * checksummed wire-sized segments with offloads off; a full
 * kernel queue (simulated with a full pipe) drops and counts; the kernel
 * device disappears when ustack lets go of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/checksum.h"
#include "dev/fault.h"
#include "dev/netdev.h"
#include "dev/tap.h"
#include "net/ipv4.h"
#include "lib/netns.h"
#include "lib/pcapread.h"
#include "lib/testnet.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define T0 (1000 * US_USEC_PER_SEC)
#define IFNAME "ustap0"
#define ETHERTYPE_TEST 0x88b5
#define WAIT_MS 3000
#define VNET_HLEN 12   /* the virtio-net header ustack writes */

/* The 10-byte header a packet socket reads with PACKET_VNET_HDR. */
struct pkt_vnet_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
};

static char skip_reason[160];

struct tap_fixture {
	struct us_clock clock;
	struct ustack *st;
	struct net_device *dev;
	int pkt;            /* AF_PACKET socket on the kernel side */
	int pipe[2];        /* a pipe standing in for the TAP as dev->fd,
			       and the TAP's own fd meanwhile: put back on
			       the way down, the read end closed first so
			       that a writer thread blocked on it ends */
	int tap_fd;
	uint8_t kmac[6];    /* the kernel's MAC on the TAP */
	char cap[64];
};

static struct tap_fixture F;

/* ---- the namespace ---------------------------------------------------- */

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

/* A user namespace where we are root, so that a network one may follow. */
static int enter_userns(void)
{
	uid_t uid = getuid();
	gid_t gid = getgid();
	char map[64];

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return -errno;
	if (write_file("/proc/self/setgroups", "deny") < 0)
		return -EPERM;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		return -EPERM;
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	if (write_file("/proc/self/gid_map", map) < 0)
		return -EPERM;
	return 0;
}

static int group_setup(void **state)
{
	int fd, e1, e2;

	(void)state;
	if (unshare(CLONE_NEWNET) < 0) {
		e1 = errno;
		e2 = enter_userns();
		if (e2 < 0) {
			snprintf(skip_reason, sizeof(skip_reason),
				 "cannot create a network namespace: "
				 "unshare(CLONE_NEWNET): %s; with CLONE_NEWUSER: %s",
				 strerror(e1), strerror(-e2));
			return 0;
		}
	}
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(skip_reason, sizeof(skip_reason),
			 "cannot open /dev/net/tun: %s", strerror(errno));
		return 0;
	}
	close(fd);
	/* No frames of the kernel's own on the test's TAPs. */
	netns_no_ipv6();
	return 0;
}

/* ---- kernel-side helpers ---------------------------------------------- */

static int ctl_sock(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	return s;
}

static void kernel_ifreq(const char *name, unsigned long req, struct ifreq *ifr)
{
	int s = ctl_sock();

	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, sizeof(ifr->ifr_name), "%s", name);
	assert_int_equal(ioctl(s, req, ifr), 0);
	close(s);
}

/* An AF_PACKET socket on ifname that sees only frames arriving from the
 * TAP (what ustack sent), not the kernel's own. */
static int packet_socket(const char *ifname, bool vnet)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	int one = 1;
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));

	assert_true(s >= 0);
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	assert_true(sll.sll_ifindex > 0);
	assert_int_equal(setsockopt(s, SOL_PACKET, PACKET_IGNORE_OUTGOING,
				    &one, sizeof(one)), 0);
	if (vnet)
		assert_int_equal(setsockopt(s, SOL_PACKET, PACKET_VNET_HDR,
					    &one, sizeof(one)), 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return s;
}

static bool wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/*
 * The next frame of `ethertype` on the packet socket (after `skip` bytes
 * of vnet header), or -1 after WAIT_MS. Other traffic is skipped.
 */
static ssize_t recv_frame(int s, uint8_t *buf, size_t cap, size_t skip,
			  uint16_t ethertype)
{
	for (;;) {
		ssize_t n;

		if (!wait_readable(s, WAIT_MS))
			return -1;
		n = recv(s, buf, cap, 0);
		if (n >= (ssize_t)(skip + 14) &&
		    buf[skip + 12] == ethertype >> 8 &&
		    buf[skip + 13] == (ethertype & 0xff))
			return n;
	}
}

/* ---- fixture ---------------------------------------------------------- */

static void fixture_up(const struct tap_config *cfg)
{
	struct ustack_config sc;
	struct ifreq ifr;
	int err = 1;

	memset(&F, 0, sizeof(F));
	F.pkt = -1;
	F.pipe[0] = F.pipe[1] = -1;
	us_clock_init_virtual(&F.clock, T0);
	ustack_config_init(&sc);
	sc.clock = &F.clock;
	sc.seed = 1;
	sc.log_level = 0;
	F.st = ustack_create(&sc);
	assert_non_null(F.st);
	F.dev = tap_create(F.st, cfg, &err);
	assert_int_equal(err, 0);
	assert_non_null(F.dev);
	kernel_ifreq(cfg->ifname, SIOCGIFHWADDR, &ifr);
	memcpy(F.kmac, ifr.ifr_hwaddr.sa_data, 6);
	tp_capture(F.dev, F.cap, sizeof(F.cap));
}

static void fixture_down(void)
{
	if (F.pkt >= 0)
		close(F.pkt);
	F.pkt = -1;
	if (F.pipe[0] >= 0) {
		close(F.pipe[0]);
		F.dev->fd = F.tap_fd;
	}
	ustack_destroy(F.st);
	if (F.pipe[1] >= 0)
		close(F.pipe[1]);
	F.pipe[0] = F.pipe[1] = -1;
	F.st = NULL;
	if (F.cap[0])
		unlink(F.cap);
	F.cap[0] = '\0';
}

/* After a failed test too, so the next one finds no device left over. */
static int teardown(void **state)
{
	(void)state;
	if (F.st)
		fixture_down();
	return 0;
}

static void default_up(bool vnet)
{
	struct tap_config cfg = { .ifname = IFNAME, .no_vnet_hdr = !vnet };

	fixture_up(&cfg);
	F.pkt = packet_socket(IFNAME, false);
}

#define SKIP_WITHOUT_NETNS() \
	do { \
		if (skip_reason[0]) { \
			print_message("skipped: %s\n", skip_reason); \
			skip(); \
		} \
	} while (0)

/* ---- frames ----------------------------------------------------------- */

static void fill_frame(uint8_t *p, size_t len, const uint8_t *dst,
		       const uint8_t *src, uint8_t seed)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	p[12] = ETHERTYPE_TEST >> 8;
	p[13] = ETHERTYPE_TEST & 0xff;
	for (size_t i = 14; i < len; i++)
		p[i] = (uint8_t)(seed + i * 3);
}

/* An skb holding a test frame, with `headroom` bytes in front. */
static struct sk_buff *frame_skb(unsigned headroom, size_t len, uint8_t seed)
{
	struct sk_buff *skb = skb_alloc_reserved(&F.st->skb_pool, headroom,
						 (unsigned)len);

	assert_non_null(skb);
	fill_frame(skb_put(skb, (unsigned)len), len, F.kmac, F.dev->dev_addr,
		   seed);
	skb->dev = F.dev;
	return skb;
}

/*
 * Ethernet + IPv4 + UDP (8 + plen bytes) from 10.77.0.2 to 10.77.0.1, with
 * the pseudo-header sum in the checksum field and CHECKSUM_PARTIAL, as a
 * stack with checksum offload builds it. Returns the frame length.
 */
static size_t udp_partial_skb(struct sk_buff **out, size_t plen)
{
	size_t ulen = 8 + plen, len = 14 + 20 + ulen;
	struct sk_buff *skb = us_skb_alloc(F.st, (unsigned)len);
	uint32_t sa = inet_addr("10.77.0.2"), da = inet_addr("10.77.0.1");
	uint8_t *p, *ip, *udp;
	uint16_t sum;

	assert_non_null(skb);
	p = skb_put(skb, (unsigned)len);
	memset(p, 0, len);
	memcpy(p, F.kmac, 6);
	memcpy(p + 6, F.dev->dev_addr, 6);
	p[12] = 0x08;
	ip = p + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + ulen) >> 8);
	ip[3] = (uint8_t)(20 + ulen);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, &sa, 4);
	memcpy(ip + 16, &da, 4);
	sum = inet_csum(ip, 20);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	udp = ip + 20;
	udp[0] = 0x30;   /* port 12345 */
	udp[1] = 0x39;
	udp[3] = 9;      /* discard */
	udp[4] = (uint8_t)(ulen >> 8);
	udp[5] = (uint8_t)ulen;
	for (size_t i = 0; i < plen; i++)
		udp[8 + i] = (uint8_t)(i * 5 + 1);
	/* The folded, uncomplemented pseudo-header sum. */
	sum = (uint16_t)~csum_fold(csum_tcpudp_nofold(sa, da, 17,
						      (uint16_t)ulen, 0));
	udp[6] = (uint8_t)(sum >> 8);
	udp[7] = (uint8_t)sum;
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = (uint16_t)(skb_headroom(skb) + 34);
	skb->csum_offset = 6;
	skb->transport_header = skb->csum_start;
	skb->dev = F.dev;
	*out = skb;
	return len;
}

/* True when the UDP/IPv4 datagram at ip has a correct checksum. */
static bool udp_csum_ok(const uint8_t *ip)
{
	uint32_t sa, da;
	uint16_t ulen = (uint16_t)(ip[24] << 8 | ip[25]);

	memcpy(&sa, ip + 12, 4);
	memcpy(&da, ip + 16, 4);
	return csum_fold(csum_partial(ip + 20, ulen,
				      csum_tcpudp_nofold(sa, da, 17, ulen, 0))) == 0;
}

/* ---- tests ------------------------------------------------------------ */

static void test_create_brings_link_up(void **state)
{
	static const uint8_t mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	struct tap_config cfg = { .ifname = IFNAME, .mtu = 1400, .mac = mac };
	struct tap_config again = { .ifname = IFNAME };
	struct tap_config bad = { .ifname = "a-name-far-too-long" };
	struct ifreq ifr;
	int err = 0;

	(void)state;
	SKIP_WITHOUT_NETNS();
	fixture_up(&cfg);
	assert_string_equal(F.dev->name, IFNAME);
	assert_true(F.dev->fd >= 0);
	assert_true(fcntl(F.dev->fd, F_GETFL) & O_NONBLOCK);
	assert_int_equal(F.dev->mtu, 1400);
	assert_int_equal(F.dev->needed_headroom, 12);
	assert_int_equal(F.dev->type, US_ARPHRD_ETHER);
	assert_true(F.dev->flags & US_IFF_UP);
	assert_memory_equal(F.dev->dev_addr, mac, 6);
	assert_ptr_equal(us_dev_get_by_name(F.st, IFNAME), F.dev);
	/* The kernel side: up, with the MTU asked for. */
	kernel_ifreq(IFNAME, SIOCGIFMTU, &ifr);
	assert_int_equal(ifr.ifr_mtu, 1400);
	kernel_ifreq(IFNAME, SIOCGIFFLAGS, &ifr);
	assert_true(ifr.ifr_flags & IFF_UP);

	assert_null(tap_create(F.st, &again, &err));
	assert_int_equal(err, -EEXIST);
	assert_null(tap_create(F.st, &bad, &err));
	assert_int_equal(err, -EINVAL);
	fixture_down();
	/* Not persistent: the device goes with ustack's fd. */
	assert_int_equal(if_nametoindex(IFNAME), 0);
}

static void test_random_mac(void **state)
{
	uint8_t first[6];

	(void)state;
	SKIP_WITHOUT_NETNS();
	default_up(true);
	assert_int_equal(F.dev->dev_addr[0] & 0x03, 0x02); /* local unicast */
	assert_false(F.dev->dev_addr[1] == 0 && F.dev->dev_addr[2] == 0 &&
		     F.dev->dev_addr[3] == 0 && F.dev->dev_addr[4] == 0);
	assert_memory_not_equal(F.dev->dev_addr, F.kmac, 6);
	memcpy(first, F.dev->dev_addr, 6);
	fixture_down();
	/* From the stack's seeded generator: the same seed, the same MAC. */
	default_up(true);
	assert_memory_equal(F.dev->dev_addr, first, 6);
	fixture_down();
}

/* ustack -> kernel, byte-exact, by each transmit path. */
static void check_tx_paths(void)
{
	uint8_t expect[300], buf[400];
	struct sk_buff *skb, *clone;
	ssize_t n;

	/* Enough headroom: the header is pushed in front of the frame. */
	skb = frame_skb(US_SKB_MAX_HEADER, 300, 1);
	memcpy(expect, skb->data, 300);
	assert_int_equal(dev_queue_xmit(skb), 0);
	n = recv_frame(F.pkt, buf, sizeof(buf), 0, ETHERTYPE_TEST);
	assert_int_equal(n, 300);
	assert_memory_equal(buf, expect, 300);

	/* No headroom at all. */
	skb = frame_skb(0, 300, 2);
	memcpy(expect, skb->data, 300);
	assert_int_equal(dev_queue_xmit(skb), 0);
	n = recv_frame(F.pkt, buf, sizeof(buf), 0, ETHERTYPE_TEST);
	assert_int_equal(n, 300);
	assert_memory_equal(buf, expect, 300);

	/* Data shared with a clone the sender keeps: left untouched. */
	skb = frame_skb(US_SKB_MAX_HEADER, 300, 3);
	clone = skb_clone(skb);
	memcpy(expect, skb->data, 300);
	assert_int_equal(dev_queue_xmit(skb), 0);
	n = recv_frame(F.pkt, buf, sizeof(buf), 0, ETHERTYPE_TEST);
	assert_int_equal(n, 300);
	assert_memory_equal(buf, expect, 300);
	assert_memory_equal(clone->data, expect, 300);
	skb_free(clone);

	assert_int_equal(F.dev->stats.tx_packets, 3);
	assert_int_equal(F.dev->stats.tx_bytes, 900);
}

static void test_tx_byte_exact(void **state)
{
	(void)state;
	SKIP_WITHOUT_NETNS();
	default_up(true);
	check_tx_paths();
	fixture_down();
}

/* kernel -> ustack: what the packet socket sends comes out of ops->poll. */
static void check_rx(void)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	uint8_t frame[200];
	struct tp_file f;
	int found = -1;

	to.sll_ifindex = (int)if_nametoindex(IFNAME);
	fill_frame(frame, sizeof(frame), F.dev->dev_addr, F.kmac, 9);
	assert_int_equal(sendto(F.pkt, frame, sizeof(frame), 0,
				(struct sockaddr *)&to, sizeof(to)),
			 sizeof(frame));
	assert_true(wait_readable(F.dev->fd, WAIT_MS));
	assert_true(F.dev->ops->poll(F.dev, 64) >= 1);
	assert_true(F.dev->stats.rx_packets >= 1);

	tp_capture_read(F.dev, F.cap, &f);
	for (int i = 0; i < f.n; i++)
		if (f.rec[i].incl_len == sizeof(frame) &&
		    !memcmp(f.rec[i].data, frame, sizeof(frame)))
			found = i;
	tp_free(&f);
	assert_true(found >= 0);
	assert_int_equal(F.st->stats.drops[US_DROP_DEV_BAD_VNET_HDR], 0);
	assert_int_equal(F.dev->stats.rx_errors, 0);
	/* Drained: nothing more to read now. */
	while (F.dev->ops->poll(F.dev, 64) > 0)
		;
	assert_int_equal(F.dev->ops->poll(F.dev, 64), 0);
}

static void test_rx_via_poll(void **state)
{
	(void)state;
	SKIP_WITHOUT_NETNS();
	default_up(true);
	check_rx();
	fixture_down();
}

static void test_no_vnet_hdr(void **state)
{
	uint8_t buf[200];
	struct sk_buff *skb;
	size_t len;
	ssize_t n;

	(void)state;
	SKIP_WITHOUT_NETNS();
	default_up(false);
	assert_int_equal(F.dev->needed_headroom, 0);
	check_tx_paths();
	check_rx();

	/* With no header to tell the kernel, a partial checksum is
	 * finished before the frame leaves. */
	len = udp_partial_skb(&skb, 50);
	assert_int_equal(dev_queue_xmit(skb), 0);
	n = recv_frame(F.pkt, buf, sizeof(buf), 0, 0x0800);
	assert_int_equal(n, (ssize_t)len);
	assert_true(udp_csum_ok(buf + 14));
	fixture_down();
}

/*
 * A frame longer than the driver's buffers (the kernel's side of the TAP
 * set to a larger MTU) with no GRO_HW buffer behind them: the kernel
 * copies what fits. The frame is dropped and counted, not handed up cut
 * (nor, where the kernel returns the frame's whole length, copied past
 * the buffer), and the next one arrives as ever. With and without the vnet
 * header.
 */
static void test_rx_oversize_dropped(void **state)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	static uint8_t frame[8500];
	struct ifreq ifr;
	int s;

	(void)state;
	SKIP_WITHOUT_NETNS();
	for (int vnet = 0; vnet < 2; vnet++) {
		fixture_up(&(struct tap_config){ .ifname = IFNAME,
						 .no_offload = true,
						 .no_vnet_hdr = !vnet });
		F.pkt = packet_socket(IFNAME, false);
		s = ctl_sock();
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", IFNAME);
		ifr.ifr_mtu = 9000;
		assert_int_equal(ioctl(s, SIOCSIFMTU, &ifr), 0);
		close(s);
		to.sll_ifindex = (int)if_nametoindex(IFNAME);
		fill_frame(frame, sizeof(frame), F.dev->dev_addr, F.kmac, 3);
		assert_int_equal(sendto(F.pkt, frame, sizeof(frame), 0,
					(struct sockaddr *)&to, sizeof(to)),
				 sizeof(frame));
		assert_true(wait_readable(F.dev->fd, WAIT_MS));
		assert_int_equal(F.dev->ops->poll(F.dev, 64), 1);
		assert_int_equal(F.st->stats.drops[US_DROP_DEV_RX_TOO_LONG], 1);
		assert_int_equal(F.dev->stats.rx_dropped, 1);
		assert_int_equal(F.dev->stats.rx_packets, 0);
		check_rx();
		fixture_down();
	}
}

/* The kernel reads back the header we wrote: checksum offload fields. */
static void test_tx_vnet_partial_csum(void **state)
{
	struct pkt_vnet_hdr h;
	uint8_t expect[200], buf[300];
	struct sk_buff *skb;
	size_t len;
	ssize_t n;

	(void)state;
	SKIP_WITHOUT_NETNS();
	fixture_up(&(struct tap_config){ .ifname = IFNAME });
	F.pkt = packet_socket(IFNAME, true);
	len = udp_partial_skb(&skb, 60);
	memcpy(expect, skb->data, len);
	assert_int_equal(dev_queue_xmit(skb), 0);
	n = recv_frame(F.pkt, buf, sizeof(buf), sizeof(h), 0x0800);
	assert_int_equal(n, (ssize_t)(sizeof(h) + len));
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(h.flags & 1, 1);          /* NEEDS_CSUM */
	assert_int_equal(h.csum_start, 34);        /* from the frame start */
	assert_int_equal(h.csum_offset, 6);
	assert_int_equal(h.gso_type, 0);
	assert_memory_equal(buf + sizeof(h), expect, len);
	fixture_down();
}

/* A TSO frame: the kernel sees the GSO type and segment size we set. */
static void test_tx_vnet_gso(void **state)
{
	const size_t payload = 3000, len = 14 + 20 + 20 + payload;
	uint32_t sa = inet_addr("10.77.0.2"), da = inet_addr("10.77.0.1");
	struct pkt_vnet_hdr h;
	struct sk_buff *skb;
	uint8_t *p, *ip, *th, *buf;
	uint16_t sum;
	ssize_t n;

	(void)state;
	SKIP_WITHOUT_NETNS();
	fixture_up(&(struct tap_config){ .ifname = IFNAME });
	F.pkt = packet_socket(IFNAME, true);
	skb = us_skb_alloc(F.st, (unsigned)len);
	p = skb_put(skb, (unsigned)len);
	memset(p, 0, len);
	memcpy(p, F.kmac, 6);
	memcpy(p + 6, F.dev->dev_addr, 6);
	p[12] = 0x08;
	ip = p + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((len - 14) >> 8);
	ip[3] = (uint8_t)(len - 14);
	ip[6] = 0x40;   /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, &sa, 4);
	memcpy(ip + 16, &da, 4);
	sum = inet_csum(ip, 20);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	th = ip + 20;
	th[1] = 80;
	th[3] = 80;
	th[12] = 5 << 4;
	th[13] = 0x10;  /* ACK */
	th[14] = 0xff;
	sum = (uint16_t)~csum_fold(csum_tcpudp_nofold(sa, da, 6,
						      (uint16_t)(20 + payload), 0));
	th[16] = (uint8_t)(sum >> 8);
	th[17] = (uint8_t)sum;
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->transport_header = (uint16_t)(skb_headroom(skb) + 34);
	skb->csum_start = skb->transport_header;
	skb->csum_offset = 16;
	skb_shinfo(skb)->gso_size = 1000;
	skb_shinfo(skb)->gso_segs = 3;
	skb_shinfo(skb)->gso_type = SKB_GSO_TCPV4;
	skb->dev = F.dev;
	assert_int_equal(dev_queue_xmit(skb), 0);

	buf = malloc(sizeof(h) + len + 100);
	n = recv_frame(F.pkt, buf, sizeof(h) + len + 100, sizeof(h), 0x0800);
	assert_int_equal(n, (ssize_t)(sizeof(h) + len));
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(h.gso_type & 0x7f, 1);    /* TCPV4 */
	assert_int_equal(h.gso_size, 1000);
	assert_int_equal(h.flags & 1, 1);
	assert_int_equal(h.csum_start, 34);
	assert_int_equal(h.csum_offset, 16);
	free(buf);
	fixture_down();
}

/* Give the kernel side 10.77.0.1 (class A: /8) and send a UDP broadcast
 * from a kernel socket out of the TAP. */
static void kernel_udp_broadcast(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	int one = 1;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	assert_int_equal(setsockopt(s, SOL_SOCKET, SO_BROADCAST, &one,
				    sizeof(one)), 0);
	sin.sin_addr.s_addr = inet_addr("10.255.255.255");
	assert_int_equal(sendto(s, "0123456789", 10, 0, (struct sockaddr *)&sin,
				sizeof(sin)), 10);
	close(s);
}

static int count_udp_frames(void)
{
	struct tp_file f;
	int n = 0;

	tp_capture_read(F.dev, F.cap, &f);
	for (int i = 0; i < f.n; i++) {
		const uint8_t *d = f.rec[i].data;

		if (f.rec[i].incl_len >= 14 + 28 && d[12] == 0x08 &&
		    d[13] == 0 && d[14 + 9] == 17 && d[14 + 20 + 3] == 9) {
			assert_true(udp_csum_ok(d + 14));
			n++;
		}
	}
	tp_free(&f);
	return n;
}

static void poll_for(int ms)
{
	while (wait_readable(F.dev->fd, ms))
		F.dev->ops->poll(F.dev, 64);
}

/*
 * Offloads off (no_offload): kernel datagrams arrive with their checksum
 * finished. If
 * the kernel is then allowed to send unfinished checksums (TUNSETOFFLOAD
 * behind the driver's back), the driver, which did not agree to that,
 * drops such frames as bad vnet headers.
 */
static void test_rx_kernel_udp_and_bad_vnet_hdr(void **state)
{
	struct sockaddr_in *sin;
	struct ifreq ifr;
	uint64_t before;
	int s;

	(void)state;
	SKIP_WITHOUT_NETNS();
	fixture_up(&(struct tap_config){ .ifname = IFNAME, .no_offload = true });
	F.pkt = packet_socket(IFNAME, false);
	assert_int_equal(F.dev->features, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), IFNAME);
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = inet_addr("10.77.0.1");
	s = ctl_sock();
	assert_int_equal(ioctl(s, SIOCSIFADDR, &ifr), 0);
	close(s);

	kernel_udp_broadcast();
	poll_for(300);
	assert_int_equal(count_udp_frames(), 1);
	assert_int_equal(F.st->stats.drops[US_DROP_DEV_BAD_VNET_HDR], 0);

	assert_int_equal(ioctl(F.dev->fd, TUNSETOFFLOAD, TUN_F_CSUM), 0);
	before = F.dev->stats.rx_dropped;
	kernel_udp_broadcast();
	poll_for(300);
	assert_int_equal(count_udp_frames(), 1);   /* no new one went up */
	assert_true(F.st->stats.drops[US_DROP_DEV_BAD_VNET_HDR] >= 1);
	assert_true(F.dev->stats.rx_dropped > before);
	fixture_down();
}

/* ---- offloads --------------------------------------------------------- */

#define GSO_MSS 1000
#define GSO_SEGS 3
#define GSO_HLEN (14 + 20 + 20)

static uint8_t gso_payload_byte(size_t i)
{
	return (uint8_t)(i * 7 + i / 251);
}

/*
 * A TCP GSO packet as tcp_gso_build and tcp_v4_send_check leave it for
 * the device: Ethernet, IPv4 and TCP headers alone in the head (PSH|ACK,
 * seq 1000, IP id ip_id), segs payloads of GSO_MSS bytes on the frag_list,
 * the pseudo-header sum over the whole length in the checksum field.
 */
static struct sk_buff *tso_skb_n(int segs, uint16_t ip_id)
{
	const size_t tcplen = 20 + (size_t)segs * GSO_MSS;
	uint32_t sa = inet_addr("10.77.0.2"), da = inet_addr("10.77.0.1");
	struct sk_buff *skb = us_skb_alloc(F.st, 0);
	uint8_t *p, *ip, *th;
	uint16_t sum;

	assert_non_null(skb);
	for (int k = 0; k < segs; k++) {
		struct sk_buff *f = us_skb_alloc(F.st, GSO_MSS);

		assert_non_null(f);
		p = skb_put(f, GSO_MSS);
		for (size_t i = 0; i < GSO_MSS; i++)
			p[i] = gso_payload_byte((size_t)k * GSO_MSS + i);
		skb_add_frag(skb, f);
	}
	th = skb_push(skb, 20);
	memset(th, 0, 20);
	th[1] = 80;
	th[3] = 80;
	th[6] = 0x03;   /* seq 1000 */
	th[7] = 0xe8;
	th[12] = 5 << 4;
	th[13] = 0x18;  /* PSH|ACK */
	th[14] = 0xff;
	sum = (uint16_t)~csum_fold(csum_tcpudp_nofold(sa, da, 6,
						      (uint16_t)tcplen, 0));
	th[16] = (uint8_t)(sum >> 8);
	th[17] = (uint8_t)sum;
	skb_reset_transport_header(skb);
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = (uint16_t)skb_headroom(skb);
	skb->csum_offset = 16;
	ip = skb_push(skb, 20);
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + tcplen) >> 8);
	ip[3] = (uint8_t)(20 + tcplen);
	ip[4] = (uint8_t)(ip_id >> 8);
	ip[5] = (uint8_t)ip_id;
	ip[6] = 0x40;   /* DF */
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, &sa, 4);
	memcpy(ip + 16, &da, 4);
	sum = inet_csum(ip, 20);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	skb_reset_network_header(skb);
	p = skb_push(skb, 14);
	memcpy(p, F.kmac, 6);
	memcpy(p + 6, F.dev->dev_addr, 6);
	p[12] = 0x08;
	p[13] = 0x00;
	skb_reset_mac_header(skb);
	skb_shinfo(skb)->gso_size = GSO_MSS;
	skb_shinfo(skb)->gso_segs = GSO_SEGS;
	skb_shinfo(skb)->gso_type = SKB_GSO_TCPV4;
	skb->dev = F.dev;
	return skb;
}

static struct sk_buff *tso_skb(void)
{
	return tso_skb_n(GSO_SEGS, 0x1234);
}

/* True when the TCP/IPv4 packet at ip has a correct TCP checksum. */
static bool tcp_csum_ok(const uint8_t *ip)
{
	uint16_t tot = (uint16_t)(ip[2] << 8 | ip[3]);
	uint32_t sa, da;

	memcpy(&sa, ip + 12, 4);
	memcpy(&da, ip + 16, 4);
	return csum_fold(csum_partial(ip + 20, tot - 20u,
				      csum_tcpudp_nofold(sa, da, 6,
							 (uint16_t)(tot - 20), 0))) == 0;
}

/* Whether this kernel's tun takes USO (Linux 6.2: TUN_F_USO4 | USO6,
 * both or neither), asked of a TAP device of our own. */
static bool kernel_has_uso(void)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	bool ok;

	assert_true(fd >= 0);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "usoprobe0");
	assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
	ok = ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM | 0x20 | 0x40) == 0;
	close(fd);
	return ok;
}

static void test_offload_features(void **state)
{
	static const struct fault_params loss = { .loss_ppm = 1000 };
	const uint32_t uso = US_NETIF_F_GSO_UDP_L4 | US_NETIF_F_GRO_UDP_L4;
	uint32_t all = US_NETIF_F_HW_CSUM | US_NETIF_F_RXCSUM |
		       US_NETIF_F_TSO | US_NETIF_F_GRO_HW;

	(void)state;
	SKIP_WITHOUT_NETNS();
	if (kernel_has_uso())
		all |= uso;
	else
		print_message("this kernel's tun has no USO (before 6.2)\n");
	fixture_up(&(struct tap_config){ .ifname = IFNAME });
	assert_int_equal(F.dev->features, all);
	fixture_down();
	fixture_up(&(struct tap_config){ .ifname = IFNAME, .no_offload = true });
	assert_int_equal(F.dev->features, 0);
	fixture_down();
	/* Faults act frame by frame: no TSO out with tx faults, no large
	 * packets in with rx faults, and USO only with both. */
	fixture_up(&(struct tap_config){ .ifname = IFNAME, .tx_fault = &loss });
	assert_int_equal(F.dev->features, all & ~(US_NETIF_F_TSO | uso));
	fixture_down();
	fixture_up(&(struct tap_config){ .ifname = IFNAME, .rx_fault = &loss });
	assert_int_equal(F.dev->features, all & ~(US_NETIF_F_GRO_HW | uso));
	fixture_down();
}

/* TSO: the frag_list packet leaves as one frame the kernel reads with
 * the GSO fields; the payload arrives in order from the frags. */
static void test_tx_tso_frag_list(void **state)
{
	const size_t len = GSO_HLEN + GSO_SEGS * GSO_MSS;
	struct pkt_vnet_hdr h;
	uint8_t *buf;
	ssize_t n;

	(void)state;
	SKIP_WITHOUT_NETNS();
	fixture_up(&(struct tap_config){ .ifname = IFNAME });
	F.pkt = packet_socket(IFNAME, true);
	assert_int_equal(dev_queue_xmit(tso_skb()), 0);
	buf = malloc(sizeof(h) + len + 100);
	assert_non_null(buf);
	n = recv_frame(F.pkt, buf, sizeof(h) + len + 100, sizeof(h), 0x0800);
	assert_int_equal(n, (ssize_t)(sizeof(h) + len));
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(h.gso_type & 0x7f, 1);    /* TCPV4 */
	assert_int_equal(h.gso_size, GSO_MSS);
	/* (hdr_len as read back is the kernel's own linear length, not
	 * what we wrote: nothing to check there.) */
	assert_int_equal(h.flags & 1, 1);          /* NEEDS_CSUM */
	assert_int_equal(h.csum_start, 34);
	assert_int_equal(h.csum_offset, 16);
	for (size_t i = 0; i < GSO_SEGS * GSO_MSS; i++)
		assert_int_equal(buf[sizeof(h) + GSO_HLEN + i],
				 gso_payload_byte(i));
	assert_int_equal(F.st->stats.mib[US_MIB_DEV_TX_GSO], 1);
	assert_int_equal(F.st->stats.mib[US_MIB_DEV_GSO_SEGMENTS], 0);
	assert_int_equal(F.dev->stats.tx_packets, 1);
	free(buf);
	fixture_down();
}

/* The same packet to a device without offloads: software GSO cuts it
 * into GSO_SEGS frames, each complete and correct. */
static void test_tx_gso_software_fallback(void **state)
{
	uint8_t buf[GSO_HLEN + GSO_MSS + 100];

	(void)state;
	SKIP_WITHOUT_NETNS();
	fixture_up(&(struct tap_config){ .ifname = IFNAME, .no_offload = true });
	F.pkt = packet_socket(IFNAME, false);
	assert_int_equal(dev_queue_xmit(tso_skb()), 0);
	for (int k = 0; k < GSO_SEGS; k++) {
		ssize_t n = recv_frame(F.pkt, buf, sizeof(buf), 0, 0x0800);
		const uint8_t *ip = buf + 14, *th = ip + 20;
		uint32_t seq = (uint32_t)th[4] << 24 | th[5] << 16 |
			       th[6] << 8 | th[7];

		assert_int_equal(n, GSO_HLEN + GSO_MSS);
		assert_int_equal(ip[2] << 8 | ip[3], 20 + 20 + GSO_MSS);
		assert_int_equal(ip[4] << 8 | ip[5], 0x1234 + k);
		assert_int_equal(inet_csum(ip, 20), 0);
		assert_true(tcp_csum_ok(ip));
		assert_int_equal(seq, 1000u + (uint32_t)k * GSO_MSS);
		/* PSH on the last segment only. */
		assert_int_equal(th[13], k == GSO_SEGS - 1 ? 0x18 : 0x10);
		for (size_t i = 0; i < GSO_MSS; i++)
			assert_int_equal(buf[GSO_HLEN + i],
					 gso_payload_byte((size_t)k * GSO_MSS + i));
	}
	assert_int_equal(F.st->stats.mib[US_MIB_DEV_GSO_SEGMENTS], GSO_SEGS);
	assert_int_equal(F.st->stats.mib[US_MIB_DEV_TX_GSO], 0);
	assert_int_equal(F.dev->stats.tx_packets, GSO_SEGS);
	fixture_down();
}

/* ---- the writer thread (tap_tx.c) ------------------------------------- */

#define TX_SEGS 20     /* 20 KB: past TAP_TX_THREAD_MIN */
#define TX_ROUNDS 4     /* 4 x ~25 KB in the packet socket's buffer */

/* Wait until the writer thread has written at least n frames and they
 * are freed (tap_poll frees them); returns how many it wrote. */
static uint64_t wait_tx_thread(uint64_t n)
{
	for (int i = 0; i < WAIT_MS && F.st->stats.mib[US_MIB_DEV_TX_THREAD] < n;
	     i++) {
		F.dev->ops->poll(F.dev, 64);
		usleep(1000);
	}
	return F.st->stats.mib[US_MIB_DEV_TX_THREAD];
}

/*
 * Large packets go to the writer thread, small frames are written by the
 * sender, and the kernel still gets them in the order they were sent: a
 * small frame sent while a packet waits for the thread waits behind it.
 * Each frame arrives whole (the packets' payloads checked byte by byte).
 */
static void test_tx_thread_keeps_order(void **state)
{
	const size_t big = GSO_HLEN + TX_SEGS * GSO_MSS;
	size_t hl = sizeof(struct pkt_vnet_hdr);
	uint8_t *buf = malloc(hl + big + 100);
	uint64_t n_thread;

	(void)state;
	SKIP_WITHOUT_NETNS();
	assert_non_null(buf);
	fixture_up(&(struct tap_config){ .ifname = IFNAME, .tx_thread = true });
	F.pkt = packet_socket(IFNAME, true);
	for (int k = 0; k < TX_ROUNDS; k++) {
		assert_int_equal(dev_queue_xmit(tso_skb_n(TX_SEGS,
							  (uint16_t)k)), 0);
		assert_int_equal(dev_queue_xmit(frame_skb(US_SKB_MAX_HEADER,
							  100, (uint8_t)k)),
				 0);
	}
	for (int k = 0; k < 2 * TX_ROUNDS; k++) {
		ssize_t n;
		uint16_t type;

		do {
			assert_true(wait_readable(F.pkt, WAIT_MS));
			n = recv(F.pkt, buf, hl + big + 100, 0);
			assert_true(n >= (ssize_t)(hl + 14));
			type = (uint16_t)(buf[hl + 12] << 8 | buf[hl + 13]);
		} while (type != 0x0800 && type != ETHERTYPE_TEST);
		if (k % 2 == 0) {
			const uint8_t *ip = buf + hl + 14;

			assert_int_equal(type, 0x0800);
			assert_int_equal(n, (ssize_t)(hl + big));
			assert_int_equal(ip[4] << 8 | ip[5], k / 2);
			for (size_t i = 0; i < TX_SEGS * GSO_MSS; i++)
				assert_int_equal(buf[hl + GSO_HLEN + i],
						 gso_payload_byte(i));
		} else {
			assert_int_equal(type, ETHERTYPE_TEST);
			assert_int_equal(n, (ssize_t)(hl + 100));
			for (size_t i = 14; i < 100; i++)
				assert_int_equal(buf[hl + i],
						 (uint8_t)(k / 2 + i * 3));
		}
	}
	/* Every packet went through the thread; a small frame did only
	 * when one was still waiting there. */
	n_thread = wait_tx_thread(TX_ROUNDS);
	assert_true(n_thread >= TX_ROUNDS && n_thread <= 2 * TX_ROUNDS);
	assert_int_equal(F.dev->stats.tx_packets, 2 * TX_ROUNDS);
	assert_int_equal(F.dev->stats.tx_errors, 0);
	free(buf);
	fixture_down();
}

/* Read len bytes from a pipe (blocking), after a pause: the reader of
 * test_tx_thread_holds_until_written. */
struct pipe_reader {
	pthread_t thread;
	int fd;
	uint8_t *buf;
	size_t len, got;
};

static void *pipe_reader_main(void *arg)
{
	struct pipe_reader *r = arg;

	usleep(50 * 1000);
	while (r->got < r->len) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, WAIT_MS) != 1)
			break;
		n = read(r->fd, r->buf + r->got, r->len - r->got);
		if (n <= 0)
			break;
		r->got += (size_t)n;
	}
	return NULL;
}

static int destructor_runs;

static void count_destructor(struct sk_buff *skb)
{
	(void)skb;
	destructor_runs++;
}

/*
 * While the thread has not written a packet, the device holds the
 * payload, so that a retransmission of it waits (ip_still_queued, through
 * ops->holds), and frames sent meanwhile wait behind it, orphaned at once
 * (a UDP datagram's destructor gives back its send-buffer space then, not
 * when the frame is freed). A blocking pipe smaller than the packet
 * stands in for a kernel slow to take it: the thread's writev blocks
 * until a reader empties it, 50 ms later. netdev_flush_all (ustack_stop)
 * waits for that and frees what was written: all three frames, counted;
 * nothing held any more; the bytes are the frames in order.
 */
static void test_tx_thread_holds_until_written(void **state)
{
	const size_t big = GSO_HLEN + TX_SEGS * GSO_MSS;
	const size_t total = VNET_HLEN + big + 2 * (VNET_HLEN + 100);
	struct pipe_reader r = { .len = total };
	uint32_t us = inet_addr("10.77.0.2"), peer = inet_addr("10.77.0.1");
	struct sk_buff *pkt, *seg, *dgram;

	(void)state;
	SKIP_WITHOUT_NETNS();
	/* The pipe's smallest size is a page: the packet must not fit. */
	if ((size_t)sysconf(_SC_PAGESIZE) * 2 > big) {
		print_message("skipped: pages of %ld bytes hold the packet\n",
			      sysconf(_SC_PAGESIZE));
		skip();
	}
	r.buf = malloc(total);
	assert_non_null(r.buf);
	fixture_up(&(struct tap_config){ .ifname = IFNAME, .tx_thread = true });
	assert_int_equal(netdev_set_ipv4(F.dev, us, 24), 0);
	assert_int_equal(pipe2(F.pipe, O_CLOEXEC), 0);
	assert_true(fcntl(F.pipe[1], F_SETPIPE_SZ, 4096) >= 4096);
	F.tap_fd = F.dev->fd;
	F.dev->fd = F.pipe[1];
	pkt = tso_skb_n(TX_SEGS, 7);
	/* TCP's own reference to a segment's data, as its write queue has. */
	seg = skb_clone(skb_shinfo(pkt)->frag_list);
	assert_non_null(seg);
	assert_false(ip_still_queued(F.st, peer, seg));
	assert_int_equal(dev_queue_xmit(pkt), 0);
	assert_int_equal(dev_queue_xmit(frame_skb(US_SKB_MAX_HEADER, 100, 5)),
			 0);
	destructor_runs = 0;
	dgram = frame_skb(US_SKB_MAX_HEADER, 100, 6);
	dgram->destructor = count_destructor;
	assert_int_equal(dev_queue_xmit(dgram), 0);
	assert_int_equal(destructor_runs, 1);
	assert_true(ip_still_queued(F.st, peer, seg));
	assert_true(F.dev->ops->holds(F.dev, seg));
	assert_int_equal(F.st->stats.mib[US_MIB_DEV_TX_THREAD], 0);

	r.fd = F.pipe[0];
	assert_int_equal(pthread_create(&r.thread, NULL, pipe_reader_main, &r),
			 0);
	netdev_flush_all(F.st);
	assert_int_equal(F.st->stats.mib[US_MIB_DEV_TX_THREAD], 3);
	assert_false(ip_still_queued(F.st, peer, seg));
	pthread_join(r.thread, NULL);
	assert_int_equal(r.got, total);
	F.dev->fd = F.tap_fd;
	/* The packet, with its GSO header, then the two small frames. */
	assert_int_equal(r.buf[1], 1);                          /* TCPV4 */
	assert_int_equal(r.buf[4] | r.buf[5] << 8, GSO_MSS);    /* gso_size */
	assert_int_equal(r.buf[VNET_HLEN + 14 + 5], 7);         /* IP id */
	for (size_t i = 0; i < TX_SEGS * GSO_MSS; i++)
		assert_int_equal(r.buf[VNET_HLEN + GSO_HLEN + i],
				 gso_payload_byte(i));
	for (int k = 0; k < 2; k++) {
		const uint8_t *fr = r.buf + VNET_HLEN + big +
				    (size_t)k * (VNET_HLEN + 100) + VNET_HLEN;

		assert_int_equal(fr[12] << 8 | fr[13], ETHERTYPE_TEST);
		assert_int_equal(fr[99], (uint8_t)(5 + k + 99 * 3));
	}
	assert_int_equal(F.dev->stats.tx_packets, 3);
	assert_int_equal(destructor_runs, 1);
	skb_free(seg);
	free(r.buf);
	fixture_down();
}

/*
 * The kernel sends a TCP GSO packet (GSO_SEGS x GSO_MSS, checksum left
 * unfinished) out of the TAP from a packet socket, to a port of ours
 * with no listener. Returns how many frames ustack took in.
 */
static uint64_t kernel_sends_gso(void)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	const size_t tcplen = 20 + GSO_SEGS * GSO_MSS;
	const size_t len = 14 + 20 + tcplen;
	uint32_t sa = inet_addr("10.77.0.1"), da = inet_addr("10.77.0.2");
	struct pkt_vnet_hdr h = { .flags = 1, .gso_type = 1,
				  .hdr_len = GSO_HLEN, .gso_size = GSO_MSS,
				  .csum_start = 34, .csum_offset = 16 };
	uint8_t *buf = calloc(1, sizeof(h) + len), *p, *ip, *th;
	uint64_t before = F.dev->stats.rx_packets;
	uint16_t sum;

	assert_non_null(buf);
	assert_int_equal(netdev_set_ipv4(F.dev, da, 24), 0);
	memcpy(buf, &h, sizeof(h));
	p = buf + sizeof(h);
	memcpy(p, F.dev->dev_addr, 6);
	memcpy(p + 6, F.kmac, 6);
	p[12] = 0x08;
	ip = p + 14;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + tcplen) >> 8);
	ip[3] = (uint8_t)(20 + tcplen);
	ip[6] = 0x40;
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, &sa, 4);
	memcpy(ip + 16, &da, 4);
	sum = inet_csum(ip, 20);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	th = ip + 20;
	th[0] = 0x9c;   /* port 40000 -> 80 */
	th[1] = 0x40;
	th[3] = 80;
	th[7] = 1;
	th[12] = 5 << 4;
	th[13] = 0x18;
	th[14] = 0xff;
	for (size_t i = 0; i < GSO_SEGS * GSO_MSS; i++)
		th[20 + i] = gso_payload_byte(i);
	sum = (uint16_t)~csum_fold(csum_tcpudp_nofold(sa, da, 6,
						      (uint16_t)tcplen, 0));
	th[16] = (uint8_t)(sum >> 8);
	th[17] = (uint8_t)sum;
	to.sll_ifindex = (int)if_nametoindex(IFNAME);
	assert_int_equal(sendto(F.pkt, buf, sizeof(h) + len, 0,
				(struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)(sizeof(h) + len));
	free(buf);
	poll_for(300);
	return F.dev->stats.rx_packets - before;
}

/* The captured TCP frames from the kernel: how many, and each one's
 * length and checksum checked by the caller's expectation. */
static int count_tcp_frames(size_t want_len, bool want_csum_ok)
{
	struct tp_file f;
	int n = 0;

	tp_capture_read(F.dev, F.cap, &f);
	for (int i = 0; i < f.n; i++) {
		const uint8_t *d = f.rec[i].data;

		if (f.rec[i].incl_len < GSO_HLEN || d[12] != 0x08 ||
		    d[14 + 9] != 6 || d[14 + 20 + 3] != 80)
			continue;
		assert_int_equal(f.rec[i].orig_len, want_len);
		if (want_csum_ok)
			assert_true(tcp_csum_ok(d + 14));
		n++;
	}
	tp_free(&f);
	return n;
}

/* Offloads on: the kernel's GSO packet arrives as one frame, its
 * unfinished checksum taken as checked (TCP answers it with a RST
 * rather than dropping it for a bad checksum). */
static void test_rx_gso_needs_csum(void **state)
{
	(void)state;
	SKIP_WITHOUT_NETNS();
	fixture_up(&(struct tap_config){ .ifname = IFNAME });
	F.pkt = packet_socket(IFNAME, true);
	kernel_sends_gso();
	assert_int_equal(count_tcp_frames(GSO_HLEN + GSO_SEGS * GSO_MSS,
					  false), 1);
	assert_int_equal(F.st->stats.mib[US_MIB_DEV_RX_GSO], 1);
	/* A GSO frame of 3 KB is copied out of the 64 KB buffer into one of
	 * its size (copybreak), so that a socket is not charged 64 KB. */
	assert_int_equal(F.st->stats.mib[US_MIB_DEV_RX_COPYBREAK], 1);
	assert_int_equal(F.st->stats.drops[US_DROP_DEV_BAD_VNET_HDR], 0);
	assert_int_equal(F.st->stats.drops[US_DROP_TCP_BAD_CSUM], 0);
	assert_int_equal(F.st->stats.mib[US_MIB_TCP_OUT_RSTS], 1);
	fixture_down();
}

/* Offloads off: the kernel cuts the same packet into checksummed
 * segments of GSO_MSS bytes before we see it. */
static void test_rx_gso_segmented_without_offload(void **state)
{
	(void)state;
	SKIP_WITHOUT_NETNS();
	fixture_up(&(struct tap_config){ .ifname = IFNAME, .no_offload = true });
	F.pkt = packet_socket(IFNAME, true);
	kernel_sends_gso();
	assert_int_equal(count_tcp_frames(GSO_HLEN + GSO_MSS, true), GSO_SEGS);
	assert_int_equal(F.st->stats.mib[US_MIB_DEV_RX_GSO], 0);
	assert_int_equal(F.st->stats.drops[US_DROP_DEV_BAD_VNET_HDR], 0);
	assert_int_equal(F.st->stats.drops[US_DROP_TCP_BAD_CSUM], 0);
	fixture_down();
}

/* ---- UDP segmentation offload (USO) ------------------------------------ */

#define USO_PLEN 2500   /* 1000 + 1000 + 500 */
#define USO_DGRAMS 3

static void skip_without_uso(void)
{
	if (!(F.dev->features & US_NETIF_F_GSO_UDP_L4)) {
		print_message("skipped: this kernel's tun has no USO\n");
		skip();
	}
}

/* Give the kernel side of the TAP addr/24. */
static void kernel_addr(const char *addr)
{
	struct sockaddr_in *sin;
	struct ifreq ifr;
	int s = ctl_sock();

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), IFNAME);
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = inet_addr(addr);
	assert_int_equal(ioctl(s, SIOCSIFADDR, &ifr), 0);
	close(s);
}

/* A kernel UDP socket on 10.77.0.1:9, the port udp_partial_skb sends to. */
static int kernel_udp_sink(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9),
				   .sin_addr.s_addr = inet_addr("10.77.0.1") };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(s >= 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return s;
}

/* udp_partial_skb's datagram of USO_PLEN bytes as a GSO packet of
 * GSO_MSS-byte datagrams, as udp_send_skb makes it. */
static struct sk_buff *udp_gso_skb(void)
{
	struct sk_buff *skb;

	udp_partial_skb(&skb, USO_PLEN);
	skb->network_header = (uint16_t)(skb_headroom(skb) + 14);
	skb_shinfo(skb)->gso_size = GSO_MSS;
	skb_shinfo(skb)->gso_segs = USO_DGRAMS;
	skb_shinfo(skb)->gso_type = SKB_GSO_UDP_L4;
	return skb;
}

/* The kernel's socket gets the USO_DGRAMS datagrams, each its slice. */
static void kernel_gets_datagrams(int s)
{
	uint8_t buf[2048];

	for (int k = 0; k < USO_DGRAMS; k++) {
		size_t want = k < USO_DGRAMS - 1 ? GSO_MSS
						 : USO_PLEN - 2 * GSO_MSS;
		ssize_t n;

		assert_true(wait_readable(s, WAIT_MS));
		n = recv(s, buf, sizeof(buf), 0);
		assert_int_equal(n, (ssize_t)want);
		for (size_t i = 0; i < want; i++)
			assert_int_equal(buf[i],
					 (uint8_t)(((size_t)k * GSO_MSS + i) * 5 + 1));
	}
	assert_false(wait_readable(s, 100));
}

/*
 * With USO, a UDP GSO packet crosses as one frame: the kernel reads the
 * UDP_L4 type and the datagram size, and finishing its checksum over the
 * whole gives a valid one (the field holds the pseudo-header sum with the
 * whole length); the kernel's socket then gets the three datagrams.
 */
static void test_tx_udp_gso(void **state)
{
	const size_t len = 14 + 20 + 8 + USO_PLEN;
	struct pkt_vnet_hdr h;
	uint8_t *buf = malloc(len + 100);
	uint16_t sum;
	ssize_t n;
	int s;

	(void)state;
	SKIP_WITHOUT_NETNS();
	fixture_up(&(struct tap_config){ .ifname = IFNAME });
	skip_without_uso();
	kernel_addr("10.77.0.1");
	s = kernel_udp_sink();
	F.pkt = packet_socket(IFNAME, true);
	assert_int_equal(dev_queue_xmit(udp_gso_skb()), 0);
	n = recv_frame(F.pkt, buf, len + 100, sizeof(h), 0x0800);
	assert_int_equal(n, (ssize_t)(sizeof(h) + len));
	memcpy(&h, buf, sizeof(h));
	assert_int_equal(h.gso_type, 5);           /* VIRTIO_NET_HDR_GSO_UDP_L4 */
	assert_int_equal(h.gso_size, GSO_MSS);
	assert_int_equal(h.flags & 1, 1);
	assert_int_equal(h.csum_start, 34);
	assert_int_equal(h.csum_offset, 6);
	sum = csum_fold(csum_partial(buf + sizeof(h) + 34, len - 34, 0));
	buf[sizeof(h) + 34 + 6] = (uint8_t)(sum >> 8);
	buf[sizeof(h) + 34 + 7] = (uint8_t)sum;
	assert_true(udp_csum_ok(buf + sizeof(h) + 14));
	assert_int_equal(F.st->stats.mib[US_MIB_DEV_TX_GSO], 1);
	assert_int_equal(F.dev->stats.tx_packets, 1);
	kernel_gets_datagrams(s);
	close(s);
	free(buf);
	fixture_down();
}

/* Without offloads the same packet leaves as datagrams cut in software,
 * each with its own length, IP id and checksum. */
static void test_tx_udp_gso_software(void **state)
{
	uint8_t buf[2048];
	int s;

	(void)state;
	SKIP_WITHOUT_NETNS();
	fixture_up(&(struct tap_config){ .ifname = IFNAME, .no_offload = true });
	kernel_addr("10.77.0.1");
	s = kernel_udp_sink();
	F.pkt = packet_socket(IFNAME, false);
	assert_int_equal(dev_queue_xmit(udp_gso_skb()), 0);
	for (int k = 0; k < USO_DGRAMS; k++) {
		ssize_t n = recv_frame(F.pkt, buf, sizeof(buf), 0, 0x0800);
		size_t want = k < USO_DGRAMS - 1 ? GSO_MSS
						 : USO_PLEN - 2 * GSO_MSS;
		const uint8_t *ip = buf + 14;

		assert_int_equal(n, (ssize_t)(14 + 28 + want));
		assert_int_equal(ip[2] << 8 | ip[3], 28 + want);
		assert_int_equal(ip[4] << 8 | ip[5], k);     /* id 0, 1, 2 */
		assert_int_equal(inet_csum(ip, 20), 0);
		assert_int_equal(ip[24] << 8 | ip[25], 8 + want);
		assert_true(udp_csum_ok(ip));
	}
	assert_int_equal(F.st->stats.mib[US_MIB_DEV_GSO_SEGMENTS], USO_DGRAMS);
	kernel_gets_datagrams(s);
	close(s);
	fixture_down();
}

/*
 * A UDP GSO frame (Ethernet to the end of UDP, then USO_PLEN bytes) from
 * 10.77.0.1:4000 to 10.77.0.2:9, its checksum left unfinished; proto
 * other than 17 puts that in the IP header (a bad frame). Returns the
 * frame's length.
 */
static size_t udp_gso_frame(uint8_t *p, uint8_t proto)
{
	const size_t ulen = 8 + USO_PLEN, len = 14 + 20 + ulen;
	uint32_t sa = inet_addr("10.77.0.1"), da = inet_addr("10.77.0.2");
	uint8_t *ip = p + 14, *uh = ip + 20;
	uint16_t sum;

	memset(p, 0, len);
	memcpy(p, F.dev->dev_addr, 6);
	memcpy(p + 6, F.kmac, 6);
	p[12] = 0x08;
	ip[0] = 0x45;
	ip[2] = (uint8_t)((20 + ulen) >> 8);
	ip[3] = (uint8_t)(20 + ulen);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, &sa, 4);
	memcpy(ip + 16, &da, 4);
	sum = inet_csum(ip, 20);
	ip[10] = (uint8_t)(sum >> 8);
	ip[11] = (uint8_t)sum;
	uh[0] = 4000 >> 8;
	uh[1] = 4000 & 0xff;
	uh[3] = 9;
	uh[4] = (uint8_t)(ulen >> 8);
	uh[5] = (uint8_t)ulen;
	for (size_t i = 0; i < USO_PLEN; i++)
		uh[8 + i] = gso_payload_byte(i);
	sum = (uint16_t)~csum_fold(csum_tcpudp_nofold(sa, da, 17,
						      (uint16_t)ulen, 0));
	uh[6] = (uint8_t)(sum >> 8);
	uh[7] = (uint8_t)sum;
	return len;
}

/* The kernel sends udp_gso_frame out of the TAP from a packet socket. */
static void kernel_sends_udp_gso(void)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct pkt_vnet_hdr h = { .flags = 1, .gso_type = 5, .hdr_len = 42,
				  .gso_size = GSO_MSS, .csum_start = 34,
				  .csum_offset = 6 };
	uint8_t buf[sizeof(h) + 14 + 28 + USO_PLEN];
	size_t len;

	memcpy(buf, &h, sizeof(h));
	len = udp_gso_frame(buf + sizeof(h), 17);
	to.sll_ifindex = (int)if_nametoindex(IFNAME);
	assert_int_equal(sendto(F.pkt, buf, sizeof(h) + len, 0,
				(struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)(sizeof(h) + len));
}

/* A ustack UDP socket on 10.77.0.2:9, with UDP_GRO as asked. */
static int ustack_udp_sink(int gro)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(9) };
	int fd = us_socket_on(F.st, AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(netdev_set_ipv4(F.dev, inet_addr("10.77.0.2"), 24), 0);
	assert_int_equal(us_bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(us_setsockopt(fd, SOL_UDP, UDP_GRO, &gro,
				       sizeof(gro)), 0);
	return fd;
}

/* The next datagram on fd: its length, and its UDP_GRO size (-1: no
 * such control message); the payload checked against the frame's from
 * byte `from` on. */
static ssize_t ustack_recv(int fd, size_t from, int *gso)
{
	static uint8_t buf[USO_PLEN + 100];
	ssize_t n = ts_recv_gro(fd, buf, sizeof(buf), gso);

	for (ssize_t i = 0; i < n; i++)
		assert_int_equal(buf[i], gso_payload_byte(from + (size_t)i));
	return n;
}

/*
 * The kernel's UDP GSO packet arrives as one frame and UDP cuts it into
 * its datagrams for a socket without UDP_GRO; one with UDP_GRO gets it
 * whole with the datagram size. With offloads off the kernel cuts it
 * before we see it, and a socket with UDP_GRO gets plain datagrams.
 */
static void rx_udp_gso(bool offload, int gro)
{
	int fd, gso;

	fixture_up(&(struct tap_config){ .ifname = IFNAME,
					  .no_offload = !offload });
	if (offload)
		skip_without_uso();
	F.pkt = packet_socket(IFNAME, true);
	fd = ustack_udp_sink(gro);
	kernel_sends_udp_gso();
	poll_for(300);
	assert_int_equal(F.st->stats.drops[US_DROP_DEV_BAD_VNET_HDR], 0);
	assert_int_equal(F.st->stats.mib[US_MIB_DEV_RX_GSO], offload ? 1 : 0);
	assert_int_equal(F.dev->stats.rx_packets, offload ? 1 : USO_DGRAMS);
	if (offload && gro) {
		assert_int_equal(ustack_recv(fd, 0, &gso), USO_PLEN);
		assert_int_equal(gso, GSO_MSS);
	} else {
		for (int k = 0; k < USO_DGRAMS; k++) {
			ssize_t want = k < USO_DGRAMS - 1 ? GSO_MSS
						  : USO_PLEN - 2 * GSO_MSS;

			assert_int_equal(ustack_recv(fd, (size_t)k * GSO_MSS,
						     &gso), want);
			assert_int_equal(gso, -1);
		}
	}
	assert_int_equal(ustack_recv(fd, 0, &gso), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(us_close(fd), 0);
	fixture_down();
}

static void test_rx_udp_gso_cut(void **state)
{
	(void)state;
	SKIP_WITHOUT_NETNS();
	rx_udp_gso(true, 0);
}

static void test_rx_udp_gso_whole(void **state)
{
	(void)state;
	SKIP_WITHOUT_NETNS();
	rx_udp_gso(true, 1);
}

static void test_rx_udp_gso_without_offload(void **state)
{
	(void)state;
	SKIP_WITHOUT_NETNS();
	rx_udp_gso(false, 1);
}

/*
 * Frames with a UDP_L4 header the kernel would never write, through a
 * socket pair standing in for the TAP: each is dropped as a bad vnet
 * header and nothing reaches the socket. A good one then goes through.
 */
static void test_rx_udp_gso_bad_headers(void **state)
{
	struct bad {
		uint8_t proto;
		uint16_t gso_size;
		bool no_gro;    /* GRO_UDP_L4 off on the device */
		bool frag;      /* a first fragment (MF) */
	} bad[] = {
		{ 6, GSO_MSS, false, false },   /* not UDP */
		{ 17, 0, false, false },        /* no datagram size */
		{ 17, 19, false, false },       /* 132 datagrams: past 128 */
		{ 17, GSO_MSS, true, false },   /* USO not agreed */
		{ 17, GSO_MSS, false, true },   /* a fragment */
	};
	uint8_t buf[VNET_HLEN + 14 + 28 + USO_PLEN] = { 0 };
	int sv[2], fd, gso;
	uint64_t drops;
	size_t len;

	(void)state;
	SKIP_WITHOUT_NETNS();
	fixture_up(&(struct tap_config){ .ifname = IFNAME });
	skip_without_uso();
	fd = ustack_udp_sink(0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK |
				    SOCK_CLOEXEC, 0, sv), 0);
	F.tap_fd = F.dev->fd;
	F.dev->fd = sv[0];
	F.pipe[0] = sv[1];
	F.pipe[1] = sv[0];
	for (size_t i = 0; i <= sizeof(bad) / sizeof(bad[0]); i++) {
		bool good = i == sizeof(bad) / sizeof(bad[0]);
		struct vnet_hdr12 {
			uint8_t flags, gso_type;
			uint16_t hdr_len, gso_size, csum_start, csum_offset, nb;
		} h = { 1, 5, 42, GSO_MSS, 34, 6, 0 };
		uint32_t features = F.dev->features;

		if (!good) {
			h.gso_size = bad[i].gso_size;
			if (bad[i].no_gro)
				F.dev->features &= ~US_NETIF_F_GRO_UDP_L4;
		}
		memcpy(buf, &h, sizeof(h));
		len = udp_gso_frame(buf + VNET_HLEN, good ? 17 : bad[i].proto);
		if (!good && bad[i].frag) {
			uint8_t *ip = buf + VNET_HLEN + 14;
			uint16_t sum;

			ip[6] |= 0x20;
			ip[10] = ip[11] = 0;
			sum = inet_csum(ip, 20);
			ip[10] = (uint8_t)(sum >> 8);
			ip[11] = (uint8_t)sum;
		}
		drops = F.st->stats.drops[US_DROP_DEV_BAD_VNET_HDR];
		assert_int_equal(write(sv[1], buf, VNET_HLEN + len),
				 (ssize_t)(VNET_HLEN + len));
		F.dev->ops->poll(F.dev, 64);
		F.dev->features = features;
		if (good) {
			assert_int_equal(F.st->stats.drops[US_DROP_DEV_BAD_VNET_HDR],
					 drops);
			assert_int_equal(ustack_recv(fd, 0, &gso), GSO_MSS);
		} else {
			assert_int_equal(F.st->stats.drops[US_DROP_DEV_BAD_VNET_HDR],
					 drops + 1);
			assert_int_equal(ustack_recv(fd, 0, &gso), -1);
		}
	}
	/* One datagram's worth under a UDP_L4 header is no GSO (Linux's
	 * virtio_net_hdr_to_skb): taken as the datagram it is, with no
	 * UDP_GRO size for a socket that asks for one. */
	{
		uint16_t big = USO_PLEN + 1;
		int one = 1;

		assert_int_equal(us_setsockopt(fd, SOL_UDP, UDP_GRO, &one,
					       sizeof(one)), 0);

		memcpy(buf + 4, &big, sizeof(big));   /* gso_size */
		drops = F.st->stats.drops[US_DROP_DEV_BAD_VNET_HDR];
		assert_int_equal(write(sv[1], buf, VNET_HLEN + len),
				 (ssize_t)(VNET_HLEN + len));
		F.dev->ops->poll(F.dev, 64);
		assert_int_equal(F.st->stats.drops[US_DROP_DEV_BAD_VNET_HDR],
				 drops);
		/* The rest of the good frame's datagrams, then this one. */
		assert_int_equal(ustack_recv(fd, GSO_MSS, &gso), GSO_MSS);
		assert_int_equal(ustack_recv(fd, 2 * GSO_MSS, &gso),
				 USO_PLEN - 2 * GSO_MSS);
		assert_int_equal(ustack_recv(fd, 0, &gso), USO_PLEN);
		assert_int_equal(gso, -1);
	}
	assert_int_equal(us_close(fd), 0);
	fixture_down();
}

/*
 * When the kernel's queue is full a write fails with EAGAIN; the frame is
 * dropped and counted. A full nonblocking pipe stands in for the queue.
 */
static void test_tx_queue_full_drops(void **state)
{
	char junk[4096] = { 0 };
	int pfd[2], real_fd;

	(void)state;
	SKIP_WITHOUT_NETNS();
	default_up(true);
	assert_int_equal(pipe2(pfd, O_NONBLOCK | O_CLOEXEC), 0);
	while (write(pfd[1], junk, sizeof(junk)) > 0)
		;
	real_fd = F.dev->fd;
	F.dev->fd = pfd[1];
	assert_int_equal(dev_queue_xmit(frame_skb(US_SKB_MAX_HEADER, 100, 1)),
			 -ENOBUFS);
	assert_int_equal(dev_queue_xmit(frame_skb(0, 100, 1)), -ENOBUFS);
	assert_int_equal(F.dev->stats.tx_dropped, 2);
	assert_int_equal(F.dev->stats.tx_packets, 0);
	assert_int_equal(F.st->stats.drops[US_DROP_DEV_TX_ERROR], 2);
	/* A read error other than "nothing there" is counted, not looped on. */
	assert_int_equal(F.dev->ops->poll(F.dev, 64), 0);
	assert_int_equal(F.dev->stats.rx_errors, 1);
	F.dev->fd = real_fd;
	close(pfd[0]);
	close(pfd[1]);
	fixture_down();
}

/*
 * No buffer for a frame (the skb pool is full): the frame is taken off
 * the TAP and dropped, counted, so that the fd stops being readable; left
 * there, every reader would wake again at once, read nothing and spin.
 */
static void test_rx_no_memory_drops(void **state)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	uint8_t frame[200];
	size_t limit;
	int n;

	(void)state;
	SKIP_WITHOUT_NETNS();
	default_up(true);
	to.sll_ifindex = (int)if_nametoindex(IFNAME);
	fill_frame(frame, sizeof(frame), F.dev->dev_addr, F.kmac, 9);
	limit = F.st->skb_pool.limit_bytes;
	F.st->skb_pool.limit_bytes = F.st->skb_pool.used_bytes + 1;
	assert_int_equal(sendto(F.pkt, frame, sizeof(frame), 0,
				(struct sockaddr *)&to, sizeof(to)),
			 sizeof(frame));
	assert_true(wait_readable(F.dev->fd, WAIT_MS));
	/* Every frame read is dropped and counted (ours, and any the
	 * kernel sent on its own). */
	n = F.dev->ops->poll(F.dev, 64);
	assert_true(n >= 1);
	assert_int_equal(F.dev->stats.rx_dropped, n);
	assert_int_equal(F.dev->stats.rx_packets, 0);
	assert_int_equal(F.st->stats.drops[US_DROP_NOMEM], n);
	assert_false(wait_readable(F.dev->fd, 0));
	F.st->skb_pool.limit_bytes = limit;
	check_rx();
	fixture_down();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_create_brings_link_up, teardown),
		cmocka_unit_test_teardown(test_random_mac, teardown),
		cmocka_unit_test_teardown(test_tx_byte_exact, teardown),
		cmocka_unit_test_teardown(test_rx_via_poll, teardown),
		cmocka_unit_test_teardown(test_no_vnet_hdr, teardown),
		cmocka_unit_test_teardown(test_rx_oversize_dropped, teardown),
		cmocka_unit_test_teardown(test_tx_vnet_partial_csum, teardown),
		cmocka_unit_test_teardown(test_tx_vnet_gso, teardown),
		cmocka_unit_test_teardown(test_rx_kernel_udp_and_bad_vnet_hdr, teardown),
		cmocka_unit_test_teardown(test_tx_queue_full_drops, teardown),
		cmocka_unit_test_teardown(test_rx_no_memory_drops, teardown),
		cmocka_unit_test_teardown(test_offload_features, teardown),
		cmocka_unit_test_teardown(test_tx_tso_frag_list, teardown),
		cmocka_unit_test_teardown(test_tx_gso_software_fallback, teardown),
		cmocka_unit_test_teardown(test_tx_thread_keeps_order, teardown),
		cmocka_unit_test_teardown(test_tx_thread_holds_until_written,
					  teardown),
		cmocka_unit_test_teardown(test_rx_gso_needs_csum, teardown),
		cmocka_unit_test_teardown(test_rx_gso_segmented_without_offload,
					  teardown),
		cmocka_unit_test_teardown(test_tx_udp_gso, teardown),
		cmocka_unit_test_teardown(test_tx_udp_gso_software, teardown),
		cmocka_unit_test_teardown(test_rx_udp_gso_cut, teardown),
		cmocka_unit_test_teardown(test_rx_udp_gso_whole, teardown),
		cmocka_unit_test_teardown(test_rx_udp_gso_without_offload,
					  teardown),
		cmocka_unit_test_teardown(test_rx_udp_gso_bad_headers, teardown),
	};
	int failed = cmocka_run_group_tests(tests, group_setup, NULL);

	if (skip_reason[0]) {
		/* The runner reads the last line as the reason for exit 77. */
		printf("skipped: %s\n", skip_reason);
		return failed ? 1 : 77;
	}
	return failed;
}
