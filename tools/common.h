/*
 * common.h - what the example programs in tools/ share: the options that
 * put a ustack instance on a TAP device (--tap, --addr, --gateway, --pcap,
 * --mtu, --mac, --log-level, --seed, and the fault layer's --tx-fault,
 * --rx-fault, --fault-seed), their checks, bringing the instance up, the
 * signalfd that ends a server, and the report printed at exit.
 *
 * Bad command-line input is one line on stderr, "PROG: what was wrong with
 * which argument", and exit status 2 (usage_error).
 *
 * A tool's option table starts with STACK_LONG_OPTIONS; its own option
 * codes start at OPT_TOOL. parse_options() runs getopt_long over argv,
 * gives the stack options to stack_option() and the rest to the tool.
 */
#ifndef US_TOOLS_COMMON_H
#define US_TOOLS_COMMON_H

#include <getopt.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ustack/ustack.h"

#define EXIT_USAGE 2
/* How long a server waits at exit for its last connections to close. */
#define QUIET_WAIT_MS 3000

/* The program's name in messages ("httpd"); set by each main(). */
extern const char *tool_name;

enum {
	OPT_TAP = 256, OPT_ADDR, OPT_GATEWAY, OPT_PCAP, OPT_MTU, OPT_MAC,
	OPT_LOG_LEVEL, OPT_SEED, OPT_TX_FAULT, OPT_RX_FAULT, OPT_FAULT_SEED,
	OPT_NO_OFFLOAD, OPT_NO_TX_THREAD,
	OPT_TOOL = 512,          /* a tool's own options start here */
};

#define STACK_LONG_OPTIONS \
	{ "tap", required_argument, NULL, OPT_TAP }, \
	{ "addr", required_argument, NULL, OPT_ADDR }, \
	{ "gateway", required_argument, NULL, OPT_GATEWAY }, \
	{ "pcap", required_argument, NULL, OPT_PCAP }, \
	{ "mtu", required_argument, NULL, OPT_MTU }, \
	{ "mac", required_argument, NULL, OPT_MAC }, \
	{ "log-level", required_argument, NULL, OPT_LOG_LEVEL }, \
	{ "seed", required_argument, NULL, OPT_SEED }, \
	{ "tx-fault", required_argument, NULL, OPT_TX_FAULT }, \
	{ "rx-fault", required_argument, NULL, OPT_RX_FAULT }, \
	{ "fault-seed", required_argument, NULL, OPT_FAULT_SEED }, \
	{ "no-offload", no_argument, NULL, OPT_NO_OFFLOAD }, \
	{ "no-tx-thread", no_argument, NULL, OPT_NO_TX_THREAD }, \
	{ "help", no_argument, NULL, 'h' }

/* The help text of the options above, for a tool's usage message. */
#define STACK_OPTIONS_HELP \
	"  --tap NAME         TAP device name (required, 1..15 characters)\n" \
	"  --addr A.B.C.D/N   ustack's IPv4 address and prefix length (required)\n" \
	"  --gateway G        default gateway, inside the --addr subnet\n" \
	"  --pcap FILE        write every frame in and out to FILE (pcap format)\n" \
	"  --mtu N            link MTU, 68..65535 (default 1500)\n" \
	"  --mac MAC          ustack's MAC, xx:xx:xx:xx:xx:xx (default: random,\n" \
	"                     locally administered)\n" \
	"  --log-level LVL    err, warn, info, debug, trace or 0..4 (default warn);\n" \
	"                     log lines go to stderr\n" \
	"  --seed N           seed of the stack's random choices (default: OS)\n" \
	"  --tx-fault SPEC    seeded faults on the frames ustack sends; SPEC is\n" \
	"                     loss=P,dup=P,reorder=P[,delay-us=N] with P in\n" \
	"                     percent (e.g. loss=5 or loss=0.5%); reordered\n" \
	"                     frames are held back delay-us (default 1000)\n" \
	"  --rx-fault SPEC    the same on the frames ustack receives\n" \
	"  --fault-seed N     seed of the fault decisions (default: from --seed)\n" \
	"  --no-offload       no checksum offload, TSO or large received packets\n" \
	"                     on the TAP device: wire-sized, checksummed frames\n" \
	"  --no-tx-thread     every frame written to the TAP by the thread that\n" \
	"                     sends it (default: TSO packets of 16 KB or more\n" \
	"                     by a writer thread of the device's own)\n" \
	"  -h, --help         show this help and exit\n"

