/* Unit tests for lib/profile_xpath.c: which expressions take the tree
 * walk, the walk giving what the libxml2 XPath engine gives on every
 * corpus document (and on tests/data), and the time per 20-item document
 * of parse, validate and extract against the engine alone.  Uses
 * CORPUS_DIR (default ../shared/corpus) and skips with a message when it
 * is absent. */
#include <CUnit/Basic.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libxml/parser.h>

#include "decl.h"
#include "err.h"
#include "profile.h"
#include "profile_xpath.h"
#include "xmlp.h"
#define UNIT_PROFILE_HELPERS
#include "unit_util.h"

static const struct xmlp_limits lim = XMLP_DEFAULT_LIMITS;
static char cds_dir[1024], cds_schema[1100];
static int have_corpus;

/* Monotonic clock, microseconds. */
static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}
/* ---------- tree walk against the XPath engine ---------- */

static void
test_walk_forms(void)
{
	xmlNsPtr ns[1];
	struct errs e;
	const char *walk[] = { "/t:a", "t:a/t:b", "/t:a/@x", "@t:x", "a/b",
	    "/t:a/t:b[t:c='1']/t:d", "t:b[ t:c = \"x y\" ]", NULL };
	const char *engine[] = { "//t:a", "t:a[1]", "count(t:a)", "t:a | t:b",
	    "*", "/t:a/text()", "t:a/..", "/", "/@x", "t:a[t:c='1'][2]",
	    "child::t:a", "t:a/t:b/", NULL };
	struct profile_xpath *x;
	size_t i;

	err_init(&e);
	ns[0] = xmlNewNs(NULL, BAD_CAST "urn:t", BAD_CAST "t");
	for (i = 0; walk[i] != NULL; i++) {
		x = profile_xpath_new(walk[i], ns, 1, 0, "w", &e);
		CU_ASSERT_PTR_NOT_NULL_FATAL(x);
		if (!profile_xpath_is_walk(x))
			printf("\n  not walked: %s", walk[i]);
		CU_ASSERT_TRUE(profile_xpath_is_walk(x));
		profile_xpath_free(x);
	}
	for (i = 0; engine[i] != NULL; i++) {
		x = profile_xpath_new(engine[i], ns, 1, 0, "e", &e);
		if (x == NULL) /* a syntax error is fine too, never a walk */
			continue;
		if (profile_xpath_is_walk(x))
			printf("\n  walked: %s", engine[i]);
		CU_ASSERT_FALSE(profile_xpath_is_walk(x));
		profile_xpath_free(x);
	}
	err_clear(&e);
	xmlFreeNs(ns[0]);
}

/* Compares walk and engine for expr from ctx; returns 0 if they agree. */
static int
compare_one(xmlDocPtr doc, xmlNsPtr *ns, size_t n_ns, const char *expr,
    xmlNodePtr ctx, size_t *walked)
{
	static xmlNodePtr a[1001], b[1001];
	struct profile_xpath *w, *g;
	struct profile_xpath_run r;
	char sa[256], sb[256];
	xmlNodePtr na, nb;
	struct errs e;
	long ca, cb;
	int ra, rb, bad = 0;

	err_init(&e);
	w = profile_xpath_new(expr, ns, n_ns, 0, "w", &e);
	g = profile_xpath_new(expr, ns, n_ns, 1, "g", &e);
	if (w == NULL || g == NULL) {
		printf("\n  cannot compile %s", expr);
		bad = 1;
		goto done;
	}
	*walked += profile_xpath_is_walk(w);
	profile_xpath_run_init(&r, doc, ns, n_ns);
	ca = profile_xpath_nodes(&r, w, ctx, a, 1000, &e);
	cb = profile_xpath_nodes(&r, g, ctx, b, 1000, &e);
	if (ca != cb || ca < 0 || memcmp(a, b, (size_t)(ca > 1000 ? 1000 : ca) *
	    sizeof(a[0])) != 0)
		bad = 1;
	ra = profile_xpath_string(&r, w, ctx, sa, sizeof(sa), &na, &e);
	rb = profile_xpath_string(&r, g, ctx, sb, sizeof(sb), &nb, &e);
	if (ra != rb || strcmp(sa, sb) != 0 || na != nb)
		bad = 1;
	if (bad)
		printf("\n  differ: %s: %ld/%ld nodes, \"%s\"/\"%s\"", expr, ca,
		    cb, sa, sb);
	profile_xpath_run_done(&r);
done:
	profile_xpath_free(w);
	profile_xpath_free(g);
	err_clear(&e);
	return bad;
}

