/* status: GET /v1/declarations/{id} (JSON status, history and the
 * acknowledgements of a declaration) and GET /v1/declarations/{id}/xml
 * (the stored signed document).  Visible to the submitting party, the
 * declarant party and any officer; everyone else gets 404, as for an id
 * that does not exist. */
#ifndef DECLARED_STATUS_H
#define DECLARED_STATUS_H

#include "job.h"

struct daemon;
struct status;
struct evhttp_request;

struct status *status_new(struct daemon *d);
/* rest: the path after "/v1/declarations/", i.e. "ID" or "ID/xml". */
void status_get(struct status *s, struct evhttp_request *req,
    const char *party, enum role role, const char *rest);
/* A database connection became idle or the up/down state changed. */
void status_db_idle(struct status *s);
/* Answers every request still held (503); before the HTTP server is freed. */
void status_stop(struct status *s);
void status_free(struct status *s); /* NULL ok; after db_free */

#endif
