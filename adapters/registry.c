/*-------------------------------------------------------------------------
 *
 * registry.c
 *	  The seven adapters by name.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "adapter.h"

const NxAdapter *
nx_adapter_find(const char *name)
{
	static const NxAdapter *const all[] = {
		&nx_amazon_adapter, &nx_ebay_adapter, &nx_bol_adapter, &nx_kaufland_adapter,
		&nx_shopify_adapter, &nx_zalando_adapter, &nx_walmart_adapter
	};

	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(all[i]->name, name) == 0)
			return all[i];
	return NULL;
}
