/*
 * test_tcp_ts.c - RFC 7323 against crafted peer segments in virtual time:
 * window scale negotiation (offered, not offered, a shift above 14
 * clamped, the sysctls off), scaled windows both ways, timestamps (the
 * SYN's and SYN-ACK's echo, the TS.Recent rules of §4.3 for delayed and
 * out-of-order ACKs), PAWS (§5.3: the rejection, its ACK and counters, a
 * RST let through, the 24-day rule) and RTT samples from the echo (§4.2),
 * also for retransmitted data where Karn's rule gives none without
 * timestamps; Eifel detection (RFC 3522 §2, tcp_undo.c: a timeout undone
 * when the ACK echoes the original's TSval, not when it echoes the
 * retransmission's); the buffer autotuning's sysctls.
 *
 * The stack is 10.0.0.2; the peer 10.0.0.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/tcp.h>
#include <string.h>

#include "lib/tcptest.h"
#include "ustack/ustack.h"

static struct test_stack T;
static uint8_t BUF[20000];
static bool peer_sack;   /* the peer's SYN or SYN-ACK offers SACK */

static int setup(void **state)
{
	*state = &T;
	tt_stack_init(&T);
	peer_sack = false;
	for (size_t i = 0; i < sizeof(BUF); i++)
		BUF[i] = (uint8_t)(i * 13 + 1);
	return 0;
}

/* ---- building the peer's options ----------------------------------------- */

static size_t put_ts(uint8_t *p, uint32_t tsval, uint32_t tsecr)
{
	p[0] = TCPOPT_NOP;
	p[1] = TCPOPT_NOP;
	p[2] = TCPOPT_TIMESTAMP;
	p[3] = TCPOLEN_TIMESTAMP;
	for (int i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(tsval >> (24 - 8 * i));
		p[8 + i] = (uint8_t)(tsecr >> (24 - 8 * i));
	}
	return 12;
}

/* A SYN's options: MSS 1460, timestamps if ts, window scale ws if >= 0,
 * SACK-permitted if peer_sack. */
static size_t syn_opts(uint8_t *p, bool ts, uint32_t tsval, uint32_t tsecr,
		       int ws)
{
	size_t n = 0;

	if (peer_sack) {
		p[n++] = TCPOPT_NOP;
		p[n++] = TCPOPT_NOP;
		p[n++] = TCPOPT_SACK_PERM;
		p[n++] = TCPOLEN_SACK_PERM;
	}

	p[n++] = TCPOPT_MSS;
	p[n++] = TCPOLEN_MSS;
	p[n++] = 1460 >> 8;
	p[n++] = 1460 & 0xff;
	if (ts)
		n += put_ts(p + n, tsval, tsecr);
	if (ws >= 0) {
		p[n++] = TCPOPT_NOP;
		p[n++] = TCPOPT_WINDOW;
		p[n++] = TCPOLEN_WINDOW;
		p[n++] = (uint8_t)ws;
	}
	return n;
}

/* The peer's next segment with a timestamp option. */
static void peer_ts(struct tt_conn *c, uint8_t flags, uint32_t tsval,
		    uint32_t tsecr, const void *data, size_t len)
{
	uint8_t opt[12];

	tt_send_opt(c, flags, c->snd_nxt, c->rcv_nxt, opt,
		    put_ts(opt, tsval, tsecr), data, len);
	c->snd_nxt += (uint32_t)len;
}

static void set_sysctl(const char *name, const char *val)
{
	assert_int_equal(ustack_sysctl_set(T.st, name, val), 0);
}

/*
 * Active open; the SYN-ACK comes 100 ms after the SYN with the given
 * options (ws < 0: none). Returns the TSval of our SYN. ESTABLISHED, our
 * ACK checked.
 */
