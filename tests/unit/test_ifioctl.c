/*
 * test_ifioctl.c - the interface ioctls of a socket on ustack's own
 * devices (dev/dev_ioctl.c, net/devinet.c): an Ethernet test device
 * "test0" (10.0.0.2/24, TS_DEV_MAC), the loopback, and a layer-3 device
 * without an address. SIOCGIFCONF lists the two addresses in device
 * order; each getter reports the device's name, index, flags, MAC, MTU,
 * queue length and IPv4 address, netmask, broadcast and destination;
 * SIOCSIFMTU changes the MTU the routes see, within 68 and what the
 * device was made with. test_diff_ifioctl.c compares lo with Linux's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "dev/l3pipe.h"
#include "dev/loopback.h"
#include "dev/netdev.h"
#include "ustack/ustack.h"
#include "lib/testnet.h"

static struct test_stack T;
static struct net_device *LO, *L3;
static int UDP, TCP;

static int setup(void **state)
{
	(void)state;
	ts_init(&T, "10.0.0.2", 24);
	LO = loopback_create(T.st);
	L3 = l3pipe_create(T.st, "abcdefghijklmno", 1400);
	assert_non_null(LO);
	assert_non_null(L3);
	UDP = us_socket_on(T.st, AF_INET, SOCK_DGRAM, 0);
	TCP = us_socket_on(T.st, AF_INET, SOCK_STREAM, 0);
	assert_true(UDP >= 0 && TCP >= 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	us_close(UDP);
	us_close(TCP);
	ts_destroy(&T);
	return 0;
}

/* The request on a fresh ifreq naming `name`; -errno or 0. */
static int ifreq_on(int fd, unsigned long req, const char *name,
		    struct ifreq *ifr)
{
	memset(ifr, 0, sizeof(*ifr));
	strncpy(ifr->ifr_name, name, IFNAMSIZ);
	return us_ioctl(fd, req, ifr) < 0 ? -errno : 0;
}

static uint32_t sin_addr_of(const struct ifreq *ifr)
{
	const struct sockaddr_in *sin =
		(const struct sockaddr_in *)&ifr->ifr_addr;

	assert_int_equal(sin->sin_family, AF_INET);
	return sin->sin_addr.s_addr;
}

/* One entry per address, the devices in order; none for L3 (no
 * address); the length alone without a buffer; whole entries only. */
static void test_ifconf_lists_addresses(void **state)
{
	struct ifreq buf[4];
	struct ifconf ifc;

	(void)state;
	for (int i = 0; i < 2; i++) {
		int fd = i ? TCP : UDP;

		memset(&ifc, 0, sizeof(ifc));
		ifc.ifc_len = 0;
		ifc.ifc_buf = NULL;
		assert_int_equal(us_ioctl(fd, SIOCGIFCONF, &ifc), 0);
		assert_int_equal(ifc.ifc_len, 2 * sizeof(struct ifreq));

		memset(buf, 0xa5, sizeof(buf));
		ifc.ifc_len = sizeof(buf);
		ifc.ifc_req = buf;
		assert_int_equal(us_ioctl(fd, SIOCGIFCONF, &ifc), 0);
		assert_int_equal(ifc.ifc_len, 2 * sizeof(struct ifreq));
		assert_string_equal(buf[0].ifr_name, "test0");
		assert_int_equal(sin_addr_of(&buf[0]), ts_ip("10.0.0.2"));
		assert_string_equal(buf[1].ifr_name, "lo");
		assert_int_equal(sin_addr_of(&buf[1]), ts_ip("127.0.0.1"));
		assert_int_equal(((unsigned char *)&buf[2])[0], 0xa5);

		/* Room for one and a half: one. */
		memset(buf, 0xa5, sizeof(buf));
		ifc.ifc_len = sizeof(struct ifreq) * 3 / 2;
		assert_int_equal(us_ioctl(fd, SIOCGIFCONF, &ifc), 0);
		assert_int_equal(ifc.ifc_len, sizeof(struct ifreq));
		assert_string_equal(buf[0].ifr_name, "test0");
		assert_int_equal(((unsigned char *)&buf[1])[0], 0xa5);
	}
	/* An address given later is listed. */
	assert_int_equal(netdev_set_ipv4(L3, ts_ip("10.9.0.1"), 30), 0);
	ifc.ifc_len = sizeof(buf);
	ifc.ifc_req = buf;
	assert_int_equal(us_ioctl(UDP, SIOCGIFCONF, &ifc), 0);
	assert_int_equal(ifc.ifc_len, 3 * sizeof(struct ifreq));
	assert_string_equal(buf[2].ifr_name, "abcdefghijklmno");
	assert_int_equal(sin_addr_of(&buf[2]), ts_ip("10.9.0.1"));
}

