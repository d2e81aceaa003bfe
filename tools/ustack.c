/*
 * ustack.c - the `ustack` program: run a stack instance on a TAP device.
 *
 *   ustack up --tap NAME --addr A.B.C.D/N [--gateway G] [--pcap FILE] ...
 *
 * attaches to (or creates) the TAP device NAME in the current network
 * namespace, answers ARP and ping at the address until SIGINT or SIGTERM,
 * then prints its counters and exits 0. Bad command-line input gets one
 * line on stderr naming the argument, and exit status 2.
 *
 * It uses the public API (ustack.h), and peeks into the instance (stack.h)
 * only to report the MAC address the device was given.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "ustack/ustack.h"
#include "core/log.h"
#include "dev/netdev.h"
#include "stack/stack.h"

#define EXIT_USAGE 2
#define MTU_MIN 68      /* RFC 791: every host must take 68-byte datagrams */
#define MTU_MAX 65535

static const char main_usage[] =
	"Usage: ustack COMMAND [OPTIONS]\n"
	"\n"
	"ustack is a user-space TCP/IP stack. This program runs one instance.\n"
	"\n"
	"Commands:\n"
	"  up        attach to a TAP device and answer ARP and ping until\n"
	"            SIGINT or SIGTERM (see 'ustack up --help')\n"
	"\n"
	"Options:\n"
	"  -h, --help   show this help and exit\n";

static const char up_usage[] =
	"Usage: ustack up --tap NAME --addr A.B.C.D/N [OPTIONS]\n"
	"\n"
	"Attach to the TAP device NAME in the current network namespace\n"
	"(creating it when absent), bring it up and answer ARP and ICMP echo at\n"
	"the address until SIGINT or SIGTERM; then print the counters and exit.\n"
	"Prints \"ustack: up on NAME addr A.B.C.D/N mac M\" once it is ready.\n"
	"\n"
	"Options:\n"
	"  --tap NAME         TAP device name (required, at most 15 characters)\n"
	"  --addr A.B.C.D/N   ustack's IPv4 address and prefix length (required)\n"
	"  --gateway G        default gateway, inside the --addr subnet\n"
	"  --pcap FILE        write every frame in and out to FILE (pcap format)\n"
	"  --mtu N            link MTU, 68..65535 (default 1500)\n"
	"  --mac MAC          ustack's MAC, xx:xx:xx:xx:xx:xx (default: random,\n"
	"                     locally administered)\n"
	"  --log-level LVL    err, warn, info, debug, trace or 0..4 (default warn);\n"
	"                     log lines go to stderr\n"
	"  --seed N           seed of the stack's random choices (default: from\n"
	"                     the OS)\n"
	"  -h, --help         show this help and exit\n"
	"\n"
	"Exit status: 0 after a signal, 1 if the stack could not start,\n"
	"2 on bad command-line input.\n";

struct up_opts {
	struct ustack_ifconfig ifc;
	uint8_t mac[ETH_ALEN];
	int log_level;
	uint64_t seed;
};

static void usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

/* One line on stderr, exit 2. */
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ustack: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

static bool parse_ipv4(const char *s, uint32_t *addr)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*addr = a.s_addr;
	return true;
}

/* Digits only, no sign, no trailing text, <= max. */
static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

static uint32_t prefix_mask(int prefix_len)
{
	return prefix_len ? htonl(~0u << (32 - prefix_len)) : 0;
}

/* A unicast host address: not 0/8, loopback, multicast or class E. */
static bool is_host_addr(uint32_t addr)
{
	uint32_t h = ntohl(addr);

	return h >> 24 != 0 && h >> 24 != 127 && h < 0xe0000000u;
}

