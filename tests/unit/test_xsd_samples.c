/* test_xsd_samples: the declaration schema accepts every valid sample and
 * every gendecl output, and rejects every invalid sample at the node that
 * tests/data/INDEX.tsv names.  Run from the repository root, after `make`
 * (it runs build/gendecl; env GENDECL overrides the path).
 *
 * INDEX.tsv: one line per sample, tab-separated, no header or comments:
 *   file  expected-HTTP-status  expected-error-code ("-" = valid)
 *   expected-pointer (xmlp_node_path of the node, as the daemon reports it, "-" = none)  why */
#include <CUnit/Basic.h>

#include "xmlp.h"
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlschemas.h>

#include "unit_util.h"

#define DECL_XSD "xsd/declaration.xsd"
#define DATA_DIR "tests/data"
#define DECL_NS "urn:declared:declaration:1"
#define FILE_CAP (16u << 20)
#define SEEDS_PER_SIZE 50

static xmlSchemaPtr schema;
static char gendecl[256];

/* ---- helpers ---- */

struct verdict {
	int n;             /* schema errors */
	char first[256];   /* xmlp_node_path of the first error's node */
	char msg[256];
};

static void
on_error(void *ctx, xmlErrorPtr err)
{
	struct verdict *v = ctx;

	if (v->n++ > 0)
		return;
	snprintf(v->msg, sizeof(v->msg), "line %d: %s", err->line,
	    err->message ? err->message : "");
	if (err->node != NULL)
		xmlp_node_path(err->node, v->first, sizeof(v->first));
}

/* Validation result (0 = valid) and the first error in *v. */
static int
validate(xmlDocPtr doc, struct verdict *v)
{
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
	int rc;

	memset(v, 0, sizeof(*v));
	if (vc == NULL)
		return -1;
	xmlSchemaSetValidStructuredErrors(vc, on_error, v);
	rc = xmlSchemaValidateDoc(vc, doc);
	xmlSchemaFreeValidCtxt(vc);
	return rc;
}

static void
quiet(void *ctx, xmlErrorPtr err)
{
	(void)ctx;
	(void)err;
}

static xmlDocPtr
parse(const char *buf, size_t len, const char *name)
{
	if (len > INT32_MAX)
		return NULL;
	return xmlReadMemory(buf, (int)len, name, NULL, XML_PARSE_NONET);
}

