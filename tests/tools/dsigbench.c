/* dsigbench: micro-benchmark of lib/dsig on one core.
 *
 * Makes an RSA-2048 CA and signer and an ECDSA P-256 signer in a temp dir,
 * signs a ~19 KB declaration with 20 goods items, then times N strict
 * verifications (parse excluded and parse included), N ECDSA P-256
 * signings of a small Response, and the floor: exclusive c14n, SHA-256, one
 * RSA-2048 verify, and the certificate decode that the trust caches.
 *
 *   build/dsigbench [N]      (default N = 2000)
 *
 * Last line: dsigbench: verify_us=N sign_ecdsa_us=N */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ack.h"
#include "dsig.h"
#include "err.h"

#define ITEMS 20

static const char *const files[] = { "ca.pem", "rsa.key", "rsa.pem",
	"ec.key", "ec.pem" };

static double
now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void
die(const char *what, const struct errs *e)
{
	fprintf(stderr, "dsigbench: %s failed", what);
	if (e != NULL && e->n > 0)
		fprintf(stderr, ": %s %s", e->v[0].code, e->v[0].msg);
	fputc('\n', stderr);
	exit(1);
}

static X509 *
make_cert(EVP_PKEY *key, EVP_PKEY *ca_key, X509 *ca, const char *cn,
    long serial)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	X509_NAME *name;
	X509 *x = X509_new();

	if (x == NULL)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : name);
	X509V3_set_ctx(&ctx, ca ? ca : x, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
	    ca ? "critical,CA:FALSE" : "critical,CA:TRUE");
	if (ext != NULL) {
		X509_add_ext(x, ext, -1);
		X509_EXTENSION_free(ext);
	}
	if (X509_sign(x, ca_key ? ca_key : key, EVP_sha256()) <= 0) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static void
write_pem(const char *path, EVP_PKEY *key, X509 *cert)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (f == NULL)
		die(path, NULL);
	if (cert != NULL)
		ok = PEM_write_X509(f, cert);
	else
		ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0 || ok != 1)
		die(path, NULL);
}

/* A declaration-like document of about 19 KB: header + ITEMS items. */
static char *
make_declaration(size_t *len)
{
	size_t cap = 64 * 1024, n = 0;
	char *b = malloc(cap);
	int i;

	if (b == NULL)
		die("malloc", NULL);
#define PUT(...) (n += (size_t)snprintf(b + n, cap - n, __VA_ARGS__))
	PUT("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Declaration xmlns=\"urn:declared:declaration:1\">\n"
	    "  <FunctionCode>9</FunctionCode>\n"
	    "  <FunctionalReferenceID>LRN-BENCH-000001</FunctionalReferenceID>\n"
	    "  <TypeCode>IM</TypeCode>\n"
	    "  <IssueDateTime>2026-11-22T10:00:00Z</IssueDateTime>\n"
	    "  <Declarant><ID>GB123456789000</ID></Declarant>\n"
	    "  <Importer><Name>Acme Imports Ltd</Name><ID>GB123456789000</ID>"
	    "<Address><Line>1 Dock Road</Line><CityName>Felixstowe</CityName>"
	    "<PostcodeID>IP11 3SY</PostcodeID><CountryCode>GB</CountryCode>"
	    "</Address></Importer>\n  <GoodsShipment>\n");
	for (i = 1; i <= ITEMS; i++)
		PUT("    <GovernmentAgencyGoodsItem>\n"
		    "      <SequenceNumeric>%d</SequenceNumeric>\n"
		    "      <Commodity>\n"
		    "        <Description>Steel kitchen utensils, lot %d"
		    "</Description>\n"
		    "        <Classification><ID>82159910</ID>"
		    "<IdentificationTypeCode>TSP</IdentificationTypeCode>"
		    "</Classification>\n"
		    "        <GoodsMeasure><GrossMassMeasure unitCode=\"KGM\">"
		    "%d.500</GrossMassMeasure><NetNetWeightMeasure unitCode=\"KGM\">"
		    "%d.250</NetNetWeightMeasure></GoodsMeasure>\n"
		    "        <InvoiceLine><ItemChargeAmount currencyID=\"EUR\">"
		    "%d.00</ItemChargeAmount></InvoiceLine>\n"
		    "      </Commodity>\n"
		    "      <Origin><CountryCode>CN</CountryCode>"
		    "<TypeCode>1</TypeCode></Origin>\n"
		    "      <ValuationAdjustment><AdditionCode>0000</AdditionCode>"
		    "</ValuationAdjustment>\n"
		    "      <CustomsValueAmount currencyID=\"EUR\">%d.00"
		    "</CustomsValueAmount>\n"
		    "      <Packaging><QuantityQuantity>%d</QuantityQuantity>"
		    "<TypeCode>CT</TypeCode></Packaging>\n"
		    "    </GovernmentAgencyGoodsItem>\n",
		    i, i, 10 + i, 9 + i, 100 * i, 110 * i, i);
	PUT("  </GoodsShipment>\n</Declaration>\n");
#undef PUT
	*len = n;
	return b;
}

