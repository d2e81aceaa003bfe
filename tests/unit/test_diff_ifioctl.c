/*
 * test_diff_ifioctl.c - differential tests of the interface ioctls of a
 * socket (Linux's sock_ioctl -> SIOCGIFCONF / inet_ioctl -> devinet_ioctl
 * / sock_do_ioctl -> dev_ioctl): the list of addresses (SIOCGIFCONF: the
 * length with no buffer, whole entries only, ifc_len), the requests about
 * one device by name (flags, index, MTU, metric, map, queue length,
 * hardware address, the IPv4 address, netmask, broadcast and destination),
 * by index (SIOCGIFNAME), the errors (unknown names and indexes, names
 * without their NUL, aliases, a NULL argument), the MTU set and read back,
 * the setters refused without CAP_NET_ADMIN, on UDP and TCP sockets alike,
 * and requests that are no interface's (ENOTTY).
 *
 * Both sides have the same interfaces: the kernel's private namespace
 * holds only "lo" (127.0.0.1/8, up), and so does a fresh ustack instance.
 * Every struct ifreq is filled with a marker first, so what a call leaves
 * alone is compared too (the rest of the union, the bytes after a name).
 *
 * Kept out of the comparison, and why: setters that ustack refuses on
 * purpose (SIOCSIFFLAGS, SIOCSIFADDR, ... with CAP_NET_ADMIN: the
 * instance's configuration is its program's, EPERM; Linux would change
 * the device), an MTU below 68 (Linux takes IPv4 off the device, ustack
 * refuses it with EINVAL), SIOCETHTOOL (lo answers some on Linux, nothing
 * on ustack), and SIOCGIFBRDADDR on devices other than lo (ustack reports
 * the subnet's broadcast address, which Linux shows only when it was
 * configured); test_ifioctl.c checks ustack's own devices.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lib/difftest.h"

#define P1 5001
#define MARK 0xa5

/* A struct ifreq full of the marker, then the name (not padded: the
 * bytes after its NUL keep the marker). */
static void ifr_named(struct ifreq *ifr, const char *name)
{
	memset(ifr, MARK, sizeof(*ifr));
	memcpy(ifr->ifr_name, name, strlen(name) + 1);
}

static int req(struct dt *t, int fd, unsigned long request, const char *name)
{
	struct ifreq ifr;

	ifr_named(&ifr, name);
	return dt_ioctl_ifreq(t, fd, request, &ifr);
}

static const unsigned long getters[] = {
	SIOCGIFFLAGS, SIOCGIFMETRIC, SIOCGIFMTU, SIOCGIFMAP, SIOCGIFINDEX,
	SIOCGIFTXQLEN, SIOCGIFHWADDR, SIOCGIFADDR, SIOCGIFNETMASK,
	SIOCGIFBRDADDR, SIOCGIFDSTADDR, SIOCGIFPFLAGS, SIOCGIFSLAVE,
};

#define N_GETTERS (sizeof(getters) / sizeof(getters[0]))

/* A UDP socket, a TCP socket and a TCP listener. */
static void three_sockets(struct dt *t, int fds[3])
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);

	fds[0] = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	fds[1] = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	fds[2] = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_bind(t, fds[2], &a, sizeof(a));
	dt_listen(t, fds[2], 4);
}

/* SIOCGIFCONF: the length it needs, whole entries, the rest untouched. */
static void case_ifconf(struct dt *t)
{
	struct ifreq buf[3];
	char small[sizeof(struct ifreq) - 1];
	int fds[3];

	three_sockets(t, fds);
	for (int i = 0; i < 3; i++) {
		/* No buffer: the length every entry needs, whatever len. */
		dt_ioctl_ifconf(t, fds[i], 0, NULL, 0, false);
		dt_ioctl_ifconf(t, fds[i], 1000, NULL, 0, false);
		dt_ioctl_ifconf(t, fds[i], -5, NULL, 0, false);
		/* Room for exactly one, for more, for less than one. */
		dt_ioctl_ifconf(t, fds[i], sizeof(struct ifreq), buf,
				sizeof(buf), false);
		dt_ioctl_ifconf(t, fds[i], sizeof(buf), buf, sizeof(buf),
				false);
		dt_ioctl_ifconf(t, fds[i], sizeof(small), small,
				sizeof(small), false);
		dt_ioctl_ifconf(t, fds[i], 0, buf, sizeof(buf), false);
		dt_ioctl_ifconf(t, fds[i], -1, buf, sizeof(buf), false);
		dt_ioctl_ifconf(t, fds[i], 0, NULL, 0, true);
	}
}

