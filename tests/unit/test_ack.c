/* test_ack: Response documents written by lib/ack.c are valid against
 * xsd/response.xsd, carry the right fields, escape hostile text and
 * re-parse after serialization; signed ones (ack_sign) are byte for byte
 * what exclusive c14n makes of them, verify under the strict profile with
 * an ECDSA and an RSA key made here by openssl, and fail when a byte of
 * them changes.  Run from the repository root. */
#include <CUnit/Basic.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/xmlschemas.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "ack.h"
#include "dsig.h"
#include "err.h"

#include "unit_util.h"

#define RESPONSE_XSD "xsd/response.xsd"
#define MRN "26XX00000000000017"
#define ISSUED "2026-03-02T10:15:00.123Z"

static xmlSchemaPtr schema;
static char tmpdir[64];
static struct dsig_signer *ec_signer, *rsa_signer;
static struct dsig_trust *trust;

/* An EC P-256 and an RSA-2048 signer under one test CA, in tmpdir. */
static int
make_signers(void)
{
	char k[128], c[128];
	struct errs e;
	int rc = -1;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_ack.XXXXXX");
	if (mkdtemp(tmpdir) == NULL ||
	    unit_sh("cd '%s' && exec >openssl.log 2>&1 && "
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key && "
	    "openssl req -x509 -new -key ca.key -subj '/CN=Ack Test CA' -days 30 -sha256 "
	    "  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign -out ca.pem && "
	    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.key && "
	    "openssl req -new -key ec.key -subj '/CN=Customs/serialNumber=GBCUSTOMS' -out ec.csr && "
	    "openssl x509 -req -in ec.csr -CA ca.pem -CAkey ca.key -set_serial 2 -days 30 -sha256 -out ec.pem && "
	    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.key && "
	    "openssl req -new -key rsa.key -subj '/CN=Customs RSA' -out rsa.csr && "
	    "openssl x509 -req -in rsa.csr -CA ca.pem -CAkey ca.key -set_serial 3 -days 30 -sha256 -out rsa.pem",
	    tmpdir) != 0)
		return -1;
	err_init(&e);
	snprintf(k, sizeof(k), "%s/ec.key", tmpdir);
	snprintf(c, sizeof(c), "%s/ec.pem", tmpdir);
	if ((ec_signer = dsig_signer_new(k, c, &e)) == NULL)
		goto done;
	snprintf(k, sizeof(k), "%s/rsa.key", tmpdir);
	snprintf(c, sizeof(c), "%s/rsa.pem", tmpdir);
	if ((rsa_signer = dsig_signer_new(k, c, &e)) == NULL)
		goto done;
	snprintf(c, sizeof(c), "%s/ca.pem", tmpdir);
	if ((trust = dsig_trust_new(c, NULL, &e)) == NULL)
		goto done;
	rc = 0;
done:
	if (rc != 0 && e.n > 0)
		fprintf(stderr, "test_ack: %s\n", e.v[0].msg);
	err_clear(&e);
	return rc;
}

static int
suite_init(void)
{
	xmlSchemaParserCtxtPtr pc;

	xmlInitParser();
	if (dsig_global_init() != 0 || make_signers() != 0)
		return -1;
	if ((pc = xmlSchemaNewParserCtxt(RESPONSE_XSD)) == NULL)
		return -1;
	schema = xmlSchemaParse(pc);
	xmlSchemaFreeParserCtxt(pc);
	if (schema == NULL)
		fprintf(stderr, "test_ack: cannot compile %s (run from the repo root)\n",
		    RESPONSE_XSD);
	return schema == NULL ? -1 : 0;
}

static int
suite_clean(void)
{
	xmlSchemaFree(schema);
	dsig_signer_free(ec_signer);
	dsig_signer_free(rsa_signer);
	dsig_trust_free(trust);
	if (tmpdir[0] != '\0')
		unit_sh("rm -rf '%s'", tmpdir);
	dsig_global_shutdown();
	xmlCleanupParser();
	return 0;
}

