/* unit_util.h: small helpers shared by the unit test binaries.
 *
 * Each tests/unit/test_*.c is built alone and linked with libdeclared.a,
 * so everything here is static inline (no object of its own, no warning
 * where unused).  The first part needs only libc and lib/err.h.  The
 * second part, the CDS and own-format profile definitions the profile
 * tests share, is compiled only when UNIT_PROFILE_HELPERS is defined
 * before the include; it asserts through CUnit. */
#ifndef UNIT_UTIL_H
#define UNIT_UTIL_H

#include <CUnit/Basic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

/* One test of a suite table. */
struct unit_test {
	const char *name;
	CU_TestFunc fn;
};

/* Registers one suite (init and clean may be NULL) with the tests of t,
 * runs it verbosely and returns the number of failed assertions plus
 * failed suite set-ups, or -1 if CUnit could not register them. */
static inline int
unit_suite(const char *suite, CU_InitializeFunc init, CU_CleanupFunc clean,
    const struct unit_test *t, size_t n)
{
	CU_pSuite s;
	size_t i;
	int failed = -1;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return -1;
	if ((s = CU_add_suite(suite, init, clean)) == NULL)
		goto done;
	for (i = 0; i < n; i++)
		if (CU_add_test(s, t[i].name, t[i].fn) == NULL)
			goto done;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = (int)(CU_get_number_of_failures() + CU_get_number_of_suites_failed());
done:
	CU_cleanup_registry();
	return failed;
}

/* Where the HMRC DEC-DMS corpus and its combined schema are
 * (CORPUS_DIR, default ../shared/corpus); 1 when the schema is readable,
 * else 0 after printing a SKIP line. */
static inline int
unit_cds_locate(char *dir, size_t dcap, char *schema, size_t scap)
{
	const char *c = getenv("CORPUS_DIR");

	snprintf(dir, dcap, "%s/hmrc-dec-dms",
	    c != NULL && *c != '\0' ? c : "../shared/corpus");
	snprintf(schema, scap, "%s/hmrc-submit-combined.xsd", dir);
	if (access(schema, R_OK) == 0)
		return 1;
	printf("SKIP: corpus not found at %s (set CORPUS_DIR)\n", dir);
	return 0;
}

#define UNIT_SUITE(suite, init, clean, tests) \
	unit_suite((suite), (init), (clean), (tests), sizeof(tests) / sizeof((tests)[0]))

/* The whole file, NUL-terminated, or NULL (missing, unreadable, 64 MiB
 * or more); *len gets its size. */
static inline char *
unit_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    n < 64L * 1024 * 1024 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

/* system(cmd): the command's exit status, -1 if it could not run. */
static inline int
unit_run(const char *cmd)
{
	int rc = system(cmd);

	return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static inline int
unit_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* unit_run of a formatted command line (at most 4 KiB). */
static inline int
unit_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return unit_run(cmd);
}

/* The first error of e with this code, or NULL. */
static inline const struct err_item *
unit_find_code(const struct errs *e, const char *code)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->v[i].code, code) == 0)
			return &e->v[i];
	return NULL;
}

#endif /* UNIT_UTIL_H */

#if defined(UNIT_PROFILE_HELPERS) && !defined(UNIT_UTIL_PROFILE)
#define UNIT_UTIL_PROFILE

#include <CUnit/Basic.h>
#include <limits.h>
#include <libxml/tree.h>

#include "profile.h"
#include "xmlp.h"

#define NS_MD "urn:wco:datamodel:WCO:DocumentMetaData-DMS:2"
#define NS_DEC "urn:wco:datamodel:WCO:DEC-DMS:2"
#define NS_WCO "urn:declared:declaration:1"
#define MAX_FILES 1024 /* corpus files listed at most */

/* Parses a file with the default limits; NULL on any failure. */
static inline xmlDocPtr
unit_parse_file(const char *path, struct errs *e)
{
	static const struct xmlp_limits lim = XMLP_DEFAULT_LIMITS;
	size_t len = 0;
	char *buf = unit_slurp(path, &len);
	xmlDocPtr doc;

	if (buf == NULL)
		return NULL;
	doc = xmlp_parse(buf, len, &lim, e);
	free(buf);
	return doc;
}

static inline void
unit_def_fill(struct profile_def *d, const char *name, const char *root_ns,
    const char *root, const char *schema, const char *const *xp)
{
	int f;

	memset(d, 0, sizeof(*d));
	d->name = name;
	d->root_ns = root_ns;
	d->root_name = root;
	d->schema = schema;
	for (f = 0; f < PF_COUNT; f++)
		d->xpath[f] = xp[f];
}

#define CDS_D "/md:MetaData/dec:Declaration"

