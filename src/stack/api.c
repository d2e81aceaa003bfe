/*
 * api.c - configuring an instance through the public API (ustack.h):
 * attaching a TAP device with its address, default route and capture.
 *
 * Everything happens under the core lock, so a device can be added while
 * the runtime thread is running; the runtime then starts watching its fd.
 */
#include <errno.h>
#include <string.h>

#include "dev/fault.h"
#include "dev/netdev.h"
#include "dev/pcap.h"
#include "dev/tap.h"
#include "net/arp.h"
#include "net/ipv4.h"
#include "stack/runtime.h"
#include "stack/stack.h"

/* The capture's snapshot length: tcpdump's default, so that even a large
 * GSO frame is recorded whole. */
#define API_PCAP_SNAPLEN 262144

static bool fault_ok(const struct ustack_fault *f)
{
	return f->loss_ppm <= FAULT_PPM_ONE && f->dup_ppm <= FAULT_PPM_ONE &&
	       f->reorder_ppm <= FAULT_PPM_ONE;
}

static int ifconfig_check(const struct ustack_ifconfig *ifc)
{
	if (!ifc || !ifc->ifname || !ifc->ifname[0])
		return -EINVAL;
	if (strlen(ifc->ifname) >= US_IFNAMSIZ)
		return -ENAMETOOLONG;
	if (ifc->prefix_len < 0 || ifc->prefix_len > 32)
		return -EINVAL;
	if (!fault_ok(&ifc->tx_fault) || !fault_ok(&ifc->rx_fault))
		return -EINVAL;
	return 0;
}

static void fault_params_from(struct fault_params *p,
			      const struct ustack_fault *f)
{
	memset(p, 0, sizeof(*p));
	p->loss_ppm = f->loss_ppm;
	p->dup_ppm = f->dup_ppm;
	p->reorder_ppm = f->reorder_ppm;
	p->reorder_delay_us = f->reorder_delay_us;
}

static int attach_pcap(struct net_device *dev, const char *path)
{
	struct pcap_writer *w = pcap_open(path, PCAP_LINKTYPE_ETHERNET,
					  API_PCAP_SNAPLEN);

	if (!w)
		return errno ? -errno : -EIO;
	pcap_attach(w, dev);
	/* The device holds the writer now; drop the opener's reference. */
	pcap_close(w);
	return 0;
}

/* Address, routes, capture: the steps after the device exists. */
static int configure_tap(struct net_device *dev,
			 const struct ustack_ifconfig *ifc)
{
	struct ustack *st = dev->st;
	int err;

	err = netdev_set_ipv4(dev, ifc->addr, ifc->prefix_len);
	if (err)
		return err;
	if (ifc->gateway) {
		err = ip_route_add(st, 0, 0, ifc->gateway, dev);
		if (err)
			return err;
	}
	if (ifc->pcap_path) {
		err = attach_pcap(dev, ifc->pcap_path);
		if (err)
			return err;
	}
	return us_runtime_add_dev(st, dev);
}

int ustack_add_tap(struct ustack *st, const struct ustack_ifconfig *ifc)
{
	struct fault_params tx_fault, rx_fault;
	struct tap_config cfg;
	struct net_device *dev;
	int err;

	err = ifconfig_check(ifc);
	if (err)
		return err;
	memset(&cfg, 0, sizeof(cfg));
	cfg.ifname = ifc->ifname;
	cfg.mtu = ifc->mtu;
	cfg.mac = ifc->mac;
	fault_params_from(&tx_fault, &ifc->tx_fault);
	fault_params_from(&rx_fault, &ifc->rx_fault);
	cfg.tx_fault = &tx_fault;
	cfg.rx_fault = &rx_fault;
	cfg.fault_seed = ifc->fault_seed;
	cfg.no_offload = ifc->no_offload != 0;
	cfg.tx_thread = ifc->no_tx_thread == 0;

	us_core_lock(st);
	us_engine_begin(st);
	if (us_dev_get_by_name(st, ifc->ifname)) {
		err = -EEXIST;
		goto out;
	}
	dev = tap_create(st, &cfg, &err);
	if (!dev)
		goto out;
	err = configure_tap(dev, ifc);
	if (err) {
		/* Unregistering removes the device's routes and ARP entries,
		 * closes its fd (leaving the epoll set) and its capture. */
		netdev_unregister(dev);
		goto out;
	}
	/*
	 * RFC 5227 §3: the announcement is best effort (hosts also learn us
	 * from our replies), so failing to send it does not fail the attach.
	 */
	if (arp_send_gratuitous(dev) < 0)
		us_log(st, US_LOG_WARN, "%s: gratuitous ARP not sent", dev->name);
	us_log(st, US_LOG_INFO, "%s: attached, mtu %u", dev->name, dev->mtu);
	us_runtime_wakeup(st);
out:
	pthread_mutex_unlock(&st->lock);
	return err;
}
