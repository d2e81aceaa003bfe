/*
 * test_diff_filter.c - differential tests of classic BPF socket filters
 * (SO_ATTACH_FILTER, SO_DETACH_FILTER, SO_GET_FILTER, SO_LOCK_FILTER) on
 * UDP, ping and TCP sockets over loopback: what a program sees (offset 0
 * is the transport header; the network and link headers below; the
 * ancillary loads), what its verdict does (drop, cut, keep), the checks a
 * program must pass and their errno, and the options' rules.
 *
 * Each case runs on the kernel's sockets in a private network namespace
 * and on ustack (tests/lib/difftest.h); a case fails when the two
 * transcripts differ. Linux is the oracle. Each case has its own ports, as
 * the kernel side runs every case in one namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/filter.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "lib/difftest.h"
#include "ustack/ustack.h"

#define INSN(c, t, f, k) ((struct sock_filter){ (c), (t), (f), (k) })
#define RET(k) INSN(BPF_RET | BPF_K, 0, 0, (k))
#define RET_A INSN(BPF_RET | BPF_A, 0, 0, 0)
#define LD_B(k) INSN(BPF_LD | BPF_B | BPF_ABS, 0, 0, (uint32_t)(k))
#define LD_H(k) INSN(BPF_LD | BPF_H | BPF_ABS, 0, 0, (uint32_t)(k))
#define LD_W(k) INSN(BPF_LD | BPF_W | BPF_ABS, 0, 0, (uint32_t)(k))
#define ADD(k) INSN(BPF_ALU | BPF_ADD | BPF_K, 0, 0, (k))
#define JEQ(k, t, f) INSN(BPF_JMP | BPF_JEQ | BPF_K, (t), (f), (k))

#define ATTACH(t, fd, insns) attach(t, fd, insns, \
				    sizeof(insns) / sizeof((insns)[0]))

static int attach(struct dt *t, int fd, const struct sock_filter *insns,
		  unsigned short n)
{
	struct sock_fprog prog;

	memset(&prog, 0, sizeof(prog));   /* (the padding is printed) */
	prog.len = n;
	prog.filter = (struct sock_filter *)insns;
	return dt_setsockopt(t, fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog,
			     sizeof(prog));
}

static void detach(struct dt *t, int fd)
{
	dt_setsockopt_int(t, fd, SOL_SOCKET, SO_DETACH_FILTER, 0);
}

/* A datagram of len bytes ('a', 'b', ... cycling) from u to `to`, then
 * what r reads of it (up to 4096 bytes, MSG_TRUNC shown). */
static void roundtrip(struct dt *t, int u, int r,
		      const struct sockaddr_in *to, size_t len)
{
	static char data[4096];

	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (char)('a' + i % 26);
	dt_sendto(t, u, data, len, 0, to, sizeof(*to));
	usleep(20000);
	dt_recvmsg_noted(t, r, MSG_DONTWAIT, 4096, 0);
}

static void drops(struct dt *t, int fd)
{
	uint32_t m[SK_MEMINFO_VARS];
	socklen_t len = sizeof(m);

	memset(m, 0, sizeof(m));
	if (dt_ct(t)->getsockopt(fd, SOL_SOCKET, SO_MEMINFO, m, &len) == 0)
		dt_note(t, "drops %u", m[SK_MEMINFO_DROPS]);
}

/* Verdicts on UDP: keep all, drop (counted), cut to a length (from the
 * UDP header, so 12 keeps 4 bytes; never into the header), and a test
 * of the first payload byte. */
static void case_filter_udp_verdicts(struct dt *t)
{
	static const struct sock_filter all[] = { RET(0xffffffff) };
	static const struct sock_filter none[] = { RET(0) };
	static const struct sock_filter cut12[] = { RET(12) };
	static const struct sock_filter cut3[] = { RET(3) };
	static const struct sock_filter first_a[] = {
		LD_B(8), JEQ('a', 0, 1), RET(0xffff), RET(0),
	};
	struct sockaddr_in to = dt_sin("127.0.0.1", 7401);
	int r = dt_udp_bound(t, 7401);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	ATTACH(t, r, all);
	roundtrip(t, u, r, &to, 100);
	ATTACH(t, r, none);
	roundtrip(t, u, r, &to, 100);
	drops(t, r);
	ATTACH(t, r, cut12);
	roundtrip(t, u, r, &to, 100);
	ATTACH(t, r, cut3);
	roundtrip(t, u, r, &to, 100);
	ATTACH(t, r, first_a);
	roundtrip(t, u, r, &to, 100);
	dt_sendto(t, u, "zz", 2, 0, &to, sizeof(to));
	usleep(20000);
	dt_recvmsg_noted(t, r, MSG_DONTWAIT, 4096, 0);
	drops(t, r);
	detach(t, r);
	roundtrip(t, u, r, &to, 100);
	dt_close(t, u);
	dt_close(t, r);
}