/* The UK CDS declaration profile (HMRC DEC-DMS in a MetaData wrapper). */
static inline void
unit_cds_def(struct profile_def *d, const char *schema)
{
	static const char *const xp[PF_COUNT] = {
		[PF_LRN] = CDS_D "/dec:FunctionalReferenceID",
		[PF_DECLARANT] = CDS_D "/dec:Declarant/dec:ID",
		[PF_TYPE] = CDS_D "/dec:TypeCode",
		[PF_FUNCTION] = CDS_D "/dec:FunctionCode",
		[PF_REF_MRN] = CDS_D "/dec:ID",
		[PF_IMPORTER] = CDS_D "/dec:GoodsShipment/dec:Importer/dec:ID",
		[PF_EXPORTER] = CDS_D "/dec:Exporter/dec:ID",
		[PF_INVOICE_AMOUNT] = CDS_D "/dec:InvoiceAmount",
		[PF_INVOICE_CURRENCY] = CDS_D "/dec:InvoiceAmount/@currencyID",
		[PF_ITEM_QUANTITY] = CDS_D "/dec:GoodsItemQuantity",
		[PF_ITEMS] = CDS_D "/dec:GoodsShipment/dec:GovernmentAgencyGoodsItem",
		[PF_ITEM_SEQ] = "dec:SequenceNumeric",
		[PF_ITEM_HS] = "dec:Commodity/dec:Classification"
		    "[dec:IdentificationTypeCode='TSP']/dec:ID",
		[PF_ITEM_ORIGIN] = "dec:Origin[dec:TypeCode='1']/dec:CountryCode",
		[PF_ITEM_GROSS] = "dec:Commodity/dec:GoodsMeasure/dec:GrossMassMeasure",
		[PF_ITEM_NET] = "dec:Commodity/dec:GoodsMeasure/dec:NetNetWeightMeasure",
		[PF_ITEM_VALUE] = "dec:Commodity/dec:InvoiceLine/dec:ItemChargeAmount",
		[PF_ITEM_CURRENCY] =
		    "dec:Commodity/dec:InvoiceLine/dec:ItemChargeAmount/@currencyID",
	};

	unit_def_fill(d, "cds", NS_MD, "MetaData", schema, xp);
	d->ns_prefix[0] = "md";
	d->ns_uri[0] = NS_MD;
	d->ns_prefix[1] = "dec";
	d->ns_uri[1] = NS_DEC;
	d->n_ns = 2;
}

#undef CDS_D
#define WCO_D "/d:Declaration"

/* The project's own declaration format (xsd/declaration.xsd). */
static inline void
unit_wco_def(struct profile_def *d, const char *schema)
{
	static const char *const xp[PF_COUNT] = {
		[PF_LRN] = WCO_D "/d:FunctionalReferenceID",
		[PF_DECLARANT] = WCO_D "/d:Declarant/d:ID",
		[PF_TYPE] = WCO_D "/d:TypeCode",
		[PF_FUNCTION] = WCO_D "/d:FunctionCode",
		[PF_REF_MRN] = WCO_D "/d:ID",
		[PF_ISSUED] = WCO_D "/d:IssueDateTime",
		[PF_IMPORTER] = WCO_D "/d:Importer/d:ID",
		[PF_EXPORTER] = WCO_D "/d:Exporter/d:ID",
		[PF_INVOICE_AMOUNT] = WCO_D "/d:InvoiceAmount",
		[PF_INVOICE_CURRENCY] = WCO_D "/d:InvoiceAmount/@currencyID",
		[PF_ITEM_QUANTITY] = WCO_D "/d:GoodsItemQuantity",
		[PF_ITEMS] = WCO_D "/d:GoodsShipment/d:GovernmentAgencyGoodsItem",
		[PF_ITEM_SEQ] = "d:SequenceNumeric",
		[PF_ITEM_HS] = "d:Commodity/d:Classification/d:ID",
		[PF_ITEM_ORIGIN] = "d:Origin/d:CountryCode",
		[PF_ITEM_GROSS] = "d:Commodity/d:GoodsMeasure/d:GrossMassMeasure",
		[PF_ITEM_NET] = "d:Commodity/d:GoodsMeasure/d:NetNetWeightMeasure",
		[PF_ITEM_VALUE] = "d:CustomsValueAmount",
		[PF_ITEM_CURRENCY] = "d:CustomsValueAmount/@currencyID",
	};

	unit_def_fill(d, "wco", NS_WCO, "Declaration", schema, xp);
	d->signature_in_schema = 1;
	d->ns_prefix[0] = "d";
	d->ns_uri[0] = NS_WCO;
	d->n_ns = 1;
}

#undef WCO_D

/* A set holding the CDS profile alone (one assertion). */
static inline struct profile_set *
unit_cds_set(const char *schema)
{
	struct profile_set *ps = profile_set_new();
	struct profile_def d;
	struct errs e;
	size_t i;

	err_init(&e);
	unit_cds_def(&d, schema);
	CU_ASSERT_EQUAL(profile_set_add(ps, &d, &e), 0);
	for (i = 0; i < e.n; i++)
		printf("\n  %s %s", e.v[i].code, e.v[i].msg);
	err_clear(&e);
	return ps;
}

/* Paths of the dir/INDEX.tsv rows whose class (2nd column) starts with
 * class, at most cap; each is strdup'ed (unit_list_free). */
static inline size_t
unit_corpus_list(const char *dir, const char *class, char **out, size_t cap)
{
	char path[PATH_MAX], line[1024], *tab, *cls, *end;
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/INDEX.tsv", dir);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL && n < cap) {
		if ((tab = strchr(line, '\t')) == NULL)
			continue;
		*tab = '\0';
		cls = tab + 1;
		if ((end = strchr(cls, '\t')) != NULL)
			*end = '\0';
		if (strncmp(cls, class, strlen(class)) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, line);
		out[n++] = strdup(path);
	}
	fclose(f);
	return n;
}

static inline void
unit_list_free(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
}

#endif /* UNIT_PROFILE_HELPERS */
