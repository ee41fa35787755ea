/* Push delivery, its database side.  A party's stream moves: claim (lease,
 * first acknowledgement) -> HTTPS POST (push.c) -> record the outcome
 * (which, for a done acknowledgement, also renews the lease and returns
 * the next one, or releases the lease when the stream is caught up) ->
 * POST ... .  A failed attempt releases the lease with a backoff.  All of
 * it goes in one pipelined unit at a time, with callback registrations. */
#include "pushq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>
#include <event2/http.h>

#include "config.h"
#include "daemon.h"
#include "db.h"
#include "hash.h"
#include "json.h"
#include "log.h"

#define PUSH_BACKOFF_MAX_S "300"

/* Leases up to $2 parties whose stream has work, with their next
 * acknowledgement.  Columns (shared with pushq_sql_advance): party, url,
 * seq, body, declaration_id, expired. */
static const char pushq_sql_claim[] =
    "WITH c AS (SELECT s.party, s.delivered_seq FROM push_state s "
    "JOIN parties p ON p.id = s.party "
    "WHERE p.callback_url IS NOT NULL AND p.ack_seq > s.delivered_seq "
    "AND s.next_attempt_at <= now() "
    "AND (s.locked_until IS NULL OR s.locked_until < now()) "
    "ORDER BY s.next_attempt_at LIMIT $2 FOR UPDATE OF s SKIP LOCKED) "
    "UPDATE push_state s SET locked_by = $1, "
    "locked_until = now() + make_interval(secs => $3) "
    "FROM c JOIN parties p ON p.id = c.party "
    "LEFT JOIN acks a ON a.party = c.party AND a.seq = c.delivered_seq + 1 "
    "WHERE s.party = c.party "
    "RETURNING s.party, p.callback_url, c.delivered_seq + 1, a.body, "
    "a.declaration_id, a.created_at < now() - make_interval(secs => $4)";

/* Prepared on every connection: the claim runs after every commit that
 * notifies, and planning it over the monthly partitions of acks cost more
 * than running it. */
const struct db_prepare pushq_prepare[] = {
	{ "push_claim", pushq_sql_claim },
};
const size_t pushq_nprepare = sizeof(pushq_prepare) / sizeof(pushq_prepare[0]);

/* Records a done acknowledgement ($2) and moves past it if we still hold
 * the lease; keeps the lease ($7) when there is more, and returns the
 * next one.  No row: the lease was lost. */
static const char pushq_sql_advance[] =
    "WITH ins AS (INSERT INTO push_attempts (party, seq, outcome, "
    "http_status, error, instance) VALUES ($1, $2, $4, $5, $6, $3)), "
    "u AS (UPDATE push_state s SET delivered_seq = $2, attempts = 0, "
    "last_error = NULL, next_attempt_at = now(), "
    "locked_by = CASE WHEN $7 AND p.ack_seq > $2 AND p.callback_url IS NOT "
    "NULL THEN $3 END, "
    "locked_until = CASE WHEN $7 AND p.ack_seq > $2 AND p.callback_url IS NOT "
    "NULL THEN now() + make_interval(secs => $8) END "
    "FROM parties p WHERE p.id = s.party AND s.party = $1 "
    "AND s.locked_by = $3 AND s.delivered_seq = $2 - 1 "
    "RETURNING s.party, s.locked_by, p.callback_url) "
    "SELECT u.party, u.callback_url, a.seq, a.body, a.declaration_id, "
    "a.created_at < now() - make_interval(secs => $9) FROM u "
    "LEFT JOIN acks a ON a.party = u.party AND a.seq = $2 + 1 "
    "AND u.locked_by IS NOT NULL";

/* Records a failed attempt and releases the lease until the backoff ends:
 * 1 s after the first failure, doubling, at most PUSH_BACKOFF_MAX_S. */
static const char pushq_sql_fail[] =
    "WITH ins AS (INSERT INTO push_attempts (party, seq, outcome, "
    "http_status, error, instance) VALUES ($1, $2, 'failed', $4, $5, $3)) "
    "UPDATE push_state SET attempts = attempts + 1, last_error = $5, "
    "next_attempt_at = now() + make_interval(secs => least("
    PUSH_BACKOFF_MAX_S ", power(2, least(attempts, 16)))), "
    "locked_by = NULL, locked_until = NULL "
    "WHERE party = $1 AND locked_by = $3 AND delivered_seq = $2 - 1";

