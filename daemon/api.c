/* The /v1 API routes and the loop-side steps of a submitted declaration:
 * request -> worker -> batcher -> reply. */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "batch.h"
#include "config.h"
#include "daemon.h"
#include "db.h"
#include "feed.h"
#include "http.h"
#include "ids.h"
#include "limit.h"
#include "log.h"
#include "officer.h"
#include "pool.h"
#include "push.h"
#include "status.h"
#include "tls.h"

static const char *
api_status_word(int status)
{
	switch (status) {
	case 202: return "accepted";
	case 400: return "invalid";
	case 403: return "forbidden";
	case 409: return "conflict";
	case 503: return "unavailable";
	default: return "error";
	}
}

static void
api_count(struct daemon *d, int status)
{
	switch (status) {
	case 202: d->m.resp_202++; break;
	case 400: d->m.resp_400++; break;
	case 403: d->m.resp_403++; break;
	case 404: d->m.resp_404++; break;
	case 409: d->m.resp_409++; break;
	case 413: d->m.resp_413++; break;
	case 503: d->m.resp_503++; break;
	default: if (status >= 500) d->m.resp_500++; break;
	}
}

static void
api_hist_add(unsigned long *hist, double *sum_ms, uint64_t from_ns,
    uint64_t to_ns)
{
	static const double edges[] = { 1, 2, 5, 10, 25, 50, 100, 250, 1000 };
	double ms = to_ns > from_ns ? (double)(to_ns - from_ns) / 1e6 : 0;
	int i;

	for (i = 0; i < 9 && ms > edges[i]; i++)
		;
	hist[i]++;
	*sum_ms += ms;
}

/* The request's latency and, for one that went through a store
 * transaction, where the time went (declared_stage_seconds). */
static void
api_latency(struct daemon *d, const struct job *j)
{
	struct metrics *m = &d->m;

	api_hist_add(m->lat_hist, &m->lat_sum_ms, j->t_start_ns, daemon_now_ns());
	if (j->t_tx1_ns == 0 || j->t_work1_ns == 0)
		return;
	api_hist_add(m->stage_hist[0], &m->stage_sum_ms[0], j->t_start_ns,
	    j->t_work0_ns);
	api_hist_add(m->stage_hist[1], &m->stage_sum_ms[1], j->t_work0_ns,
	    j->t_work1_ns);
	api_hist_add(m->stage_hist[2], &m->stage_sum_ms[2], j->t_work1_ns,
	    j->t_tx0_ns);
	api_hist_add(m->stage_hist[3], &m->stage_sum_ms[3], j->t_tx0_ns,
	    j->t_tx1_ns);
}

/* Sends the reply of a job and frees it. */
static void
api_finish(struct daemon *d, struct job *j, int status, const char *body,
    size_t len, int64_t location_id, int retry_after)
{
	struct evbuffer *b;
	struct evkeyvalq *h;
	char hv[64];

	api_count(d, status);
	api_latency(d, j);
	(status == 202 ? log_debug : log_info)("msg=\"declaration %s\" "
	    "status=%d party=%s lrn=\"%s\" id=%lld mrn=%s code=%s",
	    api_status_word(status), status, j->party,
	    j->decl.lrn, (long long)(location_id > 0 ? location_id : 0),
	    j->mrn[0] && status == 202 ? j->mrn : "-",
	    err_first_code(&j->errs) ? err_first_code(&j->errs) : "-");
	if (j->req != NULL) {
		h = evhttp_request_get_output_headers(j->req);
		if (body != NULL)
			evhttp_add_header(h, "Content-Type", "application/xml");
		if (location_id > 0) {
			snprintf(hv, sizeof(hv), "/v1/declarations/%lld",
			    (long long)location_id);
			evhttp_add_header(h, "Location", hv);
		}
		if (retry_after > 0) {
			snprintf(hv, sizeof(hv), "%d", retry_after);
			evhttp_add_header(h, "Retry-After", hv);
		}
		if (status / 100 < 6)
			d->m.resp_by_status[status / 100]++;
		b = evbuffer_new();
		if (b != NULL && body != NULL)
			evbuffer_add(b, body, len);
		http_reply(j->req, status, b);
		if (b != NULL)
			evbuffer_free(b);
		j->req = NULL;
	}
	d->inflight--;
	job_free(j);
}

