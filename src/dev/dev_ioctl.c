/*
 * dev_ioctl.c - the interface requests a socket answers about the devices
 * of its instance, as Linux's net/core/dev_ioctl.c does for those of the
 * socket's namespace (see dev_ioctl.h). Programs under the shim ask their
 * socket which interfaces and addresses there are; they must see ustack's
 * devices, since those are the ones its sockets use.
 */
#include "dev/dev_ioctl.h"

#include <errno.h>
#include <linux/capability.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/sys.h"
#include "dev/netdev.h"
#include "net/devinet.h"
#include "net/ipv4.h"
#include "stack/stack.h"

/* From <linux/sockios.h>, which does not mix with glibc's ioctl names. */
#ifndef SIOCETHTOOL
#define SIOCETHTOOL 0x8946
#endif
#ifndef SIOCGMIIPHY
#define SIOCGMIIPHY 0x8947
#define SIOCGMIIREG 0x8948
#define SIOCSMIIREG 0x8949
#endif
#ifndef SIOCWANDEV
#define SIOCWANDEV 0x894a
#endif
#ifndef SIOCBONDENSLAVE
#define SIOCBONDENSLAVE 0x8990
#define SIOCBONDRELEASE 0x8991
#define SIOCBONDSETHWADDR 0x8992
#define SIOCBONDSLAVEINFOQUERY 0x8993
#define SIOCBONDINFOQUERY 0x8994
#define SIOCBONDCHANGEACTIVE 0x8995
#endif
#ifndef SIOCSHWTSTAMP
#define SIOCSHWTSTAMP 0x89b0
#define SIOCGHWTSTAMP 0x89b1
#endif

bool dev_capable(int cap)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
		.pid = 0,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	memset(data, 0, sizeof(data));
	if (us_sys(SYS_capget, &hdr, data) < 0)
		return false;
	return (data[CAP_TO_INDEX(cap)].effective & CAP_TO_MASK(cap)) != 0;
}

bool dev_capable_net_admin(void)
{
	return dev_capable(CAP_NET_ADMIN);
}

int dev_ifconf(struct ustack *st, struct ifconf *uifc)
{
	struct list_head *pos;
	struct ifconf ifc;
	int total = 0;

	if (!uifc)
		return -EFAULT;
	memcpy(&ifc, uifc, sizeof(ifc));
	/* Linux's dev_ifconf: every device in order, each writing its
	 * addresses' entries after the last; only ifc_len goes back. */
	list_for_each(pos, &st->devices) {
		struct net_device *dev = list_entry(pos, struct net_device,
						    list);

		if (!ifc.ifc_buf)
			total += inet_gifconf(dev, NULL, 0,
					      (int)sizeof(struct ifreq));
		else
			total += inet_gifconf(dev, ifc.ifc_buf + total,
					      ifc.ifc_len - total,
					      (int)sizeof(struct ifreq));
	}
	uifc->ifc_len = total;
	return 0;
}

/* SIOCGIFNAME (Linux's dev_ifname): the name of ifr_ifindex's device. */
static int dev_ifname(struct ustack *st, struct ifreq *ifr)
{
	struct net_device *dev;

	ifr->ifr_name[IFNAMSIZ - 1] = 0;
	dev = us_dev_get_by_index(st, ifr->ifr_ifindex);
	if (!dev)
		return -ENODEV;
	/* As netdev_get_name's strcpy: what follows the NUL is left. */
	memcpy(ifr->ifr_name, dev->name, strlen(dev->name) + 1);
	return 0;
}

/* SIOCGIFHWADDR (Linux's netif_get_mac_address): the device's type as
 * the family, its address (zeros for one without), the rest left. */
static int dev_get_mac_address(struct net_device *dev, struct ifreq *ifr)
{
	struct sockaddr *sa = &ifr->ifr_hwaddr;
	unsigned int len = netdev_addr_len(dev);

	if (!len)
		memset(sa->sa_data, 0, sizeof(sa->sa_data));
	else
		memcpy(sa->sa_data, dev->dev_addr,
		       len < sizeof(sa->sa_data) ? len : sizeof(sa->sa_data));
	sa->sa_family = (sa_family_t)dev->type;
	return 0;
}

/* The requests anyone may make (Linux's dev_ifsioc_locked). */
static int dev_ifsioc_get(struct net_device *dev, struct ifreq *ifr,
			  unsigned long cmd)
{
	switch (cmd) {
	case SIOCGIFFLAGS:
		/* ifr_flags is a short: LOWER_UP does not fit, as on Linux. */
		ifr->ifr_flags = (short)netdev_get_flags(dev);
		return 0;
	case SIOCGIFMETRIC:
		ifr->ifr_metric = 0;
		return 0;
	case SIOCGIFMTU:
		ifr->ifr_mtu = (int)dev->mtu;
		return 0;
	case SIOCGIFSLAVE:
		return -EINVAL;
	case SIOCGIFMAP:
		/* No I/O resources; field by field, the padding left, as
		 * dev_getifmap. */
		ifr->ifr_map.mem_start = 0;
		ifr->ifr_map.mem_end = 0;
		ifr->ifr_map.base_addr = 0;
		ifr->ifr_map.irq = 0;
		ifr->ifr_map.dma = 0;
		ifr->ifr_map.port = 0;
		return 0;
	case SIOCGIFINDEX:
		ifr->ifr_ifindex = dev->ifindex;
		return 0;
	case SIOCGIFTXQLEN:
		ifr->ifr_qlen = (int)dev->tx_queue_len;
		return 0;
	case SIOCGIFHWADDR:
		return dev_get_mac_address(dev, ifr);
	default:
		/* SIOCETHTOOL, the MII, bonding and timestamping requests and
		 * SIOCDEVPRIVATE..: no driver here answers them (Linux's
		 * answer for a device without the ndo). */
		return -EOPNOTSUPP;
	}
}

