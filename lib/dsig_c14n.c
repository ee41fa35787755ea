/* dsig_c14n: the cryptographic half of dsig_verify() for the strict profile,
 * without xmlsec's generic node-set machinery on the whole document.
 *
 * The profile pins one Reference with URI="" whose transforms are the
 * enveloped signature and at most one c14n, with ds:Signature a child of
 * the root.  That node-set is the document without comments and without
 * the Signature subtree: for exclusive c14n without a prefix list,
 * lib/xc14n writes it directly (byte for byte what libxml2 writes, ~4x
 * faster); otherwise libxml2's canonicalizer on the document with the
 * Signature element unlinked and no node-set at all (its fast path: no
 * visibility callback per node and per namespace node, which is where
 * xmlsec spent most of its time).  Those bytes are streamed into xmlsec's
 * digest transform, which compares them with DigestValue; SignedInfo (a
 * few hundred bytes), canonicalized the same way, then goes through
 * xmlsec's signature transform as in xmlSecDSigCtxVerify. */
#include "dsig_c14n.h"
#include "dsig_check.h"
#include "xc14n.h"

#include <string.h>

#include <libxml/c14n.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>

#include <xmlsec/xmlsec.h>
#include <xmlsec/base64.h>
#include <xmlsec/buffer.h>
#include <xmlsec/membuf.h>
#include <xmlsec/nodeset.h>
#include <xmlsec/transforms.h>

#define DSIG_C14N_MAX_PREFIXES 32

/* Where canonical bytes go: fn(ctx, bytes, n), 0 or -1. */
typedef int (*dsig_c14n_out)(void *ctx, const unsigned char *buf, size_t len);

struct dsig_c14n_sink {
	dsig_c14n_out fn;
	void *ctx;
	int failed;
};

static int
dsig_c14n_write(void *ctx, const char *buf, int len)
{
	struct dsig_c14n_sink *s = ctx;

	if (len < 0 || s->fn(s->ctx, (const unsigned char *)buf,
	    (size_t)len) < 0) {
		s->failed = 1;
		return -1;
	}
	return len;
}

static int
dsig_c14n_close(void *ctx)
{
	(void)ctx;
	return 0;
}

/* Sinks: into xmlsec's transforms (tc prepared for binary input), into a
 * digest, into a signature. */
static int
dsig_c14n_to_xmlsec(void *ctx, const unsigned char *buf, size_t len)
{
	xmlSecTransformCtxPtr tc = ctx;

	return xmlSecTransformPushBin(tc->first, buf, (xmlSecSize)len, 0,
	    tc) < 0 ? -1 : 0;
}

static int
dsig_c14n_to_digest(void *ctx, const unsigned char *buf, size_t len)
{
	return EVP_DigestUpdate(ctx, buf, len) == 1 ? 0 : -1;
}

/* libxml2's canonicalizer of doc (mode, prefixes) into fn. */
static int
dsig_c14n_libxml2(xmlDocPtr doc, int mode, xmlChar **prefixes,
    dsig_c14n_out fn, void *ctx)
{
	struct dsig_c14n_sink sink = { fn, ctx, 0 };
	xmlOutputBufferPtr out;
	int n;

	out = xmlOutputBufferCreateIO(dsig_c14n_write, dsig_c14n_close, &sink,
	    NULL);
	if (out == NULL)
		return -1;
	n = xmlC14NDocSaveTo(doc, NULL, mode, prefixes, 0, out);
	if (xmlOutputBufferClose(out) < 0 || sink.failed)
		n = -1;
	return n < 0 ? -1 : 0;
}

/* The InclusiveNamespaces PrefixList of the reference's exclusive c14n
 * transform, split in place into prefixes (NULL-terminated); *owned is the
 * attribute value to xmlFree.  0, or -1 when there are too many. */
static int
dsig_c14n_prefixes(xmlNodePtr transform, xmlChar **owned,
    xmlChar *list[DSIG_C14N_MAX_PREFIXES + 1])
{
	xmlNodePtr c;
	xmlChar *p;
	int n = 0;

	*owned = NULL;
	list[0] = NULL;
	for (c = transform ? transform->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE && c->ns != NULL &&
		    xmlStrEqual(c->ns->href, (const xmlChar *)DSIG_EXC_NS) &&
		    xmlStrEqual(c->name, (const xmlChar *)"InclusiveNamespaces"))
			break;
	if (c == NULL ||
	    (*owned = xmlGetNoNsProp(c, (const xmlChar *)"PrefixList")) == NULL)
		return 0;
	for (p = *owned; *p != '\0';) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			*p++ = '\0';
		if (*p == '\0')
			break;
		if (n == DSIG_C14N_MAX_PREFIXES)
			return -1;
		list[n++] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '\n' &&
		    *p != '\r')
			p++;
	}
	list[n] = NULL;
	return 0;
}

