/*
 * bench_lwip.c - the bulk and request/response measurements of `make bench`
 * on lwIP (Debian's liblwip-dev 2.1.3, its BSD socket API), through the
 * same loops as the kernel and ustack (bench_core.c), so that ustack/lwIP
 * is a like-for-like ratio.
 *
 *   bench_lwip MODE --tap NAME --addr A.B.C.D/N [--to A.B.C.D] [--port P]
 *              [--seconds S] [--size N]
 *
 * MODE is source, sink, rr-client or rr-server.
 *
 * Why not lwIP's own tapif driver: the packaged library was built with its
 * pools sized for TCP_MSS 512 (glibc's <netinet/tcp.h> defines TCP_MSS and
 * wins over the package's lwipopts.h), so tapif's 616-byte PBUF_POOL
 * receive buffers overflow on the first full-size (1514-byte) frame. This
 * program brings its own small netif over the TAP descriptor instead: a
 * thread reads each frame into a PBUF_RAM pbuf of exactly the frame's
 * length and hands it to the tcpip thread (tcpip_input); output copies the
 * pbuf chain into one frame and writes it. At the end it prints what it
 * did ("lwip-netif ..." line: frames each way and the largest of each,
 * which shows the MSS lwIP really used).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <net/if.h>
#include <linux/if_tun.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/sockets.h"
#include "lwip/tcpip.h"
#include "netif/ethernet.h"

#include "bench_core.h"

#define FRAME_MAX 1514          /* Ethernet header + 1500 */

struct tap_netif {
	int fd;
	uint64_t rx_frames, tx_frames, rx_nomem;
	unsigned int rx_max, tx_max;
};

static struct netif nif;
static struct tap_netif tapn;

static int tap_open(const char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* netif->linkoutput: one frame per write. Called with the core lock. */
static err_t tap_linkoutput(struct netif *n, struct pbuf *p)
{
	uint8_t frame[FRAME_MAX];
	struct tap_netif *t = n->state;
	u16_t len = p->tot_len;

	if (len > sizeof(frame))
		return ERR_BUF;
	pbuf_copy_partial(p, frame, len, 0);
	if (write(t->fd, frame, len) != len)
		return ERR_IF;
	t->tx_frames++;
	if (len > t->tx_max)
		t->tx_max = len;
	return ERR_OK;
}

static err_t tap_netif_init(struct netif *n)
{
	n->name[0] = 't';
	n->name[1] = 'p';
	n->output = etharp_output;
	n->linkoutput = tap_linkoutput;
	n->mtu = 1500;
	n->hwaddr_len = ETH_HWADDR_LEN;
	/* A locally administered unicast address. */
	n->hwaddr[0] = 0x02;
	n->hwaddr[1] = 0x1b;
	for (int i = 2; i < ETH_HWADDR_LEN; i++)
		n->hwaddr[i] = (u8_t)(getpid() >> (8 * (i - 2)));
	n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP |
		   NETIF_FLAG_ETHERNET;
	return ERR_OK;
}

/* Every frame goes up in a PBUF_RAM pbuf of its own size. */
static void *tap_rx_thread(void *arg)
{
	uint8_t frame[FRAME_MAX + 64];
	struct tap_netif *t = arg;

	for (;;) {
		ssize_t len = read(t->fd, frame, sizeof(frame));
		struct pbuf *p;

		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			break;
		p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_RAM);
		if (!p) {
			t->rx_nomem++;
			continue;
		}
		pbuf_take(p, frame, (u16_t)len);
		t->rx_frames++;
		if ((unsigned int)len > t->rx_max)
			t->rx_max = (unsigned int)len;
		if (nif.input(p, &nif) != ERR_OK)
			pbuf_free(p);
	}
	return NULL;
}

static sem_t tcpip_ready;

static void on_tcpip_ready(void *arg)
{
	(void)arg;
	sem_post(&tcpip_ready);
}

