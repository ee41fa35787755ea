#include "batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <event2/event.h>

#include "daemon.h"
#include "db.h"
#include "feed.h"
#include "lifecycle.h"
#include "log.h"

#define REQUEST_NPARAMS 22

/* The states from which act may be taken, as a PostgreSQL array literal,
 * from the one state machine. */
static void
batch_allowed(enum lc_action act, char *out, size_t cap)
{
	size_t o = 0;
	int s;

	o += (size_t)snprintf(out, cap, "{");
	for (s = 0; s < LC_STATE_COUNT && o < cap; s++)
		if (lifecycle_next(s, act) >= 0)
			o += (size_t)snprintf(out + o, cap - o, "%s%s", o > 1 ? "," : "",
			    lifecycle_state_name(s));
	if (o < cap)
		snprintf(out + o, cap - o, "}");
}

static int
batch_send_request(PGconn *c, struct job *j, const unsigned char *dig,
    const char *id, const char *items, const char *hs)
{
	enum lc_action act = j->req_kind == REQ_AMEND ? LC_AMEND : LC_CANCEL;
	const struct decl *d = &j->decl;
	const char *v[REQUEST_NPARAMS];
	int len[REQUEST_NPARAMS], fmt[REQUEST_NPARAMS];
	char allowed[256];

	batch_allowed(act, allowed, sizeof(allowed));
	memset(len, 0, sizeof(len));
	memset(fmt, 0, sizeof(fmt));
	v[0] = id;
	v[1] = j->party;
	v[2] = j->signer[0] ? j->signer : NULL;
	v[3] = j->profile;
	v[4] = act == LC_AMEND ? "amend" : "cancel";
	v[5] = d->ref_mrn;
	v[6] = d->lrn[0] ? d->lrn : NULL;
	v[7] = (const char *)dig;
	len[7] = 32;
	fmt[7] = 1;
	v[8] = j->body;
	len[8] = (int)j->len;
	fmt[8] = 1;
	v[9] = allowed;
	v[10] = act == LC_CANCEL ?
	    lifecycle_state_name(lifecycle_next(LC_ACCEPTED, LC_CANCEL)) : NULL;
	v[11] = d->n_items > 0 ? items : NULL;
	v[12] = d->n_items > 0 ? hs : NULL;
	v[13] = d->invoice_amount[0] ? d->invoice_amount : NULL;
	v[14] = d->invoice_currency[0] ? d->invoice_currency : NULL;
	v[15] = d->type[0] ? d->type : NULL;
	v[16] = j->ack_kind;
	v[17] = j->resp;
	len[17] = (int)j->resp_len;
	fmt[17] = 1;
	v[18] = j->ack2_kind_denied;
	v[19] = j->resp2;
	len[19] = (int)j->resp2_len;
	fmt[19] = 1;
	v[20] = j->ack3_kind;
	v[21] = j->resp3;
	len[21] = (int)j->resp3_len;
	fmt[21] = 1;
	return PQsendQueryPrepared(c, "request", REQUEST_NPARAMS, v, len, fmt, 1) ? 0 : -1;
}

#define STORE_NPARAMS 26

const struct db_prepare batch_prepare[] = {
	{ "store", "SELECT outcome, declaration_id, ack_seq, receipt FROM "
	    "declared_store($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,"
	    "$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26)" },
	{ "idblock", "SELECT nextval('decl_block_seq')" },
	{ "request", "SELECT outcome, declaration_id, ack_seq, receipt FROM "
	    "declared_request($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,"
	    "$16,$17,$18,$19,$20,$21,$22)" },
};
const size_t batch_nprepare = sizeof(batch_prepare) / sizeof(batch_prepare[0]);

/* One transaction in flight. */
struct batch_tx {
	struct batch *b;
	struct job **jobs;
	int n;
	int next_result;   /* index of the result expected next: 0 = BEGIN */
	struct timespec t0;
};

struct batch {
	struct event_base *base;
	struct db *db;
	int max, pending_max;
	int delay_ms;
	struct job *head, *tail;
	int pending;
	int inflight;
	int delay_passed;
	struct event *timer;
	batch_done_fn *done;
	void *done_arg;
	struct batch_stats st;
};

