/* The pull feed.  Each request is a struct fwait that moves between three
 * states: queued (waiting for a database connection), query (its SELECT is
 * in the unit in flight) and parked (nothing after its cursor yet).  A
 * party's wake counter (gen) is bumped by every wake; a query that comes
 * back empty while the counter moved is sent again instead of parking, so
 * a commit that lands between the SELECT and its answer is never missed. */
#include "feed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon.h"
#include "db.h"
#include "hash.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "push.h"

#define FEED_PARKED_MAX 10000     /* requests held, all parties */
#define FEED_PARTY_MAX 16         /* requests held per party */
#define FEED_BUCKETS 1024
#define FEED_UNIT_MAX 64          /* queries per database unit */
#define FEED_LIMIT_DEFAULT 100
#define FEED_LIMIT_MAX 1000
#define FEED_WAIT_MAX 60
#define FEED_REPLY_MAX (16 << 20) /* bytes of base64 per page */

/* The columns json_acks_page wants, in binary format. */
static const char feed_sql[] =
    "SELECT seq, declaration_id, kind, to_char(created_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), body FROM acks "
    "WHERE party = $1 AND seq > $2 ORDER BY seq LIMIT $3";

enum fw_state { FW_QUEUED, FW_QUERY, FW_PARKED };

struct fparty {
	struct fparty *next;       /* hash chain */
	struct fwait *reqs;        /* its requests, any state */
	int nreq;
	unsigned gen;              /* bumped by every wake */
	char id[128];
};

struct fwait {
	struct feed *f;
	struct fwait *qnext;       /* in the queue */
	struct fwait *pnext;       /* in the party's list */
	struct fparty *p;
	struct evhttp_request *req;
	struct event *deadline;
	struct event *closed;      /* peer hang-up while parked */
	enum fw_state state;
	unsigned gen;              /* party gen when the query was sent */
	int expired;               /* the wait is over */
	int64_t after;
	int limit;
	int wait_s;
};

struct funit {
	struct feed *f;
	struct fwait *w[FEED_UNIT_MAX];
	int n;
	int next;                  /* results seen */
};

struct feed {
	struct daemon *d;
	struct fparty *bucket[FEED_BUCKETS];
	struct fwait *qhead, *qtail;
	int held;
	int busy;                  /* a unit in flight */
	int draining;
	int stopped;
	int was_up;
	struct feed_stats st;
};

static void feed_kick(struct feed *f);

struct feed *
feed_new(struct daemon *d)
{
	struct feed *f = calloc(1, sizeof(*f));

	if (f != NULL)
		f->d = d;
	return f;
}

const struct feed_stats *
feed_stats(const struct feed *f)
{
	return &f->st;
}

static unsigned
feed_hash(const char *s)
{
	return hash_str(s) % FEED_BUCKETS;
}

