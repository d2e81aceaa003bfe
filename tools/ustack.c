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
 * The options and start-up are those of every tool (common.c), the fault
 * layer's --tx-fault/--rx-fault included.
 */
#include <errno.h>
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
	usage_error("unknown command '%s' (try 'ustack --help')", argv[1]);
}
