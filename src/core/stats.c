/*
 * stats.c - names and printing of counters and drop reasons (see stats.h).
 */
#include "core/stats.h"

#include <inttypes.h>

#define US_X_NAME(name, str) str,
static const char *const mib_names[US_MIB_MAX] = { US_MIB_LIST(US_X_NAME) };
static const char *const drop_names[US_DROP_MAX] = {
	US_DROP_REASON_LIST(US_X_NAME)
};
#undef US_X_NAME

const char *us_mib_name(enum us_mib m)
{
	return (unsigned)m < US_MIB_MAX ? mib_names[m] : "?";
}

const char *us_drop_reason_name(enum us_drop_reason r)
{
	return (unsigned)r < US_DROP_MAX ? drop_names[r] : "?";
}

void us_stats_print(const struct us_stats *s, FILE *f)
{
	for (int i = 0; i < US_MIB_MAX; i++)
		if (s->mib[i])
			fprintf(f, "%-28s %" PRIu64 "\n", mib_names[i], s->mib[i]);
	fprintf(f, "%-28s %" PRIu64 "\n", "drop.total", s->drops_total);
	for (int i = 0; i < US_DROP_MAX; i++)
		if (s->drops[i])
			fprintf(f, "drop.%-23s %" PRIu64 "\n", drop_names[i],
				s->drops[i]);
}