/* Canonical bytes of doc without sig into fn: by lib/xc14n for exclusive
 * c14n without a prefix list (what our signer and the usual ones use),
 * else, or when xc14n declines the tree, by libxml2 on the document with
 * sig unlinked meanwhile and put back at its place.  0, or -1. */
static int
dsig_c14n_doc(xmlDocPtr doc, xmlNodePtr sig, int mode, xmlChar **prefixes,
    dsig_c14n_out fn, void *ctx)
{
	xmlNodePtr parent = sig->parent, next = sig->next;
	int n;

	if (mode == XML_C14N_EXCLUSIVE_1_0 &&
	    (prefixes == NULL || prefixes[0] == NULL)) {
		n = xc14n_write((xmlNodePtr)doc, sig, fn, ctx);
		if (n != XC14N_UNSUPPORTED)
			return n == 0 ? 0 : -1;
	}
	xmlUnlinkNode(sig);
	n = dsig_c14n_libxml2(doc, mode, prefixes, fn, ctx);
	if (next != NULL)
		xmlAddPrevSibling(next, sig);
	else
		xmlAddChild(parent, sig);
	return n;
}

/* SignedInfo's canonical bytes (exclusive c14n, no prefix list) into fn:
 * by lib/xc14n in place; else SignedInfo is copied into a document of its
 * own so that libxml2's canonicalizer walks a few dozen nodes, not the
 * whole declaration: for exclusive c14n without an InclusiveNamespaces
 * list the output depends only on the namespaces SignedInfo's nodes use,
 * which the copy declares.  0, or -1. */
static int
dsig_c14n_si(xmlNodePtr si, dsig_c14n_out fn, void *ctx)
{
	xmlNodePtr copy;
	xmlDocPtr tmp;
	int n;

	if ((n = xc14n_write(si, NULL, fn, ctx)) != XC14N_UNSUPPORTED)
		return n == 0 ? 0 : -1;
	n = -1;
	if ((tmp = xmlNewDoc((const xmlChar *)"1.0")) == NULL)
		return -1;
	if ((copy = xmlDocCopyNode(si, tmp, 1)) == NULL)
		goto cleanup;
	xmlDocSetRootElement(tmp, copy);
	n = dsig_c14n_libxml2(tmp, XML_C14N_EXCLUSIVE_1_0, NULL, fn, ctx);
cleanup:
	xmlFreeDoc(tmp);
	return n;
}

/* The same two into xmlsec's transforms, final push included. */
static int
dsig_c14n_push_doc(xmlDocPtr doc, xmlNodePtr sig, int mode,
    xmlChar **prefixes, xmlSecTransformCtxPtr tc)
{
	if (dsig_c14n_doc(doc, sig, mode, prefixes, dsig_c14n_to_xmlsec,
	    tc) < 0 || xmlSecTransformPushBin(tc->first, NULL, 0, 1, tc) < 0)
		return -1;
	return 0;
}

static int
dsig_c14n_push_signed_info(xmlNodePtr si, xmlSecTransformCtxPtr tc)
{
	if (dsig_c14n_si(si, dsig_c14n_to_xmlsec, tc) < 0 ||
	    xmlSecTransformPushBin(tc->first, NULL, 0, 1, tc) < 0)
		return -1;
	return 0;
}

/* A context with one transform id in operation op (key set when not
 * NULL), prepared for binary input; *t is the transform. */
static xmlSecTransformCtxPtr
dsig_c14n_ctx(const void *id, xmlSecTransformOperation op, xmlSecKeyPtr key,
    xmlSecTransformPtr *t)
{
	xmlSecTransformCtxPtr tc;

	if ((tc = xmlSecTransformCtxCreate()) == NULL)
		return NULL;
	*t = xmlSecTransformCtxCreateAndAppend(tc, (xmlSecTransformId)id);
	if (*t == NULL)
		goto fail;
	(*t)->operation = op;
	if ((key != NULL && xmlSecTransformSetKey(*t, key) < 0) ||
	    xmlSecTransformCtxPrepare(tc, xmlSecTransformDataTypeBin) < 0)
		goto fail;
	return tc;
fail:
	xmlSecTransformCtxDestroy(tc);
	return NULL;
}

