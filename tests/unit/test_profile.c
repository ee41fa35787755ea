/* Unit tests for lib/profile.c and lib/decl.c on small in-memory
 * documents: field names, decl_hs_array, configuration errors, and a tiny
 * profile of our own (extraction, item limit, validation and matching,
 * threads).  Needs no corpus; the tiny XSD is written to a temp dir.
 * Real documents: test_profile_corpus.c; the XPath tree walk against the
 * libxml2 engine, and timings: test_profile_xpath.c. */
#include <CUnit/Basic.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libxml/parser.h>

#include "decl.h"
#include "err.h"
#include "profile.h"
#include "xmlp.h"
#define UNIT_PROFILE_HELPERS
#include "unit_util.h"

static const struct xmlp_limits lim = XMLP_DEFAULT_LIMITS;
static char tiny_xsd[128];
static char tmpdir[] = "/tmp/test_profile.XXXXXX";

/* ---------- helpers ---------- */

/* Tests abort on allocation failure. */
static void *
xmalloc(size_t n)
{
	void *p = malloc(n);

	if (p == NULL)
		abort();
	return p;
}

/* ---------- field names, decl ---------- */

static void
test_field_names(void)
{
	int f;

	for (f = 0; f < PF_COUNT; f++) {
		CU_ASSERT_PTR_NOT_NULL_FATAL(profile_field_name(f));
		CU_ASSERT_EQUAL(profile_field_by_name(profile_field_name(f)), f);
	}
	CU_ASSERT_STRING_EQUAL(profile_field_name(PF_LRN), "lrn");
	CU_ASSERT_STRING_EQUAL(profile_field_name(PF_ITEM_HS), "item.hs");
	CU_ASSERT_STRING_EQUAL(profile_field_name(PF_INVOICE_CURRENCY),
	    "invoice_currency");
	CU_ASSERT_EQUAL(profile_field_by_name("hs"), -1);
	CU_ASSERT_EQUAL(profile_field_by_name(""), -1);
	CU_ASSERT_EQUAL(profile_field_by_name(NULL), -1);
	CU_ASSERT_PTR_NULL(profile_field_name(PF_COUNT));
}

static void
test_decl_hs_array(void)
{
	struct decl d;
	char out[64];
	const char *hs[] = { "8471300000", "0901", "8471300000", "", "09a\"b",
	    "0901" };
	size_t i;

	decl_init(&d);
	CU_ASSERT_EQUAL(d.goods_item_quantity, -1);
	CU_ASSERT_EQUAL(decl_hs_array(&d, out, sizeof(out)), 2);
	CU_ASSERT_STRING_EQUAL(out, "{}");
	d.items = calloc(6, sizeof(*d.items));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d.items);
	d.n_items = 6;
	for (i = 0; i < 6; i++)
		snprintf(d.items[i].hs, sizeof(d.items[i].hs), "%s", hs[i]);
	CU_ASSERT_EQUAL(decl_hs_array(&d, out, sizeof(out)),
	    (int)strlen("{8471300000,0901,\"09a\\\"b\"}"));
	CU_ASSERT_STRING_EQUAL(out, "{8471300000,0901,\"09a\\\"b\"}");
	/* exactly enough room, then one byte short */
	CU_ASSERT_EQUAL(decl_hs_array(&d, out, strlen(out) + 1), (int)strlen(out));
	CU_ASSERT_EQUAL(decl_hs_array(&d, out, 26), -1);
	CU_ASSERT_STRING_EQUAL(out, "");
	CU_ASSERT_EQUAL(decl_hs_array(&d, out, 2), -1);
	snprintf(d.items[4].hs, sizeof(d.items[4].hs), "NULL");
	snprintf(d.items[3].hs, sizeof(d.items[3].hs), "a\\b c");
	decl_hs_array(&d, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "{8471300000,0901,\"a\\\\b c\",\"NULL\"}");
	decl_clear(&d);
	CU_ASSERT_PTR_NULL(d.items);
	CU_ASSERT_EQUAL(d.n_items, 0);
	decl_clear(&d);
}

