/* test_dsig_vectors: lib/dsig.c against third-party XML-DSig vectors and
 * signed customs samples, each with the verdict the strict profile of
 * DESIGN.md must give.
 *
 * Vectors from $VECTORS_DIR (default ../shared/vectors), signed samples
 * from $CORPUS_DIR (default ../shared/corpus); each group is skipped with a
 * message when its directory is absent.  Trust files the vectors lack are
 * derived into a temp dir at start.  Keys made here, tampering and interop:
 * test_dsig.c.  Run from the repository root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <libxml/parser.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dsig.h"
#include "dsig_key.h"
#include "err.h"
#include "unit_util.h"

static char vectors[512], corpus[512], tmpdir[64];
static int have_vectors, have_corpus;

/* ---- small helpers ---- */

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* "V:rel" in vectors, "C:rel" in corpus, "T:rel" in the temp dir. */
static const char *
tpath(const char *spec, char *buf, size_t cap)
{
	const char *base = spec[0] == 'V' ? vectors :
	    spec[0] == 'C' ? corpus : tmpdir;

	snprintf(buf, cap, "%s/%s", base, spec + 2);
	return buf;
}

static int
concat(const char *out, const char *a, const char *b)
{
	char pa[1024], pb[1024], po[1024];

	return unit_sh("cat '%s' '%s' > '%s'", tpath(a, pa, sizeof(pa)),
	    tpath(b, pb, sizeof(pb)), tpath(out, po, sizeof(po)));
}

static time_t
day(const char *ymd)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (ymd == NULL || sscanf(ymd, "%d-%d-%d", &tm.tm_year, &tm.tm_mon,
	    &tm.tm_mday) != 3)
		return 0;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

static xmlDocPtr
parse_file(const char *path)
{
	return xmlReadFile(path, NULL, XML_PARSE_NONET);
}

/* ---- the vector table ---- */

enum mode { M_TRUST, M_KEY, M_CHAIN };

struct vec {
	const char *group;
	const char *file;   /* V:, C: or T: path */
	enum mode mode;
	const char *trust;  /* CA bundle (M_TRUST, M_CHAIN) or key (M_KEY) */
	const char *crl;
	int sha1;           /* policy allow_rsa_sha1 */
	const char *at;     /* verification day or NULL for now */
	const char *expect; /* "OK", "REJECT" (any error) or an error code */
};

#define W3CK "V:w3c-xmldsig11-interop-microsoft/derived-pubkeys/"
#define ALK "V:xmlsec-aleksey-xmldsig-01/"
#define PHA "V:xmlsec-phaos-xmldsig-three/"
#define MER "V:xmlsec-merlin/merlin-xmldsig-twenty-three/"
#define XCR "V:xml-crypto-static/"
#define SXL "V:signxml-aleksey-xmldsig-01-enveloped/"
#define SIGNED "C:signed-samples/"

