/* Officer decisions: POST /v1/declarations/{id}/decision.  Read the
 * declaration, check the transition with the lifecycle, have a worker sign
 * the acknowledgement (JOB_ACK), then store it all with declared_decide(),
 * which applies only if the state is still the one read. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "daemon.h"
#include "http.h"
#include "job.h"
#include "json.h"
#include "log.h"
#include "otask.h"
#include "pool.h"

#define DECIDE_BODY_MAX 8192

/* The month from the registry (sql/007): one partition read, as in
 * declared_decide. */
static const char decide_sql_read[] =
    "SELECT d.status, d.lrn, d.mrn, d.lane FROM declarations d "
    "WHERE d.id = $1 AND d.received_at = (SELECT k.received_at "
    "FROM declaration_keys k WHERE k.id = $1)";
static const char decide_sql_store[] =
    "SELECT outcome, state, ack_seq FROM declared_decide($1::bigint, "
    "$2::text[], $3, $4, $5, $6, $7, $8::bytea)";

/* ---- identity ---- */

/* 1 when the client certificate's subject has OU or title "supervisor". */
static int
decide_supervisor(struct evhttp_request *req)
{
	struct evhttp_connection *c = evhttp_request_get_connection(req);
	struct bufferevent *bev = c ? evhttp_connection_get_bufferevent(c) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	X509 *x = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
	X509_NAME *n = x ? X509_get_subject_name(x) : NULL;
	static const int nids[] = { NID_organizationalUnitName, NID_title };
	const ASN1_STRING *s;
	size_t k;
	int i;

	for (k = 0; n != NULL && k < sizeof(nids) / sizeof(nids[0]); k++)
		for (i = -1; (i = X509_NAME_get_index_by_NID(n, nids[k], i)) >= 0;) {
			s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
			if (ASN1_STRING_length(s) == 10 && strncasecmp((const char *)
			    ASN1_STRING_get0_data(s), "supervisor", 10) == 0)
				return 1;
		}
	return 0;
}

/* ---- database steps ---- */

int
decide_send(PGconn *c, struct otask *t)
{
	const char *v[8];
	int fmt[8] = { 0 }, len[8] = { 0 };
	char from[40];

	if (t->kind == OT_READ) {
		v[0] = t->idtxt;
		return PQsendQueryParams(c, decide_sql_read, 1, NULL, v, NULL, NULL,
		    0) ? 0 : -1;
	}
	snprintf(from, sizeof(from), "{%s}", lifecycle_state_name((enum lc_state)t->from));
	v[0] = t->idtxt;
	v[1] = from;
	v[2] = lifecycle_state_name(t->to);
	v[3] = t->actor;
	v[4] = lifecycle_action_name(t->action);
	v[5] = t->reason[0] ? t->reason : NULL;
	v[6] = t->ack_kind;
	v[7] = t->ack;
	fmt[7] = 1;
	len[7] = (int)t->ack_len;
	return PQsendQueryParams(c, decide_sql_store, 8, NULL, v, len, fmt, 0) ?
	    0 : -1;
}

static void
decide_copy(char *dst, size_t cap, const PGresult *r, int col)
{
	snprintf(dst, cap, "%s", PQgetisnull(r, 0, col) ? "" : PQgetvalue(r, 0, col));
}

int
decide_result(struct otask *t, const PGresult *r)
{
	if (t->kind == OT_READ) {
		if (PQnfields(r) != 4)
			return -1;
		if ((t->found = PQntuples(r) == 1)) {
			t->from = lifecycle_state_by_name(PQgetvalue(r, 0, 0));
			decide_copy(t->lrn, sizeof(t->lrn), r, 1);
			decide_copy(t->mrn, sizeof(t->mrn), r, 2);
			decide_copy(t->lane, sizeof(t->lane), r, 3);
		}
		return 0;
	}
	if (PQntuples(r) != 1 || PQnfields(r) != 3)
		return -1;
	decide_copy(t->outcome, sizeof(t->outcome), r, 0);
	decide_copy(t->state, sizeof(t->state), r, 1);
	t->seq = PQgetisnull(r, 0, 2) ? 0 : atoll(PQgetvalue(r, 0, 2));
	return 0;
}

/* ---- steps on the loop ---- */

