/*
 * loopback.h - the loopback device: what is sent on it is received on it.
 *
 * Frames are queued on transmit and handed up on the next poll, never
 * recursively, so a reply generated while receiving does not nest. The
 * device carries Ethernet frames with zero addresses (as Linux's lo does),
 * takes 127.0.0.1/8, and needs no ARP.
 */
#ifndef US_DEV_LOOPBACK_H
#define US_DEV_LOOPBACK_H

struct ustack;
struct net_device;

/* Create and register "lo" with 127.0.0.1/8, mtu 65536. NULL on error. */
struct net_device *loopback_create(struct ustack *st);

#endif
