/* pushq: the internals of the push module shared by push.c (HTTP: the
 * callback route, outbound POSTs) and pushq.c (SQL: leases, outcomes,
 * registration), which also owns the database units. */
#ifndef DECLARED_PUSHQ_H
#define DECLARED_PUSHQ_H

#include <stddef.h>
#include <stdint.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "err.h"
#include "db.h"
#include "push.h"

#define PUSH_SLOTS 64                  /* deliveries at once */
#define PUSH_TICK_MS 200
#define PUSH_URL_MAX 1024
#define PUSH_CB_QUEUE_MAX 256
#define PUSH_CB_PER_UNIT 16
#define PUSH_IDLE_CONN_S 30            /* keep-alive to a receiver */
#define PUSH_KNOWN_SLOTS 4096          /* parties known to have a callback */
#define PUSH_KNOWN_MAX (PUSH_KNOWN_SLOTS / 4 * 3) /* then: all are */
#define PUSH_RESP_MAX (1 << 20)        /* response body we read */

struct config;
struct daemon;
struct evdns_base;
struct event;

enum push_outcome { PO_NONE, PO_DELIVERED, PO_REJECTED, PO_FAILED, PO_EXPIRED };

struct pslot {
	struct push *p;
	struct pslot *qnext;           /* in the queue of outcomes to record */
	int busy;                      /* holds the party's lease */
	char party[128];
	char url[PUSH_URL_MAX];
	int64_t seq;                   /* the acknowledgement in hand */
	char decl[24];
	unsigned char *body;
	size_t blen;
	enum push_outcome out;
	int http_status;
	char err[160];
	/* the connection, kept for the next acknowledgement of the party */
	struct evhttp_connection *evcon;
	char conn_key[PUSH_URL_MAX + 8]; /* host:port it goes to */
	int dead;                      /* closed: never reuse */
	uint64_t used_ns;
	struct evhttp_request *hreq;   /* in flight */
	struct event *timer;           /* the whole delivery's deadline */
	int timeout_s;                 /* [push] timeout of this attempt */
	int req_error;                 /* from the error callback, -1 none */
};

struct pcb {                           /* a /v1/callback request */
	struct pcb *next;
	struct evhttp_request *req;
	enum evhttp_cmd_type cmd;
	char party[128];
	char url[PUSH_URL_MAX];
};

enum pop_kind { OP_RECORD, OP_CLAIM, OP_CB };

struct pop {
	enum pop_kind kind;
	struct pslot *s;
	struct pcb *cb;
	PGresult *res;                 /* kept until the unit's sync commits */
};

struct punit {
	struct push *p;
	struct pop op[PUSH_SLOTS + PUSH_CB_PER_UNIT + 1];
	int n;
	int next;                      /* results kept */
	int claim_limit;
};

struct push {
	struct daemon *d;
	struct push_ctx *ctx;          /* client TLS; replaced by reloads */
	struct evdns_base *dns;
	struct event *tick, *kick;
	struct pslot slot[PUSH_SLOTS];
	struct pslot *qhead, *qtail;   /* outcomes to record */
	struct pcb *cbhead, *cbtail;
	int ncb;
	struct punit *cur;             /* the unit in flight */
	int want_claim;
	/* Hashes of the parties seen with a callback (registered here, or
	 * claimed by a tick): a notification for any other party starts no
	 * claim.  A stale or colliding entry costs one claim; a party
	 * registered on another instance is learnt by the next tick's claim.
	 * Past PUSH_KNOWN_MAX every notification claims, as if all were known. */
	uint32_t known[PUSH_KNOWN_SLOTS];
	int nknown;
	int draining, stopped;
	char instance[96];
	struct push_stats st;
};

/* The lease on a party's stream, in seconds: three times the attempt
 * timeout plus 20 s (from the running configuration). */
int push_lease_s(const struct push *p);

/* pushq.c */
void pushq_on_tick(evutil_socket_t fd, short what, void *arg);
void pushq_on_kick(evutil_socket_t fd, short what, void *arg);
/* Starts a unit when there is work and a free connection. */
void pushq_kick(struct push *p);
/* Queues the slot's outcome (s->out, http_status, err) for recording. */
void pushq_record(struct pslot *s);
/* The party has a callback, as far as this instance knows (see known). */
void pushq_know(struct push *p, const char *party);
int pushq_known(const struct push *p, const char *party);

/* push.c */
/* POSTs the slot's acknowledgement: 0, or -1 with s->err set; the outcome
 * comes through pushq_record, possibly before this returns. */
int push_http(struct pslot *s);
/* Frees the slot's connection (not from inside its callbacks). */
void push_conn_free(struct pslot *s);
/* Answers a callback request (json: the body, NULL = an error for status)
 * and frees it. */
void push_cb_end(struct push *p, struct pcb *c, int status, const char *json,
    size_t len);

/* The statements every database connection prepares for push delivery. */
extern const struct db_prepare pushq_prepare[];
extern const size_t pushq_nprepare;

#endif
