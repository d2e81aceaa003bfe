/*
 * test_wire_offload.c - the in-memory wire's offloads, with TCP between
 * two instances on one virtual clock (src/dev/wire.c).
 *
 * Checked: a perfect wire offers checksum offload and TSO on both ends,
 * and a write of the most one IPv4 packet holds (45 segments) crosses as
 * one frame, arrives intact, and nothing was cut or summed in software;
 * a frame of three segments lands in a buffer near its size, so that the
 * receiving socket is charged at most twice its data (SO_MEMINFO);
 * with any fault, a rate, or no_offload, neither end offers an offload
 * and every frame the receiver sees fits the link MTU, the data intact;
 * the receiver skips checksum verification only for a frame that says
 * its checksum was left to the device: the same TCP segment with a bad
 * checksum and no such mark is dropped and counted, and on a corrupting
 * wire every frame whose IP or TCP bytes were hit is dropped and counted,
 * even one sent marked (the damage takes the mark away).
 *
 * What the receiver gets is read from a pcap capture on its device, which
 * netif_receive_skb feeds before the protocol level sees the frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sock_diag.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/checksum.h"
#include "dev/fault.h"
#include "dev/netdev.h"
#include "dev/wire.h"
#include "lib/pcapread.h"
#include "lib/sim.h"
#include "net/ether.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define T0 (1000 * US_USEC_PER_SEC)
#define PORT 5010
#define CLOSED_PORT 9
#define WARMUP (1u << 20)
#define CHUNK 65536
#define OFFLOADS (US_NETIF_F_HW_CSUM | US_NETIF_F_RXCSUM | US_NETIF_F_TSO | \
		  US_NETIF_F_GRO_HW)
/* The largest frame a 1500-byte link carries. */
#define LINK_FRAME (ETH_HLEN + 1500)
#define SYN_LEN (ETH_HLEN + 20 + 20)

struct wpair {
	struct us_clock clock;
	struct ustack *st[2];
	struct net_device *d[2];
	uint32_t addr[2];
	char cap[64];              /* what d[1] receives */
	int cfd, sfd, lfd;
	size_t sent, rcvd;
	bool bad;
};

static uint8_t pattern(size_t off)
{
	return (uint8_t)((off * 2654435761u) >> 11);
}

static void wpair_up(struct wpair *p, const struct wire_params *wp)
{
	memset(p, 0, sizeof(*p));
	p->cfd = p->sfd = p->lfd = -1;
	us_clock_init_virtual(&p->clock, T0);
	p->st[0] = sim_stack(&p->clock, 1);
	p->st[1] = sim_stack(&p->clock, 2);
	assert_non_null(p->st[0]);
	assert_non_null(p->st[1]);
	assert_int_equal(wire_pair_create(p->st[0], p->st[1], wp, &p->d[0],
					  &p->d[1]), 0);
	p->addr[0] = inet_addr("10.31.0.1");
	p->addr[1] = inet_addr("10.31.0.2");
	assert_int_equal(netdev_set_ipv4(p->d[0], p->addr[0], 24), 0);
	assert_int_equal(netdev_set_ipv4(p->d[1], p->addr[1], 24), 0);
	tp_capture(p->d[1], p->cap, sizeof(p->cap));
}

static void wpair_down(struct wpair *p)
{
	if (p->cfd >= 0)
		us_close(p->cfd);
	if (p->sfd >= 0)
		us_close(p->sfd);
	if (p->lfd >= 0)
		us_close(p->lfd);
	sim_run_until(&p->clock, p->st, 2, p->clock.virt + 600 * US_USEC_PER_SEC);
	ustack_destroy(p->st[0]);
	ustack_destroy(p->st[1]);
	unlink(p->cap);
}

static uint64_t mib(const struct wpair *p, int i, enum us_mib m)
{
	return p->st[i]->stats.mib[m];
}