/* What loads see, each returned as a length (+8 for the UDP header) so
 * that the datagram read tells the value: the network header below
 * offset 0 (TTL, protocol), the length, ancillary data (protocol,
 * packet type, interface, device type, mark), a load past the end and
 * one below every header (both end the program: dropped), an indirect
 * load, and X's division by 0 (dropped). */
static void case_filter_udp_loads(struct dt *t)
{
	static const struct sock_filter ttl[] = {
		LD_B(SKF_NET_OFF + 8), ADD(8), RET_A,
	};
	static const struct sock_filter proto[] = {
		LD_B(SKF_NET_OFF + 9), ADD(8), RET_A,
	};
	static const struct sock_filter len_less3[] = {
		INSN(BPF_LD | BPF_W | BPF_LEN, 0, 0, 0),
		INSN(BPF_ALU | BPF_SUB | BPF_K, 0, 0, 3), RET_A,
	};
	static const struct sock_filter anc_proto[] = {
		LD_H(SKF_AD_OFF + SKF_AD_PROTOCOL), ADD(8), RET_A,
	};
	static const struct sock_filter anc_pkttype[] = {
		LD_W(SKF_AD_OFF + SKF_AD_PKTTYPE), ADD(9), RET_A,
	};
	static const struct sock_filter anc_ifindex[] = {
		LD_W(SKF_AD_OFF + SKF_AD_IFINDEX), ADD(8), RET_A,
	};
	static const struct sock_filter anc_hatype[] = {
		LD_W(SKF_AD_OFF + SKF_AD_HATYPE), ADD(8), RET_A,
	};
	static const struct sock_filter anc_mark[] = {
		LD_W(SKF_AD_OFF + SKF_AD_MARK), ADD(8), RET_A,
	};
	static const struct sock_filter anc_poff[] = {
		LD_W(SKF_AD_OFF + SKF_AD_PAY_OFFSET), ADD(8), RET_A,
	};
	static const struct sock_filter beyond[] = {
		LD_B(200), RET(0xffff),
	};
	static const struct sock_filter below[] = {
		LD_B(SKF_LL_OFF - 1), RET(0xffff),
	};
	static const struct sock_filter ind[] = {
		INSN(BPF_LDX | BPF_IMM, 0, 0, 8),
		INSN(BPF_LD | BPF_B | BPF_IND, 0, 0, 2), RET_A,
	};
	static const struct sock_filter div0[] = {
		INSN(BPF_LDX | BPF_IMM, 0, 0, 0),
		INSN(BPF_ALU | BPF_DIV | BPF_X, 0, 0, 0), RET(0xffff),
	};
	static const struct sock_filter msh[] = {
		INSN(BPF_LDX | BPF_B | BPF_MSH, 0, 0, SKF_NET_OFF),
		INSN(BPF_MISC | BPF_TXA, 0, 0, 0), ADD(8), RET_A,
	};
	struct sockaddr_in to = dt_sin("127.0.0.1", 7402);
	int r = dt_udp_bound(t, 7402);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_setsockopt_int(t, u, SOL_SOCKET, SO_MARK, 33);
	ATTACH(t, r, ttl);
	roundtrip(t, u, r, &to, 200);
	ATTACH(t, r, proto);
	roundtrip(t, u, r, &to, 200);
	ATTACH(t, r, len_less3);
	roundtrip(t, u, r, &to, 200);
	ATTACH(t, r, anc_proto);
	roundtrip(t, u, r, &to, 3000);
	ATTACH(t, r, anc_pkttype);
	roundtrip(t, u, r, &to, 200);
	ATTACH(t, r, anc_ifindex);
	roundtrip(t, u, r, &to, 200);
	ATTACH(t, r, anc_hatype);
	roundtrip(t, u, r, &to, 1000);
	ATTACH(t, r, anc_mark);
	roundtrip(t, u, r, &to, 200);
	ATTACH(t, r, anc_poff);
	roundtrip(t, u, r, &to, 100);
	dt_getsockopt_int(t, r, SOL_SOCKET, SO_BPF_EXTENSIONS);
	ATTACH(t, r, beyond);
	roundtrip(t, u, r, &to, 100);
	roundtrip(t, u, r, &to, 300);
	ATTACH(t, r, below);
	roundtrip(t, u, r, &to, 100);
	ATTACH(t, r, ind);
	roundtrip(t, u, r, &to, 100);
	ATTACH(t, r, div0);
	roundtrip(t, u, r, &to, 100);
	ATTACH(t, r, msh);
	roundtrip(t, u, r, &to, 100);
	dt_close(t, u);
	dt_close(t, r);
}

