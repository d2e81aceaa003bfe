/*
 * bench_tcp.c - the TCP measurements of `make bench` on the kernel's
 * sockets and on ustack's, through the same loops (bench_core.c).
 *
 *   bench_tcp MODE --stack kernel|ustack [options]
 *
 * MODE is sink, source, rr-server, rr-client, crr-server or crr-client
 * (see bench_core.h); with --stack ustack the program runs its own ustack
 * instance on --tap NAME with --addr A.B.C.D/N. Two more modes use ustack
 * internals and need no TAP device:
 *
 *   wire-bulk  two ustack instances in this process over the in-memory
 *              wire (src/dev/wire.c), one thread driving both engines and
 *              both applications (nonblocking calls), bulk one way;
 *   idle       --conns N idle established connections, between two ustack
 *              instances over the wire (--stack ustack) or over the
 *              kernel's loopback (--stack kernel), and the memory they
 *              hold: heap (mallinfo2) and kernel slab (/proc/slabinfo)
 *              before and after.
 *
 * Servers print "ready" once they listen. Every mode ends with a result
 * line (bench_core.h); idle adds a "memory" line.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench_core.h"
#include "dev/netdev.h"
#include "dev/wire.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define WIRE_QUEUE 65536       /* frames in flight per wire direction */
#define IDLE_PORTS 4           /* listeners the idle connections spread on */
#define IDLE_BASE_PORT 6000
#define IDLE_INFLIGHT 256      /* handshakes under way at once */

struct args {
	const char *mode;
	const char *stack;
	const char *tap;
	uint32_t addr;         /* ustack's address (--addr) */
	int prefix;
	uint32_t bind;         /* servers: listen address (default any) */
	uint32_t to;           /* clients: server address */
	uint16_t port;
	double secs;
	size_t size;
	unsigned long conns;
	const char *busy_read;  /* net.core.busy_read for ustack, or NULL */
};

static volatile bool stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = true;
}

static ssize_t k_send(int fd, const void *b, size_t n, int f)
{
	return send(fd, b, n, f | MSG_NOSIGNAL);
}

static ssize_t u_send(int fd, const void *b, size_t n, int f)
{
	return us_send(fd, b, n, f | MSG_NOSIGNAL);
}

static const struct bench_ops kernel_ops = {
	"kernel", socket, bind, listen, accept, connect, k_send, recv,
	setsockopt, shutdown, close, poll,
};

static const struct bench_ops ustack_ops = {
	"ustack", us_socket, us_bind, us_listen, us_accept, us_connect, u_send,
	us_recv, us_setsockopt, us_shutdown, us_close, us_poll,
};

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_tcp MODE --stack kernel|ustack [options]\n"
		"  MODE: sink, source, rr-server, rr-client, crr-server,\n"
		"        crr-client, wire-bulk, idle\n"
		"  --tap NAME --addr A.B.C.D/N   ustack's device and address\n"
		"  --bind A.B.C.D     servers: listen address (default any)\n"
		"  --to A.B.C.D       clients: server address\n"
		"  --port P           server port (crr: first of %d)\n"
		"  --seconds S        clients: duration (default 10)\n"
		"  --size N           rr: request and response size (default 1)\n"
		"  --conns N          idle: connections (default 100000)\n"
		"  --corrupt-at OFF   source: send the byte at OFF wrong (tests\n"
		"                     that the sink's check fails)\n"
		"  --busy-read US     ustack: net.core.busy_read (default 0)\n",
		BENCH_CRR_PORTS);
	exit(2);
}

static uint32_t ip_arg(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "bench_tcp: bad address '%s'\n", s);
		exit(2);
	}
	return a.s_addr;
}

