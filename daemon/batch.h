/* batch: group commit.  Checked declarations wait here until a database
 * connection is free and the batch is full or its delay has passed; then
 * one pipelined transaction stores them all: BEGIN, one set-based
 * declared_store_batch() call (sql/008) per run of declarations, with
 * binary array parameters (declarations, events, receipts in the outbox,
 * each party's acknowledgement numbers taken once), the amendment and
 * cancellation requests one declared_request() each in their place,
 * COMMIT.  While a transaction is in flight the next batch grows until it
 * is full or that commit ends, instead of going out small on another
 * connection.  Each job comes back through done() after COMMIT with its
 * outcome, or with DBO_FAILED when the transaction did not commit (or its
 * fate is unknown). */
#ifndef DECLARED_BATCH_H
#define DECLARED_BATCH_H

#include "db.h"
#include "job.h"

struct event_base;
struct db;
struct batch;

typedef void batch_done_fn(struct job *j, void *arg);

struct batch *batch_new(struct event_base *base, struct db *db, int batch_max,
    int delay_ms, int pending_max, batch_done_fn *done, void *arg);
/* -1 when pending is at its cap (the caller answers 503). */
int batch_add(struct batch *b, struct job *j);
/* A connection became idle: flush if there is work. */
void batch_kick(struct batch *b);
int batch_pending(const struct batch *b);
int batch_inflight(const struct batch *b);  /* jobs in transactions */
/* Fails every pending job (database down). */
void batch_fail_pending(struct batch *b);

/* Statistics for /metrics. */
struct batch_stats {
	unsigned long commits, failures, stored;
	unsigned long size_hist[8];    /* <=1, <=4, <=16, <=64, <=128, <=256, <=512, more */
	unsigned long commit_us_hist[8]; /* <=1ms, 2, 5, 10, 25, 50, 100, more */
	double commit_us_sum;
};
const struct batch_stats *batch_stats(const struct batch *b);

void batch_free(struct batch *b); /* NULL ok; pending jobs are failed */

/* The statements the batcher needs prepared on every connection. */
extern const struct db_prepare batch_prepare[];
extern const size_t batch_nprepare;

#endif