/* Reads a whole stream (capped); returns a malloc'd buffer or NULL. */
static char *
slurp(FILE *f, size_t *len)
{
	size_t cap = 1 << 16, n = 0, k;
	char *buf = malloc(cap), *nb;

	while (buf != NULL && (k = fread(buf + n, 1, cap - n, f)) > 0) {
		n += k;
		if (n == cap) {
			if (cap >= FILE_CAP || (nb = realloc(buf, cap * 2)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
	}
	if (buf != NULL && ferror(f)) {
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;

	if (f == NULL)
		return NULL;
	buf = slurp(f, len);
	fclose(f);
	return buf;
}

/* Output of `gendecl ARGS`, or NULL. */
static char *
run_gendecl(const char *args, size_t *len)
{
	char cmd[512];
	FILE *p;
	char *buf;

	snprintf(cmd, sizeof(cmd), "%s %s", gendecl, args);
	if ((p = popen(cmd, "r")) == NULL)
		return NULL;
	buf = slurp(p, len);
	if (pclose(p) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* ---- suite ---- */

static int
suite_init(void)
{
	xmlSchemaParserCtxtPtr pc;
	const char *env = getenv("GENDECL");

	xmlInitParser();
	if ((pc = xmlSchemaNewParserCtxt(DECL_XSD)) == NULL)
		return -1;
	schema = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	if (schema == NULL) {
		fprintf(stderr, "test_xsd_samples: cannot compile %s (run from the repo root)\n",
		    DECL_XSD);
		return -1;
	}
	if (env != NULL)
		snprintf(gendecl, sizeof(gendecl), "%s", env);
	else if (access("build/gendecl", X_OK) == 0)
		snprintf(gendecl, sizeof(gendecl), "build/gendecl");
	else
		snprintf(gendecl, sizeof(gendecl), "build-san/gendecl");
	return 0;
}

static int
suite_clean(void)
{
	xmlSchemaFree(schema);
	xmlCleanupParser();
	return 0;
}

/* ---- INDEX.tsv samples ---- */

#define INDEX_MAX 200

struct row {
	char file[128], status[8], code[40], pointer[256], why[256];
};

static int
split_row(char *line, struct row *r)
{
	char *f[5], *save = NULL, *t;
	int n = 0;

	line[strcspn(line, "\r\n")] = '\0';
	for (t = strtok_r(line, "\t", &save); t != NULL && n < 5;
	    t = strtok_r(NULL, "\t", &save))
		f[n++] = t;
	if (n != 5 || t != NULL)
		return -1;
	snprintf(r->file, sizeof(r->file), "%s", f[0]);
	snprintf(r->status, sizeof(r->status), "%s", f[1]);
	snprintf(r->code, sizeof(r->code), "%s", f[2]);
	snprintf(r->pointer, sizeof(r->pointer), "%s", f[3]);
	snprintf(r->why, sizeof(r->why), "%s", f[4]);
	return 0;
}

static int
load_index(struct row *rows, int cap)
{
	FILE *f = fopen(DATA_DIR "/INDEX.tsv", "r");
	char line[1024];
	int n = 0, lineno = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL && n < cap) {
		lineno++;
		if (split_row(line, &rows[n]) != 0) {
			fprintf(stderr, "\n  INDEX.tsv:%d: not 5 tab-separated fields\n", lineno);
			CU_FAIL("INDEX.tsv row malformed");
			continue;
		}
		n++;
	}
	fclose(f);
	return n;
}

static void
check_row(const struct row *r)
{
	char path[256];
	struct verdict v;
	xmlDocPtr doc;
	size_t len = 0;
	char *buf;
	int rc;

	snprintf(path, sizeof(path), DATA_DIR "/%s", r->file);
	buf = read_file(path, &len);
	if (buf == NULL) {
		fprintf(stderr, "\n  %s: cannot read\n", path);
		CU_FAIL("sample missing");
		return;
	}
	doc = parse(buf, len, r->file);
	if (strcmp(r->code, "-") == 0) {
		CU_ASSERT_STRING_EQUAL(r->status, "202");
		CU_ASSERT_PTR_NOT_NULL(doc);
		if (doc != NULL && (rc = validate(doc, &v)) != 0) {
			fprintf(stderr, "\n  %s: should be valid: %s\n", r->file, v.msg);
			CU_FAIL("valid sample rejected");
		}
	} else if (strcmp(r->code, "XML_MALFORMED") == 0) {
		CU_ASSERT_STRING_EQUAL(r->status, "400");
		CU_ASSERT_PTR_NULL(doc);
	} else if (doc == NULL) {
		fprintf(stderr, "\n  %s: does not parse\n", r->file);
		CU_FAIL("sample should parse");
	} else {
		CU_ASSERT_STRING_EQUAL(r->status, "400");
		rc = validate(doc, &v);
		CU_ASSERT_NOT_EQUAL(rc, 0);
		if (strcmp(r->code, "XML_DOCTYPE") == 0) {
			CU_ASSERT_PTR_NOT_NULL(doc->intSubset);
		} else if (strcmp(r->code, "PROFILE_UNKNOWN") == 0) {
			xmlNodePtr root = xmlDocGetRootElement(doc);

			CU_ASSERT(root != NULL && (root->ns == NULL ||
			    strcmp((const char *)root->ns->href, DECL_NS) != 0));
			CU_ASSERT_STRING_EQUAL(v.first, r->pointer);
		} else if (strcmp(r->code, "XSD_INVALID") == 0) {
			if (strcmp(v.first, r->pointer) != 0)
				fprintf(stderr, "\n  %s: first error at '%s', INDEX says '%s' (%s)\n",
				    r->file, v.first, r->pointer, v.msg);
			CU_ASSERT_STRING_EQUAL(v.first, r->pointer);
		} else {
			fprintf(stderr, "\n  %s: unknown code %s\n", r->file, r->code);
			CU_FAIL("unknown error code in INDEX.tsv");
		}
	}
	xmlFreeDoc(doc);
	free(buf);
}

static void
test_index(void)
{
	static struct row rows[INDEX_MAX];
	int n, i, valid = 0, invalid = 0;
	glob_t g;
	size_t k;

	n = load_index(rows, INDEX_MAX);
	CU_ASSERT_FATAL(n > 0);
	for (i = 0; i < n; i++) {
		check_row(&rows[i]);
		if (strcmp(rows[i].code, "-") == 0)
			valid++;
		else
			invalid++;
	}
	CU_ASSERT(valid >= 2);
	CU_ASSERT(invalid >= 11);
	/* every sample in the directory is described in INDEX.tsv */
	if (glob(DATA_DIR "/*.xml", 0, NULL, &g) == 0) {
		for (k = 0; k < g.gl_pathc; k++) {
			const char *base = g.gl_pathv[k] + strlen(DATA_DIR) + 1;
			int found = 0;

			for (i = 0; i < n && !found; i++)
				found = strcmp(rows[i].file, base) == 0;
			if (!found)
				fprintf(stderr, "\n  %s is not in INDEX.tsv\n", base);
			CU_ASSERT(found);
		}
		globfree(&g);
	}
}

static const char *
child_text(xmlNodePtr n, const char *name, xmlNodePtr *found)
{
	xmlNodePtr c;

	for (c = n != NULL ? n->children : NULL; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0) {
			if (found != NULL)
				*found = c;
			return c->children != NULL && c->children->type == XML_TEXT_NODE ?
			    (const char *)c->children->content : "";
		}
	}
	if (found != NULL)
		*found = NULL;
	return "";
}

/* ---- code lists: the schema accepts exactly data/countries.txt and
 * data/currencies.txt (both come from scripts/gen-codelists.sh) ---- */

#define CODES_MAX 400

static int
load_codes(const char *path, char (*codes)[4], int cap)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int n = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL && n < cap) {
		if (line[0] == '#')
			continue; /* the header: one comment line of < 1024 bytes */
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (strlen(line) > 3) {
			fprintf(stderr, "\n  %s: odd line '%s'\n", path, line);
			CU_FAIL("code list line too long");
			continue;
		}
		memcpy(codes[n++], line, strlen(line) + 1);
	}
	fclose(f);
	return n;
}

static int
listed(char (*codes)[4], int n, const char *c)
{
	int i;

	for (i = 0; i < n; i++)
		if (strcmp(codes[i], c) == 0)
			return 1;
	return 0;
}

/* Tries every code of len letters A-Z on the node (as its text, or as the
 * attribute attr); returns how many verdicts disagree with the list. */
static int
sweep(xmlDocPtr doc, xmlNodePtr node, const char *attr, int len,
    char (*codes)[4], int n)
{
	char c[4] = { 0 };
	struct verdict v;
	int i, total = 1, wrong = 0, accepted = 0;
	xmlChar *orig = attr != NULL ? xmlGetProp(node, BAD_CAST attr) :
	    xmlNodeGetContent(node);

	for (i = 0; i < len; i++)
		total *= 26;
	for (i = 0; i < total; i++) {
		int k = i, j, ok;

		for (j = len - 1; j >= 0; j--, k /= 26)
			c[j] = (char)('A' + k % 26);
		if (attr != NULL)
			xmlSetProp(node, BAD_CAST attr, BAD_CAST c);
		else
			xmlNodeSetContent(node, BAD_CAST c);
		ok = validate(doc, &v) == 0;
		accepted += ok;
		if (ok != listed(codes, n, c)) {
			if (wrong++ < 5)
				fprintf(stderr, "\n  code %s: schema %s it, list %s\n", c,
				    ok ? "accepts" : "rejects", ok ? "lacks it" : "has it");
		}
	}
	/* put the sample back as it was for the next sweep */
	if (attr != NULL)
		xmlSetProp(node, BAD_CAST attr, orig);
	else
		xmlNodeSetContent(node, orig);
	xmlFree(orig);
	return wrong + (accepted != n);
}

static void
test_codelists(void)
{
	static char countries[CODES_MAX][4], currencies[CODES_MAX][4];
	int nc, nu;
	size_t len = 0;
	char *buf = read_file(DATA_DIR "/decl-valid-1item.xml", &len);
	xmlDocPtr doc = buf != NULL ? parse(buf, len, "1item.xml") : NULL;
	xmlNodePtr root, gs, it, origin, cc, inv;

	nc = load_codes("data/countries.txt", countries, CODES_MAX);
	nu = load_codes("data/currencies.txt", currencies, CODES_MAX);
	CU_ASSERT_FATAL(doc != NULL);
	CU_ASSERT(nc >= 200 && nc < CODES_MAX);
	CU_ASSERT(nu >= 100 && nu < CODES_MAX);
	root = xmlDocGetRootElement(doc);
	child_text(root, "InvoiceAmount", &inv);
	child_text(root, "GoodsShipment", &gs);
	child_text(gs, "GovernmentAgencyGoodsItem", &it);
	child_text(it, "Origin", &origin);
	child_text(origin, "CountryCode", &cc);
	if (cc != NULL && inv != NULL && nc > 0 && nu > 0) {
		CU_ASSERT_EQUAL(sweep(doc, cc, NULL, 2, countries, nc), 0);
		CU_ASSERT_EQUAL(sweep(doc, inv, "currencyID", 3, currencies, nu), 0);
	} else {
		CU_FAIL("sample lacks Origin/CountryCode or InvoiceAmount");
	}
	xmlFreeDoc(doc);
	free(buf);
}

/* ---- gendecl outputs ---- */

/* Fixed-point decimal text to an integer in units of 10^-scale; -1 if bad. */
static long long
fixed(const char *s, int scale)
{
	long long v = 0;
	int frac = -1;

	for (; *s != '\0'; s++) {
		if (*s == '.' && frac < 0) {
			frac = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || frac >= scale || v > 1000000000000000LL)
			return -1;
		v = v * 10 + (*s - '0');
		if (frac >= 0)
			frac++;
	}
	for (frac = frac < 0 ? 0 : frac; frac < scale; frac++)
		v *= 10;
	return v;
}

/* The generator's promises: N items numbered 1..N, GoodsItemQuantity = N,
 * values summing to InvoiceAmount in one currency, 0 < net <= gross. */
static int
check_invariants(xmlDocPtr doc, int items)
{
	xmlNodePtr root = xmlDocGetRootElement(doc), gs, it, inv, amt, com, gm;
	long long sum = 0, gross, net, total;
	int seq = 0, bad = 0;
	xmlChar *cur = NULL, *icur;

	child_text(root, "GoodsShipment", &gs);
	child_text(root, "InvoiceAmount", &inv);
	if (gs == NULL || inv == NULL)
		return -1;
	total = fixed(child_text(root, "InvoiceAmount", NULL), 2);
	cur = xmlGetProp(inv, BAD_CAST "currencyID");
	if (atoi(child_text(root, "GoodsItemQuantity", NULL)) != items)
		bad++;
	for (it = gs->children; it != NULL; it = it->next) {
		if (it->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)it->name, "GovernmentAgencyGoodsItem") != 0)
			continue;
		if (atoi(child_text(it, "SequenceNumeric", NULL)) != ++seq)
			bad++;
		sum += fixed(child_text(it, "CustomsValueAmount", &amt), 2);
		icur = amt != NULL ? xmlGetProp(amt, BAD_CAST "currencyID") : NULL;
		if (icur == NULL || cur == NULL || !xmlStrEqual(icur, cur))
			bad++;
		xmlFree(icur);
		child_text(it, "Commodity", &com);
		child_text(com, "GoodsMeasure", &gm);
		gross = fixed(child_text(gm, "GrossMassMeasure", NULL), 3);
		net = fixed(child_text(gm, "NetNetWeightMeasure", NULL), 3);
		if (net <= 0 || gross <= 0 || net > gross)
			bad++;
	}
	xmlFree(cur);
	if (seq != items || sum != total)
		bad++;
	return bad;
}