static struct fparty *
feed_party(struct feed *f, const char *id, int create)
{
	unsigned h = feed_hash(id);
	struct fparty *p;

	for (p = f->bucket[h]; p != NULL; p = p->next)
		if (strcmp(p->id, id) == 0)
			return p;
	if (!create || (p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	snprintf(p->id, sizeof(p->id), "%s", id);
	p->next = f->bucket[h];
	f->bucket[h] = p;
	return p;
}

static void
feed_party_unlink(struct feed *f, struct fparty *p)
{
	struct fparty **pp = &f->bucket[feed_hash(p->id)];

	while (*pp != NULL && *pp != p)
		pp = &(*pp)->next;
	if (*pp == p)
		*pp = p->next;
	free(p);
}

/* Answers the request if still held: o as JSON, else an error. */
static void
feed_unwatch(struct fwait *w)
{
	if (w->closed != NULL) {
		event_free(w->closed);
		w->closed = NULL;
	}
}

static void
feed_send(struct fwait *w, int status, const json_t *o, const char *code,
    const char *msg, int retry_after)
{
	feed_unwatch(w);
	if (w->req == NULL)
		return;
	w->f->st.answered++;
	if (o != NULL)
		json_reply(w->f->d, w->req, status, o);
	else
		http_error(w->f->d, w->req, status, code, msg, retry_after);
	w->req = NULL;
}

/* Forgets w (its request must be answered already). */
static void
feed_forget(struct fwait *w)
{
	struct feed *f = w->f;
	struct fparty *p = w->p;
	struct fwait **pp = &p->reqs;

	while (*pp != NULL && *pp != w)
		pp = &(*pp)->pnext;
	if (*pp == w)
		*pp = w->pnext;
	if (w->state == FW_PARKED)
		f->st.parked--;
	if (--p->nreq == 0)
		feed_party_unlink(f, p);
	if (w->deadline != NULL)
		event_free(w->deadline);
	feed_unwatch(w);
	f->held--;
	f->d->inflight--;
	free(w);
}

static void
feed_empty(struct fwait *w)
{
	json_t *o = json_pack("{s:[], s:I}", "acks", "next", (json_int_t)w->after);

	if (w->req != NULL) {
		w->f->st.empty++;
		w->f->st.timeouts += w->expired != 0;
	}
	if (o == NULL)
		feed_send(w, 500, NULL, "NO_MEMORY", "out of memory", 1);
	else
		feed_send(w, 200, o, NULL, NULL, 0);
	json_decref(o);
}

static void
feed_enqueue(struct fwait *w)
{
	struct feed *f = w->f;

	if (w->state == FW_PARKED)
		f->st.parked--;
	w->state = FW_QUEUED;
	w->qnext = NULL;
	if (f->qtail != NULL)
		f->qtail->qnext = w;
	else
		f->qhead = w;
	f->qtail = w;
}

/* The client hung up while its request was parked (evhttp does not read
 * while a request is held, so it cannot tell): answering frees it. */
static void
feed_on_closed(evutil_socket_t fd, short what, void *arg)
{
	struct fwait *w = arg;

	feed_empty(w);
	feed_forget(w);
}

static void
feed_park(struct fwait *w)
{
	struct event_base *base = w->f->d->base;
	struct evhttp_connection *c = evhttp_request_get_connection(w->req);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;
	evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;

	w->state = FW_PARKED;
	w->f->st.parked++;
	if (fd < 0 || !(event_base_get_features(base) & EV_FEATURE_EARLY_CLOSE))
		return;
	w->closed = event_new(base, fd, EV_CLOSED, feed_on_closed, w);
	if (w->closed != NULL && event_add(w->closed, NULL) != 0)
		feed_unwatch(w);
}

static void
feed_on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct fwait *w = arg;

	w->expired = 1;
	if (w->state != FW_PARKED)
		return; /* its query answers it */
	feed_empty(w);
	feed_forget(w);
}

static void
feed_page(struct fwait *w, const PGresult *r)
{
	json_t *o = json_acks_page(r, w->after, FEED_REPLY_MAX);

	if (o == NULL)
		feed_send(w, 500, NULL, "INTERNAL", "cannot build the page", 1);
	else
		feed_send(w, 200, o, NULL, NULL, 0);
	json_decref(o);
}

static int
feed_send_queries(PGconn *c, void *arg)
{
	struct funit *u = arg;
	char after[24], limit[16];
	const char *v[3];
	int i;

	for (i = 0; i < u->n; i++) {
		snprintf(after, sizeof(after), "%lld", (long long)u->w[i]->after);
		snprintf(limit, sizeof(limit), "%d", u->w[i]->limit);
		v[0] = u->w[i]->p->id;
		v[1] = after;
		v[2] = limit;
		if (!PQsendQueryParams(c, feed_sql, 3, NULL, v, NULL, NULL, 1))
			return -1;
	}
	return PQpipelineSync(c) ? 0 : -1;
}

static int
feed_result(PGresult *r, void *arg)
{
	struct funit *u = arg;
	struct fwait *w;

	if (u->next >= u->n || PQresultStatus(r) != PGRES_TUPLES_OK)
		return -1;
	w = u->w[u->next++];
	if (w->req == NULL) {            /* the client left meanwhile */
		feed_forget(w);
		return 0;
	}
	if (PQntuples(r) > 0) {
		feed_page(w, r);
	} else if (w->expired || w->wait_s == 0 || u->f->draining) {
		feed_empty(w);
	} else if (w->gen != w->p->gen) {
		feed_enqueue(w);              /* woken meanwhile: look again */
		return 0;
	} else {
		feed_park(w);
		return 0;
	}
	feed_forget(w);
	return 0;
}

static void
feed_done(void *arg, int ok, const char *err)
{
	struct funit *u = arg;
	struct feed *f = u->f;
	struct fwait *w;
	int i;

	if (!ok)
		log_warnx("msg=\"feed query failed\" reason=\"%s\"", err ? err : "");
	for (i = u->next; i < u->n; i++) {
		w = u->w[i];
		feed_send(w, 503, NULL, "DB_UNAVAILABLE",
		    "the database is unavailable, try again", 2);
		feed_forget(w);
	}
	free(u);
	f->busy = 0;
	if (!f->stopped)
		feed_kick(f);
}

static void
feed_kick(struct feed *f)
{
	struct funit *u;
	struct db_unit du;
	struct fwait *w;

	if (f->busy || f->qhead == NULL || db_idle(f->d->db) == 0)
		return;
	if ((u = calloc(1, sizeof(*u))) == NULL)
		return;
	u->f = f;
	while (u->n < FEED_UNIT_MAX && (w = f->qhead) != NULL) {
		f->qhead = w->qnext;
		if (f->qhead == NULL)
			f->qtail = NULL;
		w->qnext = NULL;
		w->state = FW_QUERY;
		w->gen = w->p->gen;
		u->w[u->n++] = w;
	}
	du.send = feed_send_queries;
	du.result = feed_result;
	du.done = feed_done;
	du.arg = u;
	f->busy = 1;
	if (db_run(f->d->db, &du) != 0)
		feed_done(u, 0, "no idle connection");
}

/* A query parameter: 0 and *v (def when absent), or -1 when malformed. */
static int
feed_param(const struct evkeyvalq *q, const char *name, int64_t def, int64_t *v)
{
	const char *s = evhttp_find_header(q, name);

	*v = def;
	return s == NULL ? 0 : json_parse_u63(s, v);
}

void
feed_get(struct feed *f, struct evhttp_request *req, const char *party,
    enum role role)
{
	struct daemon *d = f->d;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *qs = uri ? evhttp_uri_get_query(uri) : NULL;
	struct evkeyvalq q;
	int64_t after, limit, wait;
	struct fparty *p;
	struct fwait *w;
	struct timeval tv;
	int bad;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		http_error(d, req, 405, "METHOD", "use GET", 0);
		return;
	}
	if (role != ROLE_ENTERPRISE) {
		http_error(d, req, 403, "ROLE_FORBIDDEN",
		    "the feed is for enterprise certificates", 0);
		return;
	}
	if (evhttp_parse_query_str(qs != NULL ? qs : "", &q) != 0) {
		http_error(d, req, 400, "BAD_QUERY", "unparsable query string", 0);
		return;
	}
	bad = feed_param(&q, "after", 0, &after) != 0 ||
	    feed_param(&q, "limit", FEED_LIMIT_DEFAULT, &limit) != 0 ||
	    feed_param(&q, "wait", 0, &wait) != 0 || limit < 1;
	evhttp_clear_headers(&q);
	if (bad) {
		http_error(d, req, 400, "BAD_PARAMETER", "after, limit and wait "
		    "are non-negative integers, limit at least 1", 0);
		return;
	}
	if (limit > FEED_LIMIT_MAX)
		limit = FEED_LIMIT_MAX;
	if (wait > FEED_WAIT_MAX)
		wait = FEED_WAIT_MAX;
	if (f->draining || f->stopped)
		wait = 0;
	if (!db_up(d->db)) {
		http_error(d, req, 503, "DB_UNAVAILABLE",
		    "the database is unavailable, try again", 2);
		return;
	}
	if (f->held >= FEED_PARKED_MAX) {
		http_error(d, req, 503, "OVERLOADED", "too many feed requests", 1);
		return;
	}
	if ((p = feed_party(f, party, 1)) == NULL ||
	    (w = calloc(1, sizeof(*w))) == NULL) {
		if (p != NULL && p->nreq == 0)
			feed_party_unlink(f, p);
		http_error(d, req, 503, "NO_MEMORY", "out of memory", 1);
		return;
	}
	if (p->nreq >= FEED_PARTY_MAX) {
		free(w);
		http_error(d, req, 429, "TOO_MANY_POLLS", "too many feed "
		    "requests of this party at once", 1);
		return;
	}
	w->f = f;
	w->p = p;
	w->req = req;
	w->after = after;
	w->limit = (int)limit;
	w->wait_s = (int)wait;
	w->pnext = p->reqs;
	p->reqs = w;
	p->nreq++;
	f->held++;
	d->inflight++;
	if (wait > 0) {
		tv.tv_sec = (time_t)wait;
		tv.tv_usec = 0;
		if ((w->deadline = evtimer_new(d->base, feed_on_deadline, w)) == NULL ||
		    evtimer_add(w->deadline, &tv) != 0)
			w->wait_s = 0;
	}
	feed_enqueue(w);
	feed_kick(f);
}

