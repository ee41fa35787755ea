/* http: declctl's HTTPS client over libcurl.  One easy handle per
 * struct http, reused for every request, so that the connection (and its
 * TLS session) is kept alive; mutual TLS with the client certificate from
 * the common options; TLS 1.2 or later; bodies capped at CLI_MAX_FILE. */
#ifndef DECLCTL_HTTP_H
#define DECLCTL_HTTP_H

#include <signal.h>
#include <stddef.h>

#include "cli.h"

struct http;

struct http_resp {
	long status;           /* HTTP status, 0 before a response */
	char *body;            /* NUL-terminated, malloc'd, may hold NULs */
	size_t len, cap;
	char ctype[128];       /* Content-Type */
	char location[512];    /* Location, "" if none */
	long retry_after;      /* Retry-After in seconds, -1 if none */
};

/* Needs curl_global_init() done by main.  stop (NULL ok) is polled during
 * transfers: when it becomes non-zero the transfer is aborted. */
struct http *http_new(const struct cli *c, volatile sig_atomic_t *stop);
void http_free(struct http *h); /* NULL ok */

/* method "GET" or "POST"; path starts with '/' and is appended to the
 * base URL; ctype and body only for POST.  timeout_s 0 = the cli
 * default.  Returns 0 when any HTTP response arrived (r->status set),
 * -1 on a transport failure (message from http_error). */
int http_request(struct http *h, const char *method, const char *path,
    const char *ctype, const void *body, size_t len, long timeout_s,
    struct http_resp *r);
const char *http_error(const struct http *h);

/* Percent-encodes s for a query string into a malloc'd string. */
char *http_escape(struct http *h, const char *s);

void http_resp_clear(struct http_resp *r); /* frees the body, reusable */

#endif
