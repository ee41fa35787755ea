/* test_dsig: strict XML-DSig signing and verification (lib/dsig.c) with
 * keys and CAs made here by the openssl command line: round trips,
 * edits of a signed document the profile must refuse, interop with the
 * xmlsec1 command line both ways, configuration errors, the party name,
 * threads.  Needs neither VECTORS_DIR nor CORPUS_DIR; the third-party
 * vectors and signed samples are in test_dsig_vectors.c, the trust's
 * cache of signers seen before in test_dsig_cache.c.  Run from the
 * repository root. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <libxml/parser.h>
#include <openssl/x509.h>

#include "dsig.h"
#include "err.h"
#include "unit_util.h"

#define DSIG_NS "http://www.w3.org/2000/09/xmldsig#"

static char tmpdir[64];
static int have_keys;

/* ---- small helpers ---- */

/* "T:rel" in the temp dir. */
static const char *
tpath(const char *spec, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s/%s", tmpdir, spec + 2);
	return buf;
}

static xmlDocPtr
parse_file(const char *path)
{
	return xmlReadFile(path, NULL, XML_PARSE_NONET);
}

static xmlDocPtr
parse_mem(const char *buf, size_t len)
{
	return xmlReadMemory(buf, (int)len, "mem.xml", NULL, XML_PARSE_NONET);
}

static char *
dump(xmlDocPtr doc, size_t *len)
{
	xmlChar *mem = NULL;
	int n = 0;
	char *out;

	xmlDocDumpMemory(doc, &mem, &n);
	if (mem == NULL)
		return NULL;
	out = malloc((size_t)n + 1);
	if (out != NULL) {
		memcpy(out, mem, (size_t)n);
		out[n] = '\0';
		*len = (size_t)n;
	}
	xmlFree(mem);
	return out;
}

/* Replaces the first occurrence of from by to in s (new string). */
static char *
replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	size_t a, b, c;
	char *out;

	if (p == NULL)
		return NULL;
	a = (size_t)(p - s);
	b = strlen(to);
	c = strlen(p + strlen(from));
	out = malloc(a + b + c + 1);
	if (out == NULL)
		return NULL;
	memcpy(out, s, a);
	memcpy(out + a, to, b);
	memcpy(out + a + b, p + strlen(from), c + 1);
	return out;
}

/* ---- keys made here: root CA -> sub CA -> EC leaf; root -> RSA leaf ---- */

static int
make_keys(void)
{
	const char *d = tmpdir;
	FILE *f;
	char p[1024];

	snprintf(p, sizeof(p), "%s/ca.ext", d);
	if ((f = fopen(p, "w")) == NULL)
		return -1;
	fputs("basicConstraints=critical,CA:TRUE\n"
	    "keyUsage=critical,keyCertSign,cRLSign\n", f);
	fclose(f);
	snprintf(p, sizeof(p), "%s/leaf.ext", d);
	if ((f = fopen(p, "w")) == NULL)
		return -1;
	fputs("basicConstraints=CA:FALSE\n"
	    "keyUsage=critical,digitalSignature,nonRepudiation\n", f);
	fclose(f);
	return unit_sh("cd '%s' && exec >openssl.log 2>&1 && "
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out root.key && "
	    "openssl req -x509 -new -key root.key -subj '/CN=Test Root CA' -days 3650 -sha256 "
	    "  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out root.pem && "
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out sub.key && "
	    "openssl req -new -key sub.key -subj '/CN=Test Sub CA' -out sub.csr && "
	    "openssl x509 -req -in sub.csr -CA root.pem -CAkey root.key -set_serial 2 -days 3650 -sha256 -extfile ca.ext -out sub.pem && "
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key && "
	    "openssl req -new -key ec.key -subj '/CN=Acme Imports Ltd/serialNumber=GB123456789000' -out ec.csr && "
	    "openssl x509 -req -in ec.csr -CA sub.pem -CAkey sub.key -set_serial 3 -days 365 -sha256 -extfile leaf.ext -out ec.pem && "
	    "cat ec.pem sub.pem > ec-chain.pem && "
	    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key && "
	    "openssl req -new -key rsa.key -subj '/CN=Broker RSA' -out rsa.csr && "
	    "openssl x509 -req -in rsa.csr -CA root.pem -CAkey root.key -set_serial 4 -days 365 -sha256 -extfile leaf.ext -out rsa.pem && "
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -out p521.key && "
	    "openssl req -x509 -new -key p521.key -subj '/CN=P521' -days 30 -out p521.pem && "
	    "cat root.pem sub.pem > root-sub.pem", d) == 0 ? 0 : -1;
}