static void parse_addr_prefix(const char *arg, struct ustack_ifconfig *ifc)
{
	char buf[32];
	const char *slash = strchr(arg, '/');
	uint64_t len;
	uint32_t mask;

	if (!slash || (size_t)(slash - arg) >= sizeof(buf))
		usage_error("--addr '%s': expected A.B.C.D/N", arg);
	memcpy(buf, arg, (size_t)(slash - arg));
	buf[slash - arg] = '\0';
	if (!parse_ipv4(buf, &ifc->addr))
		usage_error("--addr '%s': '%s' is not an IPv4 address", arg, buf);
	if (!parse_u64(slash + 1, 32, &len))
		usage_error("--addr '%s': prefix length must be 0..32", arg);
	ifc->prefix_len = (int)len;
	if (!is_host_addr(ifc->addr))
		usage_error("--addr '%s': not a unicast host address", arg);
	mask = prefix_mask(ifc->prefix_len);
	/* On subnets with a network and a broadcast address, neither is a
	 * host's (RFC 1122 §3.2.1.3; /31 and /32 have neither, RFC 3021). */
	if (ifc->prefix_len < 31 &&
	    ((ifc->addr & ~mask) == 0 || (ifc->addr | mask) == 0xffffffffu))
		usage_error("--addr '%s': the subnet's network or broadcast "
			    "address", arg);
}

