/* otask: one officer request on its way through the officer FIFO, shared by
 * officer.c (queue, search, stats, routes) and decide.c (decisions).
 * Internal to those two files. */
#ifndef DECLARED_OTASK_H
#define DECLARED_OTASK_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <libpq-fe.h>

#include "lifecycle.h"
#include "search.h"

#define OTASK_REASON_MAX 1000           /* bytes of UTF-8 */

struct evhttp_request;
struct officer;

enum otask_kind { OT_SEARCH, OT_STATS, OT_READ, OT_DECIDE };

struct otask {
	struct otask *qnext;          /* FIFO or parking link */
	struct otask *prev, *next;    /* every live task, for officer_stop */
	struct officer *o;
	enum otask_kind kind;
	struct evhttp_request *req;   /* NULL once answered */
	int nres;                     /* results seen in the unit */
	int on_replica;               /* the unit runs on the replica */
	json_t *out;                  /* the answer being built */
	struct search search;         /* OT_SEARCH */

	/* decisions (decide.c) */
	int64_t id;
	char idtxt[24];
	enum lc_action action;
	int from;                     /* enum lc_state, -1 unknown */
	enum lc_state to;
	int found;
	char reason[OTASK_REASON_MAX + 1];
	char actor[128];
	char lrn[72], mrn[24], lane[8];
	char *ack;                    /* signed acknowledgement, owned */
	size_t ack_len;
	const char *ack_kind;
	char outcome[16], state[24];
	long long seq;
};

/* officer.c */
struct daemon *officer_daemon(const struct officer *o);
int officer_stopped(const struct officer *o);
struct otask *officer_task(struct officer *o, struct evhttp_request *req,
    enum otask_kind k);
void officer_task_free(struct otask *t);
void officer_enqueue(struct officer *o, struct otask *t);
/* A decision changed the counts: the next GET /v1/stats reads them anew. */
void officer_stats_stale(struct officer *o);
/* Answer t (if still held) with doc (not consumed), or with an error
 * {"error", "message"[, "state"]} (state NULL: none). */
void officer_json(struct otask *t, int status, const json_t *doc);
void officer_error(struct otask *t, int status, const char *code,
    const char *msg, const char *state, int retry_after);

/* decide.c: POST /v1/declarations/{id}/decision, and its database steps */
void decide_start(struct officer *o, struct evhttp_request *req,
    const char *path, const char *party);
int decide_send(PGconn *c, struct otask *t);
int decide_result(struct otask *t, const PGresult *r);
/* The unit of t ended (ok = 0: failed); answers or moves t on. */
void decide_done(struct otask *t, int ok);

#endif
