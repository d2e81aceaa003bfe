/*
 * common.c - options, start-up and the exit report shared by the example
 * programs in tools/ (see common.h). Compiled into each of them.
 *
 * It uses the public API, and peeks into the instance (stack.h) for two
 * things the API does not report: the MAC the device was given, and the
 * state left at exit (connections, sockets, buffers), which the tests read
 * to find leaks.
 */
#include "common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "dev/netdev.h"
#include "net/tcp/tcp.h"
#include "stack/stack.h"

#define MTU_MIN 68      /* RFC 791: every host must take 68-byte datagrams */
#define MTU_MAX 65535
#define PPM_PER_PERCENT 10000u

const char *tool_name = "ustack";

void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", tool_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_USAGE);
}

/* ---- values ------------------------------------------------------------- */

bool parse_ipv4(const char *s, uint32_t *addr)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	*addr = a.s_addr;
	return true;
}

bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

uint64_t parse_range(const char *name, const char *arg, uint64_t min,
		     uint64_t max)
{
	uint64_t v;

	if (!parse_u64(arg, max, &v) || v < min)
		usage_error("%s '%s': must be %" PRIu64 "..%" PRIu64, name, arg,
			    min, max);
	return v;
}

/* A unicast host address: not 0/8, loopback, multicast or class E. */
static bool is_host_addr(uint32_t addr)
{
	uint32_t h = ntohl(addr);

	return h >> 24 != 0 && h >> 24 != 127 && h < 0xe0000000u;
}

static uint32_t prefix_mask(int prefix_len)
{
	return prefix_len ? htonl(~0u << (32 - prefix_len)) : 0;
}

void parse_host_port(const char *name, const char *arg, struct sockaddr_in *sin)
{
	const char *colon = strrchr(arg, ':');
	char host[32];
	uint64_t port;

	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	if (!colon || (size_t)(colon - arg) >= sizeof(host))
		usage_error("%s '%s': expected A.B.C.D:PORT", name, arg);
	memcpy(host, arg, (size_t)(colon - arg));
	host[colon - arg] = '\0';
	if (!parse_ipv4(host, &sin->sin_addr.s_addr) ||
	    !is_host_addr(sin->sin_addr.s_addr))
		usage_error("%s '%s': '%s' is not a unicast IPv4 address", name,
			    arg, host);
	if (!parse_u64(colon + 1, 65535, &port) || port == 0)
		usage_error("%s '%s': port must be 1..65535", name, arg);
	sin->sin_port = htons((uint16_t)port);
}

static void parse_addr_prefix(const char *arg, struct ustack_ifconfig *ifc)
{
	const char *slash = strchr(arg, '/');
	char buf[32];
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

/* "5", "0.5", "12.25%": a percentage 0..100 with up to 4 decimals, in ppm. */
static bool parse_percent_ppm(const char *s, uint32_t *ppm)
{
	uint64_t whole = 0, frac = 0, scale = PPM_PER_PERCENT;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9' && whole <= 100)
		whole = whole * 10 + (uint64_t)(*p++ - '0');
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9') {
			if (scale == 1)
				return false;   /* finer than 1 ppm */
			scale /= 10;
			frac += (uint64_t)(*p++ - '0') * scale;
		}
	}
	if (*p == '%')
		p++;
	if (*p || whole > 100 || (whole == 100 && frac))
		return false;
	*ppm = (uint32_t)(whole * PPM_PER_PERCENT + frac);
	return true;
}

bool parse_fault_spec(const char *spec, struct ustack_fault *f, char *why,
		      size_t why_len)
{
	char buf[256], *save = NULL, *item;
	uint64_t v;

	memset(f, 0, sizeof(*f));
	if (!spec[0] || strlen(spec) >= sizeof(buf)) {
		snprintf(why, why_len, "expected loss=P,dup=P,reorder=P[,delay-us=N]");
		return false;
	}
	strcpy(buf, spec);
	for (item = strtok_r(buf, ",", &save); item;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		uint32_t *ppm = NULL;

		if (!eq) {
			snprintf(why, why_len, "'%s' is not NAME=VALUE", item);
			return false;
		}
		*eq++ = '\0';
		if (strcmp(item, "loss") == 0)
			ppm = &f->loss_ppm;
		else if (strcmp(item, "dup") == 0)
			ppm = &f->dup_ppm;
		else if (strcmp(item, "reorder") == 0)
			ppm = &f->reorder_ppm;
		if (ppm) {
			if (!parse_percent_ppm(eq, ppm)) {
				snprintf(why, why_len, "%s=%s: not a percentage "
					 "0..100", item, eq);
				return false;
			}
		} else if (strcmp(item, "delay-us") == 0) {
			if (!parse_u64(eq, 10000000, &v) || v == 0) {
				snprintf(why, why_len, "delay-us=%s: must be "
					 "1..10000000", eq);
				return false;
			}
			f->reorder_delay_us = (uint32_t)v;
		} else {
			snprintf(why, why_len, "unknown fault '%s' (loss, dup, "
				 "reorder, delay-us)", item);
			return false;
		}
	}
	return true;
}