static void lwip_up(const char *tap, uint32_t addr, int prefix)
{
	ip4_addr_t ip, mask, gw;
	pthread_t th;

	tapn.fd = tap_open(tap);
	if (tapn.fd < 0) {
		fprintf(stderr, "bench_lwip: TAP %s: %s\n", tap, strerror(errno));
		exit(1);
	}
	sem_init(&tcpip_ready, 0, 0);
	tcpip_init(on_tcpip_ready, NULL);
	sem_wait(&tcpip_ready);
	ip.addr = addr;
	mask.addr = prefix ? htonl(~0u << (32 - prefix)) : 0;
	gw.addr = 0;
	LOCK_TCPIP_CORE();
	netif_add(&nif, &ip, &mask, &gw, &tapn, tap_netif_init, tcpip_input);
	netif_set_default(&nif);
	netif_set_up(&nif);
	netif_set_link_up(&nif);
	UNLOCK_TCPIP_CORE();
	if (pthread_create(&th, NULL, tap_rx_thread, &tapn)) {
		fprintf(stderr, "bench_lwip: cannot start the receive thread\n");
		exit(1);
	}
	pthread_detach(th);
}

static ssize_t l_send(int fd, const void *b, size_t n, int f)
{
	return lwip_send(fd, b, n, f);
}

static ssize_t l_recv(int fd, void *b, size_t n, int f)
{
	return lwip_recv(fd, b, n, f);
}

static const struct bench_ops lwip_ops = {
	"lwip", lwip_socket, lwip_bind, lwip_listen, lwip_accept, lwip_connect,
	l_send, l_recv, lwip_setsockopt, lwip_shutdown, lwip_close, lwip_poll,
};

static void usage(void)
{
	fprintf(stderr, "usage: bench_lwip source|sink|rr-client|rr-server "
		"--tap NAME --addr A.B.C.D/N [--to A.B.C.D] [--port P] "
		"[--seconds S] [--size N]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "tap", required_argument, NULL, 't' },
		{ "addr", required_argument, NULL, 'a' },
		{ "to", required_argument, NULL, 'T' },
		{ "port", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "size", required_argument, NULL, 'z' },
		{ NULL, 0, NULL, 0 },
	};
	const char *tap = NULL, *mode;
	struct bench_result r;
	uint32_t addr = 0, to = 0;
	int prefix = 24, c, lfd;
	uint16_t port = 5001;
	double secs = 10;
	size_t size = 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2)
		usage();
	mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *slash;

		switch (c) {
		case 't': tap = optarg; break;
		case 'a':
			slash = strchr(optarg, '/');
			if (slash) {
				*slash = '\0';
				prefix = atoi(slash + 1);
			}
			addr = inet_addr(optarg);
			break;
		case 'T': to = inet_addr(optarg); break;
		case 'p': port = (uint16_t)atoi(optarg); break;
		case 'S': secs = atof(optarg); break;
		case 'z': size = strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (!tap || !addr || size < 1 || size > BENCH_CRR_SIZE || secs <= 0)
		usage();
	lwip_up(tap, addr, prefix);

	memset(&r, 0, sizeof(r));
	r.mode = mode;
	if (!strcmp(mode, "source")) {
		bench_source(&lwip_ops, to, port, secs, &r);
	} else if (!strcmp(mode, "rr-client")) {
		bench_rr_client(&lwip_ops, to, port, size, secs, &r);
	} else if (!strcmp(mode, "sink") || !strcmp(mode, "rr-server")) {
		lfd = bench_listen(&lwip_ops, 0, port);
		if (lfd < 0)
			return 1;
		printf("ready\n");
		if (!strcmp(mode, "sink"))
			bench_sink(&lwip_ops, lfd, &r);
		else
			bench_rr_server(&lwip_ops, lfd, size, &r);
		lwip_close(lfd);
	} else {
		usage();
	}
	printf("lwip-netif own netif on the TAP fd, PBUF_RAM receive buffers "
	       "(not tapif): rx_frames=%llu rx_max=%u rx_nomem=%llu "
	       "tx_frames=%llu tx_max=%u\n",
	       (unsigned long long)tapn.rx_frames, tapn.rx_max,
	       (unsigned long long)tapn.rx_nomem,
	       (unsigned long long)tapn.tx_frames, tapn.tx_max);
	bench_print_result(&lwip_ops, &r);
	return r.ok ? 0 : 1;
}