/* The checks a program must pass, each EINVAL (Linux's
 * bpf_check_classic), and the option's length. */
static void case_filter_checks(struct dt *t)
{
	static const struct sock_filter bad_code[] = {
		INSN(0xffff, 0, 0, 0), RET(0),
	};
	static const struct sock_filter ld_h_imm[] = {
		INSN(BPF_LD | BPF_H | BPF_IMM, 0, 0, 0), RET(0),
	};
	static const struct sock_filter jump_out[] = {
		JEQ(1, 0, 5), RET(0),
	};
	static const struct sock_filter ja_out[] = {
		INSN(BPF_JMP | BPF_JA, 0, 0, 1), RET(0),
	};
	static const struct sock_filter div_k0[] = {
		INSN(BPF_ALU | BPF_DIV | BPF_K, 0, 0, 0), RET(0),
	};
	static const struct sock_filter mod_k0[] = {
		INSN(BPF_ALU | BPF_MOD | BPF_K, 0, 0, 0), RET(0),
	};
	static const struct sock_filter lsh32[] = {
		INSN(BPF_ALU | BPF_LSH | BPF_K, 0, 0, 32), RET(0),
	};
	static const struct sock_filter mem16[] = {
		INSN(BPF_ST, 0, 0, 16), RET(0),
	};
	static const struct sock_filter mem_unset[] = {
		INSN(BPF_LD | BPF_MEM, 0, 0, 3), RET(0),
	};
	static const struct sock_filter mem_one_path[] = {
		LD_B(0), JEQ(1, 0, 1), INSN(BPF_ST, 0, 0, 2),
		INSN(BPF_LD | BPF_MEM, 0, 0, 2), RET_A,
	};
	static const struct sock_filter mem_both_paths[] = {
		INSN(BPF_ST, 0, 0, 2), LD_B(0), JEQ(1, 0, 1),
		INSN(BPF_ST, 0, 0, 2), INSN(BPF_LD | BPF_MEM, 0, 0, 2), RET_A,
	};
	static const struct sock_filter no_ret[] = {
		RET(0), LD_B(0),
	};
	static const struct sock_filter anc_unknown[] = {
		LD_W(SKF_AD_OFF + 100), RET(0),
	};
	static const struct sock_filter anc_ind[] = {
		INSN(BPF_LD | BPF_W | BPF_IND, 0, 0, SKF_AD_OFF + 100), RET(0),
	};
	static const struct sock_filter ok[] = { RET(0xffff) };
	static struct sock_filter big[BPF_MAXINSNS + 1];
	struct sock_fprog p;
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	ATTACH(t, u, bad_code);
	ATTACH(t, u, ld_h_imm);
	ATTACH(t, u, jump_out);
	ATTACH(t, u, ja_out);
	ATTACH(t, u, div_k0);
	ATTACH(t, u, mod_k0);
	ATTACH(t, u, lsh32);
	ATTACH(t, u, mem16);
	ATTACH(t, u, mem_unset);
	ATTACH(t, u, mem_one_path);
	ATTACH(t, u, mem_both_paths);
	ATTACH(t, u, no_ret);
	ATTACH(t, u, anc_unknown);
	ATTACH(t, u, anc_ind);
	for (size_t i = 0; i < BPF_MAXINSNS + 1; i++)
		big[i] = RET(0xffff);
	attach(t, u, big, BPF_MAXINSNS);
	attach(t, u, big, BPF_MAXINSNS + 1);
	attach(t, u, ok, 0);
	attach(t, u, NULL, 1);
	memset(&p, 0, sizeof(p));
	p.len = 1;
	p.filter = (struct sock_filter *)ok;
	dt_setsockopt(t, u, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof(p) - 1);
	dt_setsockopt(t, u, SOL_SOCKET, SO_ATTACH_FILTER, &p, 4);
	dt_close(t, u);
}