static void batch_flush(struct batch *b);

static void
batch_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct batch *b = arg;

	b->delay_passed = 1;
	batch_flush(b);
}

struct batch *
batch_new(struct event_base *base, struct db *db, int batch_max, int delay_ms,
    int pending_max, batch_done_fn *done, void *arg)
{
	struct batch *b;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		return NULL;
	b->base = base;
	b->db = db;
	b->max = batch_max;
	b->delay_ms = delay_ms;
	b->pending_max = pending_max;
	b->done = done;
	b->done_arg = arg;
	if ((b->timer = evtimer_new(base, batch_on_timer, b)) == NULL) {
		free(b);
		return NULL;
	}
	return b;
}

int
batch_add(struct batch *b, struct job *j)
{
	if (b->pending >= b->pending_max)
		return -1;
	j->next = NULL;
	if (b->tail != NULL)
		b->tail->next = j;
	else
		b->head = j;
	b->tail = j;
	b->pending++;
	if (b->pending >= b->max || b->delay_ms == 0) {
		b->delay_passed = 1;
		batch_flush(b);
	} else if (!evtimer_pending(b->timer, NULL)) {
		struct timeval tv = { 0, b->delay_ms * 1000 };

		evtimer_add(b->timer, &tv);
	}
	return 0;
}

/* The 32 bytes of a lowercase hex SHA-256 (as ack_sha256_hex writes it). */
static void
batch_unhex(const char *hex, unsigned char out[32])
{
	int k;

	for (k = 0; k < 32; k++) {
		unsigned char h = (unsigned char)hex[2 * k], l = (unsigned char)hex[2 * k + 1];

		out[k] = (unsigned char)(((h <= '9' ? h - '0' : h - 'a' + 10) << 4) |
		    (l <= '9' ? l - '0' : l - 'a' + 10));
	}
}

