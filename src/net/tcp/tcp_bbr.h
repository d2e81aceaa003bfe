/*
 * tcp_bbr.h - BBR's report (TCP_CC_INFO) and what its unit tests look at
 * (tcp_bbr.c; the algorithm is reached through tcp_cong.h's ops, tcp_bbr).
 */
#ifndef US_NET_TCP_TCP_BBR_H
#define US_NET_TCP_TCP_BBR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sock;

/* Linux's struct tcp_bbr_info (uapi inet_diag.h, INET_DIAG_BBRINFO): what
 * getsockopt(TCP_CC_INFO) gives for BBR, 20 bytes. */
struct us_tcp_bbr_info {
	uint32_t bbr_bw_lo;         /* bw in bytes per second: low 32 bits */
	uint32_t bbr_bw_hi;         /*   and high */
	uint32_t bbr_min_rtt;       /* min_rtt, us */
	uint32_t bbr_pacing_gain;   /* x 256 */
	uint32_t bbr_cwnd_gain;     /* x 256 */
};

/* bw (segments per us << 24) at gain (/256) as bytes per second, 1%
 * below: Linux's bbr_rate_bytes_per_sec. */
uint64_t bbr_rate_bytes_per_sec(uint32_t mss, uint64_t bw, uint32_t gain);

/* The model of a socket, for the unit tests (present false: none). */
struct bbr_peek {
	bool present;
	uint8_t mode;               /* 0 STARTUP, 1 DRAIN, 2 PROBE_BW,
				       3 PROBE_RTT */
	uint32_t bw, max_bw;        /* segments per us << 24 */
	uint32_t min_rtt_us;
	uint32_t rtt_cnt;
	uint32_t pacing_gain, cwnd_gain;
	bool full_bw_reached;
	uint32_t full_bw_cnt;
	uint32_t cycle_idx;
	uint32_t prior_cwnd;
	bool packet_conservation;
	bool lt_use_bw, lt_is_sampling;
	uint32_t lt_bw;
	uint32_t extra_acked;
	bool idle_restart;
	uint64_t pacing_rate;
};
void bbr_peek(const struct sock *sk, struct bbr_peek *p);
/* The windowed max filter fed (t[i], v[i]) from a reset at (0, 0), with
 * a window of win: its maximum. */
uint32_t bbr_minmax_test(const uint32_t *t, const uint32_t *v, size_t n,
			 uint32_t win);

#endif
