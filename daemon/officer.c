/* Officer routes: search, decisions, stats, console.  Every request that
 * needs the database becomes a task in one FIFO; a decision goes through
 * it twice (read, then the guarded write) with a worker signing its
 * acknowledgement in between. */
#include "officer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/http.h>

#include "config.h"
#include "console.h"
#include "daemon.h"
#include "db.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "otask.h"
#include "stats.h"

#define OFFICER_QUEUE_MAX 1024
#define OFFICER_STATS_TTL_NS (5ull * 1000000000ull)

/* Officer queries: no parallel workers (the daemon and PostgreSQL share
 * few cores, and a page is small) and no JIT (compiling costs more than
 * these queries), for this unit's implicit transaction only. */
static const char officer_sql_session[] =
    "SELECT set_config('max_parallel_workers_per_gather', '0', true), "
    "set_config('jit', 'off', true)";

struct officer {
	struct daemon *d;
	struct otask *head, *tail;    /* waiting for the database */
	int queued;
	int busy;                     /* a unit in flight */
	struct otask *live;
	int stopped;
	json_t *stats;                /* cached document */
	uint64_t stats_at;
	struct otask *stats_task;     /* the one computing it */
	struct otask *stats_waiting;  /* parked until it is done */
};

static void officer_kick(struct officer *o);

struct officer *
officer_new(struct daemon *d)
{
	struct officer *o = calloc(1, sizeof(*o));

	if (o != NULL)
		o->d = d;
	return o;
}

struct daemon *
officer_daemon(const struct officer *o)
{
	return o->d;
}

int
officer_stopped(const struct officer *o)
{
	return o->stopped;
}

struct otask *
officer_task(struct officer *o, struct evhttp_request *req, enum otask_kind k)
{
	struct otask *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->o = o;
	t->req = req;
	t->kind = k;
	t->next = o->live;
	if (o->live != NULL)
		o->live->prev = t;
	o->live = t;
	o->d->inflight++;
	return t;
}

void
officer_task_free(struct otask *t)
{
	struct officer *o = t->o;

	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		o->live = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	if (t->req != NULL) {
		/* every path answers first; never leave a client hanging */
		http_error(o->d, t->req, 500, "INTERNAL", "request dropped", 0);
		o->d->inflight--;
	}
	json_decref(t->out);
	free(t->ack);
	free(t);
}

/* Answers with a JSON document (not consumed), if still held. */
void
officer_json(struct otask *t, int status, const json_t *doc)
{
	if (t->req == NULL)
		return;
	json_reply(t->o->d, t->req, status, doc);
	t->req = NULL;
	t->o->d->inflight--;
}

/* Answers {"error": code, "message": msg[, "state": state]}. */
void
officer_error(struct otask *t, int status, const char *code, const char *msg,
    const char *state, int retry_after)
{
	json_t *e;

	if (t->req == NULL)
		return;
	if (state == NULL) {
		http_error(t->o->d, t->req, status, code, msg, retry_after);
		t->req = NULL;
		t->o->d->inflight--;
		return;
	}
	e = json_pack("{s:s, s:s, s:s}", "error", code, "state", state,
	    "message", msg);
	officer_json(t, status, e);
	json_decref(e);
}

void
officer_enqueue(struct officer *o, struct otask *t)
{
	t->qnext = NULL;
	t->nres = 0;
	if (o->tail != NULL)
		o->tail->qnext = t;
	else
		o->head = t;
	o->tail = t;
	o->queued++;
	officer_kick(o);
}

/* ---- the database unit of one task ---- */

static int
officer_send(PGconn *c, void *arg)
{
	struct otask *t = arg;

	if (!PQsendQueryParams(c, officer_sql_session, 0, NULL, NULL, NULL, NULL, 0))
		return -1;
	switch (t->kind) {
	case OT_SEARCH:
		if (!PQsendQueryParams(c, t->search.sql, t->search.nparams, NULL,
		    t->search.params, NULL, NULL, 0))
			return -1;
		break;
	case OT_STATS:
		if (stats_send(c) != 0 || (t->on_replica && stats_send_lag(c) != 0))
			return -1;
		break;
	case OT_READ:
	case OT_DECIDE:
		if (decide_send(c, t) != 0)
			return -1;
		break;
	}
	return PQpipelineSync(c) ? 0 : -1;
}

static int
officer_has_replica(const struct otask *t)
{
	return t->o->d->rdb != NULL;
}

