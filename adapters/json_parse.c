/*-------------------------------------------------------------------------
 *
 * json_parse.c
 *	  A faster loader for jansson values: nx_json_loadb().
 *
 * jansson's own loader reads its input one character at a time through a
 * callback and validates every string twice; on a page of a hundred
 * orders (a megabyte of JSON) that was most of nexus.ingest_orders()
 * (bench/ingest).  This one scans the buffer directly and builds the same
 * values through jansson's no-check constructors.  It accepts exactly
 * what json_loadb(..., JSON_DECODE_ANY | JSON_ALLOW_NUL) accepts and
 * builds equal values: the unit tests compare the two on every fixture
 * and the fuzz target compares them on arbitrary input.
 *
 *-------------------------------------------------------------------------
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapter.h"

#define MAX_DEPTH 2048

typedef struct Parser
{
	const char *p;
	const char *end;
	const char *start;
	int			depth;
	json_error_t *error;
	char	   *buf;			/* scratch for strings with escapes */
	size_t		buf_cap;
	const NxKeySet *keys;		/* build only members with these keys; NULL: all */
	int			whole_depth;	/* inside a kept-whole value: no filtering (0: not) */
	bool		valid;			/* the input is known to be valid: skip without checking */
} Parser;

static json_t *parse_value(Parser *ps);
static bool skip_value(Parser *ps);

static json_t *
fail(Parser *ps, const char *msg)
{
	if (ps->error)
	{
		int			line = 1;
		int			column = 1;		/* of the offending character, 1-based */

		for (const char *q = ps->start; q < ps->p && q < ps->end; q++)
		{
			column++;
			if (*q == '\n')
			{
				line++;
				column = 1;
			}
		}
		ps->error->line = line;
		ps->error->column = column;
		ps->error->position = (int) (ps->p - ps->start);
		snprintf(ps->error->text, sizeof(ps->error->text), "%s", msg);
		ps->error->source[0] = '\0';
	}
	return NULL;
}

static void
skip_space(Parser *ps)
{
	while (ps->p < ps->end &&
		   (*ps->p == ' ' || *ps->p == '\n' || *ps->p == '\r' || *ps->p == '\t'))
		ps->p++;
}