/* Queues the parked requests of p again; 1 when there were any. */
static int
feed_wake_party(struct fparty *p)
{
	struct fwait *w;
	int any = 0;

	p->gen++;
	for (w = p->reqs; w != NULL; w = w->pnext)
		if (w->state == FW_PARKED) {
			feed_unwatch(w);
			feed_enqueue(w);
			w->f->st.woken++;
			any = 1;
		}
	return any;
}

void
feed_wake(struct feed *f, const char *party)
{
	struct fparty *p;

	if (f == NULL || party == NULL || (p = feed_party(f, party, 0)) == NULL)
		return;
	if (feed_wake_party(p))
		feed_kick(f);
}

void
feed_on_notify(void *arg, const char *channel, const char *payload)
{
	struct daemon *d = arg;

	if (channel == NULL || strcmp(channel, FEED_CHANNEL) != 0)
		return;
	feed_wake(d->feed, payload);
	if (d->push != NULL)
		push_wake(d->push, payload);
}

/* Every party: after a database outage NOTIFYs may have been lost. */
static void
feed_wake_all(struct feed *f)
{
	struct fparty *p;
	int i;

	for (i = 0; i < FEED_BUCKETS; i++)
		for (p = f->bucket[i]; p != NULL; p = p->next)
			feed_wake_party(p);
	feed_kick(f);
}