/* SO_GET_FILTER (in instructions: 0 to ask, too few is EINVAL),
 * SO_DETACH_FILTER (ENOENT without one), SO_LOCK_FILTER (then EPERM to
 * attach, detach or unlock), on UDP, ping and TCP sockets; a listener's
 * child has its program. */
static void case_filter_options(struct dt *t)
{
	static const struct sock_filter prog[] = {
		LD_B(8), JEQ('a', 0, 1), RET(0xffff), RET(0),
	};
	static const struct sock_filter keep[] = { RET(0xffff) };
	struct sockaddr_in a = dt_sin("127.0.0.1", 7403);
	struct sock_filter got[8];
	socklen_t len;
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	int l = dt_tcp_listener(t, 7403);
	int c, s;

	len = sizeof(got);
	dt_getsockopt(t, u, SOL_SOCKET, SO_GET_FILTER, got, &len);
	detach(t, u);
	ATTACH(t, u, prog);
	len = 0;
	dt_getsockopt(t, u, SOL_SOCKET, SO_GET_FILTER, got, &len);
	len = 3;
	dt_getsockopt(t, u, SOL_SOCKET, SO_GET_FILTER, got, &len);
	len = 4;
	dt_getsockopt(t, u, SOL_SOCKET, SO_GET_FILTER, got, &len);
	len = 8;
	dt_getsockopt(t, u, SOL_SOCKET, SO_GET_FILTER, got, &len);
	dt_note(t, "same program: %d", !memcmp(got, prog, sizeof(prog)));
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_LOCK_FILTER, 1);
	ATTACH(t, u, prog);
	detach(t, u);
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_LOCK_FILTER, 0);
	dt_getsockopt_int(t, u, SOL_SOCKET, SO_LOCK_FILTER);
	dt_setsockopt_int(t, u, SOL_SOCKET, SO_LOCK_FILTER, 1);
	/* A listener's program, shared by what it accepts. */
	ATTACH(t, l, keep);
	c = dt_socket(t, AF_INET, SOCK_STREAM, 0);
	dt_connect(t, c, &a, sizeof(a));
	s = dt_accept(t, l, NULL, NULL);
	len = 8;
	dt_getsockopt(t, s, SOL_SOCKET, SO_GET_FILTER, got, &len);
	detach(t, l);
	len = 8;
	dt_getsockopt(t, s, SOL_SOCKET, SO_GET_FILTER, got, &len);
	detach(t, s);
	detach(t, s);
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, l);
	dt_close(t, u);
}

/* TCP: a program that keeps 5 bytes of payload (from the header's own
 * length): the reader gets them, the rest comes again, cut too. One that
 * drops everything on a listener leaves a connect() without an answer. */
static void case_filter_tcp(struct dt *t)
{
	static const struct sock_filter five[] = {
		LD_B(12), INSN(BPF_ALU | BPF_RSH | BPF_K, 0, 0, 2),
		INSN(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0x3c), ADD(5), RET_A,
	};
	static const struct sock_filter none[] = { RET(0) };
	struct sockaddr_in a = dt_sin("127.0.0.1", 7405);
	char buf[64];
	int l, c, s, c2;

	dt_tcp_pair(t, 7404, &l, &c, &s);
	ATTACH(t, s, five);
	dt_send(t, c, "hello world", 11, 0);
	usleep(50000);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	drops(t, s);
	detach(t, s);
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, l);
	l = dt_tcp_listener(t, 7405);
	ATTACH(t, l, none);
	c2 = dt_socket(t, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	dt_connect(t, c2, &a, sizeof(a));
	usleep(50000);
	drops(t, l);
	dt_getsockopt_int(t, c2, SOL_SOCKET, SO_ERROR);
	dt_close(t, c2);
	dt_close(t, l);
}

/* A ping socket's program sees the ICMP header at 0: an echo reply kept
 * whole, cut to 10 bytes, or dropped. */
