/* Unit tests for lib/profile.c over real documents: the UK CDS profile on
 * the HMRC corpus (239 dec-valid declarations matched, validated and
 * extracted, each field checked against a plain libxml2 XPath query; the
 * wrapped, invalid and malformed ones refused) and the project's own
 * format on tests/data.  Uses CORPUS_DIR (default ../shared/corpus) and
 * skips with a message when it is absent. */
#include <CUnit/Basic.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "decl.h"
#include "err.h"
#include "profile.h"
#include "xmlp.h"
#define UNIT_PROFILE_HELPERS
#include "unit_util.h"

static char cds_dir[1024], cds_schema[1100];
static int have_corpus;

/* ---------- plain libxml2 XPath, the reference ---------- */

/* A plain libxml2 XPath query: string(expr), trimmed. */
static void
plain_string(xmlDocPtr doc, xmlNodePtr ctx, const struct profile_def *d,
    const char *expr, char *out, size_t cap)
{
	xmlXPathContextPtr xc = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o;
	char q[512];
	const char *s, *t;
	size_t i, n;

	out[0] = '\0';
	for (i = 0; i < d->n_ns; i++)
		xmlXPathRegisterNs(xc, BAD_CAST d->ns_prefix[i],
		    BAD_CAST d->ns_uri[i]);
	if (ctx != NULL)
		xc->node = ctx;
	snprintf(q, sizeof(q), "string(%s)", expr);
	o = xmlXPathEvalExpression(BAD_CAST q, xc);
	if (o != NULL && o->stringval != NULL) {
		s = (const char *)o->stringval;
		while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
			s++;
		t = s + strlen(s);
		while (t > s && (t[-1] == ' ' || t[-1] == '\t' ||
		    t[-1] == '\r' || t[-1] == '\n'))
			t--;
		n = (size_t)(t - s) < cap - 1 ? (size_t)(t - s) : cap - 1;
		memcpy(out, s, n);
		out[n] = '\0';
	}
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(xc);
}

static double
plain_count(xmlDocPtr doc, const struct profile_def *d, const char *expr)
{
	xmlXPathContextPtr xc = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o;
	char q[512];
	double v = -1;
	size_t i;

	for (i = 0; i < d->n_ns; i++)
		xmlXPathRegisterNs(xc, BAD_CAST d->ns_prefix[i],
		    BAD_CAST d->ns_uri[i]);
	snprintf(q, sizeof(q), "count(%s)", expr);
	if ((o = xmlXPathEvalExpression(BAD_CAST q, xc)) != NULL)
		v = o->floatval;
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(xc);
	return v;
}

/* ---------- the UK CDS profile over the HMRC corpus ---------- */

/* Checks one extracted declaration against plain XPath queries. */
static const struct {
	int f;
	size_t off;
} doc_fields[] = {
	{ PF_LRN, offsetof(struct decl, lrn) },
	{ PF_DECLARANT, offsetof(struct decl, declarant) },
	{ PF_TYPE, offsetof(struct decl, type) },
	{ PF_FUNCTION, offsetof(struct decl, function) },
	{ PF_REF_MRN, offsetof(struct decl, ref_mrn) },
	{ PF_ISSUED, offsetof(struct decl, issued) },
	{ PF_IMPORTER, offsetof(struct decl, importer) },
	{ PF_EXPORTER, offsetof(struct decl, exporter) },
	{ PF_INVOICE_AMOUNT, offsetof(struct decl, invoice_amount) },
	{ PF_INVOICE_CURRENCY, offsetof(struct decl, invoice_currency) },
};

static const struct {
	int f;
	size_t off;
} item_fields[] = {
	{ PF_ITEM_HS, offsetof(struct decl_item, hs) },
	{ PF_ITEM_ORIGIN, offsetof(struct decl_item, origin) },
	{ PF_ITEM_GROSS, offsetof(struct decl_item, gross) },
	{ PF_ITEM_NET, offsetof(struct decl_item, net) },
	{ PF_ITEM_VALUE, offsetof(struct decl_item, value) },
	{ PF_ITEM_CURRENCY, offsetof(struct decl_item, currency) },
};

