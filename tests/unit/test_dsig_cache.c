/* test_dsig_cache: a signer seen before, through the trust's certificate
 * cache (lib/dsig.c, lib/dsig_x509.c): the same result the second time,
 * an explicit verification time still checked, a known signer's bad
 * document or certificate text refused, bad signers refused again and a
 * verification remembered no longer than the certificate's notAfter.
 * Keys and a root CA -> sub CA -> EC leaf chain are made here by the
 * openssl command line, the short-lived leaves with OpenSSL's API.  Needs
 * neither VECTORS_DIR nor CORPUS_DIR; signing, tampering and interop are
 * in test_dsig.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dsig.h"
#include "dsig_x509.h"
#include "err.h"
#include "unit_util.h"

static char tmpdir[64];
static int have_keys;

static const char response_xml[] =
    "<Response xmlns=\"urn:declared:response:1\">"
    "<Status><Code>accepted</Code></Status>"
    "<Amount currencyID=\"EUR\">1250.00</Amount></Response>";

/* ---- small helpers ---- */

/* "T:rel" in the temp dir. */
static const char *
tpath(const char *spec, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", tmpdir, spec + 2);
	return buf;
}

/* T:<name>.key, a P-256 key, and T:<name>.pem, its certificate for subj
 * with the -addext options ext, issued by T:<ca>.pem and T:<ca>.key
 * (self-signed when ca is NULL) for days. */
static int
make_cert(const char *name, const char *subj, const char *ca,
    const char *ext, int days)
{
	char by[64] = "";

	if (ca != NULL)
		snprintf(by, sizeof(by), "-CA %s.pem -CAkey %s.key", ca, ca);
	return unit_sh("cd '%s' && exec >>openssl.log 2>&1 && "
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
	    "-out %s.key && openssl req -x509 -new -key %s.key -subj '%s' %s "
	    "-days %d -sha256 %s -out %s.pem", tmpdir, name, name, subj, by,
	    days, ext, name);
}

/* A new temp dir with root CA -> sub CA -> EC leaf (365 days) in it;
 * T:ec-chain.pem is the leaf and the sub CA. */
static int
make_keys(void)
{
	static const char ca[] = "-addext basicConstraints=critical,CA:TRUE "
	    "-addext keyUsage=critical,keyCertSign,cRLSign";
	static const char leaf[] = "-addext basicConstraints=CA:FALSE "
	    "-addext keyUsage=critical,digitalSignature,nonRepudiation";

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_dsig_cache.XXXXXX");
	if (mkdtemp(tmpdir) == NULL) {
		tmpdir[0] = '\0';
		return -1;
	}
	if (make_cert("root", "/CN=Test Root CA", NULL, ca, 3650) != 0 ||
	    make_cert("sub", "/CN=Test Sub CA", "root", ca, 3650) != 0 ||
	    make_cert("ec", "/CN=Acme Imports Ltd/serialNumber=GB123456789000",
	    "sub", leaf, 365) != 0)
		return -1;
	return unit_sh("cat '%s/ec.pem' '%s/sub.pem' > '%s/ec-chain.pem'",
	    tmpdir, tmpdir, tmpdir) == 0 ? 0 : -1;
}

/* response_xml signed with the key and certificates T:key, T:cert. */
static xmlDocPtr
signed_doc(const char *key, const char *cert, struct errs *e)
{
	char pk[1024], pc[1024];
	struct dsig_signer *s = dsig_signer_new(tpath(key, pk, sizeof(pk)),
	    tpath(cert, pc, sizeof(pc)), e);
	xmlDocPtr doc = xmlReadMemory(response_xml, sizeof(response_xml) - 1,
	    "mem.xml", NULL, XML_PARSE_NONET);

	if (s == NULL || doc == NULL || dsig_sign(s, doc, e) < 0) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	dsig_signer_free(s);
	return doc;
}

/* dsig_verify with the trust t (kept between calls, and its cache with
 * it); the first error code or "OK". */