static uint32_t open_active(struct tt_conn *c, bool ts, int ws,
			    uint32_t peer_tsval)
{
	const struct tt_seg *s;
	uint8_t opt[40];
	uint32_t syn_tsval;

	tt_conn_init(c, &T, true);
	s = tt_open_synsent(c);
	assert_true(s->th.opts.ts_ok);
	syn_tsval = s->th.opts.tsval;
	ts_advance(&T, 100000);
	c->snd_nxt = c->irs + 1;
	tt_send_opt(c, TCPHDR_SYN | TCPHDR_ACK, c->irs, c->rcv_nxt, opt,
		    syn_opts(opt, ts, peer_tsval, syn_tsval, ws), NULL, 0);
	s = TT_EXPECT_ACK(c);
	assert_int_equal(s->th.opts.ts_ok, ts);
	if (ts)
		assert_int_equal(s->th.opts.tsecr, peer_tsval);
	return syn_tsval;
}

/* Passive open with a SYN carrying the given options; ESTABLISHED and
 * accepted. Returns the SYN-ACK's TSval (0 without timestamps). */
static uint32_t open_passive(struct tt_conn *c, bool ts, int ws,
			     uint32_t peer_tsval)
{
	static struct tt_seg syn_ack;
	const struct tt_seg *s;
	uint8_t opt[40];
	uint32_t tsval;

	tt_conn_init(c, &T, false);
	c->lfd = tt_listen(&T, c->us_port, 8);
	c->snd_nxt = c->irs + 1;
	tt_send_opt(c, TCPHDR_SYN, c->irs, 0, opt,
		    syn_opts(opt, ts, peer_tsval, 0, ws), NULL, 0);
	assert_true(tt_pop(&T, &syn_ack));
	s = &syn_ack;
	assert_int_equal(s->th.flags, TCPHDR_SYN | TCPHDR_ACK);
	assert_int_equal(s->th.ack, c->irs + 1);
	c->iss = s->th.seq;
	c->rcv_nxt = c->iss + 1;
	assert_int_equal(s->th.opts.ts_ok, ts);
	assert_int_equal(s->th.opts.ws_ok, ws >= 0);
	tsval = ts ? s->th.opts.tsval : 0;
	if (ts)
		assert_int_equal(s->th.opts.tsecr, peer_tsval);
	ts_advance(&T, 100000);
	if (ts)
		peer_ts(c, TCPHDR_ACK, peer_tsval + 1, tsval, NULL, 0);
	else
		tt_peer(c, TCPHDR_ACK, NULL, 0);
	c->fd = us_accept4(c->lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(c->fd >= 0);
	return tsval;
}

/* ---- window scale (RFC 7323 §2) ------------------------------------------ */

/*
 * Our SYN offers timestamps (TSecr 0, §3.2) and a shift chosen from the
 * largest buffer possible: tcp_rmem[2] = 32 MB gives 25 - 15 = 10, as
 * Linux 6.18 offers. Both sides agreed: TCP_INFO says so.
 */
static void test_wscale_negotiated_active(void **state)
{
	struct tt_conn c;
	struct tcp_info ti;
	const struct tt_seg *s;

	(void)state;
	tt_conn_init(&c, &T, true);
	s = tt_open_synsent(&c);
	assert_true(s->th.opts.ws_ok);
	assert_int_equal(s->th.opts.ws, 10);
	assert_true(s->th.opts.ts_ok);
	assert_int_equal(s->th.opts.tsecr, 0);
	/* A SYN's window is not scaled: 64 KB at most (RFC 7323 §2.2). */
	assert_int_equal(s->th.window, 64240);
	ts_destroy(&T);
	tt_stack_init(&T);

	open_active(&c, true, 7, 5000);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_options & (TCPI_OPT_WSCALE | TCPI_OPT_TIMESTAMPS),
			 TCPI_OPT_WSCALE | TCPI_OPT_TIMESTAMPS);
	assert_int_equal(ti.tcpi_snd_wscale, 7);
	assert_int_equal(ti.tcpi_rcv_wscale, 10);
}

