/*-------------------------------------------------------------------------
 *
 * keyset.c
 *	  Is this object key one an adapter reads?  Asked for every member of
 *	  every object of a page, so it is one hash probe: the set is hashed
 *	  into open-addressing slots the first time it is used.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <string.h>

#include "adapter.h"

#define NSLOTS (sizeof(((NxKeySet *) 0)->slots) / sizeof(((NxKeySet *) 0)->slots[0]))

/*
 * The first and the last eight bytes and the length: the keys are short
 * names that rarely share both ends, and a byte-by-byte hash of every
 * member name of a page was 3% of an ingest.
 */
static unsigned
hash(const char *key, size_t len)
{
	uint64_t	a = 0;
	uint64_t	b = 0;
	uint64_t	h;

	if (len >= 8)
	{
		memcpy(&a, key, 8);
		memcpy(&b, key + len - 8, 8);
	}
	else
		memcpy(&a, key, len);
	h = (a * UINT64_C(0x9E3779B97F4A7C15)) ^ (b * UINT64_C(0xC2B2AE3D27D4EB4F)) ^ len;
	h ^= h >> 31;
	h *= UINT64_C(0x9E3779B97F4A7C15);
	return (unsigned) (h >> 32);
}

static const char *
entry(const NxKeySet *set, unsigned idx, int *kind)
{
	if (idx < set->nkeep)
	{
		*kind = NX_KEY_KEEP;
		return set->keep[idx];
	}
	*kind = NX_KEY_WHOLE;
	return set->whole[idx - set->nkeep];
}

static void
build(NxKeySet *set)
{
	unsigned	n = 0;

	memset(set->slots, 0, sizeof(set->slots));
	set->nkeep = 0;
	while (set->keep[set->nkeep])
		set->nkeep++;
	for (const char *const *list = set->keep; list; list = list == set->keep ? set->whole : NULL)
		for (const char *const *k = list; *k; k++, n++)
		{
			unsigned	s = hash(*k, strlen(*k)) & (NSLOTS - 1);

			/* More keys than half the slots would be a mistake in keys.c: keep everything. */
			if (n >= NSLOTS / 2)
			{
				set->keep_all = true;
				set->ready = true;
				return;
			}
			while (set->slots[s] != 0)
				s = (s + 1) & (NSLOTS - 1);
			set->slots[s] = (unsigned short) (n + 1);
			set->lens[n] = (unsigned short) (strlen(*k) < 0xffff ? strlen(*k) : 0xffff);
		}
	set->ready = true;
}

int
nx_keyset_lookup(const NxKeySet *set, const char *key, size_t len)
{
	unsigned	s;

	if (!set->ready)
		build((NxKeySet *) set);
	if (set->keep_all)
		return NX_KEY_KEEP;
	for (s = hash(key, len) & (NSLOTS - 1); set->slots[s] != 0; s = (s + 1) & (NSLOTS - 1))
	{
		int			kind;
		unsigned	n = set->slots[s] - 1;
		const char *k;

		if (set->lens[n] != (len < 0xffff ? len : 0xffff))
			continue;
		k = entry(set, n, &kind);
		if (strncmp(k, key, len) == 0 && k[len] == '\0')
			return kind;
	}
	return NX_KEY_SKIP;
}
