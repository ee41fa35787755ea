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
#include "pgarr.h"

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

/* The store: one declared_store_batch() call per run of consecutive
 * declarations (requests go one by one, in their place), its 26 parameters
 * binary one-dimensional arrays with one element per declaration. */
#define STORE_NARRAYS 26
/* A run's arrays hold at most this many bytes (a longer run is split),
 * unless one declaration alone is larger; one array never more than
 * PostgreSQL takes in one value. */
#define BATCH_RUN_BYTES_MAX ((size_t)64 << 20)
#define BATCH_ARR_BYTES_MAX (((size_t)1 << 30) - 1)
/* While this many store transactions are in flight, the next one waits
 * until a full batch is pending: under load the batch grows while the one
 * before commits (two transactions of one party serialize on its
 * parties row anyway), at low rates nothing waits longer than the delay.
 * Unless the one in flight is older than BATCH_STALL_MS (a slow commit,
 * a lock wait): then the next goes on another connection, as other
 * parties need not wait for it. */
#define BATCH_GROW_INFLIGHT 1
#define BATCH_STALL_MS 50

enum { OID_BYTEA = PGARR_OID_BYTEA, OID_INT8 = PGARR_OID_INT8,
	OID_INT4 = PGARR_OID_INT4, OID_TEXT = PGARR_OID_TEXT };

/* declared_store_batch()'s parameters, in order */
enum { A_ID, A_DECLARANT, A_LRN, A_SUBMITTER, A_SIGNER, A_PROFILE, A_FUNCTION,
	A_TYPE, A_MRN, A_STATUS, A_LANE, A_LANE_REASON, A_ITEMS, A_HS, A_ORIGINS,
	A_AMOUNT, A_CURRENCY, A_DIGEST, A_RAW, A_ERRORS, A_ACK_KIND, A_ACK,
	A_STATUS2, A_REASON2, A_ACK2_KIND, A_ACK2 };

static const unsigned batch_arr_oid[STORE_NARRAYS] = {
	OID_INT8, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT,
	OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_INT4, OID_TEXT,
	OID_TEXT, OID_TEXT, OID_TEXT, OID_BYTEA, OID_BYTEA, OID_TEXT, OID_TEXT,
	OID_BYTEA, OID_TEXT, OID_TEXT, OID_TEXT, OID_BYTEA };

const struct db_prepare batch_prepare[] = {
	{ "store_batch", "SELECT idx, outcome, declaration_id, ack_seq, receipt "
	    "FROM declared_store_batch($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,"
	    "$14,$15,$16,$17,$18,$19,$20,$21,$22,$23,$24,$25,$26)" },
	{ "idblock", "SELECT nextval('decl_block_seq')" },
	{ "request", "SELECT outcome, declaration_id, ack_seq, receipt FROM "
	    "declared_request($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,"
	    "$16,$17,$18,$19,$20,$21,$22)" },
};
const size_t batch_nprepare = sizeof(batch_prepare) / sizeof(batch_prepare[0]);

/* One query of a transaction: a run of declarations (first, n) for one
 * declared_store_batch() call, or one request (n = 0). */
struct batch_part {
	int first, n;
};

