/* limit: per-party limits of the API listener.  A token bucket per party
 * (rate requests per second, burst tokens) and a cap on the concurrent
 * connections of one party.  Both answer 429 with Retry-After.
 *
 * The TLS party is known only once a request arrives, so a connection is
 * counted on its first request (marked in its SSL object) and uncounted
 * when evhttp closes it (close callback).  A party's connections all carry
 * the same certificate (renegotiation is off), so one mark per connection
 * is enough.  Loop thread only.  The limits are read from the live config
 * on every call, so SIGHUP changes them. */
#ifndef DECLARED_LIMIT_H
#define DECLARED_LIMIT_H

#include <stdint.h>

struct evhttp_request;
struct limit;

/* Parties tracked at most; past it idle parties are dropped, and when none
 * is idle a new party is let through unlimited (and logged). */
#define LIMIT_PARTIES_MAX 65536

struct limit_conf {
	int rate;        /* requests per second per party, 0 = no rate limit */
	int burst;       /* bucket size; 0 = 2 * rate */
	int connections; /* concurrent connections per party, 0 = no cap */
};

struct limit *limit_new(void);
/* NULL ok.  Call after the listeners are freed: their close callbacks
 * still use it. */
void limit_free(struct limit *l);

/* Admits one request of party at now_ns.  Returns 0 to go on, or the
 * seconds to put in Retry-After (>= 1) with *why set to "RATE_LIMITED"
 * or "TOO_MANY_CONNECTIONS".  The request's connection is counted on its
 * first admitted request. */
int limit_admit(struct limit *l, const struct limit_conf *c,
    struct evhttp_request *req, const char *party, uint64_t now_ns,
    const char **why);

/* For metrics and tests. */
unsigned long limit_refused(const struct limit *l);
int limit_connections(const struct limit *l, const char *party);

#endif