/* test0: an Ethernet device up, with its MAC, MTU, index and address. */
static void test_ethernet_device(void **state)
{
	struct ifreq ifr;

	(void)state;
	for (int i = 0; i < 2; i++) {
		int fd = i ? TCP : UDP;

		assert_int_equal(ifreq_on(fd, SIOCGIFFLAGS, "test0", &ifr), 0);
		assert_int_equal(ifr.ifr_flags,
				 IFF_UP | IFF_BROADCAST | IFF_MULTICAST |
				 IFF_RUNNING);
		assert_int_equal(ifreq_on(fd, SIOCGIFHWADDR, "test0", &ifr), 0);
		assert_int_equal(ifr.ifr_hwaddr.sa_family, 1 /* ETHER */);
		assert_memory_equal(ifr.ifr_hwaddr.sa_data, TS_DEV_MAC, 6);
		assert_int_equal(ifreq_on(fd, SIOCGIFMTU, "test0", &ifr), 0);
		assert_int_equal(ifr.ifr_mtu, 1500);
		assert_int_equal(ifreq_on(fd, SIOCGIFINDEX, "test0", &ifr), 0);
		assert_int_equal(ifr.ifr_ifindex, T.dev->ifindex);
		assert_int_equal(ifreq_on(fd, SIOCGIFTXQLEN, "test0", &ifr), 0);
		assert_int_equal(ifr.ifr_qlen, 1000);
		assert_int_equal(ifreq_on(fd, SIOCGIFADDR, "test0", &ifr), 0);
		assert_int_equal(sin_addr_of(&ifr), ts_ip("10.0.0.2"));
		assert_int_equal(ifreq_on(fd, SIOCGIFNETMASK, "test0", &ifr), 0);
		assert_int_equal(sin_addr_of(&ifr), ts_ip("255.255.255.0"));
		assert_int_equal(ifreq_on(fd, SIOCGIFBRDADDR, "test0", &ifr), 0);
		assert_int_equal(sin_addr_of(&ifr), ts_ip("10.0.0.255"));
		assert_int_equal(ifreq_on(fd, SIOCGIFDSTADDR, "test0", &ifr), 0);
		assert_int_equal(sin_addr_of(&ifr), ts_ip("10.0.0.2"));
		/* By index, the name. */
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_ifindex = T.dev->ifindex;
		assert_int_equal(us_ioctl(fd, SIOCGIFNAME, &ifr), 0);
		assert_string_equal(ifr.ifr_name, "test0");
		ifr.ifr_ifindex = L3->ifindex + 1;
		assert_int_equal(us_ioctl(fd, SIOCGIFNAME, &ifr), -1);
		assert_int_equal(errno, ENODEV);
	}
	/* Down, or its descriptor lost: no longer RUNNING. */
	T.dev->flags &= ~US_IFF_UP;
	assert_int_equal(ifreq_on(UDP, SIOCGIFFLAGS, "test0", &ifr), 0);
	assert_int_equal(ifr.ifr_flags, IFF_BROADCAST | IFF_MULTICAST);
	T.dev->flags |= US_IFF_UP;
	T.dev->rt_unwatched = true;
	assert_int_equal(ifreq_on(UDP, SIOCGIFFLAGS, "test0", &ifr), 0);
	assert_int_equal(ifr.ifr_flags, IFF_UP | IFF_BROADCAST | IFF_MULTICAST);
	T.dev->rt_unwatched = false;
}