static const struct vec fixed_vecs[] = {
	/* derived: mechanical edits of the W3C and signxml vectors */
	{ "derived", "V:derived/w3c-rsa-tampered-text.xml", M_KEY, W3CK "rsa2048_sha256_exc-c14n.pub.pem", NULL, 0, NULL, "SIG_INVALID" },
	{ "derived", "V:derived/w3c-rsa-comment-in-text.xml", M_KEY, W3CK "rsa2048_sha256_exc-c14n.pub.pem", NULL, 0, NULL, "SIG_STRUCTURE" },
	{ "derived", "V:derived/w3c-rsa-internal-entity.xml", M_KEY, W3CK "rsa2048_sha256_exc-c14n.pub.pem", NULL, 0, NULL, "REJECT" },
	{ "derived", "V:derived/w3c-rsa-xxe-file.xml", M_KEY, W3CK "rsa2048_sha256_exc-c14n.pub.pem", NULL, 0, NULL, "REJECT" },
	{ "derived", "V:derived/w3c-rsa-remote-reference.xml", M_KEY, W3CK "rsa2048_sha256_exc-c14n.pub.pem", NULL, 0, NULL, "SIG_REFERENCE" },
	{ "derived", "V:derived/w3c-rsa-extra-empty-signature.xml", M_KEY, W3CK "rsa2048_sha256_exc-c14n.pub.pem", NULL, 0, NULL, "SIG_STRUCTURE" },
	{ "derived", "V:derived/signxml-xsw-wrapped-root.xml", M_TRUST, SXL "cacert.pem", NULL, 0, NULL, "SIG_STRUCTURE" },
	{ "derived", "V:derived/signxml-dup-id-genuine-first.xml", M_TRUST, SXL "cacert.pem", NULL, 0, NULL, "SIG_DUPLICATE_ID" },
	{ "derived", "V:derived/signxml-dup-id-attacker-first.xml", M_TRUST, SXL "cacert.pem", NULL, 0, NULL, "SIG_DUPLICATE_ID" },
	/* aleksey: all use an XPath transform or the enveloping form */
	{ "aleksey", ALK "enveloped-x509-missing-cert.xml", M_TRUST, "T:aleksey-ca.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "aleksey", ALK "enveloped-x509-same-subj-cert.xml", M_TRUST, ALK "keys/same-subj-cert1.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "aleksey", ALK "enveloping-expired-cert.xml", M_TRUST, "T:aleksey-ca.pem", NULL, 1, NULL, "SIG_STRUCTURE" },
	{ "aleksey", ALK "enveloping-sha256-rsa-sha256.xml", M_TRUST, "T:aleksey-ca.pem", NULL, 0, NULL, "SIG_STRUCTURE" },
	{ "aleksey", ALK "enveloped-sha256-ecdsa-sha256.xml", M_KEY, ALK "keys/ec-prime256v1-pubkey.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "aleksey", ALK "enveloped-x509-subjectname.xml", M_TRUST, "T:aleksey-ca.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "aleksey", ALK "enveloped-x509-issuerserial.xml", M_TRUST, "T:aleksey-ca.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "aleksey", ALK "enveloped-x509-ski.xml", M_TRUST, "T:aleksey-ca.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "aleksey", ALK "enveloped-sha1-rsa-sha1.xml", M_KEY, ALK "keys/rsa-4096-pubkey.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "aleksey", ALK "enveloped-sha1-rsa-sha1.xml", M_KEY, ALK "keys/rsa-4096-pubkey.pem", NULL, 1, NULL, "SIG_ALGORITHM" },
	{ "aleksey", ALK "enveloped-sha256-rsa-pss-sha256.xml", M_KEY, ALK "keys/rsa-4096-pubkey.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "aleksey", ALK "enveloped-x509-digest-sha256.xml", M_TRUST, "T:aleksey-ca.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	/* certificate half alone, on the same files */
	{ "chain", ALK "enveloped-x509-missing-cert.xml", M_CHAIN, "T:aleksey-ca.pem", NULL, 0, NULL, "OK" },
	{ "chain", ALK "enveloped-x509-missing-cert.xml", M_CHAIN, ALK "keys/cacert.pem", NULL, 0, NULL, "SIG_CERT_UNTRUSTED" },
	{ "chain", ALK "enveloped-x509-missing-cert.xml", M_CHAIN, "T:wrong-anchor.pem", NULL, 0, NULL, "SIG_CERT_UNTRUSTED" },
	{ "chain", ALK "enveloped-x509-same-subj-cert.xml", M_CHAIN, ALK "keys/same-subj-cert1.pem", NULL, 0, NULL, "OK" },
	{ "chain", ALK "enveloped-x509-same-subj-cert.xml", M_CHAIN, ALK "keys/same-subj-cert2.pem", NULL, 0, NULL, "SIG_CERT_UNTRUSTED" },
	{ "chain", ALK "enveloping-expired-cert.xml", M_CHAIN, "T:aleksey-ca.pem", NULL, 0, NULL, "SIG_CERT_EXPIRED" },
	{ "chain", ALK "enveloping-expired-cert.xml", M_CHAIN, "T:aleksey-ca.pem", NULL, 0, "2026-03-15", "OK" },
	{ "chain", MER "signature-x509-crt-crl.xml", M_CHAIN, MER "certs/ca.pem", NULL, 0, "2005-01-01", "OK" },
	/* with its CRL: OpenSSL refuses the CRL (the CA lacks cRLSign) */
	{ "chain", MER "signature-x509-crt-crl.xml", M_CHAIN, MER "certs/ca.pem", "T:merlin-crl.pem", 0, "2005-01-01", "SIG_CERT_UNTRUSTED" },
	{ "chain", SXL "enveloped-sha256-rsa-sha256-test-1.xml", M_CHAIN, SXL "cacert.pem", NULL, 0, NULL, "OK" },
	/* signxml: URI="#parent" and c14n 1.1 are outside the profile */
	{ "signxml", SXL "enveloped-sha256-rsa-sha256-test-1.xml", M_TRUST, SXL "cacert.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "signxml", SXL "enveloped-sha256-rsa-sha256-test-2.xml", M_TRUST, SXL "cacert.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "signxml", SXL "enveloped-sha256-rsa-sha256-test-3.xml", M_TRUST, SXL "cacert.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "signxml", SXL "enveloped-sha256-rsa-sha256-test-4.xml", M_TRUST, SXL "cacert.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "signxml", SXL "enveloped-sha256-rsa-sha256-test-5.xml", M_TRUST, SXL "cacert.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "signxml", SXL "enveloped-sha256-rsa-sha256-test-6.xml", M_TRUST, SXL "cacert.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "signxml", SXL "enveloped-sha256-rsa-sha256-test-7.xml", M_TRUST, SXL "cacert.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "signxml", SXL "enveloped-sha256-rsa-sha256-test-8.xml", M_TRUST, SXL "cacert.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "signxml", SXL "invalid_enveloped_transform.xml", M_TRUST, SXL "cacert.pem", NULL, 0, NULL, "SIG_STRUCTURE" },
	/* phaos: RSA-SHA1 baseline (legacy policy) and its negatives */
	{ "phaos", PHA "signature-rsa-enveloped.xml", M_TRUST, "T:phaos-ca.pem", NULL, 0, "2009-01-01", "SIG_ALGORITHM" },
	{ "phaos", PHA "signature-rsa-enveloped.xml", M_TRUST, "T:phaos-ca.pem", NULL, 1, "2009-01-01", "OK" },
	{ "phaos", PHA "signature-rsa-enveloped.xml", M_TRUST, "T:phaos-ca.pem", NULL, 1, NULL, "SIG_CERT_EXPIRED" },
	{ "phaos", PHA "signature-rsa-enveloped.xml", M_KEY, "T:phaos-pub.pem", NULL, 1, NULL, "OK" },
	{ "phaos", PHA "signature-rsa-enveloped-bad-digest-val.xml", M_KEY, "T:phaos-pub.pem", NULL, 1, NULL, "SIG_INVALID" },
	{ "phaos", PHA "signature-rsa-enveloped-bad-sig.xml", M_KEY, "T:phaos-pub.pem", NULL, 1, NULL, "SIG_STRUCTURE" },
	{ "phaos", PHA "signature-hmac-sha1-exclusive-c14n-enveloped.xml", M_KEY, "T:phaos-pub.pem", NULL, 1, NULL, "SIG_ALGORITHM" },
	{ "phaos", PHA "signature-rsa-xpath-transform-enveloped.xml", M_KEY, "T:phaos-pub.pem", NULL, 1, NULL, "SIG_ALGORITHM" },
	{ "phaos", PHA "signature-rsa-detached-xslt-transform.xml", M_KEY, "T:phaos-pub.pem", NULL, 1, NULL, "SIG_STRUCTURE" },
	{ "phaos", PHA "signature-rsa-detached-xslt-transform-bad-retrieval-method.xml", M_KEY, "T:phaos-pub.pem", NULL, 1, NULL, "SIG_REFERENCE" },
	{ "phaos", PHA "signature-rsa-manifest-x509-data-crl.xml", M_KEY, "T:phaos-pub.pem", NULL, 1, NULL, "REJECT" },
	/* merlin */
	{ "merlin", MER "signature-x509-crt-crl.xml", M_TRUST, MER "certs/ca.pem", "T:merlin-crl.pem", 1, "2005-01-01", "SIG_STRUCTURE" },
	{ "merlin", MER "signature-x509-crt.xml", M_TRUST, MER "certs/ca.pem", NULL, 1, "2005-01-01", "SIG_STRUCTURE" },
	{ "merlin", MER "signature-enveloped-dsa.xml", M_TRUST, MER "certs/ca.pem", NULL, 1, "2005-01-01", "SIG_ALGORITHM" },
	{ "merlin", "V:xmlsec-merlin/merlin-exc-c14n-one/exc-signature.xml", M_TRUST, MER "certs/ca.pem", NULL, 1, NULL, "SIG_STRUCTURE" },
	/* xml-crypto SAML attacks (legacy SHA-1 allowed so that only the
	 * structure decides) */
	{ "xml-crypto", XCR "valid_saml.xml", M_TRUST, XCR "feide_public.pem", NULL, 1, NULL, "SIG_STRUCTURE" },
	{ "xml-crypto", XCR "valid_saml_signature_wrapping.xml", M_TRUST, XCR "feide_public.pem", NULL, 1, NULL, "REJECT" },
	{ "xml-crypto", XCR "saml_multiple_signed_info_nodes.xml", M_TRUST, XCR "feide_public.pem", NULL, 1, NULL, "SIG_STRUCTURE" },
	{ "xml-crypto", XCR "saml_wrapped_signed_info_node.xml", M_TRUST, XCR "feide_public.pem", NULL, 1, NULL, "SIG_STRUCTURE" },
	{ "xml-crypto", XCR "valid_saml_with_digest_comment.xml", M_TRUST, XCR "feide_public.pem", NULL, 1, NULL, "SIG_STRUCTURE" },
	{ "xml-crypto", XCR "valid_saml_withcomments.xml", M_TRUST, XCR "feide_public.pem", NULL, 1, NULL, "REJECT" },
	{ "xml-crypto", XCR "id_with_quotes.xml", M_TRUST, XCR "feide_public.pem", NULL, 1, NULL, "REJECT" },
	{ "xml-crypto", XCR "invalid_saml_no_signed_info.xml", M_TRUST, XCR "feide_public.pem", NULL, 1, NULL, "REJECT" },
	{ "xml-crypto", XCR "saml_external_ns.xml", M_TRUST, XCR "feide_public.pem", NULL, 1, NULL, "REJECT" },
};

static const struct vec corpus_vecs[] = {
	{ "corpus", SIGNED "TT_IM001a.signed-rsa-sha256.xml", M_TRUST, "T:test-ca.pem", NULL, 0, NULL, "OK" },
	{ "corpus", SIGNED "TT_IM001a.signed-rsa-sha256.xml", M_TRUST, "C:xmlsec-test-keys/cacert.pem", NULL, 0, NULL, "SIG_CERT_UNTRUSTED" },
	{ "corpus", SIGNED "TT_IM001a.signed-rsa-sha256.xml", M_TRUST, "T:test-ca.pem", "C:xmlsec-test-keys/rsa/rsa-2048-cert-revoked-crl.pem", 0, "2026-03-20", "SIG_CERT_REVOKED" },
	{ "corpus", SIGNED "TT_IM001a.signed-rsa-sha256.xml", M_TRUST, "T:test-ca.pem", NULL, 0, "2026-03-01", "SIG_CERT_EXPIRED" },
	{ "corpus", SIGNED "TT_IM001a.signed-rsa-sha256.xml", M_TRUST, "T:test-ca.pem", NULL, 0, "2126-06-01", "SIG_CERT_EXPIRED" },
	{ "corpus", SIGNED "TT_IM001a.signed-TAMPERED-GoodsItemQuantity.xml", M_TRUST, "T:test-ca.pem", NULL, 0, NULL, "SIG_INVALID" },
	{ "corpus", SIGNED "CEB621Message.signed-c14n-rsa-sha1.xml", M_TRUST, "T:test-ca.pem", NULL, 0, NULL, "SIG_ALGORITHM" },
	{ "corpus", SIGNED "CEB621Message.signed-c14n-rsa-sha1.xml", M_TRUST, "T:test-ca.pem", NULL, 1, NULL, "OK" },
	/* GACC's own sample: its certificate's base64 lines are shuffled */
	{ "corpus", "C:china-ceb/signature-vectors/CEB621Message_signed.xml", M_TRUST, "T:test-ca.pem", NULL, 1, NULL, "SIG_CERT_MISSING" },
};

/* Runs one vector; the verdict is "OK", the first error code, "PARSE" or
 * "SETUP" (trust or key unusable).  xmlsec_ref: xmlsec processes the
 * reference itself (the slow reference implementation). */
static void
run_once(const struct vec *v, int xmlsec_ref, char *verdict, size_t cap,
    char *msg, size_t mcap)
{
	char pf[1024], pt[1024], pc[1024];
	struct dsig_policy pol = { .allow_rsa_sha1 = v->sha1, .at = day(v->at),
	    .xmlsec_references = xmlsec_ref };
	struct dsig_trust *t = NULL;
	struct dsig_result res;
	struct errs e;
	xmlDocPtr doc;
	int rc = -1;

	err_init(&e);
	msg[0] = '\0';
	doc = parse_file(tpath(v->file, pf, sizeof(pf)));
	if (doc == NULL) {
		snprintf(verdict, cap, "PARSE");
		return;
	}
	if (v->mode == M_KEY) {
		rc = dsig_verify_with_key(tpath(v->trust, pt, sizeof(pt)), &pol,
		    doc, &res, &e);
	} else {
		t = dsig_trust_new(tpath(v->trust, pt, sizeof(pt)),
		    v->crl ? tpath(v->crl, pc, sizeof(pc)) : NULL, &e);
		if (t != NULL)
			rc = v->mode == M_CHAIN ?
			    dsig_verify_chain(t, &pol, doc, &res, &e) :
			    dsig_verify(t, &pol, doc, &res, &e);
	}
	if (rc == 0)
		snprintf(verdict, cap, "OK");
	else
		snprintf(verdict, cap, "%s", t == NULL && v->mode != M_KEY ?
		    "SETUP" : (err_first_code(&e) ? err_first_code(&e) : "?"));
	if (e.n > 0)
		snprintf(msg, mcap, "%s", e.v[0].msg);
	/* a DSIG_CONFIG from the key loader is a broken test, not a verdict */
	if (rc != 0 && err_first_code(&e) != NULL &&
	    strcmp(err_first_code(&e), "DSIG_CONFIG") == 0)
		snprintf(verdict, cap, "SETUP");
	dsig_trust_free(t);
	xmlFreeDoc(doc);
	err_clear(&e);
}

static int differential; /* vectors whose two verdicts were compared */

/* run_once() by the daemon's path, then by xmlsec's whole
 * xmlSecDSigCtxVerify(): both must give the same verdict. */
static void
run_vec(const struct vec *v, char *verdict, size_t cap, char *msg, size_t mcap)
{
	char ref[64], rmsg[ERR_MSG_MAX];

	run_once(v, 0, verdict, cap, msg, mcap);
	if (v->mode == M_CHAIN)
		return;
	run_once(v, 1, ref, sizeof(ref), rmsg, sizeof(rmsg));
	if (strcmp(ref, verdict) != 0)
		printf("\n  DIFFERENTIAL %s: daemon path %s (%s), xmlsec %s (%s)",
		    v->file, verdict, msg, ref, rmsg);
	CU_ASSERT_STRING_EQUAL(verdict, ref);
	differential++;
}

static int
vec_ok(const char *expect, const char *got)
{
	if (strcmp(got, "SETUP") == 0 || strcmp(got, "?") == 0)
		return 0;
	if (strcmp(expect, "REJECT") == 0)
		return strcmp(got, "OK") != 0;
	return strcmp(expect, got) == 0;
}

static void
run_group(const struct vec *tab, size_t n, const char *group)
{
	char verdict[64], msg[ERR_MSG_MAX], name[96];
	size_t i, total = 0, good = 0;

	for (i = 0; i < n; i++) {
		if (strcmp(tab[i].group, group) != 0)
			continue;
		total++;
		run_vec(&tab[i], verdict, sizeof(verdict), msg, sizeof(msg));
		if (vec_ok(tab[i].expect, verdict)) {
			good++;
		} else {
			snprintf(name, sizeof(name), "%s", strrchr(tab[i].file,
			    '/') ? strrchr(tab[i].file, '/') + 1 : tab[i].file);
			printf("\n  MISMATCH %s: expected %s, got %s (%s)", name,
			    tab[i].expect, verdict, msg);
		}
		CU_ASSERT_STRING_EQUAL(vec_ok(tab[i].expect, verdict) ?
		    tab[i].expect : verdict, tab[i].expect);
	}
	printf("\n  dsig vectors %-10s %zu/%zu verdicts as expected ", group,
	    good, total);
	CU_ASSERT(total > 0);
}

#define SKIP_UNLESS(cond, what) do { if (!(cond)) { \
	printf("\n  SKIP: %s not found (set VECTORS_DIR / CORPUS_DIR) ", what); \
	return; } } while (0)

