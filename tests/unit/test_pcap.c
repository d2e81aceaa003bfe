/*
 * test_pcap.c - the capture-file writer: the exact bytes of the file
 * header and of each record, snaplen truncation, timestamps from the
 * engine's (virtual) time plus the clock's realtime offset, frames in and
 * out of an attached device, and the reference count (the file is complete
 * only when the last user lets go).
 *
 * The file is read back with plain stdio, byte by byte, not through the
 * test library's reader, so a symmetric mistake in both cannot hide.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dev/netdev.h"
#include "dev/pcap.h"
#include "lib/testnet.h"
#include "stack/stack.h"

static char path[64];

static int setup(void **state)
{
	int fd;

	(void)state;
	snprintf(path, sizeof(path), "/tmp/ustack-test-pcap.XXXXXX");
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

/* The whole file; *len set. Caller frees. */
static uint8_t *slurp(size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat sb;
	uint8_t *buf;

	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &sb), 0);
	buf = malloc((size_t)sb.st_size + 1);
	assert_non_null(buf);
	*len = fread(buf, 1, (size_t)sb.st_size, f);
	assert_int_equal(*len, (size_t)sb.st_size);
	fclose(f);
	return buf;
}

static uint32_t u32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint16_t u16_at(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static off_t file_size(void)
{
	struct stat sb;

	assert_int_equal(stat(path, &sb), 0);
	return sb.st_size;
}

/* ---- file header ------------------------------------------------------ */

static void test_file_header(void **state)
{
	struct pcap_writer *w = pcap_open(path, PCAP_LINKTYPE_ETHERNET, 1600);
	uint8_t *b;
	size_t len;

	(void)state;
	assert_non_null(w);
	assert_int_equal(w->users, 1);
	assert_int_equal(w->packets, 0);
	pcap_close(w);
	b = slurp(&len);
	assert_int_equal(len, 24);
	assert_int_equal(u32_at(b), 0xa1b2c3d4u);   /* µs magic, host order */
	assert_int_equal(u16_at(b + 4), 2);
	assert_int_equal(u16_at(b + 6), 4);
	assert_int_equal(u32_at(b + 8), 0);          /* thiszone */
	assert_int_equal(u32_at(b + 12), 0);         /* sigfigs */
	assert_int_equal(u32_at(b + 16), 1600);      /* snaplen */
	assert_int_equal(u32_at(b + 20), PCAP_LINKTYPE_ETHERNET);
	free(b);
}

static void test_file_header_raw_default_snaplen(void **state)
{
	struct pcap_writer *w = pcap_open(path, PCAP_LINKTYPE_RAW, 0);
	uint8_t *b;
	size_t len;

	(void)state;
	assert_non_null(w);
	pcap_close(w);
	b = slurp(&len);
	assert_int_equal(len, 24);
	assert_true(u32_at(b + 16) >= 65535);        /* a real default */
	assert_int_equal(u32_at(b + 20), 101);
	free(b);
}

static void test_open_error(void **state)
{
	(void)state;
	errno = 0;
	assert_null(pcap_open("/nonexistent-dir/x.pcap", PCAP_LINKTYPE_ETHERNET, 0));
	assert_int_equal(errno, ENOENT);
}

/* ---- records ---------------------------------------------------------- */

static void test_record_exact(void **state)
{
	struct pcap_writer *w = pcap_open(path, PCAP_LINKTYPE_ETHERNET, 0);
	uint8_t pkt1[60], pkt2[3] = { 0xde, 0xad, 0x01 };
	uint8_t *b;
	size_t len;

	(void)state;
	for (unsigned i = 0; i < sizeof(pkt1); i++)
		pkt1[i] = (uint8_t)(i * 7 + 3);
	assert_int_equal(pcap_write(w, 1700000000123456ull, pkt1, sizeof(pkt1)), 0);
	assert_int_equal(pcap_write(w, 999999ull, pkt2, sizeof(pkt2)), 0);
	assert_int_equal(w->packets, 2);
	pcap_close(w);

	b = slurp(&len);
	assert_int_equal(len, 24 + 16 + 60 + 16 + 3);
	assert_int_equal(u32_at(b + 24), 1700000000u);   /* ts_sec */
	assert_int_equal(u32_at(b + 28), 123456u);       /* ts_usec */
	assert_int_equal(u32_at(b + 32), 60);            /* incl_len */
	assert_int_equal(u32_at(b + 36), 60);            /* orig_len */
	assert_memory_equal(b + 40, pkt1, 60);
	assert_int_equal(u32_at(b + 100), 0);
	assert_int_equal(u32_at(b + 104), 999999u);
	assert_int_equal(u32_at(b + 108), 3);
	assert_int_equal(u32_at(b + 112), 3);
	assert_memory_equal(b + 116, pkt2, 3);
	free(b);
}

static void test_snaplen_truncates(void **state)
{
	struct pcap_writer *w = pcap_open(path, PCAP_LINKTYPE_ETHERNET, 16);
	uint8_t pkt[100];
	uint8_t *b;
	size_t len;

	(void)state;
	for (unsigned i = 0; i < sizeof(pkt); i++)
		pkt[i] = (uint8_t)i;
	assert_int_equal(pcap_write(w, 5, pkt, sizeof(pkt)), 0);
	pcap_close(w);
	b = slurp(&len);
	assert_int_equal(len, 24 + 16 + 16);
	assert_int_equal(u32_at(b + 32), 16);   /* stored */
	assert_int_equal(u32_at(b + 36), 100);  /* on the wire */
	assert_memory_equal(b + 40, pkt, 16);
	free(b);
}

/* ---- skb records and attached devices --------------------------------- */

static struct sk_buff *make_skb(struct ustack *st, const uint8_t *bytes,
				unsigned len)
{
	struct sk_buff *skb = us_skb_alloc(st, len);

	assert_non_null(skb);
	assert_int_equal(skb_put_data(skb, bytes, len), 0);
	return skb;
}

static void test_write_skb_virtual_time_and_offset(void **state)
{
	struct test_stack t;
	struct pcap_writer *w;
	struct sk_buff *skb;
	uint8_t frame[20] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	uint8_t *b;
	size_t len;

	(void)state;
	ts_init(&t, "10.0.0.2", 24);
	w = pcap_open(path, PCAP_LINKTYPE_ETHERNET, 0);
	assert_non_null(w);
	/* The fixture's virtual clock starts at 1000 s. */
	t.st->now = 1000 * US_USEC_PER_SEC + 250;
	skb = make_skb(t.st, frame, sizeof(frame));
	skb_pull(skb, 2);   /* only data..tail is written */
	assert_int_equal(pcap_write_skb(w, t.st, skb), 0);
	t.clock.realtime_offset_us = 1600000000ll * US_USEC_PER_SEC;
	assert_int_equal(pcap_write_skb(w, t.st, skb), 0);
	skb_free(skb);
	pcap_close(w);

	b = slurp(&len);
	assert_int_equal(len, 24 + 2 * (16 + 18));
	assert_int_equal(u32_at(b + 24), 1000);
	assert_int_equal(u32_at(b + 28), 250);
	assert_int_equal(u32_at(b + 32), 18);
	assert_memory_equal(b + 40, frame + 2, 18);
	assert_int_equal(u32_at(b + 58), 1600001000u);
	assert_int_equal(u32_at(b + 62), 250);
	free(b);
	ts_destroy(&t);
}

/* Frames sent through dev_queue_xmit and received by netif_receive_skb
 * are both recorded, in order. */
static void test_attached_device_records_both_ways(void **state)
{
	struct test_stack t;
	struct pcap_writer *w;
	uint8_t out[30], in[40];
	struct sk_buff *skb;
	uint8_t *b;
	size_t len;

	(void)state;
	memset(out, 0xaa, sizeof(out));
	memset(in, 0xbb, sizeof(in));
	ts_init(&t, "10.0.0.2", 24);
	w = pcap_open(path, PCAP_LINKTYPE_ETHERNET, 0);
	pcap_attach(w, t.dev);
	assert_ptr_equal(t.dev->pcap, w);
	assert_int_equal(w->users, 2);
	pcap_attach(w, t.dev);             /* again: no second reference */
	assert_int_equal(w->users, 2);

	skb = make_skb(t.st, out, sizeof(out));
	skb->dev = t.dev;
	assert_int_equal(dev_queue_xmit(skb), 0);
	ts_inject(&t, in, sizeof(in));
	assert_int_equal(w->packets, 2);

	/* The test device does not release its capture; do it for it. */
	t.dev->pcap = NULL;
	pcap_close(w);
	pcap_close(w);
	b = slurp(&len);
	assert_int_equal(len, 24 + 16 + 30 + 16 + 40);
	assert_int_equal(u32_at(b + 32), 30);
	assert_memory_equal(b + 40, out, 30);
	assert_int_equal(u32_at(b + 70 + 8), 40);
	assert_memory_equal(b + 70 + 16, in, 40);
	free(b);
	ts_flush_tx(&t);
	ts_destroy(&t);
}

/*
 * The opener closing first must not end the file while devices still
 * write to it; the last close flushes everything.
 */
static void test_refcount_close(void **state)
{
	struct net_device *d1 = netdev_alloc("d1", 0, NULL);
	struct net_device *d2 = netdev_alloc("d2", 0, NULL);
	struct pcap_writer *w = pcap_open(path, PCAP_LINKTYPE_ETHERNET, 0);
	uint8_t pkt[50] = { 0x42 };

	(void)state;
	assert_non_null(w);
	pcap_attach(w, d1);
	pcap_attach(w, d2);
	assert_int_equal(w->users, 3);
	pcap_close(w);                     /* the opener */
	assert_int_equal(w->users, 2);
	assert_int_equal(pcap_write(w, 1, pkt, sizeof(pkt)), 0);
	pcap_close(d1->pcap);              /* one device goes */
	d1->pcap = NULL;
	assert_int_equal(w->users, 1);
	for (int i = 0; i < 100; i++)
		assert_int_equal(pcap_write(w, 2 + (us_time_t)i, pkt, sizeof(pkt)), 0);
	assert_int_equal(w->packets, 101);
	pcap_close(d2->pcap);              /* the last: flush and close */
	d2->pcap = NULL;
	assert_int_equal(file_size(), 24 + 101 * (16 + 50));
	free(d1);
	free(d2);
}

/* Attaching a second writer releases the first one's device reference. */
static void test_attach_replaces(void **state)
{
	struct net_device *d = netdev_alloc("d", 0, NULL);
	struct pcap_writer *w1 = pcap_open(path, PCAP_LINKTYPE_ETHERNET, 0);
	char path2[64];
	struct pcap_writer *w2;
	int fd;

	(void)state;
	snprintf(path2, sizeof(path2), "/tmp/ustack-test-pcap2.XXXXXX");
	fd = mkstemp(path2);
	assert_true(fd >= 0);
	close(fd);
	w2 = pcap_open(path2, PCAP_LINKTYPE_ETHERNET, 0);
	pcap_attach(w1, d);
	assert_int_equal(w1->users, 2);
	pcap_attach(w2, d);
	assert_ptr_equal(d->pcap, w2);
	assert_int_equal(w1->users, 1);
	assert_int_equal(w2->users, 2);
	pcap_close(w1);
	pcap_close(d->pcap);
	pcap_close(w2);
	unlink(path2);
	free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_file_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_header_raw_default_snaplen,
						setup, teardown),
		cmocka_unit_test(test_open_error),
		cmocka_unit_test_setup_teardown(test_record_exact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_snaplen_truncates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_skb_virtual_time_and_offset,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_attached_device_records_both_ways,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_refcount_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attach_replaces, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