/*
 * The changes (Linux's dev_ifsioc, after the CAP_NET_ADMIN check). The
 * MTU can be set (within what the device's buffers take); the metric is
 * not supported anywhere (EOPNOTSUPP, as on Linux). The rest would change
 * how the instance was set up (its name, flags, hardware address, queue),
 * which is the program's configuration, not a socket's: EPERM.
 */
static int dev_ifsioc_set(struct net_device *dev, struct ifreq *ifr,
			  unsigned long cmd)
{
	switch (cmd) {
	case SIOCSIFMTU: {
		unsigned int was = dev->mtu;
		int rc = netdev_set_mtu(dev, ifr->ifr_mtu);

		/* Connections cut their segments to a smaller MTU at once
		 * (a larger one they take as a path MTU's expiry). */
		if (rc == 0 && dev->mtu != was)
			ip_dev_mtu_changed(dev->st);
		return rc;
	}
	case SIOCSIFMETRIC:
	case SIOCSMIIREG:
	case SIOCSHWTSTAMP:
	case SIOCBONDENSLAVE:
	case SIOCBONDRELEASE:
	case SIOCBONDSETHWADDR:
	case SIOCBONDCHANGEACTIVE:
		return -EOPNOTSUPP;
	default:
		return -EPERM;
	}
}

enum dev_req_kind {
	DEV_REQ_GET,    /* anyone; the answer goes back */
	DEV_REQ_ADMIN,  /* CAP_NET_ADMIN; the answer goes back */
	DEV_REQ_SET,    /* CAP_NET_ADMIN; nothing goes back */
	DEV_REQ_NONE,   /* not a device request */
};

/* How Linux's dev_ioctl sorts the requests. */
static enum dev_req_kind dev_req_kind(unsigned long cmd)
{
	switch (cmd) {
	case SIOCGIFHWADDR:
	case SIOCGIFFLAGS:
	case SIOCGIFMETRIC:
	case SIOCGIFMTU:
	case SIOCGIFSLAVE:
	case SIOCGIFMAP:
	case SIOCGIFINDEX:
	case SIOCGIFTXQLEN:
	case SIOCETHTOOL:
	case SIOCBONDSLAVEINFOQUERY:
	case SIOCBONDINFOQUERY:
	case SIOCWANDEV:
	case SIOCGHWTSTAMP:
		return DEV_REQ_GET;
	case SIOCGMIIPHY:
	case SIOCGMIIREG:
	case SIOCSIFNAME:
		return DEV_REQ_ADMIN;
	case SIOCSIFMAP:
	case SIOCSIFTXQLEN:
	case SIOCSIFFLAGS:
	case SIOCSIFMETRIC:
	case SIOCSIFMTU:
	case SIOCSIFHWADDR:
	case SIOCSIFSLAVE:
	case SIOCADDMULTI:
	case SIOCDELMULTI:
	case SIOCSIFHWBROADCAST:
	case SIOCSMIIREG:
	case SIOCBONDENSLAVE:
	case SIOCBONDRELEASE:
	case SIOCBONDSETHWADDR:
	case SIOCBONDCHANGEACTIVE:
	case SIOCSHWTSTAMP:
		return DEV_REQ_SET;
	default:
		if (cmd >= SIOCDEVPRIVATE && cmd <= SIOCDEVPRIVATE + 15)
			return DEV_REQ_GET;
		/* SIOCGIFMEM, SIOCSIFMEM, SIOCSIFLINK and any other. */
		return DEV_REQ_NONE;
	}
}

bool dev_ioctl_known(unsigned long cmd)
{
	return cmd == SIOCGIFNAME || dev_req_kind(cmd) != DEV_REQ_NONE;
}

int dev_ioctl(struct ustack *st, unsigned long cmd, struct ifreq *ifr,
	      bool *need_copyout)
{
	enum dev_req_kind kind = dev_req_kind(cmd);
	struct net_device *dev;
	char *colon;
	int rc;

	*need_copyout = true;
	if (cmd == SIOCGIFNAME)
		return dev_ifname(st, ifr);
	if (kind == DEV_REQ_NONE)
		return -ENOTTY;
	/* A name without its NUL is cut at IFNAMSIZ (and goes back so); an
	 * alias "eth0:1" means its device. */
	ifr->ifr_name[IFNAMSIZ - 1] = 0;
	colon = strchr(ifr->ifr_name, ':');
	if (colon)
		*colon = 0;
	if (kind != DEV_REQ_GET && !dev_capable_net_admin())
		return -EPERM;
	if (kind == DEV_REQ_SET)
		*need_copyout = false;
	dev = us_dev_get_by_name(st, ifr->ifr_name);
	if (colon)
		*colon = ':';
	if (!dev)
		return -ENODEV;
	if (kind == DEV_REQ_GET)
		rc = dev_ifsioc_get(dev, ifr, cmd);
	else if (cmd == SIOCSIFNAME)
		rc = -EPERM;
	else if (kind == DEV_REQ_ADMIN)
		rc = -EOPNOTSUPP;
	else
		rc = dev_ifsioc_set(dev, ifr, cmd);
	return rc;
}
