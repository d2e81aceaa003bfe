/*
 * instance.c - the shim's stack instance: configured from the environment,
 * created by the first AF_INET socket() of the process, shut down at exit,
 * and the rules for a child made by fork() (see preload.h).
 *
 *   USTACK_TAP        TAP device to attach (created when absent); unset:
 *                     no device, only the loopback 127.0.0.0/8
 *   USTACK_ADDR       A.B.C.D/N, required with USTACK_TAP
 *   USTACK_GATEWAY    default gateway, a host of that subnet
 *   USTACK_MTU        68..65535 (default 1500)
 *   USTACK_MAC        xx:xx:xx:xx:xx:xx (default random, locally administered)
 *   USTACK_PCAP       capture file for every frame on the TAP device
 *   USTACK_LOG_LEVEL  err, warn, info, debug, trace or 0..4 (default warn)
 *   USTACK_SEED       seed of the stack's random choices (default: the OS)
 *   USTACK_EXIT_WAIT_MS  how long exit() waits for closed connections to
 *                     finish (FIN acknowledged), 0..60000 (default 3000)
 *   USTACK_SYSCTL     knobs, "net.ipv4.NAME=VALUE;..." (ustack_sysctl_set)
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/sys.h"
#include "dev/netdev.h"
#include "net/tcp/tcp.h"
#include "preload/preload.h"
#include "socket/socket.h"
#include "stack/stack.h"

#define MTU_MIN 68
#define MTU_MAX 65535
#define EXIT_WAIT_DEFAULT_MS 3000
#define EXIT_WAIT_MAX_MS 60000

static struct {
	pthread_mutex_t lock;
	struct ustack *st;
	int err;                  /* -errno once creation failed */
	pid_t owner;              /* the process the instance belongs to */
	bool child;               /* this process is a fork() child */
	bool child_said;          /* the child's message was printed */
	bool busy_said;           /* the busy TAP's message was printed */
	unsigned int exit_wait_ms;
} shim = { .lock = PTHREAD_MUTEX_INITIALIZER };

void *shim_dlsym(const char *name)
{
	void *p = dlsym(RTLD_NEXT, name);

	if (!p) {
		fprintf(stderr, "ustack: libc has no %s\n", name);
		abort();
	}
	return p;
}

/* One line on stderr; the program itself goes on (its call fails). */
static int config_error(int err, const char *var, const char *fmt, ...)
{
	const char *val = getenv(var);
	va_list ap;

	fprintf(stderr, "ustack: %s='%s': ", var, val ? val : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (no ustack sockets in this process)\n", stderr);
	return err;
}

/* A variable that is 0 or 1 (strictly: not "01", not "yes"). */
static int env_flag(const char *s, const char *var, int *out)
{
	if (strcmp(s, "0") != 0 && strcmp(s, "1") != 0)
		return config_error(-EINVAL, var, "must be 0 or 1");
	*out = s[0] == '1';
	return 0;
}

static bool env_u64(const char *s, unsigned long long max,
		    unsigned long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return !errno && !*end && *out <= max;
}

static bool is_host_addr(uint32_t addr)
{
	uint32_t h = ntohl(addr);

	return h >> 24 != 0 && h >> 24 != 127 && h < 0xe0000000u;
}

static uint32_t prefix_mask(int len)
{
	return len ? htonl(~0u << (32 - len)) : 0;
}

static int parse_addr(const char *s, struct ustack_ifconfig *ifc)
{
	const char *slash = strchr(s, '/');
	unsigned long long len;
	struct in_addr a;
	char buf[32];
	uint32_t mask;

	if (!slash || (size_t)(slash - s) >= sizeof(buf))
		return config_error(-EINVAL, "USTACK_ADDR", "expected A.B.C.D/N");
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1 || !is_host_addr(a.s_addr))
		return config_error(-EINVAL, "USTACK_ADDR",
				    "'%s' is not a unicast IPv4 address", buf);
	if (!env_u64(slash + 1, 32, &len))
		return config_error(-EINVAL, "USTACK_ADDR",
				    "prefix length must be 0..32");
	ifc->addr = a.s_addr;
	ifc->prefix_len = (int)len;
	mask = prefix_mask(ifc->prefix_len);
	if (ifc->prefix_len < 31 &&
	    ((a.s_addr & ~mask) == 0 || (a.s_addr | mask) == 0xffffffffu))
		return config_error(-EINVAL, "USTACK_ADDR", "the subnet's "
				    "network or broadcast address");
	return 0;
}

