/* dsig: strict XML-DSig verification and enveloped signing.  The profile
 * checks live in dsig_check.c (structure, algorithms) and dsig_x509.c
 * (certificates); this file holds the public API and the xmlsec calls. */
#include "dsig.h"
#include "dsig_c14n.h"
#include "dsig_check.h"
#include "dsig_key.h"
#include "dsig_x509.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <xmlsec/xmlsec.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/templates.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/openssl/evp.h>

#define DSIG_SIGNER_MAX_CERTS 8

struct dsig_trust {
	X509_STORE *store;
	int has_crl;
	struct dsig_x509_cache *certs; /* decoded signer certificates */
};

struct dsig_signer {
	EVP_PKEY *pkey;
	EVP_MD *sha256;                      /* fetched once */
	EVP_PKEY_CTX *sign;                  /* sign_init'ed, SHA-256: duplicated
	                                      * per signature (no method lookup) */
	int ec;                              /* ECDSA, else RSA */
	int ec_bytes;                        /* ECDSA: bytes of r and of s */
	int ncerts;
	char *b64[DSIG_SIGNER_MAX_CERTS];    /* leaf first, base64 DER */
};

static void
dsig_silent(const char *file, int line, const char *func,
    const char *obj, const char *subj, int reason, const char *msg)
{
	(void)file; (void)line; (void)func; (void)obj; (void)subj;
	(void)reason; (void)msg;
}

int
dsig_global_init(void)
{
	xmlInitParser();
	if (xmlSecInit() < 0)
		return -1;
	if (xmlSecCheckVersion() != 1 || xmlSecCryptoAppInit(NULL) < 0) {
		xmlSecShutdown();
		return -1;
	}
	if (xmlSecCryptoInit() < 0) {
		xmlSecCryptoAppShutdown();
		xmlSecShutdown();
		return -1;
	}
	/* after the inits, which install xmlsec's printing callback */
	xmlSecErrorsDefaultCallbackEnableOutput(0);
	xmlSecErrorsSetCallback(dsig_silent);
	return 0;
}

void
dsig_global_shutdown(void)
{
	xmlSecCryptoShutdown();
	xmlSecCryptoAppShutdown();
	xmlSecShutdown();
}

/* ---- trust ---- */

struct dsig_trust *
dsig_trust_new(const char *ca_file, const char *crl_file, struct errs *e)
{
	struct dsig_trust *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		err_add(e, "DSIG_CONFIG", 0, "", "out of memory");
		return NULL;
	}
	t->store = dsig_x509_store_load(ca_file, crl_file, &t->has_crl, e);
	if (t->store == NULL || (t->certs = dsig_x509_cache_new()) == NULL) {
		if (t->store != NULL)
			err_add(e, "DSIG_CONFIG", 0, "", "out of memory");
		dsig_trust_free(t);
		return NULL;
	}
	return t;
}

void
dsig_trust_free(struct dsig_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->store);
	dsig_x509_cache_free(t->certs);
	free(t);
}

/* ---- verification ---- */

/* An xmlsec key around pkey (one more reference taken), or NULL. */
static xmlSecKeyPtr
dsig_xmlsec_key(EVP_PKEY *pkey)
{
	xmlSecKeyDataPtr data;
	xmlSecKeyPtr key;

	key = xmlSecKeyCreate();
	if (key == NULL || EVP_PKEY_up_ref(pkey) != 1)
		goto fail;
	data = xmlSecOpenSSLEvpKeyAdopt(pkey);
	if (data == NULL) {
		EVP_PKEY_free(pkey);
		goto fail;
	}
	if (xmlSecKeySetValue(key, data) < 0) {
		xmlSecKeyDataDestroy(data);
		goto fail;
	}
	return key;
fail:
	if (key != NULL)
		xmlSecKeyDestroy(key);
	return NULL;
}

/* The cryptographic check, restricted to what dsig_check_doc() found and
 * allowed, with pkey as the only possible key: by default dsig_c14n's
 * (libxml2 canonicalizes the document, xmlsec digests, compares and checks
 * SignedInfo); with pol->xmlsec_references, xmlSecDSigCtxVerify() whole,
 * which the tests use as the reference implementation. */
