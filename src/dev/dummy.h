/*
 * dummy.h - a device that takes what is sent on it and drops it, as
 * Linux's dummy driver: an address and routes of its own, no ARP, nothing
 * ever received. Tests use it as a second interface (SO_BINDTODEVICE,
 * IP_UNICAST_IF, routing by device), as Linux tests use dummy or veth.
 */
#ifndef US_DEV_DUMMY_H
#define US_DEV_DUMMY_H

struct ustack;
struct net_device;

/* Create and register the device `name`, up, MTU 1500. NULL on error. */
struct net_device *dummy_create(struct ustack *st, const char *name);

#endif
