/* Declaration status.  Requests wait in a FIFO for a database connection;
 * one unit at a time carries up to STATUS_UNIT_MAX of them, one query each.
 * The JSON document is built by PostgreSQL (json_build_object), in one
 * statement, so the row, its history and its acknowledgements come from
 * one snapshot. */
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/http.h>

#include "daemon.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "log.h"

#define STATUS_QUEUE_MAX 4096
#define STATUS_UNIT_MAX 32

#define STATUS_TS(col) "to_char(" col " AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"
/* The registry (sql/007) gives the declaration's month: with received_at
 * known once the scalar subquery has run, the executor reads one monthly
 * partition of declarations instead of probing each one's index.  Its
 * events and acknowledgements come later than received_at (the same or a
 * later transaction; declared_store relies on it too): a lower bound, a
 * day early for clock steps, skips the partitions of the months before. */
#define STATUS_WHO "d.id = $1 AND d.received_at = (SELECT k.received_at " \
	"FROM declaration_keys k WHERE k.id = $1) " \
	"AND ($2::boolean OR d.submitter = $3 OR d.declarant = $3)"

static const char status_sql_json[] =
    "SELECT json_build_object("
    "'id', d.id::text, 'lrn', d.lrn, 'declarant', d.declarant, "
    "'submitter', d.submitter, 'mrn', d.mrn, 'status', d.status, "
    "'lane', d.lane, 'lane_reason', d.lane_reason, 'errors', d.errors, "
    "'version', d.version, 'profile', d.profile, "
    "'type_code', d.type_code, 'function_code', d.function_code, "
    "'item_count', d.item_count, 'hs_codes', d.hs_codes, "
    "'invoice_amount', d.invoice_amount::text, 'currency', d.currency, "
    "'received_at', " STATUS_TS("d.received_at") ", "
    "'updated_at', " STATUS_TS("d.updated_at") ", "
    "'history', COALESCE((SELECT json_agg(json_build_object("
    "'at', " STATUS_TS("e.at") ", 'actor', e.actor, 'from', e.from_status, "
    "'to', e.to_status, 'reason', e.reason) ORDER BY e.id) "
    "FROM events e WHERE e.declaration_id = d.id "
    "AND e.at >= d.received_at - interval '1 day'), '[]'::json), "
    "'acks', COALESCE((SELECT json_agg(json_build_object("
    "'party', a.party, 'seq', a.seq, 'kind', a.kind, "
    "'created_at', " STATUS_TS("a.created_at") ") ORDER BY a.created_at, a.seq) "
    "FROM acks a WHERE a.declaration_id = d.id "
    "AND a.created_at >= d.received_at - interval '1 day'), '[]'::json)"
    ")::text FROM declarations d WHERE " STATUS_WHO;

static const char status_sql_xml[] =
    "SELECT d.raw FROM declarations d WHERE " STATUS_WHO;

struct sreq {
	struct sreq *next;
	struct evhttp_request *req;
	char id[24];
	char party[128];
	int officer;
	int xml;
};

struct sunit {
	struct status *s;
	struct sreq *r[STATUS_UNIT_MAX];
	int n;
	int next;          /* results seen */
};

struct status {
	struct daemon *d;
	struct sreq *head, *tail;
	int queued;
	int busy;
	struct sunit *cur;   /* the unit in flight */
	int stopped;
};

static void status_kick(struct status *s);

struct status *
status_new(struct daemon *d)
{
	struct status *s = calloc(1, sizeof(*s));

	if (s != NULL)
		s->d = d;
	return s;
}

/* Answers (when still held) and frees r. */
static void
status_end(struct status *s, struct sreq *r, int status, const char *code,
    const char *msg, int retry_after)
{
	if (r->req != NULL)
		http_error(s->d, r->req, status, code, msg, retry_after);
	s->d->inflight--;
	free(r);
}

static int
status_send(PGconn *c, void *arg)
{
	struct sunit *u = arg;
	const char *v[3];
	int i;

	for (i = 0; i < u->n; i++) {
		v[0] = u->r[i]->id;
		v[1] = u->r[i]->officer ? "true" : "false";
		v[2] = u->r[i]->party;
		if (!PQsendQueryParams(c, u->r[i]->xml ? status_sql_xml :
		    status_sql_json, 3, NULL, v, NULL, NULL, u->r[i]->xml))
			return -1;
	}
	return PQpipelineSync(c) ? 0 : -1;
}

