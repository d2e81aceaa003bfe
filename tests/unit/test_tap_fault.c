/*
 * test_tap_fault.c - the fault layer on a TAP device (dev/tap_fault.c)
 * against the real kernel, inside a network namespace this test creates
 * (never the host's), in virtual time.
 *
 * Every frame carries its number. The fate of each is predicted with an
 * independent struct fault_state seeded as the device seeds its own, and
 * the test checks that the TAP did exactly that: on transmit, the kernel
 * side (an AF_PACKET socket on the TAP) receives precisely the frames the
 * dice did not lose, a duplicated frame twice, a reordered one only once
 * the virtual clock reached its release time and after the frames that
 * overtook it; on receive, the frames the stack is handed (its capture,
 * taken after the fault layer) are precisely the ones not lost, in the
 * predicted order, and the drops are counted as dev_fault_loss. A clean
 * config leaves both paths untouched, and ustack_add_tap refuses
 * probabilities above one.
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
#include <net/if.h>
#include <netpacket/packet.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dev/fault.h"
#include "dev/netdev.h"
#include "dev/tap.h"
#include "dev/tap_fault.h"
#include "lib/netns.h"
#include "lib/pcapread.h"
#include "stack/stack.h"

#define T0 (1000 * US_USEC_PER_SEC)
#define IFNAME "ustapf0"
#define ETHERTYPE_TEST 0x88b5
#define FRAME_LEN 100
#define SEED 0x5eed1234ull
#define NFRAMES 200
#define QUIET_MS 150      /* "nothing more arrives" */
#define WAIT_MS 3000

static char skip_reason[200];

static struct {
	struct us_clock clock;
	struct ustack *st;
	struct net_device *dev;
	int pkt;              /* AF_PACKET socket on the kernel side */
	uint8_t kmac[6];
	char cap[64];
} F;

/* ---- namespace and fixture -------------------------------------------- */

static void write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (write(fd, val, strlen(val)) < 0)
			(void)0;   /* best effort: IPv6 only adds noise */
		close(fd);
	}
}

static int group_setup(void **state)
{
	int fd;

	(void)state;
	if (netns_enter_private(skip_reason, sizeof(skip_reason)) < 0)
		return 0;
	fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(skip_reason, sizeof(skip_reason),
			 "cannot open /dev/net/tun: %s", strerror(errno));
		return 0;
	}
	close(fd);
	/* The kernel's own IPv6 frames would draw dice too. */
	write_sysctl("/proc/sys/net/ipv6/conf/all/disable_ipv6", "1");
	write_sysctl("/proc/sys/net/ipv6/conf/default/disable_ipv6", "1");
	return 0;
}

#define SKIP_WITHOUT_NETNS() \
	do { \
		if (skip_reason[0]) { \
			print_message("skipped: %s\n", skip_reason); \
			skip(); \
		} \
	} while (0)

static int packet_socket(void)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETHERTYPE_TEST) };
	int one = 1;
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETHERTYPE_TEST));

	assert_true(s >= 0);
	sll.sll_ifindex = (int)if_nametoindex(IFNAME);
	assert_true(sll.sll_ifindex > 0);
	assert_int_equal(setsockopt(s, SOL_PACKET, PACKET_IGNORE_OUTGOING,
				    &one, sizeof(one)), 0);
	assert_int_equal(bind(s, (struct sockaddr *)&sll, sizeof(sll)), 0);
	return s;
}

static void up(const struct fault_params *tx, const struct fault_params *rx)
{
	struct tap_config cfg = { .ifname = IFNAME, .tx_fault = tx,
				  .rx_fault = rx, .fault_seed = SEED };
	struct ustack_config sc;
	struct ifreq ifr;
	int err = 1, s;

	memset(&F, 0, sizeof(F));
	F.pkt = -1;
	us_clock_init_virtual(&F.clock, T0);
	ustack_config_init(&sc);
	sc.clock = &F.clock;
	sc.seed = 1;
	sc.log_level = 0;
	F.st = ustack_create(&sc);
	assert_non_null(F.st);
	F.dev = tap_create(F.st, &cfg, &err);
	assert_int_equal(err, 0);
	assert_non_null(F.dev);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", IFNAME);
	assert_int_equal(ioctl(s, SIOCGIFHWADDR, &ifr), 0);
	close(s);
	memcpy(F.kmac, ifr.ifr_hwaddr.sa_data, 6);
	F.pkt = packet_socket();
	tp_capture(F.dev, F.cap, sizeof(F.cap));
}