/* The tcp_rmem maximum sets the shift: 1 MB -> 20 - 15 = 5. But never
 * less than net.core.rmem_max's (4 MB: 7), which SO_RCVBUF can reach. */
static void test_wscale_from_rmem_max(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;

	(void)state;
	set_sysctl("net.ipv4.tcp_rmem", "4096 131072 1048576");
	tt_conn_init(&c, &T, true);
	s = tt_open_synsent(&c);
	assert_int_equal(s->th.opts.ws, 7);
	set_sysctl("net.ipv4.tcp_rmem", "4096 131072 67108864");
	tt_conn_init(&c, &T, true);
	s = tt_open_synsent(&c);
	assert_int_equal(s->th.opts.ws, 11);
}

/* SO_RCVBUF before connect() fixes the buffer: the shift only covers it
 * (Linux: window_clamp = the full space). 32 KB -> 64 KB buffer -> 32 KB
 * window -> shift 0. */
static void test_wscale_so_rcvbuf(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;
	int v = 32768;

	(void)state;
	tt_conn_init(&c, &T, true);
	c.fd = us_socket_on(T.st, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(us_setsockopt(c.fd, SOL_SOCKET, SO_RCVBUF, &v,
				       sizeof(v)), 0);
	s = tt_open_synsent(&c);
	assert_true(s->th.opts.ws_ok);
	assert_int_equal(s->th.opts.ws, 0);
}

/* The peer's SYN-ACK without window scale: no scaling either way, our
 * windows stay within 16 bits unscaled and the peer's are taken as they
 * are (RFC 7323 §2.2). */
static void test_wscale_not_agreed(void **state)
{
	struct tt_conn c;
	struct tcp_info ti;
	const struct tt_seg *s;

	(void)state;
	open_active(&c, false, -1, 0);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_options & (TCPI_OPT_WSCALE | TCPI_OPT_TIMESTAMPS),
			 0);
	assert_int_equal(ti.tcpi_rcv_wscale, 0);
	/* Our own window, unscaled: the SYN's was 64240 (the free space in
	 * whole segments); what the buffer allows now (rcv_ssthresh, 65536
	 * less one segment, in segments of the peer's guessed size) is
	 * less, and the right edge does not move left: 64240 - 100. */
	tt_peer(&c, TCPHDR_ACK, BUF, 100);
	s = TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt, c.snd_nxt);
	assert_int_equal(s->th.window, 64240 - 100);
	/* Window 2000 unscaled: one full segment fits, not a second. */
	c.win = 2000;
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	assert_int_equal(us_send(c.fd, BUF, 3000, 0), 3000);
	s = TT_EXPECT_DATA(&c, c.rcv_nxt, 1460);
	assert_false(s->th.opts.ts_ok);
	TT_EXPECT_NONE(&T);
}

/* The peer asks for a shift of 15: RFC 7323 §2.3 says use 14. A passive
 * open answers window scale only when the SYN offered it. */
static void test_wscale_clamped_and_passive(void **state)
{
	struct tt_conn c;
	struct tcp_info ti;

	(void)state;
	open_passive(&c, true, 15, 700);
	tt_info(c.fd, &ti);
	assert_true(ti.tcpi_options & TCPI_OPT_WSCALE);
	assert_int_equal(ti.tcpi_snd_wscale, 14);
	assert_int_equal(ti.tcpi_rcv_wscale, 10);
	us_close(c.fd);
	us_close(c.lfd);
	ts_flush_tx(&T);
	ts_destroy(&T);
	tt_stack_init(&T);

	/* Timestamps but no window scale in the SYN: the SYN-ACK has only
	 * timestamps (checked in open_passive), and nothing is scaled. */
	open_passive(&c, true, -1, 700);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_options & (TCPI_OPT_WSCALE | TCPI_OPT_TIMESTAMPS),
			 TCPI_OPT_TIMESTAMPS);
	assert_int_equal(ti.tcpi_rcv_wscale, 0);
}