static int
dsig_crypto(const struct dsig_check_info *ci, const struct dsig_policy *pol,
    xmlDocPtr doc, EVP_PKEY *pkey, struct errs *e)
{
	xmlSecDSigCtxPtr ctx;
	xmlSecDSigReferenceCtxPtr ref;
	xmlSecKeyPtr key;
	const void *ids[4];
	int rc = -1, ok;

	if (pol == NULL || !pol->xmlsec_references) {
		if ((key = dsig_xmlsec_key(pkey)) == NULL) {
			dsig_check_err(e, "SIG_INVALID", ci->sig,
			    "out of memory");
			return -1;
		}
		rc = dsig_c14n_verify(ci, doc, key, e);
		xmlSecKeyDestroy(key);
		return rc;
	}
	ctx = xmlSecDSigCtxCreate(NULL);
	if (ctx == NULL || (ctx->signKey = dsig_xmlsec_key(pkey)) == NULL) {
		dsig_check_err(e, "SIG_INVALID", ci->sig, "out of memory");
		goto cleanup;
	}
	ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
	ctx->flags |= XMLSEC_DSIG_FLAGS_IGNORE_MANIFESTS;
	dsig_check_transform_ids(ci, ids);
	ok = xmlSecDSigCtxEnableSignatureTransform(ctx,
	    (xmlSecTransformId)ids[0]) == 0 &&
	    xmlSecDSigCtxEnableSignatureTransform(ctx,
	    (xmlSecTransformId)ids[1]) == 0 &&
	    xmlSecDSigCtxEnableReferenceTransform(ctx,
	    xmlSecTransformEnvelopedId) == 0 &&
	    xmlSecDSigCtxEnableReferenceTransform(ctx,
	    (xmlSecTransformId)ids[2]) == 0 &&
	    (ids[3] == NULL || xmlSecDSigCtxEnableReferenceTransform(ctx,
	    (xmlSecTransformId)ids[3]) == 0);
	if (!ok) {
		dsig_check_err(e, "SIG_INVALID", ci->sig,
		    "cannot restrict transforms");
		goto cleanup;
	}
	/* xmlSecDSigCtxVerify returns 0 for a bad signature: read status. */
	if (xmlSecDSigCtxVerify(ctx, ci->sig) < 0 ||
	    ctx->status != xmlSecDSigStatusSucceeded ||
	    xmlSecPtrListGetSize(&ctx->signedInfoReferences) != 1 ||
	    (ref = xmlSecPtrListGetItem(&ctx->signedInfoReferences, 0)) == NULL ||
	    ref->status != xmlSecDSigStatusSucceeded) {
		dsig_check_err(e, "SIG_INVALID", ci->sig,
		    "digest or signature value does not verify");
		goto cleanup;
	}
	rc = 0;
cleanup:
	if (ctx != NULL)
		xmlSecDSigCtxDestroy(ctx);
	ERR_clear_error();
	return rc;
}

int
dsig_verify(const struct dsig_trust *t, const struct dsig_policy *pol,
    xmlDocPtr doc, struct dsig_result *out, struct errs *e)
{
	struct dsig_check_info ci;
	STACK_OF(X509) *certs = NULL;
	int legacy = pol != NULL && pol->allow_rsa_sha1;
	EVP_PKEY *pkey;
	X509 *leaf;
	int rc = -1;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (t == NULL) {
		err_add(e, "DSIG_CONFIG", 0, "", "no signing CA configured");
		return -1;
	}
	if (dsig_check_doc(doc, legacy, &ci, e) < 0)
		goto cleanup;
	if ((certs = dsig_x509_certs(ci.key_info, t->certs, e)) == NULL)
		goto cleanup;
	if ((leaf = dsig_x509_leaf(certs, ci.key_info, e)) == NULL)
		goto cleanup;
	/* out is filled here (from the cache for a known signer), cleared
	 * again below if a later check fails */
	if (dsig_x509_signer(t->certs, t->store, t->has_crl, pol != NULL ?
	    pol->at : 0, leaf, certs, ci.key_info, out, e) < 0)
		goto cleanup;
	pkey = X509_get0_pubkey(leaf);
	if (pkey == NULL) {
		dsig_check_err(e, "SIG_CERT_UNTRUSTED", ci.key_info,
		    "signer certificate has no usable public key");
		goto cleanup;
	}
	if (dsig_check_key(&ci, pkey, legacy, e) < 0 ||
	    dsig_crypto(&ci, pol, doc, pkey, e) < 0)
		goto cleanup;
	if (out != NULL)
		snprintf(out->algorithm, sizeof(out->algorithm), "%s",
		    ci.sig_uri);
	rc = 0;
cleanup:
	if (rc != 0 && out != NULL)
		memset(out, 0, sizeof(*out));
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	return rc;
}