static void
test_gendecl(void)
{
	static const int sizes[] = { 1, 5, 20, 999 };
	char args[128];
	struct verdict v;
	size_t s, len = 0;
	int seed, fails = 0, ran = 0;

	if (access(gendecl, X_OK) != 0) {
		fprintf(stderr, "\n  %s not found: run make first (or set GENDECL)\n", gendecl);
		CU_FAIL_FATAL("gendecl missing");
	}
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		for (seed = 1; seed <= SEEDS_PER_SIZE; seed++) {
			xmlDocPtr doc;
			char *buf;

			snprintf(args, sizeof(args), "--items %d --seed %d", sizes[s],
			    seed * 7919 + sizes[s]);
			buf = run_gendecl(args, &len);
			if (buf == NULL) {
				fprintf(stderr, "\n  gendecl %s failed\n", args);
				fails++;
				continue;
			}
			ran++;
			doc = parse(buf, len, "gendecl.xml");
			if (doc == NULL || validate(doc, &v) != 0 ||
			    check_invariants(doc, sizes[s]) != 0) {
				fprintf(stderr, "\n  gendecl %s: invalid: %s\n", args,
				    doc == NULL ? "does not parse" : v.msg);
				fails++;
			}
			xmlFreeDoc(doc);
			free(buf);
		}
	}
	CU_ASSERT_EQUAL(ran, SEEDS_PER_SIZE * 4);
	CU_ASSERT_EQUAL(fails, 0);
}