/* net.ipv4.tcp_window_scaling = 0 and tcp_timestamps = 0: the SYN offers
 * neither, and a SYN-ACK's are then not used. */
static void test_sysctls_off(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;
	struct tcp_info ti;
	uint8_t opt[40];

	(void)state;
	set_sysctl("net.ipv4.tcp_window_scaling", "0");
	set_sysctl("net.ipv4.tcp_timestamps", "0");
	tt_conn_init(&c, &T, true);
	s = tt_open_synsent(&c);
	/* MSS and NOP NOP SACK-permitted (tcp_sack stays on). */
	assert_int_equal(s->th.doff, 28);
	assert_false(s->th.opts.ws_ok || s->th.opts.ts_ok);
	c.snd_nxt = c.irs + 1;
	tt_send_opt(&c, TCPHDR_SYN | TCPHDR_ACK, c.irs, c.rcv_nxt, opt,
		    syn_opts(opt, true, 10, 0, 7), NULL, 0);
	s = TT_EXPECT_ACK(&c);
	assert_int_equal(s->th.doff, 20);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_options, 0);
}

/*
 * Scaled windows in both directions: the peer's field 1000 << 2 = 4000
 * bytes lets two full segments go and not a third; ours is the free
 * space (65536 bytes of a 128 KB buffer) >> 10 = 64, rounded up to the
 * scale unit so nothing is lost to the shift.
 */
static void test_scaled_windows(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;
	uint8_t opt[12];
	uint32_t una;

	(void)state;
	open_active(&c, true, 2, 100);
	una = c.rcv_nxt;
	c.win = 1000;
	peer_ts(&c, TCPHDR_ACK, 101, 0, NULL, 0);
	assert_int_equal(us_send(c.fd, BUF, 10000, 0), 10000);
	s = TT_EXPECT_DATA(&c, c.rcv_nxt, 1448);
	assert_true(s->th.opts.ts_ok);
	assert_int_equal(s->th.opts.tsecr, 101);
	c.rcv_nxt += 1448;
	TT_EXPECT_DATA(&c, c.rcv_nxt, 1448);
	c.rcv_nxt += 1448;
	TT_EXPECT_NONE(&T);
	/* A window of 2000 << 2 from the same SND.UNA opens room for
	 * 8000 - 2896 more: three segments. */
	c.win = 2000;
	tt_send_opt(&c, TCPHDR_ACK, c.snd_nxt, una, opt, put_ts(opt, 102, 0),
		    NULL, 0);
	for (int i = 0; i < 3; i++) {
		TT_EXPECT_DATA(&c, c.rcv_nxt, 1448);
		c.rcv_nxt += 1448;
	}
	TT_EXPECT_NONE(&T);

	tt_send_opt(&c, TCPHDR_ACK, c.snd_nxt, una, opt, put_ts(opt, 103, 0),
		    BUF, 1000);
	c.snd_nxt += 1000;
	s = TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt, c.snd_nxt);
	/* rcv_ssthresh (65536 less a segment of 1448: 64088, Linux's
	 * tcp_init_buffer_space) rounded up to the scale's unit, 64512,
	 * not the free space (Linux's __tcp_select_window). */
	assert_int_equal(s->th.window, 64512 / 1024);
}

/* ---- timestamps (RFC 7323 §3-§4) ------------------------------------------ */

/*
 * RFC 7323 §4.3: TS.Recent takes the TSval of a segment at or left of
 * Last.ACK.sent. A segment beyond a hole does not set it: the duplicate
 * ACK echoes the older value; the segment filling the hole sets it. A
 * delayed ACK of two segments echoes the earlier one's.
 */
