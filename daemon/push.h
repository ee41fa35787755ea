/* push: delivery of each party's signed acknowledgements to the HTTPS
 * callback it registered (PUT /v1/callback {"url": "https://..."}), in
 * sequence order, with the daemon's client certificate.
 *
 * Several instances share the work through push_state: an instance leases
 * a party's stream (FOR UPDATE SKIP LOCKED, then locked_by/locked_until),
 * POSTs the next acknowledgement, and records the outcome while advancing
 * delivered_seq under the same lease.  2xx: delivered; 4xx (but 408, 429):
 * rejected and skipped; anything else (timeout, connection error, 5xx):
 * retried with backoff 1 s doubling to 5 min, blocking the stream; older
 * than the retention: expired and skipped.  A crash (or a lease that ran
 * out) between a delivery and its record delivers that acknowledgement
 * once more, with the same Declared-Ack-Seq: receivers deduplicate by it.
 *
 * Configuration ([push] in declared.conf(5), applied by a reload): ca (an
 * extra CA file for receivers' server certificates, besides the system
 * store), timeout (seconds per attempt) and retention (seconds). */
#ifndef DECLARED_PUSH_H
#define DECLARED_PUSH_H

#include "err.h"
#include "job.h"

struct config;
struct daemon;
struct push;
struct push_ctx;
struct evhttp_request;

/* Counters since startup (for /metrics), loop thread only. */
struct push_stats {
	unsigned long delivered;     /* 2xx */
	unsigned long rejected;      /* 4xx but 408, 429: skipped */
	unsigned long expired;       /* older than the retention: skipped */
	unsigned long failed;        /* attempts to be retried */
	unsigned long claims;        /* lease queries run */
	unsigned long wakes_skipped; /* notifications of parties without a callback */
	int leases;                  /* parties' streams held now */
};

/* The client TLS context of a configuration: [tls] cert and key as the
 * client certificate, the system store plus [push] ca as trust.  NULL
 * with a TLS_CONFIG error. */
struct push_ctx *push_ctx_new(const struct config *cfg, struct errs *e);
void push_ctx_free(struct push_ctx *c); /* NULL ok */

/* Builds the client TLS context from d->cfg. */
struct push *push_new(struct daemon *d, struct errs *e);
/* Reload: takes c (built aside) and frees the old context; connections
 * open now are not used again once their delivery ends. */
void push_set_ctx(struct push *p, struct push_ctx *c);
void push_stats(const struct push *p, struct push_stats *out);
/* GET, PUT and DELETE /v1/callback (enterprise role). */
void push_route(struct push *p, struct evhttp_request *req, const char *party,
    enum role role);
/* New acknowledgements of party (NULL: of anyone) may be waiting: look for
 * work soon, if the party is known to have a callback (the 200 ms tick
 * looks in any case). */
void push_wake(struct push *p, const char *party);
/* A database connection became idle or the up/down state changed. */
void push_db_idle(struct push *p);
/* Stopping: no new leases; deliveries in flight finish and release. */
void push_drain(struct push *p);
/* Cancels deliveries in flight and answers held requests; before the HTTP
 * server is freed.  Leases left behind run out (lease time) by themselves. */
void push_stop(struct push *p);
void push_free(struct push *p); /* NULL ok; after db_free */

#endif
