/* Unit tests of daemon/config.c: the example config loads, defaults, every
 * kind of error with its line and pointer, several errors at once, sizes,
 * key file permissions, relative paths, reload checks, and the example's
 * profile XPaths against real documents.  Run from the repository root. */
#include "../../daemon/config.c"
#include "../../daemon/config_profile.c"

#include <CUnit/Basic.h>
#include <dirent.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "ini.h"

#include "unit_util.h"

#define T_LINE_MAX 4096
#define T_DATA "tests/data/conf"
#define T_EXAMPLE "systemd/declared.conf"

static char tdir[PATH_MAX]; /* private temporary directory */

/* snprintf into an array; a truncated result ends the test */
#define T_FMT(buf, ...) \
	CU_ASSERT_FATAL(snprintf(buf, sizeof(buf), __VA_ARGS__) < (int)sizeof(buf))

/* ---- helpers ---- */

static void
t_dump(const struct errs *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		fprintf(stderr, "    [%s] line %d %s: %s\n", e->v[i].code,
		    e->v[i].line, e->v[i].pointer, e->v[i].msg);
}

static int
t_has(const struct errs *e, const char *code, int line, const char *ptr)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->v[i].code, code) == 0 && e->v[i].line == line &&
		    (ptr == NULL || strcmp(e->v[i].pointer, ptr) == 0))
			return 1;
	fprintf(stderr, "\n  missing error %s line %d %s; got:\n", code, line,
	    ptr ? ptr : "");
	t_dump(e);
	return 0;
}

static int
t_has_msg(const struct errs *e, const char *ptr, const char *needle)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->v[i].pointer, ptr) == 0 &&
		    strstr(e->v[i].msg, needle) != NULL)
			return 1;
	fprintf(stderr, "\n  no error on %s saying \"%s\"; got:\n", ptr, needle);
	t_dump(e);
	return 0;
}

static void
t_path(char *out, size_t cap, const char *rel)
{
	int n = snprintf(out, cap, "%s/%s", tdir, rel);

	CU_ASSERT_FATAL(n > 0 && (size_t)n < cap);
}

static void
t_write(const char *rel, const char *text, mode_t mode)
{
	char p[PATH_MAX];
	FILE *f;

	t_path(p, sizeof(p), rel);
	f = fopen(p, "w");
	CU_ASSERT_FATAL(f != NULL);
	fputs(text, f);
	fclose(f);
	CU_ASSERT_FATAL(chmod(p, mode) == 0);
}

static void
t_mkdir(const char *rel)
{
	char p[PATH_MAX];

	t_path(p, sizeof(p), rel);
	CU_ASSERT_FATAL(mkdir(p, 0755) == 0 || errno == EEXIST);
}

/* Placeholder certificates, keys, CA bundles and an XSD in tdir/sub. */
static void
t_pki(const char *sub)
{
	static const char *files[] = { "server.crt", "ent.pem", "off.pem",
		"ack.crt", "signers.pem", "decl.xsd", "clients.crl" };
	char rel[PATH_MAX];
	size_t i;

	t_mkdir(sub);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		T_FMT(rel, "%s/%s", sub, files[i]);
		t_write(rel, "placeholder\n", 0644);
	}
	T_FMT(rel, "%s/server.key", sub);
	t_write(rel, "placeholder\n", 0600);
	T_FMT(rel, "%s/ack.key", sub);
	t_write(rel, "placeholder\n", 0400);
}

/* The required keys, relative to a directory made by t_pki. */
static const char MINIMAL[] =
    "[tls]\n"                              /* 1 */
    "cert = server.crt\n"                  /* 2 */
    "key = server.key\n"                   /* 3 */
    "enterprise_ca = ent.pem\n"            /* 4 */
    "[signing]\n"                          /* 5 */
    "cert = ack.crt\n"                     /* 6 */
    "key = ack.key\n"                      /* 7 */
    "trusted_ca = signers.pem\n"           /* 8 */
    "[database]\n"                         /* 9 */
    "conninfo = dbname=declared\n"         /* 10 */
    "[profile.p]\n"                        /* 11 */
    "root = {urn:x}Doc\n"                  /* 12 */
    "schema = decl.xsd\n"                  /* 13 */
    "ns.x = urn:x\n"                       /* 14 */
    "xpath.lrn = /x:Doc/x:LRN\n"           /* 15 */
    "xpath.declarant = /x:Doc/x:Party\n";  /* 16 */

/* Writes tdir/sub/declared.conf = a + b and loads it. */
static struct config *
t_load2(const char *sub, const char *a, const char *b, struct errs *e)
{
	char rel[PATH_MAX], p[PATH_MAX], *text;
	struct config *c;

	text = malloc(strlen(a) + strlen(b) + 1);
	CU_ASSERT_FATAL(text != NULL);
	strcpy(text, a);
	strcat(text, b);
	T_FMT(rel, "%s/declared.conf", sub);
	t_write(rel, text, 0644);
	free(text);
	t_path(p, sizeof(p), rel);
	err_clear(e);
	c = config_load(p, e);
	if (c == NULL && e->n == 0)
		fprintf(stderr, "\n  config_load failed without errors\n");
	return c;
}

static int
t_rm_tree(const char *path, int depth)
{
	struct stat st;
	struct dirent *de;
	char sub[PATH_MAX];
	DIR *d;

	if (depth > 8 || lstat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name) <
		    (int)sizeof(sub))
			t_rm_tree(sub, depth + 1);
	}
	closedir(d);
	return rmdir(path);
}