static int parse_gateway(const char *s, struct ustack_ifconfig *ifc)
{
	uint32_t mask = prefix_mask(ifc->prefix_len);
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1 || !is_host_addr(a.s_addr))
		return config_error(-EINVAL, "USTACK_GATEWAY",
				    "not a unicast IPv4 address");
	if ((a.s_addr & mask) != (ifc->addr & mask) || a.s_addr == ifc->addr)
		return config_error(-EINVAL, "USTACK_GATEWAY", "not another "
				    "host of the USTACK_ADDR subnet");
	ifc->gateway = a.s_addr;
	return 0;
}

static int parse_mac(const char *s, uint8_t *mac)
{
	unsigned int b[6];
	char tail;

	if (strlen(s) != 17 || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0],
				      &b[1], &b[2], &b[3], &b[4], &b[5],
				      &tail) != 6)
		return config_error(-EINVAL, "USTACK_MAC",
				    "expected xx:xx:xx:xx:xx:xx");
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	if ((mac[0] & 1) || !(mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]))
		return config_error(-EINVAL, "USTACK_MAC", "not a unicast "
				    "address");
	return 0;
}

struct env_config {
	struct ustack_config cfg;
	struct ustack_ifconfig ifc;
	uint8_t mac[6];
};

/* The device's settings, when USTACK_TAP is set. */
static int parse_device_env(struct env_config *c)
{
	unsigned long long v;
	const char *s;
	int rc = 0;

	c->ifc.ifname = getenv("USTACK_TAP");
	if (strlen(c->ifc.ifname) >= US_IFNAMSIZ || !c->ifc.ifname[0] ||
	    strchr(c->ifc.ifname, '/'))
		return config_error(-EINVAL, "USTACK_TAP", "not an interface "
				    "name (1..15 characters, no '/')");
	s = getenv("USTACK_ADDR");
	if (!s)
		return config_error(-EINVAL, "USTACK_ADDR", "required with "
				    "USTACK_TAP (A.B.C.D/N)");
	rc = parse_addr(s, &c->ifc);
	if (rc == 0 && (s = getenv("USTACK_GATEWAY")) && *s)
		rc = parse_gateway(s, &c->ifc);
	if (rc == 0 && (s = getenv("USTACK_MTU")) && *s) {
		if (!env_u64(s, MTU_MAX, &v) || v < MTU_MIN)
			return config_error(-EINVAL, "USTACK_MTU",
					    "must be %d..%d", MTU_MIN, MTU_MAX);
		c->ifc.mtu = (unsigned int)v;
	}
	if (rc == 0 && (s = getenv("USTACK_MAC")) && *s) {
		rc = parse_mac(s, c->mac);
		c->ifc.mac = c->mac;
	}
	if (rc == 0 && (s = getenv("USTACK_PCAP")) && *s)
		c->ifc.pcap_path = s;
	if (rc == 0 && (s = getenv("USTACK_NO_OFFLOAD")) && *s)
		rc = env_flag(s, "USTACK_NO_OFFLOAD", &c->ifc.no_offload);
	if (rc == 0 && (s = getenv("USTACK_NO_TX_THREAD")) && *s)
		rc = env_flag(s, "USTACK_NO_TX_THREAD", &c->ifc.no_tx_thread);
	return rc;
}