static void
test_gendecl_determinism(void)
{
	char *a, *b, *c, *f2, dir[] = "/tmp/test_xsd_samplesXXXXXX", path[128], cmd[256];
	size_t la = 0, lb = 0, lc = 0, l2 = 0;
	int i;

	if (access(gendecl, X_OK) != 0)
		CU_FAIL_FATAL("gendecl missing");
	a = run_gendecl("--items 20 --seed 2", &la);
	b = run_gendecl("--items 20 --seed 2", &lb);
	c = run_gendecl("--items 20 --seed 3", &lc);
	CU_ASSERT_FATAL(a != NULL && b != NULL && c != NULL);
	CU_ASSERT(la == lb && memcmp(a, b, la) == 0);
	CU_ASSERT(la != lc || memcmp(a, c, la) != 0);
	/* a 20-item document is in the size range the design budgets for */
	CU_ASSERT(la >= 15000 && la <= 21000);
	/* --count: file i is seed S+i-1 with LRN-00000i (as --seed 2 by default) */
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(cmd, sizeof(cmd), "--items 20 --seed 1 --count 3 --out %s", dir);
	free(run_gendecl(cmd, &l2));
	snprintf(path, sizeof(path), "%s/decl-000002.xml", dir);
	f2 = read_file(path, &l2);
	CU_ASSERT(f2 != NULL && l2 == la && memcmp(f2, a, la) == 0);
	for (i = 1; i <= 3; i++) {
		snprintf(path, sizeof(path), "%s/decl-%06d.xml", dir, i);
		CU_ASSERT_EQUAL(unlink(path), 0);
	}
	rmdir(dir);
	free(f2);
	free(a);
	free(b);
	free(c);
}

int
main(void)
{
	int failed;

	/* parse errors of the malformed samples are expected: keep stderr clean */
	xmlSetStructuredErrorFunc(NULL, quiet);
	static const struct unit_test tests[] = {
		{ "INDEX.tsv samples", test_index },
		{ "code lists", test_codelists },
		{ "gendecl outputs validate", test_gendecl },
		{ "gendecl determinism", test_gendecl_determinism },
	};

	failed = UNIT_SUITE("xsd_samples", suite_init, suite_clean, tests);
	return failed != 0;
}
