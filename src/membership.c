/*-------------------------------------------------------------------------
 *
 * membership.c
 *	  Look-ups that the tenant context trusts: is this user an active member
 *	  of that tenant, and with which role.
 *
 * They read nexus.memberships through its primary key directly, not through
 * SQL: they run inside row-level-security checks as the API role, where a
 * query would need privileges the role must not have and would recurse
 * into the very policies being evaluated.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"

#include "nexus.h"

static Snapshot
lookup_snapshot(void)
{
	return ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot();
}

static char *
text_column(HeapTuple tup, TupleDesc desc, const char *name)
{
	AttrNumber	att = InvalidAttrNumber;
	bool		isnull;
	Datum		d;

	for (int i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), name) == 0)
			att = i + 1;
	if (att == InvalidAttrNumber)
		elog(ERROR, "nexus: column \"%s\" is missing", name);
	d = heap_getattr(tup, att, desc, &isnull);
	return isnull ? NULL : TextDatumGetCString(d);
}

/*
 * Fetch the single row of relation schema.relname whose primary key is
 * (first) or (first, second), and return the named text columns.
 */
static bool
fetch_by_pkey(const char *schema, const char *relname,
			  const pg_uuid_t *first, const pg_uuid_t *second,
			  int ncols, const char *const *cols, char **values, Oid *relid_out)
{
	Oid			relid = nexus_relid(schema, relname, true);
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData keys[2];
	HeapTuple	tup;
	bool		found = false;

	if (relid_out)
		*relid_out = relid;
	if (!OidIsValid(relid))
		return false;			/* extension not installed here: nobody is a member */
	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&keys[0], 1, BTEqualStrategyNumber, F_UUID_EQ, UUIDPGetDatum(first));
	if (second)
		ScanKeyInit(&keys[1], 2, BTEqualStrategyNumber, F_UUID_EQ, UUIDPGetDatum(second));
	scan = systable_beginscan(rel, RelationGetPrimaryKeyIndex(rel), true,
							  lookup_snapshot(), second ? 2 : 1, keys);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		for (int i = 0; i < ncols; i++)
			values[i] = text_column(tup, RelationGetDescr(rel), cols[i]);
		found = true;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

NexusRole
nexus_membership_role(const pg_uuid_t *tenant, const pg_uuid_t *user, Oid *relid_out)
{
	static const char *const cols[] = {"role", "status"};
	char	   *values[2];

	if (!fetch_by_pkey("nexus", "memberships", tenant, user, 2, cols, values, relid_out))
		return NEXUS_ROLE_NONE;
	if (values[1] == NULL || strcmp(values[1], "active") != 0)
		return NEXUS_ROLE_NONE;
	return nexus_role_from_name(values[0], true);
}

bool
nexus_tenant_plan(const pg_uuid_t *tenant, NexusPlan *plan)
{
	static const char *const cols[] = {"plan"};
	char	   *values[1];

	if (!fetch_by_pkey("nexus", "tenants", tenant, NULL, 1, cols, values, NULL) || !values[0])
		return false;
	if (strcmp(values[0], "enterprise") == 0)
		*plan = NEXUS_PLAN_ENTERPRISE;
	else if (strcmp(values[0], "growth") == 0)
		*plan = NEXUS_PLAN_GROWTH;
	else
		*plan = NEXUS_PLAN_STARTER;
	return true;
}
