/*
 * netns.c - entering a private network namespace for a test (netns.h).
 * Only the namespace this creates is ever configured: its loopback is
 * brought up, nothing else.
 */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

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

/* A user namespace where we are root, and a network namespace in it. */
static int enter_userns(void)
{
	unsigned int uid = (unsigned int)getuid(), gid = (unsigned int)getgid();
	char map[64];

	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0)
		return -errno;
	if (write_file("/proc/self/setgroups", "deny") < 0)
		return -EPERM;
	snprintf(map, sizeof(map), "0 %u 1", uid);
	if (write_file("/proc/self/uid_map", map) < 0)
		return -EPERM;
	snprintf(map, sizeof(map), "0 %u 1", gid);
	if (write_file("/proc/self/gid_map", map) < 0)
		return -EPERM;
	return 0;
}

static int loopback_up(void)
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;

	if (s < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		rc = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (rc == 0 && ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		rc = -errno;
	close(s);
	return rc;
}

int netns_enter_private(char *why, size_t len)
{
	int e1, e2, rc;

	if (unshare(CLONE_NEWNET) < 0) {
		e1 = errno;
		e2 = enter_userns();
		if (e2 < 0) {
			snprintf(why, len,
				 "cannot create a network namespace: "
				 "unshare(CLONE_NEWNET): %s; "
				 "with CLONE_NEWUSER: %s",
				 strerror(e1), strerror(-e2));
			return e2;
		}
	}
	rc = loopback_up();
	if (rc < 0)
		snprintf(why, len,
			 "cannot bring lo up in the new namespace: %s",
			 strerror(-rc));
	return rc;
}

void netns_no_ipv6(void)
{
	FILE *f = fopen("/proc/sys/net/ipv6/conf/default/disable_ipv6", "w");

	if (!f)
		return;         /* no IPv6 in this kernel */
	fputs("1\n", f);
	fclose(f);
}
