/*
 * tcp_cong.h - pluggable congestion control (Linux's struct
 * tcp_congestion_ops): the table an algorithm fills, the registry that
 * TCP_CONGESTION and net.ipv4.tcp_congestion_control look names up in, and
 * the calls tcp_input.c and tcp_timer.c make at their hook points.
 *
 * The window is counted in segments (tp->snd_cwnd, tp->snd_ssthresh) as
 * Linux counts it. What an algorithm decides is the slow-start threshold
 * after a loss and the growth on new ACKs; the loss recovery around it
 * (RFC 6582 partial ACKs in tcp_input.c, RFC 6675 in tcp_sack.c, the
 * window during recovery by RFC 6937 in tcp_prr.c) is common to all.
 *
 *   ACK of new data, not in recovery -> tcp_cong_avoid -> ops->cong_avoid
 *   third duplicate ACK              -> tcp_ca_ssthresh -> ops->ssthresh
 *   retransmission timeout           -> tcp_ca_on_rto   -> ops->ssthresh,
 *                                                          ops->on_rto
 *
 * An algorithm with cong_control (BBR) sets the window and the pacing
 * rate itself on every ACK, from the ACK's delivery-rate sample, as
 * Linux's tcp_cong_control hands over to it: PRR, cong_avoid and the
 * window at ssthresh when a recovery ends are not applied to it.
 *
 *   any ACK with data in flight      -> tcp_cong_control -> ops->cong_control
 */
#ifndef US_NET_TCP_TCP_CONG_H
#define US_NET_TCP_TCP_CONG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/clock.h"

struct sock;
struct tcp_sock;
struct rate_sample;

#define TCP_CA_NAME_MAX 16          /* Linux's, NUL included */
#define TCP_INFINITE_SSTHRESH 0x7fffffff  /* as Linux reports it */

struct tcp_congestion_ops {
	char name[TCP_CA_NAME_MAX];     /* NUL-padded: getsockopt copies it */
	/* The algorithm takes over a socket: its private area
	 * (tp->ca_priv) is zeroed before. */
	void (*init)(struct sock *sk);
	/* Optional: the socket leaves the algorithm (close, another one
	 * chosen, or listen(), whose queues take the private area). */
	void (*release)(struct sock *sk);
	/* A loss (third duplicate ACK, or the first timeout of a series):
	 * the new slow-start threshold in segments. It may remember what it
	 * needs for the growth that follows (CUBIC's W_max). */
	uint32_t (*ssthresh)(struct sock *sk);
	/* New data acknowledged outside loss recovery: `acked` bytes, at
	 * `now`. Grows tp->snd_cwnd (slow start or congestion avoidance). */
	void (*cong_avoid)(struct sock *sk, uint32_t acked, us_time_t now);
	/* Optional: a retransmission timeout, after ssthresh was set and the
	 * window went to one segment (RFC 5681 §3.1). */
	void (*on_rto)(struct sock *sk);
	/* Optional: a valid RTT sample (Karn's rule), in microseconds. */
	void (*rtt_sample)(struct sock *sk, uint32_t rtt_us);
	/* Optional: a loss turned out spurious (tcp_undo.c: D-SACKs); the
	 * window to go back to. Without it, Reno's: the one before. */
	uint32_t (*undo_cwnd)(struct sock *sk);
	/* Optional: new data goes at `now` with nothing in flight, `idle`
	 * microseconds after data last went (Linux's CA_EVENT_TX_START). */
	void (*tx_start)(struct sock *sk, us_time_t idle, us_time_t now);
	/* Optional (Linux's cong_control): the algorithm sets cwnd and its
	 * pacing rate on every ACK that finds data in flight, duplicate
	 * ACKs too, from the ACK's rate sample; once its state exists
	 * (tcp_ca_controls), nothing else moves cwnd on an ACK. Its state
	 * is behind a pointer in ca_priv[0] (tcp_ca_state_ptr), made by
	 * init; without it the ordinary path runs, with cong_avoid. */
	void (*cong_control)(struct sock *sk, const struct rate_sample *rs);
	/* Optional: the pacing rate the algorithm chose, bytes per second
	 * (Linux's sk_pacing_rate, which BBR sets); 0: none, tcp_pacing.c's
	 * own (Linux's tcp_update_pacing_rate). */
	uint64_t (*pacing_rate)(struct sock *sk);
	/* Optional: the fewest segments in a TSO packet (Linux's
	 * min_tso_segs; else net.ipv4.tcp_min_tso_segs, 2). */
	uint32_t (*min_tso_segs)(struct sock *sk);
	/* Optional: TCP_CC_INFO, up to len bytes into buf; returns the size
	 * of the algorithm's report (Linux's get_info; without it, 0). */
	size_t (*get_info)(struct sock *sk, void *buf, size_t len);
	/* Optional: the send buffer in windows (Linux's sndbuf_expand;
	 * else 2: tcp_sndbuf_expand). */
	uint32_t (*sndbuf_expand)(struct sock *sk);
	/* init runs when the transfer starts (Linux's tcp_init_transfer),
	 * or at TCP_CONGESTION on a socket neither closed nor listening, as
	 * Linux runs every algorithm's: it reads the handshake's RTT and the
	 * MSS. (Reno and CUBIC read nothing of the connection, and keep
	 * theirs at the socket's creation.) */
	bool init_at_transfer;
};

