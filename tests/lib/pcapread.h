/*
 * pcapread.h - read back a classic pcap file in tests, and capture a
 * device's frames into one.
 *
 * The device-level tests observe what a device hands up to the stack (or
 * sends) through the pcap tap that netif_receive_skb and dev_queue_xmit
 * already feed, so they need no hook in the protocol level.
 */
#ifndef US_TESTS_PCAPREAD_H
#define US_TESTS_PCAPREAD_H

#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"

struct net_device;

struct tp_record {
	us_time_t ts;        /* ts_sec * 1e6 + ts_usec */
	uint32_t incl_len;
	uint32_t orig_len;
	uint8_t *data;       /* incl_len bytes */
};

struct tp_file {
	uint32_t magic;
	uint16_t version_major, version_minor;
	int32_t thiszone;
	uint32_t sigfigs, snaplen, linktype;
	int n;
	struct tp_record *rec;
};

/* Parse a whole file (host byte order). 0, or -1 if it is malformed. */
int tp_read(const char *path, struct tp_file *out);
void tp_free(struct tp_file *f);

/*
 * Capture dev's frames into a new temporary file whose name is written to
 * path (size >= 64). The device then holds the writer's only reference.
 */
void tp_capture(struct net_device *dev, char *path, size_t size);
/* Flush dev's capture and read what it holds so far. */
void tp_capture_read(struct net_device *dev, const char *path,
		     struct tp_file *out);

#endif