static int
suite_init(void)
{
	const char *tmp = getenv("TMPDIR");

	unsetenv("DECLARED_ALLOW_LOOSE_KEYS");
	if (snprintf(tdir, sizeof(tdir), "%s/test_config.XXXXXX",
	    tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp") >= (int)sizeof(tdir))
		return -1;
	return mkdtemp(tdir) != NULL ? 0 : -1;
}

static int
suite_clean(void)
{
	t_rm_tree(tdir, 0);
	return 0;
}

/* ---- the example config ---- */

static const char *t_path_keys[] = { "cert", "key", "enterprise_ca",
	"officer_ca", "crl", "trusted_ca", "schema", "sql_dir", "web_root",
	"data_dir" };

/* Copies the example into tdir/ex, pointing every non-empty path at a
 * temporary file named after its section and key; with uncomment, the
 * "#key = value" and "#[section]" example lines are enabled too. */
static void
t_example(int uncomment, const char *out_rel)
{
	char line[T_LINE_MAX], section[128] = "", rel[PATH_MAX], name[256];
	FILE *in, *out;
	char p[PATH_MAX];
	size_t i;

	t_mkdir("ex");
	in = fopen(T_EXAMPLE, "r");
	CU_ASSERT_FATAL(in != NULL);
	t_path(p, sizeof(p), out_rel);
	out = fopen(p, "w");
	CU_ASSERT_FATAL(out != NULL);
	while (fgets(line, sizeof(line), in) != NULL) {
		char *l = line, *eq;

		if (uncomment && l[0] == '#' && l[1] != ' ' && l[1] != '#' &&
		    l[1] != '\n' && l[1] != '\0')
			l++;
		if (l[0] == '[') {
			T_FMT(section, "%.*s",
			    (int)strcspn(l + 1, "]"), l + 1);
		} else if (l[0] != '#' && (eq = strstr(l, " = ")) != NULL) {
			for (i = 0; i < sizeof(t_path_keys) / sizeof(t_path_keys[0]); i++)
				if (strlen(t_path_keys[i]) == (size_t)(eq - l) &&
				    strncmp(l, t_path_keys[i], (size_t)(eq - l)) == 0)
					break;
			if (i < sizeof(t_path_keys) / sizeof(t_path_keys[0]) &&
			    strncmp(eq + 3, "\"\"", 2) != 0) {
				T_FMT(name, "%s_%s", section,
				    t_path_keys[i]);
				T_FMT(rel, "ex/%s", name);
				if (strcmp(t_path_keys[i], "sql_dir") == 0 ||
				    strcmp(t_path_keys[i], "data_dir") == 0 ||
				    strcmp(t_path_keys[i], "web_root") == 0)
					t_mkdir(rel);
				else
					t_write(rel, "placeholder\n",
					    strcmp(t_path_keys[i], "key") == 0 ? 0600 : 0644);
				fprintf(out, "%s = %s\n", t_path_keys[i], name);
				continue;
			}
		}
		fputs(l, out);
	}
	fclose(in);
	fclose(out);
}

static const struct profile_def *
t_profile(const struct config *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_profiles; i++)
		if (strcmp(c->profiles[i].name, name) == 0)
			return &c->profiles[i];
	return NULL;
}

static void
test_example_loads(void)
{
	struct errs e, e2;
	struct config *c, *m;
	const struct profile_def *p;
	char want[PATH_MAX], p2[PATH_MAX];
	int f;

	err_init(&e);
	err_init(&e2);
	t_example(0, "ex/declared.conf");
	t_path(p2, sizeof(p2), "ex/declared.conf");
	c = config_load(p2, &e);
	if (c == NULL)
		t_dump(&e);
	CU_ASSERT_FATAL(c != NULL);
	/* the example shows the built-in defaults: compare with a minimal file */
	t_pki("exmin");
	m = t_load2("exmin", MINIMAL, "", &e2);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT_STRING_EQUAL(c->listen, m->listen);
	CU_ASSERT_STRING_EQUAL(c->admin_listen, m->admin_listen);
	CU_ASSERT_EQUAL(c->workers, m->workers);
	CU_ASSERT_EQUAL(c->max_body, m->max_body);
	CU_ASSERT_EQUAL(c->max_headers, m->max_headers);
	CU_ASSERT_EQUAL(c->read_timeout_s, m->read_timeout_s);
	CU_ASSERT_EQUAL(c->write_timeout_s, m->write_timeout_s);
	CU_ASSERT_EQUAL(c->queue_max, m->queue_max);
	CU_ASSERT_EQUAL(c->max_connections, m->max_connections);
	CU_ASSERT_STRING_EQUAL(c->web_root, m->web_root);
	CU_ASSERT_STRING_EQUAL(c->replica_conninfo, m->replica_conninfo);
	CU_ASSERT_EQUAL(c->db_connections, m->db_connections);
	CU_ASSERT_EQUAL(c->batch_max, m->batch_max);
	CU_ASSERT_EQUAL(c->batch_delay_ms, m->batch_delay_ms);
	CU_ASSERT_EQUAL(c->db_timeout_s, m->db_timeout_s);
	CU_ASSERT_STRING_EQUAL(c->country, m->country);
	CU_ASSERT_STRING_EQUAL(c->tls_crl, "");     /* commented out */
	CU_ASSERT_STRING_EQUAL(c->signing_crl, "");
	CU_ASSERT_PTR_NOT_NULL(strstr(c->conninfo, "dbname=declared"));
	T_FMT(want, "%s/ex/tls_cert", tdir);
	CU_ASSERT_STRING_EQUAL(c->tls_cert, want);
	T_FMT(want, "%s/ex/signing_key", tdir);
	CU_ASSERT_STRING_EQUAL(c->sign_key, want);
	CU_ASSERT_EQUAL(c->n_profiles, 1);
	p = t_profile(c, "wco");
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_STRING_EQUAL(p->root_ns, "urn:declared:declaration:1");
	CU_ASSERT_STRING_EQUAL(p->root_name, "Declaration");
	CU_ASSERT_EQUAL(p->signature_in_schema, 1);
	CU_ASSERT_EQUAL(p->signature_required, 1);
	CU_ASSERT_EQUAL(p->allow_rsa_sha1, 0);
	CU_ASSERT_EQUAL(p->n_ns, 1);
	CU_ASSERT_STRING_EQUAL(p->ns_prefix[0], "d");
	CU_ASSERT_STRING_EQUAL(p->ns_uri[0], "urn:declared:declaration:1");
	for (f = 0; f < PF_COUNT; f++)
		CU_ASSERT_PTR_NOT_NULL(p->xpath[f]);
	CU_ASSERT_STRING_EQUAL(p->xpath[PF_LRN],
	    "/d:Declaration/d:FunctionalReferenceID");
	config_free(c);
	config_free(m);
	err_clear(&e);
	err_clear(&e2);
}

/* With the commented-out examples enabled: every key of the table is in
 * the file, and the CDS profile parses. */
static void
test_example_complete(void)
{
	struct errs e;
	struct config *c;
	struct ini ini;
	const struct profile_def *p;
	char path[PATH_MAX];
	size_t i;

	err_init(&e);
	memset(&ini, 0, sizeof(ini));
	t_example(1, "ex/all.conf");
	t_path(path, sizeof(path), "ex/all.conf");
	CU_ASSERT_FATAL(ini_load(path, &ini, &e) == 0);
	for (i = 0; i < CFG_NROWS; i++)
		if (ini_find(&ini, cfg_rows[i].section, cfg_rows[i].key) == NULL) {
			fprintf(stderr, "\n  example lacks %s.%s\n", cfg_rows[i].section,
			    cfg_rows[i].key);
			CU_FAIL("example lacks a key");
		}
	ini_free(&ini);
	c = config_load(path, &e);
	if (c == NULL)
		t_dump(&e);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(c->n_profiles, 2);
	CU_ASSERT_STRING_NOT_EQUAL(c->tls_crl, "");
	p = t_profile(c, "cds");
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_STRING_EQUAL(p->root_ns,
	    "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2");
	CU_ASSERT_STRING_EQUAL(p->root_name, "MetaData");
	CU_ASSERT_EQUAL(p->signature_in_schema, 0);
	CU_ASSERT_EQUAL(p->n_ns, 2);
	config_free(c);
	err_clear(&e);
}

/* Evaluates one XPath of p as a string against node (NULL: "" when it
 * selects nothing). */
static void
t_xpath_str(xmlXPathContextPtr ctx, const struct profile_def *p, int f,
    xmlNodePtr node, char *out, size_t cap)
{
	xmlXPathObjectPtr r;
	xmlChar *s;

	out[0] = '\0';
	ctx->node = node;
	r = xmlXPathEvalExpression(BAD_CAST p->xpath[f], ctx);
	if (r == NULL)
		return;
	s = xmlXPathCastToString(r);
	snprintf(out, cap, "%s", s != NULL ? (const char *)s : "");
	xmlFree(s);
	xmlXPathFreeObject(r);
}

static xmlXPathObjectPtr
t_items(xmlXPathContextPtr ctx, const struct profile_def *p, xmlDocPtr doc)
{
	ctx->node = xmlDocGetRootElement(doc);
	return xmlXPathEvalExpression(BAD_CAST p->xpath[PF_ITEMS], ctx);
}

static xmlXPathContextPtr
t_ctx(xmlDocPtr doc, const struct profile_def *p)
{
	xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
	size_t i;

	CU_ASSERT_FATAL(ctx != NULL);
	for (i = 0; i < p->n_ns; i++)
		xmlXPathRegisterNs(ctx, BAD_CAST p->ns_prefix[i], BAD_CAST p->ns_uri[i]);
	return ctx;
}

/* The wco XPaths find every field of a schema-valid sample. */
static void
test_example_wco_xpaths(void)
{
	struct errs e;
	struct config *c;
	const struct profile_def *p;
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr items;
	char path[PATH_MAX], v[256];
	int f, i;

	err_init(&e);
	t_example(0, "ex/wco.conf");
	t_path(path, sizeof(path), "ex/wco.conf");
	c = config_load(path, &e);
	CU_ASSERT_FATAL(c != NULL);
	p = t_profile(c, "wco");
	CU_ASSERT_FATAL(p != NULL);
	doc = xmlReadFile(T_DATA "/declaration-sample.xml", NULL, XML_PARSE_NONET);
	CU_ASSERT_FATAL(doc != NULL);
	if (access("xsd/declaration.xsd", R_OK) == 0) {
		xmlSchemaParserCtxtPtr pc = xmlSchemaNewParserCtxt("xsd/declaration.xsd");
		xmlSchemaPtr xs = xmlSchemaParse(pc);
		xmlSchemaValidCtxtPtr vc = xs ? xmlSchemaNewValidCtxt(xs) : NULL;

		CU_ASSERT(vc != NULL && xmlSchemaValidateDoc(vc, doc) == 0);
		xmlSchemaFreeValidCtxt(vc);
		xmlSchemaFree(xs);
		xmlSchemaFreeParserCtxt(pc);
	}
	ctx = t_ctx(doc, p);
	for (f = 0; f < PF_ITEMS; f++) {
		t_xpath_str(ctx, p, f, xmlDocGetRootElement(doc), v, sizeof(v));
		if (v[0] == '\0')
			fprintf(stderr, "\n  wco xpath.%s finds nothing\n",
			    profile_field_name((enum profile_field)f));
		CU_ASSERT(v[0] != '\0');
	}
	t_xpath_str(ctx, p, PF_LRN, xmlDocGetRootElement(doc), v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "LRN-CFG-0001");
	t_xpath_str(ctx, p, PF_INVOICE_CURRENCY, xmlDocGetRootElement(doc), v,
	    sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "USD");
	items = t_items(ctx, p, doc);
	CU_ASSERT_FATAL(items != NULL && items->nodesetval != NULL);
	CU_ASSERT_EQUAL(items->nodesetval->nodeNr, 2);
	for (i = 0; i < items->nodesetval->nodeNr; i++)
		for (f = PF_ITEMS + 1; f < PF_COUNT; f++) {
			t_xpath_str(ctx, p, f, items->nodesetval->nodeTab[i], v,
			    sizeof(v));
			CU_ASSERT(v[0] != '\0');
		}
	t_xpath_str(ctx, p, PF_ITEM_HS, items->nodesetval->nodeTab[1], v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "851020");
	t_xpath_str(ctx, p, PF_ITEM_CURRENCY, items->nodesetval->nodeTab[1], v,
	    sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "EUR");
	xmlXPathFreeObject(items);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	config_free(c);
	err_clear(&e);
}

/* The cds XPaths against HMRC's trade-test declarations (CORPUS_DIR). */
static void
test_example_cds_xpaths(void)
{
	const char *corpus = getenv("CORPUS_DIR");
	char base[PATH_MAX], file[PATH_MAX * 2], path[PATH_MAX], v[256];
	char line[T_LINE_MAX];
	struct errs e;
	struct config *c;
	const struct profile_def *p;
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr items;
	FILE *idx;
	int ndocs = 0;

	T_FMT(base, "%s/hmrc-dec-dms",
	    corpus != NULL ? corpus : "../shared/corpus");
	T_FMT(file, "%s/INDEX.tsv", base);
	if ((idx = fopen(file, "r")) == NULL) {
		printf("\n  SKIP cds xpaths: %s not found (set CORPUS_DIR)\n", file);
		return;
	}
	err_init(&e);
	t_example(1, "ex/cds.conf");
	t_path(path, sizeof(path), "ex/cds.conf");
	c = config_load(path, &e);
	CU_ASSERT_FATAL(c != NULL);
	p = t_profile(c, "cds");
	CU_ASSERT_FATAL(p != NULL);
	/* every valid declaration has an LRN the profile finds */
	while (fgets(line, sizeof(line), idx) != NULL) {
		char *tab = strchr(line, '\t');

		if (tab == NULL || strncmp(tab + 1, "dec-valid\t", 10) != 0)
			continue;
		*tab = '\0';
		T_FMT(file, "%s/%s", base, line);
		doc = xmlReadFile(file, NULL, XML_PARSE_NONET);
		CU_ASSERT_FATAL(doc != NULL);
		ctx = t_ctx(doc, p);
		t_xpath_str(ctx, p, PF_LRN, xmlDocGetRootElement(doc), v, sizeof(v));
		if (v[0] == '\0')
			fprintf(stderr, "\n  no LRN in %s\n", file);
		CU_ASSERT(v[0] != '\0');
		xmlXPathFreeContext(ctx);
		xmlFreeDoc(doc);
		ndocs++;
	}
	fclose(idx);
	CU_ASSERT(ndocs > 200);
	/* one declaration, field by field */
	T_FMT(file, "%s/samples/TT_IM001a/Step1_TT_IM001a.xml",
	    base);
	doc = xmlReadFile(file, NULL, XML_PARSE_NONET);
	CU_ASSERT_FATAL(doc != NULL);
	ctx = t_ctx(doc, p);
	t_xpath_str(ctx, p, PF_LRN, xmlDocGetRootElement(doc), v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "7847767E1WB6");
	t_xpath_str(ctx, p, PF_DECLARANT, xmlDocGetRootElement(doc), v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "GB603202734852");
	t_xpath_str(ctx, p, PF_TYPE, xmlDocGetRootElement(doc), v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "IMA");
	t_xpath_str(ctx, p, PF_FUNCTION, xmlDocGetRootElement(doc), v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "9");
	items = t_items(ctx, p, doc);
	CU_ASSERT_FATAL(items != NULL && items->nodesetval != NULL);
	CU_ASSERT_FATAL(items->nodesetval->nodeNr == 1);
	t_xpath_str(ctx, p, PF_ITEM_SEQ, items->nodesetval->nodeTab[0], v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "1");
	t_xpath_str(ctx, p, PF_ITEM_HS, items->nodesetval->nodeTab[0], v, sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "85109000");
	t_xpath_str(ctx, p, PF_ITEM_ORIGIN, items->nodesetval->nodeTab[0], v,
	    sizeof(v));
	CU_ASSERT_STRING_EQUAL(v, "US");
	xmlXPathFreeObject(items);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	config_free(c);
	err_clear(&e);
}

/* ---- values and errors ---- */

static void
test_defaults(void)
{
	struct errs e;
	struct config *c;
	const struct profile_def *p;
	int f;

	err_init(&e);
	t_pki("def");
	c = t_load2("def", MINIMAL, "", &e);
	if (c == NULL)
		t_dump(&e);
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_EQUAL(e.n, 0);
	CU_ASSERT_STRING_EQUAL(c->listen, "127.0.0.1:8443");
	CU_ASSERT_STRING_EQUAL(c->admin_listen, "127.0.0.1:8080");
	CU_ASSERT_EQUAL(c->workers, 0);
	CU_ASSERT_EQUAL(c->max_body, 10u * 1024 * 1024);
	CU_ASSERT_EQUAL(c->max_headers, 16u * 1024);
	CU_ASSERT_EQUAL(c->read_timeout_s, 30);
	CU_ASSERT_EQUAL(c->write_timeout_s, 30);
	CU_ASSERT_EQUAL(c->queue_max, 4096);
	CU_ASSERT_EQUAL(c->max_connections, 20000);
	CU_ASSERT_STRING_EQUAL(c->web_root, "");
	CU_ASSERT_STRING_EQUAL(c->officer_ca, "");
	CU_ASSERT_STRING_EQUAL(c->tls_crl, "");
	CU_ASSERT_STRING_EQUAL(c->signing_crl, "");
	CU_ASSERT_STRING_EQUAL(c->replica_conninfo, "");
	CU_ASSERT_STRING_EQUAL(c->conninfo, "dbname=declared");
	CU_ASSERT_EQUAL(c->db_connections, 2);
	CU_ASSERT_EQUAL(c->batch_max, 256);
	CU_ASSERT_EQUAL(c->batch_delay_ms, 2);
	CU_ASSERT_EQUAL(c->db_timeout_s, 10);
	CU_ASSERT_STRING_EQUAL(c->sql_dir, "/usr/share/declared/sql");
	CU_ASSERT_STRING_EQUAL(c->country, "XX");
	CU_ASSERT_EQUAL(c->n_profiles, 1);
	p = &c->profiles[0];
	CU_ASSERT_STRING_EQUAL(p->name, "p");
	CU_ASSERT_STRING_EQUAL(p->root_ns, "urn:x");
	CU_ASSERT_STRING_EQUAL(p->root_name, "Doc");
	CU_ASSERT_EQUAL(p->signature_in_schema, 0);
	CU_ASSERT_EQUAL(p->signature_required, 1);
	CU_ASSERT_EQUAL(p->allow_rsa_sha1, 0);
	for (f = 0; f < PF_COUNT; f++)
		CU_ASSERT((p->xpath[f] != NULL) == (f == PF_LRN || f == PF_DECLARANT));
	config_free(c);
	err_clear(&e);
}

static void
test_sizes(void)
{
	static const struct {
		const char *v;
		long long want; /* -1: must be refused */
	} cases[] = {
		{ "1024", 1024 }, { "1K", 1024 }, { "1k", 1024 }, { "64K", 65536 },
		{ "10M", 10LL << 20 }, { "1g", 1LL << 30 }, { "2G", -1 },
		{ "1023", -1 }, { "10MB", -1 }, { "1.5M", -1 }, { "-1K", -1 },
		{ "K", -1 }, { " 1K", -1 }, { "99999999999999999999", -1 },
		{ "17179869184G", -1 }, { "", -1 },
	};
	char extra[128];
	struct errs e;
	struct config *c;
	unsigned long long n;
	size_t i;

	err_init(&e);
	t_pki("size");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		T_FMT(extra, "[server]\nmax_body = \"%s\"\n",
		    cases[i].v);
		c = t_load2("size", MINIMAL, extra, &e);
		if (cases[i].want < 0) {
			CU_ASSERT(c == NULL);
			CU_ASSERT(e.n == 1 && t_has(&e, "CONFIG_VALUE", 18,
			    "server.max_body"));
		} else {
			CU_ASSERT_FATAL(c != NULL);
			CU_ASSERT_EQUAL(c->max_body, (size_t)cases[i].want);
		}
		config_free(c);
	}
	/* overflow of the multiplication itself */
	CU_ASSERT(cfg_parse_size("18014398509481984K", &n) == -1);
	CU_ASSERT(cfg_parse_size("18014398509481983K", &n) == 0);
	CU_ASSERT_EQUAL(n, 18014398509481983ULL * 1024);
	err_clear(&e);
}