/* Prefix of href in the test's table, added if new. */
static const char *
ns_prefix(xmlNsPtr *ns, size_t *n, size_t cap, const xmlChar *href)
{
	char p[24];
	size_t i;

	for (i = 0; i < *n; i++)
		if (xmlStrEqual(ns[i]->href, href))
			return (const char *)ns[i]->prefix;
	if (*n == cap)
		return NULL;
	snprintf(p, sizeof(p), "n%zu", *n);
	ns[*n] = xmlNewNs(NULL, href, BAD_CAST p);
	return (const char *)ns[(*n)++]->prefix;
}

/* Builds the walkable path of element n (and of its first attribute). */
static int
element_path(xmlNodePtr n, xmlNsPtr *ns, size_t *n_ns, size_t cap, char *out,
    size_t size)
{
	char seg[512], tmp[2048];
	const char *pre;

	out[0] = '\0';
	for (; n != NULL && n->type == XML_ELEMENT_NODE; n = n->parent) {
		pre = n->ns != NULL ? ns_prefix(ns, n_ns, cap, n->ns->href) : NULL;
		if (n->ns != NULL && pre == NULL)
			return -1;
		snprintf(seg, sizeof(seg), "/%s%s%s", pre ? pre : "",
		    pre ? ":" : "", (const char *)n->name);
		snprintf(tmp, sizeof(tmp), "%s%s", seg, out);
		if (strlen(tmp) >= size)
			return -1;
		memcpy(out, tmp, strlen(tmp) + 1);
	}
	return 0;
}

/* All distinct element paths of doc (up to 80), each compared absolute,
 * relative to the root, and with its first attribute. */
static int
compare_doc(xmlDocPtr doc, const struct profile_def *d, size_t *n_cmp,
    size_t *walked)
{
	xmlNsPtr ns[32];
	size_t n_ns = 0, i, n_paths = 0;
	char paths[80][600], expr[1400], *rel;
	xmlNodePtr root = xmlDocGetRootElement(doc), n = root;
	const char *pre;
	int bad = 0, f;

	for (i = 0; i < d->n_ns; i++)
		ns[n_ns++] = xmlNewNs(NULL, BAD_CAST d->ns_uri[i],
		    BAD_CAST d->ns_prefix[i]);
	for (f = 0; f < PF_COUNT; f++) {
		if (d->xpath[f] == NULL || f > PF_ITEMS)
			continue;
		bad |= compare_one(doc, ns, n_ns, d->xpath[f], NULL, walked);
		(*n_cmp)++;
	}
	while (n != NULL && n_paths < 80) {
		if (n->type == XML_ELEMENT_NODE &&
		    element_path(n, ns, &n_ns, 32, paths[n_paths], 600) == 0) {
			for (i = 0; i < n_paths; i++)
				if (strcmp(paths[i], paths[n_paths]) == 0)
					break;
			if (i == n_paths) {
				bad |= compare_one(doc, ns, n_ns, paths[i], NULL,
				    walked);
				rel = strchr(paths[i] + 1, '/');
				if (rel != NULL)
					bad |= compare_one(doc, ns, n_ns, rel + 1,
					    root, walked);
				if (n->properties != NULL) {
					pre = n->properties->ns != NULL ?
					    ns_prefix(ns, &n_ns, 32,
					    n->properties->ns->href) : NULL;
					snprintf(expr, sizeof(expr), "%.600s/@%s%s%s",
					    paths[i], pre ? pre : "", pre ? ":" : "",
					    (const char *)n->properties->name);
					bad |= compare_one(doc, ns, n_ns, expr, NULL,
					    walked);
				}
				*n_cmp += 3;
				n_paths++;
			}
		}
		if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
			n = n->children;
			continue;
		}
		while (n != NULL && n != root && n->next == NULL)
			n = n->parent;
		n = (n == NULL || n == root) ? NULL : n->next;
	}
	for (i = 0; i < n_ns; i++)
		xmlFreeNs(ns[i]);
	return bad;
}