int
dsig_verify_with_key(const char *pubkey_pem, const struct dsig_policy *pol,
    xmlDocPtr doc, struct dsig_result *out, struct errs *e)
{
	struct dsig_check_info ci;
	int legacy = pol != NULL && pol->allow_rsa_sha1;
	unsigned char md[32], *der = NULL;
	EVP_PKEY *pkey = NULL;
	BIO *bio = NULL;
	int rc = -1, len, i;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	if (dsig_check_doc(doc, legacy, &ci, e) < 0)
		goto cleanup;
	if (pubkey_pem == NULL || (bio = BIO_new_file(pubkey_pem, "r")) == NULL ||
	    (pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL) {
		err_add(e, "DSIG_CONFIG", 0, "", "cannot read public key %s",
		    pubkey_pem ? pubkey_pem : "(null)");
		goto cleanup;
	}
	if (dsig_check_key(&ci, pkey, legacy, e) < 0 ||
	    dsig_crypto(&ci, pol, doc, pkey, e) < 0)
		goto cleanup;
	if (out != NULL) {
		snprintf(out->algorithm, sizeof(out->algorithm), "%s",
		    ci.sig_uri);
		len = i2d_PUBKEY(pkey, &der);
		if (len > 0 && EVP_Digest(der, (size_t)len, md, NULL,
		    EVP_sha256(), NULL) == 1)
			for (i = 0; i < 32; i++)
				snprintf(out->fingerprint + 2 * i, 3, "%02x",
				    md[i]);
	}
	rc = 0;
cleanup:
	OPENSSL_free(der);
	EVP_PKEY_free(pkey);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

int
dsig_verify_chain(const struct dsig_trust *t, const struct dsig_policy *pol,
    xmlDocPtr doc, struct dsig_result *out, struct errs *e)
{
	STACK_OF(X509) *certs = NULL;
	xmlNodePtr root, sig;
	X509 *leaf;
	int rc = -1;

	if (out != NULL)
		memset(out, 0, sizeof(*out));
	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	sig = root != NULL ? xmlSecFindNode(root, (const xmlChar *)"Signature",
	    (const xmlChar *)DSIG_NS) : NULL;
	if (t == NULL || sig == NULL) {
		err_add(e, "SIG_MISSING", 0, "", "no ds:Signature or no trust");
		return -1;
	}
	certs = dsig_x509_certs(dsig_check_child(sig, DSIG_NS, "KeyInfo"),
	    t->certs, e);
	if (certs == NULL || (leaf = dsig_x509_leaf(certs, sig, e)) == NULL ||
	    dsig_x509_verify(t->store, t->has_crl, pol ? pol->at : 0, leaf,
	    certs, sig, e) < 0)
		goto cleanup;
	if (out != NULL)
		dsig_x509_describe(leaf, out);
	rc = 0;
cleanup:
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

void
dsig_remove_signature(xmlDocPtr doc)
{
	xmlNodePtr root, c, next;

	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	for (c = root ? root->children : NULL; c != NULL; c = next) {
		next = c->next;
		if (c->type == XML_ELEMENT_NODE && c->ns != NULL &&
		    xmlStrEqual(c->name, (const xmlChar *)"Signature") &&
		    xmlStrEqual(c->ns->href, (const xmlChar *)DSIG_NS)) {
			xmlUnlinkNode(c);
			xmlFreeNode(c);
		}
	}
}

/* ---- signing ---- */

static int
dsig_nopass(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1; /* encrypted keys are not supported: never prompt */
}

static char *
dsig_cert_b64(X509 *x)
{
	unsigned char *der = NULL;
	char *b64 = NULL;
	int len;

	len = i2d_X509(x, &der);
	if (len > 0 && len < 1024 * 1024 &&
	    (b64 = malloc(((size_t)len + 2) / 3 * 4 + 1)) != NULL)
		EVP_EncodeBlock((unsigned char *)b64, der, len);
	OPENSSL_free(der);
	return b64;
}

/* Reads the certificates of cert_file into s (leaf first) and checks the
 * leaf against the private key. */
static int
dsig_signer_certs(struct dsig_signer *s, const char *cert_file,
    struct errs *e)
{
	X509 *x = NULL;
	BIO *bio;
	int rc = -1;

	bio = BIO_new_file(cert_file, "r");
	if (bio == NULL) {
		err_add(e, "DSIG_CONFIG", 0, "", "cannot open %s", cert_file);
		goto cleanup;
	}
	while (s->ncerts < DSIG_SIGNER_MAX_CERTS &&
	    (x = PEM_read_bio_X509(bio, NULL, dsig_nopass, NULL)) != NULL) {
		if (s->ncerts == 0 && X509_check_private_key(x, s->pkey) != 1) {
			err_add(e, "DSIG_CONFIG", 0, "", "%s does not match the "
			    "private key", cert_file);
			goto cleanup;
		}
		if ((s->b64[s->ncerts] = dsig_cert_b64(x)) == NULL) {
			err_add(e, "DSIG_CONFIG", 0, "", "cannot encode %s",
			    cert_file);
			goto cleanup;
		}
		s->ncerts++;
		X509_free(x);
		x = NULL;
	}
	if (s->ncerts == 0) {
		err_add(e, "DSIG_CONFIG", 0, "", "no certificate in %s",
		    cert_file);
		goto cleanup;
	}
	rc = 0;
cleanup:
	X509_free(x);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

struct dsig_signer *
dsig_signer_new(const char *key_file, const char *cert_file, struct errs *e)
{
	struct dsig_signer *s = calloc(1, sizeof(*s));
	char group[64];
	size_t glen = 0;
	BIO *bio = NULL;
	int id;

	if (s == NULL || key_file == NULL || cert_file == NULL) {
		err_add(e, "DSIG_CONFIG", 0, "", "signer: bad arguments");
		goto fail;
	}
	if ((bio = BIO_new_file(key_file, "r")) == NULL ||
	    (s->pkey = PEM_read_bio_PrivateKey(bio, NULL, dsig_nopass,
	    NULL)) == NULL) {
		err_add(e, "DSIG_CONFIG", 0, "", "cannot read private key %s "
		    "(unencrypted PEM expected)", key_file);
		goto fail;
	}
	id = EVP_PKEY_get_base_id(s->pkey);
	s->ec = id == EVP_PKEY_EC;
	if (s->ec) {
		if (EVP_PKEY_get_group_name(s->pkey, group, sizeof(group),
		    &glen) != 1 || (strcmp(group, "prime256v1") != 0 &&
		    strcmp(group, "secp384r1") != 0)) {
			err_add(e, "DSIG_CONFIG", 0, "", "%s: EC key must be "
			    "P-256 or P-384", key_file);
			goto fail;
		}
		s->ec_bytes = (EVP_PKEY_get_bits(s->pkey) + 7) / 8;
	} else if (id != EVP_PKEY_RSA || EVP_PKEY_get_bits(s->pkey) < 2048) {
		err_add(e, "DSIG_CONFIG", 0, "", "%s: key must be ECDSA or "
		    "RSA >= 2048 bits", key_file);
		goto fail;
	}
	if (dsig_signer_certs(s, cert_file, e) < 0)
		goto fail;
	if ((s->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (s->sign = EVP_PKEY_CTX_new_from_pkey(NULL, s->pkey, NULL)) == NULL ||
	    EVP_PKEY_sign_init(s->sign) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(s->sign, s->sha256) != 1) {
		err_add(e, "DSIG_CONFIG", 0, "", "%s: cannot prepare signing",
		    key_file);
		goto fail;
	}
	BIO_free(bio);
	return s;
fail:
	BIO_free(bio);
	ERR_clear_error();
	dsig_signer_free(s);
	return NULL;
}

void
dsig_signer_free(struct dsig_signer *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < s->ncerts; i++)
		free(s->b64[i]);
	EVP_PKEY_CTX_free(s->sign);
	EVP_MD_free(s->sha256);
	EVP_PKEY_free(s->pkey);
	free(s);
}

/* The signature template: exc-c14n, one Reference URI="" with enveloped +
 * exc-c14n, SHA-256. */
static xmlNodePtr
dsig_template(const struct dsig_signer *s, xmlDocPtr doc)
{
	xmlNodePtr sig, ref;

	sig = xmlSecTmplSignatureCreateNsPref(doc, xmlSecTransformExclC14NId,
	    s->ec ? xmlSecTransformEcdsaSha256Id : xmlSecTransformRsaSha256Id,
	    NULL, (const xmlChar *)"ds");
	if (sig == NULL)
		return NULL;
	ref = xmlSecTmplSignatureAddReference(sig, xmlSecTransformSha256Id,
	    NULL, (const xmlChar *)"", NULL);
	if (ref == NULL ||
	    xmlSecTmplReferenceAddTransform(ref,
	    xmlSecTransformEnvelopedId) == NULL ||
	    xmlSecTmplReferenceAddTransform(ref,
	    xmlSecTransformExclC14NId) == NULL) {
		xmlFreeNode(sig);
		return NULL;
	}
	return sig;
}

/* KeyInfo/X509Data/X509Certificate*, written after signing (KeyInfo is not
 * under the signature, so xmlsec need not copy the certificates each time). */
static int
dsig_key_info(const struct dsig_signer *s, xmlNodePtr sig)
{
	xmlNodePtr ki, xd, c;
	int i;

	if ((ki = xmlSecTmplSignatureEnsureKeyInfo(sig, NULL)) == NULL ||
	    (xd = xmlSecTmplKeyInfoAddX509Data(ki)) == NULL)
		return -1;
	for (i = 0; i < s->ncerts; i++) {
		/* xmlSecTmplX509DataAddCertificate allows only one */
		c = xmlSecAddChild(xd, (const xmlChar *)"X509Certificate",
		    (const xmlChar *)DSIG_NS);
		if (c == NULL)
			return -1;
		xmlNodeSetContent(c, (const xmlChar *)s->b64[i]);
	}
	return 0;
}

int
dsig_sign(const struct dsig_signer *s, xmlDocPtr doc, struct errs *e)
{
	xmlNodePtr root, sig = NULL;
	int rc = -1;

	root = doc != NULL ? xmlDocGetRootElement(doc) : NULL;
	if (s == NULL || root == NULL) {
		err_add(e, "DSIG_SIGN", 0, "", "no signer or no root element");
		return -1;
	}
	if (dsig_check_child(root, DSIG_NS, "Signature") != NULL) {
		dsig_check_err(e, "DSIG_SIGN", root, "document already signed");
		return -1;
	}
	if ((sig = dsig_template(s, doc)) == NULL ||
	    xmlAddChild(root, sig) == NULL) {
		err_add(e, "DSIG_SIGN", 0, "", "cannot build signature template");
		goto cleanup;
	}
	if (dsig_c14n_sign(doc, sig, s->sign, s->sha256,
	    s->ec ? s->ec_bytes : 0) < 0 ||
	    dsig_key_info(s, sig) < 0) {
		err_add(e, "DSIG_SIGN", 0, "", "signing failed");
		goto cleanup;
	}
	sig = NULL;
	rc = 0;
cleanup:
	if (sig != NULL) {
		xmlUnlinkNode(sig);
		xmlFreeNode(sig);
	}
	ERR_clear_error();
	return rc;
}

/* SignedInfo after its start tag, in exclusive canonical form, around
 * the SignatureMethod URI and the DigestValue. */
#define DSIG_SI_OPEN "<ds:SignedInfo"
#define DSIG_SI_NS " xmlns:ds=\"" DSIG_NS "\""
#define DSIG_SI_A ">" \
	"<ds:CanonicalizationMethod Algorithm=\"" DSIG_EXC_NS "\">" \
	"</ds:CanonicalizationMethod><ds:SignatureMethod Algorithm=\""
#define DSIG_SI_B "\"></ds:SignatureMethod><ds:Reference URI=\"\">" \
	"<ds:Transforms><ds:Transform Algorithm=\"" DSIG_NS \
	"enveloped-signature\"></ds:Transform><ds:Transform Algorithm=\"" \
	DSIG_EXC_NS "\"></ds:Transform></ds:Transforms><ds:DigestMethod " \
	"Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\">" \
	"</ds:DigestMethod><ds:DigestValue>"
#define DSIG_SI_C "</ds:DigestValue></ds:Reference></ds:SignedInfo>"
#define DSIG_ALG_ECDSA "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
#define DSIG_ALG_RSA "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define DSIG_B64_MAX ((DSIG_C14N_MAX_SIG + 2) / 3 * 4 + 1)

/* Appends n bytes to the buffer at *p (length *len, room *cap); -1 when
 * it would pass cap. */
static int
dsig_put(char *p, size_t *len, size_t cap, const char *s, size_t n)
{
	if (n > cap - *len)
		return -1;
	memcpy(p + *len, s, n);
	*len += n;
	return 0;
}

#define DSIG_PUTS(p, len, cap, s) dsig_put((p), (len), (cap), (s), strlen(s))

int
dsig_sign_c14n(const struct dsig_signer *s, const char *prolog,
    const char *head, size_t head_len, const char *tail, char **out,
    size_t *len, struct errs *e)
{
	unsigned char md[EVP_MAX_MD_SIZE], sv[DSIG_C14N_MAX_SIG];
	char dv64[DSIG_B64_MAX], sv64[DSIG_B64_MAX], *si = NULL, *o = NULL;
	const char *alg;
	size_t silen = 0, sicap, svlen = sizeof(sv), olen = 0, ocap, tlen;
	unsigned int mdlen = 0;
	EVP_MD_CTX *mc = NULL;
	int i, rc = -1;

	*out = NULL;
	*len = 0;
	if (s == NULL || head == NULL || tail == NULL) {
		err_add(e, "DSIG_SIGN", 0, "", "no signer or no document");
		return -1;
	}
	tlen = strlen(tail);
	alg = s->ec ? DSIG_ALG_ECDSA : DSIG_ALG_RSA;
	/* the reference: the document without its Signature, as given */
	if ((mc = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(mc, s->sha256, NULL) != 1 ||
	    EVP_DigestUpdate(mc, head, head_len) != 1 ||
	    EVP_DigestUpdate(mc, tail, tlen) != 1 ||
	    EVP_DigestFinal_ex(mc, md, &mdlen) != 1)
		goto cleanup;
	EVP_EncodeBlock((unsigned char *)dv64, md, (int)mdlen);
	/* SignedInfo as exclusive c14n sees it: ds declared on itself */
	sicap = sizeof(DSIG_SI_OPEN DSIG_SI_NS DSIG_SI_A DSIG_SI_B DSIG_SI_C) +
	    strlen(alg) + strlen(dv64);
	if ((si = malloc(sicap)) == NULL ||
	    DSIG_PUTS(si, &silen, sicap, DSIG_SI_OPEN DSIG_SI_NS DSIG_SI_A) < 0 ||
	    DSIG_PUTS(si, &silen, sicap, alg) < 0 ||
	    DSIG_PUTS(si, &silen, sicap, DSIG_SI_B) < 0 ||
	    DSIG_PUTS(si, &silen, sicap, dv64) < 0 ||
	    DSIG_PUTS(si, &silen, sicap, DSIG_SI_C) < 0 ||
	    EVP_Digest(si, silen, md, &mdlen, s->sha256, NULL) != 1 ||
	    dsig_c14n_sign_hash(s->sign, s->ec ? s->ec_bytes : 0, md, mdlen,
	    sv, &svlen) < 0)
		goto cleanup;
	EVP_EncodeBlock((unsigned char *)sv64, sv, (int)svlen);
	/* the document: the Signature declares ds, SignedInfo inherits it */
	ocap = (prolog != NULL ? strlen(prolog) : 0) + head_len + silen +
	    strlen(sv64) + tlen + 256;
	for (i = 0; i < s->ncerts; i++)
		ocap += strlen(s->b64[i]) + 64;
	if ((o = malloc(ocap + 1)) == NULL ||
	    (prolog != NULL && DSIG_PUTS(o, &olen, ocap, prolog) < 0) ||
	    dsig_put(o, &olen, ocap, head, head_len) < 0 ||
	    DSIG_PUTS(o, &olen, ocap, "<ds:Signature" DSIG_SI_NS ">"
	    DSIG_SI_OPEN) < 0 ||
	    dsig_put(o, &olen, ocap, si + strlen(DSIG_SI_OPEN DSIG_SI_NS),
	    silen - strlen(DSIG_SI_OPEN DSIG_SI_NS)) < 0 ||
	    DSIG_PUTS(o, &olen, ocap, "<ds:SignatureValue>") < 0 ||
	    DSIG_PUTS(o, &olen, ocap, sv64) < 0 ||
	    DSIG_PUTS(o, &olen, ocap, "</ds:SignatureValue><ds:KeyInfo>"
	    "<ds:X509Data>") < 0)
		goto cleanup;
	for (i = 0; i < s->ncerts; i++)
		if (DSIG_PUTS(o, &olen, ocap, "<ds:X509Certificate>") < 0 ||
		    DSIG_PUTS(o, &olen, ocap, s->b64[i]) < 0 ||
		    DSIG_PUTS(o, &olen, ocap, "</ds:X509Certificate>") < 0)
			goto cleanup;
	if (DSIG_PUTS(o, &olen, ocap, "</ds:X509Data></ds:KeyInfo>"
	    "</ds:Signature>") < 0 ||
	    dsig_put(o, &olen, ocap, tail, tlen) < 0 ||
	    DSIG_PUTS(o, &olen, ocap, "\n") < 0)
		goto cleanup;
	o[olen] = '\0';
	*out = o;
	*len = olen;
	o = NULL;
	rc = 0;
cleanup:
	if (rc != 0)
		err_add(e, "DSIG_SIGN", 0, "", "signing failed");
	EVP_MD_CTX_free(mc);
	free(si);
	free(o);
	ERR_clear_error();
	return rc;
}

/* ---- certificates ---- */

/* UTF-8 value of the only entry nid of name into out; 0, or -1 when
 * absent, repeated, empty, too long or holding a NUL. */
static int
dsig_name_entry(X509_NAME *name, int nid, char *out, size_t cap)
{
	unsigned char *u = NULL;
	int idx, len, i, rc = -1;

	idx = X509_NAME_get_index_by_NID(name, nid, -1);
	if (idx < 0 || X509_NAME_get_index_by_NID(name, nid, idx) >= 0)
		return -1;
	len = ASN1_STRING_to_UTF8(&u,
	    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx)));
	if (len <= 0 || (size_t)len >= cap || memchr(u, '\0', (size_t)len))
		goto cleanup;
	for (i = 0; i < len; i++)
		out[i] = (u[i] < 0x20 || u[i] == 0x7f) ? '?' : (char)u[i];
	out[len] = '\0';
	rc = 0;
cleanup:
	OPENSSL_free(u);
	return rc;
}

void
dsig_cert_party(const void *x509, char *out, size_t cap)
{
	X509_NAME *name;

	if (out == NULL || cap == 0)
		return;
	out[0] = '\0';
	if (x509 == NULL)
		return;
	name = X509_get_subject_name((const X509 *)x509);
	/* CN only when there is no serialNumber at all: a bad serialNumber
	 * must not fall back to a name that could be someone else's */
	if (X509_NAME_get_index_by_NID(name, NID_serialNumber, -1) >= 0) {
		if (dsig_name_entry(name, NID_serialNumber, out, cap) < 0)
			out[0] = '\0';
	} else if (dsig_name_entry(name, NID_commonName, out, cap) < 0)
		out[0] = '\0';
	ERR_clear_error();
}