static int
status_result(PGresult *r, void *arg)
{
	struct sunit *u = arg;
	struct sreq *q;

	if (u->next >= u->n || PQresultStatus(r) != PGRES_TUPLES_OK)
		return -1;
	q = u->r[u->next++];
	if (q->req == NULL) {
		status_end(u->s, q, 0, NULL, NULL, 0);
	} else if (PQntuples(r) != 1) {
		status_end(u->s, q, 404, "NOT_FOUND", "no such declaration", 0);
	} else {
		json_reply_raw(u->s->d, q->req, 200,
		    q->xml ? "application/xml" : "application/json",
		    PQgetvalue(r, 0, 0), (size_t)PQgetlength(r, 0, 0));
		q->req = NULL;
		status_end(u->s, q, 0, NULL, NULL, 0);
	}
	return 0;
}

static void
status_done(void *arg, int ok, const char *err)
{
	struct sunit *u = arg;
	struct status *s = u->s;
	int i;

	if (!ok)
		log_warnx("msg=\"status query failed\" reason=\"%s\"", err ? err : "");
	for (i = u->next; i < u->n; i++)
		status_end(s, u->r[i], 503, "DB_UNAVAILABLE",
		    "the database is unavailable, try again", 2);
	free(u);
	s->cur = NULL;
	s->busy = 0;
	if (!s->stopped)
		status_kick(s);
}

static void
status_kick(struct status *s)
{
	struct sunit *u;
	struct db_unit du;

	if (s->busy || s->head == NULL || db_idle(s->d->db) == 0)
		return;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return;
	u->s = s;
	while (u->n < STATUS_UNIT_MAX && s->head != NULL) {
		u->r[u->n++] = s->head;
		s->head = s->head->next;
		s->queued--;
	}
	if (s->head == NULL)
		s->tail = NULL;
	du.send = status_send;
	du.result = status_result;
	du.done = status_done;
	du.arg = u;
	s->busy = 1;
	s->cur = u;
	if (db_run(s->d->db, &du) != 0)
		status_done(u, 0, "no idle connection");
}

void
status_get(struct status *s, struct evhttp_request *req, const char *party,
    enum role role, const char *rest)
{
	struct daemon *d = s->d;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const char *slash = strchr(rest, '/');
	size_t idlen = slash ? (size_t)(slash - rest) : strlen(rest);
	char id[24];
	int64_t v;
	struct sreq *r;

	if (slash != NULL && strcmp(slash, "/xml") != 0) {
		http_error(d, req, 404, "NOT_FOUND", "no such resource", 0);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		http_error(d, req, 405, "METHOD", "use GET", 0);
		return;
	}
	if (idlen == 0 || idlen >= sizeof(id)) {
		http_error(d, req, 404, "NOT_FOUND", "no such declaration", 0);
		return;
	}
	memcpy(id, rest, idlen);
	id[idlen] = '\0';
	if (json_parse_u63(id, &v) != 0) {
		http_error(d, req, 404, "NOT_FOUND", "no such declaration", 0);
		return;
	}
	if (s->stopped || !db_up(d->db)) {
		http_error(d, req, 503, "DB_UNAVAILABLE",
		    "the database is unavailable, try again", 2);
		return;
	}
	if (s->queued >= STATUS_QUEUE_MAX ||
	    (r = calloc(1, sizeof(*r))) == NULL) {
		http_error(d, req, 503, "OVERLOADED", "too many requests", 1);
		return;
	}
	r->req = req;
	snprintf(r->id, sizeof(r->id), "%lld", (long long)v);
	snprintf(r->party, sizeof(r->party), "%s", party);
	r->officer = role == ROLE_OFFICER;
	r->xml = slash != NULL;
	if (s->tail != NULL)
		s->tail->next = r;
	else
		s->head = r;
	s->tail = r;
	s->queued++;
	d->inflight++;
	status_kick(s);
}

void
status_db_idle(struct status *s)
{
	struct sreq *r;

	if (s == NULL || s->stopped)
		return;
	if (!db_up(s->d->db)) {
		while ((r = s->head) != NULL) {
			s->head = r->next;
			s->queued--;
			status_end(s, r, 503, "DB_UNAVAILABLE",
			    "the database is unavailable, try again", 2);
		}
		s->tail = NULL;
		return;
	}
	status_kick(s);
}

void
status_stop(struct status *s)
{
	struct sreq *r;
	int i;

	if (s == NULL)
		return;
	s->stopped = 1;
	while ((r = s->head) != NULL) {
		s->head = r->next;
		s->queued--;
		status_end(s, r, 503, "SHUTTING_DOWN", "the daemon is stopping", 5);
	}
	s->tail = NULL;
	/* the unit in flight ends in db_free, after the HTTP server is gone:
	 * answer its requests now and let it forget them then */
	for (i = s->cur ? s->cur->next : 0; s->cur != NULL && i < s->cur->n; i++) {
		r = s->cur->r[i];
		if (r->req != NULL)
			http_error(s->d, r->req, 503, "SHUTTING_DOWN",
			    "the daemon is stopping", 5);
		r->req = NULL;
	}
}

void
status_free(struct status *s)
{
	free(s);
}
