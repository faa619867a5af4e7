/*-------------------------------------------------------------------------
 *
 * ingest.h
 *	  The order upsert, shared by nexus.ingest_orders() and the webhook
 *	  endpoints.
 *
 *-------------------------------------------------------------------------
 */
#ifndef NEXUS_INGEST_H
#define NEXUS_INGEST_H

#include "adapt.h"
#include "utils/uuid.h"

typedef struct NexusIngestCounts
{
	int64		inserted;
	int64		updated;
	int64		unchanged;
	int64		stale;
	int			nfailed;
	NexusFailure *failed;
} NexusIngestCounts;

/* SPI must be connected; raises on database errors, never for one bad order. */
extern void nexus_ingest_payload(const pg_uuid_t *tenant, const pg_uuid_t *conn,
								 const char *marketplace, NexusPayload *p,
								 NexusIngestCounts *counts);

/* The result object of ingest_orders(), as JSON text. */
extern char *nexus_ingest_result_json(const NexusIngestCounts *c, const NexusPayload *p);

extern Datum jsonb_from_cstring(const char *text);

/* orders.c: the connection's tenant and marketplace, if the caller may write with scope. */
extern void nexus_connection_for_write(const pg_uuid_t *conn, pg_uuid_t *tenant,
									   char **marketplace, const char *scope);

#endif							/* NEXUS_INGEST_H */
