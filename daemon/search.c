#include "search.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "lifecycle.h"

#define SEARCH_TS(col) "to_char(" col " AT TIME ZONE 'UTC', " \
	"'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* Column order is read by search_row. */
static const char search_select[] =
    "SELECT d.id::text, d.lrn, d.declarant, d.submitter, d.mrn, d.status, "
    "d.lane, d.item_count::text, array_to_string(d.hs_codes, ','), "
    "array_to_string(d.origins, ','), d.invoice_amount::text, d.currency, "
    SEARCH_TS("d.received_at") ", " SEARCH_TS("d.updated_at") ", "
    "((extract(epoch FROM d.received_at) * 1000000)::bigint)::text "
    "FROM declarations d WHERE ";

enum { SQ_STATUS, SQ_DECLARANT, SQ_LANE, SQ_HS, SQ_ORIGIN, SQ_MRN, SQ_LRN,
	SQ_FROM, SQ_TO, SQ_CURSOR, SQ_LIMIT, SQ_COUNT };

static const char *const search_names[SQ_COUNT] = {
	"status", "declarant", "lane", "hs", "origin", "mrn", "lrn", "from",
	"to", "cursor", "limit",
};

/* 1 when s is 1..max characters, each printable ASCII without space. */
static int
search_token(const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (i >= max || s[i] <= ' ' || s[i] > '~')
			return 0;
	return i > 0;
}