#define PUSHQ_TS(col) "to_char(" col " AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

static const char pushq_sql_cb_get[] =
    "SELECT json_build_object('url', p.callback_url, "
    "'delivered_seq', s.delivered_seq, 'last_seq', p.ack_seq, "
    "'attempts', s.attempts, 'last_error', s.last_error, "
    "'next_attempt_at', " PUSHQ_TS("s.next_attempt_at") ")::text "
    "FROM parties p JOIN push_state s ON s.party = p.id "
    "WHERE p.id = $1 AND p.callback_url IS NOT NULL";

/* A new registration starts after the party's last acknowledgement; a
 * changed URL keeps the position. */
static const char pushq_sql_cb_put[] =
    "WITH pt AS (INSERT INTO parties AS pt (id, callback_url) VALUES ($1, $2) "
    "ON CONFLICT (id) DO UPDATE SET callback_url = EXCLUDED.callback_url "
    "RETURNING pt.id, pt.ack_seq, pt.callback_url), "
    "ps AS (INSERT INTO push_state (party, delivered_seq) "
    "SELECT id, ack_seq FROM pt ON CONFLICT (party) DO NOTHING "
    "RETURNING delivered_seq) "
    "SELECT json_build_object('url', pt.callback_url, 'delivered_seq', "
    "COALESCE((SELECT delivered_seq FROM ps), s.delivered_seq), "
    "'last_seq', pt.ack_seq)::text "
    "FROM pt LEFT JOIN push_state s ON s.party = pt.id";

static const char pushq_sql_cb_delete[] =
    "WITH s AS (DELETE FROM push_state WHERE party = $1) "
    "UPDATE parties SET callback_url = NULL "
    "WHERE id = $1 AND callback_url IS NOT NULL";

/* The slot of party's hash in p->known: its own, or the empty one where
 * it would go. */
static int
pushq_known_slot(const struct push *p, uint32_t h)
{
	int i = (int)(h & (PUSH_KNOWN_SLOTS - 1));

	while (p->known[i] != 0 && p->known[i] != h)
		i = (i + 1) & (PUSH_KNOWN_SLOTS - 1);
	return i;
}

static uint32_t
pushq_known_hash(const char *party)
{
	uint32_t h = hash_str(party);

	return h != 0 ? h : 1;  /* 0 marks an empty slot */
}

void
pushq_know(struct push *p, const char *party)
{
	uint32_t h = pushq_known_hash(party);
	int i;

	if (p->nknown >= PUSH_KNOWN_MAX)
		return;
	i = pushq_known_slot(p, h);
	if (p->known[i] == 0) {
		p->known[i] = h;
		p->nknown++;
	}
}

int
pushq_known(const struct push *p, const char *party)
{
	uint32_t h = pushq_known_hash(party);

	if (p->nknown >= PUSH_KNOWN_MAX)
		return 1;
	return p->known[pushq_known_slot(p, h)] == h;
}

static void
pushq_later(struct push *p)
{
	if (!p->stopped && p->kick != NULL)
		event_active(p->kick, EV_TIMEOUT, 0);
}

/* Queues the slot's outcome for recording. */
void
pushq_record(struct pslot *s)
{
	struct push *p = s->p;

	switch (s->out) {
	case PO_DELIVERED: p->st.delivered++; break;
	case PO_REJECTED: p->st.rejected++; break;
	case PO_FAILED: p->st.failed++; break;
	case PO_EXPIRED: p->st.expired++; break;
	default: break;
	}
	if (s->out != PO_DELIVERED)
		log_info("msg=\"push %s\" party=%s seq=%lld status=%d error=\"%s\"",
		    s->out == PO_REJECTED ? "rejected" : s->out == PO_EXPIRED ?
		    "expired" : "failed", s->party, (long long)s->seq,
		    s->http_status, s->err);
	s->qnext = NULL;
	if (p->qtail != NULL)
		p->qtail->qnext = s;
	else
		p->qhead = s;
	p->qtail = s;
	pushq_later(p);
}

