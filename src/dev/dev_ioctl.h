/*
 * dev_ioctl.h - the interface requests of a socket (Linux's
 * net/core/dev_ioctl.c): SIOCGIFCONF, and the SIOCGIF* / SIOCSIF*
 * requests about one device of the socket's instance, named in a
 * struct ifreq.
 *
 * Call chain:  us_ioctl -> sock_ioctl_locked -> dev_ifconf (SIOCGIFCONF)
 *              us_ioctl -> sock_ioctl_locked -> sock->ops->ioctl says
 *                      ENOIOCTLCMD -> dev_ioctl
 *              inet_ioctl -> devinet_ioctl (the IPv4 addresses,
 *                      net/devinet.c)
 */
#ifndef US_DEV_DEV_IOCTL_H
#define US_DEV_DEV_IOCTL_H

#include <stdbool.h>

struct ifconf;
struct ifreq;
struct ustack;

/*
 * Whether the caller may change the interfaces (Linux asks for
 * CAP_NET_ADMIN in the socket's namespace; an instance belongs to the
 * process that made it, so here: the thread's effective CAP_NET_ADMIN).
 */
bool dev_capable_net_admin(void);
/* The same for another capability (CAP_NET_RAW, ...). */
bool dev_capable(int cap);

/*
 * SIOCGIFCONF on the caller's struct ifconf (Linux's dev_ifconf): one
 * struct ifreq per IPv4 address (inet_gifconf), as many whole entries as
 * ifc_len holds, or with ifc_buf NULL only the length they need; ifc_len
 * set to the bytes written. 0 or -EFAULT (ifc NULL).
 */
int dev_ifconf(struct ustack *st, struct ifconf *ifc);

/* Whether cmd is one of the requests dev_ioctl answers; the others are
 * ENOTTY without a look at the caller's argument (which may not be a
 * struct ifreq). */
bool dev_ioctl_known(unsigned long cmd);

/*
 * One device request on a copy of the caller's struct ifreq (Linux's
 * dev_ioctl): 0 or -errno, -ENOTTY for a request that is none of them.
 * *need_copyout says whether ifr goes back to the caller on success.
 * Core lock held.
 */
int dev_ioctl(struct ustack *st, unsigned long cmd, struct ifreq *ifr,
	      bool *need_copyout);

#endif
