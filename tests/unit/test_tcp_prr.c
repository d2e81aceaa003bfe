/*
 * test_tcp_prr.c - Proportional Rate Reduction (tcp_prr.c, RFC 6937) with
 * crafted ACK sequences in virtual time. A peer model receives what the
 * stack sends, drops chosen first transmissions, and answers each segment
 * with an ACK (with SACK blocks when SACK is on). Beside it, a reference
 * sender written from the RFCs' text (RFC 6675 SetPipe, IsLost and
 * NextSeg; RFC 6937 §3.1 with PRR-SSRB as Linux's tcp_cwnd_reduction
 * applies it; NewReno's duplicate ACKs counted as Linux counts them)
 * says, ACK by ACK, how many segments the ACK releases and which; the
 * stack must send exactly those and report cwnd = pipe + sndcnt. Each
 * scenario also checks that both branches of the formula were taken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "lib/tcptest.h"
#include "stack/stack.h"
#include "ustack/ustack.h"

#define MSS 1460
#define NSEG 48
#define DUPTHRESH 3

static struct test_stack T;
static struct tt_conn C;
static uint8_t BUF[NSEG * MSS];

/* ---- the reference sender ------------------------------------------------ */

struct model {
	bool sack;
	int total;                 /* segments written by the application */
	int nsent;                 /* segments sent at least once */
	int una;                   /* first not cumulatively acknowledged */
	bool sacked[NSEG], lost[NSEG], retrans[NSEG];
	int cwnd, ssthresh;
	bool in_recovery;
	int high;                  /* RecoveryPoint, in segments */
	int dupacks;
	int reno_sacked;           /* no SACK: duplicate ACKs outstanding */
	bool reno_head_lost;
	int prior_cwnd, prr_delivered, prr_out;   /* RFC 6937 */
	int n_proportional, n_ssrb, n_ssrb_plus;  /* branches taken */
	int sent[NSEG * 2], nout;  /* what the last ACK released */
};

/* RFC 6675 §4 SetPipe; without SACK, Linux's estimate for NewReno. */
static int m_pipe(const struct model *m)
{
	int pipe = 0;

	if (!m->sack) {
		pipe = m->nsent - m->una - m->reno_sacked -
		       (m->reno_head_lost ? 1 : 0);
		return pipe > 0 ? pipe : 0;
	}
	for (int i = m->una; i < m->nsent; i++) {
		if (m->sacked[i])
			continue;
		pipe += !m->lost[i];
		pipe += m->retrans[i];
	}
	return pipe;
}

/* RFC 6675 §4 IsLost: DupThresh segments SACKed above. Returns how many
 * segments were newly marked. */
static int m_mark_lost(struct model *m)
{
	int newly = 0;

	for (int i = m->una; i < m->nsent; i++) {
		int above = 0;

		if (m->sacked[i] || m->lost[i])
			continue;
		for (int j = i + 1; j < m->nsent; j++)
			above += m->sacked[j];
		if (above >= DUPTHRESH) {
			m->lost[i] = true;
			newly++;
		}
	}
	return newly;
}

static void m_send(struct model *m, int seg, bool again)
{
	if (again)
		m->retrans[seg] = true;
	else
		m->nsent++;
	if (m->in_recovery)
		m->prr_out++;
	m->sent[m->nout++] = seg;
}

/* NextSeg (RFC 6675 §4 rule 1, then new data) while pipe < cwnd. */
static void m_transmit(struct model *m)
{
	for (;;) {
		int seg = -1;

		if (m_pipe(m) >= m->cwnd)
			return;
		if (m->sack) {
			for (int i = m->una; i < m->nsent && seg < 0; i++)
				if (m->lost[i] && !m->retrans[i] && !m->sacked[i])
					seg = i;
		} else if (m->reno_head_lost) {
			m->reno_head_lost = false;
			seg = m->una;
		}
		if (seg >= 0)
			m_send(m, seg, true);
		else if (m->nsent < m->total)
			m_send(m, m->nsent, false);
		else
			return;
	}
}