static const char *
verify_with(const struct dsig_trust *t, xmlDocPtr doc,
    struct dsig_result *res)
{
	static char code[ERR_CODE_MAX];
	struct dsig_policy pol = { 0 };
	struct errs e;
	int rc;

	err_init(&e);
	rc = dsig_verify(t, &pol, doc, res, &e);
	snprintf(code, sizeof(code), "%s", rc == 0 ? "OK" :
	    err_first_code(&e) ? err_first_code(&e) : "?");
	err_clear(&e);
	return code;
}

/* T:<name>.key and T:<name>.pem: an EC leaf issued by the test root,
 * valid from now - 7200 s to now + not_after s; its notAfter in *until. */
static int
make_leaf(const char *name, long not_after, time_t *until)
{
	char p[1024], f[64];
	EVP_PKEY *key = NULL, *ca_key = NULL;
	X509 *ca = NULL, *x = NULL;
	struct tm tm;
	FILE *fp;
	int rc = -1;

	if ((fp = fopen(tpath("T:root.key", p, sizeof(p)), "r")) != NULL) {
		ca_key = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
		fclose(fp);
	}
	if ((fp = fopen(tpath("T:root.pem", p, sizeof(p)), "r")) != NULL) {
		ca = PEM_read_X509(fp, NULL, NULL, NULL);
		fclose(fp);
	}
	key = EVP_EC_gen("P-256");
	x = X509_new();
	if (ca_key == NULL || ca == NULL || key == NULL || x == NULL)
		goto cleanup;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 100 + not_after);
	X509_gmtime_adj(X509_getm_notBefore(x), -7200);
	X509_gmtime_adj(X509_getm_notAfter(x), not_after);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_ASC, (const unsigned char *)name, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(ca));
	X509_set_pubkey(x, key);
	if (X509_sign(x, ca_key, EVP_sha256()) <= 0 ||
	    ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		goto cleanup;
	*until = timegm(&tm);
	snprintf(f, sizeof(f), "T:%s.key", name);
	if ((fp = fopen(tpath(f, p, sizeof(p)), "w")) == NULL)
		goto cleanup;
	rc = PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) == 1;
	rc = fclose(fp) == 0 && rc ? 0 : -1;
	snprintf(f, sizeof(f), "T:%s.pem", name);
	if (rc == 0 && ((fp = fopen(tpath(f, p, sizeof(p)), "w")) == NULL ||
	    PEM_write_X509(fp, x) != 1 || fclose(fp) != 0))
		rc = -1;
cleanup:
	X509_free(x);
	X509_free(ca);
	EVP_PKEY_free(key);
	EVP_PKEY_free(ca_key);
	return rc;
}

static xmlNodePtr
find_elem(xmlNodePtr n, const char *name)
{
	xmlNodePtr r;

	for (; n != NULL; n = n->next) {
		if (n->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)n->name, name) == 0)
			return n;
		if ((r = find_elem(n->children, name)) != NULL)
			return r;
	}
	return NULL;
}

/* A copy of doc in which the first element called name holds text, then
 * its old text if keep; NULL if there is no such element. */
static xmlDocPtr
edited(xmlDocPtr doc, const char *name, const char *text, int keep)
{
	xmlDocPtr copy = xmlCopyDoc(doc, 1);
	xmlNodePtr n = copy != NULL ?
	    find_elem(xmlDocGetRootElement(copy), name) : NULL;
	xmlChar *old;

	if (n == NULL) {
		xmlFreeDoc(copy);
		return NULL;
	}
	old = keep ? xmlNodeGetContent(n) : NULL;
	xmlNodeSetContent(n, (const xmlChar *)text);
	if (old != NULL)
		xmlNodeAddContent(n, old);
	xmlFree(old);
	return copy;
}

/* ---- tests ---- */

/* The same signer twice through one trust: the same result, the second
 * from the cache (the chain checked and the certificate described once),
 * an explicit time still checked, a known signer's bad document cleared. */
