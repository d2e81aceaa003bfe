/*
 * ustack.h - the public API of ustack, a user-space TCP/IP stack.
 *
 * A struct ustack is one stack instance: its devices, tables, timers and
 * counters, and (once started) the runtime thread that drives it. Create
 * one, attach a TAP device with an address, start it; later issues add the
 * BSD socket calls (us_socket, us_bind, ...) on top.
 *
 * All functions return 0 or a negative errno value unless they say
 * otherwise.
 */
#ifndef USTACK_USTACK_H
#define USTACK_USTACK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ustack;
struct us_clock;

struct ustack_config {
	uint64_t seed;            /* for ISNs, ports, MACs; 0 = from the OS */
	int log_level;            /* 0 err .. 4 trace; default 1 (warn) */
	size_t mem_limit_bytes;   /* packet-buffer memory limit; default 64 MiB */
	struct us_clock *clock;   /* NULL = the monotonic clock */
};

/* Fill cfg with the defaults. */
void ustack_config_init(struct ustack_config *cfg);
/* NULL cfg = defaults. Returns NULL on failure (errno set). */
struct ustack *ustack_create(const struct ustack_config *cfg);
/* Stops the runtime if running, releases every device and buffer. */
void ustack_destroy(struct ustack *st);

struct ustack_ifconfig {
	const char *ifname;       /* TAP device name; created when absent */
	uint32_t addr;            /* IPv4 address, network byte order */
	int prefix_len;           /* 0..32 */
	uint32_t gateway;         /* default gateway, network order; 0 = none */
	unsigned int mtu;         /* 0 = 1500 */
	const uint8_t *mac;       /* 6 bytes, or NULL for a random local MAC */
	const char *pcap_path;    /* capture every frame here, or NULL */
};

/*
 * Attach to (or create) the TAP device ifc->ifname in the calling thread's
 * network namespace, bring it up, and give ustack the address. Sends a
 * gratuitous ARP.
 */
int ustack_add_tap(struct ustack *st, const struct ustack_ifconfig *ifc);

/* Start / stop the runtime thread that drives devices and timers. */
int ustack_start(struct ustack *st);
void ustack_stop(struct ustack *st);

/* Print every non-zero counter and drop reason. */
void ustack_print_counters(struct ustack *st, FILE *f);

#ifdef __cplusplus
}
#endif

#endif
