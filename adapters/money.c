/*-------------------------------------------------------------------------
 *
 * money.c
 *	  Exact money: decimal text to minor units and back, never through a
 *	  binary float.
 *
 * Marketplaces write amounts as decimal strings ("45.2"), JSON numbers
 * (bol's 12.49), objects around either, or integer cents (Kaufland).  All
 * become an int64 count of the currency's minor unit, rounded half away
 * from zero when the source has more decimals than the currency.
 *
 *-------------------------------------------------------------------------
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

int
nx_currency_exponent(const char *code)
{
	static const char *const zero[] = {
		"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF",
		"UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF", NULL
	};
	static const char *const three[] = {"BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND", NULL};

	if (code == NULL)
		return 2;
	for (int i = 0; zero[i]; i++)
		if (strcmp(code, zero[i]) == 0)
			return 0;
	for (int i = 0; three[i]; i++)
		if (strcmp(code, three[i]) == 0)
			return 3;
	return 2;
}

int
nx_money_parse(const char *text, int exponent, NxMoney *out, NxError *err, const char *field)
{
	const char *p = text;
	bool		negative = false;
	int64_t		whole = 0;
	int64_t		frac = 0;
	int			frac_digits = 0;
	int			round_digit = -1;
	bool		any_digit = false;
	int64_t		scale = 1;
	int64_t		minor;

	out->present = false;
	out->minor = 0;
	if (text == NULL)
		return nx_fail(err, "%s: missing amount", field);
	while (*p == ' ')
		p++;
	if (*p == '-' || *p == '+')
		negative = (*p++ == '-');
	for (; isdigit((unsigned char) *p); p++)
	{
		any_digit = true;
		if (whole > NX_MONEY_MAX_MINOR / 10)
			return nx_fail(err, "%s: amount \"%.40s\" is too large", field, text);
		whole = whole * 10 + (*p - '0');
	}
	if (*p == '.')
	{
		for (p++; isdigit((unsigned char) *p); p++)
		{
			any_digit = true;
			if (frac_digits < exponent)
			{
				frac = frac * 10 + (*p - '0');
				frac_digits++;
			}
			else if (round_digit < 0)
				round_digit = *p - '0';
		}
	}
	while (*p == ' ')
		p++;
	if (!any_digit || *p != '\0')
		return nx_fail(err, "%s: \"%.40s\" is not a decimal amount", field, text);
	for (int i = 0; i < exponent; i++)
		scale *= 10;
	for (; frac_digits < exponent; frac_digits++)
		frac *= 10;
	if (whole > NX_MONEY_MAX_MINOR / scale)
		return nx_fail(err, "%s: amount \"%.40s\" is too large", field, text);
	minor = whole * scale + frac + (round_digit >= 5 ? 1 : 0);
	out->present = true;
	out->minor = negative ? -minor : minor;
	return NX_OK;
}

/*
 * The shortest "%.*g" text that reads back as the same double: for a
 * literal of at most 15 significant digits that is the literal itself.
 */
