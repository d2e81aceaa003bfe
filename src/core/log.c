/*
 * log.c - leveled log output (see log.h).
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[] = { "err", "warn", "info", "debug",
					   "trace" };

void us_log_init(struct us_log *l, int level)
{
	l->level = level;
	l->out = NULL;
	l->prefix = "ustack";
}

int us_log_level_parse(const char *s)
{
	for (int i = 0; i <= US_LOG_TRACE; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	if (s[0] >= '0' && s[0] <= '4' && s[1] == '\0')
		return s[0] - '0';
	return -1;
}

void us_log_write(const struct us_log *l, us_time_t now, int level,
		  const char *fmt, ...)
{
	FILE *out = l->out ? l->out : stderr;
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (level < 0)
		level = 0;
	if (level > US_LOG_TRACE)
		level = US_LOG_TRACE;
	fprintf(out, "[%llu.%06llu] %s %s: %s\n",
		(unsigned long long)(now / US_USEC_PER_SEC),
		(unsigned long long)(now % US_USEC_PER_SEC), l->prefix,
		level_names[level], msg);
}