static void test_ts_echo_rules(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;
	uint32_t base;

	(void)state;
	open_active(&c, true, 7, 1000);
	base = c.snd_nxt;
	c.snd_nxt = base + 100;
	peer_ts(&c, TCPHDR_ACK, 3000, 0, BUF + 100, 100);
	s = TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt, base);
	assert_int_equal(s->th.opts.tsecr, 1000);
	c.snd_nxt = base;
	peer_ts(&c, TCPHDR_ACK, 3001, 0, BUF, 100);
	c.snd_nxt = base + 200;
	s = TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt, c.snd_nxt);
	assert_int_equal(s->th.opts.tsecr, 3001);

	/* Leave quick-ACK mode (16 immediate ACKs from the first data in
	 * order, the fill, whose ACK took one, as Linux counts them), then
	 * two small segments share one delayed ACK: it echoes the first. */
	for (uint32_t i = 0; i < 15; i++) {
		peer_ts(&c, TCPHDR_ACK, 3002 + i, 0, BUF, 10);
		TT_EXPECT_ACK(&c);
	}
	peer_ts(&c, TCPHDR_ACK, 5000, 0, BUF, 10);
	peer_ts(&c, TCPHDR_ACK, 5001, 0, BUF, 10);
	TT_EXPECT_NONE(&T);
	ts_advance(&T, 40000);
	s = TT_EXPECT_ACK(&c);
	assert_int_equal(s->th.opts.tsecr, 5000);
}

/*
 * RFC 7323 §4.2 RTTM: the echo of our TSval dates what the ACK answers.
 * Handshake: SRTT 100 ms. Data, and an ACK 50 ms later: 93750. Then a
 * segment that times out and is sent again: the ACK of the
 * retransmission, 30 ms after it, gives a sample from its echo (SRTT
 * moves to (7 * 93750 + 30000) / 8), where Karn's rule gives none
 * without timestamps.
 */
static void test_rtt_from_timestamps(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;
	struct tcp_info ti;
	uint32_t tsval;

	(void)state;
	open_active(&c, true, 7, 1000);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_rtt, 100000);

	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	s = TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	tsval = s->th.opts.tsval;
	c.rcv_nxt += 100;
	ts_advance(&T, 50000);
	peer_ts(&c, TCPHDR_ACK, 1001, tsval, NULL, 0);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_rtt, 93750);

	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	ts_advance(&T, ti.tcpi_rto);
	s = TT_EXPECT_DATA(&c, c.rcv_nxt, 100);   /* the retransmission */
	tsval = s->th.opts.tsval;
	c.rcv_nxt += 100;
	ts_advance(&T, 30000);
	peer_ts(&c, TCPHDR_ACK, 1002, tsval, NULL, 0);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_rtt, (7 * 93750 + 30000) / 8);
	assert_int_equal(ti.tcpi_backoff, 0);
	/* The ACK's rate sample has it too (Linux's ca_rtt_us from the
	 * echo when Karn leaves no other): BBR's min_rtt hears of it. */
	assert_int_equal(T.st->tcp.rx.rs.rtt_us, 30000);
}

/* The same without timestamps: the retransmission's ACK gives no sample
 * (Karn, RFC 6298 §3), SRTT stays. The control for the test above. */
static void test_rtt_karn_without_timestamps(void **state)
{
	struct tt_conn c;
	struct tcp_info ti;

	(void)state;
	open_active(&c, false, 7, 0);
	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	tt_info(c.fd, &ti);
	ts_advance(&T, ti.tcpi_rto);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	c.rcv_nxt += 100;
	ts_advance(&T, 30000);
	tt_peer(&c, TCPHDR_ACK, NULL, 0);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_rtt, 100000);
}

/*
 * An ACK of retransmitted data that echoes the first transmission's TSval
 * (its answer came late: the peer's first ACK was lost and a later
 * segment made it ACK again with a TS.Recent nothing had replaced) gives
 * no sample: it would count the whole timeout as round-trip time.
 */
