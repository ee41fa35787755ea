/* limit: per-party token buckets and connection caps (see limit.h). */
#include "limit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>

#include "hash.h"
#include "log.h"

#define LIMIT_BUCKETS 4096               /* hash buckets, power of two */
#define LIMIT_PARTY_MAX 128
#define LIMIT_IDLE_NS (60ull * 1000000000ull) /* droppable after 60 s idle */

/* One party. */
struct lparty {
	struct lparty *next;      /* hash chain */
	char party[LIMIT_PARTY_MAX];
	double tokens;
	uint64_t last_ns;         /* last refill or request */
	int conns;                /* connections counted */
};

/* One counted connection: the close callback's argument. */
struct lconn {
	struct limit *l;
	struct lparty *p;
	SSL *ssl;
};

struct limit {
	struct lparty *bucket[LIMIT_BUCKETS];
	size_t n;
	int exidx;                /* SSL ex_data slot marking counted connections */
	unsigned long refused;
	unsigned long untracked;  /* parties let through because the table was full */
};

static unsigned
limit_hash(const char *s)
{
	return hash_str(s) & (LIMIT_BUCKETS - 1);
}

struct limit *
limit_new(void)
{
	struct limit *l = calloc(1, sizeof(*l));

	if (l == NULL)
		return NULL;
	l->exidx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (l->exidx < 0) {
		free(l);
		return NULL;
	}
	return l;
}

void
limit_free(struct limit *l)
{
	struct lparty *p, *next;
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < LIMIT_BUCKETS; i++)
		for (p = l->bucket[i]; p != NULL; p = next) {
			next = p->next;
			free(p);
		}
	free(l);
}

/* Drops parties with no connection that were idle for a minute. */
static void
limit_sweep(struct limit *l, uint64_t now_ns)
{
	struct lparty **pp, *p;
	size_t i;

	for (i = 0; i < LIMIT_BUCKETS; i++) {
		pp = &l->bucket[i];
		while ((p = *pp) != NULL) {
			if (p->conns == 0 && now_ns - p->last_ns > LIMIT_IDLE_NS) {
				*pp = p->next;
				free(p);
				l->n--;
			} else {
				pp = &p->next;
			}
		}
	}
}

static struct lparty *
limit_find(struct limit *l, const char *party, double burst, uint64_t now_ns)
{
	unsigned h = limit_hash(party);
	struct lparty *p;

	for (p = l->bucket[h]; p != NULL; p = p->next)
		if (strcmp(p->party, party) == 0)
			return p;
	if (l->n >= LIMIT_PARTIES_MAX)
		limit_sweep(l, now_ns);
	if (l->n >= LIMIT_PARTIES_MAX || (p = calloc(1, sizeof(*p))) == NULL) {
		if (l->untracked++ % 1000 == 0)
			log_warnx("msg=\"party table full, not limiting\" party=%s "
			    "parties=%zu", party, l->n);
		return NULL;
	}
	snprintf(p->party, sizeof(p->party), "%s", party);
	p->tokens = burst;
	p->last_ns = now_ns;
	p->next = l->bucket[h];
	l->bucket[h] = p;
	l->n++;
	return p;
}

static void
limit_on_close(struct evhttp_connection *evcon, void *arg)
{
	struct lconn *lc = arg;

	if (lc->p->conns > 0)
		lc->p->conns--;
	SSL_set_ex_data(lc->ssl, lc->l->exidx, NULL);
	evhttp_connection_set_closecb(evcon, NULL, NULL);
	free(lc);
}

static SSL *
limit_ssl(struct evhttp_request *req, struct evhttp_connection **evcon)
{
	struct bufferevent *bev;

	*evcon = evhttp_request_get_connection(req);
	if (*evcon == NULL ||
	    (bev = evhttp_connection_get_bufferevent(*evcon)) == NULL)
		return NULL;
	return bufferevent_openssl_get_ssl(bev);
}

/* Counts the request's connection once; -1 when the party is at its cap. */
static int
limit_conn(struct limit *l, const struct limit_conf *c,
    struct evhttp_request *req, struct lparty *p)
{
	struct evhttp_connection *evcon;
	struct lconn *lc;
	SSL *ssl = limit_ssl(req, &evcon);

	if (ssl == NULL || SSL_get_ex_data(ssl, l->exidx) != NULL)
		return 0;
	if (p->conns >= c->connections) {
		/* the client should not keep this one open */
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Connection", "close");
		return -1;
	}
	if ((lc = calloc(1, sizeof(*lc))) == NULL)
		return 0;
	lc->l = l;
	lc->p = p;
	lc->ssl = ssl;
	if (!SSL_set_ex_data(ssl, l->exidx, lc)) {
		free(lc);
		return 0;
	}
	evhttp_connection_set_closecb(evcon, limit_on_close, lc);
	p->conns++;
	return 0;
}

/* Takes one token; 0, or the whole seconds until one is there. */
static int
limit_take(struct lparty *p, const struct limit_conf *c, double burst,
    uint64_t now_ns)
{
	double wait;
	int s;

	if (now_ns > p->last_ns)
		p->tokens += (double)(now_ns - p->last_ns) / 1e9 * c->rate;
	if (p->tokens > burst)
		p->tokens = burst;
	p->last_ns = now_ns;
	if (p->tokens >= 1.0) {
		p->tokens -= 1.0;
		return 0;
	}
	wait = (1.0 - p->tokens) / c->rate;
	s = (int)wait;
	if ((double)s < wait)
		s++;
	return s < 1 ? 1 : s;
}

int
limit_admit(struct limit *l, const struct limit_conf *c,
    struct evhttp_request *req, const char *party, uint64_t now_ns,
    const char **why)
{
	struct lparty *p;
	double burst;
	int wait;

	*why = NULL;
	if (l == NULL || (c->rate <= 0 && c->connections <= 0))
		return 0;
	burst = c->burst > 0 ? c->burst : 2.0 * (c->rate > 0 ? c->rate : 1);
	if ((p = limit_find(l, party, burst, now_ns)) == NULL)
		return 0;
	if (c->connections > 0 && limit_conn(l, c, req, p) != 0) {
		l->refused++;
		*why = "TOO_MANY_CONNECTIONS";
		return 1;
	}
	if (c->rate <= 0) {
		p->last_ns = now_ns;
		return 0;
	}
	if ((wait = limit_take(p, c, burst, now_ns)) != 0) {
		l->refused++;
		*why = "RATE_LIMITED";
	}
	return wait;
}

unsigned long
limit_refused(const struct limit *l)
{
	return l != NULL ? l->refused : 0;
}

int
limit_connections(const struct limit *l, const char *party)
{
	const struct lparty *p;

	if (l == NULL)
		return 0;
	for (p = l->bucket[limit_hash(party)]; p != NULL; p = p->next)
		if (strcmp(p->party, party) == 0)
			return p->conns;
	return 0;
}