void
feed_db_idle(struct feed *f)
{
	struct fwait *w;
	int up;

	if (f == NULL || f->stopped)
		return;
	up = db_up(f->d->db) > 0;
	if (!up) {
		/* fast 503s for the queued; parked ones keep waiting */
		while ((w = f->qhead) != NULL) {
			f->qhead = w->qnext;
			if (f->qhead == NULL)
				f->qtail = NULL;
			feed_send(w, 503, NULL, "DB_UNAVAILABLE",
			    "the database is unavailable, try again", 2);
			feed_forget(w);
		}
	} else if (!f->was_up) {
		feed_wake_all(f);
	}
	f->was_up = up;
	feed_kick(f);
}

/* Calls fn on every parked request (fn may forget it). */
static void
feed_each_parked(struct feed *f, void (*fn)(struct fwait *))
{
	struct fparty *p, *pnext;
	struct fwait *w, *wnext;
	int i;

	for (i = 0; i < FEED_BUCKETS; i++)
		for (p = f->bucket[i]; p != NULL; p = pnext) {
			pnext = p->next;
			/* p is freed with its last request: count first */
			for (w = p->reqs; w != NULL; w = wnext) {
				wnext = w->pnext;
				if (w->state == FW_PARKED) {
					int last = p->nreq == 1;

					fn(w);
					if (last)
						break;
				}
			}
		}
}

static void
feed_answer_empty(struct fwait *w)
{
	feed_empty(w);
	feed_forget(w);
}

void
feed_drain(struct feed *f)
{
	if (f == NULL)
		return;
	f->draining = 1;
	feed_each_parked(f, feed_answer_empty);
}

static void
feed_answer_503(struct fwait *w)
{
	feed_send(w, 503, NULL, "SHUTTING_DOWN", "the daemon is stopping", 5);
	feed_forget(w);
}

void
feed_stop(struct feed *f)
{
	struct fparty *p;
	struct fwait *w;
	int i;

	if (f == NULL)
		return;
	f->stopped = f->draining = 1;
	while ((w = f->qhead) != NULL) {
		f->qhead = w->qnext;
		feed_answer_503(w);
	}
	f->qtail = NULL;
	feed_each_parked(f, feed_answer_503);
	/* queries in flight: answer now, the unit forgets them later */
	for (i = 0; i < FEED_BUCKETS; i++)
		for (p = f->bucket[i]; p != NULL; p = p->next)
			for (w = p->reqs; w != NULL; w = w->pnext)
				feed_send(w, 503, NULL, "SHUTTING_DOWN",
				    "the daemon is stopping", 5);
}

void
feed_free(struct feed *f)
{
	struct fparty *p, *pn;
	struct fwait *w, *wn;
	int i;

	if (f == NULL)
		return;
	/* after db_free no unit is in flight: what is left is only memory */
	for (i = 0; i < FEED_BUCKETS; i++)
		for (p = f->bucket[i]; p != NULL; p = pn) {
			pn = p->next;
			for (w = p->reqs; w != NULL; w = wn) {
				wn = w->pnext;
				if (w->deadline != NULL)
					event_free(w->deadline);
				feed_unwatch(w);
				free(w);
			}
			free(p);
		}
	free(f);
}