static void parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "stack", required_argument, NULL, 's' },
		{ "tap", required_argument, NULL, 't' },
		{ "addr", required_argument, NULL, 'a' },
		{ "bind", required_argument, NULL, 'b' },
		{ "to", required_argument, NULL, 'T' },
		{ "port", required_argument, NULL, 'p' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "size", required_argument, NULL, 'z' },
		{ "conns", required_argument, NULL, 'c' },
		{ "corrupt-at", required_argument, NULL, 'x' },
		{ "busy-read", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(a, 0, sizeof(*a));
	a->stack = "kernel";
	a->port = 5001;
	a->secs = 10;
	a->size = 1;
	a->conns = 100000;
	if (argc < 2)
		usage();
	a->mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		char *slash;

		switch (c) {
		case 's': a->stack = optarg; break;
		case 't': a->tap = optarg; break;
		case 'a':
			slash = strchr(optarg, '/');
			if (!slash)
				usage();
			*slash = '\0';
			a->addr = ip_arg(optarg);
			a->prefix = atoi(slash + 1);
			break;
		case 'b': a->bind = ip_arg(optarg); break;
		case 'T': a->to = ip_arg(optarg); break;
		case 'p': a->port = (uint16_t)atoi(optarg); break;
		case 'S': a->secs = atof(optarg); break;
		case 'z': a->size = strtoul(optarg, NULL, 0); break;
		case 'c': a->conns = strtoul(optarg, NULL, 0); break;
		case 'x': bench_corrupt_at = strtoull(optarg, NULL, 0); break;
		case 'B': a->busy_read = optarg; break;
		default: usage();
		}
	}
	if (a->size < 1 || a->size > BENCH_CRR_SIZE || a->secs <= 0 ||
	    a->conns < 1)
		usage();
}

/* This process's ustack instance on the TAP device. */
static struct ustack *ustack_on_tap(const struct args *a)
{
	struct ustack_ifconfig ifc;
	struct ustack *st;
	int err;

	if (!a->tap || !a->addr) {
		fprintf(stderr, "bench_tcp: --stack ustack needs --tap and --addr\n");
		exit(2);
	}
	st = ustack_create(NULL);
	if (!st) {
		perror("bench_tcp: ustack_create");
		exit(1);
	}
	if (a->busy_read &&
	    ustack_sysctl_set(st, "net.core.busy_read", a->busy_read) < 0) {
		fprintf(stderr, "bench_tcp: --busy-read %s: %s\n", a->busy_read,
			strerror(errno));
		exit(2);
	}
	memset(&ifc, 0, sizeof(ifc));
	ifc.ifname = a->tap;
	ifc.addr = a->addr;
	ifc.prefix_len = a->prefix;
	err = ustack_add_tap(st, &ifc);
	if (!err)
		err = ustack_start(st);
	if (err) {
		fprintf(stderr, "bench_tcp: ustack on %s: %s\n", a->tap,
			strerror(-err));
		exit(1);
	}
	return st;
}

static void ready(void)
{
	printf("ready\n");
	fflush(stdout);
}

/* The modes over a TAP device or the kernel's network. */
static int run_socket_mode(const struct args *a, const struct bench_ops *o)
{
	struct bench_result r = { .mode = a->mode };
	int lfd;

	if (!strcmp(a->mode, "sink") || !strcmp(a->mode, "rr-server")) {
		lfd = bench_listen(o, a->bind, a->port);
		if (lfd < 0)
			return 1;
		ready();
		if (!strcmp(a->mode, "sink"))
			bench_sink(o, lfd, &r);
		else
			bench_rr_server(o, lfd, a->size, &r);
		o->close(lfd);
	} else if (!strcmp(a->mode, "crr-server")) {
		signal(SIGTERM, on_signal);
		signal(SIGINT, on_signal);
		bench_crr_server(o, a->bind, a->port, &stop_flag, ready, &r);
	} else if (!strcmp(a->mode, "source")) {
		bench_source(o, a->to, a->port, a->secs, &r);
	} else if (!strcmp(a->mode, "rr-client")) {
		bench_rr_client(o, a->to, a->port, a->size, a->secs, &r);
	} else if (!strcmp(a->mode, "crr-client")) {
		bench_crr_client(o, a->to, a->port, a->secs, &r);
	} else {
		usage();
	}
	bench_print_result(o, &r);
	return r.ok ? 0 : 1;
}

