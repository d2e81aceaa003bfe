/*
 * icmp_errno.h - what an ICMP error means to a socket: the errno Linux
 * reports for each type and code, and whether it is fatal (a "hard" error
 * that a connected socket reports at once) or soft (Linux's
 * icmp_err_convert table, RFC 1122 §4.2.3.9 for TCP's use of it).
 */
#ifndef US_NET_ICMP_ERRNO_H
#define US_NET_ICMP_ERRNO_H

#include <stdbool.h>

int icmp_err_convert(int type, int code, bool *fatal);

#endif