extern const struct tcp_congestion_ops tcp_reno;
extern const struct tcp_congestion_ops tcp_cubic;
extern const struct tcp_congestion_ops tcp_bbr;

/* The algorithm called `name`, or NULL. */
const struct tcp_congestion_ops *tcp_ca_find(const char *name);
/* A new socket takes the instance's default (net.ipv4 sysctl). */
void tcp_assign_congestion_control(struct sock *sk);
/* A child of a listener: the listener's algorithm if it was chosen with
 * TCP_CONGESTION, else the default now (Linux's tcp_ca_openreq_child). */
void tcp_ca_openreq_child(struct sock *sk, const struct sock *parent);
void tcp_cleanup_congestion_control(struct sock *sk);
/* A listener has no congestion state: its queues use the algorithm's
 * private area (tcp.h). listen() releases the algorithm before they take
 * it; the socket leaving LISTEN (already back in CLOSE) gives the
 * algorithm a fresh area. Meanwhile TCP_CONGESTION only switches ops. */
void tcp_ca_listen_start(struct sock *sk);
void tcp_ca_listen_stop(struct sock *sk);
/* The same algorithm from a fresh start (connect(AF_UNSPEC), as Linux's
 * tcp_disconnect: the choice stays, its state goes). */
void tcp_reinit_congestion_control(struct sock *sk);
/* TCP_CONGESTION, with Linux's checks and errno. */
int tcp_setsockopt_congestion(struct sock *sk, const void *optval,
			      unsigned int optlen);
int tcp_getsockopt_congestion(struct sock *sk, void *optval,
			      unsigned int *optlen);

/* The transfer starts (tcp_init_established; Linux's tcp_init_transfer):
 * an init_at_transfer algorithm starts now, afresh if it ran before. */
void tcp_ca_init_transfer(struct sock *sk);

/* The state an algorithm keeps behind a pointer in ca_priv[0] (BBR's is
 * larger than ca_priv); NULL for none, and on a listener, whose ca_priv
 * holds its queues. */
void *tcp_ca_state_ptr(const struct tcp_sock *tp);
/* The algorithm sets the window itself on every ACK (cong_control, its
 * state made): Linux's icsk_ca_ops->cong_control test. */
bool tcp_ca_controls(const struct tcp_sock *tp);
/* Linux's icsk_ca_state (TCP_CA_Open ... TCP_CA_Loss, netinet/tcp.h),
 * from the state it stands for in ustack: a timeout's episode, a fast
 * recovery, an ECE's reduction, marks on the scoreboard. */
uint8_t tcp_ca_state(const struct tcp_sock *tp);

/* The hook points. */
void tcp_cong_avoid(struct sock *sk, uint32_t acked);
/* After an ACK's rate sample, with data in flight before it: the
 * algorithm's cong_control (Linux's tcp_cong_control). */
void tcp_cong_control(struct sock *sk);
uint32_t tcp_ca_ssthresh(struct sock *sk);
/* ssthresh, but at least 3/4 of the window (Linux's tcp_current_ssthresh
 * outside a reduction; the caller knows whether it is in one). */
uint32_t tcp_current_ssthresh(const struct tcp_sock *tp);
/* A timeout: the window of one segment, and ssthresh anew when it starts
 * a loss episode (first: no timeout since SND.UNA last moved). */