static void test_rtt_stale_echo_ignored(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;
	struct tcp_info ti;
	uint32_t first;

	(void)state;
	open_active(&c, true, 7, 1000);
	assert_int_equal(us_send(c.fd, BUF, 100, 0), 100);
	s = TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	first = s->th.opts.tsval;
	tt_info(c.fd, &ti);
	ts_advance(&T, ti.tcpi_rto);
	TT_EXPECT_DATA(&c, c.rcv_nxt, 100);
	c.rcv_nxt += 100;
	ts_advance(&T, 30000);
	peer_ts(&c, TCPHDR_ACK, 1001, first, NULL, 0);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_rtt, 100000);
}

/* ---- Eifel detection (RFC 3522 §2) ------------------------------------------ */

/*
 * Ten segments time out (SACK agreed; Tail Loss Probes and F-RTO off)
 * and the first goes again, with a later TSval. The ACK of all ten comes
 * 10 ms later echoing the originals' TSval (the originals arrived) or
 * the retransmission's (the first was lost).
 */
static void rto_then_ack(bool echo_original)
{
	struct tt_conn c;
	const struct tt_seg *s;
	struct tcp_info ti;
	uint32_t orig = 0, rtx;

	peer_sack = true;
	set_sysctl("net.ipv4.tcp_early_retrans", "0");   /* no TLP first */
	/* F-RTO off: the ACK of all ten covers nine segments never sent
	 * again, which F-RTO (as Linux's) takes for a spurious timeout
	 * whatever the echo says; here only the timestamps decide. */
	set_sysctl("net.ipv4.tcp_frto", "0");
	open_active(&c, true, -1, 1000);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_snd_mss, 1448);
	assert_int_equal(ti.tcpi_snd_cwnd, 10);
	assert_int_equal(us_send(c.fd, BUF, 10 * 1448, 0), 10 * 1448);
	for (uint32_t i = 0; i < 10; i++) {
		s = TT_EXPECT_DATA(&c, c.rcv_nxt + i * 1448, 1448);
		orig = s->th.opts.tsval;
	}
	ts_advance(&T, ti.tcpi_rto);
	s = TT_EXPECT_DATA(&c, c.rcv_nxt, 1448);
	rtx = s->th.opts.tsval;
	assert_true((int32_t)(rtx - orig) >= 200);
	tt_info(c.fd, &ti);
	assert_int_equal(ti.tcpi_snd_cwnd, 1);
	ts_advance(&T, 10000);
	c.rcv_nxt += 10 * 1448;
	peer_ts(&c, TCPHDR_ACK, 1001, echo_original ? orig : rtx, NULL, 0);
	tt_info(c.fd, &ti);
	if (echo_original) {
		/* 10 given back before the ACK grows it (Linux's order):
		 * slow start by the ten segments it covers. */
		assert_int_equal(ti.tcpi_snd_cwnd, 20);
		assert_true(ti.tcpi_snd_ssthresh > 20);
	} else {
		/* Slow start from 1 with the ten segments this ACK covers
		 * stops at ssthresh (the other four are not a window). */
		assert_int_equal(ti.tcpi_snd_cwnd, 7);
		assert_int_equal(ti.tcpi_snd_ssthresh, 7);   /* CUBIC: 0.7 */
	}
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TS_UNDO), echo_original);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_LOSS_UNDO), echo_original);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_DSACK_UNDO), 0);
}

static void test_eifel_undoes_spurious_timeout(void **state)
{
	(void)state;
	rto_then_ack(true);
}

static void test_eifel_keeps_needed_timeout(void **state)
{
	(void)state;
	rto_then_ack(false);
}

/* ---- PAWS (RFC 7323 §5) ---------------------------------------------------- */

/*
 * §5.3 R1: data whose TSval is older than TS.Recent is dropped, counted,
 * and answered with an ACK of RCV.NXT echoing TS.Recent; the data is not
 * delivered. A TSval one tick old passes (Linux's TCP_PAWS_WINDOW).
 */