static int parse_env(struct env_config *c)
{
	unsigned long long v;
	const char *s;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	ustack_config_init(&c->cfg);
	if ((s = getenv("USTACK_LOG_LEVEL")) && *s) {
		c->cfg.log_level = us_log_level_parse(s);
		if (c->cfg.log_level < 0)
			return config_error(-EINVAL, "USTACK_LOG_LEVEL", "expected "
					    "err, warn, info, debug, trace or 0..4");
	}
	if ((s = getenv("USTACK_SEED")) && *s) {
		if (!env_u64(s, UINT64_MAX, &v))
			return config_error(-EINVAL, "USTACK_SEED",
					    "not a non-negative integer");
		c->cfg.seed = v;
	}
	shim.exit_wait_ms = EXIT_WAIT_DEFAULT_MS;
	if ((s = getenv("USTACK_EXIT_WAIT_MS")) && *s) {
		if (!env_u64(s, EXIT_WAIT_MAX_MS, &v))
			return config_error(-EINVAL, "USTACK_EXIT_WAIT_MS",
					    "must be 0..%d", EXIT_WAIT_MAX_MS);
		shim.exit_wait_ms = (unsigned int)v;
	}
	if ((s = getenv("USTACK_TAP")) && *s)
		rc = parse_device_env(c);
	return rc;
}

/* ---- exit --------------------------------------------------------------- */

/* Connections that are neither closed nor in TIME_WAIT. Core lock held. */
static size_t live_conns(struct ustack *st)
{
	size_t n = 0;

	for (uint32_t i = 0; i <= st->tcp.ehash_mask; i++) {
		const struct list_head *pos;

		for (pos = st->tcp.ehash[i].next; pos != &st->tcp.ehash[i];
		     pos = pos->next) {
			const struct tcp_sock *tp = list_entry(pos, struct tcp_sock,
							       ehash_node);

			n += tp->sk.state != TCP_TIME_WAIT;
		}
	}
	return n;
}

/*
 * At exit the process's sockets are closed as close() would close them
 * (a FIN after the data still queued, a RST where Linux sends one), and
 * the runtime keeps running, up to USTACK_EXIT_WAIT_MS, until no
 * connection is left but in TIME_WAIT: the peer sees an orderly end, as
 * when the kernel finishes an exited process's connections.
 */
static void shim_exit(void)
{
	struct ustack *st = shim.st;
	size_t live;

	if (!st || shim.child || getpid() != shim.owner)
		return;
	/* Inside ustack as any call is: a handler that comes meanwhile runs
	 * after it (signals.c), not while this thread holds the lock. */
	shim_sig_enter();
	for (int fd = 0, n = fdtable_size(); fd < n; fd++)
		if (fdtable_is_ours(fd))
			us_close(fd);
	for (unsigned int waited = 0;; waited += 10) {
		us_core_lock(st);
		live = live_conns(st);
		pthread_mutex_unlock(&st->lock);
		if (live == 0 || waited >= shim.exit_wait_ms)
			break;
		usleep(10000);
	}
	if (live)
		fprintf(stderr, "ustack: exit: %zu connection(s) still closing "
			"after %u ms\n", live, shim.exit_wait_ms);
	/* Stopped, not destroyed: other threads may still hold sockets. */
	ustack_stop(st);
	(void)shim_sig_leave(false, false);
}

/* ---- fork --------------------------------------------------------------- */

static void atfork_prepare(void)
{
	pthread_mutex_lock(&shim.lock);
	fdtable_fork_lock();
}

static void atfork_parent(void)
{
	fdtable_fork_unlock();
	pthread_mutex_unlock(&shim.lock);
}

/*
 * The child has a copy of the instance but not its runtime thread, and
 * shares the TAP device with the parent: driving it would steal the
 * parent's frames. So the child's inherited ustack descriptors fail (see
 * shim_child_error) and it makes no instance of its own. A parent that
 * made no instance yet has nothing to share: its child is a process of
 * its own, which makes one at its first socket (a daemon that forks
 * before it listens: redis-server --daemonize yes, iperf3 -D).
 */
static void atfork_child(void)
{
	fdtable_fork_unlock();
	if (shim.st)
		shim.child = true;
	else
		shim.owner = getpid();
	pthread_mutex_unlock(&shim.lock);
}

