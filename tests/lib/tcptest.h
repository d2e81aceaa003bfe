/*
 * tcptest.h - TCP unit-test kit: a simulated peer that crafts IPv4+TCP
 * segments (any flags, numbers, options, payload; correct checksums unless
 * asked otherwise) and injects them into a test stack on the layer-3 test
 * device, a checker that parses what the stack sent (ts_pop_tx) and asserts
 * its fields, and fixtures that drive a real connection into each RFC 9293
 * state with crafted peer segments (never by poking state).
 *
 * The stack is 10.0.0.2/24, the peer 10.0.0.1. Sockets are nonblocking:
 * no runtime thread runs, and every API call runs the stack's pending work
 * before it returns, so a segment the call causes is in the tx queue when
 * it returns.
 *
 *   struct test_stack t; struct tt_conn c;
 *   tt_stack_init(&t);
 *   tt_conn_init(&c, &t, true);         // active open (connect)
 *   tt_open(&c);                        // ESTABLISHED
 *   tt_peer(&c, TCPHDR_ACK, "hi", 2);   // seq snd_nxt, ack rcv_nxt
 *   TT_EXPECT_ACK(&c);                  // the stack's ACK of it
 *
 * Include after <cmocka.h>.
 */
#ifndef US_TESTS_TCPTEST_H
#define US_TESTS_TCPTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "testnet.h"
#include "net/ipv4.h"
#include "net/tcp/tcp.h"

#define TT_US "10.0.0.2"
#define TT_PEER "10.0.0.1"
#define TT_MAX_DATA 4096     /* payload bytes a tt_seg keeps */

/* A segment the stack sent, parsed. */
struct tt_seg {
	struct ipv4_info ip;
	struct tcp_seg th;       /* fixed header and options */
	uint32_t len;            /* payload bytes */
	uint8_t data[TT_MAX_DATA];
};

/* A segment to inject. Addresses network order, the rest host order. */
struct tt_out {
	uint32_t saddr, daddr;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opt;      /* option bytes, a multiple of 4 */
	size_t optlen;
	const void *data;
	size_t len;
	int doff_words;          /* nonzero: write this data offset instead */
	bool bad_csum;           /* flip a checksum bit */
	uint16_t urg_ptr;        /* the urgent pointer field */
};

/* One connection as the simulated peer sees it. */
struct tt_conn {
	struct test_stack *t;
	bool active;             /* the stack connects (else it listens) */
	uint32_t us_addr, peer_addr;   /* network order */
	uint16_t us_port, peer_port;   /* host order; us_port 0 = ephemeral */
	int fd;                  /* the connection's descriptor, or -1 */
	int lfd;                 /* the listener (passive), or -1 */
	int backlog;             /* listen() backlog for tt_open */
	uint32_t iss;            /* the stack's initial sequence number */
	uint32_t irs;            /* the peer's */
	uint32_t snd_nxt;        /* next sequence number the peer sends */
	uint32_t rcv_nxt;        /* next one it expects (what it ACKs) */
	uint16_t win;            /* window the peer advertises */
	uint16_t mss;            /* MSS option of the peer's SYN, 0 = none */
	bool sack_perm;          /* the peer's SYN offers SACK (RFC 2018) */
};

void tt_stack_init(struct test_stack *t);

/* Defaults: passive listens on 8080 (peer 10.0.0.1:40000), active connects
 * to 10.0.0.1:80; peer ISN 0x10000000, window 65535, MSS 1460. */
void tt_conn_init(struct tt_conn *c, struct test_stack *t, bool active);

/* Build IPv4 + TCP into buf (at least 60 + 20 + 60 + len bytes). */
size_t tt_build(uint8_t *buf, const struct tt_out *o);
/* Inject it; on an Ethernet test device (ts_init) in a frame from the
 * peer's MAC. */
void tt_inject(struct test_stack *t, const struct tt_out *o);
/* A segment on c's four-tuple from the peer, window c->win. */
void tt_send(struct tt_conn *c, uint8_t flags, uint32_t seq, uint32_t ack,
	     const void *data, size_t len);
/* The same with options. */
void tt_send_opt(struct tt_conn *c, uint8_t flags, uint32_t seq, uint32_t ack,
		 const uint8_t *opt, size_t optlen, const void *data,
		 size_t len);
/* An ICMP error (type, code; mtu for "fragmentation needed") from the
 * peer, quoting the IP header and first 8 bytes (ports, seq) of a
 * 1500-byte segment the stack sent it. */
void tt_icmp_about(const struct tt_conn *c, uint32_t seq, uint8_t type,
		   uint8_t code, uint16_t mtu);
/* An ACK of `ack` with n SACK blocks {start, end}, all relative to the
 * stack's ISS + 1 (RFC 2018 §3: NOP, NOP, the option). */
