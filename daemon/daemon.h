/* daemon: the process-wide context, owned by the event loop thread. */
#ifndef DECLARED_DAEMON_H
#define DECLARED_DAEMON_H

#include <stdint.h>

#include "job.h"

struct event_base;
struct event;
struct evhttp;
struct config;
struct work_env;
struct pool;
struct db;
struct batch;
struct tls;
struct ids;
struct feed;      /* delivery: feed.c, status.c, push.c */
struct status;
struct push;
struct limit;     /* per-party limits: limit.c */
struct officer;   /* officer routes: officer.c */
struct maintain;  /* partition upkeep: maintain.c */

/* Counters for /metrics, loop thread only. */
struct metrics {
	unsigned long req_total;
	unsigned long resp_by_status[6];      /* 1xx..5xx, index = status / 100 */
	unsigned long resp_202, resp_400, resp_403, resp_404, resp_409, resp_413,
	    resp_503, resp_500;
	unsigned long decl_accepted, decl_duplicate, decl_conflict, decl_invalid,
	    decl_forbidden, decl_failed;
	unsigned long overload;               /* 503 for a full queue */
	unsigned long tls_conns;
	long conns_open;                      /* TLS connections alive */
	unsigned long accept_paused;          /* times max_connections was hit */
	unsigned long deadline_closed;        /* request not complete in read_timeout */
	unsigned long lat_hist[10];           /* <=1,2,5,10,25,50,100,250,1000 ms, more */
	double lat_sum_ms;
	/* a stored declaration's wait for a worker, its work, its wait for a
	 * store transaction, that transaction: buckets as lat_hist */
	unsigned long stage_hist[4][10];
	double stage_sum_ms[4];
};

struct daemon {
	struct event_base *base;
	struct config *cfg;
	struct config **old_cfgs;   /* replaced by reloads, freed at exit */
	int n_old_cfgs;
	unsigned long reloads, reload_failures;
	struct work_env *env;
	struct pool *pool;
	struct db *db;
	struct db *rdb;              /* officer reads: [database] replica_conninfo, NULL = none */
	int rdb_was_up;
	struct batch *batch;
	struct ids *ids;
	struct feed *feed;          /* GET /v1/acks long-poll */
	struct status *status;      /* GET /v1/declarations/{id} */
	struct push *push;          /* callbacks and push delivery */
	struct tls *tls;
	struct limit *limit;        /* per-party rate and connection caps */
	struct officer *officer;    /* search, decisions, stats, console */
	struct maintain *maintain;  /* monthly partitions ahead, retention */
	struct evhttp *http;        /* the TLS API listener */
	struct evhttp *admin;       /* plain HTTP, loopback */
	struct event *sig_term, *sig_int, *sig_hup;
	struct event *tick;         /* 1 s housekeeping: watchdog, status */
	int stopping;               /* SIGTERM seen: no new work */
	int ready_sent;
	int exit_code;
	int inflight;               /* requests holding a job */
	int accepting_paused;       /* max_connections reached */
	struct metrics m;
};

/* Replies to the job's request (if the client is still there) and frees the
 * job.  body may be NULL. */
void daemon_reply(struct daemon *d, struct job *j, int status,
    const char *ctype, const char *body, size_t len);

uint64_t daemon_now_ns(void);

#endif