/* Item-relative fields, for every item of a document. */
static int
compare_items(xmlDocPtr doc, const struct profile_def *d, size_t *n_cmp,
    size_t *walked)
{
	static xmlNodePtr items[DECL_ITEMS_MAX + 1];
	struct profile_xpath *x;
	struct profile_xpath_run r;
	xmlNsPtr ns[PROFILE_NS_MAX];
	struct errs e;
	long n, i;
	size_t k;
	int f, bad = 0;

	err_init(&e);
	for (k = 0; k < d->n_ns; k++)
		ns[k] = xmlNewNs(NULL, BAD_CAST d->ns_uri[k],
		    BAD_CAST d->ns_prefix[k]);
	x = profile_xpath_new(d->xpath[PF_ITEMS], ns, d->n_ns, 0, "i", &e);
	profile_xpath_run_init(&r, doc, ns, d->n_ns);
	n = x != NULL ? profile_xpath_nodes(&r, x, NULL, items, DECL_ITEMS_MAX,
	    &e) : -1;
	CU_ASSERT(n >= 0);
	for (i = 0; i < n && i < DECL_ITEMS_MAX; i++)
		for (f = PF_ITEMS + 1; f < PF_COUNT; f++) {
			if (d->xpath[f] == NULL)
				continue;
			bad |= compare_one(doc, ns, d->n_ns, d->xpath[f], items[i],
			    walked);
			(*n_cmp)++;
		}
	profile_xpath_run_done(&r);
	profile_xpath_free(x);
	for (k = 0; k < d->n_ns; k++)
		xmlFreeNs(ns[k]);
	err_clear(&e);
	return bad;
}

static void
test_walk_equals_engine(void)
{
	char *files[MAX_FILES], path[PATH_MAX];
	struct profile_def d;
	struct errs e;
	size_t n, i, n_docs = 0, n_cmp = 0, walked = 0, bad = 0;
	xmlDocPtr doc;

	if (!have_corpus) {
		printf("\n  SKIP: no corpus at CORPUS_DIR");
		return;
	}
	unit_cds_def(&d, cds_schema);
	n = unit_corpus_list(cds_dir, "", files, MAX_FILES);
	CU_ASSERT(n > 600);
	for (i = 0; i < n; i++) {
		err_init(&e);
		if ((doc = unit_parse_file(files[i], &e)) != NULL) {
			n_docs++;
			if (compare_doc(doc, &d, &n_cmp, &walked) != 0 ||
			    compare_items(doc, &d, &n_cmp, &walked) != 0) {
				printf("\n  in %s", files[i]);
				bad++;
			}
			xmlFreeDoc(doc);
		}
		err_clear(&e);
	}
	unit_list_free(files, n);
	snprintf(path, sizeof(path), "tests/data/decl-valid-20items.xml");
	err_init(&e);
	if ((doc = unit_parse_file(path, &e)) != NULL) {
		unit_wco_def(&d, "");
		n_docs++;
		if (compare_doc(doc, &d, &n_cmp, &walked) != 0 ||
		    compare_items(doc, &d, &n_cmp, &walked) != 0)
			bad++;
		xmlFreeDoc(doc);
	}
	err_clear(&e);
	printf("\n  %zu documents, %zu comparisons (%zu by tree walk), "
	    "%zu documents differ ", n_docs, n_cmp, walked, bad);
	CU_ASSERT(n_docs > 600);
	CU_ASSERT(walked > n_cmp / 2);
	CU_ASSERT_EQUAL(bad, 0);
}

/* ---------- timings ---------- */

/* A 20-item CDS declaration: a one-item dec-valid document whose item is
 * cloned (SequenceNumeric renumbered) until the copy validates. */