void tcp_ca_on_rto(struct sock *sk, bool first);
void tcp_ca_rtt_sample(struct sock *sk, uint32_t rtt_us);
/* New data is queued (Linux's tcp_skb_entail): after an idle time the
 * window restarts (RFC 5681 §4.1, net.ipv4.tcp_slow_start_after_idle). */
void tcp_idle_restart_check(struct sock *sk);
/* Data goes now (Linux's tcp_event_data_sent): the idle clock. */
void tcp_data_sent(struct sock *sk);
/* Microseconds since data last went (lsndtime, at its 1 ms grain). */
int64_t tcp_since_data_sent(const struct sock *sk);
/* Data went with nothing in flight before (Linux's CA_EVENT_TX_START):
 * the algorithm hears how long the connection was idle, since the clock
 * tcp_data_sent had kept (lsnd_before) until then. */
void tcp_ca_tx_start(struct sock *sk, uint32_t lsnd_before);

/* Helpers for the algorithms. Whether the window was in use enough to
 * grow (Linux's tcp_is_cwnd_limited). */
bool tcp_is_cwnd_limited(const struct tcp_sock *tp);
/* After tcp_write_xmit sent data, or found the window full: what the
 * window's use was (Linux's tcp_cwnd_validate). */
void tcp_cwnd_validate(struct sock *sk, bool is_cwnd_limited);
/* Slow start (RFC 5681 §3.1) counting bytes (RFC 3465 §2.2) with no limit
 * per ACK, as Linux's tcp_slow_start, up to ssthresh: returns the bytes of
 * the ACK left for congestion avoidance once cwnd reaches ssthresh, else
 * 0. */
uint32_t tcp_slow_start(struct tcp_sock *tp, uint32_t acked);
/* Additive increase: one segment per `w` segments' worth of bytes acked. */
void tcp_cong_avoid_ai(struct tcp_sock *tp, uint32_t w, uint32_t acked);

/*
 * CUBIC's state in tp->ca_priv (tcp_cubic.c), in the open for the unit
 * tests. Windows are in segments << CUBIC_SHIFT (fixed point), times in
 * microseconds of the engine's clock.
 */
#define CUBIC_SHIFT 20

/* HyStart++ (RFC 9406, tcp_hystart.c): leaves the first slow start when
 * the RTT grows, through Conservative Slow Start. */
/* HS_START: slow start, the first round not begun (it begins at the first
 * ACK, at SND.NXT then: the algorithm is set up before the ISN is). */
enum { HS_OFF, HS_SS, HS_CSS, HS_START };
struct hystart {
	uint32_t end_seq;        /* the round ends when this is acknowledged */
	uint32_t cur_min_us;     /* currentRoundMinRTT; UINT32_MAX = none */
	uint32_t last_min_us;    /* lastRoundMinRTT */
	uint32_t css_base_us;    /* cssBaselineMinRtt */
	uint16_t samples;        /* rttSampleCount */
	uint8_t state;           /* HS_* */
	uint8_t css_rounds;
};

void hystart_start(struct tcp_sock *tp, struct hystart *hs);
void hystart_rtt_sample(struct tcp_sock *tp, struct hystart *hs,
			uint32_t rtt_us);
/* Slow start's growth for one ACK while HyStart++ runs (it may end slow
 * start by setting ssthresh). */
void hystart_slow_start(struct tcp_sock *tp, struct hystart *hs,
			uint32_t acked);
struct tcp_cubic_state {
	uint64_t w_max;         /* RFC 9438 §4.6-4.7 W_max; 0 = none yet */
	uint64_t w_est;         /* §4.3 the Reno-friendly estimate */
	uint64_t growth;        /* part of a segment carried between ACKs */
	uint64_t k_us;          /* §4.2 K */
	us_time_t t_epoch;      /* start of the congestion avoidance stage */
	uint32_t cwnd_epoch;    /* cwnd then */
	uint32_t cwnd_prior;    /* cwnd at the last reduction */
	int in_epoch;           /* t_epoch, cwnd_epoch and K are set */
	struct hystart hs;      /* RFC 9406 in the first slow start */
};

/* §4.2 equation (2): K = cbrt((W_max - cwnd_epoch) / C), in microseconds;
 * 0 when W_max is not above cwnd_epoch. */
uint64_t cubic_k_us(uint64_t w_max, uint64_t cwnd_epoch);
/* §4.2 equation (1): W_cubic(t) = C * (t - K)^3 + W_max, never below 0. */
uint64_t cubic_w(uint64_t w_max, uint64_t k_us, us_time_t t_us);

#endif