static int teardown(void **state)
{
	(void)state;
	if (F.pkt >= 0)
		close(F.pkt);
	F.pkt = -1;
	ustack_destroy(F.st);
	F.st = NULL;
	if (F.cap[0])
		unlink(F.cap);
	F.cap[0] = '\0';
	return 0;
}

/* ---- frames ------------------------------------------------------------ */

static void fill_frame(uint8_t *p, const uint8_t *dst, const uint8_t *src,
		       uint32_t id)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	p[12] = ETHERTYPE_TEST >> 8;
	p[13] = ETHERTYPE_TEST & 0xff;
	memcpy(p + 14, &id, 4);
	for (size_t i = 18; i < FRAME_LEN; i++)
		p[i] = (uint8_t)(id + i);
}

static uint32_t frame_id(const uint8_t *p)
{
	uint32_t id;

	memcpy(&id, p + 14, 4);
	return id;
}

/* ustack sends frame `id` through the device. */
static void send_from_ustack(uint32_t id)
{
	struct sk_buff *skb = us_skb_alloc(F.st, FRAME_LEN);

	assert_non_null(skb);
	fill_frame(skb_put(skb, FRAME_LEN), F.kmac, F.dev->dev_addr, id);
	skb->dev = F.dev;
	assert_int_equal(dev_queue_xmit(skb), 0);
}

/* The kernel sends frame `id` into the TAP, towards ustack. */
static void send_from_kernel(uint32_t id)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_halen = 6 };
	uint8_t frame[FRAME_LEN];

	to.sll_ifindex = (int)if_nametoindex(IFNAME);
	fill_frame(frame, F.dev->dev_addr, F.kmac, id);
	assert_int_equal(sendto(F.pkt, frame, sizeof(frame), 0,
				(struct sockaddr *)&to, sizeof(to)),
			 sizeof(frame));
}

/* Ids of the test frames the kernel side receives until QUIET_MS pass
 * without one (at most max). */
static int kernel_receive(uint32_t *ids, int max)
{
	uint8_t buf[256];
	int n = 0;

	for (;;) {
		struct pollfd p = { .fd = F.pkt, .events = POLLIN };
		ssize_t len;

		if (poll(&p, 1, QUIET_MS) != 1)
			return n;
		len = recv(F.pkt, buf, sizeof(buf), 0);
		if (len != FRAME_LEN || buf[12] != ETHERTYPE_TEST >> 8)
			continue;
		assert_true(n < max);
		ids[n++] = frame_id(buf);
	}
}

/* Poll the device until `want` frames were read from the TAP (delivered
 * or lost), or WAIT_MS pass. */
static void ustack_receive(uint64_t want)
{
	for (int waited = 0; waited < WAIT_MS; waited += 10) {
		uint64_t seen = F.st->stats.drops[US_DROP_DEV_FAULT_LOSS] +
				F.st->stats.drops[US_DROP_ETH_UNKNOWN_TYPE];
		struct pollfd p = { .fd = F.dev->fd, .events = POLLIN };

		if (seen >= want)
			return;
		poll(&p, 1, 10);
		us_engine_begin(F.st);
		us_engine_step(F.st, 64);
	}
}

/* Ids of the test frames the stack was handed, from its capture. */
static int captured_rx(uint32_t *ids, int max)
{
	struct tp_file f;
	int n = 0;

	tp_capture_read(F.dev, F.cap, &f);
	for (int i = 0; i < f.n; i++) {
		const uint8_t *d = f.rec[i].data;

		if (f.rec[i].incl_len != FRAME_LEN ||
		    memcmp(d, F.dev->dev_addr, 6) != 0 ||
		    d[12] != ETHERTYPE_TEST >> 8)
			continue;
		assert_true(n < max);
		ids[n++] = frame_id(d);
	}
	tp_free(&f);
	return n;
}

/* Move virtual time on and run what is due (the held frames' timer). */
static void advance(us_time_t us)
{
	us_clock_advance(&F.clock, us);
	us_engine_begin(F.st);
	us_engine_step(F.st, 64);
}

