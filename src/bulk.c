/*-------------------------------------------------------------------------
 *
 * bulk.c
 *	  Inserting rows of nexus's own tables the way COPY does.
 *
 * An INSERT ... SELECT FROM unnest(...) through SPI pays the executor per
 * row (projection, the array walk) and, worse, one foreign-key check per
 * row: for an item, a query of its order, whose row is locked again for
 * every item.  bench/ingest measured those checks alone at a sixth of
 * nexus.ingest_orders().  The ingest path knows better: the order of an
 * item was inserted or locked by the same transaction a moment before, and
 * the tenant of an order is locked once per call.  So it writes like COPY
 * (table_multi_insert, then the index entries of each row, check
 * constraints and column defaults evaluated as the executor would) and
 * leaves out the checks of the foreign keys it vouches for.
 *
 * Anything the executor would do that this does not (other triggers, rules,
 * row security forced on the owner, generated columns, deferred unique
 * checks) makes nx_bulk_begin() decline, and the caller goes through SPI;
 * so a DBA's audit trigger on nexus.orders still fires.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "rewrite/rewriteHandler.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "bulk.h"

/* Rows written per table_multi_insert(), as COPY does at most. */
#define BULK_BATCH 1000

struct NxBulkInsert
{
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	int			natts;
	int			ncolumns;
	AttrNumber *attnums;		/* of the given columns */
	FmgrInfo   *typmod_fn;		/* per given column: length coercion, or fn_oid 0 */
	int32	   *typmods;
	int			ndefaults;
	AttrNumber *default_attnums;
	ExprState **defaults;
	bool		check_constraints;
	TupleDesc	slot_desc;		/* a copy, not pinned: see nx_bulk_add() */
	TupleTableSlot **slots;
	int			nslots;			/* allocated */
	int			nbuffered;
	CommandId	cid;
};

/* Whether every insert trigger of rel is a check of one of the foreign keys named. */
static bool
only_vouched_triggers(Relation rel, const char *const *fkeys, int nfkeys)
{
	TriggerDesc *td = rel->trigdesc;

	if (td == NULL)
		return true;
	for (int i = 0; i < td->numtriggers; i++)
	{
		Trigger    *tg = &td->triggers[i];
		char	   *conname;
		bool		vouched = false;

		if (!TRIGGER_FOR_INSERT(tg->tgtype))
			continue;
		if (RI_FKey_trigger_type(tg->tgfoid) != RI_TRIGGER_FK || !OidIsValid(tg->tgconstraint))
			return false;
		conname = get_constraint_name(tg->tgconstraint);
		for (int k = 0; conname && k < nfkeys; k++)
			vouched |= strcmp(conname, fkeys[k]) == 0;
		if (!vouched)
			return false;
	}
	return true;
}

static bool
table_takes_bulk(Relation rel, const char *const *fkeys, int nfkeys)
{
	TupleConstr *constr = RelationGetDescr(rel)->constr;

	return rel->rd_rel->relkind == RELKIND_RELATION &&
		rel->rd_rules == NULL &&
		!rel->rd_rel->relforcerowsecurity &&
		!(constr && constr->has_generated_stored) &&
		only_vouched_triggers(rel, fkeys, nfkeys);
}

/* The ResultRelInfo COPY would build, indexes open. */
static void
init_executor_state(NxBulkInsert *b)
{
	RangeTblEntry *rte = makeNode(RangeTblEntry);

	rte->rtekind = RTE_RELATION;
	rte->relid = RelationGetRelid(b->rel);
	rte->relkind = b->rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;
	rte->requiredPerms = ACL_INSERT;
	b->estate = CreateExecutorState();
	ExecInitRangeTable(b->estate, list_make1(rte));
	b->rri = makeNode(ResultRelInfo);
	ExecInitResultRelation(b->estate, b->rri, 1);
	CheckValidResultRel(b->rri, CMD_INSERT);
	ExecOpenIndices(b->rri, false);
}

static bool
indexes_immediate(ResultRelInfo *rri)
{
	for (int i = 0; i < rri->ri_NumIndices; i++)
		if (!rri->ri_IndexRelationDescs[i]->rd_index->indimmediate)
			return false;
	return true;
}

/* Defaults of the columns not given, prepared like the planner would. */
static void
prepare_defaults(NxBulkInsert *b)
{
	TupleDesc	desc = RelationGetDescr(b->rel);

	b->default_attnums = palloc(sizeof(AttrNumber) * b->natts);
	b->defaults = palloc(sizeof(ExprState *) * b->natts);
	b->ndefaults = 0;
	for (int a = 1; a <= b->natts; a++)
	{
		bool		given = false;
		Node	   *expr;

		if (TupleDescAttr(desc, a - 1)->attisdropped)
			continue;
		for (int c = 0; c < b->ncolumns; c++)
			given |= b->attnums[c] == a;
		if (given || (expr = build_column_default(b->rel, a)) == NULL)
			continue;
		b->default_attnums[b->ndefaults] = a;
		b->defaults[b->ndefaults++] = ExecPrepareExpr(expression_planner((Expr *) expr), b->estate);
	}
}