static const char response_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Response xmlns=\"urn:declared:response:1\">\n"
    "  <FunctionCode>30</FunctionCode>\n"
    "  <FunctionalReferenceID>LRN-BENCH-000001</FunctionalReferenceID>\n"
    "  <IssueDateTime>2026-11-22T10:00:01Z</IssueDateTime>\n"
    "  <Declaration><ID>26GB00000000000001</ID></Declaration>\n"
    "  <Status><NameCode>accepted</NameCode>"
    "<EffectiveDateTime>2026-11-22T10:00:01Z</EffectiveDateTime>"
    "<Lane>green</Lane></Status>\n"
    "  <AdditionalInformation><StatementCode>LANE</StatementCode>"
    "<StatementDescription>Released automatically: green lane, no "
    "documents required</StatementDescription></AdditionalInformation>\n"
    "  <AdditionalInformation><StatementCode>MRN</StatementCode>"
    "<StatementDescription>Movement reference number assigned on "
    "acceptance</StatementDescription></AdditionalInformation>\n"
    "  <Declarant><ID>GB123456789000</ID></Declarant>\n"
    "  <SubmittedDocument><DigestMethod>sha256</DigestMethod>"
    "<DigestValue>vNknSBB7KppSgQ0wdZcgGKmZIrz7qGfMP3KKmSTPn2A=</DigestValue>"
    "</SubmittedDocument>\n"
    "</Response>\n";