/* One transaction in flight. */
struct batch_tx {
	struct batch *b;
	struct job **jobs;
	int n;
	struct batch_part *parts;  /* n at most */
	int nparts;
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
	int ntx;           /* transactions in flight */
	struct timespec last_t0; /* start of the latest one */
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

/* Bytes the arrays of a run take for j, roughly (the cap's measure). */
static size_t
batch_job_bytes(const struct job *j)
{
	return j->len + j->resp_len + (j->state2[0] ? j->resp2_len : 0) +
	    (j->errors_json ? strlen(j->errors_json) : 0) +
	    j->decl.n_items * 2 * (DECL_CODE_MAX + 1) + 1024;
}

/* The 26 arrays of one run's declarations. */
static int
batch_arrays(struct pgarr *a, struct job **jobs, int n)
{
	char hs[DECL_ITEMS_MAX * (DECL_CODE_MAX + 3) + 4];
	char origins[DECL_ITEMS_MAX * (DECL_CODE_MAX + 3) + 4];
	unsigned char dig[32];
	size_t hint[STORE_NARRAYS];
	int i, k, rc = 0;

	for (k = 0; k < STORE_NARRAYS; k++)
		hint[k] = (size_t)n * 40;
	hint[A_RAW] = hint[A_ACK] = hint[A_ACK2] = (size_t)n * 4;
	for (i = 0; i < n; i++) {
		hint[A_RAW] += jobs[i]->len;
		hint[A_ACK] += jobs[i]->resp_len;
		hint[A_ACK2] += jobs[i]->state2[0] ? jobs[i]->resp2_len : 0;
	}
	for (k = 0; k < STORE_NARRAYS; k++)
		if (pgarr_init(&a[k], batch_arr_oid[k], n, hint[k]) != 0)
			return -1;
	for (i = 0; i < n; i++) {
		const struct job *j = jobs[i];
		const struct decl *d = &j->decl;
		int rel = j->state2[0] != '\0';

		if (decl_hs_array(d, hs, sizeof(hs)) < 0)
			snprintf(hs, sizeof(hs), "{}");
		if (decl_origin_array(d, origins, sizeof(origins)) < 0)
			snprintf(origins, sizeof(origins), "{}");
		batch_unhex(j->digest, dig);
		rc |= pgarr_int(&a[A_ID], j->id, 8);
		rc |= pgarr_str(&a[A_DECLARANT], d->declarant);
		rc |= pgarr_str(&a[A_LRN], d->lrn);
		rc |= pgarr_str(&a[A_SUBMITTER], j->party);
		rc |= pgarr_str(&a[A_SIGNER], j->signer[0] ? j->signer : NULL);
		rc |= pgarr_str(&a[A_PROFILE], j->profile);
		rc |= pgarr_str(&a[A_FUNCTION], d->function[0] ? d->function : NULL);
		rc |= pgarr_str(&a[A_TYPE], d->type[0] ? d->type : NULL);
		rc |= pgarr_str(&a[A_MRN], j->mrn[0] ? j->mrn : NULL);
		rc |= pgarr_str(&a[A_STATUS], j->state);
		rc |= pgarr_str(&a[A_LANE], j->lane[0] ? j->lane : NULL);
		rc |= pgarr_str(&a[A_LANE_REASON],
		    j->lane_reason[0] ? j->lane_reason : NULL);
		rc |= pgarr_int(&a[A_ITEMS], (int64_t)d->n_items, 4);
		rc |= pgarr_str(&a[A_HS], hs);
		rc |= pgarr_str(&a[A_ORIGINS], origins);
		rc |= pgarr_str(&a[A_AMOUNT],
		    d->invoice_amount[0] ? d->invoice_amount : NULL);
		rc |= pgarr_str(&a[A_CURRENCY],
		    d->invoice_currency[0] ? d->invoice_currency : NULL);
		rc |= pgarr_put(&a[A_DIGEST], dig, sizeof(dig));
		rc |= pgarr_put(&a[A_RAW], j->body, j->len);
		rc |= pgarr_str(&a[A_ERRORS], j->errors_json);
		rc |= pgarr_str(&a[A_ACK_KIND], j->ack_kind);
		rc |= pgarr_put(&a[A_ACK], j->resp, j->resp_len);
		rc |= pgarr_str(&a[A_STATUS2], rel ? j->state2 : NULL);
		rc |= pgarr_str(&a[A_REASON2], rel ? j->reason2 : NULL);
		rc |= pgarr_str(&a[A_ACK2_KIND], rel ? j->ack2_kind : NULL);
		rc |= pgarr_put(&a[A_ACK2], rel ? j->resp2 : NULL, j->resp2_len);
		if (rc != 0)
			return -1;
	}
	return 0;
}

/* Sends one declared_store_batch() call for jobs[0..n). */
static int
batch_send_run(PGconn *c, struct job **jobs, int n)
{
	struct pgarr a[STORE_NARRAYS];
	const char *v[STORE_NARRAYS];
	int len[STORE_NARRAYS], fmt[STORE_NARRAYS];
	int k, rc = -1;

	memset(a, 0, sizeof(a));
	for (k = 0; k < STORE_NARRAYS; k++)
		a[k].max = BATCH_ARR_BYTES_MAX;
	if (batch_arrays(a, jobs, n) != 0)
		goto done;
	for (k = 0; k < STORE_NARRAYS; k++) {
		v[k] = (const char *)a[k].p;
		len[k] = (int)a[k].len;
		fmt[k] = 1;
	}
	/* libpq copies the parameters into its output buffer */
	if (PQsendQueryPrepared(c, "store_batch", STORE_NARRAYS, v, len, fmt, 1))
		rc = 0;
done:
	for (k = 0; k < STORE_NARRAYS; k++)
		pgarr_free(&a[k]);
	return rc;
}

static int
batch_send(PGconn *c, void *arg)
{
	struct batch_tx *tx = arg;
	char id[24], items[16], hs[DECL_ITEMS_MAX * (DECL_CODE_MAX + 3) + 4];
	unsigned char dig[32];
	struct batch_part *p;
	size_t bytes;
	int i;

	if (!PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0))
		return -1;
	tx->nparts = 0;
	for (i = 0; i < tx->n; i++) {
		struct job *j = tx->jobs[i];

		j->outcome = DBO_NONE;
		if (j->req_kind != REQ_NONE) {
			p = &tx->parts[tx->nparts++];
			p->first = i;
			p->n = 0;
			snprintf(id, sizeof(id), "%lld", (long long)j->id);
			snprintf(items, sizeof(items), "%zu", j->decl.n_items);
			if (decl_hs_array(&j->decl, hs, sizeof(hs)) < 0)
				snprintf(hs, sizeof(hs), "{}");
			batch_unhex(j->digest, dig);
			if (batch_send_request(c, j, dig, id, items, hs) != 0)
				return -1;
			continue;
		}
		/* a run: this declaration and the ones after it, up to a
		 * request or the cap */
		p = &tx->parts[tx->nparts++];
		p->first = i;
		p->n = 1;
		bytes = batch_job_bytes(j);
		while (i + p->n < tx->n && tx->jobs[i + p->n]->req_kind == REQ_NONE &&
		    bytes + batch_job_bytes(tx->jobs[i + p->n]) <= BATCH_RUN_BYTES_MAX) {
			bytes += batch_job_bytes(tx->jobs[i + p->n]);
			tx->jobs[i + p->n]->outcome = DBO_NONE;
			p->n++;
		}
		if (batch_send_run(c, tx->jobs + i, p->n) != 0)
			return -1;
		i += p->n - 1;
	}
	if (!PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0))
		return -1;
	return PQpipelineSync(c) ? 0 : -1;
}