/* Replies with a short JSON error and frees the job. */
static void
api_fail(struct daemon *d, struct job *j, int status, const char *code,
    const char *msg, int retry_after)
{
	api_count(d, status);
	api_latency(d, j);
	log_info("msg=\"declaration %s\" status=%d party=%s lrn=\"%s\" code=%s",
	    api_status_word(status), status, j->party, j->decl.lrn, code);
	if (j->req != NULL)
		http_error(d, j->req, status, code, msg, retry_after);
	j->req = NULL;
	d->inflight--;
	job_free(j);
}

/* A signed error Response (409, 403) is made by a worker. */
static void
api_respond_later(struct daemon *d, struct job *j, int status, const char *code,
    const char *msg)
{
	j->kind = JOB_RESPONSE;
	j->want_status = status;
	snprintf(j->want_code, sizeof(j->want_code), "%s", code);
	snprintf(j->want_msg, sizeof(j->want_msg), "%s", msg);
	if (pool_submit(d->pool, j) != 0)
		api_fail(d, j, status, code, msg, 0);
}

static void
api_submit(struct daemon *d, struct evhttp_request *req, const char *party,
    enum role role)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	struct job *j;
	int64_t id;

	if (role != ROLE_ENTERPRISE) {
		http_error(d, req, 403, "ROLE_FORBIDDEN",
		    "only enterprise certificates may submit declarations", 0);
		return;
	}
	if (d->stopping) {
		http_error(d, req, 503, "SHUTTING_DOWN", "the daemon is stopping", 5);
		return;
	}
	if (!db_up(d->db)) {
		d->m.resp_503++;
		http_error(d, req, 503, "DB_UNAVAILABLE",
		    "the database is unavailable, try again", 2);
		return;
	}
	if ((id = ids_take(d->ids)) < 0) {
		d->m.resp_503++;
		http_error(d, req, 503, "IDS_UNAVAILABLE",
		    "no declaration ids reserved yet, try again", 1);
		return;
	}
	if ((j = job_new(JOB_INTAKE)) == NULL ||
	    (j->body = malloc(len + 1)) == NULL) {
		job_free(j);
		http_error(d, req, 503, "NO_MEMORY", "out of memory", 1);
		return;
	}
	evbuffer_remove(in, j->body, len);
	j->body[len] = '\0';
	j->len = len;
	j->req = req;
	j->id = id;
	j->role = role;
	j->t_start_ns = daemon_now_ns();
	snprintf(j->party, sizeof(j->party), "%s", party);
	d->inflight++;
	if (pool_submit(d->pool, j) != 0) {
		d->m.overload++;
		api_fail(d, j, 503, "OVERLOADED", "too many declarations in progress", 1);
	}
}

void
api_worked(struct job *j, void *arg)
{
	struct daemon *d = arg;

	if (j->cont != NULL) {
		j->cont(j, d);
		return;
	}
	if (j->kind == JOB_RESPONSE) {
		if (j->want_status == 409)
			d->m.decl_conflict++;
		else if (j->want_status == 403)
			d->m.decl_forbidden++;
		api_finish(d, j, j->status, j->resp, j->resp_len, j->db_id, 0);
		return;
	}
	if (j->status != 0) {
		if (j->status == 403)
			d->m.decl_forbidden++;
		else
			d->m.decl_invalid++;
		if (j->resp != NULL)
			api_finish(d, j, j->status, j->resp, j->resp_len, 0, 0);
		else
			api_fail(d, j, 500, "INTERNAL", "cannot build the response", 0);
		return;
	}
	if (batch_add(d->batch, j) != 0) {
		d->m.overload++;
		api_fail(d, j, 503, "OVERLOADED", "the store queue is full", 1);
	}
}

