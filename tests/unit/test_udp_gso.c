/*
 * test_udp_gso.c - what UDP_SEGMENT hands the device (Linux's
 * udp_send_skb with a gso_size), on a test device whose offloads each
 * test sets:
 *  - with checksum offload and USO (US_NETIF_F_GSO_UDP_L4), one GSO
 *    packet (SKB_GSO_UDP_L4): the whole length in the IP and UDP headers,
 *    the checksum left partial with the pseudo-header sum of that length,
 *    so that finishing it over the whole gives a valid checksum (the
 *    virtio-net contract a TAP with USO passes on to the kernel);
 *  - without them, the datagrams cut in software (gso.c), each with its
 *    own length, IP id and full checksum;
 *  - a payload of one datagram's size or less goes as a plain datagram;
 *  - a group datagram's looped copy is the GSO packet, which a member
 *    with UDP_GRO reads whole and one without as datagrams.
 * UDP's output counter counts sends, as Linux's OutDatagrams does.
 *
 * The receiving side (whole under UDP_GRO, cut otherwise) is compared
 * with the kernel in test_diff_udp case_udp_gro and tried against the
 * kernel's USO packets in test_tap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/socket.h>
#include <string.h>

#include "core/checksum.h"
#include "dev/gso.h"
#include "lib/testnet.h"
#include "ustack/ustack.h"

#define MSS 1000
#define PLEN 2500   /* 1000 + 1000 + 500 */

static struct test_stack T;
static uint8_t payload[PLEN];

static int setup(void **state)
{
	*state = &T;
	ts_init_l3(&T, "10.0.0.2", 24);
	for (size_t i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 7 + i / 251);
	return 0;
}

