/*-------------------------------------------------------------------------
 *
 * bulk.h
 *	  Inserting rows the way COPY does (multi-insert into the heap, then
 *	  the indexes), for the ingest path's own tables.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NEXUS_BULK_H
#define NEXUS_BULK_H

#include "postgres.h"

typedef struct NxBulkInsert NxBulkInsert;

/*
 * Opens schema.table for inserting rows of the named columns, whose values
 * have the given types.  Returns NULL when the table needs the executor:
 * it is not a plain table, has rules, forced row security, generated
 * columns, deferrable unique indexes, a column of another type than given,
 * or any insert trigger other than the checks of the foreign keys named in
 * fkeys.  Those checks are not run: the caller guarantees the referenced
 * rows exist and stay until commit.
 */
extern NxBulkInsert *nx_bulk_begin(const char *schema, const char *table,
								   const char *const *columns, const Oid *types, int ncolumns,
								   const char *const *fkeys, int nfkeys);

/* The attribute number of a column of the table (0: none). */
extern int	nx_bulk_attnum(NxBulkInsert *b, const char *column);

/*
 * Adds a row (values in the order of the columns given to begin); the other
 * columns get their defaults.  Check constraints and NOT NULL are checked
 * here.  Returns the whole row, defaults included, valid until the next
 * call.
 */
extern const Datum *nx_bulk_add(NxBulkInsert *b, const Datum *values, const bool *nulls);

/* Writes what is buffered and closes the table. */
extern void nx_bulk_end(NxBulkInsert *b);

#endif							/* NEXUS_BULK_H */
