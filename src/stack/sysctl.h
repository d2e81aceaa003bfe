/*
 * sysctl.h - per-instance tunables named as Linux names them
 * (net.ipv4.tcp_sack, ...), so that a test, a benchmark or a packetdrill
 * script sets ustack the way it sets the kernel.
 *
 * Each knob is a field of struct us_sysctl, read by the protocol code under
 * the core lock, and one row of the table in sysctl.c (name, type, bounds),
 * which ustack_sysctl_set/get use. Defaults are Linux's.
 */
#ifndef US_STACK_SYSCTL_H
#define US_STACK_SYSCTL_H

#define US_SYSCTL_NAME_MAX 16

struct us_sysctl {
	int tcp_timestamps;        /* RFC 7323 timestamps offered (1) */
	int tcp_window_scaling;    /* RFC 7323 window scale offered (1) */
	int tcp_sack;              /* RFC 2018 SACK offered (1) */
	int tcp_dsack;             /* RFC 2883 D-SACK sent (1) */
	int tcp_early_retrans;     /* Tail Loss Probe (RFC 8985 §7): on
				      with 3 or 4 (3), off with 0 */
	int tcp_recovery;          /* bit 1: RACK loss detection (RFC 8985
				      §6) on SACK connections (1); bit 2:
				      static reordering window; bit 4: no
				      DupThresh shortcut in it (Linux's) */
	int tcp_frto;              /* F-RTO (RFC 5682 §3.1, the SACK
				      version) after a timeout: on unless 0
				      (2, as Linux) */
	int tcp_retrans_collapse;  /* short segments sent again take the
				      ones behind them along, up to a
				      segment (Linux's
				      tcp_retrans_try_collapse): on unless
				      0 (1) */
	int tcp_retries2;          /* timeouts before a connection fails */
	int tcp_syn_retries;       /* SYNs before a connect() fails, unless
				      TCP_SYNCNT says */
	int tcp_ecn;               /* ECN: 0 never, 1 ask and accept, 2 accept
				      when asked (default; no AccECN: 3-5 are
				      refused) */
	int tcp_ecn_fallback;      /* a SYN sent again asks no ECN (1) */
	int tcp_syn_linear_timeouts; /* SYN timeouts that keep the RTO (and
					add to the retries) before it
					doubles (Linux 6.5, default 4) */
	int tcp_rto_max_ms;        /* a new socket's TCP_RTO_MAX_MS */
	int tcp_rto_min_us;        /* and TCP_RTO_MIN_US */
	int tcp_thin_linear_timeouts; /* TCP_THIN_LINEAR_TIMEOUTS for every
				      connection when not 0 (0) */
	char tcp_congestion_control[US_SYSCTL_NAME_MAX]; /* default algorithm */
	/* Receive and send buffer sizes: min, default, max (Linux's
	 * net.ipv4.tcp_rmem / tcp_wmem as a fresh 6.18 namespace has them).
	 * rmem's max also sets the window scale we offer. */
	int tcp_rmem[3];
	int tcp_wmem[3];
	int tcp_moderate_rcvbuf;   /* receive-buffer autotuning (1) */
	int tcp_slow_start_after_idle; /* a window not used for an RTO
				      shrinks before data goes again (RFC
				      5681 §4.1; 1, as Linux) */
	int tcp_cubic_hystart;     /* CUBIC runs HyStart++ (1); Linux's
				      tcp_cubic.hystart module parameter */
	int igmp_max_memberships;  /* groups a socket may join (ENOBUFS
				      past them); Linux's default 20 */
	int igmp_max_msf;          /* sources in a socket's filter for a
				      group (ENOBUFS past them); 10 */
	int tcp_max_tw_buckets;    /* connections in TIME_WAIT at most;
				      past it a connection ends at once */
	int tcp_orphan_retries;    /* timeouts an orphan (closed with data
				      or a FIN unacknowledged) retransmits
				      through, as tcp_retries2 counts them;
				      0 (the default): 8 while the backed-off
				      RTO is below TCP_RTO_MAX, none after */
	int tcp_max_orphans;       /* orphans at most: past it a close, or
				      an orphan's timeout, resets (Linux's
				      tcp_out_of_resources) */
	int busy_read;             /* net.core.busy_read: microseconds a
				      blocked socket call polls the devices
				      before it sleeps (0: it sleeps at
				      once, as Linux's default) */
	int optmem_max;            /* net.core.optmem_max: bytes of a
				      socket's option memory (MSG_ZEROCOPY's
				      records, a source filter's size) */
	/* The ephemeral ports: bind() to port 0, a datagram socket's
	 * autobind, connect()'s choice (Linux's ip_local_port_range, "32768
	 * 60999"; low <= high, low not below 1024). */
	int ip_local_port_range[2];
	int ip_no_pmtu_disc;       /* not 0: new sockets start with
				      IP_PMTUDISC_DONT, else WANT (0); and
				      "fragmentation needed" sets the path
				      to the minimum (1), is ignored (2),
				      or is taken for TCP only (3) */
	unsigned int tcp_notsent_lowat; /* unsent bytes past which a TCP
				      socket takes no new segment and poll
				      says it is not writable, unless
				      TCP_NOTSENT_LOWAT says otherwise
				      (UINT_MAX: no limit, Linux's) */
	int tcp_invalid_ratelimit; /* ms between ACKs that answer invalid
				      segments on one connection (500; 0:
				      every one is answered) */
	int tcp_synack_retries;    /* a listener's SYN-ACK timeouts before
				      its child is given up (5; a Fast Open
				      child one more) */
	int tcp_fastopen;          /* TCP Fast Open (RFC 7413), Linux's
				      bits: 0x1 client, 0x2 server, 0x4
				      client without a cookie, 0x200 server
				      without one, 0x400 every listener
				      (0x1) */
	/* The server's cookie key, "%08x-%08x-%08x-%08x" as Linux writes
	 * it, and a second one also accepted after a comma (Linux's
	 * net.ipv4.tcp_fastopen_key): n is 0 (none yet: a random one is
	 * made at first use, tcp_fastopen.c), 1 or 2. */
	struct us_fastopen_keys {
		unsigned int w[8];
		int n;
	} tcp_fastopen_key;
};

/* net.ipv4.tcp_fastopen's bits (Linux's TFO_*) */
#define US_TFO_CLIENT_ENABLE 0x1
#define US_TFO_SERVER_ENABLE 0x2
#define US_TFO_CLIENT_NO_COOKIE 0x4
#define US_TFO_SERVER_COOKIE_NOT_REQD 0x200
#define US_TFO_SERVER_WO_SOCKOPT1 0x400

struct ustack;

void us_sysctl_init(struct us_sysctl *s);

/*
 * Validator for tcp_congestion_control: 0 when `name` is an algorithm
 * ustack has, -ENOENT otherwise (Linux refuses unknown names the same way).
 * Defined by the congestion-control code.
 */
int us_sysctl_check_congestion(const char *name);

#endif