/* Copies at most cap-1 bytes of s, cut on a UTF-8 character boundary. */
static void
decide_utf8_cut(char *dst, size_t cap, const char *s)
{
	size_t n = strlen(s);

	if (n >= cap) {
		n = cap - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

static void decide_acked(struct job *j, void *daemon);

/* The declaration was read: check the transition, have it signed. */
static void
decide_read_done(struct otask *t)
{
	struct officer *o = t->o;
	struct job *j;
	char msg[160];
	int to;

	if (!t->found) {
		officer_error(t, 404, "NOT_FOUND", "no such declaration", NULL, 0);
		officer_task_free(t);
		return;
	}
	if (t->from < 0 || (to = lifecycle_next((enum lc_state)t->from, t->action)) < 0) {
		snprintf(msg, sizeof(msg), "%s is not allowed in state %s",
		    lifecycle_action_name(t->action), lifecycle_state_name((enum lc_state)t->from));
		officer_error(t, 409, "ILLEGAL_TRANSITION", msg,
		    t->from < 0 ? "unknown" : lifecycle_state_name((enum lc_state)t->from), 0);
		officer_task_free(t);
		return;
	}
	t->to = (enum lc_state)to;
	t->ack_kind = lifecycle_ack_code(t->to, t->action);
	if ((j = job_new(JOB_ACK)) == NULL) {
		officer_error(t, 503, "NO_MEMORY", "out of memory", NULL, 1);
		officer_task_free(t);
		return;
	}
	j->ack_fc = t->ack_kind;
	j->db_id = t->id;
	j->t_start_ns = daemon_now_ns();
	snprintf(j->party, sizeof(j->party), "%s", t->actor);
	snprintf(j->decl.lrn, sizeof(j->decl.lrn), "%s", t->lrn);
	snprintf(j->mrn, sizeof(j->mrn), "%s", t->mrn);
	snprintf(j->state, sizeof(j->state), "%s", lifecycle_state_name(t->to));
	snprintf(j->lane, sizeof(j->lane), "%s", t->lane);
	decide_utf8_cut(j->reason2, sizeof(j->reason2), t->reason);
	j->cont = decide_acked;
	j->ctx = t;
	if (pool_submit(officer_daemon(o)->pool, j) != 0) {
		job_free(j);
		officer_error(t, 503, "OVERLOADED", "too many requests in progress",
		    NULL, 1);
		officer_task_free(t);
	}
}

/* Loop thread: the acknowledgement is signed; store the decision. */
static void
decide_acked(struct job *j, void *daemon)
{
	struct otask *t = j->ctx;

	(void)daemon;
	if (officer_stopped(t->o) || t->req == NULL) {
		job_free(j);
		officer_task_free(t);
		return;
	}
	if (j->status != 0 || j->resp == NULL) {
		job_free(j);
		officer_error(t, 500, "INTERNAL", "cannot sign the acknowledgement",
		    NULL, 0);
		officer_task_free(t);
		return;
	}
	t->ack = j->resp;
	t->ack_len = j->resp_len;
	j->resp = NULL;
	job_free(j);
	t->kind = OT_DECIDE;
	officer_enqueue(t->o, t);
}

static void
decide_store_done(struct otask *t, int ok)
{
	json_t *doc;
	char msg[200];

	if (!ok) {
		/* the COMMIT may or may not have happened */
		officer_error(t, 503, "DB_UNAVAILABLE", "the database failed during "
		    "the decision; read the declaration to see its state", NULL, 2);
	} else if (strcmp(t->outcome, "done") == 0) {
		log_info("msg=\"decision\" officer=%s id=%s action=%s from=%s to=%s "
		    "ack_seq=%lld", t->actor, t->idtxt,
		    lifecycle_action_name(t->action), lifecycle_state_name((enum lc_state)t->from),
		    lifecycle_state_name(t->to), t->seq);
		doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:I}", "id", t->idtxt,
		    "action", lifecycle_action_name(t->action),
		    "from", lifecycle_state_name((enum lc_state)t->from),
		    "to", lifecycle_state_name(t->to), "actor", t->actor,
		    "ack_seq", (json_int_t)t->seq);
		officer_stats_stale(t->o);
		if (doc != NULL)
			officer_json(t, 200, doc);
		else
			officer_error(t, 500, "INTERNAL", "out of memory", NULL, 0);
		json_decref(doc);
	} else if (strcmp(t->outcome, "conflict") == 0) {
		snprintf(msg, sizeof(msg), "the declaration went from %s to %s "
		    "meanwhile; nothing was changed", lifecycle_state_name((enum lc_state)t->from),
		    t->state);
		officer_error(t, 409, "STATE_CHANGED", msg, t->state, 0);
	} else {
		officer_error(t, 404, "NOT_FOUND", "no such declaration", NULL, 0);
	}
	officer_task_free(t);
}

