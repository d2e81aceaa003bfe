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
 *   ustack run --tap NAME --addr A.B.C.D/N [...] -- PROGRAM ARGS...
 *
 * runs PROGRAM with libustack-preload.so preloaded and the same settings
 * passed in the environment (USTACK_TAP, USTACK_ADDR, ...), so that its
 * AF_INET sockets are ustack's (src/preload/).
 *
 * The options and start-up are those of every tool (common.c), the fault
 * layer's --tx-fault/--rx-fault included (not for run).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

static const char main_usage[] =
	"Usage: ustack COMMAND [OPTIONS]\n"
	"\n"
	"ustack is a user-space TCP/IP stack. This program runs one instance.\n"
	"\n"
	"Commands:\n"
	"  up        attach to a TAP device and answer ARP and ping until\n"
	"            SIGINT or SIGTERM (see 'ustack up --help')\n"
	"  run       run an unmodified program with its IPv4 sockets on\n"
	"            ustack (see 'ustack run --help')\n"
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
	STACK_OPTIONS_HELP
	"\n"
	"Exit status: 0 after a signal, 1 if the stack could not start,\n"
	"2 on bad command-line input.\n";

static const struct option up_options[] = {
	STACK_LONG_OPTIONS,
	{ NULL, 0, NULL, 0 },
};

static const char run_usage[] =
	"Usage: ustack run --tap NAME --addr A.B.C.D/N [OPTIONS] -- PROGRAM [ARGS...]\n"
	"\n"
	"Run PROGRAM with libustack-preload.so preloaded: its AF_INET sockets\n"
	"(TCP, UDP, ICMP echo) are ustack's, on a stack instance of its own\n"
	"attached to the TAP device NAME (created when absent) with the address\n"
	"given; connections to 127.0.0.0/8 go through ustack's loopback. Every\n"
	"other descriptor (files, pipes, AF_UNIX, AF_INET6) is the kernel's as\n"
	"usual.\n"
	"The instance is made on the program's first AF_INET socket() and, at\n"
	"exit(), closes the program's connections with a FIN and waits for\n"
	"them to finish (USTACK_EXIT_WAIT_MS, default 3000).\n"
	"\n"
	"Options:\n"
	"  --tap NAME         TAP device name (required)         USTACK_TAP\n"
	"  --addr A.B.C.D/N   address and prefix (required)      USTACK_ADDR\n"
	"  --gateway G        default gateway                    USTACK_GATEWAY\n"
	"  --pcap FILE        capture every frame to FILE        USTACK_PCAP\n"
	"  --mtu N            link MTU, 68..65535 (1500)         USTACK_MTU\n"
	"  --mac MAC          xx:xx:xx:xx:xx:xx (random)         USTACK_MAC\n"
	"  --log-level LVL    err, warn, info, debug, trace      USTACK_LOG_LEVEL\n"
	"  --seed N           seed of the random choices         USTACK_SEED\n"
	"  --no-offload       no TSO, GSO frames or checksum     USTACK_NO_OFFLOAD=1\n"
	"                     offload on the TAP (frames of the MTU,\n"
	"                     checksums in software both ways)\n"
	"  --no-tx-thread     every frame written by the thread  USTACK_NO_TX_THREAD=1\n"
	"                     that sends it (default: large TSO\n"
	"                     packets by a writer thread)\n"
	"  -h, --help         show this help and exit\n"
	"\n"
	"Each option sets the environment variable beside it, which the shim\n"
	"reads; LD_PRELOAD=libustack-preload.so with those variables set does\n"
	"the same without this program. A bad variable gets one message naming\n"
	"it and the program's AF_INET socket() calls fail. USTACK_PRELOAD names\n"
	"the shim to use (default: libustack-preload.so beside this program).\n"
	"\n"
	"A child made by fork() cannot use the ustack sockets it inherited (nor\n"
	"open new ones): such calls fail with EOPNOTSUPP after one message on\n"
	"stderr; a program exec()'d afterwards starts afresh. Run servers in\n"
	"a single process (nginx: master_process off).\n"
	"\n"
	"Exit status: PROGRAM's; 2 on bad command-line input, 127 if PROGRAM\n"
	"cannot be run.\n";

static const struct option run_options[] = {
	{ "tap", required_argument, NULL, OPT_TAP },
	{ "addr", required_argument, NULL, OPT_ADDR },
	{ "gateway", required_argument, NULL, OPT_GATEWAY },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "mtu", required_argument, NULL, OPT_MTU },
	{ "mac", required_argument, NULL, OPT_MAC },
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "no-offload", no_argument, NULL, OPT_NO_OFFLOAD },
	{ "no-tx-thread", no_argument, NULL, OPT_NO_TX_THREAD },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static void set_env(const char *name, const char *value)
{
	if (setenv(name, value, 1) < 0) {
		fprintf(stderr, "ustack: setenv %s: %s\n", name, strerror(errno));
		exit(1);
	}
}

/* The shim: USTACK_PRELOAD, else beside this program (the build tree),
 * else in ../lib (an installed tree). */