/* RFC 6937 §3.1 (Linux's PRR-SSRB): the segments this ACK releases. */
static int m_sndcnt(struct model *m, int pipe, int delivered, bool una_adv,
		    bool newly_lost)
{
	int sndcnt;

	if (pipe > m->ssthresh) {
		/* CEIL(prr_delivered * ssthresh / RecoverFS) - prr_out */
		sndcnt = (m->prr_delivered * m->ssthresh + m->prior_cwnd - 1) /
			 m->prior_cwnd - m->prr_out;
		m->n_proportional++;
	} else {
		/* MIN(ssthresh - pipe, MAX(prr_delivered - prr_out,
		 * DeliveredData) + 1 when SND.UNA advanced and nothing new
		 * was found lost) */
		int d = m->prr_delivered - m->prr_out;

		sndcnt = d > delivered ? d : delivered;
		if (una_adv && !newly_lost) {
			sndcnt++;
			m->n_ssrb_plus++;
		}
		if (sndcnt > m->ssthresh - pipe)
			sndcnt = m->ssthresh - pipe;
		m->n_ssrb++;
	}
	if (sndcnt < (m->prr_out ? 0 : 1))
		sndcnt = m->prr_out ? 0 : 1;
	return sndcnt;
}

static void m_enter_recovery(struct model *m)
{
	int flight = m->nsent - m->una;

	/* NewReno's threshold: RFC 5681 eq. (4), the flight without what
	 * limited transmit sent beyond the window (§3.2 step 2). */
	if (flight > m->cwnd)
		flight = m->cwnd;
	m->ssthresh = flight / 2 > 2 ? flight / 2 : 2;
	m->prior_cwnd = m->cwnd;
	m->prr_delivered = 0;
	m->prr_out = 0;
	m->in_recovery = true;
	m->high = m->nsent;
	if (m->sack) {
		if (!m->sacked[m->una])
			m->lost[m->una] = true;   /* RFC 6675 §5 step 4.3 */
	} else {
		m->reno_head_lost = true;
	}
}

/* The peer acknowledged up to `una` and holds the segments in rcv[]. */
static void m_ack(struct model *m, int una, const bool *rcv)
{
	int delivered = 0, newly_sacked = 0, newly_lost = 0;
	bool una_adv = una > m->una, dupack;

	for (int i = m->una; i < una; i++) {
		delivered += !m->sacked[i];
		m->sacked[i] = m->lost[i] = m->retrans[i] = false;
	}
	if (m->sack) {
		for (int i = una; i < m->nsent; i++) {
			if (!rcv[i] || m->sacked[i])
				continue;
			m->sacked[i] = true;
			m->lost[i] = m->retrans[i] = false;
			newly_sacked++;
		}
		delivered += newly_sacked;
		if (newly_sacked)
			newly_lost = m_mark_lost(m);
		dupack = newly_sacked > 0;
	} else {
		int out = m->nsent - m->una;

		dupack = !una_adv && m->una != m->nsent;
		if (una_adv) {
			/* Linux's tcp_remove_reno_sacks */
			int acked = delivered;

			delivered = acked > m->reno_sacked ?
				    acked - m->reno_sacked : 1;
			m->reno_sacked = acked - 1 >= m->reno_sacked ?
					 0 : m->reno_sacked - (acked - 1);
		} else if (dupack && m->reno_sacked + 1 < out) {
			m->reno_sacked++;
			delivered = 1;
		}
	}
	m->una = una;
	m->nout = 0;
	if (una_adv) {
		m->dupacks = 0;
		if (m->in_recovery && m->una >= m->high) {
			/* RFC 6675 §5 / RFC 6582: recovery ends at ssthresh. */
			m->in_recovery = false;
			m->cwnd = m->ssthresh;
			m->reno_sacked = 0;
			m->reno_head_lost = false;
			m_transmit(m);
			return;
		}
		if (!m->in_recovery) {
			/* Slow start, all that was delivered (the window is
			 * still the initial one, below ssthresh; no scenario
			 * here ACKs more than two segments outside recovery,
			 * nor leaves the window unused). */
			m->cwnd += delivered;
			m->reno_sacked = 0;
		}
		if (m->in_recovery && !m->sack) {
			m->reno_head_lost = true;   /* RFC 6582 partial ACK */
			newly_lost = 1;
		}
	}
	if (dupack) {
		m->dupacks++;
		if (!m->in_recovery && m->una >= m->high &&
		    (m->dupacks >= DUPTHRESH ||
		     (m->sack && m->lost[m->una])))
			m_enter_recovery(m);
	}
	if (m->in_recovery && delivered) {
		int pipe;

		m->prr_delivered += delivered;
		pipe = m_pipe(m);
		m->cwnd = pipe + m_sndcnt(m, pipe, delivered, una_adv,
					  newly_lost > 0);
	}
	m_transmit(m);
}