/* Length of the UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static int
utf8_length(const unsigned char *s, size_t n)
{
	unsigned int c = s[0];
	int			len;
	unsigned int cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		len = 2, cp = c & 0x1F;
	else if (c >= 0xE0 && c <= 0xEF)
		len = 3, cp = c & 0x0F;
	else if (c >= 0xF0 && c <= 0xF4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if ((size_t) len > n)
		return 0;
	for (int i = 1; i < len; i++)
	{
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* overlong, surrogates, out of range */
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		(cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

static bool
reserve(Parser *ps, size_t need)
{
	if (need <= ps->buf_cap)
		return true;
	{
		size_t		cap = ps->buf_cap ? ps->buf_cap * 2 : 256;
		char	   *b;

		while (cap < need)
			cap *= 2;
		b = realloc(ps->buf, cap);
		if (b == NULL)
			return false;
		ps->buf = b;
		ps->buf_cap = cap;
	}
	return true;
}

static int
hex4(const char *s)
{
	int			v = 0;

	for (int i = 0; i < 4; i++)
	{
		char		c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * Word-at-a-time byte tests (the "has zero byte" trick): the high bit of
 * the result's byte i is set when byte i of v matches, and never for a
 * word with no match, which is all scan_string asks.
 */
#define SWAR_ONES UINT64_C(0x0101010101010101)
#define SWAR_HIGH UINT64_C(0x8080808080808080)

static inline uint64_t
has_less(uint64_t v, unsigned int n)
{
	return (v - SWAR_ONES * n) & ~v;
}

static inline uint64_t
has_byte(uint64_t v, unsigned int c)
{
	return has_less(v ^ (SWAR_ONES * c), 1);
}

/*
 * A string at ps->p (just past the opening quote).  Sets *out and *len to
 * either the input itself (no escapes) or ps->buf; false on error.
 */
static bool
scan_string(Parser *ps, const char **out, size_t *len)
{
	const char *s = ps->p;
	size_t		n = 0;
	bool		escaped = false;

	/* Known-valid input: the string ends at the first quote, unless a backslash comes first. */
	if (ps->valid)
	{
		const char *q = memchr(ps->p, '"', (size_t) (ps->end - ps->p));

		if (q != NULL && memchr(ps->p, '\\', (size_t) (q - ps->p)) == NULL)
		{
			*out = s;
			*len = q - s;
			ps->p = q + 1;
			return true;
		}
	}

	/*
	 * fast path: no escapes.  Most of a marketplace page is plain ASCII
	 * text, so step over eight bytes at a time while none of them is a
	 * quote, a backslash, a control character or a non-ASCII byte; the
	 * byte loop below decides about the rest.
	 */
	while (ps->end - ps->p >= 8)
	{
		uint64_t	v;

		memcpy(&v, ps->p, 8);
		if (((v | has_byte(v, '"') | has_byte(v, '\\') | has_less(v, 0x20)) & SWAR_HIGH) != 0)
			break;
		ps->p += 8;
	}
	while (ps->p < ps->end)
	{
		unsigned char c = (unsigned char) *ps->p;
		int			l;

		if (c == '"')
		{
			*out = s;
			*len = ps->p - s;
			ps->p++;
			return true;
		}
		if (c == '\\')
		{
			escaped = true;
			break;
		}
		if (c < 0x20)
		{
			fail(ps, "control character in string");
			return false;
		}
		if ((l = utf8_length((const unsigned char *) ps->p, ps->end - ps->p)) == 0)
		{
			fail(ps, "invalid UTF-8 in string");
			return false;
		}
		ps->p += l;
	}
	if (!escaped)
	{
		fail(ps, "premature end of input in string");
		return false;
	}

	/* slow path: copy what was scanned, then decode escapes */
	n = ps->p - s;
	if (!reserve(ps, n + 16))
		return false;
	memcpy(ps->buf, s, n);
	while (ps->p < ps->end)
	{
		unsigned char c = (unsigned char) *ps->p;

		if (!reserve(ps, n + 8))
			return false;
		if (c == '"')
		{
			ps->p++;
			*out = ps->buf;
			*len = n;
			return true;
		}
		if (c < 0x20)
		{
			fail(ps, "control character in string");
			return false;
		}
		if (c != '\\')
		{
			int			l = utf8_length((const unsigned char *) ps->p, ps->end - ps->p);

			if (l == 0)
			{
				fail(ps, "invalid UTF-8 in string");
				return false;
			}
			memcpy(ps->buf + n, ps->p, l);
			n += l;
			ps->p += l;
			continue;
		}
		if (ps->p + 1 >= ps->end)
			break;
		switch (ps->p[1])
		{
			case '"':
			case '\\':
			case '/':
				ps->buf[n++] = ps->p[1];
				ps->p += 2;
				break;
			case 'b':
				ps->buf[n++] = '\b';
				ps->p += 2;
				break;
			case 'f':
				ps->buf[n++] = '\f';
				ps->p += 2;
				break;
			case 'n':
				ps->buf[n++] = '\n';
				ps->p += 2;
				break;
			case 'r':
				ps->buf[n++] = '\r';
				ps->p += 2;
				break;
			case 't':
				ps->buf[n++] = '\t';
				ps->p += 2;
				break;
			case 'u':
				{
					int			cp;

					if (ps->end - ps->p < 6 || (cp = hex4(ps->p + 2)) < 0)
					{
						fail(ps, "invalid \\u escape");
						return false;
					}
					ps->p += 6;
					if (cp >= 0xD800 && cp <= 0xDBFF)
					{
						int			lo;

						if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
							(lo = hex4(ps->p + 2)) < 0xDC00 || lo > 0xDFFF)
						{
							fail(ps, "invalid Unicode surrogate pair");
							return false;
						}
						ps->p += 6;
						cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					}
					else if (cp >= 0xDC00 && cp <= 0xDFFF)
					{
						fail(ps, "invalid Unicode surrogate pair");
						return false;
					}
					if (cp < 0x80)
						ps->buf[n++] = (char) cp;
					else if (cp < 0x800)
					{
						ps->buf[n++] = (char) (0xC0 | (cp >> 6));
						ps->buf[n++] = (char) (0x80 | (cp & 0x3F));
					}
					else if (cp < 0x10000)
					{
						ps->buf[n++] = (char) (0xE0 | (cp >> 12));
						ps->buf[n++] = (char) (0x80 | ((cp >> 6) & 0x3F));
						ps->buf[n++] = (char) (0x80 | (cp & 0x3F));
					}
					else
					{
						ps->buf[n++] = (char) (0xF0 | (cp >> 18));
						ps->buf[n++] = (char) (0x80 | ((cp >> 12) & 0x3F));
						ps->buf[n++] = (char) (0x80 | ((cp >> 6) & 0x3F));
						ps->buf[n++] = (char) (0x80 | (cp & 0x3F));
					}
					break;
				}
			default:
				fail(ps, "invalid escape");
				return false;
		}
	}
	fail(ps, "premature end of input in string");
	return false;
}

static json_t *
parse_number(Parser *ps)
{
	const char *s = ps->p;
	bool		is_real = false;
	char		small[64];
	char	   *text = small;
	size_t		len;
	json_t	   *v;

	if (ps->p < ps->end && *ps->p == '-')
		ps->p++;
	if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9'))
		return fail(ps, "invalid number");
	if (*ps->p == '0')
	{
		ps->p++;
		if (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			return fail(ps, "invalid number");
	}
	else
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	if (ps->p < ps->end && *ps->p == '.')
	{
		is_real = true;
		ps->p++;
		if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9'))
			return fail(ps, "invalid number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E'))
	{
		is_real = true;
		ps->p++;
		if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-'))
			ps->p++;
		if (ps->p >= ps->end || !(*ps->p >= '0' && *ps->p <= '9'))
			return fail(ps, "invalid number");
		while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
			ps->p++;
	}
	len = ps->p - s;
	if (len >= sizeof(small) && (text = malloc(len + 1)) == NULL)
		return fail(ps, "out of memory");
	memcpy(text, s, len);
	text[len] = '\0';
	errno = 0;
	if (!is_real)
	{
		long long	i = strtoll(text, NULL, 10);

		v = errno == ERANGE ? fail(ps, "too big integer") : json_integer(i);
	}
	else
	{
		double		d = strtod(text, NULL);

		v = (errno == ERANGE && (d == HUGE_VAL || d == -HUGE_VAL)) || isinf(d) ?
			fail(ps, "real number overflow") : json_real(d);
	}
	if (text != small)
		free(text);
	return v;
}

static bool
literal(Parser *ps, const char *word)
{
	size_t		n = strlen(word);

	if ((size_t) (ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
		return false;
	ps->p += n;
	return true;
}

static json_t *
parse_object(Parser *ps)
{
	json_t	   *obj = nx_json_new_object();

	if (obj == NULL)
		return fail(ps, "out of memory");
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == '}')
	{
		ps->p++;
		return obj;
	}
	for (;;)
	{
		const char *key;
		size_t		klen;
		char		small[128];
		char	   *k = small;
		json_t	   *v;

		skip_space(ps);
		if (ps->p >= ps->end || *ps->p != '"')
		{
			json_decref(obj);
			return fail(ps, "string or '}' expected");
		}
		ps->p++;
		if (!scan_string(ps, &key, &klen))
		{
			json_decref(obj);
			return NULL;
		}
		if (memchr(key, '\0', klen) != NULL)
		{
			json_decref(obj);
			return fail(ps, "NUL byte in object key not supported");
		}
		if (klen >= sizeof(small) && (k = malloc(klen + 1)) == NULL)
		{
			json_decref(obj);
			return fail(ps, "out of memory");
		}
		memcpy(k, key, klen);
		k[klen] = '\0';
		skip_space(ps);
		if (ps->p >= ps->end || *ps->p != ':')
		{
			if (k != small)
				free(k);
			json_decref(obj);
			return fail(ps, "':' expected");
		}
		ps->p++;
		if (ps->keys && ps->whole_depth == 0)
		{
			int			kind = nx_keyset_lookup(ps->keys, k, klen);

			if (kind == NX_KEY_SKIP)
			{
				/*
				 * The document's own members stay, as nulls: a document
				 * is never made to look empty (bol's last page is "{ }").
				 */
				bool		root = ps->depth == 1;

				if (!skip_value(ps))
				{
					if (k != small)
						free(k);
					json_decref(obj);
					return NULL;
				}
				if (root && json_object_set_new_nocheck(obj, k, json_null()) != 0)
				{
					if (k != small)
						free(k);
					json_decref(obj);
					return fail(ps, "out of memory");
				}
				if (k != small)
					free(k);
				goto next_member;
			}
			if (kind == NX_KEY_WHOLE)
			{
				ps->whole_depth = ps->depth;
				v = parse_value(ps);
				ps->whole_depth = 0;
				goto have_value;
			}
		}
		v = parse_value(ps);
have_value:
		if (v == NULL || json_object_set_new_nocheck(obj, k, v) != 0)
		{
			if (k != small)
				free(k);
			json_decref(obj);
			return v ? fail(ps, "out of memory") : NULL;
		}
		if (k != small)
			free(k);
next_member:
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',')
		{
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == '}')
		{
			ps->p++;
			return obj;
		}
		json_decref(obj);
		return fail(ps, "'}' expected");
	}
}

/*
 * Check a value the caller does not want, building nothing: it must be
 * exactly as valid as parse_value() would find it, so that a filtered
 * load accepts and rejects the same documents as a full one.
 */
static bool
skip_container(Parser *ps, char close)
{
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == close)
	{
		ps->p++;
		return true;
	}
	for (;;)
	{
		if (close == '}')
		{
			const char *key;
			size_t		klen;

			skip_space(ps);
			if (ps->p >= ps->end || *ps->p != '"')
				return fail(ps, "string or '}' expected") != NULL;
			ps->p++;
			if (!scan_string(ps, &key, &klen))
				return false;
			if (memchr(key, '\0', klen) != NULL)
				return fail(ps, "NUL byte in object key not supported") != NULL;
			skip_space(ps);
			if (ps->p >= ps->end || *ps->p != ':')
				return fail(ps, "':' expected") != NULL;
			ps->p++;
		}
		if (!skip_value(ps))
			return false;
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',')
		{
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == close)
		{
			ps->p++;
			return true;
		}
		return fail(ps, close == '}' ? "'}' expected" : "']' expected") != NULL;
	}
}

/*
 * Skip a value of input known to be valid JSON (PostgreSQL's json type in a
 * UTF-8 database has been checked by json_in already): find its end only.
 */
static bool
skip_valid(Parser *ps)
{
	const char *p = ps->p;
	const char *end = ps->end;
	int			depth = 0;

	do
	{
		while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == ','
						   || *p == ':'))
			p++;
		if (p >= end)
			break;
		switch (*p)
		{
			case '"':
				for (p++;;)
				{
					const char *q = memchr(p, '"', (size_t) (end - p));
					const char *b;

					if (q == NULL)
					{
						ps->p = end;
						return fail(ps, "unexpected end of input") != NULL;
					}
					for (b = q; b > p && b[-1] == '\\'; b--)
						;
					p = q + 1;
					if (((q - b) & 1) == 0)
						break;	/* an even run of backslashes escapes nothing */
				}
				break;
			case '{':
			case '[':
				depth++;
				p++;
				break;
			case '}':
			case ']':
				depth--;
				p++;
				break;
			default:
				while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' &&
					   *p != '\n' && *p != '\r' && *p != '\t')
					p++;
				break;
		}
	} while (depth > 0);
	ps->p = p;
	return depth == 0 || fail(ps, "unexpected end of input") != NULL;
}