/* 0 if valid; libxml2 prints the schema errors to stderr for diagnosis. */
static int
validate(xmlDocPtr doc)
{
	xmlSchemaValidCtxtPtr vc = xmlSchemaNewValidCtxt(schema);
	int rc;

	if (vc == NULL)
		return -1;
	rc = xmlSchemaValidateDoc(vc, doc);
	xmlSchemaFreeValidCtxt(vc);
	return rc;
}

/* String value of expr (prefix r = ACK_NS) as a malloc'd string; "" when
 * nothing matches. */
static char *
xp(xmlDocPtr doc, const char *expr)
{
	xmlXPathContextPtr c = xmlXPathNewContext(doc);
	xmlXPathObjectPtr o = NULL;
	xmlChar *s = NULL;
	char *r;

	if (c == NULL)
		return strdup("<xpath ctx>");
	xmlXPathRegisterNs(c, BAD_CAST "r", BAD_CAST ACK_NS);
	o = xmlXPathEvalExpression(BAD_CAST expr, c);
	if (o != NULL)
		s = xmlXPathCastToString(o);
	r = strdup(s != NULL ? (const char *)s : "<xpath error>");
	xmlFree(s);
	xmlXPathFreeObject(o);
	xmlXPathFreeContext(c);
	return r;
}

#define CHECK_XP(doc, expr, want) do {                                  \
	char *got_ = xp((doc), (expr));                                 \
	const char *g_ = got_ != NULL ? got_ : "(out of memory)";       \
	if (strcmp(g_, (want)) != 0)                                    \
		fprintf(stderr, "\n  %s: got '%s', want '%s'\n", (expr), g_, (want)); \
	CU_ASSERT_STRING_EQUAL(g_, (want));                             \
	free(got_);                                                     \
} while (0)

/* Serializes and parses back (no network, no entities). */
static xmlDocPtr
roundtrip(xmlDocPtr doc, char **text)
{
	char *buf = NULL;
	size_t len = 0;
	xmlDocPtr back;

	if (ack_serialize(doc, &buf, &len) != 0)
		return NULL;
	back = xmlReadMemory(buf, (int)len, "ack.xml", NULL, XML_PARSE_NONET);
	if (text != NULL)
		*text = buf;
	else
		free(buf);
	return back;
}

/* The fields of an accepted, green-lane receipt (issued: now). */
static void
accepted(struct ack_info *ai, char digest[65])
{
	ack_sha256_hex("<Declaration/>", 14, digest);
	ai->function_code = ACK_ACCEPTED;
	ai->lrn = "LRN-000001";
	ai->declaration_id = "1024";
	ai->mrn = MRN;
	ai->status = "accepted";
	ai->lane = "green";
	ai->digest_hex = digest;
}

static void
test_accepted(void)
{
	char digest[65];
	struct ack_info ai = { 0 };
	xmlDocPtr doc, back;
	char *issued, *text = NULL;

	accepted(&ai, digest);
	doc = ack_build(&ai);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL(validate(doc), 0);
	CHECK_XP(doc, "namespace-uri(/*)", ACK_NS);
	CHECK_XP(doc, "local-name(/*)", "Response");
	CHECK_XP(doc, "/r:Response/r:FunctionCode", "01");
	CHECK_XP(doc, "/r:Response/r:FunctionalReferenceID", "LRN-000001");
	CHECK_XP(doc, "/r:Response/r:Declaration/r:ID", "1024");
	CHECK_XP(doc, "/r:Response/r:Declaration/r:MRN", MRN);
	CHECK_XP(doc, "/r:Response/r:Declaration/r:Status/r:NameCode", "accepted");
	CHECK_XP(doc, "/r:Response/r:Declaration/r:Lane", "green");
	CHECK_XP(doc, "/r:Response/r:SubmittedDocumentDigest", digest);
	CHECK_XP(doc, "/r:Response/r:SubmittedDocumentDigest/@algorithm", "sha256");
	CHECK_XP(doc, "count(/r:Response/r:Error)", "0");
	CHECK_XP(doc, "count(/r:Response/r:AdditionalInformation)", "0");
	/* issued defaulted to now; the status takes the same instant */
	issued = xp(doc, "string(/r:Response/r:IssueDateTime)");
	CU_ASSERT_PTR_NOT_NULL_FATAL(issued);
	CU_ASSERT_EQUAL(strlen(issued), 24);
	CU_ASSERT_EQUAL(issued[23], 'Z');
	CHECK_XP(doc, "/r:Response/r:Declaration/r:Status/r:EffectiveDateTime", issued);
	free(issued);
	/* no prefix on any element: the namespace is the default one */
	back = roundtrip(doc, &text);
	CU_ASSERT_PTR_NOT_NULL(back);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "<Response xmlns=\"" ACK_NS "\">"));
	CU_ASSERT_PTR_NULL(strstr(text, "<ns"));
	free(text);
	xmlFreeDoc(back);
	xmlFreeDoc(doc);
}