/* The 24 W3C interop files: pinned key accepts all but P-521; the
 * certificate path rejects them all (KeyValue only). */
static void
test_w3c(void)
{
	static const char *keys[] = { "rsa2048", "ecc_p256", "ecc_p384",
	    "ecc_p521" };
	static const char *mds[] = { "sha256", "sha384", "sha512" };
	static const char *cs[] = { "c14n", "exc-c14n" };
	char file[160], key[200], verdict[64], msg[ERR_MSG_MAX];
	struct vec v;
	size_t k, m, c, good = 0, total = 0;
	int p521;

	SKIP_UNLESS(have_vectors, "vectors");
	for (k = 0; k < 4; k++)
		for (m = 0; m < 3; m++)
			for (c = 0; c < 2; c++) {
				p521 = k == 3;
				snprintf(file, sizeof(file),
				    "V:w3c-xmldsig11-interop-microsoft/%s_%s_%s.xml",
				    keys[k], mds[m], cs[c]);
				snprintf(key, sizeof(key), W3CK "%s_%s_%s.pub.pem",
				    keys[k], mds[m], cs[c]);
				memset(&v, 0, sizeof(v));
				v.file = file;
				v.mode = M_KEY;
				v.trust = key;
				v.expect = p521 ? "SIG_ALGORITHM" : "OK";
				run_vec(&v, verdict, sizeof(verdict), msg,
				    sizeof(msg));
				total++;
				good += vec_ok(v.expect, verdict);
				if (!vec_ok(v.expect, verdict))
					printf("\n  MISMATCH %s pinned: %s (%s)",
					    file, verdict, msg);
				CU_ASSERT(vec_ok(v.expect, verdict));
				v.mode = M_TRUST;
				v.trust = "T:aleksey-ca.pem";
				v.expect = "SIG_CERT_MISSING";
				run_vec(&v, verdict, sizeof(verdict), msg,
				    sizeof(msg));
				total++;
				good += vec_ok(v.expect, verdict);
				if (!vec_ok(v.expect, verdict))
					printf("\n  MISMATCH %s x509: %s (%s)",
					    file, verdict, msg);
				CU_ASSERT(vec_ok(v.expect, verdict));
			}
	/* an ECDSA signature with an RSA key */
	memset(&v, 0, sizeof(v));
	v.file = "V:w3c-xmldsig11-interop-microsoft/ecc_p256_sha256_exc-c14n.xml";
	v.mode = M_KEY;
	v.trust = W3CK "rsa2048_sha256_exc-c14n.pub.pem";
	run_vec(&v, verdict, sizeof(verdict), msg, sizeof(msg));
	total++;
	good += vec_ok("SIG_ALGORITHM", verdict);
	CU_ASSERT_STRING_EQUAL(verdict, "SIG_ALGORITHM");
	printf("\n  dsig vectors %-10s %zu/%zu verdicts as expected ", "w3c",
	    good, total);
}