static int
check_fields(xmlDocPtr doc, const struct profile_def *d,
    const struct decl *dc)
{
	char want[256], q[700], idx[32];
	const char *got, *path;
	size_t i, k;
	int bad = 0;

	for (k = 0; k < sizeof(doc_fields) / sizeof(doc_fields[0]); k++) {
		if (d->xpath[doc_fields[k].f] == NULL)
			continue;
		plain_string(doc, NULL, d, d->xpath[doc_fields[k].f], want,
		    sizeof(want));
		got = (const char *)dc + doc_fields[k].off;
		if (strcmp(got, want) != 0) {
			printf("\n  %s: \"%s\" != \"%s\"",
			    profile_field_name(doc_fields[k].f), got, want);
			bad = 1;
		}
	}
	if (plain_count(doc, d, d->xpath[PF_ITEMS]) != (double)dc->n_items)
		bad = 1;
	for (i = 0; i < dc->n_items; i++) {
		for (k = 0; k < sizeof(item_fields) / sizeof(item_fields[0]);
		    k++) {
			if (d->xpath[item_fields[k].f] == NULL)
				continue;
			snprintf(q, sizeof(q), "(%s)[%zu]/%s",
			    d->xpath[PF_ITEMS], i + 1,
			    d->xpath[item_fields[k].f]);
			plain_string(doc, NULL, d, q, want, sizeof(want));
			got = (const char *)&dc->items[i] + item_fields[k].off;
			if (strcmp(got, want) != 0) {
				printf("\n  item %zu %s: \"%s\" != \"%s\"", i,
				    profile_field_name(item_fields[k].f), got,
				    want);
				bad = 1;
			}
		}
		path = dc->items[i].path;
		snprintf(idx, sizeof(idx), "[%zu]", i + 1);
		if (strstr(path, "GovernmentAgencyGoodsItem") == NULL ||
		    (dc->n_items > 1 && strcmp(path + strlen(path) -
		    strlen(idx), idx) != 0)) {
			printf("\n  item path %s", path);
			bad = 1;
		}
	}
	return bad;
}

static void
test_cds_corpus(void)
{
	char *files[MAX_FILES];
	struct profile_set *ps;
	const struct profile *p;
	struct profile_def d;
	struct decl dc;
	struct errs e;
	size_t n, i, ok = 0, no_declarant = 0, items = 0, hs = 0;
	xmlDocPtr doc;
	int rc;

	if (!have_corpus) {
		printf("\n  SKIP: no corpus at CORPUS_DIR");
		return;
	}
	ps = unit_cds_set(cds_schema);
	unit_cds_def(&d, cds_schema);
	n = unit_corpus_list(cds_dir, "dec-valid", files, MAX_FILES);
	CU_ASSERT_EQUAL(n, 239);
	decl_init(&dc);
	for (i = 0; i < n; i++) {
		char want[DECL_ID_MAX];

		err_init(&e);
		doc = unit_parse_file(files[i], &e);
		CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
		p = profile_match(ps, doc, &e);
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		CU_ASSERT_EQUAL(profile_validate(p, doc, &e), 0);
		rc = profile_extract(p, doc, &dc, &e);
		plain_string(doc, NULL, &d, d.xpath[PF_DECLARANT], want,
		    sizeof(want));
		CU_ASSERT(dc.lrn[0] != '\0');
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_EQUAL(e.n, 0);
		if (want[0] == '\0') {
			/* CDS amendments and cancellations (FunctionCode 13)
			 * name no declarant: left "" for the daemon to judge */
			no_declarant++;
			CU_ASSERT_STRING_EQUAL(dc.function, "13");
			CU_ASSERT_STRING_EQUAL(dc.declarant, "");
		} else if (rc == 0 && e.n == 0) {
			ok++;
		}
		if (check_fields(doc, &d, &dc) != 0 || (dc.n_items > 0 &&
		    strncmp(dc.items[0].path, "/md:MetaData/Declaration/"
		    "GoodsShipment/GovernmentAgencyGoodsItem", 64) != 0)) {
			printf("\n  fields differ in %s", files[i]);
			CU_FAIL("extracted field differs from plain XPath");
		}
		items += dc.n_items;
		for (size_t k = 0; k < dc.n_items; k++)
			hs += dc.items[k].hs[0] != '\0';
		decl_clear(&dc);
		xmlFreeDoc(doc);
		err_clear(&e);
	}
	printf("\n  %zu dec-valid: %zu fully extracted, %zu without declarant "
	    "(amendments), %zu items, %zu HS codes ", n, ok, no_declarant,
	    items, hs);
	CU_ASSERT_EQUAL(ok + no_declarant, n);
	CU_ASSERT(ok >= 200);
	CU_ASSERT(items >= 250);
	unit_list_free(files, n);
	profile_set_free(ps);
}