__attribute__((constructor)) static void shim_init(void)
{
	shim.owner = getpid();
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

/*
 * A child made by vfork() or clone() runs no fork handler: it is known by
 * its pid. It may share the parent's memory, so it must not touch the
 * descriptor table either (shim_child_owns_copy).
 */
bool shim_in_child(void)
{
	return shim.child || (shim.owner && getpid() != shim.owner);
}

bool shim_child_owns_copy(void)
{
	return shim.child;
}

int shim_child_error(int fd)
{
	if (!shim.child_said) {
		shim.child_said = true;
		fprintf(stderr, "ustack: pid %d: descriptor %d is a ustack socket "
			"inherited across fork(); ustack sockets work only in "
			"the process that made them\n", (int)getpid(), fd);
	}
	return -EOPNOTSUPP;
}

/* ---- creation ----------------------------------------------------------- */

/* USTACK_SYSCTL: "NAME=VALUE" settings, ';' between them. */
static int apply_sysctls(struct ustack *st)
{
	const char *s = getenv("USTACK_SYSCTL");
	char buf[1024], *save = NULL, *kv;

	if (!s || !*s)
		return 0;
	if (strlen(s) >= sizeof(buf))
		return config_error(-EINVAL, "USTACK_SYSCTL", "too long");
	strcpy(buf, s);
	for (kv = strtok_r(buf, ";", &save); kv;
	     kv = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq)
			return config_error(-EINVAL, "USTACK_SYSCTL",
					    "'%s': expected NAME=VALUE", kv);
		*eq = '\0';
		if (ustack_sysctl_set(st, kv, eq + 1) < 0)
			return config_error(-errno, "USTACK_SYSCTL", "%s: %s",
					    kv, strerror(errno));
	}
	return 0;
}

static int shim_create(void)
{
	struct env_config c;
	struct ustack *st;
	int err = parse_env(&c);

	if (err)
		return err;
	st = ustack_create(&c.cfg);
	if (!st) {
		err = -errno;
		fprintf(stderr, "ustack: cannot create the stack: %s\n",
			strerror(errno));
		return err;
	}
	err = apply_sysctls(st);
	if (err) {
		ustack_destroy(st);
		return err;
	}
	if (c.ifc.ifname) {
		err = ustack_add_tap(st, &c.ifc);
		/* Busy (another process holds it: socket() tries again
		 * later, shim_stack) is said once. */
		if (err == -EBUSY && !shim.busy_said) {
			shim.busy_said = true;
			fprintf(stderr, "ustack: USTACK_TAP='%s': cannot attach: "
				"%s (another process holds it; sockets fail "
				"until it is free)\n", c.ifc.ifname,
				strerror(EBUSY));
		} else if (err && err != -EBUSY) {
			config_error(err, "USTACK_TAP", "cannot attach: %s%s",
				     strerror(-err), err == -EPERM ||
				     err == -EACCES ? " (needs CAP_NET_ADMIN "
				     "and /dev/net/tun)" : "");
		}
		if (err) {
			ustack_destroy(st);
			return err;
		}
	}
	err = ustack_start(st);
	if (err) {
		fprintf(stderr, "ustack: cannot start the runtime: %s\n",
			strerror(-err));
		ustack_destroy(st);
		return err;
	}
	ustack_set_default(st);
	shim.st = st;
	atexit(shim_exit);
	return 0;
}

struct ustack *shim_stack(int *err)
{
	struct ustack *st;

	pthread_mutex_lock(&shim.lock);
	if (shim.child) {
		*err = -EOPNOTSUPP;
		pthread_mutex_unlock(&shim.lock);
		fprintf(stderr, "ustack: pid %d: a process made by fork() cannot "
			"open ustack sockets (the instance belongs to its "
			"parent)\n", (int)getpid());
		return NULL;
	}
	if (!shim.st && !shim.err)
		shim.err = shim_create();
	st = shim.st;
	*err = shim.err;
	/* The TAP device held by another process (a child forked before
	 * this process made its instance, which made one of its own): not
	 * for good, the next socket() tries again. */
	if (shim.err == -EBUSY)
		shim.err = 0;
	pthread_mutex_unlock(&shim.lock);
	return st;
}