static uint64_t drops(const struct wpair *p, int i, enum us_drop_reason r)
{
	return p->st[i]->stats.drops[r];
}

/* ---- a TCP connection across the wire ---------------------------------- */

static void wpair_connect(struct wpair *p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons(PORT),
				  .sin_addr.s_addr = p->addr[1] };
	int big = 4 << 20;

	p->lfd = us_socket_on(p->st[1], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(p->lfd >= 0);
	/* Room for the whole 64 KB write in the window whatever autotuning
	 * has reached. */
	assert_int_equal(us_setsockopt(p->lfd, SOL_SOCKET, SO_RCVBUF, &big,
				       sizeof(big)), 0);
	assert_int_equal(us_bind(p->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(us_listen(p->lfd, 4), 0);
	p->cfd = us_socket_on(p->st[0], AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(p->cfd >= 0);
	assert_int_equal(us_setsockopt(p->cfd, SOL_SOCKET, SO_SNDBUF, &big,
				       sizeof(big)), 0);
	assert_int_equal(us_connect(p->cfd, (struct sockaddr *)&sa, sizeof(sa)),
			 -1);
	assert_int_equal(errno, EINPROGRESS);
	/* With no delay the handshake may end inside one step, with no
	 * event left after it: accept again before asking for one. */
	for (int tries = 0;
	     (p->sfd = us_accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK)) < 0;
	     tries++) {
		assert_true(tries < 100);
		sim_advance(&p->clock, p->st, 2,
			    p->clock.virt + 10 * US_USEC_PER_SEC);
	}
}

/* Read what has arrived, checking every byte against the pattern. */
static bool wpair_read(struct wpair *p)
{
	static uint8_t buf[CHUNK];
	bool did = false;
	ssize_t n;

	while ((n = us_recv(p->sfd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] != pattern(p->rcvd + (size_t)i))
				p->bad = true;
		p->rcvd += (size_t)n;
		did = true;
	}
	return did;
}

/* Send `len` more bytes (in writes of up to `chunk`), until all arrived. */
static void wpair_transfer(struct wpair *p, size_t len, size_t chunk)
{
	static uint8_t buf[CHUNK];
	size_t end = p->sent + len;
	us_time_t deadline = p->clock.virt + 600 * US_USEC_PER_SEC;

	while (p->rcvd < end && !p->bad) {
		bool did = false;

		if (p->sent < end) {
			size_t n = end - p->sent < chunk ? end - p->sent : chunk;
			ssize_t k;

			for (size_t i = 0; i < n; i++)
				buf[i] = pattern(p->sent + i);
			k = us_send(p->cfd, buf, n, MSG_DONTWAIT);
			if (k > 0) {
				p->sent += (size_t)k;
				did = true;
			}
		}
		did |= wpair_read(p);
		if (!did && !sim_advance(&p->clock, p->st, 2, deadline))
			break;
	}
	assert_false(p->bad);
	assert_int_equal(p->rcvd, end);
}

static struct tcp_info wpair_info(const struct wpair *p)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);

	assert_int_equal(us_getsockopt(p->cfd, IPPROTO_TCP, TCP_INFO, &ti,
				       &len), 0);
	return ti;
}

/* The most full-sized segments one IPv4 packet holds, as one write. */
static size_t gso_write_len(const struct wpair *p)
{
	struct tcp_info ti = wpair_info(p);
	unsigned int hdrs = 20 + 20 + 12;    /* IPv4, TCP, timestamps */

	assert_int_equal(ti.tcpi_snd_mss, 1500 - hdrs);
	return (65535 - hdrs) / ti.tcpi_snd_mss * ti.tcpi_snd_mss;
}

/* ---- (a) offloads: 64 KB as one frame ---------------------------------- */

/* TCP payload bytes of a captured frame that `from` sent (0 otherwise;
 * the capture also holds what the receiver sent and ARP). */