static const char response_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Response xmlns=\"urn:declared:response:1\">\n"
    "  <FunctionCode>30</FunctionCode>\n"
    "  <FunctionalReferenceID>LRN-2026-000042</FunctionalReferenceID>\n"
    "  <IssueDateTime>2026-11-22T19:00:00Z</IssueDateTime>\n"
    "  <Declaration><ID>26GB0000000000042</ID></Declaration>\n"
    "  <Status><Code>accepted</Code></Status>\n"
    "  <Amount currencyID=\"EUR\">1250.00</Amount>\n"
    "</Response>\n";

static xmlDocPtr
signed_doc(const char *key, const char *cert, struct errs *e)
{
	char pk[1024], pc[1024];
	struct dsig_signer *s;
	xmlDocPtr doc;
	int rc;

	s = dsig_signer_new(tpath(key, pk, sizeof(pk)), tpath(cert, pc,
	    sizeof(pc)), e);
	if (s == NULL)
		return NULL;
	doc = parse_mem(response_xml, sizeof(response_xml) - 1);
	rc = doc ? dsig_sign(s, doc, e) : -1;
	dsig_signer_free(s);
	if (rc < 0) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}

/* dsig_verify with trust file ca; returns the first error code or "OK". */
static const char *
verify_doc(xmlDocPtr doc, const char *ca, struct dsig_result *res)
{
	static __thread char code[ERR_CODE_MAX];
	struct dsig_policy pol = { 0 };
	struct dsig_trust *t;
	struct errs e;
	char p[1024];
	int rc = -1;

	err_init(&e);
	t = dsig_trust_new(tpath(ca, p, sizeof(p)), NULL, &e);
	if (t != NULL)
		rc = dsig_verify(t, &pol, doc, res, &e);
	snprintf(code, sizeof(code), "%s", rc == 0 ? "OK" :
	    err_first_code(&e) ? err_first_code(&e) : "?");
	dsig_trust_free(t);
	err_clear(&e);
	return code;
}