/* The most items a declaration may have: 999 distinct codes, all in the
 * literal in their order; 999 items with 7 codes among them, each once;
 * and more items than a declaration may have is refused. */
static void
test_decl_hs_array_max(void)
{
	static char out[2 * DECL_ITEMS_MAX * (DECL_CODE_MAX + 3) + 4];
	char want[16];
	struct decl d;
	size_t i, pos;
	int n;

	decl_init(&d);
	d.items = calloc(DECL_ITEMS_MAX + 1, sizeof(*d.items));
	CU_ASSERT_PTR_NOT_NULL_FATAL(d.items);
	d.n_items = DECL_ITEMS_MAX;
	for (i = 0; i < DECL_ITEMS_MAX; i++)
		snprintf(d.items[i].hs, sizeof(d.items[i].hs), "%010zu",
		    8471300000u + (i < 500 ? i : 998 - (i - 500)));
	/* items 500..998 hold codes 998..500: 999 distinct codes */
	n = decl_hs_array(&d, out, sizeof(out));
	CU_ASSERT_EQUAL(n, 1 + DECL_ITEMS_MAX * 11 - 1 + 1);
	for (i = 0, pos = 1; i < DECL_ITEMS_MAX && n > 0; i++) {
		snprintf(want, sizeof(want), "%010zu",
		    8471300000u + (i < 500 ? i : 998 - (i - 500)));
		CU_ASSERT_EQUAL(strncmp(out + pos, want, 10), 0);
		pos += 11;
	}
	for (i = 0; i < DECL_ITEMS_MAX; i++)
		snprintf(d.items[i].hs, sizeof(d.items[i].hs), "%010zu",
		    8471300000u + i % 7);
	CU_ASSERT_EQUAL(decl_hs_array(&d, out, sizeof(out)), 1 + 7 * 11 - 1 + 1);
	CU_ASSERT_EQUAL(strncmp(out, "{8471300000,8471300001,", 23), 0);
	d.n_items = DECL_ITEMS_MAX + 1;
	CU_ASSERT_EQUAL(decl_hs_array(&d, out, sizeof(out)), -1);
	CU_ASSERT_STRING_EQUAL(out, "");
	decl_clear(&d);
}

/* ---------- a tiny profile of our own ---------- */

static const char *const tiny_xpath[PF_COUNT] = {
	[PF_LRN] = "/t:R/t:L",
	[PF_DECLARANT] = "/t:R/t:D",
	[PF_INVOICE_CURRENCY] = "/t:R/t:A/@t:c",
	[PF_ITEM_QUANTITY] = "/t:R/t:Q",
	[PF_ITEMS] = "/t:R/t:I",
	[PF_ITEM_SEQ] = "t:S",
	[PF_ITEM_HS] = "t:H",
	[PF_ITEM_CURRENCY] = "@c",
};

static void
tiny_def(struct profile_def *d)
{
	unit_def_fill(d, "tiny", "urn:t", "R", tiny_xsd, tiny_xpath);
	d->ns_prefix[0] = "t";
	d->ns_uri[0] = "urn:t";
	d->n_ns = 1;
}

static struct profile_set *
tiny_set(void)
{
	struct profile_set *ps = profile_set_new();
	struct profile_def d;
	struct errs e;

	err_init(&e);
	tiny_def(&d);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ps);
	CU_ASSERT_EQUAL(profile_set_add(ps, &d, &e), 0);
	CU_ASSERT_EQUAL(e.n, 0);
	err_clear(&e);
	return ps;
}

/* Parses, matches and extracts text; returns profile_extract's result. */
static int
tiny_extract(const struct profile_set *ps, const char *xml, struct decl *d,
    struct errs *e)
{
	const struct profile *p;
	xmlDocPtr doc = xmlp_parse(xml, strlen(xml), &lim, e);
	int rc = -2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	p = profile_match(ps, doc, e);
	CU_ASSERT_PTR_NOT_NULL(p);
	if (p != NULL)
		rc = profile_extract(p, doc, d, e);
	xmlFreeDoc(doc);
	return rc;
}