/* ---- options ------------------------------------------------------------ */

void stack_opts_init(struct stack_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->log_level = US_LOG_WARN;
}

static void stack_fault_option(struct stack_opts *o, int opt, const char *arg)
{
	const char *name = opt == OPT_TX_FAULT ? "--tx-fault" : "--rx-fault";
	struct ustack_fault *f = opt == OPT_TX_FAULT ? &o->ifc.tx_fault
						     : &o->ifc.rx_fault;
	char why[160];

	if (!parse_fault_spec(arg, f, why, sizeof(why)))
		usage_error("%s '%s': %s", name, arg, why);
}

bool stack_option(struct stack_opts *o, int opt, const char *arg)
{
	uint64_t v;

	switch (opt) {
	case OPT_TAP:
		if (!arg[0] || strlen(arg) >= US_IFNAMSIZ || strchr(arg, '/') ||
		    strchr(arg, ' '))
			usage_error("--tap '%s': not a valid interface name "
				    "(1..15 characters, no '/' or space)", arg);
		o->ifc.ifname = arg;
		return true;
	case OPT_ADDR:
		parse_addr_prefix(arg, &o->ifc);
		o->have_addr = true;
		return true;
	case OPT_GATEWAY:
		if (!parse_ipv4(arg, &o->ifc.gateway) ||
		    !is_host_addr(o->ifc.gateway))
			usage_error("--gateway '%s': not a unicast IPv4 address",
				    arg);
		o->gateway_arg = arg;
		return true;
	case OPT_PCAP:
		check_pcap_path(arg);
		o->ifc.pcap_path = arg;
		return true;
	case OPT_MTU:
		if (!parse_u64(arg, MTU_MAX, &v) || v < MTU_MIN)
			usage_error("--mtu '%s': must be %d..%d", arg, MTU_MIN,
				    MTU_MAX);
		o->ifc.mtu = (unsigned int)v;
		return true;
	case OPT_MAC:
		parse_mac(arg, o->mac);
		o->ifc.mac = o->mac;
		return true;
	case OPT_LOG_LEVEL:
		o->log_level = us_log_level_parse(arg);
		if (o->log_level < 0)
			usage_error("--log-level '%s': expected err, warn, info, "
				    "debug, trace or 0..4", arg);
		return true;
	case OPT_SEED:
		if (!parse_u64(arg, UINT64_MAX, &o->seed))
			usage_error("--seed '%s': not a non-negative integer", arg);
		return true;
	case OPT_TX_FAULT:
	case OPT_RX_FAULT:
		stack_fault_option(o, opt, arg);
		return true;
	case OPT_NO_OFFLOAD:
		o->ifc.no_offload = 1;
		return true;
	case OPT_NO_TX_THREAD:
		o->ifc.no_tx_thread = 1;
		return true;
	case OPT_FAULT_SEED:
		if (!parse_u64(arg, UINT64_MAX, &v) || v == 0)
			usage_error("--fault-seed '%s': not a positive integer",
				    arg);
		o->ifc.fault_seed = v;
		return true;
	default:
		return false;
	}
}

static void stack_opts_check(const struct stack_opts *o)
{
	uint32_t mask;

	if (!o->ifc.ifname)
		usage_error("--tap NAME is required");
	if (!o->have_addr)
		usage_error("--addr A.B.C.D/N is required");
	if (!o->gateway_arg)
		return;
	mask = prefix_mask(o->ifc.prefix_len);
	if ((o->ifc.gateway & mask) != (o->ifc.addr & mask) ||
	    o->ifc.gateway == o->ifc.addr)
		usage_error("--gateway '%s': not another host of the --addr "
			    "subnet", o->gateway_arg);
}

int parse_options(int argc, char **argv, const struct option *options,
		  const char *usage, struct stack_opts *so,
		  void (*one)(void *ctx, int opt, const char *arg), void *ctx)
{
	char shortopts[64] = ":h";
	size_t n = 2;
	int opt;

	/* Short forms: the table's entries whose code is a letter. */
	for (const struct option *p = options; p->name && n + 3 < sizeof(shortopts);
	     p++) {
		if (p->flag || p->val == 'h' || p->val >= 128 ||
		    !((p->val >= 'a' && p->val <= 'z') ||
		      (p->val >= 'A' && p->val <= 'Z')))
			continue;
		shortopts[n++] = (char)p->val;
		if (p->has_arg == required_argument)
			shortopts[n++] = ':';
	}
	shortopts[n] = '\0';
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			exit(0);
		}
		if (opt == ':')
			usage_error("%s: missing value", argv[optind - 1]);
		if (opt == '?')
			usage_error("unknown option '%s' (try '%s --help')",
				    argv[optind - 1], tool_name);
		if (!stack_option(so, opt, optarg) && one)
			one(ctx, opt, optarg);
	}
	stack_opts_check(so);
	return optind;
}