static void
test_roundtrip(void)
{
	struct dsig_result res;
	struct errs e;
	xmlDocPtr doc, doc2;
	char *xml, *bad;
	size_t len;

	CU_ASSERT_FATAL(have_keys);
	err_init(&e);
	/* ECDSA P-256, chain embedded: trusting the root alone is enough */
	doc = signed_doc("T:ec.key", "T:ec-chain.pem", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_STRING_EQUAL(verify_doc(doc, "T:root.pem", &res), "OK");
	CU_ASSERT_STRING_EQUAL(res.party, "GB123456789000");
	CU_ASSERT_STRING_EQUAL(res.algorithm,
	    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256");
	CU_ASSERT_EQUAL(strlen(res.fingerprint), 64);
	CU_ASSERT_STRING_EQUAL(verify_doc(doc, "T:rsa.pem", &res),
	    "SIG_CERT_UNTRUSTED");
	/* signing twice is refused */
	{
		char pk[1024], pc[1024];
		struct dsig_signer *s = dsig_signer_new(tpath("T:ec.key", pk,
		    sizeof(pk)), tpath("T:ec.pem", pc, sizeof(pc)), &e);

		CU_ASSERT_PTR_NOT_NULL_FATAL(s);
		CU_ASSERT_EQUAL(dsig_sign(s, doc, &e), -1);
		CU_ASSERT_STRING_EQUAL(err_first_code(&e), "DSIG_SIGN");
		dsig_signer_free(s);
	}
	/* serialised and parsed again, still valid; one byte changed: not */
	xml = dump(doc, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(xml);
	/* verification puts the Signature back where it was */
	{
		size_t len2;
		char *again;

		CU_ASSERT_STRING_EQUAL(verify_doc(doc, "T:root.pem", &res),
		    "OK");
		again = dump(doc, &len2);
		CU_ASSERT_PTR_NOT_NULL_FATAL(again);
		CU_ASSERT_STRING_EQUAL(again, xml);
		free(again);
	}
	/* ds declared on the root instead of on Signature: SignedInfo is
	 * canonicalized apart from the document and must still declare it */
	{
		char *a = replace(xml, "<ds:Signature xmlns:ds=\"" DSIG_NS "\"",
		    "<ds:Signature");
		char *b = a ? replace(a, "<Response xmlns=\"urn:declared:response:1\"",
		    "<Response xmlns=\"urn:declared:response:1\" xmlns:ds=\""
		    DSIG_NS "\"") : NULL;

		CU_ASSERT_PTR_NOT_NULL_FATAL(b);
		doc2 = parse_mem(b, strlen(b));
		CU_ASSERT_STRING_EQUAL(verify_doc(doc2, "T:root.pem", &res),
		    "OK");
		xmlFreeDoc(doc2);
		free(a);
		free(b);
	}
	doc2 = parse_mem(xml, len);
	CU_ASSERT_STRING_EQUAL(verify_doc(doc2, "T:root.pem", &res), "OK");
	xmlFreeDoc(doc2);
	bad = replace(xml, "1250.00", "1250.01");
	CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
	doc2 = parse_mem(bad, strlen(bad));
	CU_ASSERT_STRING_EQUAL(verify_doc(doc2, "T:root.pem", &res),
	    "SIG_INVALID");
	xmlFreeDoc(doc2);
	free(bad);
	free(xml);
	xmlFreeDoc(doc);

	/* the leaf alone: the sub CA must then come from the trust file */
	doc = signed_doc("T:ec.key", "T:ec.pem", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_STRING_EQUAL(verify_doc(doc, "T:root.pem", &res),
	    "SIG_CERT_UNTRUSTED");
	CU_ASSERT_STRING_EQUAL(verify_doc(doc, "T:root-sub.pem", &res), "OK");
	CU_ASSERT_STRING_EQUAL(verify_doc(doc, "T:sub.pem", &res),
	    "SIG_CERT_UNTRUSTED"); /* an intermediate is no anchor */
	xmlFreeDoc(doc);

	/* RSA-2048 */
	doc = signed_doc("T:rsa.key", "T:rsa.pem", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_STRING_EQUAL(verify_doc(doc, "T:root.pem", &res), "OK");
	CU_ASSERT_STRING_EQUAL(res.party, "Broker RSA");
	CU_ASSERT_STRING_EQUAL(res.algorithm,
	    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
	xmlFreeDoc(doc);
	err_clear(&e);
}

/* Edits of a valid signed document that the profile must refuse before
 * any cryptography. */
static void
test_mutations(void)
{
	static const struct { const char *from, *to, *code; } m[] = {
		{ "URI=\"\"", "URI=\"#x\"", "SIG_REFERENCE" },
		{ "URI=\"\"", "", "SIG_REFERENCE" },
		{ "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
		  "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><ds:XPath>1</ds:XPath></ds:Transform>",
		  "SIG_ALGORITHM" },
		{ "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
		  "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#WithComments\"/>",
		  "SIG_ALGORITHM" },
		{ "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>",
		  "", "SIG_STRUCTURE" },
		{ "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
		  "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\"/>",
		  "SIG_ALGORITHM" },
		{ "xmldsig-more#ecdsa-sha256", "xmldsig-more#hmac-sha256", "SIG_ALGORITHM" },
		{ "xmldsig-more#ecdsa-sha256", "xmldsig-more#rsa-sha256", "SIG_ALGORITHM" },
		{ "xmlenc#sha256", "xmldsig-more#md5", "SIG_ALGORITHM" },
		{ "xmlenc#sha256", "xmlenc#sha512", "SIG_INVALID" },
		{ "</ds:Reference>", "</ds:Reference><ds:Reference URI=\"\"/>", "SIG_STRUCTURE" },
		{ "</ds:KeyInfo>", "</ds:KeyInfo><ds:Object/>", "SIG_STRUCTURE" },
		{ "</ds:SignatureValue>", "<!-- x --></ds:SignatureValue>", "SIG_STRUCTURE" },
		{ "<ds:X509Data>", "<ds:KeyValue/><ds:X509Data><ds:X509CRL/>", "OK" },
		{ "<ds:X509Certificate>", "<ds:X509Certificate>AAAA", "SIG_CERT_MISSING" },
		{ "<ds:X509Data>", "<ds:RetrievalMethod URI=\"http://127.0.0.1:9/c\"/><ds:X509Data>", "SIG_REFERENCE" },
		{ "<Status>", "<Status Id=\"a\"><X Id=\"a\"/>", "SIG_DUPLICATE_ID" },
		{ "<Code>accepted", "<Code>acc<!--x-->epted", "SIG_STRUCTURE" },
		{ "<Declaration>", "<Declaration>&amp;", "SIG_INVALID" },
		/* text beside the unlinked Signature is signed */
		{ "</ds:Signature></Response>", "</ds:Signature> </Response>", "SIG_INVALID" },
		{ "</Amount>\n", "</Amount>\n ", "SIG_INVALID" },
		/* namespaces the signed content does not use: not rendered */
		{ "<Response xmlns=\"urn:declared:response:1\">",
		  "<Response xmlns=\"urn:declared:response:1\" xmlns:u=\"urn:unused\">", "OK" },
		{ "<Declaration>", "<Declaration><ds:Signature xmlns:ds=\"" DSIG_NS "\"/>", "SIG_STRUCTURE" },
		{ "<?xml version=\"1.0\" encoding=\"UTF-8\"?>",
		  "<?xml version=\"1.0\"?><!DOCTYPE Response [<!ENTITY e \"x\">]>", "SIG_STRUCTURE" },
	};
	struct dsig_result res;
	struct errs e;
	xmlDocPtr doc, d2;
	size_t i, len;
	char *xml, *mut;
	const char *got;

	CU_ASSERT_FATAL(have_keys);
	err_init(&e);
	doc = signed_doc("T:ec.key", "T:ec-chain.pem", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	xml = dump(doc, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(xml);
	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		mut = replace(xml, m[i].from, m[i].to);
		CU_ASSERT_PTR_NOT_NULL(mut);
		if (mut == NULL) {
			printf("\n  mutation %zu: pattern not found", i);
			continue;
		}
		d2 = parse_mem(mut, strlen(mut));
		got = d2 ? verify_doc(d2, "T:root.pem", &res) : "PARSE";
		if (strcmp(got, m[i].code) != 0)
			printf("\n  mutation %zu: expected %s, got %s", i,
			    m[i].code, got);
		CU_ASSERT_STRING_EQUAL(got, m[i].code);
		xmlFreeDoc(d2);
		free(mut);
	}
	free(xml);
	xmlFreeDoc(doc);
	err_clear(&e);
}

static void
test_interop(void)
{
	char p[1024], out[1024], cmd[2048];
	struct dsig_result res;
	struct errs e;
	xmlDocPtr doc;
	FILE *f;
	int rc;

	CU_ASSERT_FATAL(have_keys);
	if (unit_run("xmlsec1 --version >/dev/null 2>&1") != 0) {
		printf("\n  SKIP: xmlsec1 command line not installed ");
		return;
	}
	err_init(&e);
	/* ours -> xmlsec1 --verify, ECDSA with chain and RSA */
	doc = signed_doc("T:ec.key", "T:ec-chain.pem", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	tpath("T:ours-ec.xml", out, sizeof(out));
	CU_ASSERT(xmlSaveFile(out, doc) > 0);
	xmlFreeDoc(doc);
	rc = unit_sh("xmlsec1 --verify --trusted-pem '%s' --enabled-key-data x509 "
	    "'%s' >/dev/null 2>&1", tpath("T:root.pem", p, sizeof(p)), out);
	CU_ASSERT_EQUAL(rc, 0);
	doc = signed_doc("T:rsa.key", "T:rsa.pem", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	tpath("T:ours-rsa.xml", out, sizeof(out));
	CU_ASSERT(xmlSaveFile(out, doc) > 0);
	xmlFreeDoc(doc);
	rc = unit_sh("xmlsec1 --verify --trusted-pem '%s' --enabled-key-data x509 "
	    "'%s' >/dev/null 2>&1", tpath("T:root.pem", p, sizeof(p)), out);
	CU_ASSERT_EQUAL(rc, 0);

	/* xmlsec1 --sign -> dsig_verify */
	tpath("T:tmpl.xml", p, sizeof(p));
	f = fopen(p, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("<?xml version=\"1.0\"?>\n<Response xmlns=\"urn:x\"><ID>7</ID>"
	    "<ds:Signature xmlns:ds=\"" DSIG_NS "\"><ds:SignedInfo>"
	    "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>"
	    "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256\"/>"
	    "<ds:Reference URI=\"\"><ds:Transforms>"
	    "<ds:Transform Algorithm=\"" DSIG_NS "enveloped-signature\"/>"
	    "</ds:Transforms><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/>"
	    "<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/>"
	    "<ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature></Response>\n", f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "cd '%s' && xmlsec1 --sign --privkey-pem "
	    "ec.key,ec.pem,sub.pem --output theirs.xml tmpl.xml >/dev/null 2>&1",
	    tmpdir);
	CU_ASSERT_EQUAL_FATAL(unit_run(cmd), 0);
	doc = parse_file(tpath("T:theirs.xml", p, sizeof(p)));
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_STRING_EQUAL(verify_doc(doc, "T:root-sub.pem", &res), "OK");
	CU_ASSERT_STRING_EQUAL(res.party, "GB123456789000");
	xmlFreeDoc(doc);
	err_clear(&e);
}

static void
test_config_errors(void)
{
	char pk[1024], pc[1024];
	struct errs e;

	CU_ASSERT_FATAL(have_keys);
	err_init(&e);
	CU_ASSERT_PTR_NULL(dsig_trust_new("/nonexistent/ca.pem", NULL, &e));
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "DSIG_CONFIG");
	err_clear(&e);
	CU_ASSERT_PTR_NULL(dsig_trust_new(tpath("T:root.key", pk, sizeof(pk)),
	    NULL, &e)); /* no certificate in it */
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "DSIG_CONFIG");
	err_clear(&e);
	CU_ASSERT_PTR_NULL(dsig_trust_new(tpath("T:root.pem", pk, sizeof(pk)),
	    tpath("T:root.pem", pc, sizeof(pc)), &e)); /* no CRL in it */
	err_clear(&e);
	/* key and certificate that do not belong together */
	CU_ASSERT_PTR_NULL(dsig_signer_new(tpath("T:ec.key", pk, sizeof(pk)),
	    tpath("T:rsa.pem", pc, sizeof(pc)), &e));
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "DSIG_CONFIG");
	err_clear(&e);
	/* P-521 is outside the profile */
	CU_ASSERT_PTR_NULL(dsig_signer_new(tpath("T:p521.key", pk, sizeof(pk)),
	    tpath("T:p521.pem", pc, sizeof(pc)), &e));
	err_clear(&e);
	CU_ASSERT_PTR_NULL(dsig_signer_new("/nonexistent.key",
	    tpath("T:ec.pem", pc, sizeof(pc)), &e));
	err_clear(&e);
	dsig_signer_free(NULL);
	dsig_trust_free(NULL);
	dsig_remove_signature(NULL);
	CU_ASSERT_EQUAL(dsig_verify(NULL, NULL, NULL, NULL, &e), -1);
	err_clear(&e);
}

static void
test_party(void)
{
	char out[128], tiny[8];
	X509_NAME *n;
	X509 *x;

	x = X509_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	n = X509_get_subject_name(x);
	dsig_cert_party(x, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "");
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8,
	    (const unsigned char *)"Acme", -1, -1, 0);
	dsig_cert_party(x, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "Acme");
	X509_NAME_add_entry_by_NID(n, NID_serialNumber, MBSTRING_UTF8,
	    (unsigned char *)"CN91350200MA2Y", -1, -1, 0);
	dsig_cert_party(x, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "CN91350200MA2Y");
	dsig_cert_party(x, tiny, sizeof(tiny)); /* never truncated */
	CU_ASSERT_STRING_EQUAL(tiny, "");
	dsig_cert_party(NULL, out, sizeof(out));
	CU_ASSERT_STRING_EQUAL(out, "");
	X509_free(x);
}

/* Shared trust and signer from several threads at once. */
struct thr {
	struct dsig_trust *t;
	struct dsig_signer *s;
	int fails;
};

static void *
thr_main(void *arg)
{
	struct thr *th = arg;
	struct dsig_policy pol = { 0 };
	struct dsig_result res;
	struct errs e;
	xmlDocPtr doc;
	int i;

	err_init(&e);
	for (i = 0; i < 40; i++) {
		doc = parse_mem(response_xml, sizeof(response_xml) - 1);
		if (doc == NULL || dsig_sign(th->s, doc, &e) < 0 ||
		    dsig_verify(th->t, &pol, doc, &res, &e) < 0 ||
		    strcmp(res.party, "GB123456789000") != 0)
			th->fails++;
		xmlFreeDoc(doc);
		err_clear(&e);
	}
	return NULL;
}

static void
test_threads(void)
{
	struct thr th[4];
	pthread_t tid[4];
	struct dsig_trust *t;
	struct dsig_signer *s;
	struct errs e;
	char p1[1024], p2[1024];
	int i;

	CU_ASSERT_FATAL(have_keys);
	err_init(&e);
	t = dsig_trust_new(tpath("T:root.pem", p1, sizeof(p1)), NULL, &e);
	s = dsig_signer_new(tpath("T:ec.key", p1, sizeof(p1)),
	    tpath("T:ec-chain.pem", p2, sizeof(p2)), &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (i = 0; i < 4; i++) {
		th[i].t = t;
		th[i].s = s;
		th[i].fails = 0;
		CU_ASSERT_EQUAL_FATAL(pthread_create(&tid[i], NULL, thr_main,
		    &th[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		CU_ASSERT_EQUAL(th[i].fails, 0);
	}
	dsig_signer_free(s);
	dsig_trust_free(t);
	err_clear(&e);
}

/* ---- setup ---- */

static int
suite_init(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_dsig.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	have_keys = make_keys() == 0;
	if (!have_keys)
		printf("test_dsig: openssl key generation failed, see %s/openssl.log\n",
		    tmpdir);
	return 0;
}

static int
suite_clean(void)
{
	if (tmpdir[0] != '\0' && getenv("KEEP_TMP") == NULL)
		unit_sh("rm -rf '%s'", tmpdir);
	return 0;
}

int
main(void)
{
	unsigned int fails;

	if (dsig_global_init() != 0) {
		fprintf(stderr, "test_dsig: dsig_global_init failed\n");
		return 1;
	}
	static const struct unit_test tests[] = {
		{ "sign/verify round trip", test_roundtrip },
		{ "profile mutations", test_mutations },
		{ "xmlsec1 interop", test_interop },
		{ "config errors", test_config_errors },
		{ "party", test_party },
		{ "threads", test_threads },
	};

	fails = UNIT_SUITE("dsig", suite_init, suite_clean, tests);
	dsig_global_shutdown();
	return fails != 0;
}