static void
test_config_errors(void)
{
	struct profile_set *ps = profile_set_new();
	struct profile_def d;
	struct errs e;
	char missing[PATH_MAX + 16];
	const char *bad_xpath[] = { "/t:R/[", "/x:R/t:L", "count(/q:R)",
	    "/t:R/t:L)", "foo(/t:R)", "t:f(/t:R)", "/t:R[$v]", "", NULL };
	size_t i;

	err_init(&e);
	for (i = 0; bad_xpath[i] != NULL; i++) {
		tiny_def(&d);
		d.xpath[PF_LRN] = bad_xpath[i];
		CU_ASSERT_EQUAL(profile_set_add(ps, &d, &e), -1);
		CU_ASSERT_STRING_EQUAL(err_first_code(&e), "PROFILE_CONFIG");
		CU_ASSERT_PTR_NOT_NULL(strstr(e.v[0].msg, "xpath.lrn"));
		err_clear(&e);
	}
	tiny_def(&d);
	d.xpath[PF_DECLARANT] = NULL;
	CU_ASSERT_EQUAL(profile_set_add(ps, &d, &e), -1);
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "PROFILE_CONFIG");
	err_clear(&e);
	tiny_def(&d);
	d.xpath[PF_ITEMS] = NULL;
	CU_ASSERT_EQUAL(profile_set_add(ps, &d, &e), -1);
	err_clear(&e);
	tiny_def(&d);
	snprintf(missing, sizeof(missing), "%s/nope.xsd", tmpdir);
	d.schema = missing;
	CU_ASSERT_EQUAL(profile_set_add(ps, &d, &e), -1);
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "PROFILE_CONFIG");
	CU_ASSERT_PTR_NOT_NULL(strstr(e.v[e.n - 1].msg, "tiny"));
	err_clear(&e);
	CU_ASSERT_EQUAL(profile_set_count(ps), 0);
	tiny_def(&d);
	CU_ASSERT_EQUAL(profile_set_add(ps, &d, &e), 0);
	CU_ASSERT_EQUAL(profile_set_add(ps, &d, &e), -1); /* same name+root */
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "PROFILE_CONFIG");
	err_clear(&e);
	tiny_def(&d);
	d.name = "other";
	d.ns_prefix[1] = "t";
	d.ns_uri[1] = "urn:u";
	d.n_ns = 2;
	CU_ASSERT_EQUAL(profile_set_add(ps, &d, &e), -1); /* prefix twice */
	err_clear(&e);
	CU_ASSERT_EQUAL(profile_set_count(ps), 1);
	profile_set_free(ps);
	profile_set_free(NULL);
}

