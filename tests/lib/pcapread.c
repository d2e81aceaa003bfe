/*
 * pcapread.c - reading pcap files back in tests (see pcapread.h).
 */
#include "pcapread.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dev/netdev.h"
#include "dev/pcap.h"

static int read_exact(FILE *f, void *p, size_t len)
{
	return fread(p, 1, len, f) == len ? 0 : -1;
}

static int read_header(FILE *f, struct tp_file *out)
{
	uint8_t h[24];

	if (read_exact(f, h, sizeof(h)))
		return -1;
	memcpy(&out->magic, h, 4);
	memcpy(&out->version_major, h + 4, 2);
	memcpy(&out->version_minor, h + 6, 2);
	memcpy(&out->thiszone, h + 8, 4);
	memcpy(&out->sigfigs, h + 12, 4);
	memcpy(&out->snaplen, h + 16, 4);
	memcpy(&out->linktype, h + 20, 4);
	return 0;
}

/* 1 on a record, 0 at a clean end of file, -1 on a malformed one. */
static int read_record(FILE *f, struct tp_record *r)
{
	uint32_t h[4];
	size_t got = fread(h, 1, sizeof(h), f);

	if (got == 0 && feof(f))
		return 0;
	if (got != sizeof(h) || h[1] >= 1000000 || h[2] > h[3])
		return -1;
	r->ts = (us_time_t)h[0] * US_USEC_PER_SEC + h[1];
	r->incl_len = h[2];
	r->orig_len = h[3];
	r->data = malloc(r->incl_len ? r->incl_len : 1);
	if (!r->data || read_exact(f, r->data, r->incl_len)) {
		free(r->data);
		return -1;
	}
	return 1;
}

int tp_read(const char *path, struct tp_file *out)
{
	FILE *f = fopen(path, "rb");
	int cap = 0, rc = 0;

	memset(out, 0, sizeof(*out));
	if (!f)
		return -1;
	if (read_header(f, out)) {
		fclose(f);
		return -1;
	}
	for (;;) {
		struct tp_record r;

		if (out->n == cap) {
			cap = cap ? 2 * cap : 16;
			out->rec = realloc(out->rec, (size_t)cap * sizeof(r));
			assert(out->rec);
		}
		rc = read_record(f, &r);
		if (rc <= 0)
			break;
		out->rec[out->n++] = r;
	}
	fclose(f);
	if (rc < 0) {
		tp_free(out);
		return -1;
	}
	return 0;
}

void tp_free(struct tp_file *f)
{
	for (int i = 0; i < f->n; i++)
		free(f->rec[i].data);
	free(f->rec);
	f->rec = NULL;
	f->n = 0;
}

void tp_capture(struct net_device *dev, char *path, size_t size)
{
	struct pcap_writer *w;
	int fd;

	assert(size >= 64);
	snprintf(path, size, "/tmp/ustack-test-%s.XXXXXX", dev->name);
	fd = mkstemp(path);
	assert(fd >= 0);
	close(fd);
	w = pcap_open(path, dev->type == US_ARPHRD_NONE ? PCAP_LINKTYPE_RAW :
						     PCAP_LINKTYPE_ETHERNET, 0);
	assert(w);
	pcap_attach(w, dev);
	pcap_close(w);
}

void tp_capture_read(struct net_device *dev, const char *path,
		     struct tp_file *out)
{
	int rc;

	assert(dev->pcap);
	fflush(dev->pcap->f);
	rc = tp_read(path, out);
	assert(rc == 0);
	(void)rc;
}