/* ---- the peer ------------------------------------------------------------ */

static size_t sack_opt(uint8_t *o, const bool *rcv, int una, int nsent)
{
	uint32_t base = C.iss + 1;
	int n = 0;

	o[0] = TCPOPT_NOP;
	o[1] = TCPOPT_NOP;
	o[2] = TCPOPT_SACK;
	for (int i = una; i < nsent && n < 4; i++) {
		int j = i;

		if (!rcv[i])
			continue;
		while (j < nsent && rcv[j])
			j++;
		for (int k = 0; k < 4; k++) {
			uint32_t s = base + (uint32_t)i * MSS;
			uint32_t e = base + (uint32_t)j * MSS;

			o[4 + 8 * n + k] = (uint8_t)(s >> (24 - 8 * k));
			o[8 + 8 * n + k] = (uint8_t)(e >> (24 - 8 * k));
		}
		n++;
		i = j;
	}
	o[3] = (uint8_t)(2 + 8 * n);
	return n ? 4 + 8 * (size_t)n : 0;
}

struct scenario {
	bool sack;
	int total;
	const int *drop;           /* first transmissions lost */
	int ndrop;
};

static bool dropped(const struct scenario *s, int seg)
{
	for (int i = 0; i < s->ndrop; i++)
		if (s->drop[i] == seg)
			return true;
	return false;
}

static void expect_sent(const struct model *m)
{
	for (int i = 0; i < m->nout; i++)
		TT_EXPECT_DATA(&C, C.iss + 1 + (uint32_t)m->sent[i] * MSS, MSS);
	TT_EXPECT_NONE(&T);
}

static uint32_t cwnd_now(void)
{
	struct tcp_info ti;

	tt_info(C.fd, &ti);
	return ti.tcpi_snd_cwnd;
}

/* Run a scenario to the end of the recovery; returns the model. */
static void run(const struct scenario *s, struct model *m)
{
	bool rcv[NSEG] = { false }, first_tx[NSEG];
	int fifo[NSEG * 4], head = 0, tail = 0, acks = 0;

	memset(m, 0, sizeof(*m));
	m->sack = s->sack;
	m->total = s->total;
	m->cwnd = 10;
	assert_int_equal(us_send(C.fd, BUF, (size_t)s->total * MSS, 0),
			 s->total * MSS);
	m_transmit(m);
	assert_int_equal(m->nout, 10);
	expect_sent(m);
	for (int i = 0; i < NSEG; i++)
		first_tx[i] = true;
	for (int i = 0; i < m->nout; i++)
		fifo[tail++] = m->sent[i];
	while (head < tail) {
		int seg = fifo[head++], una = 0;
		bool was_recovery = m->in_recovery;
		uint8_t o[40];
		size_t olen;

		if (first_tx[seg] && dropped(s, seg)) {
			first_tx[seg] = false;
			continue;
		}
		first_tx[seg] = false;
		rcv[seg] = true;
		while (una < NSEG && rcv[una])
			una++;
		olen = s->sack ? sack_opt(o, rcv, una, m->nsent) : 0;
		tt_send_opt(&C, TCPHDR_ACK, C.snd_nxt,
			    C.iss + 1 + (uint32_t)una * MSS, olen ? o : NULL,
			    olen, NULL, 0);
		m_ack(m, una, rcv);
		expect_sent(m);
		if (m->in_recovery || was_recovery)
			assert_int_equal(cwnd_now(), m->cwnd);
		for (int i = 0; i < m->nout; i++) {
			assert_true(tail < (int)(sizeof(fifo) / sizeof(fifo[0])));
			fifo[tail++] = m->sent[i];
		}
		acks++;
		if (was_recovery && !m->in_recovery)
			break;
	}
	assert_true(acks > 0);
	/* The recovery ended, at ssthresh, without a timeout. */
	assert_false(m->in_recovery);
	assert_int_equal(cwnd_now(), m->ssthresh);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_TIMEOUTS), 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_FAST_RETRANS), 1);
}

