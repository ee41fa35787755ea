/* feed: GET /v1/acks?after=SEQ&limit=N&wait=S, the pull feed of a party's
 * signed acknowledgements, ordered by its gapless per-party sequence.  The
 * cursor is the client's: a page holds the acknowledgements after it, and
 * "next" is the cursor to send next time.  With wait > 0 and nothing after
 * the cursor the request is parked until an acknowledgement of the party
 * commits (in-process wake from the batcher, or NOTIFY declared_acks from
 * another instance) or the wait ends (an empty page).  Parked requests
 * are bounded overall and per party. */
#ifndef DECLARED_FEED_H
#define DECLARED_FEED_H

#include "job.h"

#define FEED_CHANNEL "declared_acks"   /* NOTIFY channel, payload = party */

struct daemon;
struct feed;
struct evhttp_request;

/* Counters since startup (for /metrics), loop thread only. */
struct feed_stats {
	unsigned long answered;      /* requests answered, any status */
	unsigned long empty;         /* ... with an empty page */
	unsigned long timeouts;      /* ... of those, waits that ran out */
	unsigned long woken;         /* parked requests woken (commit, reconnect) */
	int parked;                  /* requests parked now */
};

struct feed *feed_new(struct daemon *d);
const struct feed_stats *feed_stats(const struct feed *f);
/* The route: answers now, or later (queued or parked). */
void feed_get(struct feed *f, struct evhttp_request *req, const char *party,
    enum role role);
/* New acknowledgements of party have committed: re-query its parked
 * requests. */
void feed_wake(struct feed *f, const char *party);
/* db_notify_fn with arg = the daemon: wakes the feed and push delivery. */
void feed_on_notify(void *arg, const char *channel, const char *payload);
/* A database connection became idle or the up/down state changed. */
void feed_db_idle(struct feed *f);
/* Stopping: parked requests get their page now, new ones do not park. */
void feed_drain(struct feed *f);
/* Answers every request still held (503); call before the HTTP server is
 * freed.  Queries in flight end later, in db_free. */
void feed_stop(struct feed *f);
void feed_free(struct feed *f); /* NULL ok; after db_free */

#endif