/* ---- two instances over the in-memory wire ---------------------------- */

struct wire_pair {
	struct us_clock clock;
	struct ustack *st[2];
	uint32_t addr[2];
};

static void wire_pair_up(struct wire_pair *w)
{
	struct wire_params wp;
	struct net_device *d[2];

	us_clock_init_monotonic(&w->clock);
	for (int i = 0; i < 2; i++) {
		struct ustack_config cfg;

		ustack_config_init(&cfg);
		cfg.clock = &w->clock;
		cfg.seed = (uint64_t)i + 1;
		/* Room for 100,000 handshakes' worth of queued frames. */
		cfg.mem_limit_bytes = 512u << 20;
		w->st[i] = ustack_create(&cfg);
		if (!w->st[i]) {
			perror("bench_tcp: ustack_create");
			exit(1);
		}
	}
	memset(&wp, 0, sizeof(wp));
	wp.seed = 1;
	wp.queue_max = WIRE_QUEUE;
	w->addr[0] = inet_addr("10.77.0.1");
	w->addr[1] = inet_addr("10.77.0.2");
	if (wire_pair_create(w->st[0], w->st[1], &wp, &d[0], &d[1]) < 0 ||
	    netdev_set_ipv4(d[0], w->addr[0], 24) < 0 ||
	    netdev_set_ipv4(d[1], w->addr[1], 24) < 0) {
		fprintf(stderr, "bench_tcp: cannot make the wire\n");
		exit(1);
	}
}

/* Run both engines once; the number of frames and timers handled. */
static int wire_pair_step(struct wire_pair *w)
{
	int work = 0;

	for (int i = 0; i < 2; i++) {
		pthread_mutex_lock(&w->st[i]->lock);
		us_engine_begin(w->st[i]);
		work += us_engine_step(w->st[i], 64);
		pthread_mutex_unlock(&w->st[i]->lock);
	}
	return work;
}

static void wire_pair_down(struct wire_pair *w)
{
	ustack_destroy(w->st[0]);
	ustack_destroy(w->st[1]);
}

static int nonblocking_socket(struct ustack *st)
{
	int fd = us_socket_on(st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0) {
		perror("bench_tcp: us_socket_on");
		exit(1);
	}
	return fd;
}

/* Connect st[0] to st[1]:port; the accepted descriptor in *afd. */
static int wire_connect(struct wire_pair *w, int lfd, uint16_t port, int *afd)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port),
				   .sin_addr.s_addr = w->addr[1] };
	int fd = nonblocking_socket(w->st[0]);
	double end = bench_now() + 10;

	if (us_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 &&
	    errno != EINPROGRESS) {
		perror("bench_tcp: us_connect");
		exit(1);
	}
	while ((*afd = us_accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) < 0) {
		if (bench_now() > end) {
			fprintf(stderr, "bench_tcp: wire connect timed out\n");
			exit(1);
		}
		wire_pair_step(w);
	}
	return fd;
}

/*
 * Bulk over the wire: the source's writes and the sink's reads alternate
 * with engine steps, all nonblocking, in this one thread.
 */
static bool wire_bulk_io(int cfd, int sfd, uint64_t *sent,
			 struct bench_result *r)
{
	static uint8_t buf[BENCH_CHUNK];
	ssize_t n;