/* ---- fixtures ------------------------------------------------------------ */

static int setup_common(bool sack)
{
	tt_stack_init(&T);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_congestion_control",
					   "reno"), 0);
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_sack",
					   sack ? "1" : "0"), 0);
	/* The reference finds losses by RFC 6675's IsLost, not by RACK's
	 * time (test_tcp_rack.c). */
	assert_int_equal(ustack_sysctl_set(T.st, "net.ipv4.tcp_recovery", "0"),
			 0);
	tt_conn_init(&C, &T, false);
	C.sack_perm = sack;
	tt_open(&C);
	for (size_t i = 0; i < sizeof(BUF); i++)
		BUF[i] = (uint8_t)(i * 7 + 3);
	return 0;
}

static int setup_sack(void **state)
{
	*state = &T;
	return setup_common(true);
}

static int setup_reno(void **state)
{
	*state = &T;
	return setup_common(false);
}

/* ---- the scenarios ------------------------------------------------------- */

/* One loss, SACKs one at a time: limited transmit before recovery, then
 * pipe above ssthresh (proportional: about one segment per two
 * delivered), then at or below it (SSRB). No burst at any point: no ACK
 * releases more than two segments. */
static void test_sack_one_loss(void **state)
{
	static const int drop[] = { 0 };
	struct scenario s = { true, 30, drop, 1 };
	struct model m;

	(void)state;
	run(&s, &m);
	assert_true(m.n_proportional >= 3);
	assert_true(m.n_ssrb >= 1);
}

/* Two holes: the retransmission of the first gives a partial ACK that
 * moves SND.UNA with nothing newly lost (SSRB's extra segment). */
static void test_sack_two_holes_partial_ack(void **state)
{
	static const int drop[] = { 0, 5 };
	struct scenario s = { true, 30, drop, 2 };
	struct model m;

	(void)state;
	run(&s, &m);
	assert_true(m.n_proportional >= 1);
	assert_true(m.n_ssrb_plus >= 1);
}

/* A burst of three losses in one window. */
static void test_sack_burst_loss(void **state)
{
	static const int drop[] = { 2, 3, 4 };
	struct scenario s = { true, 40, drop, 3 };
	struct model m;

	(void)state;
	run(&s, &m);
	assert_true(m.n_proportional >= 1);
	assert_true(m.n_ssrb >= 1);
}

/* NewReno (no SACK): duplicate ACKs count as delivered segments, the
 * window follows PRR instead of inflation (RFC 6582 §3.2 steps 3-4). */
static void test_reno_one_loss(void **state)
{
	static const int drop[] = { 0 };
	struct scenario s = { false, 30, drop, 1 };
	struct model m;

	(void)state;
	run(&s, &m);
	assert_true(m.n_proportional >= 3);
	assert_true(m.n_ssrb >= 1);
}

/* NewReno's partial ACK: the next hole is lost, sent when PRR allows. */
static void test_reno_partial_ack(void **state)
{
	static const int drop[] = { 0, 4 };
	struct scenario s = { false, 30, drop, 2 };
	struct model m;

	(void)state;
	run(&s, &m);
	assert_true(m.n_proportional >= 1);
	assert_true(tt_mib(&T, US_MIB_TCP_RETRANS_SEGS) == 2);
}

/* NewReno's threshold is Linux's reordering (tcp_check_reno_reordering):
 * with two segments out, duplicate ACKs beyond the one that can stand
 * for a loss are reordering, not three that start a fast retransmit; the
 * threshold becomes the flight, two, and with three segments out later
 * the second duplicate ACK starts one. */
