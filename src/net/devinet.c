/*
 * devinet.c - the IPv4 addresses of the devices as the socket ioctls show
 * them (Linux's net/ipv4/devinet.c: devinet_ioctl, inet_gifconf). See
 * devinet.h.
 */
#include "net/devinet.h"

#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>

#include "dev/dev_ioctl.h"
#include "dev/netdev.h"
#include "net/ipv4.h"
#include "stack/stack.h"

int inet_gifconf(const struct net_device *dev, char *buf, int len, int size)
{
	struct sockaddr_in *sin;
	struct ifreq ifr;

	/* A device without an address is not listed (Linux: no in_device
	 * or an empty ifa_list). */
	if (!dev->ip_addr || size > (int)sizeof(ifr))
		return 0;
	if (!buf)
		return size;
	/* Whole entries only. */
	if (len < size)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, dev->name, strlen(dev->name) + 1);
	sin = (struct sockaddr_in *)&ifr.ifr_addr;
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = dev->ip_addr;
	memcpy(buf, &ifr, (size_t)size);
	return size;
}

/* What the getters answer for the device's address. */
static uint32_t devinet_get(const struct net_device *dev, unsigned long cmd)
{
	switch (cmd) {
	case SIOCGIFADDR:
		return dev->ip_addr;
	case SIOCGIFBRDADDR:
		/*
		 * The broadcast address the device receives on: its subnet's,
		 * as `ip addr add A/N brd +` or ifconfig give it; none on the
		 * loopback (no IFF_BROADCAST) and on /31 and /32 (RFC 3021),
		 * as Linux's lo reports 0.0.0.0.
		 */
		return (dev->flags & US_IFF_BROADCAST) ?
		       ip_dev_broadcast(dev) : 0;
	case SIOCGIFDSTADDR:
		/* Not a point-to-point link: the peer is the address itself
		 * (ifa_address, equal to ifa_local). */
		return dev->ip_addr;
	default: /* SIOCGIFNETMASK */
		return dev->ip_mask;
	}
}

int devinet_ioctl(struct ustack *st, unsigned long cmd, struct ifreq *ifr)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr->ifr_addr;
	struct net_device *dev;
	bool have_addr;
	char *colon;

	ifr->ifr_name[IFNAMSIZ - 1] = 0;
	colon = strchr(ifr->ifr_name, ':');
	if (colon)
		*colon = 0;
	/* Linux's devinet_ioctl: the request and the caller's right first,
	 * then the device, then its address. */
	switch (cmd) {
	case SIOCGIFADDR:
	case SIOCGIFBRDADDR:
	case SIOCGIFDSTADDR:
	case SIOCGIFNETMASK:
		/* The answer is a whole fresh sockaddr_in; the rest of the
		 * union is left as the caller passed it. */
		memset(sin, 0, sizeof(*sin));
		sin->sin_family = AF_INET;
		break;
	case SIOCSIFFLAGS:
		if (!dev_capable_net_admin())
			return -EPERM;
		break;
	case SIOCSIFADDR:
	case SIOCSIFBRDADDR:
	case SIOCSIFDSTADDR:
	case SIOCSIFNETMASK:
		if (!dev_capable_net_admin())
			return -EPERM;
		if (sin->sin_family != AF_INET)
			return -EINVAL;
		break;
	default:
		/* SIOCGIFPFLAGS, SIOCSIFPFLAGS (IPv6's), whatever else. */
		return -EINVAL;
	}
	dev = us_dev_get_by_name(st, ifr->ifr_name);
	if (!dev)
		return -ENODEV;
	if (colon)
		*colon = ':';
	/* The one address is labelled with the device's name: an alias
	 * ("lo:1") names no address. The caller's address (4.4BSD's match
	 * on label and address) can only pick that one. */
	have_addr = dev->ip_addr && strcmp(ifr->ifr_name, dev->name) == 0;
	if (!have_addr && cmd != SIOCSIFADDR && cmd != SIOCSIFFLAGS)
		return -EADDRNOTAVAIL;
	switch (cmd) {
	case SIOCGIFADDR:
	case SIOCGIFBRDADDR:
	case SIOCGIFDSTADDR:
	case SIOCGIFNETMASK:
		sin->sin_addr.s_addr = devinet_get(dev, cmd);
		return 0;
	default:
		/* The addresses and flags are the program's configuration of
		 * its instance, not a socket's to change (dev_ioctl.c). */
		return -EPERM;
	}
}