static void
test_value_kinds(void)
{
	static const struct {
		const char *section, *key, *v;
		int ok;
	} cases[] = {
		{ "server", "listen", "[::1]:8443", 1 },
		{ "server", "listen", "0.0.0.0:1", 1 },
		{ "server", "listen", "decl.example:65535", 1 },
		{ "server", "listen", "127.0.0.1:0", 0 },
		{ "server", "listen", "127.0.0.1:65536", 0 },
		{ "server", "listen", ":8443", 0 },
		{ "server", "listen", "::1:8443", 0 },
		{ "server", "listen", "[::1]8443", 0 },
		{ "server", "listen", "[]:8443", 0 },
		{ "server", "listen", "host name:80", 0 },
		{ "server", "listen", "127.0.0.1:+80", 0 },
		{ "server", "listen", "", 0 },
		{ "server", "admin_listen", "", 1 },
		{ "server", "workers", "256", 1 },
		{ "server", "workers", "257", 0 },
		{ "server", "workers", "0x10", 0 },
		{ "database", "batch_delay_ms", "0", 1 },
		{ "database", "conninfo", "", 0 },
		{ "customs", "country", "GB", 1 },
		{ "customs", "country", "GBR", 0 },
		{ "customs", "country", "g1", 0 },
		{ "profile.p", "signature_in_schema", "TRUE", 1 },
		{ "profile.p", "allow_rsa_sha1", "0", 1 },
		{ "profile.p", "allow_rsa_sha1", "on", 0 },
		{ "profile.p", "signature", "optional", 1 },
		{ "profile.p", "signature", "Required", 0 },
	};
	char extra[256], ptr[128];
	struct errs e;
	struct config *c;
	size_t i;

	err_init(&e);
	t_pki("kinds");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(cases[i].key, "conninfo") == 0) {
			/* an empty conninfo: MINIMAL with its value blanked */
			char *t = strdup(MINIMAL), *at = strstr(t, "dbname=declared");

			memset(at, ' ', strlen("dbname=declared"));
			c = t_load2("kinds", t, "", &e);
			free(t);
			CU_ASSERT(c == NULL && t_has(&e, "CONFIG_VALUE", 10,
			    "database.conninfo"));
			config_free(c);
			continue;
		}
		T_FMT(extra, "[%s]\n%s = \"%s\"\n",
		    cases[i].section, cases[i].key, cases[i].v);
		c = t_load2("kinds", MINIMAL, extra, &e);
		T_FMT(ptr, "%s.%s", cases[i].section, cases[i].key);
		if (cases[i].ok) {
			if (c == NULL) {
				fprintf(stderr, "\n  %s = %s refused\n", ptr, cases[i].v);
				t_dump(&e);
			}
			CU_ASSERT(c != NULL);
		} else {
			if (c != NULL)
				fprintf(stderr, "\n  %s = %s accepted\n", ptr, cases[i].v);
			CU_ASSERT(c == NULL && e.n == 1 &&
			    t_has(&e, "CONFIG_VALUE", 18, ptr));
		}
		config_free(c);
	}
	err_clear(&e);
}

