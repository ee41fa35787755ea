/* http: the TLS API listener and the plain admin listener (libevent evhttp
 * over bufferevent_openssl), request routing and replies. */
#ifndef DECLARED_HTTP_H
#define DECLARED_HTTP_H

#include <stddef.h>

#include "err.h"

struct daemon;
struct evbuffer;
struct evhttp_request;

int http_start(struct daemon *d, struct errs *e);
/* Closes the listening sockets; open connections go on. */
void http_stop_accepting(struct daemon *d);
void http_free(struct daemon *d);

/* evhttp_send_reply(req, status, NULL, body), with the response then
 * joined into one piece of the connection's output when it fits one TLS
 * record: bufferevent_openssl writes each piece as a record and a write(2)
 * of its own, and evhttp puts the headers and the body in two. */
void http_reply(struct evhttp_request *req, int status, struct evbuffer *body);

/* A small JSON error reply {"error": code, "message": msg} (not for jobs). */
void http_error(struct daemon *d, struct evhttp_request *req, int status,
    const char *code, const char *msg, int retry_after);

/* Splits "host:port" / "[v6]:port"; -1 on bad syntax. */
int http_split_hostport(const char *s, char *host, size_t cap, int *port);

#endif