/* The reference: canonical document without the Signature, digested and
 * compared with DigestValue by xmlsec.  1 match, 0 mismatch, -1 error. */
static int
dsig_c14n_reference(const struct dsig_check_info *ci, xmlDocPtr doc,
    const void *digest_id)
{
	xmlChar *prefixes[DSIG_C14N_MAX_PREFIXES + 1], *owned = NULL;
	xmlSecTransformCtxPtr tc = NULL;
	xmlSecTransformPtr dt;
	int mode, rc = -1;

	mode = ci->ref_c14n_idx == 1 ? XML_C14N_EXCLUSIVE_1_0 : XML_C14N_1_0;
	if (mode == XML_C14N_EXCLUSIVE_1_0 &&
	    dsig_c14n_prefixes(ci->ref_c14n, &owned, prefixes) < 0)
		goto cleanup;
	tc = dsig_c14n_ctx(digest_id, xmlSecTransformOperationVerify, NULL,
	    &dt);
	if (tc == NULL || dsig_c14n_push_doc(doc, ci->sig, mode,
	    mode == XML_C14N_EXCLUSIVE_1_0 ? prefixes : NULL, tc) < 0 ||
	    xmlSecTransformVerifyNodeContent(dt, ci->digest_value, tc) < 0)
		goto cleanup;
	rc = dt->status == xmlSecTransformStatusOk;
cleanup:
	if (tc != NULL)
		xmlSecTransformCtxDestroy(tc);
	xmlFree(owned);
	return rc;
}

/* SignedInfo verified by xmlsec's signature transform.  Exclusive c14n
 * without a prefix list takes the copy above; any other c14n method goes
 * through xmlsec's c14n transform on the document's node-set, as
 * xmlSecDSigCtxVerify does.  1 valid, 0 invalid, -1 error. */
static int
dsig_c14n_signed_info(const struct dsig_check_info *ci, xmlDocPtr doc,
    xmlSecKeyPtr key)
{
	xmlSecTransformCtxPtr tc;
	xmlSecTransformPtr sm;
	xmlSecNodeSetPtr nodes = NULL;
	int rc = -1, fast;

	fast = ci->c14n_idx == 1 && dsig_check_child(ci->c14n_method,
	    DSIG_EXC_NS, "InclusiveNamespaces") == NULL;
	if ((tc = xmlSecTransformCtxCreate()) == NULL)
		return -1;
	if (!fast && xmlSecTransformCtxNodeRead(tc, ci->c14n_method,
	    xmlSecTransformUsageC14NMethod) == NULL)
		goto cleanup;
	sm = xmlSecTransformCtxNodeRead(tc, ci->sig_method,
	    xmlSecTransformUsageSignatureMethod);
	if (sm == NULL)
		goto cleanup;
	sm->operation = xmlSecTransformOperationVerify;
	if (xmlSecTransformSetKey(sm, key) < 0)
		goto cleanup;
	if (fast) {
		if (xmlSecTransformCtxPrepare(tc,
		    xmlSecTransformDataTypeBin) < 0 ||
		    dsig_c14n_push_signed_info(ci->signed_info, tc) < 0)
			goto cleanup;
	} else if ((nodes = xmlSecNodeSetGetChildren(doc, ci->signed_info, 1,
	    0)) == NULL || xmlSecTransformCtxXmlExecute(tc, nodes) < 0)
		goto cleanup;
	if (xmlSecTransformVerifyNodeContent(sm, ci->sig_value, tc) < 0)
		goto cleanup;
	rc = sm->status == xmlSecTransformStatusOk;
cleanup:
	if (nodes != NULL)
		xmlSecNodeSetDestroy(nodes);
	xmlSecTransformCtxDestroy(tc);
	return rc;
}

int
dsig_c14n_verify(const struct dsig_check_info *ci, xmlDocPtr doc,
    void *xmlsec_key, struct errs *e)
{
	const void *ids[4];
	int ok;

	if (ci->sig == NULL || ci->sig->parent != xmlDocGetRootElement(doc) ||
	    ci->signed_info == NULL || ci->sig_value == NULL ||
	    ci->digest_value == NULL) {
		dsig_check_err(e, "SIG_INVALID", ci->sig, "signature not checked");
		return -1;
	}
	dsig_check_transform_ids(ci, ids);
	ok = dsig_c14n_reference(ci, doc, ids[2]);
	if (ok == 1)
		ok = dsig_c14n_signed_info(ci, doc, xmlsec_key);
	ERR_clear_error();
	if (ok != 1) {
		dsig_check_err(e, "SIG_INVALID", ci->sig,
		    "digest or signature value does not verify");
		return -1;
	}
	return 0;
}

