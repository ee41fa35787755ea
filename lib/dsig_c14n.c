/* dsig_c14n: the cryptographic half of dsig_verify() for the strict profile,
 * without xmlsec's generic node-set machinery on the whole document.
 *
 * The profile pins one Reference with URI="" whose transforms are the
 * enveloped signature and at most one c14n, with ds:Signature a child of
 * the root.  That node-set is the document without comments and without
 * the Signature subtree, which is exactly what libxml2's canonicalizer
 * produces on the document with the Signature element unlinked and no
 * node-set at all (its fast path: no visibility callback per node and per
 * namespace node, which is where xmlsec spent most of its time).  Those
 * bytes are streamed into xmlsec's digest transform, which compares them
 * with DigestValue; SignedInfo (a few hundred bytes) then goes through
 * xmlsec's own c14n and signature transforms as in xmlSecDSigCtxVerify. */
#include "dsig_c14n.h"
#include "dsig_check.h"

#include <string.h>

#include <libxml/c14n.h>
#include <openssl/err.h>

#include <xmlsec/xmlsec.h>
#include <xmlsec/base64.h>
#include <xmlsec/buffer.h>
#include <xmlsec/membuf.h>
#include <xmlsec/nodeset.h>
#include <xmlsec/transforms.h>

#define DSIG_C14N_MAX_PREFIXES 32

struct dsig_c14n_sink {
	xmlSecTransformCtxPtr tc;
	int failed;
};

static int
dsig_c14n_write(void *ctx, const char *buf, int len)
{
	struct dsig_c14n_sink *s = ctx;

	if (len < 0 || xmlSecTransformPushBin(s->tc->first,
	    (const xmlSecByte *)buf, (xmlSecSize)len, 0, s->tc) < 0) {
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

/* Canonical bytes of doc without sig (unlinked meanwhile, then put back
 * at its place), pushed whole into tc's transforms (prepared for binary
 * input), final push included.  0, or -1. */
static int
dsig_c14n_push_doc(xmlDocPtr doc, xmlNodePtr sig, int mode,
    xmlChar **prefixes, xmlSecTransformCtxPtr tc)
{
	struct dsig_c14n_sink sink = { tc, 0 };
	xmlNodePtr parent = sig->parent, next = sig->next;
	xmlOutputBufferPtr out;
	int n;

	out = xmlOutputBufferCreateIO(dsig_c14n_write, dsig_c14n_close, &sink,
	    NULL);
	if (out == NULL)
		return -1;
	xmlUnlinkNode(sig);
	n = xmlC14NDocSaveTo(doc, NULL, mode, prefixes, 0, out);
	if (xmlOutputBufferClose(out) < 0 || sink.failed)
		n = -1;
	if (next != NULL)
		xmlAddPrevSibling(next, sig);
	else
		xmlAddChild(parent, sig);
	if (n < 0 || xmlSecTransformPushBin(tc->first, NULL, 0, 1, tc) < 0)
		return -1;
	return 0;
}

/* SignedInfo's canonical bytes (exclusive c14n, no prefix list) pushed
 * whole into tc.  SignedInfo is copied into a document of its own so that
 * libxml2's canonicalizer walks a few dozen nodes, not the whole
 * declaration: for exclusive c14n without an InclusiveNamespaces list the
 * output depends only on the namespaces SignedInfo's nodes use, which the
 * copy declares.  0, or -1. */
static int
dsig_c14n_push_signed_info(xmlNodePtr si, xmlSecTransformCtxPtr tc)
{
	struct dsig_c14n_sink sink = { tc, 0 };
	xmlOutputBufferPtr out = NULL;
	xmlNodePtr copy;
	xmlDocPtr tmp;
	int n = -1;

	if ((tmp = xmlNewDoc((const xmlChar *)"1.0")) == NULL)
		return -1;
	if ((copy = xmlDocCopyNode(si, tmp, 1)) == NULL)
		goto cleanup;
	xmlDocSetRootElement(tmp, copy);
	out = xmlOutputBufferCreateIO(dsig_c14n_write, dsig_c14n_close, &sink,
	    NULL);
	if (out == NULL)
		goto cleanup;
	n = xmlC14NDocSaveTo(tmp, NULL, XML_C14N_EXCLUSIVE_1_0, NULL, 0, out);
	if (xmlOutputBufferClose(out) < 0 || sink.failed)
		n = -1;
	out = NULL;
	if (n >= 0 && xmlSecTransformPushBin(tc->first, NULL, 0, 1, tc) < 0)
		n = -1;
cleanup:
	if (out != NULL)
		xmlOutputBufferClose(out);
	xmlFreeDoc(tmp);
	return n < 0 ? -1 : 0;
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

/* base64 of what tc's transforms made (the digest or the signature,
 * collected by the memory buffer xmlSecTransformCtxPrepare() appended) as
 * node's text. */
static int
dsig_c14n_put(xmlSecTransformCtxPtr tc, xmlNodePtr node)
{
	xmlSecBufferPtr buf;
	xmlChar *b64;

	if (tc->last == NULL ||
	    !xmlSecTransformCheckId(tc->last, xmlSecTransformMemBufId) ||
	    (buf = xmlSecTransformMemBufGetBuffer(tc->last)) == NULL ||
	    xmlSecBufferGetSize(buf) == 0)
		return -1;
	b64 = xmlSecBase64Encode(xmlSecBufferGetData(buf),
	    xmlSecBufferGetSize(buf), 0);
	if (b64 == NULL)
		return -1;
	xmlNodeSetContent(node, b64);
	xmlFree(b64);
	return 0;
}

int
dsig_c14n_sign(xmlDocPtr doc, xmlNodePtr sig, const void *digest_id,
    const void *sign_id, void *xmlsec_key)
{
	xmlSecTransformCtxPtr dc = NULL, sc = NULL;
	xmlSecTransformPtr dt, st;
	xmlNodePtr si, ref, dv, sv;
	int rc = -1;

	si = dsig_check_child(sig, DSIG_NS, "SignedInfo");
	ref = dsig_check_child(si, DSIG_NS, "Reference");
	dv = dsig_check_child(ref, DSIG_NS, "DigestValue");
	sv = dsig_check_child(sig, DSIG_NS, "SignatureValue");
	if (dv == NULL || sv == NULL || sig->parent != xmlDocGetRootElement(doc))
		return -1;
	dc = dsig_c14n_ctx(digest_id, xmlSecTransformOperationSign, NULL, &dt);
	if (dc == NULL ||
	    dsig_c14n_push_doc(doc, sig, XML_C14N_EXCLUSIVE_1_0, NULL, dc) < 0 ||
	    dsig_c14n_put(dc, dv) < 0)
		goto cleanup;
	sc = dsig_c14n_ctx(sign_id, xmlSecTransformOperationSign, xmlsec_key,
	    &st);
	if (sc == NULL || dsig_c14n_push_signed_info(si, sc) < 0 ||
	    dsig_c14n_put(sc, sv) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	if (dc != NULL)
		xmlSecTransformCtxDestroy(dc);
	if (sc != NULL)
		xmlSecTransformCtxDestroy(sc);
	ERR_clear_error();
	return rc;
}
