#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lifecycle.h"

#define STATS_STR(x) STATS_STR2(x)
#define STATS_STR2(x) #x
#define STATS_SINCE "now() - interval '" STATS_STR(STATS_WINDOW_HOURS) " hours'"

/* Each statement answers (name, count) rows.  The status and lane indexes
 * leave out released and green (most rows): those two are the window's
 * total less the others.  The subqueries repeat the partial indexes'
 * predicates, as the planner cannot see that "status = s" implies them for
 * every s. */
#define STATS_ST "d.status <> 'released'"
#define STATS_LN "(d.lane <> 'green' OR d.lane IS NULL)"
static const char stats_sql_open[] =
    "SELECT s, (SELECT count(*) FROM declarations d WHERE d.status = s AND "
    STATS_ST ") FROM unnest($1::text[]) s";
static const char stats_sql_status[] =
    "WITH c AS (SELECT s, (SELECT count(*) FROM declarations d "
    "WHERE d.status = s AND " STATS_ST " AND d.received_at >= " STATS_SINCE
    ") AS n "
    "FROM unnest($1::text[]) s) "
    "SELECT s, n FROM c UNION ALL SELECT 'released', "
    "(SELECT count(*) FROM declarations d WHERE d.received_at >= " STATS_SINCE
    ") - (SELECT COALESCE(sum(n), 0) FROM c)";
static const char stats_sql_lane[] =
    "WITH c AS (SELECT COALESCE(l, 'none') AS s, CASE WHEN l IS NULL THEN "
    "(SELECT count(*) FROM declarations d WHERE d.lane IS NULL AND " STATS_LN
    " AND d.received_at >= " STATS_SINCE ") ELSE "
    "(SELECT count(*) FROM declarations d WHERE d.lane = l AND " STATS_LN
    " AND d.received_at >= " STATS_SINCE ") END AS n "
    "FROM unnest(ARRAY['yellow', 'red', NULL]) l) "
    "SELECT s, n FROM c UNION ALL SELECT 'green', "
    "(SELECT count(*) FROM declarations d WHERE d.received_at >= " STATS_SINCE
    ") - (SELECT COALESCE(sum(n), 0) FROM c)";
/* The minutes of the window counted in one range scan each (grouped by
 * minute), not by a subquery per minute: the planner cannot estimate a
 * subquery run once per row of generate_series, and over monthly
 * partitions its guess (a thousand rows, each a range of 0.5 % of the
 * table) was costly enough to have the query JIT-compiled: some 40 ms of
 * compiling for a query that runs in under one. */
#define STATS_M0 "(date_trunc('minute', now()) - interval '" \
	STATS_STR(STATS_MINUTES) " minutes' + interval '1 minute')"
#define STATS_M1 "(date_trunc('minute', now()) + interval '1 minute')"
static const char stats_sql_minutes[] =
    "SELECT to_char(g.m AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI\"Z\"'), "
    "COALESCE(r.n, 0), COALESCE(e.n, 0) "
    "FROM generate_series(" STATS_M0 ", date_trunc('minute', now()), "
    "interval '1 minute') AS g(m) "
    "LEFT JOIN (SELECT date_trunc('minute', d.received_at) AS m, count(*) AS n "
    "FROM declarations d WHERE d.received_at >= " STATS_M0
    " AND d.received_at < " STATS_M1 " GROUP BY 1) r ON r.m = g.m "
    "LEFT JOIN (SELECT date_trunc('minute', e.at) AS m, count(*) AS n "
    "FROM events e WHERE e.action IS NOT NULL AND e.at >= " STATS_M0
    " AND e.at < " STATS_M1 " GROUP BY 1) e ON e.m = g.m "
    "ORDER BY g.m";

/* "{a,b,c}" of the states: those awaiting a decision (open), or all but
 * released. */