/* ---- running ------------------------------------------------------------ */

int open_signalfd(void)
{
	sigset_t set;

	/* A peer that resets mid-send must not kill the program. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	return signalfd(-1, &set, SFD_CLOEXEC);
}

int read_signal(int sfd)
{
	struct signalfd_siginfo si;
	ssize_t n;

	do
		n = read(sfd, &si, sizeof(si));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(si) ? (int)si.ssi_signo : -1;
}

struct ustack *stack_up(const struct stack_opts *o)
{
	struct ustack_config cfg;
	struct ustack *st;
	int err;

	ustack_config_init(&cfg);
	cfg.log_level = o->log_level;
	cfg.seed = o->seed;
	st = ustack_create(&cfg);
	if (!st) {
		fprintf(stderr, "%s: cannot create the stack: %s\n", tool_name,
			strerror(errno));
		return NULL;
	}
	err = ustack_add_tap(st, &o->ifc);
	if (err) {
		fprintf(stderr, "%s: cannot attach to TAP device %s: %s\n",
			tool_name, o->ifc.ifname, strerror(-err));
		ustack_destroy(st);
		return NULL;
	}
	err = ustack_start(st);
	if (err) {
		fprintf(stderr, "%s: cannot start the runtime: %s\n", tool_name,
			strerror(-err));
		ustack_destroy(st);
		return NULL;
	}
	return st;
}

void print_ready(struct ustack *st, const struct stack_opts *o,
		 const char *extra)
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
	printf("%s: up on %s addr %s/%d mac %02x:%02x:%02x:%02x:%02x:%02x%s%s\n",
	       tool_name, o->ifc.ifname, addr, o->ifc.prefix_len, mac[0], mac[1],
	       mac[2], mac[3], mac[4], mac[5], extra && extra[0] ? " " : "",
	       extra ? extra : "");
	fflush(stdout);
}

static size_t list_length(const struct list_head *head)
{
	const struct list_head *pos;
	size_t n = 0;

	for (pos = head->next; pos != head; pos = pos->next)
		n++;
	return n;
}

/* Connections in the tables, and how many are in TIME_WAIT (entries of
 * their own, tcp_timewait.c). Core lock held. */
static void count_conns(struct ustack *st, size_t *conns, size_t *tw)
{
	*tw = st->tcp.tw_count;
	*conns = *tw;
	for (uint32_t i = 0; i <= st->tcp.ehash_mask; i++) {
		const struct list_head *pos;

		for (pos = st->tcp.ehash[i].next; pos != &st->tcp.ehash[i];
		     pos = pos->next)
			(*conns)++;
	}
}

bool stack_wait_quiet(struct ustack *st, int timeout_ms)
{
	for (int waited = 0;; waited += 10) {
		size_t conns, tw;

		pthread_mutex_lock(&st->lock);
		count_conns(st, &conns, &tw);
		pthread_mutex_unlock(&st->lock);
		if (conns == tw)
			return true;
		if (waited >= timeout_ms)
			return false;
		usleep(10000);
	}
}

void stack_report(struct ustack *st, FILE *f)
{
	size_t socks, conns, tw;
	uint64_t live, bytes;

	ustack_print_counters(st, f);
	pthread_mutex_lock(&st->lock);
	socks = list_length(&st->sockets);
	count_conns(st, &conns, &tw);
	live = st->skb_pool.live;
	bytes = st->skb_pool.used_bytes;
	pthread_mutex_unlock(&st->lock);
	fprintf(f, "%-28s %zu\n", "state.sockets", socks);
	fprintf(f, "%-28s %zu\n", "state.tcp_conns", conns);
	fprintf(f, "%-28s %zu\n", "state.tcp_time_wait", tw);
	fprintf(f, "%-28s %" PRIu64 "\n", "state.skb_live", live);
	fprintf(f, "%-28s %" PRIu64 "\n", "state.skb_bytes", bytes);
	fflush(f);
}

double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- servers and clients ------------------------------------------------ */

int tcp_listen(uint16_t port, int backlog)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port) };
	int one = 1;
	int fd = us_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", tool_name, strerror(errno));
		return -1;
	}
	if (us_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    us_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    us_listen(fd, backlog) < 0) {
		fprintf(stderr, "%s: cannot listen on TCP port %u: %s\n",
			tool_name, port, strerror(errno));
		us_close(fd);
		return -1;
	}
	return fd;
}

int send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = us_send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

