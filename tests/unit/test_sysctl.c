/*
 * test_sysctl.c - ustack_sysctl_set/get (src/stack/sysctl.c): Linux's
 * defaults, both name spellings, range and type checks with their errno,
 * the congestion-control name checked against what TCP has, and settings
 * staying per instance.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "stack/stack.h"

static struct ustack *new_stack(void)
{
	struct ustack_config cfg;
	struct ustack *st;

	ustack_config_init(&cfg);
	cfg.seed = 1;
	cfg.no_loopback = 1;
	st = ustack_create(&cfg);
	assert_non_null(st);
	return st;
}

static void assert_value(struct ustack *st, const char *name,
			 const char *want)
{
	char buf[32];

	assert_int_equal(ustack_sysctl_get(st, name, buf, sizeof(buf)), 0);
	assert_string_equal(buf, want);
}

static void test_defaults_are_linux(void **state)
{
	struct ustack *st = new_stack();

	(void)state;
	assert_value(st, "net.ipv4.tcp_sack", "1");
	assert_value(st, "net.ipv4.tcp_timestamps", "1");
	assert_value(st, "net.ipv4.tcp_window_scaling", "1");
	assert_value(st, "net.ipv4.tcp_dsack", "1");
	assert_value(st, "net.ipv4.tcp_congestion_control", "cubic");
	assert_value(st, "net.core.busy_read", "0");
	assert_value(st, "net.ipv4.ip_no_pmtu_disc", "0");
	assert_value(st, "net.ipv4.tcp_orphan_retries", "0");
	assert_value(st, "net.ipv4.ip_local_port_range", "32768\t60999");
	assert_value(st, "net.ipv4.tcp_notsent_lowat", "4294967295");
	assert_int_equal(st->sysctl.tcp_sack, 1);
	ustack_destroy(st);
}

static void test_set_and_spellings(void **state)
{
	struct ustack *st = new_stack();

	(void)state;
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_sack", "0"), 0);
	assert_int_equal(st->sysctl.tcp_sack, 0);
	assert_value(st, "net/ipv4/tcp_sack", "0");
	assert_int_equal(ustack_sysctl_set(st, "net/ipv4/tcp_timestamps", "0"),
			 0);
	assert_int_equal(st->sysctl.tcp_timestamps, 0);
	assert_int_equal(st->sysctl.tcp_window_scaling, 1);
	assert_int_equal(ustack_sysctl_set(st, "net.core.busy_read", "50"), 0);
	assert_int_equal(st->sysctl.busy_read, 50);
	assert_int_equal(ustack_sysctl_set(st, "net/core/busy_read", "-1"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(st->sysctl.busy_read, 50);
	/* An unsigned knob (Linux's proc_douintvec): no sign, 32 bits. */
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_notsent_lowat",
					   "3000000000"), 0);
	assert_value(st, "net.ipv4.tcp_notsent_lowat", "3000000000");
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_notsent_lowat",
					   "-1"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_notsent_lowat",
					   "4294967296"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(st->sysctl.tcp_notsent_lowat, 3000000000u);
	ustack_destroy(st);
}

static void test_errors(void **state)
{
	struct ustack *st = new_stack();
	char small[2];
	const char *bad[] = { "2", "-1", "", "1x", "x", "99999999999999999999" };
	size_t i;

	(void)state;
	errno = 0;
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_nonesuch", "1"),
			 -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(ustack_sysctl_set(st, "tcp_sack", "1"), -1);
	assert_int_equal(errno, ENOENT);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_sack",
						   bad[i]), -1);
		assert_int_equal(errno, EINVAL);
		assert_int_equal(st->sysctl.tcp_sack, 1); /* unchanged */
	}
	assert_int_equal(ustack_sysctl_get(st, "net.ipv4.tcp_congestion_control",
					   small, sizeof(small)), -1);
	assert_int_equal(errno, ENOSPC);
	ustack_destroy(st);
}

static void test_congestion_name_checked(void **state)
{
	struct ustack *st = new_stack();
	char name[US_SYSCTL_NAME_MAX];

	(void)state;
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_congestion_control",
					   "no-such-algo"), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_congestion_control",
					   "a-name-longer-than-the-field"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_congestion_control",
					   "reno"), 0);
	assert_int_equal(ustack_sysctl_get(st, "net.ipv4.tcp_congestion_control",
					   name, sizeof(name)), 0);
	assert_string_equal(name, "reno");
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_congestion_control",
					   "cubic"), 0);
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_congestion_control",
					   "vegas"), -1);
	assert_int_equal(errno, ENOENT);
	assert_value(st, "net.ipv4.tcp_congestion_control", "cubic");
	ustack_destroy(st);
}

/* Linux's ipv4_local_port_range: two ports, each 1..65535, the second not
 * below the first, the first not below ip_unprivileged_port_start (1024);
 * anything else EINVAL and the range unchanged. */
static void test_local_port_range(void **state)
{
	struct ustack *st = new_stack();
	const char *bad[] = { "1000 2000", "0 5", "40001 40000",
			      "40000 70000", "a b", "40000 40001x" };
	size_t i;

	(void)state;
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.ip_local_port_range",
					   "40000\t40000"), 0);
	assert_value(st, "net.ipv4.ip_local_port_range", "40000\t40000");
	assert_int_equal(ustack_sysctl_set(st, "net/ipv4/ip_local_port_range",
					   "1024 65535\n"), 0);
	assert_value(st, "net.ipv4.ip_local_port_range", "1024\t65535");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		assert_int_equal(ustack_sysctl_set(st,
				 "net.ipv4.ip_local_port_range", bad[i]), -1);
		assert_int_equal(errno, EINVAL);
		assert_value(st, "net.ipv4.ip_local_port_range",
			     "1024\t65535");
	}
	/* tcp_orphan_retries is a u8 in Linux. */
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_orphan_retries",
					   "255"), 0);
	assert_int_equal(ustack_sysctl_set(st, "net.ipv4.tcp_orphan_retries",
					   "256"), -1);
	assert_int_equal(errno, EINVAL);
	assert_value(st, "net.ipv4.tcp_orphan_retries", "255");
	ustack_destroy(st);
}

static void test_per_instance(void **state)
{
	struct ustack *a = new_stack(), *b = new_stack();

	(void)state;
	assert_int_equal(ustack_sysctl_set(a, "net.ipv4.tcp_window_scaling",
					   "0"), 0);
	assert_value(a, "net.ipv4.tcp_window_scaling", "0");
	assert_value(b, "net.ipv4.tcp_window_scaling", "1");
	ustack_destroy(a);
	ustack_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_linux),
		cmocka_unit_test(test_set_and_spellings),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_congestion_name_checked),
		cmocka_unit_test(test_local_port_range),
		cmocka_unit_test(test_per_instance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