/* Many mistakes in one file: all of them are reported. */
static void
test_several_errors(void)
{
	static const char text[] =
	    "[server]\n"                     /* 1 */
	    "listen = localhost\n"           /* 2 VALUE */
	    "workers = -1\n"                 /* 3 VALUE */
	    "speed = fast\n"                 /* 4 KEY */
	    "[tls]\n"                        /* 5 */
	    "cert = server.crt\n"            /* 6 */
	    "key = server.key\n"             /* 7 */
	    "enterprise_ca = nothere.pem\n"  /* 8 VALUE cannot read */
	    "[signing]\n"                    /* 9 */
	    "cert = ack.crt\n"               /* 10: key, trusted_ca MISSING */
	    "[extra]\n"                      /* 11 */
	    "a = b\n"                        /* 12 KEY */
	    "[profile.q]\n"                  /* 13 */
	    "root = {urn:q}Q\n"              /* 14: schema, lrn, declarant MISSING */
	    "xpath.hs = /Q/HS\n";            /* 15 KEY */
	struct errs e;
	struct config *c;

	err_init(&e);
	t_pki("many");
	c = t_load2("many", text, "", &e);
	CU_ASSERT(c == NULL);
	CU_ASSERT(t_has(&e, "CONFIG_VALUE", 2, "server.listen"));
	CU_ASSERT(t_has(&e, "CONFIG_VALUE", 3, "server.workers"));
	CU_ASSERT(t_has(&e, "CONFIG_KEY", 4, "server.speed"));
	CU_ASSERT(t_has(&e, "CONFIG_VALUE", 8, "tls.enterprise_ca"));
	CU_ASSERT(t_has_msg(&e, "tls.enterprise_ca", "cannot read"));
	CU_ASSERT(t_has(&e, "CONFIG_MISSING", 10, "signing.key"));
	CU_ASSERT(t_has(&e, "CONFIG_MISSING", 10, "signing.trusted_ca"));
	CU_ASSERT(t_has(&e, "CONFIG_KEY", 12, "extra.a"));
	CU_ASSERT(t_has(&e, "CONFIG_KEY", 15, "profile.q.xpath.hs"));
	CU_ASSERT(t_has(&e, "CONFIG_MISSING", 14, "profile.q.schema"));
	CU_ASSERT(t_has(&e, "CONFIG_MISSING", 14, "profile.q.xpath.lrn"));
	CU_ASSERT(t_has(&e, "CONFIG_MISSING", 14, "profile.q.xpath.declarant"));
	CU_ASSERT(t_has(&e, "CONFIG_MISSING", 0, "database.conninfo"));
	CU_ASSERT_EQUAL(e.n, 12);
	/* errors already in the list are kept, and do not make a good file fail */
	c = t_load2("many", MINIMAL, "", &e);
	CU_ASSERT(c != NULL);
	config_free(c);
	err_add(&e, "EARLIER", 1, "", "an earlier error");
	{
		char p[PATH_MAX];

		t_path(p, sizeof(p), "many/declared.conf");
		c = config_load(p, &e);
		CU_ASSERT(c != NULL);
		CU_ASSERT_EQUAL(e.n, 1);
		config_free(c);
	}
	err_clear(&e);
}