int
main(int argc, char **argv)
{
	char dir[] = "/tmp/dsigbench.XXXXXX", p[3][512];
	struct dsig_policy pol = { 0 };
	struct dsig_result res;
	struct dsig_trust *trust;
	struct dsig_signer *rsa_signer, *ec_signer;
	EVP_PKEY *ca_key, *rsa_key, *ec_key;
	X509 *ca, *rsa_cert, *ec_cert;
	xmlChar *signed_mem = NULL, *c14n = NULL;
	unsigned char *der = NULL;
	int der_len;
	xmlDocPtr doc;
	struct errs e;
	unsigned char md[32], sig[512];
	size_t len, siglen = sizeof(sig);
	double t0, t_parse, t_noparse, t_d2i, t_c14n, t_sha, t_rsa, t_sign, t_ack;
	struct ack_info ai;
	char *ack;
	size_t ack_len;
	int n = argc > 1 ? atoi(argv[1]) : 2000, i, mlen = 0, clen;
	char *xml;
	EVP_MD_CTX *mctx;

	if (n < 1 || n > 1000000)
		n = 2000;
	err_init(&e);
	if (dsig_global_init() != 0 || mkdtemp(dir) == NULL)
		die("init", NULL);
	ca_key = EVP_RSA_gen(2048);
	rsa_key = EVP_RSA_gen(2048);
	ec_key = EVP_EC_gen("P-256");
	if (!ca_key || !rsa_key || !ec_key)
		die("key generation", NULL);
	ca = make_cert(ca_key, NULL, NULL, "Bench CA", 1);
	rsa_cert = make_cert(rsa_key, ca_key, ca, "Bench RSA signer", 2);
	ec_cert = make_cert(ec_key, ca_key, ca, "Bench ECDSA signer", 3);
	if (!ca || !rsa_cert || !ec_cert)
		die("certificates", NULL);
	snprintf(p[0], sizeof(p[0]), "%s/ca.pem", dir);
	write_pem(p[0], NULL, ca);
	snprintf(p[1], sizeof(p[1]), "%s/rsa.key", dir);
	write_pem(p[1], rsa_key, NULL);
	snprintf(p[2], sizeof(p[2]), "%s/rsa.pem", dir);
	write_pem(p[2], NULL, rsa_cert);
	trust = dsig_trust_new(p[0], NULL, &e);
	rsa_signer = dsig_signer_new(p[1], p[2], &e);
	if (trust == NULL || rsa_signer == NULL)
		die("trust/signer", &e);
	snprintf(p[1], sizeof(p[1]), "%s/ec.key", dir);
	write_pem(p[1], ec_key, NULL);
	snprintf(p[2], sizeof(p[2]), "%s/ec.pem", dir);
	write_pem(p[2], NULL, ec_cert);
	ec_signer = dsig_signer_new(p[1], p[2], &e);
	if (ec_signer == NULL)
		die("ec signer", &e);

	/* the signed 19 KB declaration */
	xml = make_declaration(&len);
	doc = xmlReadMemory(xml, (int)len, "decl.xml", NULL, XML_PARSE_NONET);
	if (doc == NULL || dsig_sign(rsa_signer, doc, &e) != 0)
		die("sign declaration", &e);
	xmlDocDumpMemory(doc, &signed_mem, &mlen);
	xmlFreeDoc(doc);
	free(xml);
	if (signed_mem == NULL)
		die("serialise", NULL);

	/* verify, parse excluded */
	doc = xmlReadMemory((const char *)signed_mem, mlen, "d.xml", NULL,
	    XML_PARSE_NONET);
	if (doc == NULL || dsig_verify(trust, &pol, doc, &res, &e) != 0)
		die("first verify", &e);
	t0 = now_us();
	for (i = 0; i < n; i++)
		if (dsig_verify(trust, &pol, doc, &res, &e) != 0)
			die("verify", &e);
	t_noparse = (now_us() - t0) / n;
	/* what the certificate cache in dsig_trust saves per call */
	der_len = i2d_X509(rsa_cert, &der);
	if (der_len <= 0)
		die("i2d_X509", NULL);
	t0 = now_us();
	for (i = 0; i < n; i++) {
		const unsigned char *q = der;
		X509 *x = d2i_X509(NULL, &q, der_len);

		if (x == NULL)
			die("d2i_X509", NULL);
		X509_free(x);
	}
	t_d2i = (now_us() - t0) / n;
	OPENSSL_free(der);

	/* the floor: exclusive c14n, SHA-256, one RSA-2048 verify */
	t0 = now_us();
	for (i = 0; i < n; i++) {
		clen = xmlC14NDocDumpMemory(doc, NULL, XML_C14N_EXCLUSIVE_1_0,
		    NULL, 0, &c14n);
		if (clen < 0)
			die("c14n", NULL);
		if (i + 1 < n)
			xmlFree(c14n);
	}
	t_c14n = (now_us() - t0) / n;
	t0 = now_us();
	for (i = 0; i < n; i++)
		EVP_Digest(c14n, (size_t)clen, md, NULL, EVP_sha256(), NULL);
	t_sha = (now_us() - t0) / n;
	mctx = EVP_MD_CTX_new();
	if (mctx == NULL || EVP_DigestSignInit(mctx, NULL, EVP_sha256(), NULL,
	    rsa_key) != 1 || EVP_DigestSign(mctx, sig, &siglen, md, 32) != 1)
		die("rsa sign", NULL);
	EVP_MD_CTX_free(mctx);
	t0 = now_us();
	for (i = 0; i < n; i++) {
		mctx = EVP_MD_CTX_new();
		if (mctx == NULL || EVP_DigestVerifyInit(mctx, NULL,
		    EVP_sha256(), NULL, rsa_key) != 1 ||
		    EVP_DigestVerify(mctx, sig, siglen, md, 32) != 1)
			die("rsa verify", NULL);
		EVP_MD_CTX_free(mctx);
	}
	t_rsa = (now_us() - t0) / n;
	xmlFree(c14n);
	xmlFreeDoc(doc);

	/* verify, parse included */
	t0 = now_us();
	for (i = 0; i < n; i++) {
		doc = xmlReadMemory((const char *)signed_mem, mlen, "d.xml",
		    NULL, XML_PARSE_NONET);
		if (doc == NULL || dsig_verify(trust, &pol, doc, &res, &e) != 0)
			die("parse+verify", &e);
		xmlFreeDoc(doc);
	}
	t_parse = (now_us() - t0) / n;

	/* ECDSA P-256 signing of a small Response (sign time only) */
	doc = xmlReadMemory(response_xml, (int)sizeof(response_xml) - 1,
	    "r.xml", NULL, XML_PARSE_NONET);
	if (doc == NULL)
		die("parse response", NULL);
	t_sign = 0;
	for (i = 0; i < n; i++) {
		t0 = now_us();
		if (dsig_sign(ec_signer, doc, &e) != 0)
			die("ecdsa sign", &e);
		t_sign += now_us() - t0;
		if (i == 0 && dsig_verify(trust, &pol, doc, &res, &e) != 0)
			die("verify ecdsa", &e);
		dsig_remove_signature(doc);
	}
	t_sign /= n;
	xmlFreeDoc(doc);

	/* a receipt as the daemon makes it: written canonical and signed */
	memset(&ai, 0, sizeof(ai));
	ai.function_code = ACK_ACCEPTED;
	ai.lrn = "LRN-2026-000042";
	ai.declaration_id = "1048576";
	ai.mrn = "26GB00000000000017";
	ai.status = "accepted";
	ai.lane = "green";
	ai.digest_hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
	t0 = now_us();
	for (i = 0; i < n; i++) {
		if (ack_sign(&ai, ec_signer, &ack, &ack_len, &e) != 0)
			die("ack_sign", &e);
		if (i == 0) {
			doc = xmlReadMemory(ack, (int)ack_len, "a.xml", NULL,
			    XML_PARSE_NONET);
			if (doc == NULL ||
			    dsig_verify(trust, &pol, doc, &res, &e) != 0)
				die("verify ack_sign", &e);
			xmlFreeDoc(doc);
		}
		free(ack);
	}
	t_ack = (now_us() - t0) / n;

	printf("dsigbench: n=%d document=%d bytes, %d items, RSA-2048 signer "
	    "under an RSA-2048 CA\n", n, mlen, ITEMS);
	printf("dsigbench: verify (parse excluded)      %8.1f us\n", t_noparse);
	printf("dsigbench: verify (parse included)      %8.1f us\n", t_parse);
	printf("dsigbench: certificate decode (d2i_X509, saved by the trust's "
	    "cache after the first document of a signer) %.1f us\n", t_d2i);
	printf("dsigbench: floor: exc-c14n %.1f us + SHA-256 %.1f us + "
	    "RSA-2048 verify %.1f us = %.1f us\n", t_c14n, t_sha, t_rsa,
	    t_c14n + t_sha + t_rsa);
	printf("dsigbench: ECDSA P-256 sign of %zu-byte Response %8.1f us\n",
	    sizeof(response_xml) - 1, t_sign);
	printf("dsigbench: receipt written and signed (ack_sign, ECDSA P-256) "
	    "%8.1f us\n", t_ack);
	printf("dsigbench: verify_us=%.0f sign_ecdsa_us=%.0f ack_sign_us=%.0f\n",
	    t_noparse, t_sign, t_ack);

	xmlFree(signed_mem);
	dsig_signer_free(rsa_signer);
	dsig_signer_free(ec_signer);
	dsig_trust_free(trust);
	X509_free(ca);
	X509_free(rsa_cert);
	X509_free(ec_cert);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ec_key);
	for (i = 0; i < 5; i++) {
		snprintf(p[0], sizeof(p[0]), "%s/%s", dir, files[i]);
		unlink(p[0]);
	}
	rmdir(dir);
	dsig_global_shutdown();
	err_clear(&e);
	return 0;
}
