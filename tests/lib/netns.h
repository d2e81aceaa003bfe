/*
 * netns.h - a private network namespace for a test process, so that kernel
 * sockets the test makes (a UDP socket on 127.0.0.1, say) live in a network
 * of their own and never touch the host's.
 *
 *   char why[160];
 *   if (netns_enter_private(why, sizeof(why)) < 0)
 *           ... skip, printing why ...
 *
 * Call it before any thread starts: a namespace is a property of the
 * thread that enters it, inherited by the threads it creates afterwards.
 */
#ifndef US_TESTS_NETNS_H
#define US_TESTS_NETNS_H

#include <stddef.h>

/*
 * Enter a new network namespace (as root; otherwise inside a new user
 * namespace that maps our uid and gid to root) and bring its loopback
 * device up. 0, or -errno with a sentence in why[] saying what failed.
 */
int netns_enter_private(char *why, size_t len);

/*
 * In the test's own namespace: no IPv6 on devices made from now on, so
 * that the kernel sends no router solicitations or MLD reports on a TAP
 * at moments of its choosing (frames a test did not send). Best effort.
 */
void netns_no_ipv6(void);

#endif