static void
test_key_permissions(void)
{
	struct errs e;
	struct config *c;
	char p[PATH_MAX];

	err_init(&e);
	t_pki("perm");
	t_path(p, sizeof(p), "perm/server.key");
	CU_ASSERT_FATAL(chmod(p, 0640) == 0);
	t_path(p, sizeof(p), "perm/ack.key");
	CU_ASSERT_FATAL(chmod(p, 0604) == 0);
	c = t_load2("perm", MINIMAL, "", &e);
	CU_ASSERT(c == NULL);
	CU_ASSERT_EQUAL(e.n, 2);
	CU_ASSERT(t_has(&e, "CONFIG_VALUE", 3, "tls.key"));
	CU_ASSERT(t_has(&e, "CONFIG_VALUE", 7, "signing.key"));
	CU_ASSERT(t_has_msg(&e, "tls.key", "is readable by others"));
	/* certificates may be world-readable; only the keys matter */
	setenv("DECLARED_ALLOW_LOOSE_KEYS", "1", 1);
	c = t_load2("perm", MINIMAL, "", &e);
	CU_ASSERT(c != NULL);
	config_free(c);
	setenv("DECLARED_ALLOW_LOOSE_KEYS", "yes", 1); /* only "1" counts */
	c = t_load2("perm", MINIMAL, "", &e);
	CU_ASSERT(c == NULL && e.n == 2);
	unsetenv("DECLARED_ALLOW_LOOSE_KEYS");
	t_path(p, sizeof(p), "perm/server.key");
	CU_ASSERT_FATAL(chmod(p, 0400) == 0);
	t_path(p, sizeof(p), "perm/ack.key");
	CU_ASSERT_FATAL(chmod(p, 0600) == 0);
	c = t_load2("perm", MINIMAL, "", &e);
	CU_ASSERT(c != NULL);
	config_free(c);
	err_clear(&e);
}

