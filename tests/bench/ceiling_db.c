/* ceiling: the database alone; the declarations stored as daemon/batch.c
 * stores them (BEGIN, one declared_store_batch() call with binary array
 * parameters, COMMIT, in libpq pipeline mode), and the CPU PostgreSQL
 * spent. */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "ceiling.h"
#include "decl.h"
#include "lifecycle.h"
#include "pgarr.h"

#define CEIL_STORE_PARAMS 64

/* CPU ticks of every PostgreSQL process: the postmaster with its reaped
 * children, plus its live children. */
static long long
ceil_pg_ticks(pid_t pm)
{
	char path[64], buf[1024], *p;
	long long sum = 0, v[18];
	struct dirent *de;
	DIR *d;
	FILE *f;
	long pid;
	int i;

	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if ((pid = strtol(de->d_name, &p, 10)) <= 0 || *p != '\0')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		p = fgets(buf, sizeof(buf), f);
		fclose(f);
		if (p == NULL || (p = strrchr(buf, ')')) == NULL)
			continue;
		/* fields 3.. after the command: state ppid ... utime(14) stime(15)
		 * cutime(16) cstime(17) */
		p += 2; /* at field 3, the state */
		for (i = 3; i <= 17; i++) {
			char *tok = p;

			while (*p != '\0' && *p != ' ')
				p++;
			v[i] = i == 3 ? 0 : strtoll(tok, NULL, 10);
			if (*p != ' ')
				break;
			p++;
		}
		if (i < 17)
			continue;
		if (pid == pm)
			sum += v[14] + v[15] + v[16] + v[17];
		else if (v[4] == pm)
			sum += v[14] + v[15];
	}
	closedir(d);
	return sum;
}

/* The parameters of declared_store_batch() (arrays of declared_store()'s,
 * one element per declaration), by name, as daemon/batch.c fills them;
 * read from pg_proc with their element types, so that a new migration that
 * adds or reorders parameters does not silently shift them (an unknown one
 * is sent as NULLs, with a warning). */
enum { CEIL_OID_BYTEA = 17, CEIL_OID_INT8 = 20, CEIL_OID_INT4 = 23,
	CEIL_OID_TEXT = 25 };

struct ceil_store {
	int n;
	char name[CEIL_STORE_PARAMS][64];
	unsigned elem[CEIL_STORE_PARAMS];   /* element type oid */
	int warned[CEIL_STORE_PARAMS];
};

/* One parameter of docs[i] for declared_store(); NULL for SQL NULL. */
static const char *
ceil_param(const char *name, const struct ceil_doc *dc, const char *id,
    const char *items, const char *hs, const char *origins,
    const unsigned char *dig, const char *submitter, int *len, int *warned)
{
	const struct decl *d = &dc->d;

	*len = 0;
	if (strcmp(name, "p_id") == 0) return id;
	if (strcmp(name, "p_declarant") == 0) return d->declarant;
	if (strcmp(name, "p_lrn") == 0) return d->lrn;
	if (strcmp(name, "p_submitter") == 0) return submitter;
	if (strcmp(name, "p_signer") == 0) return dc->signer[0] ? dc->signer : NULL;
	if (strcmp(name, "p_profile") == 0) return "wco";
	if (strcmp(name, "p_function") == 0) return d->function[0] ? d->function : NULL;
	if (strcmp(name, "p_type") == 0) return d->type[0] ? d->type : NULL;
	if (strcmp(name, "p_mrn") == 0) return dc->mrn;
	if (strcmp(name, "p_status") == 0) return lifecycle_state_name(LC_ACCEPTED);
	if (strcmp(name, "p_lane") == 0) return dc->lane;
	if (strcmp(name, "p_lane_reason") == 0) return dc->lane_reason[0] ? dc->lane_reason : NULL;
	if (strcmp(name, "p_items") == 0) return items;
	if (strcmp(name, "p_hs") == 0) return hs;
	if (strcmp(name, "p_origins") == 0) return origins;
	if (strcmp(name, "p_amount") == 0) return d->invoice_amount[0] ? d->invoice_amount : NULL;
	if (strcmp(name, "p_currency") == 0) return d->invoice_currency[0] ? d->invoice_currency : NULL;
	if (strcmp(name, "p_digest") == 0) {
		*len = 32;
		return (const char *)dig;
	}
	if (strcmp(name, "p_raw") == 0) {
		*len = (int)dc->len;
		return dc->buf;
	}
	if (strcmp(name, "p_errors") == 0) return NULL; /* valid documents */
	if (strcmp(name, "p_ack_kind") == 0) return lifecycle_ack_code(LC_ACCEPTED, LC_ACCEPT);
	if (strcmp(name, "p_ack") == 0) {
		*len = (int)dc->resp_len;
		return dc->resp;
	}
	if (strcmp(name, "p_status2") == 0)
		return dc->resp2 ? lifecycle_state_name(LC_RELEASED) : NULL;
	if (strcmp(name, "p_reason2") == 0)
		return dc->resp2 ? "green lane: automatic release" : NULL;
	if (strcmp(name, "p_ack2_kind") == 0)
		return dc->resp2 ? lifecycle_ack_code(LC_RELEASED, LC_RELEASE) : NULL;
	if (strcmp(name, "p_ack2") == 0) {
		*len = (int)dc->resp2_len;
		return dc->resp2;
	}
	if (!*warned) {
		fprintf(stderr, "ceiling: warning: declared_store_batch parameter %s is "
		    "unknown here: sent as NULL (update tests/bench/ceiling_db.c)\n", name);
		*warned = 1;
	}
	return NULL;
}