static void test_derived(void) { SKIP_UNLESS(have_vectors, "vectors");
	run_group(fixed_vecs, sizeof(fixed_vecs) / sizeof(fixed_vecs[0]), "derived"); }
static void test_aleksey(void) { SKIP_UNLESS(have_vectors, "vectors");
	run_group(fixed_vecs, sizeof(fixed_vecs) / sizeof(fixed_vecs[0]), "aleksey"); }
static void test_chain(void) { SKIP_UNLESS(have_vectors, "vectors");
	run_group(fixed_vecs, sizeof(fixed_vecs) / sizeof(fixed_vecs[0]), "chain"); }
static void test_signxml(void) { SKIP_UNLESS(have_vectors, "vectors");
	run_group(fixed_vecs, sizeof(fixed_vecs) / sizeof(fixed_vecs[0]), "signxml"); }
static void test_phaos(void) { SKIP_UNLESS(have_vectors, "vectors");
	run_group(fixed_vecs, sizeof(fixed_vecs) / sizeof(fixed_vecs[0]), "phaos"); }
static void test_merlin(void) { SKIP_UNLESS(have_vectors, "vectors");
	run_group(fixed_vecs, sizeof(fixed_vecs) / sizeof(fixed_vecs[0]), "merlin"); }
static void test_xmlcrypto(void) { SKIP_UNLESS(have_vectors, "vectors");
	run_group(fixed_vecs, sizeof(fixed_vecs) / sizeof(fixed_vecs[0]), "xml-crypto"); }
