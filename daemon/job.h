/* job: one unit of request work as it travels loop -> worker -> loop ->
 * batcher -> loop.  Exactly one owner at a time; the loop thread is the only
 * one that touches req.  Every job ends in exactly one reply (job_reply*),
 * which also frees it. */
#ifndef DECLARED_JOB_H
#define DECLARED_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "decl.h"
#include "err.h"

struct evhttp_request;
struct daemon;
struct work_env;

enum job_kind {
	JOB_INTAKE,   /* a submitted declaration: check, receipt */
	JOB_RESPONSE, /* build and sign a Response for an error reply */
	JOB_ACK,      /* build and sign an acknowledgement, then call cont */
};

enum role { ROLE_NONE, ROLE_ENTERPRISE, ROLE_OFFICER };

enum { REQ_NONE, REQ_AMEND, REQ_CANCEL };

enum db_outcome { DBO_NONE, DBO_NEW, DBO_DUPLICATE, DBO_CONFLICT, DBO_FORBIDDEN,
	DBO_FORBIDDEN_SIGNER, DBO_GRANTED, DBO_DENIED, DBO_UNKNOWN, DBO_FAILED };

struct job {
	enum job_kind kind;
	struct job *next;              /* link in whichever queue holds it */
	struct evhttp_request *req;    /* loop thread only */
	uint64_t t_start_ns;           /* monotonic, for latency */
	uint64_t t_work0_ns, t_work1_ns; /* in a worker (set by the pool) */
	uint64_t t_tx0_ns, t_tx1_ns;   /* its store transaction (set by batch) */
	char party[128];               /* TLS client party */
	enum role role;
	char *body;                    /* request body, owned */
	size_t len;
	int64_t id;                    /* declaration id given by the loop */
	struct work_env *env;          /* taken at the first pool_submit */

	/* worker results */
	int status;                    /* HTTP status; 0 = store it */
	struct errs errs;
	struct decl decl;
	const char *profile;           /* name, lives as long as the env */
	char digest[65];
	char mrn[24];
	char state[24];
	char lane[8];                  /* green|yellow|red, "" if not accepted */
	char lane_reason[96];
	char signer[128];
	char *errors_json;             /* rule failures as a JSON array, owned */
	char state2[24];               /* second transition (automatic release) */
	char reason2[1024];            /* also a decision's reason */
	const char *ack2_kind;
	char *resp2;                   /* its signed acknowledgement, owned */
	size_t resp2_len;
	int req_kind;                  /* 0 original, REQ_AMEND, REQ_CANCEL */
	char *resp3;                   /* requests: the "unknown MRN" answer */
	size_t resp3_len;
	const char *ack2_kind_denied, *ack3_kind;
	const char *ack_kind;          /* FunctionCode of resp */
	char *resp;                    /* Response XML (signed), owned */
	size_t resp_len;

	/* JOB_ACK input: function code, lrn (decl.lrn), id (db_id), mrn,
	 * state, lane, reason (reason2); output resp.  cont runs on the loop
	 * thread when the worker is done; arg is the daemon, ctx is the
	 * caller's. */
	const char *ack_fc;
	void (*cont)(struct job *j, void *daemon);
	void *ctx;

	/* JOB_RESPONSE input */
	int want_status;
	char want_code[40];
	char want_msg[512];

	/* batcher results */
	enum db_outcome outcome;
	int64_t db_id;                 /* existing id on duplicate / conflict */
	int64_t ack_seq;
	char *receipt;                 /* original receipt on duplicate, owned */
	size_t receipt_len;
};

struct job *job_new(enum job_kind kind);
void job_free(struct job *j); /* NULL ok */

#endif