static void
test_relative_paths(void)
{
	static const char text[] =
	    "[tls]\n"
	    "cert = pki/server.crt\n"
	    "key = pki/server.key\n"
	    "enterprise_ca = %s/rel/pki/ent.pem\n"
	    "[signing]\n"
	    "cert = pki/ack.crt\n"
	    "key = ./pki/ack.key\n"
	    "trusted_ca = pki/signers.pem\n"
	    "[database]\n"
	    "conninfo = dbname=declared\n"
	    "sql_dir = pki\n"
	    "[profile.p]\n"
	    "root = Doc\n"
	    "schema = pki/decl.xsd\n"
	    "xpath.lrn = /Doc/LRN\n"
	    "xpath.declarant = /Doc/Party\n";
	char conf[PATH_MAX + 1024], want[PATH_MAX + 64], cwd[PATH_MAX];
	struct errs e;
	struct config *c;

	err_init(&e);
	t_mkdir("rel");
	t_pki("rel/pki");
	T_FMT(conf, text, tdir);
	t_write("rel/declared.conf", conf, 0644);
	/* load by a relative path from another working directory */
	CU_ASSERT_FATAL(getcwd(cwd, sizeof(cwd)) != NULL);
	CU_ASSERT_FATAL(chdir(tdir) == 0);
	c = config_load("rel/declared.conf", &e);
	CU_ASSERT_FATAL(chdir(cwd) == 0);
	if (c == NULL)
		t_dump(&e);
	CU_ASSERT_FATAL(c != NULL);
	T_FMT(want, "%s/rel/declared.conf", tdir);
	CU_ASSERT_STRING_EQUAL(c->path, want);
	T_FMT(want, "%s/rel/pki/server.crt", tdir);
	CU_ASSERT_STRING_EQUAL(c->tls_cert, want);
	T_FMT(want, "%s/rel/pki/ent.pem", tdir);
	CU_ASSERT_STRING_EQUAL(c->enterprise_ca, want);   /* absolute kept */
	T_FMT(want, "%s/rel/./pki/ack.key", tdir);
	CU_ASSERT_STRING_EQUAL(c->sign_key, want);
	T_FMT(want, "%s/rel/pki", tdir);
	CU_ASSERT_STRING_EQUAL(c->sql_dir, want);
	T_FMT(want, "%s/rel/pki/decl.xsd", tdir);
	CU_ASSERT_STRING_EQUAL(c->profiles[0].schema, want);
	CU_ASSERT_STRING_EQUAL(c->profiles[0].root_ns, "");
	CU_ASSERT_STRING_EQUAL(c->profiles[0].root_name, "Doc");
	config_free(c);
	err_clear(&e);
}