void tt_send_sack(struct tt_conn *c, uint32_t ack, const uint32_t (*b)[2],
		  int n);
/* The peer's next segment: seq c->snd_nxt, ack c->rcv_nxt; advances
 * c->snd_nxt over the data, SYN and FIN. */
void tt_peer(struct tt_conn *c, uint8_t flags, const void *data, size_t len);
/* An out-of-order segment: at c->snd_nxt + off, snd_nxt unchanged. */
void tt_peer_at(struct tt_conn *c, uint32_t off, uint8_t flags,
		const void *data, size_t len);

/* The next segment the stack sent, parsed and checked (IPv4 header,
 * protocol, lengths, TCP checksum; on an Ethernet test device, a frame to
 * the peer's MAC); false when there is none. */
bool tt_pop(struct test_stack *t, struct tt_seg *s);

/* Checks; a failure names the caller's line. Each returns the segment
 * (static storage, valid until the next check). flags are compared
 * exactly; seq always; ack when ACK is set. */
const struct tt_seg *tt_expect_(struct tt_conn *c, uint8_t flags, uint32_t seq,
				uint32_t ack, const char *file, int line);
#define TT_EXPECT(c, flags, seq, ack) \
	tt_expect_((c), (flags), (seq), (ack), __FILE__, __LINE__)
/* A bare ACK: seq c->rcv_nxt, ack c->snd_nxt, no payload. */
const struct tt_seg *tt_expect_ack_(struct tt_conn *c, const char *file,
				    int line);
#define TT_EXPECT_ACK(c) tt_expect_ack_((c), __FILE__, __LINE__)
/* Data at seq (PSH ignored), ack c->snd_nxt, len bytes. */
const struct tt_seg *tt_expect_data_(struct tt_conn *c, uint32_t seq,
				     uint32_t len, const char *file, int line);
#define TT_EXPECT_DATA(c, seq, len) \
	tt_expect_data_((c), (seq), (len), __FILE__, __LINE__)
void tt_expect_none_(struct test_stack *t, const char *file, int line);
#define TT_EXPECT_NONE(t) tt_expect_none_((t), __FILE__, __LINE__)

/* Socket-side observations. */
int tt_state(int fd);                  /* TCP_INFO's tcpi_state */
/* The state of c's connection in the stack's tables (for orphans too),
 * or -1 when no connection has c's four-tuple. */
int tt_conn_state(struct tt_conn *c);
int tt_so_error(int fd);               /* SO_ERROR, which clears it */
uint32_t tt_poll(int fd);              /* the socket's poll mask */
struct sock *tt_sk(int fd);            /* the socket's sock, to look inside */
uint64_t tt_drops(struct test_stack *t, enum us_drop_reason r);
uint64_t tt_mib(struct test_stack *t, enum us_mib m);
/* TCP_INFO of fd. */
void tt_info(int fd, struct tcp_info *ti);

/* ---- fixtures: each asserts the state it reaches ------------------------ */

/* A nonblocking listener on 0.0.0.0:port. */
int tt_listen(struct test_stack *t, uint16_t port, int backlog);
/* Passive: (listen if c->lfd < 0,) the peer's SYN, the SYN-ACK checked;
 * the child is in SYN_RECV. Returns the SYN-ACK. */
const struct tt_seg *tt_open_synrecv(struct tt_conn *c);
/* Active: connect (c->fd made if < 0) and the SYN checked; SYN_SENT.
 * Returns the SYN. */
const struct tt_seg *tt_open_synsent(struct tt_conn *c);
/* Either way to ESTABLISHED (passive: accepted, c->fd set). */
void tt_open(struct tt_conn *c);
/* ESTABLISHED -> FIN_WAIT1 by close() (orphan: c->fd = -1) or
 * shutdown(SHUT_WR); the FIN checked, c->rcv_nxt past it. */
void tt_to_fin_wait1(struct tt_conn *c, bool orphan);
/* ... -> FIN_WAIT2: the peer ACKs our FIN. */
void tt_to_fin_wait2(struct tt_conn *c, bool orphan);
/* ESTABLISHED -> CLOSE_WAIT: the peer's FIN, our ACK. */
void tt_to_close_wait(struct tt_conn *c);
/* CLOSE_WAIT -> LAST_ACK by close() or shutdown(SHUT_WR). */
void tt_to_last_ack(struct tt_conn *c, bool orphan);
/* FIN_WAIT1 -> CLOSING: the peer's FIN does not ACK ours. */
void tt_to_closing(struct tt_conn *c, bool orphan);
/* FIN_WAIT2 -> TIME_WAIT: the peer's FIN. */
void tt_to_time_wait(struct tt_conn *c, bool orphan);

/* RFC 9293 state names, for messages. */
const char *tt_state_name(int state);

#endif