void
api_stored(struct job *j, void *arg)
{
	struct daemon *d = arg;
	char msg[512];

	switch (j->outcome) {
	case DBO_NEW:
		d->m.decl_accepted++;
		api_finish(d, j, 202, j->resp, j->resp_len, j->id, 0);
		break;
	case DBO_GRANTED:
		d->m.decl_accepted++;
		api_finish(d, j, 202, j->resp, j->resp_len, j->db_id, 0);
		break;
	case DBO_DENIED:
		d->m.decl_accepted++;
		api_finish(d, j, 202, j->resp2, j->resp2_len, j->db_id, 0);
		break;
	case DBO_UNKNOWN:
		d->m.decl_accepted++;
		api_finish(d, j, 202, j->resp3, j->resp3_len, 0, 0);
		break;
	case DBO_DUPLICATE:
		d->m.decl_duplicate++;
		if (j->receipt != NULL)
			api_finish(d, j, 202, j->receipt, j->receipt_len, j->db_id, 0);
		else
			api_fail(d, j, 500, "INTERNAL", "original receipt missing", 0);
		break;
	case DBO_CONFLICT:
		snprintf(msg, sizeof(msg), "LRN %s of declarant %s was already "
		    "used for declaration %lld with other content", j->decl.lrn,
		    j->decl.declarant, (long long)j->db_id);
		j->mrn[0] = '\0';
		api_respond_later(d, j, 409, "LRN_CONFLICT", msg);
		break;
	case DBO_FORBIDDEN:
		snprintf(msg, sizeof(msg), "party %s may not declare for %s",
		    j->party, j->decl.declarant);
		j->mrn[0] = '\0';
		api_respond_later(d, j, 403, "PARTY_NOT_AUTHORISED", msg);
		break;
	case DBO_FORBIDDEN_SIGNER:
		snprintf(msg, sizeof(msg), "the signer %s is neither the submitter "
		    "%s nor authorised to declare for %s", j->signer, j->party,
		    j->decl.declarant);
		j->mrn[0] = '\0';
		api_respond_later(d, j, 403, "SIG_PARTY", msg);
		break;
	default:
		d->m.decl_failed++;
		api_fail(d, j, 503, "DB_UNAVAILABLE",
		    "the declaration was not stored, submit it again", 2);
		break;
	}
}

/* Per-party limits (limit.c): 1 when the request was answered 429. */
static int
api_limited(struct daemon *d, struct evhttp_request *req, const char *party)
{
	struct limit_conf lc;
	const char *why;
	char msg[320];
	int wait;

	lc.rate = d->cfg->limit_rate;
	lc.burst = d->cfg->limit_burst;
	lc.connections = d->cfg->limit_connections;
	if ((wait = limit_admit(d->limit, &lc, req, party, daemon_now_ns(),
	    &why)) == 0)
		return 0;
	snprintf(msg, sizeof(msg), "%s: party %s is over its %s, retry in %d s",
	    why, party, why[0] == 'R' ? "request rate" : "connection cap", wait);
	log_info("msg=\"limited\" status=429 party=%s code=%s", party, why);
	http_error(d, req, 429, why, msg, wait);
	return 1;
}

void
api_route(struct daemon *d, struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evhttp_connection *conn = evhttp_request_get_connection(req);
	struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
	SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
	char party[128];
	enum role role = tls_peer(d->tls, ssl, party, sizeof(party));

	if (role == ROLE_NONE) {
		http_error(d, req, 403, "CERT_UNKNOWN",
		    "the client certificate names no known party", 0);
		return;
	}
	if (path == NULL) {
		http_error(d, req, 400, "BAD_URI", "unparsable request URI", 0);
		return;
	}
	if (role == ROLE_ENTERPRISE && api_limited(d, req, party))
		return;
	/* search, decisions, stats, console (officer.c) */
	if (officer_route(d->officer, req, path, party, role))
		return;
	if (strcmp(path, "/v1/declarations") == 0) {
		if (cmd == EVHTTP_REQ_POST)
			api_submit(d, req, party, role);
		else
			http_error(d, req, 405, "METHOD", "use POST", 0);
		return;
	}
	/* delivery routes (feed.c, status.c, push.c) */
	if (strcmp(path, "/v1/acks") == 0) {
		feed_get(d->feed, req, party, role);
		return;
	}
	if (strcmp(path, "/v1/callback") == 0) {
		push_route(d->push, req, party, role);
		return;
	}
	if (strncmp(path, "/v1/declarations/", 17) == 0) {
		status_get(d->status, req, party, role, path + 17);
		return;
	}
	http_error(d, req, 404, "NOT_FOUND", "no such resource", 0);
}
