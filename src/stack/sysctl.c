/*
 * sysctl.c - the table behind ustack_sysctl_set/get: one row per knob of
 * struct us_sysctl, named as the Linux sysctl it mirrors.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack.h"
#include "stack/sysctl.h"

enum sysctl_type { SYSCTL_INT, SYSCTL_UINT, SYSCTL_STRING, SYSCTL_INT3,
		   SYSCTL_INT2, SYSCTL_FOKEY };

struct sysctl_row {
	const char *name;
	enum sysctl_type type;
	size_t offset;
	int min, max;                       /* SYSCTL_INT, INT2, INT3 */
	int (*check)(const char *value);    /* SYSCTL_STRING, or NULL */
};

#define INT_ROW(n, lo, hi) \
	{ "net.ipv4." #n, SYSCTL_INT, offsetof(struct us_sysctl, n), lo, hi, NULL }
/* Three integers, as Linux's tcp_rmem: "min default max", each >= 1 and
 * in nondecreasing order (Linux only asks for >= 1; the order keeps the
 * autotuning arithmetic sane). */
#define INT3_ROW(n) \
	{ "net.ipv4." #n, SYSCTL_INT3, offsetof(struct us_sysctl, n), 1, INT_MAX, NULL }
/* Two integers, "low high", low <= high, as Linux's ip_local_port_range
 * (ipv4_local_port_range: each 1..65535, and the low end not below
 * net.ipv4.ip_unprivileged_port_start, 1024 by default, else EINVAL).
 * Both are asked for: Linux would take a lone first value and keep the
 * second. */
#define INT2_ROW(n, lo, hi) \
	{ "net.ipv4." #n, SYSCTL_INT2, offsetof(struct us_sysctl, n), lo, hi, NULL }
/* An unsigned int, 0..UINT_MAX (Linux's proc_douintvec: no sign). */
#define UINT_ROW(n) \
	{ "net.ipv4." #n, SYSCTL_UINT, offsetof(struct us_sysctl, n), 0, 0, NULL }
#define CORE_ROW(n, lo, hi) \
	{ "net.core." #n, SYSCTL_INT, offsetof(struct us_sysctl, n), lo, hi, NULL }
#define STR_ROW(n, chk) \
	{ "net.ipv4." #n, SYSCTL_STRING, offsetof(struct us_sysctl, n), 0, 0, chk }

static const struct sysctl_row sysctl_table[] = {
	INT_ROW(tcp_timestamps, 0, 1),
	INT_ROW(tcp_window_scaling, 0, 1),
	INT_ROW(tcp_sack, 0, 1),
	INT_ROW(tcp_dsack, 0, 1),
	INT_ROW(tcp_early_retrans, 0, 4),
	INT_ROW(tcp_recovery, 0, 255),   /* a u8 in Linux */
	INT_ROW(tcp_frto, 0, 2),
	INT_ROW(tcp_thin_linear_timeouts, 0, 255),   /* a u8 in Linux */
	INT_ROW(tcp_retrans_collapse, 0, 255),   /* a u8 in Linux */
	INT_ROW(tcp_retries2, 0, 255),      /* a u8 in Linux */
	INT_ROW(tcp_syn_retries, 1, 127),   /* MAX_TCP_SYNCNT */
	INT_ROW(tcp_syn_linear_timeouts, 0, 127),
	INT_ROW(tcp_ecn, 0, 2),
	INT_ROW(tcp_ecn_fallback, 0, 1),
	INT_ROW(tcp_rto_max_ms, 1000, 120000),
	INT_ROW(tcp_rto_min_us, 1, INT_MAX),
	STR_ROW(tcp_congestion_control, us_sysctl_check_congestion),
	INT3_ROW(tcp_rmem),
	INT3_ROW(tcp_wmem),
	INT_ROW(tcp_moderate_rcvbuf, 0, 1),
	INT_ROW(tcp_slow_start_after_idle, 0, 1),
	INT_ROW(tcp_cubic_hystart, 0, 1),
	INT_ROW(tcp_max_tw_buckets, 0, INT_MAX),
	INT_ROW(igmp_max_memberships, 0, INT_MAX),
	INT_ROW(igmp_max_msf, 0, INT_MAX),
	INT_ROW(tcp_orphan_retries, 0, 255),   /* a u8 in Linux */
	INT_ROW(tcp_max_orphans, 0, INT_MAX),
	INT_ROW(ip_no_pmtu_disc, 0, 3),
	INT_ROW(tcp_invalid_ratelimit, 0, INT_MAX),
	UINT_ROW(tcp_notsent_lowat),
	INT_ROW(tcp_synack_retries, 0, 255),   /* a u8 in Linux */
	INT_ROW(tcp_fastopen, INT_MIN, INT_MAX),
	{ "net.ipv4.tcp_fastopen_key", SYSCTL_FOKEY,
	  offsetof(struct us_sysctl, tcp_fastopen_key), 0, 0, NULL },
	INT2_ROW(ip_local_port_range, 1024, 65535),
	CORE_ROW(busy_read, 0, INT_MAX),
	CORE_ROW(optmem_max, 0, INT_MAX),
};

void us_sysctl_init(struct us_sysctl *s)
{
	memset(s, 0, sizeof(*s));
	s->tcp_timestamps = 1;
	s->tcp_window_scaling = 1;
	s->tcp_sack = 1;
	s->tcp_dsack = 1;
	s->tcp_early_retrans = 3;
	s->tcp_recovery = 1;
	s->tcp_frto = 2;
	s->tcp_retrans_collapse = 1;
	strcpy(s->tcp_congestion_control, "cubic");
	s->tcp_cubic_hystart = 1;
	/* Linux's default is half its connection table's chains, sized by
	 * the memory: 131072 on a machine of a few GB. */
	s->tcp_max_tw_buckets = 131072;
	s->tcp_max_orphans = 131072;   /* (the same half, in Linux) */
	s->igmp_max_memberships = 20;
	s->igmp_max_msf = 10;
	s->tcp_rmem[0] = 4096;
	s->tcp_rmem[1] = 131072;
	s->tcp_rmem[2] = 33554432;
	s->tcp_wmem[0] = 4096;
	s->tcp_wmem[1] = 16384;
	s->tcp_wmem[2] = 4194304;
	s->tcp_moderate_rcvbuf = 1;
	s->tcp_slow_start_after_idle = 1;
	s->tcp_invalid_ratelimit = 500;
	s->tcp_notsent_lowat = UINT_MAX;
	s->tcp_synack_retries = 5;
	s->tcp_fastopen = US_TFO_CLIENT_ENABLE;
	s->ip_local_port_range[0] = 32768;
	s->ip_local_port_range[1] = 60999;
	s->optmem_max = 131072;
	s->tcp_retries2 = 15;
	s->tcp_syn_retries = 6;
	s->tcp_syn_linear_timeouts = 4;
	s->tcp_ecn = 2;
	s->tcp_ecn_fallback = 1;
	s->tcp_rto_max_ms = 120000;
	s->tcp_rto_min_us = 200000;
}

/* "net.ipv4.tcp_sack" and "net/ipv4/tcp_sack" name the same knob. */
static const struct sysctl_row *sysctl_find(const char *name)
{
	char norm[64];
	size_t i, len = strlen(name);

	if (len >= sizeof(norm))
		return NULL;
	for (i = 0; i <= len; i++)
		norm[i] = name[i] == '/' ? '.' : name[i];
	for (i = 0; i < sizeof(sysctl_table) / sizeof(sysctl_table[0]); i++)
		if (strcmp(sysctl_table[i].name, norm) == 0)
			return &sysctl_table[i];
	return NULL;
}

/* "a b c" (spaces or tabs between) into n (2 or 3) ints within the
 * row's bounds, nondecreasing. */
static int sysctl_store_ints(int *field, const struct sysctl_row *r,
			     const char *value, int n)
{
	const char *p = value;
	int v[3];

	for (int i = 0; i < n; i++) {
		char *end;
		long x;

		errno = 0;
		x = strtol(p, &end, 10);
		if (errno || end == p || x < r->min || x > r->max ||
		    (i && x < v[i - 1]))
			return -EINVAL;
		v[i] = (int)x;
		p = end;
	}
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (*p)
		return -EINVAL;
	memcpy(field, v, (size_t)n * sizeof(v[0]));
	return 0;
}

/* Four (or eight) 32-bit hex words, "-" between them (and "," between
 * the keys), as Linux's proc_tcp_fastopen_key reads them with sscanf. */
static int sysctl_store_key(struct us_fastopen_keys *k, const char *value)
{
	unsigned int w[8];
	int n = sscanf(value, "%x-%x-%x-%x,%x-%x-%x-%x", &w[0], &w[1], &w[2],
		       &w[3], &w[4], &w[5], &w[6], &w[7]);

	if (n != 4 && n != 8)
		return -EINVAL;
	memset(k, 0, sizeof(*k));
	memcpy(k->w, w, (size_t)n * sizeof(w[0]));
	k->n = n / 4;
	return 0;
}

static int sysctl_load_key(const struct us_fastopen_keys *k, char *buf,
			   size_t len)
{
	const unsigned int *w = k->w;
	int n = snprintf(buf, len, "%08x-%08x-%08x-%08x", w[0], w[1], w[2],
			 w[3]);

	if (k->n == 2 && n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      ",%08x-%08x-%08x-%08x", w[4], w[5], w[6], w[7]);
	return n;
}

static int sysctl_store(struct us_sysctl *s, const struct sysctl_row *r,
			const char *value)
{
	char *field = (char *)s + r->offset;
	char *end;
	long v;

	if (r->type == SYSCTL_INT3 || r->type == SYSCTL_INT2)
		return sysctl_store_ints((int *)field, r, value,
					 r->type == SYSCTL_INT3 ? 3 : 2);

	if (r->type == SYSCTL_FOKEY)
		return sysctl_store_key((struct us_fastopen_keys *)field, value);
	/* Base 0: 0x1f and 017 too, as Linux's proc_dointvec reads them. */
	if (r->type == SYSCTL_INT) {
		errno = 0;
		v = strtol(value, &end, 0);
		if (errno || end == value || *end || v < r->min || v > r->max)
			return -EINVAL;
		*(int *)field = (int)v;
		return 0;
	}
	if (r->type == SYSCTL_UINT) {
		unsigned long u;

		errno = 0;
		u = strtoul(value, &end, 0);
		if (errno || end == value || *end || strchr(value, '-') ||
		    u > UINT_MAX)
			return -EINVAL;
		*(unsigned int *)field = (unsigned int)u;
		return 0;
	}
	if (strlen(value) >= US_SYSCTL_NAME_MAX)
		return -EINVAL;
	if (r->check) {
		int err = r->check(value);

		if (err)
			return err;
	}
	strcpy(field, value);
	return 0;
}

/* The row for a call's arguments, or NULL with errno EINVAL (a NULL
 * argument) or ENOENT (no such knob). */
static const struct sysctl_row *sysctl_lookup(struct ustack *st,
					      const char *name, const void *arg)
{
	const struct sysctl_row *r;

	if (!st || !name || !arg) {
		errno = EINVAL;
		return NULL;
	}
	r = sysctl_find(name);
	if (!r)
		errno = ENOENT;
	return r;
}

int ustack_sysctl_set(struct ustack *st, const char *name, const char *value)
{
	const struct sysctl_row *r = sysctl_lookup(st, name, value);
	int err;

	if (!r)
		return -1;
	us_core_lock(st);
	err = sysctl_store(&st->sysctl, r, value);
	pthread_mutex_unlock(&st->lock);
	if (err) {
		errno = -err;
		return -1;
	}
	return 0;
}

int ustack_sysctl_get(struct ustack *st, const char *name, char *buf,
		      size_t len)
{
	const struct sysctl_row *r = sysctl_lookup(st, name, buf);
	const char *field;
	int n;

	if (!r)
		return -1;
	us_core_lock(st);
	field = (const char *)&st->sysctl + r->offset;
	if (r->type == SYSCTL_INT)
		n = snprintf(buf, len, "%d", *(const int *)field);
	else if (r->type == SYSCTL_UINT)
		n = snprintf(buf, len, "%u", *(const unsigned int *)field);
	else if (r->type == SYSCTL_INT3)
		n = snprintf(buf, len, "%d\t%d\t%d", ((const int *)field)[0],
			     ((const int *)field)[1], ((const int *)field)[2]);
	else if (r->type == SYSCTL_INT2)
		n = snprintf(buf, len, "%d\t%d", ((const int *)field)[0],
			     ((const int *)field)[1]);
	else if (r->type == SYSCTL_FOKEY)
		n = sysctl_load_key((const struct us_fastopen_keys *)field,
				    buf, len);
	else
		n = snprintf(buf, len, "%s", field);
	pthread_mutex_unlock(&st->lock);
	if (n < 0 || (size_t)n >= len) {
		errno = ENOSPC;
		return -1;
	}
	return 0;
}