static void case_filter_ping(struct dt *t)
{
	static const struct sock_filter reply_only[] = {
		LD_B(0), JEQ(ICMP_ECHOREPLY, 0, 1), RET(10), RET(0),
	};
	static const struct sock_filter none[] = { RET(0) };
	unsigned char echo[16] = { ICMP_ECHO, 0, 0, 0, 0, 0, 0, 1,
				   'p', 'i', 'n', 'g', 'p', 'i', 'n', 'g' };
	struct sockaddr_in to = dt_sin("127.0.0.1", 0);
	struct sockaddr_in id = dt_sin("0.0.0.0", 0);
	int p;

	p = dt_ping_socket(t);
	id.sin_port = htons(4321);   /* (the echo's identifier) */
	dt_bind(t, p, &id, sizeof(id));
	ATTACH(t, p, reply_only);
	dt_sendto(t, p, echo, sizeof(echo), 0, &to, sizeof(to));
	usleep(20000);
	dt_recvmsg_noted(t, p, MSG_DONTWAIT, 64, 0);
	ATTACH(t, p, none);
	dt_sendto(t, p, echo, sizeof(echo), 0, &to, sizeof(to));
	usleep(20000);
	dt_recvmsg_noted(t, p, MSG_DONTWAIT, 64, 0);
	drops(t, p);
	dt_close(t, p);
}

/* SKF_AD_PAY_OFFSET on TCP: past the header and its options, so that
 * 10 more keeps 10 bytes of a segment's payload. */
static void case_filter_tcp_pay_offset(struct dt *t)
{
	static const struct sock_filter poff0[] = {
		LD_W(SKF_AD_OFF + SKF_AD_PAY_OFFSET), ADD(10), RET_A,
	};
	static char data[200];
	char buf[256];
	int l, c, s;

	memset(data, 'x', sizeof(data));
	dt_tcp_pair(t, 7409, &l, &c, &s);
	ATTACH(t, s, poff0);
	dt_send(t, c, data, 100, 0);
	usleep(50000);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_close(t, c);
	dt_close(t, s);
	dt_close(t, l);
}

/*
 * A listener's filter that takes SYNs only (helper-91's case): the ACK
 * that would end the handshake is dropped, and counted on the listener;
 * once the filter is gone, the SYN-ACK sent again ends it, and the child
 * has the listener's filter as it is then (none). Data and a FIN in one
 * segment, cut to 4 bytes: those, then the end.
 */
static void case_filter_tcp_handshake(struct dt *t)
{
	static const struct sock_filter syn_only[] = {
		LD_B(13), INSN(BPF_JMP | BPF_JSET | BPF_K, 0, 1, 0x02),
		RET(0xffff), RET(0),
	};
	static const struct sock_filter four[] = {
		LD_B(12), INSN(BPF_ALU | BPF_RSH | BPF_K, 0, 0, 2),
		INSN(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0x3c), ADD(4), RET_A,
	};
	static char data[100];
	struct sockaddr_in a = dt_sin("127.0.0.1", 7406);
	struct sock_filter got[8];
	socklen_t len;
	char buf[256];
	int l, c, s;

	dt_run_timers(t);
	l = dt_tcp_listener(t, 7406);
	ATTACH(t, l, syn_only);
	c = dt_socket(t, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	dt_connect(t, c, &a, sizeof(a));
	usleep(100000);
	drops(t, l);
	detach(t, l);
	usleep(2500000);   /* (the SYN-ACK goes again after 1 s) */
	dt_fcntl(t, l, F_SETFL, O_NONBLOCK);
	s = dt_accept(t, l, NULL, NULL);
	len = 8;
	dt_getsockopt(t, s, SOL_SOCKET, SO_GET_FILTER, got, &len);
	ATTACH(t, s, four);
	memset(data, 'y', sizeof(data));
	dt_setsockopt_int(t, c, IPPROTO_TCP, TCP_CORK, 1);
	dt_send(t, c, data, 100, 0);
	dt_shutdown(t, c, SHUT_WR);
	usleep(100000);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_recv(t, s, buf, sizeof(buf), MSG_DONTWAIT);
	dt_close(t, s);
	dt_close(t, c);
	dt_close(t, l);
}

/* SO_ATTACH_REUSEPORT_CBPF with the program given. */
#define ATTACH_RP(t, fd, insns) attach_rp(t, fd, insns, \
					  sizeof(insns) / sizeof((insns)[0]))

static int attach_rp(struct dt *t, int fd, const struct sock_filter *insns,
		     unsigned short n)
{
	struct sock_fprog prog;

	memset(&prog, 0, sizeof(prog));
	prog.len = n;
	prog.filter = (struct sock_filter *)insns;
	return dt_setsockopt(t, fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF,
			     &prog, sizeof(prog));
}

static int udp_reuseport(struct dt *t, uint16_t port)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", port);
	int s = dt_socket(t, AF_INET, SOCK_DGRAM, 0);

	dt_setsockopt_int(t, s, SOL_SOCKET, SO_REUSEPORT, 1);
	dt_bind(t, s, &a, sizeof(a));
	return s;
}

