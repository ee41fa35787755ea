/* pool: N worker threads fed through one bounded queue; finished jobs come
 * back to the event loop through an eventfd, in batches. */
#ifndef DECLARED_POOL_H
#define DECLARED_POOL_H

#include "job.h"

struct event_base;
struct work_env;
struct pool;

/* Called on the loop thread for every finished job. */
typedef void pool_done_fn(struct job *j, void *arg);

struct pool *pool_new(struct event_base *base, int nthreads, int queue_max,
    struct work_env *env, pool_done_fn *done, void *arg);
/* Queues j; -1 (j untouched) when the queue is at its cap or stopping. */
int pool_submit(struct pool *p, struct job *j);
/* Jobs queued or running (loop thread view). */
int pool_inflight(const struct pool *p);
int pool_queued(struct pool *p);
/* Swaps the env used for jobs submitted from now on (reload); jobs keep
 * the env they were first submitted with. */
void pool_set_env(struct pool *p, struct work_env *env);
/* Busy nanoseconds summed over workers. */
unsigned long long pool_busy_ns(struct pool *p);
/* Stops and joins the threads; jobs still queued are finished first. */
void pool_free(struct pool *p); /* NULL ok */

#endif