/* A socket with UDP_SEGMENT MSS sends len bytes to 10.0.0.1:9000. */
static void send_segmented(size_t len)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(9000),
				  .sin_addr.s_addr = ts_ip("10.0.0.1") };
	int fd = us_socket_on(T.st, AF_INET, SOCK_DGRAM, 0);
	int mss = MSS;

	assert_true(fd >= 0);
	assert_int_equal(us_setsockopt(fd, SOL_UDP, UDP_SEGMENT, &mss,
				       sizeof(mss)), 0);
	assert_int_equal(us_sendto(fd, payload, len, 0,
				   (struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)len);
	assert_int_equal(us_close(fd), 0);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The UDP checksum of the IPv4 packet at ip, over ulen bytes of UDP. */
static bool udp_csum_ok(const uint8_t *ip, uint16_t ulen)
{
	uint32_t sa, da;

	memcpy(&sa, ip + 12, 4);
	memcpy(&da, ip + 16, 4);
	return csum_fold(csum_partial(ip + 20, ulen,
				      csum_tcpudp_nofold(sa, da, 17, ulen,
							 0))) == 0;
}

static void test_whole_to_a_uso_device(void **state)
{
	struct sk_buff *skb;
	const uint8_t *ip;

	(void)state;
	T.dev->features = US_NETIF_F_HW_CSUM | US_NETIF_F_GSO_UDP_L4;
	send_segmented(PLEN);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_null(ts_pop_tx(&T));
	ip = skb->data;
	assert_int_equal(skb->len, 20 + 8 + PLEN);
	assert_int_equal(skb_shinfo(skb)->gso_type, SKB_GSO_UDP_L4);
	assert_int_equal(skb_shinfo(skb)->gso_size, MSS);
	assert_int_equal(skb_shinfo(skb)->gso_segs, 3);
	assert_int_equal(get16(ip + 2), 20 + 8 + PLEN);
	/* No DF: the whole (2528 bytes) does not fit the path, and Linux's
	 * __ip_make_skb decides by the whole under IP_PMTUDISC_WANT. */
	assert_int_equal(get16(ip + 6) & 0x4000, 0);
	assert_int_equal(get16(ip + 20 + 4), 8 + PLEN);
	assert_memory_equal(ip + 28, payload, PLEN);
	assert_int_equal(skb->ip_summed, CHECKSUM_PARTIAL);
	assert_int_equal(skb->csum_start - skb_headroom(skb), 20);
	assert_int_equal(skb->csum_offset, 6);
	/* Finished as a device would: valid over the whole. */
	assert_int_equal(skb_checksum_help(skb), 0);
	assert_true(udp_csum_ok(skb->data, 8 + PLEN));
	assert_int_equal(T.st->stats.mib[US_MIB_UDP_OUT_DATAGRAMS], 1);
	assert_int_equal(T.st->stats.mib[US_MIB_DEV_GSO_SEGMENTS], 0);
	skb_free(skb);
}

static void test_cut_without_uso(void **state)
{
	uint16_t id0 = 0;

	(void)state;
	T.dev->features = 0;
	send_segmented(PLEN);
	for (int k = 0; k < 3; k++) {
		struct sk_buff *skb = ts_pop_tx(&T);
		size_t n = k < 2 ? MSS : PLEN - 2 * MSS;
		const uint8_t *ip;

		assert_non_null(skb);
		ip = skb->data;
		assert_false(skb_is_gso(skb));
		assert_int_equal(skb->len, 28 + n);
		assert_int_equal(get16(ip + 2), 28 + n);
		assert_int_equal(inet_csum(ip, 20), 0);
		if (k == 0)
			id0 = get16(ip + 4);
		assert_int_equal(get16(ip + 4), (uint16_t)(id0 + k));
		assert_int_equal(get16(ip + 6) & 0x4000, 0);   /* as the whole */
		assert_int_equal(get16(ip + 20 + 4), 8 + n);
		assert_true(udp_csum_ok(ip, (uint16_t)(8 + n)));
		assert_memory_equal(ip + 28, payload + (size_t)k * MSS, n);
		skb_free(skb);
	}
	assert_null(ts_pop_tx(&T));
	assert_int_equal(T.st->stats.mib[US_MIB_DEV_GSO_SEGMENTS], 3);
	assert_int_equal(T.st->stats.mib[US_MIB_UDP_OUT_DATAGRAMS], 1);
}

/* One datagram's worth is a datagram, on either device. */
static void test_one_datagram_is_plain(void **state)
{
	struct sk_buff *skb;

	(void)state;
	T.dev->features = US_NETIF_F_HW_CSUM | US_NETIF_F_GSO_UDP_L4;
	send_segmented(MSS);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_null(ts_pop_tx(&T));
	assert_false(skb_is_gso(skb));
	assert_int_equal(skb->len, 28 + MSS);
	assert_int_equal(get16(skb->data + 6) & 0x4000, 0x4000);  /* fits */
	assert_true(udp_csum_ok(skb->data, 8 + MSS));
	skb_free(skb);
}

/* A socket on port 9000 that joined 239.1.1.1 on the test device, with
 * UDP_GRO as asked. */
static int member(int gro)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(9000) };
	struct ip_mreq mr = { .imr_multiaddr.s_addr = ts_ip("239.1.1.1"),
			      .imr_interface.s_addr = ts_ip("10.0.0.2") };
	int fd = us_socket_on(T.st, AF_INET, SOCK_DGRAM, 0), one = 1;

	assert_true(fd >= 0);
	assert_int_equal(us_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
				       sizeof(one)), 0);
	assert_int_equal(us_bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(us_setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr,
				       sizeof(mr)), 0);
	assert_int_equal(us_setsockopt(fd, SOL_UDP, UDP_GRO, &gro,
				       sizeof(gro)), 0);
	return fd;
}

/* The next datagram on fd: its length (its bytes checked against the
 * payload from `from` on) and its UDP_GRO size, -1 for none. */
static ssize_t recv_checked(int fd, size_t from, int *gso)
{
	static uint8_t buf[PLEN + 100];
	ssize_t n = ts_recv_gro(fd, buf, sizeof(buf), gso);

	if (n > 0)
		assert_memory_equal(buf, payload + from, (size_t)n);
	return n;
}

