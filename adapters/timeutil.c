/*-------------------------------------------------------------------------
 *
 * timeutil.c
 *	  Marketplace timestamps to UTC seconds and back.
 *
 * Own calendar arithmetic (days from civil date) rather than timegm() or
 * the TZ environment: the result must not depend on the process's time
 * zone, and offsets come from the text itself.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "adapter.h"

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		era;
	int64_t		yoe;
	int64_t		doy;
	int64_t		doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	int64_t		era;
	int64_t		doe;
	int64_t		yoe;
	int64_t		doy;
	int64_t		mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int) (doy - (153 * mp + 2) / 5 + 1);
	*m = (int) (mp < 10 ? mp + 3 : mp - 9);
	*y = (int) (yoe + era * 400 + (*m <= 2));
}

static bool
digits(const char *p, int n, int *out)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (!isdigit((unsigned char) p[i]))
			return false;
		v = v * 10 + (p[i] - '0');
	}
	*out = v;
	return true;
}

int
nx_time_parse(const char *text, int64_t *out, NxError *err, const char *field)
{
	const char *p = text;
	int			y,
				mo,
				d,
				h,
				mi,
				s = 0;
	int			oh = 0,
				om = 0;
	int			sign = 0;
	static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (text == NULL)
		return nx_fail(err, "%s: missing timestamp", field);
	if (!digits(p, 4, &y) || p[4] != '-' || !digits(p + 5, 2, &mo) || p[7] != '-' ||
		!digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != 't' && p[10] != ' ') ||
		!digits(p + 11, 2, &h) || p[13] != ':' || !digits(p + 14, 2, &mi))
		return nx_fail(err, "%s: \"%.40s\" is not an ISO 8601 timestamp", field, text);
	p += 16;
	if (*p == ':')
	{
		if (!digits(p + 1, 2, &s))
			return nx_fail(err, "%s: \"%.40s\" is not an ISO 8601 timestamp", field, text);
		p += 3;
		if (*p == '.' || *p == ',')
		{
			p++;
			if (!isdigit((unsigned char) *p))
				return nx_fail(err, "%s: \"%.40s\" has an empty fraction", field, text);
			while (isdigit((unsigned char) *p))
				p++;			/* fractions are truncated */
		}
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-')
	{
		sign = *p == '-' ? -1 : 1;
		if (!digits(p + 1, 2, &oh))
			return nx_fail(err, "%s: \"%.40s\" has a malformed offset", field, text);
		p += 3;
		if (*p == ':')
			p++;
		if (isdigit((unsigned char) *p))
		{
			if (!digits(p, 2, &om))
				return nx_fail(err, "%s: \"%.40s\" has a malformed offset", field, text);
			p += 2;
		}
	}
	if (*p != '\0')
		return nx_fail(err, "%s: \"%.40s\" has trailing characters", field, text);
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
		(mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) ||
		h > 23 || mi > 59 || s > 60 || oh > 23 || om > 59)
		return nx_fail(err, "%s: \"%.40s\" is not a valid date and time", field, text);
	if (s == 60)
		s = 59;					/* a leap second is not worth an error */
	*out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
		sign * (oh * 3600 + om * 60);
	return NX_OK;
}

int64_t
nx_time_from_epoch_ms(int64_t ms)
{
	/* floor division, without negating INT64_MIN */
	return ms / 1000 - (ms % 1000 < 0 ? 1 : 0);
}

void
nx_time_format(int64_t t, char *buf, size_t size)
{
	int64_t		days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	int64_t		secs = t - days * 86400;
	int			y,
				m,
				d;

	civil_from_days(days, &y, &m, &d);
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d,
			 (int) (secs / 3600), (int) (secs / 60 % 60), (int) (secs % 60));
}