/* An int8 column of a binary-format result; 0 when NULL. */
static int64_t
batch_int8(const PGresult *r, int row, int col)
{
	const unsigned char *p;
	uint64_t v = 0;
	int i;

	if (PQgetisnull(r, row, col) || PQgetlength(r, row, col) != 8)
		return 0;
	p = (const unsigned char *)PQgetvalue(r, row, col);
	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return (int64_t)v;
}

/* j's outcome from row of r, whose columns from col on are outcome,
 * declaration_id, ack_seq, receipt (binary format). */
static int
batch_outcome(struct job *j, const PGresult *r, int row, int col)
{
	const char *o = PQgetvalue(r, row, col); /* text: same bytes in binary */
	size_t blen;
	unsigned char *bin;

	j->db_id = batch_int8(r, row, col + 1);
	j->ack_seq = batch_int8(r, row, col + 2);
	if (strcmp(o, "new") == 0) {
		j->outcome = DBO_NEW;
	} else if (strcmp(o, "duplicate") == 0) {
		j->outcome = DBO_DUPLICATE;
		j->mrn[0] = '\0'; /* the original receipt has its own */
		if (!PQgetisnull(r, row, col + 3)) {
			blen = (size_t)PQgetlength(r, row, col + 3);
			if ((bin = malloc(blen + 1)) == NULL)
				return -1;
			memcpy(bin, PQgetvalue(r, row, col + 3), blen);
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

/* The rows of one declared_store_batch() call: exactly one per
 * declaration of the run, found by idx (1-based). */
static int
batch_run_result(struct batch_tx *tx, const struct batch_part *p,
    const PGresult *r)
{
	const unsigned char *v;
	uint32_t idx;
	int row;

	if (PQntuples(r) != p->n || PQnfields(r) != 5)
		return -1;
	for (row = 0; row < p->n; row++) {
		if (PQgetisnull(r, row, 0) || PQgetlength(r, row, 0) != 4)
			return -1;
		v = (const unsigned char *)PQgetvalue(r, row, 0);
		idx = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 |
		    (uint32_t)v[2] << 8 | v[3];
		if (idx < 1 || idx > (uint32_t)p->n ||
		    tx->jobs[p->first + (int)idx - 1]->outcome != DBO_NONE ||
		    batch_outcome(tx->jobs[p->first + (int)idx - 1], r, row, 1) != 0)
			return -1;
	}
	return 0;
}

static int
batch_result(PGresult *r, void *arg)
{
	struct batch_tx *tx = arg;
	int idx = tx->next_result++;
	const struct batch_part *p;

	if (idx == 0 || idx == tx->nparts + 1) /* BEGIN, COMMIT */
		return PQresultStatus(r) == PGRES_COMMAND_OK &&
		    strcmp(PQcmdStatus(r), idx == 0 ? "BEGIN" : "COMMIT") == 0 ? 0 : -1;
	if (idx > tx->nparts + 1 || PQresultStatus(r) != PGRES_TUPLES_OK)
		return -1;
	p = &tx->parts[idx - 1];
	if (p->n > 0)
		return batch_run_result(tx, p, r);
	if (PQntuples(r) != 1)
		return -1;
	return batch_outcome(tx->jobs[p->first], r, 0, 0);
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
	uint64_t t0_ns, t1_ns;
	double us;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	us = (t1.tv_sec - tx->t0.tv_sec) * 1e6 + (t1.tv_nsec - tx->t0.tv_nsec) / 1e3;
	if (ok && tx->next_result != tx->nparts + 2)
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
	b->ntx--;
	/* what gathered meanwhile goes at once (batch_kick follows) */
	if (b->pending > 0)
		b->delay_passed = 1;
	/* delivery hook: long-polls of parties with new acknowledgements
	 * wake at once (done_arg is the daemon, see main.c) */
	for (i = 0; ok && i < tx->n; i++)
		if (tx->jobs[i]->outcome == DBO_NEW ||
		    tx->jobs[i]->outcome == DBO_GRANTED ||
		    tx->jobs[i]->outcome == DBO_DENIED ||
		    tx->jobs[i]->outcome == DBO_UNKNOWN)
			feed_wake(((struct daemon *)b->done_arg)->feed,
			    tx->jobs[i]->party);
	t0_ns = (uint64_t)tx->t0.tv_sec * 1000000000u + (uint64_t)tx->t0.tv_nsec;
	t1_ns = (uint64_t)t1.tv_sec * 1000000000u + (uint64_t)t1.tv_nsec;
	for (i = 0; i < tx->n; i++) {
		struct job *j = tx->jobs[i];

		j->t_tx0_ns = t0_ns;
		j->t_tx1_ns = t1_ns;
		if (!ok)
			j->outcome = DBO_FAILED;
		b->done(j, b->done_arg);
	}
	free(tx->parts);
	free(tx->jobs);
	free(tx);
}

/* Milliseconds until the latest transaction in flight counts as stalled
 * (0: it does). */
static int
batch_wait_ms(const struct batch *b)
{
	struct timespec now;
	long ms;

	clock_gettime(CLOCK_MONOTONIC, &now);
	ms = (now.tv_sec - b->last_t0.tv_sec) * 1000 +
	    (now.tv_nsec - b->last_t0.tv_nsec) / 1000000;
	return ms >= BATCH_STALL_MS ? 0 : (int)(BATCH_STALL_MS - ms);
}

static void
batch_flush(struct batch *b)
{
	struct batch_tx *tx;
	struct db_unit u;
	int i, n;

	while (b->pending > 0 && b->delay_passed && db_idle(b->db) > 0) {
		if (b->ntx >= BATCH_GROW_INFLIGHT && b->pending < b->max &&
		    batch_wait_ms(b) > 0) {
			/* grows until a commit ends (batch_kick), a full batch
			 * or the stall timer */
			struct timeval tv = { 0, batch_wait_ms(b) * 1000 };

			evtimer_add(b->timer, &tv);
			return;
		}
		n = b->pending < b->max ? b->pending : b->max;
		if ((tx = calloc(1, sizeof(*tx))) == NULL ||
		    (tx->jobs = calloc((size_t)n, sizeof(*tx->jobs))) == NULL ||
		    (tx->parts = calloc((size_t)n, sizeof(*tx->parts))) == NULL) {
			if (tx != NULL)
				free(tx->jobs);
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
		b->ntx++;
		clock_gettime(CLOCK_MONOTONIC, &tx->t0);
		b->last_t0 = tx->t0;
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