static void test_paws_rejects_old_data(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;
	uint64_t drops, mib;
	uint8_t got[100];

	(void)state;
	open_active(&c, true, 7, 2000);
	drops = tt_drops(&T, US_DROP_TCP_RFC7323_PAWS);
	mib = tt_mib(&T, US_MIB_TCP_PAWS_ESTAB_REJECTED);
	peer_ts(&c, TCPHDR_ACK, 1000, 0, BUF, 100);
	c.snd_nxt -= 100;
	s = TT_EXPECT(&c, TCPHDR_ACK, c.rcv_nxt, c.snd_nxt);
	assert_int_equal(s->th.opts.tsecr, 2000);
	assert_int_equal(tt_drops(&T, US_DROP_TCP_RFC7323_PAWS), drops + 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_PAWS_ESTAB_REJECTED), mib + 1);
	assert_int_equal(us_recv(c.fd, got, sizeof(got), MSG_DONTWAIT), -1);
	assert_int_equal(errno, EAGAIN);

	peer_ts(&c, TCPHDR_ACK, 1999, 0, BUF, 100);
	s = TT_EXPECT_ACK(&c);
	assert_int_equal(s->th.opts.tsecr, 1999 + 1);   /* not moved back */
	assert_int_equal(us_recv(c.fd, got, sizeof(got), MSG_DONTWAIT), 100);
}

/* A RST is not subject to PAWS (Linux lets it through to the sequence
 * check): at RCV.NXT it resets the connection. */
static void test_paws_lets_rst_through(void **state)
{
	struct tt_conn c;

	(void)state;
	open_active(&c, true, 7, 2000);
	peer_ts(&c, TCPHDR_RST, 1000, 0, NULL, 0);
	assert_int_equal(tt_so_error(c.fd), ECONNRESET);
}

/* §5.5: after 24 days without a segment TS.Recent is no longer valid and
 * a TSval far behind it is accepted (a peer whose clock wrapped, or was
 * reset, is not locked out). Just before that, it is still rejected. */
static void test_paws_24_days(void **state)
{
	struct tt_conn c;
	const struct tt_seg *s;
	uint8_t got[100];

	(void)state;
	open_active(&c, true, 7, 2000000000u);
	ts_advance(&T, TCP_PAWS_24DAYS_US - 1);
	ts_flush_tx(&T);
	peer_ts(&c, TCPHDR_ACK, 5, 0, BUF, 100);
	c.snd_nxt -= 100;
	TT_EXPECT_ACK(&c);
	assert_int_equal(us_recv(c.fd, got, sizeof(got), MSG_DONTWAIT), -1);
	ts_advance(&T, 1);
	peer_ts(&c, TCPHDR_ACK, 5, 0, BUF, 100);
	s = TT_EXPECT_ACK(&c);
	assert_int_equal(s->th.opts.tsecr, 5);
	assert_int_equal(us_recv(c.fd, got, sizeof(got), MSG_DONTWAIT), 100);
}

/* An old pure ACK below RCV.NXT failing PAWS is dropped without an
 * answer and counted apart (Linux's PAWSOldAck). */
static void test_paws_old_pure_ack(void **state)
{
	struct tt_conn c;
	uint64_t mib;

	(void)state;
	open_active(&c, true, 7, 2000);
	peer_ts(&c, TCPHDR_ACK, 2001, 0, BUF, 100);
	TT_EXPECT_ACK(&c);
	mib = tt_mib(&T, US_MIB_TCP_PAWS_OLD_ACK);
	tt_send_opt(&c, TCPHDR_ACK, c.snd_nxt - 100, c.rcv_nxt,
		    (const uint8_t *)"\x01\x01\x08\x0a\x00\x00\x03\xe8\x00\x00\x00\x00",
		    12, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_PAWS_OLD_ACK), mib + 1);
	assert_int_equal(tt_drops(&T, US_DROP_TCP_RFC7323_PAWS_ACK), 1);
}

