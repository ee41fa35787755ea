/* stats: GET /v1/stats, the console's counters, read in one database unit:
 *   open        declarations now in a state that awaits a decision
 *               (received, accepted, documents_required, inspection, held),
 *               whenever they arrived: the officers' work queues
 *   by_status   declarations received in the last 24 hours, by state
 *   by_lane     the same, by lane ("none": rejected at intake)
 *   per_minute  the last 15 minutes: declarations received and officer
 *               decisions taken per minute
 * Every count is an index-only range scan (sql/004_officers.sql); the
 * caller caches the document for a few seconds. */
#ifndef DECLARED_STATS_H
#define DECLARED_STATS_H

#include <jansson.h>
#include <libpq-fe.h>

#define STATS_WINDOW_HOURS 24
#define STATS_MINUTES 15
#define STATS_NRESULTS 4

/* Sends the STATS_NRESULTS statements (no sync).  0 or -1. */
int stats_send(PGconn *c);
/* An empty document to fill. */
json_t *stats_doc_new(void);
/* Adds the i-th result (0..STATS_NRESULTS-1) to doc; -1 when malformed. */
int stats_result(json_t *doc, int i, const PGresult *r);

#endif