static bool
skip_value(Parser *ps)
{
	if (ps->valid)
	{
		skip_space(ps);
		return skip_valid(ps);
	}
	skip_space(ps);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of input") != NULL;
	switch (*ps->p)
	{
		case '{':
		case '[':
			{
				bool		ok;

				if (++ps->depth > MAX_DEPTH)
					return fail(ps, "maximum parsing depth reached") != NULL;
				ps->p++;
				ok = skip_container(ps, ps->p[-1] == '{' ? '}' : ']');
				ps->depth--;
				return ok;
			}
		case '"':
			{
				const char *s;
				size_t		len;

				ps->p++;
				return scan_string(ps, &s, &len);
			}
		case 't':
			return literal(ps, "true") || fail(ps, "invalid token") != NULL;
		case 'f':
			return literal(ps, "false") || fail(ps, "invalid token") != NULL;
		case 'n':
			return literal(ps, "null") || fail(ps, "invalid token") != NULL;
		default:
			if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
			{
				/* Numbers are rare and their range checks subtle: parse and drop. */
				json_t	   *v = parse_number(ps);

				json_decref(v);
				return v != NULL;
			}
			return fail(ps, "invalid token") != NULL;
	}
}

static json_t *
parse_array(Parser *ps)
{
	json_t	   *arr = json_array();

	if (arr == NULL)
		return fail(ps, "out of memory");
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == ']')
	{
		ps->p++;
		return arr;
	}
	for (;;)
	{
		json_t	   *v = parse_value(ps);

		if (v == NULL || json_array_append_new(arr, v) != 0)
		{
			json_decref(arr);
			return v ? fail(ps, "out of memory") : NULL;
		}
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',')
		{
			ps->p++;
			continue;
		}
		if (ps->p < ps->end && *ps->p == ']')
		{
			ps->p++;
			return arr;
		}
		json_decref(arr);
		return fail(ps, "']' expected");
	}
}

