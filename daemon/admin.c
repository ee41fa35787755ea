#include "admin.h"

#include <stdio.h>
#include <string.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "batch.h"
#include "daemon.h"
#include "db.h"
#include "feed.h"
#include "ids.h"
#include "maintain.h"
#include "pool.h"
#include "push.h"

const char *
admin_not_ready(const struct daemon *d)
{
	if (d->stopping)
		return "stopping";
	if (d->db == NULL || !db_up(d->db))
		return "database unavailable";
	if (d->ids == NULL || ids_available(d->ids) == 0)
		return "no declaration ids reserved";
	return NULL;
}

/* One series of a histogram; label is "name=\"value\"" or NULL. */
static void
admin_hist_series(struct evbuffer *b, const char *name, const char *label,
    const double *edges, int n, const unsigned long *counts, double sum,
    double scale)
{
	char before_le[64] = "", alone[64] = ""; /* "label," and "{label}" */
	unsigned long cum = 0;
	int i;

	if (label != NULL) {
		snprintf(before_le, sizeof(before_le), "%s,", label);
		snprintf(alone, sizeof(alone), "{%s}", label);
	}
	for (i = 0; i < n; i++) {
		cum += counts[i];
		evbuffer_add_printf(b, "%s_bucket{%sle=\"%g\"} %lu\n", name,
		    before_le, edges[i] * scale, cum);
	}
	cum += counts[n];
	evbuffer_add_printf(b, "%s_bucket{%sle=\"+Inf\"} %lu\n%s_sum%s %g\n"
	    "%s_count%s %lu\n", name, before_le, cum, name, alone, sum * scale,
	    name, alone, cum);
}

static void
admin_hist(struct evbuffer *b, const char *name, const char *help,
    const double *edges, int n, const unsigned long *counts, double sum,
    double scale)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	admin_hist_series(b, name, NULL, edges, n, counts, sum, scale);
}

/* One counter (type "counter") or gauge ("gauge") without labels. */
static void
admin_one(struct evbuffer *b, const char *name, const char *type,
    const char *help, unsigned long v)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %lu\n", name, help,
	    name, type, name, v);
}

/* The pull feed, push delivery and the partition upkeep. */
static void
admin_delivery(struct daemon *d, struct evbuffer *b)
{
	static const struct maintain_stats none;
	const struct maintain_stats *ms = d->maintain != NULL ?
	    maintain_stats(d->maintain) : &none;
	struct push_stats ps;

	memset(&ps, 0, sizeof(ps));
	if (d->push != NULL)
		push_stats(d->push, &ps);
	if (d->feed != NULL) {
		const struct feed_stats *fs = feed_stats(d->feed);

		admin_one(b, "declared_feed_requests_total", "counter",
		    "Pull feed requests answered.", fs->answered);
		admin_one(b, "declared_feed_empty_total", "counter",
		    "Pull feed requests answered with an empty page.", fs->empty);
		admin_one(b, "declared_feed_timeouts_total", "counter",
		    "Long polls whose wait ran out with nothing new.", fs->timeouts);
		admin_one(b, "declared_feed_woken_total", "counter",
		    "Parked long polls woken by new acknowledgements.", fs->woken);
		admin_one(b, "declared_feed_parked", "gauge",
		    "Long polls parked now.", (unsigned long)fs->parked);
	}
	admin_one(b, "declared_push_delivered_total", "counter",
	    "Acknowledgements pushed and accepted (2xx).", ps.delivered);
	admin_one(b, "declared_push_rejected_total", "counter",
	    "Acknowledgements refused by the receiver (4xx), skipped.", ps.rejected);
	admin_one(b, "declared_push_expired_total", "counter",
	    "Acknowledgements older than the retention, skipped.", ps.expired);
	admin_one(b, "declared_push_failed_total", "counter",
	    "Push attempts failed (timeout, connection, 5xx), retried.", ps.failed);
	admin_one(b, "declared_push_claims_total", "counter",
	    "Push lease queries run (ticks and notifications).", ps.claims);
	admin_one(b, "declared_push_wakes_skipped_total", "counter",
	    "Acknowledgement notifications of parties without a known "
	    "callback: no lease query.", ps.wakes_skipped);
	admin_one(b, "declared_push_leases", "gauge",
	    "Push streams of parties leased by this instance now.",
	    (unsigned long)ps.leases);
	admin_one(b, "declared_maintain_runs_total", "counter",
	    "Partition upkeeps completed.", ms->runs);
	admin_one(b, "declared_maintain_failures_total", "counter",
	    "Partition upkeeps failed.", ms->failures);
	admin_one(b, "declared_partitions_created_total", "counter",
	    "Monthly partitions created.", ms->created);
	admin_one(b, "declared_partitions_detached_total", "counter",
	    "Monthly partitions detached past the retention.", ms->detached);
	admin_one(b, "declared_retention_keys_forgotten_total", "counter",
	    "Declaration keys forgotten past the retention.", ms->keys_forgotten);
}