static void
test_tiny_extract(void)
{
	struct profile_set *ps = tiny_set();
	struct decl d;
	struct errs e;
	const struct err_item *it;
	int rc;

	decl_init(&d);
	err_init(&e);
	rc = tiny_extract(ps, "<R xmlns='urn:t' xmlns:t='urn:t'>\n"
	    "<L>\n  LRN-1 \t</L><D>GB1</D><A t:c='EUR' c='x'/><Q>2</Q>"
	    "<I c='USD'><S>1</S><H>0901</H></I><X><I/></X>"
	    "<I><H><![CDATA[84]]>71<!-- c -->30</H></I></R>", &d, &e);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(e.n, 0);
	CU_ASSERT_STRING_EQUAL(d.lrn, "LRN-1");
	CU_ASSERT_STRING_EQUAL(d.declarant, "GB1");
	CU_ASSERT_STRING_EQUAL(d.invoice_currency, "EUR");
	CU_ASSERT_EQUAL(d.goods_item_quantity, 2);
	CU_ASSERT_EQUAL_FATAL(d.n_items, 2);
	CU_ASSERT_EQUAL(d.items[0].seq, 1);
	CU_ASSERT_EQUAL(d.items[1].seq, 0);
	CU_ASSERT_STRING_EQUAL(d.items[0].hs, "0901");
	CU_ASSERT_STRING_EQUAL(d.items[1].hs, "847130");
	CU_ASSERT_STRING_EQUAL(d.items[0].currency, "USD");
	CU_ASSERT_STRING_EQUAL(d.items[1].currency, "");
	CU_ASSERT_STRING_EQUAL(d.items[0].path, "/R/I[1]");
	CU_ASSERT_STRING_EQUAL(d.items[1].path, "/R/I[2]");
	decl_clear(&d);
	err_clear(&e);

	/* no LRN: an error pointing at the root */
	rc = tiny_extract(ps, "<t:R xmlns:t='urn:t'>\n<t:L> </t:L></t:R>", &d,
	    &e);
	CU_ASSERT_EQUAL(rc, -1);
	CU_ASSERT_EQUAL_FATAL(e.n, 1);
	CU_ASSERT_STRING_EQUAL(e.v[0].code, "FIELD_MISSING");
	CU_ASSERT_STRING_EQUAL(e.v[0].pointer, "/t:R");
	CU_ASSERT_EQUAL(e.v[0].line, 1);
	decl_clear(&d);
	err_clear(&e);

	/* no declarant, too long LRN (UTF-8 cut), bad quantity */
	rc = tiny_extract(ps, "<t:R xmlns:t='urn:t'><t:L>"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
	    "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9xyz</t:L>\n<t:Q>two</t:Q></t:R>",
	    &d, &e);
	CU_ASSERT_EQUAL(rc, -1);
	it = unit_find_code(&e, "FIELD_TOO_LONG");
	CU_ASSERT_PTR_NOT_NULL_FATAL(it);
	CU_ASSERT_STRING_EQUAL(it->pointer, "/t:R/t:L");
	CU_ASSERT_EQUAL(strlen(d.lrn), 70); /* 71 bytes would split a character */
	CU_ASSERT_EQUAL((unsigned char)d.lrn[69], 0xa9);
	/* a missing declarant is not an extraction error (requests) */
	CU_ASSERT_PTR_NULL(unit_find_code(&e, "FIELD_MISSING"));
	CU_ASSERT_STRING_EQUAL(d.declarant, "");
	it = unit_find_code(&e, "FIELD_INVALID");
	CU_ASSERT_PTR_NOT_NULL_FATAL(it);
	CU_ASSERT_STRING_EQUAL(it->pointer, "/t:R/t:Q");
	CU_ASSERT_EQUAL(it->line, 2);
	CU_ASSERT_EQUAL(d.goods_item_quantity, -1);
	CU_ASSERT_EQUAL(d.n_items, 0);
	decl_clear(&d);
	err_clear(&e);
	profile_set_free(ps);
}

static char *
items_doc(int n)
{
	size_t cap = 64 + (size_t)n * 16, pos;
	char *s = xmalloc(cap);
	int i;

	pos = (size_t)snprintf(s, cap, "<R xmlns='urn:t'><L>l</L><D>d</D>");
	for (i = 0; i < n; i++)
		pos += (size_t)snprintf(s + pos, cap - pos, "<I><H>%d</H></I>",
		    i % 7);
	snprintf(s + pos, cap - pos, "</R>");
	return s;
}

static void
test_items_limit(void)
{
	struct profile_set *ps = tiny_set();
	char *xml, buf[64];
	struct decl d;
	struct errs e;
	const struct err_item *it;

	decl_init(&d);
	err_init(&e);
	xml = items_doc(DECL_ITEMS_MAX);
	CU_ASSERT_EQUAL(tiny_extract(ps, xml, &d, &e), 0);
	CU_ASSERT_EQUAL(d.n_items, DECL_ITEMS_MAX);
	CU_ASSERT_STRING_EQUAL(d.items[DECL_ITEMS_MAX - 1].path, "/R/I[999]");
	CU_ASSERT_EQUAL(decl_hs_array(&d, buf, sizeof(buf)), 15);
	CU_ASSERT_STRING_EQUAL(buf, "{0,1,2,3,4,5,6}");
	free(xml);
	decl_clear(&d);
	xml = items_doc(DECL_ITEMS_MAX + 1);
	CU_ASSERT_EQUAL(tiny_extract(ps, xml, &d, &e), -1);
	it = unit_find_code(&e, "ITEMS_TOO_MANY");
	CU_ASSERT_PTR_NOT_NULL_FATAL(it);
	CU_ASSERT_STRING_EQUAL(it->pointer, "/R/I[1000]");
	CU_ASSERT_EQUAL(d.n_items, 0);
	CU_ASSERT_STRING_EQUAL(d.lrn, "l");
	free(xml);
	decl_clear(&d);
	err_clear(&e);
	profile_set_free(ps);
}