/* Every getter on lo, from a UDP socket, a TCP socket and a listener. */
static void case_ifreq_lo(struct dt *t)
{
	int fds[3];

	three_sockets(t, fds);
	for (int i = 0; i < 3; i++)
		for (size_t k = 0; k < N_GETTERS; k++)
			req(t, fds[i], getters[k], "lo");
}

/* The name: unknown, an alias, without its NUL (cut at IFNAMSIZ), empty;
 * and a NULL argument. */
static void case_ifreq_names(struct dt *t)
{
	static const char *const names[] = {
		"nosuch0", "lo:x", "lo:", "", "LO", "lo ",
	};
	struct ifreq ifr;
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int tcp = dt_socket(t, AF_INET, SOCK_STREAM, 0);

	for (size_t n = 0; n < sizeof(names) / sizeof(names[0]); n++)
		for (size_t k = 0; k < N_GETTERS; k++)
			req(t, fd, getters[k], names[n]);
	/* Sixteen bytes and no NUL: the last is cut, leaving "lo:" and an
	 * alias of lo; and a name that is not lo even when cut. */
	for (size_t k = 0; k < N_GETTERS; k++) {
		memset(&ifr, MARK, sizeof(ifr));
		memcpy(ifr.ifr_name, "lo:abcdefghijklm", IFNAMSIZ);
		dt_ioctl_ifreq(t, tcp, getters[k], &ifr);
		memset(&ifr, MARK, sizeof(ifr));
		memcpy(ifr.ifr_name, "loabcdefghijklmn", IFNAMSIZ);
		dt_ioctl_ifreq(t, tcp, getters[k], &ifr);
		dt_ioctl_ifreq(t, tcp, getters[k], NULL);
	}
}

/* SIOCGIFNAME: lo by its index, and indexes there are not. */
static void case_ifname(struct dt *t)
{
	static const int indexes[] = { 1, 0, -1, 2, 99, 1 << 30 };
	struct ifreq ifr;
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int tcp = dt_socket(t, AF_INET, SOCK_STREAM, 0);

	for (size_t i = 0; i < sizeof(indexes) / sizeof(indexes[0]); i++) {
		memset(&ifr, MARK, sizeof(ifr));
		ifr.ifr_ifindex = indexes[i];
		dt_ioctl_ifreq(t, fd, SIOCGIFNAME, &ifr);
		memset(&ifr, 0, sizeof(ifr));
		ifr.ifr_ifindex = indexes[i];
		dt_ioctl_ifreq(t, tcp, SIOCGIFNAME, &ifr);
	}
	dt_ioctl_ifreq(t, fd, SIOCGIFNAME, NULL);
	/* The index found by name names it back. */
	ifr_named(&ifr, "lo");
	if (dt_ioctl_ifreq(t, fd, SIOCGIFINDEX, &ifr) == 0) {
		int idx = ifr.ifr_ifindex;

		memset(&ifr, MARK, sizeof(ifr));
		ifr.ifr_ifindex = idx;
		dt_ioctl_ifreq(t, fd, SIOCGIFNAME, &ifr);
	}
}

static int set_mtu(struct dt *t, int fd, const char *name, int mtu)
{
	struct ifreq ifr;

	ifr_named(&ifr, name);
	ifr.ifr_mtu = mtu;
	return dt_ioctl_ifreq(t, fd, SIOCSIFMTU, &ifr);
}

/* SIOCSIFMTU on lo: read back by SIOCGIFMTU and by a socket's IP_MTU;
 * bad values and names; then put back. */
static void case_set_mtu(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", P1);
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int tcp = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	int u;

	set_mtu(t, fd, "lo", 1280);
	req(t, fd, SIOCGIFMTU, "lo");
	u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	dt_connect(t, u, &a, sizeof(a));
	dt_getsockopt_int(t, u, IPPROTO_IP, IP_MTU);
	set_mtu(t, tcp, "lo", 9000);
	req(t, tcp, SIOCGIFMTU, "lo");
	set_mtu(t, fd, "lo", 9000);
	set_mtu(t, fd, "lo:x", 1500);
	req(t, fd, SIOCGIFMTU, "lo");
	set_mtu(t, fd, "lo", 70000);
	req(t, fd, SIOCGIFMTU, "lo");
	set_mtu(t, fd, "lo", -1);
	set_mtu(t, fd, "lo", -68);
	set_mtu(t, fd, "nosuch0", 1500);
	dt_ioctl_ifreq(t, fd, SIOCSIFMTU, NULL);
	req(t, fd, SIOCGIFMTU, "lo");
	set_mtu(t, fd, "lo", 65536);
	req(t, fd, SIOCGIFMTU, "lo");
}