static void test_reno_dupacks_beyond_flight(void **state)
{
	struct tcp_info ti;
	uint32_t base = C.iss + 1;

	(void)state;
	assert_int_equal(us_send(C.fd, BUF, 2 * MSS, 0), 2 * MSS);
	TT_EXPECT_DATA(&C, base, MSS);
	TT_EXPECT_DATA(&C, base + MSS, MSS);
	for (int i = 0; i < 3; i++)
		tt_send(&C, TCPHDR_ACK, C.snd_nxt, base, NULL, 0);
	TT_EXPECT_NONE(&T);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_FAST_RETRANS), 0);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_RENO_REORDER), 2);
	tt_info(C.fd, &ti);
	assert_int_equal(ti.tcpi_reordering, 2);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, base + 2 * MSS, NULL, 0);
	base += 2 * MSS;
	assert_int_equal(us_send(C.fd, BUF, 3 * MSS, 0), 3 * MSS);
	for (int i = 0; i < 3; i++)
		TT_EXPECT_DATA(&C, base + (uint32_t)i * MSS, MSS);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, base, NULL, 0);
	TT_EXPECT_NONE(&T);
	tt_send(&C, TCPHDR_ACK, C.snd_nxt, base, NULL, 0);
	TT_EXPECT_DATA(&C, base, MSS);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_FAST_RETRANS), 1);
	assert_int_equal(tt_mib(&T, US_MIB_TCP_RENO_REORDER), 2);
}

/* The formula alone, at chosen points (RFC 6937 §3.1 and its example of
 * §5: ssthresh 10 of RecoverFS 20 sends one segment per two delivered). */
static void test_sndcnt_formula(void **state)
{
	struct tcp_sock tp;

	(void)state;
	memset(&tp, 0, sizeof(tp));
	tp.snd_ssthresh = 10;
	tp.prior_cwnd = 20;
	/* pipe 19 > ssthresh: CEIL(1 * 10 / 20) - 0 = 1 (the forced first). */
	tp.prr_delivered = 1;
	assert_int_equal(tcp_prr_sndcnt(&tp, 19, 1, false, false), 1);
	tp.prr_out = 1;
	tp.prr_delivered = 2;
	assert_int_equal(tcp_prr_sndcnt(&tp, 18, 1, false, false), 0);
	tp.prr_delivered = 3;
	assert_int_equal(tcp_prr_sndcnt(&tp, 17, 1, false, false), 1);
	/* A stretch ACK of 6: CEIL(9 * 10 / 20) - 2 = 3. */
	tp.prr_out = 2;
	tp.prr_delivered = 9;
	assert_int_equal(tcp_prr_sndcnt(&tp, 12, 6, false, false), 3);
	/* pipe <= ssthresh: MIN(ssthresh - pipe, MAX(prr_delivered -
	 * prr_out, DeliveredData) [+ 1]). */
	tp.prr_out = 9;
	tp.prr_delivered = 10;
	assert_int_equal(tcp_prr_sndcnt(&tp, 8, 1, false, false), 1);
	assert_int_equal(tcp_prr_sndcnt(&tp, 8, 1, true, false), 2);
	assert_int_equal(tcp_prr_sndcnt(&tp, 8, 1, true, true), 1);
	assert_int_equal(tcp_prr_sndcnt(&tp, 8, 5, true, false), 2);
	assert_int_equal(tcp_prr_sndcnt(&tp, 4, 5, true, false), 6);
	assert_int_equal(tcp_prr_sndcnt(&tp, 10, 5, true, false), 0);
	/* Never negative, even when more went out than the share. */
	tp.prr_out = 30;
	assert_int_equal(tcp_prr_sndcnt(&tp, 15, 1, false, false), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sndcnt_formula),
		cmocka_unit_test_setup_teardown(test_sack_one_loss, setup_sack,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_sack_two_holes_partial_ack,
						setup_sack, ts_teardown),
		cmocka_unit_test_setup_teardown(test_sack_burst_loss, setup_sack,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_reno_one_loss, setup_reno,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_reno_partial_ack, setup_reno,
						ts_teardown),
		cmocka_unit_test_setup_teardown(test_reno_dupacks_beyond_flight,
						setup_reno, ts_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
