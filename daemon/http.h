/* http: the TLS API listener and the plain admin listener (libevent evhttp
 * over bufferevent_openssl), request routing and replies. */
#ifndef DECLARED_HTTP_H
#define DECLARED_HTTP_H

#include <stddef.h>

#include "err.h"

struct daemon;
struct evhttp_request;

int http_start(struct daemon *d, struct errs *e);
/* Closes the listening sockets; open connections go on. */
void http_stop_accepting(struct daemon *d);
void http_free(struct daemon *d);

/* A small JSON error reply {"error": code, "message": msg} (not for jobs). */
void http_error(struct daemon *d, struct evhttp_request *req, int status,
    const char *code, const char *msg, int retry_after);

/* Splits "host:port" / "[v6]:port"; -1 on bad syntax. */
int http_split_hostport(const char *s, char *host, size_t cap, int *port);

#endif