struct stack_opts {
	struct ustack_ifconfig ifc;
	uint8_t mac[6];
	int log_level;
	uint64_t seed;
	bool have_addr;
	const char *gateway_arg;
};

void usage_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

bool parse_ipv4(const char *s, uint32_t *addr);
/* Digits only, no sign, no trailing text, <= max. */
bool parse_u64(const char *s, uint64_t max, uint64_t *out);
/* An option's number in min..max, or a usage error naming the option. */
uint64_t parse_range(const char *name, const char *arg, uint64_t min,
		     uint64_t max);
/* "A.B.C.D:PORT" (port 1..65535), or a usage error naming the option. */
void parse_host_port(const char *name, const char *arg,
		     struct sockaddr_in *sin);
/* A fault SPEC (see STACK_OPTIONS_HELP); false on a bad one, with the
 * reason in why[]. */
bool parse_fault_spec(const char *spec, struct ustack_fault *f, char *why,
		      size_t why_len);

void stack_opts_init(struct stack_opts *o);
/* Handle one stack option; false if opt is not one. */
bool stack_option(struct stack_opts *o, int opt, const char *arg);

/*
 * getopt_long over argv with the tool's options (which start with
 * STACK_LONG_OPTIONS): -h/--help prints `usage` and exits 0, stack options
 * go to stack_option(), the rest to one(ctx, opt, arg). Positional
 * arguments are left at argv[optind..]; the return value is optind. Checks
 * that --tap and --addr were given.
 */
int parse_options(int argc, char **argv, const struct option *options,
		  const char *usage, struct stack_opts *so,
		  void (*one)(void *ctx, int opt, const char *arg), void *ctx);

/* SIGINT and SIGTERM, blocked in every thread, read from a signalfd.
 * Also ignores SIGPIPE. -1 with errno on failure. */
int open_signalfd(void);
/* The signal read from sfd (blocking), or -1. */
int read_signal(int sfd);

/* A started instance on the TAP device, or NULL after saying why. */
struct ustack *stack_up(const struct stack_opts *o);
/* Print "PROG: up on TAP addr A.B.C.D/N mac M <extra>" and flush. */
void print_ready(struct ustack *st, const struct stack_opts *o,
		 const char *extra);

/*
 * After the tool closed its sockets and stopped the runtime: the counters,
 * then what is left of the instance's state, one "name value" line each:
 *   state.sockets          sockets still open
 *   state.tcp_conns        TCP connections in the tables, any state
 *   state.tcp_time_wait    ... of which in TIME_WAIT
 *   state.skb_live         packet buffers allocated
 *   state.skb_bytes        their memory
 */
void stack_report(struct ustack *st, FILE *f);

/*
 * Before stopping a server: wait up to timeout_ms, the runtime still
 * running, until no connection is left but in TIME_WAIT (a last FIN may
 * need sending again on a lossy path). True when none is left.
 */
bool stack_wait_quiet(struct ustack *st, int timeout_ms);

/* Monotonic time in seconds. */
double now_seconds(void);

/* ---- servers and clients ------------------------------------------------ */

/* A nonblocking listening TCP socket on port (SO_REUSEADDR), or -1 after
 * saying why. */
int tcp_listen(uint16_t port, int backlog);

/* Send all of buf (MSG_NOSIGNAL, retrying short sends); 0 or -1 (errno). */
int send_all(int fd, const void *buf, size_t len);

/*
 * After shutting our side down: wait up to timeout_ms for the connection to
 * finish closing (TCP_INFO state CLOSE or TIME_WAIT), so that the peer
 * saw our FIN acknowledged before the program ends. The descriptor stays
 * open. True when it finished in time.
 */
bool wait_closed(int fd, int timeout_ms);

struct serve_stats {
	uint64_t accepted;      /* connections accepted */
	uint64_t accept_errors;
};

/*
 * Accept connections on the listening socket lfd, each served on a thread
 * of its own by handler(fd, ctx), at most max_conns at once (more wait in
 * the backlog), until SIGINT or SIGTERM arrives on sfd. The handler owns
 * nothing: the descriptor is closed after it returns. Then every
 * connection still open is shut down (which ends its blocked calls) and
 * its thread joined. Returns the signal number, or -1.
 */
int serve_connections(int lfd, int sfd, unsigned int max_conns,
		      void (*handler)(int fd, void *ctx), void *ctx,
		      struct serve_stats *stats);

#endif