	while ((n = us_send(cfd, bench_pattern(*sent), BENCH_CHUNK,
			    MSG_DONTWAIT | MSG_NOSIGNAL)) > 0)
		*sent += (uint64_t)n;
	if (n < 0 && errno != EAGAIN)
		return false;
	while ((n = us_recv(sfd, buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
		if (memcmp(buf, bench_pattern(r->bytes), (size_t)n) != 0) {
			errno = 0;
			return false;
		}
		r->bytes += (uint64_t)n;
	}
	return n == 0 || errno == EAGAIN;
}

static int wire_listen(struct ustack *st, uint16_t port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons(port) };
	int fd = nonblocking_socket(st);

	if (us_bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 ||
	    us_listen(fd, 4096) < 0) {
		perror("bench_tcp: listen on the wire");
		exit(1);
	}
	return fd;
}

static int run_wire_bulk(const struct args *a)
{
	struct bench_result r = { .mode = a->mode, .ok = true };
	struct bench_ops o = ustack_ops;
	struct wire_pair w;
	uint64_t sent = 0;
	int lfd, cfd, sfd;
	double start, end;

	o.name = "ustack-wire";
	wire_pair_up(&w);
	lfd = wire_listen(w.st[1], a->port);
	cfd = wire_connect(&w, lfd, a->port, &sfd);

	start = bench_now();
	end = start + a->secs;
	while (r.ok && bench_now() < end) {
		if (!wire_bulk_io(cfd, sfd, &sent, &r)) {
			fprintf(stderr, "bench_tcp: wire-bulk: %s\n",
				errno ? strerror(errno) : "pattern mismatch");
			r.ok = false;
		}
		wire_pair_step(&w);
	}
	r.secs = bench_now() - start;
	if (r.ok && r.bytes == 0) {
		fprintf(stderr, "bench_tcp: wire-bulk: nothing arrived\n");
		r.ok = false;
	}
	if (getenv("BENCH_COUNTERS")) {
		fprintf(stderr, "--- sender (instance 0)\n");
		ustack_print_counters(w.st[0], stderr);
		fprintf(stderr, "--- receiver (instance 1)\n");
		ustack_print_counters(w.st[1], stderr);
	}
	us_close(cfd);
	us_close(sfd);
	us_close(lfd);
	wire_pair_down(&w);
	bench_print_result(&o, &r);
	return r.ok ? 0 : 1;
}

/* ---- memory per idle connection ---------------------------------------- */

/*
 * Kernel memory is read from /proc/slabinfo, which is machine-wide: only
 * the caches a TCP socket and its descriptor allocate from are summed, so
 * that other work on the machine adds as little noise as possible.
 */
enum slab_group { SLAB_SOCK, SLAB_FD, SLAB_SKB, SLAB_GROUPS };

static const struct {
	const char *prefix;
	enum slab_group group;
} slab_caches[] = {
	{ "TCP", SLAB_SOCK },             /* struct tcp_sock (exact name) */
	{ "request_sock_TCP", SLAB_SOCK },
	{ "tw_sock_TCP", SLAB_SOCK },
	{ "sock_inode_cache", SLAB_SOCK },
	{ "inet_bind", SLAB_SOCK },       /* inet_bind_bucket, inet_bind2_... */
	{ "filp", SLAB_FD },              /* struct file of the descriptor */
	{ "dentry", SLAB_FD },
	{ "eventpoll", SLAB_FD },
	{ "skbuff", SLAB_SKB },           /* packet buffers */
};

struct mem_snap {
	double heap;              /* bytes malloc'd by this process */
	double slab[SLAB_GROUPS]; /* kernel slab in use, by group */
	double skb;               /* ustack: packet buffers, both instances */
};

static int slab_group_of(const char *name)
{
	for (size_t i = 0; i < sizeof(slab_caches) / sizeof(slab_caches[0]); i++) {
		const char *p = slab_caches[i].prefix;

		if (!strcmp(p, "TCP") ? !strcmp(name, p) :
		    !strncmp(name, p, strlen(p)))
			return slab_caches[i].group;
	}
	return -1;
}

/* Bytes in use (active objects x object size) per group; false if the
 * file cannot be read. */
static bool read_slab(double *slab)
{
	char line[512];
	FILE *f = fopen("/proc/slabinfo", "r");

	for (int g = 0; g < SLAB_GROUPS; g++)
		slab[g] = 0;
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char name[128];
		unsigned long active, num, size;
		int g;

		if (sscanf(line, "%127s %lu %lu %lu", name, &active, &num,
			   &size) != 4)
			continue;
		g = slab_group_of(name);
		if (g >= 0)
			slab[g] += (double)active * (double)size;
	}
	fclose(f);
	return true;
}

