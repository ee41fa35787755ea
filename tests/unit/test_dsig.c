/* test_dsig: strict XML-DSig verification and signing (lib/dsig.c).
 *
 * Third-party vectors from $VECTORS_DIR (default ../shared/vectors) and
 * signed customs samples from $CORPUS_DIR (default ../shared/corpus), each
 * with the verdict the strict profile of DESIGN.md must give; round trips
 * with keys and CAs made here by the openssl command line; interop with the
 * xmlsec1 command line both ways.  Run from the repository root. */
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>
#include <libxml/parser.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dsig.h"
#include "dsig_key.h"
#include "err.h"

#define DSIG_NS "http://www.w3.org/2000/09/xmldsig#"

static char vectors[512], corpus[512], tmpdir[64];
static int have_vectors, have_corpus, have_keys;

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
run(const char *cmd)
{
	int rc = system(cmd);

	return rc == -1 ? -1 : WEXITSTATUS(rc);
}

static int
sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int
sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return run(cmd);
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    n < 64 * 1024 * 1024 && fseek(f, 0, SEEK_SET) == 0 &&
	    (buf = malloc((size_t)n + 1)) != NULL) {
		*len = fread(buf, 1, (size_t)n, f);
		buf[*len] = '\0';
	}
	fclose(f);
	return buf;
}

static int
concat(const char *out, const char *a, const char *b)
{
	char pa[1024], pb[1024], po[1024];

	return sh("cat '%s' '%s' > '%s'", tpath(a, pa, sizeof(pa)),
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
 * "SETUP" (trust or key unusable). */
static void
run_vec(const struct vec *v, char *verdict, size_t cap, char *msg, size_t mcap)
{
	char pf[1024], pt[1024], pc[1024];
	struct dsig_policy pol = { v->sha1, day(v->at) };
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
	struct dsig_policy pol = { 0, 0 };
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
	return sh("cd '%s' && exec >openssl.log 2>&1 && "
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
	struct dsig_policy pol = { 0, 0 };
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
	if (run("xmlsec1 --version >/dev/null 2>&1") != 0) {
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
	rc = sh("xmlsec1 --verify --trusted-pem '%s' --enabled-key-data x509 "
	    "'%s' >/dev/null 2>&1", tpath("T:root.pem", p, sizeof(p)), out);
	CU_ASSERT_EQUAL(rc, 0);
	doc = signed_doc("T:rsa.key", "T:rsa.pem", &e);
	CU_ASSERT_PTR_NOT_NULL_FATAL(doc);
	tpath("T:ours-rsa.xml", out, sizeof(out));
	CU_ASSERT(xmlSaveFile(out, doc) > 0);
	xmlFreeDoc(doc);
	rc = sh("xmlsec1 --verify --trusted-pem '%s' --enabled-key-data x509 "
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
	CU_ASSERT_EQUAL_FATAL(run(cmd), 0);
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
	struct dsig_policy pol = { 0, 0 };
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
extract_b64(const char *xmlfile, const char *tag, const char *pemtype,
    const char *out)
{
	char p[1024], open_tag[64], close_tag[64], *buf, *a, *b;
	size_t len;
	FILE *f;
	int col = 0, rc = -1;

	buf = slurp(tpath(xmlfile, p, sizeof(p)), &len);
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

	data = (unsigned char *)slurp(tpath(der, p, sizeof(p)), &len);
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
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_dsig.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	have_vectors = is_dir(vectors);
	have_corpus = is_dir(corpus);
	if (!have_vectors)
		printf("test_dsig: %s not found, vector tests skipped\n", vectors);
	if (!have_corpus)
		printf("test_dsig: %s not found, corpus tests skipped\n", corpus);
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
		sh("rm -rf '%s'", tmpdir);
	return 0;
}

int
main(void)
{
	CU_pSuite s;
	unsigned int fails;

	if (dsig_global_init() != 0) {
		fprintf(stderr, "test_dsig: dsig_global_init failed\n");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("dsig", suite_init, suite_clean);
	if (s == NULL ||
	    !CU_add_test(s, "w3c interop (pinned key / x509)", test_w3c) ||
	    !CU_add_test(s, "derived attacks", test_derived) ||
	    !CU_add_test(s, "xmlsec aleksey", test_aleksey) ||
	    !CU_add_test(s, "certificate chains", test_chain) ||
	    !CU_add_test(s, "signxml", test_signxml) ||
	    !CU_add_test(s, "phaos", test_phaos) ||
	    !CU_add_test(s, "merlin", test_merlin) ||
	    !CU_add_test(s, "xml-crypto", test_xmlcrypto) ||
	    !CU_add_test(s, "corpus signed samples", test_corpus) ||
	    !CU_add_test(s, "corpus result fields", test_corpus_result) ||
	    !CU_add_test(s, "sign/verify round trip", test_roundtrip) ||
	    !CU_add_test(s, "profile mutations", test_mutations) ||
	    !CU_add_test(s, "xmlsec1 interop", test_interop) ||
	    !CU_add_test(s, "config errors", test_config_errors) ||
	    !CU_add_test(s, "party", test_party) ||
	    !CU_add_test(s, "threads", test_threads)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	fails = CU_get_number_of_failures();
	CU_cleanup_registry();
	dsig_global_shutdown();
	return fails != 0;
}