static void parse_mac(const char *arg, uint8_t *mac)
{
	unsigned int b[ETH_ALEN];
	char tail;

	if (sscanf(arg, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != ETH_ALEN || strlen(arg) != 17)
		usage_error("--mac '%s': expected xx:xx:xx:xx:xx:xx", arg);
	for (int i = 0; i < ETH_ALEN; i++)
		mac[i] = (uint8_t)b[i];
	if (mac[0] & 1)
		usage_error("--mac '%s': a multicast address", arg);
	if (!(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		usage_error("--mac '%s': the zero address", arg);
}

/*
 * Create the capture file now, so that a path that cannot be written is
 * reported as the argument's fault rather than as a failure to attach.
 */
static void check_pcap_path(const char *arg)
{
	int fd;

	if (!arg[0])
		usage_error("--pcap: empty file name");
	fd = open(arg, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		usage_error("--pcap '%s': %s", arg, strerror(errno));
	close(fd);
}

enum {
	OPT_TAP = 256, OPT_ADDR, OPT_GATEWAY, OPT_PCAP, OPT_MTU, OPT_MAC,
	OPT_LOG_LEVEL, OPT_SEED,
};

static const struct option up_options[] = {
	{ "tap", required_argument, NULL, OPT_TAP },
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "gateway", required_argument, NULL, OPT_GATEWAY },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "mac", required_argument, NULL, OPT_MAC },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void up_option(struct up_opts *o, int opt, const char *arg,
		      const char **gateway_arg, bool *have_addr)
{
	uint64_t v;

	switch (opt) {
	case OPT_TAP:
		if (!arg[0] || strlen(arg) >= US_IFNAMSIZ || strchr(arg, '/') ||
		    strchr(arg, ' '))
			usage_error("--tap '%s': not a valid interface name "
				    "(1..15 characters, no '/' or space)", arg);
		o->ifc.ifname = arg;
		break;
	case OPT_ADDR:
		parse_addr_prefix(arg, &o->ifc);
		*have_addr = true;
		break;
	case OPT_GATEWAY:
		if (!parse_ipv4(arg, &o->ifc.gateway) ||
		    !is_host_addr(o->ifc.gateway))
			usage_error("--gateway '%s': not a unicast IPv4 address",
				    arg);
		*gateway_arg = arg;
		break;
	case OPT_PCAP:
		check_pcap_path(arg);
		o->ifc.pcap_path = arg;
		break;
	case OPT_MTU:
		if (!parse_u64(arg, MTU_MAX, &v) || v < MTU_MIN)
			usage_error("--mtu '%s': must be %d..%d", arg, MTU_MIN,
				    MTU_MAX);
		o->ifc.mtu = (unsigned int)v;
		break;
	case OPT_MAC:
		parse_mac(arg, o->mac);
		o->ifc.mac = o->mac;
		break;
	case OPT_LOG_LEVEL:
		o->log_level = us_log_level_parse(arg);
		if (o->log_level < 0)
			usage_error("--log-level '%s': expected err, warn, info, "
				    "debug, trace or 0..4", arg);
		break;
	case OPT_SEED:
		if (!parse_u64(arg, UINT64_MAX, &o->seed))
			usage_error("--seed '%s': not a non-negative integer", arg);
		break;
	}
}

static void parse_up(int argc, char **argv, struct up_opts *o)
{
	const char *gateway_arg = NULL;
	bool have_addr = false;
	int opt;

	memset(o, 0, sizeof(*o));
	o->log_level = US_LOG_WARN;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", up_options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(up_usage, stdout);
			exit(0);
		}
		if (opt == ':')
			usage_error("%s: missing value", argv[optind - 1]);
		if (opt == '?')
			usage_error("unknown option '%s' (try 'ustack up --help')",
				    argv[optind - 1]);
		up_option(o, opt, optarg, &gateway_arg, &have_addr);
	}
	if (optind < argc)
		usage_error("up: unexpected argument '%s'", argv[optind]);
	if (!o->ifc.ifname)
		usage_error("up: --tap NAME is required");
	if (!have_addr)
		usage_error("up: --addr A.B.C.D/N is required");
	if (gateway_arg) {
		uint32_t mask = prefix_mask(o->ifc.prefix_len);

		if ((o->ifc.gateway & mask) != (o->ifc.addr & mask) ||
		    o->ifc.gateway == o->ifc.addr)
			usage_error("--gateway '%s': not another host of the "
				    "--addr subnet", gateway_arg);
	}
}

/* SIGINT and SIGTERM, blocked in every thread, read from a signalfd. */
static int open_signalfd(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

static int wait_for_signal(int sfd)
{
	struct signalfd_siginfo si;
	ssize_t n;

	do
		n = read(sfd, &si, sizeof(si));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(si) ? (int)si.ssi_signo : -1;
}

static void print_ready(struct ustack *st, const struct up_opts *o)
{
	uint8_t mac[ETH_ALEN] = { 0 };
	char addr[INET_ADDRSTRLEN];
	struct net_device *dev;

	pthread_mutex_lock(&st->lock);
	dev = us_dev_get_by_name(st, o->ifc.ifname);
	if (dev)
		memcpy(mac, dev->dev_addr, ETH_ALEN);
	pthread_mutex_unlock(&st->lock);
	inet_ntop(AF_INET, &o->ifc.addr, addr, sizeof(addr));
	printf("ustack: up on %s addr %s/%d mac "
	       "%02x:%02x:%02x:%02x:%02x:%02x\n", o->ifc.ifname, addr,
	       o->ifc.prefix_len, mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	fflush(stdout);
}

static int cmd_up(int argc, char **argv)
{
	struct ustack_config cfg;
	struct up_opts o;
	struct ustack *st;
	int sfd, sig, err;

	parse_up(argc, argv, &o);
	sfd = open_signalfd();
	if (sfd < 0) {
		fprintf(stderr, "ustack: signalfd: %s\n", strerror(errno));
		return 1;
	}
	ustack_config_init(&cfg);
	cfg.log_level = o.log_level;
	cfg.seed = o.seed;
	st = ustack_create(&cfg);
	if (!st) {
		fprintf(stderr, "ustack: cannot create the stack: %s\n",
			strerror(errno));
		close(sfd);
		return 1;
	}
	err = ustack_add_tap(st, &o.ifc);
	if (err) {
		fprintf(stderr, "ustack: cannot attach to TAP device %s: %s\n",
			o.ifc.ifname, strerror(-err));
		goto fail;
	}
	err = ustack_start(st);
	if (err) {
		fprintf(stderr, "ustack: cannot start the runtime: %s\n",
			strerror(-err));
		goto fail;
	}
	print_ready(st, &o);
	sig = wait_for_signal(sfd);
	ustack_stop(st);
	printf("ustack: stopping on %s; counters:\n",
	       sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" :
	       "a signalfd error");
	ustack_print_counters(st, stdout);
	fflush(stdout);
	ustack_destroy(st);
	close(sfd);
	return sig > 0 ? 0 : 1;
fail:
	ustack_destroy(st);
	close(sfd);
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage_error("no command given (try 'ustack --help')");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "up") == 0)
		return cmd_up(argc - 1, argv + 1);
	usage_error("unknown command '%s' (try 'ustack --help')", argv[1]);
}