/* Reads {"action": "...", "reason": "..."} into t; -1 with msg. */
static int
decide_body(struct otask *t, struct evhttp_request *req, char *msg, size_t cap)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	const char *action = NULL, *reason = NULL, *key;
	json_t *doc, *v;
	json_error_t je;
	int a, rc = -1;

	if (len > DECIDE_BODY_MAX) {
		snprintf(msg, cap, "body too large");
		return -1;
	}
	doc = json_loadb((const char *)evbuffer_pullup(in, -1), len,
	    JSON_REJECT_DUPLICATES, &je);
	if (!json_is_object(doc)) {
		snprintf(msg, cap, "want a JSON object {\"action\": ..., \"reason\": ...}");
		goto out;
	}
	json_object_foreach(doc, key, v) {
		if (strcmp(key, "action") == 0 && json_is_string(v)) {
			action = json_string_value(v);
		} else if (strcmp(key, "reason") == 0 && json_is_string(v)) {
			reason = json_string_value(v);
		} else {
			snprintf(msg, cap, "unexpected member or type: %.40s", key);
			goto out;
		}
	}
	a = lifecycle_action_by_name(action);
	if (a != LC_RELEASE && a != LC_HOLD && a != LC_REQUIRE_DOCUMENTS &&
	    a != LC_INSPECT && a != LC_REJECT) {
		snprintf(msg, cap, "action: want release, hold, require_documents, "
		    "inspect or reject");
		goto out;
	}
	if (reason == NULL)
		reason = "";
	if (strlen(reason) > OTASK_REASON_MAX ||
	    (a != LC_RELEASE && reason[strspn(reason, " \t\r\n")] == '\0')) {
		snprintf(msg, cap, "reason: required (up to %d bytes) except for "
		    "release", OTASK_REASON_MAX);
		goto out;
	}
	t->action = (enum lc_action)a;
	snprintf(t->reason, sizeof(t->reason), "%s", reason);
	rc = 0;
out:
	json_decref(doc);
	return rc;
}

void
decide_start(struct officer *o, struct evhttp_request *req, const char *path,
    const char *party)
{
	const char *p = path + strlen("/v1/declarations/");
	size_t n = strlen(p) - strlen("/decision");
	struct otask *t;
	char id[24], msg[160];

	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		http_error(officer_daemon(o), req, 405, "METHOD", "use POST", 0);
		return;
	}
	if (n == 0 || n >= sizeof(id)) {
		http_error(officer_daemon(o), req, 404, "NOT_FOUND", "no such declaration", 0);
		return;
	}
	memcpy(id, p, n);
	id[n] = '\0';
	if ((t = officer_task(o, req, OT_READ)) == NULL) {
		http_error(officer_daemon(o), req, 503, "NO_MEMORY", "out of memory", 1);
		return;
	}
	if (json_parse_u63(id, &t->id) != 0) {
		officer_error(t, 404, "NOT_FOUND", "no such declaration", NULL, 0);
		officer_task_free(t);
		return;
	}
	snprintf(t->idtxt, sizeof(t->idtxt), "%lld", (long long)t->id);
	snprintf(t->actor, sizeof(t->actor), "%s", party);
	if (decide_body(t, req, msg, sizeof(msg)) != 0) {
		officer_error(t, 400, "BAD_DECISION", msg, NULL, 0);
		officer_task_free(t);
		return;
	}
	if (t->action == LC_REJECT && !decide_supervisor(req)) {
		officer_error(t, 403, "SUPERVISOR_REQUIRED", "only a supervisor "
		    "(certificate OU=supervisor) may reject a declaration", NULL, 0);
		officer_task_free(t);
		return;
	}
	officer_enqueue(o, t);
}


void
decide_done(struct otask *t, int ok)
{
	if (t->kind == OT_DECIDE) {
		decide_store_done(t, ok);
	} else if (!ok) {
		officer_error(t, 503, "DB_UNAVAILABLE",
		    "the database is unavailable, try again", NULL, 2);
		officer_task_free(t);
	} else {
		decide_read_done(t);
	}
}