static int
officer_result(PGresult *r, void *arg)
{
	struct otask *t = arg;
	int i = t->nres++;

	if (i == 0)
		return 0;   /* the session settings */
	if (PQresultStatus(r) != PGRES_TUPLES_OK)
		return -1;
	switch (t->kind) {
	case OT_SEARCH:
		return (t->out = search_page(&t->search, r)) != NULL ? 0 : -1;
	case OT_STATS:
		if (i == 1 && (t->out = stats_doc_new()) == NULL)
			return -1;
		if (i == 1 && !t->on_replica && officer_has_replica(t) &&
		    stats_lag_primary(t->out) != 0)
			return -1;
		if (i == 1 + STATS_NRESULTS)
			return stats_lag_result(t->out, r);
		return stats_result(t->out, i - 1, r);
	case OT_READ:
	case OT_DECIDE:
		return decide_result(t, r);
	}
	return -1;
}

static void officer_stats_done(struct otask *t, int ok);

static void
officer_done(void *arg, int ok, const char *err)
{
	struct otask *t = arg;
	struct officer *o = t->o;

	o->busy = 0;
	if (!ok)
		log_warnx("msg=\"officer query failed\" kind=%d reason=\"%s\"",
		    (int)t->kind, err ? err : "");
	if (t->kind == OT_STATS) {
		officer_stats_done(t, ok);
	} else if (o->stopped) {
		officer_task_free(t);   /* answered by officer_stop */
	} else if (t->kind == OT_READ || t->kind == OT_DECIDE) {
		decide_done(t, ok);
	} else if (!ok) {
		officer_error(t, 503, "DB_UNAVAILABLE",
		    "the database is unavailable, try again", NULL, 2);
		officer_task_free(t);
	} else {
		officer_json(t, 200, t->out);
		officer_task_free(t);
	}
	if (!o->stopped)
		officer_kick(o);
}

/* Searches and stats read the replica when one is configured and up;
 * decisions (and the read before them) must see their own writes: the
 * primary. */
static struct db *
officer_db(const struct officer *o, const struct otask *t)
{
	struct db *r = o->d->rdb;

	if (r != NULL && db_up(r) && (t->kind == OT_SEARCH || t->kind == OT_STATS))
		return r;
	return o->d->db;
}

static void
officer_kick(struct officer *o)
{
	struct otask *t;
	struct db_unit u;
	struct db *db;

	while (!o->busy && o->head != NULL &&
	    db_idle(db = officer_db(o, o->head)) > 0) {
		t = o->head;
		o->head = t->qnext;
		if (o->head == NULL)
			o->tail = NULL;
		o->queued--;
		if (t->req == NULL && t->kind == OT_SEARCH) {
			officer_task_free(t);   /* nobody waits for it any more */
			continue;
		}
		u.send = officer_send;
		u.result = officer_result;
		u.done = officer_done;
		u.arg = t;
		o->busy = 1;
		t->on_replica = db != o->d->db;
		if (db_run(db, &u) != 0)
			officer_done(t, 0, "no idle connection");
	}
}

/* ---- search and stats ---- */

static void
officer_search(struct officer *o, struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct otask *t;
	char err[160];

	if ((t = officer_task(o, req, OT_SEARCH)) == NULL) {
		http_error(o->d, req, 503, "NO_MEMORY", "out of memory", 1);
		return;
	}
	if (search_parse(&t->search, uri ? evhttp_uri_get_query(uri) : NULL, err,
	    sizeof(err)) != 0) {
		officer_error(t, 400, "BAD_QUERY", err, NULL, 0);
		officer_task_free(t);
		return;
	}
	officer_enqueue(o, t);
}

static void
officer_stats_done(struct otask *t, int ok)
{
	struct officer *o = t->o;
	struct otask *w;

	ok = ok && t->out != NULL;
	if (ok) {
		json_decref(o->stats);
		o->stats = json_incref(t->out);
		o->stats_at = daemon_now_ns();
	}
	o->stats_task = NULL;
	t->qnext = o->stats_waiting;
	o->stats_waiting = NULL;
	for (; t != NULL; t = w) {
		w = t->qnext;
		if (ok)
			officer_json(t, 200, o->stats);
		else
			officer_error(t, 503, "DB_UNAVAILABLE",
			    "the database is unavailable, try again", NULL, 2);
		officer_task_free(t);
	}
}

