#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "log.h"

enum dbc_state { DBC_DOWN, DBC_CONNECTING, DBC_PREPARING, DBC_IDLE, DBC_BUSY };

struct db;

struct dbc {
	struct db *db;
	int index;
	enum dbc_state state;
	PGconn *pg;
	struct event *rev;   /* persistent read, once connected */
	struct event *wev;   /* one-shot write (flush, connect) */
	struct event *cev;   /* one-shot read while connecting */
	struct event *timer; /* reconnect backoff, connect or unit timeout */
	int backoff_ms;
	struct db_unit unit;
	int unit_failed;
	char unit_err[256];
};

struct db {
	struct event_base *base;
	struct db_opts o;
	struct dbc *c;
	char *conninfo;        /* owned copy: a reload frees the old config */
	unsigned long reconnects;
	int freeing;
};

static void dbc_connect(struct dbc *c);
static void dbc_on_read(evutil_socket_t fd, short what, void *arg);

static void
dbc_events_clear(struct dbc *c)
{
	if (c->rev != NULL) {
		event_free(c->rev);
		c->rev = NULL;
	}
	if (c->wev != NULL) {
		event_free(c->wev);
		c->wev = NULL;
	}
	if (c->cev != NULL) {
		event_free(c->cev);
		c->cev = NULL;
	}
}

static void
dbc_notify_idle(struct db *db)
{
	if (!db->freeing && db->o.idle != NULL)
		db->o.idle(db->o.arg);
}

/* Ends the unit in flight, if any, with ok. */
static void
dbc_unit_end(struct dbc *c, int ok, const char *err)
{
	struct db_unit u = c->unit;

	memset(&c->unit, 0, sizeof(c->unit));
	if (u.done != NULL)
		u.done(u.arg, ok, err);
}

static void
dbc_fail(struct dbc *c, const char *why_in)
{
	int had_unit = c->unit.done != NULL;
	int was_up = c->state == DBC_IDLE || c->state == DBC_BUSY;
	struct timeval tv;
	char why[256];

	/* why_in is often PQerrorMessage(c->pg), which PQfinish frees below */
	snprintf(why, sizeof(why), "%s", why_in ? why_in : "");

	log_warnx("msg=\"database connection lost\" conn=%d reason=\"%s\"",
	    c->index, why);
	dbc_events_clear(c);
	evtimer_del(c->timer);
	if (c->pg != NULL) {
		PQfinish(c->pg);
		c->pg = NULL;
	}
	c->state = DBC_DOWN;
	c->db->reconnects++;
	if (had_unit)
		dbc_unit_end(c, 0, why);
	if (c->db->freeing)
		return;
	c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : 100;
	if (c->backoff_ms > 5000)
		c->backoff_ms = 5000;
	tv.tv_sec = c->backoff_ms / 1000;
	tv.tv_usec = (c->backoff_ms % 1000) * 1000;
	evtimer_add(c->timer, &tv);
	if (was_up || had_unit)
		dbc_notify_idle(c->db);
}