static json_t *
parse_value(Parser *ps)
{
	json_t	   *v;

	skip_space(ps);
	if (ps->p >= ps->end)
		return fail(ps, "unexpected end of input");
	switch (*ps->p)
	{
		case '{':
		case '[':
			if (++ps->depth > MAX_DEPTH)
				return fail(ps, "maximum parsing depth reached");
			ps->p++;
			v = ps->p[-1] == '{' ? parse_object(ps) : parse_array(ps);
			ps->depth--;
			return v;
		case '"':
			{
				const char *s;
				size_t		len;

				ps->p++;
				if (!scan_string(ps, &s, &len))
					return NULL;
				v = json_stringn_nocheck(s, len);
				return v ? v : fail(ps, "out of memory");
			}
		case 't':
			return literal(ps, "true") ? json_true() : fail(ps, "invalid token");
		case 'f':
			return literal(ps, "false") ? json_false() : fail(ps, "invalid token");
		case 'n':
			return literal(ps, "null") ? json_null() : fail(ps, "invalid token");
		default:
			if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9'))
				return parse_number(ps);
			return fail(ps, "invalid token");
	}
}

json_t *
nx_json_loadb(const char *buffer, size_t len, json_error_t *error)
{
	return nx_json_loadb_keys(buffer, len, NULL, error);
}

json_t *
nx_json_loadb_keys(const char *buffer, size_t len, const NxKeySet *keys, json_error_t *error)
{
	return nx_json_loadb_valid(buffer, len, keys, false, error);
}

json_t *
nx_json_loadb_valid(const char *buffer, size_t len, const NxKeySet *keys, bool valid,
					json_error_t *error)
{
	Parser		ps = {buffer, buffer + len, buffer, 0, error, NULL, 0, keys, 0, valid && keys != NULL};
	json_t	   *v = parse_value(&ps);

	if (v != NULL)
	{
		skip_space(&ps);
		if (ps.p != ps.end)
		{
			json_decref(v);
			v = fail(&ps, "end of file expected");
		}
	}
	free(ps.buf);
	return v;
}