static void
test_tiny_validate_match(void)
{
	struct profile_set *ps = tiny_set();
	const char *bad = "<R xmlns='urn:t' v='abc'>\n<Num>1</Num>\n"
	    "<Num>x</Num></R>";
	const struct profile *p;
	const struct err_item *it;
	struct errs e;
	xmlDocPtr doc;

	err_init(&e);
	doc = xmlp_parse(bad, strlen(bad), &lim, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	p = profile_match(ps, doc, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_STRING_EQUAL(profile_name(p), "tiny");
	CU_ASSERT_EQUAL(profile_signature_in_schema(p), 0);
	CU_ASSERT_EQUAL(profile_validate(p, doc, &e), -1);
	CU_ASSERT_EQUAL(e.n, 2);

	it = &e.v[0];
	CU_ASSERT_STRING_EQUAL(it->code, "XSD_INVALID");
	CU_ASSERT_STRING_EQUAL(it->pointer, "/R/@v");
	CU_ASSERT_EQUAL(it->line, 1);
	it = &e.v[1];
	CU_ASSERT_STRING_EQUAL(it->pointer, "/R/Num[2]");
	CU_ASSERT_EQUAL(it->line, 3);
	xmlFreeDoc(doc);
	err_clear(&e);
	doc = xmlp_parse("<R xmlns='urn:t'/>", 18, &lim, &e);
	CU_ASSERT_EQUAL(profile_validate(p, doc, &e), 0);
	CU_ASSERT_EQUAL(e.n, 0);
	xmlFreeDoc(doc);
	doc = xmlp_parse("<R xmlns='urn:u'/>", 18, &lim, &e);
	CU_ASSERT_PTR_NULL(profile_match(ps, doc, &e));
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "PROFILE_UNKNOWN");
	CU_ASSERT_STRING_EQUAL(e.v[0].pointer, "/R");
	xmlFreeDoc(doc);
	err_clear(&e);
	profile_set_free(ps);
}

/* The same fields through the XPath engine only (functions, "//",
 * positions), from several threads at once. */
static const char *const engine_xpath[PF_COUNT] = {
	[PF_LRN] = "string(/t:X/t:L)",
	[PF_DECLARANT] = "normalize-space(/t:X/t:D)",
	[PF_INVOICE_CURRENCY] = "(//@t:c)[1]",
	[PF_ITEM_QUANTITY] = "count(//t:I)",
	[PF_ITEMS] = "//t:I",
	[PF_ITEM_SEQ] = "t:S[1]",
	[PF_ITEM_HS] = "concat(t:H, '')",
	[PF_ITEM_CURRENCY] = "@c | @nothing",
};

struct thread_arg {
	const struct profile_set *ps;
	const char *xml;
	long bad;
};

static void *
thread_run(void *arg)
{
	struct thread_arg *a = arg;
	const struct profile *p;
	struct decl d;
	struct errs e;
	xmlDocPtr doc;
	int i;

	for (i = 0; i < 200; i++) {
		err_init(&e);
		decl_init(&d);
		doc = xmlp_parse(a->xml, strlen(a->xml), &lim, &e);
		p = doc != NULL ? profile_match(a->ps, doc, &e) : NULL;
		if (p == NULL || profile_validate(p, doc, &e) != 0 ||
		    profile_extract(p, doc, &d, &e) != 0 ||
		    strcmp(d.lrn, "L1") != 0 || strcmp(d.declarant, "D 1") != 0 ||
		    strcmp(d.invoice_currency, "EUR") != 0 ||
		    d.goods_item_quantity != 2 || d.n_items != 2 ||
		    d.items[1].seq != 7 || strcmp(d.items[1].hs, "8471") != 0 ||
		    strcmp(d.items[0].currency, "USD") != 0) {
			if (a->bad++ == 0)
				printf("\n  %s: %s %s lrn=%s decl=%s cur=%s q=%d n=%zu",
				    p ? profile_name(p) : "-", e.n ? e.v[0].code : "",
				    e.n ? e.v[0].msg : "", d.lrn, d.declarant,
				    d.invoice_currency, d.goods_item_quantity,
				    d.n_items);
		}
		decl_clear(&d);
		xmlFreeDoc(doc);
		err_clear(&e);
	}
	return NULL;
}

static void
test_threads(void)
{
	const char *xml[2] = {
		"<R xmlns='urn:t' xmlns:t='urn:t'><L>L1</L><D> D 1 </D>"
		"<A t:c='EUR'/><Q>2</Q><I c='USD'><S>1</S><H>0901</H></I>"
		"<I><S>7</S><S>8</S><H>8471</H></I></R>",
		"<X xmlns='urn:t' xmlns:t='urn:t'><L>L1</L><D>D 1</D>"
		"<A t:c='EUR'/><I c='USD'><S>1</S><H>0901</H></I>"
		"<I><S>7</S><H>8471</H></I></X>",
	};
	struct profile_set *ps = tiny_set();
	struct thread_arg args[4];
	struct profile_def d;
	struct errs e;
	pthread_t th[4];
	int i;

	err_init(&e);
	unit_def_fill(&d, "engine", "urn:t", "X", tiny_xsd, engine_xpath);
	d.ns_prefix[0] = "t";
	d.ns_uri[0] = "urn:t";
	d.n_ns = 1;
	CU_ASSERT_EQUAL_FATAL(profile_set_add(ps, &d, &e), 0);
	CU_ASSERT_EQUAL(profile_set_count(ps), 2);
	for (i = 0; i < 4; i++) {
		args[i].ps = ps;
		args[i].xml = xml[i % 2];
		args[i].bad = 0;
	}
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, thread_run,
		    &args[i]), 0);
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(args[i].bad, 0);
	}
	err_clear(&e);
	profile_set_free(ps);
}