static void
dbc_on_write(evutil_socket_t fd, short what, void *arg)
{
	struct dbc *c = arg;
	int r;

	if (c->state == DBC_CONNECTING) {
		dbc_connect(c);
		return;
	}
	if ((r = PQflush(c->pg)) < 0) {
		dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	if (r == 1)
		event_add(c->wev, NULL);
}

static int
dbc_flush(struct dbc *c)
{
	int r = PQflush(c->pg);

	if (r < 0)
		return -1;
	if (r == 1)
		event_add(c->wev, NULL);
	return 0;
}

static void
dbc_arm_timeout(struct dbc *c)
{
	struct timeval tv = { c->db->o.timeout_s, 0 };

	evtimer_del(c->timer);
	evtimer_add(c->timer, &tv);
}

static void
dbc_connected(struct dbc *c)
{
	int fd = PQsocket(c->pg);
	size_t i;
	char q[160];

	dbc_events_clear(c);
	if (PQsetnonblocking(c->pg, 1) != 0 || PQenterPipelineMode(c->pg) != 1) {
		dbc_fail(c, "cannot enter pipeline mode");
		return;
	}
	c->rev = event_new(c->db->base, fd, EV_READ | EV_PERSIST, dbc_on_read, c);
	c->wev = event_new(c->db->base, fd, EV_WRITE, dbc_on_write, c);
	if (c->rev == NULL || c->wev == NULL || event_add(c->rev, NULL) != 0) {
		dbc_fail(c, "cannot add events");
		return;
	}
	for (i = 0; i < c->db->o.nprep; i++)
		if (!PQsendPrepare(c->pg, c->db->o.prep[i].name,
		    c->db->o.prep[i].sql, 0, NULL)) {
			dbc_fail(c, PQerrorMessage(c->pg));
			return;
		}
	if (c->index == 0 && c->db->o.listen != NULL) {
		snprintf(q, sizeof(q), "LISTEN %s", c->db->o.listen);
		if (!PQsendQueryParams(c->pg, q, 0, NULL, NULL, NULL, NULL, 0)) {
			dbc_fail(c, PQerrorMessage(c->pg));
			return;
		}
	}
	if (!PQpipelineSync(c->pg) || dbc_flush(c) != 0) {
		dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	c->state = DBC_PREPARING;
	dbc_arm_timeout(c);
}

/* Drives PQconnectPoll; called at start and on each socket event. */
static void
dbc_connect(struct dbc *c)
{
	PostgresPollingStatusType st;
	int fd;

	st = PQconnectPoll(c->pg);
	if (st == PGRES_POLLING_OK) {
		dbc_connected(c);
		return;
	}
	if (st == PGRES_POLLING_FAILED) {
		dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	dbc_events_clear(c);
	fd = PQsocket(c->pg);
	if (st == PGRES_POLLING_READING)
		c->cev = event_new(c->db->base, fd, EV_READ,
		    (event_callback_fn)dbc_on_write, c);
	else
		c->cev = event_new(c->db->base, fd, EV_WRITE,
		    (event_callback_fn)dbc_on_write, c);
	if (c->cev == NULL || event_add(c->cev, NULL) != 0)
		dbc_fail(c, "cannot add connect event");
}

static void
dbc_start(struct dbc *c)
{
	c->pg = PQconnectStart(c->db->o.conninfo);
	if (c->pg == NULL || PQstatus(c->pg) == CONNECTION_BAD) {
		dbc_fail(c, c->pg ? PQerrorMessage(c->pg) : "out of memory");
		return;
	}
	c->state = DBC_CONNECTING;
	dbc_arm_timeout(c);
	dbc_connect(c);
}

static void
dbc_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dbc *c = arg;

	switch (c->state) {
	case DBC_DOWN:
		dbc_start(c);
		break;
	case DBC_CONNECTING:
	case DBC_PREPARING:
		dbc_fail(c, "connect timeout");
		break;
	case DBC_BUSY:
		dbc_fail(c, "query timeout");
		break;
	case DBC_IDLE:
		break;
	}
}

static void
dbc_drain_notifies(struct dbc *c)
{
	PGnotify *n;

	while ((n = PQnotifies(c->pg)) != NULL) {
		if (c->db->o.notify != NULL)
			c->db->o.notify(c->db->o.arg, n->relname, n->extra);
		PQfreemem(n);
	}
}

/* Reads the results that have arrived.  Returns 1 when the pipeline sync of
 * the current unit (or of the preparation) was seen. */
static int
dbc_results(struct dbc *c)
{
	PGresult *r;
	ExecStatusType st;

	for (;;) {
		if (PQisBusy(c->pg))
			return 0;
		if ((r = PQgetResult(c->pg)) == NULL) {
			/* end of one query's results; with no query pending
			 * (idle) there is nothing more to read */
			if (c->state != DBC_BUSY && c->state != DBC_PREPARING)
				return 0;
			continue;
		}
		st = PQresultStatus(r);
		if (st == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			return 1;
		}
		if (st == PGRES_FATAL_ERROR || st == PGRES_PIPELINE_ABORTED) {
			if (!c->unit_failed)
				snprintf(c->unit_err, sizeof(c->unit_err), "%s",
				    st == PGRES_FATAL_ERROR ?
				    PQresultErrorMessage(r) : "pipeline aborted");
			c->unit_failed = 1;
		} else if (c->state == DBC_BUSY && c->unit.result != NULL &&
		    c->unit.result(r, c->unit.arg) != 0) {
			c->unit_failed = 1;
		}
		PQclear(r);
	}
}

static void
dbc_on_read(evutil_socket_t fd, short what, void *arg)
{
	struct dbc *c = arg;
	int failed;
	char err[300];

	if (!PQconsumeInput(c->pg)) {
		dbc_fail(c, PQerrorMessage(c->pg));
		return;
	}
	dbc_drain_notifies(c);
	if (c->state != DBC_BUSY && c->state != DBC_PREPARING) {
		/* idle: drain stray results (none expected) */
		return;
	}
	if (!dbc_results(c))
		return;
	evtimer_del(c->timer);
	failed = c->unit_failed;
	c->unit_failed = 0;
	if (c->state == DBC_PREPARING) {
		if (failed) {
			snprintf(err, sizeof(err), "preparing statements: %s", c->unit_err);
			dbc_fail(c, err);
			return;
		}
		c->state = DBC_IDLE;
		c->backoff_ms = 0;
		log_info("msg=\"database connection ready\" conn=%d", c->index);
		dbc_notify_idle(c->db);
		return;
	}
	c->state = DBC_IDLE;
	snprintf(err, sizeof(err), "%s", failed ? c->unit_err : "");
	dbc_unit_end(c, !failed, failed ? err : NULL);
	dbc_notify_idle(c->db);
}

struct db *
db_new(struct event_base *base, const struct db_opts *o)
{
	struct db *db;
	int i;

	if ((db = calloc(1, sizeof(*db))) == NULL)
		return NULL;
	db->base = base;
	db->o = *o;
	db->conninfo = strdup(o->conninfo);
	db->o.conninfo = db->conninfo;
	if (db->conninfo == NULL) {
		free(db);
		return NULL;
	}
	if ((db->c = calloc((size_t)o->nconn, sizeof(*db->c))) == NULL) {
		free(db->conninfo);
		free(db);
		return NULL;
	}
	for (i = 0; i < o->nconn; i++) {
		db->c[i].db = db;
		db->c[i].index = i;
		db->c[i].timer = evtimer_new(base, dbc_on_timer, &db->c[i]);
		if (db->c[i].timer == NULL) {
			db_free(db);
			return NULL;
		}
	}
	for (i = 0; i < o->nconn; i++)
		dbc_start(&db->c[i]);
	return db;
}

int
db_run(struct db *db, const struct db_unit *u)
{
	struct dbc *c = NULL;
	int i;

	for (i = 0; i < db->o.nconn; i++)
		if (db->c[i].state == DBC_IDLE) {
			c = &db->c[i];
			break;
		}
	if (c == NULL)
		return -1;
	c->unit = *u;
	c->unit_failed = 0;
	c->unit_err[0] = '\0';
	c->state = DBC_BUSY;
	dbc_arm_timeout(c);
	if (u->send(c->pg, u->arg) != 0 || dbc_flush(c) != 0) {
		/* the connection state is unknown after a failed send */
		dbc_fail(c, PQerrorMessage(c->pg));
	}
	return 0;
}

int
db_up(const struct db *db)
{
	int i, n = 0;

	for (i = 0; i < db->o.nconn; i++)
		n += db->c[i].state == DBC_IDLE || db->c[i].state == DBC_BUSY;
	return n;
}

int
db_idle(const struct db *db)
{
	int i, n = 0;

	for (i = 0; i < db->o.nconn; i++)
		n += db->c[i].state == DBC_IDLE;
	return n;
}

int
db_busy(const struct db *db)
{
	int i, n = 0;

	for (i = 0; i < db->o.nconn; i++)
		n += db->c[i].state == DBC_BUSY;
	return n;
}

unsigned long
db_reconnects(const struct db *db)
{
	return db->reconnects;
}

void
db_free(struct db *db)
{
	int i;

	if (db == NULL)
		return;
	db->freeing = 1;
	for (i = 0; i < db->o.nconn; i++) {
		struct dbc *c = &db->c[i];

		if (c->pg != NULL || c->unit.done != NULL)
			dbc_fail(c, "shutting down");
		dbc_events_clear(c);
		if (c->timer != NULL)
			event_free(c->timer);
	}
	free(db->c);
	free(db->conninfo);
	free(db);
}
