/*
 * isotime.c: UTC ISO-8601 formatting without the general date formatter
 * (it runs on every hot-path call), and epoch milliseconds.
 */
#include "postgres.h"

#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "isotime.h"

void
vt_iso_format(TimestampTz ts, char *buf)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (TIMESTAMP_NOT_FINITE(ts) || timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
	{
		strlcpy(buf, "infinity", VT_ISO_BUFLEN);
		return;
	}
	if (fsec != 0)
		snprintf(buf, VT_ISO_BUFLEN, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
				 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
				 (int) fsec);
	else
		snprintf(buf, VT_ISO_BUFLEN, "%04d-%02d-%02dT%02d:%02d:%02dZ",
				 tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int64
vt_epoch_ms(TimestampTz ts)
{
	return ts / 1000 + (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * 1000;
}