static unsigned int tcp_payload(const struct net_device *from,
				const struct tp_record *r)
{
	const uint8_t *ip = r->data + ETH_HLEN, *th;
	unsigned int iplen, ihl;

	if (r->incl_len < ETH_HLEN + 40 ||
	    memcmp(r->data + 6, from->dev_addr, ETH_ALEN) != 0 ||
	    r->data[12] != 0x08 || r->data[13] != 0x00 || ip[9] != IPPROTO_TCP)
		return 0;
	iplen = (unsigned int)ip[2] << 8 | ip[3];
	ihl = (ip[0] & 0xfu) * 4;
	th = ip + ihl;
	return iplen - ihl - (th[12] >> 4) * 4u;
}

static void test_gso_write_crosses_as_one_frame(void **state)
{
	struct wire_params wp = { .seed = 1 };
	struct tp_file f;
	struct wpair p;
	uint64_t rx_gso0;
	size_t len;
	int n0, data = 0;

	(void)state;
	wpair_up(&p, &wp);
	assert_int_equal(p.d[0]->features & OFFLOADS, OFFLOADS);
	assert_int_equal(p.d[1]->features & OFFLOADS, OFFLOADS);
	wpair_connect(&p);
	/* Slow start opens the window past what one packet holds. */
	wpair_transfer(&p, WARMUP, CHUNK);
	len = gso_write_len(&p);
	assert_true(len > 64000);
	assert_true(wpair_info(&p).tcpi_snd_cwnd * wpair_info(&p).tcpi_snd_mss
		    >= len);

	tp_capture_read(p.d[1], p.cap, &f);
	n0 = f.n;
	tp_free(&f);
	rx_gso0 = mib(&p, 1, US_MIB_DEV_RX_GSO);
	wpair_transfer(&p, len, len);

	/* The receiver got the write whole, as one frame. */
	assert_int_equal(mib(&p, 1, US_MIB_DEV_RX_GSO) - rx_gso0, 1);
	tp_capture_read(p.d[1], p.cap, &f);
	for (int i = n0; i < f.n; i++) {
		if (tcp_payload(p.d[0], &f.rec[i]) == 0)
			continue;
		assert_int_equal(tcp_payload(p.d[0], &f.rec[i]), len);
		assert_int_equal(f.rec[i].orig_len, ETH_HLEN + 20 + 32 + len);
		data++;
	}
	tp_free(&f);
	assert_int_equal(data, 1);
	/* Nothing was cut or summed in software, nothing refused. */
	assert_int_equal(mib(&p, 0, US_MIB_DEV_GSO_SEGMENTS), 0);
	assert_int_equal(mib(&p, 0, US_MIB_DEV_CSUM_HELP), 0);
	assert_int_equal(drops(&p, 1, US_DROP_TCP_BAD_CSUM), 0);
	assert_true(mib(&p, 0, US_MIB_DEV_TX_GSO) > 0);
	wpair_down(&p);
}

/*
 * A GSO frame of a few segments lands in a buffer near its size, not in
 * one for the largest packet: the receiving socket is charged at most
 * twice the data (what its window, half the free buffer, allows for).
 * In 64 KB buffers, bursts of a few segments charged the socket more than
 * ten times their data, and the receiver dropped data inside its window.
 */