bool wait_closed(int fd, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited++) {
		struct tcp_info ti;
		socklen_t len = sizeof(ti);

		if (us_getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
			return false;
		if (ti.tcpi_state == TCP_CLOSE || ti.tcpi_state == TCP_TIME_WAIT)
			return true;
		usleep(1000);
	}
	return false;
}

/* One connection and the thread serving it. */
struct conn {
	struct conn *next;
	int fd;
	pthread_t thread;
	atomic_bool done;       /* the handler returned: join the thread */
	void (*handler)(int fd, void *ctx);
	void *ctx;
};

struct conn_set {
	pthread_mutex_t lock;   /* guards list and n */
	struct conn *list;
	unsigned int n;
};

static void *conn_main(void *arg)
{
	struct conn *c = arg;

	c->handler(c->fd, c->ctx);
	us_close(c->fd);
	c->done = true;
	return NULL;
}

/* Join the threads that finished; every one when `all`. */
static void conns_reap(struct conn_set *cs, bool all)
{
	struct conn **pp, *c;

	pthread_mutex_lock(&cs->lock);
	pp = &cs->list;
	while ((c = *pp) != NULL) {
		if (!all && !c->done) {
			pp = &c->next;
			continue;
		}
		*pp = c->next;
		cs->n--;
		pthread_mutex_unlock(&cs->lock);
		pthread_join(c->thread, NULL);
		free(c);
		pthread_mutex_lock(&cs->lock);
	}
	pthread_mutex_unlock(&cs->lock);
}

/*
 * Wake every connection's thread: on a socket shut down both ways a
 * blocked receive returns 0 and a send fails. Only this thread creates
 * sockets, so a descriptor whose handler just closed it cannot have been
 * reused meanwhile.
 */
static void conns_shutdown(struct conn_set *cs)
{
	pthread_mutex_lock(&cs->lock);
	for (struct conn *c = cs->list; c; c = c->next)
		if (!c->done)
			us_shutdown(c->fd, SHUT_RDWR);
	pthread_mutex_unlock(&cs->lock);
}

static int conns_start(struct conn_set *cs, int fd,
		       void (*handler)(int fd, void *ctx), void *ctx)
{
	struct conn *c = calloc(1, sizeof(*c));
	int err;

	if (!c)
		return -ENOMEM;
	c->fd = fd;
	c->handler = handler;
	c->ctx = ctx;
	pthread_mutex_lock(&cs->lock);
	err = pthread_create(&c->thread, NULL, conn_main, c);
	if (!err) {
		c->next = cs->list;
		cs->list = c;
		cs->n++;
	}
	pthread_mutex_unlock(&cs->lock);
	if (err)
		free(c);
	return -err;
}

struct server_loop {
	struct conn_set cs;
	int lfd;
	unsigned int max_conns;
	void (*handler)(int fd, void *ctx);
	void *ctx;
	struct serve_stats *stats;
};

/* Accept what is waiting, while fewer than max_conns are being served. */
static void accept_pending(struct server_loop *l)
{
	for (;;) {
		int fd;

		conns_reap(&l->cs, false);
		if (l->cs.n >= l->max_conns)
			return;
		fd = us_accept(l->lfd, NULL, NULL);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED) {
				fprintf(stderr, "%s: accept: %s\n", tool_name,
					strerror(errno));
				l->stats->accept_errors++;
			}
			return;
		}
		l->stats->accepted++;
		if (conns_start(&l->cs, fd, l->handler, l->ctx) < 0) {
			fprintf(stderr, "%s: no thread for a connection\n",
				tool_name);
			l->stats->accept_errors++;
			us_close(fd);
		}
	}
}

/*
 * The listener's descriptor is a kernel file that polls readable while a
 * connection waits, so one kernel poll() waits for clients and signals.
 * While max_conns are busy it polls the signal alone, with a timeout, to
 * notice threads that finished.
 */
int serve_connections(int lfd, int sfd, unsigned int max_conns,
		      void (*handler)(int fd, void *ctx), void *ctx,
		      struct serve_stats *stats)
{
	struct server_loop l = { .lfd = lfd, .max_conns = max_conns,
				 .handler = handler, .ctx = ctx, .stats = stats };
	struct pollfd pfd[2] = { { sfd, POLLIN, 0 }, { lfd, POLLIN, 0 } };
	int sig = -1;

	pthread_mutex_init(&l.cs.lock, NULL);
	for (;;) {
		bool full = l.cs.n >= max_conns;

		if (poll(pfd, full ? 1 : 2, full ? 100 : -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[0].revents & POLLIN) {
			sig = read_signal(sfd);
			break;
		}
		if (full)
			conns_reap(&l.cs, false);
		else if (pfd[1].revents)
			accept_pending(&l);
	}
	conns_shutdown(&l.cs);
	conns_reap(&l.cs, true);
	pthread_mutex_destroy(&l.cs.lock);
	return sig;
}
