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
/* A feed page {"acks": [{seq, declaration_id, kind, created_at, body
 * (base64)}...], "next": last seq or after} from the rows of r (binary
 * format: seq int8, declaration_id int8 or NULL, kind text, created_at
 * text, body bytea), stopping before the bodies pass cap bytes of base64
 * (at least one row).  New reference, or NULL (out of memory, or a row
 * alone larger than cap). */
json_t *json_acks_page(const PGresult *r, int64_t after, size_t cap);

#endif