static int
search_digits(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* The number in s[0..n), which must be all digits. */
static int
search_num(const char *s, size_t n)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

static int
search_mdays(int y, int m)
{
	static const int d[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

/* YYYY-MM-DD[THH:MM[:SS[.f{1,6}]]][Z|(+|-)HH:MM] into a form PostgreSQL
 * reads the same whatever its TimeZone setting. */
static int
search_time(const char *in, char *out, size_t cap)
{
	size_t n = strlen(in), p = 10, f;
	int y, mo, dd;
	const char *zone = "+00";

	if (n < 10 || n > 35 || !search_digits(in, 4) || in[4] != '-' ||
	    !search_digits(in + 5, 2) || in[7] != '-' || !search_digits(in + 8, 2))
		return -1;
	y = search_num(in, 4);
	mo = search_num(in + 5, 2);
	dd = search_num(in + 8, 2);
	if (y < 1900 || y > 9999 || mo < 1 || mo > 12 || dd < 1 ||
	    dd > search_mdays(y, mo))
		return -1;
	if (p < n && in[p] == 'T') {
		if (n < p + 6 || !search_digits(in + p + 1, 2) || in[p + 3] != ':' ||
		    !search_digits(in + p + 4, 2) || search_num(in + p + 1, 2) > 23 ||
		    search_num(in + p + 4, 2) > 59)
			return -1;
		p += 6;
		if (p < n && in[p] == ':') {
			if (n < p + 3 || !search_digits(in + p + 1, 2) ||
			    search_num(in + p + 1, 2) > 59)
				return -1;
			p += 3;
			if (p < n && in[p] == '.') {
				for (f = 0; p + 1 + f < n && f < 7 &&
				    in[p + 1 + f] >= '0' && in[p + 1 + f] <= '9'; f++)
					;
				if (f < 1 || f > 6)
					return -1;
				p += 1 + f;
			}
		}
		if (p < n && in[p] == 'Z') {
			p++;
		} else if (p < n && (in[p] == '+' || in[p] == '-')) {
			if (n != p + 6 || !search_digits(in + p + 1, 2) ||
			    in[p + 3] != ':' || !search_digits(in + p + 4, 2) ||
			    search_num(in + p + 1, 2) > 14 || search_num(in + p + 4, 2) > 59)
				return -1;
			zone = "";
			p = n;
		}
	}
	if (p != n)
		return -1;
	if (n == 10)
		zone = " 00:00:00+00";
	else if (in[n - 1] == 'Z')
		n--;
	if ((size_t)snprintf(out, cap, "%.*s%s", (int)n, in, zone) >= cap)
		return -1;
	if (n > 10)
		out[10] = ' ';
	return 0;
}

/* "<microseconds since 1970>-<id>", as written by search_page. */
static int
search_cursor(const char *in, char *us, char *id, size_t cap)
{
	const char *dash = strchr(in, '-');
	size_t a, b;

	if (dash == NULL)
		return -1;
	a = (size_t)(dash - in);
	b = strlen(dash + 1);
	if (a < 1 || a > 18 || b < 1 || b > 18 || a >= cap || b >= cap ||
	    !search_digits(in, a) || !search_digits(dash + 1, b))
		return -1;
	memcpy(us, in, a);
	us[a] = '\0';
	memcpy(id, dash + 1, b + 1);
	return 0;
}

/* Checks one value; 0 or -1 with err. */
static int
search_value(int k, const char *v, char *err, size_t cap)
{
	size_t n = strlen(v);
	int ok;

	switch (k) {
	case SQ_STATUS:
		ok = lifecycle_state_by_name(v) >= 0;
		break;
	case SQ_LANE:
		ok = strcmp(v, "green") == 0 || strcmp(v, "yellow") == 0 ||
		    strcmp(v, "red") == 0;
		break;
	case SQ_HS:
		ok = (n == 6 || n == 8 || n == 10) && search_digits(v, n);
		break;
	case SQ_ORIGIN:
		ok = n == 2 && v[0] >= 'A' && v[0] <= 'Z' && v[1] >= 'A' && v[1] <= 'Z';
		break;
	case SQ_LIMIT:
		ok = n >= 1 && n <= 3 && search_digits(v, n) &&
		    search_num(v, n) >= 1 && search_num(v, n) <= SEARCH_LIMIT_MAX;
		break;
	default:
		ok = search_token(v, SEARCH_VALUE_MAX - 8);
		break;
	}
	if (!ok)
		snprintf(err, cap, "bad value for %s", search_names[k]);
	return ok ? 0 : -1;
}

/* Appends text to the statement; -1 when it would not fit. */
static int
search_sql(struct search *s, const char *text)
{
	size_t used = strlen(s->sql), n = strlen(text);

	if (used + n + 1 > sizeof(s->sql))
		return -1;
	memcpy(s->sql + used, text, n + 1);
	return 0;
}

/* Adds a parameter with its value; returns its number ($n) or -1. */
static int
search_param(struct search *s, const char *v)
{
	if (s->nparams >= SEARCH_PARAMS_MAX || strlen(v) >= SEARCH_VALUE_MAX)
		return -1;
	snprintf(s->val[s->nparams], SEARCH_VALUE_MAX, "%s", v);
	s->params[s->nparams] = s->val[s->nparams];
	return ++s->nparams;
}

/* Adds " AND <before>$n<after>" for value v. */
static int
search_cond(struct search *s, const char *before, const char *after,
    const char *v)
{
	char c[160];
	int n = search_param(s, v);

	if (n < 0)
		return -1;
	snprintf(c, sizeof(c), " AND %s$%d%s", before, n, after);
	return search_sql(s, c);
}

static int
search_build(struct search *s, const char *const v[SQ_COUNT], char *err,
    size_t cap)
{
	char t[SEARCH_VALUE_MAX], us[24], id[24], c[200];
	int rc = 0, a, b;

	s->sql[0] = '\0';
	rc |= search_sql(s, search_select);
	rc |= search_sql(s, "true");
	if (v[SQ_STATUS])
		rc |= search_cond(s, "d.status = ", "", v[SQ_STATUS]);
	if (v[SQ_DECLARANT])
		rc |= search_cond(s, "d.declarant = ", "", v[SQ_DECLARANT]);
	if (v[SQ_LANE])
		rc |= search_cond(s, "d.lane = ", "", v[SQ_LANE]);
	if (v[SQ_HS])
		rc |= search_cond(s, "d.hs_codes @> ARRAY[", "::text]", v[SQ_HS]);
	if (v[SQ_ORIGIN])
		rc |= search_cond(s, "d.origins @> ARRAY[", "::text]", v[SQ_ORIGIN]);
	if (v[SQ_MRN])
		rc |= search_cond(s, "d.mrn = ", "", v[SQ_MRN]);
	if (v[SQ_LRN])
		rc |= search_cond(s, "d.lrn = ", "", v[SQ_LRN]);
	if (v[SQ_FROM]) {
		if (search_time(v[SQ_FROM], t, sizeof(t)) != 0) {
			snprintf(err, cap, "bad value for from: want YYYY-MM-DD or "
			    "YYYY-MM-DDTHH:MM:SS[Z|+HH:MM]");
			return -1;
		}
		rc |= search_cond(s, "d.received_at >= ", "::timestamptz", t);
	}
	if (v[SQ_TO]) {
		if (search_time(v[SQ_TO], t, sizeof(t)) != 0) {
			snprintf(err, cap, "bad value for to: want YYYY-MM-DD or "
			    "YYYY-MM-DDTHH:MM:SS[Z|+HH:MM]");
			return -1;
		}
		rc |= search_cond(s, "d.received_at < ", "::timestamptz", t);
	}
	if (v[SQ_CURSOR]) {
		if (search_cursor(v[SQ_CURSOR], us, id, sizeof(us)) != 0) {
			snprintf(err, cap, "bad cursor");
			return -1;
		}
		a = search_param(s, us);
		b = search_param(s, id);
		snprintf(c, sizeof(c), " AND (d.received_at, d.id) < (timestamptz "
		    "'epoch' + $%d::bigint * interval '1 microsecond', $%d::bigint)",
		    a, b);
		rc |= a < 0 || b < 0 ? -1 : search_sql(s, c);
	}
	s->limit = v[SQ_LIMIT] ? atoi(v[SQ_LIMIT]) : SEARCH_LIMIT_DEFAULT;
	/* one row more than the page tells whether there is a next one */
	snprintf(t, sizeof(t), "%d", s->limit + 1);
	a = search_param(s, t);
	snprintf(c, sizeof(c), " ORDER BY d.received_at DESC, d.id DESC LIMIT $%d::int",
	    a);
	rc |= a < 0 ? -1 : search_sql(s, c);
	if (rc != 0)
		snprintf(err, cap, "query too long");
	return rc != 0 ? -1 : 0;
}

int
search_parse(struct search *s, const char *query, char *err, size_t cap)
{
	struct evkeyvalq q;
	struct evkeyval *kv;
	const char *v[SQ_COUNT] = { NULL };
	int k, rc = -1, n = 0;

	memset(s, 0, sizeof(*s));
	TAILQ_INIT(&q);
	if (query != NULL && evhttp_parse_query_str(query, &q) != 0) {
		snprintf(err, cap, "unparsable query string");
		return -1;
	}
	TAILQ_FOREACH(kv, &q, next) {
		for (k = 0; k < SQ_COUNT && strcmp(kv->key, search_names[k]) != 0; k++)
			;
		if (++n > 2 * SQ_COUNT || k == SQ_COUNT) {
			snprintf(err, cap, "unknown parameter %.40s", kv->key);
			goto out;
		}
		if (v[k] != NULL) {
			snprintf(err, cap, "parameter %s given twice", search_names[k]);
			goto out;
		}
		if (*kv->value == '\0')
			continue;       /* an empty form field: no filter */
		if (search_value(k, kv->value, err, cap) != 0)
			goto out;
		v[k] = kv->value;
	}
	rc = search_build(s, v, err, cap);
out:
	evhttp_clear_headers(&q);
	return rc;
}

/* A text column, or JSON null. */
static json_t *
search_text(const PGresult *r, int row, int col)
{
	if (PQgetisnull(r, row, col))
		return json_null();
	return json_string(PQgetvalue(r, row, col));
}

/* "a,b,c" as a JSON array of strings ("" = []). */
static json_t *
search_list(const PGresult *r, int row, int col)
{
	const char *p = PQgetvalue(r, row, col), *c;
	json_t *a = json_array();

	while (a != NULL && *p != '\0') {
		c = strchr(p, ',');
		if (json_array_append_new(a, json_stringn(p, c ? (size_t)(c - p) :
		    strlen(p))) != 0) {
			json_decref(a);
			return NULL;
		}
		p = c ? c + 1 : p + strlen(p);
	}
	return a;
}

static json_t *
search_row(const PGresult *r, int row)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:o, s:o, "
	    "s:o, s:o, s:o, s:o}",
	    "id", search_text(r, row, 0),
	    "lrn", search_text(r, row, 1),
	    "declarant", search_text(r, row, 2),
	    "submitter", search_text(r, row, 3),
	    "mrn", search_text(r, row, 4),
	    "status", search_text(r, row, 5),
	    "lane", search_text(r, row, 6),
	    "item_count", (json_int_t)atoll(PQgetvalue(r, row, 7)),
	    "hs_codes", search_list(r, row, 8),
	    "origins", search_list(r, row, 9),
	    "invoice_amount", search_text(r, row, 10),
	    "currency", search_text(r, row, 11),
	    "received_at", search_text(r, row, 12),
	    "updated_at", search_text(r, row, 13));
}

json_t *
search_page(const struct search *s, const PGresult *r)
{
	json_t *items = json_array(), *it;
	int n = PQntuples(r), i, shown = n > s->limit ? s->limit : n;
	char cur[48];

	if (items == NULL || PQnfields(r) != 15)
		goto fail;
	for (i = 0; i < shown; i++)
		if ((it = search_row(r, i)) == NULL ||
		    json_array_append_new(items, it) != 0)
			goto fail;
	if (n > s->limit)
		snprintf(cur, sizeof(cur), "%s-%s", PQgetvalue(r, shown - 1, 14),
		    PQgetvalue(r, shown - 1, 0));
	return json_pack("{s:o, s:i, s:i, s:o}", "items", items, "count", shown,
	    "limit", s->limit, "next_cursor",
	    n > s->limit ? json_string(cur) : json_null());
fail:
	json_decref(items);
	return NULL;
}