static void
test_profiles(void)
{
	char extra[8192], *w;
	struct errs e;
	struct config *c;
	size_t i, n;

	err_init(&e);
	t_pki("prof");
	/* all 16 profiles fit, the 17th is refused */
	for (n = CONFIG_MAX_PROFILES; n <= CONFIG_MAX_PROFILES + 1; n++) {
		w = extra;
		for (i = 1; i < n; i++)
			w += snprintf(w, sizeof(extra) - (size_t)(w - extra),
			    "[profile.p%zu]\nroot = D%zu\nschema = decl.xsd\n"
			    "xpath.lrn = /L\nxpath.declarant = /D\n", i, i);
		c = t_load2("prof", MINIMAL, extra, &e);
		if (n == CONFIG_MAX_PROFILES) {
			CU_ASSERT_FATAL(c != NULL);
			CU_ASSERT_EQUAL(c->n_profiles, CONFIG_MAX_PROFILES);
		} else {
			CU_ASSERT(c == NULL);
			CU_ASSERT(t_has(&e, "CONFIG_VALUE", 93, "profile.p16"));
			CU_ASSERT_EQUAL(e.n, 1); /* once, not once per key */
		}
		config_free(c);
	}
	/* prefixes inside quotes and axes are not prefixes; xml: is built in */
	c = t_load2("prof", MINIMAL, "[profile.p]\nxpath.type = "
	    "/x:Doc/child::x:T[@xml:lang='en:gb'][. != \"y:z\"]\n", &e);
	if (c == NULL)
		t_dump(&e);
	CU_ASSERT(c != NULL);
	config_free(c);
	c = t_load2("prof", MINIMAL, "[profile.p]\nxpath.type = /x:Doc/y:T\n", &e);
	CU_ASSERT(c == NULL && e.n == 1 &&
	    t_has(&e, "CONFIG_VALUE", 18, "profile.p.xpath.type"));
	config_free(c);
	c = t_load2("prof", MINIMAL, "[profile.p]\nns.x = urn:other\n", &e);
	CU_ASSERT(c == NULL);
	config_free(c);
	c = t_load2("prof", MINIMAL, "[profile.r]\nroot = {urn:x}\n", &e);
	CU_ASSERT(c == NULL && t_has(&e, "CONFIG_VALUE", 18, "profile.r.root"));
	config_free(c);
	c = t_load2("prof", MINIMAL, "[profile.r]\nroot = {urn:x}a:b\n", &e);
	CU_ASSERT(c == NULL && t_has(&e, "CONFIG_VALUE", 18, "profile.r.root"));
	config_free(c);
	c = t_load2("prof", MINIMAL, "[profile.r]\nroot = {urn:x}Doc\n"
	    "schema = decl.xsd\nxpath.lrn = /L\nxpath.declarant = /D\n", &e);
	CU_ASSERT(c == NULL && e.n == 1 &&
	    t_has(&e, "CONFIG_VALUE", 18, "profile.r.root"));
	CU_ASSERT(t_has_msg(&e, "profile.r.root", "same root"));
	config_free(c);
	err_clear(&e);
}

/* tests/data/conf: good-*.conf load, bad-*.conf fail with exactly the
 * errors that their "# expect:" lines list. */