/*
 * The expected arrival order for n frames under p drawn from `seed`:
 * not lost; a duplicate first (it is sent at once), then the frame
 * itself, unless held back, in which case it comes after every frame
 * that was not (all are released together at the end here).
 */
static int predict(const struct fault_params *p, uint64_t seed, int n,
		   uint32_t *ids, int max, int *lost, int *nheld)
{
	struct fault_state fs;
	struct fault_verdict v;
	uint32_t held[NFRAMES];
	int k = 0, h = 0;

	fault_init(&fs, p, seed);
	*lost = 0;
	for (int i = 0; i < n; i++) {
		fault_decide(&fs, T0, FRAME_LEN, &v);
		if (v.lost) {
			(*lost)++;
			continue;
		}
		if (v.duplicate) {
			assert_true(k < max);
			ids[k++] = (uint32_t)i;
		}
		if (v.reorder)
			held[h++] = (uint32_t)i;
		else {
			assert_true(k < max);
			ids[k++] = (uint32_t)i;
		}
	}
	for (int i = 0; i < h; i++) {
		assert_true(k < max);
		ids[k++] = held[i];
	}
	if (nheld)
		*nheld = h;
	return k;
}

static void assert_ids_equal(const uint32_t *got, int ngot,
			     const uint32_t *want, int nwant)
{
	assert_int_equal(ngot, nwant);
	for (int i = 0; i < nwant; i++)
		assert_int_equal(got[i], want[i]);
}

/* ---- tests ------------------------------------------------------------- */

static void test_clean_path(void **state)
{
	uint32_t got[NFRAMES];
	int n;

	(void)state;
	SKIP_WITHOUT_NETNS();
	up(NULL, NULL);
	for (uint32_t i = 0; i < 20; i++)
		send_from_ustack(i);
	n = kernel_receive(got, NFRAMES);
	assert_int_equal(n, 20);
	for (int i = 0; i < n; i++)
		assert_int_equal(got[i], i);
	for (uint32_t i = 0; i < 20; i++)
		send_from_kernel(i);
	ustack_receive(20);
	assert_int_equal(captured_rx(got, NFRAMES), 20);
	assert_int_equal(F.st->stats.drops[US_DROP_DEV_FAULT_LOSS], 0);
}

static void test_tx_loss_follows_the_dice(void **state)
{
	struct fault_params p = { .loss_ppm = 300000 };
	uint32_t got[2 * NFRAMES], want[2 * NFRAMES];
	int ngot, nwant, lost;

	(void)state;
	SKIP_WITHOUT_NETNS();
	up(&p, NULL);
	for (uint32_t i = 0; i < NFRAMES; i++)
		send_from_ustack(i);
	ngot = kernel_receive(got, 2 * NFRAMES);
	nwant = predict(&p, SEED, NFRAMES, want, 2 * NFRAMES, &lost, NULL);
	assert_true(lost > NFRAMES / 5 && lost < NFRAMES / 2);
	assert_ids_equal(got, ngot, want, nwant);
	assert_int_equal(F.st->stats.drops[US_DROP_DEV_FAULT_LOSS], lost);
}

static void test_tx_all_lost_and_all_duplicated(void **state)
{
	struct fault_params all_lost = { .loss_ppm = FAULT_PPM_ONE };
	struct fault_params all_dup = { .dup_ppm = FAULT_PPM_ONE };
	uint32_t got[2 * NFRAMES];

	(void)state;
	SKIP_WITHOUT_NETNS();
	up(&all_lost, NULL);
	for (uint32_t i = 0; i < 20; i++)
		send_from_ustack(i);
	assert_int_equal(kernel_receive(got, 2 * NFRAMES), 0);
	assert_int_equal(F.st->stats.drops[US_DROP_DEV_FAULT_LOSS], 20);
	teardown(NULL);

	up(&all_dup, NULL);
	for (uint32_t i = 0; i < 20; i++)
		send_from_ustack(i);
	assert_int_equal(kernel_receive(got, 2 * NFRAMES), 40);
	for (int i = 0; i < 40; i++)
		assert_int_equal(got[i], i / 2);
	assert_int_equal(F.st->stats.mib[US_MIB_DEV_FAULT_DUPLICATED], 20);
}