/* A datagram whose first byte is `first` to port, then which of the n
 * sockets has it. */
static void which_gets(struct dt *t, int u, const struct sockaddr_in *to,
		       char first, const int *socks, int n)
{
	char buf[8] = { first, 'x' };

	dt_sendto(t, u, buf, 2, 0, to, sizeof(*to));
	usleep(20000);
	for (int i = 0; i < n; i++)
		dt_recv(t, socks[i], buf, sizeof(buf), MSG_DONTWAIT);
}

/*
 * SO_ATTACH_REUSEPORT_CBPF on UDP (Linux's sk_reuseport_attach_filter,
 * reuseport_select_sock): the group's program runs on the payload (the
 * UDP header pulled) and its value picks the socket by its place in the
 * group, in the order they joined; a socket that leaves gives its place
 * to the last one. Detaching (SO_DETACH_REUSEPORT_BPF) and the errors.
 */
static void case_reuseport_cbpf_udp(struct dt *t)
{
	static const struct sock_filter first_byte[] = { LD_B(0), RET_A };
	static const struct sock_filter bad[] = { LD_B(0) };
	struct sockaddr_in to = dt_sin("127.0.0.1", 7420);
	struct sockaddr_in other = dt_sin("127.0.0.1", 7421);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0), socks[4], n, x;

	for (n = 0; n < 3; n++)
		socks[n] = udp_reuseport(t, 7420);
	dt_setsockopt_int(t, socks[0], SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, 0);
	ATTACH_RP(t, socks[1], bad);
	ATTACH_RP(t, socks[1], first_byte);
	for (char c = 0; c < 3; c++)
		which_gets(t, u, &to, c, socks, n);
	dt_close(t, socks[0]);
	socks[0] = socks[2];
	n = 2;
	which_gets(t, u, &to, 0, socks, n);
	which_gets(t, u, &to, 1, socks, n);
	socks[n++] = udp_reuseport(t, 7420);
	which_gets(t, u, &to, 2, socks, n);
	dt_setsockopt_int(t, socks[1], SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, 0);
	dt_setsockopt_int(t, socks[1], SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, 0);
	/* Without SO_REUSEPORT: EINVAL, bound or not; unbound with it: a
	 * group of its own. */
	x = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	ATTACH_RP(t, x, first_byte);
	dt_setsockopt_int(t, x, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, 0);
	dt_bind(t, x, &other, sizeof(other));
	ATTACH_RP(t, x, first_byte);
	x = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	dt_setsockopt_int(t, x, SOL_SOCKET, SO_REUSEPORT, 1);
	ATTACH_RP(t, x, first_byte);
	dt_setsockopt_int(t, x, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, 0);
	dt_setsockopt_int(t, x, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, 0);
	dt_setsockopt(t, x, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, first_byte,
		      4);
	dt_getsockopt_int(t, x, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF);
}

/* A non-blocking TCP listener on a with SO_REUSEPORT. */
static int tcp_reuseport(struct dt *t, const struct sockaddr_in *a,
			 int backlog)
{
	int l = dt_socket(t, AF_INET, SOCK_STREAM, 0);

	dt_setsockopt_int(t, l, SOL_SOCKET, SO_REUSEPORT, 1);
	dt_bind(t, l, a, sizeof(*a));
	dt_listen(t, l, backlog);
	dt_fcntl(t, l, F_SETFL, O_NONBLOCK);
	return l;
}

/* n flows of `per` datagrams to `to`, each from a socket of its own (not
 * in the transcript: their ports differ between the sides); got[i]: the
 * datagrams the UDP socket u[i] of two took. True when each flow went to
 * one socket. */
static bool udp_flows(struct dt *t, const struct sockaddr_in *to,
		      const int *u, int n, int per, int *got)
{
	bool same = true;
	char buf[8];

	got[0] = got[1] = 0;
	for (int f = 0; f < n; f++) {
		int c = dt_ct(t)->socket(AF_INET, SOCK_DGRAM, 0), first = -1;

		for (int k = 0; k < per; k++)
			dt_ct(t)->sendto(c, "x", 1, 0,
					 (const struct sockaddr *)to,
					 sizeof(*to));
		usleep(5000);
		for (int i = 0; i < 2; i++)
			while (dt_ct(t)->recv(u[i], buf, sizeof(buf),
					      MSG_DONTWAIT) == 1) {
				got[i]++;
				if (first >= 0 && first != i)
					same = false;
				first = i;
			}
		dt_ct(t)->close(c);
	}
	return same;
}