static void
test_data_files(void)
{
	char path[PATH_MAX], line[T_LINE_MAX], code[64], ptr[256];
	struct dirent *de;
	struct errs e;
	struct config *c;
	DIR *d;
	FILE *f;
	int lineno, nexp, ngood = 0, nbad = 0;

	err_init(&e);
	d = opendir(T_DATA);
	CU_ASSERT_FATAL(d != NULL);
	setenv("DECLARED_ALLOW_LOOSE_KEYS", "1", 1); /* git drops 0600 */
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0 ||
		    (strncmp(de->d_name, "good-", 5) != 0 &&
		    strncmp(de->d_name, "bad-", 4) != 0))
			continue;
		T_FMT(path, "%s/%s", T_DATA, de->d_name);
		err_clear(&e);
		c = config_load(path, &e);
		if (strncmp(de->d_name, "good-", 5) == 0) {
			if (c == NULL) {
				fprintf(stderr, "\n  %s fails:\n", path);
				t_dump(&e);
			}
			CU_ASSERT(c != NULL && e.n == 0);
			config_free(c);
			ngood++;
			continue;
		}
		CU_ASSERT(c == NULL);
		config_free(c);
		f = fopen(path, "r");
		CU_ASSERT_FATAL(f != NULL);
		nexp = 0;
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "# expect: %63s %d %255s", code, &lineno,
			    ptr) == 3) {
				nexp++;
				if (!t_has(&e, code, lineno,
				    strcmp(ptr, "-") == 0 ? NULL : ptr))
					fprintf(stderr, "  (in %s)\n", path);
				CU_ASSERT(t_has(&e, code, lineno,
				    strcmp(ptr, "-") == 0 ? NULL : ptr));
			}
		fclose(f);
		CU_ASSERT(nexp > 0);
		if ((size_t)nexp != e.n) {
			fprintf(stderr, "\n  %s: %d errors expected, got:\n", path, nexp);
			t_dump(&e);
		}
		CU_ASSERT_EQUAL((size_t)nexp, e.n);
		nbad++;
	}
	closedir(d);
	unsetenv("DECLARED_ALLOW_LOOSE_KEYS");
	CU_ASSERT(ngood >= 2 && nbad >= 5);
	/* good-full.conf: every value read as written */
	setenv("DECLARED_ALLOW_LOOSE_KEYS", "1", 1);
	c = config_load(T_DATA "/good-full.conf", &e);
	unsetenv("DECLARED_ALLOW_LOOSE_KEYS");
	CU_ASSERT_FATAL(c != NULL);
	CU_ASSERT_STRING_EQUAL(c->listen, "[::1]:9443");
	CU_ASSERT_STRING_EQUAL(c->admin_listen, "");
	CU_ASSERT_EQUAL(c->workers, 3);
	CU_ASSERT_EQUAL(c->max_body, 2u << 20);
	CU_ASSERT_EQUAL(c->max_headers, 8u << 10);
	CU_ASSERT_EQUAL(c->read_timeout_s, 5);
	CU_ASSERT_EQUAL(c->write_timeout_s, 7);
	CU_ASSERT_EQUAL(c->queue_max, 100);
	CU_ASSERT_EQUAL(c->max_connections, 500);
	CU_ASSERT_PTR_NOT_NULL(strstr(c->web_root, "/tests/data/conf/files/web"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c->tls_crl, "/files/clients.crl"));
	CU_ASSERT_PTR_NOT_NULL(strstr(c->signing_crl, "/files/signers.crl"));
	CU_ASSERT_STRING_EQUAL(c->conninfo,
	    "host=db.example port=5433 dbname=declared");
	CU_ASSERT_STRING_EQUAL(c->replica_conninfo,
	    "host=replica.example dbname=declared");
	CU_ASSERT_EQUAL(c->db_connections, 4);
	CU_ASSERT_EQUAL(c->batch_max, 64);
	CU_ASSERT_EQUAL(c->batch_delay_ms, 0);
	CU_ASSERT_EQUAL(c->db_timeout_s, 3);
	CU_ASSERT_STRING_EQUAL(c->country, "GB");
	CU_ASSERT_FATAL(c->n_profiles == 2);
	CU_ASSERT_EQUAL(c->profiles[0].signature_in_schema, 1);
	CU_ASSERT_EQUAL(c->profiles[0].signature_required, 0);
	CU_ASSERT_EQUAL(c->profiles[0].allow_rsa_sha1, 1);
	CU_ASSERT_STRING_EQUAL(c->profiles[0].xpath[PF_ITEM_VALUE],
	    "a:Value[@currencyID=\"EUR\"]");
	CU_ASSERT_STRING_EQUAL(c->profiles[1].root_ns, "");
	config_free(c);
	err_clear(&e);
}

static void
test_io_and_reload(void)
{
	struct errs e;
	struct config *a, *b;

	err_init(&e);
	CU_ASSERT(config_load("/nonexistent/declared.conf", &e) == NULL);
	CU_ASSERT(e.n >= 1);
	config_free(NULL);
	err_clear(&e);
	t_pki("rl");
	a = t_load2("rl", MINIMAL, "", &e);
	b = t_load2("rl", MINIMAL, "[server]\nmax_body = 1M\nread_timeout = 5\n"
	    "[tls]\ncrl = clients.crl\n", &e);
	CU_ASSERT_FATAL(a != NULL && b != NULL);
	CU_ASSERT(config_check_reload(a, b, &e) == 0 && e.n == 0);
	config_free(b);
	b = t_load2("rl", MINIMAL, "[server]\nlisten = 127.0.0.1:9443\nworkers = 2\n"
	    "[database]\nbatch_max = 10\n", &e);
	CU_ASSERT_FATAL(b != NULL);
	CU_ASSERT(config_check_reload(a, b, &e) == -1);
	CU_ASSERT_EQUAL(e.n, 3);
	CU_ASSERT(t_has(&e, "CONFIG_RELOAD", 0, "server.listen"));
	CU_ASSERT(t_has(&e, "CONFIG_RELOAD", 0, "server.workers"));
	CU_ASSERT(t_has(&e, "CONFIG_RELOAD", 0, "database.batch_max"));
	config_free(a);
	config_free(b);
	err_clear(&e);
}

int
main(void)
{
	int fails;

	static const struct unit_test tests[] = {
		{ "example loads", test_example_loads },
		{ "example has every key", test_example_complete },
		{ "example wco xpaths", test_example_wco_xpaths },
		{ "example cds xpaths", test_example_cds_xpaths },
		{ "defaults", test_defaults },
		{ "sizes", test_sizes },
		{ "value kinds", test_value_kinds },
		{ "several errors", test_several_errors },
		{ "key permissions", test_key_permissions },
		{ "relative paths", test_relative_paths },
		{ "profiles", test_profiles },
		{ "data files", test_data_files },
		{ "io and reload", test_io_and_reload },
	};

	fails = UNIT_SUITE("config", suite_init, suite_clean, tests);
	xmlCleanupParser();
	return fails != 0;
}