static void
test_signer_cache(void)
{
	struct dsig_result r1, r2, r3;
	struct dsig_x509_cache *c;
	struct dsig_trust *t;
	unsigned char md[32];
	unsigned long nv, nd;
	unsigned int mdlen = 0, i;
	char p[1024], fp[65];
	STACK_OF(X509) *certs;
	xmlNodePtr ki;
	X509_STORE *store;
	xmlDocPtr doc, bad;
	struct errs e;
	X509 *x, *leaf;
	FILE *f;
	int crl;

	CU_ASSERT_FATAL(have_keys);
	err_init(&e);
	doc = signed_doc("T:ec.key", "T:ec-chain.pem", &e);
	t = dsig_trust_new(tpath("T:root.pem", p, sizeof(p)), NULL, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* the fingerprint is the SHA-256 of the leaf, described or cached */
	f = fopen(tpath("T:ec.pem", p, sizeof(p)), "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL_FATAL(X509_digest(x, EVP_sha256(), md, &mdlen), 1);
	for (i = 0; i < mdlen; i++)
		snprintf(fp + 2 * i, 3, "%02x", md[i]);
	X509_free(x);
	CU_ASSERT_STRING_EQUAL(verify_with(t, doc, &r1), "OK");
	CU_ASSERT_STRING_EQUAL(verify_with(t, doc, &r2), "OK");
	CU_ASSERT_EQUAL(memcmp(&r1, &r2, sizeof(r1)), 0);
	CU_ASSERT_STRING_EQUAL(r2.party, "GB123456789000");
	CU_ASSERT_STRING_EQUAL(r2.fingerprint, fp);
	CU_ASSERT_PTR_NOT_NULL(strstr(r2.subject, "CN=Acme Imports Ltd"));
	/* a known signer, a document changed: SIG_INVALID, nothing filled */
	bad = edited(doc, "Amount", "1250.01", 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
	memset(&r3, 'x', sizeof(r3));
	CU_ASSERT_STRING_EQUAL(verify_with(t, bad, &r3), "SIG_INVALID");
	CU_ASSERT_STRING_EQUAL(r3.party, "");
	CU_ASSERT_STRING_EQUAL(r3.fingerprint, "");
	xmlFreeDoc(bad);
	dsig_trust_free(t);

	/* the same through dsig_x509, with the cache's counters */
	store = dsig_x509_store_load(tpath("T:root.pem", p, sizeof(p)), NULL,
	    &crl, &e);
	c = dsig_x509_cache_new();
	ki = find_elem(xmlDocGetRootElement(doc), "KeyInfo");
	CU_ASSERT_FATAL(store != NULL && c != NULL && ki != NULL);
	for (i = 0; i < 3; i++) {
		memset(&r3, 0, sizeof(r3));
		certs = dsig_x509_certs(ki, c, &e);
		leaf = certs != NULL ? dsig_x509_leaf(certs, ki, &e) : NULL;
		CU_ASSERT_PTR_NOT_NULL_FATAL(leaf);
		CU_ASSERT_EQUAL(dsig_x509_signer(c, store, crl, 0, leaf, certs,
		    ki, &r3, &e), 0);
		CU_ASSERT_STRING_EQUAL(r3.fingerprint, fp);
		CU_ASSERT_STRING_EQUAL(r3.subject, r1.subject);
		CU_ASSERT_STRING_EQUAL(r3.party, r1.party);
		dsig_x509_cache_counts(c, &nv, &nd);
		CU_ASSERT_EQUAL(nv, 1);
		CU_ASSERT_EQUAL(nd, 1);
		/* a verification time is checked, not taken from the cache:
		 * ec.pem expires after 365 days */
		CU_ASSERT_EQUAL(dsig_x509_signer(c, store, crl,
		    time(NULL) + 400L * 86400, leaf, certs, ki, &r3, &e), -1);
		CU_ASSERT(e.n > 0 && strcmp(err_first_code(&e),
		    "SIG_CERT_EXPIRED") == 0);
		err_clear(&e);
		/* no cache: the same description */
		memset(&r3, 0, sizeof(r3));
		CU_ASSERT_EQUAL(dsig_x509_signer(NULL, store, crl, 0, leaf,
		    certs, ki, &r3, &e), 0);
		CU_ASSERT_STRING_EQUAL(r3.fingerprint, fp);
		CU_ASSERT_STRING_EQUAL(r3.subject, r1.subject);
		sk_X509_pop_free(certs, X509_free);
	}
	dsig_x509_cache_counts(c, &nv, &nd);
	CU_ASSERT_EQUAL(nv, 1);
	CU_ASSERT_EQUAL(nd, 1);
	dsig_x509_cache_free(c);
	X509_STORE_free(store);
	xmlFreeDoc(doc);
	err_clear(&e);
}

/* Bad signers stay bad the second time; a verification is remembered no
 * longer than the certificate's notAfter. */
static void
test_signer_cache_bad(void)
{
	struct dsig_result res;
	struct dsig_trust *t;
	time_t until;
	xmlDocPtr doc, bad;
	struct errs e;
	char p[1024];
	int i;

	CU_ASSERT_FATAL(have_keys);
	err_init(&e);
	t = dsig_trust_new(tpath("T:root.pem", p, sizeof(p)), NULL, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	/* the sub CA neither embedded nor trusted */
	doc = signed_doc("T:ec.key", "T:ec.pem", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	for (i = 0; i < 2; i++) {
		CU_ASSERT_STRING_EQUAL(verify_with(t, doc, &res),
		    "SIG_CERT_UNTRUSTED");
		CU_ASSERT_STRING_EQUAL(res.party, "");
	}
	xmlFreeDoc(doc);
	/* expired an hour ago */
	CU_ASSERT_EQUAL_FATAL(make_leaf("old", -3600, &until), 0);
	doc = signed_doc("T:old.key", "T:old.pem", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	for (i = 0; i < 2; i++)
		CU_ASSERT_STRING_EQUAL(verify_with(t, doc, &res),
		    "SIG_CERT_EXPIRED");
	xmlFreeDoc(doc);
	/* expires in 2 s: valid now, twice, and expired once past notAfter
	 * although DSIG_X509_VERIFIED_S has not elapsed */
	CU_ASSERT_EQUAL_FATAL(make_leaf("short", 2, &until), 0);
	doc = signed_doc("T:short.key", "T:short.pem", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	for (i = 0; i < 2; i++) {
		CU_ASSERT_STRING_EQUAL(verify_with(t, doc, &res), "OK");
		CU_ASSERT_STRING_EQUAL(res.party, "short");
	}
	while (time(NULL) <= until)
		usleep(100 * 1000);
	CU_ASSERT_STRING_EQUAL(verify_with(t, doc, &res), "SIG_CERT_EXPIRED");
	CU_ASSERT_STRING_EQUAL(res.party, "");
	xmlFreeDoc(doc);
	/* a known signer's certificate text made invalid base64 */
	doc = signed_doc("T:ec.key", "T:ec-chain.pem", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_STRING_EQUAL(verify_with(t, doc, &res), "OK");
	bad = edited(doc, "X509Certificate", "=", 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
	CU_ASSERT_STRING_EQUAL(verify_with(t, bad, &res), "SIG_CERT_MISSING");
	xmlFreeDoc(bad);
	xmlFreeDoc(doc);
	dsig_trust_free(t);
	err_clear(&e);
}

/* ---- main: the keys made once, then the tests ---- */

int
main(void)
{
	static const struct unit_test tests[] = {
		{ "signer seen before", test_signer_cache },
		{ "bad signer seen before", test_signer_cache_bad },
	};
	int fails;

	if (dsig_global_init() != 0) {
		fprintf(stderr, "test_dsig_cache: dsig_global_init failed\n");
		return 1;
	}
	have_keys = make_keys() == 0;
	if (!have_keys)
		printf("test_dsig_cache: no test keys (temp dir '%s', see its "
		    "openssl.log)\n", tmpdir);
	fails = UNIT_SUITE("dsig_cache", NULL, NULL, tests);
	if (tmpdir[0] != '\0' && getenv("KEEP_TMP") == NULL)
		unit_sh("rm -rf '%s'", tmpdir);
	dsig_global_shutdown();
	return fails != 0;
}