/* One element of parameter k for dc, in its element type's binary form. */
static int
ceil_elem(struct ceil_store *cs, int k, struct pgarr *a,
    const struct ceil_doc *dc, const char *id, const char *items,
    const char *hs, const char *origins, const unsigned char *dig,
    const char *submitter)
{
	const char *v;
	long long x;
	int len;

	v = ceil_param(cs->name[k], dc, id, items, hs, origins, dig, submitter,
	    &len, &cs->warned[k]);
	if (v == NULL)
		return pgarr_put(a, NULL, 0);
	switch (cs->elem[k]) {
	case CEIL_OID_INT8:
	case CEIL_OID_INT4:
		x = strtoll(v, NULL, 10);
		return pgarr_int(a, x, cs->elem[k] == CEIL_OID_INT8 ? 8 : 4);
	case CEIL_OID_BYTEA:
		return pgarr_put(a, v, (size_t)len);
	default: /* text */
		return pgarr_put(a, v, len ? (size_t)len : strlen(v));
	}
}

static int
ceil_send(PGconn *c, struct ceil_store *cs, struct ceil_doc *docs,
    size_t from, size_t n, int64_t base, const char *submitter)
{
	struct pgarr a[CEIL_STORE_PARAMS];
	const char *v[CEIL_STORE_PARAMS];
	int len[CEIL_STORE_PARAMS], fmt[CEIL_STORE_PARAMS], k, rc = -1;
	char id[24], items[16], hs[DECL_ITEMS_MAX * (DECL_CODE_MAX + 3) + 4];
	char origins[DECL_ITEMS_MAX * (DECL_CODE_MAX + 3) + 4];
	unsigned char dig[32];
	size_t i;

	memset(a, 0, sizeof(a));
	for (k = 0; k < cs->n; k++)
		if (pgarr_init(&a[k], cs->elem[k], (int)n, 4096) != 0)
			goto done;
	for (i = from; i < from + n; i++) {
		struct ceil_doc *dc = &docs[i];

		snprintf(id, sizeof(id), "%lld", (long long)(base + (int64_t)i));
		snprintf(items, sizeof(items), "%zu", dc->d.n_items);
		if (decl_hs_array(&dc->d, hs, sizeof(hs)) < 0)
			snprintf(hs, sizeof(hs), "{}");
		if (decl_origin_array(&dc->d, origins, sizeof(origins)) < 0)
			snprintf(origins, sizeof(origins), "{}");
		for (k = 0; k < 32; k++)
			sscanf(dc->digest + 2 * k, "%2hhx", &dig[k]);
		for (k = 0; k < cs->n; k++)
			if (ceil_elem(cs, k, &a[k], dc, id, items, hs, origins, dig,
			    submitter) != 0)
				goto done;
	}
	for (k = 0; k < cs->n; k++) {
		v[k] = (const char *)a[k].p;
		len[k] = (int)a[k].len;
		fmt[k] = 1;
	}
	if (!PQsendQueryParams(c, "BEGIN", 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQsendQueryPrepared(c, "store_batch", cs->n, v, len, fmt, 1) ||
	    !PQsendQueryParams(c, "COMMIT", 0, NULL, NULL, NULL, NULL, 0) ||
	    !PQpipelineSync(c))
		goto done;
	rc = 0;
done:
	for (k = 0; k < cs->n; k++)
		pgarr_free(&a[k]);
	return rc;
}

/* Reads declared_store_batch()'s input parameters and prepares the call. */
static int
ceil_prepare(PGconn *c, struct ceil_store *cs)
{
	PGresult *r;
	char sql[2048];
	size_t o;
	int k, rc = -1;

	r = PQexec(c, "SELECT a.name, t.typelem FROM pg_proc p, "
	    "unnest(p.proargnames[1:p.pronargs], p.proargtypes::oid[]) "
	    "WITH ORDINALITY AS a(name, type, ord) JOIN pg_type t ON t.oid = a.type "
	    "WHERE p.proname = 'declared_store_batch' ORDER BY a.ord");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) < 1 ||
	    PQntuples(r) > CEIL_STORE_PARAMS) {
		fprintf(stderr, "ceiling: cannot read declared_store_batch's "
		    "parameters: %s", PQresultStatus(r) == PGRES_TUPLES_OK ?
		    "none, or too many\n" : PQerrorMessage(c));
		goto done;
	}
	memset(cs, 0, sizeof(*cs));
	cs->n = PQntuples(r);
	o = (size_t)snprintf(sql, sizeof(sql), "SELECT idx, outcome FROM "
	    "declared_store_batch(");
	for (k = 0; k < cs->n; k++) {
		snprintf(cs->name[k], sizeof(cs->name[k]), "%s", PQgetvalue(r, k, 0));
		cs->elem[k] = (unsigned)strtoul(PQgetvalue(r, k, 1), NULL, 10);
		if (cs->elem[k] != CEIL_OID_BYTEA && cs->elem[k] != CEIL_OID_INT8 &&
		    cs->elem[k] != CEIL_OID_INT4 && cs->elem[k] != CEIL_OID_TEXT) {
			fprintf(stderr, "ceiling: declared_store_batch parameter %s: "
			    "element type %u unknown here (update "
			    "tests/bench/ceiling_db.c)\n", cs->name[k], cs->elem[k]);
			goto done;
		}
		o += (size_t)snprintf(sql + o, sizeof(sql) - o, "%s$%d",
		    k ? "," : "", k + 1);
	}
	snprintf(sql + o, sizeof(sql) - o, ")");
	PQclear(r);
	r = PQprepare(c, "store_batch", sql, cs->n, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "ceiling: prepare: %s", PQerrorMessage(c));
		goto done;
	}
	rc = 0;
