#include "rules.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RULES_MAX_CODES 512

struct rules {
	char (*countries)[4];
	size_t n_countries;
	char (*currencies)[4];
	size_t n_currencies;
	double tolerance;
	int skew;
};

static int
rules_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Reads a code list: one code of 2-3 uppercase letters a line, '#' comments. */
static int
rules_load(const char *path, size_t len, char (**out)[4], size_t *n, struct errs *e)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	char (*v)[4] = NULL;
	size_t cnt = 0, l;

	if (f == NULL) {
		err_add(e, "RULES_CONFIG", 0, "", "cannot read code list %s", path);
		return -1;
	}
	if ((v = calloc(RULES_MAX_CODES, sizeof(*v))) == NULL)
		goto fail;
	while (fgets(line, sizeof(line), f) != NULL) {
		l = strcspn(line, "\r\n");
		line[l] = '\0';
		if (l == 0 || line[0] == '#')
			continue;
		if (l != len || cnt >= RULES_MAX_CODES) {
			err_add(e, "RULES_CONFIG", 0, "", "bad code '%s' in %s", line, path);
			goto fail;
		}
		memcpy(v[cnt++], line, l + 1);
	}
	fclose(f);
	qsort(v, cnt, sizeof(*v), rules_cmp);
	*out = v;
	*n = cnt;
	return 0;
fail:
	fclose(f);
	free(v);
	return -1;
}

struct rules *
rules_new(const struct rules_opts *o, struct errs *e)
{
	struct rules *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->tolerance = o->value_tolerance;
	r->skew = o->future_skew_s;
	if (rules_load(o->countries, 2, &r->countries, &r->n_countries, e) != 0 ||
	    rules_load(o->currencies, 3, &r->currencies, &r->n_currencies, e) != 0) {
		rules_free(r);
		return NULL;
	}
	return r;
}

void
rules_free(struct rules *r)
{
	if (r == NULL)
		return;
	free(r->countries);
	free(r->currencies);
	free(r);
}

static int
rules_in(char (*v)[4], size_t n, const char *code)
{
	char key[4];

	if (strlen(code) > 3)
		return 0;
	snprintf(key, sizeof(key), "%s", code);
	return bsearch(key, v, n, sizeof(*v), rules_cmp) != NULL;
}

/* Pointer of an item field: item path + "/" + relative location. */
static void
rules_item_ptr(char *out, size_t cap, const struct decl_item *it, const char *rel)
{
	snprintf(out, cap, "%s/%s", it->path, rel ? rel : "");
}

static const char *
rules_p(const char *const ptr[PF_COUNT], enum profile_field f)
{
	return ptr != NULL && ptr[f] != NULL ? ptr[f] : "";
}

static int
rules_lrn_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 1 || n > 35 || !isalnum((unsigned char)s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("-_/.", s[i]))
			return 0;
	return 1;
}

/* EORI-like: two letters and 1-15 alphanumerics. */
static int
rules_party_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 3 || n > 17 || !isupper((unsigned char)s[0]) ||
	    !isupper((unsigned char)s[1]))
		return 0;
	for (i = 2; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return 0;
	return 1;
}

static int
rules_hs_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 6 || n > 10)
		return 0;
	for (i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* A decimal as written in the document; -1 if it is not one. */
static int
rules_num(const char *s, double *out)
{
	char *end;

	if (s == NULL || *s == '\0')
		return -1;
	*out = strtod(s, &end);
	return *end == '\0' && isfinite(*out) ? 0 : -1;
}

int
rules_parse_datetime(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0, oh, om;
	const char *p;
	time_t t;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h,
	    &mi, &sec, &n) != 6 || n != 19)
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	p = s + 19;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return -1;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || strlen(p) != 6 ||
		    oh > 14 || om > 59)
			return -1;
		t += (*p == '+' ? -1 : 1) * (time_t)(oh * 3600 + om * 60);
		p += 6;
	}
	if (*p != '\0')
		return -1;
	*out = t;
	return 0;
}

static void
rules_parties(const struct decl *d, const char *const ptr[PF_COUNT], struct errs *e,
    int *fails)
{
	static const struct { enum profile_field f; const char *what; } pf[] = {
		{ PF_DECLARANT, "declarant" },
		{ PF_IMPORTER, "importer" },
		{ PF_EXPORTER, "exporter" },
	};
	const char *v[] = { d->declarant, d->importer, d->exporter };
	size_t i;

	for (i = 0; i < 3; i++)
		if (v[i][0] != '\0' && !rules_party_ok(v[i])) {
			err_add(e, "RULE_PARTY_ID", 0, rules_p(ptr, pf[i].f),
			    "%s identifier '%s' is not two letters and 1-15 letters or digits",
			    pf[i].what, v[i]);
			(*fails)++;
		}
}

