/* api: the /v1 routes of the TLS listener. */
#ifndef DECLARED_API_H
#define DECLARED_API_H

struct daemon;
struct evhttp_request;
struct job;

void api_route(struct daemon *d, struct evhttp_request *req);
/* Loop-thread continuations of a job. */
void api_worked(struct job *j, void *arg);   /* from the worker pool */
void api_stored(struct job *j, void *arg);   /* from the batcher */

#endif
