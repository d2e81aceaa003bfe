/*
 * devinet.h - the IPv4 addresses of the devices as the socket ioctls
 * show them (Linux's net/ipv4/devinet.c: devinet_ioctl, inet_gifconf).
 *
 * A device here has at most one IPv4 address (dev->ip_addr, with
 * dev->ip_mask), labelled with the device's name, as an address that
 * `ip addr add` puts on a Linux device without a label.
 *
 * Call chain:  inet_ioctl -> devinet_ioctl (SIOCGIFADDR, ...)
 *              dev_ifconf -> inet_gifconf (SIOCGIFCONF)
 */
#ifndef US_NET_DEVINET_H
#define US_NET_DEVINET_H

struct ifreq;
struct net_device;
struct ustack;

/*
 * SIOCGIFADDR, SIOCGIFBRDADDR, SIOCGIFDSTADDR, SIOCGIFNETMASK and the
 * setters that reach the IPv4 layer (SIOCSIFADDR, ..., SIOCSIFFLAGS,
 * SIOC[GS]IFPFLAGS) on a copy of the caller's struct ifreq. 0 or -errno.
 * Core lock held.
 */
int devinet_ioctl(struct ustack *st, unsigned long cmd, struct ifreq *ifr);

/*
 * dev's entries for SIOCGIFCONF: with buf NULL the bytes they need;
 * otherwise as many whole entries of `size` bytes as len holds, written
 * at buf. Returns the bytes (0 for a device without an IPv4 address).
 */
int inet_gifconf(const struct net_device *dev, char *buf, int len, int size);

#endif