/* A connection to a, then which of the n (non-blocking) listeners
 * accepts it. */
static void which_accepts(struct dt *t, const struct sockaddr_in *a,
			  const int *l, int n)
{
	int c = dt_socket(t, AF_INET, SOCK_STREAM, 0);

	dt_connect(t, c, a, sizeof(*a));
	usleep(20000);
	for (int i = 0; i < n; i++) {
		int s = dt_accept(t, l[i], NULL, NULL);

		if (s >= 0)
			dt_close(t, s);
	}
	dt_close(t, c);
}

/* On TCP listeners: the program sees the SYN's payload (none: a load
 * gives 0), so a constant picks the listener; a later program replaces
 * the group's. */
static void case_reuseport_cbpf_tcp(struct dt *t)
{
	static const struct sock_filter one[] = { RET(1) };
	static const struct sock_filter load[] = { LD_B(0), RET_A };
	struct sockaddr_in a = dt_sin("127.0.0.1", 7422);
	int l[2];

	for (int i = 0; i < 2; i++)
		l[i] = tcp_reuseport(t, &a, 8);
	for (int k = 0; k < 2; k++) {
		if (k == 0)
			ATTACH_RP(t, l[0], one);
		else
			ATTACH_RP(t, l[1], load);
		for (int n = 0; n < 3; n++)
			which_accepts(t, &a, l, 2);
	}
}

/*
 * Without a program the group spreads connections and datagrams by a
 * hash of the flow (Linux's reuseport_select_sock_by_hash): of 24 flows
 * to two sockets each gets some (both sides: all to one has a chance of
 * 2^-23), and a flow's datagrams stay with one socket.
 */
static void case_reuseport_hash(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 7423);
	struct sockaddr_in to = dt_sin("127.0.0.1", 7424);
	int l[2], u[2], got[2] = { 0, 0 }, same;

	for (int i = 0; i < 2; i++) {
		l[i] = tcp_reuseport(t, &a, 64);
		u[i] = udp_reuseport(t, 7424);
	}
	for (int n = 0; n < 24; n++) {
		int c = dt_ct(t)->socket(AF_INET, SOCK_STREAM, 0);

		dt_ct(t)->connect(c, (struct sockaddr *)&a, sizeof(a));
		usleep(5000);
		for (int i = 0; i < 2; i++) {
			int s = dt_ct(t)->accept(l[i], NULL, NULL);

			if (s >= 0) {
				got[i]++;
				dt_ct(t)->close(s);
			}
		}
		dt_ct(t)->close(c);
	}
	dt_note(t, "TCP: 24 connections, all accepted %d, both listeners %d",
		got[0] + got[1] == 24, got[0] > 0 && got[1] > 0);
	same = udp_flows(t, &to, u, 24, 2, got);
	dt_note(t, "UDP: 24 flows of 2, all in %d, both sockets %d, each "
		"flow to one %d", got[0] + got[1] == 48,
		got[0] > 0 && got[1] > 0, same);
}

/*
 * A member that SO_BINDTODEVICE binds after bind leaves its UDP group
 * (Linux's sock_bindtoindex -> udp_lib_rehash -> reuseport_detach_sock):
 * the group's program, which picks its first socket, no longer speaks
 * for it, and the datagrams go to it, the better match (bound to lo).
 * Once it is closed, one that joins takes the second place.
 */
static void case_reuseport_bindtodevice(struct dt *t)
{
	static const struct sock_filter zero[] = { RET(0) };
	static const struct sock_filter one[] = { RET(1) };
	struct sockaddr_in to = dt_sin("127.0.0.1", 7425);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0), socks[3];

	for (int i = 0; i < 2; i++)
		socks[i] = udp_reuseport(t, 7425);
	ATTACH_RP(t, socks[0], zero);
	which_gets(t, u, &to, 0, socks, 2);
	dt_setsockopt(t, socks[1], SOL_SOCKET, SO_BINDTODEVICE, "lo", 3);
	which_gets(t, u, &to, 1, socks, 2);
	dt_close(t, socks[1]);
	socks[1] = udp_reuseport(t, 7425);
	ATTACH_RP(t, socks[1], one);
	which_gets(t, u, &to, 2, socks, 2);
}

/*
 * SO_REUSEPORT set on a socket after its bind: a later socket that binds
 * with it joins a group made for the first (Linux's reuseport_add_sock
 * allocates sk2's group when it has none), the first in place 0.
 */
