/*
 * pcap.c - the classic libpcap capture-file writer (see pcap.h).
 *
 * Call chain:  dev_queue_xmit / netif_receive_skb -> pcap_write_skb ->
 *              pcap_write
 *
 * File format (libpcap "savefile", draft-ietf-opsawg-pcap §4, §5): a
 * 24-byte file header, then per packet a 16-byte record header and the
 * captured bytes. Every field is written in the host's byte order; readers
 * tell the order from how the magic number reads back.
 */
#include "dev/pcap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include "dev/netdev.h"
#include "stack/stack.h"

/* Pieces of one GSO packet: its head and up to 64 KB in 1-MSS frags. */
#define PCAP_MAX_PIECES 128

#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_VERSION_MAJOR 2
#define PCAP_VERSION_MINOR 4
/* tcpdump's default snapshot length, enough for a 64 KiB loopback frame. */
#define PCAP_SNAPLEN_DEFAULT 262144u

struct pcap_file_header {
	uint32_t magic;
	uint16_t version_major;
	uint16_t version_minor;
	int32_t thiszone;      /* always 0: timestamps are UTC */
	uint32_t sigfigs;      /* always 0 */
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcap_record_header {
	uint32_t ts_sec;
	uint32_t ts_usec;
	uint32_t incl_len;     /* bytes stored */
	uint32_t orig_len;     /* bytes the packet had */
};

_Static_assert(sizeof(struct pcap_file_header) == 24, "pcap file header");
_Static_assert(sizeof(struct pcap_record_header) == 16, "pcap record header");

struct pcap_writer *pcap_open(const char *path, int linktype, uint32_t snaplen)
{
	struct pcap_file_header fh = {
		.magic = PCAP_MAGIC_USEC,
		.version_major = PCAP_VERSION_MAJOR,
		.version_minor = PCAP_VERSION_MINOR,
		.snaplen = snaplen ? snaplen : PCAP_SNAPLEN_DEFAULT,
		.linktype = (uint32_t)linktype,
	};
	struct pcap_writer *w;
	int saved;

	if (!path || linktype < 0) {
		errno = EINVAL;
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->f = fopen(path, "wbe");
	if (!w->f)
		goto fail;
	errno = 0;
	if (fwrite(&fh, sizeof(fh), 1, w->f) != 1) {
		errno = errno ? errno : EIO;
		goto fail;
	}
	w->linktype = linktype;
	w->snaplen = fh.snaplen;
	w->users = 1;
	return w;
fail:
	saved = errno;
	if (w->f)
		fclose(w->f);
	free(w);
	errno = saved;
	return NULL;
}

/* One record of len bytes given in cnt pieces, cut at the snap length. */
static int pcap_write_iov(struct pcap_writer *w, us_time_t ts,
			  const struct iovec *iov, int cnt, size_t len)
{
	struct pcap_record_header rh;
	size_t incl = 0, left;

	for (int i = 0; i < cnt; i++)
		incl += iov[i].iov_len;
	if (incl > len)
		incl = len;
	if (incl > w->snaplen)
		incl = w->snaplen;
	left = incl;

	/* The format has 32-bit lengths and seconds. */
	if (len > UINT32_MAX)
		return -EMSGSIZE;
	rh.ts_sec = (uint32_t)(ts / US_USEC_PER_SEC);
	rh.ts_usec = (uint32_t)(ts % US_USEC_PER_SEC);
	rh.incl_len = (uint32_t)incl;
	rh.orig_len = (uint32_t)len;
	/*
	 * One writer may serve devices of two instances driven by two
	 * threads: keep each record's header and bytes together.
	 */
	flockfile(w->f);
	errno = 0;
	if (fwrite_unlocked(&rh, sizeof(rh), 1, w->f) != 1)
		goto fail;
	for (int i = 0; i < cnt && left; i++) {
		size_t n = iov[i].iov_len < left ? iov[i].iov_len : left;

		if (n && fwrite_unlocked(iov[i].iov_base, n, 1, w->f) != 1)
			goto fail;
		left -= n;
	}
	w->packets++;
	funlockfile(w->f);
	return 0;
fail:
	funlockfile(w->f);
	return errno ? -errno : -EIO;
}

int pcap_write(struct pcap_writer *w, us_time_t ts, const void *data, size_t len)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };

	return pcap_write_iov(w, ts, &iov, 1, len);
}

/* A GSO packet is recorded whole, as tcpdump on a TSO device shows it. */
int pcap_write_skb(struct pcap_writer *w, struct ustack *st,
		   const struct sk_buff *skb)
{
	int64_t ts = (int64_t)st->now + st->clock->realtime_offset_us;
	struct iovec iov[PCAP_MAX_PIECES];
	const struct sk_buff *f;
	int cnt = 0;

	iov[cnt].iov_base = skb->data;
	iov[cnt++].iov_len = skb_headlen(skb);
	skb_walk_frags(skb, f) {
		if (cnt == PCAP_MAX_PIECES)
			break;
		iov[cnt].iov_base = f->data;
		iov[cnt++].iov_len = skb_headlen(f);
	}
	return pcap_write_iov(w, ts > 0 ? (us_time_t)ts : 0, iov, cnt, skb->len);
}

static int dev_linktype(const struct net_device *dev)
{
	return dev->type == US_ARPHRD_NONE ? PCAP_LINKTYPE_RAW :
					     PCAP_LINKTYPE_ETHERNET;
}

void pcap_attach(struct pcap_writer *w, struct net_device *dev)
{
	if (dev->pcap == w)
		return;
	/* A file holds one link type; mixed frames would not decode. */
	if (dev->st && dev_linktype(dev) != w->linktype)
		us_log(dev->st, US_LOG_WARN,
		       "pcap: %s has link type %d, the file %d", dev->name,
		       dev_linktype(dev), w->linktype);
	w->users++;
	if (dev->pcap)
		pcap_close(dev->pcap);
	dev->pcap = w;
}

void pcap_close(struct pcap_writer *w)
{
	if (!w || --w->users > 0)
		return;
	fclose(w->f); /* flushes what is still buffered */
	free(w);
}