static void
test_rejected(void)
{
	struct errs e;
	struct ack_info ai = { 0 };
	xmlDocPtr doc;

	err_init(&e);
	err_add(&e, "XSD_INVALID", 12, "/*/*[8]/*[2]",
	    "Element 'CountryCode': [facet 'enumeration'] The value 'XX' is not an element of the set");
	err_add(&e, "XSD_INVALID", 40, "", "missing element");
	err_add(&e, "RULE_VALUE_SUM", 0, "/*/*[7]", "items sum to %d.%02d", 10, 5);
	ai.function_code = ACK_REJECTED;
	ai.lrn = "LRN-2";
	ai.declaration_id = "1025";
	ai.status = "rejected";
	ai.issued = ISSUED;
	ai.errors = &e;
	doc = ack_build(&ai);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL(validate(doc), 0);
	CHECK_XP(doc, "/r:Response/r:FunctionCode", "03");
	CHECK_XP(doc, "/r:Response/r:IssueDateTime", ISSUED);
	CHECK_XP(doc, "/r:Response/r:Declaration/r:Status/r:EffectiveDateTime", ISSUED);
	CHECK_XP(doc, "count(/r:Response/r:Declaration/r:MRN)", "0");
	CHECK_XP(doc, "count(/r:Response/r:Declaration/r:Lane)", "0");
	CHECK_XP(doc, "count(/r:Response/r:Error)", "3");
	CHECK_XP(doc, "/r:Response/r:Error[1]/r:ValidationCode", "XSD_INVALID");
	CHECK_XP(doc, "/r:Response/r:Error[1]/r:Pointer", "/*/*[8]/*[2]");
	CHECK_XP(doc, "/r:Response/r:Error[1]/r:Line", "12");
	CHECK_XP(doc, "substring(/r:Response/r:Error[1]/r:Description, 1, 22)",
	    "Element 'CountryCode':");
	/* empty pointer and line 0 are left out */
	CHECK_XP(doc, "count(/r:Response/r:Error[2]/r:Pointer)", "0");
	CHECK_XP(doc, "/r:Response/r:Error[2]/r:Line", "40");
	CHECK_XP(doc, "/r:Response/r:Error[3]/r:ValidationCode", "RULE_VALUE_SUM");
	CHECK_XP(doc, "/r:Response/r:Error[3]/r:Description", "items sum to 10.05");
	CHECK_XP(doc, "count(/r:Response/r:Error[3]/r:Line)", "0");
	/* errors come after the declaration block, as the schema orders them */
	CHECK_XP(doc, "local-name(/r:Response/r:Error[1]/preceding-sibling::*[1])",
	    "Declaration");
	xmlFreeDoc(doc);
	err_clear(&e);
}