NxBulkInsert *
nx_bulk_begin(const char *schema, const char *table, const char *const *columns, const Oid *types,
			  int ncolumns, const char *const *fkeys, int nfkeys)
{
	Oid			relid = get_relname_relid(table, get_namespace_oid(schema, false));
	NxBulkInsert *b;
	TupleDesc	desc;

	if (!OidIsValid(relid))
		return NULL;
	b = palloc0(sizeof(NxBulkInsert));
	b->rel = table_open(relid, RowExclusiveLock);
	if (!table_takes_bulk(b->rel, fkeys, nfkeys))
	{
		table_close(b->rel, RowExclusiveLock);
		return NULL;
	}
	desc = RelationGetDescr(b->rel);
	b->natts = desc->natts;
	b->ncolumns = ncolumns;
	b->attnums = palloc(sizeof(AttrNumber) * ncolumns);
	b->typmod_fn = palloc0(sizeof(FmgrInfo) * ncolumns);
	b->typmods = palloc(sizeof(int32) * ncolumns);
	for (int c = 0; c < ncolumns; c++)
	{
		int			a = nx_bulk_attnum(b, columns[c]);
		Form_pg_attribute att;
		Oid			fn;

		if (a == 0 || (att = TupleDescAttr(desc, a - 1))->atttypid != types[c])
		{
			table_close(b->rel, RowExclusiveLock);
			return NULL;
		}
		b->attnums[c] = a;
		/* numeric(14,2) and the like: the value gets the column's scale, as by a cast */
		b->typmods[c] = att->atttypmod;
		if (att->atttypmod >= 0 &&
			find_typmod_coercion_function(att->atttypid, &fn) == COERCION_PATH_FUNC)
			fmgr_info(fn, &b->typmod_fn[c]);
	}
	init_executor_state(b);
	if (!indexes_immediate(b->rri))
	{
		nx_bulk_end(b);
		return NULL;
	}
	prepare_defaults(b);
	b->check_constraints = desc->constr != NULL;
	b->cid = GetCurrentCommandId(true);
	return b;
}

int
nx_bulk_attnum(NxBulkInsert *b, const char *column)
{
	TupleDesc	desc = RelationGetDescr(b->rel);

	for (int a = 1; a <= desc->natts; a++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, a - 1);

		if (!att->attisdropped && strcmp(NameStr(att->attname), column) == 0)
			return a;
	}
	return 0;
}

/* The buffered rows into the heap, then their index entries. */
static void
flush(NxBulkInsert *b)
{
	if (b->nbuffered == 0)
		return;
	table_multi_insert(b->rel, b->slots, b->nbuffered, b->cid, 0, NULL);
	for (int i = 0; i < b->nbuffered; i++)
	{
		List	   *recheck = NIL;

		if (b->rri->ri_NumIndices > 0)
			recheck = ExecInsertIndexTuples(b->rri, b->slots[i], b->estate, false, false, NULL, NIL);
		/* only deferrable unique indexes ask for a recheck, and begin refused those */
		Assert(recheck == NIL);
		list_free(recheck);
	}
	b->nbuffered = 0;
	/* defaults and constraint checks of the rows just written allocated here */
	ResetPerTupleExprContext(b->estate);
}

const Datum *
nx_bulk_add(NxBulkInsert *b, const Datum *values, const bool *nulls)
{
	TupleTableSlot *slot;
	ExprContext *econtext = GetPerTupleExprContext(b->estate);

	if (b->nbuffered == BULK_BATCH)
		flush(b);
	if (b->nbuffered == b->nslots)
	{
		int			n = b->nslots == 0 ? 64 : Min(b->nslots * 2, BULK_BATCH);

		b->slots = b->slots ? repalloc(b->slots, sizeof(TupleTableSlot *) * n)
			: palloc(sizeof(TupleTableSlot *) * n);
		/*
		 * Slots on the relation's own descriptor would each pin it in the
		 * resource owner, which forgets pins by a linear search: hundreds
		 * of slots per call showed up in the profile.
		 */
		if (b->slot_desc == NULL)
			b->slot_desc = CreateTupleDescCopy(RelationGetDescr(b->rel));
		for (int i = b->nslots; i < n; i++)
			b->slots[i] = ExecAllocTableSlot(&b->estate->es_tupleTable, b->slot_desc,
											 table_slot_callbacks(b->rel));
		b->nslots = n;
	}
	slot = b->slots[b->nbuffered];
	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, sizeof(bool) * b->natts);
	for (int c = 0; c < b->ncolumns; c++)
	{
		int			a = b->attnums[c] - 1;
		Datum		v = values[c];

		/* numeric(numeric, int4); varchar and the like take isExplicit too */
		if (!nulls[c] && b->typmod_fn[c].fn_oid != InvalidOid)
			v = b->typmod_fn[c].fn_nargs == 2
				? FunctionCall2(&b->typmod_fn[c], v, Int32GetDatum(b->typmods[c]))
				: FunctionCall3(&b->typmod_fn[c], v, Int32GetDatum(b->typmods[c]), BoolGetDatum(false));
		slot->tts_values[a] = v;
		slot->tts_isnull[a] = nulls[c];
	}
	for (int d = 0; d < b->ndefaults; d++)
	{
		int			a = b->default_attnums[d] - 1;

		slot->tts_values[a] = ExecEvalExprSwitchContext(b->defaults[d], econtext,
														&slot->tts_isnull[a]);
	}
	ExecStoreVirtualTuple(slot);
	if (b->check_constraints)
		ExecConstraints(b->rri, slot, b->estate);
	b->nbuffered++;
	return slot->tts_values;
}

void
nx_bulk_end(NxBulkInsert *b)
{
	flush(b);
	ExecResetTupleTable(b->estate->es_tupleTable, false);
	ExecCloseResultRelations(b->estate);
	ExecCloseRangeTableRelations(b->estate);
	FreeExecutorState(b->estate);
	table_close(b->rel, NoLock);
	/* later statements of this transaction see the rows */
	CommandCounterIncrement();
}