static void
rules_items(const struct rules *r, const struct decl *d,
    const char *const ptr[PF_COUNT], struct errs *e, int *fails)
{
	char p[ERR_PTR_MAX];
	unsigned char *seen = NULL;
	double gross, net, value, sum = 0, inv;
	int values_ok = 1;
	size_t i;

	if (d->n_items > 0)
		seen = calloc(d->n_items + 1, 1);
	for (i = 0; i < d->n_items; i++) {
		const struct decl_item *it = &d->items[i];

		if (!rules_hs_ok(it->hs)) {
			rules_item_ptr(p, sizeof(p), it, rules_p(ptr, PF_ITEM_HS));
			err_add(e, "RULE_HS_CODE", 0, p,
			    "HS code '%s' is not 6 to 10 digits", it->hs);
			(*fails)++;
		}
		if (it->origin[0] != '\0' &&
		    !rules_in(r->countries, r->n_countries, it->origin)) {
			rules_item_ptr(p, sizeof(p), it, rules_p(ptr, PF_ITEM_ORIGIN));
			err_add(e, "RULE_COUNTRY", 0, p,
			    "'%s' is not an ISO 3166-1 country code", it->origin);
			(*fails)++;
		}
		if (it->currency[0] != '\0' &&
		    !rules_in(r->currencies, r->n_currencies, it->currency)) {
			rules_item_ptr(p, sizeof(p), it, rules_p(ptr, PF_ITEM_CURRENCY));
			err_add(e, "RULE_CURRENCY", 0, p,
			    "'%s' is not an ISO 4217 currency code", it->currency);
			(*fails)++;
		}
		if (it->seq < 1 || (size_t)it->seq > d->n_items || seen == NULL ||
		    seen[it->seq]) {
			rules_item_ptr(p, sizeof(p), it, rules_p(ptr, PF_ITEM_SEQ));
			err_add(e, "RULE_SEQUENCE", 0, p,
			    "item sequence number %d is out of 1..%zu or repeated",
			    it->seq, d->n_items);
			(*fails)++;
		} else {
			seen[it->seq] = 1;
		}
		if (rules_num(it->gross, &gross) == 0 && rules_num(it->net, &net) == 0 &&
		    net > gross) {
			rules_item_ptr(p, sizeof(p), it, rules_p(ptr, PF_ITEM_NET));
			err_add(e, "RULE_NET_MASS", 0, p,
			    "net mass %s is above gross mass %s", it->net, it->gross);
			(*fails)++;
		}
		if (rules_num(it->value, &value) == 0)
			sum += value;
		else
			values_ok = 0;
		if (it->currency[0] && d->invoice_currency[0] &&
		    strcmp(it->currency, d->invoice_currency) != 0) {
			rules_item_ptr(p, sizeof(p), it, rules_p(ptr, PF_ITEM_CURRENCY));
			err_add(e, "RULE_CURRENCY_MIX", 0, p, "item currency %s differs "
			    "from the invoice currency %s", it->currency, d->invoice_currency);
			(*fails)++;
		}
	}
	free(seen);
	if (values_ok && d->n_items > 0 && rules_num(d->invoice_amount, &inv) == 0 &&
	    fabs(sum - inv) > r->tolerance + 1e-9) {
		err_add(e, "RULE_VALUE_SUM", 0, rules_p(ptr, PF_INVOICE_AMOUNT),
		    "item values add up to %.2f, the invoice amount is %s", sum,
		    d->invoice_amount);
		(*fails)++;
	}
}

int
rules_check(const struct rules *r, const struct decl *d,
    const char *const ptr[PF_COUNT], time_t now, struct errs *e)
{
	int fails = 0;
	time_t issued;

	if (!rules_lrn_ok(d->lrn)) {
		err_add(e, "RULE_LRN_FORMAT", 0, rules_p(ptr, PF_LRN), "LRN '%s' is not "
		    "1-35 letters, digits or -_/. starting with a letter or digit", d->lrn);
		fails++;
	}
	rules_parties(d, ptr, e, &fails);
	if (d->invoice_currency[0] &&
	    !rules_in(r->currencies, r->n_currencies, d->invoice_currency)) {
		err_add(e, "RULE_CURRENCY", 0, rules_p(ptr, PF_INVOICE_CURRENCY),
		    "'%s' is not an ISO 4217 currency code", d->invoice_currency);
		fails++;
	}
	if (d->goods_item_quantity >= 0 && (size_t)d->goods_item_quantity != d->n_items) {
		err_add(e, "RULE_ITEM_COUNT", 0, rules_p(ptr, PF_ITEM_QUANTITY),
		    "GoodsItemQuantity is %d but the declaration has %zu items",
		    d->goods_item_quantity, d->n_items);
		fails++;
	}
	if (d->issued[0]) {
		if (rules_parse_datetime(d->issued, &issued) != 0) {
			err_add(e, "RULE_DATE", 0, rules_p(ptr, PF_ISSUED),
			    "'%s' is not a date and time", d->issued);
			fails++;
		} else if (issued > now + r->skew) {
			err_add(e, "RULE_DATE_FUTURE", 0, rules_p(ptr, PF_ISSUED),
			    "issue date %s is in the future", d->issued);
			fails++;
		}
	}
	rules_items(r, d, ptr, e, &fails);
	return fails;
}