static void case_reuseport_set_late(struct dt *t)
{
	static const struct sock_filter zero[] = { RET(0) };
	static const struct sock_filter one[] = { RET(1) };
	struct sockaddr_in to = dt_sin("127.0.0.1", 7426);
	struct sockaddr_in a = dt_sin("127.0.0.1", 7427);
	int u = dt_socket(t, AF_INET, SOCK_DGRAM, 0), socks[2], l[2];

	socks[0] = dt_socket(t, AF_INET, SOCK_DGRAM, 0);
	dt_bind(t, socks[0], &to, sizeof(to));
	dt_setsockopt_int(t, socks[0], SOL_SOCKET, SO_REUSEPORT, 1);
	socks[1] = udp_reuseport(t, 7426);
	ATTACH_RP(t, socks[1], zero);
	for (char c = 0; c < 4; c++)
		which_gets(t, u, &to, c, socks, 2);
	ATTACH_RP(t, socks[0], one);
	for (char c = 4; c < 8; c++)
		which_gets(t, u, &to, c, socks, 2);
	/* TCP listeners likewise, at listen(). */
	for (int i = 0; i < 2; i++) {
		l[i] = dt_socket(t, AF_INET, SOCK_STREAM, 0);
		if (i)
			dt_setsockopt_int(t, l[i], SOL_SOCKET, SO_REUSEPORT, 1);
		dt_bind(t, l[i], &a, sizeof(a));
		dt_listen(t, l[i], 8);
		dt_fcntl(t, l[i], F_SETFL, O_NONBLOCK);
		if (!i)
			dt_setsockopt_int(t, l[i], SOL_SOCKET, SO_REUSEPORT, 1);
	}
	ATTACH_RP(t, l[1], zero);
	for (int n = 0; n < 3; n++)
		which_accepts(t, &a, l, 2);
}

/*
 * SO_INCOMING_CPU steers a group (Linux's reuseport_select_sock_by_hash,
 * compute_score): with the process on CPU 0, where both stacks then take
 * its loopback packets, every flow goes to the member whose
 * SO_INCOMING_CPU is 0, none to the one whose is 1 (UDP datagrams from 8
 * sockets, 8 TCP connections).
 */
static void case_reuseport_incoming_cpu(struct dt *t)
{
	struct sockaddr_in a = dt_sin("127.0.0.1", 7425);
	struct sockaddr_in to = dt_sin("127.0.0.1", 7426);
	int l[2], u[2], got[2];
	cpu_set_t old, one;

	CPU_ZERO(&one);
	CPU_SET(0, &one);
	if (sched_getaffinity(0, sizeof(old), &old) < 0 ||
	    sched_setaffinity(0, sizeof(one), &one) < 0) {
		dt_note(t, "not run: this process may not run on CPU 0");
		return;
	}
	for (int i = 0; i < 2; i++) {
		l[i] = tcp_reuseport(t, &a, 64);
		dt_setsockopt_int(t, l[i], SOL_SOCKET, SO_INCOMING_CPU, !i);
		u[i] = udp_reuseport(t, 7426);
		dt_setsockopt_int(t, u[i], SOL_SOCKET, SO_INCOMING_CPU, !i);
	}
	for (int n = 0; n < 8; n++)
		which_accepts(t, &a, l, 2);
	udp_flows(t, &to, u, 8, 1, got);
	dt_note(t, "UDP: to the CPU 1 socket %d, to the CPU 0 socket %d",
		got[0], got[1]);
	sched_setaffinity(0, sizeof(old), &old);
}

static const struct dt_case cases[] = {
	DT_CASE(case_reuseport_incoming_cpu),
	DT_CASE(case_reuseport_cbpf_udp),
	DT_CASE(case_reuseport_cbpf_tcp),
	DT_CASE(case_reuseport_hash),
	DT_CASE(case_reuseport_bindtodevice),
	DT_CASE(case_reuseport_set_late),
	DT_CASE(case_filter_tcp_handshake),
	DT_CASE(case_filter_udp_verdicts),
	DT_CASE(case_filter_udp_loads),
	DT_CASE(case_filter_checks),
	DT_CASE(case_filter_options),
	DT_CASE(case_filter_tcp),
	DT_CASE(case_filter_tcp_pay_offset),
	DT_CASE(case_filter_ping),
};

int main(void)
{
	return dt_main("diff_filter", cases, sizeof(cases) / sizeof(cases[0]));
}