/* ---------- main ---------- */

static int
setup(void)
{
	FILE *f;

	if (mkdtemp(tmpdir) == NULL)
		return -1;
	snprintf(tiny_xsd, sizeof(tiny_xsd), "%s/tiny.xsd", tmpdir);
	if ((f = fopen(tiny_xsd, "w")) == NULL)
		return -1;
	fputs("<xs:schema xmlns:xs='http://www.w3.org/2001/XMLSchema' "
	    "targetNamespace='urn:t' xmlns='urn:t' "
	    "elementFormDefault='qualified'>\n"
	    "<xs:element name='Num' type='xs:int'/>\n"
	    "<xs:complexType name='T'><xs:sequence>"
	    "<xs:any processContents='lax' minOccurs='0' "
	    "maxOccurs='unbounded'/></xs:sequence>"
	    "<xs:attribute name='v' type='xs:int'/></xs:complexType>\n"
	    "<xs:element name='R' type='T'/><xs:element name='X' type='T'/>\n"
	    "</xs:schema>\n", f);
	return fclose(f);
}

static int
teardown(void)
{
	unlink(tiny_xsd);
	rmdir(tmpdir);
	return 0;
}

int
main(void)
{
	int fails;

	xmlInitParser();
	static const struct unit_test tests[] = {
		{ "field names", test_field_names },
		{ "decl_hs_array", test_decl_hs_array },
		{ "decl_hs_array at the most items", test_decl_hs_array_max },
		{ "config errors", test_config_errors },
		{ "extract (tiny profile)", test_tiny_extract },
		{ "items limit", test_items_limit },
		{ "validate and match (tiny)", test_tiny_validate_match },
		{ "threads, walk and engine", test_threads },
	};

	fails = UNIT_SUITE("profile", setup, teardown, tests);
	xmlCleanupParser();
	return fails != 0;
}