static void
stats_states(char *out, size_t cap, int open_only)
{
	size_t used = 0;
	int s;

	out[used++] = '{';
	for (s = 0; s < LC_STATE_COUNT; s++) {
		if (open_only ? lifecycle_final((enum lc_state)s) : s == LC_RELEASED)
			continue;
		used += (size_t)snprintf(out + used, cap - used, "%s%s",
		    used > 1 ? "," : "", lifecycle_state_name((enum lc_state)s));
	}
	snprintf(out + used, cap - used, "}");
}

int
stats_send(PGconn *c)
{
	char open[256], others[256];
	const char *v[1];

	stats_states(open, sizeof(open), 1);
	stats_states(others, sizeof(others), 0);
	v[0] = open;
	if (!PQsendQueryParams(c, stats_sql_open, 1, NULL, v, NULL, NULL, 0))
		return -1;
	v[0] = others;
	if (!PQsendQueryParams(c, stats_sql_status, 1, NULL, v, NULL, NULL, 0) ||
	    !PQsendQueryParams(c, stats_sql_lane, 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsendQueryParams(c, stats_sql_minutes, 0, NULL, NULL, NULL, NULL, 0))
		return -1;
	return 0;
}

json_t *
stats_doc_new(void)
{
	char now[32];
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(now, sizeof(now), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_pack("{s:s, s:i, s:{}, s:{}, s:{}, s:[]}", "as_of", now,
	    "window_hours", STATS_WINDOW_HOURS, "open", "by_status", "by_lane",
	    "per_minute");
}

static int
stats_counts(json_t *obj, const PGresult *r)
{
	int i;

	if (PQnfields(r) != 2)
		return -1;
	for (i = 0; i < PQntuples(r); i++)
		if (json_object_set_new(obj, PQgetvalue(r, i, 0),
		    json_integer(atoll(PQgetvalue(r, i, 1)))) != 0)
			return -1;
	return 0;
}

static int
stats_minutes(json_t *arr, const PGresult *r)
{
	int i;

	if (PQnfields(r) != 3)
		return -1;
	for (i = 0; i < PQntuples(r); i++)
		if (json_array_append_new(arr, json_pack("{s:s, s:I, s:I}",
		    "minute", PQgetvalue(r, i, 0),
		    "received", (json_int_t)atoll(PQgetvalue(r, i, 1)),
		    "decided", (json_int_t)atoll(PQgetvalue(r, i, 2)))) != 0)
			return -1;
	return 0;
}

int
stats_result(json_t *doc, int i, const PGresult *r)
{
	static const char *const key[STATS_NRESULTS] = { "open", "by_status",
		"by_lane", "per_minute" };

	if (i < 0 || i >= STATS_NRESULTS || PQresultStatus(r) != PGRES_TUPLES_OK)
		return -1;
	if (i == 3)
		return stats_minutes(json_object_get(doc, key[i]), r);
	return stats_counts(json_object_get(doc, key[i]), r);
}

static const char stats_sql_lag[] =
    "SELECT CASE WHEN NOT pg_is_in_recovery() THEN NULL "
    "WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
    "ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END";

int
stats_send_lag(PGconn *c)
{
	return PQsendQueryParams(c, stats_sql_lag, 0, NULL, NULL, NULL, NULL, 0) ?
	    0 : -1;
}

int
stats_lag_result(json_t *doc, const PGresult *r)
{
	json_t *lag;

	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1 ||
	    PQnfields(r) != 1)
		return -1;
	lag = PQgetisnull(r, 0, 0) ? json_null() :
	    json_real(strtod(PQgetvalue(r, 0, 0), NULL));
	return json_object_set_new(doc, "replica", json_pack("{s:s, s:o}",
	    "source", "replica", "lag_s", lag));
}

int
stats_lag_primary(json_t *doc)
{
	return json_object_set_new(doc, "replica", json_pack("{s:s, s:n}",
	    "source", "primary", "lag_s"));
}
