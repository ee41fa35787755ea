/* dsig_check: structure and algorithm allow-list of the strict profile. */
#include "dsig_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/objects.h>

#include <xmlsec/xmlsec.h>
#include <xmlsec/crypto.h>
#include <xmlsec/transforms.h>

#define DSIG_ENVELOPED DSIG_NS "enveloped-signature"

#define DSIG_CHECK_MAX_NODES 20000000 /* nodes walked in one document */
#define DSIG_CHECK_MAX_IDS (1 << 20)  /* ID-like attributes kept */

struct dsig_check_alg {
	const char *uri;
	int sha1;                        /* legacy, needs allow_sha1 */
	enum dsig_check_keytype key_type; /* signature methods only */
};

/* Index order is relied on by dsig_check_transform_ids(). */
static const struct dsig_check_alg dsig_check_sigs[] = {
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", 0, DSIG_CHECK_KEY_RSA },
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", 0, DSIG_CHECK_KEY_RSA },
	{ "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", 0, DSIG_CHECK_KEY_RSA },
	{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", 0, DSIG_CHECK_KEY_EC },
	{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", 0, DSIG_CHECK_KEY_EC },
	{ "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", 0, DSIG_CHECK_KEY_EC },
	{ DSIG_NS "rsa-sha1", 1, DSIG_CHECK_KEY_RSA },
};

static const struct dsig_check_alg dsig_check_digests[] = {
	{ "http://www.w3.org/2001/04/xmlenc#sha256", 0, 0 },
	{ "http://www.w3.org/2001/04/xmldsig-more#sha384", 0, 0 },
	{ "http://www.w3.org/2001/04/xmlenc#sha512", 0, 0 },
	{ DSIG_NS "sha1", 1, 0 },
};

static const struct dsig_check_alg dsig_check_c14ns[] = {
	{ "http://www.w3.org/TR/2001/REC-xml-c14n-20010315", 0, 0 },
	{ DSIG_EXC_NS, 0, 0 },
};
#define DSIG_CHECK_C14N_EXC 1

#define DSIG_NELEM(a) ((int)(sizeof(a) / sizeof((a)[0])))

void
dsig_check_err(struct errs *e, const char *code, xmlNodePtr node,
    const char *fmt, ...)
{
	char msg[ERR_MSG_MAX];
	xmlChar *path = NULL;
	va_list ap;
	int line = 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (node != NULL && node->type != XML_DOCUMENT_NODE) {
		path = xmlGetNodePath(node);
		line = (int)xmlGetLineNo(node);
	}
	err_add(e, code, line < 0 ? 0 : line, path ? (const char *)path : "",
	    "%s", msg);
	xmlFree(path);
}

static int
dsig_check_is(xmlNodePtr n, const char *ns, const char *name)
{
	if (n == NULL || n->type != XML_ELEMENT_NODE ||
	    !xmlStrEqual(n->name, (const xmlChar *)name))
		return 0;
	if (ns == NULL)
		return 1;
	return n->ns != NULL && xmlStrEqual(n->ns->href, (const xmlChar *)ns);
}

xmlNodePtr
dsig_check_child(xmlNodePtr node, const char *ns, const char *name)
{
	xmlNodePtr c;

	for (c = node ? node->children : NULL; c != NULL; c = c->next)
		if (dsig_check_is(c, ns, name))
			return c;
	return NULL;
}

/* ---- whole-document walk: DTD, entities, signatures, IDs, comments ---- */

struct dsig_check_walk {
	xmlNodePtr sig;
	const xmlChar **ids;
	size_t nids, capids;
};

static int
dsig_check_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
dsig_check_id_attr(const xmlChar *name)
{
	return xmlStrEqual(name, (const xmlChar *)"Id") ||
	    xmlStrEqual(name, (const xmlChar *)"ID") ||
	    xmlStrEqual(name, (const xmlChar *)"id");
}

static int
dsig_check_attrs(struct dsig_check_walk *w, xmlNodePtr el, struct errs *e)
{
	xmlAttrPtr a;
	const xmlChar *v;

	for (a = el->properties; a != NULL; a = a->next) {
		if (!dsig_check_id_attr(a->name))
			continue;
		if (a->children == NULL)
			v = (const xmlChar *)"";
		else if (a->children->type == XML_TEXT_NODE &&
		    a->children->next == NULL && a->children->content != NULL)
			v = a->children->content;
		else {
			dsig_check_err(e, "SIG_STRUCTURE", el,
			    "entity reference in ID attribute");
			return -1;
		}
		if (w->nids == w->capids) {
			size_t ncap = w->capids ? w->capids * 2 : 64;
			const xmlChar **nv;

			if (ncap > DSIG_CHECK_MAX_IDS) {
				dsig_check_err(e, "SIG_STRUCTURE", el,
				    "too many ID attributes");
				return -1;
			}
			nv = realloc(w->ids, ncap * sizeof(*nv));
			if (nv == NULL) {
				dsig_check_err(e, "SIG_STRUCTURE", el,
				    "out of memory");
				return -1;
			}
			w->ids = nv;
			w->capids = ncap;
		}
		w->ids[w->nids++] = v;
	}
	return 0;
}

/* A comment or PI beside non-blank text in one element could split what a
 * reader sees from what c14n (without comments) signed. */
static int
dsig_check_mixed(xmlNodePtr el, struct errs *e)
{
	xmlNodePtr c;
	int text = 0, comment = 0;

	for (c = el->children; c != NULL; c = c->next) {
		if (c->type == XML_COMMENT_NODE || c->type == XML_PI_NODE)
			comment = 1;
		else if ((c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE) && !xmlIsBlankNode(c))
			text = 1;
	}
	if (text && comment) {
		dsig_check_err(e, "SIG_STRUCTURE", el,
		    "comment or processing instruction inside signed text");
		return -1;
	}
	return 0;
}

static int
dsig_check_visit(struct dsig_check_walk *w, xmlNodePtr n, struct errs *e)
{
	switch (n->type) {
	case XML_ELEMENT_NODE:
		if (dsig_check_is(n, DSIG_NS, "Signature")) {
			if (w->sig != NULL) {
				dsig_check_err(e, "SIG_STRUCTURE", n,
				    "more than one ds:Signature");
				return -1;
			}
			w->sig = n;
		}
		if (dsig_check_attrs(w, n, e) < 0)
			return -1;
		return dsig_check_mixed(n, e);
	case XML_ENTITY_REF_NODE:
	case XML_ENTITY_NODE:
	case XML_XINCLUDE_START:
	case XML_XINCLUDE_END:
	case XML_DTD_NODE:
		dsig_check_err(e, "SIG_STRUCTURE", n,
		    "entity reference, DTD or XInclude node in document");
		return -1;
	default:
		return 0;
	}
}

static int
dsig_check_walk(xmlNodePtr root, struct dsig_check_walk *w,
    struct errs *e)
{
	xmlNodePtr n = root;
	size_t count = 0, i;

	while (n != NULL) {
		if (++count > DSIG_CHECK_MAX_NODES) {
			dsig_check_err(e, "SIG_STRUCTURE", root,
			    "document too large");
			return -1;
		}
		if (dsig_check_visit(w, n, e) < 0)
			return -1;
		if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
			n = n->children;
			continue;
		}
		while (n != root && n->next == NULL)
			n = n->parent;
		if (n == root)
			break;
		n = n->next;
	}
	if (w->nids > 1) {
		qsort(w->ids, w->nids, sizeof(*w->ids), dsig_check_cmp);
		for (i = 1; i < w->nids; i++)
			if (xmlStrEqual(w->ids[i - 1], w->ids[i])) {
				dsig_check_err(e, "SIG_DUPLICATE_ID", root,
				    "ID value '%.64s' occurs more than once",
				    (const char *)w->ids[i]);
				return -1;
			}
	}
	return 0;
}

/* ---- the ds:Signature element ---- */

/* Element children of parent into v (at most cap); non-blank text or any
 * other node kind is a structure error.  Returns the count (may exceed cap:
 * only the first cap are stored) or -1. */
static int
dsig_check_elems(xmlNodePtr parent, xmlNodePtr *v, int cap, struct errs *e)
{
	xmlNodePtr c;
	int n = 0;

	for (c = parent->children; c != NULL; c = c->next) {
		if (c->type == XML_ELEMENT_NODE) {
			if (n < cap)
				v[n] = c;
			if (n < 1000)
				n++;
			continue;
		}
		if (c->type == XML_TEXT_NODE && xmlIsBlankNode(c))
			continue;
		dsig_check_err(e, "SIG_STRUCTURE", parent,
		    "unexpected text, comment or other node in %s",
		    (const char *)parent->name);
		return -1;
	}
	return n;
}

/* Only the named (un-namespaced) attributes are allowed on el. */
static int
dsig_check_only_attrs(xmlNodePtr el, const char *const *allowed,
    struct errs *e)
{
	xmlAttrPtr a;
	int i, ok;

	for (a = el->properties; a != NULL; a = a->next) {
		ok = 0;
		for (i = 0; allowed[i] != NULL && !ok; i++)
			ok = a->ns == NULL &&
			    xmlStrEqual(a->name, (const xmlChar *)allowed[i]);
		if (!ok) {
			dsig_check_err(e, "SIG_STRUCTURE", el,
			    "attribute %s not allowed on %s",
			    (const char *)a->name, (const char *)el->name);
			return -1;
		}
	}
	return 0;
}

static const char *const dsig_check_attr_id[] = { "Id", NULL };
static const char *const dsig_check_attr_alg[] = { "Algorithm", NULL };
static const char *const dsig_check_attr_ref[] = { "Id", "URI", "Type", NULL };

static int
dsig_check_expect(xmlNodePtr n, const char *name, struct errs *e)
{
	if (dsig_check_is(n, DSIG_NS, name))
		return 0;
	dsig_check_err(e, "SIG_STRUCTURE", n,
	    "expected ds:%s, found %s", name, (const char *)n->name);
	return -1;
}

/* Looks the Algorithm attribute of n up in tab; -1 with SIG_ALGORITHM. */
static int
dsig_check_alg(xmlNodePtr n, const struct dsig_check_alg *tab, int ntab,
    int allow_sha1, struct errs *e)
{
	xmlChar *uri;
	int i, found = -1;

	if (dsig_check_only_attrs(n, dsig_check_attr_alg, e) < 0)
		return -1;
	uri = xmlGetNoNsProp(n, (const xmlChar *)"Algorithm");
	for (i = 0; uri != NULL && i < ntab && found < 0; i++)
		if (xmlStrEqual(uri, (const xmlChar *)tab[i].uri) &&
		    (!tab[i].sha1 || allow_sha1))
			found = i;
	if (found < 0)
		dsig_check_err(e, "SIG_ALGORITHM", n, "algorithm not allowed: %.160s",
		    uri ? (const char *)uri : "(none)");
	xmlFree(uri);
	return found;
}

/* A c14n method or transform: exclusive c14n may carry one
 * InclusiveNamespaces, nothing else has children. */
static int
dsig_check_c14n(xmlNodePtr n, struct errs *e)
{
	xmlNodePtr v[2];
	int idx, k;

	idx = dsig_check_alg(n, dsig_check_c14ns, DSIG_NELEM(dsig_check_c14ns),
	    0, e);
	if (idx < 0)
		return -1;
	k = dsig_check_elems(n, v, 2, e);
	if (k < 0)
		return -1;
	if (k == 0 || (k == 1 && idx == DSIG_CHECK_C14N_EXC &&
	    dsig_check_is(v[0], DSIG_EXC_NS, "InclusiveNamespaces")))
		return idx;
	dsig_check_err(e, "SIG_STRUCTURE", n, "unexpected content in c14n method");
	return -1;
}

static int
dsig_check_empty(xmlNodePtr n, struct errs *e)
{
	xmlNodePtr v[1];
	int k = dsig_check_elems(n, v, 1, e);

	if (k == 0)
		return 0;
	if (k > 0)
		dsig_check_err(e, "SIG_STRUCTURE", n,
		    "unexpected element inside %s", (const char *)n->name);
	return -1;
}

/* Text-only element (DigestValue, SignatureValue): no child elements. */
static int
dsig_check_text(xmlNodePtr n, struct errs *e)
{
	xmlNodePtr c;

	for (c = n->children; c != NULL; c = c->next)
		if (c->type != XML_TEXT_NODE) {
			dsig_check_err(e, "SIG_STRUCTURE", n,
			    "%s must hold text only", (const char *)n->name);
			return -1;
		}
	if (dsig_check_only_attrs(n, dsig_check_attr_id, e) < 0)
		return -1;
	return 0;
}

static int
dsig_check_transforms(xmlNodePtr tr, struct dsig_check_info *out,
    struct errs *e)
{
	xmlNodePtr v[3];
	xmlChar *uri;
	int k, i, env;

	k = dsig_check_elems(tr, v, 3, e);
	if (k < 0)
		return -1;
	for (i = 0; i < k && i < 3; i++) {
		if (dsig_check_expect(v[i], "Transform", e) < 0)
			return -1;
		uri = xmlGetNoNsProp(v[i], (const xmlChar *)"Algorithm");
		env = uri != NULL && xmlStrEqual(uri,
		    (const xmlChar *)DSIG_ENVELOPED);
		xmlFree(uri);
		if (i == 0 && !env) {
			if (dsig_check_c14n(v[i], e) < 0)
				return -1;
			dsig_check_err(e, "SIG_STRUCTURE", v[i],
			    "first transform must be enveloped-signature");
			return -1;
		}
		if (i == 0) {
			if (dsig_check_only_attrs(v[i], dsig_check_attr_alg,
			    e) < 0 || dsig_check_empty(v[i], e) < 0)
				return -1;
			continue;
		}
		if (env) {
			dsig_check_err(e, "SIG_STRUCTURE", v[i],
			    "repeated enveloped-signature transform");
			return -1;
		}
		if ((out->ref_c14n_idx = dsig_check_c14n(v[i], e)) < 0)
			return -1;
		out->ref_c14n = v[i];
	}
	if (k < 1 || k > 2) {
		dsig_check_err(e, "SIG_STRUCTURE", tr,
		    "transforms must be enveloped-signature [+ one c14n]");
		return -1;
	}
	return 0;
}

static int
dsig_check_reference(xmlNodePtr ref, int allow_sha1,
    struct dsig_check_info *out, struct errs *e)
{
	xmlNodePtr v[4];
	xmlChar *uri;
	int k, bad;

	uri = xmlGetNoNsProp(ref, (const xmlChar *)"URI");
	bad = uri == NULL || uri[0] != '\0';
	if (bad)
		dsig_check_err(e, "SIG_REFERENCE", ref,
		    "Reference URI must be \"\" (whole document), not %.100s",
		    uri ? (const char *)uri : "absent");
	xmlFree(uri);
	if (bad || dsig_check_only_attrs(ref, dsig_check_attr_ref, e) < 0)
		return -1;
	k = dsig_check_elems(ref, v, 4, e);
	if (k < 0)
		return -1;
	if (k != 3 || !dsig_check_is(v[0], DSIG_NS, "Transforms")) {
		dsig_check_err(e, "SIG_STRUCTURE", ref,
		    "Reference must hold Transforms, DigestMethod, DigestValue");
		return -1;
	}
	if (dsig_check_transforms(v[0], out, e) < 0 ||
	    dsig_check_expect(v[1], "DigestMethod", e) < 0 ||
	    dsig_check_expect(v[2], "DigestValue", e) < 0)
		return -1;
	out->digest_idx = dsig_check_alg(v[1], dsig_check_digests,
	    DSIG_NELEM(dsig_check_digests), allow_sha1, e);
	if (out->digest_idx < 0 || dsig_check_empty(v[1], e) < 0 ||
	    dsig_check_text(v[2], e) < 0)
		return -1;
	out->digest_value = v[2];
	return 0;
}

static int
dsig_check_signed_info(xmlNodePtr si, int allow_sha1,
    struct dsig_check_info *out, struct errs *e)
{
	xmlNodePtr v[4];
	int k;

	if (dsig_check_only_attrs(si, dsig_check_attr_id, e) < 0)
		return -1;
	k = dsig_check_elems(si, v, 4, e);
	if (k < 0)
		return -1;
	if (k != 3) {
		dsig_check_err(e, "SIG_STRUCTURE", si, "SignedInfo must hold "
		    "CanonicalizationMethod, SignatureMethod and exactly one "
		    "Reference (has %d elements)", k);
		return -1;
	}
	if (dsig_check_expect(v[0], "CanonicalizationMethod", e) < 0 ||
	    dsig_check_expect(v[1], "SignatureMethod", e) < 0 ||
	    dsig_check_expect(v[2], "Reference", e) < 0)
		return -1;
	if ((out->c14n_idx = dsig_check_c14n(v[0], e)) < 0)
		return -1;
	out->sig_idx = dsig_check_alg(v[1], dsig_check_sigs,
	    DSIG_NELEM(dsig_check_sigs), allow_sha1, e);
	if (out->sig_idx < 0 || dsig_check_empty(v[1], e) < 0)
		return -1;
	out->sig_uri = dsig_check_sigs[out->sig_idx].uri;
	out->c14n_method = v[0];
	out->sig_method = v[1];
	out->key_type = dsig_check_sigs[out->sig_idx].key_type;
	return dsig_check_reference(v[2], allow_sha1, out, e);
}

static int
dsig_check_no_comments(xmlNodePtr sig, struct errs *e)
{
	xmlNodePtr n = sig;

	while (n != NULL) {
		if (n->type == XML_COMMENT_NODE || n->type == XML_PI_NODE) {
			dsig_check_err(e, "SIG_STRUCTURE", n->parent,
			    "comment or processing instruction in ds:Signature");
			return -1;
		}
		if (n->type == XML_ELEMENT_NODE && n->children != NULL) {
			n = n->children;
			continue;
		}
		while (n != sig && n->next == NULL)
			n = n->parent;
		if (n == sig)
			break;
		n = n->next;
	}
	return 0;
}

static int
dsig_check_signature(xmlNodePtr sig, int allow_sha1,
    struct dsig_check_info *out, struct errs *e)
{
	xmlNodePtr v[4];
	int k;

	if (dsig_check_only_attrs(sig, dsig_check_attr_id, e) < 0 ||
	    dsig_check_no_comments(sig, e) < 0)
		return -1;
	k = dsig_check_elems(sig, v, 4, e);
	if (k < 0)
		return -1;
	if (k < 2 || k > 3) {
		dsig_check_err(e, "SIG_STRUCTURE", sig, "Signature must hold "
		    "SignedInfo, SignatureValue and optionally KeyInfo only");
		return -1;
	}
	if (dsig_check_expect(v[0], "SignedInfo", e) < 0 ||
	    dsig_check_expect(v[1], "SignatureValue", e) < 0 ||
	    (k == 3 && dsig_check_expect(v[2], "KeyInfo", e) < 0))
		return -1;
	if (dsig_check_signed_info(v[0], allow_sha1, out, e) < 0)
		return -1;
	if (dsig_check_text(v[1], e) < 0)
		return -1;
	out->signed_info = v[0];
	out->sig_value = v[1];
	out->key_info = k == 3 ? v[2] : NULL;
	if (out->key_info != NULL &&
	    dsig_check_child(out->key_info, DSIG_NS, "RetrievalMethod")) {
		dsig_check_err(e, "SIG_REFERENCE", out->key_info,
		    "KeyInfo/RetrievalMethod is not allowed");
		return -1;
	}
	return 0;
}

int
dsig_check_doc(xmlDocPtr doc, int allow_sha1, struct dsig_check_info *out,
    struct errs *e)
{
	struct dsig_check_walk w;
	xmlNodePtr root;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->ref_c14n_idx = -1;
	memset(&w, 0, sizeof(w));
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (root == NULL) {
		err_add(e, "SIG_MISSING", 0, "", "document has no root element");
		return -1;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		dsig_check_err(e, "SIG_STRUCTURE", root,
		    "document type declaration not allowed");
		return -1;
	}
	if (dsig_check_walk(root, &w, e) < 0)
		goto cleanup;
	if (w.sig == NULL) {
		dsig_check_err(e, "SIG_MISSING", root, "no ds:Signature");
		goto cleanup;
	}
	if (w.sig->parent != root) {
		dsig_check_err(e, "SIG_STRUCTURE", w.sig,
		    "ds:Signature must be a child of the document root");
		goto cleanup;
	}
	if (dsig_check_signature(w.sig, allow_sha1, out, e) < 0)
		goto cleanup;
	out->sig = w.sig;
	rc = 0;
cleanup:
	free(w.ids);
	return rc;
}

int
dsig_check_key(const struct dsig_check_info *ci, EVP_PKEY *pkey, int legacy,
    struct errs *e)
{
	char group[64];
	size_t glen = 0;
	int id, nid, bits;

	id = EVP_PKEY_get_base_id(pkey);
	bits = EVP_PKEY_get_bits(pkey);
	if (ci->key_type == DSIG_CHECK_KEY_RSA) {
		if (id != EVP_PKEY_RSA) {
			dsig_check_err(e, "SIG_ALGORITHM", ci->sig,
			    "RSA signature method but the key is not RSA");
			return -1;
		}
		if (bits < (legacy ? 1024 : 2048)) {
			dsig_check_err(e, "SIG_ALGORITHM", ci->sig,
			    "RSA key of %d bits is too short", bits);
			return -1;
		}
		return 0;
	}
	if (id != EVP_PKEY_EC) {
		dsig_check_err(e, "SIG_ALGORITHM", ci->sig,
		    "ECDSA signature method but the key is not EC");
		return -1;
	}
	if (EVP_PKEY_get_group_name(pkey, group, sizeof(group), &glen) != 1)
		group[0] = '\0';
	nid = OBJ_sn2nid(group);
	if (nid == NID_undef)
		nid = EC_curve_nist2nid(group);
	if (nid != NID_X9_62_prime256v1 && nid != NID_secp384r1) {
		dsig_check_err(e, "SIG_ALGORITHM", ci->sig,
		    "EC curve %.40s not allowed (P-256, P-384 only)",
		    group[0] ? group : "unknown");
		return -1;
	}
	return 0;
}

static const void *
dsig_check_c14n_id(int idx)
{
	return idx == DSIG_CHECK_C14N_EXC ? (const void *)xmlSecTransformExclC14NId :
	    (const void *)xmlSecTransformInclC14NId;
}

void
dsig_check_transform_ids(const struct dsig_check_info *ci, const void *ids[4])
{
	ids[0] = dsig_check_c14n_id(ci->c14n_idx);
	switch (ci->sig_idx) {
	case 0: ids[1] = xmlSecTransformRsaSha256Id; break;
	case 1: ids[1] = xmlSecTransformRsaSha384Id; break;
	case 2: ids[1] = xmlSecTransformRsaSha512Id; break;
	case 3: ids[1] = xmlSecTransformEcdsaSha256Id; break;
	case 4: ids[1] = xmlSecTransformEcdsaSha384Id; break;
	case 5: ids[1] = xmlSecTransformEcdsaSha512Id; break;
	default: ids[1] = xmlSecTransformRsaSha1Id; break;
	}
	switch (ci->digest_idx) {
	case 0: ids[2] = xmlSecTransformSha256Id; break;
	case 1: ids[2] = xmlSecTransformSha384Id; break;
	case 2: ids[2] = xmlSecTransformSha512Id; break;
	default: ids[2] = xmlSecTransformSha1Id; break;
	}
	ids[3] = ci->ref_c14n_idx < 0 ? NULL : dsig_check_c14n_id(ci->ref_c14n_idx);
}
