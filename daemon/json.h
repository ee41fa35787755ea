/* json: replies of the read API (feed, status, callback) as JSON, and a
 * few small shared helpers for them. */
#ifndef DECLARED_JSON_H
#define DECLARED_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <libpq-fe.h>

struct daemon;
struct evhttp_request;

/* Sends o (not consumed) compact, with a newline, as application/json. */
void json_reply(struct daemon *d, struct evhttp_request *req, int status,
    const json_t *o);
/* Sends len bytes of body with the given content type. */
void json_reply_raw(struct daemon *d, struct evhttp_request *req, int status,
    const char *ctype, const void *body, size_t len);
/* A decimal number of 1..18 digits into *v: 0, or -1 when s is anything
 * else (sign, space, empty, too long). */
int json_parse_u63(const char *s, int64_t *v);
/* An int8 column of a binary-format result row; 0 when NULL. */
int64_t json_pg_int8(const PGresult *r, int row, int col);

#endif