static void
test_cds_rejects(void)
{
	char *files[64], path[PATH_MAX];
	struct profile_set *ps;
	const struct profile *p;
	const struct err_item *it;
	struct errs e;
	size_t n, i;
	xmlDocPtr doc;

	if (!have_corpus) {
		printf("\n  SKIP: no corpus at CORPUS_DIR");
		return;
	}
	ps = unit_cds_set(cds_schema);
	n = unit_corpus_list(cds_dir, "mdg-wrapped", files, 64);
	CU_ASSERT_EQUAL(n, 12);
	for (i = 0; i < n; i++) {
		err_init(&e);
		doc = unit_parse_file(files[i], &e);
		CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
		p = profile_match(ps, doc, &e);
		CU_ASSERT(p == NULL || profile_validate(p, doc, &e) != 0);
		CU_ASSERT_STRING_EQUAL(err_first_code(&e), "PROFILE_UNKNOWN");
		CU_ASSERT_STRING_EQUAL(e.v[0].pointer, "/v1:submitDeclarationRequest");
		xmlFreeDoc(doc);
		err_clear(&e);
	}
	unit_list_free(files, n);
	err_init(&e);
	snprintf(path, sizeof(path), "%s/example_submission_declaration_400.xml",
	    cds_dir);
	doc = unit_parse_file(path, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	p = profile_match(ps, doc, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(profile_validate(p, doc, &e), -1);
	it = unit_find_code(&e, "XSD_INVALID");
	CU_ASSERT_PTR_NOT_NULL_FATAL(it);
	CU_ASSERT_STRING_EQUAL(it->pointer, "/md:MetaData/Declaration/unknown");
	CU_ASSERT_EQUAL(it->line, 12);
	CU_ASSERT_PTR_NOT_NULL(strstr(it->msg, "not expected"));
	xmlFreeDoc(doc);
	err_clear(&e);
	n = unit_corpus_list(cds_dir, "malformed", files, 64);
	CU_ASSERT_EQUAL(n, 1);
	for (i = 0; i < n; i++) {
		CU_ASSERT_PTR_NULL(unit_parse_file(files[i], &e));
		CU_ASSERT(unit_find_code(&e, "XML_MALFORMED") != NULL);
		err_clear(&e);
	}
	unit_list_free(files, n);
	profile_set_free(ps);
}

/* ---------- the project's own format ---------- */

static void
test_wco_own(void)
{
	const char *xsd = "xsd/declaration.xsd";
	const char *data = "tests/data/decl-valid-20items.xml";
	struct profile_set *ps;
	const struct profile *p;
	struct profile_def d;
	struct decl dc;
	struct errs e;
	xmlDocPtr doc;
	size_t i;

	if (access(xsd, R_OK) != 0 || access(data, R_OK) != 0) {
		printf("\n  SKIP: %s or %s not there yet", xsd, data);
		return;
	}
	err_init(&e);
	ps = profile_set_new();
	unit_wco_def(&d, xsd);
	CU_ASSERT_EQUAL(profile_set_add(ps, &d, &e), 0);
	for (i = 0; i < e.n; i++)
		printf("\n  %s %s", e.v[i].code, e.v[i].msg);
	doc = unit_parse_file(data, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	p = profile_match(ps, doc, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_EQUAL(profile_signature_in_schema(p), 1);
	CU_ASSERT_EQUAL(profile_validate(p, doc, &e), 0);
	decl_init(&dc);
	CU_ASSERT_EQUAL(profile_extract(p, doc, &dc, &e), 0);
	for (i = 0; i < e.n; i++)
		printf("\n  %s %s %s", e.v[i].code, e.v[i].pointer, e.v[i].msg);
	CU_ASSERT_EQUAL(dc.n_items, 20);
	CU_ASSERT_EQUAL(dc.goods_item_quantity, 20);
	CU_ASSERT(dc.lrn[0] != '\0' && dc.declarant[0] != '\0');
	CU_ASSERT(dc.issued[0] != '\0' && dc.invoice_currency[0] != '\0');
	for (i = 0; i < dc.n_items; i++) {
		CU_ASSERT_EQUAL(dc.items[i].seq, (int)i + 1);
		CU_ASSERT(dc.items[i].hs[0] != '\0');
		CU_ASSERT(dc.items[i].origin[0] != '\0');
		CU_ASSERT(dc.items[i].currency[0] != '\0');
	}
	CU_ASSERT_EQUAL(check_fields(doc, &d, &dc), 0);
	decl_clear(&dc);
	xmlFreeDoc(doc);
	err_clear(&e);
	profile_set_free(ps);
}

/* ---------- main ---------- */

static int
setup(void)
{
	have_corpus = unit_cds_locate(cds_dir, sizeof(cds_dir), cds_schema,
	    sizeof(cds_schema));
	return 0;
}

int
main(void)
{
	int fails;

	xmlInitParser();
	static const struct unit_test tests[] = {
		{ "CDS: 239 dec-valid", test_cds_corpus },
		{ "CDS: rejects", test_cds_rejects },
		{ "own format (xsd/declaration.xsd)", test_wco_own },
	};

	fails = UNIT_SUITE("profile_corpus", setup, NULL, tests);
	xmlCleanupParser();
	return fails != 0;
}