static void test_corpus(void) { SKIP_UNLESS(have_corpus, "corpus");
	run_group(corpus_vecs, sizeof(corpus_vecs) / sizeof(corpus_vecs[0]), "corpus"); }

/* The result fields of the accepted HMRC sample, against the certificate
 * file it was signed with; removing the signature leaves SIG_MISSING. */
static void
test_corpus_result(void)
{
	char p[1024], hex[65];
	unsigned char md[32];
	unsigned int mdlen = 0, i;
	struct dsig_policy pol = { 0 };
	struct dsig_result res;
	struct dsig_trust *t;
	struct errs e;
	xmlDocPtr doc;
	X509 *x = NULL;
	FILE *f;

	SKIP_UNLESS(have_corpus, "corpus");
	err_init(&e);
	f = fopen(tpath("C:xmlsec-test-keys/rsa/rsa-2048-cert.pem", p,
	    sizeof(p)), "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT(X509_digest(x, EVP_sha256(), md, &mdlen) == 1);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	X509_free(x);

	t = dsig_trust_new(tpath("T:test-ca.pem", p, sizeof(p)), NULL, &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	doc = parse_file(tpath(SIGNED "TT_IM001a.signed-rsa-sha256.xml", p,
	    sizeof(p)));
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	CU_ASSERT_EQUAL(dsig_verify(t, &pol, doc, &res, &e), 0);
	CU_ASSERT_STRING_EQUAL(res.fingerprint, hex);
	CU_ASSERT_STRING_EQUAL(res.party, "Test Key rsa-2048");
	CU_ASSERT_PTR_NOT_NULL(strstr(res.subject, "CN=Test Key rsa-2048"));
	CU_ASSERT_STRING_EQUAL(res.algorithm,
	    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256");
	/* verification left the document alone: it verifies again */
	CU_ASSERT_EQUAL(dsig_verify(t, &pol, doc, &res, &e), 0);
	dsig_remove_signature(doc);
	CU_ASSERT_EQUAL(dsig_verify(t, &pol, doc, &res, &e), -1);
	CU_ASSERT_STRING_EQUAL(err_first_code(&e), "SIG_MISSING");
	xmlFreeDoc(doc);
	dsig_trust_free(t);
	err_clear(&e);
}

/* ---- setup ---- */

static int
extract_b64(const char *xmlfile, const char *tag, const char *pemtype,
    const char *out)
{
	char p[1024], open_tag[64], close_tag[64], *buf, *a, *b;
	size_t len;
	FILE *f;
	int col = 0, rc = -1;

	buf = unit_slurp(tpath(xmlfile, p, sizeof(p)), &len);
	if (buf == NULL)
		return -1;
	snprintf(open_tag, sizeof(open_tag), "<%s>", tag);
	snprintf(close_tag, sizeof(close_tag), "</%s>", tag);
	a = strstr(buf, open_tag);
	b = a ? strstr(a, close_tag) : NULL;
	if (b != NULL && (f = fopen(tpath(out, p, sizeof(p)), "w")) != NULL) {
		fprintf(f, "-----BEGIN %s-----\n", pemtype);
		for (a += strlen(open_tag); a < b; a++) {
			if (*a == ' ' || *a == '\n' || *a == '\r' || *a == '\t')
				continue;
			fputc(*a, f);
			if (++col % 64 == 0)
				fputc('\n', f);
		}
		fprintf(f, "\n-----END %s-----\n", pemtype);
		rc = fclose(f) == 0 ? 0 : -1;
	}
	free(buf);
	return rc;
}

static int
der_to_pem(const char *der, const char *out, int pubkey_only)
{
	char p[1024];
	const unsigned char *q;
	unsigned char *data;
	size_t len;
	X509 *x;
	FILE *f;
	int rc = -1;

	data = (unsigned char *)unit_slurp(tpath(der, p, sizeof(p)), &len);
	if (data == NULL)
		return -1;
	q = data;
	x = d2i_X509(NULL, &q, (long)len);
	if (x != NULL && (f = fopen(tpath(out, p, sizeof(p)), "w")) != NULL) {
		rc = (pubkey_only ? PEM_write_PUBKEY(f, X509_get0_pubkey(x)) :
		    PEM_write_X509(f, x)) == 1 ? 0 : -1;
		fclose(f);
	}
	X509_free(x);
	free(data);
	return rc;
}

static int
suite_init(void)
{
	const char *v = getenv("VECTORS_DIR"), *c = getenv("CORPUS_DIR");

	snprintf(vectors, sizeof(vectors), "%s", v ? v : "../shared/vectors");
	snprintf(corpus, sizeof(corpus), "%s", c ? c : "../shared/corpus");
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_dsig_vectors.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	have_vectors = is_dir(vectors);
	have_corpus = is_dir(corpus);
	if (!have_vectors)
		printf("test_dsig_vectors: %s not found, vector tests skipped\n",
		    vectors);
	if (!have_corpus)
		printf("test_dsig_vectors: %s not found, corpus tests skipped\n",
		    corpus);
	if (have_corpus && concat("T:test-ca.pem",
	    "C:xmlsec-test-keys/cacert.pem", "C:xmlsec-test-keys/ca2cert.pem"))
		return -1;
	if (have_vectors && (
	    concat("T:aleksey-ca.pem", ALK "keys/cacert.pem", ALK "keys/ca2cert.pem") ||
	    concat("T:wrong-anchor.pem", ALK "keys/rsa-4096-cert.pem", ALK "keys/ca2cert.pem") ||
	    extract_b64(MER "signature-x509-crt-crl.xml", "X509CRL", "X509 CRL",
	    "T:merlin-crl.pem") ||
	    der_to_pem(PHA "certs/rsa-ca-cert.der", "T:phaos-ca.pem", 0) ||
	    der_to_pem(PHA "certs/rsa-cert.der", "T:phaos-pub.pem", 1)))
		return -1;
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
		fprintf(stderr, "test_dsig_vectors: dsig_global_init failed\n");
		return 1;
	}
	static const struct unit_test tests[] = {
		{ "w3c interop (pinned key / x509)", test_w3c },
		{ "derived attacks", test_derived },
		{ "xmlsec aleksey", test_aleksey },
		{ "certificate chains", test_chain },
		{ "signxml", test_signxml },
		{ "phaos", test_phaos },
		{ "merlin", test_merlin },
		{ "xml-crypto", test_xmlcrypto },
		{ "corpus signed samples", test_corpus },
		{ "corpus result fields", test_corpus_result },
	};

	fails = UNIT_SUITE("dsig_vectors", suite_init, suite_clean, tests);
	printf("dsig vectors: %d verdicts of the daemon's path compared with "
	    "xmlsec's whole verification\n", differential);
	dsig_global_shutdown();
	return fails != 0;
}