/* ---- buffers ---------------------------------------------------------------- */

/* tcp_rmem / tcp_wmem / tcp_moderate_rcvbuf: read back as Linux prints
 * them; bad vectors refused. tcp_rmem[1] is a new socket's SO_RCVBUF. */
static void test_buffer_sysctls(void **state)
{
	char buf[64];
	int fd, v;
	socklen_t len = sizeof(v);

	(void)state;
	assert_int_equal(ustack_sysctl_get(T.st, "net.ipv4.tcp_rmem", buf,
					   sizeof(buf)), 0);
	assert_string_equal(buf, "4096\t131072\t33554432");
	assert_int_equal(ustack_sysctl_get(T.st, "net.ipv4.tcp_wmem", buf,
					   sizeof(buf)), 0);
	assert_string_equal(buf, "4096\t16384\t4194304");
	assert_int_equal(ustack_sysctl_get(T.st, "net.ipv4.tcp_moderate_rcvbuf",
					   buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1");
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_rmem", "1 2"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_rmem",
					   "4096 2 1"), -1);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_rmem",
					   "4096 100000 200000 x"), -1);
	set_sysctl("net/ipv4/tcp_rmem", "4096\t100000\t200000");
	set_sysctl("net/ipv4/tcp_wmem", "4096\t20000\t200000");
	fd = us_socket_on(T.st, AF_INET, SOCK_STREAM, 0);
	assert_int_equal(us_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, &len), 0);
	assert_int_equal(v, 100000);
	assert_int_equal(us_getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
	assert_int_equal(v, 20000);
	us_close(fd);
}

/*
 * The send buffer after the handshake: twice the initial window of
 * segments, each reckoned as Linux's tcp_sndbuf_expand does (an MSS of
 * 1460 with headers, rounded up to 4096, and the sk_buff's 256: 87040,
 * what Linux reports), from tcp_wmem[1] before it; it grows with the
 * congestion window, up to tcp_wmem[2].
 */
static void test_sndbuf_expands(void **state)
{
	struct tt_conn c;
	int v;
	socklen_t len = sizeof(v);

	(void)state;
	tt_conn_init(&c, &T, false);
	c.mss = 1460;
	tt_open(&c);
	assert_int_equal(us_getsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &v, &len),
			 0);
	assert_int_equal(v, 87040);
	tcp_sk(tt_sk(c.fd))->snd_cwnd = 100;
	tcp_sndbuf_expand(tt_sk(c.fd));
	assert_int_equal(us_getsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &v, &len),
			 0);
	assert_int_equal(v, 870400);
	tcp_sk(tt_sk(c.fd))->snd_cwnd = 10000;
	tcp_sndbuf_expand(tt_sk(c.fd));
	assert_int_equal(us_getsockopt(c.fd, SOL_SOCKET, SO_SNDBUF, &v, &len),
			 0);
	assert_int_equal(v, 4194304);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T_(f) cmocka_unit_test_setup_teardown(f, setup, ts_teardown)
		T_(test_wscale_negotiated_active),
		T_(test_wscale_from_rmem_max),
		T_(test_wscale_so_rcvbuf),
		T_(test_sndbuf_expands),
		T_(test_wscale_not_agreed),
		T_(test_wscale_clamped_and_passive),
		T_(test_sysctls_off),
		T_(test_scaled_windows),
		T_(test_ts_echo_rules),
		T_(test_rtt_from_timestamps),
		T_(test_rtt_karn_without_timestamps),
		T_(test_rtt_stale_echo_ignored),
		T_(test_eifel_undoes_spurious_timeout),
		T_(test_eifel_keeps_needed_timeout),
		T_(test_paws_rejects_old_data),
		T_(test_paws_lets_rst_through),
		T_(test_paws_24_days),
		T_(test_paws_old_pure_ack),
		T_(test_buffer_sysctls),
#undef T_
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