static char *
cds_twenty(const struct profile_set *ps, const struct profile_def *d, int *len)
{
	const struct profile *p;
	char *files[MAX_FILES], num[16];
	xmlNodePtr items[2], last, copy, c;
	struct profile_xpath *x;
	struct profile_xpath_run r;
	xmlNsPtr ns[2];
	xmlChar *out = NULL;
	struct errs e;
	size_t n, i;
	xmlDocPtr doc;
	int k;

	ns[0] = xmlNewNs(NULL, BAD_CAST NS_MD, BAD_CAST "md");
	ns[1] = xmlNewNs(NULL, BAD_CAST NS_DEC, BAD_CAST "dec");
	err_init(&e);
	x = profile_xpath_new(d->xpath[PF_ITEMS], ns, 2, 0, "items", &e);
	n = unit_corpus_list(cds_dir, "dec-valid", files, MAX_FILES);
	for (i = 0; i < n && out == NULL; i++) {
		if ((doc = unit_parse_file(files[i], &e)) == NULL)
			continue;
		profile_xpath_run_init(&r, doc, ns, 2);
		if (profile_xpath_nodes(&r, x, NULL, items, 2, &e) == 1) {
			for (k = 2, last = items[0]; k <= 20; k++) {
				copy = xmlDocCopyNode(items[0], doc, 1);
				for (c = copy->children; c != NULL; c = c->next)
					if (c->type == XML_ELEMENT_NODE &&
					    xmlStrEqual(c->name,
					    BAD_CAST "SequenceNumeric")) {
						snprintf(num, sizeof(num), "%d", k);
						xmlNodeSetContent(c, BAD_CAST num);
					}
				last = xmlAddNextSibling(last, copy);
			}
			struct decl dc;

			decl_init(&dc);
			p = profile_match(ps, doc, &e);
			if (p != NULL && profile_validate(p, doc, &e) == 0 &&
			    profile_extract(p, doc, &dc, &e) == 0 &&
			    strcmp(dc.function, "9") == 0 && dc.declarant[0])
				xmlDocDumpMemory(doc, &out, len);
			decl_clear(&dc);
			err_clear(&e);
		}
		profile_xpath_run_done(&r);
		xmlFreeDoc(doc);
	}
	unit_list_free(files, n);
	profile_xpath_free(x);
	xmlFreeNs(ns[0]);
	xmlFreeNs(ns[1]);
	err_clear(&e);
	return (char *)out;
}

/* The extraction done by the XPath engine alone, for comparison. */
static double
engine_extract_us(xmlDocPtr doc, const struct profile_def *d, int runs)
{
	struct profile_xpath *x[PF_COUNT] = { NULL };
	static xmlNodePtr items[DECL_ITEMS_MAX];
	struct profile_xpath_run r;
	xmlNsPtr ns[PROFILE_NS_MAX];
	xmlNodePtr node;
	char buf[256];
	struct errs e;
	double t0;
	long n, i;
	size_t k;
	int f, run;

	err_init(&e);
	for (k = 0; k < d->n_ns; k++)
		ns[k] = xmlNewNs(NULL, BAD_CAST d->ns_uri[k],
		    BAD_CAST d->ns_prefix[k]);
	for (f = 0; f < PF_COUNT; f++)
		if (d->xpath[f] != NULL)
			x[f] = profile_xpath_new(d->xpath[f], ns, d->n_ns, 1, "x",
			    &e);
	t0 = now_us();
	for (run = 0; run < runs; run++) {
		profile_xpath_run_init(&r, doc, ns, d->n_ns);
		for (f = 0; f < PF_ITEMS; f++)
			if (x[f] != NULL)
				profile_xpath_string(&r, x[f], NULL, buf,
				    sizeof(buf), &node, &e);
		n = profile_xpath_nodes(&r, x[PF_ITEMS], NULL, items,
		    DECL_ITEMS_MAX, &e);
		for (i = 0; i < n && i < DECL_ITEMS_MAX; i++)
			for (f = PF_ITEMS + 1; f < PF_COUNT; f++)
				if (x[f] != NULL)
					profile_xpath_string(&r, x[f], items[i],
					    buf, sizeof(buf), &node, &e);
		profile_xpath_run_done(&r);
	}
	t0 = (now_us() - t0) / runs;
	for (f = 0; f < PF_COUNT; f++)
		profile_xpath_free(x[f]);
	for (k = 0; k < d->n_ns; k++)
		xmlFreeNs(ns[k]);
	CU_ASSERT_EQUAL(e.n, 0);
	err_clear(&e);
	return t0;
}

/* Microseconds per call of what, as the best of 10 batches of 20: the
 * machine is shared, the best batch is closest to the CPU cost. */
