/*
 * log.h - leveled logging for a stack instance.
 *
 * Lines go to the instance's log sink (stderr by default) prefixed with the
 * engine's current time, so a trace of a virtual-clock run reads in virtual
 * time. Formatting is skipped entirely when the level is off.
 */
#ifndef US_CORE_LOG_H
#define US_CORE_LOG_H

#include <stdio.h>

#include "core/clock.h"

enum us_log_level {
	US_LOG_ERR = 0,
	US_LOG_WARN = 1,
	US_LOG_INFO = 2,
	US_LOG_DEBUG = 3,
	US_LOG_TRACE = 4,
};

struct us_log {
	int level;  /* messages above this level are not formatted */
	FILE *out;  /* NULL = stderr */
	const char *prefix;
};

void us_log_init(struct us_log *l, int level);
/* Parse "err", "warn", "info", "debug", "trace" or a digit; -1 if unknown. */
int us_log_level_parse(const char *s);
void us_log_write(const struct us_log *l, us_time_t now, int level,
		  const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* us_log(st, US_LOG_INFO, "fmt", ...) for any struct with `log` and `now`. */
#define us_log(st, lvl, ...) \
	do { \
		if ((lvl) <= (st)->log.level) \
			us_log_write(&(st)->log, (st)->now, (lvl), __VA_ARGS__); \
	} while (0)

#endif