static void
pushq_release(struct pslot *s)
{
	s->busy = 0;
	free(s->body);
	s->body = NULL;
	s->blen = 0;
	s->out = PO_NONE;
	s->p->d->inflight--;
}

/* The slot holds a lease and an acknowledgement: deliver or expire it. */
static void
pushq_start(struct pslot *s)
{
	s->http_status = 0;
	s->err[0] = '\0';
	if (s->body == NULL || s->out == PO_EXPIRED) {
		s->out = PO_EXPIRED;
		snprintf(s->err, sizeof(s->err), "%s", s->body == NULL ?
		    "acknowledgement no longer stored" : "older than the retention");
		pushq_record(s);
		return;
	}
	s->out = PO_NONE;
	if (push_http(s) != 0) {
		s->out = PO_FAILED;
		pushq_record(s);
	}
}

/* Loads row into s (columns party, url, seq, body, declaration_id,
 * expired, in binary format); -1 when out of memory. */
static int
pushq_load(struct pslot *s, const PGresult *r, int row)
{
	size_t blen = (size_t)PQgetlength(r, row, 3);

	snprintf(s->party, sizeof(s->party), "%s", PQgetvalue(r, row, 0));
	snprintf(s->url, sizeof(s->url), "%s", PQgetvalue(r, row, 1));
	s->seq = json_pg_int8(r, row, 2);
	free(s->body);
	s->body = NULL;
	s->blen = 0;
	if (!PQgetisnull(r, row, 3)) {
		if ((s->body = malloc(blen + 1)) == NULL)
			return -1;
		memcpy(s->body, PQgetvalue(r, row, 3), blen);
		s->blen = blen;
	}
	s->decl[0] = '\0';
	if (!PQgetisnull(r, row, 4))
		snprintf(s->decl, sizeof(s->decl), "%lld",
		    (long long)json_pg_int8(r, row, 4));
	s->out = !PQgetisnull(r, row, 5) && PQgetlength(r, row, 5) == 1 &&
	    PQgetvalue(r, row, 5)[0] ? PO_EXPIRED : PO_NONE;
	return 0;
}

/* A free slot for party: its own (with its connection) when idle, else
 * one without a connection, else the least recently used. */
static struct pslot *
pushq_slot_for(struct push *p, const char *party)
{
	struct pslot *s, *best = NULL;
	int i;

	for (i = 0; i < PUSH_SLOTS; i++) {
		s = &p->slot[i];
		if (s->busy)
			continue;
		if (strcmp(s->party, party) == 0)
			return s;
		if (best == NULL || (best->evcon != NULL && (s->evcon == NULL ||
		    s->used_ns < best->used_ns)))
			best = s;
	}
	if (best != NULL)
		push_conn_free(best);
	return best;
}

static int
pushq_free_slots(const struct push *p)
{
	int i, n = 0;

	for (i = 0; i < PUSH_SLOTS; i++)
		n += !p->slot[i].busy;
	return n;
}