/*
 * Without CAP_NET_ADMIN (an effective uid that is not 0 has none) every
 * setter is EPERM, before the name is looked at; the getters still
 * answer. With it, what both refuse the same way: a metric
 * (EOPNOTSUPP), an address of another family, the IPv6 flags (EINVAL).
 */
static void case_setters(struct dt *t)
{
	static const unsigned long setters[] = {
		SIOCSIFFLAGS, SIOCSIFMETRIC, SIOCSIFMTU, SIOCSIFADDR,
		SIOCSIFNETMASK, SIOCSIFBRDADDR, SIOCSIFDSTADDR, SIOCSIFHWADDR,
		SIOCSIFTXQLEN, SIOCSIFNAME, SIOCSIFMAP, SIOCADDMULTI,
		SIOCDELMULTI, SIOCSIFHWBROADCAST,
	};
	struct ifreq ifr;
	int fd = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int tcp = dt_socket(t, AF_INET, SOCK_STREAM, 0);

	dt_note(t, "seteuid(65534) = %d", seteuid(65534));
	for (size_t k = 0; k < sizeof(setters) / sizeof(setters[0]); k++) {
		req(t, fd, setters[k], "lo");
		req(t, tcp, setters[k], "nosuch0");
	}
	req(t, fd, SIOCGIFFLAGS, "lo");
	req(t, tcp, SIOCGIFADDR, "lo");
	req(t, fd, SIOCSIFPFLAGS, "lo");
	dt_note(t, "seteuid(0) = %d", seteuid(0));
	req(t, fd, SIOCSIFMETRIC, "lo");
	req(t, fd, SIOCSIFMETRIC, "nosuch0");
	ifr_named(&ifr, "lo");
	ifr.ifr_addr.sa_family = AF_INET6;
	dt_ioctl_ifreq(t, fd, SIOCSIFADDR, &ifr);
	dt_ioctl_ifreq(t, tcp, SIOCSIFNETMASK, &ifr);
	dt_ioctl_ifreq(t, fd, SIOCSIFBRDADDR, &ifr);
	dt_ioctl_ifreq(t, tcp, SIOCSIFDSTADDR, &ifr);
	req(t, fd, SIOCSIFPFLAGS, "lo");
	req(t, fd, SIOCSIFPFLAGS, "nosuch0");
}

/* Requests that are no interface's: still ENOTTY, on UDP and TCP; and
 * the device-private ones, which lo does not take; a NULL argument. */
static void case_not_interface(struct dt *t)
{
	static const unsigned long reqs[] = {
		0x5401 /* TCGETS */, 0x5499, 0x891f /* SIOCGIFMEM */,
		0x8920 /* SIOCSIFMEM */, 0x8911 /* SIOCSIFLINK */,
		0x8938 /* SIOCGIFCOUNT */, 0x89ef, _IOR(0x89, 0x77, int),
		SIOCDEVPRIVATE, SIOCDEVPRIVATE + 15,
	};
	int fds[3];

	three_sockets(t, fds);
	for (int i = 0; i < 3; i++)
		for (size_t k = 0; k < sizeof(reqs) / sizeof(reqs[0]); k++) {
			req(t, fds[i], reqs[k], "lo");
			req(t, fds[i], reqs[k], "nosuch0");
			/* A socket request's struct ifreq is read first:
			 * EFAULT; the others are ENOTTY. */
			dt_ioctl(t, fds[i], reqs[k], NULL);
		}
	/* Not UDP's: a socket request, so its missing ifreq is EFAULT. */
	dt_ioctl(t, fds[0], SIOCATMARK, NULL);
}

static const struct dt_case cases[] = {
	DT_CASE(case_ifconf),
	DT_CASE(case_ifreq_lo),
	DT_CASE(case_ifreq_names),
	DT_CASE(case_ifname),
	DT_CASE(case_set_mtu),
	DT_CASE(case_setters),
	DT_CASE(case_not_interface),
};

int main(void)
{
	return dt_main("diff_ifioctl", cases, sizeof(cases) / sizeof(cases[0]));
}