enum timed { T_PARSE, T_VALIDATE, T_EXTRACT };

static double
time_op(enum timed what, const struct profile *p, const char *buf, size_t len,
    xmlDocPtr doc, struct decl *dc, struct errs *e, int *ok)
{
	double best = 1e12, t0, t;
	xmlDocPtr d;
	int b, i;

	for (b = 0; b < 10; b++) {
		t0 = now_us();
		for (i = 0; i < 20; i++) {
			switch (what) {
			case T_PARSE:
				d = xmlp_parse(buf, len, &lim, e);
				*ok &= d != NULL;
				xmlFreeDoc(d);
				break;
			case T_VALIDATE:
				*ok &= profile_validate(p, doc, e) == 0;
				break;
			case T_EXTRACT:
				*ok &= profile_extract(p, doc, dc, e) == 0;
				break;
			}
		}
		t = (now_us() - t0) / 20;
		if (t < best)
			best = t;
	}
	return best;
}

static void
time_doc(const char *label, const struct profile *p,
    const struct profile_def *d, const char *buf, size_t len)
{
	double parse, val, ext, eng;
	struct decl dc;
	struct errs e;
	xmlDocPtr doc;
	int ok = 1;

	err_init(&e);
	decl_init(&dc);
	doc = xmlp_parse(buf, len, &lim, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	parse = time_op(T_PARSE, p, buf, len, doc, &dc, &e, &ok);
	val = time_op(T_VALIDATE, p, buf, len, doc, &dc, &e, &ok);
	ext = time_op(T_EXTRACT, p, buf, len, doc, &dc, &e, &ok);
	CU_ASSERT_TRUE(ok);
	CU_ASSERT_EQUAL(dc.n_items, 20);
	CU_ASSERT_EQUAL(e.n, 0);
	eng = engine_extract_us(doc, d, 200);
	printf("\n  %s (%zu bytes, %zu items): parse %.0f us, validate %.0f us, "
	    "extract %.1f us (XPath engine alone: %.1f us) ", label, len,
	    dc.n_items, parse, val, ext, eng);
	decl_clear(&dc);
	xmlFreeDoc(doc);
	err_clear(&e);
}

static void
test_timing(void)
{
	const char *xsd = "xsd/declaration.xsd";
	const char *data = "tests/data/decl-valid-20items.xml";
	struct profile_set *ps;
	const struct profile *p;
	struct profile_def d;
	struct errs e;
	xmlDocPtr doc;
	char *buf;
	size_t len = 0;
	int n = 0;

	err_init(&e);
	if (have_corpus) {
		ps = unit_cds_set(cds_schema);
		unit_cds_def(&d, cds_schema);
		buf = cds_twenty(ps, &d, &n);
		CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
		doc = xmlp_parse(buf, (size_t)n, &lim, &e);
		p = doc != NULL ? profile_match(ps, doc, &e) : NULL;
		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		time_doc("CDS, 20 items", p, &d, buf, (size_t)n);
		xmlFreeDoc(doc);
		xmlFree(buf);
		profile_set_free(ps);
	} else {
		printf("\n  SKIP (CDS): no corpus at CORPUS_DIR");
	}
	if (access(xsd, R_OK) != 0 || access(data, R_OK) != 0) {
		printf("\n  SKIP (own format): %s or %s not there yet", xsd, data);
		err_clear(&e);
		return;
	}
	ps = profile_set_new();
	unit_wco_def(&d, xsd);
	CU_ASSERT_EQUAL_FATAL(profile_set_add(ps, &d, &e), 0);
	buf = unit_slurp(data, &len);
	doc = xmlp_parse(buf, len, &lim, &e);
	p = doc != NULL ? profile_match(ps, doc, &e) : NULL;
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	time_doc("own format, 20 items", p, &d, buf, len);
	xmlFreeDoc(doc);
	free(buf);
	profile_set_free(ps);
	err_clear(&e);
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
		{ "walkable forms", test_walk_forms },
		{ "walk == engine on the corpus", test_walk_equals_engine },
		{ "timings per 20-item document", test_timing },
	};

	fails = UNIT_SUITE("profile_xpath", setup, NULL, tests);
	xmlCleanupParser();
	return fails != 0;
}