static int
pushq_send(PGconn *c, void *arg)
{
	struct punit *u = arg;
	struct push *p = u->p;
	char seq[24], st[16], lease[16], ret[24], lim[16];
	const char *v[9];
	int i, ok = 1;

	snprintf(lease, sizeof(lease), "%d", push_lease_s(p));
	snprintf(ret, sizeof(ret), "%d", p->d->cfg->push_retention_s);
	for (i = 0; i < u->n && ok; i++) {
		struct pop *o = &u->op[i];
		struct pslot *s = o->s;

		if (o->kind == OP_CB) {
			v[0] = o->cb->party;
			v[1] = o->cb->url;
			ok = PQsendQueryParams(c, o->cb->cmd == EVHTTP_REQ_PUT ?
			    pushq_sql_cb_put : o->cb->cmd == EVHTTP_REQ_DELETE ?
			    pushq_sql_cb_delete : pushq_sql_cb_get,
			    o->cb->cmd == EVHTTP_REQ_PUT ? 2 : 1, NULL, v, NULL,
			    NULL, 0);
			continue;
		}
		if (o->kind == OP_CLAIM) {
			snprintf(lim, sizeof(lim), "%d", u->claim_limit);
			v[0] = p->instance;
			v[1] = lim;
			v[2] = lease;
			v[3] = ret;
			ok = PQsendQueryPrepared(c, "push_claim", 4, v, NULL,
			    NULL, 1);
			continue;
		}
		snprintf(seq, sizeof(seq), "%lld", (long long)s->seq);
		snprintf(st, sizeof(st), "%d", s->http_status);
		v[0] = s->party;
		v[1] = seq;
		v[2] = p->instance;
		if (s->out == PO_FAILED) {
			v[3] = s->http_status ? st : NULL;
			v[4] = s->err;
			ok = PQsendQueryParams(c, pushq_sql_fail, 5, NULL, v,
			    NULL, NULL, 1);
			continue;
		}
		v[3] = s->out == PO_DELIVERED ? "delivered" :
		    s->out == PO_REJECTED ? "rejected" : "expired";
		v[4] = s->http_status ? st : NULL;
		v[5] = s->err[0] ? s->err : NULL;
		v[6] = p->draining ? "false" : "true";
		v[7] = lease;
		v[8] = ret;
		ok = PQsendQueryParams(c, pushq_sql_advance, 9, NULL, v, NULL,
		    NULL, 1);
	}
	return ok && PQpipelineSync(c) ? 0 : -1;
}

static void
pushq_claimed(struct push *p, const PGresult *r)
{
	struct pslot *s;
	int i;

	for (i = 0; i < PQntuples(r); i++) {
		pushq_know(p, PQgetvalue(r, i, 0));
		if ((s = pushq_slot_for(p, PQgetvalue(r, i, 0))) == NULL)
			break; /* cannot happen: the limit was the free slots */
		s->busy = 1;
		p->d->inflight++;
		if (pushq_load(s, r, i) != 0) {
			s->out = PO_FAILED;
			snprintf(s->err, sizeof(s->err), "out of memory");
			pushq_record(s);
			continue;
		}
		pushq_start(s);
	}
}

static void
pushq_recorded(struct pslot *s, const PGresult *r)
{
	if (s->out == PO_FAILED || PQntuples(r) == 0) {
		if (s->out != PO_FAILED)
			log_warnx("msg=\"push lease lost\" party=%s seq=%lld",
			    s->party, (long long)s->seq);
		pushq_release(s);
		return;
	}
	if (PQgetisnull(r, 0, 2)) {          /* caught up, lease released */
		pushq_release(s);
		return;
	}
	if (pushq_load(s, r, 0) != 0) {
		s->out = PO_FAILED;
		snprintf(s->err, sizeof(s->err), "out of memory");
		pushq_record(s);
		return;
	}
	pushq_start(s);
}

static void
pushq_cb_result(struct push *p, struct pcb *c, const PGresult *r)
{
	if (c->cmd == EVHTTP_REQ_DELETE) {
		push_cb_end(p, c, strcmp(PQcmdTuples((PGresult *)r), "0") == 0 ?
		    404 : 204, NULL, 0);
		return;
	}
	if (PQntuples(r) != 1) {
		push_cb_end(p, c, c->cmd == EVHTTP_REQ_GET ? 404 : 500, NULL, 0);
		return;
	}
	if (c->cmd == EVHTTP_REQ_PUT) {
		log_info("msg=\"push callback registered\" party=%s url=\"%s\"",
		    c->party, c->url);
		pushq_know(p, c->party);
		p->want_claim = 1;
	}
	push_cb_end(p, c, 200, PQgetvalue(r, 0, 0),
	    (size_t)PQgetlength(r, 0, 0));   /* frees c */
}

/*
 * A unit's statements share one implicit transaction that commits at its
 * sync, so nothing is acted on as a result arrives: the results are kept
 * and applied in pushq_done, once the commit is known.  A callback request
 * is not answered, a claimed stream not started and a recorded outcome not
 * taken as stored before then.
 */