static void
test_decision(void)
{
	const char *reason = "Certificate of origin missing for items 3 and 7; "
	    "présentez le certificat EUR.1 \xe2\x80\x94 deadline 5 days";
	struct ack_info ai = { 0 };
	xmlDocPtr doc, back;

	ai.function_code = ACK_HELD;
	ai.declaration_id = "1026";
	ai.mrn = MRN;
	ai.status = "held";
	ai.issued = ISSUED;
	ai.reason = reason;
	doc = ack_build(&ai);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL(validate(doc), 0);
	CHECK_XP(doc, "/r:Response/r:FunctionCode", "16");
	CHECK_XP(doc, "count(/r:Response/r:FunctionalReferenceID)", "0");
	CHECK_XP(doc, "/r:Response/r:Declaration/r:Status/r:NameCode", "held");
	CHECK_XP(doc, "/r:Response/r:AdditionalInformation", reason);
	back = roundtrip(doc, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_EQUAL(validate(back), 0);
	CHECK_XP(back, "/r:Response/r:AdditionalInformation", reason);
	xmlFreeDoc(back);
	xmlFreeDoc(doc);
}

static void
test_sha256(void)
{
	char h[65];

	memset(h, 'x', sizeof(h));
	ack_sha256_hex("abc", 3, h);
	CU_ASSERT_STRING_EQUAL(h,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ack_sha256_hex("", 0, h);
	CU_ASSERT_STRING_EQUAL(h,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void
test_escape(void)
{
	const char *ptr = "/*/*[@a=\"x\" and @b='y']<b>&amp;</b>";
	struct errs e;
	struct ack_info ai = { 0 };
	xmlDocPtr doc, back;
	char *text = NULL;

	err_init(&e);
	err_add(&e, "XSD_INVALID", 3, ptr, "value \"<script>\" & '%s'", "q");
	ai.function_code = ACK_ERROR;
	ai.issued = ISSUED;
	ai.errors = &e;
	doc = ack_build(&ai);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	back = roundtrip(doc, &text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_EQUAL(validate(back), 0);
	CHECK_XP(back, "/r:Response/r:Error/r:Pointer", ptr);
	CHECK_XP(back, "/r:Response/r:Error/r:Description", "value \"<script>\" & 'q'");
	/* escaped on the wire, not raw */
	CU_ASSERT_PTR_NULL(strstr(text, "<b>"));
	CU_ASSERT_PTR_NULL(strstr(text, "<script>"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "&lt;b&gt;&amp;amp;&lt;/b&gt;"));
	free(text);
	xmlFreeDoc(back);
	xmlFreeDoc(doc);
	err_clear(&e);
}

static void
test_serialize(void)
{
	static const char decl[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";
	struct ack_info ai = { 0 };
	xmlDocPtr doc, back;
	char *buf = NULL;
	size_t len = 0;

	ai.function_code = ACK_RECEIVED;
	ai.lrn = "A/B.C-D_E";
	ai.issued = ISSUED;
	doc = ack_build(&ai);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL(ack_serialize(doc, &buf, &len), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(buf);
	CU_ASSERT_EQUAL(strlen(buf), len);
	CU_ASSERT_EQUAL(strncmp(buf, decl, sizeof(decl) - 1), 0);
	back = xmlReadMemory(buf, (int)len, "ack.xml", NULL, XML_PARSE_NONET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_EQUAL(validate(back), 0);
	CHECK_XP(back, "/r:Response/r:FunctionalReferenceID", "A/B.C-D_E");
	CHECK_XP(back, "count(/r:Response/r:Declaration)", "0");
	free(buf);
	CU_ASSERT_EQUAL(ack_serialize(NULL, &buf, &len), -1);
	CU_ASSERT_PTR_NULL(buf);
	xmlFreeDoc(back);
	xmlFreeDoc(doc);
}

/* Bytes that are not XML characters or not UTF-8, from a hostile document,
 * still give a Response that serializes, re-parses and validates. */
static void
test_bad_bytes(void)
{
	struct errs e;
	struct ack_info ai = { 0 };
	char lrn[200];
	xmlDocPtr doc, back;
	char *text = NULL, *got;

	err_init(&e);
	err_add(&e, "XML_MALFORMED", 1, "/x\x01y",
	    "bad \xff\xfe bytes \xc0\xaf overlong \xed\xa0\x80 surrogate \xef\xbf\xbe end");
	memset(lrn, 'L', sizeof(lrn) - 1);
	lrn[sizeof(lrn) - 1] = '\0';
	lrn[70] = '\xc3'; /* a 2-byte character across the 71-byte cap */
	lrn[71] = '\xa9';
	ai.function_code = ACK_ERROR;
	ai.lrn = lrn;
	ai.issued = ISSUED;
	ai.errors = &e;
	doc = ack_build(&ai);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	back = roundtrip(doc, &text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_EQUAL(validate(back), 0);
	CHECK_XP(back, "/r:Response/r:Error/r:Pointer", "/x y");
	CHECK_XP(back, "/r:Response/r:Error/r:Description",
	    "bad ?? bytes ?? overlong ? surrogate ? end");
	got = xp(back, "string(/r:Response/r:FunctionalReferenceID)");
	CU_ASSERT_PTR_NOT_NULL_FATAL(got);
	CU_ASSERT_EQUAL(strlen(got), 70);
	CU_ASSERT_EQUAL(strncmp(got, lrn, 70), 0);
	free(got);
	free(text);
	xmlFreeDoc(back);
	xmlFreeDoc(doc);
	err_clear(&e);
}

static void
test_truncated_list(void)
{
	struct errs e;
	struct ack_info ai = { 0 };
	xmlDocPtr doc;
	int i;

	err_init(&e);
	for (i = 0; i < ERR_LIST_CAP + 5; i++)
		err_add(&e, "XSD_INVALID", i + 1, "/*", "error %d", i);
	ai.function_code = ACK_REJECTED;
	ai.issued = ISSUED;
	ai.errors = &e;
	doc = ack_build(&ai);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL(validate(doc), 0);
	CHECK_XP(doc, "count(/r:Response/r:Error)", "101");
	CHECK_XP(doc, "/r:Response/r:Error[101]/r:ValidationCode", "ERRORS_TRUNCATED");
	CHECK_XP(doc, "/r:Response/r:Error[101]/r:Description", "5 more errors not listed");
	xmlFreeDoc(doc);
	err_clear(&e);
}

static void
test_now(void)
{
	char t[40], small[5];
	const char *f = "dddd-dd-ddTdd:dd:dd.dddZ";
	size_t i;

	ack_now(t, sizeof(t));
	CU_ASSERT_EQUAL_FATAL(strlen(t), strlen(f));
	for (i = 0; f[i] != '\0'; i++)
		CU_ASSERT(f[i] == 'd' ? (t[i] >= '0' && t[i] <= '9') : t[i] == f[i]);
	CU_ASSERT(strncmp(t, "2024", 4) >= 0);
	memset(small, 'x', sizeof(small));
	ack_now(small, sizeof(small));
	CU_ASSERT_EQUAL(strlen(small), 4);
	ack_now(small, 0); /* must not write */
}

/* Concurrent builds give identical bytes: no shared mutable state. */
struct job {
	const char *want;
	int bad;
};

static void *
worker(void *arg)
{
	struct job *j = arg;
	struct dsig_policy pol = { 0 };
	struct dsig_result res;
	struct errs e, se;
	struct ack_info ai = { 0 };
	char h[65];
	int i;

	err_init(&e);
	err_init(&se);
	err_add(&e, "XSD_INVALID", 7, "/*/*[2]", "too long");
	ai.function_code = ACK_REJECTED;
	ai.lrn = "LRN-T";
	ai.issued = ISSUED;
	ai.errors = &e;
	for (i = 0; i < 300; i++) {
		xmlDocPtr doc = ack_build(&ai);
		char *buf = NULL;
		size_t len = 0;

		ack_sha256_hex("abc", 3, h);
		if (doc == NULL || ack_serialize(doc, &buf, &len) != 0 ||
		    strcmp(buf, j->want) != 0 || h[0] != 'b')
			j->bad++;
		free(buf);
		xmlFreeDoc(doc);
		/* signing shares the signer's prepared context: every
		 * signature made concurrently verifies */
		if (ack_sign(&ai, i % 2 ? ec_signer : rsa_signer, &buf, &len,
		    &se) != 0 || (doc = xmlReadMemory(buf, (int)len, "t.xml",
		    NULL, XML_PARSE_NONET)) == NULL) {
			j->bad++;
		} else {
			if (dsig_verify(trust, &pol, doc, &res, &se) != 0)
				j->bad++;
			xmlFreeDoc(doc);
		}
		free(buf);
	}
	err_clear(&se);
	err_clear(&e);
	return NULL;
}

static void
test_threads(void)
{
	struct errs e;
	struct ack_info ai = { 0 };
	pthread_t th[4];
	struct job jobs[4];
	xmlDocPtr doc;
	char *want = NULL;
	size_t len, i;

	err_init(&e);
	err_add(&e, "XSD_INVALID", 7, "/*/*[2]", "too long");
	ai.function_code = ACK_REJECTED;
	ai.lrn = "LRN-T";
	ai.issued = ISSUED;
	ai.errors = &e;
	doc = ack_build(&ai);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL_FATAL(ack_serialize(doc, &want, &len), 0);
	for (i = 0; i < 4; i++) {
		jobs[i].want = want;
		jobs[i].bad = 0;
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(jobs[i].bad, 0);
	}
	free(want);
	xmlFreeDoc(doc);
	err_clear(&e);
}


/* ack_sign of ai with s: the prolog, then exactly the exclusive c14n of
 * the unsigned document with the Signature before the root's end tag;
 * valid; verifies (party = want_party); a changed byte fails. */
static void
check_signed(const struct ack_info *ai, const struct dsig_signer *s,
    const char *want_party)
{
	static const char prolog[] = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
	struct dsig_policy pol = { 0 };
	struct dsig_result res;
	struct errs e;
	xmlDocPtr doc = NULL, unsigned_doc = NULL;
	xmlChar *c14n = NULL;
	char *out = NULL, *sig, *bad = NULL, *p;
	size_t len = 0, head;
	int n;

	err_init(&e);
	CU_ASSERT_EQUAL_FATAL(ack_sign(ai, s, &out, &len, &e), 0);
	CU_ASSERT_EQUAL(strlen(out), len);
	CU_ASSERT_EQUAL(strncmp(out, prolog, sizeof(prolog) - 1), 0);
	CU_ASSERT(len > 12 && strcmp(out + len - 12, "</Response>\n") == 0);
	/* the signed bytes are c14n's bytes: nothing to canonicalize (the
	 * document parsed back, without its Signature, canonicalized) */
	doc = xmlReadMemory(out, (int)len, "ack.xml", NULL, XML_PARSE_NONET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	dsig_remove_signature(doc);
	n = xmlC14NDocDumpMemory(doc, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 0,
	    &c14n);
	xmlFreeDoc(doc);
	sig = strstr(out, "<ds:Signature ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sig);
	head = (size_t)(sig - out) - (sizeof(prolog) - 1);
	CU_ASSERT_EQUAL((size_t)n, head + strlen("</Response>"));
	if (n > 0 && (size_t)n == head + strlen("</Response>")) {
		CU_ASSERT_EQUAL(memcmp(c14n, out + sizeof(prolog) - 1, head), 0);
		CU_ASSERT_STRING_EQUAL((const char *)c14n + head, "</Response>");
	}
	/* and ack_build gives the same document (when the time is fixed:
	 * otherwise the two calls may fall in different milliseconds) */
	if (ai->issued != NULL) {
		xmlChar *c2 = NULL;

		unsigned_doc = ack_build(ai);
		CU_ASSERT_PTR_NOT_NULL_FATAL(unsigned_doc);
		CU_ASSERT_EQUAL(xmlC14NDocDumpMemory(unsigned_doc, NULL,
		    XML_C14N_EXCLUSIVE_1_0, NULL, 0, &c2), n);
		CU_ASSERT(c2 != NULL && c14n != NULL &&
		    memcmp(c2, c14n, (size_t)n) == 0);
		xmlFree(c2);
	}
	/* valid, and verifies under the strict profile */
	doc = xmlReadMemory(out, (int)len, "ack.xml", NULL, XML_PARSE_NONET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL(validate(doc), 0);
	memset(&res, 0, sizeof(res));
	CU_ASSERT_EQUAL(dsig_verify(trust, &pol, doc, &res, &e), 0);
	if (e.n > 0)
		fprintf(stderr, "\n  verify: %s: %s\n", e.v[0].code, e.v[0].msg);
	CU_ASSERT_STRING_EQUAL(res.party, want_party);
	/* xmlsec's own whole verification agrees */
	pol.xmlsec_references = 1;
	CU_ASSERT_EQUAL(dsig_verify(trust, &pol, doc, &res, &e), 0);
	pol.xmlsec_references = 0;
	xmlFreeDoc(doc);
	doc = NULL;
	/* one changed byte of signed content: SIG_INVALID */
	bad = strdup(out);
	CU_ASSERT_PTR_NOT_NULL_FATAL(bad);
	p = strstr(bad, "<IssueDateTime>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p[strlen("<IssueDateTime>")] ^= 1; /* '2' -> '3' */
	doc = xmlReadMemory(bad, (int)len, "bad.xml", NULL, XML_PARSE_NONET);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	err_clear(&e);
	CU_ASSERT_EQUAL(dsig_verify(trust, &pol, doc, &res, &e), -1);
	CU_ASSERT_PTR_NOT_NULL(unit_find_code(&e, "SIG_INVALID"));
	xmlFreeDoc(doc);
	xmlFreeDoc(unsigned_doc);
	xmlFree(c14n);
	free(bad);
	free(out);
	err_clear(&e);
}

static void
test_signed(void)
{
	struct errs e;
	struct ack_info ai = { 0 };
	char digest[65];

	accepted(&ai, digest);
	ai.issued = ISSUED;
	check_signed(&ai, ec_signer, "GBCUSTOMS");
	check_signed(&ai, rsa_signer, "Customs RSA");
	/* hostile text: markup characters, CR, tab, invalid bytes, C0 */
	err_init(&e);
	err_add(&e, "XSD_INVALID", 3, "/*[1]/a[@b=\"<&>\"]",
	    "bad <value> & \"quotes\" 'x'\r\n\ttab \xff\xfe \x01 end");
	err_add(&e, "RULE_X", 0, "", "]]> and &amp; already");
	ai.function_code = ACK_REJECTED;
	ai.errors = &e;
	ai.reason = "reason with \r\n CRLF & <tags>";
	ai.mrn = NULL;
	ai.status = NULL;
	ai.lane = NULL;
	ai.declaration_id = NULL;
	check_signed(&ai, ec_signer, "GBCUSTOMS");
	check_signed(&ai, rsa_signer, "Customs RSA");
	/* the current time when issued is not given */
	ai.issued = NULL;
	ai.errors = NULL;
	check_signed(&ai, ec_signer, "GBCUSTOMS");
	err_clear(&e);
}

int
main(void)
{
	int failed;

	static const struct unit_test tests[] = {
		{ "accepted", test_accepted },
		{ "rejected with 3 errors", test_rejected },
		{ "decision with reason", test_decision },
		{ "sha256", test_sha256 },
		{ "pointer escaping", test_escape },
		{ "serialize re-parses", test_serialize },
		{ "hostile bytes", test_bad_bytes },
		{ "truncated error list", test_truncated_list },
		{ "ack_now format", test_now },
		{ "threads", test_threads },
		{ "signed in canonical form", test_signed },
	};

	failed = UNIT_SUITE("ack", suite_init, suite_clean, tests);
	return failed != 0;
}