/* lo as Linux's: LOOPBACK (not NOARP), type 772, no broadcast. */
static void test_loopback_device(void **state)
{
	static const unsigned char zeros[6];
	struct ifreq ifr;

	(void)state;
	assert_int_equal(ifreq_on(TCP, SIOCGIFFLAGS, "lo", &ifr), 0);
	assert_int_equal(ifr.ifr_flags, IFF_UP | IFF_LOOPBACK | IFF_RUNNING);
	assert_int_equal(ifreq_on(TCP, SIOCGIFHWADDR, "lo", &ifr), 0);
	assert_int_equal(ifr.ifr_hwaddr.sa_family, 772 /* LOOPBACK */);
	assert_memory_equal(ifr.ifr_hwaddr.sa_data, zeros, 6);
	assert_int_equal(ifreq_on(TCP, SIOCGIFMTU, "lo", &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, 65536);
	assert_int_equal(ifreq_on(TCP, SIOCGIFINDEX, "lo", &ifr), 0);
	assert_int_equal(ifr.ifr_ifindex, LO->ifindex);
	assert_int_equal(ifreq_on(TCP, SIOCGIFBRDADDR, "lo", &ifr), 0);
	assert_int_equal(sin_addr_of(&ifr), 0);
	assert_int_equal(ifreq_on(TCP, SIOCGIFNETMASK, "lo", &ifr), 0);
	assert_int_equal(sin_addr_of(&ifr), ts_ip("255.0.0.0"));
}

/* A layer-3 device without an address: listed by name, type NONE with
 * a zero hardware address, EADDRNOTAVAIL for its address; a name of
 * sixteen bytes without a NUL is cut to its fifteen. */
static void test_device_without_address(void **state)
{
	static const unsigned char zeros[14];
	struct ifreq ifr;

	(void)state;
	assert_int_equal(ifreq_on(UDP, SIOCGIFFLAGS, "abcdefghijklmno", &ifr),
			 0);
	assert_int_equal(ifr.ifr_flags, IFF_UP | IFF_NOARP | IFF_RUNNING);
	memset(&ifr, 0xa5, sizeof(ifr));
	memcpy(ifr.ifr_name, "abcdefghijklmnoX", IFNAMSIZ);
	assert_int_equal(us_ioctl(UDP, SIOCGIFHWADDR, &ifr), 0);
	assert_int_equal(ifr.ifr_name[IFNAMSIZ - 1], 0);
	assert_int_equal(ifr.ifr_hwaddr.sa_family, 0xfffe /* NONE */);
	assert_memory_equal(ifr.ifr_hwaddr.sa_data, zeros, 14);
	assert_int_equal(ifreq_on(UDP, SIOCGIFMTU, "abcdefghijklmno", &ifr),
			 0);
	assert_int_equal(ifr.ifr_mtu, 1400);
	assert_int_equal(ifreq_on(UDP, SIOCGIFADDR, "abcdefghijklmno", &ifr),
			 -EADDRNOTAVAIL);
	assert_int_equal(ifreq_on(TCP, SIOCGIFNETMASK, "abcdefghijklmno",
				  &ifr), -EADDRNOTAVAIL);
	assert_int_equal(ifreq_on(TCP, SIOCGIFADDR, "nosuch0", &ifr), -ENODEV);
	assert_int_equal(ifreq_on(TCP, SIOCGIFFLAGS, "nosuch0", &ifr),
			 -ENODEV);
	/* An alias of test0 is test0 for the device, no address's label. */
	assert_int_equal(ifreq_on(UDP, SIOCGIFINDEX, "test0:1", &ifr), 0);
	assert_int_equal(ifr.ifr_ifindex, T.dev->ifindex);
	assert_string_equal(ifr.ifr_name, "test0:1");
	assert_int_equal(ifreq_on(UDP, SIOCGIFADDR, "test0:1", &ifr),
			 -EADDRNOTAVAIL);
}

/* SIOCSIFMTU: what routes see next (IP_MTU), within 68 and the MTU the
 * device was made with; the same value is no change. */
static void test_set_mtu(void **state)
{
	struct sockaddr_in peer = {
		.sin_family = AF_INET,
		.sin_port = htons(9),
		.sin_addr.s_addr = ts_ip("10.0.0.1"),
	};
	struct ifreq ifr;
	socklen_t len = sizeof(int);
	int mtu = 0;

	(void)state;
	/* Linux asks for CAP_NET_ADMIN (root has it, as the test tier). */
	if (geteuid() != 0)
		skip();
	assert_int_equal(us_connect(UDP, (struct sockaddr *)&peer,
				    sizeof(peer)), 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "test0");
	ifr.ifr_mtu = 1400;
	assert_int_equal(us_ioctl(TCP, SIOCSIFMTU, &ifr), 0);
	assert_int_equal(T.dev->mtu, 1400);
	assert_int_equal(us_getsockopt(UDP, IPPROTO_IP, IP_MTU, &mtu, &len), 0);
	assert_int_equal(mtu, 1400);
	assert_int_equal(ifreq_on(UDP, SIOCGIFMTU, "test0", &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, 1400);
	/* Beyond what the device was made with, below IPv4's 68. */
	strcpy(ifr.ifr_name, "test0");
	ifr.ifr_mtu = 1501;
	assert_int_equal(us_ioctl(UDP, SIOCSIFMTU, &ifr), -1);
	assert_int_equal(errno, EINVAL);
	ifr.ifr_mtu = 67;
	assert_int_equal(us_ioctl(UDP, SIOCSIFMTU, &ifr), -1);
	assert_int_equal(errno, EINVAL);
	ifr.ifr_mtu = 0;
	assert_int_equal(us_ioctl(UDP, SIOCSIFMTU, &ifr), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(T.dev->mtu, 1400);
	ifr.ifr_mtu = 68;
	assert_int_equal(us_ioctl(UDP, SIOCSIFMTU, &ifr), 0);
	ifr.ifr_mtu = 1500;
	assert_int_equal(us_ioctl(UDP, SIOCSIFMTU, &ifr), 0);
	ifr.ifr_mtu = 1500;
	assert_int_equal(us_ioctl(UDP, SIOCSIFMTU, &ifr), 0);
	assert_int_equal(T.dev->mtu, 1500);
	len = sizeof(int);
	assert_int_equal(us_getsockopt(UDP, IPPROTO_IP, IP_MTU, &mtu, &len), 0);
	assert_int_equal(mtu, 1500);
}

/* The setters ustack keeps for its program, even with CAP_NET_ADMIN. */
static void test_setters_refused(void **state)
{
	static const unsigned long setters[] = {
		SIOCSIFFLAGS, SIOCSIFADDR, SIOCSIFNETMASK, SIOCSIFBRDADDR,
		SIOCSIFDSTADDR, SIOCSIFHWADDR, SIOCSIFTXQLEN, SIOCSIFNAME,
		SIOCSIFMAP,
	};
	struct ifreq ifr;

	(void)state;
	for (size_t i = 0; i < sizeof(setters) / sizeof(setters[0]); i++) {
		memset(&ifr, 0, sizeof(ifr));
		strcpy(ifr.ifr_name, "test0");
		ifr.ifr_addr.sa_family = AF_INET;
		assert_int_equal(us_ioctl(UDP, setters[i], &ifr), -1);
		assert_int_equal(errno, EPERM);
	}
	assert_int_equal(T.dev->flags,
			 US_IFF_UP | US_IFF_BROADCAST | US_IFF_MULTICAST);
	assert_int_equal(T.dev->ip_addr, ts_ip("10.0.0.2"));
}

#define T_(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T_(test_ifconf_lists_addresses),
		T_(test_ethernet_device),
		T_(test_loopback_device),
		T_(test_device_without_address),
		T_(test_set_mtu),
		T_(test_setters_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