static int
pushq_result(PGresult *r, void *arg)
{
	struct punit *u = arg;
	struct pop *o;
	ExecStatusType st = PQresultStatus(r);

	if (u->next >= u->n || (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK))
		return -1;
	o = &u->op[u->next];
	if ((o->res = PQcopyResult(r, PG_COPYRES_ATTRS |
	    PG_COPYRES_TUPLES)) == NULL)
		return -1;
	u->next++;
	return 0;
}

static void
pushq_apply(struct push *p, struct pop *o)
{
	switch (o->kind) {
	case OP_CB:
		pushq_cb_result(p, o->cb, o->res);
		break;
	case OP_CLAIM:
		pushq_claimed(p, o->res);
		break;
	case OP_RECORD:
		pushq_recorded(o->s, o->res);
		break;
	}
}

/* The unit's transaction did not commit: a callback request is answered
 * 503, an outcome is queued to be recorded again. */
static void
pushq_rolled_back(struct push *p, struct pop *o)
{
	if (o->kind == OP_CB)
		push_cb_end(p, o->cb, 503, NULL, 0);
	else if (o->kind == OP_RECORD && !p->stopped) {
		/* again later: the guards make a second record harmless */
		o->s->qnext = NULL;
		if (p->qtail != NULL)
			p->qtail->qnext = o->s;
		else
			p->qhead = o->s;
		p->qtail = o->s;
	}
}

static void
pushq_done(void *arg, int ok, const char *err)
{
	struct punit *u = arg;
	struct push *p = u->p;
	int i;

	if (ok && u->next != u->n) {
		ok = 0;
		err = "results missing";
	}
	if (!ok)
		log_warnx("msg=\"push database work failed\" reason=\"%s\"",
		    err ? err : "");
	for (i = 0; i < u->n; i++) {
		struct pop *o = &u->op[i];

		if (ok)
			pushq_apply(p, o);
		else
			pushq_rolled_back(p, o);
		PQclear(o->res);
	}
	free(u);
	p->cur = NULL;
	if (ok)
		pushq_later(p);  /* after a failure the tick retries */
}

void
pushq_kick(struct push *p)
{
	struct punit *u;
	struct db_unit du;
	struct pcb *c;
	struct pslot *s;
	int nfree = pushq_free_slots(p);
	int claim = p->want_claim && !p->draining && nfree > 0;

	if (p->cur != NULL || p->stopped)
		return;
	if (p->qhead == NULL && p->cbhead == NULL && !claim)
		return;
	if (db_idle(p->d->db) == 0 || (u = calloc(1, sizeof(*u))) == NULL)
		return;
	u->p = p;
	while ((c = p->cbhead) != NULL && u->n < PUSH_CB_PER_UNIT) {
		p->cbhead = c->next;
		p->ncb--;
		u->op[u->n].kind = OP_CB;
		u->op[u->n++].cb = c;
	}
	if (p->cbhead == NULL)
		p->cbtail = NULL;
	while ((s = p->qhead) != NULL && u->n < PUSH_SLOTS + PUSH_CB_PER_UNIT) {
		p->qhead = s->qnext;
		s->qnext = NULL;
		u->op[u->n].kind = OP_RECORD;
		u->op[u->n++].s = s;
	}
	if (p->qhead == NULL)
		p->qtail = NULL;
	if (claim) {
		p->want_claim = 0;
		p->st.claims++;
		u->claim_limit = nfree;
		u->op[u->n++].kind = OP_CLAIM;
	}
	du.send = pushq_send;
	du.result = pushq_result;
	du.done = pushq_done;
	du.arg = u;
	p->cur = u;
	if (db_run(p->d->db, &du) != 0)
		pushq_done(u, 0, "no idle connection");
}

void
pushq_on_kick(evutil_socket_t fd, short what, void *arg)
{
	pushq_kick(arg);
}

void
pushq_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct push *p = arg;
	uint64_t now = daemon_now_ns();
	int i;

	/* idle keep-alive connections are closed after a while */
	for (i = 0; i < PUSH_SLOTS; i++) {
		struct pslot *s = &p->slot[i];

		if (!s->busy && s->evcon != NULL && (s->dead ||
		    now - s->used_ns > (uint64_t)PUSH_IDLE_CONN_S * 1000000000u))
			push_conn_free(s);
	}
	p->want_claim = 1;
	pushq_kick(p);
}
