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
/* The replica's lag, asked of the replica itself (one more statement, no
 * sync): 0 when it has replayed all it received, else the age of the last
 * replayed transaction. */
int stats_send_lag(PGconn *c);
/* Sets doc's "replica": {"source": "replica", "lag_s": N} from that
 * result; -1 when malformed. */
int stats_lag_result(json_t *doc, const PGresult *r);
/* Sets doc's "replica": {"source": "primary", "lag_s": null}: a replica is
 * configured but down, the counts were read on the primary. */
int stats_lag_primary(json_t *doc);

#endif