static void mem_snap(struct mem_snap *m, struct wire_pair *w)
{
	struct mallinfo2 mi = mallinfo2();

	m->heap = (double)mi.uordblks + (double)mi.hblkhd;
	read_slab(m->slab);
	m->skb = 0;
	for (int i = 0; w && i < 2; i++) {
		pthread_mutex_lock(&w->st[i]->lock);
		m->skb += (double)w->st[i]->skb_pool.used_bytes;
		pthread_mutex_unlock(&w->st[i]->lock);
	}
}

static void raise_nofile(unsigned long conns)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < 2 * conns + 64)
			fprintf(stderr, "bench_tcp: idle: only %lu descriptors "
				"allowed for %lu connections\n",
				(unsigned long)rl.rlim_cur, conns);
	}
}

/* One side's calls for the idle test: kernel sockets or ustack's. */
struct idle_env {
	struct wire_pair *w;     /* NULL for the kernel */
	uint32_t server;
	int lfd[IDLE_PORTS];
};

static int idle_socket(struct idle_env *e)
{
	if (e->w)
		return us_socket_on(e->w->st[0], AF_INET,
				    SOCK_STREAM | SOCK_NONBLOCK, 0);
	return socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
}

static int idle_connect(struct idle_env *e, unsigned long i)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons((uint16_t)(IDLE_BASE_PORT + i % IDLE_PORTS)),
		.sin_addr.s_addr = e->server,
	};
	int fd = idle_socket(e);
	int rc;

	if (fd < 0)
		return -1;
	rc = e->w ? us_connect(fd, (struct sockaddr *)&sin, sizeof(sin)) :
		connect(fd, (struct sockaddr *)&sin, sizeof(sin));
	if (rc < 0 && errno != EINPROGRESS) {
		int err = errno;

		e->w ? us_close(fd) : close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

static int idle_accept(struct idle_env *e, int port_index)
{
	int lfd = e->lfd[port_index];

	return e->w ? us_accept4(lfd, NULL, NULL, SOCK_NONBLOCK) :
		accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
}

static void idle_listen(struct idle_env *e)
{
	struct bench_ops o = e->w ? ustack_ops : kernel_ops;

	for (int i = 0; i < IDLE_PORTS; i++) {
		if (e->w)
			e->lfd[i] = wire_listen(e->w->st[1],
						(uint16_t)(IDLE_BASE_PORT + i));
		else
			e->lfd[i] = bench_listen(&o, e->server,
						 (uint16_t)(IDLE_BASE_PORT + i));
		if (e->lfd[i] < 0)
			exit(1);
		if (!e->w)
			fcntl(e->lfd[i], F_SETFL, O_NONBLOCK);
	}
}

/*
 * Open connections until `want` are accepted, IDLE_INFLIGHT handshakes at
 * a time. Stops early (and says why) when connect fails or nothing moves
 * for 10 s. Returns how many were accepted.
 */
static unsigned long idle_open(struct idle_env *e, unsigned long want,
			       int *cfd, int *sfd)
{
	unsigned long made = 0, accepted = 0;
	double stall = bench_now() + 10;

	while (accepted < want) {
		bool moved = false;

		while (made < want && made - accepted < IDLE_INFLIGHT) {
			cfd[made] = idle_connect(e, made);
			if (cfd[made] < 0) {
				fprintf(stderr, "bench_tcp: idle: connect %lu: "
					"%s\n", made, strerror(errno));
				return accepted;
			}
			made++;
		}
		for (int p = 0; p < IDLE_PORTS; p++) {
			int fd;

			while (accepted < made && (fd = idle_accept(e, p)) >= 0) {
				sfd[accepted++] = fd;
				moved = true;
			}
		}
		if (e->w)
			moved |= wire_pair_step(e->w) > 0;
		if (moved)
			stall = bench_now() + 10;
		else if (bench_now() > stall) {
			fprintf(stderr, "bench_tcp: idle: stalled at %lu of "
				"%lu connections\n", accepted, want);
			return accepted;
		}
	}
	return accepted;
}

/* Every client socket connected without error. */
static bool idle_all_connected(struct idle_env *e, const int *cfd,
			       unsigned long n)
{
	for (unsigned long i = 0; i < n; i++) {
		int err = 0;
		socklen_t len = sizeof(err);
		int rc = e->w ? us_getsockopt(cfd[i], SOL_SOCKET, SO_ERROR,
					      &err, &len) :
			getsockopt(cfd[i], SOL_SOCKET, SO_ERROR, &err, &len);

		if (rc < 0 || err) {
			fprintf(stderr, "bench_tcp: idle: connection %lu: %s\n",
				i, strerror(rc < 0 ? errno : err));
			return false;
		}
	}
	return true;
}

/* delta / n, printed without a "-0" for what rounds to nothing. */
static double per(double delta, double n)
{
	double v = delta / n;

	return v > -0.5 && v < 0.5 ? 0 : v;
}

static int run_idle(const struct args *a)
{
	struct bench_result r = { .mode = a->mode, .ok = true };
	struct idle_env e = { 0 };
	struct wire_pair w;
	struct mem_snap m0, m1;
	int *cfd = calloc(a->conns, sizeof(int));
	int *sfd = calloc(a->conns, sizeof(int));
	double start, socks;
	unsigned long n;

	if (!cfd || !sfd) {
		perror("bench_tcp: idle");
		return 1;
	}
	raise_nofile(a->conns);
	if (!strcmp(a->stack, "ustack")) {
		wire_pair_up(&w);
		e.w = &w;
		e.server = w.addr[1];
	} else {
		e.server = inet_addr("127.0.0.1");
	}
	idle_listen(&e);
	/* Settle the instances' and the allocator's start-up first. */
	if (e.w)
		wire_pair_step(e.w);
	mem_snap(&m0, e.w);
	start = bench_now();
	n = idle_open(&e, a->conns, cfd, sfd);
	/* Let the last ACKs land and delayed-ACK timers run out. */
	for (double t = bench_now() + 0.5; e.w && bench_now() < t;)
		wire_pair_step(e.w);
	r.secs = bench_now() - start;
	r.count = n;
	r.ok = n > 0 && idle_all_connected(&e, cfd, n);
	mem_snap(&m1, e.w);
	socks = n ? 2.0 * (double)n : 1;
	printf("memory stack=%s conns=%lu sockets=%lu heap_per_socket=%.0f "
	       "skb_per_socket=%.0f slab_sock_per_socket=%.0f "
	       "slab_fd_per_socket=%.0f slab_skb_per_socket=%.0f\n",
	       a->stack, n, 2 * n, per(m1.heap - m0.heap, socks),
	       per(m1.skb - m0.skb, socks),
	       per(m1.slab[SLAB_SOCK] - m0.slab[SLAB_SOCK], socks),
	       per(m1.slab[SLAB_FD] - m0.slab[SLAB_FD], socks),
	       per(m1.slab[SLAB_SKB] - m0.slab[SLAB_SKB], socks));
	bench_print_result(e.w ? &ustack_ops : &kernel_ops, &r);
	/* The process's exit releases every descriptor at once. */
	fflush(stdout);
	_exit(r.ok ? 0 : 1);
}

int main(int argc, char **argv)
{
	struct args a;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	parse_args(argc, argv, &a);
	if (!strcmp(a.mode, "wire-bulk"))
		return run_wire_bulk(&a);
	if (!strcmp(a.mode, "idle"))
		return run_idle(&a);
	if (!strcmp(a.stack, "ustack")) {
		struct ustack *st = ustack_on_tap(&a);
		int rc = run_socket_mode(&a, &ustack_ops);

		ustack_stop(st);
		/* Counts that do not depend on load (skb.*, tcp.out_segs), for
		 * a run by hand. */
		if (getenv("BENCH_COUNTERS"))
			ustack_print_counters(st, stderr);
		ustack_destroy(st);
		return rc;
	}
	if (strcmp(a.stack, "kernel"))
		usage();
	return run_socket_mode(&a, &kernel_ops);
}