/* base64 of n bytes as node's text.  0, or -1. */
static int
dsig_c14n_put(xmlNodePtr node, const unsigned char *b, size_t n)
{
	xmlChar *b64;

	if (n == 0 || (b64 = xmlSecBase64Encode(b, (xmlSecSize)n, 0)) == NULL)
		return -1;
	xmlNodeSetContent(node, b64);
	xmlFree(b64);
	return 0;
}

/* An ECDSA signature in DER (what OpenSSL makes) as XML-DSig's r || s,
 * each left-padded to cap bytes, into out (2 * cap).  0, or -1. */
static int
dsig_c14n_ecdsa_raw(const unsigned char *der, size_t len, int cap,
    unsigned char *out)
{
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig;
	int rc = -1;

	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return -1;
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_bn2binpad(r, out, cap) == cap &&
	    BN_bn2binpad(s, out + cap, cap) == cap)
		rc = 0;
	ECDSA_SIG_free(sig);
	return rc;
}

int
dsig_c14n_sign_hash(const EVP_PKEY_CTX *tmpl, int ec_bytes,
    const unsigned char *h, size_t hlen, unsigned char *out, size_t *olen)
{
	unsigned char der[DSIG_C14N_MAX_SIG];
	EVP_PKEY_CTX *pc = NULL;
	size_t dlen = sizeof(der);
	int rc = -1;

	if (ec_bytes < 0 || 2 * (size_t)ec_bytes > *olen)
		return -1;
	/* a copy: the template is shared by the worker threads */
	if ((pc = EVP_PKEY_CTX_dup((EVP_PKEY_CTX *)tmpl)) == NULL ||
	    EVP_PKEY_sign(pc, der, &dlen, h, hlen) != 1)
		goto cleanup;
	if (ec_bytes > 0) {
		if (dsig_c14n_ecdsa_raw(der, dlen, ec_bytes, out) < 0)
			goto cleanup;
		*olen = 2 * (size_t)ec_bytes;
	} else {
		if (dlen > *olen)
			goto cleanup;
		memcpy(out, der, dlen);
		*olen = dlen;
	}
	rc = 0;
cleanup:
	EVP_PKEY_CTX_free(pc);
	ERR_clear_error();
	return rc;
}

int
dsig_c14n_sign(xmlDocPtr doc, xmlNodePtr sig, const EVP_PKEY_CTX *tmpl,
    const EVP_MD *md, int ec_bytes)
{
	unsigned char h[EVP_MAX_MD_SIZE], sv[DSIG_C14N_MAX_SIG];
	EVP_MD_CTX *mc;
	xmlNodePtr si, ref, dv, svn;
	unsigned int hlen = 0;
	size_t svlen = sizeof(sv);
	int rc = -1;

	si = dsig_check_child(sig, DSIG_NS, "SignedInfo");
	ref = dsig_check_child(si, DSIG_NS, "Reference");
	dv = dsig_check_child(ref, DSIG_NS, "DigestValue");
	svn = dsig_check_child(sig, DSIG_NS, "SignatureValue");
	if (dv == NULL || svn == NULL || sig->parent != xmlDocGetRootElement(doc))
		return -1;
	if ((mc = EVP_MD_CTX_new()) == NULL)
		return -1;
	/* the reference: the digest of the document without the Signature;
	 * then SignedInfo, now holding it, digested and signed */
	if (EVP_DigestInit_ex(mc, md, NULL) != 1 ||
	    dsig_c14n_doc(doc, sig, XML_C14N_EXCLUSIVE_1_0, NULL,
	    dsig_c14n_to_digest, mc) < 0 ||
	    EVP_DigestFinal_ex(mc, h, &hlen) != 1 ||
	    dsig_c14n_put(dv, h, hlen) < 0 ||
	    EVP_DigestInit_ex(mc, md, NULL) != 1 ||
	    dsig_c14n_si(si, dsig_c14n_to_digest, mc) < 0 ||
	    EVP_DigestFinal_ex(mc, h, &hlen) != 1 ||
	    dsig_c14n_sign_hash(tmpl, ec_bytes, h, hlen, sv, &svlen) < 0 ||
	    dsig_c14n_put(svn, sv, svlen) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	EVP_MD_CTX_free(mc);
	ERR_clear_error();
	return rc;
}