static void preload_path(char *buf, size_t len)
{
	const char *env = getenv("USTACK_PRELOAD");
	char self[PATH_MAX];
	const char *dir;
	ssize_t n;

	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n < 0) {
		fprintf(stderr, "ustack: /proc/self/exe: %s\n", strerror(errno));
		exit(1);
	}
	self[n] = '\0';
	dir = dirname(self);
	snprintf(buf, len, "%s/libustack-preload.so", dir);
	if (access(buf, R_OK) < 0)
		snprintf(buf, len, "%s/../lib/libustack-preload.so", dir);
}

/* The settings, in the variables the shim reads (src/preload/instance.c). */
static void export_settings(const struct stack_opts *o)
{
	char buf[64];

	set_env("USTACK_TAP", o->ifc.ifname);
	inet_ntop(AF_INET, &o->ifc.addr, buf, sizeof(buf));
	snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "/%d",
		 o->ifc.prefix_len);
	set_env("USTACK_ADDR", buf);
	if (o->gateway_arg)
		set_env("USTACK_GATEWAY", o->gateway_arg);
	if (o->ifc.pcap_path)
		set_env("USTACK_PCAP", o->ifc.pcap_path);
	if (o->ifc.mtu) {
		snprintf(buf, sizeof(buf), "%u", o->ifc.mtu);
		set_env("USTACK_MTU", buf);
	}
	if (o->ifc.mac) {
		snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x",
			 o->mac[0], o->mac[1], o->mac[2], o->mac[3], o->mac[4],
			 o->mac[5]);
		set_env("USTACK_MAC", buf);
	}
	snprintf(buf, sizeof(buf), "%d", o->log_level);
	set_env("USTACK_LOG_LEVEL", buf);
	if (o->seed) {
		snprintf(buf, sizeof(buf), "%" PRIu64, o->seed);
		set_env("USTACK_SEED", buf);
	}
	if (o->ifc.no_offload)
		set_env("USTACK_NO_OFFLOAD", "1");
	if (o->ifc.no_tx_thread)
		set_env("USTACK_NO_TX_THREAD", "1");
}

static int cmd_run(int argc, char **argv)
{
	char path[PATH_MAX + 32], preload[2 * PATH_MAX + 64];
	const char *old = getenv("LD_PRELOAD");
	struct stack_opts o;
	int sep = 1;

	/* Ours are the options before "--"; the program's come after. */
	while (sep < argc && strcmp(argv[sep], "--") != 0) {
		if (strcmp(argv[sep], "-h") == 0 ||
		    strcmp(argv[sep], "--help") == 0) {
			fputs(run_usage, stdout);
			exit(0);
		}
		sep++;
	}
	if (sep >= argc - 1)
		usage_error("run: no program given (ustack run OPTIONS -- "
			    "PROGRAM ARGS...)");
	stack_opts_init(&o);
	argv[sep] = NULL;
	if (parse_options(sep, argv, run_options, run_usage, &o, NULL, NULL) <
	    sep)
		usage_error("run: unexpected argument '%s' before '--'",
			    argv[optind]);
	export_settings(&o);
	preload_path(path, sizeof(path));
	if (access(path, R_OK) < 0) {
		fprintf(stderr, "ustack: run: %s: %s (set USTACK_PRELOAD)\n",
			path, strerror(errno));
		return 127;
	}
	snprintf(preload, sizeof(preload), "%s%s%s", path, old && *old ? " " :
		 "", old ? old : "");
	set_env("LD_PRELOAD", preload);
	execvp(argv[sep + 1], argv + sep + 1);
	fprintf(stderr, "ustack: run: %s: %s\n", argv[sep + 1], strerror(errno));
	return 127;
}

static void parse_up(int argc, char **argv, struct stack_opts *o)
{
	int rest;

	stack_opts_init(o);
	rest = parse_options(argc, argv, up_options, up_usage, o, NULL, NULL);
	if (rest < argc)
		usage_error("up: unexpected argument '%s'", argv[rest]);
}

static int cmd_up(int argc, char **argv)
{
	struct stack_opts o;
	struct ustack *st;
	int sfd, sig;

	parse_up(argc, argv, &o);
	sfd = open_signalfd();
	if (sfd < 0) {
		fprintf(stderr, "ustack: signalfd: %s\n", strerror(errno));
		return 1;
	}
	st = stack_up(&o);
	if (!st) {
		close(sfd);
		return 1;
	}
	print_ready(st, &o, NULL);
	sig = read_signal(sfd);
	ustack_stop(st);
	printf("ustack: stopping on %s; counters:\n",
	       sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" :
	       "a signalfd error");
	ustack_print_counters(st, stdout);
	fflush(stdout);
	ustack_destroy(st);
	close(sfd);
	return sig > 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	tool_name = "ustack";
	if (argc < 2)
		usage_error("no command given (try 'ustack --help')");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(main_usage, stdout);
		return 0;
	}
	if (strcmp(argv[1], "up") == 0)
		return cmd_up(argc - 1, argv + 1);
	if (strcmp(argv[1], "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	usage_error("unknown command '%s' (try 'ustack --help')", argv[1]);
}