void
officer_stats_stale(struct officer *o)
{
	o->stats_at = 0;
}

/* One query for everyone: requests that come while it runs wait for it. */
static void
officer_stats(struct officer *o, struct evhttp_request *req)
{
	struct otask *t;

	if (o->stats != NULL && daemon_now_ns() - o->stats_at < OFFICER_STATS_TTL_NS) {
		json_reply(o->d, req, 200, o->stats);
		return;
	}
	if ((t = officer_task(o, req, OT_STATS)) == NULL) {
		http_error(o->d, req, 503, "NO_MEMORY", "out of memory", 1);
		return;
	}
	if (o->stats_task != NULL) {
		t->qnext = o->stats_waiting;   /* never queued: qnext is free */
		o->stats_waiting = t;
		return;
	}
	o->stats_task = t;
	officer_enqueue(o, t);
}

/* ---- routing and lifetime ---- */

static int
officer_is_decision(const char *path)
{
	size_t n = strlen(path), a = strlen("/v1/declarations/"),
	    b = strlen("/decision");

	return n > a + b && strncmp(path, "/v1/declarations/", a) == 0 &&
	    strcmp(path + n - b, "/decision") == 0;
}

int
officer_route(struct officer *o, struct evhttp_request *req, const char *path,
    const char *party, enum role role)
{
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	int search = strcmp(path, "/v1/declarations") == 0 &&
	    (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD);
	int stats = strcmp(path, "/v1/stats") == 0;
	int decision = officer_is_decision(path);
	int console = strcmp(path, "/") == 0 || strcmp(path, "/console") == 0 ||
	    strncmp(path, "/console/", 9) == 0;

	if (!search && !stats && !decision && !console)
		return 0;
	if (role != ROLE_OFFICER) {
		http_error(o->d, req, 403, "ROLE_FORBIDDEN",
		    "only officer certificates may use this resource", 0);
		return 1;
	}
	if (console) {
		console_serve(o->d, req, o->d->cfg->web_root, path);
		return 1;
	}
	if (o->stopped || o->d->stopping) {
		http_error(o->d, req, 503, "SHUTTING_DOWN", "the daemon is stopping", 5);
		return 1;
	}
	if (!db_up(o->d->db)) {
		http_error(o->d, req, 503, "DB_UNAVAILABLE",
		    "the database is unavailable, try again", 2);
		return 1;
	}
	if (o->queued >= OFFICER_QUEUE_MAX) {
		http_error(o->d, req, 503, "OVERLOADED", "too many requests", 1);
		return 1;
	}
	if (search)
		officer_search(o, req);
	else if (stats)
		officer_stats(o, req);
	else
		decide_start(o, req, path, party);
	return 1;
}

void
officer_db_idle(struct officer *o)
{
	struct otask *t;

	if (o == NULL || o->stopped)
		return;
	if (db_up(o->d->db)) {
		officer_kick(o);
		return;
	}
	/* fast 503s: nothing waits for a database that is gone */
	while ((t = o->head) != NULL) {
		o->head = t->qnext;
		o->queued--;
		officer_error(t, 503, "DB_UNAVAILABLE",
		    "the database is unavailable, try again", NULL, 2);
		if (t == o->stats_task)
			officer_stats_done(t, 0);
		else
			officer_task_free(t);
	}
	o->tail = NULL;
}

void
officer_stop(struct officer *o)
{
	struct otask *t, *next;

	if (o == NULL)
		return;
	o->stopped = 1;
	for (t = o->live; t != NULL; t = t->next)
		officer_error(t, 503, "SHUTTING_DOWN", "the daemon is stopping",
		    NULL, 5);
	/* queued and parked tasks are nobody's: free them; the unit in
	 * flight ends in db_free, a signing job in pool_free or never */
	for (t = o->head; t != NULL; t = next) {
		next = t->qnext;
		if (t == o->stats_task)
			o->stats_task = NULL;
		officer_task_free(t);
	}
	o->head = o->tail = NULL;
	o->queued = 0;
	for (t = o->stats_waiting; t != NULL; t = next) {
		next = t->qnext;
		officer_task_free(t);
	}
	o->stats_waiting = NULL;
}

void
officer_free(struct officer *o)
{
	if (o == NULL)
		return;
	while (o->live != NULL)
		officer_task_free(o->live);
	json_decref(o->stats);
	free(o);
}
