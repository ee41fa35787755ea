/* db: a small pool of asynchronous libpq connections driven by the event
 * loop, in pipeline mode.  Work is given as a unit: a function that sends
 * its queries (ending with PQpipelineSync), one that sees each result, and
 * one called once at the end, with ok = 0 when any query failed or the
 * connection broke (then the outcome of a COMMIT in flight is unknown and
 * the caller must not claim success).  Broken connections are replaced with
 * exponential backoff; nothing here blocks. */
#ifndef DECLARED_DB_H
#define DECLARED_DB_H

#include <stddef.h>
#include <libpq-fe.h>

struct event_base;
struct db;

typedef int db_send_fn(PGconn *c, void *arg);      /* 0 or -1 */
typedef int db_result_fn(PGresult *r, void *arg);  /* -1: mark failed */
typedef void db_done_fn(void *arg, int ok, const char *err);
/* A connection became idle, or the up/down state changed. */
typedef void db_idle_fn(void *arg);
/* A NOTIFY arrived (channel, payload). */
typedef void db_notify_fn(void *arg, const char *channel, const char *payload);

struct db_unit {
	db_send_fn *send;
	db_result_fn *result;
	db_done_fn *done;
	void *arg;
};

struct db_prepare {
	const char *name;
	const char *sql;
};

struct db_opts {
	const char *conninfo;
	int nconn;
	int timeout_s;
	const struct db_prepare *prep;
	size_t nprep;
	const char *listen;  /* channel to LISTEN on, on the first connection; NULL = none */
	db_idle_fn *idle;
	db_notify_fn *notify;
	void *arg;
};

struct db *db_new(struct event_base *base, const struct db_opts *o);
/* Starts u on an idle connection: 0, or -1 when none is idle. */
int db_run(struct db *db, const struct db_unit *u);
int db_up(const struct db *db);     /* connections usable */
int db_idle(const struct db *db);   /* connections idle */
int db_busy(const struct db *db);   /* units in flight */
unsigned long db_reconnects(const struct db *db);
void db_free(struct db *db);        /* NULL ok; units in flight get done(ok=0) */

#endif