static void test_small_gso_frame_small_buffer(void **state)
{
	struct wire_params wp = { .seed = 1 };
	uint8_t buf[3 * 1448];
	uint32_t m[SK_MEMINFO_VARS];
	socklen_t mlen = sizeof(m);
	struct wpair p;
	uint64_t rx_gso0;
	int inq = 0;
	size_t len;

	(void)state;
	wpair_up(&p, &wp);
	wpair_connect(&p);
	wpair_transfer(&p, WARMUP, CHUNK);
	len = 3 * wpair_info(&p).tcpi_snd_mss;
	assert_true(len <= sizeof(buf));
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(p.sent + i);
	rx_gso0 = mib(&p, 1, US_MIB_DEV_RX_GSO);
	assert_int_equal(us_send(p.cfd, buf, len, MSG_DONTWAIT), (ssize_t)len);
	p.sent += len;
	for (int steps = 0; (size_t)inq < len; steps++) {
		assert_true(steps < 100);
		sim_advance(&p.clock, p.st, 2,
			    p.clock.virt + 10 * US_USEC_PER_SEC);
		assert_int_equal(us_ioctl(p.sfd, FIONREAD, &inq), 0);
	}
	assert_int_equal(inq, len);
	assert_int_equal(mib(&p, 1, US_MIB_DEV_RX_GSO) - rx_gso0, 1);
	assert_int_equal(us_getsockopt(p.sfd, SOL_SOCKET, SO_MEMINFO, m,
				       &mlen), 0);
	assert_true(m[SK_MEMINFO_RMEM_ALLOC] > len);
	assert_true(m[SK_MEMINFO_RMEM_ALLOC] <= 2 * len + 1024);
	wpair_read(&p);
	assert_int_equal(p.rcvd, p.sent);
	assert_false(p.bad);
	wpair_down(&p);
}

/* ---- (b) faults, a rate, no_offload: link-sized frames ----------------- */

static void mtu_sized_run(const struct wire_params *wp)
{
	struct tp_file f;
	struct wpair p;
	size_t len;

	wpair_up(&p, wp);
	assert_int_equal(p.d[0]->features, 0);
	assert_int_equal(p.d[1]->features, 0);
	wpair_connect(&p);
	wpair_transfer(&p, WARMUP, CHUNK);
	len = gso_write_len(&p);
	wpair_transfer(&p, len, len);

	tp_capture_read(p.d[1], p.cap, &f);
	assert_true(f.n > (int)((WARMUP + len) / 1500));
	for (int i = 0; i < f.n; i++)
		assert_true(f.rec[i].orig_len <= LINK_FRAME);
	tp_free(&f);
	assert_int_equal(mib(&p, 1, US_MIB_DEV_RX_GSO), 0);
	assert_int_equal(mib(&p, 0, US_MIB_DEV_TX_GSO), 0);
	wpair_down(&p);
}

