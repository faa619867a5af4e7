/*-------------------------------------------------------------------------
 *
 * keyset.c
 *	  Is this object key one an adapter reads?  Asked for every member of
 *	  every object of a page, so it is one hash probe: the set is hashed
 *	  into open-addressing slots the first time it is used.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "adapter.h"

#define NSLOTS (sizeof(((NxKeySet *) 0)->slots) / sizeof(((NxKeySet *) 0)->slots[0]))

static unsigned
hash(const char *key, size_t len)
{
	unsigned	h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char) key[i]) * 16777619u;
	return h;
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
		const char *k = entry(set, set->slots[s] - 1, &kind);

		if (strncmp(k, key, len) == 0 && k[len] == '\0')
			return kind;
	}
	return NX_KEY_SKIP;
}
