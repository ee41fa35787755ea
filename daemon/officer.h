/* officer: the routes only officers may use.
 *   GET  /v1/declarations?...            search (search.h), one JSON page
 *   POST /v1/declarations/{id}/decision  {"action": A, "reason": R}
 *   GET  /v1/stats                       counters for the console
 *   GET  / and /console/...              the web console (console.h)
 *
 * A is release, hold, require_documents, inspect or reject; R (up to 1000
 * bytes) is required for all but release.
 * A decision reads the declaration, asks the lifecycle whether the action
 * is legal in its state (409 ILLEGAL_TRANSITION naming the state if not),
 * has a worker sign the acknowledgement, then stores the new state, the
 * event (officer, action, reason) and the acknowledgement in one
 * transaction that only applies if the state is still the one read: of two
 * officers deciding at once exactly one wins, the other gets 409
 * STATE_CHANGED naming the state the winner left.  "reject" needs a
 * supervisor: an officer certificate whose subject has OU=supervisor (or
 * title=supervisor).
 *
 * Database work waits in a bounded FIFO and runs one unit at a time, so
 * officers never take every connection from the intake batcher. */
#ifndef DECLARED_OFFICER_H
#define DECLARED_OFFICER_H

#include "job.h"

struct daemon;
struct officer;
struct evhttp_request;

struct officer *officer_new(struct daemon *d);
/* Answers req (now or later) and returns 1 when path is an officer route;
 * 0 when it is not (POST /v1/declarations, /v1/declarations/{id}, ...). */
int officer_route(struct officer *o, struct evhttp_request *req,
    const char *path, const char *party, enum role role);
/* A database connection became idle or the up/down state changed. */
void officer_db_idle(struct officer *o);
/* Answers every request still held (503); before the HTTP server is freed. */
void officer_stop(struct officer *o);
void officer_free(struct officer *o); /* NULL ok; after db_free */

#endif