static int
batch_send(PGconn *c, void *arg)
{
	struct batch_tx *tx = arg;
	const char *v[STORE_NPARAMS];
	int len[STORE_NPARAMS], fmt[STORE_NPARAMS];
	char id[24], items[16], hs[DECL_ITEMS_MAX * (DECL_CODE_MAX + 3) + 4];
	char origins[DECL_ITEMS_MAX * (DECL_CODE_MAX + 3) + 4];
	unsigned char dig[32];
	int i;

	if (!PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
		return -1;
	for (i = 0; i < tx->n; i++) {
		struct job *j = tx->jobs[i];
		struct decl *d = &j->decl;

		snprintf(id, sizeof(id), "%lld", (long long)j->id);
		snprintf(items, sizeof(items), "%zu", d->n_items);
		if (decl_hs_array(d, hs, sizeof(hs)) < 0)
			snprintf(hs, sizeof(hs), "{}");
		if (decl_origin_array(d, origins, sizeof(origins)) < 0)
			snprintf(origins, sizeof(origins), "{}");
		batch_unhex(j->digest, dig);
		if (j->req_kind != REQ_NONE) {
			if (batch_send_request(c, j, dig, id, items, hs) != 0)
				return -1;
			continue;
		}
		memset(fmt, 0, sizeof(fmt));
		memset(len, 0, sizeof(len));
		v[0] = id;
		v[1] = d->declarant;
		v[2] = d->lrn;
		v[3] = j->party;
		v[4] = j->signer[0] ? j->signer : NULL;
		v[5] = j->profile;
		v[6] = d->function[0] ? d->function : NULL;
		v[7] = d->type[0] ? d->type : NULL;
		v[8] = j->mrn[0] ? j->mrn : NULL;
		v[9] = j->state;
		v[10] = j->lane[0] ? j->lane : NULL;
		v[11] = j->lane_reason[0] ? j->lane_reason : NULL;
		v[12] = items;
		v[13] = hs;
		v[14] = origins;
		v[15] = d->invoice_amount[0] ? d->invoice_amount : NULL;
		v[16] = d->invoice_currency[0] ? d->invoice_currency : NULL;
		v[17] = (const char *)dig;
		len[17] = 32;
		fmt[17] = 1;
		v[18] = j->body;
		len[18] = (int)j->len;
		fmt[18] = 1;
		v[19] = j->errors_json;
		v[20] = j->ack_kind;
		v[21] = j->resp;
		len[21] = (int)j->resp_len;
		fmt[21] = 1;
		v[22] = j->state2[0] ? j->state2 : NULL;
		v[23] = j->state2[0] ? j->reason2 : NULL;
		v[24] = j->state2[0] ? j->ack2_kind : NULL;
		v[25] = j->state2[0] ? j->resp2 : NULL;
		len[25] = (int)j->resp2_len;
		fmt[25] = 1;
		if (!PQsendQueryPrepared(c, "store", STORE_NPARAMS, v, len, fmt, 1))
			return -1;
	}
	if (!PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
		return -1;
	return PQpipelineSync(c) ? 0 : -1;
}

/* An int8 column of a binary-format result; 0 when NULL. */
static int64_t
batch_int8(const PGresult *r, int col)
{
	const unsigned char *p;
	uint64_t v = 0;
	int i;

	if (PQgetisnull(r, 0, col) || PQgetlength(r, 0, col) != 8)
		return 0;
	p = (const unsigned char *)PQgetvalue(r, 0, col);
	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

static int
batch_result(PGresult *r, void *arg)
{
	struct batch_tx *tx = arg;
	int idx = tx->next_result++;
	struct job *j;
	const char *o;
	size_t blen;
	unsigned char *bin;

	if (idx == 0 || idx == tx->n + 1) /* BEGIN, COMMIT */
		return PQresultStatus(r) == PGRES_COMMAND_OK &&
		    strcmp(PQcmdStatus(r), idx == 0 ? "BEGIN" : "COMMIT") == 0 ? 0 : -1;
	if (idx > tx->n + 1 || PQresultStatus(r) != PGRES_TUPLES_OK ||
	    PQntuples(r) != 1)
		return -1;
	j = tx->jobs[idx - 1];
	o = PQgetvalue(r, 0, 0); /* text: the same bytes in binary format */
	j->db_id = batch_int8(r, 1);
	j->ack_seq = batch_int8(r, 2);
	if (strcmp(o, "new") == 0) {
		j->outcome = DBO_NEW;
	} else if (strcmp(o, "duplicate") == 0) {
		j->outcome = DBO_DUPLICATE;
		j->mrn[0] = '\0'; /* the original receipt has its own */
		if (!PQgetisnull(r, 0, 3)) {
			/* receipt is bytea in binary result format */
			blen = (size_t)PQgetlength(r, 0, 3);
			if ((bin = malloc(blen + 1)) == NULL)
				return -1;
			memcpy(bin, PQgetvalue(r, 0, 3), blen);
			bin[blen] = '\0';
			free(j->receipt);
			j->receipt = (char *)bin;
			j->receipt_len = blen;
		}
	} else if (strcmp(o, "conflict") == 0) {
		j->outcome = DBO_CONFLICT;
	} else if (strcmp(o, "granted") == 0) {
		j->outcome = DBO_GRANTED;
	} else if (strcmp(o, "denied") == 0) {
		j->outcome = DBO_DENIED;
	} else if (strcmp(o, "unknown") == 0) {
		j->outcome = DBO_UNKNOWN;
	} else if (strcmp(o, "forbidden_submitter") == 0) {
		j->outcome = DBO_FORBIDDEN;
	} else if (strcmp(o, "forbidden_signer") == 0) {
		j->outcome = DBO_FORBIDDEN_SIGNER;
	} else {
		return -1;
	}
	return 0;
}

static int
batch_bucket(double v, const double *edges, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (v <= edges[i])
			return i;
	return n;
}

static void
batch_done_tx(void *arg, int ok, const char *err)
{
	static const double size_edges[] = { 1, 4, 16, 64, 128, 256, 512 };
	static const double us_edges[] = { 1000, 2000, 5000, 10000, 25000, 50000, 100000 };
	struct batch_tx *tx = arg;
	struct batch *b = tx->b;
	struct timespec t1;
	double us;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (t1.tv_sec - tx->t0.tv_sec) * 1e6 + (t1.tv_nsec - tx->t0.tv_nsec) / 1e3;
	if (ok && tx->next_result != tx->n + 2)
		ok = 0; /* COMMIT not seen: never claim it */
	if (ok) {
		b->st.commits++;
		b->st.stored += (unsigned long)tx->n;
		b->st.size_hist[batch_bucket(tx->n, size_edges, 7)]++;
		b->st.commit_us_hist[batch_bucket(us, us_edges, 7)]++;
		b->st.commit_us_sum += us;
	} else {
		b->st.failures++;
		log_warnx("msg=\"batch not committed\" size=%d reason=\"%s\"",
		    tx->n, err ? err : "incomplete");
	}
	b->inflight -= tx->n;
	/* delivery hook: long-polls of parties with new acknowledgements
	 * wake at once (done_arg is the daemon, see main.c) */
	for (i = 0; ok && i < tx->n; i++)
		if (tx->jobs[i]->outcome == DBO_NEW ||
		    tx->jobs[i]->outcome == DBO_GRANTED ||
		    tx->jobs[i]->outcome == DBO_DENIED ||
		    tx->jobs[i]->outcome == DBO_UNKNOWN)
			feed_wake(((struct daemon *)b->done_arg)->feed,
			    tx->jobs[i]->party);
	for (i = 0; i < tx->n; i++) {
		struct job *j = tx->jobs[i];

		if (!ok)
			j->outcome = DBO_FAILED;
		b->done(j, b->done_arg);
	}
	free(tx->jobs);
	free(tx);
}

static void
batch_flush(struct batch *b)
{
	struct batch_tx *tx;
	struct db_unit u;
	int i, n;

	while (b->pending > 0 && b->delay_passed && db_idle(b->db) > 0) {
		n = b->pending < b->max ? b->pending : b->max;
		if ((tx = calloc(1, sizeof(*tx))) == NULL ||
		    (tx->jobs = calloc((size_t)n, sizeof(*tx->jobs))) == NULL) {
			free(tx);
			return;
		}
		tx->b = b;
		tx->n = n;
		for (i = 0; i < n; i++) {
			tx->jobs[i] = b->head;
			b->head = b->head->next;
			tx->jobs[i]->next = NULL;
		}
		if (b->head == NULL)
			b->tail = NULL;
		b->pending -= n;
		b->inflight += n;
		clock_gettime(CLOCK_MONOTONIC, &tx->t0);
		u.send = batch_send;
		u.result = batch_result;
		u.done = batch_done_tx;
		u.arg = tx;
		if (db_run(b->db, &u) != 0) {
			/* cannot happen: an idle connection was seen */
			batch_done_tx(tx, 0, "no idle connection");
		}
		if (b->pending == 0) {
			b->delay_passed = 0;
			evtimer_del(b->timer);
		} else if (b->pending < b->max) {
			/* the rest waits for a free connection, no longer */
			b->delay_passed = 1;
		}
	}
}

void
batch_kick(struct batch *b)
{
	if (b->pending >= b->max)
		b->delay_passed = 1;
	batch_flush(b);
}

int
batch_pending(const struct batch *b)
{
	return b->pending;
}

int
batch_inflight(const struct batch *b)
{
	return b->inflight;
}

void
batch_fail_pending(struct batch *b)
{
	struct job *j;

	while ((j = b->head) != NULL) {
		b->head = j->next;
		j->next = NULL;
		b->pending--;
		j->outcome = DBO_FAILED;
		b->done(j, b->done_arg);
	}
	b->tail = NULL;
	b->delay_passed = 0;
	evtimer_del(b->timer);
}

const struct batch_stats *
batch_stats(const struct batch *b)
{
	return &b->st;
}

void
batch_free(struct batch *b)
{
	if (b == NULL)
		return;
	batch_fail_pending(b);
	event_free(b->timer);
	free(b);
}