static void
shortest_decimal(double v, char *buf, size_t size)
{
	for (int prec = 15; prec <= 17; prec++)
	{
		snprintf(buf, size, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* "%g" may say 1e+15; spell it out (the parser takes plain decimals only). */
static int
expand_exponent(const char *in, char *out, size_t size)
{
	const char *e = strpbrk(in, "eE");
	char		mant[64];
	int			exp10;
	char	   *dot;
	char		digits[64];
	int			ndig = 0;
	int			point;
	bool		neg = false;
	size_t		n = 0;

	if (e == NULL)
	{
		snprintf(out, size, "%s", in);
		return 0;
	}
	snprintf(mant, sizeof(mant), "%.*s", (int) (e - in), in);
	exp10 = atoi(e + 1);
	if (exp10 > 20 || exp10 < -20)
		return -1;
	if (mant[0] == '-')
		neg = true;
	dot = strchr(mant, '.');
	point = dot ? (int) (dot - mant) - (neg ? 1 : 0) : (int) strlen(mant) - (neg ? 1 : 0);
	for (char *q = mant + (neg ? 1 : 0); *q; q++)
		if (isdigit((unsigned char) *q))
			digits[ndig++] = *q;
	point += exp10;
	if (neg)
		out[n++] = '-';
	if (point <= 0)
	{
		out[n++] = '0';
		out[n++] = '.';
		for (int i = 0; i < -point && n < size - 2; i++)
			out[n++] = '0';
		for (int i = 0; i < ndig && n < size - 1; i++)
			out[n++] = digits[i];
	}
	else
	{
		for (int i = 0; i < point && n < size - 2; i++)
			out[n++] = i < ndig ? digits[i] : '0';
		if (ndig > point)
		{
			out[n++] = '.';
			for (int i = point; i < ndig && n < size - 1; i++)
				out[n++] = digits[i];
		}
	}
	out[n] = '\0';
	return 0;
}

int
nx_money_from_json(const json_t *value, int exponent, NxMoney *out, NxError *err,
				   const char *field)
{
	char		buf[64];
	char		plain[96];

	out->present = false;
	out->minor = 0;
	if (value == NULL || json_is_null(value))
		return NX_OK;
	if (json_is_string(value))
		return nx_money_parse(json_string_value(value), exponent, out, err, field);
	if (json_is_integer(value))
	{
		snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(value));
		return nx_money_parse(buf, exponent, out, err, field);
	}
	if (json_is_real(value))
	{
		shortest_decimal(json_real_value(value), buf, sizeof(buf));
		if (expand_exponent(buf, plain, sizeof(plain)) != 0)
			return nx_fail(err, "%s: amount %s is out of range", field, buf);
		return nx_money_parse(plain, exponent, out, err, field);
	}
	return nx_fail(err, "%s: expected an amount (string or number), got %s", field,
				   json_is_object(value) ? "an object" : json_is_array(value) ? "an array" :
				   "a boolean");
}

int
nx_money_from_minor(int64_t minor, int src_exponent, int exponent, NxMoney *out,
					NxError *err, const char *field)
{
	int64_t		v = minor;

	out->present = false;
	out->minor = 0;
	if (v > NX_MONEY_MAX_MINOR || v < -NX_MONEY_MAX_MINOR)
		return nx_fail(err, "%s: amount %lld is too large", field, (long long) minor);
	for (int e = src_exponent; e < exponent; e++)
		v *= 10;
	for (int e = exponent; e < src_exponent; e++)
	{
		int64_t		q = v / 10;
		int64_t		r = v % 10;

		v = q + (r >= 5 ? 1 : r <= -5 ? -1 : 0);
	}
	out->present = true;
	out->minor = v;
	return NX_OK;
}

/*
 * Sums saturate just past NX_MONEY_MAX_MINOR instead of overflowing: the
 * result is then too large to store, and the ingest reports that order as
 * failed rather than writing a wrapped-around amount.
 */
static int64_t
saturate(int64_t v)
{
	if (v > NX_MONEY_MAX_MINOR)
		return NX_MONEY_MAX_MINOR + 1;
	if (v < -NX_MONEY_MAX_MINOR)
		return -NX_MONEY_MAX_MINOR - 1;
	return v;
}

NxMoney
nx_money_add(NxMoney a, NxMoney b)
{
	NxMoney		r = {a.present || b.present, 0};

	/* both operands are at most ~1e15 after saturation: no int64 overflow */
	r.minor = saturate(saturate(a.present ? a.minor : 0) + saturate(b.present ? b.minor : 0));
	return r;
}

int
nx_money_accumulate(NxMoney *acc, NxMoney v, const char *field, NxError *err)
{
	NxMoney		sum = nx_money_add(*acc, v);

	if (sum.minor > NX_MONEY_MAX_MINOR || sum.minor < -NX_MONEY_MAX_MINOR)
		return nx_fail(err, "%s: the sum is too large", field);
	*acc = sum;
	return NX_OK;
}

NxMoney
nx_money_sub(NxMoney a, NxMoney b)
{
	NxMoney		r = {a.present || b.present, 0};

	r.minor = saturate(saturate(a.present ? a.minor : 0) - saturate(b.present ? b.minor : 0));
	return r;
}

NxMoney
nx_money_div(NxMoney a, int64_t quantity)
{
	NxMoney		r = a;
	int64_t		q;
	int64_t		rem;

	if (!a.present || quantity <= 0)
	{
		if (quantity <= 0)
			r.present = false;
		return r;
	}
	q = a.minor / quantity;
	rem = a.minor % quantity;
	/* half away from zero: compare twice the remainder with the divisor */
	if (rem > 0 && rem >= quantity - rem)
		q++;
	else if (rem < 0 && -rem >= quantity + rem)
		q--;
	r.minor = q;
	return r;
}

NxMoney
nx_money_mul(NxMoney a, int64_t quantity)
{
	NxMoney		r = a;

	if (a.present)
	{
		int64_t		m = saturate(a.minor);
		int64_t		q = quantity < 0 ? -quantity : quantity;

		if (quantity != 0 && (m > NX_MONEY_MAX_MINOR / q || m < -NX_MONEY_MAX_MINOR / q))
			r.minor = (m > 0) == (quantity > 0) ? NX_MONEY_MAX_MINOR + 1 : -NX_MONEY_MAX_MINOR - 1;
		else
			r.minor = m * quantity;
	}
	return r;
}

void
nx_money_format(NxMoney m, int exponent, char *buf, size_t size)
{
	int64_t		scale = 1;
	int64_t		v = m.minor < 0 ? -m.minor : m.minor;

	for (int i = 0; i < exponent; i++)
		scale *= 10;
	if (exponent == 0)
		snprintf(buf, size, "%s%lld", m.minor < 0 ? "-" : "", (long long) v);
	else
		snprintf(buf, size, "%s%lld.%0*lld", m.minor < 0 ? "-" : "", (long long) (v / scale),
				 exponent, (long long) (v % scale));
}