/* Held frames leave only once the virtual clock reaches their time. */
static void test_tx_reorder_waits_for_the_clock(void **state)
{
	struct fault_params p = { .reorder_ppm = 400000,
				  .reorder_delay_us = 5000 };
	uint32_t got[2 * NFRAMES], want[2 * NFRAMES];
	int ngot, nwant, lost, held;

	(void)state;
	SKIP_WITHOUT_NETNS();
	up(&p, NULL);
	for (uint32_t i = 0; i < NFRAMES; i++)
		send_from_ustack(i);
	held = (int)F.st->stats.mib[US_MIB_DEV_FAULT_REORDERED];
	assert_true(held > 0 && held < NFRAMES);
	/* Before the release time, only the frames not held. */
	advance(4999);
	ngot = kernel_receive(got, 2 * NFRAMES);
	assert_int_equal(ngot, NFRAMES - held);
	/* Then the held ones, in the order they were sent. */
	advance(1);
	ngot += kernel_receive(got + ngot, 2 * NFRAMES - ngot);
	nwant = predict(&p, SEED, NFRAMES, want, 2 * NFRAMES, &lost, NULL);
	assert_int_equal(lost, 0);
	assert_ids_equal(got, ngot, want, nwant);
}

static void test_rx_loss_dup_reorder_follow_the_dice(void **state)
{
	struct fault_params p = { .loss_ppm = 200000, .dup_ppm = 100000,
				  .reorder_ppm = 100000 };
	uint32_t got[2 * NFRAMES], want[2 * NFRAMES];
	int ngot, nwant, lost, held;

	(void)state;
	SKIP_WITHOUT_NETNS();
	up(NULL, &p);
	for (uint32_t i = 0; i < NFRAMES; i++)
		send_from_kernel(i);
	nwant = predict(&p, SEED ^ TAP_FAULT_RX_SEED_MIX, NFRAMES, want,
			2 * NFRAMES, &lost, &held);
	/* Every frame read: lost, handed up (duplicates twice), or held. */
	ustack_receive((uint64_t)(lost + nwant - held));
	assert_int_equal(F.st->stats.mib[US_MIB_DEV_FAULT_REORDERED], held);
	advance(US_USEC_PER_MS);   /* the default reorder delay */
	ngot = captured_rx(got, 2 * NFRAMES);
	assert_true(lost > 0 && F.st->stats.mib[US_MIB_DEV_FAULT_DUPLICATED] > 0 &&
		    F.st->stats.mib[US_MIB_DEV_FAULT_REORDERED] > 0);
	assert_ids_equal(got, ngot, want, nwant);
	assert_int_equal(F.st->stats.drops[US_DROP_DEV_FAULT_LOSS], lost);
	assert_int_equal(F.dev->stats.rx_dropped, lost);
}

/* The public API checks the probabilities. */
static void test_api_refuses_bad_probability(void **state)
{
	struct ustack_ifconfig ifc = { .ifname = IFNAME, .prefix_len = 24 };
	struct ustack_config sc;
	struct ustack *st;

	(void)state;
	SKIP_WITHOUT_NETNS();
	ustack_config_init(&sc);
	sc.log_level = 0;
	st = ustack_create(&sc);
	assert_non_null(st);
	inet_pton(AF_INET, "10.66.0.2", &ifc.addr);
	ifc.rx_fault.loss_ppm = FAULT_PPM_ONE + 1;
	assert_int_equal(ustack_add_tap(st, &ifc), -EINVAL);
	ifc.rx_fault.loss_ppm = 50000;
	ifc.tx_fault.reorder_ppm = 50000;
	assert_int_equal(ustack_add_tap(st, &ifc), 0);
	ustack_destroy(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_clean_path, teardown),
		cmocka_unit_test_teardown(test_tx_loss_follows_the_dice, teardown),
		cmocka_unit_test_teardown(test_tx_all_lost_and_all_duplicated,
					  teardown),
		cmocka_unit_test_teardown(test_tx_reorder_waits_for_the_clock,
					  teardown),
		cmocka_unit_test_teardown(test_rx_loss_dup_reorder_follow_the_dice,
					  teardown),
		cmocka_unit_test_teardown(test_api_refuses_bad_probability,
					  teardown),
	};
	int failed = cmocka_run_group_tests(tests, group_setup, NULL);

	if (skip_reason[0]) {
		/* The runner reads the last line as the reason for exit 77. */
		printf("skipped: %s\n", skip_reason);
		return failed ? 1 : 77;
	}
	return failed;
}
