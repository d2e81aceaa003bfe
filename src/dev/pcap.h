/*
 * pcap.h - a capture-file writer that can tap any device.
 *
 * Writes the classic libpcap format (magic 0xa1b2c3d4, version 2.4,
 * microsecond timestamps) that tcpdump, tshark and Wireshark read. One
 * writer may serve several devices of the same link type. Timestamps are
 * the engine's time plus the clock's realtime offset, so a capture of a
 * virtual-clock run is stamped in virtual time.
 */
#ifndef US_DEV_PCAP_H
#define US_DEV_PCAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/clock.h"
#include "core/skbuff.h"

struct ustack;
struct net_device;

#define PCAP_LINKTYPE_ETHERNET 1
#define PCAP_LINKTYPE_RAW 101  /* bare IPv4/IPv6 packets */

struct pcap_writer {
	FILE *f;
	int linktype;
	uint32_t snaplen;
	uint64_t packets;
	int users;      /* devices attached + the opener */
};

/* Create (truncate) path and write the file header. NULL and errno on error. */
struct pcap_writer *pcap_open(const char *path, int linktype, uint32_t snaplen);
/* Write one record; ts in µs (wall clock or virtual). 0 or -errno. */
int pcap_write(struct pcap_writer *w, us_time_t ts, const void *data, size_t len);
/* Write skb's bytes from data to tail stamped with the engine's time. */
int pcap_write_skb(struct pcap_writer *w, struct ustack *st,
		   const struct sk_buff *skb);
/* Attach w to dev (takes a reference); frames in and out are recorded. */
void pcap_attach(struct pcap_writer *w, struct net_device *dev);
/* Drop a reference; the last one flushes and closes the file. */
void pcap_close(struct pcap_writer *w);

#endif