static void
admin_metrics(struct daemon *d, struct evbuffer *b)
{
	static const double lat[] = { 1, 2, 5, 10, 25, 50, 100, 250, 1000 };
	static const double bsz[] = { 1, 4, 16, 64, 128, 256, 512 };
	static const double cus[] = { 1000, 2000, 5000, 10000, 25000, 50000, 100000 };
	static const char *stages[] = { "stage=\"queue\"", "stage=\"work\"",
	    "stage=\"batch_wait\"", "stage=\"commit\"" };
	const struct metrics *m = &d->m;
	const struct batch_stats *bs = batch_stats(d->batch);
	int codes[] = { 202, 400, 403, 404, 409, 413, 500, 503 };
	unsigned long vals[] = { m->resp_202, m->resp_400, m->resp_403, m->resp_404,
	    m->resp_409, m->resp_413, m->resp_500, m->resp_503 };
	size_t i;

	evbuffer_add_printf(b, "# HELP declared_requests_total API requests received.\n"
	    "# TYPE declared_requests_total counter\ndeclared_requests_total %lu\n",
	    m->req_total);
	evbuffer_add_printf(b, "# HELP declared_responses_total API responses by status.\n"
	    "# TYPE declared_responses_total counter\n");
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		evbuffer_add_printf(b, "declared_responses_total{status=\"%d\"} %lu\n",
		    codes[i], vals[i]);
	evbuffer_add_printf(b, "# HELP declared_declarations_total Declarations by outcome.\n"
	    "# TYPE declared_declarations_total counter\n"
	    "declared_declarations_total{outcome=\"accepted\"} %lu\n"
	    "declared_declarations_total{outcome=\"duplicate\"} %lu\n"
	    "declared_declarations_total{outcome=\"conflict\"} %lu\n"
	    "declared_declarations_total{outcome=\"invalid\"} %lu\n"
	    "declared_declarations_total{outcome=\"forbidden\"} %lu\n"
	    "declared_declarations_total{outcome=\"not_stored\"} %lu\n",
	    m->decl_accepted, m->decl_duplicate, m->decl_conflict,
	    m->decl_invalid, m->decl_forbidden, m->decl_failed);
	evbuffer_add_printf(b, "# HELP declared_overload_total Requests refused for a full queue.\n"
	    "# TYPE declared_overload_total counter\ndeclared_overload_total %lu\n",
	    m->overload);
	evbuffer_add_printf(b, "# HELP declared_tls_connections_total TLS connections accepted.\n"
	    "# TYPE declared_tls_connections_total counter\n"
	    "declared_tls_connections_total %lu\n", m->tls_conns);
	evbuffer_add_printf(b, "# HELP declared_connections_open TLS connections open.\n"
	    "# TYPE declared_connections_open gauge\ndeclared_connections_open %ld\n"
	    "# HELP declared_accept_paused_total Times max_connections paused accepting.\n"
	    "# TYPE declared_accept_paused_total counter\n"
	    "declared_accept_paused_total %lu\n", d->m.conns_open, d->m.accept_paused);
	evbuffer_add_printf(b, "# HELP declared_queue_depth Jobs by stage.\n"
	    "# TYPE declared_queue_depth gauge\n"
	    "declared_queue_depth{stage=\"workers\"} %d\n"
	    "declared_queue_depth{stage=\"batch_pending\"} %d\n"
	    "declared_queue_depth{stage=\"batch_committing\"} %d\n",
	    pool_queued(d->pool), batch_pending(d->batch), batch_inflight(d->batch));
	evbuffer_add_printf(b, "# HELP declared_worker_busy_seconds_total Worker CPU time in jobs.\n"
	    "# TYPE declared_worker_busy_seconds_total counter\n"
	    "declared_worker_busy_seconds_total %.6f\n", pool_busy_ns(d->pool) / 1e9);
	evbuffer_add_printf(b, "# HELP declared_db_up Database connections usable.\n"
	    "# TYPE declared_db_up gauge\ndeclared_db_up %d\n"
	    "# HELP declared_db_reconnects_total Database connection failures.\n"
	    "# TYPE declared_db_reconnects_total counter\ndeclared_db_reconnects_total %lu\n",
	    db_up(d->db), db_reconnects(d->db));
	evbuffer_add_printf(b, "# HELP declared_batch_commits_total Committed batches.\n"
	    "# TYPE declared_batch_commits_total counter\ndeclared_batch_commits_total %lu\n"
	    "# HELP declared_batch_failures_total Batches not committed.\n"
	    "# TYPE declared_batch_failures_total counter\ndeclared_batch_failures_total %lu\n",
	    bs->commits, bs->failures);
	admin_hist(b, "declared_batch_size", "Declarations per committed batch.",
	    bsz, 7, bs->size_hist, (double)bs->stored, 1);
	admin_hist(b, "declared_commit_seconds", "Batch transaction latency.",
	    cus, 7, bs->commit_us_hist, bs->commit_us_sum, 1e-6);
	admin_hist(b, "declared_request_seconds", "Submission latency, receipt to reply.",
	    lat, 9, m->lat_hist, m->lat_sum_ms, 1e-3);
	evbuffer_add_printf(b, "# HELP declared_stage_seconds Where the time of a stored "
	    "declaration went: waiting for a worker, in it, waiting for "
	    "a store transaction, in it.\n# TYPE declared_stage_seconds histogram\n");
	for (i = 0; i < 4; i++)
		admin_hist_series(b, "declared_stage_seconds", stages[i], lat, 9,
		    m->stage_hist[i], m->stage_sum_ms[i], 1e-3);
	admin_delivery(d, b);
	evbuffer_add_printf(b, "# HELP declared_ready Whether the daemon is ready.\n"
	    "# TYPE declared_ready gauge\ndeclared_ready %d\n",
	    admin_not_ready(d) == NULL);
}

void
admin_route(struct evhttp_request *req, void *arg)
{
	struct daemon *d = arg;
	const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b = evbuffer_new();
	const char *why;
	int status = 200;

	if (b == NULL) {
		evhttp_send_error(req, 503, NULL);
		return;
	}
	if (path != NULL && strcmp(path, "/healthz") == 0) {
		evbuffer_add_printf(b, "ok\n");
	} else if (path != NULL && strcmp(path, "/readyz") == 0) {
		if ((why = admin_not_ready(d)) != NULL) {
			status = 503;
			evbuffer_add_printf(b, "not ready: %s\n", why);
		} else {
			evbuffer_add_printf(b, "ready\n");
		}
	} else if (path != NULL && strcmp(path, "/metrics") == 0) {
		admin_metrics(d, b);
		evhttp_add_header(h, "Content-Type", "text/plain; version=0.0.4");
	} else {
		status = 404;
		evbuffer_add_printf(b, "not found\n");
	}
	if (evhttp_find_header(h, "Content-Type") == NULL)
		evhttp_add_header(h, "Content-Type", "text/plain");
	evhttp_send_reply(req, status, NULL, b);
	evbuffer_free(b);
}