static void test_faults_keep_link_sized_frames(void **state)
{
	/* Each fault at one in a million: configured, so the frames must be
	 * link-sized although it will hardly ever strike. */
	const struct wire_params runs[] = {
		{ .seed = 1, .loss_ppm = 1 },
		{ .seed = 1, .dup_ppm = 1 },
		{ .seed = 1, .reorder_ppm = 1 },
		{ .seed = 1, .corrupt_ppm = 1 },
		{ .seed = 1, .rate_bps = 10000000000ull },
		{ .seed = 1, .no_offload = true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
		mtu_sized_run(&runs[i]);
}

/* ---- (c) checksum verification ----------------------------------------- */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

enum syn_csum {
	SYN_CSUM_GOOD,      /* complete and right */
	SYN_CSUM_BAD,       /* complete and wrong */
	SYN_CSUM_PARTIAL,   /* left to the device: the pseudo-header sum */
};

/*
 * Send a SYN from d[0] to a closed port of d[1] (which answers a good one
 * with a RST): correct Ethernet and IPv4 headers, the TCP checksum as asked.
 */
static void send_syn(struct wpair *p, uint16_t sport, enum syn_csum c)
{
	struct sk_buff *skb = us_skb_alloc(p->st[0], 64 + SYN_LEN);
	uint8_t *fr, *ip, *th;
	uint32_t pseudo;
	uint16_t sum;

	assert_non_null(skb);
	assert_int_equal(skb_reserve(skb, 64), 0);
	fr = skb_put(skb, SYN_LEN);
	memset(fr, 0, SYN_LEN);
	memcpy(fr, p->d[1]->dev_addr, ETH_ALEN);
	memcpy(fr + 6, p->d[0]->dev_addr, ETH_ALEN);
	put16(fr + 12, ETH_P_IP);
	ip = fr + ETH_HLEN;
	ip[0] = 0x45;
	put16(ip + 2, 40);
	put16(ip + 4, sport);
	ip[8] = 64;
	ip[9] = IPPROTO_TCP;
	memcpy(ip + 12, &p->addr[0], 4);
	memcpy(ip + 16, &p->addr[1], 4);
	put16(ip + 10, inet_csum(ip, 20));
	th = ip + 20;
	put16(th, sport);
	put16(th + 2, CLOSED_PORT);
	th[4] = 0x12;                 /* sequence number 0x12345678 */
	th[5] = 0x34;
	th[6] = 0x56;
	th[7] = 0x78;
	th[12] = 5 << 4;
	th[13] = 0x02;                /* SYN */
	put16(th + 14, 65535);
	pseudo = csum_tcpudp_nofold(p->addr[0], p->addr[1], IPPROTO_TCP, 20, 0);
	sum = csum_fold(csum_partial(th, 20, pseudo));
	switch (c) {
	case SYN_CSUM_GOOD:
		put16(th + 16, sum);
		break;
	case SYN_CSUM_BAD:
		put16(th + 16, (uint16_t)(sum ^ 0x0101));
		break;
	case SYN_CSUM_PARTIAL:
		put16(th + 16, (uint16_t)~csum_fold(pseudo));
		skb->ip_summed = CHECKSUM_PARTIAL;
		skb->csum_start = (uint16_t)(skb_headroom(skb) + ETH_HLEN + 20);
		skb->csum_offset = 16;
		break;
	}
	skb->dev = p->d[0];
	assert_int_equal(dev_queue_xmit(skb), 0);
	sim_run_until(&p->clock, p->st, 2, p->clock.virt + 1000);
}

static void test_csum_skipped_only_when_frame_says(void **state)
{
	struct wire_params wp = { .seed = 1 };
	struct wpair p;
	uint64_t rsts, bad, errs;

	(void)state;
	wpair_up(&p, &wp);
	/* A good SYN is answered (and teaches both ends the other's MAC). */
	rsts = mib(&p, 1, US_MIB_TCP_OUT_RSTS);
	send_syn(&p, 40000, SYN_CSUM_GOOD);
	assert_int_equal(mib(&p, 1, US_MIB_TCP_OUT_RSTS), rsts + 1);

	/* The same with a wrong checksum and no mark: checked, dropped,
	 * counted, not answered, although the device has RXCSUM. */
	rsts = mib(&p, 1, US_MIB_TCP_OUT_RSTS);
	bad = drops(&p, 1, US_DROP_TCP_BAD_CSUM);
	errs = mib(&p, 1, US_MIB_TCP_IN_ERRS);
	send_syn(&p, 40001, SYN_CSUM_BAD);
	assert_int_equal(drops(&p, 1, US_DROP_TCP_BAD_CSUM), bad + 1);
	assert_int_equal(mib(&p, 1, US_MIB_TCP_IN_ERRS), errs + 1);
	assert_int_equal(mib(&p, 1, US_MIB_TCP_OUT_RSTS), rsts);

	/* Left to the device: the field holds only the pseudo-header sum,
	 * which would fail a check, and the frame says so: not checked. */
	send_syn(&p, 40002, SYN_CSUM_PARTIAL);
	assert_int_equal(drops(&p, 1, US_DROP_TCP_BAD_CSUM), bad + 1);
	assert_int_equal(mib(&p, 1, US_MIB_TCP_OUT_RSTS), rsts + 1);
	wpair_down(&p);
}

/* Frames d[0] sent (cap0) and d[1] received (p->cap) so far. */
static void cap_counts(struct wpair *p, const char *cap0, int *m, int *n)
{
	struct tp_file f;

	tp_capture_read(p->d[0], cap0, &f);
	*m = f.n;
	tp_free(&f);
	tp_capture_read(p->d[1], p->cap, &f);
	*n = f.n;
	tp_free(&f);
}

/*
 * Which byte of the frame the wire damaged: the first that differs
 * between d[0]'s m-th frame sent and d[1]'s n-th received (the SYN, the
 * first frame each way since the counts were taken).
 */
static int damaged_byte(struct wpair *p, const char *cap0, int m, int n)
{
	struct tp_file out, in;
	int at = -1;

	tp_capture_read(p->d[0], cap0, &out);
	tp_capture_read(p->d[1], p->cap, &in);
	assert_true(out.n > m);
	assert_true(in.n > n);
	assert_int_equal(out.rec[m].incl_len, SYN_LEN);
	assert_int_equal(in.rec[n].incl_len, SYN_LEN);
	for (int i = 0; i < SYN_LEN && at < 0; i++)
		if (in.rec[n].data[i] != out.rec[m].data[i])
			at = i;
	tp_free(&out);
	tp_free(&in);
	assert_true(at >= 0);
	return at;
}

static void test_corrupted_frames_are_checked(void **state)
{
	struct wire_params wp = { .seed = 5, .corrupt_ppm = FAULT_PPM_ONE };
	struct wpair p;
	char cap0[64];
	int hit_ip = 0, hit_tcp = 0;  /* frames dropped for each sum */

	(void)state;
	wpair_up(&p, &wp);
	tp_capture(p.d[0], cap0, sizeof(cap0));
	assert_int_equal(p.d[0]->features, 0);
	assert_int_equal(p.d[1]->features, 0);
	for (uint16_t i = 0; i < 32; i++) {
		uint64_t total = p.st[1]->stats.drops_total;
		uint64_t bad = drops(&p, 1, US_DROP_TCP_BAD_CSUM);
		uint64_t rsts = mib(&p, 1, US_MIB_TCP_OUT_RSTS);
		int m, n, at;

		cap_counts(&p, cap0, &m, &n);
		send_syn(&p, (uint16_t)(41000 + i), SYN_CSUM_GOOD);
		at = damaged_byte(&p, cap0, m, n);
		if (at < ETH_HLEN)
			continue;  /* the Ethernet header has no checksum here */
		/* A bit of the IPv4 or TCP bytes: their sums catch every
		 * single-bit error, so dropped, counted and not answered
		 * (a damaged TCP header length is refused before the sum). */
		assert_true(p.st[1]->stats.drops_total > total);
		assert_int_equal(mib(&p, 1, US_MIB_TCP_OUT_RSTS), rsts);
		if (at < ETH_HLEN + 20)
			hit_ip++;
		else if (drops(&p, 1, US_DROP_TCP_BAD_CSUM) == bad + 1)
			hit_tcp++;
	}
	assert_true(hit_tcp > 0);
	assert_true(hit_ip > 0);

	/*
	 * Offloads forced on over the faults (not what wire_pair_create
	 * does): a frame sent marked and then damaged loses the mark, so its
	 * unfinished checksum is checked and fails.
	 */
	p.d[0]->features = OFFLOADS;
	p.d[1]->features = OFFLOADS;
	for (uint16_t i = 0; i < 8; i++) {
		uint64_t total = p.st[1]->stats.drops_total;
		uint64_t rsts = mib(&p, 1, US_MIB_TCP_OUT_RSTS);

		send_syn(&p, (uint16_t)(42000 + i), SYN_CSUM_PARTIAL);
		assert_int_equal(mib(&p, 1, US_MIB_TCP_OUT_RSTS), rsts);
		assert_true(p.st[1]->stats.drops_total > total);
	}
	wpair_down(&p);
	unlink(cap0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gso_write_crosses_as_one_frame),
		cmocka_unit_test(test_small_gso_frame_small_buffer),
		cmocka_unit_test(test_faults_keep_link_sized_frames),
		cmocka_unit_test(test_csum_skipped_only_when_frame_says),
		cmocka_unit_test(test_corrupted_frames_are_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