done:
	PQclear(r);
	return rc;
}

/* Reads BEGIN, the call's n rows, COMMIT and the sync of one batch;
 * counts 'new'. */
static int
ceil_recv(PGconn *c, size_t n, size_t *n_new)
{
	PGresult *r;
	int i, row, bad;

	for (i = 0; i < 3; i++) {
		if ((r = PQgetResult(c)) == NULL)
			return -1;
		bad = PQresultStatus(r) != (i == 1 ? PGRES_TUPLES_OK : PGRES_COMMAND_OK) ||
		    (i == 1 && (size_t)PQntuples(r) != n);
		for (row = 0; !bad && i == 1 && row < PQntuples(r); row++)
			if (strcmp(PQgetvalue(r, row, 1), "new") == 0)
				(*n_new)++;
		if (bad)
			fprintf(stderr, "ceiling: store: %s", PQresultErrorMessage(r));
		PQclear(r);
		if (bad)
			return -1;
		if ((r = PQgetResult(c)) != NULL) { /* the NULL after each query */
			PQclear(r);
			return -1;
		}
	}
	if ((r = PQgetResult(c)) == NULL)
		return -1;
	bad = PQresultStatus(r) != PGRES_PIPELINE_SYNC;
	PQclear(r);
	return bad ? -1 : 0;
}

/* Stores docs[0..n) in batches; fills *pg_us, *client_us, *wall_per_s. */
int
ceil_db(const char *conninfo, const char *pidfile, struct ceil_doc *docs,
    size_t n, size_t batch, const char *submitter, double *pg_us,
    double *client_us, double *wall_per_s)
{
	PGconn *c = PQconnectdb(conninfo);
	PGresult *r = NULL;
	struct ceil_store cs;
	long long t0, t1;
	size_t i, m, n_new = 0;
	double c0, w0;
	int64_t base;
	char buf[64];
	FILE *f;
	pid_t pm = 0;
	int rc = -1;

	if ((f = fopen(pidfile, "r")) != NULL) {
		if (fgets(buf, sizeof(buf), f) != NULL)
			pm = (pid_t)atol(buf);
		fclose(f);
	}
	if (pm <= 0) {
		fprintf(stderr, "ceiling: no postmaster pid in %s\n", pidfile);
		goto done;
	}
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "ceiling: %s", PQerrorMessage(c));
		goto done;
	}
	if (ceil_prepare(c, &cs) != 0)
		goto done;
	r = PQexec(c, "SELECT greatest(9000000000000, coalesce(max(id), 0) + 1) "
	    "FROM declarations");
	if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
		fprintf(stderr, "ceiling: %s", PQerrorMessage(c));
		goto done;
	}
	base = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	r = NULL;
	usleep(300000);
	t0 = ceil_pg_ticks(pm);
	c0 = ceil_cpu();
	w0 = ceil_wall();
	if (PQenterPipelineMode(c) != 1)
		goto done;
	for (i = 0; i < n; i += m) {
		m = n - i < batch ? n - i : batch;
		if (ceil_send(c, &cs, docs, i, m, base, submitter) != 0 ||
		    ceil_recv(c, m, &n_new) != 0) {
			fprintf(stderr, "ceiling: batch at %zu failed: %s", i,
			    PQerrorMessage(c));
			goto done;
		}
	}
	*wall_per_s = (double)n / ((ceil_wall() - w0) / 1e6);
	*client_us = (ceil_cpu() - c0) / (double)n;
	usleep(300000); /* let the WAL writer finish what the commits started */
	t1 = ceil_pg_ticks(pm);
	*pg_us = (double)(t1 - t0) * 1e6 / (double)sysconf(_SC_CLK_TCK) / (double)n;
	if (n_new != n) {
		fprintf(stderr, "ceiling: only %zu of %zu stored as new (already "
		    "in the database?)\n", n_new, n);
		goto done;
	}
	rc = 0;
done:
	PQclear(r);
	PQfinish(c);
	return rc;
}