/*
 * A group datagram's looped copy (IP_MULTICAST_LOOP) is the GSO packet
 * itself, shared with the one that leaves, as Linux's dev_loopback_xmit
 * clones it: a member with UDP_GRO reads it whole, one without reads the
 * datagrams; the copy on the device is unchanged by either.
 */
/* SO_NO_CHECK: the datagram leaves with a checksum of 0 (RFC 768: none
 * computed) and nothing left for the device to finish; UDP_SEGMENT's
 * datagrams are refused then (Linux's udp_send_skb: EINVAL). */
static void test_no_check(void **state)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(9000),
				  .sin_addr.s_addr = ts_ip("10.0.0.1") };
	int fd = us_socket_on(T.st, AF_INET, SOCK_DGRAM, 0), on = 1, mss = MSS;
	struct sk_buff *skb;

	(void)state;
	T.dev->features = US_NETIF_F_HW_CSUM;
	assert_int_equal(us_setsockopt(fd, SOL_SOCKET, SO_NO_CHECK, &on,
				       sizeof(on)), 0);
	assert_int_equal(us_sendto(fd, payload, 100, 0, (struct sockaddr *)&to,
				   sizeof(to)), 100);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_int_equal(get16(skb->data + 20 + 6), 0);
	assert_int_not_equal(skb->ip_summed, CHECKSUM_PARTIAL);
	skb_free(skb);
	assert_int_equal(us_setsockopt(fd, SOL_UDP, UDP_SEGMENT, &mss,
				       sizeof(mss)), 0);
	assert_int_equal(us_sendto(fd, payload, PLEN, 0, (struct sockaddr *)&to,
				   sizeof(to)), -1);
	assert_int_equal(errno, EINVAL);
	assert_null(ts_pop_tx(&T));
	assert_int_equal(us_close(fd), 0);
}

static void test_group_loop_whole_and_cut(void **state)
{
	struct sockaddr_in to = { .sin_family = AF_INET,
				  .sin_port = htons(9000),
				  .sin_addr.s_addr = ts_ip("239.1.1.1") };
	struct in_addr ifa = { .s_addr = ts_ip("10.0.0.2") };
	int whole = member(1), cut = member(0), gso, mss = MSS;
	int fd = us_socket_on(T.st, AF_INET, SOCK_DGRAM, 0);
	struct sk_buff *skb;

	(void)state;
	T.dev->features = US_NETIF_F_HW_CSUM | US_NETIF_F_GSO_UDP_L4;
	ts_flush_tx(&T);        /* the IGMP reports of the joins */
	assert_int_equal(us_setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &ifa,
				       sizeof(ifa)), 0);
	assert_int_equal(us_setsockopt(fd, SOL_UDP, UDP_SEGMENT, &mss,
				       sizeof(mss)), 0);
	assert_int_equal(us_sendto(fd, payload, PLEN, 0,
				   (struct sockaddr *)&to, sizeof(to)), PLEN);
	ts_advance(&T, 1000);
	skb = ts_pop_tx(&T);
	assert_non_null(skb);
	assert_int_equal(skb_shinfo(skb)->gso_type, SKB_GSO_UDP_L4);
	assert_int_equal(skb->len, 28 + PLEN);
	assert_memory_equal(skb->data + 28, payload, PLEN);
	skb_free(skb);
	assert_int_equal(recv_checked(whole, 0, &gso), PLEN);
	assert_int_equal(gso, MSS);
	assert_int_equal(recv_checked(whole, 0, &gso), -1);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(recv_checked(cut, (size_t)k * MSS, &gso),
				 k < 2 ? MSS : PLEN - 2 * MSS);
		assert_int_equal(gso, -1);
	}
	assert_int_equal(recv_checked(cut, 0, &gso), -1);
	assert_int_equal(us_close(fd), 0);
	assert_int_equal(us_close(whole), 0);
	assert_int_equal(us_close(cut), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_whole_to_a_uso_device,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_cut_without_uso, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_one_datagram_is_plain,
						setup, ts_teardown),
		cmocka_unit_test_setup_teardown(test_no_check, setup,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_group_loop_whole_and_cut,
						setup, ts_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
